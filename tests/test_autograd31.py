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
