"""OpenMMLab mmgeneration port (session 27): ``F._Reduction`` (torch.nn._reduction), and the
torch idioms mmgen's GAN modules lean on, checked against NumPy / finite differences."""
import importlib
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F


# --------------------------------------------------------------------- F._Reduction
def test_reduction_get_enum_numbers():
    assert [F._Reduction.get_enum(r) for r in ("none", "mean", "sum")] == [0, 1, 2]


def test_reduction_elementwise_mean_warns_and_is_mean():
    with pytest.warns(UserWarning, match="elementwise_mean"):
        assert F._Reduction.get_enum("elementwise_mean") == 1


@pytest.mark.parametrize("bad", ["avg", None, 1])
def test_reduction_get_enum_refuses_unknown_names(bad):
    with pytest.raises(ValueError, match=f"{bad} is not a valid value for reduction"):
        F._Reduction.get_enum(bad)


@pytest.mark.parametrize("size_average, reduce, name", [
    (None, None, "mean"), (True, True, "mean"), (False, None, "sum"), (None, False, "none"),
    (False, False, "none")])
def test_reduction_legacy_pair(size_average, reduce, name):
    with pytest.warns(UserWarning, match=f"reduction='{name}'"):
        assert F._Reduction.legacy_get_string(size_average, reduce) == name
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert F._Reduction.legacy_get_string(size_average, reduce, emit_warning=False) == name
        assert F._Reduction.legacy_get_enum(size_average, reduce, False) == ["none", "mean", "sum"].index(name)


def test_reduction_module_path_is_torchs():
    mod = importlib.import_module("tensorgan.nn._reduction")
    assert mod is F._Reduction is nn._reduction


def test_openmmlab_reduce_loss_idiom():
    """mmgen / mmdet's ``reduce_loss``: the enum picks loss / loss.mean() / loss.sum()."""
    loss = tg.tensor([1.0, 2.0, 6.0])
    picks = {0: lambda t: t, 1: lambda t: t.mean(), 2: lambda t: t.sum()}
    got = [picks[F._Reduction.get_enum(r)](loss) for r in ("none", "mean", "sum")]
    np.testing.assert_array_equal(got[0].numpy(), [1.0, 2.0, 6.0])
    assert float(got[1]) == 3.0 and float(got[2]) == 9.0


# --------------------------------------------------------------------- mmgen idioms
def _equalized_lr(module: nn.Module, gain: float) -> None:
    """PGGAN's EqualizedLR.apply: the weight moved to ``weight_orig``, rescaled by a pre-hook."""
    weight = module._parameters["weight"]
    delattr(module, "weight")
    module.register_parameter("weight_orig", weight)
    setattr(module, "weight", weight.data)
    fan_in = nn.init._calculate_correct_fan(weight, "fan_in")
    scale = gain / np.sqrt(fan_in)
    module.register_forward_pre_hook(lambda m, inputs: setattr(m, "weight", m.weight_orig * scale))


def test_equalized_lr_hook_scales_weight_and_gradient():
    tg.manual_seed(0)
    lin = nn.Linear(6, 3).double()
    w0 = lin.weight.detach().numpy().copy()
    _equalized_lr(lin, gain=2 ** 0.5)
    assert sorted(lin.state_dict()) == ["bias", "weight_orig"]
    assert [n for n, _ in lin.named_parameters()] == ["bias", "weight_orig"]
    x = tg.tensor(np.random.default_rng(1).standard_normal((4, 6)))
    y = lin(x)
    scale = 2 ** 0.5 / np.sqrt(6)
    np.testing.assert_allclose(y.detach().numpy(), x.numpy() @ (w0 * scale).T + lin.bias.detach().numpy(),
                               rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(lin.weight_orig.grad.numpy(), scale * np.tile(x.numpy().sum(0), (3, 1)),
                               rtol=1e-12)


def test_minibatch_stddev_matches_numpy():
    x = np.random.default_rng(2).standard_normal((8, 3, 2, 2))
    t = tg.tensor(x)
    g = 4
    y = tg.reshape(t, (g, -1, 3, 2, 2))
    y = y - y.mean(dim=0, keepdim=True)
    y = tg.sqrt(y.pow(2).mean(dim=0, keepdim=False) + 1e-8).mean(dim=(1, 2, 3), keepdim=True)
    out = tg.cat([t, y.repeat(g, 1, 2, 2)], dim=1)
    ref = np.sqrt(x.reshape(g, -1, 3, 2, 2).var(0) + 1e-8).mean((1, 2, 3))
    np.testing.assert_allclose(out.numpy()[:, 3, 0, 0], np.tile(ref, g), rtol=1e-12)
    np.testing.assert_array_equal(out.numpy()[:, :3], x)


def _penalty(w: tg.Tensor, real: tg.Tensor, fake: tg.Tensor, alpha: tg.Tensor) -> tg.Tensor:
    """WGAN-GP's gradient_penalty_loss (pixel mode) on a tanh-conv critic."""
    inter = tg.autograd.Variable(alpha * real + (1. - alpha) * fake, requires_grad=True)
    out = tg.tanh(F.conv2d(inter, w, padding=1)).sum((1, 2, 3))
    grad = tg.autograd.grad(outputs=out, inputs=inter, grad_outputs=tg.ones_like(out),
                            create_graph=True, retain_graph=True, only_inputs=True)[0]
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()


def test_gradient_penalty_double_backward_matches_finite_differences():
    rng = np.random.default_rng(3)
    w_np = rng.standard_normal((2, 3, 3, 3)) * 0.3
    real, fake = (tg.tensor(rng.standard_normal((2, 3, 4, 4))) for _ in range(2))
    alpha = tg.tensor(rng.random((2, 1, 1, 1)))
    w = tg.tensor(w_np, requires_grad=True)
    _penalty(w, real, fake, alpha).backward()
    eps, flat = 1e-6, w_np.ravel()
    for i in (0, 13, 40, 53):
        hi, lo = flat.copy(), flat.copy()
        hi[i] += eps
        lo[i] -= eps
        fd = (float(_penalty(tg.tensor(hi.reshape(w_np.shape)), real, fake, alpha).detach()) -
              float(_penalty(tg.tensor(lo.reshape(w_np.shape)), real, fake, alpha).detach())) / (2 * eps)
        assert abs(w.grad.numpy().ravel()[i] - fd) < 1e-7
