"""Session-26 review: regressions found reviewing the session's merged changes (backward order,
conv3d depth fold, mse_loss node, custom-Function gradient copies)."""
import numpy as np

import tensorgan as tg


def _hook_order(tensors: dict) -> list:
    log = []
    for name, t in tensors.items():
        t.register_hook(lambda g, name=name: log.append(name))
    return log


def test_view_written_in_place_runs_as_a_new_node():
    # torch regenerates a view's grad_fn after a write into it: the new node is the newest, so
    # its hook fires before those of tensors recorded before the write (was last: the view kept
    # its first number)
    a, b = (tg.tensor(np.arange(4.0) + k, dtype=tg.float64, requires_grad=True) for k in range(2))
    v = tg.cat([a, b])[2:6]
    first, second = a.sin(), b * 0.5       # recorded in that order, before the write
    v.mul_(1.5)
    log = _hook_order({"v": v, "first": first, "second": second})
    ((v * v).sum() + (second * second).sum() + (first * first).sum()).backward()
    assert log == ["v", "second", "first"]       # torch 2.13's order
    expected_a = np.zeros(4)
    expected_a[2:] = 2 * 1.5 * 1.5 * np.arange(2.0, 4.0)
    expected_a += 2 * np.sin(np.arange(4.0)) * np.cos(np.arange(4.0))
    np.testing.assert_allclose(a.grad.numpy(), expected_a)
