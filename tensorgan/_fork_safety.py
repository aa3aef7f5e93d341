"""Fork safety for Numba: no fork while another thread is inside Numba's compiler.

Numba compiles a kernel -- or loads it from its on-disk cache -- at the kernel's first call, under
its global compiler lock (and llvmlite's LLVM API lock inside it).  A fork while another thread
holds one of them (a DataLoader with fork workers, ``multiprocessing``, ``os.fork``, while a thread
makes its first convolution) copies the lock held by a thread the child does not have: the
child's first kernel call needing a compile or a cache load then blocks forever (seen in 58 of 61
and 224 of 226 forks beside a thread making its first kernel calls).  Giving the child fresh locks
would not do: the compile that the other thread was half-way through may have left Numba's and
LLVM's state half-updated.  So a fork takes the locks first -- waiting for a compile in progress
to finish -- and both processes release them after it (the forking thread owns them in the child
too), as glibc does with malloc's locks.  Numba's threading-layer start-up lock is taken too (a
parallel kernel's first call starts the layer's threads under it; a child forked half-way
through would block on it), and numpy.ma, which Numba imports lazily outside those locks, is
imported first (a module being imported by another thread at the fork leaves the child its
import lock held).

Only modules already imported are touched (a fork before Numba is loaded costs nothing), and
``subprocess`` does not run these handlers.  Lock order: compiler, threading layer, LLVM -- the
order in which Numba nests them (a parallel compile starts the threading layer, both call LLVM).
"""
from __future__ import annotations

import importlib
import os
import sys

_held: list = []     # the locks this fork took, released after it in parent and child


def _numba_locks() -> list:
    """The raw locks to hold across a fork, of the modules already imported, in nesting order."""
    compiler = sys.modules.get("numba.core.compiler_lock")
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    ffi = sys.modules.get("llvmlite.binding.ffi")
    locks = (_attribute(compiler, "global_compiler_lock", "_lock"),    # (private names: a Numba
             _attribute(parallel, "_backend_init_thread_lock"),         # that renames them goes
             _attribute(ffi, "lib", "_lock", "_lock"))                  # unguarded, not broken)
    return [lock for lock in locks if lock is not None]


def _attribute(obj, *names: str):
    for name in names:
        obj = getattr(obj, name, None)
    return obj


def _take_before_fork() -> None:
    if "numba.core.typing.typeof" in sys.modules:
        # Numba's typeof of an ndarray imports numpy.ma at the first call (NumPy 2 loads it
        # lazily), outside the compiler lock: a child forked mid-import blocks on that module's
        # import lock.  An import waits for an import in progress in another thread (and costs
        # a dict lookup once done).
        importlib.import_module("numpy.ma")
    for lock in _numba_locks():
        lock.acquire()
        _held.append(lock)


def _release_after_fork() -> None:
    while _held:
        _held.pop().release()


os.register_at_fork(before=_take_before_fork, after_in_parent=_release_after_fork,
                    after_in_child=_release_after_fork)
