"""torch's sparse COO layout, kept dense: ``x.to_sparse()``, ``tg.sparse_coo_tensor``,
``tg.spmm`` / ``tg.sparse.mm`` and the sparse tensor's queries (``is_sparse``, ``layout``,
``to_dense()``, ``coalesce()``, ``indices()``, ``values()``, ``_nnz()``).

A sparse tensor here is a :class:`SparseTensor`, a Tensor whose array holds every element
(the zeros too): each op computes on that dense array, so the values are torch's (a graph
network's ``torch.spmm(adj, h)``, ``sparse @ dense``, ``dense + sparse``) and results of ops are
ordinary dense tensors.  What differs from torch is memory (V x V for a V-node graph's
adjacency) and the stored pattern: ``indices()`` / ``values()`` are the nonzero elements, as
torch's after ``to_sparse()`` -- explicit zeros given to ``sparse_coo_tensor`` are not kept.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ConfigError, InputTypeError, ShapeError
from .factory import zeros
from .tensor import Tensor, _check_dtype
from .torch_extras import Layout

sparse_coo = Layout("sparse_coo")


class SparseTensor(Tensor):
    """A tensor in torch's sparse COO layout, its elements stored dense (see the module doc)."""

    __slots__ = ()
    is_sparse = True
    layout = property(lambda self: sparse_coo, doc="tg.sparse_coo.")

    def to_dense(self) -> Tensor:
        """A dense tensor of the same elements (differentiable, as torch's)."""
        return self.clone()

    def to_sparse(self, sparse_dim: int | None = None, *, layout: Any = None) -> "SparseTensor":
        _check_to_sparse(self, sparse_dim, layout)
        return self

    def coalesce(self) -> "SparseTensor":
        """Itself: the stored elements are already one per position (duplicates summed)."""
        return self

    def is_coalesced(self) -> bool:
        return True

    def _nonzero(self) -> Any:
        xp = self.device.xp
        return xp.nonzero(self.array)

    def indices(self) -> Tensor:
        """The (ndim, nnz) int64 positions of the nonzero elements, in row-major order."""
        xp = self.device.xp
        idx = self._nonzero()
        return Tensor._make(xp.stack(idx).astype(np.int64) if idx else xp.zeros((0, 1), np.int64),
                            self.device)

    def values(self) -> Tensor:
        """The nonzero elements, in the order of ``indices()`` (differentiable)."""
        return self[tuple(Tensor._make(i.astype(np.int64), self.device) for i in self._nonzero())]

    _indices, _values = indices, values

    def _nnz(self) -> int:
        return int(self.device.xp.count_nonzero(self.array))

    def __repr__(self) -> str:
        return Tensor.__repr__(self)[:-1] + ", layout=tensorgan.sparse_coo)"


def _check_to_sparse(x: Tensor, sparse_dim: Any, layout: Any) -> None:
    if layout is not None and layout is not sparse_coo:
        raise ConfigError(f"to_sparse: only layout=tg.sparse_coo is supported, got {layout!r}")
    if sparse_dim is not None and sparse_dim != x.ndim:
        raise ConfigError(f"to_sparse: sparse_dim={sparse_dim} (a hybrid tensor) is not supported; "
                          f"tensorgan's sparse tensors are sparse in all {x.ndim} dims")


def _to_sparse(self: Tensor, sparse_dim: int | None = None, *, layout: Any = None) -> SparseTensor:
    """``x.to_sparse()``: the same elements in the sparse COO layout (stored dense; differentiable)."""
    _check_to_sparse(self, sparse_dim, layout)
    if self.ndim == 0:
        raise ShapeError("to_sparse: a 0-d tensor has no sparse form (torch refuses it too)")
    out = self.clone()
    out.__class__ = SparseTensor
    return out


def _to_dense(self: Tensor) -> Tensor:
    """A dense tensor's ``to_dense()`` is itself, as in torch."""
    return self


def sparse_coo_tensor(indices: Any, values: Any, size: Any = None, *, dtype: Any = None,
                      device: Any = None, requires_grad: bool = False,
                      check_invariants: Any = None, is_coalesced: Any = None) -> SparseTensor:
    """``torch.sparse_coo_tensor``: ``values[k]`` at position ``indices[:, k]`` of a tensor of
    ``size`` (inferred from the largest indices when not given); duplicate positions sum."""
    idx = indices.detach().numpy() if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu" and not (idx.size == 0 and idx.dtype.kind == "f"):
        raise InputTypeError(f"sparse_coo_tensor: indices must be integers, got {idx.dtype}")
    if idx.ndim != 2:
        raise ShapeError(f"sparse_coo_tensor: indices must be (sparse_dims, nnz), got shape {idx.shape}")
    idx = idx.astype(np.int64)
    if not isinstance(values, Tensor):
        from .factory import tensor
        values = tensor(values, device=device)
    if values.ndim == 0 or values.shape[0] != idx.shape[1]:
        raise ShapeError(f"sparse_coo_tensor: values must have one row per index column "
                         f"({idx.shape[1]}), got shape {values.shape}")
    if (idx < 0).any():
        raise ShapeError("sparse_coo_tensor: indices must be >= 0")
    dense_dims = tuple(values.shape[1:])
    if size is None:
        size = tuple(int(m) + 1 for m in idx.max(axis=1)) if idx.shape[1] else (0,) * idx.shape[0]
        size = size + dense_dims
    size = tuple(int(s) for s in (size if isinstance(size, (tuple, list)) else tuple(size)))
    if len(size) != idx.shape[0] + len(dense_dims) or tuple(size[idx.shape[0]:]) != dense_dims:
        raise ShapeError(f"sparse_coo_tensor: size {size} does not fit indices of {idx.shape[0]} "
                         f"sparse dims and values of shape {values.shape}")
    if idx.shape[1] and (idx.max(axis=1) >= np.array(size[:idx.shape[0]])).any():
        raise ShapeError(f"sparse_coo_tensor: an index is out of bounds for size {size} "
                         f"(largest indices {idx.max(axis=1).tolist()})")
    dt = _check_dtype(values.dtype if dtype is None else dtype, any_kind=True)
    if device is not None and values.device != device:
        values = values.to(device)
    vals = values if values.dtype == dt else values.to(dt)
    out = zeros(*size, dtype=dt, device=values.device)
    if idx.shape[1]:
        xp = values.device.xp
        pos = tuple(Tensor._make(xp.asarray(row), values.device) for row in idx)
        out = out.index_put(pos, vals, accumulate=True)
    if requires_grad:
        out = out.detach().requires_grad_(True)
    out.__class__ = SparseTensor
    return out


def mm(mat1: Tensor, mat2: Tensor) -> Tensor:
    """``torch.sparse.mm`` / ``torch.spmm``: a sparse (or dense) matrix times a dense one."""
    from .function_forms import mm as _mm
    return _mm(mat1, mat2)


spmm = mm


def sum(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:   # noqa: A001 (torch's name)
    """``torch.sparse.sum``: every element's sum (a dense 0-d tensor) or over ``dim`` (sparse)."""
    if not isinstance(input, Tensor):
        raise InputTypeError(f"sparse.sum: input must be a Tensor, got {type(input).__name__}")
    out = input.sum() if dim is None else input.sum(dim=dim)
    if dtype is not None:
        out = out.to(dtype)
    return out if out.ndim == 0 else _to_sparse(out)


Tensor.to_sparse = _to_sparse
Tensor.to_dense = _to_dense
Tensor.is_sparse = False

__all__ = ["SparseTensor", "sparse_coo", "sparse_coo_tensor", "mm", "spmm", "sum"]
