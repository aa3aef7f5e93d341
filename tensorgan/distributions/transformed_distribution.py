"""torch.distributions.TransformedDistribution: a base distribution pushed through a chain of
Transforms; log_prob by the change of variables (base log_prob of the inverse minus the log
|det| of each transform)."""
from __future__ import annotations

from typing import Any, Sequence

from ..errors import ConfigError, ShapeError
from ..tensor import Tensor, no_grad
from . import constraints
from .distribution import Distribution, _size, sum_rightmost
from .independent import Independent
from .transforms import ComposeTransform, Transform

__all__ = ["TransformedDistribution"]


def _transform_list(transforms: Any) -> list:
    if isinstance(transforms, Transform):
        return [transforms]
    if isinstance(transforms, (list, tuple)) and all(isinstance(t, Transform) for t in transforms):
        return list(transforms)
    raise ConfigError("transforms must be a Transform or a list of Transforms, got "
                      f"{type(transforms).__name__}")


class TransformedDistribution(Distribution):
    """y = t_n(...t_1(x)), x ~ ``base_distribution``; the base is expanded and made
    ``Independent`` as far as the transforms' event dims need."""
    arg_constraints: dict = {}

    def __init__(self, base_distribution: Distribution, transforms: Any,
                 validate_args: bool | None = None) -> None:
        if not isinstance(base_distribution, Distribution):
            raise ConfigError("TransformedDistribution: base_distribution must be a Distribution, "
                              f"got {type(base_distribution).__name__}")
        self.transforms = _transform_list(transforms)
        base_shape = base_distribution.batch_shape + base_distribution.event_shape
        base_event_dim = len(base_distribution.event_shape)
        transform = ComposeTransform(self.transforms)
        if len(base_shape) < transform.domain.event_dim:
            raise ShapeError(f"base_distribution needs at least {transform.domain.event_dim} "
                             f"dimensions, but got {len(base_shape)}: {base_shape}")
        forward_shape = transform.forward_shape(base_shape)
        expanded = transform.inverse_shape(forward_shape)
        if base_shape != expanded:
            base_distribution = base_distribution.expand(expanded[:len(expanded) - base_event_dim])
        if transform.domain.event_dim > base_event_dim:
            base_distribution = Independent(base_distribution, transform.domain.event_dim - base_event_dim)
        self.base_dist = base_distribution
        change = transform.codomain.event_dim - transform.domain.event_dim
        event_dim = max(transform.codomain.event_dim, base_event_dim + change)
        cut = len(forward_shape) - event_dim
        super().__init__(forward_shape[:cut], forward_shape[cut:], validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "TransformedDistribution":
        new = self._get_checked_instance(TransformedDistribution, _instance)
        batch_shape = _size(batch_shape, "batch_shape")
        shape = batch_shape + self._event_shape
        for t in reversed(self.transforms):
            shape = t.inverse_shape(shape)
        new.base_dist = self.base_dist.expand(shape[:len(shape) - len(self.base_dist.event_shape)])
        new.transforms = self.transforms
        return self._finish_expand(new, batch_shape)

    @constraints.dependent_property(is_discrete=False)
    def support(self) -> constraints.Constraint:
        if not self.transforms:
            return self.base_dist.support
        support = self.transforms[-1].codomain
        if len(self._event_shape) > support.event_dim:
            support = constraints.independent(support, len(self._event_shape) - support.event_dim)
        return support

    has_rsample = property(lambda self: self.base_dist.has_rsample)

    def _push(self, x: Tensor) -> Tensor:
        for t in self.transforms:
            x = t(x)
        return x

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        with no_grad():
            return self._push(self.base_dist.sample(sample_shape))

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        return self._push(self.base_dist.rsample(sample_shape))

    def log_prob(self, value: Tensor) -> Tensor:
        """Change of variables: base.log_prob(x) - sum of log|dy/dx| along the chain."""
        if self._validate_args:
            self._validate_sample(value)
        event_dim = len(self._event_shape)
        log_prob, y = 0.0, value
        for t in reversed(self.transforms):
            x = t.inv(y)
            event_dim += t.domain.event_dim - t.codomain.event_dim
            log_prob = log_prob - sum_rightmost(t.log_abs_det_jacobian(x, y), event_dim - t.domain.event_dim)
            y = x
        return log_prob + sum_rightmost(self.base_dist.log_prob(y), event_dim - len(self.base_dist.event_shape))

    def _monotonize_cdf(self, value: Tensor) -> Tensor:
        """``value`` or 1 - ``value`` as the chain increases or decreases."""
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value: Tensor) -> Tensor:
        for t in reversed(self.transforms):
            value = t.inv(value)
        if self._validate_args:
            self.base_dist._validate_sample(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def icdf(self, value: Tensor) -> Tensor:
        return self._push(self.base_dist.icdf(self._monotonize_cdf(value)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
