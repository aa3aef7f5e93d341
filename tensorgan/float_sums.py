"""float32 sums over long outer axes, accumulated in float64 (:func:`sum_float32`).

NumPy sums pairwise only along the innermost loop of its iteration: summing a C-ordered
(50000, 16) float32 array over axis 0 adds one row after another into float32 accumulators, an
error that grows with the row count (measured 9e-6 relative for 40 + 0.05 * randn, 1e-5 for an
MNIST-sized (60000, 784); torch's cascade sum 6e-8) -- a Linear bias gradient over a large batch,
``x.mean(0)`` of a data set, a broadcast bias's gradient.  Here the reduced axes that NumPy's inner
loop covers are summed by NumPy (pairwise), and each other long reduced axis by a Numba loop that
adds the rows into float64 accumulators, a strip of columns at a time (error: the final rounding,
3e-8 and 5e-8 for the two arrays above).  Measured (process CPU time, one thread, medians of 7,
NumPy's sum -> this): (50000, 16) 1.04 -> 0.20 ms and (4096, 64) 0.082 -> 0.030 ms (NumPy's loop
over 16 or 64 columns is short), (60000, 784) 10.1 -> 7.7 ms, (1024, 1024) 0.11 -> 0.09 ms,
(512, 4096) 0.21 -> 0.26 ms.  Tried: adding 4 rows in float32 before
each float64 add, 1.5-2x faster in cache but 1.3-1.6x slower than this on arrays beyond it.

Only NumPy float32 arrays of at least ``ACCURATE_MIN_SIZE`` elements reduced over given axes come
here (the callers check that first, so that small reductions skip the analysis below, ~1 us);
float64 keeps NumPy's sum, whole-array sums are pairwise over the memory already, and CuPy
reduces in trees of its own.
"""
from __future__ import annotations

import math

import numpy as np

ACCURATE_MIN_SIZE = 16384  # below: NumPy's sum as it is
_MAX_NAIVE_ROWS = 128      # at most this many rows added one by one: NumPy's sum as it is
_STRIP = 1024              # columns a float64 accumulator strip covers (8 KiB, in L1 with its rows)


def sum_float32(a: np.ndarray, axis: tuple, keepdims: bool) -> np.ndarray:
    """``a.sum(axis=axis, keepdims=keepdims)`` for a float32 ``a`` (``axis``: a tuple of ints),
    with every reduced axis outside NumPy's pairwise inner run accumulated in float64."""
    nd = a.ndim
    if a.flags.c_contiguous and _rows_added_one_by_one(a.shape, axis) <= _MAX_NAIVE_ROWS:
        return a.sum(axis, None, None, keepdims)         # the common case, decided cheaply
    reduced = sorted({i % nd for i in axis})
    if a.flags.c_contiguous:
        out = _sum_c_order(a, reduced)
    else:   # take the axes in memory order (a view for a permuted dense array, else a copy)
        order = sorted(range(nd), key=lambda i: -abs(a.strides[i]))
        out = _sum_c_order(a.transpose(order), [order.index(i) for i in reduced], copy=True)
        out = out.transpose(np.argsort(order))
    return out if keepdims else out.reshape(tuple(n for i, n in enumerate(a.shape) if i not in reduced))


def _rows_added_one_by_one(shape: tuple, axis: tuple) -> int:
    """How many rows NumPy adds one after another summing a C-ordered array of ``shape`` over
    ``axis``: the product of the reduced axes before its trailing run of reduced ones."""
    nd = len(shape)
    rows = 1
    trailing = True
    for i in range(nd - 1, -1, -1):
        if i in axis or i - nd in axis:
            if not trailing:
                rows *= shape[i]
        elif shape[i] != 1:
            trailing = False
    return rows


def _sum_c_order(v: np.ndarray, reduced: list, copy: bool = False) -> np.ndarray:
    """The keepdims sum of ``v`` (C-ordered, or to be copied so with ``copy``) over ``reduced``:
    the trailing reduced axes (NumPy's inner run) by NumPy, then each other long one in float64."""
    shape = v.shape
    k = v.ndim
    while k and (k - 1 in reduced or shape[k - 1] == 1):
        k -= 1
    inner = tuple(i for i in reduced if i >= k)
    outer = [i for i in reduced if i < k and shape[i] > 1]
    if math.prod([shape[i] for i in outer]) <= _MAX_NAIVE_ROWS:
        return v.sum(axis=tuple(reduced), keepdims=True)
    s = v.sum(axis=inner, keepdims=True) if inner else v
    s = np.ascontiguousarray(s) if copy or inner else s
    for i in outer:
        lead, rows = math.prod(s.shape[:i]), s.shape[i]
        out = np.empty((lead, s.size // (lead * rows)), dtype=np.float32)
        _column_sums(s.reshape(lead, rows, -1), out)
        s = out.reshape(s.shape[:i] + (1,) + s.shape[i + 1:])
    return s


_COMPILED: dict = {}


def _column_sums(a: np.ndarray, out: np.ndarray) -> None:
    """:func:`_column_sums_loop`, compiled on first use (``import tensorgan`` does not import
    Numba for it: most programs never sum this way)."""
    loop = _COMPILED.get("column_sums")
    if loop is None:
        from numba import njit
        loop = _COMPILED["column_sums"] = njit(cache=True, nogil=True)(_column_sums_loop)
    loop(a, out)


def _column_sums_loop(a, out):  # noqa: ANN001 - (P, R, K) float32 in, (P, K) float32 out
    """out[p, k] = sum over r of a[p, r, k], in float64 accumulators, ``_STRIP`` columns at a
    time (each accumulator adds its rows in order: no fastmath needed to vectorise over k)."""
    P, R, K = a.shape
    acc = np.empty(min(K, _STRIP), dtype=np.float64)
    for p in range(P):
        for k0 in range(0, K, _STRIP):
            n = min(K - k0, _STRIP)
            acc[:n] = 0.0
            for r in range(R):
                row = a[p, r, k0:k0 + n]
                for k in range(n):
                    acc[k] += row[k]
            for k in range(n):
                out[p, k0 + k] = acc[k]
