"""Review of session 31's saved-value, copysign, GELU and order-statistic work (h31k, h31m):
fixes found beside torch 2.13 and checks that strengthen the merged tests."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F


def _ulps(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|got - exact| in float32 ulps of the exact value (subnormal spacing at the bottom)."""
    spacing = np.maximum(np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64), 2.0 ** -149)
    return np.abs(got.astype(np.float64) - exact) / spacing


# -- GELU ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype, big", [(np.float32, 3e38), (np.float64, 1.7e308)])
def test_gelu_tanh_near_the_largest_float_does_not_overflow(dtype, big):
    """approximate='tanh' halves x before the (1 + tanh) factor, as torch's: 2x overflowed to inf."""
    x = tg.tensor(np.array([big, -big, 1e30, 2.0], dtype=dtype))
    y = F.gelu(x, approximate="tanh").numpy()
    np.testing.assert_array_equal(y[:3], np.array([big, -0.0, 1e30], dtype=dtype))
    u = math.sqrt(2 / math.pi) * (2.0 + 0.044715 * 8.0)
    assert y[3] == pytest.approx(0.5 * 2.0 * (1 + math.tanh(u)), rel=1e-6)


def test_gelu_float32_within_a_half_ulp_and_its_derivative_accurate_on_a_dense_scan():
    """Every 9973rd float32 in [-16, 16] against float64 math.erfc: the forward within 0.52 ulp,
    the derivative within 0.6 ulp away from its root (x ~ -0.7518, where Phi + x phi cancels:
    there within 6e-8 absolute, the terms' scale), no_grad's values the same bits."""
    top = np.float32(16.0).view(np.int32)
    pos = np.arange(0, top, 9973, dtype=np.int32).view(np.float32)
    x = np.concatenate([pos, -pos])
    xd = x.astype(np.float64)
    cdf = 0.5 * np.array([math.erfc(-v / math.sqrt(2)) for v in xd])
    slope = cdf + xd * np.exp(-xd * xd / 2) / math.sqrt(2 * math.pi)
    t = tg.tensor(x, requires_grad=True)
    y = F.gelu(t)
    y.backward(tg.ones_like(y))
    assert _ulps(y.detach().numpy(), xd * cdf).max() <= 0.52
    near_root = np.abs(xd + 0.7518) < 0.05
    assert _ulps(t.grad.numpy(), slope)[~near_root].max() <= 0.6
    assert np.abs(t.grad.numpy()[near_root] - slope[near_root]).max() <= 6e-8
    with tg.no_grad():
        np.testing.assert_array_equal(F.gelu(tg.tensor(x)).numpy(), y.detach().numpy())


# -- node names of the Scalar / Tensor overloads --------------------------------------------------
@pytest.mark.parametrize("op, number_name, tensor_name", [
    ("copysign", "CopysignBackward1", "CopysignBackward0"),
    ("fmod", "FmodBackward0", "FmodBackward1"),
    ("remainder", "RemainderBackward0", "RemainderBackward1"),
])
def test_binary_ops_name_their_scalar_and_tensor_overloads_as_torch(op, number_name, tensor_name):
    x = tg.tensor([1.5, -2.5], dtype=tg.float64, requires_grad=True)
    other = tg.tensor([2.0, -3.0], dtype=tg.float64)
    assert getattr(x, op)(2.0).grad_fn.name() == number_name
    assert getattr(tg, op)(x, -2).grad_fn.name() == number_name
    assert getattr(x, op)(other).grad_fn.name() == tensor_name
    assert getattr(x * 1, op + "_")(2.0).grad_fn.name() == number_name
    assert getattr(x * 1, op + "_")(other).grad_fn.name() == tensor_name


def test_modulo_operators_keep_their_node_names():
    x = tg.tensor([1.5, -2.5], dtype=tg.float64, requires_grad=True)
    assert (x % 2.0).grad_fn.name() == "RemainderBackward0"
    assert (x % tg.tensor([2.0, 3.0], dtype=tg.float64)).grad_fn.name() == "RemainderBackward1"
    assert (1.5 % x).grad_fn.name() == "RemainderBackward0"


def test_copysign_by_a_number_takes_its_sign_and_gradient():
    x = tg.tensor([1.5, -2.0, 0.0, -0.0], dtype=tg.float64, requires_grad=True)
    y = tg.copysign(x, -0.0)
    np.testing.assert_array_equal(np.signbit(y.detach().numpy()), [True] * 4)
    y.backward(tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=tg.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 2.0, 0.0, 0.0])


# -- max(dim) / min(dim) of a 0-d input ---------------------------------------------------------
@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("value", [2.5, float("nan")])
def test_max_min_dim_of_a_0d_input_written_in_place_before_backward(name, keepdim, value):
    """Its node reads no input value (the one element takes the gradient), as torch's, which
    allows the write; tensorgan refused it (MaxOfScalar read x)."""
    x = tg.tensor(value, dtype=tg.float64, requires_grad=True)
    y = x * 1
    values, indices = getattr(y, name)(0, keepdim=keepdim)
    y.mul_(5)
    assert values.grad_fn.name() == name.capitalize() + "Backward0" and indices.item() == 0
    (values * 3).backward()
    assert x.grad.item() == 3.0


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_of_a_0d_input_double_backward(name):
    x = tg.tensor(3.0, dtype=tg.float64, requires_grad=True)
    values, _ = getattr(x, name)(-1)
    (g,) = tg.autograd.grad(values * values, x, create_graph=True)
    (h,) = tg.autograd.grad(g, x)
    assert g.item() == 6.0 and h.item() == 2.0


# -- topk of a 0-d input --------------------------------------------------------------------------
@pytest.mark.parametrize("k", [0, 1])
def test_topk_of_a_0d_input_gives_its_element_for_k_0_and_1(k):
    """torch's topk(0-d, 0) gives the element (a 0-d result holds one); was NumPy's ValueError."""
    x = tg.tensor(1.5, requires_grad=True)
    values, indices = x.topk(k)
    assert values.shape == indices.shape == () and values.item() == 1.5 and indices.item() == 0
    assert values.grad_fn.name() == "TopkBackward0"
    values.backward()
    assert x.grad.item() == 1.0


def test_topk_of_a_0d_input_refuses_k_2():
    with pytest.raises(RuntimeError, match="k=2"):
        tg.tensor(1.5).topk(2)
