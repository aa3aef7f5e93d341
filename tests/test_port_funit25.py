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
