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


def test_flip_of_a_zero_dim_tensor_keeps_its_dtype():
    for value in (tg.tensor(3), tg.tensor(True), tg.tensor(2.5, dtype=tg.float64)):
        out = tg.flip(value, [0])
        assert out.dtype == value.dtype and out.item() == value.item()


def test_where_with_a_mask_and_an_int_gives_int64():
    mask, values = tg.tensor([True, False]), tg.tensor([True, True])
    out = tg.where(mask, values, 2)
    assert out.dtype == np.int64 and out.tolist() == [1, 2]
    assert tg.where(mask, 2, values).tolist() == [2, 1]
    assert tg.where(mask, values, False).dtype == np.bool_        # bool with bool stays bool


def test_index_select_refuses_negative_and_too_large_indices():
    x = tg.tensor([1.0, 2.0, 3.0])
    for bad in ([-1], [3], [0, -2]):
        with pytest.raises(IndexError, match="out of range"):
            tg.index_select(x, 0, tg.tensor(bad))
    assert tg.index_select(x, 0, tg.tensor([2, 0])).tolist() == [3.0, 1.0]
    assert tg.index_select(x, 0, tg.tensor([], dtype=tg.int64)).shape == (0,)


def test_scatter_and_index_fill_of_masks():
    # a one-hot mask built by scatter, as in torch: zeros(bool).scatter_(1, idx, True)
    hot = tg.zeros(2, 3, dtype=tg.bool).scatter_(1, tg.tensor([[1], [2]]), True)
    assert hot.dtype == np.bool_
    np.testing.assert_array_equal(hot.numpy(), np.eye(3, dtype=bool)[[1, 2]])
    out = tg.scatter(tg.tensor([True, False, True]), 0, tg.tensor([2, 1, 0]),
                     tg.tensor([False, True, False]))
    assert out.tolist() == [False, True, False]
    assert tg.zeros(3).index_fill(0, tg.tensor([1]), True).tolist() == [0.0, 1.0, 0.0]


def test_mode_of_a_bool_tensor_and_median_refusals():
    values, indices = tg.mode(tg.tensor([[True, False, False], [True, True, False]]), 1)
    assert values.dtype == np.bool_ and values.tolist() == [False, True]
    assert indices.tolist() == [2, 1]                               # last occurrence
    with pytest.raises(NotImplementedError, match="bool"):
        tg.median(tg.tensor([True]))
    with pytest.raises(NotImplementedError, match="bool"):
        tg.nanmedian(tg.tensor([True]))
    with pytest.raises(IndexError, match="empty int64"):           # (was a bare NumPy ValueError)
        tg.median(tg.tensor([], dtype=tg.int64))
    assert np.isnan(tg.median(tg.tensor([], dtype=tg.float64)).item())


def test_logcumsumexp_refuses_integers():
    for x in (tg.tensor([1, 2]), tg.tensor(np.zeros(0, np.int64)), tg.tensor([True])):
        with pytest.raises(NotImplementedError, match="logcumsumexp"):
            tg.logcumsumexp(x, 0)


def test_unique_consecutive_along_a_dim_of_an_empty_tensor():
    values, inverse, counts = tg.unique_consecutive(tg.zeros(0, 3), dim=0, return_inverse=True,
                                                    return_counts=True)
    assert values.shape == (0, 3) and inverse.shape == (0,) and counts.shape == (0,)
    assert tg.unique_consecutive(tg.tensor([]), dim=0).shape == (0,)


def test_shrinks_keep_nan_and_the_sign_of_zero():
    x = tg.tensor([np.nan, -0.0, 0.2, -0.2, 1.0, -np.inf, 0.5])
    hard = tg.nn.functional.hardshrink(x).numpy()
    np.testing.assert_array_equal(hard, [np.nan, 0.0, 0.0, 0.0, 1.0, -np.inf, 0.0])
    soft = tg.nn.functional.softshrink(x).numpy()
    np.testing.assert_array_equal(soft, [np.nan, -0.0, 0.0, -0.0, 0.5, -np.inf, 0.0])
    assert np.signbit(soft[1]) and np.signbit(soft[3])              # x * 0 in the middle


def test_get_device_of_a_tensor_is_its_index():
    assert tg.get_device(tg.tensor([1.0])) == -1
    assert tg.get_device("cpu").type == "cpu"                       # a spec still resolves


def test_uint8_divided_by_a_negative_int_is_computed_in_float():
    # torch: the int is a float for true division (was wrapped into the uint8 range first)
    x = tg.tensor(np.array([4, 1], dtype=np.uint8))
    np.testing.assert_allclose((x / -3).numpy(), np.array([4, 1], np.float32) / np.float32(-3))
    np.testing.assert_allclose((tg.tensor(np.array([4], np.int8)) / 300).numpy(), [4 / 300], rtol=1e-6)
    assert (x + -3).tolist() == [1, 254]                           # addition still wraps


@np.errstate(divide="ignore", invalid="ignore")       # (NumPy's expected values: inf / NaN)
def test_float_floor_division_is_pythons():
    # from fmod, as Python / NumPy / torch: not floor(a / b)
    a = np.array([-1.0, 5.0, np.inf, -0.0, 1.0, 7.0])
    b = np.array([np.inf, 0.1, 2.0, 3.0, 0.0, -0.1])
    expected = np.floor_divide(a, b)
    assert expected[0] == -1.0 and expected[1] == 49.0 and np.isnan(expected[2])
    np.testing.assert_array_equal((tg.tensor(a) // tg.tensor(b)).numpy(), expected)
    np.testing.assert_array_equal(tg.floor_divide(tg.tensor(a), 0.1).numpy(), np.floor_divide(a, 0.1))
    np.testing.assert_array_equal((2.0 // tg.tensor(b)).numpy(), np.floor_divide(2.0, b))
    ints = (tg.tensor([-1, 5]) // np.inf).numpy()
    assert ints.dtype == np.float32 and ints.tolist() == [-1.0, 0.0]
    x = tg.tensor([5.0, -3.0], requires_grad=True)                 # still in the graph, slope 0
    (x // 2 + x).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_integer_to_a_negative_int_power_is_a_runtime_error():
    for x in (tg.tensor([2, 3]), tg.tensor(np.array([4, 1], dtype=np.uint8))):
        with pytest.raises(RuntimeError, match="negative integer powers"):
            x ** -1
    assert (tg.tensor([2, 3]) ** tg.tensor([-1, 2])).tolist() == [0, 9]


def test_bitwise_ops_wrap_ints_and_refuse_floats_as_not_implemented():
    x = tg.tensor(np.array([4, 1], dtype=np.uint8))
    assert (x & -3).tolist() == list(np.array([4, 1], np.uint8) & np.uint8(253))
    assert (x | 300).tolist() == list(np.array([4, 1], np.uint8) | np.uint8(300 % 256))
    with pytest.raises(NotImplementedError):
        tg.tensor([1.5]) & 2
    with pytest.raises(NotImplementedError):
        tg.tensor([1, 2]) << 2.5


def test_python_bool_as_a_remainder_operand():
    np.testing.assert_array_equal((tg.tensor([1.5, -2.0]) % True).numpy(), np.remainder([1.5, -2.0], 1.0))
    np.testing.assert_array_equal(tg.fmod(tg.tensor([1.5, -2.0]), True).numpy(), np.fmod([1.5, -2.0], 1.0))
    assert (tg.tensor([3, 4]) % True).tolist() == [0, 0]
    with pytest.raises(NotImplementedError):
        tg.tensor([True]) // True


@pytest.mark.parametrize("call", [lambda: tg.diag_embed(tg.tensor(1.0)),
                                  lambda: tg.trapezoid(tg.tensor(1.0)),
                                  lambda: tg.cumulative_trapezoid(tg.tensor(1.0))])
def test_zero_dim_inputs_without_a_dim_are_index_errors(call):
    with pytest.raises(IndexError, match="0-d"):
        call()


def test_trapezoid_refuses_a_bool_y():
    for op in (tg.trapezoid, tg.cumulative_trapezoid):
        with pytest.raises(RuntimeError, match="bool"):
            op(tg.tensor([True, False]))
    assert tg.trapezoid(tg.tensor([1, 3])).item() == 2.0           # integers integrate as floats


@pytest.mark.parametrize("call", [lambda: tg.nextafter(tg.tensor([1]), tg.tensor([2])),
                                  lambda: tg.logaddexp2(tg.tensor([1]), tg.tensor([2])),
                                  lambda: tg.lerp(tg.tensor([1]), tg.tensor([2]), 0.5),
                                  lambda: tg.histc(tg.tensor([1, 2]))])
def test_more_float_only_ops_refuse_integers_as_not_implemented(call):
    with pytest.raises(NotImplementedError) as info:
        call()
    assert isinstance(info.value, DTypeError)
