"""Session 25 review (h25i) of the engine changes, beside torch 2.13: the floating-point state
around ops, binary ops' late broadcast check, clip_grad_norm_'s orders, the in-place LeakyReLU
node inside a fused Sequential. Expectations are closed forms or torch's documented refusals."""
import copy
import math
import pickle

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import AutogradError, NonFiniteError, ShapeError

ops = __import__("sys").modules["tensorgan.ops"]


# --- Function.apply's NumPy error state ------------------------------------------------------
def test_ops_are_quiet_and_a_users_error_state_comes_back_after_a_failing_op():
    with np.errstate(all="raise"):
        y = tg.tensor([1.0, 0.0]) / tg.tensor([0.0, 0.0])      # no FloatingPointError inside ops
        assert math.isinf(y[0].item()) and math.isnan(y[1].item())
        with pytest.raises(ShapeError):
            tg.ones(2) + tg.ones(3)                             # an op that raised
        assert np.geterr()["divide"] == "raise"                 # the user's state is back
        with pytest.raises(FloatingPointError):
            np.array([1.0]) / np.array([0.0])


def test_anomaly_mode_still_sees_a_nan_gradient():
    a = tg.tensor([0.0], requires_grad=True)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="nan"):
        with tg.autograd.detect_anomaly():
            (tg.sqrt(a) * 0.0).sum().backward()


# --- binary ops: the shapes checked only once NumPy refused ----------------------------------
def test_broadcasting_names_the_shapes_and_lets_other_value_errors_through():
    def refuse(a, b):
        raise ValueError("not about shapes")
    with pytest.raises(ValueError, match="not about shapes"):
        ops._broadcasting("op", refuse, np.ones(3), np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"op: shapes \(3,\) and \(4,\) do not broadcast"):
        ops._broadcasting("op", refuse, np.ones(3), np.ones(4))
    for f in (tg.atan2, tg.hypot, tg.fmod, tg.pow, tg.sub):
        with pytest.raises(ShapeError):
            f(tg.ones(2, 3), tg.ones(4))
    with pytest.raises(ShapeError):                             # in place: the result is bigger
        tg.ones(3).mul_(tg.ones(2, 3))


# --- clip_grad_norm_ / get_total_norm ----------------------------------------------------------
def _params(*grads):
    out = []
    for g in grads:
        p = nn.Parameter(tg.zeros(*np.shape(g), dtype=tg.float64))
        p.grad = tg.tensor(np.asarray(g, dtype=np.float64))
        out.append(p)
    return out


@pytest.mark.parametrize("norm_type", [math.inf, "inf", -math.inf, -1.0])
def test_inf_and_negative_orders_refuse_an_empty_gradient_as_torch(norm_type):
    # torch 2.13: "_foreach_norm cannot compute the infinity norm on an empty tensor because the
    # operation does not have an identity" (a RuntimeError; vector_norm's likewise for -1, -inf)
    params = _params([1.0, -3.0], np.zeros(0))
    with pytest.raises(RuntimeError, match="empty"):
        nn.utils.clip_grad_norm_(params, 1.0, norm_type)
    with pytest.raises(ShapeError):
        nn.utils.get_total_norm([p.grad for p in params], norm_type)
    assert params[0].grad.tolist() == [1.0, -3.0]               # refused before any scaling


def test_finite_orders_take_an_empty_gradient_and_inf_is_the_largest_element():
    params = _params([1.0, -3.0], np.zeros(0))
    assert nn.utils.get_total_norm([p.grad for p in params], 2.0).item() == pytest.approx(math.sqrt(10))
    assert nn.utils.get_total_norm([p.grad for p in params], 0).item() == 1.0   # tensors with a nonzero
    params = _params([1.0, -3.0], [2.0])
    total = nn.utils.clip_grad_norm_(params, 1.5, "inf")
    assert total.item() == 3.0
    assert params[0].grad.tolist() == pytest.approx([0.5, -1.5], rel=1e-6)


def test_error_if_nonfinite_is_a_runtime_error_as_torch():
    params = _params([1.0, np.inf])
    with pytest.raises(RuntimeError) as info:
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert isinstance(info.value, NonFiniteError) and isinstance(info.value, FloatingPointError)


# --- in-place LeakyReLU (LeakyReluBackward1) and Sequential's fusion ---------------------------
def test_sequential_does_not_fuse_an_in_place_leaky_relu_with_a_negative_slope():
    x = tg.tensor(np.linspace(-1, 1, 12).reshape(4, 3), dtype=tg.float32, requires_grad=True)
    seq = nn.Sequential(nn.BatchNorm1d(3), nn.LeakyReLU(-0.2, inplace=True))
    y = seq(x)
    assert y.grad_fn.name() == "LeakyReluBackward1"
    with pytest.raises(AutogradError, match="negative slope"):  # torch's backward refuses it
        y.sum().backward()


def test_a_positive_slope_in_place_leaky_relu_is_still_fused_with_the_same_gradient():
    data = np.linspace(-1, 1, 12).reshape(4, 3) ** 3
    grads = []
    for fuse in (True, False):
        seq = nn.Sequential(nn.BatchNorm1d(3), nn.LeakyReLU(0.2, inplace=True)).double()
        seq.fuse_batch_norm_activation = fuse
        x = tg.tensor(data, requires_grad=True)
        y = seq(x)
        assert type(y.grad_fn).__name__ == ("BatchNormLeakyReLU" if fuse else "_LeakyReLUInPlace")
        (y * y).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)


# --- Module.__getattr__ / user attributes on tensors --------------------------------------------
def test_module_getattr_on_a_bare_instance_and_through_copies():
    class M(nn.Module):
        pass
    bare = M.__new__(M)                          # no __init__ yet: no recursion, a plain miss
    assert not hasattr(bare, "weight")
    m = nn.Sequential(nn.Linear(2, 2))
    m[0].weight.lr_mul = 0.5                     # a user's attribute on a Parameter
    assert m.__getattr__("0") is m[0]
    assert getattr(pickle.loads(pickle.dumps(m))[0].weight, "lr_mul") == 0.5
    assert not hasattr(copy.deepcopy(m)[0].weight, "lr_mul")     # torch's fresh Parameter
    assert not hasattr(m.state_dict()["0.weight"], "lr_mul")      # detached values only
