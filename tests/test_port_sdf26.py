"""3-D-aware GANs with radiance fields / SDFs (autonomousvision/graf, royorel/StyleSDF): what differed
from torch 2.13, and the patterns those programs lean on (cumprod transmittance, eikonal term through
autograd.grad(create_graph=True), R1 through spectral norm), pinned without torch (NumPy closed
forms, finite differences)."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan import linalg


def _f64(a):
    return tg.tensor(np.asarray(a, dtype=np.float64))


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# --- torch.cross without dim: deprecated in torch, which warns once a program --------------------
def test_cross_without_dim_warns_once_as_torch(monkeypatch):
    monkeypatch.setattr(linalg, "_CROSS_DIM_WARNED", [False])
    a, b = _f64(np.eye(3)), _f64(np.ones((3, 3)))
    with pytest.warns(UserWarning, match="torch.cross without specifying the dim arg is deprecated"):
        first = tg.cross(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = a.cross(b)              # once a program, method form included
        explicit = tg.cross(a, b, dim=1)
    np.testing.assert_array_equal(first.numpy(), np.cross(np.eye(3), np.ones((3, 3)), axis=0))
    np.testing.assert_array_equal(again.numpy(), first.numpy())
    np.testing.assert_array_equal(explicit.numpy(), np.cross(np.eye(3), np.ones((3, 3)), axis=1))


def test_cross_with_dim_never_warns(monkeypatch):
    monkeypatch.setattr(linalg, "_CROSS_DIM_WARNED", [False])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.cross(_f64(np.eye(3)), _f64(np.ones((3, 3))), dim=-1)
        tg.linalg.cross(_f64(np.eye(3)), _f64(np.ones((3, 3))))


# --- softplus's double backward at beta x == threshold: torch masks beta x < threshold ------------
@pytest.mark.parametrize("beta,threshold", [(1.0, 20.0), (2.0, 10.0)])
def test_softplus_second_derivative_is_zero_exactly_at_the_threshold(beta, threshold):
    edge = threshold / beta
    xs = np.array([-3.0, 0.5, edge - 1.0, edge, edge + 1.0])
    x = _f64(xs).requires_grad_()
    g, = tg.autograd.grad(F.softplus(x, beta=beta, threshold=threshold).sum(), x, create_graph=True)
    gg, = tg.autograd.grad(g.sum(), x)
    z = beta * xs
    slope = np.where(z > threshold, 1.0, _sigmoid(z))          # the first derivative: sigmoid at the edge
    curvature = np.where(z < threshold, beta * _sigmoid(z) * (1 - _sigmoid(z)), 0.0)
    np.testing.assert_allclose(g.detach().numpy(), slope, rtol=1e-14)
    np.testing.assert_allclose(gg.numpy(), curvature, rtol=1e-12, atol=1e-300)


def test_softplus_double_backward_off_the_threshold_is_sigmoids_derivative():
    xs = np.linspace(-4, 4, 9)
    x = _f64(xs).requires_grad_()
    w = _f64(np.arange(1.0, 10.0))
    g, = tg.autograd.grad((F.softplus(x) * w).sum(), x, create_graph=True)
    gg, = tg.autograd.grad((g * g).sum(), x)
    s = _sigmoid(xs)
    np.testing.assert_allclose(gg.numpy(), 2 * (w.numpy() * s) * w.numpy() * s * (1 - s), rtol=1e-12)


# --- cat skips 1-D empty tensors beside tensors of more dims (torch's legacy rule) ---------------
def test_cat_skips_a_one_d_empty_tensor_as_the_start_of_an_accumulation():
    samples = tg.Tensor()                           # (StyleSDF / GAN scripts: torch.Tensor() then cat)
    for i in range(3):
        samples = tg.cat([samples, tg.full((1, 2), float(i))], 0)
    np.testing.assert_array_equal(samples.numpy(), [[0, 0], [1, 1], [2, 2]])
    out = tg.cat([tg.tensor([]), tg.ones(2, 3), tg.zeros(2, 1)], -1)   # dim: the others' (2-D)
    assert out.shape == (2, 4)
    assert tg.cat([tg.ones(1, 2), tg.tensor([]), tg.ones(2, 2), tg.tensor([])]).shape == (3, 2)


def test_cat_skipped_empty_tensors_still_promote_the_dtype():
    assert tg.cat([tg.tensor([], dtype=tg.float64), tg.ones(2, 3, dtype=tg.float32)]).dtype == tg.float64
    assert tg.cat([tg.tensor([], dtype=tg.int64), tg.ones(2, 3, dtype=tg.float32)]).dtype == tg.float32
    assert tg.cat([tg.tensor([], dtype=tg.int64), tg.ones(2, 3, dtype=tg.int32)]).dtype == tg.int64


def test_cat_skipped_empty_tensor_gets_an_empty_gradient_to_second_order():
    e = tg.tensor([], dtype=tg.float64, requires_grad=True)
    x = _f64(np.arange(6.0).reshape(2, 3)).requires_grad_()
    y = tg.cat([e, x * x, e], 1)
    ge, gx = tg.autograd.grad(y.sum(), [e, x], create_graph=True)
    assert ge.shape == (0,)
    np.testing.assert_array_equal(gx.detach().numpy(), 2 * x.detach().numpy())
    h, = tg.autograd.grad((gx ** 2).sum(), x)
    np.testing.assert_array_equal(h.numpy(), 8 * x.detach().numpy())
    (tg.cat([e, x], 0) * 3).sum().backward()
    assert e.grad.shape == (0,) and np.all(x.grad.numpy() == 3)


def test_cat_with_an_empty_tensor_still_refuses_mismatched_others():
    with pytest.raises(RuntimeError, match="differ off that axis"):
        tg.cat([tg.tensor([]), tg.ones(2, 3), tg.ones(2, 2)])
    with pytest.raises(RuntimeError, match="same number of dims"):
        tg.cat([tg.tensor([]), tg.ones(2, 3), tg.ones(2, 3, 1)])
    with pytest.raises(RuntimeError, match="differ off that axis"):
        tg.cat([tg.zeros(0, 0), tg.ones(2, 3)])     # only the 1-D (0,) shape is skipped
    with pytest.raises(RuntimeError):
        tg.stack([tg.tensor([]), tg.ones(2, 3)])    # stack skips nothing


# --- the programs' patterns, pinned: GRAF's renderer, StyleSDF's eikonal term, R1 through SN ------
def _graf_render(raw, z_vals, rays_d, white_bkgd=True):
    """GRAF's raw2outputs: alpha = 1 - exp(-relu(sigma) dist), exclusive cumprod transmittance."""
    dists = z_vals[..., 1:] - z_vals[..., :-1]
    dists = tg.cat([dists, tg.Tensor([1e10]).expand(dists[..., :1].shape)], -1)
    dists = dists * tg.norm(rays_d[..., None, :], dim=-1)
    alpha = 1. - tg.exp(-F.relu(raw[..., 3]) * dists)
    weights = alpha * tg.cumprod(tg.cat([tg.ones((alpha.shape[0], 1)), 1. - alpha + 1e-10], -1), -1)[:, :-1]
    rgb_map = tg.sum(weights[..., None] * tg.sigmoid(raw[..., :3]), -2)
    acc_map = tg.sum(weights, -1)
    return rgb_map + (1. - acc_map[..., None]) if white_bkgd else rgb_map, acc_map


def _graf_render_numpy(raw, z, d):
    rgb, acc = np.zeros((raw.shape[0], 3)), np.zeros(raw.shape[0])
    for r in range(raw.shape[0]):
        transmittance = 1.0
        for s in range(raw.shape[1]):
            dist = (z[r, s + 1] - z[r, s] if s + 1 < raw.shape[1] else 1e10) * np.linalg.norm(d[r])
            alpha = 1 - np.exp(-max(raw[r, s, 3], 0) * dist)
            rgb[r] += alpha * transmittance * _sigmoid(raw[r, s, :3])
            acc[r] += alpha * transmittance
            transmittance *= 1 - alpha + 1e-10
    return rgb + (1 - acc[:, None]), acc


def test_graf_volume_rendering_matches_a_per_sample_loop_and_gradchecks():
    previous = tg.get_default_dtype()
    tg.set_default_dtype(tg.float64)
    try:
        rs = np.random.RandomState(0)
        raw, d = rs.randn(3, 4, 4), rs.randn(3, 3)
        z = np.sort(rs.uniform(1, 6, (3, 4)), -1)
        rgb, acc = _graf_render(_f64(raw), _f64(z), _f64(d))
        rgb_np, acc_np = _graf_render_numpy(raw, z, d)
        np.testing.assert_allclose(rgb.numpy(), rgb_np, rtol=1e-12)
        np.testing.assert_allclose(acc.numpy(), acc_np, rtol=1e-12)
        raw_t = _f64(raw + np.sign(raw) * 0.05).requires_grad_()   # away from relu's kink
        assert tg.autograd.gradcheck(lambda r: _graf_render(r, _f64(z), _f64(d))[0], (raw_t,))
    finally:
        tg.set_default_dtype(previous)


class _FiLMSiren(nn.Module):
    """StyleSDF's FiLM-modulated SIREN layer (frequency gamma, phase beta from the style)."""

    def __init__(self, fan_in, width, style_dim, rs):
        super().__init__()
        self.weight = nn.Parameter(_f64(rs.uniform(-1 / 3, 1 / 3, (width, fan_in))))
        self.bias = nn.Parameter(_f64(rs.uniform(-0.5, 0.5, width)))
        self.gamma = nn.Linear(style_dim, width).double()
        self.beta = nn.Linear(style_dim, width).double()

    def forward(self, x, style):
        b, w = style.shape[0], self.weight.shape[0]
        gamma = (15 * self.gamma(style) + 3).view(b, 1, 1, w)
        return tg.sin(gamma * F.linear(x, self.weight, self.bias) + 0.25 * self.beta(style).view(b, 1, 1, w))


def test_eikonal_term_of_a_sphere_sdf_is_the_unit_normal():
    pts = _f64(np.random.RandomState(1).randn(2, 3, 4, 3))
    pts.requires_grad = True                        # StyleSDF: pts.requires_grad = True on the samples
    sdf = pts.norm(dim=-1, keepdim=True) - 0.25
    eik, = tg.autograd.grad(outputs=sdf, inputs=pts, grad_outputs=tg.ones_like(sdf), create_graph=True)
    np.testing.assert_allclose(eik.detach().numpy(), pts.detach().numpy() / sdf.detach().numpy().__add__(0.25),
                               rtol=1e-13)
    loss = ((eik.norm(dim=-1) - 1) ** 2).mean()
    assert float(loss.detach()) < 1e-28
    grad_pts, = tg.autograd.grad(loss, pts)        # second order: zero for an exact distance field
    assert np.abs(grad_pts.numpy()).max() < 1e-13


def test_stylesdf_eikonal_and_minimal_surface_losses_second_order_match_finite_differences():
    rs = np.random.RandomState(2)
    layer, head = _FiLMSiren(3, 6, 4, rs), nn.Linear(6, 1).double()
    style, pts0 = _f64(rs.randn(2, 4)), rs.randn(2, 3, 5, 3) * 0.3
    sigmoid_beta = nn.Parameter(_f64([0.1]))

    def losses(weight):
        pts = _f64(pts0)
        pts.requires_grad = True
        h = tg.sin((15 * layer.gamma(style) + 3).view(2, 1, 1, 6) * F.linear(pts, weight, layer.bias)
                   + 0.25 * layer.beta(style).view(2, 1, 1, 6))
        sdf = head(h)
        eik, = tg.autograd.grad(outputs=sdf, inputs=pts, grad_outputs=tg.ones_like(sdf), create_graph=True)
        sigma = tg.sigmoid(-sdf / sigmoid_beta) / sigmoid_beta
        return ((eik.norm(dim=-1) - 1) ** 2).mean() + tg.exp(-100 * tg.abs(sdf)).mean() + 1e-3 * sigma.mean()

    weight = layer.weight.detach().clone().requires_grad_()
    assert tg.autograd.gradcheck(losses, (weight,), atol=1e-6, rtol=1e-5)
    grad_beta, = tg.autograd.grad(losses(weight), sigmoid_beta)
    step = 1e-6
    numeric = []
    for sign in (1, -1):
        with tg.no_grad():
            sigmoid_beta.add_(sign * step)
        numeric.append(float(losses(weight).detach()))
        with tg.no_grad():
            sigmoid_beta.sub_(sign * step)
    np.testing.assert_allclose(grad_beta.numpy()[0], (numeric[0] - numeric[1]) / (2 * step), rtol=1e-5)


def test_graf_r1_through_spectral_norm_and_instance_norm_gradchecks_on_permuted_rays():
    tg.manual_seed(0)
    disc = nn.Sequential(nn.utils.spectral_norm(nn.Conv2d(3, 4, 4, 2, 1, bias=False)), nn.InstanceNorm2d(4),
                         nn.LeakyReLU(0.2), nn.utils.spectral_norm(nn.Conv2d(4, 1, 4, 1, 0, bias=False))).double()
    disc(_f64(np.zeros((1, 3, 8, 8))))              # one power iteration, then frozen u, v
    disc.eval()
    x = _f64(np.random.RandomState(3).randn(1, 3, 8, 8))

    def r1(x):   # GAN_stability's compute_grad2 on (B*N, 3) rays viewed as patches
        d = disc(x.view(-1, 8, 8, 3).permute(0, 3, 1, 2))
        g, = tg.autograd.grad(d.sum(), x, create_graph=True)
        return g.pow(2).view(x.shape[0], -1).sum(1)

    rays = x.permute(0, 2, 3, 1).reshape(-1, 3).requires_grad_()
    assert tg.autograd.gradcheck(r1, (rays,), atol=1e-6, rtol=1e-4)


# --- gradcheck perturbs a non-contiguous input in place (a permuted view has no flat view) --------
def test_gradcheck_and_gradgradcheck_of_a_transposed_input():
    x = _f64(np.random.RandomState(4).randn(4, 3)).t().requires_grad_()
    assert not x.is_contiguous()
    assert tg.autograd.gradcheck(lambda a: (a ** 3).sum(0), (x,))
    assert tg.autograd.gradgradcheck(lambda a: (a ** 3).sum(0), (x,))
    wrong = lambda a: _WrongSquare.apply(a).sum()
    assert not tg.autograd.gradcheck(wrong, (x,), raise_exception=False)
    np.testing.assert_array_equal(x.detach().numpy(), np.random.RandomState(4).randn(4, 3).T)   # restored


class _WrongSquare(tg.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * a            # missing the factor 2
