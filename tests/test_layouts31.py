"""Session 31 (h31b): layout and grad_fn-name leftovers beside torch 2.13 -- strides of results and
of raw input gradients (autograd.grad), node names of unbatched pools and circular padding.
Expected strides were read off torch beside these programs; values never depend on a layout."""
from __future__ import annotations

import numpy as np
import pytest

import tensorgan as tg

F = tg.nn.functional
_CL = (105, 1, 21, 3)          # (2, 3, 5, 7) channels_last
_C = (105, 35, 7, 1)


def _x(channels_last: bool = True, seed: int = 0) -> tg.Tensor:
    x = tg.tensor(np.random.RandomState(seed).randn(2, 3, 5, 7), dtype=tg.float64)
    if channels_last:
        x = x.contiguous(memory_format=tg.channels_last)
    return x.requires_grad_(True)


def _raw_grad(op, x: tg.Tensor, g_format=tg.contiguous_format) -> tg.Tensor:
    y = op(x)
    g = tg.tensor(np.random.RandomState(1).randn(*y.shape), dtype=tg.float64)
    return tg.autograd.grad(y, x, g.contiguous(memory_format=g_format))[0]


# --- pools ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, op, strides", [
    ("avg_pool2d padded", lambda x: F.avg_pool2d(x, 3, 2, 1), _CL),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), _CL),
    ("adaptive_avg_pool2d to 1", lambda x: F.adaptive_avg_pool2d(x, 1), _C),   # torch's mean
])
def test_pool_raw_gradient_of_a_channels_last_input_has_torchs_layout(name, op, strides):
    got, expected = _raw_grad(op, _x()), _raw_grad(op, _x(False))
    assert got.stride() == strides and expected.stride() == _C
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-13, atol=1e-13)
    small = tg.tensor(np.random.RandomState(5).randn(1, 2, 4, 5), dtype=tg.float64)
    small = small.contiguous(memory_format=tg.channels_last).requires_grad_(True)
    assert tg.autograd.gradgradcheck(op, (small,))


def test_3d_average_pools_of_channels_last_3d_give_a_c_order_gradient():
    x = tg.tensor(np.random.RandomState(2).randn(2, 3, 4, 5, 6), dtype=tg.float64)
    x = x.contiguous(memory_format=tg.channels_last_3d).requires_grad_(True)
    for op in (lambda t: F.avg_pool3d(t, 3, 2, 1), lambda t: F.adaptive_avg_pool3d(t, 2)):
        assert _raw_grad(op, x).stride() == (360, 120, 30, 6, 1)


def test_global_average_pool_of_channels_last_has_torchs_strides_and_values():
    x = _x()
    y = F.adaptive_avg_pool2d(x, 1)
    assert y.stride() == (3, 1, 3, 3) and y.is_contiguous(memory_format=tg.channels_last)
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy().mean((2, 3), keepdims=True), rtol=1e-14)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(x.shape, 1 / 35), rtol=1e-14)
    x5 = tg.ones(2, 3, 2, 2, 2).contiguous(memory_format=tg.channels_last_3d)
    assert F.adaptive_avg_pool3d(x5, 1).stride() == (3, 1, 3, 3, 3)
    assert F.adaptive_avg_pool2d(_x(False), 1).stride() == (3, 1, 1, 1)


@pytest.mark.parametrize("op, name", [
    (lambda x: F.max_pool2d(x, 2), "MaxPool2DWithIndicesBackward0"),
    (lambda x: F.max_pool2d(x, 3, 2, 1, return_indices=True)[0], "MaxPool2DWithIndicesBackward0"),
    (lambda x: F.avg_pool2d(x, 2), "AvgPool2DBackward0"),
    (lambda x: F.adaptive_avg_pool2d(x, 2), "AdaptiveAvgPool2DBackward0"),
    (lambda x: F.adaptive_max_pool2d(x, 2), "AdaptiveMaxPool2DBackward0"),
    (lambda x: F.lp_pool2d(x, 2, 2), "PowBackward0"),
    (lambda x: F.max_pool3d(x[None], 1), "MaxPool3DWithIndicesBackward0"),
    (lambda x: F.avg_pool3d(x[None], 1), "AvgPool3DBackward0"),
])
def test_unbatched_pools_are_named_as_the_pool_not_a_squeeze(op, name):
    x = tg.tensor(np.random.RandomState(3).randn(3, 5, 7), dtype=tg.float64, requires_grad=True)
    y = op(x)
    assert y.grad_fn.name() == name
    batched = op(x[None])
    np.testing.assert_array_equal(y.detach().numpy(), batched.detach().numpy()[0])
    (g,) = tg.autograd.grad(y.sum(), x)
    (expected,) = tg.autograd.grad(batched.sum(), x)
    np.testing.assert_array_equal(g.numpy(), expected.numpy())


def test_unbatched_pool_without_grad_is_plain():
    y = F.max_pool2d(tg.ones(3, 4, 4), 2)
    assert y.grad_fn is None and y.shape == (3, 2, 2)


# --- padding -------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, pad", [((2, 3, 5, 7), (1, 1, 2, 2)), ((3, 5, 7), (1, 2))])
def test_circular_pad_node_is_torchs_copy_slices(shape, pad):
    x = tg.tensor(np.random.RandomState(4).randn(*shape), dtype=tg.float64, requires_grad=True)
    y = F.pad(x, pad, mode="circular")
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    assert tg.autograd.gradcheck(lambda t: F.pad(t, pad, mode="circular"), (x,))


# --- activations' input gradients ----------------------------------------------------------------

@pytest.mark.parametrize("name, strides", [("relu", _CL), ("silu", _C), ("gelu", _C)])
def test_activation_gradient_with_a_c_order_g_on_a_channels_last_input(name, strides):
    """torch: relu's threshold_backward(g, result) follows the result, silu / gelu's backward
    follows g (its TensorIterator's first operand)."""
    op = getattr(F, name)
    got, expected = _raw_grad(op, _x()), _raw_grad(op, _x(False))
    assert got.stride() == strides
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-13, atol=1e-13)
    assert _raw_grad(op, _x(), tg.channels_last).stride() == _CL
    x = _x()
    op(x).sum().backward()                      # a broadcast g: x's layout kept
    assert x.grad.stride() == _CL
    small = tg.tensor(np.random.RandomState(7).randn(1, 2, 3, 4), dtype=tg.float64)
    small = small.contiguous(memory_format=tg.channels_last).requires_grad_(True)
    assert tg.autograd.gradgradcheck(op, (small,))


def test_dtype_cast_of_an_expanded_tensor_is_c_order():
    e = tg.ones(1, 3, 1, 1).expand(2, 3, 5, 7)
    assert e.double().stride() == _C and e.to(tg.float64).stride() == _C    # (was (35, 70, 7, 1))
    x = _x()
    assert tg.autograd.grad(x * 2, x, e)[0].stride() == _C    # a float32 g cast to float64


# --- masked_fill / flip ----------------------------------------------------------------------------

def test_masked_fill_is_c_order_and_flip_keeps_the_layout():
    x = _x().detach()
    t = tg.tensor(np.random.RandomState(6).randn(4, 6), dtype=tg.float64).t()
    for src in (x, t):
        filled = src.masked_fill(src > 0, 0.0)          # torch fills a C-order clone
        assert filled.is_contiguous()
        np.testing.assert_array_equal(filled.numpy(), np.where(src.numpy() > 0, 0.0, src.numpy()))
    assert _x(False).detach().masked_fill(x > 0, 1.0).is_contiguous()
    assert x.flip(1).stride() == _CL and x.flip(2, 3).stride() == _CL and t.flip(0).stride() == (1, 6)
    np.testing.assert_array_equal(x.flip(1).numpy(), x.numpy()[:, ::-1])
    assert _x(False).detach().flip(1).stride() == _C
    xg = _x()
    (g,) = tg.autograd.grad(xg.flip(2).masked_fill(xg > 0, 0.0).sum(), xg)
    np.testing.assert_array_equal(g.numpy(), np.flip(xg.detach().numpy() <= 0, 2).astype(float))
