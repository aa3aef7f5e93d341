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
    (lambda x: x.median(), "MedianBackward0"),     # (torch 2.13: median(dim) is ...Backward1)
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


def test_ddp_without_process_group_raises_a_typed_config_error():
    import tensorgan.distributed as dist
    from tensorgan.errors import ConfigError
    if dist.is_initialized():
        pytest.skip("a process group is already initialized in this test process")
    with pytest.raises(ConfigError, match="init_process_group"):
        tg.nn.parallel.DistributedDataParallel(tg.nn.Linear(2, 2))


def test_gradcheck_unknown_flag_is_a_typed_input_error():
    from tensorgan.errors import InputTypeError
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    with pytest.raises(InputTypeError, match="check_typo"):
        tg.autograd.gradcheck(lambda t: t * t, (x,), check_typo=True)
    assert tg.autograd.gradcheck(lambda t: t * t, (x,), fast_mode=True)


@pytest.mark.parametrize("value, expected", [(-2.0, -1.0), (0.0, 0.0), (3.5, 1.0),
                                             (float("nan"), 0.0)])
def test_sign_of_a_0d_float_tensor(value, expected):
    # NumPy's sign of a 0-d array is a scalar, which the NaN -> 0 fix-up could not write into
    for requires_grad in (False, True):
        x = tg.tensor(value, requires_grad=requires_grad)
        y = x.sign()
        assert y.shape == () and y.item() == expected
    v = tg.tensor([float("nan"), -0.5, 2.0]).sign()
    assert v.tolist() == [0.0, -1.0, 1.0]
