"""Session 23's speed paths (helper l): each new fast path against the composite / NumPy
reference it replaced -- values, gradients and (where the old path had one) double backward."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan import functional as TF
from tensorgan.gradcheck import gradcheck, gradgradcheck


def _np_normalized(x, axes, eps):
    m = x.mean(axis=axes, keepdims=True)
    v = ((x - m) ** 2).mean(axis=axes, keepdims=True)
    return (x - m) / np.sqrt(v + eps)


# --- layer / group / instance norm: batch norm's fused kernel over (1, rows, positions, 1) -------
def test_normalized_trailing_dims_is_one_fused_node():
    x = tg.randn(2, 3, 4, 4, requires_grad=True)
    y = TF._normalized(x, (2, 3), 1e-5)
    # one node, not the mean / var / sub / div chain, and no view of another tensor
    assert type(y.grad_fn).__name__ == "RowNorm"
    assert type(y.grad_fn.next_functions[0][0]).__name__ == "AccumulateGrad"
    assert len(y._version_box) == 1


def test_in_place_relu_after_instance_norm_gradient():
    rs = np.random.RandomState(5)
    a = rs.randn(2, 3, 4, 4)
    g = rs.randn(2, 3, 4, 4)
    x1, x2 = tg.tensor(a, requires_grad=True), tg.tensor(a, requires_grad=True)
    y1 = F.relu(F.instance_norm(x1 * 1.0), inplace=True)
    y2 = F.relu(TF._normalized_composite(x2 * 1.0, (2, 3), 1e-5))
    np.testing.assert_allclose(y1.detach().numpy(), y2.detach().numpy(), rtol=1e-10, atol=1e-12)
    (y1 * tg.tensor(g)).sum().backward()
    (y2 * tg.tensor(g)).sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("shape,dims", [((2, 3, 5, 4), (2, 3)), ((3, 4, 7), (2,)), ((5, 6), (1,)),
                                        ((2, 2, 3, 4, 5), (2, 3, 4)), ((2, 3, 4, 5), (1, 2, 3))])
def test_normalized_matches_composite_and_numpy(shape, dims):
    rs = np.random.RandomState(0)
    a = (rs.randn(*shape) * 3 + 5).astype(np.float64)
    g = rs.randn(*shape)
    x1 = tg.tensor(a, requires_grad=True)
    x2 = tg.tensor(a, requires_grad=True)
    y1 = TF._normalized(x1, dims, 1e-5)
    y2 = TF._normalized_composite(x2, dims, 1e-5)
    np.testing.assert_allclose(y1.numpy(), _np_normalized(a, dims, 1e-5), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y1.numpy(), y2.numpy(), rtol=1e-10, atol=1e-12)
    (y1 * tg.tensor(g)).sum().backward()
    (y2 * tg.tensor(g)).sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), rtol=1e-9, atol=1e-11)
    # the gradient of a normalization is orthogonal to 1 and to xhat on every row
    xhat = _np_normalized(a, dims, 1e-5)
    assert np.abs(x1.grad.numpy().sum(axis=dims)).max() < 1e-9
    assert np.abs((x1.grad.numpy() * xhat).sum(axis=dims)).max() < 1e-4   # (0 but for eps)


def test_instance_group_layer_norm_gradcheck_and_double_backward():
    rs = np.random.RandomState(1)
    x = tg.tensor(rs.randn(2, 4, 3, 3), requires_grad=True)
    w = tg.tensor(rs.rand(4) + 0.5, requires_grad=True)
    b = tg.tensor(rs.randn(4), requires_grad=True)
    for fn in (lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
               lambda x, w, b: F.group_norm(x, 2, w, b),
               lambda x, w, b: F.layer_norm(x, (3, 3)) * w.reshape(1, 4, 1, 1) + b.reshape(1, 4, 1, 1)):
        assert gradcheck(fn, (x, w, b), eps=1e-6, atol=1e-5)
        assert gradgradcheck(fn, (x, w, b), eps=1e-6, atol=1e-4)


def test_instance_norm_float32_close_to_float64_reference():
    rs = np.random.RandomState(2)
    a = (rs.randn(4, 8, 16, 16) * 2 + 10).astype(np.float32)
    y = F.instance_norm(tg.tensor(a))
    ref = _np_normalized(a.astype(np.float64), (2, 3), 1e-5)
    assert y.dtype == tg.float32
    np.testing.assert_allclose(y.numpy(), ref, rtol=0, atol=2e-5)


def test_instance_norm_running_stats_still_updated():
    x = tg.tensor(np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4))
    rm, rv = tg.zeros(3), tg.ones(3)
    F.instance_norm(x, rm, rv, use_input_stats=True, momentum=0.5)
    a = x.numpy()
    np.testing.assert_allclose(rm.numpy(), 0.5 * a.mean(axis=2).mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(rv.numpy(), 0.5 + 0.5 * a.var(axis=2, ddof=1).mean(axis=0), rtol=1e-6)


# --- grouped convolution: one GroupedConv node, the kernel once per group on array slices -------
def _grouped_case(kind, seed, n=2, groups=3, bias=True):
    rs = np.random.RandomState(seed)
    cin, cout = 2 * groups, 4 * groups
    x = rs.randn(n, cin, 7, 6).astype(np.float32)
    if kind == "conv":
        w = rs.randn(cout, cin // groups, 3, 3).astype(np.float32)
    else:
        w = rs.randn(cin, cout // groups, 3, 3).astype(np.float32)
    b = rs.randn(cout).astype(np.float32) if bias else None
    return x, w, b


@pytest.mark.parametrize("kind", ["conv", "transpose"])
@pytest.mark.parametrize("bias", [True, False])
def test_grouped_conv_bit_identical_to_per_group_composite(kind, bias):
    x, w, b = _grouped_case(kind, 3, bias=bias)
    cls = TF.Conv2d if kind == "conv" else TF.ConvTranspose2d
    geometry = ((2, 1), (1, 0)) if kind == "conv" else ((2, 1), (1, 0), (1, 0))
    outs, grads = [], []
    for fast in (True, False):
        xt, wt = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
        bt = None if b is None else tg.tensor(b, requires_grad=True)
        if fast:
            y = TF.GroupedConv.apply(xt, wt, bt, cls, 3, geometry)
            assert type(y.grad_fn).__name__ == "GroupedConv"
            assert y.grad_fn.name() == "ConvolutionBackward0"
        else:
            y = TF._grouped_composite(cls, xt, wt, bt, 3, geometry)
        gy = np.random.RandomState(9).randn(*y.shape).astype(np.float32)
        y.backward(tg.tensor(gy))
        outs.append(y.numpy())
        grads.append([t.grad.numpy() for t in (xt, wt, bt) if t is not None])
    np.testing.assert_array_equal(outs[0], outs[1])
    for a, c in zip(*grads):
        np.testing.assert_array_equal(a, c)


def test_grouped_conv_public_api_values_and_double_backward():
    rs = np.random.RandomState(4)
    x = tg.tensor(rs.randn(1, 4, 5, 5), requires_grad=True)      # StyleGAN2's (1, B*C, H, W)
    w = tg.tensor(rs.randn(6, 2, 3, 3), requires_grad=True)
    b = tg.tensor(rs.randn(6), requires_grad=True)
    y = F.conv2d(x, w, b, padding=1, groups=2)
    # each group against an ungrouped conv of its own slice
    for g in range(2):
        ref = F.conv2d(x[:, 2 * g:2 * g + 2].detach(), w[3 * g:3 * g + 3].detach(),
                       b[3 * g:3 * g + 3].detach(), padding=1)
        np.testing.assert_allclose(y[:, 3 * g:3 * g + 3].detach().numpy(), ref.numpy(), rtol=1e-12)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2), (x, w, b))
    assert gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1, dilation=2, groups=2), (x, w, b))
    wt = tg.tensor(rs.randn(4, 1, 3, 3), requires_grad=True)       # depthwise transposed
    assert gradgradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2, groups=4), (x, wt))


# --- reflect / replicate / circular pad: C-contiguous gathers (one take per dim) ---------------
@pytest.mark.parametrize("mode,np_mode", [("reflect", "reflect"), ("replicate", "edge"),
                                          ("circular", "wrap")])
@pytest.mark.parametrize("shape,amounts", [((2, 3, 5, 6), (1, 2, 2, 1)), ((2, 3, 7), (3, 2)),
                                           ((1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2))])
def test_pad_gather_contiguous_values_and_gradient(mode, np_mode, shape, amounts):
    rs = np.random.RandomState(6)
    a = rs.randn(*shape)
    x = tg.tensor(a, requires_grad=True)
    y = F.pad(x, amounts, mode=mode)
    widths = [(0, 0)] * (len(shape) - len(amounts) // 2) + \
        [(amounts[2 * i], amounts[2 * i + 1]) for i in range(len(amounts) // 2)][::-1]
    ref = np.pad(a, widths, mode=np_mode)
    np.testing.assert_array_equal(y.detach().numpy(), ref)
    assert y.is_contiguous() and y.array.flags.c_contiguous       # torch's layout
    # gradient: each output element's gradient goes back to the element it copies
    g = rs.randn(*ref.shape)
    y.backward(tg.tensor(g))
    idx = np.pad(np.arange(a.size).reshape(shape), widths, mode=np_mode)
    expect = np.bincount(idx.ravel(), weights=g.ravel(), minlength=a.size).reshape(shape)
    np.testing.assert_allclose(x.grad.numpy(), expect, rtol=1e-12, atol=1e-12)


def test_reflect_pad_then_conv_stays_nchw_and_double_backward():
    rs = np.random.RandomState(7)
    x = tg.tensor(rs.randn(1, 2, 5, 5), requires_grad=True)
    w = tg.tensor(rs.randn(3, 2, 3, 3), requires_grad=True)
    y = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), w)
    assert y.is_contiguous()                                       # not channels_last
    assert gradgradcheck(lambda x, w: F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), w), (x, w))
    assert gradgradcheck(lambda x: F.pad(x, (2, 1, 0, 1), mode="circular") ** 2, (x,))


# --- spectral norm: W / sigma as one SpectralDivide node ----------------------------------------
@pytest.mark.parametrize("shape,dim", [((6, 3, 3, 3), 0), ((3, 5, 4, 4), 1), ((7, 9), 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_spectral_divide_bit_identical_to_composite(shape, dim, dtype):
    from tensorgan.nn.utils import _sigma, _spectral_divide
    rs = np.random.RandomState(8)
    a = rs.randn(*shape).astype(dtype)
    rows = shape[dim]
    u = tg.tensor(rs.randn(rows).astype(dtype))
    v = tg.tensor(rs.randn(a.size // rows).astype(dtype))
    g = tg.tensor(rs.randn(*shape).astype(dtype))
    w1, w2 = tg.tensor(a, requires_grad=True), tg.tensor(a, requires_grad=True)
    y1 = _spectral_divide(w1, dim, u, v)
    y2 = w2 / _sigma(w2, dim, u, v)
    assert type(y1.grad_fn).__name__ == "SpectralDivide" and y1.grad_fn.name() == "DivBackward0"
    np.testing.assert_array_equal(y1.detach().numpy(), y2.detach().numpy())
    (y1 * g).sum().backward()
    (y2 * g).sum().backward()
    np.testing.assert_array_equal(w1.grad.numpy(), w2.grad.numpy())


def test_spectral_divide_double_backward_and_layers():
    from tensorgan.nn.utils import _spectral_divide, spectral_norm
    from tensorgan.nn.utils.parametrizations import spectral_norm as p_spectral_norm
    rs = np.random.RandomState(10)
    x = tg.tensor(rs.randn(1, 2, 5, 5), requires_grad=True)
    w = tg.tensor(rs.randn(3, 2, 3, 3), requires_grad=True)
    u, v = tg.tensor(rs.randn(3)), tg.tensor(rs.randn(18))
    assert gradcheck(lambda x, w: F.conv2d(x, _spectral_divide(w, 0, u, v)), (x, w))
    assert gradgradcheck(lambda x, w: F.conv2d(x, _spectral_divide(w, 0, u, v)), (x, w))
    # both spectral norms use it, and train: the weight is W / sigma with sigma = u . W v
    tg.manual_seed(0)
    for layer in (spectral_norm(tg.nn.Conv2d(2, 3, 3).double()),
                  p_spectral_norm(tg.nn.ConvTranspose2d(2, 3, 3).double())):
        layer(x).square().sum().backward()
        assert all(p.grad is not None for p in layer.parameters())
        w_now = layer.weight
        assert type(w_now.grad_fn).__name__ == "SpectralDivide"


# --- leaky_relu's graph-mode backward: its slope array in x's dtype (no float64 temporary) ------
def test_leaky_relu_grad_graph_slope_in_input_dtype(monkeypatch):
    from tensorgan import ops
    seen = []
    real = ops.constant_times

    def spy(g, array):
        seen.append(array.dtype)
        return real(g, array)
    monkeypatch.setattr(ops, "constant_times", spy)
    a = np.array([[-2.0, -0.5, 0.0], [0.25, 3.0, -1e-3]], dtype=np.float32)
    x = tg.tensor(a, requires_grad=True)
    y = F.leaky_relu(x * 1.0, 0.2)
    g, = tg.autograd.grad((y * y).sum(), x, create_graph=True)
    assert seen and all(d == np.float32 for d in seen)
    assert g.dtype == tg.float32
    s = np.where(a > 0, np.float32(1), np.float32(0.2))
    np.testing.assert_array_equal(g.detach().numpy(), 2 * (a * s) * s)
    g.sum().backward()                  # d/dx sum(2 s^2 x) = 2 s^2
    np.testing.assert_allclose(x.grad.numpy(), 2 * s * s, rtol=1e-6)


# --- nearest upsampling by whole factors: NearestBlocks (block sums by slice adds) --------------
@pytest.mark.parametrize("shape,factor,exact", [((2, 3, 4, 5), 2, True), ((2, 3, 4, 5), (2, 3), False),
                                                ((2, 3, 7), 4, False), ((1, 2, 2, 3, 2), 2, False),
                                                ((1, 2, 3, 3), (1, 2), True)])
def test_nearest_blocks_matches_composite(shape, factor, exact):
    rs = np.random.RandomState(11)
    a = rs.randn(*shape).astype(np.float32)
    x1, x2 = tg.tensor(a, requires_grad=True), tg.tensor(a, requires_grad=True)
    y1 = F.interpolate(x1, scale_factor=factor, mode="nearest")
    assert isinstance(y1.grad_fn, TF.NearestBlocks)          # (under torch's name: UpsampleNearest{1,2,3}D)
    reps = tuple(o // n for n, o in zip(shape[2:], y1.shape[2:]))
    y2 = TF._nearest_blocks_composite(x2, reps)
    ref = a
    for d, r in enumerate(reps, start=2):
        ref = np.repeat(ref, r, axis=d)
    np.testing.assert_array_equal(y1.detach().numpy(), ref)
    assert y1.is_contiguous()
    g = tg.tensor(rs.randn(*ref.shape).astype(np.float32))
    y1.backward(g)
    y2.backward(g)
    if exact:                                  # 2-D blocks of two (or one): the same additions
        np.testing.assert_array_equal(x1.grad.numpy(), x2.grad.numpy())
    else:
        np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), rtol=1e-6, atol=1e-6)
    # each input's gradient is its block's sum
    blocks = g.numpy().reshape(*shape[:2], *[v for m, r in zip(shape[2:], reps) for v in (m, r)])
    expect = blocks.astype(np.float64).sum(axis=tuple(range(3, blocks.ndim, 2)))
    np.testing.assert_allclose(x1.grad.numpy(), expect, rtol=1e-5, atol=1e-5)


def test_nearest_blocks_double_backward_and_integers():
    x = tg.tensor(np.random.RandomState(12).randn(1, 2, 3, 3), requires_grad=True)
    assert gradgradcheck(lambda x: F.interpolate(x, scale_factor=2) ** 2, (x,))
    i = tg.tensor(np.arange(6, dtype=np.uint8).reshape(1, 1, 2, 3))      # (torch resizes uint8)
    up = F.interpolate(i, scale_factor=2)
    assert up.dtype == i.dtype
    np.testing.assert_array_equal(up.numpy(), np.arange(6).reshape(2, 3).repeat(2, 0).repeat(2, 1)[None, None])
