"""The CUDA reductions (kernels/cuda/reductions.py) against the float64 NumPy reference: the
per-channel kernels' magic-number decode of a value's sample (no per-element division), the
coalesced (N, C) bias gradient of a 1 x 1 output, the glue's choice and 32-bit limit; and the
thin input-gradient kernel's launch bounds reaching the PTX the glue loads.

Without a GPU the kernels run in Numba's CUDA simulator (tests/conftest.py), one Python thread per
CUDA thread: the shapes are small.
"""
from __future__ import annotations

import numpy as np
import pytest

from tensorgan.kernels import cuda as kc
from tensorgan.kernels import reference as ref

from cuda_arrays import (assert_close, check_batch_norm_leaky_relu, compiled_launch_bounds, dev, f64,
                         per_channel, rand)  # (launched: conftest's)


# ------------------------------------------------------------------- conv2d_grad_bias (channel_sum)
@pytest.mark.parametrize("shape", [
    (1, 3, 1, 2),      # N*H*W = 2, hw = 2
    (2, 5, 1, 1),      # hw = 1 through the per-channel kernel (forced below)
    (3, 2, 7, 13),     # 273 values a channel: a thread's walk crosses planes of 91 mid-way
    (5, 3, 3, 3),      # hw = 9: a 256-thread stride is 28 planes and 4 values
])
def test_per_channel_bias_gradient_decodes_every_value(shape, monkeypatch, launched):
    per_channel(monkeypatch)
    gy = rand(np.random.default_rng(1), *shape)
    assert_close(kc.conv2d_grad_bias(dev(gy)), ref.conv2d_grad_bias(f64(gy)))
    assert launched == ["channel_sum_kernel"]


@pytest.mark.parametrize("n, c", [(1, 1), (2, 3), (9, 37), (17, 64)],
                         ids=["1 value", "2 rows", "partial block, rows loop twice", "2 blocks"])
def test_bias_gradient_of_a_1x1_output_reads_rows(n, c, launched):
    gy = rand(np.random.default_rng(2), n, c, 1, 1)
    assert_close(kc.conv2d_grad_bias(dev(gy)), ref.conv2d_grad_bias(f64(gy)))
    assert launched == ["channel_sum_rows_kernel"]


def test_both_bias_gradient_kernels_agree_on_a_1x1_output(monkeypatch):
    gy = rand(np.random.default_rng(3), 11, 6, 1, 1)
    rows = np.asarray(kc.conv2d_grad_bias(dev(gy)))
    per_channel(monkeypatch)
    np.testing.assert_allclose(rows, np.asarray(kc.conv2d_grad_bias(dev(gy))), rtol=1e-6,
                               atol=1e-6)
    np.testing.assert_allclose(rows, gy.astype(np.float64).sum(axis=(0, 2, 3)), rtol=1e-5,
                               atol=1e-5)


def test_bias_gradient_refuses_values_past_the_32_bit_decode(monkeypatch):
    monkeypatch.setattr(kc, "_MAX_FASTDIV", 8)   # hw = 8: the per-channel kernel (smaller
    with pytest.raises(ValueError, match=r"conv2d_grad_bias over 8 values a channel \(N x H x W\)"):
        kc.conv2d_grad_bias(dev(np.ones((1, 3, 2, 4))))   # planes read rows, decoding nothing)
    kc.conv2d_grad_bias(dev(np.ones((6, 3, 1, 1))))   # the rows kernel decodes nothing


# ----------------------------------------------------------------- batch norm's per-channel sums
@pytest.mark.parametrize("shape, slope", [
    ((1, 3, 1, 1), 0.2),    # N*H*W = 1: variance 0
    ((1, 2, 1, 2), -0.5),   # N*H*W = 2 in one sample
    ((3, 5, 1, 1), 0.0),    # (N, C) through the per-channel kernels (forced)
    ((2, 3, 11, 13), 0.2),  # 286 values a channel: past one stride of 256, across planes
], ids=["1 value", "2 values", "hw 1", "286 values"])
def test_per_channel_batch_norm_sums(shape, slope, monkeypatch, launched):
    per_channel(monkeypatch)
    rng = np.random.default_rng(4)
    c = shape[1]
    x = rand(rng, *shape) * 2 + 1
    check_batch_norm_leaky_relu(x, rand(rng, c), rand(rng, c), rand(rng, c),
                                np.abs(rand(rng, c)) + 0.5, True, slope, rand(rng, *shape))
    assert launched[0] == "bn_stats_kernel" and "bn_backward_reduce_kernel" in launched


def test_batch_norm_refuses_values_a_channel_past_the_32_bit_decode(monkeypatch):
    monkeypatch.setattr(kc, "_MAX_FASTDIV", 6)
    x, one = dev(np.ones((2, 1, 3))), dev(np.ones(1))
    with pytest.raises(ValueError, match=r"batch norm over 6 values a channel"):
        kc.batch_norm(x, dev(np.zeros(1)), one, None, None, True, 0.1, 1e-5)
    with pytest.raises(ValueError, match=r"batch norm over 6 values a channel"):
        kc.batch_norm_backward(x, x, one, dev(np.zeros(1)), one, True)


# ------------------------------------------------------- conv_thin's input gradient (no division a tap)
@pytest.mark.parametrize("c_in, c_out, hw, k, s, p", [
    (3, 5, (5, 7), 3, 1, 1),     # stride 1: every tap on the lattice
    (1, 2, (7, 6), 4, 2, 1),     # stride 2: the taps of a pixel's phase, rows stepping back
    (2, 3, (8, 5), 3, 3, 2),     # stride 3 > kernel - 1 on some pixels: no tap at all
    (4, 1, (3, 3), 2, (2, 1), 0),  # mixed strides, no padding
])
def test_thin_input_gradient_walks_the_stride_lattice(c_in, c_out, hw, k, s, p):
    s, p = (s, s) if isinstance(s, int) else s, (p, p)
    rng = np.random.default_rng(5)
    w = rand(rng, c_out, c_in, k, k)
    oh, ow = ((n + 2 * pp - k) // ss + 1 for n, pp, ss in zip(hw, p, s))
    gy = rand(rng, 2, c_out, oh, ow)
    assert kc._thin_output(c_in, k, k)
    assert_close(kc.conv2d_grad_input(dev(gy), dev(w), hw, s, p),
                 ref.conv2d_grad_input(f64(gy), f64(w), hw, s, p))


# ---------------------------------------------------------------- launch bounds of conv_thin's dgrad
def test_thin_input_gradient_compiles_with_its_launch_bounds(tmp_path):
    """The glue's PTX (what CuPy loads) carries ``.maxntid 128`` / ``.minnctapersm 8``, so ptxas
    caps the kernel at 64 registers (8 blocks an SM); test_ptx checks that it does not spill."""
    assert compiled_launch_bounds("conv_thin", "conv2d_dgrad_thin_kernel", "conv2d_fwd_thin_kernel") == {
        "conv2d_dgrad_thin_kernel": [128, 8, True], "conv2d_fwd_thin_kernel": None}
