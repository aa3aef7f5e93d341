"""Session 30's leftovers (h30j): small differences from torch 2.13 -- a 0-d tensor dropout p,
samplers' out=, seed and randint argument errors, empty integer (nan)median."""

import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import AutogradError, ConfigError, DTypeError, EmptyReductionError


# --- dropout's p may be a 0-d tensor (torch's float argument takes one) -------------------------
@pytest.mark.parametrize("drop", [F.dropout, F.dropout2d, F.alpha_dropout])
def test_dropout_takes_a_0d_tensor_p(drop):
    x = tg.ones(2, 3, 4, 4, dtype=tg.float64)
    assert tg.equal(drop(x, p=tg.tensor(0.0)), x)
    assert drop(x, tg.tensor(1), True).abs().sum().item() == 0 or drop is F.alpha_dropout
    assert tg.equal(drop(x, tg.tensor(0.5), False), x)


def test_dropout_p_tensor_with_more_than_one_element_or_out_of_range_is_refused():
    with pytest.raises(TypeError, match="p must be a real number"):
        F.dropout(tg.ones(3), p=tg.tensor([0.5]))
    with pytest.raises(ValueError, match="1.5"):
        F.dropout(tg.ones(3), p=tg.tensor(1.5))
    assert tg.nn.Dropout(tg.tensor(0.25)).p == 0.25


# --- out= of the samplers (rand / randn / randint / randperm / normal / bernoulli) --------------
SAMPLERS = {
    "rand": lambda out, **kw: tg.rand(3, out=out, **kw),
    "randn": lambda out, **kw: tg.randn(3, out=out, **kw),
    "randint": lambda out, **kw: tg.randint(0, 5, (3,), out=out, **kw),
    "randperm": lambda out, **kw: tg.randperm(3, out=out, **kw),
    "normal": lambda out, **kw: tg.normal(0.0, 2.0, (3,), out=out, **kw),
    "normal_tensor_mean": lambda out, **kw: tg.normal(tg.zeros(3), 2.0, out=out, **kw),
    "normal_tensor_std": lambda out, **kw: tg.normal(1.0, tg.ones(3), out=out, **kw),
    "normal_tensors": lambda out, **kw: tg.normal(tg.zeros(3), tg.ones(3), out=out, **kw),
    "bernoulli": lambda out, **kw: tg.bernoulli(tg.full((3,), 0.5), out=out, **kw),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_samplers_write_into_out_in_its_dtype(name):
    out = tg.zeros(5, dtype=tg.float64)
    got = SAMPLERS[name](out)
    assert got is out and out.shape == (3,) and out.dtype == tg.float64   # resized, as torch
    same = tg.full((3,), -7.0, dtype=tg.float64)
    alias = same.view(3)
    SAMPLERS[name](same)
    assert np.isfinite(same.numpy()).all() and (alias.numpy() != -7.0).all()   # its own memory


def test_sampler_out_values_follow_the_draw():
    gen = tg.Generator().manual_seed(3)
    expected = tg.randn(4, generator=gen, dtype=tg.float64)
    out = tg.empty(4, dtype=tg.float64)
    tg.randn(4, generator=gen.manual_seed(3), out=out)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    perm = tg.randperm(6, out=tg.empty(6, dtype=tg.int64))
    assert sorted(perm.tolist()) == list(range(6))
    assert set(tg.randint(0, 2, (20,), out=tg.empty(20, dtype=tg.int32)).tolist()) <= {0, 1}
    assert tg.bernoulli(tg.ones(3), out=tg.empty(3, dtype=tg.int64)).tolist() == [1, 1, 1]


def test_sampler_out_refusals_as_torch():
    with pytest.raises(DTypeError, match="does not match"):
        tg.rand(3, dtype=tg.float32, out=tg.empty(3, dtype=tg.float64))
    with pytest.raises(NotImplementedError):                 # floats into an int64 out
        tg.randn(3, out=tg.empty(3, dtype=tg.int64))
    with pytest.raises(RuntimeError, match="out of bounds"):
        tg.randint(0, 300, (3,), out=tg.empty(3, dtype=tg.uint8))
    with pytest.raises(AutogradError):
        tg.normal(tg.zeros(3, requires_grad=True), 1.0, out=tg.empty(3))
    with pytest.raises(TypeError, match="not with p"):
        tg.bernoulli(tg.zeros(3), 0.5, out=tg.empty(3))
    with tg.no_grad():
        assert tg.normal(tg.zeros(3, requires_grad=True), 1.0, out=tg.empty(3)).shape == (3,)
    assert tg.rand(2, out=tg.empty(2), requires_grad=True).requires_grad


# --- seeds and randint's bounds: torch's error classes ------------------------------------------
@pytest.mark.parametrize("bad", [1.5, "3", [1]])
def test_generator_manual_seed_of_a_non_integer_is_a_runtime_error(bad):
    with pytest.raises(RuntimeError, match="seed must be an integer"):
        tg.Generator().manual_seed(bad)
    with pytest.raises(ConfigError):                         # (as before)
        tg.Generator().manual_seed(bad)


@pytest.mark.parametrize("low, high", [(0, 2**63), (-2**63 - 1, 0), (2**63, 2**63 + 2)])
@pytest.mark.parametrize("dtype", [None, tg.float64, tg.int32])
def test_randint_bounds_beyond_int64_are_a_value_error(low, high, dtype):
    with pytest.raises(ValueError, match="does not fit in int64"):
        tg.randint(low, high, (3,), dtype=dtype)


def test_randint_up_to_the_int64_limit_still_draws():
    assert tg.randint(-2**63, 2**63 - 1, (4,)).dtype == tg.int64


# --- the median of an empty integer tensor: refused by both, no NumPy warning ------------------
@pytest.mark.parametrize("op", [tg.median, tg.nanmedian, lambda x: x.nanmedian()])
@pytest.mark.parametrize("dtype", [tg.int64, tg.int32, tg.uint8])
def test_empty_integer_median_and_nanmedian_agree_without_a_numpy_warning(op, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(EmptyReductionError, match="no median"):
            op(tg.zeros(0, dtype=dtype))
        assert np.isnan(op(tg.zeros(0, dtype=tg.float64)).item())


# --- a view made under no_grad(), used in a graph after its memory was written in place --------
def _x():
    return tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=tg.float64, requires_grad=True)


def _through_base(y, v):
    y.mul_(2)


def _through_other_view(y, v):
    y[:2].mul_(5)


def _under_no_grad(y, v):
    with tg.no_grad():
        y.mul_(2)


def _through_itself(y, v):
    with tg.no_grad():
        v.mul_(2)


@pytest.mark.parametrize("write", [_through_base, _through_other_view, _under_no_grad,
                                   _through_itself])
def test_no_grad_view_used_after_a_write_into_its_memory_is_refused(write):
    x = _x()
    y = x * 1
    with tg.no_grad():
        v = y[1:]
    write(y, v)
    loss = (v * 3).sum() + y.sum()              # torch refuses (ambiguous); was x.grad = 2s
    with pytest.raises(AutogradError, match="made under no_grad"):
        loss.backward()


def test_no_grad_view_of_a_leaf_after_an_optimizer_step_is_refused():
    x = _x()
    with tg.no_grad():
        v = x[1:]
    x.grad = tg.ones(4, dtype=tg.float64)
    tg.optim.SGD([x], lr=0.1).step()             # an in-place update of x's memory
    with pytest.raises(AutogradError, match="made under no_grad"):
        (v * x[1:]).sum().backward()


def test_no_grad_view_without_a_later_write_or_via_data_still_works():
    x = _x()
    y = x * 1
    with tg.no_grad():
        v = y[1:]
        vv = v[1:]                               # a view of it: the same rule
    (v * 3).sum().backward(retain_graph=True)    # the gradient stops at the view, as torch
    assert x.grad is None
    x.data.mul_(2)                               # .data: outside the version counter, as torch
    (x * vv.sum()).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(4, 7.0))
    y.mul_(2)
    with pytest.raises(AutogradError, match="made under no_grad"):
        (vv * 1).sum().backward()


# --- F.relu / F.leaky_relu(inplace=True) on memory shared with views write it, as x.relu_() ----
_W = np.array([[1.0, 2.0], [3.0, 4.0]])


def _y():
    a = tg.tensor([[-1.0, 2.0], [3.0, -4.0]], dtype=tg.float64, requires_grad=True)
    return a, a * 1


@pytest.mark.parametrize("act, slope", [(lambda t: F.relu(t, inplace=True), 0.0),
                                        (lambda t: F.leaky_relu(t, 0.1, inplace=True), 0.1)])
def test_inplace_activation_of_a_view_writes_the_base_and_its_gradient(act, slope):
    a, y = _y()
    assert act(y.diagonal()) is not None and y._version == 1
    expected = np.where(a.detach().numpy() > 0, 1.0, np.where(np.eye(2) > 0, slope, 1.0))
    np.testing.assert_array_equal(y.detach().numpy(), a.detach().numpy() * expected)
    (y * tg.tensor(_W)).sum().backward()            # was: the base untouched, a.grad = W
    np.testing.assert_array_equal(a.grad.numpy(), _W * expected)


def test_inplace_activation_of_a_base_with_a_live_view_is_seen_by_the_view():
    a, y = _y()
    v = y[:, 1:]
    F.leaky_relu(y, 0.1, inplace=True)
    np.testing.assert_array_equal(v.detach().numpy(), [[2.0], [-0.4]])
    (v * 2).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[0.0, 2.0], [0.0, 0.2]])


def test_inplace_activation_of_a_view_of_a_leaf_is_refused():
    a, _ = _y()
    with pytest.raises(AutogradError, match="view of a leaf"):
        F.relu(a.view(-1), inplace=True)
    np.testing.assert_array_equal(a.detach().numpy(), [[-1.0, 2.0], [3.0, -4.0]])
