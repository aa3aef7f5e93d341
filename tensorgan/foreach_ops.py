"""torch's multi-tensor ``torch._foreach_*`` functions: ``tg._foreach_lerp_(ema_params, params, 1 - decay)``.

EMA updates of a generator (ema-pytorch, timm's ModelEmaV3), Lookahead and hand-written optimizers
call them on lists of tensors.  Here each is a loop over the per-tensor op, so values, dtype rules,
autograd and in-place checks are those of the Tensor methods; the list forms and their errors are
torch's: the second argument is a number, a 0-dim tensor, a list of numbers or a list of tensors;
in-place forms return the list, out-of-place forms a tuple.
"""
import numbers
from typing import Any, Callable, List, Sequence

from .errors import InputTypeError, ShapeError
from .tensor import Tensor

_UNARY = ("abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
          "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal", "round",
          "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc")
_BINARY = ("mul", "div", "clamp_min", "clamp_max", "pow")
_WITH_ALPHA = ("add", "sub")


def _tensor_list(name: str, tensors: Any) -> List[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise InputTypeError(f"_foreach_{name}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ShapeError(f"_foreach_{name}: Tensor list must have at least one tensor.")
    return list(tensors)


def _spread(name: str, other: Any, n: int) -> list:
    """One argument per tensor: a list of tensors or numbers pairs up, a number or 0-dim tensor repeats."""
    if isinstance(other, (list, tuple)):
        if len(other) != n:
            kind = "Tensor lists must have the same number of tensors" if other and isinstance(other[0], Tensor) \
                else "Tensor list must have same number of elements as scalar list"
            raise ShapeError(f"_foreach_{name}: {kind}, got {n} and {len(other)}")
        return list(other)
    if isinstance(other, Tensor) and other.ndim != 0:
        raise ShapeError(f"_foreach_{name}: scalar tensor expected to be 0 dim but it has {other.ndim} "
                         f"dimensions and {other.numel()} elements")
    return [other] * n


def _paired(name: str, other: Any, n: int) -> list:
    """An argument that torch types as a list of tensors (addcmul's tensor1 / tensor2, lerp's
    end, copy_'s src): a single tensor is refused with torch's TypeError, not repeated."""
    if not isinstance(other, (list, tuple)):
        raise InputTypeError(f"_foreach_{name}: expected a list or tuple of tensors as the tensor "
                             f"argument, got {type(other).__name__}")
    return _spread(name, other, n)


def _values(name: str, value: Any, n: int) -> list:
    """addcmul / addcdiv: a 1-D tensor ``value`` is a list of numbers, one per tensor (torch's rule)."""
    if isinstance(value, Tensor):
        if value.ndim != 1 or value.numel() != n:
            raise ShapeError(f"_foreach_{name}: value tensor must be 1-D with one element per tensor ({n}), "
                             f"got shape {tuple(value.shape)}")
        return value.tolist()
    return _spread(name, value, n)


def _apply(name: str, method: Any, tensors: Any, *columns: Any, inplace: bool, **kwargs: Any):
    """``method`` (a Tensor method's name, or a function of the tensor) on each tensor and its
    arguments; an in-place form returns ``tensors`` as given (a tuple stays a tuple, as torch's)."""
    given, tensors = tensors, _tensor_list(name, tensors)
    call = method if callable(method) else (lambda t, *args, **kw: getattr(t, method)(*args, **kw))
    out = [call(t, *args, **kwargs) for t, *args in zip(tensors, *columns)] if columns \
        else [call(t, **kwargs) for t in tensors]
    return given if inplace else tuple(out)


def _unary(op: str, inplace: bool) -> Callable:
    method = op + ("_" if inplace else "")

    def foreach(self: Sequence[Tensor]):
        return _apply(method, method, self, inplace=inplace)
    return foreach


def _binary(op: str, inplace: bool) -> Callable:
    method = op + ("_" if inplace else "")

    def foreach(self: Sequence[Tensor], other: Any):
        return _apply(method, method, self, _spread(method, other, len(_tensor_list(method, self))),
                      inplace=inplace)
    return foreach


def _is_numbers(other: Any) -> bool:
    if isinstance(other, (list, tuple)):
        return not (other and isinstance(other[0], Tensor))
    return isinstance(other, numbers.Number)


def _with_alpha(op: str, inplace: bool) -> Callable:
    method = op + ("_" if inplace else "")

    def foreach(self: Sequence[Tensor], other: Any, *, alpha: Any = None):
        if alpha is not None and _is_numbers(other):
            raise InputTypeError(f"_foreach_{method}: alpha is taken with a tensor or a list of tensors, "
                                 "not with numbers (torch has no such overload)")
        kw = {} if alpha is None else {"alpha": alpha}
        return _apply(method, method, self, _spread(method, other, len(_tensor_list(method, self))),
                      inplace=inplace, **kw)
    return foreach


def _pointwise(op: str, inplace: bool) -> Callable:
    method = op + ("_" if inplace else "")

    def foreach(self: Sequence[Tensor], tensor1: Sequence[Tensor], tensor2: Sequence[Tensor], value: Any = 1):
        n = len(_tensor_list(method, self))
        return _apply(method, lambda t, t1, t2, v: getattr(t, method)(t1, t2, value=v), self,
                      _paired(method, tensor1, n), _paired(method, tensor2, n), _values(method, value, n),
                      inplace=inplace)
    return foreach


def _extremum(op: str, inplace: bool) -> Callable:
    """maximum / minimum: with a number, torch's clamp_min / clamp_max; in place, written back."""
    method = op + ("_" if inplace else "")
    clamp = ("clamp_min" if op == "maximum" else "clamp_max") + ("_" if inplace else "")

    def one(t: Tensor, other: Any) -> Tensor:
        if not isinstance(other, Tensor):
            return getattr(t, clamp)(other)
        result = getattr(t, op)(other)
        return t.copy_(result) if inplace else result

    def foreach(self: Sequence[Tensor], other: Any):
        return _apply(method, one, self, _spread(method, other, len(_tensor_list(method, self))), inplace=inplace)
    return foreach


def _lerp(inplace: bool) -> Callable:
    method = "lerp" + ("_" if inplace else "")

    def foreach(self: Sequence[Tensor], tensors1: Sequence[Tensor], weight: Any):
        n = len(_tensor_list(method, self))
        return _apply(method, method, self, _paired(method, tensors1, n), _spread(method, weight, n),
                      inplace=inplace)
    return foreach


def _foreach_pow(self: Any, exponent: Any):
    """``_foreach_pow(list, e)`` and torch's ``_foreach_pow(scalar, list)`` (the base is the number)."""
    if isinstance(self, numbers.Number):
        from .function_forms import pow as tensor_pow
        return tuple(tensor_pow(self, e) for e in _tensor_list("pow", exponent))
    return _binary("pow", False)(self, exponent)


def _foreach_copy_(self: Sequence[Tensor], src: Sequence[Tensor], non_blocking: bool = False) -> List[Tensor]:
    n = len(_tensor_list("copy_", self))
    return _apply("copy_", "copy_", self, _paired("copy_", src, n), inplace=True)


def _foreach_zero_(self: Sequence[Tensor]) -> List[Tensor]:
    return _apply("zero_", "zero_", self, inplace=True)


def _foreach_norm(self: Sequence[Tensor], ord: Any = 2, dtype: Any = None) -> tuple:
    """The vector norm of each whole tensor (clip_grad_norm_'s per-parameter norms)."""
    from .linalg import vector_norm
    return tuple(vector_norm(t, ord, dtype=dtype) for t in _tensor_list("norm", self))


def _foreach_max(self: Sequence[Tensor]) -> tuple:
    return tuple(t.max() for t in _tensor_list("max", self))


def _build() -> dict:
    found = {}
    for inplace, suffix in ((False, ""), (True, "_")):
        found.update({f"_foreach_{op}{suffix}": _unary(op, inplace) for op in _UNARY})
        found.update({f"_foreach_{op}{suffix}": _binary(op, inplace) for op in _BINARY})
        found.update({f"_foreach_{op}{suffix}": _with_alpha(op, inplace) for op in _WITH_ALPHA})
        found.update({f"_foreach_{op}{suffix}": _pointwise(op, inplace) for op in ("addcmul", "addcdiv")})
        found.update({f"_foreach_{op}{suffix}": _extremum(op, inplace) for op in ("maximum", "minimum")})
        found[f"_foreach_lerp{suffix}"] = _lerp(inplace)
    found.update(_foreach_pow=_foreach_pow, _foreach_copy_=_foreach_copy_, _foreach_zero_=_foreach_zero_,
                 _foreach_norm=_foreach_norm, _foreach_max=_foreach_max)
    for name, fn in found.items():
        fn.__name__ = fn.__qualname__ = name
    return found


FUNCTIONS = _build()
__all__ = sorted(FUNCTIONS)
globals().update(FUNCTIONS)
