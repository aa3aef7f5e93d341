"""Batch normalisation with an optional fused leaky ReLU: per-channel block reductions plus
coalesced element-wise passes.  Plain batch norm is the same kernels with slope 1 (the select
``z if z >= 0 else slope * z`` is then the identity).

This file holds the element-wise passes; the per-channel reductions (``bn_stats_kernel``,
``bn_backward_reduce_kernel``, their ``_rows`` variants for ``(N, C)`` inputs and their channel
splits for few channels of many values, ``bn_stats_split`` / ``bn_backward_split`` plus a fold)
live in ``reductions.py`` beside the ``block_sum`` they inline (see that file for why).

Layout: ``x`` is ``(N, C, HW)`` flat (``HW = 1`` for BatchNorm1d's ``(N, C)``); ``count = N * HW``
values per channel.

Algorithm
---------
Training forward
  1. ``bn_stats_kernel`` (reductions.py; ``bn_stats_rows_kernel`` for most ``(N, C)`` inputs) --
     two passes, each a coalesced walk plus a shared-memory tree sum: the mean, then
     ``var = sum (x - mean)^2 / count`` (two passes: no cancellation from ``E[x^2] - E[x]^2``; the
     second pass mostly hits L2).  It writes ``mean[c]``, ``invstd[c] = 1 / sqrt(var + eps)`` and,
     if asked, updates the running statistics in place with the unbiased ``var * count / (count - 1)``.
  2. ``bn_normalize`` -- element-wise, ``z = (x - mean[c]) * (invstd[c] * weight[c]) + bias[c]``;
     ``y = z if z >= 0 else slope * z`` -- one pass writes y; unfused, a leaky ReLU would re-read y
     and write it again (8E bytes more).
Eval forward: step 2 alone, with the running statistics (``invstd`` computed by the host glue).

Backward
  1. ``bn_backward_reduce_kernel`` (reductions.py; ``_rows`` as above) -- one pass, two sums:
     ``gbias[c] = sum g``, ``gweight[c] = sum g * xhat``, with
     ``g = gy * (1 where z > 0 else slope)`` (z recomputed) and ``xhat = (x - mean) * invstd``.
  2. ``bn_backward_input`` -- element-wise, g recomputed:
     training: ``gx = weight * invstd * (g - gbias[c] / count - xhat * gweight[c] / count)``;
     eval:     ``gx = g * weight * invstd``
     -- no gz array: unfused, leaky_relu_backward writes gz (12E bytes) and batch norm reads it.
z is computed by the same float32 expression in all three passes (``normalize_one`` and
``backward_one`` here, the reductions' loops), so the backward's mask is exactly the forward's
(nothing but x, mean and invstd is kept between them).  On hardware that rests on NVVM contracting
``d * scale + bias`` the same way in every kernel (it emits one ``fma.rn.f32`` in each: checked in
the sm_90 PTX); the simulator, which the tests run without a GPU, does not fuse, and ``cuda.fma`` is
not available there -- keep the expressions identical.

The element-wise passes never divide per element.  (They used to decode ``c = (i // HW) % C`` per
element: a signed 64-bit division and remainder, ~90 of the loop's ~108 SASS instructions an
element on sm_90 -- as much issue time as the memory traffic at 3.35 TB/s.)  Each has two layouts,
chosen by the glue (``_bn_elementwise``); both keep a warp on 32 consecutive floats:
* planes (``HW >= 32``, ``bn_normalize_kernel``, ``bn_backward_input_kernel``): a thread row
  (``threadIdx.y``) walks the ``N * C`` planes, grid-stride past grid.y (CUDA caps it at 65535);
  the channel ``plane % C`` is one magic-number division (``tiles.fastdiv``) per plane, and the
  channel's statistics stay in registers while the 32 lanes walk the plane's HW values (the last
  pass partly idle when HW is not a multiple of 32: 49 of 64 lanes at 7 x 7).
* rows (``HW < 32``, ``_rows`` kernels; BatchNorm1d is ``HW = 1``): the lanes walk the ``C * HW``
  values of a sample -- channel ``column // HW``, once per column -- and a thread row walks the
  samples with the channel's statistics in registers.
Inner loop on sm_90 (ptxas, SASS): 17 instructions an element forward (10 integer), 21-24
backward planes (12 integer), 21 / 26-29 rows; per plane or column 44-64 more (the division, the
4-8 statistics loads).  Indices are unsigned, so Numba emits no negative-index fix-up.

Cost (fp32, E = N * C * HW elements)
----
stats: 4E FLOPs, reads 8E bytes (two passes); normalize: 5E FLOPs (z 3, the leaky ReLU's compare
and multiply 2), 8E bytes; backward reduce: 8E FLOPs, 8E bytes; backward input: 10E FLOPs in
training (z 3, mask 2, ``scale * (g - mean_g - d * inv * mean_gxhat)`` 5; 6E in eval), 12E bytes.  All memory bound (< 2 FLOP/byte).

Launch
------
element-wise (this file): block ``(32, 8)`` (256 threads: 32 lanes x 8 thread rows), no shared
memory.  Planes: grid ``(min(ceil(HW / 256), 4096), min(ceil(N * C / 8), 65535, 4096 // grid.x))``,
so a thread walks >= 8 values of a large plane.  Rows: grid ``(min(ceil(C * HW / 32), 4096),
min(ceil(N / 32), 65535, 4096 // grid.x))``, so a thread walks ~4 samples.  Both decode with
31-bit magic numbers: the glue refuses ``N * C`` (planes) or ``C * HW`` (rows) >= 2**31.
reductions: see reductions.py.
"""

from numba import cuda, float32, uint64

from .tiles import EW_THREADS, fastdiv

NORMALIZE_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                       "float32[::1], float32[::1], int64, int64, int64, int64, int64, float64)")
BWD_INPUT_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                       "float32[::1], float32[::1], float32[::1], float32[::1], float32[::1], "
                       "int64, int64, int64, int64, int64, int64, int64, float64)")


# The per-element math, shared by the plane and the row kernels so that z is the same float32
# expression everywhere (the backward's mask must be the forward's; see the module docstring).
@cuda.jit(device=True, inline="always")
def normalize_one(xv, mu, scale, b, s):
    z = (xv - mu) * scale + b
    return z if z >= float32(0.0) else z * s


@cuda.jit(device=True, inline="always")
def backward_one(gv, xv, mu, inv, scale, b, mean_g, mean_gxhat, training, s):
    d = xv - mu
    if not (d * scale + b > float32(0.0)):  # slope unless z > 0 (NaN too, as the reference's mask)
        gv *= s
    if training != 0:
        return scale * (gv - mean_g - (d * inv) * mean_gxhat)
    return gv * scale


@cuda.jit(device=True, inline="always")
def walk(first, step, count, stride):
    """Flat offsets ``first * stride, (first + step) * stride, ...`` below ``count * stride``:
    (start, step, end) as unsigned integers, so that Numba indexes without its negative-index
    fix-up."""
    return uint64(first) * uint64(stride), uint64(step) * uint64(stride), \
        uint64(count) * uint64(stride)


@cuda.jit
def bn_normalize_kernel(x, mean, invstd, weight, bias, y, planes, hw, c, c_mul, c_shift, slope):
    """Planes layout: thread row y walks the (n, ch) planes, ``ch = plane % c`` once per plane,
    the lanes walk the plane's ``hw`` contiguous values."""
    s = float32(slope)
    j0 = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
    j_step = uint64(cuda.gridDim.x * cuda.blockDim.x)
    r = cuda.blockIdx.y * cuda.blockDim.y + cuda.threadIdx.y
    while r < planes:
        ch = uint64(r - fastdiv(r, c_mul, c_shift) * c)
        mu = mean[ch]
        scale = invstd[ch] * weight[ch]
        b = bias[ch]
        i, _, end = walk(r, 1, r + 1, hw)
        i += uint64(j0)
        while i < end:
            y[i] = normalize_one(x[i], mu, scale, b, s)
            i += j_step
        r += cuda.gridDim.y * cuda.blockDim.y


@cuda.jit
def bn_normalize_rows_kernel(x, mean, invstd, weight, bias, y, n_rows, row_len, hw_mul, hw_shift,
                             slope):
    """Rows layout (``hw < LANES``): the lanes walk the ``row_len = C * hw`` columns of a sample,
    ``ch = column // hw`` once per column, thread row y walks the samples."""
    s = float32(slope)
    col = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
    first, step, end = walk(cuda.blockIdx.y * cuda.blockDim.y + cuda.threadIdx.y,
                            cuda.gridDim.y * cuda.blockDim.y, n_rows, row_len)
    while col < row_len:
        ch = uint64(fastdiv(col, hw_mul, hw_shift))
        mu = mean[ch]
        scale = invstd[ch] * weight[ch]
        b = bias[ch]
        i = first + uint64(col)
        while i < end:
            y[i] = normalize_one(x[i], mu, scale, b, s)
            i += step
        col += cuda.gridDim.x * cuda.blockDim.x


@cuda.jit
def bn_backward_input_kernel(gy, x, mean, invstd, weight, bias, sum_gxhat, sum_g, gx,
                             planes, hw, c, c_mul, c_shift, count, training, slope):
    """gx of leaky_relu(batch_norm(x)) in the planes layout of ``bn_normalize_kernel``.
    ``sum_gxhat`` and ``sum_g`` are the per-channel sums the reduction kernel wrote -- the weight
    and bias gradients, which the caller passes as ``gweight, gbias``; ``count = N * hw``."""
    s = float32(slope)
    inv_count = float32(1.0) / float32(count)
    j0 = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
    j_step = uint64(cuda.gridDim.x * cuda.blockDim.x)
    r = cuda.blockIdx.y * cuda.blockDim.y + cuda.threadIdx.y
    while r < planes:
        ch = uint64(r - fastdiv(r, c_mul, c_shift) * c)
        mu = mean[ch]
        inv = invstd[ch]
        scale = inv * weight[ch]
        b = bias[ch]
        mean_g = sum_g[ch] * inv_count
        mean_gxhat = sum_gxhat[ch] * inv_count
        i, _, end = walk(r, 1, r + 1, hw)
        i += uint64(j0)
        while i < end:
            gx[i] = backward_one(gy[i], x[i], mu, inv, scale, b, mean_g, mean_gxhat, training, s)
            i += j_step
        r += cuda.gridDim.y * cuda.blockDim.y


@cuda.jit
def bn_backward_input_rows_kernel(gy, x, mean, invstd, weight, bias, sum_gxhat, sum_g, gx,
                                  n_rows, row_len, hw_mul, hw_shift, count, training, slope):
    """gx in the rows layout of ``bn_normalize_rows_kernel`` (``hw < LANES``)."""
    s = float32(slope)
    inv_count = float32(1.0) / float32(count)
    col = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
    first, step, end = walk(cuda.blockIdx.y * cuda.blockDim.y + cuda.threadIdx.y,
                            cuda.gridDim.y * cuda.blockDim.y, n_rows, row_len)
    while col < row_len:
        ch = uint64(fastdiv(col, hw_mul, hw_shift))
        mu = mean[ch]
        inv = invstd[ch]
        scale = inv * weight[ch]
        b = bias[ch]
        mean_g = sum_g[ch] * inv_count
        mean_gxhat = sum_gxhat[ch] * inv_count
        i = first + uint64(col)
        while i < end:
            gx[i] = backward_one(gy[i], x[i], mu, inv, scale, b, mean_g, mean_gxhat, training, s)
            i += step
        col += cuda.gridDim.x * cuda.blockDim.x


NORMALIZE_ROWS_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                            "float32[::1], float32[::1], int64, int64, int64, int64, float64)")
BWD_INPUT_ROWS_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                            "float32[::1], float32[::1], float32[::1], float32[::1], "
                            "float32[::1], int64, int64, int64, int64, int64, int64, float64)")

KERNELS = [
    ("bn_normalize", bn_normalize_kernel, NORMALIZE_SIGNATURE, EW_THREADS, 0),
    ("bn_normalize_rows", bn_normalize_rows_kernel, NORMALIZE_ROWS_SIGNATURE, EW_THREADS, 0),
    ("bn_backward_input", bn_backward_input_kernel, BWD_INPUT_SIGNATURE, EW_THREADS, 0),
    ("bn_backward_input_rows", bn_backward_input_rows_kernel, BWD_INPUT_ROWS_SIGNATURE,
     EW_THREADS, 0),
]
