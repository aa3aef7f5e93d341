"""Optimizer state as torch keeps it: ``opt.state[p][...]`` and ``state_dict()["state"]`` hold
Tensors (the live view wrapping the very arrays the update writes in place), ``step`` a 0-d
float Tensor of torch's scalar dtype; loading still takes arrays, Tensors and ints."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import ShapeError
from tensorgan.optim import (ASGD, SGD, Adadelta, Adafactor, Adagrad, Adam, Adamax, AdamW, Muon,
                             NAdam, Optimizer, RAdam, RMSprop, Rprop)

# torch 2.13's state keys per optimizer (its documented / source state), for a (3, 4) weight
CASES = [
    (SGD, dict(lr=0.1), set()),
    (SGD, dict(lr=0.1, momentum=0.9), {"momentum_buffer"}),
    (Adam, dict(), {"step", "exp_avg", "exp_avg_sq"}),
    (Adam, dict(amsgrad=True), {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
    (AdamW, dict(), {"step", "exp_avg", "exp_avg_sq"}),
    (RMSprop, dict(), {"step", "square_avg"}),
    (RMSprop, dict(momentum=0.5, centered=True), {"step", "square_avg", "momentum_buffer", "grad_avg"}),
    (Adagrad, dict(), {"step", "sum"}),
    (Adadelta, dict(), {"step", "square_avg", "acc_delta"}),
    (Adamax, dict(), {"step", "exp_avg", "exp_inf"}),
    (NAdam, dict(), {"step", "mu_product", "exp_avg", "exp_avg_sq"}),
    (RAdam, dict(), {"step", "exp_avg", "exp_avg_sq"}),
    (ASGD, dict(), {"step", "eta", "mu", "ax"}),
    (Rprop, dict(), {"step", "prev", "step_size"}),
    (Adafactor, dict(), {"step", "row_var", "col_var"}),
    (Muon, dict(), {"momentum_buffer"}),
]
IDS = [f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(CASES)]
SCALARS = {"step", "mu_product", "eta", "mu"}


def _stepped(cls, kwargs, steps=3, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    w = nn.Parameter(tg.tensor(rng.standard_normal((3, 4)).astype(dtype)))
    opt = cls([w], **kwargs)
    for _ in range(steps):
        w.grad = tg.tensor(rng.standard_normal((3, 4)).astype(dtype))
        opt.step()
    return w, opt


@pytest.mark.parametrize("cls, kwargs, keys", CASES, ids=IDS)
def test_state_holds_tensors_over_the_updated_arrays(cls, kwargs, keys):
    w, opt = _stepped(cls, kwargs)
    state = opt.state[w]
    assert set(state) == keys and len(state) == len(keys)
    assert (w in opt.state) == bool(keys) and len(opt.state) == (1 if keys else 0)
    assert state is opt.state[w]                    # one view per parameter, as torch's one dict
    raw = opt._states[0]
    for key in keys:
        value = state[key]
        assert isinstance(value, tg.Tensor) and value is state[key]
        if key in SCALARS:
            assert value.shape == () and value.dtype == np.float32 and value.device.type == "cpu"
        else:
            assert value.array is raw[key]           # no copy: the update's own array
            assert value.dtype == w.dtype
    if "step" in keys:
        assert state["step"].item() == 3.0
    # the held Tensors follow the next step (the arrays are updated in place)
    held = {k: state[k] for k in keys - SCALARS}
    before = {k: v.numpy().copy() for k, v in held.items()}
    w.grad = tg.ones(3, 4)
    opt.step()
    for k, v in held.items():
        assert v.array is opt._states[0][k]
        if k not in ("prev",) or cls is not Rprop:
            assert not np.array_equal(v.numpy(), before[k]), k
    if "step" in keys:
        assert opt.state[w]["step"].item() == 4.0


@pytest.mark.parametrize("cls, kwargs, keys", CASES, ids=IDS)
def test_state_dict_holds_cpu_tensors_torch_code_can_use(cls, kwargs, keys):
    w, opt = _stepped(cls, kwargs)
    sd = opt.state_dict()
    assert set(sd["state"]) == ({0} if keys else set())
    for key, value in sd["state"].get(0, {}).items():
        assert key in keys and isinstance(value, tg.Tensor) and value.device.type == "cpu"
        assert value is opt.state[w][key]        # torch's: a reference to the live state
        # what torch code does with them
        np.testing.assert_array_equal(value.clone().numpy(), value.numpy())
        assert np.isclose(value.norm().item(), np.sqrt((value.numpy().astype(np.float64) ** 2).sum()),
                          rtol=1e-5)
        assert value.to("cpu").shape == value.shape
        if key in SCALARS:
            assert value.shape == () and value.dtype == np.float32
    # and it loads back into a fresh optimizer, which then steps as the original
    w2 = nn.Parameter(tg.tensor(w.numpy().copy()))
    opt2 = cls([w2], **kwargs)
    opt2.load_state_dict(copy.deepcopy(sd))   # (torch's loading shares same-dtype Tensors)
    for p in (w, w2):
        p.grad = tg.full((3, 4), 0.5)
    opt.step()
    opt2.step()
    np.testing.assert_array_equal(w.numpy(), w2.numpy())


def test_adam_state_values_after_three_steps_are_adams_moments():
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal(5)
    w = nn.Parameter(tg.tensor(w0))
    opt = Adam([w], lr=1e-2, betas=(0.8, 0.9))
    m, v = np.zeros(5), np.zeros(5)
    for _ in range(3):
        g = rng.standard_normal(5)
        w.grad = tg.tensor(g)
        opt.step()
        m, v = 0.8 * m + 0.2 * g, 0.9 * v + 0.1 * g * g
    np.testing.assert_allclose(opt.state[w]["exp_avg"].numpy(), m, rtol=1e-13)
    np.testing.assert_allclose(opt.state_dict()["state"][0]["exp_avg_sq"].numpy(), v, rtol=1e-13)
    assert opt.state[w]["exp_avg"].dtype == np.float64            # the parameter's dtype
    assert opt.state[w]["step"].dtype == np.float32               # torch's scalar dtype


def test_step_is_float64_under_a_float64_default_dtype():
    old = tg.get_default_dtype()
    tg.set_default_dtype(tg.float64)
    try:
        w, opt = _stepped(NAdam, {})
        assert opt.state[w]["step"].dtype == np.float64
        assert opt.state_dict()["state"][0]["mu_product"].dtype == np.float64
    finally:
        tg.set_default_dtype(old)


def test_nadam_and_asgd_scalars_are_rounded_to_the_scalar_dtype_as_torchs_tensors():
    w, opt = _stepped(NAdam, {}, dtype=np.float64)
    b1, psi, prod = 0.9, 4e-3, 1.0
    for t in (1, 2, 3):
        prod = float(np.float32(prod) * np.float32(b1 * (1 - 0.5 * 0.96 ** (t * psi))))
    assert opt._states[0]["mu_product"] == prod
    w, opt = _stepped(ASGD, dict(lr=0.01))
    assert opt._states[0]["eta"] == float(np.float32(0.01 / (1 + 1e-4 * 0.01 * 3) ** 0.75))


def test_writes_through_the_view_reach_the_update():
    w = nn.Parameter(tg.tensor(np.ones(4)))
    opt = Adam([w], lr=0.1)
    w.grad = tg.tensor(np.full(4, 2.0))
    opt.step()
    state = opt.state[w]
    state["exp_avg"].zero_()                  # in place on the update's own array
    state["exp_avg_sq"].zero_()
    state["step"] -= 1                        # in place on the live 0-d Tensor, as torch's
    assert opt._states[0]["step"] == 0 and state["step"].item() == 0
    before = w.numpy().copy()
    opt.step()                                # a first step again: each weight moves by lr
    np.testing.assert_allclose(before - w.numpy(), 0.1, rtol=1e-6)
    fresh = tg.zeros(4, dtype=tg.float64)
    state["exp_avg"] = fresh                  # a Tensor of the right dtype: kept, not copied
    assert state["exp_avg"] is fresh and opt._states[0]["exp_avg"] is fresh.array
    with pytest.raises(ShapeError, match=r"exp_avg.*\(4,\).*\(3,\)"):
        state["exp_avg"] = tg.zeros(3)


def test_old_layouts_still_load():
    w = nn.Parameter(tg.tensor(np.zeros(2)))
    opt = Adam([w])
    group = {**opt.state_dict()["param_groups"][0]}
    group.pop("params")
    # tensorgan's older layout: a list by position, arrays and an int step
    opt.load_state_dict({"state": [{"step": 5, "exp_avg": np.ones(2), "exp_avg_sq": np.ones(2)}],
                         "param_groups": [{**group, "num_params": 1}]})
    assert opt.state[w]["step"].item() == 5 and opt._states[0]["step"] == 5
    # torch's layout with Tensors and a 0-d float step
    opt.load_state_dict({"state": {0: {"step": tg.tensor(7.0), "exp_avg": tg.ones(2),
                                       "exp_avg_sq": tg.ones(2)}},
                         "param_groups": [{**group, "params": [0]}]})
    assert opt._states[0]["step"] == 7 and opt.state[w]["exp_avg"].dtype == np.float64


def test_save_and_load_round_trip_keeps_tensors(tmp_path):
    w, opt = _stepped(NAdam, {})
    tg.save(opt.state_dict(), tmp_path / "opt.pt")
    back = tg.load(tmp_path / "opt.pt")
    assert isinstance(back["state"][0]["step"], tg.Tensor) and back["state"][0]["step"].item() == 3
    w2 = nn.Parameter(tg.tensor(w.numpy().copy()))
    opt2 = NAdam([w2])
    opt2.load_state_dict(back)
    for p in (w, w2):
        p.grad = tg.ones(3, 4)
    opt.step()
    opt2.step()
    np.testing.assert_array_equal(w.numpy(), w2.numpy())


def test_a_torch_style_custom_optimizer_keeps_what_it_writes():
    class Momentum(Optimizer):
        def __init__(self, params, lr=0.1, beta=0.5):
            super().__init__(params, dict(lr=lr, beta=beta))

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = 0
                        state["buf"] = tg.zeros_like(p)
                    state["step"] += 1
                    buf = state["buf"]
                    buf.mul_(group["beta"]).add_(p.grad)
                    with tg.no_grad():
                        p.sub_(group["lr"] * buf)

    w = nn.Parameter(tg.tensor(np.zeros(3)))
    opt = Momentum([w])
    for _ in range(2):
        w.grad = tg.tensor(np.ones(3))
        opt.step()
    # buf: 1 then 1.5; w: -0.1 then -0.25
    assert opt.state[w]["step"] == 2
    np.testing.assert_allclose(opt.state[w]["buf"].numpy(), 1.5)
    np.testing.assert_allclose(w.numpy(), -0.25)
    assert w in opt.state and len(opt.state) == 1


def test_a_state_written_before_the_first_step_is_a_whole_state():
    w = nn.Parameter(tg.tensor(np.zeros(3)))
    opt = Adam([w], lr=0.1)
    opt.state[w]["step"] = tg.tensor(0.0)       # torch code initialising the state itself
    assert set(opt.state[w]) == {"step", "exp_avg", "exp_avg_sq"}
    w.grad = tg.tensor(np.ones(3))
    opt.step()
    np.testing.assert_allclose(w.numpy(), -0.1, rtol=1e-6)
    assert opt.state[w]["step"].item() == 1
