"""Fused Adam step on the CPU: one Numba pass over p, g, m, v (see reference/optim.py).

Every scalar arrives already rounded to the arrays' dtype, and there is no fastmath (no FMA
contraction, no reassociation), so each operation rounds exactly like the reference's ufunc
sequence: the result is bit-identical, without its eleven passes over memory and its scratch array.
2.1M parameters (the MNIST DCGAN pair) take ~5 ms on one thread against ~9-25 ms for the ufuncs,
3.7 ms with the split below (measured in the train step; G's 1.25M-element Linear weight alone:
2.8 -> 2.0 ms).

Threads: a tensor of at least ``PARALLEL_MIN_ELEMENTS`` is cut into one contiguous slice per
thread, run on the convolutions' worker threads (``_workers``; the pass releases the GIL).  Each
element's update is independent, so the result does not depend on the split.  (A Numba ``prange``
version took 1.6 ms on idle cores but 30-50 ms whenever another process held one of the two cores
-- the launch waits for a descheduled OpenMP worker -- so the pool that the convolutions keep busy
anyway does the splitting.)
"""
import numba
import numpy as np
from numba import njit

from ..reference.optim import adam_scalars
from ._workers import _run_parts, slices

PARALLEL_MIN_ELEMENTS = 1 << 16


@njit(cache=True, nogil=True)
def _adam_pass(p, g, m, v, b1, c1, b2, c2, inv_bc2, eps, step_size):
    for i in range(p.size):
        gi = g[i]
        mi = m[i] * b1 + gi * c1
        vi = v[i] * b2 + (gi * gi) * c2
        m[i] = mi
        v[i] = vi
        p[i] += mi / (np.sqrt(vi) * inv_bc2 + eps) * step_size


def adam_update(p, g, m, v, lr, beta1, beta2, eps, step):
    dt = p.dtype.type
    c1, c2, inv_bc2, step_size = adam_scalars(lr, beta1, beta2, step)
    scalars = tuple(dt(c) for c in (beta1, c1, beta2, c2, inv_bc2, eps, step_size))
    threads = numba.get_num_threads() if p.size >= PARALLEL_MIN_ELEMENTS else 1
    if threads == 1:
        _adam_pass(p, g, m, v, *scalars)
        return

    def part(bounds):
        a, b = bounds
        _adam_pass(p[a:b], g[a:b], m[a:b], v[a:b], *scalars)

    _run_parts(threads, slices(p.size, threads), part)
