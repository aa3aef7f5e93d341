"""Module backward hooks (``register_full_backward_hook`` / ``register_full_backward_pre_hook``):
torch's ``BackwardHook``, on tensorgan's one-output Functions.

torch wraps a module call's Tensor inputs, and then its Tensor outputs, in one multi-output
identity op each (``BackwardHookFunction``), so that one backward node sees the gradients of all
the outputs (of all the inputs) at once.  tensorgan's ops have one output, so that identity is
two kinds of node around a 0-d ``joint`` tensor::

    t_1 ... t_n  --_HookJoin-->  joint (0-d)  --BackwardHookFunction(i)-->  a view of t_i

The engine runs a node once, after every consumer of its output has given its gradient; so when
the join's backward runs, every split has recorded its output's gradient (a split passes a zero
on to ``joint``).  The join then calls the hooks with the whole tuple and returns one gradient
per ``t_i``.  The views share ``t_i``'s in-place version: an output written in place makes
backward refuse, as torch's views do.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

from ..errors import AutogradError, DTypeError, InputTypeError, ShapeError
from ..grad_mode import is_grad_enabled
from ..tensor import Function, Tensor, _caller_level, _share, next_node_seq


class _Slots:
    """One wrapping's state: the gradient recorded by each split, and what to do with them."""

    def __init__(self, values: tuple, positions: list, on_grads: Callable[[list], tuple]) -> None:
        self.values, self.positions, self.on_grads = values, positions, on_grads
        self.grads: list = [None] * len(positions)


class BackwardHookFunction(Function):
    """Split ``index`` of the identity: ``t_i``'s values (a view); its gradient is recorded for
    the join, and ``joint`` gets a zero.  Written in place, the view is refused (torch: a view
    made inside a custom Function)."""
    view_write_refused = ("it is the output of a module with backward hooks, a view made inside "
                          "BackwardHookFunction (as torch, refused): write a .clone() of it")

    def name(self) -> str:       # torch's node of a Python Function: no "0" suffix
        return "BackwardHookFunctionBackward"

    def backward(self, grad):
        self.slots.grads[self.index] = grad
        return (self.xp.zeros((), dtype=self.inputs[0].dtype),)

    def grad_graph(self, grad: Tensor) -> tuple:
        self.slots.grads[self.index] = grad
        return (Tensor._make(self.xp.zeros((), dtype=self.inputs[0].dtype), self.device),)


class _HookJoin(Function):
    """All the wrapped tensors -> ``joint``; its backward runs the hooks on the splits' gradients."""

    def backward(self, grad):
        return self._hooked(False)

    def grad_graph(self, grad: Tensor) -> tuple:
        return self._hooked(True)

    def _hooked(self, graph: bool) -> tuple:
        slots = self.slots
        grads, slots.grads = slots.grads, [None] * len(slots.grads)  # ready for a retained rerun
        full: list = [None] * len(slots.values)
        for position, tensor, g in zip(slots.positions, self.inputs, grads):
            full[position] = g if g is None or isinstance(g, Tensor) else Tensor._make(g, tensor.device)
        new = slots.on_grads(full)
        return tuple(_gradient(new[position], tensor, graph, position)
                     for position, tensor in zip(slots.positions, self.inputs))


def _gradient(value: Any, like: Tensor, graph: bool, position: int) -> Any:
    """A hook's gradient for ``like`` as the engine takes it: an array (a Tensor in graph mode)."""
    if value is None:
        return None
    if not isinstance(value, Tensor):
        raise InputTypeError(f"a module backward hook returned {type(value).__name__} at position "
                             f"{position}: a Tensor or None is expected")
    if value.shape != like.shape or value.dtype != like.dtype:
        error = ShapeError if value.shape != like.shape else DTypeError
        raise error(f"a module backward hook returned a gradient of shape {value.shape} "
                    f"({value.dtype}) at position {position}, for a tensor of shape {like.shape} "
                    f"({like.dtype})")
    return value if graph else value.array


def _node(fn: Function, inputs: tuple, out: Any, device: Any) -> Tensor:
    """A graph node made by hand (``Function.apply`` without its dtype / device checks: the
    wrapped tensors may mix them)."""
    fn.device, fn.inputs = device, inputs
    fn.needs_input_grad = tuple(t._requires_grad for t in inputs)
    fn.versions = tuple(t._version_box[0] for t in inputs)
    result = Tensor._make(out, device, True)
    fn.seq = next_node_seq()
    result._ctx = fn
    return result


def _wrap(values: tuple, on_grads: Callable[[list], tuple]) -> tuple[tuple, list | None]:
    """``values`` with each Tensor that requires grad replaced by its split of one identity
    node; also the positions wrapped (None when nothing requires grad, or in no_grad)."""
    positions = [i for i, v in enumerate(values) if isinstance(v, Tensor) and v._requires_grad]
    if not positions or not is_grad_enabled():
        return values, None
    tensors = tuple(values[i] for i in positions)
    first = tensors[0]
    join = _HookJoin()
    join.slots = _Slots(values, positions, on_grads)
    joint = _node(join, tensors, first.device.xp.zeros((), dtype=first.dtype), first.device)
    wrapped = list(values)
    for index, (position, t) in enumerate(zip(positions, tensors)):
        split = BackwardHookFunction()
        split.slots, split.index = join.slots, index
        view = _node(split, (joint,), t.array.view(), t.device)
        _share(t, view)   # writing the view is writing t
        wrapped[position] = view
    return tuple(wrapped), positions


class BackwardHook:
    """One module call's backward hooks: the inputs' and the outputs' identities, and the
    grad_output the output side hands to the input side (torch's ``BackwardHook``)."""

    def __init__(self, module: Any, hooks: list, pre_hooks: list) -> None:
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs: tuple | None = None
        self.n_inputs, self.args = 0, ()
        self.input_positions: list | None = None

    def setup_input_hook(self, args: tuple) -> tuple:
        self.n_inputs, self.args = len(args), args
        wrapped, self.input_positions = _wrap(args, self._input_grads)
        return wrapped

    def setup_output_hook(self, result: Any) -> Any:
        if not isinstance(result, (Tensor, tuple)):
            warnings.warn(f"For backward hooks to be called, module output should be a Tensor or "
                          f"a tuple of Tensors but received {type(result)}", stacklevel=_caller_level())
            return result
        outputs = result if isinstance(result, tuple) else (result,)
        wrapped, _ = _wrap(outputs, self._output_grads)
        return wrapped if isinstance(result, tuple) else wrapped[0]

    def _output_grads(self, grad_outputs: list) -> tuple:
        """The outputs' gradients (None for a non-Tensor output or one without a gradient):
        through the pre-hooks; the full hooks fire here when no input requires grad."""
        grad_outputs = tuple(grad_outputs)
        for hook in self.pre_hooks:
            new = hook(self.module, grad_outputs)
            if new is None:
                continue
            _check_count("pre hook", "grad_output", new, len(grad_outputs))
            grad_outputs = tuple(new)
        self.grad_outputs = grad_outputs
        if self.input_positions is None and self.hooks:
            warnings.warn("Full backward hook is firing when gradients are computed with respect "
                          "to module outputs since no inputs require gradients", stacklevel=_caller_level())
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                res = hook(self.module, grad_inputs, grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise AutogradError("Backward hook for Modules where no input requires "
                                         "gradient should always return None or None for all "
                                         "gradients.")
            self.grad_outputs = None
        return grad_outputs

    def _input_grads(self, grad_inputs: list) -> tuple:
        """The full hooks on the positional inputs' gradients (zeros for a Tensor input that got
        none, as torch's: it was in the identity; None for a non-Tensor argument)."""
        if self.grad_outputs is None:   # reached the inputs without passing the outputs
            return tuple(grad_inputs)
        res = tuple(Tensor._make(a.device.xp.zeros_like(a.array), a.device)
                    if g is None and isinstance(a, Tensor) else g for a, g in zip(self.args, grad_inputs))
        for hook in self.hooks:
            new = hook(self.module, res, self.grad_outputs)
            if new is None:
                continue
            _check_count("hook", "grad_input", new, len(res))
            res = tuple(new)
        self.grad_outputs = None
        return res


def _check_count(kind: str, what: str, new: Any, expected: int) -> None:
    if not isinstance(new, (tuple, list)) or len(new) != expected:
        got = len(new) if isinstance(new, (tuple, list)) else type(new).__name__
        raise AutogradError(f"Backward {kind} returned an invalid number of {what}, got {got}, "
                             f"but expected {expected}")
