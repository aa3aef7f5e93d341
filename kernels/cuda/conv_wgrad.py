"""conv2d weight gradient as a split-K implicit GEMM, tiled in shared memory.

Algorithm
---------
``gw[co, ci, kh, kw] = sum_{n, oh, ow} gy[n, co, oh, ow] * x[n, ci, oh*sh - ph + kh, ow*sw - pw + kw]``
computed transposed, as ``C[J, C_out] = A[J, K] @ B[K, C_out]`` so that the 64-row tile runs
along the contiguous axis of ``gw``:

* ``J = C_in * kH * kW``      one row per weight tap ``j = (ci, kh, kw)`` (contiguous in gw),
* ``N = C_out``               one column per output channel,
* ``K = N_batch * OH * OW``   the reduction runs over every output pixel ``k = (n, oh, ow)``,
* ``A[j, k] = x[n, ci, oh*sh - ph + kh, ow*sw - pw + kw]`` (zero in the padding), gathered,
* ``B[k, co] = gy[n, co, oh, ow]`` (consecutive k are consecutive pixels: a warp loads 8
  consecutive pixels from each of 4 channels -- four 32-byte segments, not one 128-byte line).

K is long (3,136 to 12,544 at the DCGAN's layers, batch 64) while J x N is small (1 to 128 64 x 64
tiles: 1 at D 1->64, 32 at D 64->128 and G 128->64, 128 at G 256->128), so the kernel splits K
across ``grid.z``: block z reduces the K range ``[z * k_chunk, min(K, (z + 1) * k_chunk))``
(``k_chunk`` a multiple of 8; the glue sizes S, see ``_wgrad_splits``) and writes its partial
tile to ``ws[z, co, j]``.  ``splitk_reduce_kernel`` then sums the ``S`` partial tiles in a fixed
order (deterministic, no atomics).  With ``S = 1`` the kernel writes ``gw`` directly.

Tiling and phases inside a block are the forward kernel's (see ``conv_fwd``): 64 x 64 tile,
128 threads, K steps of 8 loaded one step ahead into registers (``load_input_taps``,
``load_grad_output``) and staged in ``As[8, 64]`` and ``Bs[8, 64 + 4]`` (``tiles.commit_stage``),
an 8 x 4 register tile per thread (``tiles.multiply_tile``), then ``store_partial`` through the
per-warp transpose (a warp store: 32 consecutive taps of one channel).  The (ci, kh, kw) decode
of the thread's A row is hoisted out of the K loop.  Inside it, the (n, oh, ow) decodes of k are
magic-number divisions by OH*OW and OW (``tiles.fastdiv_add``, multipliers from the host) and the
index arithmetic is 32-bit (a 32-bit K counter, unsigned padding tests), widened once per load.

K step, sm_90 SASS (ptxas 13.0; estimates, no GPU timing): 486 instructions a thread, 256 FFMA
(53%); sm_80: 484 (53%).  Session 31: 498 / 496 before the unsigned ``commit_stage``, 497 / 496
after it, 486 / 484 with ``tiles.fastdiv_add`` (was ``fastdiv32``).  Was 504 / 497 before the
double buffer (the B load's channel index is 32-bit now), and with a 4 x 4 tile and 256
threads: 472, 128 FFMA (27%).  A block's K step: 128 x 486 thread-instructions instead of
256 x 472, ~1.9x fewer issue slots.  Store phase: 392 instructions a thread (sm_90; 377 without
its padding NOPs, as with ``fastdiv32``), was 944.

Cost
----
FLOPs: ``2 * J * C_out * K`` (+ ``S * J * C_out`` adds in the reduction).
Compulsory bytes (fp32): ``4 * (|x| + |gy| + |gw|)``, plus ``2 * 4 * S * |gw|`` for the
workspace round trip when ``S > 1``.

Launch
------
``conv2d_wgrad_kernel``: grid ``(ceil(J / 64), ceil(C_out / 64), S)``, block ``(128,)``, launch
bounds ``(128, 4)``, static shared memory 12416 bytes (``As``, ``Bs``, ``Cs``: see ``tiles``);
ptxas 13.0: 119 registers on sm_90, 117 on sm_80 (the same with ``fastdiv32``; 123 / 125 before
session 31's unsigned ``commit_stage``, 115 / 104 before the double buffer), no
spills, 4 blocks (25%) per SM on both, register-limited (was 56-64 registers with 256 threads,
4 blocks, 50%).
``splitk_reduce_kernel``: grid ``min(ceil(|gw| / 256), 4096)``, block ``(256,)``, grid-stride,
no shared memory.
"""

from numba import cuda, float32, uint32, uint64

from ._launch import bounded_jit
from .tiles import (A_LOADS, A_ROW_STEP, B_COL_STEP, B_LOADS, BK, BM, BN, BN_PAD, DIM_X,
                    EW_THREADS, GROUP_ROWS, MIN_BLOCKS, SMEM_ALIGN, THREADS, TM, TN, WARP,
                    WARP_COLS, WARPS, commit_stage, fastdiv_add, multiply_tile, stage_row_group,
                    udiv, zero_tile)

SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], "
             "int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, "
             "int64, int64, int64, int64, int64, int64, int64)")
REDUCE_SIGNATURE = "void(float32[::1], float32[::1], int64, int64)"


@cuda.jit(device=True, inline="always")
def load_input_taps(a_next, x, tid, k0, k_end, row_ok, x_chan, ih_off, iw_off, c_in, h, wd,
                    sh, sw, ohw, ow_n, ohw_mul, ohw_shift, ow_mul, ow_shift):
    """``a_next[i] = x[n, ci, oh*sh + ih_off, ow*sw + iw_off]`` for pixel ``k0 + kk = (n, oh,
    ow)`` (zero in the padding and past the split's end): this thread's tap row ``tid % BM`` at
    ``kk = tid // BM + A_ROW_STEP*i``.  Magic-number divisions by OH*OW and OW; 32-bit indices."""
    h32 = uint32(h)
    wd32 = uint32(wd)
    x_sample = uint64(c_in) * uint64(h * wd)     # x's stride between samples
    for i in range(A_LOADS):
        k = uint32(k0 + tid // BM + i * A_ROW_STEP)
        v = float32(0.0)
        if row_ok and k < k_end:
            n = fastdiv_add(k, ohw_mul, ohw_shift)
            r = uint32(k - n * ohw)
            oh = fastdiv_add(r, ow_mul, ow_shift)
            ih = uint32(oh * uint32(sh) + ih_off)
            iw = uint32((r - oh * ow_n) * uint32(sw) + iw_off)
            if ih < h32 and iw < wd32:
                v = x[n * x_sample + x_chan + uint32(ih * wd32 + iw)]
        a_next[i] = v


@cuda.jit(device=True, inline="always")
def load_grad_output(b_next, gy, tid, k0, k_end, co0, c_out, ohw, ohw_mul, ohw_shift):
    """``b_next[j] = gy[n, co0 + B_COL_STEP * j, p]`` for pixel ``k0 + tid % BK = (n, p)``, zero
    past C_out or the split's end: one decode of this thread's k; 32-bit channel indices (these
    values stay live through the multiply), widened by one 32 x 32 -> 64-bit multiply."""
    k = uint32(k0 + tid % BK)
    gy_base = uint64(0)
    if k < k_end:
        n = fastdiv_add(k, ohw_mul, ohw_shift)
        gy_base = n * uint64(c_out) * uint64(ohw) + uint32(k - n * ohw)
    for j in range(B_LOADS):
        co = uint32(co0 + j * B_COL_STEP)
        v = float32(0.0)
        if co < uint32(c_out) and k < k_end:
            v = gy[gy_base + uint64(co) * uint64(uint32(ohw))]
        b_next[j] = v


@cuda.jit(device=True, inline="always")
def store_partial(ws, acc, Cs, tid, m0, n0, jdim, c_out, z):
    """``ws[z, co, j] = acc`` for the block's taps ``j`` and channels ``co`` inside ``gw``, one row
    group at a time through the warp's ``Cs`` (as ``conv_fwd.store_output``): a warp store is 32
    consecutive taps of one channel."""
    warp = uint64(tid // WARP)   # unsigned indices: no negative-index fix-ups in the stores
    lane = uint64(tid % WARP)
    co0 = n0 + (tid // WARP) * WARP_COLS
    for group in range(2):
        cuda.syncthreads()       # the warp's reads of the previous group are done
        stage_row_group(Cs, acc, tid, group)
        cuda.syncthreads()
        jj = m0 + group * GROUP_ROWS + lane
        if jj < jdim:
            out = uint64((z * c_out + co0) * jdim + jj)
            for c in range(WARP_COLS):
                if co0 + c < c_out:
                    ws[out] = Cs[warp, c, lane]
                out += uint64(jdim)


@bounded_jit(THREADS, MIN_BLOCKS)
def conv2d_wgrad_kernel(x, gy, ws, n_batch, c_in, h, wd, c_out, oh_n, ow_n,
                        kh_n, kw_n, sh, sw, ph, pw, k_chunk,
                        ohw_mul, ohw_shift, ow_mul, ow_shift):
    """ws (S, C_out, C_in*kH*kW): partial weight gradients over K chunks of length k_chunk;
    ``(ohw_mul, ohw_shift)``, ``(ow_mul, ow_shift)``: ``tiles.fastdiv_add_magic`` of OH*OW
    and OW."""
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
    z = cuda.blockIdx.z
    khw = kh_n * kw_n
    jdim = c_in * khw
    ohw = oh_n * ow_n
    k_begin = z * k_chunk
    k_end = uint32(min(n_batch * ohw, k_begin + k_chunk))  # < 2**31 (the glue's pixel check)

    aj = m0 + tid % BM           # the A row (weight tap) this thread stages, decoded once
    aci = udiv(aj, khw)
    akh = udiv(aj - aci * khw, kw_n)
    x_chan = uint64(aci) * uint64(h * wd)
    ih_off = akh - ph
    iw_off = aj - aci * khw - akh * kw_n - pw
    co0 = n0 + tid // BK         # the first B column (output channel) this thread loads
    zero_tile(acc)
    k0 = uint32(k_begin)         # a 32-bit K counter: 32-bit compares, one register a k
    load_input_taps(a_next, x, tid, k0, k_end, aj < jdim, x_chan, ih_off, iw_off, c_in, h, wd,
                    sh, sw, ohw, ow_n, ohw_mul, ohw_shift, ow_mul, ow_shift)
    load_grad_output(b_next, gy, tid, k0, k_end, co0, c_out, ohw, ohw_mul, ohw_shift)
    while k0 < k_end:
        commit_stage(As, Bs, a_next, b_next, tid)
        cuda.syncthreads()
        k0 = uint32(k0 + BK)     # prefetch the next K step: its loads fly during the multiply
        load_input_taps(a_next, x, tid, k0, k_end, aj < jdim, x_chan, ih_off, iw_off, c_in, h,
                        wd, sh, sw, ohw, ow_n, ohw_mul, ohw_shift, ow_mul, ow_shift)
        load_grad_output(b_next, gy, tid, k0, k_end, co0, c_out, ohw, ohw_mul, ohw_shift)
        multiply_tile(As, Bs, acc, a_frag, b_frag, tid % DIM_X, tid // DIM_X)
        cuda.syncthreads()
    store_partial(ws, acc, Cs, tid, m0, n0, jdim, c_out, z)


@cuda.jit
def splitk_reduce_kernel(ws, out, splits, size):
    """out[i] = sum_z ws[z * size + i], a grid-stride loop (coalesced, fixed summation order)."""
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for i in range(start, size, step):
        acc = float32(0.0)
        for z in range(splits):
            acc += ws[z * size + i]
        out[i] = acc


KERNELS = [
    ("conv2d_wgrad", conv2d_wgrad_kernel, SIGNATURE, THREADS, 0),
    ("splitk_reduce", splitk_reduce_kernel, REDUCE_SIGNATURE, EW_THREADS, 0),
]
