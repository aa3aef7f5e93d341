"""Batch normalization, forward (train / eval) and backward, with an optional leaky ReLU fused into
the same passes -- as per-channel Numba kernels.

One set of kernels serves both contract entry points: ``batch_norm_leaky_relu`` applies
y = z if z >= 0 else slope*z to the normalised z in the pass that writes it (and folds the
mask into the backward's sums and gx pass), and plain ``batch_norm`` is the same kernel with
slope 1, where that select is the identity (z*1.0 == z exactly; it costs nothing in these
memory-bound loops).

x is viewed as (N, C, L) -- L = H*W for (N, C, H, W), L = 1 for (N, C) -- and M = N*L values per
channel.  Per-channel sums end in float64 whatever the data type (float32 data keeps its 4-byte
traffic): the forward's sums convert every element, the backward's add partial sums of at most
256 values, taken in the data type, into float64 (see the backward reductions).

Fusion: one task owns a channel (or, for (N, C), a block of 256 adjacent channels) and does both
of its passes back to back -- reduce, then the elementwise pass -- while the channel's data is
still in L2 (a DCGAN channel is N*L*4 = 12-200 KB per array at batch 64; L2 is 1 MiB per core).
So DRAM sees each input once and each output once:

forward, training   reduce:     shifted sums S1 = sum(x - k), S2 = sum((x - k)^2), k = the channel's
                                first value (no cancellation when |mean| >> std);
                                mean = k + S1/M, var = S2/M - (S1/M)^2 (biased), invstd.
                    normalise:  z = (x - mean) * (invstd*w) + b,  y = z if z >= 0 else slope*z
                    ~9 FLOP/element (4 in the sums, 5 in the normalise-and-select pass);
                    DRAM bytes 2*E*itemsize (read x, write y) -- the unfused pair (batch_norm,
                    then leaky_relu re-reading y) moves 4*E*itemsize.
                    Running statistics are updated afterwards (C-sized vectors): momentum,
                    unbiased var * M/(M-1) (M/1 when M == 1, as the reference).
forward, eval       normalise only, with the running statistics.
backward            reduce:     z recomputed, g = gy * (1 where z > 0 else slope),
                                gb = sum(g), gw = invstd * sum(g*(x - mean))
                    gx:         training  a*(g - gb/M) - a*invstd^2*sum(g*(x-mean))/M * (x - mean)
                                eval      a*g            (a = w*invstd)
                                (g - gb/M) first, as torch and the reference: a channel whose
                                gradient is uniform then gets exactly 0, not a*g - a*gb/M's
                                rounding noise amplified by a large invstd)
                    ~17 FLOP/element (8 in the masked sums, 9 in the gx pass; z's recomputation,
                    3 of each); DRAM bytes 3*E*itemsize (read gy and x, write gx) --
                    unfused 6*E*itemsize (leaky_relu_backward writes gz, batch_norm reads it).
(E = N*C*L; a compare and a select's multiply count as a FLOP each, as in every kernel file.)
The reference, batch_norm then leaky_relu as whole-array NumPy passes, makes about 9 sweeps each
way for batch norm alone, plus temporaries (reference/batchnorm.py).

The mask must be the forward's, bit for bit: z is computed from the values the backward receives
-- m = mean (dtype), mul = dtype(float64(invstd) * w), add = dtype(b) -- by the same dtype
expression ``(x - m) * mul + add`` in the forward, the gx pass and the reductions.  The masked
reductions therefore carry only fastmath 'reassoc' (vectorised sums), not 'contract', which could
fuse z's multiply-add into an FMA and round it differently.

Launch shape: ``prange`` over channels (or over 256-channel blocks for (N, C)); every thread owns
whole channels -- no atomics, deterministic results.  The reductions are separate @njit helpers
compiled with fastmath flags (re-ordering a sum = float rounding), so they vectorise; the
elementwise arithmetic is compiled strictly.
"""
import numpy as np
from numba import njit, prange

from ._threads import parallel_kernel, serial_below_threshold

_RED = {"reassoc", "contract"}
_BLOCK = 256
_CHUNK = 256   # the backward's sums: dtype partials over <= _CHUNK values, then float64


# ---------------------------------------------------------------------------- reductions
# (separate functions so that only they carry fastmath flags; Numba-IR inlining would drop them)
@njit(cache=True, fastmath=_RED)
def _sums_x(x, c):
    """Shifted sums of channel c of an (N, C, L) x: (sum(x - k), sum((x - k)^2), k = x[0, c, 0])."""
    N, _, L = x.shape
    k = np.float64(x[0, c, 0])
    a1 = 0.0
    a2 = 0.0
    for n in range(N):
        xr = x[n, c]                      # plane slices: plain range indices vectorise
        for l in range(L):
            d = np.float64(xr[l]) - k
            a1 += d
            a2 += d * d
    return a1, a2, k


@njit(cache=True, fastmath=_RED)
def _sums_x2(x, c0, c1, a1, a2, k):
    """_sums_x for channels c0:c1 of an (N, C) x at once, into a1, a2 and the shifts k."""
    N = x.shape[0]
    for j in range(c1 - c0):
        k[j] = x[0, c0 + j]
        a1[j] = 0.0
        a2[j] = 0.0
    for n in range(N):
        xr = x[n, c0:c1]                  # row slices: plain range indices vectorise
        for j in range(c1 - c0):
            d = np.float64(xr[j]) - k[j]
            a1[j] += d
            a2[j] += d * d


# The backward's masked sums accumulate in the data type over runs of at most _CHUNK (256) values
# and add each run's partial sum into float64 accumulators (error ~ 256 * dtype eps / vector width
# relative to the sum of |terms|, ~1e-6 for float32).  Converting every element to float64 instead
# keeps LLVM at 4 lanes for the whole loop, mask included: measured here (1 thread,
# 64x128x14x14) 1.17 ms for the reduction against 0.57 ms chunked.

@njit(cache=True, fastmath={"reassoc"})
def _sums_masked(gy, x, c, m, mul, add, slope):
    """sum(g), sum(g * (x - m)) over channel c, g = gy * (1 where z > 0 else slope)."""
    N, _, L = x.shape
    T = x.dtype.type
    a1 = 0.0
    a2 = 0.0
    for n in range(N):
        for l0 in range(0, L, _CHUNK):
            gr = gy[n, c, l0:l0 + _CHUNK]     # slices: plain range indices vectorise
            xr = x[n, c, l0:l0 + _CHUNK]
            p1 = T(0.0)
            p2 = T(0.0)
            for l in range(xr.shape[0]):
                d = xr[l] - m
                z = d * mul + add
                g = gr[l] if z > 0 else gr[l] * slope
                p1 += g
                p2 += g * d
            a1 += p1
            a2 += p2
    return a1, a2


@njit(cache=True, fastmath={"reassoc"})
def _sums_masked2(gy, x, c0, c1, m, mul, add, slope, a1, a2):
    """The (N, C) form: channels c0:c1 at once; m / mul / add are per-block vectors."""
    N = x.shape[0]
    nc = c1 - c0
    T = x.dtype.type
    p1 = np.empty(nc, dtype=x.dtype)
    p2 = np.empty(nc, dtype=x.dtype)
    for j in range(nc):
        a1[j] = 0.0
        a2[j] = 0.0
    for n0 in range(0, N, _CHUNK):
        for j in range(nc):
            p1[j] = T(0.0)
            p2[j] = T(0.0)
        for n in range(n0, min(N, n0 + _CHUNK)):
            gr = gy[n, c0:c1]
            xr = x[n, c0:c1]
            for j in range(nc):
                d = xr[j] - m[j]
                z = d * mul[j] + add[j]
                g = gr[j] if z > 0 else gr[j] * slope
                p1[j] += g
                p2[j] += g * d
        for j in range(nc):
            a1[j] += p1[j]
            a2[j] += p2[j]


# ---------------------------------------------------------------------------- forward
@parallel_kernel
def _fwd3(x, training, mean64, var64, w, b, eps, slope, mean_out, invstd_out, y):
    """Forward of an (N, C, L) x, one task a channel: its statistics (training), then
    y = z if z >= 0 else slope * z with z = (x - mean) * (invstd * w) + b."""
    N, C, L = x.shape
    M = N * L
    T = x.dtype.type
    s = T(slope)
    for c in prange(C):
        if training:
            s1, s2, k = _sums_x(x, c)
            d = s1 / M
            mean = k + d
            var = max(s2 / M - d * d, 0.0)
            mean64[c] = mean
            var64[c] = var
        else:
            mean = mean64[c]
            var = var64[c]
        inv = T(1.0 / np.sqrt(var + eps))
        mean_out[c] = T(mean)
        invstd_out[c] = inv
        m = T(mean)
        mul = T(np.float64(inv) * w[c])   # from the rounded invstd: the backward's mul exactly
        add = T(b[c])
        for n in range(N):
            xr = x[n, c]
            yr = y[n, c]
            for l in range(L):
                z = (xr[l] - m) * mul + add
                yr[l] = z * s if z < 0 else z


@parallel_kernel
def _fwd2(x, training, mean64, var64, w, b, eps, slope, mean_out, invstd_out, y):
    """_fwd3 for an (N, C) x (BatchNorm1d): one task a block of _BLOCK adjacent channels, so a
    row of x is read contiguously."""
    N, C = x.shape
    M = N
    T = x.dtype.type
    s = T(slope)
    nb = (C + _BLOCK - 1) // _BLOCK
    for blk in prange(nb):
        c0 = blk * _BLOCK
        c1 = min(C, c0 + _BLOCK)
        nc = c1 - c0
        m = np.empty(nc, dtype=x.dtype)
        mul = np.empty(nc, dtype=x.dtype)
        add = np.empty(nc, dtype=x.dtype)
        if training:
            a1 = np.empty(nc, dtype=np.float64)
            a2 = np.empty(nc, dtype=np.float64)
            k = np.empty(nc, dtype=np.float64)
            _sums_x2(x, c0, c1, a1, a2, k)
            for j in range(nc):
                d = np.float64(a1[j]) / M
                mean64[c0 + j] = np.float64(k[j]) + d
                var64[c0 + j] = max(np.float64(a2[j]) / M - d * d, 0.0)
        for j in range(nc):
            c = c0 + j
            inv = T(1.0 / np.sqrt(var64[c] + eps))
            mean_out[c] = T(mean64[c])
            invstd_out[c] = inv
            m[j] = T(mean64[c])
            mul[j] = T(np.float64(inv) * w[c])
            add[j] = T(b[c])
        for n in range(N):
            xr = x[n, c0:c1]
            yr = y[n, c0:c1]
            for j in range(nc):
                z = (xr[j] - m[j]) * mul[j] + add[j]
                yr[j] = z * s if z < 0 else z


# ---------------------------------------------------------------------------- backward
@parallel_kernel
def _bwd3(gy, x, w, b, mean, invstd, training, slope, gx, gw, gb):
    """Backward of an (N, C, L) x, one task a channel: the masked sums, then
    gx = at * (g - k1) - k2 * d with d = x - mean, at = w * invstd, k1 = mean(g) and
    k2 = at * invstd^2 * mean(g * d) (training; k1 = k2 = 0 in eval)."""
    N, C, L = x.shape
    M = N * L
    T = x.dtype.type
    s = T(slope)
    for c in prange(C):
        m = mean[c]
        inv = np.float64(invstd[c])
        mul = T(inv * w[c])
        add = T(b[c])
        sg, sgx = _sums_masked(gy, x, c, m, mul, add, s)
        gb[c] = sg
        gw[c] = sgx * inv
        a = w[c] * inv
        if training:
            k1 = T(sg / M)
            k2 = T(a * inv * inv * sgx / M)
        else:
            k1 = T(0.0)
            k2 = T(0.0)
        at = T(a)
        for n in range(N):
            gr = gy[n, c]
            xr = x[n, c]
            gxr = gx[n, c]
            if training:
                for l in range(L):
                    d = xr[l] - m
                    z = d * mul + add
                    g = gr[l] if z > 0 else gr[l] * s
                    gxr[l] = at * (g - k1) - k2 * d
            else:                   # no k2 * d term: 0 * d would turn a NaN/inf input into NaN
                for l in range(L):
                    z = (xr[l] - m) * mul + add
                    gxr[l] = at * (gr[l] if z > 0 else gr[l] * s)


@parallel_kernel
def _bwd2(gy, x, w, b, mean, invstd, training, slope, gx, gw, gb):
    """_bwd3 for an (N, C) x: one task a block of _BLOCK adjacent channels."""
    N, C = x.shape
    M = N
    T = x.dtype.type
    s = T(slope)
    nb = (C + _BLOCK - 1) // _BLOCK
    for blk in prange(nb):
        c0 = blk * _BLOCK
        c1 = min(C, c0 + _BLOCK)
        nc = c1 - c0
        mul = np.empty(nc, dtype=x.dtype)
        add = np.empty(nc, dtype=x.dtype)
        for j in range(nc):
            c = c0 + j
            mul[j] = T(np.float64(invstd[c]) * w[c])
            add[j] = T(b[c])
        mr = mean[c0:c1]
        a1 = np.empty(nc, dtype=np.float64)
        a2 = np.empty(nc, dtype=np.float64)
        _sums_masked2(gy, x, c0, c1, mr, mul, add, s, a1, a2)
        at = np.empty(nc, dtype=x.dtype)
        k1 = np.empty(nc, dtype=x.dtype)
        k2 = np.empty(nc, dtype=x.dtype)
        for j in range(nc):
            c = c0 + j
            inv = np.float64(invstd[c])
            s1 = np.float64(a1[j])
            s2 = np.float64(a2[j])
            gb[c] = s1
            gw[c] = s2 * inv
            a = w[c] * inv
            at[j] = T(a)
            if training:
                k1[j] = T(s1 / M)
                k2[j] = T(a * inv * inv * s2 / M)
            else:
                k1[j] = T(0.0)
                k2[j] = T(0.0)
        for n in range(N):
            gr = gy[n, c0:c1]
            xr = x[n, c0:c1]
            gxr = gx[n, c0:c1]
            if training:
                for j in range(nc):
                    d = xr[j] - mr[j]
                    z = d * mul[j] + add[j]
                    g = gr[j] if z > 0 else gr[j] * s
                    gxr[j] = at[j] * (g - k1[j]) - k2[j] * d
            else:                   # as _bwd3: eval's gradient is at * g alone
                for j in range(nc):
                    z = (xr[j] - mr[j]) * mul[j] + add[j]
                    gxr[j] = at[j] * (gr[j] if z > 0 else gr[j] * s)


# ---------------------------------------------------------------------------- API
def _vec64(v, C, fill):
    return np.full(C, fill, dtype=np.float64) if v is None else np.asarray(v, dtype=np.float64)


@njit(cache=True)
def _momentum_average(running, batch, momentum, scale):
    # One loop, rounded once per element: NumPy's in-place form (five array operations and a
    # float64 temporary) took 40 us for BatchNorm1d's 12544 channels, ~10% of the whole forward.
    for c in range(running.shape[0]):
        running[c] = (1.0 - momentum) * running[c] + momentum * (batch[c] * scale)


def _update_running(running_mean, running_var, mean64, var64, momentum, M):
    """In place: momentum average of the batch mean and the unbiased batch variance (both or
    neither, as the reference: a lone running_mean is not updated)."""
    if running_mean is not None and running_var is not None:
        _momentum_average(running_mean, mean64, float(momentum), 1.0)
        _momentum_average(running_var, var64, float(momentum), M / max(M - 1, 1))


@serial_below_threshold(lambda x, *_: 2 * x.size)
def batch_norm_leaky_relu(x, running_mean, running_var, weight, bias, training, momentum, eps,
                          negative_slope):
    dtype = x.dtype
    N, C = x.shape[:2]
    M = x.size // C
    if training:
        mean64 = np.empty(C, dtype=np.float64)
        var64 = np.empty(C, dtype=np.float64)
    else:
        mean64 = np.asarray(running_mean, dtype=np.float64)
        var64 = np.asarray(running_var, dtype=np.float64)
    mean = np.empty(C, dtype=dtype)
    invstd = np.empty(C, dtype=dtype)
    # np.empty, not empty_like: for an x in another memory order (F-ordered, say) empty_like
    # keeps that order, y.reshape(-1) is then a copy, and the kernel's writes would be lost.
    y = np.empty(x.shape, dtype=x.dtype)
    args = (bool(training), mean64, var64, _vec64(weight, C, 1.0), _vec64(bias, C, 0.0),
            float(eps), float(negative_slope), mean, invstd)
    if x.ndim == 2:
        _fwd2(x, *args, y)
    else:
        _fwd3(x.reshape(N, C, -1), *args, y.reshape(N, C, -1))
    if training:
        _update_running(running_mean, running_var, mean64, var64, momentum, M)
    return y, mean, invstd


@serial_below_threshold(lambda gy, *_: 3 * gy.size)
def batch_norm_leaky_relu_backward(gy, x, weight, bias, mean, invstd, training, negative_slope):
    dtype = x.dtype
    N, C = x.shape[:2]
    mean = np.ascontiguousarray(mean, dtype=dtype)
    invstd = np.ascontiguousarray(invstd, dtype=dtype)
    gx = np.empty(x.shape, dtype=x.dtype)
    gw = np.empty(C, dtype=np.float64)
    gb = np.empty(C, dtype=np.float64)
    args = (_vec64(weight, C, 1.0), _vec64(bias, C, 0.0), mean, invstd, bool(training),
            float(negative_slope))
    if x.ndim == 2:
        _bwd2(gy, x, *args, gx, gw, gb)
    else:
        _bwd3(gy.reshape(N, C, -1), x.reshape(N, C, -1), *args, gx.reshape(N, C, -1), gw, gb)
    return gx, gw.astype(dtype), gb.astype(dtype)


def batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps):
    """Plain batch normalization: the fused kernel with slope 1 (the activation is the identity)."""
    return batch_norm_leaky_relu(x, running_mean, running_var, weight, bias, training, momentum,
                                 eps, 1.0)


def batch_norm_backward(gy, x, weight, mean, invstd, training):
    """With slope 1 the mask is all ones and the bias plays no part."""
    return batch_norm_leaky_relu_backward(gy, x, weight, None, mean, invstd, training, 1.0)
