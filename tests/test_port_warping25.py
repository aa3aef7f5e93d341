"""Session 25: warping / correspondence GANs ported tiny and run beside torch 2.13 in float64:
cp-vton (sergeywong/cp-vton: GMM with FeatureCorrelation via bmm, TPS grid generation through the
inverse of its L matrix, grid_sample with border padding; TOM with its composition mask and an L1 +
VGG-like loss), CoCosNet (microsoft/CoCosNet: correspondence by a softmax over normalised features
with a temperature, the exemplar warped by it, SPADE / spectral-norm pieces) and a spatial
transformer GAN (ST-GAN's composed homography warps and compositing, a classic STN with every
grid_sample mode / padding / align_corners).  Losses, grads and parameters agreed to 1e-10 over 3
steps.  These tests keep what the ports leaned on, as invariants or closed forms (no torch here),
and the affine_grid / grid_sample refusals and warning fixed beside them."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import DTypeNotImplementedError, DTypeValueError


def _tps_grid(theta, h, w, grid_size=3):
    """cp-vton's TpsGridGen, condensed: control points P on a regular grid, offsets theta (B, 2N);
    the warped grid is the thin-plate spline through P + theta evaluated at the output pixels."""
    ax = np.linspace(-1, 1, grid_size)
    py, px = np.meshgrid(ax, ax)
    P_X = tg.tensor(px.reshape(-1, 1))
    P_Y = tg.tensor(py.reshape(-1, 1))
    n = grid_size * grid_size
    d2 = (P_X - P_X.t()) ** 2 + (P_Y - P_Y.t()) ** 2
    d2[d2 == 0] = 1                                   # in place on a mask, as cp-vton
    K = d2 * tg.log(d2)
    P = tg.cat((tg.ones(n, 1), P_X, P_Y), 1)
    L = tg.cat((tg.cat((K, P), 1), tg.cat((P.t(), tg.zeros(3, 3)), 1)), 0)
    Li = tg.inverse(L).unsqueeze(0)
    b = theta.shape[0]
    Q_X = theta[:, :n].unsqueeze(2) + P_X.expand(b, n, 1)
    Q_Y = theta[:, n:].unsqueeze(2) + P_Y.expand(b, n, 1)
    W_X = tg.bmm(Li[:, :n, :n].expand(b, n, n), Q_X)
    W_Y = tg.bmm(Li[:, :n, :n].expand(b, n, n), Q_Y)
    A_X = tg.bmm(Li[:, n:, :n].expand(b, 3, n), Q_X)
    A_Y = tg.bmm(Li[:, n:, :n].expand(b, 3, n), Q_Y)
    gx, gy = np.meshgrid(np.linspace(-1, 1, w), np.linspace(-1, 1, h))
    X = tg.tensor(gx).reshape(1, h * w, 1)
    Y = tg.tensor(gy).reshape(1, h * w, 1)
    dist = (X - P_X.t().unsqueeze(0)) ** 2 + (Y - P_Y.t().unsqueeze(0)) ** 2     # (1, hw, n)
    dist[dist == 0] = 1
    U = dist * tg.log(dist)
    xs = A_X[:, 0:1, :] + A_X[:, 1:2, :] * X + A_X[:, 2:3, :] * Y + U @ W_X
    ys = A_Y[:, 0:1, :] + A_Y[:, 1:2, :] * X + A_Y[:, 2:3, :] * Y + U @ W_Y
    return tg.cat((xs, ys), 2).reshape(b, h, w, 2), L, Li[0]


def test_tps_grid_identity_interpolation_and_gradient():
    h, w = 9, 7
    grid, L, Li = _tps_grid(tg.zeros(2, 18, dtype=tg.float64), h, w)
    np.testing.assert_allclose((Li @ L).numpy(), np.eye(12), atol=1e-12)
    gx, gy = np.meshgrid(np.linspace(-1, 1, w), np.linspace(-1, 1, h))
    np.testing.assert_allclose(grid.numpy()[1], np.stack([gx, gy], -1), atol=1e-12)   # zero offsets: identity
    # the identity grid reads an image back exactly with align_corners=True (any padding)
    img = tg.tensor(np.random.RandomState(0).randn(2, 3, h, w))
    for pad in ("zeros", "border", "reflection"):
        out = F.grid_sample(img, grid, padding_mode=pad, align_corners=True)
        np.testing.assert_allclose(out.numpy(), img.numpy(), atol=1e-12)
    # the spline passes through the moved control points: output pixels on a control point land
    # on it plus its offset (the 3x3 control grid sits on pixels of a 9 x 7 grid)
    rng = np.random.RandomState(1)
    theta = tg.tensor(rng.randn(1, 18) * 0.1, requires_grad=True)
    grid, _, _ = _tps_grid(theta, h, w)
    th = theta.detach().numpy()[0]
    for k, (i, j) in enumerate([(r, c) for c in (0, 3, 6) for r in (0, 4, 8)]):
        np.testing.assert_allclose(grid.detach().numpy()[0, i, j], [gx[i, j] + th[k], gy[i, j] + th[9 + k]],
                                   atol=1e-12)
    # and the grid is linear in theta: its gradient does not depend on theta
    wgt = tg.tensor(rng.randn(1, h, w, 2))
    (grid * wgt).sum().backward()
    g1 = theta.grad.numpy().copy()
    theta2 = tg.tensor(rng.randn(1, 18), requires_grad=True)
    (_tps_grid(theta2, h, w)[0] * wgt).sum().backward()
    np.testing.assert_allclose(theta2.grad.numpy(), g1, atol=1e-11)


def test_feature_correlation_bmm_layout():
    """cp-vton's FeatureCorrelation: B's positions (h, w) row-major against A's transposed (w, h)
    order, through transpose / contiguous / view / bmm, is an einsum."""
    rng = np.random.RandomState(2)
    a, bb = rng.randn(2, 4, 3, 5), rng.randn(2, 4, 3, 5)
    A, B = tg.tensor(a), tg.tensor(bb)
    b, c, h, w = A.size()
    fa = A.transpose(2, 3).contiguous().view(b, c, h * w)
    fb = B.view(b, c, h * w).transpose(1, 2)
    corr = tg.bmm(fb, fa).view(b, h, w, h * w).transpose(2, 3).transpose(1, 2)
    want = np.einsum("bcij,bcyx->bxyij", bb, a).reshape(b, w * h, h, w)     # channel x * h + y: A at (y, x)
    np.testing.assert_allclose(corr.numpy(), want, atol=1e-12)


def test_correspondence_softmax_warp_identity():
    """CoCosNet's warp: a softmax over cosine similarities / temperature, times the exemplar's
    pooled colours.  With one feature map matched against itself (distinct unit vectors per
    position) and a low temperature, the warp gives back the exemplar; the rows sum to 1."""
    rng = np.random.RandomState(3)
    feat = tg.tensor(rng.randn(1, 16, 4, 4))
    theta = feat.view(1, 16, -1)
    theta = theta - theta.mean(dim=1, keepdim=True)
    theta = theta / (tg.norm(theta, 2, 1, keepdim=True) + np.finfo(float).eps)
    f = tg.matmul(theta.permute(0, 2, 1), theta)
    attn = F.softmax(f.squeeze() / 0.001, dim=-1)
    np.testing.assert_allclose(attn.sum(-1).numpy(), np.ones(16), atol=1e-12)
    ref = tg.tensor(rng.rand(1, 3, 16, 16), requires_grad=True)
    pooled = F.avg_pool2d(ref, 4).view(1, 3, -1).permute(0, 2, 1)
    y = tg.matmul(attn, pooled).permute(0, 2, 1).contiguous().view(1, 3, 4, 4)
    np.testing.assert_allclose(y.detach().numpy(), F.avg_pool2d(ref, 4).detach().numpy(), atol=1e-9)
    warped = F.interpolate(y, scale_factor=4, mode="nearest")
    warped.sum().backward()                                  # each pixel feeds its pooled cell once
    np.testing.assert_allclose(ref.grad.numpy(), np.ones((1, 3, 16, 16)), atol=1e-8)


def _vec2mtrx(p):
    b = p.shape[0]
    one = tg.ones(b, dtype=p.dtype)
    p1, p2, p3, p4, p5, p6, p7, p8 = tg.unbind(p, dim=1)
    return tg.stack([tg.stack([one + p1, p2, p3], -1), tg.stack([p4, one + p5, p6], -1),
                     tg.stack([p7, p8, one], -1)], 1)


def test_stgan_homography_compose_inverse_and_identity_warp():
    rng = np.random.RandomState(4)
    p = tg.tensor(rng.randn(2, 8) * 0.1)
    m = _vec2mtrx(p)
    mi = tg.inverse(m)
    comp = tg.matmul(mi / mi[:, 2:3, 2:3], m)
    comp = comp / comp[:, 2:3, 2:3]
    np.testing.assert_allclose(comp.numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-12)
    # p = 0: the homography warp of an RGBA foreground is the identity; the composite is
    # colour * alpha + background * (1 - alpha)
    h = w = 6
    X, Y = np.meshgrid(np.linspace(-1, 1, w), np.linspace(-1, 1, h))
    xy = tg.tensor(np.stack([X.ravel(), Y.ravel(), np.ones(h * w)])).unsqueeze(0).expand(2, 3, h * w)
    xw, yw, zw = _vec2mtrx(tg.zeros(2, 8, dtype=tg.float64)).bmm(xy).unbind(1)
    grid = tg.stack([xw / (zw + 1e-8), yw / (zw + 1e-8)], -1).view(2, h, w, 2)
    fg = tg.tensor(rng.rand(2, 4, h, w))
    bg = tg.tensor(rng.rand(2, 3, h, w))
    fgw = F.grid_sample(fg, grid, align_corners=True)
    np.testing.assert_allclose(fgw.numpy(), fg.numpy(), atol=1e-7)
    comp = fgw[:, :3] * fgw[:, 3:] + bg * (1 - fgw[:, 3:])
    want = fg.numpy()[:, :3] * fg.numpy()[:, 3:] + bg.numpy() * (1 - fg.numpy()[:, 3:])
    np.testing.assert_allclose(comp.numpy(), want, atol=1e-7)


@pytest.mark.parametrize("align_corners", [True, False])
def test_affine_grid_identity_roundtrip(align_corners):
    img = tg.tensor(np.random.RandomState(5).randn(2, 3, 5, 7))
    theta = tg.tensor(np.broadcast_to(np.eye(2, 3), (2, 2, 3)).copy(), requires_grad=True)
    grid = F.affine_grid(theta, img.size(), align_corners=align_corners)
    out = F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=align_corners)
    np.testing.assert_allclose(out.detach().numpy(), img.numpy(), atol=1e-12)
    # shifting by one pixel in x (2/(W-1) or 2/W in normalised units) reads the next column
    shift = np.eye(2, 3)
    shift[0, 2] = 2 / 6 if align_corners else 2 / 7
    grid = F.affine_grid(tg.tensor(shift[None].repeat(2, 0)), img.size(), align_corners=align_corners)
    out = F.grid_sample(img, grid, padding_mode="zeros", align_corners=align_corners)
    np.testing.assert_allclose(out.numpy()[..., :-1], img.numpy()[..., 1:], atol=1e-12)
    np.testing.assert_allclose(out.numpy()[..., -1], 0, atol=1e-12)


def test_affine_grid_refuses_non_float_theta():
    for dtype in (tg.int64, tg.bool):
        with pytest.raises(ValueError, match="floating point") as info:
            F.affine_grid(tg.zeros(1, 2, 3, dtype=dtype), (1, 1, 2, 2), align_corners=False)
        assert isinstance(info.value, DTypeValueError)


def test_affine_grid_unit_size_warns_with_align_corners():
    theta = tg.tensor(np.eye(2, 3)[None])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        grid = F.affine_grid(theta, (1, 1, 1, 3), align_corners=True)
        F.affine_grid(theta, (1, 1, 1, 3), align_corners=False)
        F.affine_grid(theta, (1, 1, 2, 3), align_corners=True)
    msgs = [str(r.message) for r in rec]
    assert len(msgs) == 1 and "unit-size grids" in msgs[0], msgs
    np.testing.assert_allclose(grid.numpy()[0, 0], [[-1, 0], [0, 0], [1, 0]])     # y's single point: 0
    with pytest.raises(ValueError, match="positive output size"):        # an empty dim is refused still
        F.affine_grid(theta, (1, 1, 1, 0), align_corners=True)


def test_grid_sample_refusals_match_torch_classes():
    grid = tg.zeros(1, 1, 1, 2)
    with pytest.raises(NotImplementedError, match="int64") as info:
        F.grid_sample(tg.zeros(1, 1, 2, 2, dtype=tg.int64), grid.long(), align_corners=False)
    assert isinstance(info.value, DTypeNotImplementedError)
    with pytest.raises(NotImplementedError, match="int32"):
        F.grid_sample(tg.zeros(1, 1, 2, 2, dtype=tg.int32), grid, mode="nearest", align_corners=False)
    with pytest.raises(RuntimeError, match="bicubic"):
        F.grid_sample(tg.zeros(1, 1, 2, 2, 2), tg.zeros(1, 1, 1, 1, 3), mode="bicubic", align_corners=False)
