"""Real-world super-resolution GAN pieces (session 26 ports beside torch, float64): SwinIR's window
attention (relative position bias gathered by an index buffer, shifted windows masked by slicing),
BSRGAN's degradations in tensors (anisotropic kernels, grouped-conv blur, antialiased resizing,
noise with given draws, a seeded shuffle), LDL's artifact map and the EMA model it compares
against.  The ports agreed with torch to ~1e-15; these tests check the same facts against NumPy,
finite differences and invariants (no torch)."""
import copy
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan import nn


pytestmark = pytest.mark.usefixtures("float64_default")   # (tests/conftest.py)


# -- SwinIR -----------------------------------------------------------------------------------
def window_partition(x, ws):
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws, ws, c)


def window_reverse(windows, ws, h, w):
    b = int(windows.shape[0] / (h * w / ws / ws))
    x = windows.view(b, h // ws, w // ws, ws, ws, -1)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(b, h, w, -1)


def relative_position_index(ws):
    coords = tg.stack(tg.meshgrid([tg.arange(ws), tg.arange(ws)], indexing="ij"))
    flat = tg.flatten(coords, 1)
    rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
    rel[:, :, 0] += ws - 1
    rel[:, :, 1] += ws - 1
    rel[:, :, 0] *= 2 * ws - 1
    return rel.sum(-1)


def shifted_window_mask(h, w, ws, shift):
    img_mask = tg.zeros((1, h, w, 1))
    cuts = (slice(0, -ws), slice(-ws, -shift), slice(-shift, None))
    cnt = 0
    for hs in cuts:
        for wsl in cuts:
            img_mask[:, hs, wsl, :] = cnt
            cnt += 1
    mw = window_partition(img_mask, ws).view(-1, ws * ws)
    am = mw.unsqueeze(1) - mw.unsqueeze(2)
    return am.masked_fill(am != 0, -100.0).masked_fill(am == 0, 0.0)


def test_window_partition_reverse_round_trip_and_roll_inverse():
    x = tg.tensor(np.random.default_rng(0).standard_normal((2, 8, 12, 3)))
    w = window_partition(x, 4)
    assert w.shape == (12, 4, 4, 3)
    np.testing.assert_array_equal(w[1].numpy(), x.numpy()[0, 0:4, 4:8])
    np.testing.assert_array_equal(window_reverse(w, 4, 8, 12).numpy(), x.numpy())
    back = tg.roll(tg.roll(x, shifts=(-2, -2), dims=(1, 2)), shifts=(2, 2), dims=(1, 2))
    np.testing.assert_array_equal(back.numpy(), x.numpy())


def test_relative_position_index_and_bias_table_gradient():
    ws, heads = 3, 2
    idx = relative_position_index(ws)
    ref = np.array([[(a // ws - b // ws + ws - 1) * (2 * ws - 1) + (a % ws - b % ws + ws - 1)
                     for b in range(ws * ws)] for a in range(ws * ws)])
    np.testing.assert_array_equal(idx.numpy(), ref)
    table = tg.tensor(np.random.default_rng(1).standard_normal(((2 * ws - 1) ** 2, heads)), requires_grad=True)
    bias = table[idx.view(-1)].view(ws * ws, ws * ws, -1).permute(2, 0, 1).contiguous()
    w = np.random.default_rng(2).standard_normal(bias.shape)
    (bias * tg.tensor(w)).sum().backward()
    expected = np.zeros(table.shape)
    np.add.at(expected, ref.reshape(-1), w.transpose(1, 2, 0).reshape(-1, heads))
    np.testing.assert_allclose(table.grad.numpy(), expected, atol=1e-12)


def test_shifted_window_mask_built_by_slicing_matches_regions():
    h = w = 8
    ws, shift = 4, 2
    mask = shifted_window_mask(h, w, ws, shift).numpy()
    # the region label of each pixel of the rolled image, by hand
    region = lambda i, n: 0 if i < n - ws else 1 if i < n - shift else 2
    labels = np.array([[3 * region(i, h) + region(j, w) for j in range(w)] for i in range(h)])
    lw = labels.reshape(h // ws, ws, w // ws, ws).transpose(0, 2, 1, 3).reshape(-1, ws * ws)
    expected = np.where(lw[:, None, :] != lw[:, :, None], -100.0, 0.0)
    np.testing.assert_array_equal(mask, expected)
    assert mask.shape == (4, 16, 16) and (mask[0] == 0).all() and (mask[-1] != 0).any()


def test_shifted_window_attention_does_not_mix_masked_regions():
    """Attention over rolled windows with the mask: a token's output ignores (to ~e^-100) tokens of
    the other regions in its window, as Swin's SW-MSA intends."""
    rng = np.random.default_rng(3)
    h = w = 8
    ws, shift, c = 4, 2, 4
    mask = shifted_window_mask(h, w, ws, shift)
    qkv = nn.Linear(c, 3 * c)

    def attend(x):
        xs = tg.roll(x, shifts=(-shift, -shift), dims=(1, 2))
        t = window_partition(xs, ws).view(-1, ws * ws, c)
        q, k, v = qkv(t).chunk(3, dim=-1)
        attn = (q @ k.transpose(-2, -1)) * c ** -0.5 + mask
        out = (attn.softmax(-1) @ v).view(-1, ws, ws, c)
        return tg.roll(window_reverse(out, ws, h, w), shifts=(shift, shift), dims=(1, 2))

    x = rng.standard_normal((1, h, w, c))
    y = attend(tg.tensor(x)).detach().numpy()
    x2 = x.copy()
    x2[0, 0, 0] += 5.0          # pixel (0, 0) rolls into the last window's corner region
    y2 = attend(tg.tensor(x2)).detach().numpy()
    # pixel (7, 7) shares that last window but another region: unchanged; (0, 1) is its region
    np.testing.assert_allclose(y2[0, 7, 7], y[0, 7, 7], atol=1e-12)
    assert np.abs(y2[0, 0, 1] - y[0, 0, 1]).max() > 1e-6


def test_swin_block_gradients_match_finite_differences_through_mask_roll_and_gather():
    rng = np.random.default_rng(4)
    ws, shift, c, heads = 2, 1, 4, 2
    idx = relative_position_index(ws)
    mask = shifted_window_mask(4, 4, ws, shift)
    table = tg.tensor(rng.standard_normal(((2 * ws - 1) ** 2, heads)) * 0.5, requires_grad=True)
    wqkv = tg.tensor(rng.standard_normal((3 * c, c)) * 0.5)

    def block(x, table):
        xs = tg.roll(F.layer_norm(x, (c,)), shifts=(-shift, -shift), dims=(1, 2))
        t = window_partition(xs, ws).view(-1, ws * ws, c)
        b_, n, _ = t.shape
        qkv = F.linear(t, wqkv).reshape(b_, n, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
        attn = qkv[0] @ qkv[1].transpose(-2, -1)
        bias = table[idx.view(-1)].view(n, n, -1).permute(2, 0, 1)
        attn = (attn + bias.unsqueeze(0)).view(b_ // 4, 4, heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
        out = (attn.view(-1, heads, n, n).softmax(-1) @ qkv[2]).transpose(1, 2).reshape(b_, n, c)
        return x + tg.roll(window_reverse(out.view(-1, ws, ws, c), ws, 4, 4), shifts=(shift, shift), dims=(1, 2))

    x = tg.tensor(rng.standard_normal((2, 4, 4, c)), requires_grad=True)
    assert tg.autograd.gradcheck(block, (x, table), eps=1e-6, atol=1e-6)


# -- BSRGAN degradations -------------------------------------------------------------------------
def anisotropic_gaussian(ksize, theta, l1, l2, beta=1.0):
    th = tg.tensor(theta)
    c, s = tg.cos(th), tg.sin(th)
    v = tg.stack([tg.stack([c, s]), tg.stack([s, -c])])
    sigma = v @ tg.diag(tg.tensor([float(l1), float(l2)])) @ tg.linalg.inv(v)
    ax = tg.arange(ksize, dtype=tg.float64) - (ksize / 2.0 + 0.5) + 1
    yy, xx = tg.meshgrid(ax, ax, indexing="ij")
    grid = tg.stack([xx, yy], dim=-1)
    k = tg.exp(-0.5 * tg.pow(tg.einsum("ijk,kl,ijl->ij", grid, tg.linalg.inv(sigma), grid), beta))
    return k / k.sum()


def _numpy_gaussian(ksize, theta, l1, l2):
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    cov = rot @ np.diag([l1, l2]) @ rot.T
    inv = np.linalg.inv(cov)
    center = ksize / 2.0 + 0.5
    k = np.array([[math.exp(-0.5 * np.array([x - center + 1, y - center + 1]) @ inv @
                            np.array([x - center + 1, y - center + 1]))
                   for x in range(ksize)] for y in range(ksize)])
    return k / k.sum()


@pytest.mark.parametrize("ksize,theta,l1,l2", [(15, 0.3, 4.0, 1.5), (9, 2.0, 0.7, 6.0), (7, math.pi, 6, 6)])
def test_anisotropic_gaussian_kernel_matches_numpy(ksize, theta, l1, l2):
    k = anisotropic_gaussian(ksize, theta, l1, l2).numpy()
    np.testing.assert_allclose(k, _numpy_gaussian(ksize, theta, l1, l2), atol=1e-15)
    gen = anisotropic_gaussian(ksize, theta, l1, l2, beta=0.7).numpy()    # generalised: heavier tails
    assert abs(gen.sum() - 1) < 1e-12 and gen[0, 0] > k[0, 0]


def _numpy_correlate(img, k, mode):
    p = k.shape[0] // 2
    padded = np.pad(img, p, mode=mode)
    return np.array([[(padded[i:i + k.shape[0], j:j + k.shape[1]] * k).sum()
                      for j in range(img.shape[1])] for i in range(img.shape[0])])


def test_grouped_conv_blur_with_replicate_and_reflect_padding():
    rng = np.random.default_rng(5)
    img = rng.random((2, 3, 10, 9))
    k = _numpy_gaussian(5, 0.4, 3.0, 1.0)
    x = tg.tensor(img)
    # BSRGAN's blur: replicate pad, the kernel repeated per channel, one conv with groups = n * c
    n, c = x.shape[:2]
    kt = tg.tensor(k)[None, None].repeat(1, c, 1, 1).view(-1, 1, 5, 5).repeat(n, 1, 1, 1)
    y = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate").view(1, -1, 14, 13), kt, groups=n * c).view(n, c, 10, 9)
    ref = np.stack([np.stack([_numpy_correlate(img[b, ch], k, "edge") for ch in range(3)]) for b in range(2)])
    np.testing.assert_allclose(y.numpy(), ref, atol=1e-14)
    # ndimage.convolve(mode='mirror'): reflect pad and the flipped kernel, per channel
    w = tg.flip(tg.tensor(k), dims=(-2, -1)).expand(3, 1, 5, 5)
    y2 = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), w, groups=3)
    ref2 = np.stack([np.stack([_numpy_correlate(img[b, ch], k[::-1, ::-1], "reflect") for ch in range(3)])
                     for b in range(2)])
    np.testing.assert_allclose(y2.numpy(), ref2, atol=1e-14)


def test_antialiased_resize_values_and_gradient():
    x = (tg.arange(36, dtype=tg.float64).view(1, 1, 6, 6) ** 1.5) / 10
    bic = F.interpolate(x, scale_factor=0.5, mode="bicubic", antialias=True, align_corners=False)
    np.testing.assert_allclose(bic.flatten().numpy(), [      # torch 2.13's values
        0.887956092377375, 1.4883633456092662, 2.2271183881147865, 6.2162489857027845, 7.408325045849605,
        8.664878070159366, 14.268726963248891, 15.829825912163226, 17.441527415426094], rtol=1e-13)
    bil = F.interpolate(x, size=(2, 4), mode="bilinear", antialias=True, align_corners=False)
    np.testing.assert_allclose(bil.flatten().numpy(), [
        2.6880570380825484, 3.2568466979945847, 3.9069446317570904, 4.590105469348587,
        11.213213841722247, 12.227613526802719, 13.302917520450379, 14.376230580233575], rtol=1e-13)
    const = F.interpolate(tg.full((1, 2, 9, 7), 0.3), scale_factor=0.37, mode="bicubic", antialias=True)
    np.testing.assert_allclose(const.numpy(), 0.3, atol=1e-15)
    # linear in its input: the gradient of <y, w> is the transpose applied to w
    inp = tg.tensor(np.random.default_rng(6).random((1, 1, 7, 5)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: F.interpolate(t, scale_factor=0.4, mode="bicubic", antialias=True),
                                 (inp,), eps=1e-6, atol=1e-8)


def test_noise_with_given_draws_and_seeded_shuffle():
    img = tg.tensor(np.random.default_rng(7).random((1, 3, 4, 4)))
    draws = tg.tensor(np.random.default_rng(8).standard_normal((1, 3, 4, 4)))
    noisy = tg.clamp(img + draws * (7 / 255.0), 0.0, 1.0)
    np.testing.assert_allclose(noisy.numpy(), np.clip(img.numpy() + draws.numpy() * 7 / 255, 0, 1))
    counts = tg.poisson(img * 1000, generator=tg.Generator().manual_seed(0))
    assert (counts == counts.round()).all() and counts.min() >= 0
    again = tg.poisson(img * 1000, generator=tg.Generator().manual_seed(0))
    np.testing.assert_array_equal(counts.numpy(), again.numpy())
    a = tg.randperm(11, generator=tg.Generator().manual_seed(3)).tolist()
    assert a == tg.randperm(11, generator=tg.Generator().manual_seed(3)).tolist()
    assert sorted(a) == list(range(11))


# -- LDL ------------------------------------------------------------------------------------------
def artifact_map(gt, out, ema, ksize):
    pad = (ksize - 1) // 2
    r_ema = tg.sum(tg.abs(gt - ema), 1, keepdim=True)
    r_sr = tg.sum(tg.abs(gt - out), 1, keepdim=True)
    patch_w = tg.var(r_sr.clone(), dim=(-1, -2, -3), keepdim=True) ** (1 / 5)
    unf = F.pad(r_sr.clone(), [pad] * 4, mode="reflect").unfold(2, ksize, 1).unfold(3, ksize, 1)
    pixel_w = tg.var(unf, dim=(-1, -2), unbiased=True, keepdim=True).squeeze(-1).squeeze(-1)
    w = patch_w * pixel_w
    w[r_sr < r_ema] = 0
    return w


def test_ldl_artifact_map_matches_numpy():
    rng = np.random.default_rng(9)
    gt, out, ema = (rng.random((2, 3, 9, 8)) for _ in range(3))
    w = artifact_map(tg.tensor(gt), tg.tensor(out), tg.tensor(ema), 5).numpy()
    r_sr = np.abs(gt - out).sum(1, keepdims=True)
    r_ema = np.abs(gt - ema).sum(1, keepdims=True)
    win = np.lib.stride_tricks.sliding_window_view(np.pad(r_sr, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect"),
                                                   (5, 5), axis=(2, 3))
    ref = r_sr.reshape(2, -1).var(1, ddof=1).reshape(2, 1, 1, 1) ** 0.2 * win.var(axis=(-1, -2), ddof=1)
    ref[r_sr < r_ema] = 0
    np.testing.assert_allclose(w, ref, atol=1e-14)
    assert (w == 0).any() and (w > 0).any()


def test_ldl_weighted_artifact_loss_gradient_through_the_masked_map():
    rng = np.random.default_rng(10)
    gt, ema = tg.tensor(rng.random((1, 3, 6, 6))), tg.tensor(rng.random((1, 3, 6, 6)))

    def loss(out):
        w = artifact_map(gt, out, ema, 3)
        return F.l1_loss(tg.mul(w, out), tg.mul(w, gt))

    out = tg.tensor(rng.random((1, 3, 6, 6)), requires_grad=True)
    assert tg.autograd.gradcheck(loss, (out,), eps=1e-7, atol=1e-6)


def test_ema_model_update_as_basicsr_and_averaged_model():
    rng = np.random.default_rng(11)
    g = nn.Sequential(nn.Conv2d(3, 4, 3), nn.LeakyReLU(0.2), nn.Conv2d(4, 3, 1))
    ema = copy.deepcopy(g)
    for p in ema.parameters():
        p.requires_grad = False
    avg = tg.optim.swa_utils.AveragedModel(g, multi_avg_fn=tg.optim.swa_utils.get_ema_multi_avg_fn(0.9))
    expected = {k: v.detach().numpy().copy() for k, v in g.named_parameters()}
    for _ in range(3):
        with tg.no_grad():
            for p in g.parameters():
                p.add_(tg.tensor(rng.standard_normal(p.shape)))
        params = dict(g.named_parameters())
        for k, p in ema.named_parameters():           # basicsr's model_ema
            p.data.mul_(0.9).add_(params[k].data, alpha=1 - 0.9)
        avg.update_parameters(g)
        expected = {k: 0.9 * v + 0.1 * params[k].detach().numpy() for k, v in expected.items()}
    for k, p in ema.named_parameters():
        np.testing.assert_allclose(p.detach().numpy(), expected[k], atol=1e-14)
    # AveragedModel copies the first update, then averages
    assert avg.n_averaged.item() == 3


def test_spectral_norm_unet_discriminator_layer_has_unit_sigma_after_power_iterations():
    conv = nn.utils.spectral_norm(nn.Conv2d(4, 8, 4, 2, 1, bias=False), n_power_iterations=10)
    x = tg.tensor(np.random.default_rng(12).random((1, 4, 8, 8)))
    for _ in range(20):
        conv(x)
    sigma = np.linalg.svd(conv.weight.detach().numpy().reshape(8, -1), compute_uv=False)[0]
    assert abs(sigma - 1) < 1e-4
    conv.eval()
    y1, y2 = conv(x), conv(x)                      # eval: no further power iterations
    np.testing.assert_array_equal(y1.detach().numpy(), y2.detach().numpy())


# -- argument errors met on the way, typed as torch's ---------------------------------------------
@pytest.mark.filterwarnings("ignore:torch.meshgrid")
def test_join_and_factory_argument_errors_are_typed_as_torch():
    with pytest.raises(TypeError, match="element 1"):
        tg.stack([tg.ones(2), 3])
    with pytest.raises(TypeError, match="element 0"):
        tg.stack([[1.0, 2.0], tg.ones(2)])
    with pytest.raises(TypeError, match="element 1"):
        tg.cat([tg.ones(2), 3])
    assert tg.cat([tg.ones(2), np.zeros(2)]).tolist() == [1, 1, 0, 0]      # NumPy constants, as before
    for join in (tg.hstack, tg.vstack, tg.dstack, tg.column_stack, tg.meshgrid):
        with pytest.raises(RuntimeError, match="non-empty"):
            join([])
    with pytest.raises(TypeError, match="element 1"):
        tg.vstack([tg.ones(2), 3])
    assert tg.block_diag().shape == (1, 0)
    with pytest.raises(RuntimeError, match="randperm"):
        tg.randperm(-1)
    with pytest.raises(TypeError, match="randperm"):
        tg.randperm(2.5)
    with pytest.raises(RuntimeError, match="min, max or both"):
        tg.clamp(tg.ones(2))
    with pytest.raises(ValueError, match="at least one operand"):
        tg.einsum("i->i")
