"""Gradient values a random-program fuzz against torch found different (session 30): autograd.grad's
capture of a hooked non-leaf input, where's saved tensors, double backward.  Expected values are
hand-derived (no torch)."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import AutogradError


def _hooked(factor: float = 2.0):
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    h = x * 3.0
    h.register_hook(lambda g: g * factor)
    return x, h


def _values(grads) -> list:
    return [g.numpy().tolist() for g in grads]


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_captures_an_input_the_walk_goes_through_before_its_hooks(create_graph):
    # torch's engine captures h's gradient at its node's input buffer: before h's tensor hooks
    # when the walk goes on through h's node (x asked too); the hook still acts further back
    x, h = _hooked()
    gh, gx = tg.autograd.grad(h * 1.0, [h, x], tg.ones(2, dtype=tg.float64), create_graph=create_graph)
    assert _values([gh, gx]) == [[1.0, 1.0], [6.0, 6.0]]
    x, h = _hooked()
    assert _values(tg.autograd.grad(h * 1.0, [x, h], tg.ones(2, dtype=tg.float64))) == [[6.0, 6.0], [1.0, 1.0]]


def test_grad_captures_after_the_hooks_where_the_walk_stops():
    x, h = _hooked()          # nothing before h asked: its hooks run, then the capture
    assert _values(tg.autograd.grad(h * 1.0, [h], tg.ones(2, dtype=tg.float64))) == [[2.0, 2.0]]
    x, h = _hooked()          # h2 goes on (h asked), h stops: 1 for h2, h2's hook * 5 for h
    h2 = h * 1.0
    h2.register_hook(lambda g: g * 5.0)
    assert _values(tg.autograd.grad(h2 * 1.0, [h2, h], tg.ones(2, dtype=tg.float64))) == [[1.0, 1.0], [10.0, 10.0]]
    leaf = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)   # a leaf: after its hooks
    leaf.register_hook(lambda g: g * 2.0)
    assert _values(tg.autograd.grad(leaf * 3.0, [leaf], tg.ones(2, dtype=tg.float64))) == [[6.0, 6.0]]


def test_backward_inputs_and_retain_grad_see_the_hooked_gradient():
    # backward(inputs=[h, x]) keeps h's gradient as retain_grad does (torch retains it): after hooks
    x, h = _hooked()
    (h * 1.0).sum().backward(inputs=[h, x])
    assert _values([h.grad, x.grad]) == [[2.0, 2.0], [6.0, 6.0]]
    x, h = _hooked()          # retain_grad runs after every tensor hook, whenever registered
    h.retain_grad()
    h.register_hook(lambda g: g * 7.0)
    (h * 1.0).sum().backward()
    assert _values([h.grad, x.grad]) == [[14.0, 14.0], [42.0, 42.0]]


def test_grad_before_hooks_result_is_the_callers_to_write():
    x, h = _hooked()
    kept = []
    h.register_hook(lambda g: kept.append(g) or g)
    gh, gx = tg.autograd.grad(h * 1.0, [h, x], tg.ones(2, dtype=tg.float64))
    gh.add_(100.0)            # writing the result leaves what the hooks saw alone
    assert _values([gx]) == [[6.0, 6.0]] and kept[0].numpy().tolist() == [2.0, 2.0]


def test_where_backward_again_after_a_side_was_written():
    # where's backward reads only the condition (torch saves only it): an optimizer-like write of
    # a side after the op leaves a retained graph's second backward valid
    x = tg.tensor([1.0, -2.0], dtype=tg.float64, requires_grad=True)
    y = tg.tensor([3.0, 4.0], dtype=tg.float64, requires_grad=True)
    out = tg.where(x > 0, x, y).sum()
    out.backward(retain_graph=True)
    with tg.no_grad():
        x.add_(1.0)
        y.mul_(2.0)
    out.backward()
    assert _values([x.grad, y.grad]) == [[2.0, 0.0], [0.0, 2.0]]


def test_where_double_backward_after_a_side_was_written():
    x = tg.tensor([1.0, -2.0, 3.0], dtype=tg.float64, requires_grad=True)
    y = tg.tensor([3.0, 4.0, 5.0], dtype=tg.float64, requires_grad=True)
    gx, gy = tg.autograd.grad(tg.where(x > 0, x * x, y * y).sum(), [x, y], create_graph=True)
    s = (gx * gx).sum() + (gy * y).sum()   # 4x^2 where x > 0, 2y^2 elsewhere
    s.backward(retain_graph=True)
    assert _values([x.grad, y.grad]) == [[8.0, 0.0, 24.0], [0.0, 16.0, 0.0]]
    with tg.no_grad():
        x.add_(1.0)
    s.backward()
    assert _values([x.grad, y.grad]) == [[16.0, 0.0, 48.0], [0.0, 32.0, 0.0]]


@pytest.mark.parametrize("activation", [F.elu, F.celu, F.hardtanh, F.hardswish])
def test_activations_built_on_where_still_refuse_a_written_input(activation):
    # torch's EluBackward0 / HardswishBackward0 / ... save the input: writing it is refused
    x = tg.tensor([1.0, -2.0], dtype=tg.float64, requires_grad=True)
    out = activation(x).sum()
    out.backward(retain_graph=True)
    with tg.no_grad():
        x.add_(1.0)
    with pytest.raises(AutogradError, match="modified in place"):
        out.backward()


def test_hardswish_values_unchanged():
    x = tg.tensor([-4.0, -3.0, -1.0, 0.5, 3.0, 4.0], dtype=tg.float64, requires_grad=True)
    y = F.hardswish(x)
    y.sum().backward()
    xs = x.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), xs * np.clip(xs + 3, 0, 6) / 6)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 1 / 6, 0.5 / 3 + 0.5, 1.0, 1.0])


def _tanh_case(hook_factor=None):
    x = tg.tensor([0.5, -1.0], dtype=tg.float64, requires_grad=True)
    g = tg.tensor([1.0, 2.0], dtype=tg.float64)
    y = x.tanh()
    if hook_factor is None:
        y.retain_grad()
    else:
        y.register_hook(lambda grad: grad * hook_factor)
    (gx,) = tg.autograd.grad(y, [x], g, create_graph=True)
    (gx * gx).sum().backward()
    return x, y, g.numpy(), np.tanh(x.detach().numpy()), gx


def test_double_backward_through_a_retained_output_fills_its_grad():
    # tanh's gradient reads its result y: the double backward goes through y itself, as torch's,
    # so y's retained .grad gets dS/dy on top of the first gradient g (S = sum(g^2 (1-y^2)^2))
    x, y, g, t, _ = _tanh_case()
    ds_dy = -4 * g * g * t * (1 - t * t)
    np.testing.assert_allclose(y.grad.numpy(), g + ds_dy, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), ds_dy * (1 - t * t), rtol=1e-12)


def test_double_backward_through_a_hooked_output_runs_its_hook():
    # torch's hooks sit on y's node: the doubling hook acts on the first gradient (gx = 2 g (1-y^2))
    # and again on what the second backward sends through y: x.grad = 2 * dS/dy * (1-y^2)
    x, y, g, t, gx = _tanh_case(hook_factor=2.0)
    np.testing.assert_allclose(gx.detach().numpy(), 2 * g * (1 - t * t), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), -32 * g * g * t * (1 - t * t) ** 2, rtol=1e-12)


@pytest.mark.parametrize("op", ["exp", "sigmoid", "sqrt"])
def test_double_backward_through_hooked_outputs_matches_finite_differences(op):
    # S(x) = sum((3 g f'(x))^2) where the hook triples y's gradient; the second backward through y
    # is tripled too: x.grad = 3 * dS/dx (S's own derivative, by central differences)
    x0, g = np.array([0.5, 1.5]), np.array([1.0, 2.0])
    x = tg.tensor(x0, dtype=tg.float64, requires_grad=True)
    y = getattr(x, op)()
    y.register_hook(lambda grad: grad * 3.0)
    (gx,) = tg.autograd.grad(y, [x], tg.tensor(g, dtype=tg.float64), create_graph=True)
    (gx * gx).sum().backward()
    deriv = {"exp": np.exp, "sigmoid": lambda v: np.exp(-v) / (1 + np.exp(-v)) ** 2,
             "sqrt": lambda v: 0.5 / np.sqrt(v)}[op]
    s = lambda v: ((3 * g * deriv(v)) ** 2).sum()
    eps, fd = 1e-6, []
    for i in range(2):
        step = np.zeros(2)
        step[i] = eps
        fd.append((s(x0 + step) - s(x0 - step)) / (2 * eps))
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array(fd), rtol=1e-6)


def test_backward_inputs_counts_a_retained_input_once_and_keeps_it_retained():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    (h * h).sum().backward(inputs=[h])               # d/dh sum(h^2) = 2h = 6x, once
    assert h.grad.numpy().tolist() == [6.0, 12.0] and x.grad is None
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    h = x * 3.0
    out = (h * h).sum()
    out.backward(inputs=[h], retain_graph=True)      # torch retains a non-leaf input for good
    out.backward()
    assert h.grad.numpy().tolist() == [12.0, 24.0] and h.retains_grad


def _hooked_root():
    """Leaves a, b and y = 2a with retain_grad, a tensor hook and a node prehook that log to seen."""
    a = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([3.0, 4.0], dtype=tg.float64, requires_grad=True)
    y, seen = a * 2.0, []
    y.retain_grad()
    y.register_hook(lambda g: seen.append("tensor hook"))
    y.grad_fn.register_prehook(lambda go: seen.append("node prehook"))
    return b, y, seen


def test_grad_leaves_a_root_that_leads_to_no_input_alone():
    # torch's engine never runs a node no input asked for: a root's own hooks, retain_grad and
    # grad_fn hooks do not fire when only another root leads to the inputs
    b, y, seen = _hooked_root()
    (gb,) = tg.autograd.grad([y, b * 3.0], [b], [tg.ones(2, dtype=tg.float64)] * 2)
    assert gb.numpy().tolist() == [3.0, 3.0] and y.grad is None and seen == []
    y.sum().backward(inputs=[y])         # a root that is an input: its gradient, as always
    assert y.grad.numpy().tolist() == [1.0, 1.0]


def test_grad_of_a_lone_root_leading_to_no_input_still_runs_its_tensor_hooks():
    # one root is torch's graph root itself: its tensor hooks (retain_grad too) run, its node not
    b, y, seen = _hooked_root()
    assert tg.autograd.grad(y, [b], tg.ones(2, dtype=tg.float64), allow_unused=True) == (None,)
    assert y.grad.numpy().tolist() == [1.0, 1.0] and seen == ["tensor hook"]
