"""``tg.linalg``: torch.linalg's linear algebra, batched over leading dims, on NumPy or CuPy
(``xp.linalg``), plus torch's top-level names for it (``tg.det``, ``x.inverse()``, ``tg.addmm``...).

* The decompositions and solvers (det, slogdet, inv, solve, cholesky, qr, svd, eigh, pinv,
  matrix_exp) are :class:`Decomposition` ops: the value on arrays, the gradient written once in
  Tensor ops from torch's formulas (``FunctionsManual.cpp``), so that backward evaluates it on
  arrays and ``create_graph=True`` differentiates it again.  An op with several outputs
  (eigh's values and vectors) packs them into one array; the public function unpacks them with
  differentiable slices, so each output's gradient reaches the one op.
* Everything else (norms, matrix_power, multi_dot, cross, addmm, cov, ...) composes those and the
  engine's ops (matmul, sum, indexing), so its gradients come for free.

Like torch: integer inputs are refused (a float dtype is needed); a singular matrix in inv / solve
or a matrix that is not positive-definite in cholesky raises :class:`LinAlgError` naming the batch
element.  Gradients at repeated eigenvalues (eigh) or singular values (svd) are inf / NaN, as
torch's (the formulas divide by their differences); the gradient of U, V or eigenvectors is only
defined up to their sign, so only sign-invariant functions of them have meaningful gradients.
"""
from __future__ import annotations

import builtins
import math
import warnings
from typing import Any, NamedTuple, Sequence

import numpy as np

from . import ops
from .functional import _scalar
from .broadcasting import broadcast_shape
from .errors import (ConfigTypeError, DTypeError, InputTypeError, LinAlgError,
                     LinAlgOptionError, MissingArgumentError, ShapeError)
from .factory import concat, eye
from .math_ops import Composed, _others_product
from .shape_index_ops import diag_embed, diagonal as _diagonal_planes, movedim, tril
from .tensor import FLOAT_DTYPES, Tensor, _broadcasts_to, _is_int, _one_dtype, is_grad_enabled, no_grad

__all__ = ["LinAlgError", "det", "slogdet", "inv", "solve", "cholesky", "qr", "svd",
           "svdvals", "eigh", "eigvalsh", "pinv", "matrix_power", "matrix_exp", "norm",
           "vector_norm", "matrix_norm", "cross", "multi_dot", "diagonal", "vecdot", "lstsq",
           "matrix_rank"]


# ---------------------------------------------------------------------------------------------
# Checks and small helpers
# ---------------------------------------------------------------------------------------------
def _matrices(op: str, A: Any, square: bool = True, name: str = "A") -> Tensor:
    """``A`` as a float Tensor of matrices (..., m, n), square unless told otherwise."""
    _float(op, A, name)
    if A.ndim < 2:
        raise ShapeError(f"{op}: {name} must have at least 2 dims (..., m, n), got shape {A.shape}")
    if square and A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"{op}: {name} must be batches of square matrices, got shape {A.shape}")
    return A


def _float(op: str, x: Any, name: str = "input", complex_ok: bool = False) -> Tensor:
    """``x`` as a float Tensor (torch refuses integer input to linear algebra too); with
    ``complex_ok`` a complex one too (the norms of |z|)."""
    if not isinstance(x, Tensor):
        raise InputTypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    if x.dtype not in FLOAT_DTYPES and not (complex_ok and x.dtype.kind == "c"):
        raise DTypeError(f"{op}: expected a float32 or float64 tensor, got {x.dtype} (convert it "
                         f"with .float() or .double(); complex tensors: the vector norms and the "
                         f"'fro', 1 and inf matrix norms only here)")
    return x


def _mT(x: Tensor) -> Tensor:
    """The transpose of the last two dims (torch's ``.mT``)."""
    return x.transpose(-2, -1)


def _eye_like(A: Tensor, n: int | None = None) -> Tensor:
    n = A.shape[-1] if n is None else n
    return eye(n, dtype=A.dtype, device=A.device)


def _raise_for(op: str, xp: Any, arrays: Sequence, what: str, fails: Any) -> None:
    """Raise LinAlgError naming the first batch element for which ``fails(matrix)`` is true."""
    batch = arrays[0].shape[:-2]
    for flat, index in enumerate(np.ndindex(*batch)):
        if fails(*(a[index] for a in arrays)):
            where = f"(Batch element {flat}) " if batch else ""
            raise LinAlgError(f"{op}: {where}{what} (matrix shape {arrays[0].shape})")
    raise LinAlgError(f"{op}: {what} (matrix shape {arrays[0].shape})")


_LAPACK_ERRORS = (np.linalg.LinAlgError,)   # CuPy raises NumPy's too, or returns NaN


def _checked(op: str, xp: Any, compute: Any, arrays: Sequence, what: str):
    """``compute(*arrays)`` -- refusing (typed, naming the batch element) what LAPACK refuses:
    NumPy raises its LinAlgError; CuPy may return NaN instead, caught by a finiteness check."""
    def fails(*one):
        try:
            return not bool(xp.isfinite(compute(*one)).all())
        except _LAPACK_ERRORS:
            return True
    try:
        out = compute(*arrays)
    except _LAPACK_ERRORS:
        _raise_for(op, xp, arrays, what, fails)
    if xp is not np and not bool(xp.isfinite(out).all()) and bool(xp.isfinite(arrays[0]).all()):
        _raise_for(op, xp, arrays, what, fails)
    return out


# ---------------------------------------------------------------------------------------------
# Decomposition: value on arrays, gradient in Tensor ops, several outputs packed into one
# ---------------------------------------------------------------------------------------------
class Decomposition(Composed):
    """``compute(xp, *args)`` returns a tuple of arrays sharing the leading (batch) dims of the
    first argument: one is returned as it is, several are packed side by side into one array
    (batch..., total) that :meth:`call` unpacks.  ``gradients(g, *inputs)`` sees the outputs
    through :meth:`results`."""

    def forward(self, *args: Any):
        outs = self.compute(self.xp, *args)
        self.saved = outs
        if len(outs) == 1:
            return outs[0]
        self.batch = args[0].shape[:-2]
        return self.xp.concatenate([o.reshape(self.batch + (math.prod(o.shape[len(self.batch):]),))
                                    for o in outs], axis=-1)

    @classmethod
    def call(cls, *args: Any) -> tuple:
        """The op's outputs as Tensors (a tuple, unpacked from the packed array)."""
        out = cls.apply(*args)
        shapes = cls.shapes(*args)
        return (out,) if len(shapes) == 1 else _unpack(out, shapes)

    @staticmethod
    def shapes(*args: Any) -> tuple:
        """The outputs' shapes after the batch dims."""
        raise NotImplementedError

    def results(self) -> tuple:
        """The outputs as Tensors: under no_grad (backward) the saved arrays, in graph mode
        (create_graph) recomputed from the inputs, so that they are differentiable too."""
        if is_grad_enabled():
            return type(self).call(*self.inputs)
        return tuple(Tensor._make(a, self.device) for a in self.saved)

    def split(self, g: Tensor) -> tuple:
        """The gradient of the packed output, one per output."""
        shapes = self.shapes(*self.inputs)
        return (g,) if len(shapes) == 1 else _unpack(g, shapes)


def _unpack(packed: Tensor, shapes: tuple) -> tuple:
    batch, parts, start = packed.shape[:-1], [], 0
    for shape in shapes:
        size = math.prod(shape)
        parts.append(_Part.apply(packed, start, start + size, batch + tuple(shape)))
        start += size
    return tuple(parts)


class _Part(Composed):
    """One output of a packed decomposition, ``packed[..., start:stop]`` in its own shape; its
    grad_fn carries the decomposition's torch name (``LinalgEighBackward0``, ...), as torch's
    outputs do, where a slice-and-reshape would show ``ViewBackward0``."""
    takes_complex = True

    @staticmethod
    def compute(xp, packed, start, stop, shape):
        return packed[..., start:stop].reshape(shape).copy()

    def gradients(self, g, packed, start, stop, shape):
        batch, total = packed.shape[:-1], packed.shape[-1]
        pieces = [g.reshape(batch + (stop - start,))]
        if start:
            pieces.insert(0, self._zeros(batch + (start,), g))
        if stop < total:
            pieces.append(self._zeros(batch + (total - stop,), g))
        return (concat(pieces, -1) if len(pieces) > 1 else pieces[0]), None, None, None

    def _zeros(self, shape, like):
        return Tensor._make(self.xp.zeros(shape, dtype=like.dtype), self.device)

    def name(self) -> str:
        producer = self.inputs[0].grad_fn
        return producer.name() if producer is not None else "ViewBackward0"


class Inv(Decomposition):
    @staticmethod
    def compute(xp, A):
        return (_checked("linalg.inv", xp, xp.linalg.inv, (A,),
                         "the input matrix is singular, so it has no inverse"),)

    @staticmethod
    def shapes(A):
        return (A.shape[-2:],)

    def gradients(self, g, A):
        Ainv_T = _mT(self.results()[0])
        return (-(Ainv_T @ g @ Ainv_T),)


class Solve(Decomposition):
    """X with A X = B, A (..., n, n) and B (..., n, k), batch dims broadcast."""

    @staticmethod
    def compute(xp, A, B):
        batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
        A = xp.ascontiguousarray(xp.broadcast_to(A, batch + A.shape[-2:]))
        B = xp.ascontiguousarray(xp.broadcast_to(B, batch + B.shape[-2:]))
        return (_checked("linalg.solve", xp, xp.linalg.solve, (A, B),
                         "the input matrix A is singular, so the system has no unique solution"),)

    @staticmethod
    def shapes(A, B):
        return (B.shape[-2:],)

    def gradients(self, g, A, B):
        X = self.results()[0]
        gB = Solve.call(_mT(A), g)[0]
        return (ops.unbroadcast(-(gB @ _mT(X)), A.shape) if self.needs_input_grad[0] else None,
                ops.unbroadcast(gB, B.shape) if self.needs_input_grad[1] else None)


class Slogdet(Decomposition):
    """(sign, log|det|): a constant sign, and log|det| whose gradient is A^-T."""

    @staticmethod
    def compute(xp, A):
        sign, logabsdet = xp.linalg.slogdet(A)
        return sign.astype(A.dtype), logabsdet.astype(A.dtype)

    @staticmethod
    def shapes(A):
        return ((), ())

    def gradients(self, g, A):
        g_logabsdet = self.split(g)[1]
        return (_mT(Inv.call(A)[0]) * g_logabsdet[..., None, None],)


class Det(Decomposition):
    @staticmethod
    def compute(xp, A):
        return (xp.linalg.det(A),)

    @staticmethod
    def shapes(A):
        return ((),)

    def gradients(self, g, A):
        """d det / dA is the cofactor matrix: det A^-T for an invertible A; for a singular one,
        from the SVD A = U S Vh, det(U) det(Vh) U diag(prod_{j != i} s_j) Vh (as torch)."""
        try:
            Ainv = Inv.call(A)[0]
        except LinAlgError:                                  # some matrix of the batch is singular
            return (_singular_cofactors(A) * g[..., None, None],)
        return (_mT(Ainv) * (g * self.results()[0])[..., None, None],)


def _singular_cofactors(A: Tensor) -> Tensor:
    U, S, Vh = Svd.call(A, True)
    with no_grad():
        signs = Det.call(U.detach())[0] * Det.call(Vh.detach())[0]
    return (U * _others_product(S, -1)[..., None, :]) @ Vh * signs[..., None, None]


class Cholesky(Decomposition):
    @staticmethod
    def compute(xp, A):
        what = "the input matrix is not positive-definite"
        L = _checked("linalg.cholesky", xp, xp.linalg.cholesky, (A,), what)
        if bool(xp.isnan(xp.diagonal(L, axis1=-2, axis2=-1)).any()):     # NumPy passes a NaN
            _raise_for("linalg.cholesky", xp, (A,), what,                # pivot on; LAPACK's potrf
                       lambda M: bool(xp.isnan(xp.linalg.cholesky(M).diagonal()).any()))  # refuses it
        return (L,)

    @staticmethod
    def shapes(A):
        return (A.shape[-2:],)

    def gradients(self, g, A):
        """torch's cholesky_backward: gA = L^-T Phi(L^T gL) L^-1, Phi symmetrising the lower
        triangle (diagonal halved)."""
        L = self.results()[0]
        P = tril(_mT(L) @ g)
        sym = 0.5 * (P + _mT(tril(P, -1)))
        left = Solve.call(_mT(L), sym)[0]                    # L^-T sym
        return (_mT(Solve.call(_mT(L), _mT(left))[0]),)      # (L^-T left^T)^T = left L^-1


class Eigh(Decomposition):
    @staticmethod
    def compute(xp, A, UPLO):
        L, V = xp.linalg.eigh(A, UPLO=UPLO)
        return L, V

    @staticmethod
    def shapes(A, UPLO):
        return (A.shape[-1:], A.shape[-2:])

    def gradients(self, g, A, UPLO):
        """torch's linalg_eig_backward (hermitian): V (skew(V^T gV) / E + diag(gL)) V^T with
        E_ij = L_j - L_i off the diagonal -- inf / NaN where eigenvalues repeat, as torch."""
        gL, gV = self.split(g)
        L, V = self.results()
        if not bool(gV.array.any()):         # eigenvalues only (eigvalsh): torch's V diag(gL) V^T,
            return (V @ diag_embed(gL) @ _mT(V), None)   # finite where eigenvalues repeat
        VtgV = _mT(V) @ gV
        skew = 0.5 * (VtgV - _mT(VtgV))
        I = _eye_like(A)
        E = L[..., None, :] - L[..., :, None] + I
        return (V @ (skew / E * (1.0 - I) + diag_embed(gL)) @ _mT(V), None)


class Svd(Decomposition):
    """The reduced SVD (U, S, Vh); ``Svd.call(A, False)`` gives the full one (full_matrices)."""

    @staticmethod
    def compute(xp, A, full_matrices):
        if A.size == 0:
            return _empty_svd(xp, A, full_matrices)
        U, S, Vh = xp.linalg.svd(A, full_matrices=full_matrices)
        return U, S, Vh

    @staticmethod
    def shapes(A, full_matrices):
        m, n = A.shape[-2:]
        k = builtins.min(m, n)
        return ((m, m if full_matrices else k), (k,), (n if full_matrices else k, n))

    def gradients(self, g, A, full_matrices):
        U, S, Vh = self.results()
        gU, gS, gVh = self.split(g)
        k = S.shape[-1]
        if full_matrices:      # only the first k columns of U / rows of Vh matter (as torch)
            U, gU, Vh, gVh = U[..., :k], gU[..., :k], Vh[..., :k, :], gVh[..., :k, :]
        if not (bool(gU.array.any()) or bool(gVh.array.any())):   # singular values only (svdvals):
            return U @ diag_embed(gS) @ Vh, None                  # torch's U diag(gS) Vh, finite on ties
        return _svd_backward(gU, gS, gVh, U, S, Vh), None


def _empty_svd(xp, A, full_matrices):
    m, n = A.shape[-2:]
    batch, k = A.shape[:-2], builtins.min(m, n)
    U = xp.broadcast_to(xp.eye(m, m if full_matrices else k, dtype=A.dtype), batch + (m, m if full_matrices else k))
    Vh = xp.broadcast_to(xp.eye(n if full_matrices else k, n, dtype=A.dtype), batch + (n if full_matrices else k, n))
    return U.copy(), xp.zeros(batch + (k,), dtype=A.dtype), Vh.copy()


def _svd_backward(gU: Tensor, gS: Tensor, gVh: Tensor, U: Tensor, S: Tensor, Vh: Tensor) -> Tensor:
    """torch's svd_backward (real case), for the reduced U (m, k), S (k,), Vh (k, n)."""
    m, n = U.shape[-2], Vh.shape[-1]
    UtgU = _mT(U) @ gU
    VtgV = Vh @ _mT(gVh)
    UtgU, VtgV = UtgU - _mT(UtgU), VtgV - _mT(VtgV)
    S2 = S * S
    I = _eye_like(S, S.shape[-1])
    E = S2[..., None, :] - S2[..., :, None] + I
    gA = (UtgU * S[..., None, :] + S[..., :, None] * VtgV) / E * (1.0 - I) + diag_embed(gS)
    if m > n:
        gUSinv = gU / S[..., None, :]
        gA = U @ gA + gUSinv - U @ (_mT(U) @ gUSinv)
        return gA @ Vh
    if m < n:
        SinvgVh = gVh / S[..., :, None]
        gA = gA @ Vh + SinvgVh - (SinvgVh @ _mT(Vh)) @ Vh
        return U @ gA
    return U @ gA @ Vh


class Qr(Decomposition):
    @staticmethod
    def compute(xp, A, mode):
        Q, R = xp.linalg.qr(A, mode="complete" if mode == "complete" else "reduced")
        return Q, R

    @staticmethod
    def shapes(A, mode):
        m, n = A.shape[-2:]
        k = m if mode == "complete" else builtins.min(m, n)
        return ((m, k), (k, n))

    def gradients(self, g, A, mode):
        """The classic formula torch used (m >= n): gA = (gQ + Q copyltu(M)) R^-T with
        M = R gR^T - Q^T gQ; for m < n, A = Q [U | V] splits into a square part and the rest."""
        m, n = A.shape[-2:]
        if mode == "complete" and m > n:
            raise LinAlgError("linalg.qr: the derivative of mode='complete' is not defined when "
                              f"m > n (A has shape {A.shape}), as in torch; use mode='reduced'")
        Q, R = self.results()
        gQ, gR = self.split(g)
        if m >= n:
            return _qr_square_backward(gQ, gR, Q, R), None
        Y, gV = A[..., m:], gR[..., m:]                    # A = [X | Y], R = [U | V]
        gX = _qr_square_backward(gQ + Y @ _mT(gV), gR[..., :m], Q, R[..., :m])
        return concat([gX, Q @ gV], -1), None


def _qr_square_backward(gQ: Tensor, gR: Tensor, Q: Tensor, R: Tensor) -> Tensor:
    M = R @ _mT(gR) - _mT(gQ) @ Q
    low = tril(M)           # copyltu(M): the lower triangle mirrored up, the diagonal once
    M = low + _mT(low) - diag_embed(_diagonal_planes(low, 0, -2, -1))
    rhs = gQ + Q @ M
    return _mT(Solve.call(R, _mT(rhs))[0])            # rhs R^-T


class Pinv(Decomposition):
    @staticmethod
    def compute(xp, A, atol, rtol):
        if A.size == 0:
            return (xp.zeros(A.shape[:-2] + (A.shape[-1], A.shape[-2]), dtype=A.dtype),)
        U, S, Vh = xp.linalg.svd(A, full_matrices=False)
        cutoff = xp.maximum(atol, rtol * S.max(axis=-1, keepdims=True))
        Sinv = xp.where(S > cutoff, 1.0 / xp.where(S > cutoff, S, 1.0), 0.0).astype(A.dtype)
        return (xp.swapaxes(Vh, -2, -1) @ (Sinv[..., :, None] * xp.swapaxes(U, -2, -1)),)

    @staticmethod
    def shapes(A, atol, rtol):
        return ((A.shape[-1], A.shape[-2]),)

    def gradients(self, g, A, atol, rtol):
        """torch's pinv_backward."""
        P = self.results()[0]
        Pt, gt = _mT(P), _mT(g)
        if A.shape[-2] <= A.shape[-1]:
            K = gt @ P
            KPt = K @ Pt
            gA = -_mT(P @ K) + KPt - (A @ P) @ KPt + (Pt @ P) @ (gt - K @ A)
        else:
            K = P @ gt
            PtK = Pt @ K
            gA = -_mT(K @ P) + (gt - A @ K) @ P @ Pt + PtK - PtK @ P @ A
        return gA, None, None


class MatrixExp(Decomposition):
    @staticmethod
    def compute(xp, A):
        return (_expm(xp, A),)

    @staticmethod
    def shapes(A):
        return (A.shape[-2:],)

    def gradients(self, g, A):
        """torch's: the upper-right block of exp([[A^T, g], [0, A^T]])."""
        n = A.shape[-1]
        At = _mT(A)
        top = concat([At, g], -1)
        bottom = concat([(g * 0.0).expand(*top.shape[:-2], n, n), At], -1)
        return (MatrixExp.call(concat([top, bottom], -2))[0][..., :n, n:],)


def _expm(xp, A):
    """exp(A) by scaling and squaring: a degree-18 Taylor series of A / 2^s with ||A / 2^s||_1
    <= 1/2 (error below 1e-22 relative), then s squarings."""
    if A.size == 0:
        return A.copy()
    norm = float(xp.abs(A).sum(axis=-2).max())
    s = builtins.max(0, int(math.ceil(math.log2(norm / 0.5)))) if norm > 0.5 else 0
    X = A / (2.0 ** s)
    term = xp.broadcast_to(xp.eye(A.shape[-1], dtype=A.dtype), A.shape).copy()
    total = term.copy()
    for k in range(1, 19):
        term = term @ X / k
        total = total + term
    for _ in range(s):
        total = total @ total
    return total


# ---------------------------------------------------------------------------------------------
# torch.linalg
# ---------------------------------------------------------------------------------------------
class SlogdetResult(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class QRResult(NamedTuple):
    Q: Tensor
    R: Tensor


class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


class LstsqResult(NamedTuple):
    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix (..., n, n) -> (...)."""
    return Det.call(_matrices("linalg.det", A))[0]


def slogdet(A: Tensor) -> SlogdetResult:
    """(sign, log|det|) of each square matrix: sign is -1, 0 or 1 (no gradient)."""
    sign, logabsdet = Slogdet.call(_matrices("linalg.slogdet", A))
    return SlogdetResult(sign.detach(), logabsdet)


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix; LinAlgError for a singular one."""
    return Inv.call(_matrices("linalg.inv", A))[0]


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (``left=False``: X A = B), A (*, n, n), B (*, n, k) or a batch of vectors
    (*, n) as torch decides (B 1-D, or B.shape == A.shape[:-1]); batch dims broadcast."""
    _matrices("linalg.solve", A)
    if not isinstance(B, Tensor):
        raise InputTypeError(f"linalg.solve: B must be a Tensor, got {type(B).__name__}")
    vector = left and (B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1]))
    Bm = B.unsqueeze(-1) if vector else _matrices("linalg.solve", B, square=False, name="B")
    if not left:
        return _mT(solve(_mT(A), _mT(Bm)))
    n = A.shape[-1]
    if Bm.shape[-2] != n:
        raise ShapeError(f"linalg.solve: A {A.shape} and B {B.shape} do not fit: B needs {n} rows")
    broadcast_shape("linalg.solve: the batch dims of A {A} and B {B} do not broadcast",
                    A.shape[:-2], Bm.shape[:-2], A=A.shape, B=B.shape)
    X = Solve.call(A, Bm)[0]
    return X.squeeze(-1) if vector else X


def cholesky(input: Tensor, *, upper: bool = False) -> Tensor:
    """L with A = L L^T (lower; ``upper=True``: L^T), A symmetric positive-definite (its lower
    triangle is used); LinAlgError otherwise."""
    L = Cholesky.call(_matrices("linalg.cholesky", input))[0]
    return _mT(L) if upper else L


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """A = Q R, Q with orthonormal columns, R upper triangular: ``mode`` 'reduced' (Q (m, k), R
    (k, n), k = min(m, n)), 'complete' (Q (m, m), R (m, n)) or 'r' (R only; Q empty)."""
    _matrices("linalg.qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise LinAlgOptionError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    Q, R = Qr.call(A, "complete" if mode == "complete" else "reduced")
    if mode == "r":
        return QRResult(Tensor._make(A.device.xp.zeros((0,), dtype=A.dtype), A.device), R)
    return QRResult(Q, R)


def svd(A: Tensor, full_matrices: bool = True, *, driver: Any = None) -> SVDResult:
    """A = U diag(S) Vh, S descending; ``full_matrices``: U (m, m) and Vh (n, n), else (m, k)
    and (k, n).  Gradients: torch's formula (inf / NaN at repeated singular values)."""
    _matrices("linalg.svd", A, square=False)
    return SVDResult(*Svd.call(A, bool(full_matrices)))


def svdvals(A: Tensor, *, driver: Any = None) -> Tensor:
    """The singular values, descending (..., min(m, n))."""
    _matrices("linalg.svdvals", A, square=False)
    return Svd.call(A, False)[1]


def _uplo(op: str, UPLO: Any) -> str:
    if UPLO not in ("L", "U"):
        raise LinAlgOptionError(f"{op}: UPLO must be 'L' or 'U', got {UPLO!r}")
    return UPLO


def eigh(input: Tensor, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of symmetric matrices,
    reading the lower (``UPLO='L'``) or upper triangle."""
    return EighResult(*Eigh.call(_matrices("linalg.eigh", input), _uplo("linalg.eigh", UPLO)))


def eigvalsh(input: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues of symmetric matrices, ascending."""
    return Eigh.call(_matrices("linalg.eigvalsh", input), _uplo("linalg.eigvalsh", UPLO))[0]


def _tolerances(op: str, A: Tensor, atol: Any, rtol: Any) -> tuple[float, float]:
    """torch's defaults: rtol = eps * max(m, n) when neither is given, 0 when only atol is."""
    atol_ = 0.0 if atol is None else _scalar(op, "atol", atol)
    if rtol is None:
        rtol_ = np.finfo(A.dtype).eps * builtins.max(A.shape[-2:]) if atol is None or atol_ <= 0 else 0.0
    else:
        rtol_ = _scalar(op, "rtol", rtol)
    return atol_, rtol_


def pinv(input: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse (n, m), from the SVD with singular values at or below
    max(atol, rtol * largest) dropped (``hermitian`` only changes speed in torch)."""
    _matrices("linalg.pinv", input, square=False)
    return Pinv.call(input, *_tolerances("linalg.pinv", input, atol, rtol))[0]


def matrix_rank(input: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The number of singular values above max(atol, rtol * largest), int64 (...)."""
    _matrices("linalg.matrix_rank", input, square=False)
    atol_, rtol_ = _tolerances("linalg.matrix_rank", input, atol, rtol)
    with no_grad():
        S = svdvals(input)
    xp = input.device.xp
    if S.shape[-1] == 0:
        return Tensor._make(xp.zeros(input.shape[:-2], dtype=np.int64), input.device)
    cutoff = xp.maximum(atol_, rtol_ * S.array.max(axis=-1, keepdims=True))
    return Tensor._make((S.array > cutoff).sum(axis=-1).astype(np.int64), input.device)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """A^n by repeated squaring (n = 0: the identity; n < 0: the inverse's power)."""
    _matrices("linalg.matrix_power", input)
    if not _is_int(n):
        raise InputTypeError(f"linalg.matrix_power: n must be an int, got {n!r}")
    n = int(n)
    if n == 0:      # the identity, in the graph with gradient 0 (as torch's)
        xp = input.device.xp
        return ops.Where.apply(input, xp.broadcast_to(xp.eye(input.shape[-1], dtype=input.dtype), input.shape),
                               xp.zeros(input.shape, dtype=bool))
    base, result = (inv(input) if n < 0 else input), None
    n = abs(n)
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


def matrix_exp(input: Tensor) -> Tensor:
    """The matrix exponential of each square matrix."""
    return MatrixExp.call(_matrices("linalg.matrix_exp", input))[0]


def vector_norm(input: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """The vector ``ord``-norm over ``dim`` (all elements by default): any real ord, inf, -inf,
    0 (the count of nonzeros) -- Tensor.norm's."""
    input = _float("linalg.vector_norm", _norm_input("linalg.vector_norm", input, dtype), complex_ok=True)
    if isinstance(ord, str):
        raise ConfigTypeError(f"linalg.vector_norm: ord must be a number, got {ord!r} (matrix norms "
                          f"are linalg.matrix_norm's)")
    return input.norm(ord, dim, keepdim)


def _norm_input(op: str, input: Any, dtype: Any) -> Any:
    """``input`` cast to a norm's ``dtype``: only a widening of the same kind, as torch (a float64
    norm asked in float32 would quietly lose the precision the input had)."""
    if dtype is None or not isinstance(input, Tensor):
        return input
    have, want = np.dtype(input.dtype), np.dtype(dtype)
    if have.kind not in "fc":
        raise DTypeError(f"{op}: expected a floating point or complex tensor as input, got {have} "
                         f"(as torch: dtype= casts no integer or bool input); convert it with .float()")
    if (want.kind != have.kind or want.itemsize < have.itemsize):
        raise DTypeError(f"{op}: dtype={want} would narrow or change the kind of the {have} input "
                         f"(as torch, only a widening of the same kind: cast the input first)")
    return input.to(dtype)


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def matrix_norm(input: Tensor, ord: Any = "fro", dim: Sequence[int] = (-2, -1), keepdim: bool = False,
                *, dtype: Any = None) -> Tensor:
    """The matrix norm over the two dims ``dim``: 'fro', 'nuc' (sum of singular values), 2 / -2
    (largest / smallest singular value), 1 / -1 (max / min column sum of |A|), inf / -inf (rows)."""
    input = _float("linalg.matrix_norm", _norm_input("linalg.matrix_norm", input, dtype),
                   complex_ok=ord not in ("nuc", 2, -2))
    if ord not in _MATRIX_ORDS or isinstance(ord, bool):
        raise LinAlgOptionError(f"linalg.matrix_norm: ord must be one of 'fro', 'nuc', 1, -1, 2, -2, "
                          f"inf, -inf, got {ord!r}")
    if input.ndim < 2 or not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ShapeError(f"linalg.matrix_norm: needs a tensor of at least 2 dims and dim a pair "
                         f"of dims, got shape {input.shape} and dim={dim!r}")
    d = tuple(sorted(input._dim(k, "linalg.matrix_norm") for k in dim))
    if d[0] == d[1]:
        raise ShapeError(f"linalg.matrix_norm: dim must name two different dims, got {dim!r}")
    if ord == "fro":
        return input.norm(2, d, keepdim)
    M = movedim(input, (input._dim(dim[0], ""), input._dim(dim[1], "")), (-2, -1))
    value = _matrix_norm_last(M, ord)                       # (..., 1, 1)
    return movedim(value, (-2, -1), d) if keepdim else value.squeeze(-1).squeeze(-1)


def _matrix_norm_last(M: Tensor, ord: Any) -> Tensor:
    """The norm of the matrices in the last two dims, kept as (..., 1, 1)."""
    if ord in ("nuc", 2, -2):
        S = svdvals(M)
        S = S.sum(-1) if ord == "nuc" else _largest(S, -1)[..., 0] if ord == 2 else S.amin(-1)
        return S[..., None, None]
    summed, other = (-2, -1) if ord in (1, -1) else (-1, -2)
    sums = M.abs().sum(summed, keepdim=True)
    return _largest(sums, other) if ord > 0 else sums.amin(other, keepdim=True)


def _largest(x: Tensor, dim: int) -> Tensor:
    """``x.amax(dim, keepdim=True)`` of non-negative values, 0 over an empty dim (torch's matrix
    norms of an empty matrix: 0; the smallest of nothing is still an error)."""
    if x.shape[dim] == 0:
        return x.sum(dim, keepdim=True)                  # zeros, in the graph
    return x.amax(dim, keepdim=True)


def norm(input: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """torch.linalg.norm: a vector norm over an int ``dim`` (or over everything when ``ord`` and
    ``dim`` are None), a matrix norm over a pair of dims or of a 2-D input."""
    input = _float("linalg.norm", input, complex_ok=True)
    if isinstance(dim, int) or (isinstance(dim, (tuple, list)) and len(dim) == 1):
        return vector_norm(input, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is not None:
        return matrix_norm(input, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(input, 2, None, keepdim, dtype=dtype)
    if input.ndim == 1:
        return vector_norm(input, ord, None, keepdim, dtype=dtype)
    if input.ndim == 2:
        return matrix_norm(input, ord, (-2, -1), keepdim, dtype=dtype)
    raise ShapeError(f"linalg.norm: with ord={ord!r} and dim=None the input must be 1-D or 2-D, "
                     f"got shape {input.shape} (give dim)")


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (batch dims broadcast)."""
    return _cross("linalg.cross", input, other, dim)


def _cross(op: str, input: Tensor, other: Tensor, dim: Any) -> Tensor:
    from .function_forms import broadcast_tensors
    for t in (input, other):
        if not isinstance(t, Tensor):
            raise InputTypeError(f"{op}: input and other must be Tensors, got {type(t).__name__}")
    try:
        a, b = broadcast_tensors(input, other)
    except ShapeError:
        raise ShapeError(f"{op}: shapes {input.shape} and {other.shape} do not broadcast") from None
    if dim is None:   # torch.cross's old default: the first dim of size 3
        dim = next((k for k, s in enumerate(a.shape) if s == 3), None)
        if dim is None:
            raise ShapeError(f"{op}: no dim of size 3 in shape {a.shape}")
    _one_dtype(op, input=input, other=other)
    if input.ndim != other.ndim:
        raise ShapeError(f"{op}: inputs must have the same number of dims, got shapes "
                         f"{input.shape} and {other.shape}")
    d = a._dim(dim, op)
    if a.shape[d] != 3:
        raise ShapeError(f"{op}: dim {dim} must have size 3, got shapes {input.shape} and {other.shape}")
    x = [a.narrow(d, i, 1) for i in range(3)]
    y = [b.narrow(d, i, 1) for i in range(3)]
    return concat([x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2],
                   x[0] * y[1] - x[1] * y[0]], d)


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of a chain of matrices; the first may be a 1-D row vector and the last a 1-D
    column vector (their dims are dropped from the result)."""
    tensors = list(tensors) if isinstance(tensors, (list, tuple)) else None
    if tensors is None or not builtins.all(isinstance(t, Tensor) for t in tensors):
        raise InputTypeError("linalg.multi_dot: expects a list of at least 2 Tensors")
    if len(tensors) < 2:                 # torch's RuntimeError (MissingArgumentError: a TypeError too)
        raise MissingArgumentError(f"linalg.multi_dot: expected at least 2 tensors but got "
                                   f"{len(tensors)} (as torch); one matrix is its own product")
    last = len(tensors) - 1
    for i, t in enumerate(tensors):
        if not (t.ndim == 2 or (t.ndim == 1 and i in (0, last))):
            raise ShapeError(f"linalg.multi_dot: tensor {i} must be 2-D (the first and last may "
                             f"be 1-D), got shape {t.shape}")
    mats = [t.unsqueeze(0) if i == 0 and t.ndim == 1 else
            t.unsqueeze(-1) if i == last and t.ndim == 1 else t for i, t in enumerate(tensors)]
    for i in range(last):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise ShapeError(f"linalg.multi_dot: tensor {i} of shape {tensors[i].shape} cannot be "
                             f"multiplied by tensor {i + 1} of shape {tensors[i + 1].shape}")
    out = mats[0]
    for m in mats[1:]:
        out = out @ m
    if tensors[0].ndim == 1:
        out = out.squeeze(0)
    return out.squeeze(-1) if tensors[-1].ndim == 1 else out


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """torch.diagonal with the last two dims by default."""
    if not isinstance(A, Tensor):
        raise InputTypeError(f"linalg.diagonal: A must be a Tensor, got {type(A).__name__}")
    return _diagonal_planes(A, offset, dim1, dim2)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product along ``dim`` (batch dims broadcast)."""
    for t in (x, y):
        _float("linalg.vecdot", t)
    _one_dtype("linalg.vecdot", x=x, y=y)
    if x.shape[dim] != y.shape[dim] and 1 not in (x.shape[dim], y.shape[dim]):
        raise ShapeError(f"linalg.vecdot: sizes along dim {dim} differ: {x.shape} and {y.shape}")
    return (x * y).sum(dim)


_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(input: Tensor, b: Tensor, rcond: Any = None, *, driver: Any = None) -> LstsqResult:
    """The least-squares solution of A X = B (pinv(A) B: its gradient is torch's). The other
    fields follow torch's CPU ``driver`` (default 'gelsy'): rank for all but 'gels', singular_values
    for 'gelsd' / 'gelss', residuals (squared column norms of A X - B) for all but 'gelsy' when
    m > n and A has full rank; the fields a driver does not give are empty, none is differentiable."""
    if driver is not None and driver not in _LSTSQ_DRIVERS:
        raise LinAlgOptionError(f"linalg.lstsq: driver must be one of {_LSTSQ_DRIVERS} or None, "
                                f"got {driver!r}")
    driver = driver or "gelsy"
    _matrices("linalg.lstsq", input, square=False)
    vector = isinstance(b, Tensor) and b.ndim == input.ndim - 1
    Bm = b.unsqueeze(-1) if vector else _matrices("linalg.lstsq", b, square=False, name="B")
    if Bm.shape[-2] != input.shape[-2]:
        raise ShapeError(f"linalg.lstsq: A {input.shape} and B {b.shape} need the same number of rows")
    X = pinv(input, rtol=rcond) @ Bm
    return LstsqResult(X.squeeze(-1) if vector else X, *_lstsq_extras(input, Bm, X, rcond, driver))


def _lstsq_extras(A: Tensor, B: Tensor, X: Tensor, rcond: Any, driver: str) -> tuple:
    """(residuals, rank, singular_values) of ``lstsq`` as ``driver`` gives them."""
    xp, device = A.device.xp, A.device
    empty = Tensor._make(xp.zeros((0,), dtype=A.dtype), device)
    rank = (Tensor._make(xp.zeros((0,), dtype=np.int64), device) if driver == "gels"
            else matrix_rank(A, rtol=rcond))
    with no_grad():
        values = svdvals(A) if driver in ("gelsd", "gelss") else empty
        m, n = A.shape[-2:]
        full = driver == "gels" or bool((rank.array == n).all())
        residuals = empty
        if driver != "gelsy" and m > n and full:
            residuals = ((A @ X - B) ** 2).sum(-2)
    return residuals, rank, values


# ---------------------------------------------------------------------------------------------
# torch's top-level names (and Tensor methods) for the same things
# ---------------------------------------------------------------------------------------------
class SvdResult(NamedTuple):
    U: Tensor
    S: Tensor
    V: Tensor


def logdet(input: Tensor) -> Tensor:
    """log(det): NaN for a negative determinant, -inf for 0 (torch.logdet)."""
    sign, logabsdet = slogdet(_matrices("logdet", input))
    return logabsdet + sign.log()       # log(1) = 0, log(-1) = NaN, log(0) = -inf


def inverse(input: Tensor) -> Tensor:
    """torch.inverse: linalg.inv."""
    return inv(input)


def _cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """torch.cholesky(input, upper=False)."""
    return cholesky(input, upper=upper)


def _qr(input: Tensor, some: bool = True) -> QRResult:
    """torch.qr: the reduced QR (``some=False``: complete)."""
    return qr(input, "reduced" if some else "complete")


def _svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> SvdResult:
    """torch.svd: (U, S, V) -- V, not linalg.svd's Vh = V^T; ``some``: the reduced one.
    ``compute_uv=False``: U and V zero-filled (m, m) and (n, n), as torch."""
    _matrices("svd", input, square=False)
    if not compute_uv:
        m, n = input.shape[-2:]
        xp, batch = input.device.xp, input.shape[:-2]
        zeros = [Tensor._make(xp.zeros(batch + (k, k), dtype=input.dtype), input.device) for k in (m, n)]
        return SvdResult(zeros[0], svdvals(input), zeros[1])
    U, S, Vh = Svd.call(input, not some)
    return SvdResult(U, S, _mT(Vh))


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """torch.pinverse: linalg.pinv with rtol=rcond."""
    return pinv(input, rtol=rcond)


def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a 2-D tensor (torch.trace; not square is fine)."""
    if not isinstance(input, Tensor) or input.ndim != 2:
        raise ShapeError(f"trace: expected a 2-D tensor, got shape {getattr(input, 'shape', input)}")
    return _diagonal_planes(input, 0, 0, 1).sum()


_CROSS_DIM_WARNED = [False]     # torch's TORCH_WARN_ONCE: once a program


def _torch_cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """torch.cross: dim None is the first dim of size 3 (deprecated in torch, which warns once)."""
    if dim is None and not _CROSS_DIM_WARNED[0]:
        _CROSS_DIM_WARNED[0] = True
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either "
                      "pass the dim explicitly or simply use torch.linalg.cross.\nThe default value of "
                      "dim will change to agree with that of linalg.cross in a future release.",
                      UserWarning, stacklevel=2)
    return _cross("cross", input, other, dim)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened input on the ``offset``-th diagonal of a square matrix (torch.diagflat)."""
    if not isinstance(input, Tensor):
        raise InputTypeError(f"diagflat: input must be a Tensor, got {type(input).__name__}")
    return diag_embed(input.reshape(-1), offset)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Sums of products over dims: ``dims`` an int (a's last ``dims`` with b's first) or a pair of
    lists of dims of a and of b (torch.tensordot); an integer Tensor holding either."""
    for t in (a, b):
        if not isinstance(t, Tensor):
            raise InputTypeError(f"tensordot: a and b must be Tensors, got {type(t).__name__}")
    if isinstance(dims, Tensor):      # torch's: a one-element tensor is an int, else two rows of dims
        dims = dims.tolist() if dims.numel() != 1 else dims.reshape(()).tolist()
    if _is_int(dims):
        if dims < 0 or dims > builtins.min(a.ndim, b.ndim):
            raise ShapeError(f"tensordot: dims={dims} does not fit shapes {a.shape} and {b.shape}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(int(dims)))
    else:
        if not isinstance(dims, (tuple, list)) or len(dims) != 2 or not all(
                _is_int(d) or isinstance(d, (tuple, list)) for d in dims):
            raise InputTypeError(f"tensordot: dims must be an int or a pair of lists of dims, got "
                                 f"{dims!r}")
        da, db = ([d] if _is_int(d) else list(d) for d in dims)
        da, db = [a._dim(d, "tensordot") for d in da], [b._dim(d, "tensordot") for d in db]
    if len(da) != len(db) or any(a.shape[i] != b.shape[j] for i, j in zip(da, db)):
        raise ShapeError(f"tensordot: contracted dims {da} of {a.shape} and {db} of {b.shape} differ")
    free_a = [i for i in range(a.ndim) if i not in da]
    free_b = [j for j in range(b.ndim) if j not in db]
    k = math.prod(a.shape[i] for i in da)
    left = a.permute(*free_a, *da).reshape(math.prod(a.shape[i] for i in free_a), k)
    right = b.permute(*db, *free_b).reshape(k, math.prod(b.shape[j] for j in free_b))
    return (left @ right).reshape(tuple(a.shape[i] for i in free_a) + tuple(b.shape[j] for j in free_b))


# torch's addmm / addbmm / baddbmm / addmv refuse an input whose dtype is not the matrices' (a
# float64 bias beside float32 weights); addr alone promotes
_SAME_DTYPE_OPS = frozenset({"addmm", "addbmm", "baddbmm", "addmv"})


def _scaled_sum(op: str, input: Tensor, product: Tensor, beta: Any, alpha: Any) -> Tensor:
    """beta * input + alpha * product, input broadcast to the product's shape; beta = 0 ignores
    input (NaN in it does not propagate), as torch's add*mm family."""
    if not isinstance(input, Tensor):
        raise InputTypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if not _broadcasts_to(input.shape, product.shape):
        raise ShapeError(f"{op}: input of shape {input.shape} does not broadcast to the product's "
                         f"shape {product.shape}")
    if op in _SAME_DTYPE_OPS and input.dtype != product.dtype:
        raise DTypeError(f"{op}: input has dtype {input.dtype} but the matrices' product has "
                         f"{product.dtype} (torch refuses mixed dtypes here too, even with beta=0); "
                         f"convert input with .to({product.dtype.name!r})")
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:
        return scaled
    return scaled + (input if beta == 1 else input * beta)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), mat1 (n, m), mat2 (m, p)."""
    from .function_forms import mm
    return _scaled_sum("addmm", input, mm(mat1, mat2), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    from .function_forms import bmm
    return _scaled_sum("addbmm", input, bmm(batch1, batch2).sum(0), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2), batched (b, n, m) @ (b, m, p)."""
    from .function_forms import bmm
    return _scaled_sum("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    from .shape_index_ops import mv
    return _scaled_sum("addmv", input, mv(mat, vec), beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    from .shape_index_ops import outer
    return _scaled_sum("addr", input, outer(vec1, vec2), beta, alpha)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of 2-D matrices (torch.chain_matmul; linalg.multi_dot)."""
    if len(matrices) == 1 and isinstance(matrices[0], Tensor):
        if matrices[0].ndim != 2:
            raise ShapeError(f"chain_matmul: expects 2-D matrices, got shape {matrices[0].shape}")
        return matrices[0]
    for t in matrices:
        if isinstance(t, Tensor) and t.ndim != 2:
            raise ShapeError(f"chain_matmul: expects 2-D matrices, got shape {t.shape}")
    return multi_dot(matrices)


def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """The covariance of the variables in the rows of ``input`` (columns are observations; a 1-D
    input is one variable), with frequency / importance weights as torch.cov (NumPy's formula).
    An integer input is computed in the default float dtype (float64 beside float64 aweights),
    as torch's; a bool one is refused, as there."""
    if isinstance(input, Tensor) and input.array.dtype.kind in "iub":
        if input.array.dtype.kind == "b":
            raise DTypeError("cov: bool dtype is not supported for input (torch's cov refuses "
                             "it too); convert with .float()")
        from .tensor import get_default_dtype
        input = input.to(get_default_dtype())
    x = _float("cov", input)
    if isinstance(aweights, Tensor) and aweights.dtype.kind == "f" and aweights.dtype.itemsize > x.dtype.itemsize:
        x = x.to(aweights.dtype)        # torch promotes to float64 aweights' dtype
    if x.ndim > 2:
        raise ShapeError(f"cov: expected a 1-D or 2-D input, got shape {x.shape}")
    x = x.reshape(1, -1) if x.ndim < 2 else x
    n = x.shape[1]
    w = None
    for name, weights in (("fweights", fweights), ("aweights", aweights)):
        if weights is None:
            continue
        if not isinstance(weights, Tensor) or weights.shape != (n,):
            raise ShapeError(f"cov: {name} must be a 1-D Tensor of {n} observations, got "
                             f"{getattr(weights, 'shape', type(weights).__name__)}")
        if name == "fweights" and weights.dtype.kind not in "iu":
            raise DTypeError(f"cov: fweights must be an integer tensor, got {weights.dtype}")
        weights = weights.to(x.dtype)
        w = weights if w is None else w * weights
    if w is None:
        mean, norm_ = x.mean(1, keepdim=True), n - correction
        xm = x - mean
        c = xm @ _mT(xm)
    else:
        w_sum = w.sum()
        mean = (x * w).sum(1, keepdim=True) / w_sum
        norm_ = w_sum - (correction if aweights is None
                         else correction * (w * aweights.to(x.dtype)).sum() / w_sum)
        xm = x - mean
        c = (xm * w) @ _mT(xm)
    out = c / (norm_.clamp_min(0.0) if isinstance(norm_, Tensor) else builtins.max(norm_, 0))
    return out.squeeze() if input.ndim < 2 else out


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the rows of ``input``, clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = _diagonal_planes(c, 0, 0, 1).sqrt()
    return (c / d[:, None] / d[None, :]).clamp(-1.0, 1.0)


def _torch_det(input: Tensor) -> Tensor:
    """torch.det / Tensor.det: :func:`det` under torch's top-level keyword ``input``."""
    return det(input)


def _torch_slogdet(input: Tensor) -> SlogdetResult:
    """torch.slogdet / Tensor.slogdet: :func:`slogdet` under the keyword ``input``."""
    return slogdet(input)

_torch_det.__name__ = _torch_det.__qualname__ = "det"
_torch_slogdet.__name__ = _torch_slogdet.__qualname__ = "slogdet"

# The Tensor methods and the tg.* functions (tg.cholesky is torch.cholesky, not linalg's)
TOP_LEVEL = {"det": _torch_det, "logdet": logdet, "slogdet": _torch_slogdet, "inverse": inverse,
             "cholesky": _cholesky, "qr": _qr, "svd": _svd, "pinverse": pinverse,
             "matrix_power": matrix_power, "matrix_exp": matrix_exp, "trace": trace,
             "cross": _torch_cross, "diagflat": diagflat, "tensordot": tensordot, "addmm": addmm,
             "addbmm": addbmm, "baddbmm": baddbmm, "addmv": addmv, "addr": addr,
             "chain_matmul": chain_matmul, "cov": cov, "corrcoef": corrcoef}
_NOT_METHODS = ("tensordot", "chain_matmul")
for _name, _function in TOP_LEVEL.items():
    if _name not in _NOT_METHODS:
        setattr(Tensor, _name, _function)


# The rest of torch.linalg (triangular solves, the LU family, *_ex, cond, ...): linalg_lu.py
from . import linalg_lu as _more  # noqa: E402  (it imports this module's ops)
from .linalg_lu import (cholesky_ex, cond, eig, eigvals, householder_product, inv_ex,  # noqa: E402
                        lu, lu_factor, lu_factor_ex, lu_solve, matmul, solve_ex, solve_triangular,
                        tensorinv, tensorsolve, vander)

__all__ += ["cholesky_ex", "cond", "eig", "eigvals", "householder_product", "inv_ex", "lu",
            "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "solve_ex", "solve_triangular",
            "tensorinv", "tensorsolve", "vander"]
from .linalg_ldl import ldl_factor, ldl_factor_ex, ldl_solve  # noqa: E402

__all__ += ["ldl_factor", "ldl_factor_ex", "ldl_solve"]
TOP_LEVEL.update(_more.TOP_LEVEL)
for _name in _more.METHODS:
    setattr(Tensor, _name, _more.TOP_LEVEL[_name])
