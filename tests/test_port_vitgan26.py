"""Session 26 ports beside torch (ViTGAN, FQ-GAN, BigGAN-deep, CoModGAN): the pieces each port
leans on, checked against NumPy, finite differences and invariants, and the error types torch
raises where the ports' edge cases hit them."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import EmptyReductionError, ShapeError, WindowArgError


def _t(a, grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# ----------------------------------------------------------------------------- ViTGAN
def _tied_l2_attention(x, w, wv, heads=2):
    """ViTGAN's discriminator attention: q = k = x W (tied), softmax(-||q_i - q_j|| / sqrt(d))."""
    b, n, _ = x.shape
    q = (x @ w.t()).reshape(b, n, heads, -1).permute(0, 2, 1, 3)
    v = (x @ wv.t()).reshape(b, n, heads, -1).permute(0, 2, 1, 3)
    att = tg.softmax(-tg.cdist(q, q, p=2) / q.shape[-1] ** 0.5, dim=-1)
    return (att @ v).permute(0, 2, 1, 3).reshape(b, n, -1)


def test_tied_qk_l2_attention_zero_diagonal_and_gradcheck():
    rng = np.random.RandomState(0)
    x, w, wv = _t(rng.randn(2, 5, 4), True), _t(rng.randn(4, 4), True), _t(rng.randn(4, 4), True)
    q = x @ w.t()
    d = tg.cdist(q, q)
    assert np.all(np.diagonal(d.detach().numpy(), axis1=1, axis2=2) == 0)
    ref = np.linalg.norm(q.detach().numpy()[:, :, None] - q.detach().numpy()[:, None], axis=-1)
    np.testing.assert_allclose(d.detach().numpy(), ref, atol=1e-12)
    # the self-distance is 0 for every q: smooth, so its gradient (0, not NaN) passes gradcheck
    assert tg.autograd.gradcheck(lambda a, b, c: _tied_l2_attention(a, b, c), (x, w, wv))


def test_cdist_more_than_25_rows_matches_direct_form_with_double_backward():
    rng = np.random.RandomState(1)
    a, b = _t(rng.randn(30, 3), True), _t(rng.randn(27, 3), True)
    d = tg.cdist(a, b)
    an, bn = a.detach().numpy(), b.detach().numpy()
    np.testing.assert_allclose(d.detach().numpy(), np.linalg.norm(an[:, None] - bn[None], axis=-1), atol=1e-12)
    assert tg.autograd.gradgradcheck(lambda p, r: tg.cdist(p, r), (a[:4], b[:3]))


def test_improved_spectral_norm_keeps_initial_sigma():
    rng = np.random.RandomState(2)
    w0 = rng.randn(6, 4)
    sigma0 = np.linalg.svd(w0, compute_uv=False)[0]
    w = _t(w0 * 3.0 + rng.randn(6, 4) * 0.1, True)          # the weight after training steps
    _, s, _ = tg.svd(w)
    w_isn = w * sigma0 / max(s)                               # builtin max over a 1-D tensor
    assert abs(np.linalg.svd(w_isn.detach().numpy(), compute_uv=False)[0] - sigma0) < 1e-12
    g, = tg.autograd.grad(tg.linalg.svdvals(w).max(), w)      # d sigma_max / dW = u1 v1^T
    u, _, vt = np.linalg.svd(w.detach().numpy())
    np.testing.assert_allclose(g.numpy(), np.outer(u[:, 0], vt[0]), atol=1e-12)


def test_overlapping_patches_via_unfold_match_numpy_and_sum_gradients():
    rng = np.random.RandomState(3)
    img = _t(rng.randn(2, 3, 8, 8), True)
    p = img.unfold(2, 6, 2).unfold(3, 6, 2)                   # patch 4 + 2 * overlap 1, stride 2
    ref = np.lib.stride_tricks.sliding_window_view(img.detach().numpy(), (6, 6), axis=(2, 3))[:, :, ::2, ::2]
    np.testing.assert_array_equal(p.detach().numpy(), ref)
    tokens = p.contiguous().view(2, 4, 3 * 36)
    g, = tg.autograd.grad(tokens.sum(), img)
    cover = np.zeros(8)
    for s in (0, 2):
        cover[s:s + 6] += 1
    np.testing.assert_array_equal(g.numpy(), np.broadcast_to(np.outer(cover, cover), (2, 3, 8, 8)))


def test_modulated_linear_as_grouped_conv1d_matches_numpy():
    """ViTGAN's SIREN patch decoder: per-sample (demodulated) weights applied by conv1d groups=B."""
    rng = np.random.RandomState(4)
    b, n, i, o = 3, 5, 4, 2
    x, wt, style = rng.randn(b, n, i), rng.randn(1, o, i, 1), rng.randn(b, i)
    weight = _t(wt) / np.sqrt(i) * _t(style).view(b, 1, i, 1)
    weight = weight * tg.rsqrt(weight.pow(2).sum([2]) + 1e-8).view(b, o, 1, 1)
    out = F.conv1d(_t(x).reshape(1, b * i, n), weight.view(b * o, i, 1), groups=b).view(b, n, o)
    wn = wt[0, :, :, 0][None] / np.sqrt(i) * style[:, None, :]
    wn = wn / np.sqrt((wn ** 2).sum(-1, keepdims=True) + 1e-8)
    # the reshape mixes (n, o) as the source does; the reference follows the same memory order
    ref = np.einsum("boi,bin->bon", wn, x.reshape(b, i, n)).reshape(b, n, o)
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-12)


def test_self_modulated_layernorm_matches_numpy():
    rng = np.random.RandomState(5)
    h, w, g, bt = rng.randn(2, 3, 4), rng.randn(2, 4), rng.randn(4, 4), rng.randn(4, 4)
    out = (_t(w) @ _t(g).t()).unsqueeze(1) * F.layer_norm(_t(h), (4,)) + (_t(w) @ _t(bt).t()).unsqueeze(1)
    ln = (h - h.mean(-1, keepdims=True)) / np.sqrt(h.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(out.numpy(), (w @ g.T)[:, None] * ln + (w @ bt.T)[:, None], atol=1e-12)


# ----------------------------------------------------------------------------- FQ-GAN
@pytest.mark.filterwarnings("ignore:This overload of add_ is deprecated")
def test_feature_quantisation_ema_dictionary_straight_through_and_commitment():
    rng = np.random.RandomState(6)
    dim, n_embed, decay, eps = 3, 4, 0.8, 1e-5
    embed0 = rng.randn(dim, n_embed)
    embed, cluster, embed_avg = _t(embed0), tg.zeros(n_embed, dtype=tg.float64), _t(embed0.copy())
    x = _t(rng.randn(2, 2, 2, dim), True)                     # (B, H, W, C), as after the permute
    flat = x.reshape(-1, dim)
    dist = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ embed + embed.pow(2).sum(0, keepdim=True)
    _, ind = (-dist).max(1)
    onehot = F.one_hot(ind, n_embed).type(flat.dtype)
    quant = F.embedding(ind.view(2, 2, 2), embed.transpose(0, 1))
    with tg.no_grad():                                        # the dictionary: EMA, no gradient
        cluster.data.mul_(decay).add_(1 - decay, onehot.sum(0))          # torch's old add_ form
        embed_avg.data.mul_(decay).add_(flat.transpose(0, 1) @ onehot, alpha=1 - decay)
        n = cluster.sum()
        embed.data.copy_(embed_avg / ((cluster + eps) / (n + n_embed * eps) * n).unsqueeze(0))
    diff = tg.mean(tg.mean((quant.detach() - x).pow(2), dim=(1, 2)), dim=(1,), keepdim=True)
    st = x + (quant - x).detach()
    g, = tg.autograd.grad((st * 2.0).sum() + diff.sum(), x)

    xn = x.detach().numpy().reshape(-1, dim)
    idx = np.argmin(((xn[:, :, None] - embed0[None]) ** 2).sum(1), axis=1)
    oh = np.eye(n_embed)[idx]
    cl = (1 - decay) * oh.sum(0)
    avg = decay * embed0 + (1 - decay) * xn.T @ oh
    np.testing.assert_allclose(cluster.numpy(), cl, atol=1e-14)
    np.testing.assert_allclose(embed.numpy(), avg / ((cl + eps) / (cl.sum() + n_embed * eps) * cl.sum()), atol=1e-12)
    q = embed0.T[idx].reshape(2, 2, 2, dim)
    np.testing.assert_allclose(st.detach().numpy(), q, atol=1e-14)
    np.testing.assert_allclose(diff.detach().numpy()[:, 0], ((q - x.detach().numpy()) ** 2).mean((1, 2, 3)), atol=1e-14)
    xa = x.detach().numpy()                                   # straight-through 2 + commitment's
    np.testing.assert_allclose(g.numpy(), 2.0 + 2 * (xa - q) / (2 * 2 * dim), atol=1e-12)


# ----------------------------------------------------------------------------- BigGAN-deep
def test_biggan_ortho_reg_gradient_is_half_the_loss_gradient():
    rng = np.random.RandomState(7)
    w = _t(rng.randn(4, 2, 3, 3), True)
    m = w.view(4, -1)
    loss = ((m @ m.t()) * (1.0 - tg.eye(4, dtype=tg.float64))).pow(2).sum()
    g, = tg.autograd.grad(0.5 * loss, w)
    with tg.no_grad():
        direct = 2 * tg.mm(tg.mm(m, m.t()) * (1.0 - tg.eye(4, device=m.device)), m)
    np.testing.assert_allclose(g.numpy(), direct.view(w.shape).numpy(), atol=1e-12)


def test_biggan_deep_skip_drops_channels_and_hier_z_chunks():
    rng = np.random.RandomState(8)
    x = _t(rng.randn(2, 8, 2, 2), True)
    skip = F.interpolate(x[:, :4], scale_factor=2)            # channel drop, then nearest upsample
    g, = tg.autograd.grad(skip.sum(), x)
    assert skip.shape == (2, 4, 4, 4)
    np.testing.assert_array_equal(g.numpy()[:, :4], 4.0)
    np.testing.assert_array_equal(g.numpy()[:, 4:], 0.0)
    z, y = _t(rng.randn(2, 6)), _t(rng.randn(2, 3))
    zs = tg.split(z, 2, 1)
    ys = [tg.cat([y, c], 1) for c in zs[1:]]
    assert [c.shape for c in zs] == [(2, 2)] * 3 and [t.shape for t in ys] == [(2, 5)] * 2


# ----------------------------------------------------------------------------- CoModGAN
def test_co_modulation_grouped_conv_equals_per_sample_conv():
    """The style is [w, encoder global code]; the fused (groups=B) modulated conv and its
    transposed upsampling form equal a loop of per-sample convolutions."""
    rng = np.random.RandomState(9)
    b, c, o, k = 2, 3, 2, 3
    w_lat, x_global = _t(rng.randn(b, 4)), _t(rng.randn(b, 5))
    mod = tg.cat([w_lat, x_global], 1)
    affine = _t(rng.randn(c, 9))
    style = (mod @ affine.t() + 1.0).view(b, 1, c, 1, 1)
    weight = _t(rng.randn(1, o, c, k, k)) * style
    weight = weight * tg.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8).view(b, o, 1, 1, 1)
    x = _t(rng.randn(b, c, 5, 5))
    fused = F.conv2d(x.reshape(1, b * c, 5, 5), weight.view(b * o, c, k, k), padding=1, groups=b).view(b, o, 5, 5)
    wt = weight.transpose(1, 2).reshape(b * c, o, k, k)
    up = F.conv_transpose2d(x.view(1, b * c, 5, 5), wt, stride=2, groups=b).view(b, o, 11, 11)
    for i in range(b):
        np.testing.assert_allclose(fused[i].numpy(), F.conv2d(x[i:i + 1], weight[i], padding=1)[0].numpy(), atol=1e-12)
        np.testing.assert_allclose(up[i].numpy(), F.conv_transpose2d(x[i:i + 1], weight[i].transpose(0, 1), stride=2)[0].numpy(),
                                   atol=1e-12)


# ----------------------------------------------------------------------------- torch's error types
@pytest.mark.parametrize("fn", [
    lambda t: t.max(0), lambda t: t.min(0), lambda t: t.argmax(0), lambda t: t.argmin(0),
    lambda t: t.amax(0), lambda t: t.amin(0), lambda t: t.argmax(), lambda t: t.median(0),
    lambda t: t.kthvalue(1, 0), lambda t: tg.mode(t, 0), lambda t: tg.nanmedian(t, 0),
    lambda t: tg.aminmax(t, dim=0)])
def test_reduction_over_an_empty_dim_is_an_index_error(fn):
    # torch: IndexError "Expected reduction dim 0 to have non-zero size" (a VQ argmin over 0 codes)
    with pytest.raises(IndexError, match="empty|size 0"):
        fn(tg.ones(0, 3))
    with pytest.raises(ShapeError):
        fn(tg.ones(0, 3))
    assert issubclass(EmptyReductionError, RuntimeError)      # (torch's max() of all: RuntimeError)


def test_unfold_and_slice_scatter_step_errors_match_torch():
    for step in (0, -1):
        with pytest.raises(RuntimeError, match="step must be an int > 0"):
            tg.ones(5).unfold(0, 2, step)
        with pytest.raises(RuntimeError, match="slice_scatter: step"):
            tg.slice_scatter(tg.zeros(4), tg.ones(2), 0, 0, 4, step)
    with pytest.raises(WindowArgError):
        tg.ones(5).unfold(0, 2, 0)
    with pytest.raises(TypeError, match="unfold: size and step must be ints, got 1.5"):
        tg.ones(5).unfold(0, 2, 1.5)
    with pytest.raises(TypeError, match="got 2.0"):
        tg.ones(5).unfold(0, 2.0, 1)
    with pytest.raises(TypeError, match="slice_scatter: step must be an int"):
        tg.slice_scatter(tg.zeros(4), tg.ones(2), 0, 0, 4, 2.0)


@pytest.mark.parametrize("sf", [0, -1, float("inf"), float("nan")])
def test_interpolate_bad_scale_factor_is_a_runtime_error(sf):
    with pytest.raises(RuntimeError, match="scale_factor must be positive and finite"):
        F.interpolate(tg.ones(1, 1, 4, 4), scale_factor=sf)
    with pytest.raises(ValueError):                           # (a ConfigError, as before)
        F.interpolate(tg.ones(1, 1, 4, 4), scale_factor=sf)


def test_lerp_shape_mismatch_is_a_shape_error_naming_lerp():
    # the no-graph fast path (an EMA update) used to leak NumPy's bare ValueError
    with pytest.raises(ShapeError, match=r"lerp: shapes \(3,\) \(input\) and \(2,\) \(end\)"):
        tg.zeros(3).lerp(tg.ones(2), 0.5)
    with pytest.raises(RuntimeError):
        tg.lerp(tg.zeros(2, 3), tg.ones(3, 2), 0.9)
    assert tg.zeros(3).lerp(tg.ones(1, 3), 0.5).shape == (1, 3)   # broadcasting still works
