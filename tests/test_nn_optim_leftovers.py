"""torch 2.13 names that tensorgan.nn, nn.functional, optim and nn.utils lacked: lp_pool3d,
fractional_max_pool3d, the 3-D *_with_indices forms, multi_head_attention_forward,
linear_cross_entropy, LPPool3d, FractionalMaxPool3d, CrossMapLRN2d, SyncBatchNorm,
LinearCrossEntropyLoss, Adafactor, Muon, SparseAdam and nn.utils' submodule paths.  Values
against NumPy formulas written from torch's documentation (optimizers: their algorithm boxes),
float64 gradchecks / gradgradchecks, and typed refusals."""
import itertools
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import functional as F, nn
from tensorgan.errors import CheckpointError, ConfigError, InputTypeError, ShapeError


def t64(a, grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def sample(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# -- lp_pool3d / LPPool3d ------------------------------------------------------------------------
def np_lp_pool3d(x, p, k, s, ceil_mode):
    """(sum over each window of x^p) ** (1/p), windows by torch's output-size rule (no padding);
    a ceil_mode window cut by the edge is torch's avg_pool of it (over the elements inside) times
    the whole kernel's volume, i.e. its sum scaled by volume / elements inside."""
    sizes = x.shape[-3:]
    outs = [(n - kk + (ss - 1 if ceil_mode else 0)) // ss + 1 for n, kk, ss in zip(sizes, k, s)]
    outs = [o - 1 if ceil_mode and (o - 1) * ss >= n else o for o, ss, n in zip(outs, s, sizes)]
    y = np.empty(x.shape[:-3] + tuple(outs))
    for i, j, l in itertools.product(*map(range, outs)):
        w = x[..., i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1], l * s[2]:l * s[2] + k[2]]
        scale = np.prod(k) / np.prod(w.shape[-3:])
        y[..., i, j, l] = ((w ** p).sum(axis=(-3, -2, -1)) * scale) ** (1 / p)
    return y


@pytest.mark.parametrize("p,k,s,ceil_mode,batched", [(2, (2, 3, 2), (2, 2, 3), False, True),
                                                     (3.0, 2, None, False, False),
                                                     (1.5, (2, 2, 2), (2, 3, 2), True, True)])
def test_lp_pool3d_values_gradients_and_module(p, k, s, ceil_mode, batched):
    x = np.abs(sample((2, 3, 5, 6, 7) if batched else (3, 5, 6, 7))) + 0.1
    k3 = (k,) * 3 if isinstance(k, int) else k
    s3 = k3 if s is None else s
    want = np_lp_pool3d(x, p, k3, s3, ceil_mode)
    y = F.lp_pool3d(t64(x), p, k, s, ceil_mode)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(nn.LPPool3d(p, k, s, ceil_mode)(t64(x)).numpy(), want, rtol=1e-12)
    small = t64(np.abs(sample((1, 2, 3, 3, 4), 1)) + 0.5)
    assert tg.gradcheck(lambda a: F.lp_pool3d(a, p, 2, 1), [small])
    assert tg.gradgradcheck(lambda a: F.lp_pool3d(a, p, 2, 1), [small])


def test_lp_pool3d_refusals():
    with pytest.raises(ShapeError, match="lp_pool3d|avg_pool3d"):
        F.lp_pool3d(t64(np.ones((2, 3, 4))), 2, 2)
    with pytest.raises(ConfigError, match="kernel_size"):
        F.lp_pool3d(t64(np.ones((1, 1, 4, 4, 4))), 2, 0)
    with pytest.raises((ConfigError, InputTypeError), match="norm_type"):
        F.lp_pool3d(t64(np.ones((1, 1, 4, 4, 4))), "two", 2)


# -- fractional_max_pool3d -----------------------------------------------------------------------
def np_starts(u, n, out, k):
    """torch's generate_intervals: int((i + u) * a) - int(u * a), a = (n - k) / (out - 1), last n - k."""
    if out == 1:
        return np.array([n - k])
    a = (n - k) / (out - 1)
    return np.array([int((i + u) * a) - int(u * a) for i in range(out - 1)] + [n - k])


def np_fractional_max_pool3d(x, k, out, u):
    """Per (n, c): the max (first on ties) over the k-block at each output's starts; u[n, c] =
    (u_D, u_H, u_W); indices flattened over (D, H, W)."""
    n_, c_, D, H, W = x.shape
    y, idx = np.empty((n_, c_) + out), np.empty((n_, c_) + out, np.int64)
    for n, c in itertools.product(range(n_), range(c_)):
        starts = [np_starts(u[n, c, i], size, o, kk) for i, (size, o, kk) in enumerate(zip((D, H, W), out, k))]
        for i, j, l in itertools.product(*map(range, out)):
            d0, h0, w0 = starts[0][i], starts[1][j], starts[2][l]
            block = x[n, c, d0:d0 + k[0], h0:h0 + k[1], w0:w0 + k[2]]
            a, b, e = np.unravel_index(block.argmax(), block.shape)
            y[n, c, i, j, l] = block[a, b, e]
            idx[n, c, i, j, l] = ((d0 + a) * H + h0 + b) * W + w0 + e
    return y, idx


@pytest.mark.parametrize("k,out,ratio", [((2, 3, 2), (4, 3, 5), None), (2, None, 0.5), (1, (6, 7, 8), None)])
def test_fractional_max_pool3d_values_indices_and_module(k, out, ratio):
    x = sample((2, 3, 7, 8, 9))
    u = np.random.default_rng(3).random((2, 3, 3))
    k3 = (k,) * 3 if isinstance(k, int) else k
    out3 = out if out is not None else tuple(int(n * ratio) for n in x.shape[2:])
    want, want_idx = np_fractional_max_pool3d(x, k3, out3, u)
    y, idx = F.fractional_max_pool3d(t64(x), k, out, ratio, True, _random_samples=tg.tensor(u))
    np.testing.assert_array_equal(y.numpy(), want)
    np.testing.assert_array_equal(idx.numpy(), want_idx)
    assert idx.dtype == np.int64
    y2, idx2 = F.fractional_max_pool3d_with_indices(t64(x), k, out, ratio, _random_samples=tg.tensor(u))
    np.testing.assert_array_equal(idx2.numpy(), want_idx)
    m = nn.FractionalMaxPool3d(k, out, ratio, return_indices=False, _random_samples=tg.tensor(u))
    np.testing.assert_array_equal(m(t64(x)).numpy(), want)
    single = F.fractional_max_pool3d(t64(x[0]), k, out, ratio, _random_samples=tg.tensor(u[:1]))
    np.testing.assert_array_equal(single.numpy(), want[0])      # unbatched (C, D, H, W)


def test_fractional_max_pool3d_gradients_and_refusals():
    u = tg.tensor(np.random.default_rng(1).random((1, 2, 3)))
    x = t64(sample((1, 2, 5, 5, 6), 2))
    fn = lambda a: F.fractional_max_pool3d(a, 2, (3, 3, 4), _random_samples=u) ** 2  # noqa: E731
    assert tg.gradcheck(fn, [x]) and tg.gradgradcheck(fn, [x])
    y = F.fractional_max_pool3d(x, 2, output_ratio=(0.5, 0.6, 0.5))          # drawn samples
    assert y.shape == (1, 2, 2, 3, 3)
    with pytest.raises(ShapeError, match=r"_random_samples must have shape \(1, 2, 3\)"):
        F.fractional_max_pool3d(x, 2, 3, _random_samples=tg.tensor(np.zeros((1, 2, 2))))
    with pytest.raises(ShapeError, match="too large"):
        F.fractional_max_pool3d(x, 3, (4, 4, 4))
    with pytest.raises(ConfigError, match="output_size or an output_ratio"):
        F.fractional_max_pool3d(x, 2)
    with pytest.raises(ConfigError, match="output_ratio"):
        F.fractional_max_pool3d(x, 2, output_ratio=1.5)
    with pytest.raises(ShapeError, match=r"\(N, C, D, H, W\)"):
        F.fractional_max_pool3d(t64(np.ones((4, 4, 4))), 2, 2)
    with pytest.raises(ConfigError, match="only one of"):
        nn.FractionalMaxPool3d(2, 3, 0.5)


def test_fractional_max_pool2d_unchanged_by_the_shared_helper():
    """2-D samples are (u_W, u_H), the reverse of the 3-D order (torch's kernels)."""
    x = sample((1, 2, 7, 8))
    u = np.random.default_rng(4).random((1, 2, 2))
    y, idx = F.fractional_max_pool2d(t64(x), (2, 3), (4, 5), return_indices=True, _random_samples=tg.tensor(u))
    want, want_idx = np_fractional_max_pool3d(x[:, :, None], (1, 2, 3), (1, 4, 5),
                                              np.stack([np.zeros((1, 2)), u[..., 1], u[..., 0]], -1))
    np.testing.assert_array_equal(y.numpy(), want[:, :, 0])
    np.testing.assert_array_equal(idx.numpy(), want_idx[:, :, 0])


def test_3d_with_indices_forms():
    x = t64(sample((2, 2, 5, 6, 4)))
    for got, ref in ((F.max_pool3d_with_indices(x, 2, 1, 1), F.max_pool3d(x, 2, 1, 1, return_indices=True)),
                     (F.adaptive_max_pool3d_with_indices(x, (2, 3, 2)),
                      F.adaptive_max_pool3d(x, (2, 3, 2), return_indices=True))):
        for a, b in zip(got, ref):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    x = t64(sample((1, 1, 4, 4, 4)))
    assert tg.gradcheck(lambda a: F.max_pool3d_with_indices(a, 2)[0], [x])
    assert tg.gradgradcheck(lambda a: F.adaptive_max_pool3d_with_indices(a, 3)[0] ** 2, [x])


# -- CrossMapLRN2d -------------------------------------------------------------------------------
def np_cross_map_lrn(x, size, alpha, beta, k):
    """torch.nn.CrossMapLRN2d's forward loop, transcribed (its running channel sums)."""
    sq, c_ = x ** 2, x.shape[1]
    scale = np.zeros_like(x)
    pre_pad = int((size - 1) / 2 + 1)
    scale[:, 0] = sq[:, :min(pre_pad, c_)].sum(axis=1)
    for c in range(1, c_):
        scale[:, c] = scale[:, c - 1]
        if c < c_ - pre_pad + 1:
            scale[:, c] += sq[:, c + pre_pad - 1]
        if c > pre_pad:
            scale[:, c] -= sq[:, c - pre_pad]
    return x * (scale * alpha / size + k) ** -beta


@pytest.mark.parametrize("channels,size", [(7, 3), (7, 5), (4, 2), (3, 7), (6, 1)])
def test_cross_map_lrn2d(channels, size):
    x = sample((2, channels, 3, 4))
    m = nn.CrossMapLRN2d(size, 0.1, 0.75, 2)
    np.testing.assert_allclose(m(t64(x)).numpy(), np_cross_map_lrn(x, size, 0.1, 0.75, 2), rtol=1e-12)
    assert repr(m) == f"CrossMapLRN2d({size}, alpha=0.1, beta=0.75, k=2)"
    small = t64(sample((1, channels, 2, 2), 1))
    assert tg.gradcheck(m, [small]) and tg.gradgradcheck(m, [small])
    with pytest.raises(ShapeError, match=r"CrossMapLRN2d.*\(N, C, H, W\)"):
        m(t64(np.ones((channels, 3, 4))))
    with pytest.raises(ConfigError, match="size"):
        nn.CrossMapLRN2d(0)


# -- SyncBatchNorm -------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 2, 3), (2, 3, 2, 2, 2, 2)])
def test_sync_batch_norm_is_batch_norm_in_one_process(shape):
    x = sample(shape)
    m = nn.SyncBatchNorm(3, momentum=0.2, dtype=np.float64)
    y = m(t64(x))
    axes = (0,) + tuple(range(2, len(shape)))
    bshape = (1, 3) + (1,) * (len(shape) - 2)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    np.testing.assert_allclose(y.numpy(), (x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-5),
                               atol=1e-12)
    count = x.size // 3
    np.testing.assert_allclose(m.running_var.numpy(), 0.8 + 0.2 * var * count / (count - 1), rtol=1e-12)
    np.testing.assert_allclose(m.running_mean.numpy(), 0.2 * mean, rtol=1e-12)
    assert int(m.num_batches_tracked) == 1 and y.shape == shape
    m.eval()
    np.testing.assert_allclose(m(t64(x)).numpy(), (x - m.running_mean.numpy().reshape(bshape))
                               / np.sqrt(m.running_var.numpy().reshape(bshape) + 1e-5), atol=1e-12)
    m.train()
    assert tg.gradcheck(m, [t64(sample(shape, 1))])


def test_sync_batch_norm_convert_and_refusals():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Sequential(nn.BatchNorm1d(4, affine=False)))
    net[1].running_mean.array[:] = 5.0
    net.eval()
    bn, inner = net[1], net[2][0]
    out = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert out is net and isinstance(net[1], nn.SyncBatchNorm) and isinstance(net[2][0], nn.SyncBatchNorm)
    assert net[1].weight is bn.weight and net[1].bias is bn.bias and net[1].running_mean is bn.running_mean
    assert not net[1].training and net[2][0].weight is None and net[2][0].running_var is inner.running_var
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm3d(2))
    assert isinstance(single, nn.SyncBatchNorm) and single.num_features == 2
    assert repr(nn.SyncBatchNorm(3)) == ("SyncBatchNorm(3, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                                         "track_running_stats=True)")
    with pytest.raises(ConfigError, match="process_group"):
        nn.SyncBatchNorm(3, process_group="world")
    with pytest.raises(ShapeError, match=r"SyncBatchNorm.*\(N, C, \*\)"):
        nn.SyncBatchNorm(3)(t64(np.ones(3)))
    with pytest.raises(ShapeError, match="3 input channels"):
        nn.SyncBatchNorm(3)(t64(np.ones((2, 4))))


# -- multi_head_attention_forward ----------------------------------------------------------------
def np_softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_mha(q, k, v, heads, w_in, b_in, w_out, b_out, mask=None):
    """torch's documented MHA on (L, N, E) / (S, N, E): per head softmax(q k^T / sqrt(d) + mask) v,
    heads concatenated, out projection; weights averaged over heads, (N, L, S)."""
    e = q.shape[-1]
    d = e // heads
    wq, wk, wv = np.split(w_in, 3)
    bq, bk, bv = np.split(b_in, 3)
    qp, kp, vp = q @ wq.T + bq, k @ wk.T + bk, v @ wv.T + bv
    split = lambda t: t.reshape(t.shape[0], t.shape[1], heads, d).transpose(1, 2, 0, 3)  # noqa: E731
    scores = split(qp) @ split(kp).transpose(0, 1, 3, 2) / math.sqrt(d)
    weights = np_softmax(scores if mask is None else scores + mask)
    out = (weights @ split(vp)).transpose(2, 0, 1, 3).reshape(q.shape[0], q.shape[1], e)
    return out @ w_out.T + b_out, weights.mean(axis=1)


def mha_arrays(e=8, length=3, source=5, batch=2, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in ((length, batch, e), (source, batch, e), (source, batch, e),
                                            (3 * e, e), (3 * e,), (e, e), (e,))]


def test_multi_head_attention_forward_values_and_module_agree():
    q, k, v, w_in, b_in, w_out, b_out = mha_arrays()
    mask = np.where(np.triu(np.ones((3, 5), bool), 1), -np.inf, 0.0)
    want, want_w = np_mha(q, k, v, 2, w_in, b_in, w_out, b_out, mask)
    out, weights = F.multi_head_attention_forward(*map(t64, (q, k, v)), 8, 2, t64(w_in), t64(b_in), None, None,
                                                  False, 0.0, t64(w_out), t64(b_out),
                                                  attn_mask=tg.tensor(np.triu(np.ones((3, 5), bool), 1)))
    np.testing.assert_allclose(out.numpy(), want, atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), want_w, atol=1e-12)
    out1, _ = F.multi_head_attention_forward(*(t64(a[:, 0]) for a in (q, k, v)), 8, 2, t64(w_in), t64(b_in),
                                             None, None, False, 0.0, t64(w_out), t64(b_out), need_weights=False)
    np.testing.assert_allclose(out1.numpy(), np_mha(q[:, :1], k[:, :1], v[:, :1], 2, w_in, b_in, w_out,
                                                    b_out)[0][:, 0], atol=1e-12)      # unbatched
    m = nn.MultiheadAttention(8, 2, dtype=np.float64)
    m.in_proj_weight.array[...], m.in_proj_bias.array[...] = w_in, b_in
    m.out_proj.weight.array[...], m.out_proj.bias.array[...] = w_out, b_out
    np.testing.assert_allclose(m(*map(t64, (q, k, v)), attn_mask=t64(mask, False))[0].numpy(), want, atol=1e-12)


def test_multi_head_attention_forward_separate_static_and_gradients():
    q, k, v, w_in, b_in, w_out, b_out = mha_arrays(seed=1)
    rng = np.random.default_rng(2)
    kv = rng.standard_normal((5, 2, 6))
    wq, wk, wv = rng.standard_normal((8, 8)), rng.standard_normal((8, 6)), rng.standard_normal((8, 6))
    out, _ = F.multi_head_attention_forward(t64(q), t64(kv), t64(kv), 8, 2, None, t64(b_in), None, None, False,
                                            0.0, t64(w_out), t64(b_out), use_separate_proj_weight=True,
                                            q_proj_weight=t64(wq), k_proj_weight=t64(wk), v_proj_weight=t64(wv))
    packed = np.concatenate([wq, np.zeros((16, 8))])          # the same with the k / v projections done first
    kp, vp = kv @ wk.T, kv @ wv.T
    want, _ = np_mha(q, kp, vp, 2, packed + np.concatenate([np.zeros((8, 8)), np.eye(8), np.eye(8)]),
                     b_in, w_out, b_out)
    np.testing.assert_allclose(out.numpy(), want, atol=1e-12)
    static_k, static_v = rng.standard_normal((4, 6, 4)), rng.standard_normal((4, 6, 4))
    out, w = F.multi_head_attention_forward(*map(t64, (q, k, v)), 8, 2, t64(w_in), t64(b_in), None, None, False,
                                            0.0, t64(w_out), t64(b_out), static_k=t64(static_k),
                                            static_v=t64(static_v), average_attn_weights=False)
    qh = (q @ np.split(w_in, 3)[0].T + np.split(b_in, 3)[0]).reshape(3, 4, 4).transpose(1, 0, 2)
    att = np_softmax(qh @ static_k.transpose(0, 2, 1) / 2.0)
    np.testing.assert_allclose(w.numpy(), att.reshape(2, 2, 3, 6), atol=1e-12)
    np.testing.assert_allclose(out.numpy(), (att @ static_v).transpose(1, 0, 2).reshape(3, 2, 8) @ w_out.T + b_out,
                               atol=1e-12)
    small = [t64(a) for a in mha_arrays(e=4, length=2, source=3, batch=1, seed=3)]
    fn = lambda q_, k_, v_, wi, bi, wo, bo: F.multi_head_attention_forward(  # noqa: E731
        q_, k_, v_, 4, 2, wi, bi, None, None, True, 0.0, wo, bo)[0]
    assert tg.gradcheck(fn, small) and tg.gradgradcheck(fn, small)


def test_multi_head_attention_forward_refusals():
    q, k, v, w_in, b_in, w_out, b_out = map(t64, mha_arrays())
    base = (8, 2, w_in, b_in, None, None, False, 0.0, w_out, b_out)
    with pytest.raises(ShapeError, match="query must have 6 features"):
        F.multi_head_attention_forward(q, k, v, 6, *base[1:])
    with pytest.raises(ConfigError, match="divisible"):
        F.multi_head_attention_forward(q, k, v, 8, 3, *base[2:])
    with pytest.raises(ConfigError, match="in_proj_weight is None"):
        F.multi_head_attention_forward(q, k, v, 8, 2, None, *base[3:])
    with pytest.raises(ConfigError, match="q_proj_weight"):
        F.multi_head_attention_forward(q, k, v, *base, use_separate_proj_weight=True)
    with pytest.raises(ConfigError, match="bias cannot be added to static"):
        bias = t64(np.zeros((1, 1, 8)))
        F.multi_head_attention_forward(q, k, v, 8, 2, w_in, b_in, bias, bias, False, 0.0, w_out, b_out,
                                       static_k=t64(np.zeros((4, 5, 4))))
    with pytest.raises(ShapeError, match=r"static_k must be .*\(4, S, 4\)"):
        F.multi_head_attention_forward(q, k, v, *base, static_k=t64(np.zeros((2, 5, 4))))
    with pytest.raises(ConfigError, match="is_causal"):
        F.multi_head_attention_forward(q, k, v, *base, is_causal=True)
    with pytest.raises(ShapeError, match="attn_mask must be"):
        F.multi_head_attention_forward(q, k, v, *base, attn_mask=t64(np.zeros((3, 4))))


# -- linear_cross_entropy / LinearCrossEntropyLoss -----------------------------------------------
def np_log_softmax(a, axis=1):
    m = a.max(axis=axis, keepdims=True)
    return a - m - np.log(np.exp(a - m).sum(axis=axis, keepdims=True))


def test_linear_cross_entropy_values():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    target = np.array([0, 2, 1, 1, 0])
    logp = np_log_softmax(x @ w.T + b)
    nll = -logp[np.arange(5), target]
    got = F.linear_cross_entropy(t64(x), t64(w), tg.tensor(target), linear_bias=t64(b), reduction="none")
    np.testing.assert_allclose(got.numpy(), nll, rtol=1e-12)
    smooth = F.linear_cross_entropy(t64(x), t64(w), tg.tensor(target), label_smoothing=0.3)
    logp0 = np_log_softmax(x @ w.T)
    np.testing.assert_allclose(float(smooth), np.mean(-0.7 * logp0[np.arange(5), target] - 0.1 * logp0.sum(1)),
                               rtol=1e-12)
    ignored = F.linear_cross_entropy(t64(x), t64(w), tg.tensor(np.array([0, 2, -1, 1, 0])), ignore_index=-1)
    keep = [0, 1, 3, 4]
    np.testing.assert_allclose(float(ignored), np.mean(-logp0[keep, target[keep]]), rtol=1e-12)
    wk = rng.standard_normal((3, 2, 4))                         # K-dimensional: logits (N, C, 2)
    tk = rng.integers(0, 3, (5, 2))
    logits = np.einsum("ni,cki->nck", x, wk)
    lk = np_log_softmax(logits)
    want = -np.take_along_axis(lk, tk[:, None], axis=1)[:, 0]
    np.testing.assert_allclose(F.linear_cross_entropy(t64(x), t64(wk), tg.tensor(tk), reduction="sum").item(),
                               want.sum(), rtol=1e-12)
    probs = rng.dirichlet(np.ones(3), 5)
    np.testing.assert_allclose(F.linear_cross_entropy(t64(x), t64(w), t64(probs, False)).item(),
                               np.mean(-(probs * logp0).sum(1)), rtol=1e-12)
    assert tg.gradcheck(lambda a, m, c: F.linear_cross_entropy(a, m, tg.tensor(target), linear_bias=c),
                        [t64(x), t64(w), t64(b)])
    assert tg.gradgradcheck(lambda a, m: F.linear_cross_entropy(a, m, tg.tensor(tk)), [t64(x), t64(wk)])


def test_linear_cross_entropy_module_and_refusals():
    m = nn.LinearCrossEntropyLoss(4, 3, out_features=(2,), bias=True, dtype=np.float64)
    assert m.linear.weight.shape == (6, 4) and sorted(m.state_dict()) == ["linear.bias", "linear.weight"]
    x, tk = sample((5, 4)), np.random.default_rng(1).integers(0, 3, (5, 2))
    logits = (x @ m.linear.weight.numpy().T + m.linear.bias.numpy()).reshape(5, 3, 2)
    want = -np.take_along_axis(np_log_softmax(logits), tk[:, None], axis=1).mean()
    np.testing.assert_allclose(m(t64(x), tg.tensor(tk)).item(), want, rtol=1e-12)
    x, w, t = t64(sample((5, 4))), t64(sample((3, 4))), tg.tensor(np.zeros(5, np.int64))
    with pytest.raises(ConfigError, match="options"):
        F.linear_cross_entropy(x, w, t, options=object())
    with pytest.raises(ShapeError, match="in_features"):
        F.linear_cross_entropy(x, t64(sample((3, 5))), t)
    with pytest.raises(ShapeError, match=r"linear_bias shape \(3,\)"):
        F.linear_cross_entropy(x, w, t, linear_bias=t64(np.zeros(4)))
    with pytest.raises(ShapeError, match="requires batched input"):
        F.linear_cross_entropy(t64(np.ones(4)), t64(sample((3, 2, 4))), tg.tensor(np.zeros(2, np.int64)))
    with pytest.raises(ConfigError, match="ignore_index cannot be specified"):
        F.linear_cross_entropy(x, w, t64(np.full((5, 3), 1 / 3), False), ignore_index=0)
    with pytest.raises(ConfigError, match="weight shape"):
        nn.LinearCrossEntropyLoss(4, 3, weight=t64(np.ones(2)))


# -- Adafactor -----------------------------------------------------------------------------------
def np_adafactor(p, grads, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, maximize=False):
    """torch 2.13's Adafactor algorithm box, one parameter, a step per gradient."""
    eps1 = np.finfo(p.dtype).eps if eps[0] is None else eps[0]
    row = col = var = None
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        beta = t ** beta2_decay
        alpha = max(eps[1], np.sqrt((p ** 2).mean())) * min(lr, 1 / np.sqrt(t))
        p = p * (1 - lr * weight_decay)
        if g.ndim > 1:
            row = (g ** 2).mean(-1, keepdims=True) * beta + (0 if row is None else row * (1 - beta))
            col = (g ** 2).mean(-2, keepdims=True) * beta + (0 if col is None else col * (1 - beta))
            v = row @ col / np.maximum(row.mean(-2, keepdims=True), eps1)
        else:
            var = v = g ** 2 * beta + (0 if var is None else var * (1 - beta))
        u = g / np.sqrt(np.maximum(v, eps1 ** 2))
        p = p - alpha / max(1.0, np.sqrt((u ** 2).mean()) / d) * u
    return p


def run_optimizer(cls, inits, steps, seed=0, **kw):
    rng = np.random.default_rng(seed)
    grads = [[rng.standard_normal(a.shape) for a in inits] for _ in range(steps)]
    params = [nn.Parameter(tg.tensor(a.copy())) for a in inits]
    opt = cls(params, **kw)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = tg.tensor(g)
        opt.step()
    return [p.numpy() for p in params], [list(gs) for gs in zip(*grads)], opt


@pytest.mark.parametrize("kw", [{}, dict(lr=0.1, weight_decay=0.1),
                                dict(maximize=True, d=2.0, beta2_decay=-0.5, eps=(1e-5, 1e-2)), dict(lr=3.0)])
def test_adafactor_matches_its_algorithm(kw):
    inits = [sample((4, 5)), sample((3,), 1), sample((2, 3, 4), 2), sample((), 3)]
    got, grads, opt = run_optimizer(tg.optim.Adafactor, inits, 4, **kw)
    for a, g, init in zip(got, grads, inits):
        np.testing.assert_allclose(a, np_adafactor(init, g, **kw), rtol=1e-12, atol=1e-14)
    state = opt.state[opt.param_groups[0]["params"][2]]
    assert state["row_var"].shape == (2, 3, 1) and state["col_var"].shape == (2, 1, 4) and state["step"] == 4


def test_adafactor_state_dict_and_refusals():
    _, _, opt = run_optimizer(tg.optim.Adafactor, [sample((3, 4))], 2)
    fresh = tg.optim.Adafactor([nn.Parameter(tg.tensor(sample((3, 4))))])
    fresh.load_state_dict(opt.state_dict())
    assert fresh.state[0]["row_var"].shape == (3, 1) and fresh.state[0]["step"] == 2
    bad = opt.state_dict()
    bad["state"][0]["col_var"] = np.zeros((3, 4))
    with pytest.raises(CheckpointError, match=r"col_var.*expected \(1, 4\)"):
        fresh.load_state_dict(bad)
    p = [nn.Parameter(tg.zeros(2))]
    for kw, word in ((dict(beta2_decay=0.5), "beta2_decay"), (dict(d=0.5), "d"), (dict(eps=(-1.0, 1e-3)), "eps"),
                     (dict(eps=1e-3), "eps"), (dict(lr=-1.0), "lr"), (dict(weight_decay=-1.0), "weight_decay")):
        with pytest.raises(ConfigError, match=word):
            tg.optim.Adafactor(p, **kw)


# -- Muon ----------------------------------------------------------------------------------------
def np_muon(p, grads, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
            ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None):
    """torch 2.13's Muon (its code path: buffer lerp, quintic Newton-Schulz) in float64."""
    a, b, c = ns_coefficients
    buf = np.zeros_like(p)
    for g in grads:
        buf = buf + (1 - momentum) * (g - buf)
        u = g + momentum * (buf - g) if nesterov else buf
        x = u.T if u.shape[0] > u.shape[1] else u
        x = x / max(np.linalg.norm(x), eps)
        for _ in range(ns_steps):
            gram = x @ x.T
            x = a * x + (b * gram + c * gram @ gram) @ x
        x = x.T if u.shape[0] > u.shape[1] else x
        rows, cols = p.shape
        ratio = 0.2 * np.sqrt(max(rows, cols)) if adjust_lr_fn == "match_rms_adamw" else np.sqrt(max(1, rows / cols))
        p = p * (1 - lr * weight_decay) - lr * ratio * x
    return p


@pytest.mark.parametrize("kw", [{}, dict(nesterov=False, lr=0.02), dict(adjust_lr_fn="match_rms_adamw"),
                                dict(momentum=0.0, ns_steps=3)])
def test_muon_matches_its_algorithm(kw):
    inits = [sample((4, 6)), sample((7, 3), 1)]
    got, grads, _ = run_optimizer(tg.optim.Muon, inits, 3, **kw)
    for a, g, init in zip(got, grads, inits):
        np.testing.assert_allclose(a, np_muon(init, g, **kw), rtol=1e-12, atol=1e-14)


def test_muon_refusals():
    with pytest.raises(ShapeError, match=r"Muon only supports 2D parameters.*\(3,\)"):
        tg.optim.Muon([nn.Parameter(tg.zeros(3, 3)), nn.Parameter(tg.zeros(3))])
    p = [nn.Parameter(tg.zeros(2, 2))]
    for kw, word in ((dict(ns_steps=100), "ns_steps"), (dict(adjust_lr_fn="other"), "other"),
                     (dict(ns_coefficients=(1.0, 2.0)), "ns_coefficients"), (dict(momentum=-0.1), "momentum")):
        with pytest.raises(ConfigError, match=word):
            tg.optim.Muon(p, **kw)


# -- SparseAdam ----------------------------------------------------------------------------------
def test_sparse_adam_builds_and_refuses_dense_gradients():
    p = nn.Parameter(tg.ones(3))
    opt = tg.optim.SparseAdam([p], lr=0.01, betas=(0.8, 0.9))
    assert opt.param_groups[0]["betas"] == (0.8, 0.9)
    opt.step()                                                   # no gradient: nothing to do
    p.grad = tg.ones(3)
    with pytest.raises(InputTypeError, match="SparseAdam does not support dense gradients, please consider Adam"):
        opt.step()
    np.testing.assert_array_equal(p.numpy(), np.ones(3))
    for kw, word in ((dict(lr=0.0), "lr"), (dict(eps=0.0), "eps"), (dict(betas=(1.0, 0.9)), "betas")):
        with pytest.raises(ConfigError, match=word):
            tg.optim.SparseAdam([p], **kw)


# -- nn.utils paths ------------------------------------------------------------------------------
def test_nn_utils_submodule_paths_and_memory_format():
    from tensorgan.nn.utils.clip_grad import clip_grad_norm_
    from tensorgan.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
    from tensorgan.nn.utils.fusion import fuse_conv_bn_eval
    from tensorgan.nn.utils.init import skip_init
    from tensorgan.nn.utils.memory_format import convert_conv3d_weight_memory_format
    assert clip_grad_norm_ is nn.utils.clip_grad_norm_ and fuse_conv_bn_eval is nn.utils.fuse_conv_bn_eval
    assert skip_init is nn.utils.skip_init
    assert convert_conv3d_weight_memory_format is nn.utils.convert_conv3d_weight_memory_format
    lin = nn.Linear(3, 2)
    vec = parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    vector_to_parameters(tg.arange(8.0), lin.parameters())
    np.testing.assert_array_equal(lin.weight.numpy().ravel(), np.arange(6.0))
    net = nn.Sequential(nn.Conv2d(1, 2, 3))
    before = net[0].weight.numpy().copy()
    assert nn.utils.convert_conv2d_weight_memory_format(net, "channels_last") is net
    np.testing.assert_array_equal(net[0].weight.numpy(), before)
    with pytest.raises(InputTypeError, match="module must be an nn.Module"):
        nn.utils.convert_conv2d_weight_memory_format("net", None)


def test_nn_parameter_path_and_native_channel_shuffle():
    from tensorgan.nn.parameter import Buffer, Parameter, UninitializedParameter
    assert Parameter is nn.Parameter and Buffer is nn.Buffer and UninitializedParameter is nn.UninitializedParameter
    x = sample((2, 6, 3))
    want = x.reshape(2, 2, 3, 3).transpose(0, 2, 1, 3).reshape(2, 6, 3)      # (N, g, C/g) -> (N, C/g, g)
    np.testing.assert_array_equal(F.native_channel_shuffle(t64(x), 2).numpy(), want)
    with pytest.raises(ConfigError, match="groups"):
        F.native_channel_shuffle(t64(x), 4)
