"""The activations, normalizations and Tensor methods PyTorch GAN code reaches for beyond the
DCGAN (softplus losses, WGAN-GP's LayerNorm critic and g.norm(2, dim=1), pix2pix's
InstanceNorm, StyleGAN's lerp EMA): values against NumPy formulas, float64 gradchecks and
gradgradchecks, and the argument errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorgan as tg
from tensorgan import functional as F, nn
from tensorgan.errors import ConfigError, DTypeError, InputTypeError, ShapeError

SETTINGS = settings(max_examples=15, deadline=None)


def t64(a, grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def sample(shape, seed=0, scale=2.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


# -- activations ---------------------------------------------------------------------------------
def np_softplus(x, beta=1.0, threshold=20.0):
    return np.where(x * beta > threshold, x, np.log1p(np.exp(-np.abs(beta * x))) / beta
                    + np.maximum(beta * x, 0) / beta)


ACTIVATIONS = {
    "softplus": (F.softplus, np_softplus),
    "softplus_beta": (lambda x: F.softplus(x, 2.0, 5.0), lambda x: np_softplus(x, 2.0, 5.0)),
    "silu": (F.silu, lambda x: x / (1 + np.exp(-x))),
    "gelu": (F.gelu, lambda x: x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    "gelu_tanh": (lambda x: F.gelu(x, "tanh"), lambda x: 0.5 * x * (1 + np.tanh(
        math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    "elu": (lambda x: F.elu(x, 0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(np.minimum(x, 0)))),
    "hardtanh": (lambda x: F.hardtanh(x, -1.5, 0.5), lambda x: np.clip(x, -1.5, 0.5)),
    "log1p": (lambda x: (x * x).log1p(), lambda x: np.log1p(x * x)),
    "sin": (tg.sin, np.sin),
    "cos": (tg.cos, np.cos),
    "square": (tg.square, np.square),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations_match_formulas_and_gradcheck(name):
    ours, formula = ACTIVATIONS[name]
    a = sample((3, 5), seed=1, scale=3.0)
    a[0, :3] = [30.0, -30.0, 0.3]          # softplus' linear region, elu's flat tail
    np.testing.assert_allclose(ours(t64(a)).numpy(), formula(a), rtol=1e-12, atol=1e-12)
    x = t64(a)
    assert tg.gradcheck(lambda v: ours(v), [x])
    assert tg.gradgradcheck(lambda v: ours(v) ** 2, [x])


def test_activation_derivatives_at_their_special_points():
    x = t64([0.0, 0.0, 25.0, -800.0])
    F.softplus(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[[0, 2]], [0.5, 1.0])   # sigmoid(0); linear region
    assert x.grad.numpy()[3] == 0.0 and np.isfinite(F.softplus(x).numpy()).all()
    y = t64([0.0, 800.0, -1.0, 1.0, -2.0])
    F.elu(y, 0.5).sum().backward()                   # no overflow from the branch not taken
    np.testing.assert_allclose(y.grad.numpy()[:2], [0.5, 1.0])
    z = t64([-1.0, 1.0, 0.0])
    F.hardtanh(z).sum().backward()                  # 0 at the bounds (torch's), 1 inside
    np.testing.assert_array_equal(z.grad.numpy(), [0.0, 0.0, 1.0])


def test_activation_modules():
    x = t64(sample((2, 3)), grad=False)
    for module, fn in [(nn.Softplus(2.0), lambda v: F.softplus(v, 2.0)), (nn.SiLU(), F.silu), (nn.GELU(), F.gelu),
                       (nn.ELU(0.3), lambda v: F.elu(v, 0.3)), (nn.Hardtanh(-2, 2), lambda v: F.hardtanh(v, -2, 2)),
                       (nn.Softmax(dim=1), lambda v: F.softmax(v, 1)),
                       (nn.LogSoftmax(dim=0), lambda v: F.log_softmax(v, 0))]:
        np.testing.assert_array_equal(module(x).numpy(), fn(x).numpy())
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    with pytest.raises(ConfigError, match="beta"):
        F.softplus(x, beta=0)
    with pytest.raises(ConfigError, match="min_val"):
        F.hardtanh(x, 1.0, -1.0)


# -- normalizations ------------------------------------------------------------------------------
def np_norm(a, axes):
    mean = a.mean(axis=axes, keepdims=True)
    return (a - mean) / np.sqrt(a.var(axis=axes, keepdims=True) + 1e-5)


@SETTINGS
@given(n=st.integers(1, 3), groups=st.sampled_from([1, 2, 3]), per=st.integers(1, 2),
       spatial=st.sampled_from([(), (4,), (3, 2)]), seed=st.integers(0, 999))
def test_group_layer_and_instance_norm_match_the_definitions(n, groups, per, spatial, seed):
    c = groups * per
    a = sample((n, c) + spatial, seed) + 1.0
    w, b = sample((c,), seed + 1), sample((c,), seed + 2)
    bshape = (1, c) + (1,) * len(spatial)
    grouped = np_norm(a.reshape(n, groups, -1), (2,)).reshape(a.shape)
    if n * per * int(np.prod(spatial)) == 1:   # one value per group and batch: torch's ValueError
        with pytest.raises(ShapeError, match="more than 1 value"):
            F.group_norm(t64(a), groups, t64(w), t64(b))
    else:
        np.testing.assert_allclose(F.group_norm(t64(a), groups, t64(w), t64(b)).numpy(),
                                   grouped * w.reshape(bshape) + b.reshape(bshape), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(F.layer_norm(t64(a), a.shape[1:]).numpy(),
                               np_norm(a, tuple(range(1, a.ndim))), rtol=1e-10, atol=1e-10)
    if spatial:
        np.testing.assert_allclose(F.instance_norm(t64(a)).numpy(),
                                   np_norm(a, tuple(range(2, a.ndim))), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("fn", [
    lambda x, w, b: F.layer_norm(x, (3, 4), w.reshape(3, 4)[:, :4] * 1.0, None),
    lambda x, w, b: F.group_norm(x, 1, w[:3], b[:3]),
    lambda x, w, b: F.instance_norm(x, weight=w[:3], bias=b[:3]),
], ids=["layer", "group", "instance"])
def test_normalization_gradients(fn):
    x = t64(sample((2, 3, 4), 5))
    w, b = t64(sample((12,), 6)), t64(sample((12,), 7))
    assert tg.gradcheck(lambda x, w, b: fn(x, w, b), [x, w, b])
    assert tg.gradgradcheck(lambda x, w, b: fn(x, w, b) ** 2, [x, w, b])


def test_normalization_layers():
    x = tg.randn(4, 6, 5, 5, seed=0)
    ln = nn.LayerNorm([5, 5])
    assert ln.weight.shape == (5, 5) and set(dict(ln.named_parameters())) == {"weight", "bias"}
    assert nn.LayerNorm(8, bias=False).bias is None
    assert nn.LayerNorm(8, elementwise_affine=False).weight is None
    gn = nn.GroupNorm(3, 6)
    np.testing.assert_allclose(gn(x).numpy(), F.group_norm(x, 3).numpy())
    inst = nn.InstanceNorm2d(6)
    assert inst.weight is None and inst.running_mean is None and not list(inst.parameters())
    np.testing.assert_allclose(inst(x[0]).numpy(), inst(x).numpy()[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ConfigError, match="num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ShapeError, match="GroupNorm: expected"):
        gn(tg.zeros(2, 4, 3))
    with pytest.raises(ShapeError, match="trailing shape"):
        F.layer_norm(x, (6,))
    with pytest.warns(UserWarning, match="InstanceNorm2d: .*\\(3\\) does not match num_features \\(6\\)"):
        inst(tg.zeros(1, 3, 2, 2))      # torch: num_features unused without affine -> a warning
    with pytest.raises(ShapeError, match="InstanceNorm2d: expected 6 channels"):
        nn.InstanceNorm2d(6, affine=True)(tg.zeros(1, 3, 2, 2))


def test_instance_norm_running_statistics():
    # track_running_stats: the batch's mean over samples of each instance's mean and unbiased
    # variance are blended in with momentum; eval mode then normalizes with them.
    a = sample((3, 2, 4, 4), 9) * 2 + 1
    m = nn.InstanceNorm2d(2, momentum=0.25, track_running_stats=True, dtype=np.float64)
    m(t64(a, grad=False))
    means = a.mean(axis=(2, 3)).mean(axis=0)
    variances = a.var(axis=(2, 3), ddof=1).mean(axis=0)
    np.testing.assert_allclose(m.running_mean.numpy(), 0.25 * means)
    np.testing.assert_allclose(m.running_var.numpy(), 0.75 + 0.25 * variances)
    m.eval()
    expect = (a - m.running_mean.numpy()[:, None, None]) / np.sqrt(m.running_var.numpy()[:, None, None] + 1e-5)
    np.testing.assert_allclose(m(t64(a, grad=False)).numpy(), expect, rtol=1e-12)
    assert "running_mean" in m.state_dict()


# -- tensor methods ----------------------------------------------------------------------------
@pytest.mark.parametrize("p, dim, keepdim", [(2, 1, False), ("fro", None, False), (1, 0, True),
                                             (3, (0, 1), False), (math.inf, 1, False)])
def test_norm_matches_numpy_and_gradchecks(p, dim, keepdim):
    a = sample((3, 4), 3)
    np_ord = {"fro": 2}.get(p, p)
    axis = dim if dim is not None else None
    flat = a if axis is not None else a.ravel()
    expect = (np.abs(flat) ** np_ord).sum(axis=axis, keepdims=keepdim) ** (1 / np_ord) \
        if np_ord != math.inf else np.abs(flat).max(axis=axis, keepdims=keepdim)
    np.testing.assert_allclose(t64(a).norm(p, dim=dim, keepdim=keepdim).numpy(), expect, rtol=1e-12)
    assert tg.gradcheck(lambda x: x.norm(p, dim=dim, keepdim=keepdim), [t64(a)])


def test_norm_of_a_zero_vector_has_zero_gradient():
    # WGAN-GP at a point where D is flat: torch gives 0, not NaN
    x = t64(np.zeros((2, 3)))
    (x.norm(2, dim=1) - 1).pow(2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


def test_operator_methods_maximum_lerp_and_friends():
    a, b = sample((2, 3), 1), sample((2, 3), 2)
    b[0, 0] = a[0, 0]                                         # a tie: half the gradient each
    x, y = t64(a), t64(b)
    np.testing.assert_array_equal(x.add(y, alpha=2).numpy(), a + 2 * b)
    np.testing.assert_array_equal(x.sub(y).numpy(), a - b)
    np.testing.assert_array_equal(x.mul(y).numpy(), a * b)
    np.testing.assert_array_equal(x.div(y).numpy(), a / b)
    np.testing.assert_array_equal(x.neg().numpy(), -a)
    np.testing.assert_allclose(x.lerp(y, 0.25).numpy(), a + 0.25 * (b - a))
    np.testing.assert_array_equal(tg.maximum(x, y).numpy(), np.maximum(a, b))
    np.testing.assert_array_equal(tg.minimum(x, y).numpy(), np.minimum(a, b))
    tg.maximum(x, y).sum().backward()
    assert x.grad.numpy()[0, 0] == 0.5 and y.grad.numpy()[0, 0] == 0.5
    np.testing.assert_array_equal(x.grad.numpy().ravel()[1:], (a > b).ravel()[1:])
    nan = tg.maximum(t64([np.nan, 1.0], grad=False), t64([0.0, np.nan], grad=False)).numpy()
    assert np.isnan(nan).all()                                # NaN wins, as torch
    with pytest.raises(InputTypeError, match="clamp"):
        tg.maximum(x, 0.0)


def test_in_place_lerp_clamp_sub_div():
    ema, p = t64([1.0, 2.0], grad=False), t64([3.0, -6.0], grad=False)
    ema.lerp_(p, 0.5)
    np.testing.assert_array_equal(ema.numpy(), [2.0, -2.0])
    ema.clamp_(-1.0, 1.5)
    np.testing.assert_array_equal(ema.numpy(), [1.5, -1.0])
    ema.sub_(p, alpha=0.5).div_(2.0)
    np.testing.assert_array_equal(ema.numpy(), [0.0, 1.0])
    w = nn.Linear(2, 2).weight
    with tg.no_grad():
        w.clamp_(-0.01, 0.01)                          # WGAN's weight clipping
    assert np.abs(w.numpy()).max() <= 0.01
    with pytest.raises(tg.TensorganError, match="requires grad"):
        w.clamp_(-1, 1)


def test_shape_and_constructor_helpers():
    x = t64(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.flip(-1).numpy(), [[2, 1, 0], [5, 4, 3]])
    np.testing.assert_array_equal(tg.flip(x, (0, 1)).numpy(), [[5, 4, 3], [2, 1, 0]])
    (x.flip(1) * t64([[1.0, 2.0, 3.0]] * 2, grad=False)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3, 2, 1], [3, 2, 1]])
    z = x.new_zeros(4, 1)
    assert z.shape == (4, 1) and z.dtype == np.float64 and not z.requires_grad
    assert x.new_ones((2,)).numpy().tolist() == [1.0, 1.0]
    assert x.new_full((1, 2), 7.0).numpy().tolist() == [[7.0, 7.0]]
    assert tg.zeros(2).type_as(x).dtype == np.float64
    assert tg.ones(1, 3).expand_as(x).shape == (2, 3) and tg.zeros(6).view_as(x).shape == (2, 3)
    np.testing.assert_array_equal(tg.isnan(t64([np.nan, 1.0])).numpy(), [True, False])
    np.testing.assert_array_equal(t64([np.inf, 1.0]).isfinite().numpy(), [False, True])
    assert tg.equal(x, x.clone()) and not tg.equal(x, x[:1])
    np.testing.assert_array_equal(tg.arange(1, 4).numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(tg.linspace(-1, 1, 5).numpy(), [-1, -0.5, 0, 0.5, 1])
    assert x.to("cpu", non_blocking=True) is x and x.to(tg.zeros(1)).dtype == np.float32
    assert x.to("cpu", copy=True) is not x
    assert t64([0.0, 2.0]).bool().numpy().tolist() == [False, True]
    assert tg.Tensor(2, 3).shape == (2, 3) and tg.Tensor(2, 3).dtype == np.float32   # torch's


def test_one_hot_pixel_shuffle_normalize():
    np.testing.assert_array_equal(F.one_hot(np.array([2, 0]), 3).numpy(), [[0, 0, 1], [1, 0, 0]])
    assert F.one_hot(tg.tensor([[1, 3]])).shape == (1, 2, 4)
    with pytest.raises(DTypeError, match="class indices"):
        F.one_hot(np.array([0.5]))
    with pytest.raises(ShapeError, match="too small"):
        F.one_hot(np.array([3]), 2)
    a = sample((2, 8, 3, 2), 4)
    y = F.pixel_shuffle(t64(a), 2)
    assert y.shape == (2, 2, 6, 4)
    assert y.numpy()[1, 1, 3, 2] == a[1, 4 + 2 * 1 + 0, 1, 1]    # channel c*r*r + i*r + j
    np.testing.assert_array_equal(F.pixel_unshuffle(y, 2).numpy(), a)
    assert nn.PixelShuffle(2)(t64(a)).shape == (2, 2, 6, 4)
    with pytest.raises(ShapeError, match="divide"):
        F.pixel_shuffle(t64(a), 3)
    v = t64(sample((3, 4), 8))
    np.testing.assert_allclose(np.linalg.norm(F.normalize(v).numpy(), axis=1), np.ones(3))
    assert tg.gradcheck(lambda v: F.normalize(v, dim=0), [v])


def test_backward_only_inputs_is_accepted():
    x = t64([1.0, 2.0])
    (g,) = tg.autograd.grad((x * x).sum(), x, only_inputs=True)
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])


def test_nll_loss_is_cross_entropy_after_log_softmax():
    logits = t64(sample((5, 4), 11))
    target = np.array([0, 3, 1, -100, 2])
    w = t64([1.0, 2.0, 0.5, 3.0], grad=False)
    for kw in ({}, {"weight": w}, {"reduction": "sum"}, {"reduction": "none", "weight": w}):
        ours = F.nll_loss(F.log_softmax(logits, 1), target, **kw)
        np.testing.assert_allclose(ours.numpy(), F.cross_entropy(logits, target, **kw).numpy(), rtol=1e-12)
    logp = F.log_softmax(logits, 1).numpy()
    kept = target != -100
    wv = w.numpy()[target[kept]]
    expect = -(logp[np.arange(5)[kept], target[kept]] * wv).sum() / wv.sum()
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(logits, 1), target, w).numpy(), expect)
    assert tg.gradcheck(lambda x: F.nll_loss(x, target, w), [t64(logp)])
    with pytest.raises(InputTypeError, match="third argument is weight"):
        F.nll_loss(logits, target, "sum")


def test_functional_embedding_mm_bmm_normal_bernoulli_tensor_dataset():
    weight = t64(sample((4, 3), 12))
    rows = F.embedding(np.array([[3, 0]]), weight, padding_idx=0)
    np.testing.assert_array_equal(rows.numpy(), weight.numpy()[[[3, 0]]])
    rows.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy().sum(axis=1), [0.0, 0.0, 0.0, 3.0])
    with pytest.raises(InputTypeError, match=r"whole numbers in \[0, 4\)"):
        F.embedding([4], weight)
    a, b = t64(sample((2, 3), 1)), t64(sample((3, 4), 2))
    np.testing.assert_allclose(tg.mm(a, b).numpy(), a.numpy() @ b.numpy())
    np.testing.assert_allclose(tg.bmm(a.reshape(1, 2, 3), b.reshape(1, 3, 4)).numpy()[0], a.numpy() @ b.numpy())
    with pytest.raises(ShapeError, match="mm: needs two 2-D"):
        tg.mm(a.reshape(1, 2, 3), b)
    with pytest.raises(ShapeError, match="batch sizes differ"):
        tg.bmm(tg.zeros(2, 1, 1), tg.zeros(3, 1, 1))
    draws = tg.normal(3.0, 0.5, (4000,), generator=tg.Generator(0)).numpy()
    assert abs(draws.mean() - 3.0) < 0.05 and abs(draws.std() - 0.5) < 0.05
    coins = tg.bernoulli(tg.full((4000,), 0.25), generator=tg.Generator(1)).numpy()
    assert set(np.unique(coins)) <= {0.0, 1.0} and abs(coins.mean() - 0.25) < 0.03
    data = tg.utils.data.TensorDataset(tg.randn(10, 3, seed=0), tg.arange(10))
    assert len(data) == 10 and data[4][1].item() == 4.0
    batches = list(tg.utils.data.DataLoader(data, batch_size=4, drop_last=False))
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    with pytest.raises(ShapeError, match="first dims differ"):
        tg.utils.data.TensorDataset(tg.zeros(3), tg.zeros(4))


def test_normal_and_uniform_refill_in_place():
    w = nn.Linear(50, 40).weight
    with tg.no_grad():
        w.normal_(0.0, 0.02, generator=tg.Generator(3))
    assert abs(float(w.numpy().std()) - 0.02) < 0.002 and w._version > 0
    with tg.no_grad():
        w.uniform_(-0.1, 0.1)
    assert np.abs(w.numpy()).max() <= 0.1
    with pytest.raises(tg.TensorganError, match="requires grad"):
        w.normal_()


def test_review_fixes_norm_p_values_zeros_and_nan():
    a = sample((3, 4), 21)
    a[1] = 0.0
    a[2, 0] = 0.0
    for p in (3, 0.5, -1, np.float32(1.5)):
        x = t64(a)
        y = x.norm(p, dim=1)
        expect = [np.sum(np.abs(r[r != 0]) ** float(p)) ** (1 / float(p)) if (r != 0).all() or p > 0
                  else 0.0 for r in a]
        np.testing.assert_allclose(y.numpy(), expect, rtol=1e-12)
        y.sum().backward()
        assert np.isfinite(x.grad.numpy()).all()               # torch: 0 at zero elements / rows
        assert (x.grad.numpy()[1] == 0).all() and x.grad.numpy()[2, 0] == 0
    assert t64([[0.0, 2.0, -1.0]]).norm(0, dim=1).item() == 2.0
    assert t64([[1.0, -3.0]]).norm(-math.inf).item() == 1.0
    x = t64([np.nan, 1.0])
    x.norm().backward()
    assert np.isnan(x.grad.numpy()).all()                      # NaN is not masked away
    with pytest.raises(ShapeError, match="norm: p='nuc'"):      # nuc: a matrix norm (2-D)
        x.norm("nuc")


def test_review_fixes_maximum_nan_flip_to_embedding_group_norm():
    a, b = t64([np.nan, 1.0]), t64([0.0, np.nan])
    tg.maximum(a, b).sum().backward()                           # torch: the whole gradient to both
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    with pytest.raises(ShapeError, match="more than once"):
        tg.zeros(2, 3).flip((1, -1))
    assert tg.tensor(3.0).flip(0).item() == 3.0
    assert tg.ones(2).to(device="cpu", dtype=tg.float64).dtype == np.float64
    w = t64(sample((5, 3), 22))
    F.embedding(np.array([0, 4, 2]), w, padding_idx=-1).sum().backward()   # -1 is row 4
    np.testing.assert_array_equal(w.grad.numpy()[4], 0.0)
    with pytest.raises(ConfigError, match="padding_idx"):
        F.embedding([0], w, padding_idx=7)
    with pytest.raises(ConfigError, match="num_groups"):
        F.group_norm(tg.zeros(2, 4, 3), 0)
    with pytest.raises(ShapeError, match="weight must be a tensor of 4"):
        F.group_norm(tg.zeros(2, 4, 3), 2, tg.ones(3))
    with pytest.raises(ShapeError, match="more than one position"):
        F.instance_norm(tg.zeros(2, 3, 1))
    same = F.interpolate(tg.arange(2.0).reshape(1, 1, 2), scale_factor=1.1, mode="linear")
    np.testing.assert_array_equal(same.numpy().ravel(), [0.0, 1.0])   # torch copies same-size


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm(dim):
    layer = nn.Linear(4, 3, dtype=np.float64)
    x = t64(sample((5, 4), 30), grad=False)
    before = layer(x).numpy()
    nn.utils.weight_norm(layer, dim=dim)
    assert sorted(layer.state_dict()) == ["bias", "weight_g", "weight_v"]      # torch's keys
    np.testing.assert_allclose(layer(x).numpy(), before, rtol=1e-12)           # same layer at start
    g, v = layer.weight_g, layer.weight_v
    expect_g = (np.linalg.norm(v.numpy()) if dim is None
                else np.linalg.norm(v.numpy(), axis=1 - dim, keepdims=True))
    np.testing.assert_allclose(g.numpy(), expect_g)

    # the hook's formula, differentiated in g and v by finite differences
    assert tg.gradcheck(lambda g_, v_: F.linear(x, v_ * (g_ / (v_.norm() if dim is None else
                                                               v_.norm(2, dim=1 - dim, keepdim=True))),
                                                layer.bias), [t64(g.numpy()), t64(v.numpy())])
    with tg.no_grad():
        g.mul_(2.0)
    np.testing.assert_allclose(layer(x).numpy() - layer.bias.numpy(), 2 * (before - layer.bias.numpy()),
                               rtol=1e-12)
    layer(x).sum().backward()
    assert g.grad is not None and v.grad is not None
    nn.utils.remove_weight_norm(layer)
    assert sorted(layer.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(layer(x).numpy() - layer.bias.numpy(), 2 * (before - layer.bias.numpy()),
                               rtol=1e-12)
    with pytest.raises(ConfigError, match="not weight-normalized"):
        nn.utils.remove_weight_norm(layer)


def test_weight_norm_errors_and_parameter_vectors():
    layer = nn.utils.weight_norm(nn.Linear(2, 2))
    with pytest.raises(ConfigError, match="already"):
        nn.utils.weight_norm(layer)
    with pytest.raises(ConfigError, match="no parameter"):
        nn.utils.weight_norm(nn.Linear(2, 2), name="gain")
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    flat = nn.utils.parameters_to_vector(model.parameters())
    assert flat.shape == (13,)
    nn.utils.vector_to_parameters(flat * 0 + 1.0, model.parameters())
    assert all((p.numpy() == 1).all() for p in model.parameters())
    with pytest.raises(InputTypeError, match="13 elements"):
        nn.utils.vector_to_parameters(tg.zeros(12), model.parameters())


def test_group_norm_of_one_value_per_group_and_batch_is_refused_as_torch():
    """torch's _verify_batch_size: N * C/G * positions == 1 normalizes one value (output = bias)."""
    with pytest.raises(ValueError, match=r"more than 1 value.*\(1, 3\)"):
        F.group_norm(tg.ones(1, 3), 3)
    with pytest.raises(ValueError, match="more than 1 value"):
        nn.GroupNorm(2, 2)(tg.ones(1, 2, 1, 1))
    assert F.group_norm(tg.randn(2, 3, seed=0), 3).shape == (2, 3)       # two values per group
    assert F.group_norm(tg.randn(1, 3, 2, seed=0), 3).shape == (1, 3, 2)
