"""torch's elementwise math, in-place forms and reductions (tensorgan/math_ops.py): values against
NumPy / math formulas written from torch's documentation, gradients by gradcheck and gradgradcheck
in float64, the in-place rules (version, leaves, no_grad), and refusals."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorgan as tg
from tensorgan.errors import DTypeError, InputTypeError, ShapeError, TensorganError

RNG = np.random.default_rng(7)
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal((1, 4)) + 3.1            # broadcasts against X; away from 0
U = RNG.uniform(-0.9, 0.9, (3, 4))
P = RNG.uniform(0.1, 0.9, (3, 4))
Z = X.copy()
Z[0, 1] = Z[2, 3] = Z[2, 0] = 0.0                 # one zero in row 0 and column 1, two in row 2


def f64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype=tg.float64, requires_grad=requires_grad)


def erf(a):
    return np.vectorize(math.erf)(a)


UNARY = {  # name: (input, NumPy reference)
    "erf": (X, erf), "expm1": (X, np.expm1), "sinh": (X, np.sinh), "cosh": (X, np.cosh),
    "tan": (X, np.tan), "atan": (X, np.arctan), "asin": (U, np.arcsin), "acos": (U, np.arccos),
    "log2": (np.abs(X) + 0.5, np.log2), "log10": (np.abs(X) + 0.5, np.log10),
    "frac": (X * 3, lambda a: a - np.trunc(a)), "logit": (P, lambda a: np.log(a / (1 - a))),
    "nan_to_num": (X, lambda a: a), "erfinv": (U, None),
}
BINARY = {  # name: NumPy reference of (x, y)
    "atan2": np.arctan2, "hypot": np.hypot, "logaddexp": np.logaddexp,
    "xlogy": lambda x, y: x * np.log(y), "fmod": np.fmod, "remainder": np.remainder,
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_match_numpy_and_their_function_forms(name):
    a, reference = UNARY[name]
    x = f64(a)
    y = getattr(x, name)()
    assert y.dtype == tg.float64 and y.requires_grad
    if reference is not None:
        np.testing.assert_allclose(y.numpy(), reference(a), rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(getattr(tg, name)(x).numpy(), y.numpy())
    assert getattr(x.float(), name)().dtype == tg.float32


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_broadcast_and_match_numpy(name):
    x, y = f64(X * 2), f64(Y)
    out = getattr(x, name)(y)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out.numpy(), BINARY[name](X * 2, Y), rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(getattr(tg, name)(x, y).numpy(), out.numpy())


def wrapped(fn):
    """fn's output squared: its second derivative depends on the input even for a linear fn."""
    return lambda *a: fn(*a) * fn(*a)


GRAD_CASES = {
    **{n: (lambda a, n=n: getattr(a, n)(), [UNARY[n][0]]) for n in UNARY},
    **{n: (lambda a, b, n=n: getattr(a, n)(b), [X * 2, Y]) for n in BINARY},
    "xlogy number": (lambda a: a.xlogy(2.5), [X]), "fmod number": (lambda a: a.fmod(-1.5), [X * 3]),
    "logit eps": (lambda a: a.logit(eps=0.2), [P]),
    "addcmul": (lambda a, b, c: a.addcmul(b, c, value=0.5), [X, Y, X]),
    "addcdiv": (lambda a, b, c: tg.addcdiv(a, b, c, value=-2), [X, Y, P]),
    "clamp_min": (lambda a: a.clamp_min(0.1), [X]), "clamp_max": (lambda a: tg.clamp_max(a, 0.1), [X]),
    "prod": (lambda a: a.prod(), [Z]), "prod dim 0": (lambda a: a.prod(0), [Z]),
    "prod dim 1 keepdim": (lambda a: tg.prod(a, 1, keepdim=True), [Z]), "prod no zeros": (lambda a: a.prod(-1), [X]),
    "cumsum": (lambda a: a.cumsum(1), [X]), "cumprod 0": (lambda a: a.cumprod(0), [Z]),
    "cumprod 1": (lambda a: tg.cumprod(a, 1), [Z]), "logcumsumexp": (lambda a: a.logcumsumexp(1), [X]),
    "logcumsumexp 0": (lambda a: tg.logcumsumexp(a, 0), [X]),
    "nansum": (lambda a: a.nansum(1), [np.where(X > 1, np.nan, X)]),
    "nanmean": (lambda a: tg.nanmean(a, 0), [np.where(X > 1, np.nan, X)]),
    "median": (lambda a: a.median(), [X]), "median dim": (lambda a: a.median(1).values, [X]),
    "var_mean": (lambda a: tg.var_mean(a, 1)[0] + tg.var_mean(a, 1)[1], [X]),
    "std_mean": (lambda a: tg.std_mean(a, 0, correction=0)[0] * tg.std_mean(a, 0)[1], [X]),
    "aminmax": (lambda a: tg.aminmax(a, dim=0).max - a.aminmax(dim=0).min, [X]),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_and_gradients_of_gradients(name):
    fn, arrays = GRAD_CASES[name]
    assert tg.gradcheck(fn, [f64(a) for a in arrays])
    assert tg.gradgradcheck(wrapped(fn), [f64(a) for a in arrays])


# -- torch's edge conventions --------------------------------------------------------------
def test_fmod_takes_the_dividends_sign_and_remainder_the_divisors():
    a, b = np.array([5.0, -5.0, 5.0, -5.0, 1.5]), np.array([3.0, 3.0, -3.0, -3.0, 0.0])
    fmod, rem = f64(a).fmod(f64(b)).numpy(), f64(a).remainder(f64(b)).numpy()
    np.testing.assert_array_equal(fmod[:4], [math.fmod(p, q) for p, q in zip(a[:4], b[:4])])
    np.testing.assert_array_equal(rem[:4], [p % q for p, q in zip(a[:4], b[:4])])
    assert np.isnan(fmod[4]) and np.isnan(rem[4])                    # by zero: NaN, as torch
    x, y = f64(a[:4]), f64(b[:4])
    x.remainder(y).sum().backward()                                  # d/dy = -floor(x / y)
    np.testing.assert_array_equal(y.grad.numpy(), -np.floor(a[:4] / b[:4]))


def test_xlogy_is_zero_where_x_is_zero_and_its_gradient_follows_torch():
    x, y = f64([0.0, 0.0, 1.0, 2.0, 0.0]), f64([0.0, np.nan, 2.0, 0.0, 3.0])
    out = x.xlogy(y)
    np.testing.assert_array_equal(out.numpy(), [0.0, np.nan, math.log(2), -np.inf, 0.0])
    out.sum().backward()
    # d/dx = log(y), but 0 where x == 0 and y <= 0; d/dy = x / y
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, np.nan, math.log(2), -np.inf, math.log(3)])
    np.testing.assert_array_equal(y.grad.numpy(), [np.nan, np.nan, 0.5, np.inf, 0.0])


def test_logit_eps_clamps_and_outside_gradients_are_torchs():
    x = f64([-0.5, 0.1, 0.5, 0.95, 1.5])
    out = x.logit(eps=0.2)
    z = np.clip(x.numpy(), 0.2, 0.8)
    np.testing.assert_allclose(out.numpy(), np.log(z / (1 - z)), rtol=1e-15)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 4.0, 0.0, 0.0])
    x = f64([-0.5, 0.0, 1.5])
    x.logit().sum().backward()                       # no eps: NaN outside [0, 1], inf at 0
    assert np.isnan(x.grad.numpy()[[0, 2]]).all() and x.grad.numpy()[1] == np.inf


def test_nan_to_num_defaults_are_the_dtypes_extremes_and_replaced_elements_get_no_gradient():
    a = [np.nan, np.inf, -np.inf, 1.5]
    for dtype in (tg.float32, tg.float64):
        info = np.finfo(dtype)
        out = tg.tensor(a, dtype=dtype).nan_to_num()
        np.testing.assert_array_equal(out.numpy(), np.array([0.0, info.max, info.min, 1.5], dtype=dtype))
    x = f64(a)
    out = tg.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-3.0)
    np.testing.assert_array_equal(out.numpy(), [1.0, 2.0, -3.0, 1.5])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0, 1.0])


@settings(max_examples=40, deadline=None)
@given(st.floats(-0.999999, 0.999999))
def test_erfinv_inverts_erf(y):
    x = f64([y], requires_grad=False).erfinv().item()
    assert abs(math.erf(x) - y) <= 4e-16 + 1e-15 * abs(y)


def test_erfinv_known_values_and_range():
    out = f64([0.0, 0.5, -0.9, 1.0, -1.0, 1.5], requires_grad=False).erfinv().numpy()
    np.testing.assert_allclose(out[:3], [0.0, 0.4769362762044699, -1.1630871536766743], rtol=1e-15)
    assert out[3] == np.inf and out[4] == -np.inf and np.isnan(out[5])


# -- reductions ------------------------------------------------------------------------------
def test_prod_gradient_with_zeros_is_the_product_of_the_others():
    x = f64([2.0, 0.0, 3.0, 4.0])
    x.prod().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 24.0, 0.0, 0.0])  # one zero
    x = f64([2.0, 0.0, 3.0, 0.0])
    x.prod().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0, 0.0])   # two zeros
    x = f64(Z)
    x.prod(1).sum().backward()
    others = np.array([[np.prod(np.delete(row, i)) for i in range(4)] for row in Z])
    np.testing.assert_allclose(x.grad.numpy(), others, rtol=1e-14)


def test_prod_shapes_and_dims():
    x = f64(Z, requires_grad=False)
    assert x.prod().shape == () and x.prod().item() == np.prod(Z)
    assert x.prod(dim=-1, keepdim=True).shape == (3, 1) and x.prod(0).shape == (4,)
    np.testing.assert_allclose(x.prod(0).numpy(), np.prod(Z, axis=0), rtol=1e-15)
    assert f64(np.zeros((0, 3))).prod().item() == 1.0                       # the empty product
    assert f64(2.5).prod(0).item() == 2.5 and x.prod(1, dtype=tg.float32).dtype == tg.float32


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scans_match_running_loops(dim):
    x = f64(X, requires_grad=False)
    np.testing.assert_allclose(x.cumsum(dim).numpy(), np.cumsum(X, axis=dim), rtol=1e-14)
    np.testing.assert_allclose(tg.cumprod(f64(Z), dim).detach().numpy(), np.cumprod(Z, axis=dim), rtol=1e-14)
    big = X * 400                                     # exp overflows: the running logsumexp must not
    expected = np.logaddexp.accumulate(big, axis=dim)
    np.testing.assert_allclose(f64(big).logcumsumexp(dim).detach().numpy(), expected, rtol=1e-14)


def test_scans_on_0d_and_empty_tensors():
    assert f64(3.0).cumsum(0).item() == 3.0 and f64(3.0).cumprod(-1).item() == 3.0
    assert f64(3.0).logcumsumexp(0).item() == 3.0
    empty = f64(np.zeros((0, 2)))
    assert empty.cumsum(0).shape == (0, 2) and empty.cumprod(0).shape == (0, 2)
    assert empty.logcumsumexp(0).shape == (0, 2)


def test_nansum_and_nanmean_skip_nans():
    a = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])
    x = f64(a)
    np.testing.assert_array_equal(x.nansum(1).detach().numpy(), [4.0, 0.0])
    assert tg.nansum(x).item() == 4.0 and x.nansum(dim=0, keepdim=True).shape == (1, 3)
    means = x.nanmean(1).detach().numpy()
    assert means[0] == 2.0 and np.isnan(means[1])                  # no numbers: NaN
    x.nansum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])


def test_var_mean_and_std_mean_take_torchs_arguments():
    x = f64(X, requires_grad=False)
    var, mean = tg.var_mean(x, 1, keepdim=True)
    np.testing.assert_allclose(var.numpy(), X.var(1, ddof=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(mean.numpy(), X.mean(1, keepdims=True), rtol=1e-14)
    std, mean = tg.std_mean(x, correction=0)
    assert np.isclose(std.item(), X.std()) and np.isclose(mean.item(), X.mean())
    var, _ = tg.var_mean(x, False)                                    # positional unbiased
    assert np.isclose(var.item(), X.var())
    assert tg.var_mean(x, (0, 1), unbiased=True)[0].shape == ()
    assert tg.var_mean(x, keepdim=True)[1].shape == (1, 1)


def test_count_nonzero_and_aminmax():
    x = f64(Z, requires_grad=False)
    counts = tg.count_nonzero(x, dim=1)
    assert counts.tolist() == [3, 4, 2] and counts.dtype == tg.int64          # torch's dtype
    assert x.count_nonzero().item() == 9 and x.count_nonzero((0, 1)).item() == 9
    assert (x > 0).count_nonzero().dtype == tg.int64
    low, high = tg.aminmax(x, dim=0)
    np.testing.assert_array_equal(low.numpy(), Z.min(0))
    assert x.aminmax().max.item() == Z.max() and x.aminmax(dim=1, keepdim=True).min.shape == (3, 1)


def test_median_is_the_lower_median_with_indices():
    a = np.array([[1.0, 2.0, 2.0, 3.0], [5.0, 5.0, 5.0, 1.0], [4.0, 0.0, -1.0, 9.0]])
    x = f64(a)
    assert x.median().item() == np.sort(a.ravel())[(a.size - 1) // 2]
    values, indices = x.median(1)
    assert values.tolist() == [2.0, 5.0, 0.0] and indices.tolist() == [1.0, 0.0, 1.0]
    assert tg.median(x, 0, keepdim=True).values.shape == (1, 4)
    assert x.median(dim=-1).indices.dtype == tg.int64
    values.sum().backward()                                            # to the chosen elements
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0]])


def test_median_propagates_nan_and_handles_0d_and_empty():
    a = np.array([[3.0, np.nan, 1.0, np.nan], [1.0, 2.0, 3.0, 4.0]])
    values, indices = f64(a).median(1)
    assert np.isnan(values.tolist()[0]) and indices.tolist() == [1.0, 1.0]
    assert np.isnan(f64(a).median().item()) and np.isnan(f64(np.zeros(0)).median().item())
    assert f64(4.0).median(0).values.item() == 4.0 and f64(4.0).median(0).indices.item() == 0.0
    with pytest.raises(ShapeError, match="empty"):
        f64(np.zeros((2, 0))).median(1)


# -- small composites and queries -----------------------------------------------------------
def test_addcmul_addcdiv_clamp_min_max():
    x, a, b = f64(X, False), f64(Y, False), f64(P, False)
    np.testing.assert_allclose(x.addcmul(a, b, value=0.5).numpy(), X + 0.5 * Y * P, rtol=1e-15)
    np.testing.assert_allclose(tg.addcdiv(x, a, b).numpy(), X + Y / P, rtol=1e-15)
    np.testing.assert_array_equal(tg.clamp_min(x, 0.2).numpy(), np.maximum(X, 0.2))
    np.testing.assert_array_equal(x.clamp_max(0.2).numpy(), np.minimum(X, 0.2))


def test_queries_and_new_tensors():
    x = tg.tensor([1.0, 2.0])
    assert x.is_floating_point() and tg.is_floating_point(x) and not (x > 1).is_floating_point()
    assert x.is_cpu and not x.is_cuda and x.get_device() == -1
    assert x.nbytes == 8 and x.itemsize == 4 and f64([1.0]).itemsize == 8
    assert tg.is_tensor(x) and not tg.is_tensor(np.ones(2)) and tg.numel(x) == 2
    made = x.new_tensor([[1, 2, 3]])
    assert made.dtype == tg.float32 and made.shape == (1, 3) and not made.requires_grad
    copy = x.new_tensor(x, dtype=tg.float64, requires_grad=True)
    assert copy.dtype == tg.float64 and copy.requires_grad and copy.array is not x.array
    assert x.new_empty(2, 3).shape == (2, 3) and x.new_empty((4,), dtype=tg.float64).dtype == tg.float64
    like = tg.empty_like(f64(X))
    assert like.shape == X.shape and like.dtype == tg.float64 and tg.empty_like(x, dtype="float64").dtype == tg.float64


# -- in-place forms --------------------------------------------------------------------------
IN_PLACE = {  # name_: (args, input)
    "abs_": ((), X), "exp_": ((), X), "log_": ((), P), "sigmoid_": ((), X), "tanh_": ((), X),
    "relu_": ((), X), "neg_": ((), X), "pow_": ((3,), X), "sqrt_": ((), P), "rsqrt_": ((), P),
    "reciprocal_": ((), P), "round_": ((), X * 3), "floor_": ((), X * 3), "ceil_": ((), X * 3),
    "sign_": ((), X), "log1p_": ((), P), "sin_": ((), X), "cos_": ((), X), "square_": ((), X),
    "erf_": ((), X), "expm1_": ((), X), "frac_": ((), X * 3), "trunc_": ((), X * 3),
    "clamp_min_": ((0.1,), X), "clamp_max_": ((0.1,), X), "clip_": ((-0.5, 0.5), X),
    "addcmul_": ((f64(Y, False), f64(X, False)), X), "atan2_": ((f64(Y, False),), X),
    "fmod_": ((1.5,), X * 3), "remainder_": ((1.5,), X * 3), "nan_to_num_": ((), X), "logit_": ((), P),
}


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_forms_write_the_out_of_place_result_and_bump_the_version(name):
    args, a = IN_PLACE[name]
    x = f64(a, requires_grad=False)
    expected = getattr(x, name.rstrip("_"))(*args).numpy()
    array, version = x.array, x._version
    assert getattr(x, name)(*args) is x
    assert x.array is array and x._version == version + 1
    np.testing.assert_array_equal(x.numpy(), expected)


def test_in_place_rules_follow_the_existing_ones():
    leaf = f64([0.5, 1.0])
    with pytest.raises(TensorganError, match="exp_ on a leaf tensor that requires grad"):
        leaf.exp_()
    tracked = leaf * 2.0                                      # an op's result: a graph op, as torch
    tracked.exp_()
    tracked.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), 2 * np.exp([1.0, 2.0]))
    leaf.grad = None
    with tg.no_grad():
        leaf.exp_()                                           # a parameter update: allowed
    np.testing.assert_allclose(leaf.detach().numpy(), np.exp([0.5, 1.0]))
    joined = f64([1.0, 2.0], False).addcmul_(leaf, leaf)     # a constant joins the graph
    assert joined.requires_grad
    np.testing.assert_allclose(joined.detach().numpy(), [1.0 + np.e, 2.0 + np.e ** 2])
    x = f64([1.0, 2.0])
    h = x * 1.0
    loss = (h * h).sum()
    h.detach().sigmoid_()                                     # the graph's input changed
    with pytest.raises(TensorganError, match="modified in place"):
        loss.backward()
    assert tg.relu_(f64([-1.0, 2.0], False)).tolist() == [0.0, 2.0]
    with pytest.raises(ShapeError, match="pow_"):
        f64([1.0, 2.0], False).pow_(f64([[1.0], [2.0]], False))


# -- refusals ----------------------------------------------------------------------------------
def test_refusals_name_what_was_wrong():
    x = f64(X, False)
    with pytest.raises(InputTypeError, match="atan2: other must be a Tensor"):
        x.atan2(2.0)
    with pytest.raises(InputTypeError, match="fmod: other must be a Tensor or a number, got str"):
        x.fmod("2")
    with pytest.raises(ShapeError, match=r"hypot: shapes \(3, 4\) and \(3,\)"):
        x.hypot(f64([1.0, 2.0, 3.0], False))
    with pytest.raises(DTypeError, match="bool tensor"):      # a mask has no arithmetic -
        (x > 0).sub(x > 0)                                     # (erf of one is float32, as torch)
    with pytest.raises(DTypeError, match="median: takes a number tensor, got a bool"):
        (x > 0).median()
    with pytest.raises(InputTypeError, match="prod: dim must be one int"):
        x.prod((0, 1))
    with pytest.raises(ShapeError, match="cumsum: dim 2 is out of range"):
        x.cumsum(2)
    with pytest.raises(ShapeError, match="out of range"):
        f64(1.0).cumprod(1)
    with pytest.raises(InputTypeError, match="addcmul: tensor1 and tensor2 must be Tensors"):
        x.addcmul(2.0, x)
    with pytest.raises(InputTypeError, match="logit: eps must be a real number"):
        x.logit(eps="small")
    with pytest.raises(InputTypeError, match="aminmax: dim must be an int"):
        x.aminmax(dim=(0, 1))
    with pytest.raises(InputTypeError, match="tg.var_mean: input must be a Tensor"):
        tg.var_mean(X)
    with pytest.raises(InputTypeError, match="tg.erf: input must be a Tensor"):
        tg.erf(X)
    with pytest.raises(InputTypeError, match="empty_like: expected a Tensor"):
        tg.empty_like(X)
