"""torch.utils.data's samplers, dataset combinators and DataLoader options (sampler=,
batch_sampler=, collate_fn=, batch_size=None, iterable datasets): orders and batches as torch's
documentation specifies them, seeded reproducibility, and the typed refusals."""

from __future__ import annotations

import collections
import itertools
import json
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import ConfigError, IndexOutOfRangeError, InputTypeError
from tensorgan.data import DataLoader   # the GAN loader (utils.data's has torch's defaults)
from tensorgan.utils.data import (BatchSampler, ChainDataset, ConcatDataset, Dataset,
                                  IterableDataset, RandomSampler, Sampler, SequentialSampler,
                                  StackDataset, Subset, SubsetRandomSampler, WeightedRandomSampler,
                                  default_convert, get_worker_info, random_split)


class Items(Dataset):
    """A torch-style map dataset: item i is i."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i


class Stream(IterableDataset):
    """A torch-style iterable dataset: 0, 1, ..., n - 1 (with a len() only if asked)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


class SizedStream(Stream):
    def __len__(self) -> int:
        return self.n


def as_lists(batches) -> list:
    return [b.tolist() if hasattr(b, "tolist") else b for b in batches]


# ------------------------------------------------------------------ samplers

@pytest.mark.parametrize("n", [0, 1, 7])
def test_sequential_sampler_is_range(n):
    sampler = SequentialSampler(range(n))
    assert list(sampler) == list(range(n)) and len(sampler) == n and isinstance(sampler, Sampler)


@pytest.mark.parametrize("n, batch_size, drop_last", list(itertools.product([0, 1, 6, 7], [1, 3, 8], [False, True])))
def test_batch_sampler_groups_in_order(n, batch_size, drop_last):
    expected = [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]
    if drop_last and expected and len(expected[-1]) < batch_size:
        expected.pop()
    sampler = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    assert list(sampler) == expected and len(sampler) == len(expected)
    assert list(BatchSampler(range(n), batch_size, drop_last)) == expected    # any iterable


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0, "drop_last": False}, "batch_size=0"),
    ({"batch_size": True, "drop_last": False}, "batch_size=True"),
    ({"batch_size": 2.0, "drop_last": False}, "batch_size=2.0"),
    ({"batch_size": 2, "drop_last": 1}, "drop_last=1"),
])
def test_batch_sampler_refusals(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        BatchSampler(range(4), **kwargs)


@pytest.mark.parametrize("n", [1, 2, 9])
def test_random_sampler_visits_every_index_once_per_epoch(n):
    sampler = RandomSampler(range(n), generator=tg.Generator(0))
    epochs = [list(sampler) for _ in range(6)]
    assert all(sorted(e) == list(range(n)) for e in epochs) and len(sampler) == n
    assert all(type(i) is int for i in epochs[0])
    if n == 9:
        assert len({tuple(e) for e in epochs}) > 1          # a fresh order each epoch


@pytest.mark.parametrize("n, num_samples", [(4, 10), (5, 3), (3, 6)])
def test_random_sampler_num_samples_without_replacement(n, num_samples):
    """More samples than items: whole permutations, then the start of one more (torch's rule)."""
    order = list(RandomSampler(range(n), num_samples=num_samples, generator=tg.Generator(1)))
    assert len(order) == num_samples
    for start in range(0, num_samples, n):
        block = order[start:start + n]
        assert len(set(block)) == len(block) and set(block) <= set(range(n))


def test_random_sampler_with_replacement():
    order = list(RandomSampler(range(5), replacement=True, num_samples=4000, generator=tg.Generator(2)))
    assert len(order) == 4000 and set(order) == set(range(5))
    counts = np.bincount(order, minlength=5)
    assert np.all(np.abs(counts - 800) < 5 * math.sqrt(4000 * 0.2 * 0.8))


def test_random_samplers_are_reproducible_with_a_seeded_generator():
    def orders(make):
        return [list(make()) for _ in range(2)]
    for make in (lambda g: RandomSampler(range(20), generator=g),
                 lambda g: RandomSampler(range(20), True, 30, generator=g),
                 lambda g: SubsetRandomSampler([3, 9, 4, 11, 0], generator=g),
                 lambda g: WeightedRandomSampler(np.arange(1.0, 6.0), 12, generator=g)):
        a, b = make(tg.Generator(7)), make(tg.Generator(7))
        assert [list(a) for _ in range(3)] == [list(b) for _ in range(3)]
        c = make(np.random.Generator(np.random.PCG64(7)))     # a NumPy generator is the same stream
        assert list(c) == list(make(tg.Generator(7)))
    tg.manual_seed(11)                       # generator=None: seeded from the default generator
    first = [list(RandomSampler(range(20))) for _ in range(2)]
    tg.manual_seed(11)
    assert [list(RandomSampler(range(20))) for _ in range(2)] == first and first[0] != first[1]


@pytest.mark.parametrize("make, error, message", [
    (lambda: RandomSampler(range(3), replacement=1), InputTypeError, "replacement=1"),
    (lambda: RandomSampler(range(3), num_samples=0), ConfigError, "num_samples=0"),
    (lambda: RandomSampler(range(0)), ConfigError, "num_samples=0"),
    (lambda: RandomSampler(range(3), num_samples=2.5), ConfigError, "num_samples=2.5"),
    (lambda: RandomSampler(range(3), generator=3), ConfigError, "generator must be .* got int"),
    (lambda: WeightedRandomSampler([1, 2], 0), ConfigError, "num_samples=0"),
    (lambda: WeightedRandomSampler([1, 2], 2, replacement=None), ConfigError, "replacement=None"),
    (lambda: WeightedRandomSampler([[1, 2]], 2), ConfigError, r"1d sequence .*\(1, 2\)"),
    (lambda: WeightedRandomSampler([1, -2], 2), ConfigError, r"finite and >= 0, got \[-2.0\]"),
    (lambda: WeightedRandomSampler([1, np.nan], 2), ConfigError, "finite"),
    (lambda: WeightedRandomSampler([0, 0], 2), ConfigError, "sum to 0"),
    (lambda: WeightedRandomSampler([1, 2], 3, replacement=False), ConfigError, "num_samples=3 without"),
])
def test_sampler_refusals(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_subset_random_sampler_permutes_its_indices():
    indices = [12, 3, 7, 7, 40]
    sampler = SubsetRandomSampler(indices, generator=tg.Generator(3))
    assert all(sorted(sampler) == sorted(indices) for _ in range(4)) and len(sampler) == 5


def test_weighted_sampler_frequencies():
    """With replacement, index i is drawn with probability w_i / sum(w): counts within 5 sigma
    of the binomial expectation (fixed seed); zero weights never."""
    weights = np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    n = 50_000
    order = list(WeightedRandomSampler(weights, n, generator=tg.Generator(0)))
    p = weights / weights.sum()
    counts = np.bincount(order, minlength=5)
    assert len(order) == n and counts[4] == 0
    assert np.all(np.abs(counts - n * p) <= 5 * np.sqrt(n * p * (1 - p)) + 1e-9)


def test_weighted_sampler_without_replacement():
    """Distinct indices; positive weights' indices all come before any zero-weight one (torch's
    multinomial does the same when num_samples exceeds the positive weights)."""
    for seed in range(5):
        order = list(WeightedRandomSampler([1, 0, 2, 5, 0], 4, replacement=False,
                                           generator=tg.Generator(seed)))
        assert len(set(order)) == 4 and sorted(order[:3]) == [0, 2, 3] and order[3] in (1, 4)
    heavy_first = [list(WeightedRandomSampler([1, 1000], 1, False, tg.Generator(s)))[0] for s in range(50)]
    assert heavy_first.count(1) >= 45


# ------------------------------------------------------------------ datasets

def test_subset_indexing():
    data = np.arange(100, 110)
    subset = Subset(data, [2, 4, 6, 8, 9])
    assert len(subset) == 5 and [subset[i] for i in range(5)] == [102, 104, 106, 108, 109]
    assert subset[-1] == 109 and subset[-5] == 102
    assert subset[[0, -1]].tolist() == [102, 109]          # a list goes to the dataset as one key
    for bad in (5, -6, 100):
        with pytest.raises(IndexOutOfRangeError, match=f"index {bad} is out of range for its 5 items"):
            subset[bad]
    with pytest.raises(IndexError):                        # an IndexError too: iteration stops
        subset[5]
    assert list(Subset(Items(10), range(3, 6))) == [3, 4, 5]


def test_concat_dataset_indexing():
    parts = [[0, 1, 2], [10, 11], [], [20, 21, 22, 23]]
    joined = ConcatDataset(parts)
    flat = sum(parts, [])
    assert len(joined) == 9 and joined.cumulative_sizes == [3, 5, 5, 9]
    assert [joined[i] for i in range(9)] == flat
    assert [joined[i] for i in range(-9, 0)] == flat       # negative: from the end
    for bad in (9, -10, 50):
        with pytest.raises(IndexOutOfRangeError, match=f"index {bad} is out of range for its 9 items"):
            joined[bad]
    with pytest.raises(InputTypeError, match="integer, got float"):
        joined[1.0]
    with pytest.raises(ConfigError, match="empty"):
        ConcatDataset([])
    with pytest.raises(InputTypeError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([[1], Stream(2)])


def test_stack_dataset():
    assert StackDataset([1, 2], "ab")[1] == (2, "b") and len(StackDataset([1, 2], "ab")) == 2
    assert StackDataset(x=[1, 2], y=[3, 4])[0] == {"x": 1, "y": 3}
    for make, message in ((lambda: StackDataset([1], y=[1]), "both"), (lambda: StackDataset(), "at least one"),
                          (lambda: StackDataset([1], [1, 2]), r"size mismatch .*\[1, 2\]")):
        with pytest.raises(ConfigError, match=message):
            make()


def test_iterable_and_chain_datasets():
    assert list(ChainDataset([Stream(2), Stream(3)])) == [0, 1, 0, 1, 2]
    assert list(Stream(2) + Stream(1)) == [0, 1, 0]
    assert len(ChainDataset([SizedStream(2), SizedStream(4)])) == 6
    with pytest.raises(InputTypeError, match="ChainDataset only supports IterableDataset, got list"):
        list(ChainDataset([[1, 2]]))
    with pytest.raises(NotImplementedError):
        iter(IterableDataset())


def torch_split_sizes(n: int, fractions: list[float]) -> list[int]:
    """torch.utils.data.random_split's documented rule: floor(n * f) each, then the remainder
    handed out one at a time, round-robin from the first split."""
    sizes = [math.floor(n * f) for f in fractions]
    for i in range(n - sum(sizes)):
        sizes[i % len(sizes)] += 1
    return sizes


@pytest.mark.parametrize("n", [1, 2, 3, 10, 11, 97])
@pytest.mark.parametrize("fractions", [[0.5, 0.5], [0.7, 0.2, 0.1], [1 / 3] * 3, [0.25] * 4, [1.0],
                                       [0.9, 0.1], [0.05, 0.15, 0.8]])
def test_random_split_fraction_sizes(n, fractions):
    with pytest.warns(UserWarning, match="Length of split") if 0 in torch_split_sizes(n, fractions) \
            else _no_warning():
        parts = random_split(range(n), fractions, generator=tg.Generator(0))
    assert [len(p) for p in parts] == torch_split_sizes(n, fractions)
    assert sorted(itertools.chain.from_iterable(parts)) == list(range(n))    # disjoint, covering


class _no_warning:
    def __enter__(self):
        import warnings
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def test_random_split_lengths_and_refusals():
    parts = random_split(Items(10), [3, 7], generator=tg.Generator(4))
    assert [len(p) for p in parts] == [3, 7] and all(isinstance(p, Subset) for p in parts)
    again = random_split(Items(10), [3, 7], generator=tg.Generator(4))
    assert [list(p) for p in parts] == [list(p) for p in again]
    assert sorted(list(parts[0]) + list(parts[1])) == list(range(10))
    for lengths, message in (([3, 8], r"sum of input lengths \(11\) does not equal .* \(10\)"),
                             ([0.5, 0.6], r"sum of input lengths"), ([1.5, -0.5], "index 0 .* between 0 and 1"),
                             ([-1, 11], "integers >= 0"), ([2.0, 8.0], r"integers >= 0 .*\[2.0, 8.0\]")):
        with pytest.raises(ConfigError, match=message):
            random_split(range(10), lengths)


def test_default_convert():
    point = collections.namedtuple("point", "x y")
    assert default_convert(3) == 3 and default_convert("s") == "s"
    t = default_convert(np.arange(3, dtype=np.int32))
    assert isinstance(t, tg.Tensor) and t.dtype == np.int32 and t.tolist() == [0, 1, 2]
    s = default_convert(np.float64(2.5))
    assert isinstance(s, tg.Tensor) and s.shape == () and s.dtype == np.float64
    pair = default_convert((np.arange(2), 1))
    assert isinstance(pair, list) and isinstance(pair[0], tg.Tensor) and pair[1] == 1
    d = default_convert({"a": np.ones(2, np.float32), "b": "x"})
    assert isinstance(d["a"], tg.Tensor) and d["b"] == "x"
    p = default_convert(point(np.int64(1), 2))
    assert isinstance(p, point) and isinstance(p.x, tg.Tensor) and p.y == 2
    strings = np.array(["a", "b"])
    assert default_convert(strings) is strings


# ------------------------------------------------------------------ DataLoader options

def test_loader_with_a_sampler():
    loader = DataLoader(Items(10), batch_size=2, drop_last=False, sampler=[9, 0, 3])
    assert as_lists(loader) == [[9, 0], [3]] and len(loader) == 2 and loader.shuffle is False
    loader = DataLoader(Items(10), batch_size=2, sampler=SequentialSampler(range(5)))
    assert as_lists(loader) == [[0, 1], [2, 3]] and len(loader) == 2      # drop_last: a GAN's default
    weighted = DataLoader(Items(4), 5, sampler=WeightedRandomSampler([0, 1, 0, 1], 20, generator=tg.Generator(0)))
    batches = as_lists(weighted)
    assert len(batches) == 4 and set(sum(batches, [])) == {1, 3}          # more samples than items


def test_loader_with_a_batch_sampler():
    batches = [[1, 2], [0], [9, 8, 7]]
    loader = DataLoader(Items(10), batch_sampler=batches)
    assert as_lists(loader) == batches and len(loader) == 3
    assert loader.batch_size is None and loader.drop_last is False
    loader = DataLoader(Items(10), batch_sampler=BatchSampler(range(10), 4, True), batch_size=1)
    assert as_lists(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_loader_without_auto_batching():
    loader = DataLoader(Items(4), batch_size=None, shuffle=False)
    assert list(loader) == [0, 1, 2, 3] and len(loader) == 4            # items, not collated
    arrays = DataLoader(list(np.arange(6.0).reshape(3, 2)), None, shuffle=False)
    first = next(iter(arrays))
    assert isinstance(first, tg.Tensor) and first.tolist() == [0.0, 1.0]   # default_convert
    shuffled = DataLoader(Items(9), None, generator=tg.Generator(1))
    assert sorted(shuffled) == list(range(9))


def test_loader_collate_fn():
    loader = DataLoader(Items(7), 3, shuffle=False, drop_last=False, collate_fn=lambda b: sum(b))
    assert list(loader) == [3, 12, 6]
    single = DataLoader(Items(3), None, shuffle=False, collate_fn=lambda x: -x)
    assert list(single) == [0, -1, -2]


def test_loader_fetches_through_getitems():
    class Batched(Items):
        def __getitems__(self, keys):
            return [100 + k for k in keys]
    assert as_lists(DataLoader(Batched(4), 2, shuffle=False)) == [[100, 101], [102, 103]]
    assert as_lists(DataLoader(Subset(Batched(10), [5, 6, 7]), 3, shuffle=False)) == [[105, 106, 107]]


@pytest.mark.parametrize("batch_size, drop_last, expected", [
    (3, False, [[0, 1, 2], [3, 4, 5], [6]]), (3, True, [[0, 1, 2], [3, 4, 5]]), (10, False, [[0, 1, 2, 3, 4, 5, 6]]),
])
def test_loader_over_an_iterable_dataset(batch_size, drop_last, expected):
    loader = DataLoader(SizedStream(7), batch_size, drop_last=drop_last)
    assert as_lists(loader) == expected and len(loader) == len(expected)
    assert as_lists(loader) == expected and loader.epoch == 2 and loader.sampler is None
    assert list(DataLoader(Stream(3), None)) == [0, 1, 2]


def test_loader_over_an_iterable_dataset_refusals():
    with pytest.raises(InputTypeError, match="Stream defines no __len__"):
        len(DataLoader(Stream(3), 2))
    with pytest.raises(TypeError):                          # what torch raises there
        len(DataLoader(Stream(3), 2))
    with pytest.raises(ConfigError, match="no resumable state"):
        DataLoader(Stream(3), 2).state_dict()


@pytest.mark.parametrize("dataset, kwargs, message", [
    (Items(8), {"sampler": [1, 2], "shuffle": True}, r"sampler option is mutually exclusive with shuffle .*shuffle=True"),
    (Items(8), {"batch_sampler": [[1]], "batch_size": 2}, r"batch_sampler option is mutually exclusive .*; got batch_size=2$"),
    (Items(8), {"batch_sampler": [[1]], "shuffle": True}, "got shuffle=True$"),
    (Items(8), {"batch_sampler": [[1]], "sampler": [1]}, "got sampler=<list>$"),
    (Items(8), {"batch_sampler": [[1]], "drop_last": True}, "got drop_last=True$"),
    (Items(8), {"batch_sampler": [[1]], "batch_size": 4, "drop_last": True}, "got batch_size=4, drop_last=True$"),
    (Items(8), {"batch_size": None, "drop_last": True}, "batch_size=None .* mutually exclusive with drop_last"),
    (Stream(3), {"shuffle": True}, "IterableDataset: expected unspecified shuffle option, but got shuffle=True"),
    (Stream(3), {"sampler": [0]}, "expected unspecified sampler option, but got sampler=<list>"),
    (Stream(3), {"batch_sampler": [[0]]}, "expected unspecified batch_sampler option"),
    (Items(8), {"timeout": -1}, "timeout option should be non-negative"),
    (Items(8), {"prefetch_factor": 2}, "prefetch_factor=2 .* num_workers > 0"),
    (Items(8), {"persistent_workers": True}, "persistent_workers=True option needs num_workers > 0"),
    (Items(8), {"collate_fn": None, "batch_size": 2, "generator": "seed"}, "generator must be .* got str"),
])
def test_loader_argument_conflicts(dataset, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        DataLoader(dataset, **kwargs)


def test_loader_options_that_torch_accepts():
    DataLoader(Items(8), batch_sampler=[[1]], shuffle=False, drop_last=False, batch_size=1)
    DataLoader(Items(8), 2, sampler=[1], shuffle=False, drop_last=False)
    DataLoader(Items(8), 2, num_workers=2, prefetch_factor=4, persistent_workers=True, timeout=5,
               worker_init_fn=lambda worker_id: None, pin_memory=True)
    loader = DataLoader(Items(8), 2)                        # the GAN defaults stay
    assert loader.shuffle and loader.drop_last and isinstance(loader.sampler, RandomSampler)
    assert isinstance(loader.batch_sampler, BatchSampler) and loader.batch_sampler.batch_size == 2
    assert isinstance(DataLoader(Items(8), 2, shuffle=False).sampler, SequentialSampler)
    assert DataLoader(Items(80)).batch_size == 64
    for shuffle in (True, False):
        with pytest.raises(ConfigError, match="the dataset is empty"):
            DataLoader(Items(0), 2, shuffle=shuffle)


def test_tensorgan_dataset_takes_no_collate_fn():
    images = tg.data.ArrayDataset(np.zeros((4, 1, 2, 2), np.uint8))
    for kwargs, message in (({"collate_fn": list}, "collate_fn="), ({"batch_size": None}, "batch_size=None")):
        with pytest.raises(ConfigError, match=f"{message} needs a map dataset's items"):
            DataLoader(images, **{"batch_size": 2, **kwargs})
    batches = list(DataLoader(images, 2, sampler=[3, 1, 0]))     # a sampler is fine
    assert len(batches) == 1 and batches[0][0].shape == (2, 1, 2, 2)


def test_loader_gives_the_shuffle_of_its_generator():
    """shuffle=True is a RandomSampler drawing from the loader's stream: generator= takes a
    tg.Generator, and every index comes once per epoch."""
    a = [as_lists(DataLoader(Items(10), 3, drop_last=False, generator=tg.Generator(5))) for _ in range(2)]
    assert a[0] == a[1] and sorted(sum(a[0], [])) == list(range(10))
    assert [len(b) for b in a[0]] == [3, 3, 3, 1]


@pytest.mark.parametrize("make", [
    lambda: DataLoader(Items(11), 3, sampler=WeightedRandomSampler(np.ones(11), 20, generator=tg.Generator(1))),
    lambda: DataLoader(Items(11), batch_sampler=[[1, 2], [3], [4, 5, 6], [0], [10, 9]]),
    lambda: DataLoader(Items(11), None, seed=3),
    lambda: DataLoader(Items(11), 4, drop_last=False, sampler=SubsetRandomSampler([1, 5, 7, 9, 10, 2, 0, 3, 4], tg.Generator(2))),
])
def test_resume_mid_epoch_with_samplers(make):
    """A state taken between batches, stored as JSON, repeats the rest of that epoch."""
    original = make()
    it = iter(original)
    next(it), next(it)
    state = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in original.state_dict().items()}
    rest = as_lists(it)
    resumed = make()
    resumed.load_state_dict(json.loads(json.dumps(state)))
    assert as_lists(resumed) == rest and rest


def test_resume_refuses_a_damaged_batch_sampler_state():
    loader = DataLoader(Items(5), batch_sampler=[[1, 2], [3]])
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    state["batch_ends"] = np.array([2, 9])
    with pytest.raises(Exception, match="batch_ends"):
        DataLoader(Items(5), batch_sampler=[[1, 2], [3]]).load_state_dict(state)


def test_get_worker_info_is_none_in_the_loading_process():
    seen = []

    class Sharded(Stream):
        def __iter__(self):
            seen.append(get_worker_info())
            return super().__iter__()
    assert get_worker_info() is None
    assert sorted(DataLoader(Sharded(5), None, num_workers=2)) == [0, 1, 2, 3, 4] and seen == [None]


def test_a_subset_of_a_tensorgan_dataset_is_batched_as_that_dataset():
    """random_split(mnist, ...) parts: images scaled to [-1, 1] with their labels, the rows the
    Subsets pick (nested Subsets compose, negative indices count from the end)."""
    images = (np.arange(10, dtype=np.uint8) * 20)[:, None, None, None].repeat(2, axis=2)
    data = tg.data.ArrayDataset(images, np.arange(10))
    train, val = random_split(data, [0.8, 0.2], generator=tg.Generator(0))
    seen = []
    for part in (train, val):
        for x, y in DataLoader(part, 2, shuffle=False):
            assert x.dtype == np.float32
            np.testing.assert_allclose(x[:, 0, 0, 0], images[y, 0, 0, 0] / 127.5 - 1, atol=1e-6)
            seen += y.tolist()
    assert sorted(seen) == list(range(10)) and seen[:8] == list(train.indices)
    nested = Subset(Subset(data, [9, 8, 7, -4]), [3, 1])
    (x, y), = DataLoader(nested, 2, shuffle=False)
    assert y.tolist() == [6, 8]
    with pytest.raises(IndexOutOfRangeError, match="out of range for the 10 images"):
        DataLoader(Subset(data, [0, 10]), 2)
