"""A faster block runner for Numba's CUDA simulator (test-suite speed only, same semantics).

The simulator (numba-cuda 0.30.4, ``numba.cuda.simulator.kernel``) runs one Python thread per CUDA
thread.  Its ``BlockManager`` starts 256 fresh threads for every block (a start handshake each) and
finds a block-wide barrier by polling: it spins over every live thread, holding the GIL a whole
switch interval at a time, until all are blocked in ``syncthreads``.  Its ``cuda.shared.array``
keys each allocation by (file, line) of the caller through ``traceback.extract_stack`` of the whole
stack, once per thread.  Together that was most of a simulated launch's time, and the simulated
kernels were a third of the suite's time on the 2-core CI machine.

``PooledBlockManager`` keeps the simulator's semantics -- each CUDA thread is a ``BlockThread``
with its blockIdx / threadIdx / thread_id; a barrier opens when every thread of the block that is
still running has reached it; a thread that raises aborts the others, whose pending or next
``syncthreads`` raises; the first exception is re-raised with the thread and block in its message
(the simulator's own ``BlockThread.run`` formats it) -- but its threads are a pool reused from block
to block, and they wait on one condition variable instead of being polled.  ``_shared_array`` takes
the caller's (file, line) from its frame, the same key without walking the stack.

tests/conftest.py calls ``install()`` only when the simulator is on; on a GPU nothing changes.
"""
from __future__ import annotations

import sys
import threading

import numpy as np
from numba.cuda.simulator import kernel as _sim
from numba.cuda.simulator import kernelapi as _api

_SimBlockManager = _sim.BlockManager
_sim_shared_array = _api.FakeCUDAShared.array


class _PooledThread(_sim.BlockThread):
    """A simulated CUDA thread that runs one block's function after another."""

    def __init__(self, block_dim: tuple) -> None:
        super().__init__(None, _Block(block_dim), (0, 0, 0), (0, 0, 0), False)
        self._go = threading.Event()

    def assign(self, block: "_Block", target, grid_point, thread_point, thread_id: int) -> None:
        self._manager, self._block_target = block, target
        self.blockIdx, self.threadIdx = _api.Dim3(*grid_point), _api.Dim3(*thread_point)
        self.thread_id = thread_id
        self.exception, self.abort, self.syncthreads_blocked = None, False, False
        self._go.set()

    def run(self) -> None:
        while True:
            self._go.wait()
            self._go.clear()
            # The simulator's BlockThread.run calls (then deletes) _target and records a raised
            # exception, with tid / ctaid in its message, in self.exception.
            self._target, self._args, self._kwargs = self._block_target, (), {}
            try:
                _sim.BlockThread.run(self)
            finally:
                self._manager.thread_done(self)

    def syncthreads(self) -> None:
        self._manager.barrier(self)


class _Block:
    """One block's run: the barrier, the count of threads still running, the first failure."""

    def __init__(self, block_dim: tuple) -> None:
        self._block_dim = block_dim                     # read by syncthreads_count / _and / _or
        self.block_state = np.zeros(block_dim, dtype=np.bool_)
        self.cond = threading.Condition()
        self.threads: list = []
        self.running = 0
        self.arrived = 0
        self.generation = 0
        self.failed = None

    def barrier(self, thread: _PooledThread) -> None:
        with self.cond:
            if thread.abort:
                raise RuntimeError("abort flag set on syncthreads call")
            generation = self.generation
            self.arrived += 1
            self._open_if_all_arrived()
            self.cond.wait_for(lambda: self.generation != generation or thread.abort)
            if thread.abort:
                raise RuntimeError("abort flag set on syncthreads clear")

    def thread_done(self, thread: _PooledThread) -> None:
        with self.cond:
            self.running -= 1
            if thread.exception is not None and self.failed is None:
                self.failed = thread.exception
                for t in self.threads:
                    t.abort = True
            else:
                self._open_if_all_arrived()
            self.cond.notify_all()                      # also wakes run() waiting for the end

    def _open_if_all_arrived(self) -> None:
        if self.running and self.arrived == self.running:
            self.arrived = 0
            self.generation += 1
            self.cond.notify_all()


_pools: dict = {}            # block_dim -> [_PooledThread], one per CUDA thread of such a block
_launch_lock = threading.Lock()


def _pool(block_dim: tuple) -> list:
    threads = _pools.get(block_dim)
    if threads is None:
        threads = [_PooledThread(block_dim) for _ in np.ndindex(*block_dim)]
        for t in threads:
            t.start()
        _pools[block_dim] = threads
    return threads


class PooledBlockManager(_SimBlockManager):
    """The simulator's ``BlockManager`` on a reused thread pool with a blocking barrier."""

    def run(self, grid_point, *args) -> None:
        if self._debug:                                 # the debug wrapper is set per thread
            return _SimBlockManager.run(self, grid_point, *args)

        def target():
            self._f(*args)

        block_dim = tuple(self._block_dim)
        bx, by, _ = (tuple(block_dim) + (1, 1))[:3]
        with _launch_lock:
            block = _Block(block_dim)
            block.threads = _pool(block_dim)
            block.running = len(block.threads)          # counted before any thread starts,
            for t, (x, y, z) in zip(block.threads, np.ndindex(*block_dim)):   # so no barrier
                t.assign(block, target, grid_point, (x, y, z), x + bx * (y + by * z))  # opens early
            with block.cond:
                block.cond.wait_for(lambda: block.running == 0)
        if block.failed is not None:
            raise block.failed[0].with_traceback(block.failed[1])


def _shared_array(self, shape, dtype, alignment=None):
    """FakeCUDAShared.array keyed by the caller's (file, line) from its frame: the simulator's own
    walks the whole stack with traceback.extract_stack for the same key."""
    if alignment is not None or shape == 0:            # its errors and dynamic shared memory
        return _sim_shared_array(self, shape, dtype, alignment)
    if isinstance(dtype, _api.types.Type):             # the simulator's own conversion
        dtype = _api.numpy_support.as_dtype(dtype)
    frame = sys._getframe(1)
    caller = (frame.f_code.co_filename, frame.f_lineno)
    res = self._allocations.get(caller)
    if res is None:
        res = self._allocations.setdefault(caller, np.empty(shape, dtype))
    return res


WRITTEN_FOR = "0.30.4"        # the numba-cuda whose simulator internals this module replaces


def install() -> bool:
    """Make the simulator launch blocks with ``PooledBlockManager`` (it looks the name up per
    launch, in ``FakeCUDAKernel.__call__``) and key shared arrays cheaply.  Only on the
    numba-cuda this was written against: another version keeps its stock simulator (with a
    warning), since the internals patched here may have changed.  Returns whether it installed."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        found = version("numba-cuda")
    except PackageNotFoundError:
        found = None
    if found != WRITTEN_FOR:
        import warnings
        warnings.warn(f"tests/cudasim_barrier.py: written for numba-cuda {WRITTEN_FOR}, found "
                      f"{found}; the stock (slower) CUDA simulator runs", stacklevel=2)
        return False
    _sim.BlockManager = PooledBlockManager
    _api.FakeCUDAShared.array = _shared_array
    return True
