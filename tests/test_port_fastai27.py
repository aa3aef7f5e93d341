"""Session 27, fastai's GAN module (vision/gan.py: GANModule, GANLoss, AdaptiveLoss, gan_critic,
WGAN clipping, the GAN switchers) ported beside torch in float64: losses and parameters agreed to
1e-13.  What differed: binary_cross_entropy_with_logits with ``weight`` / ``pos_weight`` / a target
of another float dtype (fastai's AdaptiveLoss casts the target with ``.float()``) was a chain of
ops, not torch's one BinaryCrossEntropyWithLogitsBackward0 node, and took a gradient for a
``weight`` that requires grad where torch refuses it."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F

BCE_NODE = "BinaryCrossEntropyWithLogitsBackward0"


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0.0, x)


def _data(seed=0, n=5, c=3):
    r = np.random.RandomState(seed)
    return r.randn(n, c), (r.rand(n, c) > 0.5).astype(np.float64), r.rand(c) + 0.5


@pytest.mark.parametrize("kind", ["weight", "pos_weight", "mixed_dtype"])
def test_bce_with_logits_variants_are_one_torch_node(kind):
    xa, ta, wa = _data()
    x = tg.tensor(xa, requires_grad=True)
    t = tg.tensor(ta, dtype=tg.float32 if kind == "mixed_dtype" else tg.float64)
    kw = {} if kind == "mixed_dtype" else {kind: tg.tensor(wa)}
    loss = F.binary_cross_entropy_with_logits(x, t, **kw)
    assert loss.grad_fn.name() == BCE_NODE
    edges = loss.grad_fn.next_functions
    assert len(edges) == 2 and edges[0][0].name() == "torch::autograd::AccumulateGrad" and edges[1][0] is None
    loss.backward()
    w = wa if kind == "weight" else 1.0
    p = wa if kind == "pos_weight" else 1.0
    # d/dx of w [(1 - t) x + (1 + (p - 1) t) softplus(-x)], averaged
    expected = w * ((1 - ta) - (1 + (p - 1) * ta) * _sigmoid(-xa)) / xa.size
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-15)
    assert x.grad.dtype == tg.float64


def test_bce_with_logits_mixed_dtype_keeps_the_targets_dtype_and_value():
    # fastai's AdaptiveLoss: float64 logits, target[:, None].expand_as(output).float()
    xa, ta, _ = _data(1, n=4, c=1)
    x = tg.tensor(xa, requires_grad=True)
    target = tg.tensor(ta[:, 0])[:, None].expand_as(x).float()
    loss = tg.nn.BCEWithLogitsLoss()(x, target)
    assert loss.dtype == tg.float32 and loss.grad_fn.name() == BCE_NODE
    wide = np.mean((1 - ta) * xa + _softplus(-xa))
    assert abs(loss.item() - wide) <= 2 * np.spacing(np.float32(wide))


def test_bce_with_logits_weighted_target_gradient_and_double_backward():
    xa, ta, wa = _data(2)
    x = tg.tensor(xa, requires_grad=True)
    t = tg.tensor(ta, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, t, pos_weight=tg.tensor(wa), reduction="sum")
    assert [e[0].name() for e in loss.grad_fn.next_functions] == ["torch::autograd::AccumulateGrad"] * 2
    (gx,) = tg.autograd.grad(loss, [x], create_graph=True)
    gx.sum().backward()
    # d2/dx2 = (1 + (p - 1) t) sigmoid(x) sigmoid(-x); d/dt of dloss/dx = -1 - (p - 1) sigmoid(-x)
    s = _sigmoid(xa)
    np.testing.assert_allclose(x.grad.numpy(), (1 + (wa - 1) * ta) * s * (1 - s), rtol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), -1 - (wa - 1) * _sigmoid(-xa), rtol=1e-12)


def test_bce_with_logits_weighted_node_backward_twice_with_retain_graph():
    xa, ta, wa = _data(3)
    x = tg.tensor(xa, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, tg.tensor(ta), weight=tg.tensor(wa))
    loss.backward(retain_graph=True)
    once = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * once, rtol=1e-14)


@pytest.mark.parametrize("name", ["weight", "pos_weight"])
def test_bce_with_logits_refuses_a_weight_that_requires_grad(name):
    xa, ta, wa = _data(4)
    w = tg.tensor(wa, requires_grad=True)
    with pytest.raises(RuntimeError, match=name):
        F.binary_cross_entropy_with_logits(tg.tensor(xa, requires_grad=True), tg.tensor(ta), **{name: w})
    with tg.no_grad():      # no graph: nothing to refuse
        F.binary_cross_entropy_with_logits(tg.tensor(xa), tg.tensor(ta), **{name: w})
    F.binary_cross_entropy_with_logits(tg.tensor(xa), tg.tensor(ta), **{name: w.detach()})


def test_fastai_gan_critic_step_then_generator_step():
    """fastai's loop in miniature: the critic step (the generator frozen, the WGAN clip on the
    critic's weights) and the generator step (the critic frozen) with one optimizer over both."""
    tg.manual_seed(0)
    nn = tg.nn
    gen = nn.Sequential(nn.ConvTranspose2d(4, 3, 4, 1, 0, bias=False), nn.Tanh())
    critic = nn.Sequential(nn.utils.spectral_norm(nn.Conv2d(3, 2, 3, 2, 1)), nn.LeakyReLU(0.2),
                           nn.Conv2d(2, 1, 2), nn.Flatten())
    opt = tg.optim.SGD(list(gen.parameters()) + list(critic.parameters()), lr=0.1)
    noise, real = tg.randn(2, 4, 1, 1), tg.randn(2, 3, 4, 4)

    def freeze(model, flag):
        for p in model.parameters():
            p.requires_grad_(flag)

    freeze(gen, False), freeze(critic, True)
    for p in critic.parameters():
        p.data.clamp_(-0.01, 0.01)
    fake = gen(noise).requires_grad_(False)           # GANLoss.critic: a leaf, no graph
    assert fake.grad_fn is None
    gen_before = [p.detach().clone() for p in gen.parameters()]
    (critic(real).mean() - critic(fake).mean()).backward()
    opt.step()
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is None for p in gen.parameters())
    assert all(np.array_equal(a.numpy(), p.numpy()) for a, p in zip(gen_before, gen.parameters()))

    freeze(gen, True), freeze(critic, False)
    critic_before = [p.detach().clone() for p in critic.parameters()]
    (-critic(gen(noise)).mean()).backward()
    assert all(float(abs(p.grad).max()) == 0 for p in critic.parameters())   # frozen: zeros kept
    assert all(p.grad is not None and float(abs(p.grad).sum()) > 0 for p in gen.parameters())
    opt.step()
    assert all(np.array_equal(a.numpy(), p.numpy()) for a, p in zip(critic_before, critic.parameters()))


def test_bce_with_logits_composite_node_passes_gradcheck():
    xa, ta, wa = _data(5, n=3, c=2)
    r = np.random.RandomState(6)
    x = tg.tensor(xa, requires_grad=True)
    t = tg.tensor(r.rand(3, 2), requires_grad=True)
    w, p = tg.tensor(wa), tg.tensor(r.rand(2) + 0.5)
    assert tg.gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight=w, pos_weight=p), [x, t])
    assert tg.autograd.gradgradcheck(lambda a: F.binary_cross_entropy_with_logits(a, t.detach(), pos_weight=p), [x])
