"""torch's custom ``autograd.Function``: ``forward(ctx, ...)`` / ``backward(ctx, ...)`` on Tensors.

::

    class Exp(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)

``forward`` runs under ``no_grad`` on the caller's Tensors; ``backward`` gets one gradient per
output (zeros for an output that got none, unless ``ctx.set_materialize_grads(False)``) and
returns one per ``forward`` argument (None for non-Tensors).  ``backward`` is written with Tensor
ops and runs in grad mode under ``create_graph=True``, so it is differentiable again (double
backward) unless decorated with ``@once_differentiable``.  torch's newer form -- ``forward``
without ``ctx`` plus ``setup_context(ctx, inputs, output)`` -- works too.

The engine's ops have one output; a Function with several is the node ``_CustomNode`` (its
inputs -> a 0-d ``joint``) followed by one ``_OutputSplit`` per output (``joint`` -> output i),
the construction of ``nn/_backward_hooks.py``: the engine runs the node after every split has
recorded its output's gradient, so the user's ``backward`` sees them all at once.

A subclass whose ``forward`` is not a staticmethod is an engine op (``tensorgan.Function``:
``forward`` / ``backward`` on arrays, see ``tensor.py``), so ``tg.autograd.Function`` serves both.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from ..errors import AutogradError, DTypeError, InputTypeError, ShapeError
from ..grad_mode import is_grad_enabled, no_grad
from ..tensor import Function as _EngineFunction
from ..tensor import Tensor, _share, next_node_seq
from . import forward_ad as _forward_ad
from . import graph as _graph

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` of a custom Function: what ``forward`` leaves for ``backward`` (any attribute,
    plus the saved tensors), and which inputs need a gradient."""

    def __init__(self, needs_input_grad: tuple) -> None:
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self.to_save: tuple = ()
        self.non_differentiable: tuple = ()
        self._saved_versions: tuple = ()
        self._released = False
        self._packed: tuple | None = None    # saved_tensors_hooks' packed objects

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep Tensors (or None) for backward; an in-place change to one before backward makes
        backward refuse, as torch."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise InputTypeError(f"save_for_backward: argument {i} is {type(t).__name__}; only "
                                     f"Tensors or None can be saved (keep others on ctx directly)")
        self.to_save = tensors
        self._saved_versions = tuple(None if t is None else t._version_box[0] for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        if self._released:
            raise AutogradError("saved_tensors: the graph was already freed (backward ran); call "
                                 "backward(retain_graph=True) the first time to backward twice")
        if self._packed is not None:      # saved through saved_tensors_hooks: no version check
            return _graph._unpack(self._packed)
        for t, version in zip(self.to_save, self._saved_versions):
            if t is not None and t._version_box[0] != version:
                raise AutogradError(f"saved_tensors: a tensor of shape {t.shape} saved for "
                                     f"backward was modified in place after it was saved")
        return self.to_save

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """These outputs get no gradient (indices, masks); their backward gradient is zeros."""
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """False: backward receives None (not zeros) for an output that got no gradient."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Inputs ``forward`` modified in place: their version moves on, so a graph that used them
        before refuses backward (torch also rebases them; tensorgan does not)."""
        for t in tensors:
            t._bump_version()


def _is_ctx_style(cls: type) -> bool:
    """torch's form: ``forward`` a staticmethod (the engine's ops define an instance method)."""
    return isinstance(inspect.getattr_static(cls, "forward", None), staticmethod)


def _has_setup_context(cls: type) -> bool:
    return inspect.getattr_static(cls, "setup_context", None) is not \
        inspect.getattr_static(Function, "setup_context")


class Function(_EngineFunction):
    """torch's ``torch.autograd.Function`` (staticmethods ``forward(ctx, *args)`` and
    ``backward(ctx, *grad_outputs)``, used through ``apply``); an engine op otherwise."""

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: Any) -> None:
        """torch's newer form: ``forward(*args)`` without ctx, then this fills ctx."""
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # torch's old style, ``GradReverse(lambd)(x)`` with instance methods (DANN-era code)
        raise AutogradError("Legacy autograd function with non-static forward method is "
                            "deprecated (refused, as torch): make forward/backward staticmethods "
                            "taking ctx and call Function.apply(...)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` and, when some Tensor argument requires grad (and grad mode is on),
        record the call so that backward calls ``cls.backward``."""
        if not _is_ctx_style(cls):
            return super().apply(*args, **kwargs)
        if kwargs or _has_setup_context(cls):     # torch binds forward's defaults for setup_context
            args = _bind(cls, args, kwargs)
        requires = is_grad_enabled() and any(isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx = FunctionCtx(tuple(requires and isinstance(a, Tensor) and a._requires_grad for a in args))
        with no_grad():
            if _has_setup_context(cls):
                output = cls.forward(*args)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args)
        _check_outputs(cls, output)
        if _forward_ad._levels and "jvp" in _overridden(cls):     # forward-mode AD (dual tensors)
            dual = _forward_ad._function_jvp(cls, ctx, args, output)
            if dual is not None:
                return dual
        if not requires:
            return output
        return _record(cls, ctx, args, output)


def _overridden(cls: type) -> set:
    """The staticmethods a Function subclass defines itself (jvp, vmap, ...)."""
    return {name for klass in cls.__mro__ if klass is not Function and issubclass(klass, Function)
            for name in vars(klass)}


def _bind(cls: type, args: tuple, kwargs: dict) -> tuple:
    """Keyword arguments of ``apply`` (and ``forward``'s defaults) as positional ones."""
    lead = () if _has_setup_context(cls) else (None,)            # ctx's place
    bound = inspect.signature(cls.forward).bind(*lead, *args, **kwargs)
    bound.apply_defaults()
    return bound.args[len(lead):]


def _check_outputs(cls: type, output: Any) -> None:
    outs = output if isinstance(output, tuple) else (output,)
    if not any(isinstance(o, Tensor) for o in outs):
        raise InputTypeError(f"{cls.__name__}.forward returned {type(output).__name__}: a custom "
                             f"Function returns a Tensor or a tuple with Tensors")


def _record(cls: type, ctx: FunctionCtx, args: tuple, output: Any) -> Any:
    """The outputs, as new Tensors whose gradient goes through ``cls.backward``."""
    outs = output if isinstance(output, tuple) else (output,)
    device = next(a.device for a in args if isinstance(a, Tensor) and a._requires_grad)
    skip = {id(t) for t in ctx.non_differentiable}
    slots = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and id(o) not in skip
             and o.dtype.kind in "fc"]
    node = _CustomNode()
    node.cls, node.ctx, node.outs = cls, ctx, outs
    node.grads = [None] * len(outs)
    node.device, node.inputs, node.needs_input_grad = device, args, ctx.needs_input_grad
    node.versions = (None,) * len(args)      # torch checks the saved tensors only (saved_tensors)
    wrapped = list(outs)
    if len(slots) == 1 and len(outs) == 1:   # the common case: the node is the output
        wrapped[0] = _attach(node, outs[0])
        node.single = True
    else:
        node.single = False
        joint = Tensor._make(device.xp.zeros((), dtype=outs[slots[0]].dtype), device, True) \
            if slots else None
        if joint is not None:
            node.seq = next_node_seq()
            joint._ctx = node
        for i in slots:
            split = _OutputSplit()
            split.node, split.index, split.device = node, i, device
            split.inputs, split.needs_input_grad, split.versions = (joint,), (True,), (None,)
            wrapped[i] = _attach(split, outs[i])
    ctx.to_save = tuple(_replace(t, outs, wrapped) for t in ctx.to_save)
    if _graph._stack:      # torch.autograd.graph.saved_tensors_hooks: the graph keeps the packed
        ctx._packed = _graph._pack(ctx.to_save)
        ctx.to_save = ()
    return tuple(wrapped) if isinstance(output, tuple) else wrapped[0]


def _attach(fn: _EngineFunction, out: Tensor) -> Tensor:
    """A new Tensor on ``out``'s array with ``fn`` as its context (an input returned as it is
    becomes a view of it, sharing its in-place version)."""
    result = Tensor._make(out.array, out.device, True)
    _share(out, result)
    fn.seq = next_node_seq()
    result._ctx = fn
    return result


def _replace(t: Any, outs: tuple, wrapped: list) -> Any:
    """A saved output is the recorded one (its gradient flows in double backward)."""
    for o, w in zip(outs, wrapped):
        if t is o:
            return w
    return t


class _OutputSplit(_EngineFunction):
    """Output ``index`` of a custom Function: records its gradient for the node; ``joint`` gets 0."""

    runs_ungraded = True     # the engine runs it with no gradient too (the node then sees zeros)

    def name(self) -> str:           # torch: each output's grad_fn is the Function's own node
        return self.__dict__.get("shown_name") or self.node.name()   # (shown_name: see _CustomNode)

    def __repr__(self) -> str:
        shown = self.__dict__.get("shown_name")
        return f"<{shown} object at {id(self):#x}>" if shown else repr(self.node)

    def release(self) -> None:       # the name (the node) outlives backward, as torch's
        node, shown = self.node, self.__dict__.get("shown_name")
        super().release()
        self.node = node
        if shown:
            self.shown_name = shown

    def backward(self, grad):
        self.node.grads[self.index] = grad
        return (self.xp.zeros((), dtype=self.inputs[0].dtype),)

    def grad_graph(self, grad: Tensor) -> tuple:
        self.node.grads[self.index] = grad
        return (Tensor._make(self.xp.zeros((), dtype=self.inputs[0].dtype), self.device),)


class _CustomNode(_EngineFunction):
    """A custom Function's call in the graph: its backward calls the user's ``backward``."""

    runs_ungraded = True     # called, as torch's, when no gradient came: zeros (or None) for it

    def __repr__(self) -> str:
        shown = self.__dict__.get("shown_name")
        return f"<{shown} object at {id(self):#x}>" if shown else \
            f"<tensorgan.autograd.function.{self.anomaly_name} object at {id(self):#x}>"

    def name(self) -> str:
        # shown_name: the name torch's graph has there when a Function stands for a block of
        # ops torch keeps (checkpoint(use_reentrant=False): the block's last node, MulBackward0)
        return self.__dict__.get("shown_name") or self.anomaly_name

    @property
    def anomaly_name(self) -> str:
        """torch's name of the node: ``<Function class>Backward``."""
        cls = self.__dict__.get("cls")
        return f"{cls.__name__}Backward" if cls is not None else "CustomFunctionBackward"

    def backward(self, grad):
        return self._user_backward(grad, False)

    def grad_graph(self, grad: Tensor) -> tuple:
        return self._user_backward(grad, True)

    def _user_backward(self, grad: Any, graph: bool) -> tuple:
        if self.single:
            self.grads[0] = grad
        grads, self.grads = self.grads, [None] * len(self.outs)   # ready for a retained rerun
        ctx = self.ctx
        given = tuple(_grad_tensor(g, o, ctx.materialize_grads, self.device)
                      for g, o in zip(grads, self.outs))
        result = self.cls.backward(ctx, *given)
        grads = _per_input(self.cls, result, self.inputs, graph)
        return grads if graph else _unshared(grads, (*self.inputs, *self.outs, *_held_by(ctx)))

    def release(self) -> None:
        self.ctx._released = True
        self.ctx._packed, self.ctx.to_save = None, ()    # packed objects go now, as torch's
        cls, shown = self.cls, self.__dict__.get("shown_name")
        super().release()
        self.cls = cls                  # the node's name (``<cls>Backward``) outlives backward
        if shown:
            self.shown_name = shown


def _grad_tensor(g: Any, out: Any, materialize: bool, device: Any) -> Any:
    if g is None:
        if not isinstance(out, Tensor) or not materialize:
            return None
        return Tensor._make(device.xp.zeros_like(out.array), device)
    return g if isinstance(g, Tensor) else Tensor._make(g, device)


def _per_input(cls: type, result: Any, inputs: tuple, graph: bool) -> tuple:
    """The user's gradients checked (one per forward argument, each of its input's shape) and
    given to the engine as arrays (Tensors in graph mode)."""
    result = result if isinstance(result, tuple) else (result,)
    if len(result) != len(inputs):
        if len(result) > len(inputs) and all(r is None for r in result[len(inputs):]):
            result = result[:len(inputs)]          # torch allows extra Nones
        else:
            raise AutogradError(f"{cls.__name__}.backward returned {len(result)} gradient(s) for "
                                 f"{len(inputs)} forward argument(s): one per argument (None for "
                                 f"the ones without a gradient)")
    out = []
    for i, (g, inp) in enumerate(zip(result, inputs)):
        if g is not None and not isinstance(inp, Tensor):    # torch: a slip in the order, refused
            raise AutogradError(f"function {cls.__name__}Backward returned a gradient different "
                                f"than None at position {i + 1}, but the corresponding forward "
                                f"input was not a Tensor ({type(inp).__name__})")
        if g is None or not isinstance(inp, Tensor) or not inp._requires_grad:
            out.append(None)
            continue
        if not isinstance(g, Tensor):
            raise InputTypeError(f"{cls.__name__}.backward: gradient {i} is {type(g).__name__}, "
                                 f"expected a Tensor or None")
        if g.shape != inp.shape:
            if g.numel() != inp.numel():
                raise ShapeError(f"{cls.__name__}.backward: gradient {i} has shape {g.shape}, its "
                                 f"input {inp.shape}")
            g = g.reshape(*inp.shape)              # torch accepts a gradient of the same size
        if g.dtype != inp.dtype:
            if g.dtype.kind not in "fc" or (g.dtype.kind == "c" and inp.dtype.kind != "c"):
                raise DTypeError(f"{cls.__name__}.backward: gradient {i} is {g.dtype}, its input "
                                 f"{inp.dtype}")
            g = g.to(inp.dtype)
        out.append(g if graph else g.array)
    return tuple(out)


def _owner(array: Any) -> Any:
    return array if array.base is None else array.base


def _held_by(ctx: FunctionCtx) -> list:
    """The tensors ``ctx`` holds: saved ones and attributes (``ctx.k = y * 2``), also inside a
    tuple / list attribute -- a backward may return any of them as a gradient."""
    held = []
    for value in vars(ctx).values():
        if isinstance(value, Tensor):
            held.append(value)
        elif isinstance(value, (tuple, list)):
            held.extend(v for v in value if isinstance(v, Tensor))
    return held


def _unshared(grads: tuple, kept: tuple) -> tuple:
    """A gradient that is the memory of a tensor the Function holds (``return
    ctx.saved_tensors[0]``) is copied: a leaf's ``.grad`` keeps the engine's array, and zeroing
    or clipping it in place must not write that tensor (torch's AccumulateGrad copies it too)."""
    owners = {id(_owner(t.array)) for t in kept if isinstance(t, Tensor)}
    return tuple(g.copy() if g is not None and id(_owner(g)) in owners else g for g in grads)


def once_differentiable(backward: Callable) -> Callable:
    """A ``backward`` that is not itself differentiable (written on arrays, say): it runs under
    ``no_grad``, and a double backward through its gradients raises, as torch."""
    @functools.wraps(backward)
    def wrapper(ctx: Any, *grads: Any) -> Any:
        with no_grad():
            result = backward(ctx, *grads)
        needing = tuple(g for g in grads if isinstance(g, Tensor) and g._requires_grad)
        if not is_grad_enabled() or not needing:
            return result
        single = not isinstance(result, tuple)
        wrapped = tuple(_refusing(r, needing) for r in ((result,) if single else result))
        return wrapped[0] if single else wrapped

    return wrapper


class _OnceDifferentiable(_EngineFunction):
    def backward(self, grad):
        raise AutogradError("trying to differentiate twice a function that was marked with "
                             "@once_differentiable")

    grad_graph = backward


def _refusing(value: Any, needing: tuple) -> Any:
    """``value`` attached to the graph of the gradients it came from by a node that refuses."""
    if not isinstance(value, Tensor) or value.dtype.kind != "f":
        return value
    fn = _OnceDifferentiable()
    fn.device, fn.inputs = value.device, needing
    fn.needs_input_grad, fn.versions = (True,) * len(needing), (None,) * len(needing)
    result = Tensor._make(value.array, value.device, True)
    fn.seq = next_node_seq()
    result._ctx = fn
    return result
