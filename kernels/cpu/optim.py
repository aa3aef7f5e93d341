"""Fused Adam step and weight average on the CPU: one Numba pass each (see reference/optim.py).

Every scalar arrives already rounded to the arrays' dtype, and there is no fastmath (no FMA
contraction, no reassociation), so each operation rounds exactly like the reference's ufunc
sequence: the result is bit-identical, without its thirteen passes over memory and its scratch array.
Cost per element: 13 FLOPs (2 of them a square root and a division), 28 bytes in float32 (reads
p, g, m, v; writes p, m, v) -- memory-bound once vectorised.  All 2.07M parameters of the MNIST
DCGAN pair (21 tensors): 2.9-3.0 ms in ``benchmarks.kernels``' Adam row against torch.optim.Adam's
4.1-4.4 ms, and 2.2 ms in the train step.

Launch shape (threads): a tensor of at least ``ADAM_SPLIT_MIN_ELEMENTS`` is cut into one contiguous slice per
thread, run on the convolutions' worker threads (``_workers``; the pass releases the GIL).  Each
element's update is independent, so the result does not depend on the split.  With the data in
cache one thread is as fast (1.7 vs 1.9 ms for all parameters in a tight loop), but in the train
step, where the optimizer state comes from memory, the split measured 2.2 vs 2.7 ms.  A Numba
``prange`` took 30-50 ms whenever another process held one of the two cores (the launch waits for
a descheduled OpenMP worker), so the pool that the convolutions keep busy does the splitting.

``lerp_update`` (the generator's EMA, ``p_ema.lerp_(p, 1 - beta)``): one pass reading a and end and
writing out -- 3 FLOPs and 12 bytes an element in float32, memory-bound -- bit-identical to the
reference's three ufunc passes for the same reasons (scalars rounded to the dtype first, no
fastmath).  Launch shape: one serial pass on the calling thread.  Threads did not pay: over the
MNIST generator's 13 tensors (1.94M elements), ``TENSORGAN_BENCH_NO_TORCH=1 python -m
benchmarks.kernels --repeats 20 --only EMA`` (tensorgan as a user without torch runs it) measured
0.77-0.88 ms serial against 1.01-1.08 ms as a ``prange`` -- with OMP_WAIT_POLICY=PASSIVE every
parallel region wakes sleeping workers (~75 us each in a tight loop) -- and Adam's hand-off to the
worker pool cost more still.  With torch in the process (the plain command) torch's spinning
OpenMP workers make the prange cheap: 0.53 ms prange, 0.76-0.77 ms serial, torch's lerp_ 0.65 ms.
"""
import numpy as np
from numba import njit

from ..reference.optim import adam_scalars
from ._threads import numba_threads
from ._workers import run_parts, slices

# A threshold of its own, not _threads.PARALLEL_MIN_ELEMENTS (2**15, which gates the prange
# kernels): this one decides when a tensor's update is handed to the worker pool in slices.
# Adam moves 28 bytes an element: 2^16 elements are ~100 us of one core's memory traffic, well
# above the hand-off.  An estimate (a round number), not a swept optimum.
ADAM_SPLIT_MIN_ELEMENTS = 1 << 16


# error_model="numpy": a float division by zero gives inf/nan as in NumPy instead of raising, so
# Numba emits no zero test per division -- which had kept LLVM from vectorising the loop (measured:
# 2.24 -> 0.60 ns per element in cache; IEEE division and square root give the same bits either
# way, and the divisor is never zero: eps > 0).
@njit(cache=True, nogil=True, error_model="numpy")
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
    threads = numba_threads() if p.size >= ADAM_SPLIT_MIN_ELEMENTS else 1
    if threads == 1:
        _adam_pass(p, g, m, v, *scalars)
        return

    def part(bounds):
        a, b = bounds
        _adam_pass(p[a:b], g[a:b], m[a:b], v[a:b], *scalars)

    run_parts(threads, slices(p.size, threads), part, blas=False)


@njit(cache=True, nogil=True)
def _lerp_pass(a, end, out, weight, small):
    """out = a + (end - a) * w (small |weight|) or end - (end - a) * w (w = 1 - weight then)."""
    if small:
        for i in range(a.size):
            out[i] = a[i] + (end[i] - a[i]) * weight
    else:
        for i in range(a.size):
            e = end[i]
            out[i] = e - (e - a[i]) * weight


@njit(cache=True, nogil=True)
def _lerp_in_place(a, end, weight, small):
    """_lerp_pass with out = a, a loop of its own: given out and a as the same array, LLVM's
    run-time overlap check sends _lerp_pass to its scalar loop (measured 84 vs 38 us a 512x512
    float32 weight); here no store can overlap a load of another element."""
    if small:
        for i in range(a.size):
            a[i] = a[i] + (end[i] - a[i]) * weight
    else:
        for i in range(a.size):
            e = end[i]
            a[i] = e - (e - a[i]) * weight


def lerp_update(a, end, weight, out):
    small = abs(weight) < 0.5
    w = a.dtype.type(weight if small else 1.0 - weight)
    if out is a:
        _lerp_in_place(a, end, w, small)
    else:
        _lerp_pass(a, end, out, w, small)
