"""conv2d and its three gradients on the CPU: im2col packed by Numba, one BLAS GEMM per call.

Shapes: x (N, C_in, H, W), w (C_out, C_in, kH, kW), y (N, C_out, OH, OW), K = C_in*kH*kW,
P = OH*OW.  FLOPs of the forward and of each input/weight gradient: 2*N*C_out*P*K
(D 64->128, 14->7, batch 64: 0.82 GFLOP; D 1->64, 28->14: 0.05 GFLOP).

forward     cols (K, N*P) = im2col(x)           -- ``_pack.pack_cols``, K*N*P elements written
            Y (C_out, N*P) = w.reshape(C_out, K) @ cols      -- one GEMM (OpenBLAS, all threads)
            y[n, co, p] = Y[co, n*P + p] + b[co]             -- ``_pack.unpack_rows``
grad_weight cols = im2col(x) as above; G (C_out, N*P) = gy transposed (``nchw_to_cnp``);
            gw = G @ cols.T                                   -- one GEMM, reduction length N*P
grad_input  the adjoint of conv2d is a transposed convolution: conv_transpose2d(gy, w) with the
            output size pinned to (H, W) -- stride-phase decomposition, no scatter-add col2im
            (see conv_transpose2d.py).
grad_bias   per-channel sum of gy, accumulated in float64; ``prange`` over channels.

Bytes moved beyond the GEMM's own traffic: the im2col (K*N*P elements, written once, read once by
BLAS) and the output transpose (N*C_out*P, read + write).  Launch shape: Numba ``prange`` over
(row, image) pairs in the packs and over (image, channel) planes in the unpack; the GEMM is
threaded by OpenBLAS.  Both use every core, one after the other.

Large problems are processed in batch chunks so that the packed columns stay in cache
(``_chunks``): the GEMMs stay big enough for BLAS while the im2col never round-trips DRAM.
"""
import numpy as np
from numba import njit, prange

from ..shapes import conv2d_output_size
from ._pack import nchw_to_cnp, pack_cols, unpack_rows
from .conv_transpose2d import conv_transpose_core

# Elements of packed columns per chunk (float32: 4 MiB; fits the L2 + L3 slice comfortably).
_COLS_BUDGET = 1 << 20


def _chunks(n, per_image):
    """Split range(n) into batch chunks whose packed columns hold about _COLS_BUDGET elements."""
    step = max(1, min(n, _COLS_BUDGET // max(per_image, 1)))
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def _bias_arg(b, dtype):
    if b is None:
        return np.zeros(1, dtype=dtype), False
    return np.ascontiguousarray(b, dtype=dtype), True


def conv2d(x, w, b, stride, padding):
    N, C, H, W = x.shape
    Co, Ci, kH, kW = w.shape
    sh, sw = stride
    ph, pw = padding
    OH = conv2d_output_size(H, kH, sh, ph)
    OW = conv2d_output_size(W, kW, sw, pw)
    K = Ci * kH * kW
    P = OH * OW
    dtype = x.dtype
    offh = np.arange(kH, dtype=np.int64) - ph
    offw = np.arange(kW, dtype=np.int64) - pw
    w2 = w.reshape(Co, K)
    bias, has_bias = _bias_arg(b, dtype)
    y = np.empty((N, Co, OH, OW), dtype=dtype)
    for n0, n1 in _chunks(N, K * P):
        cols = np.empty((K, (n1 - n0) * P), dtype=dtype)
        pack_cols(x[n0:n1], offh, offw, sh, sw, OH, OW, cols)
        Y = w2 @ cols
        unpack_rows(Y, bias, has_bias, 0, 0, 1, 1, OH, OW, y[n0:n1])
    return y


def conv2d_grad_input(gy, w, input_hw, stride, padding):
    return conv_transpose_core(gy, w, None, stride, padding, tuple(input_hw))


def conv2d_grad_weight(x, gy, kernel_hw, stride, padding):
    N, C, H, W = x.shape
    _, Co, OH, OW = gy.shape
    kH, kW = kernel_hw
    sh, sw = stride
    ph, pw = padding
    K = C * kH * kW
    P = OH * OW
    dtype = x.dtype
    offh = np.arange(kH, dtype=np.int64) - ph
    offw = np.arange(kW, dtype=np.int64) - pw
    gw = None
    for n0, n1 in _chunks(N, (K + Co) * P):
        nb = n1 - n0
        cols = np.empty((K, nb * P), dtype=dtype)
        pack_cols(x[n0:n1], offh, offw, sh, sw, OH, OW, cols)
        G = np.empty((Co, nb * P), dtype=dtype)
        nchw_to_cnp(gy[n0:n1].reshape(nb, Co, P), G)
        part = G @ cols.T
        if gw is None:
            gw = part
        else:
            gw += part
    return gw.reshape(Co, C, kH, kW)


@njit(parallel=True, cache=True)
def _channel_sum(g, out):
    N, C, P = g.shape
    for c in prange(C):
        acc = 0.0
        for n in range(N):
            for p in range(P):
                acc += g[n, c, p]
        out[c] = acc


def conv2d_grad_bias(gy):
    N, Co = gy.shape[:2]
    out = np.empty(Co, dtype=np.float64)
    _channel_sum(gy.reshape(N, Co, -1), out)
    return out.astype(gy.dtype)
