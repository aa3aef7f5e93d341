"""Session 26: anomaly-detection GANs ported at tiny sizes and run beside torch 2.13 in float64
with identical weights -- samet-akcay/ganomaly (encoder-decoder-encoder G, DCGAN D with BCE,
adversarial feature loss, contextual L1, latent L2, weights_init, the latent anomaly score),
Skip-GANomaly (pix2pix U-Net G whose skips carry the in-place LeakyReLU'd input, feature-matching
D loss, LambdaLR), A03ki/f-AnoGAN (WGAN-GP, then izif encoder training with the D feature
residual; the MNIST MLP and the MVTec conv models) and AnoGAN's latent search (Adam on z through
a frozen G and D).  Losses, gradients, parameters and scores agreed to 1e-13 (f-AnoGAN conv:
gradients to 1e-17, parameters to 2e-11 where Adam normalises zero-mean gradient noise).
What differed, and is fixed: BCE's backward clamp (torch's float EPSILON, also for float64) and
``torch.utils.model_zoo.tqdm`` (f-AnoGAN imports it).  The other tests pin what the ports lean on."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
import tensorgan.nn.functional as F
from tensorgan.errors import AutogradError

TORCH_BCE_EPS = float(np.float32(1e-12))      # 9.99999996e-13: torch's `constexpr float EPSILON`


def _f64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# -- fixes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("create_graph", [False, True])
def test_bce_gradient_clamp_is_torchs_float_epsilon(create_graph):
    p = _f64([1.0, 1 - 1e-16, 1e-13, 0.0, 0.3], requires_grad=True)
    t = _f64([0.5, 1.0, 0.0, 0.5, 1.0])
    loss = F.binary_cross_entropy(p, t, reduction="sum")
    (g,) = tg.autograd.grad(loss, p, create_graph=create_graph)
    pn, tn = p.detach().numpy(), t.numpy()
    expected = (pn - tn) / np.maximum(pn * (1 - pn), TORCH_BCE_EPS)
    np.testing.assert_array_equal(g.detach().numpy(), expected)
    assert g.detach().numpy()[0] == 0.5 / TORCH_BCE_EPS != 0.5 / 1e-12     # the saturated case
    mean = tg.autograd.grad(F.binary_cross_entropy(p, t), p)[0].numpy()
    np.testing.assert_allclose(mean, expected / 5, rtol=1e-15)


def test_model_zoo_and_hub_export_tqdm():
    tqdm = pytest.importorskip("tqdm")
    from tensorgan.utils.model_zoo import tqdm as zoo_tqdm, load_url
    import tensorgan.hub as hub
    assert zoo_tqdm is tqdm.tqdm and hub.tqdm is tqdm.tqdm and callable(load_url)
    assert list(zoo_tqdm(range(3), disable=True)) == [0, 1, 2]      # f-AnoGAN: tqdm(dataloader)
    for module in (hub, tg.utils.model_zoo):
        with pytest.raises(AttributeError, match="no attribute 'nope'"):
            module.nope


# -- what the ports lean on ---------------------------------------------------------------------
def test_unet_skip_carries_the_inplace_leaky_relu_of_its_input():
    # pix2pix's UnetSkipConnectionBlock: cat([x, model(x)]) where model starts with
    # LeakyReLU(0.2, True) -- the skip half is leaky(x), and the gradient follows that.
    rng = np.random.default_rng(0)
    conv = nn.Conv2d(2, 3, 3, padding=1).double()
    inner = nn.Sequential(nn.LeakyReLU(0.2, True), nn.Conv2d(3, 3, 3, padding=1).double())
    w = _f64(rng.standard_normal((1, 6, 4, 4)))
    x0 = _f64(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)

    def block(inplace_path):
        x = conv(x0)
        if inplace_path:
            return tg.cat([x, inner(x)], 1)
        y = F.leaky_relu(x, 0.2)
        return tg.cat([y, inner[1](y)], 1)
    a, b = block(True), block(False)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    ga = tg.autograd.grad((a * w).sum(), [x0, conv.weight])
    gb = tg.autograd.grad((b * w).sum(), [x0, conv.weight])
    for u, v in zip(ga, gb):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-13, atol=1e-15)


def test_skip_ganomaly_order_backward_after_generator_step_is_refused():
    # The repo's update_netd backpropagates err_g_lat (retained graph) after optimizer_g.step():
    # torch 2.x raises RuntimeError (a saved weight was modified in place); so must we.
    g = nn.Sequential(nn.ConvTranspose2d(2, 2, 4, 2, 1), nn.Tanh()).double()
    d = nn.Conv2d(2, 1, 3).double()
    opt_g = tg.optim.Adam(g.parameters(), lr=1e-3)
    fake = g(_f64(np.ones((2, 2, 3, 3))))
    err_g_lat = (d(fake) ** 2).mean()
    err_g_lat.backward(retain_graph=True)
    opt_g.step()
    with pytest.raises(RuntimeError, match="modified in place") as info:
        (err_g_lat + 0).backward()
    assert isinstance(info.value, AutogradError)


def test_anogan_latent_search_moves_only_z_along_the_score_gradient():
    tg.manual_seed(0)
    G = nn.Sequential(nn.ConvTranspose2d(3, 2, 4, 1, 0, bias=False), nn.BatchNorm2d(2), nn.Tanh()).double().eval()
    feat = nn.Sequential(nn.Conv2d(2, 2, 3, bias=False), nn.LeakyReLU(0.2, inplace=True)).double().eval()
    for p in list(G.parameters()) + list(feat.parameters()):
        p.requires_grad_(False)
    rng = np.random.default_rng(1)
    x = _f64(np.tanh(rng.standard_normal((1, 2, 4, 4))))

    def score(z, lam=0.1):
        gz = G(z)
        return (1 - lam) * tg.sum(tg.abs(x - gz)) + lam * tg.sum(tg.abs(feat(gz) - feat(x)))
    z = _f64(rng.standard_normal((1, 3, 1, 1)), requires_grad=True)
    tg.autograd.gradcheck(score, (z,), eps=1e-6, atol=1e-7, rtol=1e-6)
    opt = tg.optim.Adam([z], lr=0.05, betas=(0.5, 0.999))
    first = None
    for _ in range(20):
        loss = score(z)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert score(z).item() < first
    assert all(p.grad is None for p in list(G.parameters()) + list(feat.parameters()))


def test_adam_on_a_leaf_without_requires_grad_is_a_no_op():
    # AnoGAN's CPU path: requires_grad_() only under `if use_cuda`, so Adam([ano_z]) never moves z.
    z = tg.zeros(1, 3, dtype=tg.float64)
    w = nn.Parameter(tg.ones(3, dtype=tg.float64))
    opt = tg.optim.Adam([z], lr=0.1)
    opt.zero_grad()
    (z * w).sum().backward()
    opt.step()
    assert z.grad is None and np.all(z.numpy() == 0) and w.grad is not None


def test_wgan_gp_through_train_mode_batchnorm_matches_finite_differences():
    # f-AnoGAN's MVTec critic: Conv -> LeakyReLU(inplace) -> BatchNorm2d(n, 0.8) in train mode,
    # the penalty differentiated w.r.t. the critic's weights (second order through BN).
    tg.manual_seed(0)
    D = nn.Sequential(nn.Conv2d(1, 2, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True),
                      nn.BatchNorm2d(2, 0.8), nn.Flatten(), nn.Linear(8, 1)).double()
    assert D[2].eps == 0.8
    rng = np.random.default_rng(2)
    real, fake = (_f64(rng.standard_normal((3, 1, 4, 4))) for _ in range(2))
    alpha = _f64(rng.random((3, 1, 1, 1)))

    def penalty(weight):
        D[0].weight = weight
        inter = tg.autograd.Variable(alpha * real + (1 - alpha) * fake, requires_grad=True)
        out = D(inter)
        g = tg.autograd.grad(out, inter, grad_outputs=tg.ones(*out.shape, dtype=tg.float64),
                             create_graph=True, retain_graph=True, only_inputs=True)[0]
        return ((g.view(g.shape[0], -1).norm(2, dim=1) - 1) ** 2).mean()
    w = nn.Parameter(D[0].weight.detach().clone())
    tg.autograd.gradcheck(penalty, (w,), eps=1e-6, atol=1e-8, rtol=1e-5)


def test_ganomaly_latent_score_is_min_max_normalised():
    # Ganomaly.test: mean over the latent of (latent_i - latent_o)^2, scaled to [0, 1] in place
    # of a float32 score buffer filled batch by batch from float64 errors.
    rng = np.random.default_rng(3)
    li, lo = rng.standard_normal((2, 7, 5, 1, 1))
    scores = tg.zeros(size=(7,), dtype=tg.float32)
    for i in range(0, 7, 4):
        err = tg.mean(tg.pow(_f64(li[i:i + 4]) - _f64(lo[i:i + 4]), 2), dim=1)
        scores[i:i + err.size(0)] = err.reshape(err.size(0))
    scores = (scores - tg.min(scores)) / (tg.max(scores) - tg.min(scores))
    ref = ((li - lo) ** 2).mean(axis=1).reshape(-1).astype(np.float32)
    ref = (ref - ref.min()) / (ref.max() - ref.min())
    assert scores.dtype == tg.float32
    np.testing.assert_allclose(scores.numpy(), ref, rtol=1e-6, atol=1e-7)
