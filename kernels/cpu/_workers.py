"""Batch-parallel execution of the convolutions: each worker thread owns a slice of the batch.

How a convolution runs on T CPU threads (T = ``numba.get_num_threads()``):

    images 0 .. N-1  ->  T contiguous slices, one per thread (thread 0 is the calling thread)
    each thread, for each cache-sized chunk of its slice:
        pack  (Numba, nogil)  ->  GEMM (OpenBLAS, one thread)  ->  unpack / shifted adds (Numba)
    weight gradients: each thread sums its chunks' partial products; the T partials are added in
    thread order at the end.

Why not "parallel pack, then a multi-threaded GEMM, then a parallel unpack" (the textbook split)?
Measured on this project's 2-core machine: every hand-over between Numba's thread pool and
OpenBLAS's is a barrier, and an idle pool spins or sleeps while the other pool works, so the two
pools fight for the cores (a 0.05-GFLOP conv took 4-8 ms instead of 1); and the packed operand of a
whole batch (up to 51 MB at the DCGAN's shapes) streams through memory twice.  Giving each thread
its own images removes every barrier but one, keeps a chunk's packed operand in cache between the
pack and the GEMM, and runs BLAS single-threaded -- which is also how oneDNN (PyTorch's CPU
convolutions) parallelises over the minibatch.

Determinism: the slices are static (they depend on N and T, never on timing), a thread walks its
chunks in order and partial weight gradients are summed in thread order, so a result depends only
on the inputs and the thread count -- the same two calls give bit-identical answers.

The GIL: the Numba kernels are compiled with ``nogil=True`` and NumPy's matmul releases it, so the
threads run concurrently; only the few Python lines per chunk hold it.

What the hand-over costs: ``python -m benchmarks.train_step`` reports it ("thread hand-over":
each split call's wall time minus its parts' mean busy time) -- 6.4 ms over the 25 split calls
of a DCGAN step at batch 64 (4% of the step), mostly the worker's start (about 0.15 ms after the
call: an idle vCPU waking) and the wait for the slower part.  Not the GIL (prototypes, timed once
in one process and not kept): running each chunk's pack, GEMM (BLAS called from Numba through
SciPy) and unpack as one ``nogil`` call was no faster (D 64->128 forward 4.73 vs 4.53 ms), and
spin-waiting for the worker instead of blocking did not change the step (per-step ratio
1.00-1.01).
"""
from __future__ import annotations

import contextvars
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from typing import Callable

import numpy as np
from threadpoolctl import ThreadpoolController

from ._threads import kernel_threads, numba_threads

_pools: dict[int, ThreadPoolExecutor] = {}    # this process's worker pools, by worker count
_pools_pid = os.getpid()                      # the process they belong to (a fork starts anew)
_blas = None                                  # threadpoolctl's controllers of the loaded BLAS libraries
_blas_saved = None                            # their thread counts before the first caller came in
_blas_holders = 0                             # callers inside single_threaded_blas, all threads
_blas_owed = None                             # a forked child's: the counts to restore (below)
_lock = threading.Lock()


class _Scratch(threading.local):
    """Per thread: .buffers, the scratch buffers by (name, dtype) -- set up once per thread here
    rather than looked up with getattr(..., None) on every ``scratch`` call (~200 a DCGAN step)."""
    def __init__(self) -> None:
        self.buffers: dict = {}


_scratch = _Scratch()


def _reset_in_child() -> None:       # no imports here: a fork handler runs in a fresh child
    """A fork while another thread is inside a kernel call copies ``_lock`` held (the child's
    first kernel call then blocks on it forever: seen in 16 of 200 forks beside a thread running
    convolutions) and that thread's count in ``_blas_holders`` (the child has no such thread, so
    nobody would restore the user's BLAS thread counts): a fresh lock, no holders, and the
    counts that thread saved owed to the child's first caller, which restores them on its way out."""
    global _lock, _blas_holders, _blas_saved, _blas_owed
    _lock = threading.Lock()
    _blas_holders = 0
    if _blas_saved is not None:         # (a limit in effect, or being set or undone at the fork)
        _blas_owed, _blas_saved = _blas_saved, None


os.register_at_fork(after_in_child=_reset_in_child)


def _executor(workers: int) -> ThreadPoolExecutor:
    """The process's pool of ``workers`` threads.  One per worker count, kept: callers in several
    Python threads with different Numba thread counts share pools instead of replacing each
    other's.  A forked child starts with none (the parent's threads do not exist there)."""
    global _pools, _pools_pid
    with _lock:
        if _pools_pid != os.getpid():
            _pools, _pools_pid = {}, os.getpid()
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = ThreadPoolExecutor(max_workers=workers,
                                                        thread_name_prefix="tensorgan-cpu")
        return pool


@contextmanager
def single_threaded_blas():
    """BLAS on one thread while our own threads run GEMMs side by side (a multi-threaded OpenBLAS
    called from two threads at once serialises them and spins up its own pool on the same cores).
    The limit is process-wide, so it is counted: the first caller in sets it, the last one out
    restores the user's setting (two threads each saving and restoring it would leave it at 1).
    The BLAS libraries' own get / set calls are made directly (threadpoolctl's ``limit()``
    object costs twice as much per kernel call), and only where a library is not at 1 already."""
    global _blas, _blas_saved, _blas_holders, _blas_owed
    with _lock:
        if _blas is None:
            _blas = ThreadpoolController().select(user_api="blas").lib_controllers
        if _blas_holders == 0:
            _blas_saved = _blas_owed or [lib.num_threads for lib in _blas]
            _blas_owed = None
            for lib, n in zip(_blas, _blas_saved):
                if n != 1:
                    lib.set_num_threads(1)
        _blas_holders += 1
    try:
        yield
    finally:
        with _lock:
            _blas_holders -= 1
            if _blas_holders == 0:
                for lib, n in zip(_blas, _blas_saved):
                    if n != 1:
                        lib.set_num_threads(n)
                _blas_saved = None


def scratch(name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A per-thread reusable buffer (grow-only): chunk-sized packs and GEMM results are reused from
    chunk to chunk and call to call instead of being freshly allocated -- and page-faulted in --
    each time.  Never returned to the caller of a kernel."""
    dtype = np.dtype(dtype)
    size = math.prod(shape)          # (np.prod of a tuple costs microseconds per call)
    key = (name, dtype.str)
    buffers = _scratch.buffers
    buf = buffers.get(key)
    if buf is None or buf.size < size:
        buf = buffers[key] = np.empty(max(size, 1), dtype=dtype)
    return buf[:size].reshape(shape)


def slices(n: int, parts: int) -> list[tuple[int, int]]:
    """range(n) cut into `parts` contiguous, nearly equal, non-empty slices (fewer if n < parts)."""
    parts = max(1, min(parts, n))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(parts)]


def chunks(n0: int, n1: int, per_image: int, budget: int) -> list[tuple[int, int]]:
    """[n0, n1) cut into chunks of about `budget` elements of scratch (at least one image each)."""
    if n1 <= n0:
        return []
    step = max(1, budget // max(per_image, 1))
    count = -(-(n1 - n0) // step)          # as many chunks as `budget` needs, of equal size:
    bounds = [n0 + (n1 - n0) * i // count for i in range(count + 1)]   # 16+16, not 18+14
    return [(bounds[i], bounds[i + 1]) for i in range(count)]


def run_over_batch(n: int, per_image: int, budget: int,
                   body: Callable[[int, int], np.ndarray | tuple | None]) -> list:
    """Call ``body(c0, c1)`` for cache-sized chunks [c0, c1) of the batch range(n), split across
    the threads as described above.  Returns, per thread in order, the sum of the values its
    bodies returned (None where they return None) -- the weight gradients' partial sums.  A body
    may return a tuple of arrays (e.g. weight and bias gradients): they are summed element-wise."""
    threads = kernel_threads()          # (1 inside a call below _threads' threshold)
    parts = slices(n, threads)

    def work(part):
        total, is_tuple = None, False
        for c0, c1 in chunks(*part, per_image, budget):
            value = body(c0, c1)            # may be a scratch buffer: copied before the next chunk
            if value is None:
                continue
            is_tuple = isinstance(value, tuple)
            values = value if is_tuple else (value,)
            if total is None:
                total = [v.copy() for v in values]
            else:
                for t, v in zip(total, values):
                    t += v
        if total is None:
            return None
        return tuple(total) if is_tuple else total[0]

    return run_parts(threads, parts, work)


def run_parts(threads: int, parts: list, fn: Callable, blas: bool = True) -> list:
    """fn(parts[0]) on the calling thread and fn(parts[1]), ... on the pool -- with BLAS
    single-threaded unless ``blas=False`` (parts that call no BLAS skip threadpoolctl's limit);
    returns their values in part order, after every part has finished (even if one raised)."""
    with single_threaded_blas() if blas else nullcontext():
        if len(parts) == 1:
            return [fn(parts[0])]
        # Each worker runs in a copy of the caller's context: NumPy keeps np.errstate there, so
        # a caller's errstate covers the whole kernel, not only the calling thread's part.
        futures = [_executor(threads - 1).submit(contextvars.copy_context().run, fn, part)
                   for part in parts[1:]]
        try:
            first = fn(parts[0])
        finally:
            results = [_wait(f) for f in futures]   # never leave a worker running on our buffers
        return [first] + [_unwrap(r) for r in results]


def _wait(future):
    """(value, None) or (None, error) once the part has finished -- even through Ctrl-C: a
    KeyboardInterrupt that arrives while this thread waits is held until the worker is done with
    our buffers, then returned to be re-raised."""
    interrupt = None
    while True:
        try:
            value, err = future.result(), None
        except KeyboardInterrupt as exc:
            if not future.done():                    # raised in this thread, by the wait
                interrupt = exc
                continue
            value, err = None, exc
        except BaseException as exc:                 # re-raised by _unwrap, after all have finished
            value, err = None, exc
        return (None, interrupt) if interrupt is not None else (value, err)


def _unwrap(result):
    value, err = result
    if err is not None:
        raise err
    return value


def sum_in_order(partials: list):
    """The threads' partial sums added in thread order (deterministic); element-wise for tuples.
    Adds in place into the first partial: ``run_over_batch``'s partials are fresh arrays of this
    call's own (a weight-sized allocation -- page faults and all -- saved per call)."""
    total = partials[0]
    for p in partials[1:]:
        if p is None:
            continue
        if total is None:
            total = p
        elif isinstance(total, tuple):
            for a, b in zip(total, p):
                a += b
        else:
            total += p
    return total


# Smaller products run on the calling thread alone: 2^20 multiply-adds are ~20 us of one core's
# GEMM, a few times the pool's hand-off cost.  An estimate (a round number), not a swept optimum.
PARALLEL_MIN_MACS = 1 << 20


def gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for 2-D operands, split across the threads like a convolution: each thread multiplies
    one band of the larger operand -- a's rows or b's columns -- by the whole of the smaller one,
    with single-threaded BLAS, into its own rows / columns of the result (no reduction across
    threads).  Splitting the larger operand matters: the Linear layers' GEMMs are short (K = 100)
    and memory-bound, so a thread that reads all of a 12544 x 100 weight gains nothing from
    computing half the rows (measured: row split 1.56 ms, column split 1.21 ms).
    For the engine's Linear layers (``Device.matmul``): the DCGAN generator's 100 -> 12544 layer
    runs on both cores without waking OpenBLAS's own thread pool (see ``single_threaded_blas``)."""
    m, n = a.shape[0], b.shape[1]
    out = np.empty((m, n), dtype=np.result_type(a, b))
    threads = numba_threads() if m * n * a.shape[1] >= PARALLEL_MIN_MACS else 1
    if a.size >= b.size and m >= threads:
        def band(rows):
            np.matmul(a[rows[0]:rows[1]], b, out=out[rows[0]:rows[1]])
        parts = slices(m, threads)
    else:
        def band(cols):   # a column band of out is still a BLAS operand (row stride n): no copy
            np.matmul(a, b[:, cols[0]:cols[1]], out=out[:, cols[0]:cols[1]])
        parts = slices(n, threads)
    run_parts(threads, parts, band)
    return out
