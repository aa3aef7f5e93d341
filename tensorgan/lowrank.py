"""torch's randomized low-rank decompositions: ``tg.svd_lowrank`` and ``tg.pca_lowrank``
(GANSpace-style PCA of sampled latents or activations).

The algorithm is torch's (Halko, Martinsson & Tropp 2009: a Gaussian sketch ``A @ R``, ``niter``
QR-orthonormalised subspace iterations, then the exact SVD of the small ``Q^H A``), composed of
tensorgan's differentiable ops (matmul, linalg.qr, linalg.svd), so gradients flow as torch's do.
The sketch ``R`` is drawn with ``tg.randn`` from the global generator (seed it with
``tg.manual_seed`` for repeatable results; the draws are not torch's, so a run matches torch's to
rounding only once the subspace iterations have converged -- the top singular triplets of a
matrix whose spectrum has a gap, as in torch's own tests). Batched over leading dims; ``M`` (the
mean to subtract, broadcast to ``A``'s shape) is never subtracted from ``A`` itself.
"""
from __future__ import annotations

import operator
from typing import Any

from .errors import ConfigError, DTypeError, InputTypeError, ShapeError
from .tensor import FLOAT_DTYPES, Tensor


def _float_dtype(A: Tensor) -> Any:
    """torch's ``_utils.get_floating_dtype``: A's float dtype; integer inputs get float32."""
    from . import float32
    return A.dtype if A.dtype in FLOAT_DTYPES else float32


def _check(op: str, A: Any, M: Any = None) -> None:
    if not isinstance(A, Tensor):
        raise InputTypeError(f"{op}: A must be a Tensor, got {type(A).__name__}")
    if A.ndim < 2:
        raise ShapeError(f"{op}: A must be a matrix or a batch of matrices (at least 2 dims), "
                         f"got shape {tuple(A.shape)}")
    if A.dtype not in FLOAT_DTYPES:
        raise DTypeError(f"{op}: A must be a float tensor, got {A.dtype} (as torch: its matmul "
                         f"with the float sketch is refused); convert with .float()")
    if M is not None and not isinstance(M, Tensor):
        raise InputTypeError(f"{op}: M must be a Tensor or None, got {type(M).__name__}")


def _count(op: str, name: str, value: Any) -> int | None:
    """q / niter as an int (None kept: the default); a float or a string is an InputTypeError
    naming it (torch's TypeError), not a comparison's or range()'s bare one further in."""
    if value is None or type(value) is int:
        return value
    try:
        return operator.index(value)
    except TypeError:
        raise InputTypeError(f"{op}: {name} must be an int, got {type(value).__name__} "
                             f"{value!r}") from None


def get_approximate_basis(A: Tensor, q: int, niter: int | None = 2, M: Tensor | None = None) -> Tensor:
    """``Q`` with ``q`` orthonormal columns such that ``Q Q^H (A - M)`` approximates ``A - M``
    (torch's ``torch._lowrank.get_approximate_basis``)."""
    from . import linalg, randn
    niter = 2 if niter is None else niter
    R = randn(A.shape[-1], q, dtype=_float_dtype(A), device=A.device)
    X = A @ R
    if M is not None:
        X = X - M @ R
    Q = linalg.qr(X).Q
    for _ in range(niter):
        X = A.mH @ Q
        if M is not None:
            X = X - M.mH @ Q
        Q = linalg.qr(X).Q
        X = A @ Q
        if M is not None:
            X = X - M @ Q
        Q = linalg.qr(X).Q
    return Q


def _svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2,
                 M: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    from . import linalg
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    if m < n:
        A = A.mH
        if M is not None:
            M = M.mH
    Q = get_approximate_basis(A, q, niter=niter, M=M)
    B = Q.mH @ A
    if M is not None:
        B = B - Q.mH @ M
    U, S, Vh = linalg.svd(B, full_matrices=False)
    V = Vh.mH
    U = Q @ U
    if m < n:
        U, V = V, U
    return U, S, V


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2,
                M: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """torch.svd_lowrank: ``(U, S, V)`` with ``A - M ~= U diag(S) V^H`` of rank ``q`` (note: V,
    not Vh, as torch.svd), by randomized subspace iteration."""
    _check("svd_lowrank", A, M)
    return _svd_lowrank(A, q=_count("svd_lowrank", "q", q), niter=_count("svd_lowrank", "niter", niter), M=M)


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True,
                niter: int = 2) -> tuple[Tensor, Tensor, Tensor]:
    """torch.pca_lowrank: the rank-``q`` SVD ``(U, S, V)`` of ``A`` centred over its rows (the
    samples; ``center=False``: as given); ``V``'s columns are the principal directions, ``S**2
    / (m - 1)`` the variances along them. ``q`` defaults to ``min(6, m, n)``."""
    _check("pca_lowrank", A)
    q, niter = _count("pca_lowrank", "q", q), _count("pca_lowrank", "niter", niter)
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ShapeError(f"pca_lowrank: q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)} for A of shape {tuple(A.shape)}")
    if niter is None:
        raise InputTypeError("pca_lowrank: niter must be an int, got None (as torch's)")
    if not (niter >= 0):
        raise ConfigError(f"pca_lowrank: niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter=niter, M=None)
    C = A.mean(dim=(-2,), keepdim=True)
    return _svd_lowrank(A - C, q, niter=niter, M=None)
