"""Session 24 leftovers: behaviours torch 2.13 has that tensorgan differed on (each test fails
without its fix)."""
import sys
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import MemoryOverlapError, ReadOnlyMemoryError

tensor_mod = sys.modules["tensorgan.tensor"]


# -- 1. read-only NumPy memory ------------------------------------------------------------------
def _read_only(values):
    a = np.array(values, dtype=np.float64)
    a.flags.writeable = False
    return a


def test_from_numpy_read_only_array_is_written_with_one_warning():
    tensor_mod._READ_ONLY_WARNED[0] = False
    a = _read_only([1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match="not writable"):
        t = tg.from_numpy(a)
    t.add_(1)
    np.testing.assert_array_equal(a, [2.0, 3.0, 4.0])       # the memory is shared, as torch's
    assert not a.flags.writeable                              # the user's flag is kept
    b = _read_only([1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                        # once a program, as torch's
        tg.from_numpy(b).mul_(5)
    assert b[0] == 5.0


def test_as_tensor_and_from_dlpack_of_read_only_array_share_writable_memory():
    a = _read_only([1.0, 2.0])
    tg.as_tensor(a).mul_(3)
    np.testing.assert_array_equal(a, [3.0, 6.0])
    b = _read_only([1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                        # torch.from_dlpack does not warn
        t = tg.from_dlpack(b)
    t.sub_(1)
    np.testing.assert_array_equal(b, [0.0, 1.0])


def test_read_only_strided_view_is_written_in_place():
    base = np.arange(6.0).reshape(2, 3)
    v = base[:, 1]
    v.flags.writeable = False
    tg.from_numpy(v).mul_(2)
    np.testing.assert_array_equal(base, [[0, 2, 2], [3, 8, 5]])


def test_read_only_buffer_refused_with_read_only_error():
    t = tg.frombuffer(b"abcdefgh", dtype=tg.uint8)
    with pytest.raises(ReadOnlyMemoryError, match="read-only"):
        t.add_(1)
    assert not issubclass(ReadOnlyMemoryError, MemoryOverlapError)


def test_broadcast_array_still_refused_as_overlap():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = tg.from_numpy(np.broadcast_to(np.ones(3), (2, 3)))
    with pytest.raises(MemoryOverlapError, match="single memory location"):
        t.add_(1)
