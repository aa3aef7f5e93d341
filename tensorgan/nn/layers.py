"""The layers: thin Modules over ``tensorgan.functional`` that own their weights and check input."""
from __future__ import annotations

import math
import warnings
from collections import OrderedDict
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np

from .. import functional as F
from ..backend import get_device
from ..errors import (ConfigError, ConfigTypeError, FunctionalOptionError, IndexOutOfRangeError,
                      InputTypeError, PadShapeNotImplementedError, ShapeError)
from ..random import Generator
from ..tensor import Tensor, _caller_level, _check_dtype, _int_of, _is_int, get_default_dtype
from . import init
from .module import IntBuffer, Module, Parameter, check_input

__all__ = ["Linear", "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "LeakyReLU", "ReLU",
           "Tanh", "Sigmoid", "Dropout", "Flatten", "Unflatten", "Identity", "Sequential", "ModuleList",
           "ModuleDict", "MaxPool2d", "AvgPool2d", "Embedding", "Upsample", "ZeroPad2d",
           "ConstantPad2d", "ReflectionPad2d", "ReplicationPad2d"]


def _positive_int(name: str, value: Any, owner: str, least: int = 1) -> int:
    """``value`` as an int of at least ``least`` (0: a size torch takes empty, Linear(0, 3))."""
    if isinstance(value, Tensor):                 # a one-element integer tensor, as torch takes it
        value = _int_of(value)
    kind = "positive" if least else "non-negative"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigTypeError(f"{owner}: {name} must be a {kind} integer, got {value!r}")
    if value < least:
        raise ConfigError(f"{owner}: {name} must be a {kind} integer, got {value!r}")
    return int(value)


def _empty(shape: tuple, dtype: Any, device: Any) -> Parameter:
    dev = get_device(device)
    dt = _check_dtype(get_default_dtype() if dtype is None else dtype)
    return Parameter(dev.xp.zeros(shape, dtype=dt), device=dev)


def _default_init(weight: Parameter, bias: Parameter | None, generator: Generator | None) -> None:
    """PyTorch's default: kaiming_uniform(a=sqrt(5)) weight, U(+-1/sqrt(fan_in)) bias."""
    init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    if bias is not None:
        fan_in, _ = init.calculate_fan_in_and_fan_out(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound, generator)


def _reset(module: Module, generator: Generator | None) -> None:
    """Construction's initialization: ``reset_parameters()`` with no argument unless a generator was
    given (torch calls it so; a subclass that overrides ``reset_parameters(self)`` -- Parallel
    WaveGAN's Conv1d, many others -- then takes over the initialization, as in torch)."""
    if generator is None:
        module.reset_parameters()
    else:
        module.reset_parameters(generator)


class Linear(Module):
    """``y = x @ weight.T + bias``; weight ``(out_features, in_features)``."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None, *, generator: Generator | None = None):
        super().__init__()
        self.in_features = _positive_int("in_features", in_features, "Linear", 0)   # (torch: 0 too)
        self.out_features = _positive_int("out_features", out_features, "Linear", 0)
        self.weight = _empty((self.out_features, self.in_features), dtype, device)
        self.register_parameter("bias", _empty((self.out_features,), dtype, device) if bias else None)
        _reset(self, generator)

    def reset_parameters(self, generator: Generator | None = None) -> None:
        """Re-draw weight and bias with the default initialization (as at construction)."""
        _default_init(self.weight, self.bias, generator)

    def forward(self, input: Tensor) -> Tensor:
        check_input(self, input, tuple(range(1, 33)), "(..., in_features)", self.in_features, -1)
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_LAYOUTS = {1: "(N, C, L) or (C, L)", 2: "(N, C, H, W) or (C, H, W)", 3: "(N, C, D, H, W) or (C, D, H, W)"}


def _torch_convnd_arguments(in_channels: Any, out_channels: Any, kernel_size: Any, stride: Any,
                            padding: Any, dilation: Any, transposed: Any, output_padding: Any,
                            groups: Any, bias: Any, padding_mode: Any, device: Any = None,
                            dtype: Any = None, *, generator: Any = None) -> dict:
    """torch 2.13's ``_ConvNd.__init__`` signature (every argument but device and dtype required),
    bound by Python: its arguments by name."""
    return dict(locals())


_torch_convnd_arguments.__qualname__ = "_ConvNd.__init__"     # Python's TypeError names it as torch's


class _ConvNd(Module):
    """torch's convolution layers: its positional order, its checks, its repr. ``dims`` spatial
    dimensions; the 1-D layers run the 2-D functions on height-1 images."""
    transposed = False
    dims = 2

    def __init__(self, *args: Any, **kwargs: Any):
        """tensorgan's order ``(in, out, kernel_size, stride=1, padding=0, dilation=1, groups=1,
        bias=True, padding_mode='zeros', device=None, dtype=None, generator=None,
        output_padding=0)``, or torch's own ``_ConvNd`` order ``(in, out, kernel_size, stride,
        padding, dilation, transposed, output_padding, groups, bias, padding_mode, device=None,
        dtype=None)`` -- told apart by the bool ``transposed`` -- which layers that subclass
        ``torch.nn.modules.conv._ConvNd`` directly call (SEGAN's / SN-GAN's ``SNConv1d``)."""
        if (len(args) > 6 and isinstance(args[6], bool)) or "transposed" in kwargs:
            given = _torch_convnd_arguments(*args, **kwargs)     # a TypeError as torch's for a missing one
            transposed, kernel_size = given.pop("transposed"), given["kernel_size"]
            if not isinstance(kernel_size, (tuple, list)):       # torch unpacks it: (out, in // groups, *kernel_size)
                raise InputTypeError(f"{type(self).__name__}: torch's _ConvNd order takes kernel_size as a "
                                     f"tuple (one int per spatial dimension), got {kernel_size!r}")
            # torch's _ConvNd has as many spatial dims as kernel_size, transposed as told
            self._init_convnd(**given, _layout=(bool(transposed), len(kernel_size)))
        else:
            self._init_convnd(*args, **kwargs)

    def _init_convnd(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                     padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                     padding_mode: str = "zeros", device: Any = None, dtype: Any = None,
                     generator: Generator | None = None, output_padding: Any = 0, *,
                     _layout: tuple | None = None) -> None:
        super().__init__()
        if _layout is not None and _layout != (self.transposed, self.dims):
            self.transposed, self.dims = _layout
        name = type(self).__name__
        self.in_channels = _positive_int("in_channels", in_channels, name, 0)
        self.out_channels = _positive_int("out_channels", out_channels, name, 0)
        self.groups = _positive_int("groups", groups, name)
        for what, count in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if count % self.groups:
                raise ConfigError(f"{name}: {what} ({count}) must be divisible by groups ({self.groups})")
        tuple_of = self._tuple
        self.kernel_size = tuple_of(kernel_size, "kernel_size", 1)
        self.stride = tuple_of(stride, "stride", 1)
        self.dilation = tuple_of(dilation, "dilation", 1)
        self.output_padding = tuple_of(output_padding, "output_padding", 0)
        if isinstance(padding, str) and not self.transposed:
            if padding not in ("same", "valid"):
                raise ConfigError(f"{name}: padding must be 'same', 'valid' or ints, got {padding!r}")
            if padding == "same" and self.stride != (1,) * self.dims:
                raise ConfigError(f"{name}: padding='same' needs stride 1, got stride {self.stride}")
            self.padding: Any = padding
        else:
            self.padding = tuple_of(padding, "padding", 0)
        if padding_mode not in (("zeros",) if self.transposed else PADDING_MODES):
            allowed = "'zeros'" if self.transposed else ", ".join(map(repr, PADDING_MODES))
            raise ConfigError(f"{name}: padding_mode must be {allowed}, got {padding_mode!r}")
        self.padding_mode = padding_mode
        first, second = ((self.in_channels, self.out_channels // self.groups) if self.transposed
                         else (self.out_channels, self.in_channels // self.groups))
        self.weight = _empty((first, second) + self.kernel_size, dtype, device)
        self.register_parameter("bias", _empty((self.out_channels,), dtype, device) if bias else None)
        _reset(self, generator)

    @property
    def _reversed_padding_repeated_twice(self) -> Any:
        """torch's attribute: the padding as ``F.pad`` takes it (last dimension first, each twice;
        'same' split as torch splits it) -- what torch-style ``_conv_forward`` copies pad with."""
        if isinstance(self.padding, str):
            spans = [0] * (2 * self.dims) if self.padding == "valid" else []
            for k, d in (() if self.padding == "valid" else zip(reversed(self.kernel_size), reversed(self.dilation))):
                total = d * (k - 1)
                spans += [total // 2, total - total // 2]
            return spans
        return tuple(p for p in reversed(self.padding) for _ in range(2))    # torch's: a tuple here, a list above

    def _tuple(self, value: Any, name: str, minimum: int) -> tuple:
        owner = type(self).__name__
        if self.dims == 1:
            return (F._single(value, name, minimum, owner),)
        return F._ntuple(value, name, minimum, owner, self.dims)

    def reset_parameters(self, generator: Generator | None = None) -> None:
        """Re-draw weight and bias with the default initialization (as at construction)."""
        _default_init(self.weight, self.bias, generator)

    def _padded(self, x: Tensor) -> tuple[Tensor, Any]:
        """``(input, padding)`` for the functional call: with a padding_mode other than zeros
        the input is padded here (torch's order) and the convolution gets none."""
        if self.padding_mode == "zeros":
            return x, self.padding
        if isinstance(self.padding, str):
            spans = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            pairs = [(0, 0) if self.padding == "valid" else (t // 2, t - t // 2) for t in spans]
        else:
            pairs = [(p, p) for p in self.padding]
        amounts = [n for pair in reversed(pairs) for n in pair]
        return F.pad(x, amounts, self.padding_mode), 0

    def forward(self, input: Tensor) -> Tensor:
        """``(N, C, *spatial)``, or torch's unbatched ``(C, *spatial)`` (run as a batch of one)."""
        return self._batched(input, self._forward)

    def _batched(self, x: Tensor, run: Callable[[Tensor], Tensor]) -> Tensor:
        layout = _LAYOUTS[self.dims]
        unbatched = getattr(x, "ndim", None) == self.dims + 1
        check_input(self, x, (self.dims + 1, self.dims + 2), layout, self.in_channels,
                    channel_axis=0 if unbatched else 1)
        return run(x.unsqueeze(0)).squeeze(0) if unbatched else run(x)

    def extra_repr(self) -> str:   # torch's: only what differs from the defaults
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        zeros, ones = (0,) * self.dims, (1,) * self.dims
        if self.padding != zeros:
            text += f", padding={self.padding}"
        if self.dilation != ones:
            text += f", dilation={self.dilation}"
        if self.output_padding != zeros:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None,
                 generator: Generator | None = None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, generator)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        """torch's hook: this layer's convolution (stride, padding and padding_mode, dilation,
        groups) of ``input`` with the ``weight`` and ``bias`` given -- what subclasses that
        transform the weight (weight standardization, weight modulation) call from ``forward``."""
        x, padding = self._padded(input)
        conv = (F.conv1d, F.conv2d, F.conv3d)[self.dims - 1]
        return conv(x, weight, bias, self.stride, padding, self.dilation, self.groups)


class _ConvTranspose(_ConvNd):
    transposed = True

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        """As torch's: ``output_size`` (the spatial sizes, or with N and C in front) picks the
        output_padding that gives it, for a stride that leaves several sizes possible."""
        if output_size is None:
            return self._batched(input, self._forward)
        leading = 1 if getattr(input, "ndim", None) == self.dims + 1 else 2     # (C,) or (N, C) in front
        return self._batched(input, lambda batch: self._forward(
            batch, self._padding_for_size(input, output_size, leading)))

    def _output_padding(self, input: Tensor, output_size: Any, stride: Any = None, padding: Any = None,
                        kernel_size: Any = None, num_spatial_dims: int | None = None,
                        dilation: Any = None) -> tuple | list:
        """torch's hook: the output_padding that gives ``output_size`` (this layer's own
        ``output_padding`` when None). Sliced-weight subclasses (gan-compression's
        SuperConvTranspose2d) call it from their forward. Geometry left out is this layer's;
        ``num_spatial_dims`` may be left out, as torch < 1.12 callers do."""
        if output_size is None:
            return self.output_padding
        leading = 2 if getattr(input, "ndim", None) == self.dims + 2 else 1
        geometry = tuple(own if given is None else tuple(given) if isinstance(given, (tuple, list))
                         else (given,) * self.dims for given, own in
                         ((stride, self.stride), (padding, self.padding),
                          (kernel_size, self.kernel_size), (dilation, self.dilation)))
        return list(self._padding_for_size(input, output_size, leading, geometry))

    def _padding_for_size(self, x: Tensor, output_size: Any, leading: int,
                          geometry: tuple | None = None) -> tuple:
        stride, padding, kernel_size, dilation = geometry or (
            self.stride, self.padding, self.kernel_size, self.dilation)
        name, sizes = type(self).__name__, tuple(output_size)
        if len(sizes) == self.dims + leading:          # torch also takes the non-spatial sizes
            sizes = sizes[leading:]
        if len(sizes) != self.dims or not all(_is_int(n) for n in sizes):
            raise ShapeError(f"{name}: output_size must be {self.dims} ints (or {self.dims + leading} "
                             f"with the input's non-spatial sizes), got {output_size!r}")
        smallest = [(x.shape[leading + d] - 1) * stride[d] - 2 * padding[d]
                    + dilation[d] * (kernel_size[d] - 1) + 1 for d in range(self.dims)]
        largest = [low + s - 1 for low, s in zip(smallest, stride)]
        if any(not low <= n <= high for n, low, high in zip(sizes, smallest, largest)):
            raise ShapeError(f"{name}: requested an output size of {list(sizes)}, but valid sizes range "
                             f"from {smallest} to {largest} (for an input of {tuple(x.shape[leading:])})")
        return tuple(int(n) - low for n, low in zip(sizes, smallest))

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None, dtype: Any = None,
                 generator: Generator | None = None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, generator, output_padding)


class Conv2d(_Conv):
    """2-D convolution; weight ``(out_channels, in_channels / groups, kH, kW)``."""

    def _forward(self, x: Tensor) -> Tensor:
        x, padding = self._padded(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution; weight ``(in_channels, out_channels / groups, kH, kW)``."""

    def _forward(self, x: Tensor, output_padding: Any = None) -> Tensor:
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  output_padding or self.output_padding, self.groups, self.dilation)


class Conv1d(_Conv):
    """1-D convolution; weight ``(out_channels, in_channels / groups, k)``."""
    dims = 1

    def _forward(self, x: Tensor) -> Tensor:
        x, padding = self._padded(x)
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution; weight ``(in_channels, out_channels / groups, k)``."""
    dims = 1

    def _forward(self, x: Tensor, output_padding: Any = None) -> Tensor:
        return F.conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding,
                                  output_padding or self.output_padding, self.groups, self.dilation)


class Conv3d(_Conv):
    """3-D (volumetric) convolution, a voxel GAN's discriminator layer; weight
    ``(out_channels, in_channels / groups, kD, kH, kW)``."""
    dims = 3

    def _forward(self, x: Tensor) -> Tensor:
        x, padding = self._padded(x)
        return F.conv3d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-D convolution, a voxel GAN's generator layer; weight
    ``(in_channels, out_channels / groups, kD, kH, kW)``."""
    dims = 3

    def _forward(self, x: Tensor, output_padding: Any = None) -> Tensor:
        return F.conv_transpose3d(x, self.weight, self.bias, self.stride, self.padding,
                                  output_padding or self.output_padding, self.groups, self.dilation)


def _check_eps(name: str, eps: Any) -> float:
    if not F._scalar(name, "eps", eps) > 0:
        raise ConfigError(f"{name}: eps must be > 0, got {eps}")
    return float(eps)


def _affine_parameters(module: Module, shape: tuple, affine: bool, dtype: Any, device: Any,
                       bias: bool = True) -> None:
    """A normalization layer's learned scale (ones) and shift (zeros) of ``shape``, or None."""
    if affine:
        module.weight = _empty(shape, dtype, device)
        init.ones_(module.weight)
    else:
        module.register_parameter("weight", None)
    if affine and bias:
        module.bias = _empty(shape, dtype, device)
    else:
        module.register_parameter("bias", None)


def _running_statistics(module: Module, channels: int, dtype: Any, device: Any) -> None:
    """Buffers running_mean (zeros) and running_var (ones), as torch starts them."""
    dev = get_device(device)
    dt = _check_dtype(get_default_dtype() if dtype is None else dtype)
    module.register_buffer("running_mean", Tensor._make(dev.xp.zeros(channels, dtype=dt), dev))
    module.register_buffer("running_var", Tensor._make(dev.xp.ones(channels, dtype=dt), dev))


def _fill_num_batches_tracked(module: Module, state: dict, prefix: str, local_metadata: dict) -> None:
    """torch's ``_NormBase._load_from_state_dict``: a state dict without ``num_batches_tracked``
    (saved before the counter existed -- torch < 0.4.1 -- or assembled by hand, with no version
    2 metadata) loads with the module's current count, as torch's does."""
    version = local_metadata.get("version")
    key = prefix + "num_batches_tracked"
    if (version is None or version < 2) and module.track_running_stats and key not in state:
        state[key] = np.asarray(module.num_batches_tracked)


class _NormBase(Module):
    """torch's ``_NormBase``: the base of the batch and instance norms (``isinstance(m,
    nn.modules.batchnorm._NormBase)`` finds both), with what they share: the state dict version
    (num_batches_tracked filled in for old state dicts) and the resets."""
    _version = 2                      # state dicts with num_batches_tracked (as torch's)
    _upgrade_state_dict = _fill_num_batches_tracked

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, batch count 0 (as PyTorch); nothing without
        running statistics."""
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self) -> None:
        """reset_running_stats(), and weight 1, bias 0 (as PyTorch)."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)


class _BatchNorm(_NormBase):
    ranks: tuple[int, ...] = ()
    _own_dim_check = True             # (set per subclass by __init_subclass__)
    layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 device: Any = None, dtype: Any = None, *, bias: bool = True):
        super().__init__()
        name = type(self).__name__
        self.num_features = _positive_int("num_features", num_features, name, 0)
        _check_eps(name, eps)
        if momentum is not None and not 0.0 <= F._scalar(name, "momentum", momentum) <= 1.0:
            raise ConfigError(f"{name}: momentum must be in [0, 1] or None, got {momentum}")
        self.eps, self.momentum = float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        _affine_parameters(self, (self.num_features,), self.affine, dtype, device, bias)
        if self.track_running_stats:
            _running_statistics(self, self.num_features, dtype, device)
            # An int64 host counter, as in PyTorch; only momentum=None (cumulative average) uses it.
            self.register_buffer("num_batches_tracked", IntBuffer.zeros())
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # torch's forward calls self._check_input_dim(input): a subclass defining its own (to take
        # other ranks -- or a direct _BatchNorm subclass, which has no ranks) has it called.
        cls._own_dim_check = cls._check_input_dim is not _BatchNorm._check_input_dim or not cls.ranks

    def _check_input_dim(self, input: Tensor) -> None:
        """torch's hook for the input's rank: this norm's ranks (a ShapeError -- a ValueError, as
        torch's); a subclass may override it.  _BatchNorm itself takes none: as torch's _NormBase,
        it raises NotImplementedError."""
        if not self.ranks:
            raise NotImplementedError(f"{type(self).__name__}: a _BatchNorm subclass must define "
                                      "_check_input_dim(input) (torch's BatchNorm1d/2d/3d do)")
        check_input(self, input, self.ranks, self.layout, half_ok=True)

    def _functional_args(self, x: Tensor) -> tuple:
        """Check x, count the batch, and return batch_norm's arguments for it."""
        if self._own_dim_check:
            self._check_input_dim(x)
            check_input(self, x, (getattr(x, "ndim", None),), self.layout, self.num_features,
                        half_ok=True)
        else:
            check_input(self, x, self.ranks, self.layout, self.num_features, half_ok=True)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked)
        # torch's rule: batch statistics in training, or in eval when there are no running ones
        # (track_running_stats=False, or both buffers set to None).
        batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        return (x, self.running_mean, self.running_var, self.weight, self.bias, batch_stats,
                momentum, self.eps)

    def forward(self, input: Tensor) -> Tensor:
        return F.batch_norm(*self._functional_args(input))

    def forward_leaky_relu(self, x: Tensor, negative_slope: float) -> Tensor:
        """``leaky_relu(self(x), negative_slope)`` in one fused op (what Sequential calls for a
        BatchNorm followed by a LeakyReLU)."""
        return F.batch_norm_leaky_relu(*self._functional_args(x), negative_slope)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization over ``(N, C)`` or ``(N, C, L)``, per channel."""

    ranks, layout = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization over ``(N, C, H, W)``, per channel."""

    ranks, layout = (4,), "(N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalization over ``(N, C, D, H, W)``, per channel."""

    ranks, layout = (5,), "(N, C, D, H, W)"


class SyncBatchNorm(_BatchNorm):
    """``torch.nn.SyncBatchNorm`` in one process: batch normalization over (N, C, *) (any rank
    >= 2). torch synchronizes the batch statistics across the processes of ``process_group`` only
    when torch.distributed is initialized with more than one process; otherwise -- always here:
    tensorgan has no distributed backend -- it is plain batch norm, as this is."""

    ranks, layout = tuple(range(2, 33)), "(N, C, *) with at least 2 dims"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group: Any = None,
                 device: Any = None, dtype: Any = None, *, bias: bool = True):
        if process_group is not None:
            raise ConfigError("SyncBatchNorm: process_group must be None: tensorgan has no "
                              f"torch.distributed process groups, got {process_group!r}")
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device=device, dtype=dtype, bias=bias)
        self.process_group = None

    def forward(self, input: Tensor) -> Tensor:
        return self._flattened(input, super().forward)

    def forward_leaky_relu(self, x: Tensor, negative_slope: float) -> Tensor:
        return self._flattened(x, lambda x3: super(SyncBatchNorm, self).forward_leaky_relu(x3, negative_slope))

    @staticmethod
    def _flattened(x: Tensor, run: Callable[[Tensor], Tensor]) -> Tensor:
        """``run`` on x, ranks above 5 (which F.batch_norm refuses) as (N, C, L): the statistics
        are per channel either way."""
        if not isinstance(x, Tensor) or x.ndim <= 5:
            return run(x)
        return run(x.reshape(x.shape[0], x.shape[1], -1)).reshape(x.shape)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with every BatchNorm*d in it (itself included) replaced by a SyncBatchNorm
        sharing its weight, bias, running statistics, batch count and training flag (torch's);
        other modules are kept, their children converted in place."""
        out = module
        if isinstance(module, _BatchNorm) and not getattr(module, "has_uninitialized_params", lambda: False)():
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                out.weight, out.bias = module.weight, module.bias
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                setattr(out, name, getattr(module, name))
            out.training = module.training
        for name, child in list(module.named_children()):
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


_FUSABLE_BATCH_NORMS = (BatchNorm1d, BatchNorm2d, BatchNorm3d)  # Sequential runs these + LeakyReLU fused


class LeakyReLU(Module):
    """``x`` where x >= 0, ``negative_slope * x`` elsewhere; ``inplace=True`` writes into x, as
    torch's (after a batch norm in a Sequential the two run fused either way, unless the slope is
    negative: see Sequential)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = F._scalar("LeakyReLU", "negative_slope", negative_slope)
        self.inplace = _inplace_flag(self, inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


def _inplace_flag(layer: Module, inplace: Any) -> bool:
    if not isinstance(inplace, (bool, np.bool_)):
        raise InputTypeError(f"{type(layer).__name__}: inplace must be a bool, got {inplace!r}")
    return bool(inplace)


class Tanh(Module):
    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Sigmoid(Module):
    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class _FunctionLayer(Module):
    """A layer that is one function (activations, pixel shuffles): ``forward`` is ``F.<function>(x, *hyperparameters)``, the
    hyperparameters (named in ``params``) kept as attributes and shown in the repr, as torch's."""

    params: tuple[str, ...] = ()

    @staticmethod
    def function(x: Tensor, *args: Any) -> Tensor:
        raise NotImplementedError

    def forward(self, input: Tensor) -> Tensor:
        return self.function(input, *(getattr(self, name) for name in self.params))

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self.params)


class Softplus(_FunctionLayer):
    params, function = ("beta", "threshold"), staticmethod(F.softplus)

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold


class GELU(_FunctionLayer):
    params, function = ("approximate",), staticmethod(F.gelu)

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate




class LogSigmoid(_FunctionLayer):
    function = staticmethod(F.logsigmoid)


class _Activation(_FunctionLayer):
    """An activation with torch's ``inplace`` flag (``inplace=True`` writes the result into x,
    see ``F._maybe_in_place``), shown in the repr where torch shows it (``show_inplace``)."""
    show_inplace = True

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = _inplace_flag(self, inplace)

    def forward(self, input: Tensor) -> Tensor:
        return self.function(input, *(getattr(self, name) for name in self.params), inplace=self.inplace)

    def extra_repr(self) -> str:
        shown = [super().extra_repr()] + (["inplace=True"] if self.inplace and self.show_inplace else [])
        return ", ".join(s for s in shown if s)


class ReLU(_Activation):
    function = staticmethod(F.relu)


class SiLU(_Activation):
    function = staticmethod(F.silu)


class _AlphaActivation(_Activation):
    """ELU's and CELU's ``alpha`` (siblings in torch: neither derives from the other)."""
    params = ("alpha",)

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        self.alpha = F._scalar(type(self).__name__, "alpha", alpha)


class ELU(_AlphaActivation):
    function = staticmethod(F.elu)


class Hardtanh(_Activation):
    params, function = ("min_val", "max_val"), staticmethod(F.hardtanh)

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        if max_val <= min_val:                       # torch asserts this at construction
            raise ConfigError(f"{type(self).__name__}: max_val ({max_val}) must be greater than "
                              f"min_val ({min_val})")
        self.min_val, self.max_val = min_val, max_val


class ReLU6(Hardtanh):
    """``torch.nn.ReLU6``: a ``Hardtanh(0, 6)`` (its subclass, as torch's); repr: inplace only."""
    params, function = (), staticmethod(F.relu6)

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)


class SELU(_Activation):
    function = staticmethod(F.selu)


class CELU(_AlphaActivation):
    """x where x > 0, else alpha (exp(x / alpha) - 1) (``F.celu``)."""
    function = staticmethod(F.celu)


class Mish(_Activation):
    function = staticmethod(F.mish)


class Hardswish(_Activation):
    function, show_inplace = staticmethod(F.hardswish), False


class Hardsigmoid(_Activation):
    function, show_inplace = staticmethod(F.hardsigmoid), False


class Threshold(_Activation):
    """x where x > threshold, ``value`` elsewhere (``F.threshold``)."""
    params, function = ("threshold", "value"), staticmethod(F.threshold)

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__(inplace)
        for name, number in (("threshold", threshold), ("value", value)):
            F._scalar("Threshold", name, number)
        self.threshold, self.value = threshold, value


class Softsign(_FunctionLayer):
    function = staticmethod(F.softsign)


class Tanhshrink(_FunctionLayer):
    function = staticmethod(F.tanhshrink)


class _Shrink(_FunctionLayer):
    """Softshrink's and Hardshrink's ``lambd``; torch's repr shows it alone: ``Softshrink(0.5)``."""
    params = ("lambd",)
    any_lambd = False       # torch's hardshrink takes a negative lambd (keeps every x)

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        name = type(self).__name__
        self.lambd = (F._scalar(name, "lambd", lambd) if self.any_lambd
                      else F._threshold(name, "lambd", lambd, positive=False))

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(_Shrink):
    function = staticmethod(F.softshrink)


class Hardshrink(_Shrink):
    function, any_lambd = staticmethod(F.hardshrink), True


class GLU(_FunctionLayer):
    """Gated linear unit along ``dim`` (``F.glu``)."""
    params, function = ("dim",), staticmethod(F.glu)

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim


class Softmin(_FunctionLayer):
    """softmax(-x) along ``dim`` (None: torch's implicit, deprecated choice; see ``F.softmin``)."""
    params, function = ("dim",), staticmethod(lambda x, dim: F.softmin(x, dim))

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) input, at each position."""

    def forward(self, input: Tensor) -> Tensor:
        check_input(self, input, (3, 4), "(N, C, H, W) or (C, H, W)")
        return F.softmax(input, -3)


class RReLU(Module):
    """Randomized leaky ReLU (``F.rrelu``): in training each negative element gets its own slope
    from U(lower, upper), drawn from ``generator`` (a tensorgan extra; the default generator if
    None); in evaluation the mean slope."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False, *,
                 generator: Generator | None = None):
        super().__init__()
        if F._scalar("RReLU", "lower", lower) > F._scalar("RReLU", "upper", upper):
            raise FunctionalOptionError(f"RReLU: lower bound {lower} must be <= upper bound {upper}")
        if generator is not None and not isinstance(generator, Generator):
            raise InputTypeError(f"RReLU: generator must be a tensorgan Generator or None, got "
                                 f"{type(generator).__name__}")
        self.lower, self.upper, self.inplace, self.generator = lower, upper, bool(inplace), generator

    def forward(self, input: Tensor) -> Tensor:
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace, generator=self.generator)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """A leaky ReLU with learned slopes: ``num_parameters`` 1 (shared) or the channel count,
    each starting at ``init`` (torch.nn.PReLU)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None):
        super().__init__()
        self.num_parameters = _positive_int("num_parameters", num_parameters, "PReLU")
        self.init = F._scalar("PReLU", "init", init)
        self.weight = _empty((self.num_parameters,), dtype, device)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class _SoftmaxLike(_FunctionLayer):
    """Softmax / LogSoftmax along ``dim``; None: torch's implicit (deprecated, warned) choice,
    dim 0 of 0-, 1- and 3-D input and dim 1 otherwise."""
    params = ("dim",)

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim


class Softmax(_SoftmaxLike):
    function = staticmethod(lambda x, dim: F.softmax(x, F._legacy_softmax_dim("Softmax", x, dim)))


class LogSoftmax(_SoftmaxLike):
    function = staticmethod(lambda x, dim: F.log_softmax(x, F._legacy_softmax_dim("LogSoftmax", x, dim)))


class CosineSimilarity(Module):
    """``F.cosine_similarity(x1, x2, dim, eps)`` of two inputs (torch's repr shows no arguments)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise InputTypeError(f"CosineSimilarity: dim must be an int, got {dim!r}")
        self.dim, self.eps = int(dim), F._scalar("CosineSimilarity", "eps", eps)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PixelShuffle(_FunctionLayer):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r) (``F.pixel_shuffle``)."""
    params, function = ("upscale_factor",), staticmethod(F.pixel_shuffle)

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = _positive_int("upscale_factor", upscale_factor, "PixelShuffle")


class PixelUnshuffle(_FunctionLayer):
    params, function = ("downscale_factor",), staticmethod(F.pixel_unshuffle)

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = _positive_int("downscale_factor", downscale_factor, "PixelUnshuffle")


class LayerNorm(Module):
    """``torch.nn.LayerNorm``: normalize each sample over its last dims (``normalized_shape``),
    with a learned elementwise weight (ones) and bias (zeros) of that shape."""

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: Any = None, dtype: Any = None):
        super().__init__()
        shape = (normalized_shape,) if not isinstance(normalized_shape, (tuple, list)) \
            else tuple(normalized_shape)
        self.normalized_shape = tuple(_positive_int("normalized_shape", s, "LayerNorm", 0) for s in shape)
        self.eps, self.elementwise_affine = _check_eps("LayerNorm", eps), bool(elementwise_affine)
        _affine_parameters(self, self.normalized_shape, self.elementwise_affine, dtype, device, bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """``torch.nn.RMSNorm``: each sample divided by its root mean square over the last dims
    (``normalized_shape``), times a learned elementwise weight (ones); ``eps=None``: the
    input dtype's machine epsilon, as torch."""

    def __init__(self, normalized_shape: Any, eps: float | None = None,
                 elementwise_affine: bool = True, device: Any = None, dtype: Any = None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        self.normalized_shape = tuple(_positive_int("normalized_shape", s, "RMSNorm") for s in shape)
        self.eps = None if eps is None else _check_eps("RMSNorm", eps)
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:           # torch's RMSNorm has a weight only
            self.weight = _empty(self.normalized_shape, dtype, device)
            init.ones_(self.weight)
        else:
            self.register_parameter("weight", None)

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class Unfold(_FunctionLayer):
    """``F.unfold``: each sliding block of (N, C, H, W) input as a column of (N, C*kh*kw, L)."""
    params, function = ("kernel_size", "dilation", "padding", "stride"), staticmethod(F.unfold)

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1):
        super().__init__()
        F.block_arguments("Unfold", kernel_size, dilation, padding, stride)
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride


class Fold(_FunctionLayer):
    """``F.fold``: columns of sliding blocks summed back into (N, C, *output_size) images."""
    params = ("output_size", "kernel_size", "dilation", "padding", "stride")
    function = staticmethod(F.fold)

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1):
        super().__init__()
        F._pair(output_size, "output_size", 1, "Fold")
        F.block_arguments("Fold", kernel_size, dilation, padding, stride)
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride


class PairwiseDistance(Module):
    """``F.pairwise_distance(x1, x2, p, eps, keepdim)`` (torch's repr shows no arguments)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm = F._scalar("PairwiseDistance", "p", p)
        self.eps, self.keepdim = F._scalar("PairwiseDistance", "eps", eps), bool(keepdim)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

class GroupNorm(Module):
    """``torch.nn.GroupNorm``: normalize each sample over groups of channels."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None, *, bias: bool = True):
        super().__init__()
        self.num_groups = _positive_int("num_groups", num_groups, "GroupNorm")
        self.num_channels = _positive_int("num_channels", num_channels, "GroupNorm", 0)
        if self.num_channels % self.num_groups:
            raise ConfigError(f"GroupNorm: num_channels {num_channels} must divide into "
                              f"num_groups {num_groups}")
        self.eps, self.affine = _check_eps("GroupNorm", eps), bool(affine)
        _affine_parameters(self, (self.num_channels,), self.affine, dtype, device, bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ShapeError(f"GroupNorm: expected (N, {self.num_channels}, ...), got {input.shape}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_NormBase):
    """torch's InstanceNorm1d / 2d: normalize each (sample, channel) over its ``dims`` spatial
    dims; by default no affine parameters and no running statistics (torch's defaults, unlike
    batch norm's); ``bias=False`` (torch 2.13): an affine scale without a shift."""
    dims = 2
    layouts = _LAYOUTS

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False,
                 device: Any = None, dtype: Any = None, *, bias: bool = True):
        super().__init__()
        name = type(self).__name__
        self.num_features = _positive_int("num_features", num_features, name)
        # momentum=None (torch's _NormBase accepts it): instance norm then blends the running
        # statistics with momentum 0.0, i.e. never updates them (torch's forward), unlike batch
        # norm's cumulative average.
        self.eps = _check_eps(name, eps)
        self.momentum = None if momentum is None else F._scalar(name, "momentum", momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        _affine_parameters(self, (self.num_features,), self.affine, dtype, device, bias)
        if self.track_running_stats:
            _running_statistics(self, self.num_features, dtype, device)
            # torch's _NormBase buffer: in the state dict (StarGAN checkpoints have it), never
            # counted by instance norm (its momentum is never None).
            self.register_buffer("num_batches_tracked", IntBuffer.zeros())
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, input: Tensor) -> Tensor:
        batched_rank = self.dims + 2
        check_input(self, input, (batched_rank - 1, batched_rank), self.layouts[self.dims],
                    half_ok=True)
        batched = input if input.ndim == batched_rank else input.unsqueeze(0)
        if batched.shape[1] != self.num_features:
            if self.affine or self.track_running_stats:
                raise ShapeError(f"{type(self).__name__}: expected {self.num_features} channels, "
                                 f"got input {input.shape}")
            # torch: num_features is unused without affine parameters or running statistics, so a
            # mismatch only warns (UNIT's encoder builds InstanceNorm2d(64) for any width).
            warnings.warn(f"{type(self).__name__}: input's size at dim={input.ndim - self.dims - 1} "
                          f"({batched.shape[1]}) does not match num_features ({self.num_features}), "
                          f"which is unused because affine=False", UserWarning, stacklevel=_caller_level())
        use_input_stats = self.training or not self.track_running_stats
        y = F.instance_norm(batched, self.running_mean, self.running_var, self.weight, self.bias,
                            use_input_stats, 0.0 if self.momentum is None else self.momentum, self.eps)
        return y if input.ndim == batched_rank else y.squeeze(0)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm2d(_InstanceNorm):
    """``torch.nn.InstanceNorm2d``: normalize each (sample, channel) over H x W."""


class InstanceNorm1d(_InstanceNorm):
    """``torch.nn.InstanceNorm1d``: normalize each (sample, channel) over L."""
    dims = 1


class InstanceNorm3d(_InstanceNorm):
    """``torch.nn.InstanceNorm3d``: normalize each (sample, channel) over D x H x W."""
    dims = 3


class Embedding(Module):
    """A learned vector per index (a conditional GAN's class embedding): ``weight[indices]``,
    weight ``(num_embeddings, embedding_dim)`` drawn from N(0, 1) as in torch. Indices are whole
    numbers -- a NumPy integer array or list, or a tensor holding them (tensorgan's index
    convention) -- and the gradient of a repeated index adds up.  ``padding_idx`` (torch's): that
    row starts at zeros and gets no gradient."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Tensor | None = None, _freeze: bool = False, *,
                 dtype: Any = None, device: Any = None, generator: Generator | None = None):
        super().__init__()
        self.num_embeddings = _positive_int("num_embeddings", num_embeddings, "Embedding", 0)
        self.embedding_dim = _positive_int("embedding_dim", embedding_dim, "Embedding", 0)
        self.padding_idx = F.padding_row("Embedding", padding_idx, self.num_embeddings)
        # torch's options (F.embedding): max_norm renormalizes looked-up rows in place,
        # scale_grad_by_freq divides gradients by index counts; sparse gradients stay dense here
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = bool(scale_grad_by_freq), bool(sparse)
        if _weight is not None and dtype is None:      # torch's weight is _weight itself
            dtype = _weight.dtype
        self.weight = _empty((self.num_embeddings, self.embedding_dim), dtype, device)
        if _weight is not None:
            if tuple(_weight.shape) != (self.num_embeddings, self.embedding_dim):
                raise ShapeError(f"Embedding: _weight must have shape ({self.num_embeddings}, "
                                 f"{self.embedding_dim}), got {tuple(_weight.shape)}")
            self.weight.array[...] = _weight.detach().array
            self.weight.requires_grad_(not _freeze)
        else:
            _reset(self, generator)

    def reset_parameters(self, generator: Generator | None = None) -> None:
        init.normal_(self.weight, 0.0, 1.0, generator)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, input: Any) -> Tensor:
        try:
            if self.max_norm is not None or self.scale_grad_by_freq:
                return F.embedding(input, self.weight, self.padding_idx, self.max_norm,
                                   self.norm_type, self.scale_grad_by_freq)
            return F.embedding(input, self.weight, self.padding_idx)
        except InputTypeError as exc:          # name the layer, as every layer's error does
            raise type(exc)(f"Embedding({self.num_embeddings}, ...): {exc}") from None

    def extra_repr(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        if getattr(self, "max_norm", None) is not None:
            pad += f", max_norm={self.max_norm}" + (f", norm_type={self.norm_type}" if self.norm_type != 2 else "")
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, sparse: bool = False) -> "Embedding":
        """An Embedding holding a copy of ``embeddings`` (V, D); trainable unless ``freeze``."""
        return _pretrained(cls, embeddings, freeze, padding_idx=padding_idx, max_norm=max_norm,
                           norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq,
                           sparse=sparse)


def _pretrained(cls: type, embeddings: Tensor, freeze: bool, **options: Any) -> Module:
    """Embedding / EmbeddingBag.from_pretrained: the layer with its weight a copy of
    ``embeddings`` (the padding row kept as given, as torch's)."""
    if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
        raise ShapeError(f"{cls.__name__}.from_pretrained: embeddings must be a 2-D Tensor, got "
                         f"{getattr(embeddings, 'shape', type(embeddings).__name__)}")
    layer = cls(*embeddings.shape, dtype=embeddings.dtype, device=embeddings.device, **options)
    layer.weight = Parameter(embeddings.detach().array.copy(), requires_grad=not freeze,
                             device=embeddings.device)
    return layer


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings (``F.embedding_bag``) without materialising
    the per-index rows: ``forward(input, offsets=None, per_sample_weights=None)`` with 2-D
    (B, L) bags or 1-D indices plus ``offsets``.  Weight N(0, 1), the ``padding_idx`` row zero."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Tensor | None = None, include_last_offset: bool = False,
                 padding_idx: int | None = None, device: Any = None, dtype: Any = None, *,
                 generator: Generator | None = None):
        super().__init__()
        if mode not in ("sum", "mean", "max"):
            raise ConfigError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        self.num_embeddings = _positive_int("num_embeddings", num_embeddings, "EmbeddingBag")
        self.embedding_dim = _positive_int("embedding_dim", embedding_dim, "EmbeddingBag")
        self.padding_idx = F.padding_row("EmbeddingBag", padding_idx, self.num_embeddings)
        self.mode, self.include_last_offset = mode, bool(include_last_offset)
        self.max_norm, self.norm_type = max_norm, norm_type        # as Embedding's
        self.scale_grad_by_freq, self.sparse = bool(scale_grad_by_freq), bool(sparse)
        if self.scale_grad_by_freq and mode == "max":
            raise ConfigError("EmbeddingBag: scale_grad_by_freq is not supported with mode='max'")
        if _weight is not None and dtype is None:      # torch keeps _weight's dtype
            dtype = _weight.dtype
        self.weight = _empty((self.num_embeddings, self.embedding_dim), dtype, device)
        if _weight is not None:
            if tuple(_weight.shape) != (self.num_embeddings, self.embedding_dim):
                raise ShapeError(f"EmbeddingBag: _weight must have shape ({self.num_embeddings}, "
                                 f"{self.embedding_dim}), got {tuple(_weight.shape)}")
            self.weight.array[...] = _weight.detach().array
        else:
            _reset(self, generator)

    reset_parameters = Embedding.reset_parameters

    def forward(self, input: Any, offsets: Any = None, per_sample_weights: Tensor | None = None) -> Tensor:
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, mode=self.mode,
                               per_sample_weights=per_sample_weights,
                               include_last_offset=self.include_last_offset, padding_idx=self.padding_idx)

    def extra_repr(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}{pad}"

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> "EmbeddingBag":
        """An EmbeddingBag holding a copy of ``embeddings`` (V, D); trainable unless ``freeze``."""
        return _pretrained(cls, embeddings, freeze, max_norm=max_norm, scale_grad_by_freq=scale_grad_by_freq,
                           mode=mode, sparse=sparse, include_last_offset=include_last_offset,
                           padding_idx=padding_idx)


class Identity(Module):
    """The input itself; any constructor arguments are ignored, as torch's (so a layer can be
    swapped for ``nn.Identity`` without changing the call)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class _DropoutNd(Module):
    """torch's base of the dropout layers (``Dropout`` and the rest): zero elements with
    probability ``p`` in training; masks come from ``generator`` (seedable,
    and saved by the trainer so a resumed run draws the same masks).

    ``inplace=True`` writes the result into x, as torch's.  For older tensorgan code, a Generator
    (or None) given as the second positional argument is taken as ``generator``."""

    def __init__(self, p: float = 0.5, inplace: "bool | Generator | None" = False, *,
                 generator: Generator | None = None):
        super().__init__()
        if not 0.0 <= F._probability("Dropout", p) <= 1.0:
            raise ConfigError(f"Dropout: p must be in [0, 1], got {p}")
        if inplace is None or isinstance(inplace, Generator):     # Dropout(p, generator)
            if generator is not None and inplace is not None:
                raise InputTypeError("Dropout: generator given both positionally and as a keyword")
            inplace, generator = False, generator if inplace is None else inplace
        if not isinstance(inplace, (bool, np.bool_)):
            raise InputTypeError(f"Dropout: inplace must be a bool (or the second argument a "
                                 f"Generator), got {type(inplace).__name__}")
        if generator is not None and not isinstance(generator, Generator):
            raise InputTypeError(f"Dropout: generator must be a tensorgan Generator or None, got "
                                 f"{type(generator).__name__}")
        self.p = float(p)
        self.inplace = bool(inplace)
        self.generator = generator

    function = staticmethod(F.dropout)   # the variants below differ only in this

    def forward(self, input: Tensor) -> Tensor:
        return self.function(input, self.p, self.training, self.inplace, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """``torch.nn.Dropout``: zero elements with probability ``p`` in training (F.dropout)."""


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) with probability ``p`` (F.dropout2d)."""

    function = staticmethod(F.dropout2d)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) with probability ``p`` (F.dropout1d)."""

    function = staticmethod(F.dropout1d)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) with probability ``p`` (F.dropout3d)."""

    function = staticmethod(F.dropout3d)


class _Pool2d(Module):
    """Shared by the pooling layers: arguments are checked when the layer is built (so a bad
    one fails at model definition, not at the first batch) and kept as given, as torch does."""

    def _check(self, kernel_size: Any, stride: Any, padding: Any, dilation: Any) -> None:
        F.pool_geometry(type(self).__name__, kernel_size, stride, padding, dilation)


class _MaxPoolNd(_Pool2d):
    """torch's base of MaxPool1d / 2d / 3d (the 2-D layer's behaviour by default)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self._check(kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation, self.ceil_mode = padding, dilation, ceil_mode
        self.return_indices = bool(return_indices)   # (values, int64 indices) for MaxUnpool2d

    def forward(self, input: Tensor) -> Tensor:
        check_input(self, input, (3, 4), "(N, C, H, W) or (C, H, W)")
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """``torch.nn.MaxPool2d``: the maximum of each window (``F.max_pool2d``)."""


class _AvgPoolNd(_Pool2d):
    """torch's base of AvgPool1d / 2d / 3d (the 2-D layer's behaviour by default)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None):
        super().__init__()
        self._check(kernel_size, stride, padding, 1)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        check_input(self, input, (3, 4), "(N, C, H, W) or (C, H, W)")
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """``torch.nn.AvgPool2d``: the mean of each window (``F.avg_pool2d``)."""


class _AdaptivePool2d(_FunctionLayer):
    params = ("output_size",)
    ranks, layout = (3, 4), "(N, C, H, W) or (C, H, W)"

    def __init__(self, output_size: Any):
        super().__init__()
        self.output_size = output_size
        self._check_size(output_size)       # checked when built

    def _check_size(self, output_size: Any) -> None:
        F._adaptive_size(type(self).__name__, output_size, (1, 1))

    def forward(self, input: Tensor) -> Tensor:
        check_input(self, input, self.ranks, self.layout)
        return super().forward(input)


class _AdaptiveAvgPoolNd(_AdaptivePool2d):
    """torch's base of AdaptiveAvgPool1d / 2d / 3d (the 2-D layer's behaviour by default)."""
    function = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """``torch.nn.AdaptiveAvgPool2d``: average over ``output_size`` windows that cover the
    input, whatever its size (``AdaptiveAvgPool2d(1)``: global average pooling)."""


class _AdaptiveMaxPoolNd(_AdaptivePool2d):
    """torch's base of AdaptiveMaxPool1d / 2d / 3d (the 2-D layer's behaviour by default)."""
    function = staticmethod(F.adaptive_max_pool2d)

    params = ("output_size", "return_indices")

    def __init__(self, output_size: Any, return_indices: bool = False):
        super().__init__(output_size)
        self.return_indices = bool(return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size!r}"


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """``torch.nn.AdaptiveMaxPool2d``: the maximum over ``output_size`` covering windows."""


class _Pool1d:
    """The 1-D pooling layers' window checks and input layouts (mixed into the 2-D layers)."""
    ranks, layout = (2, 3), "(N, C, L) or (C, L)"

    def _check(self, kernel_size: Any, stride: Any, padding: Any, dilation: Any) -> tuple:
        return F.pool1d_geometry(type(self).__name__, kernel_size, stride, padding, dilation)

    def _check_size(self, output_size: Any) -> None:
        F._single(output_size, "output_size", 1, type(self).__name__)


class MaxPool1d(_Pool1d, _MaxPoolNd):
    """``torch.nn.MaxPool1d`` (``F.max_pool1d``)."""

    def forward(self, input: Tensor) -> Tensor:
        check_input(self, input, self.ranks, self.layout)
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool1d(_Pool1d, _AvgPoolNd):
    """``torch.nn.AvgPool1d`` (``F.avg_pool1d``); torch keeps the window as 1-tuples."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        k, s, p, _ = self._check(kernel_size, stride, padding, 1)
        self.kernel_size, self.stride, self.padding = (k,), (s,), (p,)

    def forward(self, input: Tensor) -> Tensor:
        check_input(self, input, self.ranks, self.layout)
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AdaptiveAvgPool1d(_Pool1d, _AdaptiveAvgPoolNd):
    function = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveMaxPool1d(_Pool1d, _AdaptiveMaxPoolNd):
    function = staticmethod(F.adaptive_max_pool1d)


class _Pool3d:
    """The 3-D pooling layers' window checks and input layouts (mixed into the 2-D layers)."""
    ranks, layout = (4, 5), _LAYOUTS[3]

    def _check(self, kernel_size: Any, stride: Any, padding: Any, dilation: Any) -> tuple:
        return F.pool_geometry(type(self).__name__, kernel_size, stride, padding, dilation, 3)

    def _check_size(self, output_size: Any) -> None:
        F._adaptive_size(type(self).__name__, output_size, (1, 1, 1))


class MaxPool3d(_Pool3d, _MaxPoolNd):
    """``torch.nn.MaxPool3d`` (``F.max_pool3d``)."""

    def forward(self, input: Tensor) -> Tensor:
        check_input(self, input, self.ranks, self.layout)
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool3d(_Pool3d, _AvgPoolNd):
    """``torch.nn.AvgPool3d`` (``F.avg_pool3d``)."""

    def forward(self, input: Tensor) -> Tensor:
        check_input(self, input, self.ranks, self.layout)
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool3d(_Pool3d, _AdaptiveAvgPoolNd):
    function = staticmethod(F.adaptive_avg_pool3d)


class AdaptiveMaxPool3d(_Pool3d, _AdaptiveMaxPoolNd):
    function = staticmethod(F.adaptive_max_pool3d)


class _MaxUnpoolNd(Module):
    """torch's base of MaxUnpool1d / 2d / 3d (the 2-D layer's behaviour by default)."""
    _function, _layout = staticmethod(F.max_unpool2d), ((3, 4), "(N, C, H, W) or (C, H, W)")

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0):
        super().__init__()
        k, s, p, _ = F.pool_geometry(type(self).__name__, kernel_size, stride, padding, 1)
        self.kernel_size, self.stride, self.padding = k, s, p      # pairs, as torch keeps them

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        check_input(self, input, *self._layout)
        return self._function(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpoolNd):
    """``torch.nn.MaxUnpool2d``: ``MaxPool2d(return_indices=True)``'s partial inverse
    (``F.max_unpool2d``): ``unpool(*pool(x))`` keeps each window's maximum, zeros elsewhere."""


class MaxUnpool1d(_MaxUnpoolNd):
    """``torch.nn.MaxUnpool1d`` (``F.max_unpool1d``); torch keeps the window as 1-tuples."""
    _function, _layout = staticmethod(F.max_unpool1d), ((2, 3), "(N, C, L) or (C, L)")

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0):
        Module.__init__(self)
        k, s, p, _ = F.pool1d_geometry(type(self).__name__, kernel_size, stride, padding, 1)
        self.kernel_size, self.stride, self.padding = (k,), (s,), (p,)


class MaxUnpool3d(_MaxUnpoolNd):
    """``torch.nn.MaxUnpool3d`` (``F.max_unpool3d``); the window kept as 3-tuples, as torch."""
    _function, _layout = staticmethod(F.max_unpool3d), ((4, 5), _LAYOUTS[3])

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0):
        Module.__init__(self)
        k, s, p, _ = F.pool_geometry(type(self).__name__, kernel_size, stride, padding, 1, 3)
        self.kernel_size, self.stride, self.padding = k, s, p


class Upsample(Module):
    """Resizing (``F.interpolate``): ``Upsample(scale_factor=2)`` (nearest) or ``mode="bilinear"``
    before a stride-1 convolution is the generator's alternative to a transposed convolution
    (no checkerboard artifacts, Odena et al. 2016)."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None):
        super().__init__()
        if not isinstance(scale_factor, (tuple, list)) and scale_factor is not None and not scale_factor:
            scale_factor = None     # torch's: a falsy factor (0, False) is None -- WaveGAN builds an
            #                         unused Upsample(scale_factor=False) on its transposed-conv path
        # size / scale_factor / mode / align_corners are checked when called (F.interpolate), as
        # torch: Upsample(size=0) and Upsample(mode='foo') build, and their forward raises
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        check_input(self, input, (3, 4, 5), "(N, C, L), (N, C, H, W) or (N, C, D, H, W)")
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self) -> str:    # torch's: the factor as floats, align_corners never shown
        factor = self.scale_factor
        if factor is not None:
            factor = tuple(map(float, factor)) if isinstance(factor, (tuple, list)) else float(factor)
        what = f"size={self.size}" if factor is None else f"scale_factor={factor}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode="nearest")`` (torch's older name)."""

    def __init__(self, size: Any = None, scale_factor: Any = None):
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode="bilinear", align_corners=True)`` (torch's older name)."""

    def __init__(self, size: Any = None, scale_factor: Any = None):
        super().__init__(size, scale_factor, "bilinear", align_corners=True)


class _PadNd(Module):
    """torch's padding layers over the last ``dims`` dims: ``padding`` one int for every side or
    one amount per side (left, right[, top, bottom[, front, back]]); ``mode`` as ``F.pad``'s.  Constant padding
    takes any input with those dims, the others torch's batched or unbatched images."""
    mode, dims, named_repr = "constant", 2, False

    def __init__(self, padding: Any, value: float = 0.0):
        super().__init__()
        name, sides = type(self).__name__, 2 * self.dims
        amounts = (padding,) * sides if isinstance(padding, (int, np.integer)) else padding
        if not isinstance(amounts, (tuple, list)) or len(amounts) != sides or not all(
                isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in amounts):
            raise ConfigError(f"{name}: padding must be an int or "
                              f"({', '.join(_SIDES[:sides])}), got {padding!r}")
        F._scalar(name, "value", value)
        self.padding, self.value = tuple(int(p) for p in amounts), value

    def forward(self, input: Tensor) -> Tensor:
        ranks = range(self.dims, 33) if self.mode == "constant" else (self.dims + 1, self.dims + 2)
        layouts = {1: "(C, L) or (N, C, L)", 2: "(C, H, W) or (N, C, H, W)", 3: "(C, D, H, W) or (N, C, D, H, W)"}
        if self.mode in ("reflect", "replicate") and isinstance(input, Tensor) and input.ndim not in ranks:
            raise PadShapeNotImplementedError(       # torch's NotImplementedError (circular: ValueError)
                f"{type(self).__name__}: expected input of shape {layouts[self.dims]}, got {input.shape}")
        check_input(self, input, ranks, f"at least {self.dims}-D" if self.mode == "constant"
                    else layouts[self.dims])
        return F.pad(input, self.padding, self.mode, self.value)

    def extra_repr(self) -> str:   # torch's: only constant padding names its arguments
        return f"padding={self.padding}, value={self.value}" if self.named_repr else f"{self.padding}"


_SIDES = ("left", "right", "top", "bottom", "front", "back")


class _ConstantPadNd(_PadNd):
    """torch's base of ConstantPad1d / 2d / 3d (and so of ZeroPad1d / 2d / 3d)."""
    named_repr = True


class _ZeroPad:
    """ZeroPad1d / 2d / 3d: a ConstantPad of value 0 (their subclass, as torch's), shown by the
    padding alone."""
    named_repr = False

    def __init__(self, padding: Any):
        super().__init__(padding, 0.0)


class _ReflectionPadNd(_PadNd):
    """torch's base of ReflectionPad1d / 2d / 3d."""
    mode = "reflect"

    def __init__(self, padding: Any):
        super().__init__(padding)


class _ReplicationPadNd(_PadNd):
    """torch's base of ReplicationPad1d / 2d / 3d."""
    mode = "replicate"

    def __init__(self, padding: Any):
        super().__init__(padding)


class _CircularPadNd(_PadNd):
    """torch's base of CircularPad1d / 2d / 3d."""
    mode = "circular"

    def __init__(self, padding: Any):
        super().__init__(padding)


class ConstantPad1d(_ConstantPadNd):
    dims = 1


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    pass


class ReflectionPad1d(_ReflectionPadNd):
    dims = 1


class ReplicationPad1d(_ReplicationPadNd):
    dims = 1


class CircularPad1d(_CircularPadNd):
    dims = 1


class ConstantPad2d(_ConstantPadNd):
    pass


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    pass


class ReflectionPad2d(_ReflectionPadNd):
    pass


class ReplicationPad2d(_ReplicationPadNd):
    pass


class CircularPad2d(_CircularPadNd):
    pass


class ConstantPad3d(_ConstantPadNd):
    dims = 3


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    pass


class ReflectionPad3d(_ReflectionPadNd):
    dims = 3


class ReplicationPad3d(_ReplicationPadNd):
    dims = 3


class CircularPad3d(_CircularPadNd):
    dims = 3


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        check_input(self, input, range(0, 33), "a tensor")
        if input.ndim <= max(self.start_dim, 0):
            raise ShapeError(f"Flatten(start_dim={self.start_dim}): input of shape {input.shape} has "
                             f"too few dims")
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: ``(N, 12544) -> (N, 256, 7, 7)``."""

    def __init__(self, dim: int, unflattened_size: Iterable[int]):
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(_positive_int("unflattened_size", n, "Unflatten")
                                      for n in unflattened_size)
        self._numel = int(np.prod(self.unflattened_size))

    def forward(self, input: Tensor) -> Tensor:
        check_input(self, input, range(0, 33), "a tensor")
        if not -input.ndim <= self.dim < input.ndim or input.shape[self.dim] != self._numel:
            if not -input.ndim <= self.dim < input.ndim:      # (not a size problem: torch's IndexError)
                raise IndexOutOfRangeError(f"Unflatten: dim {self.dim} is out of range for input shape "
                                           f"{input.shape} (expected in [{-input.ndim}, {input.ndim - 1}])")
            raise ShapeError(f"Unflatten({self.dim}, {self.unflattened_size}): dim {self.dim} of "
                             f"input shape {input.shape} must have {self._numel} elements")
        d = self.dim % input.ndim
        return input.reshape(input.shape[:d] + self.unflattened_size + input.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _position(index: int, length: int, owner: str) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -length <= index < length:
        raise IndexError(f"{owner} index {index!r} is out of range for {length} modules")
    return int(index) % length


def _insert_at(items: list, index: int, module: Module, owner: str) -> list:
    if not isinstance(module, Module) and not (module is None and owner == "ModuleList"):
        raise InputTypeError(f"{owner}: cannot insert {type(module).__name__}, not a Module")
    n = len(items)
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -n <= index <= n:
        raise IndexError(f"{owner}.insert: index {index!r} is out of range for {n} modules")
    items.insert(int(index), module)
    return items


def _delete(container: Module, index: int | slice, owner: str) -> None:
    """``del container[index]``, the rest renumbered "0", "1", ... as torch does."""
    modules = list(container._modules.values())
    if isinstance(index, slice):
        del modules[index]
    else:
        del modules[_position(index, len(modules), owner)]
    _renumber(container, modules)


def _repeat_count(container: Module, times: Any) -> int:
    if isinstance(times, bool) or not isinstance(times, (int, np.integer)):
        raise InputTypeError(f"{type(container).__name__} * {type(times).__name__}: "
                             f"the factor must be an int")
    if times <= 0:
        raise ConfigError(f"{type(container).__name__} * {times}: the factor must be positive")
    return int(times)


def _renumber(container: Module, modules: list) -> None:
    """Re-register ``modules`` as "0", "1", ... in order (insert / delete keep torch's numbering)."""
    for name in list(container._modules):
        object.__delattr__(container, name)
    container._modules.clear()
    for i, m in enumerate(modules):
        Module.add_module(container, str(i), m)
    if hasattr(container, "_sync"):
        container._sync()


class Sequential(Module):
    """Layers applied in order; indexable, iterable, named ``"0"``, ``"1"``, ... in state dicts.

    Fusion: a BatchNorm1d / BatchNorm2d immediately followed by a LeakyReLU runs as one op,
    ``F.batch_norm_leaky_relu`` (one kernel pass each way instead of two, and no intermediate
    tensor) -- the same values, gradients and running-statistics update as the two modules one
    after the other.  Only the forward pass changes: the two modules stay in the list, so
    ``state_dict`` keys, indexing and checkpoints are as without fusion.  Exact classes only (a
    subclass may override forward).  Switch it off with
    ``Sequential.fuse_batch_norm_activation = False`` (or on one instance).  A LeakyReLU in place
    with a negative slope is not fused (torch's backward refuses it, see ``F.leaky_relu``).
    """

    fuse_batch_norm_activation = True

    def __init__(self, *layers: Module | "OrderedDict[str, Module]"):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            for name, m in layers[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(layers):
                self.add_module(str(i), m)
        self._sync()

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):   # None: an empty slot (torch's)
            raise InputTypeError(f"Sequential: {name!r} is {type(module).__name__}, not a Module")
        super().add_module(name, module)
        self._sync()

    def append(self, module: Module) -> "Sequential":
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "Sequential":
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> "Sequential":
        _renumber(self, _insert_at(list(self._modules.values()), index, module, "Sequential"))
        return self

    def pop(self, index: int = -1) -> Module:
        module = self[index]
        del self[index]
        return module

    def __add__(self, other: "Sequential") -> "Sequential":
        """``seq1 + seq2``: a new Sequential of both's layers (the same module objects), renumbered."""
        if not isinstance(other, Sequential):
            raise ConfigError(f"Sequential + {type(other).__name__}: only a Sequential can be added")
        return Sequential().extend(self).extend(other)

    def __iadd__(self, other: "Sequential") -> "Sequential":
        if not isinstance(other, Sequential):
            raise ConfigError(f"Sequential += {type(other).__name__}: only a Sequential can be added")
        return self.extend(list(other))

    def __mul__(self, times: int) -> "Sequential":
        """``seq * n``: the layers n times over (the same module objects, so shared weights)."""
        return Sequential().extend(list(self) * _repeat_count(self, times))

    __rmul__ = __mul__

    def __imul__(self, times: int) -> "Sequential":
        return self.extend(list(self) * (_repeat_count(self, times) - 1))

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, list(self._modules)[_position(index, len(self), "Sequential")], module)

    def __delitem__(self, index: int | slice) -> None:
        _delete(self, index, "Sequential")

    def _sync(self) -> None:
        # A tuple of the layers for the forward loop: no dict iteration per call.  A None slot
        # stays (len, iteration and indexing count it, as torch's); forward refuses it.
        object.__setattr__(self, "_layers", tuple(self._modules.values()))

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if "_layers" in self.__dict__:       # seq.0 = ... or setattr(seq, "1", ...): rebuild
            self._sync()

    def __delattr__(self, name: str) -> None:
        super().__delattr__(name)
        self._sync()

    def forward(self, input: Tensor) -> Tensor:
        layers, fuse = self._layers, self.fuse_batch_norm_activation
        i = 0
        while i < len(layers):
            layer = layers[i]
            if (fuse and type(layer) in _FUSABLE_BATCH_NORMS and i + 1 < len(layers)
                    and type(layers[i + 1]) is LeakyReLU
                    and not (layer._has_hooks() or layers[i + 1]._has_hooks())  # hooks: each called
                    and not (layers[i + 1].inplace and layers[i + 1].negative_slope < 0)):
                # (in place with a negative slope: torch's backward refuses it; unfused, so here too)
                input = layer.forward_leaky_relu(input, layers[i + 1].negative_slope)
                i += 2
            elif layer is None:
                raise InputTypeError(f"Sequential: layer {list(self._modules)[i]!r} is None, "
                                     f"not a Module (torch's forward cannot call it either)")
            else:
                input = layer(input)
                i += 1
        return input

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):   # keeps the layers' names ("2.weight" stays "2.weight")
            # and the subclass (its forward), as torch: type(self) built from an OrderedDict
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        try:
            return self._layers[index]
        except (IndexError, TypeError):
            raise IndexError(f"Sequential index {index!r} is out of range for {len(self)} layers") from None

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._layers)


class ModuleList(Module):
    """A list of modules whose parameters belong to the owner (``torch.nn.ModuleList``): no
    forward of its own -- iterate over it in yours.  Named ``"0"``, ``"1"``, ... in state dicts."""

    def __init__(self, modules: Iterable[Module] = ()):
        super().__init__()
        self.extend(modules)

    def append(self, module: Module | None) -> "ModuleList":
        if module is not None and not isinstance(module, Module):   # None: an empty slot (torch's)
            raise InputTypeError(f"ModuleList: item {len(self)} is {type(module).__name__}, not a Module")
        self.add_module(str(len(self._modules)), module)
        return self

    def __repr__(self) -> str:
        """torch's: a run of equal consecutive entries prints once, as ``(0-2): 3 x ReLU()``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return f"{type(self).__name__}()"
        blocks: list[list] = []
        for i, r in enumerate(reprs):
            if blocks and blocks[-1][2] == r:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, r])
        lines = []
        for start, end, r in blocks:
            head = f"({start})" if start == end else f"({start}-{end}): {end - start + 1} x"
            lines.append((f"{head}: " if start == end else f"{head} ") + r.replace("\n", "\n  "))
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        if modules is None or (isinstance(modules, Module) and not hasattr(modules, "__iter__")):
            raise InputTypeError(f"ModuleList.extend takes an iterable of Modules, got "
                                 f"{type(modules).__name__} (wrap one module in a list)")
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        _renumber(self, _insert_at(list(self._modules.values()), index, module, "ModuleList"))

    def __iadd__(self, modules: Iterable[Module]) -> "ModuleList":
        """``mlist += [m1, m2]``: extend in place (as torch's)."""
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> "ModuleList":
        """``mlist + other``: a new ModuleList of both's modules (the same objects)."""
        return ModuleList(list(self) + list(other))

    def pop(self, index: int | slice) -> "Module | ModuleList":
        item = self[index]
        del self[index]
        return item

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, str(_position(index, len(self), "ModuleList")), module)

    def __delitem__(self, index: int | slice) -> None:
        _delete(self, index, "ModuleList")

    def __getitem__(self, index: int | slice) -> "Module | ModuleList":
        items = list(self._modules.values())
        if isinstance(index, slice):
            return type(self)(items[index])     # the subclass kept, as torch
        try:
            return items[index]
        except (IndexError, TypeError):
            raise IndexError(f"ModuleList index {index!r} is out of range for {len(self)} modules") from None

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


class ParameterList(Module):
    """A list of Parameters that belong to the owner (torch.nn.ParameterList), named ``"0"``,
    ``"1"``, ... in state dicts; a Tensor appended becomes a Parameter.  As torch's, it holds
    other objects too (Vocos' ``ParameterList([gamma or None, ...])``): kept as plain attributes,
    outside the parameters and state dict.  A NumPy array is refused (surely meant as a
    parameter: wrap it in a Tensor)."""

    def __init__(self, values: Iterable[Any] | None = None):
        super().__init__()
        self._size = 0
        for value in values or ():
            self.append(value)

    def append(self, value: Any) -> "ParameterList":
        self._size += 1
        try:
            self[self._size - 1] = value
        except Exception:
            self._size -= 1
            raise
        return self

    def extend(self, values: Iterable[Any]) -> "ParameterList":
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values: Iterable[Any]) -> "ParameterList":
        return self.extend(values)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)([self[i] for i in range(*index.indices(len(self)))])   # (as torch)
        return getattr(self, str(_position(index, len(self), "ParameterList")))

    def __setitem__(self, index: int, value: Any) -> None:
        name = str(_position(index, len(self), "ParameterList"))
        if isinstance(value, (Tensor, np.ndarray)):
            value = _as_parameter(value, "ParameterList")
        setattr(self, name, value)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return iter([self[i] for i in range(len(self))])

    def extra_repr(self) -> str:
        """torch's lines: each item's kind and size, or the type of a non-tensor item."""
        lines = []
        for k, p in enumerate(self):
            if isinstance(p, Tensor):
                kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
                size = "x".join(str(n) for n in p.shape)
                lines.append(f"  ({k}): {kind} containing: [{p.dtype} of size {size}]")
            else:
                lines.append(f"  ({k}): Object of type: {type(p).__name__}")
        return "\n".join(lines)


class ParameterDict(Module):
    """A dict of Parameters that belong to the owner (torch.nn.ParameterDict), in insertion order."""

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def update(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        items = parameters.items() if isinstance(parameters, Mapping) else parameters
        for key, value in items:
            self[key] = value

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):      # torch's TypeError; '' and 'a.b': register_parameter's KeyError
            raise ConfigTypeError(f"ParameterDict: keys must be strings, got {type(key).__name__} {key!r}")
        self.register_parameter(key, _as_parameter(value, "ParameterDict"))

    def __getitem__(self, key: str) -> Parameter:
        if key not in self._parameters:
            raise KeyError(f"ParameterDict has no parameter {key!r} (it has {list(self._parameters)})")
        return self._parameters[key]

    def __delitem__(self, key: str) -> None:
        self[key]                                   # KeyError naming the keys
        delattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._parameters))

    def keys(self) -> Any:
        """A live view of the names (torch's ``dict_keys``: set operations work on it)."""
        return self._parameters.keys()

    def values(self) -> list[Parameter]:
        return list(self._parameters.values())

    def items(self) -> list[tuple[str, Parameter]]:
        return list(self._parameters.items())

    # The rest of dict's methods, as torch's ParameterDict has them.
    def get(self, key: str, default: Any = None) -> Any:
        return self._parameters[key] if key in self._parameters else default

    def pop(self, key: str) -> Parameter:
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[str, Parameter]:
        if not self._parameters:
            raise KeyError("popitem(): ParameterDict is empty")
        key = next(reversed(self._parameters))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self._parameters):
            del self[key]

    def copy(self) -> "ParameterDict":
        """A new ParameterDict holding the same Parameter objects (a shallow copy, as torch's)."""
        return ParameterDict(list(self._parameters.items()))

    def setdefault(self, key: str, default: Any = None) -> Parameter:
        if key not in self._parameters:
            self[key] = default
        return self[key]

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> "ParameterDict":
        return ParameterDict([(k, default) for k in keys])

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._parameters))

    def __or__(self, other: Any) -> "ParameterDict":
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other: Any) -> Any:
        out = other.copy()
        out.update(self)
        return out

    def __ior__(self, other: Any) -> "ParameterDict":
        self.update(other)
        return self


def _as_parameter(value: Any, owner: str) -> Parameter:
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value.detach().array, device=value.device)
    raise InputTypeError(f"{owner}: items must be Parameters or Tensors, got {type(value).__name__}")


class ModuleDict(Module):
    """Modules by name, in insertion order (``torch.nn.ModuleDict``): no forward of its own;
    ``state_dict`` keys are ``"<name>.weight"``...  A name that is already an attribute of the
    dict (``"keys"``, ``"train"``) is refused, as in torch, since it would hide that attribute."""

    def __init__(self, modules: "Mapping[str, Module] | Iterable[tuple[str, Module]] | None" = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise InputTypeError(f"ModuleDict: {key!r} is {type(module).__name__}, not a Module")
        if isinstance(key, str) and key not in self._modules and hasattr(self, key):
            raise ConfigError(f"ModuleDict: key {key!r} is already an attribute of the ModuleDict")
        self.add_module(key, module)

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except (KeyError, TypeError):
            raise KeyError(f"ModuleDict has no module {key!r} (it has {list(self._modules)})") from None

    def __delitem__(self, key: str) -> None:
        self[key]       # the KeyError naming the keys
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Any:
        """Live views of the entries, as torch's ``ModuleDict`` returns (``dict_keys`` and co:
        set operations on the keys work)."""
        return self._modules.keys()

    def values(self) -> Any:
        return self._modules.values()

    def items(self) -> Any:
        return self._modules.items()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self.keys()):
            del self[key]

    def update(self, modules: "Mapping[str, Module] | Iterable[tuple[str, Module]]") -> None:
        pairs = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        for i, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise InputTypeError(f"ModuleDict.update: item {i} must be a (name, module) pair, "
                                     f"got {type(pair).__name__}")
            self[pair[0]] = pair[1]


# ---------------------------------------------------------------------------------------------
# LocalResponseNorm, LPPool, alpha dropouts, Bilinear, ChannelShuffle, FractionalMaxPool2d, Container
# ---------------------------------------------------------------------------------------------
class LocalResponseNorm(_FunctionLayer):
    """``torch.nn.LocalResponseNorm(size, alpha=1e-4, beta=0.75, k=1.0)``: F.local_response_norm."""
    params, function = ("size", "alpha", "beta", "k"), staticmethod(F.local_response_norm)

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size = _positive_int("size", size, "LocalResponseNorm")
        self.alpha, self.beta, self.k = alpha, beta, k

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class _LPPoolNd(_FunctionLayer):
    """torch's base of LPPool1d / 2d / 3d (``norm_type, kernel_size, stride=None, ceil_mode``)."""
    params, function = ("norm_type", "kernel_size", "stride", "ceil_mode"), staticmethod(F.lp_pool1d)

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False):
        super().__init__()
        F._scalar(type(self).__name__, "norm_type", norm_type)
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)}" for name in self.params)


class LPPool1d(_LPPoolNd):
    """``torch.nn.LPPool1d(norm_type, kernel_size, stride=None, ceil_mode=False)``: F.lp_pool1d."""


class LPPool2d(_LPPoolNd):
    """``torch.nn.LPPool2d(norm_type, kernel_size, stride=None, ceil_mode=False)``: F.lp_pool2d."""
    function = staticmethod(F.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """``torch.nn.LPPool3d(norm_type, kernel_size, stride=None, ceil_mode=False)``: F.lp_pool3d."""
    function = staticmethod(F.lp_pool3d)


class AlphaDropout(_DropoutNd):
    """``torch.nn.AlphaDropout(p=0.5, inplace=False)``: F.alpha_dropout (for SELU networks)."""

    function = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    """``torch.nn.FeatureAlphaDropout(p=0.5, inplace=False)``: F.feature_alpha_dropout."""

    function = staticmethod(F.feature_alpha_dropout)


class Bilinear(Module):
    """``y = x1^T W x2 + b`` (torch.nn.Bilinear): weight (out, in1, in2) and bias (out,), both
    from U(-1/sqrt(in1), 1/sqrt(in1)) as torch's."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None, *, generator: Generator | None = None):
        super().__init__()
        self.in1_features = _positive_int("in1_features", in1_features, "Bilinear")
        self.in2_features = _positive_int("in2_features", in2_features, "Bilinear")
        self.out_features = _positive_int("out_features", out_features, "Bilinear")
        self.weight = _empty((self.out_features, self.in1_features, self.in2_features), dtype, device)
        self.register_parameter("bias", _empty((self.out_features,), dtype, device) if bias else None)
        _reset(self, generator)

    def reset_parameters(self, generator: Generator | None = None) -> None:
        """Re-draw weight and bias from U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""
        bound = 1.0 / math.sqrt(self.in1_features)
        for t in (self.weight, self.bias):
            if t is not None:
                init.uniform_(t, -bound, bound, generator)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class ChannelShuffle(_FunctionLayer):
    """``torch.nn.ChannelShuffle(groups)``: F.channel_shuffle."""
    params, function = ("groups",), staticmethod(F.channel_shuffle)

    def __init__(self, groups: int):
        super().__init__()
        self.groups = _positive_int("groups", groups, "ChannelShuffle")

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class _FractionalMaxPool(Module):
    """FractionalMaxPool2d's and 3d's body (siblings in torch).
    ``torch.nn.FractionalMaxPool2d(kernel_size, output_size=None, output_ratio=None,
    return_indices=False, _random_samples=None)``: F.fractional_max_pool2d, new window starts
    drawn each call unless ``_random_samples`` fixes them."""
    dims, function = 2, staticmethod(F.fractional_max_pool2d)

    def __init__(self, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                 return_indices: bool = False, _random_samples: Tensor | None = None):
        super().__init__()
        name, dims = type(self).__name__, self.dims
        self.kernel_size = F._ntuple(kernel_size, "kernel_size", 1, name, dims)
        self.output_size = None if output_size is None else F._ntuple(output_size, "output_size", 1, name, dims)
        self.output_ratio = None if output_ratio is None else (
            tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * dims)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        if output_size is None and output_ratio is None:
            raise ConfigError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ConfigError(f"{name}: only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < F._scalar(name, "output_ratio", r) < 1
                                                     for r in self.output_ratio):
            raise ConfigError(f"{name}: output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor) -> Any:
        return self.function(input, self.kernel_size, self.output_size, self.output_ratio,
                             self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPool):
    """``torch.nn.FractionalMaxPool2d`` (F.fractional_max_pool2d)."""


class FractionalMaxPool3d(_FractionalMaxPool):
    """``torch.nn.FractionalMaxPool3d(kernel_size, output_size=None, output_ratio=None,
    return_indices=False, _random_samples=None)``: F.fractional_max_pool3d."""
    dims, function = 3, staticmethod(F.fractional_max_pool3d)


class CrossMapLRN2d(_FunctionLayer):
    """``torch.nn.CrossMapLRN2d(size, alpha=1e-4, beta=0.75, k=1)``: Lua torch's legacy
    cross-channel LRN on (N, C, H, W), ``x * (k + alpha / size * S) ** -beta`` with S torch's
    running channel sums of x^2 (see F._cross_map_lrn2d: not LocalResponseNorm's window)."""
    params, function = ("size", "alpha", "beta", "k"), staticmethod(F._cross_map_lrn2d)

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1):
        super().__init__()
        self.size = _positive_int("size", size, "CrossMapLRN2d")
        self.alpha, self.beta, self.k = alpha, beta, k

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class Container(Module):
    """Deprecated (torch's ``nn.Container(**kwargs)``): a Module holding the given children."""

    def __init__(self, **kwargs: Module):
        super().__init__()
        import warnings
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now implemented in "
                      "`nn.Module`. Subclass that instead.", FutureWarning, stacklevel=2)
        for name, module in kwargs.items():
            self.add_module(name, module)
