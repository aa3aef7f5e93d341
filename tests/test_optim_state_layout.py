"""Optimizer / scheduler state dicts in PyTorch's layout, and gradgradcheck's grad_outputs.

``state_dict()["state"]`` maps parameter indices to state (only parameters with state) and each
group's ``"params"`` lists indices, as ``torch.optim`` writes them; a dict in that layout (values
arrays or Tensors, ``step`` a 0-d float as torch keeps it) loads, and so does tensorgan's older
list layout (checkpoints written before).  Expected numbers are the optimizers' formulas in NumPy.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import CheckpointError, InputTypeError, ShapeError
from tensorgan.optim import lr_scheduler as L


def _params(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [tg.nn.Parameter(tg.tensor(rng.standard_normal(s))) for s in shapes]


def _set_grads(params, grads):
    for p, g in zip(params, grads):
        p.grad = None if g is None else tg.tensor(g)


def test_state_dict_is_torch_layout_keyed_by_index_with_only_stepped_params():
    p = _params((2,), (3,), (1,))
    opt = tg.optim.SGD([{"params": p[:2]}, {"params": [p[2]], "lr": 0.5}], lr=0.1, momentum=0.9)
    _set_grads(p, [np.ones(2), None, np.ones(1)])
    opt.step()
    sd = opt.state_dict()
    assert isinstance(sd["state"], dict) and sorted(sd["state"]) == [0, 2]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert "num_params" not in sd["param_groups"][0]
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"], np.ones(2))
    assert sd["param_groups"][1]["lr"] == 0.5


def _adam_step(w, g, m, v, t, lr=1e-2, b1=0.9, b2=0.999, eps=1e-8):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return w - lr / (1 - b1 ** t) * m / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps), m, v


def test_adam_loads_a_torch_layout_dict_with_tensor_values_and_a_float_step():
    (p,) = _params((4,))
    w0 = p.detach().numpy().copy()
    m0, v0 = np.full(4, 0.1), np.full(4, 0.02)
    opt = tg.optim.Adam([p], lr=1e-2)
    torch_like = {"state": {0: {"step": tg.tensor(3.0), "exp_avg": tg.tensor(m0),
                                "exp_avg_sq": tg.tensor(v0)}},
                  "param_groups": [{"lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-8,
                                    "weight_decay": 0, "amsgrad": False, "maximize": False,
                                    "foreach": None, "capturable": False, "differentiable": False,
                                    "fused": None, "decoupled_weight_decay": False, "params": [0]}]}
    opt.load_state_dict(torch_like)
    assert opt.state[p]["step"].item() == 3 and opt.state[p]["step"].dtype == np.float32
    assert opt._states[0]["step"] == 3                 # the update's own count
    assert {"foreach", "fused", "capturable", "differentiable",
            "decoupled_weight_decay"} <= set(opt.param_groups[0])      # kept, as torch's
    g = np.array([0.5, -1.0, 2.0, 0.0])
    _set_grads([p], [g])
    opt.step()
    expected, m, v = _adam_step(w0, g, m0, v0, t=4)
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(opt.state[p]["exp_avg"], m, rtol=1e-12)


def test_saved_indices_map_to_positions_through_the_groups():
    # torch numbers parameters by first appearance; any indices work when groups list them
    p = _params((2,), (3,))
    opt = tg.optim.SGD(p, lr=0.1, momentum=0.5)
    opt.load_state_dict({"state": {"7": {"momentum_buffer": np.full(3, 2.0)}},   # JSON: str keys
                         "param_groups": [{"lr": 0.1, "momentum": 0.5, "dampening": 0,
                                           "weight_decay": 0, "nesterov": False,
                                           "maximize": False, "params": [5, 7]}]})
    assert opt.state[0] is None
    np.testing.assert_array_equal(opt.state[p[1]]["momentum_buffer"], np.full(3, 2.0))
    w1 = p[1].detach().numpy().copy()
    _set_grads(p, [None, np.ones(3)])
    opt.step()
    np.testing.assert_allclose(p[1].detach().numpy(), w1 - 0.1 * (0.5 * 2.0 + 1.0))


def test_json_round_trip_and_the_older_list_layout_resume_identically():
    def run(opt, params, k, seed):
        rng = np.random.default_rng(seed)
        for _ in range(k):
            _set_grads(params, [rng.standard_normal(q.shape) for q in params])
            opt.step()

    p = _params((3,), (2, 2))
    opt = tg.optim.RMSprop(p, lr=1e-2, momentum=0.5, centered=True)
    run(opt, p, 2, 1)
    sd, weights = opt.state_dict(), [q.detach().numpy().copy() for q in p]
    # Tensors that reference the live state, as torch's: copied to keep these values
    sd["state"] = {i: {k: v.numpy().copy() if v.ndim else v.item() for k, v in s.items()}
                   for i, s in sd["state"].items()}
    arrays = {(i, k): v for i, s in sd["state"].items() for k, v in s.items() if isinstance(v, np.ndarray)}
    as_json = json.loads(json.dumps({**sd, "state": {i: {k: v for k, v in s.items() if (i, k) not in arrays}
                                                     for i, s in sd["state"].items()}}))
    for (i, k), v in arrays.items():
        as_json["state"][str(i)][k] = v
    old = {**sd, "state": [sd["state"].get(i) for i in range(2)],
           "param_groups": [{**{k: v for k, v in g.items() if k != "params"}, "num_params": 2}
                            for g in sd["param_groups"]]}
    run(opt, p, 2, 2)
    expected = [q.detach().numpy().copy() for q in p]
    for saved in (as_json, old):
        for q, w in zip(p, weights):
            q.array[...] = w
        opt2 = tg.optim.RMSprop(p, lr=1e-2, momentum=0.5, centered=True)
        opt2.load_state_dict(saved)
        run(opt2, p, 2, 2)
        for q, e in zip(p, expected):
            np.testing.assert_allclose(q.detach().numpy(), e, rtol=1e-13)


def test_save_and_load_keep_the_int_keys(tmp_path):
    p = _params((3,))
    opt = tg.optim.Adam(p)
    _set_grads(p, [np.ones(3)])
    opt.step()
    tg.save(opt.state_dict(), tmp_path / "opt.pt")
    back = tg.load(tmp_path / "opt.pt")
    assert list(back["state"]) == [0] and back["state"][0]["step"] == 1
    np.testing.assert_array_equal(back["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    tg.optim.Adam(p).load_state_dict(back)


def test_adamw_and_adam_take_torchs_decoupled_flag():
    (p,) = _params((2,))
    group = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01, "amsgrad": False,
             "maximize": False, "decoupled_weight_decay": True, "params": [0]}
    tg.optim.AdamW([p]).load_state_dict({"state": {}, "param_groups": [group]})
    adam = tg.optim.Adam([p])        # torch's Adam takes the saved flag (then AdamW's rule)
    adam.load_state_dict({"state": {}, "param_groups": [group]})
    assert adam.param_groups[0]["decoupled_weight_decay"] is True


def test_scalar_state_entries_may_be_0d_tensors_or_arrays():
    (p,) = _params((2,))
    opt = tg.optim.NAdam([p])
    opt.load_state_dict({"state": {0: {"step": np.array(2.0, np.float32), "mu_product": tg.tensor(0.8),
                                       "exp_avg": np.zeros(2), "exp_avg_sq": np.zeros(2)}},
                         "param_groups": [{**opt.state_dict()["param_groups"][0], "params": [0]}]})
    assert opt.state[p]["step"] == 2 and opt.state[p]["mu_product"].item() == pytest.approx(0.8)
    opt = tg.optim.ASGD([p])
    opt.load_state_dict({"state": {0: {"step": tg.tensor(1.0), "eta": tg.tensor(0.01), "mu": np.array(1.0),
                                       "ax": np.zeros(2)}},
                         "param_groups": opt.state_dict()["param_groups"]})
    assert opt.state[p]["eta"].item() == pytest.approx(0.01)


@pytest.mark.parametrize("bad, match", [
    ({"state": {3: {"momentum_buffer": np.zeros(2)}}}, "index 3"),
    ({"state": {"x": {}}}, "not a parameter index"),
    ({"state": {0: {"step": 1.5, "momentum_buffer": np.zeros(2)}}}, "whole number"),
    ({"state": {0: {"momentum_buffer": np.zeros(3)}}}, "shape"),
    ({"param_groups_params": [0, 1]}, "sizes"),
    ({"state": [None]}, "state"),
])
def test_malformed_torch_layout_is_refused_and_changes_nothing(bad, match):
    (p,) = _params((2,))
    opt = tg.optim.SGD([p], lr=0.1, momentum=0.9)
    group = {**opt.state_dict()["param_groups"][0]}
    if "param_groups_params" in bad:
        group["params"] = bad.pop("param_groups_params")
    sd = {"state": {}, "param_groups": [group], **bad}
    if isinstance(sd["state"], list):
        sd["param_groups"] = [{**group, "params": [0, 1]}]   # a list state with mismatched groups
    with pytest.raises(CheckpointError, match=match):
        opt.load_state_dict(sd)
    assert opt.state[0] is None and len(opt.state) == 0


def test_schedulers_load_torchs_extra_bookkeeping_keys():
    (p,) = _params((2,))
    opt = tg.optim.SGD([p], lr=0.1)
    s = L.StepLR(opt, 2)
    sd = {**s.state_dict(), "last_epoch": 3, "_get_lr_called_within_step": False}
    s.load_state_dict(sd)
    assert s.last_epoch == 3 and "_get_lr_called_within_step" not in s.state_dict()
    plateau = L.ReduceLROnPlateau(opt)
    saved = {**plateau.state_dict(), "num_bad_epochs": 4, "default_min_lr": 0, "mode_worse": float("inf")}
    plateau.load_state_dict(saved)
    assert plateau.num_bad_epochs == 4
    with pytest.raises(CheckpointError):
        plateau.load_state_dict({**saved, "bogus": 1})


class _DetachedSecondOrder(tg.autograd.Function):
    """x^2 whose backward is right but hides its dependence on x from a second derivative."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x.detach() * g


class _DetachedGradOutput(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g.detach()


def test_gradgradcheck_uses_the_given_grad_outputs():
    x = tg.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    # d/dx <2 x u, .> is 2u: zero for u = 0, so the hidden dependence cannot show there
    assert tg.autograd.gradgradcheck(_DetachedSecondOrder.apply, (x,), tg.zeros(3, dtype=tg.float64))
    assert not tg.autograd.gradgradcheck(_DetachedSecondOrder.apply, (x,), tg.ones(3, dtype=tg.float64),
                                         raise_exception=False)


def test_gradgradcheck_checks_grad_outputs_that_require_grad_as_torch():
    x = tg.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    u = tg.tensor(np.array([1.0, 0.5, -2.0]))
    assert tg.autograd.gradgradcheck(_DetachedGradOutput.apply, (x,), u)
    assert not tg.autograd.gradgradcheck(_DetachedGradOutput.apply, (x,), u.requires_grad_(True),
                                         raise_exception=False)
    # drawn at random they require grad (torch's make_tensor(..., requires_grad=True))
    assert not tg.autograd.gradgradcheck(_DetachedGradOutput.apply, (x,), raise_exception=False)
    assert tg.autograd.gradgradcheck(lambda t: t ** 3, (x,), u)


def test_gradgradcheck_grad_outputs_must_match_the_outputs():
    x = tg.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    with pytest.raises(ShapeError, match=r"\(4,\)"):
        tg.autograd.gradgradcheck(lambda t: t ** 3, (x,), tg.zeros(4, dtype=tg.float64))
    with pytest.raises(ShapeError, match="2 grad_outputs"):
        tg.autograd.gradgradcheck(lambda t: t ** 3, (x,), (tg.zeros(3), tg.zeros(3)))
    with pytest.raises(InputTypeError):
        tg.autograd.gradgradcheck(lambda t: t ** 3, (x,), np.zeros(3))


def test_forward_ad_results_do_not_require_grad_as_torch():
    import tensorgan.autograd.forward_ad as fwAD
    p, t = tg.tensor(np.array([0.1, 0.7, -1.3])), tg.tensor(np.array([1.0, -2.0, 0.5]))
    w = tg.tensor(np.array([2.0, 3.0, 4.0]), requires_grad=True)
    with fwAD.dual_level():
        x = fwAD.make_dual(p, t)
        y = (x * 2).sin()
        assert not x.requires_grad and not y.requires_grad
        assert y.is_leaf and y.grad_fn is None
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.numpy(),
                                   np.cos(2 * p.numpy()) * 2 * t.numpy(), rtol=1e-12)
        with pytest.raises(tg.errors.AutogradError, match="does not require grad"):
            y.sum().backward()
        # a dual of a primal that requires grad stays in its graph
        q = tg.tensor(np.array([0.5, 0.5, 0.5]), requires_grad=True)
        assert fwAD.make_dual(q, t).requires_grad
        z = (fwAD.make_dual(p, t) * 2).sin() * w     # depends on w, which requires grad: tracked
        assert z.requires_grad and not z.is_leaf and z.grad_fn is not None
        z.sum().backward()
        np.testing.assert_allclose(w.grad.numpy(), np.sin(2 * p.numpy()), rtol=1e-12)
    assert not y.requires_grad and y.grad_fn is None    # as torch: still so after the level closes
