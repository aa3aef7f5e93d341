"""Indexing as torch 2.13 does it, for the cases a differential fuzz against torch found wrong
(x[key] / x[key] = v, index_put_, gather / scatter, take / put_, index_*_, masked_*): expected
values from NumPy or by hand, errors by their builtin type, as torch raises them."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeError, ShapeError


# -- x[key] = value: dtypes ----------------------------------------------------------------------
def test_setitem_with_a_tensor_index_refuses_a_value_of_another_dtype_even_a_0d_one():
    x = tg.zeros(4, dtype=tg.float64)
    with pytest.raises(DTypeError, match="dtypes match"):
        x[[0, 2]] = tg.tensor(1.0, dtype=tg.float32)          # torch: index_put_, no cast
    y = tg.zeros(4, 2, dtype=tg.float64)
    with pytest.raises(RuntimeError, match="dtypes match"):
        y[tg.tensor([True, False, True, False]), [0]] = tg.tensor(1.0, dtype=tg.float32)
    assert x.tolist() == [0.0] * 4 and y.sum().item() == 0.0


def test_setitem_with_one_mask_and_a_one_element_value_casts_as_masked_fill():
    mask = tg.tensor([True, False, True, False])
    x = tg.zeros(4, 2, dtype=tg.float64)
    x[mask, :] = tg.tensor([2.0], dtype=tg.float32)             # torch: masked_fill_ with 2.0
    assert x[:, 0].tolist() == [2.0, 0.0, 2.0, 0.0] and x.dtype == tg.float64
    b = tg.zeros(4, dtype=tg.bool)
    b[mask] = tg.tensor([1.0])
    assert b.tolist() == [True, False, True, False]


def test_setitem_names_a_bad_index_before_a_dtype_mismatch():
    x = tg.zeros(3, dtype=tg.int64)
    with pytest.raises(IndexError):
        x[[5]] = tg.tensor([1.0])                # torch checks the index first


def test_setitem_with_a_mask_and_a_value_that_does_not_fit_is_a_shape_error():
    x = tg.zeros(1, 3)
    with pytest.raises(ShapeError) as err:
        x[tg.tensor([[True, True, True]])] = tg.ones(4)
    assert isinstance(err.value, RuntimeError)    # torch: "shape mismatch: value tensor ..."


# -- x[key] = value: ints with other indices ---------------------------------------------------
def test_setitem_of_a_bool_and_an_int_picking_one_element():
    x = tg.zeros(4)
    x[True, -4] = 2.0                            # torch: select -4, then the 0-d mask True
    x[False, -1] = 3.0                           # an empty mask: nothing written
    assert x.tolist() == [2.0, 0.0, 0.0, 0.0]


def test_setitem_of_ints_and_arrays_mixed_on_a_tracked_tensor():
    rng = np.random.default_rng(0)
    a, v, w = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 2)), rng.standard_normal((2, 3, 4))
    leaf = tg.tensor(a, requires_grad=True)
    val = tg.tensor(v, requires_grad=True)
    y = leaf * 1.0
    y[0, :, [1, 3]] = val                        # torch: x[0][:, [1, 3]], shape (3, 2)
    want = a.copy()
    want[0][:, [1, 3]] = v
    np.testing.assert_array_equal(y.detach().numpy(), want)
    (y * tg.tensor(w)).sum().backward()
    gx = w.copy()
    gx[0][:, [1, 3]] = 0.0
    np.testing.assert_allclose(leaf.grad.numpy(), gx, atol=1e-12)
    np.testing.assert_allclose(val.grad.numpy(), w[0][:, [1, 3]], atol=1e-12)


def test_setitem_through_a_view_of_an_empty_tensor_with_a_tracked_value():
    b = tg.zeros(4, 0)
    x = b.permute(1, 0)
    v = tg.zeros(0, 4, requires_grad=True)
    x[()] = v                                     # nothing to write; torch records it all the same
    (b * 2.0).sum().backward()
    assert v.grad.shape == (0, 4)


def test_setitem_at_false_writes_nothing_and_records_nothing():
    x = tg.ones(2, 3, requires_grad=True) * 1.0
    v = tg.zeros(3, requires_grad=True)
    x[False] = v
    x.sum().backward()
    assert v.grad is None and x.detach().sum().item() == 6.0
