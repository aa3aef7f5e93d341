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
from typing import Any, Callable

from ..errors import AutogradError, InputTypeError
from ..tensor import AccumulateGrad, Function, Tensor

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "increment_version"]


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
