"""torch.distributions.kl: ``kl_divergence(p, q)`` dispatched on the two types (the most specific
registered pair), ``register_kl`` to add pairs, and the closed forms of the common pairs."""
from __future__ import annotations

import math
import warnings
from functools import total_ordering
from typing import Any, Callable

import numpy as np

from .. import functional as F
from ..errors import ConfigError, ShapeError
from ..factory import full_like, where
from ..tensor import Tensor, _caller_level
from .continuous import Cauchy, ContinuousBernoulli, Dirichlet, HalfNormal, Pareto
from .counts import Binomial, Geometric, Poisson
from .discrete import Bernoulli, Categorical, OneHotCategorical
from .distribution import Distribution, sum_rightmost
from .exp_family import ExponentialFamily
from .independent import Independent
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .multivariate_normal import MultivariateNormal, _half_log_det, _mahalanobis, solve_tril
from .transformed_distribution import TransformedDistribution
from .univariate import Beta, Exponential, Gamma, Gumbel, Laplace, Normal, Uniform

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY: dict = {}
_KL_MEMOIZE: dict = {}


def register_kl(type_p: type, type_q: type) -> Callable:
    """Decorator registering ``fn(p, q)`` as KL(p || q) for p of ``type_p``, q of ``type_q``."""
    for name, t in (("type_p", type_p), ("type_q", type_q)):
        if not (isinstance(t, type) and issubclass(t, Distribution)):
            raise ConfigError(f"register_kl: expected {name} to be a Distribution subclass but got {t!r}")

    def decorator(fn: Callable) -> Callable:
        _KL_REGISTRY[type_p, type_q] = fn
        _KL_MEMOIZE.clear()
        return fn
    return decorator


@total_ordering
class _Match:
    """Orders registered type pairs by specificity (lexicographic subclass order, as torch)."""

    def __init__(self, *types: type):
        self.types = types

    def __eq__(self, other: Any) -> bool:
        return self.types == other.types

    def __le__(self, other: Any) -> bool:
        for x, y in zip(self.types, other.types):
            if not issubclass(x, y):
                return False
            if x is not y:
                break
        return True


def _dispatch_kl(type_p: type, type_q: type) -> Any:
    matches = [(sp, sq) for sp, sq in _KL_REGISTRY if issubclass(type_p, sp) and issubclass(type_q, sq)]
    if not matches:
        return NotImplemented
    left_p, left_q = min(_Match(*m) for m in matches).types
    right_q, right_p = min(_Match(*reversed(m)) for m in matches).types
    if _KL_REGISTRY[left_p, left_q] is not _KL_REGISTRY[right_p, right_q]:
        warnings.warn(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). "
                      f"Please register_kl({left_p.__name__}, {right_q.__name__})", RuntimeWarning,
                      stacklevel=_caller_level())
    return _KL_REGISTRY[left_p, left_q]


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) = E_p[log p(x) - log q(x)], of shape ``batch_shape``; NotImplementedError
    naming the two types if no pair is registered."""
    key = (type(p), type(q))
    if key not in _KL_MEMOIZE:
        _KL_MEMOIZE[key] = _dispatch_kl(*key)
    fn = _KL_MEMOIZE[key]
    if fn is NotImplemented:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} "
                                  f"and q type {type(q).__name__}")
    return fn(p, q)


def _where_probs(term: Tensor, q_probs: Tensor, p_probs: Tensor, q_edge: float, p_edge: float) -> Tensor:
    """``term``, +inf where q puts no mass on the outcome p does, 0 where p puts none."""
    term = where(q_probs == q_edge, math.inf, term)
    return where(p_probs == p_edge, 0.0, term)


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p: MultivariateNormal, q: MultivariateNormal) -> Tensor:
    if p.event_shape != q.event_shape:
        raise ShapeError("KL-divergence between two Multivariate Normals with different event "
                         f"shapes cannot be computed: {p.event_shape} vs {q.event_shape}")
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    n = p.event_shape[0]
    batch = tuple(np.broadcast_shapes(Lq.shape[:-2], Lp.shape[:-2]))
    term2 = solve_tril(Lq.expand(batch + (n, n)), Lp.expand(batch + (n, n))).pow(2).sum((-2, -1))
    term3 = _mahalanobis(Lq, q.loc - p.loc)
    return _half_log_det(Lq) - _half_log_det(Lp) + 0.5 * (term2 + term3 - n)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    t1 = p.probs * (F.softplus(-q.logits) - F.softplus(-p.logits))
    t2 = (1 - p.probs) * (F.softplus(q.logits) - F.softplus(p.logits))
    return _where_probs(t1, q.probs, p.probs, 0, 0) + _where_probs(t2, q.probs, p.probs, 1, 1)


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    t = p.probs * (p.logits - q.logits)
    return _where_probs(t, q.probs, p.probs, 0, 0).sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot_onehot(p: OneHotCategorical, q: OneHotCategorical) -> Tensor:
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return where((q.low > p.low) | (q.high < p.high), math.inf, result)


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("KL between Independent distributions with different "
                                  f"reinterpreted_batch_ndims ({p.reinterpreted_batch_ndims} vs "
                                  f"{q.reinterpreted_batch_ndims}) is not implemented")
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Exponential, q: Exponential) -> Tensor:
    rate_ratio = q.rate / p.rate
    return -rate_ratio.log() + rate_ratio - 1


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Tensor:
    scale_ratio = p.scale / q.scale
    loc_abs_diff = (p.loc - q.loc).abs()
    return -scale_ratio.log() + loc_abs_diff / q.scale + scale_ratio * (-loc_abs_diff / p.scale).exp() - 1


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Tensor:
    sum_p = p.concentration1 + p.concentration0
    sum_q = q.concentration1 + q.concentration0
    t1 = q.concentration1.lgamma() + q.concentration0.lgamma() + sum_p.lgamma()
    t2 = p.concentration1.lgamma() + p.concentration0.lgamma() + sum_q.lgamma()
    t3 = (p.concentration1 - q.concentration1) * p.concentration1.digamma()
    t4 = (p.concentration0 - q.concentration0) * p.concentration0.digamma()
    return t1 - t2 + t3 + t4 + (sum_q - sum_p) * sum_p.digamma()


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = q.concentration.lgamma() - p.concentration.lgamma()
    t3 = (p.concentration - q.concentration) * p.concentration.digamma()
    return t1 + t2 + t3 + (q.rate - p.rate) * (p.concentration / p.rate)


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> Tensor:
    sum_p, sum_q = p.concentration.sum(-1), q.concentration.sum(-1)
    t1 = sum_p.lgamma() - sum_q.lgamma()
    t2 = (p.concentration.lgamma() - q.concentration.lgamma()).sum(-1)
    t4 = p.concentration.digamma() - sum_p.digamma().unsqueeze(-1)
    return t1 - t2 + ((p.concentration - q.concentration) * t4).sum(-1)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Poisson, q: Poisson) -> Tensor:
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p: Geometric, q: Geometric) -> Tensor:
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p: HalfNormal, q: HalfNormal) -> Tensor:
    return _kl_normal_normal(p.base_dist, q.base_dist)


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p: Binomial, q: Binomial) -> Tensor:
    """Closed form for equal total_count; +inf where p has more trials than q."""
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError("KL between Binomials where q.total_count > p.total_count is not implemented")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return where(p.total_count > q.total_count, math.inf, kl)


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p: TransformedDistribution, q: TransformedDistribution) -> Tensor:
    if p.transforms != q.transforms:
        raise NotImplementedError("KL between TransformedDistributions with different transforms is not implemented")
    if p.event_shape != q.event_shape:
        raise NotImplementedError("KL between TransformedDistributions with different event shapes is not implemented")
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p: Any, q: Any) -> Tensor:
    """Two members of one exponential family: the Bregman divergence of the log normaliser,
    F(theta_q) - F(theta_p) - <theta_q - theta_p, grad F(theta_p)> (as torch)."""
    if type(p) is not type(q):
        raise NotImplementedError("The cross KL-divergence between different exponential families cannot "
                                  "be computed using Bregman divergences")
    from ..autograd import grad
    from ..grad_mode import enable_grad
    with enable_grad():
        p_nparams = [n.detach().requires_grad_() for n in p._natural_params]
        lg_normal = p._log_normalizer(*p_nparams)
        gradients = grad(lg_normal.sum(), p_nparams, create_graph=True)
    q_nparams = q._natural_params
    result = q._log_normalizer(*q_nparams) - lg_normal
    for pnp, qnp, g in zip(p_nparams, q_nparams, gradients):
        result = result - sum_rightmost((qnp - pnp) * g, len(q.event_shape))
    return result


# ---- cross-family pairs (the ones torch registers). Each is -H(p) - E_p[log q(x)], written with
# the statistics of p that q's log-density needs; +inf where p puts mass outside q's support.

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _infinite(p: Distribution, q: Distribution) -> Tensor:
    """+inf of p's batch shape and dtype: p's support reaches outside q's."""
    return full_like(p.mean.detach(), math.inf)


def _xlogx(x: Tensor) -> Tensor:
    """x log x with 0 log 0 = 0."""
    pos = x > 0
    return where(pos, x * where(pos, x, 1.0).log(), 0.0)


def _mean_log(p: Distribution) -> Tensor:
    """E_p[log x] for p on the positive half-line (a Uniform's low >= 0 is the caller's check)."""
    if isinstance(p, Beta):
        return p.concentration1.digamma() - (p.concentration1 + p.concentration0).digamma()
    if isinstance(p, Exponential):
        return -p.rate.log() - _EULER
    if isinstance(p, Gamma):
        return p.concentration.digamma() - p.rate.log()
    if isinstance(p, Pareto):
        return p.scale.log() + p.alpha.reciprocal()
    if isinstance(p, Uniform):
        return (_xlogx(p.high) - _xlogx(p.low)) / (p.high - p.low) - 1
    raise NotImplementedError(f"E[log x] under {type(p).__name__}")


_EULER = 0.5772156649015329


def _support_bounds(p: Distribution) -> tuple:
    """(low, high) of p's support (Uniform's are its parameters; others' are numbers)."""
    if isinstance(p, Uniform):
        return p.low, p.high
    if isinstance(p, (Beta, ContinuousBernoulli)):
        return 0.0, 1.0
    if isinstance(p, Pareto):
        return p.scale, math.inf
    return 0.0, math.inf      # Exponential, Gamma


def _kl_to_normal(p: Distribution, q: Normal) -> Tensor:
    loc_diff = p.mean - q.loc
    return (-p.entropy() + q.scale.log() + _HALF_LOG_2PI
            + (loc_diff.pow(2) + p.variance) / (2 * q.scale.pow(2)))


for _p in (Beta, ContinuousBernoulli, Exponential, Gamma, Gumbel, Laplace, Uniform):
    register_kl(_p, Normal)(_kl_to_normal)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p: Pareto, q: Normal) -> Tensor:
    return where(p.alpha <= 2, math.inf, _kl_to_normal(p, q))


def _kl_to_exponential(p: Distribution, q: Exponential) -> Tensor:
    kl = -p.entropy() - q.rate.log() + q.rate * p.mean
    if isinstance(p, Uniform):
        kl = where(p.low < 0, math.inf, kl)
    return kl


for _p in (Beta, ContinuousBernoulli, Gamma, Uniform):
    register_kl(_p, Exponential)(_kl_to_exponential)


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p: Pareto, q: Exponential) -> Tensor:
    return where(p.alpha <= 1, math.inf, _kl_to_exponential(p, q))


def _kl_to_gamma(p: Distribution, q: Gamma) -> Tensor:
    kl = (-p.entropy() - q.concentration * q.rate.log() + q.concentration.lgamma()
          + q.rate * p.mean)
    if isinstance(p, Uniform):
        ok = p.low >= 0
        safe = Uniform(where(ok, p.low, 0.0), where(ok, p.high, 1.0), validate_args=False)
        return where(ok, kl - (q.concentration - 1) * _mean_log(safe), math.inf)
    return kl - (q.concentration - 1) * _mean_log(p)


for _p in (Beta, Exponential, Uniform):
    register_kl(_p, Gamma)(_kl_to_gamma)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p: Pareto, q: Gamma) -> Tensor:
    return where(p.alpha <= 1, math.inf, _kl_to_gamma(p, q))


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p: Uniform, q: Beta) -> Tensor:
    ok = (p.low >= 0) & (p.high <= 1)
    low, high = where(ok, p.low, 0.0), where(ok, p.high, 1.0)
    width = high - low
    mean_log = (_xlogx(high) - _xlogx(low)) / width - 1
    mean_log1m = (_xlogx(1 - low) - _xlogx(1 - high)) / width - 1
    a, b = q.concentration1, q.concentration0
    lbeta = a.lgamma() + b.lgamma() - (a + b).lgamma()
    kl = -width.log() + lbeta - (a - 1) * mean_log - (b - 1) * mean_log1m
    return where(ok, kl, math.inf)


def _kl_to_uniform(p: Distribution, q: Uniform) -> Tensor:
    low, high = _support_bounds(p)
    kl = -p.entropy() + (q.high - q.low).log()
    return where((q.low > low) | (q.high < high), math.inf, kl)


for _p in (Beta, ContinuousBernoulli):
    register_kl(_p, Uniform)(_kl_to_uniform)


def _kl_to_cont_bernoulli(p: Distribution, q: ContinuousBernoulli) -> Tensor:
    m = p.mean
    kl = -p.entropy() - q._log_norm() - m * q.probs.log() - (1 - m) * (-q.probs).log1p()
    if isinstance(p, Uniform):
        kl = where((p.low < 0) | (p.high > 1), math.inf, kl)
    return kl


for _p in (Beta, ContinuousBernoulli, Uniform):
    register_kl(_p, ContinuousBernoulli)(_kl_to_cont_bernoulli)


def _kl_to_pareto(p: Distribution, q: Pareto) -> Tensor:
    low, _ = _support_bounds(p)
    ok = q.scale <= low
    if isinstance(p, Uniform):
        safe = Uniform(where(ok, p.low, 1.0), where(ok, p.high, 2.0), validate_args=False)
        mean_log = _mean_log(safe)
    else:
        mean_log = _mean_log(p)
    kl = -p.entropy() - q.alpha.log() - q.alpha * q.scale.log() + (q.alpha + 1) * mean_log
    return where(ok, kl, math.inf)


for _p in (Pareto, Uniform):
    register_kl(_p, Pareto)(_kl_to_pareto)


def _log_gumbel_mgf_term(p: Distribution, q: Gumbel) -> Tensor:
    """log(e^{loc_q / scale_q} E_p[e^{-x / scale_q}])."""
    loc, scale = q.loc, q.scale
    if isinstance(p, Exponential):
        lam = p.rate * scale
        return (lam / (lam + 1)).log() + loc / scale
    if isinstance(p, Gamma):
        return -p.concentration * (1 / (scale * p.rate)).log1p() + loc / scale
    if isinstance(p, Normal):
        return (loc - p.loc) / scale + 0.5 * (p.scale / scale).pow(2)
    if isinstance(p, Gumbel):
        return (1 + p.scale / scale).lgamma() + (loc - p.loc) / scale
    if isinstance(p, Uniform):
        diff = (-(p.low - loc) / scale).exp() - (-(p.high - loc) / scale).exp()
        return (scale * diff / (p.high - p.low)).log()
    raise NotImplementedError(f"E[exp(-x / s)] under {type(p).__name__}")


def _kl_to_gumbel(p: Distribution, q: Gumbel) -> Tensor:
    return (-p.entropy() + q.scale.log() + (p.mean - q.loc) / q.scale
            + _log_gumbel_mgf_term(p, q).exp())


for _p in (Exponential, Gamma, Gumbel, Normal, Uniform):
    register_kl(_p, Gumbel)(_kl_to_gumbel)


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p: Normal, q: Laplace) -> Tensor:
    d = p.loc - q.loc
    mean_abs = (p.scale * math.sqrt(2 / math.pi) * (-(d / p.scale).pow(2) / 2).exp()
                + d * (d / (p.scale * math.sqrt(2))).erf())
    return -p.entropy() + (2 * q.scale).log() + mean_abs / q.scale


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p: Cauchy, q: Cauchy) -> Tensor:
    num = (p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)
    return (num / (4 * p.scale * q.scale)).log()


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p: Bernoulli, q: Poisson) -> Tensor:
    return -p.entropy() - p.probs * q.rate.log() + q.rate


def _as_mvn(d: Any) -> MultivariateNormal:
    return MultivariateNormal(d.loc, covariance_matrix=d.covariance_matrix, validate_args=False)


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
@register_kl(LowRankMultivariateNormal, MultivariateNormal)
@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrank_mvn(p: Any, q: Any) -> Tensor:
    """Through the dense covariance (n x n): exact, not torch's capacitance-matrix form."""
    return _kl_mvn_mvn(_as_mvn(p), _as_mvn(q))


# p's support reaches past q's everywhere.
for _p, _qs in ((Beta, (Pareto,)), (ContinuousBernoulli, (Pareto,)),
                (Exponential, (Beta, ContinuousBernoulli, Pareto, Uniform)),
                (Gamma, (Beta, ContinuousBernoulli, Pareto, Uniform)),
                (Gumbel, (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform)),
                (Laplace, (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform)),
                (Normal, (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform)),
                (Pareto, (Beta, ContinuousBernoulli, Uniform)),
                (Poisson, (Bernoulli, Binomial))):
    for _q in _qs:
        register_kl(_p, _q)(_infinite)
