"""Compile-time tile sizes shared by the implicit-GEMM convolution kernels.

Every tiled convolution kernel in this package (all but ``conv_thin``'s direct kernels for outputs
of <= 4 channels) is one GEMM ``C[M, N] = sum_k A[M, k] * B[k, N]`` whose
operands are never materialised: each block gathers a ``BK x BM`` slice of A and a ``BK x BN``
slice of B straight from the NCHW tensors into shared memory, then every thread multiplies a
``TM x TN`` register tile out of shared memory.

Shared-memory shapes must be compile-time constants for ``numba.cuda.compile_ptx`` (the simulator
would accept run-time shapes, real compilation does not), so they live here as module globals.

Layout of the ``THREADS = (BM / TM) * (BN / TN) = 256`` threads of a block::

    tx = tid % 16  ->  rows  tx, tx + 16, tx + 32, tx + 48   of the 64-row tile (M: output pixels)
    ty = tid // 16 ->  cols  ty, ty + 16, ty + 32, ty + 48   of the 64-col tile (N: channels)

Rows are strided by 16 rather than contiguous so that, when a warp (two values of ty, sixteen of
tx) reads ``As[k, tx + 16 i]`` it reads 16 consecutive words (conflict-free, broadcast to both
halves) and, when it stores the result, 16 consecutive output pixels of one channel (coalesced).

Staging B: thread ``tid`` stores ``Bs[tid % BK, tid // BK + 32 j]`` (consecutive threads take
consecutive k, the contiguous axis of the weight / gradient in global memory).  With rows of 64
floats a warp's 32 stores would hit only 4 banks (8-way conflict); rows padded to
``BN_PAD = 68`` floats put store ``(k, n)`` in bank ``(4k + n) % 32`` -- all 32 distinct.
"""

BM = 64          # rows of the C tile per block (output pixels, or weight taps for grad_weight)
BN = 64          # cols of the C tile per block (output channels)
BN_PAD = BN + 4  # row length of the Bs tile in shared memory (see above)
BK = 8           # depth of one K step staged in shared memory
TM = 4           # rows per thread
TN = 4           # cols per thread
DIM_X = BM // TM  # 16 threads along M
DIM_Y = BN // TN  # 16 threads along N
THREADS = DIM_X * DIM_Y  # 256 threads per block
A_LOADS = (BM * BK) // THREADS  # elements of A each thread stages per K step (2)
B_LOADS = (BN * BK) // THREADS  # elements of B each thread stages per K step (2)
A_ROW_STEP = THREADS // BM      # k offset between a thread's successive A loads (4)
B_COL_STEP = THREADS // BK      # n offset between a thread's successive B loads (32)

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
# They must not read ``cuda.*`` at run time: the simulator swaps the module-level ``cuda`` of a
# device function's module while a thread runs it, which would race with kernels reading
# ``cuda.threadIdx`` through the same module (kernels live in their own modules, not here).
# ---------------------------------------------------------------------------------------------
from numba import cuda, float32, int64, uint32, uint64  # noqa: E402


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
def tile_fma(As, Bs, acc, a_frag, b_frag, tx, ty):
    """One K step of the register tile: acc[i, j] += As[k, tx + i*DIM_X] * Bs[k, ty + j*DIM_Y]
    for every k of the staged BK slice (2*TM*TN*BK = 256 FLOP per thread per step)."""
    for kk in range(BK):
        for i in range(TM):
            a_frag[i] = As[kk, tx + i * DIM_X]
        for j in range(TN):
            b_frag[j] = Bs[kk, ty + j * DIM_Y]
        for i in range(TM):
            for j in range(TN):
                acc[i, j] += a_frag[i] * b_frag[j]


@cuda.jit(device=True, inline="always")
def fastdiv32(a, mul, shift):
    """``fastdiv`` as 32-bit arithmetic: ``a // d`` for ``0 <= a < 2**31`` with
    ``(mul, shift) = fastdiv_magic(d)``, as a ``uint32``.  ``(a * mul) >> shift`` equals
    ``umulhi(2a, mul) >> (shift - 31)`` (``2a < 2**32``, ``shift >= 31``): one ``IMAD.HI.U32``
    and a 32-bit shift, where ``fastdiv``'s 64-bit shift by a run-time amount takes two funnel
    shifts and leaves a 64-bit quotient (its uses then multiply in 64 bits)."""
    hi = uint32((uint64(uint32(a) << uint32(1)) * uint64(uint32(mul))) >> uint64(32))
    return uint32(hi >> uint32(shift - 31))


@cuda.jit(device=True, inline="always")
def fastdiv_magic_device(d):
    """``fastdiv_magic(max(d, 1))`` computed by a thread, for divisors the host does not know
    (conv_dgrad's per-phase sub-kernel sizes): once per thread, outside any loop -- a bit-length
    loop and one 64-bit division, paid back within a K step by the divisions it replaces."""
    d = uint64(max(d, 1))
    bits = uint64(0)
    while (uint64(1) << bits) < d:
        bits += uint64(1)
    shift = bits + uint64(31)
    return ((uint64(1) << shift) + d - uint64(1)) // d, shift
