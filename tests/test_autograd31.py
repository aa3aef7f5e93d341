"""Session 31's autograd leftovers, each as torch 2.13 does it (values hand-computed)."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import AutogradError


def _leaf(values):
    return tg.tensor(values, dtype=tg.float64, requires_grad=True)


# --- autograd.grad(create_graph=True, retain_graph=False) frees the graph, as torch's ---

def test_grad_create_graph_with_explicit_retain_false_frees_the_graph():
    x = _leaf([1.0, 2.0])
    y = (x ** 3).sum()
    g, = tg.autograd.grad(y, x, create_graph=True, retain_graph=False)
    g.sum().backward()                                   # d/dx 3x^2 = 6x: the new graph works
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])
    with pytest.raises(AutogradError, match="second time"):
        y.backward()


def test_backward_create_graph_with_explicit_retain_false_frees_the_graph():
    x = _leaf([1.0, 2.0])
    y = (x ** 3).sum()
    y.backward(create_graph=True, retain_graph=False)
    with pytest.raises(AutogradError, match="second time"):
        y.backward()


def test_grad_create_graph_default_still_keeps_the_graph():
    x = _leaf([1.0, 2.0])
    y = (x ** 3).sum()
    tg.autograd.grad(y, x, create_graph=True)            # retain_graph=None: create_graph's
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])


# --- a tensor hook may write its gradient in place (g.mul_), as torch's may ---

def _hooked_in_place(x):
    y = x * 1.0
    y.register_hook(lambda g: g.mul_(1.5))
    return y


@pytest.mark.parametrize("reduce, each", [(lambda y: y.mean(), 1.5 / 24),
                                          (lambda y: y.mean(1).sum(), 1.5 / 6),
                                          (lambda y: y.sum(), 1.5)])
def test_hook_writes_a_broadcast_gradient_in_place(reduce, each):
    # mean's backward broadcasts its gradient (a read-only view): the hook gets a copy it may write
    x = tg.ones(4, 6, dtype=tg.float64, requires_grad=True)
    reduce(_hooked_in_place(x)).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((4, 6), each))


def test_hook_writes_a_broadcast_gradient_in_place_in_graph_mode():
    # sum's graph-mode gradient is an expand of g (self-overlapping): the hook gets a clone
    x = tg.tensor(np.arange(6.0).reshape(2, 3), dtype=tg.float64, requires_grad=True)
    y = _hooked_in_place(x)
    gx, = tg.autograd.grad(y.t().sum() + (y * y).mean(), x, create_graph=True)
    # d/dx of sum(y) + mean(y^2) is 1 + 2x / 6, scaled 1.5 by the hook
    np.testing.assert_allclose(gx.detach().numpy(), 1.5 * (1 + 2 * x.detach().numpy() / 6))
    gx.sum().backward()     # d/dx sum(gx) = 1.5 * 2 / 6 each, times 1.5: y's hook runs again
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 0.75))


def test_hook_writes_a_gradient_with_a_zero_derivative_edge_in_place():
    # relu's graph-mode gradient carries a zero-derivative edge to its input (ZeroDerivative, a
    # view of g): the hook writing g in place leaves that node valid (it reads no value)
    x = _leaf([-1.0, 2.0, 3.0])
    a = x.abs()
    a.register_hook(lambda g: g.mul_(1.5))
    gx, = tg.autograd.grad(a.relu().sum(), x, create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), [-1.5, 1.5, 1.5])   # 1.5 * sign(x)
    (gx * gx).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 0.0])       # sign's derivative: 0


# --- softshrink holds its input, as torch's node: a write into it since refuses backward ---

def test_softshrink_refuses_backward_after_its_input_was_written_in_place():
    x = _leaf([0.2, 1.0, -2.0])
    a = x * 1.0
    y = F.softshrink(a, 0.5)
    y.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.0, 1.0])
    with tg.no_grad():
        a.mul_(2.0)
    with pytest.raises(AutogradError, match="Softshrink.*modified in place"):
        y.sum().backward()


def test_softshrink_values_gradients_and_double_backward():
    x = _leaf([-2.0, -0.5, -0.3, 0.0, 0.3, 0.5, 0.7, float("nan")])
    y = F.softshrink(x, 0.5)
    assert y.grad_fn.name() == "SoftshrinkBackward0"
    np.testing.assert_allclose(y.detach().numpy(), [-1.5, 0, 0, 0, 0, 0, 0.2, np.nan])
    gx, = tg.autograd.grad((y * y).sum(), x, create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), [-3.0, 0, 0, 0, 0, 0, 0.4, np.nan])  # 2y * 1{|x|>l}
    gx[:-1].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0, 0, 0, 0, 0, 2.0, 0])          # d(2y)/dx
