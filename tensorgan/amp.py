"""torch's mixed-precision training API: ``tg.amp.GradScaler`` and ``tg.autocast``.

``GradScaler`` is torch's algorithm, step for step: ``scale(loss)`` multiplies by the scale (a
float32 value, ``init_scale`` at first), ``unscale_(opt)`` divides the optimizer's gradients in
place by it (multiplying by its float32 reciprocal, as torch) and records whether any was inf or
NaN, ``step(opt)`` skips ``opt.step()`` when one was, and ``update()`` multiplies the scale by
``backoff_factor`` after a skipped step, or by ``growth_factor`` after ``growth_interval``
clean steps in a row.  Its ``state_dict()`` is five plain numbers (``tg.save`` takes it).

``autocast`` is accepted and recorded (``tg.is_autocast_enabled('cpu')``,
``tg.get_autocast_dtype('cpu')`` say what torch's say), but tensorgan has no lower-precision
compute paths: **a region under autocast computes in float32, as outside it** -- its results are
at least as accurate as torch's bfloat16 / float16 autocast, and a GradScaler then rarely sees an
overflow.  The first enabled region warns once that it runs in float32.  As torch, CUDA autocast
(and a ``'cuda'`` GradScaler) switches itself off with a warning where CUDA is not available,
and CPU / CUDA autocast accept only ``bfloat16`` / ``float16`` (another dtype: a warning, and
the region is not autocast).
"""
from __future__ import annotations

import functools
import numbers
import threading
import warnings
from enum import Enum
from typing import Any, Callable

import numpy as np

from .backend import TORCH_DEVICE_TYPES as _TORCH_DEVICE_TYPES   # autocast('xpu') & co.: valid names
from .errors import AmpError, CheckpointError, ConfigError, DeviceError, DTypeError, InputTypeError
from .tensor import _caller_level

__all__ = ["GradScaler", "OptState", "autocast", "custom_fwd", "custom_bwd", "is_autocast_available"]


def _cuda_available() -> bool:
    from .backend import cuda_status
    return cuda_status()[0]


def _half_dtypes() -> tuple:
    from .tensor import bfloat16, float16
    return bfloat16, float16


def _dtype_name(dtype: Any) -> str:
    from .printing import dtype_name
    name = repr(dtype) if not isinstance(dtype, np.dtype) else dtype_name(dtype)
    return name.replace("tensorgan.", "")


# -- autocast state (per thread, per device type, as torch's) -------------------------------------
class _AutocastState(threading.local):
    def __init__(self) -> None:
        bfloat16, float16 = _half_dtypes()
        self.enabled: dict[str, bool] = {}
        self.dtype: dict[str, Any] = {"cpu": bfloat16, "cuda": float16}
        self.cache_enabled = True


_state = _AutocastState()
_warned_float32 = [False]


def _check_device_type(device_type: Any, owner: str) -> str:
    if not isinstance(device_type, str):
        raise InputTypeError(f"{owner}: expected `device_type` of type `str`, got: "
                             f"`{type(device_type).__name__}`")
    if device_type not in _TORCH_DEVICE_TYPES:
        raise DeviceError(f"{owner}: unknown device_type {device_type!r} (expected one of "
                          f"{', '.join(_TORCH_DEVICE_TYPES)})")
    return device_type


def is_autocast_available(device_type: str) -> bool:
    """``torch.amp.is_autocast_available``: True for ``'cpu'`` and ``'cuda'`` (recorded only:
    tensorgan computes in float32 under autocast)."""
    return _check_device_type(device_type, "is_autocast_available") in ("cpu", "cuda")


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """``torch.is_autocast_enabled(device_type)``: whether an enabled autocast region for that
    device type is active in this thread (no argument: CUDA's, as torch)."""
    return _state.enabled.get("cuda" if device_type is None else device_type, False)


def set_autocast_enabled(device_type: Any, enabled: Any = None) -> None:
    """``torch.set_autocast_enabled(device_type, enabled)`` (or the older ``(enabled)``: CUDA)."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    _state.enabled[_check_device_type(device_type, "set_autocast_enabled")] = bool(enabled)


def get_autocast_dtype(device_type: str) -> Any:
    """``torch.get_autocast_dtype``: the dtype autocast regions of that device type name (default
    bfloat16 on the CPU, float16 elsewhere); tensorgan computes in float32 regardless."""
    _check_device_type(device_type, "get_autocast_dtype")
    return _state.dtype.get(device_type, _half_dtypes()[1])


def set_autocast_dtype(device_type: str, dtype: Any) -> None:
    _state.dtype[_check_device_type(device_type, "set_autocast_dtype")] = dtype


def is_autocast_cpu_enabled() -> bool:
    """torch's deprecated ``is_autocast_cpu_enabled()``: ``is_autocast_enabled('cpu')``."""
    return is_autocast_enabled("cpu")


def get_autocast_cpu_dtype() -> Any:
    return get_autocast_dtype("cpu")


def get_autocast_gpu_dtype() -> Any:
    return get_autocast_dtype("cuda")


def is_autocast_cache_enabled() -> bool:
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    _state.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    """torch's cast cache: tensorgan casts nothing under autocast, so there is none to clear."""


class autocast:
    """``torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)`` -- a context
    manager and a decorator.  **tensorgan computes in float32 inside it, as outside** (it has no
    bfloat16 / float16 compute paths): the region's results are at least as accurate as torch's,
    and the first enabled region warns once that this is so.  What torch code can observe is
    kept: ``is_autocast_enabled(device_type)`` / ``get_autocast_dtype(device_type)`` inside the
    region, the default dtype (bfloat16 on the CPU, float16 on CUDA), CUDA autocast switching
    itself off with a warning without CUDA, and a dtype other than bfloat16 / float16 switching
    the region off with a warning."""

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        self.device = _check_device_type(device_type, "autocast")
        self.fast_dtype = get_autocast_dtype(self.device) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else bool(cache_enabled)
        self._prev: list = []
        enabled = bool(enabled)
        if enabled:
            if self.device == "cuda" and not _cuda_available():
                warnings.warn("CUDA is not available. Disabling autocast.", stacklevel=_caller_level())
                enabled = False
            elif self.device not in ("cpu", "cuda"):
                warnings.warn(f"tensorgan has no {self.device!r} device. Disabling autocast.",
                              stacklevel=_caller_level())
                enabled = False
            elif not any(self.fast_dtype is d for d in _half_dtypes()):
                name = "CPU" if self.device == "cpu" else "CUDA"
                warnings.warn(f"In {name} autocast, but the target dtype is not supported. "
                              f"Disabling autocast.\n{name} Autocast only supports dtypes of "
                              f"tensorgan.bfloat16, tensorgan.float16 currently.", stacklevel=_caller_level())
                enabled = False
        self._enabled = enabled

    def __enter__(self) -> "autocast":
        self._prev.append((_state.enabled.get(self.device, False), get_autocast_dtype(self.device),
                           _state.cache_enabled))
        if self._enabled and not _warned_float32[0]:
            _warned_float32[0] = True
            warnings.warn(f"autocast({self.device!r}, dtype={_dtype_name(self.fast_dtype)}): tensorgan "
                          f"has no lower-precision compute paths, so this region (and every later "
                          f"autocast region) runs in float32, at least as accurately as torch's "
                          f"{_dtype_name(self.fast_dtype)} autocast", stacklevel=_caller_level())
        _state.enabled[self.device] = self._enabled
        _state.dtype[self.device] = self.fast_dtype
        _state.cache_enabled = self._cache_enabled
        return self

    def __exit__(self, *exc: Any) -> bool:
        enabled, dtype, cache = self._prev.pop()
        _state.enabled[self.device] = enabled
        _state.dtype[self.device] = dtype
        _state.cache_enabled = cache
        return False

    def __call__(self, func: Callable) -> Callable:
        if not callable(func):
            raise InputTypeError(f"autocast()(func) requires a callable, but got "
                                 f"{type(func).__name__}; as a context manager: with "
                                 f"tg.autocast(device_type=...):")

        @functools.wraps(func)
        def decorate_autocast(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


class _set_state:
    """Sets one device type's autocast state for a block, without autocast's checks or warnings."""

    def __init__(self, device_type: str, enabled: bool, dtype: Any) -> None:
        self.device, self.enabled, self.dtype = device_type, enabled, dtype

    def __enter__(self) -> None:
        self.prev = (_state.enabled.get(self.device, False), get_autocast_dtype(self.device))
        _state.enabled[self.device] = self.enabled
        if self.dtype is not None:
            _state.dtype[self.device] = self.dtype

    def __exit__(self, *exc: Any) -> bool:
        _state.enabled[self.device], _state.dtype[self.device] = self.prev
        return False


def _cast(value: Any, device_type: str, dtype: Any) -> Any:
    """torch's rule: floating-point Tensors on ``device_type`` are cast, except float64 ones (kept
    at full precision), through lists, tuples and dicts."""
    from .tensor import Tensor, float64
    if isinstance(value, Tensor):
        eligible = (value.is_floating_point() and value.device.type == device_type
                    and value.dtype != float64 and value.dtype != dtype)
        return value.to(dtype) if eligible else value
    if isinstance(value, (str, bytes, np.ndarray)):
        return value
    if isinstance(value, dict):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, device_type, dtype) for v in value)
    return value


def custom_fwd(fwd: Callable | None = None, *, device_type: str, cast_inputs: Any = None) -> Callable:
    """``torch.amp.custom_fwd(device_type=..., cast_inputs=None)`` for a custom Function's
    ``forward``: records whether autocast was on (``custom_bwd`` runs ``backward`` the same way);
    with ``cast_inputs`` and autocast on, floating-point Tensor arguments on ``device_type`` (not
    float64 ones) are cast to it and ``forward`` runs with autocast off, as torch -- except that a
    cast to float16 / bfloat16 is left out (tensorgan computes those regions in float32 anyway)."""
    _check_device_type(device_type, "custom_fwd")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args: Any, **kwargs: Any) -> Any:
        on = is_autocast_enabled(device_type)
        ctx = args[0] if args else None
        if cast_inputs is None or not on:
            _mark(ctx, on, get_autocast_dtype(device_type))
            return fwd(*args, **kwargs)
        _mark(ctx, False, get_autocast_dtype(device_type))
        with _set_state(device_type, False, None):
            if any(cast_inputs is d for d in _half_dtypes()):
                return fwd(*args, **kwargs)
            return fwd(*_cast(args, device_type, cast_inputs),
                       **_cast(kwargs, device_type, cast_inputs))
    return decorate_fwd


def _mark(ctx: Any, used: bool, dtype: Any) -> None:
    try:
        ctx._fwd_used_autocast, ctx._dtype = used, dtype
    except AttributeError:
        pass


def custom_bwd(bwd: Callable | None = None, *, device_type: str) -> Callable:
    """``torch.amp.custom_bwd(device_type=...)`` for a custom Function's ``backward``: runs it
    with the autocast state its ``custom_fwd`` forward had."""
    _check_device_type(device_type, "custom_bwd")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args: Any, **kwargs: Any) -> Any:
        ctx = args[0] if args else None
        with _set_state(device_type, bool(getattr(ctx, "_fwd_used_autocast", False)),
                        getattr(ctx, "_dtype", None)):
            return bwd(*args, **kwargs)
    return decorate_bwd


# -- GradScaler ----------------------------------------------------------------------------------
class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state() -> dict[str, Any]:
    return {"stage": OptState.READY, "found_inf": None}


class GradScaler:
    """``torch.amp.GradScaler(device='cuda', init_scale=2.**16, growth_factor=2.0,
    backoff_factor=0.5, growth_interval=2000, enabled=True)`` -- torch's dynamic loss scaling::

        scaler = tg.amp.GradScaler("cpu")
        scaler.scale(loss).backward()
        scaler.unscale_(opt)                 # optional: clip the true gradients here
        scaler.step(opt)                     # skipped when a gradient is inf / NaN
        scaler.update()                      # backoff after a skip, growth after growth_interval

    As torch, ``device='cuda'`` without CUDA switches the scaler off with a warning (then it is a
    pass-through: ``scale`` returns its argument, ``step`` calls ``opt.step()``, ``get_scale()`` is
    1.0, ``state_dict()`` is empty).  Misuse raises :class:`~tensorgan.errors.AmpError` (a
    RuntimeError): ``unscale_`` twice or after ``step`` before ``update``, ``step`` twice,
    ``unscale_`` / ``step`` / ``update`` before any ``scale``, a closure passed to ``step``."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        if not isinstance(device, str):
            raise InputTypeError(f"GradScaler: device must be a device-type string ('cuda', "
                                 f"'cpu'), got {type(device).__name__}")
        self._device = device
        self._enabled = bool(enabled)
        if self._device == "cuda" and self._enabled and not _cuda_available():
            warnings.warn("tg.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                          stacklevel=_caller_level())
            self._enabled = False
        if self._enabled:
            for name, value in (("init_scale", init_scale), ("growth_factor", growth_factor),
                                ("backoff_factor", backoff_factor)):
                if isinstance(value, bool) or not isinstance(value, numbers.Real):
                    raise InputTypeError(f"GradScaler: {name} must be a number, got "
                                         f"{type(value).__name__}")
            if growth_factor <= 1.0:
                raise ConfigError(f"GradScaler: the growth factor must be > 1.0, got {growth_factor}")
            if backoff_factor >= 1.0:
                raise ConfigError(f"GradScaler: the backoff factor must be < 1.0, got {backoff_factor}")
            if isinstance(growth_interval, bool) or not isinstance(growth_interval, numbers.Integral):
                raise InputTypeError(f"GradScaler: growth_interval must be an int, got "
                                     f"{type(growth_interval).__name__}")
            self._init_scale = float(init_scale)
            self._scale: np.float32 | None = None
            self._growth_factor = float(growth_factor)
            self._backoff_factor = float(backoff_factor)
            self._growth_interval = int(growth_interval)
            self._init_growth_tracker = 0
            self._growth_tracker: int | None = None
            self._per_optimizer_states: dict[int, dict[str, Any]] = {}

    def __repr__(self) -> str:
        if not self._enabled:
            return f"GradScaler({self._device!r}, enabled=False)"
        return (f"GradScaler({self._device!r}, scale={self.get_scale()}, growth_factor="
                f"{self._growth_factor}, backoff_factor={self._backoff_factor}, growth_interval="
                f"{self._growth_interval})")

    def _opt_state(self, optimizer: Any) -> dict[str, Any]:
        return self._per_optimizer_states.setdefault(id(optimizer), _fresh_state())

    def _check_scale(self, funcname: str) -> None:
        if self._scale is None:
            raise AmpError(f"GradScaler.{funcname}: no scale yet. This may indicate your script "
                           f"did not use scaler.scale(loss or outputs) earlier in the iteration.")

    def _lazy_init(self) -> None:
        if self._scale is None:
            self._scale = np.float32(self._init_scale)
            self._growth_tracker = self._init_growth_tracker

    def scale(self, outputs: Any) -> Any:
        """``outputs`` (a Tensor, or a list / tuple / iterable of them) times the scale; returned
        unchanged when the scaler is disabled."""
        from .tensor import Tensor
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            self._lazy_init()
            return outputs * float(self._scale)

        def apply_scale(val: Any) -> Any:
            if isinstance(val, Tensor):
                self._lazy_init()
                return val * float(self._scale)
            if isinstance(val, (list, tuple)):
                return type(val)(apply_scale(v) for v in val)
            if isinstance(val, (str, bytes, dict)) or not hasattr(val, "__iter__"):
                raise InputTypeError(f"GradScaler.scale: outputs must be a Tensor or an iterable "
                                     f"of Tensors, got {type(val).__name__}")
            return map(apply_scale, val)
        return apply_scale(outputs)

    def _unscale_grads(self, optimizer: Any, inv_scale: float, allow_fp16: bool) -> bool | None:
        """Multiply every gradient of ``optimizer`` by ``inv_scale`` in place; whether one was inf
        or NaN (None: the optimizer had no gradient)."""
        from .grad_mode import no_grad
        from .tensor import Tensor, float16
        flags, seen, xps = [], False, set()
        with no_grad(), np.errstate(all="ignore"):
            for group in optimizer.param_groups:
                for param in group["params"]:
                    if not isinstance(param, Tensor):
                        raise InputTypeError(f"GradScaler: expected the optimizer's params to be "
                                             f"Tensors, got {type(param).__name__}")
                    grad = param.grad
                    if grad is None:
                        continue
                    if not allow_fp16 and grad.array.dtype == float16:
                        raise DTypeError("GradScaler: attempting to unscale FP16 gradients (keep "
                                         "the parameters in float32; the scaler unscales their "
                                         "gradients)")
                    seen = True
                    xp = grad.device.xp
                    xps.add(xp)
                    flags.append(xp.isfinite(grad.array).all())
                    if inv_scale != 1.0:
                        grad.mul_(inv_scale)
        if not seen:
            return None
        if len(flags) > 1 and len(xps) == 1:          # one device: one sync
            return not bool(xps.pop().stack(flags).all())
        return not all(bool(f) for f in flags)

    def unscale_(self, optimizer: Any) -> None:
        """Divide ``optimizer``'s gradients by the scale in place (they are then the true ones, to
        clip or inspect) and record whether any is inf / NaN; once per optimizer per ``update``."""
        if not self._enabled:
            return
        self._check_scale("unscale_")
        state = self._opt_state(optimizer)
        if state["stage"] is OptState.UNSCALED:
            raise AmpError("unscale_() has already been called on this optimizer since the last "
                           "update().")
        if state["stage"] is OptState.STEPPED:
            raise AmpError("unscale_() is being called after step().")
        inv_scale = float(np.float32(1.0 / float(self._scale)))    # torch: double reciprocal, float32
        state["found_inf"] = self._unscale_grads(optimizer, inv_scale, False)
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``unscale_(optimizer)`` unless done this iteration, then ``optimizer.step(*args,
        **kwargs)`` unless a gradient was inf / NaN (then None is returned and the parameters
        are left alone)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise AmpError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale("step")
        state = self._opt_state(optimizer)
        if state["stage"] is OptState.STEPPED:
            raise AmpError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if state["found_inf"] is None:
            raise AmpError("GradScaler.step: no inf checks were recorded for this optimizer (none "
                           "of its parameters has a gradient: call backward first)")
        retval = None
        if not state["found_inf"]:
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale: Any = None) -> None:
        """The end of the iteration: ``new_scale`` (a float or a one-element Tensor) becomes the
        scale, or else the scale backs off (a skipped step this iteration) or grows (after
        ``growth_interval`` clean steps in a row)."""
        if not self._enabled:
            return
        self._check_scale("update")
        if new_scale is not None:
            from .tensor import Tensor
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1 or new_scale.requires_grad:
                    raise InputTypeError("GradScaler.update: new_scale should be a float or a "
                                         "1-element Tensor with requires_grad=False")
                if new_scale.device.type != self._device:
                    raise DeviceError(f"GradScaler.update: new_scale is on {new_scale.device.type}, "
                                      f"the scaler's device is {self._device!r}")
                new_scale = new_scale.item()
            elif isinstance(new_scale, bool) or not isinstance(new_scale, numbers.Real):
                raise InputTypeError(f"GradScaler.update: new_scale should be a float or a "
                                     f"1-element Tensor, got {type(new_scale).__name__}")
            self._scale = np.float32(new_scale)
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values()
                     if s["found_inf"] is not None]
            if not found:
                raise AmpError("GradScaler.update: no inf checks were recorded prior to update() "
                               "(call scaler.step(optimizer) first)")
            if any(found):
                with np.errstate(over="ignore", under="ignore"):
                    self._scale = np.float32(float(self._scale) * self._backoff_factor)
                self._growth_tracker = 0
            else:
                successful = self._growth_tracker + 1
                if successful == self._growth_interval:
                    with np.errstate(over="ignore"):
                        grown = np.float32(float(self._scale) * self._growth_factor)
                    if np.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
                else:
                    self._growth_tracker = successful
        self._per_optimizer_states = {}

    def get_scale(self) -> float:
        """The current scale as a Python float (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale)

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else int(self._growth_tracker)

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """torch's five entries as plain numbers (``scale``, ``growth_factor``,
        ``backoff_factor``, ``growth_interval``, ``_growth_tracker``); empty when disabled."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s value (a no-op when disabled)."""
        if not self._enabled:
            return
        if not isinstance(state_dict, dict):
            raise InputTypeError(f"GradScaler.load_state_dict: expected a dict, got "
                                 f"{type(state_dict).__name__}")
        if len(state_dict) == 0:
            raise AmpError("The source state dict is empty, possibly because it was saved from a "
                           "disabled instance of GradScaler.")
        missing = [k for k in ("scale", "growth_factor", "backoff_factor", "growth_interval",
                               "_growth_tracker") if k not in state_dict]
        if missing:
            raise CheckpointError(f"GradScaler.load_state_dict: the state dict lacks {missing}")

        def number(key: str) -> float:
            value = state_dict[key]
            if hasattr(value, "item"):        # a 0-d array / Tensor after a save round trip
                value = value.item()
            return value
        self._init_scale = float(number("scale"))
        if self._scale is not None:
            self._scale = np.float32(self._init_scale)
        self._growth_factor = float(number("growth_factor"))
        self._backoff_factor = float(number("backoff_factor"))
        self._growth_interval = int(number("growth_interval"))
        self._init_growth_tracker = int(number("_growth_tracker"))
        if self._growth_tracker is not None:
            self._growth_tracker = self._init_growth_tracker
