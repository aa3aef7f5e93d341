"""torch.nn activations, 1-D layouts, RMSNorm / unfold / fold / distances and losses beyond the
DCGAN's: values against NumPy formulas written from torch's documentation, float64 gradchecks and
gradgradchecks, torch's reprs and subgradients at the kinks, argument errors."""
import math
import warnings

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
    with pytest.raises(ConfigError, match="tau"):
        F.gumbel_softmax(t, tau=0.0)


def test_in_place_forms_overwrite_and_refuse_tracked_tensors():
    x = sample((4, 3), 7)
    for name, args, ours in [("relu_", (), F.relu), ("leaky_relu_", (0.2,), F.leaky_relu),
                             ("elu_", (0.5,), F.elu), ("celu_", (0.5,), F.celu), ("selu_", (), F.selu),
                             ("hardtanh_", (-0.5, 0.5), F.hardtanh),
                             ("threshold_", (0.1, 3.0), F.threshold), ("rrelu_", (), F.rrelu)]:
        t = t64(x, grad=False)
        assert getattr(F, name)(t, *args) is t
        np.testing.assert_allclose(t.numpy(), ours(t64(x), *args).numpy(), rtol=1e-12)
        with pytest.raises(TensorganError, match=name):
            getattr(F, name)(t64(x), *args)


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
        nn.Hardshrink(-0.5)
    with pytest.raises(ConfigError, match="alpha must be nonzero"):
        F.celu(x, 0.0)
    with pytest.raises(InputTypeError, match="threshold"):
        F.threshold(x, "a", 1.0)
    with pytest.raises(InputTypeError, match="inplace"):
        nn.SELU(inplace="yes")
