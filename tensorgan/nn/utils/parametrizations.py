"""torch's ``torch.nn.utils.parametrizations``: spectral and weight normalization as
parametrizations (:mod:`.parametrize`), torch's current form and state-dict keys.

``spectral_norm(layer)``: ``layer.weight`` is ``original / sigma``, sigma estimated by power
iteration on the ``_u`` / ``_v`` buffers of ``layer.parametrizations.weight[0]`` (keys
``parametrizations.weight.original``, ``parametrizations.weight.0._u``, ``..._v``).
``weight_norm(layer)``: ``layer.weight`` is ``g * v / ||v||`` (keys
``parametrizations.weight.original0`` = g, ``original1`` = v).  The math is the hook-style
``tg.nn.utils.spectral_norm`` / ``weight_norm``'s (shared helpers); only the order of the
power-iteration steps differs, as between torch's two versions (u first here, v first there).
``orthogonal(layer)``: ``layer.weight`` is an orthogonal matrix (or a batch of them), torch's
three maps and its dynamic trivialization (the ``base`` buffer).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ... import linalg
from ...backend import as_host_array
from ...errors import (ConfigError, DTypeNotImplementedError, NoRightInverseError, NormParameterError,
                       ShapeError)
from ...factory import concat, randn
from ...linalg_lu import geqrf
from ...functional import normalize
from ...tensor import Tensor, no_grad
from ..module import Module
from . import _as_matrix, _norm_except_dim, _power_iterate, _weight_norm, _random_unit_vectors, _spectral_divide
from .parametrize import register_parametrization

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


class _SpectralNorm(Module):
    """``W / sigma(W)``; in training each call first runs ``n_power_iterations`` steps on the
    ``_u`` / ``_v`` buffers (15 at construction, as torch).  A 1-D weight is just normalized."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, int) \
                or n_power_iterations < 1:
            raise ConfigError(f"spectral_norm: n_power_iterations must be an int >= 1, got "
                              f"{n_power_iterations!r}")
        self.dim = weight._dim(dim, "spectral_norm")   # ShapeError naming the shape
        self.eps = eps
        if weight.ndim > 1:
            self.n_power_iterations = n_power_iterations
            u, v = _random_unit_vectors(weight, self.dim, eps)
            self.register_buffer("_u", u)
            self.register_buffer("_v", v)
            self._power_method(weight, 15)

    def _power_method(self, weight: Tensor, n: int) -> None:
        """u first, then v (torch's parametrization's order), in place on the buffers."""
        _power_iterate(_as_matrix(weight.array, self.dim), self._u.array, self._v.array, n, self.eps)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        if self.training:
            self._power_method(weight, self.n_power_iterations)
        return _spectral_divide(weight, self.dim, self._u, self._v)

    def right_inverse(self, value: Tensor) -> Tensor:
        """Assigning a weight stores it as is (torch's: no inverse of the scaling)."""
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Spectrally normalize ``module.<name>`` as a parametrization (torch 2.x's form): ``dim``
    defaults to 1 for transposed convolutions (their output channels), else 0."""
    from ..layers import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise NormParameterError(f"spectral_norm: {type(module).__name__} has no parameter or buffer {name!r}")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    return register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))


class _WeightNorm(Module):
    """``(g, v) -> g * v / ||v||``, the norm over every dim but ``dim`` (``dim=-1`` or None: the
    whole tensor, torch's convention); ``right_inverse(W) = (||W||, W)``."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_g, weight_v, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight-normalize ``module.<name>`` as a parametrization (torch 2.x's form): the
    magnitude ``original0`` (g) and direction ``original1`` (v) are trained separately.  A state
    dict of the hook form (``weight_g`` / ``weight_v`` keys, ``tg.nn.utils.weight_norm``) loads
    too: a load-state-dict pre-hook renames them, as torch's ``_weight_norm_compat_hook``."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise NormParameterError(f"weight_norm: {type(module).__name__} has no parameter or buffer {name!r}")
    if dim is not None and dim != -1:
        weight._dim(dim, "weight_norm")
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    module.register_load_state_dict_pre_hook(_weight_norm_compat_hook(name))
    return module


def _weight_norm_compat_hook(name: str) -> Callable[..., None]:
    """A load-state-dict pre-hook: ``<prefix><name>_g`` / ``_v`` (the hook form's keys) become
    ``<prefix>parametrizations.<name>.original0`` / ``original1``."""
    def hook(module: Module, state_dict: dict, prefix: str, *_: Any) -> None:
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)
    return hook


# -- orthogonal (torch.nn.utils.parametrizations.orthogonal) ----------------------------------
_ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _is_orthogonal(Q: Tensor) -> bool:
    """Q^H Q = I within torch's tolerance, 10 n eps."""
    n, k = Q.shape[-2], Q.shape[-1]
    eye = Q.new_zeros(k, k) + linalg._eye_like(Q, k)
    eps = 10.0 * n * float(np.finfo(Q.dtype).eps)
    return bool(np.allclose(as_host_array((Q.mH @ Q).array), as_host_array(eye.array), atol=eps))


def _make_orthogonal(A: Tensor) -> Tensor:
    """The Q of A = QR (A tall) with diag(R) >= 0 (torch's: geqrf, householder_product, then
    the signs of R's diagonal)."""
    X, tau = geqrf(A)
    Q = linalg.householder_product(X, tau)
    return Q * X.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _Orthogonal(Module):
    """``X -> Q`` orthogonal of X's shape (orthonormal columns when tall, rows when wide):
    ``matrix_exp`` / ``cayley`` of the skew-symmetric matrix built from X's lower triangle, or
    the product of the Householder reflectors below X's diagonal; with ``use_trivialization``
    Q is ``base @ Q``, ``base`` an orthogonal buffer that ``right_inverse`` sets."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True) -> None:
        super().__init__()
        if weight.is_complex() and orthogonal_map == "householder":
            raise ConfigError("orthogonal: the householder parametrization does not support "
                              "complex tensors")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X, n, k = X.mT, k, n
        if self.orthogonal_map == "householder":
            A = X.tril(diagonal=-1)     # X's diagonal holds the reflections' signs (+-1), not trained
            Q = linalg.householder_product(A, 2.0 / (1.0 + (A * A).sum(dim=-2)))
            Q = Q * X.diagonal(dim1=-2, dim2=-1).detach().int().unsqueeze(-2)
        else:
            Q = self._skew_map(X.tril(), n, k)
        if hasattr(self, "base"):
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def _skew_map(self, X: Tensor, n: int, k: int) -> Tensor:
        """matrix_exp(A) or Cayley's (I - A/2)^-1 (I + A/2), A = X - X^H (X embedded in n x n),
        cut back to X's k columns."""
        if n != k:                      # embed the tall X into a square matrix
            X = concat([X, X.new_zeros(*X.shape[:-1], n - k)], dim=-1)
        A = X - X.mH
        if self.orthogonal_map == "matrix_exp":
            Q = linalg.matrix_exp(A)
        else:
            eye = linalg._eye_like(A, n)
            Q = linalg.solve(eye - 0.5 * A, eye + 0.5 * A)
        return Q[..., :k] if n != k else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        """The original that gives ``Q``: with the trivialization, ``base`` becomes Q (made
        orthogonal by a QR where it is not, completed to n x n where it is not square) and the
        original -I; without it, the Householder reflectors of Q's QR (matrix_exp / cayley have
        no inverse: NotImplementedError, as torch's)."""
        if tuple(Q.shape) != tuple(self.shape):
            raise ShapeError(f"orthogonal: expected a matrix or batch of matrices of shape "
                             f"{tuple(self.shape)}, got a tensor of shape {tuple(Q.shape)}")
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q: Tensor) -> Tensor:
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transpose = n < k
        if transpose:
            Q, n, k = Q.mT, k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map != "householder":
                raise NoRightInverseError(
                    "orthogonal: it is not possible to assign to the matrix_exp or the cayley "
                    "parametrization when use_trivialization=False")
            A, tau = geqrf(Q)
            # diag(R) > 0: the sign of each reflection goes on A's diagonal (+-1); a reflection
            # LAPACK skipped (tau == 0) flips it
            signs = A.diagonal(dim1=-2, dim2=-1).sign() * (1 - 2 * (tau == 0.0).to(A.dtype))
            A = A.tril(diagonal=-1) + A.triu(diagonal=1) + signs.unsqueeze(-2) * _eye(A)
            return A.mT if transpose else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:                            # complete Q into a full n x n orthogonal matrix
            N = randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype, device=Q.device)
            Q = _make_orthogonal(concat([Q, N], dim=-1))
        self.base = Q
        # -I: the householder map of it (reflections all -1) is I, the skew maps' exp(0) = I
        return Q_init.new_zeros(*Q_init.shape) - _eye(Q_init)


def _eye(like: Tensor) -> Tensor:
    """The (m, n) identity for ``like`` (..., m, n): ones on the diagonal, zeros elsewhere."""
    m, n = like.shape[-2], like.shape[-1]
    return linalg._eye_like(like, max(m, n))[:m, :n]


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Make ``module.<name>`` orthogonal (orthonormal columns for a tall matrix, rows for a wide
    one; a batch of matrices for more dims) as a parametrization, torch's: ``orthogonal_map``
    "matrix_exp" (the default for square or complex matrices), "cayley" or "householder" (the
    default otherwise).  With ``use_trivialization`` (the default) Q is ``base @ map(original)``,
    ``base`` a buffer under ``parametrizations.<name>.0.base``; the initial Q is the weight made
    orthogonal (a QR where it is not).  Assigning ``module.<name> = Q`` stores ``Q``."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise NormParameterError(f"orthogonal: {type(module).__name__} has no parameter or buffer {name!r}")
    if weight.ndim < 2:
        raise ShapeError(f"orthogonal: expected a matrix or batch of matrices, got a tensor of "
                         f"{weight.ndim} dimensions")
    if weight.is_complex() and orthogonal_map != "householder":   # torch's unitary case
        raise DTypeNotImplementedError(
            f"orthogonal: {name} is {weight.dtype}; unitary (complex) parametrizations need "
            f"complex matrix_exp / solve / QR, which tensorgan does not have")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    if orthogonal_map not in _ORTHOGONAL_MAPS:
        raise ConfigError(f'orthogonal: orthogonal_map has to be one of "matrix_exp", "cayley", '
                          f'"householder", got {orthogonal_map!r}')
    parametrization = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    return register_parametrization(module, name, parametrization, unsafe=True)
