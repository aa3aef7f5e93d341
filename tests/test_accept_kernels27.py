"""Acceptance review of issue 3 (hand-written kernels), session 27.

* CPU kernels == the reference on configurations test_cpu.py does not draw: padding up to the
  kernel size + 1 (so padding >= kernel - 1 often: windows made mostly of padding), 1x1 kernels,
  batch 1, float32 and float64, forward and every backward output.
* The adjoint identity <conv2d(x, w), y> == <x, conv_transpose2d(y, w)> on such configurations.
* The CPU element-wise and batch-norm kernels given an input that is not C-ordered (an F-ordered
  copy, a strided view) return the reference's values -- they used to allocate their output with
  ``empty_like``, which keeps an F order, so the kernel wrote into a reshaped copy and returned
  uninitialised memory.  (The CUDA glue copies its inputs to C order first: checked too.)
* CUDA kernels (Numba's simulator without a GPU: tiny shapes) on a 1x1 kernel with padding 2,
  batch 1, both the direct and the tiled path.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tensorgan.kernels import cpu
from tensorgan.kernels import cuda as kc
from tensorgan.kernels import reference as ref
from tensorgan.kernels.cuda import _launch
from tensorgan.kernels.shapes import conv2d_output_size, conv_transpose2d_output_size

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
RTOL = {np.float32: 1e-4, np.float64: 1e-10}


def close(got, want, dtype, what):
    """got (a kernel's result in dtype) against want (the float64 reference), scaled by max|want|."""
    got = np.asarray(got)
    assert got.dtype == np.dtype(dtype) and got.shape == want.shape, what
    rtol = RTOL[dtype]
    scale = float(np.abs(want).max(initial=0.0)) + 1e-3
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=rtol, atol=rtol * scale,
                               err_msg=what)


@st.composite
def wide_padding_conv(draw, transposed):
    """A conv / transposed conv whose padding may reach kernel + 1 (1x1 kernels with padding 2...)."""
    n = draw(st.integers(1, 2))
    c_in, c_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, kh + 1)), draw(st.integers(0, kw + 1))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    if transposed:
        oph, opw = draw(st.integers(0, sh - 1)), draw(st.integers(0, sw - 1))
        out = (conv_transpose2d_output_size(h, kh, sh, ph, oph),
               conv_transpose2d_output_size(w, kw, sw, pw, opw))
        extra = (oph, opw)
    else:
        out = (conv2d_output_size(h, kh, sh, ph), conv2d_output_size(w, kw, sw, pw))
        extra = None
    assume(out[0] >= 1 and out[1] >= 1)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2 ** 31 - 1))
    return n, c_in, c_out, (kh, kw), (sh, sw), (ph, pw), (h, w), extra, dtype, seed


def draw_arrays(rng, dtype, *shapes):
    """Arrays exactly representable in dtype, returned as (dtype, float64) pairs."""
    out = []
    for shape in shapes:
        a = rng.standard_normal(shape).astype(dtype)
        out.append((a, a.astype(np.float64)))
    return out


@SETTINGS
@given(wide_padding_conv(transposed=False))
def test_cpu_conv2d_matches_reference_with_wide_padding(case):
    n, c_in, c_out, k, s, p, hw, _, dtype, seed = case
    rng = np.random.default_rng(seed)
    (x, x64), (w, w64), (b, b64) = draw_arrays(rng, dtype, (n, c_in, *hw), (c_out, c_in, *k), (c_out,))
    want = ref.conv2d(x64, w64, b64, s, p)
    close(cpu.conv2d(x, w, b, s, p), want, dtype, "conv2d")
    (gy, gy64), = draw_arrays(rng, dtype, want.shape)
    got = cpu.conv2d_backward(x, gy, w, s, p, (True, True, True))
    wants = ref.conv2d_backward(x64, gy64, w64, s, p, (True, True, True))
    for name, g, wnt in zip(("grad_input", "grad_weight", "grad_bias"), got, wants):
        close(g, wnt, dtype, name)
    close(cpu.conv2d_grad_input(gy, w, hw, s, p), wants[0], dtype, "conv2d_grad_input")
    close(cpu.conv2d_grad_weight(x, gy, k, s, p), wants[1], dtype, "conv2d_grad_weight")


@SETTINGS
@given(wide_padding_conv(transposed=True))
def test_cpu_conv_transpose2d_matches_reference_with_wide_padding(case):
    n, c_in, c_out, k, s, p, hw, op, dtype, seed = case
    rng = np.random.default_rng(seed)
    (x, x64), (w, w64), (b, b64) = draw_arrays(rng, dtype, (n, c_in, *hw), (c_in, c_out, *k), (c_out,))
    want = ref.conv_transpose2d(x64, w64, b64, s, p, op)
    close(cpu.conv_transpose2d(x, w, b, s, p, op), want, dtype, "conv_transpose2d")
    (gy, gy64), = draw_arrays(rng, dtype, want.shape)
    got = cpu.conv_transpose2d_backward(x, gy, w, s, p, (True, True, True))
    wants = ref.conv_transpose2d_backward(x64, gy64, w64, s, p, (True, True, True))
    for name, g, wnt in zip(("grad_input", "grad_weight", "grad_bias"), got, wants):
        close(g, wnt, dtype, name)


@SETTINGS
@given(wide_padding_conv(transposed=False))
def test_adjoint_identity_with_wide_padding(case):
    n, c_in, c_out, k, s, p, hw, _, _, seed = case
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((n, c_in, *hw)), rng.standard_normal((c_out, c_in, *k))
    y = cpu.conv2d(x, w, None, s, p)
    g = rng.standard_normal(y.shape)
    # output_padding = (H + 2p - k) mod s < s brings conv_transpose2d(g) back to x's size.
    op = tuple((size + 2 * pp - kk) % ss for size, kk, ss, pp in zip(hw, k, s, p))
    back = cpu.conv_transpose2d(g, w, None, s, p, op)
    lhs, rhs = float(np.vdot(y, g)), float(np.vdot(x, back))
    assert abs(lhs - rhs) <= 1e-10 * (1.0 + abs(lhs))


def not_c_ordered(a):
    """Same values, two layouts a kernel may meet: an F-ordered copy and a strided view."""
    strided = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    strided[..., ::2] = a
    return [np.asfortranarray(a), strided[..., ::2]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2, 5)], ids=["2d", "4d"])
def test_cpu_pointwise_and_batch_norm_kernels_on_inputs_not_c_ordered(dtype, shape):
    rng = np.random.default_rng(0)
    x, gy = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
    c = shape[1]
    wt, bs = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    y, mean, invstd = ref.batch_norm_leaky_relu(x, None, None, wt, bs, True, 0.1, 1e-5, 0.2)
    want_bwd = ref.batch_norm_leaky_relu_backward(gy, x, wt, bs, mean, invstd, True, 0.2)
    want_bn = ref.batch_norm_backward(gy, x, wt, mean, invstd, True)
    for xv, gv in zip(not_c_ordered(x), not_c_ordered(gy)):
        close(cpu.leaky_relu(xv, 0.2), ref.leaky_relu(x, 0.2), dtype, "leaky_relu")
        close(cpu.leaky_relu_backward(gv, xv, 0.2), ref.leaky_relu_backward(gy, x, 0.2), dtype,
              "leaky_relu_backward")
        close(cpu.batch_norm_leaky_relu(xv, None, None, wt, bs, True, 0.1, 1e-5, 0.2)[0], y, dtype,
              "batch_norm_leaky_relu")
        close(cpu.batch_norm(xv, None, None, wt, bs, True, 0.1, 1e-5)[0],
              ref.batch_norm(x, None, None, wt, bs, True, 0.1, 1e-5)[0], dtype, "batch_norm")
        for g, wnt in zip(cpu.batch_norm_leaky_relu_backward(gv, xv, wt, bs, mean, invstd, True, 0.2),
                          want_bwd):
            close(g, wnt, dtype, "batch_norm_leaky_relu_backward")
        for g, wnt in zip(cpu.batch_norm_backward(gv, xv, wt, mean, invstd, True), want_bn):
            close(g, wnt, dtype, "batch_norm_backward")


# ------------------------------------------------------------------ CUDA (simulator: tiny shapes)
xp = _launch.xp()


def host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def test_cuda_pointwise_and_batch_norm_kernels_on_inputs_not_c_ordered():
    rng = np.random.default_rng(1)
    x, gy = (rng.standard_normal((3, 2, 2, 3)).astype(np.float32) for _ in range(2))
    wt, bs = rng.standard_normal(2).astype(np.float32), rng.standard_normal(2).astype(np.float32)
    xf, gf = xp.asfortranarray(xp.asarray(x)), xp.asfortranarray(xp.asarray(gy))
    close(host(kc.leaky_relu(xf, 0.2)), ref.leaky_relu(x, 0.2), np.float32, "leaky_relu")
    close(host(kc.leaky_relu_backward(gf, xf, 0.2)), ref.leaky_relu_backward(gy, x, 0.2),
          np.float32, "leaky_relu_backward")
    y, mean, invstd = ref.batch_norm_leaky_relu(x, None, None, wt, bs, True, 0.1, 1e-5, 0.2)
    got = kc.batch_norm_leaky_relu(xf, None, None, xp.asarray(wt), xp.asarray(bs), True, 0.1, 1e-5,
                                   0.2)
    close(host(got[0]), y, np.float32, "batch_norm_leaky_relu")
    grads = kc.batch_norm_leaky_relu_backward(gf, xf, xp.asarray(wt), xp.asarray(bs),
                                              xp.asarray(mean), xp.asarray(invstd), True, 0.2)
    want = ref.batch_norm_leaky_relu_backward(gy, x, wt, bs, mean, invstd, True, 0.2)
    for g, wnt in zip(grads, want):
        close(host(g), wnt, np.float32, "batch_norm_leaky_relu_backward")


@pytest.mark.parametrize("tiled", [False, True], ids=["direct", "tiled"])
def test_cuda_conv_1x1_kernel_wider_padding_batch_1(tiled, monkeypatch):
    """Every output pixel of the border reads only padding: bias alone, zero gradients there."""
    monkeypatch.setattr(kc, "_FORCE_TILED", tiled)
    rng = np.random.default_rng(2)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((1, 2, 3, 2), (3, 2, 1, 1), (3,)))
    s, p = (1, 2), (2, 1)
    want = ref.conv2d(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), s, p)
    close(host(kc.conv2d(xp.asarray(x), xp.asarray(w), xp.asarray(b), s, p)), want, np.float32,
          "conv2d")
    gy = rng.standard_normal(want.shape).astype(np.float32)
    got = kc.conv2d_backward(xp.asarray(x), xp.asarray(gy), xp.asarray(w), s, p, (True, True, True))
    wants = ref.conv2d_backward(x.astype(np.float64), gy.astype(np.float64), w.astype(np.float64),
                                s, p, (True, True, True))
    for name, g, wnt in zip(("grad_input", "grad_weight", "grad_bias"), got, wants):
        close(host(g), wnt, np.float32, name)


def test_cuda_kernels_refuse_float64_by_name():
    x = xp.zeros((1, 1, 2, 2), dtype=np.float64)
    with pytest.raises(TypeError, match="float32 only, got float64"):
        kc.conv2d(x, x, None, (1, 1), (0, 0))
