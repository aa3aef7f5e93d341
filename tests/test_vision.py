"""tensorgan.vision: torchvision's datasets / transforms / utils for GAN scripts. Expected values
come from torchvision's documented behaviour, worked out by hand or with NumPy / Pillow."""
import os
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import tensorgan as tg
from tensorgan.data import write_idx
from tensorgan.errors import ConfigError, DataError, DTypeError, InputTypeError, ShapeError
from tensorgan.vision import datasets, transforms, utils as vutils
from tensorgan.vision.transforms import functional as TF

SHARED_MNIST = Path("/work/shared/datasets/mnist")


def test_torchvision_shaped_imports():
    import tensorgan.vision as torchvision
    assert torchvision.transforms.Compose is transforms.Compose
    assert vutils.save_image is tg.utils.save_image and vutils.make_grid is tg.utils.make_grid
    assert transforms.InterpolationMode.BILINEAR.value == "bilinear"


# ------------------------------------------------------------------------------ conversions

def test_to_tensor_scales_uint8_and_keeps_other_dtypes():
    hwc = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    t = transforms.ToTensor()(hwc)
    assert t.dtype == tg.float32 and tuple(t.shape) == (3, 2, 4)
    np.testing.assert_array_equal(t.numpy(), hwc.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    f64 = np.full((2, 2), 0.25)
    kept = transforms.ToTensor()(f64)
    assert kept.dtype == tg.float64 and tuple(kept.shape) == (1, 2, 2)
    gray = transforms.ToTensor()(Image.fromarray(np.array([[0, 255]], dtype=np.uint8)))
    np.testing.assert_array_equal(gray.numpy(), [[[0.0, 1.0]]])
    bits = transforms.ToTensor()(Image.fromarray(np.array([[0, 255]], dtype=np.uint8)).convert("1"))
    np.testing.assert_array_equal(bits.numpy(), [[[0.0, 1.0]]])
    with pytest.raises(InputTypeError, match="PIL Image or ndarray"):
        transforms.ToTensor()(tg.zeros(3, 2, 2))
    with pytest.raises(ShapeError, match="2/3 dimensional"):
        transforms.ToTensor()(np.zeros((1, 2, 2, 3), np.uint8))


def test_pil_to_tensor_and_convert_image_dtype():
    img = Image.fromarray(np.array([[[1, 2, 3], [250, 251, 252]]], dtype=np.uint8))
    t = transforms.PILToTensor()(img)
    assert t.dtype == tg.uint8
    np.testing.assert_array_equal(t.numpy()[:, 0, 1], [250, 251, 252])
    f = transforms.ConvertImageDtype(tg.float32)(t)
    np.testing.assert_allclose(f.numpy(), t.numpy() / 255.0, rtol=1e-6)
    back = TF.convert_image_dtype(tg.tensor([0.0, 0.5, 1.0]), tg.uint8)
    np.testing.assert_array_equal(back.numpy(), [0, 127, 255])     # x * (255 + 1 - 1e-3), floored
    with pytest.raises(DTypeError, match="safely"):
        TF.convert_image_dtype(tg.tensor([0.5]), tg.int32)


def test_to_pil_image_truncates_like_mul_255_byte():
    t = tg.tensor([[[0.0, 0.3, 0.999, 1.0]]])
    img = transforms.ToPILImage()(t)
    assert img.mode == "L"
    np.testing.assert_array_equal(np.asarray(img), [[0, 76, 254, 255]])
    rgb = TF.to_pil_image(tg.zeros(3, 2, 5))
    assert rgb.mode == "RGB" and rgb.size == (5, 2)
    assert TF.to_pil_image(np.zeros((2, 2), np.float32)).mode == "F"
    with pytest.raises(ShapeError, match="> 4 channels"):
        TF.to_pil_image(tg.zeros(5, 2, 2))
    with pytest.raises(ConfigError, match="Incorrect mode|incorrect mode"):
        TF.to_pil_image(np.zeros((2, 2), np.uint8), mode="F")
    assert repr(transforms.ToPILImage()) == "ToPILImage()"
    assert repr(transforms.ToPILImage("RGB")) == "ToPILImage(mode=RGB)"


def test_normalize_per_channel_chw_and_nchw():
    x = np.random.default_rng(0).random((2, 3, 4, 5)).astype(np.float32)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    expected = (x - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]
    norm = transforms.Normalize(mean, std)
    np.testing.assert_allclose(norm(tg.from_numpy(x)).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(norm(tg.from_numpy(x[0])).numpy(), expected[0], rtol=1e-6)
    y = tg.from_numpy(x.copy())
    out = transforms.Normalize(mean, std, inplace=True)(y)
    assert out is y
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)
    assert repr(transforms.Normalize((0.5,), (0.5,))) == "Normalize(mean=(0.5,), std=(0.5,))"


def test_normalize_refuses_zero_std_integer_and_flat_inputs():
    with pytest.raises(ConfigError, match="std evaluated to zero"):
        transforms.Normalize((0.5, 0.5), (0.5, 0.0))(tg.zeros(2, 2, 2))
    with pytest.raises(DTypeError, match="float tensor"):
        transforms.Normalize((0.5,), (0.5,))(tg.zeros(1, 2, 2, dtype=tg.uint8))
    with pytest.raises(ShapeError, match=r"\(\.\.\., C, H, W\)"):
        transforms.Normalize((0.5,), (0.5,))(tg.zeros(2, 2))
    with pytest.raises(InputTypeError, match="Tensor Image"):
        transforms.Normalize((0.5,), (0.5,))(np.zeros((1, 2, 2), np.float32))


# ------------------------------------------------------------------------------ geometry

def test_resize_pil_smaller_edge_keeps_aspect():
    img = Image.new("RGB", (30, 20))                      # W x H
    assert transforms.Resize(10)(img).size == (15, 10)
    assert transforms.Resize(10)(Image.new("L", (20, 33))).size == (10, 16)   # int(10 * 33 / 20)
    assert transforms.Resize((7, 9))(img).size == (9, 7)
    assert transforms.Resize(20)(img) is img               # already that size: returned as is
    expected = img.resize((15, 10), Image.Resampling.BICUBIC)
    got = transforms.Resize(10, interpolation=transforms.InterpolationMode.BICUBIC)(img)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))
    assert (repr(transforms.Resize(64)) ==
            "Resize(size=64, interpolation=bilinear, max_size=None, antialias=True)")


def test_resize_tensor_antialiased_bilinear_weights():
    # Halving with antialias: the triangle filter widened 2x -> weights 1/8, 3/8, 3/8, 1/8 around
    # each output centre, truncated (and renormalised) at the border.
    ramp = tg.from_numpy(np.tile(np.arange(8, dtype=np.float32), (1, 1, 8, 1)))
    out = transforms.Resize((4, 4))(ramp).numpy()
    assert out.shape == (1, 1, 4, 4)
    np.testing.assert_allclose(out[0, 0, 0], [5 / 7, 2.5, 4.5, 6 + 2 / 7], rtol=1e-6)
    const = transforms.Resize(5)(tg.full((3, 9, 13), 0.25))
    assert tuple(const.shape) == (3, 5, 7)
    np.testing.assert_allclose(const.numpy(), 0.25, rtol=1e-6)
    u8 = transforms.Resize((4, 4))(tg.from_numpy(np.full((1, 8, 8), 200, np.uint8)))
    assert u8.dtype == tg.uint8 and (u8.numpy() == 200).all()
    near = transforms.Resize((2, 2), interpolation=transforms.InterpolationMode.NEAREST)(ramp)
    np.testing.assert_array_equal(near.numpy()[0, 0, 0], [0, 4])


def test_center_crop_rounds_as_torchvision_and_pads_when_small():
    x = tg.from_numpy(np.arange(25, dtype=np.float32).reshape(1, 5, 5))
    c = transforms.CenterCrop(2)(x).numpy()
    assert c[0, 0, 0] == 12.0          # top = left = round(1.5) = 2
    big = transforms.CenterCrop((7, 6))(x).numpy()
    assert big.shape == (1, 7, 6)       # padded by (left, top, right, bottom) = (0, 1, 1, 1)
    np.testing.assert_array_equal(big[0, 1], [0, 1, 2, 3, 4, 0])
    assert big[0, 0].sum() == 0 and big[0, 6].sum() == 0
    img = Image.fromarray(np.arange(25, dtype=np.uint8).reshape(5, 5))
    assert np.asarray(transforms.CenterCrop(2)(img))[0, 0] == 12
    assert repr(transforms.CenterCrop(64)) == "CenterCrop(size=(64, 64))"


def test_random_crop_padding_seeded_and_too_small():
    x = tg.from_numpy(np.arange(16, dtype=np.float32).reshape(1, 4, 4))
    crop = transforms.RandomCrop(4, padding=2)
    tg.manual_seed(5)
    a = [crop(x).numpy() for _ in range(4)]
    tg.manual_seed(5)
    b = [crop(x).numpy() for _ in range(4)]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert all(u.shape == (1, 4, 4) for u in a)
    assert len({u.tobytes() for u in a}) > 1
    # pad_if_needed pads each side by the shortfall (torchvision's): 8x8, then a 6x6 crop
    padded = transforms.RandomCrop((6, 6), pad_if_needed=True, fill=-1)(x).numpy()
    assert padded.shape == (1, 6, 6) and np.sort(padded[padded != -1]).tolist() == list(range(16))
    with pytest.raises(ShapeError, match="larger than input"):
        transforms.RandomCrop(5)(x)
    assert repr(transforms.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"


def test_flips_and_their_probability():
    x = tg.from_numpy(np.arange(6, dtype=np.float32).reshape(1, 2, 3))
    np.testing.assert_array_equal(transforms.RandomHorizontalFlip(1.0)(x).numpy(), x.numpy()[..., ::-1])
    np.testing.assert_array_equal(transforms.RandomVerticalFlip(1.0)(x).numpy(), x.numpy()[:, ::-1])
    assert transforms.RandomHorizontalFlip(0.0)(x) is x
    img = Image.fromarray(np.array([[1, 2, 3]], dtype=np.uint8))
    np.testing.assert_array_equal(np.asarray(transforms.RandomHorizontalFlip(1.0)(img)), [[3, 2, 1]])
    tg.manual_seed(0)
    flips = [transforms.RandomHorizontalFlip()(x) is not x for _ in range(40)]
    assert 5 < sum(flips) < 35
    assert repr(transforms.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"


def test_grayscale_tensor_formula_and_pil():
    rgb = np.array([10, 200, 30], dtype=np.uint8).reshape(3, 1, 1)
    g = transforms.Grayscale()(tg.from_numpy(rgb))
    expected = np.float32(0.2989) * 10 + np.float32(0.587) * 200 + np.float32(0.114) * 30
    assert g.dtype == tg.uint8 and g.numpy().ravel()[0] == int(expected)     # truncated, as .to(uint8)
    g3 = transforms.Grayscale(3)(Image.new("RGB", (2, 2), (10, 200, 30)))
    assert g3.mode == "RGB" and len(set(g3.getpixel((0, 0)))) == 1
    assert repr(transforms.Grayscale(3)) == "Grayscale(num_output_channels=3)"
    with pytest.raises(ConfigError, match="1 or 3"):
        transforms.Grayscale(2)


def test_pad_modes_and_fill():
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    got = transforms.Pad((1, 2), padding_mode="reflect")(tg.from_numpy(x)).numpy()
    np.testing.assert_array_equal(got[0], np.pad(x[0], ((2, 2), (1, 1)), mode="reflect"))
    with pytest.raises(ShapeError, match="reflect"):    # 2 rows padded by 2: torch's pad refuses
        transforms.Pad((1, 2), padding_mode="reflect")(tg.from_numpy(x[:, :2]))
    img = transforms.Pad(1, fill=(255, 0, 0))(Image.new("RGB", (2, 2)))
    assert img.size == (4, 4) and img.getpixel((0, 0)) == (255, 0, 0) and img.getpixel((1, 1)) == (0, 0, 0)
    assert repr(transforms.Pad(2)) == "Pad(padding=2, fill=0, padding_mode=constant)"
    with pytest.raises(ConfigError, match="padding"):
        transforms.Pad((1, 2, 3))


def test_compose_lambda_and_random_resized_crop():
    t = transforms.Compose([transforms.Lambda(lambda v: v * 2), transforms.ToTensor()])
    assert repr(t) == "Compose(\n    Lambda()\n    ToTensor()\n)"
    np.testing.assert_array_equal(t(np.ones((1, 1), np.float32)).numpy(), [[[2.0]]])
    rrc = transforms.RandomResizedCrop(8)
    tg.manual_seed(3)
    a = rrc(Image.new("RGB", (40, 30)))
    x = tg.rand(3, 30, 40)
    tg.manual_seed(3)
    assert rrc(Image.new("RGB", (40, 30))).size == a.size == (8, 8)
    assert tuple(rrc(x).shape) == (3, 8, 8)
    assert repr(rrc) == ("RandomResizedCrop(size=(8, 8), scale=(0.08, 1.0), ratio=(0.75, 1.3333), "
                         "interpolation=bilinear, antialias=True)")


# ------------------------------------------------------------------------------ datasets

@pytest.fixture
def no_configured_mnist(tmp_path, monkeypatch):
    monkeypatch.delenv("TENSORGAN_DATA", raising=False)
    monkeypatch.setenv("TENSORGAN_CACHE", str(tmp_path / "cache"))
    return tmp_path


def _copy_bundled_test_set(folder: Path) -> None:
    folder.mkdir(parents=True)
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with resources.as_file(resources.files("tensorgan.data") / f"{stem}.gz") as src:
            shutil.copy(src, folder / f"{stem}.gz")


def test_mnist_torchvision_layout_items_and_attributes(no_configured_mnist):
    root = no_configured_mnist / "data"
    _copy_bundled_test_set(root / "MNIST" / "raw")
    ds = datasets.MNIST(str(root), train=False)
    assert len(ds) == 10000 and ds.train is False
    assert ds.data.dtype == tg.uint8 and tuple(ds.data.shape) == (10000, 28, 28)
    assert ds.targets.dtype == tg.int64 and ds.targets.numpy().max() == 9
    img, label = ds[0]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert label == 7 and type(label) is int
    np.testing.assert_array_equal(np.asarray(img), ds.data.numpy()[0])
    assert ds.classes[3] == "3 - three" and ds.class_to_idx["9 - nine"] == 9
    assert repr(ds).splitlines()[:4] == ["Dataset MNIST", "    Number of datapoints: 10000",
                                         f"    Root location: {root}", "    Split: Test"]


def test_mnist_dcgan_pipeline_through_dataloader(no_configured_mnist):
    tf = transforms.Compose([transforms.Resize(64), transforms.ToTensor(),
                             transforms.Normalize((0.5,), (0.5,))])
    ds = datasets.MNIST(str(no_configured_mnist), train=False, transform=tf,
                        target_transform=lambda y: y + 100)      # falls back to the bundled set
    x, y = ds[1]
    assert tuple(x.shape) == (1, 64, 64) and x.dtype == tg.float32 and y == 102
    big = Image.fromarray(ds.data.numpy()[1]).resize((64, 64), Image.Resampling.BILINEAR)
    np.testing.assert_allclose(x.numpy()[0], np.asarray(big, np.float32) / 255 * 2 - 1, atol=1e-6)
    images, labels = next(iter(tg.utils.data.DataLoader(ds, batch_size=4, shuffle=False)))
    assert tuple(images.shape) == (4, 1, 64, 64) and labels.dtype == tg.int64
    assert "Target transform: " in repr(ds)


def test_mnist_missing_train_set_says_where_and_how(no_configured_mnist):
    with pytest.raises(DataError, match=r"MNIST[/\\]raw.*download=True"):
        datasets.MNIST(str(no_configured_mnist / "empty"), train=True)


def test_mnist_subset_of_data_is_what_getitem_reads(no_configured_mnist):
    ds = datasets.MNIST(str(no_configured_mnist), train=False)
    ds.data, ds.targets = ds.data[:10], ds.targets[:10]        # a common trick to shrink it
    assert len(ds) == 10
    with pytest.raises(IndexError):
        ds[10]


@pytest.mark.skipif(not (SHARED_MNIST / "train-images-idx3-ubyte.gz").is_file(),
                    reason="full MNIST not in /work/shared/datasets/mnist")
def test_mnist_full_training_set_from_root_mnist_folder(no_configured_mnist):
    ds = datasets.MNIST(str(SHARED_MNIST.parent), train=True)
    assert len(ds) == 60000 and ds[0][1] == 5


def test_fashion_mnist_reads_its_own_folder_without_mnist_checksums(no_configured_mnist):
    raw = no_configured_mnist / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "t10k-images-idx3-ubyte.gz", np.full((3, 28, 28), 7, np.uint8))
    write_idx(raw / "t10k-labels-idx1-ubyte", np.array([0, 9, 4], np.uint8))
    ds = datasets.FashionMNIST(str(no_configured_mnist), train=False)
    assert len(ds) == 3 and ds[1][1] == 9 and ds.classes[9] == "Ankle boot"
    with pytest.raises(DataError, match="FashionMNIST.*does not download"):
        datasets.FashionMNIST(str(no_configured_mnist), train=True, download=True)


def _write_folder(root: Path) -> None:
    for cls, colour in (("b_dogs", 50), ("a_cats", 200)):
        (root / cls / "sub").mkdir(parents=True)
        Image.new("L", (6, 4), colour).save(root / cls / "x.png")
        Image.new("RGB", (5, 5), (colour, 0, 0)).save(root / cls / "sub" / "y.jpg")
        (root / cls / "notes.txt").write_text("not an image")


def test_image_folder_lazy_classes_samples(tmp_path):
    _write_folder(tmp_path)
    ds = datasets.ImageFolder(str(tmp_path), transform=transforms.ToTensor())
    assert ds.classes == ["a_cats", "b_dogs"] and ds.class_to_idx == {"a_cats": 0, "b_dogs": 1}
    assert [Path(p).relative_to(tmp_path).as_posix() for p, _ in ds.samples] == [
        "a_cats/x.png", "a_cats/sub/y.jpg", "b_dogs/x.png", "b_dogs/sub/y.jpg"]
    assert ds.imgs is ds.samples and ds.targets == [0, 0, 1, 1]
    x, y = ds[2]
    assert tuple(x.shape) == (3, 4, 6) and y == 1          # loaded as RGB
    np.testing.assert_allclose(x.numpy(), 50 / 255, rtol=1e-6)
    os.remove(ds.samples[0][0])                            # lazy: read only when indexed
    with pytest.raises(DataError, match="cannot read image"):
        ds[0]
    only_png = datasets.ImageFolder(str(tmp_path), is_valid_file=lambda p: p.endswith(".jpg"))
    assert len(only_png) == 2


def test_image_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="not found"):
        datasets.ImageFolder(str(tmp_path / "nope"))
    (tmp_path / "flat.png").write_bytes(b"")
    with pytest.raises(DataError, match="class folder"):
        datasets.ImageFolder(str(tmp_path))
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(DataError, match="no valid file for the classes empty_class"):
        datasets.ImageFolder(str(tmp_path))
    assert len(datasets.ImageFolder(str(tmp_path), allow_empty=True)) == 0


def test_fake_data_repeatable_and_leaves_default_rng_alone():
    ds = datasets.FakeData(size=5, image_size=(3, 8, 6), num_classes=4, transform=transforms.ToTensor())
    tg.manual_seed(1)
    a, la = ds[2]
    after = tg.rand(1).item()
    tg.manual_seed(1)
    assert tg.rand(1).item() == after
    b, lb = ds[2]
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert la == lb and 0 <= la < 4 and tuple(a.shape) == (3, 8, 6)
    assert not np.array_equal(ds[3][0].numpy(), a.numpy())
    with pytest.raises(IndexError):
        ds[5]


def test_save_image_of_a_dataset_batch(tmp_path):
    ds = datasets.FakeData(size=4, image_size=(3, 8, 8), transform=transforms.ToTensor())
    batch = tg.stack([ds[i][0] for i in range(4)])
    vutils.save_image(batch, tmp_path / "grid.png", nrow=2, normalize=True)
    assert Image.open(tmp_path / "grid.png").size == (2 * 10 + 2, 2 * 10 + 2)


def test_mnist_download_true_fetches_into_torchvision_raw_folder(no_configured_mnist, monkeypatch):
    calls = []

    def fake_download(dest):                  # stands in for the network: nothing downloads here
        calls.append(Path(dest))
        _copy_bundled_test_set(Path(dest))
        return Path(dest)

    monkeypatch.setattr("tensorgan.data.mnist.download_mnist", fake_download)
    root = no_configured_mnist / "fresh"
    ds = datasets.MNIST(str(root), train=False, download=True)
    assert calls == [root / "MNIST" / "raw"] and len(ds) == 10000
    datasets.MNIST(str(root), train=False, download=True)    # already there: not fetched again
    assert len(calls) == 1
