"""The CUDA kernels (tensorgan.kernels.cuda) against the NumPy reference kernels.

Without a GPU these run under Numba's CUDA simulator (tests/conftest.py sets
NUMBA_ENABLE_CUDASIM=1 before numba is imported), which executes one Python thread per CUDA thread:
every shape here is a handful of 256-thread blocks and short K loops, so the whole file stays
within a few minutes.  On a machine with a GPU the same tests run on the device with CuPy arrays.

Covered: odd sizes, strides 1-3, padding 0-2, non-square kernels, output_padding, several row and
column tiles (M > 64, C_out > 64), forced split-K for the weight gradient, grid-stride loops with
fewer threads than elements, batch norm (alone and fused with leaky ReLU) train/eval over (N, C)
and (N, C, H, W) with and without affine parameters and running statistics.  The reference is
evaluated in float64.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tensorgan.kernels import KERNEL_API, shapes
from tensorgan.kernels import cuda as kc
from tensorgan.kernels import reference as ref
from tensorgan.kernels.cuda import _launch

from cuda_arrays import xp, dev, host, f64, rand, assert_close, conv_data  # (shared CUDA test helpers)


def test_exports_the_kernel_api():
    for name in KERNEL_API:
        assert callable(getattr(kc, name)), name


def test_rejects_float64():
    with pytest.raises(TypeError, match="float32"):
        kc.leaky_relu(xp.zeros(4, dtype=np.float64), 0.2)


def test_refuses_batches_past_the_32_bit_pixel_index(monkeypatch):
    # The real limit is 2**31 pixels a channel (8 GB a channel); lowered here so that the check of
    # each convolution entry point runs on a small batch.
    monkeypatch.setattr(kc, "_MAX_PIXELS", 4 * 5 * 5)
    x = xp.zeros((4, 1, 5, 5), dtype=np.float32)
    w = xp.zeros((1, 1, 3, 3), dtype=np.float32)
    for call in (lambda: kc.conv2d(x, w, None, (1, 1), (1, 1)),
                 lambda: kc.conv2d_grad_input(x, w, (5, 5), (1, 1), (1, 1)),
                 lambda: kc.conv2d_grad_weight(x, x, (3, 3), (1, 1), (1, 1))):
        with pytest.raises(ValueError, match="32-bit index range"):
            call()
    kc.conv2d(x[:3], w, None, (1, 1), (1, 1))           # 75 pixels a channel: under the limit


# ----------------------------------------------------------------------------------- conv2d
# (N, C_in, H, W, C_out, kH, kW, stride, padding)
CONV_CASES = [
    (1, 1, 5, 5, 1, 3, 3, (1, 1), (0, 0)),
    (2, 3, 7, 6, 5, 3, 2, (2, 1), (1, 2)),       # non-square kernel, mixed stride/padding
    (2, 2, 9, 8, 4, 4, 4, (2, 2), (1, 1)),       # DCGAN's k4 s2 p1 on odd sizes
    (1, 3, 8, 7, 3, 2, 3, (3, 3), (2, 0)),       # stride 3, padding 2
    (1, 2, 5, 4, 6, 5, 4, (1, 2), (2, 2)),       # kernel as large as the input
    (3, 2, 7, 7, 65, 1, 1, (1, 1), (0, 0)),      # 3 row tiles x 2 column tiles, K < BK
    (2, 2, 11, 11, 3, 4, 4, (2, 2), (1, 1)),     # grad_input: phase (0, 0) needs 2 row tiles,
]                                                # phase (1, 1) 1 (its second block returns)


def _both_paths(cases, thin):
    """(case, path) pairs: "default" (whatever the glue picks), plus "tiled" where thin(case) says
    the default is a conv_thin kernel -- elsewhere the two would run the same code twice."""
    return [pytest.param(c, p, id=f"{p}-{c}") for c in cases
            for p in (("default", "tiled") if thin(c) else ("default",))]


def _thin(channels, *kernel):
    return channels <= 4 and max(kernel) <= 4


@pytest.fixture
def force(monkeypatch):
    """force("tiled") makes outputs of <= 4 channels use the implicit-GEMM kernels too, instead of
    conv_thin's direct ones, so both are checked on every small case."""
    return lambda path: monkeypatch.setattr(kc, "_FORCE_TILED", path == "tiled")


@pytest.mark.parametrize("case, path", _both_paths(CONV_CASES, lambda c: _thin(c[4], c[5], c[6])))
def test_conv2d_forward(case, path, force):
    force(path)
    x, w, b, _ = conv_data(case, 0)
    stride, padding = case[7], case[8]
    assert_close(kc.conv2d(dev(x), dev(w), dev(b), stride, padding),
                 ref.conv2d(f64(x), f64(w), f64(b), stride, padding))
    assert_close(kc.conv2d(dev(x), dev(w), None, stride, padding),
                 ref.conv2d(f64(x), f64(w), None, stride, padding))


@pytest.mark.parametrize("case, path", _both_paths(CONV_CASES, lambda c: _thin(c[1], c[5], c[6])))
def test_conv2d_grad_input(case, path, force):
    force(path)
    x, w, _, gy = conv_data(case, 1)
    stride, padding = case[7], case[8]
    hw = x.shape[2:]
    assert_close(kc.conv2d_grad_input(dev(gy), dev(w), hw, stride, padding),
                 ref.conv2d_grad_input(f64(gy), f64(w), hw, stride, padding))


@pytest.mark.parametrize("case, path", _both_paths(CONV_CASES, lambda c: _thin(c[4], c[5], c[6])))
def test_conv2d_grad_weight_and_bias(case, path, force):
    force(path)
    x, w, _, gy = conv_data(case, 2)
    stride, padding = case[7], case[8]
    khw = w.shape[2:]
    assert_close(kc.conv2d_grad_weight(dev(x), dev(gy), khw, stride, padding),
                 ref.conv2d_grad_weight(f64(x), f64(gy), khw, stride, padding))
    if gy.shape[1] <= 8:  # one 256-thread block per channel: keep the simulator's work small
        assert_close(kc.conv2d_grad_bias(dev(gy)), ref.conv2d_grad_bias(f64(gy)))


@pytest.mark.parametrize("case", [(1, 40, 5, 6, 1, 4, 4, (2, 2), (1, 1)),   # 640 taps: 2 chunks
                                  (2, 3, 6, 5, 2, 3, 3, (1, 1), (1, 1))],   # ... and 1 chunk
                         ids=["two weight chunks", "one chunk"])
def test_direct_kernels_stage_the_weights_in_chunks(case):
    # conv_thin stages KC = 512 weight taps at a time (whole input channels: 32 of 16 taps).
    x, w, b, gy = conv_data(case, 5)
    stride, padding = case[7], case[8]
    assert_close(kc.conv2d(dev(x), dev(w), dev(b), stride, padding),
                 ref.conv2d(f64(x), f64(w), f64(b), stride, padding))
    # The input gradient of the mirrored layer: C_out = 40 -> C_in = 1, chunks over C_out.
    wt = np.ascontiguousarray(np.swapaxes(w, 0, 1))
    assert_close(kc.conv2d_grad_input(dev(x), dev(wt), _in_hw(x, wt, stride, padding), stride, padding),
                 ref.conv2d_grad_input(f64(x), f64(wt), _in_hw(x, wt, stride, padding), stride, padding))


def _in_hw(gy, w, stride, padding):
    """An input size whose conv2d output is gy's (the smallest)."""
    return tuple((o - 1) * s - 2 * p + k for o, s, p, k in zip(gy.shape[2:], stride, padding, w.shape[2:]))


def test_direct_kernels_serve_thin_outputs_only():
    assert kc._thin_output(1, 3, 3) and kc._thin_output(4, 4, 4)
    assert not kc._thin_output(5, 3, 3)                # a GEMM tile is no longer mostly padding
    assert not kc._thin_output(1, 23, 23)              # one channel's taps must fit a chunk


@pytest.mark.parametrize("splits, path", [(2, "default"), (48, "default"), (2, "tiled"),
                                          (3, "tiled"), (100, "tiled")])
def test_conv2d_grad_weight_split_k(splits, path, force):
    force(path)
    # Forced split-K (the glue picks 1 at these sizes): partial tiles + the deterministic reduction;
    # C_out = 4, so "default" is conv_thin's weight gradient (48 splits: one pixel each), "tiled"
    # the implicit GEMM.
    case = (2, 3, 6, 7, 4, 3, 2, (1, 2), (1, 0))
    x, w, _, gy = conv_data(case, 3)
    want = ref.conv2d_grad_weight(f64(x), f64(gy), (3, 2), (1, 2), (1, 0))
    assert_close(kc._conv_wgrad(dev(x), dev(gy), (3, 2), (1, 2), (1, 0), splits=splits), want)


@pytest.mark.parametrize("case", [(2, 3, 9, 8, 2, 5, 3, (1, 2), (2, 1)),     # kH = 5 > MAX_KSIDE
                                  (3, 2, 6, 6, 4, 4, 4, (2, 2), (1, 1))],    # 4 x 4, C_out = 4
                         ids=["5x3 kernel: tiled", "4x4 kernel: direct"])
def test_thin_weight_gradient_falls_back_past_4x4_kernels(case):
    x, w, _, gy = conv_data(case, 6)
    stride, padding = case[7], case[8]
    assert_close(kc.conv2d_grad_weight(dev(x), dev(gy), w.shape[2:], stride, padding),
                 ref.conv2d_grad_weight(f64(x), f64(gy), w.shape[2:], stride, padding))


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 2), c_in=st.integers(1, 5), c_out=st.integers(1, 5),
       h=st.integers(1, 7), w=st.integers(1, 7), kh=st.integers(1, 4), kw=st.integers(1, 4),
       sh=st.integers(1, 3), sw=st.integers(1, 3), ph=st.integers(0, 2), pw=st.integers(0, 2),
       seed=st.integers(0, 2**16), tiled=st.booleans())
def test_conv2d_hypothesis(n, c_in, c_out, h, w, kh, kw, sh, sw, ph, pw, seed, tiled):
    kc._FORCE_TILED = tiled                 # c <= 4 outputs: the direct kernels, or the tiled ones
    try:
        _check_conv2d_case(n, c_in, c_out, h, w, kh, kw, sh, sw, ph, pw, seed)
    finally:
        kc._FORCE_TILED = False


def _check_conv2d_case(n, c_in, c_out, h, w, kh, kw, sh, sw, ph, pw, seed):
    if h + 2 * ph < kh or w + 2 * pw < kw:
        kh, kw = min(kh, h + 2 * ph), min(kw, w + 2 * pw)
    case = (n, c_in, h, w, c_out, kh, kw, (sh, sw), (ph, pw))
    x, wt, b, gy = conv_data(case, seed)
    s, p = (sh, sw), (ph, pw)
    assert_close(kc.conv2d(dev(x), dev(wt), dev(b), s, p),
                 ref.conv2d(f64(x), f64(wt), f64(b), s, p))
    assert_close(kc.conv2d_grad_input(dev(gy), dev(wt), (h, w), s, p),
                 ref.conv2d_grad_input(f64(gy), f64(wt), (h, w), s, p))
    assert_close(kc.conv2d_grad_weight(dev(x), dev(gy), (kh, kw), s, p),
                 ref.conv2d_grad_weight(f64(x), f64(gy), (kh, kw), s, p))


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 2), c_in=st.integers(1, 5), c_out=st.integers(1, 6),
       h=st.integers(1, 5), w=st.integers(1, 5), kh=st.integers(1, 4), kw=st.integers(1, 4),
       sh=st.integers(1, 3), sw=st.integers(1, 3), ph=st.integers(0, 2), pw=st.integers(0, 2),
       oph=st.integers(0, 2), opw=st.integers(0, 2), seed=st.integers(0, 2**16),
       needs=st.tuples(st.booleans(), st.booleans(), st.booleans()))
def test_conv_transpose2d_hypothesis(n, c_in, c_out, h, w, kh, kw, sh, sw, ph, pw, oph, opw, seed, needs):
    """Forward and the combined backward (any subset of the three gradients) on drawn shapes."""
    oph, opw = min(oph, sh - 1), min(opw, sw - 1)           # output padding < stride
    s, p, op = (sh, sw), (ph, pw), (oph, opw)
    if (shapes.conv_transpose2d_output_size(h, kh, sh, ph, oph) < 1
            or shapes.conv_transpose2d_output_size(w, kw, sw, pw, opw) < 1):
        ph, pw = 0, 0
        p = (0, 0)
    rng = np.random.default_rng(seed)
    x, wt, b = rand(rng, n, c_in, h, w), rand(rng, c_in, c_out, kh, kw), rand(rng, c_out)
    want = ref.conv_transpose2d(f64(x), f64(wt), f64(b), s, p, op)
    assert_close(kc.conv_transpose2d(dev(x), dev(wt), dev(b), s, p, op), want)
    gy = rand(rng, *want.shape)
    got = kc.conv_transpose2d_backward(dev(x), dev(gy), dev(wt), s, p, needs)
    expected = ref.conv_transpose2d_backward(f64(x), f64(gy), f64(wt), s, p, needs)
    for g, e in zip(got, expected):
        assert (g is None) == (e is None)
        if e is not None:
            assert_close(g, e)


def test_bias_gradient_and_fused_batch_norm_past_one_block_per_channel():
    """More than 256 values a channel, so each thread of the per-channel reductions loops; the
    fused batch norm with running statistics, a drawn momentum and eps."""
    rng = np.random.default_rng(11)
    gy = rand(rng, 3, 2, 10, 11)                     # 330 values per channel
    assert_close(kc.conv2d_grad_bias(dev(gy)), ref.conv2d_grad_bias(f64(gy)))
    x, w, b = rand(rng, 3, 2, 10, 11) * 2 + 1, rand(rng, 2), rand(rng, 2)
    rm, rv = rand(rng, 2), np.abs(rand(rng, 2)) + 0.5
    rm_dev, rv_dev, rm_ref, rv_ref = dev(rm), dev(rv), f64(rm), f64(rv)
    got = kc.batch_norm_leaky_relu(dev(x), rm_dev, rv_dev, dev(w), dev(b), True, 0.3, 1e-3, 0.2)
    want = ref.batch_norm_leaky_relu(f64(x), rm_ref, rv_ref, f64(w), f64(b), True, 0.3, 1e-3, 0.2)
    for g, e in zip(got, want):
        assert_close(g, e)
    assert_close(rm_dev, rm_ref)
    assert_close(rv_dev, rv_ref)
    g_y = rand(rng, *x.shape)
    mean, invstd = host(got[1]), host(got[2])
    got_b = kc.batch_norm_leaky_relu_backward(dev(g_y), dev(x), dev(w), dev(b), dev(mean), dev(invstd), True, 0.2)
    want_b = ref.batch_norm_leaky_relu_backward(f64(g_y), f64(x), f64(w), f64(b), f64(mean), f64(invstd), True, 0.2)
    for g, e in zip(got_b, want_b):
        assert_close(g, e, rtol=3e-4)


# -------------------------------------------------------------------------- conv_transpose2d
# (N, C_in, H, W, C_out, kH, kW, stride, padding, output_padding)
CONVT_CASES = [
    (2, 3, 3, 4, 2, 3, 3, (2, 3), (1, 1), (1, 2)),
    (1, 4, 3, 3, 2, 4, 4, (2, 2), (1, 1), (0, 0)),   # DCGAN generator's k4 s2 p1
    (2, 2, 4, 3, 3, 2, 3, (1, 1), (0, 2), (0, 0)),
    (1, 2, 2, 3, 1, 3, 2, (3, 2), (2, 0), (2, 1)),
    (1, 2, 3, 3, 2, 1, 2, (2, 3), (0, 0), (1, 2)),   # kernel < stride: phases no tap reaches = bias
]


@pytest.mark.parametrize("case", CONVT_CASES, ids=str)
@pytest.mark.parametrize("path", ["default", "tiled"])      # every case here has <= 4 channels
def test_conv_transpose2d(case, path, force):
    force(path)
    n, c_in, h, w, c_out, kh, kw, stride, padding, out_pad = case
    rng = np.random.default_rng(4)
    x, wt, b = rand(rng, n, c_in, h, w), rand(rng, c_in, c_out, kh, kw), rand(rng, c_out)
    want = ref.conv_transpose2d(f64(x), f64(wt), f64(b), stride, padding, out_pad)
    assert_close(kc.conv_transpose2d(dev(x), dev(wt), dev(b), stride, padding, out_pad), want)
    assert_close(kc.conv_transpose2d(dev(x), dev(wt), None, stride, padding, out_pad),
                 ref.conv_transpose2d(f64(x), f64(wt), None, stride, padding, out_pad))
    gy = rand(rng, *want.shape)
    assert_close(kc.conv_transpose2d_grad_input(dev(gy), dev(wt), stride, padding),
                 ref.conv_transpose2d_grad_input(f64(gy), f64(wt), stride, padding))
    assert_close(kc.conv_transpose2d_grad_weight(dev(x), dev(gy), (kh, kw), stride, padding),
                 ref.conv_transpose2d_grad_weight(f64(x), f64(gy), (kh, kw), stride, padding))


# -------------------------------------------------------------------------------- batch norm
def _bn_ops(slope):
    """(forward, backward) of the kernel set ``k`` as plain batch norm (slope None) or fused with a
    leaky ReLU of that slope -- one calling convention for the test below."""
    def fwd(k, x, rm, rv, w, b, training):
        if slope is None:
            return k.batch_norm(x, rm, rv, w, b, training, 0.1, 1e-5)
        return k.batch_norm_leaky_relu(x, rm, rv, w, b, training, 0.1, 1e-5, slope)

    def bwd(k, gy, x, w, b, mean, invstd, training):
        if slope is None:
            return k.batch_norm_backward(gy, x, w, mean, invstd, training)
        return k.batch_norm_leaky_relu_backward(gy, x, w, b, mean, invstd, training, slope)
    return fwd, bwd


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4, 5), (2, 1, 3, 1)], ids=str)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
@pytest.mark.parametrize("slope", [None, 0.2, -0.5], ids=["bn", "bn+lrelu0.2", "bn+lrelu-0.5"])
def test_batch_norm(shape, training, affine, slope):
    """batch_norm and batch_norm_leaky_relu, forward (running statistics included) and backward."""
    fwd, bwd = _bn_ops(slope)
    rng = np.random.default_rng(5)
    c = shape[1]
    x = rand(rng, *shape) * 2 + 3
    weight = rand(rng, c) if affine else None
    bias = rand(rng, c) if affine else None
    rm, rv = rand(rng, c), np.abs(rand(rng, c)) + 0.5
    rm_ref, rv_ref = f64(rm), f64(rv)
    rm_dev, rv_dev = dev(rm), dev(rv)
    got = fwd(kc, dev(x), rm_dev, rv_dev, dev(weight), dev(bias), training)
    want = fwd(ref, f64(x), rm_ref, rv_ref, f64(weight), f64(bias), training)
    for g, w_ in zip(got, want):
        assert_close(g, w_)
    assert_close(rm_dev, rm_ref)  # running statistics updated in place (training) or untouched
    assert_close(rv_dev, rv_ref)

    gy = rand(rng, *shape)
    mean, invstd = host(got[1]), host(got[2])
    got_b = bwd(kc, dev(gy), dev(x), dev(weight), dev(bias), dev(mean), dev(invstd), training)
    want_b = bwd(ref, f64(gy), f64(x), f64(weight), f64(bias), f64(mean), f64(invstd), training)
    for g, w_ in zip(got_b, want_b):
        assert_close(g, w_, rtol=3e-4)


def _identity_bn_backward(gy, x, training):
    """The fused backward (CUDA kernels, reference) with weight 1, bias 0, mean 0, invstd 1 per
    channel, so z is x itself, slope 0.2."""
    c = x.shape[1]
    w, b = np.ones(c, np.float32), np.zeros(c, np.float32)
    mean, invstd = np.zeros(c, np.float32), np.ones(c, np.float32)
    got = kc.batch_norm_leaky_relu_backward(dev(gy), dev(x), dev(w), dev(b), dev(mean), dev(invstd),
                                            training, 0.2)
    want = ref.batch_norm_leaky_relu_backward(f64(gy), f64(x), f64(w), f64(b), f64(mean), f64(invstd),
                                              training, 0.2)
    return got, want


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_leaky_relu_at_the_kink(training):
    # Each channel holds -1, 0, 1 (mean exactly 0) and bias 0, so z == 0 exactly at the middle
    # element in float32 and float64 alike: the mask there must be the reference's (slope).
    x = np.tile(np.array([-1.0, 0.0, 1.0], np.float32)[:, None, None, None], (2, 2, 2, 2))
    gy = np.random.default_rng(8).standard_normal(x.shape).astype(np.float32)
    got, want = _identity_bn_backward(gy, x, training)
    for g, w_ in zip(got, want):
        assert_close(g, w_)


def test_batch_norm_without_running_stats():
    rng = np.random.default_rng(6)
    x = rand(rng, 4, 2, 3, 3)
    got = kc.batch_norm(dev(x), None, None, None, None, True, 0.1, 1e-5)
    want = ref.batch_norm(f64(x), None, None, None, None, True, 0.1, 1e-5)
    for g, w_ in zip(got, want):
        assert_close(g, w_)


# -------------------------------------------------------------------------------- leaky ReLU
@pytest.mark.parametrize("shape", [(7,), (3, 5, 4, 2)], ids=str)
def test_leaky_relu(shape):
    rng = np.random.default_rng(7)
    x, gy = rand(rng, *shape), rand(rng, *shape)
    x.flat[0] = 0.0  # the kink: forward 0, gradient `slope` (1 only where x > 0, as in PyTorch)
    assert_close(kc.leaky_relu(dev(x), 0.2), ref.leaky_relu(f64(x), 0.2))
    assert_close(kc.leaky_relu_backward(dev(gy), dev(x), 0.2),
                 ref.leaky_relu_backward(f64(gy), f64(x), 0.2))


def test_grid_stride_loops_cover_more_elements_than_threads(monkeypatch):
    # Cap the element-wise grids at one block of 256 threads: each thread then loops 4 times.
    monkeypatch.setattr(kc, "EW_MAX_BLOCKS", 1)
    rng = np.random.default_rng(8)
    x, gy = rand(rng, 2, 3, 13, 13), rand(rng, 2, 3, 13, 13)   # 1014 elements
    assert_close(kc.leaky_relu(dev(x), 0.01), ref.leaky_relu(f64(x), 0.01))
    assert_close(kc.leaky_relu_backward(dev(gy), dev(x), 0.01),
                 ref.leaky_relu_backward(f64(gy), f64(x), 0.01))
    y, mean, invstd = kc.batch_norm(dev(x), None, None, None, None, True, 0.1, 1e-5)
    assert_close(y, ref.batch_norm(f64(x), None, None, None, None, True, 0.1, 1e-5)[0])
    gx = kc.batch_norm_backward(dev(gy), dev(x), None, mean, invstd, True)[0]
    want = ref.batch_norm_backward(f64(gy), f64(x), None, f64(host(mean)), f64(host(invstd)),
                                   True)[0]
    assert_close(gx, want, rtol=3e-4)
    y, mean, invstd = kc.batch_norm_leaky_relu(dev(x), None, None, None, None, True, 0.1, 1e-5, 0.2)
    assert_close(y, ref.batch_norm_leaky_relu(f64(x), None, None, None, None, True, 0.1, 1e-5, 0.2)[0])
    gx = kc.batch_norm_leaky_relu_backward(dev(gy), dev(x), None, None, mean, invstd, True, 0.2)[0]
    want = ref.batch_norm_leaky_relu_backward(f64(gy), f64(x), None, None, f64(host(mean)),
                                              f64(host(invstd)), True, 0.2)[0]
    assert_close(gx, want, rtol=3e-4)
    gw = kc._conv_wgrad(dev(x), dev(gy[:, :2]), (1, 1), (1, 1), (0, 0), splits=3)
    assert_close(gw, ref.conv2d_grad_weight(f64(x), f64(gy[:, :2]), (1, 1), (1, 1), (0, 0)))


# ----------------------------------------------------------------------------------- Adam
@pytest.mark.parametrize("size, max_blocks", [(1, None), (1000, None), (1000, 1)])
def test_adam_update(monkeypatch, size, max_blocks):
    """Three steps of the fused kernel, each against the reference's ufuncs in float64 on the same
    float32 inputs (max_blocks 1: each thread of the one block loops over 4 elements)."""
    if max_blocks:
        monkeypatch.setattr(kc, "EW_MAX_BLOCKS", max_blocks)
    rng = np.random.default_rng(9)
    state = [dev(rand(rng, size)), dev(rand(rng, size) * 0.1), dev(np.abs(rand(rng, size)) * 0.01)]
    for step in (1, 2, 3):
        g = rand(rng, size)
        want = [f64(host(a)) for a in state]
        ref.adam_update(*want[:1], f64(g), *want[1:], 2e-4, 0.5, 0.999, 1e-8, step)
        kc.adam_update(*state[:1], dev(g), *state[1:], 2e-4, 0.5, 0.999, 1e-8, step)
        for got, expected in zip(state, want):
            assert_close(got, expected, rtol=1e-6)


@pytest.mark.parametrize("size, max_blocks, weight", [(1, None, 0.001), (1000, None, 0.999),
                                                      (1000, 1, 0.3), (300, None, 1.0)])
def test_lerp_update(monkeypatch, size, max_blocks, weight):
    """The weight-average kernel against the reference in float64, into a separate output and in
    place (max_blocks 1: each thread loops over 4 elements); weight 1 gives end exactly."""
    if max_blocks:
        monkeypatch.setattr(kc, "EW_MAX_BLOCKS", max_blocks)
    rng = np.random.default_rng(10)
    a, end = rand(rng, size), rand(rng, size)
    want = np.empty(size)
    ref.lerp_update(f64(a), f64(end), weight, want)
    out = dev(np.full(size, np.nan, np.float32))
    kc.lerp_update(dev(a), dev(end), weight, out)
    assert_close(out, want, rtol=1e-6)
    in_place = dev(a)
    kc.lerp_update(in_place, dev(end), weight, in_place)
    assert_close(in_place, want, rtol=1e-6)
    if weight == 1.0:
        assert np.array_equal(host(out), end)


def test_launch_scalar_parameters_are_made_once_per_value():
    """The CuPy launch path's by-value parameters (``_launch._param``): one object per (type,
    value), holding that value in the parameter's C type; on a GPU a CuPy ``CPointer`` to its own
    buffer, without CuPy the NumPy scalar the old path passed."""
    a, b = _launch._param("int64", 12544), _launch._param("int64", 12544)
    assert a is b
    for kind, value in [("int64", -3), ("float64", 0.2), ("uint64", 0)]:
        p = _launch._param(kind, value)
        held = p.buffer if hasattr(p, "buffer") else np.asarray(p)
        assert held.dtype == np.dtype(kind) and held.reshape(-1)[0] == value
    assert _launch._param("float64", 4.0) is not _launch._param("int64", 4)
    negative_zero = _launch._param("float64", -0.0)
    held = negative_zero.buffer if hasattr(negative_zero, "buffer") else np.asarray(negative_zero)
    assert np.signbit(held.reshape(-1)[0]) and negative_zero is not _launch._param("float64", 0.0)



@pytest.mark.parametrize("transposed", [False, True])
def test_backward_composes_the_three_gradients(transposed):
    """conv*_backward on the GPU set: the separate kernels' results, None where not asked for."""
    rng = np.random.default_rng(10)
    x = rand(rng, 2, 3, 6, 5)
    if transposed:
        w = rand(rng, 3, 2, 3, 2)
        y = ref.conv_transpose2d(f64(x), f64(w), None, (2, 2), (1, 1), (0, 0))
        gy = rand(rng, *y.shape)
        got = kc.conv_transpose2d_backward(dev(x), dev(gy), dev(w), (2, 2), (1, 1), (True, True, False))
        want = ref.conv_transpose2d_backward(f64(x), f64(gy), f64(w), (2, 2), (1, 1), (True, True, False))
    else:
        w = rand(rng, 4, 3, 3, 2)
        gy = rand(rng, 2, 4, 3, 3)
        got = kc.conv2d_backward(dev(x), dev(gy), dev(w), (2, 2), (1, 1), (False, True, True))
        want = ref.conv2d_backward(f64(x), f64(gy), f64(w), (2, 2), (1, 1), (False, True, True))
    for g, e in zip(got, want):
        if e is None:
            assert g is None
        else:
            assert_close(g, e)


def test_eval_backward_takes_the_slope_at_nan_as_the_reference():
    # The mask is "1 where z > 0, else slope": a NaN input's z is NaN, which takes the slope.
    x = np.array([1.0, np.nan, -2.0, 0.5], np.float32).reshape(4, 1, 1, 1)
    got, want = _identity_bn_backward(np.ones_like(x), x, False)
    np.testing.assert_allclose(host(got[0]).ravel(), [1.0, 0.2, 0.2, 1.0], rtol=1e-6)
    assert_close(got[0], want[0])
    assert np.isnan(host(got[1])).all() and np.isnan(want[1]).all()   # sum of g * x_hat: NaN
    assert_close(got[2], want[2])                                     # 2.4: the slope at NaN
