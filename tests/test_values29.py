"""Session 29: value / dtype differences from torch closed (expected values are NumPy's, an
invariant's, or facts checked once in torch 2.13, noted where so)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import ValueOverflowError


# -- integer tensors beside out-of-range Python ints -------------------------------------------
@pytest.mark.parametrize("expr, expected", [
    ("u > -1", False), ("u < -1", True), ("u == -253", True), ("u == 259", True), ("u != 259", False),
    ("u == 300", False), ("u >= 256", True), ("-1 < u", False), ("u.gt(-1)", False),
    ("tg.eq(u, 259)", True), ("u == np.int64(259)", True), ("i8 < 200", False), ("i8 == 259", True),
    ("i32 == 2 ** 32 + 3", True), ("u == 1.5", False)])
def test_an_integer_tensor_compares_with_the_int_wrapped_into_its_dtype(expr, expected):
    names = {"tg": tg, "np": np, "u": tg.tensor([3], dtype=tg.uint8),
             "i8": tg.tensor([3], dtype=tg.int8), "i32": tg.tensor([3], dtype=tg.int32)}
    assert eval(expr, names).tolist() == [expected]          # (torch 2.13: the scalar is cast, wrapping)


@pytest.mark.parametrize("value, expected", [(-1, 255), (-255, 1), (2.5, 2), (0, 0)])
def test_fill_and_masked_fill_put_a_negative_int_into_uint8_wrapped(value, expected):
    u = tg.tensor([3, 3], dtype=tg.uint8)
    assert u.clone().fill_(value).tolist() == [expected] * 2
    mask = tg.tensor([True, False])
    assert u.masked_fill(mask, value).tolist() == [expected, 3]
    assert u.clone().masked_fill_(mask, value).tolist() == [expected, 3]


@pytest.mark.parametrize("value", [300, -256, -1.0, 255.5])
def test_fill_refuses_a_number_its_integer_dtype_cannot_hold(value):
    u = tg.tensor([3], dtype=tg.uint8)
    for fill in (lambda: u.fill_(value), lambda: u.masked_fill(tg.tensor([True]), value),
                 lambda: u.masked_fill_(tg.tensor([True]), value)):
        with pytest.raises(ValueOverflowError, match="uint8 without overflow"):
            fill()
    with pytest.raises(RuntimeError, match="int8 without overflow"):
        tg.tensor([3], dtype=tg.int8).fill_(128)
    assert u.tolist() == [3]


def test_fill_from_a_tensor_casts_it_as_a_tensor_cast_wrapping():
    u = tg.tensor([3], dtype=tg.uint8)
    assert u.clone().fill_(tg.tensor(300)).tolist() == [44]
    assert u.clone().fill_(tg.tensor(-1.0)).tolist() == [255]
    assert u.clone().masked_fill_(tg.tensor([True]), tg.tensor(-1)).tolist() == [255]


@pytest.mark.parametrize("dtype, exponent", [("uint8", 256), ("uint8", 300), ("int8", 200),
                                             ("int16", 40000)])
def test_an_integer_power_past_the_dtype_is_refused(dtype, exponent):
    x = tg.tensor([3], dtype=getattr(tg, dtype))
    for power in (lambda: x ** exponent, lambda: x ** np.int64(exponent), lambda: tg.pow(x, exponent)):
        with pytest.raises(ValueOverflowError, match=f"{exponent} cannot be converted to type {dtype}"):
            power()
    assert (tg.tensor([3], dtype=tg.uint8) ** 255).tolist() == [pow(3, 255, 256)]


# -- signs of zero ------------------------------------------------------------------------------
def test_remainder_keeps_the_dividends_sign_on_a_zero_result_as_torch():
    x = tg.tensor([-0.0, 0.0, -2.0, 2.0, -4.0, 4.0, 5.0, -5.0], dtype=tg.float64)
    y = tg.tensor([3.0, -3.0, 2.0, -2.0, 2.0, -2.0, 3.0, 3.0], dtype=tg.float64)
    expected = np.fmod(x.numpy(), y.numpy())        # torch: fmod, + y where a nonzero fmod's sign
    fix = (expected != 0) & ((y.numpy() < 0) != (expected < 0))     # differs from y's
    expected[fix] += y.numpy()[fix]
    for r in (tg.remainder(x, y), x % y, x.remainder(y)):
        assert np.array_equal(r.numpy(), expected)
        assert np.array_equal(np.signbit(r.numpy()), np.signbit(expected))
    assert np.signbit((tg.tensor([-0.0, 0.0]) % -2).numpy()).tolist() == [True, False]
    assert np.signbit((tg.tensor([-0.0, 0.0]) % 2).numpy()).tolist() == [True, False]


def test_remainder_takes_a_number_as_its_first_argument_as_torch():
    assert tg.remainder(2, tg.tensor([3.0, -3.0])).tolist() == [2.0, -1.0]
    r = tg.remainder(2, tg.tensor([3, -3]))
    assert r.tolist() == [2, -1] and r.dtype == tg.int64
    assert np.signbit(tg.remainder(-0.0, tg.tensor([3.0])).numpy()).tolist() == [True]


@pytest.mark.parametrize("name", ["elu", "celu", "selu"])
def test_the_exponential_units_give_minus_zero_at_minus_zero(name):
    f = getattr(tg.nn.functional, name)
    y = f(tg.tensor([-0.0, 0.0, -1e-30], dtype=tg.float64)).numpy()
    assert np.signbit(y).tolist() == [True, False, True]       # expm1, as torch's kernels
    assert y[2] != 0.0 and abs(y[2]) < 1e-29                  # (exp(x) - 1 would be 0 here)


# -- gradients and values at NaN ----------------------------------------------------------------
@pytest.mark.parametrize("name, slope", [("elu", 1.0), ("celu", 1.0), ("selu", 1.0507009873554805),
                                         ("hardswish", 1.0)])
def test_an_activation_passes_the_gradient_at_nan_and_inf_as_torch(name, slope):
    f = getattr(tg.nn.functional, name)
    x = tg.tensor([float("nan"), float("inf"), 5.0], dtype=tg.float64, requires_grad=True)
    (g,) = tg.autograd.grad(f(x).sum(), x)
    assert g.tolist() == pytest.approx([slope] * 3)           # not (x <= 0): the identity branch


def test_threshold_keeps_nan_where_torch_does_and_passes_its_gradient():
    x = tg.tensor([float("nan"), -1.0, 0.0, 1.0], requires_grad=True)
    y = tg.nn.functional.threshold(x, 0.0, 2.0)
    assert np.isnan(y[0].item()) and y[1:].tolist() == [2.0, 2.0, 1.0]
    (g,) = tg.autograd.grad(y.sum(), x)
    assert g.tolist() == [1.0, 0.0, 0.0, 1.0]


def test_abs_has_gradient_zero_at_nan_as_torchs_sgn():
    x = tg.tensor([float("nan"), 0.0, -2.0, 3.0], dtype=tg.float64, requires_grad=True)
    x.abs().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, -1.0, 1.0]
    (g,) = tg.autograd.grad(x.abs().sum(), x, create_graph=True)
    assert g.tolist() == [0.0, 0.0, -1.0, 1.0]


@pytest.mark.parametrize("op", ["scatter_add", "index_add", "index_put", "put"])
def test_accumulating_ops_keep_the_inputs_minus_zero_as_torch(op):
    x, index, src = tg.full((3,), -0.0), tg.tensor([0, 1]), tg.tensor([-0.0, 0.0])
    y = {"scatter_add": lambda: x.scatter_add(0, index, src),
         "index_add": lambda: x.index_add(0, index, src),
         "index_put": lambda: x.index_put((index,), src, accumulate=True),
         "put": lambda: x.put(index, src, accumulate=True)}[op]()
    assert np.signbit(y.numpy()).tolist() == [True, False, True]     # -0+-0, -0+0, untouched
    twice = tg.full((2,), -0.0).scatter_add(0, tg.tensor([0, 0]), tg.tensor([-0.0, -0.0]))
    assert np.signbit(twice.numpy()).all()
    assert tg.zeros(3, dtype=tg.int64).scatter_add(0, tg.tensor([0, 0]), tg.tensor([1, 2])).tolist() == [3, 0, 0]


# -- var / std without degrees of freedom -------------------------------------------------------
def test_var_without_degrees_of_freedom_warns_and_has_torchs_gradient():
    x = tg.tensor([[3.0, 4.0], [5.0, 5.0]], dtype=tg.float64, requires_grad=True)
    with pytest.warns(UserWarning, match=r"var\(\): degrees of freedom is <= 0"):
        v = x.var(correction=4)
    assert v.item() == np.inf
    (g,) = tg.autograd.grad(v, x)
    assert g.tolist() == [[np.inf] * 2] * 2          # torch: inf, NaN only where x is the mean
    z = tg.tensor([2.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning):
        (g,) = tg.autograd.grad(z.var(correction=2), z)
    assert np.isnan(g.numpy()).all()                 # all equal to the mean
    y = tg.tensor([3.0, 4.0], dtype=tg.float64, requires_grad=True)
    with pytest.warns(UserWarning):
        (g,) = tg.autograd.grad(y.var(dim=0, correction=3), y)
    assert g.tolist() == [1.0, -1.0]                  # over a dim: 2 / (n - correction) (x - mean)
    with pytest.warns(UserWarning):
        (g,) = tg.autograd.grad(y.var(dim=0, correction=2), y)
    assert g.tolist() == [-np.inf, np.inf]


@pytest.mark.parametrize("name", ["std", "var_mean", "std_mean"])
def test_the_other_spreads_warn_under_their_own_name(name):
    x = tg.tensor([3.0])
    with pytest.warns(UserWarning, match=rf"^{name}\(\): degrees of freedom"):
        out = getattr(tg, name)(x)
    assert np.isnan((out[0] if isinstance(out, tuple) else out).item())


# -- construction ---------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [5, [5], [[1, 2]], True])
def test_python_ints_with_requires_grad_are_refused_as_torch(data):
    with pytest.raises(RuntimeError, match="only float tensors can require gradients"):
        tg.tensor(data, requires_grad=True)
    assert tg.tensor(data, dtype=tg.float64, requires_grad=True).requires_grad


def test_a_complex_element_with_no_imaginary_part_goes_into_a_real_dtype_silently():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = tg.tensor([tg.tensor(1 + 0j), 2.0], dtype=tg.float32)
    assert t.tolist() == [1.0, 2.0] and t.dtype == tg.float32
    with pytest.raises(ValueOverflowError, match="complex"):
        tg.tensor([tg.tensor(1 + 2j)], dtype=tg.float32)


# -- reductions found by the session-29 fuzz against torch ---------------------------------------
def test_all_and_any_over_no_dims_reduce_nothing_as_torch():
    x = tg.tensor([1.0, 0.0, 2.0])
    assert x.all(dim=()).tolist() == [True, False, True]
    assert tg.any(x, dim=(), keepdim=True).tolist() == [True, False, True]
    u = tg.tensor([3, 0], dtype=tg.uint8).all(())
    assert u.tolist() == [1, 0] and u.dtype == tg.uint8
    assert x.all().item() is False and x.any(dim=(0,)).item() is True


@pytest.mark.parametrize("op", ["prod", "nansum"])
def test_prod_and_nansum_take_an_integer_dtype(op):
    f = getattr(tg, op)
    r = f(tg.tensor([2, 3]), dtype=tg.int32)
    assert r.item() == (6 if op == "prod" else 5) and r.dtype == tg.int32
    r = f(tg.tensor([[2.5, 3.0]]), 1, dtype=tg.int32)              # cast first, as torch: 2 and 3
    assert r.tolist() == [6 if op == "prod" else 5] and r.dtype == tg.int32


def test_abs_gradient_of_a_0d_tensor_made_from_a_numpy_scalar():
    x = tg.tensor(np.float64(-2.0))
    x.requires_grad_()
    assert tg.autograd.grad(x.norm(p=1), x)[0].item() == -1.0


def test_var_over_no_dims_of_an_empty_tensor_is_nan_with_a_warning():
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(tg.zeros(2, 0, 3).var(dim=()).item())
