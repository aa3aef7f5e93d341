"""Session 26: the VAE-GAN family and mode-collapse remedies ported beside torch 2.13 in float64 with
identical weights and the same random arrays -- lucabergamini/VAEGAN-PYTORCH (reparameterisation with a
noise leaf that requires grad, the discriminator's recon_level feature MSE, the equilibrium / margin
gating, three RMSprop optimizers with ExponentialLR, BatchNorm momentum 0.9), hhb072/IntroVAE (exp_ /
mul / add_ reparameterisation, the in-place KL chain, margins on the detached and non-detached
reconstruction / sample KLs, nn.parallel.data_parallel), taldatech's Soft-IntroVAE 2D (requires_grad
toggling, expELBO scores, MultiStepLR), VEEGAN (reconstructor F(x, eps), joint D(z, x)), PacGAN (m
samples packed along channels by view / reshape / chunk+cat / NHWC concat, and the 2-D MLP's
view(-1, m * d)) and SphereGAN (Dotori-HJ's stereographic HyperSphereLoss, SWPark92's geodesic
moments), plus gradient penalties through each.  Losses, gradients, parameters and BatchNorm buffers
agreed to 1e-12 (VAE-GAN's RMSprop steps 3e-13).  Both original training loops step one optimizer
and then backpropagate through the graph that used the old weights: torch 2.13 refuses that backward
(RuntimeError: modified by an inplace operation) and tensorgan refuses it at the same call.  Nothing
needed fixing; the tests below pin those behaviours and the building blocks against NumPy and
closed forms (no torch here)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
import tensorgan.nn.functional as F


pytestmark = pytest.mark.usefixtures("float64_default")   # (tests/conftest.py)


def _rng(seed=0):
    return np.random.default_rng(seed)


# -- VAE-GAN / IntroVAE: stepping one optimizer, then backward through the old graph -------------
def _tiny_vae():
    tg.manual_seed(0)
    enc = nn.Sequential(nn.Linear(4, 8), nn.ReLU(True), nn.Linear(8, 4))
    dec = nn.Sequential(nn.Linear(2, 8), nn.ReLU(True), nn.Linear(8, 4))
    return enc, dec


def _vae_losses(enc, dec, x, eps):
    mu, logvar = enc(x).chunk(2, dim=1)
    z = tg.tensor(eps, requires_grad=True) * tg.exp(logvar * 0.5) + mu
    rec = dec(z)
    kl = -0.5 * tg.sum(-logvar.exp() - tg.pow(mu, 2) + logvar + 1, 1)
    return tg.sum(kl) + ((rec - x) ** 2).sum(), ((rec - x) ** 2).sum()


def test_backward_after_the_encoder_step_is_refused_as_in_torch():
    enc, dec = _tiny_vae()
    x, eps = tg.tensor(_rng().standard_normal((3, 4))), _rng(1).standard_normal((3, 2))
    loss_enc, loss_dec = _vae_losses(enc, dec, x, eps)
    opt_e = tg.optim.RMSprop(enc.parameters(), lr=1e-3, alpha=0.9, eps=1e-8)
    loss_enc.backward(retain_graph=True)
    opt_e.step()                      # writes the encoder weights loss_dec's graph saved
    with pytest.raises(RuntimeError, match="modified in place"):
        loss_dec.backward()


def test_deferring_the_steps_gives_each_loss_its_own_gradient():
    enc, dec = _tiny_vae()
    x, eps = tg.tensor(_rng().standard_normal((3, 4))), _rng(1).standard_normal((3, 2))
    loss_enc, loss_dec = _vae_losses(enc, dec, x, eps)
    enc_params = list(enc.parameters())
    loss_enc.backward(retain_graph=True)
    enc_grads = [p.grad.clone() for p in enc_params]
    expected = tg.autograd.grad(loss_enc, enc_params, retain_graph=True)
    enc.zero_grad()
    dec.zero_grad()
    loss_dec.backward()
    dec_only = tg.autograd.grad(_vae_losses(enc, dec, x, eps)[1], list(dec.parameters()))
    for g, e in zip(enc_grads, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-13, atol=1e-14)
    for p, e in zip(dec.parameters(), dec_only):
        np.testing.assert_allclose(p.grad.numpy(), e.numpy(), rtol=1e-13, atol=1e-14)


def test_feature_layer_output_is_the_conv_result_before_bn_and_relu():
    tg.manual_seed(0)
    conv, bn = nn.Conv2d(2, 3, 5, stride=2, padding=2, bias=False), nn.BatchNorm2d(3, momentum=0.9)
    x = tg.tensor(_rng().standard_normal((4, 2, 8, 8)))
    ten = conv(x)
    ten_out = ten
    ten = F.relu(bn(ten), False)
    assert ten_out.min().item() < 0 and ten.min().item() == 0.0    # not written by the ReLU
    half = len(ten_out) // 2
    flat = ten_out.view(len(ten_out), -1)
    mse = tg.sum(0.5 * (flat[half:] - flat[:half]) ** 2, 1)
    a = ten_out.detach().numpy().reshape(4, -1)
    np.testing.assert_allclose(mse.detach().numpy(), 0.5 * ((a[2:] - a[:2]) ** 2).sum(1), rtol=1e-13)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.9 * a.reshape(4, 3, -1).transpose(1, 0, 2)
                               .reshape(3, -1).mean(1), rtol=1e-12, atol=1e-15)


def test_introvae_in_place_kl_chain_and_reparameterisation_have_closed_form_gradients():
    rng = _rng(2)
    mu = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    logvar = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    eps = rng.standard_normal((3, 4))
    v_kl = mu.add(-0).pow(2).add_(logvar.exp()).mul_(-1).add_(1).add_(logvar)
    v_kl = v_kl.sum(dim=-1).mul_(-0.5)
    std = logvar.mul(0.5).exp_()
    z = tg.tensor(eps).mul(std).add_(mu)
    m, lv = mu.detach().numpy(), logvar.detach().numpy()
    np.testing.assert_allclose(v_kl.detach().numpy(), 0.5 * (m ** 2 + np.exp(lv) - 1 - lv).sum(-1), rtol=1e-13)
    (v_kl.mean() + z.sum()).backward()
    np.testing.assert_allclose(mu.grad.numpy(), m / 3 + 1, rtol=1e-13)
    np.testing.assert_allclose(logvar.grad.numpy(), (np.exp(lv) - 1) / 6 + 0.5 * eps * np.exp(0.5 * lv),
                               rtol=1e-12, atol=1e-15)


def test_data_parallel_on_one_device_returns_the_encoders_tuple():
    tg.manual_seed(0)
    lin = nn.Linear(3, 4)

    class Enc(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lin

        def forward(self, x):
            return self.fc(x).chunk(2, dim=1)
    x = tg.tensor(_rng().standard_normal((2, 3)))
    mu, logvar = nn.parallel.data_parallel(Enc(), x)
    np.testing.assert_array_equal(tg.cat([mu, logvar], 1).detach().numpy(), lin(x).detach().numpy())


# -- Soft-IntroVAE: frozen halves, expELBO ----------------------------------------------------------
def test_requires_grad_toggling_leaves_the_frozen_half_alone():
    tg.manual_seed(0)
    enc, dec = nn.Linear(2, 4), nn.Linear(2, 2)
    opt_d = tg.optim.Adam(dec.parameters(), lr=1e-2)
    for p in dec.parameters():
        p.requires_grad = False
    x = tg.tensor(_rng().standard_normal((5, 2)))
    mu, logvar = enc(x).chunk(2, dim=1)
    rec = dec(mu)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    err = F.mse_loss(rec, x, reduction="none").sum(1)
    score = (-2 * 0.5 * (0.2 * err + 0.9 * kl)).exp().mean()
    score.backward()
    before = [p.detach().clone() for p in dec.parameters()]
    opt_d.step()                                   # no grads: Adam leaves them as they are
    assert all(p.grad is None for p in dec.parameters())
    assert all((p.detach() == b).all() for p, b in zip(dec.parameters(), before))
    assert all(p.grad is not None for p in enc.parameters())
    s = np.exp(-(0.2 * err.detach().numpy() + 0.9 * kl.detach().numpy())).mean()
    np.testing.assert_allclose(score.item(), s, rtol=1e-13)


# -- VEEGAN -----------------------------------------------------------------------------------------
def test_veegan_joint_discriminator_and_noise_autoencoder_losses():
    tg.manual_seed(0)
    G, Fr, D = nn.Linear(2, 3), nn.Linear(3 + 2, 2), nn.Linear(3 + 2, 1)
    rng = _rng(3)
    z, x, eps_r, eps_f = (tg.tensor(rng.standard_normal(s)) for s in ((6, 2), (6, 3), (6, 2), (6, 2)))
    p_x = G(z)
    log_d_prior = D(tg.cat([p_x, z], 1)).squeeze(1)
    log_d_post = D(tg.cat([x, Fr(tg.cat([x, eps_r], 1))], 1)).squeeze(1)
    disc = F.binary_cross_entropy_with_logits(log_d_prior, tg.ones_like(log_d_prior)) + \
        F.binary_cross_entropy_with_logits(log_d_post, tg.zeros_like(log_d_post))
    recon = ((z - Fr(tg.cat([p_x, eps_f], 1))) ** 2).sum(1).mean()
    gen = log_d_prior.mean() + recon
    a, b = log_d_prior.detach().numpy(), log_d_post.detach().numpy()
    np.testing.assert_allclose(disc.item(), np.log1p(np.exp(-a)).mean() + np.log1p(np.exp(b)).mean(), rtol=1e-13)
    g_fr = tg.autograd.grad(gen, list(Fr.parameters()), retain_graph=True)
    r_fr = tg.autograd.grad(recon, list(Fr.parameters()))
    for u, v in zip(g_fr, r_fr):      # D's term does not depend on the reconstructor
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-13, atol=1e-15)


# -- PacGAN -----------------------------------------------------------------------------------------
def test_packing_forms_match_numpy():
    a = np.arange(8 * 2 * 3 * 3, dtype=float).reshape(8, 2, 3, 3)
    x = tg.tensor(a)
    np.testing.assert_array_equal(x.view(4, 4, 3, 3).numpy(), a.reshape(4, 4, 3, 3))
    np.testing.assert_array_equal(x.reshape(4, 2, 2, 3, 3).flatten(1, 2).numpy(), a.reshape(4, 4, 3, 3))
    np.testing.assert_array_equal(tg.cat(tg.chunk(x, 2, 0), 1).numpy(), np.concatenate([a[:4], a[4:]], 1))
    nhwc = tg.cat(tg.split(x.permute(0, 2, 3, 1), 4, 0), 3).permute(0, 3, 1, 2).contiguous()
    np.testing.assert_array_equal(nhwc.numpy(), np.concatenate([a[:4], a[4:]], 1))
    np.testing.assert_array_equal(tg.tensor(a[:, 0, 0, :2]).view(-1, 4 * 2).numpy(), a[:, 0, 0, :2].reshape(2, 8))


def test_packing_refusals_are_torch_runtime_errors():
    x = tg.tensor(np.zeros((8, 2, 3, 3)))
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.permute(0, 2, 3, 1).view(4, 4, 3, 3)        # its base alive: torch's refusal
    with pytest.raises(RuntimeError, match="12 elements"):
        tg.ones(6, 2).view(-1, 8)                       # a batch not a multiple of m


def test_packed_gradient_penalty_reaches_each_sample_once():
    tg.manual_seed(0)
    D = nn.Linear(2 * 4, 1)
    x = tg.tensor(_rng(4).standard_normal((8, 4)), requires_grad=True)
    out = D(tg.cat(tg.chunk(x, 2, 0), 1))
    g, = tg.autograd.grad(out.sum(), x, create_graph=True)
    w = D.weight.detach().numpy().reshape(2, 4)
    np.testing.assert_allclose(g.detach().numpy(), np.repeat(w, 4, axis=0), rtol=1e-14)
    pen = ((tg.cat(tg.chunk(g, 2, 0), 1).norm(2, dim=1) - 1) ** 2).mean()   # packed as D saw it
    pen.backward()
    n = np.sqrt((w ** 2).sum())        # each pack's gradient is the whole weight: norm |w|
    np.testing.assert_allclose(D.weight.grad.numpy(), (2 * (n - 1) / n * w).reshape(1, 8), rtol=1e-12)


# -- SphereGAN ---------------------------------------------------------------------------------------
def _project(v):
    v_norm = tg.norm(v, dim=1, keepdim=True) ** 2
    return tg.cat([2 * v / (v_norm + 1), (v_norm - 1) / (v_norm + 1)], dim=1)


def test_stereographic_projection_lands_on_the_sphere_and_the_distance_is_closed_form():
    v = tg.tensor(_rng(5).standard_normal((6, 3)) * 2, requires_grad=True)
    q = _project(v)
    np.testing.assert_allclose(tg.norm(q, dim=1).detach().numpy(), 1.0, rtol=1e-14)
    loss = tg.mean(tg.acos(2 * q[:, -1] / (1 + tg.norm(q, dim=1) ** 2)))
    r = np.linalg.norm(v.detach().numpy(), axis=1)
    np.testing.assert_allclose(loss.item(), np.mean(2 * np.arctan(1 / r)), rtol=1e-13)
    loss.backward()   # d/dv 2 atan(1/|v|) = -2 v / (|v| (1 + |v|^2))
    expected = -2 * v.detach().numpy() / (r * (1 + r ** 2))[:, None] / 6
    np.testing.assert_allclose(v.grad.numpy(), expected, rtol=1e-10)


def test_geodesic_moments_and_their_double_backward():
    v = tg.tensor(_rng(6).standard_normal((5, 3)), requires_grad=True)

    def moments(v):
        p = _project(v)
        ref = tg.zeros(1, p.shape[1])
        ref[0, -1] = 1.0
        d = 0.0
        for r in range(1, 4):
            d = d + tg.acos(tg.matmul(p, tg.transpose(ref, 0, 1))) ** r / ((np.pi / 3) ** r)
        return tg.mean(-tg.ones(len(v), 1) * d)
    theta = 2 * np.arctan(1 / np.linalg.norm(v.detach().numpy(), axis=1))
    np.testing.assert_allclose(moments(v).item(), -np.mean(sum((theta / (np.pi / 3)) ** r for r in (1, 2, 3))),
                               rtol=1e-13)
    assert tg.autograd.gradgradcheck(moments, [v])


def test_sphere_loss_at_the_origin_is_nan_as_in_torch():
    v = tg.zeros(2, 3, requires_grad=True)         # maps to the south pole: acos(-1), infinite slope
    q = _project(v)
    tg.acos(2 * q[:, -1] / (1 + tg.norm(q, dim=1) ** 2)).mean().backward()
    assert np.isnan(v.grad.numpy()).all()
