"""``torch.utils.checkpoint``: activation checkpointing (trade compute for memory).

``checkpoint(block, x)`` runs ``block`` and keeps none of its intermediate activations: the graph
holds only the block's inputs (and the parameters it used); backward runs ``block`` again with
gradients on -- under the random-number state the first run had, so dropout draws the same mask
-- and differentiates that.  The gradients equal the un-checkpointed run's.

It behaves as torch's non-reentrant variant (``use_reentrant=False``, torch's recommendation)
whichever ``use_reentrant`` is passed: ``tg.autograd.grad`` and ``create_graph=True`` (a gradient
penalty through a checkpointed discriminator) work, and parameters get gradients even when no
input requires grad.  Only that last point differs with ``use_reentrant=True`` (or None, torch's
default, with its warning): as torch, the output then does not require grad when no input does,
with torch's warning.

How: the first run happens with gradients on (so the parameters the block used are found by
walking its graph) on detached copies of the inputs, and its graph is dropped at once, so at
most one block's activations are alive at a time.  A tensor the block takes from outside that
requires grad -- a parameter, or an earlier activation it closes over rather than takes as an
argument -- is found on that walk too (its node is older than the call: graph nodes are
numbered as they are recorded) and becomes an input of the checkpoint's node, so gradients
reach it and the graph behind it is left to the outer backward, as torch's non-reentrant
variant does.
"""
from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Iterable

from ..autograd.function import Function
from ..errors import ActivationCheckpointError as CheckpointError
from ..errors import ConfigError, InputTypeError, ShapeError
from ..grad_mode import enable_grad, is_grad_enabled, no_grad
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor, _caller_level, next_node_seq

__all__ = ["CheckpointError", "CheckpointPolicy", "SelectiveCheckpointContext", "check_backward_validity",
           "checkpoint", "checkpoint_sequential", "create_selective_checkpoint_contexts", "detach_variable",
           "get_device_states", "noop_context_fn", "set_checkpoint_debug_enabled", "set_checkpoint_early_stop",
           "set_device_states"]

_OWN_KWARGS = ("preserve_rng_state",)


def noop_context_fn() -> tuple:
    """torch's default ``context_fn``: two do-nothing context managers."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def _detached(args: tuple) -> list:
    return [a.detach().requires_grad_(a._requires_grad) if isinstance(a, Tensor) else a for a in args]


def _leaves(outputs: list, stop: set, start: int) -> list:
    """The tensors the block used from outside that require grad, reachable from ``outputs``:
    leaves (the parameters, ...) and tensors whose node was recorded before the block ran (node
    number below ``start``: an earlier activation the block closes over), the tensors whose ids
    are in ``stop`` (the block's input copies) excluded.  These are the checkpoint node's inputs
    beside the arguments, so the outer graph carries on from them."""
    found, seen = [], set(stop)
    stack = [t for t in outputs if t._requires_grad]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        ctx = t._ctx
        if ctx is None or ctx.released or ctx.seq < start:
            found.append(t)
            continue
        stack.extend(p for p in ctx.inputs if isinstance(p, Tensor) and p._requires_grad)
    return found


class CheckpointFunction(Function):
    """The graph node: inputs = the block's tensor arguments + the leaves it used."""

    @staticmethod
    def forward(ctx: Any, run: "_Run", *tensors: Tensor) -> Any:
        ctx.run = run
        ctx.set_materialize_grads(False)
        outs = run.outputs
        return tuple(outs) if run.multiple else outs[0]

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> tuple:
        return (None,) + ctx.run.backward(grad_outputs)


class _Run:
    """One checkpointed call: what backward needs to run it again."""

    def __init__(self, function: Callable, args: tuple, kwargs: dict, rng_state: Any,
                 context_fn: Callable) -> None:
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng_state, self.context_fn = rng_state, context_fn
        self.leaves: list = []
        self.outputs: list = []
        self.shapes: list = []
        self.multiple = False
        self.kind: type = tuple

    def backward(self, grad_outputs: tuple) -> tuple:
        from ..autograd import grad as autograd_grad
        graph = is_grad_enabled()          # the engine runs backward in grad mode iff create_graph
        positions = [i for i, a in enumerate(self.args) if isinstance(a, Tensor)]
        if graph:
            # aliases of the inputs, cut from the graph while differentiating (so the walk stops
            # there) and joined again after, so the gradient's own graph reaches the real inputs
            with enable_grad():
                args = [a.view_as(a) if isinstance(a, Tensor) and a._requires_grad else a
                        for a in self.args]
        else:
            args = _detached(self.args)
        cut = {i: args[i]._ctx for i in positions if args[i]._ctx is not None}
        for i in cut:
            args[i]._ctx = None
        # the earlier activations the block closes over are boundaries too: cut from their
        # graph while differentiating, so the walk neither goes on into the outer graph (a
        # parameter used both before and inside the block got that path's gradient twice, and
        # the outer graph was freed) -- the outer backward carries on from them
        bounds = [(t, t._ctx) for t in self.leaves if t._ctx is not None]
        for t, _ in bounds:
            t._ctx = None
        try:
            current = get_rng_state() if self.rng_state is not None else None
            try:
                if self.rng_state is not None:
                    set_rng_state(self.rng_state)
                with enable_grad(), self.context_fn()[1]:
                    result = self.function(*args, **self.kwargs)
            finally:
                if current is not None:
                    set_rng_state(current)
            outs = _flatten(result)
            shapes = [tuple(o.shape) if isinstance(o, Tensor) else None for o in outs]
            if shapes != self.shapes:
                raise CheckpointError(f"checkpoint: the recomputation in backward gave outputs of shapes "
                                 f"{shapes}, the first run {self.shapes} (the block must compute "
                                 f"the same thing twice)")
            roots, seeds = [], []
            for o, g in zip(outs, grad_outputs):
                if isinstance(o, Tensor) and o._requires_grad and g is not None:
                    roots.append(o)
                    seeds.append(g)
            wanted = [args[i] for i in positions if args[i]._requires_grad] + self.leaves
            grads = autograd_grad(roots, wanted, seeds, create_graph=graph, allow_unused=True) \
                if roots and wanted else (None,) * len(wanted)
        finally:
            for i, ctx in cut.items():
                args[i]._ctx = ctx
            for t, ctx in bounds:
                t._ctx = ctx
        it = iter(grads)
        per_input = [next(it) if args[i]._requires_grad else None for i in positions]
        return tuple(per_input) + tuple(it)


def _node_name(out: Any) -> "str | None":
    """The name of ``out``'s node in the block's first run (None: no node)."""
    node = out.grad_fn if isinstance(out, Tensor) else None
    return node.name() if node is not None else None


def _flatten(result: Any) -> list:
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return list(result)
    raise InputTypeError(f"checkpoint: the function returned {type(result).__name__}; a "
                         f"checkpointed function returns a Tensor or a tuple / list of them")


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable = noop_context_fn, determinism_check: str = "default",
               debug: bool = False, early_stop: bool = True, **kwargs: Any) -> Any:
    """``torch.utils.checkpoint.checkpoint(function, *args, use_reentrant=None,
    preserve_rng_state=True, context_fn=..., **kwargs)``: ``function(*args, **kwargs)`` whose
    activations are recomputed in backward instead of kept (see the module's docstring).
    ``preserve_rng_state=False`` lets the recomputation draw fresh random numbers, as torch."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly. use_reentrant=False is recommended (tensorgan runs that variant "
                      "either way; with use_reentrant=True, or unset, the output does not require "
                      "grad when no input does, as torch).", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if use_reentrant and kwargs:
        raise ConfigError(f"checkpoint: unexpected keyword arguments: {','.join(kwargs)} "
                             f"(use_reentrant=True passes none to the function)")
    if determinism_check not in ("default", "none"):
        raise ConfigError(f"checkpoint: determinism_check must be 'default' or 'none', got "
                             f"{determinism_check!r}")
    if not callable(function):
        raise InputTypeError(f"checkpoint: function must be callable, got {type(function).__name__}")
    if use_reentrant and context_fn is not noop_context_fn:
        raise ConfigError("checkpoint: passing context_fn is only supported when "
                             "use_reentrant=False.")
    if not is_grad_enabled():
        return function(*args, **kwargs)
    if use_reentrant and not any(isinstance(a, Tensor) and a._requires_grad for a in args):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=_caller_level())
        with no_grad():
            return function(*args, **kwargs)
    run = _Run(function, args, kwargs, get_rng_state() if preserve else None,
               context_fn)
    copies = _detached(args)
    start = next_node_seq()
    with context_fn()[0]:
        result = function(*copies, **kwargs)
    outs = _flatten(result)
    run.multiple, run.kind = not isinstance(result, Tensor), type(result)
    run.shapes = [tuple(o.shape) if isinstance(o, Tensor) else None for o in outs]
    run.leaves = _leaves([o for o in outs if isinstance(o, Tensor)],
                         {id(c) for c in copies if isinstance(c, Tensor)}, start)
    run.outputs = [o.detach() if isinstance(o, Tensor) else o for o in outs]
    names = None if use_reentrant else [_node_name(o) for o in outs]
    del result, outs, copies            # the first run's graph goes here
    tensors = [a for a in args if isinstance(a, Tensor)]
    if not any(t._requires_grad for t in tensors) and not run.leaves:
        out = run.outputs
        return out[0] if not run.multiple else run.kind(out)
    out = CheckpointFunction.apply(run, *tensors, *run.leaves)
    if names is not None:               # torch's non-reentrant outputs keep the block's nodes
        for o, name in zip(out if isinstance(out, tuple) else (out,), names):
            if name and isinstance(o, Tensor) and o.grad_fn is not None:
                o.grad_fn.shown_name = name
    if run.multiple:
        return run.kind(out) if isinstance(out, tuple) else run.kind((out,))
    return out


def checkpoint_sequential(functions: Any, segments: int, input: Tensor,
                          use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """``torch.utils.checkpoint.checkpoint_sequential(functions, segments, input,
    use_reentrant=None, preserve_rng_state=True)``: ``functions`` (an ``nn.Sequential`` or a list
    of modules / functions) split into ``segments`` runs of equal length; every one but the last
    is checkpointed, the last runs as usual."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter "
                      "should be passed explicitly. use_reentrant=False is recommended.",
                      stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ConfigError(f"checkpoint_sequential: unexpected keyword arguments: "
                             f"{','.join(kwargs)}")
    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    elif isinstance(functions, Iterable):
        functions = list(functions)
    else:
        raise InputTypeError(f"checkpoint_sequential: functions must be an nn.Sequential or a list, "
                             f"got {type(functions).__name__}")
    if isinstance(segments, bool) or not isinstance(segments, int) or segments < 1:
        raise InputTypeError(f"checkpoint_sequential: segments must be a positive int, got {segments!r}")

    def run_function(start: int, end: int) -> Callable:
        def forward(x: Any) -> Any:
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1)(input)


def check_backward_validity(inputs: Iterable[Any]) -> None:
    """Warn (as torch) when no Tensor among ``inputs`` requires grad."""
    if not any(isinstance(a, Tensor) and a.requires_grad for a in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


def detach_variable(inputs: tuple) -> tuple:
    """The tuple ``inputs`` with each Tensor detached, keeping its requires_grad (others as they are)."""
    if not isinstance(inputs, tuple):
        raise InputTypeError("Only tuple of tensors is supported. Got Unsupported input type: "
                             f"{type(inputs).__name__}")
    return tuple(_detached(inputs))


def _device_tensors(tree: Any) -> list:
    if isinstance(tree, Tensor):
        return [tree]
    if isinstance(tree, (list, tuple)):
        return [t for item in tree for t in _device_tensors(item)]
    if isinstance(tree, dict):
        return [t for item in tree.values() for t in _device_tensors(item)]
    return []


def get_device_states(*args: Any) -> tuple:
    """(device ids, RNG states) for the accelerator Tensors in ``args`` (CPU ones count for
    nothing), as torch's checkpoint saves before running a block."""
    ids = [t.get_device() for t in _device_tensors(args) if t.device.type not in ("cpu", "meta")]
    if not ids:
        return [], []
    from .. import cuda
    return ids, [cuda.get_rng_state(i) for i in ids]


def set_device_states(devices: Any, states: Any, *, device_type: str | None = None) -> None:
    """Put back the RNG states ``get_device_states`` returned."""
    if device_type == "meta":
        return
    from .. import cuda
    for device, state in zip(devices, states):
        cuda.set_rng_state(state, device)


_flags = {"early_stop": True, "debug": None}


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool) -> Any:
    """Context manager: whether recomputation may stop once it has recomputed what backward
    needs (torch's optimisation). tensorgan always recomputes the whole block, so the flag is
    only recorded; gradients are the same either way."""
    prev, _flags["early_stop"] = _flags["early_stop"], bool(enable)
    try:
        yield
    finally:
        _flags["early_stop"] = prev


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None) -> Any:
    """Context manager overriding checkpoint's ``debug`` flag (recorded: tensorgan's
    recomputation-mismatch errors already name the shapes)."""
    prev, _flags["debug"] = _flags["debug"], enabled
    try:
        yield
    finally:
        _flags["debug"] = prev


import enum  # noqa: E402


class CheckpointPolicy(enum.Enum):
    """What selective checkpointing does with an op's output (torch's names)."""
    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


class SelectiveCheckpointContext:
    """What a policy function gets as its first argument: ``is_recompute``."""

    def __init__(self, *, is_recompute: bool) -> None:
        self.is_recompute = is_recompute


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def create_selective_checkpoint_contexts(policy_fn_or_list: Any, allow_cache_entry_mutation: bool = False) -> tuple:
    """The (forward, recompute) context pair for ``checkpoint(..., context_fn=...)`` with a
    policy saying which ops' outputs to keep (torch's selective activation checkpointing).
    tensorgan's checkpoint keeps no activation of the block and recomputes it all in backward,
    which every policy allows (saving is an optimisation), so the policy is checked and the
    contexts do nothing: gradients equal the policy's."""
    if isinstance(policy_fn_or_list, (list, tuple)):
        pass
    elif not callable(policy_fn_or_list):
        raise InputTypeError("policy_fn_or_list must be either a function or a list of ops, got "
                             f"{type(policy_fn_or_list).__name__}")
    return _NullContext(), _NullContext()
