"""Corners of the CUDA kernels (tensorgan.kernels.cuda) that tests/kernels/test_cuda.py does not
reach, against the NumPy reference in float64, and the launch glue's limits.

Without a GPU the kernels run in Numba's CUDA simulator (tests/conftest.py), one Python thread per
CUDA thread: every case is one to nine blocks.  Covered: tiles partly filled in every dimension
(M, N and K), padding >= the kernel (outputs that see only padding), stride > kernel (input-gradient
phases no tap reaches) on both the direct (conv_thin) and the tiled path, a transposed convolution
from a 1x1 input, batch norm with one or two values a channel, leaky ReLU with slopes 0, 1 and
negative, the optimizer kernels on empty arrays, non-contiguous inputs, and the glue's refusal of
launches past CUDA's grid.y / grid.z limits or the kernels' 32-bit tap index.
"""
from __future__ import annotations

import numpy as np
import pytest

from tensorgan.kernels import cuda as kc
from tensorgan.kernels import reference as ref
from tensorgan.kernels import shapes

from cuda_arrays import xp, dev, host, f64, rand, assert_close, check_batch_norm_leaky_relu  # (shared)


@pytest.fixture
def force(monkeypatch):
    """force("tiled"): outputs of <= 4 channels take the implicit-GEMM kernels, not conv_thin's."""
    return lambda path: monkeypatch.setattr(kc, "_FORCE_TILED", path == "tiled")


# (N, C_in, H, W, C_out, kH, kW, stride, padding), path
CONV_CORNERS = [
    # a 1x1 image with 5 channels: every tile partly filled (M 1 of 64, N 5 of 64, K 5 of 8)
    pytest.param((1, 5, 1, 1, 5, 1, 1, (1, 1), (0, 0)), "default", id="1x1 image, partial tiles"),
    # padding 2 >= kernel 2: the border outputs see only padding (bias alone), 6 x 6 from 3 x 3
    pytest.param((1, 2, 3, 3, 3, 2, 2, (1, 1), (2, 2)), "default", id="padding >= kernel, direct"),
    pytest.param((1, 2, 3, 3, 3, 2, 2, (1, 1), (2, 2)), "tiled", id="padding >= kernel, tiled"),
    # stride 3 > kernel 2: 5 of the input gradient's 9 stride phases get no tap (zeros); input
    # pixels no output reads; C_in = 3 takes conv_thin's input gradient, "tiled" the phase GEMM
    pytest.param((1, 3, 7, 6, 5, 2, 2, (3, 3), (1, 1)), "default", id="stride > kernel, direct"),
    pytest.param((1, 3, 7, 6, 5, 2, 2, (3, 3), (1, 1)), "tiled", id="stride > kernel, tiled"),
]


@pytest.mark.parametrize("case, path", CONV_CORNERS)
def test_conv2d_corner_shapes(case, path, force):
    force(path)
    n, c_in, h, w, c_out, kh, kw, stride, padding = case
    rng = np.random.default_rng(28)
    oh = shapes.conv2d_output_size(h, kh, stride[0], padding[0])
    ow = shapes.conv2d_output_size(w, kw, stride[1], padding[1])
    x, wt, b = rand(rng, n, c_in, h, w), rand(rng, c_out, c_in, kh, kw), rand(rng, c_out)
    gy = rand(rng, n, c_out, oh, ow)
    # "tiled" changes only the kernels whose output has <= 4 channels (conv_thin.THIN_C)
    if path == "default" or c_out <= 4:
        assert_close(kc.conv2d(dev(x), dev(wt), dev(b), stride, padding),
                     ref.conv2d(f64(x), f64(wt), f64(b), stride, padding))
        assert_close(kc.conv2d_grad_weight(dev(x), dev(gy), (kh, kw), stride, padding),
                     ref.conv2d_grad_weight(f64(x), f64(gy), (kh, kw), stride, padding))
    if path == "default" or c_in <= 4:
        assert_close(kc.conv2d_grad_input(dev(gy), dev(wt), (h, w), stride, padding),
                     ref.conv2d_grad_input(f64(gy), f64(wt), (h, w), stride, padding))


@pytest.mark.parametrize("path", ["default", "tiled"])
def test_conv_transpose2d_from_a_1x1_input(path, force):
    """A generator's projection: a 1x1 input spread by a 4x4 kernel (every output pixel one tap)."""
    force(path)
    rng = np.random.default_rng(29)
    x, wt, b = rand(rng, 1, 3, 1, 1), rand(rng, 3, 2, 4, 4), rand(rng, 2)
    s, p = (1, 1), (0, 0)
    want = ref.conv_transpose2d(f64(x), f64(wt), f64(b), s, p, (0, 0))
    assert_close(kc.conv_transpose2d(dev(x), dev(wt), dev(b), s, p, (0, 0)), want)
    if path == "tiled":            # the backward's kernels are covered by test_cuda's cases
        return
    gy = rand(rng, *want.shape)
    assert_close(kc.conv_transpose2d_grad_input(dev(gy), dev(wt), s, p),
                 ref.conv_transpose2d_grad_input(f64(gy), f64(wt), s, p))
    assert_close(kc.conv_transpose2d_grad_weight(dev(x), dev(gy), (4, 4), s, p),
                 ref.conv_transpose2d_grad_weight(f64(x), f64(gy), (4, 4), s, p))


@pytest.mark.parametrize("shape, slope", [((1, 1), 0.0), ((1, 1, 1, 2), 1.0), ((2, 1), -0.5)],
                         ids=["1 value, slope 0", "2 values, plain", "2 values, slope -0.5"])
def test_batch_norm_with_one_or_two_values_a_channel(shape, slope):
    """count = N*H*W of 1 (variance 0, invstd 1/sqrt(eps), running variance fed the biased 0 as
    the reference's max(count - 1, 1) does) or 2; forward, running statistics and backward."""
    rng = np.random.default_rng(30)
    x, w, b = rand(rng, *shape), rand(rng, 1), rand(rng, 1)
    rm, rv = rand(rng, 1), np.abs(rand(rng, 1)) + 0.5
    check_batch_norm_leaky_relu(x, w, b, rm, rv, True, slope, rand(rng, *shape))


@pytest.mark.parametrize("slope", [0.0, 1.0, -0.5])
def test_leaky_relu_slopes_zero_one_and_negative(slope):
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0, np.nan], np.float32)
    gy = np.array([1.0, -2.0, 3.0, -4.0, 5.0, 6.0], np.float32)
    assert_close(kc.leaky_relu(dev(x), slope), ref.leaky_relu(f64(x), slope))
    assert_close(kc.leaky_relu_backward(dev(gy), dev(x), slope),
                 ref.leaky_relu_backward(f64(gy), f64(x), slope))
    if slope == 1.0:                                   # the identity, bit for bit
        assert np.array_equal(host(kc.leaky_relu(dev(x), slope)), x, equal_nan=True)


def test_optimizer_kernels_take_empty_parameters():
    empty = dev(np.zeros(0))
    kc.adam_update(empty, empty, empty, empty, 1e-3, 0.9, 0.999, 1e-8, 1)
    kc.lerp_update(empty, empty, 0.3, empty)
    kc.lerp_update(empty, empty, 0.7, empty)


def test_non_contiguous_inputs_are_copied_once():
    rng = np.random.default_rng(31)
    x = xp.asarray(rand(rng, 1, 2, 5, 4)).transpose(0, 1, 3, 2)    # (1, 2, 4, 5), not C-order
    assert not x.flags.c_contiguous
    xh = f64(host(x))
    wt = rand(rng, 3, 2, 3, 3)
    assert_close(kc.conv2d(x, dev(wt), None, (1, 1), (1, 1)),
                 ref.conv2d(xh, f64(wt), None, (1, 1), (1, 1)))
    assert_close(kc.conv2d_grad_bias(x), ref.conv2d_grad_bias(xh))
    assert_close(kc.leaky_relu(x, 0.2), ref.leaky_relu(xh, 0.2))
    assert_close(kc.leaky_relu_backward(x, x[:, ::-1], 0.2),
                 ref.leaky_relu_backward(xh, xh[:, ::-1], 0.2))


def test_tiled_launches_past_the_grid_limits_are_refused(monkeypatch):
    # CUDA's limit is 65535 blocks on grid.y and grid.z (4,194,240 channels in 64-channel tiles);
    # lowered here so that small arrays reach it.  Nothing is launched: the checks come first.
    monkeypatch.setattr(kc, "_MAX_GRID_YZ", 1)
    x = xp.zeros((1, 65, 3, 3), dtype=np.float32)
    w = xp.zeros((65, 65, 1, 1), dtype=np.float32)
    for call in (lambda: kc.conv2d(x, w, None, (1, 1), (0, 0)),
                 lambda: kc.conv2d_grad_input(x, w, (3, 3), (1, 1), (0, 0)),
                 lambda: kc.conv2d_grad_weight(x, x, (1, 1), (1, 1), (0, 0))):
        with pytest.raises(ValueError, match=r"65 channels: 2 tiles of 64, over CUDA's grid\.y"):
            call()
    monkeypatch.setattr(kc, "_MAX_GRID_YZ", 8)
    gy = xp.zeros((1, 5, 1, 1), dtype=np.float32)
    w = xp.zeros((5, 5, 1, 1), dtype=np.float32)
    with pytest.raises(ValueError, match=r"9 stride phases .* grid\.z limit \(8\)"):
        kc.conv2d_grad_input(gy, w, (3, 3), (3, 3), (0, 0))
    with pytest.raises(ValueError, match=r"9 stride phases"):
        kc.conv_transpose2d(gy, w, None, (3, 3), (0, 0), (0, 0))


def test_tiled_launches_past_the_32_bit_tap_index_are_refused(monkeypatch):
    # The real limit is 2**31 taps (C x kH x kW) a channel, 8 GB of weights per output channel.
    monkeypatch.setattr(kc, "_MAX_TAPS", 5 * 3 * 3)
    x = xp.zeros((1, 5, 4, 4), dtype=np.float32)
    w = xp.zeros((5, 5, 3, 3), dtype=np.float32)
    for call in (lambda: kc.conv2d(x, w, None, (1, 1), (1, 1)),
                 lambda: kc.conv2d_grad_input(x, w, (4, 4), (1, 1), (1, 1)),
                 lambda: kc.conv2d_grad_weight(x, x, (3, 3), (1, 1), (1, 1))):
        with pytest.raises(ValueError, match="45 weight taps a channel"):
            call()
    # conv_thin's direct kernels stage the taps in chunks of KC: no such limit, no refusal
    kc.conv2d(x[:, :, :1, :1], w[:2], None, (1, 1), (1, 1))
