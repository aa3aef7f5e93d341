"""tensorgan.distributions, second batch: Gumbel-softmax relaxations, the straight-through
one-hot, transforms / TransformedDistribution / biject_to, and the further families (StudentT ...
LowRankMultivariateNormal) with their KL pairs. Values are checked against closed forms in NumPy
written from torch's documentation / Wikipedia, log|det J| against numerical Jacobians, reparame-
terised samples by float64 gradcheck (the noise fixed by seeding inside the function), sample
moments at a fixed seed, and validation refusals."""
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import distributions as D
from tensorgan.errors import ConfigError, InputTypeError, ShapeError

RNG = np.random.default_rng(7)
S = (3, 4)
EULER = 0.5772156649015329
lgamma = np.vectorize(math.lgamma)
erf = np.vectorize(math.erf)


def t64(a, grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def pos(*shape, lo=0.5, hi=2.5):
    return RNG.uniform(lo, hi, shape or S)


def unit(*shape):
    return RNG.uniform(0.05, 0.95, shape or S)


def digamma(x, h=1e-5):
    return (lgamma(x + h) - lgamma(x - h)) / (2 * h)


def close(got, want, tol=1e-10):
    np.testing.assert_allclose(got.numpy(), want, rtol=tol, atol=tol)


def check_moments(d, mean, var, n=40000, rtol=0.06):
    """Sample mean within 5 standard errors, sample variance within ``rtol``."""
    x = d.sample((n,)).numpy().astype(np.float64)
    assert np.all(np.abs(x.mean(0) - mean) <= 5 * np.sqrt(np.asarray(var) / n) + 1e-12), repr(d)
    np.testing.assert_allclose(x.var(0), var, rtol=rtol, err_msg=repr(d))


# --- relaxed families and the straight-through one-hot -------------------------------------

def np_log_softmax(z):
    m = z.max(-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))


def test_relaxed_bernoulli_log_prob_and_gumbel_property():
    t, p, y = 0.6, unit(), unit()
    a = p / (1 - p)
    # Concrete(binary) density: t a y^(-t-1) (1-y)^(-t-1) / (a y^-t + (1-y)^-t)^2
    want = np.log(t * a) + (-t - 1) * (np.log(y) + np.log1p(-y)) - 2 * np.log(a * y ** -t + (1 - y) ** -t)
    for d in (D.RelaxedBernoulli(t64(t), t64(p)), D.RelaxedBernoulli(t, logits=t64(np.log(a)))):
        assert d.batch_shape == S and d.event_shape == () and d.has_rsample
        close(d.log_prob(t64(y)), want, 1e-9)
        close(d.probs, p), close(d.temperature, t)
    tg.manual_seed(0)
    x = D.RelaxedBernoulli(0.3, t64([0.2, 0.7])).sample((20000,)).numpy()
    assert ((x > 0) & (x < 1)).all()
    np.testing.assert_allclose((x > 0.5).mean(0), [0.2, 0.7], atol=0.015)   # exact for any t
    assert D.RelaxedBernoulli(0.5, tg.full((2, 3), 0.5)).expand((4, 2, 3)).sample().shape == (4, 2, 3)


def test_relaxed_one_hot_log_prob_simplex_and_argmax_frequencies():
    t, z = 0.7, RNG.standard_normal((3, 5))
    pi = np.exp(np_log_softmax(z))
    x = RNG.dirichlet(np.ones(5), (2, 3))
    # Concrete density: (K-1)! t^(K-1) prod_k pi_k x_k^(-t-1) / (sum_k pi_k x_k^-t)^K
    k = 5
    want = (math.lgamma(k) + (k - 1) * math.log(t) + (np.log(pi) + (-t - 1) * np.log(x)).sum(-1)
            - k * np.log((pi * x ** -t).sum(-1)))
    d = D.RelaxedOneHotCategorical(t64(t), logits=t64(z))
    assert d.batch_shape == (3,) and d.event_shape == (5,) and repr(d.support) == "Simplex()"
    close(d.log_prob(t64(x)), want, 1e-9)
    close(D.RelaxedOneHotCategorical(t, probs=t64(pi * 3)).log_prob(t64(x)), want, 1e-9)
    tg.manual_seed(0)
    s = d.sample((20000,)).numpy()
    np.testing.assert_allclose(s.sum(-1), 1, atol=1e-12)
    freq = np.stack([np.bincount(s[:, i].argmax(-1), minlength=5) for i in range(3)]) / 20000
    np.testing.assert_allclose(freq, pi, atol=0.015)            # Gumbel-max: exact for any t


def test_relaxed_rsample_gradcheck():
    z, p = t64(RNG.standard_normal((2, 4)), True), t64(unit(2, 3), True)
    temp = t64(0.8, True)

    def cat(temp, z):
        tg.manual_seed(0)
        return D.RelaxedOneHotCategorical(temp, logits=z).rsample((3,))

    def bern(temp, p):
        tg.manual_seed(0)
        return D.RelaxedBernoulli(temp, p).rsample((3,))
    assert tg.gradcheck(cat, [temp, z]) and tg.gradcheck(bern, [temp, p])
    x = t64(RNG.dirichlet(np.ones(4), 2))
    assert tg.gradcheck(lambda temp, z: D.RelaxedOneHotCategorical(temp, logits=z).log_prob(x), [temp, z])


def test_one_hot_straight_through():
    logits = t64(RNG.standard_normal((2, 4)), True)
    assert not D.OneHotCategorical(logits=logits).has_rsample
    d = D.OneHotCategoricalStraightThrough(logits=logits)
    assert d.has_rsample and isinstance(d, D.OneHotCategorical)
    tg.manual_seed(0)
    r = d.rsample((5,))
    np.testing.assert_array_equal(r.detach().numpy().sum(-1), 1.0)
    w = RNG.standard_normal(r.shape)
    (r * t64(w)).sum().backward()
    p = np.exp(np_log_softmax(logits.detach().numpy()))
    g = w.sum(0)                                           # d/dlogits of sum(w * probs)
    close(logits.grad, p * (g - (p * g).sum(-1, keepdims=True)), 1e-12)
    assert d.expand((3, 2)).rsample().shape == (3, 2, 4)


# --- transforms ----------------------------------------------------------------------------

def numerical_log_det(t, x, h=1e-6):
    """log|det dy/dx| by central differences over the event (last dim, or elementwise)."""
    if t.domain.event_dim == 0:
        return np.log(np.abs((t(t64(x + h)).numpy() - t(t64(x - h)).numpy()) / (2 * h)))
    n = x.shape[-1]
    cols = []
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        cols.append((t(t64(x + e)).numpy() - t(t64(x - e)).numpy())[..., :n] / (2 * h))
    return np.linalg.slogdet(np.stack(cols, -1))[1]


ELEMENTWISE = {
    "Exp": (D.ExpTransform(), lambda: RNG.standard_normal(S), "GreaterThan(lower_bound=0.0)"),
    "Sigmoid": (D.SigmoidTransform(), lambda: RNG.standard_normal(S) * 3, "Interval(lower_bound=0.0, upper_bound=1.0)"),
    "Tanh": (D.TanhTransform(), lambda: RNG.standard_normal(S), "Interval(lower_bound=-1.0, upper_bound=1.0)"),
    "Softplus": (D.SoftplusTransform(), lambda: RNG.standard_normal(S) * 3, "GreaterThan(lower_bound=0.0)"),
    "Power": (D.PowerTransform(t64(pos(4))), lambda: pos(), "GreaterThan(lower_bound=0.0)"),
    "Power-": (D.PowerTransform(-1.5), lambda: pos(), "GreaterThan(lower_bound=0.0)"),
    "Affine": (D.AffineTransform(t64(RNG.standard_normal(4)), t64(-pos(4))), lambda: RNG.standard_normal(S), "Real()"),
    "Affine-num": (D.AffineTransform(1.0, 3.0), lambda: RNG.standard_normal(S), "Real()"),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_transform_round_trip_and_log_det(name):
    t, make, codomain = ELEMENTWISE[name]
    x = make()
    y = t(t64(x))
    assert t.bijective and repr(t.codomain) == codomain and bool(t.codomain.check(y).all())
    close(t.inv(y), x, 1e-9)
    close(t.log_abs_det_jacobian(t64(x), y), numerical_log_det(t, x), 1e-6)
    close(t.inv.log_abs_det_jacobian(y, t64(x)), -numerical_log_det(t, x), 1e-6)
    assert t.inv.inv is t and t.inv.domain is t.codomain
    assert tg.gradcheck(lambda x: t.log_abs_det_jacobian(x, t(x)) + t(x), [t64(x, True)])


def test_transform_signs_equality_and_abs():
    assert D.ExpTransform().sign == 1 and D.AffineTransform(0.0, -2.0).sign == -1
    assert D.PowerTransform(-1.0).sign == -1
    np.testing.assert_array_equal(D.AffineTransform(0.0, t64([1.0, -2.0])).sign.numpy(), [1.0, -1.0])
    assert D.ExpTransform() == D.ExpTransform() and D.ExpTransform() != D.SigmoidTransform()
    assert D.AffineTransform(1.0, 2.0) == D.AffineTransform(1.0, 2.0) != D.AffineTransform(1.0, 3.0)
    assert D.ExpTransform().inv == D.ExpTransform().inv
    a = D.AbsTransform()
    assert not a.bijective and a(tg.tensor([-2.0, 3.0])).tolist() == [2.0, 3.0]
    assert a.inv(tg.tensor([2.0])).tolist() == [2.0]


def test_vector_transforms_stick_breaking_softmax_affine_event_dim():
    x = RNG.standard_normal((3, 4))
    sb = D.StickBreakingTransform()
    y = sb(t64(x))
    assert y.shape == (3, 5) and sb.forward_shape((3, 4)) == (3, 5) and sb.inverse_shape((3, 5)) == (3, 4)
    assert bool(D.constraints.simplex.check(y).all()) and sb.bijective
    close(sb.inv(y), x, 1e-9)
    close(sb.log_abs_det_jacobian(t64(x), y), numerical_log_det(sb, x), 1e-6)
    assert tg.gradcheck(lambda x: sb.log_abs_det_jacobian(x, sb(x)) + sb(x).sum(-1), [t64(x, True)])
    sm = D.SoftmaxTransform()
    close(sm(t64(x)), np.exp(np_log_softmax(x)))
    close(sm(sm.inv(sm(t64(x)))), np.exp(np_log_softmax(x)))
    aff = D.AffineTransform(1.0, t64([2.0, -1.0, 0.5, 3.0]), event_dim=1)
    assert aff.domain.event_dim == 1
    close(aff.log_abs_det_jacobian(t64(x), aff(t64(x))), np.full(3, math.log(3.0)))


def test_compose_reshape_independent_and_lower_cholesky():
    x = RNG.standard_normal((2, 3, 4))
    c = D.ComposeTransform([D.AffineTransform(0.5, 2.0), D.StickBreakingTransform(), D.PowerTransform(2.0)])
    assert c.domain.event_dim == 1 and c.codomain.event_dim == 1 and c.forward_shape((3, 4)) == (3, 5)
    y = c(t64(x))
    close(c.inv(y), x, 1e-8)
    sb = D.StickBreakingTransform()
    u = 0.5 + 2 * x
    v = sb(t64(u)).numpy()
    want = 4 * math.log(2.0) + numerical_log_det(sb, u) + np.log(2 * v).sum(-1)
    close(c.log_abs_det_jacobian(t64(x), y), want, 1e-6)
    close(D.identity_transform(t64(x)), x)
    r = D.ReshapeTransform((4,), (2, 2))
    assert r(t64(x)).shape == (2, 3, 2, 2) and r.inv(r(t64(x))).shape == (2, 3, 4)
    close(r.log_abs_det_jacobian(t64(x), r(t64(x))), np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"in_shape \(4,\) and out_shape \(3,\)"):
        D.ReshapeTransform((4,), (3,))
    it = D.IndependentTransform(D.SigmoidTransform(), 1)
    assert it.domain.event_dim == 1
    close(it.log_abs_det_jacobian(t64(x), it(t64(x))), numerical_log_det(D.SigmoidTransform(), x).sum(-1), 1e-6)
    m = RNG.standard_normal((2, 3, 3))
    lc = D.LowerCholeskyTransform()
    L = lc(t64(m))
    assert bool(D.constraints.lower_cholesky.check(L).all())
    close(lc.inv(L), np.tril(m), 1e-12)


def test_transform_cache_returns_the_same_x():
    t = D.ExpTransform(cache_size=1)
    x = t64([1.0, 2.0])
    y = t(x)
    assert t(x) is y and t.inv(y) is x
    with pytest.raises(ConfigError, match="cache_size must be 0 or 1"):
        D.ExpTransform(cache_size=2)


@pytest.mark.parametrize("constraint", [
    D.constraints.real, D.constraints.positive, D.constraints.greater_than(1.5),
    D.constraints.greater_than_eq(-1.0), D.constraints.less_than(-2.0), D.constraints.unit_interval,
    D.constraints.interval(-2.0, 3.0), D.constraints.half_open_interval(0.0, 4.0), D.constraints.simplex,
    D.constraints.real_vector, D.constraints.independent(D.constraints.positive, 1)])
def test_biject_to_and_transform_to_map_into_the_constraint(constraint):
    x = RNG.standard_normal((3, 4)) * 2
    for registry in (D.biject_to, D.transform_to):
        t = registry(constraint)
        y = t(t64(x))
        assert bool(constraint.check(y).all()), (registry, constraint)
        if registry is D.biject_to:
            assert t.bijective
            close(t(t.inv(y)), y.numpy(), 1e-8)
    assert isinstance(D.biject_to(D.constraints.simplex), D.StickBreakingTransform)
    assert isinstance(D.transform_to(D.constraints.simplex), D.SoftmaxTransform)


def test_registry_refusals_and_lower_cholesky():
    L = D.transform_to(D.constraints.lower_cholesky)(t64(RNG.standard_normal((3, 3))))
    assert bool(D.constraints.lower_cholesky.check(L))
    with pytest.raises(NotImplementedError, match="Cannot transform _LowerCholesky"):
        D.biject_to(D.constraints.lower_cholesky)
    with pytest.raises(ConfigError, match="Constraint subclass or instance"):
        D.biject_to.register(int, lambda c: None)


# --- TransformedDistribution ---------------------------------------------------------------

def test_transformed_distribution_log_prob_cdf_icdf_and_lognormal():
    mu, sd, x = RNG.standard_normal(S), pos(), RNG.standard_normal(S)
    d = D.TransformedDistribution(D.Normal(t64(mu), t64(sd)), [D.AffineTransform(1.0, -2.0), D.ExpTransform()])
    y = np.exp(1 - 2 * x)
    normal = -(x - mu) ** 2 / (2 * sd ** 2) - np.log(sd) - 0.5 * math.log(2 * math.pi)
    close(d.log_prob(t64(y)), normal - math.log(2.0) - np.log(y))
    cdf = 0.5 * (1 + erf((x - mu) / (sd * math.sqrt(2))))
    close(d.cdf(t64(y)), 1 - cdf)                     # a decreasing chain
    close(d.icdf(t64(1 - cdf)), y, 1e-8)
    assert d.batch_shape == S and d.event_shape == () and d.has_rsample and repr(d.support) == "GreaterThan(lower_bound=0.0)"
    ln = D.LogNormal(t64(mu), t64(sd))
    assert isinstance(ln, D.TransformedDistribution) and isinstance(ln.base_dist, D.Normal)
    assert ln.expand((2,) + S).batch_shape == (2,) + S and ln.expand((2,) + S).loc.shape == (2,) + S
    v = D.TransformedDistribution(D.Normal(t64(mu), t64(sd)), D.StickBreakingTransform())
    assert v.batch_shape == (3,) and v.event_shape == (5,) and v.sample((2,)).shape == (2, 3, 5)
    assert v.log_prob(v.sample()).shape == (3,)
    with pytest.raises(ConfigError, match="Transform or a list of Transforms"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), [D.ExpTransform(), 3])
    with pytest.raises(ShapeError, match="needs at least 1 dimensions"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), D.StickBreakingTransform())


def test_transformed_kl_and_refusal():
    m1, s1, m2, s2 = RNG.standard_normal(S), pos(), RNG.standard_normal(S), pos()
    kl = D.kl_divergence(D.LogNormal(t64(m1), t64(s1)), D.LogNormal(t64(m2), t64(s2)))
    close(kl, np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5)
    p = D.TransformedDistribution(D.Normal(0.0, 1.0), D.ExpTransform())
    q = D.TransformedDistribution(D.Normal(0.0, 1.0), D.SigmoidTransform())
    with pytest.raises(NotImplementedError, match="different transforms"):
        D.kl_divergence(p, q)


# --- further scalar families: values -------------------------------------------------------

def test_student_t_cauchy_values():
    df, mu, sd, x = pos(), RNG.standard_normal(S), pos(), RNG.standard_normal(S)
    d = D.StudentT(t64(df), t64(mu), t64(sd))
    z = (x - mu) / sd
    want = (lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * np.log(df * math.pi) - np.log(sd)
            - (df + 1) / 2 * np.log1p(z ** 2 / df))
    close(d.log_prob(t64(x)), want)
    ent = (np.log(sd) + (df + 1) / 2 * (digamma((df + 1) / 2) - digamma(df / 2)) + 0.5 * np.log(df)
           + lgamma(df / 2) + math.lgamma(0.5) - lgamma((df + 1) / 2))
    close(d.entropy(), ent, 1e-7)
    close(d.mean, np.where(df > 1, mu, np.nan))
    close(d.variance, np.where(df > 2, sd ** 2 * df / np.where(df > 2, df - 2, 1), np.where(df > 1, np.inf, np.nan)))
    c = D.Cauchy(t64(mu), t64(sd))
    close(c.log_prob(t64(x)), -np.log(math.pi * sd * (1 + z ** 2)))
    close(c.cdf(t64(x)), np.arctan(z) / math.pi + 0.5)
    close(c.icdf(c.cdf(t64(x))), x, 1e-8)
    close(c.entropy(), np.log(4 * math.pi * sd))
    assert np.isnan(c.mean.numpy()).all() and np.isinf(c.variance.numpy()).all()


def test_half_normal_half_cauchy_chi2_values():
    s, y = pos(), pos()
    h = D.HalfNormal(t64(s))
    close(h.log_prob(t64(y)), 0.5 * math.log(2 / math.pi) - np.log(s) - y ** 2 / (2 * s ** 2))
    close(h.cdf(t64(y)), erf(y / (s * math.sqrt(2))))
    close(h.icdf(h.cdf(t64(y))), y, 1e-8)
    close(h.entropy(), 0.5 * np.log(math.pi * s ** 2 / 2) + 0.5)
    close(h.mean, s * math.sqrt(2 / math.pi)), close(h.variance, s ** 2 * (1 - 2 / math.pi))
    assert np.isneginf(D.HalfNormal(1.0, validate_args=False).log_prob(tg.tensor(-1.0)).item())
    hc = D.HalfCauchy(t64(s))
    close(hc.log_prob(t64(y)), np.log(2 / (math.pi * s)) - np.log1p((y / s) ** 2))
    close(hc.cdf(t64(y)), 2 / math.pi * np.arctan(y / s))
    close(hc.entropy(), np.log(2 * math.pi * s))
    k = pos()
    c = D.Chi2(t64(k))
    close(c.log_prob(t64(y)), (k / 2 - 1) * np.log(y) - y / 2 - k / 2 * math.log(2) - lgamma(k / 2))
    close(c.df, k), close(c.mean, k), close(c.variance, 2 * k)
    assert isinstance(c, D.Gamma) and c.expand((2,) + S).df.shape == (2,) + S


def test_weibull_pareto_kumaraswamy_values():
    lam, k, y = pos(), pos(lo=1.0), pos()
    w = D.Weibull(t64(lam), t64(k))
    close(w.log_prob(t64(y)), np.log(k / lam) + (k - 1) * np.log(y / lam) - (y / lam) ** k)
    close(w.cdf(t64(y)), 1 - np.exp(-(y / lam) ** k))
    close(w.mean, lam * np.exp(lgamma(1 + 1 / k)))
    close(w.variance, lam ** 2 * (np.exp(lgamma(1 + 2 / k)) - np.exp(2 * lgamma(1 + 1 / k))))
    close(w.entropy(), EULER * (1 - 1 / k) + np.log(lam / k) + 1)
    close(w.mode, lam * ((k - 1) / k) ** (1 / k))
    xm, a = pos(), pos(lo=2.5, hi=4.0)
    yy = xm + pos()
    p = D.Pareto(t64(xm), t64(a))
    close(p.log_prob(t64(yy)), np.log(a) + a * np.log(xm) - (a + 1) * np.log(yy))
    close(p.cdf(t64(yy)), 1 - (xm / yy) ** a)
    close(p.mean, a * xm / (a - 1)), close(p.variance, xm ** 2 * a / ((a - 1) ** 2 * (a - 2)))
    close(p.entropy(), np.log(xm / a) + 1 + 1 / a)
    assert np.isinf(D.Pareto(1.0, 0.5).mean.item())
    with pytest.raises(ConfigError, match="GreaterThanEq"):
        p.log_prob(t64(xm - 0.1))
    ca, cb, x = pos(), pos(), unit()
    ku = D.Kumaraswamy(t64(ca), t64(cb))
    close(ku.log_prob(t64(x)), np.log(ca * cb) + (ca - 1) * np.log(x) + (cb - 1) * np.log1p(-x ** ca), 1e-9)
    m1 = cb * np.exp(lgamma(1 + 1 / ca) + lgamma(cb) - lgamma(1 + 1 / ca + cb))
    m2 = cb * np.exp(lgamma(1 + 2 / ca) + lgamma(cb) - lgamma(1 + 2 / ca + cb))
    close(ku.mean, m1), close(ku.variance, m2 - m1 ** 2)
    close(ku.entropy(), (1 - 1 / cb) + (1 - 1 / ca) * (digamma(cb + 1) + EULER) - np.log(ca * cb), 1e-7)
    close(D.Kumaraswamy(t64(2.0), t64(3.0)).mode, (1 / 5) ** 0.5)


def test_continuous_bernoulli_values_away_from_and_near_one_half():
    for p in (unit(), 0.5 + RNG.uniform(-9e-4, 9e-4, S)):
        x = unit()
        d = D.ContinuousBernoulli(t64(p))
        far = np.abs(p - 0.5) > 1e-3
        pc = np.where(far, p, 0.4)
        log_c = np.where(far, np.log(2 * np.arctanh(1 - 2 * pc) / (1 - 2 * pc)), math.log(2.0))
        want = x * np.log(p) + (1 - x) * np.log1p(-p) + log_c
        close(d.log_prob(t64(x)), want, 1e-5 if not far.all() else 1e-10)
        mean = np.where(far, pc / (2 * pc - 1) + 1 / (2 * np.arctanh(1 - 2 * pc)), 0.5)
        close(d.mean, mean, 1e-3 if not far.all() else 1e-10)
        cdf = np.where(far, (pc ** x * (1 - pc) ** (1 - x) + pc - 1) / (2 * pc - 1), x)
        close(d.cdf(t64(x)), cdf, 1e-3 if not far.all() else 1e-10)
        close(d.icdf(d.cdf(t64(x))), x, 1e-3 if not far.all() else 1e-8)


def test_von_mises_values_and_rejection_sampling():
    mu, k, x = RNG.uniform(-2, 2, S), pos(), RNG.uniform(-math.pi, math.pi, S)
    d = D.VonMises(t64(mu), t64(k))
    close(d.log_prob(t64(x)), k * np.cos(x - mu) - math.log(2 * math.pi) - np.log(np.i0(k)), 1e-8)
    assert not d.has_rsample and d.mean is d.loc
    tg.manual_seed(0)
    s = D.VonMises(t64([0.5, -2.5]), t64([2.0, 8.0])).sample((20000,)).numpy()
    assert ((s >= -math.pi) & (s < math.pi)).all()
    np.testing.assert_allclose(np.angle(np.exp(1j * s).mean(0)), [0.5, -2.5], atol=0.03)
    i0, i1 = np.i0([2.0, 8.0]), [1.590636854637329, 399.8731367825601]    # I1(2), I1(8)
    np.testing.assert_allclose(np.abs(np.exp(1j * s).mean(0)), i1 / i0, atol=0.01)
    close(D.VonMises(t64([0.5, -2.5]), t64([2.0, 8.0])).variance, 1 - i1 / i0, 1e-9)


def test_dirichlet_values():
    c = pos()
    x = RNG.dirichlet(np.ones(4), 3)
    d = D.Dirichlet(t64(c))
    assert d.batch_shape == (3,) and d.event_shape == (4,) and d.has_rsample
    a0 = c.sum(-1)
    close(d.log_prob(t64(x)), ((c - 1) * np.log(x)).sum(-1) + lgamma(a0) - lgamma(c).sum(-1))
    ent = lgamma(c).sum(-1) - lgamma(a0) + (a0 - 4) * digamma(a0) - ((c - 1) * digamma(c)).sum(-1)
    close(d.entropy(), ent, 1e-7)
    close(d.mean, c / a0[:, None]), close(d.variance, c * (a0[:, None] - c) / (a0[:, None] ** 2 * (a0[:, None] + 1)))
    big = c + 1
    close(D.Dirichlet(t64(big)).mode, (big - 1) / (big - 1).sum(-1, keepdims=True))
    with pytest.raises(ShapeError, match="at least one-dimensional"):
        D.Dirichlet(tg.tensor(1.0))
    with pytest.raises(ConfigError, match="parameter concentration"):
        D.Dirichlet(tg.tensor([1.0, -1.0]))


# --- count families ------------------------------------------------------------------------

def test_poisson_binomial_geometric_negative_binomial_values():
    rate, k = pos(), RNG.integers(0, 6, S).astype(float)
    d = D.Poisson(t64(rate))
    close(d.log_prob(t64(k)), k * np.log(rate) - rate - lgamma(k + 1))
    close(d.mean, rate), close(d.mode, np.floor(rate))
    assert D.Poisson(t64(0.0)).log_prob(t64(0.0)).item() == 0.0
    n, p = 6.0, unit()
    b = D.Binomial(n, t64(p))
    lcomb = lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)
    pmf_log = lcomb + k * np.log(p) + (n - k) * np.log1p(-p)
    close(b.log_prob(t64(k)), pmf_log, 1e-9)
    close(D.Binomial(t64(np.full(S, n)), logits=t64(np.log(p / (1 - p)))).log_prob(t64(k)), pmf_log, 1e-9)
    ks = np.arange(7.0)[:, None, None]
    all_log = lgamma(n + 1) - lgamma(ks + 1) - lgamma(n - ks + 1) + ks * np.log(p) + (n - ks) * np.log1p(-p)
    close(b.entropy(), -(np.exp(all_log) * all_log).sum(0), 1e-9)
    close(b.mean, n * p), close(b.variance, n * p * (1 - p)), close(b.mode, np.minimum(np.floor((n + 1) * p), n))
    assert b.enumerate_support().shape == (7,) + S
    with pytest.raises(ConfigError, match="IntegerInterval"):
        b.log_prob(t64(np.full(S, 7.0)))
    g = D.Geometric(t64(p))
    close(g.log_prob(t64(k)), k * np.log1p(-p) + np.log(p))
    close(g.entropy(), -(p * np.log(p) + (1 - p) * np.log1p(-p)) / p)
    close(g.mean, 1 / p - 1), close(g.variance, (1 - p) / p ** 2)
    assert D.Geometric(t64(1.0)).log_prob(t64(0.0)).item() == 0.0
    r = pos()
    nb = D.NegativeBinomial(t64(r), t64(p))
    close(nb.log_prob(t64(k)), lgamma(k + r) - lgamma(k + 1) - lgamma(r) + r * np.log1p(-p) + k * np.log(p), 1e-9)
    close(nb.mean, r * p / (1 - p)), close(nb.variance, r * p / (1 - p) ** 2)


def test_multinomial_values():
    p = RNG.dirichlet(np.ones(4), 3)
    x = np.stack([RNG.multinomial(5, q) for q in p]).astype(float)
    d = D.Multinomial(5, t64(p))
    assert d.batch_shape == (3,) and d.event_shape == (4,)
    close(d.log_prob(t64(x)), lgamma(6.0) - lgamma(x + 1).sum(-1) + (x * np.log(p)).sum(-1))
    close(d.mean, 5 * p), close(d.variance, 5 * p * (1 - p))
    import itertools
    ent = np.zeros(3)
    for c in itertools.product(range(6), repeat=4):
        if sum(c) == 5:
            c = np.array(c, float)
            lp = lgamma(6.0) - lgamma(c + 1).sum() + (c * np.log(p)).sum(-1)
            ent -= np.exp(lp) * lp
    close(d.entropy(), ent, 1e-9)
    with pytest.raises(InputTypeError, match="total_count must be an int"):
        D.Multinomial(2.5, t64(p))


# --- mixture and low-rank normal -----------------------------------------------------------

def test_mixture_same_family_values():
    w, mu, sd = RNG.dirichlet(np.ones(3), 2), RNG.standard_normal((2, 3, 4)), pos(2, 3, 4)
    d = D.MixtureSameFamily(D.Categorical(t64(w)), D.Independent(D.Normal(t64(mu), t64(sd)), 1))
    assert d.batch_shape == (2,) and d.event_shape == (4,)
    x = RNG.standard_normal((5, 2, 4))
    comp = (-(x[:, :, None] - mu) ** 2 / (2 * sd ** 2) - np.log(sd) - 0.5 * math.log(2 * math.pi)).sum(-1)
    close(d.log_prob(t64(x)), np.log((w * np.exp(comp)).sum(-1)))
    mean = (w[..., None] * mu).sum(1)
    close(d.mean, mean)
    close(d.variance, (w[..., None] * (sd ** 2 + mu ** 2)).sum(1) - mean ** 2)
    tg.manual_seed(0)
    assert d.sample((3,)).shape == (3, 2, 4) and d.expand((5, 2)).sample().shape == (5, 2, 4)
    u = D.MixtureSameFamily(D.Categorical(t64(w)), D.Normal(t64(mu[..., 0]), t64(sd[..., 0])))
    xs = x[..., 0]
    close(u.cdf(t64(xs)), (w * 0.5 * (1 + erf((xs[..., None] - mu[..., 0]) / (sd[..., 0] * math.sqrt(2))))).sum(-1))
    check_moments(D.MixtureSameFamily(D.Categorical(t64([0.3, 0.7])), D.Normal(t64([-2.0, 1.0]), t64([0.5, 1.0]))),
                  0.3 * -2 + 0.7, 0.3 * (0.25 + 4) + 0.7 * 2 - 0.1 ** 2)
    with pytest.raises(ShapeError, match=r"\(2\) does not equal"):
        D.MixtureSameFamily(D.Categorical(tg.ones(2)), D.Normal(tg.zeros(3), 1.0))
    with pytest.raises(ConfigError, match="instance of Categorical"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(tg.zeros(3), 1.0))


def test_low_rank_multivariate_normal_values():
    loc, W, dg = RNG.standard_normal((2, 5)), RNG.standard_normal((5, 2)), pos(5)
    cov = W @ W.T + np.diag(dg)
    d = D.LowRankMultivariateNormal(t64(loc), t64(W), t64(dg))
    assert d.batch_shape == (2,) and d.event_shape == (5,)
    x = RNG.standard_normal((3, 2, 5))
    diff = x - loc
    maha = (diff * np.linalg.solve(cov, diff[..., None])[..., 0]).sum(-1)
    close(d.log_prob(t64(x)), -0.5 * (maha + 5 * math.log(2 * math.pi) + np.linalg.slogdet(cov)[1]))
    close(d.entropy(), np.full(2, 0.5 * (5 * (1 + math.log(2 * math.pi)) + np.linalg.slogdet(cov)[1])))
    close(d.covariance_matrix, np.broadcast_to(cov, (2, 5, 5)))
    close(d.precision_matrix, np.broadcast_to(np.linalg.inv(cov), (2, 5, 5)))
    close(d.scale_tril, np.broadcast_to(np.linalg.cholesky(cov), (2, 5, 5)))
    close(d.variance, np.broadcast_to(np.diag(cov), (2, 5)))
    tg.manual_seed(0)
    s = D.LowRankMultivariateNormal(t64(loc[0]), t64(W), t64(dg)).sample((40000,)).numpy()
    np.testing.assert_allclose(np.cov(s.T), cov, atol=0.1 * np.abs(cov).max())
    with pytest.raises(ShapeError, match=r"cov_factor must be a batch of matrices with shape 5 x m"):
        D.LowRankMultivariateNormal(t64(loc), t64(W.T), t64(dg))


# --- shapes, sampling moments, gradients ---------------------------------------------------

SHAPED = [
    lambda: D.StudentT(tg.full((2, 3), 3.0)), lambda: D.Cauchy(tg.zeros(2, 3), 1.0),
    lambda: D.HalfNormal(tg.ones(2, 3)), lambda: D.HalfCauchy(tg.ones(2, 3)), lambda: D.Chi2(tg.ones(2, 3)),
    lambda: D.Weibull(tg.ones(2, 3), 2.0), lambda: D.Pareto(tg.ones(2, 3), 3.0),
    lambda: D.Kumaraswamy(tg.ones(2, 3), 2.0), lambda: D.ContinuousBernoulli(tg.full((2, 3), 0.3)),
    lambda: D.VonMises(tg.zeros(2, 3), 1.0), lambda: D.Poisson(tg.ones(2, 3)),
    lambda: D.Binomial(4, tg.full((2, 3), 0.3)), lambda: D.Geometric(tg.full((2, 3), 0.3)),
    lambda: D.NegativeBinomial(3.0, tg.full((2, 3), 0.3)), lambda: D.RelaxedBernoulli(0.5, tg.full((2, 3), 0.3)),
]


@pytest.mark.parametrize("i", range(len(SHAPED)))
def test_scalar_event_shapes_sample_and_expand(i):
    d = SHAPED[i]()
    assert d.batch_shape == (2, 3) and d.event_shape == ()
    assert d.sample().shape == (2, 3) and d.sample((5,)).shape == (5, 2, 3)
    assert d.log_prob(d.sample((5,))).shape == (5, 2, 3)
    e = d.expand((4, 2, 3))
    assert e.batch_shape == (4, 2, 3) and e.sample().shape == (4, 2, 3)
    assert e.log_prob(e.sample()).shape == (4, 2, 3)
    assert d.sample().dtype == tg.get_default_dtype()


def test_vector_event_shapes():
    for d, event in ((D.Dirichlet(tg.ones(2, 3, 4)), (4,)), (D.Multinomial(3, tg.ones(2, 3, 4)), (4,)),
                     (D.RelaxedOneHotCategorical(0.5, tg.ones(2, 3, 4)), (4,)),
                     (D.OneHotCategoricalStraightThrough(tg.ones(2, 3, 4)), (4,)),
                     (D.LowRankMultivariateNormal(tg.zeros(2, 3, 4), tg.ones(4, 2), tg.ones(4)), (4,))):
        assert d.batch_shape == (2, 3) and d.event_shape == event, d
        assert d.sample((5,)).shape == (5, 2, 3) + event
        assert d.log_prob(d.sample((5,))).shape == (5, 2, 3)
        assert d.expand((6, 2, 3)).sample().shape == (6, 2, 3) + event


def test_sample_moments():
    tg.manual_seed(0)
    checks = [(D.StudentT(5.0, 1.0, 2.0), 1.0, 4 * 5 / 3), (D.HalfNormal(2.0), 2 * math.sqrt(2 / math.pi), 4 * (1 - 2 / math.pi)),
              (D.Chi2(3.0), 3.0, 6.0), (D.Weibull(2.0, 1.5), 2 * math.gamma(1 + 1 / 1.5),
                                        4 * (math.gamma(1 + 2 / 1.5) - math.gamma(1 + 1 / 1.5) ** 2)),
              (D.Pareto(1.0, 5.0), 1.25, 5 / (16 * 3)), (D.Poisson(3.5), 3.5, 3.5), (D.Binomial(10, 0.3), 3.0, 2.1),
              (D.Geometric(0.3), 0.7 / 0.3, 0.7 / 0.09), (D.NegativeBinomial(3.0, 0.4), 2.0, 2.0 / 0.6)]
    for d, mean, var in checks:
        check_moments(d, mean, var)
    for d in (D.Kumaraswamy(2.0, 3.0), D.ContinuousBernoulli(0.3), D.ContinuousBernoulli(0.5)):
        check_moments(d, d.mean.item(), d.variance.item())
    c = D.Cauchy(1.0, 2.0).sample((40000,)).numpy()
    assert abs(np.median(c) - 1.0) < 0.05 and abs(np.percentile(c, 75) - 3.0) < 0.1
    x = D.Dirichlet(t64([1.0, 2.0, 3.0])).sample((40000,)).numpy()
    np.testing.assert_allclose(x.mean(0), [1 / 6, 2 / 6, 3 / 6], atol=0.005)
    m = D.Multinomial(10, t64([0.2, 0.3, 0.5])).sample((40000,)).numpy()
    assert (m.sum(-1) == 10).all()
    np.testing.assert_allclose(m.mean(0), [2.0, 3.0, 5.0], atol=0.05)


def test_manual_seed_reproduces_samples():
    dists = [D.StudentT(3.0), D.VonMises(0.0, 1.0), D.Poisson(2.0), D.Dirichlet(tg.ones(3)),
             D.RelaxedOneHotCategorical(0.5, tg.ones(3)), D.NegativeBinomial(2.0, 0.5)]
    draws = []
    for _ in range(2):
        tg.manual_seed(3)
        draws.append([d.sample((4,)).numpy() for d in dists])
    for a, b in zip(*draws):
        np.testing.assert_array_equal(a, b)


RSAMPLED = {
    "Cauchy": lambda: [RNG.standard_normal(S), pos()],
    "HalfNormal": lambda: [pos()], "HalfCauchy": lambda: [pos()],
    "Weibull": lambda: [pos(), pos(lo=1.0)], "Pareto": lambda: [pos(), pos()],
    "Kumaraswamy": lambda: [pos(lo=1.0), pos(lo=1.0)], "ContinuousBernoulli": lambda: [unit()],
}


@pytest.mark.parametrize("name", sorted(RSAMPLED))
def test_rsample_gradcheck(name):
    params = [t64(p, True) for p in RSAMPLED[name]()]

    def draw(*ps):
        tg.manual_seed(0)
        return getattr(D, name)(*ps).rsample((2,))
    d = getattr(D, name)(*params)
    assert d.has_rsample and tg.gradcheck(draw, params)
    y = t64(d.sample())
    assert tg.gradcheck(lambda *ps: getattr(D, name)(*ps).log_prob(y) + getattr(D, name)(*ps).entropy(), params)


def test_low_rank_rsample_and_log_prob_gradcheck():
    loc, W, dg = t64(RNG.standard_normal((2, 4)), True), t64(RNG.standard_normal((4, 2)), True), t64(pos(4), True)
    x = t64(RNG.standard_normal((3, 2, 4)), True)

    def draw(loc, W, dg):
        tg.manual_seed(0)
        return D.LowRankMultivariateNormal(loc, W, dg).rsample((2,))
    assert tg.gradcheck(draw, [loc, W, dg])
    assert tg.gradcheck(lambda l, W, d, x: D.LowRankMultivariateNormal(l, W, d).log_prob(x), [loc, W, dg, x])


def test_log_prob_gradcheck_non_reparameterised_families():
    a, b, x = t64(pos(), True), t64(pos(), True), t64(RNG.standard_normal(S))
    assert tg.gradcheck(lambda d, s: D.StudentT(d, 0.5, s).log_prob(x) + D.StudentT(d, 0.5, s).entropy(), [a, b], atol=1e-4)
    assert tg.gradcheck(lambda l, k: D.VonMises(l, k).log_prob(x) + D.VonMises(l, k).variance, [t64(x.numpy(), True), a])
    c, y = t64(pos(), True), t64(RNG.dirichlet(np.ones(4), 3))
    assert tg.gradcheck(lambda c: D.Dirichlet(c).log_prob(y) + D.Dirichlet(c).entropy(), [c], atol=1e-4)
    k = t64(RNG.integers(0, 5, S).astype(float))
    p = t64(unit(), True)
    assert tg.gradcheck(lambda r, p: D.Poisson(r).log_prob(k) + D.NegativeBinomial(r, p).log_prob(k)
                        + D.Binomial(5, p).log_prob(k) + D.Geometric(p).log_prob(k), [a, p])
    w, m = t64(RNG.standard_normal(3), True), t64(RNG.standard_normal(3), True)
    assert tg.gradcheck(lambda w, m: D.MixtureSameFamily(D.Categorical(logits=w), D.Normal(m, 1.0)).log_prob(x), [w, m])
    assert D.StudentT(1.0).has_rsample and D.Dirichlet(tg.ones(2)).has_rsample    # tests/test_gamma_rsample.py


# --- KL divergence -------------------------------------------------------------------------

def test_kl_closed_forms():
    a1, b1, a2, b2 = pos(), pos(), pos(), pos()
    kl = D.kl_divergence(D.Beta(t64(a1), t64(b1)), D.Beta(t64(a2), t64(b2)))
    lb = lambda a, b: lgamma(a) + lgamma(b) - lgamma(a + b)
    want = (lb(a2, b2) - lb(a1, b1) + (a1 - a2) * digamma(a1) + (b1 - b2) * digamma(b1)
            + (a2 - a1 + b2 - b1) * digamma(a1 + b1))
    close(kl, want, 1e-7)
    kl = D.kl_divergence(D.Gamma(t64(a1), t64(b1)), D.Gamma(t64(a2), t64(b2)))
    want = ((a1 - a2) * digamma(a1) - lgamma(a1) + lgamma(a2) + a2 * (np.log(b1) - np.log(b2))
            + a1 * (b2 - b1) / b1)
    close(kl, want, 1e-7)
    c1, c2 = pos(), pos()
    s1, s2 = c1.sum(-1), c2.sum(-1)
    want = (lgamma(s1) - lgamma(c1).sum(-1) - lgamma(s2) + lgamma(c2).sum(-1)
            + ((c1 - c2) * (digamma(c1) - digamma(s1)[:, None])).sum(-1))
    close(D.kl_divergence(D.Dirichlet(t64(c1)), D.Dirichlet(t64(c2))), want, 1e-7)
    close(D.kl_divergence(D.Poisson(t64(a1)), D.Poisson(t64(a2))), a1 * np.log(a1 / a2) - a1 + a2)
    p, q = unit(), unit()
    ks = np.arange(400.0)[:, None, None]
    pk = np.log(p) + ks * np.log1p(-p)
    qk = np.log(q) + ks * np.log1p(-q)
    close(D.kl_divergence(D.Geometric(t64(p)), D.Geometric(t64(q))), (np.exp(pk) * (pk - qk)).sum(0), 1e-9)
    close(D.kl_divergence(D.HalfNormal(t64(a1)), D.HalfNormal(t64(a2))), np.log(a2 / a1) + a1 ** 2 / (2 * a2 ** 2) - 0.5)
    close(D.kl_divergence(D.Binomial(4, t64(p)), D.Binomial(4, t64(q))),
          4 * (p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))), 1e-9)
    close(D.kl_divergence(D.Chi2(t64(a1)), D.Chi2(t64(a2))),
          (a1 / 2 - a2 / 2) * digamma(a1 / 2) - lgamma(a1 / 2) + lgamma(a2 / 2), 1e-7)
    kl = D.kl_divergence(D.Binomial(t64([4.0, 5.0]), t64([0.3, 0.3])), D.Binomial(t64([4.0, 4.0]), t64([0.5, 0.5])))
    assert math.isinf(kl.numpy()[1]) and math.isfinite(kl.numpy()[0])
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
        D.kl_divergence(D.Binomial(3, t64(p)), D.Binomial(4, t64(q)))


def test_kl_gradcheck():
    ps = [t64(pos(), True) for _ in range(4)]
    assert tg.gradcheck(lambda a, b, c, d: D.kl_divergence(D.Beta(a, b), D.Beta(c, d))
                        + D.kl_divergence(D.Gamma(a, b), D.Gamma(c, d)), ps, atol=1e-4)
    assert tg.gradcheck(lambda a, b: D.kl_divergence(D.Dirichlet(a), D.Dirichlet(b)), ps[:2], atol=1e-4)
    assert tg.gradcheck(lambda a, b: D.kl_divergence(D.Poisson(a), D.Poisson(b))
                        + D.kl_divergence(D.HalfNormal(a), D.HalfNormal(b)), ps[:2])


# --- validation ----------------------------------------------------------------------------

def test_parameter_and_value_refusals():
    with pytest.raises(ConfigError, match="parameter df"):
        D.StudentT(tg.tensor([-1.0]))
    with pytest.raises(ConfigError, match="parameter scale"):
        D.HalfNormal(tg.tensor([0.0]))
    with pytest.raises(ConfigError, match="parameter concentration"):
        D.Weibull(1.0, tg.tensor([-2.0]))
    with pytest.raises(ConfigError, match="parameter rate"):
        D.Poisson(tg.tensor([-0.5]))
    with pytest.raises(ConfigError, match="parameter total_count"):
        D.Binomial(tg.tensor([2.5]), 0.5)
    with pytest.raises(ConfigError, match="probs .* to be positive"):
        D.Geometric(tg.tensor([0.0, 0.5]))
    with pytest.raises(ConfigError, match="parameter probs .*HalfOpenInterval"):
        D.NegativeBinomial(2.0, tg.tensor([1.0]))
    with pytest.raises(ConfigError, match="parameter probs .*Interval"):
        D.RelaxedBernoulli(0.5, tg.tensor([1.5]))
    with pytest.raises(ConfigError, match="parameter probs .*Simplex"):
        D.RelaxedOneHotCategorical(0.5, tg.tensor([-1.0, 2.0]))
    with pytest.raises(ConfigError, match="Either `probs` or `logits`"):
        D.RelaxedBernoulli(0.5)
    with pytest.raises(ConfigError, match="Either `probs` or `logits`"):
        D.Geometric(0.5, 0.0)
    with pytest.raises(ConfigError, match="support .*GreaterThanEq"):
        D.HalfNormal(1.0).log_prob(tg.tensor(-1.0))
    with pytest.raises(ConfigError, match="IntegerGreaterThan"):
        D.Poisson(1.0).log_prob(tg.tensor(1.5))
    with pytest.raises(ConfigError, match="Simplex"):
        D.Dirichlet(tg.ones(3)).log_prob(tg.tensor([0.5, 0.6, 0.1]))
    with pytest.raises(ConfigError, match="Multinomial"):
        D.Multinomial(2, tg.ones(3)).log_prob(tg.tensor([2.0, 1.0, 0.0]))
    with pytest.raises(ConfigError, match="Interval"):
        D.RelaxedBernoulli(0.5, 0.3).log_prob(tg.tensor(1.5))
    with pytest.raises(NotImplementedError, match="has no rsample"):
        D.VonMises(0.0, 1.0).rsample()


def test_empty_batches_and_double_backward():
    for d in (D.Poisson(tg.ones(0)), D.StudentT(tg.ones(0)), D.VonMises(tg.zeros(0), 1.0),
              D.Binomial(3, tg.full((0,), 0.5)), D.HalfNormal(tg.ones(0)), D.Geometric(tg.full((0,), 0.3))):
        s = d.sample((2,))
        assert s.shape == (2, 0) and d.log_prob(s).shape == (2, 0)
    for d in (D.Dirichlet(tg.ones(0, 3)), D.Multinomial(3, tg.ones(0, 3)), D.RelaxedOneHotCategorical(0.5, tg.ones(0, 3)),
              D.LowRankMultivariateNormal(tg.zeros(0, 3), tg.ones(3, 1), tg.ones(3))):
        s = d.sample((2,))
        assert s.shape == (2, 0, 3) and d.log_prob(s).shape == (2, 0)
    a, b = t64([0.7, 1.3], True), t64([1.1, 0.4], True)
    y = t64([0.5, 2.0])
    assert tg.gradgradcheck(lambda a, b: D.kl_divergence(D.Dirichlet(a), D.Dirichlet(b)), [a, b], atol=1e-4)
    assert tg.gradgradcheck(lambda a, b: D.Weibull(a, b).log_prob(y) + D.StudentT(a, 0.0, b).log_prob(y), [a, b], atol=1e-4)
    z, v = t64([0.2, -0.5, 1.0], True), t64([0.2, 0.3, 0.5])
    assert tg.gradgradcheck(lambda z: D.RelaxedOneHotCategorical(t64(0.6), logits=z).log_prob(v), [z])
