"""Acceptance review of issue 4 (the GAN end to end), session 27: fixes found while using the
library as a user would."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.data import (ArrayDataset, ConcatDataset, DataLoader, ImageFolder,
                            load_bundled_mnist, random_split)
from tensorgan.errors import IndexOutOfRangeError


def _labelled(n: int = 4) -> ArrayDataset:
    return ArrayDataset(np.arange(n * 4, dtype=np.uint8).reshape(n, 1, 2, 2), np.arange(n) + 3)


def test_array_dataset_item_is_image_and_int_label_as_torchvision():
    data = _labelled()
    image, label = data[1]
    assert image.dtype == np.uint8 and image.shape == (1, 2, 2)
    assert np.array_equal(image, data.images[1]) and label == 4 and type(label) is int
    assert data[-1][1] == 6                                  # negative indices count from the end
    assert data[np.int64(2)][1] == 5
    images, labels = data[1:3]                               # a slice: the arrays' rows
    assert images.shape == (2, 1, 2, 2) and labels.tolist() == [4, 5]
    assert data[[0, 3]][1].tolist() == [3, 6]


def test_array_dataset_item_out_of_range_is_an_index_error_naming_the_count():
    with pytest.raises(IndexOutOfRangeError, match="index 4 is out of range for its 4 images"):
        _labelled()[4]
    with pytest.raises(IndexError):
        _labelled()[-5]
    assert len(list(_labelled())) == 4                       # iteration stops at the end


def test_unlabelled_dataset_item_is_the_image_alone(tmp_path):
    from PIL import Image
    Image.fromarray(np.full((5, 7, 3), 9, np.uint8)).save(tmp_path / "a.png")
    folder = ImageFolder(tmp_path, (3, 8, 8))
    item = folder[0]
    assert isinstance(item, np.ndarray) and item.shape == (3, 8, 8) and item.dtype == np.uint8


def test_random_split_of_mnist_gives_items():
    mnist = load_bundled_mnist()
    train, _ = random_split(mnist, [0.9, 0.1], generator=tg.Generator(0))
    image, label = train[3]
    row = train.indices[3]
    assert np.array_equal(image, mnist.images[row]) and label == int(mnist.labels[row])


def test_concat_of_datasets_batches_their_items_unscaled_and_the_loader_still_scales_one():
    a, b = _labelled(), ArrayDataset(np.full((2, 1, 2, 2), 200, np.uint8), np.array([7, 8]))
    joined = ConcatDataset([a, b])
    assert len(joined) == 6 and joined[5][1] == 8
    images, labels = next(iter(DataLoader(joined, 3, shuffle=False)))
    assert images.dtype == np.uint8 and tuple(images.shape) == (3, 1, 2, 2)   # torch's collate
    assert labels.tolist() == [3, 4, 5]
    scaled, _ = next(iter(DataLoader(b, 2, shuffle=False)))    # a tensorgan dataset: [-1, 1]
    assert scaled.dtype == np.float32 and np.allclose(scaled, 200 / 127.5 - 1)


@pytest.mark.parametrize("extra, needle", [
    (["--data-dir", "{mnist}"], "--data-dir applies to --dataset mnist"),
    (["--no-verify"], "--no-verify applies to --dataset mnist"),
    (["--data-dir", "{mnist}", "--no-verify"], "--data-dir and --no-verify apply to --dataset mnist"),
])
def test_train_refuses_mnist_options_with_a_folder_dataset(tmp_path, capsys, extra, needle):
    """They were silently ignored; now refused as --image-size is with MNIST (exit status 2)."""
    from tensorgan.cli import main
    argv = ["train", "--dataset", f"folder:{tmp_path}", "--steps", "1", "--out", str(tmp_path / "r"),
            "--no-progress", *(a.format(mnist=tmp_path) for a in extra)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and f"folder:{tmp_path}" in err[0]
    assert not (tmp_path / "r").exists()


def test_train_refuses_strict_size_with_mnist(tmp_path, capsys):
    from tensorgan.cli import main
    assert main(["train", "--strict-size", "--steps", "1", "--out", str(tmp_path / "r"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--strict-size applies to --dataset folder:PATH" in err[0]
