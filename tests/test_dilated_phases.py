"""A stride-1 dilated conv2d / conv1d runs the plain kernel on the input's phases (space-to-batch:
no zero taps). Checked against a direct NumPy loop of the definition, against the zero-filled
kernel it replaced, and by finite differences (first and second order) in float64."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.functional import Conv2d, GroupedConv, _dilate_kernel


def direct(x, w, b, padding, dilation, groups):
    n, c, h, wd = x.shape
    co, cg, kh, kw = w.shape
    (ph, pw), (dh, dw) = padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = h + 2 * ph - dh * (kh - 1), wd + 2 * pw - dw * (kw - 1)
    y = np.zeros((n, co, oh, ow))
    per = co // groups
    for o in range(co):
        g = o // per
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * cg:(g + 1) * cg, i * dh:i * dh + oh, j * dw:j * dw + ow]
                y[:, o] += np.einsum("nchw,c->nhw", patch, w[o, :, i, j])
    return y + b.reshape(1, -1, 1, 1)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4),
       st.integers(1, 4), st.integers(0, 3), st.integers(0, 3), st.integers(0, 6), st.integers(0, 6),
       st.sampled_from([1, 2]), st.integers(0, 2 ** 31 - 1))
def test_matches_the_definition(n, kh, kw, dh, dw, groups_cout, ph, pw, eh, ew, groups, seed):
    if (dh, dw) == (1, 1):
        dw = 2
    rng = np.random.default_rng(seed)
    c, co = 2 * groups, groups * groups_cout
    h, wd = dh * (kh - 1) + 1 + eh, dw * (kw - 1) + 1 + ew
    x, w, b = rng.standard_normal((n, c, h, wd)), rng.standard_normal((co, c // groups, kh, kw)), rng.standard_normal(co)
    y = F.conv2d(tg.tensor(x), tg.tensor(w), tg.tensor(b), 1, (ph, pw), (dh, dw), groups)
    np.testing.assert_allclose(y.numpy(), direct(x, w, b, (ph, pw), (dh, dw), groups), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("groups", [1, 2])
def test_gradients_equal_the_zero_filled_kernels(groups):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 11, 13))
    w = rng.standard_normal((6, 4 // groups, 3, 2))
    gy = rng.standard_normal((2, 6, 11 + 2 - 6, 13 + 6 - 4))
    grads = []
    for path in ("phases", "zeros"):
        xt, wt = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
        if path == "phases":
            y = F.conv2d(xt, wt, None, 1, (1, 3), (3, 4), groups)
        else:
            big = _dilate_kernel(wt, (3, 4))
            geometry = ((1, 1), (1, 3))
            y = Conv2d.apply(xt, big, None, *geometry) if groups == 1 else \
                GroupedConv.apply(xt, big, None, Conv2d, groups, geometry)
        y.backward(tg.tensor(gy))
        grads.append((y.numpy(), xt.grad.numpy(), wt.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_first_and_second_order_finite_differences():
    x = tg.randn(1, 2, 7, 8, dtype="float64", requires_grad=True, seed=0)
    w = tg.randn(3, 2, 2, 3, dtype="float64", requires_grad=True, seed=1)
    b = tg.randn(3, dtype="float64", requires_grad=True, seed=2)
    f = lambda x, w, b: F.conv2d(x, w, b, 1, (2, 1), (3, 2))
    assert tg.autograd.gradcheck(f, (x, w, b))
    assert tg.autograd.gradgradcheck(f, (x, w, b))


def test_conv1d_dilated_as_hifigan_uses_it():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 4, 40)), rng.standard_normal((3, 4, 11)), rng.standard_normal(3)
    y = F.conv1d(tg.tensor(x), tg.tensor(w), tg.tensor(b), padding=25, dilation=5)
    ref = direct(x[:, :, None], w[:, :, None], b, (0, 25), (1, 5), 1)[:, :, 0]
    assert y.shape == (2, 3, 40)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)
