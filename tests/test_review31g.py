"""Review of h31s / h31u (session 31): comparisons of an integer tensor with a float one in the
float's dtype (torch's result type), and clamp by Tensor bounds computing only the gradient
masks it needs."""
import warnings

import numpy as np

import tensorgan as tg


def test_int_tensor_compares_with_float32_tensor_in_float32():
    big = tg.tensor([2 ** 24 + 1, 3], dtype=tg.int64)      # 2**24 + 1 rounds to 2**24 in float32
    nd = tg.tensor([2.0 ** 24, 3.0], dtype=tg.float32)
    assert (big == nd).tolist() == [True, True]
    assert (nd == big).tolist() == [True, True]
    assert (big == nd[0]).tolist() == [True, False]         # a 0-d float of a higher category
    assert (big[0] == nd).tolist() == [True, False]
    assert (big <= nd).tolist() == [True, True] and not (big > nd).any()


def test_int_tensor_beside_float16_overflows_to_inf_silently():
    ints = tg.tensor([70000, 1], dtype=tg.int32)             # 70000 is inf in float16
    inf16 = tg.tensor(float("inf"), dtype=tg.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (ints == inf16).tolist() == [True, False]
        assert (ints < tg.full((2,), float("inf"), dtype=tg.float16)).tolist() == [False, True]


def test_int_tensor_compares_with_python_float_in_default_dtype():
    big = tg.tensor([2 ** 24 + 1, 2 ** 40 + 1], dtype=tg.int64)
    assert (big == 2.0 ** 24).tolist() == [True, False]
    assert (big == 2.0 ** 40).tolist() == [False, True]
    assert not (big > 2.0 ** 40).any()
    assert (tg.tensor([True, False]) == 1.0).tolist() == [True, False]


def test_float_comparisons_unchanged():
    x = tg.tensor([0.1, 0.5], dtype=tg.float32)
    assert (x == tg.tensor(0.1, dtype=tg.float64)).tolist() == [True, False]   # in float32
    assert (x == 0.1).tolist() == [True, False]
    assert (tg.tensor([1, 2], dtype=tg.uint8) > tg.tensor(-3, dtype=tg.int8)).tolist() == [False, False]


def _clamp_node(x_grad: bool, low_grad: bool, high_grad: bool):
    rs = np.random.RandomState(0)
    x = tg.tensor(rs.randn(3, 4), requires_grad=x_grad)
    low = tg.tensor(rs.randn(3, 4) - 0.5, requires_grad=low_grad)
    high = tg.tensor(rs.randn(4) + 0.5, requires_grad=high_grad)
    return x, low, high, tg.clamp(x, low, high)


def test_clamp_tensor_bounds_masks_only_for_inputs_taking_a_gradient():
    x, low, high, out = _clamp_node(True, False, False)
    assert out.grad_fn.name() == "ClampBackward0"
    masks = out.grad_fn.masks
    assert masks[0] is not None and masks[1] is None and masks[2] is None
    out.sum().backward()
    xa, la, ha = x.detach().numpy(), low.numpy(), high.numpy()
    inside = (xa >= la) & (xa <= ha)
    np.testing.assert_array_equal(x.grad.numpy(), inside.astype(np.float64))
    np.testing.assert_array_equal(out.detach().numpy(), np.minimum(np.maximum(xa, la), ha))


def test_clamp_tensor_bounds_gradients_to_the_bounds():
    x, low, high, out = _clamp_node(False, True, True)
    assert out.grad_fn.masks[0] is None
    out.sum().backward()
    xa, la, ha = x.numpy(), low.detach().numpy(), high.detach().numpy()
    to_low = (xa < la) & (la < ha)
    to_high = (xa > ha) | (ha < la)
    np.testing.assert_array_equal(low.grad.numpy(), to_low.astype(np.float64))
    np.testing.assert_array_equal(high.grad.numpy(), to_high.sum(0).astype(np.float64))
    assert x.grad is None
