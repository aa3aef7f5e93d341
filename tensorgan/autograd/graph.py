"""``torch.autograd.graph``: the graph nodes' type ``Node``, and hooks on the tensors a custom
Function saves for backward.

``saved_tensors_hooks(pack_hook, unpack_hook)``: inside the context, every tensor a custom
``autograd.Function`` saves with ``ctx.save_for_backward`` is handed to ``pack_hook`` when the call
is recorded, and the graph keeps what it returns (any Python object); each access to
``ctx.saved_tensors`` gives ``unpack_hook(packed)``, which must return a Tensor. ``save_on_cpu``
is the pair that keeps them on the host. Contexts nest (the innermost pair applies);
``disable_saved_tensors_hooks(message)`` makes entering one raise ``message``.

tensorgan's built-in ops keep what their backward needs as arrays inside the op, not as saved
Tensors, so these hooks see the tensors of custom Functions only (torch also calls them for its
built-in ops); gradients are the same either way when ``unpack_hook(pack_hook(t))`` equals ``t``.
"""
from __future__ import annotations

import abc
from typing import Any, Callable, NamedTuple, Sequence

from ..errors import AutogradError, ConfigError, InputTypeError
from ..tensor import AccumulateGrad, Function, Tensor

__all__ = ["GradientEdge", "Node", "allow_mutation_on_saved_tensors", "disable_saved_tensors_hooks",
           "get_gradient_edge", "increment_version", "register_multi_grad_hook", "save_on_cpu",
           "saved_tensors_hooks"]


class Node(abc.ABC):
    """torch's ``torch.autograd.graph.Node``: the type of every graph node -- a ``grad_fn``
    (an op's :class:`~tensorgan.Function`) and a leaf's ``AccumulateGrad`` -- for ``isinstance``
    checks and annotations.  Nodes have ``name()``, ``next_functions``, ``register_hook`` and
    ``register_prehook``."""


Node.register(Function)
Node.register(AccumulateGrad)

_stack: list = []               # the active (pack, unpack) pairs, innermost last
_disabled: list = []            # the messages of the active disable_saved_tensors_hooks


class saved_tensors_hooks:
    """Context manager: ``pack_hook(tensor) -> object`` when a tensor is saved for backward,
    ``unpack_hook(object) -> Tensor`` each time backward reads it."""

    def __init__(self, pack_hook: Callable[[Tensor], Any], unpack_hook: Callable[[Any], Tensor]) -> None:
        for name, hook in (("pack_hook", pack_hook), ("unpack_hook", unpack_hook)):
            if not callable(hook):
                raise InputTypeError(f"saved_tensors_hooks: {name} must be callable, got "
                                     f"{type(hook).__name__}")
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> "saved_tensors_hooks":
        if _disabled:
            raise AutogradError(_disabled[-1])
        _stack.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc: Any) -> None:
        _stack.pop()


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the host and moved back to their device when backward reads
    them (on the CPU they stay as they are). ``pin_memory`` is accepted (no pinned memory
    here)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(t: Tensor) -> Any:
            return (t.device, t.cpu())

        def unpack(packed: Any) -> Tensor:
            device, t = packed
            return t.to(device)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Context manager: entering a saved_tensors_hooks inside raises ``error_message``."""

    def __init__(self, error_message: str) -> None:
        self.error_message = str(error_message)

    def __enter__(self) -> "disable_saved_tensors_hooks":
        if _stack:
            raise AutogradError(self.error_message)
        _disabled.append(self.error_message)
        return self

    def __exit__(self, *exc: Any) -> None:
        _disabled.pop()


def _pack(tensors: tuple) -> "tuple | None":
    """The saved tensors through the innermost pack hook (None: no hooks active)."""
    if not _stack:
        return None
    pack, unpack = _stack[-1]
    return tuple(None if t is None else (unpack, pack(t)) for t in tensors)


def _unpack(packed: tuple) -> tuple:
    out = []
    for i, p in enumerate(packed):
        if p is None:
            out.append(None)
            continue
        t = p[0](p[1])
        if not isinstance(t, Tensor):
            raise InputTypeError(f"saved_tensors_hooks: unpack_hook returned "
                                 f"{type(t).__name__} for saved tensor {i}; it must return a "
                                 f"Tensor")
        out.append(t)
    return tuple(out)


def increment_version(tensor: Any) -> None:
    """torch.autograd.graph.increment_version: record an in-place write autograd did not see
    (a kernel writing the memory directly) on a Tensor or each of an iterable of Tensors -- its
    in-place version goes up by one, so an op that saved it refuses backward, as torch's."""
    tensors = [tensor] if isinstance(tensor, Tensor) else list(tensor) \
        if hasattr(tensor, "__iter__") and not isinstance(tensor, (str, bytes)) else None
    if tensors is None or not all(isinstance(t, Tensor) for t in tensors):
        raise InputTypeError(f"increment_version takes a Tensor or an iterable of Tensors, got "
                             f"{type(tensor).__name__}")
    for t in tensors:
        t._version_box[0] += 1


class GradientEdge(NamedTuple):
    """torch.autograd.graph.GradientEdge: where a tensor's gradient enters the graph -- its
    ``node`` (``grad_fn``, or a leaf's AccumulateGrad) and ``output_nr``. ``autograd.grad``
    takes edges as ``inputs`` (the gradient at that edge) and ``outputs``.

    tensorgan's graph is made of tensors, so an edge keeps the tensor it was taken from (not a
    part of the tuple): if that tensor is then written in place, the edge stands for its new
    version (torch's edge keeps pointing at the old node)."""
    node: Any
    output_nr: int


class _Edge(GradientEdge):
    """A GradientEdge that remembers its tensor (for autograd.grad); no __slots__, so it has a
    __dict__ to hold it."""

    def __new__(cls, node: Any, output_nr: int, tensor: Tensor) -> "_Edge":
        self = super().__new__(cls, node, output_nr)
        self._tensor = tensor
        return self


_Edge.__name__ = _Edge.__qualname__ = "GradientEdge"     # its repr and type name, as torch's


def get_gradient_edge(tensor: Tensor) -> GradientEdge:
    """The GradientEdge of ``tensor`` (which must require grad): usable as ``autograd.grad``'s
    inputs or outputs, e.g. to take a gradient with respect to an intermediate value."""
    if not isinstance(tensor, Tensor):
        raise InputTypeError(f"get_gradient_edge: expected a Tensor, got {type(tensor).__name__}")
    if not tensor.requires_grad:
        raise AutogradError("It is not possible to get the gradient edge for a Tensor that does not require gradients")
    node = tensor.grad_fn if tensor.grad_fn is not None else AccumulateGrad.of(tensor)
    return _Edge(node, int(getattr(tensor.grad_fn, "output_nr", 0) or 0), tensor)


def _edge_tensor(edge: Any) -> Tensor:
    """The tensor behind a GradientEdge that get_gradient_edge made."""
    tensor = getattr(edge, "_tensor", None)
    if tensor is None:
        node = edge.node
        if isinstance(node, AccumulateGrad):
            return node.variable
        raise AutogradError("autograd.grad: this GradientEdge was not made by get_gradient_edge(tensor); "
                            "tensorgan can only use edges taken from a tensor")
    return tensor


class _MultiHandle:
    """register_multi_grad_hook's handle: ``remove()`` takes the hook off every tensor."""

    def __init__(self, handles: list) -> None:
        self.handles = handles

    def remove(self) -> None:
        for h in self.handles:
            h.remove()

    def __enter__(self) -> "_MultiHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def register_multi_grad_hook(tensors: Sequence[Tensor], fn: Callable, *, mode: str = "all") -> _MultiHandle:
    """A hook over several tensors (torch's). ``mode="all"``: ``fn(grads)`` once per backward
    pass that reaches any of them, after their gradients are computed -- ``grads`` has one entry
    per tensor, None for those the pass did not reach. ``mode="any"``: ``fn(grad)`` once per
    pass, with the first of their gradients computed. ``fn``'s return value must be None (it
    cannot replace gradients)."""
    from ..tensor import _walk_end, _walks
    if mode not in ("all", "any"):
        raise ConfigError(f"register_multi_grad_hook: Expects mode to be one of ('all', 'any') but got {mode!r}")
    if not callable(fn):
        raise InputTypeError(f"register_multi_grad_hook: fn must be callable, got {type(fn).__name__}")
    tensors = list(tensors)
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise InputTypeError("register_multi_grad_hook: tensors must be a non-empty sequence of Tensors")
    for i, t in enumerate(tensors):
        if not t.requires_grad:
            raise AutogradError(f"register_multi_grad_hook: tensors[{i}] does not require grad")
    state: dict = {"walk": None, "grads": None}

    def checked(result: Any) -> None:
        if result is not None:
            raise AutogradError("register_multi_grad_hook: the hook must return None (it cannot "
                                f"replace gradients), got {type(result).__name__}")

    def finish() -> None:
        grads, state["walk"], state["grads"] = state["grads"], None, None
        checked(fn(grads))

    def make_hook(i: int) -> Callable:
        def hook(grad: Tensor) -> None:
            walk = _walks[0]
            if mode == "any":
                if state["walk"] != walk:
                    state["walk"] = walk
                    checked(fn(grad))
                return None
            if state["walk"] != walk:
                state["walk"], state["grads"] = walk, [None] * len(tensors)
                _walk_end.setdefault(walk, []).append(finish)
            state["grads"][i] = grad
            return None
        return hook
    return _MultiHandle([t.register_hook(make_hook(i)) for i, t in enumerate(tensors)])


class allow_mutation_on_saved_tensors:
    """torch's context in which tensors saved for backward may be modified in place (torch
    clones them when they are written). Not available here: tensorgan's ops keep the arrays
    their backward needs without a copy and in-place writes go straight to memory, so a saved
    value cannot be restored; entering raises AutogradNotSupportedError. Clone the tensor
    before writing it in place (``x = x.clone(); x.add_(1)``) instead."""

    def __enter__(self) -> Any:
        from ..errors import AutogradNotSupportedError
        raise AutogradNotSupportedError(
            "allow_mutation_on_saved_tensors is not supported: tensorgan's ops keep the arrays their "
            "backward needs without copying them, so an in-place write cannot be undone for backward; "
            "clone the tensor before modifying it in place (backward then works, as without the context)")

    def __exit__(self, *exc: Any) -> None:
        return None
