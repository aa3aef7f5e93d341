"""The tiled convolution kernels' pipeline (session 30): staged loads one K step ahead in registers
(``tiles.commit_stage`` stores them after the previous multiply) and the output tile stored
through a per-warp shared transpose (``tiles.stage_row_group``: a warp store is 32 consecutive
rows of one column; a thread decodes 2 rows, not 8).

Unit checks of the two layouts with the helpers' Python functions, then the three kernels (forced
onto the tiled path, Numba's CUDA simulator without a GPU) against the float64 reference where the
new code has edges: a warp's 16 columns ending inside the tensor's channels, the second row group
partly or wholly past M, one K step (the prefetch past K loads only zeros), K a multiple of 8,
a last K step that is partial, split-K chunks.  tests/kernels/test_ptx.py checks the compiled side.
"""
from __future__ import annotations

import numpy as np
import pytest

from tensorgan.kernels import cuda as kc
from tensorgan.kernels import reference as ref
from tensorgan.kernels.cuda import tiles

from cuda_arrays import assert_close, check_conv, dev, f64, xp


def _thread_tile(c_tile: np.ndarray, tid: int) -> np.ndarray:
    """Thread ``tid``'s ``TM x TN`` accumulators, cut from a whole ``BM x BN`` C tile."""
    tx, ty = tid % tiles.DIM_X, tid // tiles.DIM_X
    rows = [int(tiles.tile_row.py_func(tx, i)) for i in range(tiles.TM)]
    return c_tile[np.ix_(rows, [ty * tiles.TN + j for j in range(tiles.TN)])].copy()


@pytest.mark.parametrize("group", [0, 1])
def test_stage_row_group_gives_each_lane_one_row_of_its_warps_columns(group):
    assert tiles.WARPS * tiles.WARP_COLS == tiles.BN and 2 * tiles.GROUP_ROWS == tiles.BM
    c_tile = np.arange(tiles.BM * tiles.BN, dtype=np.float32).reshape(tiles.BM, tiles.BN)
    cs = np.full((tiles.WARPS, tiles.WARP_COLS, tiles.GROUP_ROWS), -1.0, np.float32)
    for tid in range(tiles.THREADS):
        tiles.stage_row_group.py_func(cs, _thread_tile(c_tile, tid), tid, group)
    # lane r of warp w then stores C[32 * group + r, 16 * w + c] for c = 0 .. 15: consecutive r
    want = c_tile[group * tiles.GROUP_ROWS:(group + 1) * tiles.GROUP_ROWS]
    want = want.reshape(tiles.GROUP_ROWS, tiles.WARPS, tiles.WARP_COLS).transpose(1, 2, 0)
    np.testing.assert_array_equal(cs, want)


def test_stage_row_group_writes_only_its_own_warps_slice():
    # What lets the store phase go without a block-wide exchange: a warp touches only Cs[warp]
    for tid in (0, 31, 32, 127):
        cs = np.zeros((tiles.WARPS, tiles.WARP_COLS, tiles.GROUP_ROWS), np.float32)
        tiles.stage_row_group.py_func(cs, np.ones((tiles.TM, tiles.TN), np.float32), tid, 1)
        touched = {int(w) for w in np.nonzero(cs)[0]}
        assert touched == {tid // tiles.WARP}


def test_commit_stage_fills_the_staged_tiles_once():
    # Every As cell and every Bs cell of the BN real columns gets exactly one thread's register;
    # Bs's 4 padding columns are never written.
    a_seen = np.zeros((tiles.BK, tiles.BM), int)
    b_seen = np.zeros((tiles.BK, tiles.BN_PAD), int)
    for tid in range(tiles.THREADS):
        a_s = np.zeros((tiles.BK, tiles.BM), np.float32)
        b_s = np.zeros((tiles.BK, tiles.BN_PAD), np.float32)
        tiles.commit_stage.py_func(a_s, b_s, np.ones(tiles.A_LOADS, np.float32),
                                   np.ones(tiles.B_LOADS, np.float32), tid)
        a_seen += a_s != 0
        b_seen += b_s != 0
    assert (a_seen == 1).all()
    assert (b_seen[:, :tiles.BN] == 1).all() and (b_seen[:, tiles.BN:] == 0).all()


# (N, C_in, H, W, C_out, kH, kW, stride, padding); every case runs the tiled kernels.
CASES = [
    (1, 5, 6, 7, 20, 3, 3, (1, 1), (1, 1)),   # M = 42: row group 1 part full; warp 1 has 4 of 16
                                              # channels; K = 45: 6 K steps, the last one 5 taps
    (2, 3, 4, 4, 80, 1, 1, (1, 1), (0, 0)),   # K = 3: one K step; 2nd column tile, warp 1 partial
    (1, 8, 5, 5, 17, 1, 1, (1, 1), (0, 0)),   # K = 8 exactly; M = 25: row group 1 empty
    (1, 20, 6, 6, 6, 4, 4, (2, 2), (1, 1)),   # DCGAN-like k4 s2 p1, gradients only (forward:
]                                             # 40 K steps, slow in the simulator); C_in = 20


@pytest.fixture(autouse=True)
def _tiled(monkeypatch):
    monkeypatch.setattr(kc, "_FORCE_TILED", True)


@pytest.mark.parametrize("case", CASES[:3], ids=str)
def test_conv2d_forward_pipelined(case):
    check_conv(case, 20, "forward")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv2d_grad_input_pipelined(case):
    check_conv(case, 21, "grad_input")


def test_conv_transpose2d_adds_its_bias_in_the_staged_store():
    # conv_transpose2d runs the input-gradient kernel with a bias of C_out = 20 channels
    rng = np.random.default_rng(22)
    x = rng.standard_normal((2, 6, 3, 3)).astype(np.float32)
    w = rng.standard_normal((6, 20, 4, 4)).astype(np.float32)
    b = rng.standard_normal(20).astype(np.float32)
    assert_close(kc.conv_transpose2d(dev(x), dev(w), dev(b), (2, 2), (1, 1), (0, 0)),
                 ref.conv_transpose2d(f64(x), f64(w), f64(b), (2, 2), (1, 1), (0, 0)))


@pytest.mark.parametrize("splits", [1, 3])
@pytest.mark.parametrize("case", [CASES[0], CASES[3]], ids=str)
def test_conv2d_grad_weight_pipelined(case, splits):
    # J = C_in * kH * kW = 45 / 320 rows; K = 42 / 9 pixels: 3 splits of 16 / 2 of 8, the last short
    check_conv(case, 23, "grad_weight", splits)


def test_grad_input_refuses_input_channel_taps_past_32_bits(monkeypatch):
    # The input-gradient kernel indexes w's C_in * kH * kW taps a channel in 32 bits too, not only
    # the C_out * kH * kW of its K: refused, as a ValueError naming the count.
    monkeypatch.setattr(kc, "_MAX_TAPS", 5 * 3 * 3)
    gy = xp.zeros((1, 2, 4, 4), dtype=np.float32)
    w = xp.zeros((2, 5, 3, 3), dtype=np.float32)     # K = 18 taps, w's rows 45
    with pytest.raises(ValueError, match="45 weight taps a channel"):
        kc.conv2d_grad_input(gy, w, (4, 4), (1, 1), (1, 1))
