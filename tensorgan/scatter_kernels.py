"""Indexing's backward on the CPU: ``np.add.at(total, key, g)`` for the keys GAN code produces,
without NumPy's per-element ufunc dispatch.

``x[key]`` with integer arrays on consecutive dims -- reflect / replicate padding's
``x[..., rows, cols]``, an embedding or ``x[idx]``, DiffAugment's translation
``x[batch, ys, xs]`` -- has a backward that adds ``g`` into zeros at ``key``, summing where an
index repeats.  ``np.add.at`` does that one element at a time through the ufunc machinery
(~60 ms for a 64x3x64x64 translation); seen as ``total[p, lin[i], r] += g[p, i, r]`` over
(leading dims P, the gathered rows n, trailing dims R) it is one compiled loop (~9 ms), adding in
the same order, so the result is bit-identical.  Other keys (bool masks, ``None``, slices with
steps), other dtypes and the GPU keep ``xp.add.at``."""
from __future__ import annotations

from typing import Any

import numpy as np

_KERNEL: list = []


def _compile():
    from numba import njit

    @njit(cache=True, nogil=True)
    def scatter_rows(total, lin, g):    # noqa: ANN001 - total (P, M, R), lin (n,), g (P, n, R)
        for p in range(g.shape[0]):
            for i in range(lin.shape[0]):
                row = lin[i]
                for r in range(g.shape[2]):
                    total[p, row, r] += g[p, i, r]

    _KERNEL.append(scatter_rows)
    return scatter_rows


def _full(k: Any) -> bool:
    return isinstance(k, slice) and k == slice(None)


def _split_key(key: Any, ndim: int) -> tuple[int, list, int] | None:
    """``key`` as (a, arrays, b): ``a`` full slices, then integer arrays / ints on consecutive dims,
    then full slices to the end -- or None for any other key."""
    keys = list(key) if isinstance(key, tuple) else [key]
    if sum(k is Ellipsis for k in keys) > 1 or any(k is None for k in keys):
        return None
    at = next((i for i, k in enumerate(keys) if k is Ellipsis), None)
    if at is not None:
        keys[at:at + 1] = [slice(None)] * (ndim - len(keys) + 1)
    keys += [slice(None)] * (ndim - len(keys))
    advanced = [i for i, k in enumerate(keys) if not _full(k)]
    if not advanced or advanced != list(range(advanced[0], advanced[-1] + 1)):
        return None
    arrays = [keys[i] for i in advanced]
    for k in arrays:
        if isinstance(k, bool) or not (isinstance(k, (int, np.integer)) or
                                       (isinstance(k, np.ndarray) and k.dtype.kind in "iu")):
            return None
    return advanced[0], arrays, ndim - advanced[-1] - 1


def add_at(total: np.ndarray, key: Any, g: Any) -> bool:
    """``np.add.at(total, key, g)`` by the compiled loop when the key and arrays allow it;
    False (nothing done) otherwise, for the caller's ``add.at``."""
    if (type(total) is not np.ndarray or total.dtype not in (np.float32, np.float64)
            or not total.flags.c_contiguous or total.ndim == 0):
        return False
    split = _split_key(key, total.ndim)
    if split is None:
        return False
    a, arrays, b = split
    shape = total.shape
    dims = shape[a:total.ndim - b]
    arrays = [np.asarray(k) for k in arrays]
    if any(((k < -n) | (k >= n)).any() for k, n in zip(arrays, dims)):
        return False                       # (let add.at raise its IndexError)
    arrays = [np.where(k < 0, k + n, k) if k.size and k.min() < 0 else k for k, n in zip(arrays, dims)]
    gathered = np.broadcast_shapes(*(k.shape for k in arrays))
    lin = np.ravel_multi_index([np.broadcast_to(k, gathered) for k in arrays], dims).reshape(-1)
    lead, trail = shape[:a], shape[total.ndim - b:]
    g = np.asarray(g)
    if g.dtype != total.dtype:
        return False
    g3 = np.ascontiguousarray(np.broadcast_to(g, lead + gathered + trail)).reshape(
        int(np.prod(lead, dtype=np.int64)), lin.size, int(np.prod(trail, dtype=np.int64)))
    total3 = total.reshape(g3.shape[0], int(np.prod(dims, dtype=np.int64)), g3.shape[2])
    (_KERNEL[0] if _KERNEL else _compile())(total3, lin.astype(np.int64, copy=False), g3)
    return True
