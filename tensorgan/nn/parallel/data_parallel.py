"""``torch.nn.parallel.data_parallel``: DataParallel and data_parallel (Synchronized-BatchNorm's
replicate.py imports DataParallel from here)."""
from . import DataParallel, data_parallel  # noqa: F401

__all__ = ["DataParallel", "data_parallel"]
