"""Helpers shared by the CUDA kernel tests (under the simulator or on a GPU): float32 device
arrays in, host arrays out, and a closeness check scaled to the expected values."""
import numpy as np

from tensorgan.kernels.cuda import _launch

xp = _launch.xp()


def dev(a):
    return None if a is None else xp.asarray(np.ascontiguousarray(a, dtype=np.float32))


def host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def f64(a):
    return None if a is None else np.asarray(a, dtype=np.float64)


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def assert_close(got, want, rtol=1e-4):
    """float32 ``got`` of ``want``'s shape, within rtol, plus an absolute slack of rtol times the
    largest |want| (float32 sums of many terms lose digits relative to the largest term)."""
    got = host(got)
    assert got.dtype == np.float32 and got.shape == want.shape
    scale = float(np.nanmax(np.abs(want))) if want.size else 0.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * (1.0 + scale))
