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
    tg.manual_seed(0)
    y = op(cl)
    assert y.stride() == (120, 30, 5, 1)                      # torch's: C order
    tg.manual_seed(0)                                           # (rrelu's draws: the same ones)
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


# --- composite losses under torch's grad_fn names (their last step re-classed: no extra work) ---
_R = np.random.RandomState(3)
_X, _Y = _R.randn(4, 5), _R.randn(4, 5)
_CLS, _SIGN = np.array([0, 3, 1, 4]), np.sign(_R.randn(4, 5))
_CW, _P = _R.rand(5) + 0.5, _R.rand(4, 5)
_MULTI = np.array([[3, 0, -1, 1, 2], [1, 2, 4, -1, 0], [0, -1, 2, 2, 2], [4, 3, 2, 1, 0]])


def _t(a: np.ndarray) -> tg.Tensor:
    return tg.tensor(a, dtype=tg.float64) if a.dtype.kind == "f" else tg.tensor(a)


_LOSS_NAMES = {
    "huber": (lambda x, r: F.huber_loss(x, _t(_Y), reduction=r, delta=2.0), "HuberLossBackward0"),
    "smooth_l1": (lambda x, r: F.smooth_l1_loss(x, _t(_Y), reduction=r), "SmoothL1LossBackward0"),
    "soft_margin": (lambda x, r: F.soft_margin_loss(x, _t(_SIGN), reduction=r), "SoftMarginLossBackward0"),
    "multi_margin": (lambda x, r: F.multi_margin_loss(x, _t(_CLS), p=2, weight=_t(_CW), reduction=r),
                     "MultiMarginLossBackward0"),
    "multilabel_margin": (lambda x, r: F.multilabel_margin_loss(x, _t(_MULTI), reduction=r),
                          "MultilabelMarginLossBackward0"),
    "nll": (lambda x, r: F.nll_loss(F.log_softmax(x, 1), _t(_CLS), reduction=r), "NllLossBackward0"),
    "nll weighted": (lambda x, r: F.nll_loss(x, _t(_CLS), _t(_CW), ignore_index=1, reduction=r),
                     "NllLossBackward0"),
    "cross_entropy": (lambda x, r: F.cross_entropy(x, _t(_CLS), reduction=r), "NllLossBackward0"),
    "cross_entropy weighted": (lambda x, r: F.cross_entropy(x, _t(_CLS), weight=_t(_CW), reduction=r),
                               "NllLossBackward0"),
    "cross_entropy smoothed": (lambda x, r: F.cross_entropy(x, _t(_CLS), weight=_t(_CW), label_smoothing=0.1,
                                                            reduction=r), "AddBackward0"),
    "bce weighted": (lambda x, r: F.binary_cross_entropy(tg.sigmoid(x), _t(_P), weight=_t(_CW), reduction=r),
                     "BinaryCrossEntropyBackward0"),
}


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", sorted(_LOSS_NAMES))
def test_composite_losses_carry_torchs_node_name_and_its_gradient(name, reduction):
    loss_fn, node = _LOSS_NAMES[name]
    x = tg.tensor(_X, dtype=tg.float64, requires_grad=True)
    assert loss_fn(x, reduction).grad_fn.name() == node
    assert tg.autograd.gradcheck(lambda t: loss_fn(t, reduction), (x,))


def test_probability_cross_entropy_per_pixel_and_weighted_huber_names_are_torchs():
    x = tg.tensor(_X, dtype=tg.float64, requires_grad=True)
    names = [F.cross_entropy(x, _t(_P), reduction=r).grad_fn.name() for r in ("none", "mean", "sum")]
    assert names == ["NegBackward0", "DivBackward1", "NegBackward0"]
    pixels, targets = x.reshape(2, 5, 2), _t(_CLS.reshape(2, 2))
    assert F.cross_entropy(pixels, targets).grad_fn.name() == "NllLoss2DBackward0"
    assert F.nll_loss(pixels, targets, reduction="sum").grad_fn.name() == "NllLoss2DBackward0"
    assert F.cross_entropy(pixels, targets, reduction="none").grad_fn.name() == "ViewBackward0"
    weighted = [F.huber_loss(x, _t(_Y), reduction=r, weight=_t(_P)).grad_fn.name() for r in ("none", "mean", "sum")]
    assert weighted == ["MulBackward0", "MeanBackward0", "SumBackward0"]    # torch's composite


def test_clamp_min_max_and_margin_ranking_carry_torchs_names():
    x = tg.tensor(_X[0], dtype=tg.float64, requires_grad=True)
    bound = tg.zeros(5, dtype=tg.float64)
    assert [x.clamp_min(0).grad_fn.name(), x.clamp_min(bound).grad_fn.name(), x.clamp_max(0.5).grad_fn.name(),
            tg.clamp_min(x, 0).grad_fn.name()] == ["ClampMinBackward0", "ClampMinBackward1",
                                                   "ClampMaxBackward0", "ClampMinBackward0"]
    y = F.margin_ranking_loss(x, _t(_Y[0]), _t(_SIGN[0]), reduction="none")
    assert y.grad_fn.name() == "ClampMinBackward0"
    np.testing.assert_array_equal(x.clamp_min(0).detach().numpy(), np.maximum(_X[0], 0))


def test_renamed_nodes_are_one_class_per_name_and_keep_the_base_behaviour():
    x = tg.tensor(_X, dtype=tg.float64, requires_grad=True)
    a, b = F.huber_loss(x, _t(_Y)), F.huber_loss(x * 2, _t(_Y))
    assert type(a.grad_fn) is type(b.grad_fn) and isinstance(a.grad_fn, type(x.mean().grad_fn))
    assert type(x.mean().grad_fn).__name__ == "Mean"                  # the base class is untouched


# --- gather-like index ops: torch's node names (an advanced index is a copy: free to rename) ----
_X4 = np.random.RandomState(4).randn(4, 5)
_PICKS = {
    "gather": (lambda x: tg.gather(x, 1, tg.tensor([[0, 1], [2, 3], [4, 0], [1, 1]])), "GatherBackward0"),
    "take_along_dim": (lambda x: tg.take_along_dim(x, tg.tensor([[0], [2], [4], [1]]), 1), "GatherBackward0"),
    "take_along_dim flat": (lambda x: tg.take_along_dim(x, tg.tensor([1, 19])), "GatherBackward0"),
    "index_select": (lambda x: x.index_select(1, tg.tensor([4, 0, 4])), "IndexSelectBackward0"),
    "take": (lambda x: tg.take(x, tg.tensor([[0, 7], [7, 19]])), "TakeBackward0"),
    "masked_select": (lambda x: tg.masked_select(x, tg.tensor([True, False, True, False, True])),
                      "MaskedSelectBackward0"),
}


@pytest.mark.parametrize("name", sorted(_PICKS))
def test_gather_like_ops_carry_torchs_node_names_with_unchanged_gradients(name):
    op, node = _PICKS[name]
    x = tg.tensor(_X4, dtype=tg.float64, requires_grad=True)
    y = op(x)
    assert y.grad_fn.name() == node
    assert tg.autograd.gradcheck(op, (x,)) and tg.autograd.gradgradcheck(op, (x,))
    y.mul_(2)                                    # a copy, not a view: its own memory
    assert x.detach().numpy().tolist() == _X4.tolist()
    assert x[:, tg.tensor([0, 2])].grad_fn.name() == "IndexBackward0"    # plain indexing: torch's
    assert x[1:].grad_fn.name() == "SliceBackward0" and type(x[1:].grad_fn).__name__ == "GetItem"
