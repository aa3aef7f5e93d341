"""tensorgan.distributions (torch.distributions): log_prob / entropy / cdf / icdf / KL against
closed forms in NumPy written from torch's documentation, batch / event / sample shapes,
reparameterised sampling checked by float64 gradcheck (the noise fixed by seeding inside the
function), sample moments for a fixed seed, and validation refusals."""
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import distributions as D
from tensorgan.errors import ConfigError, InputTypeError, ShapeError

RNG = np.random.default_rng(0)
S = (3, 4)
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
EULER = 0.5772156649015329
erf = np.vectorize(math.erf)
lgamma = np.vectorize(math.lgamma)


def t64(a, grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def pos(*shape):
    return RNG.uniform(0.5, 2.0, shape)


def digamma(x, h=1e-5):
    """psi(x) by a central difference of lgamma (accurate to ~1e-9: enough for entropies)."""
    return (lgamma(x + h) - lgamma(x - h)) / (2 * h)


def close(got, want, tol=1e-10):
    np.testing.assert_allclose(got.numpy(), want, rtol=tol, atol=tol)


# --- scalar families: values -------------------------------------------------------------------

def test_normal_values():
    mu, sd, x = RNG.standard_normal(S), pos(*S), RNG.standard_normal(S)
    d = D.Normal(t64(mu), t64(sd))
    close(d.log_prob(t64(x)), -(x - mu) ** 2 / (2 * sd ** 2) - np.log(sd) - LOG_SQRT_2PI)
    close(d.entropy(), 0.5 + LOG_SQRT_2PI + np.log(sd))
    close(d.cdf(t64(x)), 0.5 * (1 + erf((x - mu) / (sd * math.sqrt(2)))))
    close(d.icdf(d.cdf(t64(x))), x, 1e-8)
    close(d.mean, mu), close(d.mode, mu), close(d.stddev, sd), close(d.variance, sd ** 2)


def test_laplace_exponential_uniform_values():
    mu, b, x = RNG.standard_normal(S), pos(*S), RNG.standard_normal(S)
    d = D.Laplace(t64(mu), t64(b))
    close(d.log_prob(t64(x)), -np.log(2 * b) - np.abs(x - mu) / b)
    close(d.entropy(), 1 + np.log(2 * b))
    cdf = np.where(x < mu, 0.5 * np.exp((x - mu) / b), 1 - 0.5 * np.exp(-(x - mu) / b))
    close(d.cdf(t64(x)), cdf)
    close(d.icdf(t64(cdf)), x, 1e-8)
    close(d.variance, 2 * b ** 2)
    rate, y = pos(*S), pos(*S)
    e = D.Exponential(t64(rate))
    close(e.log_prob(t64(y)), np.log(rate) - rate * y)
    close(e.entropy(), 1 - np.log(rate))
    close(e.cdf(t64(y)), 1 - np.exp(-rate * y))
    close(e.icdf(e.cdf(t64(y))), y, 1e-8)
    close(e.mean, 1 / rate), close(e.variance, rate ** -2), close(e.mode, np.zeros(S))
    lo, hi = -pos(*S), pos(*S)
    u = D.Uniform(t64(lo), t64(hi))
    x = np.clip(RNG.standard_normal(S), lo, hi - 1e-3)
    close(u.log_prob(t64(x)), -np.log(hi - lo))
    close(u.entropy(), np.log(hi - lo))
    close(u.cdf(t64(x)), (x - lo) / (hi - lo))
    close(u.icdf(t64(np.full(S, 0.25))), lo + 0.25 * (hi - lo))
    close(u.mean, (lo + hi) / 2), close(u.variance, (hi - lo) ** 2 / 12)
    assert np.isnan(u.mode.numpy()).all()
    outside = D.Uniform(t64(lo), t64(hi), validate_args=False).log_prob(t64(hi + 1))
    assert np.isneginf(outside.numpy()).all()


def test_lognormal_gumbel_values():
    mu, sd, y = RNG.standard_normal(S), pos(*S), pos(*S)
    d = D.LogNormal(t64(mu), t64(sd))
    close(d.log_prob(t64(y)), -(np.log(y) - mu) ** 2 / (2 * sd ** 2) - np.log(sd) - LOG_SQRT_2PI - np.log(y))
    close(d.entropy(), 0.5 + LOG_SQRT_2PI + np.log(sd) + mu)
    close(d.cdf(t64(y)), 0.5 * (1 + erf((np.log(y) - mu) / (sd * math.sqrt(2)))))
    close(d.mean, np.exp(mu + sd ** 2 / 2)), close(d.mode, np.exp(mu - sd ** 2))
    close(d.variance, np.expm1(sd ** 2) * np.exp(2 * mu + sd ** 2))
    x = RNG.standard_normal(S)
    g = D.Gumbel(t64(mu), t64(sd))
    z = (x - mu) / sd
    close(g.log_prob(t64(x)), -z - np.exp(-z) - np.log(sd))
    close(g.cdf(t64(x)), np.exp(-np.exp(-z)))
    close(g.entropy(), np.log(sd) + 1 + EULER)
    close(g.mean, mu + sd * EULER), close(g.variance, (math.pi * sd) ** 2 / 6)


def test_gamma_beta_values():
    a, b, y = pos(*S), pos(*S), pos(*S)
    d = D.Gamma(t64(a), t64(b))
    close(d.log_prob(t64(y)), a * np.log(b) + (a - 1) * np.log(y) - b * y - lgamma(a))
    close(d.entropy(), a - np.log(b) + lgamma(a) + (1 - a) * digamma(a), 1e-7)
    close(d.mean, a / b), close(d.variance, a / b ** 2), close(d.mode, np.maximum(a - 1, 0) / b)
    x = RNG.uniform(0.05, 0.95, S)
    e = D.Beta(t64(a), t64(b))
    log_beta = lgamma(a) + lgamma(b) - lgamma(a + b)
    close(e.log_prob(t64(x)), (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - log_beta)
    want = log_beta - (a - 1) * digamma(a) - (b - 1) * digamma(b) + (a + b - 2) * digamma(a + b)
    close(e.entropy(), want, 1e-7)
    close(e.mean, a / (a + b)), close(e.variance, a * b / ((a + b) ** 2 * (a + b + 1)))
    assert D.Gamma(1.0, 1.0).has_rsample and D.Beta(1.0, 2.0).has_rsample    # tests/test_gamma_rsample.py


# --- discrete families ------------------------------------------------------------------------

def np_log_softmax(z):
    return z - np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True)) - z.max(-1, keepdims=True)


def test_bernoulli_probs_and_logits():
    p = RNG.uniform(0.05, 0.95, S)
    v = RNG.integers(0, 2, (2,) + S).astype(float)
    want = v * np.log(p) + (1 - v) * np.log1p(-p)
    entropy = -(p * np.log(p) + (1 - p) * np.log1p(-p))
    for d in (D.Bernoulli(t64(p)), D.Bernoulli(logits=t64(np.log(p / (1 - p))))):
        close(d.log_prob(t64(v)), want)
        close(d.entropy(), entropy)
        close(d.probs, p), close(d.logits, np.log(p / (1 - p)), 1e-9)
        close(d.mean, p), close(d.variance, p * (1 - p))
    mode = D.Bernoulli(tg.tensor([0.2, 0.5, 0.7])).mode.numpy()
    assert mode[0] == 0 and np.isnan(mode[1]) and mode[2] == 1
    assert D.Bernoulli(0.3).enumerate_support().numpy().tolist() == [0.0, 1.0]


def test_categorical_and_one_hot():
    z = RNG.standard_normal((3, 5))
    p = np.exp(np_log_softmax(z))
    idx = RNG.integers(0, 5, (2, 3))
    want = np_log_softmax(z)[np.arange(3), idx]
    for d in (D.Categorical(logits=t64(z)), D.Categorical(probs=t64(p * 7.0))):
        assert d.batch_shape == (3,) and d.event_shape == () and d.param_shape == (3, 5)
        close(d.log_prob(tg.tensor(idx)), want)
        close(d.entropy(), -(p * np.log(p)).sum(-1))
        close(d.probs, p), close(d.logits, np.log(p), 1e-9)
        assert d.mode.numpy().tolist() == p.argmax(-1).tolist()
        assert np.isnan(d.mean.numpy()).all() and d.mean.shape == (3,)
    oh = D.OneHotCategorical(logits=t64(z))
    assert oh.batch_shape == (3,) and oh.event_shape == (5,)
    close(oh.log_prob(t64(np.eye(5)[idx])), want)
    close(oh.entropy(), -(p * np.log(p)).sum(-1))
    close(oh.mode, np.eye(5)[p.argmax(-1)])
    close(oh.variance, p * (1 - p))
    assert oh.enumerate_support().shape == (5, 3, 5)
    assert D.Categorical(logits=t64(z)).enumerate_support(expand=False).shape == (5, 1)


# --- multivariate normal ----------------------------------------------------------------------

def spd(*shape):
    a = RNG.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def np_mvn_log_prob(x, mu, cov):
    d = x - mu
    sol = np.linalg.solve(cov, d[..., None])[..., 0]
    return -0.5 * ((d * sol).sum(-1) + mu.shape[-1] * math.log(2 * math.pi) + np.linalg.slogdet(cov)[1])


@pytest.mark.parametrize("param", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_normal_three_parameterisations(param):
    cov, mu = spd(2, 3, 3), RNG.standard_normal((4, 2, 3))
    given = {"covariance_matrix": cov, "precision_matrix": np.linalg.inv(cov),
             "scale_tril": np.linalg.cholesky(cov)}[param]
    d = D.MultivariateNormal(t64(mu), **{param: t64(given)})
    assert d.batch_shape == (4, 2) and d.event_shape == (3,)
    x = RNG.standard_normal((5, 4, 2, 3))
    close(d.log_prob(t64(x)), np_mvn_log_prob(x, mu, cov), 1e-9)
    close(d.entropy(), np.broadcast_to(0.5 * (3 * (1 + math.log(2 * math.pi)) + np.linalg.slogdet(cov)[1]), (4, 2)), 1e-9)
    close(d.covariance_matrix, np.broadcast_to(cov, (4, 2, 3, 3)), 1e-9)
    close(d.precision_matrix, np.broadcast_to(np.linalg.inv(cov), (4, 2, 3, 3)), 1e-9)
    close(d.scale_tril, np.broadcast_to(np.linalg.cholesky(cov), (4, 2, 3, 3)), 1e-9)
    close(d.variance, np.broadcast_to(np.diagonal(cov, axis1=-2, axis2=-1), (4, 2, 3)), 1e-9)
    assert d.sample((6,)).shape == (6, 4, 2, 3)
    assert d.expand((7, 4, 2)).log_prob(t64(x[0])).shape == (7, 4, 2)


# --- shapes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: D.Normal(tg.zeros(2, 3), tg.ones(3)), lambda: D.Laplace(tg.zeros(2, 3), 1.0),
    lambda: D.Uniform(tg.zeros(2, 3), 2.0), lambda: D.Exponential(tg.ones(2, 3)),
    lambda: D.LogNormal(tg.zeros(2, 3), 1.0), lambda: D.Gumbel(tg.zeros(2, 3), 1.0),
    lambda: D.Gamma(tg.ones(2, 3), 1.0), lambda: D.Beta(tg.ones(2, 3), 2.0),
    lambda: D.Bernoulli(tg.full((2, 3), 0.3)), lambda: D.Categorical(tg.ones(2, 3, 4)),
])
def test_scalar_event_shapes_sample_and_expand(make):
    d = make()
    assert d.batch_shape == (2, 3) and d.event_shape == ()
    assert d.sample().shape == (2, 3) and d.sample((5,)).shape == (5, 2, 3)
    assert d.sample([4, 1]).shape == (4, 1, 2, 3)
    assert d.log_prob(d.sample((5,))).shape == (5, 2, 3)
    e = d.expand((6, 2, 3))
    assert e.batch_shape == (6, 2, 3) and e.sample().shape == (6, 2, 3)
    assert e.entropy().shape == (6, 2, 3)


def test_scalar_parameters_give_empty_batch_shape():
    d = D.Normal(0.0, 1.0)
    assert d.batch_shape == () and d.sample().shape == () and d.sample((3,)).shape == (3,)
    assert d.loc.dtype == tg.get_default_dtype()
    assert D.Normal(t64(0.0), 1.0).scale.dtype == tg.float64     # numbers follow the Tensor


def test_independent_reinterprets_batch_dims():
    base = D.Normal(t64(RNG.standard_normal((4, 3))), t64(pos(4, 3)))
    d = D.Independent(base, 1)
    assert d.batch_shape == (4,) and d.event_shape == (3,) and d.has_rsample
    x = t64(RNG.standard_normal((2, 4, 3)))
    close(d.log_prob(x), base.log_prob(x).numpy().sum(-1))
    close(d.entropy(), base.entropy().numpy().sum(-1))
    assert d.rsample((2,)).shape == (2, 4, 3)
    e = d.expand((5, 4))
    assert e.batch_shape == (5, 4) and e.base_dist.batch_shape == (5, 4, 3)
    assert repr(d.support) == "IndependentConstraint(Real(), 1)"
    with pytest.raises(ShapeError, match="actual 3 vs 2"):
        D.Independent(base, 3)


# --- sampling: gradients, reproducibility, moments --------------------------------------------

RSAMPLED = {
    "Normal": (lambda: [RNG.standard_normal(S), pos(*S)]),
    "Laplace": (lambda: [RNG.standard_normal(S), pos(*S)]),
    "Gumbel": (lambda: [RNG.standard_normal(S), pos(*S)]),
    "LogNormal": (lambda: [RNG.standard_normal(S), pos(*S) * 0.5]),
    "Uniform": (lambda: [-pos(*S), pos(*S)]),
    "Exponential": (lambda: [pos(*S)]),
}


@pytest.mark.parametrize("name", sorted(RSAMPLED))
def test_rsample_gradcheck(name):
    params = [t64(p, grad=True) for p in RSAMPLED[name]()]

    def draw(*ps):
        tg.manual_seed(0)                         # the same noise on every call
        return getattr(D, name)(*ps).rsample((2,))
    assert tg.gradcheck(draw, params)
    assert tg.gradcheck(lambda *ps: getattr(D, name)(*ps).entropy(), params)


def test_mvn_rsample_and_log_prob_gradcheck():
    mu = t64(RNG.standard_normal((2, 3)), grad=True)
    A = t64(RNG.standard_normal((3, 3)) + 3 * np.eye(3), grad=True)
    x = t64(RNG.standard_normal((4, 2, 3)), grad=True)

    def draw(mu, A):
        tg.manual_seed(0)
        return D.MultivariateNormal(mu, A @ A.transpose(-2, -1)).rsample((2,))
    assert tg.gradcheck(draw, [mu, A])
    log_prob = lambda mu, A, x: D.MultivariateNormal(mu, precision_matrix=A @ A.transpose(-2, -1)).log_prob(x)
    assert tg.gradcheck(log_prob, [mu, A, x])
    L = t64(np.tril(RNG.standard_normal((3, 3))) + 3 * np.eye(3), grad=True)
    assert tg.gradcheck(lambda mu, L, x: D.MultivariateNormal(mu, scale_tril=L.tril()).log_prob(x), [mu, L, x])


def test_log_prob_gradcheck_discrete_and_scalar():
    z = t64(RNG.standard_normal((3, 4)), grad=True)
    idx = tg.tensor(RNG.integers(0, 4, (2, 3)))
    assert tg.gradcheck(lambda z: D.Categorical(logits=z).log_prob(idx) + D.Categorical(logits=z).entropy(), [z])
    p = t64(RNG.uniform(0.1, 0.9, (3,)), grad=True)
    v = t64([0.0, 1.0, 1.0])
    assert tg.gradcheck(lambda p: D.Bernoulli(p).log_prob(v) + D.Bernoulli(p).entropy(), [p])
    mu, sd, x = t64(RNG.standard_normal(S), True), t64(pos(*S), True), t64(RNG.standard_normal(S), True)
    assert tg.gradcheck(lambda m, s, x: D.Normal(m, s).log_prob(x) + D.Normal(m, s).cdf(x), [mu, sd, x])
    a, b, y = t64(pos(*S), True), t64(pos(*S), True), t64(RNG.uniform(0.1, 0.9, S))
    assert tg.gradcheck(lambda a, b: D.Beta(a, b).log_prob(y) + D.Gamma(a, b).log_prob(y), [a, b], atol=1e-4)


def test_sample_has_no_grad_rsample_does_and_one_hot_straight_through():
    loc = tg.zeros(3, requires_grad=True)
    d = D.Normal(loc, 1.0)
    assert not d.sample().requires_grad and d.rsample().requires_grad
    logits = t64(RNG.standard_normal((2, 4)), grad=True)
    assert not D.OneHotCategorical(logits=logits).has_rsample        # as torch
    oh = D.OneHotCategoricalStraightThrough(logits=logits)
    r = oh.rsample((3,))
    assert r.requires_grad and set(np.unique(r.numpy())) <= {0.0, 1.0}
    (r * t64(RNG.standard_normal(r.shape))).sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0


def test_manual_seed_makes_samples_reproducible():
    dists = [D.Normal(0.0, 1.0), D.Categorical(tg.ones(5)), D.Bernoulli(0.4), D.Gamma(2.0, 1.0),
             D.MultivariateNormal(tg.zeros(2), tg.eye(2)), D.Laplace(0.0, 1.0)]
    draws = []
    for _ in range(2):
        tg.manual_seed(0)
        draws.append([d.sample((4,)).numpy() for d in dists])
    for a, b in zip(*draws):
        np.testing.assert_array_equal(a, b)


def test_sample_moments():
    tg.manual_seed(0)
    n = 40000
    checks = [(D.Normal(t64([1.0, -2.0]), t64([0.5, 2.0])), [1.0, -2.0], [0.25, 4.0]),
              (D.Uniform(-1.0, 3.0), 1.0, 16 / 12), (D.Exponential(2.0), 0.5, 0.25),
              (D.Laplace(1.0, 2.0), 1.0, 8.0), (D.LogNormal(0.0, 0.5), math.exp(0.125), math.expm1(0.25) * math.exp(0.25)),
              (D.Gumbel(1.0, 2.0), 1 + 2 * EULER, 4 * math.pi ** 2 / 6), (D.Gamma(3.0, 2.0), 1.5, 0.75),
              (D.Beta(2.0, 3.0), 0.4, 6 / (25 * 6)), (D.Bernoulli(0.3), 0.3, 0.21)]
    for d, mean, var in checks:
        x = d.sample((n,)).numpy().astype(np.float64)
        assert np.all(np.abs(x.mean(0) - mean) <= 4 * np.sqrt(np.asarray(var) / n)), repr(d)
        np.testing.assert_allclose(x.var(0), var, rtol=0.05, err_msg=repr(d))
    counts = np.bincount(D.Categorical(tg.tensor([0.1, 0.0, 0.6, 0.3])).sample((n,)).numpy(), minlength=4)
    np.testing.assert_allclose(counts / n, [0.1, 0.0, 0.6, 0.3], atol=0.01)
    assert counts[1] == 0
    cov = spd(3, 3)
    x = D.MultivariateNormal(t64([1.0, 0.0, -1.0]), t64(cov)).sample((n,)).numpy()
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.1 * np.abs(cov).max())


# --- KL divergence ----------------------------------------------------------------------------

def np_kl_normal(m1, s1, m2, s2):
    return np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5


def test_kl_closed_forms():
    m1, s1, m2, s2 = RNG.standard_normal(S), pos(*S), RNG.standard_normal(S), pos(*S)
    close(D.kl_divergence(D.Normal(t64(m1), t64(s1)), D.Normal(t64(m2), t64(s2))), np_kl_normal(m1, s1, m2, s2))
    kl = D.kl_divergence(D.Independent(D.Normal(t64(m1), t64(s1)), 1), D.Independent(D.Normal(t64(m2), t64(s2)), 1))
    close(kl, np_kl_normal(m1, s1, m2, s2).sum(-1))
    d = np.abs(m1 - m2)
    close(D.kl_divergence(D.Laplace(t64(m1), t64(s1)), D.Laplace(t64(m2), t64(s2))),
          np.log(s2 / s1) + d / s2 + s1 / s2 * np.exp(-d / s1) - 1)
    close(D.kl_divergence(D.Exponential(t64(s1)), D.Exponential(t64(s2))), np.log(s1 / s2) + s2 / s1 - 1)
    p, q = RNG.uniform(0.05, 0.95, S), RNG.uniform(0.05, 0.95, S)
    close(D.kl_divergence(D.Bernoulli(t64(p)), D.Bernoulli(logits=t64(np.log(q / (1 - q))))),
          p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q)), 1e-9)
    P, Q = np.exp(np_log_softmax(RNG.standard_normal((3, 5)))), np.exp(np_log_softmax(RNG.standard_normal((3, 5))))
    close(D.kl_divergence(D.Categorical(t64(P)), D.Categorical(logits=t64(np.log(Q)))), (P * np.log(P / Q)).sum(-1), 1e-9)
    close(D.kl_divergence(D.OneHotCategorical(t64(P)), D.OneHotCategorical(t64(Q))), (P * np.log(P / Q)).sum(-1), 1e-9)
    close(D.kl_divergence(D.Uniform(0.0, t64(s1)), D.Uniform(-1.0, t64(s1 + 1))), np.log((s1 + 2) / s1))


def test_kl_infinite_where_support_is_not_covered():
    assert math.isinf(D.kl_divergence(D.Uniform(0.0, 2.0), D.Uniform(0.5, 3.0)).item())
    assert math.isinf(D.kl_divergence(D.Bernoulli(0.5), D.Bernoulli(0.0)).item())
    assert D.kl_divergence(D.Bernoulli(0.0), D.Bernoulli(0.5)).item() == pytest.approx(math.log(2))
    kl = D.kl_divergence(D.Categorical(tg.tensor([0.5, 0.5, 0.0])), D.Categorical(tg.tensor([0.5, 0.0, 0.5])))
    assert math.isinf(kl.item())


def test_kl_mvn_and_gradcheck():
    c1, c2 = spd(2, 3, 3), spd(3, 3)
    m1, m2 = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    inv2 = np.linalg.inv(c2)
    d = m2 - m1
    want = 0.5 * (np.trace(inv2 @ c1, axis1=-2, axis2=-1) + np.einsum("bi,ij,bj->b", d, inv2, d) - 3
                  + np.linalg.slogdet(c2)[1] - np.linalg.slogdet(c1)[1])
    kl = D.kl_divergence(D.MultivariateNormal(t64(m1), t64(c1)), D.MultivariateNormal(t64(m2), scale_tril=t64(np.linalg.cholesky(c2))))
    close(kl, want, 1e-9)
    params = [t64(a, True) for a in (m1, c1, m2, c2)]
    sym = lambda c: (c + c.transpose(-2, -1)) * 0.5
    assert tg.gradcheck(lambda a, b, c, e: D.kl_divergence(D.MultivariateNormal(a, sym(b)), D.MultivariateNormal(c, sym(e))), params)
    n = [t64(a, True) for a in (RNG.standard_normal(S), pos(*S), RNG.standard_normal(S), pos(*S))]
    assert tg.gradcheck(lambda a, b, c, e: D.kl_divergence(D.Normal(a, b), D.Normal(c, e)), n)
    assert tg.gradcheck(lambda a, b, c, e: D.kl_divergence(D.Laplace(a, b), D.Laplace(c, e)), n)


def test_register_kl_dispatch_and_missing_pair():
    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl_mine(p, q):
        return tg.tensor(42.0)
    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0)).item() == 42.0
    assert D.kl_divergence(D.Normal(0.0, 1.0), MyNormal(0.0, 1.0)).item() == 0.0   # falls back to Normal-Normal
    with pytest.raises(NotImplementedError, match="p type Normal and q type Cauchy"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Cauchy(0.0, 1.0))
    with pytest.raises(ConfigError, match="Distribution subclass"):
        D.register_kl(int, D.Normal)


# --- validation -------------------------------------------------------------------------------

def test_parameter_refusals_name_parameter_and_constraint():
    with pytest.raises(ConfigError, match=r"parameter scale \(Tensor of shape \(2,\)\).*GreaterThan\(lower_bound=0.0\)"):
        D.Normal(tg.zeros(2), tg.tensor([1.0, -1.0]))
    with pytest.raises(ConfigError, match="parameter probs .*Interval"):
        D.Bernoulli(tg.tensor([1.5]))
    with pytest.raises(ConfigError, match="parameter probs .*Simplex"):
        D.Categorical(tg.tensor([-1.0, 2.0]))
    with pytest.raises(ConfigError, match="parameter low .*LessThan"):
        D.Uniform(tg.tensor([0.0, 2.0]), tg.tensor([1.0, 1.0]))
    with pytest.raises(ConfigError, match="parameter covariance_matrix .*PositiveDefinite"):
        D.MultivariateNormal(tg.zeros(2), tg.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ConfigError, match="parameter scale_tril .*LowerCholesky"):
        D.MultivariateNormal(tg.zeros(2), scale_tril=tg.tensor([[1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(ConfigError, match="parameter rate"):
        D.Exponential(tg.tensor([0.0]))
    assert D.Normal(0.0, -1.0, validate_args=False).scale.item() == -1.0


def test_argument_refusals():
    with pytest.raises(ConfigError, match="Either `probs` or `logits`"):
        D.Bernoulli()
    with pytest.raises(ConfigError, match="Either `probs` or `logits`"):
        D.Categorical(tg.ones(3), tg.ones(3))
    with pytest.raises(ShapeError, match="at least one-dimensional"):
        D.Categorical(tg.tensor(1.0))
    with pytest.raises(ConfigError, match="Exactly one of"):
        D.MultivariateNormal(tg.zeros(2), tg.eye(2), scale_tril=tg.eye(2))
    with pytest.raises(ShapeError, match=r"\(2, 2\) does not fit loc \(3,\)"):
        D.MultivariateNormal(tg.zeros(3), tg.eye(2))
    with pytest.raises(InputTypeError, match="got str"):
        D.Normal("a", 1.0)
    with pytest.raises(ShapeError, match="sample_shape must not be negative"):
        D.Normal(0.0, 1.0).sample((-1,))


def test_value_refusals():
    with pytest.raises(ConfigError, match=r"within the support \(Interval"):
        D.Uniform(0.0, 1.0).log_prob(tg.tensor(2.0))
    with pytest.raises(ConfigError, match="support .*IntegerInterval.*upper_bound=2"):
        D.Categorical(logits=tg.zeros(2, 3)).log_prob(tg.tensor([3, 0]))
    with pytest.raises(ConfigError, match="OneHot"):
        D.OneHotCategorical(logits=tg.zeros(3)).log_prob(tg.tensor([1.0, 1.0, 0.0]))
    with pytest.raises(ConfigError, match="GreaterThanEq"):
        D.Exponential(1.0).log_prob(tg.tensor([-1.0]))
    with pytest.raises(ConfigError, match="Boolean"):
        D.Bernoulli(0.5).log_prob(tg.tensor(0.5))
    with pytest.raises(ShapeError, match=r"not broadcastable with batch_shape\+event_shape: \(3,\) vs \(2,\)"):
        D.Normal(tg.zeros(2), 1.0).log_prob(tg.zeros(3))
    with pytest.raises(ShapeError, match="right-most size of value must match event_shape"):
        D.MultivariateNormal(tg.zeros(3), tg.eye(3)).log_prob(tg.zeros(2))
    with pytest.raises(InputTypeError, match="must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(1.0)


def test_set_default_validate_args():
    try:
        D.Distribution.set_default_validate_args(False)
        assert D.Normal(0.0, -1.0).scale.item() == -1.0
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ConfigError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ConfigError, match="True or False"):
        D.Distribution.set_default_validate_args(2)


def test_constraints_check_and_repr():
    C = D.constraints
    assert C.positive.check(tg.tensor([1.0, 0.0])).numpy().tolist() == [True, False]
    assert C.simplex.check(tg.tensor([[0.5, 0.5], [0.5, 0.6]])).numpy().tolist() == [True, False]
    assert C.real.check(tg.tensor([1.0, float("nan")])).numpy().tolist() == [True, False]
    assert C.integer_interval(0, 3).check(tg.tensor([0.0, 2.5, 4.0])).numpy().tolist() == [True, False, False]
    assert C.lower_cholesky.check(tg.tensor([[[1.0, 0.0], [2.0, 1.0]], [[1.0, 0.0], [2.0, -1.0]]])).numpy().tolist() == [True, False]
    assert repr(C.unit_interval) == "Interval(lower_bound=0.0, upper_bound=1.0)" and repr(C.real) == "Real()"
    assert C.is_dependent(D.Uniform(0.0, 1.0).__class__.support) and C.one_hot.event_dim == 1


def test_empty_batches_and_double_backward():
    assert D.Normal(tg.zeros(0), tg.ones(0)).sample((2,)).shape == (2, 0)
    assert D.Categorical(tg.ones(0, 3)).sample((2,)).shape == (2, 0)
    assert D.MultivariateNormal(tg.zeros(0, 2), tg.eye(2)).log_prob(tg.zeros(0, 2)).shape == (0,)
    assert D.Independent(D.Normal(tg.zeros(0, 3), 1.0), 1).log_prob(tg.zeros(0, 3)).shape == (0,)
    m, s = t64([0.3, 0.2], True), t64([1.0, 2.0], True)
    x = t64([1.0, 0.0])
    assert tg.gradgradcheck(lambda m, s: D.kl_divergence(D.Normal(m, s), D.Normal(0.0, 1.0)) + D.Normal(m, s).log_prob(x), [m, s])
    A = t64([[2.0, 0.3], [0.3, 1.0]], True)
    assert tg.gradgradcheck(lambda m, A: D.MultivariateNormal(m, (A + A.t()) * 0.5).log_prob(x), [m, A])
