"""Session 30: CPU fast paths for everyday (non-DCGAN) convolution shapes, against the NumPy
reference (kernels/reference) on hypothesis-drawn shapes.

* strided transposed convolutions / conv2d input gradients that take the input side (stride
  phases): every phase's GEMM result unpacked at once, row by row (``_pack.unpack_phases``), the
  input padded once for all phases when their window rows are long;
* ``_pack.gather_phase_weight``: a blocked transpose of the weight's (C_in, C_out) axes;
* 1x1 stride-1 unpadded convolutions (``_pack.pointwise``): one GEMM per image straight from the
  NCHW planes -- conv2d's forward and input gradient, conv_transpose2d's forward.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.kernels import cpu
from tensorgan.kernels import reference as ref
from tensorgan.kernels.cpu import _pack
from tensorgan.kernels.cpu import _threads
from tensorgan.kernels.shapes import conv_transpose2d_output_size

SETTINGS = settings(max_examples=25, deadline=None)


@pytest.fixture(autouse=True)
def restore_knobs():
    saved = (_pack.COLS_BUDGET, _pack.FORMULATION, _threads.PARALLEL_MIN_ELEMENTS)
    yield
    _pack.COLS_BUDGET, _pack.FORMULATION, _threads.PARALLEL_MIN_ELEMENTS = saved


def force(small_chunks: bool, formulation: str | None) -> None:
    """One image per chunk on every thread (small_chunks) or one serial chunk; a formulation."""
    _pack.COLS_BUDGET = 1 if small_chunks else 1 << 20
    _threads.PARALLEL_MIN_ELEMENTS = 0 if small_chunks else 1 << 62
    _pack.FORMULATION = formulation


def arrays(seed: int, dtype, *shapes):
    """(dtype array, the same values in float64) per shape."""
    rng = np.random.default_rng(seed)
    out = []
    for shape in shapes:
        a = rng.standard_normal(shape).astype(dtype)
        out.append((a, a.astype(np.float64)))
    return out


def close(got, want, dtype, what):
    tol = 2e-4 if dtype == np.float32 else 1e-10
    assert got.dtype == dtype, what
    assert got.shape == want.shape, what
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1.0, np.abs(want).max()),
                               err_msg=what)


@st.composite
def strided_convT(draw):
    """A transposed convolution with stride > 1 on either axis, rows long or short."""
    s = (draw(st.integers(1, 3)), draw(st.integers(2, 3)))
    if draw(st.booleans()):
        s = s[::-1]
    k = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    p = tuple(draw(st.integers(0, kk - 1)) for kk in k)
    op = tuple(draw(st.integers(0, ss - 1)) for ss in s)
    hw = (draw(st.integers(1, 12)), draw(st.sampled_from([1, 3, 7, 9, 17])))
    n, c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 5))
    assume(all(conv_transpose2d_output_size(*a) > 0 for a in zip(hw, k, s, p, op)))
    return n, c_in, c_out, k, s, p, op, hw, draw(st.sampled_from([np.float32, np.float64])), \
        draw(st.integers(0, 2 ** 31 - 1)), draw(st.booleans())


@SETTINGS
@given(strided_convT())
def test_input_side_stride_phases_match_reference(case):
    n, c_in, c_out, k, s, p, op, hw, dtype, seed, small = case
    force(small, "input")
    (x, x64), (w, w64), (b, b64) = arrays(seed, dtype, (n, c_in, *hw), (c_in, c_out, *k), (c_out,))
    want = ref.conv_transpose2d(x64, w64, b64, s, p, op)
    close(cpu.conv_transpose2d(x, w, b, s, p, op), want, dtype, "conv_transpose2d")
    close(cpu.conv_transpose2d(x, w, None, s, p, op), ref.conv_transpose2d(x64, w64, None, s, p, op),
          dtype, "conv_transpose2d without bias")
    # conv2d's input gradient is the same kernel: x in gy's place, the output's size pinned
    close(cpu.conv2d_grad_input(x, w, want.shape[2:], s, p),
          ref.conv2d_grad_input(x64, w64, want.shape[2:], s, p), dtype, "conv2d_grad_input")


def test_unpack_phases_writes_every_output_once():
    """A 3x3 stride-2 conv2d input gradient at a UNet size (long rows: the shared padding) and a
    kernel smaller than the stride (phases no tap reaches: bias alone)."""
    force(False, None)
    (x, x64), (w, w64), (gy, gy64) = arrays(3, np.float64, (2, 4, 32, 32), (6, 4, 3, 3), (2, 6, 16, 16))
    close(cpu.conv2d_backward(x, gy, w, (2, 2), (1, 1), (True, False, False))[0],
          ref.conv2d_grad_input(gy64, w64, (32, 32), (2, 2), (1, 1)), np.float64, "3x3 s2")
    (x, x64), (w, w64), (b, b64) = arrays(4, np.float32, (2, 3, 5, 20), (3, 4, 1, 2), (4,))
    close(cpu.conv_transpose2d(x, w, b, (3, 3), (0, 0), (2, 2)),
          ref.conv_transpose2d(x64, w64, b64, (3, 3), (0, 0), (2, 2)), np.float32, "k < stride")


@SETTINGS
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 5), st.integers(1, 5),
       st.integers(1, 3), st.integers(0, 2 ** 31 - 1))
def test_gather_phase_weight_is_the_transposed_sub_kernel(ci, co, kh, kw, stride, seed):
    w = np.random.default_rng(seed).standard_normal((ci, co, kh, kw)).astype(np.float32)
    khs = np.arange(seed % min(stride, kh), kh, stride, dtype=np.int64)
    kws = np.arange(0, kw, stride, dtype=np.int64)
    out = np.full((co, ci * khs.size * kws.size), np.nan, dtype=np.float32)
    _pack.gather_phase_weight(w, khs, kws, out)
    want = w[:, :, khs][:, :, :, kws].transpose(1, 0, 2, 3).reshape(co, -1)
    np.testing.assert_array_equal(out, want)


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 9), st.integers(1, 9), st.integers(1, 12), st.integers(1, 12),
       st.sampled_from([np.float32, np.float64]), st.booleans(), st.booleans(), st.integers(0, 2 ** 31 - 1))
def test_pointwise_conv_matches_reference(n, c_in, c_out, h, w_, dtype, bias, small, seed):
    force(small, None)
    hw = (h, w_)
    (x, x64), (w, w64), (b, b64), (gy, gy64) = arrays(seed, dtype, (n, c_in, *hw), (c_out, c_in, 1, 1),
                                                      (c_out,), (n, c_out, *hw))
    b, b64 = (b, b64) if bias else (None, None)
    one, zero = (1, 1), (0, 0)
    close(cpu.conv2d(x, w, b, one, zero), ref.conv2d(x64, w64, b64, one, zero), dtype, "conv2d")
    wants = ref.conv2d_backward(x64, gy64, w64, one, zero, (True, True, True))
    for need, what in zip(((True, False, False), (True, True, True)), ("input only", "all")):
        got = cpu.conv2d_backward(x, gy, w, one, zero, need)
        for g, want, asked in zip(got, wants, need):
            assert (g is None) == (not asked), what
            if asked:
                close(g, want, dtype, what)
    close(cpu.conv2d_grad_input(gy, w, hw, one, zero), wants[0], dtype, "conv2d_grad_input")
    # w (c_out, c_in, 1, 1) as a transposed convolution's weight: gy -> c_in channels
    bt, bt64 = (x[0, :, 0, 0].copy(), x64[0, :, 0, 0]) if bias else (None, None)
    close(cpu.conv_transpose2d(gy, w, bt, one, zero, zero),
          ref.conv_transpose2d(gy64, w64, bt64, one, zero, zero), dtype, "conv_transpose2d")


def test_pointwise_takes_the_per_image_path_from_its_area_up():
    assert _pack.is_pointwise((1, 1), (1, 1), (0, 0), (8, 8), (8, 8))
    assert not _pack.is_pointwise((1, 1), (1, 1), (0, 0), (7, 9), (7, 9))      # 63 pixels
    assert not _pack.is_pointwise((1, 1), (2, 2), (0, 0), (16, 16), (8, 8))
    assert not _pack.is_pointwise((1, 1), (1, 1), (1, 1), (16, 16), (18, 18))
    assert not _pack.is_pointwise((3, 3), (1, 1), (0, 0), (16, 16), (14, 14))


def test_transposed_conv_whose_cropped_output_no_tap_reaches_is_the_bias():
    """k 1, stride 3, padding 1 on 2 inputs: the full output's taps land at 0 and 3, the kept
    window is [1, 3), so no stride phase has a tap (the shared-padding path had nothing to span)."""
    x = tg.tensor(np.ones((2, 1, 1, 2)), dtype=tg.float64)
    w = tg.tensor(np.full((1, 1, 1, 1), 2.0), dtype=tg.float64)
    y = F.conv_transpose2d(x, w, tg.tensor([0.5], dtype=tg.float64), stride=(1, 3), padding=(0, 1))
    assert y.shape == (2, 1, 1, 2)
    np.testing.assert_array_equal(y.numpy(), np.full((2, 1, 1, 2), 0.5))
