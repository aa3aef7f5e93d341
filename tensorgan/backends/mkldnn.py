"""``torch.backends.mkldnn``: tensorgan's CPU kernels are its own (Numba + BLAS), not oneDNN's;
the ``enabled`` flag is recorded and changes nothing, ``is_available()`` says ``False``."""
from __future__ import annotations

import contextlib
from typing import Iterator

__all__ = ["is_available", "enabled", "flags"]

enabled = True


def is_available() -> bool:
    return False


@contextlib.contextmanager
def flags(enabled: bool = False, deterministic: bool = False) -> Iterator[None]:
    """Set ``enabled`` for the block and restore it after, as torch's context manager."""
    global_state = globals()
    saved = global_state["enabled"]
    global_state["enabled"] = enabled
    try:
        yield
    finally:
        global_state["enabled"] = saved
