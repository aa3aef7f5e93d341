"""A tracked in-place write into a ``.detach()`` alias (torch allows it: ``p.detach().add_(m)``
with ``m`` requiring grad): the alias takes the new node, the tensor it was detached from keeps
its own, and an op that saved the memory refuses backward afterwards (torch's version check)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import AutogradError


def test_alias_of_a_constant_takes_the_node_and_writes_the_memory():
    n = tg.ones(3)
    m = tg.ones(3, requires_grad=True)
    a = n.detach()
    a.add_(m)
    (a * 3).sum().backward()
    assert n.tolist() == [2.0, 2.0, 2.0]          # the shared memory was written
    assert a.requires_grad and a.grad_fn is not None and not n.requires_grad
    np.testing.assert_array_equal(m.grad.numpy(), [3.0, 3.0, 3.0])


def test_alias_of_a_parameter_leaves_the_parameter_out_of_the_graph():
    p = tg.ones(3, requires_grad=True)
    m = tg.full((3,), 2.0, requires_grad=True)
    a = p.detach()
    a.mul_(m)                                      # a = p_old * m
    (a * a).sum().backward()                       # d/dm (p m)^2 = 2 p^2 m = 4
    assert p.tolist() == [2.0, 2.0, 2.0] and p.grad is None and p.grad_fn is None
    np.testing.assert_array_equal(m.grad.numpy(), [4.0, 4.0, 4.0])


def test_two_writes_chain_through_the_alias():
    n = tg.ones(3)
    m = tg.ones(3, requires_grad=True)
    a = n.detach()
    a.add_(m)
    a.mul_(m)                                      # a = (1 + m) m: da/dm = 1 + 2m = 3
    a.sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), [3.0, 3.0, 3.0])
    assert n.tolist() == [2.0, 2.0, 2.0]


def test_the_original_result_keeps_its_own_graph():
    x = tg.ones(3, requires_grad=True)
    n = x * 2
    m = tg.full((3,), 2.0, requires_grad=True)
    a = n.detach()
    a.add_(m)
    (n * 1).sum().backward()                       # n's node (x * 2) saved nothing of n
    assert n.tolist() == [4.0, 4.0, 4.0]
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    assert m.grad is None


def test_ema_idiom_with_grad_mode_on():
    p = tg.nn.Parameter(tg.ones(3))
    q = tg.nn.Parameter(tg.full((3,), 3.0))
    p.detach().mul_(0.5).add_(q, alpha=0.5)
    assert p.tolist() == [2.0, 2.0, 2.0] and p.grad_fn is None and p.is_leaf


@pytest.mark.parametrize("make", [lambda x: x.exp(), lambda x: x.sigmoid()])
def test_an_op_that_saved_the_memory_refuses_backward(make):
    x = tg.ones(3, requires_grad=True)
    n = make(x)                                    # exp / sigmoid saved their output
    m = tg.full((3,), 2.0, requires_grad=True)
    n.detach().mul_(m)
    with pytest.raises(AutogradError, match="modified in place"):
        n.sum().backward()


def test_an_op_that_saved_the_input_refuses_backward():
    p = tg.ones(3, requires_grad=True)
    m = tg.full((3,), 2.0, requires_grad=True)
    y = (p * p).sum()
    p.detach().mul_(m)
    with pytest.raises(AutogradError, match="modified in place"):
        y.backward()


def test_refused_while_a_partial_view_of_the_original_is_alive():
    n = tg.ones(4)
    a = n.detach()
    v = n[:2]                                      # whose view it is decides torch's answer
    m = tg.ones(4, requires_grad=True)
    with pytest.raises(AutogradError, match=r"\.detach\(\) alias.*view of part"):
        a.add_(m)
    assert n.tolist() == [1.0, 1.0, 1.0, 1.0] and v.tolist() == [1.0, 1.0]
    del v
    a.add_(m)                                      # the view gone: allowed
    assert n.tolist() == [2.0, 2.0, 2.0, 2.0]


def test_a_partial_view_of_the_alias_follows_its_write():
    n = tg.ones(4)
    a = n.detach()
    v = a[:2]                                      # a view of the alias: torch's follows
    m = tg.ones(4, requires_grad=True)
    a.add_(m)
    assert n.tolist() == [2.0] * 4 and v.requires_grad and not n.requires_grad
    (v * tg.tensor([3.0, 5.0])).sum().backward()
    assert m.grad.tolist() == [3.0, 5.0, 0.0, 0.0]
