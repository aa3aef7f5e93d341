"""The tiled convolution kernels' K loops decode the weight tap / pixel k with magic-number
divisions (``tiles.fastdiv_add`` since session 31; ``fastdiv_add_magic_device`` where only
the kernel knows the divisor) and 32-bit index arithmetic instead of ``udiv``.  Checked here: the
divisions are exact over the 31-bit range, and the three kernels (forced onto the tiled path)
match the float64 reference on tiny awkward shapes -- partial tiles, strides 2 / 3, padding
wider than the kernel, 1 x 1 kernels, ``C * kH * kW`` not a multiple of the K tile.

Without a GPU these run under Numba's CUDA simulator (tests/conftest.py), hence the tiny shapes.
"""
from __future__ import annotations

import numpy as np
import pytest

from tensorgan.kernels import cuda as kc
from tensorgan.kernels.cuda import tiles

from cuda_arrays import check_conv

_DIVISORS = [1, 2, 3, 5, 7, 9, 12, 16, 25, 49, 63, 64, 65, 641, 3136, 12544, 2 ** 16 + 1,
             2 ** 30 - 1, 2 ** 30, 2 ** 30 + 1, 2 ** 31 - 1]


def _numerators(d: int) -> list[int]:
    rng = np.random.default_rng(d)
    near = [q * d + r for q in (0, 1, 2, (2 ** 31 - 1) // d) for r in (-1, 0, 1, d - 1)]
    return sorted({a for a in near + [2 ** 31 - 1, *rng.integers(0, 2 ** 31, 8).tolist()]
                   if 0 <= a < 2 ** 31})


@pytest.mark.parametrize("d", _DIVISORS)
def test_fastdiv_add_is_floor_division_over_31_bits(d):
    mul, shift = tiles.fastdiv_add_magic(d)
    for a in _numerators(d):
        assert int(tiles.fastdiv_add.py_func(a, mul, shift)) == a // d, (a, d)


@pytest.mark.parametrize("d", _DIVISORS)
def test_fastdiv_add_magic_device_matches_the_host(d):
    mul, shift = tiles.fastdiv_add_magic_device.py_func(d)
    assert (int(mul), int(shift)) == tiles.fastdiv_add_magic(d)


def test_fastdiv_add_magic_device_takes_an_empty_phase():
    # conv_dgrad: a stride phase no kernel tap reaches has t_n = tw_n = 0 (and no K loop);
    # its magic numbers must still be computable (those of 1), not divide by zero.
    assert tuple(map(int, tiles.fastdiv_add_magic_device.py_func(0))) == tiles.fastdiv_add_magic(1)


# (N, C_in, H, W, C_out, kH, kW, stride, padding); every case runs the tiled kernels.
CASES = [
    (1, 3, 5, 7, 5, 3, 1, (3, 2), (2, 1)),    # K = 9: a partial K tile; padding >= kW
    (1, 10, 4, 5, 6, 1, 1, (2, 2), (1, 1)),   # 1 x 1 kernel, stride 2, a zero border
    (2, 2, 6, 7, 3, 2, 5, (1, 3), (0, 2)),    # K = 20, stride 3 across, 2 x 5 kernel
    (3, 1, 6, 6, 2, 3, 3, (2, 2), (1, 1)),    # M = 27 pixels: one partial row tile
]


@pytest.fixture(autouse=True)
def _tiled(monkeypatch):
    monkeypatch.setattr(kc, "_FORCE_TILED", True)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv2d_forward_tiled(case):
    check_conv(case, 0, "forward")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv2d_grad_input_tiled(case):
    check_conv(case, 1, "grad_input")


@pytest.mark.parametrize("splits", [1, 3])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv2d_grad_weight_tiled(case, splits):
    # splits = 3: the K ranges of the later splits start mid-sample (k_chunk is a multiple of 8,
    # not of OH * OW), so their first K steps decode n > 0 and oh, ow from a non-zero offset.
    check_conv(case, 2, "grad_weight", splits)
