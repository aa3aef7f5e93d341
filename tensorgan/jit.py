"""``torch.jit``: identity shims.  tensorgan has no TorchScript
compiler, so ``script`` / ``trace`` give the Module or function back unchanged (the same results,
eager speed) and ``ignore`` / ``unused`` / ``export`` mark nothing; ``is_scripting()`` and
``is_tracing()`` are False.  (torch returns a ScriptModule whose ``save`` writes TorchScript; here
the model stays itself -- save its ``state_dict()`` with ``tg.save``.)"""
from __future__ import annotations

import inspect
from typing import Any, Callable

from .errors import InputTypeError, JitArchiveError, JitInterfaceError
from .nn import Module

__all__ = ["script", "trace", "trace_module", "ignore", "unused", "export", "interface", "is_scripting",
           "is_tracing", "annotate", "script_if_tracing", "Final", "TracerWarning", "ScriptModule",
           "ScriptFunction", "save", "load"]


class TracerWarning(Warning):
    """``torch.jit.TracerWarning``: the category code filters (``warnings.simplefilter('ignore',
    category=torch.jit.TracerWarning)``) around shape reads; tensorgan never traces, so never
    issues one."""


class ScriptModule(Module):
    """``torch.jit.ScriptModule``, for ``isinstance`` checks: ``script`` / ``trace`` give the
    Module back unchanged, so no tensorgan module is one."""


class ScriptFunction:
    """``torch.jit.ScriptFunction``, for ``isinstance`` checks (no function is one)."""


def _callable(obj: Any, owner: str) -> Any:
    if not callable(obj):
        raise InputTypeError(f"tg.jit.{owner}: expected a Module or a callable, got "
                             f"{type(obj).__name__}")
    return obj


def script(obj: Any, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None,
           example_inputs: Any = None) -> Any:
    """``torch.jit.script``: ``obj`` (a Module or a function) unchanged."""
    return _callable(obj, "script")


def trace(func: Any, example_inputs: Any = None, optimize: Any = None, check_trace: bool = True,
          check_inputs: Any = None, check_tolerance: float = 1e-5, strict: bool = True,
          example_kwarg_inputs: Any = None, **kwargs: Any) -> Any:
    """``torch.jit.trace``: ``func`` (a Module or a function) unchanged; the example inputs are
    not run (torch runs them once to record the graph)."""
    return _callable(func, "trace")


def trace_module(mod: Any, inputs: Any, **kwargs: Any) -> Any:
    return _callable(mod, "trace_module")


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """``@torch.jit.ignore`` / ``@torch.jit.ignore(drop=True)``: the function unchanged."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn: Callable) -> Callable:
    """``@torch.jit.unused``: the function unchanged."""
    return _callable(fn, "unused")


def export(fn: Callable) -> Callable:
    """``@torch.jit.export``: the method unchanged."""
    return _callable(fn, "export")


def interface(obj: type) -> type:
    """``@torch.jit.interface``: the class unchanged, marked as torch marks it; torch's eager
    checks (a class, deriving directly from ``object`` or ``nn.Module``) are kept, its
    TorchScript compile of the method signatures is not (there is no compiler here)."""
    if not inspect.isclass(obj):
        raise JitInterfaceError(f"interface must be applied to a class, got {type(obj).__name__}")
    is_module_interface = issubclass(obj, Module) and len(obj.mro()) == 3
    if not is_module_interface and len(obj.mro()) > 2:
        raise JitInterfaceError(f"TorchScript interface does not support inheritance yet ({obj.__name__}): "
                                "directly inherit from 'object' or 'nn.Module'")
    obj.__torch_script_interface__ = True
    return obj


def script_if_tracing(fn: Callable) -> Callable:
    return _callable(fn, "script_if_tracing")


def is_scripting() -> bool:
    return False


def is_tracing() -> bool:
    return False


def annotate(the_type: Any, the_value: Any) -> Any:
    """``torch.jit.annotate(type, value)``: ``value``."""
    return the_value


try:
    from typing import Final  # noqa: E402  (torch.jit.Final is typing's)
except ImportError:            # pragma: no cover
    Final = None


def save(m: Any, f: Any, _extra_files: Any = None) -> None:
    """``torch.jit.save``: refused -- there is no TorchScript archive (it pickles code and
    tensors); save the model's ``state_dict()`` with ``tg.save`` and rebuild the class."""
    raise JitArchiveError("jit.save: tensorgan writes no TorchScript archives (script / trace "
                          "return the model unchanged); save model.state_dict() with tg.save and "
                          "load it into a model built from its class")


def load(f: Any, map_location: Any = None, _extra_files: Any = None, **kwargs: Any) -> Any:
    """``torch.jit.load``: refused -- a TorchScript archive holds pickled code, which tensorgan
    never runs; load a state dict with ``tg.load`` into a model built from its class."""
    raise JitArchiveError("jit.load: tensorgan does not read TorchScript archives (they hold "
                          "pickled code); load a state dict with tg.load into a model built from "
                          "its class")

