"""Weight averaging, torch 2.13's ``torch.optim.swa_utils``: ``AveragedModel`` (SWA, or an EMA of a
generator's weights, the copy GANs sample from), the averaging functions, ``SWALR`` and ``update_bn``::

    G_ema = AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(0.999))
    for step in ...:
        ...; opt_g.step()
        G_ema.update_parameters(G)          # the first call copies G, later ones average
    fake = G_ema(z)

The averaging runs under no graph on the raw arrays of the copy's parameters (and, with
``use_buffers=True``, its buffers; otherwise the buffers are copied from the model).
``n_averaged`` is an int64 buffer, so ``state_dict()`` holds it beside ``module.*``, as torch's.
"""
from __future__ import annotations

import copy
import functools
import math
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..backend import device_of, move_array
from ..errors import ConfigError
from ..grad_mode import no_grad
from ..nn.layers import _BatchNorm
from ..nn.module import IntBuffer, Module
from ..tensor import Tensor, lerp_into
from . import Optimizer, _check_number
from .lr_scheduler import LRScheduler, _check_int, _per_group

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn"]

AvgFn = Callable[[Any, Any, Any], Any]
MultiAvgFn = Callable[[list, list, Any], None]


def _raw(x: Any):
    """The array behind a Tensor (an IntBuffer / NumPy buffer is its own array)."""
    return x.array if isinstance(x, Tensor) else x


def _lerp_into(averaged: Sequence[Any], current: Sequence[Any], weight: float) -> None:
    """``a = a + weight * (c - a)`` in place, torch's lerp (``c - (c - a) * (1 - weight)`` from
    weight 0.5 on).  Integer buffers take the float result truncated, as torch's ``copy_``."""
    for a, c in zip(averaged, current):
        a, c = _raw(a), _raw(c)
        if a.dtype.kind != "f":
            a[...] = (a + weight * (c - a)).astype(a.dtype)   # NumPy or CuPy
        else:
            lerp_into(device_of(a), a, c, weight)


def _check_decay(decay: Any) -> float:
    value = _check_number("get_ema_avg_fn", "decay", decay)
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")
    return value


def _ema_multi(decay: float, ema_param_list: list, current_param_list: list, _: Any) -> None:
    _lerp_into(ema_param_list, current_param_list, 1.0 - decay)


def _swa_multi(averaged_param_list: list, current_param_list: list, num_averaged: Any) -> None:
    _lerp_into(averaged_param_list, current_param_list, 1.0 / (int(num_averaged) + 1))


def _ema_one(decay: float, ema_param: Any, current_param: Any, num_averaged: Any) -> Any:
    return decay * ema_param + (1 - decay) * current_param


def _swa_one(averaged_param: Any, current_param: Any, num_averaged: Any) -> Any:
    return averaged_param + (current_param - averaged_param) / (num_averaged + 1)


# The functions below return module-level functions (bound with functools.partial), so an
# AveragedModel that holds one can be deep-copied and pickled (torch's are closures, which can't).
def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    """In place over lists: ``ema = decay * ema + (1 - decay) * current`` (torch's lerp)."""
    return functools.partial(_ema_multi, _check_decay(decay))


def get_swa_multi_avg_fn() -> MultiAvgFn:
    """In place over lists: the running mean, ``avg += (current - avg) / (n_averaged + 1)``."""
    return _swa_multi


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """One tensor: returns ``decay * ema + (1 - decay) * current``."""
    return functools.partial(_ema_one, _check_decay(decay))


def get_swa_avg_fn() -> AvgFn:
    """One tensor: returns ``avg + (current - avg) / (num_averaged + 1)``."""
    return _swa_one


class AveragedModel(Module):
    """A deep copy of ``model`` whose parameters are averaged over ``update_parameters`` calls.

    ``avg_fn(averaged, current, n_averaged)`` returns one averaged tensor; ``multi_avg_fn(averaged_list,
    current_list, n_averaged)`` updates lists in place (faster: ``get_ema_multi_avg_fn``); neither:
    the equal-weight SWA mean.  ``use_buffers=True`` averages the buffers too (BatchNorm running
    statistics); otherwise they are copied from ``model`` on each update.  ``device``: where the
    copy lives.  Calling it runs the copy."""

    def __init__(self, model: Module, device: Any = None, avg_fn: AvgFn | None = None,
                 multi_avg_fn: MultiAvgFn | None = None, use_buffers: bool = False):
        super().__init__()
        if not isinstance(model, Module):
            raise ConfigError(f"AveragedModel averages a tensorgan Module, got {type(model).__name__}")
        if avg_fn is not None and multi_avg_fn is not None:
            raise ConfigError("AveragedModel: only one of avg_fn and multi_avg_fn should be provided")
        for name, fn in (("avg_fn", avg_fn), ("multi_avg_fn", multi_avg_fn)):
            if fn is not None and not callable(fn):
                raise ConfigError(f"AveragedModel: {name} must be a function, got {type(fn).__name__}")
        if not isinstance(use_buffers, (bool, np.bool_)):
            raise ConfigError(f"AveragedModel: use_buffers must be True or False, got {use_buffers!r}")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", IntBuffer.zeros())
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, bool(use_buffers)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def _averaged_pairs(self, model: Module) -> list[tuple[Any, Any]]:
        """(the copy's tensor, the model's, moved to the copy's device) for each averaged one."""
        mine, theirs = list(self.module.parameters()), list(model.parameters())
        if self.use_buffers:
            mine += list(self.module.buffers())
            theirs += list(model.buffers())
        if len(mine) != len(theirs) or any(_raw(a).shape != _raw(b).shape for a, b in zip(mine, theirs)):
            raise ConfigError(f"AveragedModel.update_parameters: the model's "
                              f"{'parameters and buffers' if self.use_buffers else 'parameters'} "
                              f"({len(theirs)}) do not match the averaged copy's ({len(mine)}, "
                              f"or their shapes differ): pass the model it was made from")
        return [(a, _on_device_of(a, b)) for a, b in zip(mine, theirs)]

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current weights into the average (the first call copies them)."""
        pairs = self._averaged_pairs(model)
        n = int(self.n_averaged)
        with no_grad():
            if n == 0:
                for a, b in pairs:
                    _raw(a)[...] = _raw(b)
            elif self.avg_fn is not None:
                for a, b in pairs:   # n_averaged on the tensor's device, as torch passes it
                    count = (Tensor._make(a.device.xp.asarray(n, dtype=np.int64), a.device)
                             if isinstance(a, Tensor) else n)
                    value = self.avg_fn(_as_tensor(a), _as_tensor(b), count)
                    _raw(a)[...] = _raw(value) if isinstance(value, Tensor) else value
            else:
                averaged, current = [_as_tensor(a) for a, _ in pairs], [_as_tensor(b) for _, b in pairs]
                (self.multi_avg_fn or get_swa_multi_avg_fn())(averaged, current, n)
            for a, _ in pairs:
                if isinstance(a, Tensor):
                    a._bump_version()
            if not self.use_buffers:
                for a, b in zip(self.module.buffers(), model.buffers()):
                    _raw(a)[...] = _raw(_on_device_of(a, b))
        self.n_averaged += 1


def _on_device_of(target: Any, source: Any) -> Any:
    """``source`` as an array or Tensor on ``target``'s device (host buffers stay host)."""
    if isinstance(target, Tensor) and isinstance(source, Tensor) and source.device is not target.device:
        return Tensor._make(move_array(source.array, source.device, target.device), target.device)
    if isinstance(target, Tensor) and not isinstance(source, Tensor):
        return Tensor._make(target.device.xp.asarray(source), target.device)
    if not isinstance(target, Tensor) and isinstance(source, Tensor):
        return source.numpy()
    return source


def _as_tensor(x: Any) -> Any:
    """What an avg function sees: a detached Tensor sharing the memory (IntBuffers as they are)."""
    return x.detach() if isinstance(x, Tensor) else x


@no_grad()
def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute every BatchNorm's running statistics with one pass over ``loader`` (the averaged
    weights' own statistics): reset them, average over all batches (momentum None), restore
    each momentum and the model's train/eval mode.  A batch that is a list or tuple contributes
    its first element."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    try:
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to ``swa_lr`` over ``anneal_epochs`` steps ("cos" or "linear"), then
    hold it (torch's formula: from the current lr, so it starts from where training left off)."""

    def __init__(self, optimizer: Optimizer, swa_lr: float | Sequence[float], anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1):
        for value, group in zip(_per_group("SWALR", "swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = value
        self.anneal_epochs, self._anneal_strategy = anneal_epochs, anneal_strategy
        self._check_hyperparameters()
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        if self._anneal_strategy not in ("cos", "linear"):
            raise ConfigError(f"SWALR: anneal_strategy must be one of 'cos' or 'linear', instead got "
                              f"{self._anneal_strategy!r}")
        self.anneal_epochs = _check_int("SWALR", "anneal_epochs", self.anneal_epochs, 0)

    def _anneal(self, t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2 if self._anneal_strategy == "cos" else t

    def get_lr(self) -> list[float]:
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self._anneal(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self._anneal(max(0, min(1, step / max(1, self.anneal_epochs))))
        lrs = []
        for group in self.optimizer.param_groups:
            swa = group["swa_lr"]
            start = swa if prev_alpha == 1 else (group["lr"] - prev_alpha * swa) / (1 - prev_alpha)
            lrs.append(swa * alpha + start * (1 - alpha))
        return lrs
