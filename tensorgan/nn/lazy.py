"""torch's lazy modules: ``in_features`` / ``in_channels`` / ``num_features`` are read off the
first input, whose forward materializes the UninitializedParameters and turns the module into
its plain class (``cls_to_become``), initialized by that class's ``reset_parameters``.

As in torch, an optimizer built on a lazy module's parameters before the first forward holds the
same objects, which are materialized in place (same identity), so it keeps working; its
per-parameter state must not be read before that forward (torch's docs warn the same)."""
from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np

from ..errors import ShapeError, UninitializedParameterError
from ..tensor import Tensor, _caller_level
from .layers import (BatchNorm1d, BatchNorm2d, BatchNorm3d, Conv1d, Conv2d, Conv3d,
                     ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, InstanceNorm1d,
                     InstanceNorm2d, InstanceNorm3d, Linear, _positive_int)
from .module import (IntBuffer, Module, UninitializedBuffer, UninitializedParameter, _state_value,
                     is_lazy)

__all__ = ["UninitializedParameter", "UninitializedBuffer", "LazyModuleMixin", "LazyLinear",
           "LazyConv1d", "LazyConv2d", "LazyConvTranspose1d", "LazyConvTranspose2d",
           "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
           "LazyConv3d", "LazyConvTranspose3d", "LazyBatchNorm3d", "LazyInstanceNorm3d"]

class LazyModuleMixin:
    """torch's mixin (first base of each Lazy* class): a load-state-dict pre-hook that
    materializes the lazy tensors the state dict has values for, and a forward pre-hook that
    calls ``initialize_parameters(*args)``, then turns the module into ``cls_to_become``."""
    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        warnings.warn("Lazy modules are a new feature under heavy development so changes to the "
                      "API or functionality can happen at any moment.", UserWarning, stacklevel=_caller_level())
        self._load_hook = self.register_load_state_dict_pre_hook(LazyModuleMixin._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(LazyModuleMixin._infer_parameters,
                                                               with_kwargs=True)

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """As Module's, but a lazy tensor goes in as itself (it has no values to copy)."""
        for name, t in self._local_state():
            if keep_vars or is_lazy(t):
                destination[prefix + name] = t
            else:
                destination[prefix + name] = _state_value(t)

    @staticmethod
    def _lazy_load_hook(module: Module, state_dict: dict, prefix: str, *_: Any) -> None:
        for name, t in itertools.chain(module._parameters.items(), module._buffers.items()):
            value = state_dict.get(prefix + name)
            if value is not None and is_lazy(t) and not is_lazy(value):
                t.materialize(value.shape if isinstance(value, Tensor) else np.shape(value))

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer of this module is still uninitialized."""
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(), self._buffers.values()))

    @staticmethod
    def _infer_parameters(module: Any, args: tuple, kwargs: dict | None = None) -> None:
        if not args or not isinstance(args[0], Tensor):
            raise UninitializedParameterError(f"{type(module).__name__}: the first forward needs a "
                                              f"Tensor input to infer the parameters' shapes")
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise UninitializedParameterError(f"module {type(module).__name__} has not been fully initialized")
        module._initialize_hook.remove()
        module._load_hook.remove()
        del module._initialize_hook, module._load_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become


def _materialize(module: Module, names: tuple, shape: tuple) -> None:
    """Give ``module``'s lazy tensors called ``names`` the ``shape``."""
    for name in names:
        t = getattr(module, name, None)
        if is_lazy(t):
            t.materialize(shape)


class LazyLinear(LazyModuleMixin, Linear):
    """``nn.LazyLinear(out_features, bias=True, device=None, dtype=None)``: in_features is the
    first input's last size."""
    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None):
        super().__init__(1, _positive_int("out_features", out_features, "LazyLinear", 0), False)
        self.in_features = 0
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self, generator: Any = None) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters(generator)

    def initialize_parameters(self, x: Tensor) -> None:
        """Take in_features from ``x``'s last dim and draw the weights (Linear's init)."""
        if x.ndim == 0:
            raise ShapeError("LazyLinear: expected input of shape (..., in_features), got a 0-d tensor")
        self.in_features = x.shape[-1]
        if self.has_uninitialized_params():
            _materialize(self, ("weight",), (self.out_features, self.in_features))
            _materialize(self, ("bias",), (self.out_features,))
            self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    """in_channels from dim 1 of a batched input, dim 0 of an unbatched one."""

    def __init__(self, out_channels: int, kernel_size: Any, *args: Any, bias: bool = True,
                 device: Any = None, dtype: Any = None, groups: int = 1, **kwargs: Any):
        super().__init__(groups, out_channels, kernel_size, *args, groups=groups, bias=False, **kwargs)
        self.in_channels = 0
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self, generator: Any = None) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters(generator)

    def initialize_parameters(self, x: Tensor, *_: Any) -> None:
        """Take in_channels from ``x`` and draw the weights (the plain layer's init)."""
        if not self.has_uninitialized_params():
            return
        name = type(self).__name__
        if x.ndim not in (self.dims + 1, self.dims + 2):
            raise ShapeError(f"Expected {self.dims + 1}D (unbatched) or {self.dims + 2}D (batched) "
                             f"input to {name}, but got input of size: {x.shape}")
        self.in_channels = x.shape[1] if x.ndim == self.dims + 2 else x.shape[0]
        if self.in_channels % self.groups:
            raise ShapeError(f"{name}: in_channels ({self.in_channels}, from the input {x.shape}) "
                             f"must be divisible by groups ({self.groups})")
        first, second = ((self.in_channels, self.out_channels // self.groups) if self.transposed
                         else (self.out_channels, self.in_channels // self.groups))
        _materialize(self, ("weight",), (first, second) + self.kernel_size)
        _materialize(self, ("bias",), (self.out_channels,))
        self.reset_parameters()


def _lazy_conv(plain: type, transposed: bool) -> type:
    """The Lazy* twin of a convolution class, with torch's positional order (in_channels gone)."""
    if transposed:
        def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                     bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
            _LazyConvMixin.__init__(self, out_channels, kernel_size, stride, padding, output_padding,
                                    groups=groups, bias=bias, dilation=dilation, padding_mode=padding_mode,
                                    device=device, dtype=dtype)
    else:
        def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                     bias=True, padding_mode="zeros", device=None, dtype=None):
            _LazyConvMixin.__init__(self, out_channels, kernel_size, stride, padding, dilation,
                                    groups=groups, bias=bias, padding_mode=padding_mode,
                                    device=device, dtype=dtype)
    doc = (f"``nn.Lazy{plain.__name__}``: {plain.__name__} whose in_channels is read off the "
           f"first input.")
    return type("Lazy" + plain.__name__, (_LazyConvMixin, plain),
                {"__init__": __init__, "cls_to_become": plain, "__doc__": doc, "__module__": __name__})


LazyConv1d = _lazy_conv(Conv1d, False)
LazyConv2d = _lazy_conv(Conv2d, False)
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d, True)
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d, True)
LazyConv3d = _lazy_conv(Conv3d, False)
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d, True)


class _LazyNormMixin(LazyModuleMixin):
    """num_features from the input's channel dim; weight / bias / running statistics lazy."""
    unbatched_rank = 0        # instance norm's (C, L) / (C, H, W): channels on dim 0
    layout_text = ""

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True):
        super().__init__(1, eps, momentum, False, False, device=device, dtype=dtype, bias=False)
        self.num_features = 0
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        if self.affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if self.track_running_stats:
            self.register_buffer("running_mean", UninitializedBuffer(device=device, dtype=dtype))
            self.register_buffer("running_var", UninitializedBuffer(device=device, dtype=dtype))
            # the int64 batch counter: batch norm counts with it, instance norm only carries it
            # in its state dict (torch's _LazyNormBase registers it for both)
            self.register_buffer("num_batches_tracked", IntBuffer.zeros())

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, x: Tensor) -> None:
        """Take num_features from ``x`` and initialize as the plain layer (weight 1, bias 0,
        running mean 0, running variance 1)."""
        if not self.has_uninitialized_params():
            return
        if x.ndim < 2 and x.ndim != self.unbatched_rank:
            raise ShapeError(f"{type(self).__name__}: expected input of shape {self.layout_text}, "
                             f"got {x.shape}")
        self.num_features = x.shape[0] if x.ndim == self.unbatched_rank else x.shape[1]
        for name, value in (("weight", 1), ("bias", 0), ("running_mean", 0), ("running_var", 1)):
            t = getattr(self, name, None)
            if is_lazy(t):
                t.materialize((self.num_features,))
                t.array[...] = value


def _lazy_norm(plain: type, unbatched_rank: int) -> type:
    doc = f"``nn.Lazy{plain.__name__}``: {plain.__name__} whose num_features is read off the first input."
    layout = getattr(plain, "layout", "") or plain.layouts[plain.dims]
    # torch's bases: _LazyNormBase and _BatchNorm / _InstanceNorm (not the plain layer, which
    # it becomes when materialized); the plain layer's own attributes (ranks, layout) copied
    own = {k: v for k, v in vars(plain).items() if not k.startswith("__")}
    return type("Lazy" + plain.__name__, (_LazyNormMixin, plain.__base__),
                {**own, "cls_to_become": plain, "__doc__": doc, "__module__": __name__,
                 "layout_text": layout, "unbatched_rank": unbatched_rank})


LazyBatchNorm1d = _lazy_norm(BatchNorm1d, 0)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d, 0)
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d, 2)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d, 3)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d, 0)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d, 4)
