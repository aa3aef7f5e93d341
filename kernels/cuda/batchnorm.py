"""Batch normalisation with an optional fused leaky ReLU: per-channel block reductions plus
coalesced element-wise passes.  Plain batch norm is the same kernels with slope 1 (the select
``z if z >= 0 else slope * z`` is then the identity).

This file holds the element-wise passes; the two per-channel reductions (``bn_stats_kernel``,
``bn_backward_reduce_kernel``) live in ``reductions.py`` beside the ``block_sum`` they inline (see
that file for why).

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
  2. ``bn_normalize_kernel`` -- grid-stride element-wise, ``c = (i // HW) % C``:
     ``z = (x - mean[c]) * (invstd[c] * weight[c]) + bias[c]``;  ``y = z if z >= 0 else slope * z``
     -- one pass writes y; unfused, a leaky ReLU would re-read y and write it again (8E bytes more).
Eval forward: step 2 alone, with the running statistics (``invstd`` computed by the host glue).

Backward
  1. ``bn_backward_reduce_kernel`` (reductions.py) -- one block per channel, one pass, two block
     sums: ``gbias[c] = sum g``, ``gweight[c] = sum g * xhat``, with
     ``g = gy * (1 where z > 0 else slope)`` (z recomputed) and ``xhat = (x - mean) * invstd``.
  2. ``bn_backward_input_kernel`` -- grid-stride element-wise, g recomputed:
     training: ``gx = weight * invstd * (g - gbias[c] / count - xhat * gweight[c] / count)``;
     eval:     ``gx = g * weight * invstd``
     -- no gz array: unfused, leaky_relu_backward writes gz (12E bytes) and batch norm reads it.
z is computed by the same float32 expression in all three passes, so the backward's mask is
exactly the forward's (nothing but x, mean and invstd is kept between them).  On hardware that
rests on NVVM contracting ``d * scale + bias`` the same way in the three kernels (it emits one
``fma.rn.f32`` in each: checked in the sm_90 PTX); the simulator, which the tests run without a
GPU, does not fuse, and ``cuda.fma`` is not available there -- keep the three expressions identical.

Cost (fp32, E = N * C * HW elements)
----
stats: 4E FLOPs, reads 8E bytes (two passes); normalize: 6E FLOPs, 8E bytes; backward reduce:
9E FLOPs, 8E bytes; backward input: 13E FLOPs, 12E bytes.  All memory bound (< 2 FLOP/byte).

Launch
------
element-wise (this file): grid ``min(ceil(E / 256), 4096)``, block ``(256,)``, grid-stride, no
shared memory; 32 consecutive threads touch 32 consecutive floats (coalesced).
reductions: grid ``(C,)``, block ``(256,)``, static shared memory 1024 bytes.
"""

from numba import cuda, float32

from .tiles import EW_THREADS

NORMALIZE_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                       "float32[::1], float32[::1], int64, int64, int64, float64)")
BWD_INPUT_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                       "float32[::1], float32[::1], float32[::1], float32[::1], "
                       "float32[::1], int64, int64, int64, int64, float64)")


@cuda.jit
def bn_normalize_kernel(x, mean, invstd, weight, bias, y, c, hw, total, slope):
    """y = leaky_relu((x - mean[c]) * invstd[c] * weight[c] + bias[c]), grid-stride."""
    s = float32(slope)
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for i in range(start, total, step):
        ch = (i // hw) % c
        z = (x[i] - mean[ch]) * (invstd[ch] * weight[ch]) + bias[ch]
        y[i] = z if z >= float32(0.0) else z * s


@cuda.jit
def bn_backward_input_kernel(gy, x, mean, invstd, weight, bias, sum_gxhat, sum_g, gx,
                             c, hw, total, training, slope):
    """gx of leaky_relu(batch_norm(x)), grid-stride (see the module docstring).  ``sum_gxhat``
    and ``sum_g`` are the per-channel sums the reduction kernel wrote -- the weight and bias
    gradients, which the caller passes as ``gweight, gbias``."""
    s = float32(slope)
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    inv_count = float32(1.0) / float32(total // c)
    for i in range(start, total, step):
        ch = (i // hw) % c
        d = x[i] - mean[ch]
        scale = invstd[ch] * weight[ch]
        g = gy[i]
        if not (d * scale + bias[ch] > float32(0.0)):  # slope unless z > 0 (NaN too,
            g *= s                                       # as the reference's mask)
        if training != 0:
            xhat = d * invstd[ch]
            gx[i] = scale * (g - sum_g[ch] * inv_count - xhat * (sum_gxhat[ch] * inv_count))
        else:
            gx[i] = g * scale


KERNELS = [
    ("bn_normalize", bn_normalize_kernel, NORMALIZE_SIGNATURE, EW_THREADS, 0),
    ("bn_backward_input", bn_backward_input_kernel, BWD_INPUT_SIGNATURE, EW_THREADS, 0),
]
