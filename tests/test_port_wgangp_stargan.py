"""Gaps found porting caogang/wgan-gp (gan_toy, wgan_lp_toy, gan_mnist, gan_cifar10,
gan_language) and yunjey/stargan (model.py, solver.py) to tensorgan.

Those programs are Python 2 code: ``real_data.nelement()/BATCH_SIZE`` is a float under Python 3,
and torch answers a float size / dim / count with a TypeError naming it, not with a shape or
range complaint.  EMA loops copy every buffer with ``b_ema.data.copy_(b.data)``, BatchNorm's
integer counter included.  The rest pins the programs' numerics (gradient penalty through a
Conv1d ResBlock critic, InstanceNorm with running stats, the classification losses, the
one / mone idiom) against NumPy.
"""
import io

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import InputTypeError, ShapeError


# -- float sizes / dims / counts (Python 3's ``/``) are type errors, as in torch ------------
@pytest.mark.parametrize("call, needle", [
    (lambda x, y: x.expand(4, y.nelement() / 4), "expand: sizes must be ints, got 12.0 (float)"),
    (lambda x, y: x.expand((4, 12.0)), "expand: sizes must be ints, got 12.0"),
    (lambda x, y: x.repeat(1, 2.0), "repeat: counts must be ints, got 2.0"),
    (lambda x, y: y.narrow(1, 0, 2.0), "narrow: start and length must be ints, got 2.0"),
    (lambda x, y: y.chunk(2.0, dim=1), "chunk: chunks must be an int, got 2.0"),
    (lambda x, y: y.topk(2.0), "topk: k must be an int, got 2.0"),
    (lambda x, y: tg.kthvalue(y, 1.0), "kthvalue: k must be an int, got 1.0"),
    (lambda x, y: y.permute(1.0, 0), "permute: dims must be ints, got 1.0"),
    (lambda x, y: y.transpose(1.0, 0), "transpose: dim must be an int, got 1.0"),
    (lambda x, y: y.unsqueeze(1.0), "unsqueeze: dim must be an int, got 1.0"),
    (lambda x, y: y.size(1.0), "size: dim must be an int, got 1.0"),
    (lambda x, y: y.flatten(0.0), "flatten: dim must be an int, got 0.0"),
])
def test_float_sizes_and_dims_raise_type_errors_naming_the_float(call, needle):
    x, y = tg.ones(4, 1), tg.ones(4, 12)
    with pytest.raises(InputTypeError, match=needle.replace("(", r"\(").replace(")", r"\)")) as info:
        call(x, y)
    assert isinstance(info.value, TypeError)           # what ``except TypeError`` catches in torch


def test_int_like_sizes_still_work_and_real_shape_errors_stay_shape_errors():
    x = tg.ones(4, 1)
    assert x.expand(np.int64(4), 12 // 1).shape == (4, 12)
    assert x.expand(4, tg.tensor(3)).shape == (4, 3)
    with pytest.raises(ShapeError, match="expand"):
        x.expand(3, 12)                                 # a real mismatch: still a ShapeError
    with pytest.raises(ShapeError, match="transpose: dim True"):
        x.transpose(True, 0)                            # bools keep their range message
    with pytest.raises(ShapeError, match="topk"):
        tg.ones(3).topk(5)


# -- BatchNorm's integer counter answers the Tensor idioms EMA / logging code uses ----------
def test_buffer_ema_copy_through_data_reaches_num_batches_tracked():
    model, ema = nn.BatchNorm2d(2), nn.BatchNorm2d(2)
    rs = np.random.RandomState(0)
    for _ in range(3):
        model(tg.tensor(rs.randn(4, 2, 3, 3).astype(np.float32)))
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.data.copy_(b.data)
    assert int(ema.num_batches_tracked) == 3
    np.testing.assert_array_equal(ema.running_mean.numpy(), model.running_mean.numpy())
    nbt = ema.num_batches_tracked
    assert nbt.data is nbt and nbt.cpu() is nbt and nbt.dim() == 0 and nbt.numel() == 1
    f = nbt.float()
    assert isinstance(f, tg.Tensor) and f.dtype == tg.float32 and f.item() == 3.0
    assert nbt.double().dtype == tg.float64 and nbt.to(tg.float64).item() == 3.0
    n = nbt.long()
    assert n.dtype == tg.int64 and n.item() == 3
    n.add_(1)                                           # torch's .long() of an int64 tensor is itself
    assert int(nbt) == 4


# -- the WGAN-GP programs' numerics ------------------------------------------------------------
def _f64(a):
    return tg.tensor(np.asarray(a, dtype=np.float64))


def test_one_mone_idiom_scales_gradients_and_rejects_a_shape_1_gradient():
    w = tg.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    one = tg.tensor(1.0, dtype=tg.float64)
    mone = one * -1
    (w * 2).mean().backward(mone)
    np.testing.assert_allclose(w.grad.numpy(), -2.0 / 3 * np.ones(3))
    with pytest.raises(ShapeError, match="shape"):      # the Python 2 era FloatTensor([1])
        (w * 2).mean().backward(tg.tensor(np.array([1.0])))


def test_gradient_penalty_through_conv1d_resblock_critic_matches_finite_differences():
    """gan_language.py's critic (Conv1d(charmap, DIM, 1) -> ReLU/Conv1d ResBlock scaled 0.3 ->
    Linear) with its penalty ((||dD/dx||_dim1 - 1)^2).mean(): d(penalty)/d(weights) needs the
    double backward through conv1d and ReLU; checked against central differences in float64."""
    rs = np.random.RandomState(3)
    B, L, C, D = 2, 4, 3, 5

    class ResBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.res_block = nn.Sequential(nn.ReLU(True), nn.Conv1d(D, D, 5, padding=2),
                                           nn.ReLU(True), nn.Conv1d(D, D, 5, padding=2))

        def forward(self, x):
            return x + 0.3 * self.res_block(x)

    class Critic(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv1d(C, D, 1)
            self.block = nn.Sequential(ResBlock())
            self.fc1 = nn.Linear(L * D, 1)

        def forward(self, x):
            out = self.block(self.conv1(x.transpose(1, 2)))
            return self.fc1(out.view(-1, L * D))

    net = Critic().double()
    real = _f64(np.eye(C)[rs.randint(0, C, (B, L))])
    fake = F.softmax(_f64(rs.randn(B, L, C)), dim=2)
    alpha = _f64(rs.rand(B, 1, 1)).expand(real.size())

    def penalty():
        x = (alpha * real + (1 - alpha) * fake).detach().requires_grad_(True)
        out = net(x)
        g = tg.autograd.grad(out, x, grad_outputs=tg.ones(out.size(), dtype=tg.float64),
                             create_graph=True, retain_graph=True, only_inputs=True)[0]
        return ((g.norm(2, dim=1) - 1) ** 2).mean() * 10

    gp = penalty()
    gp.backward()
    w = net.block[0].res_block[1].weight
    analytic = w.grad.numpy().copy()
    numeric = np.zeros_like(analytic)
    flat = w.data.numpy().reshape(-1)
    for i in range(0, flat.size, 7):                   # a spread of entries, both signs of ReLU
        old = flat[i]
        flat[i] = old + 1e-6
        hi = penalty().item()
        flat[i] = old - 1e-6
        lo = penalty().item()
        flat[i] = old
        numeric.reshape(-1)[i] = (hi - lo) / 2e-6
    picked = np.arange(0, flat.size, 7)
    np.testing.assert_allclose(analytic.reshape(-1)[picked], numeric.reshape(-1)[picked],
                               rtol=1e-5, atol=1e-8)
    assert np.abs(analytic).max() > 1e-3                # the penalty does reach the weights


def test_lipschitz_penalty_is_zero_below_one_and_quadratic_above():
    """wgan_lp_toy.py: relu(sqrt(1e-8 + sum g^2) - 1)^2 -- one-sided."""
    lin = nn.Linear(2, 1).double()
    with tg.no_grad():
        lin.weight.copy_(_f64([[0.3, 0.4]]))            # |grad| = 0.5 < 1: no penalty
        lin.bias.zero_()
    x = _f64(np.random.RandomState(0).randn(5, 2)).requires_grad_(True)

    def lp():
        out = lin(x)
        g = tg.autograd.grad(out, x, tg.ones(out.size(), dtype=tg.float64), create_graph=True)[0]
        n = F.relu(tg.sqrt(1e-8 + tg.sum(g.view(g.size(0), -1) ** 2, dim=1)) - 1)
        return tg.mean(n ** 2) * 10

    assert lp().item() == 0.0
    with tg.no_grad():
        lin.weight.copy_(_f64([[3.0, 4.0]]))            # |grad| = 5: (sqrt(25 + 1e-8) - 1)^2 * 10
    value = lp()
    np.testing.assert_allclose(value.item(), (np.sqrt(25 + 1e-8) - 1) ** 2 * 10, rtol=1e-12)
    value.backward()                                    # d/dw of 10 (|w| - 1)^2 = 20 (|w| - 1) w / |w|
    np.testing.assert_allclose(lin.weight.grad.numpy(), 20 * 4 / 5 * np.array([[3.0, 4.0]]),
                               rtol=1e-6)


# -- StarGAN's solver ----------------------------------------------------------------------------
def test_stargan_label_helpers():
    labels = tg.tensor(np.array([2.0, 0.0, 1.0]))
    out = tg.zeros(3, 4)
    out[np.arange(3), labels.long()] = 1                # label2onehot
    np.testing.assert_array_equal(out.numpy(), np.eye(4, dtype=np.float32)[[2, 0, 1]])
    c_org = tg.tensor(np.array([[1, 0, 1], [0, 1, 0]], dtype=np.float32))
    hair = [0, 1]
    expect = {0: [[1, 0, 1], [1, 0, 0]], 1: [[0, 1, 1], [0, 1, 0]], 2: [[1, 0, 0], [0, 1, 1]]}
    for i in range(3):                                  # create_labels, CelebA branch
        c_trg = c_org.clone()
        if i in hair:
            c_trg[:, i] = 1
            for j in hair:
                if j != i:
                    c_trg[:, j] = 0
        else:
            c_trg[:, i] = (c_trg[:, i] == 0)
        assert c_trg.dtype == tg.float32
        np.testing.assert_array_equal(c_trg.numpy(), expect[i])
    np.testing.assert_array_equal(c_org.numpy(), [[1, 0, 1], [0, 1, 0]])   # clone kept it
    x = tg.tensor(np.array([-3.0, -1.0, 0.0, 0.5, 2.0], dtype=np.float32))
    np.testing.assert_allclose(((x + 1) / 2).clamp_(0, 1).numpy(), [0, 0, 0.5, 0.75, 1])  # denorm


def test_stargan_classification_losses():
    rs = np.random.RandomState(1)
    logit = rs.randn(4, 3)
    target = (rs.rand(4, 3) > 0.5).astype(np.float64)
    with pytest.warns(UserWarning, match="size_average"):
        bce = F.binary_cross_entropy_with_logits(_f64(logit), _f64(target), size_average=False) / 4
    expect = np.sum(np.maximum(logit, 0) - logit * target + np.log1p(np.exp(-np.abs(logit)))) / 4
    np.testing.assert_allclose(bce.item(), expect, rtol=1e-12)
    cls = rs.randint(0, 3, 4)
    ce = F.cross_entropy(_f64(logit), tg.tensor(cls))
    logp = logit - np.log(np.exp(logit).sum(1, keepdims=True))
    np.testing.assert_allclose(ce.item(), -logp[np.arange(4), cls].mean(), rtol=1e-12)


def test_instance_norm_with_running_stats_trains_on_instance_stats_and_evaluates_on_running():
    rs = np.random.RandomState(2)
    norm = nn.InstanceNorm2d(3, affine=True, track_running_stats=True).double()
    with tg.no_grad():
        norm.weight.copy_(_f64([1.0, 2.0, 0.5]))
        norm.bias.copy_(_f64([0.0, 1.0, -1.0]))
    x = rs.randn(2, 3, 4, 4) * 3 + 1
    y = norm(_f64(x)).numpy()
    mu = x.mean(axis=(2, 3), keepdims=True)
    var = x.var(axis=(2, 3), keepdims=True)
    g, b = np.array([1.0, 2.0, 0.5])[:, None, None], np.array([0.0, 1.0, -1.0])[:, None, None]
    np.testing.assert_allclose(y, (x - mu) / np.sqrt(var + 1e-5) * g + b, rtol=1e-10, atol=1e-12)
    run_mean = 0.1 * x.mean(axis=(2, 3)).mean(0)
    run_var = 0.9 + 0.1 * x.var(axis=(2, 3), ddof=1).mean(0)        # unbiased, batch-averaged
    np.testing.assert_allclose(norm.running_mean.numpy(), run_mean, rtol=1e-12)
    np.testing.assert_allclose(norm.running_var.numpy(), run_var, rtol=1e-12)
    assert int(norm.num_batches_tracked) == 0           # torch's InstanceNorm never counts batches
    norm.eval()
    z = norm(_f64(x)).numpy()
    expect = (x - run_mean[:, None, None]) / np.sqrt(run_var[:, None, None] + 1e-5) * g + b
    np.testing.assert_allclose(z, expect, rtol=1e-10, atol=1e-12)


def test_stargan_checkpoint_restore_with_map_location_lambda():
    norm = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False),
                         nn.InstanceNorm2d(4, affine=True, track_running_stats=True))
    norm(tg.randn(2, 3, 5, 5))
    buf = io.BytesIO()
    tg.save(norm.state_dict(), buf)
    buf.seek(0)
    other = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False),
                          nn.InstanceNorm2d(4, affine=True, track_running_stats=True))
    other.load_state_dict(tg.load(buf, map_location=lambda storage, loc: storage))
    norm.eval(), other.eval()
    x = tg.randn(1, 3, 5, 5)
    np.testing.assert_array_equal(norm(x).numpy(), other(x).numpy())
    np.testing.assert_array_equal(other[1].running_var.numpy(), norm[1].running_var.numpy())
