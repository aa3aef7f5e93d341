"""torch 2.13's other first-order optimizers: Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop.

Each ``_update`` is the algorithm box of torch's documentation (its single-tensor code path), on
the parameter's raw arrays with its array module (NumPy or CuPy), so runs agree with torch's step
by step.  Weight decay is ``_decayed_grad`` (L2, or decoupled where the group says so);
``maximize`` is the base class's (the gradient arrives negated).
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ..errors import ConfigError
from ..tensor import Tensor
from . import (Optimizer, _bump_step, _check_betas, _check_bool, _check_number, _check_switches,
               _decayed_grad, _put_scalar, _scalar_dtype)

__all__ = ["Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]


def _zeros_state(p: Tensor, *keys: str) -> dict[str, Any]:
    """A fresh state: ``step`` 0 and a zero array like ``p`` for each key."""
    xp = p.device.xp
    return {"step": 0, **{k: xp.zeros_like(p.array) for k in keys}}


def _ema_(avg, value, weight: float) -> None:
    """``avg += weight * (value - avg)`` in place (torch's ``lerp_``)."""
    avg += weight * (value - avg)


def _accumulator(p: Tensor, value: float):
    """Adagrad's ``sum`` filled with ``value`` (for a complex parameter ``value + value i``, as
    torch: each of its real / imaginary pairs starts at ``value``)."""
    return p.device.xp.full_like(p.array, complex(value, value) if p.array.dtype.kind == "c"
                                 else value)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), torch's formulation::

        g = grad + wd * p;   clr = lr / (1 + (t - 1) * lr_decay)
        sum += g^2;          p -= clr * g / (sqrt(sum) + eps)

    ``sum`` starts at ``initial_accumulator_value``: the constructor's, for every group, as torch's
    (a group's own entry is kept in ``param_groups`` but unused), so runs match torch step by step."""

    _torch_key_order = ("lr", "lr_decay", "eps", "weight_decay", "initial_accumulator_value",
                        "foreach", "maximize", "differentiable", "fused")

    state_keys = ("sum",)

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None):
        switches = _check_switches("Adagrad", foreach=foreach, fused=fused,
                                   differentiable=differentiable)
        super().__init__(params, dict(
            **switches, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize))
        # torch creates Adagrad's state here, not at the first step: ``step`` 0 and ``sum``
        # filled with initial_accumulator_value (a group added later gets it at its first step)
        i = 0
        for group in self.param_groups:
            for p in group["params"]:
                if self._states[i] is None:
                    self._states[i] = self._new_state(i, p)
                    init = self.defaults["initial_accumulator_value"]
                    self._states[i]["sum"] = _accumulator(p, init)
                i += 1

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        for key in ("lr_decay", "initial_accumulator_value", "eps"):
            group[key] = _check_number("Adagrad", key, group[key], low=0.0)

    def _update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        if "sum" not in state:
            state["sum"] = _accumulator(p, self.defaults["initial_accumulator_value"])
        grad = _decayed_grad(p, grad, group)
        t = _bump_step(state)
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        p.array -= clr * (grad / (p.device.xp.sqrt(state["sum"]) + group["eps"]))

class Adadelta(Optimizer):
    """Adadelta (Zeiler), torch's formulation::

        g = grad + wd * p
        v = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta^2;     p -= lr * delta

    (state ``square_avg`` = v, ``acc_delta`` = u)."""

    _torch_key_order = ("lr", "rho", "eps", "weight_decay", "maximize", "capturable", "foreach",
                        "differentiable")

    state_keys = ("square_avg", "acc_delta")

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False, differentiable: bool = False):
        switches = _check_switches("Adadelta", foreach=foreach, capturable=capturable,
                                   differentiable=differentiable)
        super().__init__(params, dict(
            **switches, lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        group["rho"] = _check_number("Adadelta", "rho", group["rho"], low=0.0, high=1.0,
                                     high_open=False)
        group["eps"] = _check_number("Adadelta", "eps", group["eps"], low=0.0)

    def _init_state(self, p: Tensor) -> dict[str, Any]:
        return _zeros_state(p, "square_avg", "acc_delta")

    def _update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp, rho, eps = p.device.xp, group["rho"], group["eps"]
        grad = _decayed_grad(p, grad, group)
        _bump_step(state)
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        v += (1 - rho) * (grad * grad)
        delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * grad
        u *= rho
        u += (1 - rho) * (delta * delta)
        p.array -= group["lr"] * delta

class _AdamFamily(Optimizer):
    """Adamax / NAdam / RAdam: ``betas`` and ``eps`` (Adam's checks) and zero ``exp_avg`` plus a
    second zero array (``second``); NAdam and RAdam add ``decoupled_weight_decay``."""

    second = "exp_avg_sq"

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]):
        self.state_keys = ("exp_avg", self.second)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        _check_betas(type(self).__name__, group)
        if "decoupled_weight_decay" in self.defaults:
            _check_bool(type(self).__name__, group, "decoupled_weight_decay")

    def _init_state(self, p: Tensor) -> dict[str, Any]:
        return _zeros_state(p, "exp_avg", self.second)

    def _moments(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]):
        """Weight decay, ``t += 1``, ``m = b1 m + (1 - b1) g``, and (but for Adamax)
        ``v = b2 v + (1 - b2) g^2``; returns ``(grad, t)``."""
        b1, b2 = group["betas"]
        grad = _decayed_grad(p, grad, group)
        t = _bump_step(state)
        _ema_(state["exp_avg"], grad, 1 - b1)
        if self.second == "exp_avg_sq":
            v = state["exp_avg_sq"]
            v *= b2
            v += (1 - b2) * (grad * grad)
        return grad, t

class Adamax(_AdamFamily):
    """Adamax (Adam with the infinity norm), torch's formulation::

        g = grad + wd * p;   m = b1 * m + (1 - b1) * g
        u = max(b2 * u, |g| + eps);   p -= lr / (1 - b1^t) * m / u

    (state ``exp_avg`` = m, ``exp_inf`` = u)."""

    _torch_key_order = ("lr", "betas", "eps", "weight_decay", "foreach", "maximize",
                        "differentiable", "capturable")

    second = "exp_inf"

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False):
        switches = _check_switches("Adamax", foreach=foreach, capturable=capturable,
                                   differentiable=differentiable)
        super().__init__(params, dict(
            **switches, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = p.device.xp
        grad, t = self._moments(p, grad, state, group)
        u = state["exp_inf"]
        u *= group["betas"][1]
        xp.maximum(u, xp.abs(grad) + group["eps"], out=u)
        p.array -= group["lr"] / (1 - group["betas"][0] ** t) * (state["exp_avg"] / u)

class NAdam(_AdamFamily):
    """NAdam (Dozat: Adam with Nesterov momentum), torch's formulation::

        mu_t = b1 * (1 - 0.96^(t * psi) / 2)      (psi = momentum_decay)
        m, v as Adam's;   prod = mu_1 ... mu_t
        p -= lr * (1 - mu_t) / (1 - prod) * g / d + lr * mu_{t+1} / (1 - prod * mu_{t+1}) * m / d
        with d = sqrt(v / (1 - b2^t)) + eps

    ``weight_decay``: L2, or with ``decoupled_weight_decay=True`` AdamW's ``p *= 1 - lr * wd``."""

    _torch_key_order = ("lr", "betas", "eps", "weight_decay", "momentum_decay",
                        "decoupled_weight_decay", "maximize", "foreach", "capturable",
                        "differentiable")

    scalar_state_keys = ("mu_product",)

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False):
        switches = _check_switches("NAdam", foreach=foreach, capturable=capturable,
                                   differentiable=differentiable)
        super().__init__(params, dict(
            **switches, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        group["momentum_decay"] = _check_number("NAdam", "momentum_decay", group["momentum_decay"],
                                                low=0.0)

    def _init_state(self, p: Tensor) -> dict[str, Any]:
        state = super()._init_state(p)
        return {"step": state.pop("step"), "mu_product": 1.0, **state}     # torch's key order

    def _update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp, lr, (b1, b2), psi = p.device.xp, group["lr"], group["betas"], group["momentum_decay"]
        grad, t = self._moments(p, grad, state, group)
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        # torch keeps mu_product a 0-d tensor of its scalar dtype and multiplies it in place by
        # the Python float mu, which the CPU kernel first rounds to that dtype: float32 * float32
        prod = state["mu_product"]
        if isinstance(prod, np.ndarray):     # the live 0-d array opt.state[p] handed out
            prod *= mu                       # NumPy rounds the float to the array's dtype too
            prod = float(prod)
        else:
            dt = _scalar_dtype().type
            state["mu_product"] = prod = float(dt(dt(prod) * dt(mu)))
        denom = xp.sqrt(state["exp_avg_sq"] / (1 - b2 ** t)) + group["eps"]
        p.array -= lr * (1.0 - mu) / (1.0 - prod) * (grad / denom)
        p.array -= lr * mu_next / (1.0 - prod * mu_next) * (state["exp_avg"] / denom)

class RAdam(_AdamFamily):
    """RAdam (Liu et al.: Adam with the variance of its adaptive rate rectified), torch's::

        m, v as Adam's;   m_hat = m / (1 - b1^t)
        rho_inf = 2 / (1 - b2) - 1;   rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
        rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                    p -= lr * m_hat * r * sqrt(1 - b2^t) / (sqrt(v) + eps)
        else:       p -= lr * m_hat

    ``weight_decay``: L2, or with ``decoupled_weight_decay=True`` AdamW's ``p *= 1 - lr * wd``."""

    _torch_key_order = ("lr", "betas", "eps", "weight_decay", "maximize", "foreach", "capturable",
                        "decoupled_weight_decay", "differentiable")

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False,
                 *, foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        switches = _check_switches("RAdam", foreach=foreach, capturable=capturable,
                                   differentiable=differentiable)
        super().__init__(params, dict(
            **switches, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def _update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp, lr, (b1, b2) = p.device.xp, group["lr"], group["betas"]
        _, t = self._moments(p, grad, state, group)
        m_hat = state["exp_avg"] / (1 - b1 ** t)
        correction2 = 1 - b2 ** t
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2 ** t / correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = math.sqrt(correction2) / (xp.sqrt(state["exp_avg_sq"]) + group["eps"])
            p.array -= m_hat * lr * adaptive * rect
        else:
            p.array -= m_hat * lr

class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky), torch's formulation::

        g = grad + wd * p;   p *= 1 - lambd * eta;   p -= eta * g
        ax = p if mu == 1 else ax + mu * (p - ax)
        eta = lr / (1 + lambd * lr * t)^alpha;   mu = 1 / max(1, t - t0)

    ``eta`` starts at ``lr``, ``mu`` at 1; ``ax`` (the average) is the state a user evaluates."""

    _torch_key_order = ("lr", "lambd", "alpha", "t0", "weight_decay", "foreach", "maximize",
                        "differentiable", "capturable")

    state_keys = ("ax",)
    scalar_state_keys = ("eta", "mu")

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False):
        switches = _check_switches("ASGD", foreach=foreach, capturable=capturable,
                                   differentiable=differentiable)
        super().__init__(params, dict(
            **switches, lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
            maximize=maximize))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        for key in ("lambd", "alpha", "t0"):   # torch checks none of them: finite numbers
            group[key] = _check_number("ASGD", key, group[key])

    def _update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        if "ax" not in state:    # torch keeps eta and mu 0-d tensors of its scalar dtype
            state.update(eta=float(_scalar_dtype().type(group["lr"])), mu=1.0,
                         ax=p.device.xp.zeros_like(p.array))
        lr, lambd = group["lr"], group["lambd"]
        grad = _decayed_grad(p, grad, group)
        t = _bump_step(state)
        eta = float(state["eta"])
        p.array *= p.array.dtype.type(1 - lambd * eta)
        p.array -= eta * grad
        mu = float(state["mu"])
        if mu != 1:
            state["ax"] += mu * (p.array - state["ax"])
        else:
            state["ax"][...] = p.array
        _put_scalar(state, "eta", lr / (1 + lambd * lr * t) ** group["alpha"])
        _put_scalar(state, "mu", 1 / max(1, t - group["t0"]))

class Rprop(Optimizer):
    """Rprop (resilient backpropagation), torch's formulation: per weight, a step size that grows
    by ``etas[1]`` while the gradient keeps its sign and shrinks by ``etas[0]`` when it flips
    (clamped to ``step_sizes``); ``p -= sign(g) * step``, except that after a flip the gradient
    counts as 0 (no move, and no flip detected next time).  Step sizes start at ``lr``."""

    _torch_key_order = ("lr", "etas", "step_sizes", "foreach", "maximize", "differentiable",
                        "capturable")

    state_keys = ("prev", "step_size")

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False):
        switches = _check_switches("Rprop", foreach=foreach, capturable=capturable,
                                   differentiable=differentiable)
        super().__init__(params, dict(
            **switches, lr=lr, etas=etas, step_sizes=step_sizes, maximize=maximize))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        for key in ("etas", "step_sizes"):
            pair = group[key]
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ConfigError(f"Rprop: {key} must be a pair, got {pair!r}")
            checked = [_check_number("Rprop", f"{key}[{i}]", v) for i, v in enumerate(pair)]
            group[key] = type(pair)(checked) if type(pair) in (tuple, list) else tuple(checked)
        minus, plus = group["etas"]
        if not 0.0 < minus < 1.0 < plus:
            raise ConfigError(f"Rprop: etas must satisfy 0 < etas[0] < 1 < etas[1], got {minus}, {plus}")

    def _update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp, (minus, plus) = p.device.xp, group["etas"]
        if "prev" not in state:
            state.update(prev=xp.zeros_like(p.array), step_size=xp.full_like(p.array, group["lr"]))
        _bump_step(state)
        sign = xp.sign(grad * state["prev"])
        factor = xp.where(sign > 0, plus, xp.where(sign < 0, minus, 1.0)).astype(p.array.dtype)
        step_size = state["step_size"]
        step_size *= factor
        xp.clip(step_size, *group["step_sizes"], out=step_size)
        grad = xp.where(sign < 0, 0, grad).astype(p.array.dtype)
        p.array -= xp.sign(grad) * step_size
        state["prev"][...] = grad
