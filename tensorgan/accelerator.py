"""``torch.accelerator``: the device-agnostic accelerator API that torch's tutorials now open with
(``device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else
"cpu"``). tensorgan's one accelerator is CUDA (CuPy's device 0); on a machine without it,
``is_available()`` is False, ``current_accelerator()`` is None and the calls that need a device
raise :class:`~tensorgan.errors.DeviceError` (a RuntimeError, as torch's)."""
from __future__ import annotations

import contextlib

from .backend import cuda_status, device as _device, simulator_enabled
from .errors import DeviceError, InputTypeError

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "current_device_idx", "set_device_index", "set_device_idx", "device_index",
           "synchronize", "empty_cache"]

_NONE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    """Whether an accelerator (CUDA) can be used here (``tg.cuda_status()`` says why not)."""
    return cuda_status()[0]


def current_accelerator(check_available: bool = False):
    """``device('cuda')`` where CUDA is usable, else None (torch's: the accelerator type this
    build supports; tensorgan can only use CUDA where CuPy finds a device)."""
    return _device("cuda") if is_available() else None


def device_count() -> int:
    """1 where the accelerator can be used (tensorgan runs on one device), else 0."""
    return int(is_available())


def _require(api: str = "tg.accelerator") -> None:
    if not is_available():
        raise DeviceError(f"{api}: {_NONE} ({cuda_status()[1]})")


def _check_index(fn: str, index, api: str = "tg.accelerator") -> None:
    if index is None:
        return
    if hasattr(index, "type") and not isinstance(index, (int, str)):   # a device object
        index = getattr(index, "index", None) or 0
    elif isinstance(index, str):
        index = int(index.split(":")[1]) if ":" in index else 0
    if isinstance(index, bool) or not isinstance(index, int):
        raise InputTypeError(f"{api}.{fn}: expected a device index, device or None, got {type(index).__name__}")
    if index not in (0, -1):
        raise DeviceError(f"{api}.{fn}: device index {index} is out of range (tensorgan uses one device, index 0)")


def current_device_index() -> int:
    """0: tensorgan's one accelerator device."""
    _require()
    return 0


current_device_idx = current_device_index


def set_device_index(device, /) -> None:
    """Accepted for index 0 (or None); tensorgan uses one device."""
    _require()
    _check_index("set_device_index", device)


set_device_idx = set_device_index


@contextlib.contextmanager
def device_index(device, /):
    """``with tg.accelerator.device_index(0): ...``: tensorgan has one device; a no-op for it."""
    if device is not None:
        _require()
        _check_index("device_index", device)
    yield


def synchronize(device=None, /) -> None:
    """Wait for the accelerator's queued work to finish."""
    _require()
    _check_index("synchronize", device)
    if simulator_enabled():
        return
    import cupy
    cupy.cuda.runtime.deviceSynchronize()


def empty_cache() -> None:
    """Return CuPy's cached, unused device memory to the driver; a no-op without an accelerator
    (as torch's)."""
    if not is_available() or simulator_enabled():
        return
    import cupy
    cupy.get_default_memory_pool().free_all_blocks()
