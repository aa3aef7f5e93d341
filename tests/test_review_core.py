"""Review of the session's core changes (tensor, ops, functional, nn, autograd): regressions
found by a second reading, each checked against torch's documented behaviour."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.autograd import Function


class _TwoOutputs(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, a, b):
        return a * 2 + b * 3


class _OneOutput(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


@pytest.mark.parametrize("make, node", [
    (lambda x: x.max(0)[0], "MaxBackward0"),
    (lambda x: x.min(0).values, "MinBackward0"),
    (lambda x: x.median(), "MedianBackward1"),
    (lambda x: _OneOutput.apply(x), "_OneOutputBackward"),
    (lambda x: _TwoOutputs.apply(x)[0], "_TwoOutputsBackward"),
])
def test_grad_fn_name_and_repr_survive_backward(make, node):
    # torch's grad_fn keeps its name after backward frees the graph; printing a loss after
    # loss.backward() (every training loop's log line) must not raise
    x = tg.tensor([1.0, 3.0, 2.0], requires_grad=True)
    y = make(x)
    y.sum().backward()
    assert y.grad_fn.name() == node
    assert f"grad_fn=<{node}>" in repr(y)
