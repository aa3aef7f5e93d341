"""Serial execution for small problems.

A Numba parallel region costs a wake-up and a barrier (microseconds on an idle machine, but whole
scheduler ticks -- milliseconds -- when the cores are oversubscribed and a worker is descheduled).
For inputs below ``PARALLEL_MIN_ELEMENTS`` the kernels therefore run serially: inside such a call
(:func:`serial_below_threshold`) every ``prange`` kernel runs its serial twin (entering even a
one-thread parallel region costs ~1 us, more with two; a 128-element leaky_relu pass takes
0.3 us serial) and a convolution splits its batch into :func:`kernel_threads` = 1 slice, on the
calling thread.  (A thread-local flag, not ``numba.set_num_threads(1)`` and back: that get and
set costs ~4 us of a small call.)
Every DCGAN layer at batch 64 is far above the threshold.

Fork: GNU OpenMP (Numba's default threading layer here) cannot run a parallel region in a child
forked after the parent started its threads -- Numba then terminates the child.  So every
``prange`` kernel is built by :func:`parallel_kernel` with a serial twin, which a process forked
after OpenMP started runs instead (``multiprocessing``'s fork workers, ``os.fork``); the
convolutions' own worker pool (``_workers``) is re-created per process and needs no such care.
"""
import os
import threading
import types

import numba
from numba import njit
from numba.np.ufunc import parallel as _numba_parallel

# Below this many elements a memory-bound pass runs on one thread: 2^15 float32 elements read and
# written take ~10 us on one core, the order of what waking and joining a second thread costs.
# An estimate of the crossover (a round number), not a swept optimum.
PARALLEL_MIN_ELEMENTS = 1 << 15
_serial_only = False     # True in a child forked after GNU OpenMP's threads started


class _SmallCall(threading.local):
    """.active: this thread is inside a kernel call below the threshold, whose prange kernels then
    run their serial twins -- a parallel region costs ~1 us to enter even on one thread (a
    128-element leaky_relu pass: 0.3 us serial, 1.3 us parallel on one thread, 9 us of CPU time
    on two).  False until a thread sets it (a class default: a plain attribute read, no
    getattr(..., default) call per kernel call)."""
    active = False


_small_call = _SmallCall()


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
        if _serial_only or _small_call.active:
            return serial(*args)
        return parallel(*args)
    call.__name__, call.__qualname__, call.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    call.parallel, call.serial = parallel, serial
    return call


_numba_get_num_threads = numba.get_num_threads
# (Numba 0.61-0.68's private names -- _get_num_threads is bound when the layer starts; a Numba
# without them takes numba.get_num_threads always)
_NATIVE_COUNT = hasattr(_numba_parallel, "_is_initialized")


def numba_threads() -> int:
    """``numba.get_num_threads()`` -- the calling thread's count, which ``numba.set_num_threads``
    and ``tg.set_num_threads`` set -- read straight from Numba's threading layer once that has
    started: numba.get_num_threads takes two locks (one a multiprocessing RLock) on every call
    to check that it has, 1.3 us against 0.16 us (25 calls a DCGAN step).  Not a cache: every
    call reads the current value, so a change between calls is always seen.  (Where
    numba.get_num_threads has been replaced -- a test faking two threads -- that is asked.)"""
    if _NATIVE_COUNT and _numba_parallel._is_initialized and numba.get_num_threads is _numba_get_num_threads:
        try:
            n = _numba_parallel._get_num_threads()
        except AttributeError:
            n = 0
        if n > 0:
            return n
    return numba.get_num_threads()          # starts the threading layer, or raises Numba's error


def kernel_threads() -> int:
    """The threads a kernel call splits its work across: 1 inside a call below the threshold,
    else Numba's thread count for the calling thread (``numba.set_num_threads``)."""
    return 1 if _small_call.active else numba_threads()


def serial_below_threshold(size_of):
    """Decorator: the wrapped kernel entry point runs serially (see the module doc) when
    ``size_of(*args)`` is below ``PARALLEL_MIN_ELEMENTS``."""
    def wrap(fn):
        def inner(*args, **kwargs):
            if size_of(*args) >= PARALLEL_MIN_ELEMENTS or _small_call.active:
                return fn(*args, **kwargs)       # (large, or already inside a small call)
            _small_call.active = True
            try:
                return fn(*args, **kwargs)
            finally:
                _small_call.active = False
        inner.__name__ = fn.__name__
        inner.__qualname__ = fn.__qualname__
        inner.__doc__ = fn.__doc__
        inner.__wrapped__ = fn
        return inner
    return wrap
