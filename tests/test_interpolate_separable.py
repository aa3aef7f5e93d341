"""interpolate's linear / bilinear / bicubic / trilinear modes as one separable node, checked
against a per-output-pixel NumPy reference written from the definition (torch's source
coordinate rule; 2 taps, or 4 clamped taps with A = -0.75), plus gradients, double backward,
non-finite inputs and torch's same-size rule."""
import itertools

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.autograd import gradcheck, gradgradcheck


def _src(i, n, o, scale, align_corners, cubic):
    if align_corners:
        return i * (n - 1) / (o - 1) if o > 1 else 0.0
    s = scale * (i + 0.5) - 0.5
    return s if cubic else max(s, 0.0)


def _cubic_w(d):
    a, d = -0.75, abs(d)
    if d <= 1:
        return ((a + 2) * d - (a + 3)) * d * d + 1
    if d < 2:
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return 0.0


def _taps(n, o, scale, align_corners, cubic):
    """For each output position: [(input index, weight), ...] from the definition."""
    out = []
    for i in range(o):
        if not cubic and n == o:             # torch copies a same-size linear dim
            out.append([(i, 1.0)])
            continue
        s = _src(i, n, o, scale, align_corners, cubic)
        i0 = int(np.floor(s))
        t = s - i0
        if cubic:
            out.append([(min(max(i0 + k, 0), n - 1), _cubic_w(t - k)) for k in (-1, 0, 1, 2)])
        else:
            i0 = min(i0, n - 1)
            t = min(max(t, 0.0), 1.0)
            out.append([(i0, 1 - t), (min(i0 + 1, n - 1), t)])
    return out


def _reference(x, out, scales, align_corners, cubic):
    spatial = x.shape[2:]
    taps = [_taps(n, o, s, align_corners, cubic) for n, o, s in zip(spatial, out, scales)]
    y = np.zeros(x.shape[:2] + tuple(out))
    for pos in itertools.product(*(range(o) for o in out)):
        total = 0.0
        for combo in itertools.product(*(taps[d][p] for d, p in enumerate(pos))):
            w = np.prod([c[1] for c in combo])
            total = total + w * x[(Ellipsis,) + tuple(c[0] for c in combo)]
        y[(Ellipsis,) + pos] = total
    return y


CASES = [
    ("linear", (2, 3, 5), dict(size=9), None),
    ("linear", (2, 3, 7), dict(scale_factor=0.6), None),
    ("linear", (1, 2, 4), dict(scale_factor=2.5, align_corners=True), None),
    ("bilinear", (2, 2, 4, 5), dict(size=(7, 3)), None),
    ("bilinear", (2, 2, 5, 2), dict(scale_factor=(0.5, 1.3)), None),          # same-size W dim
    ("bilinear", (1, 2, 3, 4), dict(scale_factor=(2.0, 1.5), align_corners=True), None),
    ("bilinear", (1, 1, 6, 6), dict(scale_factor=1.7, recompute_scale_factor=True), None),
    ("bicubic", (2, 2, 4, 5), dict(size=(7, 9)), None),
    ("bicubic", (1, 2, 5, 3), dict(scale_factor=(0.5, 1.0)), None),
    ("bicubic", (1, 1, 3, 4), dict(size=(8, 2), align_corners=True), None),
    ("trilinear", (1, 2, 3, 4, 2), dict(scale_factor=(1.5, 0.7, 2.0)), None),
    ("trilinear", (1, 1, 2, 3, 3), dict(size=(3, 3, 5), align_corners=True), None),
]


def _scales(shape, kw):
    spatial = shape[2:]
    if "size" in kw:
        size = kw["size"] if isinstance(kw["size"], tuple) else (kw["size"],) * len(spatial)
        return list(size), [n / o for n, o in zip(spatial, size)]
    f = kw["scale_factor"]
    f = f if isinstance(f, tuple) else (f,) * len(spatial)
    out = [int(np.floor(n * v)) for n, v in zip(spatial, f)]
    if kw.get("recompute_scale_factor"):
        return out, [n / o for n, o in zip(spatial, out)]
    return out, [1 / v for v in f]


@pytest.mark.parametrize("mode, shape, kw, _", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_per_pixel_reference(mode, shape, kw, _, dtype):
    x = np.random.default_rng(0).standard_normal(shape)
    out, scales = _scales(shape, kw)
    want = _reference(x, out, scales, bool(kw.get("align_corners")), mode == "bicubic")
    got = F.interpolate(tg.tensor(x.astype(dtype)), mode=mode, **kw)
    assert got.dtype == dtype and got.shape == want.shape
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=tol * np.abs(want).max())


def test_long_dims_band_blocks_match_reference():
    """Dims over 64 long go through the band blocks: same values as the definition."""
    x = np.random.default_rng(1).standard_normal((1, 1, 150))
    for kw in (dict(size=333), dict(size=70), dict(scale_factor=2.0, align_corners=True)):
        for mode in ("linear",):
            out, scales = _scales(x.shape, kw)
            want = _reference(x, out, scales, bool(kw.get("align_corners")), False)
            got = F.interpolate(tg.tensor(x), mode=mode, **kw).numpy()
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    x = np.random.default_rng(2).standard_normal((1, 1, 70, 3))
    want = _reference(x, [131, 5], [70 / 131, 3 / 5], False, True)
    np.testing.assert_allclose(F.interpolate(tg.tensor(x), size=(131, 5), mode="bicubic").numpy(),
                               want, rtol=0, atol=1e-12)
    # and the gradient is the transpose: <interp(x), g> == <x, interp^T(g)>
    xt = tg.tensor(x, requires_grad=True)
    y = F.interpolate(xt, size=(131, 5), mode="bicubic")
    g = np.random.default_rng(3).standard_normal(y.shape)
    y.backward(tg.tensor(g))
    np.testing.assert_allclose((y.detach().numpy() * g).sum(), (x * xt.grad.numpy()).sum(), rtol=1e-12)


def test_one_node_and_torch_names():
    x = tg.randn(1, 2, 4, 4, requires_grad=True)
    for mode, name in (("bilinear", "UpsampleBilinear2DBackward0"), ("bicubic", "UpsampleBicubic2DBackward0")):
        y = F.interpolate(x, scale_factor=2, mode=mode)
        assert y.grad_fn.name() == name
        assert y.grad_fn.next_functions[0][0].variable is x        # one node, straight to the leaf
    y = F.interpolate(tg.randn(1, 2, 4, requires_grad=True), size=7, mode="linear")
    assert y.grad_fn.name() == "UpsampleLinear1DBackward0"
    y = F.interpolate(tg.randn(1, 2, 3, 4, 4, requires_grad=True), scale_factor=2, mode="trilinear")
    assert y.grad_fn.name() == "UpsampleTrilinear3DBackward0"
    y = F.interpolate(x, size=(3, 3), mode="bilinear", antialias=True)
    assert y.grad_fn.name() == "UpsampleBilinear2DAaBackward0"


@pytest.mark.parametrize("mode, shape, kw", [
    ("linear", (2, 2, 5), dict(scale_factor=1.7)),
    ("bilinear", (1, 2, 4, 5), dict(size=(7, 3))),
    ("bicubic", (1, 2, 4, 5), dict(size=(7, 9), align_corners=True)),
    ("trilinear", (1, 1, 3, 4, 2), dict(scale_factor=(1.5, 0.7, 2))),
    ("bicubic", (1, 2, 6, 7), dict(size=(4, 3), antialias=True)),
])
def test_gradcheck_and_double_backward(mode, shape, kw):
    x = tg.tensor(np.random.default_rng(4).standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, mode=mode, **kw), (x,))
    assert gradgradcheck(lambda t: F.interpolate(t, mode=mode, **kw) ** 2, (x,))
    # double backward against finite differences of the gradient
    g = tg.tensor(np.random.default_rng(5).standard_normal(F.interpolate(x, mode=mode, **kw).shape))

    def grad_of(a):
        t = tg.tensor(a, requires_grad=True)
        (gx,) = tg.autograd.grad((F.interpolate(t, mode=mode, **kw) ** 3 * g).sum(), t, create_graph=True)
        return gx
    gx = grad_of(x.detach().numpy())
    v = np.random.default_rng(6).standard_normal(shape)
    t = tg.tensor(x.detach().numpy(), requires_grad=True)
    (gx_t,) = tg.autograd.grad((F.interpolate(t, mode=mode, **kw) ** 3 * g).sum(), t, create_graph=True)
    (hv,) = tg.autograd.grad((gx_t * tg.tensor(v)).sum(), t)
    eps = 1e-6
    fd = ((grad_of(x.detach().numpy() + eps * v).detach().numpy()
           - grad_of(x.detach().numpy() - eps * v).detach().numpy()) / (2 * eps))
    np.testing.assert_allclose(hv.numpy(), fd, rtol=1e-5, atol=1e-7)   # (H v, H symmetric)
    assert gx.shape == x.shape


def test_non_finite_stays_local_as_torchs_taps():
    """A matrix product would spread 0 * inf = NaN over a whole row / column; torch's kernel
    only touches the outputs whose taps read the bad input (and in backward the inputs under
    the bad gradient's taps)."""
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 2] = np.inf
    y = F.interpolate(tg.tensor(x), scale_factor=2, mode="bilinear").numpy()
    taps = _taps(4, 8, 0.5, False, False)
    reads = [[any(j == 1 for j, _ in taps[p]) and any(k == 2 for k, _ in taps[q]) for q in range(8)]
             for p in range(8)]
    assert np.array_equal(~np.isfinite(y[0, 0]), np.array(reads))
    t = tg.zeros(1, 1, 4, 4, dtype=tg.float64, requires_grad=True)
    g = np.zeros((1, 1, 8, 8))
    g[0, 0, 0, 0] = np.nan
    F.interpolate(t, scale_factor=2, mode="bilinear").backward(tg.tensor(g))
    bad = ~np.isfinite(t.grad.numpy()[0, 0])
    assert bad[0, 0] and bad.sum() <= 4       # the taps of output (0, 0) only


def test_same_size_linear_dim_is_copied_whatever_the_scale():
    """torch's linear kernels leave a dim whose size does not change as it is, even where
    scale_factor gives a scale other than 1 (W: 2 * 1.3 -> 2)."""
    x = np.random.default_rng(7).standard_normal((1, 1, 5, 2))
    y = F.interpolate(tg.tensor(x), scale_factor=(0.5, 1.3), mode="bilinear").numpy()
    np.testing.assert_allclose(y[0, 0], 0.5 * (x[0, 0, [0, 2]] + x[0, 0, [1, 3]]), rtol=1e-15)
    z = F.interpolate(tg.tensor(x[..., 0]), scale_factor=1.3, mode="linear")    # (1, 1, 5) -> 6
    assert z.shape == (1, 1, 6)
    w = F.interpolate(tg.tensor(x), scale_factor=(1.0, 1.3), mode="bilinear").numpy()
    assert np.array_equal(w, x)
