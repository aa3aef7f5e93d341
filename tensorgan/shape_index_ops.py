"""torch's shape, indexing, sorting and small linear-algebra ops beyond the core engine: movedim,
roll, tile, repeat_interleave, rot90, gather / scatter / index_add, sort / topk, tril / diag,
kron, unique, searchsorted, cdist and friends.

Each op is composed of differentiable Tensor ops (indexing, whose gradient is a scatter-add;
``where``; concat; matmul), so gradients and double backward come for free -- except ``scatter``
(the engine's ``SetItem``: a write that overwrites). Each function takes its tensor first and
is installed as the Tensor method of the same name (``x.roll(1)`` is ``roll(x, 1)``); ``tg.roll``
is the function itself.

Indices are whole numbers: integer tensors, NumPy arrays or lists (or float tensors holding whole
numbers). Index results (``sort``'s indices, ``nonzero``) come back as int64 tensors, as torch's,
outside the graph.
"""
from __future__ import annotations

import builtins
from typing import Any, Callable, Sequence

import math
import warnings

import numpy as np

from . import ops
from .broadcasting import broadcast_shape
from .errors import (AutogradError, ConfigError, ConfigTypeError, DiffOrderError,
                     DistanceOrderError, DTypeError, DTypeNotImplementedError, EmptyReductionError,
                     IndexDTypeError, IndexOutOfRangeError, InputTypeError, MissingArgumentError,
                     SamplingWeightsError, ShapeError, float_index_error)
from .factory import concat, stack
from .function_forms import _function_form
from .random import Generator, resolve
from .tensor import (BOOL, Function, MinMax, Tensor, _flag, _int_of, _is_int, _non_int, _one_dtype, share_view,
                     _BYTE_MASK_WARNING, _check_mask_shapes, _refuse_partial_overlap,
                     get_default_dtype, is_grad_enabled, no_grad)


# ---------------------------------------------------------------------------------------------
# Helpers: dims, index arrays, whole-number results
# ---------------------------------------------------------------------------------------------
def _tensor(op: str, x: Any, name: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise InputTypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


def _dims(op: str, dims: Any, ndim: int, repeats: bool = False) -> tuple[int, ...]:
    """An int or a sequence of ints as non-negative dims of an ``ndim``-D tensor (checked; a dim
    named twice refused unless ``repeats``: roll's)."""
    given = dims
    dims = (dims,) if _is_int(dims) else tuple(dims) if isinstance(dims, (tuple, list)) else None
    if dims is None or not all(_is_int(d) for d in dims):
        if isinstance(given, Tensor) or dims and any(isinstance(d, Tensor) for d in dims):
            ints = tuple(map(_int_of, dims or (given,)))      # one-element integer tensors as ints
            if all(_is_int(d) for d in ints):
                return _dims(op, ints, ndim, repeats)
        raise InputTypeError(f"{op}: dims must be an int or a sequence of ints")
    for d in dims:
        if not -builtins.max(ndim, 1) <= d < builtins.max(ndim, 1):
            raise IndexOutOfRangeError(f"{op}: dim {d} is out of range for a tensor with {ndim} dims")
    out = tuple(int(d) % builtins.max(ndim, 1) for d in dims)
    if len(set(out)) != len(out) and not repeats:
        raise ShapeError(f"{op}: a dim appears more than once in {dims}")
    return out


def _dim(op: str, x: Tensor, dim: Any) -> int:
    """One dim of ``x`` (a 0-d tensor takes 0 and -1, as torch)."""
    return _dims(op, dim, x.ndim)[0]


def _whole(op: str, index: Any, name: str = "index", long: bool = False,
           positions: bool = True) -> np.ndarray:
    """Whole-number indices (an integer tensor, or an integer array or list -- a float array or
    list of whole numbers too; a float *tensor* is refused by dtype, as torch's) as host int64.
    ``long``: an index tensor must be int64, as torch's take / put / index_copy / index_fill /
    take_along_dim / searchsorted's sorter require; else (``positions``) int32 or int64, as
    gather, scatter, index_select, index_add and index_reduce do (int8 / int16 / uint8 refused)."""
    if isinstance(index, Tensor):
        if index.dtype.kind in "fc":
            raise float_index_error(op, index.dtype, name)
        if long and index.dtype != np.int64:
            raise IndexDTypeError(f"{op}: expected an int64 (long) tensor for {name}, got "
                                  f"{index.dtype} (as torch); convert with .long()")
        if positions and index.dtype not in _POSITION_DTYPES and index.dtype != BOOL:
            raise IndexDTypeError(f"{op}: expected an int32 or int64 tensor for {name}, got "
                                  f"{index.dtype} (as torch); convert with .long()")
        return index.numpy().astype(np.int64) if index.dtype != BOOL else _whole(op, index.numpy(), name)
    a = np.asarray(index)
    if a.dtype == BOOL or a.dtype.kind not in "iuf" or (a.dtype.kind == "f" and a.size and not (
            np.isfinite(a).all() and (a == np.trunc(a)).all())):
        raise InputTypeError(f"{op}: {name} must hold whole numbers (an integer array or a tensor "
                             f"of whole numbers), got {a.dtype} {a.ravel()[:4]}")
    return a.astype(np.int64)


_POSITION_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))   # the index tensors torch's ops take


def _in_range(op: str, index: np.ndarray, dim: int, size: int, negative: bool = False) -> np.ndarray:
    """``index`` checked against a dim of ``size`` (``negative``: -size..-1 count from the end, as
    index_fill and take_along_dim allow; gather, scatter, index_add and index_copy do not)."""
    low = -size if negative else 0
    bad = index[(index < low) | (index >= size)]
    if bad.size:
        raise IndexOutOfRangeError(f"{op}: index {bad[0]} is out of bounds for dimension {dim} "
                                   f"with size {size}")
    return index % builtins.max(size, 1) if negative else index


def _as_indices(x: Tensor, values: np.ndarray, op: str) -> Tensor:
    """Whole-number results (indices, counts) as an int64 tensor on ``x``'s device, as torch's."""
    return Tensor._make(x.device.xp.asarray(values.astype(np.int64)), x.device)


def _key_along(x: Tensor, dim: int, index: np.ndarray) -> tuple:
    """The advanced-index key that picks ``x[i][j]..[index[i][j]..]..`` along ``dim`` (gather's):
    ``index`` at ``dim``, an open grid (arange) of the index's own shape at every other dim."""
    xp = x.device.xp
    if index.ndim == 0:                # a 0-d index (counted as 1-d, see _check_index_shape)
        return (xp.asarray(index),) if x.ndim == 1 else ()
    grids = np.ogrid[tuple(slice(0, n) for n in index.shape)]
    return tuple(xp.asarray(index if d == dim else grids[d]) for d in range(index.ndim))


def pick_along(x: Tensor, dim: int, index: Any, keepdim: bool, torch_name: str) -> Tensor:
    """``x``'s elements at ``index`` (keepdims form: size 1 at ``dim``, one pick per row) along
    ``dim``, ``dim`` dropped unless ``keepdim`` -- by one advanced index shaped as the result,
    no reshape after it, so that pick (a copy, not a view) carries torch's node name
    (median(dim)'s MedianBackward1, ...)."""
    if keepdim:
        return ops.torch_node(x[_key_along(x, dim, index)], torch_name)
    xp = x.device.xp
    shape = index.shape[:dim] + index.shape[dim + 1:]
    grids = [np.arange(n).reshape([-1 if e == k else 1 for e in range(len(shape))]) for k, n in enumerate(shape)]
    key = tuple(xp.asarray(index.reshape(shape) if e == dim else grids[e - (e > dim)]) for e in range(x.ndim))
    return ops.torch_node(x[key], torch_name)


def _operand_like(op: str, x: Tensor, value: Any, name: str) -> Tensor:
    """A tensor or number operand as a Tensor of ``x``'s dtype and device."""
    value = x._lift(value)
    if not isinstance(value, Tensor):
        if not isinstance(value, (int, float)):         # (a bool too: torch's True fills 1)
            raise InputTypeError(f"{op}: {name} must be a Tensor or a number, got {type(value).__name__}")
        value = Tensor._make(x.device.xp.full((), value, dtype=x.dtype), x.device)
    return value


# ---------------------------------------------------------------------------------------------
# 1. Shape ops
# ---------------------------------------------------------------------------------------------
def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """Move dims ``source`` to positions ``destination``; the others keep their order (torch.movedim)."""
    src, dst = _dims("movedim", source, input.ndim), _dims("movedim", destination, input.ndim)
    if len(src) != len(dst):
        raise ShapeError(f"movedim: source {source} and destination {destination} differ in length")
    if input.ndim == 0:
        return input.reshape(())
    order = [d for d in range(input.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return input.permute(order)


moveaxis = movedim


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """torch.swapaxes: ``transpose(axis0, axis1)``."""
    return input.transpose(axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """torch.swapdims: ``transpose(dim0, dim1)`` (swapaxes under torch's other keyword names)."""
    return input.transpose(dim0, dim1)


def ravel(input: Tensor) -> Tensor:
    """The elements as one 1-D tensor (torch.ravel)."""
    return input.reshape(-1)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return input.reshape(_tensor("reshape_as", other, "other").shape)


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    """``expand`` to ``size`` (torch.broadcast_to; -1 keeps a dim)."""
    return input.expand(*size)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift elements along ``dims`` by ``shifts``, wrapping around (torch.roll; no dims -- None
    or ``()``, torch's default -- the flattened tensor, shape kept; a dim named twice rolls
    twice).  One RollBackward0 node, as torch's, also where nothing moves."""
    if not (_is_int(shifts) or isinstance(shifts, (Tensor, tuple, list))):
        raise InputTypeError(f"roll: shifts must be an int or a sequence of ints, got "
                             f"{type(shifts).__name__} {shifts!r}")
    shifts_t = (shifts,) if _is_int(shifts) else (_int_of(shifts),) if isinstance(shifts, Tensor) \
        else tuple(map(_int_of, shifts))
    if dims is None or (isinstance(dims, (tuple, list)) and not dims):
        if len(shifts_t) != 1:
            raise ShapeError(f"roll: without dims, shifts must be one int, got {shifts}")
        return Roll.apply(input, shifts_t[0] % builtins.max(input.numel(), 1), None)
    if input.ndim == 0:                      # torch: no dim to roll (without dims it rolls)
        raise IndexOutOfRangeError(f"roll: dims {dims} given for a 0-d tensor, which has no dims "
                                   f"(roll it without dims)")
    dims_t = _dims("roll", dims, input.ndim, repeats=True)
    if len(shifts_t) != len(dims_t) or not all(_is_int(s) for s in shifts_t):
        raise ShapeError(f"roll: shifts {shifts} and dims {dims} must be ints, as many of each")
    shifts_t = tuple(s % builtins.max(input.shape[d], 1) for s, d in zip(shifts_t, dims_t))
    return Roll.apply(input, shifts_t, dims_t)


class Roll(Function):
    """torch.roll (its RollBackward0 node): NumPy's roll -- along ``dims``, or the flattened
    tensor where dims is None -- laid out as torch's: a channels_last(_3d) input stays so where
    every step moves something (torch joins two narrows with cat), else C order (a transpose, a
    zero shift, the flattened roll); the gradient rolls back."""
    saves_nothing, reads_inputs = True, False
    takes_int = takes_bool = takes_half = takes_complex = True   # (fftshift rolls complex spectra)

    def forward(self, x, shifts, dims):
        self.shifts, self.dims = shifts, dims
        out = self.xp.roll(x, shifts, dims)
        if out.flags.c_contiguous or not x.size or (dims is not None and _keeps_layout(x, shifts, dims)):
            return out
        return self.xp.ascontiguousarray(out)

    def _back(self):
        return -self.shifts if self.dims is None else tuple(-s for s in self.shifts)

    def backward(self, g):
        return self.xp.roll(g, self._back(), self.dims), None, None

    def grad_graph(self, g):
        return Roll.apply(g, self._back(), self.dims), None, None


def _keeps_layout(x: Any, shifts: tuple, dims: tuple) -> bool:
    """Whether torch's roll of ``x`` keeps its layout: a channels_last(_3d) one where each step
    moves something (a step by 0 is a cat with an empty narrow: C order)."""
    from .memory_formats import contiguous_format, suggest
    return all(s % x.shape[d] for s, d in zip(shifts, dims)) and suggest(x) is not contiguous_format


def tile(input: Tensor, *sizes: Any, dims: Sequence[int] | None = None) -> Tensor:
    """torch.tile: ``repeat`` with ones in front of ``dims`` when it is shorter than the rank;
    ``x.tile(2, 1)``, ``x.tile((2, 1))``, ``tg.tile(x, (2, 1))`` or ``tg.tile(x, dims=(2, 1))``."""
    if dims is None:
        dims = sizes[0] if len(sizes) == 1 else sizes
    elif sizes:
        raise InputTypeError("tile: give the repeat counts either positionally or as dims=, not both")
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    return input.repeat(*((1,) * (input.ndim - len(dims)) + dims))


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each element (slice along ``dim``) ``repeats`` times in a row (torch.repeat_interleave);
    ``repeats`` an int or one count per element; ``dim=None`` flattens first. Without repeats,
    ``repeat_interleave(counts)``: the indices 0, 1, ... each repeated its count."""
    if repeats is None:
        counts = _whole("repeat_interleave", input, "repeats", positions=False)
        return _as_indices(input, np.repeat(np.arange(counts.size), counts.ravel()), "repeat_interleave")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim("repeat_interleave", x, dim)
    n = x.shape[d] if x.ndim else 1
    counts = _whole("repeat_interleave", repeats, "repeats", positions=False).reshape(-1)
    if counts.size not in (1, n) or (counts < 0).any():
        raise ShapeError(f"repeat_interleave: repeats must be one count >= 0 or one per element "
                         f"of dim {d} (size {n}), got {counts.size} counts")
    index = np.repeat(np.arange(n), counts if counts.size == n else counts[0])
    if output_size is not None and output_size != index.size:
        raise ShapeError(f"repeat_interleave: output_size {output_size} but the repeats make {index.size}")
    return x.reshape(1)[index] if not x.ndim else x[(slice(None),) * d + (index,)]


def fliplr(input: Tensor) -> Tensor:
    """Reverse dim 1 (torch.fliplr: at least 2-D)."""
    if input.ndim < 2:
        raise ShapeError(f"fliplr: input must be at least 2-D, got shape {input.shape}")
    return input.flip(1)


def flipud(input: Tensor) -> Tensor:
    """Reverse dim 0 (torch.flipud: at least 1-D)."""
    if input.ndim < 1:
        raise ShapeError(f"flipud: input must be at least 1-D, got shape {input.shape}")
    return input.flip(0)


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first dim towards the
    second (torch.rot90)."""
    k = _int_of(k)
    if not isinstance(dims, (tuple, list)) or len(dims) != 2 or input.ndim < 2 or not _is_int(k):
        raise ShapeError(f"rot90: needs an int k, two dims and an input of at least 2 dims, got "
                         f"k={k!r}, dims={dims!r}, shape {input.shape}")
    d0, d1 = _dims("rot90", dims, input.ndim)
    k = int(k) % 4
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip(d0, d1)
    if k == 3:
        return input.flip(d0).transpose(d0, d1)
    return input.clone()


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, that dim removed (torch.select)."""
    d = input._dim(dim, "select")
    n = input.shape[d]
    if not _is_int(index) or not -n <= index < n:
        if isinstance(index, Tensor) and _is_int(_int_of(index)):
            return select(input, d, _int_of(index))
        raise IndexOutOfRangeError(f"select: index {index!r} is out of range for dimension {d} "
                                   f"with size {n}")
    return input[(slice(None),) * d + (int(index),)]


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least 1 dim (a 0-d one as shape (1,)); one tensor in, one out."""
    return _atleast(tensors, lambda t: t.reshape(1) if t.ndim == 0 else t)


def atleast_2d(*tensors: Any) -> Any:
    """0-d as (1, 1), 1-D (n,) as (1, n)."""
    return _atleast(tensors, lambda t: t.reshape((1,) * (2 - t.ndim) + t.shape) if t.ndim < 2 else t)


def atleast_3d(*tensors: Any) -> Any:
    """0-d as (1, 1, 1), 1-D (n,) as (1, n, 1), 2-D (m, n) as (m, n, 1) (torch's / NumPy's)."""
    def lift(t: Tensor) -> Tensor:
        return {0: lambda: t.reshape(1, 1, 1), 1: lambda: t.reshape(1, -1, 1),
                2: lambda: t.unsqueeze(-1)}.get(t.ndim, lambda: t)()
    return _atleast(tensors, lift)


def _atleast(tensors: tuple, lift: Any) -> Any:
    many = len(tensors) != 1 or isinstance(tensors[0], (tuple, list))
    items = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)) else tensors
    out = tuple(lift(_tensor("atleast_nd", t, "each argument")) for t in items)
    return out if many else out[0]


def _tensor_list(op: str, tensors: Any) -> list[Tensor]:
    if isinstance(tensors, Tensor):     # list() would split it into rows silently
        raise InputTypeError(f"{op}: takes a sequence of Tensors, got one Tensor (wrap it in a list)")
    tensors = list(tensors)
    if not tensors:
        raise MissingArgumentError(f"{op}: expects a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise InputTypeError(f"{op}: expected Tensor as element {i}, got {type(t).__name__}")
    return tensors


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors), after atleast_1d (torch.hstack)."""
    ts = atleast_1d(*_tensor_list("hstack", tensors))
    ts = (ts,) if isinstance(ts, Tensor) else ts
    return concat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 0 after atleast_2d (torch.vstack, row_stack)."""
    ts = atleast_2d(*_tensor_list("vstack", tensors))
    return concat((ts,) if isinstance(ts, Tensor) else ts, 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 2 after atleast_3d (torch.dstack)."""
    ts = atleast_3d(*_tensor_list("dstack", tensors))
    return concat((ts,) if isinstance(ts, Tensor) else ts, 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """0-d and 1-D tensors as columns (n, 1), then joined along dim 1 (torch.column_stack)."""
    ts = _tensor_list("column_stack", tensors)
    return concat([t.reshape(-1, 1) if t.ndim < 2 else t for t in ts], 1)


# ---------------------------------------------------------------------------------------------
# 2. Gather and scatter
# ---------------------------------------------------------------------------------------------
def _gather_key(op: str, input: Tensor, dim: int, index: Any, src: Tensor | None = None) -> tuple:
    """(dim, index array, key) for gather / scatter: the index checked for shape and range."""
    d = input._dim(dim, op)
    idx = _whole(op, index)
    _check_index_shape(op, input, d, idx, src)
    if idx.size == 0 and idx.ndim != input.ndim:     # an empty index of any rank: torch's no-op
        idx = idx.reshape((0,) * input.ndim)
    return d, idx, _key_along(input, d, _in_range(op, idx, d, input.shape[d]))


def _check_index_shape(op: str, x: Tensor, dim: int, index: np.ndarray, src: Tensor | None) -> None:
    """gather/scatter: the index has x's rank and is no larger than x off ``dim`` (nor than src).
    A 0-d index, input or src counts as 1-d of one element, as torch's (``zeros(10).scatter_(0,
    tensor(y), value=1)``, the one-hot transform of torch's tutorials; a 0-d src fills only a
    one-element index: a number fills more, as ``value=``)."""
    if index.size == 0:             # torch checks no sizes nor ranks with an empty index
        return
    if builtins.max(index.ndim, 1) != builtins.max(x.ndim, 1):
        raise ShapeError(f"{op}: index must have as many dims as the input ({x.ndim}), got shape "
                         f"{index.shape}")
    if src is not None and builtins.max(src.ndim, 1) != builtins.max(x.ndim, 1):
        raise ShapeError(f"{op}: src must have as many dims as the input ({x.ndim}), got {src.shape}")
    if any(n > x.shape[d] for d, n in enumerate(index.shape) if d != dim) or (
            src is not None and any(n > m for n, m in zip(index.shape, src.shape or (1,)))):
        raise ShapeError(f"{op}: index of shape {index.shape} must be no larger than the input "
                         f"{x.shape} apart from dim {dim}"
                         + ("" if src is None else f", nor larger than src {src.shape}")
                         + (" (a 0-d src counts as one element: give a number as value=)"
                            if src is not None and src.ndim == 0 else ""))


def _as_1d(op: str, input: Tensor, dim: Any) -> Tensor:
    """A 0-d input of gather / scatter as the 1-d tensor of one element torch counts it as (its
    dim 0 or -1)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim not in (0, -1):
        raise IndexOutOfRangeError(f"{op}: dim {dim!r} is out of range for a 0-d input (0 or -1)")
    return input.reshape(1)


def gather(input: Tensor, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` for dim 0, and so on (torch.gather); the
    gradient is a scatter-add into zeros. A 0-d input counts as 1-d (dim 0 or -1), as torch's."""
    if input.ndim == 0:
        return gather(_as_1d("gather", input, dim), dim, index)
    out = input[_gather_key("gather", input, dim, index)[2]]
    return out.reshape(_whole("gather", index).shape) if out.numel() == 0 else \
        ops.torch_node(out, "GatherBackward0")     # torch's node name


def _scatter_source(op: str, input: Tensor, src: Any, value: Any, idx: np.ndarray) -> Tensor:
    """scatter's src cut to the index's shape, or the number ``value`` filled to it."""
    if (src is None) == (value is None):
        raise InputTypeError(f"{op}: give src (a tensor or a number) or value, one of them")
    src = value if src is None else src
    if isinstance(src, Tensor) and idx.size == 0:     # (src of any rank: nothing taken)
        return src.reshape(-1)[:0].reshape(idx.shape)
    if isinstance(src, Tensor) and src.ndim:
        return src[tuple(slice(0, n) for n in idx.shape)] if idx.ndim else src.reshape(-1)[0]
    return _operand_like(op, input, src, "src").expand(idx.shape)


_SCATTER_REDUCE = {"add": "sum", "multiply": "prod"}     # scatter's reduce= as scatter_reduce's


def _scatter_prepared(op: str, input: Tensor, dim: int, index: Any, src: Any, value: Any) -> tuple:
    """(key, source) for the scatter family: the index checked against the input (and a tensor
    ``src``, which must have the input's rank), the source cut or filled to the index's shape."""
    _, idx, key = _gather_key(op, input, dim, index, src if isinstance(src, Tensor) else None)
    return key, _scatter_source(op, input, src, value, idx)


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """``input`` with ``out[index[i][j]][j] = src[i][j]`` for dim 0, and so on (torch.scatter);
    ``src`` a tensor (cut to the index's shape) or a number. ``reduce='add'`` / ``'multiply'``
    combines instead of overwriting: ``scatter_reduce`` with 'sum' / 'prod', the input included
    (differentiable here; torch gives this form no gradient)."""
    if reduce is not None and reduce not in _SCATTER_REDUCE:
        raise ConfigError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
    if input.ndim == 0:                  # a 0-d input counts as 1-d, as torch's
        return scatter(_as_1d("scatter", input, dim), dim, index, src, value=value, reduce=reduce).reshape(())
    key, source = _scatter_prepared("scatter", input, dim, index, src, value)
    if reduce is not None:
        return _scatter_reduce_at("scatter", input, key, source, _SCATTER_REDUCE[reduce], True)
    return ops.SetItem.apply(input, source, key)


def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """``input`` plus ``src`` added at the scattered places, repeated indices adding up
    (torch.scatter_add)."""
    if input.ndim == 0:
        return scatter_add(_as_1d("scatter_add", input, dim), dim, index, src).reshape(())
    key, source = _scatter_prepared("scatter_add", input, dim, index, _tensor("scatter_add", src, "src"), None)
    return _scatter_reduce_at("scatter_add", input, key, source, "sum", True)


def scatter_reduce(input: Tensor, dim: int, index: Any, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """``input`` with every ``src[i][j]`` combined into ``out[index[i][j]][j]`` (dim 0; and so on)
    by ``reduce`` -- 'sum', 'prod', 'mean', 'amax' or 'amin' -- together with the input's own
    element there (``include_self=False``: without it; places no index names keep the input's
    value). 'mean' divides by the number of values combined (floor division for integers), as
    torch.scatter_reduce. Gradients are torch's: 'amax' / 'amin' share it evenly among the
    values equal to the result (torch counts the input's element among them even when
    ``include_self=False``, then gives it none), 'prod' the product of the others."""
    if reduce not in _REDUCE_UFUNC and reduce not in ("sum", "mean"):
        raise ConfigError(f"scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax' or 'amin', "
                          f"got {reduce!r}")
    if input.ndim == 0:
        return scatter_reduce(_as_1d("scatter_reduce", input, dim), dim, index, src, reduce,
                              include_self=include_self).reshape(())
    if reduce == "mean" and input.dtype == BOOL:      # (torch's NotImplementedError, not a float mean)
        raise DTypeNotImplementedError("scatter_reduce: reduce='mean' is not implemented for bool "
                                       "tensors (as torch); convert with .float() first")
    key, source = _scatter_prepared("scatter_reduce", input, dim, index,
                                    _tensor("scatter_reduce", src, "src"), None)
    return _scatter_reduce_at("scatter_reduce", input, key, source, reduce, bool(include_self))


def _scatter_reduce_at(op: str, input: Tensor, key: tuple, source: Tensor, reduce: str,
                       include_self: bool) -> Tensor:
    """scatter_reduce with the places ``key`` (one index array per dim, of ``source``'s shape)."""
    if source.dtype != input.dtype:
        raise DTypeError(f"{op}: src must have the input's dtype {input.dtype}, got {source.dtype}")
    if reduce in _REDUCE_UFUNC:
        return ScatterReduce.apply(input, source, key, reduce, include_self)
    base = input if include_self else ops.SetItem.apply(input, 0, key)
    scattered = _ScatterIntoMinusZeros.apply(source, input.shape, key)
    node = _LAST_ADD.get(op) if reduce == "sum" and input.dtype.kind in "fc" else None
    total = node.apply(base, scattered) if node is not None else base + scattered
    if reduce == "sum":
        return total
    xp = input.device.xp
    counts = xp.full(input.shape, int(include_self), dtype=input.dtype)
    xp.add.at(counts, key, 1)
    counts[counts == 0] = 1          # untouched places without the input: their value, divided by 1
    if input.dtype.kind in "iu":
        return Tensor._make(total.array // counts, input.device)     # torch's floor division
    return _SCATTER_REDUCE_DIV.apply(total, Tensor._make(counts, input.device))


# the last step of a composite op, under the op's torch grad_fn name
_LAST_ADD = {"scatter_add": ops.torch_named(ops.Add, "ScatterAddBackward0"),
             "scatter_reduce": ops.torch_named(ops.Add, "ScatterReduceBackward0")}
_SCATTER_REDUCE_DIV = ops.torch_named(ops.Div, "ScatterReduceBackward0")
_INDEX_ADD = ops.torch_named(ops.Add, "IndexAddBackward0")


_REDUCE_UFUNC = {"prod": "multiply", "amax": "maximum", "amin": "minimum"}


class _ScatterIntoMinusZeros(ops.ScatterIntoZeros):
    """scatter_add's (index_add's, index_put's with accumulate) sources summed into -0.0, the additive identity, not 0.0: the input plus
    this keeps a -0.0 where nothing lands, and -0.0 plus only -0.0s stays -0.0, as torch's adds
    into the input's copy."""

    def forward(self, g, shape, key):
        self.key = key
        start = self.xp.full(shape, -0.0, dtype=g.dtype) if g.dtype.kind == "f" else self.xp.zeros(shape, g.dtype)
        return ops.SparseGrad(g, shape, key).add_into(self.xp, start)


def _reduce_identity(reduce: str, dtype: np.dtype) -> Any:
    """The start of a reduction with nothing in it yet (include_self=False)."""
    if reduce == "prod":
        return 1
    if dtype == BOOL:
        return reduce == "amin"
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _ufunc_at(xp: Any, name: str, out: Any, key: tuple, src: Any) -> Any:
    """``out`` with NumPy's ``ufunc.at`` applied (repeated places combining in turn). CuPy's
    ``ufunc.at`` has no multiply and its atomic max / min do not propagate NaN, so a GPU array
    makes the round trip through the host."""
    if xp is np:
        getattr(np, name).at(out, key, src)
        return out
    host = xp.asnumpy(out)
    getattr(np, name).at(host, tuple(xp.asnumpy(k) for k in key), xp.asnumpy(src))
    return xp.asarray(host)


class ScatterReduce(Function):
    """scatter_reduce's 'prod', 'amax' and 'amin' (``ufunc.at`` into a copy of the input); the
    gradient is torch's formula written with Tensor ops, so it is differentiable again."""
    takes_int = True
    takes_bool = True      # torch's: 'prod' is a logical and, 'amax' an or (no gradient)

    def forward(self, x, src, key, reduce, include_self):
        self.key, self.reduce, self.include_self = key, reduce, include_self
        out = x.copy()
        if not include_self:
            out[key] = _reduce_identity(reduce, x.dtype)
        self.out = out = _ufunc_at(self.xp, _REDUCE_UFUNC[reduce], out, key, src)
        return out

    def backward(self, g):
        with no_grad():
            grads = self.grad_graph(Tensor._make(g, self.device))
        return tuple(None if t is None else t.array for t in grads)

    def grad_graph(self, g):
        x, src = self.inputs[:2]
        if self.reduce == "prod":
            gx, gsrc = self._prod_grads(g, x, src)
        else:
            gx, gsrc = self._extreme_grads(g, x, src)
        if not self.include_self:        # the input's elements at the touched places were dropped
            gx = ops.SetItem.apply(gx, 0, self.key)
        return gx, gsrc, None, None, None

    def _extreme_grads(self, g: Tensor, x: Tensor, src: Tensor) -> tuple:
        """amax / amin: the gradient shared evenly among the values equal to the result."""
        xp, out = self.xp, self.out
        x_is = (x.array == out).astype(g.dtype)
        src_is = (src.array == out[self.key]).astype(g.dtype)
        count = x_is.copy()
        xp.add.at(count, self.key, src_is)
        share = g / Tensor._make(xp.maximum(count, 1), self.device)
        return share * Tensor._make(x_is, self.device), share[self.key] * Tensor._make(src_is, self.device)

    def _prod_grads(self, g: Tensor, x: Tensor, src: Tensor) -> tuple:
        """prod: the product of the other values, zeros handled exactly (torch's formula)."""
        key, xp = self.key, self.xp
        again = lambda a, s: _scatter_reduce_at("scatter_reduce", a, key, s, "prod", self.include_self)
        result = again(x, src) if is_grad_enabled() else Tensor._make(self.out, self.device)
        x_zero = Tensor._make(x.array == 0, self.device)
        x_safe = x.masked_fill(x_zero, 1.0)
        gx = g * again(x_safe, src) / x_safe
        src_zero = src.array == 0
        zeros_there = xp.zeros(x.shape, dtype=np.int64)
        xp.add.at(zeros_there, key, src_zero)
        if is_grad_enabled() and src._requires_grad and bool((zeros_there > 1).any()):
            raise AutogradError("scatter_reduce: create_graph through 'prod' with two or more zeros "
                                 "of src at one place is not supported (as in torch: that gradient "
                                 "of the gradient would come out wrong); backward without "
                                 "create_graph works")
        lone = Tensor._make(src_zero & (zeros_there[key] == 1), self.device)
        without_it = again(x, src.masked_fill(lone, 1.0))
        gsrc = ops.Where.apply((g * without_it)[key],
                               (g * result)[key] / src.masked_fill(Tensor._make(src_zero, self.device), 1.0),
                               lone.array)
        return gx, gsrc


def _index_key(op: str, input: Tensor, dim: int, index: Any, source: Tensor | None = None,
               negative: bool = False) -> tuple:
    """(dim, key) for index_add / index_fill / index_copy: the 1-D index along ``dim``, checked
    (and ``source``'s shape: the input's with dim ``dim`` as long as the index)."""
    d = input._dim(dim, op)
    idx = _whole(op, index, long=op in ("index_copy", "index_fill"))
    if idx.ndim > 1:
        raise ShapeError(f"{op}: index must be 0-D or 1-D, got shape {idx.shape}")
    idx = _in_range(op, idx.reshape(-1), d, input.shape[d], negative)
    if source is not None:
        want = input.shape[:d] + (idx.size,) + input.shape[d + 1:]
        scalar_ok = op == "index_copy" and input.ndim <= 1 and idx.size == 1   # torch's, too
        if _tensor(op, source, "source").shape != want and not (scalar_ok and source.ndim == 0):
            if source.ndim == 0 < input.ndim:      # torch's IndexError: dim d of a 0-d source
                raise IndexOutOfRangeError(f"{op}: source is 0-d, it has no dim {d} to match the "
                                           f"index along (shape {want} wanted)")
            if op == "index_copy" and source.ndim != input.ndim:   # torch's IndexError here too
                raise IndexOutOfRangeError(f"{op}: source and input must have the same number of "
                                           f"dims, got source shape {tuple(source.shape)} for "
                                           f"input shape {tuple(input.shape)} (shape {want} wanted)")
            raise ShapeError(f"{op}: source must have shape {want} (the input's, with dim {d} as "
                             f"long as the index), got {source.shape}")
    return d, (slice(None),) * d + (input.device.xp.asarray(idx),)


def _on_0d(op: str, fn: Callable[..., Tensor], input: Tensor, dim: Any, index: Any, source: Any,
           **kwargs: Any) -> Tensor:
    """index_add / index_copy / index_fill of a 0-d input, as on the 1-d tensor of one element
    torch counts it as: a source must be 0-d and (but for index_fill's value) the index one entry."""
    x = _as_1d(op, input, dim)
    if op == "index_fill":
        return fn(x, 0, index, source).reshape(())
    size = _whole(op, index).size
    if _tensor(op, source, "source").ndim or size != 1:
        raise IndexOutOfRangeError(f"{op}: a 0-d input takes a 0-d source and a one-entry index, "
                                   f"got source shape {tuple(source.shape)} and {size} entries")
    return fn(x, 0, index, source.reshape(1), **kwargs).reshape(())


def index_add(input: Tensor, dim: int, index: Any, source: Tensor, *, alpha: float = 1) -> Tensor:
    """``input`` plus ``alpha * source`` added at the ``index`` entries of ``dim``, repeated
    indices adding up (torch.index_add)."""
    if input.ndim == 0:
        return _on_0d("index_add", index_add, input, dim, index, source, alpha=alpha)
    _, key = _index_key("index_add", input, dim, index, source)
    _one_dtype("index_add", input=input, source=source)
    if alpha != 1 and input.dtype.kind in "iub":     # torch: alpha cast to the input's dtype (2.5
        alpha = bool(alpha) if input.dtype.kind == "b" else int(alpha)   # into int64: 2)
        if alpha is True:
            alpha = 1
    if alpha is False:
        source = source & False
    scattered = _ScatterIntoMinusZeros.apply(source if alpha == 1 else source * alpha, input.shape, key)
    return _INDEX_ADD.apply(input, scattered) if input.dtype.kind in "fc" else input + scattered


def index_copy(input: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """``input`` with the ``index`` entries of ``dim`` replaced by ``source``'s (torch.index_copy)."""
    if input.ndim == 0:
        return _on_0d("index_copy", index_copy, input, dim, index, source)
    _, key = _index_key("index_copy", input, dim, index, source)
    return ops.SetItem.apply(input, source, key)


def index_fill(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """``input`` with the ``index`` entries of ``dim`` set to ``value`` (a number or a 0-d tensor,
    whose gradient is the sum over the filled places; torch.index_fill)."""
    if input.ndim == 0:
        return _on_0d("index_fill", index_fill, input, dim, index, value)
    d, key = _index_key("index_fill", input, dim, index, negative=True)
    if isinstance(value, Tensor) and value.ndim:
        raise ShapeError(f"index_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
    mask = input.device.xp.zeros(input.shape, dtype=bool)
    mask[key] = True
    node = ops.INDEX_FILL[isinstance(value, Tensor)]     # torch's grad_fn name
    return node.apply(_operand_like("index_fill", input, value, "value"), input, mask)


def take_along_dim(input: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """torch.take_along_dim: gather with ``indices`` and ``input`` broadcast together off ``dim``
    (negative indices count from the end); ``dim=None``: from the flattened input."""
    idx = _whole("take_along_dim", indices, long=True)
    if dim is None:
        flat = input.reshape(-1)
        return ops.torch_node(flat[flat.device.xp.asarray(_in_range("take_along_dim", idx.reshape(-1), 0,
                                                                    flat.shape[0]))], "GatherBackward0")
    d = input._dim(dim, "take_along_dim")
    if idx.ndim != input.ndim:
        raise ShapeError(f"take_along_dim: indices must have as many dims as the input ({input.ndim}), "
                         f"got shape {idx.shape}")
    rest = broadcast_shape("take_along_dim: input {input} and indices {idx} do not broadcast off "
                           "dim {d}", input.shape[:d] + (1,) + input.shape[d + 1:],
                           idx.shape[:d] + (1,) + idx.shape[d + 1:], input=input.shape,
                           idx=idx.shape, d=d)
    x = input.expand(rest[:d] + (input.shape[d],) + rest[d + 1:])
    idx = np.broadcast_to(_in_range("take_along_dim", idx, d, input.shape[d], True),
                          rest[:d] + (idx.shape[d],) + rest[d + 1:])
    return ops.torch_node(x[_key_along(x, d, idx)], "GatherBackward0")     # torch's node name


def _in_place_result(x: Tensor, name: str, result: Any, *operands: Any, expanded: str | None = None) -> Tensor:
    """The in-place form of an op: ``result(x)`` written into ``x`` (Tensor._in_place_from;
    ``expanded``: an op torch writes into expand()'s result, see Tensor._in_place)."""
    return x._in_place_from(name, result, operands, expanded)


def scatter_(input: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
             reduce: str | None = None) -> Tensor:
    return _in_place_result(input, "scatter_", lambda x: scatter(x, dim, index, src, value=value,
                                                                 reduce=reduce), src, value)


def scatter_reduce_(input: Tensor, dim: int, index: Any, src: Tensor, reduce: str, *,
                    include_self: bool = True) -> Tensor:
    return _in_place_result(input, "scatter_reduce_", lambda x: scatter_reduce(
        x, dim, index, src, reduce, include_self=include_self), src)


def scatter_add_(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    return _in_place_result(input, "scatter_add_", lambda x: scatter_add(x, dim, index, src), src)


def index_add_(input: Tensor, dim: int, index: Any, source: Tensor, *, alpha: float = 1) -> Tensor:
    return _in_place_result(input, "index_add_", lambda x: index_add(x, dim, index, source, alpha=alpha),
                            source)


def index_copy_(input: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    return _in_place_result(input, "index_copy_", lambda x: index_copy(x, dim, index, source), source)


def index_fill_(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    return _in_place_result(input, "index_fill_", lambda x: index_fill(x, dim, index, value), value,
                            expanded="index_fill_")


# ---------------------------------------------------------------------------------------------
# 3. Sorting
# ---------------------------------------------------------------------------------------------
def _order(x: Tensor, dim: int, descending: bool) -> np.ndarray:
    """The stable sorting permutation along ``dim`` (host int64). NaN sorts as the largest, as in
    torch; descending keeps equal elements in their original order (sorting the reversed array
    ascending, then reversing)."""
    a = x.numpy()
    if not descending:
        return np.argsort(a, axis=dim, kind="stable")
    order = np.argsort(np.flip(a, dim), axis=dim, kind="stable")
    return np.flip(a.shape[dim] - 1 - order, dim)


def _sorted(op: str, input: Tensor, dim: int, descending: bool, take: Any, torch_name: str) -> tuple:
    """(values, indices, dim): sorted along ``dim`` (a 0-d input as one element, 0-d results);
    ``take`` a slice of the sorted positions to keep (topk), the values' node ``torch_name``."""
    descending = _flag(op, "largest" if op == "topk" else "descending", descending)
    x = input.reshape(1) if input.ndim == 0 else input
    d = x._dim(dim, op) if input.ndim else _dim(op, input, dim)
    order = _order(x, d, descending)
    if take is not None:
        order = order[(slice(None),) * d + (take,)]
    values = pick_along(x, d, order, input.ndim > 0, torch_name)
    indices = _as_indices(input, order, op)
    return values, (indices if input.ndim else indices.reshape(())), d


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool | None = None) -> MinMax:
    """``(values, indices)`` sorted along ``dim`` (torch.sort; always stable here); the indices
    whole numbers in the input's dtype; the values carry the gradient to their places (node
    SortBackward0, SortBackward1 where ``stable`` is given: torch's sort.stable overload)."""
    name = "SortBackward0" if stable is None else "SortBackward1"
    values, indices, _ = _sorted("sort", input, dim, descending, None, name)
    return MinMax(values, indices)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool | None = None) -> Tensor:
    """The indices that sort along ``dim`` (torch.argsort), as whole numbers in the input's dtype."""
    return sort(input, dim, descending).indices


def msort(input: Tensor) -> Tensor:
    """``sort(input, dim=0).values`` (torch.msort)."""
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> MinMax:
    """The ``k`` largest (``largest=False``: smallest) along ``dim`` as ``(values, indices)``,
    in sorted order (torch.topk; ``sorted=False`` gives them sorted too)."""
    n = input.shape[input._dim(dim, "topk")] if input.ndim else 1
    if not _is_int(k) or not 0 <= k <= n:
        if isinstance(k, Tensor) and _is_int(_int_of(k)):
            return topk(input, _int_of(k), dim, largest, sorted)
        _non_int("topk", "k", (k,))
        raise ShapeError(f"topk: k={k!r} is out of range for a dim of size {n}")
    # (a 0-d input gives its element whatever k in 0..1, as torch's: its result is 0-d too)
    take = slice(0, int(k) if input.ndim else 1)
    values, indices, _ = _sorted("topk", input, dim, largest, take, "TopkBackward0")
    return MinMax(values, indices)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> MinMax:
    """The ``k``-th smallest element along ``dim`` (k from 1) and its index (torch.kthvalue)."""
    n = input.shape[input._dim(dim, "kthvalue")] if input.ndim else 1
    if not _is_int(k) or not 1 <= k <= n:
        if isinstance(k, Tensor) and _is_int(_int_of(k)):
            return kthvalue(input, _int_of(k), dim, keepdim)
        _non_int("kthvalue", "k", (k,))
        raise (EmptyReductionError if n == 0 else ShapeError)(
            f"kthvalue: k={k!r} is out of range for a dim of size {n}")
    x = input.reshape(1) if input.ndim == 0 else input
    d = x._dim(dim, "kthvalue") if input.ndim else _dim("kthvalue", input, dim)
    order = _order(x, d, False)[(slice(None),) * d + (slice(int(k) - 1, int(k)),)]
    keep = keepdim and input.ndim > 0
    values = pick_along(x, d, order, keep, "KthvalueBackward0")
    indices = _as_indices(input, order, "kthvalue")
    return MinMax(values, indices if keep else indices.reshape(values.shape))


# ---------------------------------------------------------------------------------------------
# 4. Triangles, diagonals, products, selections, searching
# ---------------------------------------------------------------------------------------------
def _triangle(op: str, input: Tensor, diagonal: int, lower: bool) -> Tensor:
    """``input`` with the elements above (``lower``) or below the ``diagonal``-th diagonal of its
    last two dims set to 0; they get no gradient."""
    if input.ndim < 2 or not _is_int(diagonal):
        if isinstance(diagonal, Tensor) and _is_int(_int_of(diagonal)):
            return _triangle(op, input, _int_of(diagonal), lower)
        raise ShapeError(f"{op}: input must have at least 2 dims and diagonal must be an int, got "
                         f"shape {input.shape}, diagonal={diagonal!r}")
    m, n = input.shape[-2:]
    keep = np.tri(m, n, int(diagonal), dtype=bool) if lower else ~np.tri(m, n, int(diagonal) - 1, dtype=bool)
    return ops.Where.apply(input, 0.0, input.device.xp.asarray(keep))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle: zeros above the ``diagonal``-th diagonal (torch.tril)."""
    return _triangle("tril", input, diagonal, True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle: zeros below the ``diagonal``-th diagonal (torch.triu)."""
    return _triangle("triu", input, diagonal, False)


def tril_(input: Tensor, diagonal: int = 0) -> Tensor:
    return _in_place_result(input, "tril_", lambda x: tril(x, diagonal), expanded="")


def triu_(input: Tensor, diagonal: int = 0) -> Tensor:
    return _in_place_result(input, "triu_", lambda x: triu(x, diagonal), expanded="")


def _diagonal_positions(m: int, n: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the ``offset``-th diagonal of an (m, n) matrix (above the main one for
    offset > 0)."""
    length = builtins.max(builtins.min(m, n - offset) if offset >= 0 else builtins.min(m + offset, n), 0)
    steps = np.arange(length)
    return steps + builtins.max(-offset, 0), steps + builtins.max(offset, 0)


def diagonal_planes(op: str, input: Tensor, offset: Any, dim1: Any, dim2: Any) -> tuple:
    """(planes, key, (d1, d2)): input with dims (dim1, dim2) moved last, the index of its
    ``offset``-th diagonal in them, and the two dims -- checked, for diagonal and
    diagonal_scatter."""
    if input.ndim < 2 or not _is_int(offset):
        if isinstance(offset, Tensor) and _is_int(_int_of(offset)):
            return diagonal_planes(op, input, _int_of(offset), dim1, dim2)
        raise ShapeError(f"{op}: input must have at least 2 dims and offset must be an int, "
                         f"got shape {input.shape}, offset={offset!r}")
    d1, d2 = input._dim(dim1, op), input._dim(dim2, op)
    if d1 == d2:
        raise ShapeError(f"{op}: dim1 and dim2 are the same dim ({d1})")
    planes = movedim(input, (d1, d2), (-2, -1))
    rows, cols = _diagonal_positions(*planes.shape[-2:], int(offset))
    xp = input.device.xp
    return planes, (Ellipsis, xp.asarray(rows), xp.asarray(cols)), (d1, d2)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset``-th diagonal of the planes (dim1, dim2), as the last dim (torch.diagonal).
    A view, as torch's: ``x.diagonal().fill_(1)`` / ``cov.diagonal().add_(eps)`` write ``x``.
    The graph records it as the gather it equals (its gradient: a scatter into zeros)."""
    planes, key, _ = diagonal_planes("diagonal", input, offset, dim1, dim2)
    out = planes[key]
    view = _diagonal_view(planes.array, int(_int_of(offset)))
    if view is not None:        # the same values, in the input's memory
        out.array = view
        share_view(planes, out)
    return out


def _diagonal_view(a: Any, offset: int) -> Any:
    """The ``offset``-th diagonal of the last two dims of array ``a`` as a writable view of its
    memory (NumPy's own ``diagonal`` is read-only; CuPy's is a view), or None if it has none."""
    corner = a[..., :, offset:] if offset >= 0 else a[..., -offset:, :]
    length = builtins.max(builtins.min(corner.shape[-2], corner.shape[-1]), 0)
    if not isinstance(a, np.ndarray):
        view = a.diagonal(offset, -2, -1)
        return view if view.base is not None else None
    shape = corner.shape[:-2] + (length,)
    strides = corner.strides[:-2] + (corner.strides[-2] + corner.strides[-1],)
    owner = a if a.base is None else a.base
    if not isinstance(owner, np.ndarray) or not owner.flags.writeable:
        return _strided_diagonal(corner, shape, strides)
    buffer = owner
    if not (owner.flags.c_contiguous or owner.flags.f_contiguous):
        # a dense owner in another dim order (clone(preserve_format) of a permuted tensor) is
        # C-contiguous with its dims sorted by stride: that view exports the same buffer
        buffer = owner.transpose(np.argsort([-st for st in owner.strides], kind="stable"))
        if not buffer.flags.c_contiguous:
            return _strided_diagonal(corner, shape, strides)
    start = corner.__array_interface__["data"][0] - owner.__array_interface__["data"][0] \
        if corner.size else 0
    # a view over the owner's buffer: its .base is the owner (NumPy collapses a view's base to
    # the array that owns the memory), so the engine sees the sharing
    return np.ndarray(shape, a.dtype, buffer=buffer, offset=start, strides=strides)


def _strided_diagonal(corner: np.ndarray, shape: tuple, strides: tuple) -> np.ndarray | None:
    """The diagonal of ``corner``'s last two dims as an as_strided view of its memory, where its
    owner exports no buffer (view_as_real's pairs of a sliced tensor, whose base is NumPy's
    DummyArray; an owner with holes): writes through it land in the input, as torch's.  None
    (a copy) for read-only memory."""
    if not corner.flags.writeable:
        return None
    return np.lib.stride_tricks.as_strided(corner, shape, strides, writeable=True)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Each vector along the last dim laid on the ``offset``-th diagonal of a square matrix in the
    planes (dim1, dim2) of the result, zeros elsewhere (torch.diag_embed)."""
    if input.ndim < 1:              # (torch's IndexError: dim1=-2 out of range)
        raise IndexOutOfRangeError("diag_embed: input must have at least 1 dim, got a 0-d tensor")
    if not _is_int(offset):
        raise ShapeError(f"diag_embed: input must have at least 1 dim and offset must be an int, "
                         f"got shape {input.shape}, offset={offset!r}")
    d1, d2 = _dims("diag_embed", (dim1, dim2), input.ndim + 1)
    size = input.shape[-1] + abs(int(offset))
    rows, cols = _diagonal_positions(size, size, int(offset))
    xp = input.device.xp
    planes = ops.ScatterIntoZeros.apply(input, input.shape[:-1] + (size, size),
                                        (Ellipsis, xp.asarray(rows), xp.asarray(cols)))
    return movedim(planes, (-2, -1), (d1, d2))


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """torch.diag: a 1-D input as the ``diagonal``-th diagonal of a square matrix; a 2-D input's
    ``diagonal``-th diagonal -- a new tensor, as torch's (torch.diagonal is the view)."""
    if input.ndim == 1:
        return diag_embed(input, diagonal)
    if input.ndim == 2:
        planes, key, _ = diagonal_planes("diag", input, diagonal, 0, 1)
        return planes[key]          # (advanced indexing: a copy)
    raise ShapeError(f"diag: input must be 1-D or 2-D, got shape {input.shape}")


def _vectors(op: str, *tensors: Any) -> None:
    for t in tensors:
        if _tensor(op, t, "each argument").ndim != 1:
            raise ShapeError(f"{op}: expects 1-D tensors, got shape {t.shape}")


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two vectors, (n,) x (m,) -> (n, m) (torch.outer, ger)."""
    _vectors("outer", input, vec2)
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """The dot product of two 1-D tensors of one size (torch.dot; vdot for real numbers)."""
    _vectors("dot", input, tensor)
    _one_dtype("dot", input=input, tensor=tensor)
    if input.shape != tensor.shape:
        raise ShapeError(f"dot: 1-D tensors of one size expected, got {input.shape} and {tensor.shape}")
    return (input * tensor).sum()


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """torch.vdot: :func:`dot` (no complex numbers to conjugate), with torch's keyword ``other``."""
    return dot(input, other)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix (n, m) times vector (m,) (torch.mv)."""
    if input.ndim != 2 or _tensor("mv", vec, "vec").ndim != 1 or input.shape[1] != vec.shape[0]:
        raise ShapeError(f"mv: needs an (n, m) matrix and an (m,) vector, got {input.shape} and "
                         f"{getattr(vec, 'shape', None)}")
    return input @ vec


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sums of products over the last dims (torch.inner): shape input.shape[:-1] + other.shape[:-1];
    with a 0-d operand, the product."""
    _tensor("inner", other, "other")
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    k = input.shape[-1]
    if other.shape[-1] != k:
        raise ShapeError(f"inner: last dims differ: {input.shape} and {other.shape}")
    product = input.reshape(-1, k) @ other.reshape(-1, k).T
    return product.reshape(input.shape[:-1] + other.shape[:-1])


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product (torch.kron): block (i, j, ...) is ``input[i, j, ...] * other``;
    the smaller rank gets leading dims of size 1."""
    _tensor("kron", input)
    _tensor("kron", other, "other")
    nd = builtins.max(input.ndim, other.ndim)
    sa = (1,) * (nd - input.ndim) + input.shape
    sb = (1,) * (nd - other.ndim) + other.shape
    a = input.reshape(tuple(n for s in sa for n in (s, 1)))
    b = other.reshape(tuple(n for s in sb for n in (1, s)))
    return (a * b).reshape(tuple(p * q for p, q in zip(sa, sb)))


def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors (0-d as 1x1, 1-D as one row) along the diagonal of one matrix, zeros elsewhere
    (torch.block_diag); none at all: an empty 1 x 0 matrix, as torch's."""
    if not tensors:
        return Tensor(np.zeros((1, 0), dtype=get_default_dtype()))
    blocks = [t.reshape(1, -1) if t.ndim < 2 else t for t in _tensor_list("block_diag", tensors)]
    if any(b.ndim != 2 for b in blocks):
        raise ShapeError(f"block_diag: tensors must have at most 2 dims, got "
                         f"{[t.shape for t in tensors]}")
    width = builtins.sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        r, c = b.shape
        rows.append(concat([b.new_zeros(r, left), b, b.new_zeros(r, width - left - c)], 1))
        left += c
    return concat(rows, 0)


_meshgrid_warned = False


def meshgrid(*tensors: Tensor, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors (torch.meshgrid): each expanded to shape (n1, n2, ...);
    ``indexing='xy'`` swaps the first two dims (NumPy's, the Cartesian convention). Without
    ``indexing``: 'ij', with torch's UserWarning (once per process, as torch's) that it will be
    required."""
    global _meshgrid_warned
    if indexing is None:
        indexing = "ij"
        if not _meshgrid_warned:
            _meshgrid_warned = True
            import warnings
            warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                          "indexing argument.", UserWarning, stacklevel=2)
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    ts = _tensor_list("meshgrid", tensors)
    if indexing not in ("ij", "xy"):
        raise ConfigError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if any(t.ndim > 1 for t in ts):
        raise ShapeError(f"meshgrid: expects 0-D or 1-D tensors, got {[t.shape for t in ts]}")
    _one_dtype("meshgrid", **{f"tensors[{i}]": t for i, t in enumerate(ts)})   # torch refuses mixing
    place = list(range(len(ts)))
    if indexing == "xy" and len(ts) > 1:
        place[0], place[1] = 1, 0
    shape = [0] * len(ts)
    for t, p in zip(ts, place):
        shape[p] = t.numel()
    return tuple(t.reshape(tuple(-1 if i == p else 1 for i in range(len(ts)))).expand(*shape)
                 for t, p in zip(ts, place))


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of the 1-D tensors' elements, one per row (torch.cartesian_prod; one
    tensor: itself)."""
    _vectors("cartesian_prod", *tensors)
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements where the bool ``mask`` holds (the two broadcast together), as a 1-D tensor
    (torch.masked_select)."""
    if not isinstance(mask, Tensor) or mask.dtype != BOOL:
        raise InputTypeError(f"masked_select: mask must be a bool tensor, got "
                             f"{getattr(mask, 'dtype', type(mask).__name__)}")
    shape = broadcast_shape("masked_select: input {0} and mask {1} do not broadcast", input.shape, mask.shape)
    wide = Tensor._make(input.device.xp.broadcast_to(mask.array, shape), mask.device)
    return ops.torch_node(input.expand(*shape)[wide], "MaskedSelectBackward0")


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """The indices of the nonzero (True) elements (torch.nonzero): an (N, ndim) tensor, or with
    ``as_tuple`` one 1-D tensor per dim; whole numbers in the input's float dtype (float32 for a
    bool input), outside the graph."""
    a = input.numpy()
    if as_tuple:
        return tuple(_as_indices(input, i, "nonzero") for i in np.nonzero(np.atleast_1d(a)))
    return _as_indices(input, np.argwhere(a), "nonzero")


def argwhere(input: Tensor) -> Tensor:
    """``nonzero(input)`` (torch.argwhere)."""
    return nonzero(input)


def where(input: Tensor, condition: Tensor, other: Any) -> Tensor:
    """The method ``x.where(condition, y)``: ``tg.where(condition, x, y)``."""
    from .factory import where as where3
    return where3(condition, input, other)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct elements (slices along ``dim``), sorted (torch.unique; always sorted here),
    with optionally each element's position among them and their counts (whole numbers in the
    input's float dtype). Not differentiable.  NaNs are each distinct, as torch's (NaN != NaN):
    NumPy's default folds them into one."""
    d = None if dim is None else input._dim(dim, "unique")
    values, inverse, counts = np.unique(input.numpy(), return_inverse=True, return_counts=True, axis=d,
                                        equal_nan=False)     # (a 1-D input's dim=0 folded them too)
    out = Tensor._make(input.device.xp.asarray(values), input.device)
    extra = []
    if return_inverse:
        inverse = inverse.reshape(input.shape if d is None else (input.shape[d],))
        extra.append(_as_indices(input, inverse, "unique"))
    if return_counts:
        extra.append(_as_indices(input, counts, "unique"))
    return (out, *extra) if extra else out


def _side(right: bool, side: str | None) -> str:
    if side not in (None, "left", "right") or (side == "left" and right):
        raise ConfigError(f"searchsorted: side must be 'left' or 'right' and agree with right="
                          f"{right}, got {side!r}")
    return side or ("right" if right else "left")


def _search_values(input: Any, dtype: Any) -> np.ndarray:
    """searchsorted's non-tensor ``input`` (a number, or a list / array of them) as an array of
    the sequence's dtype; a string or None is refused (a TypeError, as torch's)."""
    try:
        if input is None or isinstance(input, (str, bytes)):
            raise TypeError
        return np.asarray(input, dtype=dtype)
    except (TypeError, ValueError):
        raise InputTypeError(f"searchsorted: input must be a Tensor or a number, got "
                             f"{type(input).__name__} {input!r}") from None


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Any = None) -> Tensor:
    """For each value, the index where it would go in the sorted last dim of ``sorted_sequence``
    (the first such place; ``right=True`` / ``side='right'``: the last) -- torch.searchsorted. An
    N-D sequence searches each row with the matching row of ``input``. The indices are int64
    (int32 with ``out_int32``)."""
    seq = _tensor("searchsorted", sorted_sequence, "sorted_sequence").numpy()
    values = input.numpy() if isinstance(input, Tensor) else _search_values(input, seq.dtype)
    if sorter is not None:
        seq = np.take_along_axis(seq, _whole("searchsorted", sorter, "sorter", long=True), -1)
    how = _side(right, side)
    if seq.ndim <= 1:
        found = np.searchsorted(seq.reshape(-1), values, side=how)
    elif seq.shape[:-1] != values.shape[:-1]:
        raise ShapeError(f"searchsorted: sorted_sequence {seq.shape} and input {values.shape} "
                         f"must match in every dim but the last")
    else:
        found = np.stack([np.searchsorted(s, v, side=how) for s, v in zip(
            seq.reshape(-1, seq.shape[-1]), values.reshape(-1, values.shape[-1]))]).reshape(values.shape)
    out = _as_indices(input if isinstance(input, Tensor) else sorted_sequence, found, "searchsorted")
    return out.int() if out_int32 else out


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value among the sorted 1-D ``boundaries`` (torch.bucketize): i with
    boundaries[i-1] < x <= boundaries[i] (``right=True``: boundaries[i-1] <= x < boundaries[i])."""
    if _tensor("bucketize", boundaries, "boundaries").ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be 1-D, got shape {boundaries.shape}")
    return searchsorted(boundaries, input, right=right, out_int32=out_int32)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ..., max occurs in the 1-D tensor of non-negative integers
    ``input`` (at least ``minlength`` bins), int64; with ``weights`` (same shape) the sum of the
    weights in each bin, in their dtype (torch.bincount; no gradient)."""
    values = _tensor("bincount", input, "input")
    if values.dtype.kind not in "iu" or values.ndim != 1:
        raise InputTypeError(f"bincount: input must be a 1-D integer tensor, got a {values.dtype} "
                             f"tensor of shape {values.shape}")
    if not _is_int(minlength) or minlength < 0:
        raise InputTypeError(f"bincount: minlength must be an int >= 0, got {minlength!r}")
    host = values.numpy()
    if host.size and host.min() < 0:
        raise InputTypeError(f"bincount: input must be non-negative, got {host.min()}")
    if weights is None:
        counts = np.bincount(host, minlength=int(minlength)).astype(np.int64)
        return Tensor._make(values.device.xp.asarray(counts), values.device)
    w = _tensor("bincount", weights, "weights")
    if w.shape != values.shape:
        raise ShapeError(f"bincount: weights {w.shape} must have input's shape {values.shape}")
    dtype = w.dtype if w.dtype.kind == "f" else np.dtype(np.float64)
    sums = np.bincount(host, weights=w.detach().numpy(), minlength=int(minlength)).astype(dtype)
    return Tensor._make(values.device.xp.asarray(sums), values.device)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """The ``n``-th forward difference along ``dim``, after joining ``prepend`` and ``append``
    there (torch.diff)."""
    d = input._dim(dim, "diff")
    if not _is_int(n):
        raise InputTypeError(f"diff: n must be an int >= 0, got {n!r}")
    if n < 0:
        raise DiffOrderError(f"diff: n must be an int >= 0 (the order of the difference), got {n}")
    if n == 0:      # torch returns the input itself (a copy), leaving prepend / append out
        return input.clone()
    x = concat([t for t in (prepend, input, append) if t is not None], d)
    for _ in range(int(n)):
        length = x.shape[d]
        if length == 0:
            break
        later, earlier = x.narrow(d, 1, length - 1), x.narrow(d, 0, length - 1)
        x = later ^ earlier if x.dtype == BOOL else later - earlier    # bool: torch's xor
    return x


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")


def distance_order(op: str, p: Any, **tensors: Tensor) -> float:
    """cdist / pdist's ``p`` as a float, after their checks, typed as torch's: a floating-point
    input (torch's "only supports floating-point dtypes" RuntimeError, not norm's or ``-``'s
    error further in), a real-number p (TypeError) and one >= 0, NaN refused (RuntimeError)."""
    for name, t in tensors.items():
        if not t.is_floating_point():
            raise DTypeError(f"{op}: {name} must be a floating-point tensor ({op} supports "
                             f"floating-point dtypes only), got {t.dtype}")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise ConfigTypeError(f"{op}: p must be a real number, got {type(p).__name__} {p!r}")
    if not p >= 0:                                                      # NaN fails it too
        raise DistanceOrderError(f"{op}: p must be >= 0 ({op} supports non-negative p only), got {p!r}")
    return float(p)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distance between each row of ``x1`` (..., P, M) and each of ``x2`` (..., R, M):
    (..., P, R), batch dims broadcast (torch.cdist). The gradient at distance 0 is 0, as torch's."""
    for name, t in (("x1", x1), ("x2", x2)):
        if _tensor("cdist", t, name).ndim < 2:
            raise ShapeError(f"cdist: {name} must have at least 2 dims, got shape {t.shape}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist: x1 {x1.shape} and x2 {x2.shape} differ in the last dim")
    p = distance_order("cdist", p, x1=x1, x2=x2)
    _one_dtype("cdist", x1=x1, x2=x2)
    if compute_mode not in _CDIST_MODES:      # each computed directly here (no matmul form)
        raise ConfigError(f"cdist: {compute_mode!r} is not a valid value for compute_mode (one of "
                          f"{', '.join(map(repr, _CDIST_MODES))})")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p != math.inf:
        return diff.norm(p, dim=-1)
    if diff.shape[-1] == 0:     # no coordinates: distance 0, as torch's (amax would refuse)
        return diff.sum(-1)
    # p = inf: every coordinate tied for the largest |difference| gets the full gradient (sign
    # times it), as torch's cdist backward -- not shared as norm(inf)'s is.
    size = diff.abs()
    top = size.detach().amax(-1, keepdim=True)
    return top.squeeze(-1) + ((size - top) * (size.detach() == top)).sum(-1)


# ---------------------------------------------------------------------------------------------
# 5. Running extremes, splits, indexing by tuples and by flat positions, sampling
# ---------------------------------------------------------------------------------------------
class _EmptyRunningExtreme(ops.Clone):
    """cummax / cummin of an empty tensor: an empty copy whose gradient is the input itself, as
    torch's cummaxmin_backward returns it -- so a create_graph gradient requires grad and a
    second gradient through it is zeros, not a "does not require grad" error."""
    saves_nothing = reads_inputs = False

    def grad_graph(self, g):
        return (self.inputs[0],)


def _running_extreme(op: str, input: Tensor, dim: int, larger: bool) -> MinMax:
    """cummax / cummin: the running extreme along ``dim`` and where it was met -- the last such
    place on ties, and the latest NaN once one is met (NaN propagates), as torch's. The values
    are the input's elements at the indices, so the gradient goes to the chosen element."""
    x = input.reshape(1) if input.ndim == 0 else input
    d = _dim(op, input, dim)
    a = x.numpy()
    running = (np.maximum if larger else np.minimum).accumulate(a, axis=d) if a.size else a
    steps = np.arange(x.shape[d]).reshape((-1,) + (1,) * (x.ndim - 1 - d))
    hits = (a == running) | (a != a)        # a new (or tied) extreme, or a NaN
    indices = np.maximum.accumulate(np.where(hits, steps, 0), axis=d) if a.size else a.astype(np.int64)
    if input.ndim == 0:          # (the element itself: one node, as torch's)
        values, indices = input.clone(), indices.reshape(())
    elif a.size == 0:
        values = _EmptyRunningExtreme.apply(x)
    else:
        values = x[_key_along(x, d, indices)]
    node = "CummaxBackward0" if larger else "CumminBackward0"
    return MinMax(ops.torch_node(values, node), _as_indices(input, indices, op))


def cummax(input: Tensor, dim: int) -> MinMax:
    """``(values, indices)``: the largest element so far along ``dim`` and its index, int64
    (torch.cummax; the last index among equal maxima)."""
    return _running_extreme("cummax", input, dim, True)


def cummin(input: Tensor, dim: int) -> MinMax:
    """``(values, indices)``: the smallest element so far along ``dim`` and its index (torch.cummin)."""
    return _running_extreme("cummin", input, dim, False)


def _split_spec(op: str, spec: Any) -> Any:
    """tensor_split's ``indices_or_sections``: an int (sections) or a list of ints (split points);
    a 0-d integer tensor is sections, a 1-D one split points."""
    if isinstance(spec, Tensor):
        if spec.dtype.kind not in "iu" or spec.ndim > 1:
            raise InputTypeError(f"{op}: indices_or_sections as a tensor must be a 0-D or 1-D integer "
                                 f"tensor, got {spec.dtype} of shape {spec.shape}")
        spec = int(spec.item()) if spec.ndim == 0 else [int(i) for i in spec.numpy()]
    if _is_int(spec):
        if spec <= 0:
            raise ShapeError(f"{op}: the number of sections must be > 0, got {spec}")
        return int(spec)
    if not isinstance(spec, (tuple, list)) or not all(_is_int(i) for i in spec):
        raise InputTypeError(f"{op}: indices_or_sections must be an int or a sequence of ints, got {spec!r}")
    return [int(i) for i in spec]


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Views of ``input`` along ``dim`` (torch.tensor_split): ``n`` sections (the first ``size % n``
    one longer), or split before each index of a list, as Python slices (negative from the end,
    past the end clamped, a decreasing one giving an empty piece)."""
    d = input._dim(dim, "tensor_split")
    spec = _split_spec("tensor_split", indices_or_sections)
    if isinstance(spec, int):
        size, extra = divmod(input.shape[d], spec)
        spec = [int(i) for i in np.cumsum([size + 1] * extra + [size] * (spec - extra))[:-1]]
    bounds = [None, *spec, None]
    return tuple(input[(slice(None),) * d + (slice(start, stop),)] for start, stop in zip(bounds, bounds[1:]))


def _split_on(op: str, input: Tensor, indices_or_sections: Any, dim: int, min_ndim: int) -> tuple:
    """hsplit / vsplit / dsplit: tensor_split along ``dim``, sections dividing the dim evenly."""
    if input.ndim < min_ndim:
        raise ShapeError(f"{op}: input must have at least {min_ndim} dims, got shape {input.shape}")
    spec = _split_spec(op, indices_or_sections)
    if isinstance(spec, int) and input.shape[dim] % spec:
        raise ShapeError(f"{op}: dim {dim} of size {input.shape[dim]} does not divide into {spec} "
                         f"equal sections")
    return tensor_split(input, spec, dim)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """tensor_split along dim 1 (dim 0 of a 1-D tensor); sections must divide it (torch.hsplit)."""
    return _split_on("hsplit", input, indices_or_sections, 1 if input.ndim >= 2 else 0, 1)


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """tensor_split along dim 0 of an at least 2-D tensor (torch.vsplit)."""
    return _split_on("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """tensor_split along dim 2 of an at least 3-D tensor (torch.dsplit)."""
    return _split_on("dsplit", input, indices_or_sections, 2, 3)


def _tuple_key(op: str, input: Tensor, indices: Any) -> tuple[tuple, tuple]:
    """index_put's ``indices`` (a tuple of integer or bool tensors, one per leading dim) as an
    indexing key on ``input``'s device, and the shape ``input[key]`` has (range checked)."""
    if not isinstance(indices, (tuple, list)) or not all(isinstance(i, Tensor) for i in indices):
        raise InputTypeError(f"{op}: indices must be a tuple of Tensors, got {type(indices).__name__}")
    if any(i.dtype.kind not in "iub" for i in indices):
        raise InputTypeError(f"{op}: index tensors must be integer or bool tensors, got "
                             f"{[str(i.dtype) for i in indices]}")
    small = [str(i.dtype) for i in indices if i.dtype.kind in "iu" and i.ndim
             and i.dtype not in _POSITION_DTYPES and i.dtype != np.uint8]    # (uint8: a mask)
    if small:
        raise IndexDTypeError(f"{op}: tensors used as indices must be long, int, byte or bool "
                              f"tensors (as torch), got {small}; convert with .long()")
    if len(indices) > input.ndim:
        raise IndexOutOfRangeError(f"{op}: {len(indices)} index tensors for a tensor with {input.ndim} dims")
    host = tuple(_byte_as_mask(i.numpy()) for i in indices)
    _check_mask_shapes(host, input.shape)        # (NumPy takes an empty mask of any shape)
    try:
        shape = np.broadcast_to(np.empty((), dtype=bool), input.shape)[host].shape
    except IndexError as exc:
        raise IndexOutOfRangeError(f"{op}: indices into a tensor of shape {input.shape}: {exc}") from None
    return tuple(input.device.xp.asarray(h) for h in host), shape


def _byte_as_mask(index: np.ndarray) -> np.ndarray:
    """A uint8 index as the bool mask torch reads it as (deprecated there, warned), not positions."""
    if index.dtype != np.uint8:
        return index
    warnings.warn(_BYTE_MASK_WARNING, UserWarning, stacklevel=4)
    return index.astype(BOOL)


def _refuse_byte_masked_fill(op: str, indices: Any, values: Any, accumulate: bool) -> None:
    """torch writes index_put with one mask and a one-element value by masked_fill_, which refuses
    a uint8 mask (a RuntimeError there)."""
    if (not accumulate and isinstance(indices, (tuple, list)) and len(indices) == 1
            and getattr(indices[0], "dtype", None) == np.uint8 and getattr(values, "numel", lambda: 0)() == 1):
        raise DTypeError(f"{op}: masked_fill_ only supports boolean masks, but got mask with dtype "
                         f"uint8 (as torch, for one mask and a one-element value); use mask.bool()")


def index_put(input: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """``input`` with ``input[indices] = values`` (torch.index_put; ``values`` broadcast to the
    indexed shape); ``accumulate=True`` adds instead, repeated places adding up."""
    key, shape = _tuple_key("index_put", input, indices)      # (a mask's shape named first, as torch)
    _refuse_byte_masked_fill("index_put", indices, values, accumulate)
    values = _operand_like("index_put", input, values, "values")
    if values.dtype != input.dtype:
        raise DTypeError(f"index_put: values must have the input's dtype {input.dtype}, got {values.dtype}")
    broadcast_shape("index_put: values of shape {0} do not broadcast to the indexed shape {1}",
                    values.shape, shape)
    if accumulate:
        return input + _ScatterIntoMinusZeros.apply(values.expand(*shape), input.shape, key)
    return ops.SetItem.apply(input, values, key)


def index_put_(input: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    if isinstance(values, Tensor) and isinstance(indices, (tuple, list)) and (
            accumulate or values.numel() != 1 or len(indices) != 1
            or getattr(indices[0], "dtype", None) not in (BOOL, np.uint8)):
        # torch's assert_no_overlap (a single mask and a one-element value: masked_fill_, unchecked)
        _refuse_partial_overlap("index_put_", input.array, (values,), full=True)
    return _in_place_result(input, "index_put_", lambda x: index_put(x, indices, values, accumulate), values,
                            expanded="index_put_")


def _flat_positions(op: str, input: Tensor, index: Any) -> np.ndarray:
    """Whole-number positions in the flattened ``input`` (negative from the end), checked."""
    return _in_range(op, _whole(op, index, long=True), 0, input.numel(), negative=True)


def take(input: Tensor, index: Any) -> Tensor:
    """The elements of the flattened ``input`` at ``index``, in the index's shape (torch.take)."""
    flat = input.reshape(-1)
    return ops.torch_node(flat[flat.device.xp.asarray(_flat_positions("take", input, index))],
                          "TakeBackward0")


def put(input: Tensor, index: Any, source: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` with the flattened positions ``index`` set to ``source``'s elements (as many as
    the index has), or with ``accumulate=True`` added, repeats adding up (torch.put)."""
    positions = _flat_positions("put", input, index).reshape(-1)
    if _tensor("put", source, "source").numel() != positions.size:
        raise ShapeError(f"put: source has {source.numel()} elements but index has {positions.size}")
    flat_index = Tensor._make(input.device.xp.asarray(positions), input.device)
    return index_put(input.reshape(-1), (flat_index,), source.reshape(-1), accumulate).reshape(input.shape)


def put_(input: Tensor, index: Any, source: Tensor, accumulate: bool = False) -> Tensor:
    return _in_place_result(input, "put_", lambda x: put(x, index, source, accumulate), source)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    """Category indices drawn with probabilities proportional to the non-negative weights of each
    row (1-D: one distribution; 2-D: one per row) -- int64, (num_samples,) or (rows, num_samples)
    (torch.multinomial). Without replacement no category repeats, so each row needs at least
    ``num_samples`` nonzero weights (torch would draw zero-weight ones then); the draws come in
    the order sequential sampling gives. From ``generator`` (or the default one): torch's
    distribution, not torch's stream."""
    weights = _sampling_weights(input, num_samples, replacement)
    rng = resolve(generator, device=input.device).rng
    if replacement:
        cdf = np.cumsum(weights, axis=1)
        u = rng.random((weights.shape[0], int(num_samples))) * cdf[:, -1:]
        picks = np.stack([np.searchsorted(c, row, side="right") for c, row in zip(cdf, u)]) if len(u) else u
        last = weights.shape[1] - 1 - np.argmax(weights[:, ::-1] > 0, axis=1)     # rounding at the top
        picks = np.minimum(picks, last[:, None]) if len(u) else picks
    else:       # exponential races: the first num_samples arrivals are a sequential draw
        with np.errstate(divide="ignore"):
            arrival = rng.standard_exponential(weights.shape) / weights
        picks = np.argsort(arrival, axis=1, kind="stable")[:, :int(num_samples)]
    picks = picks.astype(np.int64).reshape(weights.shape[0], int(num_samples))
    return _as_indices(input, picks if input.ndim == 2 else picks[0], "multinomial")


def _sampling_weights(input: Tensor, num_samples: int, replacement: bool) -> np.ndarray:
    """multinomial's weights as a host float64 (rows, categories) array, checked as torch does."""
    if _tensor("multinomial", input).dtype.kind != "f":
        raise DTypeError(f"multinomial: input must be a float tensor of weights, got {input.dtype}")
    if input.ndim not in (1, 2):
        raise ShapeError(f"multinomial: input must be 1-D or 2-D, got shape {input.shape}")
    num_samples = _int_of(num_samples)
    if not _is_int(num_samples):      # torch: a TypeError (a float or a bool count)
        raise ConfigTypeError(f"multinomial: num_samples must be an int > 0, got {num_samples!r}")
    if num_samples <= 0:              # the rest: RuntimeErrors in torch (SamplingWeightsError is both)
        raise SamplingWeightsError(f"multinomial: num_samples must be an int > 0, got {num_samples!r}")
    rows = input.shape[0] if input.ndim == 2 else 1     # (reshape(-1, 0) is ambiguous)
    weights = input.detach().numpy().astype(np.float64).reshape(rows, input.shape[-1])
    if not (np.isfinite(weights) & (weights >= 0)).all():
        raise SamplingWeightsError("multinomial: the weights must be finite and >= 0 (got inf, NaN "
                                   "or a negative weight)")
    if weights.shape[0] and (weights.sum(axis=1) <= 0).any():     # (a row of no categories too)
        raise SamplingWeightsError("multinomial: a row of weights sums to 0 (no category can be "
                                   "drawn)")
    fewest = int((weights > 0).sum(axis=1).min()) if weights.shape[0] else num_samples
    if not replacement and num_samples > fewest:
        raise SamplingWeightsError(f"multinomial: cannot draw {num_samples} samples without "
                                   f"replacement from a row with {fewest} nonzero weights")
    return weights


# ---------------------------------------------------------------------------------------------
# The Tensor methods and the tg.* function forms
# ---------------------------------------------------------------------------------------------
_METHODS = (
    "movedim", "moveaxis", "swapaxes", "swapdims", "ravel", "reshape_as", "broadcast_to", "roll",
    "tile", "repeat_interleave", "fliplr", "flipud", "rot90", "select", "gather", "scatter",
    "scatter_", "scatter_add", "scatter_add_", "scatter_reduce", "scatter_reduce_", "index_add", "index_add_", "index_copy",
    "index_copy_", "index_fill", "index_fill_", "take_along_dim", "sort", "argsort", "msort",
    "topk", "kthvalue", "tril", "triu", "tril_", "triu_", "diagonal", "diag_embed", "diag",
    "outer", "ger", "dot", "vdot", "mv", "inner", "kron", "masked_select", "nonzero", "argwhere",
    "where", "unique", "diff", "bincount", "cummax", "cummin", "tensor_split", "hsplit", "vsplit",
    "dsplit", "index_put", "index_put_", "take", "put", "put_", "multinomial")
# the function forms that take a tensor first (tg.where is factory.where; tg.diag etc. below)
FUNCTION_FORMS = tuple(n for n in _METHODS if not n.endswith("_") and n not in ("where", "reshape_as"))


for _name in _METHODS:
    setattr(Tensor, _name, globals()[_name])
functions = {name: _function_form(name) for name in FUNCTION_FORMS}   # tg.roll(x, ...) is x.roll(...)
