"""Edge cases found by differential fuzzing against torch (session 28, h28e): type promotion
of 0-d tensors in the integer paths, dtype refusals as NotImplementedError, and NaN / -0.0 /
empty-input corners. Expected values come from NumPy or are derived by hand."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeError, DTypeNotImplementedError


def _i32(values):
    return tg.tensor(np.array(values, dtype=np.int32))


@pytest.mark.parametrize("op", ["maximum", "minimum", "fmax", "fmin", "fmod", "remainder", "pow",
                                "floor_divide", "max", "min", "bitwise_and", "bitwise_or", "gcd",
                                "lcm", "bitwise_left_shift"])
def test_zero_dim_int64_yields_to_int32_tensor_with_dims(op):
    # torch's priorities: a 0-d tensor does not widen a tensor with dims of its category
    fn = getattr(tg, op)
    for a, b in ((_i32([3, 6]), tg.tensor(2)), (tg.tensor(2), _i32([3, 6]))):
        out = fn(a, b)
        assert out.dtype == np.int32, (op, out.dtype)
        expected = getattr(np, {"max": "maximum", "min": "minimum", "pow": "power",
                                "bitwise_left_shift": "left_shift"}.get(op, op))(
            np.asarray(a.numpy(), np.int64), np.asarray(b.numpy(), np.int64))
        np.testing.assert_array_equal(out.numpy(), expected)


def test_zero_dim_promotion_still_widens_across_categories():
    assert tg.maximum(tg.tensor([True, False]), tg.tensor(2)).dtype == np.int64
    assert (tg.tensor([True, False]) & tg.tensor(3)).dtype == np.int64
    assert tg.remainder(_i32([7]), tg.tensor([2])).dtype == np.int64     # both with dims: widest


def test_integer_remainder_of_an_empty_result_divides_nothing():
    empty = tg.zeros(0, 3, dtype=tg.int64)
    for op in ("remainder", "fmod", "floor_divide"):
        out = getattr(tg, op)(empty, tg.tensor([[1, 0, 2]]))
        assert out.shape == (0, 3) and out.dtype == np.int64
    with pytest.raises(ZeroDivisionError):
        tg.remainder(tg.tensor([[4, 5, 6]]), tg.tensor([1, 0, 2]))


@pytest.mark.parametrize("op", ["remainder", "fmod", "floor_divide"])
def test_division_of_two_bool_tensors_is_not_implemented(op):
    with pytest.raises(DTypeNotImplementedError, match=op):
        getattr(tg, op)(tg.tensor([True]), tg.tensor([True]))


@pytest.mark.parametrize("op", ["round", "floor", "ceil", "trunc", "fix"])
def test_rounding_a_bool_tensor_is_not_implemented(op):
    with pytest.raises(NotImplementedError, match="bool"):
        getattr(tg, op)(tg.tensor([True, False]))
    out = getattr(tg, op)(tg.tensor([3, -2]))           # integers stay as they are
    assert out.dtype == np.int64 and out.tolist() == [3, -2]


@pytest.mark.parametrize("call", [lambda: tg.frac(tg.tensor([1, 2])),
                                  lambda: tg.selu(tg.tensor([1, 2])),
                                  lambda: tg.hypot(tg.tensor([1]), tg.tensor([2])),
                                  lambda: tg.logaddexp(tg.tensor([1]), tg.tensor([2])),
                                  lambda: tg.abs(tg.tensor([True]))])
def test_float_only_ops_refuse_integers_as_not_implemented(call):
    # torch: NotImplementedError ("frac_cpu" not implemented for 'Long'); still a DTypeError
    with pytest.raises(NotImplementedError) as info:
        call()
    assert isinstance(info.value, DTypeError) and isinstance(info.value, RuntimeError)
