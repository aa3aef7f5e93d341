"""The per-channel CUDA reductions split over several blocks a channel (kernels/cuda/reductions.py:
channel_sum_split / bn_stats_split / bn_backward_split and their folds): the glue's split
rule, the partial sums of awkward splits (a partial last split, N*H*W = 1, 2) against the float64
reference, Chan's combination of the splits' variances far from zero mean, and bit-for-bit
reproducibility.

Without a GPU the kernels run in Numba's CUDA simulator (tests/conftest.py), one Python thread per
CUDA thread: the shapes are small, and ``forced_split`` lowers the rule's thresholds so that they
split.
"""
from __future__ import annotations

import numpy as np
import pytest

from tensorgan.kernels import cuda as kc
from tensorgan.kernels import reference as ref

from cuda_arrays import assert_close, check_batch_norm_leaky_relu, dev, f64, host, rand

SPLIT_BN = ["bn_stats_split_kernel", "bn_stats_fold_kernel", "bn_backward_split_kernel",
            "bn_backward_fold_kernel"]


@pytest.fixture
def launched(monkeypatch):
    """The reduction kernels the glue launches, by name, in order (element-wise passes left out)."""
    names = []
    real = kc._run

    def spy(kernel, *args):
        name = kernel.py_func.__name__
        if "normalize" not in name and "input" not in name:
            names.append(name)
        real(kernel, *args)
    monkeypatch.setattr(kc, "_run", spy)
    return names


def forced_split(monkeypatch, min_values=1, align=1, target=64):
    """Split channels of a few values: the per-channel kernels (not the rows kernels) for every
    shape, a split of ``min_values`` or more values, chunks rounded to ``align``."""
    monkeypatch.setattr(kc, "_ROWS_MAX_BATCH", 0)
    monkeypatch.setattr(kc, "_ROWS_MIN_CHANNELS", 2 ** 40)
    monkeypatch.setattr(kc, "_BIAS_ROWS_MAX_HW", 0)
    monkeypatch.setattr(kc, "_SPLIT_MIN_VALUES", min_values)
    monkeypatch.setattr(kc, "_SPLIT_ALIGN", align)
    monkeypatch.setattr(kc, "_SPLIT_TARGET_BLOCKS", target)


# ------------------------------------------------------------------------------------ the rule
@pytest.mark.parametrize("c, count, want", [
    (64, 64 * 28 * 28, (9, 5632)),     # G's 128 -> 64 output at batch 64: 576 blocks
    (128, 64 * 14 * 14, (5, 2560)),    # 640 blocks
    (128, 64 * 7 * 7, (1, 3136)),      # 3136 values: under two splits of 2048, single pass
    (1, 64 * 28 * 28, (22, 2304)),     # a 1-channel bias gradient: 22 blocks, not 1
    (528, 10 ** 6, (1, 10 ** 6)),      # C fills 4 blocks an SM already
    (264, 4096, (2, 2048)),
])
def test_split_rule(c, count, want):
    assert kc._channel_split(c, count) == want


def test_split_rule_leaves_no_split_empty():
    for c in (1, 3, 64, 100, 263, 527):
        for count in (1, 2, 4095, 4096, 4097, 6000, 50176, 123457, 2 ** 31 - 1):
            splits, chunk = kc._channel_split(c, count)
            assert (splits - 1) * chunk < count <= splits * chunk
            assert splits == 1 or (chunk % kc._SPLIT_ALIGN == 0 and chunk >= kc._SPLIT_MIN_VALUES)
            assert c * splits < kc._SPLIT_TARGET_BLOCKS + c


# ------------------------------------------------------------------- partial sums, awkward splits
@pytest.mark.parametrize("shape, align, target, splits", [
    ((1, 2, 1, 2), 1, 4, 2),       # N*H*W = 2: a value a split
    ((3, 2, 1, 7), 1, 8, 4),       # 21 values in chunks of 6: the last split holds 3
    ((2, 2, 11, 13), 32, 6, 3),    # 286 values in chunks of 96 (whole warps): the last holds 94
])
def test_split_bias_gradient(shape, align, target, splits, monkeypatch, launched):
    forced_split(monkeypatch, align=align, target=target)
    n, c, h, w = shape
    assert kc._channel_split(c, n * h * w)[0] == splits
    gy = rand(np.random.default_rng(1), *shape)
    assert_close(kc.conv2d_grad_bias(dev(gy)), ref.conv2d_grad_bias(f64(gy)))
    assert launched == ["channel_sum_split_kernel", "channel_sum_fold_kernel"]


@pytest.mark.parametrize("shape, slope", [
    ((1, 2, 1, 2), 0.2),        # N*H*W = 2: each split a single value (its M2 is 0)
    ((3, 2, 1, 7), -0.5),       # a partial last split
    ((2, 2, 11, 13), 0.0),      # 286 values in 4 splits of 72 (the last 70), walks crossing
                                # planes
], ids=["2 values", "partial last split", "286 values"])
def test_split_batch_norm(shape, slope, monkeypatch, launched):
    forced_split(monkeypatch, target=8)
    rng = np.random.default_rng(4)
    c = shape[1]
    x = rand(rng, *shape) * 2 + 1
    check_batch_norm_leaky_relu(x, rand(rng, c), rand(rng, c), rand(rng, c),
                                np.abs(rand(rng, c)) + 0.5, True, slope, rand(rng, *shape))
    assert launched == SPLIT_BN


def test_one_value_a_channel_stays_single_pass(monkeypatch, launched):
    """N*H*W = 1 cannot split (even with every threshold at its lowest): the single-pass kernels,
    variance 0."""
    forced_split(monkeypatch, target=8)
    rng = np.random.default_rng(5)
    x = rand(rng, 1, 3, 1, 1)
    check_batch_norm_leaky_relu(x, rand(rng, 3), rand(rng, 3), rand(rng, 3),
                                np.abs(rand(rng, 3)) + 0.5, True, 0.2, rand(rng, 1, 3, 1, 1))
    assert launched == ["bn_stats_kernel", "bn_backward_reduce_kernel"]


# ------------------------------------------------------------------------- the variance, by Chan
def naive_float32_variance(values, threads=256):
    """E[x^2] - E[x]^2 as a float32 kernel would form it: each of ``threads`` threads sums its
    strided values and their squares in float32, then the thread totals."""
    v = np.concatenate([values, np.zeros((-values.size) % threads, np.float32)])
    v = v.reshape(-1, threads)
    s1 = np.add.reduce(v, axis=0, dtype=np.float32).sum(dtype=np.float32)
    s2 = np.add.reduce(v * v, axis=0, dtype=np.float32).sum(dtype=np.float32)
    m = s1 / np.float32(values.size)
    return float(s2 / np.float32(values.size) - m * m)


def test_split_variance_far_from_zero_mean(monkeypatch, launched):
    """Mean 40, std 0.05 in three splits of 1536, 1536 and 928 values: each split's mean and
    squared deviations (two passes in float32), combined in float64 by Chan's formula, match the
    float64 variance to ~1e-6 relative; the naive float32 E[x^2] - E[x]^2 is off by percents."""
    forced_split(monkeypatch, min_values=1024, align=256, target=528)
    x = (np.random.default_rng(6).standard_normal((8, 1, 20, 25)) * 0.05 + 40).astype(np.float32)
    assert kc._channel_split(1, x.size) == (3, 1536)
    want = x.astype(np.float64).var()
    assert abs(naive_float32_variance(x.reshape(-1)) - want) > 1e-3 * want
    rm, rv = dev(np.zeros(1)), dev(np.ones(1))
    _, mean, invstd = kc.batch_norm(dev(x), rm, rv, None, None, True, 0.1, 0.0)
    assert launched == ["bn_stats_split_kernel", "bn_stats_fold_kernel"]
    got = 1.0 / float(host(invstd)[0]) ** 2
    assert abs(got - want) < 1e-5 * want
    assert abs(float(host(mean)[0]) - x.astype(np.float64).mean()) < 1e-5
    unbiased = want * x.size / (x.size - 1)
    np.testing.assert_allclose(host(rv), [0.9 + 0.1 * unbiased], rtol=1e-6)


# ------------------------------------------------------------------------------ reproducibility
def test_split_results_are_reproducible_and_match_the_single_pass(monkeypatch):
    """Fixed split boundaries and fold order, no atomics: two runs agree bit for bit; the single
    pass (another summation order) agrees to float32 rounding."""
    rng = np.random.default_rng(7)
    shape = (2, 1, 5, 9)
    x, gy, w, b = (dev(a) for a in (rand(rng, *shape), rand(rng, *shape), rand(rng, 1),
                                     rand(rng, 1)))

    def run():
        mean, invstd = kc._bn_statistics(x, None, None, True, 0.1, 1e-5)
        gw, gb = kc._xp().empty(1, np.float32), kc._xp().empty(1, np.float32)
        kc._bn_backward_reduce(gy, x, mean, invstd, w, b, gw, gb, 0.2)
        return [host(a).copy() for a in (mean, invstd, gw, gb, kc.conv2d_grad_bias(gy))]

    forced_split(monkeypatch, min_values=20, target=4)   # 90 values: 3 splits of 23, one of 21
    assert kc._channel_split(1, 90) == (4, 23)
    first, second = run(), run()
    for a, b_ in zip(first, second):
        np.testing.assert_array_equal(a, b_)
    monkeypatch.setattr(kc, "_SPLIT_TARGET_BLOCKS", 1)  # one split: the single-pass kernels
    for a, b_ in zip(first, run()):
        np.testing.assert_allclose(a, b_, rtol=1e-5, atol=1e-5)
