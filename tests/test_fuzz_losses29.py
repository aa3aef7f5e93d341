"""Session 29's differential fuzz of the losses and activations against torch 2.13: the
differences it found, pinned with NumPy / math / finite-difference expectations."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _first_and_second(fn, values):
    """fn's elementwise first derivative at ``values`` and the derivative of its sum."""
    x = tg.tensor(np.array(values, dtype=np.float64), requires_grad=True)
    g, = tg.autograd.grad(fn(x).sum(), x, create_graph=True)
    gg, = tg.autograd.grad(g.sum(), x)
    return g.detach().numpy(), gg.numpy()


ELU_FAMILY = [
    # (name, fn, scale * alpha * input_scale: the slope at and left of 0, input_scale, scale)
    ("elu", lambda x: F.elu(x, alpha=2.0), 2.0, 1.0, 1.0),
    ("selu", F.selu, SELU_SCALE * SELU_ALPHA, 1.0, SELU_SCALE),
    ("celu", lambda x: F.celu(x, alpha=0.5), 1.0, 2.0, 1.0),
]


@pytest.mark.parametrize("name, fn, peak, input_scale, scale", ELU_FAMILY)
def test_elu_family_negative_branch_is_expm1(name, fn, peak, input_scale, scale):
    # exp(x) - 1 lost the low digits near 0 (-1e-300 came out 0, -0.0 came out +0.0)
    x = np.array([-1e-10, -1e-300, -0.0, -3.0])
    y = fn(tg.tensor(x)).numpy()
    expected = peak / input_scale * np.expm1(x * input_scale)
    np.testing.assert_allclose(y, expected, rtol=1e-15, atol=0)
    assert np.signbit(y[2])


@pytest.mark.parametrize("name, fn, peak, input_scale, scale", ELU_FAMILY)
def test_elu_family_second_derivative_at_kink_is_zero(name, fn, peak, input_scale, scale):
    # torch's elu double backward masks x < 0: slope peak at 0 (either signed zero), curvature 0
    g, gg = _first_and_second(fn, [0.0, -0.0, -1.5, 2.0])
    np.testing.assert_allclose(g, [peak, peak, peak * math.exp(-1.5 * input_scale), scale], rtol=1e-14)
    np.testing.assert_allclose(gg, [0.0, 0.0, peak * input_scale * math.exp(-1.5 * input_scale), 0.0], rtol=1e-14)


@pytest.mark.parametrize("fn, slope", [
    (F.elu, 1.0), (F.selu, SELU_SCALE), (F.celu, 1.0), (F.hardtanh, 1.0), (F.relu6, 1.0),
    (lambda x: F.softshrink(x, 0.5), 1.0), (lambda x: F.threshold(x, 1.0, -2.0), 1.0),
    (F.hardsigmoid, 0.0)])
def test_nan_input_keeps_nan_and_torchs_gradient(fn, slope):
    # torch's backward formulas test the flat side (x <= 0, x <= lo or x >= hi, ...), so NaN
    # takes the identity side's gradient; hardsigmoid's tests the inside, so NaN gets 0
    x = tg.tensor(np.array([np.nan]), requires_grad=True)
    y = fn(x)
    g, = tg.autograd.grad(y.sum(), x)
    assert np.isnan(y.detach().numpy()).all()
    np.testing.assert_array_equal(g.numpy(), [slope])


def test_threshold_keeps_nan():
    y = F.threshold(tg.tensor(np.array([np.nan, 0.5, 2.0])), 1.0, -2.0).numpy()
    np.testing.assert_array_equal(y, [np.nan, -2.0, 2.0])


@pytest.mark.parametrize("target, kwargs", [
    (np.array([0, 2, 1]), {}),
    (np.array([0, 2, -100]), {"weight": tg.tensor(np.array([0.5, 2.0, 1.0]))}),
    (np.array([[0, 2], [1, 1], [2, 0]]), {"reduction": "sum"}),
])
def test_nll_loss_input_gradient_keeps_edge_to_input(target, kwargs):
    # a penalty on nll_loss's input gradient: zeros (torch's nll_loss_backward takes self), not
    # a refusal because that gradient did not require grad
    shape = (3, 3) if target.ndim == 1 else (3, 3, 2)
    x = tg.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    g, = tg.autograd.grad(F.nll_loss(x, tg.tensor(target), **kwargs), x, create_graph=True)
    assert g.requires_grad
    gg, = tg.autograd.grad((g * g).sum(), x)
    np.testing.assert_array_equal(gg.numpy(), np.zeros(shape))


@pytest.mark.parametrize("call", [
    lambda x: F.smooth_l1_loss(x, x, beta=-1.0),
    lambda x: F.huber_loss(x, x, delta=0.0),
    lambda x: F.softshrink(x, -0.5),
    lambda x: F.cross_entropy(x, tg.tensor([0, 1]), label_smoothing=1.5),
    lambda x: F.gelu(x, approximate="erf"),
    lambda x: F.rrelu(x, 0.5, 0.1, training=False),
    lambda x: F.celu(x, alpha=0.0),
    lambda x: tg.nn.CrossEntropyLoss(label_smoothing=2.0),
    lambda x: tg.nn.RReLU(0.5, 0.1),
])
def test_bad_loss_and_activation_options_are_runtime_errors_as_torchs(call):
    # torch raises RuntimeError for each; tensorgan's ConfigError stays catchable as before
    with pytest.raises(RuntimeError) as info:
        call(tg.tensor(np.ones((2, 3))))
    assert isinstance(info.value, tg.errors.ConfigError)


@pytest.mark.parametrize("dtype", [np.int64, np.bool_])
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3)])
def test_cross_entropy_probability_target_tensor_must_be_float(dtype, shape):
    # a target of the logits' shape holds class probabilities: an int / bool tensor was taken
    # as probabilities (torch: "Expected floating point type for target with class probabilities")
    x = tg.tensor(np.zeros(shape))
    target = tg.tensor(np.ones(shape, dtype=dtype))
    with pytest.raises(RuntimeError, match="floating point"):
        F.cross_entropy(x, target)
    assert math.isclose(F.cross_entropy(x, target.double() / 4).item(), math.log(4), rel_tol=1e-12)
