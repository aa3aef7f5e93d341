"""Block reductions in shared memory: the conv bias gradient and the batch-norm channel sums (batch
norm with an optional fused leaky ReLU; plain batch norm is slope 1).

Algorithm
---------
``block_sum``: every thread writes its partial sum to ``buf[tid]``; a tree of
``log2(RED_THREADS) = 8`` halving steps (``buf[t] += buf[t + stride]`` for ``t < stride``, a
``syncthreads`` after each) leaves the block's total in ``buf[0]``, which every thread reads.
Sequential addressing (``t`` and ``t + stride``) keeps each warp's shared accesses conflict-free.
No atomics: the summation order is fixed, so results are bit-for-bit reproducible run to run.

The three per-channel kernels use one block per channel ``c`` of an ``(N, C, HW)`` array (or
several: "Channel split" below).  The
block's threads walk the channel's ``count = N * HW`` values with a flat index
``i = tid, tid + 256, ...`` -- 32 consecutive threads read 32 consecutive values of one plane, or
of two neighbouring planes (coalesced whenever ``HW >= 32``) -- accumulate in a float32 register
and finish with ``block_sum``.  The value's sample ``n = i // HW`` is one magic-number division
(``tiles.fastdiv``, a 32 x 32 -> 64-bit multiply and a shift; ``channel_offset``): offset
``c * HW + i + n * (C - 1) * HW``.  Indices are unsigned (no negative-index fix-up) and
``count < 2**31`` (the glue refuses more: the magic numbers are exact for 31-bit numerators).

* ``channel_sum_kernel`` (conv2d_grad_bias): ``gb[c] = sum gy[:, c]``.
* ``bn_stats_kernel``: mean, then the biased variance from a second pass over ``(x - mean)^2``;
  thread 0 writes ``mean[c]``, ``invstd[c] = 1 / sqrt(var + eps)`` and updates the running
  statistics in place (momentum, unbiased variance ``var * count / (count - 1)``) when asked.
* ``bn_backward_reduce_kernel``: ``gbias[c] = sum g`` and ``gweight[c] = sum g * xhat`` in one pass,
  where ``g = gy * (1 where z > 0 else slope)`` is the gradient through the fused leaky ReLU, with
  ``z = (x - mean) * (invstd * weight) + bias`` recomputed by the forward's float32 expression (so
  the mask is the forward's); slope 1 makes ``g = gy``, plain batch norm.

Their inner loops, sm_90 SASS an element (ptxas 13.0, nvdisasm; the loops unrolled 4 times):
channel_sum 16 (14 integer), bn_stats 13 / 13 (two passes, 10-11 integer), bn_backward_reduce 24
(15 integer; it sums ``g * d`` and multiplies by ``invstd`` once, not ``g * (d * invstd)`` an
element).  They used to decode ``n = i // HW`` with Numba's signed 64-bit ``//`` (a run-time
choice between ``div.s64`` and a 32-bit division, ~20 instructions, plus the sign fix-ups): 83,
83 / 84 and 97 SASS an element, ~75 of them integer -- at 4-8 bytes an element, more issue time
than an H100's 3.35 TB/s leaves (about 34 thread instructions per 4-byte value).

``(N, C)`` inputs (``HW = 1``: BatchNorm1d, the bias gradient of a 1 x 1 output) would read
strided by C there -- 4 bytes of each 32-byte sector, and at the DCGAN generator's projection
(N = 64, C = 12544) 192 of each block's 256 threads idle across 12544 blocks.
``channel_sum_rows_kernel``, ``bn_stats_rows_kernel`` and ``bn_backward_reduce_rows_kernel`` read
them coalesced: a block of ``(32, 8)`` threads holds 32 consecutive channels (a warp reads 128
contiguous bytes of one row) and 8 thread rows, each walking rows ``ty, ty + 8, ...`` (unsigned
offsets, ``column_walk``); the 8 partial sums of a channel meet in ``lane_sum`` (shared
``buf[8, 32]``, 3 halving steps, a column per lane: conflict-free).  The same two passes and
float32 expressions as the per-channel kernels, in another summation order (still fixed:
bit-for-bit reproducible).  Inner loops on sm_90: 9-10 SASS an element (channel_sum_rows,
bn_stats_rows' two passes; 23-24 with the signed ``n * C + ch`` they had), bn_backward_reduce_rows
19 (36).  The glue takes them when a thread walks at most 32 rows (N <= 256) or when the grid has
>= 128 blocks (C >= 4096); for long columns of few channels the one-block-per-channel kernels keep
more SMs busy.

Small planes (``1 < HW < 8``, the bias gradient only: e.g. gy ``(64, 512, 2, 2)``): a plane is
under one 32-byte sector, so the per-channel kernel's warps fetch 8-28 useful bytes a sector.
``channel_sum_rows_kernel`` takes ``hw`` too and reads ``(N, C * HW)`` rows: a block holds
``LANES // HW`` whole channels (their columns contiguous, 28-32 of its 32 lanes live), and after
``lane_sum`` one lane a channel adds its ``HW`` column totals from ``buf[0, :]`` (the fold: 22 SASS
a column, once).  Same rule as above (N <= 256, or >= 128 blocks); from ``HW = 8`` a plane fills
whole sectors and the per-channel kernel (C blocks, not C / 4 or fewer) stays.  The walk is the
``HW = 1`` kernel's, 9 SASS an element.

Channel split (``*_split_kernel`` + ``*_fold_kernel``): one block a channel leaves an H100 idle
when C is small -- the DCGAN's batch norms at batch 64 launch 64-128 blocks on 132 SMs, each block
walking 3136-50176 values with ~4 loads in flight a thread.  The split kernels run a grid ``(C,
S)``: block ``(ch, s)`` walks the channel's values ``[s * chunk, min((s + 1) * chunk, count))``
(``split_range``; the last split partial) with the same walk as above (``walk_sum``,
``walk_squares``, ``walk_grad_sums``: inline device functions the single-pass kernels use too) and
writes its ``block_sum`` totals to a float32 workspace ``part[q, s, ch]`` (q: the quantity; a
fold thread's reads are then coalesced across channels).  A second launch folds them, a thread a
channel, in split order and in float64: ``channel_sum_fold`` and ``bn_backward_fold`` add,
``bn_stats_fold`` combines.  No atomics anywhere: the chunks depend on the shape only, the order of
every sum is fixed, so results are bit-for-bit reproducible run to run.

bn_stats' splits: each split writes its own mean ``mu_s`` and its squared deviations from it
``M2_s = sum (x - mu_s)^2`` (two passes over the split, the second mostly from L1: a split is
<= ~22 KB), and the fold applies Chan et al.'s parallel formula in float64: ``mean = sum n_s mu_s /
count``, ``M2 = sum M2_s + sum n_s (mu_s - mean)^2``, ``var = M2 / count``.  Why not (sum, sum of
squares) partials: in float32 ``E[x^2] - E[x]^2`` cancels -- at mean 40, std 0.05 the two terms
agree to 6 of float32's 7 digits (var / mean^2 = 1.6e-6), and the variance came out 1.7-6% off
(12544-50176 values, NumPy emulating the walk in float32); float64 accumulators in the hot loop
would double the accumulators' registers and run at 1/64 of float32's rate on GeForce-class GPUs.
Chan's keeps the loop float32 and each split's deviations about its own mean (as accurate as the
single pass): 0.07-0.7 ppm relative error in the variance there against the float64 reference
(simulator; ``tests/test_cuda_split_reduce29.py`` checks < 10 ppm at 4000 values in 3 splits).

Split rule (glue, ``_channel_split``): ``S = min(ceil(528 / C), count // 2048)`` -- about 4 blocks
an SM of a 132-SM H100 (the split kernels hold 6-8 resident), at least 2048 values a split (8 a
thread: two of the loops' 4-unrolled iterations, so ``block_sum``'s tail and the fold are paid for);
the chunk rounded up to whole block strides (256 values), ``S = ceil(count / chunk)`` (no split
empty).  ``S = 1`` keeps the single-pass kernel (no fold launch, no workspace): C >= 528, or fewer
than 4096 values a channel.  At batch 64: ``(64, 64, 28, 28)`` 9 splits (576 blocks), ``(64, 128,
14, 14)`` 5 (640), a 1-channel bias gradient of 28 x 28 22 (not 1 block); 7 x 7 planes (3136
values) stay single-pass.  Estimated 2-4x on those kernels from filling the SMs (the loops
unchanged: sm_90 SASS a 4-value iteration channel_sum_split 61, bn_stats_split 51 / 55,
bn_backward_split 95, against 64, 51 / 53 and 95); no GPU timing yet, and the fold is a second
launch (~2-3 us of host time each in a host-bound step).

Why these kernels share a file with ``block_sum``: Numba's simulator runs a device function
called from another module by swapping that module's ``cuda`` global per call, and simulated
threads racing on that swap corrupt each other's ``threadIdx`` and barriers.  Kept in one module
the device function sees the kernel's (already swapped) globals.  Compiled code is unaffected:
``block_sum`` is inlined at the Numba IR level (``inline="always"``).

Cost (fp32, E = N * C * HW)
----
channel_sum (and _rows): E FLOPs (adds), 4E bytes.  bn_stats (and _rows): 4E FLOPs, 8E bytes (x
read twice, the second pass mostly from L2).  bn_backward_reduce (and _rows): 8E FLOPs (z 3, the
mask's compare and multiply 2, the sums of g and g * d 3), 8E bytes.  Memory bound.  At the DCGAN projection (E = 803K, 3.2 MB
of x) the per-channel kernels fetch a 32-byte sector per 4-byte value from L2 (8x the bytes) in
12544 short blocks; the rows kernels fetch each byte once in 392 blocks.  Split kernels: the same
FLOPs and bytes, plus ``q * S * C`` float32 partials written and read back (q = 1 for channel_sum,
2 for the others: 4.6 KB at ``(64, 64, 28, 28)``); the folds ~3 (sums) to ~10 (Chan, float64)
FLOPs a partial.

Launch
------
per-channel kernels: grid ``(C,)``, block ``(256,)``, static shared memory ``256 * 4 = 1024`` bytes;
``count = N * HW < 2**31`` (the glue refuses more), plus the host's ``fastdiv_magic(HW)``.
Registers (ptxas 13.0, sm_80 / sm_90): channel_sum 32; bn_stats declares launch bounds
``(256, STATS_MIN_BLOCKS = 8)`` (``_launch.bounded_jit``): 32 / 32 registers, 8 blocks (100%), no
spills, its loops' SASS 51 / 53 a 4-element unrolled iteration against 51 / 54 unbounded (38 / 40
registers, 6 blocks, 75%).  bn_backward_reduce stays unbounded (40 / 40, 75%): capped at 32 it
spills 16-32 bytes, with local loads in the loop.  Occupancy only matters with more than ~130
blocks: with fewer the glue splits the channels (below).
split kernels: grid ``(C, S)`` (``S <= 528``), block ``(256,)``, static shared memory 1024 bytes;
registers as their single-pass kernels': channel_sum_split 32, bn_stats_split 32 (same launch
bounds, 8 blocks, 100%), bn_backward_split 40 (6 blocks, 75%); no spills.
folds: grid ``(ceil(C / FOLD_THREADS),)``, block ``(FOLD_THREADS = 128,)``, no shared memory;
channel_sum_fold 28, bn_backward_fold 32, bn_stats_fold 40 (sm_80) / 32 (sm_90) registers (12-16
blocks, 75-100%).
rows kernels: grid ``(ceil(C / 32),)`` (channel_sum_rows: ``(ceil(C / (32 // HW)),)``), block
``(32, 8)`` (256 threads), static shared memory ``8 * 32 * 4 = 1024`` bytes.  No dynamic shared memory.
"""

import math

from numba import cuda, float32, float64, uint32, uint64

from ._launch import bounded_jit
from .tiles import LANES, RED_THREADS, ROW_LANES, fastdiv

STATS_MIN_BLOCKS = 8  # bn_stats' launch bounds: 8 blocks of RED_THREADS an SM, <= 32 registers
FOLD_THREADS = 128    # the folds: a thread a channel (the DCGAN's 64-128 channels: one block)

SIGNATURE = "void(float32[::1], float32[::1], int64, int64, int64, int64, int64)"
ROWS_SIGNATURE = "void(float32[::1], float32[::1], int64, int64, int64, int64)"
STATS_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], float32[::1], "
                   "int64, int64, int64, int64, int64, float64, float64, int64)")
ROWS_STATS_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                        "float32[::1], int64, int64, float64, float64, int64)")
ROWS_BWD_REDUCE_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                             "float32[::1], float32[::1], float32[::1], float32[::1], "
                             "int64, int64, float64)")
BWD_REDUCE_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                        "float32[::1], float32[::1], float32[::1], float32[::1], "
                        "int64, int64, int64, int64, int64, float64)")
SPLIT_SIGNATURE = "void(float32[::1], float32[::1], int64, int64, int64, int64, int64, int64)"
BWD_SPLIT_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                       "float32[::1], float32[::1], float32[::1], "
                       "int64, int64, int64, int64, int64, float64, int64)")
SUM_FOLD_SIGNATURE = "void(float32[::1], float32[::1], int64, int64)"
BWD_FOLD_SIGNATURE = "void(float32[::1], float32[::1], float32[::1], float32[::1], int64, int64)"
STATS_FOLD_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
                        "float32[::1], int64, int64, int64, int64, float64, float64, int64)")


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


@cuda.jit(device=True, inline="always")
def channel_offset(i, hw_mul, hw_shift, base, gap):
    """Flat offset of a channel's ``i``-th value (``i < N * hw``) in an ``(N, C, hw)`` array:
    ``base + i + (i // hw) * gap`` with ``base = ch * hw`` and ``gap = (C - 1) * hw`` (the other
    channels' planes between two of this channel's), ``i // hw`` by magic number
    (``fastdiv_magic(hw)``).  Unsigned: Numba indexes without its negative-index fix-up; the
    quotient cut to 32 bits (it is < 2**31) makes its product with ``gap`` one wide multiply-add
    (16 SASS an element on sm_90, not 19)."""
    n = uint64(uint32(fastdiv(i, hw_mul, hw_shift)))
    return uint64(base) + uint64(i) + n * uint64(gap)


@cuda.jit(device=True, inline="always")
def walk_sum(x, i, end, hw_mul, hw_shift, base, gap):
    """A thread's float32 sum of a channel's values ``i, i + RED_THREADS, ... < end`` (flat
    indices of the channel, ``channel_offset``).  Unsigned while loop, not range(): 4 SASS an
    element fewer."""
    acc = float32(0.0)
    while i < end:
        acc += x[channel_offset(i, hw_mul, hw_shift, base, gap)]
        i += uint64(RED_THREADS)
    return acc


@cuda.jit(device=True, inline="always")
def walk_squares(x, i, end, mu, hw_mul, hw_shift, base, gap):
    """A thread's float32 sum of ``(x - mu)^2`` over the values ``walk_sum`` visits."""
    acc = float32(0.0)
    while i < end:
        d = x[channel_offset(i, hw_mul, hw_shift, base, gap)] - mu
        acc += d * d
        i += uint64(RED_THREADS)
    return acc


@cuda.jit(device=True, inline="always")
def walk_grad_sums(gy, x, i, end, mu, scale, b, neg, hw_mul, hw_shift, base, gap):
    """A thread's ``(sum g, sum g * (x - mu))`` over the values ``walk_sum`` visits, where
    ``g = gy * (1 where z > 0 else neg)`` and ``z = (x - mu) * scale + b`` (the forward's float32
    expression, so the mask is the forward's)."""
    acc_g = float32(0.0)
    acc_gd = float32(0.0)
    while i < end:
        idx = channel_offset(i, hw_mul, hw_shift, base, gap)
        d = x[idx] - mu
        g = gy[idx]
        if not (d * scale + b > float32(0.0)):  # slope unless z > 0: NaN takes it, as in
            g *= neg                            # the reference's mask
        acc_g += g
        acc_gd += g * d  # sum g * xhat = inv * sum g * d
        i += uint64(RED_THREADS)
    return acc_g, acc_gd


@cuda.jit(device=True, inline="always")
def split_range(split, chunk, count):
    """Flat indices ``[start, end)`` of a channel's values that split ``split`` walks: chunks of
    ``chunk``, the last one partial."""
    start = uint64(split) * uint64(chunk)
    return start, min(start + uint64(chunk), uint64(count))


@cuda.jit
def channel_sum_kernel(g, out, n_batch, c, hw, hw_mul, hw_shift):
    """out[ch] = sum over n, p of g (N, C, HW) flat; one block per channel."""
    buf = cuda.shared.array(RED_THREADS, float32)
    ch = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    acc = walk_sum(g, uint64(tid), uint64(n_batch) * uint64(hw), hw_mul, hw_shift, ch * hw,
                   (c - 1) * hw)
    total = block_sum(buf, tid, acc)
    if tid == 0:
        out[ch] = total


@bounded_jit(RED_THREADS, STATS_MIN_BLOCKS)
def bn_stats_kernel(x, mean, invstd, running_mean, running_var, n_batch, c, hw, hw_mul, hw_shift,
                    eps, momentum, update_running):
    """Per-channel batch mean / invstd of x (N, C, HW) flat; optional running-stat update."""
    buf = cuda.shared.array(RED_THREADS, float32)
    ch = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    count = n_batch * hw
    base = ch * hw
    gap = (c - 1) * hw
    i, end = uint64(tid), uint64(count)
    mu = block_sum(buf, tid, walk_sum(x, i, end, hw_mul, hw_shift, base, gap)) / float32(count)
    var = block_sum(buf, tid, walk_squares(x, i, end, mu, hw_mul, hw_shift, base,
                                           gap)) / float32(count)
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
                              hw_mul, hw_shift, slope):
    """gbias[c] = sum g, gweight[c] = sum g * xhat, g = gy through the leaky ReLU; one block per
    channel."""
    buf = cuda.shared.array(RED_THREADS, float32)
    ch = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    inv = invstd[ch]
    acc_g, acc_gd = walk_grad_sums(gy, x, uint64(tid), uint64(n_batch) * uint64(hw), mean[ch],
                                   inv * weight[ch], bias[ch], float32(slope), hw_mul, hw_shift,
                                   ch * hw, (c - 1) * hw)
    total_g = block_sum(buf, tid, acc_g)
    total_gd = block_sum(buf, tid, acc_gd)
    if tid == 0:
        gbias[ch] = total_g
        gweight[ch] = total_gd * inv


# ------------------------------------------------------------------ channel split (grid (C, S))
@cuda.jit
def channel_sum_split_kernel(g, part, n_batch, c, hw, hw_mul, hw_shift, chunk):
    """part[s, ch] = sum of split ``s`` (values ``[s * chunk, (s + 1) * chunk)``) of channel
    ``ch`` of g (N, C, HW); block (ch, s)."""
    buf = cuda.shared.array(RED_THREADS, float32)
    ch = cuda.blockIdx.x
    s = cuda.blockIdx.y
    tid = cuda.threadIdx.x
    start, end = split_range(s, chunk, n_batch * hw)
    total = block_sum(buf, tid, walk_sum(g, start + uint64(tid), end, hw_mul, hw_shift, ch * hw,
                                         (c - 1) * hw))
    if tid == 0:
        part[s * c + ch] = total


@bounded_jit(RED_THREADS, STATS_MIN_BLOCKS)
def bn_stats_split_kernel(x, part, n_batch, c, hw, hw_mul, hw_shift, chunk):
    """Split ``s`` of channel ``ch``: its mean ``part[0, s, ch]`` and its sum of squared
    deviations from that mean ``part[1, s, ch]`` (two passes over the split, as bn_stats_kernel
    over the channel); ``bn_stats_fold_kernel`` combines the splits by Chan's formula."""
    buf = cuda.shared.array(RED_THREADS, float32)
    ch = cuda.blockIdx.x
    s = cuda.blockIdx.y
    tid = cuda.threadIdx.x
    splits = cuda.gridDim.y
    base = ch * hw
    gap = (c - 1) * hw
    start, end = split_range(s, chunk, n_batch * hw)
    i = start + uint64(tid)
    mu = block_sum(buf, tid, walk_sum(x, i, end, hw_mul, hw_shift, base, gap)) / float32(end - start)
    m2 = block_sum(buf, tid, walk_squares(x, i, end, mu, hw_mul, hw_shift, base, gap))
    if tid == 0:
        part[s * c + ch] = mu
        part[(splits + s) * c + ch] = m2


@cuda.jit
def bn_backward_split_kernel(gy, x, mean, invstd, weight, bias, part, n_batch, c, hw,
                             hw_mul, hw_shift, slope, chunk):
    """Split ``s`` of channel ``ch``: ``part[0, s, ch] = sum g``, ``part[1, s, ch] = sum g * d``
    (bn_backward_reduce_kernel's sums over the split); ``bn_backward_fold_kernel`` adds them."""
    buf = cuda.shared.array(RED_THREADS, float32)
    ch = cuda.blockIdx.x
    s = cuda.blockIdx.y
    tid = cuda.threadIdx.x
    splits = cuda.gridDim.y
    start, end = split_range(s, chunk, n_batch * hw)
    acc_g, acc_gd = walk_grad_sums(gy, x, start + uint64(tid), end, mean[ch],
                                   invstd[ch] * weight[ch], bias[ch], float32(slope), hw_mul,
                                   hw_shift, ch * hw, (c - 1) * hw)
    total_g = block_sum(buf, tid, acc_g)
    total_gd = block_sum(buf, tid, acc_gd)
    if tid == 0:
        part[s * c + ch] = total_g
        part[(splits + s) * c + ch] = total_gd


@cuda.jit
def channel_sum_fold_kernel(part, out, c, splits):
    """out[ch] = sum over s of part[s, ch], in split order, in float64; a thread a channel."""
    ch = cuda.grid(1)
    if ch < c:
        acc = float64(0.0)
        for s in range(splits):
            acc += float64(part[s * c + ch])
        out[ch] = float32(acc)


@cuda.jit
def bn_backward_fold_kernel(part, invstd, gweight, gbias, c, splits):
    """gbias[ch] = sum over s of part[0, s, ch], gweight[ch] = invstd[ch] * sum part[1, s, ch],
    in split order, in float64; a thread a channel."""
    ch = cuda.grid(1)
    if ch < c:
        acc_g = float64(0.0)
        acc_gd = float64(0.0)
        for s in range(splits):
            acc_g += float64(part[s * c + ch])
            acc_gd += float64(part[(splits + s) * c + ch])
        gbias[ch] = float32(acc_g)
        gweight[ch] = float32(acc_gd * float64(invstd[ch]))


@cuda.jit
def bn_stats_fold_kernel(part, mean, invstd, running_mean, running_var, c, splits, chunk, count,
                         eps, momentum, update_running):
    """mean / invstd (and the running statistics) of each channel from its splits' means and
    squared-deviation sums, by Chan's formula in float64: ``mean = sum n_s mu_s / n``,
    ``M2 = sum M2_s + sum n_s (mu_s - mean)^2`` (the splits hold ``chunk`` values, the last one
    ``count - (splits - 1) * chunk``); a thread a channel."""
    ch = cuda.grid(1)
    if ch < c:
        last = float64(count - (splits - 1) * chunk)
        mu = float64(0.0)
        for s in range(splits):
            mu += float64(part[s * c + ch]) * (float64(chunk) if s < splits - 1 else last)
        mu /= float64(count)
        m2 = float64(0.0)
        for s in range(splits):
            d = float64(part[s * c + ch]) - mu
            m2 += float64(part[(splits + s) * c + ch]) + d * d * (
                float64(chunk) if s < splits - 1 else last)
        var = m2 / float64(count)
        mean[ch] = float32(mu)
        invstd[ch] = float32(1.0 / math.sqrt(var + eps))
        if update_running != 0:
            unbiased = var * (float64(count) / float64(count - 1)) if count > 1 else var
            running_mean[ch] = float32((1.0 - momentum) * float64(running_mean[ch])
                                       + momentum * mu)
            running_var[ch] = float32((1.0 - momentum) * float64(running_var[ch])
                                      + momentum * unbiased)


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


@cuda.jit(device=True, inline="always")
def column_walk(ty, ch, n_batch, c):
    """Flat offsets of column ``ch`` of an ``(N, C)`` array in rows ``ty, ty + ROW_LANES, ...``:
    (start, step, end), unsigned (no negative-index fix-up in the loop)."""
    return (uint64(ty) * uint64(c) + uint64(ch), uint64(ROW_LANES) * uint64(c),
            uint64(n_batch) * uint64(c))


@cuda.jit
def channel_sum_rows_kernel(g, out, n_batch, c, hw, per_block):
    """channel_sum for g (N, C, hw) with small planes (``hw <= LANES``; a 1 x 1 output's hw = 1)
    read as N rows of ``C * hw`` values: a block takes ``per_block = LANES // hw`` whole channels,
    its lanes their ``per_block * hw`` consecutive columns (a warp reads contiguous floats of a
    row), its thread rows walk the samples as in bn_stats_rows_kernel.  ``lane_sum`` leaves each
    column's total in ``buf[0, :]``; lane ``j < per_block`` of thread row 0 adds its channel's
    ``hw`` columns (in column order: the sum is reproducible)."""
    buf = cuda.shared.array((ROW_LANES, LANES), float32)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    ch0 = cuda.blockIdx.x * per_block
    cols = min(per_block, c - ch0) * hw
    live = tx < cols                     # spare lanes (the last block's, LANES % hw) add zeros
    acc = float32(0.0)
    if live:
        i, step, end = column_walk(ty, ch0 * hw + tx, n_batch, c * hw)
        while i < end:
            acc += g[i]
            i += step
    total = lane_sum(buf, tx, ty, acc)
    if ty == 0 and tx * hw < cols:
        if hw != 1:
            total = float32(0.0)
            for j in range(tx * hw, tx * hw + hw):
                total += buf[0, j]
        out[ch0 + tx] = total


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
        i, step, end = column_walk(ty, ch, n_batch, c)
        while i < end:
            acc += x[i]
            i += step
    mu = lane_sum(buf, tx, ty, acc) / float32(n_batch)

    acc = float32(0.0)
    if live:
        i, step, end = column_walk(ty, ch, n_batch, c)
        while i < end:
            d = x[i] - mu
            acc += d * d
            i += step
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
    acc_gd = float32(0.0)
    inv = float32(0.0)
    if live:
        mu = mean[ch]
        inv = invstd[ch]
        scale = inv * weight[ch]
        b = bias[ch]
        neg = float32(slope)
        i, step, end = column_walk(ty, ch, n_batch, c)
        while i < end:
            d = x[i] - mu
            g = gy[i]
            if not (d * scale + b > float32(0.0)):  # the forward's z and mask, as above
                g *= neg
            acc_g += g
            acc_gd += g * d  # sum g * xhat = inv * sum g * d
            i += step
    total_g = lane_sum(buf, tx, ty, acc_g)
    total_gd = lane_sum(buf, tx, ty, acc_gd)
    if ty == 0 and live:
        gbias[ch] = total_g
        gweight[ch] = total_gd * inv


KERNELS = [
    ("channel_sum", channel_sum_kernel, SIGNATURE, RED_THREADS, 0),
    ("bn_stats", bn_stats_kernel, STATS_SIGNATURE, RED_THREADS, 0),
    ("bn_backward_reduce", bn_backward_reduce_kernel, BWD_REDUCE_SIGNATURE, RED_THREADS, 0),
    ("channel_sum_rows", channel_sum_rows_kernel, ROWS_SIGNATURE, LANES * ROW_LANES, 0),
    ("bn_stats_rows", bn_stats_rows_kernel, ROWS_STATS_SIGNATURE, LANES * ROW_LANES, 0),
    ("bn_backward_reduce_rows", bn_backward_reduce_rows_kernel, ROWS_BWD_REDUCE_SIGNATURE,
     LANES * ROW_LANES, 0),
    ("channel_sum_split", channel_sum_split_kernel, SPLIT_SIGNATURE, RED_THREADS, 0),
    ("bn_stats_split", bn_stats_split_kernel, SPLIT_SIGNATURE, RED_THREADS, 0),
    ("bn_backward_split", bn_backward_split_kernel, BWD_SPLIT_SIGNATURE, RED_THREADS, 0),
    ("channel_sum_fold", channel_sum_fold_kernel, SUM_FOLD_SIGNATURE, FOLD_THREADS, 0),
    ("bn_backward_fold", bn_backward_fold_kernel, BWD_FOLD_SIGNATURE, FOLD_THREADS, 0),
    ("bn_stats_fold", bn_stats_fold_kernel, STATS_FOLD_SIGNATURE, FOLD_THREADS, 0),
]
