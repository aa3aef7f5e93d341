"""torch.distributions.MultivariateNormal: N(loc, Sigma) with Sigma given as a covariance,
a precision or its lower Cholesky factor; everything is computed from the factor L (L L^T =
Sigma), with tg.linalg.cholesky / solve / inv."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import linalg
from ..broadcasting import broadcast_shape
from ..errors import ConfigError, ShapeError
from ..factory import eye
from ..function_forms import flip
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, _size, lazy_property, standard_normal

__all__ = ["MultivariateNormal"]


def _precision_to_scale_tril(P: Tensor) -> Tensor:
    """The lower Cholesky factor of P^-1, as torch: flip, factor, flip back, invert."""
    Lf = linalg.cholesky(flip(P, (-2, -1)))
    L_inv = flip(Lf, (-2, -1)).transpose(-2, -1)
    return solve_tril(L_inv, eye(P.shape[-1], dtype=P.dtype, device=P.device))


def solve_tril(L: Tensor, B: Tensor) -> Tensor:
    """X with L X = B for lower-triangular L (its upper triangle ignored and given no gradient,
    as torch.linalg.solve_triangular(upper=False))."""
    return linalg.solve(L.tril(), B)


def _mahalanobis(L: Tensor, x: Tensor) -> Tensor:
    """x^T (L L^T)^-1 x over the last dim of x, batch dims of L and x broadcast."""
    batch = np.broadcast_shapes(L.shape[:-2], x.shape[:-1])
    n = x.shape[-1]
    y = solve_tril(L.expand(batch + (n, n)), x.expand(batch + (n,)).unsqueeze(-1))
    return y.squeeze(-1).pow(2).sum(-1)


def _half_log_det(L: Tensor) -> Tensor:
    return L.diagonal(dim1=-2, dim2=-1).log().sum(-1)


class MultivariateNormal(Distribution):
    """N(loc, Sigma) over vectors (``event_shape`` (n,)); exactly one of ``covariance_matrix``,
    ``precision_matrix``, ``scale_tril``; ``rsample`` is loc + L eps."""
    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None,
                 precision_matrix: Tensor | None = None, scale_tril: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        if not isinstance(loc, Tensor) or loc.ndim < 1:
            raise ShapeError(f"loc must be at least one-dimensional, got "
                             f"{tuple(loc.shape) if isinstance(loc, Tensor) else type(loc).__name__}")
        given = {k: v for k, v in (("covariance_matrix", covariance_matrix),
                                   ("precision_matrix", precision_matrix),
                                   ("scale_tril", scale_tril)) if v is not None}
        if len(given) != 1:
            raise ConfigError("Exactly one of covariance_matrix or precision_matrix or scale_tril "
                              f"may be specified, got {sorted(given) or 'none'}")
        (name, matrix), = given.items()
        if not isinstance(matrix, Tensor) or matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2]:
            raise ShapeError(f"{name} must be at least two-dimensional and square in its last two "
                             "dims, with optional leading batch dimensions, got "
                             f"{tuple(matrix.shape) if isinstance(matrix, Tensor) else type(matrix).__name__}")
        n = loc.shape[-1]
        if matrix.shape[-1] != n:
            raise ShapeError(f"{name} {tuple(matrix.shape)} does not fit loc {tuple(loc.shape)}: "
                             f"the event size is {n}")
        batch = tuple(broadcast_shape("the batch dims of loc {loc} and {name} {matrix} do not broadcast",
                                      matrix.shape[:-2], loc.shape[:-1], loc=tuple(loc.shape),
                                      name=name, matrix=tuple(matrix.shape)))
        setattr(self, name, matrix.expand(batch + (n, n)))
        self.loc = loc.expand(batch + (n,))
        super().__init__(batch, (n,), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "MultivariateNormal":
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = _size(batch_shape, "batch_shape")
        new.loc = self.loc.expand(batch_shape + self._event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(batch_shape + self._event_shape * 2))
        return self._finish_expand(new, batch_shape)

    def _full(self, matrix: Tensor) -> Tensor:
        return matrix.expand(self._batch_shape + self._event_shape * 2)

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._full(self._unbroadcasted_scale_tril)

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return self._full(L @ L.transpose(-2, -1))

    @lazy_property
    def precision_matrix(self) -> Tensor:
        L_inv = linalg.inv(self._unbroadcasted_scale_tril)
        return self._full(L_inv.transpose(-2, -1) @ L_inv)

    mean = mode = property(lambda self: self.loc)

    @property
    def variance(self) -> Tensor:
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(self._batch_shape + self._event_shape)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        eps = standard_normal(self._extended_shape(sample_shape), self.loc)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        M = _mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + M) - _half_log_det(self._unbroadcasted_scale_tril)

    def entropy(self) -> Tensor:
        n = self._event_shape[0]
        H = 0.5 * n * (1.0 + math.log(2 * math.pi)) + _half_log_det(self._unbroadcasted_scale_tril)
        return H.expand(self._batch_shape)
