"""Gaps found porting PyTorch-GAN's image-to-image programs (pix2pix, cyclegan, srgan,
context_encoder, ccgan, stargan, unit): torchvision's save_image / make_grid, the
``torch.cuda.FloatTensor`` idiom, InstanceNorm's running-stat buffers and num_features check,
state dicts without ``num_batches_tracked``, and a parameter listed twice in one optimizer group.
Expected values come from first principles (no torch import)."""
import warnings

import numpy as np
import pytest
from PIL import Image

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import (CheckpointError, ConfigError, DeviceError, InputTypeError,
                              ShapeError)
from tensorgan.utils import make_grid, save_image


def _has_cuda():
    try:
        tg.get_device("cuda")
        return True
    except DeviceError:
        return False


# -- make_grid / save_image (torchvision.utils) ----------------------------------------------------
def _reference_grid(x, nrow, padding, pad_value):
    n, c, h, w = x.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value,
                   x.dtype)
    for k in range(n):
        y, xx = divmod(k, cols)
        grid[:, padding + y * (h + padding):padding + y * (h + padding) + h,
             padding + xx * (w + padding):padding + xx * (w + padding) + w] = x[k]
    return grid


def test_make_grid_layout_padding_and_gray_to_rgb():
    x = np.arange(5 * 1 * 2 * 3, dtype=np.float32).reshape(5, 1, 2, 3)
    g = make_grid(tg.tensor(x), nrow=2, padding=1, pad_value=-7.0)
    assert isinstance(g, tg.Tensor) and g.dtype == tg.float32
    # 1 channel is repeated to 3; 5 images in rows of 2 -> 3 rows
    assert g.shape == (3, 3 * 3 + 1, 2 * 4 + 1)
    np.testing.assert_array_equal(g.numpy(), _reference_grid(np.repeat(x, 3, 1), 2, 1, -7.0))
    # default nrow=8, padding=2: one row of 5
    assert make_grid(tg.tensor(x)).shape == (3, 2 + 2 + 2, 5 * 5 + 2)


def test_make_grid_normalize_whole_batch_each_image_and_value_range():
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 5, (4, 3, 2, 2)).astype(np.float64)
    g = make_grid(tg.tensor(x), nrow=4, padding=0, normalize=True).numpy()
    np.testing.assert_allclose(g, _reference_grid((x - x.min()) / (x.max() - x.min()), 4, 0, 0))
    each = make_grid(tg.tensor(x), nrow=4, padding=0, normalize=True, scale_each=True).numpy()
    per = np.stack([(im - im.min()) / (im.max() - im.min()) for im in x])
    np.testing.assert_allclose(each, _reference_grid(per, 4, 0, 0))
    ranged = make_grid(tg.tensor(x), nrow=4, padding=0, normalize=True, value_range=(-1, 1)).numpy()
    np.testing.assert_allclose(ranged, _reference_grid((np.clip(x, -1, 1) + 1) / 2, 4, 0, 0))
    # the input is not changed (torchvision normalizes a clone)
    t = tg.tensor(x)
    make_grid(t, normalize=True)
    np.testing.assert_array_equal(t.numpy(), x)


def test_make_grid_single_image_list_and_errors():
    img = np.ones((3, 4, 5), np.float32)
    assert make_grid(tg.tensor(img)).shape == (3, 4, 5)          # one image: no padding
    assert make_grid(tg.tensor(img[0])).shape == (3, 4, 5)       # (H, W): gray -> RGB
    assert make_grid([tg.tensor(img), tg.tensor(img)], padding=0).shape == (3, 4, 10)
    with pytest.raises(ShapeError, match="make_grid"):
        make_grid(tg.zeros(1, 1, 1, 2, 2))
    with pytest.raises(InputTypeError, match="make_grid"):
        make_grid(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ConfigError, match="nrow"):
        make_grid(tg.zeros(2, 3, 4, 4), nrow=0)
    with pytest.raises(InputTypeError, match="value_range"):
        make_grid(tg.zeros(2, 3, 4, 4), normalize=True, value_range=1.0)


def test_save_image_writes_rounded_pixels_of_the_grid(tmp_path):
    # a GAN's [-1, 1] output with normalize=True -> [0, 1] -> round(255 x)
    x = np.array([-1.0, -0.5, 0.0, 0.999, 1.0, 0.3], np.float32).reshape(1, 1, 2, 3)
    two = np.concatenate([x, -x])
    save_image(tg.tensor(two), tmp_path / "g.png", nrow=2, padding=1, normalize=True)
    with Image.open(tmp_path / "g.png") as im:
        assert im.mode == "RGB"
        got = np.asarray(im)
    expected = _reference_grid(np.repeat((two + 1) / 2, 3, 1), 2, 1, 0.0)
    expected = np.clip(expected * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(got, expected)
    assert got[1, 1, 0] == 0 and got[1, 5, 0] == 255     # -1 -> 0, the flipped image's -(-1) -> 255
    # values outside [0, 1] without normalize are clamped; a file object works as torchvision's
    with open(tmp_path / "c.png", "wb") as f:
        save_image(tg.tensor(np.array([[[-2.0, 0.5, 9.0]]], np.float32)), f)
    with Image.open(tmp_path / "c.png") as im:
        np.testing.assert_array_equal(np.asarray(im)[0, :, 0], [0, 128, 255])


# -- torch.cuda.FloatTensor ------------------------------------------------------------------------
def test_cuda_legacy_tensor_types_exist_and_name_the_cuda_device():
    T = tg.cuda.FloatTensor
    assert T.dtype == tg.float32 and tg.cuda.LongTensor.dtype == tg.int64
    assert not isinstance(tg.zeros(2), T)           # a CPU tensor is not a cuda.FloatTensor
    assert isinstance(tg.zeros(2), tg.FloatTensor)
    with pytest.raises(AttributeError):
        tg.cuda.NoSuchTensor
    if not _has_cuda():
        with pytest.raises(DeviceError):
            T(np.ones((2, 3)))
        return
    x = T(np.ones((2, 3)))
    assert x.device.type == "cuda" and x.dtype == tg.float32 and isinstance(x, T)
    y = tg.arange(3).type(T)                        # PyTorch-GAN's batch.type(Tensor)
    assert y.device.type == "cuda" and y.dtype == tg.float32
    assert isinstance(tg.cuda.LongTensor([1.7]), tg.cuda.LongTensor)


# -- InstanceNorm ----------------------------------------------------------------------------------
def test_instance_norm_with_running_stats_has_torchs_state_dict_keys():
    inorm = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    assert list(inorm.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                        "num_batches_tracked"]
    inorm(tg.randn(2, 3, 4, 4))
    assert int(inorm.num_batches_tracked) == 0       # torch's instance norm never counts
    assert "num_batches_tracked" not in nn.InstanceNorm2d(3).state_dict()
    # a StarGAN-style checkpoint (with the counter) loads strictly into a fresh model
    model = nn.Sequential(nn.Conv2d(3, 3, 1), nn.InstanceNorm2d(3, affine=True, track_running_stats=True))
    sd = {k: v.numpy() for k, v in model.state_dict().items()}
    assert "1.num_batches_tracked" in sd
    nn.Sequential(nn.Conv2d(3, 3, 1),
                  nn.InstanceNorm2d(3, affine=True, track_running_stats=True)).load_state_dict(sd)


def test_instance_norm_num_features_mismatch_warns_only_without_affine():
    x = tg.randn(2, 8, 4, 4)
    with pytest.warns(UserWarning, match=r"\(8\) does not match num_features \(64\)"):
        y = nn.InstanceNorm2d(64)(x)                # UNIT's encoder, at any width
    a = x.numpy()
    expected = (a - a.mean((2, 3), keepdims=True)) / np.sqrt(a.var((2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ShapeError, match="expected 64 channels"):
        nn.InstanceNorm2d(64, affine=True)(x)
    with pytest.raises(ShapeError, match="expected 64 channels"):
        nn.InstanceNorm2d(64, track_running_stats=True)(x)


# -- num_batches_tracked missing from a state dict ---------------------------------------------------
def test_norm_state_dict_without_num_batches_tracked_loads_keeping_the_count():
    bn = nn.BatchNorm2d(3)
    bn(tg.randn(4, 3, 2, 2))
    bn(tg.randn(4, 3, 2, 2))
    plain = {k: v.numpy() for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    plain["running_mean"] = np.full(3, 0.5, np.float32)
    result = bn.load_state_dict(plain)              # a dict assembled by hand / a pre-0.4.1 file
    assert not result.missing_keys and not result.unexpected_keys
    assert int(bn.num_batches_tracked) == 2
    np.testing.assert_array_equal(bn.running_mean.numpy(), 0.5)
    # a version-2 state dict (what state_dict() writes) must still carry it, as in torch
    versioned = bn.state_dict()
    assert versioned._metadata[""]["version"] == 2
    del versioned["num_batches_tracked"]
    with pytest.raises(CheckpointError, match="num_batches_tracked"):
        bn.load_state_dict(versioned)


# -- a parameter listed twice in one optimizer group -------------------------------------------------
def test_duplicate_parameter_in_a_group_warns_and_steps_twice_on_one_state():
    p = nn.Parameter(tg.tensor(np.array([1.0, 1.0]), dtype="float64"))
    with pytest.warns(UserWarning, match="duplicate parameters"):
        opt = tg.optim.Adam([p, p], lr=0.1)
    g = np.array([1.0, 2.0])
    p.grad = tg.tensor(g, dtype="float64")
    opt.step()
    # torch's single-tensor Adam: two full updates in a row, the state's step going 1 then 2
    w, m, v = np.ones(2), np.zeros(2), np.zeros(2)
    for t in (1, 2):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w = w - 0.1 / (1 - 0.9 ** t) * m / (np.sqrt(v) / np.sqrt(1 - 0.999 ** t) + 1e-8)
    np.testing.assert_allclose(p.numpy(), w, rtol=1e-12)
    assert opt.state[p]["step"] == 2 and len(opt.state) == 1
    opt.load_state_dict(opt.state_dict())           # still one state for the two listings
    assert opt._states[0] is opt._states[1]
    with pytest.raises(ConfigError, match="more than one group"):
        tg.optim.Adam([{"params": [p]}, {"params": [p]}])
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # no warning without duplicates
        tg.optim.Adam([p])
