"""torch's ``torch.autograd.forward_ad`` (dual tensors), the subset its tutorial uses, computed
on the reverse-mode engine::

    import tensorgan.autograd.forward_ad as fwAD
    with fwAD.dual_level():
        x = fwAD.make_dual(primal, tangent)
        jvp = fwAD.unpack_dual(f(x)).tangent          # J_f(primal) @ tangent

tensorgan has no forward mode: ``make_dual`` gives a tensor that tracks a reverse graph (a view of
the primal) and remembers its tangent for the level; ``unpack_dual(y)`` computes y's tangent when
asked, by the double-vjp trick of ``tensorgan.func.jvp`` (two backwards, with respect to every
dual of the level).  So the numbers are torch's; as in torch, a dual of a primal that does
not require grad, and what is computed from such duals alone, report ``requires_grad=False``
(``is_leaf`` True, no ``grad_fn``; the graph they ride on is internal).  Unlike torch, (1) ops
under ``no_grad`` break the tangent's path, and (2) each ``unpack_dual`` of a non-dual costs two
backwards.  A custom ``autograd.Function`` with a ``jvp`` staticmethod gets
its output tangent from that ``jvp`` (eagerly); its output then starts a new path (the backward
graph does not pass through it).  Leaving the level forgets every tangent made in it.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from ..errors import AutogradError, DTypeError, ShapeError
from ..grad_mode import enable_grad, is_grad_enabled
from ..tensor import Tensor, _register_forward_dual

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]

_levels: list[dict] = []      # per open level: id(dual) -> (dual, tangent)


class UnpackedDualTensor(NamedTuple):
    primal: Tensor
    tangent: Tensor | None


def enter_dual_level() -> int:
    """Open a new level (only one at a time, as in torch); return its index."""
    if _levels:
        raise AutogradError("enter_dual_level: Nested forward mode AD is not supported at the moment")
    _levels.append({})
    return len(_levels) - 1


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the current level: its dual tensors lose their tangents."""
    if not _levels or level not in (None, len(_levels) - 1):
        raise AutogradError(f"exit_dual_level: level {level} is not the current dual level")
    _levels.pop()


class dual_level:
    """``with dual_level():`` -- the scope of the dual tensors made inside it."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()


def _current(fn: str, level: int | None) -> dict:
    if not _levels:
        raise AutogradError(f"{fn}: no dual level is open: call it inside `with "
                            f"forward_ad.dual_level():`")
    if level not in (None, len(_levels) - 1):
        raise AutogradError(f"{fn}: level {level} is not the current dual level")
    return _levels[-1]


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A dual tensor: a view of ``tensor`` whose tangent (direction) is ``tangent`` (same shape;
    used as is when contiguous, else copied)."""
    duals = _current("make_dual", level)
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise DTypeError(f"make_dual: expected Tensors, got {type(tensor).__name__} and "
                         f"{type(tangent).__name__}")
    if tensor.dtype.kind != "f" or tangent.dtype.kind != "f":
        raise DTypeError(f"make_dual: expected a floating-point primal and tangent, got "
                         f"{tensor.dtype} and {tangent.dtype}")
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise ShapeError(f"make_dual: Trying to set a forward gradient that has a different size "
                         f"than that of the original Tensor, this is not supported. Tensor is of "
                         f"size {tuple(tensor.shape)} while the given forward gradient is of size "
                         f"{tuple(tangent.shape)}.")
    if not tangent.is_contiguous():
        tangent = tangent.clone().contiguous()
    with enable_grad():
        if tensor._requires_grad and is_grad_enabled():
            dual = tensor.view_as(tensor)
        else:     # requires grad only to carry the tangent: public requires_grad False, as torch
            dual = tensor.detach().requires_grad_(True)
            _register_forward_dual(dual)
    duals[id(dual)] = (dual, tangent)
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)``: the tangent is None outside a level or when ``tensor`` does not
    depend on a dual tensor of the level."""
    if not _levels or not isinstance(tensor, Tensor):
        return UnpackedDualTensor(tensor, None)
    duals = _current("unpack_dual", level)
    if id(tensor) in duals and duals[id(tensor)][0] is tensor:
        return UnpackedDualTensor(tensor, duals[id(tensor)][1])
    return UnpackedDualTensor(tensor, _tangent_of(tensor, duals))


def _tangent_of(out: Tensor, duals: dict) -> Tensor | None:
    from . import grad as autograd_grad
    from ..factory import zeros_like
    if not duals or not out._requires_grad or out.dtype.kind != "f":
        return None
    inputs = [d for d, _ in duals.values()]
    with enable_grad():
        u = zeros_like(out).detach().requires_grad_(True)
        firsts = autograd_grad(out, inputs, u, retain_graph=True, create_graph=True,
                               allow_unused=True)
        used = [k for k, g in enumerate(firsts) if g is not None and g._requires_grad]
        if not used:
            return None
        tangents = [t for _, t in duals.values()]
        (second,) = autograd_grad([firsts[k] for k in used], u,
                                  [tangents[k].to(firsts[k].dtype) for k in used],
                                  retain_graph=True, allow_unused=True)
    return zeros_like(out).detach() if second is None else second.detach()


def _function_jvp(cls: type, ctx: Any, args: tuple, output: Any) -> Any:
    """A custom Function's output inside a level, when an input is (or depends on) a dual:
    its tangent from ``cls.jvp(ctx, *input tangents)``; None when no input has a tangent."""
    from ..factory import zeros_like
    duals = _levels[-1]
    tangents = [unpack_dual(a).tangent if isinstance(a, Tensor) else None for a in args]
    if all(t is None for t in tangents):
        return None
    tangents = [zeros_like(a).detach() if t is None and isinstance(a, Tensor) and a.dtype.kind == "f"
                else t for a, t in zip(args, tangents)]
    out_tangents = cls.jvp(ctx, *tangents)
    outs = output if isinstance(output, tuple) else (output,)
    out_tangents = out_tangents if isinstance(out_tangents, tuple) else (out_tangents,)
    if len(out_tangents) != len(outs):
        raise AutogradError(f"{cls.__name__}.jvp returned {len(out_tangents)} tangents for "
                            f"{len(outs)} outputs")
    made = tuple(make_dual(o.detach(), t) if isinstance(o, Tensor) and t is not None else o
                 for o, t in zip(outs, out_tangents))
    del duals
    return made if isinstance(output, tuple) else made[0]
