"""conv2d and its three gradients on the CPU: Numba packs around one BLAS GEMM per batch chunk.

Shapes: x (N, C_in, H, W), w (C_out, C_in, kH, kW), y (N, C_out, OH, OW), K = C_in*kH*kW,
P = OH*OW.  FLOPs of the forward and of each input/weight gradient: 2*N*C_out*P*K (at batch 64,
D 64->128 14->7: 0.82 GFLOP; G 64->1 28->28 k3: 0.058 GFLOP; D 1->64 28->14: 0.026 GFLOP).
Every FLOP happens inside ``numpy.matmul`` (OpenBLAS SGEMM/DGEMM, single-threaded inside each
batch-slice worker thread: see ``_workers``); the Numba kernels (``_pack.py``) only move data.
Bytes (itemsize s): DRAM sees about the compulsory ``s * (|x| + |w| + |y|)`` (each gradient: its
own operands); the packed operand -- ``s*K*N*P`` for the input side, kH*kW/(sh*sw) times x
(4x at the DCGAN's k4 s2 layers) -- is written and read back one cache-sized chunk at a time
(``_pack.COLS_BUDGET``), from L2 / L3.
Two formulations; each call takes the one its time model (``_use_output_side``: bytes moved and
FLOPs) says is faster:

input-side  (any stride) -- the classic im2col:
            cols (K, N*P) = pack(x)                       K*N*P elements written + read
            Y (C_out, N*P) = w.reshape(C_out, K) @ cols
            y = unpack(Y) + b                               C_out*N*P read + written
output-side (stride 1 only; wins when C_out*kH*kW << C_in*kH*kW, e.g. G's 64->1 k3 layer; the
            cost model also counts the extra FLOPs the output side spends on input pixels no
            output needs):
            Xt (C_in, N*H*W) = x transposed                 C_in*N*H*W
            Z (C_out*kH*kW, N*H*W) = w' @ Xt                 every tap at every input position
            y[n, co] = b + sum of kH*kW shifted rows of Z    (``col2im_add``, per private plane)

pointwise   (1x1, stride 1, no padding, at least ``_pack.POINTWISE_MIN_AREA`` pixels) no im2col:
            y[n] (C_out, P) = w (C_out, C_in) @ x[n] (C_in, P), one GEMM per image straight from
            the NCHW planes into y (``_pack.pointwise``; the input gradient likewise, with w^T).

grad_input  the adjoint of conv2d is a transposed convolution with the same weight tensor:
            conv_transpose_core(gy, w) with the output size pinned to (H, W) (see conv_transpose2d.py
            -- stride-phase decomposition or output-side GEMM, never a racing scatter-add).
grad_weight input-side:  gw (C_out, K) = G (C_out, N*P) @ cols(x)^T,  G = gy transposed
            (computed as (cols @ G^T)^T -- see ``_sum_of_a_bt`` for why the orientation matters)
            output-side (stride 1): gw' (C_out*kH*kW, C_in) = pack(gy at input positions) @ Xt^T
            -- the reduction (length N*P or N*H*W) runs inside one GEMM per chunk.
grad_bias   per-channel sum of gy, accumulated in float64; ``prange`` over channels.
backward    (``conv2d_backward``, what the engine calls) the input gradient as above; where the
            weight gradient takes the input side, the bias gradient is the channel sums of its
            transposed gy G, taken in the same pass (no pass over gy of its own); where, in
            addition, the input gradient takes the output side (strided layers such as D's
            64->128), all three come from one pass that transposes each chunk of gy once
            (``_grad_weight_input_side`` given w: D 64->128 backward 6% faster than two passes).

Launch shape: the batch is split into one contiguous slice per thread (``_workers.py``); each
thread packs, multiplies (OpenBLAS, one thread) and unpacks its slice in chunks of about
``_pack.COLS_BUDGET`` scratch elements, so a chunk's packed operand is still in cache when the GEMM
reads it.  Weight gradients: each thread sums its chunks' products; the partial sums are added
in thread order (deterministic).  ``conv2d_grad_bias`` is a Numba ``prange`` over channels.
"""
import numpy as np
from numba import njit, prange

from ..shapes import conv2d_output_size
from . import _pack
from ._pack import (bias_arg, c_order, col2im_add, col2im_tables, is_pointwise, matmul, output_side,
                    pack_cols, pointwise, transposed_input, unpack_rows)
from ._workers import run_over_batch, sum_in_order
from ._threads import parallel_kernel, serial_below_threshold
from .conv_transpose2d import _SHARED_BUDGET_FACTOR, conv_transpose_core


def _conv_work(a, w, *_):
    """Elements moved, roughly: the input plus its im2col expansion (kH*kW copies)."""
    return a.size * (w.shape[2] * w.shape[3] + 1)


# Cost model for choosing a formulation, per image, in nanoseconds on this machine (one thread):
# ~0.7 ns per element a Numba pack/unpack moves, ~1/150 ns per GEMM FLOP (OpenBLAS SGEMM).
_NS_PER_ELEMENT, _NS_PER_FLOP = 0.7, 1.0 / 150.0


def _use_output_side(Cin, Co, k_area, in_area, out_area, stride):
    """Stride 1 only.  The output side moves (C_out*k + C_in) elements per *input* pixel but
    computes every tap at every input pixel (H*W/(OH*OW) more FLOPs for an unpadded conv)."""
    if stride != (1, 1):
        return False
    input_side = (_NS_PER_ELEMENT * (Cin * k_area + Co) * out_area
                  + _NS_PER_FLOP * 2 * Co * Cin * k_area * out_area)
    out_side = (_NS_PER_ELEMENT * (Co * k_area + Cin) * in_area
                + _NS_PER_FLOP * 2 * Co * Cin * k_area * in_area)
    return _pack.prefer_output_side(input_side, out_side)


def _sum_of_a_bt(N, per_image, a_rows, b_rows, body, budget_factor=4, reduction=None):
    """(sum over batch chunks of A @ B.T, sum of the chunks' extra sums or None), where
    ``body(n0, n1)`` returns the chunk's (A, B) with ``a_rows`` and ``b_rows`` rows -- or (A, B,
    sums), a bias gradient's float64 partial sums -- the weight gradients, a reduction of length
    N*P split into chunks and threads.  A body may do other work on its chunk first (the shared
    backward passes compute the chunk's input gradient from the same packed operand).

    Each product is taken as (B @ A.T) when B has more rows (and the sum transposed once at the
    end), measured faster single-threaded (D 64->128: 4.5 vs 5.1 ms per 32 images; G 128->64:
    15.9 vs 18.6 ms); with two BLAS threads the other orientation was pathological (A = (9, 50176),
    B = (64, 50176): 1350 ms vs 12 ms).  Chunks get ``budget_factor`` times the usual scratch
    budget: a longer reduction per GEMM and fewer partial sums (4x measured 8-11% faster than the
    1x budget for the weight gradient alone).  ``reduction`` (the summed length, N*P): below
    ``_pack.FLIP_MIN_REDUCTION`` no flip, see there.  The weight gradient comes back as a fresh
    C-contiguous (a_rows, b_rows) array (``_pack.transposed_copy`` after a flip)."""
    flip = b_rows > a_rows and (reduction is None or reduction >= _pack.FLIP_MIN_REDUCTION)

    def product(n0, n1):
        A, B, *extra = body(n0, n1)          # extra: the chunk's bias-gradient sums, if any
        prod = matmul(B, A.T, "AB^T") if flip else matmul(A, B.T, "AB^T")
        return (prod, *extra) if extra else prod

    total = sum_in_order(run_over_batch(N, per_image, budget_factor * _pack.COLS_BUDGET, product))
    gw, sums = total if isinstance(total, tuple) else (total, None)
    return (_pack.transposed_copy(gw) if flip else gw), sums


@serial_below_threshold(_conv_work)
def conv2d(x, w, b, stride, padding):
    x, w, b = c_order(x, w, b)
    N, C, H, W = x.shape
    Co, Ci, kH, kW = w.shape
    sh, sw = stride = tuple(stride)
    ph, pw = padding
    OH = conv2d_output_size(H, kH, sh, ph)
    OW = conv2d_output_size(W, kW, sw, pw)
    K = Ci * kH * kW
    P = OH * OW
    dtype = x.dtype
    if _pack.FORMULATION is None and is_pointwise((kH, kW), stride, padding, (H, W), (OH, OW)):
        return pointwise(x, w.reshape(Co, Ci), b)
    if _use_output_side(Ci, Co, kH * kW, H * W, P, stride):
        # Wt[(co, kh, kw), ci] = w[co, ci, kh, kw];  tap kh of input row ih -> output ih + ph - kh
        Wt = np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(Co * kH * kW, Ci)
        aoffh = ph - np.arange(kH, dtype=np.int64)
        aoffw = pw - np.arange(kW, dtype=np.int64)
        return output_side(x, Wt, (kH, kW), (1, 1), aoffh, aoffw, b, (OH, OW))
    offh = np.arange(kH, dtype=np.int64) - ph
    offw = np.arange(kW, dtype=np.int64) - pw
    w2 = w.reshape(Co, K)
    bias, has_bias = bias_arg(b, dtype)
    y = np.empty((N, Co, OH, OW), dtype=dtype)

    def body(n0, n1):
        cols = pack_cols(x[n0:n1], offh, offw, sh, sw, OH, OW)
        unpack_rows(matmul(w2, cols, "Y"), bias, has_bias, 0, 0, 1, 1, OH, OW, y[n0:n1])

    run_over_batch(N, (K + Co) * P, _pack.COLS_BUDGET, body)
    return y


@serial_below_threshold(_conv_work)
def conv2d_grad_input(gy, w, input_hw, stride, padding):
    gy, w = c_order(gy, w)
    return conv_transpose_core(gy, w, None, stride, padding, tuple(input_hw))


@serial_below_threshold(lambda x, gy, k, *_: (x.size + gy.size) * (k[0] * k[1] + 1))
def conv2d_grad_weight(x, gy, kernel_hw, stride, padding):
    x, gy = c_order(x, gy)
    N, C, H, W = x.shape
    _, Co, OH, OW = gy.shape
    kH, kW = kernel_hw
    stride = tuple(stride)
    ph, pw = padding
    if _use_output_side(C, Co, kH * kW, H * W, OH * OW, stride):
        # gw'[(co, kh, kw), ci] = sum_{n, ih, iw} gy[n, co, ih + ph - kh, iw + pw - kw] x[n, ci, ih, iw]
        offh = ph - np.arange(kH, dtype=np.int64)
        offw = pw - np.arange(kW, dtype=np.int64)

        def body(n0, n1):
            return pack_cols(gy[n0:n1], offh, offw, 1, 1, H, W), transposed_input(x[n0:n1], "Xt")

        gw = _sum_of_a_bt(N, (Co * kH * kW + C) * H * W, Co * kH * kW, C, body,
                          reduction=N * H * W)[0]
        return np.ascontiguousarray(gw.reshape(Co, kH, kW, C).transpose(0, 3, 1, 2))
    return _grad_weight_input_side(x, gy, kernel_hw, stride, padding, False)[1]


def _grad_weight_input_side(x, gy, kernel_hw, stride, padding, with_bias, w=None):
    """(gx, gw, gb): gw = G @ cols(x)^T (G = gy transposed to (C_out, n*P)), and from the same pass
    over the batch, per chunk:
    * with ``with_bias``, the bias gradient: G's channel (row) sums (gy is not read again);
    * with the weight ``w``, the input gradient: col2im_add(w^T @ G), conv_transpose_core's output
      side (``conv2d_backward`` passes w when that side is the one it would take, e.g. for D's
      64->128: one pass that transposes gy once instead of two passes that each do, and one
      hand-over between the threads instead of two -- the D 64->128 backward 6% faster).
    gx and gb are None when not asked for.  A pass that also builds gx gets conv_transpose2d's
    shared-backward budget per chunk (1x / 2x / 4x measured flat), the weight gradient alone 4x."""
    N, C, H, W = x.shape
    _, Co, OH, OW = gy.shape
    kH, kW = kernel_hw
    K = C * kH * kW
    P = OH * OW
    offh = np.arange(kH, dtype=np.int64) - padding[0]
    offw = np.arange(kW, dtype=np.int64) - padding[1]
    gx = None
    if w is not None:
        Wt = w.reshape(Co, K).T                # (C_in*kH*kW, C_out): BLAS takes the transpose
        tables = col2im_tables(kH, kW, stride, offh, offw, (OH, OW), (H, W))
        gx = np.empty(x.shape, dtype=gy.dtype)
        no_bias, _ = bias_arg(None, gy.dtype)

    def body(n0, n1):
        G = transposed_input(gy[n0:n1], "G")
        if gx is not None:
            col2im_add(matmul(Wt, G, "Z"), kH, kW, stride[0], stride[1], offh, offw, no_bias,
                       False, OH, OW, tables, gx[n0:n1])
        cols = pack_cols(x[n0:n1], offh, offw, stride[0], stride[1], OH, OW)
        if not with_bias:
            return G, cols
        sums = np.zeros(Co, dtype=np.float64)
        channel_sums_into(G.reshape(1, Co, -1), sums)
        return G, cols, sums

    per_image = (K + Co) * P + (0 if gx is None else K * P)
    gw, sums = _sum_of_a_bt(N, per_image, Co, K, body, 4 if gx is None else _SHARED_BUDGET_FACTOR,
                            reduction=N * P)
    gb = None if sums is None else sums.astype(gy.dtype)
    return gx, gw.reshape(Co, C, kH, kW), gb


@njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def _channel_total(g, c):
    """sum over n, p of g[n, c, p] (g: (N, C, P)), accumulated in float64 -- the bias gradient's
    one loop, shared by the three callers below (fastmath: a vectorised, re-ordered sum)."""
    acc = 0.0
    for n in range(g.shape[0]):
        for p in range(g.shape[2]):
            acc += g[n, c, p]
    return acc


@parallel_kernel
def _channel_sum(g, out):
    """out[c] = channel c's total, channels across Numba's threads (conv2d_grad_bias)."""
    for c in prange(g.shape[1]):
        out[c] = _channel_total(g, c)


@njit(nogil=True, cache=True)
def channel_sums_into(g, out):
    """out[c] += channel c's total, serially: a chunk's partial sums on a conv worker thread (the
    fused backward passes -- a (C, n*P) transposed gradient is passed as (1, C, n*P))."""
    for c in range(g.shape[1]):
        out[c] += _channel_total(g, c)


@serial_below_threshold(lambda x, gy, w, *_: (x.size + gy.size) * (w.shape[2] * w.shape[3] + 1))
def conv2d_backward(x, gy, w, stride, padding, needs):
    """The gradients of conv2d(x, w, b) that ``needs`` asks for, at once (PyTorch's
    convolution_backward).  Where the weight gradient takes the input side, the bias gradient
    comes from the same pass over gy (the channel sums of its transposed copy) instead of a pass
    of its own.  The input gradient is conv2d_grad_input's."""
    need_input, need_weight, need_bias = needs
    x, gy, w = c_order(x, gy, w)
    stride, padding = tuple(stride), tuple(padding)
    kernel_hw = w.shape[2:]
    C, Co = x.shape[1], gy.shape[1]
    area = kernel_hw[0] * kernel_hw[1]
    weight_input_side = need_weight and not _use_output_side(
        C, Co, area, x.shape[2] * x.shape[3], gy.shape[2] * gy.shape[3], stride)
    # The input gradient conv_transpose_core(gy, w) takes its output side when this holds; then
    # it and the input-side weight gradient both start from gy transposed to (C_out, n*P).
    if need_input and weight_input_side and _pack.prefer_output_side(Co * area, C * area + Co):
        return _grad_weight_input_side(x, gy, kernel_hw, stride, padding, need_bias, w)
    gx = conv2d_grad_input(gy, w, x.shape[2:], stride, padding) if need_input else None
    if weight_input_side:
        return (gx,) + _grad_weight_input_side(x, gy, kernel_hw, stride, padding, need_bias)[1:]
    gw = conv2d_grad_weight(x, gy, kernel_hw, stride, padding) if need_weight else None
    gb = conv2d_grad_bias(gy) if need_bias else None
    return gx, gw, gb


@serial_below_threshold(lambda gy: gy.size)
def conv2d_grad_bias(gy):
    N, Co = gy.shape[:2]
    out = np.empty(Co, dtype=np.float64)
    _channel_sum(gy.reshape(N, Co, -1), out)
    return out.astype(gy.dtype)


# Tried and dropped (measured, CPU time, one thread): space-to-depth for stride-2 convolutions
# (x -> (N, C*s*s, H/s, W/s) so the im2col copies contiguous runs) was 0-7% *slower* than the
# strided im2col at every DCGAN shape, the extra pass over x costing what the copies saved.
# Also dropped (2 threads, batch 64): a direct Numba kernel for thin K = C_in*kH*kW (D's 1->64,
# K = 16: im2col per chunk, then four output rows per pass of FMAs over the 196 positions, no
# GEMM, no unpack) took 1.55 ms against this file's im2col + GEMM + unpack at 1.16 ms -- its
# accumulators live in memory, not registers, and Numba offers no way to block them by hand.
# Also dropped (one thread, (8, 256, 16, 16) -> 128 1x1): the 1x1 weight gradient as per-image
# GEMMs gy[n] @ x[n]^T straight from the NCHW planes (as ``_pack.pointwise`` does for the forward
# and the input gradient): 2.1-2.3 ms against 1.9-2.1 ms for the transposed copy of gy and one
# GEMM with the reduction over the whole chunk.
