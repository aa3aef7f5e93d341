"""Session 30 (h30i): memory layouts and grad_fn names as torch 2.13's (strides and names below
were read off torch beside these programs; values and gradients never depend on the layout)."""

import numpy as np
import pytest

import tensorgan as tg

F = tg.nn.functional


def _cl_leaf(seed: int = 0) -> tuple:
    base = np.random.RandomState(seed).randn(2, 4, 6, 5)
    x = tg.tensor(base, dtype=tg.float64).contiguous(memory_format=tg.channels_last)
    return x.requires_grad_(True), tg.tensor(base, dtype=tg.float64, requires_grad=True)


def _is_cl(t: tg.Tensor) -> bool:
    return t.is_contiguous(memory_format=tg.channels_last) and not t.is_contiguous()


_W = tg.tensor(np.random.RandomState(5).randn(4), dtype=tg.float64)
_KEEP_CL = {
    "batch_norm train": lambda x: F.batch_norm(x, None, None, _W, _W, training=True),
    "batch_norm eval": lambda x: F.batch_norm(x, _W * 0, _W * _W, _W, training=False),
    "group_norm": lambda x: F.group_norm(x, 2, _W, _W),
    "nearest": lambda x: F.interpolate(x, scale_factor=2),
    "nearest odd": lambda x: F.interpolate(x, size=(7, 9)),
    "bilinear": lambda x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True),
    "pad": lambda x: F.pad(x, (1, 2, 3, 4), value=0.5),
    "pad reflect": lambda x: F.pad(x, (1, 2, 3, 4), mode="reflect"),
    "pad replicate": lambda x: F.pad(x, (1, 2, 3, 4), mode="replicate"),
    "conv_transpose2d": lambda x: F.conv_transpose2d(x, tg.ones(4, 3, 3, 3, dtype=tg.float64), stride=2),
    "max_pool2d": lambda x: F.max_pool2d(x, 2),
    "max_pool2d padded": lambda x: F.max_pool2d(x, 3, 2, 1),
    "avg_pool2d padded": lambda x: F.avg_pool2d(x, 3, 2, 1),
    "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
    "adaptive_max_pool2d": lambda x: F.adaptive_max_pool2d(x, (3, 2)),
    "BatchNorm2d module": lambda x: tg.nn.BatchNorm2d(4).double()(x),
    "MaxPool2d module": lambda x: tg.nn.MaxPool2d(3, 2, 1)(x),
    "Upsample module": lambda x: tg.nn.Upsample(scale_factor=2)(x),
}


@pytest.mark.parametrize("name", sorted(_KEEP_CL))
def test_nchw_ops_keep_a_channels_last_input_layout_with_the_same_values(name):
    op = _KEEP_CL[name]
    cl, c = _cl_leaf()
    y_cl, y_c = op(cl), op(c)
    assert _is_cl(y_cl) and y_c.is_contiguous()                 # torch keeps channels_last
    np.testing.assert_array_equal(y_cl.detach().numpy(), y_c.detach().numpy())
    assert y_cl.grad_fn.name() == y_c.grad_fn.name()             # the op's own node name
    w = tg.tensor(np.random.RandomState(1).randn(*y_c.shape), dtype=tg.float64)
    (y_cl * w).sum().backward()
    (y_c * w).sum().backward()
    assert _is_cl(cl.grad) and c.grad.is_contiguous()
    np.testing.assert_array_equal(cl.grad.numpy(), c.grad.numpy())


def test_max_pool_indices_and_no_grad_results_keep_channels_last_too():
    cl, _ = _cl_leaf()
    values, indices = F.max_pool2d(cl, 3, 2, 1, return_indices=True)
    assert _is_cl(values) and _is_cl(indices)
    with tg.no_grad():
        assert _is_cl(F.avg_pool2d(cl, 3, 2, 1)) and _is_cl(F.pad(cl, (1, 1, 1, 1)))


def test_circular_pad_and_instance_norm_give_c_order_as_torch():
    cl, _ = _cl_leaf()
    assert F.pad(cl, (1, 2, 3, 4), mode="circular").stride() == (416, 104, 8, 1)
    assert F.instance_norm(cl).is_contiguous()


@pytest.mark.parametrize("op", [lambda x: F.softmax(x, 1), lambda x: F.log_softmax(x, 1),
                                lambda x: F.softmax(x, -1), F.logsigmoid,
                                lambda x: F.rrelu(x), lambda x: F.rrelu(x, training=True)])
def test_softmax_logsigmoid_rrelu_results_are_c_order_whatever_the_input(op):
    cl, c = _cl_leaf()
    y = op(cl)
    assert y.stride() == (120, 30, 5, 1)                      # torch's: C order
    if y.grad_fn.name() != "MulBackward0":                      # (rrelu's draws differ)
        np.testing.assert_array_equal(y.detach().numpy(), op(c).detach().numpy())
    t = tg.tensor(np.arange(20.0).reshape(5, 4), dtype=tg.float64).t()
    assert op(t).stride() == (5, 1)


def test_rrelu_in_place_keeps_its_input():
    cl, _ = _cl_leaf()
    x = cl.detach().clone()
    assert F.rrelu(x, inplace=True) is x and _is_cl(x)


@pytest.mark.parametrize("op, strides", [
    (lambda x: x.sum(1, keepdim=True), (30, 30, 5, 1)), (lambda x: x.mean(1, keepdim=True), (30, 30, 5, 1)),
    (lambda x: x.amax(1, keepdim=True), (30, 30, 5, 1)), (lambda x: x.max(1, keepdim=True)[0], (30, 30, 5, 1)),
    (lambda x: x.mean(0, keepdim=True), (120, 30, 5, 1)), (lambda x: x.sum(2), (20, 5, 1)),
    (lambda x: x.var(1, keepdim=True), (30, 30, 5, 1)), (lambda x: x.amin(0, keepdim=True), (120, 30, 5, 1))])
def test_reductions_of_a_channels_last_input_are_c_order_with_torchs_strides(op, strides):
    cl, c = _cl_leaf()
    assert op(cl).stride() == strides and op(c).stride() == strides
    np.testing.assert_allclose(op(cl).detach().numpy(), op(c).detach().numpy(), rtol=1e-15, atol=1e-15)


def test_reductions_of_a_transposed_matrix_have_torchs_strides():
    t = tg.tensor(np.arange(20.0).reshape(5, 4)).t()
    assert t.sum(0, keepdim=True).stride() == (5, 1) and t.sum(1, keepdim=True).stride() == (1, 1)
    assert t.amax(0, keepdim=True).stride() == (5, 1)


@pytest.mark.parametrize("shape, strides", [((0, 4), (4, 1)), ((4, 0), (1, 1)), ((0,), (1,)),
                                            ((2, 0, 3), (3, 3, 1)), ((0, 3, 4, 5), (60, 20, 5, 1)),
                                            ((2, 0, 4, 5), (20, 20, 5, 1))])
def test_empty_tensors_report_torchs_row_major_strides(shape, strides):
    z = tg.zeros(*shape)
    assert z.stride() == strides and z.stride(-1) == strides[-1] and z.is_contiguous()
    if len(shape) == 4:
        assert not z.is_contiguous(memory_format=tg.channels_last)


def test_empty_tensors_keep_a_channels_last_layout():
    c = tg.zeros(0, 3, 4, 5).contiguous(memory_format=tg.channels_last)
    assert c.stride() == (60, 1, 15, 3) and c.is_contiguous()
    assert c.is_contiguous(memory_format=tg.channels_last) and c.dim_order() == (0, 2, 3, 1)
    e = tg.empty(0, 3, 4, 5, memory_format=tg.channels_last)
    assert e.stride() == (60, 1, 15, 3) and tg.empty_like(c).stride() == (60, 1, 15, 3)
    assert c.clone().stride() == (60, 1, 15, 3)
    assert tg.zeros(2, 0, 4, 5).contiguous(memory_format=tg.channels_last).stride() == (0, 1, 0, 0)
    assert tg.zeros(3, 4)[:, :0].stride() == (4, 1)            # an empty view keeps its steps


@pytest.mark.parametrize("mode, name", [("nearest", "UpsampleNearest"), ("nearest-exact", "UpsampleNearestExact")])
@pytest.mark.parametrize("shape, size", [((2, 3, 5), 7), ((2, 3, 5, 4), (7, 6)), ((1, 2, 3, 4, 5), (4, 5, 6))])
def test_nearest_resize_by_an_odd_factor_is_c_order_under_torchs_node(mode, name, shape, size):
    x = tg.tensor(np.random.RandomState(2).randn(*shape), dtype=tg.float64, requires_grad=True)
    y = F.interpolate(x, size=size, mode=mode)
    assert y.is_contiguous() and y.grad_fn.name() == f"{name}{len(shape) - 2}DBackward0"
    assert tg.autograd.gradcheck(lambda t: F.interpolate(t, size=size, mode=mode), (x,))
