"""``torch.multiprocessing``'s names, for torch programs that import it.

torch's module is the standard library's ``multiprocessing`` plus shared-memory tensors: a
``model.share_memory()``'d model handed to ``mp.Process`` is trained *in place* by every child
(the "hogwild" pattern of pytorch/examples' mnist_hogwild).  tensorgan has no shared-memory
tensors -- its CPU arrays are private NumPy memory -- so a child process would train a private
copy and the parent's model would never change, silently.  This module therefore re-exports
the standard library's names (``set_start_method``, ``Queue``, ``Pool``, ``cpu_count``, ...) and
refuses, with an ``InputTypeError`` that says what to do instead, to start a process (``Process``,
``get_context(...).Process``, ``spawn``) whose arguments hold a tensorgan ``Module`` or a
``Tensor`` that requires grad: call the target in this process (``train(0, args, model, ...)``),
which is what one hogwild worker does.  Arguments holding only data (NumPy arrays, plain tensors,
datasets) go through as usual.
"""
from __future__ import annotations

import multiprocessing as _mp
from multiprocessing import *  # noqa: F401,F403  (torch.multiprocessing re-exports them too)
from typing import Any

from .errors import ConfigError, InputTypeError

__all__ = [n for n in _mp.__all__ if n not in ("Process", "get_context")] + [
    "Process", "get_context", "spawn", "start_processes", "ProcessExitedException",
    "get_sharing_strategy", "set_sharing_strategy", "get_all_sharing_strategies"]

_STRATEGIES = {"file_descriptor", "file_system"}
_strategy = "file_descriptor"


def get_all_sharing_strategies() -> set:
    return set(_STRATEGIES)


def get_sharing_strategy() -> str:
    return _strategy


def set_sharing_strategy(new_strategy: str) -> None:
    """Recorded only (tensorgan shares no tensors between processes)."""
    global _strategy
    if new_strategy not in _STRATEGIES:
        raise ConfigError(f"set_sharing_strategy: unknown strategy {new_strategy!r}; "
                         f"expected one of {sorted(_STRATEGIES)}")
    _strategy = new_strategy


def _trained_object(value: Any, depth: int = 0) -> str | None:
    """A description of the Module / grad-requiring Tensor in ``value`` (searched through
    lists, tuples, dicts and one level of plain objects' attributes), else None."""
    from .nn.module import Module
    from .tensor import Tensor
    if isinstance(value, Module):
        return f"a tensorgan Module ({type(value).__name__})"
    if isinstance(value, Tensor):
        return "a tensorgan Tensor that requires grad" if value.requires_grad else None
    if depth >= 2:
        return None
    if isinstance(value, dict):
        items = value.values()
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = value
    else:
        return None
    for v in items:
        found = _trained_object(v, depth + 1)
        if found:
            return found
    return None


def _check_process_args(where: str, args: Any, kwargs: Any) -> None:
    for label, v in [(f"args[{i}]", a) for i, a in enumerate(args or ())] + \
            [(f"kwargs[{k!r}]", a) for k, a in (kwargs or {}).items()]:
        found = _trained_object(v)
        if found:
            raise InputTypeError(
                f"{where}: {label} is {found}. tensorgan has no shared-memory tensors "
                "(Module.share_memory() is a no-op), so another process would train a private "
                "copy and this process's parameters would never change. Run the target in this "
                "process instead (e.g. train(0, args, model, ...) for one hogwild worker), or "
                "pass the child only data and send results back through a Queue.")


class _CheckedProcess:
    """Mixin: refuses a Module / trainable Tensor among the process's arguments."""

    def __init__(self, group: Any = None, target: Any = None, name: Any = None,
                 args: Any = (), kwargs: Any = None, *, daemon: Any = None) -> None:
        _check_process_args(f"{type(self).__name__}(target={getattr(target, '__name__', target)})",
                            args, kwargs)
        super().__init__(group, target, name, args, kwargs or {}, daemon=daemon)


class Process(_CheckedProcess, _mp.Process):
    """``multiprocessing.Process`` that refuses a model among its arguments (module docstring)."""


class _Context:
    """A ``multiprocessing`` context whose ``Process`` checks its arguments like ``Process``."""

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx
        self.Process = type("Process", (_CheckedProcess, ctx.Process), {})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)


def get_context(method: str | None = None) -> _Context:
    return _Context(_mp.get_context(method))


class ProcessExitedException(Exception):
    """A process started by ``spawn`` exited with a non-zero code (torch's name)."""

    def __init__(self, msg: str, error_index: int, exit_code: int) -> None:
        super().__init__(msg)
        self.error_index = error_index
        self.exit_code = exit_code


def start_processes(fn: Any, args: tuple = (), nprocs: int = 1, join: bool = True,
                    daemon: bool = False, start_method: str = "spawn") -> list | None:
    """torch's ``start_processes``: ``fn(i, *args)`` in ``nprocs`` processes. Returns the
    processes when ``join`` is False (torch returns a ProcessContext)."""
    _check_process_args("multiprocessing.spawn", args, None)
    ctx = _mp.get_context(start_method)
    procs = [ctx.Process(target=fn, args=(i,) + tuple(args), daemon=daemon) for i in range(nprocs)]
    for p in procs:
        p.start()
    if not join:
        return procs
    for p in procs:
        p.join()
    for i, p in enumerate(procs):
        if p.exitcode != 0:
            raise ProcessExitedException(f"process {i} terminated with exit code {p.exitcode}",
                                         error_index=i, exit_code=p.exitcode)
    return None


def spawn(fn: Any, args: tuple = (), nprocs: int = 1, join: bool = True,
          daemon: bool = False, start_method: str = "spawn") -> list | None:
    """torch's ``torch.multiprocessing.spawn`` (see ``start_processes``)."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
