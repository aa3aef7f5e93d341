"""CUDA kernel leftovers (session 29): the bias gradient of small planes (1 < H x W < 8) read as
coalesced rows, batch norm's backward sums with invstd applied once, bn_stats' launch bounds
reaching the PTX, and conv_thin's weight staging stepping groups without a division a weight.

Without a GPU the kernels run in Numba's CUDA simulator (tests/conftest.py): shapes are tiny.
"""
from __future__ import annotations

import numpy as np
import pytest

from tensorgan.kernels import cuda as kc
from tensorgan.kernels import reference as ref

from cuda_arrays import (assert_close, check_batch_norm_leaky_relu, compiled_launch_bounds, dev, f64, host,
                         per_channel, rand)  # (launched: conftest's)


# ---------------------------------------------------------- bias gradient of small planes (rows)
SMALL_PLANES = [
    (3, 5, 1, 2),    # hw 2: 16 channels a block, one partial block
    (4, 9, 2, 2),    # hw 4: 8 a block, the second block holds one channel
    (2, 7, 1, 3),    # hw 3: 10 a block, 30 of 32 lanes live
    (9, 6, 1, 7),    # hw 7: 4 a block, 28 lanes; 9 rows: thread row 0 walks two
    (17, 13, 5, 1),  # hw 5: 6 a block, 3 blocks, rows walked three times
]


@pytest.mark.parametrize("shape", SMALL_PLANES, ids=str)
def test_small_plane_bias_gradient_reads_rows(shape, launched):
    gy = rand(np.random.default_rng(1), *shape)
    assert_close(kc.conv2d_grad_bias(dev(gy)), ref.conv2d_grad_bias(f64(gy)))
    assert launched == ["channel_sum_rows_kernel"]


@pytest.mark.parametrize("shape", [(4, 9, 2, 2), (9, 6, 1, 7)], ids=str)
def test_both_bias_gradient_kernels_agree_on_small_planes(shape, monkeypatch, launched):
    gy = rand(np.random.default_rng(2), *shape) * 3 + 1
    rows = host(kc.conv2d_grad_bias(dev(gy)))
    per_channel(monkeypatch)
    blocks = host(kc.conv2d_grad_bias(dev(gy)))
    assert launched == ["channel_sum_rows_kernel", "channel_sum_kernel"]
    np.testing.assert_allclose(rows, blocks, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rows, gy.astype(np.float64).sum(axis=(0, 2, 3)), rtol=1e-5,
                               atol=1e-5)


def test_small_plane_bias_gradient_is_reproducible():
    gy = dev(rand(np.random.default_rng(3), 5, 11, 1, 3))
    first = host(kc.conv2d_grad_bias(gy))
    assert np.array_equal(first, host(kc.conv2d_grad_bias(gy)))


@pytest.mark.parametrize("n, c, hw, rows", [
    (64, 512, 4, True),     # D's last conv of a 32 x 32 image: 2 x 2 planes
    (64, 256, 16, False),   # 4 x 4: 64-byte planes fill their sectors
    (64, 64, 7, True),
    (64, 64, 8, False),
    (512, 64, 4, False),    # long columns, 8 blocks: the per-channel kernel keeps SMs busy
    (512, 1024, 4, True),   # ... unless the rows grid has 128 blocks
    (512, 4096, 1, True),   # hw = 1: the batch-norm rule (_rows_reduction)
    (512, 4095, 1, False),
])
def test_bias_gradient_layout_rule(n, c, hw, rows):
    assert kc._bias_rows(n, c, hw) is rows
    if hw == 1:
        assert kc._rows_reduction(n, c, hw) is rows


def test_small_plane_bias_gradient_has_no_32_bit_decode(monkeypatch):
    """The rows kernel decodes nothing: the per-channel kernel's 2**31 limit does not apply."""
    monkeypatch.setattr(kc, "_MAX_FASTDIV", 6)
    gy = np.ones((3, 2, 1, 3), np.float32)
    np.testing.assert_array_equal(host(kc.conv2d_grad_bias(dev(gy))), [9.0, 9.0])
    per_channel(monkeypatch)
    with pytest.raises(ValueError, match=r"conv2d_grad_bias over 9 values a channel"):
        kc.conv2d_grad_bias(dev(gy))


# ------------------------------------------------ batch norm backward: sum g * d, times invstd once
@pytest.mark.parametrize("path", ["per channel", "rows"])
def test_batch_norm_weight_gradient_with_invstd_applied_once(path, monkeypatch, launched):
    """Far from unit scale (mean 40, std 0.05: invstd ~20) gweight = invstd * sum g * (x - mean)
    still matches the float64 reference."""
    if path == "per channel":
        per_channel(monkeypatch)
    rng = np.random.default_rng(4)
    shape = (6, 3, 1, 1)
    c = shape[1]
    x = rand(rng, *shape) * 0.05 + 40
    check_batch_norm_leaky_relu(x, rand(rng, c), rand(rng, c), rand(rng, c),
                                np.abs(rand(rng, c)) + 0.5, True, 0.2, rand(rng, *shape))
    want = "bn_backward_reduce_kernel" if path == "per channel" else "bn_backward_reduce_rows_kernel"
    assert want in launched


# --------------------------------------------------------------- bn_stats' launch bounds in the PTX
def test_bn_stats_compiles_with_its_launch_bounds():
    """The glue's PTX carries ``.maxntid 256`` / ``.minnctapersm 8`` (ptxas: 32 registers, 8 blocks
    an SM; test_ptx checks that nothing spills); bn_backward_reduce stays unbounded (it would spill)."""
    assert compiled_launch_bounds("reductions", "bn_stats_kernel", "bn_backward_reduce_kernel") == {
        "bn_stats_kernel": [256, 8, True], "bn_backward_reduce_kernel": None}


# ------------------------------------------- conv_thin: weight staging without a division a weight
@pytest.mark.parametrize("c_in, c_out, k, pad", [
    (57, 2, (3, 3), 1),     # 9 taps a channel: 56 channels a chunk, two chunks; groups wrap
    (4, 3, (9, 15), 0),     # 135 taps a channel, more than the block's 128 threads
    (5, 1, (1, 7), (0, 3)),
], ids=["khw 9, two chunks", "khw 135", "khw 7"])
def test_thin_forward_stages_every_weight(c_in, c_out, k, pad):
    pad = (pad, pad) if isinstance(pad, int) else pad
    rng = np.random.default_rng(5)
    x = rand(rng, 1, c_in, 9 if k[0] == 9 else 3, 15 if k[1] == 15 else 3)
    w = rand(rng, c_out, c_in, *k)
    assert kc._thin_output(c_out, *k)
    assert_close(kc.conv2d(dev(x), dev(w), None, (1, 1), pad),
                 ref.conv2d(f64(x), f64(w), None, (1, 1), pad))


@pytest.mark.parametrize("c_in, c_out, k", [(2, 57, 3), (3, 5, 7)], ids=["two chunks", "khw 49"])
def test_thin_input_gradient_stages_every_weight(c_in, c_out, k):
    rng = np.random.default_rng(6)
    w = rand(rng, c_out, c_in, k, k)
    gy = rand(rng, 1, c_out, 3, 3)
    p = k // 2
    assert kc._thin_output(c_in, k, k)
    assert_close(kc.conv2d_grad_input(dev(gy), dev(w), (3, 3), (1, 1), (p, p)),
                 ref.conv2d_grad_input(f64(gy), f64(w), (3, 3), (1, 1), (p, p)))
