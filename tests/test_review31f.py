"""Review of session 31's elementwise fixes (h31n): the gaps found beside torch 2.13 -- number-first
function forms with options or two numbers, integer maximum / minimum broadcast errors, ordering
comparisons with complex numbers, round(decimals=) of integers.  Expectations: NumPy or by hand."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeNotImplementedError, InputTypeError, ShapeError


def test_number_first_forms_take_alpha_and_rounding_mode():
    ints = tg.tensor([1, 2], dtype=tg.int32)
    added = tg.add(3, ints, alpha=2)                       # 3 + 2 * x; the number does not widen
    assert added.dtype == tg.int32 and added.tolist() == [5, 7]
    assert tg.sub(2.5, tg.tensor([1.0, 2.0]), alpha=2).tolist() == [0.5, -1.5]
    floor = tg.div(-7, tg.tensor([2, 3]), rounding_mode="floor")
    assert floor.dtype == tg.int64 and floor.tolist() == [-4, -3]
    out = tg.empty(2, dtype=tg.int64)
    assert tg.add(3, tg.tensor([1, 2]), alpha=2, out=out) is out and out.tolist() == [5, 7]
    leaf = tg.tensor([1.0, 2.0], requires_grad=True)
    tg.sub(3, leaf, alpha=2).sum().backward()
    assert leaf.grad.tolist() == [-2.0, -2.0]


def test_number_first_forms_of_two_numbers():
    assert tg.add(3, 4).dtype == tg.int64 and tg.add(3, 4).item() == 7
    assert tg.div(7, 2).dtype == tg.float32 and tg.div(7, 2).item() == 3.5
    assert tg.div(7, 2, rounding_mode="floor").item() == 3
    with pytest.raises(InputTypeError):                     # torch: bitwise_and(int, int) is a TypeError
        tg.bitwise_and(6, 3)
    with pytest.raises(InputTypeError, match="other must be a Tensor or a number, got str"):
        tg.add(3, "a", alpha=2)


@pytest.mark.parametrize("dtype", [tg.int32, tg.bool])
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_integer_maximum_minimum_name_shapes_that_do_not_broadcast(name, dtype):
    with pytest.raises(ShapeError, match=r"\(2,\) and \(3,\) do not broadcast"):
        getattr(tg, name)(tg.tensor([1, 0]).to(dtype), tg.tensor([1, 1, 0]).to(dtype))


@pytest.mark.parametrize("number", [2 + 0j, np.complex128(2), np.complex64(2)])
def test_ordering_a_tensor_against_a_complex_number_is_refused(number):
    x = tg.tensor([1.0, 2.0])
    for compare in (x.__lt__, x.__le__, x.__gt__, x.__ge__):
        with pytest.raises(DTypeNotImplementedError, match="not implemented for 'ComplexFloat'"):
            compare(number)
    assert (x == number).tolist() == [False, True]          # == / != still compare


def test_round_with_decimals_of_integers_is_refused():
    x = tg.tensor([1234, 5678])
    for decimals in (-2, 0):                  # 0 too: torch's round.decimals ("round_vml_cpu")
        with pytest.raises(DTypeNotImplementedError, match=rf"round\(decimals={decimals}\): not implemented for int64"):
            x.round(decimals=decimals)
    assert x.round().tolist() == [1234, 5678]
    assert x.float().round(decimals=-2).tolist() == [1200.0, 5700.0]


def test_trunc_division_reads_the_sign_in_the_result_dtype():
    # -7 (int64, 0-d) by uint8 computes in uint8: -7 wraps to 249, 249 / 2 truncates to 124
    # (the operands' signs said "negative quotient" and added one: 125)
    got = tg.tensor(-7).div(tg.tensor([2, 3], dtype=tg.uint8), rounding_mode="trunc")
    assert got.dtype == tg.uint8 and got.tolist() == [124, 83]
    got = tg.tensor([-7, 7, -6]).div(tg.tensor([2, -2, 3]), rounding_mode="trunc")
    assert got.tolist() == [-3, -3, -2]
