"""The rest of torch.linalg's real-valued names, re-exported by ``tg.linalg``: triangular solves,
the LU family, the ``*_ex`` variants with LAPACK-style ``info``, cond, tensorinv / tensorsolve,
householder_product, vander, and torch's top-level cholesky_solve / cholesky_inverse /
triangular_solve / lu / lu_unpack / lu_solve / orgqr / nuclear_norm / frobenius_norm.

NumPy has no triangular solver and no LU (SciPy is not a dependency), so both are written here
on arrays, vectorised over the batch (and the right-hand sides) with one Python step per row /
column: O(n) steps, fine for the matrix sizes a GAN's users have.  As in LAPACK, a zero on a
triangular diagonal gives inf / NaN (no error), and the LU of a singular matrix is still returned
(``info`` names the first zero pivot).  Gradients are torch's formulas written in Tensor ops (so
double backward works): :class:`SolveTriangular` (linalg_solve_triangular_backward),
:class:`Lu` (linalg_lu_backward, square, tall and wide), :class:`CholeskySolve`
(cholesky_solve_backward); the rest compose them.
"""
from __future__ import annotations

import builtins
import math
from typing import Any, NamedTuple

import numpy as np

from . import ops
from .backend import as_host_array
from .broadcasting import broadcast_shape
from .errors import (AutogradError, AutogradNotSupportedError, DTypeError,
                     InputTypeError, LinAlgError, LinAlgOptionError, ShapeError)
from .factory import concat, stack
from .linalg import (Cholesky, Decomposition, Inv, Solve, _eye_like, _float, _matrices, _mT,
                     matrix_norm, svdvals)
from .shape_index_ops import movedim, tril, triu
from .tensor import Tensor, _complex_of, _is_int, is_grad_enabled, no_grad


# ---------------------------------------------------------------------------------------------
# Array kernels
# ---------------------------------------------------------------------------------------------
def _triangular_values(xp, A, B, upper: bool, unitriangular: bool):
    """X with A X = B, A triangular (only its triangle read), by substitution one row at a
    time, vectorised over the batch and B's columns; a zero diagonal gives inf / NaN."""
    batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    A = xp.broadcast_to(A, batch + A.shape[-2:])
    X = xp.array(xp.broadcast_to(B, batch + B.shape[-2:]), dtype=np.result_type(A.dtype, B.dtype))
    n = A.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in (range(n - 1, -1, -1) if upper else range(n)):
            done = slice(i + 1, n) if upper else slice(0, i)
            X[..., i, :] -= (A[..., i:i + 1, done] @ X[..., done, :])[..., 0, :]
            if not unitriangular:
                X[..., i, :] /= A[..., i, i, None]
    return X


def _lu_values(xp, A):
    """Partial-pivoting LU, LAPACK's getrf: (LU packed, perm, pivots, info) with A[perm] = L U,
    pivots 1-based row swaps (int32), info the 1-based index of the first zero pivot (0 if none)."""
    m, n = A.shape[-2:]
    k = builtins.min(m, n)
    LU = xp.array(A.reshape((math.prod(A.shape[:-2]), m, n)))
    b = LU.shape[0]
    rows = xp.arange(b)
    perm = xp.array(xp.broadcast_to(xp.arange(m), (b, m)))
    pivots = xp.zeros((b, k), dtype=np.int32)
    info = xp.zeros(b, dtype=np.int32)
    for j in range(k):
        p = j + xp.argmax(xp.abs(LU[:, j:, j]), axis=1)
        pivots[:, j] = p + 1
        LU[rows, j], LU[rows, p] = LU[rows, p], LU[rows, j].copy()
        perm[rows, j], perm[rows, p] = perm[rows, p], perm[rows, j].copy()
        pivot = LU[:, j, j]
        zero = pivot == 0
        info = xp.where(zero & (info == 0), j + 1, info).astype(np.int32)
        l_col = LU[:, j + 1:, j] / xp.where(zero, 1.0, pivot)[:, None]
        LU[:, j + 1:, j] = l_col
        LU[:, j + 1:, j + 1:] -= l_col[:, :, None] * LU[:, j:j + 1, j + 1:]
    batch = A.shape[:-2]
    return (LU.reshape(A.shape), perm.reshape(batch + (m,)), pivots.reshape(batch + (k,)),
            info.reshape(batch))


def _permutation_matrix(xp, perm, dtype):
    """P with A = P L U from A[perm] = L U: P[perm[i], i] = 1."""
    m = perm.shape[-1]
    return (perm[..., :, None] == xp.arange(m)).swapaxes(-2, -1).astype(dtype)


def _perm_from_pivots(xp, pivots, m: int):
    """The row order of LAPACK's successive swaps (1-based ``pivots``), batched."""
    piv = xp.asarray(pivots).astype(np.int64) - 1
    batch = piv.shape[:-1]
    piv = piv.reshape((-1, piv.shape[-1]))
    perm = xp.array(xp.broadcast_to(xp.arange(m), (piv.shape[0], m)))
    rows = xp.arange(piv.shape[0])
    for j in range(piv.shape[-1]):
        p = piv[:, j]
        perm[rows, j], perm[rows, p] = perm[rows, p], perm[rows, j].copy()
    return perm.reshape(batch + (m,))


def _cholesky_partial(xp, A):
    """LAPACK potrf's (L, info): column by column; a batch element stops at its first
    non-positive pivot d (stored on the diagonal, info its 1-based column)."""
    n = A.shape[-1]
    L = xp.tril(xp.array(A.reshape((math.prod(A.shape[:-2]), n, n))))
    info = xp.zeros(L.shape[0], dtype=np.int32)
    active = xp.ones(L.shape[0], dtype=bool)
    for j in range(n):
        d = L[:, j, j] - (L[:, j, :j] ** 2).sum(-1)
        bad = active & ~(d > 0)
        info = xp.where(bad, j + 1, info).astype(np.int32)
        active &= ~bad
        root = xp.sqrt(xp.where(active, d, 1.0))
        column = (L[:, j + 1:, j] - (L[:, j + 1:, :j] @ L[:, j, :j, None])[..., 0]) / root[:, None]
        L[:, j + 1:, j] = xp.where(active[:, None], column, L[:, j + 1:, j])
        L[:, j, j] = xp.where(active, root, xp.where(bad, d, L[:, j, j]))
    return L.reshape(A.shape), info.reshape(A.shape[:-2])


# ---------------------------------------------------------------------------------------------
# Differentiable ops
# ---------------------------------------------------------------------------------------------
class SolveTriangular(Decomposition):
    """X with A X = B, A (..., n, n) triangular, B (..., n, k), batch dims broadcast."""

    @staticmethod
    def compute(xp, A, B, upper, unitriangular):
        return (_triangular_values(xp, A, B, upper, unitriangular),)

    @staticmethod
    def shapes(A, B, upper, unitriangular):
        return (B.shape[-2:],)

    def gradients(self, g, A, B, upper, unitriangular):
        """torch's: gB = A^-T g (the other triangle), gA = -gB X^T on A's triangle."""
        gB = SolveTriangular.call(_mT(A), g, not upper, unitriangular)[0]
        gA = None
        if self.needs_input_grad[0]:
            gA = -(gB @ _mT(self.results()[0]))
            gA = triu(gA, int(unitriangular)) if upper else tril(gA, -int(unitriangular))
            gA = ops.unbroadcast(gA, A.shape)
        return gA, ops.unbroadcast(gB, B.shape) if self.needs_input_grad[1] else None, None, None


def _tri_solve(A: Tensor, B: Tensor, upper: bool, unitriangular: bool = False) -> Tensor:
    return SolveTriangular.call(A, B, upper, unitriangular)[0]


class Lu(Decomposition):
    """(P, L, U, pivots, info) with A = P L U; pivots and info are carried as floats (no
    gradient) and cast back by the public functions."""

    @staticmethod
    def compute(xp, A):
        LU, perm, pivots, info = _lu_values(xp, A)
        k = builtins.min(A.shape[-2:])
        eye = xp.eye(A.shape[-2], k, dtype=A.dtype)
        L = xp.tril(LU[..., :, :k], -1) + eye
        U = xp.triu(LU[..., :k, :])
        return (_permutation_matrix(xp, perm, A.dtype), L, U, pivots.astype(A.dtype),
                info.astype(A.dtype))

    @staticmethod
    def shapes(A):
        m, n = A.shape[-2:]
        k = builtins.min(m, n)
        return ((m, m), (m, k), (k, n), (k,), ())

    def gradients(self, g, A):
        """torch's linalg_lu_backward: square P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T;
        tall and wide matrices reduce to it (L2 = A2 U^-1, U2 = L^-1 P^T A2)."""
        P, L, U = self.results()[:3]
        _, gL, gU = self.split(g)[:3]
        m, n = A.shape[-2:]
        if m == n:
            return (P @ _lu_square_backward(L, U, gL, gU),)
        if m > n:
            L1, L2, gL1, gL2 = L[..., :n, :], L[..., n:, :], gL[..., :n, :], gL[..., n:, :]
            gA2 = _mT(_tri_solve(U, _mT(gL2), True))                       # gL2 U^-T
            gA1 = _lu_square_backward(L1, U, gL1, gU - _mT(L2) @ gA2)
            return (P @ concat([gA1, gA2], -2),)
        U1, U2, gU1, gU2 = U[..., :m], U[..., m:], gU[..., :m], gU[..., m:]
        gA2 = _tri_solve(_mT(L), gU2, True, True)                          # L^-T gU2
        gA1 = _lu_square_backward(L, U1, gL - gA2 @ _mT(U2), gU1)
        return (P @ concat([gA1, gA2], -1),)


def _lu_square_backward(L: Tensor, U: Tensor, gL: Tensor, gU: Tensor) -> Tensor:
    """L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T (without the P in front)."""
    inner = tril(_mT(L) @ gL, -1) + triu(gU @ _mT(U))
    inner = _tri_solve(_mT(L), inner, True, True)
    return _mT(_tri_solve(U, _mT(inner), True))


class CholeskySolve(Decomposition):
    """X with L L^T X = B (``upper``: U^T U X = B), from the triangle of L; the gradient is
    torch's, which treats L as the full matrix (-(gB X^T + X gB^T) L)."""

    @staticmethod
    def compute(xp, B, L, upper):
        Lt = xp.swapaxes(L, -2, -1)
        if upper:
            return (_triangular_values(xp, L, _triangular_values(xp, Lt, B, False, False), True, False),)
        return (_triangular_values(xp, Lt, _triangular_values(xp, L, B, False, False), True, False),)

    @staticmethod
    def shapes(B, L, upper):
        return (B.shape[-2:],)

    def gradients(self, g, B, L, upper):
        gB = CholeskySolve.call(g, L, upper)[0]
        gL = None
        if self.needs_input_grad[1]:
            X = self.results()[0]
            common = gB @ _mT(X)
            common = common + _mT(common)
            gL = ops.unbroadcast(-(L @ common) if upper else -(common @ L), L.shape)
        return ops.unbroadcast(gB, B.shape) if self.needs_input_grad[0] else None, gL, None


# ---------------------------------------------------------------------------------------------
# torch.linalg
# ---------------------------------------------------------------------------------------------
class LUResult(NamedTuple):
    P: Tensor
    L: Tensor
    U: Tensor


class LUFactorResult(NamedTuple):
    LU: Tensor
    pivots: Tensor


class LUFactorExResult(NamedTuple):
    LU: Tensor
    pivots: Tensor
    info: Tensor


class CholeskyExResult(NamedTuple):
    L: Tensor
    info: Tensor


class InvExResult(NamedTuple):
    inverse: Tensor
    info: Tensor


class SolveExResult(NamedTuple):
    result: Tensor
    info: Tensor


class TriangularSolveResult(NamedTuple):
    solution: Tensor
    cloned_coefficient: Tensor


def _rhs(op: str, A: Tensor, B: Any) -> Tensor:
    """B as matrices (..., n, k) fitting the square A (..., n, n), batch dims broadcasting."""
    B = _matrices(op, B, square=False, name="B")
    if B.shape[-2] != A.shape[-1]:
        raise ShapeError(f"{op}: A {A.shape} and B {B.shape} do not fit: B needs {A.shape[-1]} rows")
    broadcast_shape("{op}: the batch dims of A {A} and B {B} do not broadcast", A.shape[:-2],
                    B.shape[:-2], op=op, A=A.shape, B=B.shape)
    return B


def solve_triangular(input: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """X with A X = B (``left=False``: X A = B), A triangular: only its ``upper`` or lower
    triangle is read (``unitriangular``: its diagonal is taken as ones).  Back-substitution, so a
    zero on the diagonal gives inf / NaN, as LAPACK's trsm."""
    op = "linalg.solve_triangular"
    _matrices(op, input)
    if not left:
        return _mT(solve_triangular(_mT(input), _mT(_matrices(op, B, square=False, name="B")),
                                    upper=not upper, unitriangular=unitriangular))
    return _tri_solve(input, _rhs(op, input, B), bool(upper), bool(unitriangular))


def _lu_parts(op: str, A: Tensor, pivot: bool = True) -> tuple:
    """(P, L, U, pivots int32, info int32) of A (..., m, n)."""
    _matrices(op, A, square=False)
    if not pivot:
        raise LinAlgOptionError(f"{op}: LU without pivoting (pivot=False) is not implemented on the CPU "
                          f"(as torch's CPU backend); use pivot=True")
    P, L, U, pivots, info = Lu.call(A)
    return (P.detach(), L, U, pivots.detach().to("int32"), info.detach().to("int32"))


def _check_info(op: str, info: Tensor, what: str) -> None:
    """LinAlgError naming the first batch element whose info is nonzero (``what`` formats the
    info value)."""
    flat = np.asarray(info.tolist(), dtype=np.int64).reshape(-1)
    bad = np.flatnonzero(flat)
    if bad.size:
        where = f"(Batch element {bad[0]}): " if info.ndim else ""
        raise LinAlgError(f"{op}: {where}{what.format(int(flat[bad[0]]))}")


def lu(A: Tensor, *, pivot: bool = True) -> LUResult:
    """A = P L U with partial pivoting: P (m, m), L (m, k) unit lower, U (k, n), k = min(m, n)."""
    return LUResult(*_lu_parts("linalg.lu", A, pivot)[:3])


def _packed(L: Tensor, U: Tensor) -> Tensor:
    """L's strict lower triangle and U's upper one in one (m, n) matrix (LAPACK's LU)."""
    m, k, n = L.shape[-2], L.shape[-1], U.shape[-1]
    if m > k:
        U = concat([U, (L[..., k:, :1] * 0.0).expand(*U.shape[:-2], m - k, n)], -2)
    elif n > k:
        L = concat([L, (U[..., :1, k:] * 0.0).expand(*L.shape[:-2], m, n - k)], -1)
    return tril(L, -1) + triu(U)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> LUFactorExResult:
    """(LU packed, pivots (1-based, int32), info (int32: the first zero pivot, 1-based, or 0))."""
    _, L, U, pivots, info = _lu_parts("linalg.lu_factor_ex", A, pivot)
    if check_errors:
        _check_info("linalg.lu_factor_ex", info, "U[{0},{0}] is zero (the matrix is singular)")
    return LUFactorExResult(_packed(L, U), pivots, info)


def lu_factor(A: Tensor, *, pivot: bool = True) -> LUFactorResult:
    """(LU, pivots) as lu_factor_ex; LinAlgError for a singular matrix (a zero pivot), as torch."""
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    _check_info("linalg.lu_factor", info, "U[{0},{0}] is zero and using it on lu_solve would result "
                "in a division by zero; use linalg.lu_factor_ex or linalg.lu to factor it anyway")
    return LUFactorResult(LU, pivots)


def _pivots(op: str, LU: Tensor, pivots: Any) -> Tensor:
    if not isinstance(pivots, Tensor) or pivots.dtype.kind not in "iu":
        raise DTypeError(f"{op}: pivots must be an integer Tensor, got "
                         f"{getattr(pivots, 'dtype', type(pivots).__name__)}")
    k = builtins.min(LU.shape[-2:])
    if pivots.shape != LU.shape[:-2] + (k,):
        raise ShapeError(f"{op}: pivots must have shape {LU.shape[:-2] + (k,)} for LU of shape "
                         f"{LU.shape}, got {pivots.shape}")
    return pivots


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True) -> LUResult:
    """(P, L, U) from lu_factor's packed LU and pivots (differentiable in LU); the parts not asked
    for are empty tensors, as torch."""
    LU = _matrices("lu_unpack", LU_data, square=False, name="LU_data")
    _pivots("lu_unpack", LU, LU_pivots)
    xp, (m, n) = LU.device.xp, LU.shape[-2:]
    k = builtins.min(m, n)
    empty = Tensor._make(xp.zeros((0,), dtype=LU.dtype), LU.device)
    L = U = P = empty
    if unpack_data:
        L = tril(LU[..., :, :k], -1) + _eye_like(LU, m)[:, :k]
        U = triu(LU[..., :k, :])
    if unpack_pivots:
        perm = _perm_from_pivots(xp, LU_pivots.array, m)
        P = Tensor._make(_permutation_matrix(xp, perm, LU.dtype), LU.device)
    return LUResult(P, L, U)


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
             adjoint: bool = False) -> Tensor:
    """X with A X = B from A's lu_factor (``adjoint``: A^T X = B; ``left=False``: X A = B)."""
    op = "linalg.lu_solve"
    _matrices(op, LU, name="LU")
    if not left:
        return _mT(lu_solve(LU, pivots, _mT(_matrices(op, B, square=False, name="B")),
                            adjoint=not adjoint))
    B = _rhs(op, LU, B)
    P, L, U = lu_unpack(LU, _pivots(op, LU, pivots))
    if adjoint:      # A^T = U^T L^T P^T
        return P @ _tri_solve(_mT(L), _tri_solve(_mT(U), B, False), True, True)
    return _tri_solve(U, _tri_solve(L, _mT(P) @ B, False, True), True)


def _where_ok(ok: Any, good: Any, A: Tensor, raw: Any, *rest: Any) -> Tensor:
    """``good(A, *rest)`` where the batch mask ``ok`` holds (differentiable; the failing
    matrices replaced by the identity first), the array ``raw()`` elsewhere."""
    xp = A.device.xp
    if bool(ok.all()):
        return good(A, *rest)
    mask = ok[..., None, None]
    safe = ops.Where.apply(A, xp.broadcast_to(xp.eye(A.shape[-1], dtype=A.dtype), A.shape), mask)
    return ops.Where.apply(good(safe, *rest), raw(), mask)


def _lapack_first(compute: Any, A: Tensor) -> tuple | None:
    """(compute(), info all 0) when LAPACK succeeds -- the common case, without the O(n) Python
    steps that the info takes -- or None when it refuses (a singular / indefinite matrix)."""
    try:
        value = compute()
    except LinAlgError:
        return None
    return value, Tensor._make(A.device.xp.zeros(A.shape[:-2], dtype=np.int32), A.device)


def cholesky_ex(input: Tensor, *, upper: bool = False, check_errors: bool = False) -> CholeskyExResult:
    """(L, info): info 0, or the order of the first leading minor that is not positive-definite,
    where L is LAPACK's partial factor (as torch's) instead of an error."""
    _matrices("linalg.cholesky_ex", input)
    fast = _lapack_first(lambda: Cholesky.call(input)[0], input)
    if fast is None:
        raw, info = _cholesky_partial(input.device.xp, input.array)
        info_t = Tensor._make(info, input.device)
        if check_errors:
            _check_info("linalg.cholesky_ex", info_t, "The factorization could not be completed "
                        "because the input is not positive-definite (the leading minor of order {} is not)")
        fast = _where_ok(info == 0, lambda M: Cholesky.call(M)[0], input, lambda: raw), info_t
    L, info = fast
    return CholeskyExResult(_mT(L) if upper else L, info)


def _singular_info(op: str, A: Tensor, check_errors: bool) -> Tensor:
    """getrf's info of the square A (int32), checked when asked (LinAlgError naming the batch
    element and the zero pivot)."""
    with no_grad():
        info = Lu.call(A.detach())[4].to("int32")
    if check_errors:
        _check_info(op, info, "U[{0},{0}] is zero: the input matrix is singular")
    return info


def inv_ex(A: Tensor, *, check_errors: bool = False) -> InvExResult:
    """(inverse, info): info as lu_factor_ex's; a singular matrix's inverse is inf / NaN."""
    _matrices("linalg.inv_ex", A)
    fast = _lapack_first(lambda: Inv.call(A)[0], A)
    if fast is None:
        info = _singular_info("linalg.inv_ex", A, check_errors)
        xp = A.device.xp
        eye = xp.broadcast_to(xp.eye(A.shape[-1], dtype=A.dtype), A.shape)
        fast = _where_ok(info.array == 0, lambda M: Inv.call(M)[0], A, lambda: _raw_solve(A, eye)), info
    return InvExResult(*fast)


def _raw_solve(A: Tensor, B: Any) -> Any:
    """A^-1 B on arrays through the LU (inf / NaN for a singular A, as LAPACK's getrs)."""
    xp = A.device.xp
    LU, perm, _, _ = _lu_values(xp, A.array)
    P = _permutation_matrix(xp, perm, A.dtype)
    y = _triangular_values(xp, LU, xp.swapaxes(P, -2, -1) @ B, False, True)
    return _triangular_values(xp, LU, y, True, False)


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> SolveExResult:
    """(result, info): linalg.solve with info as lu_factor_ex's instead of an error."""
    from .linalg import solve
    op = "linalg.solve_ex"
    _matrices(op, A)
    if not isinstance(B, Tensor):
        raise InputTypeError(f"{op}: B must be a Tensor, got {type(B).__name__}")
    fast = _lapack_first(lambda: solve(A, B, left=left), A)
    if fast is not None:
        return SolveExResult(*fast)
    info = _singular_info(op, A, check_errors)
    vector = left and (B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1]))
    Bm = B.unsqueeze(-1) if vector else B
    Bm = _rhs(op, A, Bm if left else _mT(Bm))
    batch = np.broadcast_shapes(A.shape[:-2], Bm.shape[:-2])
    At = (A if left else _mT(A)).expand(*batch, *A.shape[-2:])
    ok = A.device.xp.broadcast_to(info.array == 0, batch)
    X = _where_ok(ok, lambda M, R: Solve.call(M, R)[0], At, lambda: _raw_solve(At, Bm.array), Bm)
    X = X if left else _mT(X)
    return SolveExResult(X.squeeze(-1) if vector else X, info)


_COND_ORDS = (None, "fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def cond(input: Tensor, p: Any = None) -> Tensor:
    """The condition number in the ``p``-norm: sigma_max / sigma_min for p None or 2 (any shape;
    -2 the inverse ratio), else norm(A) norm(A^-1) of square matrices, inf for a singular one."""
    op = "linalg.cond"
    if p not in _COND_ORDS or isinstance(p, bool):
        raise LinAlgOptionError(f"{op}: p must be one of None, 'fro', 'nuc', 1, -1, 2, -2, inf, -inf, got {p!r}")
    if 0 in _matrices(op, input, square=p not in (None, 2, -2)).shape[-2:]:
        return (input.sum((-2, -1)) * 0.0).detach()          # empty matrices: 0, as torch
    if p in (None, 2, -2):
        _matrices(op, input, square=False)
        S = svdvals(input)
        return S[..., 0] / S[..., -1] if p != -2 else S[..., -1] / S[..., 0]
    inverse, info = inv_ex(_matrices(op, input))
    value = matrix_norm(input, p) * matrix_norm(inverse, p)
    return ops.Where.apply(value, math.inf, input.device.xp.asarray(info.array == 0))


def tensorinv(input: Tensor, ind: int = 2) -> Tensor:
    """The inverse for tensordot(·, ·, ind): A's first ``ind`` dims against the rest (products
    equal), result shape A.shape[ind:] + A.shape[:ind]."""
    _float("linalg.tensorinv", input, "A")
    if not _is_int(ind) or ind <= 0:
        raise LinAlgOptionError(f"linalg.tensorinv: ind must be a positive int, got {ind!r}")
    rows, cols = math.prod(input.shape[:ind]), math.prod(input.shape[ind:])
    if rows != cols:
        raise ShapeError(f"linalg.tensorinv: the product of the first ind={ind} dims of A "
                         f"{input.shape} ({rows}) must equal the product of the rest ({cols})")
    from .linalg import inv
    return inv(input.reshape(rows, cols)).reshape(*input.shape[ind:], *input.shape[:ind])


def tensorsolve(input: Tensor, other: Tensor, dims: Any = None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B, X of shape A.shape[B.ndim:] (``dims``: dims of A moved
    to the end first)."""
    op = "linalg.tensorsolve"
    _float(op, input, "A")
    _float(op, other, "B")
    if dims is not None:
        dims = [dims] if _is_int(dims) else list(dims)
        input = movedim(input, tuple(dims), tuple(range(input.ndim - len(dims), input.ndim)))
    rest = input.shape[other.ndim:]
    if input.shape[:other.ndim] != other.shape or math.prod(rest) != other.numel():
        raise ShapeError(f"{op}: A {input.shape} must start with B's shape {other.shape} and the rest "
                         f"must have as many elements ({math.prod(rest)} vs {other.numel()})")
    from .linalg import solve
    return solve(input.reshape(other.numel(), other.numel()), other.reshape(-1)).reshape(*rest)


def householder_product(input: Tensor, tau: Tensor) -> Tensor:
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T, v_i column i of A below
    the diagonal with a 1 on it (LAPACK's orgqr; A (..., m, n), tau (..., k), k <= n <= m)."""
    op = "linalg.householder_product"
    _matrices(op, input, square=False)
    _float(op, tau, "tau")
    m, n = input.shape[-2:]
    if not (n <= m and tau.shape[:-1] == input.shape[:-2] and tau.shape[-1] <= n):
        raise ShapeError(f"{op}: needs A (..., m, n) with n <= m and tau (..., k) with k <= n and "
                         f"A's batch dims, got A {input.shape} and tau {tau.shape}")
    V = tril(input, -1) + _eye_like(input, m)[:, :n]
    Q = _eye_like(input, m)[:, :n].expand(*input.shape)
    for i in range(tau.shape[-1] - 1, -1, -1):
        v = V[..., :, i:i + 1]
        Q = Q - (tau[..., i, None, None] * v) @ (_mT(v) @ Q)
    return Q


class GeqrfResult(NamedTuple):
    a: Tensor
    tau: Tensor


def geqrf(input: Tensor) -> GeqrfResult:
    """LAPACK's geqrf, as torch.geqrf: ``a`` holds R on and above the diagonal and the Householder
    vectors below it, ``tau`` their scales (``householder_product(a, tau)`` is the Q of the QR).
    Computed on the host; not differentiable (torch has no derivative either): the outputs do
    not require grad."""
    _matrices("geqrf", input, square=False)
    xp = input.device.xp
    with no_grad():
        h, tau = np.linalg.qr(as_host_array(input.array), mode="raw")   # h is a's transpose
        a = np.ascontiguousarray(np.swapaxes(h, -1, -2)).astype(input.dtype, copy=False)
        tau = tau.astype(input.dtype, copy=False)
        return GeqrfResult(Tensor._from(xp.asarray(a), device=input.device),
                           Tensor._from(xp.asarray(tau), device=input.device))


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrix (..., n, N) of increasing powers x^0 ... x^(N-1) (N defaults to n)."""
    if not isinstance(x, Tensor):
        raise InputTypeError(f"linalg.vander: x must be a Tensor, got {type(x).__name__}")
    N = (x.shape[-1] if x.ndim else 1) if N is None else N
    if x.ndim < 1 or not _is_int(N) or N <= 1:
        raise ShapeError(f"linalg.vander: x must be at least 1-D and N greater than 1, got shape "
                         f"{x.shape} and N={N!r}")
    powers = [x * 0 + 1]
    for _ in range(N - 1):
        powers.append(powers[-1] * x)
    return stack(powers, -1)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """linalg.matmul: the ``@`` product."""
    from .function_forms import matmul as _matmul
    return _matmul(input, other)


class EigResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class Eig(Decomposition):
    """The eigen-decomposition of a general square matrix: complex eigenvalues and unit-norm
    eigenvectors, LAPACK's geev as NumPy's and torch's (so the same order and phases); computed on
    the host (CuPy has no geev)."""
    takes_complex = True

    @staticmethod
    def compute(xp, A):
        L, V = np.linalg.eig(as_host_array(A))
        dtype = A.dtype if A.dtype.kind == "c" else _complex_of(A.dtype)
        return xp.asarray(L.astype(dtype, copy=False)), xp.asarray(V.astype(dtype, copy=False))

    @staticmethod
    def shapes(A):
        return (A.shape[-1:], A.shape[-2:])

    def gradients(self, g, A):
        """torch's linalg_eig_backward: V^-H (diag(gL) + (V^H gV - V^H V diag(re(V^H gV))) / E*)
        V^H with E_ij = L_j - L_i off the diagonal; the real part for a real A."""
        if is_grad_enabled():
            raise AutogradNotSupportedError("linalg.eig: double backward (create_graph=True) through "
                                            "linalg.eig / linalg.eigvals is not supported")
        xp = self.xp
        gL, gV = (t.array for t in self.split(g))
        L, V = self.saved
        Vh = xp.conj(xp.swapaxes(V, -1, -2))
        VhgV = Vh @ gV
        diag = xp.diagonal(VhgV, axis1=-2, axis2=-1)
        if not bool(xp.allclose(diag.imag, 0, rtol=1e-2, atol=1e-2)):
            raise AutogradError("linalg_eig_backward: The eigenvectors in the complex case are specified "
                                "up to multiplication by e^{i phi}. The specified loss function depends "
                                "on this quantity, so it is ill-defined.")
        VhgV = VhgV - Vh @ (V * diag.real[..., None, :])
        Lc = xp.conj(L)
        E = Lc[..., None, :] - Lc[..., :, None]
        n = L.shape[-1]
        idx = xp.arange(n)
        E[..., idx, idx] = 1
        gA = VhgV / E
        gA[..., idx, idx] = gL
        gA = xp.linalg.solve(Vh, gA @ Vh)
        return (Tensor._make(gA if A.dtype.kind == "c" else gA.real.copy(), self.device),)

    def name(self) -> str:
        return "LinalgEigBackward0"


def _square(op: str, A: Any) -> Tensor:
    """``A`` as a float or complex Tensor of finite square matrices (..., n, n)."""
    _float(op, A, "A", complex_ok=True)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"{op}: A must be batches of square matrices, got shape {A.shape}")
    if not bool(A.device.xp.isfinite(A.array).all()):
        raise LinAlgError(f"{op}: input tensor should not contain infs or NaNs.")
    return A


def eig(A: Tensor) -> EigResult:
    """torch.linalg.eig: (eigenvalues, eigenvectors), complex even for a real A (whose
    gradient is the real part of torch's complex formula)."""
    return EigResult(*Eig.call(_square("linalg.eig", A)))


def eigvals(A: Tensor) -> Tensor:
    """torch.linalg.eigvals: the complex eigenvalues of a square A."""
    return Eig.call(_square("linalg.eigvals", A))[0]


# ---------------------------------------------------------------------------------------------
# torch's top-level names
# ---------------------------------------------------------------------------------------------
def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """X with A X = B for A = L L^T (``upper``: U^T U) from its Cholesky factor (torch's order:
    B first); gradients as torch's."""
    op = "cholesky_solve"
    _matrices(op, L, name="L")
    B = _rhs(op, L, B)
    return CholeskySolve.call(B, L, bool(upper))[0]


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:
    """(L L^T)^-1 (``upper``: (U^T U)^-1) from a Cholesky factor."""
    _matrices("cholesky_inverse", L, name="L")
    return cholesky_solve(_eye_like(L).expand(*L.shape), L, upper)


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False) -> TriangularSolveResult:
    """torch.triangular_solve (deprecated): (X with op(A) X = b, a copy of A)."""
    _matrices("triangular_solve", A)
    X = solve_triangular(_mT(A) if transpose else A, b, upper=bool(upper) != bool(transpose),
                         unitriangular=unitriangular)
    return TriangularSolveResult(X, A.clone())


def _torch_lu(A: Tensor, pivot: bool = True, get_infos: bool = False) -> tuple:
    """torch.lu (deprecated): (LU, pivots) or, with ``get_infos``, (LU, pivots, infos); a
    singular matrix is not an error."""
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    return (LU, pivots, info) if get_infos else (LU, pivots)


def _torch_lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """torch.lu_solve(b, LU_data, LU_pivots): linalg.lu_solve's argument order reversed."""
    return lu_solve(LU_data, LU_pivots, b)


def nuclear_norm(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The sum of singular values of a 2-D input (or over the pair ``dim``); torch's
    ``nuclear_norm(input, keepdim)`` form too."""
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


def frobenius_norm(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """sqrt(sum x^2) over ``dim`` (torch.frobenius_norm; dim is required)."""
    _float("frobenius_norm", input)
    return input.norm(2, dim, keepdim)


TOP_LEVEL = {"cholesky_solve": cholesky_solve, "cholesky_inverse": cholesky_inverse,
             "triangular_solve": triangular_solve, "lu": _torch_lu, "lu_unpack": lu_unpack,
             "lu_solve": _torch_lu_solve, "orgqr": householder_product, "geqrf": geqrf,
             "nuclear_norm": nuclear_norm, "frobenius_norm": frobenius_norm}
METHODS = ("cholesky_solve", "cholesky_inverse", "triangular_solve", "lu", "lu_solve", "orgqr", "geqrf")
