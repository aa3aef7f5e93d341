"""Session 30's leftovers (from session 29's reviews): small differences from torch 2.13."""

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import AutogradError


def _leaf(*shape):
    return tg.randn(*shape, dtype=tg.float64, requires_grad=True)


# --- a view made under no_grad() of a tensor that requires grad still requires grad ------------
@pytest.mark.parametrize("make", [lambda x: x[1:], lambda x: x.view(12), lambda x: x.t(),
                                  lambda x: x.diagonal(), lambda x: x.unfold(1, 2, 1)])
def test_no_grad_view_requires_grad_as_torch(make):
    x = _leaf(3, 4)
    with tg.no_grad():
        v = make(x)
    assert v.requires_grad and v.is_leaf and v.grad_fn is None
    with pytest.raises(AutogradError, match="under no_grad"):
        v.add_(1)                          # writes with grad mode on stay refused
    with tg.no_grad():
        v.mul_(1)                          # under no_grad() too: allowed


def test_no_grad_view_builds_a_graph_whose_gradient_stops_there():
    x = _leaf(3, 4)
    with tg.no_grad():
        v = x[1:]
    y = (v * 2).sum()
    assert y.requires_grad and y.grad_fn is not None
    y.backward()
    assert x.grad is None and v.grad is None     # torch: the view has no AccumulateGrad


def test_no_grad_view_of_a_constant_or_int_view_does_not_require_grad():
    x = _leaf(3, 4)
    with tg.no_grad():
        assert not x.detach()[1:].requires_grad
        assert not tg.arange(6).view(2, 3).requires_grad
