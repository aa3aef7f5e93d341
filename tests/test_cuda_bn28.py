"""Batch norm's CUDA launch layouts (kernels/cuda/batchnorm.py, reductions.py) against the NumPy
reference in float64: the planes layout (hw >= 32: a channel per plane, no per-element division),
the rows layout (hw < 32: a channel per column), the coalesced (N, C) reductions, the magic-number
division they decode indices with, and the glue's choice and limits.

Without a GPU the kernels run in Numba's CUDA simulator (tests/conftest.py), one Python thread per
CUDA thread: the shapes are small and the grids are capped (monkeypatched) to make every
grid-stride loop turn more than once.
"""
from __future__ import annotations

import numpy as np
import pytest

from tensorgan.kernels import cuda as kc
from tensorgan.kernels.cuda.tiles import fastdiv_magic

from cuda_arrays import dev, host, check_batch_norm_leaky_relu  # (shared CUDA test helpers)


# ------------------------------------------------------------------------ magic-number division
def _divisors():
    small = range(1, 600)
    powers = [2 ** k + e for k in range(10, 31) for e in (-1, 0, 1)]
    return [*small, *powers, 3 * 7 * 9973, 12544, 2 ** 31 - 1]


def test_fastdiv_magic_is_exact_for_31_bit_numerators():
    rng = np.random.default_rng(0)
    top = 2 ** 31 - 1
    for d in _divisors():
        mul, shift = fastdiv_magic(d)
        assert 0 < mul < 2 ** 32 and 31 <= shift <= 62
        q = np.arange(0, top // d + 1, max(1, top // d // 50), dtype=np.int64)
        a = np.concatenate([q * d, q * d - 1, q * d + d - 1, [0, d - 1, top],
                            rng.integers(0, top, 64)])
        a = np.unique(a[(a >= 0) & (a <= top)]).astype(np.uint64)
        # the device arithmetic: a 32 x 32 -> 64-bit product, shifted (never overflows: < 2**63)
        got = (a * np.uint64(mul)) >> np.uint64(shift)
        np.testing.assert_array_equal(got, a // np.uint64(d), err_msg=f"divisor {d}")


@pytest.mark.parametrize("d", [0, -3, 2 ** 31])
def test_fastdiv_magic_refuses_divisors_out_of_range(d):
    with pytest.raises(ValueError, match=str(d)):
        fastdiv_magic(d)


# ----------------------------------------------------------------------------- fwd + backward
def _check_bn(shape, slope=0.2, training=True, seed=1, nan=False):
    """Fused batch norm + leaky ReLU, forward (running statistics) and backward, vs the reference."""
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    if nan:
        x.flat[0] = np.nan
    w, b = rng.standard_normal(c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    rm, rv = rng.standard_normal(c).astype(np.float32), np.full(c, 0.7, np.float32)
    gy = rng.standard_normal(shape).astype(np.float32)
    check_batch_norm_leaky_relu(x, w, b, rm, rv, training, slope, gy)


@pytest.fixture
def small_grids(monkeypatch):
    """One block along each grid axis: every thread walks several planes / rows / columns."""
    monkeypatch.setattr(kc, "EW_MAX_BLOCKS", 1)
    monkeypatch.setattr(kc, "_MAX_GRID_YZ", 1)


def test_planes_layout_loops_over_planes_and_partial_warps(small_grids):
    # hw = 33: a warp and one value per plane (31 lanes idle on the second pass); 10 planes on
    # one block of 8 plane rows: the loop over planes beyond grid.y turns twice
    _check_bn((10, 1, 3, 11))


def test_planes_layout_with_several_blocks_along_a_plane(monkeypatch):
    # hw = 300 > 32 * 5: two blocks along x, each thread 4-5 values a plane, 2 planes
    monkeypatch.setattr(kc, "_EW_VALUES_PER_THREAD", 5)
    _check_bn((2, 1, 300), slope=-0.5, training=False)


def test_rows_layout_batch_norm_1d(small_grids):
    # hw = 1, C = 5: 27 of the 32 channel lanes spare; 19 rows over 8 row lanes; NaN in x
    # takes the slope in the backward, as in the reference
    _check_bn((19, 5), nan=True)


def test_rows_layout_small_planes():
    # 1 < hw = 3 < 32: the channel of a column is column // 3 (magic division per column)
    _check_bn((4, 1, 3), slope=1.0)


# ------------------------------------------------------------------ the (N, C) reductions' choice
def test_dcgan_generator_projection_is_batchnorm1d_of_12544_features():
    from tensorgan import nn
    from tensorgan.models.dcgan import Generator
    norms = [m for m in Generator() if isinstance(m, nn.BatchNorm1d)]
    assert [m.num_features for m in norms] == [12544]
    assert kc._rows_reduction(64, 12544, 1)


@pytest.mark.parametrize("n, c, hw, rows", [
    (64, 12544, 1, True),      # the DCGAN generator's projection, batch 64
    (256, 8, 1, True),         # at most 32 rows a thread
    (1024, 64, 1, False),      # few channels, long columns: one block per channel
    (1024, 4096, 1, True),     # >= 128 blocks of 32 channels
    (64, 128, 49, False),      # BatchNorm2d: the plane kernels
])
def test_rows_reduction_rule(n, c, hw, rows):
    assert kc._rows_reduction(n, c, hw) is rows


def test_both_reductions_agree_on_batch_norm_1d(monkeypatch):
    """The same (N, C) input through the rows kernels and the one-block-per-channel kernels."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, 1)) * 3 - 1).astype(np.float32)   # count 2: unbiased var x2
    gy = rng.standard_normal(x.shape).astype(np.float32)
    w, b = rng.standard_normal(1).astype(np.float32), rng.standard_normal(1).astype(np.float32)
    results = []
    for rows in (True, False):
        monkeypatch.setattr(kc, "_ROWS_MAX_BATCH", 256 if rows else 0)
        assert kc._rows_reduction(2, 1, 1) is rows
        rm, rv = dev(np.zeros(1)), dev(np.ones(1))
        y, mean, invstd = kc.batch_norm_leaky_relu(dev(x), rm, rv, dev(w), dev(b), True, 0.1,
                                                   1e-5, 0.2)
        grads = kc.batch_norm_leaky_relu_backward(dev(gy), dev(x), dev(w), dev(b), mean, invstd,
                                                  True, 0.2)
        results.append([host(a) for a in (y, mean, invstd, rm, rv, *grads)])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_batch_norm_refuses_planes_past_the_32_bit_decode(monkeypatch):
    monkeypatch.setattr(kc, "_MAX_FASTDIV", 6)
    stats = dev(np.zeros(3)), dev(np.ones(3))            # eval: the element-wise pass alone
    with pytest.raises(ValueError, match=r"6 planes \(N x C\)"):
        kc.batch_norm(dev(np.ones((2, 3, 32))), *stats, None, None, False, 0.1, 1e-5)
    with pytest.raises(ValueError, match=r"6 values a sample"):
        kc.batch_norm(dev(np.ones((1, 3, 2))), *stats, None, None, False, 0.1, 1e-5)
