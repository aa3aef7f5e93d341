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
