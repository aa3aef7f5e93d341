"""Block reductions in shared memory: the conv bias gradient and the batch-norm channel sums (batch
norm with an optional fused leaky ReLU; plain batch norm is slope 1).

Algorithm
---------
``block_sum``: every thread writes its partial sum to ``buf[tid]``; a tree of
``log2(RED_THREADS) = 8`` halving steps (``buf[t] += buf[t + stride]`` for ``t < stride``, a
``syncthreads`` after each) leaves the block's total in ``buf[0]``, which every thread reads.
Sequential addressing (``t`` and ``t + stride``) keeps each warp's shared accesses conflict-free.
No atomics: the summation order is fixed, so results are bit-for-bit reproducible run to run.

The three per-channel kernels use one block per channel ``c`` of an ``(N, C, HW)`` array.  The
block's threads walk the channel's ``count = N * HW`` elements with a flat index
``i = tid, tid + 256, ...`` decoded to ``(n, p)``: 32 consecutive threads read 32 consecutive
pixels of one plane (coalesced whenever ``HW >= 32``), accumulate in a float32 register and finish
with ``block_sum``:

* ``channel_sum_kernel`` (conv2d_grad_bias): ``gb[c] = sum gy[:, c]``.
* ``bn_stats_kernel``: mean, then the biased variance from a second pass over ``(x - mean)^2``;
  thread 0 writes ``mean[c]``, ``invstd[c] = 1 / sqrt(var + eps)`` and updates the running
  statistics in place (momentum, unbiased variance ``var * count / (count - 1)``) when asked.
* ``bn_backward_reduce_kernel``: ``gbias[c] = sum g`` and ``gweight[c] = sum g * xhat`` in one pass,
  where ``g = gy * (1 where z > 0 else slope)`` is the gradient through the fused leaky ReLU, with
  ``z = (x - mean) * (invstd * weight) + bias`` recomputed by the forward's float32 expression (so
  the mask is the forward's); slope 1 makes ``g = gy``, plain batch norm.

BatchNorm1d's ``(N, C)`` inputs (``HW = 1``) would read strided by C there -- 4 bytes of each
32-byte sector, and at the DCGAN generator's projection (N = 64, C = 12544) 192 of each block's
256 threads idle across 12544 blocks.  ``bn_stats_rows_kernel`` and ``bn_backward_reduce_rows_kernel``
read them coalesced: a block of ``(32, 8)`` threads holds 32 consecutive channels (a warp reads
128 contiguous bytes of one row) and 8 thread rows, each walking rows ``ty, ty + 8, ...``; the 8
partial sums of a channel meet in ``lane_sum`` (shared ``buf[8, 32]``, 3 halving steps, a column
per lane: conflict-free).  The same two passes and float32 expressions as the per-channel kernels,
in another summation order (still fixed: bit-for-bit reproducible).  The glue takes them when a
thread walks at most 32 rows (N <= 256) or when the grid has >= 128 blocks (C >= 4096); for long
columns of few channels the one-block-per-channel kernels keep more SMs busy.

Why these kernels share a file with ``block_sum``: Numba's simulator runs a device function
called from another module by swapping that module's ``cuda`` global per call, and simulated
threads racing on that swap corrupt each other's ``threadIdx`` and barriers.  Kept in one module
the device function sees the kernel's (already swapped) globals.  Compiled code is unaffected:
``block_sum`` is inlined at the Numba IR level (``inline="always"``).

Cost (fp32, E = N * C * HW)
----
channel_sum: E adds, 4E bytes.  bn_stats (and _rows): 4E FLOPs, 8E bytes (x read twice, the
second pass mostly from L2).  bn_backward_reduce (and _rows): 9E FLOPs (z 3, the mask's compare and
multiply 2, the two sums 4), 8E bytes.  Memory bound.  At the DCGAN projection (E = 803K, 3.2 MB
of x) the per-channel kernels fetch a 32-byte sector per 4-byte value from L2 (8x the bytes) in
12544 short blocks; the rows kernels fetch each byte once in 392 blocks.

Launch
------
per-channel kernels: grid ``(C,)``, block ``(256,)``, static shared memory ``256 * 4 = 1024`` bytes.
rows kernels: grid ``(ceil(C / 32),)``, block ``(32, 8)`` (256 threads), static shared memory
``8 * 32 * 4 = 1024`` bytes.  No dynamic shared memory.
"""

import math

from numba import cuda, float32

from .tiles import LANES, RED_THREADS, ROW_LANES

SIGNATURE = "void(float32[::1], float32[::1], int64, int64, int64)"
STATS_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], float32[::1], "
                   "int64, int64, int64, float64, float64, int64)")
ROWS_STATS_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                        "float32[::1], int64, int64, float64, float64, int64)")
ROWS_BWD_REDUCE_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                             "float32[::1], float32[::1], float32[::1], float32[::1], "
                             "int64, int64, float64)")
BWD_REDUCE_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                        "float32[::1], float32[::1], float32[::1], float32[::1], "
                        "int64, int64, int64, float64)")


@cuda.jit(device=True, inline="always")
def block_sum(buf, tid, value):
    """Sum ``value`` over the RED_THREADS threads of the block; every thread gets the total."""
    buf[tid] = value
    cuda.syncthreads()
    stride = RED_THREADS // 2
    while stride > 0:
        if tid < stride:
            buf[tid] += buf[tid + stride]
        cuda.syncthreads()
        stride //= 2
    total = buf[0]
    cuda.syncthreads()  # buf may be reused by the caller's next reduction
    return total


@cuda.jit
def channel_sum_kernel(g, out, n_batch, c, hw):
    """out[ch] = sum over n, p of g (N, C, HW) flat; one block per channel."""
    buf = cuda.shared.array(RED_THREADS, float32)
    ch = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    count = n_batch * hw
    acc = float32(0.0)
    for i in range(tid, count, RED_THREADS):
        n = i // hw
        acc += g[(n * c + ch) * hw + (i - n * hw)]
    total = block_sum(buf, tid, acc)
    if tid == 0:
        out[ch] = total


@cuda.jit
def bn_stats_kernel(x, mean, invstd, running_mean, running_var, n_batch, c, hw,
                    eps, momentum, update_running):
    """Per-channel batch mean / invstd of x (N, C, HW) flat; optional running-stat update."""
    buf = cuda.shared.array(RED_THREADS, float32)
    ch = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    count = n_batch * hw

    acc = float32(0.0)
    for i in range(tid, count, RED_THREADS):
        n = i // hw
        acc += x[(n * c + ch) * hw + (i - n * hw)]
    mu = block_sum(buf, tid, acc) / float32(count)

    acc = float32(0.0)
    for i in range(tid, count, RED_THREADS):
        n = i // hw
        d = x[(n * c + ch) * hw + (i - n * hw)] - mu
        acc += d * d
    var = block_sum(buf, tid, acc) / float32(count)

    if tid == 0:
        mean[ch] = mu
        invstd[ch] = float32(1.0) / math.sqrt(var + float32(eps))
        if update_running != 0:
            mom = float32(momentum)
            unbiased = var
            if count > 1:
                unbiased = var * (float32(count) / float32(count - 1))
            running_mean[ch] = (float32(1.0) - mom) * running_mean[ch] + mom * mu
            running_var[ch] = (float32(1.0) - mom) * running_var[ch] + mom * unbiased


@cuda.jit
def bn_backward_reduce_kernel(gy, x, mean, invstd, weight, bias, gweight, gbias, n_batch, c, hw,
                              slope):
    """gbias[c] = sum g, gweight[c] = sum g * xhat, g = gy through the leaky ReLU; one block per
    channel."""
    buf = cuda.shared.array(RED_THREADS, float32)
    ch = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    count = n_batch * hw
    mu = mean[ch]
    inv = invstd[ch]
    scale = inv * weight[ch]
    b = bias[ch]
    neg = float32(slope)
    acc_g = float32(0.0)
    acc_gx = float32(0.0)
    for i in range(tid, count, RED_THREADS):
        n = i // hw
        idx = (n * c + ch) * hw + (i - n * hw)
        d = x[idx] - mu
        g = gy[idx]
        if not (d * scale + b > float32(0.0)):  # slope unless z > 0: NaN takes it, as in
            g *= neg                            # the reference's mask
        acc_g += g
        acc_gx += g * (d * inv)
    total_g = block_sum(buf, tid, acc_g)
    total_gx = block_sum(buf, tid, acc_gx)
    if tid == 0:
        gbias[ch] = total_g
        gweight[ch] = total_gx


@cuda.jit(device=True, inline="always")
def lane_sum(buf, tx, ty, value):
    """Sum ``value`` over the ROW_LANES thread rows of a (LANES, ROW_LANES) block, column by
    column (``log2(ROW_LANES) = 3`` halving steps); every thread gets its column's total."""
    buf[ty, tx] = value
    cuda.syncthreads()
    stride = ROW_LANES // 2
    while stride > 0:
        if ty < stride:
            buf[ty, tx] += buf[ty + stride, tx]
        cuda.syncthreads()
        stride //= 2
    total = buf[0, tx]
    cuda.syncthreads()  # buf may be reused by the caller's next reduction
    return total


@cuda.jit
def bn_stats_rows_kernel(x, mean, invstd, running_mean, running_var, n_batch, c, eps, momentum,
                         update_running):
    """bn_stats for x (N, C) (hw = 1): LANES consecutive channels a block, ROW_LANES rows walked
    in parallel, each warp reading 32 consecutive floats of one row; two passes as bn_stats."""
    buf = cuda.shared.array((ROW_LANES, LANES), float32)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    ch = cuda.blockIdx.x * LANES + tx
    live = ch < c                        # the last block's spare lanes add zeros

    acc = float32(0.0)
    if live:
        for n in range(ty, n_batch, ROW_LANES):
            acc += x[n * c + ch]
    mu = lane_sum(buf, tx, ty, acc) / float32(n_batch)

    acc = float32(0.0)
    if live:
        for n in range(ty, n_batch, ROW_LANES):
            d = x[n * c + ch] - mu
            acc += d * d
    var = lane_sum(buf, tx, ty, acc) / float32(n_batch)

    if ty == 0 and live:
        mean[ch] = mu
        invstd[ch] = float32(1.0) / math.sqrt(var + float32(eps))
        if update_running != 0:
            mom = float32(momentum)
            unbiased = var
            if n_batch > 1:
                unbiased = var * (float32(n_batch) / float32(n_batch - 1))
            running_mean[ch] = (float32(1.0) - mom) * running_mean[ch] + mom * mu
            running_var[ch] = (float32(1.0) - mom) * running_var[ch] + mom * unbiased


@cuda.jit
def bn_backward_reduce_rows_kernel(gy, x, mean, invstd, weight, bias, gweight, gbias, n_batch, c,
                                   slope):
    """bn_backward_reduce for (N, C) inputs, in the block layout of bn_stats_rows_kernel."""
    buf = cuda.shared.array((ROW_LANES, LANES), float32)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    ch = cuda.blockIdx.x * LANES + tx
    live = ch < c
    acc_g = float32(0.0)
    acc_gx = float32(0.0)
    if live:
        mu = mean[ch]
        inv = invstd[ch]
        scale = inv * weight[ch]
        b = bias[ch]
        neg = float32(slope)
        for n in range(ty, n_batch, ROW_LANES):
            idx = n * c + ch
            d = x[idx] - mu
            g = gy[idx]
            if not (d * scale + b > float32(0.0)):  # the forward's z and mask, as above
                g *= neg
            acc_g += g
            acc_gx += g * (d * inv)
    total_g = lane_sum(buf, tx, ty, acc_g)
    total_gx = lane_sum(buf, tx, ty, acc_gx)
    if ty == 0 and live:
        gbias[ch] = total_g
        gweight[ch] = total_gx


KERNELS = [
    ("channel_sum", channel_sum_kernel, SIGNATURE, RED_THREADS, 0),
    ("bn_stats", bn_stats_kernel, STATS_SIGNATURE, RED_THREADS, 0),
    ("bn_backward_reduce", bn_backward_reduce_kernel, BWD_REDUCE_SIGNATURE, RED_THREADS, 0),
    ("bn_stats_rows", bn_stats_rows_kernel, ROWS_STATS_SIGNATURE, LANES * ROW_LANES, 0),
    ("bn_backward_reduce_rows", bn_backward_reduce_rows_kernel, ROWS_BWD_REDUCE_SIGNATURE,
     LANES * ROW_LANES, 0),
]
