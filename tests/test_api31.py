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
