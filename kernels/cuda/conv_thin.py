"""conv2d forward, input gradient and weight gradient when the output (for the weight gradient:
the layer's output) has at most 4 channels: direct kernels, no 64 x 64 GEMM tile.

Why a second kernel
-------------------
The implicit-GEMM kernels (``conv_fwd``, ``conv_dgrad``) give each block a 64 x 64 tile of
``pixels x channels``.  When the output has one channel -- an MNIST generator's last layer
(64 -> 1), or the input gradient of a discriminator's first layer (1 -> 64) -- 63 of every 64
columns are padding: the block still gathers its 64 x 8 slice of the input, synchronises twice per
K step and runs 16 FMAs per thread for 1 useful one.  Measured on an H100 (batch 64, ``python -m
benchmarks.cuda_variants``, cuDNN from ``benchmarks.kernels`` in the same session): the 64 -> 1
forward 0.396 ms with the tiled kernel, 0.152 with these (cuDNN 0.090); the 1 -> 64 input gradient
0.229 -> 0.183 (cuDNN 0.083); the 64 -> 1 weight gradient 0.572 -> 0.118 (cuDNN 0.063).

Here each thread owns one output pixel and accumulates all ``C <= THIN_C`` of its channels in
registers (the ``THIN_C`` loops have constant trip counts, so they unroll and ``acc`` stays in
registers; channels past ``C`` meet zero weights).  The weights are staged in shared memory in
chunks of whole input channels (``Ws[THIN_C, KC]``), read by every thread of the block as a
broadcast.  The input is read straight from global memory: a warp's 32 threads are 32 consecutive
output pixels, so for stride 1 their loads are 32 consecutive words, and the 9 or 16 taps of a pixel
hit lines its neighbours just brought into L1.

* ``conv2d_fwd_thin_kernel``: ``y[n, co, oh, ow] = b[co] + sum_{ci, kh, kw} x[n, ci, oh*sh - ph +
  kh, ow*sw - pw + kw] * w[co, ci, kh, kw]`` for ``C_out <= THIN_C``.
* ``conv2d_dgrad_thin_kernel``: ``gx[n, ci, ih, iw] = b[ci] + sum gy[n, co, oh, ow] * w[co, ci, kh,
  kw]`` over the taps with ``ih = oh*sh - ph + kh``, ``iw = ow*sw - pw + kw`` (integer, in range),
  for ``C_in <= THIN_C`` -- also conv_transpose2d's forward with ``C_out <= THIN_C``.  A thread
  visits only the kernel rows and columns of its stride phase (``kh = (ih + ph) mod sh, + sh, ...``,
  output rows ``oh0, oh0 - 1, ...``), so no FMA is spent on taps that miss the lattice.
* ``conv2d_wgrad_thin_kernel``: ``gw[co, ci, kh, kw] = sum_{n, oh, ow} gy[n, co, oh, ow] *
  x[n, ci, oh*sh - ph + kh, ow*sw - pw + kw]`` for ``C_out <= THIN_C`` and kernels up to 4 x 4
  (G's 64 -> 1 layer: 576 weights, each a sum over 50,176 pixels; the tiled kernel took 0.572 ms
  against cuDNN's 0.063).  Block ``(ci, z)`` owns one input channel and a chunk of the pixels; each
  thread walks its pixels and keeps every ``(kh, kw, co)`` sum in registers (``WGRAD_ACC = 64``,
  constant indices), then the block adds the 128 threads' sums through shared memory and writes
  one partial per weight to ``ws[z]``; ``conv_wgrad.splitk_reduce_kernel`` adds the ``S`` chunks.

Cost
----
FLOPs: ``2 * |out| * K`` useful (K = C_in*kH*kW forward; C_out*kH*kW/(sh*sw) per input pixel for
the input gradient), executed ``THIN_C / C`` times over (zero weights): cheap next to the loads.
Compulsory bytes (fp32): ``4 * (|in| + |w| + |out| + C)``; the input is re-read kH*kW times from
L1/L2, never from DRAM more than about once.

Weight gradient: ``2 * C_out * C_in * kH * kW * N * OH * OW`` FLOPs (x ``THIN_C / C_out`` executed),
bytes ``4 * (|x| + C_in * |gy| (L2) + S * |gw| * 2)``.

Launch
------
grid ``(ceil(N * OH * OW / THIN_THREADS),)`` (forward) or ``(ceil(N * H * W / THIN_THREADS),)``
(input gradient), block ``(THIN_THREADS = 128,)``, static shared memory
``4 * THIN_C * KC = 8192`` bytes.  Used when the output has ``<= THIN_C`` channels and one
channel's ``kH * kW`` taps fit a chunk (``kH * kW <= KC``; the forward's chunks hold input
channels, the input gradient's whole output channels); otherwise the tiled kernels run.
Weight gradient: grid ``(C_in, S)``, block ``(128,)``, static shared memory
``4 * 128 * 65 = 33280`` bytes; used for ``C_out <= THIN_C`` and ``kH, kW <= MAX_KSIDE``.
Occupancy on an H100 (ptxas 13.0, sm_90), all limited by registers: forward 54 registers, 9 blocks
(56%) per SM (64 / 8 blocks on sm_80); input gradient 62, 8 blocks (50%); weight gradient 110,
4 blocks (25%).  (The forward had 69 / 89 before ``tiles.stage_thin_weights`` stepped its groups
without dividing: the input gradient's SASS 1656 -> 1168 instructions, its staging loop
~70 -> ~31 an element, no ``MUFU.RCP`` there.)

The input gradient's tap loops do not divide: the output row / column of a pixel's first lattice
tap is one division per pixel (``oh0``, ``ow0``), each later tap one row / column before, and the
loops are ``while`` loops (``range`` with a run-time step divides for its trip count).  sm_90
SASS, ptxas 13.0 / nvdisasm: 2432 instructions in all before (18 ``MUFU.RCP`` divisions, 5-6 in
the per-channel tap loops), 1656 after (none in the tap loops; the innermost, one tap: 45, 4 of
them FFMA), 1168 with the staging change above.  It declares launch bounds ``(128,
DGRAD_MIN_BLOCKS = 8)`` (``_launch.bounded_jit``: PTX ``.maxntid 128`` / ``.minnctapersm 8``):
unbounded, ptxas gives it 88 registers on sm_90 (5 blocks, 31%) and 104 on sm_80 (4 blocks;
before the loop change 100 and 134); bounded, 61 (62 with the staging change) and 64, no spills,
no stack, the tap loops' SASS within 1% of the unbounded kernel's (bounds 6 or 7: 74 or 67
registers).  Shipped on that ptxas evidence: the gain -- 32 warps an SM instead of 16-20
to hide the gy loads' latency -- is an estimate, not timed on a GPU; if a timing disagrees,
``DGRAD_MIN_BLOCKS = 6`` keeps 11 registers of slack.
"""

from numba import cuda, float32

from ._launch import bounded_jit
from .tiles import stage_thin_weights, udiv

THIN_C = 4           # output channels a thread accumulates (1 for MNIST, 3 for RGB images)
KC = 512             # weight taps (one or more whole input channels) staged per chunk
THIN_THREADS = 128   # threads per block: 392 blocks for a 64 x 28 x 28 output (3 per SM)
MAX_KSIDE = 4        # the weight gradient's kernels: up to 4 x 4 (the DCGAN's 3 x 3 and 4 x 4)
WGRAD_ACC = MAX_KSIDE * MAX_KSIDE * THIN_C   # accumulators per thread (64 registers)
RED_ROW = WGRAD_ACC + 1                      # padded row of the block reduction
DGRAD_MIN_BLOCKS = 8  # the input gradient's launch bounds: 8 blocks an SM, <= 64 registers

SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], "
             "int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, "
             "int64, int64)")
WGRAD_SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], "
                   "int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, int64, "
                   "int64, int64, int64)")


@cuda.jit
def conv2d_fwd_thin_kernel(x, w, b, y, n_batch, c_in, h, wd, c_out, oh_n, ow_n,
                           kh_n, kw_n, sh, sw, ph, pw):
    """y (N, C_out, OH, OW) = conv2d(x, w (C_out, C_in, kH, kW)) + b for C_out <= THIN_C, flat."""
    Ws = cuda.shared.array((THIN_C, KC), float32)
    acc = cuda.local.array(THIN_C, float32)
    tid = cuda.threadIdx.x
    m = cuda.blockIdx.x * THIN_THREADS + tid
    khw = kh_n * kw_n
    kdim = c_in * khw
    ohw = oh_n * ow_n
    ok = m < n_batch * ohw
    n = udiv(m, ohw)
    p = m - n * ohw
    oh = udiv(p, ow_n)
    ow = p - oh * ow_n
    ih0 = oh * sh - ph
    iw0 = ow * sw - pw
    x_img = n * c_in * h * wd
    for co in range(THIN_C):
        acc[co] = float32(0.0)

    ci_per_chunk = KC // khw
    for ci0 in range(0, c_in, ci_per_chunk):
        ci1 = min(c_in, ci0 + ci_per_chunk)
        taps = (ci1 - ci0) * khw
        cuda.syncthreads()                       # the previous chunk's reads are done
        # Ws[co, k] = w[co, ci0 + k // khw, tap k % khw]
        stage_thin_weights(Ws, w, tid, THIN_THREADS, c_out, kdim, ci0 * khw, khw, taps, khw)
        cuda.syncthreads()
        if ok:
            for ci in range(ci0, ci1):
                x_chan = x_img + ci * h * wd
                k_chan = (ci - ci0) * khw
                for kh in range(kh_n):
                    ih = ih0 + kh
                    if ih >= 0 and ih < h:
                        for kw in range(kw_n):
                            iw = iw0 + kw
                            if iw >= 0 and iw < wd:
                                v = x[x_chan + ih * wd + iw]
                                k = k_chan + kh * kw_n + kw
                                for co in range(THIN_C):
                                    acc[co] += v * Ws[co, k]
    if ok:
        for co in range(THIN_C):
            if co < c_out:
                y[(n * c_out + co) * ohw + p] = acc[co] + b[co]


@bounded_jit(THIN_THREADS, DGRAD_MIN_BLOCKS)
def conv2d_dgrad_thin_kernel(gy, w, b, gx, n_batch, c_in, h, wd, c_out, oh_n, ow_n,
                             kh_n, kw_n, sh, sw, ph, pw):
    """gx (N, C_in, H, W) = conv2d_grad_input(gy (N, C_out, OH, OW), w (C_out, C_in, kH, kW)) + b
    for C_in <= THIN_C, all flat."""
    Ws = cuda.shared.array((THIN_C, KC), float32)
    acc = cuda.local.array(THIN_C, float32)
    tid = cuda.threadIdx.x
    m = cuda.blockIdx.x * THIN_THREADS + tid
    khw = kh_n * kw_n
    hw = h * wd
    ohw = oh_n * ow_n
    ok = m < n_batch * hw
    n = udiv(m, hw)
    p = m - n * hw
    ih = udiv(p, wd)
    iw = p - ih * wd
    # First kernel row / column on this pixel's stride lattice: (ih + ph - kh) % sh == 0 (ihp, iwp:
    # the pixel's row and column in the padded frame).
    ihp = ih + ph
    kh0 = ihp - udiv(ihp, sh) * sh
    iwp = iw + pw
    kw0 = iwp - udiv(iwp, sw) * sw
    oh0 = udiv(ihp - kh0, sh)     # the output row / column of the first tap: each later tap of
    ow0 = udiv(iwp - kw0, sw)     # the lattice is one row / column before (no division per tap)
    kh_end = min(kh_n, ihp + 1)
    kw_end = min(kw_n, iwp + 1)
    gy_img = n * c_out * ohw
    for ci in range(THIN_C):
        acc[ci] = float32(0.0)

    co_per_chunk = KC // khw
    for co0 in range(0, c_out, co_per_chunk):
        co1 = min(c_out, co0 + co_per_chunk)
        taps = (co1 - co0) * khw
        cuda.syncthreads()
        # Ws[ci, k] = w[co0 + k // khw, ci, tap k % khw]
        stage_thin_weights(Ws, w, tid, THIN_THREADS, c_in, khw, co0 * c_in * khw, c_in * khw,
                           taps, khw)
        cuda.syncthreads()
        if ok:
            for co in range(co0, co1):
                gy_chan = gy_img + co * ohw
                k_chan = (co - co0) * khw
                # while, not range(kh0, kh_end, sh): a run-time step makes range() divide for
                # its trip count, once per channel and kernel row
                kh, oh = kh0, oh0
                while kh < kh_end:                  # oh = (ihp - kh) / sh >= 0
                    if oh < oh_n:
                        kw, ow = kw0, ow0
                        while kw < kw_end:
                            if ow < ow_n:
                                v = gy[gy_chan + oh * ow_n + ow]
                                k = k_chan + kh * kw_n + kw
                                for ci in range(THIN_C):
                                    acc[ci] += v * Ws[ci, k]
                            kw += sw
                            ow -= 1
                    kh += sh
                    oh -= 1
    if ok:
        for ci in range(THIN_C):
            if ci < c_in:
                gx[(n * c_in + ci) * hw + p] = acc[ci] + b[ci]


@cuda.jit
def conv2d_wgrad_thin_kernel(x, gy, ws, n_batch, c_in, h, wd, c_out, oh_n, ow_n,
                             kh_n, kw_n, sh, sw, ph, pw, k_chunk):
    """ws (S, C_out, C_in*kH*kW): partial weight gradients for C_out <= THIN_C and kernels up to
    MAX_KSIDE x MAX_KSIDE; block (ci, z) reduces the pixels [z * k_chunk, (z + 1) * k_chunk)."""
    red = cuda.shared.array((THIN_THREADS, RED_ROW), float32)
    acc = cuda.local.array(WGRAD_ACC, float32)
    g = cuda.local.array(THIN_C, float32)
    tid = cuda.threadIdx.x
    ci = cuda.blockIdx.x
    z = cuda.blockIdx.y
    ohw = oh_n * ow_n
    k_begin = z * k_chunk
    k_end = min(n_batch * ohw, k_begin + k_chunk)
    for i in range(WGRAD_ACC):
        acc[i] = float32(0.0)

    # Each thread walks its pixels (consecutive threads, consecutive pixels: coalesced gy and x).
    for k in range(k_begin + tid, k_end, THIN_THREADS):
        n = udiv(k, ohw)
        p = k - n * ohw
        oh = udiv(p, ow_n)
        ow = p - oh * ow_n
        for co in range(THIN_C):
            g[co] = gy[(n * c_out + co) * ohw + p] if co < c_out else float32(0.0)
        x_chan = (n * c_in + ci) * h * wd
        ih0 = oh * sh - ph
        iw0 = ow * sw - pw
        for kh in range(MAX_KSIDE):             # constant trip counts: acc indices are constants
            ih = ih0 + kh
            if kh < kh_n and ih >= 0 and ih < h:
                for kw in range(MAX_KSIDE):
                    iw = iw0 + kw
                    if kw < kw_n and iw >= 0 and iw < wd:
                        v = x[x_chan + ih * wd + iw]
                        for co in range(THIN_C):
                            acc[(kh * MAX_KSIDE + kw) * THIN_C + co] += v * g[co]

    # Block sum of every accumulator: row tid of red holds thread tid's; thread j < WGRAD_ACC then
    # adds column j.  Rows of RED_ROW = WGRAD_ACC + 1 floats: both passes are bank-conflict free.
    for i in range(WGRAD_ACC):
        red[tid, i] = acc[i]
    cuda.syncthreads()
    if tid < WGRAD_ACC:
        total = float32(0.0)
        for t in range(THIN_THREADS):
            total += red[t, tid]
        co = tid % THIN_C
        tap = tid // THIN_C
        kh = tap // MAX_KSIDE
        kw = tap - kh * MAX_KSIDE
        if co < c_out and kh < kh_n and kw < kw_n:
            jdim = c_in * kh_n * kw_n
            ws[(z * c_out + co) * jdim + (ci * kh_n + kh) * kw_n + kw] = total


KERNELS = [
    ("conv2d_fwd_thin", conv2d_fwd_thin_kernel, SIGNATURE, THIN_THREADS, 0),
    ("conv2d_dgrad_thin", conv2d_dgrad_thin_kernel, SIGNATURE, THIN_THREADS, 0),
    ("conv2d_wgrad_thin", conv2d_wgrad_thin_kernel, WGRAD_SIGNATURE, THIN_THREADS, 0),
]
