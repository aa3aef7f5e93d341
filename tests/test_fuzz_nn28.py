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
