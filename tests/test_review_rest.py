"""Review of the session's non-core changes (optim, utils.benchmark, ...): regressions found."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import CheckpointError
from tensorgan.utils import benchmark


# -- utils.benchmark -------------------------------------------------------------------------

def test_benchmark_measurement_repr_and_compare_have_real_newlines():
    m = benchmark.Timer("x + 1", globals={"x": 1}, label="add").timeit(number=10)
    text = repr(m)
    assert "\\n" not in text
    lines = text.split("\n")
    assert lines[1] == "add" and lines[2].startswith("  Median:") and len(lines) == 4
    table = str(benchmark.Compare([m]))
    assert "\\n" not in table and len(table.split("\n")) == 2
    assert table.split("\n")[1].startswith("add")


# -- optimizer state: torch's layout with a twice-listed parameter ----------------------------

def _twice_listed_adam():
    w = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    b = tg.tensor(np.array([0.5]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)     # torch's duplicate-parameter warning
        opt = tg.optim.Adam([w, b, w], lr=0.1)
    return w, b, opt


def test_optimizer_loads_torch_state_that_lists_a_parameter_twice():
    # torch.optim writes a parameter given twice in one group as one index listed twice,
    # with one state entry: params [2, 1, 2], state {2: w's, 1: b's}.
    w, b, opt = _twice_listed_adam()
    w_state = {"step": np.array(3.0), "exp_avg": np.array([0.1, 0.2]),
               "exp_avg_sq": np.array([0.01, 0.04])}
    b_state = {"step": np.array(3.0), "exp_avg": np.array([0.3]), "exp_avg_sq": np.array([0.09])}
    group = {k: v for k, v in opt.state_dict()["param_groups"][0].items() if k != "params"}
    opt.load_state_dict({"state": {2: w_state, 1: b_state},
                         "param_groups": [dict(group, params=[2, 1, 2])]})
    np.testing.assert_array_equal(opt.state[w]["exp_avg"], [0.1, 0.2])
    np.testing.assert_array_equal(opt.state[b]["exp_avg"], [0.3])
    assert opt.state[w]["step"] == 3
    w.grad = tg.tensor(np.array([1.0, 1.0]))
    b.grad = tg.tensor(np.array([1.0]))
    opt.step()
    # both listings of w step its one state (as torch): 3 -> 5; b once: 3 -> 4
    assert opt.state[w]["step"] == 5 and opt.state[b]["step"] == 4


def test_optimizer_state_index_listed_twice_for_two_parameters_is_refused():
    w, b, opt = _twice_listed_adam()
    group = {k: v for k, v in opt.state_dict()["param_groups"][0].items() if k != "params"}
    with pytest.raises(CheckpointError, match="appears twice"):
        opt.load_state_dict({"state": {}, "param_groups": [dict(group, params=[1, 1, 2])]})


# -- distributed / multiprocessing: typed errors, torch's ValueError ---------------------------

def test_distributed_errors_are_typed_value_errors():
    from tensorgan import distributed as dist
    from tensorgan import multiprocessing as mp
    from tensorgan.errors import ConfigError
    from tensorgan.utils.data import DistributedSampler
    assert not dist.is_initialized()
    with pytest.raises(ConfigError, match="not been initialized"):
        dist.get_rank()
    with pytest.raises(ConfigError, match="num_replicas / rank"):
        DistributedSampler(range(4))
    with pytest.raises(ConfigError, match="Invalid rank 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ConfigError, match="unknown strategy"):
        mp.set_sharing_strategy("shm")
    dist.init_process_group("gloo", world_size=1, rank=0)
    try:
        # torch raises ValueError here (``except ValueError`` in torch code must catch it)
        with pytest.raises(ConfigError, match="twice"):
            dist.init_process_group("gloo")
        with pytest.raises(ConfigError, match="world_size"):
            dist.all_gather([tg.zeros(1), tg.zeros(1)], tg.zeros(1))
    finally:
        dist.destroy_process_group()


# -- LBFGS state: torch's layout, and no aliasing of the loaded arrays --------------------------

def _lbfgs_problem(seed=0):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    w = tg.tensor(rng.standard_normal(3), requires_grad=True)
    opt = tg.optim.LBFGS([w], lr=0.5, history_size=3, max_iter=4)

    def closure():
        opt.zero_grad()
        loss = ((tg.tensor(x) @ w - tg.tensor(y)) ** 2).mean()
        loss.backward()
        return loss
    return w, opt, closure


def _lbfgs_clone(w_src):
    w, opt, closure = _lbfgs_problem()
    with tg.no_grad():
        w.copy_(w_src.detach())
    return w, opt, closure


def test_lbfgs_loads_torch_layout_state():
    w, opt, closure = _lbfgs_problem()
    for _ in range(2):
        opt.step(closure)
    mine = opt.state_dict()
    s = mine["state"][0]
    # torch.optim.LBFGS's state: no "step"; the curvature pairs and ro as lists (ro of 0-d
    # tensors), H_diag a 0-d tensor, plus its scratch list "al"
    torch_state = {"func_evals": s["func_evals"], "n_iter": s["n_iter"], "d": s["d"].clone(),
                   "t": s["t"], "old_dirs": [r.clone() for r in s["old_dirs"]],
                   "old_stps": [r.clone() for r in s["old_stps"]],
                   "ro": [np.array(v) for v in s["ro"]], "H_diag": np.array(s["H_diag"]),
                   "prev_flat_grad": s["prev_flat_grad"].clone(), "prev_loss": s["prev_loss"],
                   "al": [None] * 3}
    w2, opt2, closure2 = _lbfgs_clone(w)
    opt2.load_state_dict({"state": {0: torch_state}, "param_groups": mine["param_groups"]})
    assert "step" not in opt2.state[w2] and opt2.state[w2]["n_iter"] == s["n_iter"]   # as torch
    for _ in range(3):
        assert float(opt.step(closure)) == float(opt2.step(closure2))
    np.testing.assert_array_equal(w.detach().numpy(), w2.detach().numpy())


def test_lbfgs_load_state_dict_copies_the_arrays():
    w, opt, closure = _lbfgs_problem()
    for _ in range(2):
        opt.step(closure)
    sd = opt.state_dict()
    w2, opt2, closure2 = _lbfgs_clone(w)
    opt2.load_state_dict(sd)
    for key in ("d", "prev_flat_grad", "old_dirs", "old_stps"):     # the caller's arrays change
        for t in (sd["state"][0][key] if isinstance(sd["state"][0][key], list) else [sd["state"][0][key]]):
            t[...] = 1e3                                    # (the pairs: torch's lists of Tensors)
    for _ in range(2):
        assert float(opt.step(closure)) == float(opt2.step(closure2))
