"""``torch.testing``: :func:`assert_close` (torch's default tolerances per dtype and its mismatch
messages, an AssertionError) and :func:`make_tensor`."""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .errors import ConfigError, InputTypeError

__all__ = ["assert_close", "make_tensor"]

# torch's default (rtol, atol) per dtype; every other dtype (ints, bool) compares exactly
_PRECISIONS = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.complex64): (1.3e-6, 1e-5),
               np.dtype(np.complex128): (1e-7, 1e-7)}


class _Failure(Exception):
    def __init__(self, kind: type, msg: str, path: tuple = ()) -> None:
        super().__init__(msg)
        self.kind, self.msg, self.path = kind, msg, path


def _mismatch_msg(default_identifier: str, extra: str | None, abs_diff: Any, abs_idx: Any,
                  atol: float, rel_diff: Any, rel_idx: Any, rtol: float) -> str:
    equality = rtol == 0 and atol == 0

    def diff_msg(kind: str, diff: Any, idx: Any, tol: float) -> str:
        msg = f"{kind.title()} difference: {diff}" if idx is None else \
            f"Greatest {kind} difference: {diff} at index {idx}"
        if not equality:
            msg += f" (up to {tol} allowed)"
        return msg + "\n"

    msg = f"{default_identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    msg += diff_msg("absolute", abs_diff, abs_idx, atol)
    msg += diff_msg("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def _tolerances(dtypes: Sequence[np.dtype], rtol: Any, atol: Any) -> tuple:
    if (rtol is None) != (atol is None):
        raise ConfigError(f"assert_close: both 'rtol' and 'atol' must be either specified or "
                          f"omitted, but got no {'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return float(rtol), float(atol)
    pairs = [_PRECISIONS.get(np.dtype(d), (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _isclose(a: np.ndarray, e: np.ndarray, rtol: float, atol: float, equal_nan: bool) -> np.ndarray:
    if a.dtype.kind in "biu" and e.dtype.kind in "biu" and rtol == 0 and atol == 0:
        return a == e
    with np.errstate(all="ignore"):
        close = a == e                                   # infinities of one sign, exact values
        finite = np.isfinite(a) & np.isfinite(e)
        close |= finite & (np.abs(a - e) <= atol + rtol * np.abs(e))
        if equal_nan:
            close |= np.isnan(a) & np.isnan(e)
    return close


def _python_number(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _compare_tensors(actual: Any, expected: Any, rtol: Any, atol: Any, equal_nan: bool,
                     check_device: bool, check_dtype: bool) -> None:
    from .printing import dtype_name
    from .tensor import Tensor
    if actual.shape != expected.shape:
        raise _Failure(AssertionError, f"The values for attribute 'shape' do not match: "
                                       f"{actual.shape} != {expected.shape}.")
    if isinstance(actual, Tensor) and check_device and actual.device != expected.device:
        raise _Failure(AssertionError, f"The values for attribute 'device' do not match: "
                                       f"{actual.device} != {expected.device}.")
    a_dtype, e_dtype = np.dtype(actual.dtype), np.dtype(expected.dtype)
    if check_dtype and a_dtype != e_dtype:
        name = dtype_name if isinstance(actual, Tensor) else str
        raise _Failure(AssertionError, f"The values for attribute 'dtype' do not match: "
                                       f"{name(a_dtype)} != {name(e_dtype)}.")
    rtol, atol = _tolerances([a_dtype, e_dtype], rtol, atol)
    a = actual.detach().numpy() if isinstance(actual, Tensor) else np.asarray(actual)
    e = expected.detach().numpy() if isinstance(expected, Tensor) else np.asarray(expected)
    if a_dtype != e_dtype:
        common = np.result_type(a_dtype, e_dtype)
        a, e = a.astype(common), e.astype(common)
    matches = _isclose(a, e, rtol, atol, equal_nan)
    if matches.all():
        return
    if a.ndim == 0:
        av, ev = _python_number(a), _python_number(e)
        abs_diff = abs(av - ev)
        rel_diff = float("inf") if ev == 0 else abs_diff / abs(ev)
        raise _Failure(AssertionError, _mismatch_msg("Scalars", f"Expected {ev} but got {av}.",
                                                     abs_diff, None, atol, rel_diff, None, rtol))
    total = matches.size
    mismatched = total - int(matches.sum())
    extra = f"Mismatched elements: {mismatched} / {total} ({mismatched / total:.1%})"
    af, ef, mf = a.reshape(-1), e.reshape(-1), matches.reshape(-1)
    if af.dtype.kind in "biu":
        af, ef = af.astype(np.int64), ef.astype(np.int64)
        rel_dtype = np.float32
    else:
        rel_dtype = af.real.dtype       # (complex: |a - e| / |e| is real, as torch's)
    with np.errstate(all="ignore"):
        abs_diff = np.abs(af - ef)
        abs_diff[mf] = 0
        rel_diff = (abs_diff / np.abs(ef)).astype(rel_dtype, copy=False)
        rel_diff[mf] = 0
    abs_i = _argmax(abs_diff)
    rel_i = _argmax(rel_diff)
    raise _Failure(AssertionError, _mismatch_msg(
        "Tensor-likes", extra, abs_diff[abs_i].item(), _unravel(abs_i, a.shape),
        atol, rel_diff[rel_i].item(), _unravel(rel_i, a.shape), rtol))


def _unravel(flat: int, shape: tuple) -> tuple:
    return tuple(int(i) for i in np.unravel_index(flat, shape))


def _argmax(values: np.ndarray) -> int:
    """torch.max's index: NaN wins (the first one), else the first greatest."""
    nan = np.isnan(values) if values.dtype.kind == "f" else None
    if nan is not None and nan.any():
        return int(np.argmax(nan))
    return int(np.argmax(values))


def _is_tensor_like(x: Any) -> bool:
    from .tensor import Tensor
    return isinstance(x, (Tensor, np.ndarray))


def _is_number(x: Any) -> bool:
    return isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, np.ndarray)


def _compare(actual: Any, expected: Any, path: tuple, **opts: Any) -> None:
    if _is_tensor_like(actual) or _is_tensor_like(expected):
        if not (_is_tensor_like(actual) and _is_tensor_like(expected)) or \
                not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
            raise _Failure(InputTypeError, f"No comparison pair was able to handle inputs of type "
                                           f"{type(actual)} and {type(expected)}.", path)
        try:
            _compare_tensors(actual, expected, **opts)
        except _Failure as f:
            raise _Failure(f.kind, f.msg, path) from None
        return
    if _is_number(actual) and _is_number(expected):
        # NumPy scalars compare as the Python numbers they hold (torch's NumberPair)
        actual, expected = _python_number(actual), _python_number(expected)
        if opts["check_dtype"] and type(actual) is not type(expected):
            raise _Failure(AssertionError, f"The (d)types do not match: {type(actual)} != "
                                           f"{type(expected)}.", path)
        kind = lambda v: np.dtype(np.bool_) if isinstance(v, (bool, np.bool_)) else \
            np.dtype(np.int64) if isinstance(v, numbers.Integral) else \
            np.dtype(np.complex128) if isinstance(v, complex) else np.dtype(np.float64)   # noqa: E731
        rtol, atol = _tolerances([kind(actual), kind(expected)], opts["rtol"], opts["atol"])
        a, e = complex(actual) if isinstance(actual, complex) else actual, expected
        if a == e or (opts["equal_nan"] and _nan(a) and _nan(e)):
            return
        if not (isinstance(a, complex) or isinstance(e, complex)) and math.isfinite(a) and \
                math.isfinite(e) and abs(a - e) <= atol + rtol * abs(e):
            return
        abs_diff = abs(a - e)
        rel_diff = float("inf") if e == 0 else abs_diff / abs(e)
        raise _Failure(AssertionError, _mismatch_msg("Scalars", f"Expected {e} but got {a}.",
                                                     abs_diff, None, atol, rel_diff, None, rtol),
                       path)
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            missing = sorted(map(repr, set(expected) - set(actual)))
            extra = sorted(map(repr, set(actual) - set(expected)))
            raise _Failure(AssertionError, f"The keys of the mappings do not match:\nMissing keys "
                                           f"in the actual mapping: {missing}\nExtra keys in the "
                                           f"actual mapping: {extra}", path)
        for k in expected:
            _compare(actual[k], expected[k], path + (k,), **opts)
        return
    if isinstance(actual, Sequence) and isinstance(expected, Sequence) and \
            not isinstance(actual, str) and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: {len(actual)} != "
                                           f"{len(expected)}", path)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, path + (i,), **opts)
        return
    if actual is None and expected is None:
        return
    raise _Failure(InputTypeError, f"No comparison pair was able to handle inputs of type "
                                   f"{type(actual)} and {type(expected)}.", path)


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | Callable[[str], str] | None = None) -> None:
    """``torch.testing.assert_close``: raise AssertionError unless ``actual`` and ``expected``
    (Tensors, NumPy arrays, Python numbers, or sequences / mappings of them, compared item by
    item) have the same shape, device and dtype and ``|actual - expected| <= atol + rtol *
    |expected|`` everywhere.  The default tolerances are torch's, by dtype: float16 1e-3 / 1e-5,
    float32 1.3e-6 / 1e-5, float64 1e-7 / 1e-7, integers and bool exact (given ``rtol`` and
    ``atol`` must come together).  The message is torch's: the number of mismatched elements and
    the greatest absolute and relative differences with their indices; ``msg`` replaces it (a
    string) or edits it (a callable)."""
    opts = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device,
                check_dtype=check_dtype)
    try:
        _compare(actual, expected, (), **opts)
    except _Failure as f:
        if f.kind is not AssertionError:
            raise f.kind(f.msg) from None
        text = f.msg
        if callable(msg):
            text = msg(text)
        elif msg is not None:
            text = msg
        elif f.path:
            text += f"\n\nThe failure occurred for item {''.join(f'[{p!r}]' for p in f.path)}"
        raise AssertionError(text) from None


def make_tensor(*shape: Any, dtype: Any, device: Any = None, low: float | None = None,
                high: float | None = None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format: Any = None) -> Any:
    """``torch.testing.make_tensor``: a Tensor of ``shape`` with values drawn uniformly from
    ``[low, high)`` (floats; default ``[-9, 9)``) or the integers in ``[low, high)`` (default
    ``[-9, 10)``, unsigned from 0), bools at random; from tensorgan's default generator.
    ``exclude_zero`` replaces zeros by the dtype's smallest step (floats) or 1 (integers)."""
    from . import random as _random
    from .factory import tensor as new_tensor
    from .tensor import BOOL, float16, float32, float64
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)) or \
            len(shape) == 1 and type(shape[0]).__name__ == "Size":
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    np_dtype = np.dtype(dtype) if not hasattr(dtype, "kind") else dtype
    rng = _random.default_generator.rng
    if np_dtype == BOOL:
        data = rng.integers(0, 2, size=shape).astype(np.bool_)
    elif np_dtype.kind in "iu":
        lo = (0 if np_dtype.kind == "u" else -9) if low is None else math.ceil(low)
        hi = 10 if high is None else math.ceil(high) if high != math.floor(high) else int(high)
        if hi <= lo:
            raise ConfigError(f"make_tensor: low ({low}) must be less than high ({high})")
        data = rng.integers(lo, hi, size=shape).astype(np_dtype)
        if exclude_zero:
            data[data == 0] = 1
    elif np_dtype in (float16, float32, float64):
        lo = -9.0 if low is None else float(low)
        hi = 9.0 if high is None else float(high)
        if hi < lo:
            raise ConfigError(f"make_tensor: low ({low}) must not exceed high ({high})")
        data = rng.uniform(lo, hi, size=shape).astype(np_dtype)
        if exclude_zero:
            data[data == 0] = np.finfo(np_dtype).tiny
    else:
        raise InputTypeError(f"make_tensor: dtype {dtype} is not supported")
    t = new_tensor(data, dtype=np_dtype, device=device)
    if requires_grad:
        if np_dtype.kind != "f":
            raise InputTypeError("make_tensor: requires_grad=True needs a floating-point dtype")
        t.requires_grad_(True)
    return t


_ALLCLOSE_PRECISIONS = {np.dtype(np.float16): (1e-3, 1e-3), np.dtype(np.float32): (1e-4, 1e-5),
                        np.dtype(np.float64): (1e-5, 1e-8)}


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None, atol: float | None = None,
                    equal_nan: bool = True, msg: str = "") -> None:
    """torch.testing.assert_allclose (deprecated since torch 1.12, with torch's FutureWarning):
    assert_close with its own defaults -- NaNs equal, dtypes not compared (``expected`` made a
    Tensor of ``actual``'s dtype when it is not one), tolerances by dtype float16 1e-3 / 1e-3,
    float32 1e-4 / 1e-5, float64 1e-5 / 1e-8 (the larger of the two inputs'), others exact."""
    import warnings
    from .factory import tensor as _tensor
    from .tensor import Tensor
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
                  "release. Please use `torch.testing.assert_close()` instead. You can find detailed upgrade "
                  "instructions in https://github.com/pytorch/pytorch/issues/61844.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = _tensor(actual)
    if not isinstance(expected, Tensor):
        expected = _tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        pairs = [_ALLCLOSE_PRECISIONS.get(np.dtype(t.dtype), (0.0, 0.0)) for t in (actual, expected)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)


__all__ += ["assert_allclose"]
