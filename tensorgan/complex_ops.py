"""Complex tensors (``tg.complex64`` / ``tg.complex128``, torch's ``cfloat`` / ``cdouble``), scoped to
what GAN and audio code uses: creation (``tg.tensor([1 + 2j])``, :func:`complex`, :func:`polar`),
the views :func:`view_as_real` / :func:`view_as_complex` and ``z.real`` / ``z.imag``, ``conj``,
``abs``, ``angle``, ``+ - * /`` (with real tensors and numbers, promoted as torch), ``sum`` /
``mean``, ``pow`` by a real number, ``exp``, ``log``, ``sqrt``, ``sin`` / ``cos`` / ``tanh``,
``matmul`` / ``bmm`` / ``einsum``, ``cumsum`` / ``prod`` / ``cumprod``, the vector norms (real),
the shape ops, ``.to(dtype)``, ``randn`` / ``rand`` (and ``normal_`` / ``uniform_``) of complex
dtypes, optimizers on complex parameters (their view_as_real pairs, as torch), ``tg.fft`` /
``tg.stft``'s complex spectra and ``tg.linalg.eig`` / ``eigvals``' eigen-decompositions.  Every other op refuses a complex tensor with a
:class:`~tensorgan.errors.DTypeNotImplementedError` naming it (as torch's ``"lt_cpu" not
implemented for 'ComplexFloat'``).

How it works, off the float ops' path: ``Function.apply`` looks at an operand's dtype kind only
when it is not a float (as it did for integers), and a complex one sends the call here
(:func:`complex_ready`).  An op is one of three kinds:

* linear on complex arrays as they are (add, sub, neg, sum, mean, reshape, permute, indexing,
  cat, stack, expand, flip, casts): ``takes_complex = True``, their backward unchanged;
* with a complex form of its own (``complex_op``): ``Mul`` -> :class:`ComplexMul`, ``Div``,
  ``Exp``, ``Pow`` by a number, ``Abs``, ``Log``, ``Sqrt``, ``Sin``, ``Cos``, ``Tanh``,
  ``MatMul`` / ``Bmm``, ``Einsum``, ``Prod``, ``Cumprod``; these are written here with the
  conjugates torch's formulas have (a real op's J^T g formula run on conjugated inputs is J^H g);
* anything else: refused.

Operands of mixed dtypes are cast first (differentiable casts, so a real operand's gradient is
the real part of its complex one, as torch's engine does) to torch's result dtype: float32 with
complex64 -> complex64, float64 with complex64 -> complex128, an integer tensor or a Python
number with a complex tensor -> that complex dtype, a Python complex number with a float32
tensor -> complex64 (float64 -> complex128).

Gradients follow torch's convention (the conjugate Wirtinger derivative): for a real loss L,
``z.grad = dL/dRe(z) + i dL/dIm(z)``; a holomorphic f's backward is ``g * conj(f'(z))``.
``backward()`` from a complex tensor without a gradient is refused, as torch refuses it.

Differences from torch: ``conj()`` returns a copy, not a lazy view (torch's conjugate bit);
``z.real`` / ``z.imag`` are views as torch's (writing them writes ``z``).
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from . import ops
from .broadcasting import broadcast_shape
from .errors import DTypeError, DTypeNotImplementedError, InputTypeError, ShapeError
from .ops import _broadcasting, _shape, unbroadcast
from .tensor import (BOOL, TORCH_NODE_NAMES, Cast, Function, Tensor, _caller_level, _complex_of, float32, float64,
                     complex64, complex128, get_default_dtype)

__all__ = ["complex", "polar", "view_as_real", "view_as_complex", "is_complex", "real", "imag",
           "conj", "conj_physical", "angle", "complex64", "complex128", "cfloat", "cdouble"]

cfloat, cdouble = complex64, complex128
_real_builtin_complex = complex     # (this module's ``complex`` is torch.complex)
_TORCH_NAMES = {complex64: "ComplexFloat", complex128: "ComplexDouble"}


# ---------------------------------------------------------------------------------------------
# Dtypes: torch's promotion with complex, refusals
# ---------------------------------------------------------------------------------------------
def _value_type(dt: np.dtype) -> np.dtype | None:
    """The real dtype behind a complex or float one (None for integers and bool)."""
    return np.dtype(dt.char.lower()) if dt.kind == "c" else dt if dt.kind == "f" else None


def promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch.promote_types where one side is complex: complex of the wider real value type
    (complex64 with float64 -> complex128; with an integer -> the complex dtype)."""
    va, vb = _value_type(a), _value_type(b)
    wide = va if vb is None else vb if va is None else np.promote_types(va, vb)
    return complex128 if wide == float64 else complex64


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """torch's combine_categories with complex: a complex higher priority wins; a complex lower one
    makes a float higher one complex (float32 tensor + 0-d complex128 -> complex64)."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    if higher.kind == "c":
        return higher
    if lower.kind == "c":
        return _complex_of(higher) if higher.kind == "f" else lower
    from .dtypes import _combine as combine_real
    return combine_real(higher, lower)


def result_dtype(args: tuple) -> np.dtype:
    """torch's result type of an op's tensor operands (dimensioned ones before 0-d ones; Python
    numbers here are real, so they never decide over a complex tensor)."""
    from .dtypes import promote_types
    dim = zero = None
    for a in args:
        if isinstance(a, Tensor):
            dt = a.array.dtype
            both = dim if a.array.ndim else zero
            if both is not None:
                dt = promote(both, dt) if "c" in (both.kind, dt.kind) else promote_types(both, dt)
            if a.array.ndim:
                dim = dt
            else:
                zero = dt
    return _combine(dim, zero)


def refuse(op: str, dtype: Any = complex64, why: str = "") -> None:
    """A DTypeNotImplementedError in torch's words for an op without a complex kernel here (torch
    refuses many of them too: comparisons, max / min, clamp, sort, floor, conv, ...)."""
    name = _TORCH_NAMES.get(np.dtype(dtype), "ComplexFloat")
    raise DTypeNotImplementedError(
        f'"{op}" not implemented for \'{name}\'{why} (tensorgan\'s complex tensors support + - * /, '
        f'sum, mean, var, pow, exp, log, sqrt, sin, cos, tan, tanh, sigmoid, matmul, einsum, cumsum, '
        f'prod, norms, abs, angle, sgn, conj, real / imag, the shape ops and tg.fft / stft; take '
        f'.real, .imag or .abs() first)')


_REFUSAL_NAMES = {"Relu": ("clamp", ""), "Clip": ("clamp", ""), "Amax": ("max_values_cpu", ""),
                  "Amin": ("min_values_cpu", ""), "Max": ("max_all", ""), "Min": ("min_all", ""),
                  "MaxDim": ("max", ""), "MatMul": ("matmul", ""), "Bmm": ("bmm", ""),
                  "SafeSqrt": ("sqrt", ""), "PowTensor": ("pow", ""), "LeakyRelu": ("leaky_relu_cpu", "")}


def _op_name(cls: type) -> tuple:
    return _REFUSAL_NAMES.get(cls.__name__, (cls.__name__.lower(), ""))


def complex_ready(cls: type, args: tuple) -> tuple:
    """``Function.apply``'s operands (device, arrays, requires_grad) for an op with a complex
    tensor operand: the arrays when ``cls`` takes complex arrays and the operands already share
    torch's result dtype; arrays None otherwise, which sends the call to :func:`complex_dispatch`."""
    device = None
    requires_grad = False
    arrays = []
    for a in args:
        if isinstance(a, Tensor):
            if device is None:
                device = a.device
            elif a.device is not device:
                from .errors import DeviceError
                raise DeviceError(f"{cls.__name__}: expected all tensors on one device, got "
                                  f"{device} and {a.device} (move one with .to(device))")
            requires_grad = requires_grad or a._requires_grad
            arrays.append(a.array)
        else:
            arrays.append(a)
    if cls.complex_op is not None or not cls.takes_complex:
        return device, None, requires_grad
    target = result_dtype(args)
    if any(isinstance(a, Tensor) and a.array.dtype != target for a in args):
        return device, None, requires_grad
    return device, arrays, requires_grad


def complex_dispatch(cls: type, args: tuple) -> Tensor:
    """An op called with a complex operand: its complex form, or the operands cast to torch's
    result dtype (differentiably), or a refusal naming the op."""
    if cls.complex_op is not None:
        return cls.complex_op.apply(*args)
    if not cls.takes_complex:
        dtype = next(a.dtype for a in args if isinstance(a, Tensor) and a.array.dtype.kind == "c")
        refuse(*_op_name(cls)[:1], dtype)
    target = result_dtype(args)
    if cls.same_dtype or issubclass(cls, ops.Einsum):
        dtypes = [a.array.dtype for a in args if isinstance(a, Tensor)]
        if len(set(dtypes)) > 1:
            names = [_TORCH_NAMES.get(d, d.name) for d in dtypes]
            raise DTypeError(f"{_op_name(cls)[0]}: expected both operands to have the same dtype, "
                             f"got {names[0]} and {next(n for n in names if n != names[0])} (as "
                             f"torch: matmul, bmm and einsum do not promote); convert one with .to()")
    return cls.apply(*[a.to(target) if isinstance(a, Tensor) and a.array.dtype != target else a
                       for a in args])


def complex_number(t: Tensor, value: Any) -> Tensor:
    """A Python / NumPy complex number beside tensor ``t`` as a 0-d tensor of torch's dtype for
    it: ``t``'s complex dtype (float64 -> complex128, complex ones their own), else the default
    complex dtype (complex64 with float32 the default)."""
    dt = t.array.dtype
    target = dt if dt.kind == "c" else _complex_of(dt if dt.kind == "f" else get_default_dtype())
    return Tensor._make(t.device.xp.asarray(value, dtype=target), t.device)


def _conj(v: Any) -> Any:
    """The conjugate of an array or a Python number (a float stays a Python float)."""
    return v.conjugate() if hasattr(v, "conjugate") else v


def _complex_tensor(op: str, x: Any) -> Tensor:
    if not isinstance(x, Tensor):
        raise InputTypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x


# ---------------------------------------------------------------------------------------------
# Casts
# ---------------------------------------------------------------------------------------------
class DropImaginary(Function):
    """complex -> real float: the real part (torch warns that the imaginary part is dropped);
    its gradient is the real gradient as a complex one."""
    saves_nothing, reads_inputs = True, False
    takes_complex = True

    def forward(self, x, dtype):
        self.src_dtype = x.dtype
        return x.real.astype(dtype)

    def backward(self, g):
        return g.astype(self.src_dtype), None

    def grad_graph(self, g):
        return Cast.apply(g, self.src_dtype), None

    def name(self) -> str:
        return "ToCopyBackward0"


_CAST_WARNED = [False]


def cast_complex(t: Tensor, dtype: np.dtype) -> Tensor:
    """``t.to(dtype)`` where one side is complex: real float <-> complex differentiable (a real
    input's gradient is the complex one's real part), integers and bool constants (as torch)."""
    src = t.array.dtype
    if dtype.kind == "c":
        if src.kind in "fc":
            return Cast.apply(t, dtype)
        return Tensor._make(t.array.astype(dtype), t.device)
    if dtype == BOOL:
        return Tensor._make(t.array != 0, t.device)
    import warnings
    warnings.warn("Casting complex values to real discards the imaginary part (as torch warns)",
                  UserWarning, stacklevel=_caller_level())
    if dtype.kind == "f":
        return DropImaginary.apply(t, dtype)
    return Tensor._make(t.array.real.astype(dtype), t.device)


# ---------------------------------------------------------------------------------------------
# The ops with complex forms of their own (conjugates in their gradients)
# ---------------------------------------------------------------------------------------------
class ComplexMul(Function):
    number_edges = True
    takes_complex = True

    def forward(self, a, b):
        self.a, self.b = a, b
        return _broadcasting("mul", np.multiply if self.xp is np else self.xp.multiply, a, b)

    def backward(self, g):
        need = self.needs_input_grad
        return (unbroadcast(g * _conj(self.b), _shape(self.a)) if need[0] else None,
                unbroadcast(g * _conj(self.a), _shape(self.b)) if need[1] else None)

    def grad_graph(self, g):
        a, b = self.inputs
        need = self.needs_input_grad
        cb = conj(b) if isinstance(b, Tensor) else _conj(b)
        ca = conj(a) if isinstance(a, Tensor) else _conj(a)
        return (unbroadcast(g * cb, _shape(self.a)) if need[0] else None,
                unbroadcast(g * ca, _shape(self.b)) if need[1] else None)

    def name(self) -> str:
        return "MulBackward0"


class ComplexDiv(Function):
    number_edges = True
    takes_complex = True

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = _broadcasting("div", np.divide if self.xp is np else self.xp.divide, a, b)
        return self.out

    def backward(self, g):
        need = self.needs_input_grad
        ga = g / _conj(self.b)
        return (unbroadcast(ga, _shape(self.a)) if need[0] else None,
                unbroadcast(-ga * _conj(self.out), _shape(self.b)) if need[1] else None)

    def grad_graph(self, g):
        a, b = self.inputs
        need = self.needs_input_grad
        cb = conj(b) if isinstance(b, Tensor) else _conj(b)
        ga = g / cb
        gb = None
        if need[1]:
            gb = unbroadcast(-ga * conj(a / b), _shape(self.b))
        return (unbroadcast(ga, _shape(self.a)) if need[0] else None), gb

    def name(self) -> str:
        return "DivBackward0"


class ComplexExp(Function):
    takes_complex = True

    def forward(self, x):
        self.out = self.xp.exp(x)
        return self.out

    def backward(self, g):
        return (g * self.out.conjugate(),)

    def grad_graph(self, g):
        return (g * conj(self.inputs[0].exp()),)

    def name(self) -> str:
        return "ExpBackward0"


class ComplexPow(Function):
    """z ** p for a (real or complex) number p: the gradient ``g * conj(p z ** (p - 1))`` (0 for
    p = 0), torch's pow_backward."""
    takes_complex = True

    def forward(self, x, p):
        self.x, self.p = x, p
        if isinstance(p, (_real_builtin_complex, np.complexfloating)):
            if p.imag:                  # a complex exponent: torch's pow(z, w) (principal branch)
                return x ** x.dtype.type(p)
            p = self.p = p.real
        return x ** x.real.dtype.type(p) if float(p).is_integer() else x ** p

    def backward(self, g):
        x, p = self.x, self.p
        if p == 0:
            return g * 0, None
        with np.errstate(all="ignore"):
            return g * (p * x ** (p - 1)).conjugate(), None

    def grad_graph(self, g):
        x, p = self.inputs
        return (g * 0.0 if p == 0 else g * conj(p * x ** (p - 1))), None

    def name(self) -> str:
        return "PowBackward0"


def _unit(xp, x, r):
    """``x / r`` with ``r = |x|``, 0 where ``r`` is 0: the sign of a complex number (torch's sgn)."""
    return xp.where(r == 0, 0, x / xp.where(r == 0, 1, r))


class ComplexAbs(Function):
    """|z| (a real tensor); the gradient ``g * z / |z|`` (torch's sgn, 0 at z = 0)."""
    takes_complex = True

    def forward(self, x):
        self.x = x
        self.out = self.xp.abs(x)
        return self.out

    def backward(self, g):
        return (g * _unit(self.xp, self.x, self.out),)

    def grad_graph(self, g):
        x = self.inputs[0]
        return (g * sgn(x),)

    def name(self) -> str:
        return "AbsBackward0"


class Sgn(Function):
    """z / |z| (0 at 0): torch.sgn.  Its gradient (torch's sgn_backward):
    ``(g - Re(g conj(sgn z)) sgn z) / |z|`` where z != 0."""
    takes_complex = True

    def forward(self, x):
        self.x, self.r = x, self.xp.abs(x)
        self.out = _unit(self.xp, x, self.r).astype(x.dtype, copy=False)
        return self.out

    def backward(self, g):
        xp, s = self.xp, self.out
        safe = xp.where(self.r == 0, 1, self.r)
        grad = (g - (g * s.conjugate()).real * s) / safe
        return (xp.where(self.r == 0, 0, grad).astype(g.dtype, copy=False),)

    def grad_graph(self, g):
        x = self.inputs[0]
        zero = self.r == 0
        s, r = Sgn.apply(x), ops.Where.apply(1.0, ComplexAbs.apply(x), zero)
        grad = (g - real(g * conj(s)) * s) / r
        return (ops.Where.apply(0.0, grad, zero),)

    def name(self) -> str:
        return "SgnBackward0"


class Angle(Function):
    """arg z = atan2(Im z, Re z) (a real tensor); the gradient ``g i z / |z|^2`` (0 at z = 0)."""
    takes_complex = True

    def forward(self, x):
        self.x = x
        return self.xp.angle(x).astype(x.real.dtype, copy=False)

    def backward(self, g):
        xp, x = self.xp, self.x
        r2 = (x * x.conjugate()).real
        safe = xp.where(r2 == 0, 1, r2)
        return (xp.where(r2 == 0, 0, g * (1j * x) / safe).astype(x.dtype, copy=False),)

    def grad_graph(self, g):
        x = self.inputs[0]
        re, im = real(x), imag(x)
        r2 = re * re + im * im
        zero = r2.array == 0
        grad = g * (x * 1j) / ops.Where.apply(1.0, r2, zero)
        return (ops.Where.apply(0.0, grad, zero),)

    def name(self) -> str:
        return "AngleBackward0"


class Conj(Function):
    saves_nothing, reads_inputs = True, False
    takes_complex = True

    def forward(self, x):
        return x.conjugate()

    def backward(self, g):
        return (g.conjugate(),)

    def grad_graph(self, g):
        return (conj(g),)

    def name(self) -> str:
        return "ConjBackward0"


class RealView(Function):
    """z.real: a view of the real parts (writing it writes z)."""
    saves_nothing, reads_inputs = True, False
    takes_complex = True
    returns_view = True

    def forward(self, x):
        self.dtype = x.dtype
        return x.real

    def backward(self, g):
        return (g.astype(self.dtype),)

    def grad_graph(self, g):
        return (Cast.apply(g, self.dtype),)

    def name(self) -> str:
        return "SelectBackward0"        # (torch's: a select of view_as_real's pairs)


class ImagView(RealView):
    """z.imag: a view of the imaginary parts; the gradient ``i g``."""

    def forward(self, x):
        self.dtype = x.dtype
        return x.imag

    def backward(self, g):
        out = self.xp.zeros(g.shape, dtype=self.dtype)
        out.imag = g
        return (out,)

    def grad_graph(self, g):
        return (complex(g.new_zeros(()).expand(*g.shape), g),)


class ViewAsReal(Function):
    """(..., ) complex -> (..., 2) real pairs sharing its memory."""
    saves_nothing, reads_inputs = True, False
    takes_complex = True
    returns_view = True

    def forward(self, x):
        self.dtype = x.dtype
        return real_pairs(x)

    def backward(self, g):
        return (_pairs_to_complex(self.xp, g, self.dtype),)

    def grad_graph(self, g):
        return (view_as_complex(g.contiguous()),)

    def name(self) -> str:
        return "ViewAsRealBackward0"


def real_pairs(x):
    """A complex array's (real, imaginary) pairs: a float array of shape (..., 2) over its memory
    (torch's view_as_real; the optimizers update complex parameters through it)."""
    if not x.ndim or x.strides[-1] == x.itemsize:
        return x[..., None].view(x.real.dtype)
    if isinstance(x, np.ndarray):
        try:    # a view whose .base is x's owner, so autograd sees the sharing (as_strided's
            return x[..., None].view(x.real.dtype)   # base, a DummyArray, would hide it and
        except ValueError:                           # a write through it would be lost)
            pass
    re = x.real                          # strided (a transpose): the pairs over the same memory
    xp = np if isinstance(x, np.ndarray) else sys.modules["cupy"]
    return xp.lib.stride_tricks.as_strided(re, x.shape + (2,), re.strides + (re.itemsize,))


def _pairs_to_complex(xp, g, dtype):
    return xp.ascontiguousarray(g).view(dtype)[..., 0]


class ViewAsComplex(Function):
    """(..., 2) real pairs -> complex, sharing the memory."""
    saves_nothing, reads_inputs = True, False
    returns_view = True

    def forward(self, x):
        if x.dtype not in (float32, float64):
            raise DTypeError(f"view_as_complex is only supported for float32 and float64 tensors "
                             f"here, got {x.dtype} (torch: float16 -> complex32, which NumPy lacks)")
        if x.ndim == 0 or x.shape[-1] != 2:
            raise ShapeError(f"view_as_complex: Tensor must have a last dimension of size 2 (as "
                             f"torch), got shape {x.shape}")
        if x.strides[-1] != x.itemsize:
            raise ShapeError("view_as_complex: Tensor must have a last dimension with stride 1 (as "
                             "torch); call .contiguous() first")
        if any(s % (2 * x.itemsize) for s, n in zip(x.strides[:-1], x.shape[:-1]) if n > 1):
            raise ShapeError("view_as_complex: Tensor must have a stride divisible by 2 for all "
                             "but last dimension (as torch); call .contiguous() first")
        self.dtype = x.dtype
        return x.view(_complex_of(x.dtype))[..., 0]

    def backward(self, g):
        return (self.xp.ascontiguousarray(g)[..., None].view(self.dtype),)

    def grad_graph(self, g):
        return (view_as_real(g.contiguous()),)

    def name(self) -> str:
        return "ViewAsComplexBackward0"


class MakeComplex(Function):
    """torch.complex(real, imag): broadcast, the same float dtype; gradients Re g and Im g."""
    refuses_int = True

    def forward(self, re, im):
        if re.dtype != im.dtype:
            raise DTypeError(f"complex: expected both inputs to have the same dtype, got "
                             f"{re.dtype} and {im.dtype} (as torch)")
        if re.dtype not in (float32, float64):
            raise DTypeError(f"complex: expected float32 or float64 inputs, got {re.dtype}")
        self.shapes = re.shape, im.shape
        out = self.xp.empty(self.xp.broadcast_shapes(re.shape, im.shape), dtype=_complex_of(re.dtype))
        out.real, out.imag = re, im
        return out

    def backward(self, g):
        need = self.needs_input_grad
        return (unbroadcast(g.real.copy(), self.shapes[0]) if need[0] else None,
                unbroadcast(g.imag.copy(), self.shapes[1]) if need[1] else None)

    def grad_graph(self, g):
        need = self.needs_input_grad
        return (unbroadcast(real(g), self.shapes[0]) if need[0] else None,
                unbroadcast(imag(g), self.shapes[1]) if need[1] else None)

    def name(self) -> str:
        return "ComplexBackward0"


class Polar(Function):
    """torch.polar(abs, angle) = abs (cos angle + i sin angle); gradients Re(g conj(e^{i angle}))
    and Re(g conj(i z))."""
    refuses_int = True

    def forward(self, r, theta):
        if r.dtype != theta.dtype:
            raise DTypeError(f"polar: expected both inputs to have the same dtype, got {r.dtype} "
                             f"and {theta.dtype} (as torch)")
        if r.dtype not in (float32, float64):
            raise DTypeError(f"polar: expected float32 or float64 inputs, got {r.dtype}")
        xp = self.xp
        self.shapes = r.shape, theta.shape
        unit = xp.empty(theta.shape, dtype=_complex_of(r.dtype))
        unit.real, unit.imag = xp.cos(theta), xp.sin(theta)
        self.unit = unit
        self.out = r * unit
        return self.out

    def backward(self, g):
        need = self.needs_input_grad
        gr = (g * self.unit.conjugate()).real if need[0] else None
        gt = (g * (1j * self.out).conjugate()).real if need[1] else None
        return (unbroadcast(gr, self.shapes[0]) if need[0] else None,
                unbroadcast(gt, self.shapes[1]) if need[1] else None)

    def grad_graph(self, g):
        r, theta = self.inputs
        need = self.needs_input_grad
        unit = polar(theta.new_ones(()).expand(*theta.shape), theta)
        gr = real(g * conj(unit)) if need[0] else None
        gt = real(g * conj(r * unit * 1j)) if need[1] else None
        return (unbroadcast(gr, self.shapes[0]) if need[0] else None,
                unbroadcast(gt, self.shapes[1]) if need[1] else None)

    def name(self) -> str:
        return "PolarBackward0"


class _Holomorphic(Function):
    """A holomorphic f of one complex tensor: its backward ``g * conj(f'(z))`` (torch's for
    log, sqrt, sin, cos, tanh); ``derivative(xp, x, out)`` is f' on arrays, ``derivative_graph``
    on Tensors (for gradients of gradients)."""
    takes_complex = True
    kernel = ""
    torch_name = ""

    def forward(self, x):
        self.x = x
        self.out = getattr(self.xp, self.kernel)(x)
        return self.out

    def backward(self, g):
        with np.errstate(all="ignore"):
            return (g * self.derivative(self.xp, self.x, self.out).conjugate(),)

    def grad_graph(self, g):
        return (g * conj(self.derivative_graph(self.inputs[0])),)

    def name(self) -> str:
        return self.torch_name


class ComplexLog(_Holomorphic):
    kernel, torch_name = "log", "LogBackward0"

    def backward(self, g):
        with np.errstate(all="ignore"):
            return (g / self.x.conjugate(),)

    def derivative_graph(self, x):
        return 1.0 / x


class ComplexSqrt(_Holomorphic):
    kernel, torch_name = "sqrt", "SqrtBackward0"

    def backward(self, g):
        with np.errstate(all="ignore"):
            return (g / (2 * self.out.conjugate()),)

    def derivative_graph(self, x):
        return 0.5 / x.sqrt()


class ComplexSin(_Holomorphic):
    kernel, torch_name = "sin", "SinBackward0"

    @staticmethod
    def derivative(xp, x, out):
        return xp.cos(x)

    def derivative_graph(self, x):
        return x.cos()


class ComplexCos(_Holomorphic):
    kernel, torch_name = "cos", "CosBackward0"

    @staticmethod
    def derivative(xp, x, out):
        return -xp.sin(x)

    def derivative_graph(self, x):
        return -x.sin()


class ComplexTanh(_Holomorphic):
    kernel, torch_name = "tanh", "TanhBackward0"

    @staticmethod
    def derivative(xp, x, out):
        return 1 - out * out

    def derivative_graph(self, x):
        y = x.tanh()
        return 1.0 - y * y


class ComplexLog1p(_Holomorphic):
    """log(1 + z) as torch's (c10 complex_math log1p): for |z| < 0.5 its real part
    0.5 log1p(x (2 + x) + y^2), exact for small z (NumPy's log(hypot(1 + x, y)) is not)."""
    torch_name = "Log1PBackward0"

    def forward(self, x):
        xp = self.xp
        self.x = x
        re, im = x.real, x.imag
        with np.errstate(all="ignore"):
            r = re * (2 + re) + im * im
            small = xp.where(r == 0, re, 0.5 * xp.log1p(r))
            out = xp.where(xp.abs(x) < 0.5, small, xp.log(xp.hypot(re + 1, im)))
            self.out = (out + 1j * xp.arctan2(im, re + 1)).astype(x.dtype, copy=False)
        return self.out

    @staticmethod
    def derivative(xp, x, out):
        return 1 / (1 + x)

    def derivative_graph(self, x):
        return (x + 1.0).reciprocal()


class ComplexSigmoid(_Holomorphic):
    """1 / (1 + exp(-z)) (torch's for complex), its gradient ``g * conj(s (1 - s))``."""
    torch_name = "SigmoidBackward0"

    def forward(self, x):
        self.x = x
        with np.errstate(all="ignore"):
            self.out = 1 / (1 + self.xp.exp(-x))
        return self.out

    @staticmethod
    def derivative(xp, x, out):
        return out * (1 - out)

    def derivative_graph(self, x):
        s = x.sigmoid()
        return s * (1.0 - s)


class ComplexPowTensor(Function):
    """z ** w with a tensor exponent (either complex), torch's pow_backward_self / _exponent:
    ``g * conj(w z ** (w - 1))`` (0 where w == 0) and ``g * conj(z ** w log z)`` (0 where z == 0
    and w is real and >= 0)."""
    takes_complex = True

    def forward(self, x, y):
        self.x, self.y = x, y
        with np.errstate(all="ignore"):
            self.out = _broadcasting("pow", np.power if self.xp is np else self.xp.power, x, y)
        return self.out

    def _exponent_zero(self, xa, ya):
        return (xa == 0) & (ya.imag == 0) & (ya.real >= 0)

    def backward(self, g):
        x, y, xp = self.x, self.y, self.xp
        need = self.needs_input_grad
        gx = gy = None
        with np.errstate(all="ignore"):
            if need[0]:
                gx = unbroadcast(xp.where(y == 0, 0, g * (y * x ** (y - 1)).conjugate()), _shape(x))
            if need[1]:
                gy = unbroadcast(xp.where(self._exponent_zero(x, y), 0,
                                          g * (self.out * xp.log(x)).conjugate()), _shape(y))
        return gx, gy

    def grad_graph(self, g):
        x, y = self.inputs
        xa, ya = self.x, self.y
        need = self.needs_input_grad
        gx = gy = None
        if need[0]:
            gx = unbroadcast(ops.Where.apply(0.0, g * conj(y * x ** (y - 1.0)), ya == 0), _shape(xa))
        if need[1]:
            off = self._exponent_zero(xa, ya)
            safe_x = ops.Where.apply(1.0, x, xa == 0)
            gy = unbroadcast(ops.Where.apply(0.0, g * conj(x ** y * safe_x.log()), off), _shape(ya))
        return gx, gy

    def name(self) -> str:
        return "PowBackward1"


def _conjugated(fn):
    """A method run with ``self.a`` / ``self.b`` / ``self.operands`` and ``self.inputs``
    conjugated (the real op's gradient formula, J^T g, on conjugates is torch's J^H g)."""
    def run(self, g):
        saved = {k: self.__dict__[k] for k in ("a", "b", "operands", "inputs") if k in self.__dict__}
        for k, v in saved.items():
            if k in ("a", "b"):
                self.__dict__[k] = v.conjugate()
            elif k == "operands":
                self.__dict__[k] = tuple(o.conjugate() for o in v)
            else:
                self.__dict__[k] = tuple(conj(t) if isinstance(t, Tensor) else
                                         t.conjugate() if hasattr(t, "conjugate") else t for t in v)
        try:
            return fn(self, g)
        finally:
            self.__dict__.update(saved)
    return run


class ComplexMatMul(ops.MatMul):
    """a @ b on complex matrices: gradients ``g @ b^H`` and ``a^H @ g``."""
    takes_complex = True
    complex_op = None
    backward = _conjugated(ops.MatMul.backward)
    grad_graph = _conjugated(ops.MatMul.grad_graph)


class ComplexBmm(ComplexMatMul):
    def name(self) -> str:
        return "BmmBackward0"


class ComplexEinsum(ops.Einsum):
    """einsum of complex operands: each gradient the einsum of g with the others' conjugates."""
    takes_complex = True
    complex_op = None
    backward = _conjugated(ops.Einsum.backward)
    grad_graph = _conjugated(ops.Einsum.grad_graph)

    def name(self) -> str:
        return "EinsumBackward0"


def _composed_conjugate(cls: type) -> type:
    """``cls`` (a Composed op: its gradients in Tensor ops of its inputs) for complex inputs:
    the same formula on the conjugated input (J^H g)."""
    def gradients(self, g, x, *rest):
        return cls.gradients(self, g, conj(x), *rest)

    def name(self) -> str:     # torch's node name, the real op's (ProdBackward0, not ComplexProd...)
        return cls.name(self) if cls.name is not Function.name else \
            TORCH_NODE_NAMES.get(cls.__name__) or cls.__name__ + "Backward0"
    return type("Complex" + cls.__name__, (cls,), {"takes_complex": True, "complex_op": None,
                                                   "gradients": gradients, "name": name,
                                                   "__doc__": f"{cls.__name__} of a complex tensor."})


def _composed_holomorphic(cls: type, partial: Any = None) -> type:
    """``cls`` (a one-input Pointwise op, f' its partial) for a complex input: torch's gradient
    ``g * conj(f'(z))`` (f'(z) taken on z, not on conj z: the same off the branch cuts, and
    torch's on them, e.g. asin at real z > 1)."""
    def gradients(self, g, x):
        return (g * conj(cls.partials(x)[0] if partial is None else partial(x)),)

    def result_grad(self, g, y):      # (an OfResult op's: f' from the result, as torch's)
        return g * conj(cls.result_partial(y))

    def name(self) -> str:
        return cls.__name__ + "Backward0"
    return type("Complex" + cls.__name__, (cls,), {"takes_complex": True, "complex_op": None,
                                                   "gradients": gradients, "name": name,
                                                   "result_grad": result_grad,
                                                   "__doc__": f"{cls.__name__} of a complex tensor."})


# ---------------------------------------------------------------------------------------------
# The engine's ops that take complex arrays as they are, and those with complex forms
# ---------------------------------------------------------------------------------------------
for _cls in (ops.Add, ops.Sub, ops.Rsub, ops.Neg, ops.Sum, ops.Reshape, ops.Permute, ops.GetItem,
             ops.ScatterIntoZeros, ops.Concat, ops.Contiguous, ops.Flip, ops.Expand, ops.Repeat,
             ops.Where, ops.Overwrite, ops.SetItem, ops.CircularPick, ops.CopySlices, Cast):
    _cls.takes_complex = True
ops.Mean.takes_complex = True
for _cls in (ops.MaxPick, ops.Amax, ops.MaxDim, ops.EvenlyDistributed):
    _cls.takes_complex = False      # (subclasses of the above that order values)
ops.Mul.complex_op = ComplexMul
ops.Div.complex_op = ComplexDiv
ops.Exp.complex_op = ComplexExp
ops.Pow.complex_op = ComplexPow
ops.Abs.complex_op = ComplexAbs
ops.Log.complex_op = ComplexLog
ops.Sqrt.complex_op = ComplexSqrt
ops.Sin.complex_op = ComplexSin
ops.Cos.complex_op = ComplexCos
ops.Tanh.complex_op = ComplexTanh
ops.Log1p.complex_op = ComplexLog1p
ops.Sigmoid.complex_op = ComplexSigmoid
ops.PowTensor.complex_op = ComplexPowTensor
ops.MatMul.complex_op = ComplexMatMul
ops.Bmm.complex_op = ComplexBmm
ops.Einsum.complex_op = ComplexEinsum


def _math_ops_complex() -> None:
    from . import math_ops
    math_ops.Cumsum.takes_complex = True         # linear: its gradient the reversed cumsum
    for cls in (math_ops.Prod, math_ops.Cumprod):
        cls.complex_op = _composed_conjugate(cls)
    for cls in (math_ops.Expm1, math_ops.Log2, math_ops.Log10, math_ops.Sinh, math_ops.Cosh,
                math_ops.Tan, math_ops.Asin, math_ops.Acos, math_ops.Atan):
        cls.complex_op = _composed_holomorphic(cls)
    from . import special_ops
    for cls in (special_ops.Asinh, special_ops.Atanh):
        cls.complex_op = _composed_holomorphic(cls)
    # acosh'(z) = 1 / (sqrt(z - 1) sqrt(z + 1)) on the principal branch (not rsqrt(z^2 - 1): the
    # sign flips where Re z < 0)
    special_ops.Acosh.complex_op = _composed_holomorphic(
        special_ops.Acosh, lambda x: ((x - 1.0).sqrt() * (x + 1.0).sqrt()).reciprocal())


_math_ops_complex()


def _to_device_takes_complex() -> None:
    from .tensor import ToDevice
    ToDevice.takes_complex = True


_to_device_takes_complex()


# ---------------------------------------------------------------------------------------------
# Functions and methods
# ---------------------------------------------------------------------------------------------
def complex(real: Tensor, imag: Tensor) -> Tensor:      # noqa: A001  (torch.complex)
    """torch.complex: ``real + i imag`` (float32 -> complex64, float64 -> complex128)."""
    for name, t in (("real", real), ("imag", imag)):
        if not isinstance(t, Tensor):
            raise InputTypeError(f"complex: {name} must be a Tensor, got {type(t).__name__}")
    _check_broadcast("complex", real, imag)
    return MakeComplex.apply(real, imag)


def polar(abs: Tensor, angle: Tensor) -> Tensor:       # noqa: A002  (torch's names)
    """torch.polar: ``abs * (cos(angle) + i sin(angle))``."""
    for name, t in (("abs", abs), ("angle", angle)):
        if not isinstance(t, Tensor):
            raise InputTypeError(f"polar: {name} must be a Tensor, got {type(t).__name__}")
    _check_broadcast("polar", abs, angle)
    return Polar.apply(abs, angle)


def _check_broadcast(op: str, a: Tensor, b: Tensor) -> None:
    broadcast_shape("{op}: shapes {0} and {1} do not broadcast", a.shape, b.shape, op=op)


def view_as_real(input: Tensor) -> Tensor:
    """A complex tensor as a real one with a trailing dim of 2 (real, imaginary), sharing memory."""
    x = _complex_tensor("view_as_real", input)
    if x.array.dtype.kind != "c":
        raise DTypeError(f"view_as_real is only supported for complex tensors, got {x.dtype} (as torch)")
    return ViewAsReal.apply(x)


def view_as_complex(input: Tensor) -> Tensor:
    """A real tensor of (..., 2) (real, imaginary) pairs as a complex one, sharing memory."""
    x = _complex_tensor("view_as_complex", input)
    if x.array.dtype.kind == "c":
        raise DTypeError(f"view_as_complex is only supported for float tensors, got {x.dtype}")
    return ViewAsComplex.apply(x)


def is_complex(input: Tensor) -> bool:
    return _complex_tensor("is_complex", input).array.dtype.kind == "c"


def real(input: Tensor) -> Tensor:
    """The real part: a view (a real tensor is its own real part, as torch)."""
    x = _complex_tensor("real", input)
    return RealView.apply(x) if x.array.dtype.kind == "c" else x


def imag(input: Tensor) -> Tensor:
    """The imaginary part of a complex tensor: a view (refused for a real one, as torch)."""
    x = _complex_tensor("imag", input)
    if x.array.dtype.kind != "c":
        raise DTypeError("imag is not implemented for tensors with non-complex dtypes (as torch)")
    return ImagView.apply(x)


def conj(input: Tensor) -> Tensor:
    """The complex conjugate (a real tensor itself, as torch); a copy here, not a lazy view."""
    x = _complex_tensor("conj", input)
    return Conj.apply(x) if x.array.dtype.kind == "c" else x


def conj_physical(input: Tensor) -> Tensor:
    x = _complex_tensor("conj_physical", input)
    return Conj.apply(x) if x.array.dtype.kind == "c" else x


def conj_physical_(input: Tensor) -> Tensor:
    """The conjugate in place (a real tensor unchanged), as torch's ``conj_physical_``."""
    x = _complex_tensor("conj_physical_", input)
    if x.array.dtype.kind == "c":
        x.imag.neg_()
    return x


def sgn(input: Tensor) -> Tensor:
    """torch.sgn: z / |z| (0 at 0) for complex tensors; sign for real ones."""
    x = _complex_tensor("sgn", input)
    return Sgn.apply(x) if x.array.dtype.kind == "c" else x._sign("SgnBackward0")


def real_part(g: Tensor) -> Tensor:
    """The real part as a new tensor (Cast's graph-mode gradient for real -> complex)."""
    return RealView.apply(g).clone()


_real_angle = Tensor.angle     # torch_extras' angle of a real tensor


def angle(input: Tensor) -> Tensor:
    """The argument of each element: atan2(Im, Re) for complex, 0 / pi for real (as torch)."""
    x = _complex_tensor("angle", input)
    return Angle.apply(x) if x.array.dtype.kind == "c" else _real_angle(x)


def _install() -> None:
    def _real_get(self):
        return RealView.apply(self) if self.array.dtype.kind == "c" else self

    def _imag_get(self):
        return imag(self)

    def _write(view, value):
        if isinstance(value, Tensor):
            view.copy_(value)
        else:
            view.fill_(value)

    def _real_set(self, value):
        _write(_real_get(self), value)

    def _imag_set(self, value):
        _write(imag(self), value)

    Tensor.real = property(_real_get, _real_set,
                           doc="The real part: a view for complex, the tensor itself for real "
                               "(``z.real = v`` writes it, as torch's ``z.real.copy_(v)``).")
    Tensor.imag = property(_imag_get, _imag_set, doc="The imaginary part of a complex tensor: a view.")
    Tensor.is_complex = lambda self: self.array.dtype.kind == "c"
    Tensor.conj = conj
    Tensor.conj_physical = conj_physical
    Tensor.conj_physical_ = conj_physical_
    Tensor.resolve_conj = lambda self: self
    Tensor.angle = angle
    Tensor.sgn = sgn
    Tensor.cfloat = lambda self: self.to(complex64)
    Tensor.cdouble = lambda self: self.to(complex128)


_install()



# ---------------------------------------------------------------------------------------------
# Refusals for the methods and functions that would otherwise take complex values silently
# (NumPy orders, rounds and signs complex numbers; torch refuses), and var / std (real, as torch)
# ---------------------------------------------------------------------------------------------
_REFUSED = {"sort": "sort", "argsort": "sort", "msort": "sort", "topk": "topk", "argmax": "argmax",
            "argmin": "argmin", "kthvalue": "kthvalue", "median": "median_cpu",
            "nanmedian": "nanmedian", "mode": "mode", "cummax": "cummax", "cummin": "cummin",
            "round": "round_vml_cpu", "round_": "round_vml_cpu", "floor": "floor", "ceil": "ceil",
            "trunc": "trunc", "frac": "frac", "fix": "trunc", "sign": "sign", "signbit": "signbit",
            "floor_divide": "div_floor_cpu", "__floordiv__": "div_floor_cpu",
            "__rfloordiv__": "div_floor_cpu", "deg2rad": "deg2rad", "deg2rad_": "deg2rad",
            "rad2deg": "rad2deg", "rad2deg_": "rad2deg", "fmax": "fmax", "fmin": "fmin",
            "heaviside": "heaviside", "isin": "isin", "isneginf": "isneginf", "isposinf": "isposinf",
            "nanmean": "nanmean", "nansum": "nansum", "searchsorted": "searchsorted",
            "unique": "unique", "unique_consecutive": "unique_consecutive", "abs_": "abs_",
            "absolute_": "abs_",
            "mse_loss": "mse_cpu", "aminmax": "aminmax", "histc": "histc", "bucketize": "bucketize",
            "instance_norm": "instance_norm"}
# (clamp, max / min, amax, maximum, relu, comparisons, ... refuse already: their engine ops have no
# complex form, and Function.apply sends a complex operand to complex_dispatch, which refuses)
_WHY = {"sign": " (use torch.sgn, as torch says)", "absolute_": " in place",
        "abs_": " in place (as torch: In-place abs is not supported for complex tensors)"}


def _has_complex_tensor(args: tuple, kwargs: dict) -> Any:
    for a in args:
        if isinstance(a, Tensor) and a.array.dtype.kind == "c":
            return a
        if isinstance(a, (list, tuple)):
            for b in a:
                if isinstance(b, Tensor) and b.array.dtype.kind == "c":
                    return b
    for a in kwargs.values():
        if isinstance(a, Tensor) and a.array.dtype.kind == "c":
            return a
    return None


def _refusing(fn: Any, op: str, why: str, method: bool) -> Any:
    """``fn`` refusing complex operands: for a Tensor method a check of ``self``'s dtype kind only
    (one attribute read per call); for a function a scan of its arguments."""
    import functools

    if method:
        @functools.wraps(fn)
        def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
            if self.array.dtype.kind == "c" or (args and isinstance(args[0], Tensor)
                                                and args[0].array.dtype.kind == "c"):
                refuse(op, complex64 if self.array.dtype.kind != "c" else self.array.dtype, why)
            return fn(self, *args, **kwargs)
    else:
        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            z = _has_complex_tensor(args, kwargs)
            if z is not None:
                refuse(op, z.array.dtype, why)
            return fn(*args, **kwargs)
    guarded._complex_guarded = True
    return guarded


def guard(namespace: Any) -> None:
    """Wrap the names of ``_REFUSED`` found in ``namespace`` (the Tensor class, a module, or a
    module's globals dict) so that a complex operand is refused by name."""
    get = namespace.get if isinstance(namespace, dict) else lambda n: getattr(namespace, n, None)
    for name, op in _REFUSED.items():
        fn = get(name)
        if fn is None or not callable(fn) or getattr(fn, "_complex_guarded", False):
            continue
        wrapped = _refusing(fn, op, _WHY.get(name, ""), namespace is Tensor)
        if isinstance(namespace, dict):
            namespace[name] = wrapped
        else:
            setattr(namespace, name, wrapped)


def _install_var_std() -> None:
    """var / std of a complex tensor: real, var(Re) + var(Im) (torch's definition: the mean of
    |z - mean|^2 with the correction)."""
    var, std = Tensor.var, Tensor.std

    def complex_var(self, *args: Any, **kwargs: Any) -> Tensor:
        if self.array.dtype.kind == "c":
            return var(self.real, *args, **kwargs) + var(self.imag, *args, **kwargs)
        return var(self, *args, **kwargs)

    def complex_std(self, *args: Any, **kwargs: Any) -> Tensor:
        if self.array.dtype.kind == "c":
            return complex_var(self, *args, **kwargs).sqrt()
        return std(self, *args, **kwargs)

    complex_var.__doc__, complex_std.__doc__ = var.__doc__, std.__doc__
    Tensor.var, Tensor.std = complex_var, complex_std


guard(Tensor)
_install_var_std()
