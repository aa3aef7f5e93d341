"""Found porting latent-editing / inversion code (DragGAN, SeFa, GANSpace, rosinality's
projector.py) to tensorgan. No torch import: expected values from NumPy / first principles."""
import numpy as np
import pytest

import tensorgan as tg


def test_data_alias_keeps_writing_after_tracked_update():
    # projector.py's noise_normalize_: ``noise.data.add_(-mean).div_(std)`` with mean / std
    # computed from the (grad-requiring) noise: the .data alias becomes tracked by the first
    # write, and the second must still land in the noise's memory
    rng = np.random.RandomState(0)
    a = rng.randn(2, 1, 4, 4).astype(np.float32)
    noise = tg.tensor(a.copy(), requires_grad=True)
    mean, std = noise.mean(), noise.std()
    noise.data.add_(-mean).div_(std)
    want = (a - a.mean()) / a.std(ddof=1)
    np.testing.assert_allclose(noise.detach().numpy(), want, rtol=1e-5, atol=1e-6)
    assert abs(float(noise.detach().std()) - 1.0) < 1e-5


def test_from_numpy_tracked_in_place_chain_writes_the_array():
    arr = np.arange(4.0)
    m = tg.tensor(1.0, dtype=tg.float64, requires_grad=True)
    x = tg.from_numpy(arr)
    x.add_(m)
    x.mul_(2)
    x.div_(m)
    np.testing.assert_array_equal(arr, [2.0, 4.0, 6.0, 8.0])
    np.testing.assert_array_equal(x.detach().numpy(), arr)
    x.sum().backward()
    # x = 2 (a + m) / m  -> d/dm sum = sum(-2 a / m^2) = -2 * 6 = -12 at m = 1
    assert float(m.grad) == pytest.approx(-12.0)


def _gapped(rng, m, n, spectrum, batch=()):
    """A matrix (batch) with the given singular values: random orthonormal factors."""
    k = len(spectrum)
    U = np.linalg.qr(rng.randn(*batch, m, k))[0]
    V = np.linalg.qr(rng.randn(*batch, n, k))[0]
    return (U * np.asarray(spectrum)) @ np.swapaxes(V, -1, -2)


def test_pca_lowrank_finds_principal_directions_of_sampled_latents():
    # GANSpace: PCA of sampled w; rank-4 data plus small noise, centred by pca_lowrank
    rng = np.random.RandomState(1)
    X = _gapped(rng, 200, 12, [40.0, 20.0, 10.0, 5.0]) + 0.01 * rng.randn(200, 12) + rng.randn(1, 12)
    tg.manual_seed(0)
    U, S, V = tg.pca_lowrank(tg.tensor(X), q=4)
    Xc = X - X.mean(0, keepdims=True)
    u, s, vh = np.linalg.svd(Xc, full_matrices=False)
    assert U.shape == (200, 4) and S.shape == (4,) and V.shape == (12, 4)
    np.testing.assert_allclose(S.numpy(), s[:4], rtol=1e-8)
    np.testing.assert_allclose(np.abs(V.numpy().T @ vh[:4].T), np.eye(4), atol=1e-6)   # same axes
    np.testing.assert_allclose((U.numpy() * S.numpy()) @ V.numpy().T, (u[:, :4] * s[:4]) @ vh[:4],
                               atol=1e-5)
    # center=False keeps the mean in: the first direction is then (near) the mean's
    _, S0, _ = tg.pca_lowrank(tg.tensor(X), q=4, center=False, niter=8)
    np.testing.assert_allclose(S0.numpy(), np.linalg.svd(X, compute_uv=False)[:4], rtol=1e-6)
    # the default q is min(6, m, n), as torch's
    assert tg.pca_lowrank(tg.tensor(X[:5, :4]))[1].shape == (4,)
    assert tg.pca_lowrank(tg.tensor(X[:50]))[1].shape == (6,)


def test_svd_lowrank_batched_wide_with_mean_and_gradient():
    rng = np.random.RandomState(2)
    A = _gapped(rng, 5, 9, [9.0, 4.0, 1.0], batch=(3,))       # wide: the transposed path
    Mean = rng.randn(1, 9)
    tg.manual_seed(1)
    At = tg.tensor(A + Mean, requires_grad=True)
    U, S, V = tg.svd_lowrank(At, q=3, niter=3, M=tg.tensor(Mean))
    assert U.shape == (3, 5, 3) and S.shape == (3, 3) and V.shape == (3, 9, 3)
    np.testing.assert_allclose(S.detach().numpy(), np.broadcast_to([9.0, 4.0, 1.0], (3, 3)), rtol=1e-9)
    np.testing.assert_allclose((U.detach().numpy() * S.detach().numpy()[:, None]) @ np.swapaxes(
        V.detach().numpy(), -1, -2), A, atol=1e-9)
    # d(sum of singular values)/dA = U V^T (distinct, nonzero singular values; A has rank 3)
    S.sum().backward()
    u, _, vh = np.linalg.svd(A, full_matrices=False)
    np.testing.assert_allclose(At.grad.numpy(), u[..., :3] @ vh[..., :3, :], atol=1e-7)


def test_lowrank_refusals_are_typed():
    X = tg.tensor(np.ones((6, 4)))
    with pytest.raises(tg.errors.ShapeError, match="q"):
        tg.pca_lowrank(X, q=5)
    with pytest.raises(tg.errors.DTypeError, match="int64"):
        tg.svd_lowrank(tg.tensor(np.ones((6, 4), dtype=np.int64)), q=2)
    with pytest.raises(tg.errors.ShapeError, match="matri"):
        tg.pca_lowrank(tg.tensor(np.ones(4)))


def test_from_numpy_written_while_viewed_then_after_the_view_died():
    arr = np.zeros(3)
    m = tg.tensor(2.0, dtype=tg.float64, requires_grad=True)
    x = tg.from_numpy(arr)
    v = x[:2]
    x.add_(m)                       # written while a view shares the memory
    del v
    x.mul_(m)                       # and again after the view is gone: still arr's memory
    x.add_(1.0)
    np.testing.assert_array_equal(arr, [5.0, 5.0, 5.0])
    x.sum().backward()
    assert float(m.grad) == pytest.approx(3 * (2 * 2.0))     # d/dm sum((0 + m) * m + 1) = 3 * 2m
