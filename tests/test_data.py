"""Tests for tensorgan.data: IDX files, MNIST, image folders, DataLoader (with resume)."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from PIL import Image

from tensorgan.data import (ArrayDataset, DataLoader, Dataset, ImageFolder, download_mnist,
                            load_bundled_mnist, load_mnist, mnist_dataset, read_idx, write_idx)
from tensorgan.errors import CheckpointError, ConfigError, DataError

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"
BUNDLED = Path(__file__).resolve().parents[1] / "tensorgan" / "data"
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
ALL_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz") + TEST_FILES
needs_full_mnist = pytest.mark.skipif(
    not all((SHARED_MNIST / name).is_file() for name in ALL_FILES),
    reason=f"full MNIST not found at {SHARED_MNIST} (the developers' copy, ../shared from the repo)")
# Tiny inputs, but hypothesis' default 200 ms deadline doubles as a hang detector.
fast = settings(max_examples=60, deadline=2000,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Nothing in this module may reach the network (file:// URLs don't use sockets)."""
    def refuse(*args, **kwargs):
        raise AssertionError("tests must not use the network")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def no_config(monkeypatch, tmp_path):
    """No TENSORGAN_DATA and an empty cache, whatever the developer's machine has."""
    monkeypatch.delenv("TENSORGAN_DATA", raising=False)
    monkeypatch.setenv("TENSORGAN_CACHE", str(tmp_path / "cache"))
    return tmp_path


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def read_bytes(tmp_path: Path, data: bytes, name: str = "f.idx") -> np.ndarray:
    path = tmp_path / name
    path.write_bytes(data)
    return read_idx(path)


def read_or_data_error(tmp_path: Path, data: bytes) -> None:
    """The contract for any bytes: an array, or DataError naming the file. Nothing else."""
    try:
        result = read_bytes(tmp_path, data)
    except DataError as exc:
        assert "f.idx" in str(exc)
    else:
        assert result.dtype == np.uint8


SMALL = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)


# ------------------------------------------------------------------------------------------ IDX

@fast
@given(array=arrays(np.uint8, array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6)),
       suffix=st.sampled_from(["idx", "idx.gz"]))
def test_idx_round_trip(tmp_path, array, suffix):
    path = tmp_path / f"a.{suffix}"
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == suffix.endswith(".gz")
    back = read_idx(path)
    assert back.dtype == np.uint8 and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    np.testing.assert_array_equal(read_bytes(tmp_path, gzip.compress(idx_bytes(SMALL)), "a.idx"),
                                  SMALL)
    np.testing.assert_array_equal(read_bytes(tmp_path, idx_bytes(SMALL), "raw-but-named.gz"), SMALL)


@pytest.mark.parametrize("compress", [False, True])
def test_every_truncation_is_a_data_error(tmp_path, compress):
    data = idx_bytes(SMALL)
    data = gzip.compress(data, mtime=0) if compress else data
    for cut in range(len(data)):
        with pytest.raises(DataError, match="f.idx"):
            read_bytes(tmp_path, data[:cut])


def test_truncated_payload_says_expected_and_actual(tmp_path):
    with pytest.raises(DataError, match=r"truncated.*needs 24 bytes.*found 20"):
        read_bytes(tmp_path, idx_bytes(SMALL)[:-4])
    with pytest.raises(DataError, match=r"truncated.*needs 24 bytes.*found 20"):
        read_bytes(tmp_path, gzip.compress(idx_bytes(SMALL)[:-4]))


@pytest.mark.parametrize("compress", [False, True])
def test_trailing_bytes_are_an_error(tmp_path, compress):
    data = idx_bytes(SMALL) + b"\x00\x01"
    with pytest.raises(DataError, match=r"trailing bytes.*needs 24 bytes.*found 26"):
        read_bytes(tmp_path, gzip.compress(data) if compress else data)


@pytest.mark.parametrize("header, message", [
    (b"\x01\x00\x08\x01", "not an IDX file"),
    (b"\x00\x01\x08\x01", "not an IDX file"),
    (b"\x00\x00\x0d\x01", r"type code 0x0d \(float32\) is not supported"),
    (b"\x00\x00\x42\x01", r"type code 0x42 \(unknown\)"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x01", "truncated IDX header"),
])
def test_bad_headers(tmp_path, header, message):
    padding = bytes(0 if "truncated" in message else 64)
    for data in (header + padding, gzip.compress(header + padding)):
        with pytest.raises(DataError, match=message):
            read_bytes(tmp_path, data)


def test_wrong_counts_in_header(tmp_path):
    data = bytearray(idx_bytes(SMALL))
    data[7] = 5  # first dimension 2 -> 5: the file is now too short for its header
    with pytest.raises(DataError, match="needs 60 bytes"):
        read_bytes(tmp_path, bytes(data))


@pytest.mark.parametrize("compress", [False, True])
def test_absurd_declared_size_is_refused_before_allocating(tmp_path, compress):
    # 2**32-1 cubed bytes would be an exabyte-scale allocation: must be refused from the header.
    header = bytes([0, 0, 8, 3]) + b"\xff\xff\xff\xff" * 3
    data = gzip.compress(header + bytes(100)) if compress else header + bytes(100)
    with pytest.raises(DataError, match="f.idx"):
        read_bytes(tmp_path, data)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_idx(tmp_path / "nope.idx")
    with pytest.raises(DataError, match="is a directory"):
        read_idx(tmp_path)


def test_write_idx_rejects_other_dtypes(tmp_path):
    with pytest.raises(DataError, match="uint8"):
        write_idx(tmp_path / "x.idx", np.zeros(3, dtype=np.float32))


@fast
@given(data=st.binary(max_size=200))
def test_random_bytes_never_escape_as_other_errors(tmp_path, data):
    read_or_data_error(tmp_path, data)


@fast
@given(data=st.binary(max_size=200))
def test_garbage_gzip_is_a_data_error(tmp_path, data):
    with pytest.raises(DataError, match="f.idx"):
        read_bytes(tmp_path, b"\x1f\x8b\x08\x00" + data)


@fast
@given(compress=st.booleans(), position=st.integers(0, 10**6), value=st.integers(0, 255),
       cut=st.integers(0, 10**6) | st.none())
def test_mutated_valid_files(tmp_path, compress, position, value, cut):
    """Any byte of a valid file changed (and maybe cut): an array or a DataError, never else."""
    data = bytearray(gzip.compress(idx_bytes(SMALL)) if compress else idx_bytes(SMALL))
    data[position % len(data)] = value
    read_or_data_error(tmp_path, bytes(data if cut is None else data[:cut % len(data)]))


# ------------------------------------------------------------------------------------------ MNIST

def assert_mnist(dataset, n):
    assert isinstance(dataset, Dataset) and len(dataset) == n
    assert dataset.images.dtype == np.uint8 and dataset.images.shape == (n, 1, 28, 28)
    assert dataset.labels.dtype == np.int64 and dataset.labels.shape == (n,)
    assert set(np.unique(dataset.labels)) == set(range(10))
    assert dataset.image_shape == (1, 28, 28)


def test_bundled_mnist_loads():
    dataset = load_bundled_mnist()
    assert_mnist(dataset, 10000)
    assert dataset.source == "bundled" and dataset.split == "test"
    assert dataset.images.max() == 255 and dataset.images.min() == 0


def test_test_split_defaults_to_bundled(no_config):
    dataset = load_mnist("test")
    assert dataset.source == "bundled"
    assert_mnist(dataset, 10000)


def test_train_split_not_found_says_where_to_put_it(no_config):
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.*TENSORGAN_DATA"):
        load_mnist("train")


def test_bad_split_is_a_config_error():
    with pytest.raises(ConfigError, match="'train' or 'test'"):
        load_mnist("validation")


@needs_full_mnist
def test_full_mnist_from_shared_copy_with_sha256sums(no_config):
    assert (SHARED_MNIST / "SHA256SUMS").is_file()
    train = load_mnist("train", SHARED_MNIST)
    assert_mnist(train, 60000)
    assert train.source == str(SHARED_MNIST)
    assert train.labels[:5].tolist() == [5, 0, 4, 1, 9]  # the well-known first training labels
    test = load_mnist("test", SHARED_MNIST.parent)  # a "mnist/" sub-folder is searched too
    np.testing.assert_array_equal(test.images, load_bundled_mnist().images)


@needs_full_mnist
def test_env_var_and_trainer_choice(no_config, monkeypatch):
    monkeypatch.setenv("TENSORGAN_DATA", str(SHARED_MNIST))
    notices = []
    dataset = mnist_dataset(notice=notices.append)
    assert dataset.split == "train" and len(dataset) == 60000 and notices == []


def test_trainer_falls_back_to_bundled_with_one_notice(no_config):
    notices = []
    dataset = mnist_dataset(notice=notices.append)
    assert dataset.split == "test" and dataset.source == "bundled" and len(dataset) == 10000
    assert len(notices) == 1 and "\n" not in notices[0] and "bundled" in notices[0]


def test_configured_folder_without_files_is_an_error(no_config, monkeypatch):
    with pytest.raises(DataError, match=r"from data_dir.*no MNIST train files"):
        mnist_dataset(no_config)
    monkeypatch.setenv("TENSORGAN_DATA", str(no_config))
    with pytest.raises(DataError, match="from TENSORGAN_DATA"):
        load_mnist("test")


def test_cache_and_raw_files(no_config):
    cache = no_config / "cache" / "mnist"
    cache.mkdir(parents=True)
    for name in TEST_FILES:  # uncompressed copies: the content digests are checked
        (cache / name.removesuffix(".gz")).write_bytes(gzip.decompress((BUNDLED / name).read_bytes()))
    dataset = load_mnist("test")
    assert dataset.source == str(cache)
    np.testing.assert_array_equal(dataset.labels, load_bundled_mnist().labels)


def copy_test_files(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in TEST_FILES:
        shutil.copyfile(BUNDLED / name, folder / name)
    return folder


def test_tampered_file_fails_sha256(no_config):
    folder = copy_test_files(no_config / "data")
    labels = read_idx(folder / TEST_FILES[1]).copy()
    labels[0] = (labels[0] + 1) % 10
    write_idx(folder / TEST_FILES[1], labels)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: SHA-256 mismatch"):
        load_mnist("test", folder)
    assert load_mnist("test", folder, verify=False).labels[0] == labels[0]


def test_sha256sums_file_is_honoured(no_config):
    folder = copy_test_files(no_config / "data")
    (folder / "SHA256SUMS").write_text(f"{'0' * 64}  {TEST_FILES[0]}\n")
    with pytest.raises(DataError, match="SHA-256 mismatch with SHA256SUMS"):
        load_mnist("test", folder)
    (folder / "SHA256SUMS").write_text("not a checksum line\n")
    with pytest.raises(DataError, match="SHA256SUMS: line 1"):
        load_mnist("test", folder)


@pytest.mark.parametrize("images, labels, message", [
    (np.zeros((5, 28, 28), np.uint8), np.zeros(4, np.uint8), r"holds 5 images but .* holds 4"),
    (np.zeros((5, 784), np.uint8), np.zeros(5, np.uint8), "3 dimensions"),
])
def test_inconsistent_mnist_files(no_config, images, labels, message):
    folder = no_config / "data"
    folder.mkdir()
    write_idx(folder / "t10k-images-idx3-ubyte.gz", images)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(DataError, match=message):
        load_mnist("test", folder, verify=False)


def test_download_from_mirrors_verifies_and_is_atomic(no_config):
    good = copy_test_files(no_config / "good")
    bad = no_config / "bad"
    bad.mkdir()
    for name in TEST_FILES:
        (bad / name).write_bytes(b"not mnist")
    dest = no_config / "dest"
    result = download_mnist(dest, splits=["test"], mirrors=[bad.as_uri(), good.as_uri()])
    assert result == dest and sorted(p.name for p in dest.iterdir()) == sorted(TEST_FILES)
    assert load_mnist("test", dest).source == str(dest)


def test_download_failure_says_where_to_put_files(no_config):
    dest = no_config / "dest"
    with pytest.raises(DataError, match=rf"could not download .*put it in {dest}"):
        download_mnist(dest, splits=["test"], mirrors=[(no_config / "missing").as_uri()])
    assert list(dest.iterdir()) == []  # no partial files left behind


# ------------------------------------------------------------------------------------------ folders

def save(path: Path, array: np.ndarray, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kwargs)
    return path


def test_image_folder_mixed_files(tmp_path):
    rng = np.random.default_rng(0)
    save(tmp_path / "a.png", rng.integers(0, 256, (28, 28), dtype=np.uint8))
    save(tmp_path / "sub" / "b.JPG", rng.integers(0, 256, (40, 30, 3), dtype=np.uint8))
    save(tmp_path / "sub" / "deeper" / "c.jpeg", np.full((10, 50, 3), 200, np.uint8))
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = 255
    save(tmp_path / "d.png", rgba)
    Image.fromarray(np.zeros((28, 28), np.uint8)).convert("P").save(tmp_path / "e.png")
    save(tmp_path / "f.png", np.full((28, 28), 65535, np.uint16))  # 16-bit grayscale
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "._a.png").write_bytes(b"macOS resource fork")  # hidden: skipped
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "__MACOSX" / "a.png").write_bytes(b"resource fork from a zip")   # skipped too
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "thumb.png").write_bytes(b"a hidden folder's file")   # skipped too
    for channels in (1, 3):
        folder = ImageFolder(tmp_path, (channels, 16, 16))
        assert isinstance(folder, Dataset) and folder.labels is None
        assert folder.images.shape == (6, channels, 16, 16) and folder.images.dtype == np.uint8
        assert [f.name for f in folder.files] == ["a.png", "d.png", "e.png", "f.png", "b.JPG",
                                                  "c.jpeg"]
        assert folder.images[3].min() == 255  # 16-bit white stays white
        assert abs(int(folder.images[5].mean()) - 200) <= 2  # JPEG of a flat colour, resized


def test_image_folder_center_crops_then_resizes(tmp_path):
    wide = np.zeros((20, 60), np.uint8)
    wide[:, 20:40] = 255  # a white centre square between black side bands
    save(tmp_path / "wide.png", wide)
    np.testing.assert_array_equal(ImageFolder(tmp_path, (1, 10, 10)).images, 255)


def test_image_folder_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        ImageFolder(tmp_path / "missing")
    with pytest.raises(DataError, match="no PNG or JPEG"):
        ImageFolder(tmp_path)
    save(tmp_path / "ok.png", np.zeros((28, 28), np.uint8))
    with pytest.raises(DataError, match="not a folder"):
        ImageFolder(tmp_path / "ok.png")
    with pytest.raises(ConfigError, match="image_shape"):
        ImageFolder(tmp_path, (2, 28, 28))
    good = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "truncated.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="truncated.png: cannot read image"):
        ImageFolder(tmp_path)
    (tmp_path / "truncated.png").unlink()
    (tmp_path / "garbage.jpg").write_bytes(b"\xff\xd8 definitely not a jpeg")
    with pytest.raises(DataError, match="garbage.jpg: cannot read image"):
        ImageFolder(tmp_path)


def test_image_folder_strict_size(tmp_path):
    save(tmp_path / "a.png", np.zeros((28, 28), np.uint8))
    save(tmp_path / "odd.png", np.zeros((30, 32), np.uint8))
    with pytest.raises(DataError, match=r"odd.png: image is 32x30 .* asks for 28x28"):
        ImageFolder(tmp_path, (1, 28, 28), strict_size=True)
    assert len(ImageFolder(tmp_path, (1, 28, 28))) == 2


# ------------------------------------------------------------------------------------------ loader

def indexed(n: int, labelled: bool = True) -> ArrayDataset:
    """A dataset whose labels are the item indices, so batches show which items they hold."""
    images = (np.arange(n, dtype=np.int64) % 256).astype(np.uint8)[:, None, None, None]
    return ArrayDataset(np.broadcast_to(images, (n, 1, 2, 2)).copy(),
                        np.arange(n) if labelled else None, name="indexed")


def take(loader: DataLoader, count: int) -> list:
    """The next ``count`` batches, crossing epoch boundaries as a training loop does."""
    batches = []
    while len(batches) < count:
        for batch in loader:
            batches.append(batch)
            if len(batches) == count:
                break
    return batches


def test_loader_scaling_and_shapes():
    data = ArrayDataset(np.array([0, 255, 128, 1], np.uint8).reshape(4, 1, 1, 1), None)
    (images, labels), = list(DataLoader(data, batch_size=4, shuffle=False))
    assert images.dtype == np.float32 and labels is None
    assert images.ravel().tolist() == [-1.0, 1.0, np.float32(128) / np.float32(127.5) - 1,
                                       np.float32(1) / np.float32(127.5) - 1]


def test_loader_epochs_are_seeded_permutations():
    a, b = DataLoader(indexed(50), 10, seed=1), DataLoader(indexed(50), 10, seed=1)
    for _ in range(2):
        first, second = [l for _, l in a], [l for _, l in b]
        assert all(np.array_equal(x, y) for x, y in zip(first, second))
        assert sorted(np.concatenate(first).tolist()) == list(range(50))
    assert a.epoch == 2
    epochs = [np.concatenate([l for _, l in a]) for _ in range(2)]
    assert not np.array_equal(*epochs)  # a new permutation each epoch
    other = np.concatenate([l for _, l in DataLoader(indexed(50), 10, seed=2)])
    assert not np.array_equal(other, epochs[0])
    plain = np.concatenate([l for _, l in DataLoader(indexed(50), 10, shuffle=False)])
    assert plain.tolist() == list(range(50))


def test_drop_last():
    assert [len(l) for _, l in DataLoader(indexed(10), 4, seed=0)] == [4, 4]
    assert len(DataLoader(indexed(10), 4)) == 2
    loader = DataLoader(indexed(10), 4, drop_last=False, seed=0)
    assert len(loader) == 3 and [len(l) for _, l in loader] == [4, 4, 2]
    assert [len(l) for _, l in DataLoader(indexed(3), 8, drop_last=False)] == [3]


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "integer >= 1"), ({"batch_size": -2}, "integer >= 1"),
    ({"batch_size": 2.5}, "integer >= 1"), ({"batch_size": True}, "integer >= 1"),
    ({"batch_size": 11}, r"larger than the dataset \(10 items\).*drop_last"),
    ({"seed": -1}, "non-negative"), ({"seed": 1, "generator": np.random.default_rng()}, "not both"),
])
def test_loader_validation(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        DataLoader(indexed(10), **{"batch_size": 2, **kwargs})


def as_npz_and_json(state: dict, tmp_path: Path) -> dict:
    """Store a state the way a checkpoint would: arrays in an npz (no pickle), the rest JSON."""
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    scalars = json.dumps({k: v for k, v in state.items() if k not in arrays})
    np.savez(tmp_path / "state.npz", **arrays)
    with np.load(tmp_path / "state.npz", allow_pickle=False) as stored:
        return {**json.loads(scalars), **{k: stored[k] for k in stored.files}}


@fast
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(),
       shuffle=st.booleans(), consumed=st.integers(0, 25), labelled=st.booleans(),
       mt19937=st.booleans())
def test_resume_mid_epoch_repeats_the_same_batches(tmp_path, n, batch_size, drop_last, shuffle,
                                                   consumed, labelled, mt19937):
    if drop_last and batch_size > n:
        batch_size = n

    def make(seed):
        bits = np.random.MT19937(seed) if mt19937 else np.random.PCG64(seed)
        return DataLoader(indexed(n, labelled), batch_size, shuffle, drop_last,
                          generator=np.random.Generator(bits))

    original = make(7)
    take(original, consumed)
    state = as_npz_and_json(original.state_dict(), tmp_path)
    expected = take(original, 12)
    resumed = make(99)  # a different seed: everything must come from the state
    resumed.load_state_dict(state)
    assert resumed.epoch == state["epoch"]
    for (xi, xl), (yi, yl) in zip(expected, take(resumed, 12), strict=True):
        np.testing.assert_array_equal(xi, yi)
        assert (xl is None and yl is None) or np.array_equal(xl, yl)


def test_load_state_dict_mismatches():
    state = DataLoader(indexed(10), 2, seed=0).state_dict()
    with pytest.raises(CheckpointError, match="dataset of 10 items, this loader's has 12"):
        DataLoader(indexed(12), 2).load_state_dict(state)
    with pytest.raises(CheckpointError, match="batch_size=2"):
        DataLoader(indexed(10), 3).load_state_dict(state)
    with pytest.raises(CheckpointError, match="malformed"):
        DataLoader(indexed(10), 2).load_state_dict({"epoch": 1})


# -- the data audit's cases --------------------------------------------------------------------
class ProtocolDataset:
    """A Dataset by protocol (images, labels, len), not an ArrayDataset: the loader checks it."""
    name = "custom"

    def __init__(self, images, labels=None, length=None):
        self.images, self.labels, self.length = images, labels, length

    def __len__(self):
        return len(self.images) if self.length is None else self.length


@pytest.mark.parametrize("dataset, message", [
    (ProtocolDataset(np.zeros((4, 1, 2, 2), np.float32)), "of shape \\(N, C, H, W\\), got float32"),
    (ProtocolDataset(np.zeros((4, 2, 2), np.uint8)), "of shape \\(N, C, H, W\\), got uint8 \\(4, 2, 2\\)"),
    (ProtocolDataset(np.zeros((4, 1, 2, 2), np.uint8), labels=np.zeros(3, np.int64)),
     "4 images but labels of shape \\(3,\\)"),
    (ProtocolDataset(np.zeros((4, 1, 2, 2), np.uint8), labels=np.zeros(4, np.float32)),
     "labels must be integers"),
    (ProtocolDataset(np.zeros((4, 1, 2, 2), np.uint8), length=6), "len\\(\\) says 6 but it holds 4"),
])
def test_loader_checks_a_protocol_dataset(dataset, message):
    # The same contract ArrayDataset checks (one function), named after the dataset.
    with pytest.raises(DataError, match=f"custom: .*{message}"):
        DataLoader(dataset, 2)


@pytest.mark.parametrize("order", [np.zeros(10), np.full(10, 99), np.arange(10)[::-1].copy()])
def test_a_damaged_order_in_a_state_is_refused(order):
    ds = ArrayDataset(np.zeros((10, 1, 2, 2), np.uint8))
    shuffled = DataLoader(ds, 3, seed=0)
    next(iter(shuffled))
    state = shuffled.state_dict()
    if order[0] == 9:       # a permutation: fine when shuffling, damaged for an in-order loader
        DataLoader(ds, 3, seed=1).load_state_dict({**state, "order": order})
        in_order = DataLoader(ds, 3, shuffle=False)
        next(iter(in_order))
        with pytest.raises(CheckpointError, match="identity order"):
            in_order.load_state_dict({**in_order.state_dict(), "order": order})
        return
    with pytest.raises(CheckpointError, match="not a permutation"):
        DataLoader(ds, 3, seed=1).load_state_dict({**state, "order": order})


def test_loader_follows_a_reseeded_tensorgan_generator():
    import tensorgan as tg
    ds = ArrayDataset(np.arange(40, dtype=np.uint8).reshape(10, 1, 2, 2))
    g = tg.Generator(0)
    loader = DataLoader(ds, 10, generator=g)
    g.manual_seed(123)                                    # after the loader was made, as in torch
    expected = next(iter(DataLoader(ds, 10, generator=tg.Generator(123))))[0]
    np.testing.assert_array_equal(next(iter(loader))[0], expected)


def test_two_live_iterations_of_one_loader():
    ds = ArrayDataset(np.zeros((10, 1, 2, 2), np.uint8))
    loader = DataLoader(ds, 3, seed=0)
    outer = inner = 0
    for _ in loader:               # torch allows nested passes; the newest one owns the position
        outer += 1
        inner += sum(1 for _ in loader)
    assert outer == 3 and inner == 2 + 3 + 3 and loader.epoch == 3   # the first inner resumed
    loader = DataLoader(ds, 3, seed=0)
    assert len(list(zip(loader, loader))) == 3        # two passes, as torch's zip(loader, loader)
    loader = DataLoader(ds, 3, seed=0)
    first = iter(loader)
    next(first)                                           # abandoned mid-epoch, as fit() may
    assert len(list(loader)) == 2 and loader.epoch == 1   # the rest of the epoch, then on
    assert len(list(loader)) == 3 and loader.epoch == 2


def test_lookup_errors_say_what_is_wrong(no_config):
    with pytest.raises(DataError, match="does not exist"):
        load_mnist("test", no_config / "nowhere")
    afile = no_config / "t10k-images-idx3-ubyte.gz"
    afile.write_bytes(b"x")
    with pytest.raises(DataError, match="is a file, not a folder"):
        load_mnist("test", afile)
    folder = no_config / "odd"
    (folder / "t10k-images-idx3-ubyte.gz").mkdir(parents=True)
    shutil.copy(BUNDLED / TEST_FILES[1], folder / TEST_FILES[1])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz is not a regular file"):
        load_mnist("test", folder)


def test_a_corrupt_bundled_set_says_reinstall(monkeypatch):
    from tensorgan.data import mnist as mnist_module

    def corrupt(path, sums, verify):
        raise DataError(f"{path}: SHA-256 mismatch")

    monkeypatch.setattr(mnist_module, "_read_checked", corrupt)
    with pytest.raises(DataError, match="bundled MNIST test set .* is corrupt.*reinstall tensorgan"):
        load_bundled_mnist()


def test_other_data_in_mnists_files_loads_with_verify_off(no_config):
    folder = no_config / "fashion"
    folder.mkdir()
    rng = np.random.default_rng(0)
    write_idx(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (20, 28, 28), dtype=np.uint8))
    write_idx(folder / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, 20, dtype=np.uint8))
    with pytest.raises(DataError, match="--no-verify"):
        mnist_dataset(folder)
    assert len(mnist_dataset(folder, verify=False)) == 20


def test_idx_empty_shape_numpy_cannot_lay_out_is_a_data_error(tmp_path):
    """A zero dimension beside huge ones is 0 bytes of data but a shape NumPy refuses ("array is
    too big"): the reader says the header is corrupt instead of leaking NumPy's ValueError."""
    dims = [0, 2**20, 2**20, 2**23]
    header = bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    with pytest.raises(DataError, match=r"f\.idx.*cannot lay out.*corrupt"):
        read_bytes(tmp_path, header)
