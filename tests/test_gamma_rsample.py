"""Reparameterised Gamma / Chi2 / Beta / Dirichlet / StudentT samples (torch's implicit gradients):
the kernels against finite differences of the inverse cdf at a fixed cdf value, and rsample's
gradients of E[f] against the closed-form derivatives of the means."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.distributions as D
from tensorgan.distributions.implicit_kernels import dirichlet_grad, standard_gamma_grad


def _gammainc(a, x, upper):
    a, x = tg.tensor(np.asarray(a, float)), tg.tensor(np.asarray(x, float))
    return (tg.special.gammaincc(a, x) if upper else tg.special.gammainc(a, x)).numpy()


def _gamma_quantile(a, target, upper, x0):
    """x with P(a, x) = target (Q when ``upper``): Newton on log x from x0, float64."""
    t = math.log(x0)
    for _ in range(60):
        x = math.exp(t)
        f = float(_gammainc(a, x, upper)) - target
        dens = math.exp(a * t - x - math.lgamma(a))        # dP/dlog x
        step = f / (-dens if upper else dens)
        t -= max(min(step, 1.0), -1.0)
        if abs(step) < 1e-15:
            break
    return math.exp(t)


def _fd_gamma(a, x):
    """dx/da at fixed cdf value by central differences of log of the inverse cdf (smoother than
    x itself where x = (u Gamma(a + 1))^(1/a) is tiny)."""
    upper = float(_gammainc(a, x, False)) > 0.5
    target = float(_gammainc(a, x, upper))
    h = 1e-5 * a
    hi, lo = _gamma_quantile(a + h, target, upper, x), _gamma_quantile(a - h, target, upper, x)
    return x * (math.log(hi) - math.log(lo)) / (2 * h)


GAMMA_GRID = [(1e-3, 1e-250), (1e-3, 1e-5), (1e-3, 0.5), (1e-3, 3.0), (0.05, 1e-12), (0.3, 0.01),
              (0.3, 4.0), (1.0, 0.79), (1.0, 2.5), (2.5, 0.05), (2.5, 14.0), (7.9, 7.0), (8.1, 9.5),
              (40.0, 25.0), (40.0, 41.5), (40.0, 70.0), (1e4, 9700.0), (1e4, 1e4 + 0.5), (1e4, 10400.0)]


@pytest.mark.parametrize("a,x", GAMMA_GRID)
def test_standard_gamma_grad_is_the_inverse_cdf_derivative(a, x):
    got = float(standard_gamma_grad(a, x))
    want = _fd_gamma(a, x)
    assert got > 0 and math.isclose(got, want, rel_tol=1e-6), (a, x, got, want)


def test_standard_gamma_grad_small_x_limit():
    # x -> 0: P(a, x) ~ x^a / Gamma(a + 1), so x = (u Gamma(a + 1))^(1/a) and
    # dx/da = -x (log x - psi(a + 1)) / a (relative corrections O(x)); psi(2) = 1 - Euler's gamma.
    x = 1e-9
    want = -x * (math.log(x) - (1 - 0.5772156649015329))
    assert math.isclose(float(standard_gamma_grad(1.0, x)), want, rel_tol=1e-8)
    assert float(standard_gamma_grad(2.0, 0.0)) == 0.0


def _betainc(a, b, x):
    """I_x(a, b): the prefactor times the continued fraction (Lentz), float64."""
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _betainc(b, a, 1.0 - x)
    lead = math.exp(a * math.log(x) + b * math.log1p(-x) + math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)) / a
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 100000):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= c * d
        if abs(c * d - 1.0) < 1e-16:
            break
    return lead * h


def _beta_quantile(a, b, target):
    """x with I_x(a, b) = target, by bisection to rounding."""
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _betainc(a, b, mid) < target:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-17:
            break
    return 0.5 * (lo + hi)


@pytest.mark.parametrize("a,b,x", [(0.5, 2.0, 0.01), (0.5, 2.0, 0.6), (2.0, 3.0, 0.1), (2.0, 3.0, 0.5),
                                   (2.0, 3.0, 0.95), (30.0, 10.0, 0.7), (0.2, 0.3, 0.999), (5.0, 0.5, 0.99)])
def test_dirichlet_grad_is_the_beta_inverse_cdf_derivative(a, b, x):
    """torch's _dirichlet_grad: -(dI_x(a, b)/da at fixed b) / pdf / (1 - x)."""
    target = _betainc(a, b, x)
    h = 1e-4 * a
    dxda = (_beta_quantile(a + h, b, target) - _beta_quantile(a - h, b, target)) / (2 * h)
    got = float(dirichlet_grad(x, a, a + b))
    assert math.isclose(got * (1 - x), dxda, rel_tol=1e-6), (got * (1 - x), dxda)


def test_dirichlet_grad_closed_form_beta_a_1():
    # Beta(a, 1): I_x = x^a, so -(dI/da) / pdf = -x log x / a.
    for a in (0.01, 0.4, 3.0, 50.0):
        for x in (1e-30, 0.2, 0.5, 0.93):
            want = -x * math.log(x) / a / (1 - x)
            assert math.isclose(float(dirichlet_grad(x, a, a + 1.0)), want, rel_tol=1e-12)


def _per_sample_grad(make, param, n, f):
    """Mean and standard error of d f(sample) / d param, one sample per row of ``param``."""
    p = tg.tensor(np.full(n, param), requires_grad=True)
    x = make(p)
    f(x).sum().backward()
    g = p.grad.numpy()
    return g.mean(), g.std() / math.sqrt(n)


def _check(mean, se, want):
    assert abs(mean - want) < 5 * se + 1e-12, (mean, se, want)


@pytest.mark.parametrize("alpha", [0.05, 0.7, 3.0, 60.0])
def test_gamma_rsample_gradient_of_moments(alpha):
    tg.manual_seed(0)
    n = 40000
    _check(*_per_sample_grad(lambda a: D.Gamma(a, 1.0).rsample(), alpha, n, lambda x: x), 1.0)
    _check(*_per_sample_grad(lambda a: D.Gamma(a, 1.0).rsample(), alpha, n, lambda x: x ** 2), 2 * alpha + 1)
    # d/dr E[x] = -alpha / r^2 at r = 2
    _check(*_per_sample_grad(lambda r: D.Gamma(alpha, r).rsample(), 2.0, n, lambda x: x), -alpha / 4)
    _check(*_per_sample_grad(lambda a: D.Gamma(a, 2.0).rsample(), alpha, n, lambda x: x.log()),
           float(tg.tensor(alpha).polygamma(1)))             # E[log x] = psi(a) - log r


def test_chi2_and_student_t_rsample_gradients():
    tg.manual_seed(1)
    n = 40000
    _check(*_per_sample_grad(lambda df: D.Chi2(df).rsample(), 3.0, n, lambda x: x), 1.0)
    # E[x^2] = scale^2 df / (df - 2): d/ddf = -2 scale^2 / (df - 2)^2; d/dscale = 2 scale df / (df - 2)
    df, scale = 12.0, 1.5
    _check(*_per_sample_grad(lambda d: D.StudentT(d, 0.3, scale).rsample(), df, n,
                             lambda x: (x - 0.3) ** 2), -2 * scale ** 2 / (df - 2) ** 2)
    _check(*_per_sample_grad(lambda s: D.StudentT(df, 0.3, s).rsample(), scale, n,
                             lambda x: (x - 0.3) ** 2), 2 * scale * df / (df - 2))


@pytest.mark.parametrize("a,b", [(0.3, 0.6), (2.0, 5.0), (40.0, 15.0)])
def test_beta_rsample_gradient_of_mean(a, b):
    tg.manual_seed(2)
    n = 40000
    _check(*_per_sample_grad(lambda c: D.Beta(c, b).rsample(), a, n, lambda x: x), b / (a + b) ** 2)
    _check(*_per_sample_grad(lambda c: D.Beta(a, c).rsample(), b, n, lambda x: x), -a / (a + b) ** 2)


def test_dirichlet_rsample_gradient_of_mean():
    tg.manual_seed(3)
    n, c = 40000, np.array([0.4, 1.5, 3.0])
    conc = tg.tensor(np.tile(c, (n, 1)), requires_grad=True)
    x = D.Dirichlet(conc).rsample()
    x[:, 0].sum().backward()                      # E[x_0] = c_0 / c_sum
    g = conc.grad.numpy()
    total = c.sum()
    want = -c[0] / total ** 2 + np.array([1 / total, 0, 0])
    assert np.all(np.abs(g.mean(0) - want) < 5 * g.std(0) / math.sqrt(n)), (g.mean(0), want)
    # torch's backward: sum_i x_i-weighted gradient of a constant sum(x) = 1 is exactly zero
    conc.grad = None
    D.Dirichlet(conc).rsample().sum().backward()
    assert np.abs(conc.grad.numpy()).max() < 1e-12


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_rsample_is_sample_with_gradients(dtype):
    a = tg.tensor([0.4, 2.0, 9.0], dtype=dtype, requires_grad=True)
    b = tg.tensor([1.5, 0.5, 3.0], dtype=dtype, requires_grad=True)
    for d in (D.Gamma(a, b), D.Chi2(a), D.Beta(a, b), D.StudentT(a, 0.0, b), D.Dirichlet(a)):
        assert d.has_rsample
        tg.manual_seed(7)
        s = d.sample((5,))
        tg.manual_seed(7)
        r = d.rsample((5,))
        assert not s.requires_grad and r.requires_grad and r.dtype == dtype
        np.testing.assert_array_equal(s.numpy(), r.detach().numpy())
        a.grad = b.grad = None
        r.sum().backward()
        assert a.grad.dtype == dtype and np.isfinite(a.grad.numpy()).all()


def test_gamma_rsample_stays_positive_and_rate_gradient_exact():
    tg.manual_seed(4)
    a = tg.tensor([1e-3, 1e-3], requires_grad=True)              # float32 draws underflow
    r = tg.tensor([1.0, 1e30], requires_grad=True)
    x = D.Gamma(a, r).rsample((50,))
    assert (x.detach().numpy() > 0).all()
    x.sum().backward()
    assert np.isfinite(a.grad.numpy()).all()
    rate = tg.tensor([0.5, 4.0], dtype=tg.float64, requires_grad=True)
    y = D.Gamma(tg.tensor([2.0, 3.0], dtype=tg.float64), rate).rsample((7,))
    y.sum().backward()
    np.testing.assert_allclose(rate.grad.numpy(), -(y.detach().numpy() / rate.detach().numpy()).sum(0), rtol=1e-14)


def test_beta_is_the_first_coordinate_of_dirichlet_and_student_t_draws_normal_first():
    """torch's constructions, so the same seed gives the same values: Beta(a, b) is
    Dirichlet((a, b))[..., 0]; StudentT draws its normal, then its Chi2."""
    a = tg.tensor([0.5, 3.0], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([2.0, 0.7], dtype=tg.float64, requires_grad=True)
    tg.manual_seed(11)
    x = D.Beta(a, b).rsample((4,))
    tg.manual_seed(11)
    y = D.Dirichlet(tg.stack([a, b], -1)).rsample((4,))[..., 0]
    np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())
    ga = tg.autograd.grad(x.sum(), [a, b])
    gb = tg.autograd.grad(y.sum(), [a, b])
    for u, v in zip(ga, gb):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-14)
    df = tg.tensor([3.0, 8.0], dtype=tg.float64)
    tg.manual_seed(12)
    t = D.StudentT(df, 1.0, 2.0).sample((6,)).numpy()
    tg.manual_seed(12)
    z = tg.randn(6, 2, dtype=tg.float64).numpy()
    chi2 = D.Chi2(df).sample((6,)).numpy()
    np.testing.assert_allclose(t, 1.0 + 2.0 * z / np.sqrt(chi2 / df.numpy()), rtol=1e-14)


def test_standard_gamma_grad_huge_alpha_is_continuous_across_the_saddle_point_branch():
    # from alpha = 1e7 the central saddle-point polynomial replaces the series / fraction
    a_hi = 1e7
    a_lo = a_hi * (1 - 1e-12)
    for z in (-5.0, -1.0, 0.0, 0.3, 4.0):
        x = a_hi + z * math.sqrt(a_hi)
        hi, lo = float(standard_gamma_grad(a_hi, x)), float(standard_gamma_grad(a_lo, x))
        assert math.isclose(hi, lo, rel_tol=1e-9), (z, hi, lo)
        assert abs(hi - (1 + z / (2 * math.sqrt(a_hi)))) < 1e-6      # x ~ a + z sqrt(a)
