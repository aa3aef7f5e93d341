"""Gaps found porting lucidrains' gigagan-pytorch (its attention pads a bool key mask with
``F.pad(mask, (1, 0), value=True)`` for the null key)."""
import numpy as np

import tensorgan as tg
import tensorgan.nn.functional as F


def test_pad_takes_a_bool_value_for_a_bool_mask():
    mask = tg.tensor([[True, False], [False, False]])
    out = F.pad(mask, (1, 0), value=True)
    assert out.dtype == tg.bool
    assert out.tolist() == [[True, True, False], [True, False, False]]
    assert F.pad(mask, (0, 1), value=False).tolist() == [[True, False, False], [False, False, False]]


def test_pad_bool_value_on_numbers_is_one_or_zero():
    x = tg.tensor([[1.5, 2.0]], requires_grad=True)
    out = F.pad(x, (1, 1), value=True)
    np.testing.assert_array_equal(out.detach().numpy(), [[1.0, 1.5, 2.0, 1.0]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 1.0]])
    assert F.pad(tg.tensor([[3, 4]]), (1, 0), value=False).tolist() == [[0, 3, 4]]
