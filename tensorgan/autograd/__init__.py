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

from ..errors import AutogradError, AutogradInputsError, ConfigError, InputTypeError, ShapeError
from .gradcheck import gradcheck, gradgradcheck  # the module first: the names stay the functions
from ..grad_mode import (detect_anomaly, enable_grad, inference_mode, is_anomaly_check_nan_enabled,
                         is_anomaly_enabled, is_grad_enabled, no_grad, set_detect_anomaly,
                         set_grad_enabled)
from ..tensor import (Tensor, _backward_into, _check_still_valid, _dense_copy, _run_backward, _walks,
                      _warn_create_graph_backward)
from .function import Function, FunctionCtx, once_differentiable

__all__ = ["grad", "backward", "Function", "FunctionCtx", "once_differentiable", "Variable",
           "functional", "forward_ad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "gradcheck", "gradgradcheck", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]


def _as_list(value: Any) -> Any:
    """torch takes any iterable of tensors where it takes a sequence (``tuple(inputs)``): a
    generator such as ``model.parameters()`` too. A Tensor, None, a str or a NumPy array is left
    as it is (the callers check it)."""
    if isinstance(value, (Tensor, list, tuple, str, bytes)) or value is None \
            or hasattr(value, "shape") or not hasattr(value, "__iter__"):
        return value
    return list(value)


def _tensors(name: str, value: Any) -> list[Tensor]:
    from .graph import GradientEdge, _edge_tensor
    if isinstance(value, GradientEdge):
        value = [value]
    items = [value] if isinstance(value, Tensor) else _as_list(value)
    if isinstance(items, (list, tuple)) and any(isinstance(t, GradientEdge) for t in items):
        items = [_edge_tensor(t) if isinstance(t, GradientEdge) else t for t in items]
    if isinstance(items, (list, tuple)) and not items:          # torch's RuntimeError
        raise AutogradInputsError(f"autograd: `{name}` argument to `grad()` cannot be empty (as "
                                  f"torch): give the Tensors to differentiate")
    if not isinstance(items, (list, tuple)) or \
            not all(isinstance(t, Tensor) for t in items):
        raise InputTypeError(f"autograd: {name} must be a Tensor or a non-empty list of Tensors, "
                             f"got {type(value).__name__}")
    for i, t in enumerate(items):
        if not t._requires_grad:
            raise AutogradError(f"autograd: {name}[{i}] (shape {t.shape}) does not require grad")
    return list(items)


def _seeds(outputs: list[Tensor], grad_outputs: Any, create_graph: bool,
           arg: str = "grad_outputs") -> list:
    grad_outputs = _as_list(grad_outputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ShapeError(f"autograd: {len(grad_outputs)} {arg} for {len(outputs)} outputs")
    return [out._seed_gradient(g, create_graph, f"autograd (outputs[{i}])", arg)
            for i, (out, g) in enumerate(zip(outputs, grad_outputs))]


def _refuse_freed(outputs: list) -> None:
    """Raise torch's second-backward error when the outputs' graph reaches a node an earlier
    backward freed (its edges are gone too, so what lay behind it cannot be told)."""
    stack, seen = list(outputs), set()
    while stack:
        t = stack.pop()
        ctx = t._ctx
        if ctx is None or id(ctx) in seen:
            continue
        seen.add(id(ctx))
        if ctx.released and ctx.released != _walks[0]:     # freed before this walk
            _check_still_valid(ctx)
        stack.extend(p for p in ctx.__dict__.get("inputs", ()) if isinstance(p, Tensor) and p._requires_grad)


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor] | dict,
         grad_outputs: Tensor | Sequence[Any] | None = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True,
         allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple[Tensor | None, ...] | dict:
    """The sum of d(outputs[i])/d(inputs) weighted by ``grad_outputs[i]`` (ones for a scalar
    output), one Tensor per input; ``.grad`` attributes are left alone.

    ``create_graph``: the gradients are differentiable (their graph goes through this one, which
    is therefore kept).  ``allow_unused``: an input the outputs do not depend on gets None
    instead of an error.  ``materialize_grads``: zeros instead of None (implies allow_unused).
    ``is_grads_batched``: the first dimension of every ``grad_outputs`` entry is a batch of
    vectors, one vector-Jacobian product each (a Jacobian from ``grad_outputs=eye(n)``); each
    gradient gets that leading dimension.  ``inputs`` may be a dict of Tensors: the gradients
    come back as a dict with its keys.  ``only_inputs`` is accepted for old torch code (torch
    ignores it too; WGAN-GP code still passes it); False gives torch's FutureWarning."""
    if materialize_grads and allow_unused is False:
        raise ConfigError("autograd.grad: materialize_grads=True gives zeros for unused "
                             "inputs; allow_unused=False contradicts it (leave it out)")
    if allow_unused is None:
        allow_unused = materialize_grads
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). "
                      "To accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", FutureWarning, stacklevel=2)
    if type(inputs) is dict:
        got = grad(outputs, list(inputs.values()), grad_outputs, retain_graph, create_graph,
                   True, allow_unused, is_grads_batched, materialize_grads)
        return dict(zip(inputs.keys(), got))
    outputs, inputs = _tensors("outputs", outputs), _tensors("inputs", inputs)
    if is_grads_batched:
        result = _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                               allow_unused)
    else:
        seeds = _seeds(outputs, grad_outputs, create_graph)
        got = _run_backward(outputs, seeds, retain_graph, create_graph, inputs, grad_call=True)
        result, asked = [], set()
        for i, t in enumerate(inputs):
            g = got.get(id(t))
            if g is None and not allow_unused:
                _refuse_freed(outputs)       # the likelier cause, in torch's words
                raise AutogradError(f"autograd.grad: inputs[{i}] (shape {t.shape}) was not used "
                                    f"to compute the outputs, or the part of the graph joining "
                                    f"them was freed by an earlier backward / grad without "
                                    f"retain_graph=True (allow_unused=True returns None for it)")
            if g is not None and not isinstance(g, Tensor):    # (the walk unshared it)
                if id(t) in asked:          # x asked twice: two arrays, in g's layout (torch's)
                    g = g.copy() if g.flags.c_contiguous else _dense_copy(g)
                g = Tensor._make(g, t.device)
            asked.add(id(t))
            result.append(g)
    if materialize_grads:
        from ..factory import zeros_like
        result = [zeros_like(t, requires_grad=create_graph) if g is None else g
                  for g, t in zip(result, inputs)]
    return tuple(result)


def _batched_grad(outputs: list[Tensor], inputs: list[Tensor], grad_outputs: Any,
                  retain_graph: bool | None, create_graph: bool, allow_unused: bool) -> list:
    """``grad(..., is_grads_batched=True)``: one vector-Jacobian product per leading index of the
    grad_outputs (torch vmaps one backward; here one backward each, the graph kept between)."""
    grad_outputs = _as_list(grad_outputs)
    if isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if not isinstance(grad_outputs, (list, tuple)) or len(grad_outputs) != len(outputs) or \
            not all(isinstance(g, Tensor) for g in grad_outputs):
        raise InputTypeError(f"autograd.grad(is_grads_batched=True) needs one grad_outputs Tensor "
                             f"per output ({len(outputs)}), each with a leading batch dimension; "
                             f"got {type(grad_outputs).__name__}")
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g.dim() == 0 or tuple(g.shape[1:]) != tuple(out.shape):
            raise ShapeError(f"autograd.grad(is_grads_batched=True): the first dimension of each "
                             f"grad_output is the batch dimension, the rest must match the output's "
                             f"shape: grad_outputs[{i}] has shape {tuple(g.shape)}, outputs[{i}] "
                             f"has {tuple(out.shape)}")
    sizes = {g.shape[0] for g in grad_outputs}
    if len(sizes) != 1:
        raise ShapeError(f"autograd.grad(is_grads_batched=True): the grad_outputs have different "
                         f"batch sizes {sorted(sizes)}")
    n = sizes.pop()
    keep = create_graph if retain_graph is None else retain_graph
    per_item = [grad(outputs, inputs, [g[b] for g in grad_outputs],
                     retain_graph=True if b < n - 1 else keep, create_graph=create_graph,
                     allow_unused=allow_unused) for b in range(n)]
    from ..factory import empty, stack
    result = []
    for j, t in enumerate(inputs):
        column = [item[j] for item in per_item]
        if n and all(g is None for g in column):
            result.append(None)
            continue
        column = [g if g is not None else t.detach() * 0 for g in column]
        result.append(stack(column) if n else empty((0,) + tuple(t.shape), dtype=t.dtype,
                                                     device=t.device))
    return result


def backward(tensors: Tensor | Sequence[Tensor], grad_tensors: Any = None,
             retain_graph: bool | None = None, create_graph: bool = False,
             inputs: Tensor | Sequence[Tensor] | None = None) -> None:
    """Backpropagate several outputs at once (``torch.autograd.backward``): each leaf's ``.grad``
    gets the sum over the outputs, with one walk of the graph; with ``inputs``, only those
    tensors' ``.grad`` (see ``Tensor.backward``)."""
    tensors = _tensors("tensors", tensors)
    seeds = _seeds(tensors, grad_tensors, create_graph, "grad_tensors")
    if create_graph:
        _warn_create_graph_backward()
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


_multithreading = [True]


def set_multithreading_enabled(mode: bool) -> "_SetMultithreading":
    """torch.autograd.set_multithreading_enabled: a switch (and context manager) for running
    backward on several device threads. tensorgan's backward is a single walk on the calling
    thread either way, so the flag is only recorded (``is_multithreading_enabled``)."""
    return _SetMultithreading(mode)


class _SetMultithreading:
    def __init__(self, mode: bool) -> None:
        if mode not in (True, False):
            raise ConfigError(f"set_multithreading_enabled: mode must be a bool, got {mode!r}")
        self.prev = _multithreading[0]
        _multithreading[0] = bool(mode)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        _multithreading[0] = self.prev

    def clone(self) -> "_SetMultithreading":
        return _SetMultithreading(_multithreading[0])


def is_multithreading_enabled() -> bool:
    """Whether set_multithreading_enabled last said True (the default)."""
    return _multithreading[0]


from . import variable  # noqa: E402  (torch.autograd.variable: it imports Variable from here)

__all__ += ["set_multithreading_enabled", "is_multithreading_enabled", "variable"]
