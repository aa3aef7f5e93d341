"""``torch.nn.parallel.distributed``: DistributedDataParallel."""
from . import DistributedDataParallel  # noqa: F401

__all__ = ["DistributedDataParallel"]
