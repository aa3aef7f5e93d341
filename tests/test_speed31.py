"""Speed paths of session 31, each checked against a float64 / NumPy reference: GELU's fused
float32 backward kernel."""
import math

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.activation_kernels import gelu_backward, gelu_forward

_EXP = np.vectorize(math.exp)


def _gelu_grad_f64(x, cdf, g):
    """g * (cdf + x phi(x)) in float64 from the same float32 operands, and the magnitude of its
    terms (the scale a float32 result is rounded at: the sum cancels near x = -0.75)."""
    x, cdf, g = (a.astype(np.float64) for a in (x, cdf, g))
    with np.errstate(over="ignore", invalid="ignore"):
        term = x * _EXP(np.minimum(-0.5 * x * x, 0.0)) / math.sqrt(2 * math.pi)
    return g * (cdf + term), np.abs(g) * (np.abs(cdf) + np.abs(term))


def _assert_within_ulps(got, x, cdf, g, ulps=2):
    ref, scale = _gelu_grad_f64(x, cdf, g)
    finite = np.isfinite(ref)
    tol = ulps * np.spacing(scale[finite].astype(np.float32)).astype(np.float64)
    err = np.abs(got[finite].astype(np.float64) - ref[finite])
    assert (err <= tol).all(), (x[finite][err > tol][:5], (err / np.maximum(tol, 1e-300)).max())


_FLOATS = st.floats(-20, 20, width=32, allow_subnormal=False)


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=4, max_side=9), elements=_FLOATS),
       st.integers(0, 2**31 - 1))
def test_gelu_backward_kernel_within_two_ulps_of_float64(x, seed):
    g = np.random.default_rng(seed).standard_normal(x.shape).astype(np.float32)
    _, cdf = gelu_forward(x)
    got = gelu_backward(x, cdf, g)
    assert got.dtype == np.float32 and got.shape == x.shape
    _assert_within_ulps(got, x, cdf, g)


def test_gelu_backward_kernel_dense_sweep_and_special_values():
    x = np.concatenate([np.linspace(-16, 16, 64001), [-0.7518, -0.75184, 1e30, -1e30, 3e38, -3e38,
                                                      0.0, -0.0, 1e-30, 15.49, -15.49, 15.5, -15.5]])
    x = x.astype(np.float32)
    g = np.ones_like(x)
    _, cdf = gelu_forward(x)
    got = gelu_backward(x, cdf, g)
    _assert_within_ulps(got, x, cdf, g)
    assert got[-11:-5].tolist() == [1.0, 0.0, 1.0, 0.0, 0.5, 0.5]     # torch's values
    special = np.array([np.inf, -np.inf, np.nan], np.float32)          # torch: NaN for all three
    assert np.isnan(gelu_backward(special, gelu_forward(special)[1], np.ones(3, np.float32))).all()


def test_gelu_float32_gradient_matches_float64_path_and_strided_grad():
    rng = np.random.default_rng(31)
    x64 = rng.standard_normal((3, 4, 5)) * 3
    g64 = rng.standard_normal((5, 4, 3)).transpose(2, 1, 0)         # a non-contiguous gradient
    grads = []
    for dtype in (tg.float32, tg.float64):
        x = tg.tensor(x64, dtype=dtype, requires_grad=True)
        F.gelu(x).backward(tg.tensor(np.ascontiguousarray(g64), dtype=dtype).permute(0, 1, 2))
        grads.append(x.grad.numpy())
    assert grads[0].dtype == np.float32
    np.testing.assert_allclose(grads[0], grads[1], rtol=2e-6, atol=2e-7)
