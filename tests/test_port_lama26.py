"""LaMa (fast Fourier convolutions, R1 on masked regions, feature matching, the high-receptive-field
perceptual loss) and MAT (mask-aware window attention, partial-conv mask updates, the style
manipulation module) ports: what differed from torch 2.13, and the patterns those programs lean on,
pinned without torch (NumPy, finite differences, invariants)."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import ConfigError

RNG = np.random.RandomState(26)


def _f64(shape, seed=0):
    return tg.tensor(np.random.RandomState(seed).standard_normal(shape))


# --- tg.fft norm errors have torch's types ------------------------------------------------------
_FFTS = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
         "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"]


@pytest.mark.parametrize("op", _FFTS)
def test_fft_unknown_norm_is_a_runtime_error(op):
    # torch: RuntimeError 'Invalid normalization mode: "orth"'; tensorgan raised a bare ValueError
    with pytest.raises(RuntimeError, match=rf"{op}: norm must be None, 'backward', 'ortho'") as info:
        getattr(tg.fft, op)(_f64((4, 6)), norm="orth")
    assert isinstance(info.value, ConfigError)       # what tensorgan raised before, still caught


def test_fft_non_string_norm_is_a_type_error():
    # torch: TypeError "fft_rfftn(): argument 'norm' must be str, not int"
    with pytest.raises(TypeError, match="rfftn: norm must be a str or None, got int"):
        tg.fft.rfftn(_f64((4, 6)), norm=1)


# --- LaMa's FourierUnit: rfftn -> real/imag as channels -> complex -> irfftn(s=) ------------------
def _fourier_unit(x, fn=lambda f: f, dims=(-2, -1), norm="ortho"):
    batch = x.shape[0]
    ff = tg.fft.rfftn(x, dim=dims, norm=norm)
    ff = tg.stack((ff.real, ff.imag), dim=-1)
    ff = ff.permute(0, 1, -1, *range(2, ff.ndim - 1)).contiguous()
    ff = fn(ff.view((batch, -1) + ff.size()[3:]))
    ff = ff.view((batch, -1, 2) + ff.size()[2:])
    ff = ff.permute(0, 1, *range(3, ff.ndim), 2).contiguous()
    return tg.fft.irfftn(tg.complex(ff[..., 0], ff[..., 1]), s=x.shape[-len(dims):], dim=dims, norm=norm)


@pytest.mark.parametrize("norm", ["ortho", "forward", "backward"])
@pytest.mark.parametrize("shape,dims", [((2, 3, 6, 7), (-2, -1)), ((1, 2, 4, 5, 3), (-3, -2, -1))])
def test_fourier_unit_identity_round_trip_with_odd_sizes(norm, shape, dims):
    x = RNG.standard_normal(shape)
    np.testing.assert_allclose(_fourier_unit(tg.tensor(x), dims=dims, norm=norm).numpy(), x, atol=1e-12)


def test_fourier_unit_with_spectral_relu_twice_differentiable():
    # the FU's conv + ReLU in the spectral domain, differentiated twice (R1 through an FFC discriminator)
    w = _f64((6, 6, 1, 1), seed=1)
    fn = lambda x: _fourier_unit(x, lambda f: F.leaky_relu(F.conv2d(f, w), 0.2)).pow(2).sum()
    assert tg.gradgradcheck(fn, [_f64((1, 3, 4, 5), seed=2).requires_grad_()])


def test_lfu_split_cat_repeat_matches_numpy():
    # SpectralTransform's local Fourier unit: quarter of the channels cut into 2x2 spatial tiles
    # stacked as channels, then the result tiled back by repeat
    x = RNG.standard_normal((2, 8, 6, 6))
    t = tg.tensor(x)
    xs = tg.cat(tg.split(t[:, :2], 3, dim=-2), dim=1).contiguous()
    xs = tg.cat(tg.split(xs, 3, dim=-1), dim=1).contiguous()
    a = x[:, :2]
    want = np.concatenate([np.concatenate([a[..., :3, :], a[..., 3:, :]], 1)[..., :3],
                           np.concatenate([a[..., :3, :], a[..., 3:, :]], 1)[..., 3:]], 1)
    np.testing.assert_array_equal(xs.numpy(), want)
    np.testing.assert_array_equal(xs.repeat(1, 1, 2, 2).numpy(), np.tile(want, (1, 1, 2, 2)))


def test_ffc_identity_branches_and_zero_tensor_global_input():
    # FFC builds absent branches as nn.Identity(in, out, k, stride, ..., padding_mode=...) and feeds
    # tg.tensor(0) as the missing global input: the sum must stay a float tensor of the local's shape
    ident = tg.nn.Identity(0, 4, 3, 1, 1, 1, 1, False, padding_mode="reflect")
    conv = tg.nn.Conv2d(4, 4, 3, 1, 2, 2, 1, False, padding_mode="reflect").double()
    x = _f64((2, 4, 5, 6))
    out = conv(x) + ident(tg.tensor(0)) * 1
    assert out.dtype == tg.float64 and out.shape == (2, 4, 5, 6)
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect")
    want = F.conv2d(tg.tensor(padded), conv.weight, dilation=2)
    np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), atol=1e-12)


# --- LaMa losses ----------------------------------------------------------------------------------
def test_r1_on_masked_reals_with_maxpooled_mask_target():
    # NonSaturatingWithR1(mask_as_fake_target=True, mask_scale_mode='maxpool'): a 1-pixel hole
    # marks the whole discriminator cell as fake; R1 = mean_b ||dD/dx||^2, second order through it
    mask = np.zeros((2, 1, 8, 8)); mask[0, 0, 1, 6] = 1
    small = F.adaptive_max_pool2d(tg.tensor(mask), (2, 2)).numpy()
    np.testing.assert_array_equal(small, mask.reshape(2, 1, 2, 4, 2, 4).max(axis=(3, 5)))
    w = tg.tensor(RNG.standard_normal((1, 3, 8, 8)), requires_grad=True)
    real = tg.tensor(RNG.standard_normal((2, 3, 8, 8)))
    real.requires_grad = True
    pred = F.avg_pool2d((w * real).pow(2), 4).sum(1, keepdim=True)
    grad = tg.autograd.grad(pred.sum(), real, create_graph=True)[0]
    real.requires_grad = False                       # as make_r1_gp does, on the leaf
    penalty = (grad.view(2, -1).norm(2, dim=1) ** 2).mean()
    want = ((2 * w.detach().numpy() ** 2 * real.numpy() / 16) ** 2).sum((1, 2, 3)).mean()
    np.testing.assert_allclose(float(penalty.detach()), want, rtol=1e-12)
    penalty.backward()                               # d/dw of mean_b sum (w^2 x / 8)^2
    want_grad = (4 * w.detach().numpy() ** 3 * real.numpy() ** 2 / 64).mean(0, keepdims=True)
    np.testing.assert_allclose(w.grad.numpy(), want_grad, rtol=1e-10)


def test_masked_feature_matching_weights_known_pixels_only():
    fake, real = _f64((2, 4, 4, 4), 3), _f64((2, 4, 4, 4), 4)
    fm = lambda m: (((fake - real) ** 2) * (1 - F.interpolate(m, size=(4, 4), mode="bilinear",
                                                             align_corners=False))).mean()
    np.testing.assert_allclose(float(fm(tg.zeros(2, 1, 8, 8, dtype=tg.float64))),
                               float(F.mse_loss(fake, real)), rtol=1e-12)
    assert float(fm(tg.ones(2, 1, 8, 8, dtype=tg.float64))) == 0.0


def test_hrf_perceptual_loss_normalises_with_to_other():
    # ResNetPL: (pred - MEAN.to(pred)) / STD.to(pred) with float32 constants and a float64 image
    mean = tg.tensor([0.485, 0.456, 0.406])[None, :, None, None]
    pred = _f64((1, 3, 2, 2))
    out = (pred - mean.to(pred)) / tg.tensor([0.229, 0.224, 0.225])[None, :, None, None].to(pred)
    assert out.dtype == tg.float64
    np.testing.assert_allclose(out.numpy()[0, :, 0, 0], (pred.numpy()[0, :, 0, 0] - np.float32([0.485, 0.456, 0.406]))
                               / np.float32([0.229, 0.224, 0.225]), rtol=1e-12)


# --- MAT ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stride", [1, 2])
def test_partial_conv_mask_update_is_a_max_pool(stride):
    # Conv2dLayerPartial: conv of the mask with ones, clamped to [0, 1] == max-pooling the mask;
    # mask_ratio = k^2 / (count of valid pixels) where any is valid, 0 elsewhere
    mask = tg.tensor((RNG.rand(2, 1, 8, 8) > 0.8).astype(np.float64))
    count = F.conv2d(mask, tg.ones(1, 1, 3, 3, dtype=tg.float64), stride=stride, padding=1)
    update = tg.clamp(count, 0, 1)
    np.testing.assert_array_equal(update.numpy(), F.max_pool2d(mask, 3, stride, 1).numpy())
    ratio = tg.mul(9 / (count + 1e-8), update).numpy()
    c = count.numpy()
    np.testing.assert_allclose(ratio, np.where(c > 0, 9 / np.maximum(c, 1), 0), rtol=1e-7)


def _window_partition(x, ws):
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws, ws, c)


def test_shifted_window_attention_mask_by_slice_assignment():
    ws, shift = 4, 2
    img = tg.zeros((1, 8, 8, 1))
    cuts = (slice(0, -ws), slice(-ws, -shift), slice(-shift, None))
    for i, h in enumerate(cuts):
        for j, w in enumerate(cuts):
            img[:, h, w, :] = 3 * i + j
    win = _window_partition(img, ws).view(-1, ws * ws)
    attn = win.unsqueeze(1) - win.unsqueeze(2)
    attn = attn.masked_fill(attn != 0, -100.0).masked_fill(attn == 0, 0.0)
    region = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    labels = 3 * region[:, None] + region[None, :]
    np.testing.assert_array_equal(img.numpy()[0, :, :, 0], labels)
    lw = labels.reshape(2, 4, 2, 4).transpose(0, 2, 1, 3).reshape(4, 16)
    np.testing.assert_array_equal(attn.numpy(), np.where(lw[:, None, :] != lw[:, :, None], -100.0, 0.0))
    assert (attn.numpy()[0] == 0).all()             # the top-left window is one region


def test_mask_aware_attention_ignores_holes_and_updates_the_mask():
    # WindowAttention: keys in holes get -100 before the softmax; afterwards a window with any
    # valid token becomes all valid, one without stays a hole
    n = 4
    mask_windows = tg.tensor(np.array([[1, 0, 0, 1], [0, 0, 0, 0]], dtype=np.float64)[..., None])
    scores = _f64((2, 1, n, n), 5)
    m = mask_windows.squeeze(-1).unsqueeze(1).unsqueeze(1)
    attn = F.softmax(scores + m.masked_fill(m == 0, -100.0).masked_fill(m == 1, 0.0), dim=-1).numpy()
    assert attn[0, 0][:, [1, 2]].max() < 1e-40
    np.testing.assert_allclose(attn[1, 0], F.softmax(scores, -1).numpy()[1, 0], rtol=1e-12)  # all holes: uniform shift
    with tg.no_grad():
        updated = tg.clamp(tg.sum(mask_windows, dim=1, keepdim=True), 0, 1).repeat(1, n, 1)
    np.testing.assert_array_equal(updated.numpy()[..., 0], [[1] * n, [0] * n])


def test_style_manipulation_dropout_mix_and_linear_resize():
    # FirstStage: mul_map = dropout(0.5) of halves is a 0/1 keep-map; add_n resized along tokens
    mul = F.dropout(tg.ones(4, 64, 8, dtype=tg.float64) * 0.5, training=True).numpy()
    assert set(np.unique(mul)) <= {0.0, 1.0} and 0 < mul.mean() < 1
    add = _f64((2, 1, 8), 6)
    big = F.interpolate(add, size=16, mode="linear", align_corners=False).numpy()
    pos = (np.arange(16) + 0.5) / 2 - 0.5
    want = np.stack([np.interp(np.clip(pos, 0, 7), np.arange(8), a) for a in add.numpy()[:, 0]])[:, None]
    np.testing.assert_allclose(big, want, atol=1e-12)


def test_normalize_of_a_zero_token_has_finite_second_derivative():
    # MAT normalises tokens that partial convs zeroed; torch's double backward through
    # F.normalize there gives NaN (0/0 in the norm's backward), tensorgan the true limit: the map
    # is x / eps near 0, linear, so the second derivative is 0
    x = tg.tensor(np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]]), requires_grad=True)
    y = F.normalize(x, p=2.0, dim=-1)
    g = tg.autograd.grad((y * tg.tensor(np.arange(6.0).reshape(2, 3))).sum(), x, create_graph=True)[0]
    np.testing.assert_allclose(g.detach().numpy()[0], [0.0, 1e12, 2e12])
    h = tg.autograd.grad(g.pow(2).sum(), x)[0].numpy()
    assert np.isfinite(h).all() and (h[0] == 0).all()
