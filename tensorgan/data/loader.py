"""DataLoader: shuffled mini-batches scaled to [-1, 1], with exact mid-epoch resume -- of a
tensorgan Dataset (uint8 images in memory), or of any torch-style map dataset (``__len__`` and
``__getitem__``), whose items are collated as torch's ``default_collate`` does."""

from __future__ import annotations

import json
import numbers
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..errors import CheckpointError, ConfigError, DataError, InputTypeError
from .dataset import Dataset, check_arrays

__all__ = ["DataLoader", "default_collate", "to_unit_range"]

Batch = tuple[np.ndarray, "np.ndarray | None"]
_STATE_VERSION = 1


def to_unit_range(images: np.ndarray) -> np.ndarray:
    """uint8 pixels to float32 in [-1, 1] (0 -> -1, 255 -> 1 exactly), matching a tanh output."""
    return images.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


class DataLoader:
    """Iterate a Dataset in mini-batches of ``(images, labels)``.

    ``images`` is float32 (B, C, H, W) in [-1, 1]; ``labels`` is int64 (B,) or None. A map
    dataset's batches are its items collated (:func:`default_collate`: float data as Tensors),
    unscaled.
    Each epoch uses a fresh permutation drawn from a NumPy Generator (``generator``, or PCG64 seeded
    with ``seed``). Iterating yields the *rest of the current epoch*; ``state_dict()`` taken between
    batches and given to ``load_state_dict()`` of a new loader makes it yield exactly the batches
    the original would have yielded next. One iteration at a time per loader.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 64, shuffle: bool = True,
                 drop_last: bool = True, seed: int | None = None,
                 generator: np.random.Generator | None = None, *, num_workers: int = 0,
                 pin_memory: bool = False) -> None:
        # num_workers / pin_memory: accepted for torch code; batches are gathered in this thread
        # (in-memory arrays: a gather, not file reads) and there is no pinned memory to use.
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ConfigError(f"num_workers must be an integer >= 0, got {num_workers!r}")
        self._map_style = _check_dataset(dataset)
        self.dataset = dataset
        self.batch_size = _check_batch_size(batch_size, len(dataset), drop_last)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._generator = _make_generator(seed, generator)   # None: see the generator property
        self.epoch = 0
        self._position = 0                       # samples already yielded in the current epoch
        self._order: np.ndarray | None = None    # the current epoch's order, None until drawn
        self._iteration = 0                      # bumped by __iter__: an older iterator stops

    @property
    def generator(self) -> np.random.Generator:
        """The order's random stream. Without ``seed=`` or ``generator=`` it is seeded from
        tensorgan's default generator when first needed (``tg.manual_seed`` fixes it, as torch's
        does its sampler), not at construction: making a loader leaves that stream alone."""
        if self._generator is None:
            from ..random import default_generator
            seed = int(default_generator.rng.integers(2 ** 63))
            self._generator = np.random.Generator(np.random.PCG64(seed))
        return self._generator

    def __len__(self) -> int:
        """Batches per epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        self._iteration += 1
        return self._batches(self._iteration)

    def _batches(self, token: int) -> Iterator[Batch]:
        self._check_current(token)           # (a generator runs from its first next())
        if self._order is not None and self._position >= self._epoch_end():
            self._next_epoch()  # a state saved right after an epoch's last batch
        if self._order is None:
            self._order = self._draw_order()
        end = self._epoch_end()
        while self._position < end:
            indices = self._order[self._position:self._position + self.batch_size]
            # Advance before yielding: a state_dict() taken while the consumer holds this batch
            # must count it as consumed.
            self._position += len(indices)
            yield self._batch(indices)
            self._check_current(token)
        self._next_epoch()

    def _check_current(self, token: int) -> None:
        if token != self._iteration:
            raise ConfigError("this DataLoader was iterated again while an earlier iteration was "
                              "still running: one iteration at a time per loader (make a second "
                              "DataLoader for a second stream)")

    # ------------------------------------------------------------------ resume support

    def state_dict(self) -> dict[str, Any]:
        """JSON-able scalars plus one int64 array; no pickle needed to store it."""
        order = self._order if self._order is not None else np.empty(0, dtype=np.int64)
        return {
            "version": _STATE_VERSION,
            "epoch": self.epoch,
            "position": self._position,
            "order": order.astype(np.int64, copy=True),
            "order_drawn": self._order is not None,
            "dataset_len": len(self.dataset),
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
            # The generator state *after* drawing the current order, as a JSON string.
            "rng_state": json.dumps(self.generator.bit_generator.state, default=_json_default),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from ``state_dict()`` output (values may come back as 0-d numpy arrays)."""
        try:
            version = int(state["version"])
            epoch, position = int(state["epoch"]), int(state["position"])
            order = np.asarray(state["order"], dtype=np.int64)
            drawn, dataset_len = bool(state["order_drawn"]), int(state["dataset_len"])
            rng_state = json.loads(str(state["rng_state"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"DataLoader state is incomplete or malformed ({exc!r})") from exc
        if version != _STATE_VERSION:
            raise CheckpointError(f"DataLoader state version {version} is not {_STATE_VERSION}")
        self._check_compatible(state, dataset_len)
        if drawn and (order.shape != (dataset_len,) or not 0 <= position <= dataset_len):
            raise CheckpointError(f"DataLoader state has an order of shape {order.shape} and "
                                  f"position {position} for a dataset of {dataset_len} items")
        expected = "a permutation" if self.shuffle else "the identity order"
        if drawn and not np.array_equal(order if not self.shuffle else np.sort(order),
                                        np.arange(dataset_len)):
            raise CheckpointError(f"DataLoader state's order is not {expected} of its "
                                  f"{dataset_len} items (a damaged state)")
        if epoch < 0:
            raise CheckpointError(f"DataLoader state has epoch {epoch}")
        try:
            self.generator.bit_generator.state = _restore_arrays(rng_state)
        except (TypeError, ValueError, KeyError) as exc:
            raise CheckpointError(f"DataLoader state has a random generator state that does not "
                                  f"fit this loader's {type(self.generator.bit_generator).__name__} "
                                  f"({exc})") from exc
        self.epoch = epoch
        self._position = position if drawn else 0
        self._order = order.copy() if drawn else None

    def _check_compatible(self, state: dict[str, Any], dataset_len: int) -> None:
        if dataset_len != len(self.dataset):
            raise CheckpointError(f"DataLoader state is for a dataset of {dataset_len} items, "
                                  f"this loader's has {len(self.dataset)}")
        for key in ("batch_size", "shuffle", "drop_last"):
            saved, mine = state.get(key), getattr(self, key)
            if saved is not None and type(mine)(saved) != mine:
                raise CheckpointError(f"DataLoader state has {key}={saved!r}, this loader "
                                      f"{key}={mine!r}; resuming would not repeat the same batches")

    # ------------------------------------------------------------------ internals

    def _epoch_end(self) -> int:
        n = len(self.dataset)
        return n - n % self.batch_size if self.drop_last else n

    def _draw_order(self) -> np.ndarray:
        n = len(self.dataset)
        return self.generator.permutation(n) if self.shuffle else np.arange(n, dtype=np.int64)

    def _next_epoch(self) -> None:
        self.epoch += 1
        self._position = 0
        self._order = None

    def _batch(self, indices: np.ndarray) -> Batch:
        if self._map_style:
            return default_collate([self.dataset[int(i)] for i in indices])
        images = to_unit_range(self.dataset.images[indices])
        labels = self.dataset.labels
        return images, (None if labels is None else labels[indices])


def _check_dataset(dataset: Any) -> bool:
    """What the loader reads, for any object with the Dataset protocol (not only ArrayDataset,
    which checks itself): the arrays, and a ``len`` that counts them. True for a map dataset."""
    images = getattr(dataset, "images", None)
    is_tensorgan_dataset = (isinstance(images, np.ndarray) and images.dtype == np.uint8
                            and images.ndim == 4)         # uint8 (N, C, H, W): scaled to [-1, 1]
    if (not is_tensorgan_dataset and not isinstance(dataset, np.ndarray)   # a bare array: below
            and hasattr(type(dataset), "__getitem__") and hasattr(type(dataset), "__len__")):
        return True                                      # a map dataset: its own items
    if not isinstance(images, np.ndarray):
        raise InputTypeError(f"DataLoader needs a tensorgan Dataset (ArrayDataset, ImageFolder, "
                             f"mnist_dataset()), got {type(dataset).__name__}; wrap uint8 "
                             f"(N, C, H, W) arrays with ArrayDataset(images)")
    name = getattr(dataset, "name", None) or type(dataset).__name__
    check_arrays(images, getattr(dataset, "labels", None), name)
    if len(dataset) != images.shape[0]:
        raise DataError(f"{name}: len() says {len(dataset)} but it holds {images.shape[0]} images")
    return False


def default_collate(items: list[Any]) -> Any:
    """One batch from a map dataset's items, as torch's ``default_collate``: Tensors stacked into
    a Tensor, arrays and numbers into a CPU Tensor with a leading batch dim (Python ints into
    int64, floats into float64 as torch, arrays keep their dtype), tuples
    and lists into a list of fields, named tuples and dicts field by field, strings kept as a list."""
    from ..factory import stack
    from ..tensor import Tensor
    first = items[0]
    if isinstance(first, Tensor):
        return stack(items)
    if isinstance(first, (np.ndarray, np.generic, numbers.Number)):
        arrays = [np.asarray(item) for item in items]
        if any(a.shape != arrays[0].shape for a in arrays):
            raise DataError(f"default_collate: the items of a batch have different shapes "
                            f"({sorted({a.shape for a in arrays})}); make the dataset return one "
                            f"shape, or pass a batch of them yourself")
        batch = np.stack(arrays)
        return Tensor(batch, device="cpu") if batch.dtype.kind in "fiub" else batch  # f16 -> f32
    if isinstance(first, (str, bytes)):
        return list(items)
    if isinstance(first, Mapping):
        return {key: default_collate([item[key] for item in items]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(item) != len(first) for item in items):
            raise DataError("default_collate: the items of a batch have different lengths")
        fields = [default_collate(list(field)) for field in zip(*items)]
        return type(first)(*fields) if hasattr(first, "_fields") else fields  # a list, as torch
    raise DataError(f"default_collate: cannot batch items of type {type(first).__name__}")


def _check_batch_size(batch_size: int, n: int, drop_last: bool) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ConfigError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if n == 0:
        raise ConfigError("the dataset is empty: there is nothing to load")
    if drop_last and batch_size > n:
        raise ConfigError(f"batch_size {batch_size} is larger than the dataset ({n} items) and "
                          f"drop_last=True would leave no batch at all; use a smaller batch_size "
                          f"or drop_last=False")
    return int(batch_size)


def _make_generator(seed: int | None, generator: np.random.Generator | None) -> np.random.Generator | None:
    if generator is not None:
        if seed is not None:
            raise ConfigError("give either seed or generator to DataLoader, not both")
        from ..random import Generator
        if isinstance(generator, Generator):       # tensorgan's own: shuffle from its stream
            return generator.rng
        if not isinstance(generator, np.random.Generator):
            raise ConfigError(f"generator must be a tensorgan.Generator or a "
                              f"numpy.random.Generator, got {type(generator).__name__}")
        return generator
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                             or seed < 0):
        raise ConfigError(f"seed must be a non-negative integer or None, got {seed!r}")
    return None if seed is None else np.random.Generator(np.random.PCG64(int(seed)))


def _json_default(value: Any) -> Any:
    # MT19937 and friends keep numpy arrays in their state; PCG64's is plain ints.
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.integer):
        return int(value)
    raise TypeError(f"cannot store {type(value).__name__} in a DataLoader state")


def _restore_arrays(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=value["dtype"])
        return {key: _restore_arrays(item) for key, item in value.items()}
    return value
