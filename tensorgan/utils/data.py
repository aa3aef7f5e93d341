"""``torch.utils.data``'s names for tensorgan's data loading (see :mod:`tensorgan.data`).

Its ``DataLoader`` is torch's: torch's argument order and defaults (``batch_size=1``,
``shuffle=False``, ``drop_last=False``) and every ``iter()`` a fresh pass over the data, so a
program written for ``torch.utils.data`` sees the batches torch would give it (peeking with
``next(iter(loader))`` or a ``break`` does not eat into the next pass). ``tensorgan.data.DataLoader``
keeps the GAN defaults (shuffled, last partial batch dropped) and resumes an abandoned pass."""
import sys
from typing import Any, Callable, Iterable, Iterator

from ..data import (ArrayDataset, BatchSampler, ChainDataset, ConcatDataset, Dataset,
                    IterableDataset, RandomSampler, Sampler, SequentialSampler, StackDataset, Subset,
                    SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate,
                    default_convert, get_worker_info, random_split)
from ..data import DataLoader as _GANDataLoader
from ..data import distributed
from ..data.distributed import DistributedSampler

# ``import tensorgan.utils.data.distributed`` (torch's path; this module is not a package).
sys.modules[__name__ + ".distributed"] = distributed

__all__ = ["ArrayDataset", "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "DistributedSampler",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset",
           "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
           "default_collate", "default_convert", "get_worker_info", "random_split"]


class DataLoader(_GANDataLoader):
    """torch.utils.data.DataLoader: torch's signature and defaults over tensorgan's loader.

    Each ``iter()`` starts a new pass (a new shuffle when ``shuffle=True``), as torch's does;
    only right after ``load_state_dict()`` does the next ``iter()`` continue the saved pass.
    ``seed=`` (keyword) seeds the shuffle, as in :class:`tensorgan.data.DataLoader`. An empty
    dataset, or ``drop_last`` with ``batch_size`` past its length, makes epochs of no batches
    (``len() == 0``), as torch's; shuffling an empty dataset is refused, as torch's is."""

    _empty_epochs_ok = True

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Iterable[Any] | None = None, batch_sampler: Iterable[Any] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[Any], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: Any = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True, seed: int | None = None) -> None:
        # multiprocessing_context / pin_memory_device / in_order: accepted for torch code (no
        # worker processes, no pinned memory: batches are gathered in this thread, in order).
        super().__init__(dataset, batch_size, bool(shuffle), drop_last, seed, generator,
                         sampler=sampler, batch_sampler=batch_sampler, collate_fn=collate_fn,
                         num_workers=num_workers, pin_memory=pin_memory, timeout=timeout,
                         worker_init_fn=worker_init_fn, prefetch_factor=prefetch_factor,
                         persistent_workers=persistent_workers)
        self._resume_next = False

    def __iter__(self) -> Iterator[Any]:
        if self._kind != "iterable" and self._position > 0 and not self._resume_next:
            self._next_epoch()          # a pass left early (break, next(iter(...))): start anew
        self._resume_next = False
        return super().__iter__()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._resume_next = True        # the next iter() continues the saved pass


# torch's one-module-per-topic import paths (``from torch.utils.data.dataloader import
# DataLoader``, ``torch.utils.data.sampler.Sampler``, ``from torch.utils.data.dataset import
# Dataset``, ``from torch.utils.data._utils.collate import default_collate``): alias modules
# holding this module's names (this module is not a package).
from ..alias_modules import install_alias_modules  # noqa: E402

install_alias_modules(__name__, "torch.utils.data", {
    "dataloader": ["DataLoader", "default_collate", "default_convert", "get_worker_info"],
    "dataset": ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset",
                "StackDataset", "Subset", "random_split"],
    "sampler": ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
                "WeightedRandomSampler", "BatchSampler"],
    "_utils": []})
install_alias_modules(__name__, "torch.utils.data._utils", {
    "_utils.collate": ["default_collate", "default_convert"]})
