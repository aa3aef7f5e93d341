"""Elementwise ops as torch's (session 31's elementwise fuzzer): in-place operators, in-place
casting and shape rules, integer round, comparisons with complex numbers, addcmul / addcdiv
dtypes, number-first function forms, broadcasting errors.  Expectations: NumPy or by hand."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeError, ShapeError


@pytest.mark.parametrize("op, numpy_op", [
    ("__ifloordiv__", np.floor_divide), ("__imod__", np.remainder), ("__ipow__", np.power),
    ("__iand__", np.bitwise_and), ("__ior__", np.bitwise_or), ("__ixor__", np.bitwise_xor)])
def test_augmented_operators_write_in_place(op, numpy_op):
    values = np.array([5, -7, 9, 2])
    x = tg.tensor(values)
    view = x[1:]
    result = getattr(x, op)(3)
    assert result is x                                     # x //= 3 keeps x: its views see it
    np.testing.assert_array_equal(view.numpy(), numpy_op(values, 3)[1:])


def test_augmented_operators_refuse_a_float_result_in_an_integer_tensor():
    x = tg.tensor([1, 2], dtype=tg.int32)
    for update in (lambda: x.__ifloordiv__(2.5), lambda: x.__imod__(1.5), lambda: x.__ipow__(0.5)):
        with pytest.raises(DTypeError, match="float32, which cannot be written into a int32"):
            update()
    with pytest.raises(NotImplementedError):               # torch: "bitwise_and_cpu" not implemented for 'Float'
        x.__iand__(tg.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(x.numpy(), [1, 2])
    with pytest.raises(DTypeError, match="float32, which cannot be written into a int32"):
        x.exp_()


def test_in_place_narrower_integer_wraps_as_torch():
    x = tg.tensor([0, 3], dtype=tg.uint8)
    x -= tg.tensor([1, 2], dtype=tg.int32)                 # int32 -> uint8: torch casts (wraps)
    np.testing.assert_array_equal(x.numpy(), np.array([255, 1], np.uint8))
    y = tg.tensor([7, 6], dtype=tg.uint8)
    y.bitwise_and_(tg.tensor([3, -1], dtype=tg.int32))
    np.testing.assert_array_equal(y.numpy(), [3, 6])
    z = tg.tensor([7, 9], dtype=tg.int8)
    z.remainder_(tg.tensor([4, 5], dtype=tg.int64))
    np.testing.assert_array_equal(z.numpy(), [3, 4])
    out = tg.empty(2, dtype=tg.uint8)
    tg.add(tg.tensor([255, 1]), 2, out=out)                # int64 result into a uint8 out=
    np.testing.assert_array_equal(out.numpy(), [1, 3])


def test_in_place_refuses_a_result_broader_than_self():
    x = tg.tensor([1.0, 2.0])
    with pytest.raises(ShapeError, match=r"output with shape \[2\] doesn't match the broadcast shape \[1, 2\]"):
        x.fmod_(tg.tensor([[1.0, 3.0]]))
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])


def test_round_keeps_integers_exact():
    big = tg.tensor([2 ** 63 - 1, -(2 ** 62) - 1])
    np.testing.assert_array_equal(big.round().numpy(), big.numpy())
    np.testing.assert_array_equal(big.clone().round_().numpy(), big.numpy())


def test_comparison_with_a_complex_number_is_elementwise():
    x = tg.tensor([1, 2, 3])
    np.testing.assert_array_equal((x == 2 + 0j).numpy(), [False, True, False])
    np.testing.assert_array_equal((x != 1 + 2j).numpy(), [True, True, True])


def test_addcmul_of_integers_keeps_their_dtype():
    x = tg.tensor([1, 2, 3], dtype=tg.int32)
    for value, expected in ((2, [3, 10, 21]), (2.7, [3, 10, 21]), (0.5, [1, 2, 3]), (True, [2, 6, 12])):
        result = tg.addcmul(x, x, x, value=value)          # value cast to the integers (truncated)
        assert result.dtype == tg.int32
        np.testing.assert_array_equal(result.numpy(), expected)
    floats = tg.addcmul(x.float(), x, x, value=0.5)        # a float input keeps the fraction
    np.testing.assert_allclose(floats.numpy(), [1.5, 4.0, 7.5])
    flags = tg.tensor([True, False])
    with pytest.raises(NotImplementedError, match="Bool"):
        tg.addcmul(flags, flags, flags)


def test_addcdiv_refuses_integer_division():
    x = tg.tensor([4, 6])
    with pytest.raises(RuntimeError, match="integer division with addcdiv"):
        tg.addcdiv(x, x, tg.tensor([True, True]))
    np.testing.assert_allclose(tg.addcdiv(x, x, x.double(), value=2).numpy(), [6.0, 8.0])


@pytest.mark.parametrize("name, expected", [
    ("add", [4, 5]), ("sub", [2, 1]), ("subtract", [2, 1]), ("mul", [3, 6]), ("multiply", [3, 6]),
    ("floor_divide", [3, 1]), ("bitwise_and", [1, 2]), ("bitwise_or", [3, 3]), ("bitwise_xor", [2, 1]),
    ("bitwise_left_shift", [6, 12]), ("bitwise_right_shift", [1, 0])])
def test_function_forms_take_a_number_first(name, expected):
    result = getattr(tg, name)(3, tg.tensor([1, 2], dtype=tg.int32))
    assert result.dtype == tg.int32                        # the number does not widen the tensor
    np.testing.assert_array_equal(result.numpy(), expected)


def test_division_with_a_number_first():
    for name in ("div", "divide", "true_divide"):
        result = getattr(tg, name)(3, tg.tensor([2, 4], dtype=tg.int16))
        assert result.dtype == tg.float32
        np.testing.assert_allclose(result.numpy(), [1.5, 0.75])


@pytest.mark.parametrize("op", [
    lambda a, b: a ^ b, lambda a, b: a & b, lambda a, b: a // b, lambda a, b: a % b,
    lambda a, b: tg.fmod(a, b), lambda a, b: tg.div(a, b, rounding_mode="floor"),
    lambda a, b: tg.div(a, b, rounding_mode="trunc"), lambda a, b: tg.fmax(a, b),
    lambda a, b: tg.fmin(a, b)])
def test_integer_ops_name_shapes_that_do_not_broadcast(op):
    with pytest.raises(ShapeError, match=r"\(2,\) and \(3,\) do not broadcast"):
        op(tg.tensor([1, 2]), tg.tensor([1, 2, 3]))


def test_addcmul_and_addcdiv_compute_in_the_result_dtype():
    big = tg.tensor(100, dtype=tg.int8)                    # int8 factors of a float input: no wrap
    np.testing.assert_allclose(tg.addcmul(tg.tensor(1.5), big, big, value=2).numpy(), 20001.5)
    masks = tg.addcmul(tg.tensor([1, 2], dtype=tg.int16), tg.tensor([True, False]), tg.tensor(True), value=2)
    assert masks.dtype == tg.int16
    np.testing.assert_array_equal(masks.numpy(), [3, 2])
    half = tg.addcmul(tg.tensor([1.0, 2.0], dtype=tg.float16), tg.tensor([True, False]),
                      tg.tensor([True, True]), value=0.5)
    assert half.dtype == tg.float16
    third = np.float16(1) / np.float16(3)
    quotient = tg.addcdiv(tg.tensor([0.0]), tg.tensor([1.0], dtype=tg.float16),
                          tg.tensor([3.0], dtype=tg.float16))
    assert quotient.dtype == tg.float32                    # divided in float32, not float16
    np.testing.assert_allclose(quotient.numpy(), [1 / 3], rtol=1e-7)
    assert abs(float(quotient) - float(third)) > 1e-5


def test_clamp_in_place_takes_integer_bounds_of_another_width():
    x = tg.tensor([0, 6, -9], dtype=tg.int32)
    x.clamp_(tg.tensor([-4, 5, -5]), tg.tensor([8, 5, 8]))   # int64 bounds into int32: torch casts
    assert x.dtype == tg.int32
    np.testing.assert_array_equal(x.numpy(), [0, 5, -5])
    with pytest.raises(DTypeError):
        x.clamp_(min=tg.tensor([0.5, 0.5, 0.5]))
