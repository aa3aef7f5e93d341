"""Session 29's leftovers: small differences from torch 2.13 that the reviews found."""

import pytest

import tensorgan as tg
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
