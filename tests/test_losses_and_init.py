"""The losses and initializers PyTorch code reaches for beyond the DCGAN's: smooth L1 / Huber,
KL divergence, NLLLoss, cross-entropy against class probabilities, cosine similarity, and the
orthogonal / truncated-normal / eye / dirac initializers.  Values against NumPy formulas written
from torch's documentation, float64 gradchecks and gradgradchecks, reductions, argument errors."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorgan as tg
from tensorgan import functional as F, nn
from tensorgan.errors import ConfigError, DTypeError, InputTypeError, ShapeError

SETTINGS = settings(max_examples=15, deadline=None)
REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def t64(a, grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def sample(shape, seed=0, scale=2.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def np_log_softmax(x):
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


# -- smooth L1 and Huber ------------------------------------------------------------------------
def np_smooth_l1(x, y, beta):
    z = np.abs(x - y)
    return z if beta == 0 else np.where(z < beta, 0.5 * z ** 2 / beta, z - 0.5 * beta)


def np_huber(x, y, delta):
    z = np.abs(x - y)
    return np.where(z < delta, 0.5 * z ** 2, delta * (z - 0.5 * delta))


@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2 ** 16), reduction=st.sampled_from(list(REDUCE)),
       threshold=st.sampled_from([0.0, 0.3, 1.0, 2.5]))
def test_smooth_l1_and_huber_match_the_formulas(shape, seed, reduction, threshold):
    x, y = sample(shape, seed), sample(shape, seed + 1)
    ours = F.smooth_l1_loss(t64(x), y, reduction, beta=threshold)
    np.testing.assert_allclose(ours.numpy(), REDUCE[reduction](np_smooth_l1(x, y, threshold)), rtol=1e-12)
    if threshold:
        ours = F.huber_loss(t64(x), t64(y), reduction, delta=threshold)
        np.testing.assert_allclose(ours.numpy(), REDUCE[reduction](np_huber(x, y, threshold)), rtol=1e-12)


@pytest.mark.parametrize("reduction", list(REDUCE))
@pytest.mark.parametrize("threshold", [0.5, 1.0, 3.0])
def test_smooth_l1_and_huber_gradients(reduction, threshold):
    x, y = t64(sample((3, 4), 2)), t64(sample((3, 4), 3))
    for fn in (lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=threshold),
               lambda a, b: F.huber_loss(a, b, reduction, threshold)):
        assert tg.gradcheck(fn, [x, y])
        assert tg.gradgradcheck(fn, [x, y])
    w = t64(np.random.default_rng(4).random((3, 4)))
    fn = lambda a, b, c: F.huber_loss(a, b, reduction, threshold, c)     # noqa: E731
    assert tg.gradcheck(fn, [x, y, w]) and tg.gradgradcheck(fn, [x, y, w])


def test_smooth_l1_and_huber_special_cases():
    x, y = sample((4, 5), 5), sample((4, 5), 6)
    # beta=0 is L1 exactly, gradient 0 at a zero difference as l1_loss's
    np.testing.assert_array_equal(F.smooth_l1_loss(t64(x), y, beta=0).numpy(), F.l1_loss(t64(x), y).numpy())
    z = t64([0.0, 2.0, -2.0])
    F.smooth_l1_loss(z, np.zeros(3), "sum", beta=0.0).backward()
    np.testing.assert_array_equal(z.grad.numpy(), [0.0, 1.0, -1.0])
    # Huber is delta times smooth L1 with beta = delta (torch's docs)
    for d in (0.2, 1.0, 4.0):
        np.testing.assert_allclose(F.huber_loss(t64(x), y, "none", d).numpy(),
                                   d * F.smooth_l1_loss(t64(x), y, reduction="none", beta=d).numpy(), rtol=1e-12)
    # gradients: d / beta inside, sign(d) outside; huge differences do not overflow the unused branch
    v = t64([0.5, -0.25, 3.0, -1e200])
    F.smooth_l1_loss(v, np.zeros(4), "sum", beta=1.0).backward()
    np.testing.assert_array_equal(v.grad.numpy(), [0.5, -0.25, 1.0, -1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(F.huber_loss(v, np.zeros(4), "sum", delta=2.0).numpy())
    # weight scales each element before the reduction
    w = np.random.default_rng(7).random((4, 5))
    np.testing.assert_allclose(F.huber_loss(t64(x), y, "mean", 0.7, t64(w, False)).numpy(),
                               (np_huber(x, y, 0.7) * w).mean(), rtol=1e-12)
    assert F.smooth_l1_loss(t64(np.zeros((0, 3))), np.zeros((0, 3))).numpy() != \
        F.smooth_l1_loss(t64(np.zeros((0, 3))), np.zeros((0, 3))).numpy()     # mean of nothing: NaN


def test_smooth_l1_and_huber_argument_errors():
    x = t64(sample((2, 3)))
    with pytest.raises(ConfigError, match="beta must be >= 0"):
        F.smooth_l1_loss(x, x.detach(), beta=-0.1)
    with pytest.raises(ConfigError, match="delta must be > 0"):
        F.huber_loss(x, x.detach(), delta=0.0)
    with pytest.raises(ConfigError, match="delta must be > 0"):
        F.huber_loss(x, x.detach(), delta=float("nan"))
    with pytest.raises(InputTypeError, match="beta"):
        F.smooth_l1_loss(x, x.detach(), beta="1")
    with pytest.raises(ShapeError, match="target shape"):
        F.smooth_l1_loss(x, np.zeros((3, 2)))
    with pytest.raises(ConfigError, match="reduction"):
        F.huber_loss(x, x.detach(), "avg")
    with pytest.raises(ShapeError, match="weight shape"):
        F.huber_loss(x, x.detach(), weight=t64(np.ones(3), False))
    assert F.huber_loss(x, x.detach(), weight=tg.ones(2, 3)).dtype == np.float64   # promoted
    with pytest.raises(ConfigError, match="beta"):
        nn.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ConfigError, match="delta"):
        nn.HuberLoss(delta=-1.0)


def test_smooth_l1_and_huber_modules():
    x, y = t64(sample((3, 4), 8)), t64(sample((3, 4), 9), False)
    np.testing.assert_array_equal(nn.SmoothL1Loss("sum", beta=0.4)(x, y).numpy(),
                                  F.smooth_l1_loss(x, y, reduction="sum", beta=0.4).numpy())
    np.testing.assert_array_equal(nn.HuberLoss("none", 0.4)(x, y).numpy(), F.huber_loss(x, y, "none", 0.4).numpy())
    assert nn.HuberLoss().delta == 1.0 and nn.SmoothL1Loss().beta == 1.0
    assert nn.HuberLoss().reduction == nn.SmoothL1Loss().reduction == "mean"


# -- KL divergence -------------------------------------------------------------------------------
def np_kl(inp, target, log_target):
    if log_target:
        return np.exp(target) * (target - inp)
    return np.where(target == 0, 0.0, target * np.log(np.where(target == 0, 1.0, target))) - target * inp


KL_REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda a: a,
             "batchmean": lambda a: a.sum() / a.shape[0]}


@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2 ** 16), reduction=st.sampled_from(list(KL_REDUCE)),
       log_target=st.booleans())
@pytest.mark.filterwarnings("ignore:reduction. .mean. divides:UserWarning")  # torch's kl_div warning
def test_kl_div_matches_the_formula(shape, seed, reduction, log_target):
    rng = np.random.default_rng(seed)
    inp = np.log(rng.random(shape) + 0.01)
    target = rng.random(shape) * (rng.random(shape) > 0.3)         # some exact zeros
    if log_target:
        target = np.log(target + 0.05)
    ours = F.kl_div(t64(inp), target, reduction=reduction, log_target=log_target)
    np.testing.assert_allclose(ours.numpy(), KL_REDUCE[reduction](np_kl(inp, target, log_target)),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides:UserWarning")  # torch's kl_div warning
def test_kl_div_is_the_kl_divergence_and_its_zero_terms():
    rng = np.random.default_rng(3)
    p, q = rng.dirichlet(np.ones(5), size=4), rng.dirichlet(np.ones(5), size=4)
    kl = (p * np.log(p / q)).sum(axis=1).mean()
    np.testing.assert_allclose(F.kl_div(t64(np.log(q)), p, "batchmean").numpy(), kl, rtol=1e-12)
    np.testing.assert_allclose(F.kl_div(t64(np.log(q)), np.log(p), "batchmean", log_target=True).numpy(),
                               kl, rtol=1e-12)
    np.testing.assert_allclose(nn.KLDivLoss("batchmean")(t64(np.log(q)), p).numpy(), kl, rtol=1e-12)
    # target == 0 contributes 0 (and its input gradient -target is 0)
    x = t64([-1.0, -2.0, -0.5])
    loss = F.kl_div(x, np.array([0.0, 0.5, 0.0]), "sum")
    np.testing.assert_allclose(loss.numpy(), 0.5 * (math.log(0.5) + 2.0))
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, -0.5, 0.0])
    # batchmean of a 0-d input is the sum; of an empty batch, NaN
    assert F.kl_div(t64(-1.0), 0.5, "batchmean").item() == pytest.approx(0.5 * (math.log(0.5) + 1.0))
    assert np.isnan(F.kl_div(t64(np.zeros((0, 3))), np.zeros((0, 3)), "batchmean").item())


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides:UserWarning")  # torch's kl_div warning
@pytest.mark.parametrize("reduction", list(KL_REDUCE))
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_gradients(reduction, log_target):
    rng = np.random.default_rng(5)
    inp = t64(np.log(rng.random((3, 4)) + 0.1))
    target = t64(np.log(rng.random((3, 4)) + 0.1) if log_target else rng.random((3, 4)) + 0.1)
    fn = lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target)      # noqa: E731
    assert tg.gradcheck(fn, [inp, target])
    assert tg.gradgradcheck(fn, [inp, target])


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides:UserWarning")  # torch's kl_div warning
def test_kl_div_argument_errors():
    x = t64(sample((2, 3)))
    with pytest.raises(ConfigError, match="batchmean"):
        F.kl_div(x, np.ones((2, 3)), "avg")
    with pytest.raises(InputTypeError, match="log_target"):
        F.kl_div(x, np.ones((2, 3)), log_target="yes")
    with pytest.raises(ShapeError, match="target shape"):
        F.kl_div(x, np.ones(2))                  # (2,) does not broadcast with (2, 3); (3,) would, as torch's
    with pytest.raises(ConfigError, match="batchmean"):
        nn.KLDivLoss("avg")
    with pytest.raises(InputTypeError, match="log_target"):
        nn.KLDivLoss(log_target=1)


# -- NLLLoss ----------------------------------------------------------------------------------------
def test_nll_loss_module_wraps_nll_loss():
    logp = F.log_softmax(t64(sample((5, 4), 11)), 1)
    target = np.array([0, 3, 1, 2, 2])
    w = t64([1.0, 2.0, 0.5, 3.0], grad=False)
    for kwargs in ({}, {"reduction": "sum"}, {"reduction": "none"}, {"ignore_index": 2}):
        for weight in (None, w):
            np.testing.assert_array_equal(nn.NLLLoss(weight, **kwargs)(logp, target).numpy(),
                                          F.nll_loss(logp, target, weight, **kwargs).numpy())
    lp = logp.numpy()
    expect = -(lp[np.arange(5), target] * w.numpy()[target]).sum() / w.numpy()[target].sum()
    np.testing.assert_allclose(nn.NLLLoss(w)(logp, target).numpy(), expect, rtol=1e-12)
    loss = nn.NLLLoss(w)
    assert list(loss.state_dict()) == ["weight"] and loss.ignore_index == -100
    assert list(nn.NLLLoss().state_dict()) == []
    with pytest.raises(InputTypeError, match="weight"):
        nn.NLLLoss([1.0, 2.0])
    with pytest.raises(ConfigError, match="reduction"):
        nn.NLLLoss(reduction="avg")
    with pytest.raises(InputTypeError, match="ignore_index"):
        nn.NLLLoss(ignore_index=1.5)


# -- cross-entropy against class probabilities ----------------------------------------------------------
def np_soft_cross_entropy(x, probs, weight, smoothing, reduction):
    c = x.shape[1]
    y = probs * (1 - smoothing) + smoothing / c
    w = np.ones(c) if weight is None else weight
    loss = -(np_log_softmax(x) * y * w).sum(axis=1)
    return {"mean": loss.sum() / x.shape[0], "sum": loss.sum(), "none": loss}[reduction]


@SETTINGS
@given(n=st.integers(1, 5), c=st.integers(1, 5), seed=st.integers(0, 2 ** 16),
       reduction=st.sampled_from(list(REDUCE)), smoothing=st.sampled_from([0.0, 0.1, 1.0]),
       weighted=st.booleans())
def test_cross_entropy_with_probability_targets_matches_the_formula(n, c, seed, reduction, smoothing, weighted):
    rng = np.random.default_rng(seed)
    x, probs = rng.standard_normal((n, c)) * 3, rng.dirichlet(np.ones(c), size=n)
    w = rng.random(c) + 0.1 if weighted else None
    ours = F.cross_entropy(t64(x), probs, None if w is None else t64(w, False), reduction=reduction,
                           label_smoothing=smoothing)
    np.testing.assert_allclose(ours.numpy(), np_soft_cross_entropy(x, probs, w, smoothing, reduction),
                               rtol=1e-12, atol=1e-14)


def test_probability_targets_agree_with_class_indices_where_torch_says_so():
    x = t64(sample((6, 4), 12))
    labels = np.array([0, 3, 1, 1, 2, 0])
    onehot = np.eye(4)[labels]
    for kwargs in ({}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.2}):
        np.testing.assert_allclose(F.cross_entropy(x, onehot, **kwargs).numpy(),
                                   F.cross_entropy(x, labels, **kwargs).numpy(), rtol=1e-12)
    # with a weight, "mean" divides by N for probabilities but by the targets' weights for indices
    w = t64([1.0, 2.0, 0.5, 3.0], grad=False)
    soft, hard = F.cross_entropy(x, onehot, w), F.cross_entropy(x, labels, w)
    np.testing.assert_allclose(soft.numpy() * 6, hard.numpy() * w.numpy()[labels].sum(), rtol=1e-12)
    # the module and a Tensor target take the same path; the empty batch's mean is NaN
    probs = t64(np.random.default_rng(1).dirichlet(np.ones(4), size=6), False)
    np.testing.assert_array_equal(nn.CrossEntropyLoss(label_smoothing=0.1)(x, probs).numpy(),
                                  F.cross_entropy(x, probs, label_smoothing=0.1).numpy())
    assert np.isnan(F.cross_entropy(t64(np.zeros((0, 3))), np.zeros((0, 3))).item())


@pytest.mark.parametrize("reduction", list(REDUCE))
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_with_probability_targets_gradients(reduction, smoothing):
    rng = np.random.default_rng(6)
    x, probs, w = t64(rng.standard_normal((4, 3)) * 2), t64(rng.dirichlet(np.ones(3), size=4)), t64(rng.random(3) + 0.2)
    fn = lambda a, b, c: F.cross_entropy(a, b, c, reduction=reduction, label_smoothing=smoothing)  # noqa: E731
    assert tg.gradcheck(fn, [x, probs, w])
    assert tg.gradgradcheck(fn, [x, probs, w])


def test_cross_entropy_probability_target_errors():
    x = t64(sample((3, 4)))
    probs = np.full((3, 4), 0.25)
    with pytest.raises(ConfigError, match="ignore_index"):
        F.cross_entropy(x, probs, ignore_index=0)
    with pytest.raises(DTypeError, match="floating point"):
        F.cross_entropy(x, np.ones((3, 4), dtype=np.int64))
    assert F.cross_entropy(x, tg.tensor(probs, dtype="float32")).dtype == np.float64   # promoted
    with pytest.raises(ShapeError, match="weight"):
        F.cross_entropy(x, probs, t64(np.ones(3), False))
    with pytest.raises(ShapeError, match="target must have shape"):
        F.cross_entropy(x, np.full((3, 5), 0.2))              # neither indices nor probabilities
    with pytest.raises(DTypeError, match="integer class indices"):
        F.cross_entropy(x, np.array([0.5, 1.0, 2.0]))          # still refused as indices


# -- cosine similarity --------------------------------------------------------------------------------
def np_cosine(a, b, dim, eps=1e-8):
    a, b = np.broadcast_arrays(a, b)
    na = np.maximum(np.linalg.norm(a, axis=dim, keepdims=True), eps)
    nb = np.maximum(np.linalg.norm(b, axis=dim, keepdims=True), eps)
    return (a / na * b / nb).sum(axis=dim)


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), seed=st.integers(0, 2 ** 16),
       data=st.data())
def test_cosine_similarity_matches_the_formula(shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    squeeze = data.draw(st.integers(0, len(shape) - 1))
    other = tuple(1 if i == squeeze else n for i, n in enumerate(shape))     # broadcasts
    a, b = sample(shape, seed), sample(other, seed + 1)
    np.testing.assert_allclose(F.cosine_similarity(t64(a), t64(b), dim).numpy(), np_cosine(a, b, dim),
                               rtol=1e-12, atol=1e-15)


def test_cosine_similarity_small_norms_gradients_and_module():
    a = np.array([[1e-9, 2e-9, 0.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    b = np.array([[1.0, 0.5, 2.0], [3.0, -1.0, 0.5], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(F.cosine_similarity(t64(a), t64(b)).numpy(), np_cosine(a, b, 1), rtol=1e-12)
    assert F.cosine_similarity(t64(a), t64(b)).numpy()[2] == 0.0
    # torch clamps each norm under no_grad: below eps, x's gradient is (x2 / ||x2||) / eps minus the
    # unclamped norm's term -- for the zero vector just (x2 / ||x2||) / eps
    x = t64(a)
    F.cosine_similarity(x, t64(b, False)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[2], b[2] / np.linalg.norm(b[2]) / 1e-8, rtol=1e-12)
    x1, x2 = t64(sample((3, 4), 1)), t64(sample((3, 4), 2))
    for dim in (0, 1, -1):
        assert tg.gradcheck(lambda u, v: F.cosine_similarity(u, v, dim), [x1, x2])
        assert tg.gradgradcheck(lambda u, v: F.cosine_similarity(u, v, dim), [x1, x2])
    m = nn.CosineSimilarity(dim=0, eps=1e-6)
    np.testing.assert_array_equal(m(x1, x2).numpy(), F.cosine_similarity(x1, x2, 0, 1e-6).numpy())
    assert repr(nn.CosineSimilarity()) == "CosineSimilarity()"
    assert F.cosine_similarity(t64(np.zeros((0, 3))), t64(np.zeros((0, 3)))).shape == (0,)


def test_cosine_similarity_argument_errors():
    x = t64(sample((3, 2)))
    with pytest.raises(ShapeError, match="do not broadcast"):
        F.cosine_similarity(x, t64(sample((4, 2))))
    with pytest.raises(ShapeError, match="dim"):
        F.cosine_similarity(t64(np.ones(3)), t64(np.ones(3)))     # dim=1 of 1-D inputs
    with pytest.raises(InputTypeError, match="x2"):
        F.cosine_similarity(x, np.ones((3, 2)))
    assert F.cosine_similarity(x, tg.ones(3, 2)).dtype == np.float64     # promoted, as torch
    with pytest.raises(DTypeError, match="floating-point"):
        F.cosine_similarity(tg.ones(3, 2, dtype=tg.int64), tg.ones(3, 2, dtype=tg.int64))
    with pytest.raises(InputTypeError, match="eps"):
        F.cosine_similarity(x, x, 1, "tiny")
    with pytest.raises(InputTypeError, match="dim"):
        nn.CosineSimilarity(dim=1.0)


# -- initializers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (3, 2, 5), (8, 2, 3, 3), (1, 7)])
def test_orthogonal_is_orthogonal_and_follows_torchs_algorithm(shape):
    w = tg.zeros(*shape, dtype="float64", requires_grad=True)
    assert nn.init.orthogonal_(w, gain=2.0, generator=tg.Generator(3)) is w
    assert w.grad_fn is None and w.requires_grad
    m = w.numpy().reshape(shape[0], -1)
    rows, cols = m.shape
    gram = m @ m.T if rows <= cols else m.T @ m
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-12)
    # the same normal draws through torch's steps, written here in NumPy
    draws = tg.Generator(3).normal((rows, cols), np.float64)
    flat = draws.T if rows < cols else draws
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    np.testing.assert_allclose(m, 2.0 * (q.T if rows < cols else q), atol=1e-12)


def test_orthogonal_seeds_arrays_and_errors():
    a, b = tg.zeros(4, 3), tg.zeros(4, 3)
    nn.init.orthogonal_(a, generator=tg.Generator(1))
    nn.init.orthogonal_(b, generator=tg.Generator(1))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype == tg.float32
    bare = np.zeros((3, 3))
    assert nn.init.orthogonal_(bare) is bare
    np.testing.assert_allclose(bare @ bare.T, np.eye(3), atol=1e-12)
    empty = tg.zeros(0, 3)
    nn.init.orthogonal_(empty)
    with pytest.raises(ShapeError, match="2 or more dims"):
        nn.init.orthogonal_(tg.zeros(3))


def np_trunc_normal_moments(mean, std, a, b):
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda v: math.exp(-v * v / 2) / math.sqrt(2 * math.pi)    # noqa: E731
    cdf = lambda v: (1 + math.erf(v / math.sqrt(2))) / 2              # noqa: E731
    z = cdf(beta) - cdf(alpha)
    mu = mean + std * (pdf(alpha) - pdf(beta)) / z
    var = std ** 2 * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - ((pdf(alpha) - pdf(beta)) / z) ** 2)
    return mu, math.sqrt(var), cdf, z, alpha


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 3.0), (0.0, 0.02, -0.04, 0.04),
                                          (1.0, 1.0, 1.5, 4.0)])
def test_trunc_normal_stays_in_bounds_with_the_truncated_distribution(mean, std, a, b):
    w = tg.zeros(200, 500, dtype="float64")
    nn.init.trunc_normal_(w, mean, std, a, b, generator=tg.Generator(0))
    v = w.numpy().ravel()
    assert v.min() >= a and v.max() <= b
    mu, sd, cdf, z, alpha = np_trunc_normal_moments(mean, std, a, b)
    n = v.size
    assert abs(v.mean() - mu) < 5 * sd / math.sqrt(n)
    assert abs(v.std() - sd) < 5 * sd / math.sqrt(n) * 1.5
    # Kolmogorov-Smirnov distance to the truncated CDF
    grid = np.sort(v)[:: 997]
    expect = np.array([(cdf((g - mean) / std) - cdf(alpha)) / z for g in grid])
    empirical = np.searchsorted(np.sort(v), grid, side="right") / n
    assert np.max(np.abs(empirical - expect)) < 1.63 / math.sqrt(n) * 1.5


def test_trunc_normal_seeds_dtype_warning_and_errors():
    a, b = tg.zeros(50), tg.zeros(50)
    nn.init.trunc_normal_(a, generator=tg.Generator(5))
    nn.init.trunc_normal_(b, generator=tg.Generator(5))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype == tg.float32 and -2 <= a.numpy().min() and a.numpy().max() <= 2
    c = tg.zeros(4)
    with pytest.warns(UserWarning, match="more than 2 std"):     # as torch's
        nn.init.trunc_normal_(c, 3.0, 0.0, -1.0, 1.0)      # std 0: the mean clamped into [a, b]
    np.testing.assert_array_equal(c.numpy(), np.ones(4))
    with pytest.warns(UserWarning, match="more than 2 std"):
        nn.init.trunc_normal_(tg.zeros(10), mean=10.0)
    assert nn.init.trunc_normal_(tg.zeros(3), std=-1.0).abs().max() <= 2.0   # torch 2.13: |std|
    with pytest.raises(ConfigError, match="a <= b"):
        nn.init.trunc_normal_(tg.zeros(3), a=1.0, b=-1.0)


def test_erfinv_inverts_erf():
    from tensorgan.nn.init import _erfinv
    x = np.concatenate([np.linspace(-5.8, 5.8, 1001), [0.0, 1e-300, -1e-12]])
    y = np.array([math.erf(v) for v in x])
    tail = np.array([1 - 1e-15, -(1 - 1e-12)])
    well = np.abs(x) < 2                  # beyond, erf(x) rounds too near 1 to give x back
    np.testing.assert_allclose(_erfinv(y)[well], x[well], rtol=1e-13, atol=0)
    q = 10.0 ** -np.arange(1, 15)          # in the tails, erfc(erfinv(1 - q)) is q
    np.testing.assert_allclose([math.erfc(v) for v in _erfinv(1 - q)], 1 - (1 - q), rtol=1e-12)
    np.testing.assert_allclose([math.erfc(abs(v)) for v in _erfinv(tail)], 1 - np.abs(tail), rtol=1e-12)
    out = _erfinv(np.array([1.0, -1.0, 1.5]))
    assert out[0] == np.inf and out[1] == -np.inf and np.isnan(out[2])


def test_eye_and_dirac():
    w = tg.zeros(3, 5, requires_grad=True)
    assert nn.init.eye_(w) is w and w.grad_fn is None
    np.testing.assert_array_equal(w.numpy(), np.eye(3, 5))
    with pytest.raises(ShapeError, match="2-D"):
        nn.init.eye_(tg.zeros(2, 2, 2))
    # groups=2 on (6, 2, 3): ones at [g*3 + d, d, 1] for d < min(3, 2)
    d = tg.full((6, 2, 3), 7.0)
    nn.init.dirac_(d, groups=2)
    expect = np.zeros((6, 2, 3))
    for g in range(2):
        for k in range(2):
            expect[g * 3 + k, k, 1] = 1.0
    np.testing.assert_array_equal(d.numpy(), expect)
    # a dirac weight makes a same-padded convolution the identity (channels kept)
    x = tg.tensor(sample((2, 3, 5, 5), 4), dtype="float32")
    k = tg.zeros(3, 3, 3, 3)
    nn.init.dirac_(k)
    np.testing.assert_allclose(F.conv2d(x, k, padding=1).numpy(), x.numpy(), rtol=1e-6)
    k5 = tg.zeros(4, 3, 2, 2, 2)
    nn.init.dirac_(k5)
    assert k5.numpy().sum() == 3 and k5.numpy()[2, 2, 1, 1, 1] == 1
    with pytest.raises(ShapeError, match="3, 4 or 5"):
        nn.init.dirac_(tg.zeros(3, 3))
    with pytest.raises(ShapeError, match="divisible by groups"):
        nn.init.dirac_(tg.zeros(5, 2, 3), groups=2)
    with pytest.raises(ConfigError, match="groups"):
        nn.init.dirac_(tg.zeros(4, 2, 3), groups=0)


def test_new_names_are_exported():
    for name in ("NLLLoss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "CosineSimilarity"):
        assert name in nn.__all__ and hasattr(nn, name)
    for name in ("orthogonal_", "trunc_normal_", "eye_", "dirac_"):
        assert name in nn.init.__all__
    for name in ("smooth_l1_loss", "huber_loss", "kl_div", "cosine_similarity"):
        assert callable(getattr(nn.functional, name))


# -- the class losses' other layouts: (C,) and (N, C, d1, ..., dk) -------------------------------
@SETTINGS
@given(n=st.integers(1, 3), c=st.integers(1, 4), spatial=st.lists(st.integers(1, 3), min_size=1, max_size=2),
       seed=st.integers(0, 2 ** 16), reduction=st.sampled_from(["mean", "sum", "none"]),
       weighted=st.booleans(), probabilities=st.booleans())
def test_per_position_cross_entropy_is_a_loss_per_position(n, c, spatial, seed, reduction, weighted, probabilities):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *spatial))
    weight = rng.uniform(0.5, 2.0, c) if weighted else np.ones(c)
    if probabilities:
        target = rng.uniform(0.0, 1.0, x.shape)
        per = -(np_log_softmax(x) * target * weight.reshape(1, c, *[1] * len(spatial))).sum(axis=1)
        mean = per.mean()
    else:
        target = rng.integers(0, c, (n, *spatial))
        picked = np.take_along_axis(np_log_softmax(x), target[:, None], axis=1)[:, 0]
        per = -picked * weight[target]
        mean = per.sum() / weight[target].sum()              # torch's weighted mean, over every position
    expected = {"mean": mean, "sum": per.sum(), "none": per}[reduction]
    options = dict(weight=t64(weight, grad=False) if weighted else None, reduction=reduction)
    got = F.cross_entropy(t64(x), t64(target, grad=False) if probabilities else target, **options)
    assert got.shape == np.shape(expected)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-13)
    if not probabilities:
        np.testing.assert_allclose(F.nll_loss(t64(np_log_softmax(x)), target, **options).numpy(), expected,
                                   rtol=1e-12, atol=1e-13)
    assert tg.gradcheck(lambda v: F.cross_entropy(v, target if not probabilities else t64(target, grad=False),
                                                  **options), [t64(x)])


def test_unbatched_class_losses_are_one_row():
    x = sample((5,), seed=4)
    loss = F.cross_entropy(t64(x), np.array(3), reduction="none")
    assert loss.shape == () and loss.item() == pytest.approx(-np_log_softmax(x[None])[0, 3], rel=1e-14)
    assert F.nll_loss(t64(x), 2).item() == -x[2]
    soft = np.array([0.1, 0.2, 0.3, 0.2, 0.2])
    assert F.cross_entropy(t64(x), t64(soft, grad=False)).item() == pytest.approx(
        -(np_log_softmax(x[None])[0] * soft).sum(), rel=1e-14)
    assert nn.CrossEntropyLoss()(t64(sample((2, 3, 4))), np.zeros((2, 4), np.int64)).shape == ()


@pytest.mark.parametrize("call, message", [
    (lambda: F.cross_entropy(t64(sample((2, 3, 4))), np.zeros((2, 3), np.int64)), ["(2, 4)", "(2, 3)", "(2, 3, 4)"]),
    (lambda: F.nll_loss(t64(sample((2, 3, 4))), np.zeros(8, np.int64)), ["nll_loss", "(2, 4)", "(8,)"]),
    (lambda: F.cross_entropy(t64(sample((5,))), np.zeros(5, np.int64)), ["probabilities", "(5,)", "int64", "()"]),
    (lambda: F.cross_entropy(t64(sample((5,))), np.zeros(2, np.int64)), ["()", "(2,)", "(5,)"]),
    (lambda: F.cross_entropy(t64(np.float64(1.0)), 0), ["logits", "got shape ()"]),
])
def test_class_loss_layout_refusals_name_the_shapes(call, message):
    with pytest.raises((ShapeError, InputTypeError, DTypeError)) as info:
        call()
    for part in message:
        assert part in str(info.value)


@pytest.mark.parametrize("name, pointwise", [("mse_loss", lambda d: d ** 2), ("l1_loss", np.abs)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_and_l1_weight_is_a_weighted_mean(name, pointwise, reduction):
    x, y, w = sample((3, 4), seed=1), sample((3, 4), seed=2), np.random.default_rng(3).uniform(0, 2, (3, 4))
    per = pointwise(x - y) * w
    expected = {"mean": per.sum() / w.sum(), "sum": per.sum(), "none": per}[reduction]   # torch 2.13's
    loss_fn = getattr(F, name)
    np.testing.assert_allclose(loss_fn(t64(x), t64(y, False), reduction, weight=t64(w)).numpy(), expected,
                               rtol=1e-14)
    assert tg.gradcheck(lambda a, b: loss_fn(a, t64(y, False), reduction, weight=b), [t64(x), t64(w)])
    with pytest.raises(ShapeError, match=r"weight shape \(4,\) != input shape \(3, 4\)"):
        loss_fn(t64(x), t64(y, False), weight=t64(w[0]))
