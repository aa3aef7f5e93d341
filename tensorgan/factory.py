"""Tensor constructors: tensor(), zeros(), ones(), randn(), rand() and their *_like twins."""
from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from .backend import get_device
from .broadcasting import broadcast_shape
from .errors import (DeviceError, DTypeError, DTypeNotImplementedError, InputTypeError,
                     RangeArgError, RangeStepError, SamplingParameterError, ShapeError, ValueOverflowError)
from .random import Generator, resolve
from .tensor import BOOL, Tensor, _axes, _check_dtype, _check_grad_dtype, _int_of, _is_int, float32, float64, get_default_dtype, int64
from .tensor import writable_numpy


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> Tensor:
    """A new tensor from array-like data, in torch's dtype for it unless ``dtype=`` says: float32
    for Python floats, int64 for Python ints, bool for bools, an array's own dtype; a sequence's
    elements' dtypes promoted (``[np.uint8(3)]`` is uint8, ``[np.float16(1), 2]`` float16), a
    tensor inside one read as its number (one-element tensors only, as torch).

    Always a copy, like ``torch.tensor``: changing ``data`` later leaves the tensor alone.
    (``as_tensor(array)`` wraps an array without copying; ``Tensor(...)`` is torch's legacy constructor.)
    A Tensor as ``data`` gives a detached copy, with torch's warning to write
    ``t.clone().detach()`` instead."""
    if isinstance(data, Tensor):
        import warnings
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than "
                      "tensor(sourceTensor).", UserWarning, stacklevel=2)
        src = data.detach()
        if device is not None:
            src = src.to(device)
        if dtype is not None:
            src = src.to(dtype)
        t = Tensor._make(src.array.copy(), src.device)
        return t.requires_grad_(True) if requires_grad else t
    t = Tensor._from(data, requires_grad=requires_grad, dtype=dtype, device=device)
    if t.array is data:          # asarray kept the caller's array (already the right dtype/device)
        t.array = t.array.copy()
    return t


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """A tensor over ``data`` without a copy where it can be (an array of a supported dtype on
    the device): ``torch.as_tensor``. Other data is converted, a copy. A Tensor comes back
    itself, or moved / cast with ``.to`` (its graph kept), as torch's."""
    if isinstance(data, Tensor):
        out = data if device is None else data.to(device)
        return out if dtype is None else out.to(dtype)
    if isinstance(data, np.ndarray) and not data.flags.writeable:
        data = writable_numpy(data)        # torch's as_tensor shares it (and warns), as from_numpy
    return Tensor._from(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """``torch.from_numpy``: a CPU tensor that shares the array (not a copy) when its dtype is
    one tensorgan has (float32/64, int64/32/16/8, uint8, bool); others become a converted copy."""
    if not isinstance(array, np.ndarray):
        raise InputTypeError(f"from_numpy takes a numpy.ndarray, got {type(array).__name__}")
    return Tensor._from(writable_numpy(array), device="cpu")   # on the CPU, where the array is, as torch


def _shape(shape: tuple, op: str) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if type(n) is not int or n < 0:
            break
    else:
        return tuple(shape)     # the common case, sizes that are ints >= 0: nothing to convert
    if any(isinstance(n, (bool, np.bool_)) for n in shape):
        raise InputTypeError(f"{op}: a size must be ints, got a bool in {shape}")
    try:
        shape = tuple(operator.index(n) for n in shape)      # a float / bool size is not truncated
    except TypeError:
        shape = tuple(n.__index__() if isinstance(n, Tensor) else n for n in shape)
        bad = next((n for n in shape if isinstance(n, (bool, np.bool_))
                    or not isinstance(n, (int, np.integer))), None)
        if bad is not None:
            raise InputTypeError(f"{op}: a size must be ints, got {type(bad).__name__} {bad!r} "
                                 f"in {shape}") from None
        shape = tuple(int(n) for n in shape)
    if any(n < 0 for n in shape):
        raise ShapeError(f"{op}: negative dimension in shape {shape}")
    return shape


def _sized(shape: tuple, size: Any, op: str) -> tuple:
    """The shape given positionally or as torch's ``size=`` keyword (``torch.empty(size=(2, 3))``)."""
    if size is None:
        return shape
    if shape:
        raise InputTypeError(f"{op}: give the shape positionally or as size=, not both "
                             f"(got {shape} and size={size!r})")
    return (size,) if _is_int(size) else (tuple(size),)


def _filled(fill: str, shape: tuple, dtype, device, requires_grad: bool, op: str = "") -> Tensor:
    dev = get_device(device)
    dt = _check_dtype(get_default_dtype() if dtype is None else dtype, any_kind=True)
    _check_grad_dtype(requires_grad, dt)
    return Tensor._make(getattr(dev.xp, fill)(_shape(shape, op or fill), dtype=dt), dev, requires_grad)


def zeros(*shape, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    return _filled("zeros", _sized(shape, size, 'zeros'), dtype, device, requires_grad)


def ones(*shape, size: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    return _filled("ones", _sized(shape, size, 'ones'), dtype, device, requires_grad)


def full(size: Any, fill_value: float, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (``tg.full((b,), 0.9)``: smoothed labels);
    its dtype, unless given, is torch's: int64 for an int, bool for a bool, else float32."""
    if isinstance(fill_value, Tensor) and fill_value.array.size == 1:
        fill_value = fill_value.item()
    if isinstance(fill_value, (str, bytes)) or not np.isscalar(fill_value):
        raise InputTypeError(f"full: fill_value must be a number, got {type(fill_value).__name__}")
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = BOOL
    elif isinstance(fill_value, (complex, np.complexfloating)):
        fill_value, dtype = _fill_dtype(fill_value, dtype, "full")
    elif dtype is None and isinstance(fill_value, (int, np.integer)):
        dtype = int64
    t = _filled("zeros", (size,) if isinstance(size, (int, np.integer)) else tuple(size), dtype,
                device, False, "full")
    if t.array.dtype in _NARROW_FLOAT_MAX and type(fill_value) is not bool and isinstance(fill_value, (int, float)) \
            and math.isfinite(fill_value) and abs(fill_value) > _NARROW_FLOAT_MAX[t.array.dtype]:
        raise ValueOverflowError(f"full: value {fill_value} cannot be converted to type {t.array.dtype} "
                                 f"without overflow (as torch; it would be inf)")
    try:
        t.array.fill(fill_value)
    except (OverflowError, ValueError):  # full(2, -1, dtype=uint8) is 255 in torch; 300, NaN refused
        from .tensor import _checked_convert
        t.array.fill(_checked_convert(fill_value, t.array.dtype))
    return t.requires_grad_(requires_grad)


_NARROW_FLOAT_MAX = {np.dtype(np.float16): 65504.0, float32: float(np.finfo(np.float32).max)}


_INT64_END = 1 << 63


def _range_number(value: Any, op: str) -> int | float:
    """A bound or step of arange as a Python int (a bool is one: arange(0, True) is int64) or
    float: a one-element tensor or a NumPy value as its number (NumPy arithmetic would wrap
    ``np.uint16(1) - 2`` or overflow), a complex number with no imaginary part as its real part (torch's checked convert;
    one with an imaginary part refused)."""
    if isinstance(value, Tensor):
        value = value.item()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, complex):
        if value.imag:
            raise ValueOverflowError(f"{op}: value {value} cannot be converted to type double "
                                     f"without overflow (as torch: a complex bound or step)")
        value = value.real
    if type(value) is int or type(value) is float:
        return value
    if isinstance(value, (int, float)):          # a bool, an IntEnum, a float subclass: the number
        return int(value) if isinstance(value, int) else float(value)
    raise InputTypeError(f"{op}: expected numbers, got {type(value).__name__} {value!r:.40}")


def _refuse_huge_int(values: tuple, op: str) -> None:
    """Error path: an int bound outside int64 is torch's OverflowError ("int too big to convert")."""
    for v in values:
        if isinstance(v, int) and not -_INT64_END <= v < _INT64_END:
            raise ValueOverflowError(f"{op}: int too big to convert: {v} is outside int64 (as torch)")


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """``torch.arange``: int64 when start, end and step are all ints (``arange(4)`` is 0, 1, 2,
    3), else float32 (unless ``dtype=`` says); a one-element tensor counts as its number."""
    if end is None:
        start, end = 0, start
    if not all(type(v) is int or type(v) is float for v in (start, end, step)):
        start, end, step = (_range_number(v, "arange") for v in (start, end, step))
    if step == 0:
        raise RangeStepError("arange: step must be nonzero")
    if not all(type(v) is int and -_INT64_END <= v < _INT64_END    # (np.isfinite of a Python
               or type(v) is float and math.isfinite(v) for v in (start, end, step)):  # number: ~1 us)
        _refuse_huge_int((start, end, step), "arange")
        raise RangeArgError(f"arange: unsupported range {start} -> {end} (step {step}): the bounds "
                          f"and step must be finite")
    if (end - start) * step < 0:
        raise RangeArgError(f"arange: upper bound and lower bound inconsistent with step sign "
                          f"(start {start}, end {end}, step {step})")
    if dtype is None:        # bools count as ints (arange(0, True) is int64), as in torch
        dtype = int64 if all(type(v) is not float for v in (start, end, step)) else get_default_dtype()
    elif np.dtype(dtype).kind in "iu" and any(type(v) is float for v in (start, end, step)):
        start, step = int(start), int(step)   # torch counts an integer range in int64 from start and
        if step == 0:                           # step cut toward 0 (the end stays: arange(0.1) is [0])
            raise RangeStepError(f"arange: step must be nonzero (a float step cut to an int for "
                                 f"dtype {np.dtype(dtype)})")
    values = np.arange(start, end, step, dtype=np.float64 if np.dtype(dtype).kind == "f" else None)
    return tensor(values, requires_grad=requires_grad, dtype=dtype, device=device)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (latent-space walks)."""
    if not _is_int(steps) or steps < 0:
        if isinstance(steps, Tensor) and _is_int(_int_of(steps)):
            return linspace(start, end, _int_of(steps), dtype=dtype, device=device, requires_grad=requires_grad)
        raise InputTypeError(f"linspace: steps must be an int >= 0, got {steps!r}")
    start, end = _space_end(start, "linspace", "start"), _space_end(end, "linspace", "end")
    dt = _space_dtype(start, end, dtype, "linspace")
    values = _torch_linspace(start, end, int(steps), dt)
    if values is None:
        values = _space_values(start, end, int(steps), dt)
    return tensor(values, requires_grad=requires_grad, dtype=dt, device=device)


def _space_end(value: Any, op: str, name: str) -> Any:
    """A linspace / logspace end as a number: a 0-d tensor as its number (torch takes no other),
    a bool as an int (so that torch's formula applies)."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise ShapeError(f"{op} only supports 0-dimensional start and end tensors, but got "
                             f"{name} with {value.ndim} dimension(s) (as torch)")
        value = value.item()
    return int(value) if isinstance(value, (bool, np.bool_)) else value


def _space_dtype(start: Any, end: Any, dtype: Any, op: str) -> np.dtype:
    """linspace / logspace's dtype: ``dtype``, else the default float dtype -- or the default
    complex one for a complex end; a complex end into a real ``dtype`` is refused, as torch."""
    complex_end = isinstance(start, (complex, np.complexfloating)) or isinstance(end, (complex, np.complexfloating))
    if dtype is None:
        if complex_end:
            from .tensor import _complex_of
            return _complex_of(get_default_dtype())
        return get_default_dtype()
    dt = _check_dtype(dtype, any_kind=True)
    if complex_end and dt.kind != "c":
        raise DTypeError(f"{op}: inferred dtype complex can't be safely cast to passed dtype {dt} "
                         f"(as torch: a complex start or end)")
    return dt


def _space_values(start: Any, end: Any, steps: int, dtype: np.dtype) -> np.ndarray:
    """linspace's values where ``_torch_linspace`` has none: ``[start]`` for one step (an infinite
    end makes NumPy's NaN); into an integer dtype, torch's: the ends converted to that dtype first
    (checked: ``-1`` into uint8 is 255, NaN refused), a float64 step, each value cut toward zero."""
    if dtype.kind in "iu" and steps:
        from .tensor import _checked_convert
        start, end = (int(_checked_convert(v, dtype)) if isinstance(v, (float, int, np.number))
                      and not isinstance(v, (bool, np.bool_)) else v      # (one step: start only)
                      for v in ((start, end) if steps > 1 else (start, start)))
        if steps > 1:
            idx = np.arange(steps, dtype=np.float64)
            step = (end - start) / (steps - 1)
            return np.where(idx < steps // 2, start + step * idx, end - step * (steps - 1 - idx))
    if steps == 1:
        return np.array([start])
    return np.linspace(start, end, steps)


def _two_prod(a: np.ndarray, b: np.ndarray) -> tuple:
    """a * b rounded, and its exact rounding error (Dekker's split product)."""
    p = a * b
    split = 134217729.0  # 2**27 + 1
    ca, cb = split * a, split * b
    ah, bh = ca - (ca - a), cb - (cb - b)
    al, bl = a - ah, b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _torch_linspace(start: Any, end: Any, steps: int, dtype: Any) -> Any:
    """torch's CPU linspace values, bit for bit, for float32 / float64 (None for other dtypes or
    non-number ends): ``step = (end - start) / (steps - 1)`` in the dtype, then ``start + step * i``
    over the first half and ``end - step * (steps - 1 - i)`` over the second, each a fused
    multiply-add (one rounding). NumPy's linspace differs by an ulp in most float32 results, e.g.
    torch's ``linspace(-1, 1, 7)[3]`` is -2.98e-08, not 0 -- positional-encoding grids then differ."""
    if dtype not in (float32, float64) or isinstance(start, (bool, complex)) or isinstance(end, (bool, complex)) \
            or not isinstance(start, (int, float, np.floating, np.integer)) \
            or not isinstance(end, (int, float, np.floating, np.integer)) or steps < 2:
        return None
    if not (math.isfinite(start) and math.isfinite(end)):
        with np.errstate(invalid="ignore"):      # inf * 0 is NaN, as torch's, without a warning
            return _torch_linspace_values(start, end, steps, dtype)
    return _torch_linspace_values(start, end, steps, dtype)


def _torch_linspace_values(start: Any, end: Any, steps: int, dtype: Any) -> np.ndarray:
    idx = np.arange(steps, dtype=np.float64)
    first = idx < steps // 2
    mult = np.where(first, idx, idx - (steps - 1))          # i, or -(steps - 1 - i)
    if dtype == float32:
        s, e = np.float32(start), np.float32(end)
        step = np.float64(np.float32(e - s) / np.float32(steps - 1))
        # a float32 step times an int below 2**29 is exact in float64; one rounding to float32 after
        return (np.where(first, np.float64(s), np.float64(e)) + step * mult).astype(np.float32)
    s, e = np.float64(start), np.float64(end)
    step = (e - s) / np.float64(steps - 1)
    base = np.where(first, s, e)
    p, perr = _two_prod(np.full(steps, step), mult)
    total = base + p
    bv = total - p
    serr = (base - bv) + (p - (total - bv))                # exact error of base + p (two-sum)
    return total + (serr + perr)


def _like(t: Tensor, op: str, dtype: Any, device: Any) -> tuple:
    """The dtype and device a ``*_like`` constructor uses: ``t``'s unless given (as torch's)."""
    if not isinstance(t, Tensor):
        raise InputTypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    return (t.dtype if dtype is None else dtype), (t.device if device is None else device)


def full_like(input: Tensor, fill_value: float, requires_grad: bool = False, *, dtype: Any = None,
              device: Any = None, memory_format: Any = None) -> Tensor:
    dt, dev = _like(input, "full_like", dtype, device)
    return _laid_out(full(input.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad),
                     input, memory_format, "full_like")


def empty(*shape, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """torch.empty; zeros here (an uninitialised array would only hide bugs)."""
    out = _filled("zeros", _sized(shape, size, "empty"), dtype, device, requires_grad)
    return out if memory_format is None else _laid_out(out, None, memory_format, "empty")


def _random(draw: str, shape: tuple, generator, seed, dtype, device, requires_grad) -> Tensor:
    dev = get_device(device)
    op = "randn" if draw == "normal" else "rand"
    if dtype is not None and _check_dtype(dtype, any_kind=True).kind == "c":
        return _complex_random(draw, _shape(shape, op), resolve(generator, seed, device=dev),
                               _check_dtype(dtype, any_kind=True), dev, requires_grad)
    if dtype is not None and _check_dtype(dtype, any_kind=True).kind in "iub":
        raise DTypeNotImplementedError(f"{op}: not implemented for dtype {_check_dtype(dtype, any_kind=True)} (as "
                                       f"torch): draw floats, or use randint for whole numbers")
    dt = _check_dtype(get_default_dtype() if dtype is None else dtype)
    host = getattr(resolve(generator, seed, device=dev), draw)(_shape(shape, op), dtype=dt)
    return Tensor._make(dev.xp.asarray(host), dev, requires_grad)


def _complex_random(draw: str, shape: tuple, gen, dt: np.dtype, dev, requires_grad: bool) -> Tensor:
    """torch's complex randn / rand: real and imaginary parts independent, each N(0, 1/2) (so
    that E|z|^2 = 1) or U[0, 1)."""
    pairs = getattr(gen, draw)(shape + (2,), dtype=dt.char.lower())
    if draw == "normal":
        pairs *= pairs.dtype.type(math.sqrt(0.5))
    host = np.ascontiguousarray(pairs).view(dt)[..., 0]
    return Tensor._make(dev.xp.asarray(host), dev, requires_grad)


def _fill_dtype(fill_value: Any, dtype: Any, op: str) -> tuple:
    """(fill_value, dtype) for a complex fill: torch's default complex dtype when none is given;
    into a real dtype only a number whose imaginary part is 0 (torch: cannot be converted)."""
    if dtype is None:
        from .tensor import _complex_of
        return fill_value, _complex_of(get_default_dtype())
    dt = _check_dtype(dtype, any_kind=True)
    if dt.kind != "c":
        if fill_value.imag:
            raise DTypeError(f"{op}: value {fill_value!r} cannot be converted to type {dt} without "
                             f"overflow (as torch: a complex fill for a real dtype)")
        fill_value = fill_value.real
    return fill_value, dtype


def randn(*shape, size: Any = None, generator: Generator | None = None, seed: int | None = None,
          dtype: Any = None, device: Any = None, requires_grad: bool = False,
          out: Tensor | None = None) -> Tensor:
    """Standard normal samples, drawn on the host from ``generator`` (or a fresh one from ``seed``)."""
    if out is not None:
        return _drawn_into("randn", out, dtype, device, requires_grad, lambda dt, dev: randn(
            *shape, size=size, generator=generator, seed=seed, dtype=dt, device=dev))
    return _random("normal", _sized(shape, size, "randn"), generator, seed, dtype, device,
                   requires_grad)


def rand(*shape, size: Any = None, generator: Generator | None = None, seed: int | None = None,
         dtype: Any = None, device: Any = None, requires_grad: bool = False,
         out: Tensor | None = None) -> Tensor:
    """Uniform samples in [0, 1)."""
    if out is not None:
        return _drawn_into("rand", out, dtype, device, requires_grad, lambda dt, dev: rand(
            *shape, size=size, generator=generator, seed=seed, dtype=dt, device=dev))
    return _random("uniform", _sized(shape, size, "rand"), generator, seed, dtype, device,
                   requires_grad)


def _drawn_into(op: str, out: Any, dtype: Any, device: Any, requires_grad: bool,
                draw: Any) -> Tensor:
    """torch's ``out=`` of a sampler: ``draw(dtype, device)`` made in out's dtype on out's device
    (a dtype= must name out's, as torch's "dtype Float does not match dtype of out parameter"),
    written into ``out`` (resized to the draw's shape), ``out`` returned."""
    from .function_forms import _write_out
    if not isinstance(out, Tensor):
        raise InputTypeError(f"{op}: out= must be a Tensor, got {type(out).__name__}")
    if dtype is not None and _check_dtype(dtype, any_kind=True) != out.dtype:
        raise DTypeError(f"{op}: dtype {_check_dtype(dtype, any_kind=True)} does not match the "
                         f"dtype of out= ({out.dtype}), as torch")
    written = _write_out(op, draw(out.dtype, out.device if device is None else device), out)
    return written.requires_grad_(True) if requires_grad else written


def _normal_of_tensors(mean: Any, std: Any, size: Any, generator, dtype, device) -> Tensor:
    """torch.normal's tensor forms: one sample per element of mean and std broadcast together.
    As torch's, the result is in the graph of a mean / std that requires grad, with a zero
    gradient (the sample's value does not move with them)."""
    if size is not None:
        raise InputTypeError("normal: size= goes with a number mean and std; with a tensor "
                             "mean or std the result takes their (broadcast) shape")
    ts = [v for v in (mean, std) if isinstance(v, Tensor)]
    for name, v in (("mean", mean), ("std", std)):
        if not isinstance(v, Tensor) and (isinstance(v, (bool, str, bytes)) or not np.isscalar(v)):
            raise InputTypeError(f"normal: {name} must be a Tensor or a number, got {type(v).__name__}")
        if isinstance(v, Tensor) and v.dtype.kind != "f":
            raise DTypeError(f"normal: {name} must be a float tensor, got {v.dtype}")
    s = (std.detach().numpy() if isinstance(std, Tensor) else np.asarray(std)).ravel()
    bad = s[(s < 0) | np.isnan(s)]
    if bad.size:
        raise SamplingParameterError(f"normal: std must be >= 0 everywhere, got {bad[0]}")
    shape = broadcast_shape("normal: mean {mean} and std {std} do not broadcast together",
                            *(t.shape for t in ts), mean=getattr(mean, 'shape', ()),
                            std=getattr(std, 'shape', ()))
    dt = dtype if dtype is not None else ts[0].dtype
    noise = randn(shape, generator=generator, dtype=dt, device=device or ts[0].device)
    m = mean.detach() if isinstance(mean, Tensor) else mean
    sd = std.detach() if isinstance(std, Tensor) else std
    out = m + sd * noise
    for t in ts:                        # in the graph, with torch's zero gradient
        if t.requires_grad:
            out = out + (t - t.detach()) * 0.0
    return out


def normal(mean: float, std: float = 1.0, size: Any = None, *, generator: Generator | None = None,
           dtype: Any = None, device: Any = None, requires_grad: bool = False,
           out: Tensor | None = None) -> Tensor:
    """``torch.normal(mean, std, size)`` with number arguments: mean + std * randn(size);
    with a tensor mean and / or std (torch's other forms): one sample per element of them."""
    if out is not None:
        return _drawn_into("normal", out, dtype, device, requires_grad, lambda dt, dev: normal(
            mean, std, size, generator=generator, dtype=dt, device=dev))
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        out = _normal_of_tensors(mean, std, size, generator, dtype, device)
        return out.requires_grad_(True) if requires_grad else out
    if size is None:
        raise InputTypeError("normal: with a number mean and std give size= (the shape to draw)")
    for name, v in (("mean", mean), ("std", std)):
        if isinstance(v, (bool, str, bytes)) or not np.isscalar(v):
            raise InputTypeError(f"normal: {name} must be a number here, got {type(v).__name__}")
    if not std >= 0:                    # (NaN too, as torch's "normal expects std >= 0.0")
        raise SamplingParameterError(f"normal: std must be >= 0, got {std}")
    t = randn(size, generator=generator, dtype=dtype, device=device)
    t.array *= t.array.dtype.type(std)
    t.array += t.array.dtype.type(mean if t.array.dtype.kind != "c" else complex(mean, mean))
    return t.requires_grad_(requires_grad)


def _bernoulli_p(p: Any) -> float:
    """bernoulli's number ``p`` as a float (a bool too, as torch); anything else -- a string, a
    list -- an InputTypeError naming p, not float()'s bare ValueError."""
    if type(p) is float or isinstance(p, (bool, np.bool_)):
        return float(p)
    from .functional import _scalar
    return _scalar("bernoulli", "p", p)


def bernoulli(input: Tensor, p: Any = None, *, generator: Generator | None = None,
              out: Tensor | None = None) -> Tensor:
    """1.0 with probability ``input`` (elementwise), else 0.0; with ``p`` (a number, torch's
    second form), 1.0 with probability ``p`` in ``input``'s shape.  Probabilities that require
    grad give draws that do too, with a zero gradient (torch's BernoulliBackward0): the
    probabilities get zeros, not None. ``out=`` (torch's first form only) takes any dtype."""
    if out is not None:
        if p is not None:
            raise InputTypeError("bernoulli: out= goes with per-element probabilities only "
                                 "(bernoulli(input, out=...)), not with p, as torch")
        return _drawn_into("bernoulli", out, None, None, False, lambda dt, dev: bernoulli(
            input, generator=generator).to(dt))
    if not isinstance(input, Tensor):
        raise InputTypeError(f"bernoulli: input must be a Tensor, got {type(input).__name__}")
    probs, own = input, p is None
    if own and input.array.dtype.kind in "iub":     # torch's "bernoulli_tensor_cpu_p_" not implemented
        raise DTypeNotImplementedError(f"bernoulli: not implemented for a {input.dtype} tensor of "
                                       f"probabilities (as torch): pass floats")
    if own:
        p = probs.detach().numpy()
    elif isinstance(p, Tensor) and p.ndim:      # (a 0-d tensor is a number to torch's float p)
        raise InputTypeError("bernoulli: p must be a number (for per-element probabilities pass "
                             "them as input)")
    else:
        p = p.item() if isinstance(p, Tensor) else p
        p = np.full(probs.shape, _bernoulli_p(p))
    if p.size and not ((p >= 0) & (p <= 1)).all():
        raise SamplingParameterError("bernoulli: probabilities must be in [0, 1]")
    u = rand(probs.shape, generator=generator,       # (integer input with a number p: as torch)
             dtype=probs.dtype if probs.dtype.kind == "f" else None).numpy()
    out = Tensor._from((u < p).astype(probs.dtype), device=probs.device)
    if not (own and input._requires_grad):
        return out
    from .ops import with_zero_edge
    return with_zero_edge(out, input)


def randn_like(input: Tensor, generator: Generator | None = None, requires_grad: bool = False, *,
               dtype: Any = None, device: Any = None, memory_format: Any = None) -> Tensor:
    """Normal samples of ``input``'s shape, in its dtype and device unless ``dtype=``/``device=`` say."""
    dt, dev = _like(input, "randn_like", dtype, device)
    return _laid_out(randn(input.shape, generator=generator, dtype=dt, device=dev,
                           requires_grad=requires_grad), input, memory_format, "randn_like")


def rand_like(input: Tensor, generator: Generator | None = None, requires_grad: bool = False, *,
              dtype: Any = None, device: Any = None, memory_format: Any = None) -> Tensor:
    """Uniform samples of ``input``'s shape (``rand_like(ints, dtype=torch.float)`` as torch's)."""
    dt, dev = _like(input, "rand_like", dtype, device)
    return _laid_out(rand(input.shape, generator=generator, dtype=dt, device=dev,
                          requires_grad=requires_grad), input, memory_format, "rand_like")


def zeros_like(input: Tensor, requires_grad: bool = False, *, dtype: Any = None,
               device: Any = None, memory_format: Any = None) -> Tensor:
    dt, dev = _like(input, "zeros_like", dtype, device)
    return _laid_out(zeros(input.shape, dtype=dt, device=dev, requires_grad=requires_grad), input,
                     memory_format, "zeros_like")


def ones_like(input: Tensor, requires_grad: bool = False, *, dtype: Any = None,
              device: Any = None, memory_format: Any = None) -> Tensor:
    dt, dev = _like(input, "ones_like", dtype, device)
    return _laid_out(ones(input.shape, dtype=dt, device=dev, requires_grad=requires_grad), input,
                     memory_format, "ones_like")


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               memory_format: Any = None) -> Tensor:
    """torch.empty_like: zeros of ``input``'s shape (its dtype and device unless given), as ``empty``."""
    if not isinstance(input, Tensor):
        raise InputTypeError(f"empty_like: expected a Tensor, got {type(input).__name__}")
    return _laid_out(zeros(input.shape, dtype=input.dtype if dtype is None else dtype,
                           device=input.device if device is None else device,
                           requires_grad=requires_grad), input, memory_format, "empty_like")


def _laid_out(out: Tensor, like: "Tensor | None", memory_format: Any, op: str) -> Tensor:
    """A new tensor's array re-laid in ``memory_format`` (torch.channels_last ...); the
    default preserve_format keeps ``like``'s channels-last layout, as torch's *_like."""
    if memory_format is None and (like is None or (like.array.flags.c_contiguous and like.array.size)):
        return out
    from . import memory_formats as mf
    fmt = mf.check(mf.preserve_format if memory_format is None else memory_format, op)
    if fmt is mf.preserve_format:
        if like is None:
            raise InputTypeError(f"{op}: preserve_format needs a tensor to preserve the "
                                 f"layout of (use it with the *_like functions)")
        fmt = mf.suggest(like.array)
    axes = mf.order(fmt, out.shape, op)
    if axes is not None:
        out.array = mf.relayout(out.device.xp, out.array, axes)
    return out


def _join_axis(axis: Any, dim: Any, ndim: int) -> int:
    """axis= (NumPy's name) or dim= (PyTorch's), checked like every other axis argument."""
    axes = _axes(axis if dim is None else dim, ndim)
    if len(axes) != 1:
        raise ShapeError(f"concat/stack join along one axis, got {axes}")
    return axes[0]


def concat(tensors, axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis (differentiable)."""
    from .ops import Concat
    if isinstance(tensors, Tensor):       # list() would split it into its rows silently
        raise InputTypeError("cat: takes a sequence of Tensors, got one Tensor (wrap it in a list)")
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("concat needs at least one tensor")
    if any(not isinstance(t, Tensor) or t.ndim == 0 for t in tensors):
        for i, t in enumerate(tensors):   # (a NumPy array is taken as a constant, as before)
            if not isinstance(t, (Tensor, np.ndarray)):
                raise InputTypeError(f"cat: expected Tensor as element {i}, got {type(t).__name__} (as torch, a TypeError)")
        if any(isinstance(t, Tensor) and t.ndim == 0 for t in tensors):
            raise ShapeError("concat: a 0-d tensor has no dim to join along (use stack)")
    ref = tensors[0]
    if getattr(ref, "shape", None) == (0,):     # torch skips 1-D empty tensors: dim is the others'
        ref = next((t for t in tensors if getattr(t, "shape", (0,)) != (0,)), ref)
    return Concat.apply(_join_axis(axis, dim, max(ref.ndim, 1)), *tensors)


cat = concat


def where(condition: Tensor, input: Any = None, other: Any = None, *, out: Tensor | None = None,
          _node: Any = None) -> Any:
    """``input`` where ``condition`` (a bool tensor, e.g. ``x > 0``) holds, ``other`` elsewhere,
    all three broadcast together (torch.where).  Differentiable in ``input`` and ``other``; a
    number on either side takes the tensor side's dtype.  ``where(condition)`` alone is
    ``nonzero(condition, as_tuple=True)``.  ``out=`` as torch's (not differentiable).
    (``_node``: a Where subclass under another torch node name -- masked_fill's.)"""
    from .ops import Where
    if out is not None:
        from .function_forms import _write_out
        return _write_out("where", where(condition, input, other), out, (condition, input, other))
    if input is None and other is None and isinstance(condition, Tensor):
        return condition.nonzero(as_tuple=True)
    if not isinstance(condition, Tensor) or condition.dtype != BOOL:
        raise DTypeError(f"where: condition must be a bool tensor (e.g. x > 0), got "
                         f"{getattr(condition, 'dtype', type(condition).__name__)}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = _where_scalars(input, other, condition.device)
    ref = input if isinstance(input, Tensor) else other
    if condition.device is not ref.device:
        raise DeviceError(f"where: condition on {condition.device}, values on {ref.device}")

    def operand(value):   # numbers and arrays as tensors of ref's dtype and device (a float
        value = ref._lift(value)        # beside an integer tensor: float32, torch's promotion)
        if isinstance(value, Tensor):
            return value
        exact = ref.dtype.kind == "f" or not isinstance(value, (float, np.floating))
        dtype = ref.dtype if exact else float32
        if dtype == BOOL and not isinstance(value, (bool, np.bool_)):    # a mask beside an int:
            dtype = int64                                                 # int64, as torch
        return Tensor._make(ref.device.xp.full((), value, dtype=dtype), ref.device)
    return (_node or Where).apply(operand(input), operand(other), condition.array)


def _where_scalars(input: Any, other: Any, device: Any) -> Tensor:
    """``where(cond, 1, 0)``: two Python numbers give a tensor of their result type, as torch's
    (both bool: bool; a float among them: the default float dtype; else int64)."""
    kinds = []
    for name, value in (("input", input), ("other", other)):
        if isinstance(value, (bool, np.bool_)):
            kinds.append("b")
        elif isinstance(value, (int, np.integer)):
            kinds.append("i")
        elif isinstance(value, (float, np.floating)):
            kinds.append("f")
        else:
            raise InputTypeError(f"where: input or other must be a Tensor or a number, got "
                                 f"{name} of type {type(value).__name__}")
    dtype = get_default_dtype() if "f" in kinds else int64 if "i" in kinds else BOOL
    return Tensor._make(device.xp.full((), input, dtype=dtype), device)


def stack(tensors, axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along a new axis (differentiable)."""
    if isinstance(tensors, Tensor):       # list() would split it into its rows silently
        raise InputTypeError("stack: takes a sequence of Tensors, got one Tensor (wrap it in a list)")
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("stack needs at least one tensor")
    for i, t in enumerate(tensors):   # (a NumPy array is taken as a constant, as before)
        if not isinstance(t, (Tensor, np.ndarray)):
            raise InputTypeError(f"stack: expected Tensor as element {i}, got {type(t).__name__} (as torch, a TypeError)")
    axis = _join_axis(axis, dim, tensors[0].ndim + 1)
    from .ops import Stack   # (Stack adds the new axis to each array itself)
    return Stack.apply(axis, *tensors)



# ---------------------------------------------------------------------------------------------
# Whole numbers: indices, labels and counts, int64 unless dtype= asks for another (a float dtype
# must hold them exactly: float32 up to 2**24).
# ---------------------------------------------------------------------------------------------
def _whole_numbers(values: np.ndarray, dtype: Any, device: Any, op: str,
                   requires_grad: bool = False) -> Tensor:
    dt = _check_dtype(int64 if dtype is None else dtype, any_kind=True)
    _check_grad_dtype(requires_grad, dt)
    if dt.kind == "f" and values.size and np.abs(values).max() > 2 ** (np.finfo(dt).nmant + 1):
        raise DTypeError(f"{op}: values up to {np.abs(values).max()} are not all exact in {dt}: "
                         f"leave dtype= out (int64) or pass dtype=tg.float64")
    if dt.kind in "iu" and values.size and not (np.iinfo(dt).min <= values.min() and values.max() <= np.iinfo(dt).max):
        raise DTypeError(f"{op}: values from {values.min()} to {values.max()} do not fit in {dt}")
    dev = get_device(device)
    return Tensor._make(dev.xp.asarray(values.astype(dt)), dev, requires_grad)


def _check_draw_range(op: str, low: int, high: int, dtype: Any) -> None:
    """torch's check that [low, high) fits ``dtype`` (bool: [0, 2)): both ends, not just the
    values drawn, so whether it raises does not depend on the draw."""
    dt = _check_dtype(int64 if dtype is None else dtype, any_kind=True)
    if dt.kind == "f":
        _check_float_draw_range(op, low, high, dt)
    if dt.kind not in "iub":
        return
    least, most = (0, 1) if dt.kind == "b" else (int(np.iinfo(dt).min), int(np.iinfo(dt).max))
    for name, end in (("from", low), ("to - 1", high - 1)):
        if not least <= end <= most:
            raise SamplingParameterError(f"{op}: {name} = {end} is out of bounds for {dt} "
                                         f"({least} .. {most}), as torch")


def _check_float_draw_range(op: str, low: int, high: int, dt: np.dtype) -> None:
    """Whole numbers in [low, high) drawn into a float ``dt``: both ends finite in it (torch's
    'out of bounds' RuntimeError, not inf draws) and exact in it (float32 up to 2**24; torch
    warns, tensorgan refuses) -- checked on the ends, so the outcome does not depend on the draw."""
    info = np.finfo(dt)
    for name, end in (("from", low), ("to - 1", high - 1)):
        if not -float(info.max) <= end <= float(info.max):
            raise SamplingParameterError(f"{op}: {name} = {end} is out of bounds for {dt} "
                                         f"(its largest finite value is {info.max}), as torch")
    exact = 2 ** (info.nmant + 1)
    if max(abs(low), abs(high - 1)) > exact:
        raise DTypeError(f"{op}: values in [{low}, {high}) are not all exact in {dt} (only up to "
                         f"{exact}): leave dtype= out (int64) or pass dtype=tg.float64")


def randint(low: int | None = None, high: int | None = None, size: Any = None, *,
            generator: Generator | None = None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False, out: Tensor | None = None) -> Tensor:
    """Uniform whole numbers in [low, high) (``randint(high, size)`` and ``randint(high=h,
    size=s)`` as torch's), int64 unless ``dtype=``; [low, high) must fit the dtype."""
    if out is not None:
        return _drawn_into("randint", out, dtype, device, requires_grad, lambda dt, dev: randint(
            low, high, size, generator=generator, dtype=dt, device=dev))
    if size is None and isinstance(high, (tuple, list)):     # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    elif low is None:                                         # randint(high=h, size=s)
        low = 0
    if size is None:
        raise InputTypeError("randint: size is required, e.g. randint(0, 10, (64,))")
    if not (_is_int(low) and _is_int(high)):
        raise InputTypeError(f"randint: low and high must be ints with low < high, got {low!r}, {high!r}")
    for name, end in (("low", low), ("high", high)):      # torch's arguments are int64s
        if not -2**63 <= end < 2**63:
            raise SamplingParameterError(f"randint: {name} = {end} does not fit in int64 (as "
                                         f"torch's 'Overflow when unpacking long long')")
    if high <= low:
        raise SamplingParameterError(f"randint: low and high must be ints with low < high, got {low!r}, {high!r}")
    _check_draw_range("randint", low, high, dtype)
    values = resolve(generator, device=get_device(device)).rng.integers(low, high, _shape((size,), "randint"))
    return _whole_numbers(values, dtype, device, "randint", requires_grad)


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False, out: Tensor | None = None) -> Tensor:
    """A random permutation of 0 .. n-1, int64 (``x[tg.randperm(len(x))]`` shuffles)."""
    if out is not None:
        return _drawn_into("randperm", out, dtype, device, requires_grad, lambda dt, dev: randperm(
            n, generator=generator, dtype=dt, device=dev))
    n = _int_of(n)
    if not _is_int(n):
        raise InputTypeError(f"randperm: n must be an int >= 0, got {n!r}")
    if n < 0:                  # torch: a RuntimeError (a negative dimension)
        raise SamplingParameterError(f"randperm: n must be an int >= 0, got {n!r}")
    return _whole_numbers(resolve(generator, device=get_device(device)).permutation(int(n)), dtype, device, "randperm",
                          requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix (n, m) (torch.eye)."""
    m = n if m is None else m
    if not (_is_int(n) and _is_int(m)) or n < 0 or m < 0:
        if (isinstance(n, Tensor) or isinstance(m, Tensor)) and _is_int(_int_of(n)) and _is_int(_int_of(m)):
            return eye(_int_of(n), _int_of(m), dtype=dtype, device=device, requires_grad=requires_grad)
        raise InputTypeError(f"eye: sizes must be ints >= 0, got {n!r}, {m!r}")
    dev = get_device(device)
    dt = _check_dtype(get_default_dtype() if dtype is None else dtype, any_kind=True)
    _check_grad_dtype(requires_grad, dt)
    return Tensor._make(dev.xp.eye(n, m, dtype=dt), dev, requires_grad)


class _LegacyTensorType(type):
    """``isinstance(x, tg.FloatTensor)`` is a dtype test on a CPU tensor, as in torch (a CUDA
    tensor is a ``tg.cuda.FloatTensor``, not a ``tg.FloatTensor``)."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"


class FloatTensor(metaclass=_LegacyTensorType):
    """torch's legacy constructor: ``FloatTensor(4, 1)`` a (zeroed) tensor of that shape,
    ``FloatTensor(data)`` one holding ``data``; ``x.type(FloatTensor)`` converts (PyTorch-GAN's
    ``Tensor(imgs.size(0), 1).fill_(1.0)`` and ``batch.type(Tensor)`` idioms)."""
    dtype = float32

    def __new__(cls, *args: Any, device: Any = None, size: Any = None) -> Tensor:  # type: ignore[misc]
        if len(args) == 1 and isinstance(args[0], Tensor) and args[0].dtype != cls.dtype:
            raise DTypeError(f"{cls.__name__}(t): t is a {args[0].dtype} tensor, not {cls.dtype}: "
                             f"convert it with t.to({cls.dtype}) or t.type({cls.__name__})")
        return Tensor(*args, dtype=cls.dtype, device=device, size=size)


class DoubleTensor(FloatTensor):
    dtype = np.dtype(np.float64)


class LongTensor(FloatTensor):
    """int64: labels and indices (``LongTensor([1.7])`` truncates to 1, as torch)."""
    dtype = int64


class IntTensor(FloatTensor):
    dtype = np.dtype(np.int32)


class ByteTensor(FloatTensor):
    dtype = np.dtype(np.uint8)


class BoolTensor(FloatTensor):
    dtype = BOOL


class ShortTensor(FloatTensor):
    dtype = np.dtype(np.int16)


class CharTensor(FloatTensor):
    dtype = np.dtype(np.int8)


class HalfTensor(FloatTensor):
    dtype = np.dtype(np.float16)


class _CudaLegacyTensorType(_LegacyTensorType):
    """``isinstance(x, tg.cuda.FloatTensor)``: the dtype and a CUDA device, as in torch."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cuda"


def _cuda_legacy(base: type) -> type:
    """``tg.cuda.FloatTensor`` & co.: ``base``'s constructor on the CUDA device (a DeviceError
    naming why where there is none, as torch refuses ``torch.cuda.FloatTensor(2)`` without CUDA),
    so ``Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor`` and ``x.type(Tensor)``
    work as written on either device."""
    def __new__(cls, *args: Any, device: Any = "cuda", size: Any = None) -> Tensor:
        return base.__new__(cls, *args, device=device, size=size)
    return _CudaLegacyTensorType(base.__name__, (base,), {
        "__new__": __new__, "__module__": "tensorgan.cuda", "__qualname__": base.__name__,
        "__doc__": f"torch.cuda.{base.__name__}: a {base.dtype} tensor on the CUDA device."})


CUDA_LEGACY_TENSOR_TYPES = {cls.__name__: _cuda_legacy(cls) for cls in (
    FloatTensor, DoubleTensor, LongTensor, IntTensor, ByteTensor, BoolTensor, ShortTensor,
    CharTensor, HalfTensor)}
