"""``torch.backends.cudnn``: tensorgan does not use cuDNN, so ``is_available()`` is ``False``
and ``enabled`` / ``benchmark`` / ``deterministic`` / ``allow_tf32`` are recorded but change
nothing (tensorgan's CPU kernels are deterministic; see ``use_deterministic_algorithms``)."""
from __future__ import annotations

import contextlib
import sys
from typing import Iterator

from ._flags import FlagModule

__all__ = ["is_available", "version", "flags", "enabled", "benchmark", "deterministic", "allow_tf32"]

_BOOL_FLAGS = ("enabled", "benchmark", "deterministic", "allow_tf32")
# torch's defaults
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True
benchmark_limit = 10


def is_available() -> bool:
    """Whether tensorgan runs convolutions through cuDNN: never."""
    return False


def version() -> None:
    """The cuDNN version in use: ``None``, as torch says when cuDNN is not available."""
    return None


@contextlib.contextmanager
def flags(enabled: bool = False, benchmark: bool = False, deterministic: bool = False,
          allow_tf32: bool = True, **_ignored: object) -> Iterator[None]:
    """Set the flags for a ``with`` block and restore them after it (torch's defaults here are
    torch's: ``flags()`` alone turns cuDNN off)."""
    module = sys.modules[__name__]
    saved = {name: getattr(module, name) for name in _BOOL_FLAGS}
    new = {"enabled": enabled, "benchmark": benchmark, "deterministic": deterministic,
           "allow_tf32": allow_tf32}
    for name, value in new.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


sys.modules[__name__].__class__ = FlagModule
