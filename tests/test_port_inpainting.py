"""Regression tests from the inpainting-GAN ports (DeepFill v2 with contextual attention, a
gated-conv DeepFill v2 with the legacy power-iteration spectral norm, EdgeConnect, partial
convolutions), which ran beside torch in float64 within 1e-13. Kept here: the idioms those
programs lean on, checked against NumPy loops written from the definitions."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F


def _conv2d_ref(x, w, stride=1, padding=0, dilation=1):
    """Direct cross-correlation, NumPy loops (N, C, H, W) x (O, C, k, k)."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, c, h, ww = xp.shape
    o, _, k, _ = w.shape
    span = dilation * (k - 1) + 1
    oh, ow = (h - span) // stride + 1, (ww - span) // stride + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * stride:i * stride + span:dilation, j * stride:j * stride + span:dilation]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", win, w)
    return out


def _conv_transpose2d_ref(y, w, stride, padding):
    """Scatter form of conv_transpose2d: (N, I, h, w) x (I, O, k, k)."""
    n, i_ch, h, ww = y.shape
    _, o, k, _ = w.shape
    full = np.zeros((n, o, (h - 1) * stride + k, (ww - 1) * stride + k))
    for a in range(h):
        for b in range(ww):
            full[:, :, a * stride:a * stride + k, b * stride:b * stride + k] += np.einsum("ni,iokl->nokl", y[:, :, a, b], w)
    return full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]


@pytest.mark.parametrize("rate", [2, 4, 8])
def test_gated_dilated_conv_values_and_gradcheck(rate):
    """DeepFill's gated conv: one dilated conv split into features and a sigmoid gate."""
    rng = np.random.default_rng(rate)
    x = rng.standard_normal((2, 3, 2 * rate + 3, 2 * rate + 1))
    conv = nn.Conv2d(3, 4, 3, padding=rate, dilation=rate).double()
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    ref = _conv2d_ref(x, w, padding=rate, dilation=rate) + b[None, :, None, None]
    feat, gate = ref[:, :2], ref[:, 2:]
    expected = np.where(feat > 0, feat, np.expm1(np.minimum(feat, 0))) / (1 + np.exp(-gate))

    def gated(t):
        f, g = tg.split(conv(t), 2, dim=1)
        return F.elu(f) * tg.sigmoid(g)

    np.testing.assert_allclose(gated(tg.tensor(x)).detach().numpy(), expected, rtol=1e-12, atol=1e-13)
    assert tg.gradcheck(gated, (tg.tensor(x[:1, :, :rate + 2, :rate + 2], requires_grad=True),))


def _contextual_attention(f, mask, ksize=3, rate=2, scale=10.0):
    """DeepFill's matching and pasting, as the ports write it (batch 1, f as both fore- and
    background): raw 2*rate patches by unfold, matching on the rate-downscaled map with
    L2-normalised patches as conv2d weights, softmax over patches, conv_transpose2d pasting."""
    c, h, w = f.shape[1:]
    kernel = 2 * rate
    raw_w = F.unfold(f, kernel, padding=(kernel - 1) // 2, stride=rate)
    raw_w = raw_w.view(1, c, kernel, kernel, -1).permute(0, 4, 1, 2, 3)[0]
    b = F.interpolate(f, scale_factor=1. / rate, mode="nearest")
    hs, ws = b.shape[2:]
    wi = F.unfold(b, ksize, padding=(ksize - 1) // 2).view(1, c, ksize, ksize, -1).permute(0, 4, 1, 2, 3)[0]
    wi = wi / tg.sqrt(tg.sum(tg.square(wi), dim=[1, 2, 3], keepdim=True)).clamp_min(1e-4)
    m = F.unfold(mask, ksize, padding=(ksize - 1) // 2).view(1, 1, ksize, ksize, -1).permute(0, 4, 1, 2, 3)[0]
    mm = (tg.mean(m, dim=[1, 2, 3], keepdim=True) == 0.).to(f.dtype).permute(1, 0, 2, 3)
    yi = F.conv2d(b, wi, padding=(ksize - 1) // 2).view(1, hs * ws, hs, ws)
    yi = F.softmax(yi * mm * scale, dim=1) * mm
    return F.conv_transpose2d(yi, raw_w, stride=rate, padding=1) / 4.


def test_contextual_attention_matches_numpy_and_gradcheck():
    rng = np.random.default_rng(0)
    f = rng.standard_normal((1, 2, 8, 8))
    mask = np.zeros((1, 1, 4, 4))
    mask[..., 1:3, 2:4] = 1
    out = _contextual_attention(tg.tensor(f), tg.tensor(mask)).detach().numpy()

    # NumPy reference from the definitions
    kernel, rate, k = 4, 2, 3
    fp = np.pad(f, ((0, 0), (0, 0), (1, 2), (1, 2)))  # unfold's padding 1, the last window's overhang
    raw = np.stack([fp[0, :, i * 2:i * 2 + kernel, j * 2:j * 2 + kernel] for i in range(4) for j in range(4)])
    b = f[:, :, ::2, ::2]
    bp = np.pad(b, ((0, 0), (0, 0), (1, 1), (1, 1)))
    pat = np.stack([bp[0, :, i:i + k, j:j + k] for i in range(4) for j in range(4)])
    pat = pat / np.maximum(np.sqrt((pat ** 2).sum(axis=(1, 2, 3), keepdims=True)), 1e-4)
    mp = np.pad(mask, ((0, 0), (0, 0), (1, 1), (1, 1)))
    valid = np.array([mp[0, 0, i:i + k, j:j + k].mean() == 0 for i in range(4) for j in range(4)], float)
    scores = _conv2d_ref(b, pat, padding=1)[0] * valid[:, None, None] * 10.0
    e = np.exp(scores - scores.max(axis=0))
    prob = (e / e.sum(axis=0)) * valid[:, None, None]
    expected = _conv_transpose2d_ref(prob[None], raw, stride=2, padding=1) / 4.
    assert expected.shape == out.shape == (1, 2, 8, 8)
    np.testing.assert_allclose(out, expected, rtol=1e-11, atol=1e-12)

    fs = tg.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    assert tg.gradcheck(lambda t: _contextual_attention(t, tg.zeros(1, 1, 2, 2, dtype=tg.float64), scale=1.0), (fs,))


def test_legacy_power_iteration_spectral_norm_pattern():
    """The pre-parametrization SpectralNorm wrapper (zhaoyuzhi/deepfillv2, SAGAN ports): the
    weight Parameter deleted from ``_parameters``, u / v / w_bar registered, ``.data`` updates,
    then a plain tensor set as ``weight`` that ``Conv2d.forward`` reads."""
    tg.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1).double()
    w = conv.weight
    u = nn.Parameter(w.data.new(4).normal_(0, 1), requires_grad=False)
    v = nn.Parameter(w.data.new(27).normal_(0, 1), requires_grad=False)
    u.data = u.data / (u.data.norm() + 1e-12)
    w_bar = nn.Parameter(w.data)
    del conv._parameters["weight"]
    assert not hasattr(conv, "weight")  # as torch: init loops that test hasattr skip it
    conv.register_parameter("weight_u", u)
    conv.register_parameter("weight_v", v)
    conv.register_parameter("weight_bar", w_bar)
    assert sorted(conv.state_dict()) == ["bias", "weight_bar", "weight_u", "weight_v"]

    wm = w_bar.detach().numpy().reshape(4, -1)
    u0 = u.detach().numpy().copy()
    v.data = tg.mv(tg.t(w_bar.view(4, -1).data), u.data)
    v.data = v.data / (v.data.norm() + 1e-12)
    u.data = tg.mv(w_bar.view(4, -1).data, v.data)
    u.data = u.data / (u.data.norm() + 1e-12)
    sigma = u.dot(w_bar.view(4, -1).mv(v))
    setattr(conv, "weight", w_bar / sigma.expand_as(w_bar))
    assert "weight" not in conv.state_dict() and "weight" not in dict(conv.named_parameters())

    v_ref = wm.T @ u0
    v_ref /= np.linalg.norm(v_ref) + 1e-12
    u_ref = wm @ v_ref
    u_ref /= np.linalg.norm(u_ref) + 1e-12
    sigma_ref = u_ref @ wm @ v_ref
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 5))
    y = conv(tg.tensor(x))
    expected = _conv2d_ref(x, w_bar.detach().numpy() / sigma_ref, padding=1) + conv.bias.detach().numpy()[None, :, None, None]
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-12, atol=1e-13)
    y.sum().backward()
    assert w_bar.grad is not None and u.grad is None and v.grad is None
    # d/dW sum(conv(x, W / sigma)) with sigma = u^T W v: (G - <G, W> u v^T / sigma) / sigma
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    gw = np.stack([np.stack([[xp[:, ci, a:a + 5, b:b + 5].sum() for b in range(3)] for a in range(3)])
                   for ci in range(3)])
    G = np.broadcast_to(gw, (4, 3, 3, 3)).reshape(4, -1)  # dL/dW_eff: the same for every output channel
    dW = (G - (G * wm).sum() * np.outer(u_ref, v_ref) / sigma_ref) / sigma_ref
    np.testing.assert_allclose(w_bar.grad.numpy().reshape(4, -1), dW, rtol=1e-10, atol=1e-12)


def test_buffer_reassigned_in_forward_stays_a_buffer():
    """nipponjo/deepfillv2's Conv2DSpectralNorm: ``self.weight_u = normalize(W @ v)`` inside
    forward replaces the registered buffer (saved in state_dict), and ``weight.data.div_``."""
    conv = nn.Conv2d(2, 3, 3).double()
    conv.register_buffer("weight_u", tg.ones(3, 1, dtype=tg.float64))
    wm = conv.weight.detach().numpy().reshape(3, -1).copy()
    w_orig = conv.weight.flatten(1).detach()
    v = F.normalize(w_orig.t() @ conv.weight_u, p=2, dim=0, eps=1e-12)
    conv.weight_u = F.normalize(w_orig @ v, p=2, dim=0, eps=1e-12)
    sigma = conv.weight_u.t() @ w_orig @ v
    conv.weight.data.div_(sigma)
    v_ref = wm.T @ np.ones((3, 1))
    v_ref /= np.linalg.norm(v_ref)
    u_ref = wm @ v_ref
    u_ref /= np.linalg.norm(u_ref)
    assert "weight_u" in dict(conv.named_buffers())
    np.testing.assert_allclose(conv.state_dict()["weight_u"].numpy(), u_ref, rtol=1e-12)
    np.testing.assert_allclose(conv.weight.detach().numpy().reshape(3, -1), wm / (u_ref.T @ wm @ v_ref), rtol=1e-12)
