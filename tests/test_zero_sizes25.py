"""Layers with a zero size, as torch 2.13 builds them (Conv*(0, c), Embedding(0, d), LayerNorm(0),
GroupNorm(1, 0), BatchNorm1d(0)), and tensor(nan, dtype=int64)'s overflow error (torch's
RuntimeError "value cannot be converted to type int64 without overflow")."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import ConfigError, IndexOutOfRangeError, ShapeError, ValueOverflowError


def _x(*shape):
    return tg.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("make, shape, wshape", [
    (lambda: nn.Conv2d(3, 0, 3), (2, 3, 5, 5), (0, 3, 3, 3)),
    (lambda: nn.Conv1d(3, 0, 3), (2, 3, 5), (0, 3, 3)),
    (lambda: nn.ConvTranspose2d(3, 0, 3), (2, 3, 5, 5), (3, 0, 3, 3)),
    (lambda: nn.ConvTranspose2d(0, 3, 3), (2, 0, 5, 5), (0, 3, 3, 3)),
])
def test_conv_zero_out_channels_builds_but_refuses_forward(make, shape, wshape):
    # torch 2.13 builds the layer; its forward refuses the empty weight ("expected weight to be
    # at least 1 at dimension 0" / oneDNN's "could not create a primitive descriptor")
    m = make().double()
    assert tuple(m.weight.shape) == wshape and tuple(m.bias.shape) == (m.out_channels,)
    with pytest.raises(ShapeError, match="no channels"):
        m(_x(*shape))


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Conv2d(0, 3, 3), (2, 0, 5, 5)),
    (lambda: nn.Conv1d(0, 3, 3), (2, 0, 5)),
])
def test_conv_zero_in_channels_is_bias(make, shape):
    # an empty sum over input channels: the output is the bias alone (torch builds these layers;
    # torch 2.13's Conv2d(0, 3) forward gives an empty (2, 0, 3, 3), ConvTranspose2d(0, 3) refuses)
    m = make().double()
    x = _x(*shape)
    y = m(x)
    assert y.shape[:2] == (2, 3)
    b = m.bias.detach().numpy().reshape((1, 3) + (1,) * (len(shape) - 2))
    np.testing.assert_array_equal(y.detach().numpy(), np.broadcast_to(b, y.shape))
    y.sum().backward()
    assert tuple(x.grad.shape) == shape
    np.testing.assert_array_equal(m.bias.grad.numpy(), np.full(3, y.numel() // 3))


@pytest.mark.parametrize("n, d, idx_shape, out_shape", [(0, 3, (2, 0), (2, 0, 3)),
                                                         (3, 0, (2, 4), (2, 4, 0))])
def test_embedding_zero_size(n, d, idx_shape, out_shape):
    m = nn.Embedding(n, d)
    assert tuple(m.weight.shape) == (n, d)
    y = m(tg.zeros(*idx_shape, dtype=tg.int64))
    assert tuple(y.shape) == out_shape
    y.sum().backward()
    assert tuple(m.weight.grad.shape) == (n, d)


@pytest.mark.parametrize("make, shape", [(lambda: nn.LayerNorm(0), (4, 0)),
                                         (lambda: nn.GroupNorm(1, 0), (4, 0, 3))])
def test_norm_zero_features(make, shape):
    m = make().double()
    assert tuple(m.weight.shape) == (0,) and tuple(m.bias.shape) == (0,)
    x = _x(*shape)
    y = m(x)
    assert tuple(y.shape) == shape
    y.sum().backward()
    assert tuple(x.grad.shape) == shape and tuple(m.weight.grad.shape) == (0,)


def test_batchnorm_zero_features_builds_forward_refused():
    m = nn.BatchNorm1d(0)               # torch builds it; its forward raises IndexError
    assert tuple(m.running_mean.shape) == (0,) and tuple(m.weight.shape) == (0,)
    with pytest.raises(IndexError):
        m(tg.zeros(4, 0))
    with pytest.raises(IndexOutOfRangeError):
        m(tg.zeros(4, 0))


def test_still_refused():
    with pytest.raises(ConfigError):
        nn.Conv2d(3, 3, 3, groups=0)
    with pytest.raises(ConfigError):
        nn.GroupNorm(0, 4)
    with pytest.raises(ConfigError):
        nn.Conv2d(-1, 3, 3)


@pytest.mark.parametrize("data", [float("nan"), np.float64("nan"), [1.0, float("nan")],
                                  [[float("nan")]], float("inf")])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_nan_to_int_overflow(data, dtype):
    with pytest.raises(ValueOverflowError, match="without overflow"):
        tg.tensor(data, dtype=getattr(tg, dtype))
    with pytest.raises(RuntimeError):
        tg.tensor(data, dtype=getattr(tg, dtype))


def test_finite_float_to_int_still_truncates():
    assert tg.tensor([1.5, -2.7], dtype=tg.int64).tolist() == [1, -2]
