"""einops on tensorgan tensors: the backend (tensorgan.einops_backend, registered by ``import
tensorgan`` whichever of the two comes first) and the layers (tensorgan.einops_layers /
nn.Rearrange / nn.Reduce / nn.EinMix).  Expected values come from einops on NumPy arrays and
gradients from finite differences (gradcheck)."""
import copy
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

einops = pytest.importorskip("einops")
from einops import EinopsError, einsum, pack, parse_shape, rearrange, reduce, repeat, unpack  # noqa: E402

import tensorgan as tg  # noqa: E402
import tensorgan.nn as nn  # noqa: E402
from tensorgan import einops_layers  # noqa: E402
from tensorgan.einops_backend import TensorganBackend  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 6, 4, 4))


def _t(a, grad=False):
    return tg.tensor(a, dtype=tg.float64, requires_grad=grad)


def test_backend_is_found_for_tensors_and_parameters():
    backend = einops._backends.get_backend(_t(X))
    assert isinstance(backend, TensorganBackend) and backend.framework_name == "tensorgan"
    assert einops._backends.get_backend(nn.Parameter(tg.zeros(2))) is backend
    assert backend.layers() is einops_layers


@pytest.mark.parametrize("first", ["tensorgan", "einops", "tensorgan.einops_backend",
                                   "tensorgan.einops_layers"])
def test_registration_in_either_import_order(first):
    """A fresh interpreter: ``import tensorgan`` does not import einops, and einops takes
    tensorgan tensors whichever of the two was imported first."""
    code = (f"import sys, importlib, warnings\n"
            f"warnings.simplefilter('error')\n"       # (the backend module imported first once warned)
            f"importlib.import_module({first!r})\n"
            f"assert ({first!r} != 'tensorgan') == ('einops' in sys.modules), 'tensorgan imported einops'\n"
            f"import tensorgan as tg, einops\n"
            f"y = einops.rearrange(tg.arange(6).reshape(2, 3), 'a b -> b a')\n"
            f"assert type(y) is tg.Tensor and y.tolist() == [[0, 3], [1, 4], [2, 5]], y\n"
            f"assert not any(type(f).__name__ == '_EinopsFinder' for f in sys.meta_path)\n"
            f"print('ok')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + sys.path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


CASES = [
    ("rearrange", lambda x: rearrange(x, "b (g c) h w -> (b g) (h w) c", g=2)),
    ("rearrange-ellipsis", lambda x: rearrange(x, "b ... w -> w b ...")),
    ("rearrange-new-axes", lambda x: rearrange(x, "b c h w -> b 1 c h w 1")),
    ("reduce-max", lambda x: reduce(x, "b c (h h2) (w w2) -> b c h w", "max", h2=2, w2=2)),
    ("reduce-min", lambda x: reduce(x, "b c h w -> c", "min")),
    ("reduce-sum", lambda x: reduce(x, "b c h w -> b c 1 1", "sum")),
    ("reduce-mean", lambda x: reduce(x, "b (g c) h w -> b g", "mean", g=3)),
    ("reduce-prod", lambda x: reduce(x, "b c h w -> b w", "prod")),
    ("repeat", lambda x: repeat(x, "b c h w -> b c (h 2) (w k) r", k=3, r=2)),
    ("einsum", lambda x: einsum(x, x, "b c h w, b d h w -> b c d")),
]


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_ops_match_einops_on_numpy(name, fn):
    out = fn(_t(X))
    assert isinstance(out, tg.Tensor)
    np.testing.assert_allclose(out.numpy(), fn(X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_ops_have_gradients(name, fn):
    x = _t(RNG.standard_normal((2, 6, 4, 4)) if name != "reduce-prod" else RNG.uniform(0.5, 1.5, (2, 6, 4, 4)), True)
    assert tg.gradcheck(fn, (x,))


def test_pack_unpack_round_trip_and_gradient():
    a, b = _t(RNG.standard_normal((2, 3, 5)), True), _t(RNG.standard_normal((2, 3, 4, 5)), True)
    packed, shapes = pack([a, b], "b c * d")
    ref, ref_shapes = pack([a.numpy(), b.numpy()], "b c * d")
    np.testing.assert_array_equal(packed.numpy(), ref)
    assert [tuple(s) for s in shapes] == [tuple(s) for s in ref_shapes] == [(), (4,)]
    ua, ub = unpack(packed * 2, shapes, "b c * d")
    np.testing.assert_array_equal(ub.numpy(), 2 * b.numpy())
    (ua.sum() + 3 * ub.sum()).backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full(a.shape, 2.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(b.shape, 6.0))


def test_list_of_tensors_parse_shape_asnumpy():
    parts = [_t(X[0]), _t(X[1])]
    np.testing.assert_array_equal(rearrange(parts, "n c h w -> c (n h) w").numpy(),
                                  rearrange(list(X), "n c h w -> c (n h) w"))
    assert parse_shape(_t(X), "b c _ _") == {"b": 2, "c": 6}
    assert isinstance(einops.asnumpy(_t(X, True)), np.ndarray)


def test_mean_of_an_integer_tensor_is_refused_as_for_torch():
    with pytest.raises(NotImplementedError, match="non-floating"):   # einops' own refusal
        reduce(tg.arange(6).reshape(2, 3), "a b -> a", "mean")
    assert reduce(tg.arange(6).reshape(2, 3), "a b -> a", "sum").tolist() == [3, 12]


def test_bad_pattern_is_einops_error():
    with pytest.raises(EinopsError):
        rearrange(_t(X), "b c h -> b h c")


def test_layers_in_sequential_with_state_dict_and_gradients():
    model = nn.Sequential(nn.Rearrange("b c (h p1) (w p2) -> b (h w) (p1 p2 c)", p1=2, p2=2),
                          nn.Linear(24, 5), nn.Reduce("b n d -> b d", "max"))
    assert nn.Rearrange is einops_layers.Rearrange and nn.EinMix is einops_layers.EinMix
    assert list(model.state_dict()) == ["1.weight", "1.bias"]
    x = _t(X, True)
    model.double()(x).sum().backward()
    assert x.grad is not None and x.grad.shape == X.shape
    assert repr(model[0]) == "Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)', p1=2, p2=2)"
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again(x).detach().numpy(), model(x).detach().numpy())


def test_einmix_is_einsum_with_weight_and_bias():
    mix = nn.EinMix("b (g cin) h w -> b (g cout) h w", weight_shape="g cin cout", bias_shape="g cout",
                    g=2, cin=3, cout=5).double()
    assert sorted(mix.state_dict()) == ["bias", "weight"]
    assert mix.weight.shape == (2, 3, 5) and mix.bias.shape == (1, 2, 5, 1, 1)   # einops' shapes
    # einops' draws: weight uniform in +-sqrt(3 / fan_in), bias in +-sqrt(1 / fan_in); fan_in = cin = 3
    assert 0.5 < float(np.abs(mix.weight.detach().numpy()).max()) <= 1.0
    assert 0 < float(np.abs(mix.bias.detach().numpy()).max()) <= 3 ** -0.5
    w, bias = mix.weight.detach().numpy(), mix.bias.detach().numpy().reshape(2, 5)
    xg = X.reshape(2, 2, 3, 4, 4)
    expected = np.einsum("bgihw,gio->bgohw", xg, w) + bias[None, :, :, None, None]
    x = _t(X, True)
    out = mix(x)
    np.testing.assert_allclose(out.detach().numpy(), expected.reshape(2, 10, 4, 4), rtol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(mix.bias.grad.numpy(), np.full((1, 2, 5, 1, 1), 2 * 16.0))
    np.testing.assert_allclose(mix.weight.grad.numpy(),
                               np.broadcast_to(xg.sum(axis=(0, 3, 4))[:, :, None], (2, 3, 5)), rtol=1e-12)
    twin = copy.deepcopy(mix)
    assert twin.weight is not mix.weight
    np.testing.assert_array_equal(twin(x).detach().numpy(), out.detach().numpy())


def test_nn_unknown_name_still_attribute_error():
    with pytest.raises(AttributeError):
        nn.NotALayer  # noqa: B018
