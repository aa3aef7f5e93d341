"""torch's remaining elementwise names: special functions (lgamma, digamma, polygamma, mvlgamma,
erfc, i0), sinc / exp2 / logaddexp2 / float_power / copysign / ldexp and the inverse hyperbolic
functions (differentiable), fmax / fmin (NaN-ignoring), integer ops (gcd, lcm, shifts), queries
(signbit, isposinf, is_signed, ...), and the alias and in-place names torch has for them and for
the core ops (greater, absolute, eq_, logical_and_, cumsum_, ...).

Differentiable ops are ``math_ops.Pointwise`` / ``Composed`` classes (values on arrays, gradients
in Tensor ops, so gradients of gradients work); the special-function values come from
``special_kernels.py`` (Numba) on the CPU and ``cupyx.scipy.special`` on the GPU.  Ops without a
gradient in torch (heaviside, nextafter, gcd, shifts, queries) return tensors outside the graph.
:func:`install_methods` puts the methods on Tensor (``math_ops.install_methods`` calls it);
``function_forms.py`` makes the ``tg.`` forms of :data:`FUNCTION_NAMES`.
"""
from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import numpy as np

from .broadcasting import broadcast_shape
from .errors import DeviceError, DTypeError, DTypeNotImplementedError, InputTypeError, ShapeError
from .math_ops import Composed, Pointwise, _binary, _in_place_form, _of_result, _pointwise, _unary
from .ops import NotImplementedNode, torch_node
from .tensor import BOOL, is_grad_enabled, float64, get_default_dtype, Tensor, _one_dtype, _torch_int_arrays


# ---------------------------------------------------------------------------------------------
# Special-function values
# ---------------------------------------------------------------------------------------------
def _special(name: str, cupy_name: str | None = None) -> Callable:
    """``compute(xp, x)`` of a special function: ``special_kernels.<name>`` on the CPU (NumPy's
    own for i0), ``cupyx.scipy.special.<cupy_name>`` on the GPU."""
    def compute(xp, x):
        if xp is not np:
            from cupyx.scipy import special
            return getattr(special, cupy_name or name)(x)
        if name == "i0":
            return np.i0(x).astype(x.dtype, copy=False)       # Cephes' Chebyshev form, as torch
        from . import special_kernels
        return special_kernels.call(getattr(special_kernels, name), x)
    return compute


def _nonzero(x: Tensor) -> tuple[Tensor, Tensor]:
    """(x == 0, x with its zeros replaced by 1): for a formula that divides by x, patched at 0."""
    zero = x == 0.0
    return zero, x.masked_fill(zero, 1.0)


def _i1_slope(x: Tensor) -> Tensor:
    """d i1 / dx = i0(x) - i1(x) / x, 1/2 at 0."""
    zero, safe = _nonzero(x)
    return (I0.apply(x) - I1.apply(safe) / safe).masked_fill(zero, 0.5)


def _sinc_slope(x: Tensor) -> Tensor:
    """d sinc / dx = (cos(pi x) - sinc(x)) / x, 0 at 0 (as torch)."""
    zero, safe = _nonzero(x)
    return (((safe * math.pi).cos() - Sinc.apply(safe)) / safe).masked_fill(zero, 0.0)




class Polygamma(Composed):
    """polygamma(n, x), the n-th derivative of digamma (n = 0: digamma itself); its derivative
    is polygamma(n + 1, x)."""

    @staticmethod
    def compute(xp, x, n):
        if xp is not np:
            from cupyx.scipy import special
            return special.digamma(x) if n == 0 else special.polygamma(xp.full(x.shape, n, x.dtype), x)
        from . import special_kernels
        return special_kernels.call(special_kernels.polygamma, x, float(n))

    def gradients(self, g, x, n):
        return g * Polygamma.apply(x, n + 1), None


_LN2 = math.log(2.0)
Lgamma = _pointwise("Lgamma", _special("lgamma", "gammaln"), lambda x: (Polygamma.apply(x, 0),))
Erfc = _pointwise("Erfc", _special("erfc"), lambda x: ((-(x * x)).exp() * (-2 / math.sqrt(math.pi)),))
I0 = _pointwise("I0", _special("i0"), lambda x: (I1.apply(x),))
I1 = _pointwise("I1", _special("i1"), lambda x: (_i1_slope(x),))
Sinc = _pointwise("Sinc", lambda xp, x: xp.sinc(x), lambda x: (_sinc_slope(x),))
Exp2 = _of_result("Exp2", lambda xp, x: xp.exp2(x), lambda y: y * _LN2)
LogAddExp2 = _pointwise("LogAddExp2", lambda xp, x, y: xp.logaddexp2(x, y),
                        lambda x, y: (((x - y) * _LN2).sigmoid(), ((y - x) * _LN2).sigmoid()))
Nextafter = _pointwise("Nextafter", lambda xp, x, y: xp.nextafter(x, y), lambda x, y: (1.0, 0.0))
def _keeps_first(xp, a, b, larger: bool):
    """fmax's (fmin's) choice: a where a >= b (a <= b) or b is NaN."""
    return ((a >= b) if larger else (a <= b)) | xp.isnan(b)


def _keep_partials(x: Tensor, y: Tensor, larger: bool) -> tuple:
    """fmax / fmin's partials, as torch's: the whole gradient to the kept operand."""
    keep = _keeps_first(x.device.xp, x.array, y.array, larger)
    kind = x.device.xp.result_type(x.array, y.array)
    return Tensor._make(keep.astype(kind), x.device), Tensor._make((~keep).astype(kind), x.device)


Fmax = _pointwise("Fmax", lambda xp, a, b: xp.where(_keeps_first(xp, a, b, True), a, b),
                  lambda x, y: _keep_partials(x, y, True))
Fmin = _pointwise("Fmin", lambda xp, a, b: xp.where(_keeps_first(xp, a, b, False), a, b),
                  lambda x, y: _keep_partials(x, y, False))
Asinh = _pointwise("Asinh", lambda xp, x: xp.arcsinh(x), lambda x: ((x * x + 1.0).rsqrt(),))
Acosh = _pointwise("Acosh", lambda xp, x: xp.arccosh(x), lambda x: ((x * x - 1.0).rsqrt(),))
Atanh = _pointwise("Atanh", lambda xp, x: xp.arctanh(x), lambda x: ((1.0 - x * x).reciprocal(),))


class Copysign(Pointwise):
    """torch.copysign; d/dx = result / x (+-1), 0 where x == 0, and no gradient to y -- read from
    the saved result and x, as torch's node saves them: y may be written in place before backward."""
    op_name = "copysign"

    @staticmethod
    def compute(xp, x, y):
        return xp.copysign(x, y)

    def forward(self, x, y):
        self.y = super().forward(x, y)
        return self.y

    def reads_input(self, i: int) -> bool:
        return i == 0

    def gradients(self, g, x, y):
        gx = self._slope_times(g, x) if self.needs_input_grad[0] else None
        return gx, (y.detach().new_zeros(y.shape) if self.needs_input_grad[1] else None)

    def _slope_times(self, g: Tensor, x: Tensor) -> Tensor:
        from .ops import unbroadcast
        zero, safe = _nonzero(x.detach())   # (+-1 wherever x != 0: a constant, exactly)
        slope = (Tensor._make(self.y, self.device) / safe).masked_fill(zero, 0.0)
        return unbroadcast(g * slope, x.shape)


class Frexp(Composed):
    """frexp's mantissa (x / 2^e, in [0.5, 1)); its gradient is g / 2^e, as torch's."""

    @staticmethod
    def compute(xp, x, exponent):
        return xp.frexp(x)[0]

    def gradients(self, g, x, exponent):
        return g / exponent.to(g.dtype).exp2(), None


class FrexpResult(NamedTuple):
    """torch.return_types.frexp: ``(mantissa, exponent)``, also by name (exponent int32)."""
    mantissa: Tensor
    exponent: Tensor


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def _tensor_arg(op: str, other: Any, name: str = "other") -> Tensor:
    if not isinstance(other, Tensor):
        raise InputTypeError(f"{op}: {name} must be a Tensor, got {type(other).__name__}")
    return other


def _floats(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """a and b in torch's result dtype (float32 with float64 is float64), or the default float
    dtype where neither is a float."""
    from .dtypes import result_type
    target = result_type(a, b)
    if target.kind != "f":
        target = get_default_dtype()
    return a.to(target), b.to(target)


def _broadcast(op: str, a: Tensor, b: Tensor) -> None:
    """Refuse two tensors on different devices or of shapes that do not broadcast."""
    if a.device is not b.device:
        raise DeviceError(f"{op}: tensors on {a.device} and {b.device}")
    broadcast_shape("{op}: shapes {0} and {1} do not broadcast", a.shape, b.shape, op=op)


def _outside_graph(x: Tensor, values: Any) -> Tensor:
    return Tensor._make(values, x.device)


def _reflected_shift_refused(op: str, a: Tensor, other: Any) -> Any:
    """``2.0 << t``: torch's NotImplementedError ("lshift_cpu" not implemented for 'Float') for
    a float number; NotImplemented (Python's TypeError) for anything that is no number."""
    if isinstance(other, (float, np.floating)):
        raise DTypeNotImplementedError(f"{op} takes integer tensors and numbers, got a float "
                                       f"({other!r}) shifted by a tensor of dtype {a.dtype} (as torch)")
    return NotImplemented


def _integers(op: str, a: Tensor, other: Any) -> tuple[Any, Any]:
    """The arrays of an integer-only op (gcd, lcm, shifts): integer tensors -- a bool one beside
    an integer counts as that integer dtype, two bools are refused, as torch -- the other side a
    Tensor or a Python int."""
    other_kind = other.dtype.kind if isinstance(other, Tensor) else (
        "b" if isinstance(other, (bool, np.bool_)) else "i" if isinstance(other, (int, np.integer)) else "?")
    kinds = {a.dtype.kind, other_kind}
    if not kinds <= {"i", "u", "b"} or kinds == {"b"}:
        got = getattr(other, "dtype", type(other).__name__)
        raise DTypeNotImplementedError(f"{op} takes integer tensors (a bool one only beside an "
                                       f"integer), got {a.dtype} and {got}")   # (torch's "lshift_cpu")
    me = a._arith(other)
    b = me._lift(other)
    if isinstance(b, Tensor):
        _broadcast(op, a, b)
    return _torch_int_arrays(a, other, me.array, b.array if isinstance(b, Tensor) else b)


def _float_operands(op: str, a: Tensor, other: Any) -> tuple[Tensor, Tensor]:
    """a and other (a Tensor) in one float dtype; refused when neither is a float (as torch)."""
    other = _tensor_arg(op, other)
    if a.dtype.kind != "f" and other.dtype.kind != "f":
        raise DTypeNotImplementedError(f"{op} takes float tensors (as torch), got {a.dtype} and "
                                       f"{other.dtype}")   # (torch's "nextafter_cpu" for 'Long')
    _broadcast(op, a, other)
    return _floats(a, other)


def _nan_ignoring(a: Tensor, b: Any, which: str) -> Tensor:
    """torch.fmax / fmin: the larger (smaller) of each pair, the other one where one is NaN;
    ties and NaNs in ``b`` give ``a`` the gradient (as torch)."""
    b = _tensor_arg(which, b)
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":
        broadcast_shape(which + ": shapes {0} and {1} do not broadcast", a.shape, b.shape)
        return _outside_graph(a, getattr(a.device.xp, which)(*_torch_int_arrays(a, b, a.array, b.array)))
    return (Fmax if which == "fmax" else Fmin).apply(*_floats(a, b))


def _same_dtype_in_place(method: str) -> Callable:
    """``x.method_(...)`` for an op whose result is a mask (eq_, logical_and_): the mask written
    as 0/1 in x's own dtype, as torch."""
    def in_place(self: Tensor, *args: Any) -> Tensor:
        return self._in_place_from(method + "_", lambda t: getattr(t, method)(*args).to(t.dtype), args)
    in_place.__name__ = in_place.__qualname__ = method + "_"
    in_place.__doc__ = f"In place: ``x.{method}(...)`` as 0/1 in x's dtype."
    return in_place


# ---------------------------------------------------------------------------------------------
# The methods installed on Tensor
# ---------------------------------------------------------------------------------------------
class _TensorSpecial:
    """Tensor methods of this module (installed on :class:`Tensor` by :func:`install_methods`)."""

    lgamma, erfc, i0, sinc, exp2 = _unary(Lgamma), _unary(Erfc), _unary(I0), _unary(Sinc), _unary(Exp2)
    asinh, acosh, atanh = _unary(Asinh), _unary(Acosh), _unary(Atanh)
    arcsinh, arccosh, arctanh = asinh, acosh, atanh
    copysign = _binary(Copysign, True, ("CopysignBackward1", "CopysignBackward0"))

    def digamma(self) -> Tensor:
        """psi(x) = d lgamma / dx (-inf at +0, +inf at -0, NaN at the negative integers, as torch)."""
        return Polygamma.apply(self, 0)

    def polygamma(self, n: int) -> Tensor:
        """The n-th derivative of digamma at x (``x.polygamma(n)``; ``tg.polygamma(n, x)``)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise InputTypeError(f"polygamma: n must be an int >= 0, got {n!r} (torch does not "
                                 f"support negative n)")
        return Polygamma.apply(self, int(n))

    def mvlgamma(self, p: int) -> Tensor:
        """The log of the multivariate gamma function of dimension p: sum_i lgamma(x - i/2) +
        p (p - 1) / 4 log(pi), i = 0..p-1 (torch.mvlgamma; no domain check, as torch 2.13)."""
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
            raise InputTypeError(f"mvlgamma: p must be an int >= 1, got {p!r}")
        x = self if self.dtype.kind == "f" else self.float()
        shifts = x.new_tensor(np.arange(int(p)) / 2.0)
        return (x.unsqueeze(-1) - shifts).lgamma().sum(-1) + p * (p - 1) / 4 * math.log(math.pi)

    def logaddexp2(self, other: Tensor) -> Tensor:
        """log2(2^x + 2^y) (floats only, as torch)."""
        return LogAddExp2.apply(*_float_operands("logaddexp2", self, other))

    def float_power(self, exponent: Any) -> Tensor:
        """self ** exponent in float64 whatever the dtypes (torch.float_power)."""
        exponent = exponent.to(float64) if isinstance(exponent, Tensor) else exponent
        if not isinstance(exponent, Tensor) and not isinstance(exponent, (int, float, np.number)):
            raise InputTypeError(f"float_power: exponent must be a Tensor or a number, got {type(exponent).__name__}")
        return self.to(float64) ** (exponent if isinstance(exponent, Tensor) else float(exponent))

    def float_power_(self, exponent: Any) -> Tensor:
        """In-place float_power: only on a float64 tensor (torch refuses the others)."""
        if self.dtype != float64:
            raise DTypeError(f"float_power_: the base has dtype {self.dtype}, but the result is "
                             f"float64: use a float64 tensor or the out-of-place float_power")
        return self._in_place_from("float_power_", lambda t: t.float_power(exponent), (exponent,))

    def ldexp(self, other: Tensor) -> Tensor:
        """self * 2^other (floats; integers promote), differentiable in both, as torch's."""
        x, e = _floats(self, _tensor_arg("ldexp", other))
        return torch_node(x * (2.0 ** e), "LdexpBackward0")

    def fmax(self, other: Tensor) -> Tensor:
        """Elementwise max ignoring NaN (NaN only where both are); see :func:`_nan_ignoring`."""
        return _nan_ignoring(self, other, "fmax")

    def fmin(self, other: Tensor) -> Tensor:
        """Elementwise min ignoring NaN (NaN only where both are)."""
        return _nan_ignoring(self, other, "fmin")

    def heaviside(self, values: Tensor) -> Tensor:
        """0 where x < 0, ``values`` where x == 0, 1 where x > 0 (NaN: 0); ``values`` a tensor of
        x's dtype, as torch.  Not differentiable (outside the graph)."""
        values = _tensor_arg("heaviside", values, "values")
        if values.dtype != self.dtype:
            raise DTypeError(f"heaviside: values must have input's dtype {self.dtype}, got {values.dtype} (as torch)")
        _broadcast("heaviside", self, values)
        out = self.device.xp.where(self.array == 0, values.array, (self.array > 0).astype(self.dtype))
        tracked = [t for t in (self, values) if t._requires_grad]
        if tracked and is_grad_enabled():      # torch's NotImplemented node: backward raises
            return NotImplementedNode.apply(out, "heaviside", *tracked)
        return _outside_graph(self, out)

    def nextafter(self, other: Tensor) -> Tensor:
        """The next float after x toward other (floats); gradient 1 to x and 0 to other, as torch's."""
        return Nextafter.apply(*_float_operands("nextafter", self, other))

    def gcd(self, other: Tensor) -> Tensor:
        """Greatest common divisor of integer tensors (non-negative; gcd(0, 0) = 0)."""
        a, b = _integers("gcd", self, _tensor_arg("gcd", other))
        return _outside_graph(self, self.device.xp.gcd(a, b))

    def lcm(self, other: Tensor) -> Tensor:
        """Least common multiple of integer tensors (non-negative; 0 if either is 0)."""
        a, b = _integers("lcm", self, _tensor_arg("lcm", other))
        return _outside_graph(self, self.device.xp.lcm(a, b))

    def bitwise_left_shift(self, other: Any) -> Tensor:
        """x << other on integer tensors; a shift >= the bit width or < 0 gives 0."""
        return _outside_graph(self, self.device.xp.left_shift(*_integers("bitwise_left_shift", self, other)))

    def bitwise_right_shift(self, other: Any) -> Tensor:
        """x >> other (arithmetic: the sign fills in); a shift >= the bit width gives 0 or -1."""
        return _outside_graph(self, self.device.xp.right_shift(*_integers("bitwise_right_shift", self, other)))

    __lshift__, __rshift__ = bitwise_left_shift, bitwise_right_shift

    def __rlshift__(self, other: Any) -> Tensor:
        if isinstance(other, int):
            return self.new_full((), other).bitwise_left_shift(self)
        return _reflected_shift_refused("bitwise_left_shift", self, other)

    def __rrshift__(self, other: Any) -> Tensor:
        if isinstance(other, int):
            return self.new_full((), other).bitwise_right_shift(self)
        return _reflected_shift_refused("bitwise_right_shift", self, other)

    def frexp(self) -> FrexpResult:
        """(mantissa, exponent) with x = mantissa * 2^exponent, |mantissa| in [0.5, 1) (0, inf,
        NaN: exponent 0); float tensors only, the exponent int32, as torch."""
        if self.dtype.kind != "f":
            raise DTypeError(f"frexp takes float tensors (as torch), got {self.dtype}")
        exponent = Tensor._make(self.device.xp.frexp(self.array)[1].astype(np.int32), self.device)
        return FrexpResult(Frexp.apply(self, exponent), exponent)

    def signbit(self) -> Tensor:
        """Whether the sign bit is set (True for -0.0 and negative NaNs), a bool tensor."""
        xp = self.device.xp
        return _outside_graph(self, xp.signbit(self.array) if self.dtype.kind == "f" else self.array < 0)

    def isposinf(self) -> Tensor:
        return _outside_graph(self, self.array == np.inf)

    def isneginf(self) -> Tensor:
        return _outside_graph(self, self.array == -np.inf)

    def isreal(self) -> Tensor:
        """All True: tensorgan has no complex tensors."""
        return _outside_graph(self, self.device.xp.ones(self.shape, dtype=BOOL))

    def is_signed(self) -> bool:
        """Whether the dtype holds negative numbers (floats, int8..int64; not uint8 or bool)."""
        return self.dtype.kind in "fi"

    def is_nonzero(self) -> bool:
        """The truth of a one-element tensor (torch refuses none or several elements)."""
        if self.array.size != 1:
            what = "no values" if self.array.size == 0 else "more than one value"
            raise ShapeError(f"is_nonzero: a tensor of shape {self.shape} has {what} (one element needed)")
        return bool(self.array.reshape(()))

    def is_same_size(self, other: Tensor) -> bool:
        return self.shape == _tensor_arg("is_same_size", other).shape

    def isclose(self, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
        """``|x - other| <= atol + rtol |other|`` elementwise, a bool tensor (torch.isclose)."""
        other = _tensor_arg("isclose", other)
        _one_dtype("isclose", input=self, other=other)          # torch refuses mixed dtypes
        broadcast_shape("isclose: shapes {0} and {1} do not broadcast", self.shape, other.shape)
        return _outside_graph(self, self.device.xp.isclose(self.array, other.array, rtol, atol, equal_nan))

    def allclose(self, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
        """True when every element is close (torch.allclose)."""
        return bool(self.isclose(other, rtol, atol, equal_nan).array.all())

    def equal(self, other: Tensor) -> bool:
        """True when both have the same shape and elements (``==`` gives the elementwise mask)."""
        other = _tensor_arg("equal", other)
        return self.shape == other.shape and bool((self.detach().numpy() == other.detach().numpy()).all())

    def positive(self) -> Tensor:
        """x itself (torch refuses bool tensors)."""
        if self.dtype == BOOL:
            raise DTypeError("positive: not supported on a bool tensor (as torch's unary +)")
        return self

    def deg2rad(self) -> Tensor:
        return self._arith(1.0) * (math.pi / 180.0)

    def rad2deg(self) -> Tensor:
        return self._arith(1.0) * (180.0 / math.pi)

    def sgn(self) -> Tensor:
        """sign (real tensors), torch's SgnBackward0 node."""
        return self._sign("SgnBackward0")

    def fix(self) -> Tensor:
        """trunc (torch's alias)."""
        return self.trunc()

    def absolute(self) -> Tensor:
        return self.abs()

    greater = Tensor.gt
    greater_equal = Tensor.ge
    less = Tensor.lt
    less_equal = Tensor.le
    not_equal = Tensor.ne


def rsub(input: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    """``other - alpha * input`` (torch.rsub)."""
    scaled = _tensor_arg("rsub", input, "input") if alpha == 1 else _tensor_arg("rsub", input, "input") * alpha
    return other - scaled if isinstance(other, Tensor) else scaled.__rsub__(other)


def polygamma(n: int, input: Tensor) -> Tensor:
    """torch.polygamma(n, input): ``input.polygamma(n)``."""
    return _tensor_arg("polygamma", input, "input").polygamma(n)


def float_power(input: Any, exponent: Any) -> Tensor:
    """torch.float_power: input ** exponent in float64; input may be a number if exponent is a Tensor."""
    if not isinstance(input, Tensor) and isinstance(exponent, Tensor):
        return exponent.new_full((), input).to(float64).float_power(exponent)
    return _tensor_arg("float_power", input, "input").float_power(exponent)


# In-place forms: the out-of-place method written into the tensor (math_ops._in_place_form).
_IN_PLACE = ("lgamma", "digamma", "polygamma", "mvlgamma", "erfc", "i0", "sinc", "exp2", "copysign",
             "heaviside", "gcd", "lcm", "ldexp", "nextafter", "sgn", "deg2rad", "rad2deg", "fix",
             "absolute", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh",
             "bitwise_left_shift", "bitwise_right_shift", "bitwise_and", "bitwise_or",
             "bitwise_xor", "bitwise_not", "cumsum", "cumprod", "true_divide", "floor_divide")
_IN_PLACE_ALIASES = {"multiply_": "mul_", "subtract_": "sub_"}
# In-place forms of mask-valued ops: the result as 0/1 in the tensor's dtype.
_MASK_IN_PLACE = ("eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
                  "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not")

# tg.<name>(x, ...) forms (function_forms.py); rsub, polygamma and float_power are functions here.
FUNCTION_NAMES = ("lgamma", "digamma", "mvlgamma", "erfc", "i0", "sinc", "exp2", "logaddexp2",
                  "copysign", "heaviside", "fmax", "fmin", "gcd", "lcm", "ldexp", "nextafter",
                  "signbit", "sgn", "deg2rad", "rad2deg", "fix", "positive", "bitwise_left_shift",
                  "bitwise_right_shift", "frexp", "isneginf", "isposinf", "isreal", "is_signed",
                  "is_nonzero", "is_same_size", "absolute", "asinh", "acosh", "atanh", "arcsinh",
                  "arccosh", "arctanh", "greater", "greater_equal", "less", "less_equal", "not_equal",
                  "erfc_", "i0_", "sinc_", "exp2_", "gcd_", "lcm_", "ldexp_", "deg2rad_", "rad2deg_",
                  "fix_", "asinh_", "acosh_", "atanh_", "arcsinh_", "arccosh_", "arctanh_",
                  "negative_", "clamp_min_", "clamp_max_", "xlogy_")


def install_methods(cls: type) -> None:
    """Put this module's methods and in-place forms on ``cls`` (Tensor)."""
    for name, value in vars(_TensorSpecial).items():
        if not name.startswith("__") or name in ("__lshift__", "__rshift__", "__rlshift__", "__rrshift__"):
            setattr(cls, name, value)
    for name in _IN_PLACE:
        setattr(cls, name + "_", _in_place_form(name))
    for name in _MASK_IN_PLACE:
        setattr(cls, name + "_", _same_dtype_in_place(name))
    for alias, name in _IN_PLACE_ALIASES.items():
        setattr(cls, alias, getattr(cls, name))
    cls.divide_ = _in_place_form("div")            # with div's rounding_mode (div_ stays /=)
    cls.__ilshift__, cls.__irshift__ = cls.bitwise_left_shift_, cls.bitwise_right_shift_


__all__ = ["Polygamma", "FrexpResult", "install_methods", "rsub", "polygamma", "float_power", "FUNCTION_NAMES"]
