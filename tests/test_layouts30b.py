"""Session 30 (h30s): layout leftovers beside torch 2.13 -- a channels_last input's raw gradient
(autograd.grad), the relayout folded into the op's own node, elementwise layouts and refusals.
Expected strides were read off torch beside these programs; values never depend on a layout."""
from __future__ import annotations

import numpy as np
import pytest

import tensorgan as tg

F = tg.nn.functional
_CL_STRIDES = (120, 1, 20, 4)          # (2, 4, 6, 5) channels_last
_C_STRIDES = (120, 30, 5, 1)


def _pair(seed: int = 0) -> tuple:
    base = np.random.RandomState(seed).randn(2, 4, 6, 5)
    x = tg.tensor(base, dtype=tg.float64).contiguous(memory_format=tg.channels_last)
    return x.requires_grad_(True), tg.tensor(base, dtype=tg.float64, requires_grad=True)


_W = tg.tensor(np.random.RandomState(5).randn(4), dtype=tg.float64)
_W3 = tg.tensor(np.random.RandomState(6).randn(3, 4, 3, 3), dtype=tg.float64)
_FOLLOW_INPUT = {       # torch lays the input's gradient out as the input, whatever g's layout
    "batch_norm": lambda x: F.batch_norm(x, None, None, _W, _W, training=True),
    "batch_norm eval": lambda x: F.batch_norm(x, _W * 0, _W * _W, _W, training=False),
    "group_norm": lambda x: F.group_norm(x, 2, _W, _W),
    "max_pool2d": lambda x: F.max_pool2d(x, 2),
    "max_pool2d padded": lambda x: F.max_pool2d(x, 3, 2, 1),
    "avg_pool2d": lambda x: F.avg_pool2d(x, 2),
    "adaptive_max_pool2d": lambda x: F.adaptive_max_pool2d(x, (3, 2)),
    "reflect": lambda x: F.pad(x, (1, 2, 1, 2), mode="reflect"),
    "replicate": lambda x: F.pad(x, (1, 2, 1, 2), mode="replicate"),
    "conv2d": lambda x: F.conv2d(x, _W3),
    "conv_transpose2d": lambda x: F.conv_transpose2d(x, _W3.transpose(0, 1).contiguous()),
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
    "rrelu": lambda x: F.rrelu(x),
    "rrelu training": lambda x: F.rrelu(x, training=True),
}
_FOLLOW_GRAD = {        # torch's gradient takes g's layout
    "constant pad": lambda x: F.pad(x, (1, 2, 1, 2)),
    "nearest": lambda x: F.interpolate(x, scale_factor=2),
    "bilinear": lambda x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True),
    "times 2": lambda x: x * 2,
}


def _raw_grad(op, x: tg.Tensor, g_format) -> tg.Tensor:
    tg.manual_seed(0)
    y = op(x)
    g = tg.tensor(np.random.RandomState(1).randn(*y.shape), dtype=tg.float64)
    return tg.autograd.grad(y, x, g.contiguous(memory_format=g_format))[0]


@pytest.mark.parametrize("g_format", [tg.contiguous_format, tg.channels_last])
@pytest.mark.parametrize("name", sorted(_FOLLOW_INPUT) + sorted(_FOLLOW_GRAD))
def test_raw_input_gradient_of_a_channels_last_input_has_torchs_layout_and_values(name, g_format):
    op = _FOLLOW_INPUT.get(name) or _FOLLOW_GRAD[name]
    cl, c = _pair()
    got, expected = _raw_grad(op, cl, g_format), _raw_grad(op, c, g_format)
    follows_input = name in _FOLLOW_INPUT or g_format is tg.channels_last
    assert got.stride() == (_CL_STRIDES if follows_input else _C_STRIDES)
    if name in _FOLLOW_INPUT or g_format is tg.contiguous_format:
        assert expected.stride() == _C_STRIDES       # (a C input: C order, as before)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name", ["batch_norm", "max_pool2d", "reflect", "conv2d", "conv_transpose2d", "rrelu"])
def test_relayout_is_folded_into_the_ops_own_node(name):
    """No second node of the op's name between the result and the input (was a relayout node):
    ``next_functions`` leads straight to the input's AccumulateGrad, as torch's."""
    cl, _ = _pair()
    y = _FOLLOW_INPUT[name](cl)
    first = y.grad_fn.next_functions[0][0]
    assert first.name() == "torch::autograd::AccumulateGrad" and first.variable is cl


def test_folded_node_keeps_its_name_and_double_backward():
    cl, c = _pair()
    for x in (cl, c):
        y = F.max_pool2d(x, 2)
        assert y.grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert tg.autograd.gradcheck(lambda t: F.avg_pool2d(t, 2), (cl,))
    assert tg.autograd.gradgradcheck(lambda t: F.batch_norm(t, None, None, _W, _W, training=True), (cl,))


def test_backward_seed_keeps_its_layout_and_stays_the_callers_own():
    cl, _ = _pair()
    y = cl * 1
    seed = tg.ones_like(y)                         # channels_last
    (g,) = tg.autograd.grad(y, cl, seed)
    assert g.stride() == _CL_STRIDES
    g.mul_(3)
    assert seed.numpy().max() == 1.0
    expanded = tg.ones(4, 1, dtype=tg.float64).expand(4, 3)     # not dense: a C-order copy
    t = tg.zeros(4, 3, dtype=tg.float64, requires_grad=True)
    (t * 1).backward(expanded)
    assert t.grad.stride() == (3, 1)


def test_integer_over_a_bool_tensor_is_int64_and_a_bool_over_it_is_refused():
    mask = tg.tensor([True, True])
    for got, expected in ((1 // mask, [1, 1]), (np.int64(3) // mask, [3, 3]), (1 % mask, [0, 0])):
        assert got.dtype == tg.int64 and got.tolist() == expected     # (was float32)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        1 // tg.tensor([True, False])
    for op in (lambda m: True // m, lambda m: True % m):
        with pytest.raises(NotImplementedError, match="bool"):
            op(mask)
    assert (np.True_ // mask).dtype == tg.float32 and (2.5 % mask).tolist() == [0.5, 0.5]


def test_dropout_refuses_a_probability_that_requires_grad():
    x = tg.ones(3)
    with pytest.raises(TypeError, match="'p' must be float"):
        F.dropout(x, p=tg.tensor(0.5, requires_grad=True))
    assert F.dropout(x, p=tg.tensor(0.0)).tolist() == [1.0, 1.0, 1.0]
