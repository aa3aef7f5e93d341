"""torch.distributions.constraints: the sets that parameters and samples must lie in.

A constraint's ``check(value)`` returns a bool Tensor of ``value``'s shape less its
``event_dim`` rightmost dims (True where the value is valid); ``Distribution`` uses it to refuse
bad parameters and out-of-support values when ``validate_args`` is on."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["Constraint", "boolean", "dependent", "dependent_property", "greater_than",
           "greater_than_eq", "half_open_interval", "independent", "integer_interval", "interval",
           "is_dependent", "less_than", "lower_cholesky", "lower_triangular", "nonnegative",
           "nonnegative_integer", "one_hot", "positive", "positive_definite", "positive_integer",
           "real", "real_vector", "simplex", "symmetric", "unit_interval"]


class Constraint:
    """A region of valid values: ``check(value)`` is a bool Tensor, ``event_dim`` how many
    rightmost dims make one event, ``is_discrete`` whether the region is countable."""
    is_discrete = False
    event_dim = 0

    def check(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__.lstrip("_") + "()"


class _Dependent(Constraint):
    """A placeholder for a constraint that depends on other parameters (never checked)."""

    def __init__(self, *, is_discrete: bool = False, event_dim: int = 0):
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def check(self, value: Tensor) -> Tensor:
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint: Any) -> bool:
    """True for ``dependent`` placeholders (their values are not checked)."""
    return isinstance(constraint, _Dependent)


class dependent_property(property, _Dependent):
    """A property that is a constraint depending on the instance (``Uniform.support``)."""

    def __init__(self, fn: Any = None, *, is_discrete: bool = False, event_dim: int = 0):
        property.__init__(self, fn)
        _Dependent.__init__(self, is_discrete=is_discrete, event_dim=event_dim)

    def __call__(self, fn: Any) -> "dependent_property":
        """``@dependent_property(is_discrete=..., event_dim=...)`` decorating ``fn``."""
        return dependent_property(fn, is_discrete=self.is_discrete, event_dim=self.event_dim)


class _Real(Constraint):
    def check(self, value):
        return value == value           # False at NaN only


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        return (value == 0) | (value == 1)


class _Bound(Constraint):
    """A one- or two-sided bound; ``lower``/``upper`` say which comparisons apply."""
    _lower_op = _upper_op = None

    def __init__(self, lower_bound: Any = None, upper_bound: Any = None):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        ok = None
        if self._lower_op is not None:
            ok = value > self.lower_bound if self._lower_op == "gt" else value >= self.lower_bound
        if self._upper_op is not None:
            up = value < self.upper_bound if self._upper_op == "lt" else value <= self.upper_bound
            ok = up if ok is None else ok & up
        return ok

    def __repr__(self):
        parts = [f"{name}={getattr(self, name)}" for name, op in
                 (("lower_bound", self._lower_op), ("upper_bound", self._upper_op)) if op]
        return f"{type(self).__name__.lstrip('_')}({', '.join(parts)})"


class _GreaterThan(_Bound):
    _lower_op = "gt"

    def __init__(self, lower_bound):
        super().__init__(lower_bound=lower_bound)


class _GreaterThanEq(_Bound):
    _lower_op = "ge"

    def __init__(self, lower_bound):
        super().__init__(lower_bound=lower_bound)


class _LessThan(_Bound):
    _upper_op = "lt"

    def __init__(self, upper_bound):
        super().__init__(upper_bound=upper_bound)


class _Interval(_Bound):
    _lower_op, _upper_op = "ge", "le"


class _HalfOpenInterval(_Bound):
    _lower_op, _upper_op = "ge", "lt"


class _IntegerInterval(_Interval):
    is_discrete = True

    def check(self, value):
        return (value % 1 == 0) & super().check(value)


class _IntegerGreaterThan(_GreaterThanEq):
    is_discrete = True

    def check(self, value):
        return (value % 1 == 0) & super().check(value)


def _all_last(mask: Tensor, n: int) -> Tensor:
    """``mask`` reduced by all() over its ``n`` rightmost dims."""
    if n == 0:
        return mask
    return mask.reshape(mask.shape[:mask.ndim - n] + (math.prod(mask.shape[mask.ndim - n:]),)).all(-1)


class _IndependentConstraint(Constraint):
    """``base_constraint`` with its ``reinterpreted_batch_ndims`` rightmost batch dims made event
    dims (checked with all())."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int):
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        self.is_discrete = base_constraint.is_discrete
        self.event_dim = base_constraint.event_dim + reinterpreted_batch_ndims

    def check(self, value):
        return _all_last(self.base_constraint.check(value), self.reinterpreted_batch_ndims)

    def __repr__(self):
        return f"IndependentConstraint({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value):
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _OneHot(Constraint):
    is_discrete, event_dim = True, 1

    def check(self, value):
        return ((value == 0) | (value == 1)).all(-1) & (value.sum(-1) == 1)


class _LowerTriangular(Constraint):
    event_dim = 2

    def check(self, value):
        return _all_last(value.tril() == value, 2)


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        return _all_last(value.tril() == value, 2) & (value.diagonal(dim1=-2, dim2=-1) > 0).all(-1)


class _Symmetric(Constraint):
    event_dim = 2

    def check(self, value):
        return _all_last((value - value.transpose(-2, -1)).abs() <= 1e-6 + 1e-5 * value.abs(), 2)


class _PositiveDefinite(_Symmetric):
    def check(self, value):
        """Symmetric, and a Cholesky factorisation exists (all eigenvalues > 0)."""
        symmetric = super().check(value)
        a = value.detach().numpy()
        positive = np.linalg.eigvalsh(a).min(-1) > 0 if a.size else np.ones(a.shape[:-2], bool)
        return symmetric & Tensor._from(positive, device=value.device)


dependent = _Dependent()
real = _Real()
real_vector = _IndependentConstraint(real, 1)
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
interval = _Interval
half_open_interval = _HalfOpenInterval
independent = _IndependentConstraint
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
unit_interval = _Interval(0.0, 1.0)
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
symmetric = _Symmetric()
positive_definite = _PositiveDefinite()
