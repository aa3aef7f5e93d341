"""torch.nn activations, 1-D layouts, RMSNorm / unfold / fold / distances and losses beyond the
DCGAN's: values against NumPy formulas written from torch's documentation, float64 gradchecks and
gradgradchecks, torch's reprs and subgradients at the kinks, argument errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorgan as tg
from tensorgan import functional as F, nn
from tensorgan.errors import ConfigError, InputTypeError, ShapeError, TensorganError

SETTINGS = settings(max_examples=10, deadline=None)
REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def t64(a, grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def sample(shape, seed=0, scale=2.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def grads(fn, x):
    """d sum(fn(x)) / dx as an array (x a float64 array)."""
    t = t64(x)
    fn(t).sum().backward()
    return t.grad.numpy()


# -- activations -------------------------------------------------------------------------------
ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
ACTIVATIONS = {   # name: (tensorgan function, NumPy formula from torch's docs)
    "selu": (F.selu, lambda x: SCALE * np.where(x > 0, x, ALPHA * np.expm1(np.minimum(x, 0)))),
    "celu": (lambda x: F.celu(x, 0.7), lambda x: np.maximum(x, 0) + np.minimum(0, 0.7 * np.expm1(x / 0.7))),
    "mish": (F.mish, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    "hardsigmoid": (F.hardsigmoid, lambda x: np.clip(x + 3, 0, 6) / 6),
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x))),
    "tanhshrink": (F.tanhshrink, lambda x: x - np.tanh(x)),
    "softshrink": (lambda x: F.softshrink(x, 0.4), lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.4, 0)),
    "hardshrink": (lambda x: F.hardshrink(x, 0.4), lambda x: np.where(np.abs(x) > 0.4, x, 0)),
    "threshold": (lambda x: F.threshold(x, 0.1, -2.0), lambda x: np.where(x > 0.1, x, -2.0)),
    "rrelu_eval": (F.rrelu, lambda x: np.where(x >= 0, x, x * (1 / 8 + 1 / 3) / 2)),
}
SMOOTH = ("selu", "celu", "mish", "softsign", "tanhshrink")


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations_match_the_formulas_and_gradcheck(name):
    ours, formula = ACTIVATIONS[name]
    x = sample((3, 5), 1, 3.0)
    np.testing.assert_allclose(ours(t64(x)).numpy(), formula(x), rtol=1e-12, atol=1e-15)
    x = x[np.abs(np.abs(x) - 3) > 1e-3]               # away from the kinks for finite differences
    tg.gradcheck(ours, [t64(x)])
    if name in SMOOTH:
        tg.gradgradcheck(ours, [t64(x)])


@pytest.mark.parametrize("name, at, expected", [     # torch 2.13's derivatives at the kinks
    ("hardswish", [-3.0, 3.0, 0.0], [0.0, 1.0, 0.5]),
    ("hardsigmoid", [-3.0, 3.0], [0.0, 0.0]),
    ("softshrink", [0.4, -0.4], [0.0, 0.0]),
    ("hardshrink", [0.4, -0.4], [0.0, 0.0]),
    ("threshold", [0.1], [0.0]),
    ("selu", [0.0], [SCALE * ALPHA]),
    ("celu", [0.0], [1.0]),
    ("rrelu_eval", [0.0], [(1 / 8 + 1 / 3) / 2]),
])
def test_subgradients_at_the_kinks_are_torchs(name, at, expected):
    np.testing.assert_allclose(grads(ACTIVATIONS[name][0], np.array(at)), expected, rtol=1e-12)


def test_glu_softmin_softmax2d():
    x = sample((2, 6, 3), 2)
    a, b = x[:, :3], x[:, 3:]
    np.testing.assert_allclose(F.glu(t64(x), 1).numpy(), a / (1 + np.exp(-b)), rtol=1e-12)
    tg.gradgradcheck(lambda t: F.glu(t, 1), [t64(x)])
    e = np.exp(-x - (-x).max(axis=-1, keepdims=True))
    np.testing.assert_allclose(F.softmin(t64(x), -1).numpy(), e / e.sum(-1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(nn.Softmin(-1)(t64(x)).numpy(), e / e.sum(-1, keepdims=True), rtol=1e-12)
    tg.gradgradcheck(lambda t: F.softmin(t, 1), [t64(x)])
    with pytest.warns(UserWarning, match="implicit dimension"):   # torch's dim=None rule: 3-D -> 0
        np.testing.assert_allclose(F.softmin(t64(x)).numpy().sum(0), 1.0)
    y = sample((2, 3, 4, 4), 3)
    e = np.exp(y - y.max(axis=1, keepdims=True))
    np.testing.assert_allclose(nn.Softmax2d()(t64(y)).numpy(), e / e.sum(1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(nn.Softmax2d()(t64(y[0])).numpy(), (e / e.sum(1, keepdims=True))[0], rtol=1e-12)
    with pytest.raises(ShapeError, match="size 5"):
        F.glu(t64(np.ones((2, 5))))
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        nn.Softmax2d()(t64(np.ones(3)))


def test_rrelu_training_draws_a_slope_per_element_from_the_generator():
    x = np.linspace(-2, 2, 9)
    t = t64(x)
    y = F.rrelu(t, 0.1, 0.3, training=True, generator=tg.Generator(5))
    y.sum().backward()
    slopes = tg.Generator(5).uniform(x.shape, np.float64, 0.1, 0.3)
    np.testing.assert_allclose(y.numpy(), np.where(x > 0, x, x * slopes), rtol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), np.where(x > 0, 1.0, slopes), rtol=1e-12)  # 0 too
    layer = nn.RReLU(0.1, 0.3, generator=tg.Generator(5))
    np.testing.assert_allclose(layer(t64(x)).numpy(), y.numpy())
    layer.eval()
    np.testing.assert_allclose(layer(t64(x)).numpy(), np.where(x > 0, x, 0.2 * x), rtol=1e-12)
    with pytest.raises(ConfigError, match="lower bound 0.5"):
        nn.RReLU(0.5, 0.1)


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax(hard):
    logits = sample((5, 4), 4)
    t = t64(logits)
    y = F.gumbel_softmax(t, tau=0.5, hard=hard, generator=tg.Generator(2))
    gumbel = -np.log(np.random.Generator(np.random.PCG64(2)).standard_exponential(logits.shape))
    z = (logits + gumbel) / 0.5
    soft = np.exp(z - z.max(-1, keepdims=True))
    soft /= soft.sum(-1, keepdims=True)
    expected = (soft == soft.max(-1, keepdims=True)).astype(float) if hard else soft
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-15)
    w = sample((5, 4), 6)
    (y * t64(w, False)).sum().backward()    # hard: the soft sample's gradient (straight through)
    jac_t_w = (soft * (w - (soft * w).sum(-1, keepdims=True))) / 0.5
    np.testing.assert_allclose(t.grad.numpy(), jac_t_w, rtol=1e-10, atol=1e-12)
    y0 = F.gumbel_softmax(t64(logits), dim=0, generator=tg.Generator(2))
    np.testing.assert_allclose(y0.numpy().sum(0), 1.0)
    assert np.isnan(F.gumbel_softmax(t, tau=0.0).numpy()).all()      # as torch's: no check


def test_in_place_forms_overwrite_and_refuse_tracked_tensors():
    x = sample((4, 3), 7)
    for name, args, ours in [("relu_", (), F.relu), ("leaky_relu_", (0.2,), F.leaky_relu),
                             ("elu_", (0.5,), F.elu), ("celu_", (0.5,), F.celu), ("selu_", (), F.selu),
                             ("hardtanh_", (-0.5, 0.5), F.hardtanh),
                             ("threshold_", (0.1, 3.0), F.threshold), ("rrelu_", (), F.rrelu)]:
        t = t64(x, grad=False)
        assert getattr(F, name)(t, *args) is t
        np.testing.assert_allclose(t.numpy(), ours(t64(x), *args).numpy(), rtol=1e-12)
        with pytest.raises(TensorganError, match=name):      # a leaf that requires grad
            getattr(F, name)(t64(x), *args)
    leaf = t64(x)
    tracked = leaf * 2.0                                      # an op's result: a graph op, as torch
    assert F.leaky_relu_(tracked, 0.2) is tracked
    tracked.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), np.where(x > 0, 2.0, 0.4))


def test_activation_reprs_are_torchs():
    assert [repr(m) for m in (nn.SELU(), nn.SELU(True), nn.CELU(), nn.CELU(2.0, True), nn.Mish(True),
                              nn.Hardswish(True), nn.Hardsigmoid(), nn.Softsign(), nn.Tanhshrink())] == [
        "SELU()", "SELU(inplace=True)", "CELU(alpha=1.0)", "CELU(alpha=2.0, inplace=True)",
        "Mish(inplace=True)", "Hardswish()", "Hardsigmoid()", "Softsign()", "Tanhshrink()"]
    assert [repr(m) for m in (nn.Softmin(), nn.Softmin(1), nn.Softshrink(), nn.Hardshrink(0.3),
                              nn.Threshold(0.1, 20, True), nn.GLU(), nn.Softmax2d(), nn.RReLU(),
                              nn.RReLU(0.1, 0.3, True))] == [
        "Softmin(dim=None)", "Softmin(dim=1)", "Softshrink(0.5)", "Hardshrink(0.3)",
        "Threshold(threshold=0.1, value=20, inplace=True)", "GLU(dim=-1)", "Softmax2d()",
        "RReLU(lower=0.125, upper=0.3333333333333333)", "RReLU(lower=0.1, upper=0.3, inplace=True)"]


def test_activation_argument_errors():
    x = t64(np.ones(3))
    with pytest.raises(ConfigError, match="lambd must be >= 0"):
        F.softshrink(x, -1.0)
    with pytest.raises(ConfigError, match="lambd"):
        nn.Softshrink(-0.5)   # (torch refuses it for Softshrink only)
    with pytest.raises(ConfigError, match="alpha must be nonzero"):
        F.celu(x, 0.0)
    with pytest.raises(InputTypeError, match="threshold"):
        F.threshold(x, "a", 1.0)
    with pytest.raises(InputTypeError, match="inplace"):
        nn.SELU(inplace="yes")


# -- 1-D pooling, padding and instance norm ----------------------------------------------------
def np_pool1d(x, k, s, p, d, ceil_mode, reduce, pad_value):
    """torch's 1-D pooling from its documentation: windows of k taps d apart every s along the
    padded last dim (a window that starts in the right padding is dropped in ceil mode)."""
    n = x.shape[-1]
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    padded = np.concatenate([np.full(x.shape[:-1] + (p,), pad_value), x,
                             np.full(x.shape[:-1] + (p + d * k + s,), pad_value)], axis=-1)
    return np.stack([reduce(padded[..., [i * s + j * d for j in range(k)]], i * s - p)
                     for i in range(out)], axis=-1)


@SETTINGS
@given(k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), d=st.integers(1, 2),
       ceil_mode=st.booleans(), unbatched=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_max_pool1d_matches_the_windows(k, s, p, d, ceil_mode, unbatched, seed):
    p = min(p, k // 2)
    x = sample((3, 9) if unbatched else (2, 3, 9), seed)
    expected = np_pool1d(x, k, s, p, d, ceil_mode, lambda w, start: w.max(-1), -np.inf)
    np.testing.assert_array_equal(F.max_pool1d(t64(x), k, s, p, d, ceil_mode).numpy(), expected)
    layer = nn.MaxPool1d(k, s, p, d, ceil_mode=ceil_mode)
    np.testing.assert_array_equal(layer(t64(x)).numpy(), expected)
    tg.gradgradcheck(lambda t: F.max_pool1d(t, k, s, p, d, ceil_mode) ** 2, [t64(x)])


@SETTINGS
@given(k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), ceil_mode=st.booleans(),
       count_include_pad=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_avg_pool1d_matches_torchs_divisors(k, s, p, ceil_mode, count_include_pad, seed):
    p, n = min(p, k // 2), 9
    x = sample((2, 3, n), seed)

    def mean(w, start):   # torch's divisor: the window clipped to the padded input, or real elements
        stop = min(start + k, n + p)
        real = min(stop, n) - max(start, 0)
        return w.sum(-1) / ((stop - start) if count_include_pad else real)
    expected = np_pool1d(x, k, s, p, 1, ceil_mode, mean, 0.0)
    ours = F.avg_pool1d(t64(x), k, s, p, ceil_mode, count_include_pad)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12)
    layer = nn.AvgPool1d(k, s, p, ceil_mode, count_include_pad)
    np.testing.assert_allclose(layer(t64(x[0])).numpy(), expected[0], rtol=1e-12)
    tg.gradcheck(lambda t: F.avg_pool1d(t, k, s, p, ceil_mode, count_include_pad), [t64(x)])


@pytest.mark.parametrize("out", [1, 3, 4, 7])
def test_adaptive_pool1d_windows(out):
    n, x = 10, sample((2, 3, 10), out)
    windows = [x[..., (i * n) // out: -((-(i + 1) * n) // out)] for i in range(out)]
    np.testing.assert_allclose(F.adaptive_avg_pool1d(t64(x), out).numpy(),
                               np.stack([w.mean(-1) for w in windows], -1), rtol=1e-12)
    np.testing.assert_array_equal(nn.AdaptiveMaxPool1d(out)(t64(x[0])).numpy(),
                                  np.stack([w.max(-1) for w in windows], -1)[0])
    tg.gradcheck(lambda t: F.adaptive_avg_pool1d(t, out), [t64(x)])
    tg.gradcheck(lambda t: F.adaptive_max_pool1d(t, (out,)), [t64(x)])


PADS_1D = {"ZeroPad1d": "constant", "ReflectionPad1d": "reflect", "ReplicationPad1d": "edge",
           "CircularPad1d": "wrap"}


@pytest.mark.parametrize("name", list(PADS_1D))
def test_1d_pads_are_numpys(name):
    x = sample((2, 3, 5), 8)
    expected = np.pad(x, ((0, 0), (0, 0), (2, 3)), mode=PADS_1D[name])
    np.testing.assert_array_equal(getattr(nn, name)((2, 3))(t64(x)).numpy(), expected)
    np.testing.assert_array_equal(getattr(nn, name)(2)(t64(x[0])).numpy(),
                                  np.pad(x[0], ((0, 0), (2, 2)), mode=PADS_1D[name]))
    tg.gradcheck(getattr(nn, name)((2, 3)), [t64(x)])


def test_constant_pad1d_and_circular_pad2d():
    x = sample((4, 5), 9)
    np.testing.assert_array_equal(nn.ConstantPad1d((2, 1), 1.5)(t64(x)).numpy(),
                                  np.pad(x, ((0, 0), (2, 1)), constant_values=1.5))
    np.testing.assert_array_equal(nn.ConstantPad1d(1, -1.0)(t64(x[0])).numpy(),
                                  np.pad(x[0], (1, 1), constant_values=-1.0))
    y = sample((2, 3, 4, 5), 10)
    np.testing.assert_array_equal(nn.CircularPad2d((1, 2, 0, 3))(t64(y)).numpy(),
                                  np.pad(y, ((0, 0), (0, 0), (0, 3), (1, 2)), mode="wrap"))
    tg.gradcheck(nn.CircularPad2d(1), [t64(y)])


def test_instance_norm1d():
    x = sample((2, 3, 7), 11)
    layer = nn.InstanceNorm1d(3, affine=True).double()
    with tg.no_grad():
        layer.weight.copy_(np.array([1.0, 2.0, 0.5]))
        layer.bias.copy_(np.array([0.0, -1.0, 3.0]))
    normed = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    expected = normed * np.array([1.0, 2.0, 0.5])[:, None] + np.array([0.0, -1.0, 3.0])[:, None]
    np.testing.assert_allclose(layer(t64(x)).numpy(), expected, rtol=1e-10)
    np.testing.assert_allclose(nn.InstanceNorm1d(3)(t64(x[1])).numpy(), normed[1], rtol=1e-10)
    tg.gradgradcheck(layer, [t64(x)])
    with pytest.raises(ShapeError, match="expected 4 channels"):
        nn.InstanceNorm1d(4, affine=True, dtype="float64")(t64(x))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(4)(t64(x))      # unused without affine / running stats, as torch
    scale_only = nn.InstanceNorm1d(3, affine=True, bias=False)
    assert scale_only.bias is None and "affine=True, bias=False" in repr(scale_only)


def test_1d_layer_reprs_are_torchs():
    assert [repr(m) for m in (nn.MaxPool1d(3), nn.MaxPool1d(3, 2, 1, 2, ceil_mode=True), nn.AvgPool1d(3),
                              nn.AvgPool1d(3, 2, 1, True, False), nn.AdaptiveAvgPool1d(3),
                              nn.AdaptiveMaxPool1d(2))] == [
        "MaxPool1d(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False)",
        "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)",
        "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))",
        "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(1,))",
        "AdaptiveAvgPool1d(output_size=3)", "AdaptiveMaxPool1d(output_size=2)"]
    assert [repr(m) for m in (nn.ReflectionPad1d((1, 2)), nn.ReplicationPad1d(1), nn.ZeroPad1d(1),
                              nn.ConstantPad1d((1, 2), 3), nn.CircularPad1d(1),
                              nn.CircularPad2d((1, 2, 3, 4)), nn.ZeroPad2d(1), nn.ReflectionPad2d(1),
                              nn.ConstantPad2d(1, 2.0), nn.InstanceNorm1d(3))] == [
        "ReflectionPad1d((1, 2))", "ReplicationPad1d((1, 1))", "ZeroPad1d((1, 1))",
        "ConstantPad1d(padding=(1, 2), value=3)", "CircularPad1d((1, 1))",
        "CircularPad2d((1, 2, 3, 4))", "ZeroPad2d((1, 1, 1, 1))", "ReflectionPad2d((1, 1, 1, 1))",
        "ConstantPad2d(padding=(1, 1, 1, 1), value=2.0)",
        "InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)"]


@pytest.mark.parametrize("make, error, match", [
    (lambda x: F.max_pool1d(x, 7), ShapeError, "larger than the length 5"),
    (lambda x: F.avg_pool1d(x, 3, padding=2), ConfigError, "padding=2 and kernel_size=3"),
    (lambda x: F.max_pool1d(x[0, 0], 2), ShapeError, r"\(N, C, L\) or unbatched \(C, L\)"),
    (lambda x: nn.MaxPool1d((2, 3)), ConfigError, "kernel_size must be an int or a 1-tuple"),
    (lambda x: nn.AdaptiveAvgPool1d((2, 3)), ConfigError, "output_size"),
    (lambda x: nn.ZeroPad1d((1, 2, 3)), ConfigError, r"\(left, right\)"),
    (lambda x: nn.ReflectionPad1d(1)(x[0, 0]), ShapeError, r"\(C, L\) or \(N, C, L\)"),
    (lambda x: nn.CircularPad1d(6)(x), ShapeError, "circular padding of \\(6, 6\\)"),
])
def test_1d_argument_errors(make, error, match):
    with pytest.raises(error, match=match):
        make(t64(np.ones((2, 3, 5))))


# -- RMSNorm, unfold / fold, distances ---------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rms_norm(dtype):
    x, w = sample((2, 3, 4), 12).astype(dtype), sample((3, 4), 13).astype(dtype)
    eps = np.finfo(dtype).eps                   # eps=None: the dtype's machine epsilon, as torch
    expected = x / np.sqrt((x ** 2).mean(axis=(1, 2), keepdims=True) + eps) * w
    ours = F.rms_norm(tg.tensor(x), (3, 4), tg.tensor(w))
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert ours.dtype == tg.float32 if dtype == np.float32 else tg.float64
    layer, x = nn.RMSNorm(4, eps=0.1).double(), x.astype(np.float64)
    np.testing.assert_allclose(layer(t64(x)).numpy(),
                               x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 0.1), rtol=1e-12)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    tg.gradgradcheck(lambda t, v: F.rms_norm(t, (3, 4), v), [t64(x), t64(w)])
    assert repr(nn.RMSNorm(4)) == "RMSNorm((4,), eps=None, elementwise_affine=True)"
    assert nn.RMSNorm((2, 3), 1e-6, False).weight is None
    with pytest.raises(ShapeError, match=r"normalized_shape \(3,\)"):
        F.rms_norm(t64(x), 3)


def np_unfold(x, k, d, p, s):
    """im2col from torch's documentation: block (i, j)'s elements, channel-major, as column i*Wo+j."""
    x = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    n, c, h, w = x.shape
    ho, wo = (h - d[0] * (k[0] - 1) - 1) // s[0] + 1, (w - d[1] * (k[1] - 1) - 1) // s[1] + 1
    cols = [x[:, :, i * s[0]: i * s[0] + d[0] * (k[0] - 1) + 1: d[0],
              j * s[1]: j * s[1] + d[1] * (k[1] - 1) + 1: d[1]].reshape(n, -1)
            for i in range(ho) for j in range(wo)]
    return np.stack(cols, axis=-1)


GEOMETRIES = [((3, 3), (1, 1), (0, 0), (1, 1)), ((2, 3), (2, 2), (1, 1), (2, 2)),
              ((3, 1), (1, 1), (1, 0), (2, 1)), ((2, 2), (1, 2), (0, 1), (1, 3))]


@pytest.mark.parametrize("k, d, p, s", GEOMETRIES)
def test_unfold_is_im2col_and_fold_its_adjoint(k, d, p, s):
    x = sample((2, 3, 7, 6), 14)
    cols = F.unfold(t64(x), k, d, p, s)
    np.testing.assert_array_equal(cols.numpy(), np_unfold(x, k, d, p, s))
    np.testing.assert_array_equal(nn.Unfold(k, d, p, s)(t64(x[0])).numpy(), np_unfold(x, k, d, p, s)[0])
    y = sample(cols.shape, 15)
    folded = F.fold(t64(y), (7, 6), k, d, p, s)
    assert folded.shape == x.shape                     # <unfold(x), y> == <x, fold(y)>
    np.testing.assert_allclose((cols.numpy() * y).sum(), (x * folded.numpy()).sum(), rtol=1e-12)
    np.testing.assert_allclose(nn.Fold((7, 6), k, d, p, s)(t64(y[1])).numpy(), folded.numpy()[1])
    tg.gradcheck(lambda t: F.unfold(t, k, d, p, s), [t64(x)])
    tg.gradcheck(lambda t: F.fold(t, (7, 6), k, d, p, s), [t64(y)])
    tg.gradgradcheck(lambda t: F.fold(t, (7, 6), k, d, p, s) ** 2, [t64(y)])


def test_unfold_fold_errors_and_reprs():
    with pytest.raises(ShapeError, match="at least one"):
        F.unfold(t64(np.ones((1, 3, 2, 2))), 3)
    with pytest.raises(ShapeError, match="4 \\* 4 = 16 sliding blocks"):
        F.fold(t64(np.ones((1, 12, 15))), 5, 2)
    with pytest.raises(ShapeError, match="divisible by the product of kernel_size"):
        F.fold(t64(np.ones((1, 13, 16))), 5, 2)
    with pytest.raises(ConfigError, match="stride must be >= 1"):
        nn.Unfold(2, stride=0)
    assert repr(nn.Unfold((2, 3), 2, 1, 2)) == "Unfold(kernel_size=(2, 3), dilation=2, padding=1, stride=2)"
    assert repr(nn.Fold(4, 2)) == "Fold(output_size=4, kernel_size=2, dilation=1, padding=0, stride=1)"


def np_norm(v, p):
    a = np.abs(v)
    return a.max(-1) if p == math.inf else (a ** p).sum(-1) ** (1 / p)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.5, math.inf, 0.5])
def test_pairwise_distance_and_pdist(p):
    a, b = sample((3, 5), 16), sample((5,), 17)
    np.testing.assert_allclose(F.pairwise_distance(t64(a), t64(b), p).numpy(), np_norm(a - b + 1e-6, p),
                               rtol=1e-12)
    layer = nn.PairwiseDistance(p, 1e-3, keepdim=True)
    np.testing.assert_allclose(layer(t64(a), t64(b)).numpy(), np_norm(a - b + 1e-3, p)[:, None], rtol=1e-12)
    i, j = np.triu_indices(3, 1)
    np.testing.assert_allclose(F.pdist(t64(a), p).numpy(), np_norm(a[i] - a[j], p), rtol=1e-12)
    check = tg.gradcheck if p in (1.0, math.inf) else tg.gradgradcheck   # piecewise linear: no 2nd
    check(lambda u, v: F.pairwise_distance(u, v, p), [t64(a), t64(b)])
    check(lambda u: F.pdist(u, p), [t64(a)])


def test_distance_edge_cases():
    assert F.pairwise_distance(t64(1.0), t64(2.0)).shape == ()
    assert F.pdist(t64(np.ones((1, 3)))).shape == (0,)
    rows = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 1.0]])   # a zero distance: gradient 0, as torch
    np.testing.assert_allclose(grads(F.pdist, rows), np.array([[1, 1], [1, 1], [-2, -2]]) / np.sqrt(2))
    with pytest.raises(ShapeError, match="2-D"):
        F.pdist(t64(np.ones((2, 3, 4))))
    with pytest.raises(ConfigError, match="p must be >= 0"):
        F.pdist(t64(np.ones((2, 3))), -1.0)
    with pytest.raises(ShapeError, match="do not broadcast"):
        F.pairwise_distance(t64(np.ones((3, 4))), t64(np.ones((2, 4))))
    assert repr(nn.PairwiseDistance()) == "PairwiseDistance()"


# -- margin, embedding and likelihood losses ---------------------------------------------------
def signs(shape, seed):
    return np.random.default_rng(seed).choice([-1.0, 1.0], shape)


def np_cos(a, b):
    return (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))


def np_dist(a, b, p, eps=1e-6):
    return (np.abs(a - b + eps) ** p).sum(-1) ** (1 / p)


LOSSES = {   # name: (tensorgan loss of (operands, reduction), NumPy loss per element, operands)
    "margin_ranking": (lambda a, b, y, r: F.margin_ranking_loss(a, b, y, 0.3, r),
                       lambda a, b, y: np.maximum(0, -y * (a - b) + 0.3),
                       lambda: [sample(6, 1), sample(6, 2), signs(6, 3)]),
    "hinge_embedding": (lambda x, y, r: F.hinge_embedding_loss(x, y, 0.8, r),   # y = 0.5: both terms
                        lambda x, y: np.where(y != 1, np.maximum(0, 0.8 - x), 0) + np.where(y != -1, x, 0),
                        lambda: [sample((3, 4), 4), np.random.default_rng(5).choice([-1, 1, 0.5], (3, 4))]),
    "soft_margin": (F.soft_margin_loss, lambda x, y: np.log1p(np.exp(-y * x)),
                    lambda: [sample((3, 4), 6, 5.0), signs((3, 4), 7)]),
    "multilabel_soft_margin": (
        lambda x, y, w, r: F.multilabel_soft_margin_loss(x, y, w, r),
        lambda x, y, w: (w * (y * np.log1p(np.exp(-x)) + (1 - y) * np.log1p(np.exp(x)))).mean(-1),
        lambda: [sample((3, 4), 8), (sample((3, 4), 9) > 0).astype(float), np.abs(sample(4, 10))]),
    "cosine_embedding": (lambda a, b, y, r: F.cosine_embedding_loss(a, b, y, 0.2, r),
                         lambda a, b, y: np.where(y == 1, 1 - np_cos(a, b), np.maximum(0, np_cos(a, b) - 0.2)),
                         lambda: [sample((5, 3), 11), sample((5, 3), 12), signs(5, 13)]),
    "triplet": (lambda a, p, n, r: F.triplet_margin_loss(a, p, n, 1.5, 3.0, reduction=r),
                lambda a, p, n: np.maximum(0, 1.5 + np_dist(a, p, 3) - np_dist(a, n, 3)),
                lambda: [sample((5, 3), 14), sample((5, 3), 15), sample((5, 3), 16)]),
    "triplet_swap": (lambda a, p, n, r: F.triplet_margin_loss(a, p, n, 2.0, swap=True, reduction=r),
                     lambda a, p, n: np.maximum(0, 2.0 + np_dist(a, p, 2) - np.minimum(
                         np_dist(a, n, 2), np_dist(p, n, 2))),
                     lambda: [sample((5, 3), 17), sample((5, 3), 18), sample((5, 3), 19)]),
    "gaussian_nll": (lambda x, t, v, r: F.gaussian_nll_loss(x, t, v, True, reduction=r),
                     lambda x, t, v: 0.5 * (np.log(np.maximum(v, 1e-6)) + (x - t) ** 2 / np.maximum(v, 1e-6)
                                            + np.log(2 * np.pi)),
                     lambda: [sample((4, 3), 20), sample((4, 3), 21), np.abs(sample((4, 3), 22))]),
    "poisson_nll": (lambda x, t, r: F.poisson_nll_loss(x, t, full=True, reduction=r),
                    lambda x, t: np.exp(x) - t * x + np.where(
                        t > 1, t * np.log(t) - t + 0.5 * np.log(2 * np.pi * t), 0),
                    lambda: [sample((4, 3), 23, 1.0), np.abs(sample((4, 3), 24))]),
    "poisson_nll_rates": (lambda x, t, r: F.poisson_nll_loss(x, t, log_input=False, reduction=r),
                          lambda x, t: x - t * np.log(x + 1e-8),
                          lambda: [np.abs(sample((4, 3), 25)) + 0.1, np.abs(sample((4, 3), 26))]),
}


@pytest.mark.parametrize("reduction", list(REDUCE))
@pytest.mark.parametrize("name", list(LOSSES))
def test_losses_match_the_formulas(name, reduction):
    ours, formula, operands = LOSSES[name]
    arrays = operands()
    got = ours(*(t64(a) for a in arrays), reduction)
    np.testing.assert_allclose(got.numpy(), REDUCE[reduction](formula(*arrays)), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradients(name):
    ours, _, operands = LOSSES[name]
    arrays = operands()
    grad = name not in ("hinge_embedding", "cosine_embedding", "margin_ranking")  # targets: labels
    tensors = [t64(a, grad or i < len(arrays) - 1) for i, a in enumerate(arrays)]
    tg.gradcheck(lambda *ts: ours(*ts, "sum"), tensors)
    if name not in ("margin_ranking", "hinge_embedding"):   # piecewise linear: no second derivative
        tg.gradgradcheck(lambda *ts: ours(*ts, "mean"), tensors)


def test_gaussian_nll_variance_layouts_and_clamp():
    x, t = sample((4, 3), 27), sample((4, 3), 28)
    for var in (np.abs(sample(4, 29)), np.abs(sample((4, 1), 30))):    # homoscedastic layouts
        v = var.reshape(4, 1)
        expected = (0.5 * (np.log(v) + (x - t) ** 2 / v)).mean()
        np.testing.assert_allclose(F.gaussian_nll_loss(t64(x), t64(t), t64(var)).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(F.gaussian_nll_loss(t64(x), t64(t), 0.5).numpy(),
                               (0.5 * (np.log(0.5) + (x - t) ** 2 / 0.5)).mean(), rtol=1e-12)
    v = t64(np.full((4, 3), 1e-9))        # clamped to eps, the gradient as if it were not (torch's)
    F.gaussian_nll_loss(t64(x), t64(t), v, reduction="sum").backward()
    np.testing.assert_allclose(v.grad.numpy(), 0.5 * (1 / 1e-6 - (x - t) ** 2 / 1e-12), rtol=1e-12)
    with pytest.raises(ConfigError, match="negative"):
        F.gaussian_nll_loss(t64(x), t64(t), t64(-np.ones((4, 3))))
    with pytest.raises(ShapeError, match="incorrect size"):
        F.gaussian_nll_loss(t64(x), t64(t), t64(np.ones((2, 3))))
    assert repr(nn.GaussianNLLLoss(full=True)) == "GaussianNLLLoss()"


def test_loss_modules_and_unbatched_layouts():
    a, b, n, y = sample(3, 31), sample(3, 32), sample(3, 33), t64(-1.0)
    assert F.cosine_embedding_loss(t64(a), t64(b), y).numpy() == pytest.approx(max(0, np_cos(a, b)))
    assert F.triplet_margin_loss(t64(a), t64(b), t64(n)).numpy() == pytest.approx(
        max(0, 1 + np_dist(a, b, 2) - np_dist(a, n, 2)))
    x, t = sample((3, 4), 34), sample((3, 4), 35)
    triples = [  # module, function, operands
        (nn.MarginRankingLoss(0.5, "sum"), lambda *o: F.margin_ranking_loss(*o, 0.5, "sum"),
         [x[:, 0], t[:, 0], signs(3, 36)]),
        (nn.CosineEmbeddingLoss(0.1), lambda *o: F.cosine_embedding_loss(*o, 0.1), [x, t, signs(3, 36)]),
        (nn.TripletMarginLoss(2.0, 1.0, swap=True), lambda *o: F.triplet_margin_loss(*o, 2.0, 1.0, swap=True),
         [x, t, x[::-1].copy()])]
    for module, function, operands in triples:
        np.testing.assert_allclose(module(*map(t64, operands)).numpy(), function(*map(t64, operands)).numpy())
    for module, function in [(nn.HingeEmbeddingLoss(), F.hinge_embedding_loss),
                             (nn.SoftMarginLoss("none"), lambda *o: F.soft_margin_loss(*o, "none")),
                             (nn.MultiLabelSoftMarginLoss(t64(np.ones(4))), F.multilabel_soft_margin_loss),
                             (nn.PoissonNLLLoss(), F.poisson_nll_loss)]:
        np.testing.assert_allclose(module(t64(x), signs((3, 4), 37)).numpy(),
                                   function(t64(x), signs((3, 4), 37)).numpy())
    assert [repr(m) for m in (nn.MarginRankingLoss(0.5), nn.TripletMarginLoss(), nn.MSELoss("sum"))] == [
        "MarginRankingLoss()", "TripletMarginLoss()", "MSELoss()"]      # torch's losses show nothing


@pytest.mark.parametrize("make, error, match", [
    (lambda x: F.margin_ranking_loss(x, x[0], np.ones(3)), ShapeError, "same number of dimensions"),
    (lambda x: F.cosine_embedding_loss(x, x, np.ones((2, 3))), ShapeError, "0-d target"),
    (lambda x: F.triplet_margin_loss(x, x, x, margin=0.0), ConfigError, "margin must be greater than 0"),
    (lambda x: nn.TripletMarginLoss(margin=-1.0), ConfigError, "margin must be greater than 0"),
    (lambda x: F.soft_margin_loss(x, np.ones((4, 3))), ShapeError, "do not broadcast"),
    (lambda x: F.hinge_embedding_loss(x, "a"), InputTypeError, "target must be a Tensor"),
    (lambda x: F.poisson_nll_loss(x, x, reduction="avg"), ConfigError, "reduction"),
    (lambda x: nn.MultiLabelSoftMarginLoss([1.0, 2.0]), InputTypeError, "weight must be a Tensor"),
])
def test_loss_argument_errors(make, error, match):
    with pytest.raises(error, match=match):
        make(t64(np.ones((2, 3))))


@pytest.mark.parametrize("shape, dim", [((3,), 0), ((2, 3), 1), ((2, 3, 4), 0), ((2, 3, 4, 5), 1)])
def test_softmax_layers_without_dim_take_torchs_implicit_dim(shape, dim):
    x = sample(shape, 38)
    with pytest.warns(UserWarning, match="implicit dimension"):
        np.testing.assert_allclose(nn.Softmax()(t64(x)).numpy(), F.softmax(t64(x), dim).numpy())
    with pytest.warns(UserWarning, match="implicit dimension"):
        np.testing.assert_allclose(nn.LogSoftmax()(t64(x)).numpy(), F.log_softmax(t64(x), dim).numpy())


def test_empty_and_0d_edge_cases_are_torchs():
    assert F.unfold(t64(np.zeros((0, 2, 5, 5))), 2).shape == (0, 8, 16)
    assert F.fold(t64(np.zeros((0, 8, 4))), 3, 2).shape == (0, 2, 3, 3)
    assert F.max_pool1d(t64(np.zeros((0, 2, 5))), 2).shape == (0, 2, 2)
    assert F.gumbel_softmax(t64(1.0)).numpy() == 1.0
    assert F.softmin(t64(2.0)).numpy() == 1.0
    for loss in (F.soft_margin_loss(t64(np.zeros((0, 3))), np.zeros((0, 3))),
                 F.poisson_nll_loss(t64(np.zeros((0, 3))), np.zeros((0, 3))),
                 F.triplet_margin_loss(*(t64(np.zeros((0, 3))) for _ in range(3)))):
        assert np.isnan(loss.numpy())                        # the mean of nothing, as torch
    x = sample((2, 3, 4), 39)                                # any rank, distances over the last dim
    np.testing.assert_allclose(F.triplet_margin_loss(t64(x), t64(x[::-1].copy()), t64(x), reduction="none").numpy(),
                               np.maximum(0, 1 + np_dist(x, x[::-1], 2) - np_dist(x, x, 2)), rtol=1e-12)
