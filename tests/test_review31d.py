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


# --- roll: one RollBackward0 node always; torch's layout rule; a dim named twice ------------

@pytest.fixture
def rolled():
    a = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    return a, _cl(a).requires_grad_()


def test_roll_is_one_roll_node_where_nothing_moves_and_when_flattened(rolled):
    a, x = rolled
    for out, expected in ((tg.roll(x, 0, 0), a), (tg.roll(x, 2, 0), a), (tg.roll(x, 3), np.roll(a, 3)),
                          (tg.roll(x, -5), np.roll(a, -5)), (tg.roll(x, 120), a)):
        assert out.grad_fn.name() == "RollBackward0"
        assert out.stride() == C                     # torch: a zero step / the flattened roll is C
        np.testing.assert_array_equal(out.detach().numpy(), expected)
    z = tg.tensor(3.0, requires_grad=True)
    assert tg.roll(z, 1).grad_fn.name() == "RollBackward0" and tg.roll(z, 1).item() == 3.0
    e = tg.zeros(0, 3, requires_grad=True)
    assert tg.roll(e, 1, 1).grad_fn.name() == "RollBackward0" and tg.roll(e, 1).shape == (0, 3)


def test_flattened_roll_gradient_and_double_backward(rolled):
    a, x = rolled
    w = np.random.default_rng(2).standard_normal(a.shape)
    (g,) = tg.autograd.grad((tg.roll(x, 7) * tg.tensor(w)).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), np.roll(w, -7))
    y = tg.tensor(np.arange(6.0), requires_grad=True)
    (g,) = tg.autograd.grad((tg.roll(y, 2) ** 2).sum(), y, create_graph=True)
    assert g.grad_fn is not None
    np.testing.assert_allclose(g.detach().numpy(), 2 * np.arange(6.0))
    (g * tg.arange(6.0)).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), 2 * np.arange(6.0))


def test_roll_keeps_channels_last_only_where_every_step_moves(rolled):
    a, x = rolled
    assert tg.roll(x, (1, 1), (0, 1)).stride() == CL
    assert tg.roll(x, (1, 0), (0, 1)).stride() == C      # the second step by 0: C, as torch
    assert tg.roll(x, (2, 1), (0, 1)).stride() == C      # 2 on a dim of 2 is a step by 0
    assert tg.roll(x, 3, 1).stride() == C


def test_roll_along_a_dim_named_twice_rolls_twice(rolled):
    a, x = rolled
    out = tg.roll(x, (1, 1), (0, 0))                    # torch: allowed, 2 steps (CL kept)
    assert out.stride() == CL
    np.testing.assert_array_equal(out.detach().numpy(), a)
    m = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(tg.roll(tg.tensor(m), (2, 3), (0, 0)).numpy(), np.roll(m, 5, 0))
    np.testing.assert_array_equal(tg.roll(tg.tensor(m), (1, 1), (1, -1)).numpy(), np.roll(m, 2, 1))
    w = np.random.default_rng(3).standard_normal(m.shape)
    y = tg.tensor(m, requires_grad=True)
    (tg.roll(y, (1, 2), (1, 1)) * tg.tensor(w)).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), np.roll(w, -3, 1))


def test_roll_of_a_0d_tensor_along_a_dim_is_refused():
    z = tg.tensor(3.0)
    for d in (0, -1):
        with pytest.raises(IndexOutOfRangeError, match="0-d"):      # torch's IndexError
            tg.roll(z, 1, d)
    with pytest.raises(IndexError):
        tg.roll(z, 0, 0)


# --- an integer cast of an expand is C order, as the float one (torch's TensorIterator) -------

def test_integer_casts_of_an_expand_are_c_order():
    e = tg.zeros(2, 1, 4, 5, dtype=tg.int64).expand(2, 3, 4, 5)
    for out in (e.float(), e.double(), e.half(), e.int(), e.to(tg.uint8)):
        assert out.stride() == C                 # NumPy's 'K' gave channels_last (60, 1, 15, 3)
    assert tg.zeros(1, 3).expand(4, 3).long().stride() == (3, 1)        # a float to int: (1, 4)
    assert tg.zeros(2, 3, 4, 5, dtype=tg.int32).contiguous(
        memory_format=tg.channels_last).float().stride() == CL         # no broadcast dim: kept
    assert tg.zeros(0, 4).t().long().stride() == (1, 4)                # empty: the dim order kept
    v = np.arange(8).reshape(2, 1, 4, 1)
    f = tg.tensor(v).expand(2, 3, 4, 5).float()
    np.testing.assert_array_equal(f.numpy(), np.broadcast_to(v, (2, 3, 4, 5)))

