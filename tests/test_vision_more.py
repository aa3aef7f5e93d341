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
