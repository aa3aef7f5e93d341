"""Gaps found porting GAN-zoo programs (eriklindernoren/PyTorch-GAN: cgan, acgan, infogan, sgan,
softmax_gan, relativistic_gan, cogan, aae, dragan, bgan; w86763777/pytorch-gan-collections:
SNGAN / WGAN-GP / GN-GAN CIFAR models, CNN and ResNet) to tensorgan: each test is one thing those
programs do that tensorgan got wrong or refused."""
import importlib

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import InputTypeError


# -- ``from torch.nn.utils.spectral_norm import spectral_norm`` (the collections' models) ---------
def test_spectral_norm_and_weight_norm_module_paths_import_the_functions():
    from tensorgan.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
    from tensorgan.nn.utils.weight_norm import remove_weight_norm, weight_norm
    assert spectral_norm is tg.nn.utils.spectral_norm and remove_spectral_norm is tg.nn.utils.remove_spectral_norm
    assert weight_norm is tg.nn.utils.weight_norm and remove_weight_norm is tg.nn.utils.remove_weight_norm
    # loading the submodules did not leave the package attribute pointing at a module
    for name in ("spectral_norm", "weight_norm"):
        module = importlib.import_module(f"tensorgan.nn.utils.{name}")
        assert callable(getattr(tg.nn.utils, name)) and getattr(tg.nn.utils, name) is not module


def test_spectral_norm_from_its_module_path_normalizes_a_conv():
    from tensorgan.nn.utils.spectral_norm import spectral_norm
    tg.manual_seed(0)      # (the power iteration's speed depends on the weight's singular values:
    conv = nn.Conv2d(3, 8, 3, 1, 1).double()      # a draw left by earlier tests could converge slower)
    nn.init.xavier_uniform_(conv.weight, np.sqrt(2))
    w = conv.weight.detach().numpy().reshape(8, -1).copy()
    spectral_norm(conv)
    assert [n for n, _ in conv.named_parameters()] == ["bias", "weight_orig"]
    assert sorted(n for n, _ in conv.named_buffers()) == ["weight_u", "weight_v"]
    x = tg.tensor(np.random.RandomState(0).randn(2, 3, 5, 5))
    for _ in range(200):                            # power iteration converges to sigma_max
        conv(x)
    sigma = np.linalg.svd(w, compute_uv=False)[0]
    np.testing.assert_allclose(conv.weight.detach().numpy().reshape(8, -1), w / sigma, rtol=1e-6)


# -- ``torch.flip(x, dims=[3])`` (horizontal-flip augmentation in GAN training loops) -------------
def test_flip_takes_dims_as_keyword_like_torch():
    x = tg.arange(24.0).reshape(2, 3, 4)
    ref = x.numpy()
    np.testing.assert_array_equal(tg.flip(x, dims=[2]).numpy(), ref[:, :, ::-1])
    np.testing.assert_array_equal(x.flip(dims=(0, 2)).numpy(), ref[::-1, :, ::-1])
    np.testing.assert_array_equal(x.flip(dims=-1).numpy(), ref[:, :, ::-1])
    np.testing.assert_array_equal(tg.flip(x, [1]).numpy(), ref[:, ::-1])        # the positional forms
    np.testing.assert_array_equal(x.flip(0, 1).numpy(), ref[::-1, ::-1])
    w = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (tg.flip(w, dims=[1]) * tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[3.0, 2.0, 1.0], [6.0, 5.0, 4.0]])


def test_flip_without_dims_or_with_a_wrong_keyword_is_refused():
    x = tg.zeros(2, 2)
    with pytest.raises(InputTypeError, match="missing the dims"):
        x.flip()                                    # torch: flip() missing "dims"
    with pytest.raises(InputTypeError, match="dim"):
        x.flip(dim=1)
    with pytest.raises(InputTypeError, match="1 positional"):
        x.flip(0, dims=[1])


# -- F.interpolate / nn.Upsample mode="bicubic" (resizing in GAN pipelines: SR, FID, CLIP) ----------
_W = (-0.03515625, -0.10546875, 0.26171875, 0.87890625)   # Keys' cubic (A = -0.75) at 1.75, 1.25, .75, .25


def test_bicubic_upsampling_weights_are_the_cubic_convolution_kernel():
    import tensorgan.nn.functional as F
    x = np.zeros((1, 1, 1, 8))
    x[..., 4] = 1.0
    out = F.interpolate(tg.tensor(x), scale_factor=2, mode="bicubic", align_corners=False).numpy()
    expected = np.zeros(16)
    expected[5:13] = _W + _W[::-1]
    assert out.shape == (1, 1, 2, 16)
    np.testing.assert_allclose(out[0, 0], [expected, expected], atol=1e-15)
    # the edges read the first / last pixel again (index clamping), so a ramp overshoots there
    ramp = F.interpolate(tg.tensor(np.arange(8.0).reshape(1, 1, 1, 8)), scale_factor=2, mode="bicubic").numpy()
    np.testing.assert_allclose(ramp[0, 0, 0, 0], _W[1] * 1.0, atol=1e-15)
    # inside: source j / 2 - 0.25 = i0 + t, taps i0 - 1 .. i0 + 2 (A = -0.75 bends lines a little)
    j = np.arange(3, 13)
    i0, t = np.floor(j / 2 - 0.25), (j / 2 - 0.25) % 1
    lean = np.where(t == 0.25, -_W[1] + _W[2] + 2 * _W[0], -_W[0] + _W[3] + 2 * _W[1])
    np.testing.assert_allclose(ramp[0, 0, 0, 3:13], i0 + lean, atol=1e-12)
    # a constant image stays constant (the weights sum to 1); align_corners hits the input pixels
    ones = nn.Upsample(size=(5, 7), mode="bicubic", align_corners=True)(tg.ones(2, 3, 3, 4, dtype=tg.float64))
    np.testing.assert_allclose(ones.numpy(), 1.0, atol=1e-15)
    x = np.random.RandomState(0).randn(1, 2, 4, 4)
    corners = F.interpolate(tg.tensor(x), size=(7, 7), mode="bicubic", align_corners=True).numpy()
    np.testing.assert_allclose(corners[..., ::2, ::2], x, atol=1e-14)


def test_bicubic_gradient_and_dtype():
    import tensorgan.nn.functional as F
    rng = np.random.RandomState(1)
    x = tg.tensor(rng.randn(1, 2, 3, 5), requires_grad=True)
    assert tg.gradcheck(lambda a: F.interpolate(a, size=(4, 9), mode="bicubic", align_corners=False), [x])
    assert tg.gradcheck(lambda a: F.interpolate(a, scale_factor=0.6, mode="bicubic", align_corners=True), [x])
    y = F.interpolate(tg.tensor(rng.randn(1, 1, 4, 4).astype(np.float32)), scale_factor=2, mode="bicubic")
    assert y.dtype == np.float32 and y.shape == (1, 1, 8, 8)
    from tensorgan.errors import ShapeError
    with pytest.raises(ShapeError, match="4-D input"):
        F.interpolate(tg.zeros(1, 1, 4), scale_factor=2, mode="bicubic")


# -- torch's keyword names: torch.ones_like(input=...) (gradient penalties), torch.bmm(input, mat2) --
def test_like_factories_and_mm_bmm_take_torchs_keyword_names():
    x = tg.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(tg.ones_like(input=x).numpy(), np.ones((2, 3, 4)))
    np.testing.assert_array_equal(tg.zeros_like(input=x, dtype=tg.float32).numpy(), np.zeros((2, 3, 4), np.float32))
    np.testing.assert_array_equal(tg.full_like(input=x, fill_value=2.5).numpy(), np.full((2, 3, 4), 2.5))
    assert tg.empty_like(input=x).shape == (2, 3, 4)
    assert tg.randn_like(input=x).shape == (2, 3, 4) and tg.rand_like(input=x).dtype == np.float64
    y = tg.tensor(np.arange(40.0).reshape(2, 4, 5))
    expected = x.numpy() @ y.numpy()
    np.testing.assert_array_equal(tg.bmm(input=x, mat2=y).numpy(), expected)
    np.testing.assert_array_equal(x.bmm(mat2=y).numpy(), expected)
    np.testing.assert_array_equal(tg.mm(x[0], mat2=y[0]).numpy(), expected[0])
    np.testing.assert_array_equal(x[1].mm(mat2=y[1]).numpy(), expected[1])
