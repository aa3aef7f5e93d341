"""Launch glue: which array module holds the data, how arrays reach a kernel, grid arithmetic.

* On a real GPU the arrays are CuPy arrays and every kernel is launched on CuPy's current stream,
  so our launches and CuPy's own work stay ordered without the host ever waiting.  Numba compiles
  each kernel once, for its declared signature (the ``KERNELS`` lists) and this GPU, to PTX; CuPy
  loads that PTX as a module and launches it (``cupy.cuda.Function``).  Why not
  ``kernel[grid, block](*args)``: Numba's dispatcher re-types every argument and wraps every array
  in ctypes objects on every call -- 0.1-0.2 ms of Python per launch, measured on an H100 as the
  larger part of our GPU step (numba-cuda issue #477); CuPy's launch path is compiled.  The price is
  knowing Numba's kernel ABI: a 1-D array argument is seven 8-byte parameters (meminfo, parent,
  nitems, itemsize, data, shape, stride), a scalar one (``flat_params``; ``tests/kernels/
  test_ptx.py`` checks the counts against the PTX).  ``TENSORGAN_CUDA_LAUNCH=numba`` goes back to
  Numba's dispatcher (arrays handed over with ``as_cuda_array(a, sync=False)``).
* Under Numba's simulator (``NUMBA_ENABLE_CUDASIM=1``) the kernels run as Python threads on plain
  NumPy arrays, and CuPy is never imported.
"""

import hashlib
import os
import re
from pathlib import Path

import numpy
from numba import config, cuda

SIMULATOR = bool(config.ENABLE_CUDASIM)
LAUNCH_VIA = os.environ.get("TENSORGAN_CUDA_LAUNCH", "cupy")

_streams = {}
_signatures = {}      # kernel dispatcher -> its declared signature (from the KERNELS lists)
_functions = {}       # (kernel, device id) -> (CuPy module, CuPy function, parameter kinds)
_by_value = {}        # (kind, value) -> a kernel parameter CuPy passes as is (see _param)


def xp():
    """The array module of this kernel set: NumPy under the simulator, CuPy on a GPU."""
    if SIMULATOR:
        return numpy
    import cupy  # imported lazily: the simulator (and PTX-only tooling) must not need it

    return cupy


def asarray(a):
    """A C-contiguous array of this kernel set's module (no copy when it already is one)."""
    return xp().ascontiguousarray(a)


def _numba_stream():
    import cupy

    ptr = cupy.cuda.get_current_stream().ptr
    stream = _streams.get(ptr)
    if stream is None:
        stream = cuda.default_stream() if ptr == 0 else cuda.external_stream(ptr)
        _streams[ptr] = stream
    return stream


def bounded_jit(max_threads, min_blocks):
    """``cuda.jit`` with launch bounds (PTX ``.maxntid`` / ``.minnctapersm``: ptxas caps the
    registers so that ``min_blocks`` blocks of ``max_threads`` fit an SM); plain ``cuda.jit``
    under the simulator, whose ``jit`` takes no bounds and has no registers to cap."""
    return cuda.jit if SIMULATOR else cuda.jit(launch_bounds=(max_threads, min_blocks))


def launch_bounds(kernel):
    """The launch bounds a kernel was declared with (``bounded_jit``), else None: what
    ``cuda.compile_ptx`` of its ``py_func`` must be given to compile it the same way."""
    return getattr(kernel, "targetoptions", {}).get("launch_bounds")


def register(kernels):
    """Record each kernel's signature: ``[(name, kernel, signature, threads, smem), ...]``."""
    for _, kernel, signature, _, _ in kernels:
        _signatures[kernel] = signature


def signature_kinds(signature):
    """'void(float32[::1], int64, float64)' -> ['array', 'int64', 'float64']."""
    inner = signature[signature.index("(") + 1:signature.rindex(")")]
    kinds = []
    for part in re.split(r",\s*(?![^\[]*\])", inner):
        part = part.strip()
        if part == "float32[::1]":
            kinds.append("array")
        elif part in ("int64", "float64"):
            kinds.append(part)
        else:
            raise TypeError(f"launch glue: unsupported kernel parameter type {part!r}")
    return kinds


def flat_params(signature):
    """How many PTX parameters Numba's kernel ABI gives a signature (7 per 1-D array)."""
    return sum(7 if k == "array" else 1 for k in signature_kinds(signature))


def _cupy_function(kernel):
    """The kernel compiled by Numba for this GPU and loaded into CuPy (once per device)."""
    import cupy

    device = cupy.cuda.Device()
    key = (kernel, device.id)
    entry = _functions.get(key)
    if entry is None:
        signature = _signatures[kernel]
        cc = device.compute_capability                       # e.g. "90"
        ptx = compile_ptx_cached(kernel, signature, (int(cc[:-1]), int(cc[-1])))
        name = re.search(r"\.visible \.entry (\S+)\(", ptx).group(1)
        module = cupy.cuda.function.Module()
        module.load(ptx.encode())
        entry = (module, module.get_function(name), signature_kinds(signature))
        _functions[key] = entry
    return entry


def ptx_cache_dir():
    """``$TENSORGAN_CACHE/ptx``, else ``$XDG_CACHE_HOME/tensorgan/ptx`` or ``~/.cache/tensorgan/ptx``
    (the MNIST cache's rule); ``TENSORGAN_PTX_CACHE=0`` turns the cache off."""
    if os.environ.get("TENSORGAN_PTX_CACHE", "1") in ("0", ""):
        return None
    root = os.environ.get("TENSORGAN_CACHE")
    if not root:
        root = str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tensorgan")
    return Path(root).expanduser() / "ptx"


_digest = None


def _sources_digest():
    """A hash of every source file of this package: a kernel's PTX depends on its own code, the
    device functions and tile constants it uses (``tiles``), and nothing else of ours."""
    global _digest
    if _digest is None:
        h = hashlib.sha256()
        for path in sorted(Path(__file__).parent.glob("*.py")):
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        import numba
        h.update(f"numba {numba.__version__}; numba-cuda {_numba_cuda_version()}".encode())
        _digest = h.hexdigest()
    return _digest


def _numba_cuda_version():
    try:
        from importlib.metadata import version
        return version("numba-cuda")
    except Exception:       # the built-in numba.cuda: numba's version (hashed already) says it
        return "built-in"


def compile_ptx_cached(kernel, signature, cc):
    """PTX of ``kernel`` for ``signature`` and compute capability ``cc`` (e.g. ``(9, 0)``).

    Numba compiles each kernel in about 0.05-1.2 s (5.5 s for the whole set on this project's CPU),
    in every new process -- each ``tensorgan train``, ``eval`` or ``sample`` on a GPU paid it
    before its first step.  The PTX is kept on disk under ``ptx_cache_dir()``, keyed by the hash of
    this package's sources, Numba's and numba-cuda's versions, the signature and ``cc``: a change
    to any of them compiles anew.  The file is written whole and renamed into place, so a killed
    process leaves no partial PTX; an unwritable cache only costs the compilation."""
    folder = ptx_cache_dir()
    key = hashlib.sha256(f"{_sources_digest()}|{kernel.py_func.__name__}|{signature}|{cc}"
                         .encode()).hexdigest()[:40]
    path = None if folder is None else folder / f"{kernel.py_func.__name__}-sm{cc[0]}{cc[1]}-{key}.ptx"
    if path is not None:
        try:
            ptx = path.read_text()
            if ".visible .entry" in ptx:
                return ptx
        except (OSError, UnicodeDecodeError):
            pass
    ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=cc,
                              launch_bounds=launch_bounds(kernel))
    if path is not None:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp.write_text(ptx)
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)
    return ptx


def _param(kind, value):
    """A scalar kernel parameter, made once per distinct value and reused.

    CuPy turns every scalar argument into a C value on each launch, through NumPy's type machinery
    -- measured on the H100 host at ~1 us a scalar, and a launch here has ~20 of them (7 per
    array).  A ``cupy.cuda.function.CPointer`` is passed as is: a ``_by_value`` parameter is one
    that points at its own 8-byte buffer holding the value.  The values are shapes, sizes and
    hyperparameters, so the cache stays small; it is emptied if it ever grows large (each object
    keeps its own buffer alive, so a launch holding one is unaffected)."""
    key = (kind, value.hex() if kind == "float64" else value)   # hex: -0.0 is not 0.0, NaN is NaN
    p = _by_value.get(key)
    if p is None:
        if len(_by_value) > 4096:
            _by_value.clear()
        p = _by_value[key] = _by_value_param(numpy.array([value], dtype=kind))
    return p


def _by_value_param(buffer):
    """The parameter object for a 1-element buffer; on first use this replaces itself with the
    class that makes them (built lazily: importing this module must not import CuPy)."""
    global _by_value_param
    try:
        from cupy.cuda.function import CPointer

        class ByValue(CPointer):
            """A kernel parameter passed by value from a buffer this object owns."""

            def __init__(self, buffer):
                super().__init__(buffer.ctypes.data)
                self.buffer = buffer

        _by_value_param = ByValue
    except (ImportError, TypeError):     # a CuPy without a subclassable CPointer: NumPy scalars
        _by_value_param = lambda buffer: buffer[0]            # noqa: E731
    return _by_value_param(buffer)


def _launch_cupy(kernel, grid, block, args):
    import cupy

    _, function, kinds = _cupy_function(kernel)
    name = kernel.py_func.__name__
    if len(args) != len(kinds):
        raise TypeError(f"{name}: {len(args)} arguments for {len(kinds)} parameters")
    zero, four = _param("uint64", 0), _param("int64", 4)
    params = []
    for kind, a in zip(kinds, args):
        if kind == "array":
            if not (isinstance(a, cupy.ndarray) and a.dtype.char == "f" and a.ndim == 1
                    and a.flags.c_contiguous):
                raise TypeError(f"{name}: expected a contiguous 1-D float32 CuPy array, got "
                                f"{type(a).__name__} {getattr(a, 'dtype', '')} "
                                f"{getattr(a, 'shape', '')}")
            n = _param("int64", a.size)
            params += (zero, zero, n, four, a, n, four)   # Numba's array ABI (flat_params)
        else:                                             # "int64" or "float64"
            params.append(_param(kind, int(a) if kind == "int64" else float(a)))
    grid = grid if isinstance(grid, tuple) else (grid,)
    block = block if isinstance(block, tuple) else (block,)
    function(grid, block, tuple(params), stream=cupy.cuda.get_current_stream())


def launch(kernel, grid, block, *args):
    """``kernel[grid, block](*args)``; arrays are passed as flat (1-D) views."""
    if SIMULATOR:
        kernel[grid, block](*args)
        return
    if LAUNCH_VIA == "cupy" and kernel in _signatures:
        _launch_cupy(kernel, grid, block, args)
        return
    args = [cuda.as_cuda_array(a, sync=False) if hasattr(a, "__cuda_array_interface__") else a
            for a in args]
    kernel[grid, block, _numba_stream()](*args)


def cdiv(a, b):
    return -(-a // b)


def ew_grid(total, threads, max_blocks):
    """Blocks for a grid-stride element-wise kernel over ``total`` elements."""
    return max(1, min(cdiv(total, threads), max_blocks))
