"""What porting R3GAN (brownvc/R3GAN), SAN (sony/san) and LeCam-GAN (google/lecam-gan) beside torch
turned up: torch's multi-tensor ``torch._foreach_*`` functions (the EMA form of ema-pytorch / timm:
``_foreach_lerp_(ema_params, params, 1 - decay)``) and torch's rule that loads a 1-element 1-D
checkpoint entry into a 0-dim parameter or buffer (old LeCam / EMA scalars).  The ports agreed with
torch to ~1e-15 in float64; the rest of this file pins the pieces they lean on against NumPy and
finite differences: R1 / R2 through grouped convolutions and the fixed low-pass resamplers, SAN's
fun / dir split, LeCam's buffer EMAs."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import InputTypeError, ShapeError, StateDictMismatchError


def _lowpass(weights=(1, 2, 1)):
    k = np.convolve(weights, [1, 1]).reshape(1, -1)
    k = k.T @ k
    return k / k.sum()


class _TinyR3D(nn.Module):
    """R3GAN's discriminator shape in miniature: 1x1 extraction, a residual block with a grouped 3x3
    and biased leaky ReLUs, the interpolative downsampler, a depthwise 4x4 basis and a linear."""

    def __init__(self, c=4):
        super().__init__()
        self.extract = nn.Conv2d(3, c, 1, bias=False)
        self.l1 = nn.Conv2d(c, 2 * c, 1, bias=False)
        self.l2 = nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=2, bias=False)
        self.l3 = nn.Conv2d(2 * c, c, 1, bias=False)
        self.b1 = nn.Parameter(tg.zeros(2 * c, dtype=tg.float64))
        self.basis = nn.Conv2d(c, c, 4, groups=c, bias=False)
        self.linear = nn.Linear(c, 1, bias=False)
        self.register_buffer("kernel", tg.from_numpy(_lowpass()))

    def forward(self, x):
        x = self.extract(x)
        y = F.leaky_relu(self.l1(x) + self.b1.view(1, -1, 1, 1), 0.2)
        x = x + self.l3(F.leaky_relu(self.l2(y), 0.2))
        n, c, h, w = x.shape
        k = self.kernel.view(1, 1, 4, 4)
        x = F.conv2d(x.view(n * c, 1, h, w), k, stride=2, padding=1).view(n, c, h // 2, w // 2)
        return self.linear(self.basis(x).view(n, -1)).view(n)


def _r3_d_loss(D, real, fake, gamma=1.0):
    """R3GAN's AccumulateDiscriminatorGradients: RpGAN + (gamma / 2) (R1 + R2), both penalties
    through autograd.grad(create_graph=True)."""
    real = real.detach().requires_grad_(True)
    fake = fake.detach().requires_grad_(True)
    real_logits, fake_logits = D(real), D(fake)
    r1, = tg.autograd.grad(real_logits.sum(), real, create_graph=True)
    r2, = tg.autograd.grad(fake_logits.sum(), fake, create_graph=True)
    adversarial = F.softplus(-(real_logits - fake_logits))
    return (adversarial + gamma / 2 * (r1.square().sum([1, 2, 3]) + r2.square().sum([1, 2, 3]))).mean()


def _seeded_d():
    tg.manual_seed(0)
    D = _TinyR3D().double()
    with tg.no_grad():
        for p in D.parameters():
            p.copy_(tg.randn_like(p) * 0.4)
    return D


def test_r3gan_r1_r2_penalty_gradients_match_finite_differences():
    D = _seeded_d()
    rng = np.random.default_rng(0)
    real, fake = (tg.from_numpy(rng.normal(size=(2, 3, 8, 8))) for _ in range(2))
    loss = _r3_d_loss(D, real, fake)
    loss.backward()
    for name in ("l2.weight", "b1", "basis.weight"):       # grouped conv, bias, depthwise 4x4
        p = dict(D.named_parameters())[name]
        flat = p.detach().numpy().reshape(-1)
        for i in (0, flat.size // 2, flat.size - 1):
            old, eps = flat[i], 1e-6
            values = []
            for v in (old + eps, old - eps):
                with tg.no_grad():
                    p.view(-1)[i] = v
                values.append(float(_r3_d_loss(D, real, fake).detach()))
            with tg.no_grad():
                p.view(-1)[i] = old
            numeric = (values[0] - values[1]) / (2 * eps)
            assert p.grad.numpy().reshape(-1)[i] == pytest.approx(numeric, rel=1e-5, abs=1e-7), (name, i)


def test_r3gan_interpolative_resamplers_are_numpy_zero_insertion_and_filtering():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 1, 5, 5))
    k = _lowpass()
    up = F.conv_transpose2d(tg.from_numpy(x), tg.from_numpy(4 * k).view(1, 1, 4, 4), stride=2, padding=1).numpy()
    z = np.zeros((13, 13))
    z[2:11:2, 2:11:2] = x[0, 0]                 # zeros inserted, padded by k - 1 - p, then the (symmetric) filter
    ref = np.array([[(z[i:i + 4, j:j + 4] * 4 * k).sum() for j in range(0, 10)] for i in range(0, 10)])
    np.testing.assert_allclose(up[0, 0], ref, atol=1e-12)
    const = F.conv2d(tg.ones(1, 1, 8, 8, dtype=tg.float64), tg.from_numpy(k).view(1, 1, 4, 4), stride=2, padding=1)
    np.testing.assert_allclose(const.numpy()[0, 0, 1:-1, 1:-1], 1.0)   # unit DC gain inside


def test_r3gan_fixup_zero_init_and_msr_scale():
    tg.manual_seed(0)
    conv = nn.Conv2d(16, 8, 1, bias=False)
    conv.weight.data.normal_(0, 0 / math.sqrt(16))       # LinearLayer3: ActivationGain=0
    assert float(conv.weight.detach().abs().sum()) == 0.0
    big = nn.Conv2d(64, 64, 3, groups=4, bias=False)
    fan_in = big.weight.data.size(1) * big.weight.data[0][0].numel()
    big.weight.data.normal_(0, 2.0 / math.sqrt(fan_in))
    assert fan_in == 16 * 9 and float(big.weight.detach().std()) == pytest.approx(2.0 / 12, rel=0.05)


def _san_parts(seed=0):
    tg.manual_seed(seed)
    h = nn.Linear(5, 6).double()
    fc_w = nn.Parameter(tg.randn(3, 6, dtype=tg.float64))
    return h, fc_w


def _san_out(h, fc_w, x, ids):
    """simple-san's SanDiscriminator head with flg_train=True."""
    feature = h(x)
    weights = fc_w[ids]
    direction = F.normalize(weights, dim=1)
    feature = feature * tg.norm(weights, dim=1).unsqueeze(1)
    return (feature.detach() * direction).sum(dim=1), (feature * direction.detach()).sum(dim=1)


def _rows_dot(grad, w):
    """Per-row (grad . w / |w|) and the part of grad orthogonal to w."""
    u = w / np.linalg.norm(w, axis=1, keepdims=True)
    along = (grad * u).sum(1)
    return along, grad - u * along[:, None]


def test_san_fun_part_turns_the_direction_and_dir_part_trains_features_and_scale():
    h, fc_w = _san_parts()
    x, ids = tg.randn(4, 5, dtype=tg.float64), tg.tensor([0, 2, 2, 1])
    fun, dirs = _san_out(h, fc_w, x, ids)
    fun.sum().backward()                      # features detached: only the direction moves
    assert h.weight.grad is None
    along, across = _rows_dot(fc_w.grad.numpy(), fc_w.detach().numpy())
    np.testing.assert_allclose(along, 0.0, atol=1e-12)
    assert np.abs(across).sum() > 0
    fc_w.grad = None
    _san_out(h, fc_w, x, ids)[1].sum().backward()   # direction detached: h and the scale |w| move
    assert h.weight.grad is not None
    along, across = _rows_dot(fc_w.grad.numpy(), fc_w.detach().numpy())
    np.testing.assert_allclose(across, 0.0, atol=1e-12)
    assert np.abs(along).sum() > 0
    np.testing.assert_allclose(fun.detach().numpy(), dirs.detach().numpy(), atol=1e-12)   # same value


def test_san_hinge_loss_gradient_on_the_last_layer_is_numpy_projection():
    h, fc_w = _san_parts(1)
    x, ids = tg.randn(3, 5, dtype=tg.float64), tg.tensor([1, 1, 1])
    fun, dirs = _san_out(h, fc_w, x, ids)
    loss = (1. - fun).relu().mean() - dirs.mean()      # compute_loss_san(..., 'real')
    loss.backward()
    w = fc_w.detach().numpy()[1]
    raw = h(x).detach().numpy()
    u, s = w / np.linalg.norm(w), np.linalg.norm(w)
    active = (1 - fun.detach().numpy()) > 0
    d_dir = -(raw * s * active[:, None]).sum(0) / 3          # hinge part, through F.normalize
    tangential = (d_dir - u * (u @ d_dir)) / s
    radial = u * -(raw @ u).sum() / 3                        # Wasserstein part, through the scale
    np.testing.assert_allclose(fc_w.grad.numpy()[1], tangential + radial, atol=1e-12)
    np.testing.assert_allclose(fc_w.grad.numpy()[[0, 2]], 0.0)


class _LeCamEMA(nn.Module):
    def __init__(self, decay=0.9):
        super().__init__()
        self.decay = decay
        self.register_buffer("ema_real", tg.zeros(()))
        self.register_buffer("ema_fake", tg.zeros(()))
        self.register_buffer("steps", tg.zeros((), dtype=tg.int64))

    @tg.no_grad()
    def update(self, d_real, d_fake):
        self.steps += 1
        self.ema_real.lerp_(d_real.mean(), 1 - self.decay)
        self.ema_fake.mul_(self.decay).add_(d_fake.mean(), alpha=1 - self.decay)

    def debiased(self):
        return self.ema_real / (1 - self.decay ** self.steps), self.ema_fake / (1 - self.decay ** self.steps)


def test_lecam_buffer_emas_match_numpy_and_travel_in_the_state_dict():
    ema, rng = _LeCamEMA(), np.random.default_rng(3)
    real_ref = fake_ref = 0.0
    for _ in range(4):
        r, f = rng.normal(1, 1, 5), rng.normal(-1, 1, 5)
        ema.update(tg.tensor(r, dtype=tg.float32), tg.tensor(f, dtype=tg.float32))
        real_ref, fake_ref = 0.9 * real_ref + 0.1 * r.mean(), 0.9 * fake_ref + 0.1 * f.mean()
    assert list(ema.state_dict()) == ["ema_real", "ema_fake", "steps"] and int(ema.steps) == 4
    assert float(ema.ema_real) == pytest.approx(real_ref, rel=1e-5) and float(ema.ema_fake) == pytest.approx(fake_ref, rel=1e-5)
    assert float(ema.debiased()[0]) == pytest.approx(real_ref / (1 - 0.9 ** 4), rel=1e-5)
    d_real = tg.tensor([0.5, 3.0], requires_grad=True)
    d_fake = tg.tensor([-2.0, 1.0], requires_grad=True)
    reg = F.relu(d_real - ema.ema_fake).pow(2).mean() + F.relu(ema.ema_real - d_fake).pow(2).mean()
    reg.backward()
    np.testing.assert_allclose(d_real.grad.numpy(), np.maximum(np.array([0.5, 3.0]) - fake_ref, 0), rtol=1e-5)
    assert ema.ema_real.grad is None and not ema.ema_real.requires_grad
    half = _LeCamEMA().half()
    assert half.steps.dtype == tg.int64 and half.ema_real.dtype == tg.float16


def test_load_state_dict_takes_a_one_element_1d_entry_into_a_0d_buffer():
    ema = _LeCamEMA()
    ema.load_state_dict({"ema_real": tg.tensor([1.5]), "ema_fake": tg.tensor([-0.5]), "steps": tg.tensor([7])})
    assert ema.ema_real.shape == () and float(ema.ema_real) == 1.5 and int(ema.steps) == 7
    with pytest.raises(StateDictMismatchError, match="shape"):      # only a single element, as torch
        ema.load_state_dict({"ema_real": tg.tensor([1.0, 2.0]), "ema_fake": tg.zeros(()), "steps": tg.tensor(1)})
    vec = nn.Module()
    vec.register_buffer("b", tg.zeros(1))
    with pytest.raises(RuntimeError, match="shape"):                # and not the other way round
        vec.load_state_dict({"b": tg.tensor(2.0)})


def _pair():
    return [tg.zeros(2), tg.ones(3)]


def test_foreach_ema_lerp_matches_the_per_parameter_update():
    tg.manual_seed(0)
    G = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    ema_a = [p.detach().clone() for p in G.parameters()]
    ema_b = [p.detach().clone() for p in G.parameters()]
    with tg.no_grad():
        for p in G.parameters():
            p.add_(tg.randn_like(p))
    beta = 0.5 ** (8 / 10)
    out = tg._foreach_lerp_(ema_a, [p.detach() for p in G.parameters()], 1 - beta)
    assert isinstance(out, list) and out[0] is ema_a[0]
    for e, p in zip(ema_b, G.parameters()):
        e.copy_(p.detach().lerp(e, beta))                          # R3GAN's form
    for a, b in zip(ema_a, ema_b):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


def test_foreach_argument_forms():
    assert isinstance(tg._foreach_add(_pair(), 1.0), tuple)
    np.testing.assert_allclose(tg._foreach_add(_pair(), [1.0, 2.0])[1].numpy(), 3.0)
    np.testing.assert_allclose(tg._foreach_add(_pair(), [tg.ones(2), tg.ones(3)], alpha=2)[0].numpy(), 2.0)
    np.testing.assert_allclose(tg._foreach_sub(_pair(), tg.tensor(3.0), alpha=2)[1].numpy(), -5.0)
    np.testing.assert_allclose(tg._foreach_lerp(_pair(), [tg.ones(2), tg.ones(3) * 3], [0.5, 0.25])[1].numpy(), 1.5)
    np.testing.assert_allclose(tg._foreach_addcmul(_pair(), _pair(), [tg.ones(2) * 2, tg.ones(3) * 2],
                                                   tg.tensor([3.0, 4.0]))[1].numpy(), 9.0)
    np.testing.assert_allclose(tg._foreach_addcdiv(_pair(), _pair(), [tg.ones(2) * 2, tg.ones(3) * 2], value=3)[1].numpy(), 2.5)
    assert [float(n) for n in tg._foreach_norm(_pair())] == pytest.approx([0.0, math.sqrt(3)])
    assert [float(n) for n in tg._foreach_norm(_pair(), float("inf"))] == [0.0, 1.0]
    np.testing.assert_allclose(tg._foreach_pow(2.0, _pair())[1].numpy(), 2.0)
    np.testing.assert_allclose(tg._foreach_maximum(_pair(), 0.5)[0].numpy(), 0.5)
    pair = _pair()
    tg._foreach_minimum_(pair, [tg.ones(2) * -1, tg.zeros(3)])
    assert pair[0].tolist() == [-1.0, -1.0] and pair[1].tolist() == [0.0, 0.0, 0.0]
    assert tg._foreach_mul([tg.arange(3)], 2)[0].dtype == tg.int64
    assert tg._foreach_div([tg.arange(3)], 2)[0].dtype == tg.float32
    pair = _pair()
    tg._foreach_copy_(pair, [tg.ones(2) * 7, tg.ones(3) * 8])
    tg._foreach_mul_(pair, 0.5)
    assert pair[1].tolist() == [4.0, 4.0, 4.0]


def test_foreach_out_of_place_forms_are_differentiable():
    params = [tg.ones(2, requires_grad=True), tg.ones(3, requires_grad=True)]
    out = tg._foreach_mul(tg._foreach_lerp(params, [tg.zeros(2), tg.zeros(3)], 0.25), 3.0)
    sum(x.sum() for x in out).backward()
    assert params[0].grad.tolist() == [2.25, 2.25]


@pytest.mark.parametrize("call, error, match", [
    (lambda: tg._foreach_add([], 1.0), ShapeError, "at least one tensor"),
    (lambda: tg._foreach_add(_pair(), [tg.ones(2)]), ShapeError, "same number of tensors, got 2 and 1"),
    (lambda: tg._foreach_add(_pair(), [1.0]), ShapeError, "scalar list"),
    (lambda: tg._foreach_add(_pair(), tg.ones(2)), ShapeError, "0 dim"),
    (lambda: tg._foreach_add(_pair(), 1.0, alpha=2), InputTypeError, "alpha"),
    (lambda: tg._foreach_add(tg.zeros(2), 1.0), InputTypeError, "list or tuple"),
    (lambda: tg._foreach_add_([tg.zeros(2, requires_grad=True)], 1.0), RuntimeError, "leaf"),
    (lambda: tg._foreach_mul_([tg.arange(3)], 0.5), RuntimeError, "int64"),
])
def test_foreach_errors_are_torchs_kinds(call, error, match):
    with pytest.raises(error, match=match):
        call()
    if error in (ShapeError,):
        with pytest.raises(RuntimeError):      # what torch raises there
            call()
