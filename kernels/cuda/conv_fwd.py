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

Each block owns a ``BM x BN = 64 x 64`` tile of C.  It walks K in steps of ``BK = 8``: the 256
threads stage ``As[BK, BM]`` (2 gathers each; consecutive threads take consecutive output pixels,
so for stride 1 the loads of a warp are consecutive addresses) and ``Bs[BK, BN + 4]`` (2 loads
each; consecutive threads take consecutive k, contiguous in ``w``), synchronise, and every thread
accumulates its ``4 x 4`` register tile from shared memory (8 shared loads per 16 FMAs), then
synchronise again before the next step.  The (n, oh, ow) decode of the thread's A row is hoisted
out of the K loop; only the (ci, kh, kw) decode of k remains inside, as two magic-number divisions
(``tiles.fastdiv32``, multipliers for kH*kW and kW computed by the host, passed as parameters),
and the gather's index arithmetic is 32-bit (``uint32``: one unsigned compare tests both sides of
the padding; the offset is widened to 64 bits once).  The epilogue adds the bias
and writes ``y`` -- for each of the 4 x 4 outputs, 16 consecutive threads write 16 consecutive
pixels of one channel (64-byte coalesced segments).

K step, sm_90 SASS (ptxas 13.0; the loop body plus 7 more passes of ``tile_fma``'s 41-instruction
k loop, 128 FFMA in all): 456 instructions, was 729 with ``udiv`` (6 ``MUFU.RCP`` divisions and
64-bit index arithmetic: 442 + 7 x 41).  An incremental (ci, kh, kw) walk instead of the
divisions measured 453 but 74 registers on sm_80 (64 on sm_90): the divisions were kept.  No GPU
timing: the gain is an estimate -- about 1.6x fewer issue slots a K step, and 4 blocks an SM
instead of 3 (registers 72 -> 63 / 56).

Cost
----
FLOPs: ``2 * M * N * K`` (one FMA per term) plus ``M * N`` bias adds -- at batch 64, 0.026 GFLOP
for D 1->64 28->14, 0.822 for D 64->128 14->7, and 3.288 as the input gradient of either G
transposed convolution (conv_transpose2d_grad_input runs this kernel); G's 64->1 layer, one
output channel, runs ``conv_thin`` instead.
Compulsory bytes (fp32): ``4 * (|x| + |w| + |y| + C_out)``.  Actual global traffic, mostly served
by L2: A is re-read once per column tile (``ceil(C_out / 64)`` times), B once per row tile
(``ceil(M / 64)`` times); arithmetic intensity from shared memory is 16 FMAs per 8 loads.

Launch
------
grid ``(ceil(M / 64), ceil(C_out / 64))``, block ``(256,)``, static shared memory
``4 * 8 * (64 + 68) = 4224`` bytes (``Bs`` rows padded to 68 floats: conflict-free stores),
no dynamic shared memory.  Occupancy (``python -m benchmarks.ptx_report``, ptxas 13.0): 63
registers a thread on sm_80, 56 on sm_90, so 4 blocks (32 warps, 50%) per SM, limited by registers
(threads would allow 8, shared memory more); was 72, 3 blocks (37.5%).
"""

from numba import cuda, float32, uint32, uint64

from .tiles import (A_LOADS, A_ROW_STEP, B_COL_STEP, B_LOADS, BK, BM, BN, BN_PAD, DIM_X,
                    DIM_Y, THREADS, TM, TN, fastdiv32, tile_fma, udiv)

SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
             "int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, "
             "int64, int64, int64, int64, int64, int64)")


@cuda.jit
def conv2d_fwd_kernel(x, w, b, y, n_batch, c_in, h, wd, c_out, oh_n, ow_n,
                      kh_n, kw_n, sh, sw, ph, pw, khw_mul, khw_shift, kw_mul, kw_shift):
    """y (N, C_out, OH, OW) = conv2d(x (N, C_in, H, W), w (C_out, C_in, kH, kW)) + b, all flat;
    ``(khw_mul, khw_shift)``, ``(kw_mul, kw_shift)``: ``tiles.fastdiv_magic`` of kH*kW and kW."""
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

    khw = kh_n * kw_n
    kdim = c_in * khw
    ohw = oh_n * ow_n
    m_total = n_batch * ohw

    # The A row this thread gathers for every K step: decode (n, oh, ow) once.  The gather's
    # index arithmetic is 32-bit (uint32: no 64-bit multiplies, and unsigned bound checks catch
    # the padding on both sides in one compare) up to the final 64-bit offset.
    a_row = tid % BM
    a_k = tid // BM
    am = m0 + a_row
    a_ok = am < m_total
    an = udiv(am, ohw)
    ar = am - an * ohw
    aoh = udiv(ar, ow_n)
    aow = ar - aoh * ow_n
    ih0 = aoh * sh - ph           # signed: uint32(ih0 + kh) wraps the top padding past h
    iw0 = aow * sw - pw
    h32 = uint32(h)
    wd32 = uint32(wd)
    hw64 = uint64(uint32(h * wd))  # zero-extended: ci * hw64 is one 32 x 32 -> 64-bit multiply
    x_base = uint64(an) * uint64(c_in) * hw64
    # The B entries this thread stages: k = k0 + b_k, column n0 + b_col + j * B_COL_STEP.
    b_k = tid % BK
    b_col = tid // BK

    for i in range(TM):
        for j in range(TN):
            acc[i, j] = float32(0.0)

    kdim32 = uint32(kdim)       # < 2**31 (the glue's tap-count check)
    k0 = uint32(0)              # a 32-bit K counter: 32-bit compares, one register a k
    while k0 < kdim32:
        for i in range(A_LOADS):
            kk = a_k + i * A_ROW_STEP
            k = uint32(k0 + kk)
            v = float32(0.0)
            if a_ok and k < kdim32:
                ci = fastdiv32(k, khw_mul, khw_shift)
                r = uint32(k - ci * khw)
                kh = fastdiv32(r, kw_mul, kw_shift)
                ih = uint32(ih0 + kh)
                iw = uint32(iw0 + r - kh * kw_n)
                if ih < h32 and iw < wd32:
                    v = x[x_base + ci * hw64 + uint32(ih * wd32 + iw)]
            As[kk, a_row] = v
        k = uint32(k0 + b_k)
        for j in range(B_LOADS):
            nn = b_col + j * B_COL_STEP
            co = n0 + nn
            v = float32(0.0)
            if co < c_out and k < kdim32:
                v = w[uint64(co * kdim + k)]
            Bs[b_k, nn] = v
        cuda.syncthreads()
        tile_fma(As, Bs, acc, a_frag, b_frag, tx, ty)
        cuda.syncthreads()
        k0 = uint32(k0 + BK)

    for i in range(TM):
        m = m0 + tx + i * DIM_X
        if m < m_total:
            n = udiv(m, ohw)
            p = m - n * ohw
            for j in range(TN):
                co = n0 + ty + j * DIM_Y
                if co < c_out:
                    y[(n * c_out + co) * ohw + p] = acc[i, j] + b[co]


KERNELS = [
    # (name, kernel, signature, threads per block, dynamic shared memory bytes)
    ("conv2d_fwd", conv2d_fwd_kernel, SIGNATURE, THREADS, 0),
]
