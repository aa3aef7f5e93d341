"""Session 30 (h30m): torch 2.13's grad_fn names for resizes, pads, pools, norms, rrelu, unfold /
fold, pixel_shuffle, embedding and unbatched class losses, and torch's strides for a few layouts
(names and strides read off torch beside these programs; values and gradients are checked here
against NumPy, finite differences or the unchanged composite)."""

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import functional as TF

F = tg.nn.functional
_R = np.random.RandomState(30)


def _leaf(*shape: int) -> tg.Tensor:
    return tg.tensor(_R.randn(*shape), dtype=tg.float64, requires_grad=True)


def _cl(t: tg.Tensor) -> tg.Tensor:
    return t.detach().contiguous(memory_format=tg.channels_last).requires_grad_(True)


# --- resizes, pads, pools: one name per op, whichever path computes it -----------------------
_X3, _X4, _X5 = _leaf(2, 3, 6), _leaf(2, 3, 6, 5), _leaf(1, 2, 4, 5, 6)
_NAMED = {
    "nearest 1d": (lambda: F.interpolate(_X3, scale_factor=2), "UpsampleNearest1DBackward0"),
    "nearest 1d x3": (lambda: F.interpolate(_X3, scale_factor=3), "UpsampleNearest1DBackward0"),
    "nearest 2d": (lambda: F.interpolate(_X4, scale_factor=2), "UpsampleNearest2DBackward0"),
    "nearest 2d same": (lambda: F.interpolate(_X4, size=(6, 5)), "UpsampleNearest2DBackward0"),
    "nearest 3d": (lambda: F.interpolate(_X5, scale_factor=2), "UpsampleNearest3DBackward0"),
    "nearest-exact 2d": (lambda: F.interpolate(_X4, scale_factor=2, mode="nearest-exact"),
                         "UpsampleNearestExact2DBackward0"),
    "bilinear same": (lambda: F.interpolate(_X4, size=(6, 5), mode="bilinear"), "UpsampleBilinear2DBackward0"),
    "bicubic same": (lambda: F.interpolate(_X4, size=(6, 5), mode="bicubic"), "UpsampleBicubic2DBackward0"),
    "linear same": (lambda: F.interpolate(_X3, size=6, mode="linear"), "UpsampleLinear1DBackward0"),
    "area 2d": (lambda: F.interpolate(_X4, size=(3, 2), mode="area"), "AdaptiveAvgPool2DBackward0"),
    "area 3d": (lambda: F.interpolate(_X5, size=(2, 3, 2), mode="area"), "AdaptiveAvgPool3DBackward0"),
    "reflect 1d": (lambda: F.pad(_X3, (1, 2), mode="reflect"), "ReflectionPad1DBackward0"),
    "reflect 2d": (lambda: F.pad(_X4, (1, 2, 1, 2), mode="reflect"), "ReflectionPad2DBackward0"),
    "reflect 2d of (C, H, W)": (lambda: F.pad(_X3, (1, 1, 1, 1), mode="reflect"), "ReflectionPad2DBackward0"),
    "reflect 3d": (lambda: F.pad(_X5, (1, 2, 1, 2, 1, 1), mode="reflect"), "ReflectionPad3DBackward0"),
    "replicate 1d": (lambda: F.pad(_X3, (1, 2), mode="replicate"), "ReplicationPad1DBackward0"),
    "replicate 2d": (lambda: F.pad(_X4, (1, 2, 1, 2), mode="replicate"), "ReplicationPad2DBackward0"),
    "replicate 3d": (lambda: F.pad(_X5, (1, 2, 1, 2, 1, 1), mode="replicate"), "ReplicationPad3DBackward0"),
    "ReflectionPad2d": (lambda: tg.nn.ReflectionPad2d(1)(_X4), "ReflectionPad2DBackward0"),
    "max_pool2d padded": (lambda: F.max_pool2d(_X4, 3, 2, 1), "MaxPool2DWithIndicesBackward0"),
    "max_pool2d indices": (lambda: F.max_pool2d(_X4, 2, return_indices=True)[0], "MaxPool2DWithIndicesBackward0"),
    "max_pool2d ceil": (lambda: F.max_pool2d(_X4, 3, 2, ceil_mode=True), "MaxPool2DWithIndicesBackward0"),
    "max_pool2d empty windows": (lambda: F.max_pool2d(_X4, 3, 1, 1, dilation=2), "MaxPool2DWithIndicesBackward0"),
    "max_pool3d": (lambda: F.max_pool3d(_X5, 2), "MaxPool3DWithIndicesBackward0"),
    "max_pool3d indices": (lambda: F.max_pool3d(_X5, 2, return_indices=True)[0], "MaxPool3DWithIndicesBackward0"),
    "avg_pool2d padded": (lambda: F.avg_pool2d(_X4, 3, 2, 1), "AvgPool2DBackward0"),
    "avg_pool2d divisor": (lambda: F.avg_pool2d(_X4, 2, divisor_override=3), "AvgPool2DBackward0"),
    "avg_pool3d": (lambda: F.avg_pool3d(_X5, 2), "AvgPool3DBackward0"),
    "adaptive_avg_pool2d": (lambda: F.adaptive_avg_pool2d(_X4, (4, 3)), "AdaptiveAvgPool2DBackward0"),
    "adaptive_avg_pool2d empty": (lambda: F.adaptive_avg_pool2d(_X4, (0, 2)), "AdaptiveAvgPool2DBackward0"),
    "adaptive_avg_pool3d": (lambda: F.adaptive_avg_pool3d(_X5, 2), "AdaptiveAvgPool3DBackward0"),
    "adaptive_max_pool2d": (lambda: F.adaptive_max_pool2d(_X4, (4, 3)), "AdaptiveMaxPool2DBackward0"),
    "adaptive_max_pool2d indices": (lambda: F.adaptive_max_pool2d(_X4, 3, return_indices=True)[0],
                                    "AdaptiveMaxPool2DBackward0"),
    "adaptive_max_pool2d empty": (lambda: F.adaptive_max_pool2d(_X4, (0, 2)), "AdaptiveMaxPool2DBackward0"),
    "adaptive_max_pool3d": (lambda: F.adaptive_max_pool3d(_X5, 2), "AdaptiveMaxPool3DBackward0"),
    "instance_norm": (lambda: F.instance_norm(_X4), "ViewBackward0"),
    "instance_norm affine": (lambda: F.instance_norm(_X4, weight=tg.ones(3, dtype=tg.float64),
                                                     bias=tg.zeros(3, dtype=tg.float64)), "ViewBackward0"),
    "instance_norm running": (lambda: F.instance_norm(_X4, tg.zeros(3, dtype=tg.float64), tg.ones(3, dtype=tg.float64),
                                                      use_input_stats=False), "ViewBackward0"),
    "InstanceNorm1d": (lambda: tg.nn.InstanceNorm1d(3, affine=True).double()(_X3), "ViewBackward0"),
    "rrelu eval": (lambda: F.rrelu(_X4), "RreluWithNoiseBackward0"),
    "rrelu train": (lambda: F.rrelu(_X4, training=True), "RreluWithNoiseBackward0"),
    "rrelu in place": (lambda: F.rrelu(_X4 * 1, inplace=True), "RreluWithNoiseBackward1"),
    "rrelu train in place": (lambda: F.rrelu(_X4 * 1, training=True, inplace=True), "RreluWithNoiseBackward1"),
    "rrelu_": (lambda: F.rrelu_(_X4 * 1, training=True), "RreluWithNoiseBackward1"),
    "pixel_shuffle": (lambda: F.pixel_shuffle(_leaf(1, 8, 2, 3), 2), "PixelShuffleBackward0"),
    "pixel_shuffle (C, H, W)": (lambda: F.pixel_shuffle(_leaf(8, 2, 3), 2), "PixelShuffleBackward0"),
    "pixel_unshuffle": (lambda: F.pixel_unshuffle(_leaf(2, 2, 4, 6), 2), "PixelUnshuffleBackward0"),
    "unfold": (lambda: F.unfold(_X4, 2), "Im2ColBackward0"),
    "unfold (C, H, W)": (lambda: F.unfold(_X3, 2), "Im2ColBackward0"),
    "fold": (lambda: F.fold(_leaf(1, 12, 20), (5, 6), 2), "Col2ImBackward0"),
    "fold padded": (lambda: F.fold(_leaf(1, 12, 42), (5, 6), 2, padding=1), "Col2ImBackward0"),
    "fold (C * k, L)": (lambda: F.fold(_leaf(12, 20), (5, 6), 2), "Col2ImBackward0"),
}


@pytest.mark.parametrize("name", sorted(_NAMED))
def test_nchw_ops_carry_torchs_node_name(name):
    op, node = _NAMED[name]
    assert op().grad_fn.name() == node


@pytest.mark.parametrize("name", ["nearest 2d", "reflect 2d", "max_pool2d padded", "avg_pool2d padded",
                                  "adaptive_max_pool2d", "adaptive_avg_pool2d", "pixel_shuffle"])
def test_a_channels_last_input_keeps_its_layout_under_the_same_name(name):
    op, node = _NAMED[name]
    x = _X4 if "pixel" not in name else _leaf(2, 8, 4, 6)
    fn = {"nearest 2d": lambda t: F.interpolate(t, scale_factor=2),
          "reflect 2d": lambda t: F.pad(t, (1, 2, 1, 2), mode="reflect"),
          "max_pool2d padded": lambda t: F.max_pool2d(t, 3, 2, 1),
          "avg_pool2d padded": lambda t: F.avg_pool2d(t, 3, 2, 1),
          "adaptive_max_pool2d": lambda t: F.adaptive_max_pool2d(t, (4, 3)),
          "adaptive_avg_pool2d": lambda t: F.adaptive_avg_pool2d(t, (4, 3)),
          "pixel_shuffle": lambda t: F.pixel_shuffle(t, 2)}[name]
    y = fn(_cl(x))
    assert y.grad_fn.name() == node
    assert y.is_contiguous(memory_format=tg.channels_last) and not y.is_contiguous()
    np.testing.assert_array_equal(y.detach().numpy(), fn(x).detach().numpy())


@pytest.mark.parametrize("fn, leaf", [
    (lambda t: F.interpolate(t, scale_factor=3), _X3),
    (lambda t: F.pad(t, (1, 2, 1, 2, 1, 1), mode="reflect"), _X5),
    (lambda t: F.max_pool2d(t, 3, 1, 1, dilation=2).clamp_min(-1e3), _X4),   # (-inf windows)
    (lambda t: F.avg_pool2d(t, 2, divisor_override=3), _X4),
    (lambda t: F.adaptive_max_pool2d(t, (4, 3)), _X4),
    (lambda t: F.adaptive_avg_pool3d(t, 2), _X5),
    (lambda t: F.instance_norm(t, weight=tg.ones(3, dtype=tg.float64) * 2), _X4),
    (lambda t: F.rrelu(t), _X4)])
def test_renamed_nodes_keep_their_gradients(fn, leaf):
    assert tg.autograd.gradcheck(fn, (leaf,))


def test_nearest_blocks_node_keeps_its_class_and_fast_backward():
    y = F.interpolate(_X4, scale_factor=2)
    assert isinstance(y.grad_fn, TF.NearestBlocks) and type(y.grad_fn).__name__ == "UpsampleNearest2D"
    y.backward(tg.ones(*y.shape, dtype=tg.float64))
    np.testing.assert_array_equal(_X4.grad.numpy(), np.full(_X4.shape, 4.0))
    _X4.grad = None


# --- pixel_shuffle / unfold / fold: one copying node each, values and gradients as before -----
def test_pixel_shuffle_is_one_copy_with_the_inverse_shuffle_as_gradient():
    a = _R.randn(2, 3, 8, 4, 6)
    x = tg.tensor(a, requires_grad=True)
    y = F.pixel_shuffle(x, 2)
    ref = a.reshape(2, 3, 2, 2, 2, 4, 6).transpose(0, 1, 2, 5, 3, 6, 4).reshape(2, 3, 2, 8, 12)
    np.testing.assert_array_equal(y.detach().numpy(), ref)
    assert y.is_contiguous() and y.data_ptr() != x.data_ptr()
    assert F.pixel_unshuffle(y, 2).grad_fn.name() == "PixelUnshuffleBackward0"
    np.testing.assert_array_equal(F.pixel_unshuffle(y, 2).detach().numpy(), a)
    g = _R.randn(*y.shape)
    y.backward(tg.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), F.pixel_unshuffle(tg.tensor(g), 2).numpy())
    small = _leaf(1, 4, 2, 3)
    assert tg.autograd.gradcheck(lambda t: F.pixel_shuffle(t, 2), (small,))
    assert tg.autograd.gradgradcheck(lambda t: F.pixel_unshuffle(F.pixel_shuffle(t, 2) ** 2, 2), (small,))
    ints = tg.tensor(np.arange(32).reshape(1, 8, 2, 2))
    assert F.pixel_shuffle(ints, 2).dtype == ints.dtype


def _np_unfold(a: np.ndarray, k: int, pad: int, stride: int) -> np.ndarray:
    a = np.pad(a, [(0, 0)] * (a.ndim - 2) + [(pad, pad)] * 2)
    h, w = a.shape[-2:]
    rows = range(0, h - k + 1, stride)
    cols = range(0, w - k + 1, stride)
    blocks = [a[..., i:i + k, j:j + k].reshape(*a.shape[:-2], -1) for i in rows for j in cols]
    out = np.stack(blocks, -1)                                  # (*lead, C, k*k, L)
    return out.reshape(*a.shape[:-3], -1, out.shape[-1])


@pytest.mark.parametrize("shape, pad, stride", [((2, 3, 7, 6), 1, 2), ((3, 5, 6), 0, 1), ((1, 2, 4, 4), 1, 1)])
def test_unfold_is_one_c_order_gather_and_fold_its_adjoint(shape, pad, stride):
    a = _R.randn(*shape)
    x = tg.tensor(a, requires_grad=True)
    y = F.unfold(x, 2, padding=pad, stride=stride)
    np.testing.assert_array_equal(y.detach().numpy(), _np_unfold(a, 2, pad, stride))
    assert y.is_contiguous()
    g = _R.randn(*y.shape)
    y.backward(tg.tensor(g))
    folded = F.fold(tg.tensor(g, requires_grad=True), shape[-2:], 2, padding=pad, stride=stride)
    assert folded.is_contiguous() and folded.grad_fn.name() == "Col2ImBackward0"
    np.testing.assert_allclose(x.grad.numpy(), folded.detach().numpy(), rtol=1e-13, atol=1e-13)
    # adjoint: <unfold(x), g> == <x, fold(g)>
    np.testing.assert_allclose((y.detach().numpy() * g).sum(), (a * folded.detach().numpy()).sum(), rtol=1e-12)
    small = tg.tensor(a[..., :4, :4], requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: F.unfold(t, 2, padding=pad, stride=stride), (small,))
    cols = F.unfold(small, 2, padding=pad, stride=stride).detach().requires_grad_(True)
    assert tg.autograd.gradcheck(lambda c: F.fold(c, (4, 4), 2, padding=pad, stride=stride), (cols,))


# --- embedding: EmbeddingBackward0 with every option ------------------------------------------
@pytest.mark.parametrize("options", [{}, {"padding_idx": 0}, {"scale_grad_by_freq": True}, {"max_norm": 1.0}])
def test_embedding_carries_torchs_node_name(options):
    w = _leaf(5, 3)
    ids = tg.tensor(np.array([[0, 2], [3, 2]]))
    y = F.embedding(ids, w, **options)
    assert y.grad_fn.name() == "EmbeddingBackward0"
    y.sum().backward()
    counts = np.bincount([0, 2, 3, 2], minlength=5).astype(float)
    if options.get("scale_grad_by_freq"):
        counts = (counts > 0).astype(float)
    if "padding_idx" in options:
        counts[0] = 0
    np.testing.assert_array_equal(w.grad.numpy(), np.repeat(counts[:, None], 3, 1))
    assert F.embedding(tg.tensor(np.array([4, 4])), w).grad_fn.name() == "EmbeddingBackward0"


# --- unbatched class losses with reduction='none': torch's node, 0-d, same gradient -----------
_UNBATCHED = {
    "cross_entropy": (lambda x, r: F.cross_entropy(x, tg.tensor(np.array(2)), reduction=r), "NllLossBackward0"),
    "cross_entropy weighted": (lambda x, r: F.cross_entropy(x, tg.tensor(np.array(2)), reduction=r,
                                                            weight=tg.tensor(np.arange(1.0, 6.0))), "NllLossBackward0"),
    "cross_entropy smoothed": (lambda x, r: F.cross_entropy(x, tg.tensor(np.array(2)), reduction=r,
                                                            label_smoothing=0.2), "AddBackward0"),
    "cross_entropy probabilities": (lambda x, r: F.cross_entropy(x, tg.tensor(np.full(5, 0.2)), reduction=r),
                                    "NegBackward0"),
    "nll_loss": (lambda x, r: F.nll_loss(x, tg.tensor(np.array(3)), reduction=r), "NllLossBackward0"),
    "multi_margin": (lambda x, r: F.multi_margin_loss(x, tg.tensor(np.array(2)), p=2, reduction=r),
                     "MultiMarginLossBackward0"),
    "multilabel_margin": (lambda x, r: F.multilabel_margin_loss(x, tg.tensor(np.array([2, 0, -1, 1, 1])),
                                                                reduction=r), "MultilabelMarginLossBackward0"),
}


@pytest.mark.parametrize("name", sorted(_UNBATCHED))
def test_unbatched_losses_without_reduction_carry_torchs_node(name):
    loss_fn, node = _UNBATCHED[name]
    x = _leaf(5)
    none, total = loss_fn(x, "none"), loss_fn(x, "sum")
    assert none.shape == () and none.grad_fn.name() == node
    np.testing.assert_array_equal(none.detach().numpy(), total.detach().numpy())
    assert tg.autograd.gradcheck(lambda t: loss_fn(t, "none"), (x,))


# --- layouts: torch's strides --------------------------------------------------------------
def _cl_array() -> tg.Tensor:
    return tg.tensor(_R.randn(2, 4, 6, 5), dtype=tg.float64).contiguous(memory_format=tg.channels_last)


@pytest.mark.parametrize("op, strides", [
    (lambda c: c.prod(1, keepdim=True), (30, 30, 5, 1)), (lambda c: c.prod(0, keepdim=True), (120, 30, 5, 1)),
    (lambda c: c.prod(2), (20, 5, 1)), (lambda c: (c > 0).any(1, keepdim=True), (30, 30, 5, 1)),
    (lambda c: (c > 0).all(1, keepdim=True), (30, 30, 5, 1)), (lambda c: c.cumsum(1), (120, 30, 5, 1)),
    (lambda c: c.cumprod(3), (120, 30, 5, 1))])
def test_reductions_and_scans_of_a_channels_last_input_are_c_order(op, strides):
    c = _cl_array()
    y = op(c)
    assert y.stride() == strides
    np.testing.assert_array_equal(y.numpy(), op(c.contiguous()).numpy())


def test_reductions_and_scans_of_a_transposed_matrix_are_c_order():
    t = tg.tensor(np.arange(1.0, 21.0).reshape(5, 4)).t()
    assert t.prod(1, keepdim=True).stride() == (1, 1) and t.prod(0, keepdim=True).stride() == (5, 1)
    assert t.cumsum(0).stride() == (5, 1) and t.cumprod(1).stride() == (5, 1)
    assert (t > 3).any(1, keepdim=True).stride() == (1, 1) and (t > 3).all(0, keepdim=True).stride() == (5, 1)
    np.testing.assert_array_equal(t.cumsum(0).numpy(), np.arange(1.0, 21.0).reshape(5, 4).T.cumsum(0))


def test_permutes_of_empty_tensors_report_torchs_strides():
    assert tg.zeros(0, 4).t().stride() == (1, 4) and tg.zeros(0, 4).T.stride() == (1, 4)
    assert tg.zeros(4, 0).t().stride() == (1, 1)
    assert tg.zeros(2, 0, 3).permute(2, 0, 1).stride() == (1, 3, 3)
    assert tg.zeros(0, 4).transpose(0, 1).stride() == (1, 4) and tg.zeros(0, 4, 3).mT.stride() == (12, 1, 3)
    assert tg.zeros(0, 4).t().t().stride() == (4, 1)
    x = tg.zeros(0, 4, requires_grad=True)
    x.t().sum().backward()
    assert x.grad.shape == (0, 4)


def test_an_empty_tensor_op_a_number_keeps_its_layout():
    e = tg.zeros(0, 4, 3, 2).contiguous(memory_format=tg.channels_last)
    for y in (e + 1, e * 2, e - 1, e / 2, 1 + e, e + tg.tensor(1.0)):
        assert y.shape == (0, 4, 3, 2) and y.stride() == (24, 1, 8, 4)
    assert (e + e).stride() == (24, 6, 2, 1) and (-e).stride() == (24, 6, 2, 1)    # torch's C order
    assert (tg.zeros(0, 4).t() + 1).stride() == (1, 4)
    assert (tg.zeros(2, 0, 3, 2).contiguous(memory_format=tg.channels_last) + 1).stride() == (6, 6, 2, 1)
    assert (tg.zeros(0, 3) + 1).stride() == (3, 1)
