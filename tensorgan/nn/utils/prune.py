"""``torch.nn.utils.prune``: masking a module's parameters, torch's re-parametrization.

Pruning ``module.<name>`` moves the parameter to ``<name>_orig``, registers the mask as the buffer
``<name>_mask`` and makes ``module.<name>`` the plain attribute ``<name>_orig * <name>_mask``,
recomputed before every forward by a forward pre-hook (the pruning method itself). Pruning the
same parameter again combines the masks through a :class:`PruningContainer` (the new method acts
on what the earlier masks left); :func:`remove` makes the pruning permanent. Subclass
:class:`BasePruningMethod` (``PRUNING_TYPE`` and ``compute_mask``) for a custom method.
"""
from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from typing import Any, Iterable

from ...errors import (ConfigError, IndexOutOfRangeError, InputTypeError, PruneParameterError,
                       ShapeError)
from ...tensor import Tensor

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured",
           "L1Unstructured", "RandomStructured", "LnStructured", "CustomFromMask", "identity",
           "random_unstructured", "l1_unstructured", "random_structured", "ln_structured",
           "global_unstructured", "custom_from_mask", "remove", "is_pruned"]

_TYPES = ("unstructured", "structured", "global")


class BasePruningMethod(ABC):
    """A pruning method: ``compute_mask(t, default_mask)`` gives the mask (1 keep, 0 prune); the
    method is also the forward pre-hook that recomputes ``module.<name>`` before each forward."""

    _tensor_name: str
    PRUNING_TYPE: str = "unstructured"

    def __call__(self, module: Any, inputs: Any) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The mask for ``t``, combining ``default_mask`` (the earlier one)."""

    def apply_mask(self, module: Any) -> Tensor:
        """``<name>_orig * <name>_mask`` (the pruned tensor)."""
        name = getattr(self, "_tensor_name", None)
        if name is None:
            raise ConfigError(f"{type(self).__name__}.apply_mask: the method was not applied to a "
                              f"module yet (use {type(self).__name__}.apply(module, name, ...))")
        orig = getattr(module, name + "_orig")
        mask = getattr(module, name + "_mask")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module: Any, name: str, *args: Any, importance_scores: Tensor | None = None,
              **kwargs: Any) -> "BasePruningMethod":
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``, combined with the pruning
        already applied to it; returns the method now hooked on the module."""
        if not hasattr(module, name):
            raise PruneParameterError(f"{cls.__name__}.apply: {type(module).__name__} has no "
                                      f"parameter {name!r}")
        old = None
        for key, hook in list(module._forward_pre_hooks.items()):
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                if old is not None:
                    raise ConfigError(f"{cls.__name__}.apply: more than one pruning hook on "
                                      f"parameter {name!r}")
                old = hook
                del module._forward_pre_hooks[key]
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old is not None:
            container = old if isinstance(old, PruningContainer) else PruningContainer(old)
            container.add_pruning_method(method)
            method = container
        orig = getattr(module, name)
        if importance_scores is not None and tuple(importance_scores.shape) != tuple(orig.shape):
            raise ShapeError(f"{cls.__name__}.apply: importance_scores of shape "
                             f"{tuple(importance_scores.shape)} should match parameter {name!r} "
                             f"of shape {tuple(orig.shape)}")
        scores = importance_scores if importance_scores is not None else orig
        if old is None:     # first pruning: the parameter becomes <name>_orig
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = _ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            mask = method.compute_mask(scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if old is None:     # undo the re-parametrization
                param = module._parameters.pop(name + "_orig")   # the attribute goes too
                module.register_parameter(name, param)
            raise
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None,
              importance_scores: Tensor | None = None) -> Tensor:
        """``t`` with this method's mask applied (nothing is registered anywhere)."""
        if importance_scores is not None and tuple(importance_scores.shape) != tuple(t.shape):
            raise ShapeError(f"{type(self).__name__}.prune: importance_scores of shape "
                             f"{tuple(importance_scores.shape)} should match t of shape "
                             f"{tuple(t.shape)}")
        scores = importance_scores if importance_scores is not None else t
        default_mask = default_mask if default_mask is not None else _ones_like(t)
        return t * self.compute_mask(scores, default_mask=default_mask)

    def remove(self, module: Any) -> None:
        """Make the pruning permanent: ``<name>`` a Parameter again, holding the pruned values;
        ``<name>_orig`` and ``<name>_mask`` are gone."""
        name = self._tensor_name
        weight = self.apply_mask(module)
        if hasattr(module, name):
            delattr(module, name)
        orig = module._parameters[name + "_orig"]
        orig.data = weight.data
        del module._parameters[name + "_orig"]      # the attribute goes too
        delattr(module, name + "_mask")
        setattr(module, name, orig)


class PruningContainer(BasePruningMethod):
    """The successive pruning methods of one parameter; its mask applies each new method to the
    part the earlier masks left (by ``PRUNING_TYPE``)."""

    def __init__(self, *args: BasePruningMethod) -> None:
        self._pruning_methods: tuple = ()
        if len(args) == 1 and not isinstance(args[0], BasePruningMethod) and \
                isinstance(args[0], Iterable):
            args = tuple(args[0])
        if len(args) == 1 and isinstance(args[0], BasePruningMethod):
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise InputTypeError(f"PruningContainer.add_pruning_method: {type(method).__name__} "
                                 f"is not a BasePruningMethod subclass")
        if method is not None and getattr(self, "_tensor_name", None) is not None and \
                self._tensor_name != method._tensor_name:
            raise ConfigError(f"PruningContainer: can only add pruning methods acting on the "
                              f"parameter named {self._tensor_name!r} to this container; got "
                              f"{method._tensor_name!r}")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx: int) -> BasePruningMethod:
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """``default_mask`` with the last method's mask computed on the still-unpruned part."""
        method = self._pruning_methods[-1]
        ptype = method.PRUNING_TYPE
        new_mask = default_mask.clone()
        if ptype == "unstructured":
            slc = default_mask == 1
        elif ptype == "structured":
            if not hasattr(method, "dim"):
                raise ConfigError(f"{type(method).__name__}: a structured pruning method needs "
                                  f"the attribute 'dim'")
            ndim = len(t.shape)
            dim = method.dim if method.dim >= 0 else ndim + method.dim
            others = [d for d in range(ndim) if d != dim]
            keep = default_mask.sum(dim=others) != 0 if others else default_mask != 0
            index = [slice(None)] * ndim
            index[dim] = keep
            slc = tuple(index)
        elif ptype == "global":
            slc = tuple([slice(None)] * len(t.shape))
        else:
            raise ConfigError(f"{type(method).__name__}: unrecognized PRUNING_TYPE {ptype!r} "
                              f"(one of {', '.join(_TYPES)})")
        partial = method.compute_mask(t[slc], default_mask=default_mask[slc])
        new_mask[slc] = partial.to(dtype=new_mask.dtype)
        return new_mask


class Identity(BasePruningMethod):
    """Prunes nothing (a mask of ones)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module: Any, name: str) -> "BasePruningMethod":  # type: ignore[override]
        return super().apply(module, name)


def _unstructured_mask(amount: int | float, default_mask: Tensor, scores: Any,
                       largest: bool) -> Tensor:
    """``default_mask`` with ``amount`` more entries zeroed: those whose ``scores()`` are the
    largest (random scores) or smallest (magnitudes); scores are drawn only when something is
    pruned, as torch's."""
    size = default_mask.numel()
    _validate_amount(amount, size)
    k = _nparams_toprune(amount, size)
    mask = default_mask.clone()
    if k != 0:
        idx = _topk_indices(scores().reshape(-1), k, largest=largest)
        mask.view(-1)[idx] = 0
    return mask


class RandomUnstructured(BasePruningMethod):
    """Prunes ``amount`` (a fraction in [0, 1] or a count) of the entries, chosen at random."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: int | float) -> None:
        _validate_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return _unstructured_mask(self.amount, default_mask, lambda: _tg().rand_like(t), largest=True)

    @classmethod
    def apply(cls, module: Any, name: str, amount: int | float) -> "BasePruningMethod":  # type: ignore[override]
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prunes ``amount`` of the entries with the smallest absolute values."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: int | float) -> None:
        _validate_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return _unstructured_mask(self.amount, default_mask, lambda: t.detach().abs(), largest=False)

    @classmethod
    def apply(cls, module: Any, name: str, amount: int | float,  # type: ignore[override]
              importance_scores: Tensor | None = None) -> "BasePruningMethod":
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _structured_count(method: Any, t: Tensor) -> tuple[int, int]:
    """A structured method's (channels along its ``dim``, how many of them to prune), checked."""
    _validate_structured(t)
    _check_dim(t, method.dim, type(method).__name__)
    nchannels = t.shape[method.dim]
    _validate_amount(method.amount, nchannels)
    return nchannels, _nparams_toprune(method.amount, nchannels)


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` of the channels along ``dim``, chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, dim: int = -1) -> None:
        _validate_amount_init(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        nchannels, k = _structured_count(self, t)
        if k == 0:
            return default_mask
        prob = _tg().rand(nchannels)
        threshold = prob.kthvalue(k).values
        return _channel_mask(t, self.dim, prob > threshold) * default_mask

    @classmethod
    def apply(cls, module: Any, name: str, amount: int | float, dim: int = -1) -> "BasePruningMethod":  # type: ignore[override]
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes ``amount`` of the channels along ``dim`` with the smallest L``n`` norm."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, n: Any, dim: int = -1) -> None:
        _validate_amount_init(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        nchannels, k = _structured_count(self, t)
        if k == 0:
            return default_mask
        ndim = len(t.shape)
        dim = self.dim if self.dim >= 0 else ndim + self.dim
        others = [d for d in range(ndim) if d != dim]
        norm = t.detach().norm(p=self.n, dim=others)
        keep = _topk_indices(norm, nchannels - k, largest=True)
        chosen = _tg().zeros(nchannels, dtype=_tg().bool)
        chosen[keep] = True
        return _channel_mask(t, self.dim, chosen) * default_mask.to(dtype=t.dtype)

    @classmethod
    def apply(cls, module: Any, name: str, amount: int | float, n: Any, dim: int,  # type: ignore[override]
              importance_scores: Tensor | None = None) -> "BasePruningMethod":
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where the given ``mask`` is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise ShapeError(f"CustomFromMask: mask of shape {tuple(self.mask.shape)} should "
                             f"match the tensor's shape {tuple(default_mask.shape)}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module: Any, name: str, mask: Tensor) -> "BasePruningMethod":  # type: ignore[override]
        return super().apply(module, name, mask=mask)


def identity(module: Any, name: str) -> Any:
    """Prune nothing, but set up ``<name>_orig`` / ``<name>_mask`` (a mask of ones)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: Any, name: str, amount: int | float) -> Any:
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Any, name: str, amount: int | float,
                    importance_scores: Tensor | None = None) -> Any:
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Any, name: str, amount: int | float, dim: int) -> Any:
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Any, name: str, amount: int | float, n: Any, dim: int,
                  importance_scores: Tensor | None = None) -> Any:
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters: Iterable, pruning_method: type, importance_scores: dict | None = None,
                        **kwargs: Any) -> None:
    """Prune the (module, name) pairs together: ``pruning_method`` (an unstructured one) sees
    all their entries as one vector, so the layers end with different sparsities."""
    ones_like, cat = _tg().ones_like, _tg().cat
    if not isinstance(parameters, Iterable) or isinstance(parameters, (str, Tensor)):
        raise InputTypeError("global_unstructured: parameters must be an iterable of "
                             "(module, name) pairs")
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise InputTypeError("global_unstructured: importance_scores must be a dict "
                             "{(module, name): Tensor} or None")
    scores = cat([importance_scores.get((m, n), getattr(m, n)).detach().reshape(-1)
                  for m, n in parameters])
    default_mask = cat([getattr(m, n + "_mask", None).reshape(-1)
                        if getattr(m, n + "_mask", None) is not None
                        else ones_like(getattr(m, n)).reshape(-1) for m, n in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise InputTypeError(f"global_unstructured: only 'unstructured' PRUNING_TYPE is "
                             f"supported for the pruning_method, got {method.PRUNING_TYPE!r}")
    container.add_pruning_method(method)
    final = container.compute_mask(scores, default_mask)
    start = 0
    for m, n in parameters:
        p = getattr(m, n)
        count = p.numel()
        custom_from_mask(m, n, mask=final[start:start + count].view_as(p))
        start += count


def custom_from_mask(module: Any, name: str, mask: Tensor) -> Any:
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module: Any, name: str) -> Any:
    """Make the pruning of ``module.<name>`` permanent (drops the mask, the hook and
    ``<name>_orig``; ``<name>`` is a Parameter again with the pruned values)."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ConfigError(f"prune.remove: parameter {name!r} of {type(module).__name__} has to be "
                      f"pruned before pruning can be removed")


def is_pruned(module: Any) -> bool:
    """Whether some submodule of ``module`` holds a pruning hook."""
    for _, sub in module.named_modules():
        for hook in sub._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False


# -- helpers --------------------------------------------------------------------------------
def _tg():
    import tensorgan
    return tensorgan


def _ones_like(t: Tensor) -> Tensor:
    return _tg().ones_like(t.detach())


def _topk_indices(v: Tensor, k: int, largest: bool) -> Tensor:
    return v.topk(k, largest=largest).indices


def _channel_mask(t: Tensor, dim: int, keep: Tensor) -> Tensor:
    mask = _tg().zeros_like(t.detach())
    index = [slice(None)] * len(t.shape)
    index[dim] = keep
    mask[tuple(index)] = 1
    return mask


def _check_dim(t: Tensor, dim: int, owner: str) -> None:
    if not -len(t.shape) <= dim < len(t.shape):
        raise IndexOutOfRangeError(f"{owner}: dim {dim} is out of range for a tensor of shape "
                         f"{tuple(t.shape)}")


def _validate_amount_init(amount: Any) -> None:
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise InputTypeError(f"prune: invalid type for amount: {type(amount).__name__}; must be "
                             f"an int or a float")
    if (isinstance(amount, numbers.Integral) and amount < 0) or \
            (not isinstance(amount, numbers.Integral) and (amount > 1.0 or amount < 0.0)):
        raise ConfigError(f"prune: amount={amount} should either be a float in the range "
                          f"[0, 1] or a non-negative integer")


def _validate_amount(amount: Any, size: int) -> None:
    if isinstance(amount, numbers.Integral) and amount > size:
        raise ConfigError(f"prune: amount={amount} should be smaller than the number of "
                          f"parameters to prune={size}")


def _validate_structured(t: Tensor) -> None:
    if len(t.shape) <= 1:
        raise ShapeError(f"prune: structured pruning can only be applied to multidimensional "
                         f"tensors; found a tensor of shape {tuple(t.shape)} with "
                         f"{len(t.shape)} dims")


def _nparams_toprune(amount: Any, size: int) -> int:
    if isinstance(amount, numbers.Integral):
        return int(amount)
    return round(amount * size)
