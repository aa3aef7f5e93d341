"""torch's dtype promotion rules as functions: ``promote_types``, ``result_type``, ``can_cast``.

Categories rank bool < integer < float.  ``promote_types`` of two dtypes: the float one beside an
integer or bool (int64 with float32 is float32, unlike NumPy's float64), the wider of two floats,
NumPy's rule between integers (uint8 with int8 is int16).  ``result_type`` (what an elementwise
op returns) adds torch's priorities: tensors with dimensions decide over 0-d tensors, which decide
over Python numbers -- unless a lower priority brings a higher category (an int64 tensor times
2.5 is float32, the default float dtype; a float32 tensor plus a 0-d float64 one stays float32).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputTypeError
from .tensor import BOOL, Tensor, _check_dtype, get_default_dtype, int64


def _category(dt: np.dtype) -> int:
    return 0 if dt == BOOL else 2 if dt.kind == "f" else 3 if dt.kind == "c" else 1


def promote_types(type1: Any, type2: Any) -> np.dtype:
    """torch.promote_types: the smallest dtype both cast to without leaving their category."""
    a, b = _check_dtype(type1, any_kind=True), _check_dtype(type2, any_kind=True)
    ca, cb = _category(a), _category(b)
    if ca == 3 or cb == 3:       # complex of the wider real value type (complex64 + float64: complex128)
        from .complex_ops import promote
        return promote(a, b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """torch's combine_categories: the higher priority's dtype, unless the lower one brings a
    higher category (then the two promoted)."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    if higher.kind == "c" or lower.kind == "c":
        from .complex_ops import _combine as combine_complex
        return combine_complex(higher, lower)
    if higher.kind == "f":
        return higher
    if higher == BOOL or _category(lower) > _category(higher):
        return promote_types(higher, lower)
    return higher


def _number_dtype(value: Any, op: str) -> np.dtype:
    if isinstance(value, (bool, np.bool_)):
        return BOOL
    if isinstance(value, (int, np.integer)):
        return int64
    if isinstance(value, (float, np.floating)):
        return get_default_dtype()
    if isinstance(value, (complex, np.complexfloating)):
        from .tensor import _complex_of
        return _complex_of(get_default_dtype())
    raise InputTypeError(f"{op}: expected Tensors or numbers, got {type(value).__name__}")


def result_type(tensor1: Any, tensor2: Any) -> np.dtype:
    """torch.result_type: the dtype an elementwise op on the two (Tensors or Python numbers)
    gives, by torch's priorities (see the module docstring)."""
    dim = zero = number = None
    for value in (tensor1, tensor2):
        if isinstance(value, Tensor):
            if value.ndim:
                dim = value.dtype if dim is None else promote_types(dim, value.dtype)
            else:
                zero = value.dtype if zero is None else promote_types(zero, value.dtype)
        else:
            dt = _number_dtype(value, "result_type")
            number = dt if number is None else promote_types(number, dt)
    return _combine(dim, _combine(zero, number))


def can_cast(from_: Any, to: Any) -> bool:
    """torch.can_cast: whether casting keeps the category or raises it (float64 -> float32 and
    int64 -> uint8 may; float -> integer and integer -> bool may not)."""
    a, b = _check_dtype(from_, any_kind=True), _check_dtype(to, any_kind=True)
    return _category(a) <= _category(b)


__all__ = ["promote_types", "result_type", "can_cast"]
