"""Gaps found porting latent-space editing beside torch 2.13 (GANSpace's PCA of sampled w's and
its layer-range edits, SeFa's closed-form factorization of the style affine weights, StyleFlow's
conditional CNF with ConcatSquash layers, Hutchinson divergence, RK4 / dopri5 solvers and moving
batch norm, StyleGAN-NADA's directional CLIP loss and layer freezing by w-code optimisation; tiny
sizes, float64). The programs agreed with torch to rounding; what differed: torch.linalg.eig /
eigvals (SeFa ports call them on W W^T) were refused, and the outputs of eigh / svd / qr / slogdet
showed ``ViewBackward0`` as their grad_fn instead of torch's ``LinalgEighBackward0`` etc.
Expected values are worked out here (NumPy, finite differences, invariants)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import AutogradError, AutogradNotSupportedError

def _a(n=4, batch=(), seed=0):
    """A fixed random matrix (each test draws its own, so the order of tests does not matter)."""
    return np.random.default_rng(seed).standard_normal(batch + (n, n))


def _fd_grad(f, x, eps=1e-6):
    """Central differences of a real function of a real array."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


# -- linalg.eig / eigvals ------------------------------------------------------------------------
def test_eig_matches_numpy_geev_and_is_complex():
    A = _a(5, (2,), seed=1)
    L, V = tg.linalg.eig(tg.tensor(A))
    Ln, Vn = np.linalg.eig(A)
    assert L.dtype == tg.complex128 and V.dtype == tg.complex128
    np.testing.assert_allclose(L.numpy(), Ln, atol=1e-12)          # same LAPACK routine: same order
    np.testing.assert_allclose(V.numpy(), Vn, atol=1e-12)          # and the same phases
    np.testing.assert_allclose(A @ V.numpy(), V.numpy() * L.numpy()[..., None, :], atol=1e-12)
    np.testing.assert_allclose(tg.linalg.eigvals(tg.tensor(A)).numpy(), Ln, atol=1e-12)
    assert tg.linalg.eigvals(tg.tensor(A, dtype=tg.float32)).dtype == tg.complex64
    assert tuple(tg.linalg.eig(tg.tensor(A))._fields) == ("eigenvalues", "eigenvectors")


def test_eig_eigenvalue_gradient_matches_finite_differences():
    A = _a(4, seed=2)

    def loss_np(a):
        lam = np.linalg.eigvals(a)
        return float(np.sum(lam.real ** 2) + np.sum(lam.imag ** 2 * lam.real))

    x = tg.tensor(A, requires_grad=True)
    lam = tg.linalg.eigvals(x)
    ((lam.real ** 2).sum() + (lam.imag ** 2 * lam.real).sum()).backward()
    assert x.grad.dtype == tg.float64                               # real A: the real part
    np.testing.assert_allclose(x.grad.numpy(), _fd_grad(loss_np, A), rtol=1e-6, atol=1e-7)


def test_eig_eigenvector_gradient_matches_finite_differences():
    A = _a(4, seed=3)
    w = np.arange(4.0)

    def loss_np(a):
        lam, V = np.linalg.eig(a)
        return float(np.sum(np.abs(V) ** 2 * w) + np.sum(np.abs(lam)))

    x = tg.tensor(A, requires_grad=True)
    L, V = tg.linalg.eig(x)
    ((V.abs() ** 2 * tg.tensor(w)).sum() + L.abs().sum()).backward()   # phase-invariant loss
    np.testing.assert_allclose(x.grad.numpy(), _fd_grad(loss_np, A), rtol=1e-6, atol=1e-7)


def test_eig_of_a_complex_matrix_has_the_conjugate_wirtinger_gradient():
    A = _a(3, seed=4) + 1j * _a(3, seed=5)

    def loss_np(re, im):
        return float(np.abs(np.linalg.eigvals(re + 1j * im)).sum())

    z = tg.tensor(A, requires_grad=True)
    tg.linalg.eigvals(z).abs().sum().backward()
    expected = (_fd_grad(lambda r: loss_np(r, A.imag), A.real)
                + 1j * _fd_grad(lambda i: loss_np(A.real, i), A.imag))
    np.testing.assert_allclose(z.grad.numpy(), expected, rtol=1e-6, atol=1e-7)


def test_eig_on_a_symmetric_matrix_agrees_with_eigh_as_sefa_uses_it():
    W = np.random.default_rng(30).standard_normal((6, 10))
    W = W / np.linalg.norm(W, axis=0, keepdims=True)                # SeFa's column normalisation
    S = tg.tensor(W @ W.T, requires_grad=True)
    L, V = tg.linalg.eig(S)
    order = np.argsort(-L.real.detach().numpy())
    ev, evec = tg.linalg.eigh(S.detach())
    np.testing.assert_allclose(L.real.detach().numpy()[order], ev.numpy()[::-1], atol=1e-12)
    np.testing.assert_allclose(L.imag.detach().numpy(), 0, atol=1e-12)
    Vr, Eh = V.real.detach().numpy()[:, order], evec.numpy()[:, ::-1]
    np.testing.assert_allclose(np.abs(np.sum(Vr * Eh, axis=0)), 1, atol=1e-10)    # up to sign
    L.real.sum().backward()                                           # d trace / dS = I
    np.testing.assert_allclose(S.grad.numpy(), np.eye(6), atol=1e-10)


def test_eig_refusals_have_torch_types():
    with pytest.raises(RuntimeError, match="square"):
        tg.linalg.eig(tg.ones(2, 3))
    with pytest.raises(RuntimeError, match="infs or NaNs"):
        tg.linalg.eigvals(tg.tensor([[1.0, float("nan")], [0.0, 1.0]]))
    with pytest.raises(TypeError):
        tg.linalg.eig(tg.ones(2, 2, dtype=tg.int64))
    x = tg.tensor(_a(3, seed=6), requires_grad=True)
    _, V = tg.linalg.eig(x)
    with pytest.raises(RuntimeError, match="e\\^\\{i phi\\}") as info:   # loss depends on V's phase
        V.imag.sum().backward()
    assert isinstance(info.value, AutogradError)
    x = tg.tensor(_a(3, seed=7), requires_grad=True)
    with pytest.raises(NotImplementedError) as info:      # a graph of the gradient: refused, not wrong
        tg.autograd.grad(tg.linalg.eigvals(x).real.sum(), x, create_graph=True)
    assert isinstance(info.value, AutogradNotSupportedError)


# -- grad_fn names of multi-output decompositions ----------------------------------------------
def test_decomposition_outputs_carry_torch_node_names():
    a = _a(3, seed=8)
    x = tg.tensor(a @ a.T + 3 * np.eye(3), requires_grad=True)
    names = {
        "LinalgEighBackward0": [*tg.linalg.eigh(x), tg.linalg.eigvalsh(x)],
        "LinalgSvdBackward0": [*tg.linalg.svd(x)],
        "LinalgQrBackward0": [*tg.linalg.qr(x)],
        "LinalgSlogdetBackward0": [tg.linalg.slogdet(x)[1]],
        "LinalgEigBackward0": [*tg.linalg.eig(x)],
    }
    for name, outs in names.items():
        assert [t.grad_fn.name() for t in outs] == [name] * len(outs)


def test_unpacked_outputs_keep_first_and_second_order_gradients():
    a = _a(3, seed=9)
    S = a @ a.T + np.eye(3)                                          # SPD: singular values = eigenvalues
    x = tg.tensor(S, requires_grad=True)
    loss = (tg.linalg.svd(x)[1] ** 3).sum() + (tg.linalg.eigh(x)[0] ** 2).sum()
    g, = tg.autograd.grad(loss, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * S @ S + 2 * S, atol=1e-10)
    h, = tg.autograd.grad(g.trace(), x)                              # d tr(3 S^2 + 2 S) / dS
    np.testing.assert_allclose(h.numpy(), 6 * S + 2 * np.eye(3), atol=1e-9)
    sym = lambda t: (t + t.T) / 2                                    # eigh reads one triangle
    assert tg.autograd.gradcheck(lambda t: (tg.linalg.svd(sym(t))[1] ** 3).sum()
                                 + (tg.linalg.eigh(sym(t))[1][:, 0] ** 4).sum(), (x,))


# -- StyleFlow's Hutchinson trace with create_graph: basis probes give the exact trace ----------
def test_hutchinson_divergence_with_basis_probes_is_the_jacobian_trace():
    D, rng = 4, np.random.default_rng(31)
    W1, W2 = tg.tensor(rng.standard_normal((D, 6))), tg.tensor(rng.standard_normal((6, D)))
    y = tg.tensor(rng.standard_normal((3, D)), requires_grad=True)
    with tg.set_grad_enabled(True):
        f = tg.tanh(y @ W1) @ W2
        est = 0
        for i in range(D):                                          # e = basis vectors: exact
            e = tg.zeros(3, D)
            e[:, i] = 1.0
            e_dzdx = tg.autograd.grad(f, y, e, create_graph=True)[0]
            est = est + e_dzdx.mul(e).sum(dim=-1)
    h = np.tanh(y.detach().numpy() @ W1.numpy())
    J_trace = np.einsum("ij,bj,ji->b", W1.numpy(), 1 - h ** 2, W2.numpy())
    np.testing.assert_allclose(est.detach().numpy(), J_trace, atol=1e-12)
    assert est.requires_grad                                        # the CNF trains through it
    est.sum().backward()
    assert y.grad is not None and np.isfinite(y.grad.numpy()).all()
