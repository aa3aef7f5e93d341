"""What porting hanzhanggit/StackGAN-Pytorch (conditioning augmentation, stage-I / stage-II
generators and discriminators with conditional and unconditional logits, the wrong-pair
discriminator loss, the GANTrainer loop with its lr halving and requires_grad parameter
filtering) turned up.

The port itself ran as written beside torch (float64: losses and weights within 1e-13 over
9 stage-I and 6 stage-II steps; the sample grids pixel-identical).  Found on the way:

* torch's optimizer implementation switches -- ``foreach`` / ``fused`` / ``capturable`` /
  ``differentiable`` (nanoGPT's ``AdamW(groups, lr=lr, betas=betas, fused=True)``), and Adam's
  ``decoupled_weight_decay`` -- were refused as unexpected keyword arguments.  They are accepted
  now with torch's positions and refusals; Adam(decoupled_weight_decay=True) is AdamW's rule.

Also regression checks of the idioms the port leans on: the legacy ``FloatTensor(size)
.normal_()`` noise wrapped in ``Variable``, the in-place KL chain, the frozen stage-I generator
inside stage II with ``filter(lambda p: p.requires_grad, ...)``, and lr halving through
``param_groups``.
"""
import inspect

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.optim as optim
from tensorgan.autograd import Variable
from tensorgan.errors import ConfigError

R = np.random.RandomState(22)

ALL_SWITCHES = {                       # torch 2.13's constructor switches, per optimizer
    "SGD": ("foreach", "differentiable", "fused"),
    "Adam": ("foreach", "capturable", "differentiable", "fused", "decoupled_weight_decay"),
    "AdamW": ("foreach", "capturable", "differentiable", "fused"),
    "RMSprop": ("capturable", "foreach", "differentiable"),
    "Adagrad": ("foreach", "differentiable", "fused"),
    "Adadelta": ("foreach", "capturable", "differentiable"),
    "Adamax": ("foreach", "differentiable", "capturable"),
    "NAdam": ("foreach", "capturable", "differentiable"),
    "RAdam": ("foreach", "capturable", "differentiable"),
    "ASGD": ("foreach", "differentiable", "capturable"),
    "Rprop": ("capturable", "foreach", "differentiable"),
}


def _run(cls, steps=4, **kw):
    rng = np.random.RandomState(5)
    p = nn.Parameter(tg.tensor(rng.normal(size=(3, 4))))
    opt = getattr(optim, cls)([p], lr=0.05, **kw)
    for _ in range(steps):
        p.grad = tg.tensor(rng.normal(size=(3, 4)))
        opt.step()
    return p.detach().numpy(), opt


@pytest.mark.parametrize("cls", sorted(ALL_SWITCHES))
def test_optimizers_take_torchs_implementation_switches(cls):
    names = inspect.signature(getattr(optim, cls).__init__).parameters
    for key in ALL_SWITCHES[cls]:
        assert key in names, (cls, key)
    plain, opt0 = _run(cls)
    on = {k: True for k in ALL_SWITCHES[cls] if k == "foreach"}
    if "capturable" in ALL_SWITCHES[cls]:   # taken; but a CPU step refuses it, as torch's
        with pytest.raises(AssertionError, match="capturable=True"):
            _run(cls, capturable=True)
    switched, opt1 = _run(cls, **on)
    np.testing.assert_array_equal(plain, switched)         # no effect on the arithmetic
    if "fused" in ALL_SWITCHES[cls]:
        fused, _ = _run(cls, fused=True)
        np.testing.assert_array_equal(plain, fused)
    off = {k: False for k in ALL_SWITCHES[cls]}
    np.testing.assert_array_equal(plain, _run(cls, **off)[0])
    # stored as torch's: in the groups, the defaults, repr and state_dict
    switches = [k for k in ALL_SWITCHES[cls] if k != "decoupled_weight_decay"]
    assert all(k in opt0.param_groups[0] and k in opt0.defaults for k in switches)
    assert all(opt1.param_groups[0][k] is True for k in on)
    assert all(f"    {k}: True\n" in repr(opt1) for k in on)
    assert all(opt1.state_dict()["param_groups"][0][k] is True for k in on)


def test_torch_refusals_kept():
    p = [nn.Parameter(tg.ones(2))]
    with pytest.raises(ConfigError, match="`fused` and `foreach` cannot be `True` together"):
        optim.AdamW(p, fused=True, foreach=True)
    with pytest.raises(ConfigError, match="`fused` does not support `differentiable`"):
        optim.SGD(p, fused=True, differentiable=True)
    with pytest.raises(ConfigError, match="differentiable=True"):
        optim.Adam(p, differentiable=True)
    with pytest.raises(ConfigError, match="foreach must be None, True or False, got 'yes'"):
        optim.RMSprop(p, foreach="yes")
    with pytest.raises(ConfigError, match="decoupled_weight_decay must be True or False"):
        optim.Adam(p, decoupled_weight_decay="adamw")
    with pytest.raises(TypeError):                         # a switch torch's Rprop does not have
        optim.Rprop(p, fused=True)


def test_positional_switches_where_torch_has_them():
    # torch: RMSprop(params, lr, alpha, eps, weight_decay, momentum, centered, capturable,
    # foreach, maximize, differentiable) -- all positional; Adagrad's foreach too
    p1 = nn.Parameter(tg.tensor([1.0, -2.0]))
    p2 = nn.Parameter(tg.tensor([1.0, -2.0]))
    o1 = optim.RMSprop([p1], 0.1, 0.9, 1e-8, 0.0, 0.0, False, False, None, True)
    o2 = optim.RMSprop([p2], lr=0.1, alpha=0.9, maximize=True)
    for p, o in ((p1, o1), (p2, o2)):
        p.grad = tg.tensor([0.5, 0.25])
        o.step()
    np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())
    assert p1.detach().numpy()[0] > 1.0                   # maximize: uphill
    assert optim.Adagrad([nn.Parameter(tg.ones(1))], 0.1, 0.0, 0.0, 0.0, 1e-10, True)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_decoupled_weight_decay_is_adamw(amsgrad):
    lr, wd = 0.05, 0.3       # _run's lr
    dec, _ = _run("Adam", weight_decay=wd, amsgrad=amsgrad, decoupled_weight_decay=True)
    adamw, _ = _run("AdamW", weight_decay=wd, amsgrad=amsgrad)
    l2, _ = _run("Adam", weight_decay=wd, amsgrad=amsgrad)
    np.testing.assert_array_equal(dec, adamw)
    assert np.abs(dec - l2).max() > 1e-4
    # first principles, one step: p *= 1 - lr*wd, then Adam's first step p -= lr * g/(|g| + eps)
    p = nn.Parameter(tg.tensor([2.0, -1.0], dtype=tg.float64))
    o = optim.Adam([p], lr=lr, weight_decay=wd, decoupled_weight_decay=True, amsgrad=amsgrad)
    g = np.array([0.5, -4.0])
    p.grad = tg.tensor(g)
    o.step()
    want = np.array([2.0, -1.0]) * (1 - lr * wd) - lr * g / (np.abs(g) + 1e-8)
    np.testing.assert_allclose(p.detach().numpy(), want, rtol=1e-12)


def test_adam_decoupled_state_dict_roundtrip():
    p = nn.Parameter(tg.ones(3))
    o = optim.Adam([p], weight_decay=0.1, decoupled_weight_decay=True)
    p.grad = tg.ones(3)
    o.step()
    sd = o.state_dict()
    sd["param_groups"][0]["decoupled_weight_decay"] = True     # as torch's Adam saves it
    o2 = optim.Adam([nn.Parameter(tg.ones(3))], weight_decay=0.1, decoupled_weight_decay=True)
    o2.load_state_dict(sd)
    o3 = optim.Adam([nn.Parameter(tg.ones(3))], weight_decay=0.1)   # torch: the saved flag wins
    o3.load_state_dict(sd)
    assert o3.param_groups[0]["decoupled_weight_decay"] is True


# ------------------------------------------------------------------------------------------
# The idioms the StackGAN port leans on
# ------------------------------------------------------------------------------------------
def test_legacy_noise_and_inplace_kl_chain():
    fc = nn.Linear(6, 8).double()
    x = tg.tensor(R.normal(size=(5, 6)))
    h = tg.relu(fc(x))
    mu, logvar = h[:, :4], h[:, 4:]
    std = logvar.mul(0.5).exp_()
    eps = Variable(tg.DoubleTensor(std.size()).normal_())
    c = eps.mul(std).add_(mu)
    assert c.shape == (5, 4) and c.grad_fn is not None
    kld = mu.pow(2).add_(logvar.exp()).mul_(-1).add_(1).add_(logvar)
    kl = tg.mean(kld).mul_(-0.5)
    kl.backward()
    m, lv = mu.detach().numpy(), logvar.detach().numpy()
    np.testing.assert_allclose(kl.item(), -0.5 * np.mean(1 + lv - m ** 2 - np.exp(lv)), rtol=1e-12)
    # closed-form gradient of the bias: d kl / d h = (m, (exp(lv) - 1) / 2) / n, through relu
    hv = h.detach().numpy()
    dh = np.concatenate([m, 0.5 * (np.exp(lv) - 1)], 1) / m.size * (hv > 0)
    np.testing.assert_allclose(fc.bias.grad.numpy(), dh.sum(0), rtol=1e-10, atol=1e-15)


def test_frozen_stage1_inside_stage2_and_lr_halving():
    stage1 = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(True))
    for p in stage1.parameters():
        p.requires_grad = False

    class Stage2(nn.Module):
        def __init__(self):
            super().__init__()
            self.s1 = stage1
            self.head = nn.Linear(8, 2)

        def forward(self, x):
            return self.head(self.s1(x).detach())

    net = Stage2()
    opt = optim.Adam(filter(lambda p: p.requires_grad, net.parameters()), lr=2e-4, betas=(0.5, 0.999))
    assert len(opt.param_groups[0]["params"]) == 2
    before = [p.detach().numpy().copy() for p in stage1.parameters()]
    lr = 2e-4
    for epoch in range(4):
        if epoch % 2 == 0 and epoch > 0:
            lr *= 0.5
            for g in opt.param_groups:
                g["lr"] = lr
        net.zero_grad()
        loss = nn.BCELoss()(tg.sigmoid(net(tg.tensor(R.normal(size=(4, 4))).float())).view(-1),
                            tg.FloatTensor(8).fill_(1))
        loss.backward()
        opt.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-4)
    for b, p in zip(before, stage1.parameters()):
        np.testing.assert_array_equal(b, p.detach().numpy())
        assert p.grad is None
