"""Data-movement kernels shared by the convolutions, and the Python glue around the GEMMs.

Every FLOP of a convolution happens inside one BLAS SGEMM/DGEMM call (``numpy.matmul`` ->
OpenBLAS) per phase / batch chunk.  The Numba kernels here only move data into and out of GEMM
layout -- memory-bound copies (and, in ``col2im_add``, one add per GEMM output element).  They are
serial and release the GIL (``nogil=True``): each runs on one chunk of images, inside one of the
threads that ``_workers.run_over_batch`` gives a slice of the batch, writing into that thread's
reusable scratch buffers (``_workers.scratch``).

* ``pack_cols``    im2col into (C*T, N*Q) -- the *input-side* formulation;
* ``unpack_rows``  (C_out, N*Q) GEMM result -> NCHW (+ bias), optionally every s-th pixel;
* ``nchw_to_cnp``  (N, C, P) -> (C, N*P), the GEMM layout of an input / gradient;
* ``col2im_add``   (C_out*kH*kW, N*H*W) GEMM result -> NCHW by per-channel shifted adds -- the
                   *output-side* formulation (see conv_transpose2d.py);
* ``unpack_phases`` every stride phase's GEMM result -> NCHW (+ bias), row by row;
* ``fill_bias``    output phases no tap reaches;
* ``gather_phase_weight``  a stride phase's sub-kernel of a transposed-conv weight, as a GEMM operand;
* ``tap_tables``   per-tap (input, output) position pairs for the table loops of ``pack_cols`` and
                   ``col2im_add`` (cached per geometry: ``cached_tap_tables``).

Performance note (measured): indexing with a computed *signed* expression (``row[o + qw]``) makes
Numba emit a negative-index fix-up per access, which blocks LLVM's vectoriser. Two cures: run the
loop over a slice with a plain ``range`` index (1.6x faster packs, 2x faster col2im than the signed
form), or hold the flat index as ``uint64`` (no fix-up at all; the im2col pack ``_pack_padded`` is
another 1.4x faster that way than over slices).

``pack_cols`` -- generalised im2col (strided / short windows: a per-tap table gather straight from
x that zero-fills the padding; long stride-1 rows: x padded first, then branch-free row copies)
    cols[(c, th, tw), (n, qh, qw)] = x[n, c, qh*step_h + offh[th], qw*step_w + offw[tw]]
    (zero where the index falls outside x).  ``cols`` has shape (C*Th*Tw, N*Qh*Qw): row-major,
    one row per (channel, tap), which is the right operand of ``W(C_out, C*Th*Tw) @ cols``.
    * conv2d:  step = stride, offh[kh] = kh - pad_h (the classic im2col).
    * conv_transpose2d, output phase (rh, rw): step = 1, offh[th] = the input-row offset of tap th
      (stride-phase decomposition, see conv_transpose2d.py).
    Bytes: writes C*Th*Tw*N*Qh*Qw elements, reads each element of x about Th*Tw/(step_h*step_w)
    times (from cache).  No FLOPs.
    Loop shape: over the C*Th*Tw rows of cols -- each streams one row (N*Qh*Qw contiguous
    elements), reading the window of each (n, c) plane of x.

``unpack_rows`` -- GEMM result (C_out, N*Qh*Qw) -> y[n, co, r_h + qh*s_h, r_w + qw*s_w] (+ bias)
    Writes N*C_out*Qh*Qw elements, reads the same number.  For conv2d s = 1, r = 0 and it is the
    (C_out, N, P) -> (N, C_out, P) transpose; for a transposed-convolution phase it writes every
    s-th row and column of the output.
    Loop shape: over the N*C_out output planes.
"""
import os
import threading
from collections import OrderedDict
from contextlib import contextmanager

import numpy as np
from numba import njit, uint64

from ._workers import run_over_batch, scratch

# Rows narrower than this take the per-tap table loops (``_pack_gather``, col2im's table loop: the
# DCGAN's 7- and 14-wide rows); wider stride-1 rows (its 28-wide ones) the contiguous row copies,
# whose per-row setup only pays off on long rows.
SHORT_ROW = 16


def c_order(*arrays):
    """The entry points' arrays in C order (the same objects when already, ~0.2 us each; None
    kept): the Numba packers are compiled for C-order arrays, while the reference kernels, whose
    contract these share, take any layout -- a transposed or sliced view is copied here once."""
    return tuple(a if a is None else np.ascontiguousarray(a) for a in arrays)


@njit(nogil=True, cache=True)
def _pad_planes(x, pt, pl, out):
    """out[n, c] = x[n, c] placed at (pt, pl) in a zero plane of out's size."""
    N, C, H, W = x.shape
    Hp, Wp = out.shape[2], out.shape[3]
    zero = out.dtype.type(0)
    for t in range(N * C):
        n = t // C
        c = t - n * C
        for i in range(Hp):
            for j in range(Wp):
                out[n, c, i, j] = zero
        for i in range(H):
            for j in range(W):
                out[n, c, i + pt, j + pl] = x[n, c, i, j]


@njit(nogil=True, cache=True)
def _pack_padded(xp, offh, offw, step_h, Qh, Qw, cols):
    """cols[(c, th, tw), (n, qh, qw)] = xp[n, c, qh*step_h + offh[th], qw + offw[tw]] for long
    stride-1 rows (28 wide at the DCGAN's shapes): xp is padded, so every index is in range and
    each window row is one contiguous copy, which LLVM vectorises (0.24 ns/element).

    Flat indices are held as uint64: Numba emits a negative-index wrap-around fix-up for every
    signed index, unsigned ones index directly (measured: the copies ran 1.4x faster)."""
    N, C, Hp, Wp = xp.shape
    Th = offh.shape[0]
    Tw = offw.shape[0]
    T = Th * Tw
    xf = xp.reshape(-1)
    cf = cols.reshape(-1)
    ncols = cols.shape[1]
    for r in range(C * T):
        c = r // T
        t = r - c * T
        th = t // Tw
        tw = t - th * Tw
        out = uint64(r) * uint64(ncols)
        for n in range(N):
            src = uint64((n * C + c) * Hp * Wp + offh[th] * Wp + offw[tw])
            for qh in range(Qh):
                row = src + uint64(qh * step_h * Wp)
                for qw in range(Qw):
                    cf[out + uint64(qw)] = xf[row + uint64(qw)]
                out += uint64(Qw)


@njit(nogil=True, cache=True)
def _pack_gather(x, Th, Tw, Q, count, x_pos, q_pos, cols):
    """cols[(c, th, tw), (n, q)] = x[n, c] at tap (th, tw)'s window position q, zero where that
    falls in the padding -- for strided or short window rows (the DCGAN's 7- and 14-wide stride-2
    windows), straight from the unpadded x through per-tap tables: a tap whose window lies
    inside x (most of them) is one gather loop over the Q positions; a border tap zero-fills its
    segment and then gathers its count[t] inside positions (``x_pos``: offsets in the x plane
    read, ``q_pos``: the window positions they fill).  Measured per element, one thread,
    against padding x first and gathering from the padded copy: 0.75 -> 0.44 ns at D 64->128's
    14 -> 7, 0.52 -> 0.45 ns at G 128->64's 28 -> 14 (and 0.9 ns for Qh loops of Qw copies).
    LLVM compiles the table loop to scalar loads (no gather instructions in its assembly).  An AVX-512
    gather of 16 elements per instruction (``llvm.masked.gather`` through a Numba intrinsic; a
    prototype, not kept) was measured at 0.68 against 0.79 ns per element for this loop on its own
    benchmark shape (a different one from the 0.44-0.45 ns above) -- 14%, too little for the
    hand-written LLVM IR it takes, so the loop stays plain Numba."""
    N, C = x.shape[0], x.shape[1]
    plane = x.shape[2] * x.shape[3]
    T = Th * Tw
    xf = x.reshape(-1)
    cf = cols.reshape(-1)
    ncols = cols.shape[1]
    zero = cols.dtype.type(0)
    for r in range(C * T):
        c = r // T
        t = r - c * T
        n_t = count[t]
        x_t = x_pos[t]
        q_t = q_pos[t]
        out = uint64(r) * uint64(ncols)
        for n in range(N):
            base = uint64((n * C + c) * plane)
            if n_t == Q:                                 # q_t[e] == e: a contiguous segment
                for e in range(Q):
                    cf[out + uint64(e)] = xf[base + x_t[e]]
            else:
                for e in range(Q):
                    cf[out + uint64(e)] = zero
                for e in range(n_t):
                    cf[out + q_t[e]] = xf[base + x_t[e]]
            out += uint64(Q)


@njit(inline="always", cache=True)
def _split_columns(xf, plane, H, W, step, Wp, pf):
    """pf[(p, h, k)] = x plane's [h, k*step + p]: the plane's columns by phase (a stride-2 pair
    of loads and stores per element pair, which LLVM turns into vector shuffles)."""
    for h in range(H):
        row = uint64(plane + h * W)
        if step == 2:
            ev = uint64(h * Wp)
            od = uint64((H + h) * Wp)
            for k in range(W // 2):
                pf[ev + uint64(k)] = xf[row + uint64(2 * k)]
                pf[od + uint64(k)] = xf[row + uint64(2 * k + 1)]
            if W % 2:
                pf[ev + uint64(W // 2)] = xf[row + uint64(W - 1)]
            continue
        for p in range(min(step, W)):
            dst = uint64((p * H + h) * Wp)
            for k in range((W - p + step - 1) // step):
                pf[dst + uint64(k)] = xf[row + uint64(k * step + p)]


@njit(nogil=True, cache=True)
def _pack_strided_rows(x, offh, offw, step_h, step_w, Qh, Qw, cols):
    """cols[(c, th, tw), (n, qh, qw)] = x[n, c, qh*step_h + offh[th], qw*step_w + offw[tw]], zero
    outside x -- for wide strided window rows (a ResNet's 3x3 stride-2 downsampling, 16 wide).
    Each (n, c) plane of x is first split by column phase (``_split_columns``: the columns
    p, p + step, ... of a row side by side, in L1), so that every tap's window row is a zero head,
    one *contiguous* copy from its phase and a zero tail (a row above or below x: zeros).  The
    table gather (``_pack_gather``) or a strided copy straight from x compile to scalar loads or
    AVX-512 gathers: (2, 128, 32, 32) k3 s2 p1, one thread: 0.25 (gather) -> 0.17 ms."""
    N, C, H, W = x.shape
    Th, Tw = offh.shape[0], offw.shape[0]
    Wp = (W + step_w - 1) // step_w
    pf = np.empty(step_w * H * Wp, dtype=x.dtype)
    xf = x.reshape(-1)
    cf = cols.reshape(-1)
    ncols = cols.shape[1]
    zero = cols.dtype.type(0)
    for c in range(C):
        for n in range(N):
            _split_columns(xf, (n * C + c) * H * W, H, W, step_w, Wp, pf)
            for th in range(Th):
                a_h = offh[th]
                qh_lo, qh_hi = _input_range(a_h, step_h, H, Qh)   # window rows inside x
                for tw in range(Tw):
                    a_w = offw[tw]
                    qw_lo, qw_hi = _input_range(a_w, step_w, W, Qw)
                    inside = max(0, qw_hi - qw_lo)
                    phase = a_w % step_w
                    k0 = (qw_lo * step_w + a_w - phase) // step_w    # qw_lo's column in its phase
                    out = uint64(((c * Th + th) * Tw + tw) * ncols + n * Qh * Qw)
                    for qh in range(Qh):
                        if qh < qh_lo or qh >= qh_hi or inside == 0:
                            for qw in range(Qw):
                                cf[out + uint64(qw)] = zero
                        else:
                            for qw in range(qw_lo):
                                cf[out + uint64(qw)] = zero
                            src = uint64((phase * H + qh * step_h + a_h) * Wp + k0)
                            dst = out + uint64(qw_lo)
                            for k in range(inside):
                                cf[dst + uint64(k)] = pf[src + uint64(k)]
                            for qw in range(qw_lo + inside, Qw):
                                cf[out + uint64(qw)] = zero
                        out += uint64(Qw)


# tap_tables' results by geometry, least recently used first: a training loop asks for the same
# few geometries at every step (a DCGAN step: 49 calls, 3 geometries, ~2 ms of Numba loops), and
# pack_cols once per chunk of every call.  Bounded by bytes (the tables of one 64x64 k4 layer are
# ~1 MB); the entries are read-only by convention (the kernels only read them).
TABLES_BUDGET = 32 << 20
_tables: "OrderedDict[tuple, tuple]" = OrderedDict()
_tables_bytes = [0]
_tables_lock = threading.Lock()


def _fresh_lock_in_child() -> None:      # a fork while another thread held the lock would leave
    global _tables_lock                 # the child's copy locked forever
    _tables_lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_lock_in_child)


def cached_tap_tables(kH, kW, s_h, s_w, aoffh, aoffw, H, W, OH, OW):
    """``tap_tables(...)``, computed once per geometry (see ``_tables``)."""
    key = (kH, kW, s_h, s_w, aoffh.tobytes(), aoffw.tobytes(), H, W, OH, OW)
    with _tables_lock:
        tables = _tables.get(key)
        if tables is not None:
            _tables.move_to_end(key)
            return tables
    tables = tap_tables(kH, kW, s_h, s_w, aoffh, aoffw, H, W, OH, OW)
    size = sum(t.nbytes for t in tables)
    with _tables_lock:
        if key not in _tables and size <= TABLES_BUDGET:
            _tables[key] = tables
            _tables_bytes[0] += size
            while _tables_bytes[0] > TABLES_BUDGET:
                _, old = _tables.popitem(last=False)
                _tables_bytes[0] -= sum(t.nbytes for t in old)
    return tables


def pack_cols(x, offh, offw, step_h, step_w, Qh, Qw, name="cols"):
    """im2col into the calling thread's scratch buffer `name` (see the module docstring); returns
    cols (C*Th*Tw, N*Qh*Qw).  Strided or short window rows: a table gather straight from x
    (``_pack_gather``).  Long stride-1 rows: x padded first (only when some tap reaches outside
    it -- a cheap pass over x), then branch-free contiguous row copies (``_pack_padded``)."""
    N, C, H, W = x.shape
    cols = scratch(name, (C * offh.shape[0] * offw.shape[0], N * Qh * Qw), x.dtype)
    if step_w != 1 and Qw >= SHORT_ROW:
        _pack_strided_rows(x, offh, offw, step_h, step_w, Qh, Qw, cols)
        return cols
    if step_w != 1 or Qw < SHORT_ROW:
        # col2im's tap tables with the roles exchanged: the window (Qh x Qw) is the dense side and
        # window position q reads x at q*step + offset -- pairs (q, x offset) per tap.
        Th, Tw = offh.shape[0], offw.shape[0]
        count, q_pos, x_pos = cached_tap_tables(Th, Tw, step_h, step_w, offh, offw, Qh, Qw, H, W)
        _pack_gather(x, Th, Tw, Qh * Qw, count, x_pos, q_pos, cols)
        return cols
    x, pt, pl = padded_for(x, offh, offw, step_h, Qh, Qw, "padded")
    _pack_padded(x, offh + pt, offw + pl, step_h, Qh, Qw, cols)
    return cols


def padded_for(x, offh, offw, step_h, Qh, Qw, name):
    """(x zero-padded so that every window row of ``pack_cols``' stride-1 row copies lies inside
    it -- in scratch buffer `name`, or x itself when none reaches outside --, top, left padding)."""
    N, C, H, W = x.shape
    pt = max(0, -int(offh.min()))
    pb = max(0, (Qh - 1) * step_h + int(offh.max()) - (H - 1))
    pl = max(0, -int(offw.min()))
    pr = max(0, (Qw - 1) + int(offw.max()) - (W - 1))
    if not (pt or pb or pl or pr):
        return x, 0, 0
    xp = scratch(name, (N, C, H + pt + pb, W + pl + pr), x.dtype)
    _pad_planes(x, pt, pl, xp)
    return xp, pt, pl


@njit(nogil=True, cache=True)
def unpack_rows(Y, bias, has_bias, r_h, r_w, s_h, s_w, Qh, Qw, y):
    """y[n, co, r_h + qh*s_h, r_w + qw*s_w] = Y[co, (n, qh, qw)] + bias[co] (see the module doc)."""
    N, Co, OH, OW = y.shape
    Q = Qh * Qw
    dense = s_h == 1 and s_w == 1 and Q == OH * OW     # conv2d: each plane is one contiguous run
    yf = y.reshape(-1)
    for n in range(N):
        for co in range(Co):
            b = bias[co] if has_bias else Y.dtype.type(0)
            src_row = Y[co]
            if dense:
                # one loop of OH*OW (196 at D 1->64) instead of OH loops of OW (14): 0.31 -> 0.11 ms
                # per 32 images of D 1->64 (one thread)
                src = src_row[n * Q:n * Q + Q]
                dst = yf[(n * Co + co) * Q:(n * Co + co) * Q + Q]
                for q in range(Q):
                    dst[q] = src[q] + b
                continue
            for qh in range(Qh):
                src = src_row[n * Q + qh * Qw:n * Q + qh * Qw + Qw]
                dst = y[n, co, r_h + qh * s_h, r_w:r_w + (Qw - 1) * s_w + 1:s_w]
                for qw in range(Qw):
                    dst[qw] = src[qw] + b


@njit(nogil=True, cache=True)
def unpack_phases(Yf, starts, Qws, bias, has_bias, s_h, s_w, y):
    """y[n, co, r_h + qh*s_h, r_w + qw*s_w] = Y_r[co, (n, qh, qw)] + bias[co] for every stride phase
    r = r_h*s_w + r_w at once (bias alone where ``starts[r] < 0``: no tap reaches the phase).
    Y_r (C_out, N*Qh_r*Qw_r) lies in the flat ``Yf`` from ``starts[r]``.  Each output row is
    written once, in order, from the s_w phases that share it (a row is in L1 while its
    interleaved columns arrive): one ``unpack_rows`` pass per phase wrote every s-th element of
    the whole chunk of y s_h*s_w times over -- 2.5 of a (8, 128, 32, 32) stride-2 3x3 conv's
    input gradient's 12 ms, against 0.4 ms here."""
    N, Co, OH, OW = y.shape
    yf = y.reshape(-1)
    zero = y.dtype.type(0)
    for n in range(N):
        for co in range(Co):
            b = bias[co] if has_bias else zero
            for oh in range(OH):
                qh = oh // s_h
                row = uint64(((n * Co + co) * OH + oh) * OW)
                for rw in range(min(s_w, OW)):
                    r = (oh - qh * s_h) * s_w + rw
                    if starts[r] < 0:
                        for ow in range(rw, OW, s_w):
                            yf[row + uint64(ow)] = b
                        continue
                    Qw = Qws[r]
                    Q = ((OH - (oh - qh * s_h) + s_h - 1) // s_h) * Qw
                    src = uint64(starts[r] + (co * N + n) * Q + qh * Qw)
                    dst = row + uint64(rw)
                    for qw in range(Qw):
                        yf[dst + uint64(qw * s_w)] = Yf[src + uint64(qw)] + b


@njit(nogil=True, cache=True)
def fill_bias(bias, has_bias, r_h, r_w, s_h, s_w, y):
    """y[n, co, r_h::s_h, r_w::s_w] = bias[co] (or 0): the output phases no kernel tap reaches."""
    N, Co, OH, OW = y.shape
    for task in range(N * Co):
        n = task // Co
        co = task - n * Co
        b = bias[co] if has_bias else y.dtype.type(0)
        for oh in range(r_h, OH, s_h):
            for ow in range(r_w, OW, s_w):
                y[n, co, oh, ow] = b


@njit(nogil=True, cache=True)
def nchw_to_cnp(x, out):
    """out[c, n*P + p] = x[n, c, p]: (N, C, P) -> (C, N*P), the GEMM layout of a gradient."""
    N, C, P = x.shape
    for task in range(C * N):
        c = task // N
        n = task - c * N
        src = x[n, c]
        dst = out[c, n * P:n * P + P]
        for p in range(P):
            dst[p] = src[p]


@njit(nogil=True, cache=True)
def gather_phase_weight(w, khs, kws, out):
    """out[co, (ci, th, tw)] = w[ci, co, khs[th], kws[tw]]: a stride phase's sub-kernel of a
    transposed-conv weight (C_in, C_out, kH, kW), laid out as the left GEMM operand, written
    straight into ``out`` (a scratch buffer) -- one pass, no temporary: NumPy's fancy index then
    transposed copy allocated two weight-sized arrays per call, ~4 ms per MB in page faults.
    It is a transpose of the (ci, co) axes: done in 16 x 16 blocks of them, so that the blocks'
    reads and writes both stay in L1, with uint64 flat indices (no negative-index fix-up) --
    0.85 -> 0.22 ms for a 256 -> 256 3x3 weight (a stride-1 conv2d's input gradient)."""
    Ci, Co, kH, kW = w.shape
    Th, Tw = khs.shape[0], kws.shape[0]
    T = Th * Tw
    taps = np.empty(T, dtype=np.uint64)          # the taps' offsets in a (kH, kW) plane of w
    for th in range(Th):
        for tw in range(Tw):
            taps[th * Tw + tw] = uint64(khs[th] * kW + kws[tw])
    wf = w.reshape(-1)
    of = out.reshape(-1)
    B = 16
    for co0 in range(0, Co, B):
        for ci0 in range(0, Ci, B):
            for co in range(co0, min(co0 + B, Co)):
                for ci in range(ci0, min(ci0 + B, Ci)):
                    src = uint64((ci * Co + co) * kH * kW)
                    dst = uint64((co * Ci + ci) * T)
                    for t in range(T):
                        of[dst + uint64(t)] = wf[src + taps[t]]


@njit(inline="always", cache=True)
def _input_range(a, s, out_len, in_len):
    """Input indices i with 0 <= i*s + a < out_len, as a half-open range [lo, hi) within [0, in_len)."""
    lo = (-a + s - 1) // s if a < 0 else 0     # ceil(-a / s): the first i with i*s + a >= 0
    # floor((out_len - 1 - a) / s) is the last i with i*s + a <= out_len - 1; + 1: exclusive
    hi = min(in_len, (out_len - 1 - a) // s + 1) if out_len - 1 - a >= 0 else 0
    return lo, hi


@njit(nogil=True, cache=True)
def tap_tables(kH, kW, s_h, s_w, aoffh, aoffw, H, W, OH, OW):
    """For each tap t = (kh, kw): the input positions ih*W + iw whose product lands inside the
    output, and the output positions oh*OW + ow they land on (oh = ih*s_h + aoffh[kh]) -- count[t]
    pairs each.  Used both ways round: by ``col2im_add`` (input = the GEMM's dense positions,
    output = the image) and by ``pack_cols`` (input = the im2col window, output = the x plane it
    reads)."""
    kk = kH * kW
    count = np.zeros(kk, dtype=np.int64)
    src = np.empty((kk, H * W), dtype=np.uint64)
    dst = np.empty((kk, H * W), dtype=np.uint64)
    for kh in range(kH):
        for kw in range(kW):
            t = kh * kW + kw
            e = 0
            for ih in range(H):
                oh = ih * s_h + aoffh[kh]
                if oh < 0 or oh >= OH:
                    continue
                for iw in range(W):
                    ow = iw * s_w + aoffw[kw]
                    if 0 <= ow < OW:
                        src[t, e] = uint64(ih * W + iw)
                        dst[t, e] = uint64(oh * OW + ow)
                        e += 1
            count[t] = e
    return count, src, dst


@njit(nogil=True, cache=True)
def col2im_add(Z, kH, kW, s_h, s_w, aoffh, aoffw, bias, has_bias, H, W, tables, y):
    """Output-side convolution: y[n, co] = bias + sum over taps of shifted GEMM rows.

    Z (C_out*kH*kW, N*H*W) holds, for every kernel tap (co, kh, kw) and every *input* position
    (n, ih, iw), the partial product sum_ci w[.., ci, kh, kw] * x[n, ci, ih, iw].  Tap (kh, kw) of
    input (ih, iw) lands on output (ih*s_h + aoffh[kh], iw*s_w + aoffw[kw]) (dropped if outside):
    * conv_transpose2d:       aoff[k] = k - pad (any stride);
    * conv2d with stride 1:   aoff[k] = pad - k.
    For each output channel and image it fills the bias, then, tap by tap, adds the tap's Z row
    segment (the kH*kW rows of one channel are adjacent in Z) into the output plane (in L1).  The
    calling thread owns these images, so the "scatter" has no races and needs no atomics.
    Two loop shapes, as in the im2col pack (measured per chunk, one thread):
    * strided or narrow inputs (the DCGAN's stride-2 layers, 7 and 14 wide): one loop per tap over
      a table of (input, output) position pairs (``tables``, from ``col2im_tables`` once per call)
      -- 0.42 -> 0.21 ms at G 256->128 (4 images),
      0.32 -> 0.25 ms at G 128->64 (2 images);
    * wide stride-1 inputs (G's 64->1 3x3 layer, 28 wide): a loop per row over plain slices
      (0.033 ms; the table took 0.045).
    Reads C_out*kH*kW*N*H*W elements, writes N*C_out*OH*OW.
    """
    N, Co, OH, OW = y.shape
    HW = H * W
    O = OH * OW
    kk = kH * kW
    tabled, count, src, dst = tables
    zf = Z.reshape(-1)
    yf = y.reshape(-1)
    ncols = Z.shape[1]
    for co in range(Co):
        b = bias[co] if has_bias else y.dtype.type(0)
        for n in range(N):
            plane = uint64((n * Co + co) * O)
            for o in range(O):
                yf[plane + uint64(o)] = b
            for kh in range(kH):
                a_h = aoffh[kh]
                for kw in range(kW):
                    t = kh * kW + kw
                    zb = uint64((co * kk + t) * ncols + n * HW)
                    if tabled:
                        src_t = src[t]
                        dst_t = dst[t]
                        for e in range(count[t]):
                            yf[plane + dst_t[e]] += zf[zb + src_t[e]]
                        continue
                    a_w = aoffw[kw]
                    ih_lo, ih_hi = _input_range(a_h, s_h, OH, H)
                    iw_lo, iw_hi = _input_range(a_w, s_w, OW, W)
                    cnt = iw_hi - iw_lo
                    if cnt <= 0:
                        continue
                    for ih in range(ih_lo, ih_hi):
                        zs = zf[zb + uint64(ih * W + iw_lo):zb + uint64(ih * W + iw_lo + cnt)]
                        row = (n * Co + co) * O + (ih * s_h + a_h) * OW + iw_lo * s_w + a_w
                        dst_row = yf[row:row + (cnt - 1) * s_w + 1:s_w]
                        for i in range(cnt):
                            dst_row[i] += zs[i]


# ---------------------------------------------------------------------------- Python-side helpers
# Elements of scratch (packed operand + GEMM result) per chunk of images that one thread packs,
# multiplies and unpacks in a row (see _workers.py): 1 Mi elements, 4 MiB of float32 -- four times
# one core's L2 (1 MiB; twice the two cores' L2 together), so a chunk is reused from L2 and the shared L3, not from L2 alone; the
# size is what the timings chose, not a cache model.  Measured (2 threads, batch 64, median of 9, ms;
# budget 2^18 / 2^19 / 2^20 / 2^21): G convT 256->128 forward 18.7 / 16.8 / 16.1 / 15.0,
# 128->64 forward 20.3 / 19.2 / 19.1 / 19.8, D 64->128 forward 5.9 / 5.2 / 5.0 / 5.1 -- flat
# from 2^19 up, within the run-to-run noise (about 1 ms).
COLS_BUDGET = 1 << 20

# None: each call picks the formulation its cost model says is cheaper (element counts, or
# modelled nanoseconds in conv2d.py).  "input" / "output" force one (where it applies) -- for
# tests and benchmarks.
FORMULATION = None

# Below this reduction length (N*P summed over the batch) a weight gradient is taken as A @ B.T
# even where B has more rows (``conv2d._sum_of_a_bt``): the (B @ A.T) orientation saves a fraction
# of the GEMM, but its result must then be transposed into a fresh weight-sized array -- a
# HiFi-GAN 1024->1024 k5 conv1d on 2 x 8 positions spent 68 ms on that copy after a 3 ms GEMM.
# (Tests set it to 0 to take the flipped orientation on small shapes too.)
FLIP_MIN_REDUCTION = 2048


# At and above this many elements ``transposed_copy`` transposes in cache-sized tiles (Numba);
# below, NumPy's copy of the transposed view is as fast or faster.  Measured (one thread, float32,
# median of 60, ms; NumPy / tiles): (1024, 64) 0.047 / 0.074, (1024, 128) 0.082 / 0.095,
# (2048, 256) 0.94 / 0.40 -- NumPy walks the source down its columns, a cache miss per element
# once the array outgrows the cache.
TILED_TRANSPOSE_MIN_ELEMENTS = 1 << 18
_TILE = 32


@njit(nogil=True, cache=True)
def _transpose_tiles(a, out):
    """out = a.T, one 32 x 32 tile at a time: a tile's 32 source rows stay in cache while its
    columns are written out as contiguous output rows."""
    R, C = a.shape
    for i0 in range(0, R, _TILE):
        i1 = min(i0 + _TILE, R)
        for j0 in range(0, C, _TILE):
            j1 = min(j0 + _TILE, C)
            for j in range(j0, j1):
                for i in range(i0, i1):
                    out[j, i] = a[i, j]


def transposed_copy(a):
    """a.T (a 2-D, C-contiguous) as a fresh C-contiguous array: the same values as
    ``np.ascontiguousarray(a.T)``, tiled for large float arrays (a weight gradient taken in the
    flipped orientation: D's 64->128 and G's 256->128, 0.5 and 2 MiB)."""
    if a.size < TILED_TRANSPOSE_MIN_ELEMENTS or a.dtype not in (np.float32, np.float64) \
            or not a.flags.c_contiguous:
        return np.ascontiguousarray(a.T)
    out = np.empty(a.shape[::-1], dtype=a.dtype)
    _transpose_tiles(a, out)
    return out


def prefer_output_side(input_side_cost, output_side_cost):
    """Whether the output-side formulation wins: the smaller of two costs in the same unit
    (element counts or modelled ns), unless FORMULATION forces one."""
    if FORMULATION is not None:
        return FORMULATION == "output"
    return output_side_cost < input_side_cost


def bias_arg(b, dtype):
    if b is None:
        return np.zeros(1, dtype=dtype), False
    return np.ascontiguousarray(b, dtype=dtype), True


def matmul(a, b, name):
    """a @ b into the calling thread's scratch buffer `name` (no allocation per chunk)."""
    return matmul_into(a, b, scratch(name, (a.shape[0], b.shape[1]), np.result_type(a, b)))


def matmul_into(a, b, out):
    """a @ b into ``out`` (recorded for ``record_gemms`` like ``matmul``)."""
    if _gemm_log is not None:
        _gemm_log.append((threading.get_ident(), _layout(a), _layout(b), out.dtype.str))
    return np.matmul(a, b, out=out)


# ------------------------------------------------------------------ GEMM trace (benchmarks only)
# ``benchmarks.kernels`` times the bare GEMMs a convolution issues -- same shapes, operand layouts
# and threads, no packing -- to show how much of a convolution's time is data movement.
_gemm_log: list | None = None


def _layout(a):
    """(shape, transposed): an operand is C-contiguous or the transpose of one (BLAS's two cases)."""
    return a.shape, not a.flags.c_contiguous


@contextmanager
def record_gemms():
    """Collect, per thread in the order the threads first multiply, the (a, b, dtype) operand
    layouts of every GEMM that the convolution kernels run inside the ``with`` block."""
    global _gemm_log
    log, _gemm_log = [], []
    per_thread: dict = {}
    try:
        yield per_thread
    finally:
        log, _gemm_log = _gemm_log, None
        for ident, a, b, dtype in log:
            per_thread.setdefault(ident, []).append((a, b, dtype))


def transposed_input(x, name):
    """(N, C, H, W) -> (C, N*H*W) in scratch: the right operand of an output-side GEMM."""
    N, C = x.shape[:2]
    P = x.shape[2] * x.shape[3]
    Xt = scratch(name, (C, N * P), x.dtype)
    nchw_to_cnp(x.reshape(N, C, P), Xt)
    return Xt


# A 1x1, stride-1, unpadded convolution needs no im2col: each image's (C, H*W) plane block is
# already a GEMM operand.  From this many pixels per image up, it multiplies each image in place
# (``pointwise``); below, the per-image GEMMs get too narrow and the packed path's one GEMM per
# chunk wins.  A round number, not a swept optimum.
POINTWISE_MIN_AREA = 64


def is_pointwise(kernel_hw, stride, padding, in_hw, out_hw) -> bool:
    """Whether a convolution is a per-pixel channel mix that ``pointwise`` runs."""
    return (tuple(kernel_hw) == (1, 1) and tuple(stride) == (1, 1) and tuple(padding) == (0, 0)
            and tuple(in_hw) == tuple(out_hw) and in_hw[0] * in_hw[1] >= POINTWISE_MIN_AREA)


def pointwise(x, w2, b):
    """y[n] = w2 @ x[n] + b[:, None] for x (N, C_in, H, W) as (N, C_in, H*W) and w2 (C_out, C_in)
    (a transposed view is fine): one GEMM per image straight from x into y -- no im2col copy and
    no unpack transpose (a (8, 256, 16, 16) -> 128 1x1 conv, one thread, medians: forward
    2.1-2.4 -> 1.7 ms, input gradient 2.1-2.4 -> 1.6-1.8 ms).  Its weight gradient keeps the packed
    path: per-image GEMMs (a reduction of H*W each) were slower there than one long reduction."""
    N, C, H, W = x.shape
    Co = w2.shape[0]
    x3 = x.reshape(N, C, H * W)
    y = np.empty((N, Co, H, W), dtype=x.dtype)
    y3 = y.reshape(N, Co, H * W)
    bias = None if b is None else np.asarray(b, dtype=x.dtype)[:, None]

    def body(n0, n1):
        for n in range(n0, n1):
            matmul_into(w2, x3[n], y3[n])
            if bias is not None:
                y3[n] += bias                      # while the image's result is in cache

    run_over_batch(N, (C + Co) * H * W, COLS_BUDGET, body)
    return y


def col2im_tables(kH, kW, stride, aoffh, aoffw, in_hw, out_hw):
    """``col2im_add``'s loop choice and, for the table loop, its per-tap position tables."""
    H, W = in_hw
    tabled = stride[1] != 1 or W < SHORT_ROW
    if not tabled:                   # the slice loop needs none: empty tables of the same types
        H = W = 0
    return (tabled,) + cached_tap_tables(kH, kW, stride[0], stride[1], aoffh, aoffw, H, W, *out_hw)


def output_side(x, Wt, kernel_hw, stride, aoffh, aoffw, b, out_hw):
    """y = col2im_add(Wt @ x^T): one GEMM producing every tap's contribution at every input
    position, then the per-plane shifted add; chunks of images run on all threads.  Wt is
    (C_out*kH*kW, C_in) (a transposed view is fine: BLAS takes the transpose flag)."""
    N, Cin, H, W = x.shape
    kH, kW = kernel_hw
    Co = Wt.shape[0] // (kH * kW)
    bias, has_bias = bias_arg(b, x.dtype)
    y = np.empty((N, Co) + tuple(out_hw), dtype=x.dtype)

    tables = col2im_tables(kH, kW, stride, aoffh, aoffw, (H, W), out_hw)

    def body(n0, n1):
        Z = matmul(Wt, transposed_input(x[n0:n1], "Xt"), "Z")
        col2im_add(Z, kH, kW, stride[0], stride[1], aoffh, aoffw, bias, has_bias, H, W, tables,
                   y[n0:n1])

    run_over_batch(N, (Wt.shape[0] + Cin) * H * W, COLS_BUDGET, body)
    return y
