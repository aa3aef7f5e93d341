"""Serial execution for small problems.

A Numba parallel region costs a wake-up and a barrier (microseconds on an idle machine, but whole
scheduler ticks -- milliseconds -- when the cores are oversubscribed and a worker is descheduled).
For inputs below ``PARALLEL_MIN_ELEMENTS`` the kernels therefore run with one Numba thread
(``numba.set_num_threads`` is per calling thread and cheap; a one-thread region runs inline) --
which also makes a convolution run on the calling thread alone, since ``_workers`` splits the
batch into ``numba.get_num_threads()`` slices.
Every DCGAN layer at batch 64 is far above the threshold.
"""
from contextlib import contextmanager

import numba

PARALLEL_MIN_ELEMENTS = 1 << 15


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
