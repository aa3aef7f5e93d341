"""grad_fn names as torch 2.13's, left by h31u (session 31, h31y): the piecewise-constant ops'
own nodes, reductions with ``dtype=`` as one node, quantile's last squeeze, xlogy's overloads.
The expected names are independent facts read from torch 2.13; gradients are checked by
finite differences."""
import numpy as np
import pytest

import tensorgan as tg

A = np.array([[0.5, -1.3, 2.2], [0.1, 3.7, -0.4]])


def _edges(t):
    return [None if f is None else f.name() for f, _ in t.grad_fn.next_functions]


def _fd_grad(f, a, eps=1e-6):
    """d sum(f(a)) / d a by central differences (float64)."""
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (f(up).sum() - f(down).sum()) / (2 * eps)
    return g


PIECEWISE = [("sign", "SignBackward0", 0.0), ("sgn", "SgnBackward0", 0.0),
             ("round", "RoundBackward0", 0.0), ("trunc", "TruncBackward0", 0.0),
             ("floor", "FloorBackward0", 0.0), ("ceil", "CeilBackward0", 0.0),
             ("fix", "TruncBackward0", 0.0), ("frac", "FracBackward0", 1.0)]


@pytest.mark.parametrize("op, node, slope", PIECEWISE)
def test_piecewise_ops_have_their_own_node_with_one_edge(op, node, slope):
    x = tg.tensor(A, requires_grad=True)
    out = getattr(tg, op)(x)
    assert out.grad_fn.name() == node
    assert _edges(out) == ["torch::autograd::AccumulateGrad"]
    np.testing.assert_array_equal(out.detach().numpy(), getattr(np, op if op != "sgn" else "sign")(A)
                                  if op not in ("round", "frac") else
                                  (np.rint(A) if op == "round" else A - np.trunc(A)))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(A.shape, slope))
    assert getattr(x, op)().grad_fn.name() == node                    # the method form too


def test_in_place_piecewise_ops_and_angle_are_named_as_torch():
    x = tg.tensor(A, requires_grad=True)
    for op, node in (("floor_", "FloorBackward0"), ("sign_", "SignBackward0"), ("sgn_", "SgnBackward0"),
                     ("frac_", "FracBackward0"), ("round_", "RoundBackward0")):
        assert getattr(x * 1, op)().grad_fn.name() == node
    assert tg.angle(x).grad_fn.name() == "AngleBackward0"


def test_piecewise_zero_gradient_is_a_constant_under_create_graph():
    x = tg.tensor(A, requires_grad=True)
    y = x.floor()
    (g,) = tg.autograd.grad((y * y).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), np.zeros(A.shape))
    assert not g.requires_grad                     # torch: zeros_like(grad), outside the graph
    z = x.sign() * x * x                           # a product through it: double backward runs
    (g,) = tg.autograd.grad(z.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * np.sign(A) * A)
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 2 * np.sign(A))


def test_frac_double_backward_and_float32_half():
    x = tg.tensor(A, requires_grad=True)
    (g,) = tg.autograd.grad((x.frac() ** 2).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * (A - np.trunc(A)))
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), np.full(A.shape, 2.0))
    half = tg.tensor(A, dtype=tg.float16, requires_grad=True)
    for op in ("frac", "floor", "sign"):
        assert getattr(half, op)().dtype == tg.float16
    ints = tg.tensor([[1, -2]])
    assert ints.floor().grad_fn is None and ints.floor().dtype == tg.int64


def test_piecewise_keeps_a_transposed_layout():
    x = tg.tensor(A, requires_grad=True).t()
    assert x.floor().stride() == x.stride() and x.frac().stride() == x.stride()


REDUCTIONS = [  # (call, torch's node)
    (lambda x, dt: x.sum(dtype=dt), "SumBackward0"),
    (lambda x, dt: x.sum(1, dtype=dt), "SumBackward1"),
    (lambda x, dt: x.mean(dtype=dt), "MeanBackward0"),
    (lambda x, dt: x.mean(0, dtype=dt), "MeanBackward1"),
    (lambda x, dt: x.prod(dtype=dt), "ProdBackward0"),
    (lambda x, dt: x.prod(1, dtype=dt), "ProdBackward1"),
    (lambda x, dt: x.cumsum(1, dtype=dt), "CumsumBackward0"),
    (lambda x, dt: x.cumprod(0, dtype=dt), "CumprodBackward0"),
]


@pytest.mark.parametrize("call, node", REDUCTIONS)
@pytest.mark.parametrize("src, dst", [(tg.float32, tg.float64), (tg.float64, tg.float32)])
def test_reduction_with_dtype_is_one_node_on_the_input(call, node, src, dst):
    x = tg.tensor(A, dtype=src, requires_grad=True)
    out = call(x, dst)
    assert out.dtype == dst and out.grad_fn.name() == node
    assert _edges(out) == ["torch::autograd::AccumulateGrad"]
    with tg.no_grad():
        expected = call(tg.tensor(A, dtype=dst), dst).numpy()
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6)
    out.sum().backward()
    assert x.grad.dtype == src
    fd = _fd_grad(lambda a: call(tg.tensor(a), tg.float64).numpy(), A)
    np.testing.assert_allclose(x.grad.numpy(), fd, rtol=1e-4, atol=1e-5)


def test_reduction_with_dtype_double_backward_and_second_backward():
    x = tg.tensor(A, dtype=tg.float32, requires_grad=True)
    y = x.sum(dtype=tg.float64)
    y.backward()
    y.backward()                                   # nothing saved: a second backward works
    np.testing.assert_array_equal(x.grad.numpy(), np.full(A.shape, 2.0, np.float32))
    p = x.prod(1, dtype=tg.float64)
    (g,) = tg.autograd.grad(p.sum(), x, create_graph=True)
    assert g.dtype == tg.float32
    (h,) = tg.autograd.grad(g.sum(), x)
    fd = _fd_grad(_prod_grad, A)                 # d/dx of sum(d prod / dx), float64
    np.testing.assert_allclose(h.numpy(), fd, rtol=1e-3, atol=1e-4)


def _prod_grad(a):
    x = tg.tensor(a, requires_grad=True)
    (g,) = tg.autograd.grad(x.prod(1).sum(), x)
    return g.numpy()


def test_quantile_of_one_level_ends_in_an_in_place_squeeze():
    x = tg.tensor(A, requires_grad=True)
    for out in (tg.quantile(x, 0.3), tg.quantile(x, 0.3, dim=1), tg.nanquantile(x, 0.3)):
        assert out.grad_fn.name() == "SqueezeBackward4"
    out = tg.quantile(x, 0.3, dim=1)
    assert out.shape == (2,) and out.is_contiguous()
    np.testing.assert_allclose(out.detach().numpy(), np.quantile(A, 0.3, axis=1))
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), _fd_grad(lambda a: np.quantile(a, 0.3, axis=1), A), atol=1e-6)
    assert tg.quantile(x, 0.3, dim=0, keepdim=True).shape == (1, 3)


def test_xlogy_overloads_are_named_as_torch():
    x = tg.tensor(np.abs(A), requires_grad=True)
    assert tg.xlogy(2.0, x).grad_fn.name() == "XlogyBackward1"
    assert tg.xlogy(x, 2.0).grad_fn.name() == "XlogyBackward2"
    assert tg.xlogy(x, x).grad_fn.name() == "XlogyBackward0"
    assert tg.special.xlogy(2.0, x).grad_fn.name() == "XlogyBackward1"
    assert tg.special.xlogy(x, 2.0).grad_fn.name() == "XlogyBackward2"
    assert tg.special.xlogy(x, x).grad_fn.name() == "XlogyBackward0"
    assert tg.special.xlog1py(2.0, x).grad_fn.name() == "SpecialXlog1PyBackward1"
    assert tg.special.xlog1py(x, 2.0).grad_fn.name() == "SpecialXlog1PyBackward2"
    assert tg.special.zeta(x + 1, x + 1).grad_fn.name() == "SpecialZetaBackward0"
    tg.special.xlogy(2.0, x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), _fd_grad(lambda a: 2.0 * np.log(a), np.abs(A)), rtol=1e-6)
