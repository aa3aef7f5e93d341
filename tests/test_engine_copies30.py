"""The backward engine copies a gradient array only where someone else holds it: the caller's
``grad_outputs`` / ``backward(g)`` array is handed to the walk as it is (an op's backward makes a
new array from it anyway) and autograd.grad returns an op's fresh result as it is -- yet a leaf's
``.grad`` and autograd.grad's results never alias the caller's array, a hook's, each other or a
read-only view, so writing into one changes nothing else (torch aliases some of these)."""
import tracemalloc

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan import autograd

SHAPE = (256, 1024)                     # float32: 1 MiB, far above the walk's own small objects
FULL = 256 * 1024 * 4


def _peak(fn) -> int:
    """Bytes allocated at the peak of ``fn()`` above what was allocated when it began."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.fixture
def xg():
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal(SHAPE).astype(np.float32), requires_grad=True)
    return x, tg.tensor(rng.standard_normal(SHAPE).astype(np.float32))


# -- the copies removed: one full-size array (Mul's backward result) is all the engine allocates

def test_grad_with_grad_outputs_allocates_only_the_ops_result(xg):
    x, g = xg
    y = x * 2
    assert _peak(lambda: autograd.grad(y, x, grad_outputs=g)) < 1.5 * FULL   # was 3 arrays


def test_grad_of_a_sum_returns_the_ops_result_uncopied(xg):
    x, _ = xg
    y = (x * 2).sum()
    assert _peak(lambda: autograd.grad(y, x)) < 1.5 * FULL                   # was 2 arrays


def test_backward_with_a_gradient_allocates_only_the_ops_result(xg):
    x, g = xg
    y = x * 2
    assert _peak(lambda: y.backward(g)) < 1.5 * FULL                        # was 2 arrays
    np.testing.assert_array_equal(x.grad.numpy(), g.numpy() * 2)


# -- the copies kept: where the array is someone else's

def test_a_leafs_grad_does_not_alias_the_callers_gradient(xg):
    x, g = xg
    before = g.numpy().copy()
    (x + 0).backward(g)                        # Add passes the caller's array on to the leaf
    assert not np.shares_memory(x.grad.numpy(), g.numpy())
    (x.view(-1)).backward(g.view(-1))          # the second adds into .grad in place
    np.testing.assert_array_equal(g.numpy(), before)
    np.testing.assert_array_equal(x.grad.numpy(), 2 * before)


def test_a_leafs_grad_does_not_alias_the_array_a_gradient_view_views(xg):
    x, g = xg
    x.view(-1).backward(g.view(-1))            # the seed is a view: its owner is g's array
    assert not np.shares_memory(x.grad.numpy(), g.numpy())
    r, = autograd.grad(x.view(-1), x, grad_outputs=g.view(-1))
    assert not np.shares_memory(r.numpy(), g.numpy())


def test_grad_result_does_not_alias_the_callers_grad_outputs(xg):
    x, g = xg
    before = g.numpy().copy()
    for y in (x + 0, x.view(-1), x):
        r, = autograd.grad(y, x, grad_outputs=g.view(y.shape), allow_unused=True)
        if r is None:                          # grad(x, x): no op between
            continue
        r.add_(1)
        np.testing.assert_array_equal(g.numpy(), before)
    r, = autograd.grad(x + 0, x, grad_outputs=g, create_graph=True)
    r.add_(1)
    np.testing.assert_array_equal(g.numpy(), before)


def test_grad_results_do_not_alias_each_other():
    a, b = tg.randn(3, 4, requires_grad=True), tg.randn(3, 4, requires_grad=True)
    ra, rb = autograd.grad((a + b) * 2, [a, b], grad_outputs=tg.ones(3, 4))  # Add: g to both
    rx1, rx2 = autograd.grad(a * 3, [a, a], grad_outputs=tg.ones(3, 4))     # one input twice
    for one, other in ((ra, rb), (rx1, rx2)):
        assert not np.shares_memory(one.numpy(), other.numpy())
        one.add_(1)
        np.testing.assert_array_equal(other.numpy(), one.numpy() - 1)


def test_grad_of_a_sum_is_writable():
    x = tg.randn(3, 4, requires_grad=True)
    r, = autograd.grad(x.sum(), x)             # Sum's backward broadcasts a read-only 1
    r.add_(1)
    np.testing.assert_array_equal(r.numpy(), np.full((3, 4), 2, np.float32))


def test_grad_result_does_not_alias_what_a_hook_kept():
    x = tg.randn(3, 4, requires_grad=True)
    kept = []
    y = x * 3
    y.register_hook(lambda t: kept.append(t))
    r, = autograd.grad(y * 2, y, grad_outputs=tg.ones(3, 4))
    r.add_(1)
    np.testing.assert_array_equal(kept[0].numpy(), np.full((3, 4), 2, np.float32))


def test_leaves_fed_one_array_get_their_own_grads():
    a, b = tg.randn(3, 4, requires_grad=True), tg.randn(3, 4, requires_grad=True)
    (a + b.view(12).view(3, 4)).backward(tg.ones(3, 4))
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())


def test_retain_grad_on_the_root_copies_the_callers_gradient():
    x = tg.randn(3, 4, requires_grad=True)
    y, g = x * 2, tg.ones(3, 4)
    y.retain_grad()
    y.backward(g)
    g.add_(1)
    np.testing.assert_array_equal(y.grad.numpy(), np.ones((3, 4), np.float32))


# -- no op's backward writes into the gradient it is given (the caller's array, now uncopied)

_CONV, _BN, _LN = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(3), nn.LayerNorm(5)
OPS = {
    "relu_": lambda x: F.relu(x * 1, inplace=True),
    "leaky_relu_": lambda x: F.leaky_relu(x * 1, 0.2, inplace=True),
    "gelu": F.gelu, "tanh": lambda x: x.tanh(), "add_twice": lambda x: x + x,
    "expand": lambda x: x[:1].expand(*x.shape), "index": lambda x: x[[0, 1, 0]],
    "conv": _CONV, "batch_norm": _BN, "layer_norm": _LN, "softmax": lambda x: F.softmax(x, 1),
    "max_pool": lambda x: F.max_pool2d(x, 2), "interpolate": lambda x: F.interpolate(x, scale_factor=2),
    "cat": lambda x: tg.cat([x, x * 2]), "mse_none": lambda x: F.mse_loss(x, x.detach() * 0, reduction="none"),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_backward_leaves_the_callers_gradient_alone(name):
    x = tg.randn(2, 3, 5, 5, requires_grad=True)
    y = OPS[name](x)
    g = tg.randn(*y.shape)
    before = g.numpy().copy()
    y.backward(g, retain_graph=True)
    autograd.grad(y, x, grad_outputs=g)
    np.testing.assert_array_equal(g.numpy(), before)
