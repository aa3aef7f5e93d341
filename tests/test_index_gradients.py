"""Indexing's gradient is summed in place into the walk's own buffers (ops.SparseGrad): the
sums must be right when slices repeat, when a gradient array is shared between two inputs, and
in graph mode; expected values by hand or from NumPy."""
import numpy as np

import tensorgan as tg


def test_many_slices_sum_to_the_dense_gradient():
    a = np.random.default_rng(0).standard_normal((7, 3))
    x = tg.tensor(a, requires_grad=True)
    loss = sum((row * row).sum() * (i + 1) for i, row in enumerate(x.unbind(0)))
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * a * np.arange(1, 8)[:, None], rtol=1e-12)


def test_repeated_advanced_index_and_overlapping_slices_add_up():
    x = tg.tensor(np.arange(4.0), requires_grad=True)
    (x[[0, 0, 3]].sum() + x[1:3].sum() * 2 + x[:2].sum() + x[0] * 5).backward()
    assert x.grad.tolist() == [2 + 1 + 5, 2 + 1, 2, 1]


def test_a_shared_gradient_array_is_never_written_in_place():
    # Add hands the same gradient array to both of its inputs; each then also gets a slice's
    # gradient: the sum must go into a copy, or p's gradient would leak into q's.
    p = tg.zeros(3, requires_grad=True)
    q = tg.zeros(3, requires_grad=True)
    s = p + q
    (s.sum() + p[0] * 10 + q[2] * 100).backward()
    assert p.grad.tolist() == [11.0, 1.0, 1.0] and q.grad.tolist() == [1.0, 1.0, 101.0]


def test_slices_then_dense_then_slices_and_graph_mode():
    a = np.array([1.0, -2.0, 3.0])
    x = tg.tensor(a, requires_grad=True)
    y = x * 1.0
    (y[0] * 3 + (y * y).sum() + y[2] * 4 + y[0]).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * a + np.array([4.0, 0.0, 4.0]))
    z = tg.tensor(a, requires_grad=True)
    (g,) = tg.autograd.grad((z[0] ** 3 + z[1:].pow(2).sum()), z, create_graph=True)
    np.testing.assert_allclose(g.numpy(), [3 * a[0] ** 2, 2 * a[1], 2 * a[2]])
    g.sum().backward()                                       # second derivative: 6 z0, 2, 2
    np.testing.assert_allclose(z.grad.numpy(), [6 * a[0], 2.0, 2.0])
