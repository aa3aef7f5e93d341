"""Gaps found porting image-to-image GANs beside torch 2.13 (GANimation, DeblurGAN v1 / v2,
DiscoGAN, DualGAN; tiny sizes, float64): torch's old ``lr_scheduler._LRScheduler`` base (DeblurGANv2's
LinearDecay subclasses it), and gradient-penalty gradients that torch returns contiguous but
tensorgan returned as views with create_graph=True (F.pad / ZeroPad2d, dilated and
``padding='same'`` convs, F.unfold, mean), so the WGAN-GP idiom ``grad.view(grad.size(0), -1)``
failed; and gradcheck, which ran fn under no_grad, could not check a gradient penalty.
Expected values are worked out here."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.optim import lr_scheduler


# -- lr_scheduler._LRScheduler ------------------------------------------------------------------
def test_lrscheduler_old_base_name():
    assert issubclass(lr_scheduler._LRScheduler, lr_scheduler.LRScheduler)
    assert lr_scheduler._LRScheduler.__name__ == "_LRScheduler"      # a subclass, not an alias


def test_deblurganv2_linear_decay_and_warm_restart():
    class LinearDecay(lr_scheduler._LRScheduler):       # DeblurGANv2 schedulers.py
        def __init__(self, optimizer, num_epochs, start_epoch=0, min_lr=0, last_epoch=-1):
            self.num_epochs, self.start_epoch, self.min_lr = num_epochs, start_epoch, min_lr
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            if self.last_epoch < self.start_epoch:
                return self.base_lrs
            return [b - ((b - self.min_lr) / self.num_epochs) * (self.last_epoch - self.start_epoch)
                    for b in self.base_lrs]

    class WarmRestart(lr_scheduler.CosineAnnealingLR):    # SGDR: get_lr resets last_epoch
        def __init__(self, optimizer, T_max=30, T_mult=1, eta_min=0, last_epoch=-1):
            self.T_mult = T_mult
            super().__init__(optimizer, T_max, eta_min, last_epoch)

        def get_lr(self):
            if self.last_epoch == self.T_max:
                self.last_epoch = 0
                self.T_max *= self.T_mult
            return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                    for b in self.base_lrs]

    p = nn.Parameter(tg.zeros(2))
    o1, o2 = tg.optim.Adam([p], lr=1e-3), tg.optim.SGD([p], lr=0.5)
    s1 = LinearDecay(o1, num_epochs=4, start_epoch=1, min_lr=1e-4)
    s2 = WarmRestart(o2, T_max=2, T_mult=2)
    lin, cos = [o1.param_groups[0]["lr"]], [o2.param_groups[0]["lr"]]
    for _ in range(6):
        o1.step(), o2.step(), s1.step(), s2.step()
        lin.append(o1.param_groups[0]["lr"]), cos.append(o2.param_groups[0]["lr"])
    step = (1e-3 - 1e-4) / 4
    assert lin == pytest.approx([1e-3, 1e-3] + [1e-3 - step * k for k in range(1, 6)], abs=1e-15)
    # epochs 0, 1, then restart (T_max 2 -> 4) at 0, 1, 2, 3, then restart again
    c = lambda e, T: 0.5 * (1 + math.cos(math.pi * e / T)) / 2
    assert cos == pytest.approx([c(0, 2), c(1, 2), c(0, 4), c(1, 4), c(2, 4), c(3, 4), c(0, 8)], abs=1e-15)
    assert s2.T_max == 8 and s2.last_epoch == 0


# -- gradient-penalty gradients: contiguous where torch's are -------------------------------------
def _gp_grad(f, x):
    x = x.clone().requires_grad_(True)
    y = f(x)
    v = tg.tensor(np.linspace(-1.0, 1.0, y.numel()).reshape(tuple(y.shape)))
    g = tg.autograd.grad((y * v).sum(), x, create_graph=True)[0]
    plain = tg.autograd.grad((f(x) * v).sum(), x)[0]
    return g, plain


W = np.random.RandomState(0).randn(4, 3, 3, 3)


@pytest.mark.parametrize("name, f", [
    ("F.pad", lambda x: F.pad(x, (1, 2, 0, 1))),
    ("F.pad value", lambda x: F.pad(x, (1, 1, 1, 1), value=0.5)),
    ("ZeroPad2d", lambda x: nn.ZeroPad2d((1, 0, 1, 0))(x)),
    ("dilated conv", lambda x: F.conv2d(x, tg.tensor(W), padding=2, dilation=2)),
    ("same conv", lambda x: F.conv2d(x, tg.tensor(W), padding="same", dilation=2)),
    ("unfold", lambda x: F.unfold(x, 3, padding=1)),
    ("mean", lambda x: x.mean((2, 3), keepdim=True)),
])
def test_create_graph_grad_is_contiguous(name, f):
    x = tg.tensor(np.random.RandomState(1).randn(2, 3, 5, 5))
    g, plain = _gp_grad(f, x)
    assert g.is_contiguous(), name
    assert tuple(g.stride()) == (75, 25, 5, 1)
    flat = g.view(g.size(0), -1)                      # GANimation / WGAN-GP: grad.view(B, -1)
    assert np.array_equal(flat.numpy(), plain.numpy().reshape(2, -1))


def test_create_graph_pad_grad_values_and_second_order():
    x = tg.tensor(np.arange(6.0).reshape(1, 1, 2, 3)).requires_grad_(True)
    y = F.pad(x, (1, 0, 0, 1))                        # (1, 1, 3, 4)
    v = tg.tensor(np.arange(12.0).reshape(1, 1, 3, 4), requires_grad=True)
    g = tg.autograd.grad((y * v).sum(), x, create_graph=True)[0]
    assert g.numpy().tolist() == [[[[1.0, 2.0, 3.0], [5.0, 6.0, 7.0]]]]   # v[..., :2, 1:]
    (g.view(-1) ** 2).sum().backward()                # through the contiguous copy to v
    expect = np.zeros((3, 4))
    expect[:2, 1:] = 2 * np.array([[1.0, 2.0, 3.0], [5.0, 6.0, 7.0]])
    assert np.array_equal(v.grad.numpy()[0, 0], expect)


def test_mean_create_graph_grad_value():
    x = tg.zeros(2, 3, dtype=tg.float64, requires_grad=True)
    g = tg.autograd.grad(x.mean(), x, create_graph=True)[0]
    assert g.is_contiguous() and g.view(-1).tolist() == [1 / 6] * 6


def test_gradient_penalty_through_dilated_conv_gradcheck():
    conv = nn.Conv2d(2, 3, 3, padding=2, dilation=2).double()

    def gp(x):
        g = tg.autograd.grad(conv(x).sum(), x, create_graph=True)[0]
        return (g.view(g.size(0), -1).norm(2, dim=1) - 1) ** 2

    x = tg.tensor(np.random.RandomState(2).randn(2, 2, 4, 4), requires_grad=True)
    assert tg.autograd.gradcheck(gp, (x,))
    loss = gp(x).mean()
    loss.backward()
    assert conv.weight.grad is not None and np.isfinite(conv.weight.grad.numpy()).all()


def test_gradcheck_runs_fn_with_grad_enabled():
    # torch's numeric pass keeps grad mode: a function that takes a gradient itself (a gradient
    # penalty) is checked; d/dx of |d(sum x^3)/dx|^2 = sum 9 x^4 is 36 x^3
    def gp(x):
        g = tg.autograd.grad((x ** 3).sum(), x, create_graph=True)[0]
        return (g.view(-1) ** 2).sum()

    x = tg.tensor([0.5, -1.0, 2.0], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(gp, (x,))
    assert tg.autograd.gradgradcheck(gp, (x,))
    (g,) = tg.autograd.grad(gp(x), x)
    assert np.allclose(g.numpy(), 36 * x.detach().numpy() ** 3)
