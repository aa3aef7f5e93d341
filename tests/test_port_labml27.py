"""Gaps found porting labml.ai's annotated GANs (labml_nn/gan: original GAN, DCGAN, WGAN, WGAN-GP,
CycleGAN, StyleGAN2): ``x.to(self.device)`` with ``device = None``, plus invariants of the
StyleGAN2 pieces the port leans on (sample-wise modulated convolution through a grouped conv, the
R1 penalty's double backward, the path-length EMA kept in no-grad Parameters).  Expected values
come from NumPy, finite differences or first principles (no torch import)."""
import math

import numpy as np

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F


# -- Tensor.to(None): torch's no-op -----------------------------------------------------------------
def test_to_none_returns_self_as_torch():
    x = tg.randn(3, 2)
    assert x.to(None) is x
    assert x.to() is x
    assert x.to(device=None) is x
    assert x.to(None, None) is x


def test_to_none_keeps_the_graph_and_copy_copies():
    w = tg.tensor(np.arange(4.0), requires_grad=True)
    y = (w * 2).to(None)        # labml: torch.randn(...).to(self.device) with device None
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full(4, 2.0))
    x = tg.tensor(np.arange(3.0))
    c = x.to(None, copy=True)
    assert c is not x
    np.testing.assert_array_equal(c.numpy(), x.numpy())
    c.add_(1.0)
    np.testing.assert_array_equal(x.numpy(), np.arange(3.0))


# -- StyleGAN2 modulated conv: grouped conv == per-sample conv ---------------------------------------
def _modulated_weights(weight, s, demodulate, eps=1e-8):
    w = weight[None] * s[:, None, :, None, None]
    if demodulate:
        w = w * tg.rsqrt((w ** 2).sum(dim=(2, 3, 4), keepdim=True) + eps)
    return w


def _modulated_conv_grouped(x, weight, s, demodulate):
    b, _, h, wd = x.shape
    w = _modulated_weights(weight, s, demodulate)
    out = F.conv2d(x.reshape(1, -1, h, wd), w.reshape(b * weight.shape[0], *w.shape[2:]),
                   padding=(weight.shape[-1] - 1) // 2, groups=b)
    return out.reshape(-1, weight.shape[0], h, wd)


def test_modulated_conv_grouped_matches_per_sample_loop():
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((3, 4, 5, 5)))
    weight = tg.tensor(rng.standard_normal((6, 4, 3, 3)))
    s = tg.tensor(rng.standard_normal((3, 4)) + 1.0)
    for demodulate in (True, False):
        out = _modulated_conv_grouped(x, weight, s, demodulate)
        w = _modulated_weights(weight, s, demodulate)
        for i in range(3):
            ref = F.conv2d(x[i:i + 1], w[i], padding=1)
            np.testing.assert_allclose(out[i:i + 1].numpy(), ref.numpy(), atol=1e-12)
    # demodulated weights have unit norm per output channel (up to eps)
    norms = (_modulated_weights(weight, s, True) ** 2).sum(dim=(2, 3, 4)).numpy()
    np.testing.assert_allclose(norms, np.ones((3, 6)), atol=1e-6)


def test_modulated_conv_gradcheck():
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((2, 2, 4, 4)), requires_grad=True)
    weight = tg.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    s = tg.tensor(rng.standard_normal((2, 2)) + 1.0, requires_grad=True)
    assert tg.autograd.gradcheck(lambda a, b, c: _modulated_conv_grouped(a, b, c, True),
                                 (x, weight, s), eps=1e-6, atol=1e-5)


# -- R1 gradient penalty: d(penalty)/d(weights) through a double backward ---------------------------
def _r1_penalty(weight, x):
    x = x.detach().requires_grad_()
    d = F.linear(F.leaky_relu(F.conv2d(x, weight, padding=1), 0.2).reshape(x.shape[0], -1),
                 tg.ones(1, 2 * 3 * 3, dtype=tg.float64))
    g, = tg.autograd.grad(d, x, grad_outputs=d.new_ones(d.shape), create_graph=True)
    return (g.reshape(x.shape[0], -1).norm(2, dim=-1) ** 2).mean()


def test_r1_penalty_weight_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    w0 = rng.standard_normal((2, 1, 3, 3))
    x = tg.tensor(rng.standard_normal((2, 1, 3, 3)))
    w = tg.tensor(w0, requires_grad=True)
    _r1_penalty(w, x).backward()
    fd = np.zeros_like(w0)
    h = 1e-6
    for idx in np.ndindex(*w0.shape):
        up, dn = w0.copy(), w0.copy()
        up[idx] += h
        dn[idx] -= h
        fd[idx] = (_r1_penalty(tg.tensor(up), x).item() - _r1_penalty(tg.tensor(dn), x).item()) / (2 * h)
    np.testing.assert_allclose(w.grad.numpy(), fd, rtol=1e-5, atol=1e-7)


# -- path-length penalty's EMA in requires_grad=False Parameters ------------------------------------
def test_path_length_ema_in_nograd_parameters():
    beta = 0.99
    steps = nn.Parameter(tg.tensor(0., dtype=tg.float64), requires_grad=False)
    exp_sum_a = nn.Parameter(tg.tensor(0., dtype=tg.float64), requires_grad=False)
    means = [1.5, 2.0, 0.5]
    for m in means:
        exp_sum_a.mul_(beta).add_(tg.tensor(m, dtype=tg.float64), alpha=1 - beta)
        steps.add_(1.)
    expected = sum(beta ** (len(means) - 1 - i) * (1 - beta) * m for i, m in enumerate(means))
    assert math.isclose(exp_sum_a.item(), expected, rel_tol=1e-12)
    assert steps > 0
    a = exp_sum_a / (1 - beta ** steps)      # float ** Parameter, as labml writes it
    assert math.isclose(a.item(), expected / (1 - beta ** 3), rel_tol=1e-12)
    assert not exp_sum_a.requires_grad and not a.requires_grad
