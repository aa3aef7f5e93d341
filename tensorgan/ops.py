"""The elementary differentiable ops behind Tensor's operators and methods.

One class per op (Chainer/PyTorch style): ``forward`` computes on raw arrays with the device's
array module (``self.xp``: numpy or cupy) and saves what ``backward`` needs; ``backward`` returns one
gradient per positional argument. Binary ops broadcast like NumPy, so their backward sums the
gradient back to each input's shape (:func:`unbroadcast`).
"""
from __future__ import annotations

import copy
import operator
from typing import Any, Callable

import numpy as np

from . import scatter_kernels
from .broadcasting import broadcast_shape
from .float_sums import ACCURATE_MIN_SIZE, sum_float32
from .memory_formats import follow_operands, in_iterator_order, iterator_order, relayout
from .errors import EmptyReductionError, IndexDTypeError, IndexOutOfRangeError, InputTypeError, ShapeError
from .select_kernels import clamp, select, select_not, select_nonzero
from .tensor import ZERO_GRAD, Function, Tensor, is_grad_enabled


def unbroadcast(grad, shape: tuple):
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(i + extra for i, n in enumerate(shape)
                                       if n == 1 and grad.shape[i + extra] != 1)
    if not axes:
        return grad.reshape(shape)
    if grad.size >= ACCURATE_MIN_SIZE and grad.dtype == np.float32 and type(grad) is np.ndarray:
        return sum_float32(grad, axes, True).reshape(shape)   # a bias's gradient over many rows
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


def constant_times(g: Tensor, array) -> Tensor:
    """``g`` times a constant array (a mask or a local derivative that is piecewise constant):
    in graph mode, the gradient's own gradient flows through ``g`` only."""
    return Mul.apply(g, array.astype(g.dtype, copy=False))


class ZeroDerivative(Function):
    """``ZeroDerivative.apply(g, x)`` is ``g``, with an edge to ``x`` whose derivative is zero:
    what a piecewise-linear op's graph-mode backward returns (see :func:`with_zero_edge`)."""
    takes_half = True
    returns_view = True
    reads_inputs = False   # passes g on, reads neither value: a hook may write g in place (torch's)

    def forward(self, g, x):
        return g.view()

    def backward(self, g):
        return g, ZERO_GRAD

    grad_graph = backward

    def name(self) -> str:
        return "ZeroDerivativeBackward0"


class NotImplementedNode(Function):
    """``NotImplementedNode.apply(values, op, *inputs)``: ``values`` kept in the graph under
    torch's ``torch::autograd::NotImplemented`` node for an op torch has no derivative for
    (heaviside): the result requires grad, and backward through it raises, naming the op."""
    reads_inputs = False

    def forward(self, values, op, *inputs):
        self.op = op
        return values

    def backward(self, g):
        from .errors import AutogradNotSupportedError
        raise AutogradNotSupportedError(f"the derivative for '{self.op}' is not implemented (as "
                                        f"torch's): compute its result under no_grad() or from .detach()")

    grad_graph = backward

    def name(self) -> str:
        return "torch::autograd::NotImplemented"


def with_zero_edge(g: Tensor, x) -> Tensor:
    """``g`` -- the graph-mode gradient of an op's input ``x`` that depends on ``x`` only through
    a locally constant mask or sign (relu, leaky_relu, abs, max pooling) -- with the edge to
    ``x`` that torch's double backward has (``self: zeros_like(grad)``): ``g`` requires grad when
    ``x`` does, and a parameter behind ``x`` gets a zero gradient (not None) from a penalty on
    ``g``.  The edge carries the engine's ZERO_GRAD sentinel, never an array of zeros."""
    if isinstance(x, Tensor) and x._requires_grad and is_grad_enabled() and \
            isinstance(g, Tensor) and g.dtype == x.dtype:
        return ZeroDerivative.apply(g, x)
    return g


def saved_output(ctx: Function, y) -> Tensor:
    """``y``, the output array op ``ctx`` saved, as a tensor of the graph for ``grad_graph`` --
    torch's double backward of an op that saved only its result (exp, tanh, sigmoid, sqrt, relu,
    softmax) differentiates that result.  Its node is a twin of ``ctx`` (same inputs, versions
    and saved output), so the input's value is never read: it may have been written in place
    since the op ran (``reads_inputs`` False: the backward goes to its old node, as torch's).
    The output itself instead while it has hooks (``register_hook``, ``retain_grad``) and is
    unchanged: torch's hooks sit on the node, so they see what flows through the result too."""
    hooked = ctx.__dict__.get("hooked_output")
    out = None if hooked is None else hooked()
    if out is not None and out._ctx is ctx and out.array is y:
        return out
    out = Tensor._make(y, ctx.device, True)
    out._ctx = copy.copy(ctx)
    return out


def _shape(a):
    return a.shape if hasattr(a, "shape") else ()


def _broadcast_check(name: str, a, b) -> None:
    broadcast_shape("{name}: shapes {0} and {1} do not broadcast", _shape(a), _shape(b), name=name)


def _broadcasting(name: str, op: Callable, a, b, lead=None):
    """``op(a, b)``, with NumPy's ValueError for shapes that do not broadcast turned into a
    ShapeError naming them. The shapes are checked only once the op failed: checking first
    (np.broadcast_shapes, ~1.5 us) cost a quarter of a small ``x + y``.  The result is laid out
    as torch's (see :func:`in_iterator_order`: ``cl + c`` is channels_last, where NumPy gives C
    order) -- looked at only when ``lead``, torch's first operand (``a`` unless given), is
    not C-contiguous."""
    try:
        try:
            c_order = (a if lead is None else lead).flags.c_contiguous
        except AttributeError:     # a Python number first: (the other) b decides
            if b.flags.c_contiguous:
                out = op(a, b)
                return out if out.size else _empty_beside_number(out, b, a)
            c_order = False
        if c_order:
            out = op(a, b)
            return out if out.size else _empty_beside_number(out, a, b)
        return in_iterator_order(op, a, b, (a, b) if lead is None or lead is a else (lead, a, b))
    except ValueError:
        _broadcast_check(name, a, b)
        raise


def _empty_beside_number(out, a, b):
    """An empty ``a op b``: laid out as ``a`` where b is a number or 0-d, as torch's (an empty
    channels_last ``c + 1`` stays channels_last; NumPy gives every fresh empty array zero
    strides, and calls an empty operand C-contiguous whatever its strides)."""
    if getattr(b, "ndim", 0) or type(a) is not np.ndarray or a.shape != out.shape or not all(a.strides):
        return out          # (a zero stride: torch's iterator keeps C order)
    from .memory_formats import relayout
    return relayout(np, out, tuple(sorted(range(a.ndim), key=lambda d: -a.strides[d])))


class Add(Function):
    saves_nothing = True   # shapes / axes only: a second backward works (torch)
    number_edges = True     # x + 2: the 2 is an edge too, as torch's wrapped number
    reads_inputs = False   # the gradient is g (unbroadcast): no input value
    promotes_floats = True
    takes_int = True
    takes_bool = True   # bool + bool: logical or, as torch

    def forward(self, a, b):
        self.shapes = _shape(a), _shape(b)
        return _broadcasting("add", operator.add, a, b)

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(g, self.shapes[1])

    grad_graph = backward     # unbroadcast takes Tensors too (sum, reshape)


class NonzeroCount(Function):
    """The 0-norm (``count``, the nonzeros of x counted) as torch's node: LinalgVectorNormBackward0,
    whose gradient is undefined -- backward leaves x's ``.grad`` None, as torch's (not zeros)."""
    saves_nothing = True
    reads_inputs = False

    def forward(self, x, count):
        return count

    def name(self) -> str:
        return "LinalgVectorNormBackward0"

    def backward(self, g):
        return None, None

    grad_graph = backward


class Where(Function):
    """``where(cond, a, b)``: a where the (constant, bool) condition holds, else b -- broadcast
    together; the gradient goes to whichever side was taken."""
    takes_half = True     # exact on float16
    promotes_floats = True
    takes_int = True
    takes_bool = True   # masked_fill / tril of a mask stays a mask, as torch
    reads_inputs = False   # backward reads only the condition (saved), as torch's node: a side
    # written in place (an optimizer step) after the op leaves a retained graph's backward valid
    c_order_result = False   # masked_fill's: C order whatever the operands' layouts

    def forward(self, a, b, cond):     # cond last: Function.apply takes device and dtype from
        self.shapes, self.cond = (_shape(a), _shape(b)), cond   # the first Tensor argument, and
        if not hasattr(a, "dtype"):       # cond is a bool mask. A number takes the array's dtype
            a = b.dtype.type(a)           # (where(c, x, 0.0) on an integer x stays integer)
        elif not hasattr(b, "dtype"):
            b = a.dtype.type(b)
        try:      # (shapes checked only once where failed: np.broadcast_shapes costs ~3 us)
            out = self.xp.where(cond, a, b)
        except ValueError:
            broadcast_shape("where: shapes {2} (condition), {0} and {1} do not broadcast",
                            *self.shapes, cond.shape)
            raise
        if self.c_order_result:      # (a flag, not an override: no extra call per masked_fill)
            return out if out.flags.c_contiguous else self.xp.ascontiguousarray(out)
        if cond.flags.c_contiguous or out.ndim < 2 or not out.flags.c_contiguous:
            return out
        return follow_operands(out, (cond, a, b))     # torch's first operand: the condition

    def backward(self, g):     # selects (Numba's on the CPU: NumPy's where branches per element)
        xp = self.xp
        ga = unbroadcast(select(xp, g, self.cond), self.shapes[0]) if self.needs_input_grad[0] else None
        gb = unbroadcast(select_not(xp, g, self.cond), self.shapes[1]) if self.needs_input_grad[1] else None
        return ga, gb, None

    def grad_graph(self, g):
        need = self.needs_input_grad
        ga = unbroadcast(Where.apply(g, 0.0, self.cond), self.shapes[0]) if need[0] else None
        gb = unbroadcast(Where.apply(0.0, g, self.cond), self.shapes[1]) if need[1] else None
        return ga, gb, None


def torch_named(base: type, torch_name: str) -> type:
    """Op ``base`` under torch's grad_fn name for a composite op whose last step it is
    (scatter_add's add: ScatterAddBackward0); values and gradients are ``base``'s.  One class
    per (base, name), made on first use."""
    key = (base, torch_name)
    named = _TORCH_NAMED.get(key)
    if named is None:
        named = _TORCH_NAMED[key] = _named_subclass(base, torch_name)
    return named


_TORCH_NAMED: dict = {}


def torch_node(t: Any, torch_name: str) -> Any:
    """``t``, its grad_fn -- the fresh last step of a composite op (a loss's mean, where, ...) --
    re-classed as that step under torch's name for the whole op (huber_loss's
    HuberLossBackward0): no extra work, values and gradients unchanged."""
    node = getattr(t, "_ctx", None)
    if node is not None and node.name() != torch_name and not _tracked_view_step(node):
        node.__class__ = torch_named(type(node), torch_name)
    return t


def _tracked_view_step(node: Any) -> bool:
    """Whether view tracking reads ``node``'s class (a reshape, a basic index: it keeps its
    own); an advanced index (gather's, index_select's) is a copy, free to rename."""
    kind = type(node)
    return kind in VIEW_STEP_OPS and (kind is not GetItem or _is_basic_index(node.inputs[1]))


def _named_subclass(base: type, torch_name: str) -> type:
    return type(torch_name.split("Backward")[0], (base,),
                {"name": lambda self: torch_name, "__module__": __name__,
                 "__doc__": f"{base.__name__}, named {torch_name} as torch's grad_fn."})


class ZeroGrad(Function):
    """``values`` (an array computed from x's) with gradient 0 for x: the node of torch's
    piecewise-constant ops (sign, round, floor, ...), one edge, nothing saved -- named per op
    through :func:`torch_named` (SignBackward0, ...)."""
    takes_half = True
    saves_nothing = True   # the gradient is zeros of g's shape: a second backward works (torch)
    reads_inputs = False

    def forward(self, x, values):
        return values

    def backward(self, g):
        return self.xp.zeros_like(g), None

    def grad_graph(self, g):     # a constant (torch's zeros_like(grad)): no graph beyond
        return Tensor._make(self.xp.zeros_like(g.array), g.device), None


class UnitGrad(ZeroGrad):
    """``values`` with gradient 1 for x (torch's frac: x - trunc(x), one FracBackward0 node)."""

    def backward(self, g):
        return g, None

    def grad_graph(self, g):
        return g, None


def cast_in(base: type, dtype: Any) -> type:
    """Reduction ``base`` (Sum, Mean, Prod, Cumsum, ...) taking its float input cast to the
    float ``dtype`` (``x.sum(dtype=tg.float64)``) inside its own node, as torch's: one node
    straight on x, whose backward casts the gradient back to x's dtype.  One class per
    (base, dtype), with base's name."""
    key = (base, np.dtype(dtype))
    cast = _CAST_IN.get(key)
    if cast is None:
        cast = _CAST_IN[key] = type(base.__name__, (_CastIn, base), {
            "target": key[1], "__module__": __name__, "__doc__": f"{base.__name__} of x cast to {key[1]}."})
    return cast


_CAST_IN: dict = {}
_CAST_IN_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def casts_in(x: Tensor, dtype: Any) -> bool:
    """Whether a reduction of ``x`` in ``dtype`` takes the cast in its own node (cast_in):
    float32 <-> float64 (half widths and integers keep a separate cast)."""
    return x.array.dtype != dtype and x.array.dtype in _CAST_IN_DTYPES and dtype in _CAST_IN_DTYPES


class _CastIn:
    """(cast_in's mixin: before the reduction in the MRO, so ``super()`` is the reduction)"""
    target: Any

    def forward(self, x, *args):
        self.in_dtype = x.dtype
        return super().forward(x.astype(self.target), *args)

    def backward(self, g):
        gx, *rest = super().backward(g)
        return (None if gx is None else gx.astype(self.in_dtype, copy=False), *rest)

    def grad_graph(self, g):
        gx, *rest = super().grad_graph(g)
        return (None if gx is None else gx.to(self.in_dtype), *rest)

    def gradients(self, g, x, *args):     # Composed reductions (prod, cumprod): x read in dtype
        return super().gradients(g, x.to(self.target), *args)


class _MaskedFill(Where):
    """masked_fill's where: C order whatever the operands' layouts, as torch's (which fills a
    ``clone(memory_format=contiguous_format)`` of x)."""
    c_order_result = True


MASKED_FILL = (torch_named(_MaskedFill, "MaskedFillBackward0"), torch_named(_MaskedFill, "MaskedFillBackward1"))
INDEX_FILL = (torch_named(Where, "IndexFillBackward0"), torch_named(Where, "IndexFillBackward1"))


class Rsub(Function):
    """``2 - x``: ``other - x`` as one node, torch's RsubBackward1 -- its one edge is x's (the
    number is none), so a node hook sees x's gradient, ``-g`` (IEEE's ``c - x`` is ``-x + c``
    exactly, signed zeros included)."""
    saves_nothing = True   # shapes / axes only: a second backward works (torch)
    reads_inputs = False   # the gradient is -g (unbroadcast): no input value
    promotes_floats = True
    takes_int = True

    def forward(self, a, c):
        self.shapes = _shape(a), _shape(c)
        return _broadcasting("sub", operator.sub, c, a)   # torch's sub(other, x): a number
        # other takes no part in the layout (x's decides), a tensor other leads (x.__rsub__(cl))

    def backward(self, g):
        return unbroadcast(-g, self.shapes[0]), unbroadcast(g, self.shapes[1])

    grad_graph = backward     # the same Tensor ops


class Sub(Function):
    saves_nothing = True   # shapes / axes only: a second backward works (torch)
    number_edges = True     # x - 2: the 2 is an edge too, as torch's wrapped number
    reads_inputs = False   # the gradient is g (unbroadcast): no input value
    promotes_floats = True
    takes_int = True

    def forward(self, a, b):
        self.shapes = _shape(a), _shape(b)
        return _broadcasting("sub", operator.sub, a, b)

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(-g, self.shapes[1])

    grad_graph = backward     # the same Tensor ops


class Mul(Function):
    number_edges = True     # x * 2: the 2 is an edge too, as torch's wrapped number
    promotes_floats = True
    takes_int = True
    takes_bool = True   # bool * bool: logical and, as torch

    def forward(self, a, b):
        self.a, self.b = a, b
        return _broadcasting("mul", operator.mul, a, b)

    def reads_input(self, i: int) -> bool:
        return self.needs_input_grad[1 - i]    # a's value makes b's gradient, b's a's (torch)

    def backward(self, g):
        a, b = self.a, self.b
        ga = unbroadcast(g * b, _shape(a)) if self.needs_input_grad[0] else None
        gb = unbroadcast(g * a, _shape(b)) if self.needs_input_grad[1] else None
        return ga, gb

    def grad_graph(self, g):
        a, b = self.inputs
        ga = unbroadcast(g * b, _shape(a)) if self.needs_input_grad[0] else None
        gb = unbroadcast(g * a, _shape(b)) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    number_edges = True     # x / 2: the 2 is an edge too, as torch's wrapped number
    promotes_floats = True
    def forward(self, a, b):
        self.a, self.b = a, b
        return _broadcasting("div", operator.truediv, a, b)

    def reads_input(self, i: int) -> bool:
        return i == 1 or self.needs_input_grad[1]   # b's gradient reads a; a's reads b

    def backward(self, g):
        a, b = self.a, self.b
        g_over_b = g / b
        ga = unbroadcast(g_over_b, _shape(a)) if self.needs_input_grad[0] else None
        # -(g / b) * (a / b), not -g * a / (b * b): b * b overflows or underflows long before
        # the gradient does (a = b = 1e30 in float32 would give 0)
        gb = unbroadcast(-g_over_b * (a / b), _shape(b)) if self.needs_input_grad[1] else None
        return ga, gb

    def grad_graph(self, g):
        a, b = self.inputs
        g_over_b = g / b
        ga = unbroadcast(g_over_b, _shape(a)) if self.needs_input_grad[0] else None
        gb = unbroadcast(-g_over_b * (a / b), _shape(b)) if self.needs_input_grad[1] else None
        return ga, gb


class Overwrite(Function):
    """``old`` overwritten by ``value`` (broadcast, cast): ``fill_`` / ``copy_`` / ``normal_`` on a
    tensor autograd tracks.  Nothing of ``old`` survives, so its gradient is 0; a ``value`` that
    requires grad gets the (unbroadcast) gradient."""
    takes_half = True     # exact on float16
    takes_int = True
    reads_inputs = False   # shapes only: ``value`` may be written in place before backward

    def forward(self, old, value):
        self.shapes = old.shape, _shape(value)
        return self.xp.broadcast_to(self.xp.asarray(value, dtype=old.dtype), old.shape).copy()

    def backward(self, g):
        need = self.needs_input_grad
        return (self.xp.zeros_like(g) if need[0] else None,
                unbroadcast(g, self.shapes[1]) if need[1] else None)

    def grad_graph(self, g):
        need = self.needs_input_grad
        return g * 0.0 if need[0] else None, unbroadcast(g, self.shapes[1]) if need[1] else None


class FillWithTensor(Overwrite):
    """``fill_(value)`` with a 0-d tensor ``value`` on a tensor autograd tracks (torch's
    FillBackward3): Overwrite's gradients, value's the sum of g."""


class Neg(Function):
    saves_nothing = True   # shapes / axes only: a second backward works (torch)
    reads_inputs = False   # the gradient is -g
    takes_half = True     # exact on float16
    takes_int = True

    def forward(self, x):
        return -x

    def backward(self, g):
        return (-g,)

    grad_graph = backward


class Pow(Function):
    """x ** p for a scalar p."""

    def forward(self, x, p):
        self.x, self.p = x, p
        return x ** p

    def backward(self, g):
        x, p = self.x, self.p
        if p == 0:                     # d/dx x**0 = 0 everywhere (p * x**-1 is 0 * inf at x = 0)
            return g * 0, None
        return g * (p * x ** (p - 1)), None

    def grad_graph(self, g):
        x, p = self.inputs
        return (g * 0.0 if p == 0 else g * (p * x ** (p - 1))), None


class PowTensor(Function):
    """x ** y with a tensor exponent, broadcast together.

    d/dx = y x**(y-1), d/dy = x**y log x. As in torch, where x == 0 and y >= 0 the exponent's
    gradient is 0 (0**y does not change with y there; log 0 = -inf would make it NaN), and where
    y == 0 the base's gradient is 0 (0 * x**-1 would be NaN at x = 0)."""
    promotes_floats = True

    def forward(self, x, y):
        self.x, self.y = x, y
        self.out = _broadcasting("pow", operator.pow, x, y)
        return self.out

    def backward(self, g):
        x, y, xp = self.x, self.y, self.xp
        gx = gy = None
        if self.needs_input_grad[0]:
            gx = unbroadcast(xp.where(y == 0, 0, g * y * x ** (y - 1)), _shape(x))
        if self.needs_input_grad[1]:
            gy = unbroadcast(xp.where((x == 0) & (y >= 0), 0, g * self.out * xp.log(x)), _shape(y))
        return gx, gy

    def grad_graph(self, g):
        x, y = self.inputs
        xa, ya = self.x, self.y
        gx = gy = None
        if self.needs_input_grad[0]:
            gx = unbroadcast(Where.apply(0.0, g * y * PowTensor.apply(x, y - 1), ya == 0), _shape(xa))
        if self.needs_input_grad[1]:
            safe_x = Where.apply(1.0, x, xa == 0)         # log 1 = 0 where the gradient is masked
            gy = unbroadcast(Where.apply(0.0, g * PowTensor.apply(x, y) * Log.apply(safe_x),
                                         (xa == 0) & (ya >= 0)), _shape(ya))
        return gx, gy


class PowScalarBase(PowTensor):
    """``number ** x``: PowTensor with a constant base, torch's PowBackward2 node -- C order
    whatever x's layout, as torch's pow(Scalar, Tensor) (a fresh result, not the iterator's)."""

    def forward(self, x, y):
        out = PowTensor.forward(self, x, y)
        if not out.flags.c_contiguous:      # (x a channels_last / transposed tensor only)
            self.out = out = self.xp.ascontiguousarray(out)
        return out


class MatMul(Function):
    """a @ b, 2-D or batched (leading dims broadcast); 1-D operands as in NumPy."""
    takes_int = True    # integer @ integer is exact (int64, as torch on the CPU)
    same_dtype = True   # an integer operand beside a float one: torch's dtype error

    def name(self) -> str:   # torch's node for the operands' ranks (MmBackward0 once backward freed them)
        ranks = tuple(t.ndim for t in self.__dict__.get("inputs", ())[:2])
        return _MATMUL_NAMES.get(ranks, "UnsafeViewBackward0" if ranks else "MmBackward0")

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0 or a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not align")
        self.a, self.b = a, b
        # (each BLAS call's multiply-adds are at most a.size * b's columns)
        with self.device.blas_scope_for(a.size * (b.shape[-1] if b.ndim > 1 else 1)):
            try:
                return a @ b
            except ValueError:      # the leading (batch) dims do not broadcast
                raise ShapeError(f"matmul: the batch dims of {a.shape} and {b.shape} do not "
                                 f"broadcast") from None

    def backward(self, g):
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a  # promote vectors to matrices, as matmul does
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if b.ndim == 1:
            g2 = g2[..., None]
        if a.ndim == 1:
            g2 = g2[..., None, :]
        ga = gb = None
        with self.device.blas_scope_for(g2.size * a2.shape[-1]):   # (per BLAS call, at most)
            if self.needs_input_grad[0]:
                ga = unbroadcast(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
            if self.needs_input_grad[1]:
                gb = unbroadcast(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
        return ga, gb

    def grad_graph(self, g):
        a, b = (t if isinstance(t, Tensor) else Tensor._make(t, self.device) for t in self.inputs)
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        g2 = g.reshape(*g.shape, 1) if b.ndim == 1 else g
        if a.ndim == 1:
            g2 = g2.reshape(*g2.shape[:-1], 1, g2.shape[-1])
        ga = unbroadcast(g2 @ b2.transpose(-1, -2), a2.shape).reshape(a.shape) \
            if self.needs_input_grad[0] else None
        gb = unbroadcast(a2.transpose(-1, -2) @ g2, b2.shape).reshape(b.shape) \
            if self.needs_input_grad[1] else None
        return ga, gb


_MATMUL_NAMES = {(2, 2): "MmBackward0", (1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4"}


class Bmm(MatMul):
    """torch.bmm: MatMul as torch's BmmBackward0 node."""
    name = Function.name


class Sum(Function):
    saves_nothing = True   # shapes / axes only: a second backward works (torch)
    reads_inputs = False   # the gradient is g broadcast back: shapes only
    takes_int = True

    def forward(self, x, axis, keepdims):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        if x.size >= ACCURATE_MIN_SIZE and axis and x.dtype == np.float32 and type(x) is np.ndarray:
            return sum_float32(x, axis, keepdims)       # long outer axes in blocks (float_sums)
        if not x.flags.c_contiguous:     # torch's reductions: C order (NumPy's keeps x's), with
            return x.sum(axis=axis, keepdims=keepdims).copy()    # torch's strides on size-1 dims
        return x.sum(axis=axis, keepdims=keepdims)

    def backward(self, g):
        if not self.keepdims and self.axis is not None:
            g = self.xp.expand_dims(g, self.axis)
        return self.xp.broadcast_to(g, self.shape), None, None

    def grad_graph(self, g):
        if not self.keepdims and self.axis is not None:
            axes = sorted(a % len(self.shape) for a in
                          (self.axis if isinstance(self.axis, tuple) else (self.axis,)))
            kept = list(g.shape)
            for a in axes:
                kept.insert(a, 1)
            g = g.reshape(tuple(kept))
        return Expand.apply(g, self.shape), None, None


    def name(self) -> str:   # torch: sum() / mean() of all SumBackward0, over dims SumBackward1
        return f"{type(self).__name__}Backward{0 if self.__dict__.get('axis') is None else 1}"


class Mean(Sum):
    takes_int = False   # the mean of integers is a float (float32)

    def forward(self, x, axis, keepdims):
        out = super().forward(x, axis, keepdims)
        self.count = x.size // max(out.size, 1) if x.size else 0
        if not self.count:  # the mean of nothing is NaN (NumPy and torch), without NumPy's warning
            return self.xp.full_like(out, float("nan"))
        return out / x.dtype.type(self.count)

    def backward(self, g):
        return super().backward(g / g.dtype.type(max(self.count, 1)))[0], None, None

    def grad_graph(self, g):
        # torch's order, expand then divide: the gradient is a new (contiguous) tensor, not an
        # expanded view (autograd.grad(x.mean(), x, create_graph=True)[0].view(-1) works there)
        return super().grad_graph(g)[0] / float(max(self.count, 1)), None, None


class Amax(Function):
    """Largest element over ``axis``; the gradient is shared evenly by the elements that tie
    for it (PyTorch's amax/amin rule).  :class:`Amin` is the same with the smallest."""
    takes_half = True     # exact on float16
    takes_int = True
    takes_bool = True   # any / all of a mask, as torch's amax / amin of bool
    reduce = "max"

    def forward(self, x, axis, keepdims):
        if x.size == 0 and (axis is None or any(x.shape[a] == 0 for a in axis)):
            raise EmptyReductionError(f"{self.reduce}/a{self.reduce} over an empty dim (shape {x.shape}): "
                             f"it has no {'largest' if self.reduce == 'max' else 'smallest'} element")
        self.x, self.axis, self.keepdims = x, axis, keepdims
        self.out = getattr(x, self.reduce)(axis=axis, keepdims=True)
        if not x.flags.c_contiguous:
            self.out = self.out.copy()       # C order, as torch's reductions (see Sum)
        return self.out if keepdims else (self.out.reshape(()) if axis is None else
                                          self.out.squeeze(axis))

    def backward(self, g):
        if not self.keepdims:
            g = g.reshape(self.out.shape)
        ties = (self.x == self.out)
        count = ties.sum(axis=self.axis, keepdims=True, dtype=g.dtype)   # not int: keep g's dtype
        return ties * (g / count), None, None

    def grad_graph(self, g):
        ties = (self.x == self.out)
        count = ties.sum(axis=self.axis, keepdims=True, dtype=g.dtype)
        return constant_times(g.reshape(self.out.shape), ties / count), None, None



class Amin(Amax):
    """Smallest element over ``axis`` (not -amax(-x): unsigned integers and bools have no
    negation, and -(-2**63) overflows)."""
    reduce = "min"


class Max(Amax):
    """``x.max()`` (and ``x.max(dim)`` of a 0-d tensor): Amax under torch's node name
    (MaxBackward1), its gradient torch's ``evenly_distribute_backward``: shared by the elements
    equal to the result -- by the NaNs when the result is NaN (Amax's is NaN everywhere then)."""

    def name(self) -> str:
        return f"{self.reduce.capitalize()}Backward{1 if self.__dict__.get('axis') is None else 0}"

    def _ties(self):
        out = self.out
        if out.dtype.kind in "fc" and self.axis is None and self.xp.isnan(out).any():
            return self.xp.isnan(self.x)
        return self.x == out

    def backward(self, g):
        if not self.keepdims:
            g = g.reshape(self.out.shape)
        ties = self._ties()   # a select, as torch's: a NaN gradient reaches the ties only
        return select(self.xp, g / ties.sum(axis=self.axis, keepdims=True, dtype=g.dtype), ties), None, None

    def grad_graph(self, g):
        ties = self._ties()
        count = ties.sum(axis=self.axis, keepdims=True, dtype=g.dtype)
        return constant_times(g.reshape(self.out.shape), ties / count), None, None


class Min(Amin):
    name = Max.name
    _ties, backward, grad_graph = Max._ties, Max.backward, Max.grad_graph


class _OfScalar:
    """The backward of ``x.max(dim)`` / ``x.min(dim)`` of a 0-d tensor: the one element takes the
    gradient (NaN or not), so x's value is not read -- x may be written in place before backward,
    as torch's node (which saves the index and the shape) allows."""
    reads_inputs = False

    def backward(self, g):
        return g.reshape(()).copy(), None, None

    def grad_graph(self, g):
        return g.reshape(()), None, None


class MaxOfScalar(_OfScalar, Max):
    """``x.max(dim)`` of a 0-d tensor: Max under torch's node name for a dim reduction,
    MaxBackward0 -- kept after backward frees the node."""

    def name(self) -> str:
        return "MaxBackward0"


class MinOfScalar(_OfScalar, Min):
    """``x.min(dim)`` of a 0-d tensor (see MaxOfScalar)."""

    def name(self) -> str:
        return "MinBackward0"


class EvenlyDistributed(Max):
    """An all-element order statistic (``median()`` / ``nanmedian()``) whose value was picked
    already: ``value`` passes through, the gradient is shared evenly by the elements equal to it
    (torch's ``evenly_distribute_backward``; NaNs share it when the value is NaN)."""
    takes_bool = False

    def forward(self, x, value, node):
        self.x, self.axis, self.keepdims, self.node = x, None, False, node
        self.out = self.xp.asarray(value, dtype=x.dtype).reshape((1,) * x.ndim)
        return self.out.reshape(())

    def backward(self, g):
        return Max.backward(self, g)[0], None, None

    def grad_graph(self, g):
        return Max.grad_graph(self, g)[0], None, None

    def name(self) -> str:
        return self.node

    def release(self) -> None:      # the node's name outlives backward (repr(t) after backward)
        node = self.node
        Function.release(self)
        self.node = node


class MaxDim(Function):
    """``x.max(dim)`` / ``x.min(dim)``: the values at the indices ``index`` (argmax / argmin along
    ``axis``, keepdims form) picks; the gradient goes to those indices alone -- on ties the
    returned index takes all of it (torch's value_selecting_reduction_backward; amax / amin and
    ``max()`` share it instead)."""
    takes_half = True
    takes_int = True
    takes_bool = True
    reads_inputs = False   # the shape and the indices only (torch saves those, not x's values)

    def forward(self, x, axis, keepdims, index, node):
        self.shape, self.axis, self.keepdims, self.index, self.node = x.shape, axis, keepdims, index, node
        out = self.xp.take_along_axis(x, index, axis)
        return out if keepdims else out.squeeze(axis)

    def name(self) -> str:
        return self.node

    release = EvenlyDistributed.release

    def _mask(self):
        n = self.shape[self.axis]
        along = self.xp.arange(n).reshape((n,) + (1,) * (len(self.shape) - self.axis - 1))
        return along == self.index

    def backward(self, g):
        if not self.keepdims:
            g = self.xp.expand_dims(g, self.axis)
        return self.xp.where(self._mask(), g, g.dtype.type(0)), None, None, None, None

    def grad_graph(self, g):
        if not self.keepdims:
            g = g.unsqueeze(self.axis)
        return constant_times(g, self._mask()), None, None, None, None

class Reshape(Function):
    saves_nothing = True   # shapes / axes only: a second backward works (torch)
    reads_inputs = False   # shapes only
    takes_half = True     # exact on float16
    takes_bool = True   # masks reshape, index and concatenate like floats (no gradient)
    takes_int = True
    returns_view = True

    def forward(self, x, shape):
        self.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ShapeError(f"reshape: cannot reshape {x.shape} ({x.size} elements) into {shape}") from None
        except TypeError:       # view('float32'), reshape(2.0, 4): not ints (NumPy's bare TypeError)
            raise InputTypeError(f"reshape / view: the sizes must be ints (or view's one dtype), "
                                 f"got {shape!r}") from None

    def backward(self, g):
        return g.reshape(self.in_shape), None

    grad_graph = backward


class Unsqueeze(Reshape):
    """unsqueeze(dim): Reshape as torch's UnsqueezeBackward0 node (squeeze: Squeeze / SqueezeAll /
    SqueezeDims, for squeeze(dim) / squeeze() / squeeze(dims))."""


class Squeeze(Reshape):
    pass


class SqueezeAll(Reshape):
    pass


class SqueezeDims(Reshape):
    pass


class Permute(Function):
    saves_nothing = True   # shapes / axes only: a second backward works (torch)
    reads_inputs = False   # the axes only
    takes_half = True     # exact on float16
    takes_bool = True   # masks reshape, index and concatenate like floats (no gradient)
    takes_int = True
    returns_view = True

    def forward(self, x, dims):
        self.dims = dims
        if x.size or any(x.strides):
            return x.transpose(dims)
        return _empty_with_steps(x).transpose(dims)     # (torch's strides, permuted)

    def backward(self, g):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return g.transpose(inverse), None

    def grad_graph(self, g):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return Permute.apply(g, tuple(inverse)), None


def _check_bounds_on_host(shape: tuple, key) -> None:
    """CuPy wraps out-of-range integer-array indices around (a documented difference from NumPy):
    index a zero-stride host view of the same shape with the same key, so NumPy raises instead."""
    keys = key if isinstance(key, tuple) else (key,)
    host = tuple(k.get() if hasattr(k, "__cuda_array_interface__") and not isinstance(k, np.ndarray)
                 else k for k in keys)
    np.broadcast_to(np.empty((), dtype=bool), shape)[host if isinstance(key, tuple) else host[0]]


def _empty_with_steps(x):
    """An empty array NumPy gave zero strides, as a view with torch's row-major ones (so a
    permute of it reports torch's strides: ``zeros(0, 4).t().stride()`` is (1, 4))."""
    if type(x) is not np.ndarray:
        return x
    steps, step = [], x.itemsize
    for n in reversed(x.shape):          # torch's: an empty dim counts as 1
        steps.insert(0, step)
        step *= max(n, 1)
    return np.ndarray(x.shape, x.dtype, buffer=x, strides=steps)   # (.base is x: still a view)


class Transpose(Permute):
    """transpose(dim0, dim1): Permute as torch's TransposeBackward0 node (MatrixT: t()'s TBackward0)."""


class MatrixT(Permute):
    pass


class GetItem(Function):
    saves_nothing = True   # shapes / axes only: a second backward works (torch)
    reads_inputs = False   # the index and shape only
    takes_half = True     # exact on float16
    takes_bool = True   # masks reshape, index and concatenate like floats (no gradient)
    takes_int = True
    returns_view = True

    def name(self) -> str:
        """torch's node for the index's last step: an int SelectBackward0, a slice that is not the
        whole dim SliceBackward0, None UnsqueezeBackward0, an index tensor / list / mask
        IndexBackward0 (SliceBackward0 once backward freed the key)."""
        if "key" not in self.__dict__:
            return "SliceBackward0"
        key, shape = self.key if isinstance(self.key, tuple) else (self.key,), self.shape
        last, dim = "SliceBackward0", 0
        for k in key:
            if k is None:
                last = "UnsqueezeBackward0"
            elif k is Ellipsis:
                dim = len(shape) - sum(1 for j in key[key.index(Ellipsis) + 1:] if j is not None)
            elif isinstance(k, slice):
                if k.indices(shape[dim]) != (0, shape[dim], 1):
                    last = "FlipBackward0" if (k.step or 1) < 0 else "SliceBackward0"
                dim += 1
            elif isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)):
                last, dim = "SelectBackward0", dim + 1
            else:
                return "IndexBackward0"
        return last

    def forward(self, x, key):
        self.shape, self.key = x.shape, key
        try:
            if self.xp is not np and not _is_basic_index(key):
                _check_bounds_on_host(x.shape, key)
            out = x[key]
            if isinstance(out, np.generic):   # one element: NumPy copies it out as a scalar;
                out = x[(*key, Ellipsis) if isinstance(key, tuple) else (key, Ellipsis)]  # a 0-d view
            return out
        except IndexError as exc:
            if "integer" in str(exc):        # e.g. a float as an index: a type problem (torch's
                raise IndexDTypeError(           # IndexError for x[1.0], TypeError for x['a'])
                    f"index {key!r:.60} into a tensor of shape {x.shape}: {exc}") from None
            if x.ndim == 0:                  # torch's hint: old code's loss.data[0] wants .item()
                raise IndexOutOfRangeError(f"invalid index of a 0-dim tensor (index {key!r:.60}). "
                                           "Use `tensor.item()` to convert a 0-dim tensor to a "
                                           "Python number") from None
            raise IndexOutOfRangeError(f"index {key!r} into a tensor of shape {x.shape}: {exc}") from None

    def backward(self, g):
        return SparseGrad(g, self.shape, self.key), None

    def grad_graph(self, g):
        return ScatterIntoZeros.apply(g, self.shape, self.key), None


class MaxPick(GetItem):
    """``x[key]`` where the key picks each pooling window's maximum (a choice made from x's
    values): in graph mode the gradient keeps the zero-derivative edge to x that torch's max
    pooling double backward has (:func:`with_zero_edge`)."""
    reads_inputs = True    # (backward reads its input, unlike GetItem)

    def grad_graph(self, g):
        return with_zero_edge(super().grad_graph(g)[0], self.inputs[0]), None


class WindowPick(MaxPick):
    """``x[key]`` where the key gathers average pooling's windows or reflect / replicate
    padding's sources: linear in x, but torch's avg_pool / adaptive_avg_pool /
    reflection_pad / replication_pad double backward keeps an edge to the input
    (``self: zeros_like(self)``), so a penalty on the input gradient gives the parameters
    behind that input a zero gradient, not None (as :class:`MaxPick`)."""


def _gather_trailing(x, key):
    """``x[key]`` for an ``(Ellipsis, *np.ix_(...))`` key (one index array per trailing dim), as
    a C-contiguous array: one ``take`` per dim -- NumPy's ``x[key]`` puts the indexed dims
    outermost in memory (a channels-last-like layout the next convolution copies back), and
    is slower."""
    first = x.ndim - (len(key) - 1)
    for i, k in enumerate(key[1:]):
        x = x.take(k.reshape(-1), axis=first + i)
    return x


class PadPick(WindowPick):
    """reflect / replicate padding's gather (``x[key]``, :class:`WindowPick`'s gradients): a
    C-contiguous input gives a C-contiguous output, as torch's (a channels_last one keeps
    NumPy's indexing layout)."""

    def forward(self, x, key):
        if not x.flags.c_contiguous:
            return super().forward(x, key)
        self.shape, self.key = x.shape, key
        return _gather_trailing(x, key)


class CircularPick(GetItem):
    """circular padding's gather (``x[key]``, :class:`GetItem`'s gradients), C-contiguous
    whatever the input's layout, as torch's."""

    def forward(self, x, key):
        self.shape, self.key = x.shape, key
        return _gather_trailing(x, key)


class SparseGrad:
    """Indexing's gradient, not yet written out: ``g`` at ``key`` of zeros of ``shape``.  The
    backward walk adds it into the gradient it is summing (``add_into``) instead of making a
    full array per index, so the n slices of ``unbind`` / ``split`` / an RNN's time loop cost
    O(n) backward, not O(n^2)."""
    __slots__ = ("g", "shape", "key", "dtype")

    def __init__(self, g, shape: tuple, key) -> None:
        self.g, self.shape, self.key, self.dtype = g, shape, key, g.dtype

    def add_into(self, xp, total):
        """``total`` (an array of ``shape`` nobody else holds) plus this gradient, in place."""
        if _is_basic_index(self.key):
            total[self.key] += self.g  # basic indices select each element at most once
        elif not scatter_kernels.add_at(total, self.key, self.g):
            xp.add.at(total, self.key, self.g)  # an index that repeats gets every contribution
        return total


def scatter_into_zeros(xp, g, shape: tuple, key):
    """Zeros of ``shape`` with ``g`` put at ``x[key]``: indexing's gradient, written out."""
    return SparseGrad(g, shape, key).add_into(xp, xp.zeros(shape, dtype=g.dtype))


class ScatterIntoZeros(Function):
    """Indexing's backward as an op (graph mode); its own gradient is the same indexing."""
    takes_half = True     # exact on float16
    takes_int = True
    takes_bool = True   # F.pad / diag_embed of a mask, as torch

    def forward(self, g, shape, key):
        self.key = key
        return scatter_into_zeros(self.xp, g, shape, key)

    def backward(self, gg):
        return gg[self.key], None, None

    def grad_graph(self, gg):
        return GetItem.apply(gg, self.key), None, None


class PadIntoZeros(ScatterIntoZeros):
    """F.pad's zero fill: ScatterIntoZeros whose graph-mode gradient is a contiguous copy of the
    slice, as torch's (constant_pad_nd's backward pads by the negated amounts into a new tensor),
    so ``autograd.grad(D(x).sum(), x, create_graph=True)[0].view(n, -1)`` works as in torch when
    the first op on ``x`` pads (ZeroPad2d, a dilated or ``padding='same'`` conv, F.unfold)."""

    def forward(self, g, shape, key):      # key: F.pad's slices (basic), each element once --
        self.key = key                     # written, not added: -0.0 stays -0.0, as torch's
        out = self.xp.zeros(shape, dtype=g.dtype)
        out[key] = g
        return out

    def grad_graph(self, gg):
        return GetItem.apply(gg, self.key).contiguous(), None, None


class SetItem(Function):
    """``x[key] = value`` on a tensor autograd tracks (torch's CopySlices): a copy of ``x`` with
    ``value`` (broadcast to ``x[key]``'s shape) written at ``key``.  ``x``'s gradient is 0 where
    it was overwritten; ``value``'s is the gradient there, summed over the broadcast dims."""
    takes_half = True     # exact on float16
    takes_int = True
    takes_bool = True     # a mask scattered into a mask (one-hot masks) stays a mask, as torch
    reads_inputs = False   # the key and shapes only: ``w[i] += v`` writes w (and so its view
    #                        w[i], the value) after this op used it, as torch's CopySlices allows

    def forward(self, x, value, key):
        self.key, self.value_shape = key, _shape(value)
        out = x.copy()
        try:
            out[key] = value
        except ValueError as exc:   # NumPy's broadcast / "array element with a sequence" refusal
            raise ShapeError(f"x[key] = value: a value of shape {self.value_shape} does not fit "
                             f"x[key] of shape {_shape(x[key])} (as torch) ({exc})") from None
        return out

    def backward(self, g):
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = self.xp.array(g)      # a copy, and an array where g is a 0-d NumPy scalar
            gx[self.key] = 0
        if self.needs_input_grad[1]:
            gv = unbroadcast(g[self.key], self.value_shape)
        return gx, gv, None

    def grad_graph(self, g):
        need = self.needs_input_grad
        gx = SetItem.apply(g, 0.0, self.key) if need[0] else None
        gv = unbroadcast(GetItem.apply(g, self.key), self.value_shape) if need[1] else None
        return gx, gv, None


def _is_basic_index(key) -> bool:
    keys = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice)) for k in keys)


# View ops whose relation to their input can be re-applied exactly to another array of the input's
# shape (a gradient, a copy): the in-place update of a view of an intermediate (Tensor._rebase_view,
# torch's CopySlices) walks them from the view to its base.  GetItem only with a basic key.
VIEW_STEP_OPS = frozenset((Reshape, Unsqueeze, Squeeze, SqueezeAll, SqueezeDims, Permute, Transpose,
                           MatrixT, GetItem))


def view_step(xp, a, cls: type, arg):
    """``cls``'s view of array ``a`` (``arg``: its shape, dims or basic key), as an array."""
    if issubclass(cls, Reshape):
        return a.reshape(arg)
    if issubclass(cls, Permute):
        return a.transpose(arg)
    return xp.asarray(a[arg])     # (an all-int key gives NumPy a scalar)


class ViewSteps:
    """The view ops from a base to its view, ``((op class, its argument), ...)``, as one opaque
    argument of CopySlices (no tuple: ``_saves_alias`` would look into its nesting)."""
    __slots__ = ("steps",)

    def __init__(self, steps: tuple) -> None:
        self.steps = steps


class ViewPositions:
    """A view given by where its elements lie in its base: ``where`` (the view's shape) holds
    each element's flat (C-order) position in the base -- any view NumPy / CuPy can make
    (diagonal, unfold, as_strided, a view of a buffer made without a graph), read from the
    memory layout (``tensor._view_positions``).  An opaque argument of CopySlices /
    AsStridedView, as ViewSteps.  ``pairs``: a real view of a complex base (real, imag,
    view_as_real and views of those), ``where`` indexing the base's (real, imaginary) pairs."""
    __slots__ = ("where", "pairs")

    def __init__(self, where, pairs: bool = False) -> None:
        self.where, self.pairs = where, pairs


def _pairs(a):
    """Complex array ``a``'s C-order copy seen as its (real, imaginary) float pairs, flat."""
    return a.copy().reshape(-1).view(a.real.dtype) if a.ndim else a.reshape(1).view(a.real.dtype)


class AsStridedView(Function):
    """``base``'s elements at ``positions`` (a ViewPositions), as the graph of a view written or
    regenerated after an in-place write into its base (torch's AsStridedBackward0): a gather;
    the gradient is scattered back (summed where a position repeats, as an expanded view's)."""
    takes_half = True
    reads_inputs = False

    def name(self) -> str:
        return "AsStridedBackward0"

    takes_complex = True     # (a gather: linear)

    def forward(self, base, positions):
        self.shape, self.where, self.pairs = base.shape, positions.where, positions.pairs
        if positions.pairs:
            self.dtype = base.dtype
            base = _pairs(base)
        return base.reshape(-1)[positions.where.reshape(-1)].reshape(positions.where.shape)

    def backward(self, g):
        size = int(np.prod(self.shape)) * (2 if self.pairs else 1)
        out = self.xp.zeros(size, dtype=g.dtype)
        where, g = self.where.reshape(-1), g.reshape(-1)
        if not scatter_kernels.add_at(out, (where,), g):
            self.xp.add.at(out, where, g)
        return (out.view(self.dtype) if self.pairs else out).reshape(self.shape), None

    def grad_graph(self, g):
        size = int(np.prod(self.shape)) * (2 if self.pairs else 1)
        flat = ScatterIntoZeros.apply(g.reshape(-1), (size,), self.where.reshape(-1))
        if self.pairs:
            from .complex_ops import view_as_complex
            flat = view_as_complex(flat.reshape(-1, 2))
        return flat.reshape(self.shape), None


class CopySlices(Function):
    """The base's side of an in-place op on its view (torch's CopySlices node): ``base`` with the
    view's elements replaced by ``src`` (the view's new value).  ``steps``: the view ops from
    the base to the view (a ViewSteps of VIEW_STEP_OPS).  The gradient
    of ``src`` is the same view of the gradient; the old base's is the gradient with the view's
    elements zeroed."""
    reads_inputs = False     # backward reads neither input's values

    def forward(self, base, src, steps):
        self.steps, xp = steps, self.xp
        if isinstance(steps, ViewPositions):
            where = steps.where
        else:
            where = xp.arange(base.size).reshape(base.shape)   # the view's flat positions in the base
            for cls, arg in steps.steps:
                where = view_step(xp, where, cls, arg)
        if where.shape != src.shape:
            raise ShapeError(f"CopySlices: the view is {where.shape}, its new value {src.shape}")
        self.shape, self.src_shape, self.where = base.shape, src.shape, where.reshape(-1)
        out = base.copy()                                  # C order: reshape(-1) is a view
        out.reshape(-1)[self.where] = src.reshape(-1)
        return out

    def backward(self, g):
        g_base = g_src = None
        if self.needs_input_grad[0]:
            g_base = self.xp.array(g, order="C")   # a C-order copy (a 0-d NumPy scalar's
            g_base.reshape(-1)[self.where] = 0        # too): reshape views, so the write lands
        if self.needs_input_grad[1]:
            g_src = g.reshape(-1)[self.where].reshape(self.src_shape)
        return g_base, g_src, None

    def grad_graph(self, g):
        mask = self.xp.ones(self.shape, dtype=g.dtype)
        mask.reshape(-1)[self.where] = 0
        if isinstance(self.steps, ViewPositions):
            g_src = g.reshape(-1)[self.where].reshape(self.src_shape)
        else:
            g_src = g
            for cls, arg in self.steps.steps:
                g_src = cls.apply(g_src, arg)
        return constant_times(g, mask), g_src, None


class Contiguous(Function):
    saves_nothing = True   # shapes / axes only: a second backward works (torch)
    reads_inputs = False   # the gradient is g
    takes_half = True     # exact on float16
    takes_bool = True
    takes_int = True

    def forward(self, x):
        return self.xp.ascontiguousarray(x)

    def backward(self, g):
        return (g,)

    grad_graph = backward


class Flip(Function):
    """x.flip(dims): the elements reversed along ``axes``, in new memory (torch's flip copies, so
    writing the result never writes ``x``); the gradient is ``g`` flipped back."""
    saves_nothing = True   # shapes / axes only: a second backward works (torch)
    reads_inputs = False   # the axes only
    takes_half = True
    takes_bool = True
    takes_int = True

    def forward(self, x, axes):
        self.axes = axes
        # .copy(), not ascontiguousarray: flipping a size-1 dim (or no dim) is a view NumPy
        # already calls contiguous, which ascontiguousarray would hand back uncopied
        out = self.xp.flip(x, axes)
        if 0 in x.strides and x.size:   # an expand: torch's dense strides of it (C order where all
            # dims tie), where NumPy's 'K' would put the zero strides outermost
            return relayout(self.xp, out, tuple(iterator_order(x.shape, (x,))))
        return out.copy(order="K")    # x's layout, as torch's

    def backward(self, g):
        return self.xp.flip(g, self.axes), None

    def grad_graph(self, g):
        return g.flip(self.axes), None


class Relayout(Function):
    """x.contiguous(memory_format=...): the same values with the axes laid out in memory in
    ``axes``' order (channels_last: (0, 2, 3, 1))."""
    saves_nothing = True   # shapes / axes only: a second backward works (torch)
    reads_inputs = False   # the gradient is g
    takes_half = True
    takes_bool = True
    takes_int = True

    def forward(self, x, axes):
        from .memory_formats import relayout
        return relayout(self.xp, x, axes)

    def backward(self, g):
        return (g, None)

    grad_graph = backward


class Clone(Contiguous):
    """x.clone(): a copy in the graph (torch's CloneBackward0)."""

    def forward(self, x):
        return x.copy()


class ClonePreserving(Clone):
    """x.clone() of a permuted layout (``x.t()``): the copy keeps x's memory order, as torch's
    preserve_format keeps its strides (NumPy's order='K')."""

    def forward(self, x):
        return x.copy(order="K")

    def name(self) -> str:
        return "CloneBackward0"


class Expand(Function):
    """``broadcast_to``: size-1 dims (and new leading ones) repeated without copying; the gradient
    sums over them."""
    saves_nothing = True   # shapes / axes only: a second backward works (torch)
    reads_inputs = False   # shapes only
    takes_half = True     # exact on float16
    takes_bool = True
    takes_int = True
    returns_view = True

    def forward(self, x, shape):
        self.in_shape = x.shape
        lead = len(shape) - x.ndim
        if tuple(shape[lead:]) == x.shape and all(n == 1 for n in shape[:lead]):
            return x[(None,) * lead] if lead else x.view()   # nothing repeated: a writable view, as torch's
        return self.xp.broadcast_to(x, shape)

    def backward(self, g):
        lead = g.ndim - len(self.in_shape)
        if lead:
            g = g.sum(axis=tuple(range(lead)))
        stretched = tuple(i for i, n in enumerate(self.in_shape) if n == 1 and g.shape[i] != 1)
        return (g.sum(axis=stretched, keepdims=True) if stretched else g), None

    grad_graph = backward     # Tensor.sum takes the same arguments


class Repeat(Function):
    """PyTorch's ``repeat`` (NumPy's ``tile``): copies laid end to end along each dim; the gradient
    of an element is the sum over its copies."""
    saves_nothing = True   # shapes / axes only: a second backward works (torch)
    reads_inputs = False   # shapes only
    takes_half = True     # exact on float16
    takes_bool = True
    takes_int = True

    def forward(self, x, reps):
        self.in_shape, self.reps = x.shape, reps
        return self.xp.tile(x, reps)

    def backward(self, g):
        sizes = (1,) * (len(self.reps) - len(self.in_shape)) + self.in_shape
        # Along dim i the output is reps[i] copies of sizes[i] elements: split the dim in two.
        g = g.reshape(tuple(n for pair in zip(self.reps, sizes) for n in pair))
        return g.sum(axis=tuple(range(0, 2 * len(sizes), 2))).reshape(self.in_shape), None

    grad_graph = backward


def _cat_layout(xp, out, arrays):
    """``out``, a concatenation NumPy laid out in another order than C's, laid out as torch's
    cat: the inputs' memory format where they all suggest the same one (channels_last(_3d)),
    else C order (a cat of transposes is C-contiguous in torch)."""
    from .memory_formats import contiguous_format, suggest
    fmt = suggest(arrays[0])
    if fmt is not contiguous_format and all(suggest(a) is fmt for a in arrays[1:]):
        return out
    return xp.ascontiguousarray(out)


class Concat(Function):
    saves_nothing = True   # shapes / axes only: a second backward works (torch)
    reads_inputs = False   # the sizes only
    takes_half = True     # exact on float16
    promotes_floats = True
    takes_bool = True   # masks reshape, index and concatenate like floats (no gradient)
    takes_int = True

    legacy_empty = ()     # positions of skipped 1-D empty inputs (torch's legacy cat rule)

    def forward(self, axis, *arrays):
        out = self._join(axis, arrays)
        return out if out.flags.c_contiguous else _cat_layout(self.xp, out, arrays)

    def _join(self, axis, arrays):
        self.axis = axis
        try:
            self.sizes = [a.shape[axis] for a in arrays]
            return self.xp.concatenate(arrays, axis=axis)
        except (ValueError, IndexError):
            shapes = [a.shape for a in arrays]
            kept = [a for a in arrays if a.shape != (0,)]
            if kept and len({a.ndim for a in kept}) == 1 and len(kept) < len(arrays):
                return self._skipping_legacy_empty(axis, arrays, kept)
            if len({len(s) for s in shapes}) > 1:
                raise ShapeError(f"concat: tensors must have the same number of dims, got shapes "
                                 f"{shapes}") from None
            raise ShapeError(f"concat along axis {axis}: shapes {shapes} differ off that axis") from None

    def _skipping_legacy_empty(self, axis, arrays, kept):
        """torch.cat skips 1-D empty tensors beside tensors of more dims (``torch.Tensor()`` as
        the start of an accumulation); they still take part in the dtype promotion."""
        self.legacy_empty = tuple(i for i, a in enumerate(arrays) if a.shape == (0,))
        self.sizes = [0 if a.shape == (0,) else a.shape[axis] for a in arrays]
        try:
            return self.xp.concatenate(kept, axis=axis)
        except ValueError:
            raise ShapeError(f"concat along axis {axis}: shapes {[a.shape for a in kept]} differ off "
                             f"that axis") from None

    def backward(self, g):
        bounds, total = [], 0
        for n in self.sizes[:-1]:
            total += n
            bounds.append(total)
        parts = self.xp.split(g, bounds, axis=self.axis)
        for i in self.legacy_empty:
            parts[i] = parts[i].reshape(0)
        return (None, *parts)

    def grad_graph(self, g):
        parts, start = [None], 0
        for n in self.sizes:
            parts.append(GetItem.apply(g, (slice(None),) * self.axis + (slice(start, start + n),)))
            start += n
        for i in self.legacy_empty:
            parts[i + 1] = parts[i + 1].reshape(0)
        return tuple(parts)


class Stack(Concat):
    """stack: the concatenation of the inputs each with a new axis (torch's StackBackward0).
    The new axis is added here, on the arrays (no reshape node per input, as torch's graph:
    next_functions are the inputs' own nodes); backward selects each input's slice."""

    def forward(self, axis, *arrays):
        index = (slice(None),) * axis + (None,)
        pieces = [a[index] for a in arrays]
        out = self._join(axis, pieces)
        if out.flags.c_contiguous:
            return out
        # torch's stack: cat(inputs, axis).view(...) -- the cat's layout, the axis split in two --
        # below the inputs' rank; at the end a cat of the unsqueezed inputs, C order (torch's
        # stride-order check sees no channels_last_3d in a (N, C, H, W, 1) piece)
        if axis == arrays[0].ndim:
            return self.xp.ascontiguousarray(out)
        joined = _cat_layout(self.xp, self.xp.concatenate(arrays, axis=axis), arrays)
        return joined.reshape(out.shape)

    def backward(self, g):
        head = (slice(None),) * self.axis
        return (None, *[g[head + (i,)] for i in range(len(self.sizes))])

    def grad_graph(self, g):
        head = (slice(None),) * self.axis
        return (None, *[GetItem.apply(g, head + (i,)) for i in range(len(self.sizes))])


class Exp(Function):
    reads_inputs = False   # backward reads the saved output only (torch saves the result)

    def forward(self, x):
        self.y = self.xp.exp(x)
        return self.y

    def backward(self, g):
        return (g * self.y,)

    def grad_graph(self, g):
        return (g * saved_output(self, self.y),)


class Log(Function):
    def forward(self, x):
        self.x = x
        return self.xp.log(x)

    def backward(self, g):
        return (g / self.x,)

    def grad_graph(self, g):
        return (g / self.inputs[0],)


class Log1p(Function):
    """log(1 + x), exact for small x (where 1 + x would round x away)."""

    def forward(self, x):
        self.x = x
        return self.xp.log1p(x)

    def backward(self, g):
        return (g / (1 + self.x),)

    def grad_graph(self, g):
        return (g / (self.inputs[0] + 1.0),)


class Sin(Function):
    def forward(self, x):
        self.x = x
        return self.xp.sin(x)

    def backward(self, g):
        return (g * self.xp.cos(self.x),)

    def grad_graph(self, g):
        return (g * Cos.apply(self.inputs[0]),)


class Cos(Function):
    def forward(self, x):
        self.x = x
        return self.xp.cos(x)

    def backward(self, g):
        return (-g * self.xp.sin(self.x),)

    def grad_graph(self, g):
        return (-(g * Sin.apply(self.inputs[0])),)


class Sqrt(Function):
    reads_inputs = False   # backward reads the saved output only (torch saves the result)

    def forward(self, x):
        self.y = self.xp.sqrt(x)
        return self.y

    def backward(self, g):
        return (g / (2 * self.y),)

    def grad_graph(self, g):
        return (g / (2.0 * saved_output(self, self.y)),)


class SafeSqrt(Function):
    """sqrt whose gradient at 0 is 0 instead of inf -- a norm's, as torch gives for a zero
    vector (a gradient penalty at a point where D is flat must not turn into NaN)."""

    def forward(self, x):
        self.y = self.xp.sqrt(x)
        return self.y

    def backward(self, g):
        positive = self.y != 0                  # (NaN passes: its gradient stays NaN)
        return (self.xp.where(positive, g / (2 * self.xp.where(positive, self.y, 1)), 0),)

    def grad_graph(self, g):
        positive = self.y != 0
        root = SafeSqrt.apply(self.inputs[0]) + Tensor._make((~positive).astype(self.y.dtype), self.device)
        return (constant_times(g / (2.0 * root), positive),)


class SafePow(Function):
    """x ** e for x >= 0 (a sum of |v|^p) with gradient 0 where x == 0: a p-norm's outer power,
    whose derivative at a zero vector is inf times 0 otherwise."""

    def forward(self, x, e):
        self.x, self.e = x, e
        return x ** x.dtype.type(e)

    def backward(self, g):
        x, e = self.x, self.e
        nonzero = x != 0
        safe = self.xp.where(nonzero, x, 1)
        return self.xp.where(nonzero, g * x.dtype.type(e) * safe ** x.dtype.type(e - 1), 0), None

    def grad_graph(self, g):
        x, e = self.inputs[0], self.e
        nonzero = self.x != 0
        safe = x + Tensor._make((~nonzero).astype(self.x.dtype), self.device)
        return constant_times(g * e * SafePow.apply(safe, e - 1), nonzero), None


class Reciprocal(Function):
    """1 / x, saving its result, as torch's (ReciprocalBackward0: -grad * result^2, so an input
    written in place afterwards is fine); also ``number / x``, torch's ``x.reciprocal() * number``."""
    reads_inputs = False   # backward reads the saved output only (torch saves the result)

    def forward(self, x):
        self.y = self.xp.reciprocal(x)
        return self.y

    def backward(self, g):
        return (-(g * (self.y * self.y)),)

    def grad_graph(self, g):
        y = saved_output(self, self.y)
        return (-(g * (y * y)),)


class Tanh(Function):
    reads_inputs = False   # backward reads the saved output only (torch saves the result)

    def forward(self, x):
        self.y = self.xp.tanh(x)
        return self.y

    def backward(self, g):
        return (g * (1 - self.y * self.y),)

    def grad_graph(self, g):
        y = saved_output(self, self.y)
        return (g * (1.0 - y * y),)


def stable_sigmoid(x, xp):
    """1 / (1 + exp(-x)), torch's own formula (its CPU kernel's): no cancellation on either side
    (a small value is 1 / a large one, to full relative precision); exp(-x) overflows to inf
    below about -88 (float32) / -709 (float64), giving 0 there, as torch does.  (The old
    exp(-|x|) form with a where() kept denormals torch flushes to 0 and cost 2.5x as much: NumPy's
    where is slow.)  Two arrays' worth of memory traffic, one new array."""
    with np.errstate(over="ignore"):    # exp(1000) is inf, rightly (NumPy flags it; CuPy never does)
        y = xp.exp(-x)
    if not y.shape:                     # 0-d: NumPy returns a scalar, not an array
        return xp.asarray(1 / (y + 1))
    y += 1
    return xp.reciprocal(y, out=y)


class Sigmoid(Function):
    reads_inputs = False   # backward reads the saved output only (torch saves the result)

    def forward(self, x):
        self.y = stable_sigmoid(x, self.xp)
        return self.y

    def backward(self, g):
        return (g * self.y * (1 - self.y),)

    def grad_graph(self, g):
        y = saved_output(self, self.y)
        return (g * y * (1.0 - y),)


class Relu(Function):
    takes_half = True     # exact on float16
    takes_int = True
    reads_inputs = False  # backward reads the saved output only (torch's threshold on the result)

    def forward(self, x):
        # maximum, not where(x > 0, x, 0) (NumPy's where is ~10x slower) nor x * mask (-inf * 0
        # is NaN, -1 * 0 is -0): NaN stays NaN.  Zero first: maximum(0, -0) is -0, torch's
        # relu(-0.0) (clamp_min).  The output is saved, as torch's
        self.y = self.xp.maximum(x.dtype.type(0), x)
        return self.y

    @property
    def mask(self):
        """Where the gradient passes: y != 0 -- x > 0, and NaN (which passes its gradient, as
        torch's threshold_backward)."""
        return self.y != 0

    def backward(self, g):
        # a select, as torch's threshold_backward: a NaN / inf gradient into a dead unit gives 0
        y = self.y
        if g.strides != y.strides and 0 not in g.strides:   # torch's threshold_backward(g,
            # result): the result leads (a broadcast g -- a sum's -- takes part in no order)
            return (in_iterator_order(lambda y, g: select_nonzero(self.xp, g, y), y, g, (y, g)),)
        return (select_nonzero(self.xp, g, y),)

    def grad_graph(self, g):
        return (with_zero_edge(Where.apply(g, 0.0, self.mask), self.inputs[0]),)   # a select in graph mode too


class Abs(Function):
    takes_half = True     # exact on float16
    takes_int = True

    def forward(self, x):
        self.sign = self.xp.sign(x)
        return self.xp.abs(x)

    def backward(self, g):
        return (g * self._sign(),)

    def grad_graph(self, g):
        return (with_zero_edge(constant_times(g, self._sign()), self.inputs[0]),)

    def _sign(self):
        """sign(x), 0 at NaN as torch's sgn (NumPy's sign is NaN there: |x|'s gradient would be)."""
        sign = self.sign
        if sign.dtype.kind == "f":            # NaN -> 0 by two ufuncs (nan_to_num makes 14
            xp = self.xp                      # Python calls)
            self.sign = sign = xp.fmax(sign, 0) + xp.fmin(sign, 0)
        return sign


class Clip(Function):
    takes_half = True     # exact on float16
    promotes_floats = True
    takes_int = True

    def forward(self, x, low, high):
        if self.needs_input_grad[0]:     # the gradient passes where low <= x <= high
            above = None if low is None else x >= low
            below = None if high is None else x <= high
            self.mask = below if above is None else above if below is None else above & below
        # x stays where it ties a bound (torch's std::max / std::min), so clamp(-0.0, min=0) is
        # -0.0 as in torch (clip gives +0)
        return clamp(self.xp, x, low, high)

    def backward(self, g):
        return select(self.xp, g, self.mask), None, None     # torch's select: NaN g -> 0 outside

    def grad_graph(self, g):
        return Where.apply(g, 0.0, self.mask), None, None


class LerpTensor(Function):
    """``lerp(x, end, weight)`` with a Tensor weight: ``x + w * (end - x)`` where |w| < 0.5, else
    ``end - (end - x) * (1 - w)`` (torch's rounding); the gradients are torch's formulas,
    g * (1 - w), g * w and g * (end - x) -- not a where() of the two forms, whose unused side
    made 0 * inf = NaN at an infinite weight."""

    def forward(self, x, end, w):
        xp = self.xp
        self.x, self.end, self.w = x, end, w
        self.shapes = (x.shape, end.shape, w.shape)
        if not x.shape == end.shape == w.shape:
            broadcast_shape("lerp: shapes {0} (input), {1} (end) and {2} (weight) do not broadcast",
                            *self.shapes)
        diff = end - x
        out = xp.where(xp.abs(w) < 0.5, x + diff * w, end - diff * (1 - w))
        return out if out.ndim == 0 else xp.ascontiguousarray(out)

    def backward(self, g):
        x, end, w = self.x, self.end, self.w
        parts = (lambda: 1 - w, lambda: w, lambda: end - x)
        return tuple(unbroadcast(g * part(), shape) if need else None
                     for part, shape, need in zip(parts, self.shapes, self.needs_input_grad))

    def grad_graph(self, g):
        x, end, w = self.inputs
        parts = (lambda: 1 - w, lambda: w, lambda: end - x)
        return tuple(unbroadcast(g * part(), shape) if need else None
                     for part, shape, need in zip(parts, self.shapes, self.needs_input_grad))

    def name(self) -> str:
        return "LerpBackward1"       # torch's node for lerp.Tensor


class ClampTensors(Function):
    """``clamp(x, min, max)`` with Tensor bounds: ``ClampTensors.apply(value, x, low, high,
    masks)`` is ``value`` (the clamped result, computed beforehand) with the gradient sent to x,
    low and high (None: absent) where their ``masks`` (bool arrays, torch's clamp_backward
    predicates) hold -- apart from which input the value came from, so a NaN anywhere sends it
    nowhere and crossed bounds send it to max, as torch's."""
    takes_half = True
    promotes_floats = True
    takes_int = True
    takes_bool = True

    def forward(self, value, x, low, high, masks):
        self.shapes = tuple(None if a is None else a.shape for a in (x, low, high))
        self.masks = masks
        return value.view()

    def backward(self, g):
        grads = [None if shape is None or not need else
                 unbroadcast(select(self.xp, g, mask), shape)
                 for shape, mask, need in zip(self.shapes, self.masks, self.needs_input_grad[1:4])]
        return (None, *grads, None)

    def grad_graph(self, g):
        grads = [None if shape is None or not need else
                 unbroadcast(Where.apply(g, 0.0, mask), shape)
                 for shape, mask, need in zip(self.shapes, self.masks, self.needs_input_grad[1:4])]
        return (None, *grads, None)

    def name(self) -> str:
        return "ClampBackward0"      # torch's node for clamp.Tensor


class Einsum(Function):
    """``xp.einsum`` over explicit subscripts (:func:`tensorgan.einsum` resolves ``...`` and the
    implicit output first). The gradient of operand i is the einsum of the output gradient with
    the other operands onto i's subscripts -- the same op, so gradients of gradients come free;
    a letter only operand i has (summed away alone) comes back as a broadcast."""

    def forward(self, subscripts, *operands):
        self.subscripts, self.operands = subscripts, operands
        inputs, output = subscripts
        with self.device.blas_scope():
            out = self.xp.asarray(self.xp.einsum(f"{','.join(inputs)}->{output}", *operands,
                                                 optimize=len(operands) > 2))
        return out if out.ndim == 0 else self.xp.ascontiguousarray(out)   # (ascontiguousarray: >= 1-D)

    def _gradient(self, i, g, operands, einsum, expand):
        inputs, output = self.subscripts
        others = [s for j, s in enumerate(inputs) if j != i]
        seen = set(output).union(*others)
        kept = "".join(c for c in inputs[i] if c in seen)
        grad = einsum(f"{','.join([output] + others)}->{kept}", g,
                      *(o for j, o in enumerate(operands) if j != i))
        return grad if kept == inputs[i] else expand(grad, kept, inputs[i], operands[i].shape)

    def backward(self, g):
        xp = self.xp

        def einsum(spec, *arrays):
            with self.device.blas_scope():
                return xp.asarray(xp.einsum(spec, *arrays, optimize=len(arrays) > 2))

        def expand(grad, kept, full, shape):
            grad = grad.reshape([shape[k] if c in kept else 1 for k, c in enumerate(full)])
            return xp.broadcast_to(grad, shape).copy()

        return (None,) + tuple(self._gradient(i, g, self.operands, einsum, expand) if need else None
                               for i, need in enumerate(self.needs_input_grad[1:]))

    def grad_graph(self, g):
        from .function_forms import einsum as tensor_einsum
        operands = [t if isinstance(t, Tensor) else Tensor._make(t, self.device) for t in self.inputs[1:]]

        def expand(grad, kept, full, shape):
            grad = grad.reshape([shape[k] if c in kept else 1 for k, c in enumerate(full)])
            return grad.expand(*shape) * 1.0

        return (None,) + tuple(self._gradient(i, g, operands, tensor_einsum, expand) if need else None
                               for i, need in enumerate(self.needs_input_grad[1:]))
