"""DataLoader: shuffled mini-batches scaled to [-1, 1], with exact mid-epoch resume -- of a
tensorgan Dataset (uint8 images in memory), or of any torch-style map dataset (``__len__`` and
``__getitem__``), whose items are collated as torch's ``default_collate`` does."""

from __future__ import annotations

import copy
import itertools
import json
import numbers
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, MutableSequence, Sequence
from typing import Any

import numpy as np

from ..errors import (CheckpointError, CollateError, CollateTypeError, ConfigError, DataError,
                      IndexOutOfRangeError, InputTypeError)
from ..random import numpy_rng
from .combine import IterableDataset, Subset
from .dataset import ArrayDataset, Dataset, TensorDataset, check_arrays
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, _int_indices,
                      batch_ends, batch_plan, drawn_whole, sampler_order)

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info", "to_unit_range"]

Batch = tuple[np.ndarray, "np.ndarray | None"]
_STATE_VERSION = 1


class _DefaultBatch(int):
    """DataLoader's default batch_size (64): told apart from an explicit one, which torch refuses
    beside ``batch_sampler=`` (the default is not refused)."""


_DEFAULT_BATCH = _DefaultBatch(64)


def to_unit_range(images: np.ndarray) -> np.ndarray:
    """uint8 pixels to float32 in [-1, 1] (0 -> -1, 255 -> 1 exactly), matching a tanh output."""
    return images.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


class DataLoader:
    """Iterate a Dataset in mini-batches of ``(images, labels)``.

    ``images`` is float32 (B, C, H, W) in [-1, 1]; ``labels`` is int64 (B,) or None. A map
    dataset's batches are its items collated (:func:`default_collate`: float data as Tensors),
    unscaled.
    Each epoch uses a fresh permutation drawn from a NumPy Generator (``generator``, or PCG64 seeded
    with ``seed``), or the order of ``sampler=`` (batches of ``batch_sampler=``), as torch's.
    The defaults are a GAN's: batch_size 64, ``shuffle=True`` and ``drop_last=True`` -- except
    where torch would refuse them (``shuffle`` is False with ``sampler=`` or an IterableDataset;
    ``batch_sampler=`` and ``batch_size=None`` make their own batches, so ``drop_last`` is False). Iterating yields the *rest of the current epoch*; ``state_dict()`` taken between
    batches and given to ``load_state_dict()`` of a new loader makes it yield exactly the batches
    the original would have yielded next. Several iterators may be live at once (``zip(loader,
    loader)``): the newest one's position is the loader's (see ``_batches``).
    """

    # An epoch without a batch (an empty dataset, drop_last with batch_size past its length) is
    # refused here, where a training loop would spin on it; torch's loader yields none.
    _empty_epochs_ok = False

    def __init__(self, dataset: Any, batch_size: int | None = _DEFAULT_BATCH,
                 shuffle: bool | None = None, drop_last: bool | None = None,
                 seed: int | None = None, generator: Any = None, *,
                 sampler: Iterable[Any] | None = None, batch_sampler: Iterable[Any] | None = None,
                 collate_fn: Callable[[Any], Any] | None = None, num_workers: int = 0,
                 pin_memory: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 prefetch_factor: int | None = None, persistent_workers: bool = False) -> None:
        # num_workers / pin_memory: accepted for torch code; batches are gathered in this thread
        # (in-memory arrays: a gather, not file reads) and there is no pinned memory to use, so
        # worker_init_fn is never called and get_worker_info() is None, as in torch's main process.
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        self._source, self._rows = _tensorgan_rows(dataset)   # a Subset of a tensorgan dataset
        self._kind = _check_dataset(self._source)
        self.dataset = dataset
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor = worker_init_fn, prefetch_factor
        self.persistent_workers = persistent_workers
        batch_size, shuffle, drop_last = _resolve_options(self._kind, batch_size, shuffle, drop_last,
                                                          sampler, batch_sampler)
        self.shuffle, self.drop_last = shuffle, drop_last
        self._generator = _make_generator(seed, generator)   # None: see the generator property
        self._own_sampler = sampler is None and batch_sampler is None
        self._user_batches = batch_sampler is not None    # its batches' ends go in the state
        if self._kind == "iterable":
            self.batch_size = _check_batch_size(batch_size, None, drop_last)
            self.sampler = self.batch_sampler = None
        else:
            self.sampler = sampler if sampler is not None else self._default_sampler()
            n = len(self.sampler) if hasattr(self.sampler, "__len__") else None
            self.batch_size = _check_batch_size(batch_size, n, drop_last,
                                                self._empty_epochs_ok, shuffle)
            self.batch_sampler = (batch_sampler if batch_size is None
                                  else BatchSampler(self.sampler, self.batch_size, self.drop_last))
        auto_collation = (self.batch_size if self._kind == "iterable" else self.batch_sampler) is not None
        self.collate_fn = _collate_fn(self._kind, collate_fn, auto_collation)
        self.epoch = 0
        self._position = 0                       # samples already yielded in the current epoch
        self._order: np.ndarray | None = None    # the current epoch's order, None until drawn
        self._ends: np.ndarray | None = None     # where its batches end (positions in _order)
        self._iteration = 0                      # bumped by __iter__: an older iterator stops

    def _default_sampler(self) -> Sampler:
        """torch's: a RandomSampler when shuffling (here drawing from this loader's stream),
        else a SequentialSampler."""
        return _LoaderShuffle(self) if self.shuffle else SequentialSampler(self.dataset)

    @property
    def generator(self) -> np.random.Generator:
        """The order's random stream. Without ``seed=`` or ``generator=`` it is seeded from
        tensorgan's default generator when first needed (``tg.manual_seed`` fixes it, as torch's
        does its sampler), not at construction: making a loader leaves that stream alone."""
        if self._generator is None:
            self._generator = numpy_rng(None, "DataLoader", fresh=True)
        return self._generator

    def __len__(self) -> int:
        """Batches per epoch (items, with ``batch_size=None``); an iterable dataset's only if it
        defines ``__len__``, as in torch."""
        if self._kind == "iterable":
            if not hasattr(type(self.dataset), "__len__"):
                raise InputTypeError(f"len() of a DataLoader over an IterableDataset needs the "
                                     f"dataset's len(), and {type(self.dataset).__name__} defines "
                                     f"no __len__")
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self) -> Iterator[Any]:
        self._iteration += 1
        if self.pin_memory:
            _warn_unpinned()
        if self._kind == "iterable":
            return _LoaderIterator(self, self._iterable_batches(self._iteration))
        return _LoaderIterator(self, self._batches(self._iteration))

    def _iterable_batches(self, token: int) -> Iterator[Any]:
        """An IterableDataset's items in the order it yields them, batch_size at a time (each
        iterator reads its own ``iter(dataset)``; the newest one's end counts the epoch)."""
        items = iter(self.dataset)
        step = 1 if self.batch_size is None else self.batch_size
        while True:
            chunk = list(itertools.islice(items, step))
            if not chunk or (self.drop_last and len(chunk) < step):
                break
            yield self.collate_fn(chunk[0] if self.batch_size is None else chunk)
        if token == self._iteration:
            self.epoch += 1

    def _batches(self, token: int) -> Iterator[Batch]:
        """The batches of one iterator.  The newest iterator (``token == self._iteration``) owns
        the loader's position, so ``state_dict()`` and the next ``iter()`` follow it; one that a
        newer ``iter()`` overtook goes on with its own copy of the order and position and leaves
        the loader alone -- two live iterators (``zip(loader, loader)``) are two passes, as in
        torch.  One overtaken before its first batch makes a pass of its own."""
        if token != self._iteration:                 # (a generator runs from its first next())
            order, ends = self._draw_order()
            position = 0
        else:
            if (self._order is not None and not isinstance(self._order, _LazyOrder)
                    and self._position >= self._epoch_end()):
                self._next_epoch()  # a state saved right after an epoch's last batch
            if self._order is None:
                self._order, self._ends = self._draw_order()
            order, ends, position = self._order, self._ends, self._position
        if isinstance(order, _LazyOrder):
            batches = order.batches_from(position)
        else:
            batches = (order[start:stop] for start, stop in
                       _spans(ends[np.searchsorted(ends, position, side="right"):], position))
        for indices in batches:
            position += len(indices)
            if token == self._iteration:
                # Advance before yielding: a state_dict() taken while the consumer holds this
                # batch must count it as consumed.
                self._position = position
            yield self._batch(indices)
        if token == self._iteration:
            self._next_epoch()

    # ------------------------------------------------------------------ resume support

    def state_dict(self) -> dict[str, Any]:
        """JSON-able scalars plus one int64 array (two with ``batch_sampler=``: the batches' ends);
        no pickle needed to store it. With ``sampler=`` / ``batch_sampler=`` it holds the current
        epoch's order, and later epochs come from the sampler's own stream (save its generator's
        state beside it to repeat those too)."""
        if self._kind == "iterable":
            raise ConfigError(f"a DataLoader over an IterableDataset ({type(self.dataset).__name__}) "
                              f"has no resumable state: its position is inside the dataset's own "
                              f"iterator")
        if isinstance(self._order, _LazyOrder):     # the rest of a caller's sampler's epoch
            self._order, self._ends = self._order.drain(type(self.sampler).__name__)
        order = self._order if self._order is not None else np.empty(0, dtype=np.int64)
        state = {
            "version": _STATE_VERSION,
            "epoch": self.epoch,
            "position": self._position,
            "order": order.astype(np.int64, copy=True),
            "order_drawn": self._order is not None,
            "dataset_len": len(self.dataset),
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
            # The generator state *after* drawing the current order, as a JSON string ("null" for
            # a sampler of the caller's, which draws from its own generator).
            "rng_state": (json.dumps(self.generator.bit_generator.state, default=_json_default)
                          if self._own_sampler else "null"),
        }
        if self._user_batches and self._ends is not None:
            state["batch_ends"] = self._ends.copy()
        return state

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
        if drawn:
            self._check_order(order, position, dataset_len)
            ends = self._restored_ends(state, order)
        if epoch < 0:
            raise CheckpointError(f"DataLoader state has epoch {epoch}")
        if self._own_sampler:
            try:
                self.generator.bit_generator.state = _restore_arrays(rng_state)
            except (TypeError, ValueError, KeyError) as exc:
                raise CheckpointError(f"DataLoader state has a random generator state that does not "
                                      f"fit this loader's {type(self.generator.bit_generator).__name__} "
                                      f"({exc})") from exc
        self.epoch = epoch
        self._position = position if drawn else 0
        self._order = order.copy() if drawn else None
        self._ends = ends if drawn else None

    def _check_order(self, order: np.ndarray, position: int, dataset_len: int) -> None:
        """A saved order that this loader could have drawn: its own sampler's is the identity or
        a permutation of the dataset; a caller's sampler's, any 1-d run of indices."""
        size = dataset_len if self._own_sampler else len(order)
        if order.ndim != 1 or len(order) != size or not 0 <= position <= size:
            raise CheckpointError(f"DataLoader state has an order of shape {order.shape} and "
                                  f"position {position} for a dataset of {dataset_len} items")
        expected = "a permutation" if self.shuffle else "the identity order"
        if self._own_sampler and not np.array_equal(order if not self.shuffle else np.sort(order),
                                                    np.arange(dataset_len)):
            raise CheckpointError(f"DataLoader state's order is not {expected} of its "
                                  f"{dataset_len} items (a damaged state)")

    def _restored_ends(self, state: dict[str, Any], order: np.ndarray) -> np.ndarray:
        if not self._user_batches:
            return batch_ends(len(order), self.batch_size or 1, self.drop_last)
        ends = np.asarray(state.get("batch_ends", ()), dtype=np.int64)
        if ends.ndim != 1 or (ends.size and (ends[-1] != len(order) or (np.diff(ends) < 0).any())):
            raise CheckpointError(f"DataLoader state's batch_ends {ends.tolist()[:8]} do not "
                                  f"split its order of {len(order)} indices")
        return ends

    def _check_compatible(self, state: dict[str, Any], dataset_len: int) -> None:
        if dataset_len != len(self.dataset):
            raise CheckpointError(f"DataLoader state is for a dataset of {dataset_len} items, "
                                  f"this loader's has {len(self.dataset)}")
        for key in ("batch_size", "shuffle", "drop_last"):
            mine = getattr(self, key)
            saved = state.get(key, mine)
            saved = saved.item() if isinstance(saved, np.ndarray) and saved.ndim == 0 else saved
            if (saved is None) != (mine is None) or (mine is not None and type(mine)(saved) != mine):
                raise CheckpointError(f"DataLoader state has {key}={saved!r}, this loader "
                                      f"{key}={mine!r}; resuming would not repeat the same batches")

    # ------------------------------------------------------------------ internals

    def _epoch_end(self) -> int:
        return int(self._ends[-1]) if self._ends is not None and len(self._ends) else 0

    def _draw_order(self) -> tuple[np.ndarray, np.ndarray]:
        """The epoch's indices and where its batches end, from the batch sampler (one index per
        "batch" without auto-batching)."""
        if not drawn_whole(self.sampler, self.batch_sampler):
            # A caller's sampler is drawn as it is consumed, as torch's loader does (so an endless
            # one, FastGAN's InfiniteSamplerWrapper, works); state_dict() draws the epoch's rest.
            source = self.batch_sampler if self.batch_sampler is not None else self.sampler
            return _LazyOrder(source, self.batch_sampler is None), None
        if self.batch_sampler is not None:
            return batch_plan(self.batch_sampler)
        order = sampler_order(self.sampler)
        return order, batch_ends(len(order), 1, False)

    def _next_epoch(self) -> None:
        self.epoch += 1
        self._position = 0
        self._order = self._ends = None

    def _batch(self, indices: np.ndarray) -> Any:
        if self._kind == "map":
            if self.batch_sampler is None:                     # no auto-batching: one item
                return self.collate_fn(self.dataset[int(indices[0])])
            if self.collate_fn is default_collate:
                fields = _gathered_batch(self.dataset, indices)
                if fields is not None:
                    return fields
            keys = indices.tolist()
            fetch = getattr(self.dataset, "__getitems__", None)
            return self.collate_fn(fetch(keys) if callable(fetch) else [self.dataset[i] for i in keys])
        rows = indices if self._rows is None else self._rows[indices]
        images = to_unit_range(self._source.images[rows])
        labels = self._source.labels
        return images, (None if labels is None else labels[rows])


def _gathered_batch(dataset: Any, indices: np.ndarray) -> list | None:
    """:func:`_gathered_fields` of a TensorDataset, also seen through Subsets (``random_split``'s
    train / validation parts) whose indices are plain integers; None for any other dataset, or
    an index out of a Subset's range (the items' path raises its error)."""
    while type(dataset) is Subset:
        indices = _subset_positions(dataset, indices)
        if indices is None:
            return None
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset:
        return None
    return _gathered_fields(dataset.tensors, indices)


def _subset_positions(subset: Subset, indices: np.ndarray) -> np.ndarray | None:
    """``subset.indices`` at ``indices`` as an int64 array, or None where they are not plain
    integers or ``indices`` reach outside them.  A list (random_split's) is read per batch, so a
    list changed in place since the last batch is seen, as by the items' path; a tuple or range
    is made an array once."""
    held = subset.indices
    if isinstance(held, list):
        try:
            picked = [held[i] for i in indices.tolist()]
        except IndexError:
            return None
        if not all(type(i) is int for i in picked):
            return None
        return np.array(picked, dtype=np.int64)
    cached = subset.__dict__.get("_positions")
    if cached is not None and cached[0] is held:
        positions = cached[1]
    elif isinstance(held, np.ndarray):
        positions = held if held.dtype.kind in "iu" and held.ndim == 1 else None
    elif isinstance(held, range) or (isinstance(held, tuple) and all(type(i) is int for i in held)):
        positions = np.asarray(held, dtype=np.int64)
        subset.__dict__["_positions"] = (held, positions)
    else:
        return None
    if positions is None:
        return None
    try:
        return positions[indices]
    except IndexError:
        return None


def _gathered_fields(tensors: tuple, indices: np.ndarray) -> list | None:
    """A TensorDataset's batch as default_collate makes it from the items -- a list with each
    tensor's rows at ``indices`` -- by one gather per tensor instead of an indexing per item and
    a stack. None (collate the items) where the gather could differ: a tensor that requires grad
    (its items' graph), anything but a Tensor or a numeric NumPy array."""
    from ..tensor import Tensor
    fields = []
    for t in tensors:
        if isinstance(t, Tensor) and not t.requires_grad:
            fields.append(t[indices])
        elif isinstance(t, np.ndarray) and t.dtype.kind in "fiub":
            fields.append(_cpu_tensor(t[indices]))
        else:
            return None
    return fields


def _spans(ends: np.ndarray, position: int) -> Iterator[tuple[int, int]]:
    for stop in ends:
        yield position, int(stop)
        position = int(stop)


class _LazyOrder:
    """One epoch of a caller's (batch) sampler, drawn batch by batch as the loader consumes it.
    The batches drawn are kept (the epoch's order, for state_dict()) up to ``_KEEP_LIMIT``
    indices; past that the consumed ones are let go, so an endless sampler (FastGAN's
    InfiniteSamplerWrapper) iterates in bounded memory -- and that epoch can no longer be
    checkpointed mid-way, which state_dict() then says."""

    __slots__ = ("_source", "_items", "_name", "_batches", "_first", "_first_seen", "_drawn", "_done")

    _DRAIN_LIMIT = 1 << 26       # indices: past this, a sampler is taken to be endless
    _KEEP_LIMIT = 1 << 22        # indices kept for state_dict(); past this, consumed ones go

    def __init__(self, source: Iterable[Any], items: bool) -> None:
        self._source, self._items = source, items   # items: a sampler (each index one "batch")
        self._name = type(source).__name__
        self._batches: list[np.ndarray] = []        # batches self._first, self._first + 1, ...
        self._first = self._first_seen = 0          # batches let go, and their index count
        self._drawn = 0
        self._done = False

    def _draw(self) -> bool:
        """Draw the next batch; False at the epoch's end."""
        if self._done:
            return False
        if not isinstance(self._source, Iterator):
            self._source = iter(self._source)      # at the first draw, as torch's loader does
        try:
            batch = next(self._source)
        except StopIteration:
            self._done = True
            return False
        indices = _int_indices([batch] if self._items else list(batch), self._name)
        self._batches.append(indices)
        self._drawn += len(indices)
        return True

    def batches_from(self, position: int) -> Iterator[np.ndarray]:
        """The batches after the first ``position`` indices (a batch boundary)."""
        if position < self._first_seen:
            raise ConfigError(f"DataLoader: this epoch of the {self._name} sampler is past "
                              f"{self._KEEP_LIMIT} indices, and its first batches were let go; "
                              f"it cannot restart from index {position}")
        k, seen = self._first, self._first_seen
        while seen < position:
            if k - self._first == len(self._batches) and not self._draw():
                return
            seen += len(self._batches[k - self._first])
            k += 1
        while k - self._first < len(self._batches) or self._draw():
            yield self._batches[k - self._first]
            k += 1
            if self._drawn > self._KEEP_LIMIT:       # let the consumed batches go
                gone = k - self._first
                self._first_seen += sum(len(b) for b in self._batches[:gone])
                del self._batches[:gone]
                self._first = k

    def drain(self, sampler_name: str) -> tuple[np.ndarray, np.ndarray]:
        """The whole epoch as (order, ends), drawing what is left of it."""
        if self._first:
            raise ConfigError(f"DataLoader.state_dict() needs this epoch's order, and the "
                              f"{sampler_name} sampler has given over {self._KEEP_LIMIT} indices in "
                              f"it, of which the consumed ones were not kept: an endless or very "
                              f"long sampler can be iterated but not checkpointed mid-epoch")
        while self._draw():
            if self._drawn > self._DRAIN_LIMIT:
                raise ConfigError(f"DataLoader.state_dict() needs the rest of this epoch's order, "
                                  f"and the {sampler_name} sampler has given over "
                                  f"{self._DRAIN_LIMIT} indices without ending: an endless sampler "
                                  f"can be iterated but not checkpointed mid-epoch")
        order = np.concatenate(self._batches) if self._batches else np.empty(0, np.int64)
        return order, np.cumsum([len(b) for b in self._batches], dtype=np.int64)


class _LoaderIterator:
    """What ``iter(loader)`` returns: the pass's batches, with ``len()`` as torch's
    ``_BaseDataLoaderIter`` has (the loader's batches per epoch: ``len(iter(loader))``, a
    common way to count the batches of an epoch, as BMSG-GAN's training loop does)."""

    __slots__ = ("_loader", "_batches")

    def __init__(self, loader: "DataLoader", batches: Iterator[Any]) -> None:
        self._loader = loader
        self._batches = batches

    def __iter__(self) -> "_LoaderIterator":
        return self

    def __next__(self) -> Any:
        return next(self._batches)

    def __len__(self) -> int:
        return len(self._loader)


def _warn_unpinned() -> None:
    """torch's warning, each time a loader with ``pin_memory=True`` starts an epoch on a machine
    without an accelerator (with one, tensorgan's batches need no pinning: nothing to say)."""
    from ..accelerator import is_available
    if not is_available():
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        frame, level = sys._getframe(1), 2         # pointed at the first frame outside tensorgan
        while frame is not None and frame.f_code.co_filename.startswith(package):
            frame, level = frame.f_back, level + 1
        warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then "
                      "device pinned memory won't be used.", stacklevel=level)


def _check_dataset(dataset: Any) -> str:
    """What the loader reads: "iterable" (an IterableDataset), "map" (``__len__`` and
    ``__getitem__``), or "tensorgan" -- an object holding uint8 ``images`` (N, C, H, W),
    ``labels`` and ``name`` (not only ArrayDataset, which checks itself), whose arrays and
    ``len`` are checked here."""
    if isinstance(dataset, IterableDataset):
        return "iterable"
    images = getattr(dataset, "images", None)
    # A map dataset: its own items -- any object with __len__ and __getitem__ (a user's dataset
    # may well hold uint8 arrays called ``images``, e.g. (N, H, W, C) with a transform), except
    # tensorgan's own datasets (ArrayDataset and its subclasses), batched as scaled images.
    if (not (_holds_images(dataset) and isinstance(dataset, ArrayDataset))
            and not isinstance(dataset, np.ndarray)      # a bare array: below
            and _defines_getitem(type(dataset)) and hasattr(type(dataset), "__len__")):
        return "map"
    if not isinstance(images, np.ndarray):
        raise InputTypeError(f"DataLoader needs a tensorgan Dataset (ArrayDataset, ImageFolder, "
                             f"mnist_dataset()), got {type(dataset).__name__}; wrap uint8 "
                             f"(N, C, H, W) arrays with ArrayDataset(images)")
    name = getattr(dataset, "name", None) or type(dataset).__name__
    check_arrays(images, getattr(dataset, "labels", None), name)
    if len(dataset) != images.shape[0]:
        raise DataError(f"{name}: len() says {len(dataset)} but it holds {images.shape[0]} images")
    return "tensorgan"


def _defines_getitem(cls: type) -> bool:
    """``cls`` has its own ``__getitem__`` (not only Dataset's, which raises)."""
    return getattr(cls, "__getitem__", Dataset.__getitem__) is not Dataset.__getitem__


def _holds_images(dataset: Any) -> bool:
    """A tensorgan dataset: uint8 (N, C, H, W) ``images``, batched scaled to [-1, 1]."""
    images = getattr(dataset, "images", None)
    return isinstance(images, np.ndarray) and images.dtype == np.uint8 and images.ndim == 4


def _tensorgan_rows(dataset: Any) -> tuple[Any, np.ndarray | None]:
    """A Subset (of a Subset ...) of a tensorgan dataset -- ``random_split(mnist, ...)`` -- is
    batched as that dataset is: (the dataset, the rows of its arrays that are the subset's items).
    Anything else: (dataset, None)."""
    root, rows = dataset, None
    while isinstance(root, Subset):
        level = np.asarray(root.indices)
        if level.ndim != 1 or (level.size and level.dtype.kind not in "iu"):
            return dataset, None
        try:
            rows = level.astype(np.int64) if rows is None else level[rows]
        except IndexError:
            raise IndexOutOfRangeError("DataLoader: a Subset's indices go past the Subset it "
                                       "indexes") from None
        root = root.dataset
    if rows is None or not _holds_images(root):
        return dataset, None
    n = len(root.images)
    if rows.size and not (-n <= rows.min() and rows.max() < n):
        raise IndexOutOfRangeError(f"DataLoader: Subset indices {rows.min()}..{rows.max()} are out "
                                   f"of range for the {n} images of {type(root).__name__}")
    return root, rows % max(n, 1)


def default_collate(items: list[Any]) -> Any:
    """One batch from a map dataset's items, as torch's ``default_collate``: Tensors stacked into
    a Tensor, arrays and numbers into a CPU Tensor with a leading batch dim (Python ints into
    int64, floats into float64 as torch, arrays keep their dtype), tuples
    and lists into a list of fields, named tuples and dicts field by field, strings kept as they
    come (a list; a tuple when they are a field of tuple items, as torch's)."""
    from ..factory import stack
    from ..tensor import Tensor
    first = items[0]
    if isinstance(first, Tensor):
        return stack(items)
    if isinstance(first, (np.ndarray, np.generic, numbers.Number)):
        arrays = [np.asarray(item) for item in items]
        if arrays[0].dtype.kind not in "fiubc":         # strings, objects: torch's TypeError
            raise CollateTypeError(f"default_collate: cannot batch numpy arrays of dtype "
                                   f"{arrays[0].dtype} (only numbers); return them as strings or "
                                   f"pass collate_fn=")
        if any(a.shape != arrays[0].shape for a in arrays):
            raise CollateError(f"default_collate: the items of a batch have different shapes "
                            f"({sorted({a.shape for a in arrays})}); make the dataset return one "
                            f"shape, or pass a batch of them yourself")
        return _cpu_tensor(_promoted(np.stack(arrays), first, items))
    if isinstance(first, (str, bytes)):
        return items           # as given, as torch: a list at the top, a tuple as a field of tuples
    if isinstance(first, Mapping):
        return {key: default_collate([item[key] for item in items]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(item) != len(first) for item in items):
            raise CollateError(f"default_collate: the items of a batch have different lengths "
                               f"({sorted({len(item) for item in items})})")
        fields = [default_collate(field) for field in zip(*items)]   # each field a tuple, as torch
        return type(first)(*fields) if hasattr(first, "_fields") else fields  # a list, as torch
    raise CollateTypeError(f"default_collate: cannot batch items of type {type(first).__name__} "
                           f"(it batches tensors, numpy arrays, numbers, strings, dicts and "
                           f"sequences); pass collate_fn= for others")


def _promoted(batch: np.ndarray, first: Any, items: list[Any]) -> np.ndarray:
    """torch's dtype for integers led by an int with Python floats (complex numbers) among them:
    ``torch.tensor(items)``'s default float (complex) dtype, where NumPy would give float64."""
    if not isinstance(first, (int, np.integer, np.bool_)) or batch.dtype.kind not in "fc":
        return batch
    kinds = {type(item) for item in items}
    if complex in kinds or float in kinds:
        from ..tensor import get_default_dtype
        default = np.dtype(get_default_dtype())
        return batch.astype(default if complex not in kinds else np.result_type(default, np.complex64))
    return batch


def _cpu_tensor(array: np.ndarray) -> Any:
    """A numeric array (complex too) as a CPU Tensor of its dtype; strings / objects stay arrays."""
    from ..tensor import Tensor
    return Tensor._from(array, device="cpu") if array.dtype.kind in "fiubc" else array


def default_convert(data: Any) -> Any:
    """torch's ``default_convert`` (the collate_fn without auto-batching): NumPy arrays and scalars
    become Tensors, inside dicts, named tuples and sequences too (a plain tuple becomes a list, as
    torch); Tensors, Python numbers and strings are left as they are."""
    from ..tensor import Tensor
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)) and not isinstance(data, (np.str_, np.bytes_)):
        return _cpu_tensor(np.asarray(data))
    if isinstance(data, Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        if isinstance(data, MutableMapping):
            clone = copy.copy(data)
            clone.update(converted)
            return clone
        return converted
    if isinstance(data, tuple):
        fields = [default_convert(d) for d in data]
        return type(data)(*fields) if hasattr(data, "_fields") else fields
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        items = [default_convert(d) for d in data]
        if isinstance(data, MutableSequence):
            clone = copy.copy(data)
            clone[:] = items
            return clone
        return items
    return data


def get_worker_info() -> None:
    """torch's ``get_worker_info``: None in the main process. tensorgan's DataLoader gathers every
    batch in the calling process (``num_workers`` is accepted, no worker is started), so it is
    None there too and a dataset that shards itself by worker reads everything once."""
    return None


class _LoaderShuffle(RandomSampler):
    """The RandomSampler that ``shuffle=True`` builds: its permutations come from the loader's
    stream (``seed=`` / ``generator=``, or seeded from the default generator when first drawn)."""

    def __init__(self, loader: "DataLoader") -> None:
        # RandomSampler's checks skipped: an empty dataset gets the loader's own message.
        self.data_source, self.replacement, self._num_samples = loader.dataset, False, None
        self.generator, self._loader = None, loader

    def _stream(self) -> np.random.Generator:
        return self._loader.generator


def _check_worker_options(num_workers: int, timeout: float, prefetch_factor: int | None,
                          persistent_workers: bool) -> None:
    """torch's checks on the worker options (accepted, though no worker is started)."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
        raise ConfigError(f"num_workers must be an integer >= 0, got {num_workers!r}")
    if not isinstance(timeout, numbers.Real) or timeout < 0:
        raise ConfigError(f"timeout option should be non-negative, got timeout={timeout!r}")
    if prefetch_factor is not None and num_workers == 0:
        raise ConfigError(f"prefetch_factor={prefetch_factor!r} could only be specified with "
                          f"num_workers > 0; set prefetch_factor to None")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ConfigError(f"prefetch_factor option should be non-negative, got {prefetch_factor!r}")
    if persistent_workers and num_workers == 0:
        raise ConfigError("persistent_workers=True option needs num_workers > 0")


def _resolve_options(kind: str, batch_size: Any, shuffle: Any, drop_last: Any, sampler: Any,
                     batch_sampler: Any) -> tuple[Any, bool, bool]:
    """torch's argument conflicts (in torch's order), then tensorgan's GAN defaults where the
    caller left an option unset: (batch_size, shuffle, drop_last)."""
    if kind == "iterable":
        for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
            if value not in (None, False):
                raise ConfigError(f"DataLoader with IterableDataset: expected unspecified {name} "
                                  f"option, but got {name}={_kind_of(value)} (it is read in the order the "
                                  f"dataset yields)")
    if sampler is not None and shuffle:
        raise ConfigError(f"DataLoader: sampler option is mutually exclusive with shuffle (got "
                          f"sampler={_kind_of(sampler)} and shuffle={shuffle!r}): the sampler "
                          f"gives the order")
    if batch_sampler is not None:
        given = [("batch_size", batch_size, type(batch_size) is not _DefaultBatch and batch_size != 1),
                 ("shuffle", shuffle, bool(shuffle)), ("sampler", sampler, sampler is not None),
                 ("drop_last", drop_last, bool(drop_last))]
        clash = [f"{name}={_kind_of(value)}" for name, value, conflicts in given if conflicts]
        if clash:
            raise ConfigError(f"DataLoader: batch_sampler option is mutually exclusive with "
                              f"batch_size, shuffle, sampler, and drop_last; got {', '.join(clash)}")
        return None, False, False
    if batch_size is None:
        if drop_last:
            raise ConfigError(f"DataLoader: batch_size=None option disables auto-batching and is "
                              f"mutually exclusive with drop_last (got drop_last={drop_last!r})")
        drop_last = False
    if shuffle is None:
        shuffle = kind != "iterable" and sampler is None
    return batch_size, bool(shuffle), True if drop_last is None else bool(drop_last)


def _kind_of(option: Any) -> Any:
    """An option as an error message shows it: a sampler (or a list of indices) by its type."""
    return repr(option) if option is None or isinstance(option, (bool, numbers.Number)) else \
        f"<{type(option).__name__}>"


def _collate_fn(kind: str, collate_fn: Callable[[Any], Any] | None,
                auto_collation: bool) -> Callable[[Any], Any] | None:
    """torch's default: default_collate on batches, default_convert on single items. A tensorgan
    dataset's batches are its images scaled to [-1, 1] (and labels), which take neither."""
    if kind != "tensorgan":
        return collate_fn if collate_fn is not None else (
            default_collate if auto_collation else default_convert)
    if collate_fn is not None or not auto_collation:
        option = "collate_fn=" if collate_fn is not None else "batch_size=None"
        raise ConfigError(f"DataLoader: {option} needs a map dataset's items; a tensorgan dataset "
                          f"(uint8 images) is batched as images scaled to [-1, 1] and labels -- "
                          f"wrap its arrays in TensorDataset for {option}")
    return None


def _check_batch_size(batch_size: int | None, n: int | None, drop_last: bool,
                      empty_ok: bool = False, shuffle: bool = False) -> int | None:
    """batch_size an integer >= 1 (or None: no auto-batching); with ``n`` items per epoch, a
    batch at all -- unless ``empty_ok`` (torch's loader: an epoch of no batches, though not a
    shuffle of no items, which torch's RandomSampler refuses)."""
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ConfigError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if n == 0 and (shuffle or not empty_ok):
        raise ConfigError("the dataset is empty: there is nothing to load")
    if empty_ok:
        return int(batch_size)
    if drop_last and n is not None and batch_size > n:
        raise ConfigError(f"batch_size {batch_size} is larger than the dataset ({n} items) and "
                          f"drop_last=True would leave no batch at all; use a smaller batch_size "
                          f"or drop_last=False")
    return int(batch_size)


def _make_generator(seed: int | None, generator: Any) -> np.random.Generator | None:
    if generator is not None:
        if seed is not None:
            raise ConfigError("give either seed or generator to DataLoader, not both")
        return numpy_rng(generator, "DataLoader")   # a tg.Generator: shuffle from its stream
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
