"""torch's sparse COO and CSR layouts, kept dense: ``x.to_sparse()``, ``tg.sparse_coo_tensor``,
``x.to_sparse_csr()``, ``tg.sparse_csr_tensor``, ``tg.spmm`` / ``tg.sparse.mm`` /
``tg.sparse.addmm``, ``tg.sparse.softmax`` / ``log_softmax`` (over the specified elements),
``x.sparse_mask(s)``, the legacy ``tg.sparse.FloatTensor(indices, values, size)`` & co and the
sparse tensor's queries (``is_sparse``, ``layout``, ``to_dense()``,
``coalesce()``, ``indices()``, ``values()``, ``crow_indices()``, ``col_indices()``, ``_nnz()``,
``sparse_dim()`` / ``dense_dim()``).

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

from .errors import ConfigError, InputTypeError, ShapeError, SparseLayoutError
from .backend import device as _device
from .factory import zeros
from .tensor import Tensor, _check_dtype
from .torch_extras import Layout

sparse_coo = Layout("sparse_coo")
sparse_csr = Layout("sparse_csr")


class SparseTensor(Tensor):
    """A tensor in torch's sparse COO layout, its elements stored dense (see the module doc)."""

    __slots__ = ()
    is_sparse = True
    layout = property(lambda self: sparse_coo, doc="tg.sparse_coo.")

    def to_dense(self) -> Tensor:
        """A dense tensor of the same elements (differentiable, as torch's)."""
        return self.clone()

    def to_sparse(self, sparse_dim: int | None = None, *, layout: Any = None) -> Tensor:
        _check_to_sparse(self, sparse_dim, layout)
        return _to_sparse_csr(self) if layout is sparse_csr else self

    def sparse_dim(self) -> int:
        """Every dim: tensorgan's COO tensors are sparse in all dims (no hybrid form)."""
        return self.ndim

    def dense_dim(self) -> int:
        return 0

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


class SparseCsrTensor(Tensor):
    """A 2-D tensor in torch's sparse CSR layout, its elements stored dense (see the module doc):
    ``crow_indices()`` / ``col_indices()`` / ``values()`` describe the nonzero elements."""

    __slots__ = ()
    is_sparse = False           # as torch: is_sparse means the COO layout
    is_sparse_csr = True
    layout = property(lambda self: sparse_csr, doc="tg.sparse_csr.")

    to_dense = SparseTensor.to_dense
    _nnz = SparseTensor._nnz
    _nonzero = SparseTensor._nonzero
    values = SparseTensor.values

    def crow_indices(self) -> Tensor:
        """(rows + 1,) int64 offsets: row ``i``'s elements are ``values()[crow[i]:crow[i + 1]]``."""
        xp = self.device.xp
        counts = xp.count_nonzero(self.array, axis=1)
        crow = xp.concatenate([xp.zeros(1, np.int64), xp.cumsum(counts).astype(np.int64)])
        return Tensor._make(crow, self.device)

    def col_indices(self) -> Tensor:
        """The (nnz,) int64 column of each element of ``values()``."""
        return Tensor._make(self._nonzero()[1].astype(np.int64), self.device)

    def to_sparse(self, sparse_dim: int | None = None, *, layout: Any = None) -> Tensor:
        _check_to_sparse(self, sparse_dim, layout)
        return self if layout is sparse_csr else _to_sparse(self)

    def to_sparse_csr(self, dense_dim: Any = None) -> "SparseCsrTensor":
        return self

    def sparse_dim(self) -> int:
        return 2

    def dense_dim(self) -> int:
        return 0

    def __repr__(self) -> str:
        return Tensor.__repr__(self)[:-1] + ", layout=tensorgan.sparse_csr)"


def _check_to_sparse(x: Tensor, sparse_dim: Any, layout: Any) -> None:
    if layout is not None and layout is not sparse_coo and layout is not sparse_csr:
        raise ConfigError(f"to_sparse: only layout=tg.sparse_coo or tg.sparse_csr is supported, "
                          f"got {layout!r}")
    if sparse_dim is not None and sparse_dim != x.ndim:
        raise ConfigError(f"to_sparse: sparse_dim={sparse_dim} (a hybrid tensor) is not supported; "
                          f"tensorgan's sparse tensors are sparse in all {x.ndim} dims")


def _to_sparse(self: Tensor, sparse_dim: int | None = None, *, layout: Any = None) -> Tensor:
    """``x.to_sparse()``: the same elements in the sparse COO layout (stored dense; differentiable)."""
    _check_to_sparse(self, sparse_dim, layout)
    if layout is sparse_csr:
        return _to_sparse_csr(self)
    if self.ndim == 0:
        raise ShapeError("to_sparse: a 0-d tensor has no sparse form (torch refuses it too)")
    out = self.clone()
    out.__class__ = SparseTensor
    return out


def _to_sparse_coo(self: Tensor) -> SparseTensor:
    """``x.to_sparse_coo()``: ``x.to_sparse()``."""
    return _to_sparse(self)


def _to_sparse_csr(self: Tensor, dense_dim: Any = None) -> SparseCsrTensor:
    """``x.to_sparse_csr()``: a matrix's elements in the CSR layout (stored dense; differentiable)."""
    _check_csr_rank(self.ndim, "to_sparse_csr")
    if dense_dim is not None:
        raise ConfigError("to_sparse_csr: dense_dim (a hybrid tensor) is not supported")
    out = self.clone()
    out.__class__ = SparseCsrTensor
    return out


def _check_csr_rank(ndim: int, name: str) -> None:
    if ndim != 2:
        raise SparseLayoutError(f"{name}: tensorgan's CSR tensors are matrices (2 dims), got {ndim} "
                                f"dims (torch's batched / hybrid CSR forms are not supported)")


def _sparse_dim(self: Tensor) -> int:
    """A dense tensor's ``sparse_dim()`` is 0, as torch's."""
    return 0


def _dense_dim(self: Tensor) -> int:
    return self.ndim


def _sparse_mask(self: Tensor, mask: Tensor) -> SparseTensor:
    """``x.sparse_mask(s)``: ``x``'s elements at the positions ``s`` specifies, sparse (COO)."""
    if not isinstance(mask, (SparseTensor, SparseCsrTensor)):
        raise SparseLayoutError("sparse_mask: mask must be a sparse tensor (torch cannot run "
                                "'aten::sparse_mask' with a dense mask); use x.to_sparse() on it")
    if tuple(mask.shape) != tuple(self.shape):
        raise ShapeError(f"sparse_mask: mask of shape {tuple(mask.shape)} does not match the "
                         f"tensor's {tuple(self.shape)}")
    out = _to_sparse(self.masked_fill(mask.detach() == 0, 0))
    return out if isinstance(mask, SparseTensor) else _to_sparse_csr(out)


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
    if device is not None and values.device != _device(device):     # (a device never equals a str)
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


def sparse_csr_tensor(crow_indices: Any, col_indices: Any, values: Any, size: Any = None, *,
                      dtype: Any = None, device: Any = None, requires_grad: bool = False,
                      check_invariants: Any = None) -> SparseCsrTensor:
    """``torch.sparse_csr_tensor``: row ``i`` holds ``values[crow[i]:crow[i + 1]]`` at columns
    ``col_indices[crow[i]:crow[i + 1]]``; size defaults to (rows, largest column + 1)."""
    crow = _index_array(crow_indices, "crow_indices")
    col = _index_array(col_indices, "col_indices")
    if crow.ndim != 1 or col.ndim != 1 or crow.size == 0:
        raise ShapeError(f"sparse_csr_tensor: crow_indices and col_indices must be 1-D (crow not "
                         f"empty), got shapes {crow.shape} and {col.shape}")
    counts = np.diff(crow)
    if crow[0] != 0 or (counts < 0).any() or crow[-1] != col.size:
        raise ShapeError(f"sparse_csr_tensor: crow_indices must start at 0, not decrease and end at "
                         f"nnz ({col.size}), got {crow.tolist()}")
    if size is not None and len(tuple(size)) != 2:
        _check_csr_rank(len(tuple(size)), "sparse_csr_tensor")
    rows = np.repeat(np.arange(crow.size - 1), counts)
    if size is None:
        size = (crow.size - 1, int(col.max()) + 1 if col.size else 0)
    out = sparse_coo_tensor(np.stack([rows, col]), values, size, dtype=dtype, device=device,
                            requires_grad=requires_grad)
    out.__class__ = SparseCsrTensor
    return out


def _index_array(idx: Any, name: str) -> np.ndarray:
    arr = idx.detach().numpy() if isinstance(idx, Tensor) else np.asarray(idx)
    if arr.dtype.kind not in "iu" and arr.size:
        raise InputTypeError(f"sparse_csr_tensor: {name} must be integers, got {arr.dtype}")
    return arr.astype(np.int64)


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


def addmm(mat: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1.0, alpha: Any = 1.0) -> Tensor:
    """``torch.sparse.addmm``: ``beta * mat + alpha * (mat1 @ mat2)``, ``mat1`` sparse, ``mat``
    dense (torch refuses a sparse ``mat``: the result is strided)."""
    if isinstance(mat, (SparseTensor, SparseCsrTensor)):
        raise SparseLayoutError("sparse.addmm: mat must be a dense (strided) tensor, got a sparse "
                                "one (torch: addmm_sparse_dense expected strided result tensor)")
    from .linalg import addmm as _addmm
    return _addmm(mat, mat1, mat2, beta=beta, alpha=alpha)


def _softmax_over_specified(input: Tensor, dim: int, dtype: Any, name: str, log: bool) -> SparseTensor:
    """Softmax along ``dim`` over the specified (nonzero) elements, the others as -inf, as
    torch's sparse softmax; the result keeps the input's pattern."""
    if not isinstance(input, SparseTensor):
        raise SparseLayoutError(f"sparse.{name}: input must be a sparse COO tensor, got a "
                                f"{'CSR' if isinstance(input, SparseCsrTensor) else 'dense'} one")
    from .factory import where
    x = input if dtype is None else input.to(dtype)
    specified = x.detach() != 0
    # a line with nothing specified keeps its zeros (finite): its result is masked out below
    filled = x.masked_fill(~(specified | ~specified.any(dim, keepdim=True)), float("-inf"))
    out = filled.log_softmax(dim) if log else filled.softmax(dim)
    return _to_sparse(where(specified, out, 0.0))


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> SparseTensor:
    """``torch.sparse.softmax``: see :func:`_softmax_over_specified`."""
    return _softmax_over_specified(input, dim, dtype, "softmax", log=False)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> SparseTensor:
    """``torch.sparse.log_softmax`` (an element of a one-element line is log 1 = 0, which the
    dense storage cannot tell from unspecified: ``indices()`` leaves it out)."""
    return _softmax_over_specified(input, dim, dtype, "log_softmax", log=True)


def _legacy_sparse_constructor(name: str, dtype: Any) -> Any:
    """``torch.sparse.FloatTensor(indices, values[, size])`` (pygcn's
    ``sparse_mx_to_torch_sparse_tensor``): torch keeps the values' dtype there; given sizes only
    (or nothing) it is an empty sparse tensor of the class's dtype."""

    def constructor(*args: Any, device: Any = None) -> SparseTensor:
        if len(args) in (2, 3) and not any(_is_size_int(a) for a in args[:2]):
            return sparse_coo_tensor(args[0], args[1], args[2] if len(args) == 3 else None, device=device)
        if not all(_is_size_int(n) for n in args):      # torch: "only accepts sizes"
            raise InputTypeError(f"sparse.{name}: expected (indices, values[, size]) or int sizes, "
                                 f"got ({', '.join(type(a).__name__ for a in args)}); use "
                                 f"tg.sparse_coo_tensor or x.to_sparse()")
        return _to_sparse(zeros(*(args or (0,)), dtype=dtype, device=device))

    constructor.__name__ = constructor.__qualname__ = name
    return constructor


def _is_size_int(n: Any) -> bool:
    return isinstance(n, (int, np.integer)) and not isinstance(n, bool)


FloatTensor = _legacy_sparse_constructor("FloatTensor", np.float32)
DoubleTensor = _legacy_sparse_constructor("DoubleTensor", np.float64)
HalfTensor = _legacy_sparse_constructor("HalfTensor", np.float16)
LongTensor = _legacy_sparse_constructor("LongTensor", np.int64)
IntTensor = _legacy_sparse_constructor("IntTensor", np.int32)
ShortTensor = _legacy_sparse_constructor("ShortTensor", np.int16)
CharTensor = _legacy_sparse_constructor("CharTensor", np.int8)
ByteTensor = _legacy_sparse_constructor("ByteTensor", np.uint8)


Tensor.to_sparse = _to_sparse
Tensor.to_sparse_coo = _to_sparse_coo
Tensor.to_sparse_csr = _to_sparse_csr
Tensor.to_dense = _to_dense
Tensor.sparse_dim = _sparse_dim
Tensor.dense_dim = _dense_dim
Tensor.sparse_mask = _sparse_mask
Tensor.is_sparse = False
Tensor.is_sparse_csr = False

__all__ = ["SparseTensor", "SparseCsrTensor", "sparse_coo", "sparse_csr", "sparse_coo_tensor",
           "sparse_csr_tensor", "mm", "spmm", "addmm", "sum", "softmax", "log_softmax",
           "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
           "CharTensor", "ByteTensor"]
