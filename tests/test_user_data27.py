"""Datasets a user brings (session 27): MNIST-format IDX files that are not MNIST (Fashion-, K-,
EMNIST-like, with and without a SHA256SUMS file) and image folders of every common PNG mode, JPEG,
BMP and WebP, loaded through tensorgan.data and the train / sample / eval commands. Every image
is compared with what Pillow / NumPy read from the same file."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tensorgan.cli import main
from tensorgan.data import ImageFolder, load_mnist, mnist_dataset
from tensorgan.errors import DataError


@pytest.fixture(autouse=True)
def no_config(monkeypatch, tmp_path):
    """No TENSORGAN_DATA and an empty cache, whatever the developer's machine has."""
    monkeypatch.delenv("TENSORGAN_DATA", raising=False)
    monkeypatch.setenv("TENSORGAN_CACHE", str(tmp_path / "cache"))


def _write_idx_gz(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + np.ascontiguousarray(array, np.uint8).tobytes())


def _idx_set(folder: Path, count: int, classes: int, first_label: int = 0, *, sums: bool = False,
             seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A training split in MNIST's file names: mid-grey noise (not MNIST's black background)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    images = np.clip(rng.normal(120, 60, (count, 28, 28)), 0, 255).astype(np.uint8)
    labels = (rng.integers(0, classes, count) + first_label).astype(np.uint8)
    _write_idx_gz(folder / "train-images-idx3-ubyte.gz", images)
    _write_idx_gz(folder / "train-labels-idx1-ubyte.gz", labels)
    if sums:
        (folder / "SHA256SUMS").write_text("".join(
            f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
            for p in sorted(folder.glob("*.gz"))))
    return images, labels


def _gunzip_idx(path: Path, header: int) -> np.ndarray:
    return np.frombuffer(gzip.decompress(path.read_bytes())[header:], np.uint8)


# ------------------------------------------------------------------------------- IDX: not MNIST

@pytest.mark.parametrize("classes, first_label", [(47, 0), (26, 1)])   # EMNIST balanced, letters
def test_emnist_like_labels_above_nine_load_unverified(tmp_path, classes, first_label):
    images, labels = _idx_set(tmp_path, 3 * classes, classes, first_label, seed=classes)
    data = load_mnist("train", tmp_path, verify=False)
    assert data.images.shape == (3 * classes, 1, 28, 28) and data.labels.dtype == np.int64
    assert np.array_equal(data.labels, labels)
    assert np.array_equal(data.images.reshape(-1), _gunzip_idx(tmp_path / "train-images-idx3-ubyte.gz", 16))
    assert np.array_equal(data.labels, _gunzip_idx(tmp_path / "train-labels-idx1-ubyte.gz", 8))
    assert data.labels.max() > 9 and np.array_equal(data.images[:, 0], images)


def test_sha256sums_beside_other_data_verifies_it_without_no_verify(tmp_path):
    images, _ = _idx_set(tmp_path, 40, 10, sums=True)
    data = mnist_dataset(tmp_path)                     # verify=True: the folder's own manifest
    assert np.array_equal(data.images[:, 0], images)
    raw = bytearray(gzip.decompress((tmp_path / "train-images-idx3-ubyte.gz").read_bytes()))
    raw[-1] ^= 0xFF                                    # a changed pixel: the manifest catches it
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match="mismatch with SHA256SUMS beside it.*correct SHA256SUMS"):
        mnist_dataset(tmp_path)
    assert mnist_dataset(tmp_path, verify=False).images[-1, 0, -1, -1] == raw[-1]


def test_other_data_without_sha256sums_says_how_to_load_it(tmp_path):
    _idx_set(tmp_path, 40, 10)
    with pytest.raises(DataError) as info:
        mnist_dataset(tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz: SHA-256 mismatch with the original MNIST" in message
    for needle in ("Fashion-MNIST", "SHA256SUMS file of its own", "--no-verify", "verify=False"):
        assert needle in message
    assert len(mnist_dataset(tmp_path, verify=False)) == 40


def test_idx_files_under_other_names_are_named_in_the_error(tmp_path):
    _idx_set(tmp_path, 8, 10)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (tmp_path / name).rename(tmp_path / f"emnist-letters-{name}")
    with pytest.raises(DataError, match=r"found IDX files under other names \(emnist-letters-"
                                        r"train-images-idx3-ubyte.gz, .*rename or link them"):
        mnist_dataset(tmp_path)


def _train(tmp_path, out: str, *extra: str) -> list[str]:
    return ["train", "--steps", "1", "--batch-size", "8", "--base-channels", "4", "--latent-dim", "8",
            "--out", str(tmp_path / out), "--no-progress", *extra]


def test_cli_trains_a_conditional_gan_on_47_classes_with_no_verify(tmp_path, capsys):
    data = tmp_path / "emnist"
    _idx_set(data, 94, 47, seed=3)
    assert main(_train(tmp_path, "plain", "--data-dir", str(data))) == 1
    assert "--no-verify" in capsys.readouterr().err
    assert main(_train(tmp_path, "cond", "--data-dir", str(data), "--no-verify", "--conditional")) == 0
    grid = Image.open(tmp_path / "cond" / "samples.png")
    assert grid.size == (2 + 16 * 30, 2 + 12 * 30)        # 4 images a class, 4 classes a row


# ---------------------------------------------------------------------------- image folders

def _rng_image(rng, *shape) -> np.ndarray:
    return rng.integers(0, 256, shape, dtype=np.uint8)


def _folder(root: Path) -> dict[str, np.ndarray]:
    """Every kind of file a user's folder holds; returns the RGB each image must load as."""
    rng = np.random.default_rng(0)
    for sub in ("cats/inner", "dogs", "empty_class", ".hidden"):
        (root / sub).mkdir(parents=True)
    want = {}
    rgb = _rng_image(rng, 8, 8, 3)
    Image.fromarray(rgb).save(root / "cats/rgb.png")
    want["cats/rgb.png"] = rgb
    rgba = _rng_image(rng, 8, 8, 4)
    Image.fromarray(rgba, "RGBA").save(root / "cats/rgba.png")
    want["cats/rgba.png"] = rgba[..., :3]                      # transparency dropped, as torchvision
    gray = _rng_image(rng, 8, 8)
    Image.fromarray(gray, "L").save(root / "cats/inner/gray.png")
    want["cats/inner/gray.png"] = np.repeat(gray[..., None], 3, axis=2)
    palette_image = Image.fromarray(_rng_image(rng, 8, 8, 3)).quantize(16)
    palette_image.save(root / "dogs/pal.png")
    palette = np.array(palette_image.getpalette(), np.uint8).reshape(-1, 3)
    want["dogs/pal.png"] = palette[np.asarray(palette_image)]
    wide = rng.integers(0, 65536, (8, 8), dtype=np.uint16)
    Image.fromarray(wide).save(root / "dogs/deep.png")         # 16-bit: opened as 'I;16'
    assert Image.open(root / "dogs/deep.png").mode == "I;16"
    scaled = np.rint(wide * (255 / 65535)).astype(np.uint8)
    want["dogs/deep.png"] = np.repeat(scaled[..., None], 3, axis=2)
    Image.fromarray(_rng_image(rng, 8, 8, 3)).save(root / "dogs/photo.JPG", quality=90)
    want["dogs/photo.JPG"] = np.asarray(Image.open(root / "dogs/photo.JPG").convert("RGB"))
    bmp = _rng_image(rng, 8, 8, 3)
    Image.fromarray(bmp).save(root / "dogs/b.bmp")
    want["dogs/b.bmp"] = bmp
    webp = _rng_image(rng, 8, 8, 3)
    Image.fromarray(webp).save(root / "dogs/w.webp", lossless=True)
    want["dogs/w.webp"] = webp
    Image.fromarray(rgb).save(root / ".hidden/h.png")             # skipped: hidden folder,
    (root / "dogs/._fork.png").write_bytes(b"\x00\x05\x16\x07")   # macOS resource fork,
    (root / "dogs/notes.txt").write_text("not an image")          # not an image
    return want


def test_image_folder_loads_every_mode_as_pillow_and_numpy_read_it(tmp_path):
    want = _folder(tmp_path)
    data = ImageFolder(tmp_path, (3, 8, 8))
    assert [str(f.relative_to(tmp_path)) for f in data.files] == sorted(want)
    assert data.labels is None and data.images.dtype == np.uint8
    for file, image in zip(data.files, data.images):
        expected = want[str(file.relative_to(tmp_path))]
        assert np.array_equal(image, expected.transpose(2, 0, 1)), file
    gray = ImageFolder(tmp_path, (1, 8, 8))
    for file, image in zip(gray.files, gray.images):
        expected = np.asarray(Image.fromarray(want[str(file.relative_to(tmp_path))]).convert("L"))
        if file.name in ("gray.png", "deep.png"):             # grayscale stays as it was
            expected = want[str(file.relative_to(tmp_path))][..., 0]
        assert np.array_equal(image[0], expected), file


def test_strict_size_names_every_image_of_another_size(tmp_path):
    for name, size in (("a.png", (8, 8)), ("b.png", (9, 8)), ("c.jpg", (8, 12)), ("d.png", (8, 8))):
        Image.fromarray(np.zeros((*size, 3), np.uint8)).save(tmp_path / name)
    with pytest.raises(DataError) as info:
        ImageFolder(tmp_path, (3, 8, 8), strict_size=True)
    message = str(info.value)
    assert "b.png: image is 8x9 (WxH); c.jpg: image is 12x8 (WxH): 2 of 4 images are of another" in message
    assert "--strict-size" in message and "--image-size) asks for 8x8 (WxH)" in message
    mixed = ImageFolder(tmp_path, (3, 8, 8))                   # without: centre-cropped and resized
    big = Image.open(tmp_path / "c.jpg").convert("RGB").crop((2, 0, 10, 8))
    assert np.array_equal(mixed.images[2], np.asarray(big).transpose(2, 0, 1))


def test_cifar_like_folder_trains_samples_and_eval_refuses_its_shape(tmp_path, capsys):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar"
    for label in ("plane", "car"):
        (folder / label).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(_rng_image(rng, 32, 32, 3)).save(folder / label / f"{i}.png")
    argv = _train(tmp_path, "run", "--dataset", f"folder:{folder}", "--image-size", "32")
    assert main(argv) == 0
    checkpoint = tmp_path / "run" / "checkpoint.npz"
    assert main(["sample", "--checkpoint", str(checkpoint), "-n", "4", "-o", str(tmp_path / "s.npy")]) == 0
    samples = np.load(tmp_path / "s.npy")
    assert samples.dtype == np.uint8 and samples.shape == (4, 3, 32, 32)
    assert main(["sample", "--checkpoint", str(checkpoint), "-n", "4", "-o", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").mode == "RGB"
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(checkpoint), "-n", "8"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "makes (3, 32, 32) images; the metrics need MNIST-shaped" in err[0]


def test_torchvision_kmnist_reads_its_raw_folder_and_says_where_to_get_it(tmp_path):
    from tensorgan.vision.datasets import KMNIST
    with pytest.raises(DataError, match=r"does not download KMNIST: get .*rois-codh/kmnist"):
        KMNIST(str(tmp_path))
    images, labels = _idx_set(tmp_path / "KMNIST" / "raw", 12, 10, seed=5)
    data = KMNIST(str(tmp_path), train=True)
    image, label = data[3]
    assert image.mode == "L" and np.array_equal(np.asarray(image), images[3]) and label == labels[3]
    assert data.classes[label] == ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"][label]
