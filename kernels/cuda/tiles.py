"""Compile-time tile sizes shared by the implicit-GEMM convolution kernels.

Every tiled convolution kernel in this package (all but ``conv_thin``'s direct kernels for outputs
of <= 4 channels) is one GEMM ``C[M, N] = sum_k A[M, k] * B[k, N]`` whose
operands are never materialised: each block gathers a ``BK x BM`` slice of A and a ``BK x BN``
slice of B straight from the NCHW tensors into shared memory, then every thread multiplies a
``TM x TN`` register tile out of shared memory.

Shared-memory shapes must be compile-time constants for ``numba.cuda.compile_ptx`` (the simulator
would accept run-time shapes, real compilation does not), so they live here as module globals.

Layout of the ``THREADS = (BM / TM) * (BN / TN) = 128`` threads of a block (``TM x TN = 8 x 4``
outputs each)::

    tx = tid % 8  ->  rows  4tx .. 4tx + 3  and  32 + 4tx .. 32 + 4tx + 3  (M: output pixels)
    ty = tid // 8 ->  cols  4ty .. 4ty + 3                                   (N: channels)

Each k of ``multiply_tile`` loads the thread's 8 values of A and 4 of B as three 16-byte
``LDS.128`` (VEC = 4 consecutive words, 16-byte aligned: the tiles are declared with
``alignment=16`` and the indices are unsigned) and issues 32 FFMA.  A warp's A load (8 values of
tx, quarter-warp phases of 8 threads) covers 32 consecutive words of one row: conflict-free; its B
load is 4 addresses, each broadcast to 8 threads.

Storing C: with 4 consecutive rows a thread, a warp store straight from the accumulators would
write every 4th pixel.  Warp ``w = tid // 32`` holds columns ``16w .. 16w + 15`` of every row, so
each warp transposes its part through its own slice of ``Cs[WARPS, WARP_COLS, GROUP_ROWS]`` (8 KB),
one row group at a time (``stage_row_group``: 4 STS.128 a thread); lane ``r`` then stores row
``32 * group + r`` of each of the 16 columns -- a warp store is 32 consecutive rows of one column,
one 128-byte line when the rows are contiguous in memory -- and decodes 2 rows, not 8.

Pipeline: the K loop is register double-buffered.  Each thread loads the next K step's 4 + 4
staged values into registers (``a_next``, ``b_next``) right after the barrier that publishes the
current step, multiplies, and only after the second barrier stores them to shared memory
(``commit_stage``): the global loads' latency runs under the 256 FFMAs instead of stalling the
warp at 25% occupancy.  Costs 8 registers of values (the loads past K load zeros).

Staging A: thread ``tid`` gathers row ``tid % BM`` at ``kk = tid // BM + A_ROW_STEP * i``
(consecutive threads take consecutive output pixels: consecutive addresses at stride 1).
Staging B: thread ``tid`` stores ``Bs[tid % BK, tid // BK + B_COL_STEP * j]`` (consecutive
threads take consecutive k, the contiguous axis of the weight / gradient in global memory).  With
rows of 64 floats a warp's 32 stores would hit only 4 banks (8-way conflict); rows padded to
``BN_PAD = 68`` floats (272 bytes, still 16-byte aligned for ``LDS.128``) put store ``(k, n)`` in
bank ``(4k + n) % 32`` -- all 32 distinct.

Estimates (sm_90 SASS, ptxas 13.0, no GPU timing): a K step of the 4 x 4 tile (256 threads) ran
16 FFMA in a 41-instruction rolled k loop (39%), 128 FFMA of 456-472 SASS a thread a K step
(27-28%), 56-64 registers, 4 blocks an SM (50%).  The 8 x 4 tile runs its k loop unrolled, 32 FFMA
+ 3 LDS.128 a k (91%), 256 FFMA of 485-541 SASS a thread a K step (47-53%), 113-127 registers
under the launch bounds ``(THREADS, MIN_BLOCKS)``, 4 blocks (25%): per K step of a block, 1.7-1.9x
fewer warp instructions (e.g. conv2d_fwd: 256 x 456 -> 128 x 485 thread-instructions).
``MIN_BLOCKS = 5`` compiles to 95-96 registers without spills (5 blocks, 31%) but 513-549 SASS a
K step: to be decided by a GPU timing (measured before the pipeline below).
With the register double buffer and the staged store (session 30): 468-498 SASS a K step (51-55%
FFMA), 117-127 registers on sm_90 (113-128 on sm_80), no spills, still 4 blocks (25%); the store
phase 385-821 SASS a thread, was 944-3963 (32 stores; 2-4 divisions, was 8-16).  Session 31
(unsigned ``commit_stage`` indices, conv_dgrad's 32-bit counts and pixel reciprocals,
``fastdiv_add`` in all three K loops): 113-121 registers on sm_90, 109-117 on sm_80; K steps
462 / 482 / 486 SASS on sm_90 (fwd / dgrad / wgrad, 53-55% FFMA; 457 / 478 / 484 on sm_80); the
store phase 392-749 SASS (conv_dgrad's: 2 divisions a thread, was 6 with its A row's).  The
shared memory, 12416 bytes a block, does not limit occupancy (registers do).
"""

from numba import config, cuda, float32, int64, uint32, uint64

BM = 64          # rows of the C tile per block (output pixels, or weight taps for grad_weight)
BN = 64          # cols of the C tile per block (output channels)
BN_PAD = BN + 4  # row length of the Bs tile in shared memory (see above)
BK = 8           # depth of one K step staged in shared memory
VEC = 4          # floats per vector shared-memory load (one LDS.128)
TM = 2 * VEC     # rows per thread: two groups of VEC consecutive rows, BM // 2 apart
TN = VEC         # cols per thread: VEC consecutive columns
DIM_X = BM // TM  # 8 threads along M
DIM_Y = BN // TN  # 16 threads along N
THREADS = DIM_X * DIM_Y  # 128 threads per block
MIN_BLOCKS = 4   # launch bounds: 4 blocks of 128 threads an SM (25%), so at most 128 registers
A_LOADS = (BM * BK) // THREADS  # elements of A each thread stages per K step (4)
B_LOADS = (BN * BK) // THREADS  # elements of B each thread stages per K step (4)
A_ROW_STEP = THREADS // BM      # k offset between a thread's successive A loads (2)
B_COL_STEP = THREADS // BK      # n offset between a thread's successive B loads (16)
WARP = 32
WARPS = THREADS // WARP         # 4 warps a block
WARP_COLS = BN // WARPS         # warp w's accumulators hold C-tile cols 16w .. 16w + 15
GROUP_ROWS = BM // 2            # rows of one row group (the store's unit: one row a lane)
# Shared tiles are 16-byte aligned so that NVVM fuses VEC consecutive loads into one LDS.128;
# the simulator refuses an alignment argument (it has no vector loads to enable).
SMEM_ALIGN = None if config.ENABLE_CUDASIM else 16

if config.ENABLE_CUDASIM:        # the simulator has no libdevice: the same function in Python
    def umulhi(a, b):
        """The high 32 bits of the 64-bit product of two uint32 (``__umulhi``)."""
        return uint32((int(a) * int(b)) >> 32)
else:
    from numba.cuda.libdevice import umulhi  # mul.hi.u32: one IMAD.HI.U32

# Block reductions (conv bias gradient, batch-norm statistics): one block per channel.
RED_THREADS = 256
# Batch norm's 2-D blocks (element-wise passes; reductions over (N, C) rows): LANES threads along
# the contiguous axis (a warp reads 128 contiguous bytes) x ROW_LANES rows walked in parallel.
LANES = 32
ROW_LANES = 8
# Element-wise kernels: grid-stride loops with this many threads per block.
EW_THREADS = 256
EW_MAX_BLOCKS = 4096  # 132 SMs x 2048 threads / 256 = 1056 resident blocks on an H100; about 4x that


# ---------------------------------------------------------------------------------------------
# Device helpers shared by the three convolution kernels (inlined: no call in the generated code).
# They take thread indices as arguments rather than reading ``cuda.*``: the simulator swaps the
# module-level ``cuda`` of a device function's module while a thread runs it.
# ---------------------------------------------------------------------------------------------


@cuda.jit(device=True, inline="always")
def udiv(a, b):
    """``a // b`` for ``0 <= a, b < 2**31`` as one 32-bit unsigned division.

    Numba widens integer arithmetic to int64, and a signed 64-bit ``//`` compiles to a sign fix-up
    plus a 64-bit division (with a run-time fast path to 32 bits): more instructions and more
    registers in the K loop.  Every index decoded by the kernels is non-negative and below 2**31:
    the glue (``kernels/cuda/__init__.py: _check_pixel_count``) refuses larger batches.
    """
    return int64(uint32(a) // uint32(b))


def fastdiv_magic(d: int) -> tuple[int, int]:
    """``(mul, shift)`` with ``a // d == (a * mul) >> shift`` for every ``0 <= a < 2**31``
    (``1 <= d < 2**31``): ``shift = 31 + ceil(log2 d)``, ``mul = ceil(2**shift / d) < 2**32``.
    Granlund & Montgomery (1994), theorem 4.2: ``2**shift <= mul * d <= 2**shift + 2**(shift - 31)``
    makes the quotient exact for 31-bit numerators.  Computed by the host, once per launch."""
    if not 1 <= d < 2 ** 31:
        raise ValueError(f"fastdiv_magic: divisor {d} outside [1, 2**31)")
    shift = 31 + (d - 1).bit_length()
    return -(-(1 << shift) // d), shift


@cuda.jit(device=True, inline="always")
def fastdiv(a, mul, shift):
    """``a // d`` for ``0 <= a < 2**31`` with ``(mul, shift) = fastdiv_magic(d)``: one
    ``mul.wide.u32`` and a shift instead of a division (a 32-bit division is ~20 instructions, the
    signed 64-bit ``//`` Numba emits a run-time choice between that and ``div.s64``)."""
    return int64((uint64(uint32(a)) * uint64(uint32(mul))) >> uint64(shift))


@cuda.jit(device=True, inline="always")
def stage_thin_weights(Ws, w, tid, threads, rows, row_stride, base, group_stride, taps, khw):
    """conv_thin's chunk of weights into shared memory, all threads of the block together:
    ``Ws[r, k] = w[base + r * row_stride + (k // khw) * group_stride + k % khw]`` for ``r < rows``
    and ``k < taps`` (one group = one channel's ``khw`` taps), zero elsewhere -- so the kernels'
    constant-trip ``THIN_C`` loops can read every row.  Consecutive threads take consecutive k
    (within a group, consecutive weights; ``Ws[r, k]`` stores conflict-free), each thread every row
    of its k.  A thread's k steps by ``threads``: its group and tap step by the quotient and
    remainder of ``threads / khw``, so the thread divides twice in all, not once a staged weight
    (a ``MUFU.RCP`` division each, in the SASS of the unrolled loop)."""
    n_rows, width = Ws.shape
    hop_g = udiv(threads, khw)
    hop_t = threads - hop_g * khw
    g = udiv(tid, khw)
    t = tid - g * khw
    k = tid
    while k < width:
        src = base + g * group_stride + t
        for r in range(n_rows):
            v = float32(0.0)
            if r < rows and k < taps:
                v = w[src + r * row_stride]
            Ws[r, k] = v
        k += threads
        g += hop_g
        t += hop_t
        if t >= khw:
            t -= khw
            g += 1


@cuda.jit(device=True, inline="always")
def tile_row(tx, i):
    """The C-tile row held in a thread's accumulator row ``i``: rows ``VEC*tx .. VEC*tx + 3``,
    then the same rows ``BM // 2`` further on (two LDS.128 a k, conflict-free: see above)."""
    return (i // VEC) * (BM // 2) + tx * VEC + i % VEC


@cuda.jit(device=True, inline="always")
def zero_tile(acc):
    """Clear the ``TM x TN`` register tile."""
    for i in range(TM):
        for j in range(TN):
            acc[i, j] = float32(0.0)


@cuda.jit(device=True, inline="always")
def multiply_tile(As, Bs, acc, a_frag, b_frag, tx, ty):
    """One K step of the register tile: ``acc[i, j] += As[k, tile_row(tx, i)] * Bs[k, ty*TN + j]``
    for every k of the staged BK slice -- per k, 3 LDS.128 (8 values of A, 4 of B) feed 32 FFMA
    (2*TM*TN*BK = 512 FLOP per thread per step)."""
    a_lo = uint64(tx * VEC)            # unsigned: no negative-index fix-up, so NVVM sees
    a_hi = uint64(tx * VEC + BM // 2)  # VEC consecutive words and fuses them into one LDS.128
    b_col = uint64(ty * TN)
    kk = uint64(0)        # a while loop on an unsigned counter: ptxas unrolls it (it left Numba's
    while kk < BK:        # signed range loop rolled, 18-21 SASS of counter / index fix-ups a k)
        for v in range(VEC):
            a_frag[v] = As[kk, a_lo + uint64(v)]
            a_frag[VEC + v] = As[kk, a_hi + uint64(v)]
        for j in range(TN):
            b_frag[j] = Bs[kk, b_col + uint64(j)]
        for i in range(TM):
            for j in range(TN):
                acc[i, j] += a_frag[i] * b_frag[j]
        kk += uint64(1)


@cuda.jit(device=True, inline="always")
def commit_stage(As, Bs, a_next, b_next, tid):
    """Phase 1's shared stores: the K step's values this thread loaded into registers (``a_next``,
    ``b_next``, one step ahead) go to ``As[tid // BM + A_ROW_STEP * i, tid % BM]`` and
    ``Bs[tid % BK, tid // BK + B_COL_STEP * j]`` (the staging layouts above)."""
    a_row = uint64(tid // BM)   # unsigned: no negative-index fix-ups, so one address a tile
    a_col = uint64(tid % BM)    # and constant offsets (6 address registers when signed)
    b_row = uint64(tid % BK)
    b_col = uint64(tid // BK)
    for i in range(A_LOADS):
        As[a_row + uint64(i * A_ROW_STEP), a_col] = a_next[i]
    for j in range(B_LOADS):
        Bs[b_row, b_col + uint64(j * B_COL_STEP)] = b_next[j]


@cuda.jit(device=True, inline="always")
def stage_row_group(Cs, acc, tid, group):
    """The store's transpose: ``Cs[warp, c, r] = C[group * GROUP_ROWS + r, WARP_COLS * warp + c]``
    for the thread's accumulators in row group ``group`` (``acc[VEC * group .. + 3, :]``), so that
    afterwards lane ``r`` of the warp can store row ``r`` of each of the warp's 16 columns: a warp
    store covers 32 consecutive rows (pixels) of one column (channel).  Per column ``j``: one
    STS.128 of 4 consecutive rows; a quarter-warp's 8 stores are 32 consecutive words of one
    ``Cs`` row (conflict-free), and so are a warp's 32 reads of ``Cs[warp, c, lane]``."""
    warp = uint64(tid // WARP)
    col = uint64((tid % WARP) // DIM_X * TN)   # unsigned: VEC consecutive words -> one STS.128
    row = uint64((tid % DIM_X) * VEC)
    for j in range(TN):
        for v in range(VEC):
            Cs[warp, col + uint64(j), row + uint64(v)] = acc[group * VEC + v, j]


def fastdiv_add_magic(d: int) -> tuple[int, int]:
    """``(mul, shift)`` with ``a // d == (a + umulhi(a, mul)) >> shift`` for every
    ``0 <= a < 2**31`` (``1 <= d < 2**31``): ``shift = ceil(log2 d)``,
    ``mul = floor(2**(32 + shift) / d) - 2**32 + 1 < 2**32`` -- the "round-up" magic of Granlund &
    Montgomery (1994), section 5, for 32-bit words; ``a + umulhi(a, mul) < 2**32`` for 31-bit
    ``a``, so the 33-bit sum of their general case is not needed.  ``d = 1`` gives ``mul = 1``."""
    if not 1 <= d < 2 ** 31:
        raise ValueError(f"fastdiv_add_magic: divisor {d} outside [1, 2**31)")
    shift = (d - 1).bit_length()
    return (1 << (32 + shift)) // d - (1 << 32) + 1, shift


@cuda.jit(device=True, inline="always")
def fastdiv_add(a, mul, shift):
    """``a // d`` for ``0 <= a < 2**31`` with ``(mul, shift) = fastdiv_add_magic(d)``, as a
    ``uint32``: ``IMAD.HI.U32``, ``IADD3``, ``SHF`` -- all 32-bit, one register of magic.  The
    tiled convolutions' K loops divide with it (session 31; ``fastdiv``'s ``fastdiv_magic``
    multiplier, taken 32-bit as ``umulhi(2a, mul)``, kept two registers and a 64-bit funnel shift:
    8-12 more SASS a K step)."""
    a32 = uint32(a)
    return uint32(uint32(a32 + umulhi(a32, uint32(mul))) >> uint32(shift))


@cuda.jit(device=True, inline="always")
def fastdiv_add_magic_device(d):
    """``fastdiv_add_magic(max(d, 1))`` computed by a thread, for divisors the host does not know
    (conv_dgrad's per-phase sub-kernel sizes): once per thread, outside any loop -- a bit-length
    loop and one 64-bit division."""
    d = uint64(max(d, 1))
    shift = uint64(0)
    while (uint64(1) << shift) < d:
        shift += uint64(1)
    mul = (uint64(1) << (shift + uint64(32))) // d - (uint64(1) << uint64(32)) + uint64(1)
    return uint32(mul), uint32(shift)


@cuda.jit(device=True, inline="always")
def reciprocal32(d):
    """``floor((2**32 - 1) / d)`` as a ``uint32`` (``1 <= d < 2**32``): one 32-bit division,
    after which ``div_by_reciprocal`` divides any number of numerators by ``d`` without one."""
    return uint32(uint32(0xFFFFFFFF) // uint32(d))


@cuda.jit(device=True, inline="always")
def div_by_reciprocal(a, d, inv):
    """``a // d`` for ``0 <= a < 2**32`` with ``inv = reciprocal32(d)``, as a ``uint32``: an
    ``IMAD.HI.U32``, a multiply-subtract and one compare-and-add (a division is ~22 SASS).
    ``2**32 - d <= d * inv <= 2**32 - 1`` puts ``a * inv / 2**32`` in ``(a/d - 1, a/d]``: the
    estimate is the quotient or one below it."""
    a32 = uint32(a)
    d32 = uint32(d)
    q = umulhi(a32, uint32(inv))
    if uint32(a32 - q * d32) >= d32:
        q = uint32(q + uint32(1))
    return q
