"""Gradient clipping, PyTorch's ``torch.nn.utils`` names: call between ``backward()`` and
``optimizer.step()``::

    loss.backward()
    tg.nn.utils.clip_grad_norm_(D.parameters(), max_norm=1.0)
    opt_d.step()

Both work in place on the parameters' ``.grad`` arrays, under no graph.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from ..errors import ConfigError, InputTypeError, NonFiniteError
from ..factory import tensor
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(owner: str, parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if callable(getattr(parameters, "parameters", None)):     # a Module (not iterable itself)
        raise InputTypeError(f"{owner} takes Tensors: pass model.parameters(), not the "
                             f"{type(parameters).__name__} itself")
    try:
        params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    except TypeError:
        raise InputTypeError(f"{owner} takes a Tensor or an iterable of Tensors (e.g. "
                             f"model.parameters()), got {type(parameters).__name__}") from None
    for p in params:
        if not isinstance(p, Tensor):
            raise InputTypeError(f"{owner} takes Tensors (e.g. model.parameters()), got {type(p).__name__}")
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale the gradients so that their joint ``norm_type``-norm (as if all were one vector) is at
    most ``max_norm``; return that norm before clipping, as a 0-d tensor.  The scale is
    ``max_norm / (norm + 1e-6)``, applied only where it is below 1 (PyTorch's rule).

    Non-finite norms (with ``error_if_nonfinite=False``): an infinite norm scales every gradient
    by 0, as PyTorch (its infinite elements become NaN).  A NaN norm differs from PyTorch on
    purpose: PyTorch multiplies every gradient by the NaN scale (clamped at 1, which keeps NaN),
    so all of them become NaN; here the gradients are left exactly as they were, and the returned
    NaN norm is the signal (check it, or pass ``error_if_nonfinite=True`` to raise NonFiniteError)."""
    grads = _grads("clip_grad_norm_", parameters)
    for name, value in (("max_norm", max_norm), ("norm_type", norm_type)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ConfigError(f"clip_grad_norm_: {name} must be a number, got {value!r}")
    if max_norm < 0:
        raise ConfigError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm} (a negative "
                          f"one would flip the gradients' sign)")
    norm_type = float(norm_type)
    if norm_type <= 0:
        raise ConfigError(f"clip_grad_norm_: norm_type must be > 0 (or inf), got {norm_type}")
    if not grads:
        return tensor(0.0)
    g0 = grads[0]
    xp = g0.device.xp
    if math.isinf(norm_type):
        per_tensor = [xp.abs(g.data).max() for g in grads if g.data.size]
        total = xp.stack(per_tensor).max() if per_tensor else xp.zeros((), g0.dtype)
    else:   # the norm of the per-tensor norms, in the gradients' dtype (as PyTorch)
        per_tensor = xp.stack([(xp.abs(g.data) ** norm_type).sum() for g in grads])
        total = per_tensor.sum() ** (1.0 / norm_type)
    total = xp.asarray(total, dtype=g0.dtype)
    total_value = float(total)
    if error_if_nonfinite and not math.isfinite(total_value):
        raise NonFiniteError(f"clip_grad_norm_: the total {norm_type}-norm of the gradients is "
                             f"{total_value}; pass error_if_nonfinite=False to clip anyway")
    coefficient = float(max_norm) / (total_value + 1e-6)
    if coefficient < 1.0:   # a NaN norm: not < 1, the gradients stay; an infinite one: scale 0 and
        with np.errstate(invalid="ignore"):            # inf * 0 = NaN where infinite, as PyTorch
            for g in grads:
                g.data *= g.data.dtype.type(coefficient)
    return Tensor._make(total, g0.device)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient element into ``[-clip_value, clip_value]``, in place."""
    grads = _grads("clip_grad_value_", parameters)
    if isinstance(clip_value, bool) or not isinstance(clip_value, (int, float)) or not clip_value >= 0:
        raise ConfigError(f"clip_grad_value_: clip_value must be a number >= 0, got {clip_value!r}")
    for g in grads:
        g.device.xp.clip(g.data, -clip_value, clip_value, out=g.data)
