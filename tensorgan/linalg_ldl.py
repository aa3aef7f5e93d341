"""torch.linalg.ldl_factor / ldl_factor_ex / ldl_solve for real symmetric matrices: LAPACK's
Bunch-Kaufman factorisation (``sytrf``, lower triangle) and its solve (``sytrs``), written out in
NumPy so that the compact LD and the pivots (1-based; a negative pair marks a 2 x 2 block) are
LAPACK's, hence torch's. As in torch, neither is differentiable."""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .errors import AutogradError, LinAlgError, ShapeError
from .linalg import _matrices
from .tensor import Tensor

__all__ = ["ldl_factor", "ldl_factor_ex", "ldl_solve"]

_ALPHA = (1.0 + math.sqrt(17.0)) / 8.0


class LDLFactorResult(NamedTuple):
    LD: Tensor
    pivots: Tensor


class LDLFactorExResult(NamedTuple):
    LD: Tensor
    pivots: Tensor
    info: Tensor


def _sytf2_lower(a: np.ndarray) -> tuple:
    """LAPACK dsytf2 (uplo 'L') on a copy of the n x n ``a``: (LD, 1-based pivots, info)."""
    a = a.copy()
    n = a.shape[0]
    ipiv = np.zeros(n, np.int32)
    info, k = 0, 0
    while k < n:
        kstep = 1
        absakk = abs(a[k, k])
        if k < n - 1:
            imax = k + 1 + int(np.argmax(np.abs(a[k + 1:, k])))
            colmax = abs(a[imax, k])
        else:
            imax, colmax = k, 0.0
        if max(absakk, colmax) == 0.0 or math.isnan(absakk):
            if info == 0:
                info = k + 1
            kp = k
        else:
            if absakk >= _ALPHA * colmax:
                kp = k
            else:
                rowmax = np.abs(a[imax, k:imax]).max()
                if imax < n - 1:
                    rowmax = max(rowmax, np.abs(a[imax + 1:, imax]).max())
                if absakk >= _ALPHA * colmax * (colmax / rowmax):
                    kp = k
                elif abs(a[imax, imax]) >= _ALPHA * rowmax:
                    kp = imax
                else:
                    kp, kstep = imax, 2
            kk = k + kstep - 1
            if kp != kk:                      # swap rows / columns kk and kp of A[k:, k:]
                if kp < n - 1:
                    a[kp + 1:, kk], a[kp + 1:, kp] = a[kp + 1:, kp].copy(), a[kp + 1:, kk].copy()
                seg = slice(kk + 1, kp)
                a[seg, kk], a[kp, seg] = a[kp, seg].copy(), a[seg, kk].copy()
                a[kk, kk], a[kp, kp] = a[kp, kp], a[kk, kk]
                if kstep == 2:
                    a[k + 1, k], a[kp, k] = a[kp, k], a[k + 1, k]
            if kstep == 1:
                if k < n - 1:
                    d11 = 1.0 / a[k, k]
                    x = a[k + 1:, k].copy()
                    a[k + 1:, k + 1:] -= d11 * np.outer(x, x)
                    a[k + 1:, k] *= d11
            elif k < n - 2:
                d21 = a[k + 1, k]
                d11 = a[k + 1, k + 1] / d21
                d22 = a[k, k] / d21
                t = 1.0 / (d11 * d22 - 1.0)
                d21 = t / d21
                wk = d21 * (d11 * a[k + 2:, k] - a[k + 2:, k + 1])
                wkp1 = d21 * (d22 * a[k + 2:, k + 1] - a[k + 2:, k])
                a[k + 2:, k + 2:] -= np.outer(a[k + 2:, k], wk) + np.outer(a[k + 2:, k + 1], wkp1)
                a[k + 2:, k], a[k + 2:, k + 1] = wk, wkp1
        if kstep == 1:
            ipiv[k] = kp + 1
        else:
            ipiv[k] = ipiv[k + 1] = -(kp + 1)
        k += kstep
    return np.tril(a), ipiv, info


def _sytrs_lower(ld: np.ndarray, ipiv: np.ndarray, b: np.ndarray) -> np.ndarray:
    """LAPACK dsytrs (uplo 'L'): X with A X = B from A's ``_sytf2_lower``."""
    b = b.copy()
    n = ld.shape[0]
    k = 0
    while k < n:                              # L D Y = B
        if ipiv[k] > 0:
            kp = ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            if k < n - 1:
                b[k + 1:] -= np.outer(ld[k + 1:, k], b[k])
            b[k] /= ld[k, k]
            k += 1
        else:
            kp = -ipiv[k] - 1
            if kp != k + 1:
                b[[k + 1, kp]] = b[[kp, k + 1]]
            if k < n - 2:
                b[k + 2:] -= np.outer(ld[k + 2:, k], b[k]) + np.outer(ld[k + 2:, k + 1], b[k + 1])
            akm1k = ld[k + 1, k]
            akm1, ak = ld[k, k] / akm1k, ld[k + 1, k + 1] / akm1k
            denom = akm1 * ak - 1.0
            bkm1, bk = b[k] / akm1k, b[k + 1] / akm1k
            b[k], b[k + 1] = (ak * bkm1 - bk) / denom, (akm1 * bk - bkm1) / denom
            k += 2
    k = n - 1
    while k >= 0:                             # L^T X = Y
        if ipiv[k] > 0:
            if k < n - 1:
                b[k] -= ld[k + 1:, k] @ b[k + 1:]
            kp = ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            k -= 1
        else:
            if k < n - 1:
                b[k] -= ld[k + 1:, k] @ b[k + 1:]
                b[k - 1] -= ld[k + 1:, k - 1] @ b[k + 1:]
            kp = -ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            k -= 2
    return b


def _no_grad(op: str, *tensors: Tensor) -> None:
    from .grad_mode import is_grad_enabled
    if is_grad_enabled() and any(t.requires_grad for t in tensors):
        raise AutogradError(f"derivative for {op} is not implemented (as torch); detach the input "
                            "or use linalg.solve / linalg.cholesky, which are differentiable")


def _check_hermitian(op: str, hermitian: Any) -> None:
    if hermitian not in (True, False):
        raise LinAlgError(f"{op}: hermitian must be a bool, got {hermitian!r}")
    # real matrices only here: hermitian and symmetric are the same thing


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False) -> LDLFactorExResult:
    """(LD, pivots, info) of the symmetric A (..., n, n), only its lower triangle read:
    A = P L D L^T P^T with L unit lower triangular and D block diagonal (1 x 1 and 2 x 2
    blocks); info is the 1-based index of a zero D(i, i) (the matrix is singular), else 0."""
    op = "linalg.ldl_factor_ex"
    _matrices(op, A)
    _check_hermitian(op, hermitian)
    _no_grad("linalg.ldl_factor_ex", A)
    a = A.detach().numpy()
    batch, n = a.shape[:-2], a.shape[-1]
    flat = a.reshape((-1, n, n))
    ld, piv, info = np.zeros_like(flat), np.zeros((flat.shape[0], n), np.int32), np.zeros(flat.shape[0], np.int32)
    for i, m in enumerate(flat):
        ld[i], piv[i], info[i] = _sytf2_lower(m.astype(np.float64))
    out = LDLFactorExResult(Tensor._from(ld.reshape(a.shape).astype(a.dtype), device=A.device),
                            Tensor._from(piv.reshape(batch + (n,)), device=A.device),
                            Tensor._from(info.reshape(batch), device=A.device))
    if check_errors:
        _check_singular(op, info)
    return out


def _check_singular(op: str, info: np.ndarray) -> None:
    flat = np.asarray(info).reshape(-1)
    bad = np.flatnonzero(flat)
    if bad.size:
        where = f"(Batch element {bad[0]}): " if np.ndim(info) else ""
        raise LinAlgError(f"{op}: {where}D[{flat[bad[0]]},{flat[bad[0]]}] is zero: the matrix is singular "
                          "(use linalg.ldl_factor_ex to factor it anyway)")


def ldl_factor(A: Tensor, *, hermitian: bool = False) -> LDLFactorResult:
    """(LD, pivots) as ldl_factor_ex; LinAlgError for a singular matrix (a zero D(i, i))."""
    LD, pivots, info = ldl_factor_ex(A, hermitian=hermitian)
    _check_singular("linalg.ldl_factor", info.numpy())
    return LDLFactorResult(LD, pivots)


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False) -> Tensor:
    """X with A X = B from A's ldl_factor (LD, pivots); B (..., n, k), batch dims broadcasting."""
    from .errors import DTypeError
    from .linalg_lu import _rhs
    op = "linalg.ldl_solve"
    _matrices(op, LD, name="LD")
    _check_hermitian(op, hermitian)
    if not isinstance(pivots, Tensor) or pivots.dtype.kind not in "iu":
        raise DTypeError(f"{op}: pivots must be an integer Tensor, got "
                         f"{getattr(pivots, 'dtype', type(pivots).__name__)}")
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise ShapeError(f"{op}: pivots must have shape {tuple(LD.shape[:-1])} for LD of shape "
                         f"{tuple(LD.shape)}, got {tuple(pivots.shape)}")
    B = _rhs(op, LD, B)
    if B.dtype != LD.dtype:
        raise DTypeError(f"{op}: LD and B must have the same dtype, got {LD.dtype} and {B.dtype}")
    _no_grad(op, LD, B)
    ld, piv, b = LD.detach().numpy(), pivots.numpy().astype(np.int64), B.detach().numpy()
    n = ld.shape[-1]
    if (np.abs(piv) < 1).any() or (np.abs(piv) > n).any():
        raise ShapeError(f"{op}: pivots must lie in [1, {n}] in absolute value (ldl_factor's 1-based pivots)")
    batch = np.broadcast_shapes(ld.shape[:-2], b.shape[:-2])
    ld = np.broadcast_to(ld, batch + ld.shape[-2:]).reshape((-1, n, n))
    piv = np.broadcast_to(piv, batch + (n,)).reshape((-1, n))
    bb = np.broadcast_to(b, batch + b.shape[-2:]).reshape((-1,) + b.shape[-2:])
    out = np.stack([_sytrs_lower(l.astype(np.float64), p, x.astype(np.float64)) for l, p, x in zip(ld, piv, bb)]) \
        if bb.shape[0] else np.zeros(bb.shape)
    return Tensor._from(out.reshape(batch + b.shape[-2:]).astype(b.dtype), device=LD.device)
