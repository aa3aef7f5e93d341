"""``nn.DataParallel`` for torch code that wraps a model in it: tensorgan runs on one device, so
it runs the wrapped module as it is (its ``state_dict`` keys get torch's ``module.`` prefix).

torch's module paths are here too (``torch.nn.parallel.data_parallel``, ``.distributed``,
``._functions``), with ``replicate`` / ``scatter`` / ``parallel_apply`` / ``gather`` for one
device: code written for several GPUs (Synchronized-BatchNorm's DataParallelWithCallback, which
overrides ``replicate``) imports and runs."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from ..module import Module

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel", "replicate", "scatter",
           "parallel_apply", "gather"]


class DataParallel(Module):
    """torch's DataParallel on one device: ``forward`` runs the module as it is (torch's own
    one-device path; it never replicates then).  ``replicate`` / ``scatter`` / ``parallel_apply``
    / ``gather`` are there for subclasses that override or call them (Synchronized-BatchNorm's
    DataParallelWithCallback, its patch_replication_callback)."""

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0):
        super().__init__()
        self.module = module
        self.device_ids = [] if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)

    def replicate(self, module: Module, device_ids: Any) -> list:
        return replicate(module, device_ids)

    def scatter(self, inputs: Any, kwargs: Any, device_ids: Any) -> tuple:
        return scatter(inputs, device_ids, self.dim), scatter(kwargs or {}, device_ids, self.dim)

    def parallel_apply(self, replicas: list, inputs: Any, kwargs: Any) -> list:
        return parallel_apply(replicas, inputs, kwargs)

    def gather(self, outputs: list, output_device: Any) -> Any:
        return gather(outputs, output_device, self.dim)


def replicate(network: Module, devices: Any, detach: bool = False) -> list:
    """One replica -- the network itself -- on tensorgan's one device (torch copies it to each
    GPU in ``devices``)."""
    return [network]


def scatter(inputs: Any, target_gpus: Any, dim: int = 0) -> tuple:
    """One chunk per device; with one device, ``inputs`` whole (a tuple of one; a dict gives a
    tuple of one dict, as torch's scatter of kwargs)."""
    return (inputs,)


def parallel_apply(modules: Any, inputs: Any, kwargs_tup: Any = None, devices: Any = None) -> list:
    """``modules[i](*inputs[i], **kwargs_tup[i])`` for each replica, in order."""
    kwargs_tup = kwargs_tup if kwargs_tup is not None else ({},) * len(modules)
    return [m(*(inp if isinstance(inp, (list, tuple)) else (inp,)), **(kw or {}))
            for m, inp, kw in zip(modules, inputs, kwargs_tup)]


def gather(outputs: list, target_device: Any, dim: int = 0) -> Any:
    """The replicas' outputs joined along ``dim``: with one replica, its output."""
    return outputs[0]


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
        from ... import distributed as dist
        from ...errors import ConfigError
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


from . import _functions, distributed  # noqa: E402,F401  (torch's submodule paths)
# importing the submodule binds the package's ``data_parallel`` to it; torch's package then binds
# the function of that name again, as this does
from .data_parallel import data_parallel  # noqa: E402,F401,F811
