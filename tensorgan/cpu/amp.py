"""``torch.cpu.amp``: torch's deprecated spellings of :mod:`tensorgan.amp` for the CPU --
``GradScaler(...)`` is ``tg.amp.GradScaler('cpu', ...)`` and ``autocast(...)`` is
``tg.autocast('cpu', ...)`` (bfloat16 by default; tensorgan computes the region in float32),
each with torch's FutureWarning."""
from __future__ import annotations

import warnings
from typing import Any

from .. import amp as _amp

__all__ = ["GradScaler", "autocast"]


class GradScaler(_amp.GradScaler):
    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        warnings.warn("`tg.cpu.amp.GradScaler(args...)` is deprecated. Please use "
                      "`tg.amp.GradScaler('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)


class autocast(_amp.autocast):
    def __init__(self, enabled: bool = True, dtype: Any = None, cache_enabled: bool = True) -> None:
        warnings.warn("`tg.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`tg.amp.autocast('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        from ..tensor import bfloat16
        super().__init__("cpu", dtype=bfloat16 if dtype is None else dtype, enabled=enabled,
                         cache_enabled=cache_enabled)
