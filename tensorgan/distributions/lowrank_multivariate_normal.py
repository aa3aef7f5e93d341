"""torch.distributions.LowRankMultivariateNormal: N(loc, W W^T + diag(D)) with a low-rank
``cov_factor`` W (n x r) and ``cov_diag`` D; log_prob and entropy by the Woodbury identity and
the r x r capacitance matrix I + W^T D^-1 W, so the cost is O(n r^2), not O(n^3)."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import linalg
from ..broadcasting import broadcast_shape
from ..errors import ShapeError
from ..factory import eye
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, _size, lazy_property, standard_normal
from .multivariate_normal import solve_tril

__all__ = ["LowRankMultivariateNormal"]


def _capacitance_tril(W: Tensor, D: Tensor) -> Tensor:
    """Cholesky factor of I + W^T D^-1 W."""
    Wt_Dinv = W.transpose(-2, -1) / D.unsqueeze(-2)
    K = Wt_Dinv @ W
    return linalg.cholesky(K + eye(W.shape[-1], dtype=W.dtype, device=W.device))


class LowRankMultivariateNormal(Distribution):
    """N(loc, cov_factor cov_factor^T + diag(cov_diag)); ``rsample`` is loc + W eps_r +
    sqrt(D) eps_n."""
    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, cov_factor: Tensor, cov_diag: Tensor,
                 validate_args: bool | None = None) -> None:
        for name, t, rank in (("loc", loc, 1), ("cov_factor", cov_factor, 2), ("cov_diag", cov_diag, 1)):
            if not isinstance(t, Tensor) or t.ndim < rank:
                raise ShapeError(f"{name} must be at least {rank}-dimensional, got "
                                 f"{tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__}")
        n = loc.shape[-1]
        if cov_factor.shape[-2] != n:
            raise ShapeError(f"cov_factor must be a batch of matrices with shape {n} x m, got "
                             f"{tuple(cov_factor.shape)}")
        if cov_diag.shape[-1] != n:
            raise ShapeError(f"cov_diag must be a batch of vectors with shape ({n},), got {tuple(cov_diag.shape)}")
        batch = tuple(broadcast_shape(
            "Incompatible batch shapes: loc {loc}, cov_factor {factor}, cov_diag {diag}",
            loc.shape[:-1], cov_factor.shape[:-2], cov_diag.shape[:-1], loc=tuple(loc.shape),
            factor=tuple(cov_factor.shape), diag=tuple(cov_diag.shape)))
        self.loc = loc.expand(batch + (n,))
        self.cov_factor = cov_factor.expand(batch + tuple(cov_factor.shape[-2:]))
        self.cov_diag = cov_diag.expand(batch + (n,))
        self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag = cov_factor, cov_diag
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)
        super().__init__(batch, (n,), validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "LowRankMultivariateNormal":
        new = self._get_checked_instance(LowRankMultivariateNormal, _instance)
        batch_shape = _size(batch_shape, "batch_shape")
        new.loc = self.loc.expand(batch_shape + self._event_shape)
        new.cov_factor = self.cov_factor.expand(batch_shape + tuple(self.cov_factor.shape[-2:]))
        new.cov_diag = self.cov_diag.expand(batch_shape + self._event_shape)
        new._unbroadcasted_cov_factor = self._unbroadcasted_cov_factor
        new._unbroadcasted_cov_diag = self._unbroadcasted_cov_diag
        new._capacitance_tril = self._capacitance_tril
        return self._finish_expand(new, batch_shape)

    mean = mode = property(lambda self: self.loc)

    @property
    def variance(self) -> Tensor:
        v = self._unbroadcasted_cov_factor.pow(2).sum(-1) + self._unbroadcasted_cov_diag
        return v.expand(self._batch_shape + self._event_shape)

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        W = self._unbroadcasted_cov_factor
        cov = W @ W.transpose(-2, -1) + self._unbroadcasted_cov_diag.diag_embed()
        return cov.expand(self._batch_shape + self._event_shape * 2)

    @lazy_property
    def scale_tril(self) -> Tensor:
        return linalg.cholesky(self.covariance_matrix)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        """D^-1 - D^-1 W C^-1 W^T D^-1 (Woodbury), C = I + W^T D^-1 W."""
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        Wt_Dinv = W.transpose(-2, -1) / D.unsqueeze(-2)
        A = solve_tril(self._capacitance_tril, Wt_Dinv)
        P = D.reciprocal().diag_embed() - A.transpose(-2, -1) @ A
        return P.expand(self._batch_shape + self._event_shape * 2)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        W = self._unbroadcasted_cov_factor
        eps_w = standard_normal(tuple(shape[:-1]) + (W.shape[-1],), self.loc)
        eps_d = standard_normal(shape, self.loc)
        return self.loc + (W @ eps_w.unsqueeze(-1)).squeeze(-1) + self._unbroadcasted_cov_diag.sqrt() * eps_d

    def _log_det(self) -> Tensor:
        return (2 * self._capacitance_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
                + self._unbroadcasted_cov_diag.log().sum(-1))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        Wt_Dinv_x = ((W.transpose(-2, -1) / D.unsqueeze(-2)) @ diff.unsqueeze(-1))
        batch = tuple(np.broadcast_shapes(self._capacitance_tril.shape[:-2], Wt_Dinv_x.shape[:-2]))
        r = W.shape[-1]
        y = solve_tril(self._capacitance_tril.expand(batch + (r, r)), Wt_Dinv_x.expand(batch + (r, 1)))
        M = (diff.pow(2) / D).sum(-1) - y.squeeze(-1).pow(2).sum(-1)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + M + self._log_det())

    def entropy(self) -> Tensor:
        n = self._event_shape[0]
        H = 0.5 * (n * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return H.expand(self._batch_shape)
