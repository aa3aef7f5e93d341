"""Kernel calls below ``_threads.PARALLEL_MIN_ELEMENTS`` run serially: their prange kernels run the
serial twins and a convolution splits its batch into one slice (``kernel_threads() == 1``); the
state is per thread, reset after the call (also when it raises), and a nested call keeps it."""
from __future__ import annotations

import importlib

import numba
import numpy as np
import pytest

_threads = importlib.import_module("tensorgan.kernels.cpu._threads")
SMALL, LARGE = 8, _threads.PARALLEL_MIN_ELEMENTS


def _entry():
    seen = []

    @_threads.serial_below_threshold(lambda n: n)
    def entry(n, inner=None, fail=False):
        seen.append(_threads.kernel_threads())
        if inner is not None:
            inner(*inner_args[0])
        if fail:
            raise RuntimeError("boom")
        return n
    inner_args = [()]
    return entry, seen, inner_args


def test_small_calls_use_one_thread_and_large_ones_all():
    entry, seen, _ = _entry()
    assert entry(SMALL) == SMALL and entry(LARGE) == LARGE
    assert seen == [1, numba.get_num_threads()]
    assert _threads.kernel_threads() == numba.get_num_threads()


def test_the_state_is_reset_after_an_error_and_kept_by_nested_calls():
    entry, seen, inner_args = _entry()
    with pytest.raises(RuntimeError):
        entry(SMALL, fail=True)
    assert _threads.kernel_threads() == numba.get_num_threads()
    inner_args[0] = (LARGE,)
    entry(SMALL, inner=entry)             # a large call inside a small one stays serial
    assert seen[-2:] == [1, 1] and _threads.kernel_threads() == numba.get_num_threads()


@pytest.mark.parametrize("n", [7, 128, LARGE + 5])
def test_leaky_relu_small_and_large_agree_with_numpy(n):
    lrelu = importlib.import_module("tensorgan.kernels.cpu.leaky_relu")
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    np.testing.assert_array_equal(lrelu.leaky_relu(x, 0.2), np.where(x < 0, x * np.float32(0.2), x))
    gy = np.ones_like(x)
    np.testing.assert_array_equal(lrelu.leaky_relu_backward(gy, x, 0.2),
                                  np.where(x > 0, gy, gy * np.float32(0.2)))
