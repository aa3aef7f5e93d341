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
