"""torch's elementwise math, in-place forms and reductions beyond the core ops of ``tensor.py``.

* New differentiable elementwise ops (erf, erfinv, expm1, log2, sinh, atan2, hypot, xlogy, fmod,
  ...) are :class:`Pointwise` subclasses: the value on arrays (``compute``), the partial
  derivatives written once with Tensor ops (``partials``) -- ``backward`` evaluates them on the
  inputs under ``no_grad``, ``grad_graph`` with their graph (gradients of gradients).
* Reductions (prod, cumsum, cumprod, ...) are :class:`Composed` ops (the same idea, the whole
  gradient in Tensor ops) or plain compositions of existing Tensor ops.
* The in-place forms (``exp_``, ``clamp_min_``, ``addcmul_``, ...) compute the out-of-place result
  under no_grad and write it through ``Tensor._in_place`` (its version bump and its refusal of a
  tensor autograd tracks): one helper, :func:`_in_place_form`.

The methods live on :class:`_TensorMath`; the end of ``tensor.py`` installs them on :class:`Tensor`
(:func:`install_methods`); ``function_forms.py`` gives their ``tg.`` forms.
"""
from __future__ import annotations

import functools
import math
import operator
from typing import Any, Callable, NamedTuple

import numpy as np

from . import ops
from .errors import DTypeError, DTypeNotImplementedError, EmptyReductionError, InputTypeError
from .tensor import (BOOL, FLOAT_DTYPES, Function, MinMax, Tensor, _axes, _check_dtype, _flag, _float_only, _int_of,
                     _reduction_dtype, _size_args, _to_array, _torch_dims, get_device, no_grad)


# ---------------------------------------------------------------------------------------------
# Ops whose gradient is written once, with Tensor ops
# ---------------------------------------------------------------------------------------------
class Composed(Function):
    """An op whose value is ``compute(xp, *args)`` on arrays and whose gradients are
    ``gradients(g, *inputs)`` in Tensor ops (one entry per positional argument): backward runs
    them under no_grad on the saved inputs, grad_graph with their graph."""

    @staticmethod
    def compute(xp, *args: Any):
        raise NotImplementedError

    def gradients(self, g: Tensor, *inputs: Any) -> tuple:
        raise NotImplementedError

    def forward(self, *args: Any):
        return self.compute(self.xp, *args)

    def backward(self, g):
        with no_grad():
            grads = self.gradients(Tensor._make(g, self.device), *self.inputs)
        return tuple(d.array if isinstance(d, Tensor) else d for d in grads)

    def grad_graph(self, g: Tensor) -> tuple:
        return self.gradients(g, *self.inputs)


class Pointwise(Composed):
    """An elementwise op of Tensors broadcast together; ``partials(*inputs)`` gives d out / d
    input for each (a Tensor or a number), summed back to each input's shape."""

    op_name = "pointwise"   # for messages (not name(): that is torch's grad_fn name)
    promotes_floats = True

    @staticmethod
    def partials(*inputs: Tensor) -> tuple:
        raise NotImplementedError

    def forward(self, *arrays: Any):
        if len(arrays) != 2:
            return self.compute(self.xp, *arrays)
        return ops._broadcasting(self.op_name, lambda a, b: self.compute(self.xp, a, b), *arrays)

    def gradients(self, g: Tensor, *inputs: Tensor) -> tuple:
        need = self.needs_input_grad
        parts = self.partials(*inputs)
        return tuple(ops.unbroadcast(g * p, x.shape) if wanted else None
                     for x, p, wanted in zip(inputs, parts, need))


class OfResult(Pointwise):
    """A one-input :class:`Pointwise` op whose derivative is written with its result,
    ``result_partial(y)`` (torch saves the result, not the input: exp2, expm1, tan) -- so its
    input may be written in place before backward, and its result may not."""
    reads_inputs = False

    @staticmethod
    def result_partial(y: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, x):
        self.y = self.compute(self.xp, x)
        return self.y

    def result_grad(self, g: Tensor, y: Tensor) -> Tensor:
        return g * self.result_partial(y)

    def backward(self, g):
        with no_grad():
            grad = self.result_grad(Tensor._make(g, self.device), Tensor._make(self.y, self.device))
        return (grad.array,)

    def grad_graph(self, g: Tensor) -> tuple:
        return (self.result_grad(g, ops.saved_output(self, self.y)),)


def _of_result(name: str, compute: Callable, result_partial: Callable) -> type:
    """An :class:`OfResult` op class from its value and its derivative in terms of the value
    (``partials`` too, on the input, for code that asks for them)."""
    cls = type(name, (OfResult,), {"op_name": name.lower(), "compute": staticmethod(compute),
                                   "result_partial": staticmethod(result_partial),
                                   "__doc__": f"torch.{name.lower()}"})
    cls.partials = staticmethod(lambda x: (result_partial(cls.apply(x)),))
    return cls


def _pointwise(name: str, compute: Callable, partials: Callable) -> type:
    """A :class:`Pointwise` op class from its value and its partial derivatives."""
    return type(name, (Pointwise,), {"op_name": name.lower(), "compute": staticmethod(compute),
                                     "partials": staticmethod(partials), "__doc__": f"torch.{name.lower()}"})


def _erf_values(xp, x):
    from .functional import _erf        # a Numba ufunc on the CPU, CuPy's on the GPU
    return _erf(xp, x)


def _erfinv_values(xp, x):
    """erf's inverse: CuPy's on the GPU; on the CPU ``nn.init``'s (Giles' approximation refined
    by Newton steps, in float64), cast back to the input's dtype."""
    if xp is not np:
        from cupyx.scipy.special import erfinv
        return erfinv(x)
    from .nn.init import _erfinv
    return _erfinv(x).astype(x.dtype, copy=False)


def _xlogy_values(xp, x, y, one_plus: bool = False):
    """x * log(y) (x * log1p(y) with ``one_plus``: torch.special.xlog1py), 0 where x == 0
    (unless y is NaN), as torch.xlogy."""
    log = xp.log1p(y) if one_plus else xp.log(y)
    return xp.where((x == 0) & ~xp.isnan(y), x.dtype.type(0), x * log)


def _log_unless_both_zero(x: Tensor, y: Tensor, one_plus: bool = False) -> Tensor:
    """xlogy's d/dx as torch's: log(y), but 0 where x == 0 and y <= 0 (log kept finite there,
    so a gradient of this gradient is 0 rather than NaN); xlog1py's: log1p(y), 0 where x == 0
    and y <= -1."""
    off = (x == 0.0) & (y <= (-1.0 if one_plus else 0.0))
    safe = y.masked_fill(off, 0.0 if one_plus else 1.0)
    return (safe.log1p() if one_plus else safe.log()).masked_fill(off, 0.0)


class Logit(Composed):
    """log(z / (1 - z)) with z = x, or x clamped to [eps, 1 - eps]; d/dx = 1 / (x (1 - x)) where
    x is in [0, 1] (in [eps, 1 - eps]), NaN beyond without eps and 0 beyond with it, as torch."""

    @staticmethod
    def compute(xp, x, eps):
        z = x if eps is None else xp.clip(x, eps, 1 - eps)
        return xp.log(z / (1 - z))

    def gradients(self, g, x, eps):
        from .factory import where
        low, high = (0.0, 1.0) if eps is None else (eps, 1.0 - eps)
        inside = (x >= low) & (x <= high)
        return where(inside, g * (x * (1.0 - x)).reciprocal(), math.nan if eps is None else 0.0), None


_SQRT_PI = math.sqrt(math.pi)
Erf = _pointwise("Erf", _erf_values, lambda x: ((-(x * x)).exp() * (2 / _SQRT_PI),))
Erfinv = _pointwise("Erfinv", _erfinv_values, lambda x: ((Erfinv.apply(x) ** 2).exp() * (_SQRT_PI / 2),))
Expm1 = _of_result("Expm1", lambda xp, x: xp.expm1(x), lambda y: y + 1.0)
Log2 = _pointwise("Log2", lambda xp, x: xp.log2(x), lambda x: ((x * math.log(2)).reciprocal(),))
Log10 = _pointwise("Log10", lambda xp, x: xp.log10(x), lambda x: ((x * math.log(10)).reciprocal(),))
Sinh = _pointwise("Sinh", lambda xp, x: xp.sinh(x), lambda x: (Cosh.apply(x),))
Cosh = _pointwise("Cosh", lambda xp, x: xp.cosh(x), lambda x: (Sinh.apply(x),))
Tan = _of_result("Tan", lambda xp, x: xp.tan(x), lambda y: y * y + 1.0)
Asin = _pointwise("Asin", lambda xp, x: xp.arcsin(x), lambda x: ((1.0 - x * x).rsqrt(),))
Acos = _pointwise("Acos", lambda xp, x: xp.arccos(x), lambda x: (-(1.0 - x * x).rsqrt(),))
Atan = _pointwise("Atan", lambda xp, x: xp.arctan(x), lambda x: ((x * x + 1.0).reciprocal(),))
def _atan2_partials(y: Tensor, x: Tensor) -> tuple:
    """(x, -y) / (x^2 + y^2), 0 at y = x = 0 (torch's: atan2(0, 0) has gradient 0, not NaN)."""
    d = x * x + y * y
    zero = d == 0.0
    r = d.masked_fill(zero, 1.0).reciprocal().masked_fill(zero, 0.0)
    return x * r, -y * r


Atan2 = _pointwise("Atan2", lambda xp, y, x: xp.arctan2(y, x), _atan2_partials)
Hypot = _pointwise("Hypot", lambda xp, x, y: xp.hypot(x, y),
                   lambda x, y: (x / Hypot.apply(x, y), y / Hypot.apply(x, y)))
LogAddExp = _pointwise("LogAddExp", lambda xp, x, y: xp.logaddexp(x, y),
                       lambda x, y: ((x - y).sigmoid(), (y - x).sigmoid()))
Hypot.refuses_int = LogAddExp.refuses_int = True     # torch: "hypot_cpu" not implemented for 'Long'
XLogY = _pointwise("XLogY", _xlogy_values, lambda x, y: (_log_unless_both_zero(x, y), x / y))
XLog1Py = _pointwise("XLog1Py", lambda xp, x, y: _xlogy_values(xp, x, y, True),
                     lambda x, y: (_log_unless_both_zero(x, y, True), x / (y + 1.0)))
# fmod (C's: the sign of the dividend) and remainder (Python's %: the sign of the divisor):
# d/dx = 1, d/dy = -trunc(x / y) and -floor(x / y), as torch's derivatives.
Fmod = _pointwise("Fmod", lambda xp, x, y: xp.fmod(x, y), lambda x, y: (1.0, -(x / y).trunc()))
def _remainder_values(xp, x, y):
    """x mod y with the sign of y, as torch computes it: fmod, plus y where a nonzero fmod's sign
    differs from y's -- so a zero keeps x's sign (-0.0 % 3 is -0.0; NumPy's remainder gives 0.0)."""
    if x.dtype.kind != "f":
        return xp.remainder(x, y)
    mod = xp.fmod(x, y)
    return xp.where((mod != 0) & ((y < 0) != (mod < 0)), mod + y, mod)


# (-floor division, not -floor(x / y): the quotient of remainder's own rounding -- 1 // 0.1 is 9,
# floor(1 / 0.1) is 10; -5 // inf is -1 -- as torch's derivative, and finite differences)
Remainder = _pointwise("Remainder", _remainder_values,
                       lambda x, y: (1.0, -x.div(y, rounding_mode="floor")))


def _split_partials(x: Tensor, y: Tensor, loses: Callable) -> tuple:
    """maximum / minimum's partials, as torch's: 1 to the winner, 0 to the loser (``loses(a, b)``:
    a loses to b), half each at a tie, 1 to both where either is NaN."""
    xp, a, b = x.device.xp, x.array, y.array
    kind = xp.result_type(a, b)
    tie = a == b
    pa = xp.where(tie, 0.5, xp.where(loses(a, b), 0.0, 1.0)).astype(kind, copy=False)
    pb = xp.where(tie, 0.5, xp.where(loses(b, a), 0.0, 1.0)).astype(kind, copy=False)
    return Tensor._make(pa, x.device), Tensor._make(pb, x.device)


Maximum = _pointwise("Maximum", lambda xp, a, b: xp.maximum(a, b), lambda x, y: _split_partials(x, y, operator.lt))
Minimum = _pointwise("Minimum", lambda xp, a, b: xp.minimum(a, b), lambda x, y: _split_partials(x, y, operator.gt))


def _tensor_operand(name: str, x: Tensor, other: Any, numbers: bool) -> Tensor:
    """``other`` as a Tensor of ``x``'s dtype and device (a number too when ``numbers``)."""
    if isinstance(other, Tensor):
        return other.to(x.dtype) if other.dtype == BOOL else other
    if numbers and isinstance(other, (int, float, np.integer, np.floating)):   # (True: 1, as torch)
        dtype = x.dtype        # (an int beside an integer x: int64, as the op computes in float:
        if x.array.dtype.kind in "iu" and isinstance(other, (int, np.integer)) \
                and not isinstance(other, bool):          # int8 xlogy 300 keeps 300, as torch)
            dtype = np.dtype(np.int64)
        return Tensor._make(x.device.xp.asarray(other, dtype=dtype), x.device)
    kind = "a Tensor or a number" if numbers else "a Tensor"
    raise InputTypeError(f"{name}: other must be {kind}, got {type(other).__name__}")


def _binary(op: type, numbers: bool, names: "tuple[str, str] | None" = None) -> Callable:
    """The Tensor method of a binary Pointwise op: ``x.op(other)``.  ``names``: torch's grad_fn
    names of its (Scalar, Tensor) overloads, where they differ (fmod: FmodBackward0 /
    FmodBackward1)."""
    by_kind = None if names is None else (ops.torch_named(op, names[0]), ops.torch_named(op, names[1]))

    def method(self: Tensor, other: Any) -> Tensor:
        if op.op_name in ("fmod", "remainder"):               # integers: exact, staying integers
            exact = self._integer_op(other, op.op_name)
            if exact is not None:
                return exact
        me = self._arith(other)
        cls = op if by_kind is None else by_kind[isinstance(other, Tensor)]
        return cls.apply(me, _tensor_operand(op.op_name, me, other, numbers))
    method.__name__ = op.op_name
    method.__doc__ = f"torch.{op.op_name}, broadcast (other: {'a Tensor or a number' if numbers else 'a Tensor'})."
    return method


def _unary(op: type) -> Callable:
    def method(self: Tensor) -> Tensor:
        return op.apply(self)
    method.__name__ = op.op_name
    method.__doc__ = f"torch.{op.op_name}, elementwise (differentiable)."
    return method


# ---------------------------------------------------------------------------------------------
# Reductions and scans
# ---------------------------------------------------------------------------------------------
class Prod(Composed):
    """The product over ``axis`` (all elements for None).  Each element's gradient is the product
    of the others (exclusive cumulative products from both ends, no division), so zeros are
    exact: with one zero its gradient is the product of the rest, every other one 0."""
    takes_int = True    # the product of integers is an integer (int64, as torch)

    @staticmethod
    def compute(xp, x, axis, keepdims):
        out = xp.asarray(x.prod(axis=axis, keepdims=keepdims))
        return out if x.flags.c_contiguous else out.copy()    # C order, as torch's (see ops.Sum)

    def name(self) -> str:      # torch's: x.prod() is ProdBackward0, x.prod(dim) ProdBackward1
        return "ProdBackward0" if self.inputs[1] is None else "ProdBackward1"

    def gradients(self, g, x, axis, keepdims):
        if axis is None:
            return g.reshape(()) * _others_product(x.reshape(-1), 0).reshape(x.shape), None, None
        g = g if keepdims else g.unsqueeze(axis)
        return g * _others_product(x, axis), None, None


def _c_order(out: Any) -> Any:
    """A scan's result in C order, as torch's (NumPy's keeps a channels_last / transposed input's)."""
    return out if out.flags.c_contiguous else out.copy()


def _exclusive_cumprod(x: Tensor, axis: int) -> Tensor:
    """[1, x0, x0 x1, ...] along ``axis`` (differentiable)."""
    from .factory import concat
    shape = list(x.shape)
    shape[axis] = 1
    return concat([x.new_ones(*shape), x.narrow(axis, 0, x.shape[axis] - 1)], axis).cumprod(axis)


def _others_product(x: Tensor, axis: int) -> Tensor:
    """For each element, the product of the other elements along ``axis``."""
    if x.shape[axis] == 0:
        return x
    return _exclusive_cumprod(x, axis) * _exclusive_cumprod(x.flip(axis), axis).flip(axis)


class Cumsum(Composed):
    takes_int = True
    reads_inputs = False   # the gradient is the reversed cumsum of g: no input value (torch)
    @staticmethod
    def compute(xp, x, axis):
        return _c_order(xp.cumsum(x, axis=axis))

    def gradients(self, g, x, axis):
        return g.flip(axis).cumsum(axis).flip(axis), None     # the reversed cumulative sum


class Cumprod(Composed):
    """Cumulative product.  d out_j / d x_i = L_i * x_{i+1} ... x_j (L the exclusive product
    before i), so grad_i = L_i * S_i with S_i = g_i + x_{i+1} S_{i+1}: a scan from the end, one
    step per position (exact with zeros, unlike dividing out by x_i)."""
    takes_int = True

    @staticmethod
    def compute(xp, x, axis):
        return _c_order(xp.cumprod(x, axis=axis))

    def gradients(self, g, x, axis):
        from .factory import stack
        n = x.shape[axis]
        if n == 0:
            return g, None
        xs, gs = x.unbind(axis), g.unbind(axis)
        s = [gs[-1]]
        for i in range(n - 2, -1, -1):
            s.append(gs[i] + xs[i + 1] * s[-1])
        return _exclusive_cumprod(x, axis) * stack(s[::-1], dim=axis), None


class Logcumsumexp(Composed):
    """log(cumsum(exp(x))) along ``axis`` as one scan, O(n) memory: NumPy's
    ``logaddexp.accumulate`` for real dtypes on the CPU; complex dtypes, and CuPy (whose logaddexp gives NaN for two equal infinities and has no
    accumulate), by a doubling scan of a stable log-add-exp (O(n log n) work, no overflow).
    The gradient is torch's logcumsumexp_backward, in Tensor ops on the saved result (so a
    create_graph gradient differentiates it as torch's does)."""
    takes_half = takes_complex = True   # (half scanned in float32 here: the node keeps torch's name)

    def forward(self, x, axis):
        self.y = _c_order(_logcumsumexp_values(self.xp, x, axis))
        return self.y

    def backward(self, g):
        with no_grad():
            grad = _logcumsumexp_grad(Tensor._make(g, self.device), self.inputs[0],
                                      Tensor._make(self.y, self.device), self.inputs[1])
        return grad.array, None

    def grad_graph(self, g):
        return _logcumsumexp_grad(g, self.inputs[0], ops.saved_output(self, self.y), self.inputs[1]), None


def _logcumsumexp_values(xp, x, axis: int):
    """The scan's values (empty in, empty out), accumulated in torch's accumulator type: on the
    CPU float64 for float32 (and complex128 for complex64), float32 for float16; on CuPy float32
    for float16 only (torch's CUDA one)."""
    if x.size == 0:
        return x.copy()
    wide = x.astype(_LCSE_ACCUMULATOR[xp is np].get(x.dtype, x.dtype))
    if xp is np and x.dtype.kind == "f":
        return np.logaddexp.accumulate(wide, axis=axis).astype(x.dtype, copy=False)
    out = xp.moveaxis(wide, axis, -1).copy()
    out[...] = _log_add_exp(xp, xp.asarray(-math.inf, dtype=out.dtype), out)   # torch's start
    step = 1
    while step < out.shape[-1]:     # out_i = log-add-exp of the 2 * step elements ending at i
        out[..., step:] = _log_add_exp(xp, out[..., :-step], out[..., step:])
        step *= 2
    return xp.moveaxis(out, -1, axis).astype(x.dtype, copy=False)


_LCSE_ACCUMULATOR = {True: {np.dtype(np.float16): np.float32, np.dtype(np.float32): np.float64,
                            np.dtype(np.complex64): np.complex128},
                     False: {np.dtype(np.float16): np.float32}}


def _log_add_exp(xp, a, b):
    """log(exp(a) + exp(b)) elementwise (``a`` the earlier terms) without overflow, NaN
    propagated and two equal infinities kept, as torch's _log_add_exp_helper (complex: by the
    larger real part; NaN in either part infects both; a tie at -inf keeps ``a``)."""
    with np.errstate(invalid="ignore", over="ignore"):
        if a.dtype.kind != "c":
            gap = xp.where(a == b, 0, -abs(a - b))          # (inf - inf: the top itself)
            return xp.maximum(a, b) + xp.log1p(xp.exp(gap))
        nan = xp.isnan(a) | xp.isnan(b)
        b_top = b.real >= a.real
        top, low = xp.where(b_top, b, a), xp.where(b_top, a, b)
        same_inf = ~xp.isfinite(low.real) & (low.real == top.real)
        rest = top + xp.log1p(xp.exp(xp.where(same_inf, 0, low - top)))
        pos_inf = xp.log(xp.exp(low) + xp.exp(top))
        out = xp.where(same_inf, xp.where(low.real < 0, low, pos_inf), rest)
        return xp.where(nan, xp.asarray(complex(math.nan, math.nan), dtype=a.dtype), out)


def _logcumsumexp_grad(g: Tensor, x: Tensor, y: Tensor, axis: int) -> Tensor:
    """torch's logcumsumexp_backward: the reversed logcumsumexp of log g - y, re-exponentiated
    and shifted by x -- for real g the positive and negative parts apart (log of each, torch's
    lowest finite number where a part is 0); complex g needs no split."""
    if g.numel() == 0:
        return g
    def reverse_lcse(t: Tensor) -> Tensor:
        return t.flip(axis).logcumsumexp(axis).flip(axis)
    if g.dtype.kind == "c":
        return (reverse_lcse(g.conj().log() - y) + x).exp().conj()
    lowest = float(np.finfo(g.dtype).min)
    log_abs = g.abs().log()
    positive = ops.Where.apply(log_abs, lowest, (g > 0).array)
    negative = ops.Where.apply(log_abs, lowest, (g < 0).array)
    return (reverse_lcse(positive - y) + x).exp() - (reverse_lcse(negative - y) + x).exp()


class AMinMax(NamedTuple):
    """torch.return_types.aminmax: ``(min, max)``, also by name."""
    min: Tensor
    max: Tensor


def _cumulative(x: Tensor, op: type, dim: Any, name: str, dtype: Any) -> Tensor:
    """A scan along ``dim`` (a 0-d tensor takes dim 0 or -1, as torch) in ``dtype`` (an integer
    one too: a float input cut toward zero first, as torch's)."""
    x, op = _cast_in(x, dtype, name, op)
    dt = getattr(op, "target", x.dtype)
    if x.ndim == 0:
        _axes(dim, 0)                                  # (checks the dim)
        return ops.torch_node(x.to(dt).clone(), f"{name.capitalize()}Backward0")   # one node, as torch's
    else:
        out = op.apply(x, x._dim(dim, name))
    return out if out.dtype == dt else out.to(dt)   # NumPy scans small ints in 64 bits


def _cast_in(x: Tensor, dtype: Any, name: str, op: type) -> tuple:
    """(x, op) for reduction ``op`` in ``dtype``: float32 <-> float64 the op casting x in its own
    node (ops.cast_in, torch's one node), else x cast first (:func:`_with_dtype`) and op."""
    if dtype is not None and x.dtype.kind == "f":
        target = _reduction_dtype(name, x, dtype)
        if ops.casts_in(x, target):
            return x, ops.cast_in(op, target)
    return _with_dtype(x, dtype, name), op


def _with_dtype(x: Tensor, dtype: Any, name: str = "") -> Tensor:
    """x in a reduction's ``dtype=`` (with ``name``: an integer one too -- prod, nansum, the
    scans -- refused for an input that requires grad, as torch's); without one, integers
    widened to int64 (torch sums and multiplies uint8 / int32 in int64)."""
    if dtype is None:
        return x.to(np.int64) if x.dtype.kind in "iu" and x.dtype != np.int64 else x
    return x.to(_reduction_dtype(name, x, dtype) if name else _check_dtype(dtype))


def _median_index(xp, a, axis: int):
    """Index of the lower median along ``axis`` (a NaN's, the first, where the slice has one:
    torch's median propagates NaN)."""
    order = xp.argsort(a, axis=axis, kind="stable") if xp is np else xp.argsort(a, axis=axis)  # (CuPy's is)
    k = (a.shape[axis] - 1) // 2
    index = order[(slice(None),) * axis + (slice(k, k + 1),)]
    nan = xp.isnan(a)
    return xp.where(nan.any(axis=axis, keepdims=True), xp.argmax(nan, axis=axis, keepdims=True), index)


def _in_result_dtype(input: Tensor, tensor1: Tensor, tensor2: Tensor) -> tuple:
    """addcmul / addcdiv's factors in the dtype of the result (torch's promotion over the three
    tensors, the value aside): int8 factors of a float32 input multiply as float32, not wrapping;
    bool ones beside an int16 input give int16."""
    from .dtypes import _combine, promote_types
    dims = [t.dtype for t in (input, tensor1, tensor2) if t.ndim]
    zeros = [t.dtype for t in (input, tensor1, tensor2) if not t.ndim]
    dim = functools.reduce(promote_types, dims) if dims else None
    zero = functools.reduce(promote_types, zeros) if zeros else None
    dtype = _combine(dim, zero)
    return (tensor1 if tensor1.dtype == dtype else tensor1.to(dtype),
            tensor2 if tensor2.dtype == dtype else tensor2.to(dtype))


def _integral_addcmul_value(input: Tensor, product: Tensor, value: Any) -> Any:
    """torch's addcmul of integer tensors: ``value`` cast to the integer result (2.7 -> 2; the
    result keeps the tensors' dtype); on bools alone it is not implemented."""
    if input.dtype.kind == "b" and product.dtype.kind == "b":
        raise DTypeNotImplementedError("addcmul: \"addcmul_cpu_out\" not implemented for 'Bool' "
                                       "(as torch): convert the tensors with .long() or .float()")
    if input.dtype.kind in "iub" and isinstance(value, (float, np.floating)):
        return int(value)
    return value


def _in_place_form(method: str, doc: str = "") -> Callable:
    """``x.method_(...)``: ``x.method(...)`` written into ``x``, with every in-place op's rules
    (Tensor._in_place): a leaf that requires grad only under no_grad; on an op's result that
    requires grad (or with an operand that does) the update becomes a graph op, as torch's."""
    def in_place(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return self._in_place_from(method + "_", lambda t: getattr(t, method)(*args, **kwargs),
                                   (*args, *kwargs.values()))
    in_place.__name__ = in_place.__qualname__ = method + "_"
    in_place.__doc__ = doc or f"In-place :meth:`{method}` (under no_grad on a leaf that requires grad)."
    return in_place


# ---------------------------------------------------------------------------------------------
# The methods installed on Tensor
# ---------------------------------------------------------------------------------------------
class _TensorMath:
    """Tensor methods of this module (installed on :class:`Tensor` below)."""

    # -- small composites and queries --------------------------------------------------------
    def dist(self, other: Tensor, p: float = 2) -> Tensor:
        """The p-norm of ``self - other`` (broadcast; torch.dist): a 0-d tensor."""
        if not isinstance(other, Tensor):
            raise InputTypeError(f"dist: other must be a Tensor, got {type(other).__name__}")
        return (self - other).norm(p)

    def addcmul(self, tensor1: Tensor, tensor2: Tensor, *legacy: Any, value: float = 1) -> Tensor:
        """``self + value * tensor1 * tensor2`` (torch.addcmul; broadcast).  torch's deprecated
        ``addcmul(value, tensor1, tensor2)`` (old optimizers' ``addcmul_(1 - beta2, g, g)``) is
        accepted too, with its UserWarning."""
        if legacy:
            tensor1, tensor2, value = _legacy_value("addcmul", tensor1, tensor2, legacy)
        _check_tensors("addcmul", tensor1, tensor2)
        # (.array.dtype: no property call on the optimizers' path, Adam's addcmul_ / addcdiv_)
        if not self.array.dtype == tensor1.array.dtype == tensor2.array.dtype:   # torch: the result dtype
            tensor1, tensor2 = _in_result_dtype(self, tensor1, tensor2)
        product = tensor1 * tensor2
        if product.array.dtype.kind in "iub":
            value = _integral_addcmul_value(self, product, value)
        return self + (product if value == 1 else product * value)

    def addcdiv(self, tensor1: Tensor, tensor2: Tensor, *legacy: Any, value: float = 1) -> Tensor:
        """``self + value * tensor1 / tensor2`` (torch.addcdiv; Adam's update); the deprecated
        ``addcdiv(value, tensor1, tensor2)`` too, as addcmul's."""
        if legacy:
            tensor1, tensor2, value = _legacy_value("addcdiv", tensor1, tensor2, legacy)
        _check_tensors("addcdiv", tensor1, tensor2)
        if tensor1.array.dtype.kind in "iub" and tensor2.array.dtype.kind in "iub":
            raise DTypeError("addcdiv: integer division with addcdiv is no longer supported (as "
                             "torch): give tensor1 or tensor2 a floating dtype, or write "
                             "input + value * torch.div(tensor1, tensor2, rounding_mode='trunc')")
        if not self.array.dtype == tensor1.array.dtype == tensor2.array.dtype:   # torch: the result dtype
            tensor1, tensor2 = _in_result_dtype(self, tensor1, tensor2)
        quotient = tensor1 / tensor2
        return self + (quotient if value == 1 else quotient * value)

    def clamp_min(self, min: float) -> Tensor:
        # torch's node names: ClampMinBackward0 for a number, 1 for a tensor bound
        return ops.torch_node(self.clip(min=min), f"ClampMinBackward{int(isinstance(min, Tensor))}")

    def clamp_max(self, max: float) -> Tensor:
        return ops.torch_node(self.clip(max=max), f"ClampMaxBackward{int(isinstance(max, Tensor))}")

    def is_floating_point(self) -> bool:
        return self.dtype in FLOAT_DTYPES

    is_cuda = property(lambda self: self.device.type == "cuda", doc="Whether it lives on the GPU.")
    is_cpu = property(lambda self: self.device.type == "cpu", doc="Whether it lives on the CPU.")
    nbytes = property(lambda self: int(self.array.nbytes), doc="Bytes of its elements.")
    itemsize = property(lambda self: int(self.dtype.itemsize), doc="Bytes of one element.")

    def get_device(self) -> int:
        """The CUDA device index (0: tensorgan uses one GPU), -1 on the CPU, as torch."""
        return 0 if self.device.type == "cuda" else -1

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
        """A new tensor holding a copy of ``data``, in this tensor's dtype and device unless given."""
        if isinstance(data, Tensor):
            data = data.numpy()
        device = self.device if device is None else get_device(device)
        array = _to_array(data, self.dtype if dtype is None else dtype, device)
        return Tensor._from(array.copy(), requires_grad=requires_grad, device=device)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        """torch's ``new_empty``: zeros here (uninitialised memory would only hide bugs)."""
        device = self.device if device is None else get_device(device)
        dtype = self.dtype if dtype is None else _check_dtype(dtype, any_kind=True)
        return Tensor._from(device.xp.zeros(_size_args(size), dtype), requires_grad=requires_grad, device=device)

    # -- elementwise -------------------------------------------------------------------------
    erf, erfinv, expm1 = _unary(Erf), _unary(Erfinv), _unary(Expm1)
    log2, log10 = _unary(Log2), _unary(Log10)
    sinh, cosh, tan = _unary(Sinh), _unary(Cosh), _unary(Tan)
    asin, acos, atan = _unary(Asin), _unary(Acos), _unary(Atan)
    arcsin, arccos, arctan = asin, acos, atan
    atan2, hypot, logaddexp = _binary(Atan2, False), _binary(Hypot, False), _binary(LogAddExp, False)
    arctan2 = atan2
    xlogy = _binary(XLogY, True, ("XlogyBackward2", "XlogyBackward0"))
    fmod = _binary(Fmod, True, ("FmodBackward0", "FmodBackward1"))
    remainder = _binary(Remainder, True, ("RemainderBackward0", "RemainderBackward1"))

    def logit(self, eps: float | None = None) -> Tensor:
        """log(x / (1 - x)); with ``eps``, of x clamped to [eps, 1 - eps] (gradient 0 outside)."""
        if eps is not None:
            eps = _number("logit", "eps", eps)
        return Logit.apply(self, eps)

    def frac(self) -> Tensor:
        """x - trunc(x) (the sign of x), gradient 1."""
        _float_only("frac", self)
        a = self.array
        return ops.torch_named(ops.UnitGrad, "FracBackward0").apply(self, a - self.device.xp.trunc(a))

    def nan_to_num(self, nan: float | None = None, posinf: float | None = None,
                   neginf: float | None = None) -> Tensor:
        """NaN, +inf and -inf replaced (by 0 and the dtype's largest and lowest finite numbers by
        default -- ``nan=None`` is 0 -- as torch); gradient 0 at the replaced elements."""
        nan = 0.0 if nan is None else nan
        for name, v in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
            if v is not None and (isinstance(v, (bool, str, bytes)) or not np.isscalar(v)):
                raise InputTypeError(f"nan_to_num: {name} must be a number, got "
                                     f"{type(v).__name__} {v!r:.40}")
        values = self.device.xp.nan_to_num(self.array, nan=nan, posinf=posinf, neginf=neginf)
        return ops.Where.apply(self, Tensor._make(values, self.device), self.isfinite().array)

    # -- reductions --------------------------------------------------------------------------
    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """The product of all elements, or over one ``dim`` (torch.prod); exact gradients with zeros."""
        x, op = _cast_in(self._arith(), dtype, "prod", Prod)
        if x.dtype == BOOL:             # dtype=bool: torch multiplies bools, a logical and
            return x.all(dim=dim, keepdim=bool(keepdim))
        if dtype is not None and x.dtype.kind in "iu":   # int32 asked: int32 (NumPy's prod widens)
            return Tensor._make(x.array.prod(axis=_axes(dim, x.ndim), keepdims=bool(keepdim)).astype(x.dtype),
                                x.device)
        if dim is None:                 # (keepdim: an extension, the 1s kept by NumPy's prod)
            return op.apply(x, None, bool(keepdim))
        if isinstance(dim, (tuple, list)):
            raise InputTypeError(f"prod: dim must be one int, got {dim!r} (as torch)")
        axes = _axes(dim, x.ndim)
        if axes is None:                                            # a 0-d tensor
            return x.to(getattr(op, "target", x.dtype)) * 1
        return op.apply(x, axes[0], _flag("prod", "keepdim", keepdim))

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        """Cumulative sum along ``dim``."""
        return _cumulative(self._arith(), Cumsum, dim, "cumsum", dtype)

    def cumprod(self, dim: int, *, dtype: Any = None) -> Tensor:
        """Cumulative product along ``dim`` (exact gradients with zeros)."""
        return _cumulative(self._arith(), Cumprod, dim, "cumprod", dtype)

    def logcumsumexp(self, dim: int) -> Tensor:
        """log(cumsum(exp(x))) along ``dim``, without overflow or underflow (one O(n) scan:
        :class:`Logcumsumexp`)."""
        _float_only("logcumsumexp", self)       # (torch's "logcumsumexp_out_cpu" for 'Long')
        if self.ndim == 0:
            _axes(dim, 0)
            return ops.torch_node(self.clone(), "LogcumsumexpBackward0")
        return Logcumsumexp.apply(self, self._dim(dim, "logcumsumexp"))

    def nansum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """The sum ignoring NaNs (gradient 0 at them)."""
        x = self._arith()
        if x.dtype.kind == "f":         # NaN zeroed before an integer dtype= cast, as torch's
            x = x.masked_fill(x.isnan(), 0.0)       # (NaN cast to int32 is -2**31)
        x = _with_dtype(x, dtype, "nansum")
        if x.dtype.kind != "f":                       # integers have no NaN: int64, as torch
            return x.sum(dim=dim, keepdim=keepdim, dtype=dtype)
        return x.sum(dim=dim, keepdim=keepdim)

    def nanmean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """The mean of the non-NaN elements (NaN where there are none) of a float tensor (an
        integer one refused even with ``dtype=``, as torch)."""
        _float_only("nanmean", self)
        x = _with_dtype(self._arith(), dtype)
        count = (~x.isnan()).to(x.dtype).sum(dim=dim, keepdim=keepdim)
        with np.errstate(invalid="ignore", divide="ignore"):
            return x.nansum(dim, keepdim) / count

    def count_nonzero(self, dim: Any = None) -> Tensor:
        """How many elements are not 0, over ``dim`` (an int or a tuple; all by default), int64."""
        axes = _axes(_torch_dims(dim), self.ndim)
        counts = self.device.xp.count_nonzero(self.array, axis=axes)
        return Tensor._make(self.device.xp.asarray(counts).astype(np.int64), self.device)

    def aminmax(self, *, dim: int | None = None, keepdim: bool = False) -> AMinMax:
        """``(min, max)`` over ``dim`` (all by default), a named pair as torch's."""
        dim = _int_of(dim)
        if dim is not None and not isinstance(dim, (int, np.integer)):
            raise InputTypeError(f"aminmax: dim must be an int or None, got {dim!r}")
        return AMinMax(self.amin(dim, keepdim), self.amax(dim, keepdim))

    def median(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """The lower median (element (n - 1) // 2 in sorted order; NaN if there is one), of all
        elements, or along ``dim`` as the named pair ``(values, indices)`` (int64 indices, as
        :meth:`max` gives them).  The gradient goes to the chosen element along ``dim``; of all
        elements it is shared by those equal to the median (torch's rule)."""
        if self.dtype == BOOL:      # torch's "median_cpu" not implemented for 'Bool'
            raise DTypeNotImplementedError("median: takes a number tensor, got a bool one (convert "
                                           "it with .float())")
        if dim is None:
            flat = self.reshape(-1)
            if flat.shape[0] == 0 and self.dtype.kind != "f":   # (no NaN to give)
                raise EmptyReductionError(f"median: an empty {self.dtype} tensor has no median (an "
                                          f"empty float one gives NaN)")
            if flat.shape[0] == 0:       # NaN, with torch's node (an empty gradient)
                return ops.EvenlyDistributed.apply(self, np.nan, "MedianBackward0")
            value = flat.array[int(_median_index(self.device.xp, flat.array, 0)[0])]
            return ops.EvenlyDistributed.apply(self, value, "MedianBackward0")   # ties share
        x = self.reshape(1) if self.ndim == 0 else self
        axis = x._dim(dim, "median") if self.ndim else (_axes(dim, 0), 0)[1]   # (checks a 0-d dim)
        if x.shape[axis] == 0:
            raise EmptyReductionError(f"median: dim {dim} of shape {self.shape} is empty (no median)")
        xp = self.device.xp
        index = _median_index(xp, x.array, axis)                    # keepdims form
        from .shape_index_ops import pick_along
        keep = keepdim and self.ndim > 0
        values = pick_along(x, axis, index, keep, "MedianBackward1")
        index = Tensor._make(index.astype(np.int64), self.device)
        return MinMax(values, index if keep else index.reshape(values.shape))


def _number(op: str, name: str, value: Any) -> float:
    from .functional import _scalar
    return _scalar(op, name, value)


def _legacy_value(name: str, value: Any, tensor1: Any, rest: tuple) -> tuple:
    """torch's deprecated ``addcmul(Number value, Tensor tensor1, Tensor tensor2)`` overload (and
    addcdiv's): still accepted by torch 2.x with a UserWarning; gives (tensor1, tensor2, value)."""
    if len(rest) != 1 or isinstance(value, (Tensor, bool, np.bool_)) or \
            not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputTypeError(f"{name}: takes (tensor1, tensor2, *, value=1) or the deprecated "
                             f"(value, tensor1, tensor2); got {2 + len(rest)} positional arguments "
                             f"starting with {type(value).__name__}")
    from .tensor import _warn_deprecated_overload     # (defined below tensor.py's import of this module)
    _warn_deprecated_overload(name, "Number value, Tensor tensor1, Tensor tensor2",
                              "Tensor tensor1, Tensor tensor2, *, Number value = 1")
    return tensor1, rest[0], value


def _check_tensors(name: str, *tensors: Any) -> None:
    for t in tensors:
        if not isinstance(t, Tensor):
            raise InputTypeError(f"{name}: tensor1 and tensor2 must be Tensors, got {type(t).__name__}")


_IN_PLACE = ("abs", "exp", "log", "sigmoid", "tanh", "relu", "neg", "pow", "sqrt", "rsqrt",
             "reciprocal", "round", "floor", "ceil", "sign", "log1p", "sin", "cos", "square",
             "addcmul", "addcdiv", "clamp_min", "clamp_max", "erf", "erfinv", "expm1", "log2",
             "log10", "sinh", "cosh", "tan", "asin", "acos", "atan", "atan2", "hypot", "xlogy",
             "logit", "frac", "fmod", "remainder", "nan_to_num", "trunc", "negative")


def install_methods(cls: type) -> None:
    """Put this module's methods and the in-place forms on ``cls`` (Tensor; tensor.py calls it)."""
    for name, value in vars(_TensorMath).items():
        if not name.startswith("__"):
            setattr(cls, name, value)
    for name in _IN_PLACE:
        setattr(cls, name + "_", _in_place_form(name))
    cls.clip_ = cls.clamp_
    from .special_ops import install_methods as install_special     # (it imports this module)
    install_special(cls)


# ---------------------------------------------------------------------------------------------
# Function forms with no method of the same name
# ---------------------------------------------------------------------------------------------
def _moments(name: str, input: Tensor, dim: Any, unbiased: Any, keepdim: bool,
             correction: Any, root: bool) -> tuple[Tensor, Tensor]:
    if not isinstance(input, Tensor):
        raise InputTypeError(f"tg.{name}: input must be a Tensor, got {type(input).__name__}")
    if isinstance(dim, bool):                       # torch.var_mean(x, False): the unbiased flag
        dim, unbiased = None, dim
    spread = input._spread(name, dim, unbiased, keepdim, correction, root)
    axes = _axes(_torch_dims(dim), input.ndim)
    return spread, input.mean(dim=axes, keepdim=keepdim)


class VarianceWithoutDof(Composed):
    """var where n - correction <= 0: the sum of squares over 0 (inf, or NaN where the values
    are all equal), with torch's gradient (var_backward): over all dims, inf (NaN where x is the
    mean) times g; over ``dim``, 2 / (n - correction) (inf at n == correction) times g (x - mean)."""

    @staticmethod
    def compute(xp, x, axes, keepdim, n, correction, whole):
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = x.mean(axis=axes, keepdims=True) if x.size else xp.full((1,) * x.ndim, xp.nan, x.dtype)
            return (((x - mean) ** 2).sum(axis=axes, keepdims=keepdim) / x.dtype.type(0)).astype(x.dtype)

    def gradients(self, g, x, axes, keepdim, n, correction, whole):
        if whole:
            return (g * x.new_full(x.shape, math.inf).masked_fill(x == x.mean(), math.nan),) + (None,) * 5
        if not keepdim:
            g = g.reshape(tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
        factor = math.inf if n == correction else 2.0 / (n - correction)
        return (g * factor * (x - x.mean(dim=axes, keepdim=True)),) + (None,) * 5


def var_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: float | None = None) -> tuple[Tensor, Tensor]:
    """``(input.var(...), input.mean(...))`` over the same dims (torch.var_mean)."""
    return _moments("var_mean", input, dim, unbiased, keepdim, correction, False)


def std_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: float | None = None) -> tuple[Tensor, Tensor]:
    """``(input.std(...), input.mean(...))`` over the same dims (torch.std_mean)."""
    return _moments("std_mean", input, dim, unbiased, keepdim, correction, True)


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a tensorgan Tensor (torch.is_tensor)."""
    return isinstance(obj, Tensor)


__all__ = ["Composed", "Pointwise", "AMinMax", "install_methods", "var_mean", "std_mean", "is_tensor"]
