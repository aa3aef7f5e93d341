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

Tiling inside a block is the forward kernel's: 64 x 64 tile, K steps of 8 staged in
``As[8, 64]`` / ``Bs[8, 64 + 4]``, a 4 x 4 register tile per thread, the (ci, kh, kw) decode of
the thread's A row hoisted out of the K loop.  Inside it, the (n, oh, ow) decodes of k are
magic-number divisions by OH*OW and OW (``tiles.fastdiv32``, multipliers from the host) and the
index arithmetic is 32-bit (a 32-bit K counter, unsigned padding tests), widened once per load.

K step, sm_90 SASS (ptxas 13.0; loop body plus 7 more passes of ``tile_fma``'s 41-instruction k
loop, 128 FFMA): 472 instructions, was 820 with ``udiv`` (7 ``MUFU.RCP`` divisions, 64-bit index
arithmetic: 533 + 7 x 41).  No GPU timing: the gain (~1.7x fewer issue slots a K step) is an
estimate.

Cost
----
FLOPs: ``2 * J * C_out * K`` (+ ``S * J * C_out`` adds in the reduction).
Compulsory bytes (fp32): ``4 * (|x| + |gy| + |gw|)``, plus ``2 * 4 * S * |gw|`` for the
workspace round trip when ``S > 1``.

Launch
------
``conv2d_wgrad_kernel``: grid ``(ceil(J / 64), ceil(C_out / 64), S)``, block ``(256,)``,
static shared memory ``4 * 8 * (64 + 68) = 4224`` bytes; ptxas 13.0: 56 registers on sm_90
(was 64), 64 on sm_80 (was 72), 4 blocks (50%) per SM on both, register-limited.
``splitk_reduce_kernel``: grid ``min(ceil(|gw| / 256), 4096)``, block ``(256,)``, grid-stride,
no shared memory.
"""

from numba import cuda, float32, uint32, uint64

from .tiles import (A_LOADS, A_ROW_STEP, B_COL_STEP, B_LOADS, BK, BM, BN, BN_PAD, DIM_X,
                    DIM_Y, EW_THREADS, THREADS, TM, TN, fastdiv32, tile_fma, udiv)

SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], "
             "int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, "
             "int64, int64, int64, int64, int64, int64, int64)")
REDUCE_SIGNATURE = "void(float32[::1], float32[::1], int64, int64)"


@cuda.jit
def conv2d_wgrad_kernel(x, gy, ws, n_batch, c_in, h, wd, c_out, oh_n, ow_n,
                        kh_n, kw_n, sh, sw, ph, pw, k_chunk,
                        ohw_mul, ohw_shift, ow_mul, ow_shift):
    """ws (S, C_out, C_in*kH*kW): partial weight gradients over K chunks of length k_chunk;
    ``(ohw_mul, ohw_shift)``, ``(ow_mul, ow_shift)``: ``tiles.fastdiv_magic`` of OH*OW and OW."""
    As = cuda.shared.array((BK, BM), float32)
    Bs = cuda.shared.array((BK, BN_PAD), float32)
    acc = cuda.local.array((TM, TN), float32)
    a_frag = cuda.local.array(TM, float32)
    b_frag = cuda.local.array(TN, float32)

    tid = cuda.threadIdx.x
    tx = tid % DIM_X
    ty = tid // DIM_X
    m0 = cuda.blockIdx.x * BM
    n0 = cuda.blockIdx.y * BN
    z = cuda.blockIdx.z

    khw = kh_n * kw_n
    jdim = c_in * khw
    ohw = oh_n * ow_n
    hw = h * wd
    kdim = n_batch * ohw
    k_begin = z * k_chunk
    k_end = uint32(min(kdim, k_begin + k_chunk))   # < 2**31 (the glue's pixel-count check)

    # The A row (weight tap) this thread gathers: decode (ci, kh, kw) once.  The K loop's index
    # arithmetic is 32-bit (see conv_fwd) up to the final 64-bit offsets.
    a_row = tid % BM
    a_k = tid // BM
    aj = m0 + a_row
    a_ok = aj < jdim
    aci = udiv(aj, khw)
    ar = aj - aci * khw
    akh = udiv(ar, kw_n)
    akw = ar - akh * kw_n
    ih_off = akh - ph
    iw_off = akw - pw
    x_chan = uint64(aci) * uint64(hw)
    x_sample = uint64(c_in) * uint64(hw)     # x's stride between samples
    gy_sample = uint64(c_out) * uint64(ohw)  # gy's
    h32 = uint32(h)
    wd32 = uint32(wd)
    sh32 = uint32(sh)
    sw32 = uint32(sw)
    b_k = tid % BK
    b_col = tid // BK

    for i in range(TM):
        for j in range(TN):
            acc[i, j] = float32(0.0)

    k0 = uint32(k_begin)        # a 32-bit K counter: 32-bit compares, one register a k
    while k0 < k_end:
        for i in range(A_LOADS):
            kk = a_k + i * A_ROW_STEP
            k = uint32(k0 + kk)
            v = float32(0.0)
            if a_ok and k < k_end:
                n = fastdiv32(k, ohw_mul, ohw_shift)
                r = uint32(k - n * ohw)
                oh = fastdiv32(r, ow_mul, ow_shift)
                ih = uint32(oh * sh32 + ih_off)
                iw = uint32((r - oh * ow_n) * sw32 + iw_off)
                if ih < h32 and iw < wd32:
                    v = x[n * x_sample + x_chan + uint32(ih * wd32 + iw)]
            As[kk, a_row] = v
        k = uint32(k0 + b_k)
        gy_base = uint64(0)
        if k < k_end:
            n = fastdiv32(k, ohw_mul, ohw_shift)
            gy_base = n * gy_sample + uint32(k - n * ohw)
        for j in range(B_LOADS):
            nn = b_col + j * B_COL_STEP
            co = n0 + nn
            v = float32(0.0)
            if co < c_out and k < k_end:
                v = gy[gy_base + uint64(co * ohw)]
            Bs[b_k, nn] = v
        cuda.syncthreads()
        tile_fma(As, Bs, acc, a_frag, b_frag, tx, ty)
        cuda.syncthreads()
        k0 = uint32(k0 + BK)

    out_base = z * c_out * jdim
    for i in range(TM):
        jj = m0 + tx + i * DIM_X
        if jj < jdim:
            for j in range(TN):
                co = n0 + ty + j * DIM_Y
                if co < c_out:
                    ws[out_base + co * jdim + jj] = acc[i, j]


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
