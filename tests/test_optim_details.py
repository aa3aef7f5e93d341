"""Optimizer details where torch 2.13 is the spec: the live ``step`` Tensor, ``state_dict()``
holding references, Adagrad's state from the constructor, a custom optimizer's whole state
through ``load_state_dict``, hyperparameters kept as given (``repr`` as torch's), NAdam's
float32 ``mu_product``, LBFGS's state keys and ``capturable`` on the CPU."""
from __future__ import annotations

import copy
import io

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn, optim
from tensorgan.errors import CapturableDeviceError, ConfigError


def _param(n=3, value=1.0, dtype=np.float64):
    return nn.Parameter(tg.tensor(np.full(n, value, dtype=dtype)))


def _steps(opt, params, k, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(k):
        for p in params:
            p.grad = tg.tensor(rng.standard_normal(p.shape).astype(p.numpy().dtype))
        opt.step()


# -- 1. the live step ---------------------------------------------------------------------
@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW, optim.NAdam, optim.RAdam, optim.Adamax,
                                 optim.Adagrad, optim.Adadelta, optim.RMSprop, optim.ASGD,
                                 optim.Rprop, optim.Adafactor])
def test_the_step_read_from_the_state_is_the_live_tensor_the_next_step_increments(cls):
    w = _param((2, 3) if cls is optim.Adafactor else 3)
    opt = cls([w])
    _steps(opt, [w], 1)
    step = opt.state[w]["step"]
    assert step.item() == 1 and step.shape == () and step.dtype == np.float32
    _steps(opt, [w], 2)
    assert step.item() == 3                      # torch: step_t += 1 on this very tensor
    assert opt.state[w]["step"] is step          # the same object each time
    assert opt.state_dict()["state"][0]["step"] is step


@pytest.mark.parametrize("cls, kwargs", [(optim.Adam, {}), (optim.Adam, dict(amsgrad=True)),
                                         (optim.NAdam, {}), (optim.ASGD, dict(t0=2)),
                                         (optim.RAdam, {}), (optim.Adafactor, {})])
def test_handing_out_the_state_changes_no_arithmetic(cls, kwargs):
    # one optimizer keeps its own counters, the other's were handed out (live 0-d arrays)
    a, b = _param((2, 3)), _param((2, 3))
    opt_a, opt_b = cls([a], **kwargs), cls([b], **kwargs)
    _steps(opt_a, [a], 2)
    _steps(opt_b, [b], 2)
    opt_b.state_dict()
    held = dict(opt_b.state[b])
    _steps(opt_a, [a], 7, seed=1)
    _steps(opt_b, [b], 7, seed=1)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    for key, value in opt_a.state[a].items():
        np.testing.assert_array_equal(value.numpy(), held[key].numpy())   # held ones followed


def test_a_step_tensor_written_into_the_state_is_counted_in_place():
    w = _param()
    opt = optim.Adam([w], lr=0.1)
    mine = tg.tensor(0.0)
    opt.state[w]["step"] = mine                  # torch code initialising the state itself
    _steps(opt, [w], 2)
    assert mine.item() == 2 and opt.state[w]["step"] is mine


# -- 2. state_dict() holds references -----------------------------------------------------
def test_state_dict_holds_the_live_state_and_loading_shares_it():
    w = _param()
    opt = optim.Adam([w], lr=0.1)
    _steps(opt, [w], 1)
    sd = opt.state_dict()
    before = sd["state"][0]["exp_avg"].numpy().copy()
    assert sd["state"][0]["exp_avg"] is opt.state[w]["exp_avg"]
    _steps(opt, [w], 1, seed=3)
    assert not np.array_equal(sd["state"][0]["exp_avg"].numpy(), before)   # torch: changed too
    assert sd["state"][0]["step"].item() == 2
    w2 = _param()
    opt2 = optim.Adam([w2], lr=0.1)
    opt2.load_state_dict(sd)     # torch's: same dtype and device, so the saved Tensors themselves
    assert opt2.state[w2]["exp_avg"] is opt.state[w]["exp_avg"]
    _steps(opt, [w], 1, seed=4)
    assert opt2.state[w2]["step"].item() == 3    # one counter, shared, as torch's
    snapshot = copy.deepcopy(opt.state_dict())   # torch's way to keep a moment's values
    _steps(opt, [w], 1, seed=5)
    assert snapshot["state"][0]["step"].item() == 3 and opt.state[w]["step"].item() == 4


# -- 3. Adagrad's state from the constructor ------------------------------------------------
def test_adagrad_creates_step_and_sum_in_its_constructor():
    w = _param(2, dtype=np.float32)
    opt = optim.Adagrad([w], initial_accumulator_value=0.5)
    assert set(opt.state[w]) == {"step", "sum"} and w in opt.state
    assert opt.state[w]["step"].item() == 0
    np.testing.assert_array_equal(opt.state[w]["sum"].numpy(), [0.5, 0.5])
    sd = opt.state_dict()
    assert set(sd["state"]) == {0} and set(sd["state"][0]) == {"step", "sum"}
    w.grad = tg.tensor(np.array([1.0, 2.0], dtype=np.float32))
    opt.step()                                   # sum = 0.5 + g^2; p -= lr g / (sqrt(sum) + eps)
    np.testing.assert_allclose(w.numpy(), 1 - 0.01 * np.array([1, 2]) / np.sqrt([1.5, 4.5]),
                               rtol=1e-6)


# -- 4. a custom optimizer's whole state through save / load -------------------------------
class _Momentum(optim.Optimizer):
    """The tutorials' hand-written SGD with momentum: its own state keys."""

    def __init__(self, params, lr=0.1, beta=0.5):
        super().__init__(params, dict(lr=lr, beta=beta))

    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["velocity"] = tg.zeros_like(p)
                    state["note"] = "momentum"
                state["step"] += 1
                state["velocity"].mul_(group["beta"]).add_(p.grad)
                with tg.no_grad():
                    p.sub_(group["lr"] * state["velocity"])


def test_a_custom_optimizer_gets_every_state_key_back_through_save_and_load():
    w = _param()
    opt = _Momentum([w])
    _steps(opt, [w], 3)
    buffer = io.BytesIO()
    tg.save(opt.state_dict(), buffer)
    buffer.seek(0)
    w2 = nn.Parameter(tg.tensor(w.numpy().copy()))
    opt2 = _Momentum([w2])
    opt2.load_state_dict(tg.load(buffer))
    assert set(opt2.state[w2]) == {"step", "velocity", "note"}
    assert opt2.state[w2]["step"] == 3 and opt2.state[w2]["note"] == "momentum"
    assert isinstance(opt2.state[w2]["velocity"], tg.Tensor)
    _steps(opt, [w], 2, seed=7)
    _steps(opt2, [w2], 2, seed=7)                # resumes: velocity restored, not restarted
    np.testing.assert_array_equal(w.numpy(), w2.numpy())


def test_a_custom_optimizers_float_state_takes_the_parameters_dtype_on_load():
    w = _param(dtype=np.float32)
    opt = _Momentum([w])
    saved = {"state": {0: {"step": 1, "velocity": np.ones(3, dtype=np.float64)}},
             "param_groups": [{"lr": 0.1, "beta": 0.5, "params": [0]}]}
    opt.load_state_dict(saved)
    assert opt.state[w]["velocity"].dtype == np.float32


# -- 5. hyperparameters as given; repr as torch's -------------------------------------------
def test_repr_prints_the_hyperparameters_as_given_like_torch():
    w = _param()
    assert repr(optim.Adam([w])) == (
        "Adam (\nParameter Group 0\n    amsgrad: False\n    betas: (0.9, 0.999)\n"
        "    capturable: False\n    decoupled_weight_decay: False\n    differentiable: False\n"
        "    eps: 1e-08\n    foreach: None\n    fused: None\n    lr: 0.001\n"
        "    maximize: False\n    weight_decay: 0\n)")
    assert repr(optim.SGD([w], lr=1)) == (
        "SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n"
        "    foreach: None\n    fused: None\n    lr: 1\n    maximize: False\n    momentum: 0\n"
        "    nesterov: False\n    weight_decay: 0\n)")
    assert repr(optim.RMSprop([w], lr=1, eps=0)) == (
        "RMSprop (\nParameter Group 0\n    alpha: 0.99\n    capturable: False\n"
        "    centered: False\n    differentiable: False\n    eps: 0\n    foreach: None\n"
        "    lr: 1\n    maximize: False\n    momentum: 0\n    weight_decay: 0\n)")
    group = optim.Adagrad([w]).param_groups[0]
    assert [type(group[k]) for k in ("lr_decay", "weight_decay", "initial_accumulator_value")] \
        == [int, int, int]


def test_an_int_learning_rate_steps_as_the_float_one():
    a, b = _param(), _param()
    opt_a, opt_b = optim.Adam([a], lr=1), optim.Adam([b], lr=1.0)
    assert opt_a.param_groups[0]["lr"].__class__ is int
    _steps(opt_a, [a], 3)
    _steps(opt_b, [b], 3)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_betas_adam_wants_floats_and_a_tuple_the_others_keep_what_they_got():
    w = _param()
    opt = optim.Adam([w], betas=[0.9, 0.99])
    assert opt.param_groups[0]["betas"] == (0.9, 0.99)
    assert opt.state_dict()["param_groups"][0]["betas"] == (0.9, 0.99)    # a tuple, as torch's
    with pytest.raises(ConfigError, match="betas must be either both floats or both Tensors"):
        optim.Adam([w], betas=(0, 0.99))
    with pytest.raises(ConfigError, match="both floats"):
        optim.AdamW([w], betas=(0.9, 0))
    nadam = optim.NAdam([w], betas=[0, 0.99])
    assert nadam.param_groups[0]["betas"] == [0, 0.99]
    assert "    betas: [0, 0.99]\n" in repr(nadam)


# -- 6. NAdam's mu_product: float32 times float32 ---------------------------------------------
def test_nadam_mu_product_is_a_float32_product_of_float32_factors():
    w = _param()
    opt = optim.NAdam([w])
    _steps(opt, [w], 30)
    prod = np.float32(1.0)
    for t in range(1, 31):   # torch: mu_product (float32) *= mu, mu rounded to float32 first
        prod = prod * np.float32(0.9 * (1 - 0.5 * 0.96 ** (t * 4e-3)))
    got = opt.state[w]["mu_product"]
    assert got.dtype == np.float32 and got.item() == float(prod)


# -- 7. LBFGS's state keys ------------------------------------------------------------------
def test_lbfgs_state_has_torchs_keys():
    x = nn.Parameter(tg.tensor([1.5, -0.5]))
    opt = optim.LBFGS([x], history_size=3, max_iter=4)

    def closure():
        opt.zero_grad()
        loss = ((x - 1) ** 2).sum() + (x ** 4).sum()
        loss.backward()
        return loss

    opt.step(closure)
    state = opt.state[x]
    assert list(state) == ["func_evals", "n_iter", "al", "d", "t", "old_dirs", "old_stps", "ro",
                           "H_diag", "prev_flat_grad", "prev_loss"]
    assert len(state["al"]) == 3 and state["H_diag"].shape == ()
    assert "step" not in opt.state_dict()["state"][0]


# -- 8. capturable on the CPU ---------------------------------------------------------------
def test_capturable_is_taken_but_a_cpu_step_refuses_it_as_torch():
    w = _param()
    opt = optim.Adam([w], capturable=True)
    opt.step()                                   # no gradient: nothing checked, as torch
    w.grad = tg.ones(3, dtype=tg.float64)
    with pytest.raises(AssertionError, match="capturable=True.*supported devices") as info:
        opt.step()
    assert isinstance(info.value, CapturableDeviceError)
    np.testing.assert_array_equal(w.numpy(), 1.0)     # refused before any update
    with pytest.raises(TypeError):
        optim.SGD([w], capturable=True)          # torch's SGD has no such switch


def test_param_group_keys_come_in_torchs_order():
    w = _param()
    assert list(optim.Adam([w]).state_dict()["param_groups"][0]) == [
        "lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "foreach", "capturable",
        "differentiable", "fused", "decoupled_weight_decay", "params"]
    assert list(optim.RMSprop([w]).param_groups[0]) == [
        "lr", "momentum", "alpha", "eps", "centered", "weight_decay", "capturable", "foreach",
        "maximize", "differentiable", "params"]
    assert list(optim.SGD([w], lr=0.1).defaults) == [
        "lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize", "foreach",
        "differentiable", "fused"]
