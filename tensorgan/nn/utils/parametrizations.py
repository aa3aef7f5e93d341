"""torch's ``torch.nn.utils.parametrizations``: spectral and weight normalization as
parametrizations (:mod:`.parametrize`), torch's current form and state-dict keys.

``spectral_norm(layer)``: ``layer.weight`` is ``original / sigma``, sigma estimated by power
iteration on the ``_u`` / ``_v`` buffers of ``layer.parametrizations.weight[0]`` (keys
``parametrizations.weight.original``, ``parametrizations.weight.0._u``, ``..._v``).
``weight_norm(layer)``: ``layer.weight`` is ``g * v / ||v||`` (keys
``parametrizations.weight.original0`` = g, ``original1`` = v).  The math is the hook-style
``tg.nn.utils.spectral_norm`` / ``weight_norm``'s (shared helpers); only the order of the
power-iteration steps differs, as between torch's two versions (u first here, v first there).
"""
from __future__ import annotations

from typing import Any, Callable

from ...errors import ConfigError, NormParameterError
from ...functional import normalize
from ...tensor import Tensor
from ..module import Module
from . import _as_matrix, _norm_except_dim, _power_iterate, _weight_norm, _random_unit_vectors, _spectral_divide
from .parametrize import register_parametrization

__all__ = ["spectral_norm", "weight_norm"]


class _SpectralNorm(Module):
    """``W / sigma(W)``; in training each call first runs ``n_power_iterations`` steps on the
    ``_u`` / ``_v`` buffers (15 at construction, as torch).  A 1-D weight is just normalized."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, int) \
                or n_power_iterations < 1:
            raise ConfigError(f"spectral_norm: n_power_iterations must be an int >= 1, got "
                              f"{n_power_iterations!r}")
        self.dim = weight._dim(dim, "spectral_norm")   # ShapeError naming the shape
        self.eps = eps
        if weight.ndim > 1:
            self.n_power_iterations = n_power_iterations
            u, v = _random_unit_vectors(weight, self.dim, eps)
            self.register_buffer("_u", u)
            self.register_buffer("_v", v)
            self._power_method(weight, 15)

    def _power_method(self, weight: Tensor, n: int) -> None:
        """u first, then v (torch's parametrization's order), in place on the buffers."""
        _power_iterate(_as_matrix(weight.array, self.dim), self._u.array, self._v.array, n, self.eps)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        if self.training:
            self._power_method(weight, self.n_power_iterations)
        return _spectral_divide(weight, self.dim, self._u, self._v)

    def right_inverse(self, value: Tensor) -> Tensor:
        """Assigning a weight stores it as is (torch's: no inverse of the scaling)."""
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Spectrally normalize ``module.<name>`` as a parametrization (torch 2.x's form): ``dim``
    defaults to 1 for transposed convolutions (their output channels), else 0."""
    from ..layers import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise NormParameterError(f"spectral_norm: {type(module).__name__} has no parameter or buffer {name!r}")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    return register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))


class _WeightNorm(Module):
    """``(g, v) -> g * v / ||v||``, the norm over every dim but ``dim`` (``dim=-1`` or None: the
    whole tensor, torch's convention); ``right_inverse(W) = (||W||, W)``."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_g, weight_v, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight-normalize ``module.<name>`` as a parametrization (torch 2.x's form): the
    magnitude ``original0`` (g) and direction ``original1`` (v) are trained separately.  A state
    dict of the hook form (``weight_g`` / ``weight_v`` keys, ``tg.nn.utils.weight_norm``) loads
    too: a load-state-dict pre-hook renames them, as torch's ``_weight_norm_compat_hook``."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise NormParameterError(f"weight_norm: {type(module).__name__} has no parameter or buffer {name!r}")
    if dim is not None and dim != -1:
        weight._dim(dim, "weight_norm")
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    module.register_load_state_dict_pre_hook(_weight_norm_compat_hook(name))
    return module


def _weight_norm_compat_hook(name: str) -> Callable[..., None]:
    """A load-state-dict pre-hook: ``<prefix><name>_g`` / ``_v`` (the hook form's keys) become
    ``<prefix>parametrizations.<name>.original0`` / ``original1``."""
    def hook(module: Module, state_dict: dict, prefix: str, *_: Any) -> None:
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)
    return hook
