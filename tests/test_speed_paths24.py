"""Session 24 speed paths: GroupedConv's batched path (many small groups on the CPU) and the
fused WeightNorm node -- values against first-principles NumPy, gradchecks in float64."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.functional import Conv2d, GroupedConv, _batched_groups_pay
from tensorgan.nn.utils import WeightNorm, _norm_except_dim, _weight_norm


def _conv2d_ref(x, w, b, stride, padding, groups):
    """Direct grouped cross-correlation in float64 loops over taps."""
    n, c, h, wd = x.shape
    co, cg, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    og = co // groups
    y = np.zeros((n, co, oh, ow))
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
                y[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch, w[g * og:(g + 1) * og, :, i, j])
    return y + (0 if b is None else b.reshape(1, -1, 1, 1))


# (N, C_in, C_out, H, W, kH, kW, stride, padding, groups): 1-D MelGAN-like, stride > kernel,
# windows that leave trailing input rows unread, 2-D depthwise
CASES = [
    (1, 16, 16, 1, 9, 1, 13, (1, 4), (0, 6), 8),
    (2, 16, 16, 1, 7, 1, 3, (1, 2), (0, 1), 8),
    (1, 8, 16, 1, 10, 1, 1, (1, 3), (0, 0), 8),
    (2, 8, 8, 7, 6, 3, 2, (2, 3), (1, 0), 8),
    (2, 8, 16, 4, 4, 3, 3, (1, 1), (1, 1), 8),
]


@pytest.mark.parametrize("case", CASES)
def test_batched_grouped_conv_values_and_grads(case):
    n, ci, co, h, wd, kh, kw, stride, padding, groups = case
    rs = np.random.RandomState(0)
    x = rs.randn(n, ci, h, wd)
    w = rs.randn(co, ci // groups, kh, kw)
    b = rs.randn(co)
    assert _batched_groups_pay(x.shape, w.shape, groups, stride, padding)
    xt, wt, bt = (tg.tensor(a, dtype=tg.float64, requires_grad=True) for a in (x, w, b))

    def conv(a, c, d):      # (a depthwise case takes DepthwiseConv through F.conv2d: the node here)
        return GroupedConv.apply(a, c, d, Conv2d, groups, (stride, padding)) if ci == groups \
            else F.conv2d(a, c, d, stride, padding, 1, groups)
    y = conv(xt, wt, bt)
    assert type(y.grad_fn).__name__ == "GroupedConv" and y.grad_fn.batched
    ref = _conv2d_ref(x, w, b, stride, padding, groups)
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-12, atol=1e-12)
    # gradients: the adjoint identity <gy, conv(dx, w)> etc. checked numerically
    assert tg.autograd.gradcheck(conv, (xt, wt, bt))
    if case is CASES[1]:        # double backward: the per-group composite (slow to check: one case)
        assert tg.autograd.gradgradcheck(lambda a, c: F.conv2d(a, c, None, stride, padding, 1, groups), (xt, wt))


def test_batched_grouped_conv_float32_matches_per_group_path():
    rs = np.random.RandomState(1)
    x = rs.randn(2, 64, 1, 24).astype(np.float32)
    w = rs.randn(64, 4, 1, 41).astype(np.float32)
    gy = rs.randn(2, 64, 1, 6).astype(np.float32)
    outs = []
    for batched in (True, False):
        xt, wt, bt = (tg.tensor(a, requires_grad=True) for a in (x, w, np.zeros(64, np.float32)))
        if batched:
            y = F.conv2d(xt, wt, bt, (1, 4), (0, 20), 1, 16)
            assert y.grad_fn.batched
        else:
            y = tg.cat([F.conv2d(xt[:, 4 * g:4 * g + 4], wt[4 * g:4 * g + 4], bt[4 * g:4 * g + 4], (1, 4), (0, 20))
                        for g in range(16)], 1)
        y.backward(tg.tensor(gy))
        assert y.dtype == tg.float32 and xt.grad.dtype == tg.float32
        outs.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()])
    for a, c in zip(*outs):
        np.testing.assert_allclose(a, c, rtol=2e-5, atol=2e-5 * np.abs(c).max())


def test_batched_path_only_for_many_small_groups():
    assert not _batched_groups_pay((2, 8, 1, 100), (8, 2, 1, 3), 4, (1, 1), (0, 1))          # few groups
    assert not _batched_groups_pay((8, 512, 64, 64), (512, 32, 3, 3), 16, (1, 1), (1, 1))    # big images
    assert _batched_groups_pay((2, 1024, 1, 32), (1024, 4, 1, 41), 256, (1, 4), (0, 20))     # MelGAN D


@pytest.mark.parametrize("dim, shape", [(0, (4, 3, 5)), (1, (3, 4, 2)), (2, (2, 3, 4)), (-1, (3, 4))])
def test_weight_norm_is_one_node_with_composite_values(dim, shape):
    rs = np.random.RandomState(2)
    v = tg.tensor(rs.randn(*shape), dtype=tg.float64, requires_grad=True)
    gshape = () if dim == -1 else tuple(shape[d] if d == dim else 1 for d in range(len(shape)))
    g = tg.tensor(rs.rand(*gshape) + 0.5, dtype=tg.float64, requires_grad=True)
    y = _weight_norm(g, v, dim)
    assert isinstance(y.grad_fn, WeightNorm)
    vn = v.detach().numpy()
    axes = None if dim == -1 else tuple(d for d in range(len(shape)) if d != dim)
    expect = vn * g.detach().numpy() / np.sqrt((vn * vn).sum(axis=axes, keepdims=axes is not None))
    np.testing.assert_allclose(y.detach().numpy(), expect, rtol=1e-14)
    f = lambda a, c: _weight_norm(a, c, dim)
    assert tg.autograd.gradcheck(f, (g, v)) and tg.autograd.gradgradcheck(f, (g, v))


def test_weight_norm_layers_use_the_fused_node_and_train_the_same():
    tg.manual_seed(0)
    hook = tg.nn.utils.weight_norm(tg.nn.Conv1d(3, 4, 5))
    tg.manual_seed(0)
    param = tg.nn.utils.parametrizations.weight_norm(tg.nn.Conv1d(3, 4, 5))
    x = tg.randn(2, 3, 9)
    for m in (hook, param):
        y = m(x)
        assert isinstance(m.weight.grad_fn, WeightNorm)
        y.square().sum().backward()
    g_hook, v_hook = hook.weight_g.grad.numpy(), hook.weight_v.grad.numpy()
    g_par = param.parametrizations.weight.original0.grad.numpy()
    v_par = param.parametrizations.weight.original1.grad.numpy()
    np.testing.assert_allclose(g_hook, g_par, rtol=1e-6)
    np.testing.assert_allclose(v_hook, v_par, rtol=1e-6)
    # the weight's direction gradient is orthogonal to v per output channel (w depends on v / |v|)
    v = hook.weight_v.detach().numpy()
    dots = (v_hook * v).sum(axis=(1, 2))
    assert np.abs(dots).max() < 1e-5 * np.abs(v_hook).max() * np.abs(v).max() * v[0].size


def test_weight_norm_half_keeps_the_composite():
    v = tg.randn(3, 4).half().requires_grad_()
    g = _norm_except_dim(v.detach(), 0).requires_grad_()
    y = _weight_norm(g, v, 0)
    assert not isinstance(y.grad_fn, WeightNorm) and y.dtype == tg.float16
