"""In-place weight initializers (``torch.nn.init`` names and formulas).

Every draw comes from a :class:`tensorgan.Generator` (the default generator when none is given) on
the host, then is copied into the tensor's array on its device, so a seed initializes a model
identically on every device.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable

from ..backend import device_of
from ..errors import ConfigError, InputTypeError, ShapeError
from ..random import Generator, resolve
from ..tensor import Tensor, no_grad

__all__ = ["calculate_gain", "calculate_fan_in_and_fan_out", "normal_", "uniform_", "zeros_",
           "ones_", "constant_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]


def _in_place_on_arrays(init: Callable) -> Callable:
    """Let an initializer take a bare NumPy / CuPy array (``m.weight.array``) as well as a Tensor
    (``m.weight`` or PyTorch's ``m.weight.data``), filling it in place and returning what was given."""
    @functools.wraps(init)
    def wrapper(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(tensor, Tensor):
            return init(tensor, *args, **kwargs)
        if not hasattr(tensor, "shape") or not hasattr(tensor, "dtype"):
            raise InputTypeError(f"{init.__name__}: expected a Tensor or an array, got "
                                 f"{type(tensor).__name__}")
        init(Tensor._make(tensor, device_of(tensor)), *args, **kwargs)
        return tensor
    return wrapper


def _fill(tensor: Tensor, host_array) -> Tensor:
    with no_grad():
        tensor.array[...] = tensor.device.xp.asarray(host_array, dtype=tensor.dtype)
    tensor._bump_version()
    return tensor


@_in_place_on_arrays
def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    if std < 0:
        raise ConfigError(f"normal_: std must be >= 0, got {std}")
    return _fill(tensor, resolve(generator).normal(tensor.shape, tensor.dtype, mean, std))


@_in_place_on_arrays
def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    if b < a:
        raise ConfigError(f"uniform_: need a <= b, got a={a}, b={b}")
    return _fill(tensor, resolve(generator).uniform(tensor.shape, tensor.dtype, a, b))


@_in_place_on_arrays
def constant_(tensor: Tensor, val: float) -> Tensor:
    with no_grad():
        tensor.array[...] = val
    tensor._bump_version()
    return tensor


@_in_place_on_arrays
def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


@_in_place_on_arrays
def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """As PyTorch: dim 1 times the receptive field is fan_in, dim 0 times it is fan_out (so for a
    transposed convolution's ``(C_in, C_out, kH, kW)`` weight, fan_in counts C_out)."""
    if tensor.ndim < 2:
        raise ShapeError(f"fan in/out needs a tensor with at least 2 dims, got shape {tensor.shape}")
    receptive = 1
    for n in tensor.shape[2:]:
        receptive *= n
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "selu":
        return 3.0 / 4
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ConfigError(f"unsupported nonlinearity {nonlinearity!r}")


@_in_place_on_arrays
def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


@_in_place_on_arrays
def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


@_in_place_on_arrays
def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Generator | None = None) -> Tensor:
    """U(-b, b) with ``b = gain * sqrt(3 / fan)``; ``a=sqrt(5)`` gives PyTorch's layer default
    ``b = 1 / sqrt(fan_in)``."""
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan("kaiming_uniform_", tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


@_in_place_on_arrays
def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Generator | None = None) -> Tensor:
    """N(0, std^2) with ``std = gain / sqrt(fan)``."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan("kaiming_normal_", tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def _fan(op: str, tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ConfigError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out
