"""Review of session 31's layout / hook work (h31g's integer ops and roll, h31i's hook copies,
masked_fill's C order) beside torch 2.13.  Expected values come from NumPy or are torch's
documented facts (checked in a port beside torch, not imported here)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import IndexOutOfRangeError

CL = (60, 1, 15, 3)           # channels_last strides of (2, 3, 4, 5), in elements
C = (60, 20, 5, 1)


def _cl(a, **kw):
    return tg.tensor(a, **kw).contiguous(memory_format=tg.channels_last)


# --- a number beside a narrower integer tensor wraps into its dtype (torch's cast) ----------

@pytest.mark.parametrize("number", [-7, 300, 256, -2])
def test_number_floordiv_mod_pow_an_integer_tensor_wrap_the_number(number):
    u = np.array([3, 5, 200], dtype=np.uint8)
    x = tg.tensor(u)
    wrapped = np.array(number).astype(np.uint8)          # -7 -> 249, 300 -> 44 (two's complement)
    np.testing.assert_array_equal((number // x).numpy(), wrapped // u)
    np.testing.assert_array_equal((number % x).numpy(), wrapped % u)
    np.testing.assert_array_equal((number ** x).numpy(), wrapped ** u)
    assert (number // x).dtype == tg.uint8


def test_int8_wraps_a_number_above_its_range():
    i8 = np.array([3, 5], dtype=np.int8)
    np.testing.assert_array_equal((200 // tg.tensor(i8)).numpy(), np.int8(-56) // i8)   # [-19, -12]
    np.testing.assert_array_equal((200 % tg.tensor(i8)).numpy(), np.int8(-56) % i8)


def test_number_floordiv_a_channels_last_integer_tensor_wraps_and_keeps_the_layout():
    a = np.random.default_rng(0).integers(1, 250, (2, 3, 4, 5)).astype(np.uint8)
    out = -7 // _cl(a)
    assert out.stride() == CL
    np.testing.assert_array_equal(out.numpy(), np.uint8(249) // a)
