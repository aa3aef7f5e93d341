"""Per-call overheads in the CPU kernels' Python glue (session 31): the thread count read straight
from Numba's threading layer (never cached: a change between calls is seen), per-thread scratch
and small-call state without getattr defaults, and the flipped weight gradient transposed in
tiles -- every result bit-identical to the plain NumPy transpose."""
import os
import subprocess
import sys
import textwrap
import threading

import numba
import numpy as np
import pytest

from tensorgan.kernels import cpu
from tensorgan.kernels.cpu import _pack, _threads, _workers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("shape", [(2048, 256), (531, 517), (40, 7000), (3, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transposed_copy_is_numpys_transpose(shape, dtype):
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    out = _pack.transposed_copy(a)
    assert out.flags.c_contiguous and not np.shares_memory(out, a) and out.dtype == dtype
    np.testing.assert_array_equal(out, np.ascontiguousarray(a.T))


def test_transposed_copy_of_a_view_or_other_dtype_falls_back_to_numpy():
    a = np.arange(600 * 600, dtype=np.float32).reshape(600, 600)
    for src in (a[:, ::2], a.astype(np.int32)):
        np.testing.assert_array_equal(_pack.transposed_copy(src), np.ascontiguousarray(src.T))


def _flipped_weight_gradients():
    """The weight gradients of a transposed conv (shared backward) and a strided conv whose
    flipped (B @ A.T) products reach the tiled transpose: 256 x 1024 and 1024 x 256 elements."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 256, 4, 4)).astype(np.float32)
    w = (rng.standard_normal((256, 64, 4, 4)) * 0.05).astype(np.float32)
    gy = rng.standard_normal((2, 64, 8, 8)).astype(np.float32)
    gt = cpu.conv_transpose2d_backward(x, gy, w, (2, 2), (1, 1), (True, True, True))[1]
    xd = rng.standard_normal((2, 64, 8, 8)).astype(np.float32)
    wd = (rng.standard_normal((256, 64, 4, 4)) * 0.05).astype(np.float32)
    gyd = rng.standard_normal((2, 256, 4, 4)).astype(np.float32)
    gd = cpu.conv2d_backward(xd, gyd, wd, (2, 2), (1, 1), (True, True, True))[1]
    return gt, gd


def test_tiled_weight_gradients_are_bit_identical_to_numpys_transpose(monkeypatch):
    monkeypatch.setattr(_pack, "FLIP_MIN_REDUCTION", 0)         # flip at this small batch too
    tiled = _flipped_weight_gradients()
    monkeypatch.setattr(_pack, "TILED_TRANSPOSE_MIN_ELEMENTS", 1 << 62)
    plain = _flipped_weight_gradients()
    for a, b in zip(tiled, plain):
        assert a.flags.c_contiguous and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_thread_count_is_numbas_in_every_thread():
    assert _threads.numba_threads() == numba.get_num_threads() == _threads.kernel_threads()
    seen = []
    t = threading.Thread(target=lambda: seen.append((_threads.numba_threads(), numba.get_num_threads(),
                                                      _threads._small_call.active)))
    t.start()
    t.join()
    assert seen == [(numba.get_num_threads(), numba.get_num_threads(), False)]


def test_a_replaced_numba_get_num_threads_is_asked(monkeypatch):
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    assert _threads.numba_threads() == 2 and _threads.kernel_threads() == 2


def test_scratch_buffers_are_per_thread():
    mine = _workers.scratch("overhead31", (4,), np.float32)
    theirs = []
    t = threading.Thread(target=lambda: theirs.append(_workers.scratch("overhead31", (4,), np.float32)))
    t.start()
    t.join()
    assert not np.shares_memory(mine, theirs[0])
    assert np.shares_memory(mine, _workers.scratch("overhead31", (2, 2), np.float32))


_THREAD_CHANGES = textwrap.dedent("""
    import numba, numpy as np, tensorgan as tg
    from tensorgan.kernels import cpu
    from tensorgan.kernels.cpu import _pack, _threads
    x = np.random.default_rng(0).standard_normal((8, 16, 16, 16)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((32, 16, 3, 3)).astype(np.float32)

    def threads_used():
        with _pack.record_gemms() as per_thread:
            y = cpu.conv2d(x, w, None, (1, 1), (1, 1))
        return _threads.kernel_threads(), len(per_thread), y

    seen, ys = [], []
    for setter, n in ((tg.set_num_threads, 1), (tg.set_num_threads, 2),
                      (numba.set_num_threads, 1), (numba.set_num_threads, 2)):
        setter(n)
        k, used, y = threads_used()
        seen.append((n, k, used, tg.get_num_threads()))
        ys.append(y)
    assert seen == [(1, 1, 1, 1), (2, 2, 2, 2), (1, 1, 1, 1), (2, 2, 2, 2)], seen
    assert np.array_equal(ys[0], ys[2]) and np.array_equal(ys[1], ys[3])
    print("ok")
""")


def test_thread_count_changes_between_calls_are_honoured():
    """set 1, call, set 2, call (tg's and Numba's setters): the kernels split across what was set
    last -- no stale cached count; the same count gives the same result."""
    env = dict(os.environ, NUMBA_NUM_THREADS="2", PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-c", _THREAD_CHANGES], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_sum_in_order_adds_in_thread_order_into_the_first_partial():
    parts = [np.array([1e8], np.float32), np.array([1.0], np.float32), np.array([-1e8], np.float32)]
    first = parts[0]
    total = _workers.sum_in_order(parts)
    assert total is first and total[0] == (np.float32(1e8) + np.float32(1.0)) - np.float32(1e8)
    pairs = _workers.sum_in_order([(np.ones(2), np.ones(1)), None, (np.ones(2), np.full(1, 2.0))])
    assert pairs[0].tolist() == [2.0, 2.0] and pairs[1].tolist() == [3.0]
