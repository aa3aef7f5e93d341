"""More continuous families of torch.distributions: StudentT, FisherSnedecor, Cauchy, HalfNormal,
HalfCauchy, Chi2, Weibull, Pareto, Kumaraswamy, ContinuousBernoulli, VonMises and Dirichlet.

Families torch builds as TransformedDistributions (HalfNormal, HalfCauchy, Weibull, Pareto,
Kumaraswamy) are built the same way here, so their samples are reparameterised. StudentT,
FisherSnedecor, Chi2 and Dirichlet are reparameterised through their Gamma draws' implicit gradients, as torch's
(``univariate.standard_gamma``, ``univariate._ImplicitDirichlet``)."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import functional as F
from .. import special
from ..errors import ShapeError
from ..factory import full_like, ones_like, where, zeros_like
from ..random import default_generator
from ..tensor import Tensor
from . import constraints
from .discrete import _BinaryProbs, clamp_probs
from .distribution import (Distribution, Elementwise, _size, broadcast_all, lazy_property, standard_normal,
                           standard_uniform)
from .exp_family import ExponentialFamily
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform, AffineTransform, ExpTransform, PowerTransform
from .univariate import (_EULER, Exponential, Gamma, LocationScale, Normal, Uniform, _gamma_draw, _ImplicitDirichlet,
                         standard_gamma)

__all__ = ["Cauchy", "Chi2", "ContinuousBernoulli", "Dirichlet", "FisherSnedecor", "HalfCauchy", "HalfNormal",
           "Kumaraswamy", "Pareto", "StudentT", "VonMises", "Weibull"]

_LOG_2 = math.log(2.0)


class StudentT(Elementwise):
    """Student's t with ``df`` degrees of freedom, shifted by ``loc`` and scaled by ``scale``;
    ``rsample`` is loc + scale * Z / sqrt(V / df), Z ~ N(0, 1), V ~ Chi2(df) reparameterised."""
    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _param_names = ("df", "loc", "scale")

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0, validate_args: bool | None = None) -> None:
        super().__init__({"df": df, "loc": loc, "scale": scale}, validate_args)

    mode = property(lambda self: self.loc)

    @property
    def mean(self) -> Tensor:
        return where(self.df > 1, self.loc, math.nan)

    @property
    def variance(self) -> Tensor:
        """scale^2 df / (df - 2) for df > 2, inf for 1 < df <= 2, NaN for df <= 1."""
        df = self.df
        finite = self.scale.pow(2) * df / (df - 2).clamp(min=1e-300)
        return where(df > 2, finite, where(df > 1, full_like(df, math.inf), math.nan))

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        df = self.df
        z = standard_normal(shape, df)                       # torch's order: the normal first
        chi2 = standard_gamma(0.5 * df, shape) / 0.5
        return self.loc + self.scale * (z * (chi2 / df).rsqrt())

    def log_prob(self, value: Tensor) -> Tensor:
        y = (self._validated(value) - self.loc) / self.scale
        df = self.df
        z = (self.scale.log() + 0.5 * df.log() + 0.5 * math.log(math.pi)
             + (0.5 * df).lgamma() - (0.5 * (df + 1)).lgamma())
        return -0.5 * (df + 1) * (y.pow(2) / df).log1p() - z

    def entropy(self) -> Tensor:
        df = self.df
        lbeta = (0.5 * df).lgamma() + math.lgamma(0.5) - (0.5 * (df + 1)).lgamma()
        return (self.scale.log() + 0.5 * (df + 1) * ((0.5 * (df + 1)).digamma() - (0.5 * df).digamma())
                + 0.5 * df.log() + lbeta)


class FisherSnedecor(Elementwise):
    """The F distribution with ``df1`` and ``df2`` degrees of freedom, on (0, inf), as torch's:
    ``rsample`` is X1 / X2 with X1 ~ Gamma(df1 / 2, df1), X2 ~ Gamma(df2 / 2, df2), both
    reparameterised (Gamma's implicit gradients) and clamped below at the dtype's tiny."""
    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True
    _param_names = ("df1", "df2")

    def __init__(self, df1: Any, df2: Any, validate_args: bool | None = None) -> None:
        super().__init__({"df1": df1, "df2": df2}, validate_args)

    @property
    def mean(self) -> Tensor:
        """df2 / (df2 - 2) for df2 > 2, NaN otherwise."""
        df2 = self.df2
        return where(df2 > 2, df2 / (df2 - 2), math.nan)

    @property
    def mode(self) -> Tensor:
        """(df1 - 2) / df1 * df2 / (df2 + 2) for df1 > 2, NaN otherwise."""
        df1, df2 = self.df1, self.df2
        return where(df1 > 2, (df1 - 2) / df1 * df2 / (df2 + 2), math.nan)

    @property
    def variance(self) -> Tensor:
        """2 df2^2 (df1 + df2 - 2) / (df1 (df2 - 2)^2 (df2 - 4)) for df2 > 4, NaN otherwise."""
        df1, df2 = self.df1, self.df2
        finite = 2 * df2.pow(2) * (df1 + df2 - 2) / (df1 * (df2 - 2).pow(2) * (df2 - 4))
        return where(df2 > 4, finite, math.nan)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        tiny = float(np.finfo(np.dtype(self.df1.dtype)).tiny)
        x1 = Gamma(self.df1 * 0.5, self.df1, validate_args=False).rsample(sample_shape).reshape(shape)
        x2 = Gamma(self.df2 * 0.5, self.df2, validate_args=False).rsample(sample_shape).reshape(shape)
        return (x1 / x2.clamp(min=tiny)).clamp(min=tiny)

    def log_prob(self, value: Tensor) -> Tensor:
        value = self._validated(value)
        ct1, ct2, ct3 = self.df1 * 0.5, self.df2 * 0.5, self.df1 / self.df2
        t1 = (ct1 + ct2).lgamma() - ct1.lgamma() - ct2.lgamma()
        t2 = ct1 * ct3.log() + (ct1 - 1) * value.log()
        t3 = (ct1 + ct2) * (ct3 * value).log1p()
        return t1 + t2 - t3


class Cauchy(LocationScale):
    """Cauchy(loc, scale); ``rsample`` is loc + scale * tan(pi (u - 1/2)), u ~ U[0, 1)."""
    mean = property(lambda self: full_like(self.loc, math.nan))
    mode = property(lambda self: self.loc)
    variance = property(lambda self: full_like(self.loc, math.inf))

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        return self.icdf(standard_uniform(self._extended_shape(sample_shape), self.loc))

    def log_prob(self, value: Tensor) -> Tensor:
        y = (self._validated(value) - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - _log1p_square(y)

    def cdf(self, value: Tensor) -> Tensor:
        return ((self._validated(value) - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value: Tensor) -> Tensor:
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + self.scale.log()


def _log1p_square(y: Tensor) -> Tensor:
    """log(1 + y^2) without overflow for a huge |y| (a tiny scale: y^2 is inf past 1e154 in
    float64, 1e19 in float32): 2 log|y| + log1p(y^-2) there. Each branch gets inputs it is finite
    on, so the other's zero gradient stays zero (no 0 * inf)."""
    far = y.abs() > 1
    big = where(far, y, ones_like(y)).abs()
    near = where(far, zeros_like(y), y)
    return where(far, 2 * big.log() + big.pow(-2).log1p(), near.pow(2).log1p())


class _TransformedParams(TransformedDistribution):
    """A family built as a TransformedDistribution whose own parameters (``_param_names``) are
    broadcast Tensors checked against ``arg_constraints`` and expanded with it."""
    _param_names: tuple = ()

    def _set_params(self, **params: Any) -> tuple:
        values = broadcast_all(*params.values())
        for name, value in zip(params, values):
            setattr(self, name, value)
        return values

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> Distribution:
        new = self._get_checked_instance(type(self), _instance)
        batch_shape = _size(batch_shape, "batch_shape")
        for name in self._param_names:
            setattr(new, name, getattr(self, name).expand(batch_shape))
        return TransformedDistribution.expand(self, batch_shape, new)

    def __repr__(self) -> str:
        return Distribution.__repr__(self)


class _Folded(_TransformedParams):
    """|X| for X symmetric about 0 with scale ``scale`` (HalfNormal, HalfCauchy): the density
    doubled on [0, inf)."""
    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _param_names = ("scale",)
    _base: type = Normal

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        (scale,) = self._set_params(scale=scale)
        base = self._base(zeros_like(scale), scale, validate_args=False)
        super().__init__(base, AbsTransform(), validate_args=validate_args)

    mode = property(lambda self: zeros_like(self.scale))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return where(value >= 0, self.base_dist.log_prob(value) + _LOG_2, -math.inf)

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob: Tensor) -> Tensor:
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - _LOG_2


class HalfNormal(_Folded):
    """|X|, X ~ Normal(0, scale)."""

    mean = property(lambda self: self.scale * math.sqrt(2 / math.pi))
    variance = property(lambda self: self.scale.pow(2) * (1 - 2 / math.pi))


class HalfCauchy(_Folded):
    """|X|, X ~ Cauchy(0, scale)."""
    _base = Cauchy

    mean = property(lambda self: full_like(self.scale, math.inf))
    variance = property(lambda self: full_like(self.scale, math.inf))


class Chi2(Gamma):
    """Chi-squared with ``df`` degrees of freedom: Gamma(df / 2, 1 / 2)."""
    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    df = property(lambda self: self.concentration * 2)


class Weibull(_TransformedParams):
    """Weibull(scale, concentration): scale * E^(1 / concentration), E ~ Exponential(1)."""
    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True
    _param_names = ("scale", "concentration")

    def __init__(self, scale: Any, concentration: Any, validate_args: bool | None = None) -> None:
        scale, concentration = self._set_params(scale=scale, concentration=concentration)
        base = Exponential(ones_like(scale), validate_args=False)
        transforms = [PowerTransform(concentration.reciprocal()), AffineTransform(0, scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.scale * (1 + self.concentration.reciprocal()).lgamma().exp()

    @property
    def mode(self) -> Tensor:
        k = self.concentration
        return self.scale * ((k - 1) / k).pow(k.reciprocal())

    @property
    def variance(self) -> Tensor:
        k = self.concentration
        return self.scale.pow(2) * ((1 + 2 / k).lgamma().exp() - (2 * (1 + 1 / k).lgamma()).exp())

    def entropy(self) -> Tensor:
        k = self.concentration
        return _EULER * (1 - k.reciprocal()) + (self.scale / k).log() + 1


class Pareto(_TransformedParams):
    """Pareto(scale, alpha): scale * exp(E), E ~ Exponential(alpha); support [scale, inf)."""
    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    has_rsample = True
    _param_names = ("scale", "alpha")

    def __init__(self, scale: Any, alpha: Any, validate_args: bool | None = None) -> None:
        scale, alpha = self._set_params(scale=scale, alpha=alpha)
        super().__init__(Exponential(alpha, validate_args=False), [ExpTransform(), AffineTransform(0, scale)],
                         validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self) -> Tensor:
        a = self.alpha.clamp(min=1)
        return a * self.scale / (a - 1)

    mode = property(lambda self: self.scale)

    @property
    def variance(self) -> Tensor:
        a = self.alpha.clamp(min=2)
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    def entropy(self) -> Tensor:
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())


def _kumaraswamy_moment(a: Tensor, b: Tensor, n: int) -> Tensor:
    """E[X^n] = b B(1 + n / a, b)."""
    arg = 1 + n / a
    return b * (arg.lgamma() + b.lgamma() - (arg + b).lgamma()).exp()


class Kumaraswamy(_TransformedParams):
    """Kumaraswamy(a = concentration1, b = concentration0) on (0, 1): (1 - U^(1/b))^(1/a)."""
    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True
    _param_names = ("concentration1", "concentration0")

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        a, b = self._set_params(concentration1=concentration1, concentration0=concentration0)
        base = Uniform(zeros_like(a), ones_like(a), validate_args=False)
        transforms = [PowerTransform(b.reciprocal()), AffineTransform(1.0, -1.0), PowerTransform(a.reciprocal())]
        super().__init__(base, transforms, validate_args=validate_args)

    mean = property(lambda self: _kumaraswamy_moment(self.concentration1, self.concentration0, 1))

    @property
    def mode(self) -> Tensor:
        """((a - 1) / (a b - 1))^(1 / a) for a, b >= 1, else NaN (Wikipedia's formula; torch
        2.13's mode property returns NaN for every a, b > 1)."""
        a, b = self.concentration1, self.concentration0
        mode = ((a - 1) / (a * b - 1)).pow(a.reciprocal())
        return where((a < 1) | (b < 1), math.nan, mode)

    @property
    def variance(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        return _kumaraswamy_moment(a, b, 2) - self.mean.pow(2)

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        h0 = (b + 1).digamma() + _EULER
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * h0 - a.log() - b.log()


class ContinuousBernoulli(_BinaryProbs, ExponentialFamily):
    """Continuous Bernoulli on [0, 1] (Loaiza-Ganem & Cunningham 2019): density proportional to
    p^x (1 - p)^(1 - x); near p = 1/2 (inside ``lims``) Taylor expansions keep it stable."""
    _mean_carrier_measure = 0
    _natural_params = property(lambda self: (self.logits,))

    def _log_normalizer(self, x):
        """log((e^x - 1) / x), by its Taylor series near x = 0 (torch's)."""
        outside = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut = where(outside, x, (self._lims[0] - 0.5) * ones_like(x))
        log_norm = cut.expm1().abs().log() - cut.abs().log()
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return where(outside, log_norm, taylor)

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, probs: Any = None, logits: Any = None, lims: tuple = (0.499, 0.501),
                 validate_args: bool | None = None) -> None:
        self._lims = lims
        self._init_param(probs, logits, validate_args)
        if "probs" in self.__dict__:
            self.probs = self._param = clamp_probs(self.probs)

    def _extra_expand(self, new: Any) -> None:
        new._lims = self._lims

    @lazy_property
    def probs(self) -> Tensor:
        """sigmoid(logits) clamped to [eps, 1 - eps], as torch's: at |logits| > ~37 the sigmoid
        rounds to 0 or 1, where the normaliser log C(p) is infinite (inf log_prob, NaN entropy)."""
        return clamp_probs(self.logits.sigmoid())

    def _outside(self) -> Tensor:
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        return where(self._outside(), self.probs, self._lims[0])

    def _log_norm(self) -> Tensor:
        """log C(p), C the normaliser; its Taylor series log 2 + (4/3 + 104/45 x) x near 1/2."""
        cut = self._cut_probs()
        below = where(cut <= 0.5, cut, 0.0)
        above = where(cut >= 0.5, cut, 1.0)
        log_norm = ((-cut).log1p() - cut.log()).abs().log() - where(
            cut <= 0.5, (-2.0 * below).log1p(), (2.0 * above - 1.0).log())
        x = (self.probs - 0.5).pow(2)
        return where(self._outside(), log_norm, _LOG_2 + (4.0 / 3.0 + 104.0 / 45.0 * x) * x)

    @property
    def mean(self) -> Tensor:
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / ((-cut).log1p() - cut.log())
        x = self.probs - 0.5
        return where(self._outside(), mus, 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x)

    @property
    def variance(self) -> Tensor:
        cut = self._cut_probs()
        v = cut * (cut - 1.0) / (1.0 - 2.0 * cut).pow(2) + 1.0 / ((-cut).log1p() - cut.log()).pow(2)
        x = (self.probs - 0.5).pow(2)
        return where(self._outside(), v, 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        return self.icdf(standard_uniform(self._extended_shape(sample_shape), self.probs))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none") + self._log_norm()

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (cut.pow(value) * (1.0 - cut).pow(1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        inner = where(self._outside(), cdfs, value)
        return where(value <= 0.0, 0.0, where(value >= 1.0, 1.0, inner))

    def icdf(self, value: Tensor) -> Tensor:
        cut = self._cut_probs()
        inv = (((-cut) + value * (2.0 * cut - 1.0)).log1p() - (-cut).log1p()) / (cut.log() - (-cut).log1p())
        return where(self._outside(), inv, value)

    def entropy(self) -> Tensor:
        log_p0, log_p1 = (-self.probs).log1p(), self.probs.log()
        return self.mean * (log_p0 - log_p1) - self._log_norm() - log_p0


def _von_mises_draw(loc: np.ndarray, kappa: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Best & Fisher (1979) rejection sampling, in float64, vectorised over the entries."""
    tau = 1 + np.sqrt(1 + 4 * kappa ** 2)
    rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
    r = (1 + rho ** 2) / (2 * rho)
    x = np.empty_like(kappa)
    todo = np.ones(kappa.shape, bool)
    while todo.any():
        u1, u2, u3 = rng.uniform(size=(3,) + kappa.shape)
        z = np.cos(np.pi * u1)
        f = (1 + r * z) / (r + z)
        c = kappa * (r - f)
        accept = todo & ((c * (2 - c) - u2 > 0) | (np.log(c / u2) + 1 - c >= 0))
        x[accept] = (np.sign(u3 - 0.5) * np.arccos(f))[accept]
        todo &= ~accept
    return (x + np.pi + loc) % (2 * np.pi) - np.pi


class VonMises(Elementwise):
    """Von Mises (circular normal) with mean direction ``loc`` and ``concentration`` kappa;
    density exp(kappa cos(x - loc)) / (2 pi I0(kappa)); sampled by rejection (no rsample)."""
    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    _param_names = ("loc", "concentration")

    def __init__(self, loc: Any, concentration: Any, validate_args: bool | None = None) -> None:
        super().__init__({"loc": loc, "concentration": concentration}, validate_args)

    mean = mode = property(lambda self: self.loc)

    @property
    def variance(self) -> Tensor:
        """The circular variance 1 - I1(kappa) / I0(kappa)."""
        k = self.concentration
        return 1 - special.i1e(k) / special.i0e(k)

    def log_prob(self, value: Tensor) -> Tensor:
        value = self._validated(value)
        k = self.concentration
        return k * ((value - self.loc).cos() - 1) - math.log(2 * math.pi) - special.i0e(k).log()

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        loc = np.broadcast_to(self.loc.detach().numpy().astype(np.float64), shape)
        kappa = np.broadcast_to(self.concentration.detach().numpy().astype(np.float64), shape)
        x = _von_mises_draw(loc, kappa, default_generator.rng)
        return Tensor._from(x.astype(self.loc.numpy().dtype), device=self.loc.device)


class Dirichlet(ExponentialFamily):
    """Dirichlet(concentration) on the simplex (``event_shape`` (K,)); sampled by normalising
    Gamma draws; ``rsample``'s gradient is torch's implicit one (``_Dirichlet``'s backward)."""
    _natural_params = property(lambda self: (self.concentration,))

    def _log_normalizer(self, x):
        return x.lgamma().sum(-1) - x.sum(-1).lgamma()

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if not isinstance(concentration, Tensor) or concentration.ndim < 1:
            raise ShapeError("`concentration` parameter must be at least one-dimensional, got "
                             f"{tuple(concentration.shape) if isinstance(concentration, Tensor) else type(concentration).__name__}")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Dirichlet":
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = _size(batch_shape, "batch_shape")
        new.concentration = self.concentration.expand(batch_shape + self._event_shape)
        return self._finish_expand(new, batch_shape)

    mean = property(lambda self: self.concentration / self.concentration.sum(-1, keepdim=True))

    @property
    def mode(self) -> Tensor:
        """(a - 1)^+ normalised; where every a < 1, the one-hot vector of the largest."""
        cm1 = (self.concentration - 1).clamp(min=0)
        mode = cm1 / cm1.sum(-1, keepdim=True)
        onehot = F.one_hot(self.concentration.argmax(-1), cm1.shape[-1]).to(mode.dtype)
        return where((self.concentration < 1).all(-1, keepdim=True), onehot, mode)

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        c0 = c.sum(-1, keepdim=True)
        return c * (c0 - c) / (c0.pow(2) * (c0 + 1))

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        g = _gamma_draw(self.concentration, shape)
        x = g / g.sum(-1, keepdim=True)
        if not self.concentration.requires_grad:
            return x
        return _ImplicitDirichlet.apply(self.concentration.expand(shape), x)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return (c - 1).xlogy(value).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1)

    def entropy(self) -> Tensor:
        c = self.concentration
        k, a0 = c.shape[-1], c.sum(-1)
        return c.lgamma().sum(-1) - a0.lgamma() - (k - a0) * a0.digamma() - ((c - 1) * c.digamma()).sum(-1)
