"""Session 29's leftovers: small differences from torch 2.13 that the reviews found."""

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import functional as F
from tensorgan.errors import AutogradError, DeviceError


# --- autograd.grad asks each node only for the gradients leading to its inputs ------------------
def _gamma_cdf(concentration, rate, at=1.5):
    return tg.distributions.Gamma(concentration, rate).cdf(tg.tensor(at, dtype=tg.float64)).sum()


def _scalar(value):
    return tg.tensor(value, dtype=tg.float64, requires_grad=True)


def test_grad_wrt_rate_skips_gammainc_missing_derivative_wrt_concentration():
    c, r = _scalar(2.0), _scalar(3.0)
    g, = tg.autograd.grad(_gamma_cdf(c, r), [r])          # torch: d/dr, though gammainc has no d/da
    h = 1e-6
    fd = (_gamma_cdf(c.detach(), r.detach() + h).item()
          - _gamma_cdf(c.detach(), r.detach() - h).item()) / (2 * h)
    assert g.item() == pytest.approx(fd, rel=1e-6)
    with pytest.raises(AutogradError, match="derivative with respect to"):
        tg.autograd.grad(_gamma_cdf(c, r), [c])             # still refused when asked for


def test_backward_with_inputs_narrows_too_and_leaves_the_other_grad_alone():
    c, r = _scalar(2.0), _scalar(3.0)
    _gamma_cdf(c, r).backward(inputs=[r])
    assert r.grad is not None and c.grad is None


def test_narrowing_is_undone_after_the_walk():
    x, w = _scalar(2.0), _scalar(3.0)
    y = x * w
    node = y.grad_fn
    before = node.needs_input_grad
    tg.autograd.grad(y, [w], retain_graph=True)
    assert node.needs_input_grad == before == (True, True)
    y.backward()                                   # a later full walk gets both gradients
    assert x.grad.item() == 3.0 and w.grad.item() == 2.0


def test_narrowing_is_undone_when_the_walk_fails():
    c, r = _scalar(2.0), _scalar(3.0)
    cdf = _gamma_cdf(c, r)
    nodes = []
    stack = [cdf.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and hasattr(node, "needs_input_grad"):
            nodes.append((node, node.needs_input_grad))
            stack.extend(n for n, _ in node.next_functions)
    with pytest.raises(AutogradError):
        tg.autograd.grad(cdf, [c], retain_graph=True)
    tg.autograd.grad(cdf, [r], retain_graph=True)
    assert all(node.needs_input_grad == needs for node, needs in nodes)


# --- device strings read by torch's rules ---------------------------------------------------------
@pytest.mark.parametrize("spec, needle", [
    ("gpu", "unknown device 'gpu'"), ("CPU", "unknown device 'CPU'"), ("Cuda", "lower case"),
    (" cpu", "invalid device string"), ("cpu ", "invalid device string"),
    ("cuda:-1", "invalid device string"), ("cuda:01", "invalid device string"),
    ("cuda:+1", "invalid device string"), ("cuda: 0", "invalid device string"),
    ("cuda:", "invalid device string"), ("cpu:0:0", "invalid device string"),
    ("", "must not be empty"), ("meta", "no 'meta' device"), ("cuda:1", "no GPU with index 1"),
])
def test_device_strings_torch_refuses_are_runtime_errors(spec, needle):
    with pytest.raises(DeviceError, match=needle) as info:
        tg.device(spec)
    assert isinstance(info.value, RuntimeError)           # torch's type


def test_device_strings_torch_reads():
    assert str(tg.device("cpu")) == "cpu" and tg.device("cpu:0").index == 0
    assert tg.device("cuda:0").index == 0 and tg.device("cuda").index is None
    with pytest.raises(DeviceError, match="unknown device 'GPU'"):
        tg.ones(2).to("GPU")                                 # a device, not a dtype name


# --- hardswish at and below -3: x * 0 (-0.0; NaN at -inf), as torch's x * relu6(x + 3) / 6 --------
@pytest.mark.parametrize("dtype", [tg.float16, tg.float32, tg.float64])
def test_hardswish_below_minus_three_is_x_times_zero(dtype):
    inf = float("inf")
    x = tg.tensor([-inf, -5.0, -3.0, 3.0, inf], dtype=dtype, requires_grad=True)
    y = F.hardswish(x)
    values = y.detach().numpy()
    assert np.isnan(values[0]) and values.dtype == x.numpy().dtype
    assert list(np.signbit(values[1:3])) == [True, True] and values[1:3].tolist() == [0.0, 0.0]
    assert values[3:].tolist() == [3.0, inf]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]          # torch's, inf and NaN-free


def test_hardswish_in_place_and_double_backward_agree():
    x = tg.tensor([-float("inf"), -4.0, 1.0], dtype=tg.float64, requires_grad=True)
    y = F.hardswish(x.clone(), inplace=True)
    assert np.isnan(y[0].item()) and np.signbit(y[1].item()) and y[2].item() == pytest.approx(2 / 3)
    (g,) = tg.autograd.grad(F.hardswish(x).sum(), x, create_graph=True)
    assert g.tolist() == [0.0, 0.0, pytest.approx(5 / 6)]


# --- grad_fn names: a 1-D convolution and a channels_last conv2d end in ConvolutionBackward0 ------
def _rand(*shape):
    return tg.tensor(np.random.default_rng(0).normal(size=shape), requires_grad=True)


@pytest.mark.parametrize("make", [
    lambda: F.conv1d(_rand(2, 4, 9), _rand(6, 4, 3)),
    lambda: F.conv1d(_rand(2, 4, 9), _rand(4, 1, 3), groups=4),
    lambda: F.conv_transpose1d(_rand(2, 4, 9), _rand(4, 6, 3)),
    lambda: F.conv2d(_rand(2, 3, 5, 5).to(memory_format=tg.channels_last), _rand(4, 3, 3, 3)),
    lambda: F.conv2d(_rand(2, 4, 5, 5).to(memory_format=tg.channels_last), _rand(4, 1, 3, 3),
                     groups=4),
])
def test_convolution_outputs_are_named_as_torchs(make):
    assert make().grad_fn.name() == "ConvolutionBackward0"


def test_renamed_convolution_steps_keep_layout_and_gradients():
    x = _rand(2, 3, 5, 5).to(memory_format=tg.channels_last)
    w = _rand(4, 3, 3, 3)
    y = F.conv2d(x, w)
    assert y.is_contiguous(memory_format=tg.channels_last)
    y.sum().backward()
    x2, w2 = x.detach().contiguous().requires_grad_(), w.detach().clone().requires_grad_()
    F.conv2d(x2, w2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), w2.grad.numpy(), rtol=1e-12)
    assert F.conv1d(_rand(4, 9), _rand(6, 4, 3)).grad_fn.name() == "SqueezeBackward1"  # unbatched: torch's
