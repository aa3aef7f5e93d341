"""Batch normalization, forward (train / eval) and backward, as fused Numba passes.

x is viewed as (N, C, L) -- L = H*W for (N, C, H, W), L = 1 for (N, C) -- and M = N*L values per
channel.  Per-channel sums are accumulated in float64 whatever the data type (float32 data keeps
its 4-byte traffic; the accumulators cost nothing in a memory-bound loop).

forward, training   pass 1 (stats):   per channel, shifted sums S1 = sum(x - k), S2 = sum((x - k)^2)
                                       with k = the channel's first value (no cancellation when
                                       |mean| >> std); mean = k + S1/M, var = S2/M - (S1/M)^2.
                                       Reads N*C*L elements, ~3 FLOP each.
                    running stats:    updated in place, momentum, unbiased var * M/(M-1).
                    pass 2 (normalise): y = (x - mean[c]) * (invstd[c]*w[c]) + b[c].
                                       Reads + writes N*C*L elements, 2 FLOP each.
forward, eval       pass 2 only, with the running statistics.
backward            pass 1 (reduce):  per channel  gb = sum(gy),  sum(gy*(x - mean));
                                       gw = invstd * sum(gy*(x - mean)).  Reads 2*N*C*L.
                    pass 2 (gx):       training  gx = a*gy - a*gb/M - a*invstd^2*sum(gy*(x-mean))/M*(x-mean)
                                       eval      gx = a*gy,    a = w*invstd.
                                       Reads 2*N*C*L (eval: 1), writes N*C*L.
In total: forward 3 array sweeps (train) / 2 (eval), backward 5 sweeps (train) -- the minimum
for a two-statistic normalisation without keeping the data in cache.

Launch shape: for (N, C, L>1), ``prange`` over channels in the reductions (each thread owns whole
channels: no atomics, deterministic) and over the N*C contiguous (n, c) planes in the
elementwise passes.  For (N, C) (BatchNorm1d: L = 1, a channel's values are C apart) both passes
``prange`` over blocks of 512 contiguous channels and sweep the N rows inside, so each load is a
contiguous vector and the per-block accumulators stay in L1.
Reductions use fastmath 'reassoc'/'contract' only (re-ordering of a sum = float rounding).
"""
import numpy as np
from numba import njit, prange

_RED = {"reassoc", "contract"}
_BLOCK = 512


# ---------------------------------------------------------------------------- reductions
@njit(parallel=True, cache=True, fastmath=_RED)
def _stats3(x, s1, s2, shift):
    N, C, L = x.shape
    for c in prange(C):
        k = x[0, c, 0]
        a1 = 0.0
        a2 = 0.0
        for n in range(N):
            for l in range(L):
                d = np.float64(x[n, c, l]) - k
                a1 += d
                a2 += d * d
        s1[c] = a1
        s2[c] = a2
        shift[c] = k


@njit(parallel=True, cache=True, fastmath=_RED)
def _stats2(x, s1, s2, shift):
    N, C = x.shape
    nb = (C + _BLOCK - 1) // _BLOCK
    for blk in prange(nb):
        c0 = blk * _BLOCK
        c1 = min(C, c0 + _BLOCK)
        a1 = np.zeros(c1 - c0, dtype=np.float64)
        a2 = np.zeros(c1 - c0, dtype=np.float64)
        k = np.empty(c1 - c0, dtype=np.float64)
        for j in range(c1 - c0):
            k[j] = x[0, c0 + j]
        for n in range(N):
            for j in range(c1 - c0):
                d = np.float64(x[n, c0 + j]) - k[j]
                a1[j] += d
                a2[j] += d * d
        for j in range(c1 - c0):
            s1[c0 + j] = a1[j]
            s2[c0 + j] = a2[j]
            shift[c0 + j] = k[j]


@njit(parallel=True, cache=True, fastmath=_RED)
def _bwd_sums3(gy, x, mean, s_g, s_gx):
    N, C, L = x.shape
    for c in prange(C):
        m = mean[c]
        a1 = 0.0
        a2 = 0.0
        for n in range(N):
            for l in range(L):
                g = np.float64(gy[n, c, l])
                a1 += g
                a2 += g * (np.float64(x[n, c, l]) - m)
        s_g[c] = a1
        s_gx[c] = a2


@njit(parallel=True, cache=True, fastmath=_RED)
def _bwd_sums2(gy, x, mean, s_g, s_gx):
    N, C = x.shape
    nb = (C + _BLOCK - 1) // _BLOCK
    for blk in prange(nb):
        c0 = blk * _BLOCK
        c1 = min(C, c0 + _BLOCK)
        a1 = np.zeros(c1 - c0, dtype=np.float64)
        a2 = np.zeros(c1 - c0, dtype=np.float64)
        for n in range(N):
            for j in range(c1 - c0):
                g = np.float64(gy[n, c0 + j])
                a1[j] += g
                a2[j] += g * (np.float64(x[n, c0 + j]) - mean[c0 + j])
        for j in range(c1 - c0):
            s_g[c0 + j] = a1[j]
            s_gx[c0 + j] = a2[j]


# ---------------------------------------------------------------------------- elementwise
@njit(parallel=True, cache=True)
def _affine3(x, sub, mul, add, y):
    """y[n, c, l] = (x[n, c, l] - sub[c]) * mul[c] + add[c]"""
    N, C, L = x.shape
    for t in prange(N * C):
        n = t // C
        c = t - n * C
        s = sub[c]
        m = mul[c]
        a = add[c]
        for l in range(L):
            y[n, c, l] = (x[n, c, l] - s) * m + a


@njit(parallel=True, cache=True)
def _affine2(x, sub, mul, add, y):
    N, C = x.shape
    for n in prange(N):
        for c in range(C):
            y[n, c] = (x[n, c] - sub[c]) * mul[c] + add[c]


@njit(parallel=True, cache=True)
def _gx3(gy, x, mean, a, k1, k2, gx):
    """gx = a*gy - k1 - k2*(x - mean), per channel coefficients."""
    N, C, L = x.shape
    for t in prange(N * C):
        n = t // C
        c = t - n * C
        m = mean[c]
        ac = a[c]
        b1 = k1[c]
        b2 = k2[c]
        for l in range(L):
            gx[n, c, l] = ac * gy[n, c, l] - b1 - b2 * (x[n, c, l] - m)


@njit(parallel=True, cache=True)
def _gx2(gy, x, mean, a, k1, k2, gx):
    N, C = x.shape
    for n in prange(N):
        for c in range(C):
            gx[n, c] = a[c] * gy[n, c] - k1[c] - k2[c] * (x[n, c] - mean[c])


# ---------------------------------------------------------------------------- API
def _view3(a):
    return a.reshape(a.shape[0], a.shape[1], -1)


def batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps):
    dtype = x.dtype
    N, C = x.shape[:2]
    x3 = _view3(x)
    L = x3.shape[2]
    M = N * L
    if training:
        s1 = np.empty(C, dtype=np.float64)
        s2 = np.empty(C, dtype=np.float64)
        k = np.empty(C, dtype=np.float64)
        if L == 1:
            _stats2(x.reshape(N, C), s1, s2, k)
        else:
            _stats3(x3, s1, s2, k)
        d = s1 / M
        mean64 = k + d
        var64 = np.maximum(s2 / M - d * d, 0.0)
        if running_mean is not None:
            running_mean *= 1.0 - momentum
            running_mean += momentum * mean64
        if running_var is not None:
            unbiased = var64 * (M / max(M - 1, 1))   # M = 1: as the reference (no division by 0)
            running_var *= 1.0 - momentum
            running_var += momentum * unbiased
        invstd64 = 1.0 / np.sqrt(var64 + eps)
        mean = mean64.astype(dtype)
        invstd = invstd64.astype(dtype)
    else:
        mean64 = np.asarray(running_mean, dtype=np.float64)
        invstd64 = 1.0 / np.sqrt(np.asarray(running_var, dtype=np.float64) + eps)
        mean = mean64.astype(dtype)
        invstd = invstd64.astype(dtype)
    mul = invstd64 if weight is None else invstd64 * weight
    add = np.zeros(C) if bias is None else np.asarray(bias, dtype=np.float64)
    mul = mul.astype(dtype)
    add = add.astype(dtype)
    y = np.empty_like(x)
    if L == 1:
        _affine2(x.reshape(N, C), mean, mul, add, y.reshape(N, C))
    else:
        _affine3(x3, mean, mul, add, _view3(y))
    return y, mean, invstd


def batch_norm_backward(gy, x, weight, mean, invstd, training):
    dtype = x.dtype
    N, C = x.shape[:2]
    x3 = _view3(x)
    gy3 = _view3(gy)
    L = x3.shape[2]
    M = N * L
    mean64 = np.asarray(mean, dtype=np.float64)
    inv64 = np.asarray(invstd, dtype=np.float64)
    s_g = np.empty(C, dtype=np.float64)
    s_gx = np.empty(C, dtype=np.float64)
    if L == 1:
        _bwd_sums2(gy.reshape(N, C), x.reshape(N, C), mean64, s_g, s_gx)
    else:
        _bwd_sums3(gy3, x3, mean64, s_g, s_gx)
    w64 = np.ones(C) if weight is None else np.asarray(weight, dtype=np.float64)
    a = w64 * inv64
    if training:
        k1 = a * s_g / M
        k2 = a * inv64 * inv64 * s_gx / M
    else:
        k1 = np.zeros(C)
        k2 = np.zeros(C)
    gx = np.empty_like(x)
    args = (mean, a.astype(dtype), k1.astype(dtype), k2.astype(dtype))
    if L == 1:
        _gx2(gy.reshape(N, C), x.reshape(N, C), *args, gx.reshape(N, C))
    else:
        _gx3(gy3, x3, *args, _view3(gx))
    gweight = (s_gx * inv64).astype(dtype)
    gbias = s_g.astype(dtype)
    return gx, gweight, gbias
