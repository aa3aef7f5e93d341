"""``torch.utils.data.distributed.DistributedSampler``: the slice of a dataset's indices that one
of ``num_replicas`` processes reads (torch's arithmetic: padded by wrapping around to a
multiple of ``num_replicas``, or trimmed with ``drop_last``; then every ``num_replicas``-th index
from ``rank``).  The shuffle is a permutation seeded by ``seed + epoch`` (``set_epoch``), the same
in every replica, drawn from NumPy's generator: the same partition rules as torch's, not its
random order."""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from ..errors import ConfigError
from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


class DistributedSampler(Sampler):
    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:     # torch asks the process group
            from .. import distributed as dist
            if not dist.is_initialized():
                raise ConfigError("DistributedSampler: num_replicas / rank not given and the default "
                                 "process group has not been initialized (call "
                                 "tg.distributed.init_process_group, or pass both)")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if not _is_int(num_replicas) or num_replicas < 1:
            raise ConfigError(f"DistributedSampler: num_replicas must be an int >= 1, got {num_replicas!r}")
        if not _is_int(rank) or rank >= num_replicas or rank < 0:
            raise ConfigError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch that seeds the next shuffle (call it before each epoch, as with torch)."""
        self.epoch = epoch
