"""Gaps found porting StyleGAN2 derivatives beside torch 2.13 (float64, identical weights):
rosinality/stylegan2-pytorch swagan.py (Haar wavelet transforms through the native upfirdn2d),
mit-han-lab/anycost-gan (sliced-weight dynamic channels) and TencentARC/GFPGAN's
gfpganv1_clean_arch.py (nn.LeakyReLU(0.2, True), F.leaky_relu_).  No torch here: expected values
are closed forms or invariants."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F


# -- in-place leaky ReLU: torch's LeakyReluBackward1, whose backward refuses a negative slope -----
@pytest.mark.parametrize("call", [
    lambda t: F.leaky_relu(t, -0.5, inplace=True),
    lambda t: F.leaky_relu_(t, -0.5),
    lambda t: nn.LeakyReLU(-0.5, inplace=True)(t),
])
def test_in_place_leaky_relu_with_a_negative_slope_refuses_backward_like_torch(call):
    x = tg.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = call(x * 1)                                   # the forward runs, as in torch
    np.testing.assert_allclose(y.detach().numpy(), [1.0, 1.0, 3.0])
    assert y.grad_fn.name() == "LeakyReluBackward1"
    with pytest.raises(RuntimeError, match="In-place leakyReLu backward .* negative slope"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match="negative slope"):
        tg.autograd.grad(call(x * 1).sum(), x, create_graph=True)


@pytest.mark.parametrize("slope", [0.2, 0.0])
def test_in_place_leaky_relu_with_a_non_negative_slope_still_differentiates(slope):
    xs = np.array([1.0, -2.0, 3.0])
    x = tg.tensor(xs, requires_grad=True)
    y = F.leaky_relu(x * 1, slope, inplace=True)
    assert y.grad_fn.name() == "LeakyReluBackward1"
    assert F.leaky_relu(x, slope).grad_fn.name() == "LeakyReluBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(xs > 0, 1.0, slope))
    x.grad = None
    (F.leaky_relu_(x * 1, slope) ** 2).sum().backward()       # d/dx (lrelu(x))^2 = 2 lrelu(x) lrelu'(x)
    d = np.where(xs > 0, 1.0, slope)
    np.testing.assert_allclose(x.grad.numpy(), 2 * xs * d * d)


def test_in_place_leaky_relu_negative_slope_without_autograd_is_fine():
    z = tg.tensor(np.array([-1.0, 2.0]))
    F.leaky_relu_(z, -2.0)
    np.testing.assert_allclose(z.numpy(), [2.0, 2.0])
    x = tg.tensor(np.array([-1.0, 2.0]), requires_grad=True)
    with tg.no_grad():
        np.testing.assert_allclose(F.leaky_relu(x * 1, -0.5, inplace=True).numpy(), [0.5, 2.0])


# -- swagan.py: Haar wavelet transform / inverse through rosinality's native upfirdn2d ------------
def _upfirdn2d_native(x, kernel, up=1, down=1, pad=(0, 0, 0, 0)):
    """op/upfirdn2d.py's pure-torch upfirdn2d_native (6-d F.pad, view of a strided slice, flip)."""
    px0, px1, py0, py1 = pad
    _, channel, in_h, in_w = x.shape
    x = x.reshape(-1, in_h, in_w, 1)
    kh, kw = kernel.shape
    out = x.view(-1, in_h, 1, in_w, 1, 1)
    out = F.pad(out, [0, 0, 0, up - 1, 0, 0, 0, up - 1])
    out = out.view(-1, in_h * up, in_w * up, 1)
    out = F.pad(out, [0, 0, max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    out = out.permute(0, 3, 1, 2).reshape([-1, 1, in_h * up + py0 + py1, in_w * up + px0 + px1])
    out = F.conv2d(out, tg.flip(kernel, [0, 1]).view(1, 1, kh, kw))
    out = out.reshape(-1, 1, in_h * up + py0 + py1 - kh + 1, in_w * up + px0 + px1 - kw + 1)
    out = out.permute(0, 2, 3, 1)[:, ::down, ::down, :]
    oh = (in_h * up + py0 + py1 - kh + down) // down
    ow = (in_w * up + px0 + px1 - kw + down) // down
    return out.view(-1, channel, oh, ow)


def _haar():
    lo = tg.ones(1, 2, dtype=tg.float64) / 2 ** 0.5
    hi = tg.ones(1, 2, dtype=tg.float64) / 2 ** 0.5
    hi[0, 0] = -1 * hi[0, 0]
    return lo.T * lo, hi.T * lo, lo.T * hi, hi.T * hi


def test_swagan_haar_transform_and_inverse_reconstruct_and_pass_the_gradient_through():
    x = tg.tensor(np.random.RandomState(0).randn(2, 3, 8, 8), requires_grad=True)
    ll, lh, hl, hh = _haar()
    coeffs = tg.cat([_upfirdn2d_native(x, k, down=2) for k in (ll, lh, hl, hh)], 1)
    assert tuple(coeffs.shape) == (2, 12, 4, 4)
    parts = coeffs.chunk(4, 1)
    back = sum(_upfirdn2d_native(c, k, up=2, pad=(1, 0, 1, 0))
               for c, k in zip(parts, (ll, -lh, -hl, hh)))
    np.testing.assert_allclose(back.detach().numpy(), x.detach().numpy(), atol=1e-13)
    # orthonormal transform: energy kept; d/dx sum(w * iwt(dwt(x))) = w
    np.testing.assert_allclose((coeffs ** 2).sum().item(), (x ** 2).sum().item(), rtol=1e-13)
    w = np.random.RandomState(1).randn(2, 3, 8, 8)
    (back * tg.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), w, atol=1e-13)
