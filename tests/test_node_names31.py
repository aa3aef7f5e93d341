"""grad_fn names and tracked-but-not-differentiable results as torch 2.13's (session 31, h31u).
The expected names are independent facts read from torch 2.13."""
import numpy as np
import pytest

import tensorgan as tg


def _pair():
    x = tg.tensor([[0.5, -1.0, 0.0], [2.0, 3.0, -0.5]], requires_grad=True)
    y = tg.tensor([[1.5, -1.0, 0.0], [2.0, 0.5, -0.5]], requires_grad=True)
    return x, y


def _edges(t):
    return [None if f is None else f.name() for f, _ in t.grad_fn.next_functions]


def test_heaviside_of_a_tracked_input_is_tracked_and_its_backward_raises():
    x, y = _pair()
    out = tg.heaviside(x, y.detach())
    assert out.requires_grad and out.grad_fn.name() == "torch::autograd::NotImplemented"
    assert _edges(out) == ["torch::autograd::AccumulateGrad"]
    np.testing.assert_array_equal(out.detach().numpy(), [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    with pytest.raises(NotImplementedError, match="derivative for 'heaviside' is not implemented"):
        out.sum().backward()
    with pytest.raises(RuntimeError, match="heaviside"):          # torch's type: RuntimeError
        tg.autograd.grad(tg.heaviside(x.detach(), y).sum(), y)
    assert len(_edges(tg.heaviside(x, y))) == 2
    with tg.no_grad():
        assert not tg.heaviside(x, y).requires_grad
    assert not tg.heaviside(x.detach(), y.detach()).requires_grad


def test_nextafter_passes_the_gradient_to_x_and_zero_to_other():
    x, y = _pair()
    out = tg.nextafter(x, y)
    assert out.grad_fn.name() == "NextafterBackward0"
    np.testing.assert_array_equal(out.detach().numpy(), np.nextafter(x.detach().numpy(), y.detach().numpy()))
    out.sum().backward()
    assert x.grad.tolist() == [[1.0] * 3] * 2 and y.grad.tolist() == [[0.0] * 3] * 2


@pytest.mark.parametrize("call, name", [
    (lambda x, y: tg.xlogy(x, y), "XlogyBackward0"),
    (lambda x, y: x.xlogy(2.0), "XlogyBackward2"),
    (lambda x, y: tg.special.xlogy(x, y), "XlogyBackward0"),
    (lambda x, y: tg.logaddexp(x, y), "LogaddexpBackward0"),
    (lambda x, y: tg.logaddexp2(x, y), "Logaddexp2Backward0"),
])
def test_binary_pointwise_names(call, name):
    x, y = _pair()
    assert call(x, y).grad_fn.name() == name
