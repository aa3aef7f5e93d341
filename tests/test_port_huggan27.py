"""Pieces of Hugging Face's community GANs (community-events huggan/pytorch: dcgan, pix2pix,
cyclegan, lightweight_gan) that the session-27 port ran beside torch in float64 (losses within
1e-13, parameters within Adam's amplified rounding).  No tensorgan fix was needed; these pin the
pieces the port leans on against NumPy, finite differences or first principles (no torch import):
kornia's filter2d blur as a depthwise conv, the linear-attention / global-context einsums, FCANet's
DCT pooling, the dual contrastive loss, DiffAugment's gather / scatter, the gradient penalty's
double backward, cyclegan's ReplayBuffer and LambdaLR, the lightweight-GAN EMA of an int64 buffer,
PyTorchModelHubMixin-style save_pretrained / from_pretrained through tg.save / tg.load, and the
errors torch raises on two upstream slips (pix2pix below 256 px, cyclegan's Discriminator(input_shape))."""
import json
import math
import os
import random

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import CheckpointError


def _t(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# -- lightweight_gan: Fuzziness = kornia filter2d([1,2,1] x [1,2,1], normalized, reflect border) --
def _filter2d(x, kernel):
    kernel = kernel / kernel.abs().sum(dim=(-2, -1), keepdim=True)
    b, c, h, w = x.shape
    k = kernel[:, None].expand(-1, c, -1, -1).reshape(-1, 1, kernel.shape[-2], kernel.shape[-1])
    x = F.pad(x, [1, 1, 1, 1], mode="reflect")
    x = x.view(-1, k.size(0), x.shape[-2], x.shape[-1])
    return F.conv2d(x, k, groups=k.size(0)).view(b, c, h, w)


def test_fuzziness_blur_is_numpy_reflect_blur():
    x = np.random.RandomState(0).randn(2, 3, 5, 6)
    f = _t([1, 2, 1])
    got = _filter2d(_t(x), f[None, None, :] * f[None, :, None]).numpy()
    k = np.outer([1, 2, 1], [1, 2, 1]) / 16.0
    p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")
    want = sum(k[i, j] * p[:, :, i:i + 5, j:j + 6] for i in range(3) for j in range(3))
    np.testing.assert_allclose(got, want, atol=1e-12)


# -- lightweight_gan: LinearAttention and GlobalContext einsums -------------------------------------
def _softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_linear_attention_einsums_match_numpy():
    rs = np.random.RandomState(1)
    q, k, v = rs.randn(3, 4, 6, 5)              # (b h) n d
    scale = 5 ** -0.5
    tq, tk, tv = _t(q).softmax(dim=-1) * scale, _t(k).softmax(dim=-2), _t(v)
    context = tg.einsum("b n d, b n e -> b d e", tk, tv)
    out = tg.einsum("b n d, b d e -> b n e", tq, context).numpy()
    nq, nk = _softmax(q, -1) * scale, _softmax(k, -2)
    want = np.matmul(nq, np.matmul(nk.transpose(0, 2, 1), v))
    np.testing.assert_allclose(out, want, atol=1e-12)


def test_global_context_pooling_matches_numpy():
    rs = np.random.RandomState(2)
    x, logits = rs.randn(2, 3, 4, 4), rs.randn(2, 1, 4, 4)
    context = _t(logits).flatten(2).softmax(dim=-1)
    out = tg.einsum("b i n, b c n -> b c i", context, _t(x).flatten(2)).unsqueeze(-1).numpy()
    w = _softmax(logits.reshape(2, 1, 16), -1)
    want = np.einsum("bin,bcn->bci", w, x.reshape(2, 3, 16))[..., None]
    np.testing.assert_allclose(out, want, atol=1e-12)


def test_fcanet_dct_pooling_matches_numpy():
    einops = pytest.importorskip("einops")
    rs = np.random.RandomState(3)
    x, dct = rs.randn(2, 4, 4, 4), rs.randn(1, 4, 4, 4)
    got = einops.reduce(_t(x) * _t(dct), "b c (h h1) (w w1) -> b c h1 w1", "sum", h1=1, w1=1)
    np.testing.assert_allclose(got.numpy(), (x * dct).sum(axis=(2, 3), keepdims=True), atol=1e-12)


# -- lightweight_gan: dual contrastive loss ---------------------------------------------------------
def test_dual_contrastive_loss_matches_numpy_and_its_gradient():
    einops = pytest.importorskip("einops")

    def loss_half(t1, t2):
        t1 = einops.rearrange(t1, "i -> i ()")
        t2 = einops.repeat(t2, "j -> i j", i=t1.shape[0])
        t = tg.cat((t1, t2), dim=-1)
        return F.cross_entropy(t, tg.zeros(t1.shape[0], dtype=tg.long))

    rs = np.random.RandomState(4)
    real, fake = rs.randn(3, 1), rs.randn(3, 1)
    r, f = _t(real, True), _t(fake, True)
    flat = [einops.rearrange(a, "... -> (...)") for a in (r, f)]
    loss = loss_half(flat[0], flat[1]) + loss_half(-flat[1], -flat[0])

    def np_half(a, b):
        t = np.concatenate([a[:, None], np.repeat(b[None], len(a), 0)], 1)
        return np.mean(np.log(np.exp(t).sum(1)) - t[:, 0])

    want = np_half(real.ravel(), fake.ravel()) + np_half(-fake.ravel(), -real.ravel())
    assert abs(loss.item() - want) < 1e-12
    loss.backward()
    eps, g = 1e-6, np.zeros(3)
    for i in range(3):
        up, dn = real.ravel().copy(), real.ravel().copy()
        up[i] += eps
        dn[i] -= eps
        g[i] = (np_half(up, fake.ravel()) + np_half(-fake.ravel(), -up)
                - np_half(dn, fake.ravel()) - np_half(-fake.ravel(), -dn)) / (2 * eps)
    np.testing.assert_allclose(r.grad.numpy().ravel(), g, atol=1e-7)


# -- lightweight_gan DiffAugment: translation gather and cutout scatter -----------------------------
def test_diffaugment_translation_gather_and_its_gradient():
    x = _t(np.random.RandomState(5).randn(2, 1, 4, 4), True)
    tx = tg.tensor(np.array([1, -1]).reshape(2, 1, 1))
    ty = tg.tensor(np.array([0, 2]).reshape(2, 1, 1))
    gb, gx, gy = tg.meshgrid(tg.arange(2, dtype=tg.long), tg.arange(4, dtype=tg.long),
                             tg.arange(4, dtype=tg.long), indexing="ij")
    gx = tg.clamp(gx + tx + 1, 0, 5)
    gy = tg.clamp(gy + ty + 1, 0, 5)
    x_pad = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    out = x_pad.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2)
    xn = np.pad(x.detach().numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)))
    want = np.stack([xn[b, :, gx.numpy()[b], gy.numpy()[b]].transpose(2, 0, 1) for b in range(2)])
    np.testing.assert_array_equal(out.detach().numpy(), want)
    out.sum().backward()
    counts = np.zeros((2, 6, 6))
    for b in range(2):
        np.add.at(counts[b], (gx.numpy()[b], gy.numpy()[b]), 1)
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], counts[:, 1:5, 1:5])


def test_diffaugment_cutout_mask_scatter():
    x = _t(np.ones((2, 3, 4, 4)), True)
    mask = tg.ones(2, 4, 4)
    gb, gx, gy = tg.meshgrid(tg.arange(2), tg.arange(2), tg.arange(2), indexing="ij")
    off = tg.tensor(np.array([0, 2]).reshape(2, 1, 1))
    mask[gb, tg.clamp(gx + off, max=3), tg.clamp(gy + off, max=3)] = 0
    y = x * mask.unsqueeze(1)
    y.sum().backward()
    want = np.ones((2, 4, 4))
    want[0, 0:2, 0:2] = 0
    want[1, 2:4, 2:4] = 0
    np.testing.assert_array_equal(mask.numpy(), want)
    np.testing.assert_array_equal(x.grad.numpy(), np.repeat(want[:, None], 3, 1))


# -- lightweight_gan gradient penalty: grad of [out, out_32x32] w.r.t. the images, then backward ----
def test_gradient_penalty_double_backward_matches_finite_differences():
    rs = np.random.RandomState(6)
    w1, w2 = rs.randn(3, 2, 3, 3) * 0.5, rs.randn(1, 3, 2, 2) * 0.5
    img = rs.randn(2, 2, 8, 8)

    def penalty(w1t, w2t):
        x = _t(img, True)
        h = F.leaky_relu(F.conv2d(F.pad(x, [1, 1, 1, 1], mode="reflect"), w1t), 0.1)
        out = F.conv2d(F.avg_pool2d(F.gelu(h), 2), w2t).flatten(1)
        out32 = F.interpolate(h, size=(4, 4)).softmax(dim=-1).mean(dim=(1, 2, 3))
        outs = [out, out32]
        grads = tg.autograd.grad(outputs=outs, inputs=x,
                                 grad_outputs=[tg.ones(t.size()) for t in outs],
                                 create_graph=True, retain_graph=True, only_inputs=True)[0]
        return 10 * ((grads.reshape(2, -1).norm(2, dim=1) - 1) ** 2).mean()

    w1t = _t(w1, True)
    penalty(w1t, _t(w2)).backward()
    eps, idx = 1e-6, [(0, 0, 0, 0), (1, 1, 2, 1), (2, 0, 1, 2)]
    for i in idx:
        up, dn = w1.copy(), w1.copy()
        up[i] += eps
        dn[i] -= eps
        fd = (penalty(_t(up), _t(w2)).item() - penalty(_t(dn), _t(w2)).item()) / (2 * eps)
        assert abs(w1t.grad.numpy()[i] - fd) < 1e-6 * max(1.0, abs(fd))


# -- cyclegan utils: ReplayBuffer (Variable over torch.cat) and the LambdaLR decay --------------------
class _ReplayBuffer:
    def __init__(self, max_size=50):
        self.max_size, self.data = max_size, []

    def push_and_pop(self, data):
        to_return = []
        for element in data.data:
            element = tg.unsqueeze(element, 0)
            if len(self.data) < self.max_size:
                self.data.append(element)
                to_return.append(element)
            elif random.uniform(0, 1) > 0.5:
                i = random.randint(0, self.max_size - 1)
                to_return.append(self.data[i].clone())
                self.data[i] = element
            else:
                to_return.append(element)
        return tg.autograd.Variable(tg.cat(to_return))


def test_replay_buffer_returns_detached_history():
    random.seed(0)
    buf = _ReplayBuffer(max_size=2)
    w = _t(np.ones((1, 1, 2, 2)), True)
    first = buf.push_and_pop(tg.cat([w * 1, w * 2]))
    assert first.shape == (2, 1, 2, 2) and not first.requires_grad
    out = buf.push_and_pop(w * 3).numpy()
    assert out.shape == (1, 1, 2, 2) and out.flat[0] in (1.0, 2.0, 3.0)
    assert len(buf.data) == 2 and all(not e.requires_grad for e in buf.data)


def test_cyclegan_lambda_lr_decays_linearly_after_decay_epoch():
    n_epochs, decay = 4, 1
    lam = lambda epoch: 1.0 - max(0, epoch - decay) / (n_epochs - decay)  # noqa: E731
    p = nn.Parameter(tg.zeros(1))
    opt = tg.optim.Adam([p], lr=2e-4, betas=(0.5, 0.999))
    sched = tg.optim.lr_scheduler.LambdaLR(opt, lr_lambda=lam)
    lrs = []
    for _ in range(4):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(lrs, [2e-4, 2e-4, 2e-4 * 2 / 3, 2e-4 / 3], rtol=1e-12)


# -- lightweight_gan EMA: int64 buffers (num_batches_tracked) are copy_'d a float average ----------
def test_ema_of_an_int64_buffer_truncates_as_copy_does():
    bn_ma, bn = nn.BatchNorm2d(2), nn.BatchNorm2d(2)
    bn.train()
    for _ in range(9):
        bn(tg.randn(3, 2, 2, 2))
    bn_ma.num_batches_tracked.copy_(tg.tensor(7))
    for current, ma in zip(bn.buffers(), bn_ma.buffers()):
        ma.copy_(ma * 0.995 + (1 - 0.995) * current)
    assert bn_ma.num_batches_tracked.dtype == tg.int64
    assert int(bn_ma.num_batches_tracked) == math.trunc(7 * 0.995 + 0.005 * 9)


# -- huggan PyTorchModelHubMixin: save_pretrained / from_pretrained through tg.save / tg.load -------
class _HubMixin:
    def save_pretrained(self, save_directory, config=None):
        os.makedirs(save_directory, exist_ok=True)
        if config is not None:
            with open(os.path.join(save_directory, "config.json"), "w") as f:
                json.dump(config, f)
        tg.save(self.state_dict(), os.path.join(save_directory, "pytorch_model.bin"))

    @classmethod
    def from_pretrained(cls, model_id, map_location="cpu", strict=False, **model_kwargs):
        with open(os.path.join(model_id, "config.json")) as f:
            model_kwargs.update(json.load(f))
        model = cls(**model_kwargs)
        state_dict = tg.load(os.path.join(model_id, "pytorch_model.bin"), map_location=tg.device(map_location))
        result = model.load_state_dict(state_dict, strict=strict)
        model.eval()
        return model, result


class _DCGANGenerator(nn.Module, _HubMixin):
    def __init__(self, num_channels=3, latent_dim=4, hidden_size=2):
        super().__init__()
        self.model = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, hidden_size * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(hidden_size * 2), nn.ReLU(True),
            nn.ConvTranspose2d(hidden_size * 2, num_channels, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, noise):
        return self.model(noise)


def test_hub_mixin_round_trip_keeps_weights_buffers_and_output(tmp_path):
    cfg = {"num_channels": 3, "latent_dim": 4, "hidden_size": 2}
    net = _DCGANGenerator(**cfg)
    z = tg.randn(2, 4, 1, 1)
    net(z)                                   # move the BatchNorm running stats off their init
    net.eval()
    with tg.no_grad():
        want = net(z).numpy()
    net.save_pretrained(str(tmp_path), config=cfg)
    net2, result = _DCGANGenerator.from_pretrained(str(tmp_path))
    assert not net2.training and result.missing_keys == [] and result.unexpected_keys == []
    for k, v in net.state_dict().items():
        v2 = net2.state_dict()[k]
        assert v2.dtype == v.dtype
        np.testing.assert_array_equal(v2.numpy(), v.numpy())
    assert int(net2.model[1].num_batches_tracked) == 1
    with tg.no_grad():
        np.testing.assert_array_equal(net2(z).numpy(), want)


def test_hub_mixin_strict_false_reports_keys_but_refuses_shapes(tmp_path):
    net = _DCGANGenerator()
    path = tmp_path / "pytorch_model.bin"
    tg.save(net.state_dict(), path)
    sd = tg.load(path)
    sd["extra.weight"] = sd.pop("model.0.weight")
    result = _DCGANGenerator().load_state_dict(sd, strict=False)
    assert result.missing_keys == ["model.0.weight"] and result.unexpected_keys == ["extra.weight"]
    with pytest.raises(RuntimeError, match="model.0.weight"):
        _DCGANGenerator(hidden_size=3).load_state_dict(tg.load(path), strict=False)


def test_hub_checkpoint_written_by_torch_save_is_refused_with_the_fix(tmp_path):
    import zipfile
    path = tmp_path / "pytorch_model.bin"          # torch.save's layout: archive/data.pkl + storages
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    with pytest.raises(CheckpointError, match="torch.save"):
        tg.load(path)


# -- upstream slips raise as torch's do --------------------------------------------------------------
def test_pix2pix_unet_below_256px_hits_instance_norm_on_1x1_as_torch():
    # GeneratorUNet's down7 (InstanceNorm) sees 1x1 maps at 128 px: torch raises ValueError
    with pytest.raises(ValueError, match="more than one"):
        nn.InstanceNorm2d(4)(tg.ones(1, 4, 1, 1))


def test_cyclegan_discriminator_given_input_shape_is_a_type_error():
    # cyclegan/train.py calls Discriminator(input_shape): nn.Conv2d((3, 256, 256), 64, 4)
    with pytest.raises(TypeError, match="in_channels"):
        nn.Conv2d((3, 256, 256), 64, 4, stride=2, padding=1)
