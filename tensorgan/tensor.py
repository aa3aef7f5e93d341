"""The autograd engine: a Tensor, the Function base class, and reverse-mode backward().

The whole idea, micrograd-style (``docs/how_it_works.md`` has it as a runnable one-screen program
with the same names; this file's versions add torch's dtypes, devices, views, in-place writes and
hooks). Read, in this order: ``Function.apply``, ``Tensor.backward``, ``_topological_order``,
``_run_backward`` (the loop itself; ``_Walk``, right below it, holds what torch adds to it, one
small step each: hooks, ``autograd.grad``'s inputs, in-place sums), then one op (``ops.Mul``:
forward saves its inputs, backward returns one gradient per input).

* Every differentiable op is a :class:`Function` subclass with ``forward(*arrays) -> array`` and
  ``backward(grad) -> one gradient per positional argument``. ``Function.apply`` runs ``forward`` on
  the inputs' raw arrays and, when gradients are wanted, keeps the Function instance as the output
  tensor's ``_ctx`` (its "context": inputs plus whatever ``forward`` saved on ``self``).
* ``Tensor.backward()`` orders the graph topologically from the output back to the leaves, calls
  each context's ``backward`` once with the summed gradient of its output, adds the results into
  the gradients of its inputs (a tensor used twice gets both contributions), and stores the
  gradients of leaves that ``requires_grad`` in ``.grad``. Then it frees the graph, like PyTorch.
* ``backward(create_graph=True)`` and ``autograd.grad`` (``autograd/__init__.py``) walk the same graph but
  call each context's ``grad_graph`` instead: the same backward written with Tensor ops, so the
  gradient has a graph of its own and can be differentiated again (gradient penalties).

Rules (as in PyTorch): an op's output requires grad iff any tensor input does and grad mode is on
(``no_grad()`` turns it off; ``grad_mode.py``). Tensors in one op must share a device (nothing is ever copied between
devices silently); float32 with float64 promotes in elementwise ops and is refused elsewhere (torch). Python
numbers and NumPy arrays in an op take the tensor's dtype and device.

Integer tensors (int64 and narrower: indices, labels, counts) and bool tensors (masks) never
require grad.  An op that is exact on integers (``Function.takes_int``: +, -, *, sums, shape and
index ops) keeps them; any other op (exp, /, mean, conv, ...) computes in float32, and an integer
operand next to a float tensor (or a Python float) takes that float dtype -- torch's promotion.
"""
from __future__ import annotations

import copy
import copyreg
import heapq
import itertools
import math
import sys
import warnings
import weakref
from typing import Any, Callable

import numpy as np

from .backend import Device, device_of, get_device, move_array, names_a_device
from .select_kernels import clamp_in_place
from .kernels.reference.optim import lerp_update as reference_lerp_update
from .broadcasting import broadcast_shape
from .errors import (AnomalyError, AutogradError, AutogradInputsError, ClampBoundsError, DeviceError,
                     DTypeError, DTypeNotImplementedError, DTypeValueError, EmptyReductionError,
                     IndexDTypeError, IndexOutOfRangeError, InputTypeError, IntegerDivisionError, MaskShapeError,
                     MemoryOverlapError, NegativeIntegerPowerError, ReadOnlyMemoryError,
                     SamplingParameterError, ShapeError, TensorDataError,
                     TensorganError, ValueOverflowError, float_index_error)
from .grad_mode import (_anomaly, _grad_mode, enable_grad, inference_mode, is_grad_enabled,  # noqa: F401
                        no_grad, set_grad_enabled)     # (re-exported: tensorgan.tensor.no_grad)

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)   # stored as NumPy's half; most ops compute it in float32 (see apply)
FLOAT_DTYPES = (float32, float64, float16)
BOOL = np.dtype(np.bool_)   # comparison results and masks only: no gradients, no arithmetic kernels
int64, int32, int16, int8, uint8 = (np.dtype(t) for t in (np.int64, np.int32, np.int16, np.int8, np.uint8))
INT_DTYPES = (int64, int32, int16, int8, uint8)   # indices, labels, counts: no gradients
complex64 = np.dtype(np.complex64)      # complex tensors: the ops of complex_ops.py (their own
complex128 = np.dtype(np.complex128)    # kernels and conjugate-Wirtinger gradients, as torch)
COMPLEX_DTYPES = (complex64, complex128)
_default_float = [float32]   # torch.set_default_dtype's setting: what floats and factories make
# tg.set_printoptions' settings (torch's defaults), which tensorgan.printing follows; sci_mode:
# True forces scientific notation, False forbids it, None leaves it to torch's rule
PRINT_OPTIONS: dict = {"precision": 4, "threshold": 1000, "edgeitems": 3, "max_line_width": 80,
                       "sci_mode": None}


def get_default_dtype() -> np.dtype:
    """The float dtype factories make from Python floats and shapes (tg.zeros, tg.tensor([1.5]),
    rand, layer parameters) and integer-only ops promote to: float32 unless set_default_dtype."""
    return _default_float[0]


def set_default_dtype(dtype: Any) -> None:
    """torch.set_default_dtype: float32 or float64 (torch refuses integer dtypes too)."""
    dt = _check_dtype(dtype, any_kind=True)
    if dt not in (float32, float64):
        raise DTypeError(f"set_default_dtype: only float32 and float64 can be the default, got {dt}")
    _default_float[0] = dt


class _ErrstateVar:
    """The fallback of ``_FP_STATE`` below for a NumPy without that context variable: the same
    through ``np.errstate`` (slower)."""
    def set(self, _quiet):
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def reset(self, state) -> None:
        state.__exit__(None, None, None)


# Ops run with NumPy's floating-point warnings off (inf and NaN results come silently, as in
# torch). ``with np.errstate(all="ignore")`` builds its error state anew on every entry (~0.7 us,
# a tenth of a small op); setting NumPy's context variable to a state made once costs ~0.1 us.
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _FP_STATE, _make_extobj
    _FP_QUIET = _make_extobj(all="ignore")
except ImportError:                  # (NumPy moved it: the public, slower way)
    _FP_STATE, _FP_QUIET = _ErrstateVar(), None


# ---------------------------------------------------------------------------------------------
# Function: one differentiable op
# ---------------------------------------------------------------------------------------------
# Graph nodes are numbered as they are recorded, so that code holding the number from before a
# call can tell the nodes that call made from older ones (utils.checkpoint's boundary).
next_node_seq = itertools.count().__next__


def _both(op: str, keyword: str) -> None:
    raise InputTypeError(f"{op}() got multiple values for argument '{keyword}': give it as "
                         f"positional sizes or as {keyword}=..., not both")


class Function:
    """Base class of every op. Subclasses implement ``forward`` and ``backward`` on raw arrays.

    ``forward(*args)`` receives each Tensor argument as its array (``.array``) and every other
    argument (ints, tuples, None, ...) unchanged; it may save what backward needs on ``self``.
    ``backward(grad)`` returns a tuple with one entry per positional argument: the gradient array
    for that input, or None. ``self.needs_input_grad[i]`` says which are wanted; ``self.device``
    and ``self.xp`` give the device and its array module.
    """

    inputs: tuple
    needs_input_grad: tuple
    device: Device
    released = False
    seq = math.inf   # when the node was recorded (next_node_seq()): checkpoint's "made before me?"

    def forward(self, *args: Any):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def grad_graph(self, grad: "Tensor") -> tuple:
        """``backward`` written with Tensor ops (differentiable, so ``create_graph=True`` can give
        a gradient of the gradient): ``grad`` and the results are Tensors; the inputs are
        ``self.inputs``.  An op without one says so."""
        raise AutogradError(f"{type(self).__name__} has no differentiable backward, so "
                             f"create_graph=True cannot go through it (a gradient of its gradient "
                             f"is not implemented); backward without create_graph works")

    @property
    def xp(self):
        return self.device.xp

    takes_bool = False   # shape ops and indexing also take bool tensors (comparison results)
    takes_int = False    # exact on integers (+, -, *, sum, shape ops): ints stay ints; else float32
    refuses_int = False  # torch has no integer kernel (hypot, leaky_relu, ...): all-integer inputs raise
    promotes_floats = False  # elementwise: float32 with float64 -> float64 (torch); else refused
    takes_half = False   # exact on float16 arrays (shape ops, casts); others compute it in float32
    same_dtype = False   # matrix products: an integer tensor beside a float one is refused (torch)
    returns_view = False  # reshape, permute, basic indexing: the output may share the input's memory
    number_edges = False  # True: a Python number operand is an edge too, (None, 0) in next_functions
    # (torch wraps the number of x + 2, x * 2, x - 2, x / 2 into a tensor input)
    takes_complex = False  # linear on complex arrays as they are (add, sum, shape ops): see
    complex_op = None      # complex_ops.py; or the op's complex form (a Function class), run instead
    reads_inputs = True   # False: backward never reads the inputs' values (add, sub), so an input
    # that needed no gradient may be written in place before backward (torch checks saved tensors)

    def reads_input(self, i: int) -> bool:
        """Whether backward (or grad_graph) reads input ``i``'s value -- torch: whether the node
        saved it.  Asked only after that input was written in place (see ``_redirect``)."""
        return self.reads_inputs

    @classmethod
    def apply(cls, *args: Any) -> "Tensor":
        """Run ``forward`` on the arguments' arrays; when a gradient is wanted, remember this
        call (its inputs and their in-place versions) as the output's context."""
        fn = cls()
        device, arrays, any_input_requires_grad = _operands(cls, args)
        if arrays is None:      # mixed float widths, or float16: re-dispatched with casts in the graph
            return _redispatch(cls, args)
        requires_grad = any_input_requires_grad and _grad_mode.enabled
        fn.device = device
        fn.needs_input_grad = (tuple([isinstance(a, Tensor) and a._requires_grad for a in args])
                               if requires_grad else (False,) * len(args))   # (a list: no generator)
        quiet = _FP_STATE.set(_FP_QUIET)       # inf and NaN results come silently, as in torch
        try:
            out = fn.forward(*arrays)
        finally:
            _FP_STATE.reset(quiet)
        if not hasattr(out, "dtype"):
            _not_an_array(cls, out)
        if requires_grad and out.dtype.kind != "f" and out.dtype.kind != "c":   # an index or a
            requires_grad = False                                             # mask: a constant
        result = Tensor._make(out, device, requires_grad)
        if cls.returns_view and _shares_memory(out, arrays[0]):
            no_grad_view = not _grad_mode.enabled and (args[0]._requires_grad or (  # (share_view's
                len(args[0]._version_box) > 1 and _of_no_grad_view(args[0])))      # work, inline)
            _share(args[0], result, no_grad_view=no_grad_view)  # writing one is writing the other
            if no_grad_view and out.dtype.kind in "fc":
                result._requires_grad = True      # torch's: see share_view
        if requires_grad:
            fn.inputs = args
            # each input's in-place version now: backward checks that none changed since
            fn.versions = tuple([a._version_box[0] if isinstance(a, Tensor) else None for a in args])
            fn.seq = next_node_seq()
            result._ctx = fn
        return result

    saves_nothing = False  # True: backward reads no tensor, only shapes / axes (torch's node saves
    # none): once backward ran, the node keeps its edges, so a second backward through it works
    hollow = False         # (an instance's: its inputs were hollowed by release, see _hollow)

    def release(self) -> None:
        """Drop saved arrays and inputs once backward has used them (frees the graph) -- but a
        node that saved nothing keeps its edges (:func:`_hollow`), as torch's: ``y = x.sum();
        y.backward(); y.backward()`` works; a second backward through a freed node is refused."""
        if self.saves_nothing and not self.reads_inputs and not self.released and (
                self.hollow or _hollow(self)):
            return
        self.__dict__.clear()
        self.released = _walks[0]     # (truthy: which backward walk freed it)

    @property
    def next_functions(self) -> tuple:
        """torch's ``grad_fn.next_functions``: one ``(node, 0)`` pair per Tensor input, in order --
        the input's own ``grad_fn``, an :class:`AccumulateGrad` for a leaf that requires grad, or
        None for an input autograd does not track (so a tutorial can walk the graph backwards:
        ``loss.grad_fn.next_functions[0][0]``). Empty once backward has freed the graph."""
        pairs = []
        inputs = self.__dict__.get("inputs", ())
        for i in _edge_positions(self):
            a = inputs[i]
            if not isinstance(a, Tensor):
                pairs.append((None, 0))        # a wrapped Python number (number_edges)
            elif a._ctx is not None:
                pairs.append((a._ctx, 0))
            elif a._requires_grad:
                pairs.append((AccumulateGrad.of(a), 0))
            else:
                pairs.append((None, 0))
        return tuple(pairs)

    def register_prehook(self, hook: Callable[[tuple], "tuple | None"]) -> "RemovableHandle":
        """torch's node pre-hook: ``hook(grad_outputs)`` before this node's backward runs; a tuple
        it returns replaces the gradient."""
        return self._node_hooks().add(self._node_hooks().pre, hook)

    def register_hook(self, hook: Callable[[tuple, tuple], "tuple | None"]) -> "RemovableHandle":
        """torch's node hook: ``hook(grad_inputs, grad_outputs)`` after this node's backward, with
        one gradient per ``next_functions`` entry (None where there is none); a tuple it returns
        replaces ``grad_inputs``."""
        return self._node_hooks().add(self._node_hooks().post, hook)

    def _node_hooks(self) -> "_NodeHooks":
        if self.released:
            raise AutogradError(f"{self.name()}: the graph was already freed (backward ran), so a "
                                f"hook on this node would never run")
        hooks = self.__dict__.get("node_hooks")
        if hooks is None:
            hooks = self.node_hooks = _NodeHooks()
        return hooks

    def name(self) -> str:
        """torch's name for this node (``grad_fn.name()``; ``repr(t)`` shows it as
        ``grad_fn=<MulBackward0>``): :data:`TORCH_NODE_NAMES` by the op's class name, else
        ``<ClassName>Backward0``; ops whose torch name depends on the call (Sum, MatMul,
        GetItem, Linear, ...) override this.  ``type(grad_fn).__name__`` stays the op's class."""
        cls = type(self).__name__
        if "in_place_view" in self.__dict__:       # squeeze_, t_, ...: torch's in-place overloads
            return IN_PLACE_VIEW_NAMES.get(cls) or TORCH_NODE_NAMES.get(cls) or f"{cls}Backward0"
        return TORCH_NODE_NAMES.get(cls) or f"{cls}Backward0"

    def __repr__(self) -> str:
        return f"<{short_node_name(self)} object at {id(self):#x}>"


def short_node_name(node: Any) -> str:
    """``node.name()`` without torch's C++ namespace: torch's name() says
    ``torch::autograd::CopySlices`` where its repr and ``grad_fn=<...>`` say ``CopySlices``."""
    return node.name().rpartition("::")[2]


# Our op classes whose torch node (grad_fn) names are not "<ClassName>Backward0"; what torch 2.13
# prints for the call that makes the op (an op torch builds from several nodes has the last one's).
TORCH_NODE_NAMES: dict = {
    "CopySlices": "torch::autograd::CopySlices", "Log1p": "Log1PBackward0", "Pow": "PowBackward0", "SafePow": "PowBackward0", "PowTensor": "PowBackward1",
    "PowScalarBase": "PowBackward2",
    "SafeSqrt": "SqrtBackward0", "Reshape": "ViewBackward0", "Contiguous": "CloneBackward0",
    "Clone": "CloneBackward0", "Concat": "CatBackward0", "Clip": "ClampBackward1", "Cast": "ToCopyBackward0",
    "ToDevice": "ToCopyBackward0", "Conv1d": "ConvolutionBackward0", "Conv2d": "ConvolutionBackward0",
    "Conv3d": "ConvolutionBackward0", "ConvTranspose2d": "ConvolutionBackward0",
    "ConvTranspose3d": "ConvolutionBackward0", "GroupedConv": "ConvolutionBackward0",
    "DepthwiseConv": "ConvolutionBackward0", "SpectralDivide": "DivBackward0", "BatchNorm": "NativeBatchNormBackward0",
    "BatchNormLeakyReLU": "LeakyReluBackward0", "LeakyReLU": "LeakyReluBackward0",
    "CrossEntropy": "NllLossBackward0", "BCEWithLogits": "BinaryCrossEntropyWithLogitsBackward0",
    "BCE": "BinaryCrossEntropyBackward0", "MaxPool2d": "MaxPool2DWithIndicesBackward0",
    "AvgPool2d": "AvgPool2DBackward0", "SetItem": "torch::autograd::CopySlices",
    "Overwrite": "torch::autograd::CopyBackwards",
    "CTC": "CtcLossBackward0", "Inv": "LinalgInvExBackward0", "Det": "LinalgDetBackward0",
    "Slogdet": "LinalgSlogdetBackward0", "Cholesky": "LinalgCholeskyExBackward0",
    "Solve": "LinalgSolveExBackward0", "Eigh": "LinalgEighBackward0", "Svd": "LinalgSvdBackward0",
    "Qr": "LinalgQrBackward0", "MatrixExp": "LinalgMatrixExpBackward0",
    "SolveTriangular": "LinalgSolveTriangularBackward0", "Transpose": "TransposeBackward0",
    "MatrixT": "TBackward0", "Stack": "StackBackward0", "Unsqueeze": "UnsqueezeBackward0",
    "Squeeze": "SqueezeBackward1", "SqueezeAll": "SqueezeBackward0", "SqueezeDims": "SqueezeBackward2",
    "Bmm": "BmmBackward0", "XLogY": "XlogyBackward0", "LogAddExp": "LogaddexpBackward0",
    "LogAddExp2": "Logaddexp2Backward0", "Rsub": "RsubBackward1", "FillWithTensor": "FillBackward3", "PadIntoZeros": "ConstantPadNdBackward0",
}


IN_PLACE_VIEW_NAMES: dict = {   # the in-place view ops' nodes (stats_ops._view_in_place), torch 2.13's
    "SqueezeAll": "SqueezeBackward3", "Squeeze": "SqueezeBackward4", "SqueezeDims": "SqueezeBackward5",
    "Unsqueeze": "UnsqueezeBackward1", "Transpose": "TransposeBackward1", "MatrixT": "TBackward1",
}


_walks = [1]   # backward walks so far (from 1): a released node records the walk that freed it
_HOLLOW_ARRAYS: dict = {}   # (shape, dtype, device) -> a read-only broadcast zero: a hollowed input's array


def _hollow(ctx: Function) -> bool:
    """After backward: ``ctx`` (a node whose backward reads only shapes, ``saves_nothing``)
    drops its inputs' values but keeps its edges -- each input becomes a stand-in with no
    memory (a broadcast zero of its shape and dtype) and the input's node, version box and
    requires_grad; a leaf that requires grad or a tensor with hooks stays itself (torch's
    AccumulateGrad keeps its leaf).  False (nothing done: the node is freed) when an argument
    holds arrays (an advanced index's positions: torch's IndexBackward saves them)."""
    hollowed = []
    for a in ctx.inputs:
        if isinstance(a, Tensor):
            if a._hooks is None and (a._ctx is not None or not a._requires_grad):
                array = a.array
                where = (array.shape, array.dtype, id(a.device))
                zero = _HOLLOW_ARRAYS.get(where)
                if zero is None:
                    if len(_HOLLOW_ARRAYS) > 1024:
                        _HOLLOW_ARRAYS.clear()
                    xp = a.device.xp
                    zero = _HOLLOW_ARRAYS[where] = xp.broadcast_to(xp.zeros((), dtype=array.dtype),
                                                                   array.shape)
                h = object.__new__(_StandIn)
                h.array, h._grad, h._requires_grad, h.device, h._ctx = zero, None, a._requires_grad, a.device, a._ctx
                h._version_box, h._hooks = a._version_box, None
                h.original = weakref.ref(a) if a._requires_grad else None
                a = h
        elif isinstance(a, tuple) and any(hasattr(k, "shape") for k in a) or hasattr(a, "shape"):
            return False
        hollowed.append(a)
    ctx.inputs = tuple(hollowed)
    ctx.hollow = True
    return True


def _restore(ctx: Function) -> None:
    """A later walk through hollowed ``ctx``: each stand-in whose tensor is still alive, and
    still the output of the same node, gives way to that tensor again -- so hooks and
    ``retain_grad()`` put on it since (torch runs them) and ``autograd.grad(..., inputs=it)``
    find it in the graph, and two nodes that used it reach it as one. Re-hollowed on release."""
    inputs = list(ctx.inputs)
    restored = False
    for i, a in enumerate(inputs):
        if a.__class__ is _StandIn and a.original is not None:
            original = a.original()
            if original is not None and original._ctx is a._ctx and original._version_box is a._version_box:
                inputs[i] = original
                restored = True
    if restored:
        ctx.inputs = tuple(inputs)
        ctx.hollow = False


def _edge_positions(ctx: Function) -> list:
    """The positions in ``ctx.inputs`` that are graph edges (``next_functions`` entries, node-hook
    gradients): the Tensors, and for ops with ``number_edges`` their Python number operands."""
    numbers_too = type(ctx).number_edges
    return [i for i, a in enumerate(ctx.__dict__.get("inputs", ())) if isinstance(a, Tensor) or (
        numbers_too and isinstance(a, (int, float, complex, np.number)))]


class AccumulateGrad:
    """The node ``next_functions`` gives for a leaf that requires grad (torch's AccumulateGrad):
    ``.variable`` is the leaf its gradient accumulates into.  One per leaf while it is alive
    (``of``), so hooks put on it stay put -- the idiom of gradient-compression and all-reduce
    code: ``acc = p.expand_as(p).grad_fn.next_functions[0][0]; acc.register_hook(hook)``."""

    next_functions: tuple = ()

    def __init__(self, variable: "Tensor"):
        self.variable = variable
        self.metadata: dict = {}

    @staticmethod
    def of(leaf: "Tensor") -> "AccumulateGrad":
        """``leaf``'s node: the one handed out before if it is still alive, else a new one
        (held weakly by the leaf, so the two do not keep each other alive)."""
        leaf._hooks = leaf._hooks or _GradHooks()
        node = leaf._hooks.accumulator() if leaf._hooks.accumulator is not None else None
        if node is None:
            node = AccumulateGrad(leaf)
            leaf._hooks.accumulator = weakref.ref(node)
        return node

    def register_hook(self, hook: Callable[[tuple, tuple], None]) -> "RemovableHandle":
        """``hook((), (grad,))`` after ``grad`` was added into ``variable.grad`` (torch's)."""
        if not callable(hook):
            raise InputTypeError(f"register_hook takes a function, got {type(hook).__name__}")
        return self.variable._hooks.add(_NodeHook(hook))

    def register_prehook(self, hook: Callable[[tuple], "tuple | None"]) -> "RemovableHandle":
        """``hook((grad,))`` before ``grad`` is added into ``variable.grad``; a tuple it returns
        replaces the gradient (torch's)."""
        if not callable(hook):
            raise InputTypeError(f"register_prehook takes a function, got {type(hook).__name__}")

        def as_tensor_hook(grad: "Tensor") -> "Tensor | None":
            new = hook((grad,))
            return None if new is None else new[0]
        return self.variable.register_hook(as_tensor_hook)

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"      # torch's (its repr says AccumulateGrad)

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


class _NodeHooks:
    """The hooks on one graph node (``grad_fn.register_prehook`` / ``register_hook``), run by the
    backward walk around the node's backward; gradients reach them as Tensors, as in torch."""

    def __init__(self) -> None:
        self.pre: dict[int, Callable] = {}
        self.post: dict[int, Callable] = {}

    def add(self, hooks: dict, hook: Callable) -> "RemovableHandle":
        if not callable(hook):
            raise InputTypeError(f"register_hook takes a function, got {type(hook).__name__}")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def run_pre(self, ctx: Function, g):
        """The pre-hooks on the gradient ``g`` of the node's output; the gradient to go on with."""
        for hook in list(self.pre.values()):
            new = hook((None if g is None else _as_tensor(g, ctx.device),))
            if new is not None and g is None:
                if (new[0] if isinstance(new, (tuple, list)) and new else new) is not None:
                    raise AutogradError(f"a pre-hook on {ctx.name()}: can't replace a None "
                                        f"gradient with a non-None value")
            elif new is not None:
                g = _replacement(ctx, "pre-hook", new[0] if isinstance(new, (tuple, list)) else new, g)
        return g

    def run_post(self, ctx: Function, input_grads: tuple, g) -> tuple:
        """The hooks on the gradients ``input_grads`` (one per ``ctx.inputs``) of the node."""
        tensor_inputs = _edge_positions(ctx)
        if any(pg is ZERO_GRAD for pg in input_grads):    # a hook sees zeros there, as torch's
            input_grads = tuple(ctx.xp.zeros(p.array.shape, dtype=p.array.dtype)
                                if pg is ZERO_GRAD else pg for p, pg in zip(ctx.inputs, input_grads))
        for hook in list(self.post.values()):
            grad_inputs = tuple(None if input_grads[i] is None or not isinstance(ctx.inputs[i], Tensor)
                                or not ctx.inputs[i]._requires_grad else
                                _as_tensor(_dense(input_grads[i], ctx.xp), ctx.device)
                                for i in tensor_inputs)
            new = hook(grad_inputs, (None if g is None else _as_tensor(g, ctx.device),))
            if new is None:
                continue
            if not isinstance(new, (tuple, list)) or len(new) != len(tensor_inputs):
                raise AutogradError(f"a hook on {ctx.name()} returned {type(new).__name__} "
                                    f"{len(new) if isinstance(new, (tuple, list)) else ''}; it must "
                                    f"return None or one gradient per next_functions entry "
                                    f"({len(tensor_inputs)})")
            input_grads = list(input_grads)
            for i, grad in zip(tensor_inputs, new):
                old = input_grads[i]
                input_grads[i] = None if grad is None or old is None else \
                    _replacement(ctx, "hook", grad, _dense(old, ctx.xp))
            input_grads = tuple(input_grads)
        return input_grads


def _as_tensor(g, device: "Device") -> "Tensor":
    return g if isinstance(g, Tensor) else Tensor._make(g, device)


def _dense(g, xp):
    """Indexing's sparse gradient as the array it stands for (hooks see plain gradients)."""
    return g.add_into(xp, xp.zeros(g.shape, dtype=g.dtype)) if isinstance(g, ops.SparseGrad) else g


def _replacement(ctx: Function, what: str, new, old):
    """A hook's replacement for gradient ``old``: a Tensor of its shape and dtype, given back in
    ``old``'s form (a Tensor in graph mode, else an array)."""
    if not isinstance(new, Tensor) or new.shape != old.shape or new.dtype != old.dtype:
        error = InputTypeError if not isinstance(new, Tensor) else \
            ShapeError if new.shape != old.shape else DTypeError
        raise error(f"a {what} on {ctx.name()} returned {getattr(new, 'shape', type(new).__name__)} "
                    f"{getattr(new, 'dtype', '')} for a gradient of {old.shape} {old.dtype}")
    return new if isinstance(old, Tensor) else new.array


class _NodeHook:
    """An AccumulateGrad hook among a leaf's post-accumulate hooks: called with the incoming
    gradient as torch's node hooks are, ``hook(grad_inputs, grad_outputs)``."""

    def __init__(self, hook: Callable[[tuple, tuple], None]) -> None:
        self.hook = hook


class _DetachRef(weakref.ref):
    """A ``.detach()`` alias's entry in a shared version box: it shares the memory (and the
    version) but is no autograd view, so it does not stop a graph op being written into its
    base in place (torch's CopySlices: ``buf[:] = y`` with ``y`` requiring grad while
    ``sd = m.state_dict()`` holds ``buf.detach()``)."""
    __slots__ = ()


class _NoGradViewRef(weakref.ref):
    """The entry of a view made under no_grad() of a tensor that requires grad: torch refuses
    to write such a view in place with grad mode on (the base's graph cannot follow the write,
    its gradient would silently ignore it), and to use it in a graph once its memory was written
    after it was made (``version``: the memory's version then; see _refuse_rebased_view)."""
    __slots__ = ("version",)


class _DetachViewRef(weakref.ref):
    """The entry of a view of a ``.detach()`` alias (or of such a view): like the alias it is
    outside the graph, so a later in-place write into the memory's root gives it no node (torch:
    it is a view of the alias, not of the root); a tracked write into that alias (``alias``: its
    entry) does."""
    __slots__ = ("alias",)


def _detach_origin(t: "Tensor", refs: list) -> "_DetachRef | None":
    """The entry of the .detach() alias that ``t`` (sharing memory) is, or is a view of."""
    for r in refs:
        if r() is t and type(r) in (_DetachRef, _DetachViewRef):
            return r if type(r) is _DetachRef else r.alias
    return None


def _is_detach_alias(t: "Tensor") -> bool:
    return any(type(r) is _DetachRef and r() is t for r in t._version_box[1])


def _follows_alias(ref: "_DetachViewRef", root: "Tensor") -> bool:
    """Whether the view of a .detach() alias behind ``ref`` follows a write into ``root``: the
    alias itself, or a stand-in for it once it is gone."""
    alias = ref.alias()
    return alias is root or alias is None and _is_detach_alias(root)


def _is_no_grad_view(t: "Tensor") -> bool:
    return any(type(r) is _NoGradViewRef and r() is t for r in t._version_box[1])


def _of_no_grad_view(t: "Tensor") -> bool:
    """Whether ``t`` (sharing memory) is a view made under no_grad() of a tensor that requires
    grad -- looked for only while the memory's first tensor requires grad (a view of ``t`` made
    under no_grad() is one too, as torch's "view of a view created in no_grad mode")."""
    first = t._version_box[1][0]()
    return first is not None and first._requires_grad and _is_no_grad_view(t)


def _share(source: "Tensor", target: "Tensor", detached: bool = False,
           no_grad_view: bool = False) -> None:
    """``target`` (a view or .detach() of ``source``) now shares ``source``'s memory and in-place
    version box.  A shared box holds, after the version, a list of weak references to the tensors
    sharing it, so that an in-place op on a tracked tensor is refused (``_rebase``: the others'
    graphs would not see the write) only while another of them is alive -- a view that was freed
    no longer counts.  Dead references are dropped now and then, so a long-lived tensor viewed
    in a loop (``row = x[i]``) keeps a short list."""
    box = source._version_box
    if len(box) == 1:
        box.append([weakref.ref(source)])
    refs = box[1]
    origin = (None if detached or no_grad_view or len(refs) < 2 or source._requires_grad
              else _detach_origin(source, refs))
    if origin is not None:
        ref = _DetachViewRef(target)
        ref.alias = origin
    else:
        ref = (_DetachRef(target) if detached else _NoGradViewRef(target) if no_grad_view
               else weakref.ref(target))
        if no_grad_view:
            ref.version = box[0]
    refs.append(ref)
    n = len(refs)
    if n >= 32 and not n & (n - 1):           # at 32, 64, 128, ...: amortised O(1) per view
        refs[:] = [r for r in refs if r() is not None]
    target._version_box = box


def _dense_copy(a: Any) -> Any:
    """A copy of ``a`` in its own layout where it is dense (a channels_last gradient given to
    backward / autograd.grad stays channels_last, as torch's), else in C order."""
    from .memory_formats import dense_order
    return a.copy() if dense_order(a) is None else a.copy(order="K")


def _grad_layout(g: Any, param: Any) -> Any:
    """``g`` laid out as torch's AccumulateGrad lays out a leaf's first gradient (its layout
    contract): in ``param``'s order where ``param`` is dense (a channels_last weight gets a
    channels_last ``.grad``), else C order.  ``g`` itself where it already is."""
    from .memory_formats import dense_order, like
    if param.flags.c_contiguous or dense_order(param) is None:
        return g if g.flags.c_contiguous else g.copy(order="C")
    if g.flags.c_contiguous or dense_order(g) != dense_order(param):
        return like(g if g.flags.c_contiguous else g.copy(order="C"), param)
    return g


def _strided_alias(source: "Tensor", out: "Tensor", base: Any, shape: tuple, strides: tuple,
                   overlapping: bool) -> None:
    """Make ``out`` -- ``source``'s elements gathered, with that gather's graph -- a view of
    ``source``'s memory, as torch's unfold / as_strided are: ``base`` (an array in that memory)
    seen with ``shape`` and byte ``strides``.  A view whose elements overlap is read-only to
    NumPy (its buffered ufuncs would not write as torch does: ``_in_place`` writes it through
    :func:`_write_overlapping`), or on CuPy stays a copy."""
    xp = source.device.xp
    if xp is np:
        out.array = np.lib.stride_tricks.as_strided(
            base, shape, strides, writeable=not overlapping and base.flags.writeable)
    elif overlapping:
        return
    else:
        out.array = xp.lib.stride_tricks.as_strided(base, shape, strides)
    share_view(source, out)


def share_view(source: "Tensor", view: "Tensor") -> None:
    """:func:`_share` for a view made outside ``Function.apply`` (diagonal, unfold, as_strided):
    one made under no_grad() of a tensor that requires grad is marked so, as apply marks its
    views, so that a write into it with grad mode on is refused as torch refuses it (its base's
    graph would not see the write)."""
    no_grad_view = not _grad_mode.enabled and (source._requires_grad or (
        len(source._version_box) > 1 and _of_no_grad_view(source)))
    _share(source, view, no_grad_view=no_grad_view)
    if no_grad_view and view.array.dtype.kind in "fc":
        view._requires_grad = True    # torch: such a view still requires grad, a leaf with no
        # grad_fn: ops on it build a graph, whose gradient stops there (_accumulate_grad)


def _shares_live_memory(t: "Tensor") -> bool:
    """Whether a view or .detach() of ``t`` (or the tensor ``t`` is a view of) is still alive.
    When none is, ``t``'s box is unshared again (a later view registers ``t`` anew)."""
    box = t._version_box
    if len(box) == 1:
        return False
    live = [r for r in box[1] if r() is not None]
    if any(r() is not t for r in live):
        box[1][:] = live
        return True
    del box[1:]
    return False


def _single_owner_count() -> int:
    """What ``sys.getrefcount`` says of an array one attribute holds (2 on CPython 3.11: the
    attribute and the call's argument; an interpreter that borrows references says less) --
    measured once, so :func:`_held_outside` does not assume it."""
    class Holder:
        pass
    holder = Holder()
    holder.array = np.empty(0)
    return sys.getrefcount(holder.array)


_SINGLE_OWNER = _single_owner_count()


def _held_outside(t: "Tensor") -> bool:
    """Whether something other than ``t`` and its op's saved values holds ``t``'s array -- a
    NumPy array from ``t.detach().cpu().numpy()`` (Council-GAN keeps those in a loss history
    before ``loss *= w``): an in-place write must then land in that memory, as torch's does,
    rather than hand ``t`` a new buffer.  ``_SINGLE_OWNER`` references are ``t``'s own."""
    if sys.getrefcount(t.array) <= _SINGLE_OWNER:
        return False
    return not _saves_alias(t._ctx, t.array, skip_inputs=True)


def _mark_saved_outputs_written(t: "Tensor", skip: "Tensor | None" = None) -> None:
    """After an in-place write into ``t``'s memory: each live tensor sharing it whose op saved
    that memory for backward (``y = x.exp(); y.detach().mul_(2)``, relu's or sigmoid's output)
    has its node marked, so that a backward through it is refused -- torch's saved-variable
    version check, which ``Function.versions`` (inputs only) does not cover.  The node's input
    versions are set to -1 (no version), so ``_check_still_valid`` refuses it with no work
    added to the backward walk; the write itself stays allowed, as torch's.  ``skip``: a tensor
    whose node the write itself just made (``p.detach().mul_(p)``: it holds the alias's old
    value, a copy, and ``p`` as an input, which the version check covers where it is read)."""
    for ref in t._version_box[1]:
        other = ref()
        if other is skip:
            continue
        ctx = None if other is None else other._ctx
        if ctx is None or ctx.released or "output_written" in ctx.__dict__:
            continue
        if _saves_alias(ctx, other.array):
            ctx.output_written = True
            ctx.versions = tuple(None if v is None else -1 for v in ctx.versions)


def _whole_aliases(t: "Tensor") -> bool:
    """Whether every other live tensor sharing ``t``'s memory is all of it, laid out as ``t``
    (``p`` and its ``.detach()`` aliases): then a tracked write into alias ``t`` gives ``t`` alone
    the new node, as torch's.  A live partial view could be a view of ``t`` (torch: its node
    follows the write) or of ``p`` (its node does not), which the memory cannot tell apart --
    but for a view of an alias (a _DetachViewRef entry: it follows a write into its alias)."""
    a = t.array
    for ref in t._version_box[1]:
        other = ref()
        if other is None or other is t or type(ref) is _DetachRef or type(ref) is _DetachViewRef:
            continue
        b = other.array
        if b.shape != a.shape or b.strides != a.strides or _address(b) != _address(a):
            return False
    return True


def _mark_relaid_output_written(t: "Tensor") -> None:
    """Before a tracked write into ``t``, whose node is an in-place view op's (``t_()``,
    ``squeeze_()``: its input the old ``t``, in the same memory): the op that made the old
    ``t``, down any chain of such ops, has its backward refused if it saved that memory (exp's
    output) -- torch's version check; one that saved nothing of it stays valid."""
    ctx = t._ctx
    while ctx is not None and not ctx.released and ctx.__dict__.get("in_place_view"):
        t = ctx.inputs[0]
        ctx = t._ctx
    if ctx is not None and not ctx.released and "output_written" not in ctx.__dict__ \
            and _saves_alias(ctx, t.array):
        ctx.output_written = True
        ctx.versions = tuple(None if v is None else -1 for v in ctx.versions)


def _saves_alias(ctx: Function, array: Any, skip_inputs: bool = False) -> bool:
    """Whether op context ``ctx`` holds ``array`` (its output) or a view of its memory for
    backward -- exp's or tanh's saved result, or an input the output is a view of: then the
    output cannot be written in place without changing what backward computes with.  Looks
    through the context's attributes and tuples / lists / dicts of them, three levels deep
    (deeper nesting counts as an alias: refusing is safe, a missed alias is a wrong gradient).
    ``skip_inputs``: only what the op saved, not the input Tensors it holds (a view's input is
    its base: writing the view writes the base, which the version check covers); an op whose
    backward reads no input's value (``reads_inputs`` False: SetItem, CopySlices, a view) is
    looked at for what it saved alone, as torch's node saved none of its inputs."""
    base = array if array.base is None else array.base

    def holds(v: Any, depth: int) -> bool:
        if isinstance(v, Tensor):
            v = v.array
        if hasattr(v, "shape") and hasattr(v, "base"):
            return v is array or v is base or v.base is base
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, (tuple, list)):
            return depth >= 3 or any(holds(item, depth + 1) for item in v)
        return False

    skip_inputs = skip_inputs or not ctx.reads_inputs
    return any(holds(value, 0) for key, value in vars(ctx).items()
               if not (skip_inputs and key == "inputs"))


def _raise_argument_error(array: Any, update: Callable[[Any], None]) -> None:
    """Run an in-place ``update`` on a copy of ``array``, so that the op's own typed argument
    error (index_add_'s 0-d source: an IndexError) comes before an autograd refusal, as torch
    checks the arguments first.  Only on that refusal's path: the copy costs nothing elsewhere."""
    try:
        update(array.copy())
    except TensorganError:
        raise
    except Exception:       # an untyped NumPy complaint: the refusal stands
        pass


def _multi_views(pieces: list, op: str) -> tuple:
    """unbind's / split's / chunk's outputs: views that, tracked by autograd, refuse an in-place
    write (through them or a view of them), as torch's outputs of a function returning several
    views do -- marked on their nodes here, so the ops themselves pay nothing."""
    for i, piece in enumerate(pieces):
        if piece._ctx is not None:
            piece._ctx.output_nr = i          # torch's output_nr: the piece's index
            piece._ctx.view_write_refused = (
                f"output {i} of {op} is a view and is being modified inplace. This view is the "
                f"output of a function that returns multiple views. Such functions do not allow "
                f"the output views to be modified inplace (as torch, refused): replace the "
                f"inplace operation by an out-of-place one (or write a .clone())")
    return tuple(pieces)


def _view_write_refusal(t: "Tensor") -> "str | None":
    """Why an in-place write into view ``t`` is refused (``Function.view_write_refused`` on its
    node or on a node of the views it was made from, in its memory), or None."""
    box = t._version_box
    while t._ctx is not None and not (t._ctx.hollow or t._ctx.released):   # (freed: no inputs)
        ctx = t._ctx
        refused = getattr(ctx, "view_write_refused", None)
        if refused:
            return refused
        parent = ctx.inputs[0] if ctx.inputs else None
        if not isinstance(parent, Tensor) or parent._version_box is not box:
            return None
        t = parent
    return None


def _view_chain(t: "Tensor") -> "tuple[Tensor, tuple] | None":
    """``(root, steps)`` when ``t`` is a view, made by view ops autograd can re-apply
    (ops.VIEW_STEP_OPS: reshape / view / flatten, (un)squeeze, permute / transpose / t, basic
    indexing), of ``root``, the op result or leaf whose memory it shares; ``steps``: ``((op
    class, its argument), ...)`` from the root to ``t``.  None when ``t`` is no view, or one
    made by another op (expand, a view made under no_grad, ...), or its graph was freed."""
    box, steps = t._version_box, []
    while True:
        ctx = t._ctx
        if ctx is None:
            break
        if ctx.released or ctx.hollow:     # (a hollow node's inputs hold no memory)
            return None
        parent = ctx.inputs[0]
        if not isinstance(parent, Tensor) or parent._version_box is not box:
            break
        if type(ctx) not in ops.VIEW_STEP_OPS or len(ctx.inputs) != 2 or (
                type(ctx) is ops.GetItem and not ops._is_basic_index(ctx.inputs[1])):
            return None
        if ctx.versions[0] != parent._version_box[0]:
            return None     # made before the parent changed (t_(), a write): where, not how
        steps.append((type(ctx), ctx.inputs[1]))
        t = parent
    return (t, tuple(reversed(steps))) if steps else None


def _address(a: Any) -> int:
    """The address of array ``a``'s first element (NumPy or CuPy)."""
    return a.__array_interface__["data"][0] if isinstance(a, np.ndarray) else a.data.ptr


def _view_positions(xp: Any, base: Any, view: Any) -> Any:
    """Where each element of array ``view`` lies in array ``base``, as flat C-order positions
    (an int64 array of ``view``'s shape) -- read from the two arrays' memory layouts, so any view
    NumPy / CuPy made counts (slices, diagonal, unfold, as_strided, ...).  None when some element
    of ``view`` is not one of ``base``'s (outside it, between its strides, another dtype), or
    ``base`` itself repeats memory (an expanded array)."""
    item = base.dtype.itemsize
    if view.dtype != base.dtype:
        return None
    if view.size == 0:              # (also of an empty base: no element to place)
        return xp.zeros(view.shape, dtype=np.int64)
    if base.size == 0:
        return None
    if any(s % item for s in base.strides + view.strides) or any(
            s == 0 and n > 1 for n, s in zip(base.shape, base.strides)):
        return None
    offset = _address(view) - _address(base)
    if offset % item:
        return None
    offset //= item
    bs = [s // item for s in base.strides]
    vs = [s // item for s in view.strides]
    lo = sum(min(0, (n - 1) * s) for n, s in zip(base.shape, bs))
    hi = sum(max(0, (n - 1) * s) for n, s in zip(base.shape, bs))
    vlo = offset + sum(min(0, (n - 1) * s) for n, s in zip(view.shape, vs))
    vhi = offset + sum(max(0, (n - 1) * s) for n, s in zip(view.shape, vs))
    if vlo < lo or vhi > hi:
        return None
    as_strided = xp.lib.stride_tricks.as_strided
    storage = xp.full(hi - lo + 1, -1, dtype=np.int64)   # base's memory, element by element
    inside = as_strided(storage[-lo:], base.shape, [s * 8 for s in bs])
    inside[...] = xp.arange(base.size, dtype=np.int64).reshape(base.shape)
    where = as_strided(storage[offset - lo:], view.shape, [s * 8 for s in vs]).copy()
    return None if bool((where < 0).any()) else where


def _view_positions_of(xp: Any, base: Any, view: Any) -> "ops.ViewPositions | None":
    """:func:`_view_positions` as a ViewPositions; for a real view of a complex ``base`` (real,
    imag, view_as_real and views of those) the positions of its elements among ``base``'s
    (real, imaginary) pairs.  None when ``view`` is no view of ``base``."""
    where = _view_positions(xp, base, view)
    if where is not None:
        return ops.ViewPositions(where)
    if base.dtype.kind != "c" or view.dtype != base.real.dtype:
        return None
    re = base.real
    pairs = xp.lib.stride_tricks.as_strided(re, base.shape + (2,), re.strides + (re.itemsize,))
    where = _view_positions(xp, pairs, view)
    return None if where is None else ops.ViewPositions(where, pairs=True)


def _copy_slices(base: "Tensor", src: "Tensor", view: "ops.ViewSteps | ops.ViewPositions") -> "Tensor":
    """``base`` with ``view``'s elements replaced by ``src`` (CopySlices); a real view of a
    complex base (``view.pairs``) is written into the base's (real, imaginary) pairs."""
    if not getattr(view, "pairs", False):
        return ops.CopySlices.apply(base, src, view)
    from .complex_ops import view_as_complex, view_as_real
    return view_as_complex(ops.CopySlices.apply(view_as_real(base), src, view))


def _write_overlapping(view: Any, update: Callable[[Any], None]) -> bool:
    """``update`` (an in-place op's write of a whole array) applied to ``view``, a read-only
    NumPy view whose elements overlap (unfold's or as_strided's windows) in writable memory,
    as torch applies it: element after element in row-major order, each reading what the
    earlier ones wrote (``unfold(0, 3, 1).mul_(2)`` doubles an element once per window it is
    in).  Done in layers -- the first occurrence of each memory location, then the second,
    ... -- each the update of the view's current values, kept at that layer's elements: for
    an elementwise update the same result.  False (nothing written) for a view torch refuses
    too (a stride 0: expand) or one of read-only or non-contiguous memory."""
    if not isinstance(view, np.ndarray) or any(s == 0 and n > 1 for n, s in zip(view.shape, view.strides)):
        return False
    owner = view
    while getattr(owner, "base", None) is not None:     # (as_strided's base is NumPy's DummyArray)
        owner = owner.base
    if isinstance(owner, np.ndarray) and not owner.flags.c_contiguous:
        # a block in another order of dims (a gradient copied as its F-order caller's): its
        # dims by stride, which are C order when it is dense (else refused below)
        owner = owner.transpose(np.argsort([-s for s in owner.strides], kind="stable"))
    if not isinstance(owner, np.ndarray) or not owner.flags.c_contiguous or not owner.flags.writeable:
        return False
    where = _view_positions(np, owner, view)
    if where is None:
        return False
    flat, where = owner.reshape(-1), where.reshape(-1)
    order = np.argsort(where, kind="stable")             # each location's occurrences, in order
    ranked = where[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    layer = np.empty_like(where)
    layer[order] = np.arange(where.size) - np.repeat(starts, np.diff(np.r_[starts, where.size]))
    for k in range(int(layer.max()) + 1 if where.size else 0):
        values = flat[where].reshape(view.shape)        # a writable copy of the current values
        update(values)
        mine = layer == k
        flat[where[mine]] = values.reshape(-1)[mine]
    return True


class _WritableInterface:
    """An array interface NumPy reads as a writable array over ``base``'s memory."""
    def __init__(self, interface: dict, base: Any) -> None:
        self.__array_interface__, self.base = interface, base


def _repeats_memory(a: Any) -> bool:
    """Whether ``a`` has a dim of stride 0 and size > 1 (torch's ``MemOverlap::Yes``: expand)."""
    return any(s == 0 and n > 1 for n, s in zip(a.shape, a.strides))


def _may_overlap(a: Any) -> bool:
    """Whether elements of ``a`` (a NumPy array) may share memory: False when its dims, by
    stride, each step past everything the smaller-stride dims span (then no two overlap)."""
    extent = a.itemsize
    for s, n in sorted((abs(s), n) for n, s in zip(a.shape, a.strides) if n > 1):
        if s < extent:
            return True
        extent += s * (n - 1)
    return False


def _filled_block(a: Any) -> bool:
    """torch's is_non_overlapping_and_dense for an array: its elements fill one block of memory
    with none repeated (any order of dims; a negative stride -- a NumPy flip -- is not)."""
    if a.flags.c_contiguous or a.flags.f_contiguous:
        return True
    extent = a.itemsize
    for s, n in sorted((s, n) for n, s in zip(a.shape, a.strides) if n > 1):
        if s != extent:
            return False
        extent *= n
    return True


def _refuse_partial_overlap(name: str, out: Any, operands: Any, full: bool = False) -> None:
    """torch's check before an in-place or ``out=`` write (``assert_no_partial_overlap``): an
    operand over part of the written memory -- ``x[1:].add_(x[:-1])`` -- is refused, as its
    result would depend on the order elements are written in.  The very memory (``x.add_(x)``,
    same start, shape and strides) is allowed, unless ``full`` (torch's ``assert_no_overlap``:
    index_add_, scatter_, index_put_, ...); so, as torch's "too hard to tell", is an operand or
    output whose elements do not fill one block (``x[::2]``, expand's stride 0, a NumPy flip).
    Cheap: one bounds test (``may_share_memory``) per Tensor operand when one of the two is a
    view (or, ``full``, the same array)."""
    for o in operands:
        if isinstance(o, Tensor) and _overlap_refused(o.array, out, full):
            raise MemoryOverlapError(
                f"{name}: unsupported operation: some elements of the input tensor and the "
                f"written-to tensor refer to a single memory location. Please clone() the tensor "
                f"before performing the operation. (As torch: the operand lies over "
                f"{'the tensor written' if full else 'part of the tensor written, so the result would depend on the order of the writes'})")


def _overlap_refused(a: Any, out: Any, full: bool = False) -> bool:
    """torch's get_overlap_status of arrays ``a`` and ``out`` is Partial (or, ``full``, Full too).
    Strides of length-1 dims are not compared (NumPy's are arbitrary: 0 for ``x[:, None]``,
    where torch's unsqueeze gives the next dim's extent)."""
    if a is out:
        return full and a.size > 0
    if (a.base is None and out.base is None) or not a.size or not out.size:
        return False                       # (two arrays that own their memory: never shared)
    may_share = np.may_share_memory if type(a) is np.ndarray else getattr(
        sys.modules.get("cupy"), "may_share_memory", None)
    if may_share is None or type(a) is not type(out) or not may_share(a, out) \
            or not (_filled_block(a) and _filled_block(out)):
        return False                       # apart, or too hard to tell (as torch: allowed)
    # two filled blocks whose bounds meet: partial unless the very memory, element for element
    # (same shape, strides and start; both translates of each other, so same first element)
    if full or a.shape != out.shape or not (a.strides == out.strides or all(
            s == t for n, s, t in zip(a.shape, a.strides, out.strides) if n > 1)):
        return True
    if not a.ndim:
        return False                       # one element each: the same one
    corner = (slice(0, 1),) * a.ndim
    return not may_share(a[corner], out[corner])


# in-place ops torch writes without that check (BLAS's, masked_scatter_, the fills, whose 0-d
# value torch reads as a number): left to NumPy, which reads an overlapping operand before it
# writes; and those torch refuses any overlap for (assert_no_overlap), the very memory too
_OVERLAP_UNCHECKED = frozenset({"addmm_", "addmv_", "addbmm_", "baddbmm_", "masked_scatter_",
                                "masked_fill_", "index_fill_", "fill_",   # (torch clones an aliasing value)
                                "x[key] = value", "index_put_"})   # (checked by their own code)
_OVERLAP_ANY = frozenset({"index_add_", "index_copy_", "index_reduce_", "scatter_", "scatter_add_",
                          "scatter_reduce_", "put_"})


def _refuse_setitem_overlap(a: Any, key: Any, split: Any, value: Any) -> None:
    """``x[key] = value``'s overlap check, as torch's (at::indexing::set_item): a basic key
    copies ``value`` into the view ``x[key]`` (copy_: a partial overlap refused, ``w[1] += w[0]``
    writes w[1] over itself), except that a 0-d value is read as a number (fill_) and a value
    broadcast along a dim (expand's stride 0) is too hard to tell; an advanced key is index_put_
    into ``x`` with the key's basic part applied (any overlap refused), or, for a single mask
    and a one-element value, masked_fill_ (a number: not checked)."""
    v = value.array
    if split is None and ops._is_basic_index(key):
        target = a[key]
        if type(target) is not type(a):      # one element by ints: a copy, nothing to check
            return
        if v.shape != target.shape:
            if v.ndim == 0:
                return                        # torch's fill_ with the value's number
            shape = v.shape
            while shape and shape[0] == 1:
                shape = shape[1:]
            lead = target.ndim - len(shape)
            if lead < 0 or shape != target.shape[lead:] or any(n != 1 for n in target.shape[:lead]):
                return                        # broadcast along a dim: a stride 0, too hard to tell
            v = v.reshape(target.shape)       # (length-1 dims added: a view)
        if _overlap_refused(v, target):
            _refuse_partial_overlap("x[key] = value", target, (value,))   # (raises)
        return
    keys = key if isinstance(key, tuple) else (key,)
    basic, advanced = [], []
    for k in keys:
        if k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice)):
            basic.append(k)
        else:
            mask = k if hasattr(k, "dtype") else np.asarray(k)
            advanced.append(mask)
            basic.extend([slice(None)] * (mask.ndim if mask.dtype == BOOL else 1))
    if v.size == 1 and len(advanced) == 1 and advanced[0].dtype == BOOL:
        return                                # torch's masked_fill_ with the value's number
    target = a[tuple(basic)]
    if _overlap_refused(v, target, full=True):
        _refuse_partial_overlap("x[key] = value", target, (value,), full=True)   # (raises)


def _check_grad_dtype(requires_grad: bool, dt: np.dtype) -> None:
    """torch's rule for ``requires_grad=True``: floating point and complex tensors only."""
    if requires_grad and dt.kind not in "fc":
        raise DTypeError(f"only float tensors can require gradients (floating point or complex "
                         f"dtypes, as torch), got a {dt} tensor")


def _check_uniform_bounds(a: Any, b: Any, dt: np.dtype | None = None) -> None:
    """uniform_'s bounds as torch checks them: from <= to, both finite (torch: "from is out of
    bounds for float" for a NaN or infinite bound) and, with the tensor's dtype ``dt``, within
    its range, to - from too (else the draws would be inf)."""
    if b < a:
        raise SamplingParameterError(f"uniform_: need a <= b, got a={a}, b={b}")
    most = math.inf if dt is None else float(np.finfo(dt).max)
    for name, v in (("from", a), ("to", b)):
        if not -most <= v <= most:
            raise SamplingParameterError(f"uniform_: {name} is out of bounds for a "
                                         f"{'float' if dt is None else dt} tensor, got {v} (as "
                                         f"torch: the bounds must be finite numbers of its dtype)")
    if dt is not None and not float(b) - float(a) <= most:
        raise SamplingParameterError(f"uniform_: to - from must be <= {most} (the {dt} maximum), "
                                     f"got from={a}, to={b}")


_REAL_SCALARS = (int, float, np.integer, np.floating, np.bool_)   # number / tensor as torch's rdiv

_READ_ONLY_WARNED = [False]


def writable_numpy(a: np.ndarray, warn: bool = True) -> np.ndarray:
    """torch.from_numpy's treatment of a NumPy array flagged ``writeable=False``: torch warns
    (once a program) and writes into its memory anyway. The same here: a writable view of that
    memory (the array itself keeps its flag), where the memory is an array's own -- a read-only
    buffer (bytes, a read-only memory map) or an array whose elements overlap (broadcast_to)
    stays read-only, and in-place writes are refused (ReadOnlyMemoryError / MemoryOverlapError).
    ``warn=False``: no warning (torch.from_dlpack gives none)."""
    if a.flags.writeable:
        return a
    if warn and not _READ_ONLY_WARNED[0]:
        _READ_ONLY_WARNED[0] = True
        warnings.warn("The given NumPy array is not writable, and PyTorch does not support "
                      "non-writable tensors. This means writing to this tensor will result in "
                      "undefined behavior. You may want to copy the array to protect its data or "
                      "make it writable before converting it to a tensor. This type of warning "
                      "will be suppressed for the rest of this program. (as torch warns; "
                      "tensorgan writes into the array's memory where it is writable memory, "
                      "and refuses where it is not)", UserWarning, stacklevel=_caller_level())
    if _may_overlap(a):
        return a
    view = a.view()
    try:
        view.flags.writeable = True       # a read-only view of a writable array
        return view
    except ValueError:
        pass
    owner = a                             # the array owning the memory, flagged read-only
    while isinstance(owner.base, np.ndarray) and not owner.flags.owndata:
        owner = owner.base
    try:
        owner.flags.writeable = True      # refused for memory that is not writable (bytes, mmap)
    except ValueError:
        return a
    try:
        view.flags.writeable = True
    except ValueError:
        return a
    finally:
        owner.flags.writeable = False     # the user's array keeps its flag
    return view


# the type of as_strided's base (NumPy's DummyArray, whose module path is private)
_DUMMY_ARRAY = type(np.lib.stride_tricks.as_strided(np.zeros(1), (1,), (8,)).base)


def _write_expanded(a: Any, update: Callable[[Any], None], op: str | None) -> bool:
    """``update`` (an in-place op's write of a whole array) applied to ``a``, a read-only NumPy
    view whose elements share memory (expand()'s result), as torch applies the ops it allows
    there (fill_, masked_fill_, index_fill_, index_put_ / ``x[mask] = v``, a write into a
    non-repeating part): the update runs on a copy of ``a``'s values, and each element it
    changed is written into the shared memory (so the expanded tensor and every view of that
    memory see it; where two changed elements share a location, the later one in row-major
    order stays).  ``op`` names the op for torch's deprecation warning (None: none).  False
    (nothing written) when ``a``'s memory is not a writable NumPy array's."""
    if not isinstance(a, np.ndarray):
        return False
    owner = a
    while isinstance(getattr(owner, "base", None), (np.ndarray, _DUMMY_ARRAY)):
        owner = owner.base              # (as_strided's base is NumPy's DummyArray: through it)
    if owner is a or not isinstance(owner, np.ndarray) or not owner.flags.writeable:
        return False
    interface = a.__array_interface__
    start, end = _byte_bounds(a)
    first, last = _byte_bounds(owner)
    if start < first or end > last:
        return False
    values = a.copy()
    update(values)
    changed = _changed(values, a)
    if op is not None:
        _warn_expanded(op)
    alias = np.asarray(_WritableInterface(dict(interface, data=(interface["data"][0], False)), owner))
    alias[changed] = values[changed]
    return True


def _changed(new: Any, old: Any) -> Any:
    """Where arrays ``new`` and ``old`` (one shape and dtype) differ, by bits (-0.0 vs 0.0, NaN)."""
    bits = f"u{old.itemsize}" if old.itemsize in (1, 2, 4, 8) else None
    return new.view(bits) != old.view(bits) if bits else new != old


def _warn_expanded(op: str) -> None:
    """torch's deprecation warning for ``op`` (masked_fill_ / index_fill_ / index_put_) on
    expand()'s result."""
    warnings.warn(f"Use of {op} on expanded tensors is deprecated. Please clone() the tensor "
                  f"before performing this operation. This also applies to advanced indexing "
                  f"e.g. tensor[{'indices] = tensor' if op == 'index_put_' else 'mask] = scalar'}"
                  f" (as torch warns)", UserWarning, stacklevel=_caller_level())


def _real_scalar(value: Any, target: str) -> Any:
    """``float(t)`` / ``int(t)`` of a complex tensor: its real part when the imaginary part is 0,
    else torch's RuntimeError (a DTypeError here: also the TypeError Python gives) -- also for
    ``int`` of a real part that is not finite or outside int64, as torch's checked conversion."""
    if isinstance(value, complex):
        if value.imag or (target == "int64_t" and not -2.0 ** 63 <= value.real < 2.0 ** 63):
            raise DTypeError(f"value cannot be converted to type {target} without overflow (a complex "
                             f"value {value!r}: take .real or .abs() first)")
        return value.real
    return value


def _caller_level() -> int:
    """The warnings.warn stacklevel of the first frame outside tensorgan (the user's call)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("tensorgan."):
        frame, level = frame.f_back, level + 1
    return level


def _byte_bounds(a: Any) -> tuple[int, int]:
    """The first and one-past-the-last byte of ``a``'s memory (NumPy's byte_bounds)."""
    start = end = a.__array_interface__["data"][0]
    for n, s in zip(a.shape, a.strides):
        if n == 0:
            return start, start
        if s < 0:
            start += (n - 1) * s
        else:
            end += (n - 1) * s
    return start, end + a.itemsize


def _setitem_expanded(a: Any, key: Any, split: Any) -> str | None:
    """For ``x[key] = v`` into ``a``, an expanded (read-only) array: as torch, None (refused)
    when the indexed part repeats memory (``x[:, 0] = v``: a copy_ into it); else the policy of
    :func:`_write_expanded` -- "index_put_" (allowed, warned) for an advanced index into a
    repeating part (``x[mask] = v``), "" (allowed) for a part that does not repeat (``x[0] = v``)."""
    target = a if split is None else a[split[0]]
    k = key if split is None else split[1]
    parts = k if isinstance(k, tuple) else (k,)
    if any(not (p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer))) or isinstance(p, bool)
           for p in parts):
        return "index_put_" if _repeats_memory(target) else ""
    try:
        return None if _repeats_memory(target[k]) else ""
    except (IndexError, TypeError, ValueError):
        return None


def _repeats(xp: Any, where: Any) -> bool:
    """Whether some position occurs twice in ``where`` (a view whose elements overlap)."""
    flat = where.reshape(-1)
    return flat.size > 1 and int(xp.unique(flat).size) != flat.size


def _move_hooks(t: "Tensor", old: "Tensor") -> None:
    """Before ``t`` is written in place: its gradient hooks move to ``old``, the stand-in for
    its old value (torch: hooks registered before an in-place op see the old version's
    gradient); retain_grad() stays with ``t`` (it keeps the newest version's)."""
    hooks = t._hooks
    if hooks is not None and hooks.hooks:
        old._hooks = _GradHooks()
        old._hooks.hooks, hooks.hooks = hooks.hooks, {}


def _memory_root(t: "Tensor") -> "Tensor":
    """The tensor whose memory ``t`` (a view, sharing its version box) is a view of: the first
    tensor that was viewed (the memory's owner) while it is alive, else the furthest tensor up
    ``t``'s chain of view ops."""
    box = t._version_box
    first = box[1][0]() if len(box) > 1 else None
    if first is not None:
        return first
    while t._ctx is not None and not (t._ctx.released or t._ctx.hollow):
        parent = t._ctx.inputs[0]
        if not isinstance(parent, Tensor) or parent._version_box is not box:
            break
        t = parent
    return t


def _re_appliable_view(ctx: Any, box: list) -> bool:
    """Whether ``ctx`` is a view op (reshape, basic indexing, ...) of a tensor sharing version
    box ``box``, whose backward reads no values: after a write into that memory, its node
    stays right once its recorded version is brought up to date (:meth:`Tensor._refresh_views`)."""
    return ctx is not None and not ctx.released and not ctx.hollow and type(ctx) in ops.VIEW_STEP_OPS \
        and ctx.inputs[0]._version_box is box and (
            type(ctx) is not ops.GetItem or ops._is_basic_index(ctx.inputs[1]))


def _detach_alias_root(t: "Tensor", leaf: "Tensor", name: str) -> "Tensor":
    """For a tracked write into ``t``, a view that needs no grad of ``leaf``'s memory (a leaf
    that requires grad): ``t`` was made from a ``.detach()`` alias of it (``a = p.detach();
    a[:2].add_(m)``), which torch's write gives a CopySlices node (``p`` keeps its own). That
    alias, while it is the only one alive, else a stand-in for it over the whole memory. Refused
    where the memory cannot tell which tensor ``t`` is a view of: several aliases alive, a
    partial one, or a sharer that requires grad (a view of ``leaf``, whose node must not follow)."""
    box, a = t._version_box, leaf.array
    aliases, why = [], None
    for ref in box[1]:
        other = ref()
        if other is None or other is leaf or other is t or type(ref) is _NoGradViewRef:
            continue
        if other._requires_grad:
            if not _re_appliable_view(other._ctx, box):     # (p[1:] follows p by its version)
                why = "a tensor sharing that memory requires grad (a view of the leaf)"
        elif type(ref) is _DetachRef:
            b = other.array
            if b.shape != a.shape or b.strides != a.strides or _address(b) != _address(a):
                why = "a .detach() of part of that memory is alive"
            aliases.append(other)
    if why is None and len(aliases) > 1:
        why = "several .detach() aliases of it are alive"
    if why is not None:
        raise AutogradError(f"{name}: a view of a .detach() alias of a leaf that requires grad, "
                            f"written in place with a value that requires grad, while {why}: "
                            f"tensorgan cannot tell which tensor the view is of (torch gives the "
                            f"alias the write's graph, the leaf not): write it out of place, or "
                            f"into a .clone()")
    if aliases:
        return aliases[0]
    root = Tensor._make(a, t.device)                  # the alias is gone: a stand-in for it
    root._version_box = box
    box[1].append(_DetachRef(root))
    return root


def _owner_root(t: "Tensor") -> "Tensor":
    """For a tracked write into ``t``, a view (made outside autograd) of a tensor that is gone:
    a Tensor of the whole memory it viewed (the array owning it), sharing ``t``'s version box,
    as the write's root -- so the gone tensor's other live views, partly overlapping ``t``,
    take the write's graph too (torch's views of one base all follow it).  ``t`` itself when
    that memory cannot serve (``t`` owns it, another dtype, read-only)."""
    a, owner = t.array, t.array
    while isinstance(getattr(owner, "base", None), type(a)):
        owner = owner.base
    if owner is a or owner.dtype != a.dtype or not owner.flags.writeable or not owner.size:
        return t
    root = Tensor._make(owner, t.device)
    root._version_box = t._version_box
    t._version_box[1].append(weakref.ref(root))
    return root


_np_bool = np.bool_


def _refuse_bool_subtraction(a: "Tensor", b: Any) -> None:
    """torch refuses ``-`` with a bool operand (a tensor or a Python bool): ``mask - 1`` or
    ``1 - mask`` is almost always a mask inversion gone wrong, and 0/1 arithmetic would hide it."""
    a_bool = a.array.dtype == BOOL
    b_bool = isinstance(b, bool) or (isinstance(b, Tensor) and b.array.dtype == BOOL)
    if a_bool and b_bool:
        raise DTypeError("Subtraction, the `-` operator, with two bool tensors is not supported "
                         "(as torch): use the `^` or logical_xor() operator instead")
    if a_bool or b_bool:
        raise DTypeError("Subtraction, the `-` operator, with a bool tensor is not supported (as "
                         "torch): to invert a mask use the `~` or logical_not() operator; for 0/1 "
                         "arithmetic convert it first (.long(), .float())")


def _operands(cls: type, args: tuple) -> tuple[Device, list, bool]:
    """(device, the arguments with each Tensor replaced by its array, whether any Tensor requires
    grad) -- after checking that the Tensors share one device and one float dtype.  Integer
    tensors are promoted as torch does (see ``_promoted``)."""
    device = dtype = None
    requires_grad = mixed = False
    arrays = []
    ints = []
    for arg in args:
        if not isinstance(arg, Tensor):
            arrays.append(arg)
            continue
        array = arg.array
        if device is None:
            device = arg.device
        elif arg.device is not device:
            raise DeviceError(f"{cls.__name__}: expected all tensors on one device, got {device} "
                              f"and {arg.device} (move one with .to(device))")
        if array.dtype.kind != "f":               # integers and masks: promoted below, once the
            if array.dtype.kind == "c":           # (complex: its own checks, off the float path)
                return _complex_operands(cls, args)
            if array.dtype == BOOL and cls.takes_int and not cls.takes_bool:   # float dtype is known
                raise DTypeNotImplementedError(    # torch's: "abs_cpu" not implemented for 'Bool'
                    f"{cls.__name__}: a bool tensor (a comparison's result) takes part in "
                    f"indexing, logic, shape ops and sums only; convert it with .float() for arithmetic")
            ints.append(array.dtype)
        elif dtype is None:
            dtype = array.dtype
        elif array.dtype != dtype:
            mixed = array.dtype
        requires_grad = requires_grad or arg._requires_grad
        arrays.append(array)
    if device is None:  # e.g. a NumPy array given where a Tensor is needed
        got = ", ".join(type(a).__name__ for a in args)
        raise InputTypeError(f"{cls.__name__}: expected a Tensor argument, got ({got}); wrap "
                             f"arrays with tensorgan.tensor(...)")
    if dtype is float16 and not cls.takes_half and not mixed:
        return device, None, requires_grad              # computed in float32: _redispatch
    if mixed:
        if cls.promotes_floats:
            return device, None, requires_grad          # Function.apply casts them first
        raise DTypeError(f"{cls.__name__}: expected tensors of one dtype, got {dtype} and {mixed} "
                         f"(torch refuses this op on mixed float dtypes too); convert one with "
                         f".to({dtype.name!r}) or .to({mixed.name!r})")
    if ints:
        if cls.refuses_int and dtype is None:
            _float_only(cls.__name__, next(a for a in args if isinstance(a, Tensor)))
        if cls.same_dtype and dtype is not None:
            raise DTypeError(f"{cls.__name__}: expected tensors of one dtype, got {ints[0]} and "
                             f"{dtype} (torch refuses to promote in matrix products); convert "
                             f"with .to({dtype.name!r}) or .float()")
        target = _promoted(cls, ints, dtype, args)
        if target is not None:
            arrays = [a.astype(target) if isinstance(arg, Tensor) and a.dtype.kind in "iub"
                      else a for a, arg in zip(arrays, args)]
    return device, arrays, requires_grad


def _redispatch(cls: type, args: tuple) -> "Tensor":
    """``cls.apply`` on float tensors of mixed widths (cast to torch's result dtype first) or on
    float16 ones for an op without a half kernel: computed in float32 and the result cast back
    to float16, as torch's CPU half ops do (float32 accumulators for sums, matmul and conv).
    The casts are graph ops, so each input's gradient comes back in its own dtype."""
    if any(isinstance(a, Tensor) and a.array.dtype.kind == "c" for a in args):
        from .complex_ops import complex_dispatch
        return complex_dispatch(cls, args)
    floats = {a.array.dtype for a in args if isinstance(a, Tensor) and a.array.dtype.kind == "f"}
    if len(floats) > 1:
        return cls.apply(*_promote_floats(args))
    wide = tuple(_half_to_float32(a) for a in args)
    out = cls.apply(*wide)
    return out.to(float16) if out.array.dtype is float32 else out


def _zero_dim_cast(a: Any, b: Any) -> tuple:
    """Arrays ``a`` and ``b`` (one 0-d, one not, dtypes differing) as torch compares them: a 0-d
    operand of the other's category or a lower one is cast to the other's dtype first (uint8 >
    a 0-d int8 -3 compares with 253; float32 == a 0-d float64 0.1 compares in float32)."""
    from .dtypes import _combine
    if a.ndim:
        target = _combine(a.dtype, b.dtype)
        return a, (b.astype(target) if target == a.dtype else b)
    target = _combine(b.dtype, a.dtype)
    return (a.astype(target) if target == b.dtype else a), b


def _int_beside_float(a: Any, b: Any) -> tuple:
    """Arrays ``a`` and ``b`` with an integer or bool one cast to the other's float dtype, as
    torch's result type for a comparison (NumPy's would compare int64 with float32 in float64:
    int64 2**24 + 1 == float32 2**24 is True in torch; int32 70000 == float16 inf too)."""
    if a.dtype.kind == "f" and b.dtype.kind in "iub":
        return a, _quiet_cast(b, a.dtype)
    if b.dtype.kind == "f" and a.dtype.kind in "iub":
        return _quiet_cast(a, b.dtype), b
    return a, b


def _quiet_cast(a: Any, dtype: Any) -> Any:
    """``a.astype(dtype)`` with no overflow warning (70000 is inf in float16, silently in torch)."""
    quiet = _FP_STATE.set(_FP_QUIET)
    try:
        return a.astype(dtype)
    finally:
        _FP_STATE.reset(quiet)


def _half_to_float32(a: Any) -> Any:
    """A float16 operand widened to float32; an integer or bool tensor beside it cast to float16
    on the way (torch's promotion casts it to the result dtype: int16 32767 is 32768.0)."""
    if not isinstance(a, Tensor) or a.array.dtype.kind not in "fiub":
        return a
    if a.array.dtype.kind != "f":
        a = a.to(float16)
    return a.to(float32) if a.array.dtype is float16 else a


def _complex_operands(cls: type, args: tuple) -> tuple:
    """``_operands`` for an op with a complex tensor among its arguments: the arrays as they are
    when the op takes complex ones of one dtype; else arrays None, so that ``apply`` goes through
    ``_redispatch`` to ``complex_ops.complex_dispatch`` (the op's complex form, casts, refusals)."""
    from .complex_ops import complex_ready
    return complex_ready(cls, args)


def _promote_floats(args: tuple) -> tuple:
    """The arguments with each float tensor cast (a differentiable Cast, so its gradient comes
    back in its own dtype) to torch's result dtype: the widest float among the tensors with
    dimensions, or among the 0-d ones when no tensor with dimensions is float -- a 0-d float64
    tensor beside a float32 one stays float32, as in torch."""
    floats = [a for a in args if isinstance(a, Tensor) and a.array.dtype.kind == "f"]
    dimensioned = [a.array.dtype for a in floats if a.array.ndim] or [a.array.dtype for a in floats]
    target = np.result_type(*dimensioned)
    return tuple(a.to(target) if isinstance(a, Tensor) and a.array.dtype.kind == "f" else a
                 for a in args)


def _promoted(cls: type, ints: list, float_dtype: np.dtype | None, args: tuple) -> np.dtype | None:
    """The dtype integer and bool operands become in op ``cls`` (None: they stay as they are):
    the float dtype beside them (int64 + float64 tensor -> float64), float32 for an op that is not
    exact on integers (exp, /, mean: torch's default dtype), else the widest integer (int32 +
    int64; bool + int64).  Bools alone stay bools in an op that takes them (shape ops, where)."""
    if float_dtype is not None:
        return float_dtype
    if cls.takes_bool and all(d == BOOL for d in ints):
        return None
    if not cls.takes_int:
        return _default_float[0]
    widest = np.result_type(*ints)
    if all(d == widest for d in ints):
        return None
    # torch's priorities: tensors with dimensions decide over 0-d ones of the same category
    # (an int32 tensor + a 0-d int64 one stays int32; a bool tensor + a 0-d int64 one: int64)
    from .dtypes import _combine
    dim = [a.array.dtype for a in args if isinstance(a, Tensor) and a.array.ndim]
    zero = [a.array.dtype for a in args if isinstance(a, Tensor) and not a.array.ndim]
    return _combine(np.result_type(*dim) if dim else None, np.result_type(*zero) if zero else None)


def _not_an_array(cls: type, out: Any) -> None:
    raise InputTypeError(f"{cls.__name__}.forward must return one array (of the inputs' array "
                         f"module), got {type(out).__name__}")


def _shares_memory(a, b) -> bool:
    """Whether array ``a`` is a view into ``b``'s memory (NumPy and CuPy keep the owner in .base)."""
    return a.base is not None and (a.base is b or a.base is b.base)


def _topological_order(roots: list["Tensor"]) -> list["Tensor"]:
    """Tensors reachable from the roots through contexts, every tensor after all its inputs:
    docs/how_it_works.md's depth-first ``visit``, its recursion unrolled onto a stack (deep graphs
    must not hit Python's recursion limit).  A tensor popped the first time is visited: pushed
    back, marked ``inputs_done``, with its inputs above it; popped again, it goes into the order.

    Reversed, it is the order backward runs the nodes in -- torch's engine's: of the nodes whose
    consumers have all run, the one recorded last (highest ``seq``) first.  Hooks then fire in
    torch's order: a module called twice sees its second call's gradient first (Opacus pairs
    saved activations with gradients by that, last in first out).  The DFS visits inputs in
    argument order, which is recording order in the common case; when it is not, the recorded
    graph is reordered (:func:`_latest_first`)."""
    order, visited = [], set()
    in_seq_order, last_seq = True, -1      # the nodes' seq rising along the order so far?
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            if node._ctx is not None:
                in_seq_order, last_seq = in_seq_order and last_seq < node._ctx.seq, node._ctx.seq
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            if node._ctx is not None:       # (a leaf has no inputs: no call for it)
                _push_inputs(node, stack)
    return order if in_seq_order else _latest_first(order)


def _push_inputs(node: "Tensor", stack: list) -> None:
    """Push the inputs of ``node``'s op that the walk follows, to pop in the order it visits them:
    those made by ops first to last, then the leaves last to first -- so reversed, backward
    reaches each leaf right after its consumer, in argument order (torch accumulates a leaf's
    gradient as soon as its last consumer ran).  An input written in place since the op used it
    gives way to the value the op used (:func:`_redirect`); a node walked before gets its live
    tensors back (:func:`_restore`)."""
    ctx = node._ctx
    if ctx is None or ctx.released:
        return
    if ctx.hollow:
        _restore(ctx)
    below, leaves = len(stack), None
    # last to first: pushed so, the first pops first (and _redirect expects this order for an
    # input passed twice)
    for parent, version in zip(reversed(ctx.inputs), reversed(ctx.versions)):
        if isinstance(parent, Tensor) and parent._requires_grad:
            if version is not None and parent._version_box[0] != version:
                parent = _redirect(ctx, parent, version)
            if parent._ctx is not None:
                stack.append((parent, False))
                continue
            if len(parent._version_box) > 1 and version is not None:   # (shared memory only)
                _refuse_rebased_view(parent, version)
            if leaves is None:          # (most nodes have no leaf input: no list made for them)
                leaves = [(parent, False)]
            else:
                leaves.append((parent, False))
    if leaves is not None:              # below the others, so they pop after them
        leaves.reverse()
        stack[below:below] = leaves


def _refuse_rebased_view(leaf: "Tensor", version: int) -> None:
    """torch's refusal of a view made under no_grad() (of a tensor that requires grad) used in a
    graph after its memory was written in place -- through it, its base or another view: whether
    the graph should see the write is ambiguous, so its gradient (stopping at the view) could be
    silently not the one meant."""
    for r in leaf._version_box[1]:
        if type(r) is _NoGradViewRef and r() is leaf:
            if r.version != version:
                raise AutogradError(
                    f"a view of shape {leaf.shape} made under no_grad() of a tensor that requires "
                    f"grad was used in a graph after its memory was modified in place (through "
                    f"it, its base or another view of the base): ambiguous, so refused, as torch "
                    f"refuses it -- make the view and the in-place write both inside no_grad() "
                    f"(write untracked) or both outside it (write tracked), or use a .clone()")
            return


def _graph_parents(node: "Tensor") -> list:
    """The tensors ``node``'s backward sends gradients to (its edges, as the DFS followed them)."""
    ctx = node._ctx
    if ctx is None or ctx.released:
        return []
    return [p for p in ctx.inputs if isinstance(p, Tensor) and p._requires_grad]


def _latest_first(order: list["Tensor"]) -> list["Tensor"]:
    """``order`` rearranged as torch's engine runs it (Kahn's algorithm): of the tensors whose
    consumers all ran, the one whose node was recorded last first; a leaf as soon as its
    gradient is complete (torch's AccumulateGrad)."""
    pending: dict = {}
    for node in order:
        for parent in _graph_parents(node):
            pending[id(parent)] = pending.get(id(parent), 0) + 1
    ready = [(-node._ctx.seq, k, node) for k, node in enumerate(order)
             if node._ctx is not None and id(node) not in pending]
    ran = [node for node in order if node._ctx is None and id(node) not in pending]
    heapq.heapify(ready)
    count = len(order)
    while ready:
        node = heapq.heappop(ready)[2]
        ran.append(node)
        for parent in _graph_parents(node):
            pending[id(parent)] -= 1
            if not pending[id(parent)]:
                if parent._ctx is None:
                    ran.append(parent)
                else:
                    count += 1
                    heapq.heappush(ready, (-parent._ctx.seq, count, parent))
    if len(ran) < len(order):   # a cycle: an op read a view of a tensor written in place since,
        return order            # whose edge now leads downstream -- the DFS's order, so backward
    ran.reverse()               # meets the stale read and refuses it (its version check)
    return ran


def _remember(t: "Tensor", version: int, stand_in: Any) -> None:
    """Before ``t`` (version ``version``) takes a new value and node in place: what ops that
    used it until then must send their gradient to -- ``stand_in``, a Tensor holding the old node
    (the update's ``old``), or ``(old_root, root)`` for a view of a written root (its stand-in,
    the same view of ``old_root``, is made if backward needs it)."""
    if isinstance(stand_in, Tensor) and not stand_in._requires_grad:
        return     # a constant's old value: ops that used it send nothing (see _redirect)
    history = getattr(t, "_history", None)
    if history is None:
        history = t._history = {}
    else:
        _forget_freed(history)
    history.setdefault(version, stand_in)


_FREED = "freed"   # a history entry whose stand-in's graph backward freed (its values dropped)


def _forget_freed(history: dict) -> None:
    """Drop what a freed graph left in ``history``: each such entry becomes ``_FREED`` (an op that
    used that version then gets the freed-graph error), and of consecutive ``_FREED`` versions
    only the last stays (the lookup takes the first entry at or after a version) -- so a tensor
    written step after step keeps no copies of its old values."""
    previous = None
    for v in sorted(history):
        entry = history[v]
        if entry is not _FREED:
            stand_in = entry[0] if isinstance(entry, tuple) else entry
            if stand_in._ctx is None or not (stand_in._ctx.released or stand_in._ctx.hollow):
                previous = None
                continue
            history[v] = _FREED
        if previous is not None:
            del history[previous]
        previous = v


def _redirect(ctx: Function, parent: "Tensor", version: int) -> "Tensor":
    """``parent`` was written in place after ``ctx``'s op used it at ``version``: as in torch,
    that op's gradient belongs to the value it used, not to the new one.  When the op's backward
    does not read that input's value (a sum, a view, a roll, ``x * 2``: :meth:`Function.reads_input`
    False -- torch saves nothing of it) and ``parent`` remembers that version (:func:`_remember`),
    ``ctx`` is pointed at the stand-in for good; otherwise ``parent`` is kept and the version
    check refuses the backward, as torch's does for an input the op saved."""
    i = next(k for k, a in enumerate(ctx.inputs) if a is parent and ctx.versions[k] == version)
    if ctx.reads_input(i) or ctx.__dict__.get("output_written"):
        return parent
    history = getattr(parent, "_history", None)
    # the node ``parent`` had at ``version``: the one the first tracked write since then replaced
    # (writes under no_grad, or into a .detach() alias, bump the version but keep the node)
    since = None if not history else min((v for v in history if v >= version), default=None)
    entry = None if since is None else history[since]
    if entry is _FREED:
        raise AutogradError(f"{type(ctx).__name__}: backward through a graph that was already "
                            f"freed (the value this op used was written in place, and its graph "
                            f"was freed by an earlier backward): call backward(retain_graph=True) "
                            f"the first time to backward twice")
    if entry is None:
        if ctx.needs_input_grad[i]:       # no tracked write since: the node is the same
            ctx.versions = ctx.versions[:i] + (parent._version_box[0],) + ctx.versions[i + 1:]
            return parent
        # a constant then (a buffer that needed no grad): the op sends it nothing, as torch's
        xp = parent.device.xp
        entry = Tensor._make(xp.broadcast_to(xp.zeros((), dtype=parent.array.dtype), parent.shape),
                             parent.device)
    elif isinstance(entry, tuple):         # a view of a root written in place: its old view
        old_root, root = entry
        where = _view_positions_of(root.device.xp, root.array, parent.array)
        if where is None or not old_root._requires_grad:
            return parent
        with enable_grad():
            entry = ops.AsStridedView.apply(old_root, where)
        history[since] = entry
    ctx.inputs = ctx.inputs[:i] + (entry,) + ctx.inputs[i + 1:]
    ctx.versions = ctx.versions[:i] + (entry._version_box[0],) + ctx.versions[i + 1:]
    return entry


# forward_ad's dual tensors made from primals that do not require grad (id -> weakref; an entry
# leaves with its tensor).  Their tangents ride on the reverse graph, but -- as torch's forward
# mode -- what depends on them alone does not require grad, is a leaf and has no grad_fn: the
# public ``requires_grad`` / ``is_leaf`` / ``grad_fn`` say so (only while such duals exist);
# the engine reads ``_requires_grad`` / ``_ctx``.
_forward_duals: dict[int, Any] = {}


def _register_forward_dual(t: "Tensor") -> None:
    key = id(t)
    _forward_duals[key] = weakref.ref(t, lambda _ref, key=key: _forward_duals.pop(key, None))


def _dual_only(t: "Tensor") -> bool:
    """Whether ``t`` requires grad only through registered forward-mode duals."""
    stack, seen = [t], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        ctx = node._ctx
        if ctx is None or ctx.released:
            ref = _forward_duals.get(id(node))
            if ref is None or ref() is not node:
                return False
            continue
        stack.extend(p for p in ctx.inputs if isinstance(p, Tensor) and p._requires_grad)
    return True


def _leading_to(order: list["Tensor"], targets: list["Tensor"]) -> set:
    """ids of the tensors in ``order`` from which some target is reachable (targets included):
    the only ones autograd.grad needs a backward of."""
    wanted = {id(t) for t in targets}
    for node in order:  # inputs come before their outputs
        ctx = node._ctx
        if ctx is not None and not ctx.released and (any(id(p) in wanted for p in ctx.inputs)
                                                     or _rewired(ctx)):
            wanted.add(id(node))
    return wanted


def _narrow_needs(order: list["Tensor"], wanted: set) -> list:
    """autograd.grad / backward(inputs=): each node on the way asks its backward only for the
    gradients of the inputs that lead to what was asked, as torch's engine (its exec_info) --
    so gammainc(a, x) gives d/dx though it has no d/da, and no work goes to unasked inputs.
    Returns the (node, needs_input_grad before) pairs to put back once the walk ends."""
    narrowed = []
    for node in order:
        ctx = node._ctx
        if ctx is None or ctx.released or id(node) not in wanted:
            continue
        needs = ctx.needs_input_grad
        only = tuple([need and isinstance(p, Tensor) and id(p) in wanted
                      for p, need in zip(ctx.inputs, needs)]) + needs[len(ctx.inputs):]
        if only != needs:
            ctx.needs_input_grad = only
            narrowed.append((ctx, needs))
    return narrowed


def _rewired(ctx: Function) -> bool:
    """Whether an input ``ctx`` read was written in place since, with a tracked write that gave
    it a new node (so its edge now points at the new value's graph, maybe downstream of ``ctx``:
    ``x[3] = x[3] * x[2]`` after ``x[2] = ...``): which inputs ``ctx`` leads to is then unknown,
    so autograd.grad runs it -- and the version check refuses it -- rather than skip it and
    silently drop its gradient (a write under no_grad, an optimizer step, keeps the node)."""
    for p, v in zip(ctx.inputs, ctx.versions):
        if v is not None and isinstance(p, Tensor) and p._version_box[0] != v:
            history = getattr(p, "_history", None)
            if history and any(k >= v for k in history):
                return True
    return False


class _ZeroGradient:
    """The gradient along an edge whose derivative is identically zero (``ZERO_GRAD``): what the
    graph-mode backward of a piecewise-linear op (relu, leaky_relu, abs, max pooling, ...) gives
    the op's input, on which it depends only through a locally constant mask -- as torch's
    ``leaky_relu_backward(grad, self)``, whose ``self`` gets ``zeros_like(grad)``.  The walk
    sends no array along it: a node reached only by it skips its backward and passes it on, and
    a leaf (an autograd.grad input, a hooked or retained tensor) reached only by it gets zeros,
    so a parameter a gradient penalty reaches only that way gets a zero ``.grad``, not None."""
    __slots__ = ()
    shape = dtype = None   # never a gradient's: the walk's shape check sends it to its branch

    def __repr__(self) -> str:
        return "ZERO_GRAD"


ZERO_GRAD = _ZeroGradient()


def _run_backward(roots: list["Tensor"], seeds: list, retain_graph: bool | None,
                  create_graph: bool = False, inputs: list["Tensor"] | None = None,
                  run_hooks: bool = True, grad_call: bool = False) -> dict:
    """The chain rule, from the roots back to the leaves (``docs/how_it_works.md``'s loop): each
    node's backward once, with the sum of the gradients its users sent (``seeds``: the roots'
    own), its results added into its inputs' sums; a leaf keeps its sum in ``.grad``.

    ``create_graph``: the gradients are Tensors made by each context's ``grad_graph`` (graph
    mode), so they can be differentiated again; their graph goes through this one, which is kept
    unless ``retain_graph`` is False (None: keep it only in graph mode, as torch).  ``inputs``
    (autograd.grad): return ``{id(input): its gradient}`` and leave every ``.grad`` alone.
    ``run_hooks=False``: an op's grad_graph differentiating its own recomputation (the outer walk
    runs the hooks once).  ``grad_call``: autograd.grad's walk (not backward(inputs=)'s), see
    :meth:`_Walk.tensor_hooks`.  What torch adds to the idea is in :class:`_Walk`'s steps, below."""
    walk = _Walk(roots, seeds, retain_graph, create_graph, inputs, run_hooks, grad_call)
    grads, summing, frees = walk.grads, walk.summing, not walk.retain_graph
    accumulate = walk.accumulate                       # (bound once: it runs for every node)
    # (np.errstate: inf and NaN gradients come silently, as in torch -- the Trainer's checks and
    # a user's isfinite report them; NumPy's warnings would only repeat them on stderr)
    with set_grad_enabled(create_graph), np.errstate(all="ignore"), walk:   # (walk: see __exit__)
        for node in reversed(walk.order):      # every node after all of its users
            key = id(node)
            g = grads.pop(key, None)           # the sum of what its users sent
            summing.discard(key)
            if g is None:                      # nothing (or only ZERO_GRAD) came
                g = walk.without_gradient(node)
                if g is _SKIP:
                    continue
            if node._hooks is not None and run_hooks:  # register_hook, retain_grad
                g = walk.tensor_hooks(node, g)
            ctx = node._ctx
            if inputs is not None:             # autograd.grad: no .grad is touched
                if walk.stops_at(node, ctx, g):
                    continue
            elif ctx is None:                  # a leaf: keep the gradient
                walk.to_leaf(node, g)
                continue
            _check_still_valid(ctx)            # not freed, no input written since
            if run_hooks and ctx.__dict__.get("node_hooks") is not None:
                input_grads = walk.hooked_backward(ctx, g)   # grad_fn's hooks around it
            else:
                input_grads = ctx.grad_graph(g) if create_graph else ctx.backward(g)
            accumulate(ctx, input_grads)       # each into its input's sum
            if frees:
                ctx.release()                  # torch frees the graph as it goes
    return walk.finish()


_SKIP = object()   # _Walk.without_gradient's "the walk skips this node"
_BASE, _NONE = itertools.repeat("base"), itertools.repeat(None)   # getattr(seed, "base", None)


class _Walk:
    """One backward walk's state, and the steps :func:`_run_backward`'s loop delegates: what
    torch's engine does beyond the chain rule, in the order the loop meets it.

    ``grads``: id(tensor) -> the sum of the gradients it received so far; ``summing``: the ids
    whose sum this walk made (nobody else holds it: added into in place); ``owned``: ids of the
    gradient arrays someone else holds -- the caller's seeds, one a leaf's ``.grad`` took or a
    hook saw: a leaf's ``.grad`` and autograd.grad's results copy these, and only these;
    ``zeros_only``: ids of the tensors some op sent ``ZERO_GRAD`` (kept: ``grads`` says if more
    came); ``wanted`` / ``targets`` / ``captured``: autograd.grad's -- the ids of the tensors
    leading to its inputs, of the inputs, and the inputs' gradients found; ``narrowed``: its
    (node, needs_input_grad before) pairs, see :func:`_narrow_needs`; ``grad_call``: the walk is
    autograd.grad's."""
    __slots__ = ("number", "order", "wanted", "targets", "grads", "captured", "summing", "owned",
                 "zeros_only", "create_graph", "retain_graph", "run_hooks", "check_nan", "narrowed",
                 "grad_call")

    def __init__(self, roots: list, seeds: list, retain_graph: bool | None, create_graph: bool,
                 inputs: list | None, run_hooks: bool, grad_call: bool = False) -> None:
        _walks[0] += 1
        self.number = _walks[0]
        self.order = _topological_order(roots)
        self.wanted = _leading_to(self.order, inputs) if inputs is not None else None
        self.targets = {id(t) for t in inputs} if inputs is not None else None
        self.narrowed = _narrow_needs(self.order, self.wanted) if inputs is not None else None
        grads: dict = {}
        for root, seed in zip(roots, seeds):
            grads[id(root)] = grads[id(root)] + seed if id(root) in grads else seed
        if self.wanted is not None and len(roots) > 1:   # a root leading to no input: not run,
            # its hooks neither -- one root alone is torch's graph root: its tensor hooks run
            grads = {key: g for key, g in grads.items() if key in self.wanted}
        self.grads, self.captured = grads, {}
        self.summing, self.zeros_only = set(), set()
        # the caller's arrays (each seed and the array it views): a leaf's .grad copies them
        # (map / chain iterate in C: no Python-level call per seed, see scripts/python_calls.py)
        self.owned = set(map(id, itertools.chain(seeds, map(getattr, seeds, _BASE, _NONE))))
        self.create_graph, self.run_hooks = create_graph, run_hooks
        # torch's default: keep the graph in graph mode; an explicit retain_graph=False still frees it
        self.retain_graph = create_graph if retain_graph is None else retain_graph
        self.grad_call = grad_call
        self.check_nan = _anomaly["enabled"] and _anomaly["check_nan"]   # detect_anomaly: read once

    def __enter__(self) -> "_Walk":
        return self

    def __exit__(self, *error) -> None:
        """After the walk, also one an error stopped: each node autograd.grad narrowed gets its
        ``needs_input_grad`` back (a retained graph's later backward may want more)."""
        for ctx, needs in self.narrowed or ():
            if not ctx.released:
                ctx.needs_input_grad = needs

    def without_gradient(self, node: "Tensor") -> Any:
        """A node no gradient reached: ``_SKIP``, or the ``g`` to go on with -- None for a custom
        Function's node (:func:`_runs_ungraded`), zeros for one reached through ``ZERO_GRAD``
        edges only that must still see a gradient (:func:`_zero_reached`)."""
        if not self.zeros_only or id(node) not in self.zeros_only:
            return None if _runs_ungraded(node, self.wanted) else _SKIP
        g = _zero_reached(node, self.zeros_only, self.create_graph, self.retain_graph,
                          self.run_hooks, self.targets, self.wanted)
        return _SKIP if g is None else g

    def tensor_hooks(self, node: "Tensor", g: Any) -> Any:
        """The tensor's own hooks (``register_hook``; ``retain_grad`` keeps a copy): what they
        return replaces ``g``.  autograd.grad's input whose node the walk goes on through gets
        ``g`` as it was before them, as torch's engine captures it (after them only where the
        walk stops: a leaf, or nothing further back was asked for)."""
        if self.grad_call and g is not None and id(node) in self.targets and _goes_on(node, self.wanted):
            self.captured[id(node)] = g
            _held_by_a_hook(g, self.owned)      # (the hooks may keep it: returned as a copy)
        if node._hooks.hooks and _held_by_a_leaf(g, self.owned):
            g = _writable_gradient(g)           # (see _held_by_a_leaf)
        g = node._hooks.run(node, g)
        _held_by_a_hook(g, self.owned)
        return g

    def stops_at(self, node: "Tensor", ctx: "Function | None", g: Any) -> bool:
        """autograd.grad: keep ``g`` when ``node`` is one of the inputs asked for; whether the
        walk stops here -- nothing before ``node`` was asked for (a node whose inputs were
        written in place since, :func:`_rewired`, runs: the version check then refuses it)."""
        key = id(node)
        if key in self.targets and g is not None and key not in self.captured:
            self.captured[key] = g     # (already there: captured before its hooks, see above)
            if not self.grad_call:     # backward(inputs=): bound for a .grad, as to_leaf's
                _mark_held_by_a_leaf(g, self.owned)
        wanted = self.wanted     # (the cheap test first: most nodes on the way are wanted)
        return ctx is None or not (ctx.released or (key in wanted and key not in self.targets)
                                   or any(id(p) in wanted for p in ctx.inputs))

    def to_leaf(self, node: "Tensor", g: Any) -> None:
        """A leaf's gradient into its ``.grad`` (torch's AccumulateGrad), then its
        ``register_post_accumulate_grad_hook`` hooks."""
        node._accumulate_grad(g, self.owned)
        if node._hooks is not None and node._hooks.post:
            node._hooks.run_post(node, g)

    def hooked_backward(self, ctx: Function, g: Any) -> tuple:
        """``ctx``'s backward with the node's hooks around it (``grad_fn.register_prehook`` /
        ``register_hook``): they see and may replace its output's gradient and its results."""
        node_hooks = ctx.node_hooks
        if node_hooks.pre and _held_by_a_leaf(g, self.owned):
            g = _writable_gradient(g)           # (see _held_by_a_leaf)
        g = node_hooks.run_pre(ctx, g)
        _held_by_a_hook(g, self.owned)
        input_grads = ctx.grad_graph(g) if self.create_graph else ctx.backward(g)
        if not isinstance(input_grads, tuple) or len(input_grads) != len(ctx.inputs):
            input_grads = _as_one_per_input(ctx, input_grads)
        input_grads = node_hooks.run_post(ctx, input_grads, g)
        for pg in input_grads:
            _held_by_a_hook(pg, self.owned)
        return input_grads

    def accumulate(self, ctx: Function, input_grads: tuple) -> None:
        """Add each input's gradient into the sum that input is collecting (a tensor used twice
        gets both): in place into a sum this walk made, else a new array -- never into one an op
        passed on (Add sends ``g`` to both sides).  Skipped: inputs that want none, or that
        autograd.grad does not lead to; on the side: ``ZERO_GRAD``, indexing's sparse gradients,
        and a custom Function's gradient of the wrong shape or dtype (refused, named). First:
        a custom Function's result made one per input, and detect_anomaly's NaN check."""
        if not isinstance(input_grads, tuple) or len(input_grads) != len(ctx.inputs):
            input_grads = _as_one_per_input(ctx, input_grads)
        if self.check_nan:
            _refuse_nan(ctx, input_grads)
        grads, summing = self.grads, self.summing
        wanted, create_graph = self.wanted, self.create_graph
        for parent, pg in zip(ctx.inputs, input_grads):
            if pg is None or not isinstance(parent, Tensor) or not parent._requires_grad:
                continue
            if wanted is not None and id(parent) not in wanted:
                continue
            if isinstance(pg, ops.SparseGrad):
                _add_sparse(grads, summing, id(parent), pg, parent.device.xp)
                continue
            if isinstance(pg, Tensor) is not create_graph:  # graph mode carries Tensors
                if pg is ZERO_GRAD:
                    self.zeros_only.add(id(parent))
                    continue
                pg = Tensor._make(pg, parent.device) if create_graph else pg.array
            if pg.shape != parent.array.shape or pg.dtype != parent.array.dtype:
                if pg is ZERO_GRAD:     # (its shape is None: plain mode comes here)
                    self.zeros_only.add(id(parent))
                    continue
                _wrong_gradient(ctx, parent, pg)
            key = id(parent)
            if key in summing and not create_graph:
                grads[key] += pg               # this walk's own sum (nobody else holds it): in place
            elif key in grads:
                grads[key] = grads[key] + pg   # a new array: this walk's own sum
                summing.add(key)
            else:
                grads[key] = pg                # maybe shared (Add passes g to both sides)

    def finish(self) -> dict:
        """Run the callbacks waiting for this walk's end (``register_multi_grad_hook(mode="all")``)
        and return autograd.grad's gradients."""
        if _walk_end:
            for callback in _walk_end.pop(self.number, ()):
                callback()
        return _unshared_grads(self.captured, self.owned) if self.captured else self.captured


def _goes_on(node: "Tensor", wanted: set) -> bool:
    """Whether autograd.grad's walk runs ``node``'s backward: something before it was asked for
    (torch's exec_info ``needed_``)."""
    ctx = node._ctx
    return ctx is not None and not ctx.released and any(id(p) in wanted for p in ctx.inputs)


def _unshared_grads(captured: dict, held: set) -> dict:
    """autograd.grad's gradients, each an array its caller may write: a copy of one someone
    else holds (``held``: the caller's grad_outputs, an array a hook saw or a leaf's .grad took),
    of one an earlier input's gradient shares (Add sends ``g`` to both sides) and of a read-only
    view (sum's broadcast ``g``); the others -- an op's fresh result, nearly always -- as they are.
    (torch returns all of these uncopied, aliases included; tensorgan's plain-mode results never
    alias. Graph mode's Tensors are left as they are, as torch's: Add's one Tensor may be two
    inputs' gradient.)"""
    seen = set(held)
    for key, g in captured.items():
        if isinstance(g, Tensor):      # graph mode: made by ops (Add may share one, as torch's)
            continue
        owner = id(g if g.base is None else g.base)
        if owner in seen or not _adds_in_place(g):
            g = captured[key] = g.copy() if g.flags.c_contiguous else _dense_copy(g)
            owner = id(g)
        seen.add(owner)
    return captured


def _zero_reached(node: "Tensor", zeros_only: set, create_graph: bool, retain_graph: bool | None,
                  run_hooks: bool, target_ids: set | None, wanted: set | None):
    """A tensor the walk reached through zero-derivative edges only (``ZERO_GRAD``): None when
    its node was skipped (the sentinel passed on to its inputs), else an array (Tensor in graph
    mode) of zeros for the walk to handle as any gradient -- a leaf, an autograd.grad input, a
    tensor or node with hooks, or a freed / modified node (which the walk then reports)."""
    ctx = node._ctx
    if ctx is None or ctx.released or (node._hooks is not None and run_hooks) or \
            (target_ids is not None and id(node) in target_ids) or \
            (run_hooks and ctx.__dict__.get("node_hooks") is not None):
        zeros = node.device.xp.zeros(node.array.shape, dtype=node.array.dtype)
        return Tensor._make(zeros, node.device) if create_graph else zeros
    _check_still_valid(ctx)
    for parent in ctx.inputs:
        if isinstance(parent, Tensor) and parent._requires_grad and \
                (wanted is None or id(parent) in wanted):
            zeros_only.add(id(parent))
    if not retain_graph:       # (the walk's: None already resolved to create_graph)
        ctx.release()
    return None


def _runs_ungraded(node: "Tensor", wanted: set | None) -> bool:
    """Whether the walk runs ``node``'s context though its output got no gradient (every edge
    into it returned None): a custom ``autograd.Function``'s node, as torch's engine calls it
    with zeros for the gradients (``ctx.set_materialize_grads(False)``: None) -- so its backward's
    gradients reach the leaves (as zeros: a leaf's ``.grad`` is zeros, not None, and Adam steps
    it). Built-in ops pass the None on, as torch's. Hooks on the output (``register_hook``,
    ``retain_grad``) and on the node see None there, as torch's, and do not stop it."""
    ctx = node._ctx
    return (ctx is not None and getattr(ctx, "runs_ungraded", False)
            and (wanted is None or id(node) in wanted))


def _held_by_a_hook(g, owned_by_a_leaf: set) -> None:
    """A hook may keep the gradient array it saw (or returned): a leaf's ``.grad`` then copies
    it rather than taking it, as torch's AccumulateGrad clones a gradient someone else holds --
    later backwards add into ``.grad`` in place."""
    if g is not None and not isinstance(g, (Tensor, ops.SparseGrad, _ZeroGradient)):
        owned_by_a_leaf.add(id(g if g.base is None else g.base))


def _mark_held_by_a_leaf(g, owned: set) -> None:
    """Record that a leaf's ``.grad`` (or backward(inputs=)'s gradient for one) holds ``g``'s
    memory: ``-id`` of it in the walk's ``owned`` set (ids are positive: no clash with the
    positive ids of the memory someone else holds, see :class:`_Walk`)."""
    if isinstance(g, Tensor):
        owned.add(-id(g))
    elif g is not None and hasattr(g, "base"):
        owned.add(-id(g if g.base is None else g.base))


def _held_by_a_leaf(g, owned: set) -> bool:
    """Whether a leaf's ``.grad`` took ``g``'s memory earlier in this walk (Add hands one array
    to both sides): a hook about to see ``g`` then gets a copy, so its in-place write
    (``g.mul_``, ``g.clamp_``) does not reach that ``.grad`` -- torch's AccumulateGrad clones a
    gradient someone else still holds.  Elsewhere a hook's write goes through, as torch's."""
    if isinstance(g, Tensor):
        return -id(g) in owned
    return g is not None and hasattr(g, "base") and -id(g if g.base is None else g.base) in owned


_walk_end: dict = {}    # backward walk number -> callbacks to run as that walk ends


def _add_sparse(grads: dict, summing: set, key: int, pg: "ops.SparseGrad", xp) -> None:
    """Add indexing's gradient into ``grads[key]``: in place when that array is a sum this walk
    made (no one else holds it), else into a fresh copy (or zeros), which then becomes one."""
    total = grads.get(key)
    if total is None:
        total = xp.zeros(pg.shape, dtype=pg.dtype)
    elif key not in summing or total.ndim == 0:
        total = xp.array(total)      # a copy; an array where a 0-d gradient is a NumPy scalar
    grads[key] = pg.add_into(xp, total)
    summing.add(key)


_ONCE_WARNED: dict = {}     # torch's TORCH_WARN_ONCE warnings given so far (by a short name)


def _warn_create_graph_backward() -> None:
    """torch's warning (once a program) for backward(create_graph=True) -- not autograd.grad."""
    if _ONCE_WARNED.get("create_graph"):
        return
    _ONCE_WARNED["create_graph"] = True
    warnings.warn("Using backward() with create_graph=True will create a reference cycle between "
                  "the parameter and its gradient which can cause a memory leak. We recommend "
                  "using autograd.grad when creating the graph to avoid this. If you have to use "
                  "this function, make sure to reset the .grad fields of your parameters to None "
                  "after use to break the cycle and avoid the leak. (as torch warns, once)",
                  UserWarning, stacklevel=_caller_level())


def _backward_into(inputs: Any, roots: list, seeds: list, retain_graph, create_graph: bool) -> None:
    """backward(inputs=...): the walk autograd.grad takes, each input's gradient then added to
    its ``.grad`` (an input the roots do not depend on keeps its ``.grad``, as in torch)."""
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs) \
        if isinstance(inputs, (list, tuple)) or (hasattr(inputs, "__iter__") and not isinstance(
            inputs, (str, bytes)) and not hasattr(inputs, "shape")) else None   # model.parameters()
    if inputs is not None and not inputs:                        # torch's RuntimeError
        raise AutogradInputsError("`inputs` argument to `backward()` cannot be empty (as torch): "
                                  "leave it out to accumulate into every leaf")
    if not inputs or not all(isinstance(t, Tensor) and t._requires_grad for t in inputs):
        raise InputTypeError("backward(inputs=...) takes a Tensor or a non-empty list of Tensors "
                             "that require grad")
    for t in inputs:
        if t._ctx is not None:   # a non-leaf: retained (for good, as torch's), its hook sums it
            t.retain_grad()
    got = _run_backward(roots, seeds, retain_graph, create_graph, inputs)
    owned: set = set()
    for t in {id(t): t for t in inputs}.values():       # an input listed twice counts once
        if id(t) not in got or t._ctx is not None:
            continue
        t._accumulate_grad(got[id(t)], owned)
        if t._hooks is not None and t._hooks.post:
            t._hooks.run_post(t, got[id(t)])


def _reads(ctx: Function, parent: "Tensor") -> bool:
    """Whether ``ctx``'s backward reads input ``parent``'s value (at any position it holds)."""
    return any(ctx.reads_input(i) for i, a in enumerate(ctx.inputs) if a is parent)


def _check_still_valid(ctx: Function) -> None:
    """The graph is not freed and no input of this op was written in place since it ran."""
    if ctx.released:
        raise AutogradError(
            f"{Function.name(ctx)}: Trying to backward through the graph a second time (or directly "
            f"access saved tensors after they have already been freed). Saved intermediate values "
            f"of the graph are freed when you call .backward() or autograd.grad(). Specify "
            f"retain_graph=True if you need to backward through the graph a second time or if "
            f"you need to access saved tensors after calling backward (the graph was already "
            f"freed, as torch's)")
    for parent, version, needed in zip(ctx.inputs, ctx.versions, ctx.needs_input_grad):
        if version is not None and parent._version_box[0] != version:
            if ctx.__dict__.get("output_written"):
                raise AutogradError(
                    f"{ctx.name()}: the output this op saved for backward was modified in place "
                    f"(through a .detach() or a view of it) after the op ran, so its gradient "
                    f"would be wrong; modify a .clone(), or do the update after backward()")
            if not (needed or parent._requires_grad or _reads(ctx, parent)):
                continue    # a constant the op never reads (StyleGAN2: pl_mean.lerp(x, d) then pl_mean.copy_)
            raise AutogradError(
                f"{type(ctx).__name__}: an input of shape {parent.shape} was modified in place "
                f"after the op used it (an in-place op on it, a view or .detach() of it, an "
                f"optimizer step, init or load_state_dict), so its gradient would be wrong; "
                f"modify a .clone(), or do the update after backward()")


def _refuse_nan(ctx: Function, input_grads: tuple) -> None:
    """detect_anomaly: the first gradient with a NaN names the op that made it, as torch's."""
    for i, pg in enumerate(input_grads):
        if pg is None or pg is ZERO_GRAD:
            continue
        array = pg.g if isinstance(pg, ops.SparseGrad) else pg.array if isinstance(pg, Tensor) else pg
        if array.dtype.kind == "f" and bool(ctx.xp.isnan(array).any()):
            name = ctx.name()
            raise AnomalyError(f"Function '{name}' returned nan values in its {i}th output.")


# A custom Function's mistakes in backward, named here rather than as a NumPy error further back.
def _as_one_per_input(ctx: Function, grads: Any) -> tuple:
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)                       # one input: a bare gradient, as torch allows
    if len(grads) != len(ctx.inputs):
        raise AutogradError(f"{type(ctx).__name__}.backward returned {len(grads)} gradient(s) "
                             f"for {len(ctx.inputs)} input(s): one per positional argument (None "
                             f"for the ones without a gradient)")
    return tuple(grads)


def _wrong_gradient(ctx: Function, parent: "Tensor", pg: Any) -> None:
    i = next(k for k, p in enumerate(ctx.inputs) if p is parent)
    name = type(ctx).__name__
    if getattr(pg, "shape", None) != parent.shape:
        raise ShapeError(f"{name}.backward: the gradient for input {i} has shape "
                         f"{getattr(pg, 'shape', type(pg).__name__)}, the input {parent.shape}")
    raise DTypeError(f"{name}.backward: the gradient for input {i} is {pg.dtype}, the input "
                     f"{parent.dtype}")


class _GradHooks:
    """A tensor's gradient hooks (``register_hook``) and whether it keeps its gradient
    (``retain_grad``), run when backward reaches the tensor with the sum of its gradients."""

    def __init__(self) -> None:
        self.hooks: dict[int, Callable] = {}
        self.retain = False
        self.post: dict[int, Callable] = {}   # register_post_accumulate_grad_hook (leaves)
        self.accumulator: "weakref.ref | None" = None   # the leaf's AccumulateGrad, if handed out

    def add(self, hook: Callable) -> "RemovableHandle":
        """A post-accumulate-grad hook, run by :meth:`run_post`."""
        handle = RemovableHandle(self.post)
        self.post[handle.id] = hook
        return handle

    def run_post(self, leaf: "Tensor", g) -> None:
        """The leaf's post-accumulate-grad hooks, after gradient ``g`` was added into its
        ``.grad`` (torch's); AccumulateGrad hooks see ``g`` itself."""
        for hook in list(self.post.values()):
            if isinstance(hook, _NodeHook):
                if hook.hook((), (g if isinstance(g, Tensor) else Tensor._make(g, leaf.device),)) is not None:
                    raise AutogradError("an AccumulateGrad hook must return None")
            elif hook(leaf) is not None:
                raise AutogradError("a post-accumulate-grad hook must return None (it sees the "
                                     "tensor; change its .grad in place)")

    def run(self, node: "Tensor", g):
        """The hooks on ``g`` (an array, or in graph mode a Tensor); the gradient to go on with."""
        if g is None:     # a custom Function's output that got no gradient: torch's hooks see None
            for hook in list(self.hooks.values()):
                if hook(None) is not None:
                    raise AutogradError("can't replace a None gradient with a non-None value (a "
                                        "gradient hook returned a Tensor for an output that got "
                                        "no gradient)")
            return None
        as_tensor = isinstance(g, Tensor)
        if self.hooks and _may_overlap(g.array if as_tensor else g):
            g = _writable_gradient(g)       # a hook may write into it (g.mul_), as torch's may
        for hook in list(self.hooks.values()):
            new = hook(g if as_tensor else Tensor._make(g, node.device))
            if new is not None:
                if not as_tensor:
                    new = new.array if isinstance(new, Tensor) else new
                if getattr(new, "shape", None) != g.shape or getattr(new, "dtype", None) != g.dtype:
                    error = ShapeError if getattr(new, "shape", None) != g.shape else DTypeError
                    raise error(f"a gradient hook returned {getattr(new, 'shape', type(new).__name__)} "
                                f"{getattr(new, 'dtype', '')} for a gradient of {g.shape} {g.dtype}")
                g = new
        if self.retain and node._ctx is not None:  # a leaf's .grad is filled anyway
            node._grad = _sum_into(node._grad, g, node.device)
        return g


def _adds_in_place(array) -> bool:
    """Whether backward may add into ``array`` (a leaf's ``.grad``) in place: NumPy flags
    read-only and self-overlapping views (expand, as_strided) not writeable; CuPy has no such
    flag, so there a zero stride on a dim longer than 1 says the elements overlap."""
    writeable = getattr(array.flags, "writeable", None)
    if writeable is not None:
        return writeable
    return all(stride or n == 1 for stride, n in zip(array.strides, array.shape))


def _writable_gradient(g):
    """A gradient the walk holds as a self-overlapping view (mean's or sum's backward broadcasts
    it), copied for the hooks about to see it: torch's mean backward hands them a fresh tensor
    they may write in place (torch's sum hands its expand: there tensorgan is more lenient).  A
    read-only view that does not overlap is left alone: a hook's write goes through to the
    memory it shares, as torch's does.  In graph mode a clone (its graph kept)."""
    if isinstance(g, Tensor):
        return g.clone()
    return _dense_copy(g)


def _sum_into(total: "Tensor | None", g, device: Device) -> "Tensor":
    """``total + g`` as a new Tensor (``g`` itself, copied, when there is no total yet); in graph
    mode (``g`` a Tensor) the sum is an op, so the gradient keeps its graph."""
    if isinstance(g, Tensor):
        return g * 1.0 if total is None else total + g
    return Tensor._make(g.copy(), device) if total is None else Tensor._make(total.array + g, device)


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook off again."""

    _next_id = 0

    def __init__(self, hooks: dict, extra_dict: "dict | list | tuple | None" = None) -> None:
        self._hooks, self.id = hooks, RemovableHandle._next_id
        # torch's extra_dict: the dicts of per-hook flags (with_kwargs, always_call), emptied too
        self._extra = () if extra_dict is None else \
            tuple(extra_dict) if isinstance(extra_dict, (list, tuple)) else (extra_dict,)
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)
        for flags in self._extra:
            flags.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


class _Ungiven:
    """The default of an argument whose None is itself a value to check (``sum``/``mean``'s
    ``keepdim``: torch refuses ``keepdim=None`` with a TypeError), so "not given" is told apart
    from None by identity, at no cost."""
    __slots__ = ()

    def __repr__(self) -> str:
        return "<not given>"


_UNGIVEN = _Ungiven()


# ---------------------------------------------------------------------------------------------
# Tensor
# ---------------------------------------------------------------------------------------------
# torch's words (TensorBase::grad), so a learner's habit of printing an intermediate's .grad is
# pointed at retain_grad() / the leaf, as there
_NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead.")


def _storage_from_start(array: Any) -> Any:
    """The memory ``array`` views, from its first element to the end of the array that owns
    it, as a flat array (torch's storage seen from storage_offset); None where that is not one
    dtype-consistent row-major buffer or the view has negative steps (a layout torch lacks)."""
    if array.flags.c_contiguous and array.base is None:
        return array.reshape(-1)
    if any(st < 0 for st in array.strides):
        return None
    root = array
    while isinstance(getattr(root, "base", None), type(array)):
        root = root.base
    if root.dtype != array.dtype or any(st < 0 for st in root.strides):
        return None
    memory = root.transpose(sorted(range(root.ndim), key=lambda d: -root.strides[d]))
    if not memory.flags.c_contiguous:    # (an owner's dims in memory order: row-major)
        return None
    from .torch_extras import _array_address
    offset, rest = divmod(_array_address(array) - _array_address(root), array.itemsize)
    if rest or not 0 <= offset <= root.size:
        return None
    return memory.reshape(-1)[offset:]


def _keeps_layout(array: Any) -> bool:
    """Whether torch's preserve_format copy of a tensor laid out as ``array`` keeps its dims'
    memory order (NumPy's order='K' copy): every dim longer than 1 has a positive step (a
    dense permutation, or a sliced one, which torch compacts in the same order)."""
    return array.ndim > 1 and all(st > 0 for st, n in zip(array.strides, array.shape) if n > 1)


def _int_power(xp: Any, base: Any, exponent: Any) -> Any:
    """Integer ``base ** exponent`` where some exponents (a tensor's) are negative: torch's
    integer pow, which gives 1 / base truncated -- 1 for a base of 1, +-1 for -1, else 0."""
    base, exponent = xp.broadcast_arrays(base, exponent)
    negative = exponent < 0
    out = xp.power(base, xp.where(negative, 0, exponent)).astype(xp.result_type(base, exponent))
    odd = (exponent % 2) != 0
    inverse = xp.where(base == 1, 1, xp.where(base == -1, xp.where(odd, -1, 1), 0)).astype(out.dtype)
    return xp.where(negative, inverse, out)


def _refuse_number_matmul(left: Any, right: Any) -> None:
    """torch's TypeError for ``x @ 3``: a number has no matrix shape (it reached MatMul, which
    failed on its missing ``ndim``)."""
    if any(isinstance(side, (int, float, complex, np.number)) for side in (left, right)):
        raise InputTypeError(f"unsupported operand type(s) for @: '{type(left).__name__}' and "
                             f"'{type(right).__name__}' (matmul needs tensors of at least 1 dim)")


class Tensor:
    """An n-dimensional float array on a device, with an optional gradient (or a bool mask, the
    result of a comparison: no gradient, see ``_compare``).

    ``array`` is the backend array (``numpy.ndarray`` on the CPU, ``cupy.ndarray`` on CUDA; Chainer's
    name); ``data`` is PyTorch's: a Tensor sharing that array, outside autograd. ``grad`` is a
    Tensor (or None) filled by :meth:`backward`.
    """

    __slots__ = ("array", "_grad", "_requires_grad", "device", "_ctx", "_version_box", "_hooks",
                 "_history", "__weakref__",     # (_history: set by in-place writes only, see _remember)
                 "__dict__")    # a user's own attributes, as torch's (``p.lr_equalization_coef = c``
                                # in ALAE's LREQAdam, ``p._no_weight_decay = True``): made on first use
    __array_priority__ = 1000  # numpy_array + tensor -> Tensor.__radd__

    def __getstate__(self) -> tuple:
        """pickle's / copy's state: the slots (and a subclass's ``__dict__``), with the in-place
        version box unshared -- its weak references to views and ``.detach()`` aliases cannot
        be pickled, and a copy is no alias of the original (``pickle.dumps(m.state_dict())``,
        ``copy.deepcopy(sd)``).  Gradient hooks stay behind, as torch's deepcopy / pickle leave
        them (and the leaf's AccumulateGrad, a weak reference, which would make the copy's
        ``next_functions`` hand out the original's node)."""
        slots = {n: getattr(self, n) for n in copyreg._slotnames(type(self)) if hasattr(self, n)}
        slots["_version_box"] = [self._version_box[0]]
        slots["_hooks"] = None
        slots.pop("_history", None)       # the old values' graph stays behind too
        return (getattr(self, "__dict__", None) or None, slots)

    def __reduce_ex__(self, protocol: int) -> tuple:
        """pickle / ``copy.copy`` (``tg.save`` never pickles): an op's result is stored as torch
        stores it, without its ``.grad`` (torch pickles none), a leaf with its ``requires_grad`` kept and no graph -- not its ``grad_fn`` and,
        through the saved inputs, every weight behind it (``pickle.dump(samples)`` of ``G(fixed_z)``, the Udacity GAN
        notebooks' habit, wrote the generator's weights once per sample, and the loaded
        tensors' ``backward()`` ran into the copied graph). ``copy.deepcopy`` keeps the graph
        (see ``__deepcopy__``)."""
        rv = object.__reduce_ex__(self, protocol)
        if (self._ctx is None and self._grad is None) or len(rv) < 3 or not isinstance(rv[2], tuple):
            return rv
        d, slots = rv[2]
        slots = dict(slots, _ctx=None, _grad=None)    # nor the .grad: torch pickles no gradient
        return (rv[0], rv[1], (d, slots)) + tuple(rv[3:])

    def __deepcopy__(self, memo: dict) -> "Tensor":
        """``copy.deepcopy``: the default protocol (graph included for an op's result; torch
        refuses to deepcopy a non-leaf, this library copies it as it always did), ``.grad``
        copied too, as torch's Tensor deepcopy (a Parameter's is not: see Parameter)."""
        return copy._reconstruct(self, memo, *object.__reduce_ex__(self, 4))

    def __init__(self, *args: Any, requires_grad: bool = False, dtype: Any = None,
                 device: Any = None, size: Any = None):
        """torch's ``torch.Tensor(...)`` legacy constructor: ``Tensor(2, 3)`` / ``Tensor(size=(2,
        3))`` / ``Tensor(tg.Size([2, 3]))`` a (zeroed, not uninitialised) tensor of that shape,
        ``Tensor()`` an empty (0,) one, ``Tensor([1, 2])`` / ``Tensor(array)`` the data -- all in
        the default float dtype (float32), as torch's. An array already in that dtype is shared,
        not copied, and ``Tensor(t)`` shares ``t``'s memory and keeps its dtype (both as torch).
        A tuple or list is data, as in torch (``Tensor((2, 3))`` is ``tensor([2., 3.])``); a
        :class:`Size` -- ``x.shape`` / ``x.size()`` -- is a shape (``Tensor(x.shape)``).

        Extensions torch's does not take: ``dtype=`` (that dtype instead of the default float) and
        ``requires_grad=``. ``tg.tensor(data)`` infers the dtype (int64 for ints) as torch's."""
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise InputTypeError(f"Tensor(..., requires_grad=): requires_grad must be a bool, got "
                                 f"{requires_grad!r}")
        shape, data = _legacy_args(args, size, "Tensor")
        dev = get_device(device)
        dt = _default_float[0] if dtype is None else _check_dtype(dtype, any_kind=True)
        if isinstance(data, Tensor):                   # torch.Tensor(t): t's memory, t's dtype
            if dtype is not None and dt != data.dtype:
                raise DTypeError(f"Tensor(t, dtype={dt}): t is {data.dtype}; convert with t.to({dt})")
            if device is not None and dev is not data.device:
                raise DeviceError(f"Tensor(t, device={dev}): t is on {data.device}; move it with .to()")
            self._init_data(data.array, requires_grad, None, data.device)
            _share(data, self)         # an alias: in-place checks see it as a view
            return
        if shape is not None:
            data = dev.xp.zeros(shape, dtype=dt)
        self._init_data(data, requires_grad, dt, dev)

    @classmethod
    def _from(cls, data: Any, requires_grad: bool = False, dtype: Any = None,
              device: Any = None) -> "Tensor":
        """A tensor holding ``data`` in its inferred dtype (int64 for ints, an array's own dtype;
        ``dtype=`` to choose), sharing an array already of that dtype on ``device``: the library's
        own constructor (``torch.as_tensor``'s rules; ``Tensor(...)`` is torch's legacy one)."""
        t = object.__new__(cls)
        t._init_data(data, requires_grad, dtype, device)
        return t

    def _init_data(self, data: Any, requires_grad: bool, dtype: Any, device: Any) -> None:
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise InputTypeError(f"requires_grad must be a bool, got {requires_grad!r}")
        device = get_device(device)
        array = _to_array(data, dtype, device)
        _check_grad_dtype(requires_grad, array.dtype)   # tensor([1, 2], requires_grad=True) too, as torch
        self.array = array
        self._grad = None
        self._requires_grad = bool(requires_grad)
        self.device = device
        self._ctx = None
        # The in-place version, bumped by every in-place write (Function.apply records it, backward
        # checks it). A list, so that views and .detach() share it with their base, as in torch.
        self._version_box = [0]
        self._hooks = None  # register_hook / retain_grad: see _GradHooks

    @classmethod
    def _make(cls, data, device: Device, requires_grad: bool = False) -> "Tensor":
        """Wrap an array that is already on ``device`` (no checks, no copy): the ops' fast path."""
        if isinstance(data, np.generic):  # NumPy reduces to 0-d as a scalar, which in-place ops
            data = np.asarray(data)       # (zero_, add_, +=) could not write: keep an array
        t = object.__new__(Tensor)
        t.array, t._grad, t._requires_grad, t.device, t._ctx = data, None, requires_grad, device, None
        t._version_box, t._hooks = [0], None
        return t

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has had (PyTorch's ``_version``)."""
        return self._version_box[0]

    def _bump_version(self) -> None:
        """Record an in-place write done outside ``_in_place`` (optimizer steps, init, loading)."""
        self._version_box[0] += 1
        if len(self._version_box) > 1:
            _mark_saved_outputs_written(self)

    # -- properties ---------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        if _forward_duals and self._requires_grad:    # forward_ad: see _forward_duals
            return not _dual_only(self)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        # torch: assigning the flag is for leaves only, True or False (``requires_grad_(True)``
        # on an op's result is a no-op there and here): a silent no-op would hide that the
        # tensor is not the leaf the caller thinks (a gradient penalty's interpolate built
        # from a fake batch that was not detached).
        if self._ctx is not None:
            raise AutogradError(f"requires_grad = {flag!r} on a non-leaf (an op's result): only "
                                f"leaf tensors' flags can be changed, as in torch; use "
                                f".detach() for a leaf copy and set it there")
        self.requires_grad_(flag)

    @property
    def data(self) -> "Tensor":
        """PyTorch's ``.data``: a Tensor sharing this tensor's memory, with no gradient and no
        history, so ``p.data.clamp_(-c, c)`` or ``init.normal_(m.weight.data)`` write ``p``.
        Unlike :meth:`detach`, writes through it are not counted as in-place writes of ``p``
        (autograd cannot see them) -- the reason torch discourages it; the array is ``.array``."""
        return Tensor._make(self.array, self.device)

    @data.setter
    def data(self, value: Any) -> None:
        """``p.data = t``: ``p`` now holds ``t``'s memory (a Tensor, or an array on p's device)."""
        array = value.array if isinstance(value, Tensor) else value
        device = value.device if isinstance(value, Tensor) else device_of(array)
        if not hasattr(array, "shape") or not hasattr(array, "dtype"):
            raise InputTypeError(f"tensor.data = ...: expected a Tensor, got {type(value).__name__}")
        if device is not self.device:
            raise DeviceError(f"tensor.data = ...: the value is on {device}, the tensor on "
                              f"{self.device}; move it with .to({str(self.device)!r}) first")
        if array.dtype not in FLOAT_DTYPES + INT_DTYPES + (BOOL,):
            raise DTypeError(f"tensor.data = ...: got an array of dtype {array.dtype}; tensors hold float32, "
                             f"float64, integers (int64 ... uint8) or (masks) bool")
        if self._requires_grad and array.dtype.kind != "f":
            raise DTypeError(f"tensor.data = ...: a tensor that requires grad cannot hold a "
                             f"{array.dtype} array")
        self.array = array

    @property
    def grad(self) -> "Tensor | None":
        """The accumulated gradient (a Tensor of this tensor's shape, dtype and device) or None.
        As torch, reading it on a non-leaf that keeps none (no ``retain_grad()``) warns: backward
        fills only leaves' ``.grad``."""
        g = self._grad
        if g is None and self._ctx is not None and not self.is_leaf and not self.retains_grad:
            warnings.warn(_NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise InputTypeError(f"a .grad must be a Tensor or None, got {type(value).__name__}")
            if value.shape != self.shape or value.dtype != self.dtype or value.device is not self.device:
                raise ShapeError(f"a .grad must match its tensor: got {value.shape} {value.dtype} on "
                                 f"{value.device} for {self.shape} {self.dtype} on {self.device}")
        self._grad = value

    @property
    def shape(self) -> "Size":
        """The dims, as a :class:`Size` (a tuple, as torch's ``torch.Size``)."""
        return Size(self.array.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def size(self) -> "_Size":
        """The element count (NumPy's ``size``); called, PyTorch's: ``x.size()`` is the shape,
        ``x.size(0)`` one dim."""
        return _Size(self.array.size, self.array.shape)

    def numel(self) -> int:
        return self.array.size

    def __len__(self) -> int:
        if not self.array.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        """The sub-tensors along dim 0, each in the graph (``for row in x``), as in PyTorch."""
        if not self.array.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(x)``: a CPU tensor's values (a copy unless ``copy=False``), outside the
        graph. A CUDA tensor is refused -- nothing leaves the GPU implicitly (use ``.numpy()``)."""
        if self.device.xp is not np:
            raise DeviceError(f"a tensor on {self.device} does not convert to a NumPy array "
                              f"implicitly: use .numpy() or .cpu()")
        if self._requires_grad:       # as torch: NumPy would silently drop the graph
            raise AutogradError("a tensor that requires grad does not convert to a NumPy array "
                                 "(its graph would be dropped silently): use .detach(), .numpy() "
                                 "or .item()")
        # np.asarray: a reduction's data may be a NumPy scalar (0-d), not an ndarray
        array = np.asarray(self.array) if copy is False else np.array(self.array, copy=True)
        if dtype is not None and array.dtype.kind == "c" and np.dtype(dtype).kind not in "cO" \
                and not array.imag.any():   # tensor([tensor(1+0j)], dtype=float32): no ComplexWarning,
            array = array.real              # as torch (nothing is discarded)
        return array if dtype is None else array.astype(dtype, copy=False)

    def __array_wrap__(self, array: np.ndarray, context: Any = None, return_scalar: bool = False) -> "Tensor":
        """NumPy's hook for what a ufunc (``np.sqrt(t)``) or a wrapped function (``np.cumprod(t)``)
        returns on a tensor: a CPU tensor holding the result, as torch's (DDGAN's
        ``np.cumprod(a_s.cpu()).to(device)``); a bool result comes back as uint8, as torch's."""
        array = np.asarray(array)
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        return Tensor._from(array, device="cpu")

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None or bool(_forward_duals) and _dual_only(self)

    @property
    def grad_fn(self) -> "Function | None":
        """The op that made this tensor (its backward node), or None for a leaf -- torch's name;
        ``type(t.grad_fn).__name__`` names the op (``Conv2d``, ``Add``, ...)."""
        if _forward_duals and self._ctx is not None and _dual_only(self):
            return None
        return self._ctx

    def __repr__(self) -> str:
        """torch's print form: ``tensor([1.5000, 2.0000], grad_fn=<MulBackward0>)`` (see
        tensorgan.printing; tg.set_printoptions changes it)."""
        from .printing import tensor_repr
        return tensor_repr(self)

    # -- autograd -----------------------------------------------------------------------------
    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None, *, grad: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``. Scalars need no ``gradient``
        (the vector of the vector-Jacobian product; ``grad=`` is the same argument).
        ``create_graph=True``: the gradients get a graph of their own (a penalty on a gradient
        can then be backpropagated), which goes through this graph: it is kept.
        ``inputs``: only these tensors' ``.grad`` (leaves or not) get the gradient, and the walk
        stops where nothing before leads to them -- a GAN's generator step can skip the
        discriminator's weight gradients: ``loss_g.backward(inputs=list(G.parameters()))``."""
        if grad is not None:
            if gradient is not None:
                raise InputTypeError("backward(): give gradient= or grad=, not both")
            gradient = grad
        if not self.requires_grad:
            raise AutogradError("backward() on a tensor that does not require grad (no input "
                                 "had requires_grad=True, or it was computed under no_grad())")
        seed = self._seed_gradient(gradient, create_graph, "backward()")
        if create_graph:
            _warn_create_graph_backward()
        if inputs is None:
            _run_backward([self], [seed], retain_graph, create_graph)
        else:
            _backward_into(inputs, [self], [seed], retain_graph, create_graph)

    def _seed_gradient(self, gradient: Any, create_graph: bool, who: str, arg: str = "grad="):
        """d(self)/d(self) for a backward from here: ones for a scalar, else ``gradient`` checked
        against this tensor (an array; a Tensor in graph mode)."""
        if gradient is None:
            if self.array.dtype.kind == "c":
                raise AutogradError(f"{who}: grad can be implicitly created only for real scalar "
                                    f"outputs (as torch); this tensor is {self.dtype} -- backward "
                                    f"from a real loss, e.g. z.abs().square().sum()")
            if self.array.size != 1:
                raise ShapeError(f"{who} on a non-scalar tensor of shape {self.shape} needs {arg} "
                                 f"of that shape (the vector in the vector-Jacobian product)")
            seed = self.device.xp.ones_like(self.array)
        else:
            if isinstance(gradient, Tensor) and (gradient.dtype != self.dtype
                                                 or gradient.device is not self.device):
                if gradient.device is not self.device or gradient.is_complex() or self.is_complex():
                    raise DTypeError(f"{who}: the gradient is {gradient.dtype} on "
                                     f"{gradient.device}, the tensor {self.dtype} on {self.device} "
                                     f"(a complex gradient must match the tensor's dtype; devices "
                                     f"must match)")
                # torch casts a real gradient to the tensor's dtype (float32 ones for a float64
                # output: autograd.grad(..., grad_outputs=torch.ones(out.size()))); the cast is
                # differentiable under create_graph
                gradient = gradient.to(self.dtype)
            if create_graph and isinstance(gradient, Tensor) and gradient._requires_grad:
                seed = gradient   # its graph goes on into the gradients
            else:
                seed = (gradient.array if isinstance(gradient, Tensor)
                        else _to_array(gradient, self.dtype, self.device))
                # plain mode hands the walk the caller's array itself (it marks it held, as a
                # hook's: a leaf's .grad or autograd.grad's result copies it only if it gets
                # there); graph mode copies it (in its layout), the gradients being Tensors the
                # walk does not track
                if create_graph:
                    seed = seed.copy() if seed.flags.c_contiguous else _dense_copy(seed)
            if seed.shape != self.shape:
                hint = (" (a 0-d loss such as .mean() takes a 0-d gradient, e.g. one[0] for "
                        "one = FloatTensor([1]); or give the loss that shape: .view(1), as torch "
                        "refuses this mismatch too)" if self.shape == () and seed.size == 1 else "")
                raise ShapeError(f"{who}: {arg} has shape {seed.shape}, tensor has "
                                 f"{self.shape}{hint}")
        return Tensor._make(seed, self.device) if create_graph and not isinstance(seed, Tensor) else seed

    def _accumulate_grad(self, g, owned_by_a_leaf: set) -> None:
        # As torch's AccumulateGrad. The first gradient becomes ``.grad`` -- the engine's array
        # itself unless someone else holds it: ``owned_by_a_leaf`` is the memory (the owning
        # array) of the caller's seeds and of every gradient handed to a leaf or seen by a hook
        # in this backward (x + y.reshape(...) hands x the output's gradient and y a view of the
        # same array: y gets a copy). Later ones are added into ``.grad`` in place (torch's ``variable.grad +=
        # new_grad``), so memory aliasing it (``.numpy()``, ``.data``, a buffer assigned as
        # ``.grad``) sees them; graph mode adds out of place, so the sum keeps its graph.
        if self._version_box[1:] and _is_no_grad_view(self):   # (a slice: len() is a call)
            return                 # torch: a view made under no_grad() has no AccumulateGrad
        grad = self._grad
        if isinstance(g, Tensor):
            self._grad = _sum_into(grad, g, self.device)
        elif grad is not None:
            total = grad.array
            if _adds_in_place(total):
                total += g
                grad._bump_version()
            else:                          # read-only or self-overlapping (an expand): a new array
                total = total + g
                grad.array = np.asarray(total) if isinstance(total, np.generic) else total
        else:
            if g.strides != self.array.strides and g.ndim > 1:
                g = _grad_layout(g, self.array)
            owner = g if g.base is None else g.base
            if id(owner) in owned_by_a_leaf or not getattr(g.flags, "writeable", True) \
                    or g.dtype != self.array.dtype:
                g = owner = g.astype(self.array.dtype, copy=True)   # own a writable array
            self._grad = Tensor._make(g, self.device)
            key = id(owner)           # -key: a .grad holds it (see _held_by_a_leaf); one call, as .add
            owned_by_a_leaf.update((key, -key))

    def register_hook(self, hook: Callable[["Tensor"], "Tensor | None"]) -> RemovableHandle:
        """Call ``hook(grad)`` each time backward computes this tensor's gradient; a Tensor it
        returns replaces the gradient (for a leaf, before it is added to ``.grad``), as in torch."""
        if not self._requires_grad:
            raise AutogradError("register_hook on a tensor that does not require grad")
        if not callable(hook):
            raise InputTypeError(f"register_hook takes a function, got {type(hook).__name__}")
        self._hooks = self._hooks or _GradHooks()
        self._hooked_output()
        handle = RemovableHandle(self._hooks.hooks)
        self._hooks.hooks[handle.id] = hook
        return handle

    def retain_grad(self) -> None:
        """Keep this non-leaf's gradient in ``.grad`` (after its hooks ran), as torch does; a
        leaf keeps it anyway."""
        if not self._requires_grad:
            raise AutogradError("retain_grad on a tensor that does not require grad")
        self._hooks = self._hooks or _GradHooks()
        self._hooks.retain = True
        self._hooked_output()

    def _hooked_output(self) -> None:
        """Tell this non-leaf's node that its output has hooks: a double backward that reads the
        saved output (``ops.saved_output``) then goes through this tensor, as torch's."""
        ctx = self._ctx
        if ctx is not None and not ctx.released:
            ctx.hooked_output = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        return self._ctx is not None and self._hooks is not None and self._hooks.retain

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop the gradient (``set_to_none=False``: fill it with zeros, keeping the tensor). As
        torch's ``Module`` / ``Optimizer.zero_grad``, a gradient kept as part of a graph
        (``backward(create_graph=True)``) is detached in place first, and one that requires grad
        stops requiring it: the zeroed gradient is a plain leaf again, so later backward calls
        accumulate into it without linking the old graph."""
        if set_to_none or self._grad is None:
            self.grad = None
            return
        g = self._grad
        if g._ctx is not None:
            g.detach_()
        else:
            g._requires_grad = False
        g.zero_()

    def detach(self) -> "Tensor":
        """The same array, cut from the graph (shares memory and the in-place version, like torch:
        writing the detached tensor makes a graph that used this one refuse backward)."""
        t = Tensor._make(self.array, self.device)
        _share(self, t, detached=True)
        return t

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        flag = requires_grad                         # torch's keyword name
        if not isinstance(flag, (bool, np.bool_)):
            raise InputTypeError(f"requires_grad must be True or False, got {flag!r}")
        _check_grad_dtype(flag, self.array.dtype)
        if self._ctx is not None and not flag:
            raise AutogradError("requires_grad = False on a non-leaf (an op's result): use "
                                 ".detach() for a copy outside the graph")
        self._requires_grad = bool(flag)
        return self

    # -- conversion ---------------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a NumPy array. On the CPU it shares this tensor's memory, as torch's does
        (``t.add_(1)`` shows in the array, writing the array changes the tensor); from the GPU,
        and for a tensor that requires grad (torch refuses that one: ``.detach().numpy()``
        shares), it is a host copy. ``force`` is accepted for torch code."""
        if self.device.xp is not np:
            return self.array.get()
        return np.array(self.array, copy=True) if self._requires_grad else self.array

    def item(self) -> float | int | bool:
        """The one element as a Python number: float, int (integer tensors) or bool (masks)."""
        if self.array.size != 1:
            raise ShapeError(f"item() needs a one-element tensor, got shape {self.shape}")
        value = self.array.reshape(())
        kind = self.array.dtype.kind
        return bool(value) if kind == "b" else int(value) if kind in "iu" else \
            complex(value) if kind == "c" else float(value)

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def to(self, target: Any = None, dtype: Any = None, non_blocking: bool = False,
            copy: bool = False, *, device: Any = None, memory_format: Any = None) -> "Tensor":
        """Copy to a device (``'cpu'``/``'cuda'``), a dtype (``'float32'``/``'float64'``), both
        (``x.to('cuda', tg.float64)``) or another tensor's (``x.to(y)``); ``memory_format=``
        re-lays the result (``tg.channels_last``: see ``tensorgan.memory_formats``).

        Returns ``self`` when nothing changes (unless ``copy``). A device or dtype change is
        differentiable.  ``non_blocking`` is accepted for torch code; copies here are synchronous."""
        if memory_format is not None:
            from . import memory_formats as mf
            fmt = mf.check(memory_format, "to")
            out = self if target is None and dtype is None and device is None else \
                self.to(target, dtype, non_blocking, copy, device=device)
            if fmt is mf.preserve_format:
                return out
            return _to_format(out, fmt, "to", strict=True)
        if device is not None:
            if target is not None and not isinstance(target, (np.dtype, type)) and target not in (
                    "float32", "float64", "float16"):
                raise InputTypeError("to(): give the device once (positionally or as device=)")
            target, dtype = device, dtype if dtype is not None else target
        if isinstance(target, Tensor):
            target, dtype = target.device, target.dtype
        elif isinstance(target, (int, np.integer)) and not isinstance(target, (bool, np.bool_)):
            if target < 0:      # x.to(x.get_device()) on a CPU tensor: torch's error, not a dtype's
                raise DeviceError(f"to(): device index must not be negative, got {target} (a CPU "
                                  f"tensor's get_device() is -1: give x.device instead)")
            target = f"cuda:{int(target)}"     # an ordinal is a CUDA device, as torch's x.to(0)
        if dtype is not None:
            moved = self if target is None else self.to(target)
            out = moved.to(dtype)
            return out.clone() if copy and out is self else out
        if target is None:      # x.to(None) / x.to(device=None): torch's no-op (labml's .to(self.device))
            return self.clone() if copy else self
        if copy:
            out = self.to(target)
            return out.clone() if out is self else out
        if names_a_device(target):
            device = get_device(target)
            if device is self.device:
                return self
            return ToDevice.apply(self, device)
        try:
            dtype = _check_dtype(target, any_kind=True)
        except DTypeError as exc:     # a string may have meant a device: name both readings
            if isinstance(target, str):
                raise DTypeError(f"to({target!r}): not a device (expected cpu or cuda) and {exc}") from None
            raise
        if dtype == self.dtype:
            return self
        if BOOL in (dtype, self.dtype):     # to or from a mask: a constant, outside the graph
            if self._requires_grad and _grad_mode.enabled:
                raise DTypeError("a tensor that requires grad cannot become bool: .detach() it first")
            a = self.array       # (the check inline: no extra call on the C-order path)
            return Tensor._make(a.astype(dtype) if a.flags.c_contiguous and a.size else _cast_array(self.device.xp, a, dtype), self.device)
        if dtype.kind == "c" or self.dtype.kind == "c":   # real <-> complex: complex_ops.to_complex
            from .complex_ops import cast_complex
            return cast_complex(self, dtype)
        if dtype.kind != "f" or self.dtype.kind != "f":   # to or from integers: a constant, as
            a = self.array                                 # torch's x.long(); laid out as Cast's
            return Tensor._make(a.astype(dtype) if a.flags.c_contiguous and a.size else _cast_array(self.device.xp, a, dtype), self.device)
        return Cast.apply(self, dtype)

    def float(self) -> "Tensor":
        return self.to(float32)

    def bool(self) -> "Tensor":
        """A bool mask: nonzero is True (torch's ``.bool()``; a constant, outside the graph)."""
        return self.ne(0.0) if self.dtype != BOOL else self

    def double(self) -> "Tensor":
        return self.to(float64)

    def cpu(self, memory_format: Any = None) -> "Tensor":
        """This tensor on the CPU (``memory_format`` as :meth:`to`'s)."""
        return self.to("cpu", memory_format=memory_format)

    def cuda(self, device: Any = None, non_blocking: bool = False, memory_format: Any = None) -> "Tensor":
        """This tensor on the GPU; ``device`` None or 0 is the one CUDA device tensorgan uses
        (``cuda:1`` is refused by :meth:`to`); ``non_blocking`` is accepted (copies are synchronous)."""
        if device is None or (isinstance(device, int) and not isinstance(device, bool)):
            device = "cuda" if device in (None, 0) else f"cuda:{device}"
        return self.to(device, non_blocking=non_blocking, memory_format=memory_format)

    # -- arithmetic (each a Function in ops.py) ------------------------------------------------
    def _lift(self, other: Any) -> Any:
        """Python numbers pass through (they adopt the tensor's dtype); so do NumPy scalars such
        as np.float64(2) (as Python numbers: float32 * np.sqrt(2) stays float32, as in torch);
        arrays become tensors (of this float dtype; beside an integer tensor, of their own).
        A bool tensor (a mask) becomes 0/1 of the other side's dtype, as PyTorch promotes it."""
        if isinstance(other, np.generic) and other.ndim == 0 and isinstance(other.item(), (int, float)):
            other = other.item()
        if isinstance(other, Tensor):
            return other.to(self.dtype) if other.array.dtype == BOOL else other
        if isinstance(other, (int, float)):
            if type(other) is int and self.array.dtype.kind in "iu":
                return _wrapped(other, self.array.dtype)
            return other
        if isinstance(other, (complex, np.complexfloating)):     # x * 1j: a 0-d complex operand
            from .complex_ops import complex_number     # (torch's wrapped number: its dtype yields)
            return complex_number(self, other)
        if getattr(getattr(other, "dtype", None), "kind", None) == "c":   # a complex array: a complex
            return Tensor._make(_to_array(other, None, self.device), self.device)   # tensor (torch's)
        dtype = self.dtype if self.dtype.kind == "f" else None
        return Tensor._make(_to_array(other, dtype, self.device), self.device)

    def _arith(self, other: Any = None) -> "Tensor":
        """self for arithmetic with ``other``, in torch's promoted dtype: a bool tensor (a mask)
        as 0/1 in the other operand's dtype (float32 beside a Python float, int64 beside an int);
        an integer tensor beside a Python float as float32 (beside a float tensor ``_operands``
        promotes it)."""
        kind = self.array.dtype.kind
        if kind == "f" or kind == "c":      # (complex: its ops promote, see complex_ops)
            return self
        if isinstance(other, Tensor) and other.dtype.kind in "fiu":
            return self.to(other.dtype) if kind == "b" else self
        if kind == "b" and (isinstance(other, (bool, np.bool_)) or isinstance(other, Tensor)):
            return self     # bool with bool: torch's logical + and *, float32 /, refused -
        if isinstance(other, (float, np.floating)):
            return self.to(_default_float[0])
        if kind == "b" and isinstance(other, np.ndarray) and other.dtype.kind in "fiub":
            # a NumPy array beside a mask: torch's (NumPy's) promotion gives the array's dtype
            return self if other.dtype.kind == "b" else self.to(other.dtype)
        if kind == "b":
            is_int = isinstance(other, (int, np.integer)) and not isinstance(other, (bool, np.bool_))
            return self.to(int64 if is_int or other is None else _default_float[0])
        return self

    def _binary(self, op: type, other: Any) -> "Tensor":
        me = self._arith(other)
        return op.apply(me, me._lift(other))

    def __add__(self, other): return self._binary(ops.Add, other)
    def __radd__(self, other):
        if other.__class__ is list or other.__class__ is tuple:
            return NotImplemented   # as torch: Python's own list/tuple +, so `logits += t` extends
        return self._binary(ops.Add, other)
    def __sub__(self, other):   # (dtype.type, not dtype ==: a float `a - b` pays ~0.1 us, not ~0.3)
        if self.array.dtype.type is _np_bool or other.__class__ is bool or (
                isinstance(other, Tensor) and other.array.dtype.type is _np_bool):
            _refuse_bool_subtraction(self, other)
        return self._binary(ops.Sub, other)
    def __rsub__(self, other):  # 1 - x: one RsubBackward1 node, as torch's
        if self.array.dtype.type is _np_bool or other.__class__ is bool:
            _refuse_bool_subtraction(self, other)
        me = self._arith(other)
        return ops.Rsub.apply(me, me._lift(other))
    def __mul__(self, other): return self._binary(ops.Mul, other)
    def __rmul__(self, other):
        if other.__class__ is list or other.__class__ is tuple:
            return NotImplemented   # as torch: a sequence times a tensor is Python's repeat
        return self._binary(ops.Mul, other)
    def __truediv__(self, other):
        cls = other.__class__         # (a float or Tensor divisor, the common ones: two checks)
        if cls is not float and cls is not Tensor and (cls is int or isinstance(other, np.integer)) \
                and self.array.dtype.kind in "iub":   # computed in float: uint8 / -3 (or
            other = float(other)                      # np.int64(-3)) is -1.33, not 4 / 253 (a wrap)
        return self._binary(ops.Div, other)
    def __neg__(self):
        if self.array.dtype.kind == "f":
            return ops.Neg.apply(self)
        if self.array.dtype == BOOL:                  # torch refuses; 0/1 -> 0/-1 would be silent
            raise DTypeError("negation, the `-` operator, on a bool tensor is not supported (as "
                             "torch): to invert a mask use `~` or logical_not()")
        return ops.Neg.apply(self._arith())
    def __pos__(self): return self

    # -- comparisons and logic: bool tensors, outside the graph.  ``==`` / ``!=`` compare values
    #    elementwise as in torch; a tensor still hashes by identity (a graph node in dicts and
    #    sets), so ``t in some_list`` compares values too: use ``any(t is u for u in ...)``. -----
    def _compare(self, other: Any, ufunc: str) -> "Tensor":
        if self.array.dtype.kind == "c" or (other.array.dtype.kind == "c" if isinstance(other, Tensor)
                                            else isinstance(other, (complex, np.complexfloating))):   # (x < 1j: refused)
            if ufunc not in ("equal", "not_equal"):        # < <= > >=: no order (as torch)
                from .complex_ops import refuse
                refuse(ufunc, self.dtype if self.array.dtype.kind == "c" else
                       other.dtype if isinstance(other, Tensor) else np.complex64)
        me = self.array
        if isinstance(other, Tensor):
            if other.device is not self.device:
                raise DeviceError(f"{ufunc}: tensors on {self.device} and {other.device}")
            other = other.array
            if other.dtype != me.dtype:
                if (other.ndim == 0) != (me.ndim == 0):
                    me, other = _zero_dim_cast(me, other)
                me, other = _int_beside_float(me, other)
        elif isinstance(other, (float, np.floating)) and self.array.dtype.kind in "iub":
            me = _quiet_cast(me, get_default_dtype())    # int64 2**24+1 == 2.0**24 in float32
        elif not isinstance(other, (int, float, np.generic)):
            other = _to_array(other, None, self.device)
        elif self.array.dtype.kind in "iu" and isinstance(other, (int, np.integer)) \
                and not isinstance(other, bool) and -2 ** 63 <= other < 2 ** 64 \
                and not (type(other) is int and other in _INT_RANGES.get(self.array.dtype, ())):
            other = _wrap_int(int(other), self.array.dtype)     # uint8 > -1 compares with 255
        try:
            out = getattr(self.device.xp, ufunc)(me, other)
        except (TypeError, ValueError) as exc:
            raise ShapeError(f"{ufunc}: cannot compare a tensor of shape {self.shape} with "
                             f"{type(other).__name__} ({exc})") from None
        if not self.array.flags.c_contiguous and out.ndim > 1 and out.flags.c_contiguous:
            from .memory_formats import follow_operands     # cl > c: channels_last, as torch
            out = follow_operands(out, (self.array, other))
        return Tensor._make(out, self.device)

    def __lt__(self, other): return self._compare(other, "less")
    def __le__(self, other): return self._compare(other, "less_equal")
    def __gt__(self, other): return self._compare(other, "greater")
    def __ge__(self, other): return self._compare(other, "greater_equal")
    def eq(self, other: Any) -> "Tensor": return self._compare(other, "equal")
    def ne(self, other: Any) -> "Tensor": return self._compare(other, "not_equal")

    def _logic(self, other: Any, op: str) -> "Tensor":
        """~, &, |, ^: logical on bool tensors, bitwise on integer ones (a bool beside an integer
        counts as 0/1), as torch; the right side may be a Python bool or int."""
        kinds = {self.array.dtype.kind}
        if isinstance(other, Tensor):
            if other.device is not self.device:
                raise DeviceError(f"{op}: tensors on {self.device} and {other.device}")
            kinds.add(other.array.dtype.kind)
        elif other is not None:
            kinds.add("b" if isinstance(other, (bool, np.bool_)) else "i" if isinstance(other, (int, np.integer)) else "f")
        if not kinds <= {"b", "i", "u"}:         # torch's "bitwise_and_cpu" not implemented for 'Float'
            got = "" if other is None else f" and {getattr(other, 'dtype', type(other).__name__)}"
            raise DTypeNotImplementedError(f"{op} takes bool tensors (comparison results) or integer "
                                           f"tensors, got {self.dtype}{got}")
        if (isinstance(other, (int, np.integer)) and not isinstance(other, bool)
                and self.array.dtype.kind in "iu"):    # uint8 & -3 (or np.int64(-3)): -3 as a
            other = _wrapped(int(other), self.array.dtype)   # uint8, as torch; not an int64 result
        ufunc = ("logical_" if kinds == {"b"} else "bitwise_") + op
        args = (self.array,) if other is None else _torch_int_arrays(
            self, other, self.array, other.array if isinstance(other, Tensor) else other)
        try:
            out = getattr(self.device.xp, ufunc)(*args)
        except ValueError:                    # NumPy's "could not be broadcast": torch's RuntimeError
            _refuse_unbroadcastable(op, args)
            raise
        if not self.array.flags.c_contiguous and out.ndim > 1 and out.flags.c_contiguous:
            from .memory_formats import follow_operands     # cl & c: channels_last, as torch
            out = follow_operands(out, args)
        return Tensor._make(out, self.device)

    def __invert__(self): return self._logic(None, "not" if self.dtype == BOOL else "invert")
    def __and__(self, other): return self._logic(other, "and")
    def __or__(self, other): return self._logic(other, "or")
    def __xor__(self, other): return self._logic(other, "xor")
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def bitwise_and(self, other: Any) -> "Tensor": return self & other
    def bitwise_or(self, other: Any) -> "Tensor": return self | other
    def bitwise_xor(self, other: Any) -> "Tensor": return self ^ other
    def bitwise_not(self) -> "Tensor": return ~self

    def logical_not(self) -> "Tensor":
        """Elementwise not, of any dtype (nonzero is True): a bool tensor, as torch."""
        return ~self.bool()

    def logical_and(self, other: "Tensor") -> "Tensor":
        return self.bool() & _as_mask("logical_and", self, other)

    def logical_or(self, other: "Tensor") -> "Tensor":
        return self.bool() | _as_mask("logical_or", self, other)

    def logical_xor(self, other: "Tensor") -> "Tensor":
        return self.bool() ^ _as_mask("logical_xor", self, other)

    def any(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        """Whether any element is non-zero, over ``dim`` (an int or a tuple; all by default), as
        a bool tensor (outside the graph)."""
        return self._truth("any", dim, keepdim)

    def all(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        """Whether every element is non-zero, over ``dim`` (all by default), as a bool tensor."""
        return self._truth("all", dim, keepdim)

    def _truth(self, name: str, dim: Any, keepdim: bool) -> "Tensor":
        keepdim = _flag(name, "keepdim", keepdim)
        if isinstance(dim, (tuple, list)) and not dim:      # dim=(): no dim reduced, as torch's
            mask = self.array.astype(BOOL)                                                 # all / any
            return Tensor._make(mask.astype(np.uint8) if self.array.dtype == np.uint8 else mask, self.device)
        axes = _axes(_torch_dims(dim), self.ndim)
        out = getattr(self.array.astype(BOOL, copy=False), name)(axis=axes, keepdims=bool(keepdim) and axes is not None)
        if keepdim and axes is None:
            out = out.reshape((1,) * self.ndim)
        if self.array.dtype == np.uint8:        # torch keeps uint8 (its old mask dtype) for uint8
            out = out.astype(np.uint8)
        elif not self.array.flags.c_contiguous:    # C order, as torch's reductions (see ops.Sum)
            out = out.copy()
        return Tensor._make(self.device.xp.asarray(out), self.device)

    def unflatten(self, dim: int, sizes: Any) -> "Tensor":
        """Dim ``dim`` split into ``sizes`` (one of them may be -1), a view (torch.unflatten)."""
        d = self._dim(dim, "unflatten")
        given = _index_sizes(tuple(sizes))
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in given):
            raise InputTypeError(f"unflatten: sizes must be ints, got {tuple(sizes)!r}")
        given = tuple(int(s) for s in given)
        known = math.prod(s for s in given if s != -1)
        if given.count(-1) == 1 and known > 0:                  # -1: what the others leave
            given = tuple(self.shape[d] // known if s == -1 else s for s in given)
        if not given or min(given) < 0 or math.prod(given) != self.shape[d]:
            raise ShapeError(f"unflatten: sizes {tuple(sizes)} do not split dim {dim} of shape {self.shape}")
        return self.reshape(self.shape[:d] + given + self.shape[d + 1:])

    def __rtruediv__(self, other):
        if (type(other) in (float, int) or isinstance(other, _REAL_SCALARS)) \
                and self.array.dtype.kind in "fiub":   # (NumPy scalars and bools too, as torch)
            r = self.reciprocal()     # torch's: x.reciprocal() * other (rounded twice: 3 / x is
            return r if other == 1 else r * other   # not always x.reciprocal's correctly rounded 3/x)
        self = self._arith(other)
        other = self._lift(other)
        if not isinstance(other, Tensor):
            other = Tensor._make(self.device.xp.full(self.shape, other, dtype=self.dtype), self.device)
        return ops.Div.apply(other, self)

    def _integer_op(self, other: Any, ufunc: str) -> "Tensor | None":
        """``ufunc`` on integer operands (an integer tensor with an integer tensor or Python int),
        as an integer tensor outside the graph (integers have no gradient); None otherwise."""
        if isinstance(other, np.integer):
            other = int(other)
        other_kind = other.dtype.kind if isinstance(other, Tensor) else (
            "b" if isinstance(other, bool) else "i" if isinstance(other, int) else "f")
        if self.dtype.kind not in "iub" or other_kind not in "iub" or (self.dtype.kind == other_kind == "b"):
            if ufunc == "power" and self.dtype.kind == other_kind == "b":
                return self._bool_power(other)
            if self.dtype.kind == other_kind == "b":
                raise DTypeNotImplementedError(f"{ufunc}: not implemented for two bools (as torch's "
                                               f"for 'Bool'); convert the tensor with .long() or .float()")
            return None
        if ufunc == "power" and type(other) is int and other < 0:   # (before uint8 wraps it)
            raise NegativeIntegerPowerError("integers to negative integer powers are not allowed "
                                            "(use a float tensor)")
        if ufunc == "power" and type(other) is int and self.dtype.kind in "iu" \
                and other > np.iinfo(self.dtype).max:       # torch checks the exponent's cast
            raise ValueOverflowError(f"pow: exponent {other} cannot be converted to type "
                                     f"{self.dtype} without overflow (as torch)")
        a, b = self._arith(other), self._lift(other)
        a, b = _torch_int_arrays(self, other, a.array, b.array if isinstance(b, Tensor) else b)
        if (ufunc in ("floor_divide", "remainder", "fmod") and a.size   # (an empty result divides nothing)
                and (b == 0 if isinstance(b, int) else (b == 0).any())):
            raise IntegerDivisionError(f"ZeroDivisionError: integer {ufunc} by zero (torch raises "
                                       f"here too; a float tensor gives inf / NaN)")
        if ufunc == "power" and not isinstance(b, int) and (b < 0).any():
            return Tensor._make(_int_power(self.device.xp, a, b), self.device)
        op = getattr(self.device.xp, ufunc)     # (the check inline: no call on the C-order path)
        try:
            return Tensor._make(op(a, b) if a.ndim < 2 or a.flags.c_contiguous else _int_ufunc(op, a, b),
                                self.device)
        except ValueError:                    # NumPy's "could not be broadcast": torch's RuntimeError
            _refuse_unbroadcastable(ufunc, (a, b))
            raise

    def _bool_power(self, exponent: Any) -> "Tensor":
        """bool tensor ** bool, as torch: ``** True`` is the mask itself, ``** False`` all True
        (bools both ways); a bool tensor exponent is refused (torch has no bool pow kernel)."""
        if isinstance(exponent, Tensor):
            raise DTypeNotImplementedError("pow: not implemented for a bool tensor to a bool "
                                           "tensor's power (as torch's \"pow\" not implemented "
                                           "for 'Bool'); convert one to an integer type")
        return self.clone() if exponent else self.new_ones(self.shape, dtype=self.dtype)

    def __floordiv__(self, other):
        """``//``: floor division -- integers stay integers; floats give Python's floor division
        (fmod-based, not floor(self / other): -1 // inf is -1; see ``_floor_quotient``),
        piecewise constant (gradient 0), as torch's floor_divide."""
        exact = self._integer_op(other, "floor_divide")
        return exact if exact is not None else _floor_quotient(self / other, self, other)

    def __rfloordiv__(self, other):
        if self.dtype.kind == "b" and isinstance(other, (int, np.integer)):   # (np.bool_: a float, as torch)
            return self._bool_divisor(other, "floor_divide").__rfloordiv__(other)
        if isinstance(other, bool):           # True // t: torch reads the bool as the int 1
            other = int(other)
        if isinstance(other, (int, np.integer)) and not isinstance(other, bool) and self.dtype.kind in "iu":
            other = _wrapped(int(other), self.array.dtype)   # -7 // uint8: 249 // x, as torch's
            return self.new_full((), other) // self    # (0-d: the result follows self, as torch's)
        return _floor_quotient(other / self, other, self)

    def _bool_divisor(self, other: Any, ufunc: str) -> "Tensor":
        """This bool tensor as torch divides an integer by it: int64 (``1 // mask``); a bool
        numerator is refused, as torch has no bool kernel (``True // mask``)."""
        if isinstance(other, (bool, np.bool_)):
            raise DTypeNotImplementedError(f"{ufunc}: not implemented for two bools (as torch's "
                                           f"for 'Bool'); convert the tensor with .long() or .float()")
        return self.long()

    def __mod__(self, other):
        """``%``: Python's remainder (the sign of the divisor), integers staying integers."""
        exact = self._integer_op(other, "remainder")
        return exact if exact is not None else self.remainder(other)

    def __rmod__(self, other):
        """``number % tensor`` (torch's Tensor.__rmod__): an int with an integer tensor stays
        integer (a bool counts as the int 0 / 1, as in torch); otherwise computed in the float dtype.
        An extension: the tensor gets a gradient, ``-floor(number / x)`` (the derivative almost
        everywhere, torch's own for remainder(tensor, tensor)), where torch's Scalar form's node
        refuses ("the derivative for 'other' is not implemented")."""
        if self.dtype.kind == "b" and isinstance(other, (int, np.integer)):   # (np.bool_: a float, as torch)
            return self._bool_divisor(other, "remainder").__rmod__(other)
        if isinstance(other, bool):
            other = int(other)
        if isinstance(other, (int, np.integer)) and self.dtype.kind in "iu":
            other = _wrapped(int(other), self.array.dtype)   # -7 % uint8: 249 % x, as torch's
            return self.new_full((), other) % self     # (0-d: the result follows self, as torch's)
        if not isinstance(other, (int, float, np.integer, np.floating)):
            return NotImplemented
        from .math_ops import Remainder    # (RemainderBackward0: a number's form, not the Tensor one)
        me = self._arith(other)
        return Remainder.apply(Tensor._make(me.device.xp.asarray(other, dtype=me.dtype), me.device), me)

    def __pow__(self, exponent):
        exact = self._integer_op(exponent, "power") if not isinstance(exponent, float) else None
        if exact is not None:
            return exact
        if isinstance(exponent, Tensor) or (hasattr(exponent, "shape") and np.ndim(exponent) > 0):
            return self._binary(ops.PowTensor, exponent)
        if not np.isscalar(exponent) or isinstance(exponent, (str, bytes)):
            raise InputTypeError(f"tensor ** exponent takes a number or a tensor, got "
                                 f"{type(exponent).__name__}")
        if isinstance(exponent, (complex, np.complexfloating)):   # torch: a complex result (not
            exponent = complex(exponent)                           # float()'s TypeError)
            if self.array.dtype.kind != "c":
                if self.array.dtype.kind != "f":
                    return self.to(_complex_of(_default_float[0])) ** exponent
                return self.to(_complex_of(self.array.dtype)) ** exponent
            return ops.Pow.apply(self, exponent)
        return ops.Pow.apply(self, float(exponent))

    pow = __pow__       # x.pow(2), as torch spells it

    def __rpow__(self, base):
        """number ** tensor, elementwise (a negative number to a fractional power is NaN, as in torch)."""
        if isinstance(base, np.generic):
            base = base.item()
        if isinstance(base, bool):           # True ** ints: 1s, as torch (a bool is an integer)
            if self.dtype == np.bool_:
                raise DTypeNotImplementedError("pow: not implemented for bool ** a bool tensor "
                                               "(as torch's \"pow\" not implemented for 'Bool')")
            base = int(base)
        elif isinstance(base, complex):      # 1j ** x: complex, as torch
            if self.array.dtype.kind != "c":
                kind = self.array.dtype
                return base ** self.to(_complex_of(kind if kind.kind == "f" else _default_float[0]))
            return ops.PowTensor.apply(Tensor._make(self.device.xp.asarray(base, dtype=self.dtype),
                                                    self.device), self)
        elif not isinstance(base, (int, float)):
            raise InputTypeError(f"number ** tensor needs a number, got {base!r}")
        me = self._arith(base)               # 2.5 ** ints: float32, not the base cut to 2
        if me.dtype.kind in "iu" and isinstance(base, int):
            out = me.new_full((), _wrapped(base, me.array.dtype)) ** me   # int ** ints: exact, as torch's
            #                                                  (-2 ** uint8: 254 ** x, wrapped)
            return out if out.array.flags.c_contiguous else out.contiguous()   # (torch: C order)
        return ops.PowScalarBase.apply(Tensor._make(me.device.xp.asarray(base, dtype=me.dtype), me.device), me)

    def __matmul__(self, other):
        try:
            return ops.MatMul.apply(self, self._lift(other))
        except AttributeError:      # (the error path only: no check on the hot path)
            _refuse_number_matmul(self, other)
            raise

    def __rmatmul__(self, other):
        try:
            return ops.MatMul.apply(self._lift(other), self)
        except AttributeError:
            _refuse_number_matmul(other, self)
            raise

    def __getitem__(self, key):
        if type(key) is list:                 # x[[i, j]]: torch's legacy reading of some lists
            key = _list_key(key)
        split = None
        if isinstance(key, tuple):
            if type(key) is not tuple or not _plain_key(key):
                try:
                    key = tuple(map(_index, key))
                except _UnusualMask:                # (no cost until raised) uint8 / empty masks
                    key = _mask_key(key, self.shape)
                if any(k is Ellipsis for k in key):
                    key = _drop_empty_ellipsis(key, self.ndim)
                split = _ints_first(key)
        else:
            try:
                key = _index(key)
            except _UnusualMask:
                key = _mask_key(key, self.shape)
        try:
            if split is not None:
                return ops.GetItem.apply(ops.GetItem.apply(self, split[0]), split[1])
            return ops.GetItem.apply(self, key)
        except InputTypeError:               # (no cost until raised) x[[1.0]]: torch reads a
            fixed = _float_sequence_key(key)  # list / array of floats as int64 positions
            if fixed is None:
                raise
            return self[fixed]
        except IndexError:                   # (no cost until raised) x[..., 0, ...], as torch
            one = _one_ellipsis(key, self.ndim)
            if one is None:
                one = _empty_result_key(key, self.shape)    # torch skips bounds on an empty result
            if one is None:
                _check_mask_shapes(key, self.shape)         # torch's message for a mask's shape
                raise
            return self[one]

    def __setitem__(self, key, value) -> None:
        """``x[key] = value``: an in-place write of ``value`` (a number or a tensor, broadcast,
        cast to x's dtype) under the in-place rules (:meth:`_in_place`): on a tensor autograd
        tracks it is a graph op, as torch's -- the overwritten elements pass ``value``'s gradient."""
        if type(key) is list:
            key = _list_key(key)
        elif key is False:                        # torch returns at once: nothing written, no
            return                                # node (the value gets no gradient)
        if isinstance(key, tuple):
            try:
                key = tuple(map(_index, key))
            except _UnusualMask:                        # (no cost until raised)
                key = _mask_key(key, self.shape, value, setting=True)
            if _ELLIPSIS_TYPE in map(type, key):        # (no Python call: the common keys)
                key = _drop_empty_ellipsis(key, self.ndim)
            if len(key) > 1 and key[-1] is Ellipsis:    # x[..., 0, ...] = v
                one = _one_ellipsis(key, self.ndim)
                key = key if one is None else one
        else:
            try:
                key = _index(key)
            except _UnusualMask:
                key = _mask_key(key, self.shape, value, setting=True)
        split = _ints_first(key) if isinstance(key, tuple) else None
        if isinstance(value, Tensor) and value.device is not self.device:
            raise DeviceError(f"x[key] = value: value is on {value.device}, x on {self.device}")
        if isinstance(value, Tensor) and value.dtype != self.dtype:
            if not ops._is_basic_index(key) and not _masked_fill_key(key, value.numel()):
                self[key]                          # (error path) a bad index is named first, as torch
                raise DTypeError(f"x[index] = value: index put requires the source and "
                                 f"destination dtypes match, got {self.dtype} for the "
                                 f"destination and {value.dtype} for the source (as torch, "
                                 f"refused with a tensor index; a slice, or one mask and a "
                                 f"one-element value, casts): convert with value.to(x.dtype)")
            if self.dtype.kind == "f":
                value = value.to(self.dtype)       # torch casts the value to x's dtype
        elif isinstance(value, (complex, np.complexfloating)) and self.array.dtype.kind != "c":
            if value.imag:                         # torch: a number must fit x's dtype
                raise DTypeError(f"x[key] = {value!r}: value cannot be converted to type "
                                 f"{self.dtype} without overflow (as torch: a complex number "
                                 f"into a real tensor); write value.real, or make x complex")
            value = value.real

        if isinstance(value, Tensor) and value.ndim and value.shape[0] == 1:
            shape = value.shape                 # torch drops the value's leading length-1 dims
            while shape and shape[0] == 1:      # (slicePrefix1sSize): x[mask] = v of shape (1, k)
                shape = shape[1:]               # and x[i, j] = v of shape (1,), which NumPy
            value = value.reshape(shape)        # refuses (CDC's dist[i, j] = cosine_similarity)
        if isinstance(value, Tensor) and (value.array.base is not None or self.array.base is not None
                                          or value.array is self.array):
            _refuse_setitem_overlap(self.array, key, split, value)

        def update(a):
            target = a if split is None else _view_at(a, split[0])   # torch's ints-first order
            target[key if split is None else split[1]] = self._operand(value)

        def out_of_place(old):
            if split is None:
                return ops.SetItem.apply(old, value, key)
            part = ops.SetItem.apply(ops.GetItem.apply(old, split[0]), value, split[1])
            return ops.SetItem.apply(old, part, split[0])     # the ints first, as update's
        try:
            self._in_place("x[key] = value", update, out_of_place, (value,))
        except MemoryOverlapError:              # (no cost until raised) into expand()'s result
            policy = _setitem_expanded(self.array, key, split)
            if policy is None:
                raise
            self._in_place("x[key] = value", update, out_of_place, (value,), policy)
        except AutogradError:                   # (no cost until raised) a tracked expanded tensor:
            if split is not None or not _repeats_memory(self.array):
                raise
            policy = _setitem_expanded(self.array, key, None)
            if policy == "":
                self[key].copy_(value)          # a part that does not repeat: written, as torch's
            elif policy and not self._requires_grad and isinstance(value, Tensor) and value._requires_grad:
                self._in_place("x[key] = value", update, out_of_place, (value,), policy)
            else:
                raise
        except (IndexError, InputTypeError):    # (no cost until raised) x[[1.0]] = v, as torch
            fixed = _float_sequence_key(key)
            if fixed is None and split is None:      # (x[[7]] = v too: not only tuples)
                fixed = _empty_result_key(key, self.shape)  # nothing to write: no bounds check
            if fixed is None:
                _check_mask_shapes(key, self.shape)     # torch's message for a mask's shape
                raise
            self[fixed] = value

    # -- reductions and shape ops ---------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False, *, dim=None, keepdim: bool = _UNGIVEN,
            dtype: Any = None) -> "Tensor":
        """Sum over ``axis`` (NumPy's names) or ``dim`` / ``keepdim`` (PyTorch's).  Of a bool
        tensor: the count of True (int64, as torch); of an integer tensor: int64; ``dtype``:
        the input cast to it first (torch's)."""
        axis, keepdims = _reduction_args("sum", axis, keepdims, dim, keepdim)
        if dtype is None:
            me = self._arith()
            if me.dtype.kind in "iu" and me.dtype != int64:     # torch sums integers in int64
                me = me.to(int64)
        else:                                   # (NumPy sums small integers in int64: cast back)
            target = _reduction_dtype("sum", self, dtype)
            if ops.casts_in(self, target):      # float32 <-> float64: one node, as torch's
                return ops.cast_in(ops.Sum, target).apply(self, _axes(axis, self.ndim), keepdims)
            me = self.to(target)
            if me.dtype == BOOL:                # torch adds bools as a logical or
                return me.any(dim=_axes(axis, self.ndim), keepdim=keepdims)
            out = ops.Sum.apply(me, _axes(axis, self.ndim), keepdims)
            return out if out.dtype == me.dtype else out.to(me.dtype)
        return ops.Sum.apply(me, _axes(axis, self.ndim), keepdims)

    def mean(self, axis=None, keepdims: bool = False, *, dim=None, keepdim: bool = _UNGIVEN,
             dtype: Any = None) -> "Tensor":
        """Mean over ``axis`` (NumPy's names) or ``dim`` / ``keepdim`` (PyTorch's), of a float
        tensor: integer and bool ones are refused, as torch's (``x.float().mean()`` or
        ``dtype=tg.float32``: the input cast to that floating dtype first)."""
        axis, keepdims = _reduction_args("mean", axis, keepdims, dim, keepdim)
        if dtype is None and self.array.dtype.kind not in "fc":
            _float_only("mean", self)
        if dtype is not None:
            dt = _check_dtype(dtype, any_kind=True)
            if dt.kind not in "fc":
                raise DTypeError(f"mean: dtype must be a floating or complex dtype, got {dt}")
            if ops.casts_in(self, dt):          # float32 <-> float64: one node, as torch's
                return ops.cast_in(ops.Mean, dt).apply(self, _axes(axis, self.ndim), keepdims)
            return ops.Mean.apply(self.to(dt), _axes(axis, self.ndim), keepdims)
        return ops.Mean.apply(self._arith(0.0), _axes(axis, self.ndim), keepdims)

    def var(self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: float | None = None) -> "Tensor":
        """Variance over ``dim`` (all by default), dividing by n - ``correction`` (1, Bessel's,
        by default; ``unbiased=False`` is 0), as torch. Composed of differentiable ops."""
        return self._spread("var", dim, unbiased, keepdim, correction, False)

    def std(self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: float | None = None) -> "Tensor":
        """Square root of :meth:`var` (same arguments); where it is 0 (constant values) the
        gradient is 0, not NaN, as torch's."""
        return self._spread("std", dim, unbiased, keepdim, correction, True)

    def _spread(self, name: str, dim: Any, unbiased: Any, keepdim: Any, correction: Any,
                root: bool) -> "Tensor":
        """var (std with ``root``) for ``name``: var, std, var_mean or std_mean (torch's warning)."""
        if unbiased is not None and correction is not None:
            raise InputTypeError("var/std: give unbiased= or correction=, not both")
        _float_only("var/std", self)
        keepdim = _flag("var/std", "keepdim", keepdim)
        if unbiased is not None:
            _flag("var/std", "unbiased", unbiased)
        correction = (1 if unbiased is None or unbiased else 0) if correction is None else correction
        if self.dtype is float16:   # torch's CPU half var / std: float32 throughout, rounded once
            return self.float()._spread(name, dim, None, keepdim, correction, root).half()
        variance = self._variance(dim, keepdim, correction, name)
        return ops.SafeSqrt.apply(variance) if root else variance

    def _variance(self, dim: Any, keepdim: bool, correction: float, name: str) -> "Tensor":
        axes = _axes(_torch_dims(dim), self.ndim)
        n = self.array.size if axes is None else math.prod(self.shape[a] for a in axes)
        if n - correction <= 0:     # inf / NaN and torch's gradient for it (see VarianceWithoutDof)
            warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less "
                          f"than the reduction factor (input numel divided by output numel) (as "
                          f"torch: the result is inf or NaN)", UserWarning, stacklevel=4)
            from .math_ops import VarianceWithoutDof
            whole = dim is None or not self.ndim or axes is None
            return VarianceWithoutDof.apply(self, axes, keepdim, n, correction, whole)
        centered = self - self.mean(dim=axes, keepdim=True)
        return (centered * centered).sum(dim=axes, keepdim=keepdim) / float(n - correction)

    def logsumexp(self, dim, keepdim: bool = False) -> "Tensor":
        """``log(sum(exp(x)))`` over ``dim``, shifted by the max so exp never overflows."""
        keepdim = _flag("logsumexp", "keepdim", keepdim)
        self = self._arith(0.0)                      # integers: float32 (uint8 - max would wrap)
        axes = _axes(_torch_dims(dim), self.ndim)
        with np.errstate(invalid="ignore"):
            shift = self.array.max(axis=axes, keepdims=True) if self.array.size else self.array.sum(
                axis=axes, keepdims=True)
        xp = self.device.xp
        shift = Tensor._make(xp.where(xp.isfinite(shift), shift, 0).astype(self.dtype), self.device)
        with np.errstate(divide="ignore"):                     # log(0) = -inf: all -inf in
            out = (self - shift).exp().sum(dim=axes, keepdim=True).log() + shift
        return out if keepdim else out.reshape(tuple(
            d for i, d in enumerate(self.shape) if axes is not None and i not in axes))

    def softmax(self, dim: int, dtype: Any = None) -> "Tensor":
        from .functional import softmax
        return softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim: int, dtype: Any = None) -> "Tensor":
        from .functional import log_softmax
        return log_softmax(self, dim, dtype=dtype)

    def amax(self, dim=None, keepdim: bool = False) -> "Tensor":
        """Largest element over ``dim`` (all by default); ties share the gradient evenly."""
        return ops.Amax.apply(self, _axes(_torch_dims(dim), self.ndim), _flag("amax", "keepdim", keepdim))

    def amin(self, dim=None, keepdim: bool = False) -> "Tensor":
        return ops.Amin.apply(self, _axes(_torch_dims(dim), self.ndim), _flag("amin", "keepdim", keepdim))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        """Index of the largest element along ``dim`` (of the flattened tensor by default; the
        first on ties), an int64 tensor, outside the graph (as torch; a bool tensor refused, as
        torch's "argmax(): does not support bool input")."""
        if self.array.dtype == BOOL:
            raise DTypeError("argmax(): does not support bool input (as torch); convert with .int() / .float()")
        return self._arg_extreme("argmax", dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        if self.array.dtype == BOOL:
            raise DTypeError("argmin(): does not support bool input (as torch); convert with .int() / .float()")
        return self._arg_extreme("argmin", dim, keepdim)

    def _arg_extreme(self, name: str, dim: Any, keepdim: bool) -> "Tensor":
        keepdim = _flag(name, "keepdim", keepdim)
        if dim is not None and not self.ndim and dim not in (0, -1):   # torch's 0-d dims
            raise IndexOutOfRangeError(f"{name}: dim {dim!r} is out of range for a 0-d tensor")
        axis = None if dim is None or not self.ndim else self._dim(dim, name)
        n = self.array.size if axis is None else self.shape[axis]
        if n == 0:
            raise EmptyReductionError(f"{name} over an empty dim (shape {self.shape})")
        index = getattr(self.array, name)(axis=axis, keepdims=bool(keepdim) and axis is not None)
        if keepdim and axis is None:
            index = index.reshape((1,) * self.ndim)
        return Tensor._make(self.device.xp.asarray(index).astype(int64), self.device)

    def max(self, *args: Any, **kwargs: Any) -> Any:
        """torch's three forms: ``x.max()`` the largest element; ``x.max(other)`` the elementwise
        maximum; ``x.max(dim)`` the named pair ``(values, indices)`` -- the indices int64, as
        :meth:`argmax` gives them (``_, pred = logits.max(1)``)."""
        return self._max_or_min("max", args, kwargs)

    def min(self, *args: Any, **kwargs: Any) -> Any:
        return self._max_or_min("min", args, kwargs)

    def _max_or_min(self, name: str, args: tuple, kwargs: dict) -> Any:
        if "dim" in kwargs:     # by keyword, torch reads a one-element integer tensor as the dim
            kwargs = dict(kwargs, dim=self._keyword_dim(name, kwargs["dim"]))
        try:
            dim, keepdim, other = _max_min_arguments(*args, **kwargs)
        except TypeError as exc:
            problem = str(exc).replace("_max_min_arguments() ", "")
            raise InputTypeError(f"{name}(): {problem}; torch's forms are {name}(), {name}(other), "
                                 f"{name}(dim, keepdim=False)") from None
        if other is not None:
            return self._extreme_other(name, dim, other)
        return self._extreme(name, dim, keepdim)

    def _keyword_dim(self, name: str, dim: Any) -> Any:
        """``x.max(dim=t)``: torch takes a one-element integer tensor given by keyword as the dim
        (positionally, ``x.max(t)`` is the elementwise form); a float tensor is refused rather
        than silently taken as the other operand."""
        if isinstance(dim, Tensor):
            value = _int_of(dim)
            if not _is_int(value):
                raise InputTypeError(f"{name}(dim=...) takes an int (or a one-element integer "
                                     f"tensor), got a {dim.dtype} tensor of shape {dim.shape}")
            return value
        return dim

    def _extreme_other(self, name: str, dim: Any, other: Any) -> "Tensor":
        """``x.max(other=y)``: the elementwise form, with torch's keyword."""
        if dim is not None:
            raise InputTypeError(f"{name}: give dim or other=, not both")
        if not isinstance(other, Tensor):
            raise InputTypeError(f"{name}: other must be a Tensor, got {type(other).__name__}")
        return self.maximum(other) if name == "max" else self.minimum(other)

    def _extreme(self, name: str, dim: Any, keepdim: bool) -> Any:
        op = ops.Max if name == "max" else ops.Min     # Amax / Amin under torch's node names
        keepdim = _flag(name, "keepdim", keepdim)
        if dim is None:
            return op.apply(self, None, False)
        if isinstance(dim, Tensor):
            return self.maximum(dim) if name == "max" else self.minimum(dim)
        if isinstance(dim, (tuple, list)):     # torch's TypeError (amax / amin take several)
            raise InputTypeError(f"{name}: dim must be an int, got {dim!r} (for several dims "
                                 f"use a{name}(dim))")
        if not self.ndim:
            op = ops.MaxOfScalar if name == "max" else ops.MinOfScalar
            values = op.apply(self, _axes(_torch_dims(dim), self.ndim), bool(keepdim))
            return MinMax(values, self._arg_extreme("arg" + name, dim, keepdim))
        axis = self._dim(dim, name)
        if self.shape[axis] == 0:
            raise EmptyReductionError(f"{name} over an empty dim (shape {self.shape})")
        index = getattr(self.array, "arg" + name)(axis=axis, keepdims=True).astype(int64)
        values = ops.MaxDim.apply(self, axis, bool(keepdim), index, name.capitalize() + "Backward0")
        return MinMax(values, Tensor._make(index if keepdim else index.squeeze(axis), self.device))

    def unsqueeze(self, dim: int) -> "Tensor":
        """A new axis of size 1 at ``dim`` (-ndim-1 <= dim <= ndim)."""
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -self.ndim - 1 <= dim <= self.ndim:
            if isinstance(dim, Tensor) and _is_int(_int_of(dim)):
                return self.unsqueeze(_int_of(dim))
            _non_int("unsqueeze", "dim", (dim,))
            raise IndexOutOfRangeError(f"unsqueeze: dim {dim!r} is out of range for shape {self.shape}")
        dim = int(dim) % (self.ndim + 1)
        shape = self.array.shape      # (a plain tuple: Size slices and adds in Python code)
        return ops.Unsqueeze.apply(self, shape[:dim] + (1,) + shape[dim:])

    def squeeze(self, dim=None) -> "Tensor":
        """Drop axes of size 1: all of them, or those of ``dim`` (an int or a tuple) that have
        size 1 -- the others stay, as in PyTorch (a view, even where no axis goes)."""
        if dim is None:
            return ops.SqueezeAll.apply(self, tuple(n for n in self.shape if n != 1))
        drop = {d for d in _axes(dim, self.ndim) or () if self.shape[d] == 1}
        op = ops.SqueezeDims if isinstance(dim, (tuple, list)) else ops.Squeeze
        return op.apply(self, tuple(n for d, n in enumerate(self.shape) if d not in drop))

    def dim(self) -> int:
        return self.array.ndim

    def reshape(self, *sizes, shape=None) -> "Tensor":
        """``reshape(2, 3)``, ``reshape((2, 3))`` or ``reshape(shape=(2, 3))`` (torch's keyword)."""
        return self._reshaped("reshape", sizes, shape, "shape")

    def _reshaped(self, name: str, sizes: tuple, given: Any, keyword: str) -> "Tensor":
        """reshape / view: the sizes given positionally (``2, 3`` or ``(2, 3)``) or by keyword."""
        if given is None:
            given = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        elif sizes:
            _both(name, keyword)
        given = tuple(given)
        if given and _below_minus_one(given):         # NumPy reads any negative size as -1
            _bad_size(name, given)
        return ops.Reshape.apply(self, given)

    def view(self, *sizes, size=None) -> "Tensor":
        """``view(2, 3)``, ``view((2, 3))`` or ``view(size=(2, 3))`` (torch's keyword): reshape.
        ``view(tg.int32)``: the same memory read as another dtype (torch's bit reinterpretation:
        outside the graph; a different element size rescales the last dim)."""
        if len(sizes) == 1 and size is None and isinstance(sizes[0], (np.dtype, type)):
            return self._view_as_dtype(sizes[0])
        out = self._reshaped("view", sizes, size, "size")
        a = self.array
        if a.flags.c_contiguous or not a.size or _shares_memory(out.array, a):
            return out
        # NumPy copied: no strides give that shape over this memory.  A view (transpose, slice,
        # ...) of a contiguous tensor is laid out as torch's, which refuses it then (a copy would
        # silently lose writes through it).  An op's result may be laid out otherwise here
        # (conv's output, ...) where torch's is contiguous: nothing else seeing its memory, it
        # is laid out contiguously and viewed, as in torch; else it stays a copy.
        if len(self._version_box) > 1:
            xp = self.device.xp
            if any(t is not None and t is not self and t.array.flags.c_contiguous and
                   _view_positions(xp, t.array, a) is not None
                   for t in [r() for r in self._version_box[1]] + [_memory_root(self)]):
                raise ShapeError(
                    f"view size is not compatible with input tensor's size and stride (at least "
                    f"one dimension spans across two contiguous subspaces): view{tuple(out.shape)} "
                    f"of a tensor of size {tuple(self.shape)} and stride {self.stride()}. Use "
                    f".reshape(...) instead (as torch, refused)")
            if _shares_live_memory(self):
                return out
        self.array = self.device.xp.ascontiguousarray(a)
        return self._reshaped("view", sizes, size, "size")

    def _view_as_dtype(self, dtype: Any) -> "Tensor":
        dt = _check_dtype(dtype, any_kind=True)
        try:
            array = self.array.view(dt)
        except (ValueError, TypeError) as exc:
            raise ShapeError(f"view({dt}): a {self.dtype} tensor of shape {self.shape} cannot be "
                             f"read as {dt} ({exc}); the last dim must be contiguous and its "
                             f"byte size a multiple of {dt.itemsize}") from None
        t = Tensor._make(array, self.device)
        _share(self, t, detached=True)          # one memory, outside the graph
        return t

    def contiguous(self, memory_format: Any = None) -> "Tensor":
        """Itself when its data is C-contiguous, else a contiguous copy in the graph;
        ``memory_format=tg.channels_last`` (4-D) / ``channels_last_3d`` (5-D): itself when laid
        out that way, else a copy that is (same values, torch's strides)."""
        if memory_format is None:
            return self if self.array.flags.c_contiguous else ops.Contiguous.apply(self)
        return _to_format(self, memory_format, "contiguous")

    def expand(self, *sizes, size=None) -> "Tensor":
        """A view with size-1 dims repeated to ``sizes`` (-1 keeps a dim; new dims go in front),
        as in PyTorch; the result is read-only, its gradient sums back.  ``size=``: torch's
        keyword."""
        if size is not None:
            if sizes:
                _both("expand", "size")
            sizes = (size,)
        sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        have = self.array.shape         # (a plain tuple: Size's __getitem__ is Python code)
        lead = len(sizes) - len(have)
        shape = tuple(have[i - lead] if i >= lead and s == -1 else s for i, s in enumerate(sizes))
        ok = lead >= 0 and all(isinstance(s, (int, np.integer)) and s >= 0 for s in shape) and all(
            n in (1, shape[i + lead]) for i, n in enumerate(have))
        if not ok:
            if any(isinstance(s, Tensor) for s in sizes):
                return self.expand(_index_sizes(sizes))
            _non_int("expand", "sizes", sizes)
            raise ShapeError(f"expand: cannot expand shape {self.shape} to {tuple(sizes)} (only "
                             f"size-1 dims stretch; -1 keeps a dim)")
        return ops.Expand.apply(self, shape)

    def repeat(self, *sizes, repeats=None) -> "Tensor":
        """``sizes[i]`` copies along dim i, laid end to end (PyTorch's ``repeat``, NumPy's ``tile``);
        ``repeats=``: torch's keyword."""
        if repeats is not None:
            if sizes:
                _both("repeat", "repeats")
            sizes = (repeats,)
        sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        if len(sizes) < self.ndim or not all(
                isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in sizes):
            if any(isinstance(s, Tensor) for s in sizes):
                return self.repeat(_index_sizes(sizes))
            _non_int("repeat", "counts", sizes)
            raise ShapeError(f"repeat: need one count >= 0 per dim of shape {self.shape}, got "
                             f"{tuple(sizes)}")
        return ops.Repeat.apply(self, tuple(int(s) for s in sizes))

    def split(self, split_size, dim: int = 0) -> tuple:
        """Pieces along ``dim``: of ``split_size`` each (the last may be smaller), or of the given
        sizes (a list that adds up to the dim); views in the graph, as in PyTorch (whose method
        names it ``split_size``, its function ``split_size_or_sections``)."""
        split_size_or_sections = split_size
        dim = self._dim(dim, "split")
        n = self.shape[dim]
        if isinstance(split_size_or_sections, (int, np.integer)) and not isinstance(split_size_or_sections, bool):
            step = int(split_size_or_sections)
            if step < 0 or (step == 0 and n != 0):  # torch allows 0 on an empty dim only
                raise ShapeError(f"split: split_size must be > 0 (0 only on an empty dim), got "
                                 f"{step} for dim {dim} of size {n}")
            if step == 0:
                return _multi_views([self[(slice(None),) * dim + (slice(0, 0),)]], "Split")
            sizes = [min(step, n - start) for start in range(0, n, step)] or [0]
        elif isinstance(split_size_or_sections, Tensor) and split_size_or_sections.ndim == 0:
            return self.split(_int_of(split_size_or_sections), dim)
        else:
            if isinstance(split_size_or_sections, Tensor) and split_size_or_sections.dtype.kind in "iu":
                split_size_or_sections = split_size_or_sections.tolist()
            if not isinstance(split_size_or_sections, (tuple, list)) or not all(
                    isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                    for s in _index_sizes(tuple(split_size_or_sections))):
                raise InputTypeError(f"split: split_size must be an int or a list of ints, got "
                                     f"{split_size_or_sections!r}")
            sizes = [int(s) for s in _index_sizes(tuple(split_size_or_sections))]
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise ShapeError(f"split: sizes {sizes} do not add up to dim {dim}'s {n}")
        pieces, start = [], 0
        for size in sizes:
            pieces.append(self[(slice(None),) * dim + (slice(start, start + size),)])
            start += size
        return _multi_views(pieces, "Split" if isinstance(split_size, (int, np.integer))
                            else "SplitWithSizes")

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """At most ``chunks`` pieces of ceil(n / chunks) along ``dim`` (PyTorch's ``chunk``)."""
        if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks <= 0:
            if isinstance(chunks, Tensor) and _is_int(_int_of(chunks)):
                return self.chunk(_int_of(chunks), dim)
            _non_int("chunk", "chunks", (chunks,))
            raise ShapeError(f"chunk: chunks must be a positive int, got {chunks!r}")
        n = self.shape[self._dim(dim, "chunk")]
        if n == 0:  # PyTorch gives ``chunks`` empty pieces, not one
            return self.split([0] * int(chunks), dim)
        return self.split(-(-n // int(chunks)), dim)

    def _dim(self, dim: Any, name: str) -> int:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -self.ndim <= dim < self.ndim:
            if isinstance(dim, Tensor) and _is_int(_int_of(dim)):
                return self._dim(_int_of(dim), name)
            _non_int(name, "dim", (dim,))
            raise IndexOutOfRangeError(f"{name}: dim {dim!r} is out of range for shape {self.shape}")
        return int(dim) % self.ndim

    def permute(self, *args, dims=None) -> "Tensor":
        """``permute(1, 0)``, ``permute((1, 0))`` or ``permute(dims=(1, 0))`` (torch's keyword)."""
        if dims is None:
            dims = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
        elif args:
            _both("permute", "dims")
        if any(isinstance(d, Tensor) for d in dims):
            dims = tuple(map(_int_of, dims))
        if (any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in dims)
                or len(dims) != self.ndim or any(not -self.ndim <= d < self.ndim for d in dims)
                or sorted(d % self.ndim for d in dims) != list(range(self.ndim))):
            _non_int("permute", "dims", tuple(dims))
            bad = [d for d in dims if _is_int(d) and not -self.ndim <= d < self.ndim]
            if len(dims) == self.ndim and bad:     # torch: a dim out of range is an IndexError
                raise IndexOutOfRangeError(f"permute: dim {bad[0]} is out of range for shape {self.shape}")
            raise ShapeError(f"permute: {tuple(dims)} is not a permutation of {self.ndim} dims")
        return ops.Permute.apply(self, tuple(d % self.ndim for d in dims))

    def transpose(self, dim0: int = -2, dim1: int = -1) -> "Tensor":
        """Swap two dims (torch's). A tuple of dims is a permutation and None reverses them:
        NumPy's forms, which ``np.transpose(x, axes)`` calls."""
        if dim0 is None or isinstance(dim0, (tuple, list)):
            return self.permute(tuple(reversed(range(self.ndim))) if dim0 is None else tuple(dim0))
        dims = list(range(self.ndim))
        dim0, dim1 = self._dim(dim0, "transpose"), self._dim(dim1, "transpose")
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return ops.Transpose.apply(self, tuple(dims))

    @property
    def T(self) -> "Tensor":
        return self.permute(tuple(reversed(range(self.ndim))))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        if self.ndim == 0:
            return self.reshape(1)
        start, end = self._dim(start_dim, "flatten"), self._dim(end_dim, "flatten")
        if start == end:
            return self     # torch's flatten returns its input itself there (no view node)
        if start > end:
            raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                             f"(shape {self.shape})")
        shape = self.shape[:start] + (math.prod(self.shape[start:end + 1]),) + self.shape[end + 1:]
        return self.reshape(shape)

    def exp(self) -> "Tensor": return ops.Exp.apply(self)
    def log(self) -> "Tensor": return ops.Log.apply(self)
    def sqrt(self) -> "Tensor": return ops.Sqrt.apply(self)
    def tanh(self) -> "Tensor": return ops.Tanh.apply(self)
    def sigmoid(self) -> "Tensor": return ops.Sigmoid.apply(self)
    def relu(self) -> "Tensor": return ops.Relu.apply(self)
    def abs(self) -> "Tensor": return ops.Abs.apply(self)
    __abs__ = abs
    def log1p(self) -> "Tensor": return ops.Log1p.apply(self)
    def sin(self) -> "Tensor": return ops.Sin.apply(self)
    def cos(self) -> "Tensor": return ops.Cos.apply(self)

    # -- torch's method forms of the operators, and a few composites ----------------------------
    def add(self, other: Any, alpha: float = 1) -> "Tensor":
        if (alpha.__class__ is not int or alpha != 1) and _alpha_needs_check(self, alpha):
            if isinstance(alpha, Tensor):      # torch's deprecated add(Number alpha, Tensor other)
                other, alpha = _legacy_alpha("add", other, alpha)
            alpha = _checked_alpha("add", self, other, alpha)
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, alpha: float = 1) -> "Tensor":
        if isinstance(alpha, Tensor):
            other, alpha = _legacy_alpha("sub", other, alpha)
        _refuse_bool_subtraction(self, other)
        if (alpha.__class__ is not int or alpha != 1) and _alpha_needs_check(self, alpha):
            alpha = _checked_alpha("sub", self, other, alpha)
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> "Tensor": return self * other
    def div(self, other: Any, *, rounding_mode: str | None = None) -> "Tensor":
        """``self / other``; ``rounding_mode='trunc'`` rounds the quotient toward zero,
        ``'floor'`` down (``//``) -- exact on integers, which then stay integers (torch.div)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        if rounding_mode != "trunc":
            raise InputTypeError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
        floor = self._integer_op(other, "floor_divide")
        if floor is None:
            return (self / other).trunc()
        inexact = self._integer_op(other, "remainder").ne(0)      # floor -> trunc: one up where
        # the quotient was negative -- read off the floor in the result's dtype (an inexact
        # negative quotient floors below 0), not the operands' signs: -7 wraps to 249 in uint8
        return floor + (inexact & (floor < 0)).to(floor.dtype)

    true_divide = __truediv__

    def floor_divide(self, other: Any) -> "Tensor":
        return self // other
    def neg(self) -> "Tensor": return -self
    def square(self) -> "Tensor":
        me = self._arith()          # a bool squares to int64, as torch
        return me * me
    multiply, divide, true_divide, subtract, negative = mul, div, div, sub, neg

    def maximum(self, other: "Tensor") -> "Tensor":
        """Elementwise max (torch.maximum); NaN wins, a tie splits the gradient evenly."""
        return _extremum(self, other, "maximum")

    def minimum(self, other: "Tensor") -> "Tensor":
        return _extremum(self, other, "minimum")

    def lerp(self, end: Any, weight: Any) -> "Tensor":
        """``self + weight * (end - self)`` (torch.lerp; StyleGAN's EMA of generator weights),
        written ``end - (end - self) * (1 - weight)`` where |weight| >= 0.5, as torch's (so the
        results round the same, and weight 1 gives ``end`` exactly). Floating point only, as
        torch's (whose integer lerp is not implemented: an EMA loop over buffers must skip
        ``num_batches_tracked``)."""
        weight = _lerp_weight("lerp", self, end, weight)
        if (isinstance(weight, (int, float, np.integer, np.floating)) and isinstance(end, Tensor)
                and end.device is self.device
                and end.array.dtype == self.array.dtype and self.array.dtype in _LERP_DIRECT
                and not (_grad_mode.enabled and (self._requires_grad or end._requires_grad))):
            return self._lerp_direct(end, float(weight))
        if isinstance(weight, Tensor):
            from .ops import LerpTensor
            return LerpTensor.apply(self, end, weight)
        diff = end - self
        return self + diff * weight if abs(weight) < 0.5 else end - diff * (1.0 - weight)

    def _lerp_direct(self, end: "Tensor", weight: float) -> "Tensor":
        """lerp with no graph to build (StyleGAN's EMA, ``p_ema.copy_(p.lerp(p_ema, beta))`` under
        no_grad): the graph form's sub, mul and add / sub, rounded the same, written straight into
        the result by ``lerp_into`` -- no graph-sized temporaries (three 14 MB ones per weight of
        a DCGAN made glibc fault pages in anew: ~10x slower)."""
        xp = self.device.xp
        # (equal shapes, an EMA's every call: no broadcast_shape, a few us a weight)
        shape = self.shape if self.shape == end.shape else broadcast_shape(
            "lerp: shapes {0} (input) and {1} (end) do not broadcast", self.shape, end.shape)
        out = xp.empty(shape, dtype=self.array.dtype)
        if not self.array.flags.c_contiguous and out.ndim > 1:   # torch's layout (cl: kept)
            from .memory_formats import follow_operands
            out = follow_operands(out, (self.array, end.array))
        quiet = _FP_STATE.set(_FP_QUIET)       # inf and NaN results come silently, as in torch
        try:
            lerp_into(self.device, self.array, end.array, weight, out)
        finally:
            _FP_STATE.reset(quiet)
        return Tensor._make(out, self.device)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> "Tensor":
        """The vector p-norm over ``dim`` (all elements by default): ``p`` 2 ("fro"), 1, inf or
        any other number (0: the count of nonzeros; -inf: the smallest magnitude) -- a gradient
        penalty's ``g.norm(2, dim=1)``.  The gradient at an all-zero vector is 0, as torch's (not
        NaN), and so is each zero element's. ``dtype``: the input cast to it first (torch's)."""
        if dtype is not None:
            if self.array.dtype.kind not in "fc":
                raise DTypeError(f"norm: expected a floating point or complex tensor as input, got "
                                 f"{self.dtype} (as torch: dtype= casts no integer or bool input); "
                                 f"convert it with .float()")
            self = self.to(_check_dtype(dtype, any_kind=True))
        _float_only("norm", self)
        if p == "fro":
            p = 2
        if self.array.dtype.kind == "c" and p != "nuc":     # complex: the norm of |z| (real, as
            return self.abs().norm(p, dim, keepdim)          # torch's), gradient z / |z| * ...
        if p == "nuc":                      # torch's: the matrix nuclear norm over 2 dims
            from .linalg import matrix_norm
            if dim is None and self.ndim != 2:
                raise ShapeError(f"norm: p='nuc' takes a 2-D tensor or dim= of two dims, got "
                                 f"shape {self.shape}")
            return matrix_norm(self, "nuc", dim=(-2, -1) if dim is None else dim, keepdim=keepdim)
        if isinstance(p, str) or isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise InputTypeError(f"norm: p must be 'fro', 'nuc' or a number (inf, -inf and 0 too), got {p!r}")
        p = float(p)
        if self.dtype is float16:   # torch's CPU half norm: float32 throughout, rounded once
            return self.float().norm(p, dim, keepdim).half()
        if p == 2:
            return ops.SafeSqrt.apply((self * self).sum(dim=dim, keepdim=keepdim))
        if p == math.inf:
            return self.abs().amax(dim=dim, keepdim=keepdim)
        if p == -math.inf:
            return self.abs().amin(dim=dim, keepdim=keepdim)
        if p == 1:
            return self.abs().sum(dim=dim, keepdim=keepdim)
        if p == 0:                                # the count of nonzeros: no gradient, as torch
            count = self.ne(0.0).to(self.dtype).sum(dim=dim, keepdim=keepdim)
            return ops.NonzeroCount.apply(self, count.array)
        if p < 0 and self._reduces_empty(dim):    # sum(|x|^p)^(1/p) over nothing: no identity
            raise EmptyReductionError(f"norm: the {p:g}-norm over an empty dim (shape {self.shape}) "
                                      f"has no value (as torch's: a negative p has no identity)")
        powers = ops.SafePow.apply(self.abs(), p)        # both powers: gradient 0 at 0, as torch
        return ops.SafePow.apply(powers.sum(dim=dim, keepdim=keepdim), 1.0 / p)

    def _reduces_empty(self, dim: Any) -> bool:
        """Whether a reduction over ``dim`` (None: all) takes in no element."""
        if dim is None or not self.ndim:     # (a 0-d tensor's dim 0 / -1 is its one element)
            return self.array.size == 0
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        return any(self.shape[d] == 0 for d in dims if -self.ndim <= d < self.ndim)

    def matmul(self, other: "Tensor") -> "Tensor": return self @ other

    def mm(self, mat2: "Tensor") -> "Tensor":
        from .function_forms import mm
        return mm(self, mat2)

    def bmm(self, mat2: "Tensor") -> "Tensor":
        from .function_forms import bmm
        return bmm(self, mat2)

    def t(self) -> "Tensor":
        """The transpose of a matrix (a 0-d or 1-D tensor as it is), torch's ``t()``."""
        if self.ndim > 2:
            raise ShapeError(f"t() expects a tensor of at most 2 dims, got shape {self.shape} "
                             f"(use transpose(dim0, dim1) or permute)")
        return ops.MatrixT.apply(self, (1, 0) if self.ndim == 2 else tuple(range(self.ndim)))
        # (a view even where nothing moves, as torch's: not self, whose node and hooks it shares)

    def rsqrt(self) -> "Tensor": return self.sqrt().reciprocal()
    def reciprocal(self) -> "Tensor":
        if self.array.dtype.kind in "fiub":     # (an integer or mask: in the default float dtype)
            return ops.Reciprocal.apply(self if self.array.dtype.kind == "f" else self._arith(1.0))
        return 1.0 / self

    def _piecewise_constant(self, values: Any, op: str | None = None,
                            node: str = "WhereBackward0") -> "Tensor":
        """``values`` (computed from this tensor's) with gradient 0, as torch's sign / round /
        floor / ceil / trunc: still in the graph, so backward through them runs, and adds 0 --
        one node named ``node`` (torch's: SignBackward0, ...), its one edge this tensor."""
        if self.dtype.kind != "f":                  # integers: no graph, the integer dtype
            if self.dtype == BOOL and op is not None:
                raise DTypeNotImplementedError(f"{op}: not implemented for a bool tensor (as torch's "
                                               f"\"{op}_cpu\" not implemented for 'Bool'); convert "
                                               f"it with .long() or .float()")
            return Tensor._make(values.astype(self.dtype if self.dtype != BOOL else int64), self.device)
        return ops.torch_named(ops.ZeroGrad, node).apply(self, values)

    def sign(self) -> "Tensor": return self._sign("SignBackward0")
    def _sign(self, node: str) -> "Tensor":         # (node: sgn's is SgnBackward0)
        if self.dtype == BOOL:              # torch: a mask is its own sign
            return self.clone()
        values = self.device.xp.asarray(self.device.xp.sign(self.array))   # 0-d: NumPy gives a scalar
        if values.dtype.kind == "f":
            values[values != values] = 0            # torch: sign(NaN) is 0 (NumPy's is NaN)
        return self._piecewise_constant(values, node=node)
    def round(self, *, decimals: int | None = None) -> "Tensor":
        """Rounded half to even (at ``decimals`` places, as torch's); gradient 0.  With
        ``decimals`` given (0 too: torch's round.decimals) an integer or bool tensor is refused,
        as torch's; without, an integer tensor stays itself."""
        if decimals is not None and self.array.dtype.kind in "iub":
            _round_decimals_refused(self, decimals)
        if decimals:
            from .special import round as round_to
            return round_to(self, decimals=decimals)
        a = self.array          # (an integer stays itself: rint's float64 would lose int64's digits)
        return self._piecewise_constant(a if a.dtype.kind in "iu" else self.device.xp.rint(a), "round",
                                       "RoundBackward0")
    def floor(self) -> "Tensor":
        return self._piecewise_constant(self.device.xp.floor(self.array), "floor", "FloorBackward0")
    def ceil(self) -> "Tensor":
        return self._piecewise_constant(self.device.xp.ceil(self.array), "ceil", "CeilBackward0")
    def trunc(self) -> "Tensor":
        return self._piecewise_constant(self.device.xp.trunc(self.array), "trunc", "TruncBackward0")

    def long(self) -> "Tensor":
        """torch's cast to int64 (floats truncated toward zero; outside the graph)."""
        return self.to(int64)

    def int(self) -> "Tensor":            # noqa: A003  (torch's name)
        """Cast to int32 (truncated toward zero; outside the graph)."""
        return self.to(int32)

    def short(self) -> "Tensor":
        return self.to(int16)

    def char(self) -> "Tensor":
        return self.to(int8)

    def byte(self) -> "Tensor":
        return self.to(uint8)

    def half(self) -> "Tensor":
        """This tensor as float16 (torch's ``.half()``; differentiable)."""
        return self.to(float16)

    def bfloat16(self) -> "Tensor":
        _check_dtype("bfloat16")
        raise AssertionError("unreachable")     # _check_dtype refuses bfloat16

    def type(self, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
        """torch's ``type()``: no argument, the type name (``tensorgan.FloatTensor``); a dtype, a
        legacy class (``tg.FloatTensor`` / ``tg.DoubleTensor``, as pix2pix scripts pass; ``tg.Tensor``
        the default float dtype) or its name (``"torch.DoubleTensor"``, ``"torch.cuda.FloatTensor"``
        on the GPU) converts."""
        if dtype is None:                               # a CUDA tensor's: tensorgan.cuda.FloatTensor, as torch
            name = _LEGACY_NAMES[self.dtype]
            return name if self.device.type != "cuda" else "tensorgan.cuda." + name.rpartition(".")[2]
        if dtype is Tensor:
            return self.to(_default_float[0])
        if isinstance(dtype, str) and dtype.rsplit(".", 1)[-1].endswith("Tensor"):
            prefix, _, name = dtype.rpartition(".")
            found = [dt for dt, n in _LEGACY_NAMES.items() if n.endswith("." + name)]
            if prefix not in ("torch", "torch.cuda", "tensorgan", "tensorgan.cuda") or not found:
                raise DTypeValueError(f"type: invalid type {dtype!r} (e.g. 'torch.FloatTensor')")
            if prefix.endswith("cuda"):
                return self.to(device="cuda", dtype=found[0])
            return self.to(found[0])
        if isinstance(dtype, str):              # a dtype's name, never a device's ('cpu')
            try:
                return self.to(_check_dtype(dtype, any_kind=True))
            except DTypeError as err:           # torch's ValueError ("invalid type: 'foo'")
                raise DTypeValueError(f"type: invalid type {dtype!r} (e.g. 'torch.FloatTensor' "
                                      f"or 'float64'): {err}") from None
        if isinstance(dtype, type) and getattr(dtype, "__module__", None) == "tensorgan.cuda":
            return self.to(device="cuda", dtype=dtype.dtype)     # tg.cuda.FloatTensor
        if isinstance(dtype, (int, np.integer)):        # not to()'s device index: torch's TypeError
            raise InputTypeError(f"type: dtype must be a dtype, a type name or a tensor type, got {dtype!r}")
        if isinstance(dtype, type) and issubclass(dtype, np.generic):
            return self.to(np.dtype(dtype))             # np.float64 (its .dtype is a descriptor)
        return self.to(getattr(dtype, "dtype", dtype))

    def masked_fill(self, mask: "Tensor", value: Any) -> "Tensor":
        """``value`` where the bool ``mask`` holds (broadcast), this tensor elsewhere."""
        from .factory import where
        if isinstance(value, Tensor) and value.ndim:
            raise ShapeError(f"masked_fill: value must be a number or a 0-d tensor, got a tensor "
                             f"of shape {value.shape} (as torch; use where() to fill from a tensor)")
        if isinstance(value, Tensor) and value.dtype != self.dtype:
            value = value.to(self.dtype)                 # torch keeps self's dtype
        elif not isinstance(value, Tensor) and self.dtype.kind in "iu" and np.isscalar(value):
            value = _integer_fill(value, self.array.dtype)   # 2.7 into int64: 2, -1 into uint8: 255
        elif not isinstance(value, Tensor) and self.dtype.kind != "f" and np.isscalar(value):
            value = self.dtype.type(value).item()
        return where(mask, value, self, _node=ops.MASKED_FILL[isinstance(value, Tensor)])

    def masked_fill_(self, mask: "Tensor", value: Any) -> "Tensor":
        if not isinstance(mask, Tensor) or mask.dtype != BOOL:
            raise DTypeError(f"masked_fill_: mask must be a bool tensor, got "
                             f"{getattr(mask, 'dtype', type(mask).__name__)}")
        if isinstance(value, Tensor) and value.ndim:
            raise ShapeError(f"masked_fill_: value must be a number or a 0-d tensor, got a tensor "
                             f"of shape {value.shape} (as torch)")
        fill = value.array if isinstance(value, Tensor) else value
        if mask.shape != self.shape:
            _mask_fits("masked_fill_", mask.shape, self.shape)
        if isinstance(value, Tensor) and self.array.dtype.kind in "iu":
            fill = _cast_wrapping(fill, self.array.dtype)            # tensor(-1) into uint8: 255
        elif self.array.dtype.kind in "iu" and np.isscalar(value):
            fill = _integer_fill(value, self.array.dtype)
        _refuse_partial_overlap("masked_fill_", self.array, (mask,))    # (as torch: b[1:] by b[:-1])
        return self._in_place("masked_fill_", lambda a: a.__setitem__(
            self.device.xp.broadcast_to(mask.array, a.shape), fill),
            lambda old: old.masked_fill(mask, value), (value,), "masked_fill_")

    def ge(self, other: Any) -> "Tensor": return self >= other
    def gt(self, other: Any) -> "Tensor": return self > other
    def le(self, other: Any) -> "Tensor": return self <= other
    def lt(self, other: Any) -> "Tensor": return self < other

    def ndimension(self) -> int: return self.ndim
    def nelement(self) -> int: return self.numel()
    def element_size(self) -> int: return self.dtype.itemsize

    def dim_order(self, *, ambiguity_check: Any = False) -> tuple:
        """The dims from the outermost to the innermost in memory (torch's ``dim_order``:
        ``(0, 2, 3, 1)`` for channels_last)."""
        from .memory_formats import dim_order
        return dim_order(self.array, ambiguity_check)

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Whether the data is laid out row-major (or in ``memory_format``: channels_last...)."""
        if memory_format is None:
            return bool(self.array.flags.c_contiguous)
        from . import memory_formats as mf
        fmt = mf.check(memory_format, "is_contiguous")
        if fmt is mf.preserve_format:
            raise InputTypeError("is_contiguous: preserve_format is not a layout; ask about "
                                 "contiguous_format, channels_last or channels_last_3d")
        return mf.has_format(self.array, fmt)

    def unbind(self, dim: int = 0) -> tuple["Tensor", ...]:
        """The slices along ``dim``, that dim removed (torch.unbind)."""
        axis = self._dim(dim, "unbind")
        return _multi_views([self[(slice(None),) * axis + (i,)] for i in range(self.shape[axis])],
                            "Unbind")

    def narrow(self, dim: int, start: int, length: int) -> "Tensor":
        """``length`` elements of ``dim`` from ``start`` (a view, as torch's)."""
        axis = self._dim(dim, "narrow")
        size = self.shape[axis]
        if not (_is_int(start) and _is_int(length)) or not -size <= start <= size:
            if (isinstance(start, Tensor) or isinstance(length, Tensor)) and _is_int(_int_of(start)) \
                    and _is_int(_int_of(length)):
                return self.narrow(axis, _int_of(start), _int_of(length))
            _non_int("narrow", "start and length", (start, length))
            raise ShapeError(f"narrow: start {start!r} is out of range for dim {dim} of size {size}")
        start = start % size if start < 0 else start
        if length < 0 or start + length > size:
            raise ShapeError(f"narrow: start {start} + length {length} exceeds dim {dim} of size {size}")
        return self[(slice(None),) * axis + (slice(start, start + length),)]

    def index_select(self, dim: int, index: Any) -> "Tensor":
        """The entries of ``dim`` at the 1-D ``index`` (whole numbers; torch.index_select). A 0-d
        tensor counts as 1-d (dim 0 or -1) and takes a one-entry index, as torch's."""
        if self.array.ndim == 0:
            entries = np.size(index.numpy() if isinstance(index, Tensor) else index)
            if entries != 1:
                raise ShapeError(f"index_select(): a 0-d tensor takes an index of one entry, got "
                                 f"{entries}")
            return self.reshape(1).index_select(dim if dim in (0, -1) else 1, index).reshape(())
        axis = self._dim(dim, "index_select")
        if isinstance(index, Tensor) and index.array.dtype not in _POSITION_DTYPES:
            if index.array.dtype.kind in "fc":
                raise float_index_error("index_select", index.dtype)
            raise IndexDTypeError(f"index_select(): expected an int32 or int64 tensor for index, "
                                  f"got {index.dtype} (as torch); convert with .long()")
        flat = index.numpy() if isinstance(index, Tensor) else np.asarray(index)
        if flat.ndim > 1:
            raise ShapeError(f"index_select: index must be 0-D or 1-D, got shape {flat.shape}")
        if flat.dtype.kind not in "iuf" or (flat.dtype.kind == "f" and not (flat == np.trunc(flat)).all()):
            raise InputTypeError(f"index_select: index must hold whole numbers, got {flat[:4]}")
        flat = flat.reshape(-1).astype(np.int64)
        if flat.size and (flat.min() < 0 or flat.max() >= self.shape[axis]):   # torch: no wrapping
            raise IndexOutOfRangeError(f"index_select: index {flat[(flat < 0) | (flat >= self.shape[axis])][0]} "
                                       f"is out of range for dim {dim} of size {self.shape[axis]}")
        return ops.torch_node(self[(slice(None),) * axis + (flat,)], "IndexSelectBackward0")

    def isfinite(self) -> "Tensor": return Tensor._make(self.device.xp.isfinite(self.array), self.device)
    def isnan(self) -> "Tensor": return Tensor._make(self.device.xp.isnan(self.array), self.device)
    def isinf(self) -> "Tensor": return Tensor._make(self.device.xp.isinf(self.array), self.device)

    def flip(self, *dims, **kwargs) -> "Tensor":
        """Reverse the order along ``dims`` (torch.flip; a horizontal flip is ``flip(-1)``):
        ``x.flip(0, 1)``, ``x.flip([0, 1])`` or ``tg.flip(x, dims=[3])``, as torch."""
        if kwargs:
            if set(kwargs) != {"dims"} or dims:
                raise InputTypeError(f"flip: takes the dims as flip(*dims), flip(dims) or flip(dims=...), "
                                     f"got {len(dims)} positional and keywords {sorted(kwargs)}")
            dims = (kwargs["dims"],)
        if not dims:
            raise InputTypeError("flip: missing the dims to flip (e.g. flip(-1) or flip(dims=[3]))")
        dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        if self.ndim == 0:
            return self.clone()             # (its own dtype: an int stays an int)
        axes = [_axes(d, self.ndim)[0] for d in dims]
        if len(set(axes)) != len(axes):
            raise ShapeError(f"flip: a dim appears more than once in {dims}")
        return ops.Flip.apply(self, tuple(axes))

    def _new_filled(self, fill: Any, size: tuple, dtype: Any, device: Any, requires_grad: bool) -> "Tensor":
        """torch's ``new_*``: this tensor's dtype and device unless ``dtype=`` / ``device=`` say."""
        dev = self.device if device is None else get_device(device)
        dt = self.dtype if dtype is None else _check_dtype(dtype, any_kind=True)
        _check_grad_dtype(requires_grad, dt)
        if isinstance(fill, (str, bytes)) or not np.isscalar(fill):
            if not (isinstance(fill, Tensor) and fill.numel() == 1):
                raise InputTypeError(f"new_full: fill_value must be a number, got "
                                     f"{type(fill).__name__} {fill!r:.40}")
            fill = fill.item()
        if isinstance(fill, (complex, np.complexfloating)) and dt.kind != "c":
            from .factory import _fill_dtype
            fill = _fill_dtype(fill, dt, "new_full")[0]
        return Tensor._make(dev.xp.full(_size_args(size), fill, dt), dev, requires_grad)

    def new_zeros(self, *size, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> "Tensor":
        """A tensor of zeros with this one's dtype and device (torch's ``x.new_zeros``)."""
        return self._new_filled(0, size, dtype, device, requires_grad)

    def new_ones(self, *size, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> "Tensor":
        return self._new_filled(1, size, dtype, device, requires_grad)

    def new_full(self, size: Any, fill_value: float, *, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> "Tensor":
        return self._new_filled(fill_value, (size,), dtype, device, requires_grad)

    def type_as(self, other: "Tensor") -> "Tensor":
        """This tensor in ``other``'s dtype (differentiable)."""
        return self.to(other.dtype)

    def expand_as(self, other: "Tensor") -> "Tensor": return self.expand(*other.shape)
    def view_as(self, other: "Tensor") -> "Tensor": return self.view(tuple(other.shape))

    def clamp_(self, min: float | None = None, max: float | None = None) -> "Tensor":
        """In-place clamp (WGAN's weight clipping: ``p.clamp_(-0.01, 0.01)`` under no_grad)."""
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            if self.array.dtype.kind != "f":
                with no_grad():
                    _clamp_into(self, self.clip(min, max))
            return self._in_place_from("clamp_", lambda t: t.clip(min, max), (min, max))
        if self.array.dtype.kind == "f" and min.__class__ in _PLAIN_BOUNDS and max.__class__ in _PLAIN_BOUNDS \
                and (min is not None or max is not None):
            pass        # WGAN's p.clamp_(-c, c) every step: a float result of self's dtype, nothing to check
        else:
            _clamp_into(self, self.clip(min, max))       # clip's argument checks, the result's dtype
            if self.array.dtype.kind in "iu":            # int bounds as clip converts them
                min, max = (b if b is None or isinstance(b, (float, np.floating)) else
                            _int_bound(int(b), self.array.dtype) for b in (min, max))
        min, max = (int(b) if isinstance(b, (bool, np.bool_)) else b for b in (min, max))
        return self._in_place("clamp_", lambda a: clamp_in_place(self.device.xp, a, min, max),
                              lambda old: old.clip(min, max))

    def lerp_(self, end: Any, weight: Any) -> "Tensor":
        """In place: ``self += weight * (end - self)`` (an EMA of weights under no_grad)."""
        weight = _lerp_weight("lerp_", self, end, weight)

        def update(a):
            e = self._operand(end)
            w = self._operand(weight)
            if isinstance(weight, Tensor):
                small = self.device.xp.abs(w) < 0.5
                a[...] = self.device.xp.where(small, a + (e - a) * w, e - (e - a) * (1 - w))
            else:
                lerp_into(self.device, a, e, w)
        return self._in_place("lerp_", update, lambda old: old.lerp(end, weight), (end, weight))

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> "Tensor":
        """Refill in place from N(mean, std^2) (``m.weight.normal_(0, 0.02)`` under no_grad; or
        ``nn.init.normal_(m.weight, 0, 0.02)`` anywhere)."""
        from .random import resolve
        if isinstance(mean, Tensor) or isinstance(std, Tensor):     # torch reads a 0-d tensor's number
            mean, std = (float(v) if isinstance(v, Tensor) else v for v in (mean, std))
        if self.array.dtype.kind in "iub":      # torch's "normal_kernel_cpu" not implemented for 'Long'
            raise DTypeNotImplementedError(f"normal_: not implemented for a {self.dtype} tensor "
                                           f"(as torch): only floating point and complex ones")
        if not std >= 0:                # (NaN too, as torch's "normal expects std >= 0.0")
            raise SamplingParameterError(f"normal_: std must be >= 0, got {std}")
        if self.array.dtype.kind == "c":    # torch's: each part N(mean, std^2 / 2)
            from .complex_ops import view_as_real
            view_as_real(self).normal_(mean, std * math.sqrt(0.5), generator=generator)
            return self
        gen = resolve(generator, device=self.device)
        return self._refill("normal_", lambda out=None: gen.normal(self.shape, self.dtype, mean, std, out))

    def uniform_(self, from_: float = 0.0, to: float = 1.0, *, generator: Any = None,
                 **from_keyword: Any) -> "Tensor":
        """Refill in place from U(from, to) (torch's keywords ``from`` -- a Python keyword, so
        ``**{"from": a}`` -- and ``to``)."""
        from .random import resolve
        if from_keyword:
            if set(from_keyword) != {"from"}:
                raise TypeError(f"uniform_() got an unexpected keyword argument "
                                f"{next(k for k in from_keyword if k != 'from')!r}")
            from_ = from_keyword["from"]
        a, b = from_, to
        if self.array.dtype.kind in "iub":      # torch's "check_uniform_bounds" not implemented for 'Long'
            raise DTypeNotImplementedError(f"uniform_: not implemented for a {self.dtype} tensor "
                                           f"(as torch): only floating point and complex ones")
        _check_uniform_bounds(a, b, self.array.dtype)    # (np.finfo of complex64: float32's)
        if self.array.dtype.kind == "c":    # torch's: each part U(from, to)
            from .complex_ops import view_as_real
            view_as_real(self).uniform_(a, b, generator=generator)
            return self
        gen = resolve(generator, device=self.device)
        return self._refill("uniform_", lambda out=None: gen.uniform(self.shape, self.dtype, a, b, out))

    def _refill(self, name: str, draw: Callable[..., Any]) -> "Tensor":
        """``normal_`` / ``uniform_``: ``draw()`` returns fresh draws, ``draw(out)`` makes the same
        draws straight into host array ``out`` -- used when this tensor's own buffer can take
        them (a fresh parameter being initialised: no second buffer, no copy)."""
        from .random import fillable
        drawn = []

        def values():
            if not drawn:
                drawn.append(self.device.xp.asarray(draw()))
            return drawn[0]

        def update(a):
            if not drawn and a is self.array and fillable(a):
                drawn.append(draw(a))
            else:
                a[...] = values()
        return self._in_place(name, update, lambda old: ops.Overwrite.apply(old, values()))

    def sub_(self, other: Any, alpha: float = 1) -> "Tensor":
        if isinstance(alpha, Tensor):
            other, alpha = _legacy_alpha("sub_", other, alpha)
        _refuse_bool_subtraction(self, other)
        if (alpha.__class__ is not int or alpha != 1) and _alpha_needs_check(self, alpha):
            alpha = _checked_alpha("sub_", self, other, alpha)
        if alpha == 1:                       # (a SubBackward0 node on a tracked tensor, as torch)
            return self._in_place_binary("sub_", "__isub__", other)
        return self._add_scaled("sub_", other, -alpha)

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> "Tensor":
        if rounding_mode is not None:
            return self.divide_(other, rounding_mode=rounding_mode)    # (special_ops' in-place div)
        return self.__itruediv__(other)

    def clip(self, min: "float | Tensor | None" = None, max: "float | Tensor | None" = None) -> "Tensor":
        """Values clamped into [min, max] (numbers, or -- torch's other form -- Tensors that
        broadcast against self, each of which gets the gradient where it is the value)."""
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            return self._clip_to_tensors(min, max)
        for bound in (min, max):
            if bound is not None and (isinstance(bound, (str, bytes)) or not np.isscalar(bound)):
                raise InputTypeError(f"clip: min and max must be numbers or None, got "
                                     f"{type(bound).__name__}")
        if min is None and max is None:
            raise ClampBoundsError("clamp: at least one of 'min' or 'max' must not be None "
                                   "(give min, max or both)")
        kind = self.array.dtype.kind
        if isinstance(min, (bool, np.bool_)) or isinstance(max, (bool, np.bool_)):
            if kind == "b":
                raise DTypeNotImplementedError("clamp: \"clamp_scalar_cpu\" not implemented for "
                                               "'Bool' (a bool tensor with bool bounds, as torch)")
            min, max = (None if b is None else int(b) for b in (min, max))   # torch: True is 1
        if isinstance(min, np.generic) or isinstance(max, np.generic):   # np.float64(0): as a
            min, max = (b.item() if isinstance(b, np.generic) else b for b in (min, max))  # Python number (torch)
        floats = any(isinstance(b, (float, np.floating)) for b in (min, max))
        me = self
        if kind in "iu" and not floats:           # int bounds converted to the dtype as torch's
            min, max = (None if b is None else _int_bound(int(b), self.array.dtype) for b in (min, max))
        if kind in "iub" and (floats or kind == "b"):    # torch's promotion: a bool tensor's
            me = self.to(_default_float[0] if floats else int64)   # int bounds make int64
        return ops.Clip.apply(me, min, max)

    clamp = clip

    def _clip_to_tensors(self, min: "Tensor | None", max: "Tensor | None") -> "Tensor":
        """clip with Tensor bounds: max(x, min), then min(., max), by ``where`` -- so at a tie
        the input keeps the gradient and with min > max the result is max, as torch's."""
        from .factory import where
        for name, bound in (("min", min), ("max", max)):
            if bound is not None and not isinstance(bound, Tensor):
                raise InputTypeError(f"clamp: min and max must both be Tensors (or None) or both "
                                     f"numbers, got {name} of type {type(bound).__name__} (as torch)")
        if self.array.dtype.kind == "b" and min is not None and max is not None and \
                min.array.dtype.kind == max.array.dtype.kind == "b":   # (one bound: clamp_min / clamp_max)
            raise DTypeNotImplementedError("clamp: \"clamp_cpu\" not implemented for 'Bool' (a bool "
                                           "tensor with two bool bounds, as torch)")
        with no_grad():
            out = self
            if min is not None:          # (a NaN bound gives NaN, as torch's)
                out = where((out < min) | min.isnan() if min.array.dtype.kind == "f" else out < min, min, out)
            if max is not None:
                out = where((out > max) | max.isnan() if max.array.dtype.kind == "f" else out > max, max, out)
        if not (self.requires_grad or (min is not None and min.requires_grad)
                or (max is not None and max.requires_grad)) or not is_grad_enabled():
            return out
        return _clamp_gradient_routes(self, min, max, out)

    # -- Python scalars and in-place updates ---------------------------------------------------
    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise ShapeError(f"the truth value of a tensor of shape {self.shape} is ambiguous "
                             f"(one element needed)")
        return bool(self.array.reshape(()))

    def __float__(self) -> float:
        self._warn_scalar_of_grad()
        return float(_real_scalar(self.item(), "double"))

    def __complex__(self) -> complex:
        """``complex(t)`` of a one-element tensor of any dtype, as torch's (it warns as ``float``)."""
        self._warn_scalar_of_grad()
        return complex(self.item())

    def _warn_scalar_of_grad(self) -> None:
        """torch's once-a-program warning for float() / complex() of a tensor that requires grad
        (not for int() / item())."""
        if self._requires_grad and not _ONCE_WARNED.get("float"):
            _ONCE_WARNED["float"] = True
            warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to "
                          "unexpected behavior.\nConsider using tensor.detach() first. (as torch "
                          "warns, once)", UserWarning, stacklevel=3)

    def __int__(self) -> int:
        return int(_real_scalar(self.item(), "int64_t"))

    def __index__(self) -> int:
        """A one-element integer tensor is an index (``range(n)``, ``lst[i]``), as in torch."""
        if self.array.dtype.kind not in "iu" or self.array.size != 1:
            raise InputTypeError(f"only one-element integer tensors can be used as an index, got "
                                 f"a {self.dtype} tensor of shape {self.shape}")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        """f"{loss:.3f}" formats a 0-d tensor as its number, as PyTorch's; f"{x}" is str(x).  A
        format spec on a tensor with dims (even one element: ``loss.view(1)``) is refused with
        a TypeError, as torch's (``object.__format__``): format ``x.item()`` or index it."""
        if self.array.ndim == 0:          # torch: a 0-d tensor formats as its number
            return format(self.item(), spec)
        if spec:
            raise InputTypeError(f"unsupported format string {spec!r} passed to Tensor.__format__: "
                                 f"a tensor of shape {tuple(self.shape)} formats only as a whole "
                                 f"(f\"{{x}}\"); a number spec needs a 0-d tensor or a Python "
                                 f"number: x.item(), or x[i] / x.mean()")
        return format(repr(self), spec)

    def _in_place(self, name: str, update: Callable[[Any], None],
                  out_of_place: Callable[["Tensor"], "Tensor"] | None = None, operands: tuple = (),
                  expanded: str | None = None) -> "Tensor":
        """Apply ``update(self.array)`` in place.  Not to a leaf that requires grad outside
        no_grad() (as in PyTorch: update parameters under ``with no_grad():``).  On an op's
        result that requires grad -- or with an operand that does -- while grad mode is on, the
        update becomes a graph op as PyTorch's does (``out += identity`` in a residual block):
        see :meth:`_rebase`, which ``out_of_place(old)`` (the same update as a new Tensor) makes
        possible; an update without one is refused there.  A view made under no_grad() of a
        tensor that requires grad is refused with grad mode on, as in torch.  On expand()'s
        result (elements sharing memory) the write is refused with torch's MemoryOverlapError,
        unless ``expanded`` is given (an op torch allows there: :func:`_write_expanded`; a
        non-empty ``expanded`` names it in torch's deprecation warning)."""
        if len(self._version_box) > 1 and _grad_mode.enabled and _is_no_grad_view(self):
            raise AutogradError(f"{name} with grad mode on, on a view made under no_grad() of a "
                                 f"tensor that requires grad (as torch, refused: its graph would "
                                 f"not see the write): write it under no_grad() too, or make the "
                                 f"view with grad mode on, or write a .clone()")
        if operands and name not in _OVERLAP_UNCHECKED:   # torch's partial-overlap check: only
            out = self.array                                # where a view is involved
            for o in operands:
                if isinstance(o, Tensor) and (o.array is not out and (
                        out.base is not None or o.array.base is not None)
                        or o.array is out and name in _OVERLAP_ANY):
                    _refuse_partial_overlap(name, out, operands, name in _OVERLAP_ANY)
                    break
            del out             # (_rebase counts the references to this memory)
        if _grad_mode.enabled and (self._requires_grad or any(
                isinstance(o, Tensor) and o._requires_grad for o in operands)):
            if self._ctx is None and self._requires_grad:
                raise AutogradError(f"{name} on a leaf tensor that requires grad: do it under "
                                     f"tensorgan.no_grad() (a parameter update), or on .detach()")
            if out_of_place is None:
                raise AutogradError(f"{name} on a tensor autograd tracks is not supported: write "
                                     f"it out of place (x = f(x)), or under tensorgan.no_grad()")
            return self._rebase(name, out_of_place, operands, expanded)
        if self._requires_grad and self._ctx is not None and _saves_alias(self._ctx, self.array,
                                                                           skip_inputs=True):
            # (torch allows it and the version check refuses the backward of ops that used this
            # tensor; the op that made it is checked here, as it saved its own output)
            _raise_argument_error(self.array, update)
            raise AutogradError(f"{name} under no_grad() on an op's result that requires grad "
                                 f"would change values its graph saved: use .detach()")
        try:
            update(self.array)
        except TensorganError:            # the op's own typed error (a ShapeError of scatter_'s index, ...)
            raise
        except TypeError as exc:          # NumPy's UFuncTypeError: e.g. arithmetic into a bool mask
            if "boolean array indexing assignment" in str(exc):    # x[mask] = ones(4, 1)
                raise ShapeError(f"{name}: shape mismatch: the value cannot be broadcast to the "
                                 f"indexing result (as torch) ({exc})") from None
            raise DTypeError(f"{name}: cannot update a {self.dtype} tensor in place with that "
                             f"value ({exc})") from None
        except ValueError as exc:
            if "read-only" not in str(exc):
                if "sequence" in str(exc) and operands and isinstance(operands[0], Tensor):   # x[i] = v
                    raise ShapeError(f"{name}: a value of shape {tuple(operands[0].shape)} cannot "
                                     f"fill a single element (as torch)") from None
                if "broadcast" not in str(exc) and "boolean array indexing" not in str(exc):
                    #                                   e.g. fill_("a"): not a number
                    raise InputTypeError(f"{name}: the value is not a number ({exc})") from None
                raise ShapeError(f"{name}: the value cannot update a tensor of shape {self.shape} "
                                 f"in place ({exc})") from None
            if not _write_overlapping(self.array, update) and (      # overlapping windows: as torch
                    expanded is None or not _write_expanded(self.array, update, expanded or None)):
                if isinstance(self.array, np.ndarray) and not _may_overlap(self.array):
                    raise ReadOnlyMemoryError(
                        f"{name}: the tensor's memory is read-only (a tensor over a read-only "
                        f"buffer: frombuffer of bytes, a read-only memory map, a NumPy array "
                        f"that cannot be made writable); torch would write it regardless "
                        f"(undefined behaviour): .clone() the tensor, or make the memory "
                        f"writable") from None
                raise MemoryOverlapError(
                    f"{name}: unsupported operation: more than one element of the written-to "
                    f"tensor refers to a single memory location. Please clone() the tensor before "
                    f"performing the operation. (As torch, refused: a read-only view -- expand()'s "
                    f"result, or read-only memory; torch writes only fill_ / zero_ / masked_fill_ / "
                    f"index_fill_ / index_put_ / x[mask] = v / a non-repeating part into it)") from None
        self._version_box[0] += 1
        if len(self._version_box) > 1:     # a .detach() / view of an op's saved output written
            _mark_saved_outputs_written(self)
        return self

    def _in_place_from(self, name: str, compute: Callable[["Tensor"], "Tensor"],
                       operands: tuple = (), expanded: str | None = None) -> "Tensor":
        """The in-place form of an out-of-place op: ``compute(self)`` written into this tensor,
        under :meth:`_in_place`'s rules (``compute`` is also the graph op on a tracked tensor).
        ``operands``: the op's other arguments (a Tensor among them that requires grad makes
        the update a graph op); ``expanded``: as :meth:`_in_place`'s."""
        def update(a):
            with no_grad():        # a plain wrapper of the array (.detach() would mark it shared)
                value = compute(Tensor._make(a, self.device))
            if value.shape != a.shape:     # torch does not broadcast the tensor written into
                raise ShapeError(f"{name}: output with shape {list(a.shape)} doesn't match the "
                                 f"broadcast shape {list(value.shape)} (as torch)")
            _write_cast_result(name, a, value.array)
        return self._in_place(name, update, compute, tuple(o for o in operands if isinstance(o, Tensor)),
                              expanded)

    def _rebase(self, name: str, out_of_place: Callable[["Tensor"], "Tensor"], operands: tuple,
                expanded: str | None = None) -> "Tensor":
        """PyTorch's in-place op on a tracked tensor: ``out_of_place`` runs on ``old``, a stand-in
        holding this tensor's values and history, and this tensor takes the result's values (in
        its own memory) and place in the graph -- so later ops differentiate through the update.
        Ops that used this tensor before the update refuse backward (the version check), as
        torch's do when they saved it.  Gradient hooks registered before the write see the
        gradient of the old value (they move to ``old``); retain_grad() keeps the new one's, as
        torch's.

        While a view or .detach() of it is alive (``_shares_live_memory``), the result is written
        in its own memory, so the views see the new values (as in torch), and the views' graphs
        follow the write (:meth:`_refresh_views`).  A view (of an op's result, or of a buffer
        that needs no grad: ``buf[:2].add_(y)``) is written as torch's: its base follows
        (:meth:`_rebase_view`).  Refused where that could go wrong silently: on a view of a leaf
        that requires grad, on a .detach() alias of a tensor whose views are alive, on a view
        whose elements repeat (expand) or lie outside its base."""
        box = self._version_box
        shared = len(box) > 1 and _shares_live_memory(self)
        is_result, alias = self._ctx is not None, False
        if shared:
            root = _memory_root(self)
            if root is self and self.array.base is not None and any(   # the viewed tensor is
                    r() is not None and _view_positions_of(self.device.xp, self.array, r().array) is None
                    for r in box[1]):           # gone, its views reach outside this one: its
                root = _owner_root(self)        # memory stands in (the other views follow)
            alias = any(type(r) is _DetachRef and r() is self for r in box[1])
            if alias:                       # a .detach() alias: no autograd view of anything;
                root = self if _whole_aliases(self) else None   # written in the shared memory
            if (not is_result and not alias and root is not self and root._ctx is None
                    and root._requires_grad):  # a view of p.detach(): its base is that alias
                root = _detach_alias_root(self, root, name)
            if root is not self:            # as a leaf (torch's p.detach().add_(m): the alias
                #                             alone takes the node)
                refused = _view_write_refusal(self) if is_result else None
                if refused:
                    raise AutogradError(f"{name}: {refused}")
                if root is not None and root._version_box is box:
                    chain = _view_chain(self) if is_result else None
                    if chain is not None and chain[0] is root:   # re-applied view ops
                        return self._rebase_view(name, out_of_place, root, ops.ViewSteps(chain[1]))
                    where = _view_positions_of(root.device.xp, root.array, self.array)
                    if where is not None and _repeats(root.device.xp, where.where):
                        if expanded and not self._requires_grad:    # torch: masked_fill_(m, v)
                            return self._rebase_view(name, out_of_place, root,   # with v tracked
                                                     where, expanded)
                        raise AutogradError(
                            f"{name}: more than one element of the written-to view refers to a "
                            f"single memory location (an expanded or overlapping view; as torch, "
                            f"refused): .clone() it first")
                    if where is not None:
                        return self._rebase_view(name, out_of_place, root, where)
                if alias:
                    raise AutogradError(f"{name}: a .detach() alias written in place with a value "
                                         f"that requires grad while a view of part of its memory "
                                         f"is alive (a view of the alias would follow the write "
                                         f"in torch, a view of the original not; tensorgan cannot "
                                         f"tell which it is): drop the view first (del v), or "
                                         f"write it out of place")
                raise AutogradError(f"{name} on a tensor that requires grad and shares its memory "
                                     f"with a view or .detach() of it that is still alive (held by "
                                     f"a name or by a graph), where the write cannot be tracked "
                                     f"(a .detach() alias, or a view reaching outside its base); "
                                     f"write it out of place (x = x + y), or drop the view first "
                                     f"(del v)")
        # An op's result keeps its buffer in ``old`` (the op that made it may have saved it, e.g.
        # exp's output) and takes the new one -- unless views share it (then ``old`` gets a copy,
        # and an op that saved this memory refuses backward, as torch's version check); a leaf
        # (a constant being accumulated into) is written in place, as its memory may be the
        # user's (from_numpy) -- and stays so after that write made it a result (its node is
        # marked ``foreign_memory``): ``p.data.add_(-m).div_(s)`` with ``m`` tracked, or
        # ``from_numpy(a).add_(y).mul_(2)``, must keep writing ``p`` / ``a``, as torch's.
        foreign = not is_result or "foreign_memory" in self._ctx.__dict__
        swap = not foreign and not shared and not _held_outside(self)
        old = Tensor._make(self.array if swap else self.array.copy(), self.device, self._requires_grad)
        old._ctx = self._ctx
        _move_hooks(self, old)
        new = self._writable(name, out_of_place(old))
        if shared and is_result and not old._ctx.released and "output_written" not in old._ctx.__dict__ \
                and _saves_alias(old._ctx, self.array):
            old._ctx.output_written = True
            old._ctx.versions = tuple(None if v is None else -1 for v in old._ctx.versions)
        if swap:
            self.array = new.array
        else:
            self.array[...] = new.array
        self._ctx, self._requires_grad = new._ctx, new._requires_grad
        if foreign and new._ctx is not None:
            new._ctx.foreign_memory = True
        version = self._version_box[0]
        _remember(self, version, old)       # ops that used the old value: see _redirect
        self._version_box[0] += 1
        if shared and alias:            # the sharers of an alias keep their nodes (torch's);
            _mark_saved_outputs_written(self, self)   # those that saved this memory refuse backward
            self._refresh_views(old, version, alias_views_only=True)   # (its views follow)
        elif shared:
            self._refresh_views(old, version)
        return self

    def _writable(self, name: str, new: "Tensor") -> "Tensor":
        """``new``, an in-place op's result, as it is written into this tensor: a float result of
        another width cast back (x32 += y64, as torch); another shape or kind refused."""
        if new.dtype != self.dtype and new.dtype.kind == self.dtype.kind == "f":
            new = new.to(self.dtype)
        if new.shape != self.shape or new.array.dtype != self.array.dtype:
            raise ShapeError(f"{name}: the result {new.shape} {new.dtype} cannot be written into a "
                             f"tensor of shape {self.shape} {self.dtype} in place")
        return new

    def _rebase_view(self, name: str, out_of_place: Callable[["Tensor"], "Tensor"], root: "Tensor",
                     view: "ops.ViewSteps | ops.ViewPositions", expanded: str | None = None) -> "Tensor":
        """:meth:`_rebase` of a view of ``root`` (``view``: the view ops from it, or where the
        view's elements lie in it), as torch's in-place op on a view: the update runs on
        ``old``, the view of a stand-in for the root's old value and history; the root takes a
        CopySlices node (its old value with the view's elements replaced by the result), and
        the nodes of this view and of the root's other live views follow it
        (:meth:`_refresh_views`), so gradients through any of them are right.  The root is
        written in its own memory (its views see the new values); a root that needed no grad
        (a preallocated buffer) requires it now.  Refused, as in torch, on a view of a leaf that
        requires grad; when the root's op saved its output for backward (exp, tanh, ...), that
        op's backward is refused afterwards (torch's version check).  Hooks registered on the
        root before the write see its old value's gradient; those on the view never run (torch's
        CopySlices goes round the view's old node); retain_grad() keeps the new value's.

        ``expanded`` (an op's name: a view whose elements repeat -- expand()'s result, needing no
        grad -- written with a value that requires grad, as torch's masked_fill_ / index_fill_ /
        index_put_ there): only the elements the update changed are written, each taking its
        gradient from its memory location (torch's, with its deprecation warning)."""
        if root._ctx is None and root._requires_grad:
            raise AutogradError(f"{name}: a view of a leaf tensor that requires grad is being "
                                 f"written in place (as torch, refused): do it under "
                                 f"tensorgan.no_grad(), or on a .clone() of the leaf")
        xp = root.device.xp
        if root._ctx is not None and root._ctx.__dict__.get("in_place_view"):
            _mark_relaid_output_written(root)      # (t_(), squeeze_(): its old self, same memory)
        elif root._ctx is not None and root._ctx.reads_inputs and any(   # (an op that reads
                isinstance(a, Tensor) and xp.may_share_memory(a.array, root.array)   # no input:
                for a in root._ctx.__dict__.get("inputs", ())):   # w[i] += v twice, as torch's)
            raise AutogradError(f"{name} on a view of a tensor whose memory is its op's input's "
                                 f"(written in place, the input would change): write it out of "
                                 f"place (x = x + y), or on a .clone()")
        old_base = Tensor._make(root.array.copy(), root.device, root._requires_grad)
        old_base._ctx = root._ctx
        _move_hooks(root, old_base)
        if isinstance(view, ops.ViewPositions):
            old = ops.AsStridedView.apply(old_base, view)
        else:
            old = old_base
            for cls, arg in view.steps:
                old = cls.apply(old, arg)
        new = self._writable(name, out_of_place(old))
        if expanded:
            changed = _changed(new.array, old.array)
            _warn_expanded(expanded)
            view = ops.ViewPositions(view.where[changed], view.pairs)
            new = new[Tensor._make(changed, root.device)]
        written = _copy_slices(old_base, new, view)
        # The graph keeps ``old_base`` for its shape and dtype only (CopySlices and the root's
        # old op do not read their output): drop its copy (what the update saved stays with it).
        old_base.array = xp.broadcast_to(xp.zeros((), dtype=root.array.dtype), root.array.shape)
        root_ctx = root._ctx
        if root_ctx is not None and not root_ctx.released and "output_written" not in root_ctx.__dict__ \
                and not root_ctx.__dict__.get("in_place_view") and _saves_alias(root_ctx, root.array):      # exp's output: its backward is refused
            root_ctx.output_written = True
            root_ctx.versions = tuple(None if v is None else -1 for v in root_ctx.versions)
        root.array[...] = written.array
        root._ctx, root._requires_grad = written._ctx, written._requires_grad
        version = self._version_box[0]
        _remember(root, version, old_base)  # ops that used the old values: see _redirect
        _remember(self, version, old)
        self._version_box[0] += 1
        if self._hooks is not None and self._hooks.hooks:
            self._hooks.hooks = {}           # (torch: the view's old node never runs again)
        root._refresh_views(old_base, version)
        return self

    def _refresh_views(self, old: "Tensor | None" = None, old_version: int | None = None,
                       alias_views_only: bool = False) -> None:
        """After an in-place write into this tensor's memory (it is the memory's root): each live
        view's graph now reads this tensor's new node.  A view made by view ops autograd can
        re-apply (reshape, basic indexing, ...) reads its input view or this tensor -- the same
        Tensor, with its new node -- and its backward reads no values, so its node is brought
        up to date by its recorded version alone.  Any other view (diagonal, unfold, expand, one
        made when no grad was wanted) takes a new node gathering its elements from this tensor
        (torch's AsStridedBackward0: torch regenerates a view's grad_fn from its base's once
        the version changed).  A view whose elements are not this tensor's keeps its node (its
        backward is then refused by the version check).  ``old`` (this tensor's stand-in at
        ``old_version``): each view remembers it, so ops that used a view before the write
        send their gradient to the same view of the old value (:func:`_redirect`).  Views of a
        .detach() alias follow a write into that alias alone; ``alias_views_only``: only they
        (this tensor is the alias: its other sharers keep their nodes)."""
        box = self._version_box
        version, xp = box[0], self.device.xp
        for ref in box[1]:
            view = ref()
            if view is None or view is self:
                continue
            if type(ref) is _DetachViewRef:
                if not _follows_alias(ref, self):
                    continue
            elif type(ref) is not weakref.ref or alias_views_only:
                continue
            if view._ctx is None and view._requires_grad:
                continue    # a leaf stays one (p, when its .detach() alias's view was written)
            if old is not None and view._requires_grad and old._requires_grad:
                _remember(view, old_version, (old, self))    # (else a view of another: p's)
            ctx = view._ctx
            if _re_appliable_view(ctx, box):
                # torch regenerates the view's grad_fn: a new node, so backward runs it by its
                # new place in the graph (after the write's node), not the view's first one
                ctx.versions, ctx.seq = (version, None), next_node_seq()
                continue
            if not self._requires_grad or view.dtype.kind not in "fc":
                continue
            where = _view_positions_of(xp, self.array, view.array)
            if where is not None:
                node = ops.AsStridedView.apply(self, where)
                view._ctx, view._requires_grad = node._ctx, True

    def _operand(self, other: Any) -> Any:
        if isinstance(other, Tensor) and other._requires_grad and _grad_mode.enabled:
            raise AutogradError("an in-place update with a value that requires grad would drop "
                                 "its gradient (the updated tensor is not in the graph): write "
                                 "x = x + y instead of x += y")
        other = self._lift(other)
        return other.array if isinstance(other, Tensor) else other

    def _in_place_binary(self, name: str, method: str, other: Any) -> "Tensor":
        """``self <op>= other``: ``method`` names the array's in-place operator, whose out-of-place
        twin (``__iadd__`` -> ``__add__``) builds the graph op on a tracked tensor."""
        twin = "__" + method[3:]

        def update(a):
            operand = self._operand(other)
            try:
                getattr(a, method)(operand)
            except TypeError:     # NumPy's same_kind refusal (uint8 -= int32): torch's rule decides
                _write_cast_result(name, a, getattr(a, twin)(operand))
        return self._in_place(name, update,
                              lambda old: getattr(old, twin)(old if other is self else other), (other,))

    def __iadd__(self, other): return self._in_place_binary("+=", "__iadd__", other)
    def __isub__(self, other):
        _refuse_bool_subtraction(self, other)
        return self._in_place_binary("-=", "__isub__", other)
    def __imul__(self, other): return self._in_place_binary("*=", "__imul__", other)
    def __itruediv__(self, other): return self._in_place_binary("/=", "__itruediv__", other)
    # in place, as torch's (without them Python rebinds x to x // y: views of x would not see it)
    def __ifloordiv__(self, other): return self.floor_divide_(other)
    def __imod__(self, other): return self.remainder_(other)
    def __ipow__(self, other): return self.pow_(other)
    def __iand__(self, other): return self.bitwise_and_(other)
    def __ior__(self, other): return self.bitwise_or_(other)
    def __ixor__(self, other): return self.bitwise_xor_(other)

    def add_(self, other: Any, alpha: float = 1) -> "Tensor":
        if (alpha.__class__ is not int or alpha != 1) and _alpha_needs_check(self, alpha):
            if isinstance(alpha, Tensor):      # main.py's old `p.data.add_(-lr, p.grad.data)`
                other, alpha = _legacy_alpha("add_", other, alpha)
            alpha = _checked_alpha("add_", self, other, alpha)
        return self._add_scaled("add_", other, alpha)

    def _add_scaled(self, name: str, other: Any, alpha: Any) -> "Tensor":
        """``self += alpha * other`` in place, errors named ``name`` (add_, or sub_ with -alpha)."""
        if alpha == 1:
            return self._in_place_binary(name, "__iadd__", other)

        def update(a):
            a += self._operand(other) * alpha
        return self._in_place(name, update,
                              lambda old: old + (old if other is self else other) * alpha, (other,))

    def mul_(self, other: Any) -> "Tensor":
        return self.__imul__(other)

    def zero_(self) -> "Tensor":
        return self.fill_(0.0)

    def resize_(self, *sizes: Any, memory_format: Any = None) -> "Tensor":
        """torch's ``resize_``: this tensor takes the shape ``sizes``, in place, row-major over
        its storage from its first element -- torch's storage order, so a transposed view (or
        its ``clone()``, which keeps the transposed strides) is read in memory order, and a view
        reads on into its base's memory. Its own shape: nothing changes (strides kept). Fewer
        elements keep the first ones; more than the storage holds are added as zeros after
        (torch's are uninitialised), and then a view stops sharing memory with its base. A
        tensor that requires grad cannot be resized (torch's RuntimeError: AutogradError here)."""
        if self._requires_grad:
            raise AutogradError("resize_: cannot resize variables that require grad (as torch); "
                                "resize a detached copy or use reshape")
        shape = _size_args(sizes)
        if shape == self.shape:
            return self                      # torch: same sizes, nothing to do
        n = math.prod(shape)
        flat = _storage_from_start(self.array)
        if flat is None:                     # a layout torch would not have: row-major order
            flat = self.device.xp.ascontiguousarray(self.array).reshape(-1)
        have = flat.size
        if n > have:
            grown = self.device.xp.zeros(n, dtype=self.array.dtype)
            grown[:have] = flat
            flat = grown
        self.array = flat[:n].reshape(shape)
        self._bump_version()
        return self

    def resize_as_(self, other: "Tensor", memory_format: Any = None) -> "Tensor":
        """``resize_`` to ``other``'s shape (torch.Tensor.resize_as_)."""
        if not isinstance(other, Tensor):
            raise InputTypeError(f"resize_as_: other must be a Tensor, got {type(other).__name__}")
        return self.resize_(other.shape)

    def fill_(self, value: float) -> "Tensor":
        if isinstance(value, (complex, np.complexfloating)) and self.array.dtype.kind != "c":
            from .factory import _fill_dtype       # torch: 5+0j fills a real tensor, 5+1j cannot
            value = _fill_dtype(value, self.dtype, "fill_")[0]
        if not isinstance(value, Tensor):
            if self.array.dtype.kind in "iu":
                value = _integer_fill(value, self.array.dtype)
            return self._in_place("fill_", lambda a: a.fill(value), lambda old: ops.Overwrite.apply(old, value),
                                  expanded="")      # (torch writes a number into an expanded tensor)
        if value.ndim:
            raise ShapeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                             f"{value.ndim} dimensions")
        # a 0-d tensor that requires grad gets its gradient (torch's FillBackward3), not dropped;
        # into read-only memory (expand()'s result) the write is refused as for a number
        tracked = (value._requires_grad and _grad_mode.enabled
                   and getattr(self.array.flags, "writeable", True))
        return self._in_place("fill_", lambda a: a.fill(_cast_wrapping(value.array, a.dtype)),
                              lambda old: ops.FillWithTensor.apply(old, value), (value,) if tracked else ())

    def copy_(self, src: Any, non_blocking: bool = False) -> "Tensor":
        """Copy ``src``'s values into this tensor (broadcast to its shape, cast to its dtype);
        ``non_blocking`` is accepted (the copy is synchronous)."""
        def update(a):
            value = self._operand(src)
            shape = getattr(value, "shape", ())
            if not _broadcasts_to(shape, a.shape):
                raise ShapeError(f"copy_: cannot broadcast a source of shape {shape} to {a.shape}")
            a[...] = value

        def overwrite(old):
            value = src.to(old.dtype) if isinstance(src, Tensor) else self._operand(src)
            return ops.Overwrite.apply(old, value)
        return self._in_place("copy_", update, overwrite, (src,))

    def clone(self, memory_format: Any = None) -> "Tensor":
        """A copy that stays in the graph (its gradient flows back to this tensor); a
        channels_last tensor's copy is channels_last too (torch's preserve_format), unless
        ``memory_format`` says otherwise."""
        array = self.array
        order = "C"
        if memory_format is not None:
            from . import memory_formats as mf
            if memory_format is mf.preserve_format:     # torch's default: the same as none given
                memory_format = None
        if memory_format is None and not array.flags.c_contiguous and _keeps_layout(array):
            order = "K"       # torch's preserve_format: a permuted layout (x.t()) keeps its order
        if self.dtype.kind != "f":                   # integers and masks: a plain copy
            out = Tensor._make(array.copy(order=order), self.device)
        else:
            out = ops.Clone.apply(self) if order == "C" else ops.ClonePreserving.apply(self)
        if memory_format is None and (order == "K" or (array.flags.c_contiguous and array.size)):
            return out        # (an empty array is C-contiguous whatever its strides: see suggest)
        from . import memory_formats as mf
        fmt = mf.check(memory_format if memory_format is not None else mf.preserve_format, "clone")
        if fmt is mf.preserve_format:
            fmt = mf.suggest(self.array)
        return out if fmt is mf.contiguous_format else _to_format(out, fmt, "clone")

    def __eq__(self, other: Any) -> "Tensor":       # type: ignore[override]
        if not (isinstance(other, _COMPARABLE) or hasattr(other, "__cuda_array_interface__")):
            return NotImplemented   # pytest.approx, None, a string: Python's fallback, as torch's
        return self._compare(other, "equal")

    def __ne__(self, other: Any) -> "Tensor":       # type: ignore[override]
        if not (isinstance(other, _COMPARABLE) or hasattr(other, "__cuda_array_interface__")):
            return NotImplemented
        return self._compare(other, "not_equal")

    __hash__ = object.__hash__                       # identity, as torch's


_COMPARABLE = (Tensor, int, float, complex, np.generic, np.ndarray, list, tuple)   # == by value


def _refuse_unbroadcastable(op: str, arrays: tuple) -> None:
    """A ShapeError (torch's RuntimeError) where ``arrays``' shapes do not broadcast."""
    broadcast_shape(op + ": shapes " + " and ".join("{%d}" % i for i in range(len(arrays)))
                    + " do not broadcast", *(np.shape(x) for x in arrays))


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}     # torch's can_cast: never downwards


def _write_cast_result(name: str, out: Any, result: Any) -> None:
    """Write an in-place op's ``result`` into ``out`` under torch's casting rule (the category
    may not fall: float -> integer, complex -> float, number -> bool are refused; a narrower
    type of the same category wraps, as torch's uint8 -= int32)."""
    if _CATEGORY[result.dtype.kind] > _CATEGORY[out.dtype.kind]:   # exp_() of ints: torch refuses
        raise DTypeError(f"{name}: the result is {result.dtype}, which cannot be written into a "
                         f"{out.dtype} tensor in place (as torch: result type {result.dtype} can't "
                         f"be cast to the desired output type; use the out-of-place form)")
    out[...] = result


def _max_min_arguments(dim: Any = None, keepdim: bool = False, *, other: Any = None) -> tuple:
    return dim, keepdim, other


def _max_min_signature() -> Any:
    import inspect
    P = inspect.Parameter
    return inspect.Signature([P("self", P.POSITIONAL_OR_KEYWORD),
                              P("dim", P.POSITIONAL_OR_KEYWORD, default=None),
                              P("keepdim", P.POSITIONAL_OR_KEYWORD, default=False),
                              P("other", P.KEYWORD_ONLY, default=None)])


Tensor.max.__signature__ = Tensor.min.__signature__ = _max_min_signature()   # type: ignore[attr-defined]


class MinMax(tuple):
    """torch.return_types.max / min: ``(values, indices)``, also by name."""
    __slots__ = ()

    def __new__(cls, values: Tensor, indices: Tensor) -> "MinMax":
        return super().__new__(cls, (values, indices))

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])


# ---------------------------------------------------------------------------------------------
# Construction helpers
# ---------------------------------------------------------------------------------------------
def _reduction_dtype(name: str, x: "Tensor", dtype: Any) -> np.dtype:
    """A reduction's / scan's ``dtype=`` checked (any kind); an integer or bool one refused for an
    input that requires grad in grad mode, as torch's "Autograd not support dtype: Long" (the
    result could not carry the gradient: tensorgan returned it silently untracked)."""
    dt = _check_dtype(dtype, any_kind=True)
    if dt.kind in "biu" and x._requires_grad and _grad_mode.enabled:
        raise DTypeError(f"{name}: autograd does not support dtype={dt} for an input that requires "
                         f"grad (torch: 'Autograd not support dtype'): pass a floating dtype, or "
                         f".detach() the input")
    return dt


def _check_dtype(dtype: Any, any_kind: bool = False) -> np.dtype:
    """``dtype`` as a NumPy dtype, checked: float32 / float64, or with ``any_kind`` also the
    integer dtypes (int64, int32, int16, int8, uint8) and bool."""
    if isinstance(dtype, str) and dtype == "float":   # NumPy's float64 but torch's float32
        raise DTypeError("dtype 'float' is ambiguous: torch.float is float32, NumPy's 'float' "
                         "float64; pass tg.float32 (or 'float32') or tg.float64")
    if dtype is bfloat16 or (isinstance(dtype, str) and dtype == "bfloat16"):
        raise DTypeError("bfloat16 is not supported: NumPy has no bfloat16 type (tensorgan adds no "
                         "dependency for it); use float16 (.half()) or float32")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"unknown dtype {dtype!r}: tensorgan supports float32, float64, "
                         f"float16, complex64/complex128, int64/int32/int16/int8/uint8 and "
                         f"bool") from None
    if any_kind and (dt == BOOL or dt in INT_DTYPES or dt in COMPLEX_DTYPES):
        return dt
    if dt not in FLOAT_DTYPES:
        kinds = ("float32, float64, float16, complex64, complex128, int64/int32/int16/int8/uint8 or "
                 "bool" if any_kind else "float32, float64 or float16 here")
        raise DTypeError(f"dtype {dt} is not supported: tensorgan tensors are {kinds}")
    return dt


_LERP_DIRECT = (np.dtype(np.float32), np.dtype(np.float64))   # (float16 ops compute in float32)


def lerp_into(device: Any, a: Any, end: Any, weight: float, out: Any = None) -> None:
    """``out = a + weight * (end - a)`` (``end - (end - a) * (1 - weight)`` from weight 0.5 on,
    torch's form); ``out`` defaults to ``a`` (an EMA's in-place update).  Where the arrays are
    C-contiguous, of one shape and float dtype, the device's one-pass kernel (``lerp_update``:
    G's 13 tensors 0.77-0.88 ms against the ufuncs' 1.5-1.9 ms in ``benchmarks.kernels``); else, and
    for broadcasting, the reference's ufuncs, which round the same."""
    out = a if out is None else out
    if (getattr(end, "shape", None) == a.shape == out.shape and a.dtype in _LERP_DIRECT
            and end.dtype == a.dtype == out.dtype
            and a.flags.c_contiguous and end.flags.c_contiguous and out.flags.c_contiguous):
        flat = a.reshape(-1)
        device.kernels.lerp_update(flat, end.reshape(-1), float(weight),
                                   flat if out is a else out.reshape(-1))
    else:
        reference_lerp_update(a, end, weight, out, xp=device.xp)


def _lerp_weight(op: str, input: "Tensor", end: Any, weight: Any) -> Any:
    """lerp's weight after its checks: a Python bool as 1 / 0, and a 0-d Tensor of another dtype
    cast to input's (torch takes it as it takes a number; a differentiable cast) -- a weight with
    dimensions must share input's dtype, as torch's."""
    if isinstance(weight, Tensor):
        if weight.array.ndim == 0 and weight.dtype != input.dtype and weight.dtype.kind != "c":
            _lerp_dtypes(op, input, end, None)
            return weight.to(input.dtype)
    elif isinstance(weight, (bool, np.bool_)):
        weight = int(weight)                      # torch's Scalar: True is 1
    elif isinstance(weight, (str, bytes)) or not np.isscalar(weight):
        raise InputTypeError(f"{op}: weight must be a number or a Tensor, got "
                             f"{type(weight).__name__} {weight!r:.40}")
    _lerp_dtypes(op, input, end, weight)
    return weight


def _lerp_dtypes(op: str, input: "Tensor", end: Any, weight: Any) -> None:
    """lerp's checks: a floating-point input (torch implements no integer or bool lerp), and
    input / end / weight of one dtype."""
    if input.dtype not in FLOAT_DTYPES:
        raise DTypeNotImplementedError(f"{op}: expected a floating-point input, got {input.dtype} "
                                       f"(torch's lerp is not implemented for integer or bool tensors)")
    _one_dtype(op, input=input, end=end, weight=weight)


def _one_dtype(op: str, **tensors: Any) -> None:
    """A DTypeError naming each operand's dtype unless the Tensors among ``tensors`` share one:
    the ops where torch refuses to promote (matrix products, normalization weights, lerp,
    index_add) -- elementwise arithmetic promotes instead."""
    named = [(name, t.dtype) for name, t in tensors.items() if isinstance(t, Tensor)]
    if len({dt for _, dt in named}) > 1:
        got = ", ".join(f"{name} {dt}" for name, dt in named)
        raise DTypeError(f"{op}: expected tensors of one dtype, got {got} (torch refuses to "
                         f"promote here); convert with .to(dtype)")


def _inferred_dtype(data: Any) -> np.dtype:
    """torch's dtype for data given without one: an array's own (wider unsigned integers become
    int64, other floats the default float), Python ints int64, bools bool, complex numbers the
    default complex dtype, floats the default float dtype; a sequence's elements' dtypes promoted
    (see ``_sequence_dtype``)."""
    src = getattr(data, "dtype", None)
    if src is None:
        if isinstance(data, (list, tuple, range)):
            python_kinds: set = set()
            others: set = set()
            _element_kinds(data, python_kinds, others)
            return _sequence_dtype(python_kinds, others)
        return _python_number_dtype(type(data)) if isinstance(data, _PYTHON_NUMBERS) else _default_float[0]
    try:
        src = np.dtype(src)
    except TypeError:       # another library's array (a torch tensor: torch.float32): its NumPy view's
        src = _foreign_dtype(data)
    if src in FLOAT_DTYPES or src in INT_DTYPES or src == BOOL or src in COMPLEX_DTYPES:
        return src
    if src.kind == "c":                 # complex256 (np.clongdouble): complex128
        return complex128
    if src == np.uint64 and isinstance(data, (np.ndarray, np.generic)) and data.size \
            and data.max() > np.iinfo(np.int64).max:       # int64 would wrap it to a negative
        raise ValueOverflowError(f"a uint64 value {int(data.max())} does not fit int64, the "
                                 f"dtype tensorgan holds unsigned integers wider than uint8 in")
    return int64 if src.kind in "iu" else _default_float[0]


def _complex_of(real: np.dtype) -> np.dtype:
    """torch's complex dtype for a real one: float64 -> complex128, else complex64."""
    return complex128 if real == float64 else complex64


_PYTHON_NUMBERS = (bool, int, float, complex)       # (bool first: a bool is an int too)
_PYTHON_NUMBER_TYPES = frozenset(_PYTHON_NUMBERS)


def _python_number_dtype(kind: type) -> np.dtype:
    """torch's dtype for a Python number of type ``kind`` (a subclass counts as its base)."""
    if issubclass(kind, bool):
        return BOOL
    if issubclass(kind, int):
        return int64
    return _default_float[0] if issubclass(kind, float) else _complex_of(_default_float[0])


def _element_kinds(data: Any, python_kinds: set, others: set) -> bool:
    """Add to ``python_kinds`` the types of the Python numbers in a (nested) sequence and to
    ``others`` the dtypes of its NumPy values / arrays / tensors; whether a Tensor is among them.
    Lists of plain numbers are typed in C (``set(map(type, ...))``), the other items one by one."""
    kinds = set(map(type, data))
    if kinds <= _PYTHON_NUMBER_TYPES:
        python_kinds |= kinds
        return False
    holds_tensor = False
    for d in data:
        kind = type(d)
        if kind in _PYTHON_NUMBER_TYPES:
            python_kinds.add(kind)
        elif isinstance(d, Tensor):
            others.add(d.array.dtype)
            holds_tensor = True
        elif isinstance(d, (list, tuple, range)):
            holds_tensor = _element_kinds(d, python_kinds, others) or holds_tensor
        elif getattr(d, "dtype", None) is not None:
            others.add(_inferred_dtype(d))
        elif isinstance(d, _PYTHON_NUMBERS):          # an IntEnum, a float subclass: as its base
            python_kinds.add(next(k for k in _PYTHON_NUMBERS if isinstance(d, k)))
    return holds_tensor


def _sequence_dtype(python_kinds: set, others: set) -> np.dtype:
    """torch's dtype of a sequence: its elements' dtypes promoted (torch.promote_types) -- a
    Python bool is bool, an int int64, a float the default float dtype, a complex the default
    complex dtype, a NumPy value, array or tensor its own dtype (``[np.uint8(3)]`` is uint8,
    ``[np.float16(1), 2]`` float16, ``[np.uint8(1), np.int8(1)]`` int16); empty: the default."""
    dtype = None
    for kind in (complex, float, int, bool):   # the highest category of the Python numbers
        if kind in python_kinds:
            dtype = _python_number_dtype(kind)
            break
    if others:
        from .dtypes import promote_types
        for other in others:
            dtype = other if dtype is None else promote_types(dtype, other)
    return _default_float[0] if dtype is None else dtype


def _foreign_dtype(data: Any) -> np.dtype:
    """The NumPy dtype of an array-like whose ``dtype`` NumPy cannot read (``tg.tensor(t)`` of a
    torch tensor, as ``torch.tensor(ndarray)`` goes the other way), through its ``__array__``."""
    if not hasattr(data, "__array__"):
        raise InputTypeError(f"cannot make a tensor from {type(data).__name__}: its dtype "
                             f"{getattr(data, 'dtype', None)!r} is not one NumPy reads and it has "
                             f"no __array__")
    try:
        return np.asarray(data).dtype
    except (TypeError, ValueError, RuntimeError) as exc:    # bfloat16, requires_grad, ...
        raise InputTypeError(f"cannot make a tensor from {type(data).__name__} ({exc}); convert it "
                             f"to a NumPy array first") from None


def _int_bound(value: int, dtype: np.dtype) -> int:
    """clamp's int bound of an integer tensor, converted as torch converts it (``_checked_convert``:
    uint8's -1 is 255; out of range refused "without overflow")."""
    return int(_checked_convert(value, dtype))


def _wrapped(value: int, dtype: np.dtype) -> int:
    """A Python int beside an integer tensor, wrapped into its dtype as torch casts it
    (uint8 + -1 adds 255; NumPy would raise OverflowError)."""
    info = np.iinfo(dtype)
    if info.min <= value <= info.max:
        return value
    if not -2 ** 63 <= value < 2 ** 64:
        raise OverflowError(f"Python integer {value} is out of range for a {dtype} tensor "
                            f"(even int64/uint64), as torch refuses it")
    return int(np.array(value, dtype=np.uint64 if value >= 2 ** 63 else np.int64).astype(dtype))


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether an operand of ``shape`` broadcasts to exactly ``target`` (copy_'s source, a loss
    weight, add*mm's input)."""
    try:
        return np.broadcast_shapes(tuple(shape), tuple(target)) == tuple(target)
    except ValueError:
        return False


def _has_none(data: Any) -> bool:
    """Whether a (nested) list holds None (only asked when its array came out with a NaN)."""
    if isinstance(data, (list, tuple)):
        return any(_has_none(d) for d in data)
    return data is None


def _tensor_elements_as_numbers(data: Any, real: bool = False) -> list:
    """A (nested) sequence with each Tensor element read as its number, as torch reads tensors
    inside a sequence (``tensor([t.sum(), t.mean()])``; a one-element tensor of any shape is one
    number, ``[ones(1)]`` has shape (1,)); a tensor of another size is refused, as torch refuses
    it (NumPy would stack it as a sub-array). An element that requires grad is read outside the
    graph, with torch's warning."""
    out = []
    for d in data:
        if isinstance(d, Tensor):
            if d.array.size != 1:
                raise ShapeError(f"only one element tensors can be converted to Python scalars (as "
                                 f"torch): a sequence holds a tensor of shape {tuple(d.shape)}; "
                                 f"torch.stack the tensors instead")
            if d.requires_grad:
                warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to "
                              "unexpected behavior.\nConsider using tensor.detach() first.",
                              UserWarning, stacklevel=_caller_level())
            d = d.array.reshape(()).item()
            if real and isinstance(d, complex):    # into the real dtype asked for: torch's
                if d.imag:                          # checked convert keeps a real value only
                    raise ValueOverflowError(f"value {d} of a complex tensor in the sequence cannot "
                                             f"be converted to a real dtype without overflow (as torch)")
                d = d.real
        elif isinstance(d, (list, tuple)):
            d = _tensor_elements_as_numbers(d, real)
        out.append(d)
    return out


def _nesting_depth(data: Any) -> int:
    """How many sequences deep the first elements of a nested sequence go (``[[1, 2]]``: 2): the
    ndim its array has unless elements that are arrays add dims."""
    depth = 0
    while isinstance(data, (list, tuple)):
        depth += 1
        if not data:
            break
        data = data[0]
    return depth


def _holds_tensor(data: Any) -> bool:
    """Whether a (nested) sequence has a Tensor among its elements (a list of numbers: in C)."""
    if set(map(type, data)) <= _PYTHON_NUMBER_TYPES:
        return False
    return any(isinstance(d, Tensor) or isinstance(d, (list, tuple)) and _holds_tensor(d) for d in data)


def _to_array(data: Any, dtype: Any, device: Device):
    """Any array-like -> an array of ``dtype`` on ``device``. Never moves GPU data implicitly."""
    if isinstance(data, Tensor):
        raise InputTypeError("to build a tensor from a tensor use t.clone().detach() or t.to(...) "
                             "(or pass its array, t.array)")
    if data is None or isinstance(data, (str, bytes)):
        raise TensorDataError(f"cannot make a tensor from {type(data).__name__} {data!r:.40}")
    xp = device.xp
    on_gpu = hasattr(data, "__cuda_array_interface__")
    if on_gpu and xp is np:
        raise DeviceError("a GPU array was given for a CPU tensor: copy it to the host first (.get())")
    sequence = isinstance(data, (list, tuple))
    if sequence and dtype is None:
        python_kinds: set = set()
        others: set = set()
        if _element_kinds(data, python_kinds, others):
            data = _tensor_elements_as_numbers(data)
        dtype = _sequence_dtype(python_kinds, others)
    dtype = _check_dtype(_inferred_dtype(data) if dtype is None else dtype, any_kind=True)
    if isinstance(data, float) and dtype.kind in "iu" and not math.isfinite(data):
        return xp.asarray(_checked_convert(data, dtype))   # np.float64(nan): torch's overflow error
    try:
        try:
            out = xp.asarray(data, dtype=dtype)
        except (AutogradError, TypeError, ValueError):
            if not (sequence and _holds_tensor(data)):
                raise
            out = xp.asarray(_tensor_elements_as_numbers(data, dtype.kind != "c"), dtype=dtype)
        if sequence and out.ndim > _nesting_depth(data) and _holds_tensor(data):
            # a tensor element read by NumPy as a sub-array (dtype= given, so not walked above)
            out = xp.asarray(_tensor_elements_as_numbers(data, dtype.kind != "c"), dtype=dtype)
    except TensorganError:          # already says what was wrong
        raise
    except OverflowError:           # a number outside an integer dtype: torch's checked convert
        out = xp.asarray(_checked_convert(data, dtype))
    except (TypeError, ValueError) as exc:  # ragged lists, strings inside lists, objects, ...
        if "NaN" in str(exc) and np.dtype(dtype).kind in "iu":  # tensor(nan, dtype=int64): torch's
            out = xp.asarray(_checked_convert(data, dtype))     # overflow error, not a type error
            return out
        if "inhomogeneous" in str(exc) or "sequence" in str(exc):
            raise ShapeError(f"cannot make a tensor from a ragged nested sequence ({exc})") from None
        raise TensorDataError(f"cannot make a {dtype} tensor from {type(data).__name__} ({exc})") from None
    if (dtype.kind == "f" and isinstance(data, (list, tuple)) and out.size
            and xp.isnan(out).any() and _has_none(data)):
        raise TensorDataError(f"cannot make a tensor from a sequence holding None (NumPy would "
                             f"read it as NaN): {data!r:.60}")
    return out


# Each integer dtype's values: ``n in range`` is one C comparison for a Python int (the common
# case, which needs no wrapping or checking)
_INT_RANGES = {np.dtype(t): range(np.iinfo(t).min, np.iinfo(t).max + 1) for t in (
    np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)}


def _wrap_int(value: int, dtype: np.dtype) -> int:
    """``value`` wrapped into integer ``dtype`` (two's complement), as torch casts a Python int
    beside an integer tensor in a comparison: ``uint8 == 259`` compares with 3, ``> -1`` with 255."""
    bits = 8 * dtype.itemsize
    value &= (1 << bits) - 1
    return value - (1 << bits) if dtype.kind == "i" and value >> (bits - 1) else value


def _integer_fill(value: Any, dtype: np.dtype) -> Any:
    """A number written into integer ``dtype`` by fill_ / masked_fill, checked as torch's
    (``_checked_convert``): -1 into uint8 is 255, 300 or -1.0 refused, 2.7 is 2."""
    if type(value) is int and value in _INT_RANGES.get(dtype, ()):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)) \
            or isinstance(value, (complex, np.complexfloating)):
        return value
    return _checked_convert(value, dtype).item()


def _cast_wrapping(src: Any, dtype: np.dtype) -> Any:
    """A 0-d array's value cast to ``dtype`` as torch casts a tensor (no range check): 300 into
    uint8 is 44, -1.0 is 255 (a float goes through int64 first, NumPy's direct cast being
    undefined for negatives)."""
    if src.dtype.kind == "f" and dtype.kind in "iu" and np.isfinite(src).all():
        src = src.astype(np.int64)
    return src.astype(dtype)[()]


def _checked_convert(data: Any, dtype: np.dtype) -> np.ndarray:
    """``data`` (numbers NumPy could not put in integer ``dtype``) as torch converts them (c10's
    checked convert): a Python int in the dtype's range, or a negative one an unsigned dtype
    wraps (``tensor(-1, dtype=uint8)`` is 255, down to -255); a float in the dtype's range (cut
    towards zero); anything else refused ("value cannot be converted to type uint8 without
    overflow")."""
    try:
        src = np.asarray(data)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueOverflowError(f"cannot make a {dtype} tensor from {type(data).__name__}: a value "
                                 f"does not fit ({exc})") from None
    info = np.iinfo(dtype)
    if src.dtype.kind in "iu" and src.size and dtype.kind in "iu":
        lo = -info.max if info.min == 0 else info.min
        if lo <= int(src.min()) and int(src.max()) <= info.max:
            return src.astype(dtype)                        # (wraps the negatives of uint8)
    elif src.dtype.kind == "f" and src.size and dtype.kind in "iu":
        if np.isfinite(src).all() and info.min <= src.min() and src.max() <= info.max:
            return src.astype(dtype)
    raise ValueOverflowError(f"value cannot be converted to type {dtype} without overflow (as torch; "
                             f"{dtype} holds {info.min} to {info.max}"
                             f"{', and -1 to ' + str(-info.max) + ' wrap around' if info.min == 0 else ''})")


class _UnusualMask(Exception):
    """Raised by :func:`_index` at a uint8 mask or a bool mask of no elements: the key is then
    read by :func:`_mask_key` (off the common path)."""


_BYTE_MASK_WARNING = ("indexing with dtype uint8 is deprecated, please use a dtype bool instead (as "
                      "torch warns): a uint8 index is a mask, not positions")


def _mask_key(key: Any, shape: tuple, value: Any = None, setting: bool = False) -> Any:
    """``key`` read as :func:`_index` reads it, where it holds a uint8 mask (torch's legacy byte
    mask: warned, read as bool) or an empty bool mask: every mask's shape checked against the
    dims it indexes, as torch's; ``x[byte_mask] = v`` with a one-element ``v`` refused, as torch
    writes that with masked_fill_, which takes bool masks only."""
    parts = key if isinstance(key, tuple) else (key,)
    out: list = []
    byte = False
    for k in parts:
        if isinstance(k, Tensor) and k.array.dtype in (BOOL, np.uint8):
            byte = byte or k.array.dtype == np.uint8
            out.append(k.array.astype(BOOL, copy=False))
        else:
            out.append(_index(k))
    if byte:
        warnings.warn(_BYTE_MASK_WARNING, UserWarning, stacklevel=3)
    out = tuple(out)
    _check_mask_shapes(out, shape)
    numel = value.numel() if isinstance(value, Tensor) else np.size(value)
    if setting and byte and _masked_fill_key(out, numel):
        raise DTypeError("x[mask] = value: masked_fill_ only supports boolean masks, but got mask "
                         "with dtype uint8 (as torch, for a one-element value); use mask.bool()")
    return out if isinstance(key, tuple) else out[0]


def _is_mask(k: Any) -> bool:
    return getattr(k, "dtype", None) == BOOL and not isinstance(k, np.bool_)


def _check_mask_shapes(key: Any, shape: tuple) -> None:
    """Error path: torch's IndexError where a mask in ``key`` (indices as :func:`_index` gives
    them) differs in shape from the dims of ``shape`` it indexes."""
    key = key if isinstance(key, tuple) else (key,)
    if not any(map(_is_mask, key)):
        return
    used = sum(k.ndim if _is_mask(k) else 1 for k in key
               if k is not None and k is not Ellipsis and not isinstance(k, (bool, np.bool_)))
    if used > len(shape):
        raise IndexOutOfRangeError(f"too many indices for tensor of dimension {len(shape)} (as torch)")
    dim = 0
    for k in key:
        if k is Ellipsis:
            dim += len(shape) - used
        elif _is_mask(k):
            for j, size in enumerate(k.shape):
                if size != shape[dim + j]:
                    raise MaskShapeError(
                        f"The shape of the mask {list(k.shape)} at index {j} does not match the "
                        f"shape of the indexed tensor {list(shape)} at index {dim + j}")
            dim += k.ndim
        elif k is not None and not isinstance(k, (bool, np.bool_)):
            dim += 1


def _index(k: Any) -> Any:
    """A Tensor used as an index: a bool mask (or a uint8 one: torch's deprecated byte mask), or
    another integer tensor's positions as int64 on the index tensor's device; a float tensor is
    refused by its dtype, as torch's (IndexDTypeError, an IndexError too)."""
    if not isinstance(k, Tensor):
        if isinstance(k, (list, tuple)):    # a sequence inside a tuple key (x[:, [i, j]])
            _check_list_index(k, k)
        return k
    if k.array.dtype == BOOL:
        if not k.array.size:          # NumPy takes an empty mask of any shape; torch checks it
            raise _UnusualMask
        return k.array                                     # a mask, on its own device
    if k.array.dtype == np.uint8:                          # torch's legacy byte mask (warned)
        raise _UnusualMask
    if k.array.dtype not in _POSITION_DTYPES:  # torch: "tensors used as indices must be long, int, ..."
        if k.array.dtype.kind in "fc":
            raise float_index_error("x[index]", k.dtype, "an index tensor")
        if k.array.ndim:                  # (a 0-d one is a number to torch, any integer dtype)
            raise IndexDTypeError(f"x[index]: tensors used as indices must be long, int, byte or "
                                  f"bool tensors (as torch), got dtype {k.dtype}; convert with .long()")
    a = k.numpy()
    if a.ndim == 0:
        return int(a)                     # a 0-d index (x[i.argmax()]) is an int, as in torch
    return k.device.xp.asarray(a.astype(np.int64))      # on the index tensor's device


_LIST_KEY_WARNING = ("Using a non-tuple sequence for multidimensional indexing is deprecated (as torch "
                     "warns): x[[a, b]] whose items are tensors, sequences, slices, None or ... is read "
                     "as x[a, b], as torch still reads it; write x[tuple(seq)] for that, or "
                     "x[torch.tensor(seq)] for one index tensor")


def _list_key(key: list) -> Any:
    """``x[[...]]``: a list of under 32 items of which one is a Tensor, an array, a list or tuple,
    a slice, None or ``...`` is the tuple of its items, as torch (warned, deprecated there), where
    NumPy reads one index array; other lists stay one index (``x[[0, 2]]``)."""
    if len(key) < 32 and any(isinstance(k, (Tensor, np.ndarray, list, tuple, slice)) or k is None
                             or k is Ellipsis for k in key):
        warnings.warn(_LIST_KEY_WARNING, UserWarning, stacklevel=3)
        return tuple(key)
    return key


def _check_list_index(items: list, whole: list) -> None:
    """A list inside an index (``x[:, [i, j]]``) holds numbers, or one-element integer tensors
    (torch reads each as its number); a tensor of more elements there is refused, as torch's
    TypeError -- NumPy would stack the tensors into a 2-D index, a silently different result."""
    for k in items:
        if isinstance(k, (list, tuple)):
            _check_list_index(k, whole)
        elif isinstance(k, Tensor) and (k.numel() != 1 or k.dtype.kind not in "iub"):
            raise InputTypeError(
                f"index sequence {whole!r:.80}: only integer tensors of a single element can be "
                f"converted to an index (as torch), got one of shape {tuple(k.shape)} and dtype "
                f"{k.dtype}; index with one tensor (torch.stack / torch.cat them) or a tuple")


def _float_sequence_key(key: Any) -> Any:
    """Error path only: ``key`` with each list or NumPy array of floats read as int64 positions
    (truncated toward zero), as torch reads them (``x[[1.0]]``, ``x[np.array([1.5])]``: a
    sequence becomes an index tensor of int64; a float scalar or a float *tensor* stays refused);
    None when no part of ``key`` is one, so the caller's error stands."""
    parts = key if isinstance(key, tuple) else (key,)
    changed = False
    out = []
    for k in parts:
        if isinstance(k, (list, np.ndarray)):
            try:
                a = np.asarray(k)
            except ValueError:                  # ragged lists: not this case
                a = None
            if a is not None and a.dtype.kind == "f":
                if not np.isfinite(a).all():
                    raise DTypeError(f"index {k!r:.60}: value cannot be converted to type int64 "
                                     f"without overflow (a NaN or infinite position)")
                k, changed = a.astype(np.int64), True
        out.append(k)
    if not changed:
        return None
    return tuple(out) if isinstance(key, tuple) else out[0]


def _masked_fill_key(key: Any, numel: int) -> bool:
    """Whether torch writes ``x[key] = value`` (an advanced key) as masked_fill_ with value's
    number, which casts it (index_put_'s canDispatchToMaskedFill): a one-element value and one
    bool mask as the key's only tensor index."""
    if numel != 1:
        return False
    arrays = [k for k in (key if isinstance(key, tuple) else (key,))
              if not (k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice)))]
    return len(arrays) == 1 and getattr(arrays[0], "dtype", None) == BOOL


def _view_at(a: Any, basic: tuple) -> Any:
    """``a[basic]`` (ints, slices, None, ...) as a view, also where the ints pick one element
    (NumPy would give a scalar copy there: ``x[True, 0] = v``'s first step)."""
    if not any(k is Ellipsis for k in basic):
        basic = basic + (Ellipsis,)
    return a[basic]


_ELLIPSIS_TYPE = type(Ellipsis)


def _drop_empty_ellipsis(key: tuple, ndim: int) -> tuple:
    """``key`` without its one ``...`` where that stands for no dims: torch expands it to the dims
    the other indices leave, so tensor indices on either side of an empty ``...`` are adjacent
    (``x[:, i, ..., j]`` of a 2-D x keeps the indexed dim in place; NumPy would put it first)."""
    covered, dots = 0, 0
    for k in key:
        if k is Ellipsis:
            dots += 1
        elif k is not None and not isinstance(k, (bool, np.bool_)):
            covered += k.ndim if getattr(k, "dtype", None) == BOOL else 1
    if dots != 1 or covered < ndim:
        return key
    return tuple(k for k in key if k is not Ellipsis)


def _one_ellipsis(key: Any, ndim: int) -> tuple | None:
    """A key with several ``...`` as torch reads it, with one: each ``...`` stands for the dims
    the other indices leave, so the later ones are dropped when nothing but ``...`` follows the
    second one (``x[..., 0, ...]``) or when they stand for no dims; None for a key with at most
    one ``...``, or one on which torch fails too (indices after a later ``...`` that covers dims)."""
    if not isinstance(key, tuple):
        return None
    where = [i for i, k in enumerate(key) if k is Ellipsis]
    if len(where) < 2:
        return None
    covered = sum(k.ndim if hasattr(k, "dtype") and k.dtype == BOOL else 1
                  for k in key if k is not None and k is not Ellipsis)
    if ndim > covered and any(k is not Ellipsis for k in key[where[1]:]):
        return None
    return tuple(k for i, k in enumerate(key) if k is not Ellipsis or i == where[0])


def _mask_fits(op: str, mask: tuple, shape: tuple) -> None:
    """An in-place masked op's check that ``mask`` broadcasts to the written tensor's ``shape``
    (torch's "output with shape [3] doesn't match the broadcast shape [1, 3]")."""
    try:
        full = np.broadcast_shapes(mask, shape)
    except ValueError:
        full = None
    if full != tuple(shape):
        raise ShapeError(f"{op}: the mask of shape {tuple(mask)} does not broadcast to the "
                         f"tensor's shape {tuple(shape)} (as torch: the output keeps its shape)")


def _as_mask(op: str, x: "Tensor", other: Any) -> "Tensor":
    if not isinstance(other, Tensor):
        raise InputTypeError(f"{op}: other must be a Tensor, got {type(other).__name__}")
    broadcast_shape("{op}: shapes {0} and {1} do not broadcast", x.shape, other.shape, op=op)
    return other.bool()


def _is_int(k: Any) -> bool:
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


def _non_int(op: str, what: str, values: tuple) -> None:
    """Error path only: raise InputTypeError (torch's TypeError) naming the first of ``values``
    that is a float -- a size from Python 3's ``/`` (``n / BATCH_SIZE`` in Python 2 era code), a
    float dim or count -- so that it is not reported as a shape or range problem; return
    otherwise (ints, bools, tensors and other objects keep the caller's own message)."""
    for v in values:
        if isinstance(v, (float, np.floating)):
            if len(values) == 1:
                raise InputTypeError(f"{op}: {what} must be an int, got {v!r} ({type(v).__name__})")
            raise InputTypeError(f"{op}: {what} must be ints, got {v!r} ({type(v).__name__}) in "
                                 f"{tuple(values)!r}")


def _int_of(v: Any) -> Any:
    """A one-element integer tensor given where torch takes an int (a dim, a start, a count:
    ``x.narrow(1, tg.tensor(2), 1)``) as that int; anything else unchanged, for the caller's own
    check to name. Callers reach it only once their plain-int test has failed, so an int costs
    nothing."""
    if isinstance(v, Tensor) and v.array.dtype.kind in "iu" and v.array.size == 1:
        return int(v.item())
    return v


_PLAIN_KEYS = frozenset((slice, int, type(None), type(Ellipsis)))   # index items used as they are
_POSITION_DTYPES = frozenset((np.dtype(np.int64), np.dtype(np.int32)))   # index tensors' positions


def _plain_key(key: tuple) -> bool:
    """Whether a tuple key holds only slices, ints, None and Ellipsis: ``_index`` leaves each as
    it is and ``_ints_first`` splits nothing (x[:, 1], x[0, :, None] -- the common keys)."""
    for k in key:
        if k.__class__ not in _PLAIN_KEYS:
            return False
    return True


def _empty_result_key(key: Any, shape: tuple) -> Any:
    """Error path: ``key`` with its integer index arrays zeroed when what it picks from ``shape``
    is empty -- torch checks no bounds then (``zeros(0, 4)[:, [7]]`` is (0, 1), and ``x[:] = v``
    with it writes nothing); None otherwise (the error stands)."""
    parts = key if isinstance(key, tuple) else (key,)
    probe, fixed = [], []
    for k in parts:
        if isinstance(k, list):
            try:
                k = np.asarray(k)
            except ValueError:                  # a ragged list: not this case
                return None
        if hasattr(k, "dtype") and hasattr(k, "ndim") and k.ndim and k.dtype.kind in "iu":
            probe.append(np.zeros(k.shape, np.int64))
            fixed.append(k * 0)
        else:
            probe.append(k)
            fixed.append(k)
    try:
        picked = np.broadcast_to(np.zeros((), np.int8), shape)[tuple(probe)]
    except (IndexError, TypeError, ValueError):
        return None
    if picked.size:
        return None
    return tuple(fixed) if isinstance(key, tuple) else fixed[0]


def _ints_first(key: tuple) -> tuple | None:
    """torch applies integer indices before array and mask indices (``x[0, :, [0, 1]]`` is
    ``x[0][:, [0, 1]]``, shape (3, 2) for a (2, 3, 4) x); NumPy counts the int as one more array
    index and, the arrays being apart, puts their dim first -- (2, 3). For a key with both, the
    two steps: the ints (and slices, None, ...) with each array as full slices, then the arrays."""
    basic = (type(None), type(Ellipsis), slice)
    if not any(_is_int(k) for k in key) or all(_is_int(k) or isinstance(k, basic) for k in key):
        return None
    first, second = [], []
    for k in key:
        if _is_int(k):
            first.append(k)                     # the dim is gone: nothing in the second step
        elif isinstance(k, basic):
            first.append(k)
            second.append(k if k is Ellipsis else slice(None))  # None made a dim: keep it whole
        else:                                   # an array or mask: the dims it covers, whole
            mask = k if hasattr(k, "dtype") else np.asarray(k)
            first.extend([slice(None)] * (mask.ndim if mask.dtype == BOOL else 1))
            second.append(k)
    return tuple(first), tuple(second)


def _reduction_args(name: str, axis, keepdims, dim, keepdim):
    if dim is not None:
        if axis is not None:
            raise InputTypeError(f"{name}: give axis= or dim=, not both")
        axis = _torch_dims(dim)
    if keepdim is not _UNGIVEN:         # keepdim=None given is torch's TypeError (in _flag)
        keepdims = keepdim
    return axis, _flag(name, "keepdim", keepdims)


def _flag(op: str, name: str, value: Any) -> bool:
    """A bool argument (keepdim, descending, largest, unbiased, training, ...) checked to be one,
    as torch's argument parser does: ``keepdim=2`` / ``"yes"`` / a tensor is a TypeError there
    (InputTypeError here), not silently truthy."""
    if value is True or value is False:
        return value
    kind = type(value)     # (NumPy's bool is 'numpy.bool' in torch's words, not a bare 'bool')
    kind = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__.split('.')[0]}.{kind.__name__}"
    raise InputTypeError(f"{op}(): argument '{name}' must be bool, not {kind} ({value!r:.40})")


def _round_decimals_refused(x: "Tensor", decimals: Any) -> None:
    raise DTypeNotImplementedError(f"round(decimals={decimals!r}): not implemented for {x.dtype} "
                                   f"tensors (as torch's \"round_cpu\"; round() without decimals "
                                   f"keeps an integer tensor as it is)")


def _float_only(op: str, x: Any) -> None:
    """torch's float-only ops (mean, var / std, norms, softmax, most activations and
    normalizations, hypot, ...) refuse integer and bool tensors ("not implemented for 'Long'"),
    where computing in float32 would hide a wrong input; a DTypeError naming the op and the
    dtype, and a NotImplementedError (a RuntimeError), as torch's for most of them. A dtype
    check only: no cost per element."""
    if isinstance(x, Tensor) and x.array.dtype.kind not in "fc":
        raise DTypeNotImplementedError(f"{op}: expected a floating-point tensor, got {x.dtype} "
                                       f"(torch does not implement {op} for integer or bool "
                                       f"tensors); convert with .float()")


def _index_sizes(sizes: tuple) -> tuple:
    """Sizes with each one-element integer tensor read as its int, as torch reads them
    (``y.repeat(G, 1, H, W)`` with ``G = torch.min(torch.as_tensor(4), torch.as_tensor(N))``); a
    float or many-element tensor raises ``__index__``'s InputTypeError."""
    return tuple(s.__index__() if isinstance(s, Tensor) else s for s in sizes)


def _below_minus_one(shape: tuple) -> bool:
    """Whether a size in ``shape`` is below -1 (sizes that are not numbers: Reshape names them)."""
    try:
        return min(shape) < -1
    except TypeError:
        return False


def _bad_size(op: str, shape: tuple) -> None:
    """reshape / view given a size below -1 (NumPy would read it as -1): torch's error."""
    bad = next(i for i, n in enumerate(shape) if n < -1)
    raise ShapeError(f"{op}: invalid shape dimension {shape[bad]} at index {bad} of shape "
                     f"{shape} (only -1 may stand for the size the others leave)")


def _size_args(size: tuple) -> tuple:
    """``new_zeros(2, 3)`` or ``new_zeros((2, 3))``: the shape as a tuple of ints."""
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in shape):
        if any(isinstance(s, Tensor) for s in shape):
            return _size_args(_index_sizes(shape))
        raise InputTypeError(f"a size must be ints >= 0, got {size!r}")
    return tuple(int(s) for s in shape)


def _floor_quotient(q: "Tensor", a: Any, b: Any) -> "Tensor":
    """a // b of floats given q = a / b (its dtype, shape and graph): Python's floor division,
    as torch's and NumPy's (from fmod, not floor(a / b): -1 // inf is -1, 5 // 0.1 is 49, inf // 2
    is NaN), with gradient 0."""
    if q.array.dtype.kind != "f":
        return q.floor()
    xp = q.device.xp
    x, y = (v.array.astype(q.array.dtype, copy=False) if isinstance(v, Tensor) else v for v in (a, b))
    with np.errstate(divide="ignore", invalid="ignore"):
        return q._piecewise_constant(xp.asarray(xp.floor_divide(x, y), dtype=q.array.dtype))


def _torch_int_arrays(a: "Tensor", other: Any, x: Any, y: Any) -> tuple:
    """Arrays ``x``, ``y`` of integer / bool operands ``a`` and ``other`` cast to torch's result
    dtype where NumPy's differs: a 0-d tensor beside one with dims yields to it within a category
    (an int32 tensor with a 0-d int64 one stays int32; NumPy would widen to int64)."""
    if not isinstance(other, Tensor) or (a.array.ndim == 0) == (other.array.ndim == 0):
        return x, y
    from .dtypes import result_type
    target = result_type(a, other)
    return tuple(v.astype(target, copy=False) if v.dtype != target else v for v in (x, y))


def _int_ufunc(ufunc: Any, a: Any, b: Any) -> Any:
    """``ufunc(a, b)`` on integer arrays laid out as torch's TensorIterator lays out its result
    -- ``a`` not C-contiguous, so it decides: ``int_cl // int_c`` is channels_last, where NumPy's
    order='K' falls back to C order."""
    from .memory_formats import in_iterator_order
    return in_iterator_order(ufunc, a, b, (a, b))


def _extremum(a: "Tensor", b: Any, which: str) -> "Tensor":
    """torch.maximum / minimum: the larger (smaller) of each pair, NaN if either is NaN; at a tie
    each side gets half the gradient (as torch)."""
    from .factory import where
    if not isinstance(b, Tensor):
        raise InputTypeError(f"{which}: other must be a Tensor, got {type(b).__name__} (use "
                             f"clamp for a number)")
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":   # integers, bools: exact, no gradient
        x, y = _torch_int_arrays(a, b, a.array, b.array)
        op = getattr(a.device.xp, which)
        try:
            return Tensor._make(op(x, y) if x.ndim < 2 or x.flags.c_contiguous else _int_ufunc(op, x, y),
                                a.device)
        except ValueError:                    # NumPy's "could not be broadcast": torch's RuntimeError
            _refuse_unbroadcastable(which, (x, y))
            raise
    if a.dtype.kind != "f" or b.dtype.kind != "f":       # an integer beside a float: that float
        a, b = (t if t.dtype.kind == "f" else t.to((b if t is a else a).dtype) for t in (a, b))
    from .math_ops import Maximum, Minimum     # (NaN: NaN, the whole gradient to both sides)
    return (Maximum if which == "maximum" else Minimum).apply(a, b)


def _torch_dims(dim):
    """PyTorch reads an empty ``dim`` (``dim=()``) as every dim; NumPy's ``axis=()`` reduces none."""
    return None if isinstance(dim, (tuple, list)) and not dim else dim


def _axes(axis, ndim: int):
    if type(axis) is int and -ndim <= axis < ndim:   # the common case, one dim in range (ndim > 0)
        return (axis % ndim,)
    if axis is None:
        return None
    try:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    except TypeError:
        if isinstance(axis, Tensor) and _is_int(_int_of(axis)):
            return _axes(_int_of(axis), ndim)
        raise InputTypeError(f"axis must be an int or a tuple of ints, got {type(axis).__name__}") from None
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            if isinstance(a, Tensor) and _is_int(_int_of(a)):     # a one-element tensor, or one in a tuple
                return _axes(_int_of(axis) if isinstance(axis, Tensor) else tuple(map(_int_of, axes)), ndim)
            raise InputTypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise IndexOutOfRangeError(f"axis {a} is out of range for a tensor with {ndim} dims")
    axes = tuple(int(a) % max(ndim, 1) for a in axes)
    if len(set(axes)) != len(axes):
        raise ShapeError(f"axis {axis!r} names a dim twice")
    return axes if ndim else None    # a 0-d tensor: dim 0 / -1 is the whole tensor, as in torch


_LEGACY_NAMES = {float32: "tensorgan.FloatTensor", float64: "tensorgan.DoubleTensor",
                 float16: "tensorgan.HalfTensor", BOOL: "tensorgan.BoolTensor",
                 int64: "tensorgan.LongTensor", int32: "tensorgan.IntTensor",
                 int16: "tensorgan.ShortTensor", int8: "tensorgan.CharTensor",
                 uint8: "tensorgan.ByteTensor"}


def _legacy_args(args: tuple, size: Any, op: str) -> tuple:
    """torch's legacy-constructor arguments (``Tensor``, ``FloatTensor``, ..., ``x.new``) as
    ``(shape, None)`` or ``(None, data)``: sizes ``(2, 3)``, ``size=`` or a ``Size`` are a shape,
    nothing is the empty (0,) shape, one other argument is data -- a tuple too, as in torch
    (``Tensor((2, 3))`` is ``tensor([2., 3.])``; ``x.shape`` is a Size, so ``Tensor(x.shape)``
    is the shape)."""
    if size is not None:
        if args:
            raise InputTypeError(f"{op}: give the shape positionally or as size=, not both "
                                 f"(got {args!r} and size={size!r})")
        args = tuple(size) if isinstance(size, (tuple, list)) else (size,)
        if not args:
            return (), None
    if not args:
        return (0,), None
    if len(args) == 1:
        a = args[0]
        if isinstance(a, Size):
            args = tuple(a)
        elif not _is_int(a):
            if isinstance(a, (bool, float, complex, np.bool_, np.floating, np.complexfloating)):
                raise InputTypeError(f"{op}(data): data must be a sequence or an array, got "
                                     f"{type(a).__name__} {a!r} (a 0-d tensor: tg.tensor({a!r}))")
            return None, a
    if not all(_is_int(n) for n in args):
        raise InputTypeError(f"{op}: takes sizes (ints), a Size, or one sequence / array / tensor "
                             f"of data, got {args!r}")
    shape = tuple(int(n) for n in args)
    if any(n < 0 for n in shape):
        raise ShapeError(f"{op}: negative dimension in shape {shape}")
    if math.prod(shape) >= 1 << 60:       # NumPy's bare ValueError otherwise; torch's overflow error
        raise ValueOverflowError(f"{op}: storage size calculation overflowed with sizes={list(shape)}")
    return shape, None


class Size(tuple):
    """torch.Size: a tensor's shape as a tuple (``x.size()``); ``Tensor(size)`` / ``x.new(size)``
    read it as a shape. ``numel()`` is the element count."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"tensorgan.Size({list(self)!r})"

    # str() / f-strings print the plain tuple, so messages read "shape (2, 3)" (torch's str is
    # its repr; repr() and the REPL show tensorgan.Size([2, 3]) as torch shows torch.Size)
    __str__ = tuple.__repr__

    def __getitem__(self, key: Any) -> Any:
        item = tuple.__getitem__(self, key)
        return Size(item) if isinstance(key, slice) else item

    def __add__(self, other: Any) -> "Size":
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> "Size":
        return Size(tuple(other) + tuple(self))

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64)) if self else 1


class _Size(int):
    """``Tensor.size``: the element count, an ``int`` as NumPy has it, that called is PyTorch's
    ``size()``: ``x.size()`` the shape, ``x.size(dim)`` one dim (negative dims count from the end)."""

    def __new__(cls, count: int, shape: tuple) -> "_Size":
        obj = super().__new__(cls, count)
        obj.shape = tuple(shape)
        return obj

    def __getnewargs__(self) -> tuple:      # pickle and copy: rebuild with the shape
        return int(self), self.shape

    def __call__(self, dim: int | None = None) -> Any:
        if dim is None:
            return Size(self.shape)
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -len(self.shape) <= dim < len(self.shape):
            if isinstance(dim, Tensor) and _is_int(_int_of(dim)):
                return self(_int_of(dim))
            _non_int("size", "dim", (dim,))
            raise IndexOutOfRangeError(f"size: dim {dim!r} is out of range for shape {self.shape}")
        return self.shape[dim]


class ToDevice(Function):
    takes_half = True

    def forward(self, x, device):
        self.src = self.device
        self.dst = device
        return move_array(x, self.src, device)

    @classmethod
    def apply(cls, x: Tensor, device: Device) -> Tensor:
        out = super().apply(x, device)
        out.device = device  # the result lives on the target device
        return out

    def backward(self, grad):
        return move_array(grad, self.dst, self.src), None

    def grad_graph(self, grad):
        return ToDevice.apply(grad, self.src), None


class _BFloat16:
    """``tg.bfloat16``: a name torch code uses, refused wherever a dtype is read (NumPy has none)."""

    def __repr__(self) -> str:
        return "tensorgan.bfloat16"


bfloat16 = _BFloat16()


def _empty_like_order(xp: Any, out: Any, source: Any) -> Any:
    """The empty ``out`` with the strides of ``source``'s dims in its memory order (torch's
    ``zeros(0, 4).t().double()`` is (1, 4))."""
    if out.ndim < 2:
        return out
    from .memory_formats import relayout
    return relayout(xp, out, tuple(sorted(range(out.ndim), key=lambda d: -source.strides[d])))


def _cast_array(xp: Any, x: Any, dtype: Any) -> Any:
    """``x`` as ``dtype``, laid out as torch's cast: x's layout where it has no broadcast dim,
    an expand's C order (NumPy's 'K' sorts its zero strides outermost: (35, 70, 7, 1)), an empty
    array's dim order kept."""
    if x.size and (x.flags.c_contiguous or 0 not in x.strides):
        return x.astype(dtype)
    if not x.size:      # NumPy 2 gives a fresh empty array zero strides: torch keeps the order
        return _empty_like_order(xp, x.astype(dtype), x)
    return x.astype(dtype, order="C")


class Cast(Function):
    takes_half = True
    saves_nothing, reads_inputs = True, False   # the dtype only: a second backward works (torch)
    def forward(self, x, dtype):
        self.src_dtype = x.dtype
        return _cast_array(self.xp, x, dtype)

    def backward(self, grad):
        if grad.dtype.kind == "c" and self.src_dtype.kind != "c":   # real -> complex: the real
            grad = grad.real                                        # part (torch's engine too)
        return grad.astype(self.src_dtype), None

    def grad_graph(self, grad):
        if grad.dtype.kind == "c" and self.src_dtype.kind != "c":
            from .complex_ops import real_part
            grad = real_part(grad)
        return Cast.apply(grad, self.src_dtype), None


class _StandIn(Tensor):
    """What a hollowed node holds in place of an input (:func:`_hollow`): no memory, the
    input's node and version box, and ``original``, a weak reference to the input itself (None
    where it needs no gradient), which a later walk puts back (:func:`_restore`)."""
    __slots__ = ("original",)


def _to_format(t: "Tensor", memory_format: Any, op: str, strict: bool = False) -> "Tensor":
    """``t`` laid out in ``memory_format`` (itself when it already is; ``strict``, as torch's
    ``to``: also re-strides the dims of size 1 of an ambiguous layout, N1HW say)."""
    from . import memory_formats as mf
    fmt = mf.check(memory_format, op)
    if fmt is mf.preserve_format:
        if op == "contiguous":
            raise InputTypeError("contiguous: preserve_format is unsupported by the contiguous "
                                 "operator (as torch); give contiguous_format or channels_last")
        return t
    axes = mf.order(fmt, t.shape, op)
    if mf.has_format(t.array, fmt) and (not strict or axes is None or
                                        t.array.strides == mf.relayout_strides(t.array, axes)):
        return t
    if axes is None:
        return ops.Contiguous.apply(t)
    return ops.Relayout.apply(t, axes)


from . import ops  # noqa: E402  (ops subclasses Function, defined above)
from .math_ops import install_methods  # noqa: E402  (erf, prod, cumsum, exp_, ...: math_ops.py)
install_methods(Tensor)


def _alpha_needs_check(t: "Tensor", alpha: Any) -> bool:
    """Whether add / sub's ``alpha`` must go through :func:`_checked_alpha`: not for a float one
    on a float tensor, nor an int one on a non-bool tensor (``p.add_(g, alpha=-lr)``: no work)."""
    cls, kind = alpha.__class__, t.array.dtype.kind
    return not (cls is float and kind == "f" or cls is int and kind != "b")


_PLAIN_BOUNDS = (float, int, type(None))      # clamp_'s bounds that need no check on a float tensor


def _clamp_gradient_routes(x: "Tensor", low: "Tensor | None", high: "Tensor | None",
                           value: "Tensor") -> "Tensor":
    """``value`` (clamp's result, no graph) as a node with torch's clamp_backward masks: x gets
    the gradient where low <= x <= high, low where x < low (and low < high), high where x > high
    or high < low -- so a tie low == high leaves low none, and a NaN sends it nowhere."""
    from .ops import ClampTensors
    # (only the masks of inputs that take a gradient: a clamp by constant bounds compares twice)
    # (Tensor comparisons: a 0-d bound is cast to x's dtype first, as torch's)
    def wanted(t: "Tensor | None", mask: Any) -> Any:
        return mask().array if t is not None and t._requires_grad else None
    if low is None:
        masks = (wanted(x, lambda: x <= high), None, wanted(high, lambda: x > high))
    elif high is None:
        masks = (wanted(x, lambda: x >= low), wanted(low, lambda: x < low), None)
    else:
        masks = (wanted(x, lambda: (x >= low) & (x <= high)),
                 wanted(low, lambda: (x < low) & (low < high)),
                 wanted(high, lambda: (x > high) | (high < low)))
    return ClampTensors.apply(value, x, low, high, masks)


def _clamp_into(t: "Tensor", result: "Tensor") -> None:
    """clamp_'s check: the out-of-place result's dtype must cast to ``t``'s (a bool tensor with
    number bounds gives int64, an int one with float bounds float: refused in place, as torch)."""
    if _CATEGORY[result.array.dtype.kind] > _CATEGORY[t.array.dtype.kind]:   # (int64 -> int32: cast)
        raise DTypeError(f"clamp_: result type {result.dtype} can't be cast to the desired output "
                         f"type {t.dtype} (as torch): clamp out of place, or give bounds of the "
                         f"tensor's kind")


def _checked_alpha(op: str, t: "Tensor", other: Any, alpha: Any) -> Any:
    """add / sub's ``alpha`` (anything but the int 1), checked as torch's ``alpha_check`` on the
    result dtype: a bool alpha for bool results only, a float one not for integer or bool
    results; for a bool result, a nonzero alpha is True (``b.add(b, alpha=2)`` stays bool)."""
    if t.array.dtype.kind == "f" and isinstance(alpha, (np.floating, np.integer, np.bool_)):
        # a NumPy number on a float tensor (a NumPy lr schedule): a float result, nothing to
        # check (torch's parser reads a NumPy bool as the float it converts to)
        return float(alpha) if isinstance(alpha, np.bool_) else alpha
    from .dtypes import result_type
    if not isinstance(alpha, (int, float, np.integer, np.floating, np.bool_)):
        raise InputTypeError(f"{op}: alpha must be a number, got {type(alpha).__name__}")
    dt = result_type(t, other)
    if isinstance(alpha, (bool, np.bool_)):
        if dt != np.bool_:
            raise DTypeError(f"{op}: Boolean alpha only supported for Boolean results (alpha="
                             f"{alpha} for a {dt} result, as torch refuses): give a number")
        return alpha
    if dt.kind in "biu" and isinstance(alpha, (float, np.floating)):
        raise DTypeError(f"{op}: For integral input tensors, argument alpha must not be a floating "
                         f"point number (alpha={alpha} for a {dt} result, as torch refuses)")
    return bool(alpha) if dt == np.bool_ else alpha


def _legacy_alpha(op: str, alpha: Any, other: "Tensor") -> tuple:
    """torch's deprecated ``x.add_(Number alpha, Tensor other)`` overload (and add / sub / sub_):
    still accepted by torch 2.x, with a UserWarning; gives (other, alpha)."""
    if isinstance(alpha, Tensor) or isinstance(alpha, (bool, np.bool_)) or \
            not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise InputTypeError(f"Tensor.{op}: with a Tensor second argument the first must be the "
                             f"number alpha (the deprecated {op}(alpha, other) form), got "
                             f"{type(alpha).__name__}; use {op}(other, alpha=alpha)")
    _warn_deprecated_overload(op, "Number alpha, Tensor other", "Tensor other, *, Number alpha = 1")
    return other, alpha


_PACKAGE_DIR = __file__[:-len("tensor.py")]


def _warn_deprecated_overload(op: str, old: str, new: str) -> None:
    """torch's UserWarning for a deprecated positional overload (``add_(alpha, other)``,
    ``addcmul_(value, t1, t2)``, ...): a TORCH_WARN_ONCE whose one flag all of them share, so a
    program (an old optimizer's ``step`` run every iteration) hears it once; pointed at the
    caller's line outside this package, and named as called (``addcmul_`` for the in-place form,
    which reaches here through ``addcmul``)."""
    if _ONCE_WARNED.get("deprecated_overload"):
        return
    _ONCE_WARNED["deprecated_overload"] = True
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        if frame.f_code.co_name == "in_place" and frame.f_locals.get("method") == op:
            op += "_"
        frame, level = frame.f_back, level + 1
    warnings.warn(f"This overload of {op} is deprecated:\n\t{op}({old})\nConsider using one of the "
                  f"following signatures instead:\n\t{op}({new}) (as torch warns, once)",
                  UserWarning, stacklevel=level)
