"""Session 28: small differences from torch / torchvision closed (or pinned where they already
matched): make_grid's no-grad result, searchsorted's tensor-only sequence, Upsample's late
mode check, Tensor.clone(memory_format=preserve_format), Tensor.type()'s invalid names."""
import io

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import ConfigError
from tensorgan.utils import make_grid, save_image


# -- 1. make_grid / save_image: torchvision's run under torch.no_grad() --------------------------
def test_make_grid_of_a_tensor_that_requires_grad_is_outside_the_graph():
    x = tg.rand(3, 1, 4, 5, dtype=tg.float64, requires_grad=True)
    grid = make_grid(x, nrow=2, padding=1, normalize=True)
    assert not grid.requires_grad and grid.grad_fn is None
    assert grid.shape == (3, 2 * 5 + 1, 2 * 6 + 1)
    assert make_grid(x[:1]).shape == (3, 4, 5) and not make_grid(x[:1]).requires_grad


def test_save_image_takes_a_tensor_that_requires_grad():
    x = (tg.rand(4, 3, 6, 6, requires_grad=True) * 2 - 1)
    buf = io.BytesIO()
    save_image(x, buf, format="png", nrow=2, normalize=True)
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    assert x.grad_fn is not None                      # the caller's graph is untouched


# -- 2. searchsorted: the sorted sequence must be a tensor (torch: a TypeError) ------------------
@pytest.mark.parametrize("seq", [[1.0, 2.0, 3.0], (1.0, 2.0, 3.0), np.array([1.0, 2.0, 3.0])])
def test_searchsorted_refuses_a_non_tensor_sequence(seq):
    with pytest.raises(TypeError, match="sorted_sequence must be a Tensor"):
        tg.searchsorted(seq, tg.tensor([2.5]))
    with pytest.raises(TypeError, match="boundaries must be a Tensor"):
        tg.bucketize(tg.tensor([2.5]), seq)


# -- 3. Upsample: mode and align_corners checked when called, as torch -------------------------
@pytest.mark.parametrize("mode", ["bogus", None, 1])
def test_upsample_with_an_unknown_mode_builds_and_its_forward_raises(mode):
    up = nn.Upsample(scale_factor=2, mode=mode)
    assert f"mode={mode!r}" in repr(up)
    with pytest.raises(NotImplementedError, match="mode must be one of"):
        up(tg.ones(1, 1, 4, 4))
    with pytest.raises(ConfigError):
        up(tg.ones(1, 1, 4, 4))


def test_upsample_align_corners_on_nearest_raises_when_called():
    up = nn.Upsample(scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="align_corners only applies"):
        up(tg.ones(1, 1, 4, 4))
    ok = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)(tg.ones(1, 1, 2, 2))
    assert ok.shape == (1, 1, 4, 4)


# -- 4. clone(memory_format=preserve_format) is the default clone (torch keeps a dense layout) ---
@pytest.mark.parametrize("make", [lambda: tg.arange(6.0).reshape(2, 3).t(),
                                  lambda: tg.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1),
                                  lambda: tg.arange(6).reshape(2, 3).t()])
def test_clone_preserve_format_keeps_a_permuted_layout(make):
    x = make()
    explicit, default = x.clone(memory_format=tg.preserve_format), x.clone()
    assert explicit.stride() == default.stride() == x.stride()
    assert explicit.tolist() == x.tolist()
    assert x.clone(memory_format=tg.contiguous_format).is_contiguous()


def test_clone_preserve_format_keeps_the_gradient():
    x = tg.arange(6.0, dtype=tg.float64).reshape(2, 3).requires_grad_()
    y = x.t().clone(memory_format=tg.preserve_format)
    (y * tg.tensor([[1.0, 2.0]], dtype=tg.float64)).sum().backward()
    assert x.grad.tolist() == [[1.0] * 3, [2.0] * 3]


# -- 4. Tensor.type(): an invalid type name is torch's ValueError; an int its TypeError ---------
@pytest.mark.parametrize("name", ["bogus", "cpu", "torch.float64", "torch.BogusTensor", "DoubleTensor"])
def test_type_with_an_invalid_name_is_a_value_error(name):
    x = tg.ones(2)
    with pytest.raises(ValueError, match="invalid type"):
        x.type(name)
    with pytest.raises(TypeError):                    # a DTypeError, as before
        x.type(name)


def test_type_names_dtypes_and_an_int():
    x = tg.ones(2)
    assert x.type() == "tensorgan.FloatTensor"
    assert x.type("torch.DoubleTensor").dtype == tg.float64
    assert x.type(tg.float64).dtype == tg.float64 and x.type("int32").dtype == tg.int32
    assert x.type(np.float64).dtype == tg.float64
    assert x.type(tg.float32) is x
    with pytest.raises(TypeError, match="type: dtype must be"):
        x.type(3)
