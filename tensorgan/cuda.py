"""``tg.cuda.is_available()`` and ``tg.cuda.device_count()``, as torch code asks them (tensorgan
uses one CUDA device, CuPy's device 0; :func:`tensorgan.cuda_status` also says why not)."""
from __future__ import annotations

from .backend import cuda_status

__all__ = ["is_available", "device_count"]


def is_available() -> bool:
    return cuda_status()[0]


def device_count() -> int:
    """1 when CUDA can be used (tensorgan runs on one device), else 0."""
    return int(is_available())
