"""Session 25: GANs defined by their losses, ported at tiny sizes and run beside torch 2.13 in
float64 with identical weights -- OctoberChang/MMD-GAN (mixture-of-RBF MMD, autoencoder
discriminator, weight clipping, one-sided penalty, RMSprop), a Cramér GAN (energy-distance critic
with a gradient penalty) and a Fisher GAN (a Lagrange multiplier raised by gradient ascent on a
Parameter), an OT-GAN-style loss (log-domain Sinkhorn through logsumexp with cosine, cdist and
squared costs, differentiated through the iterations, to second order), LOGAN's latent natural-
gradient step (autograd.grad of D wrt z with create_graph inside the G step) and AlexiaJM's
relativistic average losses (RaSGAN / RaLSGAN / RaHinge with her grad.norm(2, 1) penalty).  Losses,
gradients and parameters agreed to 1e-12 over 3 steps where the problem is well conditioned.
What differed, and is fixed: module names (register_parameter took '' and 'a.b'; the refusals are
torch's KeyError / TypeError), cdist's compute_mode (unchecked), F.normalize's ``out=``.  The
tests below also check invariants the ports lean on (no torch here)."""
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
import tensorgan.nn.functional as F
from tensorgan.errors import AutogradError, ConfigError


# -- module names -------------------------------------------------------------------------------
@pytest.mark.parametrize("method, value", [
    ("register_parameter", None), ("register_parameter", "param"), ("register_buffer", None),
    ("register_buffer", "tensor"), ("add_module", None), ("add_module", "module")])
def test_module_names_are_refused_as_torch_refuses_them(method, value):
    value = {None: None, "param": nn.Parameter(tg.zeros(2)), "tensor": tg.zeros(2),
             "module": nn.ReLU()}[value]
    m = nn.Module()
    for bad in ("a.b", ""):         # torch: KeyError (state_dict keys split on '.')
        with pytest.raises(KeyError, match="without '.'") as info:
            getattr(m, method)(bad, value)
        assert isinstance(info.value, ConfigError) and repr(bad) in str(info.value)
    with pytest.raises(TypeError, match="should be a string, got int"):
        getattr(m, method)(1, value)
    assert not m._parameters and not m._modules and not list(m.named_buffers())
    assert not hasattr(m, "a.b") and "" not in m.__dict__
    getattr(m, method)("ok", value)                   # a good name still goes through
    assert "ok" in (m._parameters if method == "register_parameter" else
                    m._modules if method == "add_module" else dict(m.named_buffers()) or {"ok": 0})


def test_parameter_dict_keys_follow_register_parameter():
    for bad, error in (("a.b", KeyError), ("", KeyError), (1, TypeError)):
        with pytest.raises(error) as info:
            nn.ParameterDict({bad: nn.Parameter(tg.zeros(1))})
        assert isinstance(info.value, ConfigError)
    pd = nn.ParameterDict({"lam": nn.Parameter(tg.zeros(1))})
    assert [k for k, _ in pd.named_parameters()] == ["lam"]


# -- cdist compute_mode, normalize out= ----------------------------------------------------------
def test_cdist_compute_mode_is_checked_and_every_mode_agrees():
    rng = np.random.default_rng(0)
    a, b = tg.tensor(rng.standard_normal((30, 3))), tg.tensor(rng.standard_normal((27, 3)))
    b.array[:4] = a.array[:4]                         # coincident points: distance exactly 0
    ref = np.sqrt(((a.numpy()[:, None] - b.numpy()[None]) ** 2).sum(-1))
    for mode in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                 "donot_use_mm_for_euclid_dist"):
        d = tg.cdist(a, b, compute_mode=mode)
        np.testing.assert_allclose(d.numpy(), ref, rtol=1e-13, atol=1e-15)
        assert (np.diag(d.numpy()[:4, :4]) == 0).all()
    for bad in ("use_mm", None, 2):                   # torch: ValueError
        with pytest.raises(ValueError, match="compute_mode"):
            tg.cdist(a, b, compute_mode=bad)


def test_normalize_writes_into_out():
    x = tg.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=tg.float64)
    out = tg.zeros(2, 2, dtype=tg.float64)
    r = F.normalize(x, dim=1, out=out)
    assert r is out
    np.testing.assert_allclose(out.numpy(), [[0.6, 0.8], [0.0, 0.0]])
    w = x.clone().requires_grad_(True)
    with pytest.raises(AutogradError, match="out="):    # torch: div(..., out=) is not differentiable
        F.normalize(w, dim=1, out=tg.zeros(2, 2, dtype=tg.float64))
    with tg.no_grad():
        assert F.normalize(w, p=1, dim=0, out=out) is out
    np.testing.assert_allclose(out.numpy(), [[1.0, 1.0], [0.0, 0.0]])


# -- invariants the ports lean on ----------------------------------------------------------------
def _mix_rbf_mmd2(X, Y, sigmas):
    """MMD-GAN's biased estimate, in its own form (Gram matrix of the stacked batch)."""
    m = X.size(0)
    Z = tg.cat((X, Y), 0)
    ZZT = Z @ Z.t()
    d = tg.diag(ZZT).unsqueeze(1).expand_as(ZZT)
    K = 0.0
    for s in sigmas:
        K = K + tg.exp(-(d - 2 * ZZT + d.t()) / (2 * s ** 2))
    return (K[:m, :m].sum() + K[m:, m:].sum() - 2 * K[:m, m:].sum()) / (m * m)


def test_mix_rbf_mmd_closed_form_and_gradient():
    rng = np.random.default_rng(1)
    X = tg.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    Y = tg.tensor(rng.standard_normal((5, 3)) + 0.5)
    sig = [1, 2, 4]
    k = lambda a, b: sum(np.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / (2 * s * s)) for s in sig)
    x, y = X.detach().numpy(), Y.numpy()
    expected = k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()
    assert _mix_rbf_mmd2(X, Y, sig).item() == pytest.approx(expected, rel=1e-12)
    assert abs(_mix_rbf_mmd2(X, X.detach(), sig).item()) < 1e-12           # MMD(P, P) = 0
    assert tg.gradcheck(lambda a: F.relu(_mix_rbf_mmd2(a, Y, sig)).sqrt(), (X,))
    # the one-sided penalty: -mean(relu(-(mean f(x) - mean f(y)))), 0 when every gap is positive
    gap = tg.tensor([0.3, -0.2, -0.4])
    assert (-nn.ReLU()(-gap).mean()).item() == pytest.approx(-0.2)


def _sinkhorn(C, eps, iters):
    n, m = C.shape
    f, g = tg.zeros(n, dtype=C.dtype), tg.zeros(m, dtype=C.dtype)
    for _ in range(iters):
        f = -eps * math.log(n) - eps * tg.logsumexp((g[None, :] - C) / eps, dim=1)
        g = -eps * math.log(m) - eps * tg.logsumexp((f[:, None] - C) / eps, dim=0)
    return tg.exp((f[:, None] + g[None, :] - C) / eps)


def test_log_domain_sinkhorn_plan_and_its_derivatives():
    rng = np.random.default_rng(2)
    a = tg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = tg.tensor(rng.standard_normal((5, 3)))
    C = 1 - F.cosine_similarity(a.unsqueeze(1), b.unsqueeze(0), dim=2)
    P = _sinkhorn(C, 0.1, 200).detach().numpy()
    np.testing.assert_allclose(P.sum(0), np.full(5, 1 / 5), atol=1e-12)   # g's update: exact
    np.testing.assert_allclose(P.sum(1), np.full(4, 1 / 4), atol=1e-8)    # f's: converged
    # through the iterations, first and second order, for each cost the port used
    costs = [lambda x: 1 - F.cosine_similarity(x.unsqueeze(1), b.unsqueeze(0), dim=2),
             lambda x: 1 - F.normalize(x, dim=1) @ F.normalize(b, dim=1).t(),
             lambda x: tg.cdist(x, b) ** 2, lambda x: tg.cdist(x, b, p=1)]
    for cost in costs:
        loss = lambda x: (_sinkhorn(cost(x), 0.5, 5) * cost(x)).sum()
        assert tg.gradcheck(loss, (a,))
    assert tg.gradgradcheck(lambda x: (_sinkhorn(costs[2](x), 0.5, 3) * costs[2](x)).sum(), (a,))


def test_logan_latent_step_is_differentiated():
    """z' = z + alpha g / (beta + |g|^2), g = dD(G(z))/dz taken with create_graph: the G loss
    at z' has the gradient finite differences give, through the step."""
    tg.manual_seed(0)
    G = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    D = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1)).double()

    def loss(z):
        (g,) = tg.autograd.grad(D(G(z)).sum(), z, create_graph=True)
        zp = z + 0.9 * g / (5.0 + g.pow(2).sum(1, keepdim=True))
        return F.softplus(-D(G(zp))).mean()
    z = tg.tensor(np.random.default_rng(3).standard_normal((3, 2)), requires_grad=True)
    assert tg.gradcheck(loss, (z,))     # torch's runs fn in grad mode: autograd.grad inside works
    with tg.no_grad(), pytest.raises(AutogradError):     # torch 2.13 refuses under no_grad too
        tg.gradcheck(loss, z)
    with pytest.raises(AutogradError, match="does not require grad"):   # a real refusal still is one
        tg.gradcheck(lambda x: tg.autograd.grad(x.detach().sum() * 2, x)[0], (z,))


def test_relativistic_average_losses_ignore_a_shift_of_the_critic():
    rng = np.random.default_rng(4)
    real, fake = tg.tensor(rng.standard_normal(6)), tg.tensor(rng.standard_normal(6))
    bce = nn.BCEWithLogitsLoss()
    one, zero = tg.ones(6, dtype=tg.float64), tg.zeros(6, dtype=tg.float64)

    def losses(r, f):
        return [(bce(r - f.mean(), one) + bce(f - r.mean(), zero)) / 2,
                (((r - f.mean() - 1) ** 2).mean() + ((f - r.mean() + 1) ** 2).mean()) / 2,
                (F.relu(1 - (r - f.mean())).mean() + F.relu(1 + (f - r.mean())).mean()) / 2]
    for a, b in zip(losses(real, fake), losses(real + 7.0, fake + 7.0)):
        assert a.item() == pytest.approx(b.item(), rel=1e-12)
    r, f = real.numpy(), fake.numpy()
    expected = (((r - f.mean() - 1) ** 2).mean() + ((f - r.mean() + 1) ** 2).mean()) / 2
    assert losses(real, fake)[1].item() == pytest.approx(expected, rel=1e-12)


def test_fisher_multiplier_ascends_on_the_constraint():
    """Fisher GAN: loss_D = -(E_P f - E_Q f + lam * c - rho / 2 * c^2), c = 1 - (E_P f^2 + E_Q f^2)
    / 2; lam.data += rho * lam.grad.data moves lam by -rho * c (the gradient of loss_D in lam)."""
    vr, vf = tg.tensor([0.5, 1.5, -0.2]), tg.tensor([0.1, -0.3, 0.4])
    lam, rho = nn.Parameter(tg.tensor([0.25], dtype=tg.float64)), 0.1
    c = 1 - (0.5 * (vr ** 2).mean() + 0.5 * (vf ** 2).mean())
    loss = -(vr.mean() - vf.mean() + lam * c - rho / 2 * c ** 2)
    loss.backward()
    lam.data += rho * lam.grad.data
    assert lam.dtype == tg.float64 and lam.shape == (1,)
    assert lam.item() == pytest.approx(0.25 - rho * c.item(), rel=1e-14)
