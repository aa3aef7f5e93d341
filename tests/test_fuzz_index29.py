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


# -- masked ops ------------------------------------------------------------------------------------
def test_masked_scatter_of_a_0d_input_and_a_mask_wider_than_the_input():
    assert tg.tensor(1.5).masked_scatter(tg.tensor(True), tg.tensor([7.0, 8.0])).tolist() == 7.0
    x = tg.tensor(2.0)
    x.masked_scatter_(tg.tensor(True), tg.tensor([7.0]))
    assert x.item() == 7.0
    mask = tg.tensor([[True, False, True], [False, True, False]])
    out = tg.zeros(3).masked_scatter(mask, tg.tensor([7.0, 8.0, 9.0]))   # broadcast together
    assert out.tolist() == [[7.0, 0.0, 8.0], [0.0, 9.0, 0.0]]


def test_masked_scatter_and_masked_fill_in_place_refuse_a_mask_wider_than_the_tensor():
    with pytest.raises(ShapeError, match="broadcast"):
        tg.zeros(3).masked_fill_(tg.tensor([[True, False, True]]), 1.0)
    with pytest.raises(RuntimeError, match="broadcast"):
        tg.tensor(0.0).masked_scatter_(tg.tensor([True]), tg.tensor([1.0, 2.0]))


def test_masked_scatter_gradient_through_the_broadcast_input():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    src = tg.tensor([5.0, 6.0, 7.0], requires_grad=True)
    out = x.masked_scatter(tg.tensor([[True, False], [False, True], [False, False]]), src)
    (out * tg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
    assert x.grad.tolist() == [0.0 + 3.0 + 5.0, 2.0 + 0.0 + 6.0]
    assert src.grad.tolist() == [1.0, 4.0, 0.0]


# -- index_add / index_copy ------------------------------------------------------------------------
def test_index_add_into_integers_casts_alpha_to_the_input_dtype():
    out = tg.zeros(3, dtype=tg.int64).index_add(0, tg.tensor([0, 1]), tg.tensor([1, 2]), alpha=2.5)
    assert out.dtype == tg.int64 and out.tolist() == [2, 4, 0]         # torch: alpha 2
    x = tg.zeros(3, dtype=tg.int64)
    x.index_add_(0, tg.tensor([0, 0]), tg.tensor([1, 2]), alpha=-1.0)
    assert x.tolist() == [-3, 0, 0]


def test_index_copy_with_a_source_of_other_rank_is_an_index_error():
    with pytest.raises(IndexError, match="number of dims"):
        tg.zeros(2, 3).index_copy(1, tg.tensor([0, 1]), tg.ones(2, 2, 1))


# -- x[key]: keys ----------------------------------------------------------------------------------
def test_tensor_indices_around_an_empty_ellipsis_are_adjacent():
    a = np.arange(60.0).reshape(5, 3, 4)
    x = tg.tensor(a)
    assert x[:, [0, 1], ..., [0, 1]].shape == (5, 2)     # torch: ... stands for no dims here
    np.testing.assert_array_equal(x[:, [0, 1], ..., [0, 1]].numpy(), a[:, [0, 1], [0, 1]])
    assert x[None, [0, 1], ..., [0, 1], 1].shape == (1, 2)
    assert x[[0, 1], ..., [0, 1]].shape == (2, 3)        # (... covers dim 1: apart, first)
    y = tg.zeros(5, 3, 4)
    y[:, [0, 1], ..., [0, 1]] = tg.arange(5.0)[:, None]
    assert y[:, 1, 1].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0] and y.sum().item() == 20.0


def test_a_float_number_as_an_index_is_an_index_error():
    x = tg.zeros(3, 4)
    for key in (1.0, (0, 1.0)):
        with pytest.raises(IndexError):
            x[key]
    with pytest.raises(TypeError):
        x["a"]
