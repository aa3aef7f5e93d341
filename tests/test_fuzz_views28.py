"""Cases found by differential fuzzing of views, in-place writes and autograd (session 28):
each a small program whose values / gradients are checked against NumPy or by hand."""
import numpy as np
import pytest

import tensorgan as tg


def _leaf(values):
    return tg.tensor(np.asarray(values, dtype=np.float64), dtype=tg.float64, requires_grad=True)


# --- an in-place write through a view of a 0-d op result ------------------------------------

@pytest.mark.parametrize("make_view", [lambda s: s.view(1), lambda s: s.unsqueeze(0),
                                       lambda s: s[None], lambda s: s.reshape(1, 1)])
def test_write_through_a_view_of_a_0d_result_replaces_its_gradient(make_view):
    x = _leaf([1.0, 2.0, 3.0, 4.0])
    s = x.sum()                  # 0-d: its gradients are NumPy scalars in the walk
    make_view(s).mul_(3.0)       # s = 3 * sum(x)
    (s * 2).backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0] * 4)
    assert s.item() == 30.0


def test_fill_through_a_view_of_a_0d_result_cuts_its_gradient():
    x = _leaf([1.0, 2.0])
    s = x.mean()
    s.unsqueeze(0).fill_(5.0)    # s no longer depends on x
    (s * 2 + x.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_setitem_on_a_0d_result():
    x = _leaf([1.0, 2.0, 3.0])
    s = x.sum()
    s[...] = x[0] * 4.0          # s = 4 * x0
    s.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 0.0, 0.0])


# --- view ops that move nothing still return views (torch's nodes) --------------------------

def test_t_of_a_vector_and_squeeze_of_a_non_unit_dim_are_views():
    x = _leaf([1.0, 2.0, 3.0])
    y = _leaf(np.ones((2, 3)))
    for v, node in ((x.t(), "TBackward0"), (y.squeeze(0), "SqueezeBackward1"),
                    (y.squeeze(-1), "SqueezeBackward1"), (y.squeeze((0, 1)), "SqueezeBackward2")):
        assert v is not x and v is not y and not v.is_leaf
        assert v.grad_fn.name() == node
    v = y.squeeze(0)
    v.retain_grad()              # the view's own retained gradient, not the leaf's
    ((v * 2).sum() + (y * 3).sum()).backward()
    np.testing.assert_allclose(y.grad.numpy(), np.full((2, 3), 5.0))
    np.testing.assert_allclose(v.grad.numpy(), np.full((2, 3), 2.0))


def test_flatten_over_one_dim_returns_the_tensor_itself():
    x = _leaf([1.0, 2.0])
    y = _leaf(np.ones((2, 3)))
    assert x.flatten() is x and y.flatten(1) is y and y.flatten(-2, 0) is y
    assert y.flatten().shape == (6,) and not y.flatten().is_leaf


# --- copy_ / fill_ read no values in backward: their source may be written afterwards -------

@pytest.mark.parametrize("write", ["copy", "fill"])
def test_source_of_copy_or_fill_written_in_place_before_backward(write):
    x = _leaf([[1.0], [2.0], [3.0]])
    y = x * 1.5
    z = x * 1.0
    if write == "copy":
        z.copy_(y)               # z = 1.5 x
    else:
        z.fill_(y[0, 0])         # z = 1.5 x0, each element (y[0, 0]: a view, written below)
    y.mul_(x)                    # y = 1.5 x**2: copy_'s / fill_'s backward never reads y
    (z.sum() * 2 + y.sum()).backward()
    dz = 3.0 if write == "copy" else np.array([[9.0], [0.0], [0.0]])
    np.testing.assert_allclose(x.grad.numpy(), dz + 3.0 * x.detach().numpy())


# --- as_strided counts in the storage even while an overlapping view of it is alive ---------

def test_as_strided_beside_a_live_unfold_view():
    base = np.arange(9.0).reshape(3, 3)
    x = _leaf(base)
    y = x + 0.0
    windows = y.unfold(1, 2, 1)            # 12 elements over 9: no storage of y's
    out = y.as_strided((2, 2), (1, 2))
    np.testing.assert_allclose(out.detach().numpy(), base.reshape(-1)[[[0, 2], [1, 3]]])
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy().reshape(-1), [1, 1, 1, 1, 0, 0, 0, 0, 0])
    assert windows.shape == (3, 2, 2)


def test_index_add_of_a_0d_source_is_an_index_error():
    x = tg.ones(1, 3)
    with pytest.raises(IndexError, match="source is 0-d"):
        x.index_add_(0, tg.tensor([0, 0]), tg.tensor(2.0))
    with pytest.raises(RuntimeError, match="source must have shape"):
        x.index_add_(0, tg.tensor([0, 0]), tg.ones(2, 2))


def test_write_through_one_view_with_a_transposed_view_alive():
    w = np.arange(16.0).reshape(4, 4)
    x = _leaf(np.ones((4, 4)))
    y = x * 1.0
    flat = y.unsqueeze(0)
    yt = y.t()                   # its gradient reaches y's CopySlices transposed (F order)
    flat.mul_(2.0)
    (yt * tg.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0 * w.T)


def test_as_strided_beside_a_live_transposed_view_counts_in_memory_order():
    base = np.arange(8.0).reshape(2, 4)
    x = tg.tensor(base)
    xt = x.t()                   # alive: its C order is not the memory's
    np.testing.assert_allclose(x.as_strided((3,), (1,)).numpy(), [0.0, 1.0, 2.0])
    np.testing.assert_allclose(x.as_strided((2, 2), (4, 1)).numpy(), base[:, :2])
    assert xt.shape == (4, 2)
