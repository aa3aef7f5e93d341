"""Leaky ReLU forward and backward: one fused elementwise pass each.

forward   y = x            where x >= 0, slope*x otherwise      (2 FLOPs / element: compare, multiply;
                                                                 read 1, write 1)
backward  gx = gy          where x > 0, slope*gy otherwise      (2 FLOPs / element; read 2, write 1)
(the contract: the gradient is 1 where x > 0, else `slope` -- so `slope` at x == 0, as in PyTorch.)

Pure memory traffic: 8 bytes per float32 element forward, 12 backward.  Launch shape: ``prange``
over the flattened array -- Numba splits the index range into one contiguous block per thread,
and LLVM vectorises the branch-free select (8 float32 lanes with AVX2, 16 with AVX-512: the
Zen 4 benchmark host's loop runs on zmm registers, `inspect_asm` with a fresh NUMBA_CACHE_DIR).
"""
import numpy as np
from numba import prange

from ._threads import parallel_kernel, serial_below_threshold


@parallel_kernel
def _fwd(x, slope, y):
    for i in prange(x.size):
        v = x[i]
        y[i] = v * slope if v < 0 else v


@parallel_kernel
def _bwd(gy, x, slope, gx):
    for i in prange(x.size):
        g = gy[i]
        gx[i] = g if x[i] > 0 else g * slope


@serial_below_threshold(lambda x, *_: x.size)
def leaky_relu(x, negative_slope):
    # np.empty, not empty_like: for an x in another memory order (F-ordered, say) empty_like
    # keeps that order, y.reshape(-1) is then a copy, and the kernel's writes would be lost.
    y = np.empty(x.shape, dtype=x.dtype)
    _fwd(x.reshape(-1), x.dtype.type(negative_slope), y.reshape(-1))
    return y


@serial_below_threshold(lambda gy, *_: 2 * gy.size)
def leaky_relu_backward(gy, x, negative_slope):
    gx = np.empty(x.shape, dtype=x.dtype)
    _bwd(gy.reshape(-1), x.reshape(-1), x.dtype.type(negative_slope), gx.reshape(-1))
    return gx
