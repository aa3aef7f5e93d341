"""Port sweep: LPIPS (richzhang/PerceptualSimilarity) and VQGAN (CompVis/taming-transformers).
The idioms those programs lean on, checked against first-principles NumPy: LPIPS's feature
normalisation / spatial upsampling to a non-integer scale, the VectorQuantizer straight-through
estimator with its codebook / commitment losses (legacy and fixed beta), the adaptive
discriminator weight from two ``autograd.grad`` calls on the last layer (and the RuntimeError a
validation step catches), ActNorm's data-dependent init with a uint8 ``initialized`` buffer, the
one-hot codebook lookups, Downsample's asymmetric pad and lpips' ``weight.data = clamp(...)``."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F


def _bilinear_1d(n_in, n_out, scale):
    """torch's align_corners=False source weights when a scale_factor is given: the source
    coordinate is (dst + 0.5) / scale - 0.5 (the given scale, not n_out / n_in), clamped at 0."""
    m = np.zeros((n_out, n_in))
    for d in range(n_out):
        s = max((d + 0.5) / scale - 0.5, 0.0)
        i0 = min(int(np.floor(s)), n_in - 1)
        i1 = min(i0 + 1, n_in - 1)
        f = s - i0
        m[d, i0] += 1 - f
        m[d, i1] += f
    return m


def test_lpips_spatial_upsample_reaches_the_image_size_with_a_non_integer_scale():
    # lpips.upsample: nn.Upsample(scale_factor=(H/h, W/w), mode='bilinear'); AlexNet's relu1 of a
    # 72x72 input is 17x17, and 17 * (72 / 17) must give 72, not 71
    x = np.random.default_rng(0).normal(size=(1, 2, 17, 5))
    sh, sw = 72 / 17, 1.7
    out = nn.Upsample(scale_factor=(sh, sw), mode="bilinear", align_corners=False)(tg.tensor(x))
    assert tuple(out.shape) == (1, 2, 72, 8)
    ref = np.einsum("ph,nchw,qw->ncpq", _bilinear_1d(17, 72, sh), x, _bilinear_1d(5, 8, sw))
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)


def test_lpips_baseline_distance_is_normalised_feature_difference():
    rng = np.random.default_rng(1)
    f0, f1 = rng.normal(size=(2, 6, 4, 5)), rng.normal(size=(2, 6, 4, 5))

    def normalize_tensor(t, eps=1e-10):
        return t / (tg.sqrt(tg.sum(t ** 2, dim=1, keepdim=True)) + eps)

    a = tg.tensor(f0, requires_grad=True)
    d = ((normalize_tensor(a) - normalize_tensor(tg.tensor(f1))) ** 2).sum(dim=1, keepdim=True)
    val = d.mean([2, 3], keepdim=True)
    n0 = f0 / (np.linalg.norm(f0, axis=1, keepdims=True) + 1e-10)
    n1 = f1 / (np.linalg.norm(f1, axis=1, keepdims=True) + 1e-10)
    ref = ((n0 - n1) ** 2).sum(1).mean((1, 2))
    assert tuple(val.shape) == (2, 1, 1, 1)
    np.testing.assert_allclose(val.numpy().ravel(), ref, rtol=1e-12)
    val.sum().backward()
    # the distance is scale invariant in f0, so the gradient is orthogonal to f0 per pixel
    assert np.abs((a.grad.numpy() * f0).sum(1)).max() < 1e-9     # up to the eps=1e-10 term


@pytest.mark.parametrize("legacy", [True, False])
def test_vector_quantizer_straight_through_and_losses(legacy):
    rng = np.random.default_rng(2)
    n_e, e_dim, beta = 5, 3, 0.25
    emb = nn.Embedding(n_e, e_dim).double()
    emb.weight.data.uniform_(-1.0 / n_e, 1.0 / n_e)
    zin = rng.normal(scale=0.3, size=(2, e_dim, 2, 3))
    z0 = tg.tensor(zin, requires_grad=True)
    z = z0.permute(0, 2, 3, 1).contiguous()
    zf = z.view(-1, e_dim)
    d = tg.sum(zf ** 2, dim=1, keepdim=True) + tg.sum(emb.weight ** 2, dim=1) \
        - 2 * tg.einsum("bd,dn->bn", zf, emb.weight.permute(1, 0))
    idx = tg.argmin(d, dim=1)
    zq = emb(idx).view(z.shape)
    if legacy:
        loss = tg.mean((zq.detach() - z) ** 2) + beta * tg.mean((zq - z.detach()) ** 2)
    else:
        loss = beta * tg.mean((zq.detach() - z) ** 2) + tg.mean((zq - z.detach()) ** 2)
    zq = z + (zq - z).detach()
    zq = zq.permute(0, 3, 1, 2).contiguous()
    (zq.sum() + loss).backward()

    W = emb.weight.detach().numpy()
    flat = zin.transpose(0, 2, 3, 1).reshape(-1, e_dim)
    near = ((flat[:, None, :] - W[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(idx.numpy(), near)
    assert str(idx.dtype) == "int64"
    q = W[near]
    N = flat.size
    w_commit, w_code = (1.0, beta) if legacy else (beta, 1.0)
    np.testing.assert_allclose(float(loss), (w_commit + w_code) * ((q - flat) ** 2).sum() / N, rtol=1e-12)
    # (atol: z + (zq - z) rounds by about eps * |z|, which a tiny zq element sees as a large rtol)
    np.testing.assert_allclose(zq.detach().numpy(), q.reshape(2, 2, 3, e_dim).transpose(0, 3, 1, 2),
                               rtol=1e-12, atol=1e-15)
    # straight-through: dz = 1 + commitment term; the codebook gets only the codebook term
    gz = 1.0 + w_commit * 2 * (flat - q) / N
    np.testing.assert_allclose(z0.grad.numpy(), gz.reshape(2, 2, 3, e_dim).transpose(0, 3, 1, 2), rtol=1e-10)
    gW = np.zeros_like(W)
    np.add.at(gW, near, w_code * 2 * (q - flat) / N)
    np.testing.assert_allclose(emb.weight.grad.numpy(), gW, rtol=1e-10, atol=1e-15)


def test_one_hot_codebook_lookups():
    rng = np.random.default_rng(3)
    W = tg.tensor(rng.normal(size=(6, 4)))
    ind = tg.tensor(np.array([3, 1, 5, 0]))
    # VectorQuantizer.get_codebook_entry: zeros(...).to(indices) is int64, scatter_ 1, .float()
    enc = tg.zeros(4, 6).to(ind)
    assert str(enc.dtype) == "int64"
    enc.scatter_(1, ind[:, None], 1)
    np.testing.assert_array_equal(enc.numpy(), np.eye(6, dtype=np.int64)[[3, 1, 5, 0]])
    zq = tg.matmul(enc.double(), W)
    np.testing.assert_array_equal(zq.numpy(), W.numpy()[[3, 1, 5, 0]])
    # GumbelQuantize.get_codebook_entry: F.one_hot(...).permute(0, 3, 1, 2) then einsum
    grid = ind.view(1, 2, 2)
    oh = F.one_hot(grid, num_classes=6).permute(0, 3, 1, 2).double()
    out = tg.einsum("b n h w, n d -> b d h w", oh, W)
    np.testing.assert_array_equal(out.numpy()[0].transpose(1, 2, 0).reshape(4, 4), W.numpy()[[3, 1, 5, 0]])


def test_adaptive_discriminator_weight_from_two_grads_of_the_last_layer():
    rng = np.random.default_rng(4)
    last = nn.Conv2d(3, 2, 3, padding=1).double()
    x = tg.tensor(rng.normal(size=(2, 3, 4, 4)))
    y = last(x)
    nll = tg.mean(tg.abs(y - 0.5))
    g = -tg.mean(y ** 3)
    gn = tg.autograd.grad(nll, last.weight, retain_graph=True)[0]
    gg = tg.autograd.grad(g, last.weight, retain_graph=True)[0]
    w = tg.clamp(tg.norm(gn) / (tg.norm(gg) + 1e-4), 0.0, 1e4).detach() * 0.8
    # the two losses are linear in y's gradient: dL/dW = sum_n,h,w dL/dy * patch
    yn = y.detach().numpy()
    dn = np.sign(yn - 0.5) / yn.size
    dg = -3 * yn ** 2 / yn.size
    cols = np.lib.stride_tricks.sliding_window_view(np.pad(x.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1))),
                                                    (3, 3), axis=(2, 3))   # n c h w kh kw
    ref_n = np.einsum("nohw,nchwij->ocij", dn, cols)
    ref_g = np.einsum("nohw,nchwij->ocij", dg, cols)
    np.testing.assert_allclose(gn.numpy(), ref_n, rtol=1e-10)
    np.testing.assert_allclose(float(w), 0.8 * np.linalg.norm(ref_n) / (np.linalg.norm(ref_g) + 1e-4), rtol=1e-10)
    assert not w.requires_grad
    # still differentiable afterwards (retain_graph), as the training step's backward needs
    (nll + w * g).backward()
    assert last.weight.grad is not None
    # validation step: under no_grad autograd.grad raises, and taming catches RuntimeError
    with tg.no_grad():
        g2 = -tg.mean(last(x))
    with pytest.raises(RuntimeError):
        tg.autograd.grad(g2, last.weight, retain_graph=True)


def test_actnorm_data_dependent_init_with_a_uint8_buffer():
    class ActNorm(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.loc = nn.Parameter(tg.zeros(1, c, 1, 1))
            self.scale = nn.Parameter(tg.ones(1, c, 1, 1))
            self.register_buffer("initialized", tg.tensor(0, dtype=tg.uint8))

        def forward(self, x):
            if self.training and self.initialized.item() == 0:
                with tg.no_grad():
                    flat = x.permute(1, 0, 2, 3).contiguous().view(x.shape[1], -1)
                    mean = flat.mean(1).unsqueeze(1).unsqueeze(2).unsqueeze(3).permute(1, 0, 2, 3)
                    std = flat.std(1).unsqueeze(1).unsqueeze(2).unsqueeze(3).permute(1, 0, 2, 3)
                    self.loc.data.copy_(-mean)
                    self.scale.data.copy_(1 / (std + 1e-6))
                self.initialized.fill_(1)
            return self.scale * (x + self.loc)

    m = ActNorm(3).double()
    assert str(m.initialized.dtype) == "uint8" and str(m.loc.dtype) == "float64"
    x = np.random.default_rng(5).normal(loc=2.0, scale=3.0, size=(4, 3, 5, 5))
    h = m(tg.tensor(x)).numpy()
    np.testing.assert_allclose(h.mean((0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(h.std((0, 2, 3), ddof=1), 1, rtol=1e-5)     # unbiased std
    assert m.initialized.item() == 1 and isinstance(m.loc, nn.Parameter)
    assert "initialized" in m.state_dict() and str(m.state_dict()["initialized"].dtype) == "uint8"
    h2 = m(tg.tensor(x + 1.0)).numpy()          # initialised once only
    np.testing.assert_allclose(h2 - h, np.broadcast_to(m.scale.detach().numpy(), h.shape), rtol=1e-12)


def test_downsample_asymmetric_pad_and_nearest_upsample_shapes():
    x = tg.randn(1, 4, 8, 8, seed=6)
    conv = nn.Conv2d(4, 4, kernel_size=3, stride=2, padding=0)
    padded = F.pad(x, (0, 1, 0, 1), mode="constant", value=0)
    assert tuple(padded.shape) == (1, 4, 9, 9)
    np.testing.assert_array_equal(padded.numpy()[..., 8, :], 0)
    np.testing.assert_array_equal(padded.numpy()[..., :8, :8], x.numpy())
    assert tuple(conv(padded).shape) == (1, 4, 4, 4)
    up = F.interpolate(x, scale_factor=2.0, mode="nearest")
    np.testing.assert_array_equal(up.numpy(), x.numpy().repeat(2, 2).repeat(2, 3))


def test_weights_init_by_class_name_and_lpips_weight_clamp_keep_the_parameters():
    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)

    tg.manual_seed(7)
    net = nn.Sequential(nn.Conv2d(3, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.LeakyReLU(0.2, True),
                        nn.Conv2d(64, 64, 1, bias=False))
    assert net.apply(weights_init) is net
    assert abs(float(net[0].weight.std()) - 0.02) < 0.003
    assert abs(float(net[1].weight.mean()) - 1.0) < 0.01 and float(net[1].bias.abs().max()) == 0.0
    w_before = net[3].weight
    opt = tg.optim.SGD(net.parameters(), lr=0.1)
    # lpips Trainer.clamp_weights: assigning .data keeps the Parameter (and the optimizer's hold)
    for module in net.modules():
        if hasattr(module, "weight") and getattr(module, "kernel_size", None) == (1, 1):
            module.weight.data = tg.clamp(module.weight.data, min=0)
    assert net[3].weight is w_before and isinstance(net[3].weight, nn.Parameter)
    assert float(net[3].weight.min()) >= 0.0 and float(net[0].weight.min()) < 0.0
    before = net[3].weight.detach().numpy().copy()
    net(tg.randn(2, 3, 8, 8, seed=8)).sum().backward()
    opt.step()
    np.testing.assert_allclose(net[3].weight.detach().numpy(), before - 0.1 * net[3].weight.grad.numpy(), rtol=1e-6)
