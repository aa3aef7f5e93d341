"""Data-movement kernels shared by the convolutions, and the Python glue around the GEMMs.

Every FLOP of a convolution happens inside one BLAS SGEMM/DGEMM call (``numpy.matmul`` ->
OpenBLAS) per phase / batch chunk.  The Numba kernels here only move data into and out of GEMM
layout -- memory-bound copies (and, in ``col2im_add``, one add per GEMM output element):

* ``pack_cols``    im2col into (C*T, N*Q) -- the *input-side* formulation;
* ``unpack_rows``  (C_out, N*Q) GEMM result -> NCHW (+ bias), optionally every s-th pixel;
* ``nchw_to_cnp``  (N, C, P) -> (C, N*P), the GEMM layout of an input / gradient;
* ``col2im_add``   (C_out*kH*kW, N*H*W) GEMM result -> NCHW by per-channel shifted adds -- the
                   *output-side* formulation (see conv_transpose2d.py);
* ``fill_bias``    output phases no tap reaches.

Performance note (measured): indexing with a computed *signed* expression (``row[o + qw]``) makes
Numba emit a negative-index fix-up per access, which blocks LLVM's vectoriser. Two cures: run the
loop over a slice with a plain ``range`` index (1.6x faster packs, 2x faster col2im than the signed
form), or hold the flat index as ``uint64`` (no fix-up at all; the im2col pack ``_pack_padded`` is
another 1.4x faster that way than over slices).

``pack_cols`` -- generalised im2col (x padded first where a tap reaches outside, so the copy loops
have no bounds tests)
    cols[(c, th, tw), (n, qh, qw)] = x[n, c, qh*step_h + offh[th], qw*step_w + offw[tw]]
    (zero where the index falls outside x).  ``cols`` has shape (C*Th*Tw, N*Qh*Qw): row-major,
    one row per (channel, tap), which is the right operand of ``W(C_out, C*Th*Tw) @ cols``.
    * conv2d:  step = stride, offh[kh] = kh - pad_h (the classic im2col).
    * conv_transpose2d, output phase (rh, rw): step = 1, offh[th] = the input-row offset of tap th
      (stride-phase decomposition, see conv_transpose2d.py).
    Bytes: writes C*Th*Tw*N*Qh*Qw elements, reads each element of x about Th*Tw/(step_h*step_w)
    times (from cache).  No FLOPs.
    Launch shape: ``prange`` over the C*Th*Tw rows of cols -- each task streams one row
    (N*Qh*Qw contiguous elements), reading Qh row segments of each (n, c) plane of x.  Numba's
    static split gives each thread a contiguous band of rows; rows are many and equal-sized.

``unpack_rows`` -- GEMM result (C_out, N*Qh*Qw) -> y[n, co, r_h + qh*s_h, r_w + qw*s_w] (+ bias)
    Writes N*C_out*Qh*Qw elements, reads the same number.  For conv2d s = 1, r = 0 and it is the
    (C_out, N, P) -> (N, C_out, P) transpose; for a transposed-convolution phase it writes every
    s-th row and column of the output.
    Launch shape: ``prange`` over the N*C_out output planes.
"""
import numpy as np
from numba import njit, prange, uint64


@njit(parallel=True, cache=True)
def _pad_planes(x, pt, pl, out):
    """out[n, c] = x[n, c] placed at (pt, pl) in a zero plane of out's size."""
    N, C, H, W = x.shape
    Hp, Wp = out.shape[2], out.shape[3]
    zero = out.dtype.type(0)
    for t in prange(N * C):
        n = t // C
        c = t - n * C
        for i in range(Hp):
            for j in range(Wp):
                out[n, c, i, j] = zero
        for i in range(H):
            for j in range(W):
                out[n, c, i + pt, j + pl] = x[n, c, i, j]


@njit(parallel=True, cache=True)
def _pack_padded(xp, offh, offw, step_h, step_w, Qh, Qw, cols):
    """cols[(c, th, tw), (n, qh, qw)] = xp[n, c, qh*step_h + offh[th], qw*step_w + offw[tw]]
    with every index in range (xp is padded): no branches in the copy loops."""
    N, C, Hp, Wp = xp.shape
    Th = offh.shape[0]
    Tw = offw.shape[0]
    T = Th * Tw
    xf = xp.reshape(-1)
    cf = cols.reshape(-1)
    ncols = cols.shape[1]
    for r in prange(C * T):
        c = r // T
        t = r - c * T
        th = t // Tw
        tw = t - th * Tw
        # Flat indices held as uint64: Numba emits a negative-index wrap-around fix-up for every
        # signed index, unsigned ones index directly, and the strided (step_w = 2) copies below
        # run ~1.4x faster than the same loops over slices (measured: D 64->128 pack 1.52 -> 1.05 ms).
        out = uint64(r) * uint64(ncols)
        for n in range(N):
            src_plane = uint64((n * C + c) * Hp * Wp + offh[th] * Wp + offw[tw])
            for qh in range(Qh):
                src = src_plane + uint64(qh * step_h * Wp)
                for qw in range(Qw):
                    cf[out + uint64(qw)] = xf[src + uint64(qw * step_w)]
                out += uint64(Qw)


def pack_cols(x, offh, offw, step_h, step_w, Qh, Qw, cols):
    """im2col (see the module docstring).  Pads x once (only when some tap reaches outside it --
    a cheap pass over x) so that the packing loops are branch-free."""
    N, C, H, W = x.shape
    pt = max(0, -int(offh.min()))
    pb = max(0, (Qh - 1) * step_h + int(offh.max()) - (H - 1))
    pl = max(0, -int(offw.min()))
    pr = max(0, (Qw - 1) * step_w + int(offw.max()) - (W - 1))
    if pt or pb or pl or pr:
        xp = np.empty((N, C, H + pt + pb, W + pl + pr), dtype=x.dtype)
        _pad_planes(x, pt, pl, xp)
        x = xp
    _pack_padded(x, offh + pt, offw + pl, step_h, step_w, Qh, Qw, cols)


@njit(parallel=True, cache=True)
def unpack_rows(Y, bias, has_bias, r_h, r_w, s_h, s_w, Qh, Qw, y):
    N, Co, OH, OW = y.shape
    Q = Qh * Qw
    for task in prange(N * Co):
        n = task // Co
        co = task - n * Co
        b = bias[co] if has_bias else Y.dtype.type(0)
        base = n * Q
        for qh in range(Qh):
            src = Y[co, base + qh * Qw:base + qh * Qw + Qw]
            dst = y[n, co, r_h + qh * s_h, r_w:r_w + (Qw - 1) * s_w + 1:s_w]
            for qw in range(Qw):
                dst[qw] = src[qw] + b


@njit(parallel=True, cache=True)
def fill_bias(bias, has_bias, r_h, r_w, s_h, s_w, y):
    """y[n, co, r_h::s_h, r_w::s_w] = bias[co] (or 0): the output phases no kernel tap reaches."""
    N, Co, OH, OW = y.shape
    for task in prange(N * Co):
        n = task // Co
        co = task - n * Co
        b = bias[co] if has_bias else y.dtype.type(0)
        for oh in range(r_h, OH, s_h):
            for ow in range(r_w, OW, s_w):
                y[n, co, oh, ow] = b


@njit(parallel=True, cache=True)
def nchw_to_cnp(x, out):
    """out[c, n*P + p] = x[n, c, p]: (N, C, P) -> (C, N*P), the GEMM layout of a gradient."""
    N, C, P = x.shape
    for task in prange(C * N):
        c = task // N
        n = task - c * N
        src = x[n, c]
        dst = out[c, n * P:n * P + P]
        for p in range(P):
            dst[p] = src[p]





@njit(inline="always", cache=True)
def _input_range(a, s, out_len, in_len):
    """Input indices i with 0 <= i*s + a < out_len, as a half-open range [lo, hi) within [0, in_len)."""
    lo = (-a + s - 1) // s if a < 0 else 0
    hi = min(in_len, (out_len - 1 - a) // s + 1) if out_len - 1 - a >= 0 else 0
    return lo, hi

@njit(parallel=True, cache=True)
def col2im_add(Z, kH, kW, s_h, s_w, aoffh, aoffw, bias, has_bias, H, W, group, y):
    """Output-side convolution: y[n, co] = bias + sum over taps of shifted GEMM rows.

    Z (C_out*kH*kW, N*H*W) holds, for every kernel tap (co, kh, kw) and every *input* position
    (n, ih, iw), the partial product sum_ci w[.., ci, kh, kw] * x[n, ci, ih, iw].  Tap (kh, kw) of
    input (ih, iw) lands on output (ih*s_h + aoffh[kh], iw*s_w + aoffw[kw]) (dropped if outside):
    * conv_transpose2d:       aoff[k] = k - pad (any stride);
    * conv2d with stride 1:   aoff[k] = pad - k.
    Each task owns output channel co for a group of images, so the "scatter" is race-free: it fills
    the bias, then, tap by tap, streams the tap's Z row (one sequential read -- the kH*kW rows of one
    channel are adjacent in Z) into the group's output planes (which stay in L1/L2).
    Reads C_out*kH*kW*N*H*W elements, writes N*C_out*OH*OW.
    Launch shape: ``prange`` over C_out * ceil(N / group) tasks (group < N only when C_out is small).
    """
    N, Co, OH, OW = y.shape
    HW = H * W
    ngroups = (N + group - 1) // group
    for task in prange(Co * ngroups):
        co = task // ngroups
        g = task - co * ngroups
        n0 = g * group
        n1 = min(N, n0 + group)
        b = bias[co] if has_bias else y.dtype.type(0)
        for n in range(n0, n1):
            for oh in range(OH):
                for ow in range(OW):
                    y[n, co, oh, ow] = b
        for kh in range(kH):
            a_h = aoffh[kh]
            ih_lo, ih_hi = _input_range(a_h, s_h, OH, H)
            for kw in range(kW):
                a_w = aoffw[kw]
                iw_lo, iw_hi = _input_range(a_w, s_w, OW, W)
                zrow = Z[(co * kH + kh) * kW + kw]
                cnt = iw_hi - iw_lo
                if cnt <= 0:
                    continue
                o0 = iw_lo * s_w + a_w
                for n in range(n0, n1):
                    plane = y[n, co]
                    for ih in range(ih_lo, ih_hi):
                        zb = n * HW + ih * W + iw_lo
                        zs = zrow[zb:zb + cnt]
                        dst = plane[ih * s_h + a_h, o0:o0 + (cnt - 1) * s_w + 1:s_w]
                        for i in range(cnt):
                            dst[i] += zs[i]


# ---------------------------------------------------------------------------- Python-side helpers
# Elements of packed operand per batch chunk (16 Mi: 64 MiB of float32; every DCGAN layer at batch
# 64 is one chunk).  A trade-off, both sides measured:
# * one thread, quiet core: 1 Mi-element (cache-sized) chunks are 20-25% faster on the 14<->28
#   layers (CPU time 38 vs 50 ms, 34 vs 42 ms) -- the packed operand stays hot for the GEMM;
# * two threads on an oversubscribed machine (this one, shared): every chunk is one more GEMM call
#   and Numba region, i.e. one more thread barrier, and a barrier waits whole scheduler ticks for a
#   descheduled worker: 1 Mi chunks were 3-5x *slower* (wall 200 vs 60 ms, 650 vs 120 ms).
# Robustness wins; the budget only bounds scratch memory for big batches.
COLS_BUDGET = 1 << 24

# None: each call picks the formulation that moves fewer bytes.  "input" / "output" force one
# (where it applies) -- for tests and benchmarks.
FORMULATION = None


def prefer_output_side(input_side_elems, output_side_elems):
    if FORMULATION is not None:
        return FORMULATION == "output"
    return output_side_elems < input_side_elems


def chunks(n, per_image, budget=None):
    """Split range(n) into batch chunks of about `budget` packed elements each."""
    budget = COLS_BUDGET if budget is None else budget
    step = max(1, min(n, budget // max(per_image, 1)))
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def bias_arg(b, dtype):
    if b is None:
        return np.zeros(1, dtype=dtype), False
    return np.ascontiguousarray(b, dtype=dtype), True


def output_side(x, Wt, kernel_hw, stride, aoffh, aoffw, b, out_hw, budget=None):
    """y = col2im_add(Wt @ x^T): one GEMM producing every tap's contribution at every input
    position, then the per-plane shifted add.  Wt is (C_out*kH*kW, C_in) (a transposed view is
    fine: BLAS takes the transpose flag)."""
    N, Cin, H, W = x.shape
    kH, kW = kernel_hw
    Co = Wt.shape[0] // (kH * kW)
    OH, OW = out_hw
    dtype = x.dtype
    bias, has_bias = bias_arg(b, dtype)
    y = np.empty((N, Co, OH, OW), dtype=dtype)
    HW = H * W
    for n0, n1 in chunks(N, (Wt.shape[0] + Cin) * HW, budget):
        nb = n1 - n0
        Xt = np.empty((Cin, nb * HW), dtype=dtype)
        nchw_to_cnp(x[n0:n1].reshape(nb, Cin, HW), Xt)
        Z = Wt @ Xt
        group = nb if Co >= 16 else max(1, -(-nb * Co // 16))    # >= 16 tasks for the threads
        col2im_add(Z, kH, kW, stride[0], stride[1], aoffh, aoffw, bias, has_bias, H, W, group,
                   y[n0:n1])
    return y

