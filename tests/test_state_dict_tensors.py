"""Module.state_dict() values are detached Tensors sharing the module's memory, as torch's (torch code calls .clone() / .size() /
.cpu() / .numel() on them); load_state_dict takes Tensors, NumPy arrays or a mix; tg.save /
tg.load of a state dict gives Tensors back; the optimizer's load_state_dict takes Tensors too."""
from __future__ import annotations

import copy
import io
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import CheckpointError


def net(dtype=None):
    tg.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    return m if dtype is None else m.to(dtype)


def test_values_are_detached_tensors_with_the_parameters_dtypes():
    m = net()
    m(tg.randn(5, 3))                       # one batch: running stats and the counter move
    sd = m.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                        "1.running_var", "1.num_batches_tracked", "2.weight", "2.bias"]
    for key, value in sd.items():
        assert type(value) is tg.Tensor, key
        assert not value.requires_grad and value.is_leaf and value.grad_fn is None, key
        assert str(value.device) == "cpu", key
    assert sd["0.weight"].dtype == np.float32 and sd["0.weight"].shape == (4, 3)
    counter = sd["1.num_batches_tracked"]
    assert counter.dtype == np.int64 and counter.shape == () and counter.item() == 1
    assert net(tg.float64).state_dict()["2.bias"].dtype == np.float64
    for key, p in m.named_parameters():
        assert np.array_equal(sd[key].numpy(), p.detach().numpy())


def test_values_share_the_parameters_memory_as_torch():
    m = net()
    sd = m.state_dict()
    before = sd["0.weight"].numpy().copy()
    with tg.no_grad():
        m[0].weight.add_(1.0)              # a later optimizer step / init shows through
    m[1].num_batches_tracked.add_(5)
    assert np.array_equal(sd["0.weight"].numpy(), before + 1.0)
    assert sd["1.num_batches_tracked"].item() == 5
    sd["2.bias"].fill_(7.0)                # and writing the value writes the model
    assert np.all(m[2].bias.detach().numpy() == 7.0)
    assert np.shares_memory(sd["2.weight"].numpy(), m[2].weight.detach().numpy())
    assert not sd["2.weight"].requires_grad


def test_torch_idioms_on_the_values():
    m = net()
    sd = m.state_dict()
    cloned = {k: v.clone() for k, v in sd.items()}
    assert sd["0.weight"].size() == (4, 3) and sd["0.weight"].size(0) == 4
    assert sd["0.weight"].numel() == 12 and sd["1.num_batches_tracked"].numel() == 1
    assert sum(v.numel() for v in sd.values()) == 12 + 4 + 4 * 4 + 1 + 8 + 2
    cpu = {k: v.cpu() for k, v in sd.items()}
    with tg.no_grad():
        for p in m.parameters():
            p.mul_(0.0)
    m.load_state_dict(cloned)
    assert np.array_equal(m[0].weight.detach().numpy(), cpu["0.weight"].numpy())
    m.load_state_dict({k: v.detach().cpu().float() if v.dtype.kind == "f" else v for k, v in sd.items()})


def test_keep_vars_gives_the_parameters_and_buffers_themselves():
    m = net()
    sd = m.state_dict(keep_vars=True)
    assert sd["0.weight"] is m[0].weight and isinstance(sd["0.weight"], nn.Parameter)
    assert sd["1.running_mean"] is m[1].running_mean
    assert sd["1.num_batches_tracked"] is m[1].num_batches_tracked


def test_rollback_from_a_snapshot_after_optimizer_steps():
    m = net()
    backup = copy.deepcopy(m.state_dict())     # torch's idiom: the values alias the model
    opt = tg.optim.Adam(m.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        m(tg.randn(6, 3)).square().mean().backward()
        opt.step()
    assert not np.array_equal(m[0].weight.detach().numpy(), backup["0.weight"].numpy())
    m.load_state_dict(backup)
    for key, value in m.state_dict().items():
        assert np.array_equal(value.numpy(), backup[key].numpy()), key


def test_load_takes_tensors_arrays_and_a_mix_and_keeps_no_alias():
    source, m = net(), nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    sd = {k: v.clone() for k, v in source.state_dict().items()}
    mixed = {k: (v.numpy() if i % 2 else v) for i, (k, v) in enumerate(sd.items())}
    assert any(isinstance(v, np.ndarray) for v in mixed.values())
    assert any(isinstance(v, tg.Tensor) for v in mixed.values())
    m.load_state_dict(mixed)
    given = sd["0.weight"]
    given.add_(100.0)                       # the loaded model does not share the given Tensor
    assert np.array_equal(m[0].weight.detach().numpy() + 100.0, sd["0.weight"].numpy())
    wide = {k: (v.double() if v.dtype.kind == "f" else v) for k, v in source.state_dict().items()}
    m.load_state_dict(wide)                 # float64 Tensors into a float32 model: cast
    assert m[0].weight.dtype == np.float32
    assert np.allclose(m[2].weight.detach().numpy(), source[2].weight.detach().numpy())


def test_load_names_a_tensor_of_the_wrong_shape_or_kind():
    m = net()
    sd = m.state_dict()
    bad = {**sd, "2.weight": tg.zeros(2, 5)}
    before = m[0].weight.detach().numpy().copy()
    with pytest.raises(CheckpointError, match=r"'2\.weight' has shape \(2, 5\) in the checkpoint"):
        m.load_state_dict({**bad, "0.weight": tg.ones(4, 3)})
    assert np.array_equal(m[0].weight.detach().numpy(), before)     # nothing written
    with pytest.raises(CheckpointError, match="num_batches_tracked"):
        m.load_state_dict({**sd, "1.num_batches_tracked": tg.tensor(1.5)})


@pytest.mark.parametrize("to_file", [False, True])
def test_save_and_load_give_tensors_back(tmp_path, to_file):
    m = net()
    m(tg.randn(4, 3))
    sd = m.state_dict()
    if to_file:
        buffer = io.BytesIO()
        tg.save(sd, buffer)
        buffer.seek(0)
        loaded = tg.load(buffer)
    else:
        tg.save(sd, tmp_path / "m.pt")
        loaded = tg.load(tmp_path / "m.pt")
    assert list(loaded) == list(sd)
    for key, value in loaded.items():
        assert type(value) is tg.Tensor and not value.requires_grad, key
        assert value.dtype == sd[key].dtype and value.size() == sd[key].size(), key
        assert np.array_equal(value.numpy(), sd[key].numpy()), key
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    other.load_state_dict(loaded)
    assert other[1].num_batches_tracked.item() == 1


def test_a_host_buffer_of_a_dtype_tensors_do_not_hold_stays_an_array():
    m = nn.Module()
    m.register_buffer("codes", np.arange(3, dtype=np.uint16))
    m.register_buffer("flags", np.array([True, False]))
    sd = m.state_dict()
    assert type(sd["codes"]) is np.ndarray and sd["codes"].dtype == np.uint16
    assert np.shares_memory(sd["codes"], m.codes)
    assert type(sd["flags"]) is tg.Tensor and sd["flags"].dtype == np.bool_
    m.load_state_dict({"codes": np.array([7, 8, 9], np.uint16), "flags": tg.tensor([False, True])})
    assert m.codes.tolist() == [7, 8, 9] and m.flags.tolist() == [False, True]


def test_lazy_module_state_dict():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        lazy = nn.LazyLinear(2)
    sd = lazy.state_dict()
    assert isinstance(sd["weight"], nn.UninitializedParameter)     # nothing to copy yet
    lazy(tg.randn(3, 5))
    sd = lazy.state_dict()
    assert type(sd["weight"]) is tg.Tensor and sd["weight"].size() == (2, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fresh = nn.LazyLinear(2)
    fresh.load_state_dict(sd)                 # materialized from the Tensors' shapes
    assert np.array_equal(fresh.weight.detach().numpy(), sd["weight"].numpy())


@pytest.mark.parametrize("make", [lambda ps: tg.optim.Adam(ps, lr=0.05),
                                  lambda ps: tg.optim.SGD(ps, lr=0.05, momentum=0.9),
                                  lambda ps: tg.optim.LBFGS(ps, lr=0.5, history_size=3)])
def test_optimizer_load_takes_tensor_state_entries(make):
    def run(opt, m, steps):
        def closure():
            opt.zero_grad()
            loss = (m(tg.ones(2, 3)) - 1.0).square().mean()
            loss.backward()
            return loss
        for _ in range(steps):
            opt.step(closure)

    m = net()
    opt = make(list(m.parameters()))
    run(opt, m, 2)
    saved, weights = opt.state_dict(), m.state_dict()
    as_tensors = {**saved, "state": {
        i: {k: (tg.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in s.items()}
        for i, s in saved["state"].items()}}
    assert any(isinstance(v, tg.Tensor) for s in as_tensors["state"].values() for v in s.values())
    run(opt, m, 2)
    expected = m[0].weight.detach().numpy().copy()
    m.load_state_dict(weights)
    opt2 = make(list(m.parameters()))
    opt2.load_state_dict(as_tensors)
    run(opt2, m, 2)
    assert np.allclose(m[0].weight.detach().numpy(), expected, rtol=1e-6, atol=1e-7)
