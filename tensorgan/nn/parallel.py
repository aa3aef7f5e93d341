"""``nn.DataParallel`` for torch code that wraps a model in it: tensorgan runs on one device, so
it runs the wrapped module as it is (its ``state_dict`` keys get torch's ``module.`` prefix)."""
from __future__ import annotations

from typing import Any

from .module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0):
        super().__init__()
        self.module = module

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)
