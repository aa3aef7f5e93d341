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
import types
import warnings
from collections import Counter
from collections.abc import Mapping
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import CheckpointError, ConfigError, MissingKeyError
from ..tensor import Tensor, _caller_level
from . import Optimizer, _check_number


def _write_lr(group: dict[str, Any], lr: Any) -> None:
    """``group["lr"] = lr`` as torch's schedulers write it: a Tensor lr is filled in place (the
    optimizer and whoever holds it see the new value), a number replaced."""
    if isinstance(group["lr"], Tensor):
        group["lr"].fill_(float(lr))
    else:
        group["lr"] = float(lr) if isinstance(lr, Tensor) else lr

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "LambdaLR", "CosineAnnealingLR",
           "ReduceLROnPlateau", "MultiplicativeLR", "ConstantLR", "LinearLR", "PolynomialLR",
           "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR", "SequentialLR", "ChainedScheduler"]


_ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 and "
    "later, you should call them in the opposite order: `optimizer.step()` before "
    "`lr_scheduler.step()`.  Failure to do this will result in PyTorch skipping the first value "
    "of the learning rate schedule. See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate")


_GET_LR_WARNING = ("To get the last learning rate computed by the scheduler, please use "
                   "`get_last_lr()` (as torch warns: get_lr() called outside step() is the next "
                   "step's formula applied to the current lr, not the lr in use)")
_in_step = [0]          # > 0 while a scheduler's step() computes its lrs through get_lr()


def _warn_outside_step(get_lr: Callable) -> Callable:
    """A built-in scheduler's get_lr(), warning as torch's when called other than by step()."""
    def wrapped(self):
        if not _in_step[0]:
            warnings.warn(_GET_LR_WARNING, UserWarning, stacklevel=2)
        return get_lr(self)
    wrapped.__name__, wrapped.__qualname__, wrapped.__doc__ = \
        get_lr.__name__, get_lr.__qualname__, get_lr.__doc__
    return wrapped


class LRScheduler:
    """Base: ``last_epoch`` counts the ``step()`` calls; subclasses say what ``get_lr()`` is."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # torch's own schedulers warn on get_lr() outside step(); a user's subclass does not
        if "get_lr" in cls.__dict__ and cls.__module__.startswith("tensorgan.optim"):
            cls.get_lr = _warn_outside_step(cls.__dict__["get_lr"])

    def _get_lr_in_step(self) -> list[float]:
        _in_step[0] += 1
        try:
            return self.get_lr()
        finally:
            _in_step[0] -= 1

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise ConfigError(f"{name} takes a tensorgan optimizer, got {type(optimizer).__name__}")
        _check_int(name, "last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                lr = group["lr"]      # a Tensor lr: a copy, as torch's (the lr itself moves)
                group.setdefault("initial_lr", lr.clone() if isinstance(lr, Tensor) else lr)
            elif "initial_lr" not in group:
                raise MissingKeyError(f"{name}: resuming at last_epoch={last_epoch} needs 'initial_lr' in "
                                  f"parameter group {i} (load the optimizer's state first)")
        self.base_lrs = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        optimizer._opt_called = False       # torch's order check counts steps from here on
        self._initial_step()

    def _initial_step(self) -> None:
        """The constructor's step (``_is_initial``: resuming must not decay twice); SequentialLR
        reruns it on its first scheduler."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
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
        if epoch is not None:
            epoch = _check_int(type(self).__name__, "step(epoch)", epoch, 0)
            warnings.warn(f"{type(self).__name__}.step(epoch) is deprecated, as in PyTorch: call "
                          f"step() once per epoch instead", UserWarning, stacklevel=2)
        if self._step_count == 1:
            self._check_order()
        self._step_count += 1
        self._update_lr(epoch)

    def _check_order(self) -> None:
        """torch's warning at the first step() after the constructor's, when the optimizer has
        not stepped since this scheduler was made (the schedule's first value is skipped)."""
        if not getattr(self.optimizer, "_opt_called", True):
            warnings.warn(_ORDER_WARNING, UserWarning, stacklevel=_caller_level())

    def _update_lr(self, epoch: int | None = None) -> None:
        """Advance one epoch (``get_lr``), or jump to ``epoch`` (the closed form where the
        schedule has one, else ``get_lr`` there: SequentialLR's restart at a milestone)."""
        lrs = None
        if epoch is None:
            self.last_epoch += 1
        else:
            self.last_epoch = epoch
            lrs = self._closed_form_lr()
        self._set_lrs(self._get_lr_in_step() if lrs is None else lrs)

    def _set_lrs(self, lrs: Sequence[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            _write_lr(group, float(lr))
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
        state_dict = _without_torch_internals(state_dict)
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


# torch's pre-2.0 name, kept there for old code (DeblurGANv2's LinearDecay subclasses it); a subclass,
# not an alias, so its __name__ stays _LRScheduler, as torch's
class _LRScheduler(LRScheduler):
    pass


def _per_group(owner: str, name: str, optimizer: Any, value: Any,
               accept: Callable[[Any], bool] | None = None, what: str = "a number") -> list[Any]:
    """``value`` for each parameter group: one value for all, or a list / tuple of one per group
    (torch's ``_format_param``); each must pass ``accept`` (default: a finite number >= 0)."""
    if not isinstance(optimizer, Optimizer):
        raise ConfigError(f"{owner} takes a tensorgan optimizer, got {type(optimizer).__name__}")
    groups = len(optimizer.param_groups)
    values = list(value) if isinstance(value, (list, tuple)) else [value] * groups
    if len(values) != groups:
        raise ConfigError(f"{owner}: {name} must have the same length as optimizer.param_groups "
                          f"(one per parameter group): {name} has {len(values)} values, "
                          f"param_groups has {groups}")
    if accept is None:
        return [_check_number(owner, f"{name}[{i}]", v, low=0.0) for i, v in enumerate(values)]
    for i, v in enumerate(values):
        if not accept(v):
            raise ConfigError(f"{owner}: {name} must be {what} or a list of {groups} (one per "
                              f"parameter group); entry {i} is {type(v).__name__} {v!r:.40}")
    return values


def _check_int(owner: str, name: str, value: Any, low: int) -> int:
    """An int (a NumPy one too, not a bool) >= low, as a Python int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
        wanted = "a positive int" if low == 1 else f"an int >= {low}"
        raise ConfigError(f"{owner}: {name} must be {wanted}, got {value!r}")
    return int(value)


def _check_whole(owner: str, name: str, value: Any, low: int) -> int:
    """An int >= low, or a float holding one (``StepLR(opt, 1.0)``, as torch takes it)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return _check_int(owner, name, value, low)


class StepLR(LRScheduler):
    """lr = initial_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size, self.gamma = step_size, gamma
        self._check_hyperparameters()
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        if isinstance(self.step_size, (float, np.floating)) and math.isfinite(self.step_size) \
                and not float(self.step_size).is_integer() and self.step_size > 0:
            # torch takes a fractional step_size: the lr decays at the epochs it divides
            # (epoch % 1.5 == 0: 3, 6, ...), a float step_size kept as given
            self.step_size = float(self.step_size)
        else:
            self.step_size = _check_whole("StepLR", "step_size", self.step_size, 1)
        self.gamma = _check_number("StepLR", "gamma", self.gamma, low=0.0)

    def get_lr(self) -> list[float]:
        decay = self.last_epoch != 0 and self.last_epoch % self.step_size == 0
        return [g["lr"] * self.gamma if decay else g["lr"] for g in self.optimizer.param_groups]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


def _check_milestone(i: int, m: Any) -> int | float:
    """A MultiStepLR milestone: an int >= 0, or a float holding one (``0.8 * niter``, as SinGAN-style
    code passes it, is 1600.0); a fractional positive float is kept as given, as torch keeps it:
    step() never lands on it, the closed form (``step(epoch)``) counts it once passed.  Milestone 0
    applies gamma from the start, as torch's; a negative one (torch's never reached) is refused."""
    if isinstance(m, (float, np.floating)) and math.isfinite(m) and m > 0 \
            and not float(m).is_integer():
        return float(m)
    return _check_whole("MultiStepLR", f"milestones[{i}]", m, 0)


class MultiStepLR(LRScheduler):
    """lr = initial_lr * gamma ** (number of milestones <= epoch); a repeated milestone counts twice."""

    def __init__(self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1,
                 last_epoch: int = -1):
        self.milestones, self.gamma = milestones, gamma
        self._check_hyperparameters()
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        if isinstance(self.milestones, Mapping):
            # torch keeps (and saves) milestones as a Counter {epoch: repeats}: a torch state's
            # repeated milestone must still count twice here
            try:
                self.milestones = list(Counter({k: _check_int("MultiStepLR", f"milestones[{k!r}] (repeat count)", v, 0)
                                                for k, v in self.milestones.items()}).elements())
            except TypeError:
                raise ConfigError(f"MultiStepLR: milestones must be a list of ints (or torch's "
                                  f"Counter of them), got {self.milestones!r}") from None
        try:
            self.milestones = sorted(_check_milestone(i, m) for i, m in enumerate(self.milestones))
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
        self.lr_lambdas = _per_group(type(self).__name__, "lr_lambda", optimizer, lr_lambda, callable,
                                     "a function")
        super().__init__(optimizer, last_epoch)

    def _factors(self) -> list[float]:
        """Each group's function at ``last_epoch``, checked to be a number."""
        out = []
        for i, f in enumerate(self.lr_lambdas):
            factor = f(self.last_epoch)
            if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
                what = getattr(f, "__qualname__", repr(f))
                raise ConfigError(f"{type(self).__name__}: lr_lambda {what} (group {i}) returned "
                                  f"{type(factor).__name__} {factor!r:.40} at epoch "
                                  f"{self.last_epoch}; it must return a number")
            out.append(float(factor))
        return out

    def get_lr(self) -> list[float]:
        return [base * factor for base, factor in zip(self.base_lrs, self._factors())]

    def state_dict(self) -> dict[str, Any]:
        """torch's layout: the schedule's attributes plus ``lr_lambdas``, one entry per group --
        None for a plain function or lambda (not saved), a copy of a callable object's
        ``__dict__`` (its state) otherwise."""
        state = super().state_dict()
        state["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else dict(vars(f))
                               if hasattr(f, "__dict__") else None for f in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore ``state_dict()`` output (torch's too): the functions stay this scheduler's;
        a callable object's saved ``__dict__`` is merged back into it, as torch does."""
        name = type(self).__name__
        saved = state_dict.get("lr_lambdas") if isinstance(state_dict, dict) else None
        if saved is not None and (not isinstance(saved, (list, tuple)) or len(saved) != len(self.lr_lambdas)
                                  or any(d is not None and not isinstance(d, dict) for d in saved)):
            raise CheckpointError(f"{name} state's lr_lambdas must be a list of {len(self.lr_lambdas)} "
                                  f"entries (None or a dict each), got {saved!r:.80}")
        if isinstance(state_dict, dict):
            state_dict = {k: v for k, v in state_dict.items() if k != "lr_lambdas"}
        super().load_state_dict(state_dict)
        for f, d in zip(self.lr_lambdas, saved or ()):
            if d is not None:
                f.__dict__.update(d)


class MultiplicativeLR(LambdaLR):
    """lr = previous lr * lr_lambda(epoch) (the constructor's step keeps the lr); one function
    for every group, or one per group."""

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [g["lr"] for g in groups]
        return [g["lr"] * factor for g, factor in zip(groups, self._factors())]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2 (SGDR without
    restarts; past T_max the cosine climbs back, as in PyTorch) -- computed step by step from the
    current lr, as PyTorch does, so a manual change of lr carries on along the curve."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        self.T_max, self.eta_min = T_max, eta_min
        self._check_hyperparameters()
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        self.T_max = _check_whole("CosineAnnealingLR", "T_max", self.T_max, 1)
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
        self._default_min_lr = None if isinstance(min_lr, (list, tuple)) else self.min_lrs[0]
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
                    _write_lr(group, new)
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """torch's keys: the schedule's state plus its derived ``mode_worse`` (inf / -inf, by
        mode) and ``default_min_lr`` (the scalar ``min_lr``, None when one was given per group)."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_default_min_lr")}
        state["default_min_lr"] = self._default_min_lr
        state["mode_worse"] = math.inf if self.mode == "min" else -math.inf
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        derived = ("default_min_lr", "mode_worse")   # recomputed here; older tensorgan states lack them
        mine = _without_torch_internals(self.state_dict(), derived)
        if isinstance(state_dict, dict):
            if "default_min_lr" in state_dict:
                self._default_min_lr = state_dict["default_min_lr"]
            state_dict = _without_torch_internals(state_dict, derived)
        if not isinstance(state_dict, dict) or set(state_dict) != set(mine):
            raise CheckpointError(f"ReduceLROnPlateau state must have the keys {sorted(mine)}, got "
                                  f"{sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__}")
        self.__dict__.update(state_dict)


def _without_torch_internals(state_dict: dict[str, Any], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """A torch scheduler's state dict less the entries that are torch's bookkeeping, not
    schedule state (``_get_lr_called_within_step``: a flag set only inside ``step()``), so a
    torch checkpoint's scheduler state loads here."""
    drop = ("_get_lr_called_within_step",) + extra
    return {k: v for k, v in state_dict.items() if k not in drop}


class ConstantLR(LRScheduler):
    """lr = initial_lr * factor until ``total_iters``, then initial_lr (chainable, as torch's)."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1):
        self.factor, self.total_iters = factor, total_iters
        self._check_hyperparameters()
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        self.factor = _check_number("ConstantLR", "factor", self.factor, low=0.0, high=1.0,
                                    high_open=False)   # torch: "between 0 and 1"
        self.total_iters = _check_int("ConstantLR", "total_iters", self.total_iters, 0)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [g["lr"] * self.factor for g in groups]
        if self.last_epoch != self.total_iters:
            return [g["lr"] for g in groups]
        if self.factor == 0:           # torch divides by zero here: the closed form instead
            return self._closed_form_lr()
        return [g["lr"] * (1.0 / self.factor) for g in groups]

    def _closed_form_lr(self) -> list[float]:
        done = self.last_epoch >= self.total_iters
        return [base * (self.factor + done * (1 - self.factor)) for base in self.base_lrs]


class LinearLR(LRScheduler):
    """lr = initial_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters) /
    total_iters): a linear warm-up (chainable, as torch's)."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        self._check_hyperparameters()
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        self.start_factor = _check_number("LinearLR", "start_factor", self.start_factor, low=0.0,
                                          low_open=True, high=1.0, high_open=False)
        self.end_factor = _check_number("LinearLR", "end_factor", self.end_factor, low=0.0, high=1.0,
                                        high_open=False)
        self.total_iters = _check_int("LinearLR", "total_iters", self.total_iters, 0)

    def get_lr(self) -> list[float]:
        groups, e = self.optimizer.param_groups, self.last_epoch
        if e == 0:
            return [g["lr"] * self.start_factor for g in groups]
        if self._is_initial or e > self.total_iters:
            return [g["lr"] for g in groups]
        change = self.end_factor - self.start_factor
        factor = 1.0 + change / (self.total_iters * self.start_factor + (e - 1) * change)
        return [g["lr"] * factor for g in groups]

    def _closed_form_lr(self) -> list[float]:
        done = min(self.total_iters, self.last_epoch) / self.total_iters if self.total_iters else 1.0
        return [base * (self.start_factor + (self.end_factor - self.start_factor) * done)
                for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = initial_lr * (1 - min(epoch, total_iters) / total_iters) ** power (chainable)."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1):
        self.total_iters, self.power = total_iters, power
        self._check_hyperparameters()
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        self.total_iters = _check_int("PolynomialLR", "total_iters", self.total_iters, 0)
        self.power = _check_number("PolynomialLR", "power", self.power)

    def get_lr(self) -> list[float]:
        groups, e, T = self.optimizer.param_groups, self.last_epoch, self.total_iters
        if self._is_initial or e > T:
            return [g["lr"] for g in groups]
        factor = ((1.0 - e / T) / (1.0 - (e - 1) / T)) ** self.power
        return [g["lr"] * factor for g in groups]

    def _closed_form_lr(self) -> list[float]:
        T = self.total_iters
        left = 1.0 - min(T, self.last_epoch) / T if T else 0.0
        return [base * left ** self.power for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2, restarting
    (T_cur = 0) after T_i epochs, each period T_mult times the one before.  ``step(epoch)`` takes
    a fractional epoch (``epoch + i / iters`` per batch), as torch's."""

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1):
        self.T_0, self.T_mult, self.eta_min = T_0, T_mult, eta_min
        self._check_hyperparameters()
        self.T_i, self.T_cur = self.T_0, last_epoch
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        self.T_0 = _check_int("CosineAnnealingWarmRestarts", "T_0", self.T_0, 1)
        self.T_mult = _check_int("CosineAnnealingWarmRestarts", "T_mult", self.T_mult, 1)
        self.eta_min = _check_number("CosineAnnealingWarmRestarts", "eta_min", self.eta_min)

    def get_lr(self) -> list[float]:
        cos = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base - self.eta_min) * cos for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """One epoch on, or (torch's form, no warning) to ``epoch``, a number >= 0."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur, self.T_i = self.T_cur % self.T_i, self.T_i * self.T_mult
        else:
            epoch = _check_number("CosineAnnealingWarmRestarts", "step(epoch)", epoch, low=0.0)
            self.T_i, self.T_cur = self._position(epoch)
        self.last_epoch = math.floor(epoch)
        self._set_lrs(self._get_lr_in_step())

    def _position(self, epoch: float) -> tuple[int, float]:
        """(T_i, T_cur) at ``epoch``: the period it falls in and how far into it."""
        if epoch < self.T_0:
            return self.T_0, epoch
        if self.T_mult == 1:
            return self.T_0, epoch % self.T_0
        n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
        return (self.T_0 * self.T_mult ** n,
                epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1))


def _cycle_momentum(owner: str, optimizer: Optimizer, base_momentum: Any, max_momentum: Any,
                    last_epoch: int) -> tuple[bool, list[float], list[float]]:
    """CyclicLR / OneCycleLR's momentum cycling: checks that the optimizer has ``momentum`` or
    ``betas``, and (fresh start) writes the max momentum into each group, as torch does.
    Returns (use_beta1, base_momentums, max_momentums)."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ConfigError(f"{owner}: optimizer must support momentum or beta1 with `cycle_momentum` "
                          f"option enabled ({type(optimizer).__name__} has neither: pass "
                          f"cycle_momentum=False)")
    use_beta1 = "betas" in optimizer.defaults
    bases = _per_group(owner, "base_momentum", optimizer, base_momentum)
    tops = _per_group(owner, "max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        for top, base, group in zip(tops, bases, optimizer.param_groups):
            _set_momentum(group, top, use_beta1)
            group["max_momentum"], group["base_momentum"] = top, base
    return use_beta1, bases, tops


def _set_momentum(group: dict[str, Any], value: float, use_beta1: bool) -> None:
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith): lr climbs from ``base_lr`` to ``max_lr`` over
    ``step_size_up`` steps and back over ``step_size_down``; the amplitude scaled per cycle
    ("triangular": 1, "triangular2": halved each cycle) or per step ("exp_range": gamma**step), or
    by ``scale_fn``.  With ``cycle_momentum`` the momentum (or Adam's beta1) moves the other way
    between ``max_momentum`` and ``base_momentum``.  Step it once per batch."""

    def __init__(self, optimizer: Optimizer, base_lr: float | Sequence[float], max_lr: float | Sequence[float],
                 step_size_up: int = 2000, step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None,
                 scale_mode: str = "cycle", cycle_momentum: bool = True, base_momentum: float = 0.8,
                 max_momentum: float = 0.9, last_epoch: int = -1):
        name = "CyclicLR"
        base_lrs = _per_group(name, "base_lr", optimizer, base_lr)
        _check_int(name, "last_epoch", last_epoch, -1)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                _write_lr(group, lr)
        self.max_lrs = _per_group(name, "max_lr", optimizer, max_lr)
        up = _check_number(name, "step_size_up", step_size_up, low=0.0, low_open=True)
        down = up if step_size_down is None else _check_number(name, "step_size_down", step_size_down,
                                                                low=0.0, low_open=True)
        self.total_size, self.step_ratio = up + down, up / (up + down)
        if scale_fn is not None and not callable(scale_fn):
            raise ConfigError(f"{name}: scale_fn must be a function or None, got {type(scale_fn).__name__}")
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ConfigError(f"{name}: mode is invalid and scale_fn is None (mode must be "
                              f"'triangular', 'triangular2' or 'exp_range', got {mode!r})")
        if scale_fn is not None and scale_mode not in ("cycle", "iterations"):   # else unused (torch)
            raise ConfigError(f"{name}: scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
        self.mode, self.gamma, self._scale_fn_custom = mode, _check_number(name, "gamma", gamma), scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else (
            "iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = _cycle_momentum(
                name, optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        """The amplitude's scale at cycle (or step) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self) -> list[float]:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        height = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (top - base) * height * scale for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, base, top in zip(self.optimizer.param_groups, self.base_momentums,
                                        self.max_momentums):
                _set_momentum(group, top - (top - base) * height * scale, self.use_beta1)
        return lrs


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin): lr from ``max_lr / div_factor`` up to ``max_lr`` over
    ``pct_start`` of ``total_steps`` (or ``epochs * steps_per_epoch``), then down to
    ``initial_lr / final_div_factor`` ("cos" or "linear" annealing; ``three_phase``: back to the
    initial lr first); momentum (or beta1) the other way.  Step it once per batch; stepping past
    ``total_steps`` is an error, as in torch."""

    def __init__(self, optimizer: Optimizer, max_lr: float | Sequence[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | Sequence[float] = 0.85, max_momentum: float | Sequence[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1):
        name = "OneCycleLR"
        max_lrs = _per_group(name, "max_lr", optimizer, max_lr)
        if total_steps is not None:
            self.total_steps = _check_int(name, "total_steps", total_steps, 1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = (_check_int(name, "epochs", epochs, 1)
                                * _check_int(name, "steps_per_epoch", steps_per_epoch, 1))
        else:
            raise ConfigError(f"{name}: You must define either total_steps OR (epochs AND steps_per_epoch)")
        pct = _check_number(name, "pct_start", pct_start, low=0.0, high=1.0, high_open=False)
        if anneal_strategy not in ("cos", "linear"):
            raise ConfigError(f"{name}: anneal_strategy must be one of 'cos' or 'linear', instead got "
                              f"{anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        div = _check_number(name, "div_factor", div_factor, low=0.0, low_open=True)
        final_div = _check_number(name, "final_div_factor", final_div_factor, low=0.0, low_open=True)
        self._schedule_phases = self._phases(pct, bool(three_phase))
        _check_int(name, "last_epoch", last_epoch, -1)
        if last_epoch == -1:
            for top, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"], group["max_lr"] = top / div, top
                group["min_lr"] = group["initial_lr"] / final_div
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1, _, _ = _cycle_momentum(name, optimizer, base_momentum, max_momentum,
                                                   last_epoch)
        super().__init__(optimizer, last_epoch)

    def _phases(self, pct: float, three_phase: bool) -> list[dict[str, Any]]:
        """torch's phases: where each ends and which group keys it anneals between."""
        def phase(end, lr0, lr1, m0, m1):
            return {"end_step": end, "start_lr": lr0, "end_lr": lr1, "start_momentum": m0,
                    "end_momentum": m1}
        warm = float(pct * self.total_steps) - 1
        last = self.total_steps - 1
        if three_phase:
            return [phase(warm, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                    phase(float(2 * pct * self.total_steps) - 2, "max_lr", "initial_lr",
                          "base_momentum", "max_momentum"),
                    phase(last, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        return [phase(warm, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                phase(last, "max_lr", "min_lr", "base_momentum", "max_momentum")]

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ConfigError(f"OneCycleLR: Tried to step {step} times. The specified number of total "
                              f"steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, ph in enumerate(self._schedule_phases):
                if step <= ph["end_step"] or i == len(self._schedule_phases) - 1:
                    pct = (step - start) / (ph["end_step"] - start)
                    lrs.append(self._anneal(group[ph["start_lr"]], group[ph["end_lr"]], pct))
                    if self.cycle_momentum:
                        _set_momentum(group, self._anneal(group[ph["start_momentum"]],
                                                          group[ph["end_momentum"]], pct),
                                      self.use_beta1)
                    break
                start = ph["end_step"]
        return lrs


class _SchedulerList(LRScheduler):
    """SequentialLR / ChainedScheduler: schedulers of one optimizer, stepped together or in turn;
    ``state_dict()`` nests theirs."""

    def _adopt(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler]) -> None:
        name = type(self).__name__
        schedulers = list(schedulers) if isinstance(schedulers, (list, tuple)) else schedulers
        if not isinstance(schedulers, list) or not schedulers:
            raise ConfigError(f"{name} expects at least one scheduler, but got {schedulers!r:.60}")
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):
                raise ConfigError(f"{name} does not support `ReduceLROnPlateau` scheduler as it requires "
                                  f"additional kwargs to be specified when calling `step`, but got one "
                                  f"at index {i} in the given schedulers sequence.")
            if not isinstance(s, LRScheduler):
                raise ConfigError(f"{name}: the scheduler at index {i} is a {type(s).__name__}, not an "
                                  f"LRScheduler")
            if s.optimizer is not optimizer:
                raise ConfigError(f"{name} expects all schedulers to belong to the same optimizer, but "
                                  f"got scheduler {type(s).__name__} at index {i} with another one")
        self.optimizer, self._schedulers = optimizer, schedulers

    def state_dict(self) -> dict[str, Any]:
        sd = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()
              if k not in ("optimizer", "_schedulers")}
        sd["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore ``state_dict()`` output, each scheduler's own state included."""
        name = type(self).__name__
        mine = self.state_dict()
        if not isinstance(state_dict, dict) or set(state_dict) != set(mine) \
                or len(state_dict["_schedulers"]) != len(self._schedulers):
            raise CheckpointError(f"{name} state must have the keys {sorted(mine)} and "
                                  f"{len(self._schedulers)} schedulers' states")
        before = [s.state_dict() for s in self._schedulers]
        try:
            for s, saved in zip(self._schedulers, state_dict["_schedulers"]):
                s.load_state_dict(saved)
        except (ConfigError, CheckpointError):
            for s, saved in zip(self._schedulers, before):
                s.load_state_dict(saved)
            raise
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "_schedulers"})

    def __repr__(self) -> str:
        inner = ", ".join(type(s).__name__ for s in self._schedulers)
        return f"{type(self).__name__}([{inner}], lr={self.get_last_lr()})"


class SequentialLR(_SchedulerList):
    """``schedulers[i]`` runs from ``milestones[i - 1]`` on (each restarting at its epoch 0 there):
    e.g. a LinearLR warm-up, then a CosineAnnealingLR."""

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int],
                 last_epoch: int = -1):
        self._adopt(optimizer, schedulers)
        milestones = list(milestones)
        if len(milestones) != len(self._schedulers) - 1:
            raise ConfigError(f"SequentialLR: Sequential Schedulers expects number of schedulers "
                              f"provided to be one more than the number of milestone points, but got "
                              f"number of schedulers {len(self._schedulers)} and the number of "
                              f"milestones to be equal to {len(milestones)}")
        self._milestones = [_check_int("SequentialLR", f"milestones[{i}]", m, 0)
                            for i, m in enumerate(milestones)]
        self.last_epoch = _check_int("SequentialLR", "last_epoch", last_epoch, -1) + 1
        for group in optimizer.param_groups:    # every scheduler starts from initial_lr
            _write_lr(group, group["initial_lr"])
        for s in self._schedulers:             # undo their constructors' steps ...
            s.last_epoch -= 1
        first = self._schedulers[bisect.bisect_right(self._milestones, 0)]
        first._initial_step()                 # ... and redo the first one's
        self._last_lr = first.get_last_lr()

    def step(self) -> None:  # type: ignore[override]
        self.last_epoch += 1
        idx = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            # the next scheduler starts at its epoch 0: torch 2.13's _update_lr(0), which (unlike
            # the step(0) of older torch) neither counts a step nor checks the order
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_SchedulerList):
    """Steps every scheduler in turn on each ``step()``, so their factors compose (chainable ones)."""

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None):
        first = schedulers[0] if isinstance(schedulers, (list, tuple)) and schedulers else None
        self._adopt(optimizer or getattr(first, "optimizer", None), schedulers)
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def step(self) -> None:  # type: ignore[override]
        for s in self._schedulers:
            s.step()
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]
