"""MultiplicativeLR, ConstantLR, LinearLR, PolynomialLR, CosineAnnealingWarmRestarts, CyclicLR,
OneCycleLR, SequentialLR, ChainedScheduler and swa_utils.SWALR: each lr sequence (and momentum, where
cycled) against the closed-form formula of torch's documentation, for 20+ steps; refusals; state."""
import json
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import ConfigError
from tensorgan.optim import lr_scheduler as L
from tensorgan.optim import swa_utils as S

# (these tests step schedulers without an optimizer step on purpose: torch's order warning)
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before:UserWarning")

BASES = np.array([0.1, 0.3])


def sgd(momentum=0.9):
    lin = nn.Linear(3, 2)
    return tg.optim.SGD([{"params": [lin.weight]}, {"params": [lin.bias], "lr": 0.3}], lr=0.1,
                        momentum=momentum)


def adam():
    lin = nn.Linear(3, 2)
    return tg.optim.Adam([{"params": [lin.weight]}, {"params": [lin.bias], "lr": 0.3}], lr=0.1)


def trace(scheduler, opt, steps, key=None):
    """The lrs (and ``key``'s first value: momentum / beta1) seen by each of ``steps`` epochs."""
    lrs, moms = [], []
    for _ in range(steps):
        lrs.append(scheduler.get_last_lr())
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
        if key:
            moms.append([np.ravel(g[key])[0] for g in opt.param_groups])
        opt.step()
        scheduler.step()
    return np.array(lrs), np.array(moms)


def cosine(start, end, pct):
    return end + (start - end) * (1 + math.cos(math.pi * pct)) / 2


def cawr(e, T_0, T_mult, eta_min, base):
    """SGDR at integer epoch e: find the period e falls in."""
    T_i, T_cur = T_0, e
    while T_cur >= T_i:
        T_cur, T_i = T_cur - T_i, T_i * T_mult
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2


def triangle(e, up, down):
    """CyclicLR's height in [0, 1] and cycle number at step e."""
    cycle = math.floor(1 + e / (up + down))
    x = 1 + e / (up + down) - cycle
    ratio = up / (up + down)
    return (x / ratio if x <= ratio else (x - 1) / (ratio - 1)), cycle


def one_cycle(e, top):
    """Two cosine phases: max_lr / 25 up to max_lr by step 8 (0.3 * 30 - 1), down to 1e-4 of the
    start by step 29."""
    return cosine(top / 25, top, e / 8) if e <= 8 else cosine(top, top / 25e4, (e - 8) / 21)


SCHEDULES = {
    "MultiplicativeLR": (lambda o: L.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 0.95),
                         lambda e, base: base * math.prod(0.9 if k % 2 else 0.95 for k in range(1, e + 1))),
    "ConstantLR": (lambda o: L.ConstantLR(o, factor=0.5, total_iters=4),
                   lambda e, base: base * (0.5 if e < 4 else 1.0)),
    "LinearLR": (lambda o: L.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=7),
                 lambda e, base: base * (0.25 + 0.65 * min(e, 7) / 7)),
    "PolynomialLR": (lambda o: L.PolynomialLR(o, total_iters=12, power=2.0),
                     lambda e, base: base * (1 - min(e, 12) / 12) ** 2),
    "CosineAnnealingWarmRestarts": (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01),
                                    lambda e, base: cawr(e, 3, 2, 0.01, base)),
    "CosineAnnealingWarmRestarts-1": (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=4),
                                      lambda e, base: cawr(e, 4, 1, 0.0, base)),
    "CyclicLR": (lambda o: L.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=4, step_size_down=3),
                 lambda e, base: 0.01 + ((0.1 if base == 0.1 else 0.2) - 0.01) * triangle(e, 4, 3)[0]),
    "CyclicLR-triangular2": (lambda o: L.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="triangular2"),
                             lambda e, base: 0.01 + 0.09 * triangle(e, 3, 3)[0] / 2 ** (triangle(e, 3, 3)[1] - 1)),
    "CyclicLR-exp_range": (lambda o: L.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="exp_range", gamma=0.9),
                           lambda e, base: 0.01 + 0.09 * triangle(e, 3, 3)[0] * 0.9 ** e),
    "OneCycleLR": (lambda o: L.OneCycleLR(o, max_lr=[0.5, 1.0], total_steps=30),
                   lambda e, base: one_cycle(e, 0.5 if base == 0.1 else 1.0)),
    "OneCycleLR-three-phase-linear": (
        lambda o: L.OneCycleLR(o, max_lr=0.5, epochs=3, steps_per_epoch=10, three_phase=True,
                               anneal_strategy="linear"),
        lambda e, base: np.interp(e, [0, 8, 16, 29], [0.02, 0.5, 0.02, 0.02 / 1e4])),
    "SWALR": (lambda o: S.SWALR(o, swa_lr=0.05, anneal_epochs=5),
              lambda e, base: 0.05 + (base - 0.05) * (1 + math.cos(math.pi * min(e, 5) / 5)) / 2),
    "SWALR-linear": (lambda o: S.SWALR(o, swa_lr=[0.05, 0.02], anneal_epochs=4, anneal_strategy="linear"),
                     lambda e, base: (s := 0.05 if base == 0.1 else 0.02) + (base - s) * (1 - min(e, 4) / 4)),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_lr_sequence_follows_the_formula(name):
    make, formula = SCHEDULES[name]
    opt = sgd()
    got, _ = trace(make(opt), opt, 30 if "OneCycle" in name else 25)
    want = np.array([[formula(e, b) for b in BASES] for e in range(len(got))])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_cyclic_and_one_cycle_move_momentum_and_adam_beta1_against_the_lr():
    opt = sgd()
    _, moms = trace(L.CyclicLR(opt, 0.01, 0.1, step_size_up=4), opt, 20, "momentum")
    want = [0.9 - 0.1 * triangle(e, 4, 4)[0] for e in range(20)]
    np.testing.assert_allclose(moms[:, 0], want, rtol=1e-12)
    opt = adam()
    _, betas = trace(L.OneCycleLR(opt, max_lr=0.5, total_steps=20, pct_start=0.25), opt, 20, "betas")
    want = [cosine(0.95, 0.85, e / 4) if e <= 4 else cosine(0.85, 0.95, (e - 4) / 15) for e in range(20)]
    np.testing.assert_allclose(betas[:, 1], want, rtol=1e-12)
    assert opt.param_groups[0]["betas"][1] == 0.999


def test_sequential_warmup_then_decay_restarts_each_at_its_milestone():
    opt = sgd()
    sched = L.SequentialLR(opt, [L.LinearLR(opt, start_factor=0.1, total_iters=4),
                                 L.ExponentialLR(opt, gamma=0.9), L.CosineAnnealingLR(opt, T_max=5)],
                           milestones=[5, 12])
    got, _ = trace(sched, opt, 24)

    def factor(e):
        if e < 5:
            return 0.1 + 0.9 * min(e, 4) / 4
        if e < 12:
            return 0.9 ** (e - 5)
        return (1 + math.cos(math.pi * (e - 12) / 5)) / 2
    np.testing.assert_allclose(got, [BASES * factor(e) for e in range(24)], rtol=1e-12, atol=1e-15)
    state = json.loads(json.dumps(sched.state_dict()))
    assert len(state["_schedulers"]) == 3


def test_chained_scheduler_multiplies_the_factors():
    opt = sgd()
    sched = L.ChainedScheduler([L.ConstantLR(opt, factor=0.5, total_iters=5), L.ExponentialLR(opt, gamma=0.9),
                                L.StepLR(opt, step_size=4, gamma=0.5)])
    got, _ = trace(sched, opt, 22)
    want = [BASES * (0.5 if e < 5 else 1.0) * 0.9 ** e * 0.5 ** (e // 4) for e in range(22)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert repr(sched).startswith("ChainedScheduler([ConstantLR, ExponentialLR, StepLR], lr=[")


@pytest.mark.parametrize("name", ["LinearLR", "PolynomialLR", "CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts",
                                  "SWALR"])
def test_state_dict_round_trip_through_json_continues_identically(name):
    make, _ = SCHEDULES[name]
    opt1, opt2 = sgd(), sgd()
    s1 = make(opt1)
    trace(s1, opt1, 7)
    s2 = make(opt2)
    opt2.load_state_dict(json.loads(json.dumps(opt1.state_dict(), default=lambda a: a.tolist())))
    s2.load_state_dict(json.loads(json.dumps(s1.state_dict())))
    np.testing.assert_array_equal(trace(s1, opt1, 15)[0], trace(s2, opt2, 15)[0])


def test_sequential_state_round_trip_continues_identically():
    def build(opt):
        return L.SequentialLR(opt, [L.LinearLR(opt, 0.2, total_iters=3), L.StepLR(opt, 2, 0.5)], [4])
    opt1, opt2 = sgd(), sgd()
    s1, s2 = build(opt1), build(opt2)
    trace(s1, opt1, 6)
    opt2.load_state_dict(json.loads(json.dumps(opt1.state_dict(), default=lambda a: a.tolist())))
    s2.load_state_dict(json.loads(json.dumps(s1.state_dict())))
    np.testing.assert_array_equal(trace(s1, opt1, 10)[0], trace(s2, opt2, 10)[0])


def test_warm_restarts_take_a_fractional_epoch():
    opt = sgd()
    sched = L.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    for epoch in (0.5, 2.75, 7.25, 1.0):
        sched.step(epoch)
        want = [cawr_fraction(epoch, 2, 2, b) for b in BASES]
        np.testing.assert_allclose(sched.get_last_lr(), want, rtol=1e-12)
        assert sched.last_epoch == math.floor(epoch)


def cawr_fraction(epoch, T_0, T_mult, base):
    T_i, T_cur = T_0, epoch
    while T_cur >= T_i:
        T_cur, T_i = T_cur - T_i, T_i * T_mult
    return base * (1 + math.cos(math.pi * T_cur / T_i)) / 2


@pytest.mark.parametrize("make, pattern", [
    (lambda o: L.ConstantLR(o, factor=1.5), "factor must be <= 1"),
    (lambda o: L.LinearLR(o, start_factor=0.0), "start_factor must be > 0"),
    (lambda o: L.LinearLR(o, end_factor=-0.1), "end_factor must be >= 0"),
    (lambda o: L.PolynomialLR(o, total_iters=-1), "total_iters must be an int >= 0"),
    (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=0), "T_0 must be a positive int"),
    (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5), "T_mult must be a positive int"),
    (lambda o: L.MultiplicativeLR(o, [lambda e: 1.0]), "one per parameter group"),
    (lambda o: L.CyclicLR(o, 0.01, 0.1, mode="sawtooth"), "mode is invalid and scale_fn is None"),
    (lambda o: L.CyclicLR(tg.optim.Adagrad(o.param_groups[0]["params"]), 0.01, 0.1), "momentum or beta1"),
    (lambda o: L.CyclicLR(o, [0.01], 0.1), "base_lr must have the same length"),
    (lambda o: L.OneCycleLR(o, max_lr=0.1), "total_steps OR"),
    (lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=0), "total_steps must be a positive int"),
    (lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.2), "pct_start must be <= 1"),
    (lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"), "'cos' or 'linear'"),
    (lambda o: L.SequentialLR(o, [L.StepLR(o, 2)], milestones=[3]), "one more than the number of milestone"),
    (lambda o: L.SequentialLR(o, [L.StepLR(sgd(), 2)], milestones=[]), "same optimizer"),
    (lambda o: L.ChainedScheduler([L.ReduceLROnPlateau(o)]), "ReduceLROnPlateau"),
    (lambda o: L.ChainedScheduler([]), "at least one scheduler"),
    (lambda o: S.SWALR(o, swa_lr=0.05, anneal_strategy="step"), "'cos' or 'linear'"),
    (lambda o: S.SWALR(o, swa_lr=0.05, anneal_epochs=-1), "anneal_epochs must be an int >= 0"),
    (lambda o: S.SWALR(o, swa_lr=-0.05), r"swa_lr\[0\] must be >= 0"),
])
def test_argument_refusals(make, pattern):
    with pytest.raises(ConfigError, match=pattern):
        make(sgd())


def test_one_cycle_refuses_to_step_past_total_steps():
    opt = sgd()
    sched = L.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    sched.step()
    sched.step()
    sched.step()
    with pytest.raises(ConfigError, match="Tried to step 4 times. The specified number of total steps is 3"):
        sched.step()
