"""conv2d input gradient (= conv_transpose2d forward) as an implicit GEMM, one per stride phase.

Algorithm
---------
``gx[n, ci, ih, iw] = b[ci] + sum_{co, kh, kw} gy[n, co, oh, ow] * w[co, ci, kh, kw]``
over the taps for which ``ih = oh*sh - ph + kh`` and ``iw = ow*sw - pw + kw`` for integer, in-range
``oh, ow``.  With stride ``s > 1`` most taps miss the stride lattice: input row ``ih`` only
receives kernel rows ``kh = (ih + ph) mod sh, + sh, + 2 sh, ...``.  So the rows and columns are
split by phase ``(rh, rw) = (ih mod sh, iw mod sw)`` -- ``blockIdx.z`` -- and each phase is a dense
stride-1 correlation with a ``Th x Tw`` sub-kernel, ``Th = ceil((kH - k0h)/sh)`` (so ``kH/sh``
when ``sh`` divides ``kH``; 2 x 2 for the DCGAN's k4 s2 layers): tap ``(th, tw)`` is kernel tap
``kh = k0h + th*sh`` (``k0h = (rh + ph) mod sh``) and reads ``oh = qh + dh - th`` for the phase
pixel ``ih = rh + qh*sh``, ``dh = (rh + ph - k0h) / sh`` (exact).  Per phase, as a GEMM
``C[M, N] = A[M, K] @ B[K, N]``:

* ``M = N_batch * Qh * Qw``   one row per phase pixel ``m = (n, qh, qw)``, ``Qh = ceil((H - rh)/sh)``,
* ``N = C_in``                one column per input channel,
* ``K = C_out * Th * Tw``     ``k = (co, th, tw)``,
* ``A[m, k] = gy[n, co, qh + dh - th, qw + dw - tw]`` when in range, else 0 -- gathered on the fly,
  never materialised,
* ``B[k, ci] = w[co, ci, k0h + th*sh, k0w + tw*sw]``.

Why the split: one GEMM over all pixels with ``K = C_out*kH*kW`` would multiply the
``1 - 1/(sh*sw)`` of A that misses the lattice (3/4 at stride 2) by zero.  A phase that no tap
reaches (kernel smaller than the stride) has ``K = 0`` and gets the bias.

Tiling is the forward kernel's (see ``conv_fwd``): 64 x 64 C tile per block, K steps of 8 staged in
``As[8, 64]`` / ``Bs[8, 64 + 4]``, a 4 x 4 register tile per thread, the (n, qh, qw) decode of
the thread's A row hoisted out of the K loop.  ``b`` is an optional bias of length C_in (zeros for a
plain input gradient; the transposed convolution's bias when this kernel runs conv_transpose2d).
Stores: consecutive threads write consecutive ``qw`` -- every ``sw``-th word of an output row.

Cost
----
FLOPs executed: the sum over phases of ``2 * N_batch * Qh * Qw * C_in * C_out * Th * Tw`` --
``2 * N_batch * H * W * C_in * C_out * kH * kW / (sh * sw)`` when the strides divide the sizes and
the kernel, which is the forward convolution's ``2 * N_batch * OH * OW * C_out * C_in * kH * kW``
(0.822 GFLOP at D 64->128, 3.288 at either G transposed convolution, batch 64).  Of these, the
taps whose ``oh, ow`` fall in the padding multiply zeros (14% at D 64->128).  Compulsory bytes
(fp32): ``4 * (|gy| + |w| + |gx| + C_in)``.

Launch
------
grid ``(ceil(N_batch * ceil(H/sh) * ceil(W/sw) / 64), ceil(C_in / 64), sh * sw)`` (x sized for the
largest phase; blocks past a smaller phase's rows return at once), block ``(256,)``, static shared
memory ``4 * 8 * (64 + 68) = 4224`` bytes (see ``tiles``), no dynamic shared memory.
Occupancy on an H100 (ptxas 13.0, sm_90): 72 registers, 3 blocks (37.5%) per SM, register-limited
(as ``conv_fwd``).
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
    """gx (N, C_in, H, W) = conv2d_grad_input(gy (N, C_out, OH, OW), w (C_out, C_in, kH, kW)) + b,
    for the stride phase ``blockIdx.z = rh * sw + rw`` of gx."""
    As = cuda.shared.array((BK, BM), float32)
    Bs = cuda.shared.array((BK, BN_PAD), float32)
    acc = cuda.local.array((TM, TN), float32)
    a_frag = cuda.local.array(TM, float32)
    b_frag = cuda.local.array(TN, float32)

    # This block's phase: its pixels, sub-kernel taps and gy offsets (see the module docstring).
    rh = udiv(cuda.blockIdx.z, sw)
    rw = cuda.blockIdx.z - rh * sw
    k0h = (rh + ph) % sh
    k0w = (rw + pw) % sw
    th_n = udiv(kh_n - k0h + sh - 1, sh) if k0h < kh_n else 0
    tw_n = udiv(kw_n - k0w + sw - 1, sw) if k0w < kw_n else 0
    dh = udiv(rh + ph - k0h, sh)
    dw = udiv(rw + pw - k0w, sw)
    qh_n = udiv(h - rh + sh - 1, sh) if rh < h else 0
    qw_n = udiv(wd - rw + sw - 1, sw) if rw < wd else 0
    q_n = qh_n * qw_n
    m_total = n_batch * q_n
    m0 = cuda.blockIdx.x * BM
    if m0 >= m_total:            # the whole block is past this phase's rows (uniform: no sync)
        return
    n0 = cuda.blockIdx.y * BN

    tid = cuda.threadIdx.x
    tx = tid % DIM_X
    ty = tid // DIM_X
    t_n = th_n * tw_n
    kdim = c_out * t_n
    khw = kh_n * kw_n
    hw = h * wd
    ohw = oh_n * ow_n

    a_row = tid % BM
    a_k = tid // BM
    am = m0 + a_row
    a_ok = am < m_total
    an = udiv(am, q_n)
    ar = am - an * q_n
    aqh = udiv(ar, qw_n)
    aqw = ar - aqh * qw_n
    oh_base = aqh + dh            # oh = qh + dh - th
    ow_base = aqw + dw
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
                co = udiv(k, t_n)
                r = k - co * t_n
                th = udiv(r, tw_n)
                oh = oh_base - th
                ow = ow_base - (r - th * tw_n)
                if oh >= 0 and ow >= 0 and oh < oh_n and ow < ow_n:
                    v = gy[gy_base + (co * oh_n + oh) * ow_n + ow]
            As[kk, a_row] = v
        k = k0 + b_k
        w_base = 0
        if k < kdim:
            co = udiv(k, t_n)
            r = k - co * t_n
            th = udiv(r, tw_n)
            w_base = co * c_in * khw + (k0h + th * sh) * kw_n + k0w + (r - th * tw_n) * sw
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
            n = udiv(m, q_n)
            q = m - n * q_n
            qh = udiv(q, qw_n)
            p = (rh + qh * sh) * wd + rw + (q - qh * qw_n) * sw
            for j in range(TN):
                ci = n0 + ty + j * DIM_Y
                if ci < c_in:
                    gx[(n * c_in + ci) * hw + p] = acc[i, j] + b[ci]


KERNELS = [
    ("conv2d_dgrad", conv2d_dgrad_kernel, SIGNATURE, THREADS, 0),
]
