"""The rarer families of torch.distributions: InverseGamma, GeneralizedPareto, LogisticNormal,
Wishart (on positive-definite matrices, Bartlett-sampled) and LKJCholesky (the Cholesky factors
of correlation matrices, onion-sampled). Formulas follow torch's, so values agree with it."""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, Sequence

from ..errors import ConfigError, ShapeError
from ..factory import arange, cat, ones_like, randn, tensor, where, zeros_like
from ..function_forms import finfo
from ..tensor import Tensor, _caller_level
from . import constraints
from .continuous import Chi2, _TransformedParams
from .distribution import (Distribution, _size, broadcast_all, lazy_property, parameters_of,
                           standard_uniform)
from .exp_family import ExponentialFamily
from .transformed_distribution import TransformedDistribution
from .transforms import PowerTransform, StickBreakingTransform
from .univariate import Beta, Gamma, Normal

__all__ = ["GeneralizedPareto", "InverseGamma", "LKJCholesky", "LogisticNormal", "Wishart"]

_LOG_2 = math.log(2.0)


class InverseGamma(TransformedDistribution):
    """1 / X for X ~ Gamma(concentration, rate) (reparameterised through the Gamma draw)."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        with parameters_of("InverseGamma"):
            base = Gamma(concentration, rate, validate_args=validate_args)
        super().__init__(base, PowerTransform(-base.rate.new_ones(())), validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "InverseGamma":
        new = self._get_checked_instance(InverseGamma, _instance)
        return TransformedDistribution.expand(self, batch_shape, new)

    concentration = property(lambda self: self.base_dist.concentration)
    rate = property(lambda self: self.base_dist.rate)
    mode = property(lambda self: self.rate / (self.concentration + 1))

    @property
    def mean(self) -> Tensor:
        a = self.concentration
        return where(a > 1, self.rate / (a - 1), math.inf)

    @property
    def variance(self) -> Tensor:
        a = self.concentration
        return where(a > 2, self.rate.pow(2) / ((a - 1).pow(2) * (a - 2)), math.inf)

    def entropy(self) -> Tensor:
        a = self.concentration
        return a + self.rate.log() + a.lgamma() - (1 + a) * a.digamma()

    def __repr__(self) -> str:
        return f"InverseGamma(concentration: {_short(self.concentration)}, rate: {_short(self.rate)})"


def _short(t: Tensor) -> Any:
    return t if t.numel() == 1 else tuple(t.shape)


class GeneralizedPareto(Distribution):
    """GeneralizedPareto(loc, scale, concentration) (xi): survival (1 + xi z)^(-1/xi), z = (x -
    loc) / scale, exponential at xi = 0; support [loc, loc - scale / xi] for xi < 0, else
    [loc, inf). ``rsample`` is the inverse cdf of a uniform draw."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        scalar = all(isinstance(v, numbers.Number) for v in (loc, scale, concentration))
        super().__init__(() if scalar else self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "GeneralizedPareto":
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = _size(batch_shape, "batch_shape")
        for name in ("loc", "scale", "concentration"):
            setattr(new, name, getattr(self, name).expand(batch_shape))
        return self._finish_expand(new, batch_shape)

    def _safe(self) -> tuple:
        c = self.concentration
        eq_zero = (c.abs() <= 1e-8)              # torch.isclose(c, 0): atol 1e-8
        return eq_zero, where(eq_zero, ones_like(c), c)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        return self.icdf(standard_uniform(self._extended_shape(sample_shape), self.loc))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        eq_zero, safe = self._safe()
        y = 1 / safe + ones_like(z)
        nonzero = where(y == 0, y, y * (safe * z).log1p())
        return -self.scale.log() - where(eq_zero, z, nonzero)

    def log_survival_function(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        eq_zero, safe = self._safe()
        return where(eq_zero, -z, -(safe * z).log1p() / safe)

    def log_cdf(self, value: Tensor) -> Tensor:
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value: Tensor) -> Tensor:
        return self.log_cdf(value).exp()

    def icdf(self, value: Tensor) -> Tensor:
        eq_zero, safe = self._safe()
        logu = (-value).log1p()
        return where(eq_zero, self.loc - self.scale * logu,
                     self.loc + self.scale / safe * (-safe * logu).expm1())

    @property
    def mean(self) -> Tensor:
        c = self.concentration
        valid = c < 1
        safe = where(valid, c, 0.5)
        return where(valid, self.loc + self.scale / (1 - safe), math.nan)

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        valid = c < 0.5
        safe = where(valid, c, 0.25)
        return where(valid, self.scale.pow(2) / ((1 - safe).pow(2) * (1 - 2 * safe)), math.nan)

    def entropy(self) -> Tensor:
        return (self.scale.log() + self.concentration + 1).expand(self._batch_shape)

    mode = property(lambda self: self.loc)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        upper = where(self.concentration < 0, self.loc - self.scale / self.concentration, math.inf)
        return constraints.interval(self.loc, upper)


class LogisticNormal(TransformedDistribution):
    """StickBreakingTransform(X), X ~ Normal(loc, scale) with the last dim as the event: a
    point of the simplex with one more entry than ``loc``."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        with parameters_of("LogisticNormal"):
            base = Normal(loc, scale, validate_args=validate_args)
        if not base.batch_shape:
            base = base.expand([1])
        super().__init__(base, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "LogisticNormal":
        new = self._get_checked_instance(LogisticNormal, _instance)
        return TransformedDistribution.expand(self, batch_shape, new)

    loc = property(lambda self: self.base_dist.base_dist.loc)
    scale = property(lambda self: self.base_dist.base_dist.scale)

    def __repr__(self) -> str:
        return f"LogisticNormal(loc: {_short(self.loc)}, scale: {_short(self.scale)})"


def _mvdigamma(x: Tensor, p: int) -> Tensor:
    """sum_{i<p} digamma(x - i / 2)."""
    if not bool((x > (p - 1) / 2).all()):
        raise ConfigError(f"Wrong domain for multivariate digamma function: needs x > {(p - 1) / 2}")
    return (x.unsqueeze(-1) - arange(p, dtype=x.dtype, device=x.device) / 2).digamma().sum(-1)


class Wishart(ExponentialFamily):
    """Wishart(df, covariance_matrix | precision_matrix | scale_tril) on p x p positive-definite
    matrices: the scatter matrix of df N(0, covariance) draws; ``rsample`` is Bartlett's
    decomposition (sqrt of Chi2(df - i) draws on the diagonal, N(0, 1) below), reparameterised."""
    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self) -> dict:
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df: Any, covariance_matrix: Tensor | None = None, precision_matrix: Tensor | None = None,
                 scale_tril: Tensor | None = None, validate_args: bool | None = None) -> None:
        from ..linalg import cholesky
        from .multivariate_normal import _precision_to_scale_tril
        given = [p for p in (covariance_matrix, precision_matrix, scale_tril) if p is not None]
        if len(given) != 1:
            raise ConfigError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        param = given[0]
        if not isinstance(param, Tensor) or param.ndim < 2:
            raise ShapeError("scale_tril must be at least two-dimensional, with optional leading batch dimensions")
        if param.shape[-1] != param.shape[-2]:
            raise ShapeError(f"Wishart: the matrix parameter must be square, got shape {tuple(param.shape)}")
        if isinstance(df, numbers.Number):
            batch_shape = tuple(param.shape[:-2])
            self.df = tensor(float(df), dtype=param.dtype, device=param.device)
        else:
            import numpy as np
            batch_shape = tuple(np.broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape)))
            self.df = df.expand(batch_shape)
        event_shape = tuple(param.shape[-2:])
        if bool((self.df <= event_shape[-1] - 1).any()):
            raise ConfigError(f"Value of df={df} expected to be greater than ndim - 1 = {event_shape[-1] - 1}.")
        full = batch_shape + (-1, -1)
        if scale_tril is not None:
            self.scale_tril = param.expand(full)
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(full)
        else:
            self.precision_matrix = param.expand(full)
        if bool((self.df < event_shape[-1]).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to occur for ndim - 1 < df < ndim.",
                          stacklevel=2)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        self._batch_dims = [-(x + 1) for x in range(len(self._batch_shape))]
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._chi2()

    def _chi2(self) -> Chi2:
        p, L = self._event_shape[-1], self._unbroadcasted_scale_tril
        return Chi2(self.df.unsqueeze(-1) - arange(p, dtype=L.dtype, device=L.device).expand(self._batch_shape + (-1,)))

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Wishart":
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = _size(batch_shape, "batch_shape")
        cov_shape = batch_shape + self._event_shape
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(cov_shape)
        new.df = self.df.expand(batch_shape)
        new._batch_dims = [-(x + 1) for x in range(len(batch_shape))]
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        self._finish_expand(new, batch_shape)
        new._dist_chi2 = new._chi2()
        return new

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._batch_shape + self._event_shape)

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return (L @ L.transpose(-2, -1)).expand(self._batch_shape + self._event_shape)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        from ..factory import eye
        from ..linalg_lu import cholesky_solve
        L = self._unbroadcasted_scale_tril
        identity = eye(self._event_shape[-1], dtype=L.dtype, device=L.device)
        return cholesky_solve(identity, L).expand(self._batch_shape + self._event_shape)

    def _df_matrix(self, x: Tensor) -> Tensor:
        return x.reshape(self._batch_shape + (1, 1))

    @property
    def mean(self) -> Tensor:
        return self._df_matrix(self.df) * self.covariance_matrix

    @property
    def mode(self) -> Tensor:
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = where(factor <= 0, math.nan, factor)
        return self._df_matrix(factor) * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        V = self.covariance_matrix
        d = V.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix(self.df) * (V.pow(2) + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape: tuple) -> Tensor:
        from .utils import vec_to_tril_matrix
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        eps = float(finfo(L.dtype).eps)
        diag = self._dist_chi2.rsample(sample_shape).sqrt().clamp(min=eps).diag_embed()
        below = randn(tuple(sample_shape) + self._batch_shape + (p * (p - 1) // 2,), dtype=L.dtype, device=L.device)
        chol = L @ (diag + vec_to_tril_matrix(below, diag=-1))
        return chol @ chol.transpose(-2, -1)

    def rsample(self, sample_shape: Sequence[int] = (), max_try_correction: int | None = None) -> Tensor:
        """Bartlett draws; draws that are not positive definite are redrawn up to
        ``max_try_correction`` (10) times, with a warning, as torch."""
        if max_try_correction is None:
            max_try_correction = 10
        sample_shape = _size(sample_shape)
        sample = self._bartlett_sampling(sample_shape)
        singular = ~self.support.check(sample)
        if bool(singular.any()):
            warnings.warn("Singular sample detected.", stacklevel=_caller_level())
            for _ in range(max_try_correction):
                new = self._bartlett_sampling(sample_shape)
                sample = where(singular.unsqueeze(-1).unsqueeze(-1), new, sample)
                singular = ~self.support.check(sample)
                if not bool(singular.any()):
                    break
        return sample

    def log_prob(self, value: Tensor) -> Tensor:
        from ..linalg import slogdet
        from ..linalg_lu import cholesky_solve
        if self._validate_args:
            self._validate_sample(value)
        nu, p, L = self.df, self._event_shape[-1], self._unbroadcasted_scale_tril
        return (-nu * (p * _LOG_2 / 2 + L.diagonal(dim1=-2, dim2=-1).log().sum(-1))
                - (nu / 2).mvlgamma(p) + (nu - p - 1) / 2 * slogdet(value)[1]
                - cholesky_solve(value, L).diagonal(dim1=-2, dim2=-1).sum(-1) / 2)

    def entropy(self) -> Tensor:
        nu, p, L = self.df, self._event_shape[-1], self._unbroadcasted_scale_tril
        return ((p + 1) * (p * _LOG_2 / 2 + L.diagonal(dim1=-2, dim2=-1).log().sum(-1))
                + (nu / 2).mvlgamma(p) - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p) + nu * p / 2)

    @property
    def _natural_params(self) -> tuple:
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (self.df - p - 1) / 2

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        from ..linalg import slogdet
        p = self._event_shape[-1]
        return (y + (p + 1) / 2) * (-slogdet(-2 * x)[1] + _LOG_2 * p) + (y + (p + 1) / 2).mvlgamma(p)

    def __repr__(self) -> str:
        return f"Wishart(df: {_short(self.df)}, event_shape: {self._event_shape})"


class LKJCholesky(Distribution):
    """The LKJ distribution over the Cholesky factors L of dim x dim correlation matrices:
    density proportional to det(L L^T)^(concentration - 1) (times the Jacobian to L); drawn by
    the onion method (Beta draws for the squared row norms, uniform directions), as torch."""
    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration: Any = 1.0, validate_args: bool | None = None) -> None:
        if not isinstance(dim, numbers.Integral) or isinstance(dim, bool) or dim < 2:
            raise ConfigError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = int(dim)
        (self.concentration,) = broadcast_all(concentration)
        super().__init__(self.concentration.shape, (self.dim, self.dim), validate_args=validate_args)
        marginal = self.concentration + 0.5 * (self.dim - 2)   # (after the check above: an error
        offset = arange(self.dim - 1, dtype=self.concentration.dtype,   # names concentration, not
                        device=self.concentration.device)               # the inner Beta's)
        offset = cat([offset.new_zeros((1,)), offset])
        self._beta = Beta(offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset, validate_args=False)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "LKJCholesky":
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = _size(batch_shape, "batch_shape")
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        return self._finish_expand(new, batch_shape)

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        from ..tensor import no_grad
        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u = randn(self._extended_shape(sample_shape), dtype=y.dtype, device=y.device).tril(-1)
            norm = (u * u).sum(-1, keepdim=True).sqrt()
            u = where(norm > 0, u / where(norm > 0, norm, ones_like(norm)), zeros_like(u))   # row 0 stays 0
            w = y.sqrt() * u
            tiny = float(finfo(w.dtype).tiny)
            return w + (1 - (w * w).sum(-1)).clamp(min=tiny).sqrt().diag_embed()

    def log_prob(self, value: Tensor) -> Tensor:
        """log prod L_ii^(2 (eta - 1) + D - i) less the normaliser (Lewandowski et al. 2009)."""
        if self._validate_args:
            self._validate_sample(value)
        diag = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = arange(2, self.dim + 1, dtype=self.concentration.dtype, device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diag.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        normalize = 0.5 * dm1 * math.log(math.pi) + (alpha - 0.5).mvlgamma(dm1) - alpha.lgamma() * dm1
        return unnormalized - normalize

    def __repr__(self) -> str:
        return f"LKJCholesky(dim: {self.dim}, concentration: {_short(self.concentration)})"
