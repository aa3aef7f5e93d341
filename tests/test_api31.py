"""Session 31 (h31f): indexing leftovers and reductions checked beside torch 2.13."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeError, MaskShapeError


# -- masks: every mask's shape is checked, an empty one too (NumPy takes those of any shape) --------
@pytest.mark.parametrize("key", [
    lambda: tg.zeros(0, dtype=tg.bool),
    lambda: tg.zeros(0, 2, dtype=tg.bool),
    lambda: (slice(None), tg.zeros(0, dtype=tg.bool)),
    lambda: (Ellipsis, tg.zeros(0, dtype=tg.bool), slice(None)),
])
def test_empty_mask_of_wrong_shape_refused(key):
    x = tg.zeros(3, 2)
    with pytest.raises(MaskShapeError, match=r"shape of the mask \[0.*does not match.*\[3, 2\]"):
        x[key()]
    with pytest.raises(IndexError, match="shape of the mask"):
        x[key()] = 1.0
    assert x.sum().item() == 0.0


def test_mask_shape_message_names_dims():
    x = tg.zeros(3, 2)
    with pytest.raises(MaskShapeError, match=r"mask \[2\] at index 0 .* \[3, 2\] at index 0"):
        x[tg.tensor([True, False])]
    with pytest.raises(MaskShapeError, match=r"mask \[3\] at index 0 .* at index 1"):
        x[:, tg.tensor([True, False, True])] = 1.0
    with pytest.raises(MaskShapeError):
        x.index_put((tg.zeros(0, dtype=tg.bool),), tg.tensor(1.0))
    with pytest.raises(IndexError, match="too many indices"):
        tg.tensor(1.0)[tg.zeros(0, dtype=tg.bool)]


def test_empty_mask_of_right_shape_still_works():
    assert tg.zeros(0, 2)[tg.zeros(0, dtype=tg.bool)].shape == (0, 2)
    assert tg.zeros(3, 0)[tg.zeros(3, 0, dtype=tg.bool)].shape == (0,)
    y = tg.zeros(0, 2)
    y[tg.zeros(0, dtype=tg.bool)] = 1.0
    assert y.shape == (0, 2)


# -- a uint8 index is a mask (torch's deprecated byte mask) in index_put too, not positions ------------
def _byte_mask():
    return tg.tensor([1, 0, 1], dtype=tg.uint8)


def test_index_put_reads_uint8_as_mask():
    x = tg.arange(6.0).reshape(3, 2)
    with pytest.warns(UserWarning, match="uint8"):
        out = x.index_put((_byte_mask(),), tg.tensor([7.0, 8.0]))
    np.testing.assert_array_equal(out.numpy(), [[7, 8], [2, 3], [7, 8]])
    with pytest.warns(UserWarning, match="uint8"):
        out = x.index_put((_byte_mask(),), tg.tensor([7.0, 8.0]), accumulate=True)
    np.testing.assert_array_equal(out.numpy(), [[7, 9], [2, 3], [11, 13]])
    with pytest.warns(UserWarning, match="uint8"):
        out = x.index_put((tg.tensor([[1, 0], [0, 1], [1, 1]], dtype=tg.uint8),),
                          tg.tensor([1.0, 2, 3, 4]))
    np.testing.assert_array_equal(out.numpy(), [[1, 1], [2, 2], [3, 4]])
    with pytest.warns(UserWarning, match="uint8"):
        out = x.index_put((_byte_mask(), tg.tensor([0, 1])), tg.tensor(7.0))
    np.testing.assert_array_equal(out.numpy(), [[7, 1], [2, 3], [4, 7]])


def test_uint8_mask_with_one_element_value_refused_as_torch_masked_fill():
    x = tg.arange(6.0).reshape(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for write in (lambda: x.__setitem__(_byte_mask(), 7.0),
                      lambda: x.__setitem__((_byte_mask(), 0), tg.tensor(7.0)),
                      lambda: x.index_put_((_byte_mask(),), tg.tensor([7.0]))):
            with pytest.raises(DTypeError, match="masked_fill_ only supports boolean masks"):
                write()
        np.testing.assert_array_equal(x.numpy(), np.arange(6.0).reshape(3, 2))
        x[_byte_mask()] = tg.tensor([[7.0, 8.0], [9.0, 10.0]])       # a tensor of more: a mask
        x[_byte_mask(), 1] = tg.tensor([0.0, 1.0])
    np.testing.assert_array_equal(x.numpy(), [[7, 0], [2, 3], [9, 1]])


# -- reductions (a fuzzer beside torch 2.13) ------------------------------------------------------------
def test_cumsum_cumprod_integer_dtype_from_float_and_small_ints_wrap():
    x = tg.tensor([1.5, -2.7, 3.0])
    out = tg.cumsum(x, 0, dtype=tg.int64)              # the input cut toward zero first
    assert out.dtype == np.int64 and out.tolist() == [1, -1, 2]
    assert tg.cumprod(x, 0, dtype=tg.int64).tolist() == [1, -2, -6]
    small = tg.cumsum(tg.tensor([1, 2, 0]), 0, dtype=tg.int32)
    assert small.dtype == np.int32 and small.tolist() == [1, 3, 3]
    wrapped = tg.cumprod(tg.tensor([200, 2, 3]), 0, dtype=tg.uint8)
    assert wrapped.dtype == np.uint8
    assert wrapped.tolist() == np.cumprod(np.array([200, 2, 3], dtype=np.uint8), dtype=np.uint8).tolist()
    assert tg.cumsum(tg.tensor(2.5), 0, dtype=tg.int64).item() == 2
    with pytest.raises(NotImplementedError):
        tg.cumsum(tg.tensor([1.0, 2.0]), 0, dtype=tg.bool)


def test_vector_norm_of_zero_dim_tensor_over_its_dim():
    x = tg.tensor(-2.0)
    for ord in (-1, -2.5, -np.inf, 2):
        assert tg.linalg.vector_norm(x, ord=ord, dim=(0,)).item() == 2.0
        assert tg.linalg.vector_norm(x, ord=ord, dim=-1).item() == 2.0
    with pytest.raises(IndexError):
        tg.linalg.vector_norm(x, ord=-1, dim=(1,))


def test_empty_median_keeps_the_graph():
    for fn, node in ((tg.median, "MedianBackward0"), (tg.nanmedian, "NanmedianBackward0")):
        x = tg.zeros(0, 2, dtype=tg.float64, requires_grad=True)
        m = fn(x)
        assert np.isnan(m.item()) and m.grad_fn.name() == node
        m.backward()
        assert x.grad.shape == (0, 2)
        y = tg.tensor([3.0, 1.0, 2.0], requires_grad=True)
        assert fn(y).grad_fn.name() == node        # torch 2.13's all-element node


def test_quantile_refuses_half_and_empty_input():
    with pytest.raises(DTypeError, match="float or double"):
        tg.quantile(tg.tensor([1.0, 2.0]).half(), 0.5)
    with pytest.raises(RuntimeError, match="non-empty"):
        tg.nanquantile(tg.zeros(0, 2), 0.5, dim=1)      # the reduced dim has 2, the input none
    assert tg.quantile(tg.tensor([1.0, 2.0]), 0.5).item() == 1.5


def test_sum_and_prod_in_bool_dtype_are_or_and_and():
    x = tg.tensor([[1, 0, 2], [0, 0, 0]])
    assert tg.sum(x, 1, dtype=tg.bool).tolist() == [True, False]
    assert tg.sum(x, dtype=tg.bool).item() is True
    assert tg.sum(x, (0, 1), keepdim=True, dtype=tg.bool).shape == (1, 1)
    assert tg.prod(x, 1, dtype=tg.bool).tolist() == [False, False]
    assert tg.prod(tg.tensor([3, -1]), dtype=tg.bool).item() is True
    assert tg.sum(tg.zeros(0), dtype=tg.bool).item() is False
    assert tg.prod(tg.zeros(0), dtype=tg.bool).item() is True
    assert tg.nansum(tg.tensor([float("nan"), 0.0]), dtype=tg.bool).item() is False


def test_integer_input_refused_by_norm_and_nanmean_even_with_dtype():
    ints = tg.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="floating point"):
        tg.linalg.vector_norm(ints, dtype=tg.float64)
    with pytest.raises(RuntimeError, match="floating point"):
        ints.norm(dtype=tg.float64)
    with pytest.raises(RuntimeError, match="floating"):
        tg.nanmean(ints, dtype=tg.float32)
    assert tg.linalg.vector_norm(tg.tensor([3.0, 4.0]), dtype=tg.float64).item() == 5.0
