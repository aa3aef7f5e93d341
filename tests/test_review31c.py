"""Review of session 31's h31c / h31d kernel work: GELU's fused float32 CPU forward / backward
laid out as the float64 path (torch's layouts), its derivative rounded to float32 before g
multiplies it (torch's NaN for an infinite g where it underflows), its range reduction at the
boundaries; the strided-rows im2col and the CUDA kernels in the simulator."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.activation_kernels import gelu_backward, gelu_forward

_RNG = np.random.default_rng(3131)
_X = _RNG.standard_normal((2, 3, 4, 5)) * 3
_G = _RNG.standard_normal((2, 3, 4, 5))


def _laid_out(a, kind, dtype):
    t = tg.tensor(a, dtype=dtype)
    if kind == "channels_last":
        return t.to(memory_format=tg.channels_last)
    if kind == "permuted":
        return t.permute(3, 2, 1, 0).contiguous().permute(3, 2, 1, 0)
    if kind == "sliced":
        return tg.cat([t, t], 3)[..., :5]
    if kind == "broadcast":                                   # a sum's gradient
        return tg.tensor(np.float64(a[0, 0, 0, 0]), dtype=dtype).expand(*a.shape)
    return t


def _gelu_and_grad(x_kind, g_kind, dtype):
    x = _laid_out(_X, x_kind, dtype).detach().requires_grad_(True)
    y = F.gelu(x)
    (gx,) = tg.autograd.grad(y, x, _laid_out(_G, g_kind, dtype))
    return y, gx


@pytest.mark.parametrize("x_kind", ["contiguous", "channels_last", "permuted", "sliced"])
@pytest.mark.parametrize("g_kind", ["contiguous", "channels_last", "permuted", "sliced", "broadcast"])
def test_gelu_float32_layouts_as_float64_path(x_kind, g_kind):
    # the fused float32 kernels wrote C order whatever x's / g's layout (torch: y as x, the input
    # gradient as g where g is not broadcast); the float64 path lays them out as torch's
    y32, g32 = _gelu_and_grad(x_kind, g_kind, tg.float32)
    y64, g64 = _gelu_and_grad(x_kind, g_kind, tg.float64)
    assert y32.stride() == y64.stride() and g32.stride() == g64.stride()
    np.testing.assert_allclose(y32.numpy(), y64.numpy(), rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(g32.numpy(), g64.numpy(), rtol=2e-6, atol=2e-6)


def test_gelu_float32_channels_last_stays_channels_last():
    y, gx = _gelu_and_grad("channels_last", "channels_last", tg.float32)
    assert y.stride() == gx.stride() == (60, 1, 15, 3)          # torch's strides
    assert y.is_contiguous(memory_format=tg.channels_last)


def test_gelu_kernels_on_a_transposed_array_keep_its_layout():
    x = np.asfortranarray(_X.astype(np.float32))
    y, slope = gelu_forward(x)
    assert y.flags.f_contiguous and slope.flags.f_contiguous
    g = np.ones(x.shape, np.float32)                            # C order: g leads
    got = gelu_backward(slope, g)
    assert got.flags.c_contiguous
    np.testing.assert_array_equal(got, gelu_backward(np.ascontiguousarray(slope), g))


def test_gelu_float32_gradient_infinite_g_where_the_derivative_underflows():
    # the derivative at x = -15 (-8e-49) underflows float32: torch's gradient is g * 0 -- NaN for
    # an infinite g, 0 for a huge one (the float64 product gave -inf and -8e-11)
    x = tg.tensor([-15.0, -14.6, -20.0, 3.0], requires_grad=True)
    F.gelu(x).backward(tg.tensor([math.inf, 1e38, math.inf, math.inf]))
    got = x.grad.numpy()
    assert np.isnan(got[0]) and got[1] == 0 and np.isnan(got[2]) and got[3] == math.inf


def _exact_gelu_grad(x):
    return np.array([0.5 * math.erfc(-v / math.sqrt(2)) + v * math.exp(-0.5 * v * v)
                     / math.sqrt(2 * math.pi) for v in x.astype(np.float64)])


def test_gelu_backward_at_the_range_reduction_boundaries():
    # x^2 / 2 = (n + 1/2) ln 2: where the rounding of n flips (|r| = ln2 / 2), a few ulps each side
    base = np.sqrt(2 * (np.arange(175) + 0.5) * math.log(2)).astype(np.float32)
    xs = [base]
    for direction in (np.inf, -np.inf):
        v = base
        for _ in range(3):
            v = np.nextafter(v, np.float32(direction))
            xs.append(v)
    x = np.concatenate(xs + [-a for a in xs])
    _, slope = gelu_forward(x)
    got = gelu_backward(slope, np.ones_like(x)).astype(np.float64)
    exact = _exact_gelu_grad(x)
    x64 = x.astype(np.float64)
    scale = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x64]) + np.abs(
        x64 * np.exp(-0.5 * x64 ** 2) / math.sqrt(2 * math.pi))    # the two terms' size
    assert (np.abs(got - exact) <= 2 * np.spacing(scale.astype(np.float32))).all()


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_float32_double_backward_as_float64(approximate):
    xa, ga, va = (_RNG.standard_normal((3, 4)) * s for s in (3, 1, 1))
    results = []
    for dtype in (tg.float32, tg.float64):
        x = tg.tensor(xa, dtype=dtype, requires_grad=True)
        g = tg.tensor(ga, dtype=dtype, requires_grad=True)
        (gx,) = tg.autograd.grad(F.gelu(x, approximate=approximate), x, g, create_graph=True)
        results.append([gx.detach().numpy()] + [a.numpy() for a in
                                                 tg.autograd.grad(gx, (x, g), tg.tensor(va, dtype=dtype))])
    for a32, a64 in zip(*results):
        np.testing.assert_allclose(a32, a64, rtol=1e-5, atol=2e-6)


def _im2col(x, offh, offw, sh, sw, qh, qw):
    """cols[(c, th, tw), (n, i, j)] = x[n, c, i*sh + offh[th], j*sw + offw[tw]], 0 outside x."""
    n, c, h, w = x.shape
    rows = np.arange(qh)[None, :] * sh + offh[:, None]
    cols = np.arange(qw)[None, :] * sw + offw[:, None]
    padded = np.zeros((n, c, h + 1, w + 1), x.dtype)
    padded[:, :, :h, :w] = x
    rows = np.where((rows >= 0) & (rows < h), rows, h)
    cols = np.where((cols >= 0) & (cols < w), cols, w)
    g = padded[:, :, rows[:, None, :, None], cols[None, :, None, :]]
    return g.transpose(1, 2, 3, 0, 4, 5).reshape(c * len(offh) * len(offw), n * qh * qw)


# (width, stride, dilation, padding, kernel): window rows 15 (the table gather) and 16-17 wide
# (the strided-rows pack) at strides 2-4, dilated, padded past half the kernel
_PACK_CASES = [(30, 2, 1, 1, 3), (31, 2, 1, 1, 3), (43, 3, 2, 3, 3), (46, 3, 2, 3, 3),
               (56, 4, 1, 4, 5), (57, 4, 1, 4, 5), (23, 2, 3, 5, 2), (24, 2, 3, 5, 2)]


@pytest.mark.parametrize("width, stride, dilation, padding, kernel", _PACK_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strided_conv_both_sides_of_the_wide_row_threshold(width, stride, dilation, padding,
                                                           kernel, dtype):
    rng = np.random.default_rng(width * 10 + stride)
    x = rng.standard_normal((1, 3, 7, width)).astype(dtype)
    w = rng.standard_normal((2, 3, kernel, kernel)).astype(dtype)
    for channels_last in (False, True):
        xt = tg.tensor(x)
        if channels_last:
            xt = xt.to(memory_format=tg.channels_last)
        wt = tg.tensor(w, requires_grad=True)
        y = F.conv2d(xt, wt, None, stride, padding, dilation)
        qh, qw = y.shape[2:]
        assert qw in (15, 16)                                   # the threshold's two sides
        offs = np.arange(kernel) * dilation - padding
        cols = _im2col(x.astype(np.float64), offs, offs, stride, stride, qh, qw)
        want = (w.reshape(2, -1).astype(np.float64) @ cols).reshape(2, 1, qh, qw).transpose(1, 0, 2, 3)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(y.numpy(), want, rtol=tol, atol=tol)
        gy = rng.standard_normal(y.shape).astype(dtype)
        y.backward(tg.tensor(gy))
        want_gw = (gy.reshape(2, -1).astype(np.float64) @ cols.T).reshape(w.shape)
        np.testing.assert_allclose(wt.grad.numpy(), want_gw, rtol=tol * 10, atol=tol * 10)
