"""Pooling in every geometry torch has (stride, padding, dilation, ceil_mode, count_include_pad,
divisor_override, adaptive windows) against loop-by-loop definitions written from torch's
documentation, on hypothesis-drawn shapes; float64 gradchecks and gradgradchecks of each path."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorgan as tg
from tensorgan import functional as F

SETTINGS = settings(max_examples=40, deadline=None)


def t64(array, requires_grad=True):
    return tg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def out_size(n, k, s, p, d, ceil_mode):
    """torch.nn.MaxPool2d's documented shape formula, and its rule that the last window of
    ceil_mode starts inside the input or the left padding."""
    size = (n + 2 * p - d * (k - 1) - 1) / s + 1
    out = math.ceil(size) if ceil_mode else math.floor(size)
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def loop_max_pool(x, k, s, p, d, ceil_mode):
    n, c, h, w = x.shape
    ho, wo = (out_size(m, *a, ceil_mode) for m, a in zip((h, w), zip(k, s, p, d)))
    y = np.full((n, c, ho, wo), -np.inf)
    for i in range(ho):
        for j in range(wo):
            for a in range(k[0]):
                for b in range(k[1]):
                    r, q = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
                    if 0 <= r < h and 0 <= q < w:
                        y[:, :, i, j] = np.maximum(y[:, :, i, j], x[:, :, r, q])
    return y


def loop_avg_pool(x, k, s, p, ceil_mode, count_include_pad, divisor_override):
    n, c, h, w = x.shape
    ho, wo = (out_size(m, *a, 1, ceil_mode) for m, a in zip((h, w), zip(k, s, p)))
    y = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            r0, q0 = i * s[0] - p[0], j * s[1] - p[1]
            r1, q1 = min(r0 + k[0], h + p[0]), min(q0 + k[1], w + p[1])   # padded input's edge
            padded_size = (r1 - r0) * (q1 - q0)
            r0, q0, r1, q1 = max(r0, 0), max(q0, 0), min(r1, h), min(q1, w)
            total = x[:, :, r0:r1, q0:q1].sum(axis=(2, 3))
            divisor = divisor_override or (padded_size if count_include_pad else (r1 - r0) * (q1 - q0))
            y[:, :, i, j] = total / divisor
    return y


def loop_adaptive(x, out, reduce):
    n, c, h, w = x.shape
    y = np.zeros((n, c) + out)
    for i in range(out[0]):
        for j in range(out[1]):
            r0, r1 = (i * h) // out[0], -(-((i + 1) * h) // out[0])
            q0, q1 = (j * w) // out[1], -(-((j + 1) * w) // out[1])
            y[:, :, i, j] = reduce(x[:, :, r0:r1, q0:q1], axis=(2, 3))
    return y


@st.composite
def geometry(draw):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    ceil_mode = draw(st.booleans())
    hw = (draw(st.integers(1, 8)), draw(st.integers(1, 8)))
    return k, s, p, d, ceil_mode, hw


def distinct(shape, seed):
    """Distinct values: max pooling's gradient is defined where each maximum is unique."""
    return np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0


@SETTINGS
@given(g=geometry(), seed=st.integers(0, 2**16))
def test_max_pool2d_every_geometry(g, seed):
    k, s, p, d, ceil_mode, hw = g
    shapes = [out_size(m, *a, ceil_mode) for m, a in zip(hw, zip(k, s, p, d))]
    x = t64(distinct((2, 2) + hw, seed))
    if min(shapes) < 1:
        with pytest.raises(tg.ShapeError, match="max_pool2d"):
            F.max_pool2d(x, k, s, p, d, ceil_mode)
        return
    y = F.max_pool2d(x, k, s, p, d, ceil_mode)
    np.testing.assert_array_equal(y.numpy(), loop_max_pool(x.numpy(), k, s, p, d, ceil_mode))
    if np.isinf(y.numpy()).any():       # a dilated window wholly in the padding: -inf, no gradient
        y.backward(np.ones(y.shape))
        assert np.isfinite(x.grad.numpy()).all()
        return
    assert tg.gradcheck(lambda x: F.max_pool2d(x, k, s, p, d, ceil_mode), [x], eps=1e-4)


@SETTINGS
@given(g=geometry(), count_include_pad=st.booleans(), divisor=st.sampled_from([None, 1, 3]),
       seed=st.integers(0, 2**16))
def test_avg_pool2d_every_geometry(g, count_include_pad, divisor, seed):
    k, s, p, _, ceil_mode, hw = g
    shapes = [out_size(m, *a, 1, ceil_mode) for m, a in zip(hw, zip(k, s, p))]
    x = t64(np.random.default_rng(seed).standard_normal((2, 2) + hw))
    args = (k, s, p, ceil_mode, count_include_pad, divisor)
    if min(shapes) < 1:
        with pytest.raises(tg.ShapeError, match="avg_pool2d"):
            F.avg_pool2d(x, *args)
        return
    np.testing.assert_allclose(F.avg_pool2d(x, *args).numpy(), loop_avg_pool(x.numpy(), *args),
                               rtol=1e-12, atol=1e-12)
    assert tg.gradcheck(lambda x: F.avg_pool2d(x, *args), [x])


@SETTINGS
@given(hw=st.tuples(st.integers(1, 7), st.integers(1, 7)),
       out=st.tuples(st.integers(1, 9), st.integers(1, 9)), seed=st.integers(0, 2**16))
def test_adaptive_pooling(hw, out, seed):
    x = t64(distinct((2, 3) + hw, seed))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, out).numpy(),
                               loop_adaptive(x.numpy(), out, np.mean), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(F.adaptive_max_pool2d(x, out).numpy(),
                                  loop_adaptive(x.numpy(), out, np.max))
    assert tg.gradcheck(lambda x: F.adaptive_avg_pool2d(x, out), [x])
    assert tg.gradcheck(lambda x: F.adaptive_max_pool2d(x, out), [x], eps=1e-4)


@pytest.mark.parametrize("fn", [
    lambda x: F.max_pool2d(x * x.sum(), 3, stride=2, padding=1) ** 2,
    lambda x: F.max_pool2d(x * x, (2, 3), stride=1, dilation=(2, 1), ceil_mode=True) ** 2,
    lambda x: F.avg_pool2d(x * x, 3, stride=2, padding=1, ceil_mode=True,
                           count_include_pad=False) ** 2,
    lambda x: F.adaptive_avg_pool2d(x * x, (2, 3)) ** 2,
    lambda x: F.adaptive_max_pool2d(x * x.sum(), 2) ** 2,
], ids=["max-padded", "max-dilated-ceil", "avg-ceil-exclude-pad", "adaptive-avg", "adaptive-max"])
def test_general_pooling_second_derivatives(fn):
    x = t64(distinct((1, 2, 5, 6), 3) + 2.0)
    assert tg.gradgradcheck(fn, [x], eps=1e-5)


def test_ties_and_nan_follow_torch():
    # a tie sends the gradient to the first maximum in the window's row-major order (both
    # windows of the top row pick (0, 1): torch gives the same 2 there); a NaN wins
    x = t64([[[[1.0, 3.0, 3.0], [3.0, 0.0, 0.0], [0.0, 0.0, np.nan]]]])
    y = F.max_pool2d(x, 2, stride=1, padding=0)
    np.testing.assert_array_equal(y.numpy()[0, 0, 0], [3.0, 3.0])
    assert np.isnan(y.numpy()[0, 0, 1, 1])
    y[:, :, 0, :].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 2, 0], [0, 0, 0], [0, 0, 0]])


def test_padding_never_wins_a_max():
    x = t64(-np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(F.max_pool2d(x, 3, stride=1, padding=1).numpy(), -np.ones((1, 1, 2, 2)))


def test_pooling_argument_errors():
    x = t64(np.zeros((1, 1, 4, 4)))
    with pytest.raises(tg.ConfigError, match="max_pool2d: padding must be at most half"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(tg.ConfigError, match="max_pool2d: dilation must be >= 1"):
        F.max_pool2d(x, 2, dilation=0)
    assert F.max_pool2d(x, 2, return_indices=True)[1].dtype == tg.int64      # (values, indices)
    with pytest.raises(tg.ConfigError, match="divisor_override"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(tg.InputTypeError, match="ceil_mode"):
        F.avg_pool2d(x, 2, ceil_mode="yes")
    with pytest.raises(tg.ConfigError, match="adaptive_avg_pool2d: output_size"):
        F.adaptive_avg_pool2d(x, (2, -1))
    with pytest.raises(tg.ShapeError, match="adaptive_max_pool2d"):
        F.adaptive_max_pool2d(t64(np.zeros((4, 4))), 2)


def test_float32_stays_float32():
    x = tg.tensor(np.ones((1, 1, 5, 5), np.float32))
    for y in (F.max_pool2d(x, 3, 2, 1), F.avg_pool2d(x, 3, 2, 1), F.adaptive_avg_pool2d(x, 2),
              F.adaptive_max_pool2d(x, 2)):
        assert y.dtype == np.float32
