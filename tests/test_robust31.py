"""Session 31 robustness: a fork while another thread is inside Numba's compiler (tensorgan's
_fork_safety) -- the child's first kernel call must not hang; and the long user-facing functions
split into named steps (Trainer.load_state_dict, LBFGS.step) stay short.  The splits were checked
against the functions before them on a few hundred calls each (identical results and errors).

Each scenario runs in a fresh interpreter (a subprocess under a timeout: a hang fails the test,
never the run), where the child itself is watched by its parent under a shorter one.
"""
from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

# A thread holds one of Numba's locks (as a compile / cache load / threading-layer start in
# progress does) for a moment while the main thread forks; the child then starts the threading
# layer and compiles a new function, which need those locks.  Without the fork handlers the child
# blocked on the copy held by a thread it does not have.
_SCENARIO = textwrap.dedent("""
    import os, sys, threading, time
    import numba
    import tensorgan  # noqa: F401  (registers the fork handlers)
    from numba.core.compiler_lock import global_compiler_lock
    from numba.np.ufunc import parallel
    from llvmlite.binding import ffi

    numba.njit(lambda a: a + 1)(1)          # the compiler set up before the timed part
    locks = {"compiler": global_compiler_lock._lock, "llvm": ffi.lib._lock._lock,
             "threading layer": parallel._backend_init_thread_lock}


    def hold_a_moment(lock, held):
        with lock:
            held.set()
            time.sleep(0.2)


    def fork_beside(lock):
        held = threading.Event()
        threading.Thread(target=hold_a_moment, args=(lock, held)).start()
        held.wait()
        pid = os.fork()
        if pid == 0:
            parallel._launch_threads()          # (a no-op unless the layer's start was cut off)
            os._exit(0 if numba.njit(lambda a: a * 3)(2) == 6 else 1)
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.02)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        return "hung"


    results = {name: fork_beside(lock) for name, lock in locks.items()}
    print(results)
    sys.exit(0 if set(results.values()) == {0} else 3)
""")


def _run(program: str = _SCENARIO) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    try:
        return subprocess.run([sys.executable, "-c", program], capture_output=True,
                              text=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("the forking process hung")


@needs_fork
def test_a_child_forked_while_another_thread_holds_a_numba_lock_compiles():
    proc = _run()
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_fork
def test_a_fork_after_numba_loaded_imports_numpy_ma_first():
    """Numba's typeof imports numpy.ma lazily, outside its locks; a child forked while another
    thread was importing it blocked on that module's import lock (2 of ~12 forks beside a thread
    making its first kernel calls).  The fork handler imports it first."""
    program = textwrap.dedent("""
        import os, sys
        import numba  # noqa: F401
        import tensorgan  # noqa: F401
        assert "numpy.ma" not in sys.modules, "numpy.ma already imported: nothing to check"
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        sys.exit(0 if "numpy.ma" in sys.modules else 4)
    """)
    proc = _run(program=program)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_fork
def test_fork_handlers_leave_no_lock_held():
    """After forks the parent and the child can take every lock again from another thread (the
    handlers released what they took in both)."""
    program = textwrap.dedent("""
        import os, sys, threading
        import numba
        import tensorgan  # noqa: F401
        from numba.core.compiler_lock import global_compiler_lock
        from llvmlite.binding import ffi
        numba.njit(lambda a: a)(1)
        locks = [global_compiler_lock._lock, ffi.lib._lock._lock]

        def free_elsewhere():
            out = []
            t = threading.Thread(target=lambda: out.extend(
                lock.acquire(timeout=5) and (lock.release() or True) for lock in locks))
            t.start(); t.join()
            return all(out)

        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                os._exit(0 if free_elsewhere() else 1)
            assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0, "child"
        sys.exit(0 if free_elsewhere() else 5)
    """)
    proc = _run(program=program)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- the functions split in session 31 stay short -----------------------------------------------
def _length(function) -> int:
    node = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    return node.end_lineno - node.lineno + 1


def test_trainer_load_state_dict_stays_short():
    from tensorgan.train import Trainer
    assert _length(Trainer.load_state_dict) <= 40


def test_lbfgs_step_stays_short():
    import tensorgan as tg
    assert _length(tg.optim.LBFGS.step) <= 40


def test_interpolate_stays_short():
    import tensorgan.nn.functional as F
    assert _length(F.interpolate) <= 60


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic", "area"])
@pytest.mark.parametrize("shape", [(1, 1, 0, 3), (2, 3, 4, 0)])
def test_interpolate_refuses_an_empty_spatial_dim(mode, shape):
    """torch: "Input and output sizes should be greater than 0" (a RuntimeError); was a
    ZeroDivisionError (nearest), an IndexError (bilinear) or an output from nothing (area)."""
    import tensorgan as tg
    import tensorgan.nn.functional as F
    from tensorgan.errors import ShapeError
    with pytest.raises(ShapeError, match=r"empty spatial dim") as info:
        F.interpolate(tg.zeros(*shape), size=(4, 4), mode=mode)
    assert isinstance(info.value, RuntimeError)
    # an empty batch dim stays an empty result (an empty channel dim: see test_review31b.py)
    assert F.interpolate(tg.zeros(0, 2, 3, 3), size=4, mode=mode).shape == (0, 2, 4, 4)
