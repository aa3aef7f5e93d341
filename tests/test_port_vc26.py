"""Session 26 voice-conversion GAN ports (CycleGAN-VC2 / VC3's TFAN, MelGAN-VC, StarGAN-VC2): the fix
they needed and the pieces they lean on, checked against NumPy, finite differences and invariants."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F

RNG = np.random.default_rng(26)


def _np_logsigmoid(x):
    return -np.logaddexp(0.0, -x)


# -- fix: BCE-with-logits against float32 labels in a float64 run (StarGAN-VC2's solver) ----------
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_bce_with_logits_float32_target_rounds_each_in_place_step_as_torch(reduction):
    x = RNG.standard_normal((3, 1)) * 3
    t = np.array([[0.0], [1.0], [0.3]], dtype=np.float32)
    xt = tg.tensor(x, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(input=xt, target=tg.tensor(t), reduction=reduction)
    assert loss.dtype == np.float32
    # torch: (1 - t).mul_(x).sub_(log_sigmoid(x)), each in-place step kept in the target's float32
    terms = (((1 - t) * x).astype(np.float32) - _np_logsigmoid(x)).astype(np.float32)
    want = {"none": terms, "mean": terms.mean(dtype=np.float32), "sum": terms.sum(dtype=np.float32)}[reduction]
    np.testing.assert_array_equal(loss.detach().numpy(), want)
    loss.sum().backward()
    assert xt.grad.dtype == np.float64      # the gradient: the wide formula, 1/n in double precision
    scale = 1 / x.size if reduction == "mean" else 1.0
    np.testing.assert_allclose(xt.grad.numpy(), (1 / (1 + np.exp(-x)) - t) * scale, rtol=1e-14, atol=1e-17)


def test_bce_with_logits_float32_target_keeps_weights_and_pos_weight_in_torch_order():
    x = RNG.standard_normal((4, 3)) * 2
    t = RNG.random((4, 3)).astype(np.float32)
    w, pw = RNG.random((4, 3)), RNG.random(3) * 3
    loss = F.binary_cross_entropy_with_logits(tg.tensor(x), tg.tensor(t), weight=tg.tensor(w),
                                              pos_weight=tg.tensor(pw), reduction="none")
    log_sig = _np_logsigmoid(x) * ((pw - 1) * t + 1)
    want = ((((1 - t) * x).astype(np.float32) - log_sig).astype(np.float32) * w).astype(np.float32)
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.numpy(), want, rtol=2e-7)   # an ulp: a float64 log1p apart at most
    xt = tg.tensor(x, requires_grad=True)
    F.binary_cross_entropy_with_logits(xt, tg.tensor(t), weight=tg.tensor(w), pos_weight=tg.tensor(pw)).backward()
    sig = 1 / (1 + np.exp(-x))
    t64 = t.astype(np.float64)
    want_grad = w * ((1 - t64) * sig - pw * t64 * (1 - sig)) / x.size   # d/dx of torch's weighted formula
    np.testing.assert_allclose(xt.grad.numpy(), want_grad, rtol=1e-12, atol=1e-17)


# -- the ports' building blocks -------------------------------------------------------------------
def _tfan_1d(x, seg, shared, gamma, beta, repeat):
    """CycleGAN-VC3's TFAN: instance norm, then per-position scale / bias from the (nearest-
    resized) input through a shared conv applied ``repeat`` times."""
    normalized = F.instance_norm(x)
    h = F.interpolate(seg, size=x.size(2), mode="nearest")
    for _ in range(repeat):
        h = F.relu(shared(h))
    return normalized * (1 + gamma(h)) + beta(h)


def test_tfan_1d_matches_numpy_and_finite_differences():
    shared, gamma, beta = nn.Conv1d(3, 3, 5, padding=2), nn.Conv1d(3, 2, 5, padding=2), nn.Conv1d(3, 2, 5, padding=2)
    for m in (shared, gamma, beta):
        m.double()
    x = tg.tensor(RNG.standard_normal((2, 2, 6)), requires_grad=True)
    seg = tg.tensor(RNG.standard_normal((2, 3, 3)), requires_grad=True)
    out = _tfan_1d(x, seg, shared, gamma, beta, repeat=3)
    xn = x.detach().numpy()
    norm = (xn - xn.mean(-1, keepdims=True)) / np.sqrt(xn.var(-1, keepdims=True) + 1e-5)
    h = seg.detach().repeat_interleave(2, dim=2)            # nearest 3 -> 6
    for _ in range(3):
        h = F.relu(shared(h))
    want = norm * (1 + gamma(h).detach().numpy()) + beta(h).detach().numpy()
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-12, atol=1e-12)
    assert tg.autograd.gradcheck(lambda a, b: _tfan_1d(a, b, shared, gamma, beta, 3), (x, seg))


def test_norm_layer_with_its_bias_deleted_under_spectral_norm():
    """CycleGAN-VC3 / SPADE's get_norm_layer: spectral_norm, then delattr(bias) and a None bias."""
    layer = nn.utils.spectral_norm(nn.Conv2d(1, 3, 3, padding=1).double())
    delattr(layer, "bias")
    layer.register_parameter("bias", None)
    assert layer.bias is None
    assert sorted(layer.state_dict()) == ["weight_orig", "weight_u", "weight_v"]
    assert sorted(n for n, _ in layer.named_parameters()) == ["weight_orig"]
    x = tg.tensor(RNG.standard_normal((2, 1, 4, 5)))
    y = nn.Sequential(layer, nn.InstanceNorm2d(3))(x)
    assert y.shape == (2, 3, 4, 5)
    np.testing.assert_allclose(y.numpy().mean(axis=(2, 3)), 0, atol=1e-12)


def test_cyclegan_vc2_reshapes_and_view_pixel_shuffle_round_trip():
    """The 2-1-2D generator's (B, C, H, W) -> (B, C*H, W) -> back, and the repo's 3-D pixel shuffle."""
    x = tg.tensor(RNG.standard_normal((2, 4, 3, 5)))
    flat = x.view(x.size(0), 12, 1, -1).squeeze(2)
    assert flat.shape == (2, 12, 5)
    np.testing.assert_array_equal(flat.unsqueeze(2).view(2, 4, 3, -1).numpy(), x.numpy())
    y = tg.tensor(RNG.standard_normal((2, 6, 5)))
    np.testing.assert_array_equal(y.view(2, 3, 10).numpy(), y.numpy().reshape(2, 3, 10))
    glu_gate = x * tg.sigmoid(x)                       # the repo's "GLU" keeps the channels
    np.testing.assert_allclose(glu_gate.numpy(), x.numpy() / (1 + np.exp(-x.numpy())), rtol=1e-14)


def _travel_and_margin(sa, sab, sa1, sab1, delta=2.0):
    l1 = tg.mean(((sa - sa1) - (sab - sab1)) ** 2)
    l2 = tg.mean(tg.sum(-(F.normalize(sa - sa1, p=2, dim=-1) * F.normalize(sab - sab1, p=2, dim=-1)), dim=-1))
    logits = tg.sqrt(tg.sum((sa - sa1) ** 2, dim=-1, keepdim=True))
    return l1 + l2 + tg.mean(tg.square(tg.clamp(delta - logits, min=0)))


def test_melgan_vc_travel_and_margin_losses_match_numpy_and_finite_differences():
    arrays = [RNG.standard_normal((3, 4)) for _ in range(4)]
    sa, sab, sa1, sab1 = arrays
    ti, tj = sa - sa1, sab - sab1
    cos = np.sum(ti * tj, -1) / (np.linalg.norm(ti, axis=-1) * np.linalg.norm(tj, axis=-1))
    want = np.mean((ti - tj) ** 2) - np.mean(cos) + np.mean(np.maximum(2.0 - np.linalg.norm(ti, axis=-1), 0) ** 2)
    ts = [tg.tensor(a, requires_grad=True) for a in arrays]
    np.testing.assert_allclose(_travel_and_margin(*ts).item(), want, rtol=1e-13)
    assert tg.autograd.gradcheck(_travel_and_margin, tuple(ts))


def _conditional_instance_norm(x, code, gamma, beta):
    """StarGAN-VC2's CIN: per-instance statistics over time, scale / bias from the code."""
    u = tg.mean(x, dim=2, keepdim=True)
    std = tg.sqrt(tg.mean((x - u) * (x - u), dim=2, keepdim=True) + 1e-8)
    return (x - u) / std * gamma(code).view(-1, x.size(1), 1) + beta(code).view(-1, x.size(1), 1)


def test_stargan_vc2_cin_on_source_and_target_codes_matches_numpy():
    gamma, beta = nn.Linear(6, 4).double(), nn.Linear(6, 4).double()
    eye = np.eye(3)
    code = tg.cat((tg.tensor(eye[[0, 2]]), tg.tensor(eye[[1, 1]])), dim=1)
    x = tg.tensor(RNG.standard_normal((2, 4, 7)), requires_grad=True)
    out = _conditional_instance_norm(x, code, gamma, beta)
    xn = x.detach().numpy()
    g, b = gamma(code).detach().numpy()[:, :, None], beta(code).detach().numpy()[:, :, None]
    want = (xn - xn.mean(2, keepdims=True)) / np.sqrt(xn.var(2, keepdims=True) + 1e-8) * g + b
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-12, atol=1e-13)
    assert tg.autograd.gradcheck(lambda a: _conditional_instance_norm(a, code, gamma, beta), (x,))


def test_stargan_vc2_projection_gradient_penalty_double_backward():
    """D(x, c, c') = fc(h) + <embed(src * n + trg), h>; the penalty's gradient (a double backward
    through conv, instance norm, GLU and the embedding's projection) against finite differences."""
    conv = nn.Conv2d(1, 4, 3, padding=1).double()
    norm = nn.InstanceNorm2d(4, affine=True).double()
    fc, embed = nn.Linear(2, 1).double(), nn.Embedding(9, 2).double()
    pair = tg.tensor([1 * 3 + 2, 0 * 3 + 0])

    def penalty(x_hat):
        h = tg.sum(F.glu(norm(conv(x_hat)), dim=1), dim=(2, 3))
        out = fc(h)
        out += tg.sum(embed(pair) * h, dim=1, keepdim=True)
        dydx = tg.autograd.grad(out, x_hat, grad_outputs=tg.ones(out.size()), create_graph=True)[0]
        return tg.mean((tg.sqrt(tg.sum(dydx.view(dydx.size(0), -1) ** 2, dim=1)) - 1) ** 2)

    x = tg.tensor(RNG.standard_normal((2, 1, 3, 4)), requires_grad=True)
    assert tg.autograd.gradcheck(penalty, (x,))
    penalty(x).backward()
    assert embed.weight.grad is not None and np.abs(embed.weight.grad.numpy()[[0, 5]]).sum() > 0
    np.testing.assert_array_equal(np.delete(embed.weight.grad.numpy(), [0, 5], axis=0), 0)
