"""Serial execution for small problems.

A Numba parallel region costs a wake-up and a barrier (microseconds on an idle machine, but whole
scheduler ticks -- milliseconds -- when the cores are oversubscribed and a worker is descheduled).
For inputs below ``PARALLEL_MIN_ELEMENTS`` the kernels therefore run with one Numba thread
(``numba.set_num_threads`` is per calling thread and cheap; a one-thread region runs inline) --
which also makes a convolution run on the calling thread alone, since ``_workers`` splits the
batch into ``numba.get_num_threads()`` slices.
Every DCGAN layer at batch 64 is far above the threshold.

Fork: GNU OpenMP (Numba's default threading layer here) cannot run a parallel region in a child
forked after the parent started its threads -- Numba then terminates the child.  So every
``prange`` kernel is built by :func:`parallel_kernel` with a serial twin, which a process forked
after OpenMP started runs instead (``multiprocessing``'s fork workers, ``os.fork``); the
convolutions' own worker pool (``_workers``) is re-created per process and needs no such care.
"""
import os
import types
from contextlib import contextmanager

import numba
from numba import njit
from numba.np.ufunc import parallel as _numba_parallel

# Below this many elements a memory-bound pass runs on one thread: 2^15 float32 elements read and
# written take ~10 us on one core, the order of what waking and joining a second thread costs.
# An estimate of the crossover (a round number), not a swept optimum.
PARALLEL_MIN_ELEMENTS = 1 << 15
_serial_only = False     # True in a child forked after GNU OpenMP's threads started


def _after_fork_in_child() -> None:   # no imports here: a fork handler runs in a fresh child
    global _serial_only
    if getattr(_numba_parallel, "_is_initialized", False) \
            and getattr(_numba_parallel, "_threading_layer", None) == "omp":
        _serial_only = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def parallel_kernel(fn):
    """``@njit(parallel=True, cache=True)``, plus a serial twin (``prange`` runs as ``range``) that
    a forked child runs -- see the module doc.  The twin is a copy of the function under its own
    name, so that Numba's on-disk cache (keyed by qualified name) keeps the two apart."""
    parallel = njit(parallel=True, cache=True)(fn)
    twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial", fn.__defaults__,
                              fn.__closure__)
    twin.__qualname__ = fn.__qualname__ + "_serial"
    twin.__module__ = fn.__module__
    serial = njit(cache=True)(twin)

    def call(*args):
        return (serial if _serial_only else parallel)(*args)
    call.__name__, call.__qualname__, call.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    call.parallel, call.serial = parallel, serial
    return call


@contextmanager
def threads_for(n_elements):
    if n_elements >= PARALLEL_MIN_ELEMENTS:
        yield
        return
    prev = numba.get_num_threads()
    if prev == 1:
        yield
        return
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(prev)


def serial_below_threshold(size_of):
    """Decorator: run the wrapped kernel entry point under ``threads_for(size_of(*args))``."""
    def wrap(fn):
        def inner(*args, **kwargs):
            with threads_for(size_of(*args)):
                return fn(*args, **kwargs)
        inner.__name__ = fn.__name__
        inner.__qualname__ = fn.__qualname__
        inner.__doc__ = fn.__doc__
        inner.__wrapped__ = fn
        return inner
    return wrap
