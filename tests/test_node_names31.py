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


@pytest.mark.parametrize("op, name", [("maximum", "MaximumBackward0"), ("minimum", "MinimumBackward0"),
                                      ("fmax", "FmaxBackward0"), ("fmin", "FminBackward0")])
def test_elementwise_extremes_are_one_node_with_torch_gradients(op, name):
    a = np.array([1.0, 2.0, np.nan, 3.0, np.nan, -1.0])
    b = np.array([1.0, 5.0, 0.0, np.nan, np.nan, -2.0])
    x, y = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    out = getattr(tg, op)(x, y)
    assert out.grad_fn.name() == name
    assert _edges(out) == ["torch::autograd::AccumulateGrad"] * 2
    np.testing.assert_array_equal(out.detach().numpy(), getattr(np, op)(a, b))
    out.sum().backward()
    if op in ("maximum", "minimum"):       # a tie splits; NaN on either side: 1 to both
        first_wins = [0.5, op == "minimum", 1.0, 1.0, 1.0, op == "maximum"]
        second = [0.5, op == "maximum", 1.0, 1.0, 1.0, op == "minimum"]
    else:                                  # the kept operand takes it all (a tie: the first)
        first_wins = [1.0, op == "fmin", 0.0, 1.0, 1.0, op == "fmax"]
        second = [1.0 - v for v in first_wins]
    np.testing.assert_array_equal(x.grad.numpy(), np.array(first_wins, dtype=float))
    np.testing.assert_array_equal(y.grad.numpy(), np.array(second, dtype=float))


def test_ldexp_cummax_cummin_and_scans_of_a_0d_tensor_names():
    x, _ = _pair()
    assert tg.ldexp(x, tg.tensor([1, 2, 3])).grad_fn.name() == "LdexpBackward0"
    assert tg.cummax(x, 1).values.grad_fn.name() == "CummaxBackward0"
    assert tg.cummin(x, 0).values.grad_fn.name() == "CumminBackward0"
    one = x[1, 1]                                   # 0-d: one node on the input's
    for out, name in ((tg.cummax(one, 0).values, "CummaxBackward0"), (tg.cumsum(one, 0), "CumsumBackward0"),
                      (tg.cumprod(one, 0), "CumprodBackward0"), (tg.logcumsumexp(one, 0), "LogcumsumexpBackward0")):
        assert out.grad_fn.name() == name and _edges(out) == ["SelectBackward0"]
        assert out.item() == 3.0


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_logcumsumexp_is_named_as_torch_and_matches_numpy(dim):
    a = np.array([[0.5, -50.0, 2.0], [0.0, 3.0, -0.5]])
    x = tg.tensor(a, requires_grad=True)
    out = tg.logcumsumexp(x, dim)
    assert out.grad_fn.name() == "LogcumsumexpBackward0"
    np.testing.assert_allclose(out.detach().numpy(), np.logaddexp.accumulate(a, axis=dim), rtol=1e-15)
    out.sum().backward()
    expected = np.flip(np.cumsum(np.flip(np.exp(-np.logaddexp.accumulate(a, axis=dim)), dim), dim), dim) * np.exp(a)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-13)


@pytest.mark.parametrize("call, name", [
    (lambda t: t.squeeze_(), "SqueezeBackward3"), (lambda t: t.squeeze_(0), "SqueezeBackward4"),
    (lambda t: t.squeeze_((0,)), "SqueezeBackward5"), (lambda t: t.unsqueeze_(0), "UnsqueezeBackward1"),
    (lambda t: t.t_(), "TBackward1"), (lambda t: t.transpose_(0, 1), "TransposeBackward1"),
])
def test_in_place_view_ops_have_torch_in_place_names(call, name):
    x = tg.ones(1, 3, requires_grad=True)
    out = call(x * 1)
    assert out.grad_fn.name() == name
    out.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0, 1.0]]
    assert (x * 1).squeeze().grad_fn.name() == "SqueezeBackward0"       # out of place: unchanged
