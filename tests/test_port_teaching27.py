"""Session 27 ports of teaching GANs: d2l.ai's GAN / DCGAN chapters and Lightning-Bolts' GAN,
DCGAN, SRGAN and pix2pix modules (run beside torch in float64 out of tree). Here: the fixes they
led to, and the program shapes checked against NumPy / invariants."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeNotImplementedError

nn = tg.nn
F = tg.nn.functional


# ---- nn.init random fills on integer / bool / complex tensors (bolts' _weights_init pattern) ----

@pytest.mark.parametrize("init", [
    lambda t: nn.init.normal_(t, 0.0, 0.02), lambda t: nn.init.uniform_(t),
    nn.init.xavier_uniform_, nn.init.xavier_normal_, nn.init.kaiming_uniform_,
    nn.init.kaiming_normal_, nn.init.trunc_normal_, nn.init.orthogonal_,
    lambda t: nn.init.sparse_(t, 0.5)])
@pytest.mark.parametrize("dtype", [tg.int64, tg.int32, tg.bool])
def test_init_random_fill_of_integer_tensor_is_typed_not_implemented(init, dtype):
    # torch: NotImplementedError ("normal_kernel_cpu" not implemented for 'Long'); tensorgan used to
    # leak NumPy's bare TypeError, and trunc_normal_ rounded its draws into the ints silently
    t = tg.zeros(4, 3, dtype=dtype)
    with pytest.raises(NotImplementedError) as info:
        init(t)
    assert isinstance(info.value, DTypeNotImplementedError)
    assert str(t.dtype) in str(info.value)
    assert not t.numpy().any()


@pytest.mark.parametrize("init", [nn.init.trunc_normal_, nn.init.orthogonal_])
def test_trunc_normal_and_orthogonal_refuse_complex_as_torch(init):
    t = tg.zeros(4, 3, dtype=tg.complex64)
    with pytest.raises(DTypeNotImplementedError, match="complex64"):
        init(t)


@pytest.mark.parametrize("init, var", [
    (lambda t: nn.init.normal_(t, 0.0, 2.0), 4.0),
    (lambda t: nn.init.uniform_(t, -3.0, 3.0), 6.0),          # each part U(-3, 3), var 3
    (lambda t: nn.init.xavier_normal_(t), 2.0 / 600),
    (lambda t: nn.init.sparse_(t, 0.0, 2.0), 4.0)])
def test_init_fills_complex_tensor_each_part(init, var):
    # torch fills complex tensors, each part from half the variance (normal) or the range (uniform)
    tg.manual_seed(0)
    t = tg.zeros(300, 300, dtype=tg.complex128)
    assert init(t) is t
    a = t.numpy()
    assert a.dtype == np.complex128
    assert np.var(a) == pytest.approx(var, rel=0.05)
    assert np.var(a.real) == pytest.approx(np.var(a.imag), rel=0.05)


def test_sparse_complex_zeroes_its_share_of_each_column():
    t = tg.zeros(10, 6, dtype=tg.complex64)
    nn.init.sparse_(t, 0.3, 1.0)
    assert ((t.numpy() == 0).sum(axis=0) == 3).all()


def test_init_float_paths_unchanged_by_seed():
    for init in (lambda t: nn.init.normal_(t, 0, 0.02), lambda t: nn.init.sparse_(t, 0.2, 0.1)):
        tg.manual_seed(5)
        a = init(tg.empty(6, 5, dtype=tg.float64)).numpy().copy()
        tg.manual_seed(5)
        b = init(tg.empty(6, 5, dtype=tg.float64)).numpy()
        np.testing.assert_array_equal(a, b)


def test_bolts_weights_init_by_classname():
    # Lightning-Bolts' DCGAN._weights_init: classname.find("Conv") / ("BatchNorm")
    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    tg.manual_seed(0)
    net = nn.Sequential(nn.ConvTranspose2d(16, 32, 4, 1, 0, bias=False), nn.BatchNorm2d(32), nn.ReLU(True))
    net.apply(weights_init)
    w, bn = net[0].weight.numpy(), net[1]
    assert abs(w.std() - 0.02) < 0.003 and abs(bn.weight.numpy().mean() - 1.0) < 0.01
    assert not bn.bias.numpy().any()


# ---- the d2l linear GAN: one update_D / update_G step against a NumPy forward / backward ----

def test_d2l_update_D_loss_and_gradient_match_numpy():
    rng = np.random.default_rng(0)
    W1, b1 = rng.normal(0, 0.5, (5, 2)), rng.normal(0, 0.5, 5)
    W2, b2 = rng.normal(0, 0.5, (1, 5)), rng.normal(0, 0.5, 1)
    X, fake = rng.normal(size=(8, 2)), rng.normal(size=(8, 2))
    net_D = nn.Sequential(nn.Linear(2, 5, dtype=tg.float64), nn.Tanh(), nn.Linear(5, 1, dtype=tg.float64))
    net_D.load_state_dict({"0.weight": tg.tensor(W1), "0.bias": tg.tensor(b1),
                           "2.weight": tg.tensor(W2), "2.bias": tg.tensor(b2)})
    loss = nn.BCEWithLogitsLoss(reduction="sum")
    real_Y, fake_Y = net_D(tg.tensor(X)), net_D(tg.tensor(fake))
    loss_D = (loss(real_Y, tg.ones((8,), dtype=tg.float64).reshape(real_Y.shape))
              + loss(fake_Y, tg.zeros((8,), dtype=tg.float64).reshape(fake_Y.shape))) / 2
    loss_D.backward()

    def logits(x):
        return np.tanh(x @ W1.T + b1) @ W2.T + b2
    softplus = lambda z: np.logaddexp(0, z)                 # noqa: E731
    want = (softplus(-logits(X)).sum() + softplus(logits(fake)).sum()) / 2
    assert loss_D.item() == pytest.approx(want, rel=1e-12)
    # d loss / d b2 = (sum(sigmoid(real) - 1) + sum(sigmoid(fake))) / 2
    sig = lambda z: 1 / (1 + np.exp(-z))                    # noqa: E731
    gb2 = ((sig(logits(X)) - 1).sum() + sig(logits(fake)).sum()) / 2
    assert float(net_D[2].bias.grad[0]) == pytest.approx(gb2, rel=1e-10)


# ---- d2l DCGAN blocks and bolts components: shapes the chapters print ----

def test_d2l_dcgan_block_shapes():
    g = nn.Sequential(nn.ConvTranspose2d(3, 20, 4, 2, 1, bias=False), nn.BatchNorm2d(20), nn.ReLU())
    assert tuple(g(tg.zeros((2, 3, 16, 16))).shape) == (2, 20, 32, 32)
    g1 = nn.ConvTranspose2d(3, 20, 4, 1, 0, bias=False)
    assert tuple(g1(tg.zeros((2, 3, 1, 1))).shape) == (2, 20, 4, 4)
    d = nn.Sequential(nn.Conv2d(3, 20, 4, 2, 1, bias=False), nn.BatchNorm2d(20), nn.LeakyReLU(0.2, inplace=True))
    assert tuple(d(tg.zeros((2, 3, 16, 16))).shape) == (2, 20, 8, 8)


def test_bolts_dropout_functional_trains_by_default():
    # bolts' basic Discriminator calls F.dropout(x, 0.3) with no training flag: always drops
    tg.manual_seed(0)
    out = F.dropout(tg.ones(20000, dtype=tg.float64), 0.3).numpy()
    assert set(np.unique(out).round(12)) == {0.0, round(1 / 0.7, 12)}
    assert abs((out == 0).mean() - 0.3) < 0.02


def test_bolts_srgan_discriminator_head_and_toggle():
    # AdaptiveAvgPool2d(1) -> 1x1 convs -> Flatten gives (B, 1); Lightning's toggle_optimizer
    # (requires_grad False on the other net) leaves that net without grads
    disc = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True),
                         nn.AdaptiveAvgPool2d(1), nn.Conv2d(4, 8, kernel_size=1),
                         nn.LeakyReLU(0.2, inplace=True), nn.Conv2d(8, 1, kernel_size=1), nn.Flatten())
    gen = nn.Sequential(nn.Conv2d(3, 12, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(), nn.Tanh())
    for p in gen.parameters():
        p.requires_grad = False
    pred = disc(gen(tg.randn(2, 3, 4, 4)))
    assert tuple(pred.shape) == (2, 1)
    F.binary_cross_entropy_with_logits(pred, tg.zeros_like(pred)).backward()
    assert all(p.grad is None for p in gen.parameters())
    assert all(p.grad is not None for p in disc.parameters())
