"""What the PyTorch-GAN zoo programs (gan, dcgan, wgan, wgan_gp, wgan_div, lsgan, began, ebgan)
need beyond the engine: torchvision's ``utils.make_grid`` / ``utils.save_image`` over tensors
(``save_image(gen_imgs.data[:25], path, nrow=5, normalize=True)``) and the
``Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor`` idiom's GPU classes.
Expected values come from torchvision's documented grid rules, no torch import."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.autograd import Variable
from tensorgan.errors import ConfigError, DeviceError, DTypeError, InputTypeError, ShapeError
from tensorgan.utils import make_grid, save_image


def _images(n, c, h, w, dtype=np.float64, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (n, c, h, w)).astype(dtype)


# --- make_grid --------------------------------------------------------------------------------
def test_make_grid_layout_padding_and_gray_to_rgb():
    x = _images(5, 1, 3, 4)
    grid = make_grid(tg.from_numpy(x), nrow=2, padding=2)
    # 2 columns, ceil(5/2) = 3 rows, each cell (H + pad, W + pad), one more pad at the far edges
    assert grid.shape == (3, 3 * (3 + 2) + 2, 2 * (4 + 2) + 2) and grid.dtype == np.float64
    g = grid.numpy()
    for i in range(5):
        r, k = divmod(i, 2)
        y, xx = 2 + r * 5, 2 + k * 6
        for ch in range(3):                       # one channel repeated as R, G, B
            np.testing.assert_array_equal(g[ch, y:y + 3, xx:xx + 4], x[i, 0])
    mask = np.ones(g.shape[1:], bool)
    for i in range(5):
        r, k = divmod(i, 2)
        mask[2 + r * 5:5 + r * 5, 2 + k * 6:6 + k * 6] = False
    assert not g[:, mask].any()                   # padding and the empty 6th cell: pad_value 0


def test_make_grid_default_nrow_8_and_more_columns_than_images():
    x = tg.from_numpy(_images(10, 3, 2, 2, np.float32))
    assert make_grid(x).shape == (3, 2 * 4 + 2, 8 * 4 + 2) and make_grid(x).dtype == np.float32
    assert make_grid(x, nrow=20, padding=0).shape == (3, 2, 20)   # min(nrow, B) columns


def test_make_grid_normalize_min_max_value_range_scale_each():
    x = _images(3, 3, 4, 4) * np.array([1.0, 2.0, 3.0])[:, None, None, None]
    before = x.copy()
    t = tg.from_numpy(x)
    g = make_grid(t, normalize=True, padding=0, nrow=3).numpy()
    np.testing.assert_allclose(g, np.concatenate(list((x - x.min()) / (x.max() - x.min())), axis=2))
    np.testing.assert_array_equal(t.numpy(), before)                      # input untouched
    g = make_grid(t, normalize=True, value_range=(-1.0, 1.0), padding=0, nrow=3).numpy()
    np.testing.assert_allclose(g, np.concatenate(list((np.clip(x, -1, 1) + 1) / 2), axis=2))
    g = make_grid(t, normalize=True, scale_each=True, padding=0, nrow=3).numpy()
    each = [(im - im.min()) / (im.max() - im.min()) for im in x]
    np.testing.assert_allclose(g, np.concatenate(each, axis=2))
    # torchvision's deprecated range= spelling (with its warning)
    with pytest.warns(UserWarning, match="value_range"):
        old = make_grid(t, normalize=True, range=(-1.0, 1.0)).numpy()
    np.testing.assert_allclose(old, make_grid(t, normalize=True, value_range=(-1.0, 1.0)).numpy())


def test_make_grid_constant_batch_divides_by_1e5_not_zero():
    g = make_grid(tg.full((2, 1, 2, 2), 0.25), normalize=True).numpy()
    assert np.isfinite(g).all() and not g[:, 2:4, 2:4].any()


def test_make_grid_pad_value_single_images_and_lists():
    g = make_grid(tg.zeros(2, 3, 2, 2), padding=1, pad_value=0.5).numpy()
    assert g.shape == (3, 4, 7) and g[0, 0, 0] == 0.5 and g[0, 1, 1] == 0
    assert make_grid(tg.zeros(1, 3, 5, 6)).shape == (3, 5, 6)            # one image: no padding
    assert make_grid(tg.zeros(1, 5, 6)).shape == (3, 5, 6)               # (1, H, W) -> RGB
    assert make_grid(tg.zeros(5, 6)).shape == (3, 5, 6)                  # (H, W)
    assert make_grid(tg.zeros(3, 5, 6)).shape == (3, 5, 6)
    ims = [tg.from_numpy(a) for a in _images(4, 3, 2, 2)]
    np.testing.assert_array_equal(make_grid(ims, nrow=2).numpy(),
                                  make_grid(tg.stack(ims), nrow=2).numpy())


def test_make_grid_of_a_graph_tensor_is_not_part_of_the_graph():
    z = tg.randn(4, 3, 2, 2, requires_grad=True)
    assert not make_grid(z * 2, normalize=True).requires_grad


def test_make_grid_errors_are_typed():
    with pytest.raises(InputTypeError, match="Tensor or a list"):
        make_grid(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ShapeError, match="shapes"):
        make_grid([tg.zeros(3, 2, 2), tg.zeros(3, 3, 3)])
    with pytest.raises(ShapeError, match=r"\(B, C, H, W\)"):
        make_grid(tg.zeros(2, 2, 3, 4, 4))
    with pytest.raises(ConfigError, match="nrow"):
        make_grid(tg.zeros(2, 3, 4, 4), nrow=0)
    with pytest.raises(InputTypeError, match="value_range"):
        make_grid(tg.zeros(2, 3, 4, 4), normalize=True, value_range=(0, 1, 2))
    with pytest.raises(DTypeError, match="normalize"):
        make_grid(tg.zeros(2, 3, 4, 4, dtype=tg.uint8), normalize=True)
    with pytest.raises(InputTypeError, match="unexpected"):
        make_grid(tg.zeros(2, 3, 4, 4), nrows=2)


# --- save_image -------------------------------------------------------------------------------
def test_save_image_pytorch_gan_call_writes_an_rgb_grid(tmp_path):
    gen = tg.tanh(tg.randn(30, 1, 8, 8))                       # G's output in [-1, 1]
    path = tmp_path / "images" / "0.png"
    path.parent.mkdir()
    save_image(gen.data[:25], str(path), nrow=5, normalize=True)
    im = Image.open(path)
    assert im.mode == "RGB" and im.size == (5 * 10 + 2, 5 * 10 + 2)
    a = np.asarray(im)
    x = gen.numpy()[:25]
    want = np.floor((x - x.min()) / (x.max() - x.min()) * 255 + 0.5)    # round half up
    np.testing.assert_allclose(a[2:10, 2:10, 0], want[0, 0], atol=1)   # float32 rounding
    assert a[:, :, 0].max() == 255 and a[2:, 2:, 0][a[2:, 2:, 0] > 0].min() >= 0


def test_save_image_pixels_round_half_up_and_clamp(tmp_path):
    x = tg.tensor([[[0.0, 0.2, 0.5], [1.0, 1.7, -0.3]]], dtype=tg.float64)   # (1, 2, 3)
    save_image(x, tmp_path / "a.png")
    a = np.asarray(Image.open(tmp_path / "a.png"))
    # 0.2 * 255 + 0.5 = 51.5 -> 51 (truncating cast); 0.5 -> 128; out of [0, 1] clamps
    np.testing.assert_array_equal(a[:, :, 0], [[0, 51, 128], [255, 255, 0]])
    np.testing.assert_array_equal(a[:, :, 0], a[:, :, 2])


def test_save_image_file_object_with_format_and_rgb_batch():
    buf = io.BytesIO()
    x = tg.from_numpy(np.random.RandomState(1).uniform(0, 1, (2, 3, 4, 4)).astype(np.float32))
    save_image(x, buf, format="png", padding=0)
    buf.seek(0)
    a = np.asarray(Image.open(buf))
    assert a.shape == (4, 8, 3)
    np.testing.assert_array_equal(a[:, :4], np.clip(x.numpy()[0] * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0))


def test_save_image_refuses_integer_images(tmp_path):
    with pytest.raises(DTypeError, match="floating-point"):
        save_image(tg.zeros(2, 3, 4, 4, dtype=tg.uint8), tmp_path / "x.png")


# --- torch.cuda.FloatTensor & co. ---------------------------------------------------------------
def test_cuda_legacy_classes_exist_with_torch_names_and_dtypes():
    for name, dt in [("FloatTensor", np.float32), ("DoubleTensor", np.float64), ("LongTensor", np.int64),
                     ("IntTensor", np.int32), ("ByteTensor", np.uint8), ("BoolTensor", np.bool_),
                     ("HalfTensor", np.float16), ("ShortTensor", np.int16), ("CharTensor", np.int8)]:
        cls = getattr(tg.cuda, name)
        assert cls.__name__ == name and cls.dtype == dt and cls.__module__ == "tensorgan.cuda"
        assert not isinstance(tg.zeros(2, dtype=dt), cls)            # a CPU tensor is not a cuda one
        assert isinstance(tg.zeros(2, dtype=dt), getattr(tg, name))


def test_pytorch_gan_tensor_idiom_picks_the_device():
    cuda = True if tg.cuda.is_available() else False
    Tensor = tg.cuda.FloatTensor if cuda else tg.FloatTensor
    imgs = tg.from_numpy(_images(4, 1, 4, 4))
    valid = Variable(Tensor(imgs.size(0), 1).fill_(1.0), requires_grad=False)
    real = Variable(imgs.type(Tensor))
    z = Variable(Tensor(np.random.normal(0, 1, (4, 3))))
    assert valid.dtype == real.dtype == z.dtype == np.float32
    assert valid.device.type == real.device.type == z.device.type == ("cuda" if cuda else "cpu")


def test_cuda_legacy_classes_refuse_without_cuda(monkeypatch):
    import tensorgan.backend as backend
    # a machine without CUDA (the suite itself runs with the simulator on)
    monkeypatch.setattr(backend, "_devices", {})
    monkeypatch.setattr(backend, "cuda_status", lambda: (False, "no CUDA here"))
    for make in (lambda: tg.cuda.FloatTensor(2, 1), lambda: tg.cuda.LongTensor([1, 2]),
                 lambda: tg.zeros(2).type(tg.cuda.FloatTensor)):
        with pytest.raises(DeviceError, match="cuda"):
            make()


@pytest.mark.skipif(not tg.cuda.is_available(), reason="needs CUDA")
def test_cuda_legacy_classes_on_the_gpu():
    t = tg.cuda.FloatTensor(3, 1).fill_(1.0)
    assert t.device.type == "cuda" and t.dtype == np.float32 and t.type() == "tensorgan.cuda.FloatTensor"
    assert isinstance(t, tg.cuda.FloatTensor) and not isinstance(t, tg.cuda.DoubleTensor)
    d = tg.zeros(2).type(tg.cuda.DoubleTensor)
    assert d.device.type == "cuda" and d.dtype == np.float64 and isinstance(d, tg.cuda.DoubleTensor)
    buf = io.BytesIO()
    save_image(tg.rand(4, 3, 2, 2, device="cuda"), buf, format="png")     # grid from GPU images
    assert make_grid(tg.rand(4, 3, 2, 2, device="cuda")).device.type == "cuda"


# --- a zoo step end to end (BCE GAN, first-principles D loss at init) ----------------------------
def test_gan_zoo_bce_step_with_constant_discriminator(tmp_path):
    # D outputs sigmoid(0) = 0.5 everywhere (zero weights): both BCE terms are log 2 exactly
    D = nn.Sequential(nn.Linear(16, 1), nn.Sigmoid())
    nn.init.zeros_(D[0].weight)
    nn.init.zeros_(D[0].bias)
    Tensor = tg.FloatTensor
    real = Variable(tg.from_numpy(_images(6, 1, 4, 4)).type(Tensor))
    fake = tg.tanh(tg.randn(6, 1, 4, 4))
    valid = Variable(Tensor(6, 1).fill_(1.0), requires_grad=False)
    zero = Variable(Tensor(6, 1).fill_(0.0), requires_grad=False)
    loss = nn.BCELoss()
    d_loss = (loss(D(real.view(6, -1)), valid) + loss(D(fake.detach().view(6, -1)), zero)) / 2
    assert abs(d_loss.item() - np.log(2)) < 1e-6
    save_image(fake.data[:4], tmp_path / "s.png", nrow=2, normalize=True)
    assert Image.open(tmp_path / "s.png").size == (2 * 6 + 2, 2 * 6 + 2)
