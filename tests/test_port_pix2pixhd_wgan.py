"""Finds of the NVIDIA/pix2pixHD and Zeleni9/pytorch-wgan ports (run beside torch from the same
weights and data: pix2pixHD's global / local generator, multiscale discriminator with feature
outputs, instance-wise feature encoder, GAN / feature-matching / VGG-stand-in losses; WGAN with
weight clipping and RMSprop, WGAN-GP with the one / mone backward trick -- losses within 2e-15
relative in float64).  The losses' target-shape rules follow torch's: mse / l1 / smooth_l1 /
huber broadcast input and target together with torch's UserWarning, kl_div broadcasts silently
(and warns about reduction='mean'), soft_margin_loss keeps the input's shape."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import ShapeError

X = np.random.default_rng(0).normal(size=(4, 1))
T = np.random.default_rng(1).normal(size=(3,))
D = X - T                                  # (4, 3): torch's broadcast of a (4, 1) input and a (3,) target


def _elementwise(name):
    beta = 0.5
    a = np.abs(D)
    return {"mse_loss": (D ** 2, 2 * D),
            "l1_loss": (a, np.sign(D)),
            "smooth_l1_loss": (np.where(a < beta, 0.5 * D ** 2 / beta, a - 0.5 * beta),
                               np.where(a < beta, D / beta, np.sign(D))),
            "huber_loss": (np.where(a < beta, 0.5 * D ** 2, beta * (a - 0.5 * beta)),
                           np.where(a < beta, D, beta * np.sign(D)))}[name]


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_broadcast_input_and_target_with_torchs_warning(name, reduction):
    kw = {"beta": 0.5} if name == "smooth_l1_loss" else {"delta": 0.5} if name == "huber_loss" else {}
    x = tg.tensor(X, requires_grad=True)
    t = tg.tensor(T, requires_grad=True)
    with pytest.warns(UserWarning, match=r"Using a target size \(tensorgan\.Size\(\[3\]\)\) that is "
                                         r"different to the input size \(tensorgan\.Size\(\[4, 1\]\)\)"):
        loss = getattr(F, name)(x, t, reduction=reduction, **kw)
    value, slope = _elementwise(name)
    want = {"mean": value.mean(), "sum": value.sum(), "none": value}[reduction]
    assert loss.shape == np.shape(want)
    np.testing.assert_allclose(loss.detach().numpy(), want, rtol=1e-12)
    loss.sum().backward()
    g = slope / (value.size if reduction == "mean" else 1.0)
    np.testing.assert_allclose(x.grad.numpy(), g.sum(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), -g.sum(axis=0), rtol=1e-12)


def test_same_shapes_do_not_warn_and_non_broadcastable_shapes_are_refused():
    x = tg.tensor(np.ones((2, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.MSELoss()(x, tg.zeros(2, 3, dtype=tg.float64)).item() == 1.0
    with pytest.warns(UserWarning, match="different to the input size"):
        assert nn.L1Loss()(x, np.zeros(3)).item() == 1.0          # an array target broadcasts too
    for fn in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss, F.kl_div):
        with pytest.raises(ShapeError, match=r"target shape \(2,\) and input shape \(2, 3\) do not broadcast"):
            fn(x, np.ones(2), reduction="sum")


def test_kl_div_broadcasts_silently_and_warns_about_mean_as_torch():
    x = tg.tensor(np.log(np.full((2, 3), 0.25)))
    t = np.array([0.2, 0.3, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = F.kl_div(x, t, reduction="batchmean")           # no target-size warning for kl_div
        plain = tg.kl_div(x, tg.tensor(np.tile(t, (2, 1))), 1)   # torch.kl_div (ATen): no warning
    want = (t * (np.log(t) - np.log(0.25))).sum()              # per row; batchmean over 2 rows
    np.testing.assert_allclose(got.item(), want, rtol=1e-12)
    np.testing.assert_allclose(plain.item(), want / 3, rtol=1e-12)
    with pytest.warns(UserWarning, match="'mean' divides the total loss by both the batch size"):
        F.kl_div(x, t)
    with pytest.warns(UserWarning, match="'mean' divides the total loss"):
        nn.KLDivLoss()(x, tg.tensor(np.tile(t, (2, 1))))


def test_soft_margin_loss_keeps_the_input_shape_as_torch():
    x = tg.tensor(np.zeros((4, 1)), requires_grad=True)
    with pytest.raises(ShapeError, match="soft_margin_loss: target shape \\(4,\\) broadcasts"):
        F.soft_margin_loss(x, np.ones(4))                     # torch: output (4, 1) vs broadcast (4, 4)
    y = np.array([1.0, -1.0, 1.0])
    x = tg.tensor(np.zeros((2, 3)), requires_grad=True)
    loss = F.soft_margin_loss(x, y, reduction="none")          # a target broadcast to the input: allowed
    assert loss.shape == (2, 3)
    np.testing.assert_allclose(loss.detach().numpy(), np.full((2, 3), np.log(2.0)), rtol=1e-12)


# -- the ports' idioms, as invariants --------------------------------------------------------------
def test_instance_wise_average_pooling_by_index_assignment_averages_the_gradient():
    """pix2pixHD's Encoder: ``outputs_mean = outputs.clone()``, then per instance and channel
    ``outputs_mean[idx] = mean(outputs[idx]).expand_as(...)`` with nonzero() index tensors."""
    rng = np.random.default_rng(2)
    out = tg.tensor(rng.normal(size=(1, 2, 3, 4)), requires_grad=True)
    inst = np.zeros((1, 1, 3, 4), np.int64)
    inst[0, 0, 1:, 2:] = 1003
    inst_t = tg.from_numpy(inst)
    mean = out.clone()
    for i in np.unique(inst):
        idx = (inst_t == int(i)).nonzero()
        for j in range(2):
            sel = out[idx[:, 0], idx[:, 1] + j, idx[:, 2], idx[:, 3]]
            mean[idx[:, 0], idx[:, 1] + j, idx[:, 2], idx[:, 3]] = tg.mean(sel).expand_as(sel)
    g = rng.normal(size=(1, 2, 3, 4))
    (mean * tg.tensor(g)).sum().backward()
    want_v, want_g = np.empty_like(g), np.empty_like(g)
    for i in np.unique(inst):
        m = np.broadcast_to(inst == i, g.shape)
        for j in range(2):
            mj = m.copy()
            mj[:, 1 - j] = False
            want_v[mj] = out.detach().numpy()[mj].mean()
            want_g[mj] = g[mj].mean()
    np.testing.assert_allclose(mean.detach().numpy(), want_v, rtol=1e-12)
    np.testing.assert_allclose(out.grad.numpy(), want_g, rtol=1e-12)


def test_wgan_gp_penalty_of_a_linear_critic_and_the_mone_trick():
    """WGAN-GP's penalty by ``autograd.grad(create_graph=True)`` on a 1x1-conv critic, whose input
    gradient is the weight at every pixel: penalty ``10 (|w| - 1)^2``; and WGAN-CP's
    ``d_loss.mean(0).view(1).backward(mone)`` with ``p.data.clamp_`` clipping outside the graph."""
    w0 = np.array([0.3, -0.4, 1.2])
    critic = nn.Conv2d(3, 1, 1, bias=False).double()
    critic.weight.data.copy_(tg.tensor(w0.reshape(1, 3, 1, 1)))
    x = tg.tensor(np.random.default_rng(3).normal(size=(2, 3, 4, 4)), requires_grad=True)
    prob = critic(x)
    grads = tg.autograd.grad(prob, x, grad_outputs=tg.ones(prob.size(), dtype=tg.float64),
                             create_graph=True, retain_graph=True)[0]
    penalty = ((grads.norm(2, dim=1) - 1) ** 2).mean() * 10
    n = np.linalg.norm(w0)
    np.testing.assert_allclose(penalty.item(), 10 * (n - 1) ** 2, rtol=1e-12)
    penalty.backward()
    np.testing.assert_allclose(critic.weight.grad.numpy().ravel(), 20 * (n - 1) * w0 / n, rtol=1e-12)
    critic.zero_grad()
    mone = tg.FloatTensor([1]) * -1
    critic(x).mean().mean(0).view(1).backward(mone)          # WGAN-CP's G loss: a (1,) loss, (1,) float32 grad
    np.testing.assert_allclose(critic.weight.grad.numpy().ravel(),
                               -x.detach().numpy().mean(axis=(0, 2, 3)), rtol=1e-12)
    for p in critic.parameters():
        p.data.clamp_(-0.01, 0.01)
    np.testing.assert_array_equal(critic.weight.detach().numpy().ravel(), [0.01, -0.01, 0.01])
    with pytest.raises(ShapeError, match="grad= has shape \\(1,\\)"):
        critic(x).mean().backward(mone)                      # 0-dim loss, (1,) grad: torch refuses too


def test_bce_with_logits_weights_keep_the_input_shape_as_torch():
    x = tg.zeros(4, 1)
    for kw in ("weight", "pos_weight"):
        with pytest.raises(ShapeError, match=f"{kw} shape \\(4,\\) broadcasts the input's \\(4, 1\\) to \\(4, 4\\)"):
            F.binary_cross_entropy_with_logits(x, tg.zeros(4, 1), **{kw: tg.ones(4)})
        loss = F.binary_cross_entropy_with_logits(tg.zeros(2, 3), tg.zeros(2, 3), reduction="none",
                                                  **{kw: tg.tensor([1.0, 2.0, 3.0])})
        assert loss.shape == (2, 3)                        # a per-class weight broadcast to the input


def test_multilabel_soft_margin_loss_sums_over_the_inputs_last_dim():
    x = np.array([0.5, -1.0, 2.0])
    y = np.random.default_rng(4).integers(0, 2, (4, 3)).astype(np.float64)
    terms = -(y * np.log(1 / (1 + np.exp(-x))) + (1 - y) * np.log(1 / (1 + np.exp(x))))
    want = terms.sum(axis=0) / 3                           # torch: dim input.dim() - 1 of the (4, 3) loss
    got = F.multilabel_soft_margin_loss(tg.tensor(x), tg.tensor(y), reduction="none")
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("layer", [lambda: nn.AvgPool2d(3, stride=2, padding=[1, 1], count_include_pad=False),
                                   lambda: nn.MaxPool2d(3, stride=2, padding=1),
                                   lambda: nn.MaxPool2d(2),                  # the tiling fast path
                                   lambda: nn.AvgPool2d(2),
                                   lambda: nn.AdaptiveAvgPool2d((3, 2)),
                                   lambda: nn.AdaptiveMaxPool2d(3)])
def test_2d_pooling_takes_torchs_unbatched_layout(layer):
    """(C, H, W) runs as a batch of one, as torch's 2-D pooling (pix2pixHD's multiscale
    discriminator downsamples with AvgPool2d(3, 2, [1, 1], count_include_pad=False))."""
    x = np.random.default_rng(5).normal(size=(2, 7, 6))
    xb = tg.tensor(x[None], requires_grad=True)
    xu = tg.tensor(x, requires_grad=True)
    m = layer()
    want, got = m(xb), m(xu)
    assert got.shape == want.shape[1:]
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy()[0])
    g = np.random.default_rng(6).normal(size=got.shape)
    (got * tg.tensor(g)).sum().backward()
    (want * tg.tensor(g[None])).sum().backward()
    np.testing.assert_array_equal(xu.grad.numpy(), xb.grad.numpy()[0])


def test_unbatched_max_pool_indices_and_the_rank_error():
    x = tg.arange(16.0).view(1, 4, 4)
    v, i = F.max_pool2d(x, 2, return_indices=True)
    assert v.shape == (1, 2, 2) and i.tolist() == [[[5, 7], [13, 15]]]
    v, i = nn.AdaptiveMaxPool2d(2, return_indices=True)(x)
    assert i.tolist() == [[[5, 7], [13, 15]]]
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\) or \(C, H, W\), got \(4, 4\)"):
        nn.MaxPool2d(2)(tg.ones(4, 4))
    with pytest.raises(ShapeError, match="unbatched"):
        F.avg_pool2d(tg.ones(4, 4), 2)
