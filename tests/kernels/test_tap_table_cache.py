"""The CPU kernels' tap-table cache (``_pack.cached_tap_tables``): the same tables as a fresh
``tap_tables`` call, one computation per geometry, and a byte budget that evicts the least
recently used geometry first (and never keeps a geometry larger than the budget)."""
from __future__ import annotations

import importlib
import os

import numpy as np
import pytest

_pack = importlib.import_module("tensorgan.kernels.cpu._pack")


def _geometry(k: int, stride: int, size: int) -> tuple:
    offsets = np.arange(k, dtype=np.int64) - 1
    out = (size - 1) * stride + k
    return (k, k, stride, stride, offsets, offsets, size, size, out, out)


@pytest.fixture
def empty_cache(monkeypatch):
    monkeypatch.setattr(_pack, "_tables", type(_pack._tables)())
    monkeypatch.setattr(_pack, "_tables_bytes", [0])
    return _pack


def _nbytes(tables) -> int:
    return sum(t.nbytes for t in tables)


@pytest.mark.parametrize("k, stride, size", [(4, 2, 7), (3, 1, 5), (1, 1, 3), (5, 3, 4)])
def test_cached_tables_equal_fresh_ones_and_are_computed_once(empty_cache, monkeypatch, k, stride, size):
    geometry = _geometry(k, stride, size)
    fresh = _pack.tap_tables(*geometry)
    computed = []
    real = _pack.tap_tables
    monkeypatch.setattr(_pack, "tap_tables", lambda *a: computed.append(a) or real(*a))
    first = _pack.cached_tap_tables(*geometry)
    second = _pack.cached_tap_tables(*geometry)
    assert len(computed) == 1 and second is first
    count = fresh[0]
    np.testing.assert_array_equal(first[0], count)
    for t in range(count.size):          # only the first count[t] entries of a tap's row are used
        np.testing.assert_array_equal(first[1][t, :count[t]], fresh[1][t, :count[t]])
        np.testing.assert_array_equal(first[2][t, :count[t]], fresh[2][t, :count[t]])


def test_offsets_are_part_of_the_key(empty_cache):
    a = _geometry(3, 1, 5)
    b = a[:4] + (a[4] + 1, a[5]) + a[6:]
    assert _pack.cached_tap_tables(*a) is not _pack.cached_tap_tables(*b)
    assert len(_pack._tables) == 2


def test_the_budget_evicts_the_least_recently_used(empty_cache, monkeypatch):
    small, other, third = _geometry(3, 1, 6), _geometry(3, 2, 6), _geometry(4, 2, 6)
    sizes = [_nbytes(_pack.tap_tables(*g)) for g in (small, other, third)]
    monkeypatch.setattr(_pack, "TABLES_BUDGET", sizes[0] + sizes[1] + sizes[2] - 1)
    _pack.cached_tap_tables(*small)
    _pack.cached_tap_tables(*other)
    _pack.cached_tap_tables(*small)          # used again: `other` is now the least recent
    _pack.cached_tap_tables(*third)
    keys = list(_pack._tables)
    assert len(keys) == 2 and keys[-1][:4] == third[:4] and keys[0][:4] == small[:4]
    assert _pack._tables_bytes[0] == sizes[0] + sizes[2] <= _pack.TABLES_BUDGET


def test_a_geometry_larger_than_the_budget_is_not_kept(empty_cache, monkeypatch):
    geometry = _geometry(4, 2, 7)
    monkeypatch.setattr(_pack, "TABLES_BUDGET", _nbytes(_pack.tap_tables(*geometry)) - 1)
    tables = _pack.cached_tap_tables(*geometry)
    assert tables[0].size == 16 and len(_pack._tables) == 0 and _pack._tables_bytes[0] == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_fork_while_the_lock_is_held_leaves_the_child_a_free_lock():
    with _pack._tables_lock:
        pid = os.fork()
        if pid == 0:                                   # the child: only the lock, then out
            os._exit(0 if _pack._tables_lock.acquire(timeout=2) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
