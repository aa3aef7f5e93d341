"""``nn.DataParallel`` for torch code that wraps a model in it: tensorgan runs on one device, so
it runs the wrapped module as it is (its ``state_dict`` keys get torch's ``module.`` prefix)."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from .module import Module

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]


class DataParallel(Module):
    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0):
        super().__init__()
        self.module = module

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


class DistributedDataParallel(DataParallel):
    """torch's DDP over tensorgan's one-process group (``tg.distributed``): it needs
    ``init_process_group`` first, as torch's does, and then runs the wrapped module as it is --
    with one process there is nothing to average (``state_dict`` keys get the ``module.``
    prefix, as torch's)."""

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, process_group: Any = None,
                 bucket_cap_mb: Any = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, **kwargs: Any) -> None:
        from .. import distributed as dist
        from ..errors import ConfigError
        if not dist.is_initialized():     # a ValueError, as torch's
            raise ConfigError("DistributedDataParallel: Default process group has not been "
                             "initialized, please make sure to call init_process_group.")
        super().__init__(module, device_ids, output_device, dim)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """torch skips the gradient all-reduce inside; with one process there is none."""
        yield


def data_parallel(module: Module, inputs: Any, device_ids: Any = None, output_device: Any = None,
                  dim: int = 0, module_kwargs: Any = None) -> Any:
    """``nn.parallel.data_parallel(module, inputs, device_ids)``: on tensorgan's one device this
    is ``module(*inputs, **module_kwargs)`` (``inputs`` a tensor or a tuple of them)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
