"""conv2d input gradient (= conv_transpose2d forward) as an implicit GEMM, tiled in shared memory.

Algorithm
---------
``gx[n, ci, ih, iw] = b[ci] + sum_{co, kh, kw} gy[n, co, oh, ow] * w[co, ci, kh, kw]``
over the taps for which ``ih = oh*sh - ph + kh`` and ``iw = ow*sw - pw + kw`` for integer, in-range
``oh, ow``.  As a GEMM ``C[M, N] = A[M, K] @ B[K, N]``:

* ``M = N_batch * H * W``     one row per input pixel ``m = (n, ih, iw)``,
* ``N = C_in``                one column per input channel,
* ``K = C_out * kH * kW``     ``k = (co, kh, kw)``,
* ``A[m, k] = gy[n, co, (ih + ph - kh) / sh, (iw + pw - kw) / sw]`` when both divisions are exact
  and in range, else 0 -- gathered on the fly, never materialised,
* ``B[k, ci] = w[co, ci, kh, kw]``.

Tiling is the forward kernel's (see ``conv_fwd``): 64 x 64 C tile per block, K steps of 8 staged in
``As[8, 64]`` / ``Bs[8, 64 + 4]``, a 4 x 4 register tile per thread, the (n, ih, iw) decode of
the thread's A row hoisted out of the K loop.  ``b`` is an optional bias of length C_in (zeros for a
plain input gradient; the transposed convolution's bias when this kernel runs conv_transpose2d).

For stride s > 1, a fraction ``1 - 1/(sh*sw)`` of A is structurally zero (the taps that miss the
stride lattice): the kernel still multiplies those zeros.  The cure -- splitting the problem into
``sh*sw`` dense sub-convolutions, one per output phase ``(ih mod sh, iw mod sw)`` -- is the next
optimisation; see the report in ``benchmarks/ptx_report.py``'s module notes.

Cost
----
FLOPs executed: ``2 * M * N * K``; useful FLOPs: ``2 * N_batch * OH * OW * C_out * C_in * kH * kW``.
Compulsory bytes (fp32): ``4 * (|gy| + |w| + |gx| + C_in)``.

Launch
------
grid ``(ceil(N_batch*H*W / 64), ceil(C_in / 64))``, block ``(256,)``, static shared memory
``4 * 8 * (64 + 68) = 4224`` bytes (see ``tiles``), no dynamic shared memory.
"""

from numba import cuda, float32

from .tiles import (A_LOADS, A_ROW_STEP, B_COL_STEP, B_LOADS, BK, BM, BN, BN_PAD, DIM_X,
                    DIM_Y, THREADS, TM, TN, tile_fma, udiv)

SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
             "int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, "
             "int64, int64)")



@cuda.jit
def conv2d_dgrad_kernel(gy, w, b, gx, n_batch, c_in, h, wd, c_out, oh_n, ow_n,
                        kh_n, kw_n, sh, sw, ph, pw):
    """gx (N, C_in, H, W) = conv2d_grad_input(gy (N, C_out, OH, OW), w (C_out, C_in, kH, kW)) + b."""
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
    kdim = c_out * khw
    hw = h * wd
    ohw = oh_n * ow_n
    m_total = n_batch * hw

    a_row = tid % BM
    a_k = tid // BM
    am = m0 + a_row
    a_ok = am < m_total
    an = udiv(am, hw)
    ar = am - an * hw
    aih = udiv(ar, wd)
    aiw = ar - aih * wd
    oh_num0 = aih + ph  # oh * sh = ih + ph - kh
    ow_num0 = aiw + pw
    gy_base = an * c_out * ohw
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
                co = udiv(k, khw)
                r = k - co * khw
                kh = udiv(r, kw_n)
                kw = r - kh * kw_n
                ohs = oh_num0 - kh
                ows = ow_num0 - kw
                if ohs >= 0 and ows >= 0:
                    oh = udiv(ohs, sh)
                    ow = udiv(ows, sw)
                    if oh * sh == ohs and ow * sw == ows and oh < oh_n and ow < ow_n:
                        v = gy[gy_base + (co * oh_n + oh) * ow_n + ow]
            As[kk, a_row] = v
        k = k0 + b_k
        w_base = 0
        if k < kdim:
            co = udiv(k, khw)
            r = k - co * khw
            w_base = co * c_in * khw + r
        for j in range(B_LOADS):
            nn = b_col + j * B_COL_STEP
            ci = n0 + nn
            v = float32(0.0)
            if ci < c_in and k < kdim:
                v = w[w_base + ci * khw]
            Bs[b_k, nn] = v
        cuda.syncthreads()
        tile_fma(As, Bs, acc, a_frag, b_frag, tx, ty)
        cuda.syncthreads()

    for i in range(TM):
        m = m0 + tx + i * DIM_X
        if m < m_total:
            n = udiv(m, hw)
            p = m - n * hw
            for j in range(TN):
                ci = n0 + ty + j * DIM_Y
                if ci < c_in:
                    gx[(n * c_in + ci) * hw + p] = acc[i, j] + b[ci]


KERNELS = [
    ("conv2d_dgrad", conv2d_dgrad_kernel, SIGNATURE, THREADS, 0),
]
