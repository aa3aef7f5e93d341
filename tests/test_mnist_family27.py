"""MNIST's format beyond MNIST: torchvision's EMNIST / QMNIST on tiny fake raw files, the eval
warning for runs trained on other data, and the conditional sample grid for many classes."""
from __future__ import annotations

import gzip
import lzma
from pathlib import Path

import numpy as np
import pytest

from tensorgan.data.idx import read_idx, write_idx
from tensorgan.errors import ConfigError, DataError
from tensorgan.vision.datasets import EMNIST, QMNIST


def _images(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 28, 28), dtype=np.uint8)


def _idx_int32(array: np.ndarray) -> bytes:
    """An IDX file of big-endian int32 (type 0x0C), QMNIST's label format."""
    header = bytes([0, 0, 0x0C, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=">i4").tobytes()


def _emnist(folder: Path, split: str, part: str, count: int, classes: int, first: int = 0,
            suffix: str = "") -> tuple[np.ndarray, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    images = _images(count, seed=count)
    labels = (np.arange(count) % classes + first).astype(np.uint8)
    write_idx(folder / f"emnist-{split}-{part}-images-idx3-ubyte{suffix}", images)
    write_idx(folder / f"emnist-{split}-{part}-labels-idx1-ubyte{suffix}", labels)
    return images, labels


def _qmnist(folder: Path, prefix: str, count: int, compress=None) -> tuple[np.ndarray, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    images = _images(count, seed=count + 1)
    targets = np.random.default_rng(count).integers(0, 2**20, (count, 8)).astype(np.int64)
    targets[:, 0] = np.arange(count) % 10
    files = {f"{prefix}-images-idx3-ubyte": _idx_bytes(images),
             f"{prefix}-labels-idx2-int": _idx_int32(targets)}
    for name, payload in files.items():
        if compress == "xz":
            (folder / f"{name}.xz").write_bytes(lzma.compress(payload))
        elif compress == "gz":
            (folder / f"{name}.gz").write_bytes(gzip.compress(payload))
        else:
            (folder / name).write_bytes(payload)
    return images, targets


def _idx_bytes(images: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, images.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in images.shape)
    return header + images.tobytes()


# -- EMNIST ---------------------------------------------------------------------------------------

def test_emnist_classes_per_split_are_torchvisions():
    lists = EMNIST.classes_split_dict
    assert len(lists["byclass"]) == 62 and lists["byclass"][:11] == list("0123456789A")
    assert len(lists["balanced"]) == 47 and lists["balanced"] == lists["bymerge"]
    assert lists["balanced"][36:] == list("abdefghnqrt")      # lowercase left after the merge
    assert lists["letters"][0] == "N/A" and lists["letters"][1:] == list("abcdefghijklmnopqrstuvwxyz")
    assert lists["digits"] == lists["mnist"] == list("0123456789")


def test_emnist_balanced_reads_its_raw_files_train_and_test(tmp_path):
    raw = tmp_path / "EMNIST" / "raw"
    train_images, train_labels = _emnist(raw, "balanced", "train", 50, 47)
    test_images, test_labels = _emnist(raw, "balanced", "test", 7, 47)
    train = EMNIST(str(tmp_path), split="balanced")
    test = EMNIST(str(tmp_path), "balanced", train=False, transform=np.asarray,
                  target_transform=lambda t: t + 100)
    assert len(train) == 50 and len(test) == 7 and len(train.classes) == 47
    assert train.data.dtype == "uint8" and tuple(train.data.shape) == (50, 28, 28)
    assert np.array_equal(train.targets.numpy(), train_labels.astype(np.int64))
    image, label = train[46]
    assert image.mode == "L" and np.array_equal(np.asarray(image), train_images[46])
    assert label == 46 and train.classes[label] == "t"
    pixels, target = test[-1]
    assert np.array_equal(pixels, test_images[6]) and target == int(test_labels[6]) + 100
    assert "Split: Test" in repr(test)


def test_emnist_letters_labels_start_at_one_and_gz_in_the_archives_gzip_folder(tmp_path):
    _, labels = _emnist(tmp_path / "EMNIST" / "raw" / "gzip", "letters", "train", 30, 26, first=1,
                        suffix=".gz")
    data = EMNIST(tmp_path, split="letters")
    assert data.targets.numpy().min() == 1 and data[25][1] == 26 and data.classes[26] == "z"


def test_emnist_refuses_a_label_out_of_its_splits_classes(tmp_path):
    _emnist(tmp_path / "EMNIST", "digits", "train", 12, 12)        # labels 10, 11 in a 10-class split
    with pytest.raises(DataError, match=r"label 10 \(item 10\) is out of range for 10 classes"):
        EMNIST(tmp_path, split="digits")


def test_emnist_not_there_says_where_to_get_the_files(tmp_path):
    _emnist(tmp_path / "EMNIST" / "raw", "byclass", "train", 5, 62)   # another split's files
    with pytest.raises(DataError) as info:
        EMNIST(str(tmp_path), split="balanced", download=True)
    message = str(info.value)
    assert "emnist-balanced-train-images-idx3-ubyte[.gz]" in message
    assert "emnist-balanced-train-labels-idx1-ubyte[.gz]" in message
    assert "EMNIST/gzip.zip" in message and str(tmp_path / "EMNIST" / "raw") in message


def test_emnist_split_is_checked_as_torchvision_does(tmp_path):
    with pytest.raises(ConfigError, match=r"Unknown value 'balance' for argument split. Valid values "
                                          r"are \{'byclass', 'bymerge', 'balanced', 'letters'"):
        EMNIST(tmp_path, split="balance")
    with pytest.raises(TypeError, match="Expected type str for argument split"):
        EMNIST(tmp_path, split=3)
    with pytest.raises(TypeError):
        EMNIST(tmp_path)                                   # split is required, as in torchvision


# -- QMNIST ---------------------------------------------------------------------------------------

def test_qmnist_train_compat_targets_and_full_rows(tmp_path):
    images, targets = _qmnist(tmp_path / "QMNIST" / "raw", "qmnist-train", 12, compress="gz")
    data = QMNIST(str(tmp_path))
    assert data.what == "train" and tuple(data.targets.shape) == (12, 8)
    assert str(data.targets.dtype).endswith("int64")
    assert np.array_equal(data.targets.numpy(), targets)
    image, label = data[5]
    assert np.array_equal(np.asarray(image), images[5]) and label == 5
    full = QMNIST(str(tmp_path), what="train", compat=False)
    _, row = full[5]
    assert np.array_equal(row.numpy(), targets[5]) and "Split: train" in repr(full)


def test_qmnist_test10k_test50k_slice_the_test_file(tmp_path):
    raw = tmp_path / "QMNIST" / "raw"
    raw.mkdir(parents=True)
    count = 10003                                   # the real file has 60000: 10k + 50k
    images = np.zeros((count, 28, 28), np.uint8)
    images[:, 0, :2] = np.stack([np.arange(count) % 256, np.arange(count) // 256], 1)
    targets = np.zeros((count, 8), np.int64)
    targets[:, 0], targets[:, 5] = np.arange(count) % 10, np.arange(count)
    (raw / "qmnist-test-images-idx3-ubyte").write_bytes(_idx_bytes(images))
    (raw / "qmnist-test-labels-idx2-int").write_bytes(_idx_int32(targets))
    assert len(QMNIST(tmp_path, train=False)) == count
    first, rest = QMNIST(tmp_path, what="test10k"), QMNIST(tmp_path, what="test50k", compat=False)
    assert len(first) == 10000 and len(rest) == 3
    assert int(rest[0][1][5]) == 10000 and np.array_equal(rest.data.numpy(), images[10000:])
    assert first[9999][1] == 9


def test_qmnist_nist_reads_xz_files(tmp_path):
    images, targets = _qmnist(tmp_path / "QMNIST", "xnist", 6, compress="xz")
    data = QMNIST(tmp_path, what="nist", compat=False)
    assert np.array_equal(data.data.numpy(), images) and np.array_equal(data.targets.numpy(), targets)


def test_qmnist_not_there_and_bad_what(tmp_path):
    with pytest.raises(DataError, match=r"QMNIST: the test50k set was not found .*"
                                        r"qmnist-test-labels-idx2-int\[\.gz\|\.xz\] from "
                                        r"https://github.com/facebookresearch/qmnist"):
        QMNIST(tmp_path, what="test50k")
    with pytest.raises(ConfigError, match="Unknown value 'valid' for argument what"):
        QMNIST(tmp_path, what="valid")


def test_read_idx_reads_int32_only_when_asked(tmp_path):
    path = tmp_path / "labels-idx2-int"
    rows = np.array([[3, -1, 70000], [9, 2**31 - 1, 0]])
    path.write_bytes(_idx_int32(rows))
    got = read_idx(path, types=(0x0C,))
    assert got.dtype == np.int32 and got.dtype.isnative and np.array_equal(got, rows)
    with pytest.raises(DataError, match=r"type code 0x0c \(int32\) is not supported; only 0x08"):
        read_idx(path)
    path.write_bytes(_idx_int32(rows)[:-2])
    with pytest.raises(DataError, match="truncated: shape"):
        read_idx(path, types=(0x0C,))


# -- eval of a run trained on other data ------------------------------------------------------------

@pytest.fixture
def no_mnist_config(monkeypatch, tmp_path):
    """No TENSORGAN_DATA and an empty cache, whatever the developer's machine has."""
    monkeypatch.delenv("TENSORGAN_DATA", raising=False)
    monkeypatch.setenv("TENSORGAN_CACHE", str(tmp_path / "cache"))


def _train_argv(tmp_path: Path, out: str, *extra: str) -> list[str]:
    return ["train", "--steps", "1", "--batch-size", "8", "--base-channels", "4", "--latent-dim", "8",
            "--out", str(tmp_path / out), "--no-progress", *extra]


def _fashion_like(folder: Path, count: int = 24) -> None:
    folder.mkdir(parents=True)
    write_idx(folder / "train-images-idx3-ubyte.gz", _images(count, seed=7))
    write_idx(folder / "train-labels-idx1-ubyte.gz", (np.arange(count) % 10).astype(np.uint8))


def _eval_json(checkpoint: Path, capsys) -> tuple[dict, list[str]]:
    import json

    from tensorgan.cli import main
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(checkpoint), "-n", "16", "--json"]) == 0
    captured = capsys.readouterr()      # (16 samples also warn that the FID is biased: not ours)
    return json.loads(captured.out), [line for line in captured.err.splitlines() if "trained" in line]


def test_eval_of_a_run_on_other_idx_data_warns_in_one_line_and_in_json(tmp_path, capsys, no_mnist_config):
    from tensorgan.cli import main
    data = tmp_path / "fashion"
    _fashion_like(data)
    assert main(_train_argv(tmp_path, "run", "--data-dir", str(data), "--no-verify")) == 0
    result, err = _eval_json(tmp_path / "run" / "checkpoint.npz", capsys)
    assert len(err) == 1 and err[0].startswith("tensorgan: warning: this run trained on the IDX files in ")
    assert ("not MNIST's 60,000 training or 10,000 test images: its FID and class shares are "
            "measured against MNIST's test set") in err[0]
    assert result["trained_on_mnist"] is False and result["warning"] in err[0]
    assert np.isfinite(result["fid"])                                    # scored all the same


def test_eval_of_a_run_on_a_28x28_gray_folder_warns(tmp_path, capsys, no_mnist_config):
    from PIL import Image

    from tensorgan.cli import main
    folder = tmp_path / "glyphs" / "a"
    folder.mkdir(parents=True)
    for i, image in enumerate(_images(8, seed=3)):
        Image.fromarray(image, "L").save(folder / f"{i}.png")
    argv = _train_argv(tmp_path, "run", "--dataset", f"folder:{folder.parent}", "--image-size", "28",
                       "--channels", "1")
    assert main(argv) == 0
    result, err = _eval_json(tmp_path / "run" / "checkpoint.npz", capsys)
    assert len(err) == 1 and f"this run trained on --dataset folder:{folder.parent}" in err[0]
    assert result["trained_on_mnist"] is False


def test_eval_of_a_run_on_mnist_says_nothing(tmp_path, capsys, no_mnist_config):
    from tensorgan.cli import main
    assert main(_train_argv(tmp_path, "run")) == 0           # the bundled MNIST test set
    result, err = _eval_json(tmp_path / "run" / "checkpoint.npz", capsys)
    assert err == [] and result["trained_on_mnist"] is True and "warning" not in result


def test_training_data_note_of_older_checkpoints():
    from tensorgan.evaluate_cli import training_data_note
    assert training_data_note({}) == (None, None)                        # no record: no claim
    assert training_data_note({"dataset": "mnist", "verify": True}) == (True, None)
    unknown, note = training_data_note({"dataset": "mnist", "verify": False, "data_dir": "/d"})
    assert unknown is None and "IDX files in /d, not checked to be MNIST (--no-verify)" in note
    assert training_data_note({"dataset": "folder:/x"})[0] is False


def test_eval_every_on_other_data_warns_once_and_marks_eval_jsonl(tmp_path, capsys, no_mnist_config):
    import json

    from tensorgan.cli import main
    data = tmp_path / "fashion"
    _fashion_like(data)
    argv = _train_argv(tmp_path, "run", "--data-dir", str(data), "--no-verify", "--eval-every", "1")
    assert main(argv) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warned) == 1 and "10,000 test images: its FID and class shares" in warned[0]
    entries = [json.loads(line) for line in (tmp_path / "run" / "eval.jsonl").read_text().splitlines()]
    assert entries and all(entry["trained_on_mnist"] is False for entry in entries)


# -- the conditional sample grid for many classes ---------------------------------------------------

def test_class_grid_layout_keeps_small_grids_and_wraps_many_classes():
    from tensorgan.train import class_grid_layout
    assert class_grid_layout(64, 10) == (6, 1)            # MNIST: 10 rows of 6, as before
    assert class_grid_layout(7, 3) == (2, 1)
    for classes in (20, 26, 27, 47, 62, 200):             # EMNIST's splits and beyond
        per_class, per_row = class_grid_layout(64, classes)
        rows, cols = -(-classes // per_row), per_class * per_row
        assert per_class >= 4 and 0.5 <= rows / cols <= 2, (classes, rows, cols)
    assert class_grid_layout(64, 47) == (4, 4)            # 12 rows of 16 images
    assert class_grid_layout(2, 47)[0] == 2               # no more noises than there are


def test_conditional_grid_for_47_classes_is_about_square(tmp_path):
    from PIL import Image

    from tensorgan.data import ArrayDataset
    from tensorgan.train import TrainConfig, Trainer
    images = _images(47, seed=2)[:, None, :8, :8]
    dataset = ArrayDataset(images, labels=np.arange(47), name="47 classes")
    config = TrainConfig(steps=1, batch_size=8, latent_dim=8, base_channels=4, num_samples=64,
                         seed=0, conditional=True)
    trainer = Trainer(dataset, tmp_path, config)
    noise, labels, nrow = trainer.sample_grid_inputs()
    assert nrow == 16 and len(noise) == 47 * 4
    assert np.array_equal(labels, np.repeat(np.arange(47), 4))
    for c in (0, 13, 46):                                 # every class, the same 4 noises
        assert np.array_equal(noise[4 * c:4 * c + 4], trainer.fixed_noise[:4])
    with Image.open(trainer.save_samples()) as grid:
        assert grid.size == (2 + 16 * 10, 2 + 12 * 10)    # 8x8 images, 2 px padding
