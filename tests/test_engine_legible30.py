"""The engine's graph walk and the longest functions stay legible without changing behaviour:
``_topological_order``'s order is pinned here on the graphs its special cases handle (pinned from
the function before session 30 rewrote it), and the split functions keep their results."""
import ast
import inspect
import sys
from pathlib import Path

import pytest

import tensorgan as tg

tensor = sys.modules["tensorgan.tensor"]    # (tg.tensor is the factory function)


def _order_names(roots: list, named: dict) -> list:
    """``_topological_order(roots)`` as the names of ``named``'s tensors; a tensor the test did
    not name (an in-place write's stand-in, an unnamed intermediate) shows as ``?<its op>``."""
    by_id = {id(t): name for name, t in named.items() if isinstance(t, tg.Tensor)}
    return [by_id.get(id(t)) or "?" + (type(t._ctx).__name__ if t._ctx is not None else "leaf")
            for t in tensor._topological_order(roots)]


def _leaves() -> tuple:
    return tg.randn(3, requires_grad=True), tg.randn(3, requires_grad=True)


def test_order_diamond_puts_leaves_after_the_other_inputs_in_reverse():
    x, w = _leaves()
    a = x * w
    b = x.exp()
    c = a + b
    d = c.sum()
    # reversed (backward's order): d c b a, then x before w -- the leaves in input order
    assert _order_names([d], locals()) == ["w", "x", "a", "b", "c", "d"]


def test_order_shared_input_visits_it_once():
    x, w = _leaves()
    sq = x * x
    m = sq + x
    n = w * m
    r = (n + w).sum()
    assert _order_names([r], locals()) == ["x", "sq", "m", "w", "n", "?Add", "r"]


def test_order_out_of_recording_order_runs_latest_first():
    x, _ = _leaves()
    a = x.exp()
    b = x.sin()
    c = b + a       # the DFS meets b first; torch's engine runs b (recorded later) first
    s = c.sum()
    assert _order_names([s], locals()) == ["x", "a", "b", "c", "s"]


def test_order_retained_graph_and_two_roots():
    x, w = _leaves()
    h = x * w
    v = h.view(3)
    s = v.sum()
    e = (h * 2).sum()
    s.backward(retain_graph=True)
    assert _order_names([s, e], locals()) == ["w", "x", "h", "v", "s", "?Mul", "e"]


def test_order_through_a_hollowed_graph_finds_the_live_tensors():
    x, _ = _leaves()
    h = x * 2
    v = h.view(3)
    s = v.sum()
    s.backward()      # the view and the sum saved nothing: hollowed, their inputs stand-ins
    assert _order_names([s], locals()) == ["h", "v", "s"]


def test_order_redirects_an_input_written_in_place_since():
    x, _ = _leaves()
    h = x * 1
    s1 = h.sum()
    h.add_(1)          # s1 used h's old value: its gradient goes to the stand-in
    s2 = (h * x).sum()
    t = s1 + s2
    assert _order_names([t], locals()) == ["x", "?Mul", "s1", "h", "?Mul", "s2", "t"]


def test_order_of_a_deep_chain_needs_no_recursion():
    x, _ = _leaves()
    y = x
    for _ in range(5000):       # deeper than Python's recursion limit
        y = y * 1.0
    order = tensor._topological_order([y.sum()])
    assert len(order) == 5002 and order[0] is x


def test_topological_order_is_short_and_its_helpers_the_guide_names_exist():
    guide = (Path(__file__).resolve().parents[1] / "docs" / "how_it_works.md").read_text(encoding="utf-8")
    for name in ("_topological_order", "_push_inputs", "_latest_first"):
        assert f"`{name}`" in guide and callable(getattr(tensor, name)), name
    source = inspect.getsource(tensor._topological_order)
    body = ast.parse(source).body[0].body[1:]          # below the docstring
    assert body[-1].end_lineno - body[0].lineno + 1 <= 16


def test_checkpoint_encode_decode_round_trip_every_marker_after_the_split():
    import argparse
    from collections import OrderedDict

    import numpy as np

    from tensorgan.checkpoint import decode, encode
    from tensorgan.errors import CheckpointError
    state = OrderedDict(w=tg.nn.Parameter(tg.ones(2)))
    state._metadata = OrderedDict({"": {"version": 1}})
    tree = {"state": state, "t": (1, tg.Size([2, 3])), "s": {3, 4}, "args": argparse.Namespace(lr=0.1),
            "opt": {0: {"step": tg.tensor([2.0], requires_grad=True)}}, "c": 1 + 2j, "a/b": np.arange(3)}
    meta, arrays = encode(tree, keep_tuples=True)
    back = decode(meta, arrays)
    assert type(back["state"]) is OrderedDict and back["state"]._metadata == {"": {"version": 1}}
    assert isinstance(back["state"]["w"], tg.nn.Parameter) and back["t"] == (1, tg.Size([2, 3]))
    assert back["s"] == {3, 4} and back["args"].lr == 0.1 and back["c"] == 1 + 2j
    assert back["opt"][0]["step"].requires_grad and back["a/b"].tolist() == [0, 1, 2]
    for bad in ('{"__set__": [], "__tuple__": []}', '{"__odict__": {}, "x": 1}', '{"__size__": [-1]}'):
        with pytest.raises(CheckpointError, match="malformed __"):
            decode(bad, {})
    with pytest.raises(CheckpointError, match="cannot save a whole Linear object"):
        encode({"m": tg.nn.Linear(1, 1)})
    with pytest.raises(CheckpointError, match="unsupported type object"):
        encode({"m": object()})


@pytest.mark.parametrize("fields, first_wrong", [
    ({"lr": 0, "conditional": True, "discriminator": "mlp", "beta1": 1.0}, "learning rate"),
    ({"ema_decay": 1.0, "conditional": True, "discriminator": "mlp"}, "ema_decay"),
    ({"conditional": True, "discriminator": "mlp", "beta2": 2}, "conditional=True"),
    ({"dropout": 1.0, "loss": "x", "seed": -1}, "dropout"),
    ({"loss": "wgan-gp", "seed": -1}, "batch-normalized critic"),
    ({"batch_size": 0, "steps": 0}, "steps must be"),
    ({"seed": True}, "seed must be"),
])
def test_train_config_validate_names_the_first_wrong_field_in_the_old_order(fields, first_wrong):
    from tensorgan.errors import ConfigError
    from tensorgan.train import TrainConfig
    with pytest.raises(ConfigError, match=first_wrong):
        TrainConfig(**fields).validate()
