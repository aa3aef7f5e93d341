"""``torch.utils.data``'s names for tensorgan's data loading (see :mod:`tensorgan.data`).

``DataLoader`` here has torch's defaults -- ``batch_size=1``, ``shuffle=False``,
``drop_last=False`` -- since torch code imports it from this path (``DataLoader(test_set,
batch_size=10)`` over 8 items is one batch of 8, in order); ``tensorgan.data.DataLoader``, the
class it extends, keeps a GAN's (64, shuffled, every batch full)."""
from typing import Any

from ..data import DataLoader as _GanDataLoader
from ..data import (ArrayDataset, BatchSampler, ChainDataset, ConcatDataset, Dataset,
                    IterableDataset, RandomSampler, Sampler, SequentialSampler, StackDataset, Subset,
                    SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate,
                    default_convert, get_worker_info, random_split)

__all__ = ["ArrayDataset", "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset",
           "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
           "default_collate", "default_convert", "get_worker_info", "random_split"]


class DataLoader(_GanDataLoader):
    """``torch.utils.data.DataLoader``: :class:`tensorgan.data.DataLoader` with torch's defaults
    (``batch_size=1``, ``shuffle=False``, ``drop_last=False``)."""

    def __init__(self, dataset: Any, batch_size: Any = 1, shuffle: Any = None,
                 sampler: Any = None, batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Any = None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn: Any = None, multiprocessing_context: Any = None,
                 generator: Any = None, *, prefetch_factor: Any = None,
                 persistent_workers: bool = False, pin_memory_device: str = "", in_order: bool = True,
                 seed: Any = None) -> None:
        # torch's positional order (dataset, batch_size, shuffle, sampler, batch_sampler,
        # num_workers, collate_fn, pin_memory, drop_last, ...); shuffle=None is False as in torch.
        super().__init__(dataset, batch_size, bool(shuffle), drop_last, seed, generator,
                         sampler=sampler, batch_sampler=batch_sampler, collate_fn=collate_fn,
                         num_workers=num_workers, pin_memory=pin_memory, timeout=timeout,
                         worker_init_fn=worker_init_fn, prefetch_factor=prefetch_factor,
                         persistent_workers=persistent_workers)
