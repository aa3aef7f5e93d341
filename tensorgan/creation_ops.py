"""torch's remaining factories: triangle indices, unravel_index, logspace, the signal windows
(Hann, Hamming, Blackman, Bartlett, Kaiser), scalar_tensor and randint_like.

Values are computed on the host in float64 and cast once to the requested dtype (the default
dtype unless given, as torch's), so they agree with the formulas to the dtype's rounding.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .backend import get_device
from .errors import DTypeError, InputTypeError, ShapeError
from .factory import _space_dtype, _space_end, _space_values, _torch_linspace, _whole_numbers, randint, tensor
from .tensor import FLOAT_DTYPES, Tensor, _check_dtype, _int_of, _is_int, get_default_dtype, int64


def _triangle_indices(op: str, row: int, col: int, offset: int, dtype: Any, device: Any,
                      lower: bool) -> Tensor:
    """The (2, N) row and column indices of the lower / upper triangle of a (row, col) matrix."""
    row, col, offset = _int_of(row), _int_of(col), _int_of(offset)
    for name, v in (("row", row), ("col", col), ("offset", offset)):
        if not _is_int(v) or (name != "offset" and v < 0):
            raise InputTypeError(f"{op}: {name} must be an int{' >= 0' if name != 'offset' else ''}, got {v!r}")
    dt = _check_dtype(int64 if dtype is None else dtype, any_kind=True)
    if dt not in (np.dtype(np.int64), np.dtype(np.int32)):
        raise DTypeError(f"{op}: dtype must be int64 or int32, got {dt}")
    pick = np.tril_indices if lower else np.triu_indices
    rows, cols = pick(int(row), int(offset), int(col))
    return _whole_numbers(np.stack([rows, cols]).reshape(2, -1), dt, device, op)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None) -> Tensor:
    """The (2, N) coordinates of the lower triangle (on and below the ``offset``-th diagonal) of a
    (row, col) matrix, row by row (torch.tril_indices; int64)."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, device, True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None) -> Tensor:
    """The (2, N) coordinates of the upper triangle (on and above the ``offset``-th diagonal)."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device, False)


def unravel_index(indices: Any, shape: Any) -> tuple[Tensor, ...]:
    """Flat indices into a tensor of ``shape`` as one int64 coordinate tensor per dim
    (torch.unravel_index; negative indices count from the end)."""
    if not isinstance(indices, Tensor):
        indices = tensor(indices)
    if indices.dtype.kind not in "iu":
        raise DTypeError(f"unravel_index: indices must be an integer tensor, got {indices.dtype}")
    dims = (shape,) if _is_int(shape) else tuple(shape) if isinstance(shape, (tuple, list)) else None
    if dims is None or not all(_is_int(n) and n >= 0 for n in dims):
        raise InputTypeError(f"unravel_index: shape must be an int or a sequence of ints >= 0, got {shape!r}")
    flat = indices.numpy().astype(np.int64)
    total = int(np.prod(dims, dtype=np.int64))
    if flat.size and not ((flat >= -total) & (flat < total)).all():
        bad = flat[(flat < -total) | (flat >= total)][0]
        raise ShapeError(f"unravel_index: index {bad} is out of bounds for shape {tuple(dims)}")
    coords = np.unravel_index(flat % max(total, 1), dims) if total else [flat] * len(dims)
    return tuple(_whole_numbers(np.asarray(c, dtype=np.int64), None, indices.device, "unravel_index")
                 for c in coords)


def logspace(start: float, end: float, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)`` (torch.logspace)."""
    if not _is_int(steps) or steps < 0:
        if isinstance(steps, Tensor) and _is_int(_int_of(steps)):
            return logspace(start, end, _int_of(steps), base, dtype=dtype, device=device, requires_grad=requires_grad)
        raise InputTypeError(f"logspace: steps must be an int >= 0, got {steps!r}")
    start, end = _space_end(start, "logspace", "start"), _space_end(end, "logspace", "end")
    dt = _space_dtype(start, end, dtype, "logspace")
    if steps == 1 and dt.kind in "iu":       # torch fills base ** start, checked into the dtype
        from .tensor import _checked_convert
        value = _checked_convert(float(base) ** float(start), dt).reshape(1)
        return tensor(value, requires_grad=requires_grad, dtype=dt, device=device)
    # the exponents as torch's linspace (its formula, a NaN end spreads; an integer dtype's ends cut)
    exponents = [start] if steps == 1 else _torch_linspace(start, end, int(steps), dt)
    if exponents is None:
        exponents = _space_values(start, end, int(steps), dt)
    values = float(base) ** np.asarray(exponents, dtype=np.complex128 if dt.kind == "c" else np.float64)
    return tensor(values, requires_grad=requires_grad, dtype=dt, device=device)


def _window(op: str, window_length: int, periodic: bool, dtype: Any, device: Any,
            requires_grad: bool, formula: Any) -> Tensor:
    """A window of ``window_length`` samples: ``formula(n, N)`` at n = 0 .. N-1 with N the length
    (one more for a ``periodic`` window, whose last sample is dropped)."""
    if not _is_int(window_length) or window_length < 0:
        raise InputTypeError(f"{op}: window_length must be an int >= 0, got {window_length!r}")
    dt = _check_dtype(get_default_dtype() if dtype is None else dtype, any_kind=True)
    if dt not in FLOAT_DTYPES:
        raise DTypeError(f"{op}: expects a float dtype, got {dt}")
    length = int(window_length)
    if length <= 1:
        values = np.ones(length)
    else:
        size = length + 1 if periodic else length
        values = formula(np.arange(size, dtype=np.float64), size)[:length]
    return Tensor._make(get_device(device).xp.asarray(values.astype(dt)), get_device(device), requires_grad)


def _cosine_sum(*coefficients: float) -> Any:
    """``sum_k (-1)^k a_k cos(2 pi k n / (N - 1))``: Hann, Hamming and Blackman."""
    def formula(n: np.ndarray, size: int) -> np.ndarray:
        return sum((-1) ** k * a * np.cos(2 * np.pi * k * n / (size - 1)) for k, a in enumerate(coefficients))
    return formula


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None, device: Any = None,
                requires_grad: bool = False) -> Tensor:
    """``1/2 - 1/2 cos(2 pi n / (N - 1))`` (torch.hann_window)."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad, _cosine_sum(0.5, 0.5))


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``alpha - beta cos(2 pi n / (N - 1))`` (torch.hamming_window)."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum(float(alpha), float(beta)))


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None, device: Any = None,
                    requires_grad: bool = False) -> Tensor:
    """``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))`` (torch.blackman_window)."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum(0.42, 0.5, 0.08))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None, device: Any = None,
                    requires_grad: bool = False) -> Tensor:
    """The triangle ``1 - |2n / (N - 1) - 1|`` (torch.bartlett_window)."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, size: 1 - np.abs(2 * n / (size - 1) - 1))


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype: Any = None,
                  device: Any = None, requires_grad: bool = False) -> Tensor:
    """``I0(beta sqrt(1 - (2n / (N - 1) - 1)^2)) / I0(beta)`` (torch.kaiser_window)."""
    beta = float(beta)
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, size: np.i0(beta * np.sqrt(np.clip(1 - (2 * n / (size - 1) - 1) ** 2, 0, None)))
                   / np.i0(beta))


def scalar_tensor(s: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding the number ``s``, of the default dtype unless ``dtype`` says (torch.scalar_tensor)."""
    if isinstance(s, Tensor):
        s = s.item()
    if isinstance(s, (str, bytes)) or not np.isscalar(s):
        raise InputTypeError(f"scalar_tensor: s must be a number, got {type(s).__name__}")
    return tensor(s, requires_grad=requires_grad, dtype=get_default_dtype() if dtype is None else dtype, device=device)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, generator: Any = None,
                 dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Whole numbers uniform in [low, high) of ``input``'s shape, its dtype and device unless given
    (``randint_like(x, high)`` as torch's)."""
    if not isinstance(input, Tensor):
        raise InputTypeError(f"randint_like: input must be a Tensor, got {type(input).__name__}")
    if high is None:
        low, high = 0, low
    dt = input.dtype if dtype is None else dtype
    out = randint(low, high, input.shape, generator=generator, dtype=dt,
                  device=input.device if device is None else device)
    return out.requires_grad_(requires_grad) if requires_grad else out


__all__ = ["tril_indices", "triu_indices", "unravel_index", "logspace", "hann_window",
           "hamming_window", "blackman_window", "bartlett_window", "kaiser_window", "scalar_tensor",
           "randint_like"]
