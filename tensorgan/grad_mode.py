"""Grad mode: whether ops record a graph (``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode``), per thread as in PyTorch.

Kept apart from the engine (``tensor.py``) so that the engine reads in one go: ops consult only
``is_grad_enabled()``; this file is the bookkeeping of context managers and decorators.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from typing import Any, Callable

__all__ = ["is_grad_enabled", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]


class _GradMode(threading.local):
    """Per thread, as in PyTorch: no_grad() in one thread leaves the others be."""
    enabled = True

    def __init__(self):
        # The modes to restore, innermost last. One stack per thread, not per context object:
        # within a thread ``with`` blocks (and decorated calls) nest, so whichever object is
        # leaving, its saved mode is on top -- also for one object entered re-entrantly or from
        # several threads at once.
        self.saved: list[bool] = []


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    return _grad_mode.enabled


class _SetGradMode(contextlib.ContextDecorator):
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __enter__(self):
        _grad_mode.saved.append(_grad_mode.enabled)
        _grad_mode.enabled = self.enabled

    def __exit__(self, *exc):
        _grad_mode.enabled = _grad_mode.saved.pop()
        return False

    def __call__(self, func: Callable) -> Callable:
        if inspect.isgeneratorfunction(func):
            return _generator_in_mode(func, self.enabled)
        return super().__call__(func)


def _generator_in_mode(func: Callable, enabled: bool) -> Callable:
    """A decorated generator runs every step of its body in the mode (as torch's decorators do),
    not just the call that creates it; the caller's code between steps keeps its own mode."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any):
        gen = func(*args, **kwargs)
        mode = _SetGradMode(enabled)
        try:
            with mode:
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with mode:
                        gen.close()
                    raise
                except BaseException as exc:
                    with mode:
                        response = gen.throw(exc)
                else:
                    with mode:
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value

    return wrapper


def no_grad(func: Callable | None = None) -> Any:
    """Context manager / decorator (``@no_grad()`` or ``@no_grad``): ops inside record no graph
    (inference, optimizer updates)."""
    return _SetGradMode(False)(func) if callable(func) else _SetGradMode(False)


def enable_grad(func: Callable | None = None) -> Any:
    return _SetGradMode(True)(func) if callable(func) else _SetGradMode(True)


def inference_mode(mode: Any = True) -> Any:
    """PyTorch's ``inference_mode()``: here the same as ``no_grad()`` (``mode=False``: grad on);
    also a bare decorator (``@inference_mode``)."""
    if callable(mode):
        return _SetGradMode(False)(mode)
    return _SetGradMode(not mode)


class set_grad_enabled(_SetGradMode):
    """Grad mode on or off, as a call (``set_grad_enabled(False)``, for this thread from now on)
    or for a ``with`` block / decorated function (restored after), as in PyTorch."""

    def __init__(self, mode: bool):
        super().__init__(bool(mode))
        self._before_call = _grad_mode.enabled
        _grad_mode.enabled = self.enabled

    def __enter__(self):
        pass                       # the mode was set by the call; __exit__ restores what was before

    def __exit__(self, *exc):
        _grad_mode.enabled = self._before_call
        return False

    def __call__(self, func: Callable) -> Callable:
        _grad_mode.enabled = self._before_call      # as a decorator it is not a call: undo it
        return _SetGradMode(self.enabled)(func)


# ---------------------------------------------------------------------------------------------
# Anomaly mode (torch.autograd.detect_anomaly): global, as torch's; the engine reads the flag
# once per backward, so a disabled mode costs nothing per node.
# ---------------------------------------------------------------------------------------------
_anomaly = {"enabled": False, "check_nan": True}


def is_anomaly_enabled() -> bool:
    return _anomaly["enabled"]


def is_anomaly_check_nan_enabled() -> bool:
    return _anomaly["check_nan"]


class set_detect_anomaly:
    """Anomaly detection on or off, as a call (from now on) or a ``with`` block (restored after):
    each backward step's gradients are checked for NaN, and the first op whose gradient has one
    raises ``AnomalyError`` naming the op.  (torch also records each op's forward traceback;
    tensorgan does not.)"""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.before = dict(_anomaly)
        _anomaly["enabled"], _anomaly["check_nan"] = bool(mode), bool(check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> bool:
        _anomaly.update(self.before)
        return False


class detect_anomaly(contextlib.ContextDecorator):
    """``with detect_anomaly():`` (or as a decorator): anomaly detection inside, as torch's
    (with its warning that it slows backward down)."""

    def __init__(self, check_nan: bool = True) -> None:
        import warnings
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        self.before = dict(_anomaly)
        _anomaly["enabled"], _anomaly["check_nan"] = True, bool(self.check_nan)

    def __exit__(self, *exc: Any) -> bool:
        _anomaly.update(self.before)
        return False
