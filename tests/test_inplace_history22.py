"""Ops that used a tensor before it was written in place send their gradient to the value they
used, as torch's do when they saved nothing (a sum, a view, a roll): DiffAugment's
``x[i] = roll(x[i], s)``, ``x[0] = -x[0]``, ``s = a.sum(); a[0].mul_(2)``.  Where the op saved
the input (a product), backward stays refused, as torch's version check.  Expected gradients
are written from first principles or central differences (float64)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import AutogradError


def f64(values, requires_grad=True):
    return tg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def rand_offset(a, shifts):
    """DiffAugment's rand_offset pattern: each row rolled by its own shift, written back."""
    x = a * 1
    for i, s in enumerate(shifts):
        x[i] = tg.roll(x[i], s, 0)
    return x


def test_rows_rolled_in_place_get_the_rolled_back_gradient():
    a = f64(np.arange(8.0).reshape(2, 4))
    weights = np.arange(8.0).reshape(2, 4) + 1
    shifts = (1, 3)
    (rand_offset(a, shifts) * tg.tensor(weights)).sum().backward()
    # x[i, j] = a[i, (j - s_i) % 4]: d/da[i, k] = weights[i, (k + s_i) % 4]
    expected = np.stack([np.roll(weights[i], -s) for i, s in enumerate(shifts)])
    np.testing.assert_array_equal(a.grad.numpy(), expected)


def test_rolled_rows_match_central_differences():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((3, 5))
    weights = rng.standard_normal((3, 5))

    def loss(values, grad=False):
        a = f64(values, requires_grad=grad)
        out = (rand_offset(a, (2, 0, 4)) ** 2 * tg.tensor(weights)).sum()
        return a, out

    a, out = loss(base, grad=True)
    out.backward()
    numeric = np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        step = np.zeros_like(base)
        step[idx] = 1e-6
        numeric[idx] = (loss(base + step)[1].item() - loss(base - step)[1].item()) / 2e-6
    np.testing.assert_allclose(a.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_a_row_negated_in_place():
    a = f64(np.ones((2, 3)))
    x = a * 1
    x[0] = -x[0]
    x.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[-1, -1, -1], [1, 1, 1]])


def test_a_sum_taken_before_the_write_keeps_the_old_values_gradient():
    x = f64([0.5, -1.0, 2.0])
    a = x * 1
    s = a.sum()                  # used the old a (saves nothing)
    a[0].mul_(2)                 # a = [2 x0, x1, x2]
    (s + (a * a).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 + 2 * np.array([0.5, -1.0, 2.0]) * [4, 1, 1])


def test_a_view_used_before_its_base_was_written():
    x = f64([1.0, 2.0, 3.0, 4.0])
    y = x * 2
    head = y[:2].sum()           # a view of y, summed before y changes
    y.mul_(3)
    (head + y.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [8, 8, 6, 6])


def test_an_op_that_saved_the_old_value_stays_refused():
    x = f64([1.0, 2.0])
    early = x * 2
    used = early * early         # the product saved early's value
    early.add_(1)
    with pytest.raises(AutogradError, match="modified in place"):
        (used + early).sum().backward()


def test_second_backward_with_retain_graph_gives_the_same_gradient():
    a = f64(np.arange(6.0).reshape(2, 3))
    out = (rand_offset(a, (1, 2)) * tg.tensor(np.arange(6.0).reshape(2, 3))).sum()
    out.backward(retain_graph=True)
    first = a.grad.numpy().copy()
    a.grad = None
    out.backward()
    np.testing.assert_array_equal(a.grad.numpy(), first)
