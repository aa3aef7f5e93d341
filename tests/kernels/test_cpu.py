"""The fast CPU kernels (tensorgan.kernels.cpu) agree with the NumPy reference (the specification).

Every kernel, forward and every backward output (running statistics included), on
hypothesis-drawn configurations: batch 1-3, channels 1-5, sizes 1-9, non-square kernels 1-5,
strides 1-3, padding 0-2, every valid output_padding, bias / weight None, BN (alone and fused with
leaky ReLU) train / eval on (N, C) and (N, C, H, W).

* float64: the CPU kernels must match the float64 reference to rtol 1e-10.
* float32: the CPU kernel's float32 result must match the *float64* reference on the same
  (float32-representable) inputs to rtol 1e-4, with the absolute tolerance scaled by the
  magnitude of the result -- i.e. float32 kernels are judged against the exact answer, not
  against another float32 computation's rounding.

The batch-chunking paths of the convolutions (taken for big batches) are forced on small shapes by
shrinking the chunk budget, the parallel and serial (small-input) paths are both forced, and each
of the two GEMM formulations (input-side im2col / phases,
output-side GEMM + shifted adds) is forced as well as chosen automatically.  Whole-file cost on a cold Numba cache: about 30 s (mostly JIT).
"""
from __future__ import annotations

import importlib
import warnings

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tensorgan.kernels import KERNEL_API
from tensorgan.kernels import cpu
from tensorgan.kernels import reference as ref
from tensorgan.kernels.shapes import conv2d_output_size, conv_transpose2d_output_size

# The submodules (the package re-exports functions of the same names).
cpu_pack = importlib.import_module("tensorgan.kernels.cpu._pack")
cpu_threads = importlib.import_module("tensorgan.kernels.cpu._threads")

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
DTYPES = st.sampled_from([np.float32, np.float64])
RTOL = {np.float32: 1e-4, np.float64: 1e-10}


def assert_close(actual, expected, dtype, what, scale=None):
    """|actual - expected| <= rtol * (|expected| + S), S = `scale` -- the magnitude of the terms that
    were summed, so that cancellation does not demand more than float rounding can give -- or by
    default max|expected| + 1e-3."""
    actual = np.asarray(actual)
    assert actual.dtype == np.dtype(dtype), f"{what}: dtype {actual.dtype} != {np.dtype(dtype)}"
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    rtol = RTOL[dtype]
    scale = float(np.abs(expected).max(initial=0.0)) + 1e-3 if scale is None else float(scale) + 1e-3
    np.testing.assert_allclose(actual.astype(np.float64), expected, rtol=rtol, atol=rtol * scale,
                               err_msg=what)


def randn(rng, shape, dtype, scale=1.0, offset=0.0):
    """Float32-representable values, returned in dtype and float64 (the exact inputs)."""
    a = (rng.standard_normal(shape) * scale + offset).astype(dtype)
    return a, a.astype(np.float64)


class Threads:
    """Within a `with` block: force the kernels' parallel path (all Numba threads, even for tiny
    inputs) or their serial path (one thread) -- both must give the reference's results."""

    def __init__(self, parallel):
        self.parallel = parallel

    def __enter__(self):
        self.saved = cpu_threads.PARALLEL_MIN_ELEMENTS
        cpu_threads.PARALLEL_MIN_ELEMENTS = 0 if self.parallel else 1 << 62

    def __exit__(self, *exc):
        cpu_threads.PARALLEL_MIN_ELEMENTS = self.saved


class Forced:
    """Within a `with` block: force the convolutions' batch chunking (one image per chunk, the
    parallel path, the flipped weight-gradient GEMM) or none of it (the serial path, no flip),
    and/or one formulation ("input" / "output" side, where it applies; None = automatic)."""

    def __init__(self, small_chunks, formulation):
        self.small_chunks, self.formulation = small_chunks, formulation

    def __enter__(self):
        self.saved = (cpu_pack.COLS_BUDGET, cpu_pack.FORMULATION, cpu_threads.PARALLEL_MIN_ELEMENTS,
                      cpu_pack.FLIP_MIN_REDUCTION)
        if self.small_chunks:
            cpu_pack.COLS_BUDGET = 1
        cpu_pack.FORMULATION = self.formulation
        # The convolution tests alternate the serial and parallel paths with the chunking flag,
        # and the weight gradients' two GEMM orientations (small shapes flip only when forced).
        cpu_threads.PARALLEL_MIN_ELEMENTS = 0 if self.small_chunks else 1 << 62
        cpu_pack.FLIP_MIN_REDUCTION = 0 if self.small_chunks else 1 << 62

    def __exit__(self, *exc):
        (cpu_pack.COLS_BUDGET, cpu_pack.FORMULATION, cpu_threads.PARALLEL_MIN_ELEMENTS,
         cpu_pack.FLIP_MIN_REDUCTION) = self.saved


def test_api_complete():
    for name in KERNEL_API:
        assert callable(getattr(cpu, name)), name


@st.composite
def conv_config(draw, transposed):
    c = dict(
        n=draw(st.integers(1, 3)), cin=draw(st.integers(1, 5)), cout=draw(st.integers(1, 5)),
        h=draw(st.integers(1, 9)), w=draw(st.integers(1, 9)),
        kh=draw(st.integers(1, 5)), kw=draw(st.integers(1, 5)),
        sh=draw(st.integers(1, 3)), sw=draw(st.integers(1, 3)),
        ph=draw(st.integers(0, 2)), pw=draw(st.integers(0, 2)),
        bias=draw(st.booleans()), dtype=draw(DTYPES), seed=draw(st.integers(0, 2**31 - 1)),
        chunks=draw(st.booleans()), formulation=draw(st.sampled_from([None, "input", "output"])),
        needs=draw(st.tuples(st.booleans(), st.booleans(), st.booleans())),
    )
    if transposed:
        c["oph"] = draw(st.integers(0, c["sh"] - 1))
        c["opw"] = draw(st.integers(0, c["sw"] - 1))
        oh = conv_transpose2d_output_size(c["h"], c["kh"], c["sh"], c["ph"], c["oph"])
        ow = conv_transpose2d_output_size(c["w"], c["kw"], c["sw"], c["pw"], c["opw"])
    else:
        oh = conv2d_output_size(c["h"], c["kh"], c["sh"], c["ph"])
        ow = conv2d_output_size(c["w"], c["kw"], c["sw"], c["pw"])
    assume(oh >= 1 and ow >= 1)
    c["out_hw"] = (oh, ow)
    return c


@SETTINGS
@given(conv_config(transposed=False))
def test_conv2d_matches_reference(c):
    dt, rng = c["dtype"], np.random.default_rng(c["seed"])
    stride, padding = (c["sh"], c["sw"]), (c["ph"], c["pw"])
    x, x64 = randn(rng, (c["n"], c["cin"], c["h"], c["w"]), dt)
    w, w64 = randn(rng, (c["cout"], c["cin"], c["kh"], c["kw"]), dt)
    b, b64 = randn(rng, (c["cout"],), dt) if c["bias"] else (None, None)
    gy, gy64 = randn(rng, (c["n"], c["cout"]) + c["out_hw"], dt)
    A = np.abs  # the reference on |inputs|: the magnitude of the summed terms
    s_y = ref.conv2d(A(x64), A(w64), None if b is None else A(b64), stride, padding).max()
    s_gx = ref.conv2d_grad_input(A(gy64), A(w64), (c["h"], c["w"]), stride, padding).max()
    s_gw = ref.conv2d_grad_weight(A(x64), A(gy64), (c["kh"], c["kw"]), stride, padding).max()
    with Forced(c["chunks"], c["formulation"]):
        assert_close(cpu.conv2d(x, w, b, stride, padding),
                     ref.conv2d(x64, w64, b64, stride, padding), dt, "conv2d", s_y)
        assert_close(cpu.conv2d_grad_input(gy, w, (c["h"], c["w"]), stride, padding),
                     ref.conv2d_grad_input(gy64, w64, (c["h"], c["w"]), stride, padding), dt,
                     "conv2d_grad_input", s_gx)
        assert_close(cpu.conv2d_grad_weight(x, gy, (c["kh"], c["kw"]), stride, padding),
                     ref.conv2d_grad_weight(x64, gy64, (c["kh"], c["kw"]), stride, padding), dt,
                     "conv2d_grad_weight", s_gw)
        assert_close(cpu.conv2d_grad_bias(gy), ref.conv2d_grad_bias(gy64), dt, "conv2d_grad_bias",
                     ref.conv2d_grad_bias(A(gy64)).max())
        _check_backward(cpu.conv2d_backward(x, gy, w, stride, padding, c["needs"]), c["needs"], dt,
                        [(ref.conv2d_grad_input(gy64, w64, (c["h"], c["w"]), stride, padding), s_gx),
                         (ref.conv2d_grad_weight(x64, gy64, (c["kh"], c["kw"]), stride, padding), s_gw),
                         (ref.conv2d_grad_bias(gy64), ref.conv2d_grad_bias(A(gy64)).max())])


def _check_backward(got, needs, dt, wanted):
    """conv*_backward: each gradient asked for matches the reference, the others are None."""
    assert len(got) == 3
    for g, need, (want, scale), name in zip(got, needs, wanted, ("input", "weight", "bias")):
        if need:
            assert_close(g, want, dt, f"backward: {name} gradient", scale)
        else:
            assert g is None, f"backward: {name} gradient not asked for, got {type(g)}"


@SETTINGS
@given(conv_config(transposed=True))
def test_conv_transpose2d_matches_reference(c):
    dt, rng = c["dtype"], np.random.default_rng(c["seed"])
    stride, padding, outpad = (c["sh"], c["sw"]), (c["ph"], c["pw"]), (c["oph"], c["opw"])
    x, x64 = randn(rng, (c["n"], c["cin"], c["h"], c["w"]), dt)
    w, w64 = randn(rng, (c["cin"], c["cout"], c["kh"], c["kw"]), dt)
    b, b64 = randn(rng, (c["cout"],), dt) if c["bias"] else (None, None)
    gy, gy64 = randn(rng, (c["n"], c["cout"]) + c["out_hw"], dt)
    A = np.abs
    s_y = ref.conv_transpose2d(A(x64), A(w64), None if b is None else A(b64), stride, padding,
                               outpad).max()
    s_gx = ref.conv_transpose2d_grad_input(A(gy64), A(w64), stride, padding).max()
    s_gw = ref.conv_transpose2d_grad_weight(A(x64), A(gy64), (c["kh"], c["kw"]), stride, padding).max()
    with Forced(c["chunks"], c["formulation"]):
        assert_close(cpu.conv_transpose2d(x, w, b, stride, padding, outpad),
                     ref.conv_transpose2d(x64, w64, b64, stride, padding, outpad), dt,
                     "conv_transpose2d", s_y)
        assert_close(cpu.conv_transpose2d_grad_input(gy, w, stride, padding),
                     ref.conv_transpose2d_grad_input(gy64, w64, stride, padding), dt,
                     "conv_transpose2d_grad_input", s_gx)
        assert_close(cpu.conv_transpose2d_grad_weight(x, gy, (c["kh"], c["kw"]), stride, padding),
                     ref.conv_transpose2d_grad_weight(x64, gy64, (c["kh"], c["kw"]), stride, padding),
                     dt, "conv_transpose2d_grad_weight", s_gw)
        _check_backward(
            cpu.conv_transpose2d_backward(x, gy, w, stride, padding, c["needs"]), c["needs"], dt,
            [(ref.conv_transpose2d_grad_input(gy64, w64, stride, padding), s_gx),
             (ref.conv_transpose2d_grad_weight(x64, gy64, (c["kh"], c["kw"]), stride, padding), s_gw),
             (ref.conv2d_grad_bias(gy64), ref.conv2d_grad_bias(A(gy64)).max())])


def _bn_inputs(rng, n, ch, spatial, training, affine, running, offset, dtype):
    """A batch-norm test case: shape, whether running statistics are kept, x, weight, bias, running
    mean / var (each also in float64)."""
    shape = (n, ch) if spatial is None else (n, ch) + spatial
    if training:
        assume(n * (1 if spatial is None else spatial[0] * spatial[1]) > 1)  # as PyTorch demands
    else:
        running = True                     # eval normalises with the running statistics
    x, x64 = randn(rng, shape, dtype, scale=2.0, offset=offset)
    weight, weight64 = randn(rng, (ch,), dtype) if affine else (None, None)
    bias, bias64 = randn(rng, (ch,), dtype) if affine else (None, None)
    if running:
        rm = rng.standard_normal(ch).astype(dtype)
        rv = (rng.random(ch) + 0.5).astype(dtype)
        rm64, rv64 = rm.astype(np.float64), rv.astype(np.float64)
    else:
        rm = rv = rm64 = rv64 = None
    return shape, running, x, x64, weight, weight64, bias, bias64, rm, rv, rm64, rv64


@SETTINGS
@given(n=st.integers(1, 3), ch=st.integers(1, 5), spatial=st.one_of(st.none(), st.tuples(
           st.integers(1, 9), st.integers(1, 9))),
       training=st.booleans(), affine=st.booleans(), running=st.booleans(),
       momentum=st.sampled_from([0.0, 0.1, 0.5, 1.0]), eps=st.sampled_from([1e-5, 1e-3, 0.1]),
       offset=st.sampled_from([0.0, 3.0, -20.0]), dtype=DTYPES, seed=st.integers(0, 2**31 - 1),
       parallel=st.booleans())
def test_batch_norm_matches_reference(n, ch, spatial, training, affine, running, momentum, eps,
                                      offset, dtype, seed, parallel):
    rng = np.random.default_rng(seed)
    shape, running, x, x64, weight, weight64, bias, bias64, rm, rv, rm64, rv64 = _bn_inputs(
        rng, n, ch, spatial, training, affine, running, offset, dtype)
    with Threads(parallel):
        y, mean, invstd = cpu.batch_norm(x, rm, rv, weight, bias, training, momentum, eps)
    ry, rmean, rinvstd = ref.batch_norm(x64, rm64, rv64, weight64, bias64, training, momentum, eps)
    assert_close(y, ry, dtype, "y")
    assert_close(mean, rmean, dtype, "mean")
    assert_close(invstd, rinvstd, dtype, "invstd")
    if running:
        assert_close(rm, rm64, dtype, "running_mean")
        assert_close(rv, rv64, dtype, "running_var")

    gy, gy64 = randn(rng, shape, dtype)
    # Both backward passes get the same (float32-representable) statistics.
    mean_in, invstd_in = rmean.astype(dtype), rinvstd.astype(dtype)
    with Threads(parallel):
        gx, gw, gb = cpu.batch_norm_backward(gy, x, weight, mean_in, invstd_in, training)
    rgx, rgw, rgb = ref.batch_norm_backward(gy64, x64, weight64, mean_in.astype(np.float64),
                                            invstd_in.astype(np.float64), training)
    # Term magnitudes: gx = a*(gy - mean(gy) - x_hat*mean(gy*x_hat)), a = w*invstd.
    axes = (0,) + tuple(range(2, len(shape)))
    bshape = (1, ch) + (1,) * (len(shape) - 2)
    x_hat = (x64 - mean_in.astype(np.float64).reshape(bshape)) * invstd_in.astype(np.float64).reshape(bshape)
    a = np.abs(invstd_in.astype(np.float64) * (1.0 if weight is None else weight64))
    s_gx = (a.max() * (np.abs(gy64).max() * 2 + np.abs(x_hat).max() * np.abs(gy64 * x_hat).mean(axes).max()))
    assert_close(gx, rgx, dtype, "gx", s_gx)
    assert_close(gw, rgw, dtype, "gweight", np.abs(gy64 * x_hat).sum(axes).max())
    assert_close(gb, rgb, dtype, "gbias", np.abs(gy64).sum(axes).max())


@SETTINGS
@given(n=st.integers(1, 3), ch=st.integers(1, 5), spatial=st.one_of(st.none(), st.tuples(
           st.integers(1, 9), st.integers(1, 9))),
       training=st.booleans(), affine=st.booleans(), running=st.booleans(),
       momentum=st.sampled_from([0.0, 0.1, 1.0]), eps=st.sampled_from([1e-5, 0.1]),
       offset=st.sampled_from([0.0, 3.0, -20.0]), slope=st.sampled_from([0.2, 0.0, -0.5, 1.0]),
       dtype=DTYPES, seed=st.integers(0, 2**31 - 1), parallel=st.booleans())
def test_batch_norm_leaky_relu_matches_reference(n, ch, spatial, training, affine, running, momentum,
                                                 eps, offset, slope, dtype, seed, parallel):
    rng = np.random.default_rng(seed)
    shape, running, x, x64, weight, weight64, bias, bias64, rm, rv, rm64, rv64 = _bn_inputs(
        rng, n, ch, spatial, training, affine, running, offset, dtype)
    with Threads(parallel):
        y, mean, invstd = cpu.batch_norm_leaky_relu(x, rm, rv, weight, bias, training, momentum, eps,
                                                    slope)
    ry, rmean, rinvstd = ref.batch_norm_leaky_relu(x64, rm64, rv64, weight64, bias64, training,
                                                   momentum, eps, slope)
    assert_close(y, ry, dtype, "y")
    assert_close(mean, rmean, dtype, "mean")
    assert_close(invstd, rinvstd, dtype, "invstd")
    if running:                            # updated in place in training, untouched in eval
        assert_close(rm, rm64, dtype, "running_mean")
        assert_close(rv, rv64, dtype, "running_var")

    gy, gy64 = randn(rng, shape, dtype)
    mean_in, invstd_in = rmean.astype(dtype), rinvstd.astype(dtype)
    mean64, invstd64 = mean_in.astype(np.float64), invstd_in.astype(np.float64)
    bshape = (1, ch) + (1,) * (len(shape) - 2)
    x_hat = (x64 - mean64.reshape(bshape)) * invstd64.reshape(bshape)
    z = x_hat * (1.0 if weight is None else weight64.reshape(bshape)) + (
        0.0 if bias is None else bias64.reshape(bshape))
    # Where z is within rounding of the kink the float32 mask may legitimately differ from the
    # float64 one: give those elements no gradient, so either derivative gives the same answer.
    gy[np.abs(z) < 1e-4 * (1.0 + np.abs(z).max())] = 0.0
    gy64 = gy.astype(np.float64)
    with Threads(parallel):
        gx, gw, gb = cpu.batch_norm_leaky_relu_backward(gy, x, weight, bias, mean_in, invstd_in,
                                                        training, slope)
    rgx, rgw, rgb = ref.batch_norm_leaky_relu_backward(gy64, x64, weight64, bias64, mean64, invstd64,
                                                       training, slope)
    axes = (0,) + tuple(range(2, len(shape)))
    g64 = gy64 * np.where(z < 0, abs(slope), 1.0)  # |the activation's gradient|: term magnitudes
    a = np.abs(invstd64 * (1.0 if weight is None else weight64))
    s_gx = a.max() * (np.abs(g64).max() * 2 + np.abs(x_hat).max() * np.abs(g64 * x_hat).mean(axes).max())
    assert_close(gx, rgx, dtype, "gx", s_gx)
    assert_close(gw, rgw, dtype, "gweight", np.abs(g64 * x_hat).sum(axes).max())
    assert_close(gb, rgb, dtype, "gbias", np.abs(g64).sum(axes).max())


@SETTINGS
@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=4).map(tuple),
       slope=st.sampled_from([0.0, 0.01, 0.2, 1.5]), dtype=DTYPES, seed=st.integers(0, 2**31 - 1),
       parallel=st.booleans())
def test_leaky_relu_matches_reference(shape, slope, dtype, seed, parallel):
    rng = np.random.default_rng(seed)
    x, x64 = randn(rng, shape, dtype)
    x.reshape(-1)[::3] = 0.0               # the kink: gradient `slope` there (PyTorch's)
    x64 = x.astype(np.float64)
    gy, gy64 = randn(rng, shape, dtype)
    with Threads(parallel):
        y, gx = cpu.leaky_relu(x, slope), cpu.leaky_relu_backward(gy, x, slope)
    assert_close(y, ref.leaky_relu(x64, slope), dtype, "leaky_relu")
    assert_close(gx, ref.leaky_relu_backward(gy64, x64, slope), dtype, "leaky_relu_backward")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dcgan_shapes_match_reference(dtype):
    """The exact layer shapes of the DCGAN (batch 4), through the parallel paths."""
    with Threads(True):
        _dcgan_shapes(dtype)


def _dcgan_shapes(dtype):
    rng = np.random.default_rng(0)
    cases = [  # (transposed, cin, cout, hw, k, s, p)
        (True, 32, 16, 7, 4, 2, 1), (True, 16, 8, 14, 4, 2, 1), (False, 8, 1, 28, 3, 1, 1),
        (False, 1, 8, 28, 4, 2, 1), (False, 8, 16, 14, 4, 2, 1),
    ]
    for transposed, cin, cout, hw, k, s, p in cases:
        x, x64 = randn(rng, (4, cin, hw, hw), dtype)
        if transposed:
            w, w64 = randn(rng, (cin, cout, k, k), dtype)
            y = cpu.conv_transpose2d(x, w, None, (s, s), (p, p), (0, 0))
            assert_close(y, ref.conv_transpose2d(x64, w64, None, (s, s), (p, p), (0, 0)), dtype, "convT")
            gy, gy64 = randn(rng, y.shape, dtype)
            assert_close(cpu.conv_transpose2d_grad_input(gy, w, (s, s), (p, p)),
                         ref.conv_transpose2d_grad_input(gy64, w64, (s, s), (p, p)), dtype, "convT gi")
            assert_close(cpu.conv_transpose2d_grad_weight(x, gy, (k, k), (s, s), (p, p)),
                         ref.conv_transpose2d_grad_weight(x64, gy64, (k, k), (s, s), (p, p)),
                         dtype, "convT gw")
            for a, e in zip(cpu.conv_transpose2d_backward(x, gy, w, (s, s), (p, p), (True,) * 3),
                            ref.conv_transpose2d_backward(x64, gy64, w64, (s, s), (p, p), (True,) * 3)):
                assert_close(a, e, dtype, "convT backward (shared im2col)")
        else:
            w, w64 = randn(rng, (cout, cin, k, k), dtype)
            y = cpu.conv2d(x, w, None, (s, s), (p, p))
            assert_close(y, ref.conv2d(x64, w64, None, (s, s), (p, p)), dtype, "conv")
            gy, gy64 = randn(rng, y.shape, dtype)
            assert_close(cpu.conv2d_grad_input(gy, w, (hw, hw), (s, s), (p, p)),
                         ref.conv2d_grad_input(gy64, w64, (hw, hw), (s, s), (p, p)), dtype, "conv gi")
            assert_close(cpu.conv2d_grad_weight(x, gy, (k, k), (s, s), (p, p)),
                         ref.conv2d_grad_weight(x64, gy64, (k, k), (s, s), (p, p)), dtype, "conv gw")
            for a, e in zip(cpu.conv2d_backward(x, gy, w, (s, s), (p, p), (True,) * 3),
                            ref.conv2d_backward(x64, gy64, w64, (s, s), (p, p), (True,) * 3)):
                assert_close(a, e, dtype, "conv backward (bias from the weight pass)")
    for shape in [(4, 12544 // 16), (4, 16, 14, 14)]:
        x, x64 = randn(rng, shape, dtype, offset=1.0)
        y, mean, invstd = cpu.batch_norm(x, None, None, None, None, True, 0.1, 1e-5)
        ry, rmean, rinvstd = ref.batch_norm(x64, None, None, None, None, True, 0.1, 1e-5)
        assert_close(y, ry, dtype, "bn y")
        gy, gy64 = randn(rng, shape, dtype)
        for a, e in zip(cpu.batch_norm_backward(gy, x, None, rmean.astype(dtype), rinvstd.astype(dtype), True),
                        ref.batch_norm_backward(gy64, x64, None, rmean.astype(dtype).astype(np.float64),
                                                rinvstd.astype(dtype).astype(np.float64), True)):
            assert_close(a, e, dtype, "bn backward")
        # Fused with leaky ReLU(0.2), with an affine transform as in the DCGAN.
        w, w64 = randn(rng, shape[1:2], dtype, scale=0.02, offset=1.0)
        b, b64 = randn(rng, shape[1:2], dtype, scale=0.1)
        y, mean, invstd = cpu.batch_norm_leaky_relu(x, None, None, w, b, True, 0.1, 1e-5, 0.2)
        ry, rmean, rinvstd = ref.batch_norm_leaky_relu(x64, None, None, w64, b64, True, 0.1, 1e-5, 0.2)
        assert_close(y, ry, dtype, "bn+lrelu y")
        mean64, invstd64 = mean.astype(np.float64), invstd.astype(np.float64)
        for a, e in zip(cpu.batch_norm_leaky_relu_backward(gy, x, w, b, mean, invstd, True, 0.2),
                        ref.batch_norm_leaky_relu_backward(gy64, x64, w64, b64, mean64, invstd64, True, 0.2)):
            assert_close(a, e, dtype, "bn+lrelu backward")


cpu_workers = importlib.import_module("tensorgan.kernels.cpu._workers")
cpu_optim = importlib.import_module("tensorgan.kernels.cpu.optim")


@SETTINGS
@given(m=st.integers(1, 70), k=st.integers(1, 40), n=st.integers(1, 70), dtype=DTYPES,
       transposed=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_gemm_matches_numpy(m, k, n, dtype, transposed, seed):
    """The threaded GEMM of the engine's Linear layers (row bands, or column bands when a has a
    single row) equals a @ b, on contiguous and transposed operands."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((n, k)).astype(dtype).T if transposed else rng.standard_normal((k, n)).astype(dtype)
    saved = cpu_workers.PARALLEL_MIN_MACS
    cpu_workers.PARALLEL_MIN_MACS = 0          # split even these small products across the threads
    try:
        out = cpu.gemm(a, b)
    finally:
        cpu_workers.PARALLEL_MIN_MACS = saved
    expected = a.astype(np.float64) @ b.astype(np.float64)
    assert_close(out, expected, dtype, "gemm", scale=(np.abs(a).astype(np.float64) @ np.abs(b)).max())


def _conv_calls(rng, dtype=np.float32):
    x = rng.standard_normal((5, 3, 9, 9)).astype(dtype)
    w = rng.standard_normal((4, 3, 4, 4)).astype(dtype)
    gy = rng.standard_normal((5, 4, 4, 4)).astype(dtype)
    return [cpu.conv2d(x, w, None, (2, 2), (1, 1)),
            cpu.conv2d_grad_weight(x, gy, (4, 4), (2, 2), (1, 1)),
            cpu.conv2d_grad_input(gy, w, (9, 9), (2, 2), (1, 1)),
            cpu.conv_transpose2d(gy, w, None, (2, 2), (1, 1), (1, 1))]


def test_batch_parallel_convs_are_deterministic_and_own_their_results():
    """The thread split is static and the partial weight gradients are summed in thread order, so
    repeated calls agree bit for bit; results never alias the threads' reusable scratch buffers
    (a later call with other inputs leaves them untouched)."""
    with Forced(small_chunks=True, formulation=None):     # several chunks, both threads
        first = _conv_calls(np.random.default_rng(1))
        kept = [a.copy() for a in first]
        again = _conv_calls(np.random.default_rng(1))
        _conv_calls(np.random.default_rng(2))              # reuses every scratch buffer
    for a, b, k in zip(first, again, kept):
        assert np.array_equal(a, b)
        assert np.array_equal(a, k)


def test_worker_error_reaches_the_caller_and_the_pool_survives(monkeypatch):
    """An exception in any thread's slice is raised in the caller once every slice has finished;
    the next call runs normally."""
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    done = []

    def body(n0, n1):
        done.append((n0, n1))
        if n0 > 0:
            raise ValueError("slice failed")

    with pytest.raises(ValueError, match="slice failed"):
        cpu_workers.run_over_batch(4, 1, 1 << 20, body)
    assert sorted(done) == [(0, 2), (2, 4)]
    partials = cpu_workers.run_over_batch(4, 1, 1 << 20, lambda n0, n1: np.full(3, n1 - n0, float))
    assert [p.tolist() for p in partials] == [[2.0] * 3, [2.0] * 3]


def test_callers_errstate_covers_every_thread(monkeypatch):
    """np.errstate set by the caller applies to the worker threads' parts too (NumPy keeps it in
    a context variable, and each part runs in a copy of the caller's context): an overflow in
    the second thread's images neither warns when ignored nor escapes when it must raise."""
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 9, 9)).astype(np.float32)
    x[2:] = np.float32(3e38)                       # only the worker's half overflows
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore", invalid="ignore"):
            y = cpu.conv2d(x, w, None, (1, 1), (1, 1))
    assert not np.isfinite(y[2:]).all() and np.isfinite(y[:2]).all()
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        cpu.conv2d(x, w, None, (1, 1), (1, 1))


@pytest.mark.parametrize("transposed,cin,cout,hw,k,s,p", [
    (True, 32, 16, 7, 4, 2, 1), (True, 16, 8, 14, 4, 2, 1), (False, 8, 1, 28, 3, 1, 1),
    (False, 1, 8, 28, 4, 2, 1), (False, 8, 16, 14, 4, 2, 1)])
def test_every_conv_flop_runs_in_the_recorded_gemms(transposed, cin, cout, hw, k, s, p):
    """The convolutions' claim -- all FLOPs in BLAS GEMMs, Numba only moves data -- and the GEMM
    trace ``benchmarks.kernels`` replays: at the DCGAN's layer shapes (batch 6, every thread,
    several chunks) the recorded GEMMs of each pass add up to exactly 2*N*C_in*C_out*kH*kW*P,
    P = the pixels of the larger of input and output (every tap of every pixel, as the
    formulation's docstring counts them)."""
    rng = np.random.default_rng(0)
    n = 6
    x = rng.standard_normal((n, cin, hw, hw)).astype(np.float32)
    if transposed:
        w = rng.standard_normal((cin, cout, k, k)).astype(np.float32)
        y_shape = cpu.conv_transpose2d(x, w, None, (s, s), (p, p), (0, 0)).shape
        calls = [lambda: cpu.conv_transpose2d(x, w, None, (s, s), (p, p), (0, 0)),
                 lambda: cpu.conv_transpose2d_grad_input(gy, w, (s, s), (p, p)),
                 lambda: cpu.conv_transpose2d_grad_weight(x, gy, (k, k), (s, s), (p, p))]
        pixels = hw * hw                        # the small (input) side: each input pixel x taps
    else:
        w = rng.standard_normal((cout, cin, k, k)).astype(np.float32)
        y_shape = cpu.conv2d(x, w, None, (s, s), (p, p)).shape
        calls = [lambda: cpu.conv2d(x, w, None, (s, s), (p, p)),
                 lambda: cpu.conv2d_grad_input(gy, w, (hw, hw), (s, s), (p, p)),
                 lambda: cpu.conv2d_grad_weight(x, gy, (k, k), (s, s), (p, p))]
        pixels = y_shape[2] * y_shape[3]       # each output pixel x taps
    gy = rng.standard_normal(y_shape).astype(np.float32)
    expected = 2 * n * cin * cout * k * k * pixels
    threads = min(numba.get_num_threads(), n)
    with Forced(small_chunks=True, formulation=None):
        for call in calls:
            with cpu_pack.record_gemms() as per_thread:
                call()
            flops = sum(2 * a[0][0] * a[0][1] * b[0][1]
                        for gemms in per_thread.values() for a, b, _ in gemms)
            assert flops == expected
            assert len(per_thread) == threads, "every thread multiplies its slice of the batch"


@SETTINGS
@given(size=st.integers(1, 300), dtype=DTYPES, steps=st.integers(1, 4),
       lr=st.floats(1e-5, 1e-1), beta1=st.floats(0.0, 0.99), beta2=st.floats(0.5, 0.9999),
       parallel=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_adam_update_is_bit_identical_to_reference(size, dtype, steps, lr, beta1, beta2, parallel,
                                                   seed):
    """The fused Numba pass rounds exactly like the reference's ufunc sequence (same operations,
    same order, scalars in the arrays' dtype): equal bit for bit, step after step -- on one thread
    and split across the worker threads."""
    saved = cpu_optim.ADAM_SPLIT_MIN_ELEMENTS
    cpu_optim.ADAM_SPLIT_MIN_ELEMENTS = 0 if parallel else 1 << 62
    try:
        _adam_steps(size, dtype, steps, lr, beta1, beta2, seed)
    finally:
        cpu_optim.ADAM_SPLIT_MIN_ELEMENTS = saved


def _adam_steps(size, dtype, steps, lr, beta1, beta2, seed):
    rng = np.random.default_rng(seed)
    fused = [rng.standard_normal(size).astype(dtype), np.zeros(size, dtype), np.zeros(size, dtype)]
    ufuncs = [a.copy() for a in fused]
    for step in range(1, steps + 1):
        g = rng.standard_normal(size).astype(dtype)
        cpu.adam_update(fused[0], g, fused[1], fused[2], lr, beta1, beta2, 1e-8, step)
        ref.adam_update(ufuncs[0], g, ufuncs[1], ufuncs[2], lr, beta1, beta2, 1e-8, step)
        for a, b in zip(fused, ufuncs):
            np.testing.assert_array_equal(a, b)


@SETTINGS
@given(size=st.integers(1, 300), dtype=DTYPES, weight=st.one_of(st.floats(-2.0, 2.0),
                                                               st.sampled_from([0.5, 1.0, 0.0])),
       in_place=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_lerp_update_is_bit_identical_to_reference(size, dtype, weight, in_place, seed):
    """The one-pass weight average rounds as the reference's three ufuncs: equal bit for bit, into
    a separate output and in place (its own loop)."""
    rng = np.random.default_rng(seed)
    a, end = (rng.standard_normal(size).astype(dtype) for _ in range(2))
    want = np.empty_like(a)
    ref.lerp_update(a, end, weight, want)
    out = a.copy() if in_place else np.full_like(a, np.nan)
    cpu.lerp_update(out if in_place else a, end, weight, out)
    np.testing.assert_array_equal(out, want)


# ------------------------------------------------------------------------------ fork and threads
_FORK_CHILD = """
import os, sys
import numpy as np
from tensorgan.kernels import cpu, reference as ref
rng = np.random.default_rng(0)
x = rng.standard_normal((8, 16, 32, 32)).astype(np.float32)   # above the parallel threshold
cpu.leaky_relu(x, 0.2)                                        # GNU OpenMP's threads start here
w, b = np.ones(16, np.float32), np.zeros(16, np.float32)
pid = os.fork()
if pid == 0:                                    # the child: every prange kernel, then exit
    try:
        ok = np.allclose(cpu.leaky_relu(x, 0.2), ref.leaky_relu(x, 0.2))
        y, mean, invstd = cpu.batch_norm_leaky_relu(x, None, None, w, b, True, 0.1, 1e-5, 0.2)
        ok &= np.allclose(y, ref.batch_norm_leaky_relu(x.astype(np.float64), None, None, w, b, True,
                                                       0.1, 1e-5, 0.2)[0], atol=1e-4)
        ok &= np.allclose(cpu.conv2d_grad_bias(x), x.sum(axis=(0, 2, 3)), rtol=1e-4)
    finally:
        os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_a_child_forked_after_the_parallel_kernels_can_run_them():
    # GNU OpenMP kills a forked child at its first parallel region; the child runs serial twins.
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-c", _FORK_CHILD], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])


@pytest.mark.parametrize("kernel", ["leaky_relu", "batch_norm_leaky_relu", "conv2d_grad_bias"])
def test_the_serial_twins_compute_what_the_parallel_kernels_do(kernel, monkeypatch):
    from tensorgan.kernels.cpu import _threads
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 16, 32, 32)).astype(np.float32)
    w, b = np.ones(16, np.float32), np.zeros(16, np.float32)
    call = {"leaky_relu": lambda: cpu.leaky_relu(x, 0.2),
            "batch_norm_leaky_relu": lambda: cpu.batch_norm_leaky_relu(x, None, None, w, b, True, 0.1,
                                                                       1e-5, 0.2)[0],
            "conv2d_grad_bias": lambda: cpu.conv2d_grad_bias(x)}[kernel]
    parallel = call()
    monkeypatch.setattr(_threads, "_serial_only", True)
    np.testing.assert_array_equal(call(), parallel)


def test_blas_limit_is_set_by_the_first_caller_and_restored_by_the_last(monkeypatch):
    """Two threads inside single_threaded_blas at once, the first leaving first: the limit must
    hold until the second leaves, and be restored once (each saving and restoring the setting
    it found, as before, left BLAS on one thread for good).  A stand-in controller records it:
    the real OpenBLAS only honours a thread count from some threads (see the closing note)."""
    import threading
    events = []

    class Library:             # a threadpoolctl LibController's get / set
        def __init__(self, threads):
            self.threads = threads

        @property
        def num_threads(self):
            return self.threads

        def set_num_threads(self, n):
            events.append(f"set {self.threads} -> {n}")
            self.threads = n
    # one library at 2 threads is set to 1 and back; one already at 1 is left alone
    monkeypatch.setattr(cpu_workers, "_blas", [Library(2), Library(1)])
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a():
        with cpu_workers.single_threaded_blas():
            a_in.set()
            b_in.wait(5)
        events.append("a left")
        a_out.set()

    def b():
        a_in.wait(5)
        with cpu_workers.single_threaded_blas():
            b_in.set()
            a_out.wait(5)
        events.append("b left")
    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert events == ["set 2 -> 1", "a left", "set 1 -> 2", "b left"] and cpu_workers._blas_holders == 0
    assert [lib.threads for lib in cpu_workers._blas] == [2, 1]


def test_ctrl_c_while_waiting_lets_the_worker_finish_first(monkeypatch):
    """A KeyboardInterrupt that reaches the calling thread while a worker still writes into the
    call's buffers is raised only after that worker has finished."""
    import _thread
    import signal
    import threading
    import time
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    # Python's own Ctrl-C handler, whatever this process inherited: a shell's background job
    # starts with SIGINT ignored, and then interrupt_main() does nothing at all.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    finished = []

    def part(bounds):
        if bounds[0] > 0:                  # the worker's part: slow
            time.sleep(0.4)
            finished.append("worker")
        return bounds

    threading.Timer(0.1, _thread.interrupt_main).start()
    try:
        with pytest.raises(KeyboardInterrupt):
            cpu_workers.run_parts(2, [(0, 1), (1, 2)], part, blas=False)
            time.sleep(2)                  # (not reached when the interrupt lands in the wait)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert finished == ["worker"]


@pytest.mark.parametrize("given", ["mean", "var"])
def test_batch_norm_updates_running_stats_only_as_a_pair(given):
    # The reference updates both or neither; a lone running buffer stays as it was.
    x = np.random.default_rng(0).standard_normal((6, 3, 2, 2)).astype(np.float32)
    for module in (ref, cpu):
        lone = np.zeros(3, np.float32) if given == "mean" else np.ones(3, np.float32)
        before = lone.copy()
        args = (lone, None) if given == "mean" else (None, lone)
        module.batch_norm(x, *args, None, None, True, 0.1, 1e-5)
        assert np.array_equal(lone, before), module.__name__


@pytest.mark.parametrize("shape", [(4, 1, 1, 1), (4, 1)], ids=["4d", "2d"])
@pytest.mark.parametrize("slope", [0.2, 1.0], ids=["leaky", "plain"])
def test_eval_backward_stays_finite_where_the_input_is_not(shape, slope):
    # Eval's input gradient is weight * invstd * mask * g: no term in x - mean, so a NaN or inf
    # input (whose output is NaN/inf) still gets the reference's finite gradient, as in torch.
    x = np.array([1.0, np.nan, -2.0, np.inf], np.float32).reshape(shape)
    gy = np.ones_like(x)
    w, b = np.full(1, 2.0, np.float32), np.zeros(1, np.float32)
    mean, invstd = np.zeros(1, np.float32), np.full(1, 0.5, np.float32)
    gx = cpu.batch_norm_leaky_relu_backward(gy, x, w, b, mean, invstd, False, slope)[0]
    rgx = ref.batch_norm_leaky_relu_backward(*(a.astype(np.float64) for a in (gy, x, w, b, mean,
                                                                            invstd)), False, slope)[0]
    np.testing.assert_allclose(gx, rgx, rtol=1e-6)
    assert np.isfinite(gx).all()
