"""torch.distributions.constraint_registry: ``biject_to(c)`` (a bijective Transform from
unconstrained space onto constraint ``c``) and ``transform_to(c)`` (any Transform onto it, e.g.
softmax for the simplex): optimise unconstrained parameters, map them into their support."""
from __future__ import annotations

import numbers
from typing import Any, Callable

from ..errors import ConfigError
from . import constraints, transforms

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]


class ConstraintRegistry:
    """Constraint type -> factory(constraint) returning a Transform; ``register`` adds one."""

    def __init__(self) -> None:
        self._registry: dict = {}

    def register(self, constraint: Any, factory: Callable | None = None) -> Callable:
        """Register ``factory`` for a Constraint subclass or instance (usable as a decorator)."""
        if factory is None:
            return lambda f: self.register(constraint, f)
        if isinstance(constraint, constraints.Constraint):
            constraint = type(constraint)
        if not (isinstance(constraint, type) and issubclass(constraint, constraints.Constraint)):
            raise ConfigError("Expected constraint to be either a Constraint subclass or instance, "
                              f"but got {constraint!r}")
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint: constraints.Constraint) -> transforms.Transform:
        try:
            factory = self._registry[type(constraint)]
        except KeyError:
            raise NotImplementedError(f"Cannot transform {type(constraint).__name__} constraints") from None
        return factory(constraint)


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _both(constraint_type: type, factory: Callable) -> None:
    biject_to.register(constraint_type, factory)
    transform_to.register(constraint_type, factory)


def _shifted_exp(bound: Any, direction: int) -> transforms.Transform:
    return transforms.ComposeTransform([transforms.ExpTransform(), transforms.AffineTransform(bound, direction)])


def _interval(c: Any) -> transforms.Transform:
    """Sigmoid, then scaled and shifted onto [lower_bound, upper_bound]."""
    lo, hi = c.lower_bound, c.upper_bound
    if isinstance(lo, numbers.Number) and isinstance(hi, numbers.Number) and lo == 0 and hi == 1:
        return transforms.SigmoidTransform()
    return transforms.ComposeTransform([transforms.SigmoidTransform(), transforms.AffineTransform(lo, hi - lo)])


def _positive(c: Any) -> transforms.Transform:
    lo = c.lower_bound
    if isinstance(lo, numbers.Number) and lo == 0:
        return transforms.ExpTransform()
    return _shifted_exp(lo, 1)


_both(constraints._Real, lambda c: transforms.identity_transform)
_both(constraints._GreaterThan, _positive)
_both(constraints._GreaterThanEq, _positive)
_both(constraints._LessThan, lambda c: _shifted_exp(c.upper_bound, -1))
_both(constraints._Interval, _interval)
_both(constraints._HalfOpenInterval, _interval)
_both(constraints._IndependentConstraint,
      lambda c: transforms.IndependentTransform(biject_to(c.base_constraint), c.reinterpreted_batch_ndims))
transform_to.register(constraints._IndependentConstraint,
                      lambda c: transforms.IndependentTransform(transform_to(c.base_constraint), c.reinterpreted_batch_ndims))
biject_to.register(constraints._Simplex, lambda c: transforms.StickBreakingTransform())
transform_to.register(constraints._Simplex, lambda c: transforms.SoftmaxTransform())
transform_to.register(constraints._LowerCholesky, lambda c: transforms.LowerCholeskyTransform())
transform_to.register(constraints._PositiveDefinite, lambda c: transforms.PositiveDefiniteTransform())
transform_to.register(constraints._PositiveSemidefinite, lambda c: transforms.PositiveDefiniteTransform())
_both(constraints._CorrCholesky, lambda c: transforms.CorrCholeskyTransform())
biject_to.register(constraints._Cat, lambda c: transforms.CatTransform([biject_to(p) for p in c.cseq], c.dim, c.lengths))
transform_to.register(constraints._Cat,
                      lambda c: transforms.CatTransform([transform_to(p) for p in c.cseq], c.dim, c.lengths))
biject_to.register(constraints._Stack, lambda c: transforms.StackTransform([biject_to(p) for p in c.cseq], c.dim))
transform_to.register(constraints._Stack,
                      lambda c: transforms.StackTransform([transform_to(p) for p in c.cseq], c.dim))
