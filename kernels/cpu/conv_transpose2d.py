"""conv_transpose2d and its gradients on the CPU -- never a racing scatter-add.

Shapes: x (N, C_in, H, W), w (C_in, C_out, kH, kW), y (N, C_out, OH, OW) with
OH = (H-1)*s_h - 2*p_h + kH + output_padding_h.  FLOPs of the forward and of each gradient:
2*N*C_in*H*W*C_out*kH*kW (G 256->128 7->14 and G 128->64 14->28 at batch 64: 3.29 GFLOP each).
All FLOPs run in one BLAS GEMM per phase / chunk; Numba kernels (``_pack.py``) only move data.
Each call takes the formulation its cost model rates cheaper (``_pack.prefer_output_side``):

output-side (C_out*kH*kW + C_in < C_in*kH*kW, e.g. both DCGAN generator layers, where
            C_out = C_in/2):
            Xt (C_in, N*H*W) = x transposed                               (``nchw_to_cnp``)
            Z  (C_out*kH*kW, N*H*W) = w.reshape(C_in, -1).T @ Xt            one GEMM, every tap of
                                                                            every input pixel
            y[n, co] = b + sum over taps of Z's row (co, kh, kw) shifted to oh = ih*s - p + kh
            (``col2im_add``: each worker thread owns a slice of the batch's images, so the adds
            are private -- no atomics -- and for each output channel it streams the channel's
            kH*kW adjacent rows of Z sequentially).
            Bytes: Z written + read (C_out*kH*kW*N*H*W elements each), x and y once.

input-side  stride-phase decomposition (wins when C_out*kH*kW is large, e.g. the conv2d input
            gradient of G's 64->1 layer): output row oh = r_h + q_h*s_h (0 <= r_h < s_h) only
            receives kernel rows kh = (r_h + p_h) mod s_h, that + s_h, ..., and tap kh reads input
            row ih = q_h + d_h with d_h = (r_h + p_h - kh) / s_h (an exact integer).  So each of
            the s_h*s_w phases is a dense stride-1 correlation with a (kH/s_h)x(kW/s_w) sub-kernel:
                cols_r (C_in*T_r, N*Q_r) = pack(x, offsets d_h, d_w)      ``pack_cols``, step 1
                Y_r    (C_out, N*Q_r)    = W_r (C_out, C_in*T_r) @ cols_r  one GEMM per phase
                y[n, co, r_h::s_h, r_w::s_w] = Y_r + b                     ``unpack_rows``
                                                                            (several phases: all
                                                                            at once, row by row,
                                                                            ``unpack_phases``)
            Every output element is written exactly once; the packed columns total
            C_in*kH*kW*N*H*W elements over all phases.  Phases that no tap reaches (kernel smaller
            than the stride) are filled with the bias.

grad_input  (gy -> x) is conv2d(gy, w) (see conv2d.py).
grad_weight gw[ci, co, kh, kw] = sum x[n,ci,h,w] * gy[n,co,h*s-p+kh, w*s-p+kw] -- the conv2d weight
            gradient with the roles of input and output gradient exchanged (im2col of gy, one GEMM;
            or, where conv2d.py's cost model prefers it, its output-side form without an im2col).
backward    (``conv_transpose2d_backward``, what the engine calls) the two above multiply the same
            im2col of gy, so it is packed once per chunk for both GEMMs (and the bias gradient summed
            from the same chunk of gy).

Launch shape: one contiguous slice of the batch per thread (``_workers.py``); each thread runs
the pack / GEMM (OpenBLAS, one thread) / unpack chain -- every phase, or the output-side GEMM and
its shifted adds -- on cache-sized chunks of its images.  Output planes belong to one thread, so
no write races.
"""
import numpy as np

from ..shapes import conv_transpose2d_output_size
from . import _pack
from ._threads import serial_below_threshold
from ._pack import (bias_arg, c_order, fill_bias, gather_phase_weight, matmul, matmul_into,
                    output_side, pack_cols, padded_for, transposed_input, unpack_phases,
                    unpack_rows)
from ._pack import SHORT_ROW, is_pointwise, pointwise
from ._workers import run_over_batch, scratch


def _phase_taps(r, pad, stride, k):
    """Kernel taps and input offsets of output phase r along one axis."""
    k0 = (r + pad) % stride
    taps = np.arange(k0, k, stride, dtype=np.int64)
    offs = (r + pad - taps) // stride
    return taps, offs


def conv_transpose_core(x, w, b, stride, padding, out_hw):
    """Transposed convolution of x with weight w (C_in, C_out, kH, kW) and output size out_hw.

    A conv2d weight (C_out, C_in, kH, kW) is exactly the weight of its adjoint, so the conv2d input
    gradient calls this with the conv weight unchanged."""
    N, Ci, H, W = x.shape
    _, Co, kH, kW = w.shape
    sh, sw = stride
    ph, pw = padding
    OH, OW = out_hw
    dtype = x.dtype
    if _pack.FORMULATION is None and is_pointwise((kH, kW), stride, padding, (H, W), out_hw):
        return pointwise(x, w.reshape(Ci, Co).T, b)
    if _pack.prefer_output_side(Ci * kH * kW, Co * kH * kW + Ci):
        # Output side: Z = w^T @ x^T, then per-plane shifted adds (tap kh of ih -> ih*s - p + kh).
        Wt = w.reshape(Ci, Co * kH * kW).T
        aoffh = np.arange(kH, dtype=np.int64) - ph
        aoffw = np.arange(kW, dtype=np.int64) - pw
        return output_side(x, Wt, (kH, kW), (sh, sw), aoffh, aoffw, b, (OH, OW))
    bias, has_bias = bias_arg(b, dtype)
    phases = []          # (r_h, r_w, Q_h, Q_w, input offsets d_h, d_w, sub-kernel W_r or None)
    for rh in range(min(sh, OH)):
        Qh = (OH - rh + sh - 1) // sh
        khs, dh = _phase_taps(rh, ph, sh, kH)
        for rw in range(min(sw, OW)):
            Qw = (OW - rw + sw - 1) // sw
            kws, dw = _phase_taps(rw, pw, sw, kW)
            if khs.size == 0 or kws.size == 0:
                phases.append((rh, rw, Qh, Qw, dh, dw, None))    # no tap reaches it: bias only
                continue
            # W_r[co, (ci, th, tw)] = w[ci, co, khs[th], kws[tw]], in this thread's scratch
            Wr = scratch(f"Wr{len(phases)}", (Co, Ci * khs.size * kws.size), w.dtype)
            gather_phase_weight(w, khs, kws, Wr)
            phases.append((rh, rw, Qh, Qw, dh, dw, Wr))
    y = np.empty((N, Co, OH, OW), dtype=dtype)
    if len(phases) > 1:
        return _run_phases(x, phases, bias, has_bias, (sh, sw), y)

    def body(n0, n1):
        for rh, rw, Qh, Qw, dh, dw, Wr in phases:
            if Wr is None:
                fill_bias(bias, has_bias, rh, rw, sh, sw, y[n0:n1])
                continue
            cols = pack_cols(x[n0:n1], dh, dw, 1, 1, Qh, Qw)
            unpack_rows(matmul(Wr, cols, "Y"), bias, has_bias, rh, rw, sh, sw, Qh, Qw, y[n0:n1])

    per_image = max([(Ci * dh.size * dw.size + Co) * Qh * Qw
                     for _, _, Qh, Qw, dh, dw, _ in phases], default=1)
    run_over_batch(N, per_image, _pack.COLS_BUDGET, body)
    return y


def _run_phases(x, phases, bias, has_bias, stride, y):
    """The input side with several stride phases: per chunk, every phase's GEMM result goes to its
    own part of one scratch buffer, then ``unpack_phases`` writes y row by row from all of them."""
    Ci = x.shape[1]
    Co = y.shape[1]
    sh, sw = stride
    Qws = np.zeros(sh * sw, dtype=np.int64)
    areas = np.zeros(sh * sw, dtype=np.int64)       # Qh*Qw of each phase that a tap reaches
    for rh, rw, Qh, Qw, _, _, Wr in phases:
        Qws[rh * sw + rw] = Qw
        areas[rh * sw + rw] = 0 if Wr is None else Qh * Qw
    before = np.concatenate(([0], np.cumsum(areas)[:-1]))   # phase r's start, per image and channel

    reached = [ph for ph in phases if ph[-1] is not None]
    # Row-copy packs (every window row long) would each pad x for their phase: pad it once for all
    shared_pad = bool(reached) and all(Qw >= SHORT_ROW for _, _, _, Qw, *_ in reached)
    if shared_pad:
        first = np.array([(dh.min(), dw.min()) for *_, dh, dw, _ in reached])
        last = np.array([(dh.max() + Qh - 1, dw.max() + Qw - 1) for _, _, Qh, Qw, dh, dw, _ in reached])
        span_h = np.array([first[:, 0].min(), last[:, 0].max()], dtype=np.int64)
        span_w = np.array([first[:, 1].min(), last[:, 1].max()], dtype=np.int64)

    def body(n0, n1):
        n = n1 - n0
        Yf = scratch("Yph", (Co * n * int(areas.sum()),), y.dtype)
        starts = np.where(areas > 0, Co * n * before, -1)
        xc, pt, pl = x[n0:n1], 0, 0
        if shared_pad:                    # offsets spanning every phase's rows and columns
            xc, pt, pl = padded_for(xc, span_h, span_w, 1, 1, 1, "phases_padded")
        for rh, rw, Qh, Qw, dh, dw, Wr in reached:
            r = rh * sw + rw
            out = Yf[starts[r]:starts[r] + Co * n * Qh * Qw].reshape(Co, n * Qh * Qw)
            matmul_into(Wr, pack_cols(xc, dh + pt, dw + pl, 1, 1, Qh, Qw), out)
        unpack_phases(Yf, starts, Qws, bias, has_bias, sh, sw, y[n0:n1])

    per_image = max(Ci * dh.size * dw.size * Qh * Qw for _, _, Qh, Qw, dh, dw, _ in phases) \
        + Co * int(areas.sum())
    run_over_batch(x.shape[0], per_image, _pack.COLS_BUDGET, body)
    return y


@serial_below_threshold(lambda x, w, *_: x.size * (w.shape[2] * w.shape[3] + 1))
def conv_transpose2d(x, w, b, stride, padding, output_padding):
    x, w, b = c_order(x, w, b)
    N, Ci, H, W = x.shape
    _, Co, kH, kW = w.shape
    OH = conv_transpose2d_output_size(H, kH, stride[0], padding[0], output_padding[0])
    OW = conv_transpose2d_output_size(W, kW, stride[1], padding[1], output_padding[1])
    return conv_transpose_core(x, w, b, stride, padding, (OH, OW))


def conv_transpose2d_grad_input(gy, w, stride, padding):
    from .conv2d import conv2d
    return conv2d(gy, w, None, stride, padding)


@serial_below_threshold(lambda x, gy, w, *_: (x.size + gy.size) * (w.shape[2] * w.shape[3] + 1))
def conv_transpose2d_backward(x, gy, w, stride, padding, needs):
    """The gradients of conv_transpose2d(x, w, b) that ``needs`` asks for, at once (PyTorch's
    convolution_backward).  The input gradient conv2d(gy, w) and the weight gradient
    conv2d_grad_weight(gy, x) both multiply the *same* im2col of gy when they take the input side
    (they always take the same side: the choice depends only on the shapes they share), so this
    packs each chunk of gy once and runs both GEMMs on it -- and sums the chunk's channels for the
    bias gradient while it is in cache.  Measured (2 threads, batch 64, median of 9): the DCGAN's
    256->128 layer 33.7 -> 29.9 ms, 128->64 36.0 -> 30.1 ms for the input and weight gradients."""
    from .conv2d import _use_output_side, conv2d_grad_bias
    need_input, need_weight, need_bias = needs
    x, gy, w = c_order(x, gy, w)
    stride, padding = tuple(stride), tuple(padding)
    kernel_hw = w.shape[2:]
    shared = need_input and need_weight and not _use_output_side(
        gy.shape[1], x.shape[1], kernel_hw[0] * kernel_hw[1], gy.shape[2] * gy.shape[3],
        x.shape[2] * x.shape[3], stride)
    if shared:
        return _shared_im2col_backward(x, gy, w, stride, padding, need_bias)
    gx = conv_transpose2d_grad_input(gy, w, stride, padding) if need_input else None
    gw = conv_transpose2d_grad_weight(x, gy, kernel_hw, stride, padding) if need_weight else None
    gb = conv2d_grad_bias(gy) if need_bias else None
    return gx, gw, gb


# Chunks of the shared backward get twice the usual scratch: a longer reduction per weight-gradient
# GEMM (measured, ms for both layers' backward: 1x 30.7 / 30.4, 2x 29.9 / 30.1, 4x 29.3 / 30.3).
_SHARED_BUDGET_FACTOR = 2


def _shared_im2col_backward(x, gy, w, stride, padding, need_bias):
    """Per chunk of images: cols = im2col(gy);  gx = w' @ cols (unpacked to NCHW);
    gw += x' @ cols^T (x' = x transposed to (C_in, n*H*W));  gb += channel sums of gy."""
    from .conv2d import _sum_of_a_bt, channel_sums_into   # conv2d imports this module: at call time
    N, Ci, H, W = x.shape
    _, Co, kH, kW = w.shape
    K = Co * kH * kW
    P = H * W
    offh = np.arange(kH, dtype=np.int64) - padding[0]
    offw = np.arange(kW, dtype=np.int64) - padding[1]
    w2 = w.reshape(Ci, K)
    gx = np.empty((N, Ci, H, W), dtype=gy.dtype)
    no_bias, _ = bias_arg(None, gy.dtype)

    def body(n0, n1):
        cols = pack_cols(gy[n0:n1], offh, offw, stride[0], stride[1], H, W)
        unpack_rows(matmul(w2, cols, "Y"), no_bias, False, 0, 0, 1, 1, H, W, gx[n0:n1])
        Xt = transposed_input(x[n0:n1], "G")   # "G" (gy transposed elsewhere) is free in this
                                               # pass: its buffer holds x transposed here
        if not need_bias:
            return Xt, cols
        sums = np.zeros(Co, dtype=np.float64)
        channel_sums_into(gy[n0:n1].reshape(n1 - n0, Co, -1), sums)
        return Xt, cols, sums

    gw, sums = _sum_of_a_bt(N, (K + Ci) * P, Ci, K, body, _SHARED_BUDGET_FACTOR, reduction=N * P)
    gw = gw.reshape(Ci, Co, kH, kW)
    return gx, gw, (None if sums is None else sums.astype(gy.dtype))


def conv_transpose2d_grad_weight(x, gy, kernel_hw, stride, padding):
    from .conv2d import conv2d_grad_weight
    return conv2d_grad_weight(gy, x, kernel_hw, stride, padding)
