"""tg.linalg and torch's top-level linear algebra (det, inverse, svd, addmm, cov, ...): values
against NumPy, gradients by gradcheck / gradgradcheck in float64, batched shapes, refusals."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import linalg as LA

RNG = np.random.default_rng(0)


def f64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype=tg.float64, requires_grad=requires_grad)


def well_conditioned(*shape):
    """Random square matrices with a dominant diagonal (far from singular)."""
    return RNG.standard_normal(shape) + 3 * np.eye(shape[-1])


def spd(*shape):
    a = RNG.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def sym(X):
    """Symmetric in the graph: eigh / cholesky read one triangle, so gradcheck perturbs both."""
    return (X + X.transpose(-2, -1)) * 0.5


def test_det_slogdet_logdet_inv_match_numpy_batched():
    a = well_conditioned(2, 3, 4, 4)
    A = f64(a)
    np.testing.assert_allclose(LA.det(A).numpy(), np.linalg.det(a), rtol=1e-12)
    sign, logabsdet = LA.slogdet(A)
    ref_sign, ref_log = np.linalg.slogdet(a)
    assert sign.shape == (2, 3) and not sign.requires_grad and logabsdet.requires_grad
    np.testing.assert_array_equal(sign.numpy(), ref_sign)
    np.testing.assert_allclose(logabsdet.numpy(), ref_log, rtol=1e-12)
    np.testing.assert_allclose(LA.inv(A).numpy(), np.linalg.inv(a), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(A.inverse().numpy(), np.linalg.inv(a), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tg.det(A).numpy(), A.det().numpy())
    neg = f64(np.diag([-1.0, 2.0, 3.0]))
    assert np.isnan(tg.logdet(neg).item()) and tg.logdet(f64(np.zeros((2, 2)))).item() == -np.inf
    p = spd(3, 3)
    np.testing.assert_allclose(f64(p).logdet().item(), np.log(np.linalg.det(p)), rtol=1e-12)
    assert LA.det(f64(np.zeros((0, 0)))).item() == 1.0 and LA.inv(f64(np.zeros((2, 0, 0)))).shape == (2, 0, 0)


def test_det_inv_slogdet_gradients_and_second_derivatives():
    A = f64(well_conditioned(2, 3, 3))
    for fn in (LA.det, lambda X: LA.slogdet(X).logabsdet, LA.inv, tg.logdet):
        fn_ = (lambda X: tg.logdet(X @ X.transpose(-2, -1))) if fn is tg.logdet else fn
        assert tg.gradcheck(fn_, [A]) and tg.gradgradcheck(fn_, [A])


def test_det_gradient_of_a_singular_matrix_is_the_cofactor_matrix():
    a = RNG.standard_normal((3, 3))
    a[:, 2] = a[:, 0] - a[:, 1]                       # rank 2: A^-1 does not exist
    A = f64(a)
    LA.det(A).backward()
    cofactors = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))
                           for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(A.grad.numpy(), cofactors, atol=1e-12)


def test_solve_vector_matrix_left_right_and_broadcast_batches():
    a, b = well_conditioned(2, 3, 3), RNG.standard_normal((3, 2))
    A, B = f64(a), f64(b)
    np.testing.assert_allclose(LA.solve(A, B).numpy(), np.linalg.solve(a, np.broadcast_to(b, (2, 3, 2))),
                               rtol=1e-10)
    v = RNG.standard_normal((2, 3))                   # B.shape == A.shape[:-1]: a batch of vectors
    X = LA.solve(A, f64(v))
    assert X.shape == (2, 3)
    np.testing.assert_allclose(X.numpy(), np.linalg.solve(a, v[..., None])[..., 0], rtol=1e-10)
    assert LA.solve(A, f64(v[0])).shape == (2, 3)     # 1-D B: one vector for every matrix
    c = RNG.standard_normal((4, 3))
    np.testing.assert_allclose((LA.solve(A[0], f64(c), left=False) @ A[0]).numpy(), c, atol=1e-12)
    assert tg.gradcheck(LA.solve, [A, B]) and tg.gradgradcheck(LA.solve, [A, B])
    assert tg.gradcheck(lambda X, Y: LA.solve(X, Y, left=False), [A, f64(RNG.standard_normal((2, 4, 3)))])


def test_cholesky_lower_and_upper_values_and_gradients():
    a = spd(2, 4, 4)
    L = LA.cholesky(f64(a))
    np.testing.assert_allclose(L.numpy(), np.linalg.cholesky(a), rtol=1e-12)
    np.testing.assert_allclose(LA.cholesky(f64(a), upper=True).numpy(),
                               np.swapaxes(np.linalg.cholesky(a), -1, -2), rtol=1e-12)
    np.testing.assert_allclose(tg.cholesky(f64(a[0]), upper=True).numpy(), f64(a[0]).cholesky(True).numpy())
    X = f64(spd(2, 3, 3))
    assert tg.gradcheck(lambda M: LA.cholesky(sym(M)), [X])
    assert tg.gradgradcheck(lambda M: LA.cholesky(sym(M), upper=True), [X])


@pytest.mark.parametrize("shape", [(2, 5, 3), (3, 5), (4, 4)])
def test_qr_modes_values_and_gradients(shape):
    a = RNG.standard_normal(shape)
    A = f64(a)
    Q, R = LA.qr(A)
    ref_q, ref_r = np.linalg.qr(a)
    np.testing.assert_allclose(Q.numpy(), ref_q, atol=1e-12)
    np.testing.assert_allclose(R.numpy(), ref_r, atol=1e-12)
    Qc, Rc = LA.qr(A, mode="complete")
    m, n = shape[-2:]
    assert Qc.shape[-2:] == (m, m) and Rc.shape[-2:] == (m, n)
    np.testing.assert_allclose((Qc @ Rc).numpy(), a, atol=1e-12)
    q_empty, r_only = LA.qr(A, mode="r")
    assert q_empty.shape == (0,) and np.allclose(r_only.numpy(), ref_r)
    assert tg.qr(A, some=False).Q.shape == Qc.shape and A.qr().R.shape == R.shape
    assert tg.gradcheck(lambda X: LA.qr(X).Q, [A]) and tg.gradcheck(lambda X: LA.qr(X).R, [A])


def test_qr_complete_of_a_tall_matrix_has_no_gradient_as_torch():
    Q, _ = LA.qr(f64(RNG.standard_normal((4, 2))), mode="complete")
    with pytest.raises(tg.LinAlgError, match="mode='complete'.*m > n"):
        Q.sum().backward()


@pytest.mark.parametrize("shape", [(2, 5, 3), (3, 5), (4, 4)])
def test_svd_values_and_gradients_of_sign_invariant_functions(shape):
    a = RNG.standard_normal(shape)
    A = f64(a)
    U, S, Vh = LA.svd(A)
    m, n = shape[-2:]
    k = min(m, n)
    assert U.shape[-2:] == (m, m) and Vh.shape[-2:] == (n, n) and S.shape[-1] == k
    np.testing.assert_allclose(S.numpy(), np.linalg.svd(a, compute_uv=False), rtol=1e-12)
    np.testing.assert_allclose(((U[..., :k] * S[..., None, :]) @ Vh[..., :k, :]).numpy(), a, atol=1e-12)
    np.testing.assert_allclose(LA.svdvals(A).numpy(), S.numpy())
    Ur, _, Vhr = LA.svd(A, full_matrices=False)
    assert Ur.shape[-1] == k and Vhr.shape[-2] == k
    assert tg.gradcheck(LA.svdvals, [A])
    assert tg.gradcheck(lambda X: (lambda r: r.U * r.U)(LA.svd(X, full_matrices=False)), [A])
    assert tg.gradcheck(lambda X: (lambda r: r.Vh[..., :k, :] ** 2)(LA.svd(X)), [A])
    # torch.svd: V, not Vh
    U2, S2, V2 = tg.svd(A)
    np.testing.assert_allclose(((U2 * S2[..., None, :]) @ V2.transpose(-2, -1)).numpy(), a, atol=1e-12)
    _, _, Vfull = A.svd(some=False)
    assert Vfull.shape[-2:] == (n, n)
    U0, S0, V0 = tg.svd(A, compute_uv=False)
    assert U0.shape[-2:] == (m, m) and V0.shape[-2:] == (n, n) and not U0.numpy().any()


def test_eigh_values_vectors_gradients_and_repeated_eigenvalues():
    a = RNG.standard_normal((2, 4, 4))
    a = a + np.swapaxes(a, -1, -2)
    w, V = LA.eigh(f64(a))
    np.testing.assert_allclose(w.numpy(), np.linalg.eigvalsh(a), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(((V * w[..., None, :]) @ V.transpose(-2, -1)).numpy(), a, atol=1e-12)
    np.testing.assert_allclose(LA.eigvalsh(f64(a), UPLO="U").numpy(), np.linalg.eigvalsh(a, "U"), atol=1e-12)
    X = f64(RNG.standard_normal((2, 3, 3)))
    assert tg.gradcheck(lambda M: LA.eigvalsh(sym(M)), [X])
    assert tg.gradcheck(lambda M: LA.eigh(sym(M)).eigenvectors ** 2, [X])
    assert tg.gradgradcheck(lambda M: LA.eigvalsh(sym(M)), [X])
    # repeated eigenvalues: the eigenvector gradient divides by 0 (inf / NaN), as torch's
    Y = f64(np.eye(3))
    (LA.eigh(Y).eigenvectors ** 2).sum().backward()
    assert not np.isfinite(Y.grad.numpy()).all()


@pytest.mark.parametrize("shape", [(2, 5, 3), (3, 5)])
def test_pinv_pinverse_lstsq_and_matrix_rank(shape):
    a = RNG.standard_normal(shape)
    A = f64(a)
    np.testing.assert_allclose(LA.pinv(A).numpy(), np.linalg.pinv(a), atol=1e-12)
    np.testing.assert_allclose(tg.pinverse(A).numpy(), np.linalg.pinv(a), atol=1e-12)
    assert tg.gradcheck(LA.pinv, [A]) and tg.gradgradcheck(LA.pinv, [A])
    low_rank = f64(np.outer([1.0, 2.0, 3.0], [1.0, -1.0]))
    assert LA.matrix_rank(low_rank).item() == 1 and LA.matrix_rank(A).tolist() == np.linalg.matrix_rank(a).tolist()
    b = RNG.standard_normal((5, 2))
    result = LA.lstsq(f64(RNG.standard_normal((5, 3)) + 0 * b[:, :1]), f64(b))
    assert result.solution.shape == (3, 2) and result.rank.item() == 3 and result.residuals.shape == (0,)
    tall = RNG.standard_normal((5, 3))
    np.testing.assert_allclose(LA.lstsq(f64(tall), f64(b)).solution.numpy(),
                               np.linalg.lstsq(tall, b, rcond=None)[0], atol=1e-12)
    assert tg.gradcheck(lambda X, Y: LA.lstsq(X, Y).solution, [f64(tall), f64(b)])


def test_matrix_power_and_matrix_exp():
    a = well_conditioned(2, 3, 3) * 0.5
    A = f64(a)
    for n in (0, 1, 2, 5, -1, -3):
        expected = np.stack([np.linalg.matrix_power(m, n) for m in a])
        np.testing.assert_allclose(LA.matrix_power(A, n).numpy(), expected, rtol=1e-10, atol=1e-12)
    assert LA.matrix_power(A, 0).requires_grad and A.matrix_power(2).shape == (2, 3, 3)
    assert tg.gradcheck(lambda X: LA.matrix_power(X, 3), [A])
    assert tg.gradcheck(lambda X: LA.matrix_power(X, -2), [A])
    s = RNG.standard_normal((4, 4))
    s = s + s.T                                      # exp of a symmetric matrix: V e^w V^T
    w, V = np.linalg.eigh(s)
    np.testing.assert_allclose(LA.matrix_exp(f64(s)).numpy(), (V * np.exp(w)) @ V.T, rtol=1e-11)
    E = LA.matrix_exp(A)
    np.testing.assert_allclose((E @ tg.matrix_exp(-A)).numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-10)
    nilpotent = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(f64(nilpotent).matrix_exp().numpy(),
                               np.eye(3) + nilpotent + nilpotent @ nilpotent / 2, atol=1e-14)
    small = f64(RNG.standard_normal((2, 2, 2)) * 0.5)
    assert tg.gradcheck(LA.matrix_exp, [small]) and tg.gradgradcheck(LA.matrix_exp, [small])


def test_norms_match_numpy():
    a = RNG.standard_normal((2, 3, 4))
    A = f64(a)
    for ord in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        np.testing.assert_allclose(LA.matrix_norm(A, ord).numpy(), np.linalg.norm(a, ord, axis=(-2, -1)),
                                   rtol=1e-12, err_msg=str(ord))
        np.testing.assert_allclose(LA.matrix_norm(A, ord, dim=(2, 0), keepdim=True).numpy(),
                                   np.linalg.norm(a, ord, axis=(2, 0), keepdims=True), rtol=1e-12, err_msg=str(ord))
        np.testing.assert_allclose(LA.norm(A[0], ord).numpy(), np.linalg.norm(a[0], ord), rtol=1e-12)
    for ord in (2, 1, 3.5, np.inf, -np.inf, 0):
        np.testing.assert_allclose(LA.vector_norm(A, ord, dim=-1).numpy(), np.linalg.norm(a, ord, axis=-1),
                                   rtol=1e-12)
    np.testing.assert_allclose(LA.norm(A).item(), np.linalg.norm(a.ravel()), rtol=1e-12)
    np.testing.assert_allclose(LA.vector_norm(A, 1).item(), np.abs(a).sum(), rtol=1e-12)
    np.testing.assert_allclose(LA.norm(A, dim=(0, 1)).numpy(), np.linalg.norm(a, axis=(0, 1)), rtol=1e-12)
    for ord in ("fro", "nuc", 2, 1, np.inf):
        assert tg.gradcheck(lambda X: LA.matrix_norm(X, ord), [A])


def test_cross_multi_dot_vecdot_diagonal():
    a, b = RNG.standard_normal((4, 3)), RNG.standard_normal((1, 3))
    A, B = f64(a), f64(b)
    np.testing.assert_allclose(LA.cross(A, B).numpy(), np.cross(a, b), rtol=1e-12)
    c, d = RNG.standard_normal((3, 5)), RNG.standard_normal((3, 5))
    np.testing.assert_allclose(tg.cross(f64(c), f64(d)).numpy(), np.cross(c, d, axis=0), rtol=1e-12)
    np.testing.assert_allclose(f64(c).cross(f64(d), dim=0).numpy(), np.cross(c, d, axis=0), rtol=1e-12)
    assert tg.gradcheck(LA.cross, [A, B])
    v, m1, m2, w = RNG.standard_normal(3), RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2)), RNG.standard_normal(2)
    np.testing.assert_allclose(LA.multi_dot([f64(v), f64(m1), f64(m2), f64(w)]).item(), v @ m1 @ m2 @ w, rtol=1e-12)
    np.testing.assert_allclose(LA.multi_dot([f64(m1), f64(m2)]).numpy(), m1 @ m2, rtol=1e-12)
    np.testing.assert_allclose(tg.chain_matmul(f64(m1), f64(m2), f64(np.eye(2))).numpy(), m1 @ m2, rtol=1e-12)
    np.testing.assert_allclose(LA.vecdot(A, B).numpy(), (a * b).sum(-1), rtol=1e-12)
    x = RNG.standard_normal((2, 3, 4))
    np.testing.assert_array_equal(LA.diagonal(f64(x), offset=1).numpy(), np.diagonal(x, 1, -2, -1))


def test_trace_diagflat_tensordot():
    a = RNG.standard_normal((3, 4))
    assert tg.trace(f64(a)).item() == pytest.approx(np.trace(a)) and f64(a).trace().shape == ()
    assert tg.trace(tg.tensor([[1, 2], [3, 4]])).item() == 5
    np.testing.assert_array_equal(tg.diagflat(f64(a[:2, :2]), 1).numpy(), np.diagflat(a[:2, :2], 1))
    x, y = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((4, 3, 5))
    np.testing.assert_allclose(tg.tensordot(f64(x), f64(y), dims=([1, 2], [1, 0])).numpy(),
                               np.tensordot(x, y, axes=([1, 2], [1, 0])), rtol=1e-12)
    z = RNG.standard_normal((3, 4, 5))
    np.testing.assert_allclose(tg.tensordot(f64(x), f64(z)).numpy(), np.tensordot(x, z), rtol=1e-12)
    np.testing.assert_allclose(tg.tensordot(f64(x), f64(z), 0).numpy(), np.tensordot(x, z, 0), rtol=1e-12)
    assert tg.gradcheck(lambda p, q: tg.tensordot(p, q, dims=([1, 2], [1, 0])), [f64(x), f64(y)])


def test_addmm_family_with_beta_and_alpha():
    i, m1, m2 = RNG.standard_normal(4), RNG.standard_normal((3, 2)), RNG.standard_normal((2, 4))
    np.testing.assert_allclose(tg.addmm(f64(i), f64(m1), f64(m2), beta=0.5, alpha=2).numpy(),
                               0.5 * i + 2 * m1 @ m2, rtol=1e-12)
    nan_input = f64(np.full((3, 4), np.nan))         # beta=0: input ignored, NaN too (torch)
    assert np.isfinite(tg.addmm(nan_input, f64(m1), f64(m2), beta=0).numpy()).all()
    b1, b2, inp = RNG.standard_normal((2, 3, 2)), RNG.standard_normal((2, 2, 4)), RNG.standard_normal((3, 4))
    np.testing.assert_allclose(tg.addbmm(f64(inp), f64(b1), f64(b2), alpha=-1).numpy(),
                               inp - (b1 @ b2).sum(0), rtol=1e-12)
    np.testing.assert_allclose(f64(inp).baddbmm(f64(b1), f64(b2), beta=2).numpy(), 2 * inp + b1 @ b2, rtol=1e-12)
    v, u = RNG.standard_normal(2), RNG.standard_normal(3)
    np.testing.assert_allclose(tg.addmv(f64(u), f64(m1), f64(v), beta=0.3).numpy(), 0.3 * u + m1 @ v, rtol=1e-12)
    np.testing.assert_allclose(f64(m1).addr(f64(u), f64(v), alpha=3).numpy(), m1 + 3 * np.outer(u, v), rtol=1e-12)
    ints = tg.tensor([[1, 2], [3, 4]])
    assert tg.addmm(ints, ints, ints).dtype == tg.int64
    assert tg.gradcheck(lambda p, q, r: tg.addmm(p, q, r, beta=0.5, alpha=2), [f64(i), f64(m1), f64(m2)])
    assert tg.gradgradcheck(lambda p, q, r: tg.baddbmm(p, q, r) ** 2, [f64(inp), f64(b1), f64(b2)])


def test_cov_and_corrcoef_match_numpy():
    x = RNG.standard_normal((3, 6))
    X = f64(x)
    np.testing.assert_allclose(tg.cov(X).numpy(), np.cov(x), rtol=1e-12)
    np.testing.assert_allclose(X.cov(correction=0).numpy(), np.cov(x, ddof=0), rtol=1e-12)
    fw, aw = np.array([1, 2, 1, 3, 1, 2]), RNG.uniform(0.5, 2.0, 6)
    np.testing.assert_allclose(tg.cov(X, fweights=tg.tensor(fw), aweights=f64(aw)).numpy(),
                               np.cov(x, fweights=fw, aweights=aw), rtol=1e-12)
    assert tg.cov(f64(x[0])).shape == () and tg.cov(f64(x[0])).item() == pytest.approx(np.cov(x[0]))
    np.testing.assert_allclose(tg.corrcoef(X).numpy(), np.corrcoef(x), rtol=1e-12)
    np.testing.assert_allclose(X.corrcoef().numpy(), np.corrcoef(x), rtol=1e-12)
    assert tg.gradcheck(tg.cov, [X]) and tg.gradcheck(tg.corrcoef, [X])
    with pytest.raises(tg.DTypeError, match="fweights"):
        tg.cov(X, fweights=f64(fw))


def test_float32_and_the_tensor_methods():
    A = tg.tensor(well_conditioned(3, 3), dtype=tg.float32)
    for name in ("det", "logdet", "slogdet", "inverse", "cholesky", "qr", "svd", "pinverse", "matrix_exp",
                 "trace", "diagflat", "addmm", "addbmm", "baddbmm", "addmv", "addr", "cov", "corrcoef",
                 "matrix_power", "cross"):
        assert hasattr(tg.Tensor, name) and hasattr(tg, name), name
    assert A.inverse().dtype == tg.float32 and LA.svd(A).S.dtype == tg.float32
    np.testing.assert_allclose((A @ LA.inv(A)).numpy(), np.eye(3), atol=1e-5)


def test_refusals_are_typed_and_name_the_problem():
    singular = f64(np.zeros((2, 3, 3)), requires_grad=False)
    with pytest.raises(tg.LinAlgError, match=r"linalg.inv: \(Batch element 0\).*singular"):
        LA.inv(singular)
    assert issubclass(tg.LinAlgError, RuntimeError) and issubclass(tg.LinAlgError, tg.TensorganError)
    with pytest.raises(tg.LinAlgError, match="linalg.solve.*singular"):
        LA.solve(f64(np.diag([1.0, 0.0, 2.0])), f64(np.ones(3)))
    with pytest.raises(tg.LinAlgError, match=r"cholesky: \(Batch element 1\).*not positive-definite"):
        LA.cholesky(f64(np.stack([np.eye(2), -np.eye(2)])))
    with pytest.raises(tg.ShapeError, match=r"square.*\(2, 3\)"):
        LA.det(f64(np.ones((2, 3))))
    with pytest.raises(tg.ShapeError, match=r"at least 2 dims.*\(3,\)"):
        LA.inv(f64(np.ones(3)))
    with pytest.raises(tg.DTypeError, match="int64"):
        LA.inv(tg.tensor([[1, 2], [3, 4]]))
    with pytest.raises(tg.ShapeError, match=r"\(3, 3\) and B \(4, 2\)"):
        LA.solve(f64(np.eye(3)), f64(np.ones((4, 2))))
    with pytest.raises(tg.ShapeError, match="batch dims"):
        LA.solve(f64(np.ones((2, 3, 3))), f64(np.ones((3, 3, 2))))
    with pytest.raises(tg.ConfigError, match="mode"):
        LA.qr(f64(np.eye(2)), mode="full")
    with pytest.raises(tg.ConfigError, match="UPLO"):
        LA.eigh(f64(np.eye(2)), UPLO="X")
    with pytest.raises(tg.ConfigError, match="ord"):
        LA.matrix_norm(f64(np.eye(2)), 3)
    with pytest.raises(tg.ShapeError, match="1-D or 2-D"):
        LA.norm(f64(np.ones((2, 2, 2))), 2)
    with pytest.raises(tg.ShapeError, match="size 3"):
        LA.cross(f64(np.ones(4)), f64(np.ones(4)))
    with pytest.raises(tg.ShapeError, match="same number of dims"):
        LA.cross(f64(np.ones((2, 3))), f64(np.ones(3)))
    with pytest.raises(tg.ShapeError, match=r"tensor 0 of shape \(2, 3\).*tensor 1 of shape \(2, 3\)"):
        LA.multi_dot([f64(np.ones((2, 3))), f64(np.ones((2, 3)))])
    with pytest.raises(tg.ShapeError, match=r"\(3,\) does not broadcast.*\(2, 2\)"):
        tg.addmm(f64(np.ones(3)), f64(np.ones((2, 3))), f64(np.ones((3, 2))))
    with pytest.raises(tg.ShapeError, match="2-D"):
        tg.trace(f64(np.ones(3)))
    with pytest.raises(tg.ShapeError, match="contracted dims"):
        tg.tensordot(f64(np.ones((2, 3))), f64(np.ones((2, 3))), 1)
    with pytest.raises(tg.InputTypeError, match="multi_dot"):
        LA.multi_dot([f64(np.eye(2))])
    with pytest.raises(tg.InputTypeError, match="matrix_power: n must be an int"):
        LA.matrix_power(f64(np.eye(2)), 1.5)
