"""Gaps found porting image-to-image GANs beside torch 2.13 (GANimation, DeblurGAN v1 / v2,
DiscoGAN, DualGAN; tiny sizes, float64): torch's old ``lr_scheduler._LRScheduler`` base (DeblurGANv2's
LinearDecay subclasses it), and gradient-penalty gradients that torch returns contiguous but
tensorgan returned as views with create_graph=True (F.pad / ZeroPad2d, dilated and
``padding='same'`` convs, F.unfold, mean), so the WGAN-GP idiom ``grad.view(grad.size(0), -1)``
failed. Expected values are worked out here."""
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
