"""Session 31 autograd leftovers: what torch's nodes save (so which in-place writes before backward
are allowed), hooks that write their gradient in place in a graph-building backward, and exact
double-backward gradients."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import AutogradError

X = np.random.default_rng(0).uniform(0.15, 0.6, (3, 4))


def _leaf(data=X):
    return tg.tensor(data, dtype=tg.float64, requires_grad=True)


def _grad_after_writing_input(op, x_data=X):
    """op's gradient at x_data, when its input is scaled in place (under no_grad) before backward."""
    x = _leaf(x_data)
    a = x * 1.0
    y = op(a)
    with tg.no_grad():
        a.mul_(1.25)
    y.sum().backward()
    return x.grad.numpy()


# ---------------------------------------------------------------------------------------------
# 1. ops whose backward reads their result (or nothing of the input): the input may be written
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, op, slope", [
    ("tan", lambda a: a.tan(), lambda x: 1 + np.tan(x) ** 2),
    ("expm1", lambda a: a.expm1(), np.exp),
    ("exp2", lambda a: a.exp2(), lambda x: np.exp2(x) * np.log(2)),
    ("cumsum", lambda a: a.cumsum(1), lambda x: np.arange(4, 0, -1.0) + 0 * x),
    ("max_dim", lambda a: a.max(1)[0], lambda x: (x == x.max(1, keepdims=True)) * 1.0),
])
def test_an_op_that_saves_no_input_takes_an_input_written_in_place(name, op, slope):
    assert np.allclose(_grad_after_writing_input(op), slope(X), rtol=1e-13, atol=0)


@pytest.mark.parametrize("op", [lambda a: a.tan(), lambda a: a.expm1(), lambda a: a.exp2()])
def test_writing_the_saved_result_of_tan_expm1_exp2_is_still_refused(op):
    x = _leaf()
    y = op(x * 1.0)
    with pytest.raises(AutogradError):
        with tg.no_grad():
            y.mul_(1.25)
        y.sum().backward()


@pytest.mark.parametrize("op", [lambda a: a.tan(), lambda a: a.expm1(), lambda a: a.exp2()])
def test_result_saving_ops_pass_gradcheck_and_gradgradcheck(op):
    x = _leaf()
    assert tg.autograd.gradcheck(op, x)
    assert tg.autograd.gradgradcheck(op, x)


def test_double_backward_through_tan_after_its_input_was_written():
    x = _leaf()
    a = x * 1.0
    y = a.tan()
    with tg.no_grad():
        a.mul_(1.25)
    g, = tg.autograd.grad(y.sum(), x, create_graph=True)   # 1 + tan^2
    g.sum().backward()                                       # 2 tan (1 + tan^2)
    t = np.tan(X)
    assert np.allclose(g.detach().numpy(), 1 + t * t, rtol=1e-13)
    assert np.allclose(x.grad.numpy(), 2 * t * (1 + t * t), rtol=1e-12)


def test_complex_tan_and_expm1_gradients_are_conjugate_derivatives():
    z0 = X + 0.3j * X[::-1]
    for name, deriv in (("tan", lambda z: 1 + np.tan(z) ** 2), ("expm1", np.exp)):
        z = tg.tensor(z0, dtype=tg.complex128, requires_grad=True)
        out = getattr(z, name)()
        out.backward(tg.ones_like(out))
        assert np.allclose(z.grad.numpy(), np.conj(deriv(z0)), rtol=1e-13), name


def test_copysign_second_argument_may_be_written_in_place():
    x, s = _leaf(X - 0.4), _leaf(0.5 - X)
    b = s * 1.0
    y = tg.copysign(x, b)
    with tg.no_grad():
        b.mul_(-1.0)                      # flips every sign the op used
    y.sum().backward()
    expected = np.sign(X - 0.4) * np.sign(0.5 - X)
    assert np.array_equal(x.grad.numpy(), expected)
    assert np.array_equal(s.grad.numpy(), np.zeros_like(X))


def test_copysign_constant_second_argument_written_in_place():
    x = _leaf(X - 0.4)
    b = tg.tensor(0.5 - X, dtype=tg.float64)      # needs no grad
    y = tg.copysign(x, b)
    b.mul_(-1.0)
    y.sum().backward()
    assert np.array_equal(x.grad.numpy(), np.sign(X - 0.4) * np.sign(0.5 - X))


def test_copysign_gradient_is_zero_at_zero_and_double_backward_is_zero():
    data = X - 0.4
    data[0, 0] = 0.0
    x = _leaf(data)
    g, = tg.autograd.grad(tg.copysign(x, tg.tensor(-1.0, dtype=tg.float64)).sum(), x, create_graph=True)
    assert g.numpy()[0, 0] == 0.0 and np.array_equal(g.numpy().ravel()[1:], -np.sign(data).ravel()[1:])
    assert tg.autograd.gradcheck(lambda a: tg.copysign(a, tg.tensor(-1.0, dtype=tg.float64)), _leaf(X - 0.4))


@pytest.mark.parametrize("norm", [lambda a: F.layer_norm(a, (4,)),
                                  lambda a: F.group_norm(a.reshape(1, 3, 4), 1).reshape(3, 4)])
def test_layer_and_group_norm_without_weight_leave_their_output_writable(norm):
    x = _leaf()
    ref = norm(x * 1.0)
    (ref * ref).sum().backward()
    expected = x.grad.numpy().copy()
    x.grad = None
    y = norm(x * 1.0)
    w = tg.tensor(2.0 * y.detach().numpy(), dtype=tg.float64)   # d (y*y).sum() / dy, before the write
    with tg.no_grad():
        y.mul_(1.25)                      # torch's node saved no output: allowed
    y.backward(w)
    assert np.allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# 2. a hook writing its gradient in place, where the walk holds it as a read-only view
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("create_graph", [True, False])
def test_a_hook_may_scale_a_gradient_that_views_a_transposed_caller_gradient(create_graph):
    x = _leaf(np.arange(24.0).reshape(4, 6))
    y = _leaf(np.ones((4, 6)))
    a, b = x * 1.0, y * 1.0
    b.register_hook(lambda g: g.mul_(1.5))
    out = tg.stack([a, b]).sum(0)       # each gradient a view of one broadcast of g
    g = tg.tensor(np.arange(24.0).reshape(6, 4), dtype=tg.float64).t()   # (F order: a transpose)
    gx, gy = tg.autograd.grad(out, [x, y], g, create_graph=create_graph)
    expected = 1.5 * np.arange(24.0).reshape(6, 4).T     # the write is seen by both, as torch's
    assert np.array_equal(gy.detach().numpy(), expected)
    assert np.array_equal(gx.detach().numpy(), expected)
