"""Learning-rate schedulers (tensorgan.optim.lr_scheduler) and gradient clipping
(tensorgan.nn.utils) against their formulas, written out here independently of the library."""
import json
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import CheckpointError, ConfigError, InputTypeError, NonFiniteError
from tensorgan.optim import lr_scheduler as L

# (these tests step schedulers without an optimizer step on purpose: torch's order warning)
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before:UserWarning")


def _optimizer(lr=0.1, second_lr=0.3):
    lin = nn.Linear(3, 2)
    return tg.optim.SGD([{"params": [lin.weight]}, {"params": [lin.bias], "lr": second_lr}], lr=lr)


def _trace(scheduler, opt, epochs):
    lrs = []
    for _ in range(epochs):
        lrs.append(scheduler.get_last_lr())
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
        opt.step()
        scheduler.step()
    return np.array(lrs)


BASES = np.array([0.1, 0.3])
SCHEDULES = {
    "StepLR": (lambda o: L.StepLR(o, step_size=3, gamma=0.5), lambda e: 0.5 ** (e // 3)),
    "MultiStepLR": (lambda o: L.MultiStepLR(o, [2, 5, 5, 9], gamma=0.3),
                    lambda e: 0.3 ** sum(m <= e for m in [2, 5, 5, 9])),
    "ExponentialLR": (lambda o: L.ExponentialLR(o, gamma=0.9), lambda e: 0.9 ** e),
    "LambdaLR": (lambda o: L.LambdaLR(o, lambda e: 1 / (e + 1)), lambda e: 1 / (e + 1)),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedules_follow_their_formula(name):
    make, factor = SCHEDULES[name]
    opt = _optimizer()
    got = _trace(make(opt), opt, 14)
    want = np.array([BASES * factor(e) for e in range(14)])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.3]


def test_cosine_annealing_and_its_climb_back_past_t_max():
    opt = _optimizer()
    got = _trace(L.CosineAnnealingLR(opt, T_max=7, eta_min=0.01), opt, 20)
    want = [0.01 + (BASES - 0.01) * (1 + math.cos(math.pi * e / 7)) / 2 for e in range(20)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got[7, 0] == pytest.approx(0.01) and got[14, 0] == pytest.approx(0.1)


def test_lambda_lr_takes_one_function_per_group():
    opt = _optimizer()
    got = _trace(L.LambdaLR(opt, [lambda e: 1.0, lambda e: 0.5 ** e]), opt, 5)
    np.testing.assert_allclose(got[:, 0], 0.1)
    np.testing.assert_allclose(got[:, 1], [0.3 * 0.5 ** e for e in range(5)])
    with pytest.raises(ConfigError, match="one per parameter group"):
        L.LambdaLR(_optimizer(), [lambda e: 1.0])


def test_step_schedules_are_chainable_like_pytorch():
    # A manual change of lr carries on: the step schedules multiply the current value.
    opt = _optimizer()
    sched = L.StepLR(opt, step_size=2, gamma=0.5)
    sched.step()
    for g in opt.param_groups:
        g["lr"] *= 10
    sched.step()                                  # epoch 2: one decay of the changed value
    np.testing.assert_allclose(sched.get_last_lr(), BASES * 10 * 0.5)


def test_scheduler_state_is_json_and_checked_on_loading():
    sched = L.StepLR(_optimizer(), step_size=3, gamma=0.5)
    saved = json.loads(json.dumps(sched.state_dict()))
    assert saved["last_epoch"] == 0 and saved["_last_lr"] == [0.1, 0.3]
    with pytest.raises(CheckpointError, match="last_epoch"):
        sched.load_state_dict({"gamma": 0.5})
    with pytest.raises(CheckpointError, match="keys"):
        sched.load_state_dict({**saved, "T_max": 3})


def test_scheduler_argument_errors():
    with pytest.raises(ConfigError, match="tensorgan optimizer"):
        L.StepLR(object(), 2)
    with pytest.raises(ConfigError, match="step_size"):
        L.StepLR(_optimizer(), 0)
    with pytest.raises(ConfigError, match="gamma"):
        L.ExponentialLR(_optimizer(), gamma=-1.0)
    with pytest.raises(ConfigError, match="initial_lr"):
        L.StepLR(_optimizer(), 2, last_epoch=4)       # resuming without the optimizer's state
    with pytest.raises(ConfigError, match="milestones"):
        L.MultiStepLR(_optimizer(), 3)


# -- gradient clipping ----------------------------------------------------------------------------
def _params_with_grads(seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal(s) * scale for s in [(3, 4), (5,), (2, 2, 2)]]
    params = [nn.Parameter(tg.zeros(*g.shape, dtype="float64")) for g in grads]
    for p, g in zip(params, grads):
        p.grad = tg.tensor(g, dtype="float64")
    params.append(nn.Parameter(tg.zeros(2, dtype="float64")))   # no gradient: left out
    return params, grads


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm_scales_to_max_norm(norm_type):
    params, grads = _params_with_grads()
    flat = np.concatenate([g.ravel() for g in grads])
    norm = np.abs(flat).max() if math.isinf(norm_type) else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    total = nn.utils.clip_grad_norm_(params, max_norm=0.5, norm_type=norm_type)
    assert total.item() == pytest.approx(norm, rel=1e-12)
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad.numpy(), g * 0.5 / (norm + 1e-6), rtol=1e-12)
    assert params[-1].grad is None


def test_clip_grad_norm_leaves_small_gradients_alone_and_reports_non_finite():
    params, grads = _params_with_grads(scale=1e-3)
    nn.utils.clip_grad_norm_(params, max_norm=1.0)
    for p, g in zip(params, grads):
        np.testing.assert_array_equal(p.grad.numpy(), g)
    params[0].grad.array[0, 0] = np.inf
    with pytest.raises(NonFiniteError, match="inf"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert math.isinf(nn.utils.clip_grad_norm_(params, 1.0).item())
    assert nn.utils.clip_grad_norm_([nn.Parameter(tg.zeros(2))], 1.0).item() == 0.0   # no gradients
    with pytest.raises(InputTypeError):
        nn.utils.clip_grad_norm_([np.zeros(2)], 1.0)
    with pytest.raises(ConfigError, match="norm_type"):    # (0 is torch's count of nonzeros)
        nn.utils.clip_grad_norm_(params, 1.0, norm_type=float("nan"))


def test_clip_grad_value():
    params, grads = _params_with_grads(scale=3.0)
    nn.utils.clip_grad_value_(params, 0.7)
    for p, g in zip(params, grads):
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(g, -0.7, 0.7))
    with pytest.raises(ConfigError, match="clip_value"):
        nn.utils.clip_grad_value_(params, -1)


@pytest.mark.parametrize("make", [lambda o, e=-1: L.ExponentialLR(o, 0.8, last_epoch=e),
                                  lambda o, e=-1: L.CosineAnnealingLR(o, 7, 0.01, last_epoch=e),
                                  lambda o, e=-1: L.StepLR(o, 4, 0.5, last_epoch=e)],
                         ids=["exponential", "cosine", "step"])
def test_resuming_at_last_epoch_continues_the_uninterrupted_schedule(make):
    # PyTorch's way: load the optimizer, construct with last_epoch, load the scheduler's state.
    # (StepLR at 4, so that the constructor's epoch 6 is no boundary: there torch decays once
    # more on resuming, and so does this.)
    opt = _optimizer()
    sched = make(opt)
    for _ in range(5):
        opt.step()
        sched.step()
    saved_opt, saved = opt.state_dict(), json.loads(json.dumps(sched.state_dict()))
    uninterrupted = _trace(sched, opt, 4)
    opt2 = _optimizer()
    opt2.load_state_dict(saved_opt)
    sched2 = make(opt2, saved["last_epoch"])
    sched2.load_state_dict(saved)
    np.testing.assert_allclose(_trace(sched2, opt2, 4), uninterrupted, rtol=1e-12)


def test_cosine_annealing_carries_a_manual_lr_change_along_the_curve():
    opt = _optimizer()
    sched = L.CosineAnnealingLR(opt, T_max=5, eta_min=0.01)
    sched.step()
    sched.step()
    opt.param_groups[0]["lr"] *= 3
    changed = opt.param_groups[0]["lr"]
    sched.step()                                  # epoch 3: the curve's ratio applied to the change
    ratio = (1 + math.cos(math.pi * 3 / 5)) / (1 + math.cos(math.pi * 2 / 5))
    assert sched.get_last_lr()[0] == pytest.approx(0.01 + ratio * (changed - 0.01), rel=1e-12)


def test_clip_grad_norm_refuses_a_negative_max_norm():
    p = tg.ones(2, requires_grad=True)
    p.grad = tg.tensor([3.0, 4.0])
    with pytest.raises(ConfigError, match="max_norm must be >= 0"):
        tg.nn.utils.clip_grad_norm_([p], -1.0)
    assert p.grad.tolist() == [3.0, 4.0]


# -- scheduler state validation, step(epoch), clipping a module ------------------------------------
@pytest.mark.parametrize("make, key, bad", [
    (lambda o: L.StepLR(o, 3), "last_epoch", "x"),
    (lambda o: L.StepLR(o, 3), "last_epoch", -2),
    (lambda o: L.StepLR(o, 3), "last_epoch", True),
    (lambda o: L.StepLR(o, 3), "step_size", -1),
    (lambda o: L.StepLR(o, 3), "gamma", "half"),
    (lambda o: L.MultiStepLR(o, [2, 4]), "milestones", 3),
    (lambda o: L.MultiStepLR(o, [2, 4]), r"milestones\[1\]", [2, -1]),
    (lambda o: L.ExponentialLR(o, 0.9), "gamma", -0.5),
    (lambda o: L.CosineAnnealingLR(o, 5), "T_max", 0),
    (lambda o: L.CosineAnnealingLR(o, 5), "eta_min", float("nan")),
    (lambda o: L.ExponentialLR(o, 0.9), "base_lrs", [0.1]),
    (lambda o: L.ExponentialLR(o, 0.9), "_last_lr", ["a", 0.3]),
])
def test_scheduler_load_state_dict_checks_values_and_changes_nothing_on_failure(make, key, bad):
    sched = make(_optimizer())
    sched.step()
    before = sched.state_dict()
    with pytest.raises(ConfigError, match=f"load_state_dict: in the saved state, {key}"):
        sched.load_state_dict({**before, key.split("\\")[0]: bad})
    assert sched.state_dict() == before
    sched.load_state_dict(json.loads(json.dumps(before)))   # a good state still loads
    assert sched.state_dict() == before


def test_lambda_lr_returning_a_non_number_names_the_function_and_epoch():
    def schedule(epoch):
        return "fast" if epoch == 2 else 1.0

    opt = _optimizer()
    sched = L.LambdaLR(opt, schedule)
    sched.step()
    with pytest.raises(ConfigError, match=r"schedule.*str.*epoch 2"):
        sched.step()
    with pytest.raises(ConfigError, match="epoch 0"):
        L.LambdaLR(_optimizer(), lambda e: None)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_step_with_an_epoch_warns_and_jumps_to_the_formula(name):
    make, factor = SCHEDULES[name]
    opt = _optimizer()
    sched = make(opt)
    for epoch in (7, 3, 12):
        with pytest.warns(UserWarning, match="deprecated"):
            sched.step(epoch)
        assert sched.last_epoch == epoch
        np.testing.assert_allclose([g["lr"] for g in opt.param_groups], BASES * factor(epoch), rtol=1e-12)
    sched.step()                                  # and carries on from there
    np.testing.assert_allclose(sched.get_last_lr(), BASES * factor(13), rtol=1e-12)
    with pytest.raises(ConfigError, match=r"step\(epoch\) must be an int >= 0"):
        sched.step(-1)                            # refused before it warns or changes anything
    assert sched.last_epoch == 13


def test_cosine_step_with_an_epoch_jumps_to_the_closed_form():
    opt = _optimizer()
    sched = L.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    with pytest.warns(UserWarning):
        sched.step(4)
    want = 0.01 + (BASES - 0.01) * (1 + math.cos(math.pi * 4 / 10)) / 2
    np.testing.assert_allclose(sched.get_last_lr(), want, rtol=1e-12)


def test_clip_grad_norm_of_a_module_says_to_pass_its_parameters():
    model = nn.Linear(2, 2)
    for clip in (lambda: nn.utils.clip_grad_norm_(model, 1.0), lambda: nn.utils.clip_grad_value_(model, 1.0)):
        with pytest.raises(InputTypeError, match=r"pass model.parameters\(\)"):
            clip()
    with pytest.raises(InputTypeError, match="iterable"):
        nn.utils.clip_grad_norm_(3.0, 1.0)


def test_clip_grad_norm_makes_every_gradient_nan_when_the_norm_is_nan():
    params, grads = _params_with_grads(scale=10.0)
    params[0].grad.array[0, 0] = np.nan
    assert math.isnan(nn.utils.clip_grad_norm_(params, 1.0).item())
    for p in params[:3]:                           # torch's: every gradient scaled by NaN
        assert np.isnan(p.grad.numpy()).all()
    assert params[3].grad is None


def test_reduce_lr_on_plateau_follows_torchs_rules():
    p = tg.zeros(1, requires_grad=True)
    opt = tg.optim.SGD([p], lr=1.0)
    sched = tg.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1,
                                                   threshold=0.1, min_lr=0.2)
    # metric:   5 (best)  4.8 (not 10% better: bad 1)  4.9 (bad 2 > patience: halve, cooldown 1)
    #           4.9 (cooldown: bad count reset)  4.9 (bad 1)  nan (bad 2: halve)  1 (best)
    #           1, 1 (bad 2: 0.25 -> min_lr 0.2)  1, 1 (0.2 * 0.5 < min_lr: stays)
    lrs = []
    for metric in [5.0, 4.8, 4.9, 4.9, 4.9, float("nan"), 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]:
        sched.step(metric)
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2]
    assert opt.param_groups[0]["lr"] == 0.2
    state = sched.state_dict()
    again = tg.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5)
    again.load_state_dict(state)
    assert again.best == 1.0 and again.patience == 1
    maxing = tg.optim.lr_scheduler.ReduceLROnPlateau(tg.optim.SGD([p], lr=1.0), mode="max",
                                                    patience=0, threshold_mode="abs", threshold=0.5)
    maxing.step(1.0)
    maxing.step(1.4)                  # not 0.5 above the best: reduced at once (patience 0)
    assert maxing.get_last_lr() == [0.1]
    with pytest.raises(ConfigError, match="factor must be < 1.0"):
        tg.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ConfigError, match="mode"):
        tg.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="lowest")
