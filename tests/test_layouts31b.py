"""Layouts (strides) and node names beside torch 2.13, session 31 (h31g): integer // % and
minimum / maximum follow torch's TensorIterator (a non-C first operand decides; a number beside
a tensor follows the tensor), ``number ** x`` is C order, ``number % x`` follows x, roll keeps a
channels_last layout (RollBackward0) and gives a transpose C order, cat / stack of transposes are
C order, an unbatched 2-D pool of a channels_last slice is C order, an empty cast keeps the
input's dim order.  Expected strides are torch's, checked in a port beside torch."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F

CL = (105, 1, 21, 3)          # channels_last strides of (2, 3, 5, 7), in elements
C = (105, 35, 7, 1)


def _cl(a):
    return tg.tensor(a).contiguous(memory_format=tg.channels_last)


@pytest.fixture
def ints():
    rng = np.random.default_rng(0)
    a = rng.integers(1, 5, (2, 3, 5, 7))
    return a, _cl(a), tg.tensor(rng.integers(1, 5, (2, 3, 5, 7)))


@pytest.fixture
def floats():
    a = np.random.default_rng(1).standard_normal((2, 3, 5, 7))
    return a, _cl(a)


def test_integer_binary_ops_follow_a_channels_last_first_operand(ints):
    a, ic, ci = ints
    for out, expected in ((ic // ci, a // ci.numpy()), (ic % ci, a % ci.numpy()),
                          (7 // ic, 7 // a), (7 % ic, 7 % a),
                          (tg.minimum(ic, ci), np.minimum(a, ci.numpy())),
                          (tg.maximum(ic, ci), np.maximum(a, ci.numpy())), (ic ** ci, a ** ci.numpy())):
        assert out.stride() == CL and out.dtype == tg.int64
        np.testing.assert_array_equal(out.numpy(), expected)
    assert (ci // ic).stride() == C                  # a C first operand: C order


def test_number_to_a_tensor_power_is_c_order(ints, floats):
    a, ic, _ = ints
    xa, xc = floats
    out = 2 ** ic
    assert out.stride() == C and np.array_equal(out.numpy(), 2 ** a)
    x = xc.requires_grad_()
    out = 2 ** x
    assert out.stride() == C and out.grad_fn.name() == "PowBackward2"
    np.testing.assert_allclose(out.detach().numpy(), 2 ** xa)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 ** xa * np.log(2))
    t = tg.tensor(xa[0, 0]).t()
    assert (2 ** t).stride() == (5, 1)


def test_number_remainder_follows_the_tensor(floats):
    xa, xc = floats
    out = 1.5 % xc
    assert out.stride() == CL
    np.testing.assert_allclose(out.numpy(), np.mod(1.5, xa))
    t = tg.tensor(xa[0, 0]).t()                      # (7, 5), strides (1, 7)
    assert (1.5 % t).stride() == (1, 7)
    np.testing.assert_allclose((1.5 % t).numpy(), np.mod(1.5, xa[0, 0].T))


def test_roll_keeps_channels_last_and_names_its_node(floats):
    xa, xc = floats
    x = xc.requires_grad_()
    out = tg.roll(x, (1, -2), (1, 3))
    assert out.stride() == CL and out.grad_fn.name() == "RollBackward0"
    np.testing.assert_array_equal(out.detach().numpy(), np.roll(xa, (1, -2), (1, 3)))
    w = np.random.default_rng(2).standard_normal(xa.shape)
    (out * tg.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.roll(w, (-1, 2), (1, 3)))
    t = tg.tensor(xa[0, 0]).t()
    assert tg.roll(t, 1, 0).stride() == (5, 1)       # a transpose: C order, as torch
    assert tg.roll(x, 3).grad_fn.name() == "RollBackward0"     # flattened: one node, as torch 2.13


def test_roll_double_backward():
    x = tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=tg.float64, requires_grad=True)
    (g,) = tg.autograd.grad((tg.roll(x, 1, 0) ** 2 * tg.arange(4.0)).sum(), x, create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.roll(np.arange(4.0), -1))


def test_cat_and_stack_of_transposes_are_c_order(floats):
    xa, xc = floats
    t = tg.tensor(xa[0, 0]).t()
    assert tg.cat([t, t], 0).stride() == (5, 1) and tg.cat([t, t], 1).stride() == (10, 1)
    assert tg.stack([t, t]).stride() == (35, 5, 1) and tg.stack([t, t], 2).stride() == (10, 2, 1)
    np.testing.assert_array_equal(tg.stack([t, t], 1).numpy(), np.stack([xa[0, 0].T] * 2, 1))
    assert tg.cat([xc, xc], 1).stride() == (210, 1, 42, 6)          # all channels_last: kept
    assert tg.stack([xc, xc], 2).stride() == (210, 1, 105, 21, 3)   # cat(.., 2).view, as torch
    assert tg.stack([xc, xc], 4).stride() == (210, 70, 14, 2, 1)
    np.testing.assert_array_equal(tg.stack([xc, xc], 2).numpy(), np.stack([xa, xa], 2))


def test_unbatched_max_pool2d_of_a_channels_last_slice_is_c_order(floats):
    xa, xc = floats
    x = xc.requires_grad_()
    for out in (F.max_pool2d(x[0], 2), F.max_pool2d(x[0], 2, return_indices=True)[0]):
        assert out.stride() == (6, 3, 1) and out.grad_fn.name() == "MaxPool2DWithIndicesBackward0"
        np.testing.assert_array_equal(out.detach().numpy(), F.max_pool2d(tg.tensor(xa[0]), 2).numpy())
    F.max_pool2d(x[0], 2).sum().backward()
    assert x.grad.numpy()[1:].sum() == 0 and x.grad.numpy()[0].sum() == 18


def test_empty_cast_keeps_the_dim_order():
    assert tg.zeros(0, 4).t().double().stride() == (1, 4)
    assert tg.zeros(0, 4).t().to(tg.float16).numpy().shape == (4, 0)
