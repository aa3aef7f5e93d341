"""Session 24b: the last missing names of torch's submodules (distributions, linalg, autograd,
func, utils.checkpoint, testing, optim, parametrize), checked from first principles."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.distributions as D
from tensorgan.distributions import constraints, transforms
from tensorgan.errors import ShapeError


def _np(t):
    return t.detach().numpy()


def _num_jacobian(f, x, eps=1e-6):
    """Central differences of f: R^n -> R^m at the float64 vector x."""
    cols = []
    for i in range(x.size):
        d = np.zeros_like(x)
        d[i] = eps
        cols.append((f(x + d) - f(x - d)) / (2 * eps))
    return np.stack(cols, -1)


# ---------------------------------------------------------------- constraints

def test_square_and_symmetric_on_non_square_matrices_say_false():
    assert _np(constraints.square.check(tg.zeros(2, 3, 3))).tolist() == [True, True]
    assert _np(constraints.square.check(tg.zeros(2, 3, 4))).tolist() == [False, False]
    assert _np(constraints.symmetric.check(tg.zeros(2, 3, 4))).tolist() == [False, False]


def test_positive_semidefinite_takes_singular_matrices_positive_definite_does_not():
    v = tg.tensor(np.array([[[1.0, 1.0], [1.0, 1.0]], [[2.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]))
    assert _np(constraints.positive_semidefinite.check(v)).tolist() == [True, True, False]
    assert _np(constraints.positive_definite.check(v)).tolist() == [False, True, False]


def test_corr_cholesky_and_multinomial_constraints():
    c = np.cos(0.3)
    good = np.array([[1.0, 0.0], [np.sin(0.3), c]])
    bad = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert _np(constraints.corr_cholesky.check(tg.tensor(np.stack([good, bad])))).tolist() == [True, False]
    assert constraints.corr_cholesky.event_dim == 2
    m = constraints.multinomial(4)
    assert m.is_discrete and m.event_dim == 1
    assert _np(m.check(tg.tensor([[1.0, 2, 0], [3, 0, -1], [2, 2, 2]]))).tolist() == [True, False, False]


def test_cat_and_stack_constraints_check_each_block():
    c = constraints.cat([constraints.positive, constraints.unit_interval], dim=-1, lengths=[1, 2])
    v = tg.tensor([[1.0, 0.5, 0.5], [-1.0, 0.5, 2.0]])
    assert _np(c.check(v)).tolist() == [[True, True, True], [False, True, False]]
    assert c.event_dim == 0 and not c.is_discrete
    s = constraints.stack([constraints.positive, constraints.nonnegative_integer], dim=0)
    assert s.is_discrete
    assert _np(s.check(tg.tensor([[1.0, -1.0], [2.0, 0.5]]))).tolist() == [[True, False], [True, False]]
    assert constraints.stack([constraints.simplex], dim=-2).event_dim == 2
    assert constraints.stack([constraints.simplex], dim=-1).event_dim == 1
    with pytest.raises(ShapeError, match="2 constraints"):
        constraints.stack([constraints.real, constraints.real], dim=0).check(tg.zeros(3))


def test_mixture_same_family_support_puts_the_component_dim_back():
    lo, hi = tg.zeros(2, 3), tg.tensor([[1.0, 2, 3], [4, 5, 6]])
    mix = D.MixtureSameFamily(D.Categorical(tg.ones(2, 3)), D.Uniform(lo, hi))
    support = mix.support
    assert isinstance(support, constraints.MixtureSameFamilyConstraint)
    # a value is in the support where every component's interval holds it
    assert _np(support.check(tg.tensor([0.5, 4.5]))).tolist() == [True, False]
    assert _np(support.check(tg.tensor([[0.5, 4.0], [2.0, 3.0]]))).tolist() == [[True, True], [False, True]]


# ---------------------------------------------------------------- transforms

def test_corr_cholesky_transform_values_inverse_and_log_det():
    t = transforms.CorrCholeskyTransform()
    x = np.random.RandomState(0).randn(6)
    y = t(tg.tensor(x))
    yn = _np(y)
    assert yn.shape == (4, 4) and np.allclose(np.triu(yn, 1), 0)
    assert np.allclose((yn ** 2).sum(-1), 1) and (np.diag(yn) > 0).all()
    assert bool(constraints.corr_cholesky.check(y))
    assert np.allclose(_np(t.inv(y)), x)
    # log|det| against the Jacobian of x -> the strict lower triangle of y
    rows, cols = np.tril_indices(4, -1)

    def f(v):
        return _np(t(tg.tensor(v)))[rows, cols]
    expected = np.linalg.slogdet(_num_jacobian(f, x))[1]
    assert np.isclose(float(t.log_abs_det_jacobian(tg.tensor(x), y)), expected, atol=1e-6)
    assert t.forward_shape((5, 6)) == (5, 4, 4) and t.inverse_shape((5, 4, 4)) == (5, 6)
    with pytest.raises(ShapeError):
        t.forward_shape((5,))
    assert isinstance(D.biject_to(constraints.corr_cholesky), transforms.CorrCholeskyTransform)


def test_corr_cholesky_transform_gradient():
    x = tg.tensor(np.random.RandomState(1).randn(3), requires_grad=True)
    t = transforms.CorrCholeskyTransform()
    assert tg.autograd.gradcheck(lambda v: t.log_abs_det_jacobian(v, t(v)) + t(v).sum(), (x,))


def test_positive_definite_transform():
    t = transforms.PositiveDefiniteTransform()
    x = np.random.RandomState(2).randn(2, 3, 3)
    y = t(tg.tensor(x))
    assert bool(constraints.positive_definite.check(y).all())
    expected = np.tril(x, -1) + np.eye(3) * np.exp(np.diagonal(x, 0, -2, -1))[..., None, :]
    assert np.allclose(_np(y), expected @ np.swapaxes(expected, -1, -2))
    assert np.allclose(_np(t.inv(y)), np.tril(x))
    assert t == transforms.PositiveDefiniteTransform()
    assert isinstance(D.transform_to(constraints.positive_semidefinite), transforms.PositiveDefiniteTransform)
    with pytest.raises(NotImplementedError):
        D.biject_to(constraints.positive_definite)


def test_cat_transform_blocks_and_log_det():
    t = transforms.CatTransform([transforms.ExpTransform(), transforms.identity_transform,
                                 transforms.AffineTransform(1.0, 3.0)], dim=1, lengths=[2, 1, 2])
    x = np.random.RandomState(3).randn(3, 5)
    y = t(tg.tensor(x))
    expected = np.concatenate([np.exp(x[:, :2]), x[:, 2:3], 1 + 3 * x[:, 3:]], 1)
    assert np.allclose(_np(y), expected)
    assert np.allclose(_np(t.inv(y)), x)
    ld = _np(t.log_abs_det_jacobian(tg.tensor(x), y))
    assert np.allclose(ld, np.concatenate([x[:, :2], 0 * x[:, 2:3], np.full((3, 2), math.log(3))], 1))
    assert _np(t.domain.check(tg.tensor(x))).all() and t.bijective
    # a block transform with event dims: log|det| summed into one value per row
    t2 = transforms.CatTransform([transforms.IndependentTransform(transforms.ExpTransform(), 1)] * 2,
                                 dim=-1, lengths=[2, 3])
    assert np.allclose(_np(t2.log_abs_det_jacobian(tg.tensor(x), t2(tg.tensor(x)))), x[:, :2].sum(1) + x[:, 2:].sum(1))
    with pytest.raises(ShapeError, match="must equal 5"):
        t(tg.zeros(3, 4))
    c = constraints.cat([constraints.positive, constraints.interval(0.0, 2.0)], -1, [1, 2])
    assert isinstance(D.biject_to(c), transforms.CatTransform)
    assert bool(c.check(D.biject_to(c)(tg.tensor(x[:, :3]))).all())


def test_stack_transform():
    t = transforms.StackTransform([transforms.ExpTransform(), transforms.SigmoidTransform()], dim=-1)
    x = np.random.RandomState(4).randn(4, 2)
    y = t(tg.tensor(x))
    assert np.allclose(_np(y), np.stack([np.exp(x[:, 0]), 1 / (1 + np.exp(-x[:, 1]))], -1))
    assert np.allclose(_np(t.inv(y)), x)
    s = 1 / (1 + np.exp(-x[:, 1]))
    assert np.allclose(_np(t.log_abs_det_jacobian(tg.tensor(x), y)), np.stack([x[:, 0], np.log(s * (1 - s))], -1))
    c = constraints.stack([constraints.positive, constraints.unit_interval], dim=-1)
    assert isinstance(D.transform_to(c), transforms.StackTransform)
    assert bool(c.check(D.transform_to(c)(tg.tensor(x))).all())


def test_cumulative_distribution_transform():
    base = D.Normal(tg.tensor(0.5, dtype=tg.float64), tg.tensor(2.0, dtype=tg.float64))
    t = transforms.CumulativeDistributionTransform(base)
    x = tg.tensor([-1.0, 0.5, 3.0], dtype=tg.float64)
    y = t(x)
    assert np.allclose(_np(y), [0.5 * (1 + math.erf((v - 0.5) / (2 * math.sqrt(2)))) for v in (-1.0, 0.5, 3.0)])
    assert np.allclose(_np(t.inv(y)), _np(x))
    assert np.allclose(_np(t.log_abs_det_jacobian(x, y)), _np(base.log_prob(x)))
    assert t.codomain is constraints.unit_interval and t.domain is constraints.real and t.sign == 1
    assert t.with_cache(1)._cache_size == 1


def test_tril_vec_round_trip():
    from tensorgan.distributions.utils import tril_matrix_to_vec, vec_to_tril_matrix
    m = np.arange(16.0).reshape(4, 4)
    assert _np(tril_matrix_to_vec(tg.tensor(m), -1)).tolist() == [4.0, 8, 9, 12, 13, 14]
    assert np.array_equal(_np(vec_to_tril_matrix(tril_matrix_to_vec(tg.tensor(m)))), np.tril(m))
    with pytest.raises(ShapeError):
        vec_to_tril_matrix(tg.zeros(4))


# ---------------------------------------------------------------- families

def _quad(f, lo, hi, n=200001):
    x = np.linspace(lo, hi, n)
    y = f(x)
    return float(((y[1:] + y[:-1]) / 2 * np.diff(x)).sum())


def test_exponential_family_entropy_and_kl_by_bregman_divergence():
    from tensorgan.distributions.exp_family import ExponentialFamily
    for d in (D.Normal(tg.tensor([0.3, -1.0], dtype=tg.float64), tg.tensor([0.5, 2.0], dtype=tg.float64)),
              D.Gamma(tg.tensor([0.7, 3.0], dtype=tg.float64), tg.tensor([1.5, 0.2], dtype=tg.float64)),
              D.Exponential(tg.tensor([0.7, 3.0], dtype=tg.float64)),
              D.Bernoulli(tg.tensor([0.2, 0.9], dtype=tg.float64))):
        assert isinstance(d, ExponentialFamily)
        assert np.allclose(_np(ExponentialFamily.entropy(d)), _np(d.entropy()))
    for cls in (D.Beta, D.Dirichlet, D.Poisson, D.ContinuousBernoulli):
        assert issubclass(cls, ExponentialFamily)
    # Poisson: KL(p || q) = lp log(lp / lq) - lp + lq, by the generic Bregman form
    from tensorgan.distributions.kl import _kl_expfamily_expfamily
    lp, lq = np.array([0.5, 2.0]), np.array([1.5, 0.3])
    kl = _kl_expfamily_expfamily(D.Poisson(tg.tensor(lp)), D.Poisson(tg.tensor(lq)))
    assert np.allclose(_np(kl), lp * np.log(lp / lq) - lp + lq)
    with pytest.raises(NotImplementedError, match="different exponential families"):
        _kl_expfamily_expfamily(D.Poisson(tg.tensor(lp)), D.Exponential(tg.tensor(lq)))


def test_inverse_gamma():
    a, b = tg.tensor([3.0, 0.8], dtype=tg.float64), tg.tensor([2.0, 1.5], dtype=tg.float64)
    d = D.InverseGamma(a, b)
    x = np.array([0.7, 2.5])
    an, bn = _np(a), _np(b)
    expected = an * np.log(bn) - np.array([math.lgamma(v) for v in an]) - (an + 1) * np.log(x) - bn / x
    assert np.allclose(_np(d.log_prob(tg.tensor(x, dtype=tg.float64))), expected)
    assert np.allclose(_np(d.mean), [1.0, np.inf]) and np.allclose(_np(d.mode), bn / (an + 1))
    assert np.allclose(_np(d.variance)[0], 4 / (4 * 1)) and np.isinf(_np(d.variance)[1])
    # entropy against numerical integration of -p log p
    ent = _quad(lambda t: -np.exp(3 * np.log(2) - math.lgamma(3) - 4 * np.log(t) - 2 / t)
                * (3 * np.log(2) - math.lgamma(3) - 4 * np.log(t) - 2 / t), 1e-4, 400.0)
    assert np.isclose(float(d.entropy()[0]), ent, atol=1e-3)
    assert d.has_rsample and d.rsample((5,)).shape == (5, 2)
    assert D.InverseGamma(2.0, 3.0).expand((4,)).concentration.shape == (4,)
    assert type(D.InverseGamma(2.0, 3.0).expand((4,))) is D.InverseGamma


def test_generalized_pareto():
    loc, scale = 0.5, 2.0
    for xi in (0.3, 0.0, -0.4):
        d = D.GeneralizedPareto(tg.tensor(loc, dtype=tg.float64), tg.tensor(scale, dtype=tg.float64),
                                tg.tensor(xi, dtype=tg.float64))
        x = np.array([0.6, 1.5, 3.0])
        z = (x - loc) / scale
        if xi == 0:
            logp, surv = -np.log(scale) - z, np.exp(-z)
        else:
            logp, surv = -np.log(scale) - (1 / xi + 1) * np.log1p(xi * z), (1 + xi * z) ** (-1 / xi)
        xt = tg.tensor(x, dtype=tg.float64)
        assert np.allclose(_np(d.log_prob(xt)), logp)
        assert np.allclose(_np(d.cdf(xt)), 1 - surv)
        assert np.allclose(_np(d.icdf(d.cdf(xt))), x)
        upper = loc - scale / xi if xi < 0 else np.inf
        assert float(d.support.upper_bound) == upper and float(d.support.lower_bound) == loc
        assert np.isclose(float(d.entropy()), np.log(scale) + xi + 1)
    d = D.GeneralizedPareto(0.0, 1.0, tg.tensor([0.2, 0.7]))
    assert np.allclose(_np(d.mean), [1.25, 1 / 0.3]) and np.isclose(float(d.variance[0]), 1 / (0.64 * 0.6))
    assert np.isnan(_np(d.variance)[1])
    assert d.rsample((3,)).shape == (3, 2)


def test_logistic_normal():
    loc = tg.tensor([0.2, -0.4, 1.0], dtype=tg.float64)
    scale = tg.tensor([0.5, 1.0, 2.0], dtype=tg.float64)
    d = D.LogisticNormal(loc, scale)
    assert d.event_shape == (4,) and d.batch_shape == ()
    y = tg.tensor([0.1, 0.2, 0.3, 0.4], dtype=tg.float64)
    # x = log(y_i / y_last) - log(K - i) offsets undone by StickBreakingTransform's inverse
    t = transforms.StickBreakingTransform()
    x = t.inv(y)
    expected = D.Normal(loc, scale).log_prob(x).sum() - t.log_abs_det_jacobian(x, y)
    assert np.isclose(float(d.log_prob(y)), float(expected))
    s = d.rsample((6,))
    assert s.shape == (6, 4) and bool(constraints.simplex.check(s).all())
    assert D.LogisticNormal(0.0, 1.0).event_shape == (2,)
    assert d.expand((3,)).batch_shape == (3,) and type(d.expand((3,))) is D.LogisticNormal


def test_wishart_log_prob_moments_and_entropy():
    rs = np.random.RandomState(5)
    a = rs.randn(3, 3)
    cov = a @ a.T + np.eye(3)
    nu, p = 5.5, 3
    w = D.Wishart(tg.tensor(nu, dtype=tg.float64), covariance_matrix=tg.tensor(cov))
    b = rs.randn(3, 3)
    x = b @ b.T + np.eye(3)
    mvlg = p * (p - 1) / 4 * math.log(math.pi) + sum(math.lgamma(nu / 2 - i / 2) for i in range(p))
    expected = ((nu - p - 1) / 2 * np.linalg.slogdet(x)[1] - np.trace(np.linalg.solve(cov, x)) / 2
                - nu * p / 2 * math.log(2) - nu / 2 * np.linalg.slogdet(cov)[1] - mvlg)
    assert np.isclose(float(w.log_prob(tg.tensor(x))), expected)
    assert np.allclose(_np(w.mean), nu * cov)
    assert np.allclose(_np(w.variance), nu * (cov ** 2 + np.outer(np.diag(cov), np.diag(cov))))
    assert np.allclose(_np(w.mode), (nu - p - 1) * cov)
    from tensorgan.distributions.exp_family import ExponentialFamily
    assert np.isclose(float(ExponentialFamily.entropy(w).detach()), float(w.entropy()))
    for kw in ({"precision_matrix": tg.tensor(np.linalg.inv(cov))}, {"scale_tril": tg.tensor(np.linalg.cholesky(cov))}):
        assert np.isclose(float(D.Wishart(nu, **kw).log_prob(tg.tensor(x))), expected)
    tg.manual_seed(0)
    s = w.rsample((3000,))
    assert s.shape == (3000, 3, 3) and bool(constraints.positive_definite.check(s).all())
    assert np.abs(_np(s.mean(0)) - nu * cov).max() < 0.1 * np.abs(nu * cov).max()
    with pytest.raises(tg.errors.ConfigError, match="greater than ndim - 1"):
        D.Wishart(1.5, covariance_matrix=tg.tensor(cov))
    with pytest.raises(tg.errors.ConfigError, match="Exactly one"):
        D.Wishart(4.0)
    e = D.Wishart(tg.tensor([4.0, 6.0]), covariance_matrix=tg.eye(2)).expand((3, 2))
    assert e.batch_shape == (3, 2) and e.sample().shape == (3, 2, 2, 2)


def test_wishart_rsample_is_differentiable():
    df = tg.tensor(6.0, dtype=tg.float64, requires_grad=True)
    L = tg.tensor(np.array([[1.0, 0.0], [0.3, 0.8]]), requires_grad=True)
    D.Wishart(df, scale_tril=L).rsample((4,)).sum().backward()
    assert df.grad is not None and L.grad is not None and np.isfinite(_np(L.grad)).all()


def test_lkj_cholesky():
    # dim 2: L = [[1, 0], [r, sqrt(1 - r^2)]], r has density prop. to (1 - r^2)^(eta - 1) on (-1, 1);
    # in L's coordinates log_prob = log p(r) (the Jacobian of L_21 = r is 1)
    eta = 2.5
    d = D.LKJCholesky(2, tg.tensor(eta, dtype=tg.float64))
    r = 0.3
    L = tg.tensor(np.array([[1.0, 0.0], [r, math.sqrt(1 - r * r)]]))
    # normaliser of (1 - r^2)^(eta - 1) on (-1, 1) is 2^(2 eta - 1) B(eta, eta)
    log_norm = (2 * eta - 1) * math.log(2) + 2 * math.lgamma(eta) - math.lgamma(2 * eta)
    lp = float(d.log_prob(L))
    grid = np.linspace(-0.999999, 0.999999, 200001)
    vals = [float(d.log_prob(tg.tensor(np.array([[1.0, 0.0], [g, math.sqrt(1 - g * g)]])))) for g in grid[::2000]]
    assert np.isclose(_quad(lambda t: np.interp(t, grid[::2000], np.exp(vals)), -0.999999, 0.999999), 1.0, atol=2e-2)
    assert np.isclose(lp, (eta - 1) * math.log(1 - r * r) - log_norm)
    tg.manual_seed(1)
    s = D.LKJCholesky(4, tg.tensor([1.0, 3.0])).sample((2000,))
    assert s.shape == (2000, 2, 4, 4) and bool(constraints.corr_cholesky.check(s).all())
    c = _np(s @ s.transpose(-1, -2))
    # the marginal of an off-diagonal correlation is Beta(a, a) on (-1, 1), a = eta - 1 + D / 2
    for i, eta_i in enumerate((1.0, 3.0)):
        a = eta_i - 1 + 2
        assert abs(c[:, i, 0, 1].var() - 1 / (2 * a + 1)) < 0.02
    with pytest.raises(tg.errors.ConfigError, match="greater than or equal to 2"):
        D.LKJCholesky(1)
    assert D.LKJCholesky(3, 2.0).expand((5,)).sample().shape == (5, 3, 3)


# ---------------------------------------------------------------- linalg.ldl_*

def test_ldl_factor_two_by_two_pivot_by_hand():
    LD, piv = tg.linalg.ldl_factor(tg.tensor(np.array([[0.0, 1.0], [1.0, 0.0]])))
    assert _np(piv).tolist() == [-2, -2] and piv.dtype == tg.int32
    assert _np(LD).tolist() == [[0.0, 0.0], [1.0, 0.0]]
    # 1 x 1 pivots, no interchange: A = L D L^T
    a = np.array([[4.0, 2.0], [2.0, 3.0]])
    LD, piv = tg.linalg.ldl_factor(tg.tensor(a))
    assert _np(piv).tolist() == [1, 2] and np.allclose(_np(LD), [[4.0, 0.0], [0.5, 2.0]])


def _unpack_ldl(ld, piv):
    """A rebuilt from LAPACK's lower Bunch-Kaufman factors (P_k L_k applied in order)."""
    n = ld.shape[0]
    d = np.zeros((n, n))
    m = np.eye(n)                    # M = P1 L1 P2 L2 ... as a dense matrix
    k = 0
    while k < n:
        step = 1 if piv[k] > 0 else 2
        kp = abs(piv[k]) - 1
        p = np.eye(n)
        p[[k + step - 1, kp]] = p[[kp, k + step - 1]]
        l = np.eye(n)
        l[k + step:, k:k + step] = ld[k + step:, k:k + step]
        d[k:k + step, k:k + step] = ld[k:k + step, k:k + step]
        if step == 2:
            d[k, k + 1] = d[k + 1, k]
        m = m @ p @ l
        k += step
    return m @ d @ m.T


def test_ldl_factor_rebuilds_a_and_solves():
    rs = np.random.RandomState(7)
    saw_block = False
    for trial in range(40):
        n = rs.randint(2, 7)
        a = rs.randn(n, n) * (rs.rand(n, n) < 0.6)
        np.fill_diagonal(a, 0.0 if trial % 2 else rs.randn(n))
        a = a + a.T
        LD, piv, info = tg.linalg.ldl_factor_ex(tg.tensor(a))
        if int(info) != 0:
            continue
        saw_block |= bool((_np(piv) < 0).any())
        assert np.allclose(_unpack_ldl(_np(LD), _np(piv)), a)
        b = rs.randn(n, 2)
        assert np.allclose(_np(tg.linalg.ldl_solve(LD, piv, tg.tensor(b))), np.linalg.solve(a, b))
    assert saw_block


def test_ldl_batched_singular_and_errors():
    a = np.random.RandomState(3).randn(3, 4, 4)
    a = a + np.swapaxes(a, -1, -2)
    LD, piv = tg.linalg.ldl_factor(tg.tensor(a, dtype=tg.float32), hermitian=True)
    assert LD.shape == (3, 4, 4) and piv.shape == (3, 4) and LD.dtype == tg.float32
    b = np.random.RandomState(4).randn(4, 1).astype(np.float32)
    x = tg.linalg.ldl_solve(LD, piv, tg.tensor(b))
    assert x.shape == (3, 4, 1) and np.allclose(_np(x), np.linalg.solve(a, b), atol=1e-4)
    LD, piv, info = tg.linalg.ldl_factor_ex(tg.zeros(2, 3, 3, dtype=tg.float64))
    assert _np(info).tolist() == [1, 1]
    with pytest.raises(tg.errors.LinAlgError, match="singular"):
        tg.linalg.ldl_factor(tg.zeros(3, 3))
    with pytest.raises(ShapeError, match="square"):
        tg.linalg.ldl_factor(tg.zeros(2, 3))
    with pytest.raises(tg.errors.DTypeError):
        tg.linalg.ldl_factor(tg.ones(3, 3, dtype=tg.int64))
    with pytest.raises(ShapeError):
        tg.linalg.ldl_solve(LD[0], piv[0], tg.zeros(2, 1, dtype=tg.float64))
    with pytest.raises(tg.errors.AutogradError, match="not implemented"):
        tg.linalg.ldl_factor(tg.eye(2, requires_grad=True))


# ---------------------------------------------------------------- autograd

def test_register_multi_grad_hook_all_and_any():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0], requires_grad=True)
    c = tg.tensor([5.0], requires_grad=True)
    calls = []
    h = tg.autograd.graph.register_multi_grad_hook(
        (a, b, c), lambda gs: calls.append(("all", [None if g is None else _np(g).tolist() for g in gs])))
    h2 = tg.autograd.graph.register_multi_grad_hook((a, b), lambda g: calls.append(("any", _np(g).tolist())),
                                                    mode="any")
    ((a * 2).sum() + (b ** 2).sum()).backward()
    assert ("all", [[2.0, 2.0], [6.0, 8.0], None]) in calls and sum(k == "any" for k, _ in calls) == 1
    calls.clear()
    (a * 3).sum().backward()
    assert sorted(calls) == [("all", [[3.0, 3.0], None, None]), ("any", [3.0, 3.0])]
    calls.clear()
    h.remove()
    h2.remove()
    (a * 3).sum().backward()
    assert calls == []
    with pytest.raises(tg.errors.ConfigError, match="mode"):
        tg.autograd.graph.register_multi_grad_hook((a,), print, mode="some")
    h = tg.autograd.graph.register_multi_grad_hook((a,), lambda gs: gs[0] * 2)
    with pytest.raises(tg.errors.AutogradError, match="must return None"):
        (a * 3).sum().backward()
    h.remove()


def test_gradient_edges_as_grad_inputs_and_outputs():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    loss = y.exp().sum()
    e = tg.autograd.graph.get_gradient_edge(y)
    assert isinstance(e, tg.autograd.graph.GradientEdge) and e.node is y.grad_fn and e.output_nr == 0
    assert type(e).__name__ == "GradientEdge"
    (g,) = tg.autograd.grad(loss, e, retain_graph=True)
    assert np.allclose(_np(g), np.exp([2.0, 4.0, 6.0]))
    gx, gy = tg.autograd.grad(loss, (tg.autograd.graph.get_gradient_edge(x), y))
    assert np.allclose(_np(gx), 2 * np.exp([2.0, 4.0, 6.0])) and np.allclose(_np(gy), _np(g))
    assert type(tg.autograd.graph.get_gradient_edge(x).node).__name__ == "AccumulateGrad"
    yy = x * 3
    (gx,) = tg.autograd.grad(tg.autograd.graph.get_gradient_edge(yy), x, grad_outputs=tg.ones(3))
    assert _np(gx).tolist() == [3.0, 3.0, 3.0]
    with pytest.raises(tg.errors.AutogradError, match="does not require gradients"):
        tg.autograd.graph.get_gradient_edge(tg.ones(2))


def test_allow_mutation_on_saved_tensors_says_why_and_multithreading_flag():
    with pytest.raises(tg.errors.AutogradNotSupportedError, match="clone the tensor"):
        with tg.autograd.graph.allow_mutation_on_saved_tensors():
            pass
    assert tg.autograd.is_multithreading_enabled()
    with tg.autograd.set_multithreading_enabled(False):
        assert not tg.autograd.is_multithreading_enabled()
    assert tg.autograd.is_multithreading_enabled()
    assert tg.autograd.variable.Variable is tg.autograd.Variable


# ---------------------------------------------------------------- func

def test_linearize_is_a_reusable_jvp():
    x = tg.tensor(np.array([0.5, 1.0, 2.0]))
    W = tg.tensor(np.arange(6.0).reshape(2, 3) / 3)
    calls = []

    def f(x, W):
        calls.append(1)
        return (W @ x).sin(), x * x
    out, jvp_fn = tg.func.linearize(f, x, W)
    wn, xn = _np(W), _np(x)
    assert np.allclose(_np(out[0]), np.sin(wn @ xn)) and not out[0].requires_grad
    for tx, tw in ((np.ones(3), np.ones((2, 3))), (np.array([1.0, 0, 0]), np.zeros((2, 3)))):
        a, b = jvp_fn(tg.tensor(tx), tg.tensor(tw))
        assert np.allclose(_np(a), np.cos(wn @ xn) * (wn @ tx + tw @ xn))
        assert np.allclose(_np(b), 2 * xn * tx)
    assert len(calls) == 1
    with pytest.raises(ShapeError):
        jvp_fn(tg.ones(2, dtype=tg.float64), tg.ones(2, 3, dtype=tg.float64))


def test_functionalize_and_replace_all_batch_norm_modules():
    g = tg.func.functionalize(lambda a: a.add_(1))
    a = tg.zeros(2)
    assert _np(g(a)).tolist() == [1.0, 1.0] and _np(a).tolist() == [1.0, 1.0]
    with pytest.raises(tg.errors.ConfigError):
        tg.func.functionalize(lambda a: a, remove="views")
    m = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.BatchNorm1d(4), tg.nn.Sequential(tg.nn.BatchNorm1d(4)))
    assert tg.func.replace_all_batch_norm_modules_(m) is m
    for bn in (m[1], m[2][0]):
        assert bn.running_mean is None and bn.running_var is None and bn.num_batches_tracked is None
        assert not bn.track_running_stats
    m.eval()
    x = tg.randn(5, 3)
    h = _np(m[0](x))
    y = (h - h.mean(0)) / np.sqrt(h.var(0) + 1e-5)          # batch statistics even in eval
    assert np.allclose(_np(m[1](m[0](x))), y, atol=1e-5)
    assert "running_mean" not in m.state_dict() and "1.running_mean" not in m.state_dict()


# ---------------------------------------------------------------- utils.checkpoint

def test_checkpoint_helpers():
    import functools
    import warnings
    C = tg.utils.checkpoint
    assert issubclass(C.CheckpointError, RuntimeError)
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    d = C.detach_variable((x, tg.ones(1), 3))
    assert d[0] is not x and d[0].requires_grad and d[0].grad_fn is None and d[2] == 3
    with pytest.raises(tg.errors.InputTypeError, match="tuple"):
        C.detach_variable([x])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        C.check_backward_validity([tg.ones(1), 1])
        C.check_backward_validity([x])
    assert [str(m.message) for m in w] == ["None of the inputs have requires_grad=True. Gradients will be None"]
    assert C.get_device_states(x, [tg.ones(2)]) == ([], [])
    C.set_device_states([], [])
    with C.set_checkpoint_early_stop(False), C.set_checkpoint_debug_enabled(True):
        pass
    assert [p.name for p in C.CheckpointPolicy][:4] == ["MUST_SAVE", "PREFER_SAVE", "MUST_RECOMPUTE", "PREFER_RECOMPUTE"]
    policy = functools.partial(C.create_selective_checkpoint_contexts,
                               lambda ctx, op, *a, **k: C.CheckpointPolicy.PREFER_RECOMPUTE)
    W = tg.tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    a = tg.tensor(np.array([1.0, 2.0]))
    C.checkpoint(lambda v: (v @ W).sin().sum(), a, use_reentrant=False, context_fn=policy).backward()
    assert np.allclose(_np(W.grad), np.outer([1.0, 2.0], np.cos(np.array([1.0, 2.0]) @ np.arange(4.0).reshape(2, 2))))
    with pytest.raises(tg.errors.InputTypeError):
        C.create_selective_checkpoint_contexts(3)


def test_checkpoint_recompute_mismatch_is_a_checkpoint_error():
    calls = []

    def block(v):
        calls.append(1)
        return v * 2 if len(calls) == 1 else v[:1] * 2
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    out = tg.utils.checkpoint.checkpoint(block, x, use_reentrant=False)
    with pytest.raises(tg.utils.checkpoint.CheckpointError, match="recomputation"):
        out.sum().backward()


# ---------------------------------------------------------------- testing / optim / parametrize

def test_assert_allclose_deprecated_alias():
    with pytest.warns(FutureWarning, match="assert_allclose"):
        tg.testing.assert_allclose(tg.tensor([1.0, float("nan")]), [1.00005, float("nan")])
    with pytest.warns(FutureWarning):
        tg.testing.assert_allclose(tg.tensor([1.0]), tg.tensor([1.00002], dtype=tg.float64))   # dtype not checked
    with pytest.warns(FutureWarning), pytest.raises(AssertionError):
        tg.testing.assert_allclose(tg.tensor([1.0]), [1.0002])                                  # float32: rtol 1e-4
    with pytest.warns(FutureWarning), pytest.raises(AssertionError):
        tg.testing.assert_allclose(tg.tensor([1, 2]), [1, 3])


def test_swap_in_optimizer_params_and_state():
    tg.manual_seed(0)
    m, m2 = tg.nn.Linear(3, 2), tg.nn.Linear(3, 2)
    opt = tg.optim.SGD(m.parameters(), lr=0.5, momentum=0.9)
    x = tg.randn(4, 3)
    with pytest.raises(tg.errors.ConfigError, match="initialized"):
        with tg.optim.swap_in_optimizer_params_and_state(opt, dict(m2.named_parameters()), opt.state_dict()):
            pass
    m(x).pow(2).sum().backward()
    opt.step()
    opt.zero_grad()
    w_before, buf_before = _np(m.weight).copy(), _np(opt.state[m.weight]["momentum_buffer"]).copy()
    swap = opt.state_dict()
    swap = {"state": {k: {kk: vv.clone() for kk, vv in v.items()} for k, v in swap["state"].items()},
            "param_groups": [dict(g, lr=0.1) for g in swap["param_groups"]]}
    params = dict(m2.named_parameters())
    m2(x).pow(2).sum().backward()
    w2, g2, buf = _np(m2.weight).copy(), _np(m2.weight.grad).copy(), _np(swap["state"][0]["momentum_buffer"]).copy()
    with tg.optim.swap_in_optimizer_params_and_state(opt, params, swap):
        assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["params"][0] is m2.weight
        opt.step()
    new_buf = 0.9 * buf + g2
    assert np.allclose(_np(m2.weight), w2 - 0.1 * new_buf)
    assert np.allclose(_np(swap["state"][0]["momentum_buffer"]), new_buf)      # in place, as torch
    assert np.allclose(_np(m.weight), w_before) and opt.param_groups[0]["lr"] == 0.5
    assert np.allclose(_np(opt.state[m.weight]["momentum_buffer"]), buf_before)
    assert opt.param_groups[0]["params"][0] is m.weight


def test_transfer_parametrizations_and_params():
    P = tg.nn.utils.parametrize

    class Sym(tg.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

    class Split(tg.nn.Module):
        def forward(self, a, b):
            return a + b

        def right_inverse(self, X):
            return X * 0.5, X * 0.5
    a, b = tg.nn.Linear(3, 3), tg.nn.Linear(3, 3)
    a.load_state_dict({"weight": tg.tensor(np.arange(9.0).reshape(3, 3), dtype=tg.float32), "bias": tg.zeros(3)})
    P.register_parametrization(a, "weight", Sym())
    P.register_parametrization(a, "bias", Split())
    assert P.transfer_parametrizations_and_params(a, b) is b
    assert np.allclose(_np(b.weight), [[0, 1, 2], [1, 4, 5], [2, 5, 8]])
    assert b.parametrizations.weight.original is a.parametrizations.weight.original
    assert b.parametrizations.bias.original1 is a.parametrizations.bias.original1
    c = tg.nn.Module()
    P.transfer_parametrizations_and_params(a, c, "weight")
    assert np.allclose(_np(c.weight), _np(a.weight)) and not hasattr(c, "bias")
    assert P.transfer_parametrizations_and_params(tg.nn.Linear(2, 2), c) is c
