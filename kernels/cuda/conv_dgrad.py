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

Tiling and phases are the forward kernel's (see ``conv_fwd``): 64 x 64 C tile per block of 128
threads, K steps of 8 loaded one step ahead into registers (``load_grad_output``,
``load_phase_weight``) and staged in ``As[8, 64]`` and ``Bs[8, 64 + 4]`` (``tiles.commit_stage``),
an 8 x 4 register tile per thread (``tiles.multiply_tile``), then ``store_grad_input`` through
the per-warp transpose.  The (n, qh, qw) decode of the thread's A row is hoisted out of the K loop,
index arithmetic inside it is 32-bit, and the block's stride phase is decoded once per axis
(``phase_axis``).  The K loop's (co, th, tw) decodes (the A gathers' and the B load's) are
magic-number divisions by the phase's ``Th * Tw`` and ``Tw`` (``tiles.fastdiv_add``: one
``IMAD.HI.U32``, an add and a 32-bit shift, one register of multiplier); only the block knows its
phase, so each thread computes the two multipliers once, before the loop
(``tiles.fastdiv_add_magic_device``: a short bit-length loop and one 64-bit division each).

Registers (session 31; measure: ``ptxas -v`` for the count, ``nvdisasm -c`` of the cubin for the
SASS, the K loop being the backward branch around the 256 FFMA -- ptxas 13.0, estimates, no GPU
timing): 117 on sm_90, 111 on sm_80 after the changes below (no spills; without spills down to a
cap of 112), 121 / 113 with the pixel reciprocals (see Store) -- was 127 / 128, at the launch
bounds' 128 cap.  What freed them: the phase's pixel counts ``q_n`` and ``m_total`` are 32-bit
(they stay live through the loop for the store: 64-bit products were two registers each), gy is
indexed by a 32-bit plane ``n * C_out + co`` (was a 64-bit image base), w by one 32-bit column
offset ``col0`` and a channel count ``cols`` (was ``ci0``, ``C_in``, ``kH*kW`` and ``tap0``), the
multipliers are 32-bit (``tiles.fastdiv_add``; the former ``fastdiv32``'s 33-bit ``2 * mul`` took
two registers each), and ``tiles.commit_stage`` indexes the staged tiles unsigned (one address a
tile, not six).  K step, SASS a thread: 482 on sm_90 (256 FFMA, 53%), 478 on sm_80 (54%); 484 /
482 before the pixel reciprocals, was 492 (52%) / 489, 541 / 537 before the register double
buffer, and with a 4 x 4 tile and 256 threads 471, 128 FFMA (27%).  A block's K step: 128 x 482
thread-instructions instead of 256 x 471, ~2x fewer issue slots.

Store: the thread decodes the phase pixels ``m = (n, qh, qw)`` of its A row and of its two store
row groups by ``q_n`` and ``qw_n``; ``tiles.reciprocal32`` divides once per divisor before the K
loop, then every decode is ``tiles.div_by_reciprocal`` (``IMAD.HI.U32``, a multiply-subtract, a
compare-and-add): 2 divisions a thread, was 6 (each ~22 SASS: ``I2F``, ``MUFU.RCP``, ``F2I`` and
refinements).  Store phase: 749 instructions a thread on sm_90, 699 on sm_80 (804 / 760 with four
divisions; 792 / 743 recomputing the two reciprocals after the loop instead, at 117 / 111
registers), was 3963 before session 30's staged store; the code before the K loop: 769 / 735
(760 / 726).  Against a thread's K loop these are small: 64 K steps (D 64->128's input gradient,
``K = 128 x 4``) run ~31000 instructions a thread.
``b`` is an optional bias of length C_in (zeros for a
plain input gradient; the transposed convolution's bias when this kernel runs conv_transpose2d).
Stores: a warp store writes 32 consecutive phase pixels ``qw`` of one channel -- every ``sw``-th
word of an output row (the other phases' blocks fill the words between, merged in L2).

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
largest phase; blocks past a smaller phase's rows return at once), block ``(128,)``, launch
bounds ``(128, 4)``, static shared memory 12416 bytes (``As``, ``Bs``, ``Cs``: see ``tiles``), no
dynamic shared memory.  Occupancy (ptxas 13.0): 113 registers on sm_80, 121 on sm_90 (see
Registers above; 4 blocks of 128 threads allow 128), no spills, 4 blocks (25%) per SM,
register-limited (was 64 registers with 256 threads, 4 blocks, 50%).  Batches with ``N * C_out``
gy planes past 2**32 are refused by the glue (the plane index is 32-bit).
"""

from numba import cuda, float32, uint32, uint64

from ._launch import bounded_jit
from .tiles import (A_LOADS, A_ROW_STEP, B_COL_STEP, B_LOADS, BK, BM, BN, BN_PAD, DIM_X,
                    GROUP_ROWS, MIN_BLOCKS, SMEM_ALIGN, THREADS, TM, TN, WARP, WARP_COLS, WARPS,
                    commit_stage, div_by_reciprocal, fastdiv_add, fastdiv_add_magic_device,
                    multiply_tile, reciprocal32, stage_row_group, udiv, zero_tile)

SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
             "int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, "
             "int64, int64)")


@cuda.jit(device=True, inline="always")
def phase_axis(r, s, p, k_n, size):
    """One axis of stride phase ``r`` (see the module docstring): its first kernel tap ``k0``,
    sub-kernel length ``t_n``, gy offset ``d`` and phase pixel count ``q_n``."""
    k0 = (r + p) % s
    t_n = udiv(k_n - k0 + s - 1, s) if k0 < k_n else 0
    q_n = udiv(size - r + s - 1, s) if r < size else 0
    return k0, t_n, udiv(r + p - k0, s), q_n


@cuda.jit(device=True, inline="always")
def load_grad_output(a_next, gy, tid, k0, kdim, row_ok, gy_plane, oh_base, ow_base, oh_n, ow_n,
                     t_n, tw_n, t_mul, t_shift, tw_mul, tw_shift):
    """``a_next[i] = gy[n, co, oh_base - th, ow_base - tw]`` for ``k0 + kk = (co, th, tw)``, zero
    off the image and past K: this thread's A row ``tid % BM`` at ``kk = tid // BM + A_ROW_STEP*i``.
    ``gy_plane = n * C_out``: the plane ``gy_plane + co`` is 32-bit (the glue's plane-count check),
    its offset one 32 x 32 -> 64 multiply.  Magic-number divisions by the phase's ``Th * Tw`` and
    ``Tw`` (``tiles.fastdiv_add``); 32-bit indices within a plane (see conv_fwd)."""
    oh32 = uint32(oh_n)
    ow32 = uint32(ow_n)
    ohw64 = uint64(uint32(oh_n * ow_n))
    for i in range(A_LOADS):
        k = uint32(k0 + tid // BM + i * A_ROW_STEP)
        v = float32(0.0)
        if row_ok and k < kdim:
            co = fastdiv_add(k, t_mul, t_shift)
            r = uint32(k - co * t_n)
            th = fastdiv_add(r, tw_mul, tw_shift)
            oh = uint32(oh_base - th)
            ow = uint32(ow_base - (r - th * tw_n))
            if oh < oh32 and ow < ow32:
                v = gy[uint64(uint32(gy_plane + co)) * ohw64 + uint32(oh * ow32 + ow)]
        a_next[i] = v


@cuda.jit(device=True, inline="always")
def load_phase_weight(b_next, w, tid, k0, kdim, co_stride, col0, col_step, cols, row_step, sw,
                      t_n, tw_n, t_mul, t_shift, tw_mul, tw_shift):
    """``b_next[j] = w[co, ci0 + B_COL_STEP * j, k0h + th*sh, k0w + tw*sw]`` for ``k0 + tid % BK
    = (co, th, tw)``, zero past C_in (``j >= cols``) or K: one decode of this thread's k.
    ``co_stride = C_in*kH*kW``, ``col0 = ci0*kH*kW + k0h*kW + k0w`` (the thread's first channel at
    the phase's first tap), ``col_step = B_COL_STEP*kH*kW`` and ``row_step = sh*kW``: 32-bit
    offsets below the output channel's, few of them (they stay live through the multiply)."""
    k = uint32(k0 + tid % BK)
    w_base = uint64(0)
    if k < kdim:
        co = fastdiv_add(k, t_mul, t_shift)
        r = uint32(k - co * t_n)
        th = fastdiv_add(r, tw_mul, tw_shift)
        w_base = co * uint64(uint32(co_stride)) + uint32(col0 + th * row_step
                                                          + (r - th * tw_n) * sw)
    for j in range(B_LOADS):
        v = float32(0.0)
        if j < cols and k < kdim:
            v = w[w_base + uint32(j * col_step)]
        b_next[j] = v


@cuda.jit(device=True, inline="always")
def store_grad_input(gx, b, acc, Cs, tid, m0, n0, m_total, q_n, qw_n, rh, rw, sh, sw, wd, c_in,
                     hw, q_inv, qw_inv):
    """``gx[n, ci, rh + qh*sh, rw + qw*sw] = acc + b[ci]`` for the block's phase pixels
    ``m = (n, qh, qw)`` and channels inside the tensor, one row group at a time through the warp's
    ``Cs`` (as ``conv_fwd.store_output``): a warp store is 32 consecutive phase pixels of one
    channel (``sw`` words apart), and a thread decodes 2 pixels, not 8, by multiplying with
    ``q_inv = reciprocal32(q_n)`` and ``qw_inv = reciprocal32(qw_n)`` (``tiles.div_by_reciprocal``:
    no division here)."""
    warp = uint64(tid // WARP)   # unsigned indices: no negative-index fix-ups in the stores
    lane = uint64(tid % WARP)
    ci0 = n0 + (tid // WARP) * WARP_COLS
    for group in range(2):
        cuda.syncthreads()       # the warp's reads of the previous group are done
        stage_row_group(Cs, acc, tid, group)
        cuda.syncthreads()
        m = m0 + group * GROUP_ROWS + lane
        if m < m_total:
            n = div_by_reciprocal(m, q_n, q_inv)
            q = m - n * q_n
            qh = div_by_reciprocal(q, qw_n, qw_inv)
            out = uint64((n * c_in + ci0) * hw + (rh + qh * sh) * wd + rw + (q - qh * qw_n) * sw)
            for c in range(WARP_COLS):
                if ci0 + c < c_in:
                    gx[out] = Cs[warp, c, lane] + b[uint64(ci0 + c)]
                out += uint64(hw)


@bounded_jit(THREADS, MIN_BLOCKS)
def conv2d_dgrad_kernel(gy, w, b, gx, n_batch, c_in, h, wd, c_out, oh_n, ow_n,
                        kh_n, kw_n, sh, sw, ph, pw):
    """gx (N, C_in, H, W) = conv2d_grad_input(gy (N, C_out, OH, OW), w (C_out, C_in, kH, kW)) + b,
    for the stride phase ``blockIdx.z = rh * sw + rw`` of gx."""
    As = cuda.shared.array((BK, BM), float32, alignment=SMEM_ALIGN)
    Bs = cuda.shared.array((BK, BN_PAD), float32, alignment=SMEM_ALIGN)
    Cs = cuda.shared.array((WARPS, WARP_COLS, GROUP_ROWS), float32, alignment=SMEM_ALIGN)
    acc = cuda.local.array((TM, TN), float32)
    a_frag = cuda.local.array(TM, float32)
    b_frag = cuda.local.array(TN, float32)
    a_next = cuda.local.array(A_LOADS, float32)  # the next K step's staged values, in registers
    b_next = cuda.local.array(B_LOADS, float32)
    rh = udiv(cuda.blockIdx.z, sw)
    rw = cuda.blockIdx.z - rh * sw
    k0h, th_n, dh, qh_n = phase_axis(rh, sh, ph, kh_n, h)
    k0w, tw_n, dw, qw_n = phase_axis(rw, sw, pw, kw_n, wd)
    q_n = uint32(qh_n * qw_n)   # 32-bit (the glue's pixel-count check): one register each
    m_total = uint32(n_batch * q_n)
    m0 = cuda.blockIdx.x * BM
    if m0 >= m_total:            # the whole block is past this phase's rows (uniform: no sync)
        return
    n0 = cuda.blockIdx.y * BN
    tid = cuda.threadIdx.x
    t_n = th_n * tw_n
    kdim = uint32(c_out * t_n)   # < 2**31 (the glue's tap-count check)
    # Magic numbers for the phase's t_n and tw_n (the host does not know the phase).
    t_mul, t_shift = fastdiv_add_magic_device(t_n)
    tw_mul, tw_shift = fastdiv_add_magic_device(tw_n)

    am = m0 + tid % BM           # the A row (phase pixel) this thread stages, decoded once
    q_inv = reciprocal32(q_n)    # the pixel decode's two divisions, done once: the store's
    qw_inv = reciprocal32(qw_n)  # four decodes reuse them (live through the loop)
    an = div_by_reciprocal(am, q_n, q_inv)
    aqh = div_by_reciprocal(am - an * q_n, qw_n, qw_inv)
    gy_plane = uint32(an * c_out)   # the thread's image's first gy plane
    oh_base = aqh + dh           # oh = qh + dh - th
    ow_base = am - an * q_n - aqh * qw_n + dw
    ci0 = n0 + tid // BK         # the first B column (input channel) this thread loads
    khw = kh_n * kw_n
    co_stride = c_in * khw
    col0 = ci0 * khw + k0h * kw_n + k0w   # at the phase's first tap; sh*kW a th
    col_step = B_COL_STEP * khw
    cols = udiv(c_in - ci0 + B_COL_STEP - 1, B_COL_STEP) if ci0 < c_in else 0  # j < cols: in C_in
    row_step = sh * kw_n
    zero_tile(acc)
    k0 = uint32(0)               # a 32-bit K counter: 32-bit compares, one register a k
    load_grad_output(a_next, gy, tid, k0, kdim, am < m_total, gy_plane, oh_base, ow_base, oh_n,
                     ow_n, t_n, tw_n, t_mul, t_shift, tw_mul, tw_shift)
    load_phase_weight(b_next, w, tid, k0, kdim, co_stride, col0, col_step, cols, row_step, sw,
                      t_n, tw_n, t_mul, t_shift, tw_mul, tw_shift)
    while k0 < kdim:
        commit_stage(As, Bs, a_next, b_next, tid)
        cuda.syncthreads()
        k0 = uint32(k0 + BK)     # prefetch the next K step: its loads fly during the multiply
        load_grad_output(a_next, gy, tid, k0, kdim, am < m_total, gy_plane, oh_base, ow_base,
                         oh_n, ow_n, t_n, tw_n, t_mul, t_shift, tw_mul, tw_shift)
        load_phase_weight(b_next, w, tid, k0, kdim, co_stride, col0, col_step, cols, row_step, sw,
                          t_n, tw_n, t_mul, t_shift, tw_mul, tw_shift)
        multiply_tile(As, Bs, acc, a_frag, b_frag, tid % DIM_X, tid // DIM_X)
        cuda.syncthreads()
    store_grad_input(gx, b, acc, Cs, tid, m0, n0, m_total, q_n, qw_n, rh, rw, sh, sw, wd, c_in,
                     h * wd, q_inv, qw_inv)


KERNELS = [
    ("conv2d_dgrad", conv2d_dgrad_kernel, SIGNATURE, THREADS, 0),
]
