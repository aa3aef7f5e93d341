"""Tensor creation and dtype inference as torch's (session 28's differential fuzzing): a
sequence's dtype is its elements' dtypes promoted, tensors inside a sequence are numbers, and
creation functions refuse what torch refuses instead of a silently different result."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import ShapeError, ValueOverflowError


@pytest.fixture
def default_float64():
    tg.set_default_dtype(tg.float64)
    yield
    tg.set_default_dtype(tg.float32)


# -- a sequence's dtype: its elements' dtypes promoted ------------------------------------------
@pytest.mark.parametrize("data, dtype", [
    ([np.uint8(3), np.uint8(4)], np.uint8),          # NumPy values keep their dtype
    ([np.float16(1)], np.float16),
    ([np.int16(2), np.int16(3)], np.int16),
    ([np.int32(1)], np.int32),
    ([np.uint8(1), np.int8(1)], np.int16),           # promoted as types: uint8 with int8 is int16
    ([np.float16(1), 2], np.float16),                # a Python int is int64: float16 stays
    ([np.float16(1), 2.0], np.float32),              # a Python float is the default float
    ([np.int32(1), 1.5], np.float32),
    ([np.uint8(1), -1], np.int64),
    ([[np.uint8(2), True]], np.uint8),
    ([np.ones(2, np.int16), np.ones(2, np.int16)], np.int16),   # arrays inside a list too
    ([True, 1], np.int64),
    ([np.float32(1), np.float64(2)], np.float64),
    ([np.complex64(1), np.uint8(2)], np.complex64),
    ([], np.float32),
    ([[]], np.float32),
])
def test_sequence_dtype_is_elements_promoted(data, dtype):
    t = tg.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(data, dtype=dtype))


def test_tensor_elements_count_with_their_dtype():
    assert tg.tensor([tg.tensor(2, dtype=tg.int32)]).dtype == np.int32
    assert tg.tensor([tg.tensor(1, dtype=tg.uint8), tg.tensor(2, dtype=tg.int16)]).dtype == np.int16


def test_sequence_dtype_under_float64_default(default_float64):
    assert tg.tensor([np.complex64(1), tg.tensor(2, dtype=tg.uint8)]).dtype == np.complex64
    assert tg.tensor([np.float32(1), 1.0]).dtype == np.float64
    assert tg.tensor([1j]).dtype == np.complex128
    assert tg.tensor([np.float16(1), 2]).dtype == np.float16


def test_range_is_a_sequence_of_ints():
    t = tg.tensor(range(3))
    assert t.dtype == np.int64 and t.tolist() == [0, 1, 2]
    assert tg.tensor(range(0)).dtype == np.float32


def test_uint64_value_beyond_int64_is_refused():
    with pytest.raises(ValueOverflowError, match="uint64"):
        tg.tensor(np.uint64(2 ** 64 - 1))
    with pytest.raises(OverflowError):
        tg.as_tensor(np.array([1, 2 ** 63], dtype=np.uint64))
    assert tg.tensor(np.array([5], dtype=np.uint64)).tolist() == [5]


# -- tensors inside a sequence are numbers -------------------------------------------------------
@pytest.mark.parametrize("dtype", [None, tg.float64])
def test_one_element_tensor_in_a_list_is_a_number(dtype):
    t = tg.tensor([tg.ones(1), tg.full((1, 1), 3.0)], dtype=dtype)
    assert t.shape == (2,) and t.tolist() == [1.0, 3.0]
    assert tg.tensor([[tg.ones(1)], [2.0]], dtype=dtype).shape == (2, 1)


def test_legacy_constructor_reads_tensor_elements_as_numbers():
    t = tg.Tensor([tg.ones(1, dtype=tg.bool), False])
    assert t.dtype == np.float32 and t.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("dtype", [None, tg.float32])
def test_larger_tensor_in_a_list_is_refused(dtype):
    with pytest.raises(ShapeError, match="only one element tensors"):
        tg.tensor([tg.ones(2), tg.ones(2)], dtype=dtype)
    with pytest.raises(ValueError, match=r"shape \(0,\)"):
        tg.tensor([tg.ones(0)], dtype=dtype)


@pytest.mark.parametrize("dtype", [None, tg.float64])
def test_tensor_element_that_requires_grad_is_read_with_a_warning(dtype):
    x = tg.ones((), requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = tg.tensor([x * 2, x], dtype=dtype)
    assert t.tolist() == [2.0, 1.0] and not t.requires_grad
    assert caught and all(w.filename == __file__ for w in caught)
    assert "requires_grad=True" in str(caught[0].message)


def test_arrays_in_a_list_still_stack():
    t = tg.tensor([np.ones(2), np.zeros(2)], dtype=tg.float32)
    assert t.shape == (2, 2) and t.dtype == np.float32


@pytest.mark.filterwarnings("ignore:Casting complex values")   # NumPy's first try, then redone
def test_complex_tensor_element_into_a_real_dtype():
    one = tg.tensor([2 + 0j])
    assert tg.tensor([one], dtype=tg.float32).tolist() == [2.0]      # a real value: cast
    with pytest.raises(ValueOverflowError, match="complex"):
        tg.tensor([tg.tensor([2 + 3j])], dtype=tg.float64)           # torch refuses it too


@pytest.mark.parametrize("args", [(2 ** 62,), (2 ** 31, 2 ** 31)])
def test_legacy_constructor_refuses_an_overflowing_size(args):
    with pytest.raises(OverflowError, match="overflowed"):
        tg.Tensor(*args)


def test_legacy_constructor_refuses_a_complex_scalar():
    with pytest.raises(TypeError, match="sequence"):
        tg.Tensor(np.complex64(3))


# -- arange / linspace / logspace / full --------------------------------------------------------
def test_arange_counts_bools_as_ints():
    assert tg.arange(0, True).dtype == np.int64 and tg.arange(0, True).tolist() == [0]
    assert tg.arange(tg.tensor(True)).dtype == np.int64
    assert tg.arange(True, 5, 2).tolist() == [1, 3]


def test_arange_reads_numpy_bounds_as_numbers():
    assert tg.arange(-1, np.uint16(1)).tolist() == [-1, 0]          # NumPy would overflow uint16
    with pytest.raises(ValueError, match="inconsistent with step sign"):
        tg.arange(np.bool_(True), -2 ** 63, 10.0)


def test_arange_huge_int_and_complex_bounds():
    with pytest.raises(OverflowError, match="int too big"):
        tg.arange(2 ** 70)
    assert tg.arange(1 + 0j, 4).tolist() == [1.0, 2.0, 3.0]          # no imaginary part: its real
    with pytest.raises(OverflowError, match="complex"):
        tg.arange(0, 3, 1 + 1j)


@pytest.mark.parametrize("op", [tg.linspace, tg.logspace])
def test_space_ends_must_be_0d_tensors(op):
    with pytest.raises(RuntimeError, match="0-dimensional"):
        op(tg.tensor([1.0]), 2, 3)
    assert op(tg.tensor(1.0), 2, 2).shape == (2,)


def test_linspace_complex_ends_are_complex():
    t = tg.linspace(0j, 1 + 2j, 3)
    assert t.dtype == np.complex64 and t.tolist() == [0j, 0.5 + 1j, 1 + 2j]
    assert tg.linspace(-1, 1 + 0j, 1).dtype == np.complex64
    assert tg.linspace(tg.tensor(1 + 1j), 2, 2).tolist() == [1 + 1j, 2 + 0j]
    with pytest.raises(TypeError, match="complex"):
        tg.linspace(0, 1j, 2, dtype=tg.float32)


def test_logspace_complex_ends(default_float64):
    t = tg.logspace(0, 2j, 2)
    assert t.dtype == np.complex128
    np.testing.assert_allclose(t.numpy(), [1, 10 ** 2j])


@pytest.mark.parametrize("op, first", [(tg.linspace, 5.0), (tg.logspace, 1e5)])
def test_one_step_is_the_start_even_for_an_infinite_end(op, first):
    assert op(5, float("inf"), 1).tolist() == [first]


def test_integer_linspace_converts_the_ends_first():
    # -1 into uint8 is 255; the float64 step -127 from there: 255, 128, 1
    assert tg.linspace(-1, 1, 3, dtype=tg.uint8).tolist() == [255, 128, 1]
    assert tg.linspace(0, 10, 7, dtype=tg.int32).tolist() == [0, 1, 3, 5, 6, 8, 10]
    assert tg.linspace(-3.7, 9.2, 6, dtype=tg.int64).tolist() == [-3, 0, 1, 4, 6, 9]


@pytest.mark.parametrize("start, end, dtype", [(float("nan"), 0, tg.int64), (-2 ** 63, 1, tg.uint8),
                                               (300, 1, tg.uint8)])
def test_integer_linspace_refuses_ends_outside_the_dtype(start, end, dtype):
    with pytest.raises(OverflowError, match="without overflow"):
        tg.linspace(start, end, 2, dtype=dtype)


@pytest.mark.parametrize("value, dtype", [(70000.0, tg.float16), (2 ** 63, tg.float16),
                                          (1e300, tg.float32), (float("nan"), tg.uint8)])
def test_full_refuses_a_value_outside_the_dtype(value, dtype):
    with pytest.raises(OverflowError, match="without overflow"):
        tg.full((2,), value, dtype=dtype)


def test_full_keeps_values_that_fit():
    assert tg.full((2,), 65504.0, dtype=tg.float16).tolist() == [65504.0, 65504.0]
    assert tg.full((2,), float("inf"), dtype=tg.float16).tolist() == [float("inf")] * 2
    assert tg.full((2,), -1, dtype=tg.uint8).tolist() == [255, 255]


@pytest.mark.parametrize("args, expected", [((0.5, 5, 1), [0, 1, 2, 3, 4]),
                                            ((-2.7, 5, 1.9), [-2, -1, 0, 1, 2, 3, 4]),
                                            ((10, 0.5, -1.5), list(range(10, 0, -1)))])
def test_integer_arange_cuts_float_bounds_and_step_first(args, expected):
    # torch counts an integer range in int64: -2.7, 5, 1.9 become -2, 5, 1
    assert tg.arange(*args, dtype=tg.int64).tolist() == expected


def test_arange_errors_are_torch_runtime_errors():
    from tensorgan.errors import ConfigError
    with pytest.raises(RuntimeError, match="step must be nonzero") as info:
        tg.arange(0, 5, 0)
    assert isinstance(info.value, TypeError)              # (tensorgan's InputTypeError before)
    with pytest.raises(ValueError, match="cut to an int"):
        tg.arange(3.0, 10, 0.5, dtype=tg.int64)
    with pytest.raises(RuntimeError, match="inconsistent") as info:
        tg.arange(5, 0, 1)
    assert isinstance(info.value, ConfigError)
    with pytest.raises(RuntimeError, match="finite"):
        tg.arange(float("nan"), 0)


def test_integer_logspace_cuts_its_ends():
    assert tg.logspace(0.5, 2.5, 3, dtype=tg.int64).tolist() == [1, 10, 100]
    assert tg.logspace(0, 2, 5, base=3.0, dtype=tg.int32).tolist() == [1, 1, 3, 5, 9]
    with pytest.raises(OverflowError):
        tg.logspace(False, float("nan"), 5, dtype=tg.uint8)


def test_space_nan_and_bool_ends_follow_torchs_formula():
    assert np.isnan(tg.logspace(float("nan"), 0, 2).numpy()).all()     # not NumPy's exact end
    t = tg.linspace(float("inf"), True, 5).numpy()
    np.testing.assert_array_equal(np.isnan(t), [True, True, False, False, True])
    assert tg.linspace(True, 3, 3).tolist() == [1.0, 2.0, 3.0]
    assert tg.linspace(2 ** 63, 0, 0, dtype=tg.int16).shape == (0,)   # no values: nothing to convert


@pytest.mark.parametrize("data", [None, "a", ["a"], [None], [1.0, None], {1: 2}, {1, 2},
                                  (x for x in range(2))])
def test_unconvertible_data_is_torchs_error_types(data):
    from tensorgan.errors import InputTypeError
    with pytest.raises(InputTypeError) as info:       # (what tensorgan raised before)
        tg.tensor(data)
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ValueError)


def test_integer_arange_keeps_a_float_end():
    assert tg.arange(0.1, dtype=tg.int16).tolist() == [0]      # ceil(0.1 / 1) values from 0


def test_one_step_integer_space_checks_only_what_it_makes():
    assert tg.linspace(0, 300, 1, dtype=tg.uint8).tolist() == [0]         # the end is not used
    assert tg.logspace(-2.25, -5, 1, dtype=tg.uint8).tolist() == [0]      # 10 ** -2.25, cut
    with pytest.raises(OverflowError):
        tg.logspace(3, 1, 1, dtype=tg.uint8)                              # 1000 is no uint8
