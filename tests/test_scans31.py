"""Session 31: logcumsumexp as one O(n) scan (values, gradients and double backward as torch's,
-inf / inf / NaN, float16 / float32 / complex, CuPy's doubling-scan path) and cummax / cummin of
an empty tensor under create_graph."""
import math
import tracemalloc

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeNotImplementedError
from tensorgan.math_ops import _logcumsumexp_values

inf, nan = math.inf, math.nan


def reference(a: np.ndarray, axis: int) -> np.ndarray:
    """log(cumsum(exp(a))) along ``axis`` in float64, one prefix at a time (shifted by its max)."""
    a = np.moveaxis(np.asarray(a, dtype=np.float64), axis, -1)
    out = np.empty_like(a)
    for j in range(a.shape[-1]):
        prefix = a[..., :j + 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            top = prefix.max(-1, keepdims=True)
            shift = np.where(np.isfinite(top), top, 0)
            out[..., j] = (np.log(np.exp(prefix - shift).sum(-1, keepdims=True)) + shift)[..., 0]
    return np.moveaxis(out, -1, axis)


def lcse_grad(x: tg.Tensor, dim: int, weights: np.ndarray, create_graph: bool = False):
    loss = (tg.logcumsumexp(x, dim) * tg.tensor(weights, dtype=x.dtype)).sum()
    return tg.autograd.grad(loss, x, create_graph=create_graph)[0]


def numeric_grad(f, a: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    out = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[i] += eps
        down[i] -= eps
        out[i] = (f(up) - f(down)) / (2 * eps)
    return out


@pytest.mark.parametrize("shape", [(6,), (3, 5), (2, 3, 4)])
def test_logcumsumexp_values_every_dim(shape):
    a = np.random.default_rng(0).standard_normal(shape) * 4
    for dim in range(-len(shape), len(shape)):
        y = tg.logcumsumexp(tg.tensor(a, requires_grad=True), dim)
        np.testing.assert_allclose(y.detach().numpy(), reference(a, dim), rtol=1e-13, atol=1e-13)
        assert y.grad_fn.name() == "LogcumsumexpBackward0"


def test_logcumsumexp_specials_as_math():
    a = np.array([[1, -inf, 2], [inf, 0, nan], [-inf, -inf, 3], [inf, inf, 1], [1e308, 1e308, -1e308]])
    y = tg.logcumsumexp(tg.tensor(a), 1).numpy()
    np.testing.assert_array_equal(y[:4], [[1, 1, 2 + math.log1p(math.exp(-1))], [inf, inf, nan],
                                         [-inf, -inf, 3], [inf, inf, inf]])
    np.testing.assert_allclose(y[4], [1e308, 1e308 + math.log(2), 1e308 + math.log(2)])


def test_logcumsumexp_long_dim_is_linear_memory():
    """The old form built an (n, n) grid per slice: (4, 100000) needed 160 GB."""
    a = np.random.default_rng(1).standard_normal((4, 100000)).astype(np.float32)
    x = tg.tensor(a)
    tracemalloc.start()
    y = tg.logcumsumexp(x, 1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * a.nbytes
    np.testing.assert_allclose(y.numpy(), np.logaddexp.accumulate(a.astype(np.float64), axis=1),
                               rtol=1e-6, atol=1e-6)


def test_logcumsumexp_float32_accumulates_in_float64():
    """torch's CPU accumulator for float32 is double: a long scan stays within float32 rounding."""
    a = np.random.default_rng(2).standard_normal(5000)
    y = tg.logcumsumexp(tg.tensor(a, dtype=tg.float32), 0).numpy()
    assert np.abs(y - np.logaddexp.accumulate(a)).max() < 2e-6


def test_logcumsumexp_float16():
    a = np.random.default_rng(3).standard_normal((3, 7))
    x = tg.tensor(a, dtype=tg.float16, requires_grad=True)
    y = tg.logcumsumexp(x, 1)
    assert y.dtype == tg.float16 and y.grad_fn.name() == "LogcumsumexpBackward0"
    np.testing.assert_allclose(y.detach().numpy(), reference(a.astype(np.float16), 1), atol=4e-3)
    g = lcse_grad(x, 1, np.ones((3, 7)))
    assert g.dtype == tg.float16
    want = lcse_grad(tg.tensor(a.astype(np.float16), dtype=tg.float64, requires_grad=True), 1, np.ones((3, 7)))
    np.testing.assert_allclose(g.numpy(), want.numpy(), atol=2e-2)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_logcumsumexp_gradient_and_double_backward_numeric(dim):
    rng = np.random.default_rng(4)
    a, w, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    x = tg.tensor(a, requires_grad=True)
    g = lcse_grad(x, dim, w, create_graph=True)
    loss = lambda b: float((reference(b, dim) * w).sum())
    np.testing.assert_allclose(g.detach().numpy(), numeric_grad(loss, a), atol=1e-7)
    h, = tg.autograd.grad((g * tg.tensor(v)).sum(), x)
    first = lambda b: float((lcse_grad(tg.tensor(b, requires_grad=True), dim, w).numpy() * v).sum())
    np.testing.assert_allclose(h.numpy(), numeric_grad(first, a), atol=1e-6)


def test_logcumsumexp_double_backward_with_infinities_as_torch():
    """h31x's repro along dim 0 (NaN everywhere before; torch 2.13's values)."""
    x = tg.tensor([[1, -inf, 2], [inf, 0, nan]], requires_grad=True)
    g, = tg.autograd.grad(tg.logcumsumexp(x, 0).sum(), x, create_graph=True)
    h, = tg.autograd.grad((g * g).sum(), x)
    np.testing.assert_array_equal(h.numpy(), [[0, nan, nan], [nan, 0, nan]])
    x = tg.tensor([[-inf, 1, 2], [1, 2, -inf]], dtype=tg.float64, requires_grad=True)
    g, = tg.autograd.grad(tg.logcumsumexp(x, 1).sum(), x, create_graph=True)
    h, = tg.autograd.grad((g * g).sum(), x)
    assert np.isnan(h.numpy()[0, 0]) and np.isfinite(h.numpy()[0, 1:]).all()
    np.testing.assert_allclose(h.numpy()[0, 1:], [0.2115083711370671, -0.21150837113706666], atol=1e-12)


def test_logcumsumexp_gradient_at_neg_inf_inputs_as_torch():
    """0 at an inner -inf; NaN at a leading one (its result is -inf: torch's formula gives NaN)."""
    x = tg.tensor([-inf, 0.0, -inf, 1.0], dtype=tg.float64, requires_grad=True)
    g = lcse_grad(x, 0, np.array([1.0, -2.0, 3.0, 0.5])).numpy()
    e = math.e       # d out_j / d x_i = exp(x_i - out_j), out = [-inf, 0, 0, log(1 + e)]
    np.testing.assert_allclose(g, [nan, -2 + 3 + 0.5 / (1 + e), 0, 0.5 * e / (1 + e)], rtol=1e-14)


def test_logcumsumexp_empty_and_zero_dim():
    for shape, dim in (((0, 3), 0), ((0, 3), 1), ((2, 0), 1)):
        x = tg.zeros(*shape, requires_grad=True)
        y = tg.logcumsumexp(x, dim)
        assert y.shape == shape and y.grad_fn.name() == "LogcumsumexpBackward0"
        assert tg.autograd.grad(y.sum(), x)[0].shape == shape
    x = tg.tensor(2.5, requires_grad=True)
    for dim in (0, -1):
        y = tg.logcumsumexp(x, dim)
        assert y.item() == 2.5 and y.grad_fn.name() == "LogcumsumexpBackward0"
        assert tg.autograd.grad(y, x)[0].item() == 1.0
    with pytest.raises(DTypeNotImplementedError):
        tg.logcumsumexp(tg.tensor([1, 2]), 0)


def test_logcumsumexp_complex_values_and_gradient():
    rng = np.random.default_rng(5)
    c = rng.standard_normal((2, 5)) + 1j * rng.standard_normal((2, 5))
    x = tg.tensor(c, requires_grad=True)
    y = tg.logcumsumexp(x, 1)
    assert y.dtype == tg.complex128 and y.grad_fn.name() == "LogcumsumexpBackward0"
    want = np.log(np.cumsum(np.exp(c), axis=1))
    np.testing.assert_allclose(np.exp(y.detach().numpy()), np.exp(want), rtol=1e-12)   # (mod 2 pi i)
    g, = tg.autograd.grad(y.abs().sum(), x)
    loss = lambda z: float(np.abs(np.log(np.cumsum(np.exp(z), axis=1))).sum())
    re = numeric_grad(lambda b: loss(b + 1j * c.imag), c.real.copy())
    im = numeric_grad(lambda b: loss(c.real + 1j * b), c.imag.copy())
    np.testing.assert_allclose(g.numpy(), re + 1j * im, atol=1e-6)   # torch's convention


def test_logcumsumexp_complex_specials_as_torch():
    c = np.array([[complex(-inf, 1), complex(-inf, 2), 1 + 1j], [complex(nan, 0), 1, 2],
                  [1, complex(inf, 1), complex(-inf, 0)]])
    y = tg.logcumsumexp(tg.tensor(c), 1).numpy()
    np.testing.assert_array_equal(y[0], [complex(-inf, 0), complex(-inf, 0), 1 + 1j])
    assert np.isnan(y[1].real).all() and np.isnan(y[1].imag).all()
    np.testing.assert_array_equal(y[2], [1, complex(inf, 1), complex(inf, 1)])


class _NumpyWithoutAccumulate:
    """NumPy seen as CuPy is: the doubling scan, not logaddexp.accumulate."""
    def __getattr__(self, name):
        return getattr(np, name)


@pytest.mark.parametrize("axis", [0, 1])
def test_doubling_scan_path_matches_accumulate(axis):
    rng = np.random.default_rng(6)
    b = np.concatenate([rng.standard_normal((3, 37)) * 50, [[inf] * 37, [-inf] * 37, [nan] + [1.0] * 36]])
    b[0, 5], b[1, 7] = -inf, inf
    got = _logcumsumexp_values(_NumpyWithoutAccumulate(), b, axis)
    with np.errstate(invalid="ignore"):
        want = np.logaddexp.accumulate(b, axis=axis)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-12)
    half = _logcumsumexp_values(_NumpyWithoutAccumulate(), b.astype(np.float16), axis)
    assert half.dtype == np.float16


@pytest.mark.parametrize("op", [tg.cummax, tg.cummin])
@pytest.mark.parametrize("shape, dim", [((0, 3), 0), ((0, 3), 1), ((2, 0), 1), ((2, 0, 3), -1)])
def test_running_extreme_of_empty_double_backward(op, shape, dim):
    """torch's gradient of an empty cummax / cummin is the input itself: it requires grad."""
    x = tg.zeros(*shape, requires_grad=True)
    values = op(x, dim)[0]
    assert values.grad_fn.name() == ("CummaxBackward0" if op is tg.cummax else "CumminBackward0")
    g, = tg.autograd.grad(values.sum(), x, create_graph=True)
    assert g.requires_grad and g.shape == shape
    h, = tg.autograd.grad((g * g).sum(), x)
    assert h.shape == shape
    x.grad = None
    op(x, dim)[0].sum().backward()
    assert x.grad.shape == shape and not x.grad.requires_grad
