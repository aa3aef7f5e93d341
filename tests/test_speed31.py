"""Speed paths of session 31, each checked against a float64 / NumPy reference: GELU's fused
float32 kernel's derivative (the backward: one multiply); the im2col pack of wide strided window
rows (``_pack_strided_rows``)."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.activation_kernels import gelu_backward, gelu_forward
from tensorgan.kernels import cpu as fast, reference as ref_kernels
from tensorgan.kernels.cpu import _pack

_EXP = np.vectorize(math.exp)
_ERFC = np.vectorize(math.erfc)


def _gelu_grad_f64(x, g):
    """g * (Phi(x) + x phi(x)) in float64 from the same float32 operands, and the magnitude of
    its terms (the scale a float32 result is rounded at: the sum cancels near x = -0.75)."""
    x, g = (a.astype(np.float64) for a in (x, g))
    cdf = _ERFC(-x / math.sqrt(2)) / 2
    with np.errstate(over="ignore", invalid="ignore"):
        term = x * _EXP(np.minimum(-0.5 * x * x, 0.0)) / math.sqrt(2 * math.pi)
    return g * (cdf + term), np.abs(g) * (np.abs(cdf) + np.abs(term))


def _assert_within_ulps(got, x, g, ulps=2):
    ref, scale = _gelu_grad_f64(x, g)
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
    _, slope = gelu_forward(x)
    got = gelu_backward(slope, g)
    assert got.dtype == np.float32 and got.shape == x.shape
    _assert_within_ulps(got, x, g)


def test_gelu_backward_kernel_dense_sweep_and_special_values():
    x = np.concatenate([np.linspace(-16, 16, 64001), [-0.7518, -0.75184, 1e30, -1e30, 3e38, -3e38,
                                                      0.0, -0.0, 1e-30, 15.49, -15.49, 15.5, -15.5]])
    x = x.astype(np.float32)
    g = np.ones_like(x)
    _, slope = gelu_forward(x)
    got = gelu_backward(slope, g)
    _assert_within_ulps(got, x, g)
    assert got[-11:-5].tolist() == [1.0, 0.0, 1.0, 0.0, 0.5, 0.5]     # torch's values
    special = np.array([np.inf, -np.inf, np.nan], np.float32)          # torch: NaN for all three
    assert np.isnan(gelu_backward(gelu_forward(special)[1], np.ones(3, np.float32))).all()


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


def _im2col_ref(x, offh, offw, sh, sw, Qh, Qw):
    """cols[(c, th, tw), (n, qh, qw)] = x[n, c, qh*sh + offh[th], qw*sw + offw[tw]] (0 outside x)."""
    N, C, H, W = x.shape
    ih = np.arange(Qh)[None, :] * sh + offh[:, None]            # (Th, Qh)
    iw = np.arange(Qw)[None, :] * sw + offw[:, None]            # (Tw, Qw)
    padded = np.zeros((N, C, H + 1, W + 1), x.dtype)            # index -1 / H, W: the zero border
    padded[:, :, :H, :W] = x
    ih = np.where((ih >= 0) & (ih < H), ih, H)
    iw = np.where((iw >= 0) & (iw < W), iw, W)
    g = padded[:, :, ih[:, None, :, None], iw[None, :, None, :]]   # (N, C, Th, Tw, Qh, Qw)
    return g.transpose(1, 2, 3, 0, 4, 5).reshape(C * len(offh) * len(offw), N * Qh * Qw)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 12), st.integers(16, 24),
       st.integers(1, 5), st.integers(1, 5), st.integers(2, 4), st.integers(1, 3), st.integers(0, 6),
       st.integers(0, 3), st.integers(0, 3))
def test_pack_cols_wide_strided_rows_match_numpy_im2col(N, C, H, Qw, kh, kw, sw, sh, pw, ph, extra):
    W = (Qw - 1) * sw + kw - 2 * pw + extra % sw       # a width whose window rows are Qw wide
    Qh = (H + 2 * ph - kh) // sh + 1
    assume(W >= 1 and Qh >= 1)
    offh = np.arange(kh, dtype=np.int64) - ph
    offw = np.arange(kw, dtype=np.int64) - pw
    x = np.random.default_rng(N * 1000 + W).standard_normal((N, C, H, W)).astype(np.float32)
    got = _pack.pack_cols(x, offh, offw, sh, sw, Qh, Qw, name="test31")
    np.testing.assert_array_equal(got, _im2col_ref(x, offh, offw, sh, sw, Qh, Qw))


def test_pack_cols_strided_rows_every_tap_outside_is_zero():
    # window columns that all fall in the padding (pad 6 > kernel reach) and rows past x's bottom
    x = np.arange(2 * 3 * 5 * 40, dtype=np.float64).reshape(2, 3, 5, 40) + 1.0
    offh, offw = np.arange(3, dtype=np.int64) - 4, np.arange(7, dtype=np.int64) - 6
    got = _pack.pack_cols(x, offh, offw, 3, 2, 4, 23, name="test31")
    np.testing.assert_array_equal(got, _im2col_ref(x, offh, offw, 3, 2, 4, 23))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strided_conv_forward_and_weight_gradient_match_reference(dtype):
    # a ResNet-style 3x3 stride-2 downsampling (16-wide window rows: the strided-rows pack)
    rng = np.random.default_rng(31)
    x = rng.standard_normal((3, 5, 32, 33)).astype(dtype)
    w = rng.standard_normal((6, 5, 3, 3)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    gy = rng.standard_normal((3, 6, 16, 17)).astype(dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast.conv2d(x, w, b, (2, 2), (1, 1)),
                               ref_kernels.conv2d(x, w, b, (2, 2), (1, 1)), **tol)
    np.testing.assert_allclose(fast.conv2d_grad_weight(x, gy, (3, 3), (2, 2), (1, 1)),
                               ref_kernels.conv2d_grad_weight(x, gy, (3, 3), (2, 2), (1, 1)), **tol)
