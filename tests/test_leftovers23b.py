"""Session-23 leftovers (b): wrapper prefixes in load_state_dict, RandomErasing / FiveCrop /
TenCrop / LinearTransformation, SummaryWriter tag types, MNIST image shapes, seed ranges and
meshgrid's missing-indexing warning."""
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.vision.transforms.functional as TF
from tensorgan import shape_index_ops
from tensorgan.errors import (ConfigError, ConfigTypeError, DataError, DTypeError, InputTypeError,
                              ShapeError, StateDictMismatchError)
from tensorgan.nn.modules.utils import consume_prefix_in_state_dict_if_present
from tensorgan.vision import transforms as T


# ---------------------------------------------------------------- 1. wrapper prefixes

def _net():
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))


@pytest.mark.parametrize("prefix", ["module.", "_orig_mod."])
def test_prefixed_checkpoint_names_the_prefix_and_the_fix(prefix):
    net = _net()
    sd = {prefix + k: v for k, v in net.state_dict().items()}
    with pytest.raises(StateDictMismatchError) as info:
        _net().load_state_dict(sd)
    msg = str(info.value)
    assert "missing key(s)" in msg and "unexpected key(s)" in msg        # the list is kept
    assert f"the checkpoint's keys all carry the prefix {prefix!r}" in msg
    assert f"k.removeprefix({prefix!r})" in msg
    fixed = {k.removeprefix(prefix): v for k, v in sd.items()}           # the advice works
    _net().load_state_dict(fixed)


def test_wrapped_model_unprefixed_checkpoint_names_the_reverse_fix():
    inner = _net()
    wrapper = nn.Module()
    wrapper.module = inner
    with pytest.raises(StateDictMismatchError, match=r"the model's keys all carry the prefix "
                                                     r"'module\.'.*model\.module\.load_state_dict"):
        wrapper.load_state_dict(_net().state_dict())


def test_unrelated_key_mismatch_has_no_prefix_hint():
    sd = {"module." + k: v for k, v in _net().state_dict().items()}
    with pytest.raises(StateDictMismatchError) as info:
        nn.Linear(5, 5).load_state_dict(sd)          # no stripped key is one of the model's
    assert "prefix" not in str(info.value)


def test_consume_prefix_in_state_dict_if_present():
    sd = OrderedDict([("module.a", 1), ("module.b.c", 2), ("d", 3)])
    sd._metadata = OrderedDict([("", {}), ("module", {"v": 1}), ("module.b", {"v": 2})])
    assert consume_prefix_in_state_dict_if_present(sd, "module.") is None
    assert dict(sd) == {"a": 1, "b.c": 2, "d": 3}
    # '' (the wrapper's own entry) is kept, then 'module' (the model's) takes its place, as torch's
    assert dict(sd._metadata) == {"": {"v": 1}, "b": {"v": 2}}


# ---------------------------------------------------------------- 2. vision transforms

def _img(c=3, h=12, w=16, dtype=np.float32):
    return tg.tensor(np.arange(c * h * w, dtype=dtype).reshape(c, h, w))


def test_random_erasing_sets_one_box_to_the_value():
    tg.manual_seed(0)
    img = _img()
    out = T.RandomErasing(p=1.0, value=(-1.0, -2.0, -3.0))(img)
    assert out is not img and np.array_equal(img.numpy(), _img().numpy())   # not in place
    changed = out.numpy() != img.numpy()
    rows, cols = np.nonzero(changed[0])
    h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert changed[0].sum() == h * w and (changed == changed[0]).all()     # one box, every channel
    for c, v in enumerate((-1.0, -2.0, -3.0)):
        assert (out.numpy()[c][changed[c]] == v).all()
    assert 0.02 * 12 * 16 - 12 - 16 <= h * w <= 0.33 * 12 * 16 + 12 + 16


def test_random_erasing_random_value_inplace_seed_and_grad():
    img = _img()
    tg.manual_seed(5)
    a = T.RandomErasing(p=1.0, value="random")(img).numpy()
    tg.manual_seed(5)
    b = T.RandomErasing(p=1.0, value="random")(img).numpy()
    assert np.array_equal(a, b) and not np.array_equal(a, img.numpy())
    u = tg.tensor(np.full((1, 10, 10), 9, dtype=np.uint8))
    assert T.RandomErasing(p=1.0, value=3, inplace=True)(u) is u and (u.numpy() == 3).any()
    assert T.RandomErasing(p=0.0)(img) is img
    x = tg.ones(3, 10, 10, requires_grad=True)
    T.RandomErasing(p=1.0, value=0)(x).sum().backward()
    assert 0 < (x.grad.numpy() == 0).sum() < 300          # the erased box gets no gradient


def test_random_erasing_get_params_falls_back_to_the_whole_image():
    img = _img(h=4, w=4)
    i, j, h, w, v = T.RandomErasing.get_params(img, scale=(1.0, 1.0), ratio=(1.0, 1.0), value=[0.0])
    assert (i, j, h, w) == (0, 0, 4, 4) and v is img        # a box must be smaller than the image
    i, j, h, w, v = T.RandomErasing.get_params(img, scale=(0.25, 0.25), ratio=(1.0, 1.0), value=None)
    assert (h, w) == (2, 2) and tuple(v.shape) == (3, 2, 2) and 0 <= i <= 2 and 0 <= j <= 2


def test_random_erasing_checks():
    with pytest.raises(ConfigError, match="'random'"):
        T.RandomErasing(value="noise")
    with pytest.raises(ConfigTypeError, match="value"):
        T.RandomErasing(value={1: 2})
    with pytest.raises(ConfigError, match="scale should be between 0 and 1"):
        T.RandomErasing(scale=(0.1, 1.5))
    with pytest.raises(ConfigTypeError, match="ratio should be a sequence"):
        T.RandomErasing(ratio=2.0)
    with pytest.raises(ConfigError, match="p should be"):
        T.RandomErasing(p=1.5)
    with pytest.warns(UserWarning, match=r"\(min, max\)"):
        T.RandomErasing(scale=(0.3, 0.1))
    with pytest.raises(ShapeError, match="3 \\(number of input channels\\), got 2"):
        T.RandomErasing(p=1.0, value=(1, 2))(_img())
    with pytest.raises(InputTypeError, match="Tensor"):
        T.RandomErasing(p=1.0)(np.zeros((3, 4, 4)))
    assert repr(T.RandomErasing()) == ("RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), "
                                       "value=0, inplace=False)")


def test_erase_functional():
    img = _img()
    out = TF.erase(img, 1, 2, 3, 4, tg.tensor(7.0))
    expected = img.numpy().copy()
    expected[..., 1:4, 2:6] = 7.0
    assert np.array_equal(out.numpy(), expected) and not np.array_equal(img.numpy(), expected)
    same = TF.erase(img, 0, 0, 1, 1, 0.0, inplace=True)
    assert same is img and img.numpy()[0, 0, 0] == 0.0
    with pytest.raises(InputTypeError, match="Tensor"):
        TF.erase(np.zeros((3, 4, 4)), 0, 0, 1, 1, 0)


def test_five_and_ten_crop():
    img = _img(h=6, w=8)
    a = img.numpy()
    crops = TF.five_crop(img, (2, 3))
    expected = [a[:, :2, :3], a[:, :2, 5:], a[:, 4:, :3], a[:, 4:, 5:], a[:, 2:4, 2:5]]
    # centre: top = round((6 - 2) / 2) = 2, left = round((8 - 3) / 2) = round(2.5) = 2
    assert all(np.array_equal(c.numpy(), e) for c, e in zip(crops, expected))
    assert all(np.array_equal(c.numpy(), e) for c, e in zip(T.FiveCrop((2, 3))(img), expected))
    ten = T.TenCrop(2)(img)
    flipped = a[:, :, ::-1]
    assert len(ten) == 10 and np.array_equal(ten[5].numpy(), flipped[:, :2, :2])
    vten = TF.ten_crop(img, [2], vertical_flip=True)
    assert np.array_equal(vten[9].numpy(), a[:, ::-1][:, 2:4, 3:5])
    assert repr(T.TenCrop(4)) == "TenCrop(size=(4, 4), vertical_flip=False)"
    with pytest.raises(ShapeError, match="bigger than input size"):
        TF.five_crop(img, 7)
    with pytest.raises(ConfigError, match="two dimensions"):
        T.FiveCrop((1, 2, 3))


def test_linear_transformation_whitens_and_checks():
    rng = np.random.default_rng(0)
    d = 2 * 2 * 3
    m = rng.standard_normal((d, d)).astype(np.float32)
    mu = rng.standard_normal(d).astype(np.float32)
    x = rng.standard_normal((4, 2, 2, 3)).astype(np.float32)
    lt = T.LinearTransformation(tg.tensor(m), tg.tensor(mu))
    out = lt(tg.tensor(x))
    expected = ((x.reshape(-1, d) - mu) @ m).reshape(x.shape)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ShapeError, match="square"):
        T.LinearTransformation(tg.zeros(3, 4), tg.zeros(3))
    with pytest.raises(ShapeError, match="mean_vector"):
        T.LinearTransformation(tg.zeros(3, 3), tg.zeros(4))
    with pytest.raises(DTypeError, match="same dtype"):
        T.LinearTransformation(tg.zeros(3, 3), tg.zeros(3, dtype=tg.float64))
    with pytest.raises(ShapeError, match=r"\[2 x 2 x 2\] != 12"):
        lt(tg.zeros(2, 2, 2))
    with pytest.raises(InputTypeError, match="Tensor"):
        T.LinearTransformation(np.eye(3), tg.zeros(3))


# ---------------------------------------------------------------- 3. SummaryWriter tags

def test_summary_writer_refuses_a_non_str_tag_naming_it(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorgan.utils.tensorboard import SummaryWriter
    w = SummaryWriter(str(tmp_path))
    img = np.zeros((3, 4, 4), dtype=np.float32)
    calls = {
        "add_scalar": lambda: w.add_scalar(5, 1.0),
        "add_histogram": lambda: w.add_histogram(5, np.arange(4.0)),
        "add_image": lambda: w.add_image(5, img),
        "add_images": lambda: w.add_images(5, img[None]),
        "add_video": lambda: w.add_video(5, np.zeros((1, 2, 3, 4, 4), dtype=np.float32)),
        "add_audio": lambda: w.add_audio(5, np.zeros(8, dtype=np.float32)),
        "add_text": lambda: w.add_text(5, "x"),
        "add_pr_curve": lambda: w.add_pr_curve(5, np.array([0, 1]), np.array([0.2, 0.8])),
        "add_scalars": lambda: w.add_scalars(5, {"a": 1.0}),
        "add_embedding": lambda: w.add_embedding(np.zeros((2, 3)), tag=5),
    }
    for name, call in calls.items():
        with pytest.raises(InputTypeError, match=rf"SummaryWriter\.{name}: .*must be a str, got int 5"):
            call()
    with pytest.raises(InputTypeError, match="each key of tag_scalar_dict"):
        w.add_scalars("loss", {3: 1.0})
    w.close()


# ---------------------------------------------------------------- 4. MNIST image shape

def _write_mnist(folder, images, labels):
    from tensorgan.data import write_idx
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / "train-images-idx3-ubyte", images)
    write_idx(folder / "train-labels-idx1-ubyte", labels)


def test_fashion_mnist_refuses_images_that_are_not_28x28(tmp_path):
    from tensorgan.vision.datasets import FashionMNIST
    raw = tmp_path / "FashionMNIST" / "raw"
    _write_mnist(raw, np.zeros((4, 32, 32), dtype=np.uint8), np.zeros(4, dtype=np.uint8))
    with pytest.raises(DataError, match=r"FashionMNIST images must be \(N, 28, 28\).*\(4, 32, 32\)"):
        FashionMNIST(str(tmp_path))
    _write_mnist(raw, np.zeros((4, 28, 28), dtype=np.uint8), np.zeros(4, dtype=np.uint8))
    assert tuple(FashionMNIST(str(tmp_path)).data.shape) == (4, 28, 28)


def test_load_mnist_refuses_images_that_are_not_28x28(tmp_path):
    from tensorgan.data import load_mnist
    _write_mnist(tmp_path, np.zeros((4, 16, 16), dtype=np.uint8), np.zeros(4, dtype=np.uint8))
    with pytest.raises(DataError, match=r"MNIST images must be \(N, 28, 28\)"):
        load_mnist("train", tmp_path, verify=False)


# ---------------------------------------------------------------- 5. seeds

@pytest.mark.parametrize("seed", [2**64, 2**70, -2**63 - 1])
def test_seeds_outside_64_bits_are_refused(seed):
    for call in (tg.manual_seed, tg.cuda.manual_seed, tg.cuda.manual_seed_all,
                 lambda s: tg.Generator().manual_seed(s)):
        with pytest.raises(ConfigError, match="out of range"):
            call(seed)


def test_negative_seed_is_taken_modulo_2_64():
    g = tg.Generator().manual_seed(-1)
    assert g.initial_seed() == 2**64 - 1
    assert tg.Generator().manual_seed(-2**63).initial_seed() == 2**63
    a = g.normal((5,))
    b = tg.Generator().manual_seed(2**64 - 1).normal((5,))
    assert np.array_equal(a, b)
    tg.cuda.manual_seed(2**64 - 1)
    tg.cuda.manual_seed(-2**63)


# ---------------------------------------------------------------- 6. meshgrid warning

def test_meshgrid_without_indexing_warns_once(monkeypatch):
    monkeypatch.setattr(shape_index_ops, "_meshgrid_warned", False)
    x, y = tg.arange(3.0), tg.arange(2.0)
    with pytest.warns(UserWarning, match="required to pass the indexing argument"):
        gx, gy = tg.meshgrid(x, y)
    assert tuple(gx.shape) == (3, 2) and np.array_equal(gy.numpy()[0], [0.0, 1.0])   # 'ij'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.meshgrid(x, y)                          # once per process, as torch's
        shape_index_ops._meshgrid_warned = False
        tg.meshgrid(x, y, indexing="xy")           # indexing given: no warning
