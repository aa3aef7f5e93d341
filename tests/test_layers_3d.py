"""torch's 3-D (volumetric) layers -- conv3d / conv_transpose3d (NumPy/CuPy im2col + batched matmul,
col2im adjoint), 3-D pooling, BatchNorm3d / InstanceNorm3d / Dropout3d, the 3-D pads and 5-D
interpolation -- checked against loop definitions written from torch's documentation (float64),
gradcheck / gradgradcheck, and refusals."""
import itertools

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.functional as F
from tensorgan import nn
from tensorgan.errors import ConfigError, DTypeError, IndexOutOfRangeError, InputTypeError, ShapeError

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape)


def t(a, grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def conv3d_by_definition(x, w, b, stride, padding, dilation, groups):
    """y[n, o, i] = b[o] + sum over the channels c of o's group and taps k of
    xpad[n, c, i * stride + k * dilation] w[o, c - first channel of the group, k] (per dim)."""
    x = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    co, cg = w.shape[:2]
    out = [(n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(x.shape[2:], w.shape[2:], stride, dilation)]
    y = np.zeros((x.shape[0], co, *out))
    for o in range(co):
        first = (o // (co // groups)) * cg
        for i in itertools.product(*map(range, out)):
            for k in itertools.product(*map(range, w.shape[2:])):
                at = tuple(ii * s + kk * d for ii, kk, s, d in zip(i, k, stride, dilation))
                y[(slice(None), o) + i] += x[(slice(None), slice(first, first + cg)) + at] @ w[(o, slice(None)) + k]
        y[:, o] += 0 if b is None else b[o]
    return y


def conv_transpose3d_by_definition(x, w, b, stride, padding, output_padding, dilation, groups):
    """Scatter every input voxel times the kernel into the full output at stride and dilation
    spacing, then keep ``[padding, padding + size)`` per dim, size = (n - 1) s - 2 p + d (k - 1)
    + 1 + output_padding (zeros past the full output)."""
    n, c = x.shape[:2]
    cg_out = w.shape[1]
    c_in_group = c // groups
    full = [(m - 1) * s + d * (k - 1) + 1 for m, k, s, d in zip(x.shape[2:], w.shape[2:], stride, dilation)]
    size = [f - 2 * p + op for f, p, op in zip(full, padding, output_padding)]
    y = np.zeros((n, cg_out * groups) + tuple(f + op for f, op in zip(full, output_padding)))
    for ci in range(c):
        g = ci // c_in_group
        for i in itertools.product(*map(range, x.shape[2:])):
            for k in itertools.product(*map(range, w.shape[2:])):
                at = tuple(ii * s + kk * d for ii, kk, s, d in zip(i, k, stride, dilation))
                y[(slice(None), slice(g * cg_out, (g + 1) * cg_out)) + at] += \
                    x[(slice(None), ci) + i][:, None] * w[(ci, slice(None)) + k][None, :]
    y = y[(Ellipsis,) + tuple(slice(p, p + m) for p, m in zip(padding, size))]
    return y if b is None else y + b.reshape(1, -1, 1, 1, 1)


CONFIGS = [  # (stride, padding, dilation, groups, kernel)
    ((1, 1, 1), (0, 0, 0), (1, 1, 1), 1, (3, 3, 3)),
    ((2, 1, 2), (1, 0, 1), (1, 1, 1), 1, (3, 2, 3)),
    ((1, 2, 1), (1, 1, 0), (2, 1, 2), 1, (2, 3, 2)),
    ((2, 2, 2), (1, 1, 1), (1, 2, 1), 2, (3, 2, 2)),
    ((1, 1, 1), (2, 0, 1), (1, 1, 1), 2, (1, 1, 1)),
]


@pytest.mark.parametrize("stride,padding,dilation,groups,kernel", CONFIGS)
@pytest.mark.parametrize("bias", [True, False])
def test_conv3d_matches_definition(stride, padding, dilation, groups, kernel, bias):
    x, w = rand(2, 2 * groups, 6, 5, 7), rand(2 * groups, 2, *kernel)
    b = rand(2 * groups) if bias else None
    y = F.conv3d(t(x), t(w), None if b is None else t(b), stride, padding, dilation, groups)
    np.testing.assert_allclose(y.numpy(), conv3d_by_definition(x, w, b, stride, padding, dilation, groups),
                               atol=1e-12)


@pytest.mark.parametrize("stride,padding,dilation,groups,kernel", CONFIGS)
def test_conv_transpose3d_matches_definition(stride, padding, dilation, groups, kernel):
    output_padding = tuple(max(s, d) - 1 for s, d in zip(stride, dilation))
    x, w, b = rand(2, 2 * groups, 5, 3, 4), rand(2 * groups, 2, *kernel), rand(2 * groups)
    y = F.conv_transpose3d(t(x), t(w), t(b), stride, padding, output_padding, groups, dilation)
    expected = conv_transpose3d_by_definition(x, w, b, stride, padding, output_padding, dilation, groups)
    np.testing.assert_allclose(y.numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("stride,padding,dilation,groups,kernel", CONFIGS)
def test_conv_transpose3d_is_the_adjoint_of_conv3d(stride, padding, dilation, groups, kernel):
    x, w = rand(2, 2 * groups, 6, 5, 7), rand(2 * groups, 2, *kernel)
    y = F.conv3d(t(x), t(w), None, stride, padding, dilation, groups)
    v = rand(*y.shape)
    out = [(yi - 1) * s - 2 * p + d * (k - 1) + 1 for yi, k, s, p, d in zip(y.shape[2:], kernel, stride, padding, dilation)]
    op = tuple(n - o for n, o in zip(x.shape[2:], out))
    back = F.conv_transpose3d(t(v), t(w), None, stride, padding, op, groups, dilation)
    assert back.shape == x.shape
    np.testing.assert_allclose((y.numpy() * v).sum(), (back.numpy() * x).sum(), rtol=1e-12)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("stride,padding,dilation,groups", [((1, 1, 1), (0, 0, 0), (1, 1, 1), 1),
                                                             ((2, 1, 1), (1, 0, 1), (1, 2, 1), 2)])
def test_conv3d_gradcheck_and_gradgradcheck(transposed, stride, padding, dilation, groups):
    x = t(rand(1, groups, 3, 4, 3), True)                 # one input channel per group
    w = t(rand(groups, 2, 2, 2, 2) if transposed else rand(2 * groups, 1, 2, 2, 2), True)
    b = t(rand(2 * groups), True)
    if transposed:
        def fn(x, w, b):
            return F.conv_transpose3d(x, w, b, stride, padding, 0, groups, dilation)
    else:
        def fn(x, w, b):
            return F.conv3d(x, w, b, stride, padding, dilation, groups)
    assert tg.gradcheck(fn, [x, w, b])
    assert tg.gradgradcheck(lambda x, w, b: fn(x, w, b) ** 2, [x, w, b])


@pytest.mark.parametrize("transposed", [False, True])
def test_conv3d_empty_batch_and_float32(transposed):
    """N = 0 gives empty outputs and zero weight gradients (not a reshape error), and float32
    stays float32 through the im2col matmuls."""
    layer = (nn.ConvTranspose3d(4, 6, 3, stride=2, groups=2) if transposed
             else nn.Conv3d(4, 6, 3, padding=1, groups=2))
    x = tg.zeros(0, 4, 5, 5, 5, requires_grad=True)
    y = layer(x)
    y.sum().backward()
    assert y.shape == ((0, 6, 11, 11, 11) if transposed else (0, 6, 5, 5, 5))
    assert x.grad.shape == x.shape and not layer.weight.grad.numpy().any()
    y32 = layer(tg.randn(2, 4, 5, 5, 5))
    assert y32.dtype == np.float32 and layer.weight.dtype == np.float32


def test_conv3d_same_and_valid_padding():
    x, w = rand(1, 2, 5, 6, 4), rand(3, 2, 2, 3, 4)      # even kernels: the extra zero goes after
    y = F.conv3d(t(x), t(w), None, 1, "same", (1, 2, 1))
    spans = [d * (k - 1) for k, d in zip((2, 3, 4), (1, 2, 1))]
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((s // 2, s - s // 2) for s in spans))
    np.testing.assert_allclose(y.numpy(), conv3d_by_definition(xp, w, None, (1,) * 3, (0,) * 3, (1, 2, 1), 1),
                               atol=1e-12)
    assert y.shape == x.shape[:1] + (3,) + x.shape[2:]
    valid = F.conv3d(t(x), t(w), None, 1, "valid")
    np.testing.assert_allclose(valid.numpy(), conv3d_by_definition(x, w, None, (1,) * 3, (0,) * 3, (1,) * 3, 1),
                               atol=1e-12)


@pytest.mark.parametrize("mode,numpy_mode", [("reflect", "reflect"), ("replicate", "edge"),
                                             ("circular", "wrap"), ("zeros", "constant")])
def test_conv3d_module_padding_modes(mode, numpy_mode):
    m = nn.Conv3d(2, 3, (3, 2, 3), stride=(1, 2, 1), padding=(1, 1, 2), padding_mode=mode, dtype="float64")
    x = rand(2, 2, 4, 5, 6)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1), (2, 2)), mode=numpy_mode)
    expected = conv3d_by_definition(xp, m.weight.numpy(), m.bias.numpy(), (1, 2, 1), (0,) * 3, (1,) * 3, 1)
    np.testing.assert_allclose(m(t(x)).numpy(), expected, atol=1e-12)
    assert m.weight.shape == (3, 2, 3, 2, 3)


def test_conv_transpose3d_module_output_size_and_unbatched():
    m = nn.ConvTranspose3d(2, 3, 3, stride=2, padding=1, dtype="float64")
    x = rand(1, 2, 3, 4, 2)
    assert m(t(x)).shape == (1, 3, 5, 7, 3)
    y = m(t(x), output_size=(6, 8, 4))
    assert y.shape == (1, 3, 6, 8, 4)
    expected = conv_transpose3d_by_definition(x, m.weight.numpy(), m.bias.numpy(), (2,) * 3, (1,) * 3,
                                              (1, 1, 1), (1,) * 3, 1)
    np.testing.assert_allclose(y.numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(m(t(x[0]), output_size=(6, 8, 4)).numpy(), expected[0], atol=1e-12)
    with pytest.raises(ShapeError, match="output size"):
        m(t(x), output_size=(8, 8, 4))


def test_unbatched_conv3d_and_modules_repr():
    m = nn.Conv3d(2, 4, 3, padding=1, groups=2, bias=False, dtype="float64")
    x = rand(2, 3, 4, 5)
    np.testing.assert_allclose(m(t(x)).numpy(), m(t(x[None])).numpy()[0])
    assert repr(m) == "Conv3d(2, 4, kernel_size=(3, 3, 3), stride=(1, 1, 1), padding=(1, 1, 1), groups=2, bias=False)"
    assert tg.conv3d is F.conv3d and tg.conv_transpose3d is F.conv_transpose3d


# --------------------------------------------------------------------------------------------
# pooling
# --------------------------------------------------------------------------------------------
def pool_out(n, k, s, p, d, ceil):
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    return out - 1 if ceil and (out - 1) * s >= n + p else out


def windows(spatial, k, s, p, d, ceil):
    """Every output position with its window's in-range input positions (torch's docs)."""
    out = [pool_out(*a, ceil) for a in zip(spatial, k, s, p, d)]
    for i in itertools.product(*map(range, out)):
        starts = [ii * si - pi for ii, si, pi in zip(i, s, p)]
        taps = [[st + kk * dd for kk in range(kk_)] for st, kk_, dd in zip(starts, k, d)]
        inside = [[v for v in tap if 0 <= v < n] for tap, n in zip(taps, spatial)]
        ends = [min(st + kk_, n + pi) for st, kk_, n, pi in zip(starts, k, spatial, p)]
        yield i, list(itertools.product(*inside)), [e - st for e, st in zip(ends, starts)], out


POOLS = [((2, 2, 2), None, (0, 0, 0), (1, 1, 1), False), ((3, 2, 3), (2, 1, 2), (1, 1, 1), (1, 1, 1), True),
         ((2, 3, 2), (1, 2, 2), (1, 0, 1), (2, 1, 2), False), ((3, 3, 3), (2, 2, 2), (1, 1, 1), (1, 1, 1), True)]


@pytest.mark.parametrize("k,s,p,d,ceil", POOLS)
def test_max_pool3d_matches_definition_with_indices(k, s, p, d, ceil):
    x = rand(2, 2, 5, 6, 7)
    y, idx = F.max_pool3d(t(x), k, s, p, d, ceil, return_indices=True)
    spatial = x.shape[2:]
    for i, taps, _, out in windows(spatial, k, s or k, p, d, ceil):
        vals = np.stack([x[(slice(None), slice(None)) + tap] for tap in taps], -1)
        np.testing.assert_array_equal(y.numpy()[(slice(None), slice(None)) + i], vals.max(-1))
        flat = [np.ravel_multi_index(taps[j], spatial) for j in vals.argmax(-1).ravel()]
        np.testing.assert_array_equal(idx.numpy()[(slice(None), slice(None)) + i].ravel(), flat)
    assert y.shape == x.shape[:2] + tuple(out) and idx.dtype == np.int64


def test_max_unpool3d_puts_maxima_back():
    x = rand(2, 2, 5, 4, 5)
    y, idx = F.max_pool3d(t(x), 2, return_indices=True)
    back = F.max_unpool3d(y, idx, 2, output_size=x.shape[2:]).numpy()
    assert back.shape == x.shape
    kept = back != 0
    np.testing.assert_array_equal(back[kept], x[kept])
    at_indices = np.take_along_axis(back.reshape(2, 2, -1), idx.numpy().reshape(2, 2, -1), -1)
    np.testing.assert_array_equal(at_indices, y.numpy().reshape(2, 2, -1))


@pytest.mark.parametrize("k,s,p,d,ceil", POOLS)
@pytest.mark.parametrize("count_include_pad,divisor", [(True, None), (False, None), (True, 5)])
def test_avg_pool3d_matches_definition(k, s, p, d, ceil, count_include_pad, divisor):
    x = rand(1, 2, 5, 6, 7)
    y = F.avg_pool3d(t(x), k, s, p, ceil, count_include_pad, divisor)
    for i, taps, spans, _ in windows(x.shape[2:], k, s or k, p, (1, 1, 1), ceil):
        total = sum(x[(slice(None), slice(None)) + tap] for tap in taps)
        div = divisor or (np.prod(spans) if count_include_pad else len(taps))
        np.testing.assert_allclose(y.numpy()[(slice(None), slice(None)) + i], total / div, atol=1e-12)


@pytest.mark.parametrize("size", [(2, 3, 4), 1, (None, 2, 5)])
def test_adaptive_pools_3d_match_definition(size):
    x = rand(2, 3, 5, 4, 6)
    avg, (mx, idx) = F.adaptive_avg_pool3d(t(x), size), F.adaptive_max_pool3d(t(x), size, True)
    sizes = [n if v is None else v for v, n in zip(size if isinstance(size, tuple) else (size,) * 3, x.shape[2:])]
    for i in itertools.product(*map(range, sizes)):
        cut = tuple(slice(ii * n // o, -((-(ii + 1) * n) // o)) for ii, n, o in zip(i, x.shape[2:], sizes))
        block = x[(slice(None), slice(None)) + cut]
        np.testing.assert_allclose(avg.numpy()[(slice(None), slice(None)) + i], block.mean((2, 3, 4)), atol=1e-12)
        np.testing.assert_array_equal(mx.numpy()[(slice(None), slice(None)) + i], block.max((2, 3, 4)))
    assert avg.shape == mx.shape == idx.shape == x.shape[:2] + tuple(sizes)


UNPOOL_INDICES = F.max_pool3d(tg.tensor(RNG.standard_normal((1, 2, 4, 5, 4))), 2, return_indices=True)[1]


@pytest.mark.parametrize("op", [
    lambda x: F.max_pool3d(x, (2, 3, 2), (1, 2, 1), (1, 1, 0), (1, 1, 2)),
    lambda x: F.avg_pool3d(x, 3, 2, 1, True, False),
    lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2)),
    lambda x: F.adaptive_max_pool3d(x, (3, 2, 2)),
    lambda x: F.max_unpool3d(F.max_pool3d(x, 2), UNPOOL_INDICES, 2, output_size=(4, 5, 4)),
    lambda x: F.interpolate(x, size=(3, 7, 5), mode="trilinear", align_corners=True),
    lambda x: F.interpolate(x, scale_factor=1.5, mode="trilinear"),
    lambda x: F.interpolate(x, size=(2, 3, 2), mode="area"),
])
def test_pools_and_resizing_3d_gradcheck(op):
    x = t(RNG.permutation(2 * 4 * 5 * 4).reshape(1, 2, 4, 5, 4) / 10.0, True)   # distinct: no max ties
    assert tg.gradcheck(op, [x])
    assert tg.gradgradcheck(lambda v: op(v) ** 2, [x])


def test_pool_modules_3d_and_unbatched():
    x = rand(2, 3, 4, 6, 5)
    for module, fn in ((nn.MaxPool3d(2, 1, 1), lambda v: F.max_pool3d(v, 2, 1, 1)),
                       (nn.AvgPool3d(3, 2, 1, count_include_pad=False),
                        lambda v: F.avg_pool3d(v, 3, 2, 1, count_include_pad=False)),
                       (nn.AdaptiveAvgPool3d((1, 2, None)), lambda v: F.adaptive_avg_pool3d(v, (1, 2, None))),
                       (nn.AdaptiveMaxPool3d(2), lambda v: F.adaptive_max_pool3d(v, 2))):
        np.testing.assert_array_equal(module(t(x)).numpy(), fn(t(x)).numpy())
        np.testing.assert_array_equal(module(t(x[0])).numpy(), fn(t(x)).numpy()[0])
    pool, unpool = nn.MaxPool3d(2, return_indices=True), nn.MaxUnpool3d(2)
    y, idx = pool(t(x))
    assert unpool(y, idx, output_size=x.shape).shape == x.shape and unpool.kernel_size == (2, 2, 2)
    assert tg.max_pool3d(t(x), 2).shape == (2, 3, 2, 3, 2)


# --------------------------------------------------------------------------------------------
# normalization, dropout, padding, resizing
# --------------------------------------------------------------------------------------------
def test_batch_norm_3d_training_and_eval():
    m = nn.BatchNorm3d(3, dtype="float64")
    x = rand(2, 3, 3, 4, 2)
    y = m(t(x))
    mean, var = x.mean((0, 2, 3, 4), keepdims=True), x.var((0, 2, 3, 4), keepdims=True)
    np.testing.assert_allclose(y.numpy(), (x - mean) / np.sqrt(var + 1e-5), atol=1e-12)
    count = x.size // 3
    np.testing.assert_allclose(m.running_var.numpy(), 0.9 + 0.1 * var.ravel() * count / (count - 1))
    m.eval()
    rm, rv = m.running_mean.numpy(), m.running_var.numpy()
    np.testing.assert_allclose(m(t(x)).numpy(), (x - rm.reshape(1, 3, 1, 1, 1)) / np.sqrt(rv.reshape(1, 3, 1, 1, 1) + 1e-5))
    assert tg.gradcheck(lambda v, w, b: F.batch_norm(v, None, None, w, b, True), [t(x, True), t(rand(3), True), t(rand(3), True)])
    fused = nn.Sequential(nn.BatchNorm3d(3, dtype="float64"), nn.LeakyReLU(0.2))
    np.testing.assert_allclose(fused(t(x)).numpy(), F.leaky_relu(F.batch_norm(t(x), None, None, training=True), 0.2).numpy(),
                               atol=1e-12)


def test_instance_norm_3d():
    m = nn.InstanceNorm3d(2, affine=True, dtype="float64")
    x = rand(2, 2, 3, 2, 4)
    mean, var = x.mean((2, 3, 4), keepdims=True), x.var((2, 3, 4), keepdims=True)
    np.testing.assert_allclose(m(t(x)).numpy(), (x - mean) / np.sqrt(var + 1e-5), atol=1e-12)
    np.testing.assert_allclose(m(t(x[0])).numpy(), m(t(x)).numpy()[0])
    assert tg.gradcheck(lambda v: m(v), [t(x, True)])


def test_dropout3d_zeroes_whole_channels():
    x = np.ones((4, 5, 2, 3, 2))
    y = nn.Dropout3d(0.5)(t(x)).numpy()
    per_channel = y.reshape(4, 5, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert F.dropout3d(t(x[0]), 0.5).shape == x.shape[1:]
    assert nn.Dropout3d(0.5).eval()(t(x)).numpy().sum() == x.sum()


@pytest.mark.parametrize("cls,numpy_mode", [(nn.ReflectionPad3d, "reflect"), (nn.ReplicationPad3d, "edge"),
                                            (nn.CircularPad3d, "wrap"), (nn.ZeroPad3d, "constant")])
def test_pads_3d(cls, numpy_mode):
    x = rand(2, 2, 3, 4, 5)
    padding = (1, 2, 0, 1, 2, 1)           # (left, right, top, bottom, front, back)
    y = cls(padding)(t(x, True))
    expected = np.pad(x, ((0, 0), (0, 0), (2, 1), (0, 1), (1, 2)), mode=numpy_mode)
    np.testing.assert_array_equal(y.numpy(), expected)
    np.testing.assert_array_equal(cls(1)(t(x[0])).numpy(), np.pad(x[0], ((0, 0),) + ((1, 1),) * 3, mode=numpy_mode))
    assert tg.gradcheck(lambda v: cls(padding)(v), [t(rand(1, 1, 3, 3, 3), True)])
    constant = nn.ConstantPad3d(1, 2.5)(t(x))
    assert constant.shape == (2, 2, 5, 6, 7) and constant.numpy()[0, 0, 0, 0, 0] == 2.5


def test_interpolate_5d():
    x = rand(1, 2, 3, 4, 2)
    near = nn.Upsample(scale_factor=2)(t(x)).numpy()
    np.testing.assert_array_equal(near, x.repeat(2, 2).repeat(2, 3).repeat(2, 4))
    tri = nn.Upsample(size=(5, 7, 3), mode="trilinear", align_corners=True)(t(x)).numpy()
    for d, h, w in itertools.product(range(5), range(7), range(3)):
        src = [d * 2 / 4, h * 3 / 6, w * 1 / 2]             # i * (in - 1) / (out - 1)
        lo = [min(int(np.floor(v)), n - 2) for v, n in zip(src, x.shape[2:])]
        frac = [v - lo_ for v, lo_ in zip(src, lo)]
        value = sum(np.prod([f if c else 1 - f for c, f in zip(corner, frac)]) *
                    x[(0, slice(None)) + tuple(lo_ + c for lo_, c in zip(lo, corner))]
                    for corner in itertools.product((0, 1), repeat=3))
        np.testing.assert_allclose(tri[0, :, d, h, w], value, atol=1e-12)


# --------------------------------------------------------------------------------------------
# refusals
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call,error,words", [
    (lambda: F.conv3d(t(rand(2, 4, 4)), t(rand(3, 2, 2, 2, 2))), ShapeError, "input must be"),
    (lambda: F.conv3d(t(rand(1, 2, 4, 4, 4)), t(rand(3, 3, 2, 2, 2))), ShapeError, "channels"),
    (lambda: F.conv3d(t(rand(1, 2, 4, 4, 4)), t(rand(3, 2, 2, 2))), ShapeError, "weight must be"),
    (lambda: F.conv3d(t(rand(1, 2, 4, 4, 4)), tg.tensor(rand(3, 2, 2, 2, 2), dtype="float32")), DTypeError, "weight"),
    (lambda: F.conv3d(t(rand(1, 2, 4, 4, 4)), t(rand(3, 1, 2, 2, 2)), groups=2), ShapeError, "divisible by groups"),
    (lambda: F.conv3d(t(rand(1, 2, 4, 4, 4)), t(rand(3, 2, 2, 2, 2)), t(rand(4))), ShapeError, "bias"),
    (lambda: F.conv3d(t(rand(1, 2, 4, 4, 2)), t(rand(3, 2, 3, 3, 3))), ShapeError, "larger than the padded input"),
    (lambda: F.conv3d(t(rand(1, 2, 4, 4, 4)), t(rand(3, 2, 2, 2, 2)), stride=(1, 2)), ConfigError, "stride"),
    (lambda: F.conv3d(t(rand(1, 2, 4, 4, 4)), t(rand(3, 2, 2, 2, 2)), stride=2, padding="same"), ConfigError, "same"),
    (lambda: F.conv_transpose3d(t(rand(1, 2, 4, 4, 4)), t(rand(2, 3, 2, 2, 2)), output_padding=1), ConfigError,
     "output_padding"),
    (lambda: F.conv_transpose3d(t(rand(1, 2, 1, 1, 1)), t(rand(2, 3, 1, 1, 1)), padding=1), ShapeError, "output size"),
    (lambda: nn.ConvTranspose3d(2, 2, 3, padding_mode="reflect"), ConfigError, "padding_mode"),
    (lambda: nn.Conv3d(2, 3, 3, groups=2), ConfigError, "divisible by groups"),
    (lambda: nn.Conv3d(2, 3, 3)(t(rand(1, 3, 4, 4, 4))), ShapeError, "channels"),
    (lambda: F.max_pool3d(t(rand(2, 4, 4)), 2), ShapeError, "input must be"),
    (lambda: F.max_pool3d(t(rand(1, 1, 4, 4, 4)), 2, padding=2), ConfigError, "half the kernel"),
    (lambda: F.avg_pool3d(t(rand(1, 1, 4, 4, 4)), 2, divisor_override=0), ConfigError, "divisor_override"),
    (lambda: F.max_pool3d(t(rand(1, 1, 4, 4, 1)), 2), ShapeError, "larger than the input"),
    (lambda: F.adaptive_avg_pool3d(t(rand(1, 1, 4, 4, 4)), (2, 2)), ConfigError, "output_size"),
    (lambda: nn.MaxPool3d((2, 2)), ConfigError, "kernel_size"),
    (lambda: F.max_unpool3d(t(rand(1, 1, 2, 2, 2)), tg.zeros(1, 1, 2, 2, 2), 2), InputTypeError, "indices"),
    (lambda: F.max_unpool3d(t(rand(1, 1, 2, 2, 2)), tg.full((1, 1, 2, 2, 2), 99, dtype="int64"), 2),
     IndexOutOfRangeError, "outside"),
    (lambda: nn.BatchNorm3d(2)(tg.zeros(2, 2, 3, 3)), ShapeError, "expected input"),
    (lambda: nn.InstanceNorm3d(2)(tg.zeros(2, 3, 3)), ShapeError, "expected input"),
    (lambda: F.dropout3d(tg.zeros(())), ShapeError, "input must be"),
    (lambda: nn.ReflectionPad3d((1, 1)), ConfigError, "front, back"),
    (lambda: nn.ReflectionPad3d(3)(tg.zeros(1, 1, 3, 3, 3)), ShapeError, "reflect"),
])
def test_refusals_name_the_problem(call, error, words):
    with pytest.raises(error, match=words):
        call()
