"""Gaps found running tamarott/SinGAN and tohinz/ConSinGAN beside torch (session 24, helper b).

* ConSinGAN builds its schedulers as ``MultiStepLR(opt, milestones=[0.8 * opt.niter], ...)``: a float
  milestone (1600.0 for the default 2000 iterations). torch keeps milestones as given (a Counter), so a
  whole float decays at that epoch (4 == 4.0) and a fractional one is never landed on by step(), but
  counts in the closed form once passed. tensorgan refused any float milestone with a ConfigError.
"""
import math

import pytest

import tensorgan as tg
from tensorgan.errors import ConfigError
from tensorgan.optim.lr_scheduler import MultiStepLR


def _lrs(milestones, epochs=6, gamma=0.5):
    p = tg.nn.Parameter(tg.zeros(1))
    opt = tg.optim.SGD([p], lr=1.0)
    sched = MultiStepLR(opt, milestones=milestones, gamma=gamma)
    out = []
    for _ in range(epochs):
        opt.step()
        sched.step()
        out.append(opt.param_groups[0]["lr"])
    return sched, out


def test_multisteplr_whole_float_milestone_as_consingan_passes_it():
    niter = 5
    sched, lrs = _lrs([0.8 * niter])             # 4.0
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    assert sched.milestones == [4] and isinstance(sched.milestones[0], int)


def test_multisteplr_whole_float_and_int_repeat_counts_twice():
    _, lrs = _lrs([2, 2.0])
    assert lrs == [1.0, 0.25, 0.25, 0.25, 0.25, 0.25]


def test_multisteplr_fractional_milestone_never_hit_by_step_but_counted_in_closed_form():
    sched, lrs = _lrs([3.2, 2.0])
    # step() lands on whole epochs only: 3.2 never decays, 2.0 does at epoch 2
    assert lrs == [1.0, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert sched.milestones == [2, 3.2]
    # the deprecated step(epoch) jumps to the closed form: both milestones <= 4 passed
    with pytest.warns(UserWarning):
        sched.step(4)
    assert math.isclose(sched.optimizer.param_groups[0]["lr"], 0.25)


def test_multisteplr_fractional_milestone_survives_state_dict_roundtrip():
    sched, _ = _lrs([3.2, 2.0])
    p = tg.nn.Parameter(tg.zeros(1))
    other = MultiStepLR(tg.optim.SGD([p], lr=1.0), milestones=[1])
    other.load_state_dict(sched.state_dict())
    assert other.milestones == [2, 3.2]


@pytest.mark.parametrize("bad", [-1.5, -1.0, float("nan"), float("inf"), "4", True])
def test_multisteplr_still_refuses_bad_milestones(bad):
    p = tg.nn.Parameter(tg.zeros(1))
    with pytest.raises(ConfigError, match="milestones"):
        MultiStepLR(tg.optim.SGD([p], lr=1.0), milestones=[bad])
