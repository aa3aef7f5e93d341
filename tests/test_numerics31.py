"""Numerics and small semantics of session 31's leftovers, each against exact math (math.erfc in
float64, finite differences) rather than torch: GELU's lower tail (erfc, not 1 + erf), integer
dtype= reductions of a tracked float input refused, the dim forms' node names, number % x."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import DTypeError

_ERFC = np.vectorize(math.erfc)
_EXP = np.vectorize(math.exp)


def _gelu_exact(x):
    """GELU and its derivative in float64, Phi(x) = erfc(-x / sqrt 2) / 2 (no cancellation)."""
    x = np.asarray(x, np.float64)
    cdf = _ERFC(-x / math.sqrt(2)) / 2
    return x * cdf, cdf + x * _EXP(-x * x / 2) / math.sqrt(2 * math.pi)


def _ulps(got, exact, dtype):
    spacing = np.spacing(np.abs(exact).astype(dtype)).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / np.maximum(spacing, np.finfo(dtype).smallest_subnormal)


def test_gelu_float32_lower_tail_relatively_accurate():
    """x = -5.66: (1 + erf) / 2 rounded Phi to 0 (GELU 0, its gradient 5e5 ulp off)."""
    x = np.concatenate([np.linspace(-15, 6, 20001), [-5.66, -0.7518]]).astype(np.float32)
    t = tg.tensor(x, requires_grad=True)
    y = F.gelu(t)
    y.backward(tg.ones(x.shape))
    value, slope = _gelu_exact(x)
    assert _ulps(y.detach().numpy(), value, np.float32).max() <= 1.0
    assert y.detach().numpy()[-2] < 0 and abs(y.detach().numpy()[-2] / value[-2] - 1) < 2e-7
    # the gradient: within an ulp of the terms' scale (Phi + x phi cancels near x = -0.75)
    scale = np.abs(value / np.where(x == 0, 1, x)) + np.abs(slope - value / np.where(x == 0, 1, x))
    err = np.abs(t.grad.numpy().astype(np.float64) - slope)
    assert (err <= np.spacing(scale.astype(np.float32)).astype(np.float64) * 1.0 + 1e-45).all()
    assert abs(t.grad.numpy()[-2] / slope[-2] - 1) < 2e-7


def test_gelu_float64_lower_tail_relatively_accurate():
    x = np.array([-5.66, -8.5, -10.0, -20.0, -37.0, -1.0, 0.5, 3.0])
    t = tg.tensor(x, requires_grad=True)
    y = F.gelu(t)
    y.sum().backward()
    value, slope = _gelu_exact(x)
    np.testing.assert_allclose(y.detach().numpy(), value, rtol=1e-12)     # 1 + erf: 0 below -8.3
    np.testing.assert_allclose(t.grad.numpy(), slope, rtol=1e-12)


def test_gelu_no_grad_float16_and_broadcast_gradient_paths_agree():
    x = np.linspace(-7, 4, 301).astype(np.float32)
    with tg.no_grad():                      # the values-only kernel
        y0 = F.gelu(tg.tensor(x)).numpy()
    t = tg.tensor(x, requires_grad=True)
    y = F.gelu(t)
    np.testing.assert_array_equal(y.detach().numpy(), y0)
    y.sum().backward(retain_graph=True)     # a broadcast g: the derivative times it, not the kernel
    g1 = t.grad.numpy().copy()
    t.grad = None
    y.backward(tg.ones(x.shape), retain_graph=True)
    y.backward(tg.ones(x.shape))            # the kept derivative is not overwritten
    np.testing.assert_array_equal(t.grad.numpy(), 2 * g1)
    x16 = x.astype(np.float16)              # float16: the float32 kernel's value, rounded
    h = F.gelu(tg.tensor(x16)).numpy()
    assert h.dtype == np.float16
    np.testing.assert_array_equal(h, F.gelu(tg.tensor(x16.astype(np.float32))).numpy().astype(np.float16))


def test_gelu_special_values():
    for dtype in (tg.float32, tg.float64):
        t = tg.tensor([-np.inf, np.inf, np.nan, 0.0], dtype=dtype, requires_grad=True)
        y = F.gelu(t)
        y.sum().backward()
        got = y.detach().numpy()
        assert np.isnan(got[0]) and got[1] == np.inf and np.isnan(got[2]) and got[3] == 0
        assert np.isnan(t.grad.numpy()[:3]).all() and t.grad.numpy()[3] == 0.5


@pytest.mark.parametrize("name, call", [
    ("prod", lambda x: x.prod(dtype=tg.int64)), ("prod", lambda x: tg.prod(x, 0, dtype=tg.int32)),
    ("cumprod", lambda x: x.cumprod(0, dtype=tg.int64)), ("cumsum", lambda x: tg.cumsum(x, 0, dtype=tg.int16)),
    ("nansum", lambda x: x.nansum(dtype=tg.int64)), ("sum", lambda x: x.sum(0, dtype=tg.int64)),
    ("sum", lambda x: tg.sum(x, dtype=tg.bool))])
def test_integer_dtype_of_a_tracked_float_input_refused(name, call):
    """torch: "Autograd not support dtype: Long"; tensorgan returned an untracked result."""
    x = tg.tensor([1.5, 2.0, 3.0], requires_grad=True)
    with pytest.raises(DTypeError, match=rf"{name}: .*dtype=(int|bool)") as info:
        call(x)
    assert isinstance(info.value, RuntimeError)
    with tg.no_grad():                      # no graph wanted: the cast result, as torch's
        out = call(x)
    assert not out.requires_grad and out.dtype != tg.float32
    out = call(x.detach())
    assert not out.requires_grad


def test_integer_dtype_results_unchanged_and_float_dtype_tracked():
    x = tg.tensor([1.5, 2.0, 3.0])
    assert x.prod(dtype=tg.int64).item() == 6 and x.cumsum(0, dtype=tg.int64).tolist() == [1, 3, 6]
    y = tg.tensor([1.5, 2.0, 3.0], requires_grad=True)
    s = y.prod(dtype=tg.float64)
    s.backward()
    assert s.dtype == tg.float64 and y.grad.tolist() == [6.0, 4.5, 3.0]



_X = [[1.5, 2.0, 3.0, 0.5], [4.0, 1.0, 1.0, 2.0]]
_DIM_FORMS = [   # (call(x, dim, keepdim), torch's node name of the values)
    (lambda x, d, k: x.median(d, keepdim=k), "MedianBackward1"),
    (lambda x, d, k: tg.nanmedian(x, d, keepdim=k), "NanmedianBackward1"),
    (lambda x, d, k: tg.mode(x, d, keepdim=k), "ModeBackward0"),
    (lambda x, d, k: x.kthvalue(2 if d is not None and x.ndim else 1, d, keepdim=k), "KthvalueBackward0"),
    (lambda x, d, k: x.sort(d), "SortBackward0"), (lambda x, d, k: tg.sort(x, d, stable=True), "SortBackward1"),
    (lambda x, d, k: x.topk(1, d), "TopkBackward0")]


@pytest.mark.parametrize("call, name", _DIM_FORMS)
@pytest.mark.parametrize("dim, keepdim", [(0, False), (1, False), (1, True), (-2, True)])
def test_dim_forms_carry_torch_node_names(call, name, dim, keepdim):
    """The pick is one advanced index shaped as the result (was: a reshape after it, ViewBackward0)."""
    x = tg.tensor(_X, requires_grad=True)
    values, indices = call(x, dim, keepdim)
    assert values.grad_fn.name() == name and values.shape == indices.shape
    keep = indices.numpy() if values.ndim == 2 else np.expand_dims(indices.numpy(), dim)
    picked = np.take_along_axis(np.array(_X), keep, dim)
    np.testing.assert_array_equal(values.detach().numpy(), picked.reshape(values.shape))
    values.sum().backward()                 # the gradient reaches exactly the picked elements
    expected = np.zeros((2, 4))
    np.put_along_axis(expected, keep, 1.0, dim)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("call, name", _DIM_FORMS)
def test_dim_forms_of_a_0d_input(call, name):
    s = tg.tensor(2.5, requires_grad=True)
    values, indices = call(s, 0, False)
    assert values.shape == indices.shape == () and values.grad_fn.name() == name
    assert values.item() == 2.5 and indices.item() == 0


def test_number_remainder_tensor_gradient_is_the_derivative():
    """An extension (torch's remainder(Scalar, Tensor) node refuses): d(1.5 % x)/dx = -floor(1.5 / x)
    away from the jumps, checked by central differences."""
    xs = np.array([0.4, 0.7, -0.4, 2.0, -2.0, 1.1, -0.35])
    x = tg.tensor(xs, requires_grad=True)
    for y in (1.5 % x, tg.remainder(1.5, x)):
        assert y.grad_fn.name() == "RemainderBackward0"
        (grad,) = tg.autograd.grad(y.sum(), x)
        h = 1e-7
        numeric = ((1.5 % (xs + h)) - (1.5 % (xs - h))) / (2 * h)
        np.testing.assert_allclose(grad.numpy(), numeric, atol=1e-6)
        np.testing.assert_array_equal(grad.numpy(), -np.floor(1.5 / xs))
