"""Session 31, second pass over the tiled convolution kernels: conv_fwd and conv_wgrad decode their
K loop's k with ``tiles.fastdiv_add`` (multipliers from the glue's ``fastdiv_add_magic``), as
conv_dgrad already did; ``fastdiv32`` and ``fastdiv_magic_device`` are gone.  Checked here, with
Numba's CUDA simulator where there is no GPU (tests/conftest.py), against the float64 NumPy
reference: the forward and weight-gradient kernels (forced onto the tiled path) on shapes whose
divisors exercise the magic numbers -- kernels of 1 x 1 (``mul = 1, shift = 0``), odd kH*kW and
kW, OH*OW and OW not powers of two, splits starting mid-sample, second row / column tiles.
tests/kernels/test_ptx.py checks the compiled side (registers, spills, README's table).
"""
from __future__ import annotations

import numpy as np
import pytest

from tensorgan.kernels import cuda as kc
from tensorgan.kernels.cuda import tiles

from cuda_arrays import check_conv


@pytest.fixture(autouse=True)
def _tiled(monkeypatch):
    monkeypatch.setattr(kc, "_FORCE_TILED", True)


# (N, C_in, H, W, C_out, kH, kW, stride, padding)
FWD_CASES = [
    (2, 3, 7, 5, 70, 5, 3, (2, 1), (2, 1)),   # kH*kW = 15, kW = 3; C_out = 70: 2nd column tile
    (1, 9, 4, 6, 3, 1, 1, (1, 2), (0, 1)),    # 1 x 1 kernel: both divisors 1, K = 9
    (3, 2, 6, 9, 5, 2, 7, (1, 2), (1, 3)),    # kW = 7, kH*kW = 14, M = 3 x 7 x 5 = 105: 2 row tiles
    (1, 5, 8, 8, 6, 3, 3, (3, 3), (1, 1)),    # kH*kW = 9, K = 45 over 6 K steps, stride 3
]

# (case, splits): splits = 5 starts the later K ranges mid-sample, so their first decodes give n > 0
WGRAD_CASES = [
    ((2, 3, 9, 7, 5, 3, 3, (2, 1), (1, 1)), 5),    # OH*OW = 5 x 7 = 35, K = 70
    ((2, 2, 5, 13, 66, 2, 3, (1, 3), (0, 1)), 1),  # OH*OW = 4 x 5 = 20; C_out = 66: 2nd col tile
    ((1, 8, 6, 5, 4, 3, 3, (1, 1), (1, 1)), 5),    # J = 8 x 9 = 72: 2nd row tile; OH*OW = 30
    ((2, 4, 3, 11, 3, 1, 1, (1, 1), (0, 0)), 5),   # 1 x 1 kernel, OW = 11, OH*OW = 33
]


@pytest.mark.parametrize("case", FWD_CASES, ids=str)
def test_conv2d_forward_with_fastdiv_add(case):
    check_conv(case, 310, "forward")


@pytest.mark.parametrize("case, splits", WGRAD_CASES, ids=str)
def test_conv2d_grad_weight_with_fastdiv_add(case, splits):
    check_conv(case, 311, "grad_weight", splits)


def test_the_old_dividers_are_gone():
    # one divider for the K loops: a stale import of fastdiv32 / fastdiv_magic_device would
    # pass the glue's fastdiv_add magic numbers to the wrong formula
    assert not hasattr(tiles, "fastdiv32")
    assert not hasattr(tiles, "fastdiv_magic_device")


# ---------------------------------------------------------------------------------------------
# conv_dgrad's pixel decode: tiles.reciprocal32 once per divisor, then tiles.div_by_reciprocal
# (umulhi and one correction) for the A row and both store row groups -- two divisions a thread,
# was six (two for the A row, four in the store).
# ---------------------------------------------------------------------------------------------

_DIVISORS = (1, 2, 3, 5, 7, 31, 32, 33, 49, 64, 3136, 2 ** 16 - 1, 2 ** 16 + 1, 2 ** 30 + 3,
             2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1)


@pytest.mark.parametrize("d", _DIVISORS)
def test_div_by_reciprocal_is_floor_division_over_32_bits(d):
    inv = tiles.reciprocal32.py_func(d)
    assert int(inv) == (2 ** 32 - 1) // d
    rng = np.random.default_rng(d)
    top = 2 ** 32 - 1
    near = [q * d + r for q in (0, 1, 2, top // d - 1, top // d) for r in (-1, 0, 1, d - 1)]
    for a in near + [top, *rng.integers(0, 2 ** 32, 300).tolist()]:
        if 0 <= a <= top:
            assert int(tiles.div_by_reciprocal.py_func(a, d, inv)) == a // d, (a, d)


# (N, C_in, H, W, C_out, kH, kW, stride, padding): phase sizes around the 32-pixel row group
DGRAD_CASES = [
    (3, 4, 3, 1, 5, 3, 1, (2, 1), (1, 0)),    # W = 1: Qw = 1; Q = 2 / 1 per phase, M = 6 / 3
    (1, 2, 20, 14, 3, 3, 3, (2, 2), (1, 1)),  # Q = 10 x 7 = 70: a sample over two row tiles
    (4, 2, 7, 9, 2, 4, 4, (2, 2), (1, 1)),    # Q = 4 x 5 / 3 x 4: row groups across samples
    (1, 2, 3, 70, 4, 1, 3, (1, 1), (0, 1)),   # Qw = 70 > 64: rows wider than a row tile
]


@pytest.mark.parametrize("case", DGRAD_CASES, ids=str)
def test_conv2d_grad_input_decodes_with_the_reciprocals(case):
    check_conv(case, 312, "grad_input")
