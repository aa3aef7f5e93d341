"""conv2d forward as an implicit GEMM, tiled in shared memory.

Algorithm
---------
``y[n, co, oh, ow] = b[co] + sum_{ci, kh, kw} x[n, ci, oh*sh - ph + kh, ow*sw - pw + kw] * w[co, ci, kh, kw]``
is the matrix product ``C[M, N] = A[M, K] @ B[K, N]`` with

* ``M = N_batch * OH * OW``   one row per output pixel ``m = (n, oh, ow)``,
* ``N = C_out``               one column per output channel,
* ``K = C_in * kH * kW``      one term per weight tap ``k = (ci, kh, kw)``,
* ``A[m, k]`` = the input pixel under tap k of output pixel m (zero in the padding) -- the
  im2col matrix, never materialised: each block gathers its tile straight from ``x``,
* ``B[k, co] = w[co, k]`` (the weight is already ``(C_out, K)`` in memory).

Each block owns a ``BM x BN = 64 x 64`` tile of C and walks K in steps of ``BK = 8``, in three
named phases (device functions below):

1. stage -- the 128 threads store the K step's values, loaded one step earlier into registers,
   to ``As[BK, BM]`` and ``Bs[BK, BN + 4]`` (``tiles.commit_stage``), then synchronise and
   load the next step's (``load_input``: 4 taps each of A; consecutive threads take consecutive
   output pixels, so for stride 1 a warp's loads are consecutive addresses; ``load_weight``: 4
   each of B; consecutive threads take consecutive k, contiguous in ``w``) -- a register double
   buffer: those loads are in flight during phase 2;
2. multiply -- every thread accumulates its ``8 x 4`` register tile (``tiles.multiply_tile``: per
   k, three 16-byte shared loads feed 32 FMAs), then synchronise again;
3. store (after the K loop) -- ``store_output`` adds the bias and writes ``y`` through a per-warp
   shared transpose (``tiles.stage_row_group``): a warp store is 32 consecutive pixels of one
   channel, and a thread decodes 2 pixels.

The (n, oh, ow) decode of the thread's A row is hoisted out of the K loop (``input_window``); only
the (ci, kh, kw) decode of k remains inside, as two magic-number divisions (``tiles.fastdiv_add``:
``IMAD.HI.U32``, an add and a 32-bit shift; multipliers for kH*kW and kW computed by the host,
passed as parameters), and the gather's index arithmetic is 32-bit (``uint32``: one unsigned
compare tests both sides of the padding; the offset is widened to 64 bits once).

K step, sm_90 SASS (ptxas 13.0; estimates, no GPU timing): 462 instructions a thread, 256 of them
FFMA (55%), the k loop unrolled (32 FFMA + 3 LDS.128 a k), the 8 global loads issued before the
first FFMA; sm_80: 457 (56%).  Session 31: 468 -> 470 on sm_90 with the unsigned
``commit_stage``, then 462 with ``tiles.fastdiv_add`` (was ``fastdiv32``: two registers of
33-bit multiplier and a funnel shift a division); sm_80 465 -> 457.  Was 485 / 478 before the
double buffer (the B loads' 32-bit channel index pays for it), and with a 4 x 4 tile and 256
threads: 456, 128 FFMA (28%).  A block's K step: 128 x 462 thread-instructions instead of
256 x 456, ~2x fewer issue slots for the same 32768 FMAs.  Store phase: 556 instructions a thread
(32 stores; sm_90), was 2644 (32 stores of every 4th pixel, 8 divisions).

Cost
----
FLOPs: ``2 * M * N * K`` (one FMA per term) plus ``M * N`` bias adds -- at batch 64, 0.026 GFLOP
for D 1->64 28->14, 0.822 for D 64->128 14->7, and 3.288 as the input gradient of either G
transposed convolution (conv_transpose2d_grad_input runs this kernel); G's 64->1 layer, one
output channel, runs ``conv_thin`` instead.
Compulsory bytes (fp32): ``4 * (|x| + |w| + |y| + C_out)``.  Actual global traffic, mostly served
by L2: A is re-read once per column tile (``ceil(C_out / 64)`` times), B once per row tile
(``ceil(M / 64)`` times); from shared memory a thread loads 12 floats (3 LDS.128) per 32 FMAs.

Launch
------
grid ``(ceil(M / 64), ceil(C_out / 64))``, block ``(128,)``, launch bounds ``(128, 4)``
(``tiles.MIN_BLOCKS``: at most 128 registers), static shared memory
``4 * (8 * (64 + 68) + 4 * 16 * 32) = 12416`` bytes (``Bs`` rows padded to 68 floats:
conflict-free stores; ``Cs``, the store's transpose, 8 KB; all 16-byte aligned), no dynamic
shared memory.  Occupancy (``python -m benchmarks.ptx_report``, ptxas 13.0): 109 registers a
thread on sm_80, 113 on sm_90 (107 / 113 with ``fastdiv32``, 113 / 117 before session 31's
unsigned ``commit_stage``, 104 / 113 before the double buffer), no spills, so 4 blocks (16
warps, 25%) per SM, limited by registers; was 56-63 registers with 256 threads, 4 blocks (50%).
"""

from numba import cuda, float32, uint32, uint64

from ._launch import bounded_jit
from .tiles import (A_LOADS, A_ROW_STEP, B_COL_STEP, B_LOADS, BK, BM, BN, BN_PAD, DIM_X,
                    GROUP_ROWS, MIN_BLOCKS, SMEM_ALIGN, THREADS, TM, TN, WARP, WARP_COLS, WARPS,
                    commit_stage, fastdiv_add, multiply_tile, stage_row_group, udiv, zero_tile)

SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
             "int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, "
             "int64, int64, int64, int64, int64, int64)")


@cuda.jit(device=True, inline="always")
def input_window(m, ohw, ow_n, c_in, hw, sh, sw, ph, pw):
    """Where output pixel ``m = (n, oh, ow)`` reads ``x``: the offset of its sample and the
    top-left input pixel ``(ih0, iw0)`` of its window (negative in the padding)."""
    n = udiv(m, ohw)
    r = m - n * ohw
    oh = udiv(r, ow_n)
    return uint64(n) * uint64(c_in) * uint64(uint32(hw)), oh * sh - ph, (r - oh * ow_n) * sw - pw


@cuda.jit(device=True, inline="always")
def load_input(a_next, x, tid, k0, kdim, row_ok, x_base, ih0, iw0, h, wd, khw, kw_n,
               khw_mul, khw_shift, kw_mul, kw_shift):
    """``a_next[i] = x[n, ci, ih0 + kh, iw0 + kw]`` for tap ``k0 + kk = (ci, kh, kw)``, zero in
    the padding and past K: this thread's A row ``tid % BM`` at ``kk = tid // BM + A_ROW_STEP * i``.
    The tap decode is two magic-number divisions; indices are 32-bit (``uint32`` wraps the top /
    left padding past ``h`` / ``wd``: one compare tests both sides), widened once."""
    h32 = uint32(h)
    wd32 = uint32(wd)
    hw64 = uint64(uint32(h * wd))  # zero-extended: ci * hw64 is one 32 x 32 -> 64-bit multiply
    for i in range(A_LOADS):
        k = uint32(k0 + tid // BM + i * A_ROW_STEP)
        v = float32(0.0)
        if row_ok and k < kdim:
            ci = fastdiv_add(k, khw_mul, khw_shift)
            r = uint32(k - ci * khw)
            kh = fastdiv_add(r, kw_mul, kw_shift)
            ih = uint32(ih0 + kh)
            iw = uint32(iw0 + r - kh * kw_n)
            if ih < h32 and iw < wd32:
                v = x[x_base + ci * hw64 + uint32(ih * wd32 + iw)]
        a_next[i] = v


@cuda.jit(device=True, inline="always")
def load_weight(b_next, w, tid, k0, kdim, co0, c_out):
    """``b_next[j] = w[co0 + B_COL_STEP * j, k0 + tid % BK]`` (zero past C_out or K): consecutive
    threads take consecutive k, contiguous in ``w``; 32-bit channel indices (these values stay
    live through the multiply), widened by one 32 x 32 -> 64-bit multiply."""
    k = uint32(k0 + tid % BK)
    for j in range(B_LOADS):
        co = uint32(co0 + j * B_COL_STEP)
        v = float32(0.0)
        if co < uint32(c_out) and k < kdim:
            v = w[uint64(co) * uint64(kdim) + k]
        b_next[j] = v


@cuda.jit(device=True, inline="always")
def store_output(y, b, acc, Cs, tid, m0, n0, m_total, ohw, c_out):
    """``y[n, co, p] = acc + b[co]`` for the block's outputs inside the image, one row group at a
    time through the warp's ``Cs`` (``tiles.stage_row_group``): lane ``r`` then writes pixel
    ``m0 + 32 * group + r`` of each of its warp's 16 channels -- a warp store is 32 consecutive
    pixels of one channel, and a thread decodes 2 pixels, not 8."""
    warp = uint64(tid // WARP)   # unsigned indices: no negative-index fix-ups in the stores
    lane = uint64(tid % WARP)
    co0 = n0 + (tid // WARP) * WARP_COLS
    for group in range(2):
        cuda.syncthreads()       # the warp's reads of the previous group are done
        stage_row_group(Cs, acc, tid, group)
        cuda.syncthreads()
        m = m0 + group * GROUP_ROWS + lane
        if m < m_total:
            n = udiv(m, ohw)
            out = uint64((n * c_out + co0) * ohw + m - n * ohw)
            for c in range(WARP_COLS):
                if co0 + c < c_out:
                    y[out] = Cs[warp, c, lane] + b[uint64(co0 + c)]
                out += uint64(ohw)


@bounded_jit(THREADS, MIN_BLOCKS)
def conv2d_fwd_kernel(x, w, b, y, n_batch, c_in, h, wd, c_out, oh_n, ow_n,
                      kh_n, kw_n, sh, sw, ph, pw, khw_mul, khw_shift, kw_mul, kw_shift):
    """y (N, C_out, OH, OW) = conv2d(x (N, C_in, H, W), w (C_out, C_in, kH, kW)) + b, all flat;
    ``(khw_mul, khw_shift)``, ``(kw_mul, kw_shift)``: ``tiles.fastdiv_add_magic`` of kH*kW
    and kW."""
    As = cuda.shared.array((BK, BM), float32, alignment=SMEM_ALIGN)
    Bs = cuda.shared.array((BK, BN_PAD), float32, alignment=SMEM_ALIGN)
    Cs = cuda.shared.array((WARPS, WARP_COLS, GROUP_ROWS), float32, alignment=SMEM_ALIGN)
    acc = cuda.local.array((TM, TN), float32)
    a_frag = cuda.local.array(TM, float32)
    b_frag = cuda.local.array(TN, float32)
    a_next = cuda.local.array(A_LOADS, float32)  # the next K step's staged values, in registers
    b_next = cuda.local.array(B_LOADS, float32)
    tid = cuda.threadIdx.x
    m0 = cuda.blockIdx.x * BM
    n0 = cuda.blockIdx.y * BN
    khw = kh_n * kw_n
    kdim = uint32(c_in * khw)    # < 2**31 (the glue's tap-count check)
    ohw = oh_n * ow_n
    m_total = n_batch * ohw

    am = m0 + tid % BM           # the A row this thread stages, decoded once
    x_base, ih0, iw0 = input_window(am, ohw, ow_n, c_in, h * wd, sh, sw, ph, pw)
    co0 = n0 + tid // BK         # the first B column (output channel) this thread loads
    zero_tile(acc)
    k0 = uint32(0)               # a 32-bit K counter: 32-bit compares, one register a k
    load_input(a_next, x, tid, k0, kdim, am < m_total, x_base, ih0, iw0, h, wd, khw, kw_n,
               khw_mul, khw_shift, kw_mul, kw_shift)
    load_weight(b_next, w, tid, k0, kdim, co0, c_out)
    while k0 < kdim:
        commit_stage(As, Bs, a_next, b_next, tid)
        cuda.syncthreads()
        k0 = uint32(k0 + BK)     # prefetch the next K step: its loads fly during the multiply
        load_input(a_next, x, tid, k0, kdim, am < m_total, x_base, ih0, iw0, h, wd, khw, kw_n,
                   khw_mul, khw_shift, kw_mul, kw_shift)
        load_weight(b_next, w, tid, k0, kdim, co0, c_out)
        multiply_tile(As, Bs, acc, a_frag, b_frag, tid % DIM_X, tid // DIM_X)
        cuda.syncthreads()
    store_output(y, b, acc, Cs, tid, m0, n0, m_total, ohw, c_out)


KERNELS = [
    # (name, kernel, signature, threads per block, dynamic shared memory bytes)
    ("conv2d_fwd", conv2d_fwd_kernel, SIGNATURE, THREADS, 0),
]
