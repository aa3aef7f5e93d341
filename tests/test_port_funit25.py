"""Session 25 (h25t): differences from torch 2.13 found by porting NVlabs/FUNIT,
genforce/interfacegan's latent editing and EndlessSora's APA beside torch (float64)."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F


@pytest.mark.parametrize("pad", [(0, 0, 0, 0), (0, 0), (0, -1, 0, 0), (-1, 0, 0, -1)])
def test_constant_pad_without_growth_returns_a_copy(pad):
    # torch's constant_pad_nd clones when no side grows (zero pads, or only crops); FUNIT's
    # ActFirstResBlock relies on it: conv_s(ZeroPad2d(0)(x)) saves the copy, then a LeakyReLU
    # (inplace=True) rewrites x, and backward still works in torch.
    x = tg.arange(12.0).reshape(1, 1, 3, 4)
    y = F.pad(x, pad)
    assert y.data_ptr() != x.data_ptr()
    y.mul_(0)
    np.testing.assert_array_equal(x.numpy(), np.arange(12.0).reshape(1, 1, 3, 4))


def test_zero_pad_0_then_inplace_activation_backward():
    x = tg.randn(1, 2, 4, 4, requires_grad=True)
    h = x * 1
    conv = tg.nn.Conv2d(2, 3, 1, bias=False)
    s = conv(tg.nn.ZeroPad2d(0)(h))          # saves the padded copy, not h
    tg.nn.LeakyReLU(0.2, inplace=True)(h)    # rewrites h in place
    (s.sum() + h.sum()).backward()           # torch: fine
    assert conv.weight.grad is not None and x.grad is not None
    hv = x.detach().numpy()
    expected = conv.weight.detach().numpy().sum(axis=0).reshape(1, 2, 1, 1) + np.where(hv > 0, 1.0, 0.2)
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(expected, hv.shape), rtol=1e-6)


def test_constant_pad_crop_to_exactly_empty_and_pad_an_empty_dim():
    # torch 2.13: F.pad(ones(2, 2), (-2, 0)) -> shape (2, 0); F.pad(ones(2, 0), (1, 1), value=3)
    # -> a (2, 2) of 3s; cropping past the size is refused (RuntimeError, negative output size)
    x = tg.ones(2, 2, requires_grad=True)
    y = F.pad(x, (-2, 0))
    assert y.shape == (2, 0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 2)))
    assert F.pad(tg.ones(2, 2), (-1, -1, 1, 0)).shape == (3, 0)
    e = tg.ones(2, 0)
    np.testing.assert_array_equal(F.pad(e, (1, 1), value=3.0).numpy(), np.full((2, 2), 3.0))
    assert F.pad(e, (0, 0)).shape == (2, 0)
    for shape, p in [((2, 2), (-2, -1)), ((2, 2), (-3, 1)), ((2, 0), (-1, 1))]:
        with pytest.raises(RuntimeError, match="negative output size"):
            F.pad(tg.ones(shape), p)
