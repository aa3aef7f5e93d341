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
the thread's A row hoisted out of the K loop, 32-bit index arithmetic inside it.  The K loop's
(co, th, tw) decodes (the A gathers' and the B load's) are magic-number divisions by the phase's
``Th * Tw`` and ``Tw`` (``tiles.fastdiv32``); only the block knows its phase, so each thread
computes the two multipliers once, before the loop (``tiles.fastdiv_magic_device``: a short
bit-length loop and one 64-bit division each).

K step, sm_90 SASS (ptxas 13.0; loop body plus 7 more passes of ``tile_fma``'s 41-instruction k
loop, 128 FFMA): 471 instructions, was 805 with ``udiv`` (8 ``MUFU.RCP`` divisions, 64-bit index
arithmetic: 518 + 7 x 41).  No GPU timing: the gain (~1.7x fewer issue slots a K step, 4 blocks
an SM instead of 3) is an estimate.  ``b`` is an optional bias of length C_in (zeros for a
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
Occupancy (ptxas 13.0): 64 registers on sm_80 and sm_90, 4 blocks (50%) per SM, register-limited
(was 72, 3 blocks, 37.5%).
"""

from numba import cuda, float32, uint32, uint64

from .tiles import (A_LOADS, A_ROW_STEP, B_COL_STEP, B_LOADS, BK, BM, BN, BN_PAD, DIM_X,
                    DIM_Y, THREADS, TM, TN, fastdiv32, fastdiv_magic_device, tile_fma,
                    udiv)

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

    # The K loop divides by this phase's t_n and tw_n with magic numbers (computed here: the host
    # does not know the phase), and its index arithmetic is 32-bit (see conv_fwd) up to the final
    # 64-bit offsets.
    t_mul, t_shift = fastdiv_magic_device(t_n)
    tw_mul, tw_shift = fastdiv_magic_device(tw_n)
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
    gy_base = uint64(an) * uint64(c_out) * uint64(ohw)
    oh32 = uint32(oh_n)
    ow32 = uint32(ow_n)
    ohw64 = uint64(uint32(ohw))   # zero-extended: co * ohw64 is one 32 x 32 -> 64-bit multiply
    w_chan = uint64(c_in) * uint64(khw)   # w's stride between output channels
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
                co = fastdiv32(k, t_mul, t_shift)
                r = uint32(k - co * t_n)
                th = fastdiv32(r, tw_mul, tw_shift)
                oh = uint32(oh_base - th)
                ow = uint32(ow_base - (r - th * tw_n))
                if oh < oh32 and ow < ow32:
                    v = gy[gy_base + co * ohw64 + uint32(oh * ow32 + ow)]
            As[kk, a_row] = v
        k = uint32(k0 + b_k)
        w_base = uint64(0)
        if k < kdim32:
            co = fastdiv32(k, t_mul, t_shift)
            r = uint32(k - co * t_n)
            th = fastdiv32(r, tw_mul, tw_shift)
            w_base = co * w_chan + uint32((k0h + th * sh) * kw_n + k0w + (r - th * tw_n) * sw)
        for j in range(B_LOADS):
            nn = b_col + j * B_COL_STEP
            ci = n0 + nn
            v = float32(0.0)
            if ci < c_in and k < kdim32:
                v = w[w_base + uint64(ci * khw)]
            Bs[b_k, nn] = v
        cuda.syncthreads()
        tile_fma(As, Bs, acc, a_frag, b_frag, tx, ty)
        cuda.syncthreads()
        k0 = uint32(k0 + BK)

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
