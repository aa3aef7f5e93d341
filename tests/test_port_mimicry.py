"""What porting kwotsin/mimicry (torch_mimicry: SNGAN / cGAN-PD / SSGAN / InfoMax-GAN / WGAN-GP /
DCGAN / SAGAN at 32x32, its own SNConv2d / SNLinear / SNEmbedding, ConditionalBatchNorm2d,
SelfAttention, the train_step / MetricLog / LRScheduler / checkpoint code) turned up.

* Average pooling's double backward: torch's ``avg_pool2d_backward`` (and avg_pool1d / 3d,
  adaptive_avg_pool with an output larger than 1, reflect / replicate padding) keeps an edge
  to the op's input
  (``self: zeros_like(self)``), so a gradient penalty through mimicry's DBlock (conv ->
  avg_pool2d) gives the conv bias a ZERO gradient, not None -- and Adam still moves it by its
  momentum in a penalty-only (lazy R1) step.
* ``repr(optimizer)`` in torch's layout (mimicry logs ``optD.__repr__()`` into params.json).
* Regression checks of what the port leans on: mimicry's own spectral norm (a mixin that
  registers buffers and updates them with ``self.u[:] = u`` under no_grad), init through a
  spectrally normalized module's ``weight.data``, SSGAN's flip/transpose rotations = rot90.
"""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F

R = np.random.RandomState(3)


def T(a):
    return tg.tensor(np.asarray(a, dtype=np.float64))


POOLS = {
    "avg_pool2d": (2, lambda h: F.avg_pool2d(h, 2)),
    "avg_pool2d_odd_input": (2, lambda h: F.avg_pool2d(h[:, :, :5, :5], 2)),
    "avg_pool2d_stride1": (2, lambda h: F.avg_pool2d(h, 3, stride=1)),
    "avg_pool2d_padded": (2, lambda h: F.avg_pool2d(h, 3, 2, 1)),
    "avg_pool2d_padded_not_counted": (2, lambda h: F.avg_pool2d(h, 3, 2, 1, count_include_pad=False)),
    "avg_pool2d_ceil": (2, lambda h: F.avg_pool2d(h[:, :, :5, :5], 2, ceil_mode=True)),
    "avg_pool2d_divisor": (2, lambda h: F.avg_pool2d(h, 2, divisor_override=3)),
    "AvgPool2d": (2, lambda h: nn.AvgPool2d(2)(h)),
    "avg_pool1d": (1, lambda h: F.avg_pool1d(h, 2)),
    "avg_pool1d_padded": (1, lambda h: F.avg_pool1d(h, 3, 2, 1)),
    "avg_pool3d": (3, lambda h: F.avg_pool3d(h, 2)),
    "adaptive_avg_pool2d_3": (2, lambda h: F.adaptive_avg_pool2d(h, 3)),
    "adaptive_avg_pool1d_3": (1, lambda h: F.adaptive_avg_pool1d(h, 3)),
    "adaptive_avg_pool3d_2": (3, lambda h: F.adaptive_avg_pool3d(h, 2)),
    # torch's reflection_pad / replication_pad double backward has the same edge
    "pad_reflect": (2, lambda h: F.pad(h, (1, 1, 2, 0), mode="reflect")),
    "pad_replicate": (2, lambda h: F.pad(h, (1, 1, 2, 0), mode="replicate")),
    "ReflectionPad2d": (2, lambda h: nn.ReflectionPad2d(1)(h)),
    "ReplicationPad2d": (2, lambda h: nn.ReplicationPad2d((0, 2, 1, 1))(h)),
    "pad_reflect_1d": (1, lambda h: F.pad(h, (2, 1), mode="reflect")),
    "pad_replicate_3d": (3, lambda h: F.pad(h, (1, 1, 1, 1, 1, 1), mode="replicate")),
}
CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _conv_pool_penalty(dims, pool):
    """conv (with bias) -> pool; the squared gradient norm wrt the conv's input, as WGAN-GP /
    R1 take it; returns (bias, weight, penalty)."""
    w = T(R.randn(*(4, 3) + (3,) * dims)).requires_grad_(True)
    b = T(R.randn(4)).requires_grad_(True)
    x = T(R.randn(*(2, 3) + (6,) * dims)).requires_grad_(True)
    y = pool(CONV[dims](x, w, b, padding=1))
    g, = tg.autograd.grad((y * T(R.randn(*y.shape))).sum(), x, create_graph=True)
    return b, w, g, (g ** 2).sum()


@pytest.mark.parametrize("name", sorted(POOLS))
def test_avg_pool_double_backward_gives_conv_bias_a_zero_gradient(name):
    dims, pool = POOLS[name]
    b, w, g, penalty = _conv_pool_penalty(dims, pool)
    assert g.requires_grad
    penalty.backward()
    assert b.grad is not None, f"{name}: torch gives the bias a zero gradient, not None"
    assert b.grad.shape == (4,) and b.grad.dtype == b.dtype
    np.testing.assert_array_equal(b.grad.numpy(), 0.0)
    assert np.abs(w.grad.numpy()).sum() > 0


EDGE_FREE = {
    "adaptive_avg_pool2d_1": lambda h: F.adaptive_avg_pool2d(h, 1),
    "mean": lambda h: h.mean((2, 3)),
    "pad_circular": lambda h: F.pad(h, (1, 1, 2, 0), mode="circular"),
    "pad_constant": lambda h: F.pad(h, (1, 1, 2, 0), value=0.5),
}


@pytest.mark.parametrize("name", sorted(EDGE_FREE))
def test_linear_ops_without_torchs_edge_stay_edge_free(name):
    """torch's adaptive_avg_pool2d(x, 1) is a mean; circular and constant padding are slices and
    copies: their double backward has no such edge, so the bias gradient stays None."""
    pool = EDGE_FREE[name]
    b, w, g, penalty = _conv_pool_penalty(2, pool)
    penalty.backward()
    assert b.grad is None


def test_avg_pool_first_gradient_values_unchanged():
    x = T(R.randn(2, 3, 7, 6)).requires_grad_(True)
    for pool in (lambda h: F.avg_pool2d(h, 2), lambda h: F.avg_pool2d(h, 3, 2, 1),
                 lambda h: F.adaptive_avg_pool2d(h, (3, 2))):
        g, = tg.autograd.grad(pool(x).sum(), x, create_graph=True)
        plain, = tg.autograd.grad(pool(x).sum(), x)
        np.testing.assert_array_equal(g.detach().numpy(), plain.numpy())


def test_lazy_r1_adam_step_moves_bias_behind_avg_pool():
    """A penalty-only step (StyleGAN2's lazy R1, a GP-only update): the bias gets a zero gradient,
    so Adam applies its momentum to it, as torch does; with None it would stay put."""
    w = T(R.randn(4, 3, 3, 3)).requires_grad_(True)
    b = T(R.randn(4)).requires_grad_(True)
    x = T(R.randn(2, 3, 6, 6)).requires_grad_(True)
    lr, b1, b2, eps = 0.1, 0.5, 0.9, 1e-8
    opt = tg.optim.Adam([w, b], lr=lr, betas=(b1, b2), eps=eps)

    def d(inp):
        return F.avg_pool2d(F.conv2d(inp, w, b, padding=1), 2).sum(dim=(1, 2, 3))

    d(x).mean().backward()
    g1 = b.grad.numpy().copy()
    opt.step()
    b_after1 = b.detach().numpy().copy()
    opt.zero_grad()                      # set_to_none
    g, = tg.autograd.grad(d(x).sum(), x, create_graph=True)
    (g ** 2).sum().backward()
    opt.step()
    m = b1 * (1 - b1) * g1               # exp_avg after a zero gradient
    v = b2 * (1 - b2) * g1 ** 2
    step2 = lr * (m / (1 - b1 ** 2)) / (np.sqrt(v / (1 - b2 ** 2)) + eps)
    np.testing.assert_allclose(b.detach().numpy(), b_after1 - step2, rtol=1e-10)


def test_optimizer_repr_is_torchs_layout():
    p, q = T([1.0]).requires_grad_(True), T([2.0]).requires_grad_(True)
    opt = tg.optim.Adam([p], lr=2e-4, betas=(0.0, 0.9))
    opt.add_param_group({"params": [q], "lr": 0.1})
    group = ("    amsgrad: False\n    betas: (0.0, 0.9)\n    capturable: False\n"
             "    decoupled_weight_decay: False\n    differentiable: False\n    eps: 1e-08\n"
             "    foreach: None\n    fused: None\n    lr: {}\n"
             "    maximize: False\n    weight_decay: 0\n")
    assert repr(opt) == ("Adam (\nParameter Group 0\n" + group.format(0.0002) +
                         "\nParameter Group 1\n" + group.format(0.1) + ")")
    assert opt.__repr__() == repr(opt)


# ------------------------------------------------------------------------------------------
# What the port leans on (mimicry's own spectral norm, init through weight.data, rotations)
# ------------------------------------------------------------------------------------------
class _SpectralNorm(object):
    """mimicry's mixin: buffers registered on the layer, power iteration under no_grad, the
    buffers written in place with ``self.u[:] = u`` (u (1, n) into a (1, n) buffer, sigma
    (1, 1) into a (1,) buffer)."""

    def __init__(self, n_dim, num_iters=1, eps=1e-12):
        self.num_iters, self.eps = num_iters, eps
        self.register_buffer("sn_u", tg.tensor(np.linspace(-1.0, 1.0, n_dim).reshape(1, n_dim)))
        self.register_buffer("sn_sigma", tg.ones(1, dtype=tg.float64))

    @property
    def u(self):
        return getattr(self, "sn_u")

    @property
    def sigma(self):
        return getattr(self, "sn_sigma")

    def sn_weights(self):
        W = self.weight.view(self.weight.shape[0], -1)
        u = self.u
        with tg.no_grad():
            for _ in range(self.num_iters):
                v = F.normalize(tg.matmul(u, W), eps=self.eps)
                u = F.normalize(tg.matmul(v, W.t()), eps=self.eps)
        sigma = tg.mm(u, tg.mm(W, v.t()))
        if self.training:
            with tg.no_grad():
                self.sigma[:] = sigma
                self.u[:] = u
        return self.weight / sigma


class _SNLinear(nn.Linear, _SpectralNorm):
    def __init__(self, i, o):
        nn.Linear.__init__(self, i, o, dtype=tg.float64)
        _SpectralNorm.__init__(self, n_dim=o)

    def forward(self, x):
        return F.linear(input=x, weight=self.sn_weights(), bias=self.bias)


def test_mimicry_spectral_norm_mixin_updates_its_buffers():
    m = _SNLinear(5, 3)
    Wn = m.weight.detach().numpy().copy()
    u0 = m.u.numpy().copy()
    x = T(R.randn(4, 5))
    y = m(x)
    v = u0 @ Wn
    v /= np.linalg.norm(v)
    u = v @ Wn.T
    u /= np.linalg.norm(u)
    sigma = float((u @ Wn @ v.T)[0, 0])
    np.testing.assert_allclose(m.u.numpy(), u, rtol=1e-12)
    np.testing.assert_allclose(m.sigma.numpy(), [sigma], rtol=1e-12)
    assert sorted(m.state_dict()) == ["bias", "sn_sigma", "sn_u", "weight"]
    assert not m.u.requires_grad
    y.sum().backward()               # the gradient flows through sigma (u, v held constant)
    Wt = T(Wn).requires_grad_(True)
    ref = F.linear(x, Wt / tg.mm(T(u), tg.mm(Wt, T(v).t())), m.bias.detach())
    ref.sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), Wt.grad.numpy(), rtol=1e-10)
    m.eval()
    m(x)
    np.testing.assert_allclose(m.u.numpy(), u, rtol=1e-12)    # no update in eval


def test_init_through_spectral_norm_weight_data_reaches_weight_orig():
    """mimicry's GBlock / DBlock: ``nn.init.xavier_uniform_(self.c1.weight.data, gain)`` after
    ``nn.utils.spectral_norm`` -- torch's ``module.weight`` is then ``weight_orig.data``."""
    m = nn.utils.spectral_norm(nn.Conv2d(4, 4, 3))
    nn.init.zeros_(m.weight.data)
    np.testing.assert_array_equal(m.weight_orig.detach().numpy(), 0.0)
    nn.init.constant_(m.weight.data, 0.5)
    np.testing.assert_array_equal(m.weight_orig.detach().numpy(), 0.5)


def test_ssgan_rotations_are_rot90():
    img = tg.arange(3 * 4 * 4).reshape(3, 4, 4)
    rot = {90: img.transpose(1, 2).flip(1), 180: img.flip(1).flip(2), 270: img.transpose(1, 2).flip(2)}
    for k, deg in enumerate((90, 180, 270), start=1):
        np.testing.assert_array_equal(rot[deg].numpy(), tg.rot90(img, k, (1, 2)).numpy())
        np.testing.assert_array_equal(rot[deg].numpy(), np.rot90(img.numpy(), k, (1, 2)))
