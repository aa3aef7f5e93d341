"""``torch.cuda.amp``: torch's deprecated spellings of :mod:`tensorgan.amp` for CUDA --
``GradScaler(...)`` is ``tg.amp.GradScaler('cuda', ...)`` and ``autocast(...)`` is
``tg.autocast('cuda', ...)``, each with torch's FutureWarning.  As torch, without CUDA both
switch themselves off with a warning (the scaler is then a pass-through)."""
from __future__ import annotations

import warnings
from typing import Any, Callable

from .. import amp as _amp

__all__ = ["GradScaler", "autocast", "custom_fwd", "custom_bwd"]


class GradScaler(_amp.GradScaler):
    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        warnings.warn("`tg.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`tg.amp.GradScaler('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)


class autocast(_amp.autocast):
    def __init__(self, enabled: bool = True, dtype: Any = None, cache_enabled: bool = True) -> None:
        warnings.warn("`tg.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`tg.amp.autocast('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        from ..tensor import float16
        super().__init__("cuda", dtype=float16 if dtype is None else dtype, enabled=enabled,
                         cache_enabled=cache_enabled)


def custom_fwd(fwd: Callable | None = None, *, cast_inputs: Any = None) -> Callable:
    warnings.warn("`tg.cuda.amp.custom_fwd(args...)` is deprecated. Please use "
                  "`tg.amp.custom_fwd(args..., device_type='cuda')` instead.", FutureWarning,
                  stacklevel=2)
    return _amp.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd: Callable | None = None) -> Callable:
    warnings.warn("`tg.cuda.amp.custom_bwd(args...)` is deprecated. Please use "
                  "`tg.amp.custom_bwd(args..., device_type='cuda')` instead.", FutureWarning,
                  stacklevel=2)
    return _amp.custom_bwd(bwd, device_type="cuda")
