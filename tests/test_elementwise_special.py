"""torch's remaining elementwise names (special_ops.py): special functions against math-module
values and series written here from their definitions, torch's NaN / inf / pole values (from
torch's documentation and C++ kernels), gradients by gradcheck / gradgradcheck in float64,
integer and bool inputs, the alias and in-place names, and the refusals."""
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeError, InputTypeError, ShapeError

EULER = 0.57721566490153286061
INF, NAN = math.inf, math.nan


def f64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype=tg.float64, requires_grad=requires_grad)


def hurwitz(s, x, terms=200000):
    """sum_k (x + k)^-s, the tail after ``terms`` by its Euler-Maclaurin integral."""
    k = np.arange(terms, dtype=np.float64)[:, None]
    head = ((x[None, :] + k) ** -s).sum(0)
    end = x + terms
    return head + end ** (1 - s) / (s - 1) + 0.5 * end ** -s


def bessel_i(order, x, terms=200):
    """sum_k (x/2)^(2k + order) / (k! (k + order)!), each term from the one before."""
    term = (x / 2) ** order / math.factorial(order)
    total = term
    for k in range(1, terms):
        term *= (x / 2) ** 2 / (k * (k + order))
        total += term
    return total


# -- values ------------------------------------------------------------------------------------
def test_lgamma_erfc_match_the_math_module():
    x = np.r_[np.linspace(-7.9, 9.7, 57), 0.5, 1.0, 2.0, 100.25, 1e-5]
    np.testing.assert_allclose(tg.lgamma(f64(x)).numpy(), [math.lgamma(v) for v in x], rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(tg.erfc(f64(x)).numpy(), [math.erfc(v) for v in x], rtol=1e-14, atol=1e-300)
    x32 = tg.tensor(x.astype(np.float32))
    assert tg.lgamma(x32).dtype == tg.float32
    np.testing.assert_allclose(tg.lgamma(x32).numpy(), [math.lgamma(float(v)) for v in x.astype(np.float32)], rtol=1e-6, atol=1e-6)


def test_digamma_and_polygamma_match_their_series():
    assert tg.digamma(f64([1.0, 0.5, 4.0])).numpy() == pytest.approx(
        [-EULER, -EULER - 2 * math.log(2), -EULER + 1 + 1 / 2 + 1 / 3], rel=1e-14)
    x = np.linspace(0.3, 12.0, 17)
    for n in (1, 2, 3, 4):                        # (-1)^(n+1) n! zeta(n + 1, x)
        expected = (-1) ** (n + 1) * math.factorial(n) * hurwitz(n + 1, x)
        np.testing.assert_allclose(tg.polygamma(n, f64(x)).numpy(), expected, rtol=1e-10)
        np.testing.assert_allclose(f64(x).polygamma(n).numpy(), expected, rtol=1e-10)
    neg = np.array([-0.5, -1.3, -2.7, -5.25])     # reflection: psi(1 - x) - psi(x) = pi cot(pi x)
    np.testing.assert_allclose(tg.digamma(f64(1 - neg)).numpy() - tg.digamma(f64(neg)).numpy(),
                               math.pi / np.tan(math.pi * neg), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tg.polygamma(0, f64(x)).numpy(), tg.digamma(f64(x)).numpy(), rtol=0)
    # trigamma at negative x: pi^2 / sin^2(pi x) - trigamma(1 - x)
    np.testing.assert_allclose(tg.polygamma(1, f64(neg)).numpy(),
                               math.pi ** 2 / np.sin(math.pi * neg) ** 2 - hurwitz(2, 1 - neg), rtol=1e-9)


def test_mvlgamma_i0_sinc_exp2_logaddexp2():
    x = np.linspace(1.6, 7.0, 9)
    for p in (1, 2, 3):
        expected = [sum(math.lgamma(v - i / 2) for i in range(p)) + p * (p - 1) / 4 * math.log(math.pi) for v in x]
        np.testing.assert_allclose(tg.mvlgamma(f64(x), p).numpy(), expected, rtol=1e-13)
    x = np.r_[np.linspace(-40, 40, 41), 0.0, 1e-3, 700.0]
    np.testing.assert_allclose(tg.i0(f64(x)).numpy(), [bessel_i(0, v, 600) for v in x], rtol=1e-13)
    y = np.linspace(-3, 3, 13)
    safe = np.where(y == 0, 1, y)
    np.testing.assert_allclose(tg.sinc(f64(y)).numpy(), np.where(y == 0, 1, np.sin(np.pi * safe) / (np.pi * safe)), atol=1e-15)
    np.testing.assert_allclose(tg.exp2(f64(y)).numpy(), 2.0 ** y, rtol=1e-15)
    np.testing.assert_allclose(tg.logaddexp2(f64(y), f64(y[::-1])).numpy(), np.log2(2 ** y + 2 ** y[::-1]), rtol=1e-14)
    np.testing.assert_allclose(tg.deg2rad(f64([180.0, -90.0])).numpy(), [math.pi, -math.pi / 2], rtol=1e-15)
    np.testing.assert_allclose(tg.rad2deg(f64([math.pi])).numpy(), [180.0], rtol=1e-15)
    np.testing.assert_allclose(tg.asinh(f64(y)).numpy(), np.arcsinh(y), rtol=1e-15)
    np.testing.assert_allclose(tg.arccosh(f64(y ** 2 + 1)).numpy(), np.arccosh(y ** 2 + 1), rtol=1e-15)
    np.testing.assert_allclose(tg.atanh(f64(y / 4)).numpy(), np.arctanh(y / 4), rtol=1e-15)


def test_torchs_nan_inf_and_pole_values():
    edges = f64([0.0, -0.0, -1.0, -2.0, INF, -INF, NAN, -2.5], requires_grad=False)
    np.testing.assert_equal(tg.lgamma(edges).numpy()[:7], [INF, INF, INF, INF, INF, INF, NAN])
    np.testing.assert_equal(tg.digamma(edges).numpy()[:7], [-INF, INF, NAN, NAN, INF, NAN, NAN])
    assert tg.digamma(edges).numpy()[7] == pytest.approx(1.1031566406452432, rel=1e-14)
    np.testing.assert_equal(tg.polygamma(2, edges).numpy()[:4], [-INF] * 4)
    np.testing.assert_equal(tg.i0(f64([INF, -INF, NAN, 800.0], False)).numpy(), [NAN, NAN, NAN, INF])
    np.testing.assert_equal(tg.sinc(f64([0.0, INF, NAN], False)).numpy(), [1.0, NAN, NAN])
    np.testing.assert_equal(tg.erfc(f64([INF, -INF, 30.0], False)).numpy(), [0.0, 2.0, 0.0])


def test_copysign_ldexp_float_power_frexp_nextafter():
    x, y = f64([1.5, -2.0, 0.0, 3.0]), f64([-1.0, -0.0, -5.0, 2.0])
    np.testing.assert_equal(tg.copysign(x, y).numpy(), [-1.5, -2.0, -0.0, 3.0])
    assert tg.copysign(tg.tensor([3, -4]), -1).tolist() == [-3.0, -4.0]      # ints: float32
    np.testing.assert_equal(tg.ldexp(x, tg.tensor([1, 2, 3, -1])).numpy(), [3.0, -8.0, 0.0, 1.5])
    assert tg.ldexp(tg.tensor([3]), tg.tensor([2])).dtype == tg.float32
    assert tg.float_power(tg.tensor([2, 3]), 2).dtype == tg.float64
    assert tg.float_power(2, tg.tensor([3, -1])).tolist() == [8.0, 0.5]
    assert tg.float_power(f64([2.0]), tg.tensor([10])).tolist() == [1024.0]
    mantissa, exponent = tg.frexp(f64([8.0, 0.0, -0.3, INF, NAN], False))
    np.testing.assert_equal(mantissa.numpy(), [0.5, 0.0, -0.6, INF, NAN])
    assert exponent.tolist() == [4, 0, -1, 0, 0] and exponent.dtype == tg.int32
    assert tg.frexp(f64([12.0])).mantissa.tolist() == [0.75]
    one = f64([1.0, 1.0], False)
    np.testing.assert_equal(tg.nextafter(one, f64([2.0, 0.0], False)).numpy(),
                            [np.nextafter(1.0, 2.0), np.nextafter(1.0, 0.0)])


def test_fmax_fmin_ignore_nan_and_give_ties_to_input():
    a, b = f64([1.0, 2.0, NAN, 3.0, NAN]), f64([1.0, NAN, 5.0, 1.0, NAN])
    np.testing.assert_equal(tg.fmax(a, b).numpy(), [1.0, 2.0, 5.0, 3.0, NAN])
    np.testing.assert_equal(tg.fmin(a, b).numpy(), [1.0, 2.0, 5.0, 1.0, NAN])
    tg.fmax(a, b).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 0.0, 1.0, 1.0] and b.grad.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert tg.fmax(tg.tensor([3, -4]), tg.tensor([1, 1], dtype=tg.int8)).tolist() == [3, 1]
    assert tg.fmax(tg.tensor([3, -4]), tg.tensor([1, 1], dtype=tg.int8)).dtype == tg.int64


def test_heaviside():
    x = tg.tensor([-1.5, 0.0, 2.0, NAN])
    assert np.array_equal(tg.heaviside(x, tg.tensor([0.5])).numpy(), [0.0, 0.5, 1.0, 0.0])
    assert tg.heaviside(tg.tensor([3, -4, 0]), tg.tensor([7])).tolist() == [1, 0, 7]
    assert x.heaviside_(tg.tensor([2.0])).tolist() == [0.0, 2.0, 1.0, 0.0]


# -- gradients ---------------------------------------------------------------------------------
LINEAR = ("frexp", "deg2rad", "rad2deg", "fmax", "fmin", "rsub")


@pytest.mark.parametrize("name, fn, low, high", [
    ("lgamma", tg.lgamma, -3.7, 5.0), ("digamma", tg.digamma, 0.2, 5.0),
    ("polygamma2", lambda x: tg.polygamma(2, x), 0.4, 6.0), ("mvlgamma", lambda x: tg.mvlgamma(x, 3), 1.2, 4.0),
    ("erfc", tg.erfc, -2.0, 2.0), ("i0", tg.i0, -6.0, 6.0), ("sinc", tg.sinc, -2.3, 2.3),
    ("exp2", tg.exp2, -3.0, 3.0), ("asinh", tg.arcsinh, -3.0, 3.0), ("acosh", tg.acosh, 1.2, 4.0),
    ("atanh", tg.arctanh, -0.9, 0.9), ("deg2rad", tg.deg2rad, -5.0, 5.0), ("rad2deg", tg.rad2deg, -5.0, 5.0),
    ("frexp", lambda x: tg.frexp(x).mantissa, -9.0, 9.0), ("float_power", lambda x: tg.float_power(x, 2.5), 0.3, 3.0),
])
def test_unary_gradients(name, fn, low, high):
    x = f64(np.random.default_rng(0).uniform(low, high, (3, 4)))
    assert tg.gradcheck(fn, [x]), name
    if name not in LINEAR:                        # (a constant gradient: nothing to differentiate)
        assert tg.gradgradcheck(fn, [x]), name


@pytest.mark.parametrize("name, fn", [
    ("logaddexp2", tg.logaddexp2), ("copysign", tg.copysign), ("fmax", tg.fmax), ("fmin", tg.fmin),
    ("ldexp", tg.ldexp), ("float_power", tg.float_power), ("rsub", lambda x, y: tg.rsub(x, y, alpha=1.5)),
])
def test_binary_gradients_broadcast(name, fn):
    rng = np.random.default_rng(1)
    x, y = f64(rng.uniform(0.5, 2.0, (3, 4))), f64(rng.uniform(-2.0, 2.0, (4,)))
    assert tg.gradcheck(fn, [x, y]), name
    if name not in LINEAR:
        assert tg.gradgradcheck(fn, [x, y]), name


def test_gradients_at_the_special_points():
    x = f64([0.0, 2.0, -3.0])
    tg.sinc(x).sum().backward()
    assert x.grad.tolist()[0] == 0.0                          # torch: 0 at 0
    x, y = f64([0.0, 2.0, -3.0]), f64([-1.0, -1.0, 1.0])
    tg.copysign(x, y).sum().backward()
    assert x.grad.tolist() == [0.0, -1.0, -1.0] and y.grad.tolist() == [0.0, 0.0, 0.0]
    x = f64([0.0, 8.0, -3.0])
    tg.frexp(x).mantissa.sum().backward()
    assert x.grad.tolist() == [1.0, 1 / 16, 1 / 4]
    x = f64([0.0])
    tg.i0(x).backward()
    assert x.grad.tolist() == [0.0]
    assert tg.gradcheck(tg.i0, [f64([0.0, 1e-4])]) and tg.gradgradcheck(tg.i0, [f64([0.0, 1e-4])])


# -- integers and bools ------------------------------------------------------------------------
def test_integer_and_bool_inputs_promote_as_torch():
    ints, mask = tg.tensor([3, -4, 0]), tg.tensor([True, False, True])
    for name in ("lgamma", "digamma", "erfc", "i0", "sinc", "exp2", "deg2rad", "rad2deg", "asinh", "acosh", "atanh"):
        for x in (ints, mask, ints.to(tg.int8)):
            y = getattr(tg, name)(x)
            assert y.dtype == tg.float32, name
            np.testing.assert_allclose(y.numpy(), getattr(tg, name)(x.to(tg.float64)).numpy(), rtol=1e-6, atol=1e-7)
    assert tg.exp2(ints).tolist() == [8.0, 0.0625, 1.0] and tg.deg2rad(mask).dtype == tg.float32
    assert tg.polygamma(2, ints).dtype == tg.float32 and tg.mvlgamma(tg.tensor([3]), 2).dtype == tg.float32
    assert tg.signbit(ints).tolist() == [False, True, False] and tg.signbit(mask).tolist() == [False] * 3
    assert tg.signbit(tg.tensor([-0.0, 0.0])).tolist() == [True, False]
    assert tg.sgn(ints).tolist() == [1, -1, 0] and tg.fix(tg.tensor([-2.5, 2.5])).tolist() == [-2.0, 2.0]
    assert tg.positive(ints) is ints and tg.absolute(ints).tolist() == [3, 4, 0]
    assert tg.isposinf(ints).tolist() == [False] * 3 and tg.isneginf(mask).tolist() == [False] * 3
    assert tg.isposinf(tg.tensor([INF, -INF, NAN])).tolist() == [True, False, False]
    assert tg.isneginf(tg.tensor([INF, -INF, NAN])).tolist() == [False, True, False]
    assert tg.isreal(ints).tolist() == [True] * 3


def test_gcd_lcm_and_shifts():
    a, b = tg.tensor([12, -4, 0, 0]), tg.tensor([18, 6, 5, 0])
    assert tg.gcd(a, b).tolist() == [6, 2, 5, 0] and tg.lcm(a, b).tolist() == [36, 12, 0, 0]
    assert tg.gcd(tg.tensor([12], dtype=tg.int8), tg.tensor([8])).dtype == tg.int64
    assert tg.gcd(tg.tensor([True, False]), tg.tensor([4, 4])).tolist() == [1, 4]
    x = tg.tensor([1, -8, 5])
    assert (x << 2).tolist() == [4, -32, 20] and (x >> 1).tolist() == [0, -4, 2]
    assert tg.bitwise_left_shift(x, tg.tensor([0, 1, 2])).tolist() == [1, -16, 20]
    assert (x << 64).tolist() == [0, 0, 0] and (x >> 70).tolist() == [0, -1, 0]   # beyond the width
    assert (tg.tensor([1], dtype=tg.int8) << tg.tensor([2])).dtype == tg.int64
    assert (tg.tensor([True, False]) << 1).tolist() == [2, 0]
    assert (1 << tg.tensor([1, 3])).tolist() == [2, 8] and (64 >> tg.tensor([1, 3])).tolist() == [32, 8]
    y = tg.tensor([1, 2])
    y <<= 2
    assert y.tolist() == [4, 8]
    y >>= 1
    assert y.tolist() == [2, 4]


# -- queries and aliases -----------------------------------------------------------------------
def test_queries():
    x = tg.tensor([[0.0]])
    assert tg.is_nonzero(x) is False and tg.tensor([2]).is_nonzero() is True
    assert tg.is_signed(x) and tg.is_signed(tg.tensor([1])) and not tg.is_signed(tg.tensor([1], dtype=tg.uint8))
    assert not tg.tensor([True]).is_signed()
    assert tg.is_same_size(x, tg.tensor([[5.0]])) and not x.is_same_size(tg.tensor([5.0]))
    a, b = tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.0 + 1e-6])
    assert a.isclose(b).tolist() == [True, True] and a.allclose(b) and not a.allclose(b, rtol=0, atol=0)
    assert a.equal(tg.tensor([1.0, 2.0])) and not a.equal(b) and tg.equal(a, a)


def test_alias_names_are_the_same_ops():
    x, y = tg.tensor([1.0, 2.0, 3.0]), tg.tensor([2.0, 2.0, 2.0])
    for alias, name in (("greater", "gt"), ("greater_equal", "ge"), ("less", "lt"), ("less_equal", "le"),
                        ("not_equal", "ne")):
        assert getattr(tg, alias)(x, y).tolist() == getattr(x, name)(y).tolist()
        assert getattr(x, alias)(2.0).tolist() == getattr(x, name)(2.0).tolist()
    assert tg.rsub(tg.tensor([1, 2]), 5, alpha=2).tolist() == [3, 1]
    assert tg.rsub(x, y).tolist() == [1.0, 0.0, -1.0]


def test_in_place_forms():
    x = tg.tensor([0.5, 1.5])
    assert x.lgamma_() is x and x.tolist() == pytest.approx([math.lgamma(0.5), math.lgamma(1.5)], rel=1e-6)
    x = f64([0.5, 1.5], False)
    assert tg.erfc_(x).tolist() == pytest.approx([math.erfc(0.5), math.erfc(1.5)], rel=1e-15)
    assert f64([3.0], False).polygamma_(1).tolist() == pytest.approx([math.pi ** 2 / 6 - 1 - 1 / 4], rel=1e-14)
    assert f64([4.0], False).float_power_(tg.tensor([2])).tolist() == [16.0]
    assert tg.fix_(tg.tensor([-2.5])).tolist() == [-2.0] and tg.deg2rad_(tg.tensor([0.0])).tolist() == [0.0]
    assert tg.tensor([12]).gcd_(tg.tensor([8])).tolist() == [4]
    assert tg.atanh_(f64([0.5], False)).tolist() == pytest.approx([math.atanh(0.5)], rel=1e-15)
    assert tg.tensor([3, 1, 0]).eq_(3).tolist() == [1, 0, 0]                    # own dtype, as torch
    assert tg.tensor([3.0, 1.0]).lt_(2.0).tolist() == [0.0, 1.0]
    assert tg.tensor([3.0, 1.0]).greater_(2.0).dtype == tg.float32
    assert tg.tensor([True, False]).eq_(True).tolist() == [True, False]
    assert tg.tensor([1.5, 0.0]).logical_and_(tg.tensor([1, 1])).tolist() == [1.0, 0.0]
    assert tg.tensor([2, 0]).logical_not_().tolist() == [0, 1]
    assert tg.tensor([7], dtype=tg.int8).bitwise_and_(tg.tensor([3])).dtype == tg.int8
    assert tg.tensor([7, -7]).divide_(2, rounding_mode="floor").tolist() == [3, -4]
    assert tg.tensor([7.0, -7.0]).floor_divide_(2).tolist() == [3.0, -4.0]
    assert tg.tensor([7.0]).true_divide_(2).tolist() == [3.5]
    assert tg.tensor([3.0]).multiply_(2).subtract_(1).tolist() == [5.0]
    assert tg.tensor([3, 4]).cumsum_(0).tolist() == [3, 7] and tg.tensor([3, 4]).cumprod_(0).tolist() == [3, 12]
    assert tg.clamp_min_(tg.tensor([0.0, 2.0]), 1.0).tolist() == [1.0, 2.0]
    assert tg.clamp_max_(tg.tensor([0.0, 2.0]), 1.0).tolist() == [0.0, 1.0]
    assert tg.negative_(tg.tensor([1.0])).tolist() == [-1.0]
    assert tg.xlogy_(f64([2.0], False), f64([math.e], False)).tolist() == pytest.approx([2.0])
    assert tg.absolute(tg.tensor([-1.0])).absolute_().tolist() == [1.0]
    a = f64([0.5, 2.0])
    b = a * 1.0
    b.lgamma_()                                   # on a tracked tensor: a graph op, as torch
    b.sum().backward()
    assert a.grad.numpy() == pytest.approx(tg.digamma(f64([0.5, 2.0], False)).numpy())


# -- refusals ----------------------------------------------------------------------------------
def test_refusals_name_what_was_wrong():
    x, ints = tg.tensor([1.0, 2.0]), tg.tensor([1, 2])
    with pytest.raises(InputTypeError, match="negative n"):
        tg.polygamma(-1, x)
    with pytest.raises(InputTypeError, match="p must be an int >= 1"):
        tg.mvlgamma(x, 0)
    with pytest.raises(DTypeError, match="gcd takes integer tensors"):
        tg.gcd(x, x)
    with pytest.raises(DTypeError, match="got bool and bool"):
        tg.lcm(tg.tensor([True]), tg.tensor([True]))
    with pytest.raises(DTypeError, match="bitwise_left_shift takes integer"):
        x << 1
    with pytest.raises(DTypeError, match="logaddexp2 takes float tensors"):
        tg.logaddexp2(ints, ints)
    with pytest.raises(DTypeError, match="nextafter takes float tensors"):
        tg.nextafter(ints, ints)
    with pytest.raises(DTypeError, match="frexp takes float tensors"):
        tg.frexp(ints)
    with pytest.raises(DTypeError, match="values must have input's dtype"):
        tg.heaviside(ints, tg.tensor([0.5]))
    with pytest.raises(InputTypeError, match="values must be a Tensor"):
        tg.heaviside(x, 0.5)
    with pytest.raises(InputTypeError, match="other must be a Tensor"):
        tg.ldexp(x, 2)
    with pytest.raises(DTypeError, match="float_power_: the base has dtype float32"):
        x.float_power_(2)
    with pytest.raises(DTypeError, match="positive: not supported on a bool"):
        tg.positive(tg.tensor([True]))
    with pytest.raises(ShapeError, match="more than one value"):
        tg.is_nonzero(x)
    with pytest.raises(ShapeError, match="no values"):
        tg.is_nonzero(tg.tensor([]))
    with pytest.raises(ShapeError, match=r"shapes \(2,\) and \(3,\) do not broadcast"):
        tg.gcd(ints, tg.tensor([1, 2, 3]))
    with pytest.raises(DTypeError, match="float32, which cannot be written into a int64"):
        ints.erfc_()
    with pytest.raises(DTypeError, match="int64, which cannot be written into a bool"):
        tg.tensor([True]).bitwise_and_(tg.tensor([3]))
