"""In-place weight initializers (``torch.nn.init`` names and formulas).

Every draw comes from a :class:`tensorgan.Generator` (the default generator when none is given) on
the host, then is copied into the tensor's array on its device, so a seed initializes a model
identically on every device.
"""
from __future__ import annotations

import functools
import math
import warnings
from typing import Any, Callable

import numpy as np

from ..backend import device_of
from ..errors import (ConfigError, DTypeNotImplementedError, InputTypeError,
                      SamplingParameterError, ShapeError)
from ..tensor import _check_uniform_bounds
from ..random import Generator, fillable, resolve
from ..tensor import Tensor, _caller_level, no_grad

__all__ = ["calculate_gain", "calculate_fan_in_and_fan_out", "normal_", "uniform_", "zeros_",
           "ones_", "constant_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "orthogonal_", "trunc_normal_", "eye_", "dirac_", "sparse_"]


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


def _refuse_non_float(op: str, tensor: Tensor) -> None:
    """torch's trunc_normal_ / orthogonal_ raise NotImplementedError ("normal_kernel_cpu" not
    implemented for 'Long') on integer, bool and complex tensors; NumPy's generator would raise a
    bare TypeError instead, or round the draws into an integer tensor silently."""
    if tensor.array.dtype.kind != "f":
        raise DTypeNotImplementedError(f"{op}: not implemented for a {tensor.dtype} tensor (as torch): "
                                       f"only floating point ones")


def _fill_drawn(tensor: Tensor, draw) -> Tensor:
    """``draw(out)`` into the tensor's own buffer when it can take the draws directly (a host
    float32 / float64 C-contiguous array: no second buffer, no copy; the same values), else
    ``draw(None)``'s fresh array copied in by :func:`_fill`."""
    if fillable(tensor.array):
        with no_grad():
            draw(tensor.array)
        tensor._bump_version()
        return tensor
    return _fill(tensor, draw(None))


@_in_place_on_arrays
def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    if not std >= 0:                    # (NaN too, as torch's "normal expects std >= 0.0")
        raise SamplingParameterError(f"normal_: std must be >= 0, got {std}")
    if tensor.array.dtype.kind != "f":  # Tensor.normal_: torch's error for ints, each part for complex
        with no_grad():
            return tensor.normal_(mean, std, generator=generator)
    gen = resolve(generator, device=tensor.device)
    return _fill_drawn(tensor, lambda out: gen.normal(tensor.shape, tensor.dtype, mean, std, out))


@_in_place_on_arrays
def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    _check_uniform_bounds(a, b, tensor.array.dtype if tensor.array.dtype.kind in "fc" else None)
    if tensor.array.dtype.kind != "f":  # Tensor.uniform_: torch's error for ints, each part for complex
        with no_grad():
            return tensor.uniform_(a, b, generator=generator)
    gen = resolve(generator, device=tensor.device)
    return _fill_drawn(tensor, lambda out: gen.uniform(tensor.shape, tensor.dtype, a, b, out))


@_in_place_on_arrays
def constant_(tensor: Tensor, val: float) -> Tensor:
    if isinstance(val, (str, bytes)) or not (np.isscalar(val) or (isinstance(val, Tensor) and val.numel() == 1)):
        raise InputTypeError(f"constant_: val must be a number, got {type(val).__name__} {val!r:.40}")
    if isinstance(val, Tensor):
        val = val.item()
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
        if isinstance(slope, (bool, str, bytes)) or not np.isscalar(slope):
            raise InputTypeError(f"calculate_gain: negative_slope {slope!r} is not a valid number")
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
    if 0 in tensor.shape:               # (as torch: Linear(0, 3) builds, with this warning)
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=_caller_level())
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan("kaiming_uniform_", tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


@_in_place_on_arrays
def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Generator | None = None) -> Tensor:
    """N(0, std^2) with ``std = gain / sqrt(fan)``."""
    if 0 in tensor.shape:               # (as torch: Linear(0, 3) builds, with this warning)
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=_caller_level())
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan("kaiming_normal_", tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def _fan(op: str, tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ConfigError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


@_in_place_on_arrays
def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix into a 2-D tensor (ones on the main diagonal of a non-square one)."""
    if tensor.ndim != 2:
        raise ShapeError(f"eye_: only 2-D tensors are supported, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


@_in_place_on_arrays
def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """A 3-, 4- or 5-D convolution weight ``(out, in, *kernel)`` that passes its input through:
    1 at ``[g * out_per_group + d, d, *centre]`` for ``d < min(out_per_group, in)`` in each of
    ``groups`` groups, 0 elsewhere (torch's)."""
    if tensor.ndim not in (3, 4, 5):
        raise ShapeError(f"dirac_: only tensors with 3, 4 or 5 dims are supported, got shape "
                         f"{tensor.shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ConfigError(f"dirac_: groups must be an int >= 1, got {groups!r}")
    if tensor.shape[0] % groups:
        raise ShapeError(f"dirac_: dim 0 ({tensor.shape[0]}) must be divisible by groups ({groups})")
    per_group = tensor.shape[0] // groups
    values = np.zeros(tensor.shape)
    centre = tuple(n // 2 for n in tensor.shape[2:])
    for g in range(int(groups)):
        for d in range(min(per_group, tensor.shape[1])):
            values[(g * per_group + d, d) + centre] = 1.0
    return _fill(tensor, values)


@_in_place_on_arrays
def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix, by torch's algorithm: the tensor seen as ``(rows, cols)`` with
    ``rows = shape[0]``; Q of the QR of a standard normal matrix (transposed when rows < cols),
    each column times the sign of R's diagonal (so Q is Haar-uniform), times ``gain``."""
    if tensor.ndim < 2:
        raise ShapeError(f"orthogonal_: only tensors with 2 or more dims are supported, got shape "
                         f"{tensor.shape}")
    _refuse_non_float("orthogonal_", tensor)   # (torch: complex fails in its sign step)
    if tensor.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.size // rows
    flat = resolve(generator, device=tensor.device).normal((rows, cols), tensor.dtype).astype(np.float64)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(tensor.shape))


@_in_place_on_arrays
def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01,
            generator: Generator | None = None) -> Tensor:
    """A 2-D tensor drawn from N(0, std^2), then in each column ``ceil(sparsity * rows)`` rows
    chosen at random set to zero (torch's, after Martens 2010)."""
    if tensor.ndim != 2:
        raise ShapeError(f"sparse_: only tensors with 2 dimensions are supported, got shape "
                         f"{tensor.shape}")
    if not 0.0 <= sparsity <= 1.0:
        raise ConfigError(f"sparse_: sparsity must be in [0, 1], got {sparsity}")
    if std < 0:
        raise ConfigError(f"sparse_: std must be >= 0, got {std}")
    gen = resolve(generator, device=tensor.device)
    rows, cols = tensor.shape
    if tensor.array.dtype.kind == "f":
        values = gen.normal((rows, cols), tensor.dtype, 0.0, std)
    else:   # Tensor.normal_, as torch's sparse_: NotImplementedError for ints, each part for complex
        from ..factory import empty
        values = empty((rows, cols), dtype=tensor.dtype).normal_(0.0, std, generator=gen).numpy()
    zeros = int(math.ceil(sparsity * rows))
    for col in range(cols):
        values[gen.permutation(rows)[:zeros], col] = 0
    return _fill(tensor, values)


_ERFINV = None
_GILES = ((3.43273939e-07, 0.000100950558), (-3.5233877e-06, 0.00134934322),
          (-4.39150654e-06, -0.00367342844), (0.00021858087, 0.00573950773),
          (-0.00125372503, -0.0076224613), (-0.00417768164, 0.00943887047),
          (0.246640727, 1.00167406), (1.50140941, 2.83297682))


def _erfinv_scalar(y: float) -> float:
    """erf's inverse of one float64: Giles' single-precision approximation, then Newton
    steps (at most 4, until they are below rounding) -- on erf near 0, on log(erfc) in the tails, where 1 - |y| is exact; +-inf at +-1,
    NaN beyond (compiled elementwise by :func:`_erfinv`; no whole-array temporaries)."""
    a = abs(y)
    if not a < 1.0:                         # NaN, or |y| >= 1
        return math.copysign(math.inf, y) if a == 1.0 else math.nan
    w = -math.log((1.0 - y) * (1.0 + y))
    if w < 5.0:
        t = w - 2.5
        p = 2.81022636e-08
        for i in range(8):
            p = _GILES[i][0] + p * t
    else:
        t = math.sqrt(w) - 3.0
        p = -0.000200214257
        for i in range(8):
            p = _GILES[i][1] + p * t
    x = p * a                               # |erfinv(y)|, refined below
    log_q = math.log(1.0 - a) if a >= 0.5 else 0.0
    for _ in range(4):
        density = 2.0 / math.sqrt(math.pi) * math.exp(-x * x)
        if a < 0.5:
            step = (math.erf(x) - a) / density
        else:
            c = math.erfc(x)
            step = (math.log(c) - log_q) * c / -density
        if not math.isfinite(step):
            break
        x = x - step
        if abs(step) <= 1e-10 * abs(x):     # quadratic convergence: the next step is below rounding
            break
    return math.copysign(x, y)


def _erfinv(y: np.ndarray) -> np.ndarray:
    """erf's inverse in float64 (NumPy has none), elementwise through a Numba ufunc of
    :func:`_erfinv_scalar` (compiled on first use, cached on disk)."""
    global _ERFINV
    if _ERFINV is None:
        import numba
        _ERFINV = numba.vectorize(["float64(float64)"], cache=True)(_erfinv_scalar)
    return _ERFINV(np.asarray(y, dtype=np.float64))


@_in_place_on_arrays
def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: Generator | None = None) -> Tensor:
    """N(mean, std^2) truncated to ``[a, b]`` (absolute bounds, not in units of std), by torch's
    inverse-CDF method: U(2 cdf(a) - 1, 2 cdf(b) - 1) through erfinv, scaled, shifted, clamped.
    Warns, as torch, when ``mean`` is more than 2 std outside ``[a, b]``."""
    if b < a:
        raise ConfigError(f"trunc_normal_: need a <= b, got a={a}, b={b}")
    _refuse_non_float("trunc_normal_", tensor)     # (torch: complex fails comparing with a, b)
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution "
                      "of values may be incorrect.", stacklevel=3)
    if std == 0:
        return _fill(tensor, np.full(tensor.shape, min(max(mean, a), b)))
    # a negative std is its size: torch 2.13's rejection sampler only reads ((x - mean) / std) ** 2
    std = abs(std)

    def cdf(v: float) -> float:
        return (1.0 + math.erf((v - mean) / std / math.sqrt(2.0))) / 2.0
    draws = resolve(generator, device=tensor.device).uniform(tensor.shape, np.float64, 2 * cdf(a) - 1, 2 * cdf(b) - 1)
    values = np.clip(_erfinv(draws) * (std * math.sqrt(2.0)) + mean, a, b)
    return _fill(tensor, values)


def _deprecated(new: Callable) -> Callable:
    """torch's old name of an initializer (no trailing underscore): the same, with its warning."""
    old = new.__name__[:-1]

    @functools.wraps(new)
    def deprecated_init(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new.__name__}`.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    deprecated_init.__name__ = deprecated_init.__qualname__ = old
    return deprecated_init


(uniform, normal, constant, eye, dirac, xavier_uniform, xavier_normal, kaiming_uniform,
 kaiming_normal, orthogonal, sparse) = map(_deprecated, (uniform_, normal_, constant_, eye_, dirac_,
                                                         xavier_uniform_, xavier_normal_,
                                                         kaiming_uniform_, kaiming_normal_,
                                                         orthogonal_, sparse_))


# torch.nn.init's private helpers, which model code imports by name (``from torch.nn.init import
# _calculate_fan_in_and_fan_out``: score_sde / DDGAN's dense_layer.py, timm, many repos).
_calculate_fan_in_and_fan_out = calculate_fan_in_and_fan_out


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    """torch's: fan_in or fan_out of ``tensor`` as ``mode`` (case-insensitive) says."""
    if not isinstance(mode, str) or mode.lower() not in ("fan_in", "fan_out"):
        raise ConfigError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode.lower() == "fan_in" else fan_out


def _no_grad_uniform_(tensor: Tensor, a: float, b: float, generator: Generator | None = None) -> Tensor:
    return uniform_(tensor, a, b, generator)


def _no_grad_normal_(tensor: Tensor, mean: float, std: float, generator: Generator | None = None) -> Tensor:
    return normal_(tensor, mean, std, generator)


def _no_grad_trunc_normal_(tensor: Tensor, mean: float, std: float, a: float, b: float,
                           generator: Generator | None = None) -> Tensor:
    return trunc_normal_(tensor, mean, std, a, b, generator)


def _no_grad_fill_(tensor: Tensor, val: float) -> Tensor:
    return constant_(tensor, val)


def _no_grad_zero_(tensor: Tensor) -> Tensor:
    return zeros_(tensor)
