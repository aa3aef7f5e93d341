"""The compiled scatter-add behind indexing's CPU backward (tensorgan.scatter_kernels) against
np.add.at, its specification: bit-identical sums (the same order of additions) on
hypothesis-drawn shapes and keys -- repeated, negative and broadcast indices, leading and
trailing full slices, an Ellipsis -- and the keys it must leave to add.at."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan import scatter_kernels


@st.composite
def _cases(draw):
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    first = draw(st.integers(0, ndim - 1))
    count = draw(st.integers(1, ndim - first))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    gathered = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=2)))
    arrays = []
    for d in range(first, first + count):
        n = shape[d]
        a = rng.integers(-n, n, size=gathered)          # repeats and negatives
        if gathered and draw(st.booleans()):             # a broadcast member
            a = a[..., :1] if a.ndim else a
        arrays.append(a if a.ndim or draw(st.booleans()) else int(a))
    key = (slice(None),) * first + tuple(arrays)
    if first and draw(st.booleans()):
        key = (Ellipsis,) + tuple(arrays) + (slice(None),) * (ndim - first - count)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return shape, key, dtype, rng


@settings(max_examples=150, deadline=None)
@given(_cases())
def test_compiled_scatter_is_add_at_bit_for_bit(case):
    shape, key, dtype, rng = case
    total = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(np.zeros(shape)[key].shape).astype(dtype)
    expected = total.copy()
    np.add.at(expected, key, g)
    got = total.copy()
    if not scatter_kernels.add_at(got, key, g):       # only all-int keys (basic indexing) decline
        assert all(isinstance(k, (int, slice)) or k is Ellipsis for k in key)
        return
    np.testing.assert_array_equal(got, expected)


def test_a_broadcast_gradient_and_repeated_rows_sum_as_add_at():
    total = np.zeros((4, 3), np.float32)
    assert scatter_kernels.add_at(total, (np.array([1, 1, -1]),), np.float32(2.0))
    np.testing.assert_array_equal(total, [[0, 0, 0], [4, 4, 4], [0, 0, 0], [2, 2, 2]])


@pytest.mark.parametrize("key", [
    (np.array([True, False, True]),),                   # a mask
    (None, np.array([0, 1])),                           # a new axis
    (slice(0, 2), np.array([0, 1])),                    # a partial slice before the arrays
    (np.array([0]), slice(None), np.array([1])),        # arrays not on consecutive dims
    (np.array([0.0]),),                                 # not integers
    (np.array([5]),),                                   # out of range: add.at raises
])
def test_other_keys_are_left_to_add_at(key):
    total = np.zeros((3, 3, 3), np.float32)
    assert scatter_kernels.add_at(total, key, np.float32(1.0)) is False
    assert not total.any()


def test_other_dtypes_and_layouts_are_left_to_add_at():
    assert scatter_kernels.add_at(np.zeros(3, np.int64), (np.array([0]),), 1) is False
    assert scatter_kernels.add_at(np.zeros((3, 3), np.float32).T, (np.array([0]),), np.float32(1)) is False
    assert scatter_kernels.add_at(np.zeros(3, np.float32), (np.array([0]),), np.float64(1)) is False


def test_reflect_pad_and_translation_gradients_through_the_engine():
    # the keys the engine hands over: reflect padding's (..., rows, cols), DiffAugment's gather
    tg.manual_seed(0)
    x = tg.randn(2, 3, 5, 5, dtype=tg.float64, requires_grad=True)
    assert tg.gradcheck(lambda t: F.pad(t, (2, 2, 2, 2), mode="reflect").pow(2).sum(), [x])
    b = tg.arange(2)[:, None, None]
    ys = tg.tensor([[[0], [0], [1], [2], [3]], [[1], [2], [3], [4], [4]]])
    xs = tg.tensor([[[0, 0, 1, 2, 3]], [[1, 2, 3, 4, 4]]])
    assert tg.gradcheck(lambda t: t.permute(0, 2, 3, 1)[b, ys, xs].pow(2).sum(), [x])
