"""torch 2.13's Adafactor, Muon and SparseAdam.

``Adafactor`` and ``Muon`` are torch's single-tensor code paths on the parameter's raw arrays
(NumPy or CuPy), so runs agree with torch's step by step (Muon up to torch's bfloat16
orthogonalization, see there).  ``SparseAdam`` exists so torch code constructing it runs:
tensorgan has no sparse gradients, and its ``step()`` refuses dense ones as torch's does.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ..errors import ConfigError, InputTypeError, ShapeError
from ..tensor import Tensor
from . import Optimizer, _bump_step, _check_betas, _check_number

__all__ = ["Adafactor", "Muon", "SparseAdam"]


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern 2018), torch 2.13's algorithm box: at step t, with
    ``beta2_t = 1 - t ** beta2_decay``, ``rho_t = min(lr, 1 / sqrt(t))`` and
    ``alpha_t = max(eps2, RMS(p)) * rho_t``::

        p *= 1 - lr * weight_decay
        2-D and more (factored, over the last two dims):
            R = lerp(R, mean(g^2, dim=-1), 1 - beta2_t);  C = lerp(C, mean(g^2, dim=-2), 1 - beta2_t)
            v = R @ C / max(mean(R, dim=-2), eps1)
        else:  v = lerp(v, g^2, 1 - beta2_t)
        u = g / sqrt(max(v, eps1^2));   p -= alpha_t / max(1, RMS(u) / d) * u

    ``eps = (eps1, eps2)``, eps1 None meaning the dtype's machine epsilon. ``foreach`` is
    accepted and changes nothing (one code path)."""

    optional_state_keys = ("row_var", "col_var", "variance")

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None, maximize: bool = False):
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                                      weight_decay=weight_decay, foreach=foreach, maximize=maximize))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        group["beta2_decay"] = _check_number("Adafactor", "beta2_decay", group["beta2_decay"], high=0.0,
                                             high_open=False)
        eps = group["eps"]
        if not isinstance(eps, (tuple, list)) or len(eps) != 2:
            raise ConfigError(f"Adafactor: eps must be a pair (eps1 or None, eps2), got {eps!r}")
        group["eps"] = (None if eps[0] is None else _check_number("Adafactor", "eps[0]", eps[0], low=0.0),
                        _check_number("Adafactor", "eps[1]", eps[1], low=0.0))
        group["d"] = _check_number("Adafactor", "d", group["d"], low=1.0)

    def _state_shape(self, p: Tensor, key: str) -> tuple:
        """row_var (..., R, 1) and col_var (..., 1, C) for a (..., R, C) parameter."""
        if key == "row_var":
            return p.shape[:-1] + (1,)
        if key == "col_var":
            return p.shape[:-2] + (1, p.shape[-1])
        return p.shape

    def _init_state(self, p: Tensor) -> dict[str, Any]:
        xp = p.device.xp
        keys = ("row_var", "col_var") if p.ndim > 1 else ("variance",)
        return {"step": 0, **{k: xp.zeros(self._state_shape(p, k), dtype=p.dtype) for k in keys}}

    def _update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp, dt = p.device.xp, p.array.dtype.type
        eps1, eps2 = group["eps"]
        eps1 = float(np.finfo(p.dtype).eps) if eps1 is None else eps1
        t = _bump_step(state)
        weight = t ** group["beta2_decay"]                       # 1 - beta2_t
        rho = min(group["lr"], 1.0 / math.sqrt(t))
        alpha = max(eps2, _rms(xp, p.array)) * rho
        if group["weight_decay"]:
            p.array *= dt(1.0 - group["lr"] * group["weight_decay"])
        square = grad * grad
        if grad.ndim > 1:
            row, col = state["row_var"], state["col_var"]
            row += dt(weight) * (square.mean(axis=-1, keepdims=True) - row)
            col += dt(weight) * (square.mean(axis=-2, keepdims=True) - col)
            var = (row @ col) / xp.maximum(row.mean(axis=-2, keepdims=True), dt(eps1))
        else:
            var = state["variance"]
            var += dt(weight) * (square - var)
        update = grad / xp.sqrt(xp.maximum(var, dt(eps1 * eps1)))
        denom = max(1.0, _rms(xp, update) / group["d"])
        p.array -= dt(alpha / denom) * update


def _rms(xp, a) -> float:
    """||a||_2 / sqrt(numel) as a float (0 for an empty array)."""
    return float(xp.sqrt((a * a).sum())) / math.sqrt(a.size) if a.size else 0.0


class Muon(Optimizer):
    """Muon (Jordan et al.), torch 2.13's code path for 2-D parameters only::

        B = lerp(B, g, 1 - momentum);   u = lerp(g, B, momentum) if nesterov else B
        O = NS(u): X = u / max(||u||_F, eps) (transposed if taller than wide), then ns_steps
            times  A = X X^T;  X = a X + (b A + c A A) X
        p *= 1 - lr * weight_decay;     p -= lr * adjust(shape) * O

    ``adjust``: sqrt(max(1, rows / cols)) (None / "original") or 0.2 * sqrt(max(rows, cols))
    ("match_rms_adamw").  torch runs NS in bfloat16, which tensorgan does not have: here it runs
    in the parameter's dtype, so updates agree with torch's to bfloat16 rounding (~1e-2), not
    to the last bit."""

    state_keys = ("momentum_buffer",)
    _hidden_state_keys = ("step",)     # counted here; torch's Muon keeps no step

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315),
                 eps: float = 1e-7, ns_steps: int = 5, adjust_lr_fn: str | None = None):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      nesterov=nesterov, ns_coefficients=ns_coefficients, eps=eps,
                                      ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn))
        for p in self._params():
            if p.ndim != 2:
                raise ShapeError(f"Muon only supports 2D parameters whereas we found a parameter with "
                                 f"size: {p.shape}")

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        group["momentum"] = _check_number("Muon", "momentum", group["momentum"], low=0.0)
        group["eps"] = _check_number("Muon", "eps", group["eps"])
        coefficients = group["ns_coefficients"]
        if not isinstance(coefficients, (tuple, list)) or len(coefficients) != 3:
            raise ConfigError(f"Muon: ns_coefficients must be a tuple of exactly 3 values, got {coefficients!r}")
        group["ns_coefficients"] = tuple(_check_number("Muon", f"ns_coefficients[{i}]", c)
                                         for i, c in enumerate(coefficients))
        steps = group["ns_steps"]
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 0 <= steps < 100:
            raise ConfigError(f"Muon: ns_steps must be an int in [0, 100) (torch: fewer than 100 for "
                              f"computational efficiency), got {steps!r}")
        if group["adjust_lr_fn"] not in (None, "original", "match_rms_adamw"):
            raise ConfigError(f"Muon: Adjust learning rate function {group['adjust_lr_fn']} is not "
                              f"supported (use None, 'original' or 'match_rms_adamw')")
        if not isinstance(group["nesterov"], (bool, np.bool_)):
            raise ConfigError(f"Muon: nesterov must be True or False, got {group['nesterov']!r}")

    def _init_state(self, p: Tensor) -> dict[str, Any]:
        return {"step": 0, "momentum_buffer": p.device.xp.zeros_like(p.array)}

    def _update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        dt, mu = p.array.dtype.type, group["momentum"]
        _bump_step(state)
        buf = state["momentum_buffer"]
        buf += dt(1.0 - mu) * (grad - buf)
        update = grad + dt(mu) * (buf - grad) if group["nesterov"] else buf
        ortho = _newton_schulz(p.device.xp, update, group["ns_coefficients"], group["ns_steps"], group["eps"])
        rows, cols = p.shape
        ratio = 0.2 * math.sqrt(max(rows, cols)) if group["adjust_lr_fn"] == "match_rms_adamw" \
            else math.sqrt(max(1.0, rows / cols))
        p.array *= dt(1.0 - group["lr"] * group["weight_decay"])
        p.array -= dt(group["lr"] * ratio) * ortho


def _newton_schulz(xp, g, coefficients: tuple[float, float, float], steps: int, eps: float):
    """torch's quintic Newton-Schulz iteration towards the orthogonal factor of g (2-D), in g's
    dtype: normalised by its Frobenius norm, iterated on the wide orientation."""
    a, b, c = coefficients
    tall = g.shape[0] > g.shape[1]
    x = g.T if tall else g
    x = x / max(float(xp.sqrt((x * x).sum())), eps)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.T if tall else x


class SparseAdam(Optimizer):
    """``torch.optim.SparseAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False)``:
    Adam for sparse gradients (torch.nn.Embedding(sparse=True)).  tensorgan's gradients are all
    dense, so it is built (its arguments checked as torch's) but ``step()`` refuses any
    gradient, with torch's message: use Adam."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, maximize: bool = False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        _check_betas("SparseAdam", group)
        for key in ("lr", "eps"):
            if group[key] <= 0:
                raise ConfigError(f"SparseAdam: {key} must be > 0, got {group[key]}")

    def _update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise InputTypeError("SparseAdam does not support dense gradients, please consider Adam instead "
                             f"(tensorgan has no sparse gradients; this one has shape {p.shape})")
