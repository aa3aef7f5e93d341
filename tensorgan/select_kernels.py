"""Gradient routing by selection, not multiplication: ``where(keep, g, 0)``; and torch's clamp.

torch's backward of relu / clamp / max pooling / max is a select (``threshold_backward`` is
``x <= t ? 0 : g``), so a NaN or inf upstream gradient reaching a dead unit gives 0 there; the
cheaper-looking ``g * mask`` gives NaN (NaN * 0, inf * 0).  NumPy's ``where`` is the right
answer but ~10x slower than the multiply on a random mask (it branches per element), so on the
CPU, for float32 / float64, two Numba ufuncs do it branch-free -- faster than the multiply they
replace, as they make one pass and allocate no float mask.  Compiled on first use (cached on
disk); other dtypes and the GPU use ``xp.where`` (no branch cost on a GPU)."""
from __future__ import annotations

import numpy as np

_UFUNCS: dict = {}


def _compile() -> dict:
    from numba import vectorize

    @vectorize(["float32(float32, boolean)", "float64(float64, boolean)"], cache=True)
    def keep(g, m):      # noqa: ANN001 - a Numba ufunc
        return g if m else 0.0

    @vectorize(["float32(float32, float32)", "float64(float64, float64)"], cache=True)
    def keep_nonzero(g, y):      # noqa: ANN001 - != is a quiet compare: NaN passes, silently
        return g if y != 0 else 0.0

    @vectorize(["float32(float32, boolean)", "float64(float64, boolean)"], cache=True)
    def drop(g, m):      # noqa: ANN001 - a Numba ufunc
        return 0.0 if m else g

    _UFUNCS.update(keep=keep, keep_nonzero=keep_nonzero, drop=drop)
    return _UFUNCS


def clamp(xp, x, low, high):
    """torch's clamp of an array by scalar bounds (None: unbounded on that side), where x stays
    on a tie with a bound (torch's std::max / std::min: clamp(-0.0, min=0) is -0.0; ``clip``
    gives the bound, +0.0) and NaN stays NaN.  float32 / float64: ``maximum`` / ``minimum`` with
    the bound first (they keep the second operand on a tie; two ufunc calls are faster than
    ``clip``'s wrapper).  float16 (whose maximum keeps the first) and integers (bounds may lie
    beyond the dtype's range): ``clip``, and where a bound is zero the zeros of x copied back."""
    if x.dtype.kind == "f" and x.dtype.itemsize >= 4:
        if high is None:
            return x if low is None else xp.maximum(low, x)
        return xp.minimum(high, x if low is None else xp.maximum(low, x))
    if low is None and high is None:
        return x
    out = xp.asarray(xp.clip(x, low, high))
    if x.dtype.kind == "f" and (low == 0 or high == 0):     # (a zero result only: a NaN other
        xp.copyto(out, x, where=(x == 0) & (out == 0))      # bound keeps NaN, as torch's)
    return out


def clamp_in_place(xp, a, low, high):
    """:func:`clamp` written into ``a`` (``clamp_``): the same ties and NaNs, no new array for
    float32 / float64."""
    if a.dtype.kind == "f" and a.dtype.itemsize >= 4:
        if low is not None:
            xp.maximum(low, a, out=a)
        if high is not None:
            xp.minimum(high, a, out=a)
    else:
        a[...] = clamp(xp, a, low, high)
    return a


def select(xp, g, mask, out=None):
    """``g`` where ``mask`` (bool) is True, 0 elsewhere -- never NaN from a masked-out NaN / inf
    (torch's backward of a piecewise op).  ``out``: write there (same shape as the result)."""
    if type(g) is np.ndarray and g.dtype.kind == "f" and g.dtype.itemsize >= 4 and mask.dtype == bool:
        # (never ``out=``: Numba 0.68's ufunc loop writes a strided ``out`` as if contiguous)
        r = (_UFUNCS or _compile())["keep"](g, mask)
    else:
        r = xp.where(mask, g, g.dtype.type(0))
    if out is None:
        return r
    out[...] = r
    return out


def select_not(xp, g, mask):
    """``g`` where ``mask`` is False, 0 where it is True (``where(mask, 0, g)``)."""
    if type(g) is np.ndarray and g.dtype.kind == "f" and g.dtype.itemsize >= 4 and mask.dtype == bool:
        return (_UFUNCS or _compile())["drop"](g, mask)
    return xp.where(mask, g.dtype.type(0), g)


def select_nonzero(xp, g, y):
    """``g`` where ``y != 0`` (NaN included), 0 where ``y`` is +-0: relu's backward from its
    output (torch's ``threshold_backward(g, result, 0)``)."""
    if (type(g) is np.ndarray and g.dtype.kind == "f" and g.dtype.itemsize >= 4
            and type(y) is np.ndarray and y.dtype == g.dtype):
        return (_UFUNCS or _compile())["keep_nonzero"](g, y)
    return xp.where(y != 0, g, g.dtype.type(0))
