"""Discrete families of torch.distributions: Bernoulli, Categorical, OneHotCategorical, each
parameterised by ``probs`` or ``logits`` (the other computed lazily, as torch)."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import functional as F
from ..errors import ConfigError, ShapeError
from ..factory import arange, eye, full, where
from ..function_forms import finfo
from ..tensor import Tensor, int64
from . import constraints
from .distribution import Distribution, _size, broadcast_all, lazy_property, standard_uniform
from .exp_family import ExponentialFamily

__all__ = ["Bernoulli", "Categorical", "OneHotCategorical", "OneHotCategoricalStraightThrough",
           "clamp_probs", "logits_to_probs", "probs_to_logits"]


def clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` clamped to [eps, 1 - eps] (eps of its dtype), so that their logs are finite."""
    eps = float(finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Log-odds (``is_binary``) or log-probabilities of clamped ``probs``."""
    p = clamp_probs(probs)
    return p.log() - (-p).log1p() if is_binary else p.log()


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """sigmoid of log-odds (``is_binary``) or softmax over the last dim."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def _one_of(probs: Any, logits: Any) -> None:
    if (probs is None) == (logits is None):
        raise ConfigError("Either `probs` or `logits` must be specified, but not both.")


class _ProbsOrLogits(Distribution):
    """Shared ``expand`` for families holding ``probs`` and / or ``logits`` of ``param_shape``."""

    def _expand_params(self, new: Any, param_shape: tuple) -> None:
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(param_shape))
                new._param = getattr(new, name)

    @property
    def param_shape(self) -> tuple:
        return tuple(self._param.shape)


class _BinaryProbs(_ProbsOrLogits):
    """A family with one success probability per batch entry, given as ``probs`` or ``logits``
    (log-odds; the other computed lazily), broadcast with the ``others`` parameters."""

    def _init_param(self, probs: Any, logits: Any, validate_args: bool | None, **others: Any) -> None:
        _one_of(probs, logits)
        name, given = ("probs", probs) if probs is not None else ("logits", logits)
        values = broadcast_all(given, *others.values())
        self._param = values[0]
        setattr(self, name, self._param)
        for other, value in zip(others, values[1:]):
            setattr(self, other, value)
        scalar = not any(isinstance(v, Tensor) for v in (given, *others.values()))
        super().__init__(() if scalar else self._param.shape, validate_args=validate_args)

    def _extra_expand(self, new: Any) -> None:
        """Copy / expand what ``expand`` must carry besides probs / logits."""

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> Distribution:
        new = self._get_checked_instance(type(self), _instance)
        batch_shape = _size(batch_shape, "batch_shape")
        self._expand_params(new, batch_shape)
        for name in getattr(self, "_other_params", ()):
            setattr(new, name, getattr(self, name).expand(batch_shape))
        self._extra_expand(new)
        return self._finish_expand(new, batch_shape)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)


class Bernoulli(_BinaryProbs, ExponentialFamily):
    """1 with probability ``probs`` (= sigmoid(``logits``)), else 0."""
    _mean_carrier_measure = 0
    _natural_params = property(lambda self: (self.probs.logit(),))

    def _log_normalizer(self, x):
        return x.exp().log1p()

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        self._init_param(probs, logits, validate_args)

    mean = property(lambda self: self.probs)
    variance = property(lambda self: self.probs * (1 - self.probs))

    @property
    def mode(self) -> Tensor:
        """1 where probs > 1/2, 0 below, NaN at exactly 1/2."""
        p = self.probs.detach()
        return where(p == 0.5, math.nan, (p >= 0.5).to(p.dtype))

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        p = self.probs.detach().expand(shape)
        return (standard_uniform(shape, p) < p).to(p.dtype)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((2,) + self._batch_shape) if expand else values


class Categorical(_ProbsOrLogits):
    """Integers 0..K-1 with probabilities ``probs`` (normalised over the last dim) or
    softmax(``logits``); the leading dims of the parameter are ``batch_shape``."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        _one_of(probs, logits)
        name, given = ("probs", probs) if probs is not None else ("logits", logits)
        (given,) = broadcast_all(given)
        if given.ndim < 1:
            raise ShapeError(f"`{name}` parameter must be at least one-dimensional, got shape ()")
        if probs is not None:
            self.probs = given / given.sum(-1, keepdim=True)
        else:
            self.logits = given - given.logsumexp(-1, keepdim=True)
        self._param = getattr(self, name)
        self._num_events = given.shape[-1]
        super().__init__(given.shape[:-1], validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Categorical":
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = _size(batch_shape, "batch_shape")
        self._expand_params(new, batch_shape + (self._num_events,))
        new._num_events = self._num_events
        return self._finish_expand(new, batch_shape)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits)

    def _nan(self) -> Tensor:
        return full(self._extended_shape(), math.nan, dtype=self.probs.dtype, device=self.probs.device)

    mean = variance = property(_nan)
    mode = property(lambda self: self.probs.argmax(-1))

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """Class indices (int64) by inverting the cumulative probabilities at u ~ U[0, 1)."""
        shape = self._extended_shape(sample_shape)
        cdf = self.probs.detach().cumsum(-1)
        u = standard_uniform(shape, cdf)
        xp = cdf.device.xp
        counts = (u.array[..., None] * cdf.array[..., -1:] >= cdf.array).sum(-1)
        return Tensor._from(xp.minimum(counts, self._num_events - 1).astype(np.int64), device=cdf.device)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        index = value.to(int64).unsqueeze(-1)
        shape = np.broadcast_shapes(index.shape, self.logits.shape)
        log_pmf = self.logits.expand(shape)
        return log_pmf.gather(-1, index.expand(shape[:-1] + (1,))).squeeze(-1)

    def entropy(self) -> Tensor:
        logits = self.logits.clamp(min=float(finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(self._num_events, dtype=int64, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((self._num_events,) + self._batch_shape) if expand else values


class OneHotCategorical(Distribution):
    """One-hot vectors of length K (``event_shape`` (K,)) drawn as a Categorical (no rsample, as
    torch: OneHotCategoricalStraightThrough has the straight-through one)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits, validate_args=False)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "OneHotCategorical":
        new = self._get_checked_instance(OneHotCategorical, _instance)
        batch_shape = _size(batch_shape, "batch_shape")
        new._categorical = self._categorical.expand(batch_shape)
        return self._finish_expand(new, batch_shape)

    _param = property(lambda self: self._categorical._param)
    probs = mean = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    param_shape = property(lambda self: self._categorical.param_shape)
    variance = property(lambda self: self._categorical.probs * (1 - self._categorical.probs))

    @property
    def mode(self) -> Tensor:
        probs = self._categorical.probs
        return F.one_hot(probs.argmax(-1), probs.shape[-1]).to(probs.dtype)

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        probs = self._categorical.probs
        return F.one_hot(self._categorical.sample(sample_shape), self._categorical._num_events).to(probs.dtype)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        n = self._event_shape[0]
        values = eye(n, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((n,) + (1,) * len(self._batch_shape) + (n,))
        return values.expand((n,) + self._batch_shape + (n,)) if expand else values

    def __repr__(self) -> str:
        p = self._categorical._param
        return f"{type(self).__name__}({'probs' if 'probs' in self._categorical.__dict__ else 'logits'}: {tuple(p.shape)})"


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose ``rsample`` is the straight-through estimator (Bengio et al.
    2013): the one-hot draw in the forward pass, the gradient of ``probs`` in the backward."""
    has_rsample = True

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        probs = self._categorical.probs
        return self.sample(sample_shape) + (probs - probs.detach())
