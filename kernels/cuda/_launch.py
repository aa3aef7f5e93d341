"""Launch glue: which array module holds the data, how arrays reach a kernel, grid arithmetic.

* On a real GPU the arrays are CuPy arrays.  They are handed to Numba through the CUDA Array
  Interface *without* a stream synchronisation (``as_cuda_array(a, sync=False)``), and every kernel
  is launched on CuPy's current stream, so Numba's launches and CuPy's own work stay ordered
  without the host ever waiting.
* Under Numba's simulator (``NUMBA_ENABLE_CUDASIM=1``) the kernels run as Python threads on plain
  NumPy arrays, and CuPy is never imported.
"""

import numpy
from numba import config, cuda

SIMULATOR = bool(config.ENABLE_CUDASIM)

_streams = {}


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


def launch(kernel, grid, block, *args):
    """``kernel[grid, block](*args)``; arrays are passed as flat (1-D) views."""
    if SIMULATOR:
        kernel[grid, block](*args)
        return
    args = [cuda.as_cuda_array(a, sync=False) if hasattr(a, "__cuda_array_interface__") else a
            for a in args]
    kernel[grid, block, _numba_stream()](*args)


def cdiv(a, b):
    return -(-a // b)


def ew_grid(total, threads, max_blocks):
    """Blocks for a grid-stride element-wise kernel over ``total`` elements."""
    return max(1, min(cdiv(total, threads), max_blocks))
