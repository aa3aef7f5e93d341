"""torch's memory formats: ``contiguous_format`` (row-major NCHW), ``channels_last`` (4-D, the
channels innermost: NHWC in memory), ``channels_last_3d`` (5-D, NDHWC) and ``preserve_format``.

A tensor keeps its logical (N, C, H, W) shape in every format; only the strides of its array
differ, exactly as torch's: ``x.to(memory_format=tg.channels_last)`` / ``x.contiguous(
memory_format=...)`` re-lay the data, ``x.is_contiguous(memory_format=...)`` and ``x.stride()``
tell which layout a tensor has. Values and gradients never depend on it. Elementwise ops lay
out their results as torch's TensorIterator (the first operand's layout decides: ``cl + c`` is
channels_last, ``c + cl`` contiguous; see :func:`iterator_order`), convolutions, batch / group
norm, pools, pad, interpolate and pixel_(un)shuffle return a channels_last input's layout,
reductions (prod, any / all too), scans (cumsum / cumprod) and softmax C order, as torch's;
``Module.to(memory_format=...)`` re-lays its 4-D / 5-D parameters and buffers (torch's rule;
the kernels take either layout)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputTypeError, ShapeError

__all__ = ["memory_format", "contiguous_format", "channels_last", "channels_last_3d",
           "preserve_format"]


class memory_format:
    """torch.memory_format: one of the four format objects below."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

_RANK = {"channels_last": 4, "channels_last_3d": 5}


def check(fmt: Any, op: str) -> memory_format:
    if not isinstance(fmt, memory_format):
        raise InputTypeError(f"{op}: memory_format must be one of tg.contiguous_format, "
                             f"tg.channels_last, tg.channels_last_3d, tg.preserve_format; got "
                             f"{fmt!r}")
    return fmt


def order(fmt: memory_format, shape: tuple, op: str) -> "tuple | None":
    """The axes from outermost to innermost in memory (None: row-major)."""
    if fmt is contiguous_format:
        return None
    rank = _RANK[fmt.name]
    if len(shape) != rank:
        raise ShapeError(f"{op}: required rank {rank} tensor to use {fmt.name} format, got "
                         f"shape {tuple(shape)}")
    return (0,) + tuple(range(2, rank)) + (1,)


def has_format(array: Any, fmt: memory_format) -> bool:
    """Whether ``array``'s strides are those of ``fmt`` (dims of size 1 do not count, as torch)."""
    if fmt is contiguous_format:
        return bool(array.flags.c_contiguous)
    if array.ndim != _RANK[fmt.name]:
        return False
    axes = (0,) + tuple(range(2, array.ndim)) + (1,)
    expected = array.itemsize
    for axis in reversed(axes):
        size = array.shape[axis]
        if size != 1 and array.strides[axis] != expected:
            return False
        expected *= size
    return True


def relayout(xp: Any, array: Any, axes: tuple) -> Any:
    """``array``'s values, laid out in memory in the order ``axes``."""
    if not array.size:      # nothing to copy; NumPy 2 would give a fresh empty array zero strides
        return xp.lib.stride_tricks.as_strided(xp.empty(0, dtype=array.dtype), array.shape,
                                               relayout_strides(array, axes))
    moved = array.transpose(axes)
    out = xp.empty(moved.shape, dtype=array.dtype)     # a fresh array: canonical strides even
    out[...] = moved                                  # for dims of size 1 (N1HW)
    return out.transpose(tuple(np.argsort(axes)))


def relayout_strides(array: Any, axes: tuple) -> tuple:
    """The byte strides of ``array``'s shape laid out in the order ``axes``."""
    strides = [0] * array.ndim
    step = array.itemsize
    for axis in reversed(axes):
        strides[axis] = step
        step *= array.shape[axis]
    return tuple(strides)


def suggest(array: Any) -> memory_format:
    """The format a result made from ``array`` keeps (torch's suggest_memory_format)."""
    if array.ndim in (4, 5) and (not array.flags.c_contiguous or not array.size):   # (an empty
        # array is C-contiguous whatever its strides: torch reads them, as has_format does)
        fmt = channels_last if array.ndim == 4 else channels_last_3d
        if has_format(array, fmt):
            return fmt
    return contiguous_format


def _checked_formats(ambiguity_check: Any) -> list | None:
    """dim_order's ``ambiguity_check``: None for a bool, the list of memory formats else."""
    if isinstance(ambiguity_check, bool):
        return None
    if not isinstance(ambiguity_check, list) or not all(isinstance(f, memory_format) for f in ambiguity_check):
        raise InputTypeError("dim_order: the ambiguity_check argument must be a bool or a list of "
                             f"memory formats, got {ambiguity_check!r}")
    return ambiguity_check


_AMBIGUOUS = ("dim_order: the tensor does not have a unique dim order (as torch refuses with "
              "ambiguity_check=True: a size-1 dim or two dims of equal stride; strides {}, shape {})")


def dim_order(array: Any, ambiguity_check: Any = False) -> tuple:
    """torch's ``Tensor.dim_order()``: the dims from the outermost to the innermost in memory --
    torch's insertion sort by stride (zero strides and equal strides of no larger dim never
    swap), after its contiguous / channels-last shortcuts (``channels_last`` alone, as torch's:
    a 5-D tensor takes the sort).  ``ambiguity_check=True`` refuses a layout for which another
    order is as valid; a list of memory formats refuses it unless the tensor is in exactly one
    of them, as torch's does."""
    formats = _checked_formats(ambiguity_check)
    ndim, shape = array.ndim, array.shape
    strides = [s // array.itemsize for s in array.strides]
    multiple = 1 in shape or any(a == b for a, b in zip(strides, strides[1:]))
    if (ambiguity_check is True or formats is not None) and multiple and \
            sum(has_format(array, fmt) for fmt in formats or ()) != 1:
        raise ShapeError(_AMBIGUOUS.format(tuple(strides), tuple(shape)))
    if ndim < 2:
        return tuple(range(ndim))
    contiguous = bool(array.flags.c_contiguous)
    last = ndim == 4 and has_format(array, channels_last)
    if contiguous != last:
        return tuple(range(ndim)) if contiguous else (0, *range(2, ndim), 1)

    def ge(a: int, b: int) -> bool:
        return b == 0 or (a != 0 and (a >= b or a % b == 0))

    def should_swap(a: int, b: int) -> int:
        sa, sb = strides[a], strides[b]
        if sa == 0 or sb == 0 or (sa == sb and ge(shape[b], shape[a])):
            return 0
        if sa == sb or not ge(sb, sa):
            return 1
        return -1

    perm = _stride_sort(ndim, should_swap)
    if bool(ambiguity_check) and any(should_swap(perm[i], perm[i + 1]) != -1 for i in range(ndim - 1)):
        raise ShapeError(_AMBIGUOUS.format(tuple(strides), tuple(shape)))
    return tuple(reversed(perm))


def _stride_sort(ndim: int, should_swap: Any) -> list:
    """torch's insertion sort of the dims by stride (its ``perm_``): innermost first, a dim
    moving outwards past another while ``should_swap`` says 1, stopping at -1 (0: no
    opinion, keep going) -- shared by :func:`dim_order` and :func:`iterator_order`."""
    perm = list(range(ndim - 1, -1, -1))
    for i in range(1, ndim):
        j = i
        for k in range(i - 1, -1, -1):
            comparison = should_swap(perm[k], perm[j])
            if comparison > 0:
                perm[k], perm[j] = perm[j], perm[k]
                j = k
            elif comparison < 0:
                break
    return perm


def _iterator_strides(shape: tuple, operand: Any) -> "list | None":
    """``operand``'s strides broadcast to ``shape`` as torch's TensorIterator sees them: 0 on
    broadcast dims (None for a number or a 0-d array, which take no part)."""
    strides = getattr(operand, "strides", None)
    if not strides:
        return None
    pad = len(shape) - len(strides)
    own = operand.shape
    return [0] * pad + [0 if own[i] == 1 and shape[pad + i] != 1 else abs(strides[i])
                        for i in range(len(strides))]


def iterator_order(shape: tuple, operands: tuple) -> list:
    """The dims of an elementwise result of ``shape``, outermost to innermost in memory, as
    torch's TensorIterator lays it out (NOTE [Computing output strides] in TensorIterator.cpp:
    an insertion sort of the dims by stride in which the first operand that is not broadcast
    on either dim decides, equal strides broken by the dims' sizes) -- so ``cl + c`` is
    channels_last and ``c + cl`` contiguous, where NumPy's order='K' falls back to C order."""
    ndim = len(shape)
    strides = [s for s in (_iterator_strides(shape, op) for op in operands) if s is not None]

    def should_swap(dim0: int, dim1: int) -> int:
        for st in strides:
            s0, s1 = st[dim0], st[dim1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return 1 if s0 > s1 else -1
            if shape[dim0] > shape[dim1]:
                return 1
        return 0

    return _stride_sort(ndim, should_swap)[::-1]


def _row_major(array: Any) -> bool:
    """Whether ``array``'s dims of size > 1 are in row-major order (strides non-increasing)."""
    strides = [abs(s) for s, n in zip(array.strides, array.shape) if n != 1]
    return strides == sorted(strides, reverse=True)


def in_iterator_order(op: Any, a: Any, b: Any, operands: tuple) -> Any:
    """``op(a, b)`` -- elementwise, torch's first operand (``operands[0]``) not C-contiguous --
    computed straight into the layout torch's TensorIterator gives it (see
    :func:`iterator_order`): both operands are viewed with their dims in that order, NumPy writes
    a C-order result there, and a transpose puts the dims back -- ``cl + c`` is channels_last with
    no copy (:func:`follow_operands` relays a finished result instead)."""
    shape = np.broadcast_shapes(*[x.shape for x in (a, b) if hasattr(x, "shape")])
    first = operands[0] if hasattr(operands[0], "strides") else operands[1]
    if len(shape) < 2 or (first.shape == shape and _row_major(first)):
        return op(a, b)                       # (a sliced row-major operand: C order, torch too)
    axes = iterator_order(shape, operands)
    if [d for d in axes if shape[d] != 1] == [d for d in range(len(shape)) if shape[d] != 1]:
        return op(a, b)

    def in_order(x: Any) -> Any:
        if not getattr(x, "ndim", 0):         # a number or a 0-d array broadcasts as it is
            return x
        return x.reshape((1,) * (len(shape) - x.ndim) + x.shape).transpose(axes)
    return op(in_order(a), in_order(b)).transpose(tuple(np.argsort(axes)))


def follow_operands(out: Any, operands: tuple) -> Any:
    """``out`` -- an elementwise result NumPy laid out in C order although its first array
    operand is not C-contiguous -- laid out as torch's TensorIterator would (see
    :func:`iterator_order`): a copy only where that order differs from C's (``cl + c``)."""
    first = operands[0] if hasattr(operands[0], "strides") else operands[1]
    if first.shape == out.shape and _row_major(first):
        return out                            # a sliced row-major operand: C order (torch too)
    axes = iterator_order(out.shape, operands)
    if [d for d in axes if out.shape[d] != 1] == [d for d in range(out.ndim) if out.shape[d] != 1]:
        return out
    return out.transpose(axes).copy(order="C").transpose(tuple(np.argsort(axes)))


def dense_order(array: Any) -> "tuple | None":
    """The dims of ``array`` outermost to innermost in memory when it is dense -- its elements
    fill its memory with no gap or overlap, in some order of dims (channels_last, a transpose) --
    else None."""
    axes = dim_order(array)
    expected = relayout_strides(array, axes)
    if all(n == 1 or s == e for s, e, n in zip(array.strides, expected, array.shape)):
        return axes
    return None


def like(out: Any, source: Any) -> Any:
    """``out`` (C order) laid out as the dense ``source`` of its shape is (torch's unary ops keep
    their input's layout: ``leaky_relu`` of a channels_last input is channels_last); ``out``
    itself where ``source`` is C-contiguous or not dense."""
    if source.flags.c_contiguous or out.shape != source.shape or out.ndim < 2:
        return out
    axes = dense_order(source)
    if axes is None or list(axes) == list(range(out.ndim)):
        return out
    return out.transpose(axes).copy(order="C").transpose(tuple(np.argsort(axes)))
