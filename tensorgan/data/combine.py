"""torch.utils.data's dataset combinators: Subset, ConcatDataset, StackDataset, the iterable
datasets (IterableDataset, ChainDataset) and random_split."""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any


from ..errors import ConfigError, ConfigTypeError, DatasetArgumentError, IndexOutOfRangeError, InputTypeError
from ..random import default_generator, numpy_rng
from .dataset import Dataset

__all__ = ["Subset", "ConcatDataset", "StackDataset", "IterableDataset", "ChainDataset",
           "random_split"]


def _checked_index(index: Any, n: int, owner: str) -> Any:
    """An integer index in [-n, n) made non-negative; other keys (lists, slices) pass as they are."""
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        return index
    if not -n <= index < n:
        raise IndexOutOfRangeError(f"{owner}: index {index} is out of range for its {n} items")
    return int(index) % n if n else int(index)


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``: ``Subset(d, idx)[i]`` is ``d[idx[i]]``."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[_checked_index(i, len(self), "Subset")] for i in idx]]
        return self.dataset[self.indices[_checked_index(idx, len(self), "Subset")]]

    def __getitems__(self, indices: list[int]) -> list:
        """A batch of items (the DataLoader's fetch), through the dataset's own if it has one."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[_checked_index(i, len(self), "Subset")]
                                              for i in indices])
        return [self[i] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


class IterableDataset(Dataset):
    """Base class of a dataset read by iterating it (``__iter__``), not by index: the DataLoader
    takes its items in the order it yields them (no sampler, no shuffle)."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other: "IterableDataset") -> "ChainDataset":
        return ChainDataset([self, other])


class ConcatDataset(Dataset):
    """Several map datasets one after another: index i of the whole picks the dataset by the
    running sizes (``cumulative_sizes``); negative indices count from the end."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise DatasetArgumentError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise InputTypeError(f"ConcatDataset does not support IterableDataset "
                                     f"({type(d).__name__}); chain those with ChainDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    @staticmethod
    def cumsum(sequence: Iterable[Any]) -> list[int]:
        return list(itertools.accumulate(len(d) for d in sequence))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if isinstance(idx, bool) or not isinstance(idx, numbers.Integral):
            raise InputTypeError(f"ConcatDataset: an index must be an integer, got "
                                 f"{type(idx).__name__}")
        idx = _checked_index(idx, len(self), "ConcatDataset")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Iterable datasets one after another (lazily: each is iterated when reached)."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            yield from _iterable(d)

    def __len__(self) -> int:
        return sum(len(_iterable(d)) for d in self.datasets)


def _iterable(d: Any) -> Any:
    if not isinstance(d, IterableDataset):
        raise DatasetArgumentError(f"ChainDataset only supports IterableDataset, got {type(d).__name__}")
    return d


class StackDataset(Dataset):
    """Datasets of one length side by side: item i is ``(d[i] for d in args)`` as a tuple, or
    ``{key: d[i]}`` as a dict when they are given by keyword."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ConfigError("StackDataset: supported either tuple- (via args) or dict- (via "
                              "kwargs) like input/output, but both types are given")
        if not args and not kwargs:
            raise ConfigError("StackDataset: at least one dataset should be passed")
        self.datasets: tuple | dict = args or kwargs
        lengths = [len(d) for d in (args or kwargs.values())]
        if len(set(lengths)) != 1:
            raise ConfigError(f"StackDataset: size mismatch between datasets (lengths {lengths})")
        self._length = lengths[0]

    def __getitem__(self, index: Any) -> Any:
        if isinstance(self.datasets, dict):
            return {key: d[index] for key, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


def random_split(dataset: Any, lengths: Sequence[int | float],
                 generator: Any = default_generator) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths, or of the given
    fractions of ``len(dataset)`` (floored, then the remainder handed out one by one from the
    first split on, as torch)."""
    n = len(dataset)
    lengths = _split_lengths(list(lengths), n)
    rng = numpy_rng(generator, "random_split", fresh=True)
    indices = rng.permutation(n).tolist()
    return [Subset(dataset, indices[end - length:end])
            for end, length in zip(itertools.accumulate(lengths), lengths)]


def _split_lengths(lengths: list, n: int) -> list[int]:
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ConfigError(f"random_split: fraction at index {i} ({frac}) is not between "
                                  f"0 and 1")
        sizes = [math.floor(n * frac) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              f"empty dataset.", stacklevel=3)
        return sizes
    if sum(lengths) != n:
        raise ConfigError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal "
                          f"the length of the input dataset ({n})")
    if any(isinstance(x, bool) or not isinstance(x, numbers.Integral) for x in lengths):
        raise ConfigTypeError(f"random_split: lengths must be integers >= 0 or fractions "
                              f"summing to 1, got {lengths}")   # torch: a TypeError (randperm's)
    if any(x < 0 for x in lengths):
        raise ConfigError(f"random_split: lengths must be integers >= 0 or fractions summing to "
                          f"1, got {lengths}")
    return [int(x) for x in lengths]
