"""torch's convolution options beyond the DCGAN's geometry -- dilation, groups, padding='same' /
'valid', padding_mode, Conv1d / ConvTranspose1d -- composed from the plain kernels, checked against
loop definitions written from torch's documentation (float64), gradcheck and gradgradcheck."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorgan as tg
import tensorgan.functional as F
from tensorgan import nn


def conv_by_definition(x, w, b, stride, pad_hw, dilation, groups):
    """y[n, o, i, j] = b[o] + sum over the channels c of o's group, p, q of
    xpad[n, c, i s0 + p d0, j s1 + q d1] w[o, c - first channel of the group, p, q];
    ``pad_hw`` = ((top, bottom), (left, right))."""
    x = np.pad(x, ((0, 0), (0, 0)) + tuple(pad_hw))
    n, c, h, wd = x.shape
    co, cg, kh, kw = w.shape
    ho = (h - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wd - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, co, ho, wo))
    per_group = co // groups
    for o in range(co):
        first = (o // per_group) * cg
        for i in range(ho):
            for j in range(wo):
                for p in range(kh):
                    for q in range(kw):
                        patch = x[:, first:first + cg, i * stride[0] + p * dilation[0], j * stride[1] + q * dilation[1]]
                        y[:, o, i, j] += patch @ w[o, :, p, q]
        y[:, o] += 0 if b is None else b[o]
    return y


def conv_transpose_by_definition(x, w, b, stride, padding, output_padding, dilation, groups):
    """Scatter every input pixel times the kernel into the full output, at stride and dilation
    spacing, then keep ``[padding, padding + size)`` (zeros where that runs past the full output)."""
    n, c, h, wd = x.shape
    _, cog, kh, kw = w.shape
    cg = c // groups
    full = np.zeros((n, cog * groups, (h - 1) * stride[0] + dilation[0] * (kh - 1) + 1 + output_padding[0],
                     (wd - 1) * stride[1] + dilation[1] * (kw - 1) + 1 + output_padding[1]))
    for ci in range(c):
        g = ci // cg
        for i in range(h):
            for j in range(wd):
                for p in range(kh):
                    for q in range(kw):
                        full[:, g * cog:(g + 1) * cog, i * stride[0] + p * dilation[0],
                             j * stride[1] + q * dilation[1]] += x[:, ci, i, j][:, None] * w[ci, :, p, q]
    size = [(s - 1) * st_ - 2 * pd + d * (k - 1) + 1 + op for s, st_, pd, d, k, op in
            zip((h, wd), stride, padding, dilation, (kh, kw), output_padding)]
    y = full[:, :, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]
    return y + (0 if b is None else b[None, :, None, None])


def tensors(*arrays):
    return [None if a is None else tg.tensor(a, dtype=tg.float64, requires_grad=True) for a in arrays]


@st.composite
def conv_geometry(draw, transposed=False):
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    if not transposed:     # the dilated kernel must fit in the padded input
        size = tuple(max(s, d * (kk - 1) + 1 - 2 * p) for s, d, kk, p in zip(size, dilation, k, padding))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    bias = draw(st.booleans())
    return groups, c_in, c_out, k, dilation, stride, padding, output_padding, size, bias


@settings(max_examples=40, deadline=None)
@given(geometry=conv_geometry(), seed=st.integers(0, 2**31 - 1))
def test_conv2d_dilation_and_groups_match_the_definition(geometry, seed):
    groups, c_in, c_out, k, dilation, stride, padding, _, size, bias = geometry
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((2, c_in) + size), rng.standard_normal((c_out, c_in // groups) + k)
    b = rng.standard_normal(c_out) if bias else None
    y = F.conv2d(*tensors(x, w, b), stride, padding, dilation, groups)
    expected = conv_by_definition(x, w, b, stride, [(p, p) for p in padding], dilation, groups)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(geometry=conv_geometry(transposed=True), seed=st.integers(0, 2**31 - 1))
def test_conv_transpose2d_dilation_groups_and_wide_output_padding_match_the_definition(geometry, seed):
    groups, c_in, c_out, k, dilation, stride, padding, output_padding, size, bias = geometry
    expected_size = [(s - 1) * st_ - 2 * p + d * (kk - 1) + 1 + op for s, st_, p, d, kk, op in
                     zip(size, stride, padding, dilation, k, output_padding)]
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((2, c_in) + size), rng.standard_normal((c_in, c_out // groups) + k)
    b = rng.standard_normal(c_out) if bias else None
    if min(expected_size) < 0:     # exactly 0 is an empty output, as torch's
        with pytest.raises(tg.ShapeError, match="output size"):
            F.conv_transpose2d(*tensors(x, w, b), stride, padding, output_padding, groups, dilation)
        return
    y = F.conv_transpose2d(*tensors(x, w, b), stride, padding, output_padding, groups, dilation)
    expected = conv_transpose_by_definition(x, w, b, stride, padding, output_padding, dilation, groups)
    assert y.shape == expected.shape == (2, c_out, *expected_size)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k, dilation", [((3, 4), (1, 1)), ((2, 3), (3, 2)), ((1, 4), (1, 1))])
def test_same_padding_keeps_the_size_and_puts_the_odd_row_after(k, dilation):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 6, 7)), rng.standard_normal((3, 2) + k)
    y = F.conv2d(*tensors(x, w), padding="same", dilation=dilation)
    totals = [d * (kk - 1) for kk, d in zip(k, dilation)]
    expected = conv_by_definition(x, w, None, (1, 1), [(t // 2, t - t // 2) for t in totals], dilation, 1)
    assert y.shape == (1, 3, 6, 7)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    valid = F.conv2d(*tensors(x, w), padding="valid", dilation=dilation)
    np.testing.assert_allclose(valid.numpy(), conv_by_definition(x, w, None, (1, 1), [(0, 0)] * 2, dilation, 1),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("transposed", [False, True])
def test_conv_options_gradcheck_and_gradgradcheck(transposed):
    rng = np.random.default_rng(1)
    if transposed:     # output_padding 2 >= stride 2: the wide-output-padding path
        x, w, b = tensors(rng.standard_normal((2, 4, 3, 3)), rng.standard_normal((4, 1, 2, 3)),
                          rng.standard_normal(2))
        def fn(x, w, b):
            return F.conv_transpose2d(x, w, b, 2, 1, (2, 1), 2, (3, 2))
    else:
        x, w, b = tensors(rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((6, 2, 2, 3)),
                          rng.standard_normal(6))
        def fn(x, w, b):
            return F.conv2d(x, w, b, (2, 1), 1, (2, 1), 2)
    assert tg.gradcheck(fn, [x, w, b])
    assert tg.gradgradcheck(lambda x, w, b: fn(x, w, b) ** 2, [x, w, b])


@settings(max_examples=25, deadline=None)
@given(geometry=conv_geometry(), seed=st.integers(0, 2**31 - 1), mode=st.sampled_from(nn.layers.PADDING_MODES))
def test_conv1d_and_conv_transpose1d_are_the_2d_definitions_on_one_row(geometry, seed, mode):
    groups, c_in, c_out, (_, k), (_, d), (s, _), (_, p), (_, op), (_, length), bias = geometry
    length = max(length, d * (k - 1) + 1, p + 1)      # reflect padding needs p < length
    rng = np.random.default_rng(seed)
    conv = nn.Conv1d(c_in, c_out, k, s, p, d, groups, bias, padding_mode=mode, dtype="float64",
                     generator=tg.Generator(seed))
    x = rng.standard_normal((2, c_in, length))
    xp = F.pad(tg.tensor(x, dtype=tg.float64), (p, p), {"zeros": "constant"}.get(mode, mode)).numpy()
    expected = conv_by_definition(xp[:, :, None], conv.weight.numpy()[:, :, None], None if conv.bias is None
                                  else conv.bias.numpy(), (1, s), [(0, 0), (0, 0)], (1, d), groups)[:, :, 0]
    np.testing.assert_allclose(conv(tg.tensor(x, dtype=tg.float64)).numpy(), expected, rtol=1e-12, atol=1e-12)
    up = nn.ConvTranspose1d(c_in, c_out, k, s, p, op if op < max(s, d) else 0, groups, bias, d,
                            dtype="float64", generator=tg.Generator(seed))
    size = (length - 1) * s - 2 * p + d * (k - 1) + 1 + up.output_padding[0]
    if size > 0:
        expected = conv_transpose_by_definition(
            x[:, :, None], up.weight.numpy()[:, :, None], None if up.bias is None else up.bias.numpy(),
            (1, s), (0, p), (0, up.output_padding[0]), (1, d), groups)[:, :, 0]
        np.testing.assert_allclose(up(tg.tensor(x, dtype=tg.float64)).numpy(), expected, rtol=1e-12, atol=1e-12)


def test_padding_modes_pad_the_input_then_convolve():
    rng = np.random.default_rng(2)
    x = tg.tensor(rng.standard_normal((1, 2, 5, 6)), dtype=tg.float64)
    for mode in ("reflect", "replicate", "circular"):
        for padding in ((1, 2), "same"):
            conv = nn.Conv2d(2, 3, (3, 4), padding=padding, padding_mode=mode, dtype="float64")
            amounts = (1, 2, 1, 1) if padding == "same" else (2, 2, 1, 1)   # (left, right, top, bottom)
            expected = F.conv2d(F.pad(x, amounts, mode), conv.weight, conv.bias)
            np.testing.assert_array_equal(conv(x).numpy(), expected.numpy())
            assert conv(x).shape[2:] == ((5, 6) if padding == "same" else (5, 7))


def test_conv_layers_take_torchs_positional_order_and_repr():
    # reprs as torch 2.x prints them (only what differs from the defaults)
    assert repr(nn.Conv2d(4, 6, 3)) == "Conv2d(4, 6, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.Conv2d(4, 6, 3, 2, 1, 2, 2, False, "reflect")) == (
        "Conv2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(2, 2), groups=2, "
        "bias=False, padding_mode=reflect)")
    assert repr(nn.Conv2d(4, 6, 3, padding="same")) == (
        "Conv2d(4, 6, kernel_size=(3, 3), stride=(1, 1), padding=same)")
    assert repr(nn.ConvTranspose2d(4, 6, 4, 2, 1, 1, 2, False, 2)) == (
        "ConvTranspose2d(4, 6, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
        "output_padding=(1, 1), groups=2, bias=False)")
    assert repr(nn.Conv1d(3, 8, 4, 2, 1)) == "Conv1d(3, 8, kernel_size=(4,), stride=(2,), padding=(1,))"
    assert nn.ConvTranspose1d(4, 6, 5, groups=2).weight.shape == (4, 3, 5)
    assert nn.Conv2d(4, 6, 3, groups=2).weight.shape == (6, 2, 3, 3)


@pytest.mark.parametrize("make, needle", [
    (lambda: nn.Conv2d(4, 6, 3, groups=4), "out_channels (6) must be divisible by groups (4)"),
    (lambda: nn.Conv2d(3, 6, 3, groups=2), "in_channels (3) must be divisible by groups (2)"),
    (lambda: nn.Conv2d(3, 6, 3, stride=2, padding="same"), "padding='same' needs stride 1"),
    (lambda: nn.Conv2d(3, 6, 3, padding="full"), "padding must be 'same', 'valid' or ints"),
    (lambda: nn.Conv2d(3, 6, 3, padding_mode="mirror"), "padding_mode must be"),
    (lambda: nn.ConvTranspose2d(3, 6, 3, padding_mode="reflect"), "padding_mode must be 'zeros'"),
    (lambda: nn.Conv1d(3, 6, (3, 3)), "kernel_size must be an int or a 1-tuple"),
    (lambda: nn.Conv2d(3, 6, 3, dilation=0), "dilation must be >= 1"),
    (lambda: F.conv2d(tg.ones(1, 4, 5, 5), tg.ones(3, 2, 3, 3), groups=2), "divisible by groups"),
    (lambda: F.conv2d(tg.ones(1, 4, 5, 5), tg.ones(4, 4, 3, 3), groups=2), "input has 4 channels"),
    (lambda: F.conv2d(tg.ones(1, 2, 5, 5), tg.ones(4, 2, 3, 3), dilation=3), "(dilation (3, 3)) is larger"),
    (lambda: F.conv_transpose2d(tg.ones(1, 2, 3, 3), tg.ones(2, 2, 3, 3), stride=2, output_padding=2,
                                dilation=2), "output_padding"),
    (lambda: F.conv1d(tg.ones(1, 2, 5, 5), tg.ones(4, 2, 3)), "(N, C, L)"),
])
def test_conv_option_errors_name_the_problem(make, needle):
    with pytest.raises((tg.ConfigError, tg.ShapeError), match=__import__("re").escape(needle)):
        make()


@pytest.mark.parametrize("layer, shape, options", [
    (nn.Conv2d, (3, 6, 5), dict(padding=1, padding_mode="reflect")),
    (nn.ConvTranspose2d, (3, 4, 5), dict(stride=2, output_padding=1)),
    (nn.Conv1d, (3, 7), dict(padding="same", dilation=2)),
    (nn.ConvTranspose1d, (3, 5), dict(stride=3, padding=1)),
])
def test_unbatched_input_is_a_batch_of_one(layer, shape, options):
    """torch's unbatched layout ``(C, *spatial)``: the same numbers as the batch of one, and gradients."""
    m = layer(3, 4, 3, dtype=tg.float64, **options)
    x = np.random.default_rng(1).standard_normal(shape)
    (single,), (batched,) = tensors(x), tensors(x[None])
    out = m(single)
    expected = m(batched)
    assert out.shape == expected.shape[1:]
    np.testing.assert_array_equal(out.numpy(), expected.numpy()[0])
    functional = {nn.Conv2d: F.conv2d, nn.Conv1d: F.conv1d, nn.ConvTranspose2d: F.conv_transpose2d,
                  nn.ConvTranspose1d: F.conv_transpose1d}[layer]
    if "padding_mode" not in options:       # the functional forms take the unbatched layout too
        np.testing.assert_array_equal(functional(single, m.weight, m.bias, **options).numpy(), out.numpy())
    assert tg.gradcheck(lambda v: m(v), [single])
    with pytest.raises(tg.ShapeError, match=r"expected 3 input channels.*\(2,"):
        m(tg.zeros(2, *shape[1:], dtype=tg.float64))
    with pytest.raises(tg.ShapeError, match=r"or \(C,"):
        m(tg.zeros(*shape[1:], dtype=tg.float64))


def test_conv_transpose_output_size_picks_the_output_padding():
    """torch's ``forward(x, output_size)``: a stride-3 layer can give 3 sizes per axis."""
    m = nn.ConvTranspose2d(3, 4, 3, stride=3, padding=1, dtype=tg.float64)
    (x,) = tensors(np.random.default_rng(2).standard_normal((2, 3, 5, 5)))
    for size, output_padding in (((13, 14), (0, 1)), ((2, 4, 15, 13), (2, 0))):
        expected = F.conv_transpose2d(x, m.weight, m.bias, 3, 1, output_padding)
        np.testing.assert_array_equal(m(x, output_size=size).numpy(), expected.numpy())
    one = nn.ConvTranspose1d(3, 4, 3, stride=2, dtype=tg.float64)
    assert one(tg.zeros(3, 6, dtype=tg.float64), output_size=(4, 14)).shape == (4, 14)   # (C, L) given
    with pytest.raises(tg.ShapeError, match=r"valid sizes range from \[13, 13\] to \[15, 15\]"):
        m(x, output_size=(12, 13))
    with pytest.raises(tg.ShapeError, match=r"output_size must be 2 ints \(or 4"):
        m(x, output_size=(4, 15, 13))
