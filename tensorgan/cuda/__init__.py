"""``torch.cuda``'s queries and controls, as torch code calls them: ``is_available()``,
``device_count()``, ``synchronize()``, ``empty_cache()``, the memory counters, device names and
properties, ``Event`` timing. tensorgan uses one CUDA device (CuPy's device 0; under Numba's
simulator, NumPy arrays); :func:`tensorgan.cuda_status` says why CUDA is not usable where it is
not. Without CUDA these behave as in a CPU build of torch: the memory counters are 0,
``empty_cache`` does nothing, and the calls that need a device raise DeviceError."""
from __future__ import annotations

import contextlib
import time
from types import SimpleNamespace
from typing import Any

from .. import accelerator
from ..accelerator import empty_cache  # noqa: F401 (torch.cuda's)
from ..backend import cuda_status, simulator_enabled


def _require(fn: str) -> None:
    accelerator._require(f"tg.cuda.{fn}")


def _check_index(fn: str, index: Any) -> None:
    accelerator._check_index(fn, index, "tg.cuda")


def synchronize(device: Any = None) -> None:
    """Wait for the GPU's queued work to finish (before reading a timer)."""
    _require("synchronize")
    _check_index("synchronize", device)
    accelerator.synchronize()

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "FloatTensor",
           "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor", "ShortTensor",
           "CharTensor", "HalfTensor", "amp", "synchronize", "empty_cache", "is_initialized",
           "init", "current_device", "set_device", "device", "get_device_name",
           "get_device_properties", "get_device_capability", "mem_get_info", "memory_allocated",
           "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "reset_peak_memory_stats", "reset_max_memory_allocated", "Event", "memory_stats",
           "memory_summary", "memory_cached", "max_memory_cached",
           "set_per_process_memory_fraction", "ipc_collect", "Stream", "current_stream",
           "default_stream", "stream", "StreamContext", "seed", "seed_all", "initial_seed",
           "get_rng_state", "set_rng_state", "get_rng_state_all", "set_rng_state_all",
           "is_bf16_supported", "get_arch_list"]


def is_available() -> bool:
    return cuda_status()[0]


def device_count() -> int:
    """1 when CUDA can be used (tensorgan runs on one device), else 0."""
    return int(is_available())


def manual_seed(seed: int) -> None:
    """``torch.cuda.manual_seed(seed)``, accepted (the seed must be an integer) and otherwise a
    no-op: tensorgan draws a CUDA tensor's random numbers from the same default generator as a
    CPU tensor's, which ``tg.manual_seed`` seeds; reseeding it here would also change the CPU
    stream, which torch.cuda.manual_seed never does."""
    import numbers
    from ..errors import InputTypeError
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InputTypeError(f"tg.cuda.manual_seed: seed must be an int, got {type(seed).__name__}")
    from ..random import check_seed_range
    check_seed_range(int(seed), "tg.cuda.manual_seed")


def manual_seed_all(seed: int) -> None:
    """``torch.cuda.manual_seed_all``: as :func:`manual_seed` (tensorgan uses one device)."""
    manual_seed(seed)


def is_initialized() -> bool:
    """Whether CUDA can be used (tensorgan has no lazy CUDA state to initialise)."""
    return is_available()


def init() -> None:
    """``torch.cuda.init()``: raises DeviceError where CUDA is not usable; else nothing to do."""
    _require("init")


def current_device() -> int:
    """0: tensorgan's one CUDA device (DeviceError without CUDA, as torch's CPU build)."""
    _require("current_device")
    return 0


def set_device(device: Any) -> None:
    """Accepted for device 0 (tensorgan uses one device)."""
    _require("set_device")
    _check_index("set_device", device)


@contextlib.contextmanager
def device(device: Any):
    """``with tg.cuda.device(0): ...``: a no-op for tensorgan's one device."""
    if device is not None:
        _require("device")
        _check_index("device", device)
    yield


def _properties(fn: str) -> dict:
    _require(fn)
    if simulator_enabled():
        return {"name": "Numba CUDA simulator", "totalGlobalMem": 0, "major": 0, "minor": 0,
                "multiProcessorCount": 1}
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    return dict(props, name=name.decode() if isinstance(name, bytes) else str(name))


def get_device_name(device: Any = None) -> str:
    _check_index("get_device_name", device)
    return _properties("get_device_name")["name"]


def get_device_capability(device: Any = None) -> tuple[int, int]:
    """(major, minor) compute capability, e.g. (9, 0) on an H100."""
    _check_index("get_device_capability", device)
    props = _properties("get_device_capability")
    return int(props["major"]), int(props["minor"])


def get_device_properties(device: Any = None) -> SimpleNamespace:
    """torch's fields that scripts read: name, total_memory (bytes), major, minor,
    multi_processor_count."""
    _check_index("get_device_properties", device)
    props = _properties("get_device_properties")
    return SimpleNamespace(name=props["name"], total_memory=int(props["totalGlobalMem"]),
                           major=int(props["major"]), minor=int(props["minor"]),
                           multi_processor_count=int(props["multiProcessorCount"]))


def mem_get_info(device: Any = None) -> tuple[int, int]:
    """(free, total) bytes of device memory, from the driver."""
    _require("mem_get_info")
    _check_index("mem_get_info", device)
    if simulator_enabled():
        return 0, 0
    import cupy
    free, total = cupy.cuda.runtime.memGetInfo()
    return int(free), int(total)


def _pool():
    """CuPy's default memory pool, where tensorgan's CUDA arrays live; None without CuPy on CUDA."""
    if not is_available() or simulator_enabled():
        return None
    import cupy
    return cupy.get_default_memory_pool()


def memory_allocated(device: Any = None) -> int:
    """Bytes held by live CUDA arrays (CuPy's pool ``used_bytes``); 0 without CUDA."""
    _check_index("memory_allocated", device)
    pool = _pool()
    return 0 if pool is None else int(pool.used_bytes())


def memory_reserved(device: Any = None) -> int:
    """Bytes the pool holds from the driver, used or cached (``total_bytes``); 0 without CUDA."""
    _check_index("memory_reserved", device)
    pool = _pool()
    return 0 if pool is None else int(pool.total_bytes())


def max_memory_reserved(device: Any = None) -> int:
    """The pool's size now: it only grows until :func:`empty_cache`, so this is the peak reserved
    since then (CuPy keeps no peak counter; torch's is since reset_peak_memory_stats)."""
    return memory_reserved(device)


def max_memory_allocated(device: Any = None) -> int:
    """An upper bound on the peak of :func:`memory_allocated` since the last :func:`empty_cache`:
    the pool's size (every byte ever in use at once was reserved; CuPy keeps no peak counter)."""
    return memory_reserved(device)


def reset_peak_memory_stats(device: Any = None) -> None:
    """Accepted: the peaks above are the pool's size (:func:`empty_cache` lowers it)."""
    _check_index("reset_peak_memory_stats", device)


reset_max_memory_allocated = reset_peak_memory_stats
memory_cached, max_memory_cached = memory_reserved, max_memory_reserved   # torch's old names


def memory_stats(device: Any = None) -> "dict[str, int]":
    """torch's ``memory_stats`` keys that scripts read (``allocated_bytes.all.current`` / ``.peak``,
    ``reserved_bytes.all.current`` / ``.peak``), from CuPy's pool; an empty dict without CUDA, as
    torch's CPU build returns."""
    from collections import OrderedDict
    _check_index("memory_stats", device)
    if _pool() is None:
        return OrderedDict()
    allocated, reserved = memory_allocated(), memory_reserved()
    return OrderedDict([("allocated_bytes.all.current", allocated),
                        ("allocated_bytes.all.peak", max_memory_allocated()),
                        ("reserved_bytes.all.current", reserved),
                        ("reserved_bytes.all.peak", max_memory_reserved())])


def memory_summary(device: Any = None, abbreviated: bool = False) -> str:
    """A short table of :func:`memory_stats` for printing (torch's CPU build raises a KeyError
    here; this says that no CUDA memory is in use instead)."""
    stats = memory_stats(device)
    if not stats:
        return f"tg.cuda.memory_summary: no CUDA memory in use ({cuda_status()[1]})"
    rows = [f"{'':<20}{'current':>16}{'peak':>16}"]
    for kind in ("allocated", "reserved"):
        rows.append(f"{kind + ' bytes':<20}{stats[kind + '_bytes.all.current']:>16,}"
                    f"{stats[kind + '_bytes.all.peak']:>16,}")
    return "\n".join(rows)


def set_per_process_memory_fraction(fraction: float, device: Any = None) -> None:
    """Cap CuPy's pool at ``fraction`` of the device's memory (torch caps its caching allocator);
    a ValueError-type ConfigError outside [0, 1]."""
    from ..errors import ConfigError
    _require("set_per_process_memory_fraction")
    _check_index("set_per_process_memory_fraction", device)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
        raise ConfigError(f"tg.cuda.set_per_process_memory_fraction: fraction must be a number in "
                          f"[0, 1], got {fraction!r}")
    pool = _pool()
    if pool is not None:
        pool.set_limit(fraction=float(fraction))


def ipc_collect() -> None:
    """Accepted where CUDA is usable (tensorgan shares no CUDA memory between processes)."""
    _require("ipc_collect")


# Random state: a CUDA tensor's random numbers come from the default generator (see manual_seed),
# so the CUDA RNG state is that generator's state; saving and restoring it alongside the CPU
# state (torch.utils.checkpoint's habit) restores the same stream.
def seed() -> None:
    """Accepted, as :func:`manual_seed` (reseeding would also move the CPU stream)."""


seed_all = seed


def initial_seed() -> int | None:
    _require("initial_seed")
    from .. import random as _random
    return _random.initial_seed()


def get_rng_state(device: Any = "cuda") -> Any:
    """The default generator's state (DeviceError without CUDA, as torch's CPU build)."""
    _require("get_rng_state")
    _check_index("get_rng_state", device)
    from .. import random as _random
    return _random.get_rng_state()


def set_rng_state(new_state: Any, device: Any = "cuda") -> None:
    _require("set_rng_state")
    _check_index("set_rng_state", device)
    from .. import random as _random
    _random.set_rng_state(new_state)


def get_rng_state_all() -> list:
    return [get_rng_state()]


def set_rng_state_all(new_states: list) -> None:
    from ..errors import ConfigError
    if len(new_states) != device_count():
        raise ConfigError(f"tg.cuda.set_rng_state_all: {len(new_states)} states for "
                          f"{device_count()} device(s)")
    for state in new_states:
        set_rng_state(state)


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: tensorgan has no bfloat16 dtype."""
    return False


def get_arch_list() -> list[str]:
    """The device's ``sm_XY`` (Numba compiles the kernels for the device it runs on); [] without
    CUDA or under the simulator, as torch's CPU build."""
    if not is_available() or simulator_enabled():
        return []
    major, minor = get_device_capability()
    return [f"sm_{major}{minor}"]


class Stream:
    """``torch.cuda.Stream``: a CuPy stream (under the simulator a stand-in: its kernels run at
    once). tensorgan queues its own kernels on the current stream, so ``with tg.cuda.stream(s):``
    moves them onto ``s``. DeviceError without CUDA, as torch's CPU build."""

    def __init__(self, device: Any = None, priority: int = 0, _cupy_stream: Any = None):
        _require("Stream")
        _check_index("Stream", device)
        self.priority = int(priority)
        self._stream = _cupy_stream
        if _cupy_stream is None and not simulator_enabled():
            import cupy
            self._stream = cupy.cuda.Stream(non_blocking=True)

    def synchronize(self) -> None:
        if self._stream is not None:
            self._stream.synchronize()

    def query(self) -> bool:
        """True when the stream's queued work has finished."""
        return True if self._stream is None else bool(self._stream.done)

    def wait_event(self, event: Event) -> None:
        if self._stream is not None and event._event is not None:
            self._stream.wait_event(event._event)

    def wait_stream(self, stream: "Stream") -> None:
        """Make this stream wait for the work queued on ``stream`` so far."""
        self.wait_event(stream.record_event())

    def record_event(self, event: Event | None = None) -> Event:
        event = event if event is not None else Event()
        if event._event is None:
            event.record()
        else:
            event._event.record(self._stream)
            event._recorded_at = 0.0
        return event

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Stream) and (self._stream is other._stream if self._stream is not None
                                              else self is other)

    def __hash__(self) -> int:
        return id(self._stream) if self._stream is not None else id(self)


_SIMULATED_STREAM: list = []


def current_stream(device: Any = None) -> Stream:
    """The stream tensorgan's kernels are queued on now (CuPy's current stream)."""
    _require("current_stream")
    _check_index("current_stream", device)
    if simulator_enabled():
        if not _SIMULATED_STREAM:
            _SIMULATED_STREAM.append(Stream())
        return _SIMULATED_STREAM[0]
    import cupy
    return Stream(_cupy_stream=cupy.cuda.get_current_stream())


def default_stream(device: Any = None) -> Stream:
    """The device's default (null) stream."""
    _require("default_stream")
    _check_index("default_stream", device)
    if simulator_enabled():
        return current_stream()
    import cupy
    return Stream(_cupy_stream=cupy.cuda.Stream.null)


@contextlib.contextmanager
def stream(stream: Stream | None):
    """``with tg.cuda.stream(s):`` queues the kernels launched inside on ``s`` (None: no change,
    which works without CUDA, as torch's)."""
    if stream is not None and not isinstance(stream, Stream):
        from ..errors import InputTypeError
        raise InputTypeError(f"tg.cuda.stream: expected a tg.cuda.Stream or None, got "
                             f"{type(stream).__name__}")
    if stream is None or stream._stream is None:
        yield
        return
    with stream._stream:
        yield


StreamContext = stream


class Event:
    """``torch.cuda.Event(enable_timing=True)``: ``start.record(); ...; end.record();
    end.synchronize(); start.elapsed_time(end)`` gives milliseconds of GPU time between the two
    records (CuPy's events; under the simulator, which runs kernels synchronously, wall time).
    DeviceError without CUDA, as torch's CPU build refuses to make one."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False):
        _require("Event")
        self.enable_timing = bool(enable_timing)
        self._recorded_at: float | None = None
        self._event = None
        if not simulator_enabled():
            import cupy
            self._event = cupy.cuda.Event(block=bool(blocking), disable_timing=not enable_timing,
                                          interprocess=bool(interprocess))

    def record(self, stream: Any = None) -> None:
        if self._event is None:
            self._recorded_at = time.perf_counter()
        else:
            self._event.record(stream)
            self._recorded_at = 0.0

    def synchronize(self) -> None:
        if self._event is not None:
            self._event.synchronize()

    def query(self) -> bool:
        """True when the work before the record has finished."""
        return True if self._event is None else bool(self._event.done)

    def wait(self, stream: Any = None) -> None:
        """Make ``stream`` (tensorgan uses the default one) wait for this event."""
        if self._event is not None:
            import cupy
            (stream or cupy.cuda.get_current_stream()).wait_event(self._event)

    def elapsed_time(self, end_event: "Event") -> float:
        """Milliseconds from this event's record to ``end_event``'s (both recorded, timing on)."""
        from ..errors import DeviceError
        if not (self.enable_timing and end_event.enable_timing):
            raise DeviceError("Event.elapsed_time: both events need enable_timing=True")
        if self._recorded_at is None or end_event._recorded_at is None:
            raise DeviceError("Event.elapsed_time: record() both events first")
        if self._event is None:
            return (end_event._recorded_at - self._recorded_at) * 1000.0
        import cupy
        return float(cupy.cuda.get_elapsed_time(self._event, end_event._event))


def __getattr__(name: str):
    if name == "amp":           # tg.cuda.amp.GradScaler / autocast (torch's deprecated spellings)
        import importlib
        return importlib.import_module(f"{__name__}.amp")
    # torch.cuda.FloatTensor & co. (tensorgan.factory imports tensor.py, which this module must
    # not import at load time): built once, on first use.
    from ..factory import CUDA_LEGACY_TENSOR_TYPES
    if name in CUDA_LEGACY_TENSOR_TYPES:
        return CUDA_LEGACY_TENSOR_TYPES[name]
    raise AttributeError(f"module 'tensorgan.cuda' has no attribute {name!r}")
