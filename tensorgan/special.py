"""``tg.special``: torch.special's names (torch 2.13 signatures).

* Aliases of what the engine has: erf, erfc, erfinv, expm1, exp2, log1p, logit, expit (sigmoid),
  gammaln (lgamma), digamma / psi, polygamma, multigammaln (mvlgamma), i0, sinc, xlogy,
  logsumexp, softmax, log_softmax, and round (with torch's ``decimals``).
* New differentiable ops (``math_ops.Pointwise``: values on arrays, derivatives in Tensor ops,
  so gradients of gradients work): erfcx = exp(x^2) erfc(x), ndtr (the standard normal CDF,
  0.5 erfc(-x / sqrt 2)), log_ndtr (its log, stable far into the left tail), ndtri (its
  inverse), entr (-x log x; -inf for x < 0), xlog1py (x log1p(y)), i0e / i1 / i1e (modified
  Bessel functions, e-scaled), zeta (Hurwitz; like torch, differentiable in ``other`` only).
  Their values come from ``special_kernels.py`` (Numba) on the CPU, ``cupyx.scipy.special`` on
  the GPU.

* gammainc / gammaincc (the regularized incomplete gamma P and Q; Cephes' series and continued
  fraction), differentiable in ``other`` (x) only, as torch; ``tg.igamma`` / ``tg.igammac`` and
  the Tensor methods are their aliases.
* Without gradients, as torch's (their outputs never require grad): bessel_j0 / j1 / y0 / y1
  (power series below 1, Miller's recurrence with the Neumann series to 25, Hankel's expansion
  beyond), airy_ai (K_{1/3} for x > 0, Taylor steps of Ai'' = x Ai, then the asymptotic
  expansion for x < -10), modified_bessel_i0 / i1 / k0 / k1 and scaled_modified_bessel_k0 / k1 (K by the
  trapezoidal rule on its cosh integral), spherical_bessel_j0, and the orthogonal polynomials
  (chebyshev_polynomial_t / u / v / w and their shifted_ forms, hermite_polynomial_h / he,
  laguerre_polynomial_l, legendre_polynomial_p: three-term recurrences, n truncated to an
  integer, 0 for n < 0).  Their values are computed in float64 on the host (a GPU tensor makes
  a round trip) and cast to the result's float dtype.
"""
from __future__ import annotations

import builtins
import math
from typing import Any, Callable

import numpy as np

from . import ops
from .errors import AutogradError, DTypeNotImplementedError, InputTypeError, ShapeError
from .function_forms import _function_form
from .functional import _scalar, log_softmax as _log_softmax, softmax as _softmax
from .math_ops import XLog1Py, XLogY, Pointwise, _pointwise
from .special_ops import I1, _nonzero, _special, _tensor_arg, polygamma  # noqa: F401  (polygamma: re-exported)
from .tensor import Tensor, _is_int, float64, get_default_dtype

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1",
           "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit",
           "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc",
           "softmax", "xlog1py", "xlogy", "zeta", "gammainc", "gammaincc", "bessel_j0", "bessel_j1",
           "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "spherical_bessel_j0", "chebyshev_polynomial_t",
           "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
           "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w",
           "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
           "legendre_polynomial_p", "airy_ai"]

_SQRT_HALF = math.sqrt(0.5)


# ---------------------------------------------------------------------------------------------
# The new ops
# ---------------------------------------------------------------------------------------------
def _entr_values(xp, x):
    """-x log x for x > 0, 0 at 0, -inf for x < 0, NaN for NaN (torch.special.entr)."""
    return xp.where(x > 0, -x * xp.log(x), xp.where(x < 0, -xp.inf, x * 0))


def _i1e_slope(x: Tensor) -> Tensor:
    """d i1e / dx = i0e(x) - i1e(x) (sign(x) + 1 / x), 1/2 at 0."""
    zero, safe = _nonzero(x)
    return (I0e.apply(x) - I1e.apply(safe) * (safe.sign() + safe.reciprocal())).masked_fill(zero, 0.5)


Erfcx = _pointwise("Erfcx", _special("erfcx"), lambda x: (x * Erfcx.apply(x) * 2.0 - 2.0 / math.sqrt(math.pi),))
# d log_ndtr / dx = pdf / cdf = sqrt(2 / pi) / erfcx(-x / sqrt 2): finite in both tails
LogNdtr = _pointwise("LogNdtr", _special("log_ndtr"),
                     lambda x: (Erfcx.apply(x * -_SQRT_HALF).reciprocal() * math.sqrt(2.0 / math.pi),))
Ndtri = _pointwise("Ndtri", _special("ndtri"),
                   lambda p: ((Ndtri.apply(p).square() * 0.5).exp() * math.sqrt(2.0 * math.pi),))
I0e = _pointwise("I0e", _special("i0e"), lambda x: (I1e.apply(x) - x.sign() * I0e.apply(x),))
I1e = _pointwise("I1e", _special("i1e"), lambda x: (_i1e_slope(x),))
Entr = _pointwise("Entr", _entr_values, lambda x: (-(x.log() + 1.0),))


class Zeta(Pointwise):
    """The Hurwitz zeta function sum_k (k + q)^-x; d/dq = -x zeta(x + 1, q), d/dx not
    implemented (as torch)."""

    op_name = "zeta"

    @staticmethod
    def compute(xp, x, q):
        if xp is not np:
            from cupyx.scipy import special
            return special.zeta(x, q)
        from . import special_kernels
        return np.asarray(special_kernels.zeta(x.astype(np.float64), q.astype(np.float64))).astype(x.dtype)

    def gradients(self, g, x, q):
        if self.needs_input_grad[0]:
            raise AutogradError("zeta: the derivative with respect to input (the exponent x) is "
                                 "not implemented (as in torch); detach it or differentiate in other")
        return None, ops.unbroadcast(g * -x * Zeta.apply(x + 1.0, q), q.shape)


def _unary(name: str, op: type) -> Callable[[Tensor], Tensor]:
    def function(input: Tensor) -> Tensor:
        return op.apply(_tensor_arg(f"special.{name}", input, "input"))
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"torch.special.{name}, elementwise (differentiable; see the module docstring)."
    return function


erfcx, log_ndtr, ndtri = _unary("erfcx", Erfcx), _unary("log_ndtr", LogNdtr), _unary("ndtri", Ndtri)
i0e, i1, i1e, entr = _unary("i0e", I0e), _unary("i1", I1), _unary("i1e", I1e), _unary("entr", Entr)


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF, 0.5 erfc(-x / sqrt 2)."""
    return (_tensor_arg("special.ndtr", input, "input") * -_SQRT_HALF).erfc() * 0.5


def _number_beside(op: str, name: str, value: Any, like: Tensor) -> Tensor:
    """A Python number as a 0-d tensor of ``like``'s float dtype (the default one beside integers);
    a bool is 1 / 0, as torch's Scalar."""
    number = _scalar(op, name, int(value) if isinstance(value, (bool, np.bool_)) else value)
    dtype = like.dtype if like.dtype.kind == "f" else get_default_dtype()
    return Tensor._make(like.device.xp.asarray(number, dtype=dtype), like.device)


def _binary(op: type, public: str, node: str) -> Callable[[Any, Any], Tensor]:
    """torch.special's binary form: ``(input, other)``, either one a Python number; its node is
    torch's ``<node>Backward0`` of two tensors, ``Backward1`` a number first, ``Backward2`` second."""
    by_overload = tuple(ops.torch_named(op, f"{node}Backward{i}") for i in range(3))

    def function(input: Any, other: Any) -> Tensor:
        if not isinstance(input, Tensor) and not isinstance(other, Tensor):
            raise InputTypeError(f"special.{public}: input or other must be a Tensor, got "
                                 f"{type(input).__name__} and {type(other).__name__}")
        overload = 0
        if not isinstance(other, Tensor):
            other, overload = _number_beside(f"special.{public}", "other", other, input), 2
        if not isinstance(input, Tensor):
            input, overload = _number_beside(f"special.{public}", "input", input, other), 1
        return by_overload[overload].apply(input, other)
    function.__name__ = function.__qualname__ = public
    function.__doc__ = f"torch.special.{public}(input, other), broadcast; either may be a number."
    return function


xlogy = _binary(XLogY, "xlogy", "Xlogy")
xlog1py = _binary(XLog1Py, "xlog1py", "SpecialXlog1Py")
zeta = _binary(Zeta, "zeta", "SpecialZeta")


# ---------------------------------------------------------------------------------------------
# Aliases
# ---------------------------------------------------------------------------------------------
erf, erfc, erfinv = (_function_form(n, f"special.{n}") for n in ("erf", "erfc", "erfinv"))
expm1, exp2, log1p = (_function_form(n, f"special.{n}") for n in ("expm1", "exp2", "log1p"))
digamma, i0, sinc = (_function_form(n, f"special.{n}") for n in ("digamma", "i0", "sinc"))
psi = _function_form("digamma", "special.psi")
gammaln = _function_form("lgamma", "special.gammaln")
expit = _function_form("sigmoid", "special.expit")


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(x / (1 - x)), x clamped to [eps, 1 - eps] when eps is given."""
    return _tensor_arg("special.logit", input, "input").logit(eps)


def multigammaln(input: Tensor, p: int) -> Tensor:
    """The log of the multivariate gamma function of dimension p (torch.mvlgamma)."""
    return _tensor_arg("special.multigammaln", input, "input").mvlgamma(p)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed stably."""
    return _tensor_arg("special.logsumexp", input, "input").logsumexp(dim, keepdim)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (``dtype`` casts x first)."""
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably (``dtype`` casts x first)."""
    return _log_softmax(input, dim, dtype=dtype)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """Rounded half to even at ``decimals`` decimal places (negative: to tens, hundreds, ...), as
    torch: x * 10^d rounded, then / 10^d (gradient 0)."""
    x = _tensor_arg("special.round", input, "input")
    if not _is_int(decimals):
        raise InputTypeError(f"special.round: decimals must be an int, got {decimals!r}")
    if decimals == 0 or x.array.dtype.kind in "iub":   # (an integer tensor refused there, as
        return x.round(decimals=decimals)               # torch's special.round)
    scale = 10.0 ** builtins.abs(int(decimals))
    return (x * scale).round() / scale if decimals > 0 else (x / scale).round() * scale


# ---------------------------------------------------------------------------------------------
# The regularized incomplete gamma functions
# ---------------------------------------------------------------------------------------------
class Gammainc(Pointwise):
    """P(a, x) = gamma(a, x) / Gamma(a); d/dx = x^(a-1) e^-x / Gamma(a), d/da not implemented
    (as torch)."""

    op_name = "gammainc"
    upper = False

    @classmethod
    def compute(cls, xp, a, x):
        kernel = "gammaincc" if cls.upper else "gammainc"
        if xp is not np:
            from cupyx.scipy import special
            return getattr(special, kernel)(a, x)
        from . import special_kernels
        out = getattr(special_kernels, kernel)(a.astype(np.float64), x.astype(np.float64))
        return np.asarray(out).astype(np.result_type(a.dtype, x.dtype), copy=False)

    def gradients(self, g, a, x):
        if self.needs_input_grad[0]:
            raise AutogradError(f"{self.op_name}: the derivative with respect to input (a) is not "
                                 f"implemented (as in torch); detach it or differentiate in other")
        slope = ((a - 1.0) * x.log() - x - a.lgamma()).exp()
        return None, ops.unbroadcast(g * (-slope if self.upper else slope), x.shape)


class Gammaincc(Gammainc):
    """Q(a, x) = 1 - P(a, x)."""

    op_name = "gammaincc"
    upper = True


def _gamma_args(op: str, input: Any, other: Any) -> tuple:
    """gammainc / gammaincc's two tensors: one of them floating, as torch's (it promotes an
    integer beside a float, and implements neither op for two integer or bool tensors)."""
    a, x = _tensor_arg(op, input, "input"), _tensor_arg(op, other, "other")
    if a.array.dtype.kind != "f" and x.array.dtype.kind != "f":
        raise DTypeNotImplementedError(f"{op}: not implemented for dtypes {a.dtype} and {x.dtype}, "
                                       f"as torch's is not; convert one with .float()")
    return a, x


def gammainc(input: Tensor, other: Tensor) -> Tensor:
    """The regularized lower incomplete gamma P(input, other), broadcast (torch.special.gammainc)."""
    return Gammainc.apply(*_gamma_args("special.gammainc", input, other))


def gammaincc(input: Tensor, other: Tensor) -> Tensor:
    """The regularized upper incomplete gamma Q(input, other) = 1 - P (torch.special.gammaincc)."""
    return Gammaincc.apply(*_gamma_args("special.gammaincc", input, other))


Tensor.igamma, Tensor.igammac = gammainc, gammaincc


# ---------------------------------------------------------------------------------------------
# Functions without gradients (as torch's): values in float64 on the host
# ---------------------------------------------------------------------------------------------
def _no_grad_values(op: str, compute: Callable, *args: Any) -> Tensor:
    """``compute(*float64 host arrays)`` of the Tensor / number arguments, broadcast, as a Tensor
    outside the graph in the result's float dtype (float64 if a tensor is, else float32)."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    if not tensors:
        raise InputTypeError(f"special.{op}: expects a Tensor argument, got "
                             f"{', '.join(type(a).__name__ for a in args)}")
    for a in args:
        if not isinstance(a, Tensor):
            _scalar(f"special.{op}", "argument", a)
    dtype = np.dtype(np.float64 if builtins.any(t.dtype == float64 for t in tensors) else np.float32)
    host = [np.asarray(a.numpy() if isinstance(a, Tensor) else a, dtype=np.float64) for a in args]
    try:
        host = np.broadcast_arrays(*host)
    except ValueError:
        raise ShapeError(f"special.{op}: shapes {[np.shape(h) for h in host]} do not broadcast") from None
    device = tensors[0].device
    with np.errstate(all="ignore"):     # NaN / overflow are values here, as torch's
        out = np.asarray(compute(*host), dtype=np.float64).astype(dtype, copy=False)
    return Tensor._make(device.xp.asarray(out), device)


def _kernel(name: str) -> Callable:
    def compute(*arrays):
        from . import special_kernels
        return getattr(special_kernels, name)(*arrays)
    return compute


def _no_grad_unary(name: str, compute: Callable) -> Callable[[Tensor], Tensor]:
    def function(input: Tensor) -> Tensor:
        return _no_grad_values(name, compute, _tensor_arg(f"special.{name}", input, "input"))
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"torch.special.{name}, elementwise (no gradient, as torch's)."
    return function


bessel_j0, bessel_j1, bessel_y0, bessel_y1, modified_bessel_k0, modified_bessel_k1, \
    scaled_modified_bessel_k0, scaled_modified_bessel_k1, spherical_bessel_j0, airy_ai = (
        _no_grad_unary(n, _kernel(n)) for n in (
            "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0",
            "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
            "spherical_bessel_j0", "airy_ai"))
modified_bessel_i0 = _no_grad_unary("modified_bessel_i0", np.i0)
modified_bessel_i1 = _no_grad_unary("modified_bessel_i1", _kernel("i1"))


_HERMITE_LIMITS = {np.dtype(np.float32): 128, np.dtype(np.float64): 512}   # torch's: NaN above


def _polynomial(name: str, kind: str, shifted: bool = False) -> Callable[[Any, Any], Tensor]:
    """torch.special.<name>(input, n): the polynomial of degree n (truncated to an integer; 0
    for n < 0) at input (at 2 input - 1 when ``shifted``); either may be a number.  Hermite
    degrees above torch's limit (128 in float32, 512 in float64) give NaN, as torch's."""
    def compute(x, n):
        from . import special_kernels as K
        return K.orthopoly(getattr(K, kind), 2.0 * x - 1.0 if shifted else x, n)

    def function(input: Any, n: Any) -> Tensor:
        out = _no_grad_values(name, compute, input, n)
        if kind.startswith("HERMITE"):
            degree = n.numpy() if isinstance(n, Tensor) else np.asarray(n)
            too_high = out.device.xp.asarray(np.broadcast_to(np.trunc(degree) > _HERMITE_LIMITS[out.dtype], out.shape))
            out = Tensor._make(out.device.xp.where(too_high, np.nan, out.array).astype(out.dtype), out.device)
        return out
    function.__name__ = function.__qualname__ = name
    function.__doc__ = (f"torch.special.{name}(input, n): by its three-term recurrence, n "
                        f"truncated to an integer (0 for n < 0); no gradient, as torch's.")
    return function


chebyshev_polynomial_t, chebyshev_polynomial_u, chebyshev_polynomial_v, chebyshev_polynomial_w = (
    _polynomial(f"chebyshev_polynomial_{k}", f"CHEBYSHEV_{k.upper()}") for k in "tuvw")
shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v, \
    shifted_chebyshev_polynomial_w = (_polynomial(f"shifted_chebyshev_polynomial_{k}",
                                                  f"CHEBYSHEV_{k.upper()}", True) for k in "tuvw")
hermite_polynomial_h = _polynomial("hermite_polynomial_h", "HERMITE_H")
hermite_polynomial_he = _polynomial("hermite_polynomial_he", "HERMITE_HE")
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", "LAGUERRE")
legendre_polynomial_p = _polynomial("legendre_polynomial_p", "LEGENDRE")
