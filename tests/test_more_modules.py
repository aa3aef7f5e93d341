"""torch 2.13's remaining nn modules: the lazy modules (UninitializedParameter / Buffer,
LazyLinear, LazyConv*, LazyBatchNorm*, LazyInstanceNorm*), nn.Buffer, LocalResponseNorm,
LPPool1d/2d, AlphaDropout / FeatureAlphaDropout, Bilinear, ChannelShuffle, FractionalMaxPool2d,
RNNCellBase, Container and the functional aliases (*_with_indices, upsample*).  Values against
NumPy formulas written from torch's documentation, float64 gradchecks, reprs, refusals."""
import math
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import functional as F, nn
from tensorgan.errors import (CheckpointError, ConfigError, InputTypeError, ShapeError,
                              UninitializedParameterError)

ALPHA_PRIME = 1.6732632423543772 * 1.0507009873554805


def t64(a, grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def sample(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def lazy(cls, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)      # torch's "new feature" warning
        return cls(*args, **kwargs)


# -- local_response_norm ---------------------------------------------------------------------
def np_lrn(x, size, alpha=1e-4, beta=0.75, k=1.0):
    c = x.shape[1]
    out = np.empty_like(x)
    for ch in range(c):
        lo, hi = max(0, ch - size // 2), min(c, ch + (size - 1) // 2 + 1)
        s = (x[:, lo:hi] ** 2).sum(axis=1)
        out[:, ch] = x[:, ch] / (k + alpha / size * s) ** beta
    return out


@pytest.mark.parametrize("shape,size,args", [((2, 5, 7), 3, ()), ((2, 6, 3, 4), 4, (1e-2, 0.6, 2.0)),
                                             ((1, 3, 2, 2, 2), 2, (0.5,)), ((2, 4, 3), 1, ())])
def test_local_response_norm_matches_formula(shape, size, args):
    x = sample(shape)
    np.testing.assert_allclose(F.local_response_norm(t64(x), size, *args).numpy(), np_lrn(x, size, *args),
                               rtol=1e-12, atol=1e-12)
    layer = nn.LocalResponseNorm(size, *args)
    np.testing.assert_allclose(layer(t64(x)).numpy(), np_lrn(x, size, *args), rtol=1e-12, atol=1e-12)
    tg.gradcheck(lambda t: F.local_response_norm(t, size, *args), [t64(sample((2, 4, 3), 1))])
    tg.gradgradcheck(lambda t: F.local_response_norm(t, size, 0.5), [t64(sample((1, 4, 3), 2))])


def test_local_response_norm_repr_and_refusals():
    assert repr(nn.LocalResponseNorm(3)) == "LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=1.0)"
    assert F.local_response_norm(tg.zeros(0, 3, 2), 2).shape == (0, 3, 2)
    with pytest.raises(ShapeError, match="at least 3 dims"):
        F.local_response_norm(tg.ones(2, 3), 2)
    with pytest.raises(ConfigError, match="size must be a positive int, got 0"):
        F.local_response_norm(tg.ones(2, 3, 4), 0)
    with pytest.raises(ConfigError, match="size"):
        nn.LocalResponseNorm(-1)


# -- lp_pool ------------------------------------------------------------------------------------
def np_lp_pool2d(x, p, k, s, ceil=False):
    kh, kw = k
    sh, sw = s
    h, w = x.shape[-2:]
    def count(n, kk, ss):
        o = (n - kk + (ss - 1 if ceil else 0)) // ss + 1
        return o - 1 if ceil and (o - 1) * ss >= n else o
    oh, ow = count(h, kh, sh), count(w, kw, sw)
    out = np.empty(x.shape[:-2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = x[..., i * sh:i * sh + kh, j * sw:j * sw + kw] ** p
            out[..., i, j] = win.sum(axis=(-2, -1)) * (kh * kw) / (win.shape[-2] * win.shape[-1])
    return np.maximum(out, 0) ** (1.0 / p)


@pytest.mark.parametrize("p,k,s,shape", [(2, (2, 3), None, (2, 3, 6, 7)), (3, (2, 2), (1, 1), (3, 5, 5)),
                                         (1.5, (3, 2), (2, 1), (1, 2, 7, 5))])
def test_lp_pool2d_matches_formula(p, k, s, shape):
    x = np.abs(sample(shape)) + 0.1
    want = np_lp_pool2d(x, p, k, k if s is None else s)
    np.testing.assert_allclose(F.lp_pool2d(t64(x), p, k, s).numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(nn.LPPool2d(p, k, s)(t64(x)).numpy(), want, rtol=1e-12)
    tg.gradcheck(lambda t: F.lp_pool2d(t, p, k, s), [t64(np.abs(sample((1, 2, 4, 4), 3)) + 0.5)])


def test_lp_pool1d_matches_formula_and_grads():
    x = sample((2, 3, 10))
    want = np_lp_pool2d(x[..., None, :], 2, (1, 3), (1, 3))[..., 0, :]
    np.testing.assert_allclose(F.lp_pool1d(t64(x), 2, 3).numpy(), want, rtol=1e-12)
    want = np_lp_pool2d(np.abs(x)[..., None, :], 1.5, (1, 3), (1, 2), ceil=True)[..., 0, :]
    np.testing.assert_allclose(nn.LPPool1d(1.5, 3, 2, True)(t64(np.abs(x))).numpy(), want, rtol=1e-12)
    tg.gradcheck(lambda t: F.lp_pool1d(t, 2, 2), [t64(sample((2, 2, 6), 4))])
    tg.gradgradcheck(lambda t: F.lp_pool1d(t, 3, 2), [t64(np.abs(sample((1, 2, 4), 5)) + 0.5)])
    # odd p over a negative window: the root of a negative sum is NaN, as in torch
    assert np.isnan(F.lp_pool1d(t64(-np.ones((1, 1, 4))), 3, 2).numpy()).all()


def test_lp_pool_repr_and_refusals():
    assert repr(nn.LPPool1d(2, 3)) == "LPPool1d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)"
    assert repr(nn.LPPool2d(2.5, (2, 3), 1, True)) == \
        "LPPool2d(norm_type=2.5, kernel_size=(2, 3), stride=1, ceil_mode=True)"
    with pytest.raises(InputTypeError, match="norm_type"):
        F.lp_pool2d(tg.ones(1, 1, 4, 4), "two", 2)
    with pytest.raises(ShapeError, match="lp_pool2d|avg_pool2d"):
        F.lp_pool2d(tg.ones(4, 4), 2, 2)
    with pytest.raises(ShapeError, match="larger than"):
        F.lp_pool1d(tg.ones(1, 1, 2), 2, 3)


# -- alpha dropouts ----------------------------------------------------------------------------------
def alpha_parts(p):
    a = 1.0 / math.sqrt((ALPHA_PRIME ** 2 * p + 1) * (1 - p))
    return a, ALPHA_PRIME * a * p


def test_feature_alpha_dropout_drops_whole_channels():
    x = sample((40, 6, 3, 2))
    p = 0.3
    y = F.feature_alpha_dropout(t64(x, False), p, True, generator=tg.Generator(1)).numpy()
    a, b = alpha_parts(p)
    kept = np.isclose(y, a * x + b, rtol=0, atol=1e-12).all(axis=(2, 3))
    dropped = np.isclose(y, -ALPHA_PRIME * a + b, rtol=0, atol=1e-12).all(axis=(2, 3))
    assert (kept | dropped).all() and kept.any() and dropped.any()
    assert abs(dropped.mean() - p) < 0.15
    np.testing.assert_array_equal(F.feature_alpha_dropout(t64(x), p, training=False).numpy(), x)
    tg.gradcheck(lambda t: F.feature_alpha_dropout(t, 0.4, True, generator=tg.Generator(2)), [t64(sample((3, 4, 2)))])


def test_alpha_dropout_modules():
    x = sample((30, 5))
    layer = nn.AlphaDropout(0.2, generator=tg.Generator(3))
    assert repr(layer) == "AlphaDropout(p=0.2, inplace=False)"
    y = layer(t64(x, False)).numpy()
    a, b = alpha_parts(0.2)
    assert (np.isclose(y, a * x + b) | np.isclose(y, -ALPHA_PRIME * a + b)).all()
    np.testing.assert_array_equal(layer.eval()(t64(x)).numpy(), x)
    feat = nn.FeatureAlphaDropout(generator=tg.Generator(4))
    assert repr(feat) == "FeatureAlphaDropout(p=0.5, inplace=False)"
    y = feat(t64(sample((50, 4, 3)), False)).numpy()
    assert (np.ptp(y - y[..., :1], axis=-1)[np.isclose(y[..., 0], -ALPHA_PRIME * alpha_parts(0.5)[0] + alpha_parts(0.5)[1])] < 1e-12).all()
    with pytest.raises(ShapeError, match="at least 2 dims"):
        F.feature_alpha_dropout(tg.ones(3), 0.5, True)
    with pytest.raises(ConfigError, match=r"probability must be in \[0, 1\], got 1.5"):
        F.feature_alpha_dropout(tg.ones(2, 3), 1.5, True)
    with pytest.raises(ConfigError, match="p must be in"):
        nn.AlphaDropout(-0.1)


# -- Bilinear, ChannelShuffle --------------------------------------------------------------------------
def test_bilinear_module():
    layer = nn.Bilinear(3, 4, 5, dtype="float64", generator=tg.Generator(0))
    assert repr(layer) == "Bilinear(in1_features=3, in2_features=4, out_features=5, bias=True)"
    assert layer.weight.shape == (5, 3, 4) and layer.bias.shape == (5,)
    bound = 1 / math.sqrt(3)
    assert np.abs(layer.weight.numpy()).max() <= bound and np.abs(layer.bias.numpy()).max() <= bound
    x1, x2 = sample((2, 6, 3)), sample((2, 6, 4), 1)
    want = np.einsum("...i,oij,...j->...o", x1, layer.weight.numpy(), x2) + layer.bias.numpy()
    np.testing.assert_allclose(layer(t64(x1), t64(x2)).numpy(), want, rtol=1e-12)
    assert nn.Bilinear(2, 2, 1, bias=False).bias is None
    tg.gradcheck(lambda a, b: layer(a, b), [t64(x1[0]), t64(x2[0])])
    with pytest.raises(ShapeError, match="bilinear"):
        layer(t64(x1), t64(x1))
    with pytest.raises(ConfigError, match="in1_features must be a positive integer, got 0"):
        nn.Bilinear(0, 2, 3)


def test_channel_shuffle_module():
    x = sample((2, 6, 3))
    want = x.reshape(2, 2, 3, 3).transpose(0, 2, 1, 3).reshape(2, 6, 3)
    layer = nn.ChannelShuffle(2)
    assert repr(layer) == "ChannelShuffle(groups=2)"
    np.testing.assert_array_equal(layer(t64(x)).numpy(), want)
    with pytest.raises(ConfigError, match="groups must be an int > 0 dividing the 6 channels, got 4"):
        nn.ChannelShuffle(4)(t64(x))
    with pytest.raises(ConfigError, match="groups"):
        nn.ChannelShuffle(0)


# -- fractional max pooling ---------------------------------------------------------------------------
def np_intervals(u, size, out, k):
    """torch's generate_intervals: start i = int((i + u) * a) - int(u * a), the last size - k."""
    if out == 1:
        return [size - k]
    a = (size - k) / (out - 1)
    return [int((i + u) * a) - int(u * a) for i in range(out - 1)] + [size - k]


def np_fractional(x, k, out, samples):
    n, c, h, w = x.shape
    vals = np.empty((n, c) + out)
    idx = np.empty((n, c) + out, dtype=np.int64)
    for b in range(n):
        for ch in range(c):
            rows = np_intervals(samples[b, ch, 1], h, out[0], k[0])
            cols = np_intervals(samples[b, ch, 0], w, out[1], k[1])
            for i, r in enumerate(rows):
                for j, q in enumerate(cols):
                    win = x[b, ch, r:r + k[0], q:q + k[1]]
                    flat = int(np.argmax(win))
                    rr, cc = r + flat // k[1], q + flat % k[1]
                    vals[b, ch, i, j], idx[b, ch, i, j] = x[b, ch, rr, cc], rr * w + cc
    return vals, idx


@pytest.mark.parametrize("shape,k,kwargs,out", [((2, 3, 9, 11), (2, 2), {"output_size": (4, 5)}, (4, 5)),
                                                ((2, 2, 10, 10), (3, 2), {"output_ratio": 0.5}, (5, 5)),
                                                ((1, 2, 7, 6), (2, 2), {"output_size": 1}, (1, 1)),
                                                ((1, 2, 7, 6), (2, 2), {"output_ratio": (0.6, 0.4)}, (4, 2))])
def test_fractional_max_pool2d_matches_torchs_intervals(shape, k, kwargs, out):
    x = sample(shape)
    u = np.random.default_rng(1).random((shape[0], shape[1], 2))
    y, idx = F.fractional_max_pool2d(t64(x), k, return_indices=True, _random_samples=t64(u, False), **kwargs)
    want, want_idx = np_fractional(x, k, out, u)
    np.testing.assert_array_equal(y.numpy(), want)
    np.testing.assert_array_equal(idx.numpy(), want_idx)
    assert idx.dtype == np.int64
    tg.gradcheck(lambda t: F.fractional_max_pool2d(t, k, _random_samples=t64(u, False), **kwargs), [t64(x)])


def test_fractional_max_pool2d_unbatched_module_and_random():
    x = sample((3, 8, 8))
    u = np.random.default_rng(2).random((1, 3, 2))
    want, _ = np_fractional(x[None], (2, 2), (4, 4), u)
    layer = nn.FractionalMaxPool2d(2, output_size=4, _random_samples=t64(u, False))
    assert repr(layer) == "FractionalMaxPool2d()"
    np.testing.assert_array_equal(layer(t64(x)).numpy(), want[0])
    out, idx = F.fractional_max_pool2d_with_indices(t64(x), 2, output_ratio=(0.5, 0.5))
    assert out.shape == idx.shape == (3, 4, 4)        # default: samples from the default generator
    np.testing.assert_array_equal(out.numpy(), np.take_along_axis(x.reshape(3, -1), idx.numpy().reshape(3, -1), 1).reshape(3, 4, 4))
    x2 = t64(sample((1, 1, 5, 5), 3))                  # double backward: indexing's (zero), runs
    g, = tg.autograd.grad(F.fractional_max_pool2d(x2, 2, 3, _random_samples=t64(u[:, :1], False)).sum(), [x2],
                          create_graph=True)
    assert g.numpy().sum() == 9.0


def test_fractional_max_pool2d_refusals():
    x = tg.ones(1, 2, 6, 6)
    with pytest.raises(ConfigError, match="either an output_size or an output_ratio"):
        F.fractional_max_pool2d(x, 2)
    with pytest.raises(ShapeError, match="too large"):
        F.fractional_max_pool2d(x, 3, output_size=5)
    with pytest.raises(ShapeError, match=r"_random_samples must have shape \(1, 2, 2\)"):
        F.fractional_max_pool2d(x, 2, 3, _random_samples=tg.ones(1, 2))
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\) or \(C, H, W\)"):
        F.fractional_max_pool2d(tg.ones(6, 6), 2, 3)
    with pytest.raises(ConfigError, match="output_ratio must be one or two numbers in"):
        F.fractional_max_pool2d(x, 2, output_ratio=1.5)
    with pytest.raises(ConfigError, match="either an output size, or a pooling ratio"):
        nn.FractionalMaxPool2d(2)
    with pytest.raises(ConfigError, match="only one of output_size and output_ratio"):
        nn.FractionalMaxPool2d(2, 3, 0.5)
    with pytest.raises(ConfigError, match=r"output_ratio must be between 0 and 1 \(got 1.2\)"):
        nn.FractionalMaxPool2d(2, output_ratio=1.2)


# -- aliases ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("alias,plain,args,shape", [
    (F.max_pool1d_with_indices, F.max_pool1d, (3, 2), (2, 3, 9)),
    (F.max_pool2d_with_indices, F.max_pool2d, (2,), (2, 3, 6, 6)),
    (F.adaptive_max_pool1d_with_indices, F.adaptive_max_pool1d, (4,), (2, 3, 9)),
    (F.adaptive_max_pool2d_with_indices, F.adaptive_max_pool2d, ((3, 2),), (2, 3, 7, 5))])
def test_with_indices_aliases_always_return_indices(alias, plain, args, shape):
    x = t64(sample(shape))
    out, idx = alias(x, *args)
    want, want_idx = plain(x, *args, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), want.numpy())
    np.testing.assert_array_equal(idx.numpy(), want_idx.numpy())


@pytest.mark.parametrize("name,call,kwargs", [
    ("upsample", lambda x: F.upsample(x, scale_factor=2, mode="bilinear"), {"scale_factor": 2, "mode": "bilinear"}),
    ("upsample_nearest", lambda x: F.upsample_nearest(x, size=(5, 7)), {"size": (5, 7), "mode": "nearest"}),
    ("upsample_bilinear", lambda x: F.upsample_bilinear(x, scale_factor=2),
     {"scale_factor": 2, "mode": "bilinear", "align_corners": True})])
def test_upsample_aliases_warn_and_interpolate(name, call, kwargs):
    x = t64(sample((1, 2, 3, 4)))
    with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead."):
        y = call(x)
    np.testing.assert_array_equal(y.numpy(), F.interpolate(x, **kwargs).numpy())


# -- RNNCellBase, Container -----------------------------------------------------------------------------
def test_rnn_cell_base():
    base = nn.RNNCellBase(3, 4, True, 2)
    assert repr(base) == "RNNCellBase(3, 4)"
    assert base.weight_ih.shape == (8, 3) and base.weight_hh.shape == (8, 4) and base.bias_hh.shape == (8,)
    assert all(isinstance(c, nn.RNNCellBase) for c in (nn.RNNCell(2, 3), nn.LSTMCell(2, 3), nn.GRUCell(2, 3)))
    assert nn.LSTMCell(2, 3).weight_ih.shape == (12, 2) and nn.GRUCell(2, 3).weight_hh.shape == (9, 3)
    assert repr(nn.RNNCell(2, 3, False, "relu")) == "RNNCell(2, 3, bias=False, nonlinearity=relu)"
    bound = 1 / math.sqrt(4)
    assert all(np.abs(p.numpy()).max() <= bound for p in base.parameters())
    with pytest.raises(NotImplementedError):
        base(tg.ones(1, 3))
    with pytest.raises(ConfigError, match="num_chunks must be a positive integer"):
        nn.RNNCellBase(3, 4, True, 0)


def test_container_is_deprecated_module():
    with pytest.warns(FutureWarning, match="`nn.Container` is deprecated"):
        c = nn.Container(a=nn.ReLU(), b=nn.Tanh())
    assert list(dict(c.named_children())) == ["a", "b"]


# -- nn.Buffer ---------------------------------------------------------------------------------
def test_buffer_marker_registers_buffers():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Buffer(tg.ones(2))
            self.b = nn.Buffer(tg.zeros(3), persistent=False)
            self.c = tg.ones(1)                       # a plain Tensor stays a plain attribute
    m = M()
    assert [n for n, _ in m.named_buffers()] == ["a", "b"]
    assert list(m.state_dict()) == ["a"]
    assert type(m.a) is tg.Tensor and not m.a.requires_grad
    t = tg.ones(2)
    m.a = nn.Buffer(t)
    t.array[0] = 5.0
    assert m.a.numpy()[0] == 5.0                     # the same memory, detached
    assert nn.Buffer().shape == (0,)


# -- lazy modules ---------------------------------------------------------------------------------------
LAZY = [
    (nn.LazyLinear, (3,), (2, 4), "LazyLinear(in_features=0, out_features=3, bias=True)",
     "Linear(in_features=4, out_features=3, bias=True)", {"weight": (3, 4), "bias": (3,)}),
    (nn.LazyConv1d, (4, 3), (2, 5, 7), "LazyConv1d(0, 4, kernel_size=(3,), stride=(1,))",
     "Conv1d(5, 4, kernel_size=(3,), stride=(1,))", {"weight": (4, 5, 3), "bias": (4,)}),
    (nn.LazyConv2d, (4, 3, 1, 0, 1, 2), (2, 6, 7, 7), "LazyConv2d(0, 4, kernel_size=(3, 3), stride=(1, 1), groups=2)",
     "Conv2d(6, 4, kernel_size=(3, 3), stride=(1, 1), groups=2)", {"weight": (4, 3, 3, 3), "bias": (4,)}),
    (nn.LazyConvTranspose1d, (4, 3), (5, 7), "LazyConvTranspose1d(0, 4, kernel_size=(3,), stride=(1,))",
     "ConvTranspose1d(5, 4, kernel_size=(3,), stride=(1,))", {"weight": (5, 4, 3), "bias": (4,)}),
    (nn.LazyConvTranspose2d, (4, 3, 2), (2, 6, 5, 5), "LazyConvTranspose2d(0, 4, kernel_size=(3, 3), stride=(2, 2))",
     "ConvTranspose2d(6, 4, kernel_size=(3, 3), stride=(2, 2))", {"weight": (6, 4, 3, 3), "bias": (4,)}),
    (nn.LazyBatchNorm1d, (), (4, 5),
     "LazyBatchNorm1d(0, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     "BatchNorm1d(5, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     {"weight": (5,), "bias": (5,), "running_mean": (5,), "running_var": (5,), "num_batches_tracked": ()}),
    (nn.LazyBatchNorm2d, (), (2, 3, 4, 4),
     "LazyBatchNorm2d(0, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     {"weight": (3,), "bias": (3,), "running_mean": (3,), "running_var": (3,), "num_batches_tracked": ()}),
    (nn.LazyInstanceNorm1d, (), (2, 3, 5),
     "LazyInstanceNorm1d(0, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     "InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     {"weight": (3,), "bias": (3,), "running_mean": (3,), "running_var": (3,), "num_batches_tracked": ()}),
    (nn.LazyInstanceNorm2d, (), (3, 4, 4),
     "LazyInstanceNorm2d(0, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     {"weight": (3,), "bias": (3,), "running_mean": (3,), "running_var": (3,), "num_batches_tracked": ()}),
    (nn.LazyConv3d, (4, 3), (2, 5, 4, 5, 6), "LazyConv3d(0, 4, kernel_size=(3, 3, 3), stride=(1, 1, 1))",
     "Conv3d(5, 4, kernel_size=(3, 3, 3), stride=(1, 1, 1))", {"weight": (4, 5, 3, 3, 3), "bias": (4,)}),
    (nn.LazyConvTranspose3d, (4, 2, 2), (5, 3, 3, 3), "LazyConvTranspose3d(0, 4, kernel_size=(2, 2, 2), stride=(2, 2, 2))",
     "ConvTranspose3d(5, 4, kernel_size=(2, 2, 2), stride=(2, 2, 2))", {"weight": (5, 4, 2, 2, 2), "bias": (4,)}),
    (nn.LazyBatchNorm3d, (), (2, 3, 2, 3, 4),
     "LazyBatchNorm3d(0, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     "BatchNorm3d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     {"weight": (3,), "bias": (3,), "running_mean": (3,), "running_var": (3,), "num_batches_tracked": ()}),
    (nn.LazyInstanceNorm3d, (), (3, 2, 3, 4),
     "LazyInstanceNorm3d(0, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     "InstanceNorm3d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     {"weight": (3,), "bias": (3,), "running_mean": (3,), "running_var": (3,), "num_batches_tracked": ()}),
]


@pytest.mark.parametrize("cls,args,shape,lazy_repr,plain_repr,shapes", LAZY)
def test_lazy_module_becomes_plain_at_first_forward(cls, args, shape, lazy_repr, plain_repr, shapes):
    m = lazy(cls, *args, dtype="float64")
    assert repr(m) == lazy_repr and m.has_uninitialized_params()
    sd = m.state_dict()
    assert list(sd) == list(shapes)
    assert all(isinstance(sd[k], (nn.UninitializedParameter, nn.UninitializedBuffer))
               for k in shapes if k != "num_batches_tracked")
    x = t64(sample(shape), False)
    y = m(x)
    plain = cls.cls_to_become
    assert type(m) is plain and repr(m) == plain_repr
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == shapes
    assert all(type(p) is nn.Parameter and p.dtype == np.float64 for p in m.parameters())
    if "Norm" not in plain.__name__:                       # the plain layer's computation
        np.testing.assert_array_equal(y.numpy(), m(x).numpy())
    assert not m._forward_pre_hooks and not m._load_state_dict_pre_hooks


def test_lazy_initialization_uses_the_plain_init():
    m = lazy(nn.LazyLinear, 5)
    m(tg.ones(2, 16))
    bound = 1 / math.sqrt(16)
    assert np.abs(m.weight.numpy()).max() <= bound and np.abs(m.bias.numpy()).max() <= bound
    assert m.weight.numpy().std() > bound / 4                      # drawn, not left at zero
    bn = lazy(nn.LazyBatchNorm1d)
    bn.eval()(tg.ones(3, 4))
    assert bn.weight.numpy().tolist() == [1.0] * 4 and bn.bias.numpy().tolist() == [0.0] * 4
    assert bn.running_var.numpy().tolist() == [1.0] * 4 and int(bn.num_batches_tracked) == 0
    conv = lazy(nn.LazyConv2d, 2, 3, bias=False)
    conv(tg.ones(1, 3, 5, 5))
    assert conv.bias is None and conv.weight.shape == (2, 3, 3, 3)
    assert lazy(nn.LazyLinear, 2).__class__.cls_to_become is nn.Linear


def test_lazy_load_state_dict_materializes():
    src = nn.Linear(4, 3)
    m = lazy(nn.LazyLinear, 3)
    result = m.load_state_dict(src.state_dict())
    assert repr(result) == "<All keys matched successfully>"
    assert type(m) is nn.LazyLinear and m.weight.shape == (3, 4) and not m.has_uninitialized_params()
    np.testing.assert_array_equal(m.weight.numpy(), src.weight.numpy())
    y = m(tg.ones(2, 4))
    assert type(m) is nn.Linear and m.in_features == 4
    np.testing.assert_allclose(y.numpy(), src(tg.ones(2, 4)).numpy())
    # uninitialized into uninitialized: nothing to copy, nothing missing (torch's)
    m2 = lazy(nn.LazyLinear, 3)
    assert not m2.load_state_dict(lazy(nn.LazyLinear, 3).state_dict()).missing_keys
    assert m2.has_uninitialized_params()
    with pytest.raises(CheckpointError, match="'weight' is uninitialized in the checkpoint"):
        nn.Linear(4, 3).load_state_dict(lazy(nn.LazyLinear, 3).state_dict())


def test_optimizer_built_before_the_first_forward_keeps_working():
    m = lazy(nn.LazyLinear, 1)
    params = list(m.parameters())
    opt = tg.optim.SGD(m.parameters(), lr=0.1)
    x = tg.ones(2, 3)
    m(x)
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]      # materialized in place
    before = m.weight.numpy().copy()
    m(x).sum().backward()
    opt.step()
    np.testing.assert_allclose(m.weight.numpy(), before - 0.1 * 2.0)


def test_uninitialized_tensors_refuse_use():
    p = nn.UninitializedParameter()
    assert repr(p) == "<UninitializedParameter>" and repr(nn.UninitializedBuffer()) == "<UninitializedBuffer>"
    assert p.requires_grad and not nn.UninitializedBuffer().requires_grad
    assert nn.UninitializedParameter(dtype="float64").dtype == np.float64
    assert isinstance(p, nn.Parameter)
    with pytest.raises(UninitializedParameterError, match="shape"):
        p.shape
    with pytest.raises(UninitializedParameterError, match="call the module's forward"):
        p + 1
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and p.shape == (2, 3)
    b = nn.UninitializedBuffer(dtype="float64")
    b.materialize((4,))
    assert type(b) is tg.Tensor and b.dtype == np.float64
    with pytest.warns(UserWarning, match="Lazy modules are a new feature"):
        nn.LazyLinear(2)


def test_lazy_refusals():
    with pytest.raises(ShapeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d"):
        lazy(nn.LazyConv2d, 2, 3)(tg.ones(5, 5))
    with pytest.raises(ShapeError, match=r"in_channels \(3.*must be divisible by groups \(2\)"):
        lazy(nn.LazyConv2d, 4, 3, groups=2)(tg.ones(1, 3, 5, 5))
    with pytest.raises(ShapeError, match="0-d"):
        lazy(nn.LazyLinear, 2)(tg.tensor(1.0))
    with pytest.raises(UninitializedParameterError, match="Tensor input"):
        lazy(nn.LazyLinear, 2)([1.0, 2.0])
    with pytest.raises(ConfigError, match="out_features"):
        lazy(nn.LazyLinear, -1)     # (0 builds, as torch)
    with pytest.raises(ShapeError, match="LazyBatchNorm1d"):
        lazy(nn.LazyBatchNorm1d)(tg.ones(3))


def test_lazy_module_to_dtype_before_the_first_forward():
    m = lazy(nn.LazyLinear, 2).double()                # torch's pattern: Net().to(...) first
    assert m.weight.dtype == np.float64
    m(t64(np.ones((1, 3)), False))
    assert m.weight.dtype == np.float64 and m.bias.dtype == np.float64
    bn = lazy(nn.LazyBatchNorm1d).to("cpu").to("float64")
    bn(t64(np.ones((2, 3)), False))
    assert bn.running_mean.dtype == np.float64


def test_lazy_module_deepcopy_is_independent():
    import copy
    m = lazy(nn.LazyLinear, 3)
    c = copy.deepcopy(m)
    assert type(c.weight) is nn.UninitializedParameter and c.weight is not m.weight
    c(tg.ones(1, 4))
    assert type(c) is nn.Linear and type(m) is nn.LazyLinear and m.has_uninitialized_params()
    m(tg.ones(1, 5))
    assert m.weight.shape == (3, 5) and c.weight.shape == (3, 4)
