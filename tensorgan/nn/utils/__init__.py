"""PyTorch's ``torch.nn.utils``: gradient clipping and spectral normalization.

Clipping, between ``backward()`` and ``optimizer.step()``, in place on the ``.grad`` arrays::

    loss.backward()
    tg.nn.utils.clip_grad_norm_(D.parameters(), max_norm=1.0)
    opt_d.step()

Spectral normalization (SN-GAN's discriminator): ``D = nn.Sequential(spectral_norm(nn.Conv2d(...)),
...)`` divides the layer's weight by its largest singular value before each forward.
"""
from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from ...errors import (ConfigError, ConfigTypeError, InputTypeError, NonFiniteError, NormDimError,
                       NormHookError, NormParameterError, ShapeError)
from ...backend import as_host_array
from ...factory import tensor
from ...random import default_generator
from ...tensor import Function, Tensor, no_grad

if TYPE_CHECKING:
    from ..module import Module

__all__ = ["parametrize", "prune", "parametrizations", "rnn", "stateless", "clip_grad_norm_", "clip_grad_norm",
           "get_total_norm", "clip_grads_with_norm_", "fuse_conv_bn_eval", "fuse_conv_bn_weights",
           "fuse_linear_bn_eval", "fuse_linear_bn_weights", "skip_init", "clip_grad_value_", "spectral_norm", "remove_spectral_norm",
           "weight_norm", "remove_weight_norm", "parameters_to_vector", "vector_to_parameters",
           "clip_grad", "convert_parameters", "fusion", "init", "memory_format",
           "convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _grads(owner: str, parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if callable(getattr(parameters, "parameters", None)):     # a Module (not iterable itself)
        raise InputTypeError(f"{owner} takes Tensors: pass model.parameters(), not the "
                             f"{type(parameters).__name__} itself")
    try:
        params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    except TypeError:
        raise InputTypeError(f"{owner} takes a Tensor or an iterable of Tensors (e.g. "
                             f"model.parameters()), got {type(parameters).__name__}") from None
    for p in params:
        if not isinstance(p, Tensor):
            raise InputTypeError(f"{owner} takes Tensors (e.g. model.parameters()), got {type(p).__name__}")
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale the gradients so that their joint ``norm_type``-norm (as if all were one vector) is at
    most ``max_norm``; return that norm before clipping, as a 0-d tensor.  The scale is
    ``max_norm / (norm + 1e-6)``, applied only where it is below 1 (PyTorch's rule):
    ``get_total_norm`` of the gradients, then ``clip_grads_with_norm_``.

    Non-finite norms (with ``error_if_nonfinite=False``, torch's "scale the gradients by the
    non-finite norm anyway"): an infinite norm scales every gradient by 0 (its infinite elements
    become NaN), a NaN norm by NaN (the scale clamped at 1 stays NaN), so every gradient becomes
    NaN -- as PyTorch, so that a port's numbers match; a step that already had a NaN gradient is
    spoiled either way.  Pass ``error_if_nonfinite=True`` to raise NonFiniteError instead.
    ``foreach`` is accepted (torch's fused-kernel switch; no effect here)."""
    grads = _grads("clip_grad_norm_", parameters)
    max_norm = _check_max_norm("clip_grad_norm_", max_norm)
    total = get_total_norm(grads, norm_type, error_if_nonfinite, _owner="clip_grad_norm_")
    _scale_grads(grads, max_norm, float(total))
    return total


def clip_grad_norm(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """torch's deprecated name of :func:`clip_grad_norm_` (with its FutureWarning)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def _as_float(owner: str, name: str, value: Any) -> float:
    """``float(value)``, as torch converts ``max_norm`` / ``norm_type`` (so NumPy scalars, 0-d
    tensors and strings such as ``'inf'`` are taken); bools and NaN are refused."""
    if isinstance(value, (bool, np.bool_)):
        raise ConfigTypeError(f"{owner}: {name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigTypeError(f"{owner}: {name} must be a number (or a string float() takes, "
                              f"such as 'inf'), got {value!r}") from None
    if math.isnan(number):
        raise ConfigError(f"{owner}: {name} must be a number, got {value!r}")
    return number


def _check_max_norm(owner: str, max_norm: Any) -> float:
    max_norm = _as_float(owner, "max_norm", max_norm)
    if max_norm < 0:
        raise ConfigError(f"{owner}: max_norm must be >= 0, got {max_norm} (a negative "
                          f"one would flip the gradients' sign)")
    return max_norm


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None,
                   *, _owner: str = "get_total_norm") -> Tensor:
    """The ``norm_type``-norm of the tensors taken together (the norm of their norms), a 0-d
    tensor of the first one's dtype (0.0 for none), not differentiable -- torch's, applied to
    gradients before ``clip_grads_with_norm_``.  ``norm_type`` goes through ``float()`` as in
    torch (``'inf'``, NumPy scalars, a 0-d tensor); 0 counts nonzeros and a negative order is
    ``vector_norm``'s (a zero element gives 0); with a negative order or inf an empty gradient
    is refused, as torch's (those reductions have no identity)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise InputTypeError(f"{_owner} takes Tensors, got {type(t).__name__}")
    norm_type = _as_float(_owner, "norm_type", norm_type)
    if not tensors:
        return tensor(0.0)
    g0 = tensors[0]
    xp = g0.device.xp
    if (norm_type < 0 or norm_type == math.inf) and any(g.array.size == 0 for g in tensors):
        raise ShapeError(f"{_owner}: the {norm_type:g} norm of an empty gradient is undefined "
                         f"(as torch's vector_norm: the max / a negative order has no identity)")
    if norm_type == math.inf:
        total = xp.stack([xp.abs(g.array).max() for g in tensors]).max()
    elif norm_type == -math.inf:        # the smallest |element|
        total = xp.stack([xp.abs(g.array).min() for g in tensors]).min()
    elif norm_type == 0:                # the number of nonzero elements, then of nonzero counts
        per_tensor = xp.stack([xp.count_nonzero(g.array) for g in tensors])
        total = xp.count_nonzero(per_tensor)
    elif norm_type < 0:                 # (sum |g| ** p) ** (1 / p): a zero element gives 0
        with np.errstate(divide="ignore"):
            per_tensor = xp.stack([(xp.abs(g.array) ** norm_type).sum() for g in tensors])
            total = per_tensor.sum() ** (1.0 / norm_type)
    else:   # the norm of the per-tensor norms, in the tensors' dtype (as PyTorch)
        # |g| ** p summed; p = 2 as g * g and p = 1 as |g| (the same numbers, one temporary
        # instead of two: the language models' embedding and decoder gradients are 6.7M each)
        power = (lambda a: a * a) if norm_type == 2.0 else xp.abs if norm_type == 1.0 else \
            (lambda a: xp.abs(a) ** norm_type)
        per_tensor = xp.stack([power(g.array).sum() for g in tensors])
        total = per_tensor.sum() ** (1.0 / norm_type)
    total = xp.asarray(total, dtype=g0.dtype)
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise NonFiniteError(f"{_owner}: the total {norm_type}-norm of the gradients is "
                             f"{float(total)}; pass error_if_nonfinite=False to clip anyway")
    return Tensor._make(total, g0.device)


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm: Tensor | float, foreach: bool | None = None) -> None:
    """Scale the gradients by ``max_norm / (total_norm + 1e-6)`` where that is below 1, in place
    (``total_norm`` from ``get_total_norm``; a NaN one makes them NaN, see ``clip_grad_norm_``)."""
    grads = _grads("clip_grads_with_norm_", parameters)
    max_norm = _check_max_norm("clip_grads_with_norm_", max_norm)
    _scale_grads(grads, max_norm, float(total_norm))


def _scale_grads(grads: list[Tensor], max_norm: float, total_value: float) -> None:
    coefficient = float(max_norm) / (total_value + 1e-6)
    # torch's clamp(coefficient, max=1): a NaN norm scales by NaN; an infinite one by 0, and
    # inf * 0 = NaN where a gradient is infinite
    if not coefficient >= 1.0:
        with np.errstate(invalid="ignore"):
            for g in grads:
                g.array *= g.array.dtype.type(coefficient)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clip every gradient element into ``[-clip_value, clip_value]``, in place.
    ``foreach`` is accepted (torch's fused-kernel switch; no effect here)."""
    grads = _grads("clip_grad_value_", parameters)
    clip_value = _as_float("clip_grad_value_", "clip_value", clip_value)
    if not clip_value >= 0:
        raise ConfigError(f"clip_grad_value_: clip_value must be a number >= 0, got {clip_value!r}")
    for g in grads:
        g.device.xp.clip(g.array, -clip_value, clip_value, out=g.array)


# ---------------------------------------------------------------------------------------------
# Spectral normalization (Miyato et al. 2018), torch.nn.utils.spectral_norm's algorithm
# ---------------------------------------------------------------------------------------------
def spectral_norm(module: "Module", name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> "Module":
    """Make ``module.<name>`` = ``<name>_orig / sigma``, sigma the largest singular value of
    ``<name>_orig`` seen as a matrix (``dim`` first: 1 for a ConvTranspose1d/2d/3d, else 0), before every
    forward. sigma is estimated as ``u . (W v)`` by power iteration on vectors kept as buffers
    (``<name>_u``, ``<name>_v``): ``n_power_iterations`` steps per forward in training, none in
    eval. The gradient flows through ``W`` in sigma, as in torch (u and v are constants)."""
    from ..layers import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
    if any(isinstance(h, _SpectralNorm) and h.name == name for h in module._forward_pre_hooks.values()):
        raise NormHookError(f"spectral_norm: {type(module).__name__}.{name} is already spectrally "
                          f"normalized (its parameter is {name}_orig)")
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor) or name not in module._parameters:
        raise NormParameterError(f"spectral_norm: {type(module).__name__} has no parameter {name!r}")
    if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, int) or n_power_iterations < 1:
        raise ConfigError(f"spectral_norm: n_power_iterations must be an int >= 1, got {n_power_iterations!r}")
    if dim is None:     # a transposed convolution's output channels are its weight's dim 1
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    if isinstance(dim, bool) or not isinstance(dim, int) or not -weight.ndim <= dim < weight.ndim:
        raise NormDimError(f"spectral_norm: dim {dim!r} is out of range for a weight of shape {weight.shape}")
    u, v = _random_unit_vectors(weight, dim % weight.ndim, eps)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    setattr(module, name, weight.detach())      # a plain attribute until the first forward
    module.register_forward_pre_hook(_SpectralNorm(name, n_power_iterations, dim % weight.ndim, eps))
    module.register_state_dict_post_hook(_SpectralNormVersion(name))
    module.register_load_state_dict_pre_hook(_SpectralNormUpgrade(name, dim % weight.ndim))
    return module


def remove_spectral_norm(module: "Module", name: str = "weight") -> "Module":
    """Undo ``spectral_norm``: ``module.<name>`` becomes a plain Parameter again, holding the
    normalized weight ``<name>_orig / sigma`` with the current u and v (no power iteration, as
    torch's) -- so the layer computes what it computed in eval mode; the hook, ``<name>_orig``,
    ``<name>_u`` and ``<name>_v`` are gone."""
    from ..module import Parameter
    found = [(key, hook) for key, hook in module._forward_pre_hooks.items()
             if isinstance(hook, _SpectralNorm) and hook.name == name]
    if not found:
        raise ConfigError(f"remove_spectral_norm: {type(module).__name__}.{name} is not spectrally "
                          f"normalized")
    key, hook = found[0]
    weight = getattr(module, name + "_orig")
    u, v = getattr(module, name + "_u").array, getattr(module, name + "_v").array
    sigma = float((u * (_as_matrix(weight.array, hook.dim) @ v)).sum())
    del module._forward_pre_hooks[key]
    for hooks in (module._state_dict_hooks, module._load_state_dict_pre_hooks):
        for hook_id in [i for i, h in hooks.items()
                        if isinstance(h, (_SpectralNormVersion, _SpectralNormUpgrade)) and h.name == name]:
            del hooks[hook_id]
    for attribute in (name + "_orig", name + "_u", name + "_v", name):
        delattr(module, attribute)
    module.register_parameter(name, Parameter(Tensor._make(weight.array / sigma, weight.device)))
    return module


class _SpectralNorm:
    """The forward pre-hook: power iteration on the weight's array, then weight = W / sigma."""

    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float) -> None:
        self.name, self.n, self.dim, self.eps = name, n_power_iterations, dim, eps

    def __call__(self, module: "Module", inputs: tuple) -> None:
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        if module.training:                     # v first, then u (the hook's order, torch's)
            _power_iterate(_as_matrix(weight.array, self.dim).T, v.array, u.array, self.n, self.eps)
        setattr(module, self.name, _spectral_divide(weight, self.dim, u, v))


class _SpectralNormVersion:
    """State-dict post-hook: torch's ``local_metadata["spectral_norm"] = {"<name>.version": 1}``
    (its layout: ``<name>_orig``, ``_u`` and ``_v``, without ``<name>``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, module: "Module", state_dict: Any, prefix: str, local_metadata: dict) -> None:
        local_metadata.setdefault("spectral_norm", {})[self.name + ".version"] = 1


class _SpectralNormUpgrade:
    """Load pre-hook: torch's upgrade of a state dict saved before the version-1 layout (no
    ``spectral_norm`` metadata; ``<name>``, ``<name>_orig`` and ``<name>_u``, a ``<name>_v`` or
    not): ``<name>`` is dropped and ``v`` solved from it so that ``u . (W v)`` is its sigma."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def __call__(self, module: "Module", state_dict: dict, prefix: str, local_metadata: dict,
                 *_: Any) -> None:
        version = local_metadata.get("spectral_norm", {}).get(self.name + ".version")
        key = prefix + self.name
        if (version is not None and version >= 1) or not all(
                key + suffix in state_dict for suffix in ("", "_orig", "_u")):
            return
        # (all three of <name> / _orig / _u are here: a state dict that also holds _v keeps its v
        # only without <name>, torch's "current layout missing its metadata"; with <name> it is
        # upgraded, its v solved again, as torch's)
        as_array = lambda v: v.numpy() if isinstance(v, Tensor) else as_host_array(v)  # noqa: E731
        weight_orig = as_array(state_dict[key + "_orig"])
        sigma = float((weight_orig / as_array(state_dict.pop(key))).mean())
        matrix = _as_matrix(weight_orig, self.dim)
        u = as_array(state_dict[key + "_u"])
        v = np.linalg.pinv(matrix.T @ matrix) @ matrix.T @ u
        state_dict[key + "_v"] = v * (sigma / float(u @ (matrix @ v)))


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened into one vector (differentiable), as torch."""
    from ...factory import cat
    flat = [p.reshape(-1) for p in parameters]
    if not flat:
        raise InputTypeError("parameters_to_vector: no parameters")
    return cat(flat)


def vector_to_parameters(vector: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vector`` into each parameter, in place (no gradient)."""
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if not isinstance(vector, Tensor) or vector.ndim != 1 or vector.numel() != total:
        raise InputTypeError(f"vector_to_parameters: need a 1-D tensor of {total} elements, got "
                             f"{getattr(vector, 'shape', type(vector).__name__)}")
    start = 0
    with no_grad():
        for p in params:
            p.copy_(vector[start:start + p.numel()].reshape(*p.shape))
            start += p.numel()


# ---------------------------------------------------------------------------------------------
# Weight normalization (Salimans & Kingma 2016), torch.nn.utils.weight_norm
# ---------------------------------------------------------------------------------------------
def weight_norm(module: "Module", name: str = "weight", dim: int | None = 0) -> "Module":
    """Make ``module.<name>`` = ``<name>_g * <name>_v / ||<name>_v||`` before every forward: the
    direction ``_v`` and the magnitude ``_g`` are learned separately.  The norm is over every dim
    but ``dim`` (``_g`` keeps that dim, size 1 elsewhere); ``dim=None``: one norm of the whole
    tensor (``_g`` a scalar).  At the start ``_v`` is the weight and ``_g`` its norm, so the
    layer computes what it did."""
    from ..module import Parameter
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    if any(isinstance(h, _WeightNorm) and h.name == name for h in module._forward_pre_hooks.values()):
        raise NormHookError(f"weight_norm: {type(module).__name__}.{name} is already weight-normalized "
                            f"(torch: cannot register two weight_norm hooks on the same parameter)")
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor) or name not in module._parameters:
        raise NormParameterError(f"weight_norm: {type(module).__name__} has no parameter {name!r}")
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int)
                            or not -weight.ndim <= dim < weight.ndim):
        raise NormDimError(f"weight_norm: dim {dim!r} is out of range for a weight of shape {weight.shape}")
    hook = _WeightNorm(name, None if dim in (None, -1) else dim % weight.ndim)   # -1: torch's whole norm
    g = hook.norm(weight.detach())
    delattr(module, name)
    module.register_parameter(name + "_g", Parameter(Tensor._make(g.array.copy(), weight.device)))
    module.register_parameter(name + "_v", Parameter(Tensor._make(weight.array.copy(), weight.device)))
    setattr(module, name, weight.detach())      # a plain attribute until the first forward
    module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module: "Module", name: str = "weight") -> "Module":
    """Undo ``weight_norm``: ``module.<name>`` is a plain Parameter again, holding g * v / ||v||."""
    from ..module import Parameter
    found = [(key, hook) for key, hook in module._forward_pre_hooks.items()
             if isinstance(hook, _WeightNorm) and hook.name == name]
    if not found:
        raise ConfigError(f"remove_weight_norm: {type(module).__name__}.{name} is not weight-normalized")
    key, hook = found[0]
    with no_grad():
        weight = hook.compute(module)
    del module._forward_pre_hooks[key]
    for attribute in (name + "_g", name + "_v", name):
        delattr(module, attribute)
    module.register_parameter(name, Parameter(Tensor._make(weight.array, weight.device)))
    return module


class _WeightNorm:
    """The forward pre-hook: weight = g * v / ||v||, differentiable in g and v."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name, self.dim = name, dim

    def norm(self, v: Tensor) -> Tensor:
        return _norm_except_dim(v, -1 if self.dim is None else self.dim)

    def compute(self, module: "Module") -> Tensor:
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return _weight_norm(g, v, -1 if self.dim is None else self.dim)

    def __call__(self, module: "Module", inputs: tuple) -> None:
        setattr(module, self.name, self.compute(module))


def _dim_first(ndim: int, dim: int) -> tuple:
    return (dim,) + tuple(d for d in range(ndim) if d != dim)


def _as_matrix(array, dim: int):
    """The weight as torch's spectral_norm sees it: ``dim`` first, the rest flattened."""
    return array.transpose(_dim_first(array.ndim, dim)).reshape(array.shape[dim], -1)


def _normalize(x, eps: float):
    return x / max(float((x * x).sum()) ** 0.5, eps)


def _random_unit_vectors(weight: Tensor, dim: int, eps: float) -> tuple[Tensor, Tensor]:
    """Spectral norm's starting u (``weight.shape[dim]`` long) and v (the rest, flattened):
    standard normal draws from tg's generator (tg.manual_seed makes them reproducible), scaled
    to unit length, as buffers of the weight's dtype and device."""
    rows = weight.shape[dim]
    cols = weight.numel() // rows if rows else 0
    rng, xp = default_generator.rng, weight.device.xp
    return tuple(Tensor._make(_normalize(xp.asarray(rng.standard_normal(n).astype(weight.dtype)), eps),
                              weight.device) for n in (rows, cols))


def _power_iterate(matrix, a, b, n: int, eps: float) -> None:
    """``n`` power-iteration steps, in place on the arrays a and b: ``a = M b / |M b|``, then
    ``b = M^T a / |M^T a|``.  Pass the matrix transposed (and v, u) for v-first order."""
    for _ in range(n):
        a[...] = _normalize(matrix @ b, eps)
        b[...] = _normalize(matrix.T @ a, eps)


def _spectral_divide(weight: Tensor, dim: int, u: Tensor, v: Tensor) -> Tensor:
    """``weight / _sigma(weight, dim, u, v)`` as one op (:class:`SpectralDivide`), with the same
    arrays computed by the same NumPy expressions -- bit-identical values and gradients (of
    one use; a weight used by several forwards sums its gradients in another grouping), five
    graph nodes (permute, reshape, matmul, mul, sum) and their backward fewer per layer."""
    u_now, v_now = Tensor._make(u.array.copy(), u.device), Tensor._make(v.array.copy(), v.device)
    return SpectralDivide.apply(weight, u_now, v_now, dim)


class SpectralDivide(Function):
    """``W / sigma``, ``sigma = u . (W_mat v)`` (W_mat: ``dim`` first, the rest flattened; u, v
    constants): spectral norm's weight.  The gradient is Div's for W plus Div's for sigma
    carried back through the sum, product, matrix-vector product, reshape and permute, in the
    composite's order of operations."""

    def forward(self, w, u, v, dim):
        matrix = _as_matrix(w, dim)
        with self.device.blas_scope():
            sigma = (u * (matrix @ v)).sum()
        self.w, self.u, self.v, self.sigma, self.dim = w, u, v, sigma, dim
        return w / sigma

    def backward(self, g):
        from ...ops import unbroadcast
        w, sigma, dim = self.w, self.sigma, self.dim
        g_over = g / sigma
        gs = unbroadcast(-g_over * (w / sigma), ())                    # Div's, for sigma
        g_mv = self.xp.broadcast_to(gs, self.u.shape) * self.u          # Sum's, then Mul's
        with self.device.blas_scope():                                  # MatMul's, for W_mat
            g_m = g_mv[..., None] @ self.v[:, None].swapaxes(-1, -2)
        order = _dim_first(w.ndim, dim)
        back = tuple(int(d) for d in np.argsort(order))
        g_w = g_m.reshape(tuple(w.shape[d] for d in order)).transpose(back)
        return g_over + g_w, None, None, None

    def grad_graph(self, g):
        w, u, v, dim = self.inputs
        matrix = w.permute(_dim_first(w.ndim, dim)).reshape(w.shape[dim], -1)
        y = w / (u * (matrix @ v)).sum()
        from ...functional import _composite_grads
        return _composite_grads(y, g, (w,)) + (None, None, None)


def _sigma(weight: Tensor, dim: int, u: Tensor, v: Tensor) -> Tensor:
    """``u . (W v)``, the largest singular value's estimate, differentiable in the weight only.
    u and v are copied: a later training forward updates the buffers in place, and this graph
    must keep the u, v it used (D(real) and D(fake) before one backward), as torch's clone()."""
    matrix = weight.permute(_dim_first(weight.ndim, dim)).reshape(weight.shape[dim], -1)
    u_now, v_now = Tensor._make(u.array.copy(), u.device), Tensor._make(v.array.copy(), v.device)
    return (u_now * (matrix @ v_now)).sum()


class WeightNorm(Function):
    """``v * (g / ||v||)`` (the norm over every dim but ``dim``; ``dim=-1``: the whole tensor) as
    one node: torch's fused ``_weight_norm``.  The composite's forward expressions (so the same
    values); the backward reads the weight-sized arrays about 5 times instead of the composite's
    ~12 (mul / sum / sqrt / div / mul nodes and their gradient sums): ``s = sum(gw * v)``,
    ``gg = s / n``, ``gv = (g / n) gw - v (g s / n^3)`` -- a MelGAN / HiFi-GAN discriminator
    re-normalizes every weight each forward."""

    def forward(self, g, v, dim):
        axes = None if dim == -1 else tuple(d for d in range(v.ndim) if d != dim)
        xp = self.xp
        n = xp.sqrt((v * v).sum(axis=axes, keepdims=axes is not None))
        scale = g / n
        self.g, self.v, self.n, self.scale, self.axes = g, v, n, scale, axes
        return v * scale

    def backward(self, gw):
        from ...ops import unbroadcast
        g, v, n, scale, axes = self.g, self.v, self.n, self.scale, self.axes
        need = self.needs_input_grad
        s = (gw * v).sum(axis=axes, keepdims=axes is not None)
        gg = unbroadcast(s / n, g.shape) if need[0] else None
        gv = None
        if need[1]:
            gv = gw * scale
            gv -= v * (scale * s / (n * n))
        return gg, gv, None

    def grad_graph(self, gw):
        g, v, dim = self.inputs
        y = v * (g / _norm_except_dim(v, dim))
        from ...functional import _composite_grads
        return _composite_grads(y, gw, (g, v)) + (None,)


def _weight_norm(g: Tensor, v: Tensor, dim: int) -> Tensor:
    """weight_norm's ``v * (g / norm_except_dim(v, dim))``: one :class:`WeightNorm` node for
    float32 / float64 tensors of one dtype whose norm has g's shape; the composite otherwise."""
    if (isinstance(g, Tensor) and isinstance(v, Tensor) and g.dtype == v.dtype
            and v.dtype.kind == "f" and v.dtype.itemsize >= 4 and v.ndim and g.device is v.device
            and g.shape == (() if dim == -1 else tuple(v.shape[d] if d == dim % v.ndim else 1
                                                       for d in range(v.ndim)))):
        return WeightNorm.apply(g, v, -1 if dim == -1 else dim % v.ndim)
    return v * (g / _norm_except_dim(v, dim))


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """torch's ``norm_except_dim(v, 2, dim)``: the 2-norm over every dim but ``dim``, keeping
    that dim (size 1 elsewhere); ``dim=-1`` is torch's code for one norm of the whole tensor (a
    0-d result), not the last dim -- torch's weight_norm relies on it for ``dim=None``."""
    if dim == -1:
        return v.norm()
    others = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return v.norm(2, dim=others, keepdim=True) if others else v.abs()


from . import parametrizations, parametrize, rnn, stateless  # noqa: E402  (they use the helpers above)


# ---------------------------------------------------------------------------------------------
# Fusing a BatchNorm in eval mode into the conv / linear layer before it (torch.nn.utils.fusion)
# ---------------------------------------------------------------------------------------------
def fuse_conv_bn_eval(conv: "Module", bn: "Module", transpose: bool = False) -> "Module":
    """A copy of ``conv`` computing ``bn(conv(x))`` of the two in eval mode, as one conv
    (``transpose=True`` for a ConvTranspose, whose weight has the output channels second)."""
    if conv.training or bn.training:
        raise ConfigError("fuse_conv_bn_eval: Fusion only for eval! (call .eval() on both)")
    return _fused_copy(conv, fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean,
                                                  bn.running_var, bn.eps, bn.weight, bn.bias,
                                                  transpose))


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor,
                         bn_eps: float, bn_w: Tensor | None, bn_b: Tensor | None,
                         transpose: bool = False) -> tuple:
    """The (weight, bias) Parameters of the conv equal to conv then batch norm (running
    statistics): ``w * gamma / sqrt(var + eps)`` per output channel, and the bias shifted."""
    scale = _bn_scale(bn_rm, bn_rv, bn_eps, bn_w, "fuse_conv_bn_weights")
    shape = [1, -1] + [1] * (conv_w.ndim - 2) if transpose else [-1] + [1] * (conv_w.ndim - 1)
    return _fused(conv_w * scale.reshape(*shape), conv_b, bn_rm, bn_b, scale, conv_w)


def fuse_linear_bn_eval(linear: "Module", bn: "Module") -> "Module":
    """A copy of ``linear`` computing ``bn(linear(x))`` of the two in eval mode, as one linear."""
    if linear.training or bn.training:
        raise ConfigError("fuse_linear_bn_eval: Fusion only for eval! (call .eval() on both)")
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise ConfigError(f"fuse_linear_bn_eval: To fuse, linear.out_features ({linear.out_features}) "
                          f"must equal bn.num_features ({bn.num_features}) or bn.num_features must be 1")
    return _fused_copy(linear, fuse_linear_bn_weights(linear.weight, linear.bias, bn.running_mean,
                                                      bn.running_var, bn.eps, bn.weight, bn.bias))


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor,
                           bn_eps: float, bn_w: Tensor | None, bn_b: Tensor | None) -> tuple:
    """The (weight, bias) Parameters of the linear layer equal to linear then batch norm."""
    scale = _bn_scale(bn_rm, bn_rv, bn_eps, bn_w, "fuse_linear_bn_weights")
    return _fused(linear_w * scale.unsqueeze(-1), linear_b, bn_rm, bn_b, scale, linear_w)


def _bn_scale(bn_rm: Tensor, bn_rv: Tensor, bn_eps: float, bn_w: Tensor | None, owner: str) -> Tensor:
    if bn_rm is None or bn_rv is None:
        raise ConfigError(f"{owner}: the batch norm has no running statistics "
                          f"(track_running_stats=False), so there is nothing fixed to fuse")
    with no_grad():
        scale = (bn_rv + bn_eps).rsqrt()
        return scale if bn_w is None else bn_w * scale


def _fused(weight: Tensor, bias: Tensor | None, bn_rm: Tensor, bn_b: Tensor | None, scale: Tensor,
           like: Tensor) -> tuple:
    from ..module import Parameter
    with no_grad():
        bias = (bn_rm * 0 if bias is None else bias) - bn_rm
        bias = bias * scale + (0 if bn_b is None else bn_b)
        return (Parameter(weight.detach().to(like.dtype), requires_grad=like.requires_grad),
                Parameter(bias.detach().to(like.dtype), requires_grad=like.requires_grad))


def _fused_copy(layer: "Module", weights: tuple) -> "Module":
    import copy
    fused = copy.deepcopy(layer)
    fused.weight, fused.bias = weights
    return fused


def skip_init(module_cls: type, *args: Any, **kwargs: Any) -> "Module":
    """torch's ``skip_init``: the module with its parameters left uninitialized (empty arrays of
    their shapes; fill them yourself).  tensorgan builds it normally and then empties them, so the
    init cost is not saved -- only the values differ (torch's are whatever memory held)."""
    import inspect
    from ..module import Module
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise InputTypeError(f"skip_init: expected a Module class, got {module_cls!r}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise ConfigError("skip_init: Module must support a 'device' arg to skip initialization")
    module = module_cls(*args, **kwargs)
    for p in module.parameters():
        p.array = p.device.xp.empty_like(p.array)
    return module


# torch.nn.utils's submodule paths (``from torch.nn.utils.fusion import fuse_conv_bn_eval``);
# they re-export the functions above, so they come last.
from . import clip_grad, convert_parameters, fusion, init, memory_format, prune  # noqa: E402
from .memory_format import convert_conv2d_weight_memory_format, convert_conv3d_weight_memory_format  # noqa: E402

# torch.nn.utils.spectral_norm / weight_norm are also module paths (SN-GAN code writes
# ``from torch.nn.utils.spectral_norm import spectral_norm``). Loading such a submodule binds its
# name on this package to the module, over the function of that name, so the functions are bound
# again after loading them (torch's __init__ does the same by importing the functions last).
import importlib as _importlib  # noqa: E402

for _name, _function in (("spectral_norm", spectral_norm), ("weight_norm", weight_norm)):
    _importlib.import_module(f"{__name__}.{_name}")
    globals()[_name] = _function
del _importlib, _name, _function
