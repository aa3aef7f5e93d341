"""Subtraction with a bool operand (a bool tensor or a Python bool) is refused, as torch's:
``1 - mask`` / ``mask - 1`` is a mask inversion gone wrong more often than 0/1 arithmetic."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeError

mask = lambda: tg.tensor([True, False])
ints = lambda: tg.tensor([2, 3])
floats = lambda: tg.tensor([2.0, 3.0])


@pytest.mark.parametrize("expr", [
    lambda: mask() - 1, lambda: 1 - mask(), lambda: ints() - True, lambda: True - ints(),
    lambda: floats() - mask(), lambda: mask() - floats(), lambda: ints().sub(True),
    lambda: ints().sub_(True), lambda: tg.sub(ints(), True), lambda: tg.subtract(floats(), mask()),
    lambda: tg.rsub(ints(), True), lambda: ints().__isub__(True), lambda: mask().sub(1.0),
])
def test_refused_with_a_bool_operand(expr):
    with pytest.raises(DTypeError, match=r"with a bool tensor is not supported.*logical_not"):
        expr()


def test_two_bool_tensors_point_at_xor():
    with pytest.raises(DTypeError, match=r"two bool tensors.*logical_xor"):
        mask() - mask()


def test_the_refused_in_place_write_leaves_the_tensor_alone():
    t = ints()
    with pytest.raises(DTypeError):
        t -= True
    assert t.tolist() == [2, 3]


@pytest.mark.parametrize("expr, expected", [
    (lambda: ints() - 1, [1, 2]), (lambda: 1 - ints(), [-1, -2]), (lambda: floats() - 1.5, [0.5, 1.5]),
    (lambda: floats() - np.bool_(True), [1.0, 2.0]),       # a NumPy bool scalar: torch takes it as 1
    (lambda: mask() + mask(), [True, False]), (lambda: mask() * 2, [2, 0]),
    (lambda: mask().long() - 1, [0, -1]), (lambda: 1 - mask().float(), [0.0, 1.0]),
])
def test_the_other_forms_still_work(expr, expected):
    assert expr().tolist() == expected
