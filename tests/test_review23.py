"""Review of session 23's merged work: the finds fixed here, each pinned by a test that fails
without its fix (no torch import: expected values from Python's / NumPy's own integers)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import InputTypeError


@pytest.mark.parametrize("call", [lambda t, v: t.sum(0, keepdim=v), lambda t, v: t.mean(0, keepdim=v),
                                  lambda t, v: t.amax(0, keepdim=v)])
def test_a_numpy_bool_flag_is_named_as_numpys_not_as_a_bare_bool(call):
    # torch: "argument 'keepdim' must be bool, not numpy.bool"; 'must be bool, not bool' named
    # nothing that was wrong
    with pytest.raises(InputTypeError, match=r"must be bool, not numpy\.bool"):
        call(tg.ones(2, 3), np.True_)
    with pytest.raises(InputTypeError, match=r"must be bool, not int \(1\)"):
        call(tg.ones(2, 3), 1)


@pytest.mark.parametrize("number", [True, False, 7, -3])
def test_a_bool_or_int_on_the_left_of_mod_and_floordiv_by_an_integer_tensor(number):
    # torch reads a Python bool as the int 0 / 1 here: integer results, as Python's own
    divisors = [2, 3, -4]
    t = tg.tensor(divisors)
    mod, div = number % t, number // t
    assert mod.dtype == tg.int64 and div.dtype == tg.int64
    assert mod.tolist() == [int(number) % d for d in divisors]
    assert div.tolist() == [int(number) // d for d in divisors]


def test_a_bool_on_the_left_of_mod_by_a_float_tensor_is_a_float_result():
    out = True % tg.tensor([0.75, 2.0])
    assert out.dtype == tg.float32
    np.testing.assert_allclose(out.numpy(), [0.25, 1.0])
