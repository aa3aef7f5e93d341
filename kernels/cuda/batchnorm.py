"""Batch normalisation: per-channel block reductions plus coalesced element-wise passes.

This file holds the element-wise passes; the two per-channel reductions (``bn_stats_kernel``,
``bn_backward_reduce_kernel``) live in ``reductions.py`` beside the ``block_sum`` they inline (see
that file for why) and are re-exported here.

Layout: ``x`` is ``(N, C, HW)`` flat (``HW = 1`` for BatchNorm1d's ``(N, C)``); ``count = N * HW``
values per channel.

Algorithm
---------
Training forward
  1. ``bn_stats_kernel`` (reductions.py) -- one block per channel, two passes, each a coalesced
     strided walk plus a shared-memory tree sum: the mean, then ``var = sum (x - mean)^2 / count``
     (two passes: no cancellation from ``E[x^2] - E[x]^2``; the second pass mostly hits L2).
     Thread 0 writes ``mean[c]``, ``invstd[c] = 1 / sqrt(var + eps)`` and, if asked, updates the
     running statistics in place with the unbiased variance ``var * count / (count - 1)``.
  2. ``bn_normalize_kernel`` -- grid-stride element-wise
     ``y = (x - mean[c]) * (invstd[c] * weight[c]) + bias[c]`` with ``c = (i // HW) % C``.
Eval forward: step 2 alone, with the running statistics (``invstd`` computed by the host glue).

Backward
  1. ``bn_backward_reduce_kernel`` (reductions.py) -- one block per channel, one pass, two block
     sums: ``gbias[c] = sum gy`` and ``gweight[c] = sum gy * xhat``, ``xhat = (x - mean) * invstd``.
  2. ``bn_backward_input_kernel`` -- grid-stride element-wise
     training: ``gx = weight * invstd * (gy - gbias[c] / count - xhat * gweight[c] / count)``;
     eval:     ``gx = gy * weight * invstd``.

Cost (fp32, E = N * C * HW elements)
----
stats: 4E FLOPs, reads 8E bytes (two passes); normalize: 4E FLOPs, 8E bytes; backward reduce:
4E FLOPs, 8E bytes; backward input: 8E FLOPs, 12E bytes.  All memory bound (< 1 FLOP/byte).

Launch
------
element-wise (this file): grid ``min(ceil(E / 256), 4096)``, block ``(256,)``, grid-stride, no
shared memory; 32 consecutive threads touch 32 consecutive floats (coalesced).
reductions: grid ``(C,)``, block ``(256,)``, static shared memory 1024 bytes.
"""

from numba import cuda, float32

from .tiles import EW_THREADS

NORMALIZE_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                       "float32[::1], float32[::1], int64, int64, int64)")
BWD_INPUT_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                       "float32[::1], float32[::1], float32[::1], float32[::1], "
                       "int64, int64, int64, int64)")


@cuda.jit
def bn_normalize_kernel(x, mean, invstd, weight, bias, y, c, hw, total):
    """y = (x - mean[c]) * invstd[c] * weight[c] + bias[c], grid-stride over the flat array."""
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for i in range(start, total, step):
        ch = (i // hw) % c
        y[i] = (x[i] - mean[ch]) * (invstd[ch] * weight[ch]) + bias[ch]


@cuda.jit
def bn_backward_input_kernel(gy, x, mean, invstd, weight, sum_gxhat, sum_g, gx,
                             c, hw, total, training):
    """gx of batch norm, grid-stride over the flat array (see the module docstring)."""
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    inv_count = float32(1.0) / float32(total // c)
    for i in range(start, total, step):
        ch = (i // hw) % c
        scale = weight[ch] * invstd[ch]
        if training != 0:
            xhat = (x[i] - mean[ch]) * invstd[ch]
            gx[i] = scale * (gy[i] - sum_g[ch] * inv_count - xhat * (sum_gxhat[ch] * inv_count))
        else:
            gx[i] = gy[i] * scale


KERNELS = [
    ("bn_normalize", bn_normalize_kernel, NORMALIZE_SIGNATURE, EW_THREADS, 0),
    ("bn_backward_input", bn_backward_input_kernel, BWD_INPUT_SIGNATURE, EW_THREADS, 0),
]
