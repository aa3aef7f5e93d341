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
    conv = nn.Conv2d(3, 8, 3, 1, 1).double()
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
