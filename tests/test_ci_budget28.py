"""The suite's faster CUDA-simulator block runner (tests/cudasim_barrier.py) keeps the simulator's
semantics: each kernel here runs under the simulator's own BlockManager and under the pooled one,
and both must give the same, correct, result."""
from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") != "1",
                                reason="the pooled runner is installed only with the CUDA simulator")

if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    from numba import cuda
    from numba.cuda.simulator import kernel as sim_kernel

    import cudasim_barrier

    @cuda.jit
    def _late_writer(out):
        # The last thread writes the shared value after the others reached the barrier; odd
        # threads of the second half have left the kernel before it (they no longer count).
        s = cuda.shared.array(1, np.float32)
        t = cuda.threadIdx.x
        if t >= cuda.blockDim.x // 2 and t % 2 == 1 and t != cuda.blockDim.x - 1:
            return
        if t == cuda.blockDim.x - 1:
            acc = 0.0
            for i in range(200):        # Python work: the other threads run to the barrier first
                acc += i
            s[0] = acc + cuda.blockIdx.x
        cuda.syncthreads()
        out[cuda.blockIdx.x, t] = s[0]

    @cuda.jit
    def _tree_sum(x, out):
        # Two shared arrays on two lines: separate allocations; a reduction with 8 barriers.
        a = cuda.shared.array(256, np.float32)
        b = cuda.shared.array(256, np.float32)
        t = cuda.threadIdx.x
        a[t] = x[cuda.blockIdx.x, t]
        b[t] = -1.0
        cuda.syncthreads()
        m = 128
        while m > 0:
            if t < m:
                a[t] += a[t + m]
            cuda.syncthreads()
            m //= 2
        if t == 0:
            out[cuda.blockIdx.x, 0] = a[0]
            out[cuda.blockIdx.x, 1] = b[5]

    @cuda.jit
    def _votes(out):
        t = cuda.threadIdx.x
        out[0] = cuda.syncthreads_count(t % 3 == 0)
        out[1] = cuda.syncthreads_and(t < 100)
        out[2] = cuda.syncthreads_or(t == 63)

    @cuda.jit
    def _indices(out):
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        bx, by = cuda.blockIdx.x, cuda.blockIdx.y
        out[by, bx, ty, tx, 0] = cuda.grid(2)[0]
        out[by, bx, ty, tx, 1] = cuda.grid(2)[1]
        out[by, bx, ty, tx, 2] = cuda.laneid

    @cuda.jit
    def _raises_in_one_thread(x):
        t = cuda.threadIdx.x
        if t == 37:
            x[1000] = 1.0                # out of bounds: IndexError in this thread only
        cuda.syncthreads()
        x[t] = t


@contextmanager
def _simulator_block_manager():
    """The simulator's own (polling) BlockManager for the body."""
    saved = sim_kernel.BlockManager
    sim_kernel.BlockManager = cudasim_barrier.PooledBlockManager.__mro__[1]
    try:
        yield
    finally:
        sim_kernel.BlockManager = saved


def _both(launch):
    with _simulator_block_manager():
        theirs = launch()
    ours = launch()
    return theirs, ours


@pytest.mark.skipif(bool(os.environ.get("TENSORGAN_STOCK_CUDASIM")),
                    reason="TENSORGAN_STOCK_CUDASIM=1 asks for the stock simulator")
def test_the_pooled_runner_is_installed_under_the_simulator():
    assert sim_kernel.BlockManager is cudasim_barrier.PooledBlockManager


def test_a_barrier_waits_for_every_running_thread_and_not_for_finished_ones():
    def launch():
        out = np.full((3, 64), np.nan, np.float32)
        _late_writer[3, 64](out)
        return out
    theirs, ours = _both(launch)
    want = sum(range(200)) + np.arange(3, dtype=np.float32)[:, None]
    ran = np.ones(64, bool)
    ran[33:63:2] = False                # the threads that returned early wrote nothing
    np.testing.assert_array_equal(ours[:, ran], np.broadcast_to(want, (3, 64))[:, ran])
    assert np.isnan(ours[:, ~ran]).all()
    np.testing.assert_array_equal(ours, theirs)


def test_shared_arrays_on_two_lines_are_two_allocations_and_reductions_agree():
    x = np.random.default_rng(0).standard_normal((2, 256)).astype(np.float32)

    def launch():
        out = np.zeros((2, 2), np.float32)
        _tree_sum[2, 256](x, out)
        return out
    theirs, ours = _both(launch)
    np.testing.assert_allclose(ours[:, 0], x.astype(np.float64).sum(axis=1), rtol=1e-5)
    np.testing.assert_array_equal(ours[:, 1], -1.0)
    np.testing.assert_array_equal(ours, theirs)


def test_block_votes():
    def launch():
        out = np.zeros(3, np.int64)
        _votes[1, 128](out)
        return out
    theirs, ours = _both(launch)
    assert list(ours) == [43, 0, 1]
    np.testing.assert_array_equal(ours, theirs)


def test_two_dimensional_blocks_get_their_indices_and_lanes():
    def launch():
        out = np.zeros((2, 3, 4, 8, 3), np.int64)
        _indices[(3, 2), (8, 4)](out)
        return out
    theirs, ours = _both(launch)
    by, bx, ty, tx = np.meshgrid(np.arange(2), np.arange(3), np.arange(4), np.arange(8), indexing="ij")
    np.testing.assert_array_equal(ours[..., 0], bx * 8 + tx)
    np.testing.assert_array_equal(ours[..., 1], by * 4 + ty)
    np.testing.assert_array_equal(ours[..., 2], (ty * 8 + tx) % 32)
    np.testing.assert_array_equal(ours, theirs)


def test_an_exception_in_one_thread_names_it_and_the_pool_runs_on():
    for _ in range(2):                  # the same block size again: the pool after a failure
        with pytest.raises(IndexError, match=r"tid=\[37, 0, 0\] ctaid=\[0, 0, 0\]"):
            _raises_in_one_thread[2, 64](np.zeros(64, np.float32))
    out = np.zeros((1, 64), np.float32)
    _late_writer[1, 64](out)            # 64-thread blocks again, on the pool that failed
    assert out[0, 0] == out[0, 63] == sum(range(200))


# ------------------------------------------------------------------ gradcheck's numeric pass
def _gradcheck_module():
    import importlib
    return importlib.import_module("tensorgan.gradcheck")


def test_gradcheck_runs_fn_twice_per_element_for_all_projections():
    import tensorgan as tg
    calls = []

    def cube(x):
        calls.append(1)
        return x * x * x
    x = tg.tensor(np.linspace(-1.0, 1.0, 5), dtype=tg.float64, requires_grad=True)
    assert tg.gradcheck(cube, [x], projections=3)
    # 1 probe (torch's calling forms) + 3 projections' forwards + 2 per element for all three
    assert len(calls) == 1 + 3 + 2 * 5


class _RightOnceThenDoubled:
    """d(x^2)/dx from a backward that is right on its first call and twice too large after."""
    backward_calls = 0

    @classmethod
    def function(cls):
        import tensorgan as tg
        cls.backward_calls = 0

        class Square(tg.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                cls.backward_calls += 1
                return g * 2 * x * (1 if cls.backward_calls == 1 else 2)
        return Square


def test_each_projection_is_compared_with_its_own_numeric_gradient():
    import tensorgan as tg
    square = _RightOnceThenDoubled.function()
    x = tg.tensor([0.5, -1.5, 2.0], dtype=tg.float64, requires_grad=True)
    with pytest.raises(_gradcheck_module().GradcheckError, match=r"input 0 \(shape \(3,\)\)"):
        tg.gradcheck(square.apply, [x], projections=2)
    assert _RightOnceThenDoubled.backward_calls == 2         # the first projection passed


def test_numeric_vjps_equal_one_projection_at_a_time():
    import tensorgan as tg
    gc = _gradcheck_module()
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((3, 4)), dtype=tg.float64, requires_grad=True)
    z = tg.tensor(rng.standard_normal(5) + 1j * rng.standard_normal(5), dtype=tg.complex128,
                  requires_grad=True)
    for fn, inp in [(lambda a: (a.sin() * a).sum(dim=1), x), (lambda a: a * a.exp(), z)]:
        vs = [gc._random(rng, fn(inp).shape, fn(inp).dtype) for _ in range(3)]
        together = gc._numeric_vjps(fn, [inp], 0, vs, 1e-6)
        for v, got in zip(vs, together):
            alone, = gc._numeric_vjps(fn, [inp], 0, [v], 1e-6)
            np.testing.assert_array_equal(got, alone)
        eps = 1e-6      # the definition, element by element, for the first v
        want = np.zeros(inp.shape, dtype=inp.dtype)
        data = inp.array
        for at in np.ndindex(inp.shape):
            for step in ((1.0, 1j) if data.dtype.kind == "c" else (1.0,)):
                orig = data[at].item()
                data[at] = orig + eps * step
                plus = float((fn(inp).array * vs[0].conjugate()).real.sum())
                data[at] = orig - eps * step
                minus = float((fn(inp).array * vs[0].conjugate()).real.sum())
                data[at] = orig
                want[at] += step * (plus - minus) / (2 * eps)
        np.testing.assert_array_equal(together[0], want)
