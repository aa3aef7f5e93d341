"""How a tensor prints: ``repr(t)`` / ``str(t)`` / ``print(t)`` as torch's, under the options of
``tg.set_printoptions`` (``tensor.PRINT_OPTIONS``).

The rules (torch's): every element gets one width; floats print with ``precision`` decimals,
as ``1.`` when all of them are whole numbers, and in scientific notation when the largest
nonzero finite magnitude is over 1e8, the smallest under 1e-4, or their ratio over 1000 (unless
``sci_mode`` forces or forbids it); past ``threshold`` elements only ``edgeitems`` at each end of
every dim print, with ``...`` between; rows wrap at ``linewidth``. The suffixes name what the
values do not show: the device when it is not the CPU, the dtype when it is not the default
float dtype, int64 or bool (an empty tensor names any dtype but the default float and its
size unless it is 1-D), then ``grad_fn=<MulBackward0>`` on an op's result or
``requires_grad=True`` on a leaf. Dtypes print as ``tensorgan.float64`` -- what evaluates to
the dtype here, as ``tensorgan.Size([2, 3])`` does for a shape.

Printing is never on a hot path: nothing here runs unless a tensor is printed.
"""
from __future__ import annotations

import math

import numpy as np

from .tensor import PRINT_OPTIONS, get_default_dtype, int64, BOOL


class _Formatter:
    """One width and notation for all the (shown) elements of a tensor."""

    def __init__(self, values: np.ndarray, precision: int, sci_mode: bool | None):
        self.floating = values.dtype.kind == "f"
        self.precision = precision
        self.int_mode, self.sci_mode, self.width = True, False, 1
        flat = values.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.width = max(self.width, len(str(v)))
            return
        shown = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if shown.size == 0:
            return
        magnitude = np.abs(shown)
        low, high = magnitude.min(), magnitude.max()
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        self.sci_mode = (high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4) if sci_mode is None else bool(sci_mode)
        numbers = shown.tolist()
        if self.sci_mode:
            self.width = max(len(f"{v:.{precision}e}") for v in numbers)
        elif self.int_mode:
            self.width = max(len(f"{v:.0f}") + 1 for v in numbers)
        else:
            self.width = max(len(f"{v:.{precision}f}") for v in numbers)

    def format(self, value) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.width}.{self.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{self.precision}f}"
        return " " * (self.width - len(text)) + text


class _ComplexFormatter:
    """torch's two formatters for complex elements, one for the real parts and one for the
    imaginary ones: ``1.+2.j``, ``0.9565-1.8001j``; the imaginary part is not padded."""

    def __init__(self, values: np.ndarray, precision: int, sci_mode: bool | None):
        self.real = _Formatter(values.real, precision, sci_mode)
        self.imag = _Formatter(values.imag, precision, sci_mode)
        self.width = self.real.width + self.imag.width + 1    # (+ 2 per element for ", ")

    def format(self, value) -> str:
        re, im = self.real.format(value.real), (self.imag.format(value.imag) + "j").lstrip()
        return re + im if im[0] in "+-" else re + "+" + im


def _summarized(values: np.ndarray, edge: int) -> np.ndarray:
    """The elements a summary shows (``edge`` at each end of every long dim)."""
    if values.ndim == 0:
        return values
    if values.ndim > 1 and not edge:
        return values.reshape(-1)[:0]
    index = [np.r_[0:edge, n - edge:n] if n > 2 * edge else np.arange(n) for n in values.shape]
    return values[np.ix_(*index)]


def _vector(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter, opts: dict) -> str:
    edge, n = opts["edgeitems"], values.shape[0]
    per_line = max(1, math.floor((opts["max_line_width"] - indent) / (fmt.width + 2)))
    if summarize and not edge:
        data = ["..."]
    elif summarize and n > 2 * edge:
        data = ([fmt.format(v) for v in values[:edge].tolist()] + [" ..."]
                + [fmt.format(v) for v in values[n - edge:].tolist()])
    else:
        data = [fmt.format(v) for v in values.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter, opts: dict) -> str:
    if values.ndim == 0:
        return fmt.format(values.item())
    if values.ndim == 1:
        return _vector(values, indent, summarize, fmt, opts)
    edge, n = opts["edgeitems"], values.shape[0]
    rows = range(n)
    if summarize and n > 2 * edge:
        parts = ([_nested(values[i], indent + 1, summarize, fmt, opts) for i in range(edge)] + ["..."]
                 + [_nested(values[i], indent + 1, summarize, fmt, opts) for i in range(n - edge, n)])
    else:
        parts = [_nested(values[i], indent + 1, summarize, fmt, opts) for i in rows]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def format_values(values: np.ndarray, indent: int = 7) -> str:
    """The bracketed values as torch prints them, ``indent`` columns in (``tensor(`` is 7)."""
    opts = PRINT_OPTIONS
    if values.size == 0:
        return "[]"
    summarize = values.size > opts["threshold"]
    fmt = (_ComplexFormatter if values.dtype.kind == "c" else _Formatter)(_summarized(values, opts["edgeitems"]) if summarize else values,
                     opts["precision"], opts["sci_mode"])
    return _nested(values, indent, summarize, fmt, opts)


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    width = PRINT_OPTIONS["max_line_width"]
    out = [text]
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > width:
            out.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            out.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(out) + ")"


def dtype_name(dtype: np.dtype) -> str:
    """``tensorgan.float32`` -- a dtype as a tensor's repr names it."""
    return f"tensorgan.{np.dtype(dtype).name}"


def tensor_repr(t) -> str:
    """``repr(t)`` as torch's (see the module's docstring)."""
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    values = np.asarray(t.array if t.device.xp is np else t.array.get())   # a 0-d result may be a NumPy scalar
    default = get_default_dtype()
    default_complex = np.dtype(np.complex128 if default == np.float64 else np.complex64)
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if values.dtype != default:
            suffixes.append(f"dtype={dtype_name(values.dtype)}")
        body = "[]"
    else:
        if not PRINT_OPTIONS["edgeitems"]:
            suffixes.append(f"size={tuple(values.shape)}")
        if values.dtype not in (default, int64, BOOL, default_complex):
            suffixes.append(f"dtype={dtype_name(values.dtype)}")
        body = format_values(values, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name().rpartition('::')[2]}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
