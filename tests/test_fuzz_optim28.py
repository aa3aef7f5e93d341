"""Mismatches the session-28 differential fuzz of optimizers, schedulers and training utilities
(tensorgan against torch, float64) found; each expected value is a NumPy recurrence written out
here or an invariant (a 0-d parameter updates as a one-element one)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import optim

pytestmark = pytest.mark.usefixtures("float64_default")


def _run(make_opt, shape, grads):
    """Parameters of ``shape`` (from 1.0), one step per gradient value; the trajectory."""
    p = tg.tensor(np.ones(shape), requires_grad=True)
    opt = make_opt([p])
    out = []
    for g in grads:
        p.grad = tg.tensor(np.full(shape, g))
        opt.step()
        out.append(float(p.detach().numpy().reshape(-1)[0]))
    return out, opt


def _sgd_reference(grads, lr, momentum, wd=0.0, maximize=False, nesterov=False):
    p, buf, out = 1.0, None, []
    for g in grads:
        g = -g if maximize else g
        g = g + wd * p
        buf = g if buf is None else momentum * buf + g
        p -= lr * (g + momentum * buf if nesterov else buf)
        out.append(p)
    return out


@pytest.mark.parametrize("options", [dict(maximize=True), dict(weight_decay=0.1),
                                     dict(maximize=True, nesterov=True)])
def test_sgd_momentum_on_a_0d_parameter_keeps_its_buffer(options):
    # the first buffer was a copy of a NumPy scalar (-g or g + wd * p on a 0-d array), which the
    # in-place momentum updates then never changed: the run lost its momentum from step 2 on
    grads = [1.0, -0.5, 2.0, 0.25]
    got, opt = _run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, **options), (), grads)
    expect = _sgd_reference(grads, 0.1, 0.9, wd=options.get("weight_decay", 0.0),
                            maximize=options.get("maximize", False),
                            nesterov=options.get("nesterov", False))
    np.testing.assert_allclose(got, expect, rtol=1e-14)
    buf = opt.state_dict()["state"][0]["momentum_buffer"]
    assert buf.shape == ()


@pytest.mark.parametrize("options", [dict(amsgrad=True), dict(amsgrad=True, maximize=True),
                                     dict(amsgrad=True, weight_decay=0.1)])
@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
def test_amsgrad_on_a_0d_parameter_steps_as_a_one_element_one(cls, options):
    # raised "TypeError: return arrays must be of ArrayType" (the reference ufuncs' out= got a scalar)
    grads = [1.0, -0.5, 2.0, 0.25]
    got, opt = _run(lambda ps: cls(ps, lr=0.1, **options), (), grads)
    expect, _ = _run(lambda ps: cls(ps, lr=0.1, **options), (1,), grads)
    assert got == expect
    state = opt.state_dict()["state"][0]
    assert {k: state[k].shape for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")} \
        == {"exp_avg": (), "exp_avg_sq": (), "max_exp_avg_sq": ()}


def test_adagrad_accumulator_starts_at_the_constructors_value_in_every_group():
    # torch fills every group's sum with the constructor's initial_accumulator_value (a group's
    # own entry stays in param_groups, unused); tensorgan used the group's, diverging at step 1
    a = tg.tensor(np.ones(2), requires_grad=True)
    b = tg.tensor(np.ones(2), requires_grad=True)
    c = tg.tensor(np.ones(2), requires_grad=True)
    opt = optim.Adagrad([{"params": [a], "initial_accumulator_value": 0.5}, {"params": [b]}],
                        lr=0.1, initial_accumulator_value=0.0)
    opt.add_param_group({"params": [c], "initial_accumulator_value": 3.0})
    for p in (a, b, c):
        p.grad = tg.tensor(np.full(2, 2.0))
    opt.step()
    expect = 1.0 - 0.1 * 2.0 / (np.sqrt(0.0 + 4.0) + 1e-10)
    for p in (a, b, c):
        np.testing.assert_allclose(p.detach().numpy(), expect, rtol=1e-15)
    assert [g["initial_accumulator_value"] for g in opt.param_groups] == [0.5, 0.0, 3.0]


def test_sequential_lr_milestone_restart_counts_no_step_of_the_next_scheduler():
    # torch 2.13 restarts the next scheduler with _update_lr(0) (no _step_count += 1, unlike the
    # step(0) of older torch): the saved _step_count was one more than torch's after a milestone
    L = optim.lr_scheduler
    opt = optim.SGD([tg.tensor(np.ones(2), requires_grad=True)], lr=1.0)
    first, second = L.ConstantLR(opt, factor=0.5, total_iters=10), L.StepLR(opt, step_size=2, gamma=0.1)
    sched = L.SequentialLR(opt, [first, second], milestones=[3])
    lrs = []
    for _ in range(6):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    # epochs 1, 2 of ConstantLR (0.5), then StepLR from its epoch 0: 1, 1, 0.1, 0.1
    np.testing.assert_allclose(lrs, [0.5, 0.5, 1.0, 1.0, 0.1, 0.1], rtol=1e-15)
    saved = sched.state_dict()["_schedulers"][1]
    assert (saved["last_epoch"], saved["_step_count"]) == (3, 4)   # constructor + 3 step()s


@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_value_takes_torchs_foreach_switch(foreach):
    # torch.nn.utils.clip_grad_value_(parameters, clip_value, foreach=None): was a TypeError here
    p = tg.tensor(np.zeros(4), requires_grad=True)
    p.grad = tg.tensor(np.array([-3.0, -0.5, 0.25, 2.0]))
    assert tg.nn.utils.clip_grad_value_([p], 1.0, foreach=foreach) is None
    assert p.grad.numpy().tolist() == [-1.0, -0.5, 0.25, 1.0]
