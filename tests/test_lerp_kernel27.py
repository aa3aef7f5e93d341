"""The weight average (torch.lerp) through the kernel sets' ``lerp_update``: Tensor.lerp_,
no-graph Tensor.lerp and swa_utils' EMA take the device's one-pass kernel where the arrays allow,
the reference's ufuncs elsewhere (broadcasting, strided views) -- the same bits either way."""
import importlib

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.backend import get_device

ref = importlib.import_module("tensorgan.kernels.reference")


def _reference(a, end, weight):
    out = np.empty(np.broadcast_shapes(a.shape, end.shape), a.dtype)
    ref.lerp_update(a, end, weight, out)
    return out


@pytest.fixture
def kernel_calls(monkeypatch):
    """Counts the CPU kernel set's lerp_update calls (the call still runs)."""
    kernels = get_device("cpu").kernels
    calls = []
    real = kernels.lerp_update

    def counting(*args):
        calls.append(args[0].shape)
        return real(*args)
    monkeypatch.setattr(kernels, "lerp_update", counting)
    return calls


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weight", [0.001, 0.3, 0.5, 0.999, 1.0])
def test_in_place_lerp_takes_the_kernel_and_matches_the_ufuncs(kernel_calls, dtype, weight):
    rng = np.random.default_rng(0)
    a, end = rng.standard_normal((2, 3, 70000)).astype(dtype), rng.standard_normal((2, 3, 70000)).astype(dtype)
    want = _reference(a, end, weight)
    t = tg.tensor(a)
    with tg.no_grad():
        assert t.lerp_(tg.tensor(end), weight) is t
    np.testing.assert_array_equal(t.numpy(), want)
    assert kernel_calls == [(a.size,)], "one flat call on the contiguous arrays"


def test_out_of_place_lerp_without_a_graph_takes_the_kernel(kernel_calls):
    rng = np.random.default_rng(1)
    p, ema = rng.standard_normal((64, 5, 5)).astype(np.float32), rng.standard_normal((64, 5, 5)).astype(np.float32)
    with tg.no_grad():
        got = tg.tensor(p).lerp(tg.tensor(ema), 0.999)     # StyleGAN's p.lerp(p_ema, beta)
    np.testing.assert_array_equal(got.numpy(), _reference(p, ema, 0.999))
    assert kernel_calls == [(p.size,)]


def test_broadcast_and_strided_operands_take_the_ufuncs_with_the_same_result(kernel_calls):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 6)).astype(np.float32)
    row = rng.standard_normal(6).astype(np.float32)
    t = tg.tensor(a)
    with tg.no_grad():
        t.lerp_(tg.tensor(row), 0.25)                      # end broadcast over the rows
        np.testing.assert_array_equal(t.numpy(), _reference(a, row, 0.25))
        wide = tg.tensor(rng.standard_normal((6, 8)).astype(np.float32))
        view = wide[:, ::2]                                 # a strided view, updated in place
        before = view.numpy().copy()
        end = rng.standard_normal((6, 4)).astype(np.float32)
        view.lerp_(tg.tensor(end), 0.75)
        np.testing.assert_array_equal(wide.numpy()[:, ::2], _reference(before, end, 0.75))
        grown = tg.tensor(row).lerp(tg.tensor(a), 0.6)       # input broadcast up to end's shape
        np.testing.assert_array_equal(grown.numpy(), _reference(row, a, 0.6))
    assert kernel_calls == []


def test_zero_dim_and_empty_tensors():
    with tg.no_grad():
        s = tg.tensor(2.0)
        s.lerp_(tg.tensor(4.0), 0.25)
        assert s.item() == 2.5
        e = tg.zeros(0, 3)
        assert e.lerp_(tg.ones(0, 3), 0.5).shape == (0, 3)


def test_ema_of_averaged_model_matches_the_reference_bit_for_bit(kernel_calls):
    from tensorgan.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
    tg.manual_seed(0)
    net = tg.nn.Sequential(tg.nn.Linear(300, 300), tg.nn.Linear(300, 2))
    ema = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.99))
    ema.update_parameters(net)                      # the first call copies the weights
    old = [p.detach().numpy().copy() for p in ema.module.parameters()]
    with tg.no_grad():
        for p in net.parameters():
            p.mul_(-3.0)
    ema.update_parameters(net)                      # ema = ema + 0.01 (p - ema), in place
    for got, before, p in zip(ema.module.parameters(), old, net.parameters()):
        want = _reference(before, p.detach().numpy(), 1.0 - 0.99)
        np.testing.assert_array_equal(got.detach().numpy(), want)
        assert not np.array_equal(want, before)
    assert len(kernel_calls) == 4
