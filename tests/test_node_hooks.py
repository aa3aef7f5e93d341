"""Hooks on graph nodes: a leaf's AccumulateGrad (one per leaf while alive) and grad_fn's
register_prehook / register_hook, with torch's signatures and order."""
import gc
import weakref

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.tensor import AccumulateGrad
from tensorgan.errors import AutogradError, InputTypeError


def test_one_node_per_leaf_while_alive():
    p = tg.ones(3, requires_grad=True)
    y = (p * 2).sum()
    acc = y.grad_fn.next_functions[0][0].next_functions[0][0]
    assert acc.variable is p and acc.next_functions == () and acc.metadata == {}
    assert (p * 1).grad_fn.next_functions[0][0] is acc
    # the leaf holds its node weakly: no cycle keeps either alive
    ref = weakref.ref(acc)
    del acc, y
    gc.collect()
    assert ref() is None
    assert isinstance((p * 1).grad_fn.next_functions[0][0], AccumulateGrad)


def test_hook_sees_the_incoming_gradient_after_accumulation():
    p = tg.ones(3, requires_grad=True)
    y = (p * 2).sum()
    acc = p.expand_as(p).grad_fn.next_functions[0][0]      # the all-reduce libraries' idiom
    seen = []
    acc.register_hook(lambda gi, go: seen.append((gi, go[0].numpy().copy(), p.grad.numpy().copy())))
    y.backward(retain_graph=True)
    y.backward()
    assert [s[0] for s in seen] == [(), ()]
    np.testing.assert_array_equal(seen[0][1], [2, 2, 2])
    np.testing.assert_array_equal(seen[0][2], [2, 2, 2])     # after the gradient was added
    np.testing.assert_array_equal(seen[1][1], [2, 2, 2])
    np.testing.assert_array_equal(seen[1][2], [4, 4, 4])


def test_prehook_runs_before_and_may_replace_the_gradient():
    p = tg.ones(2, requires_grad=True)
    acc = (p * 1).grad_fn.next_functions[0][0]
    before = []
    acc.register_prehook(lambda go: before.append(p.grad))
    handle = acc.register_prehook(lambda go: (go[0] * 10,))
    (p * 3).sum().backward()
    assert before == [None]
    np.testing.assert_array_equal(p.grad.numpy(), [30, 30])
    handle.remove()
    p.grad = None
    (p * 3).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [3, 3])


def test_hook_removal_and_bad_hooks():
    p = tg.ones(2, requires_grad=True)
    acc = (p * 1).grad_fn.next_functions[0][0]
    calls = []
    handle = acc.register_hook(lambda gi, go: calls.append(1))
    handle.remove()
    (p * 3).sum().backward()
    assert calls == []
    with pytest.raises(InputTypeError, match="function"):
        acc.register_hook(3)
    acc.register_hook(lambda gi, go: go)
    with pytest.raises(AutogradError, match="must return None"):
        (p * 3).sum().backward()


def test_hook_fires_for_backward_with_inputs():
    p = tg.ones(2, requires_grad=True)
    acc = (p * 1).grad_fn.next_functions[0][0]
    seen = []
    acc.register_hook(lambda gi, go: seen.append(go[0].numpy().copy()))
    (p * 5).sum().backward(inputs=[p])
    np.testing.assert_array_equal(seen[0], [5, 5])


def _graph():
    a = tg.tensor([1., 2., 3.], requires_grad=True)
    b = tg.tensor([4., 5., 6.], requires_grad=True)
    y = a * b
    z = y + tg.tensor([1., 1., 1.])
    return a, b, y, z


def test_node_hooks_order_and_arguments():
    a, b, y, z = _graph()
    out = []
    y.grad_fn.register_prehook(lambda go: out.append(("pre", [g.tolist() for g in go])))
    y.grad_fn.register_hook(lambda gi, go: out.append(
        ("post", [g.tolist() for g in gi], [g.tolist() for g in go])))
    z.grad_fn.register_hook(lambda gi, go: out.append(
        ("z", [None if g is None else g.tolist() for g in gi])))
    z.sum().backward()
    # z's own hook first; the constant's slot is None; y's pre-hook before its backward
    assert out == [("z", [[1, 1, 1], None]), ("pre", [[1, 1, 1]]),
                   ("post", [[4, 5, 6], [1, 2, 3]], [[1, 1, 1]])]


def test_node_hooks_replace_gradients():
    a, b, y, z = _graph()
    handle = y.grad_fn.register_hook(lambda gi, go: (gi[0] * 2, gi[1]))
    z.sum().backward(retain_graph=True)
    np.testing.assert_array_equal(a.grad.numpy(), [8, 10, 12])
    np.testing.assert_array_equal(b.grad.numpy(), [1, 2, 3])
    handle.remove()
    y.grad_fn.register_prehook(lambda go: (go[0] * 3,))
    a.grad = b.grad = None
    z.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [12, 15, 18])
    np.testing.assert_array_equal(b.grad.numpy(), [3, 6, 9])


def test_node_hooks_in_graph_mode_stay_differentiable():
    x = tg.tensor([2.0], requires_grad=True, dtype=tg.float64)
    y = x ** 3
    y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
    (g,) = tg.autograd.grad(y, x, create_graph=True)      # 2 * 3x^2 = 24
    np.testing.assert_allclose(g.numpy(), [24.0])
    (gg,) = tg.autograd.grad(g, x)                        # d/dx 6x^2 = 12x = 24 (no hook: run once)
    np.testing.assert_allclose(gg.numpy(), [24.0])


def test_node_hook_errors_name_what_was_wrong():
    from tensorgan.errors import ShapeError
    a, b, y, z = _graph()
    y.grad_fn.register_hook(lambda gi, go: (gi[0],))
    with pytest.raises(AutogradError, match="one gradient per next_functions entry"):
        z.sum().backward(retain_graph=True)
    a, b, y, z = _graph()
    y.grad_fn.register_prehook(lambda go: (go[0][:2],))
    with pytest.raises(ShapeError, match=r"pre-hook on MulBackward0"):
        z.sum().backward()
    a, b, y, z = _graph()
    z.sum().backward()
    with pytest.raises(AutogradError, match="already freed"):
        y.grad_fn.register_hook(lambda gi, go: None)


def test_graph_node_type():
    from tensorgan.autograd.graph import Node
    a, b, y, z = _graph()
    assert isinstance(z.grad_fn, Node) and isinstance(z.grad_fn.next_functions[0][0], Node)
    assert isinstance(a.expand_as(a).grad_fn.next_functions[0][0], Node)
    assert not isinstance(a, Node)
