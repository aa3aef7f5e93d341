"""torch.distributions.constraints: the sets that parameters and samples must lie in.

A constraint's ``check(value)`` returns a bool Tensor of ``value``'s shape less its
``event_dim`` rightmost dims (True where the value is valid); ``Distribution`` uses it to refuse
bad parameters and out-of-support values when ``validate_args`` is on."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["Constraint", "MixtureSameFamilyConstraint", "boolean", "cat", "corr_cholesky", "dependent", "dependent_property", "greater_than",
           "greater_than_eq", "half_open_interval", "independent", "integer_interval", "interval",
           "is_dependent", "less_than", "lower_cholesky", "lower_triangular", "multinomial", "nonnegative",
           "nonnegative_integer", "one_hot", "positive", "positive_definite", "positive_integer",
           "positive_semidefinite", "real", "real_vector", "simplex", "square", "stack", "symmetric",
           "unit_interval"]


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


class _Square(Constraint):
    """Square matrices: True (per matrix) where the last two dims are equal."""
    event_dim = 2

    def check(self, value):
        return Tensor._from(np.full(tuple(value.shape[:-2]), value.shape[-2] == value.shape[-1], bool),
                            device=value.device)


class _Symmetric(_Square):
    event_dim = 2

    def check(self, value):
        square = super().check(value)
        if not bool(square.all()):
            return square
        return _all_last((value - value.transpose(-2, -1)).abs() <= 1e-6 + 1e-5 * value.abs(), 2)


def _eigen_check(value: Tensor, positive: bool) -> Tensor:
    """All eigenvalues > 0 (``positive``) or >= 0 of each symmetric matrix in ``value``."""
    a = value.detach().numpy()
    if not a.size:
        return Tensor._from(np.ones(a.shape[:-2], bool), device=value.device)
    low = np.linalg.eigvalsh(a).min(-1)
    return Tensor._from(low > 0 if positive else low >= 0, device=value.device)


class _PositiveDefinite(_Symmetric):
    def check(self, value):
        """Symmetric, and a Cholesky factorisation exists (all eigenvalues > 0)."""
        symmetric = super().check(value)
        if not bool(symmetric.all()):
            return symmetric
        return _eigen_check(value, True)


class _PositiveSemidefinite(_Symmetric):
    def check(self, value):
        """Symmetric with all eigenvalues >= 0."""
        symmetric = super().check(value)
        if not bool(symmetric.all()):
            return symmetric
        return _eigen_check(value, False)


class _CorrCholesky(Constraint):
    """Lower-triangular square matrices with a positive diagonal and rows of unit length (the
    Cholesky factors of correlation matrices); the row norms within 10 * D * eps of 1."""
    event_dim = 2

    def check(self, value):
        from ..function_forms import finfo
        tol = float(finfo(value.dtype).eps) * value.shape[-1] * 10
        row_norm = (value.detach() ** 2).sum(-1).sqrt()
        unit = ((row_norm - 1.0).abs() <= tol).all(-1)
        return _LowerCholesky().check(value) & unit


class _Multinomial(Constraint):
    """Non-negative integer count vectors summing to at most ``upper_bound`` (torch checks the
    weaker ``sum <= upper_bound`` too)."""
    is_discrete, event_dim = True, 1

    def __init__(self, upper_bound: Any):
        self.upper_bound = upper_bound

    def check(self, value):
        return (value >= 0).all(-1) & (value.sum(-1) <= self.upper_bound)

    def __repr__(self):
        return f"Multinomial(upper_bound={self.upper_bound})"


def _check_cseq(cseq: Any, owner: str) -> list:
    from ..errors import ConfigError
    cseq = list(cseq)
    bad = [type(c).__name__ for c in cseq if not isinstance(c, Constraint)]
    if bad or not cseq:
        raise ConfigError(f"constraints.{owner}: cseq must be a non-empty sequence of Constraints, "
                          f"got {bad or 'an empty one'}")
    return cseq


def _check_dim(value: Tensor, dim: int, owner: str) -> None:
    from ..errors import ShapeError
    if not -value.ndim <= dim < value.ndim:
        raise ShapeError(f"{owner}: dim {dim} out of range for a value with {value.ndim} dimensions "
                         f"(shape {tuple(value.shape)})")


class _Cat(Constraint):
    """Constraint ``cseq[i]`` on the i-th block of ``lengths[i]`` entries along ``dim`` (as
    ``cat`` joins them)."""

    def __init__(self, cseq: Any, dim: int = 0, lengths: Any = None):
        self.cseq = _check_cseq(cseq, "cat")
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            from ..errors import ConfigError
            raise ConfigError(f"constraints.cat: {len(self.lengths)} lengths for {len(self.cseq)} constraints")
        self.dim = dim

    is_discrete = property(lambda self: any(c.is_discrete for c in self.cseq))
    event_dim = property(lambda self: max(c.event_dim for c in self.cseq))

    def check(self, value):
        from ..factory import cat as _cat
        _check_dim(value, self.dim, "constraints.cat")
        checks, start = [], 0
        for constraint, length in zip(self.cseq, self.lengths):
            checks.append(constraint.check(value.narrow(self.dim, start, length)))
            start += length
        return _cat(checks, self.dim)


class _Stack(Constraint):
    """Constraint ``cseq[i]`` on ``value.select(dim, i)`` (as ``stack`` joins them)."""

    def __init__(self, cseq: Any, dim: int = 0):
        self.cseq = _check_cseq(cseq, "stack")
        self.dim = dim

    is_discrete = property(lambda self: any(c.is_discrete for c in self.cseq))

    @property
    def event_dim(self) -> int:
        dim = max(c.event_dim for c in self.cseq)
        return dim + 1 if self.dim + dim < 0 else dim

    def check(self, value):
        from ..factory import stack as _stack
        _check_dim(value, self.dim, "constraints.stack")
        if value.shape[self.dim] != len(self.cseq):
            from ..errors import ShapeError
            raise ShapeError(f"constraints.stack: value has {value.shape[self.dim]} entries along dim "
                             f"{self.dim} but there are {len(self.cseq)} constraints")
        return _stack([c.check(value.select(self.dim, i)) for i, c in enumerate(self.cseq)], self.dim)


class MixtureSameFamilyConstraint(Constraint):
    """MixtureSameFamily's support: the component constraint checked on the value with the
    component dim put back (``unsqueeze(-1 - event_dim)``), then all() over the leftover dims."""

    def __init__(self, base_constraint: Constraint):
        if not isinstance(base_constraint, Constraint):
            from ..errors import ConfigError
            raise ConfigError("MixtureSameFamilyConstraint: base_constraint must be a Constraint, "
                              f"got {type(base_constraint).__name__}")
        self.base_constraint = base_constraint

    is_discrete = property(lambda self: self.base_constraint.is_discrete)
    event_dim = property(lambda self: self.base_constraint.event_dim)

    def check(self, value):
        if value.ndim < self.event_dim:
            from ..errors import ShapeError
            raise ShapeError(f"Expected value.dim() >= {self.event_dim} but got {value.ndim}")
        result = self.base_constraint.check(value.unsqueeze(-1 - self.event_dim))
        keep = value.ndim - self.event_dim
        return result.reshape(tuple(result.shape[:keep]) + (-1,)).all(-1)

    def __repr__(self):
        return f"MixtureSameFamilyConstraint({self.base_constraint!r})"


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
positive_semidefinite = _PositiveSemidefinite()
square = _Square()
corr_cholesky = _CorrCholesky()
multinomial = _Multinomial
cat = _Cat
stack = _Stack
