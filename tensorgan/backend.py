"""Devices: where a tensor's array lives and which kernels run on it.

A :class:`Device` pairs an *array module* (``numpy`` or ``cupy``) with a *kernel set*
(``tensorgan.kernels.cpu`` or ``tensorgan.kernels.cuda``). Both kernel sets export the same
functions (see ``tensorgan.kernels``), so an op asks its input's device for ``device.kernels`` and
never branches on the device itself -- minitorch's "a backend is an object with the same methods on
each device".

Selection: ``device=None`` means the default device: ``$TENSORGAN_DEVICE`` if set, else ``cuda``
when CuPy is installed *and* ``cupy.is_available()``, else ``cpu``.

Teaching mode: ``TENSORGAN_CPU_KERNELS=reference`` makes the CPU device run the readable NumPy
reference kernels instead of the fast ones -- slower, but every line can be stepped through.

Simulator mode: with ``NUMBA_ENABLE_CUDASIM=1`` in the environment (set before numba is imported),
``device="cuda"`` means NumPy arrays with the CUDA kernels run by Numba's CUDA simulator. The test
suite uses this to exercise the CUDA kernels on machines without a GPU; it is slow, so it is never
the default.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
from types import ModuleType
from typing import Any

import numpy as np

from .errors import ConfigError, DeviceError, DeviceTypeError

DEVICE_TYPES = ("cpu", "cuda")
CUDA_INSTALL_HINT = "install the CUDA extra: pip install 'tensorgan[cuda12]' (or [cuda13] for CUDA 13)"


def simulator_enabled() -> bool:
    """True when Numba's CUDA simulator is switched on for this process."""
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


# Linear's GEMMs below this many multiply-adds run on the calling thread (one BLAS thread), not
# split across the kernel threads.  A split costs a hand-over to the worker -- ~0.15 ms when its
# vCPU must wake (the README's measurement), more when other processes hold the other core --
# and saves at most half the product's time: 8M multiply-adds is ~0.15-0.25 ms of one core's
# SGEMM at the small batch (M = 20-64) of a recurrent step.  Measured on the shared 2-core VM
# (2026-12-06, other jobs running): the recurrent GEMMs of an LSTM / GRU step (20x200x800,
# 32x128x384: 3.2M and 1.6M MACs) took 130 / 70 us split against 90 / 48 us on one thread; a
# 2-layer LSTM(200, 200) over 35 x 20 steps, forward and backward, 79-82 -> 67-72 ms, a GRU(128)
# over 32 x 10 steps 9.1-9.7 -> 7.6-7.8 ms (same process, interleaved).  Products with M <= 64
# lost to one thread up to 33M MACs in that state; whether they would win on an idle machine
# was not measurable there, so the line sits where the README's hand-over cost puts it.  The
# GAN's Linear layers (80M MACs at batch 64) are above it and split as before.
SPLIT_MIN_MACS = 1 << 23
# A product this small runs on one thread in OpenBLAS whatever its thread setting (its gemv's
# threshold is 2304 * GEMM_MULTITHREAD_THRESHOLD (>= 1) multiply-adds, gemm's and dot's larger),
# so ``blas_scope`` has nothing to do for it: skipped (its lock and BLAS queries cost ~3 us, a
# third of a small F.linear).
ONE_THREAD_MACS = 2304
_NO_SCOPE = contextlib.nullcontext()


class Device:
    """An array module plus a kernel set. Printed as torch's: ``cuda:0`` for a CUDA tensor's
    device (``cuda`` only for ``tg.device('cuda')`` named without an index), ``cpu``."""

    __slots__ = ("type", "xp", "simulated", "_kernel_module_name", "_kernels", "_base")

    def __init__(self, type: str, xp: ModuleType, kernel_module_name: str, simulated: bool = False):
        self._base = self       # the one device of the type (get_device's answer for this object)
        self.type = type
        self.xp = xp
        self.simulated = simulated
        self._kernel_module_name = kernel_module_name
        self._kernels = None

    @property
    def kernels(self) -> ModuleType:
        """The kernel set, imported on first use (importing the CUDA kernels loads numba.cuda)."""
        if self._kernels is None:
            self._kernels = importlib.import_module(self._kernel_module_name)
        return self._kernels

    def blas_scope(self):
        """Context for the engine's own BLAS calls outside the kernels (``MatMul``, the ``@``
        operator; ``Linear`` goes through ``Device.matmul``).  On the CPU it runs BLAS on
        one thread, as the convolution kernels do: a multi-threaded OpenBLAS call leaves its worker
        spinning for a while afterwards, and that worker steals a core from the next convolution
        (measured in a DCGAN step: the transposed convolution after the generator's Linear took
        2x its CPU time, the conv after the discriminator's Linear backward 10x)."""
        scope = getattr(self.kernels, "blas_scope", None)
        return scope() if scope is not None else contextlib.nullcontext()

    def blas_scope_for(self, macs: int):
        """``blas_scope()`` for BLAS calls of at most ``macs`` multiply-adds each: none below
        ``ONE_THREAD_MACS`` (one thread there anyway)."""
        return _NO_SCOPE if macs < ONE_THREAD_MACS else self.blas_scope()

    def matmul(self, a, b):
        """a @ b for the engine's Linear layers: the kernel set's threaded ``gemm`` for 2-D
        operands where it has one (the CPU) and the product is at least ``SPLIT_MIN_MACS``
        multiply-adds, else the array module's matmul in ``blas_scope`` (one thread)."""
        if a.ndim == 2 and b.ndim == 2:
            macs = a.shape[0] * a.shape[1] * b.shape[1]
            if macs < ONE_THREAD_MACS:
                return a @ b
            if macs >= SPLIT_MIN_MACS:
                gemm = getattr(self.kernels, "gemm", None)
                if gemm is not None:
                    return gemm(a, b)
        with self.blas_scope():
            return a @ b

    @property
    def index(self) -> int | None:
        """torch.device's ``index``: None on the CPU, 0 on CUDA (tensorgan uses CUDA device 0; a
        tensor's ``.device`` is that one), None for ``tg.device('cuda')`` named without one."""
        return 0 if self.type == "cuda" else None

    def __reduce__(self):
        # The array module cannot be pickled, and devices are compared with ``is``: a copy (pickle,
        # copy.deepcopy of a tensor or model) resolves to this process's one device of the type.
        return get_device, (self.type,)

    def __eq__(self, other: object) -> bool:
        """Devices are equal when type and index are, as torch's: ``device('cuda')`` (index
        None) is not ``device('cuda:0')`` (a CUDA tensor's ``.device``).  Code that means "the
        same hardware" compares ``.type`` (or the tensors' devices, which are always indexed
        as torch's).  A string is never equal to a device, as in torch (``device('cpu') ==
        'cpu'`` is False there): compare ``.type`` or ``str(device)`` with it."""
        return isinstance(other, Device) and other.type == self.type and other.index == self.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        """torch's: the type, and ``:index`` where there is one (``'cuda:0'``, ``'cpu'``); the
        name a map_location dict or ``str(x.device) == 'cuda:0'`` expects."""
        index = self.index
        return self.type if index is None else f"{self.type}:{index}"

    def __repr__(self) -> str:
        """torch's: ``device(type='cpu')``, ``device(type='cuda', index=0)``."""
        index = "" if self.index is None else f", index={self.index}"
        suffix = ", simulated" if self.simulated else ""
        return f"device(type='{self.type}'{index}{suffix})"


class _Unindexed(Device):
    """``tg.device('cuda')``: the CUDA device named without an index -- ``index`` None, as
    torch's; everything else (and what a tensor made with it holds) is the one CUDA device."""

    __slots__ = ()

    def __init__(self, base: Device):
        self._base, self.type, self.simulated = base, base.type, base.simulated
        self._kernel_module_name, self._kernels = base._kernel_module_name, None

    @property
    def xp(self) -> ModuleType:
        return self._base.xp

    @property
    def kernels(self) -> ModuleType:
        return self._base.kernels

    @property
    def index(self) -> None:
        return None

    def __reduce__(self):
        return device, (self.type,)


class _CpuIndexed(_Unindexed):
    """``tg.device('cpu:0')`` / ``'cpu:1'``: the CPU device named with an index (torch accepts any
    and keeps it on the device object; its tensors' ``.device`` is plain ``cpu``, as here)."""

    __slots__ = ("_cpu_index",)

    def __init__(self, base: Device, index: int = 0):
        super().__init__(base)
        self._cpu_index = index

    @property
    def index(self) -> int:
        return self._cpu_index

    def __reduce__(self):
        return device, (f"cpu:{self._cpu_index}",)


class _UnavailableDevice(Device):
    """What ``tg.device('cuda')`` gives where CUDA cannot be used: torch lets a program build the
    device object anyway (``torch.device('cuda').index`` on a CPU machine); putting anything on it
    raises the DeviceError that says why."""

    __slots__ = ("_why", "_index")

    def __init__(self, type: str, why: str, index: int | None = 0):
        self.type, self.simulated, self._kernel_module_name, self._kernels = type, False, None, None
        self._why, self._index, self._base = why, index, self

    @property
    def index(self) -> int | None:
        return self._index

    @property
    def xp(self) -> ModuleType:
        raise DeviceError(self._why)

    @property
    def kernels(self) -> ModuleType:
        raise DeviceError(self._why)

    def __reduce__(self):
        return device, (self.type if self._index is None else f"{self.type}:{self._index}",)


def device(type: "str | Device", index: int | None = None) -> Device:
    """``torch.device``: ``device('cpu')``, ``device('cuda')``, ``device('cuda:0')``,
    ``device('cuda', 0)``. On a machine without CUDA, ``device('cuda')`` still returns a device
    object (as torch's does); only using it for a tensor raises DeviceError."""
    if isinstance(type, Device):
        if index is not None:
            raise DeviceTypeError(f"device: index given with a device object {type!r}")
        return type
    if isinstance(type, int) and not isinstance(type, bool):   # torch.device(0): the accelerator's
        type, index = _accelerator_type(), type
    if not isinstance(type, str):
        raise DeviceTypeError(f"device: expected a device string like 'cpu' or 'cuda', got {type!r}")
    if index is not None:
        _check_index_arg(type, index)
        type = f"{type}:{index}"
    kind = _parse(type)
    unindexed = kind == "cuda" and ":" not in type      # torch's device('cuda').index is None
    try:
        found = get_device(kind)
    except DeviceError as exc:
        return _UnavailableDevice(kind, str(exc), None if unindexed else 0)
    if kind == "cpu" and ":" in type:                    # device('cpu:1'): index 1, as torch's
        return _CpuIndexed(found, int(type.partition(":")[2]))
    return _Unindexed(found) if unindexed else found


def _check_index_arg(type: str, index: Any) -> None:
    """``device(type, index)``'s index: a non-negative int, and not a second one (torch's
    TypeError / RuntimeError)."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise DeviceTypeError(f"device: index must be an int, got {index!r} ({_typename(index)})")
    if index < 0:
        raise DeviceError(f"device: index must not be negative, got {index}")
    if ":" in type:
        raise DeviceError(f"device: {type!r} already has an index; index={index!r} given too")


def _typename(value: Any) -> str:
    return value.__class__.__name__


def _accelerator_type() -> str:
    """What a bare index names (torch.device(0)): the CUDA device where CUDA can be used."""
    ok, why = cuda_status()
    if not ok:
        raise DeviceError(f"device: an index alone names the accelerator, and there is none "
                          f"here ({why})")
    return "cuda"


_CUPY_MISSING: list = []    # [True] once ``import cupy`` failed in this process (the reason
                            # when CuPy is there but broken)


def _cupy_module():
    """The cupy module, or None where it is not installed. A failed import is remembered: every
    factory call without ``device=`` asks :func:`cuda_status` (CUDA if available, as tensorgan's
    default), and a failing ``import cupy`` searches sys.path again each time (~0.1 ms, so
    ``tg.tensor(x)`` cost 100 us).  An imported one (or a stand-in a test put into sys.modules)
    is found first."""
    module = sys.modules.get("cupy")
    if module is not None or _CUPY_MISSING:
        return module
    try:
        import cupy
    except ModuleNotFoundError as exc:
        # not installed; or installed without a dependency: then say which, in cuda_status
        _CUPY_MISSING.append(True if exc.name == "cupy" else f"{type(exc).__name__}: {exc}")
        return None
    except Exception as exc:    # installed but broken: a CUDA library it needs, a driver error
        _CUPY_MISSING.append(f"{type(exc).__name__}: {exc}")
        return None
    return cupy


def cuda_status() -> tuple[bool, str]:
    """Whether ``device='cuda'`` can be used here, and why (or why not)."""
    if simulator_enabled():
        return True, "Numba CUDA simulator (NUMBA_ENABLE_CUDASIM=1): NumPy arrays, simulated CUDA kernels"
    cupy = _cupy_module()
    if cupy is None:
        broken = next((why for why in _CUPY_MISSING if isinstance(why, str)), None)
        if broken is not None:
            return False, (f"CuPy is installed but importing it failed ({broken}); it needs an "
                           f"NVIDIA driver and the CUDA version it was built for: "
                           f"{CUDA_INSTALL_HINT.replace('install', 'reinstall', 1)}")
        return False, f"CuPy is not installed; {CUDA_INSTALL_HINT}"
    try:
        if cupy.is_available():
            return True, f"CuPy {cupy.__version__} on CUDA device 0"
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError: no driver / insufficient driver
        return False, f"CuPy is installed but the CUDA driver is unusable ({exc}); a GPU and an NVIDIA driver are needed"
    if count == 0:
        return False, "CuPy is installed but no CUDA device was found"
    return False, "CuPy is installed but cupy.is_available() is False (driver/runtime mismatch?)"


def set_num_threads(n: int) -> None:
    """The CPU kernels' thread count (``torch.set_num_threads``): Numba's, for the calling thread,
    from 1 to NUMBA_NUM_THREADS (the machine's cores unless that variable says otherwise)."""
    import numba
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= numba.config.NUMBA_NUM_THREADS:
        raise ConfigError(f"set_num_threads: n must be an int from 1 to {numba.config.NUMBA_NUM_THREADS} "
                          f"(NUMBA_NUM_THREADS), got {n!r}")
    numba.set_num_threads(n)


def get_num_threads() -> int:
    import numba
    return numba.get_num_threads()


_devices: dict[str, Device] = {}


def _make_device(kind: str) -> Device:
    if kind == "cpu":
        kernel_set = os.environ.get("TENSORGAN_CPU_KERNELS", "cpu")
        if kernel_set not in ("cpu", "reference"):
            raise DeviceError(f"TENSORGAN_CPU_KERNELS must be 'cpu' or 'reference', got {kernel_set!r}")
        return Device("cpu", np, f"tensorgan.kernels.{kernel_set}")
    ok, why = cuda_status()
    if not ok:
        raise DeviceError(f"device 'cuda' is not available: {why}")
    if simulator_enabled():
        return Device("cuda", np, "tensorgan.kernels.cuda", simulated=True)
    import cupy
    return Device("cuda", cupy, "tensorgan.kernels.cuda")


# torch's device string (c10's Device parser): a type of ASCII letters, digits and '_', then
# maybe ':' and an index with no sign, space or leading zero ('cuda:01' is refused)
_DEVICE_STRING = re.compile(r"([A-Za-z0-9_]+)(?::(0|[1-9][0-9]*))?", re.ASCII)


def _parse(spec: str) -> str:
    """'cpu' or 'cuda' for a device string, by torch's rules: case and spaces count ('CPU',
    ' cpu' and 'gpu' are refused, as torch refuses them); index 0 only for CUDA (any CPU index
    is the one CPU, as torch's)."""
    if not spec:
        raise DeviceError("Device string must not be empty (as torch): 'cpu' or 'cuda'")
    found = _DEVICE_STRING.fullmatch(spec)
    if found is None:
        raise DeviceError(f"invalid device string {spec!r} (torch's RuntimeError too): a device "
                          f"type such as 'cpu' or 'cuda', then maybe ':' and an index with no "
                          f"sign, space or leading zero, as in 'cuda:0'")
    base, index = found.groups()
    if base not in TORCH_DEVICE_TYPES:
        raise DeviceError(f"unknown device {spec!r}: expected one of {', '.join(DEVICE_TYPES)} "
                          f"device type at start of device string, in lower case (as torch; "
                          f"'gpu' is 'cuda')")
    if base not in DEVICE_TYPES:
        raise DeviceError(f"tensorgan has no {base!r} device ({spec!r} is a torch device "
                          f"type): expected one of {', '.join(DEVICE_TYPES)}")
    if index not in (None, "0") and base != "cpu":     # (torch: 'cpu:1' is the CPU too)
        raise DeviceError(f"there is no GPU with index {index} ({spec!r}): tensorgan uses one "
                          f"GPU, {base!r} (or {base}:0)")
    return base


# torch's device-type names: valid names for devices tensorgan lacks (``autocast('xpu')``, and
# ``x.to('meta')`` -- a DeviceError naming the device, not an unknown dtype)
TORCH_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                      "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                      "privateuseone")


def names_a_device(target: Any) -> bool:
    """Whether ``to(target)`` means a device: a Device, or a string naming a device type
    (torch's or 'gpu'; anything else is read as a dtype name)."""
    return isinstance(target, Device) or (isinstance(target, str) and target.split(":")[0].strip().lower()
                                          in TORCH_DEVICE_TYPES + ("gpu",))


_default_set: list = [None]   # tg.set_default_device's Device (None: default_device_type's rule)


def set_default_device(device: "str | Device | None") -> None:
    """torch.set_default_device: the device factories (tg.zeros, tg.tensor, ...) use when
    ``device=`` is not given; None goes back to $TENSORGAN_DEVICE / CUDA-if-available."""
    _default_set[0] = None if device is None else get_device(device)


def get_default_device() -> "Device":
    """The device ``device=None`` means now."""
    return get_device(None)


def default_device_type() -> str:
    env = os.environ.get("TENSORGAN_DEVICE")
    if env:
        try:
            return _parse(env)
        except DeviceError as exc:
            raise DeviceError(f"$TENSORGAN_DEVICE: {exc}") from None
    if simulator_enabled():
        return "cpu"  # the simulator is for tests: never pick it implicitly
    if _cupy_module() is None:
        return "cpu"  # (cuda_status's answer then, without its message and second environ read)
    return "cuda" if cuda_status()[0] else "cpu"


def get_device(spec: "str | Device | None" = None) -> Device:
    """Resolve ``None``, ``'cpu'``, ``'cuda'`` or a Device to a Device (one object per type).
    Given a Tensor, torch's ``torch.get_device(t)``: its CUDA index, -1 on the CPU (an int)."""
    if isinstance(spec, Device):
        return spec._base
    if spec is None and _default_set[0] is not None:
        return _default_set[0]
    if spec is not None and not isinstance(spec, str):
        from .tensor import Tensor
        if isinstance(spec, Tensor):
            return spec.get_device()
    kind = default_device_type() if spec is None else _parse(str(spec))
    device = _devices.get(kind)
    if device is None:
        device = _devices[kind] = _make_device(kind)
    return device


def device_of(array: Any) -> Device:
    """The device a bare array lives on: CUDA for a GPU array (``__cuda_array_interface__``)."""
    return get_device("cuda" if hasattr(array, "__cuda_array_interface__") else "cpu")


def as_host_array(value) -> np.ndarray:
    """NumPy view/copy of array-like data; a GPU array (anything with ``__cuda_array_interface__``)
    is copied to the host -- ``np.asarray`` refuses CuPy arrays on purpose."""
    if hasattr(value, "__cuda_array_interface__") and not isinstance(value, np.ndarray):
        return value.get()
    return np.asarray(value)


def move_array(array, src: Device, dst: Device):
    """Copy an array from one device's memory to another's (always a copy, never a view)."""
    if src.xp is dst.xp:
        return array.copy()
    if dst.xp is np:
        return array.get()  # cupy -> numpy
    return dst.xp.asarray(array)  # numpy -> cupy


# glibc mallopt parameters (malloc.h) and the values keep_freed_memory sets.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 << 20     # glibc's ceiling on 64-bit: every DCGAN array (<= 13 MB) is below it
_TRIM_THRESHOLD = 1 << 30


def keep_freed_memory() -> bool:
    """Let the C allocator keep freed memory for reuse instead of returning it to the OS.

    A training step allocates and frees the same large arrays every time (activations, their
    gradients). glibc's malloc, by default, maps arrays above a moving threshold with mmap and
    returns the top of its heap to the OS when more than twice that is free -- so each step
    page-faults its arrays in anew (and the kernel zeroes every page it hands back). Measured on
    the DCGAN at batch 64 (``python -m benchmarks.malloc --rounds 6``, 2-core VM): 600-8,400 page
    faults and 5-36 ms of system CPU time per step by default, 1 fault and 2-5 ms after this call;
    the step faster in every round of the two quieter of four runs (medians 9% and 5%; in the
    noisiest the gain was lost in the noise). The cost: the process keeps its peak memory (up to 1 GiB of
    freed memory) instead of shrinking after it.

    The setting is process-wide (it changes malloc for every library in the process), so importing
    tensorgan never does it: ``tensorgan train`` calls this (``--return-freed-memory`` opts out),
    a program that owns its process may call it too -- the same as starting Python with
    ``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824`` in the environment, or
    with jemalloc / tcmalloc preloaded, as PyTorch's CPU performance guide suggests. Returns True
    when the allocator took the setting; False (and nothing changed) on a C library without
    glibc's ``mallopt`` (musl, macOS, Windows) or when the environment already sets either
    threshold (the user's choice wins)."""
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return False
    if any(k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
