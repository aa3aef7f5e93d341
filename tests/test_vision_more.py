"""tensorgan.vision, second pass: differentiable tensor transforms, CIFAR-10/100 from the binary
archives, and ColorJitter / RandomRotation / RandomAffine / GaussianBlur / RandomGrayscale /
RandomChoice / RandomOrder / Scale. Expected values come from torchvision's documented formulas,
worked out with NumPy / Pillow."""
import hashlib
import io
import tarfile
import warnings

import numpy as np
import pytest
from PIL import Image, ImageEnhance

import tensorgan as tg
from tensorgan.errors import ConfigError, ConfigTypeError, DataError, ShapeError
from tensorgan.vision import datasets, transforms
from tensorgan.vision.transforms import functional as TF


def _x(*shape, seed=0):
    return tg.from_numpy(np.random.default_rng(seed).random(shape)).requires_grad_()


# ------------------------------------------------------------------------------ autograd

@pytest.mark.parametrize("name, fn", [
    ("resize_aa", lambda x: TF.resize(x, [3, 4])),
    ("resize_bicubic_up", lambda x: TF.resize(x, [7, 9], TF.InterpolationMode.BICUBIC)),
    ("resize_no_aa", lambda x: TF.resize(x, [3, 4], antialias=False)),
    ("crop", lambda x: TF.crop(x, 1, 1, 3, 4)),
    ("crop_outside", lambda x: TF.crop(x, -1, 2, 6, 5)),
    ("center_crop_pads", lambda x: TF.center_crop(x, [7, 3])),
    ("hflip", TF.hflip), ("vflip", TF.vflip),
    ("gray", lambda x: TF.rgb_to_grayscale(x, 3)),
    ("pad_fill", lambda x: TF.pad(x, [1, 2, 0, 1], fill=0.5)),
    ("pad_edge", lambda x: TF.pad(x, 2, padding_mode="edge")),
    ("pad_reflect", lambda x: TF.pad(x, [1, 2], padding_mode="reflect")),
    ("pad_symmetric", lambda x: TF.pad(x, [2, 1, 0, 3], padding_mode="symmetric")),
    ("normalize", lambda x: TF.normalize(x, (0.1, 0.2, 0.3), (0.5, 2.0, 1.0))),
    ("resized_crop", lambda x: TF.resized_crop(x, 0, 1, 4, 4, [2, 3])),
])
def test_tensor_transforms_are_differentiable(name, fn):
    x = _x(2, 3, 5, 6)
    y = fn(x)
    assert y.requires_grad, name
    assert tg.autograd.gradcheck(fn, (x,), eps=1e-6, atol=1e-6)


def test_gradient_reaches_a_generator_through_a_transform_pipeline():
    pipeline = transforms.Compose([transforms.Resize(4), transforms.CenterCrop(3),
                                   transforms.RandomHorizontalFlip(p=1.0),
                                   transforms.Normalize((0.5,), (0.5,))])
    x = _x(1, 1, 6, 6)
    pipeline(x).sum().backward()
    # Resize 6 -> 4 then the centred 3x3: each output's antialiased weights sum to 1, so the
    # input's gradient totals 2 (1/std) per output pixel, 9 pixels.
    np.testing.assert_allclose(float(x.grad.sum()), 18.0, rtol=1e-12)


def test_symmetric_and_edge_padding_gradients_count_the_copies():
    x = tg.zeros(1, 1, 3, dtype=tg.float64, requires_grad=True)
    TF.pad(x, [2, 0], padding_mode="symmetric").sum().backward()     # cols: 1 0 | 0 1 2 | 2 1
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [2.0, 3.0, 2.0])
    x.grad = None
    TF.pad(x, [2, 0], padding_mode="edge").sum().backward()          # 0 0 | 0 1 2 | 2 2
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [3.0, 1.0, 3.0])


# ------------------------------------------------------------------------------ CIFAR (binary)

def _cifar_records(labels, seed, label_bytes=1):
    """Synthetic CIFAR records: label byte(s), then 3072 pixel bytes (R plane, G plane, B plane)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (len(labels), 3, 32, 32), dtype=np.uint8)
    heads = np.asarray(labels, dtype=np.uint8).reshape(len(labels), label_bytes)
    return np.concatenate([heads, pixels.reshape(len(labels), -1)], axis=1).tobytes(), pixels


def _write_cifar10(folder):
    folder.mkdir(parents=True)
    expected = {}
    for i in range(1, 6):
        blob, px = _cifar_records([i, (i + 3) % 10], seed=i)
        (folder / f"data_batch_{i}.bin").write_bytes(blob)
        expected[i] = px
    blob, px = _cifar_records([9], seed=0)
    (folder / "test_batch.bin").write_bytes(blob)
    expected["test"] = px
    (folder / "batches.meta.txt").write_text("\n".join("c%d" % k for k in range(10)) + "\n\n")
    return expected


def _tar_of(folder, arcdir):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=f"{arcdir}/{path.name}")
    return buffer.getvalue()


def test_cifar10_reads_the_binary_records_in_torchvision_layout(tmp_path):
    expected = _write_cifar10(tmp_path / "cifar-10-batches-bin")
    train = datasets.CIFAR10(str(tmp_path), train=True)
    assert len(train) == 10 and train.data.shape == (10, 32, 32, 3) and train.data.dtype == np.uint8
    assert train.targets == [1, 4, 2, 5, 3, 6, 4, 7, 5, 8]
    np.testing.assert_array_equal(train.data[2], expected[2][0].transpose(1, 2, 0))   # CHW -> HWC
    img, label = train[3]
    assert img.mode == "RGB" and img.size == (32, 32) and label == 5
    np.testing.assert_array_equal(np.asarray(img), expected[2][1].transpose(1, 2, 0))
    assert train.classes == ["c%d" % k for k in range(10)] and train.class_to_idx["c3"] == 3
    test = datasets.CIFAR10(tmp_path, train=False, transform=transforms.ToTensor())
    x, y = test[0]
    assert y == 9 and tuple(x.shape) == (3, 32, 32)
    np.testing.assert_allclose(x.numpy(), expected["test"][0] / np.float32(255), rtol=1e-6)
    assert "Split: Test" in repr(test) and repr(test).startswith("Dataset CIFAR10")


def test_cifar_reads_the_archive_unextracted_and_cifar100_has_two_labels(tmp_path):
    src = tmp_path / "src"
    _write_cifar10(src)
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(_tar_of(src, "cifar-10-batches-bin"))
    root = tmp_path
    assert datasets.CIFAR10(root).targets[:2] == [1, 4]
    src100 = tmp_path / "src100"
    src100.mkdir()
    blob, px = _cifar_records([[3, 71], [19, 5]], seed=7, label_bytes=2)
    (src100 / "train.bin").write_bytes(blob)
    (src100 / "test.bin").write_bytes(_cifar_records([[0, 99]], seed=8, label_bytes=2)[0])
    (src100 / "fine_label_names.txt").write_text("\n".join(f"f{k}" for k in range(100)))
    (tmp_path / "cifar-100-binary.tar.gz").write_bytes(_tar_of(src100, "cifar-100-binary"))
    c100 = datasets.CIFAR100(root)
    assert c100.targets == [71, 5] and c100.coarse_targets == [3, 19] and c100.classes[71] == "f71"
    np.testing.assert_array_equal(np.asarray(c100[1][0]), px[1].transpose(1, 2, 0))
    assert datasets.CIFAR100(root, train=False).targets == [99]


def test_cifar_refuses_pickles_truncated_files_and_missing_data(tmp_path):
    (tmp_path / "cifar-10-batches-py").mkdir()
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"\x80\x04pickle")
    with pytest.raises(DataError, match=r"never unpickles.*cifar-10-binary\.tar\.gz"):
        datasets.CIFAR10(tmp_path)
    with pytest.raises(DataError, match=r"not found.*download=True"):
        datasets.CIFAR100(tmp_path)
    folder = tmp_path / "cifar-10-batches-bin"
    _write_cifar10(folder)
    (folder / "test_batch.bin").write_bytes(b"\x01" * 3000)
    with pytest.raises(DataError, match="3000 bytes is not a whole number of 3073-byte records"):
        datasets.CIFAR10(tmp_path, train=False)
    (folder / "test_batch.bin").write_bytes(_cifar_records([10], seed=1)[0])
    with pytest.raises(DataError, match="label 10 is out of range for 10 classes"):
        datasets.CIFAR10(tmp_path, train=False)


def test_cifar_download_true_fetches_checks_md5_and_extracts(tmp_path, monkeypatch):
    src = tmp_path / "src"
    _write_cifar10(src)
    archive = _tar_of(src, "cifar-10-batches-bin")
    fetched = []

    class Response(io.BytesIO):                  # stands in for the network: nothing downloads
        def __exit__(self, *exc):
            return False

    def fake_urlopen(url, timeout):
        fetched.append(url)
        return Response(archive)

    monkeypatch.setattr("tensorgan.vision.datasets.cifar.urllib.request.urlopen", fake_urlopen)
    root = tmp_path / "data"
    with pytest.raises(DataError, match="MD5 mismatch: expected c32a1d4ab5d03f1284b67883e8d87530"):
        datasets.CIFAR10(root, download=True)        # the published digest: this is not CIFAR-10
    assert not (root / "cifar-10-binary.tar.gz").exists()    # nothing left under the real name
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", hashlib.md5(archive).hexdigest())
    ds = datasets.CIFAR10(root, train=False, download=True)
    assert fetched == [datasets.CIFAR10.url] * 2 and ds.targets == [9]
    assert (root / "cifar-10-batches-bin" / "data_batch_5.bin").is_file()
    datasets.CIFAR10(root, download=True)                     # valid archive there: not fetched
    assert len(fetched) == 2
