"""Session 30's later merges reviewed beside torch 2.13 (h30r): what the review found and fixed.

Expected values come from NumPy or from tensorgan itself (a C-order run beside a channels_last
one); torch is not imported."""
from __future__ import annotations

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F


def _tracked_with_hook(values):
    x = tg.tensor(values, dtype=tg.float64, requires_grad=True)
    h = x * 1
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    return x, h, seen


@pytest.mark.parametrize("activation, slope", [
    (lambda h: F.relu(h, inplace=True), 0.0),
    (lambda h: F.leaky_relu(h, 0.5, inplace=True), 0.5),
    (lambda h: tg.nn.ReLU(inplace=True)(h), 0.0),
])
def test_inplace_activation_on_hooked_tensor_writes_into_it(activation, slope):
    """inplace=True on a tracked tensor with a gradient hook writes into it as ``h.relu_()``
    does (was a new tensor: h unchanged although the caller asked for the write); the hook sees
    the gradient of the value written over, as torch's."""
    values = np.array([-1.0, 2.0, -3.0, 4.0])
    x, h, seen = _tracked_with_hook(values)
    out = activation(h)
    assert out is h
    assert np.array_equal(h.detach().numpy(), np.where(values > 0, values, slope * values))
    (out * tg.arange(4, dtype=tg.float64)).sum().backward()
    expected = np.arange(4.0) * np.where(values > 0, 1.0, slope)
    assert np.array_equal(x.grad.numpy(), expected)
    assert len(seen) == 1 and np.array_equal(seen[0], expected)


def test_inplace_dropout_on_hooked_tensor_writes_into_it():
    tg.manual_seed(0)
    values = np.arange(1.0, 17.0)
    x, h, seen = _tracked_with_hook(values)
    out = F.dropout(h, 0.5, training=True, inplace=True)
    assert out is h
    kept = h.detach().numpy() != 0
    assert 0 < kept.sum() < 16 and np.array_equal(h.detach().numpy(), np.where(kept, 2 * values, 0))
    out.sum().backward()
    assert np.array_equal(x.grad.numpy(), 2.0 * kept) and np.array_equal(seen[0], 2.0 * kept)


@pytest.mark.parametrize("number", [np.float64(3.0), np.float32(3.0), np.int64(3), True, np.bool_(True)])
def test_numpy_scalar_over_tensor_is_reciprocal_times_number(number):
    """``number / x`` for a NumPy scalar or a bool is torch's ``x.reciprocal() * number`` (as for
    a Python float): the same rounding (a full array divided by x differed in the last bit) and
    x's layout (was C order)."""
    values = np.random.RandomState(0).rand(7, 5) + 0.5
    x = tg.tensor(values).t()
    out = number / x
    assert np.array_equal(out.numpy(), np.reciprocal(values.T) * float(number))
    assert out.stride() == x.stride() == (1, 5)
    y = tg.tensor(values, requires_grad=True)
    assert (number / y).grad_fn.name() in ("MulBackward0", "ReciprocalBackward0")   # (1: no Mul)


def test_numpy_scalar_over_integer_tensor_promotes_as_a_float():
    x = tg.tensor([[1, 2], [4, 8]])
    out = np.float64(2.0) / x
    assert out.dtype == tg.float32 and np.array_equal(out.numpy(), np.float32([[2, 1], [.5, .25]]))


def _conv_pair(transposed: bool):
    rs = np.random.RandomState(1)
    x = tg.tensor(rs.randn(2, 3, 5, 5))
    w = tg.tensor(rs.randn(3, 4, 3, 3) if transposed else rs.randn(4, 3, 3, 3))
    return x, w


@pytest.mark.parametrize("transposed", [False, True])
def test_conv_with_channels_last_weight_is_channels_last(transposed):
    """torch's convolutions give a channels_last result when the input or the weight is
    channels_last (a channels_last model fed a C-order batch or latent): was C order whenever
    the input was."""
    conv = F.conv_transpose2d if transposed else F.conv2d
    x, w = _conv_pair(transposed)
    w_cl = w.contiguous(memory_format=tg.channels_last)
    expected = conv(x, w)
    out = conv(x, w_cl, padding=0)
    assert out.is_contiguous(memory_format=tg.channels_last) and not out.is_contiguous()
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
    assert conv(x, w).is_contiguous()         # C input, C weight: C order, as before


@pytest.mark.parametrize("transposed", [False, True])
def test_conv_with_channels_last_weight_gradients(transposed):
    conv = F.conv_transpose2d if transposed else F.conv2d
    x0, w0 = _conv_pair(transposed)
    grads = []
    for fmt in (tg.contiguous_format, tg.channels_last):
        x = x0.clone().requires_grad_()
        w = w0.contiguous(memory_format=fmt).detach().requires_grad_()
        out = conv(x, w)
        assert out.grad_fn.name() == "ConvolutionBackward0"
        (out * out).sum().backward()
        assert w.grad.is_contiguous(memory_format=fmt)
        grads.append((x.grad.numpy(), w.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_channels_last_generator_fed_a_c_order_latent_stays_channels_last():
    """A DCGAN-style generator moved to channels_last keeps that layout from its first layer
    (torch: the weight decides, the (N, C, 1, 1) latent is C order either way)."""
    tg.manual_seed(0)
    g = tg.nn.Sequential(tg.nn.ConvTranspose2d(8, 6, 4, 1, 0, bias=False), tg.nn.BatchNorm2d(6),
                         tg.nn.ReLU(True), tg.nn.ConvTranspose2d(6, 3, 4, 2, 1), tg.nn.Tanh())
    z = tg.randn(2, 8, 1, 1)
    expected = g(z)
    g.to(memory_format=tg.channels_last)
    out = g(z)
    assert out.is_contiguous(memory_format=tg.channels_last) and not out.is_contiguous()
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: b.__rsub__(a)])
def test_channels_last_first_operand_result_is_made_in_place_not_copied(op):
    """``cl + c`` is computed straight into torch's (channels_last) layout: one result's worth
    of memory, not a C-order result and a relaid copy (514ecee; the copy was 2x slower)."""
    import tracemalloc
    rs = np.random.RandomState(0)
    a = tg.tensor(rs.randn(4, 32, 16, 16)).contiguous(memory_format=tg.channels_last)
    b = tg.tensor(rs.randn(4, 32, 16, 16))
    expected = op(a.numpy(), b.numpy())
    tracemalloc.start()
    try:
        out = op(a, b)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.is_contiguous(memory_format=tg.channels_last) and not out.is_contiguous()
    assert np.array_equal(out.numpy(), expected)
    assert peak < 1.5 * out.numpy().nbytes
