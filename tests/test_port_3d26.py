"""Point-cloud and voxel GAN ports (seowok/TreeGAN, achlioptas r-GAN / l-GAN, 3D-GAN, MuseGAN):
what differed from torch 2.13, and the patterns those programs lean on, pinned without torch
(NumPy, finite differences, invariants)."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import ConfigError


def _points(seed, shape):
    return np.random.RandomState(seed).standard_normal(shape)


# --- cdist / pdist refuse what torch refuses, with torch's error types --------------------------
_DISTANCES = {
    "cdist": lambda x, p: tg.cdist(x, x, p=p),
    "pdist": lambda x, p: F.pdist(x[0], p=p),
}


@pytest.mark.parametrize("op", sorted(_DISTANCES))
@pytest.mark.parametrize("p", [-1, -0.5, float("nan")])
def test_distance_with_negative_or_nan_p_is_a_runtime_error(op, p):
    # torch: RuntimeError "cdist only supports non-negative p values" (NaN included); tensorgan
    # raised a bare ValueError (cdist accepted NaN and returned NaN distances)
    with pytest.raises(RuntimeError, match=rf"{op}: p must be >= 0") as info:
        _DISTANCES[op](tg.ones(2, 3, 3), p)
    assert isinstance(info.value, ConfigError)       # what tensorgan raised before, still caught


@pytest.mark.parametrize("op", sorted(_DISTANCES))
@pytest.mark.parametrize("p", ["2", None])
def test_distance_with_a_non_number_p_is_a_type_error(op, p):
    with pytest.raises(TypeError, match=rf"{op}: p must be a real number, got"):
        _DISTANCES[op](tg.ones(2, 3, 3), p)


@pytest.mark.parametrize("op", sorted(_DISTANCES))
@pytest.mark.parametrize("dtype", ["int64", "bool", "complex64"])
def test_distance_of_non_floating_tensors_is_refused_by_name(op, dtype):
    # torch: RuntimeError "cdist only supports floating-point dtypes"; tensorgan's came from
    # norm / subtraction further in (naming norm or `-`), and cdist of complex tensors ran
    x = tg.zeros(2, 3, 3, dtype=getattr(tg, dtype))
    with pytest.raises(RuntimeError, match=rf"{op}: .* must be a floating-point tensor"):
        _DISTANCES[op](x, 2.0)


@pytest.mark.parametrize("p", [0, 1, 2.0, np.float64(3.0), math.inf])
def test_distance_orders_still_accepted(p):
    x = _points(0, (5, 3))
    got = F.pdist(tg.tensor(x), p=p).numpy()
    i, j = np.triu_indices(5, 1)
    d = x[i] - x[j]
    want = (np.abs(d) > 0).sum(1) if p == 0 else np.linalg.norm(d, ord=p, axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(tg.cdist(tg.tensor(x), tg.tensor(x), p=p).numpy()[i, j], want, rtol=1e-12)


# --- Chamfer distance (l-GAN / r-GAN autoencoder) through cdist and min ------------------------
def _chamfer_cdist(a, b):
    d = tg.cdist(a, b) ** 2
    return d.min(dim=2)[0].mean() + d.min(dim=1).values.mean()


def _chamfer_broadcast(a, b):
    d = ((a.unsqueeze(2) - b.unsqueeze(1)) ** 2).sum(-1)
    return tg.amin(d, 2).mean() + tg.amin(d, 1).mean()


def test_chamfer_through_cdist_matches_numpy_and_the_broadcast_form_to_second_order():
    pa, pb = _points(1, (2, 7, 3)), _points(2, (2, 5, 3))
    d = ((pa[:, :, None] - pb[:, None]) ** 2).sum(-1)
    want = d.min(2).mean() + d.min(1).mean()
    results = []
    for chamfer in (_chamfer_cdist, _chamfer_broadcast):
        a = tg.tensor(pa, requires_grad=True)
        loss = chamfer(a, tg.tensor(pb))
        g, = tg.autograd.grad(loss, a, create_graph=True)
        gg, = tg.autograd.grad((g * g).sum(), a)       # a gradient penalty through the loss
        results.append((float(loss.detach()), g.detach().numpy(), gg.numpy()))
    assert results[0][0] == pytest.approx(want, rel=1e-13)
    for x, y in zip(results[0][1:], results[1][1:]):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)


def test_pointnet_max_pool_over_points_sends_a_tie_gradient_to_one_point():
    # PointNet's torch.max(z, 2, keepdim=True)[0] after a ReLU meets ties: the gradient goes to
    # the returned index only (amax would split it)
    z = tg.tensor([[[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 1.0, 2.0]]], requires_grad=True)
    values, index = tg.max(z, 2, keepdim=True)
    values.sum().backward()
    g = z.grad.numpy()[0]
    assert g.sum() == 2 and (g == 1).sum() == 2
    assert all(g[row, index.numpy()[0, row, 0]] == 1 for row in range(2))


# --- TreeGCN (TreeGAN): branching by a per-node matmul, ancestor term by repeat / view ----------
def test_treegcn_branching_matmul_and_ancestor_repeat_match_numpy():
    batch, node, fin, degree, fout = 2, 3, 4, 2, 5
    x, w_branch = _points(3, (batch, node, fin)), _points(4, (node, fin, degree * fin))
    root = _points(5, (batch, 1, fout))
    xt, wt = tg.tensor(x, requires_grad=True), tg.tensor(w_branch, requires_grad=True)
    branch = (xt.unsqueeze(2) @ wt).view(batch, node * degree, fin)       # TreeGCN.forward
    want = np.einsum("bnf,nfg->bng", x, w_branch).reshape(batch, node * degree, fin)
    np.testing.assert_allclose(branch.detach().numpy(), want, rtol=1e-13)
    up = tg.tensor(root).repeat(1, 1, node * degree).view(batch, -1, fout)
    np.testing.assert_array_equal(up.numpy(), np.repeat(root, node * degree, axis=1))
    weight = _points(7, (batch, node * degree, fin))
    (branch * tg.tensor(weight)).sum().backward()
    wr = weight.reshape(batch, node, degree * fin)
    np.testing.assert_allclose(xt.grad.numpy(), np.einsum("bng,nfg->bnf", wr, w_branch), rtol=1e-13)
    np.testing.assert_allclose(wt.grad.numpy(), np.einsum("bnf,bng->nfg", x, wr), rtol=1e-13)


# --- MuseGAN: shared / private 3-D transposed convs, std-based LayerNorm critic, WGAN-GP ---------
def test_musegan_generator_block_shapes():
    # salu133445's notebook layout, 4 measures x 16 steps x 72 pitches from a (B, z, 1, 1, 1) latent
    shapes = [((4, 1, 1), (4, 1, 1)), ((1, 4, 1), (1, 4, 1)), ((1, 1, 4), (1, 1, 4)),
              ((1, 1, 3), (1, 1, 1)), ((1, 4, 1), (1, 4, 1)), ((1, 1, 12), (1, 1, 12))]
    x = tg.zeros(2, 3, 1, 1, 1)
    for kernel, stride in shapes:
        x = tg.nn.ConvTranspose3d(x.shape[1], 2, kernel, stride)(x)
    assert tuple(x.shape) == (2, 2, 4, 16, 72)


def _critic(x, w):
    y = F.conv3d(x, w, stride=(1, 1, 2))
    flat = y.reshape(y.shape[0], -1)
    shape = (-1, 1, 1, 1, 1)
    y = (y - flat.mean(1).view(*shape)) / (flat.std(1).view(*shape) + 1e-5)   # the notebook's LayerNorm
    return F.leaky_relu(y, 0.2).sum(dim=(1, 2, 3, 4))


def test_wgan_gp_through_conv3d_and_std_layernorm_passes_gradgradcheck():
    x = tg.tensor(_points(8, (2, 1, 2, 3, 4)), requires_grad=True)
    w = tg.tensor(_points(9, (2, 1, 1, 2, 2)), requires_grad=True)
    assert tg.gradcheck(_critic, (x, w))
    assert tg.gradgradcheck(_critic, (x, w))


def test_bce_with_the_3dgan_discriminators_unflattened_output_is_refused():
    # 3D-GAN (rimchang) fed D's (B, 1, 1, 1, 1) output against (B,) labels: torch refuses it
    # with a ValueError now, as tensorgan does
    with pytest.raises(ValueError, match="target shape"):
        tg.nn.BCELoss()(tg.full((2, 1, 1, 1, 1), 0.5), tg.ones(2))
