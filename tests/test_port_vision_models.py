"""Fixes found while building tensorgan.vision.models: Inception v3's init runs
``trunc_normal_`` over 27M weights, whose erfinv made ~20 whole-array float64 temporaries
(a 100M-element Linear took minutes and gigabytes); erfinv is now elementwise."""
import math
import tracemalloc

import numpy as np

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.nn.init import _erfinv


def test_erfinv_allocates_only_its_output():
    y = np.random.default_rng(0).uniform(-1, 1, 1 << 20)
    _erfinv(y[:4])                              # compile outside the measurement
    tracemalloc.start()
    try:
        out = _erfinv(y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * y.nbytes, peak           # the float64 output, not a dozen temporaries
    np.testing.assert_allclose(tg.tensor(out).erf().numpy(), y, rtol=1e-14, atol=1e-15)


def test_erfinv_edges_and_trunc_normal_still_in_bounds():
    out = _erfinv(np.array([0.0, -0.0, 1.0, -1.0, 1.5, np.nan, 1 - 1e-16, 5e-324]))
    assert out[0] == 0 and np.signbit(out[1])
    assert out[2] == np.inf and out[3] == -np.inf and np.isnan(out[4]) and np.isnan(out[5])
    assert 5.8 < out[6] < 5.9 and out[7] > 0
    w = tg.empty(256, 1024)
    nn.init.trunc_normal_(w, mean=0.0, std=0.1, a=-0.15, b=0.2, generator=tg.Generator(1))
    a = w.numpy()
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2
    mean = 0.1 * (phi(-1.5) - phi(2.0)) / (cdf(2.0) - cdf(-1.5))        # 0.0083
    assert a.min() >= -0.15 and a.max() <= 0.2 and abs(a.mean() - mean) < 0.001
