"""Session 31 (h31s): elementwise value / gradient fixes found by the elementwise fuzzer --
clamp's NaN bounds and its Tensor-bound gradient routes, remainder's gradient of an integer
dividend, lerp, xlogy and the error types of a few refused calls."""
import math

import numpy as np
import pytest

import tensorgan as tg

NAN, INF = float("nan"), float("inf")


# -- clamp ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1,), (1, 1, 1), (2, 3)])
def test_float16_clamp_with_a_nan_bound_and_a_zero_bound_is_nan(shape):
    x = tg.zeros(*shape, dtype=tg.float16)
    assert np.isnan(x.clamp(min=NAN, max=0).numpy()).all()
    assert np.isnan(x.clamp(min=0, max=NAN).numpy()).all()


def test_float16_clamp_keeps_the_sign_of_a_zero_input_at_a_zero_bound():
    y = tg.tensor([-0.0, 3.0, -2.0], dtype=tg.float16).clamp(min=0, max=1).numpy()
    assert np.signbit(y[0]) and y.tolist() == [0.0, 1.0, 0.0]


def _clamp_grads(xv, lv, hv):
    x, lo, hi = (tg.tensor([v], dtype=tg.float64, requires_grad=True) for v in (xv, lv, hv))
    y = tg.clamp(x, lo, hi)
    y.sum().backward()
    return [y.item(), x.grad.item(), lo.grad.item(), hi.grad.item()]


@pytest.mark.parametrize("xv, lv, hv, expected", [
    (1.0, 1.0, 1.0, [1.0, 1.0, 0.0, 0.0]),      # all tied: x keeps it
    (0.0, 1.0, 1.0, [1.0, 0.0, 0.0, 0.0]),      # below tied bounds: min gets none (min == max)
    (1.5, 2.0, 1.0, [1.0, 0.0, 0.0, 1.0]),      # crossed bounds: max
    (NAN, 0.0, 1.0, [NAN, 0.0, 0.0, 0.0]),      # a NaN input: nowhere
    (0.5, NAN, 1.0, [NAN, 0.0, 0.0, 0.0]),      # a NaN bound: nowhere
    (0.5, 0.0, NAN, [NAN, 0.0, 0.0, 0.0]),
    (NAN, 2.0, 1.0, [NAN, 0.0, 0.0, 1.0]),      # crossed bounds still send it to max
    (2.0, NAN, 1.0, [NAN, 0.0, 0.0, 1.0]),      # x > max
])
def test_clamp_with_tensor_bounds_routes_the_gradient_as_torchs_clamp_backward(xv, lv, hv, expected):
    got = _clamp_grads(xv, lv, hv)
    assert np.allclose(got, expected, equal_nan=True), got


@pytest.mark.parametrize("which", ["min", "max"])
def test_clamp_with_one_nan_tensor_bound_sends_the_gradient_nowhere(which):
    x, b = (tg.tensor([v], dtype=tg.float64, requires_grad=True) for v in (1.0, NAN))
    y = tg.clamp(x, **{which: b})
    y.sum().backward()
    assert math.isnan(y.item()) and x.grad.item() == 0.0 and b.grad.item() == 0.0


def test_clamp_tensor_bounds_gradient_matches_finite_differences_and_broadcasts():
    rng = np.random.default_rng(0)
    xa, la, ha = rng.normal(size=(3, 4)), rng.normal(size=(3, 1)) - 0.5, rng.normal(size=(4,)) + 0.5
    x, lo, hi = (tg.tensor(a, requires_grad=True) for a in (xa, la, ha))
    y = tg.clamp(x, lo, hi)
    assert y.grad_fn.name() == "ClampBackward0"
    (y * y).sum().backward()

    def f(a, b, c):
        return (np.minimum(np.maximum(a, b), c) ** 2).sum()
    eps = 1e-6
    for i, (arr, grad) in enumerate(((xa, x.grad), (la, lo.grad), (ha, hi.grad))):
        fd = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            args = [xa.copy(), la.copy(), ha.copy()]
            args[i][idx] += eps
            up = f(*args)
            args[i][idx] -= 2 * eps
            fd[idx] = (up - f(*args)) / (2 * eps)
        assert np.allclose(grad.numpy(), fd, atol=1e-5), i


def test_clamp_tensor_bounds_second_order_and_mixed_dtypes():
    x = tg.tensor([0.5, 1.5, 3.0], dtype=tg.float32, requires_grad=True)
    lo = tg.tensor([1.0, 1.0, 1.0], dtype=tg.float64, requires_grad=True)
    hi = tg.tensor(2.0, dtype=tg.float64, requires_grad=True)
    y = x.clamp(lo, hi)
    assert y.dtype == tg.float64 and y.tolist() == [1.0, 1.5, 2.0]
    gx, glo, ghi = tg.autograd.grad(y.pow(2).sum(), [x, lo, hi], create_graph=True)
    assert gx.tolist() == [0.0, 3.0, 0.0] and glo.tolist() == [2.0, 0.0, 0.0] and ghi.item() == 4.0
    second = tg.autograd.grad(gx.sum() + glo.sum() + ghi, [x, lo, hi])
    assert [s.sum().item() for s in second] == [2.0, 2.0, 2.0]
    yi = tg.tensor([0, 2, 5], dtype=tg.int16).clamp(lo, hi)       # an integer input: bounds' grads
    yi.sum().backward()
    assert yi.tolist() == [1.0, 2.0, 2.0] and lo.grad.tolist() == [1.0, 0.0, 0.0] and hi.grad.item() == 1.0


# -- remainder -----------------------------------------------------------------------------------
def test_remainder_divisor_gradient_is_minus_the_floor_division():
    """d/dy (x - (x // y) * y) = -(x // y): 1 // 0.1 is 9 (floor(1 / 0.1) would be 10), and
    -5 // inf is -1 (the limit of the derivative as y grows) -- whatever x's dtype."""
    for a in (tg.tensor([1, -5, 7], dtype=tg.int16), tg.tensor([1.0, -5.0, 7.0], dtype=tg.float64)):
        y = tg.tensor([0.1, INF, -INF], dtype=tg.float64, requires_grad=True)
        tg.remainder(a, y).sum().backward()
        assert y.grad.tolist() == [-9.0, 1.0, 1.0]


def test_remainder_divisor_gradient_matches_finite_differences():
    xa, ya = np.array([1.0, -5.0, 7.3, 0.7]), np.array([0.3, 2.1, -2.0, 0.3])
    x, y = tg.tensor(xa, requires_grad=True), tg.tensor(ya, requires_grad=True)
    tg.remainder(x, y).sum().backward()
    eps = 1e-7
    fd = (np.remainder(xa, ya + eps) - np.remainder(xa, ya - eps)) / (2 * eps)
    assert np.allclose(y.grad.numpy(), fd, atol=1e-4) and x.grad.tolist() == [1.0] * 4


def test_integer_beside_float16_is_cast_to_float16_before_the_op():
    """torch's promotion casts the int16 operand to the result dtype first: 32767 is 32768.0 in
    float16, and 32768 % 2.5 is 0.5 (not 32767 % 2.5 = 2)."""
    a = tg.tensor([32767, 7], dtype=tg.int16)
    b = tg.tensor([2.5, 2.5], dtype=tg.float16)
    assert tg.remainder(a, b).tolist() == [0.5, 2.0]
    assert tg.atan2(tg.tensor([2049], dtype=tg.int32), tg.tensor([1.0], dtype=tg.float16)).item() == \
        pytest.approx(math.atan2(2048.0, 1.0), abs=1e-3)


# -- a 0-d tensor of the same category is cast, not promoted (torch's documented rule) -----------
def test_comparison_with_a_zero_dim_integer_tensor_casts_it_to_the_tensors_dtype():
    a = tg.tensor([4, 250], dtype=tg.uint8)
    assert (a > tg.tensor(-3, dtype=tg.int8)).tolist() == [False, False]      # -3 is 253
    assert (tg.tensor(-3, dtype=tg.int8) < a).tolist() == [False, False]
    assert a.eq(tg.tensor(-6)).tolist() == [False, True]                      # -6 is 250
    assert (a < tg.tensor(-3)).tolist() == [True, True]
    assert (a > tg.tensor([4, -6], dtype=tg.int8)).tolist() == [False, True]  # dimensioned: int16
    assert (tg.tensor([0.1], dtype=tg.float32) == tg.tensor(0.1, dtype=tg.float64)).item()
    assert (tg.tensor([1, 2]) > tg.tensor(1.5, dtype=tg.float64)).tolist() == [False, True]


def test_integer_clamp_by_zero_dim_tensor_bounds_casts_them_first():
    a = tg.tensor([4, 250], dtype=tg.uint8)
    assert a.clamp(min=tg.tensor(-6)).tolist() == [250, 250]
    assert a.clamp(max=tg.tensor(-6)).tolist() == [4, 250]
    assert a.clamp(tg.tensor(-6), tg.tensor(-1)).tolist() == [250, 250]
    b = tg.tensor([4, 251], dtype=tg.uint8)
    b.clamp_(min=tg.tensor(-6))
    assert b.tolist() == [250, 251] and b.dtype == tg.uint8


# -- lerp ----------------------------------------------------------------------------------------
def test_lerp_tensor_weight_gradient_at_an_infinite_weight_is_the_formula_not_nan():
    x = tg.tensor([1.0, 3.0, 0.0], dtype=tg.float64, requires_grad=True)
    e = tg.tensor([2.0, 1.0, 0.0], dtype=tg.float64, requires_grad=True)
    w = tg.tensor([INF, INF, 0.3], dtype=tg.float64, requires_grad=True)
    z = tg.lerp(x, e, w)
    assert z.grad_fn.name() == "LerpBackward1" and z.tolist() == [INF, -INF, 0.0]
    z.sum().backward()       # d/dx = 1 - w, d/de = w, d/dw = e - x
    assert x.grad.tolist() == [-INF, -INF, 0.7] and e.grad.tolist() == [INF, INF, 0.3]
    assert w.grad.tolist() == [1.0, -2.0, 0.0]


def test_lerp_tensor_weight_broadcast_gradients_and_second_order_match_gradcheck():
    rng = np.random.default_rng(1)
    args = tuple(tg.tensor(rng.normal(size=s), requires_grad=True) for s in [(2, 3), (3,), (2, 1)])
    assert tg.autograd.gradcheck(tg.lerp, args)
    assert tg.autograd.gradgradcheck(tg.lerp, args)


def test_lerp_takes_a_bool_weight_and_a_zero_dim_weight_of_another_dtype():
    x, e = tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])
    assert tg.lerp(x, e, True).tolist() == [3.0, 4.0] and x.lerp(e, False).tolist() == [1.0, 2.0]
    for w in (tg.tensor(0.5, dtype=tg.float64), tg.tensor(0.5, dtype=tg.float16)):
        assert x.lerp(e, w).dtype == tg.float32 and x.lerp(e, w).tolist() == [2.0, 3.0]
        y = x.clone()
        y.lerp_(e, w)
        assert y.tolist() == [2.0, 3.0] and y.dtype == tg.float32
    y = x.clone()
    y.lerp_(e, tg.tensor(1))
    assert y.tolist() == [3.0, 4.0]
    w = tg.tensor(0.25, dtype=tg.float64, requires_grad=True)     # its gradient in its own dtype
    x.lerp(tg.tensor([3.0, 6.0]), w).sum().backward()
    assert w.grad.dtype == tg.float64 and w.grad.item() == 6.0


def test_lerp_refuses_a_weight_with_dimensions_of_another_dtype():
    with pytest.raises(tg.errors.DTypeError, match="weight float64"):
        tg.tensor([1.0, 2.0]).lerp(tg.tensor([3.0, 4.0]), tg.tensor([0.5, 0.5], dtype=tg.float64))


# -- xlogy, shifts, round: torch's overloads and error types --------------------------------------
def test_xlogy_takes_a_number_first_as_torchs_scalar_overload():
    f = tg.tensor([1.0, 2.0, 0.0])
    y = tg.xlogy(3, f)
    assert y.dtype == tg.float32 and np.allclose(y.numpy()[:2], [0.0, 3 * math.log(2)])
    assert y[2].item() == -INF
    assert tg.xlogy(0, f).tolist() == [0.0, 0.0, 0.0]                       # 0 * log(0) is 0
    assert tg.xlogy(3, tg.tensor([1, 2])).dtype == tg.float32
    assert tg.xlogy(2.5, tg.tensor([2.0], dtype=tg.float64)).dtype == tg.float64
    assert np.allclose(tg.xlogy(True, tg.tensor([2.0])).numpy(), [math.log(2)])
    t = tg.tensor([2.0, 4.0], requires_grad=True)
    tg.xlogy(3, t).sum().backward()
    assert np.allclose(t.grad.numpy(), [1.5, 0.75])                         # d/dt 3 log t = 3 / t


def test_xlogy_of_an_integer_tensor_keeps_a_number_beyond_its_range():
    a = tg.tensor([1, 2], dtype=tg.int8)
    assert np.allclose(a.xlogy(300).numpy(), [math.log(300), 2 * math.log(300)], rtol=1e-6)
    with pytest.raises(RuntimeError, match="int8"):       # torch: "result type Float can't be cast"
        a.clone().xlogy_(300)
    assert a.fmod(300).tolist() == [1, 2] and a.fmod(300).dtype == tg.int8


def test_a_float_shifted_by_a_tensor_is_torchs_not_implemented_error():
    t = tg.tensor([1, 2])
    with pytest.raises(NotImplementedError, match="bitwise_left_shift"):
        2.0 << t
    with pytest.raises(NotImplementedError, match="bitwise_right_shift"):
        2.0 >> t
    with pytest.raises(TypeError):
        "a" << t
    assert (2 << t).tolist() == [4, 8] and (True << t).tolist() == [2, 4]


@pytest.mark.parametrize("dtype", [tg.int64, tg.int8, tg.uint8, tg.bool])
@pytest.mark.parametrize("decimals", [0, 1, -1])
def test_round_with_decimals_refuses_integer_tensors_as_torch(dtype, decimals):
    t = tg.tensor([1, 0], dtype=dtype)
    with pytest.raises(NotImplementedError, match="round"):
        t.round(decimals=decimals)
    with pytest.raises(NotImplementedError, match="round"):
        tg.special.round(t, decimals=decimals)


def test_round_without_decimals_keeps_an_integer_tensor_and_floats_round():
    t = tg.tensor([15, -3])
    assert tg.round(t).tolist() == [15, -3] and tg.round(t).dtype == tg.int64
    assert tg.round(tg.tensor([1.26]), decimals=1).tolist() == pytest.approx([1.3])
    assert tg.tensor([2.5]).round(decimals=0).tolist() == [2.0]
    assert tg.round(tg.tensor([12.6]), decimals=-1).tolist() == [10.0]


def test_lerp_shapes_that_do_not_broadcast_raise_a_shape_error_naming_them():
    with pytest.raises(tg.errors.ShapeError, match=r"\(5, 1\) \(input\), \(3, 1\) \(end\)"):
        tg.lerp(tg.ones(5, 1), tg.ones(3, 1), tg.ones(5, 1))
