"""``nn.DataParallel`` for torch code that wraps a model in it: tensorgan runs on one device, so
it runs the wrapped module as it is (its ``state_dict`` keys get torch's ``module.`` prefix)."""
from __future__ import annotations

from typing import Any

from .module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0):
        super().__init__()
        self.module = module

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


def data_parallel(module: Module, inputs: Any, device_ids: Any = None, output_device: Any = None,
                  dim: int = 0, module_kwargs: Any = None) -> Any:
    """``nn.parallel.data_parallel(module, inputs, device_ids)``: on tensorgan's one device this
    is ``module(*inputs, **module_kwargs)`` (``inputs`` a tensor or a tuple of them)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
