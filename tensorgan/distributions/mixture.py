"""torch.distributions.MixtureSameFamily: a Categorical mixture of components of one family
(a Gaussian mixture prior: ``MixtureSameFamily(Categorical(w), Independent(Normal(mu, s), 1))``)."""
from __future__ import annotations

from typing import Any, Sequence

from ..errors import ConfigError, ShapeError
from ..tensor import Tensor
from . import constraints
from .discrete import Categorical
from .distribution import Distribution, _size

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    """p(x) = sum_k w_k p_k(x): ``mixture_distribution`` a Categorical over the rightmost batch
    dim of ``component_distribution``; log_prob by logsumexp. No rsample (as torch)."""
    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, mixture_distribution: Categorical, component_distribution: Distribution,
                 validate_args: bool | None = None) -> None:
        if not isinstance(mixture_distribution, Categorical):
            raise ConfigError("The Mixture distribution needs to be an instance of Categorical, "
                              f"got {type(mixture_distribution).__name__}")
        if not isinstance(component_distribution, Distribution):
            raise ConfigError("The Component distribution needs to be an instance of Distribution, "
                              f"got {type(component_distribution).__name__}")
        mdbs, cdbs = mixture_distribution.batch_shape, component_distribution.batch_shape[:-1]
        if len(component_distribution.batch_shape) < 1:
            raise ShapeError("component_distribution must have at least one batch dimension (the "
                             "mixture components)")
        for a, b in zip(reversed(mdbs), reversed(cdbs)):
            if a != 1 and b != 1 and a != b:
                raise ShapeError(f"`mixture_distribution.batch_shape` ({mdbs}) is not compatible "
                                 f"with `component_distribution.batch_shape` ({cdbs})")
        k_mix = mixture_distribution.logits.shape[-1]
        k_comp = component_distribution.batch_shape[-1]
        if k_mix != k_comp:
            raise ShapeError(f"`mixture_distribution component` ({k_mix}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({k_comp})")
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        self._num_component = k_mix
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(cdbs, component_distribution.event_shape, validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "MixtureSameFamily":
        batch_shape = _size(batch_shape, "batch_shape")
        new = self._get_checked_instance(MixtureSameFamily, _instance)
        new._component_distribution = self._component_distribution.expand(batch_shape + (self._num_component,))
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        new._num_component, new._event_ndims = self._num_component, self._event_ndims
        return self._finish_expand(new, batch_shape)

    mixture_distribution = property(lambda self: self._mixture_distribution)
    component_distribution = property(lambda self: self._component_distribution)

    @constraints.dependent_property
    def support(self) -> constraints.Constraint:
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    def _pad(self, x: Tensor) -> Tensor:
        """``x`` with a singleton mixture dim before its event dims."""
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture(self, probs: Tensor) -> Tensor:
        """Mixture weights shaped to broadcast against the components (trailing event dims)."""
        return probs.reshape(tuple(probs.shape) + (1,) * self._event_ndims)

    def _weighted(self, values: Tensor) -> Tensor:
        return (self._pad_mixture(self._mixture_distribution.probs) * values).sum(-1 - self._event_ndims)

    @property
    def mean(self) -> Tensor:
        return self._weighted(self._component_distribution.mean)

    @property
    def variance(self) -> Tensor:
        """E[Var(X | k)] + Var(E[X | k])."""
        comp = self._component_distribution
        cond_mean = comp.mean
        return self._weighted(comp.variance) + self._weighted((cond_mean - self._pad(self.mean)).pow(2))

    def cdf(self, x: Tensor) -> Tensor:
        cdf_x = self._component_distribution.cdf(self._pad(x))
        return (cdf_x * self._mixture_distribution.probs).sum(-1)

    def log_prob(self, x: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self._component_distribution.log_prob(self._pad(x))
        log_mix = self._mixture_distribution.logits.log_softmax(-1)
        return (log_prob_x + log_mix).logsumexp(-1)

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """A component index per draw, then that component's draw (gathered)."""
        sample_shape = _size(sample_shape)
        idx = self._mixture_distribution.sample(sample_shape)
        comp = self._component_distribution.sample(sample_shape)
        gather_dim = len(sample_shape) + len(self._batch_shape)
        idx = idx.reshape(tuple(idx.shape) + (1,) * (1 + self._event_ndims))
        idx = idx.expand(tuple(idx.shape[:gather_dim]) + (1,) + self._event_shape)
        return comp.gather(gather_dim, idx).squeeze(gather_dim)

    def __repr__(self) -> str:
        return (f"MixtureSameFamily(\n  {self._mixture_distribution!r},\n  "
                f"{self._component_distribution!r})")
