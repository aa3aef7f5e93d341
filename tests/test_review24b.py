"""Review of session 24's engine changes (second pass): what a hostile user found."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import AutogradError


class _Kill(tg.autograd.Function):
    """Passes its input on; its backward sends no gradient (None) back."""
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return None


class _Affine(tg.autograd.Function):
    """y = 2x; backward 2g + 1 (so a call with zeros leaves ones: the call is visible)."""
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2 + 1


# -- a custom Function reached only by None gradients runs, hooks or not (torch's engine) --------

def test_ungraded_custom_function_runs_with_a_hook_on_its_output():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = _Affine.apply(x)
    seen = []
    y.register_hook(lambda g: seen.append(g))
    _Kill.apply(y).sum().backward()
    assert seen == [None]                       # torch's hook sees None
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])   # the node ran on zeros


def test_ungraded_custom_function_runs_with_retain_grad_on_its_output():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = _Affine.apply(x)
    y.retain_grad()
    _Kill.apply(y).sum().backward()
    assert y.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_ungraded_custom_function_runs_with_node_hooks():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = _Affine.apply(x)
    pre, post = [], []
    y.grad_fn.register_prehook(lambda go: pre.append(go))
    y.grad_fn.register_hook(lambda gi, go: post.append((gi, go)))
    _Kill.apply(y).sum().backward()
    assert pre == [(None,)]
    assert len(post) == 1 and post[0][1] == (None,)
    np.testing.assert_array_equal(post[0][0][0].numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_hook_replacing_a_none_gradient_is_refused():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = _Affine.apply(x)
    y.register_hook(lambda g: tg.ones(2))
    with pytest.raises(AutogradError, match="None gradient"):
        _Kill.apply(y).sum().backward()
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = _Affine.apply(x)
    y.grad_fn.register_prehook(lambda go: (tg.ones(2),))
    with pytest.raises(AutogradError, match="None gradient"):
        _Kill.apply(y).sum().backward()


def test_ungraded_multi_output_function_with_hooked_outputs():
    class Two(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 + g2 + 1

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    a, b = Two.apply(x)
    seen = []
    a.register_hook(lambda g: seen.append(g))
    b.retain_grad()
    _Kill.apply(a).sum().backward()
    assert seen == [None] and b.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
