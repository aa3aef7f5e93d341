"""Gradients as values: ``tensorgan.autograd.grad`` (``torch.autograd.grad``).

``grad(outputs, inputs)`` returns d(outputs)/d(inputs) instead of adding it into ``.grad``.  With
``create_graph=True`` the returned gradients have a graph of their own (every op on the way
supplies a ``grad_graph``: its backward written with Tensor ops), so a loss may contain a
gradient -- the gradient penalties of WGAN-GP and R1::

    scores = critic(x_hat)                                   # x_hat.requires_grad
    (g,) = tensorgan.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = ((g * g).reshape(len(g), -1).sum(dim=1) + 1e-12).sqrt()
    penalty = ((norms - 1) ** 2).mean()
    (loss + 10 * penalty).backward()                         # reaches the critic's weights
"""
from __future__ import annotations

from typing import Any, Sequence

import warnings

from ..errors import AutogradError, InputTypeError, ShapeError
from .gradcheck import gradcheck, gradgradcheck  # the module first: the names stay the functions
from ..grad_mode import (detect_anomaly, enable_grad, inference_mode, is_anomaly_check_nan_enabled,
                         is_anomaly_enabled, is_grad_enabled, no_grad, set_detect_anomaly,
                         set_grad_enabled)
from ..tensor import Tensor, _backward_into, _run_backward
from .function import Function, FunctionCtx, once_differentiable

__all__ = ["grad", "backward", "Function", "FunctionCtx", "once_differentiable", "Variable",
           "functional", "forward_ad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "gradcheck", "gradgradcheck", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]


def _tensors(name: str, value: Any) -> list[Tensor]:
    items = [value] if isinstance(value, Tensor) else value
    if not isinstance(items, (list, tuple)) or not items or \
            not all(isinstance(t, Tensor) for t in items):
        raise InputTypeError(f"autograd: {name} must be a Tensor or a non-empty list of Tensors, "
                             f"got {type(value).__name__}")
    for i, t in enumerate(items):
        if not t._requires_grad:
            raise AutogradError(f"autograd: {name}[{i}] (shape {t.shape}) does not require grad")
    return list(items)


def _seeds(outputs: list[Tensor], grad_outputs: Any, create_graph: bool,
           arg: str = "grad_outputs") -> list:
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ShapeError(f"autograd: {len(grad_outputs)} {arg} for {len(outputs)} outputs")
    return [out._seed_gradient(g, create_graph, f"autograd (outputs[{i}])", arg)
            for i, (out, g) in enumerate(zip(outputs, grad_outputs))]


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Tensor | Sequence[Any] | None = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True,
         allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """The sum of d(outputs[i])/d(inputs) weighted by ``grad_outputs[i]`` (ones for a scalar
    output), one Tensor per input; ``.grad`` attributes are left alone.

    ``create_graph``: the gradients are differentiable (their graph goes through this one, which
    is therefore kept).  ``allow_unused``: an input the outputs do not depend on gets None
    instead of an error.  ``only_inputs`` is accepted for old torch code (torch ignores it too;
    WGAN-GP code still passes it)."""
    outputs, inputs = _tensors("outputs", outputs), _tensors("inputs", inputs)
    seeds = _seeds(outputs, grad_outputs, create_graph)
    got = _run_backward(outputs, seeds, retain_graph, create_graph, inputs)
    result = []
    for i, t in enumerate(inputs):
        g = got.get(id(t))
        if g is None and not allow_unused:
            raise AutogradError(f"autograd.grad: inputs[{i}] (shape {t.shape}) was not used to "
                                f"compute the outputs, or the part of the graph joining them was "
                                f"freed by an earlier backward / grad without retain_graph=True "
                                f"(allow_unused=True returns None for it)")
        if g is not None and not isinstance(g, Tensor):
            g = Tensor._make(g.copy(), t.device)   # an array the walk may share: the caller's own
        result.append(g)
    return tuple(result)


def backward(tensors: Tensor | Sequence[Tensor], grad_tensors: Any = None,
             retain_graph: bool | None = None, create_graph: bool = False,
             inputs: Tensor | Sequence[Tensor] | None = None) -> None:
    """Backpropagate several outputs at once (``torch.autograd.backward``): each leaf's ``.grad``
    gets the sum over the outputs, with one walk of the graph; with ``inputs``, only those
    tensors' ``.grad`` (see ``Tensor.backward``)."""
    tensors = _tensors("tensors", tensors)
    seeds = _seeds(tensors, grad_tensors, create_graph, "grad_tensors")
    if inputs is None:
        _run_backward(tensors, seeds, retain_graph, create_graph)
    else:
        _backward_into(inputs, tensors, seeds, retain_graph, create_graph)


class _VariableMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """torch's deprecated ``Variable``: ``Variable(t)`` is a new Tensor on ``t``'s memory, detached,
    with ``requires_grad`` as given; every Tensor is a Variable (``isinstance``)."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = False,
                volatile: bool = False) -> Tensor:
        if data is None:                # torch's Variable(): an empty float tensor
            from ..factory import empty
            return empty(0, requires_grad=bool(requires_grad))
        if not isinstance(data, Tensor):
            raise InputTypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` "
                          "instead.", stacklevel=2)
        return data.detach().requires_grad_(bool(requires_grad))


from . import functional  # noqa: E402  (uses grad above)
from . import graph  # noqa: E402,F401  (saved_tensors_hooks / save_on_cpu)
from . import forward_ad  # noqa: E402,F401  (dual tensors, on the reverse-mode engine)


def __getattr__(name: str) -> Any:
    # tg.autograd.profiler (torch.autograd.profiler.record_function) on first use, as tg.profiler
    if name == "profiler":
        import importlib
        return importlib.import_module(f"{__name__}.profiler")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
