"""tensorgan.distributions: fixes found by a differential fuzz against torch.distributions
(session 29). Expected values come from closed forms, finite differences and invariants."""
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import distributions as D

erf = np.vectorize(math.erf)


def t64(a, grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# --- lazy probs / logits first read inside sample's no_grad ------------------------------------

@pytest.mark.parametrize("make", [
    lambda p: D.RelaxedOneHotCategorical(t64(0.5), probs=p),
    lambda p: D.RelaxedBernoulli(t64(0.5), probs=p),
    lambda p: D.Independent(D.Bernoulli(probs=p), 1),
])
def test_log_prob_keeps_gradient_after_sample(make):
    """logits computed lazily during sample() (under no_grad) must still depend on probs."""
    probs = t64([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], grad=True)
    dist = make(probs)
    value = dist.sample((2, 1))
    out = dist.log_prob(value)
    assert out.requires_grad
    (grad,) = tg.autograd.grad(out.sum(), [probs])
    assert np.isfinite(grad.numpy()).all() and np.abs(grad.numpy()).sum() > 0


def test_lazy_property_computed_under_no_grad_keeps_graph():
    logits = t64([0.3, -1.2], grad=True)
    dist = D.Bernoulli(logits=logits)
    with tg.no_grad():
        dist.probs                                    # first read: cached here
    assert dist.probs.requires_grad
    (grad,) = tg.autograd.grad(dist.probs.sum(), [logits])
    s = 1 / (1 + np.exp(-np.array([0.3, -1.2])))
    np.testing.assert_allclose(grad.numpy(), s * (1 - s), rtol=1e-12)


# --- Gamma / Chi2 / InverseGamma cdf -----------------------------------------------------------

def test_gamma_cdf_closed_forms():
    x = np.array([0.0, 0.3, 1.0, 2.5, 7.0])
    rate = 1.7
    # concentration 1: Exponential(rate); concentration 1/2: erf(sqrt(rate x)); 3: Erlang
    got1 = D.Gamma(t64(1.0), t64(rate)).cdf(t64(x)).numpy()
    np.testing.assert_allclose(got1, 1 - np.exp(-rate * x), rtol=1e-12, atol=1e-15)
    got_half = D.Gamma(t64(0.5), t64(rate)).cdf(t64(x)).numpy()
    np.testing.assert_allclose(got_half, erf(np.sqrt(rate * x)), rtol=1e-12, atol=1e-15)
    y = rate * x
    erlang = 1 - np.exp(-y) * (1 + y + y ** 2 / 2)
    np.testing.assert_allclose(D.Gamma(t64(3.0), t64(rate)).cdf(t64(x)).numpy(), erlang, rtol=1e-12, atol=1e-15)


def test_chi2_and_inverse_gamma_cdf():
    x = np.array([0.2, 1.0, 4.0])
    np.testing.assert_allclose(D.Chi2(t64(2.0)).cdf(t64(x)).numpy(), 1 - np.exp(-x / 2), rtol=1e-12)
    # InverseGamma(1, rate): P(1 / X <= x) = P(X >= 1 / x) = exp(-rate / x)
    np.testing.assert_allclose(D.InverseGamma(t64(1.0), t64(0.8)).cdf(t64(x)).numpy(),
                               np.exp(-0.8 / x), rtol=1e-12)


def test_gamma_cdf_gradients_and_validation():
    rate, x = t64(1.3, grad=True), t64([0.4, 2.0], grad=True)
    dist = D.Gamma(t64(2.5), rate)
    grad_rate, grad_x = tg.autograd.grad(dist.cdf(x).sum(), [rate, x])
    density = dist.log_prob(x).exp().detach().numpy()
    np.testing.assert_allclose(grad_x.numpy(), density, rtol=1e-10)       # d cdf / dx is the pdf
    h, xs = 1e-6, np.array([0.4, 2.0])
    fd = (D.Gamma(t64(2.5), t64(1.3 + h)).cdf(t64(xs)).numpy()
          - D.Gamma(t64(2.5), t64(1.3 - h)).cdf(t64(xs)).numpy()).sum() / (2 * h)
    np.testing.assert_allclose(grad_rate.item(), fd, rtol=1e-7)
    with pytest.raises(ValueError, match="support"):
        dist.cdf(t64([-1.0]))


# --- Geometric log_prob gradient at probs == 1 -------------------------------------------------

@pytest.mark.parametrize("logit", [40.0, 800.0])
def test_geometric_log_prob_gradient_finite_at_certain_success(logit):
    """P(0) = 1 when sigmoid(logits) rounds to 1: log_prob 0 and gradient 0 (not NaN)."""
    logits = t64([logit, 0.5], grad=True)
    out = D.Geometric(logits=logits).log_prob(t64([0.0, 2.0]))
    (grad,) = tg.autograd.grad(out.sum(), [logits])
    p = 1 / (1 + math.exp(-0.5))
    np.testing.assert_allclose(out.detach().numpy(), [0.0, 2 * math.log1p(-p) + math.log(p)], rtol=1e-12)
    # d/dlogit [2 log(1 - p) + log p] = -2 p + (1 - p)
    np.testing.assert_allclose(grad.numpy(), [0.0, 1 - 3 * p], rtol=1e-12, atol=1e-300)


def test_geometric_probs_one_gradient():
    probs = t64([1.0, 0.25], grad=True)
    out = D.Geometric(probs=probs).log_prob(t64([0.0, 3.0]))
    (grad,) = tg.autograd.grad(out.sum(), [probs])
    # d/dp [3 log(1 - p) + log p] = -3 / (1 - p) + 1 / p; at p = 1, value 0: d log p / dp = 1
    np.testing.assert_allclose(grad.numpy(), [1.0, -3 / 0.75 + 4], rtol=1e-12)


# --- torch's ValueError for a non-Tensor value / parameter -------------------------------------

def test_log_prob_of_a_float_is_a_value_error():
    with pytest.raises(ValueError, match="value argument to log_prob must be a Tensor, got float"):
        D.Normal(0.0, 1.0).log_prob(0.5)
    with pytest.raises(TypeError):                   # still the InputTypeError it was
        D.Normal(0.0, 1.0).log_prob(0.5)


def test_none_parameter_is_a_value_error():
    with pytest.raises(ValueError, match="got NoneType"):
        D.Normal(None, 1.0)


# --- ContinuousBernoulli from large logits; Geometric entropy at tiny p; gammainc at huge x ----

@pytest.mark.parametrize("logit", [-1000.0, -40.0, 40.0, 1000.0])
def test_continuous_bernoulli_large_logits_are_finite(logit):
    """probs from logits are clamped to [eps, 1 - eps] (as torch), so log C(p) stays finite."""
    d = D.ContinuousBernoulli(logits=t64([logit], grad=True))
    eps = np.finfo(np.float64).eps
    p = eps if logit < 0 else 1 - eps
    np.testing.assert_allclose(d.probs.detach().numpy(), [p], rtol=1e-12)
    out = d.log_prob(t64([0.0, 1.0]))
    (grad,) = tg.autograd.grad(out.sum(), [d.logits])
    assert np.isfinite(out.detach().numpy()).all() and np.isfinite(grad.numpy()).all()
    assert np.isfinite(d.entropy().detach().numpy()).all()
    # log C(p) = log(2 atanh(1 - 2p) / (1 - 2p)); log p(x=0) = log C + log(1 - sigmoid(logit))
    log_c = math.log(2 * math.atanh(1 - 2 * p) / (1 - 2 * p))
    want0 = log_c - max(logit, 0) - math.log1p(math.exp(-abs(logit)))
    np.testing.assert_allclose(out.detach().numpy()[0], want0, rtol=1e-10)


@pytest.mark.parametrize("p", [1e-300, 1e-12, 0.3, 1 - 1e-12, 1.0])
def test_geometric_entropy_closed_form(p):
    want = 0.0 if p == 1 else -math.log(p) - (1 - p) * math.log1p(-p) / p
    got = D.Geometric(probs=t64([p])).entropy().item()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


def test_gammainc_at_huge_x_and_inverse_gamma_cdf_near_zero():
    x = t64([1e300, 1e308, 1e5])
    a = t64([1.0, 3.0, 2.0])
    np.testing.assert_array_equal(tg.special.gammainc(a, x).numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(tg.special.gammaincc(a, x).numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(D.InverseGamma(t64(2.0), t64(1.0)).cdf(t64([1e-300])).numpy(), [0.0])
