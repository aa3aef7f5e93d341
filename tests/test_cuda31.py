"""conv_dgrad from 127 to 117 registers (session 31; 121 with its pixel reciprocals, see
test_cuda31b.py): its K loop divides by the phase's sub-kernel sizes
with ``tiles.fastdiv_add`` (``a + umulhi(a, mul)`` shifted: one 32-bit multiplier), counts the
phase's pixels and gy's planes in 32 bits (the glue refuses more than 2**32 planes), and indexes w
by one column offset.  Checked here: the divider against ``//`` (host and device magic), the
plane-count refusal, and the input-gradient kernel (forced onto the tiled path, Numba's CUDA
simulator without a GPU) against the float64 NumPy reference on shapes the earlier cases miss.
tests/kernels/test_ptx.py checks the compiled side (registers, spills).
"""
from __future__ import annotations

import numpy as np
import pytest

from tensorgan.kernels import cuda as kc
from tensorgan.kernels import reference as ref
from tensorgan.kernels.cuda import tiles

from cuda_arrays import assert_close, check_conv, dev, f64, xp

_EDGES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 25, 49, 63, 64, 65, 100, 641, 2 ** 16 + 1,
          2 ** 30 - 1, 2 ** 30, 2 ** 30 + 1, 2 ** 31 - 1)


def _numerators(d: int, rng) -> list[int]:
    top = 2 ** 31 - 1
    near = [0, 1, d - 1, d, d + 1, 2 * d - 1, 2 * d, top, top - 1, top - top % d, top - top % d - 1]
    return [a for a in near + [int(v) for v in rng.integers(0, 2 ** 31, 200)] if 0 <= a <= top]


@pytest.mark.parametrize("d", _EDGES)
def test_fastdiv_add_is_floor_division_over_31_bits(d):
    rng = np.random.default_rng(d % 1000)
    mul, shift = tiles.fastdiv_add_magic(d)
    assert 0 < mul < 2 ** 32 and 0 <= shift <= 31
    for a in _numerators(d, rng):
        assert a + ((a * mul) >> 32) < 2 ** 32            # the 32-bit sum does not wrap
        assert int(tiles.fastdiv_add.py_func(a, mul, shift)) == a // d, (a, d)


def test_fastdiv_add_over_many_random_divisors():
    rng = np.random.default_rng(31)
    for d in [int(v) for v in rng.integers(1, 2 ** 31, 300)] + list(range(1, 130)):
        mul, shift = tiles.fastdiv_add_magic(d)
        a = np.array(_numerators(d, rng)[:40], dtype=object)
        assert ((a + (a * mul >> 32)) >> shift == a // d).all(), d


@pytest.mark.parametrize("d", [1, 2, 3, 4, 7, 9, 16, 25, 49, 2 ** 20 + 3, 2 ** 31 - 1])
def test_fastdiv_add_magic_device_matches_the_host(d):
    got = tuple(map(int, tiles.fastdiv_add_magic_device.py_func(d)))
    assert got == tiles.fastdiv_add_magic(d)


def test_fastdiv_add_magic_device_takes_an_empty_phase():
    # A phase no tap reaches has Th * Tw = 0: the kernel never divides there (K = 0), but the
    # magic must still be computed without dividing by zero -- as for d = 1 (mul 1, shift 0).
    assert tuple(map(int, tiles.fastdiv_add_magic_device.py_func(0))) == (1, 0)


@pytest.mark.parametrize("d", [0, -3, 2 ** 31])
def test_fastdiv_add_magic_refuses_divisors_out_of_range(d):
    with pytest.raises(ValueError, match=f"divisor {d} outside"):
        tiles.fastdiv_add_magic(d)


def test_grad_input_refuses_gradient_planes_past_32_bits(monkeypatch):
    # N x C_out gy planes are counted in 32 bits: refused as a ValueError naming the count
    monkeypatch.setattr(kc, "_FORCE_TILED", True)
    monkeypatch.setattr(kc, "_MAX_PLANES", 3 * 4)
    gy = xp.zeros((3, 4, 2, 2), dtype=np.float32)
    w = xp.zeros((4, 5, 3, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"3 x 4 = 12 gradient planes"):
        kc.conv2d_grad_input(gy, w, (4, 4), (1, 1), (1, 1))
    monkeypatch.setattr(kc, "_MAX_PLANES", 3 * 4 + 1)          # one under: runs
    assert kc.conv2d_grad_input(gy, w, (4, 4), (1, 1), (1, 1)).shape == (3, 5, 4, 4)


# (N, C_in, H, W, C_out, kH, kW, stride, padding); every case runs the tiled input-gradient kernel.
CASES = [
    (1, 70, 5, 7, 3, 3, 2, (2, 3), (1, 0)),   # C_in = 70: 2nd column tile of 6 channels; kW = 2 <
                                              # sW = 3: the rw = 2 phases get no tap (K = 0)
    (2, 5, 7, 6, 4, 3, 3, (2, 2), (2, 2)),    # padding 2 > kernel / 2: taps off the image
    (2, 3, 8, 7, 6, 5, 4, (3, 2), (3, 2)),    # stride 3 x 2, 5 x 4 kernel: Th 1-2, Tw 2 by phase
    (1, 9, 1, 1, 2, 3, 3, (1, 1), (1, 1)),    # batch 1, 1 x 1 image: one pixel, 1 of 9 taps lands
    (3, 2, 6, 6, 7, 2, 2, (2, 2), (0, 0)),    # kernel = stride: one tap a phase (Th = Tw = 1)
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv2d_grad_input_odd_shapes(case, monkeypatch):
    monkeypatch.setattr(kc, "_FORCE_TILED", True)
    check_conv(case, 31, "grad_input")


def test_conv2d_grad_input_of_a_dilated_kernel(monkeypatch):
    # A strided dilated convolution reaches the kernel as its zero-filled kernel (functional's
    # _dilate_kernel): 3 x 3 dilated by 2 is 5 x 5, and at stride 2 the odd phases' taps are all
    # zeros.  Against the definition: each tap's gradient scattered at its dilated offset.
    monkeypatch.setattr(kc, "_FORCE_TILED", True)
    rng = np.random.default_rng(311)
    n, c_in, h, wd, c_out, k, dil, s, p = 2, 6, 9, 8, 5, 3, 2, 2, 2
    w3 = rng.standard_normal((c_out, c_in, k, k)).astype(np.float32)
    w5 = np.zeros((c_out, c_in, dil * (k - 1) + 1, dil * (k - 1) + 1), np.float32)
    w5[:, :, ::dil, ::dil] = w3
    oh, ow = (h + 2 * p - w5.shape[2]) // s + 1, (wd + 2 * p - w5.shape[3]) // s + 1
    gy = rng.standard_normal((n, c_out, oh, ow)).astype(np.float32)
    want = np.zeros((n, c_in, h + 2 * p, wd + 2 * p))
    for i in range(k):
        for j in range(k):
            rows = slice(i * dil, i * dil + s * (oh - 1) + 1, s)
            cols = slice(j * dil, j * dil + s * (ow - 1) + 1, s)
            want[:, :, rows, cols] += np.einsum("nohw,oc->nchw", f64(gy), f64(w3[:, :, i, j]))
    want = want[:, :, p:p + h, p:p + wd]
    got = kc.conv2d_grad_input(dev(gy), dev(w5), (h, wd), (s, s), (p, p))
    assert_close(got, want)
    assert_close(got, ref.conv2d_grad_input(f64(gy), f64(w5), (h, wd), (s, s), (p, p)))
