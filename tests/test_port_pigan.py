"""pi-GAN port (marcoamonteiro/pi-GAN, lucidrains/pi-GAN-pytorch): what broke or differed from
torch, pinned without torch (expected values worked out by hand / NumPy)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import AutogradError


def _a(shape, seed=0):
    return tg.tensor(np.random.RandomState(seed).random_sample(shape), requires_grad=True)


def test_augmented_index_write_on_a_tracked_tensor_backpropagates():
    # fancy_integration(last_back=True): weights[:, :, -1] += (1 - weights_sum)
    a = _a((2, 3, 4))
    w = a * 2
    ws = w.sum(2)
    w[:, :, -1] += (1 - ws)
    W = np.arange(24.0).reshape(2, 3, 4)
    (w * tg.tensor(W)).sum().backward()
    an = a.detach().numpy()
    expect_w = 2 * an
    expect_w[..., -1] = 1 - 2 * an[..., :3].sum(-1)
    np.testing.assert_allclose(w.detach().numpy(), expect_w, rtol=1e-12)
    g = 2 * W - 2 * W[..., -1:]                 # d/da_k of 2a_k W_k + (1 - 2 sum_{j<3} a_j) W_3
    g[..., -1] = 0
    np.testing.assert_allclose(a.grad.numpy(), g, rtol=1e-12, atol=1e-12)


def test_chained_augmented_row_writes_backpropagate():
    a = _a((3, 4), 1)
    w = a * 2
    w[1] += w[0]
    w[2] += w[1]
    W = np.arange(12.0).reshape(3, 4)
    (w * tg.tensor(W)).sum().backward()
    expect = np.stack([2 * (W[0] + W[1] + W[2]), 2 * (W[1] + W[2]), 2 * W[2]])
    np.testing.assert_allclose(a.grad.numpy(), expect, rtol=1e-12)


def test_augmented_index_write_with_a_tracked_value_and_double_backward():
    a, b = _a((3, 4), 2), _a((3,), 3)
    w = a * 2
    w[:, 1] *= b
    w[:, -1] += b
    w[:, -1] += b                               # twice into the same columns
    loss = (w ** 2).sum()
    ga, gb = tg.autograd.grad(loss, (a, b), create_graph=True)
    an, bn = a.detach().numpy(), b.detach().numpy()
    # loss = sum_{k!=1,3} 4a_k^2 + 4 a_1^2 b^2 + (2 a_3 + 2b)^2 per row
    ea = 8 * an
    ea[:, 1] = 8 * an[:, 1] * bn ** 2
    ea[:, 3] = 4 * (2 * an[:, 3] + 2 * bn)
    eb = 8 * an[:, 1] ** 2 * bn + 4 * (2 * an[:, 3] + 2 * bn)
    np.testing.assert_allclose(ga.detach().numpy(), ea, rtol=1e-12)
    np.testing.assert_allclose(gb.detach().numpy(), eb, rtol=1e-12)
    gb.sum().backward()                         # d/db sum_rows(eb) = 8 a_1^2 + 8
    np.testing.assert_allclose(b.grad.numpy(), 8 * an[:, 1] ** 2 + 8, rtol=1e-12)


def test_augmented_index_write_still_refused_where_an_op_saved_the_written_values():
    a = _a((3, 4), 4)
    w = a * 2
    w[:, 1] /= w[:, 0]      # the division saved the divisor, a view of w, which the write
    #                         back into w[:, 1] bumps: torch refuses this backward too
    with pytest.raises(AutogradError, match="modified in place"):
        w.sum().backward()
    e = _a((3, 4), 5).exp()                     # exp saved its output
    e[:, -1] += 1
    with pytest.raises(AutogradError, match="saved for backward"):
        e.sum().backward()


def test_index_put_assignment_refuses_another_dtype_as_torch():
    # fancy_integration(fill_mode='debug') under float64: rgb[mask] = tensor([1., 0, 0]) (float32)
    from tensorgan.errors import DTypeError
    x = tg.zeros(3, 3, dtype=tg.float64)
    m = tg.tensor([True, False, True])
    for key, value in [(m, tg.tensor([1.0, 0, 0])), ([0, 2], tg.ones(3)), ((slice(None), [0, 2]), tg.ones(3, 2)),
                       (m, tg.ones(3, dtype=tg.int64))]:
        with pytest.raises(DTypeError, match="dtypes match"):
            x[key] = value
    assert x.abs().sum().item() == 0
    z = tg.zeros(3, 3, dtype=tg.int64)
    with pytest.raises(DTypeError, match="dtypes match"):
        z[m] = tg.ones(3)
    x[m] = tg.tensor(2.0)                       # a 0-dim value casts
    x[1:2] = tg.tensor([[3.0, 3, 3]])           # a slice is a copy_: casts
    x[1] += tg.ones(3)                          # (basic key)
    assert x.tolist() == [[2.0] * 3, [4.0] * 3, [2.0] * 3]
    x[m] = tg.ones(3, dtype=tg.float64) * 5     # the same dtype: written
    assert x[0].tolist() == [5.0] * 3
