"""tensorgan.vision, second pass: differentiable tensor transforms, CIFAR-10/100 from the binary
archives, and ColorJitter / RandomRotation / RandomAffine / GaussianBlur / RandomGrayscale /
RandomChoice / RandomOrder / Scale. Expected values come from torchvision's documented formulas,
worked out with NumPy / Pillow."""
import hashlib
import io
import tarfile

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

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
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


# ------------------------------------------------------------------------------ colour

def _rgb(seed=0, shape=(3, 5, 6)):
    return np.random.default_rng(seed).random(shape)


def test_brightness_contrast_saturation_tensor_formulas():
    a = _rgb()
    x = tg.from_numpy(a)
    np.testing.assert_allclose(TF.adjust_brightness(x, 1.7).numpy(), np.clip(1.7 * a, 0, 1), rtol=1e-12)
    gray = 0.2989 * a[0] + 0.587 * a[1] + 0.114 * a[2]
    np.testing.assert_allclose(TF.adjust_contrast(x, 0.3).numpy(),
                               np.clip(0.3 * a + 0.7 * gray.mean(), 0, 1), rtol=1e-12)
    np.testing.assert_allclose(TF.adjust_saturation(x, 1.5).numpy(),
                               np.clip(1.5 * a - 0.5 * gray, 0, 1), rtol=1e-12, atol=1e-15)
    u8 = tg.from_numpy((a * 255).astype(np.uint8))
    got = TF.adjust_brightness(u8, 0.5)
    assert got.dtype == tg.uint8
    np.testing.assert_array_equal(got.numpy(), (np.float32(0.5) * (a * 255).astype(np.uint8)).astype(np.uint8))
    one = tg.from_numpy(a[:1])
    assert TF.adjust_saturation(one, 0.0) is one and TF.adjust_hue(one, 0.3) is one
    with pytest.raises(ConfigError, match=r"brightness_factor \(-1\) is not non-negative"):
        TF.adjust_brightness(x, -1)
    with pytest.raises(ShapeError, match="permitted channel values are \\[1, 3\\]"):
        TF.adjust_contrast(tg.zeros(2, 3, 3), 0.5)


def test_adjust_hue_tensor_matches_colorsys_and_pil_shifts_the_h_band():
    import colorsys
    a = _rgb(1, (3, 4, 4))
    got = TF.adjust_hue(tg.from_numpy(a), -0.3).numpy()
    for i in range(4):
        for j in range(4):
            h, s, v = colorsys.rgb_to_hsv(*a[:, i, j])
            np.testing.assert_allclose(got[:, i, j], colorsys.hsv_to_rgb((h - 0.3) % 1.0, s, v),
                                       atol=1e-12)
    img = Image.fromarray((a.transpose(1, 2, 0) * 255).astype(np.uint8))
    hsv = np.asarray(img.convert("HSV")).copy()
    hsv[..., 0] += np.uint8(int(-0.3 * 255) % 256)                      # wraps, as torchvision
    expected = np.asarray(Image.fromarray(hsv, "HSV").convert("RGB"))
    np.testing.assert_array_equal(np.asarray(TF.adjust_hue(img, -0.3)), expected)
    assert TF.adjust_hue(img.convert("L"), 0.2).mode == "L"
    with pytest.raises(ConfigError, match=r"hue_factor \(0.6\) is not in \[-0.5, 0.5\]"):
        TF.adjust_hue(img, 0.6)


def test_pil_colour_adjustments_are_pillows_enhancers():
    img = Image.fromarray((_rgb(2).transpose(1, 2, 0) * 255).astype(np.uint8))
    for fn, enhancer in ((TF.adjust_brightness, ImageEnhance.Brightness),
                         (TF.adjust_contrast, ImageEnhance.Contrast),
                         (TF.adjust_saturation, ImageEnhance.Color)):
        np.testing.assert_array_equal(np.asarray(fn(img, 1.3)), np.asarray(enhancer(img).enhance(1.3)))


def test_color_jitter_params_checks_and_repr():
    cj = transforms.ColorJitter(brightness=0.5, contrast=(0.2, 0.9), saturation=2, hue=0.1)
    assert cj.brightness == (0.5, 1.5) and cj.contrast == (0.2, 0.9)
    assert cj.saturation == (0.0, 3.0) and cj.hue == (-0.1, 0.1)           # clipped at 0
    assert repr(cj) == ("ColorJitter(brightness=(0.5, 1.5), contrast=(0.2, 0.9), "
                        "saturation=(0.0, 3.0), hue=(-0.1, 0.1))")
    assert transforms.ColorJitter().brightness is None                    # (1, 1): nothing to do
    x = tg.from_numpy(_rgb())
    assert np.array_equal(transforms.ColorJitter()(x).numpy(), x.numpy())
    tg.manual_seed(5)
    order, b, c, s, h = transforms.ColorJitter.get_params(cj.brightness, None, cj.saturation, cj.hue)
    assert sorted(order.tolist()) == [0, 1, 2, 3] and c is None
    assert 0.5 <= b <= 1.5 and 0.0 <= s <= 3.0 and -0.1 <= h <= 0.1
    tg.manual_seed(5)
    assert transforms.ColorJitter.get_params(cj.brightness, None, cj.saturation, cj.hue)[1] == b
    tg.manual_seed(9)
    first = cj(x).numpy()
    tg.manual_seed(9)
    np.testing.assert_array_equal(cj(x).numpy(), first)
    with pytest.raises(ConfigError, match="If brightness is a single number, it must be non negative"):
        transforms.ColorJitter(brightness=-0.1)
    with pytest.raises(ConfigError, match=r"hue values should be between \(-0.5, 0.5\)"):
        transforms.ColorJitter(hue=0.7)
    with pytest.raises(ConfigTypeError, match="contrast should be a single number or a list/tuple"):
        transforms.ColorJitter(contrast=(1, 2, 3))


# ------------------------------------------------------------------------------ geometry

def test_rotate_quarter_turn_is_rot90_on_tensors_and_pil():
    a = _rgb(3, (3, 6, 6))
    for mode in ("nearest", "bilinear"):
        np.testing.assert_allclose(TF.rotate(tg.from_numpy(a), 90.0, mode).numpy(),
                                   np.rot90(a, 1, axes=(1, 2)), atol=1e-12)
    u8 = (a.transpose(1, 2, 0) * 255).astype(np.uint8)
    np.testing.assert_array_equal(np.asarray(TF.rotate(Image.fromarray(u8), 90)),
                                  np.rot90(u8, 1, axes=(0, 1)))
    # expand: a 4x2 image turned a quarter holds in 2x4 (PIL's output size rule)
    assert tuple(TF.rotate(tg.zeros(1, 4, 2), 90.0, expand=True).shape) == (1, 2, 4)
    assert TF.rotate(Image.new("L", (2, 4)), 90, expand=True).size == (4, 2)
    with pytest.raises(ConfigError, match="'bicubic' is unsupported with Tensor input"):
        TF.rotate(tg.zeros(1, 4, 4), 10.0, "bicubic")
    with pytest.raises(ConfigTypeError, match="angle should be int or float"):
        TF.rotate(tg.zeros(1, 4, 4), "10")


def test_affine_translation_fills_and_center_and_integer_images():
    a = _rgb(4, (3, 5, 6))
    got = TF.affine(tg.from_numpy(a), 0.0, [2, 1], 1.0, 0.0, fill=[7.0, 8.0, 9.0]).numpy()
    expected = np.broadcast_to(np.array([7.0, 8.0, 9.0])[:, None, None], a.shape).copy()
    expected[:, 1:, 2:] = a[:, :-1, :-2]
    np.testing.assert_array_equal(got, expected)
    u8 = (a.transpose(1, 2, 0) * 255).astype(np.uint8)
    pil = np.asarray(TF.affine(Image.fromarray(u8), 0, [2, 1], 1.0, 0, fill=7))
    exp8 = np.full_like(u8, 7)
    exp8[1:, 2:] = u8[:-1, :-2]
    np.testing.assert_array_equal(pil, exp8)
    t8 = TF.affine(tg.from_numpy(np.ascontiguousarray(u8.transpose(2, 0, 1))), 0.0, [2, 1], 1.0, 0.0)
    assert t8.dtype == tg.uint8
    np.testing.assert_array_equal(t8.numpy().transpose(1, 2, 0), np.where(exp8 == 7, 0, exp8))
    # a half turn about the top-left pixel's corner (0, 0) sends everything off the image
    assert float(TF.affine(tg.ones(1, 4, 4), 180.0, [0, 0], 1.0, 0.0, center=[0, 0]).sum()) == 0.0
    assert TF.affine(tg.zeros(2, 1, 4, 4), 30.0, [0, 0], 1.0, [5.0, 5.0]).shape == (2, 1, 4, 4)
    with pytest.raises(ConfigError, match="scale should be positive"):
        TF.affine(tg.zeros(1, 4, 4), 0.0, [0, 0], 0.0, 0.0)
    with pytest.raises(ConfigError, match="translate should be a sequence of length 2"):
        TF.affine(tg.zeros(1, 4, 4), 0.0, [0], 1.0, 0.0)
    with pytest.raises(ConfigError, match="does not match the number of channels"):
        TF.affine(Image.new("RGB", (4, 4)), 0.0, [0, 0], 1.0, 0.0, fill=(1, 2))


def test_gaussian_blur_is_a_reflect_padded_separable_gaussian():
    a = _rgb(5, (2, 3, 7, 8))
    got = TF.gaussian_blur(tg.from_numpy(a), [3, 5], [0.8, 1.3]).numpy()

    def k1(n, s):               # exact; torchvision computes the kernel in float32
        x = np.linspace(-(n - 1) / 2, (n - 1) / 2, n)
        p = np.exp(-0.5 * (x / s) ** 2)
        return p / p.sum()

    kx, ky = k1(3, 0.8), k1(5, 1.3)
    padded = np.pad(a, ((0, 0), (0, 0), (2, 2), (1, 1)), mode="reflect")
    expected = np.zeros_like(a)
    for i in range(5):
        for j in range(3):
            expected += ky[i] * kx[j] * padded[..., i:i + 7, j:j + 8]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    img = Image.fromarray((a[0].transpose(1, 2, 0) * 255).astype(np.uint8))
    blurred = TF.gaussian_blur(img, 3)
    assert blurred.mode == "RGB" and blurred.size == img.size
    x8 = TF.pil_to_tensor(img).to(tg.float32)
    ref = np.rint(TF.gaussian_blur(x8, 3).numpy()).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(blurred), ref)
    with pytest.raises(ConfigError, match="odd and positive"):
        TF.gaussian_blur(img, 4)
    with pytest.raises(ConfigError, match="sigma should have positive values"):
        TF.gaussian_blur(img, 3, 0.0)
    with pytest.raises(ShapeError, match=r"\(\.\.\., C, H, W\)"):
        TF.gaussian_blur(tg.zeros(4, 4), 3)
    u8 = TF.gaussian_blur(TF.pil_to_tensor(img), 3, 1.0)
    assert u8.dtype == tg.uint8 and tuple(u8.shape) == (3, 7, 8)


def test_random_rotation_affine_blur_checks_params_and_reprs():
    rr = transforms.RandomRotation(30)
    assert rr.degrees == [-30.0, 30.0]
    assert repr(rr) == "RandomRotation(degrees=[-30.0, 30.0], interpolation=nearest, expand=False, fill=0)"
    assert repr(transforms.RandomRotation((10, 20), center=(1, 2), fill=3)) == (
        "RandomRotation(degrees=[10.0, 20.0], interpolation=nearest, expand=False, center=(1, 2), "
        "fill=3)")
    tg.manual_seed(0)
    angle = transforms.RandomRotation.get_params([-30.0, 30.0])
    tg.manual_seed(0)
    assert -30 <= angle <= 30 and transforms.RandomRotation.get_params([-30.0, 30.0]) == angle
    with pytest.raises(ConfigError, match="If degrees is a single number, it must be positive"):
        transforms.RandomRotation(-5)
    with pytest.raises(ConfigError, match="degrees should be a sequence of length 2"):
        transforms.RandomRotation([1, 2, 3])
    with pytest.raises(ConfigTypeError, match="Fill should be either a sequence or a number"):
        transforms.RandomRotation(5, fill="red")
    ra = transforms.RandomAffine(10, translate=(0.1, 0.2), scale=(0.9, 1.1), shear=5,
                                 interpolation=transforms.InterpolationMode.BILINEAR, fill=1)
    assert repr(ra) == ("RandomAffine(degrees=[-10.0, 10.0], translate=(0.1, 0.2), "
                        "scale=(0.9, 1.1), shear=[-5.0, 5.0], interpolation=bilinear, fill=1)")
    assert repr(transforms.RandomAffine(0)) == "RandomAffine(degrees=[0.0, 0.0])"
    tg.manual_seed(1)
    angle, (tx, ty), scale, (sx, sy) = transforms.RandomAffine.get_params(
        [-10.0, 10.0], (0.1, 0.2), (0.9, 1.1), [-5.0, 5.0, 1.0, 2.0], [40, 20])
    assert -10 <= angle <= 10 and abs(tx) <= 4 and abs(ty) <= 4 and isinstance(tx, int)
    assert 0.9 <= scale <= 1.1 and -5 <= sx <= 5 and 1 <= sy <= 2
    with pytest.raises(ConfigError, match="translation values should be between 0 and 1"):
        transforms.RandomAffine(0, translate=(0.1, 1.5))
    with pytest.raises(ConfigError, match="scale values should be positive"):
        transforms.RandomAffine(0, scale=(0, 1))
    with pytest.raises(ConfigError, match="shear should be a sequence of length 2 or 4"):
        transforms.RandomAffine(0, shear=(1, 2, 3))
    assert tuple(ra(tg.rand(2, 3, 8, 8)).shape) == (2, 3, 8, 8) and ra(Image.new("RGB", (8, 8))).size == (8, 8)
    gb = transforms.GaussianBlur(5, sigma=(0.5, 1.5))
    assert gb.kernel_size == (5, 5) and repr(gb) == "GaussianBlur(kernel_size=(5, 5), sigma=(0.5, 1.5))"
    assert 0.5 <= transforms.GaussianBlur.get_params(0.5, 1.5) <= 1.5
    with pytest.raises(ConfigError, match="odd and positive"):
        transforms.GaussianBlur(4)
    with pytest.raises(ConfigError, match=r"of the form \(min, max\)"):
        transforms.GaussianBlur(3, sigma=(2.0, 1.0))


def test_random_grayscale_choice_order_and_scale():
    rgb = Image.new("RGB", (3, 2), (200, 10, 30))
    gray = transforms.RandomGrayscale(p=1.0)(rgb)
    assert gray.mode == "RGB" and len(set(gray.getpixel((0, 0)))) == 1       # keeps 3 channels
    assert transforms.RandomGrayscale(p=0.0)(rgb) is rgb
    assert repr(transforms.RandomGrayscale()) == "RandomGrayscale(p=0.1)"
    add1, double = transforms.Lambda(lambda v: v + 1), transforms.Lambda(lambda v: v * 2)
    choice = transforms.RandomChoice([add1, double], p=[0.0, 1.0])
    assert all(choice(3) == 6 for _ in range(20))
    assert repr(choice) == "RandomChoice(\n    Lambda()\n    Lambda()\n)(p=[0.0, 1.0])"
    tg.manual_seed(0)
    picks = {transforms.RandomChoice([add1, double])(3) for _ in range(40)}
    assert picks == {4, 6}
    order = transforms.RandomOrder([add1, double])
    tg.manual_seed(0)
    results = [order(3) for _ in range(40)]
    assert set(results) == {7, 8}                                 # (3+1)*2 or 3*2+1
    tg.manual_seed(0)
    assert [order(3) for _ in range(40)] == results                 # the default generator's draws
    with pytest.raises(ConfigTypeError, match="transforms should be a sequence"):
        transforms.RandomOrder(add1)
    with pytest.raises(ConfigTypeError, match="p should be a sequence"):
        transforms.RandomChoice([add1], p=1.0)
    with pytest.warns(UserWarning, match="transforms.Scale transform is deprecated"):
        scale = transforms.Scale(4)
    assert isinstance(scale, transforms.Resize) and scale(Image.new("L", (8, 6))).size == (5, 4)
    assert repr(scale).startswith("Scale(size=4, interpolation=bilinear")


@pytest.mark.parametrize("name, fn", [
    ("brightness", lambda x: TF.adjust_brightness(x, 0.7)),
    ("contrast", lambda x: TF.adjust_contrast(x, 0.6)),
    ("saturation", lambda x: TF.adjust_saturation(x, 0.5)),
    ("hue", lambda x: TF.adjust_hue(x, 0.13)),
    ("rotate_bilinear_fill", lambda x: TF.rotate(x, 23.0, "bilinear", fill=[0.2, 0.3, 0.4])),
    ("rotate_expand", lambda x: TF.rotate(x, 40.0, "bilinear", expand=True)),
    ("affine", lambda x: TF.affine(x, 12.0, [1, 0], 1.1, [4.0, 2.0], "bilinear", fill=0.5)),
    ("blur", lambda x: TF.gaussian_blur(x, [3, 5], [0.7, 1.1])),
])
def test_new_tensor_transforms_are_differentiable(name, fn):
    x = tg.from_numpy(0.1 + 0.8 * np.random.default_rng(7).random((2, 3, 5, 6))).requires_grad_()
    assert fn(x).requires_grad
    assert tg.autograd.gradcheck(fn, (x,), eps=1e-6, atol=1e-6)
