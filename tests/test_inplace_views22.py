"""In-place writes into views that torch allows (session 22): a view of a preallocated buffer
that needs no grad written with a value that does (``buf[:2].add_(y)``, ``out[:, i].copy_(f(x))``),
views made by diagonal / unfold / as_strided / a no-op expand, the other live views of the base
following the write (torch regenerates their grad_fn), gradient hooks and retain_grad across the
write; and the writes torch refuses, still refused.  Gradients are checked against closed forms
or central finite differences in float64."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import AutogradError, InputTypeError

RNG = np.random.default_rng(22)
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal(4)


def _leaves():
    return (tg.tensor(X.copy(), dtype=tg.float64, requires_grad=True),
            tg.tensor(Y.copy(), dtype=tg.float64, requires_grad=True))


def _zeros(*shape):
    return tg.zeros(*shape, dtype=tg.float64)


def _check_fd(f, eps=1e-6, rtol=1e-6, atol=1e-7):
    """f(x, y) -> scalar loss: backward's gradients equal central finite differences."""
    x, y = _leaves()
    f(x, y).backward()
    for which, got in ((0, x.grad), (1, y.grad)):
        base = [X.copy(), Y.copy()]
        want = np.zeros_like(base[which])
        for i in np.ndindex(*base[which].shape):
            vals = []
            for step in (eps, -eps):
                p = [b.copy() for b in base]
                p[which][i] += step
                with tg.no_grad():
                    vals.append(float(f(tg.tensor(p[0], dtype=tg.float64), tg.tensor(p[1], dtype=tg.float64))))
            want[i] = (vals[0] - vals[1]) / (2 * eps)
        got = np.zeros_like(want) if got is None else got.numpy()
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# ------------------------------------------------------------------ preallocated buffers
def test_view_of_a_buffer_written_with_a_value_that_requires_grad():
    buf = _zeros(4)
    y = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    buf[:2].add_(y)                                   # was an AutogradError
    assert buf.requires_grad and buf.grad_fn.name() == "torch::autograd::CopySlices"
    assert buf.tolist() == [1, 2, 0, 0]
    (buf * tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=tg.float64)).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [1, 2])


def test_view_of_a_buffer_used_after_the_write_carries_the_gradient():
    buf = _zeros(4)
    y = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    v = buf[:2]
    v.add_(y)
    assert v.requires_grad
    (v * 3).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [3, 3])


def test_buffer_filled_column_by_column_through_views():
    def f(x, y):
        out = _zeros(3, 5)
        for i in range(5):
            out[:, i].copy_((x * (i + 1)).sum(1) if i % 2 else x[:, i % 4].exp())
        out[1].mul_(y[:1])
        return (out ** 2).sum()
    _check_fd(f)


def test_setitem_through_a_view_of_a_buffer_and_nested_views():
    def f(x, y):
        b = _zeros(3, 4)
        r = b[1]
        r[1:3] = y[:2] * 2
        r[0] = x[0, 0]
        b.view(12)[8:].add_(x[2] * y)
        return (b * b).sum() + (r ** 3).sum()
    _check_fd(f)


# ------------------------------------------------------------------ other kinds of view
def test_diagonal_of_an_intermediate_written_in_place():
    x0 = tg.tensor(X[:, :3].copy(), dtype=tg.float64, requires_grad=True)
    x = x0 * 1
    x.diagonal().mul_(2)                               # was an AutogradError
    (x * x).sum().backward()
    scale = np.where(np.eye(3, dtype=bool), 2.0, 1.0)
    np.testing.assert_allclose(x0.grad.numpy(), 2 * X[:, :3] * scale ** 2)


def test_diagonal_of_a_buffer_and_double_backward():
    y = tg.tensor(Y.copy(), dtype=tg.float64, requires_grad=True)
    b = _zeros(4, 4)
    b.diagonal().copy_(y * y)
    s = (b ** 2).sum()                                 # sum y^4
    g, = tg.autograd.grad(s, y, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 4 * Y ** 3)
    (g ** 2).sum().backward()                          # 16 sum y^6
    np.testing.assert_allclose(y.grad.numpy(), 96 * Y ** 5)
    _check_fd(lambda x, y: ((lambda b: (b.diagonal().copy_(y), b[0].add_(y), (b @ b).sum())[-1])(_zeros(4, 4))))


def test_unfold_is_a_view_as_torch():
    x = tg.arange(6.0)
    x.unfold(0, 2, 2).mul_(10)                         # was a copy: x stayed as it was
    assert x.tolist() == [0, 10, 20, 30, 40, 50]
    u = x.unfold(0, 3, 1)                              # overlapping windows: a view too
    x[1] = -1.0
    assert u[0].tolist() == [0, -1, 20] and u[1].tolist() == [-1, 20, 30]
    u.mul_(2)              # torch's: each element doubled once per window it is in (h23b)
    assert x.tolist() == [0, -4, 160, 240, 160, 100]


def test_unfold_and_as_strided_views_of_intermediates_written():
    _check_fd(lambda x, y: (lambda a: (a.unfold(1, 2, 2).mul_(y[:2]), (a * a).sum())[-1])(x * 1))
    _check_fd(lambda x, y: (lambda b: (b.unfold(0, 2, 2)[:, 0].copy_(y), b.exp().sum())[-1])(_zeros(8)))
    _check_fd(lambda x, y: (lambda a: (a.as_strided((2, 2), (4, 2), 1).add_(y[:2]),
                                       (a ** 3).sum())[-1])(x * 1))


def test_as_strided_of_a_contiguous_tensor_is_a_view():
    x = tg.arange(4.0)
    x.as_strided((2,), (2,)).mul_(3)
    assert x.tolist() == [0, 1, 6, 3]


def test_expand_that_repeats_nothing_is_writable():
    x = tg.zeros(2, 2)
    x.unsqueeze(0).expand(1, 2, 2).add_(1)             # torch: a view with no repeated element
    assert x.tolist() == [[1, 1], [1, 1]]
    _check_fd(lambda x, y: (lambda a: (a.unsqueeze(0).expand(1, 3, 4).mul_(y), (a * a).sum())[-1])(x * 1))


# ------------------------------------------------------------------ the other views follow
def test_live_views_of_an_intermediate_follow_a_write():
    def f(x, y):
        a = x * 1
        v, e, d, t = a[1], a[0].expand(2, 4), a[:, :3].diagonal(), a.t()
        a[1:, 1:].mul_(y[1:])
        return (v ** 2).sum() + (e ** 3).sum() + d.exp().sum() + (t[2] ** 2).sum()
    _check_fd(f)


def test_live_views_of_a_buffer_follow_a_write():
    def f(x, y):
        b = _zeros(4, 4)
        r, c, d = b[2], b[:, 1], b.diagonal()
        b[1:3].add_(x[:2])
        return (r ** 2).sum() + (c ** 3).sum() + d.sum() + b.sum()
    _check_fd(f)
    x, _ = _leaves()
    b = _zeros(4, 4)
    r = b[3]
    b[:2].add_(x[:2])
    assert r.requires_grad                              # (torch: every view of the base does)


def test_base_written_while_a_view_is_alive_then_the_view_used():
    x0 = tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=tg.float64, requires_grad=True)
    x = x0 * 1
    v = x[1:3]
    x.mul_(2)                                          # was refused at backward
    (v * v).sum().backward()
    np.testing.assert_allclose(x0.grad.numpy(), [0, 16, 24, 0])     # d/dx0 of (2 x0)^2


# ------------------------------------------------------------------ hooks and retain_grad
def test_hook_on_the_base_sees_the_old_values_gradient():
    x0 = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    seen = []
    x = x0 * 1
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    x[1:].mul_(3)                                      # was refused ("hooks")
    (x * x).sum().backward()
    new = np.array([1.0, 6.0, 9.0])
    np.testing.assert_allclose(seen[0], 2 * new * [1, 3, 3])
    seen.clear()
    x = x0 * 1
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.mul_(3)
    (x * x).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * (3 * x0.detach().numpy()) * 3)


def test_retain_grad_keeps_the_newest_values_gradient():
    x0 = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    x = x0 * 1
    x.retain_grad()
    x[1:].mul_(3)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 12, 18])
    x = x0 * 1
    v = x[1:]
    v.retain_grad()
    v.mul_(3)
    (x * x).sum().backward()
    assert v.grad is None                              # the new v is not on the path (torch)
    x = x0 * 1
    v = x[1:]
    v.retain_grad()
    seen = []
    v.register_hook(lambda g: seen.append(g))
    v.mul_(3)
    (v * v).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), [12, 18])
    assert seen == []                                  # torch: the view's old node never runs


# ------------------------------------------------------------------ still refused
def test_writes_torch_refuses_stay_refused():
    x, y = _leaves()
    a = x * 1
    s = (a * a).sum()                                  # saved a
    a[0].mul_(2)
    with pytest.raises(AutogradError, match="modified in place"):
        s.backward()
    a = x.exp()
    a[0].mul_(2)
    with pytest.raises(AutogradError, match="saved for backward"):
        a.sum().backward()
    a = y * 1
    with pytest.raises(AutogradError, match="single memory location"):
        a.expand(2, 4).mul_(2)
    with pytest.raises(AutogradError, match="single memory location"):
        (y * 1).unfold(0, 2, 1).mul_(2)
    with pytest.raises(AutogradError, match="leaf"):
        x.diagonal().mul_(2)
    with pytest.raises(AutogradError, match="leaf"):
        x[0].add_(y)
    with pytest.raises(InputTypeError, match="read-only"):
        tg.zeros(3).expand(2, 3).add_(1)
