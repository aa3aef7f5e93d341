"""The backward engine's core stays legible: ``_run_backward`` is the one-screen loop of
docs/how_it_works.md, each torch extra one ``_Walk`` step below it -- and every step still runs
where it should (checked against hand-derived gradients, not against the old code)."""
import ast
import inspect
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.autograd

tensor = sys.modules["tensorgan.tensor"]    # (tg.tensor is the factory function)
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "how_it_works.md"


def _body_lines(fn) -> int:
    """Lines of ``fn``'s body below its docstring, blank and comment-only lines left out."""
    source = textwrap.dedent(inspect.getsource(fn))
    body = ast.parse(source).body[0].body
    first = body[1] if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else body[0]
    lines = source.splitlines()[first.lineno - 1:]
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def test_run_backward_fits_one_screen():
    assert _body_lines(tensor._run_backward) <= 32


def test_walk_steps_the_guide_names_exist():
    named = set(re.findall(r"`_Walk\.(\w+)`", GUIDE.read_text(encoding="utf-8")))
    assert {"tensor_hooks", "hooked_backward", "stops_at", "without_gradient", "accumulate"} <= named
    for name in named:
        assert callable(getattr(tensor._Walk, name, None)), f"_Walk.{name}"


def test_module_docstring_reading_order_names_real_code():
    order = re.search(r"Read, in this order:(.*?)then one op", tensor.__doc__, re.S).group(1)
    for name in re.findall(r"``([\w.]+)``", order):     # names in tensor.py, or tensorgan's
        for owner in (tensor, tg):
            for part in name.split("."):
                owner = getattr(owner, part, None)
            if owner is not None:
                break
        assert owner is not None, name


@pytest.fixture
def steps_run(monkeypatch):
    """The names of the _Walk steps the next backward calls."""
    ran: list = []
    for name in ("without_gradient", "tensor_hooks", "stops_at", "to_leaf", "hooked_backward",
                 "accumulate", "finish"):
        step = getattr(tensor._Walk, name)

        def counted(self, *args, _step=step, _name=name):
            ran.append(_name)
            return _step(self, *args)
        monkeypatch.setattr(tensor._Walk, name, counted)
    return ran


def _x_and_w():
    x = tg.tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    w = tg.tensor(np.array([2.0, 3.0, -1.0]), requires_grad=True)
    return x, w


def test_plain_backward_runs_only_the_idea(steps_run):
    x, w = _x_and_w()
    ((x * w) + x).sum().backward()                      # x used twice: the sums add up
    np.testing.assert_array_equal(x.grad.numpy(), w.numpy() + 1)
    np.testing.assert_array_equal(w.grad.numpy(), x.numpy())
    assert set(steps_run) == {"to_leaf", "accumulate", "finish"}
    assert steps_run.count("accumulate") == 3 and steps_run.count("to_leaf") == 2


def test_tensor_and_node_hooks_run_as_their_steps(steps_run):
    x, w = _x_and_w()
    y = x * w
    y.register_hook(lambda g: g * 2)                   # d(2 * sum(x * w)) / dx = 2 w
    seen = []
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append(len(grad_inputs)))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * w.numpy())
    assert seen == [2] and "tensor_hooks" in steps_run and "hooked_backward" in steps_run


def test_autograd_grad_stops_where_nothing_was_asked_for(steps_run):
    x, w = _x_and_w()
    (gx,) = tg.autograd.grad(((x * w).tanh()).sum(), [x])
    np.testing.assert_allclose(gx.numpy(), w.numpy() * (1 - np.tanh(x.numpy() * w.numpy()) ** 2),
                               rtol=1e-14)
    assert "stops_at" in steps_run and "to_leaf" not in steps_run
    assert x.grad is None and w.grad is None


def test_a_zero_derivative_edge_reaches_a_leaf_as_zeros(steps_run):
    x = tg.tensor(np.array([-1.0, 2.0, 3.0]), requires_grad=True)
    (g,) = tg.autograd.grad(x.relu().sum(), [x], create_graph=True)   # its graph: only a mask
    g.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))
    assert "without_gradient" in steps_run


def test_accumulate_refuses_a_custom_functions_wrong_shape():
    class Bad(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g[:1]

    x = tg.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(tensor.ShapeError, match="shape"):
        Bad.apply(x).sum().backward()
