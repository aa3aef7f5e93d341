"""Count families of torch.distributions: Poisson, Binomial, Geometric, NegativeBinomial and
Multinomial. Samples are drawn by NumPy's generator (tensorgan's default generator, so
``tg.manual_seed`` reproduces them) and carry no gradient, as torch's."""
from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import numpy as np

from .. import functional as F
from ..errors import ConfigError, InputTypeError
from ..factory import arange, where
from ..function_forms import finfo
from ..random import default_generator
from ..tensor import Tensor
from . import constraints
from .discrete import Categorical, _BinaryProbs
from .distribution import Distribution, Elementwise, _size, broadcast_all, standard_uniform
from .exp_family import ExponentialFamily

__all__ = ["Binomial", "Geometric", "Multinomial", "NegativeBinomial", "Poisson"]


def _drawn(array: np.ndarray, like: Tensor) -> Tensor:
    """NumPy draws as a Tensor of ``like``'s float dtype and device."""
    return Tensor._from(np.asarray(array).astype(like.numpy().dtype), device=like.device)


def _np(t: Tensor, shape: tuple) -> np.ndarray:
    return np.broadcast_to(t.detach().numpy().astype(np.float64), shape)


def _clamp_by_zero(x: Tensor) -> Tensor:
    """max(x, 0) with gradient 1/2 at 0 (torch's helper for the Binomial normaliser)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Poisson(Elementwise, ExponentialFamily):
    """Poisson(rate): counts k with probability rate^k exp(-rate) / k!."""
    _natural_params = property(lambda self: (self.rate.log(),))

    def _log_normalizer(self, x):
        return x.exp()

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer
    _param_names = ("rate",)

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        super().__init__({"rate": rate}, validate_args)

    mean = variance = property(lambda self: self.rate)
    mode = property(lambda self: self.rate.floor())

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return _drawn(default_generator.rng.poisson(_np(self.rate, shape)), self.rate)

    def log_prob(self, value: Tensor) -> Tensor:
        value = self._validated(value)
        rate, value = broadcast_all(self.rate, value)
        return value.xlogy(rate) - rate - (value + 1).lgamma()


class Binomial(_BinaryProbs):
    """Successes in ``total_count`` trials of success probability ``probs`` (or sigmoid(logits))."""
    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True
    _other_params = ("total_count",)

    def __init__(self, total_count: Any = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        self._init_param(probs, logits, validate_args, total_count=total_count)
        self.total_count = self.total_count.to(self._param.dtype)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.total_count)

    mean = property(lambda self: self.total_count * self.probs)
    mode = property(lambda self: ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count))
    variance = property(lambda self: self.total_count * self.probs * (1 - self.probs))

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        n = _np(self.total_count, shape).astype(np.int64)
        return _drawn(default_generator.rng.binomial(n, _np(self.probs, shape)), self._param)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        normalize = n * _clamp_by_zero(logits) + n * (-logits.abs()).exp().log1p() - (n + 1).lgamma()
        return value * logits - (value + 1).lgamma() - (n - value + 1).lgamma() - normalize

    def entropy(self) -> Tensor:
        """-sum_k p(k) log p(k) over 0..total_count (one total_count for the whole batch)."""
        top = int(self.total_count.max().item())
        if int(self.total_count.min().item()) != top:
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        top = int(self.total_count.max().item())
        if int(self.total_count.min().item()) != top:
            raise NotImplementedError("Inhomogeneous total count not supported by `enumerate_support`.")
        values = arange(1 + top, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values


class Geometric(_BinaryProbs):
    """Failures before the first success, success probability ``probs`` in (0, 1]."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        self._init_param(probs, logits, validate_args)
        if self._validate_args and probs is not None and not bool((self.probs > 0).all()):
            raise ConfigError(f"Expected parameter probs (Tensor of shape {tuple(self.probs.shape)}) "
                              f"of distribution {self!r} to be positive but found invalid values:\n{self.probs}")

    mean = property(lambda self: 1.0 / self.probs - 1.0)
    mode = property(lambda self: (self.probs * 0).detach())
    variance = property(lambda self: (1.0 / self.probs - 1.0) / self.probs)

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """floor(log u / log(1 - p)), u ~ U(tiny, 1)."""
        shape = self._extended_shape(sample_shape)
        probs = self.probs.detach()
        u = standard_uniform(shape, probs).clamp(min=float(finfo(probs.dtype).tiny))
        return (u.log() / (-probs).log1p()).floor()

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        # P(0) = 1 at probs 1: log(1 - p) is -inf there, so zero p first (as torch) rather than
        # masking the log afterwards, whose backward would multiply 0 by inf (NaN gradient)
        probs = where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self) -> Tensor:
        """-log p - (1 - p) log(1 - p) / p, 0 at p = 1. (torch's BCE(logits, p) / p takes its
        logits from probs clamped at eps, so below p ~ 1e-16 it returns 0 or ~1e284.)"""
        p = self.probs
        certain = p == 1
        safe = where(certain, 0.5, p)
        h = -safe.log() - (1 - safe) * (-safe).log1p() / safe
        return where(certain, 0.0, h)


class NegativeBinomial(_BinaryProbs):
    """Successes (probability ``probs``) before ``total_count`` failures."""
    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0), "logits": constraints.real}
    support = constraints.nonnegative_integer
    _other_params = ("total_count",)

    def __init__(self, total_count: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        self._init_param(probs, logits, validate_args, total_count=total_count)
        self.total_count = self.total_count.to(self._param.dtype)

    mean = property(lambda self: self.total_count * self.logits.exp())
    mode = property(lambda self: ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0))
    variance = property(lambda self: self.mean / (-self.logits).sigmoid())

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """A Poisson draw at a Gamma(total_count, (1 - p) / p)-distributed rate."""
        shape = self._extended_shape(sample_shape)
        rng = default_generator.rng
        n = _np(self.total_count, shape)
        rate = rng.standard_gamma(np.where(n > 0, n, 1.0)) * _np(self.logits.exp(), shape)
        return _drawn(np.where(n > 0, rng.poisson(rate), 0), self._param)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        unnormalized = n * F.logsigmoid(-self.logits) + value * F.logsigmoid(self.logits)
        normalization = -(n + value).lgamma() + (1.0 + value).lgamma() + n.lgamma()
        normalization = where(n + value == 0.0, 0.0, normalization)
        return unnormalized - normalization


_MultinomialSupport = constraints.multinomial


class Multinomial(Distribution):
    """Counts of each of K categories (``event_shape`` (K,)) in ``total_count`` Categorical draws."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count: int = 1, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        if isinstance(total_count, bool) or not isinstance(total_count, numbers.Integral):
            raise InputTypeError(f"Multinomial: total_count must be an int (inhomogeneous "
                                 f"total_count is not supported), got {type(total_count).__name__}")
        self.total_count = int(total_count)
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def _check_parameters(self) -> None:
        """Checked by the Categorical."""

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Multinomial":
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = _size(batch_shape, "batch_shape")
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        return self._finish_expand(new, batch_shape)

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self) -> constraints.Constraint:
        return _MultinomialSupport(self.total_count)

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    param_shape = property(lambda self: self._categorical.param_shape)
    mean = property(lambda self: self.probs * self.total_count)
    variance = property(lambda self: self.total_count * self.probs * (1 - self.probs))

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        p = _np(self.probs, shape)
        p = p / p.sum(-1, keepdims=True)
        return _drawn(default_generator.rng.multinomial(self.total_count, p), self.probs)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        logits = where((value == 0) & (logits == -math.inf), 0.0, logits)
        return (value.sum(-1) + 1).lgamma() - (value + 1).lgamma().sum(-1) + (logits * value).sum(-1)

    def entropy(self) -> Tensor:
        """n H(Categorical) - log n! + sum_k E[log x_k!], x_k ~ Binomial(n, p_k)."""
        n = self.total_count
        binomial = Binomial(n, self.probs, validate_args=False)
        support = binomial.enumerate_support(expand=False)[1:]
        weights = (support + 1).lgamma()
        term2 = (binomial.log_prob(support).exp() * weights).sum(0).sum(-1)
        return n * self._categorical.entropy() - math.lgamma(n + 1) + term2
