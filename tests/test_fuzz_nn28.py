"""Fixes found by differential fuzzing of nn layers / functional ops against torch (session 28).

Expected values come from NumPy loops, finite differences or invariants, not torch."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F

pytestmark = pytest.mark.usefixtures("float64_default")


def _t(a, grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# --- lp_pool with p = +-inf: torch's max (min) of |x| over each window ------------------------------

def _windows_1d(a, k, s):
    n = (a.shape[-1] - k) // s + 1
    return np.stack([a[..., i * s:i * s + k] for i in range(n)], axis=-2)   # (..., out, k)


@pytest.mark.parametrize("p", [math.inf, -math.inf])
def test_lp_pool1d_infinite_norm_is_max_of_abs(p):
    x = np.random.RandomState(0).randn(2, 3, 9)
    xt = _t(x, grad=True)
    out = F.lp_pool1d(xt, p, 3, 2)
    w = np.abs(_windows_1d(x, 3, 2))
    expected = w.max(-1) if p > 0 else w.min(-1)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=0, atol=0)
    out.sum().backward()
    pick = np.abs(_windows_1d(x, 3, 2)).argmax(-1) if p > 0 else np.abs(_windows_1d(x, 3, 2)).argmin(-1)
    grad = np.zeros_like(x)
    for i in range(pick.shape[-1]):   # d|x|/dx = sign(x) at each window's chosen element
        idx = i * 2 + pick[..., i]
        np.put_along_axis(grad, idx[..., None], np.take_along_axis(grad, idx[..., None], -1)
                          + np.sign(np.take_along_axis(x, idx[..., None], -1)), -1)
    np.testing.assert_allclose(xt.grad.numpy(), grad, rtol=0, atol=0)


def test_lp_pool2d_3d_infinite_norm_module_and_unbatched():
    x = np.random.RandomState(1).randn(2, 4, 6)
    out = tg.nn.LPPool2d(float("inf"), 2)(_t(x)).numpy()
    expected = np.abs(x).reshape(2, 2, 2, 3, 2).max(axis=(2, 4))
    np.testing.assert_allclose(out, expected, rtol=0, atol=0)
    x3 = np.random.RandomState(2).randn(1, 2, 4, 4, 4)
    out3 = F.lp_pool3d(_t(x3), -math.inf, 2).numpy()
    np.testing.assert_allclose(out3, np.abs(x3).reshape(1, 2, 2, 2, 2, 2, 2, 2).min(axis=(3, 5, 7)),
                               rtol=0, atol=0)


# --- norms: torch's checks and error types ----------------------------------------------------------

def test_instance_norm_without_input_stats_needs_running_stats_runtime_error():
    with pytest.raises(RuntimeError, match="running_mean"):
        F.instance_norm(_t(np.ones((2, 3, 4))), use_input_stats=False)


# --- interpolate nearest: torch's 1-D / 3-D kernels read floor(i / scale_factor) even where the
# output size equals the input's (or doubles it); only its 2-D kernel copies / halves there --------

def _floor_index(n_out, scale):
    return np.floor(np.arange(n_out, dtype=np.float32) * np.float32(1.0 / scale)).astype(int)


@pytest.mark.parametrize("shape, scale", [((1, 2, 3), 1.3), ((1, 1, 3), 2.3), ((1, 1, 1, 1, 3), 1.3),
                                          ((1, 1, 3, 3, 3), (1.3, 1.0, 2.3))])
def test_nearest_1d_3d_same_or_double_size_uses_the_scale(shape, scale):
    x = np.random.RandomState(3).randn(*shape)
    xt = _t(x, grad=True)
    out = F.interpolate(xt, scale_factor=scale, mode="nearest")
    scales = scale if isinstance(scale, tuple) else (scale,) * (len(shape) - 2)
    index = [_floor_index(int(n * s), s) for n, s in zip(shape[2:], scales)]
    expected = x[(Ellipsis, *np.ix_(*index))]
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    g = np.random.RandomState(4).randn(*expected.shape)
    (out * _t(g)).sum().backward()
    grad = np.zeros_like(x)
    np.add.at(grad, (Ellipsis, *np.ix_(*index)), g)   # the gradient of the forward's gather
    np.testing.assert_allclose(xt.grad.numpy(), grad, rtol=0, atol=1e-15)


def test_nearest_2d_same_size_still_copies():
    x = np.random.RandomState(5).randn(1, 1, 3, 3)
    np.testing.assert_array_equal(F.interpolate(_t(x), scale_factor=1.3, mode="nearest").numpy(), x)
    up = F.interpolate(_t(x), scale_factor=2.3, mode="nearest").numpy()   # 3 -> 6: halves
    np.testing.assert_array_equal(up, x.repeat(2, axis=2).repeat(2, axis=3))
