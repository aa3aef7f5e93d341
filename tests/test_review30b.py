"""Session 30 review of the CPU kernel changes (h30b: ``unpack_phases`` with a shared padding pass,
the blocked ``gather_phase_weight``, the 1x1 ``pointwise`` path; h30a: the depthwise kernels'
parallel build), as a differential check against the NumPy reference (``kernels/reference``).

* a representative sample of a fuzz run (several thousand geometries, no failure): strides 1-4
  unequal per axis, padding beyond the kernel, output_padding, phases no tap reaches (also
  cropped), tiny planes (1x1, 1xN, Nx1), channel counts that are not multiples of the transpose's
  16 x 16 blocks, forced formulations, one-image chunks, one and two threads;
* both sides of each threshold: ``_pack.POINTWISE_MIN_AREA`` (values as the packed path's; the
  per-image GEMMs bit-identical whatever the threads and chunks) and the depthwise kernels'
  ``PARALLEL_MIN_ELEMENTS`` (serial and parallel builds bit-identical, as their doc claims);
* a child forked after OpenMP's threads started runs depthwise and the new conv paths: no hang,
  the parent's values bit for bit.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time

import numba
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import ShapeError
from tensorgan.kernels import cpu
from tensorgan.kernels import reference as ref
from tensorgan.kernels.cpu import _pack, _threads
from tensorgan.kernels.shapes import conv2d_output_size, conv_transpose2d_output_size

TWO = min(2, numba.config.NUMBA_NUM_THREADS)     # two threads where Numba's pool has them


@pytest.fixture(autouse=True)
def restore_knobs():
    saved = (_pack.COLS_BUDGET, _pack.FORMULATION, _threads.PARALLEL_MIN_ELEMENTS,
             numba.get_num_threads())
    yield
    _pack.COLS_BUDGET, _pack.FORMULATION, _threads.PARALLEL_MIN_ELEMENTS = saved[:3]
    numba.set_num_threads(saved[3])


def _knobs(formulation, one_image_chunks: bool, threads: int) -> None:
    _pack.FORMULATION = formulation
    _pack.COLS_BUDGET = 1 if one_image_chunks else 1 << 20
    _threads.PARALLEL_MIN_ELEMENTS = 0 if one_image_chunks else 1 << 15
    numba.set_num_threads(min(threads, TWO))


# (kind, N, C_in, C_out, (H, W), kernel, stride, padding, output_padding, formulation,
#  one-image chunks, threads) -- drawn from the fuzz run's geometries, each path's corner cases
FUZZ_SAMPLE = [
    # transposed, several stride phases, long rows: the shared padding pass
    ("T", 2, 3, 5, (4, 20), (4, 4), (2, 2), (1, 1), (0, 0), None, False, 2),
    ("T", 3, 17, 19, (3, 18), (5, 3), (3, 2), (4, 0), (2, 1), "input", True, 2),
    ("T", 1, 33, 40, (2, 17), (3, 7), (2, 4), (0, 5), (1, 3), "input", False, 1),
    ("T", 5, 1, 1, (1, 33), (1, 2), (4, 3), (0, 1), (3, 0), "input", True, 2),   # phases no tap reaches
    ("T", 2, 2, 3, (5, 40), (1, 2), (3, 4), (1, 2), (0, 0), None, True, 2),      # and cropped
    ("T", 2, 5, 16, (6, 30), (7, 6), (3, 3), (8, 7), (1, 2), "input", False, 2),  # padding > kernel
    # transposed, short rows (per-phase packs), tiny inputs
    ("T", 3, 4, 2, (1, 1), (3, 3), (2, 3), (0, 1), (1, 2), "input", True, 2),
    ("T", 1, 7, 3, (5, 1), (2, 5), (4, 1), (1, 2), (3, 0), None, False, 1),
    ("T", 2, 3, 8, (3, 3), (1, 1), (3, 3), (1, 1), (0, 0), None, False, 1),      # k 1, stride 3, pad 1
    ("T", 2, 3, 4, (2, 2), (1, 1), (3, 3), (1, 1), (0, 0), "input", True, 2),   # no phase reached
    ("T", 1, 2, 3, (2, 40), (1, 2), (3, 3), (1, 0), (0, 2), None, False, 2),    # nor here
    ("T", 1, 2, 2, (1, 1), (1, 1), (2, 2), (0, 0), (1, 1), "output", False, 1),
    # conv2d (its input gradient is the transposed core with the size pinned)
    ("C", 2, 3, 5, (11, 13), (3, 3), (2, 2), (1, 1), (0, 0), None, True, 2),
    ("C", 3, 17, 33, (9, 23), (4, 2), (3, 4), (2, 1), (0, 0), "input", False, 2),
    ("C", 1, 2, 1, (13, 9), (2, 3), (4, 4), (0, 0), (0, 0), "input", True, 1),   # rows no window reads
    ("C", 2, 4, 3, (7, 7), (7, 7), (1, 1), (9, 8), (0, 0), None, False, 2),     # padding > kernel
    ("C", 5, 1, 7, (1, 90), (1, 5), (1, 3), (0, 6), (0, 0), "input", True, 2),   # 1 x N
    ("C", 2, 3, 2, (70, 1), (6, 1), (2, 1), (5, 0), (0, 0), None, False, 2),     # N x 1
    ("C", 1, 1, 1, (1, 1), (1, 1), (1, 1), (0, 0), (0, 0), None, False, 1),
    ("C", 2, 33, 17, (5, 6), (3, 3), (1, 1), (1, 1), (0, 0), "output", True, 2),
    # 1x1 stride 1 unpadded: both sides of POINTWISE_MIN_AREA
    ("C", 3, 16, 5, (7, 9), (1, 1), (1, 1), (0, 0), (0, 0), None, True, 2),      # 63 pixels
    ("C", 3, 16, 5, (8, 8), (1, 1), (1, 1), (0, 0), (0, 0), None, True, 2),      # 64 pixels
    ("C", 9, 2, 40, (1, 65), (1, 1), (1, 1), (0, 0), (0, 0), None, False, 2),
    ("T", 3, 5, 33, (8, 8), (1, 1), (1, 1), (0, 0), (0, 0), None, True, 2),
    ("T", 2, 17, 3, (64, 1), (1, 1), (1, 1), (0, 0), (0, 0), None, False, 1),
]


def _ops(kind, stride, padding, output_padding, needs):
    if kind == "C":
        return (lambda k, x, w, b: k.conv2d(x, w, b, stride, padding),
                lambda k, x, gy, w: k.conv2d_backward(x, gy, w, stride, padding, needs))
    return (lambda k, x, w, b: k.conv_transpose2d(x, w, b, stride, padding, output_padding),
            lambda k, x, gy, w: k.conv_transpose2d_backward(x, gy, w, stride, padding, needs))


def _output_hw(kind, hw, k, s, p, op):
    if kind == "C":
        return tuple(conv2d_output_size(*a) for a in zip(hw, k, s, p))
    return tuple(conv_transpose2d_output_size(*a) for a in zip(hw, k, s, p, op))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", FUZZ_SAMPLE, ids=lambda c: "-".join(map(str, c[:9])))
def test_cpu_kernels_match_the_reference_on_the_fuzz_sample(case, dtype):
    kind, n, ci, co, hw, k, s, p, op, formulation, one_image_chunks, threads = case
    oh, ow = _output_hw(kind, hw, k, s, p, op)
    rng = np.random.default_rng(sum(hw) * 31 + ci)
    x = rng.standard_normal((n, ci) + hw)
    w = rng.standard_normal(((co, ci) if kind == "C" else (ci, co)) + k)
    b = rng.standard_normal(co)
    gy = rng.standard_normal((n, co, oh, ow))
    tol = 1e-12 if dtype == np.float64 else 3e-6
    for needs in ((True, True, True), (True, False, False), (False, True, True)):
        forward, backward = _ops(kind, s, p, op, needs)
        _knobs(formulation, one_image_chunks, threads)
        got = [forward(cpu, *(a.astype(dtype) for a in (x, w, b)))]
        got += backward(cpu, *(a.astype(dtype) for a in (x, gy, w)))
        want = [forward(ref, x, w, b)] + list(backward(ref, x, gy, w))
        # each result's error against the sum of its terms' magnitudes (the rounding bound)
        bound = [forward(ref, abs(x), abs(w), abs(b))] + list(backward(ref, abs(x), abs(gy), abs(w)))
        for name, g, r, m in zip(("y", "gx", "gw", "gb"), got, want, bound):
            assert (g is None) == (r is None), name
            if r is not None:
                assert g.dtype == dtype and g.shape == r.shape, name
                assert np.all(np.abs(g - r) <= tol * (np.abs(m) + 1e-300)), (name, needs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hw", [(7, 9), (8, 8), (1, 63), (1, 64), (64, 1), (9, 9)])
def test_pointwise_threshold_both_sides_agree(hw, dtype):
    """1x1 convolutions just below / at / above 64 pixels: the default path (pointwise from 64 up)
    gives the packed path's values; pointwise is one GEMM per image, so its results do not depend
    on the thread count or the chunking (bit for bit)."""
    rng = np.random.default_rng(hw[0] * 100 + hw[1])
    x = rng.standard_normal((5, 12) + hw).astype(dtype)
    w = rng.standard_normal((7, 12, 1, 1)).astype(dtype)
    wt = rng.standard_normal((12, 7, 1, 1)).astype(dtype)
    b = rng.standard_normal(7).astype(dtype)
    gy = rng.standard_normal((5, 7) + hw).astype(dtype)

    def run():
        return [cpu.conv2d(x, w, b, (1, 1), (0, 0)),
                cpu.conv2d_backward(x, gy, w, (1, 1), (0, 0), (True, False, False))[0],
                cpu.conv_transpose2d(x, wt, b, (1, 1), (0, 0), (0, 0))]

    _knobs("input", False, 1)
    packed = run()
    results = []
    for one_image_chunks, threads in ((False, 1), (True, 2), (False, 2)):
        _knobs(None, one_image_chunks, threads)
        results.append(run())
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for got, want in zip(results[0], packed):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
    if hw[0] * hw[1] >= _pack.POINTWISE_MIN_AREA:
        for other in results[1:]:
            assert all(a.tobytes() == c.tobytes() for a, c in zip(results[0], other))


def _depthwise_results(x, w, g, channels):
    a, wa = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
    y = F.conv2d(a, wa, None, 1, 1, 1, channels)
    y.backward(tg.tensor(g))
    return [y.detach().numpy(), a.grad.numpy(), wa.grad.numpy()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("side", [21, 22])     # 8*21*21*9 = 31752 < 2**15 <= 8*22*22*9 = 34848
def test_depthwise_threshold_both_sides_bit_identical(side, dtype):
    """Just below / above ``PARALLEL_MIN_ELEMENTS`` multiply-adds, one or two threads, and the
    parallel build forced at any size: every result bit for bit the serial build's."""
    rng = np.random.default_rng(side)
    x = rng.standard_normal((1, 8, side, side)).astype(dtype)
    w = rng.standard_normal((8, 1, 3, 3)).astype(dtype)
    g = rng.standard_normal((1, 8, side, side)).astype(dtype)
    numba.set_num_threads(1)
    serial = _depthwise_results(x, w, g, 8)
    numba.set_num_threads(TWO)
    default = _depthwise_results(x, w, g, 8)
    _threads.PARALLEL_MIN_ELEMENTS = 0
    forced = _depthwise_results(x, w, g, 8)
    for a, b, c in zip(serial, default, forced):
        assert a.tobytes() == b.tobytes() == c.tobytes()


def _fork_workload() -> str:
    """A hash of depthwise (above the parallel threshold), pointwise and strided transposed
    convolutions with their gradients."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 16, 24, 24)).astype(np.float32)
    cases = [(lambda a, w: F.conv2d(a, w, None, 1, 1, 1, 16), (32, 1, 3, 3)),
             (lambda a, w: F.conv2d(a, w), (8, 16, 1, 1)),
             (lambda a, w: F.conv_transpose2d(a, w, None, 2, 1), (16, 8, 4, 4)),
             (lambda a, w: F.conv_transpose2d(a, w, None, (3, 2), (1, 2), (1, 0)), (16, 8, 5, 3))]
    digest = hashlib.sha256()
    for conv, wshape in cases:
        a = tg.tensor(x, requires_grad=True)
        wa = tg.tensor(rng.standard_normal(wshape).astype(np.float32), requires_grad=True)
        y = conv(a, wa)
        y.sum().backward()
        for out in (y.detach().numpy(), a.grad.numpy(), wa.grad.numpy()):
            digest.update(np.ascontiguousarray(out).tobytes())
    return digest.hexdigest()


def _in_forked_child(fn, timeout: float = 120.0) -> str:
    """fn()'s string, computed in a forked child (killed, and the test failed, if it hangs)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:                     # the child: its result through the pipe, then out at once
        try:
            os.write(write_end, str(fn()).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.02)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(read_end)
        pytest.fail("the forked child hung")
    with os.fdopen(read_end, "rb") as pipe:
        result = pipe.read().decode()
    assert os.waitstatus_to_exitcode(status) == 0
    return result


needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@needs_fork
def test_child_forked_after_openmp_started_runs_the_new_paths():
    numba.set_num_threads(TWO)
    parent = _fork_workload()        # starts OpenMP's threads (the depthwise parallel build)
    assert _in_forked_child(_fork_workload) == parent


class _FakeBlas:
    """A BLAS library controller as ``_workers`` uses it (threadpoolctl's lib_controllers)."""

    def __init__(self, threads: int):
        self.num_threads = threads

    def set_num_threads(self, threads: int) -> None:
        self.num_threads = threads


@needs_fork
def test_child_forked_while_another_thread_is_inside_a_kernel_call(monkeypatch):
    """A fork while another thread held ``_workers._lock`` (entering or leaving a kernel call's
    single-threaded-BLAS scope) left the child's copy locked: its first convolution blocked
    forever (16 of 200 forks beside a thread running convolutions).  And that thread's hold on
    the BLAS thread limit must not outlive it in the child: the child's kernel call restores the
    user's count on its way out."""
    from tensorgan.kernels.cpu import _workers
    blas = _FakeBlas(3)
    monkeypatch.setattr(_workers, "_blas", [blas])
    inside, leave = threading.Event(), threading.Event()

    def hold_the_limit():
        with _workers.single_threaded_blas():     # the limit set: blas at 1 thread
            inside.set()
            leave.wait(60)

    holder = threading.Thread(target=hold_the_limit)
    holder.start()
    inside.wait(60)
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 9))
    w = np.random.default_rng(1).standard_normal((4, 3, 3, 3))
    want = cpu.conv2d(x, w, None, (1, 1), (1, 1))

    def child():
        same = np.array_equal(cpu.conv2d(x, w, None, (1, 1), (1, 1)), want)
        return f"{same} {blas.num_threads}"

    try:
        assert blas.num_threads == 1
        with _workers._lock:           # forked while the lock is held (another thread's entry)
            result = _in_forked_child(child, timeout=60)
    finally:
        leave.set()
        holder.join(60)
    assert result == "True 3"
    assert blas.num_threads == 3 and _workers._blas_holders == 0


def test_transposed_conv_to_an_empty_output_is_empty_as_torch():
    """torch allows an output size of exactly 0 for transposed convs ((3, 8, 0, 29) here) and
    refuses only negative ones; tensorgan refused 0 too (h30l)."""
    x = tg.randn(3, 2, 1, 17, requires_grad=True)
    w = tg.randn(2, 4, 3, 1, requires_grad=True)
    b = tg.randn(8, requires_grad=True)
    y = F.conv_transpose2d(x, w, b, (3, 2), (2, 2), (1, 0), 2)
    assert y.shape == (3, 8, 0, 29)
    y.sum().backward()
    assert not x.grad.numpy().any() and not w.grad.numpy().any() and not b.grad.numpy().any()
    x3 = tg.randn(1, 2, 1, 2, 2, requires_grad=True)
    y3 = F.conv_transpose3d(x3, tg.randn(2, 3, 2, 1, 1), None, 1, (1, 0, 0))
    assert y3.shape == (1, 3, 0, 2, 2)
    with pytest.raises(ShapeError, match="output size -1 < 0"):
        F.conv_transpose2d(tg.zeros(1, 2, 1, 1), tg.zeros(2, 4, 1, 1), None, 1, 1)
