"""``torch.cpu``: ``tg.cpu.amp`` (torch's deprecated CPU spellings of :mod:`tensorgan.amp`) and
the few device queries torch code asks of the CPU."""
from __future__ import annotations

__all__ = ["amp", "is_available", "device_count", "synchronize", "current_device"]


def is_available() -> bool:
    """The CPU is always there."""
    return True


def device_count() -> int:
    return 1


def synchronize(device: object = None) -> None:
    """CPU work is synchronous: nothing to wait for."""


def current_device() -> str:
    return "cpu"


def __getattr__(name: str):
    if name == "amp":
        import importlib
        return importlib.import_module(f"{__name__}.amp")
    raise AttributeError(f"module 'tensorgan.cpu' has no attribute {name!r}")
