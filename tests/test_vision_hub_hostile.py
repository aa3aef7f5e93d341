"""Hostile input to tensorgan.vision (datasets, transforms, models' weights=), tensorgan.hub,
SummaryWriter's add_video / add_audio / add_mesh / add_custom_scalars and tg.cuda: each bad input
gets a typed error that names what was wrong -- never silent garbage, a memory blow-up or a partial
file under the real name."""
import io
import tarfile
import textwrap
import urllib.request

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import (ConfigError, ConfigTypeError, DataError, HubError,
                              IndexOutOfRangeError, InputTypeError)
from tensorgan.vision import datasets


# ------------------------------------------------------------------------------------ tg.hub
class _CutResponse:
    """An HTTP response whose body stops short of its Content-Length (a dropped connection:
    http.client's read(n) then just returns b'')."""

    def __init__(self, body: bytes, declared: int):
        self._body, self.headers = io.BytesIO(body), {"Content-Length": str(declared)}

    def read(self, n=-1):
        return self._body.read(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_an_interrupted_download_leaves_no_file_under_the_real_name(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: _CutResponse(b"x" * 1000, 100_000))
    dst = tmp_path / "netG.pt"
    with pytest.raises(DataError, match=r"broke off after 1000 of 100000 bytes"):
        tg.hub.download_url_to_file("http://example.invalid/netG.pt", dst, progress=False)
    assert list(tmp_path.iterdir()) == []          # neither dst nor a temp file is left


def test_a_download_of_its_declared_length_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: _CutResponse(b"abc", 3))
    tg.hub.download_url_to_file("http://example.invalid/f.bin", tmp_path / "f.bin", progress=False)
    assert (tmp_path / "f.bin").read_bytes() == b"abc"


def test_load_state_dict_from_url_keeps_no_partial_file_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: _CutResponse(b"x" * 10, 50))
    with pytest.raises(DataError, match="broke off"):
        tg.hub.load_state_dict_from_url("http://example.invalid/w.pt", model_dir=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def _repo(tmp_path, source):
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    (repo / "hubconf.py").write_text(textwrap.dedent(source))
    return str(repo)


def test_a_hubconf_that_raises_is_a_hub_error_naming_the_file(tmp_path):
    repo = _repo(tmp_path, "raise KeyError('boom at import')\n")
    with pytest.raises(HubError, match=r"hubconf\.py raised KeyError: 'boom at import'") as info:
        tg.hub.load(repo, "anything", source="local")
    assert isinstance(info.value, RuntimeError) and isinstance(info.value.__cause__, KeyError)
    repo = _repo(tmp_path, "def f(:\n")
    with pytest.raises(HubError, match="raised SyntaxError"):
        tg.hub.list(repo)


def test_hubconf_dependencies_are_checked_by_load_and_help_not_list(tmp_path):
    repo = _repo(tmp_path, """
        dependencies = ['numpy', 'no_such_package_tg_h23p']
        def netG():
            "a generator"
            return 1
    """)
    with pytest.raises(HubError, match="Missing dependencies: no_such_package_tg_h23p"):
        tg.hub.load(repo, "netG", source="local")
    with pytest.raises(HubError, match="Missing dependencies"):
        tg.hub.help(repo, "netG")
    assert tg.hub.list(repo) == ["netG"]          # torch's list() does not check them either
    repo = _repo(tmp_path, "dependencies = ['numpy']\ndef netG():\n    return 7\n")
    assert tg.hub.load(repo, "netG", source="local") == 7


def test_hub_load_model_must_be_a_name(tmp_path):
    repo = _repo(tmp_path, "def netG():\n    return 1\n")
    with pytest.raises(ConfigTypeError, match="model must be the name"):
        tg.hub.load(repo, 5, source="local")


def test_an_entry_points_own_error_is_left_as_it_is(tmp_path):
    repo = _repo(tmp_path, "def netG():\n    raise ZeroDivisionError('inside the entry point')\n")
    with pytest.raises(ZeroDivisionError, match="inside the entry point"):
        tg.hub.load(repo, "netG", source="local")


def test_weights_url_that_served_garbage_says_how_to_fetch_it_again(tmp_path, monkeypatch):
    from tensorgan.vision import models
    from tensorgan.errors import CheckpointError
    monkeypatch.setattr(tg.hub, "_hub_dir", [str(tmp_path / "hub")])
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: _CutResponse(b"<html>no</html>", 15))
    with pytest.raises(CheckpointError, match=r"downloaded from http://example\.invalid/a\.pt; delete .*a\.pt"):
        models.alexnet(weights="http://example.invalid/a.pt")


def test_weights_url_with_an_unusable_hub_dir_is_a_data_error(tmp_path, monkeypatch):
    from tensorgan.vision import models
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(tg.hub, "_hub_dir", [str(blocker / "hub")])
    with pytest.raises(DataError, match="cannot create .*checkpoints.* set another folder"):
        models.alexnet(weights="http://example.invalid/a.pt")


# ------------------------------------------------------------------------------- datasets
_REC10 = bytes([3]) + bytes(3072)


def _cifar(tmp_path, files, cls=datasets.CIFAR10):
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return cls(tmp_path, train=False)


def test_an_empty_cifar_file_is_an_error_not_an_empty_dataset(tmp_path):
    with pytest.raises(DataError, match=r"test_batch\.bin: the file is empty"):
        _cifar(tmp_path, {"test_batch.bin": b""})


def test_cifar100_coarse_labels_are_range_checked(tmp_path):
    with pytest.raises(DataError, match="coarse label 250 .* out of range for 20 superclasses"):
        _cifar(tmp_path, {"test.bin": bytes([2, 7]) + bytes(3072) + bytes([250, 3]) + bytes(3072)},
               datasets.CIFAR100)
    ds = _cifar(tmp_path, {"test.bin": bytes([19, 99]) + bytes(3072)}, datasets.CIFAR100)
    assert ds.coarse_targets == [19] and ds.targets == [99]


class _Zeros(io.RawIOBase):
    def __init__(self, n):
        self.n = n

    def readable(self):
        return True

    def readinto(self, b):
        k = min(len(b), self.n)
        b[:k] = bytes(k)
        self.n -= k
        return k


def test_a_tar_member_declaring_too_many_bytes_is_refused_before_it_is_read(tmp_path):
    # 200001 records of zeros gzip to a small archive but would need 615 MB in memory
    with tarfile.open(tmp_path / "cifar-10-binary.tar.gz", "w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin")
        info.size = 3073 * 200_001
        tar.addfile(info, io.BufferedReader(_Zeros(info.size)))
    with pytest.raises(DataError, match=r"test_batch\.bin: 614603073 bytes is more than the 50000 records"):
        datasets.CIFAR10(tmp_path, train=False)


def test_a_tar_with_traversal_and_symlink_members_reads_only_regular_files(tmp_path):
    with tarfile.open(tmp_path / "cifar-10-binary.tar.gz", "w:gz") as tar:
        link = tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
        evil = tarfile.TarInfo("../../evil/test_batch.bin")
        evil.size = len(_REC10) * 2
        tar.addfile(evil, io.BytesIO(_REC10 * 2))
    ds = datasets.CIFAR10(tmp_path, train=False)     # the data come from the regular member
    assert len(ds) == 2 and ds.targets == [3, 3]
    assert sorted(p.name for p in tmp_path.parent.rglob("evil")) == []


def test_fashion_mnist_labels_beyond_its_classes_are_an_error(tmp_path):
    from tensorgan.data.idx import write_idx
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "t10k-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    write_idx(raw / "t10k-labels-idx1-ubyte", np.array([1, 200, 2], np.uint8))
    with pytest.raises(DataError, match=r"labels-idx1-ubyte: label 200 \(item 1\) is out of range for 10 classes"):
        datasets.FashionMNIST(tmp_path, train=False)


def test_dataset_indices_must_be_integers(tmp_path):
    ds = _cifar(tmp_path, {"test_batch.bin": _REC10 * 2})
    with pytest.raises(InputTypeError, match="CIFAR10: index must be an integer, got float 1.5"):
        ds[1.5]
    with pytest.raises(InputTypeError, match="got str"):
        ds["0"]
    with pytest.raises(IndexOutOfRangeError, match="index -3 is out of range for 2 images"):
        ds[-3]
    assert ds[np.int64(1)][1] == 3 and ds[tg.tensor(-1)][1] == 3
    fake = datasets.FakeData(size=3, image_size=(3, 4, 4))
    with pytest.raises(InputTypeError, match="FakeData: index must be an integer"):
        fake[0.5]


# ------------------------------------------------------------------------------ transforms
from PIL import Image  # noqa: E402

from tensorgan.vision import transforms as T  # noqa: E402
from tensorgan.vision.transforms import functional as F  # noqa: E402

_NAN, _INF = float("nan"), float("inf")


@pytest.mark.parametrize("call, match", [
    (lambda x: F.adjust_brightness(x, _NAN), "brightness_factor must be finite, got nan"),
    (lambda x: F.adjust_contrast(x, _INF), "contrast_factor must be finite"),
    (lambda x: F.adjust_saturation(x, _NAN), "saturation_factor must be finite"),
    (lambda x: F.adjust_hue(x, _NAN), "hue_factor must be finite"),
    (lambda x: F.gaussian_blur(x, 3, _NAN), "sigma must be finite"),
    (lambda x: F.gaussian_blur(x, 3, [1.0, _INF]), "sigma must be finite"),
    (lambda x: F.rotate(x, _NAN), "angle must be finite"),
    (lambda x: F.rotate(x, _INF), "angle must be finite"),
    (lambda x: F.affine(x, 0, [0, 0], _NAN, 0), "scale must be finite"),
    (lambda x: F.affine(x, 0, [_NAN, 0], 1.0, 0), "translate must be finite"),
    (lambda x: F.affine(x, 0, [0, 0], 1.0, [0, _INF]), "shear must be finite"),
    (lambda x: F.normalize(x, [0.5] * 3, [_NAN] * 3), "mean and std must be finite"),
    (lambda x: F.normalize(x, [_INF] * 3, [1.0] * 3), "mean and std must be finite"),
])
def test_non_finite_parameters_are_refused_not_turned_into_nan_or_black_images(call, match):
    x = tg.rand(3, 8, 8)
    for img in (x, F.to_pil_image(x)) if "mean and std" not in match else (x,):
        with pytest.raises(ConfigError, match=match):
            call(img)


@pytest.mark.parametrize("call, match", [
    (lambda x: F.adjust_brightness(x, "2"), "brightness_factor must be a number, got str"),
    (lambda x: F.adjust_hue(x, None), "hue_factor must be a number, got NoneType"),
    (lambda x: F.resize(x, 2.5), "size must be an int or a sequence"),
    (lambda x: F.resize(x, "8"), "size must be an int or a sequence"),
    (lambda x: F.resize(x, [4.0, 4]), "size must be an int or a sequence"),
    (lambda x: F.crop(x, 0.5, 0, 2, 2), "crop: top must be an int, got float"),
    (lambda x: T.RandomHorizontalFlip(p="a"), "p must be a probability"),
])
def test_parameters_of_the_wrong_kind_are_config_type_errors(call, match):
    with pytest.raises(ConfigTypeError, match=match):
        call(tg.rand(3, 8, 8))


def test_resize_still_takes_ints_and_numpy_ints():
    x = tg.rand(3, 8, 6)
    assert tuple(F.resize(x, np.int64(3)).shape) == (3, 4, 3)
    assert tuple(F.resize(x, [4, 2]).shape) == (3, 4, 2)


def test_crop_sizes_below_one_are_refused_not_sliced_from_the_far_edge():
    x = tg.arange(3 * 8 * 8, dtype=tg.float32).reshape(3, 8, 8)
    with pytest.raises(ConfigError, match="height and width must be at least 1, got height=-2"):
        F.crop(x, 0, 0, -2, 4)                # x[..., 0:-2] would be 6 rows
    with pytest.raises(ConfigError, match="got height=0"):
        T.RandomCrop(0)(x)
    with pytest.raises(ConfigError, match=r"center_crop: the output size \(-2, -2\) must be at least 1x1"):
        F.center_crop(x, -2)
    with pytest.raises(ConfigError, match="must be at least 1x1"):
        F.center_crop(F.to_pil_image(x / 200), 0)
    np.testing.assert_array_equal(F.crop(x, 1, 2, 3, 4).numpy(), x.numpy()[:, 1:4, 2:6])


def test_resizing_an_empty_image_is_a_shape_error_not_a_zero_division():
    with pytest.raises(tg.errors.ShapeError, match=r"resize: the image is empty \(0x0 pixels\)"):
        F.resize(Image.new("RGB", (0, 0)), 8)
    with pytest.raises(tg.errors.ShapeError, match=r"the image is empty \(0x4 pixels\)"):
        F.resize(tg.zeros(3, 0, 4), [2, 2])


@pytest.mark.parametrize("mode", ["I", "F", "P", "1"])
def test_pil_colour_adjustments_on_an_unsupported_mode_name_it(mode):
    img = Image.new(mode, (4, 4))
    for fn in (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation):
        with pytest.raises(ConfigError, match=f"mode '{mode}' is not supported"):
            fn(img, 1.5)


@pytest.mark.parametrize("make", [
    lambda p: T.RandomHorizontalFlip(p), lambda p: T.RandomVerticalFlip(p),
    lambda p: T.RandomGrayscale(p), lambda p: T.RandomApply([F.hflip], p=p)])
def test_random_transform_probabilities_must_lie_in_0_1(make):
    for p in (2, -0.1, _NAN):
        with pytest.raises(ConfigError, match=r"p should be a floating point value in the interval \[0.0, 1.0\]"):
            make(p)
    assert make(1.0).p == 1.0 and make(0).p == 0


# ------------------------------------------------------------------- SummaryWriter media
from tensorgan.errors import DTypeError, NonFiniteError, ShapeError  # noqa: E402


@pytest.fixture
def writer(tmp_path):
    from tensorgan.utils.tensorboard import SummaryWriter
    w = SummaryWriter(str(tmp_path / "runs"))
    yield w
    w.close()


def test_add_video_and_add_audio_refuse_nan_instead_of_writing_arbitrary_bytes(writer):
    clip = tg.rand(1, 2, 3, 4, 4)
    clip[0, 1, 2, 3, 0] = float("nan")
    with pytest.raises(NonFiniteError, match=r"add_video: 1 NaN / inf value\(s\) \(the first at flat index 92"):
        writer.add_video("v", clip)
    with pytest.raises(NonFiniteError, match="add_audio: 1 NaN / inf value.*index 1: inf"):
        writer.add_audio("a", tg.tensor([0.1, float("inf"), -0.2]))
    with pytest.raises(DTypeError, match="complex"):
        writer.add_audio("a", np.array([0.5j, 0.1]))
    writer.add_video("ok", tg.rand(1, 2, 3, 4, 4))
    writer.add_audio("ok", tg.tensor([0.1, -0.2]))


@pytest.mark.parametrize("shape", [(1, 0, 3, 4, 4), (0, 2, 3, 4, 4), (1, 2, 3, 0, 4)])
def test_add_video_of_an_empty_clip_is_a_shape_error(writer, shape):
    with pytest.raises(ShapeError, match=r"add_video: vid_tensor is empty"):
        writer.add_video("v", tg.rand(*shape))


def test_add_audio_sample_rate_must_fit_a_wav_header(writer):
    with pytest.raises(ConfigError, match="sample_rate must be a positive int, got 1099511627776"):
        writer.add_audio("a", tg.zeros(4), sample_rate=2**40)


@pytest.mark.parametrize("layout, error, match", [
    ({"GAN": ["loss/D"]}, ConfigTypeError, "category names .* to dicts of charts"),
    ({5: {"c": ["Multiline", ["a"]]}}, ConfigTypeError, "category names"),
    ({"GAN": {"c": ["Multilne", ["a"]]}}, ConfigError, "type 'Multilne'; the types are 'Multiline' and 'Margin'"),
    ({"GAN": {"c": ["Multiline", "loss/D"]}}, ConfigTypeError, "tags of chart 'c' must be a list of str, got 'loss/D'"),
    ({"GAN": {"c": ["Multiline", [1, 2]]}}, ConfigTypeError, "must be a list of str"),
    ({"GAN": {"c": ["Multiline", ["a"], 3]}}, ConfigError, r"must be named by a str and be \['Multiline' or 'Margin'"),
])
def test_add_custom_scalars_checks_the_layout(writer, layout, error, match):
    with pytest.raises(error, match=match):
        writer.add_custom_scalars(layout)


def test_add_mesh_checks_faces_colours_and_batch(writer):
    verts = tg.rand(1, 4, 3)
    for faces in ([[[0.5, 1, 2]]], [[[0, 1, 4]]], [[[0, 1, -1]]]):
        with pytest.raises(ConfigError, match=r"faces must hold whole vertex indices in \[0, 4\)"):
            writer.add_mesh("m", verts, faces=tg.tensor(faces))
    with pytest.raises(ConfigError, match=r"colors must lie in \[0, 255\]"):
        writer.add_mesh("m", verts, colors=tg.full((1, 4, 3), 300.0))
    with pytest.raises(ShapeError, match="colors has 5 entries per mesh but there are 4 vertices"):
        writer.add_mesh("m", verts, colors=tg.zeros(1, 5, 3))
    with pytest.raises(ShapeError, match="batch size 2 but the vertices 1"):
        writer.add_mesh("m", verts, faces=tg.zeros(2, 1, 3, dtype=tg.int64))
    with pytest.raises(NonFiniteError, match=r"add_mesh \(vertex\)"):
        writer.add_mesh("m", tg.tensor([[[float("nan"), 0.0, 0.0]]]))
    with pytest.raises(ConfigTypeError, match="config_dict must be JSON-serialisable"):
        writer.add_mesh("m", verts, config_dict={"camera": object()})
    with pytest.raises(ConfigError, match="give vertices"):
        writer.add_mesh("m", None, faces=tg.tensor([[[0, 1, 2]]]))
    writer.add_mesh("m", verts, faces=tg.tensor([[[0, 1, 3]]]), colors=tg.full((1, 4, 3), 255))


# --------------------------------------------------------------------------------- tg.cuda
def test_cuda_stream_context_refuses_a_non_stream():
    with pytest.raises(InputTypeError, match="tg.cuda.stream: expected a tg.cuda.Stream or None, got int"):
        with tg.cuda.stream(5):
            pass
    with tg.cuda.stream(None):          # no change, with or without CUDA (as torch's)
        pass


def test_image_folder_enters_each_real_folder_once_despite_symlink_loops(tmp_path):
    import os
    root = tmp_path / "root"
    (root / "cat" / "sub").mkdir(parents=True)
    Image.new("RGB", (2, 2)).save(root / "cat" / "a.png")
    Image.new("RGB", (2, 2)).save(root / "cat" / "sub" / "b.png")
    # a link to an ancestor repeated every file down to the kernel's link limit (and two such
    # links made 2**40 paths: a hang)
    os.symlink("..", root / "cat" / "sub" / "loop")
    outside = tmp_path / "more"
    outside.mkdir()
    Image.new("RGB", (2, 2)).save(outside / "c.png")
    os.symlink(outside, root / "cat" / "linked")       # a link elsewhere is still followed
    ds = datasets.ImageFolder(str(root))
    assert sorted(os.path.relpath(p, root) for p, _ in ds.samples) == [
        "cat/a.png", "cat/linked/c.png", "cat/sub/b.png"]


def _png_header_only(width, height):
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b""))


def test_image_folder_loader_names_a_decompression_bomb_and_broken_files(tmp_path):
    from tensorgan.vision.datasets.folder import pil_loader
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header_only(100_000, 100_000))      # 10**10 pixels declared in 70 bytes
    with pytest.raises(DataError, match=r"bomb\.png: refused to decode .*MAX_IMAGE_PIXELS"):
        pil_loader(str(bomb))
    short = tmp_path / "short.png"
    short.write_bytes(_png_header_only(50, 50))
    with pytest.raises(DataError, match=r"short\.png: cannot read image \(OSError: image file is truncated"):
        pil_loader(str(short))


@pytest.mark.parametrize("make, match", [
    (lambda: T.RandomResizedCrop(8, ratio=(0, 1)), r"scale must be >= 0 and ratio > 0"),
    (lambda: T.RandomResizedCrop(8, ratio=(-1, 2)), r"ratio > 0, got scale=\(0.08, 1.0\), ratio=\(-1, 2\)"),
    (lambda: T.RandomResizedCrop(8, scale=(_NAN, 1)), "RandomResizedCrop: scale must be finite"),
    (lambda: T.RandomRotation(_INF), "RandomRotation: degrees must be finite"),
    (lambda: T.RandomRotation((0, _NAN)), "RandomRotation: degrees must be finite"),
    (lambda: T.RandomAffine(0, shear=_NAN), "RandomAffine: shear must be finite"),
    (lambda: T.RandomChoice([F.hflip, F.vflip], p=[-1, 2]), r"weights p must be >= 0, got \[-1, 2\]"),
    (lambda: T.RandomChoice([F.hflip, F.vflip], p=[_NAN, 1]), "RandomChoice: p must be finite"),
])
def test_random_transform_ranges_are_checked_when_made_not_at_the_first_image(make, match):
    with pytest.raises(ConfigError, match=match):
        make()


def test_a_garbled_content_length_is_ignored_not_a_crash(tmp_path, monkeypatch):
    response = _CutResponse(b"abcd", 4)
    response.headers = {"Content-Length": "lots"}
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: response)
    tg.hub.download_url_to_file("http://example.invalid/f.bin", tmp_path / "f.bin", progress=True)
    assert (tmp_path / "f.bin").read_bytes() == b"abcd"
