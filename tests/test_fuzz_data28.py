"""Differential fuzzing of the data pipeline against torch.utils.data (session 28): the cases
where tensorgan's DataLoader / samplers / collate / datasets differed from torch's -- empty
epochs, error types -- each with expectations built by hand."""

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import (CollateError, CollateTypeError, ConfigError, DataError)
from tensorgan.utils.data import DataLoader, default_collate, default_convert


class Items:
    """A map dataset of ``n`` ints (0..n-1)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


# ---------------------------------------------------------------- epochs without a batch

@pytest.mark.parametrize("n, kwargs", [
    (0, {}), (0, {"batch_size": 4}), (0, {"batch_size": None}), (0, {"batch_size": 2, "drop_last": True}),
    (3, {"batch_size": 4, "drop_last": True}), (0, {"sampler": []}), (0, {"batch_sampler": []}),
    (3, {"batch_size": 4, "drop_last": True, "shuffle": True, "generator": tg.Generator(0)}),
])
def test_torch_path_loader_yields_no_batch_where_torch_does(n, kwargs):
    loader = DataLoader(Items(n), **kwargs)
    assert len(loader) == 0 and list(loader) == [] and list(loader) == []


def test_torch_path_loader_still_refuses_shuffling_nothing():
    with pytest.raises(ValueError, match="the dataset is empty"):
        DataLoader(Items(0), shuffle=True)


def test_gan_loader_still_refuses_epochs_without_a_batch():
    with pytest.raises(ConfigError, match="the dataset is empty"):
        tg.data.DataLoader(Items(0), 2, shuffle=False)
    with pytest.raises(ConfigError, match="drop_last=True would leave no batch"):
        tg.data.DataLoader(Items(3), 4)


def test_torch_path_loader_resumes_after_an_empty_epoch():
    loader = DataLoader(Items(0), 2)
    assert list(loader) == []
    again = DataLoader(Items(0), 2)
    again.load_state_dict(loader.state_dict())
    assert list(again) == []


# ---------------------------------------------------------------- default_collate

def test_collate_of_unequal_items_is_a_runtime_error():
    with pytest.raises(CollateError, match=r"different shapes \(\[\(2,\), \(3,\)\]\)") as caught:
        default_collate([np.zeros(2), np.zeros(3)])
    assert isinstance(caught.value, RuntimeError) and isinstance(caught.value, DataError)
    with pytest.raises(RuntimeError, match=r"different lengths \(\[1, 2\]\)"):
        default_collate([(1, 2), (1,)])


@pytest.mark.parametrize("items, kind", [
    ([None, None], "NoneType"), ([object()], "object"),
    ([np.array(["a"]), np.array(["b"])], "dtype <U1"), ([np.array([None])], "dtype object"),
])
def test_collate_of_what_it_cannot_batch_is_a_type_error(items, kind):
    with pytest.raises(CollateTypeError, match=kind) as caught:
        default_collate(items)
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, DataError)


def test_collate_and_convert_make_complex_arrays_tensors():
    arrays = [np.array([1 + 2j, 3j], np.complex64), np.array([0j, -1j], np.complex64)]
    batch = default_collate(arrays)
    assert isinstance(batch, tg.Tensor) and batch.dtype == tg.complex64 and batch.shape == (2, 2)
    assert np.array_equal(batch.numpy(), np.stack(arrays))
    one = default_convert({"z": np.complex128(2j)})["z"]
    assert isinstance(one, tg.Tensor) and one.dtype == tg.complex128 and one.item() == 2j
    assert isinstance(default_convert(np.array(["a"])), np.ndarray)     # strings stay arrays


# ---------------------------------------------------------------- samplers and datasets

@pytest.mark.parametrize("replacement", [False, True])
def test_random_sampler_over_nothing_says_so(replacement):
    from tensorgan.errors import EmptySamplerSourceError
    sampler = tg.utils.data.RandomSampler([], replacement=replacement, num_samples=3)
    assert len(sampler) == 3
    with pytest.raises(EmptySamplerSourceError, match="data_source is empty.*num_samples=3") as caught:
        list(sampler)
    assert isinstance(caught.value, RuntimeError) and isinstance(caught.value, ZeroDivisionError)


def test_tensor_dataset_size_errors_are_torchs_types():
    from tensorgan.errors import ShapeError
    with pytest.raises(ShapeError, match=r"first dims differ: \[\(2,\), \(3,\)\]") as caught:
        tg.utils.data.TensorDataset(np.zeros(2), np.zeros(3))
    assert isinstance(caught.value, AssertionError)
    with pytest.raises(IndexError, match="0-d tensor has no first dim"):
        tg.utils.data.TensorDataset(tg.tensor(1.0))


def test_combinator_refusals_are_assertion_errors_too():
    from tensorgan.errors import InputTypeError
    with pytest.raises(ConfigError, match="should not be an empty iterable") as caught:
        tg.utils.data.ConcatDataset([])
    assert isinstance(caught.value, AssertionError)
    with pytest.raises(InputTypeError, match="only supports IterableDataset, got list") as caught:
        list(tg.utils.data.ChainDataset([[1, 2]]))
    assert isinstance(caught.value, AssertionError)


def test_adding_datasets_concatenates_them():
    data = tg.utils.data
    pairs = data.TensorDataset(np.arange(3), np.arange(3) * 10)
    joined = pairs + data.Subset(data.TensorDataset(np.arange(5), np.arange(5) * 10), [4, 0])
    assert isinstance(joined, data.ConcatDataset) and len(joined) == 5
    assert [int(joined[i][1]) for i in range(-5, 5)] == [0, 10, 20, 40, 0] * 2
    stacked = data.StackDataset([1, 2], "ab") + data.ConcatDataset([[(3, "c")]])
    assert [stacked[i] for i in range(3)] == [(1, "a"), (2, "b"), (3, "c")]
    images = data.ArrayDataset(np.arange(8, dtype=np.uint8).reshape(2, 1, 2, 2))
    both = images + images
    assert len(both) == 4 and np.array_equal(both[3], images[1])


def test_random_split_lengths_of_the_wrong_kind_are_type_errors():
    with pytest.raises(ConfigError, match=r"integers >= 0 or fractions summing to 1, got \[5.0, 5.0\]") as caught:
        tg.utils.data.random_split(range(10), [5.0, 5.0])
    assert isinstance(caught.value, TypeError)
    with pytest.raises(ConfigError, match=">= 0"):
        tg.utils.data.random_split(range(10), [11, -1])


@pytest.mark.parametrize("n, fractions, sizes", [
    (10, [0.33, 0.33, 0.34], [4, 3, 3]), (7, [0.1, 0.2, 0.7], [1, 2, 4]),
    (11, [0.25] * 4, [3, 3, 3, 2]), (3, [0.5, 0.5], [2, 1]), (10, [1.0], [10]),
])
def test_random_split_fractions_follow_torchs_rounding(n, fractions, sizes):
    """floor(n * f) each, then the remainder one by one from the first split on."""
    parts = tg.utils.data.random_split(range(n), fractions, generator=tg.Generator(0))
    assert [len(p) for p in parts] == sizes
    assert sorted(i for p in parts for i in p.indices) == list(range(n))


@pytest.mark.parametrize("items, dtype", [
    ([1, 2.5], "float32"), ([True, 2.5], "float32"), ([np.int64(1), 2.5], "float32"),
    ([1, 1j], "complex64"), ([1, np.float64(2.5)], "float64"), ([2.5, 1], "float64"),
    ([True, 2], "int64"), ([np.int16(1), 2], "int64"), ([np.uint8(1), np.int8(1)], "int16"),
])
def test_collate_of_ints_with_python_floats_takes_the_default_dtype(items, dtype):
    """Led by an int, Python floats among them make torch.tensor(items)'s default float dtype;
    led by a float, float64; NumPy scalars keep their own dtypes."""
    batch = default_collate(items)
    assert batch.dtype == getattr(tg, dtype) and np.array_equal(batch.numpy(), np.array(items, dtype))


def test_collate_of_ints_with_floats_follows_set_default_dtype():
    tg.set_default_dtype(tg.float64)
    try:
        assert default_collate([1, 2.5]).dtype == tg.float64
        assert default_collate([1, 1j]).dtype == tg.complex128
    finally:
        tg.set_default_dtype(tg.float32)


def test_a_dataset_subclass_adds_as_torchs():
    class Letters(tg.utils.data.Dataset):
        def __init__(self, text: str) -> None:
            self.text = text

        def __len__(self) -> int:
            return len(self.text)

        def __getitem__(self, i: int) -> str:
            return self.text[i]

    class OwnAdd(Letters):
        def __add__(self, other):
            return "its own"

    joined = Letters("ab") + Letters("c")
    assert isinstance(joined, tg.utils.data.ConcatDataset) and [joined[i] for i in range(3)] == list("abc")
    assert OwnAdd("x") + Letters("y") == "its own"
    images = tg.data.ArrayDataset(np.zeros((1, 1, 2, 2), np.uint8))
    assert isinstance(images, tg.data.Dataset) and not isinstance(object(), tg.data.Dataset)
