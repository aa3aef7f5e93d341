"""The public API with integer and bool arguments, as torch 2.13 types them: each case here was a
difference found by calling every tg / Tensor / F name with int64 / int32 / uint8 / bool tensors
beside torch (wrong values, a float dtype where torch keeps the integer one, a silent truncation,
a refusal torch does not make).  Expected values come from NumPy or by hand."""
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeError

F = tg.nn.functional
A = np.array([[3, -1, 4], [1, -5, 9]])
U = np.array([[3, 1, 4], [1, 5, 0]], np.uint8)
M = np.array([[True, False, True], [False, True, True]])


def check(out, expected, dtype):
    """``out`` has ``dtype`` and exactly ``expected``'s values (allclose for floats)."""
    assert out.dtype == np.dtype(dtype), out.dtype
    expected = np.asarray(expected)
    if np.dtype(dtype).kind == "f":
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    else:
        np.testing.assert_array_equal(out.numpy(), expected)


# -- reductions --------------------------------------------------------------------------------
def test_min_of_unsigned_and_extreme_integers_is_the_smallest_element():
    u = tg.tensor(U)                        # min was -max(-x): wrapped for uint8 (gave 1, not 0)
    check(u.amin(), 0, "uint8")
    check(u.min(), 0, "uint8")
    check(u.min(1).values, [1, 0], "uint8")
    check(u.aminmax().min, 0, "uint8")
    big = tg.tensor([np.iinfo(np.int64).min, 0])             # -(-2**63) overflows
    check(big.amin(), np.iinfo(np.int64).min, "int64")


def test_amax_and_amin_of_masks_are_bools():
    m = tg.tensor(M)
    check(m.amax(), True, "bool")
    check(m.amin(1), [False, False], "bool")
    check(m.aminmax().max, True, "bool")


def test_integer_products_and_scans_accumulate_in_int64():
    u, m, i32 = tg.tensor(U), tg.tensor(M), tg.tensor(A.astype(np.int32))
    check(u.cumsum(1), np.cumsum(U.astype(np.int64), 1), "int64")       # was uint64
    check(u.cumprod(1), np.cumprod(U.astype(np.int64), 1), "int64")
    check(u.prod(), 0, "int64")
    check(tg.tensor(np.full(3, 200, np.uint8)).prod(), 200 ** 3, "int64")   # no uint8 wrap
    check(m.cumsum(1), np.cumsum(M, 1), "int64")
    check(i32.prod(1), A.prod(1), "int64")
    check(tg.tensor(3).prod(0), 3, "int64")                              # was float32
    check(tg.tensor(A).nansum(), A.sum(), "int64")                       # was float32
    check(u.nansum(0), U.astype(np.int64).sum(0), "int64")


def test_logsumexp_of_integers_is_float32_without_wrapping():
    expected = np.log(np.exp(U.astype(np.float64)).sum(1))               # was inf for uint8
    check(tg.tensor(U).logsumexp(1), expected, "float32")
    check(tg.tensor(A).logsumexp(0), np.log(np.exp(A.astype(np.float64)).sum(0)), "float32")


# -- in place ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["exp_", "sqrt_", "sigmoid_", "log_", "reciprocal_"])
def test_float_results_are_not_truncated_into_integer_tensors_in_place(name):
    t = tg.tensor([1, 2])                    # exp_() used to write [2, 7]; torch refuses
    with pytest.raises(DTypeError, match=f"{name}: the result is float32.*int64"):
        getattr(t, name)()
    assert t.tolist() == [1, 2]
    with pytest.raises(DTypeError, match="square_: the result is int64.*bool"):
        tg.tensor(M).square_()


def test_exact_in_place_updates_of_integers_still_work():
    t = tg.tensor([-3, 5])
    assert t.clone().clamp_(0, 4).tolist() == [0, 4] and t.clone().neg_().tolist() == [3, -5]
    assert t.clone().abs_().tolist() == [3, 5]
    i32 = tg.tensor(np.array([1, 2], np.int32))
    i32.add_(tg.tensor([10, 20]))                            # int64 into int32: same kind
    check(i32, [11, 22], "int32")


# -- powers and division -----------------------------------------------------------------------
def test_number_to_an_integer_tensor_power():
    a = tg.tensor([3, 1, 4])
    check(2.5 ** a, 2.5 ** np.array([3.0, 1.0, 4.0]), "float32")        # was 2 ** a
    check(tg.pow(2.5, a), [15.625, 2.5, 39.0625], "float32")
    check(2 ** a, [8, 2, 16], "int64")
    check(tg.pow(2, tg.tensor(U[0])), [8, 2, 16], "uint8")
    check(2 ** tg.tensor(M[0]), [2, 1, 2], "int64")
    check(2 ** tg.tensor([-1, 2]), [0, 4], "int64")      # torch's integer pow: 1 / 2 truncated


def test_a_python_bool_operand_counts_as_an_integer():
    a = tg.tensor([3, -1, 4])
    check(a ** True, [3, -1, 4], "int64")
    check(a // True, [3, -1, 4], "int64")
    check(tg.floor_divide(a, True), [3, -1, 4], "int64")


# -- activations, linear, pooling, losses ------------------------------------------------------
def test_hardtanh_relu6_threshold_keep_integers_with_bounds_truncated():
    x = tg.tensor([-1, 0, 1, 2, 4])
    check(F.hardtanh(x, 0.5, 3), [0, 0, 1, 2, 3], "int64")      # 0.5 -> 0, as torch casts it
    check(F.hardtanh(x, -0.5, 2.5), [0, 0, 1, 2, 2], "int64")
    check(F.relu6(x * 3), [0, 0, 3, 6, 6], "int64")
    check(F.threshold(x, 0.5, 2.7), [2, 2, 1, 2, 4], "int64")
    check(F.threshold(x, -0.5, -1.7), [-1, -1, 1, 2, 4], "int64")
    check(F.hardtanh(tg.tensor(np.array([1, 9], np.int32)), 0, 3), [1, 3], "int32")
    f = tg.tensor([-2.0, 0.5, 2.0], dtype="float64", requires_grad=True)   # floats unchanged
    assert tg.gradcheck(lambda v: F.hardtanh(v, -1.5, 1.5) * v, (f,))


def test_integer_linear_and_max_pool_stay_integer():
    x, w, b = np.array([[1, 2], [3, -4]]), np.array([[1, 2], [5, -1]]), np.array([5, 0])
    check(F.linear(tg.tensor(x), tg.tensor(w), tg.tensor(b)), x @ w.T + b, "int64")
    grid = np.arange(16).reshape(1, 1, 4, 4)
    check(F.max_pool2d(tg.tensor(grid), 2), [[[[5, 7], [13, 15]]]], "int64")
    check(F.max_pool2d(tg.tensor(grid.astype(np.uint8)), 2), [[[[5, 7], [13, 15]]]], "uint8")


def test_gaussian_nll_loss_of_integers_computes_in_float32():
    t = np.array([[2, 0, 4], [1, -3, 5]])               # var 0.5 was cut to int 0: NaN
    expected = (0.5 * (np.log(0.5) + (A - t) ** 2 / 0.5)).mean()
    check(F.gaussian_nll_loss(tg.tensor(A), tg.tensor(t), 0.5), expected, "float32")


# -- masks (bool tensors) ----------------------------------------------------------------------
def test_float_math_of_a_mask_is_float32():
    m, x = tg.tensor(M), M.astype(np.float64)
    check(m.exp(), np.exp(x), "float32")
    check(tg.sigmoid(m), 1 / (1 + np.exp(-x)), "float32")
    check(m.erf(), [[math.erf(v) for v in row] for row in x], "float32")
    check(m.sqrt(), x, "float32")
    check(tg.cat([m[0], tg.tensor([0.5])]), [1.0, 0.0, 1.0, 0.5], "float32")
    check(tg.cat([m[0], tg.tensor(np.array([0.5]))]), [1.0, 0.0, 1.0, 0.5], "float64")
    check(tg.where(m, m, tg.tensor(0.5)), np.where(M, 1.0, 0.5), "float32")


def test_mask_arithmetic_is_logical_as_torch():
    m, n = tg.tensor(M), tg.tensor(~M[::-1])
    check(m + n, M | ~M[::-1], "bool")
    check(m * n, M & ~M[::-1], "bool")
    check(m * True, M, "bool")
    check(m.square(), M.astype(np.int64), "int64")
    check(m / m, np.where(M, 1.0, np.nan), "float32")
    check(m + 1, M + 1, "int64")
    with pytest.raises(DTypeError, match="bool tensor"):
        m - n
    check(tg.kron(m[:1, :2], n[:1, :2]), np.kron(M[:1, :2], ~M[::-1][:1, :2]), "bool")


def test_shape_and_selection_ops_keep_masks_bool():
    m = tg.tensor(M)
    check(m.tril(), np.tril(M), "bool")
    check(tg.triu(m, 1), np.triu(M, 1), "bool")
    check(m.masked_fill(~m, 0.5), np.ones_like(M), "bool")      # 0.5 is True in a mask
    check(F.pad(m, (1, 0)), np.pad(M, ((0, 0), (1, 0))), "bool")
    check(m[0].diag_embed(), np.diag(M[0]), "bool")
    check(m.sign(), M, "bool")
    check(m.diff(), M[:, 1:] ^ M[:, :-1], "bool")


def test_maximum_and_minimum_mix_integers_bools_and_floats():
    a, m = tg.tensor(A), tg.tensor(M)
    check(a.maximum(m), np.maximum(A, M), "int64")
    check(tg.minimum(m, a), np.minimum(A, M), "int64")
    check(m.maximum(~m), np.ones_like(M), "bool")
    check(a.max(m), np.maximum(A, M), "int64")
    d = tg.tensor(np.array([[0.5, 0.5, 5.0], [2.0, -9.0, 9.0]]), requires_grad=True)
    check(a.maximum(d), np.maximum(A, d.detach().numpy()), "float64")      # Add mixed dtypes
    check(d.minimum(a), np.minimum(A, d.detach().numpy()), "float64")
    assert tg.gradcheck(lambda v: v.maximum(a) * v, (d,))


def test_masked_fill_keeps_the_tensors_dtype():
    a, m = tg.tensor([1, 2, 3]), tg.tensor([True, False, True])
    check(a.masked_fill(m, 2.7), [2, 2, 2], "int64")           # truncated, as torch casts it
    check(a.masked_fill(m, -2.7), [-2, 2, -2], "int64")
    check(a.masked_fill(m, tg.tensor(2.5)), [2, 2, 2], "int64")
    check(tg.tensor([1.0, 2.0, 3.0]).masked_fill(m, tg.tensor(np.array(4.0))), [4.0, 2.0, 4.0],
          "float32")

