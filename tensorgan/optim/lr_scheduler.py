"""Learning-rate schedules, PyTorch's ``torch.optim.lr_scheduler`` names and semantics.

A scheduler rewrites ``group["lr"]`` of its optimizer's parameter groups; call ``step()`` once per
epoch (or per iteration), after ``optimizer.step()``::

    opt = tg.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    sched = tg.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    for epoch in range(30):
        ...                       # opt.step() for every batch
        sched.step()

As in PyTorch, constructing one records each group's ``initial_lr`` and applies the schedule's
value at epoch 0; StepLR, MultiStepLR, ExponentialLR and CosineAnnealingLR are *chainable* (each
step works from the current lr, so a manual change to ``group["lr"]`` carries on), LambdaLR
computes from ``initial_lr``.  ``state_dict()`` is plain JSON-able data (a
LambdaLR's functions are not saved, as in PyTorch); ``load_state_dict`` reruns the constructor's
checks on it.  ``step(epoch)``, deprecated in PyTorch, works as there (with a UserWarning).
"""
from __future__ import annotations

import bisect
import math
import numbers
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import CheckpointError, ConfigError
from . import Optimizer, _check_number

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "LambdaLR", "CosineAnnealingLR",
           "ReduceLROnPlateau"]


class LRScheduler:
    """Base: ``last_epoch`` counts the ``step()`` calls; subclasses say what ``get_lr()`` is."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise ConfigError(f"{name} takes a tensorgan optimizer, got {type(optimizer).__name__}")
        _check_int(name, "last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise ConfigError(f"{name}: resuming at last_epoch={last_epoch} needs 'initial_lr' in "
                                  f"parameter group {i} (load the optimizer's state first)")
        self.base_lrs = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True        # the constructor's step: resuming must not decay twice
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def _closed_form_lr(self) -> list[float] | None:
        """The schedule's lrs at ``last_epoch`` from ``base_lrs`` alone; None where it has none."""
        return None

    def _check_hyperparameters(self) -> None:
        """The subclass's constructor checks, on its attributes (rerun by ``load_state_dict``)."""

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and write the schedule's learning rates into the optimizer.

        ``step(epoch)`` is PyTorch's deprecated form, kept for its code: it jumps to ``epoch`` and
        sets the schedule's closed form there (from ``initial_lr``, so a manual lr change is lost;
        LambdaLR computes from it anyway), with a UserWarning, as torch does."""
        lrs = None
        if epoch is None:
            self.last_epoch += 1
        else:
            epoch = _check_int(type(self).__name__, "step(epoch)", epoch, 0)
            warnings.warn(f"{type(self).__name__}.step(epoch) is deprecated, as in PyTorch: call "
                          f"step() once per epoch instead", UserWarning, stacklevel=2)
            self.last_epoch = epoch
            lrs = self._closed_form_lr()
        self._step_count += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr() if lrs is None else lrs):
            group["lr"] = float(lr)
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` (or the constructor) set, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Plain data: every attribute but the optimizer (and functions)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()
                if k != "optimizer" and not callable(v) and k != "lr_lambdas"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore ``state_dict()`` output. Its values get the constructor's checks (a ConfigError
        naming the key); a failed load changes nothing."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "last_epoch" not in state_dict:
            raise CheckpointError(f"{name} state is malformed: expected a dict with 'last_epoch'")
        unknown = set(state_dict) - set(self.state_dict())
        if unknown:
            raise CheckpointError(f"{name} state has keys this scheduler does not: {sorted(unknown)}")
        before = dict(self.__dict__)
        self.__dict__.update(state_dict)
        try:
            self._check_state()
        except ConfigError as exc:
            self.__dict__.clear()
            self.__dict__.update(before)
            detail = str(exc).removeprefix(f"{name}: ")
            raise ConfigError(f"{name}.load_state_dict: in the saved state, {detail}") from None

    def _check_state(self) -> None:
        """Validate (and normalize) every saved attribute, the subclass's hyperparameters too."""
        name, groups = type(self).__name__, len(self.optimizer.param_groups)
        _check_int(name, "last_epoch", self.last_epoch, -1)
        self._step_count = _check_int(name, "_step_count", self._step_count, 0)
        if not isinstance(self._is_initial, bool):
            raise ConfigError(f"{name}: _is_initial must be a bool, got {self._is_initial!r}")
        for key in ("base_lrs", "_last_lr"):
            values = getattr(self, key)
            if not isinstance(values, (list, tuple)) or len(values) != groups:
                raise ConfigError(f"{name}: {key} must be a list of {groups} learning rates (one per "
                                  f"parameter group), got {values!r:.60}")
            setattr(self, key, [_check_number(name, f"{key}[{i}]", v, low=0.0)
                                for i, v in enumerate(values)])
        self._check_hyperparameters()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


def _check_int(owner: str, name: str, value: Any, low: int) -> int:
    """An int (a NumPy one too, not a bool) >= low, as a Python int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
        wanted = "a positive int" if low == 1 else f"an int >= {low}"
        raise ConfigError(f"{owner}: {name} must be {wanted}, got {value!r}")
    return int(value)


class StepLR(LRScheduler):
    """lr = initial_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size, self.gamma = step_size, gamma
        self._check_hyperparameters()
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        self.step_size = _check_int("StepLR", "step_size", self.step_size, 1)
        self.gamma = _check_number("StepLR", "gamma", self.gamma, low=0.0)

    def get_lr(self) -> list[float]:
        decay = self.last_epoch != 0 and self.last_epoch % self.step_size == 0
        return [g["lr"] * self.gamma if decay else g["lr"] for g in self.optimizer.param_groups]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = initial_lr * gamma ** (number of milestones <= epoch); a repeated milestone counts twice."""

    def __init__(self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1,
                 last_epoch: int = -1):
        self.milestones, self.gamma = milestones, gamma
        self._check_hyperparameters()
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        try:
            self.milestones = sorted(_check_int("MultiStepLR", f"milestones[{i}]", m, 1)
                                     for i, m in enumerate(self.milestones))
        except TypeError:
            raise ConfigError(f"MultiStepLR: milestones must be a list of ints, got "
                              f"{self.milestones!r}") from None
        self.gamma = _check_number("MultiStepLR", "gamma", self.gamma, low=0.0)

    def get_lr(self) -> list[float]:
        factor = self.gamma ** self.milestones.count(self.last_epoch)
        return [g["lr"] * factor for g in self.optimizer.param_groups]

    def _closed_form_lr(self) -> list[float]:
        passed = bisect.bisect_right(self.milestones, self.last_epoch)   # a repeat counts twice
        return [base * self.gamma ** passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = initial_lr * gamma ** epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        self._check_hyperparameters()
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        self.gamma = _check_number("ExponentialLR", "gamma", self.gamma, low=0.0)

    def get_lr(self) -> list[float]:
        factor = 1.0 if self._is_initial else self.gamma
        return [g["lr"] * factor for g in self.optimizer.param_groups]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(epoch); one function for every group, or one per group."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = -1):
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if len(lambdas) != groups or not all(callable(f) for f in lambdas):
            raise ConfigError(f"LambdaLR: lr_lambda must be a function or a list of {groups} functions "
                              f"(one per parameter group), got {lr_lambda!r:.60}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = []
        for i, (base, f) in enumerate(zip(self.base_lrs, self.lr_lambdas)):
            factor = f(self.last_epoch)
            if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
                what = getattr(f, "__qualname__", repr(f))
                raise ConfigError(f"LambdaLR: lr_lambda {what} (group {i}) returned "
                                  f"{type(factor).__name__} {factor!r:.40} at epoch "
                                  f"{self.last_epoch}; it must return a number")
            lrs.append(base * float(factor))
        return lrs


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2 (SGDR without
    restarts; past T_max the cosine climbs back, as in PyTorch) -- computed step by step from the
    current lr, as PyTorch does, so a manual change of lr carries on along the curve."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        self.T_max, self.eta_min = T_max, eta_min
        self._check_hyperparameters()
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        self.T_max = _check_int("CosineAnnealingLR", "T_max", self.T_max, 1)
        self.eta_min = _check_number("CosineAnnealingLR", "eta_min", self.eta_min, low=0.0)

    def _closed_form_lr(self) -> list[float]:
        cos = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cos for base in self.base_lrs]

    def get_lr(self) -> list[float]:
        e, T, low = self.last_epoch, self.T_max, self.eta_min
        groups = self.optimizer.param_groups
        if self._is_initial:            # the constructor's step keeps the lr it finds
            return [g["lr"] for g in groups]
        if (e - 1 - T) % (2 * T) == 0:  # the trough: the ratio below would divide by zero
            return [g["lr"] + (base - low) * (1 - math.cos(math.pi / T)) / 2
                    for g, base in zip(groups, self.base_lrs)]
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        return [low + ratio * (g["lr"] - low) for g in groups]


class ReduceLROnPlateau:
    """Multiply each group's lr by ``factor`` once a watched metric has not improved for more
    than ``patience`` calls of ``step(metric)`` (torch's; e.g. a validation FD each epoch).

    "Improved" is ``mode`` ("min" or "max") beyond ``threshold`` (relative to the best so far,
    or absolute with ``threshold_mode="abs"``); after a reduction ``cooldown`` calls pass before
    counting again; lrs never go below ``min_lr`` (one, or one per group), and a change smaller
    than ``eps`` is skipped.  A NaN metric never improves."""

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | Sequence[float] = 0.0, eps: float = 1e-8):
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise ConfigError(f"{name} takes a tensorgan optimizer, got {type(optimizer).__name__}")
        if mode not in ("min", "max"):
            raise ConfigError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ConfigError(f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.factor = _check_number(name, "factor", factor, low=0.0)
        if not self.factor < 1.0:
            raise ConfigError(f"{name}: factor must be < 1.0, got {factor}")
        groups = len(optimizer.param_groups)
        lows = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * groups
        if len(lows) != groups:
            raise ConfigError(f"{name}: min_lr needs one value per parameter group ({groups}), "
                              f"got {len(lows)}")
        self.min_lrs = [_check_number(name, f"min_lr[{i}]", v, low=0.0) for i, v in enumerate(lows)]
        self.optimizer, self.mode, self.threshold_mode = optimizer, mode, threshold_mode
        self.patience = _check_int(name, "patience", patience, 0)
        self.cooldown = _check_int(name, "cooldown", cooldown, 0)
        self.threshold = _check_number(name, "threshold", threshold, low=0.0)
        self.eps = _check_number(name, "eps", eps, low=0.0)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0
        self._last_lr = [float(g["lr"]) for g in optimizer.param_groups]

    def _improves(self, value: float) -> bool:
        best, t = self.best, self.threshold
        if self.mode == "min":
            return value < (best * (1.0 - t) if self.threshold_mode == "rel" else best - t)
        return value > (best * (1.0 + t) if self.threshold_mode == "rel" else best + t)

    def step(self, metrics: Any) -> None:
        """One observation of the watched metric (a number or a one-element tensor)."""
        value = float(metrics.item() if hasattr(metrics, "item") else metrics)
        self.last_epoch += 1
        if self._improves(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0              # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, low in zip(self.optimizer.param_groups, self.min_lrs):
                new = max(float(group["lr"]) * self.factor, low)
                if float(group["lr"]) - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        mine = self.state_dict()
        if not isinstance(state_dict, dict) or set(state_dict) != set(mine):
            raise CheckpointError(f"ReduceLROnPlateau state must have the keys {sorted(mine)}, got "
                                  f"{sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__}")
        self.__dict__.update(state_dict)
