"""The tiled convolution kernels' 8 x 4 register tile (128 threads a block, ``tiles.multiply_tile``
reading A's two row groups and B's columns as vector shared loads): the thread layout covers the
64 x 64 tile once, one K step is the outer-product sum it claims, and the three kernels (forced
onto the tiled path) match the float64 reference where the new layout has edges -- a row tile
ending inside a thread's 4-row group or between its two groups, samples ending inside a group,
channel counts that are not a multiple of 4, a second row or column tile, strides 1 / 2 / 3,
padding, 1 x 1 kernels, batch 1, and split-K weight gradients.

Without a GPU these run under Numba's CUDA simulator (tests/conftest.py), hence the tiny shapes.
tests/kernels/test_ptx.py checks the compiled side: 3 ``ld.shared.v4.f32``, <= 128 registers,
no spills, 25% occupancy on sm_80 and sm_90.
"""
from __future__ import annotations

import numpy as np
import pytest

from tensorgan.kernels import cuda as kc
from tensorgan.kernels.cuda import tiles

from cuda_arrays import check_conv, f64


def _thread_cells(tid: int) -> list[tuple[int, int]]:
    """The (row, col) cells of the C tile that thread ``tid``'s accumulator holds."""
    tx, ty = tid % tiles.DIM_X, tid // tiles.DIM_X
    return [(int(tiles.tile_row.py_func(tx, i)), ty * tiles.TN + j)
            for i in range(tiles.TM) for j in range(tiles.TN)]


def test_threads_cover_the_tile_once():
    assert (tiles.THREADS, tiles.TM, tiles.TN) == (128, 8, 4)
    cells = [c for tid in range(tiles.THREADS) for c in _thread_cells(tid)]
    assert sorted(cells) == [(r, c) for r in range(tiles.BM) for c in range(tiles.BN)]


def test_a_threads_rows_are_two_aligned_vector_groups():
    # What lets each k read A with two 16-byte loads: VEC consecutive rows starting at a multiple
    # of VEC, twice, BM // 2 apart.
    for tid in (0, 1, 7, 8, 127):
        rows = sorted({r for r, _ in _thread_cells(tid)})
        lo, hi = rows[:tiles.VEC], rows[tiles.VEC:]
        assert lo[0] % tiles.VEC == 0 and lo == list(range(lo[0], lo[0] + tiles.VEC))
        assert hi == [r + tiles.BM // 2 for r in lo]


@pytest.mark.parametrize("tid", [0, 5, 42, 127])
def test_multiply_tile_adds_one_k_steps_outer_products(tid):
    rng = np.random.default_rng(tid)
    As = rng.standard_normal((tiles.BK, tiles.BM)).astype(np.float32)
    Bs = rng.standard_normal((tiles.BK, tiles.BN_PAD)).astype(np.float32)
    acc = rng.standard_normal((tiles.TM, tiles.TN)).astype(np.float32)
    start = acc.astype(np.float64)
    tx, ty = tid % tiles.DIM_X, tid // tiles.DIM_X
    tiles.multiply_tile.py_func(As, Bs, acc, np.zeros(tiles.TM, np.float32),
                                np.zeros(tiles.TN, np.float32), tx, ty)
    rows = [int(tiles.tile_row.py_func(tx, i)) for i in range(tiles.TM)]
    cols = [ty * tiles.TN + j for j in range(tiles.TN)]
    want = start + f64(As)[:, rows].T @ f64(Bs)[:, cols]
    np.testing.assert_allclose(acc, want, rtol=1e-5, atol=1e-5)


# (N, C_in, H, W, C_out, kH, kW, stride, padding); every case runs the tiled kernels.
CASES = [
    (1, 3, 9, 10, 7, 3, 3, (2, 1), (1, 1)),   # batch 1, M = 50: rows end in the 2nd row group; K = 27
    (2, 2, 3, 3, 5, 1, 1, (1, 1), (0, 0)),    # 1 x 1, OH*OW = 9: a sample ends inside a 4-row group
    (1, 2, 9, 9, 3, 3, 3, (3, 3), (1, 1)),    # stride 3, padding
    (1, 1, 4, 4, 65, 1, 1, (1, 1), (0, 0)),   # C_out = 65: a second column tile of one channel
    (1, 65, 4, 4, 2, 1, 1, (2, 2), (1, 1)),   # C_in = 65: the input gradient's second column tile
    (1, 2, 9, 8, 2, 1, 1, (1, 1), (0, 0)),    # M = 72: a second row tile of 8 rows
]


@pytest.fixture(autouse=True)
def _tiled(monkeypatch):
    monkeypatch.setattr(kc, "_FORCE_TILED", True)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv2d_forward_8x4_tile(case):
    check_conv(case, 10, "forward")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv2d_grad_input_8x4_tile(case):
    check_conv(case, 11, "grad_input")


@pytest.mark.parametrize("splits", [1, 2, 4])
@pytest.mark.parametrize("case", [CASES[0], CASES[1], CASES[3]], ids=str)
def test_conv2d_grad_weight_8x4_tile(case, splits):
    check_conv(case, 12, "grad_weight", splits)
