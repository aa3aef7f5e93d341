"""Small torch names: any / all over dims, unflatten, finfo / iinfo, isin, broadcast_*, the
default generator's state functions."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import InputTypeError, ShapeError

A = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])


@pytest.mark.parametrize("name", ["any", "all"])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (0, False), (1, True), ((0, 1), False), (-1, False)])
def test_any_all_over_dims_match_numpy(name, dim, keepdim):
    got = getattr(tg.tensor(A), name)(dim, keepdim)
    expected = getattr(A.astype(bool), name)(axis=dim, keepdims=keepdim)
    assert got.dtype == tg.bool and got.shape == np.shape(expected)
    np.testing.assert_array_equal(got.numpy(), expected)
    np.testing.assert_array_equal(getattr(tg, name)(tg.tensor(A), dim, keepdim).numpy(), expected)


def test_unflatten_and_broadcasting():
    x = tg.arange(24.0).reshape(2, 12)
    np.testing.assert_array_equal(x.unflatten(1, (3, -1)).numpy(), np.arange(24.0).reshape(2, 3, 4))
    assert tg.unflatten(x, -1, (2, 2, 3)).shape == (2, 2, 2, 3)
    for bad in [(5, -1), (-1, -1), (2, 5)]:
        with pytest.raises(ShapeError, match="unflatten"):
            x.unflatten(1, bad)
    assert tg.broadcast_shapes((2, 1), (3,), 1) == (2, 3)
    with pytest.raises(ShapeError, match="do not broadcast"):
        tg.broadcast_shapes((2,), (3,))
    a, b = tg.broadcast_tensors(tg.ones(2, 1, requires_grad=True), tg.ones(3))
    assert a.shape == b.shape == (2, 3)
    np.testing.assert_array_equal(tg.isin(tg.tensor([1, 2, 3, 2]), tg.tensor([2, 7])).numpy(),
                                  [False, True, False, True])
    assert tg.isin(tg.tensor([1, 2]), [2], invert=True).tolist() == [True, False]


def test_dtype_limits():
    assert tg.finfo().eps == np.finfo(np.float32).eps and tg.finfo(tg.float64).max == np.finfo(np.float64).max
    assert tg.iinfo(tg.int64).max == 2 ** 63 - 1 and tg.iinfo(tg.uint8).min == 0
    assert tg.get_default_dtype() == tg.float32 and tg.tensor([0.5]).dtype == tg.get_default_dtype()
    with pytest.raises(InputTypeError, match="integer dtype"):
        tg.iinfo(tg.float32)


def test_default_generator_state_functions():
    tg.manual_seed(11)
    assert tg.initial_seed() == 11
    state = tg.get_rng_state()
    first = tg.randn(4).numpy()
    tg.set_rng_state(state)
    np.testing.assert_array_equal(tg.randn(4).numpy(), first)
    chosen = tg.seed()
    assert tg.initial_seed() == chosen
    tg.manual_seed(chosen)
    again = tg.randn(3).numpy()
    tg.manual_seed(chosen)
    np.testing.assert_array_equal(tg.randn(3).numpy(), again)
