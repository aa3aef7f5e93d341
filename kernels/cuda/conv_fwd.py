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
out of the K loop; only the (ci, kh, kw) decode of k remains inside, as 32-bit unsigned
divisions (``tiles.udiv``: Numba would otherwise emit 64-bit signed ones).  The epilogue adds the bias
and writes ``y`` -- for each of the 4 x 4 outputs, 16 consecutive threads write 16 consecutive
pixels of one channel (64-byte coalesced segments).

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
no dynamic shared memory.  Occupancy on an H100 (``python -m benchmarks.ptx_report``, ptxas 13.0
for sm_90): 72 registers a thread, so 3 blocks (24 warps, 37.5%) per SM, limited by registers
(threads would allow 8, shared memory more); capping at 64 registers for a fourth block spills
20 bytes (``launch_bounds=(256, 4)``).
"""

from numba import cuda, float32

from .tiles import (A_LOADS, A_ROW_STEP, B_COL_STEP, B_LOADS, BK, BM, BN, BN_PAD, DIM_X,
                    DIM_Y, THREADS, TM, TN, tile_fma, udiv)

SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
             "int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, "
             "int64, int64)")


@cuda.jit
def conv2d_fwd_kernel(x, w, b, y, n_batch, c_in, h, wd, c_out, oh_n, ow_n,
                      kh_n, kw_n, sh, sw, ph, pw):
    """y (N, C_out, OH, OW) = conv2d(x (N, C_in, H, W), w (C_out, C_in, kH, kW)) + b, all flat."""
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

    # The A row this thread gathers for every K step: decode (n, oh, ow) once.
    a_row = tid % BM
    a_k = tid // BM
    am = m0 + a_row
    a_ok = am < m_total
    an = udiv(am, ohw)
    ar = am - an * ohw
    aoh = udiv(ar, ow_n)
    aow = ar - aoh * ow_n
    ih0 = aoh * sh - ph
    iw0 = aow * sw - pw
    x_base = an * c_in * h * wd
    # The B entries this thread stages: k = k0 + b_k, column n0 + b_col + j * B_COL_STEP.
    b_k = tid % BK
    b_col = tid // BK

    for i in range(TM):
        for j in range(TN):
            acc[i, j] = float32(0.0)

    for k0 in range(0, kdim, BK):
        for i in range(A_LOADS):
            kk = a_k + i * A_ROW_STEP
            k = k0 + kk
            v = float32(0.0)
            if a_ok and k < kdim:
                ci = udiv(k, khw)
                r = k - ci * khw
                kh = udiv(r, kw_n)
                kw = r - kh * kw_n
                ih = ih0 + kh
                iw = iw0 + kw
                if ih >= 0 and ih < h and iw >= 0 and iw < wd:
                    v = x[x_base + (ci * h + ih) * wd + iw]
            As[kk, a_row] = v
        k = k0 + b_k
        for j in range(B_LOADS):
            nn = b_col + j * B_COL_STEP
            co = n0 + nn
            v = float32(0.0)
            if co < c_out and k < kdim:
                v = w[co * kdim + k]
            Bs[b_k, nn] = v
        cuda.syncthreads()
        tile_fma(As, Bs, acc, a_frag, b_frag, tx, ty)
        cuda.syncthreads()

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
