"""torch.utils.data's samplers: which dataset indices an epoch visits, and in what order.

The random ones draw from a NumPy stream: a ``tg.Generator``'s (or a ``numpy.random.Generator``
given directly), or -- with ``generator=None`` -- a fresh stream per epoch seeded from tensorgan's
default generator, as torch's samplers draw a seed from torch's default generator each epoch (so
``tg.manual_seed`` fixes them). The streams are NumPy's, not torch's: the same seed gives other
(equally distributed) orders than torch.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator, Sized
from typing import Any

import numpy as np

from ..errors import ConfigError, EmptySamplerSourceError, InputTypeError, SamplingWeightsError
from ..random import numpy_rng

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]


def _positive_int(value: Any, name: str) -> int:
    """torch's check on num_samples / batch_size: a Python int (not a bool) >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ConfigError(f"{name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


def _boolean(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{name} should be a boolean value, but got {name}={value!r}")
    return bool(value)


class Sampler:
    """Base class (``torch.utils.data.Sampler``): subclasses define ``__iter__`` over indices
    and, usually, ``__len__``."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass    # torch 2.x ignores data_source here (subclasses keep their own)

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class _ArraySampler(Sampler):
    """A sampler whose epoch is one int64 array (``_order()``); the DataLoader takes the array
    directly instead of iterating index by index."""

    def _order(self) -> np.ndarray:
        raise NotImplementedError

    def __iter__(self) -> Iterator[int]:
        return iter(self._order().tolist())


class SequentialSampler(_ArraySampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _order(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_ArraySampler):
    """Random indices of ``data_source``: without replacement, each index once per
    ``len(data_source)`` samples (``num_samples`` larger than the dataset: whole permutations, then
    the start of one more, as torch); with replacement, ``num_samples`` uniform draws."""

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: Any = None) -> None:
        if not isinstance(replacement, (bool, np.bool_)):      # torch: a TypeError
            raise InputTypeError(f"replacement should be a boolean value, but got "
                                 f"replacement={replacement!r}")
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = num_samples
        self.generator = generator
        numpy_rng(generator, "RandomSampler")                  # a wrong kind fails here
        _positive_int(self.num_samples, "num_samples")

    @property
    def num_samples(self) -> int:
        """``len(data_source)`` unless given (read each time: the dataset may grow, as torch)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _stream(self) -> np.random.Generator:
        return numpy_rng(self.generator, "RandomSampler", fresh=True)

    def _order(self) -> np.ndarray:
        n, count, rng = len(self.data_source), self.num_samples, self._stream()
        if n == 0:
            raise EmptySamplerSourceError(f"RandomSampler: its data_source is empty, there is no "
                                          f"index to draw num_samples={count} from")
        if self.replacement:
            return rng.integers(0, n, size=count, dtype=np.int64)
        whole, rest = divmod(count, n)
        parts = [rng.permutation(n) for _ in range(whole)]
        if rest:
            parts.append(rng.permutation(n)[:rest])
        return np.concatenate(parts).astype(np.int64, copy=False)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(_ArraySampler):
    """The given indices, in a random order (a fresh one each epoch)."""

    def __init__(self, indices: Iterable[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = generator
        numpy_rng(generator, "SubsetRandomSampler")

    def _order(self) -> np.ndarray:
        indices = np.asarray(self.indices)
        if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
            raise InputTypeError(f"SubsetRandomSampler: indices must be a 1-d sequence of "
                                 f"integers, got {indices.dtype} of shape {indices.shape}")
        rng = numpy_rng(self.generator, "SubsetRandomSampler", fresh=True)
        return indices[rng.permutation(len(indices))].astype(np.int64, copy=False)

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(_ArraySampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (which need
    not sum to 1), with or without replacement (``torch.multinomial``'s sampling)."""

    def __init__(self, weights: Any, num_samples: int, replacement: bool = True,
                 generator: Any = None) -> None:
        self.num_samples = _positive_int(num_samples, "num_samples")
        self.replacement = _boolean(replacement, "replacement")
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 1:
            raise ConfigError(f"weights should be a 1d sequence but given weights have shape "
                              f"{weights.shape}")
        _check_weights(weights, self.num_samples, self.replacement)
        self.weights = weights
        self.generator = generator
        numpy_rng(generator, "WeightedRandomSampler")

    def _order(self) -> np.ndarray:
        rng = numpy_rng(self.generator, "WeightedRandomSampler", fresh=True)
        p = self.weights / self.weights.sum()
        if self.replacement:
            return rng.choice(len(p), size=self.num_samples, p=p)
        # Without replacement, torch's multinomial gives every positive weight's index first
        # (drawn in proportion), then -- if num_samples asks for more -- zero-weight ones.
        drawn = rng.choice(len(p), size=min(self.num_samples, np.count_nonzero(p)), replace=False, p=p)
        rest = rng.permutation(np.flatnonzero(p == 0))[:self.num_samples - len(drawn)]
        return np.concatenate([drawn, rest]).astype(np.int64, copy=False)

    def __len__(self) -> int:
        return self.num_samples


def _check_weights(weights: np.ndarray, num_samples: int, replacement: bool) -> None:
    """torch.multinomial's refusals, here at construction rather than at the first epoch
    (SamplingWeightsError: a ConfigError and a RuntimeError, as torch's multinomial raises)."""
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise SamplingWeightsError(f"WeightedRandomSampler: weights must be finite and >= 0, "
                                   f"got {weights[~(np.isfinite(weights) & (weights >= 0))][:4].tolist()}")
    if not weights.sum() > 0:
        raise SamplingWeightsError(f"WeightedRandomSampler: the weights sum to {weights.sum()}: "
                                   f"there is nothing to draw from")
    if not replacement and num_samples > len(weights):
        raise SamplingWeightsError(f"WeightedRandomSampler: cannot draw num_samples={num_samples} "
                                   f"without replacement from {len(weights)} weights")


class BatchSampler(Sampler):
    """Groups another sampler's indices (or any iterable's) into lists of ``batch_size``; the last,
    shorter list is dropped with ``drop_last=True``."""

    def __init__(self, sampler: Iterable[Any], batch_size: int, drop_last: bool) -> None:
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "batch_size")
        self.drop_last = _boolean(drop_last, "drop_last")

    def __iter__(self) -> Iterator[list]:
        batch: list = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def sampler_order(sampler: Iterable[Any]) -> np.ndarray:
    """One epoch of a sampler as an int64 array (the DataLoader's order, kept in its state)."""
    if isinstance(sampler, _ArraySampler) and type(sampler).__iter__ is _ArraySampler.__iter__:
        return sampler._order()
    return _int_indices(list(sampler), type(sampler).__name__)


def drawn_whole(sampler: Any, batch_sampler: Any) -> bool:
    """Whether an epoch of these samplers is one array drawn at once (tensorgan's own samplers,
    un-overridden): anything else, a caller's sampler, is drawn as it is consumed."""
    if batch_sampler is not None:
        if not (isinstance(batch_sampler, BatchSampler)
                and type(batch_sampler).__iter__ is BatchSampler.__iter__):
            return False
        sampler = batch_sampler.sampler
    return isinstance(sampler, _ArraySampler) and type(sampler).__iter__ is _ArraySampler.__iter__


def batch_plan(batch_sampler: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
    """One epoch of a batch sampler as (order, ends): batch k is ``order[ends[k-1]:ends[k]]``."""
    if isinstance(batch_sampler, BatchSampler) and type(batch_sampler).__iter__ is BatchSampler.__iter__:
        order = sampler_order(batch_sampler.sampler)
        return order, batch_ends(len(order), batch_sampler.batch_size, batch_sampler.drop_last)
    batches = [_int_indices(list(batch), type(batch_sampler).__name__) for batch in batch_sampler]
    order = np.concatenate(batches) if batches else np.empty(0, np.int64)
    return order, np.cumsum([len(b) for b in batches], dtype=np.int64)


def batch_ends(n: int, batch_size: int, drop_last: bool) -> np.ndarray:
    """Where the batches of ``n`` samples in order end (drop_last: full batches only)."""
    full = np.arange(batch_size, n + 1, batch_size, dtype=np.int64)
    return full if drop_last or n % batch_size == 0 else np.append(full, np.int64(n))


def _int_indices(indices: list, source: str) -> np.ndarray:
    order = np.asarray(indices)
    if order.ndim != 1 or (order.size and order.dtype.kind not in "iu"):
        raise InputTypeError(f"DataLoader: {source} yielded {order.dtype} indices of shape "
                             f"{order.shape}; it needs integer dataset indices (tensorgan's "
                             f"loader keeps the epoch's order as integers, for its state_dict)")
    return order.astype(np.int64, copy=False)
