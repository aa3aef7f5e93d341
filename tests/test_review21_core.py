"""Review of session 21's core changes (tensor engine, autograd, nn): regressions found."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import AutogradError


# -- in-place writes through a .detach() alias of an op's saved output -------------------------
# torch refuses the backward (the saved output's version changed); the gradient was silently
# computed from the overwritten values.

@pytest.mark.parametrize("op", ["exp", "tanh", "sigmoid", "relu"])
def test_write_through_detach_of_saved_output_refuses_backward(op):
    x = tg.tensor([-1.0, 2.0], requires_grad=True)
    y = getattr(x, op)()
    y.detach().mul_(3.0)
    with pytest.raises(AutogradError, match="saved for backward was modified in place"):
        y.sum().backward()


def test_write_through_detach_of_a_view_of_saved_output_refuses_autograd_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    d = y[0:1].detach()
    d[0] = 7.0
    with pytest.raises(AutogradError, match="ExpBackward0"):
        tg.autograd.grad(y.sum(), x)


def test_write_through_detach_of_unsaved_output_keeps_gradient():
    # Mul does not save its output: the write is harmless, the gradient is d(3x)/dx = 3
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    d = y.detach()
    d.zero_()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(y.detach().numpy(), [0.0, 0.0])


def test_write_through_detach_without_backward_is_allowed():
    # as torch: only a backward through the node is refused, the write itself is fine
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    y = x.exp()
    d = y.detach()
    d.add_(1.0)
    np.testing.assert_allclose(y.detach().numpy(), [2.0, np.e + 1.0], rtol=1e-6)


# -- pickle / deepcopy of a leaf whose AccumulateGrad was handed out ----------------------------

def test_pickle_of_leaf_after_next_functions():
    import pickle
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    _ = (x * 1.0).grad_fn.next_functions      # creates x's AccumulateGrad (held weakly)
    y = pickle.loads(pickle.dumps(x))
    np.testing.assert_array_equal(y.numpy(), [1.0, 2.0])
    assert y.requires_grad


def test_deepcopy_gets_its_own_accumulate_grad_and_no_hooks():
    import copy
    m = tg.nn.Linear(2, 1)
    calls = []
    acc = m.weight.expand_as(m.weight).grad_fn.next_functions[0][0]
    acc.register_hook(lambda grad_inputs, grad_outputs: calls.append("original"))
    m.bias.register_hook(lambda g: g * 100.0)
    m2 = copy.deepcopy(m)
    acc2 = (m2.weight * 1.0).grad_fn.next_functions[0][0]
    assert acc2.variable is m2.weight and acc2 is not acc
    m2(tg.ones(1, 2)).sum().backward()
    assert calls == []                                   # the original's hooks stay behind
    np.testing.assert_array_equal(m2.bias.grad.numpy(), [1.0])
    m(tg.ones(1, 2)).sum().backward()
    assert calls == ["original"]
    np.testing.assert_array_equal(m.bias.grad.numpy(), [100.0])


# -- utils.checkpoint: a closed-over activation that shares ancestry with a closed-over leaf -------

def _ckpt_setup():
    from tensorgan.utils.checkpoint import checkpoint
    x = tg.tensor([[1.0, -2.0]], dtype=tg.float64, requires_grad=True)
    w = tg.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=tg.float64, requires_grad=True)
    h = x @ w                                   # w is used before the block and inside it

    def block(a):
        return (a @ w).tanh() * h               # closes over w and the activation h

    return checkpoint, x, w, h, block


def test_checkpoint_closed_over_activation_and_parameter_backward():
    grads = []
    for use_checkpoint in (False, True):
        checkpoint, x, w, h, block = _ckpt_setup()
        y = checkpoint(block, x, use_reentrant=False) if use_checkpoint else block(x)
        y.sum().backward()                      # was: "graph that was already freed"
        grads.append((x.grad.numpy(), w.grad.numpy()))
    for plain, ckpt in zip(*grads):
        np.testing.assert_allclose(ckpt, plain, rtol=1e-12)


def test_checkpoint_closed_over_activation_create_graph_matches_plain():
    results = []
    for use_checkpoint in (False, True):
        checkpoint, x, w, h, block = _ckpt_setup()
        y = checkpoint(block, x, use_reentrant=False) if use_checkpoint else block(x)
        gx, gw = tg.autograd.grad(y.sum(), [x, w], create_graph=True)
        penalty = (gx ** 2).sum() + (gw ** 2).sum()
        second = tg.autograd.grad(penalty, [x, w])
        results.append([g.detach().numpy() for g in (gx, gw, *second)])
    for plain, ckpt in zip(*results):        # gw counted the path through h twice
        np.testing.assert_allclose(ckpt, plain, rtol=1e-10)
