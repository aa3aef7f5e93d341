"""The rest of tg.linalg (triangular solves, the LU family, *_ex, cond, tensorinv / tensorsolve,
householder_product, vander, torch's cholesky_solve / cholesky_inverse / triangular_solve / lu /
lu_unpack / lu_solve / nuclear_norm / frobenius_norm) and of tg.special (gammainc / gammaincc,
Bessel functions, orthogonal polynomials): values against NumPy, closed forms and recurrences,
gradients by gradcheck / gradgradcheck in float64, refusals."""
import math

import numpy as np
import pytest
from numpy.polynomial import hermite, hermite_e, laguerre, legendre

import tensorgan as tg
from tensorgan import linalg as LA
from tensorgan.errors import ConfigError, DTypeError, LinAlgError, ShapeError, TensorganError

RNG = np.random.default_rng(0)


def f64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype=tg.float64, requires_grad=requires_grad)


def well_conditioned(*shape):
    return RNG.standard_normal(shape) + 3 * np.eye(shape[-1])


def checks(fn, inputs):
    return tg.gradcheck(fn, inputs) and tg.gradgradcheck(fn, inputs)


# ---------------------------------------------------------------------------------------------
# solve_triangular and friends
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("unitriangular", [False, True])
def test_solve_triangular_matches_numpy_on_the_triangle(upper, unitriangular):
    a, b = well_conditioned(2, 1, 4, 4), RNG.standard_normal((3, 4, 2))     # batch dims broadcast
    tri = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        tri = tri * (1 - np.eye(4)) + np.eye(4)
    X = LA.solve_triangular(f64(a), f64(b), upper=upper, unitriangular=unitriangular)
    assert X.shape == (2, 3, 4, 2)
    np.testing.assert_allclose(X.detach().numpy(), np.linalg.solve(tri, b), rtol=1e-12, atol=1e-12)
    right = LA.solve_triangular(f64(a), f64(np.swapaxes(b, -1, -2)), upper=upper, left=False,
                                unitriangular=unitriangular)
    np.testing.assert_allclose(right.detach().numpy(),
                               np.swapaxes(np.linalg.solve(np.swapaxes(tri, -1, -2), b), -1, -2), rtol=1e-12, atol=1e-12)
    A, B = f64(well_conditioned(2, 3, 3)), f64(RNG.standard_normal((2, 3, 2)))
    assert checks(lambda M, R: LA.solve_triangular(M, R, upper=upper, unitriangular=unitriangular), [A, B])
    assert checks(lambda M, R: LA.solve_triangular(M, R, upper=upper, left=False), 
                  [A, f64(RNG.standard_normal((2, 2, 3)))])


def test_solve_triangular_zero_diagonal_and_refusals():
    X = LA.solve_triangular(f64([[0.0, 1.0], [0.0, 1.0]], False), f64([[1.0], [1.0]], False), upper=True)
    assert math.isnan(X[0, 0].item()) and X[1, 0].item() == 1.0     # LAPACK-like, no error
    A = f64(np.eye(3), False)
    with pytest.raises(ShapeError, match="at least 2 dims"):
        LA.solve_triangular(A, f64(np.ones(3), False), upper=True)
    with pytest.raises(ShapeError, match="needs 3 rows"):
        LA.solve_triangular(A, f64(np.ones((2, 1)), False), upper=True)
    with pytest.raises(DTypeError, match="int64"):
        LA.solve_triangular(tg.tensor([[1, 0], [0, 1]]), f64(np.ones((2, 1)), False), upper=True)


def test_triangular_solve_cholesky_solve_and_inverse():
    a, b = well_conditioned(4, 4), RNG.standard_normal((4, 2))
    sol, coefficient = tg.triangular_solve(f64(b), f64(a), transpose=True)
    np.testing.assert_allclose(sol.detach().numpy(), np.linalg.solve(np.triu(a).T, b), rtol=1e-12)
    np.testing.assert_array_equal(coefficient.detach().numpy(), a)
    s = a @ a.T
    L = np.linalg.cholesky(s)
    np.testing.assert_allclose(tg.cholesky_solve(f64(b), f64(L)).detach().numpy(), np.linalg.solve(s, b), rtol=1e-10)
    np.testing.assert_allclose(f64(b).cholesky_solve(f64(L.T), True).detach().numpy(), np.linalg.solve(s, b), rtol=1e-10)
    np.testing.assert_allclose(tg.cholesky_inverse(f64(L)).detach().numpy(), np.linalg.inv(s), rtol=1e-10)
    Lt, B = f64(L), f64(b)
    assert checks(lambda M, R: tg.cholesky_solve(R, tg.tril(M)), [Lt, B])
    assert checks(lambda M: tg.cholesky_inverse(tg.tril(M)), [Lt])
    assert checks(lambda M: f64(b, False).cholesky_solve(tg.triu(M), upper=True), [f64(L.T)])
    # torch's gradient in L treats the full matrix: -(gB X^T + X gB^T) L
    X = np.linalg.solve(s, b)
    Lfull = f64(L)
    tg.cholesky_solve(f64(b, False), Lfull).sum().backward()
    gB = np.linalg.solve(s, np.ones_like(b))
    np.testing.assert_allclose(Lfull.grad.numpy(), -(gB @ X.T + X @ gB.T) @ L, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# The LU family
# ---------------------------------------------------------------------------------------------
def lu_reference(a):
    """Plain-Python partial pivoting (getrf): (LU, 1-based pivots, info)."""
    a = np.array(a, dtype=float)
    m, n = a.shape
    pivots, info = [], 0
    for j in range(min(m, n)):
        p = j + int(np.argmax(np.abs(a[j:, j])))
        pivots.append(p + 1)
        a[[j, p]] = a[[p, j]]
        if a[j, j] == 0:
            info = info or j + 1
            continue
        a[j + 1:, j] /= a[j, j]
        a[j + 1:, j + 1:] -= np.outer(a[j + 1:, j], a[j, j + 1:])
    return a, pivots, info


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_lu_factorisations_match_a_reference_loop(shape):
    a = RNG.standard_normal((2,) + shape)
    P, L, U = LA.lu(f64(a))
    np.testing.assert_allclose((P @ L @ U).detach().numpy(), a, rtol=1e-12, atol=1e-12)
    k = min(shape)
    assert L.shape == (2, shape[0], k) and U.shape == (2, k, shape[1])
    LU, pivots, info = LA.lu_factor_ex(f64(a))
    assert pivots.dtype == tg.int32 and info.dtype == tg.int32 and info.tolist() == [0, 0]
    for i in range(2):
        ref, ref_pivots, _ = lu_reference(a[i])
        np.testing.assert_allclose(LU[i].detach().numpy(), ref, rtol=1e-12, atol=1e-12)
        assert pivots[i].tolist() == ref_pivots
    P2, L2, U2 = tg.lu_unpack(LU, pivots)
    for x, y in ((P, P2), (L, L2), (U, U2)):
        np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), atol=1e-15)
    A = f64(a)
    assert checks(lambda M: sum((t * (i + 1.0)).sum() for i, t in enumerate(LA.lu(M)[1:])), [A])
    assert checks(lambda M: LA.lu_factor(M).LU, [A])


def test_lu_of_a_singular_matrix_reports_info_and_lu_factor_refuses():
    s = f64([[[1.0, 2.0], [2.0, 4.0]], [[0.0, 1.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]], False)
    LU, pivots, info = LA.lu_factor_ex(s)
    assert info.tolist() == [2, 1, 0] and pivots.tolist() == [[2, 2], [1, 2], [1, 2]]
    np.testing.assert_array_equal(LU[0].numpy(), [[2.0, 4.0], [0.5, 0.0]])
    assert tg.lu(s, get_infos=True)[2].tolist() == [2, 1, 0] and len(s.lu()) == 2
    with pytest.raises(LinAlgError, match=r"Batch element 0.*U\[2,2\] is zero"):
        LA.lu_factor(s)
    with pytest.raises(LinAlgError, match="Batch element 0"):
        LA.lu_factor_ex(s, check_errors=True)
    with pytest.raises(ConfigError, match="pivot=False"):
        LA.lu(s, pivot=False)
    with pytest.raises(DTypeError, match="pivots must be an integer"):
        tg.lu_unpack(LU, LU[..., 0])
    with pytest.raises(ShapeError, match="pivots must have shape"):
        tg.lu_unpack(LU, pivots[:, :1])


def test_lu_solve_forms_and_gradients():
    a, b = well_conditioned(2, 4, 4), RNG.standard_normal((2, 4, 3))
    LU, pivots = LA.lu_factor(f64(a))
    np.testing.assert_allclose(LA.lu_solve(LU, pivots, f64(b)).detach().numpy(), np.linalg.solve(a, b), rtol=1e-10)
    at = np.swapaxes(a, -1, -2)
    np.testing.assert_allclose(LA.lu_solve(LU, pivots, f64(b), adjoint=True).detach().numpy(),
                               np.linalg.solve(at, b), rtol=1e-10)
    bt = np.swapaxes(b, -1, -2)
    np.testing.assert_allclose(LA.lu_solve(LU, pivots, f64(bt), left=False).detach().numpy(),
                               np.swapaxes(np.linalg.solve(at, b), -1, -2), rtol=1e-10)
    np.testing.assert_allclose(tg.lu_solve(f64(b), LU, pivots).detach().numpy(), np.linalg.solve(a, b), rtol=1e-10)
    A, B = f64(a), f64(b)
    assert checks(lambda M, R: LA.lu_solve(*LA.lu_factor(M), R), [A, B])
    assert checks(lambda M, R: LA.lu_solve(*LA.lu_factor(M), R, adjoint=True), [A, B])


# ---------------------------------------------------------------------------------------------
# *_ex, cond, tensorinv / tensorsolve, householder_product, vander, refusals
# ---------------------------------------------------------------------------------------------
def test_cholesky_ex_info_and_lapack_partial_factor():
    a = RNG.standard_normal((2, 3, 3))
    s = a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)
    L, info = LA.cholesky_ex(f64(s))
    assert info.dtype == tg.int32 and info.tolist() == [0, 0]
    np.testing.assert_allclose(L.detach().numpy(), np.linalg.cholesky(s), rtol=1e-12)
    assert np.allclose(LA.cholesky_ex(f64(s), upper=True).L.detach().numpy(), np.swapaxes(np.linalg.cholesky(s), -1, -2))
    bad = f64([[[4.0, 2.0], [2.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]], [[4.0, 0.0], [0.0, 1.0]]])
    L, info = LA.cholesky_ex(bad)
    assert info.tolist() == [2, 2, 0]
    np.testing.assert_array_equal(L.detach().numpy(), [[[2, 0], [1, 0]], [[1, 0], [2, -3]], [[2, 0], [0, 1]]])
    L.sum().backward()          # the good element's gradient flows; the failed ones get none
    np.testing.assert_array_equal(bad.grad.numpy()[:2], 0.0)
    with pytest.raises(LinAlgError, match="Batch element 0.*order 2"):
        LA.cholesky_ex(bad, check_errors=True)
    assert checks(lambda M: LA.cholesky_ex((M + M.transpose(-2, -1)) * 0.5).L, [f64(s)])


def test_inv_ex_and_solve_ex_info():
    s = f64([[[1.0, 2.0], [2.0, 4.0]], [[0.0, 1.0], [0.0, 0.0]], [[2.0, 0.0], [0.0, 4.0]]])
    inverse, info = LA.inv_ex(s)
    assert info.tolist() == [2, 1, 0]
    np.testing.assert_allclose(inverse[2].detach().numpy(), [[0.5, 0.0], [0.0, 0.25]])
    assert not np.isfinite(inverse[:2].detach().numpy()).all()
    result, info = LA.solve_ex(s, f64(np.ones((3, 2)), False))
    assert info.tolist() == [2, 1, 0] and result.shape == (3, 2)
    np.testing.assert_allclose(result[2].detach().numpy(), [0.5, 0.25])
    with pytest.raises(LinAlgError, match="Batch element 0"):
        LA.inv_ex(s, check_errors=True)
    with pytest.raises(LinAlgError, match="Batch element 0.*U\\[1,1\\] is zero"):
        LA.solve_ex(s[1:], f64(np.ones((2, 2, 1)), False), check_errors=True)
    a, b = well_conditioned(2, 3, 3), RNG.standard_normal((2, 3, 2))
    inverse, info = LA.inv_ex(f64(a))
    np.testing.assert_allclose(inverse.detach().numpy(), np.linalg.inv(a), rtol=1e-12)
    assert checks(lambda M: LA.inv_ex(M).inverse, [f64(a)])
    assert checks(lambda M, R: LA.solve_ex(M, R, left=False).result, [f64(a), f64(np.swapaxes(b, -1, -2))])


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf])
def test_cond_matches_numpy(p):
    a = well_conditioned(2, 4, 4)
    np.testing.assert_allclose(LA.cond(f64(a), p).detach().numpy(), np.linalg.cond(a, p), rtol=1e-12)
    assert checks(lambda M: LA.cond(M, p), [f64(a[0])])


def test_cond_singular_rectangular_and_bad_p():
    assert LA.cond(f64([[1.0, 2.0], [2.0, 4.0]], False), "fro").item() == math.inf
    r = RNG.standard_normal((5, 3))
    np.testing.assert_allclose(LA.cond(f64(r)).detach().numpy(), np.linalg.cond(r), rtol=1e-12)
    with pytest.raises(ShapeError, match="square"):
        LA.cond(f64(r), "fro")
    with pytest.raises(ConfigError, match="p must be one of"):
        LA.cond(f64(np.eye(2)), 3)
    assert LA.cond(f64(np.zeros((2, 0, 0)), False), "fro").tolist() == [0.0, 0.0]


def test_empty_matrices():
    assert [t.shape for t in LA.lu(f64(np.zeros((0, 3)), False))] == [(0, 0), (0, 0), (0, 3)]
    assert [t.shape for t in LA.lu_factor_ex(f64(np.zeros((0, 3, 3)), False))] == [(0, 3, 3), (0, 3), (0,)]
    assert [t.shape for t in LA.cholesky_ex(f64(np.zeros((0, 0)), False))] == [(0, 0), ()]
    assert LA.solve_triangular(f64(np.zeros((0, 3, 3)), False), f64(np.zeros((3, 2)), False), upper=True).shape == (0, 3, 2)


def test_tensorinv_tensorsolve_match_numpy():
    a = RNG.standard_normal((4, 6, 8, 3))
    np.testing.assert_allclose(LA.tensorinv(f64(a)).detach().numpy(), np.linalg.tensorinv(a), rtol=1e-9, atol=1e-12)
    a2, b2 = RNG.standard_normal((6, 4, 2, 3, 4)), RNG.standard_normal((6, 4))
    np.testing.assert_allclose(LA.tensorsolve(f64(a2), f64(b2)).detach().numpy(), np.linalg.tensorsolve(a2, b2), rtol=1e-9)
    a3 = RNG.standard_normal((2, 3, 4, 6))
    np.testing.assert_allclose(LA.tensorsolve(f64(a3), f64(b2[:3]), dims=(0,)).detach().numpy(),
                               np.linalg.tensorsolve(a3, b2[:3], axes=(0,)), rtol=1e-9)
    assert checks(lambda M: LA.tensorinv(M, ind=1), [f64(well_conditioned(4, 4).reshape(4, 2, 2))])
    assert checks(LA.tensorsolve, [f64(well_conditioned(6, 6).reshape(6, 2, 3)), f64(RNG.standard_normal(6))])
    with pytest.raises(ShapeError, match="must equal the product"):
        LA.tensorinv(f64(np.ones((2, 3))), ind=1)
    with pytest.raises(ShapeError, match="must start with B's shape"):
        LA.tensorsolve(f64(np.ones((2, 3))), f64(np.ones(3)))


def test_householder_product_rebuilds_q_from_numpy_raw_qr():
    a = RNG.standard_normal((5, 3))
    h, tau = np.linalg.qr(a, mode="raw")
    Q = LA.householder_product(f64(h.T), f64(tau))
    np.testing.assert_allclose(Q.detach().numpy(), np.linalg.qr(a)[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tg.orgqr(f64(h.T), f64(tau)).detach().numpy(), Q.detach().numpy())
    assert checks(LA.householder_product, [f64(RNG.standard_normal((2, 4, 3))), f64(RNG.standard_normal((2, 2)))])
    with pytest.raises(ShapeError, match="n <= m"):
        LA.householder_product(f64(np.ones((2, 3))), f64(np.ones(2)))


def test_vander_matmul_norms_and_complex_refusals():
    x = RNG.standard_normal((2, 3))
    V = LA.vander(f64(x), N=4)
    np.testing.assert_allclose(V.detach().numpy(), np.stack([np.vander(r, 4, increasing=True) for r in x]))
    assert LA.vander(tg.tensor([2, 3])).dtype == tg.int64 and LA.vander(tg.tensor([2, 3])).tolist() == [[1, 2], [1, 3]]
    assert checks(lambda t: LA.vander(t, N=4), [f64(x)])
    with pytest.raises(ShapeError, match="N greater than 1"):
        LA.vander(f64(x), N=1)
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))
    np.testing.assert_allclose(LA.matmul(f64(a), f64(b)).detach().numpy(), a @ b)
    np.testing.assert_allclose(tg.nuclear_norm(f64(a)).item(), np.linalg.norm(a, "nuc"))
    np.testing.assert_allclose(tg.nuclear_norm(f64(a), True).shape, (1, 1))
    np.testing.assert_allclose(tg.frobenius_norm(f64(a), (0, 1)).item(), np.linalg.norm(a))
    for name in ("eig", "eigvals"):             # complex results now (test_port_latent_editing26)
        assert getattr(LA, name)(f64(np.eye(2)))[0].dtype == tg.complex128


# ---------------------------------------------------------------------------------------------
# tg.special: incomplete gamma
# ---------------------------------------------------------------------------------------------
def test_gammainc_closed_forms_recurrence_and_edges():
    x = np.array([1e-3, 0.1, 0.7, 1.0, 2.5, 8.0, 30.0])
    P1 = tg.special.gammainc(f64(np.ones_like(x), False), f64(x, False)).numpy()
    np.testing.assert_allclose(P1, -np.expm1(-x), rtol=1e-14)
    Ph = tg.special.gammainc(f64(np.full_like(x, 0.5), False), f64(x, False)).numpy()
    np.testing.assert_allclose(Ph, [math.erf(math.sqrt(v)) for v in x], rtol=1e-13)
    for a in (0.3, 2.2, 7.5, 40.0):      # P(a + 1, x) = P(a, x) - x^a e^-x / Gamma(a + 1)
        Pa = tg.special.gammainc(f64(np.full_like(x, a), False), f64(x, False)).numpy()
        Pa1 = tg.special.gammainc(f64(np.full_like(x, a + 1), False), f64(x, False)).numpy()
        np.testing.assert_allclose(Pa, Pa1 + np.exp(a * np.log(x) - x - math.lgamma(a + 1)), rtol=1e-12)
        Q = tg.special.gammaincc(f64(np.full_like(x, a), False), f64(x, False)).numpy()
        np.testing.assert_allclose(Q + Pa, 1.0, rtol=1e-14)
    a = tg.tensor([0.0, 0.0, -1.0, 1.0, 1.0, math.inf, 2.0])
    z = tg.tensor([0.0, 1.0, 1.0, -1.0, 0.0, 1.0, math.inf])
    np.testing.assert_array_equal(tg.special.gammainc(a, z).numpy(), [np.nan, 1, np.nan, np.nan, 0, 0, 1])
    np.testing.assert_array_equal(tg.igammac(a, z).numpy(), [np.nan, 0, np.nan, np.nan, 1, 1, 0])
    assert tg.special.gammainc(tg.tensor([1, 2]), tg.tensor([1.0, 2.0])).dtype == tg.float32
    with pytest.raises(NotImplementedError):                # two integer tensors: torch refuses
        tg.special.gammainc(tg.tensor([1, 2]), tg.tensor([1, 2]))
    assert tg.tensor([2.0]).igamma(tg.tensor([1.0])).item() == pytest.approx(1 - 2 / math.e, rel=1e-6)


def test_gammainc_gradients_in_x_only():
    a, x = f64([0.7, 2.5, 6.0], False), f64([0.4, 3.0, 5.5])
    for f in (tg.special.gammainc, tg.special.gammaincc):
        assert checks(lambda t: f(a, t), [x])
    with pytest.raises(TensorganError, match="input \\(a\\) is not implemented"):
        tg.special.gammainc(f64([1.0]), f64([1.0])).sum().backward()
    with pytest.raises(Exception, match="must be a Tensor"):
        tg.special.gammainc(f64([1.0]), 1.0)


# ---------------------------------------------------------------------------------------------
# tg.special: Bessel functions (no gradients, as torch)
# ---------------------------------------------------------------------------------------------
def bessel_j_integral(n, x, points=4096):
    """J_n(x) = 1/pi int_0^pi cos(n t - x sin t) dt (trapezoidal: exact for this periodic integrand)."""
    t = np.linspace(0, 2 * np.pi, points, endpoint=False)
    return np.mean(np.cos(n * t[:, None] - x[None, :] * np.sin(t[:, None])), axis=0)


def test_bessel_j_against_the_integral_and_y_by_the_wronskian():
    x = np.concatenate([RNG.uniform(0.01, 40.0, 200), [0.5, 1.0, 5.0, 24.99, 25.01, 300.0]])
    j0 = tg.special.bessel_j0(f64(x, False)).numpy()
    j1 = tg.special.bessel_j1(f64(x, False)).numpy()
    np.testing.assert_allclose(j0, bessel_j_integral(0, x), atol=2e-15)
    np.testing.assert_allclose(j1, bessel_j_integral(1, x), atol=2e-15)
    y0 = tg.special.bessel_y0(f64(x, False)).numpy()
    y1 = tg.special.bessel_y1(f64(x, False)).numpy()
    np.testing.assert_allclose(j1 * y0 - j0 * y1, 2 / (np.pi * x), rtol=1e-13)
    np.testing.assert_allclose([y0[-5], y1[-5]], [0.08825696421567696, -0.7812128213002887], rtol=1e-14)
    edge = f64([0.0, -2.0, math.nan], False)
    np.testing.assert_allclose(tg.special.bessel_j0(edge).numpy()[:2], [1.0, bessel_j_integral(0, np.array([2.0]))[0]], atol=1e-15)
    np.testing.assert_allclose(tg.special.bessel_j1(edge).numpy()[1], -bessel_j_integral(1, np.array([2.0]))[0], atol=1e-15)
    assert tg.special.bessel_y0(edge).numpy()[0] == -np.inf and np.isnan(tg.special.bessel_y1(edge).numpy()[1:]).all()


def test_modified_bessel_known_values_wronskian_and_scaling():
    x = np.concatenate([np.exp(RNG.uniform(-10, 6, 200)), [1.0]])
    i0 = tg.special.modified_bessel_i0(f64(x, False)).numpy()
    i1 = tg.special.modified_bessel_i1(f64(x, False)).numpy()
    k0 = tg.special.modified_bessel_k0(f64(x, False)).numpy()
    k1 = tg.special.modified_bessel_k1(f64(x, False)).numpy()
    np.testing.assert_allclose(i0, np.i0(x), rtol=1e-14)
    np.testing.assert_allclose(i0 * k1 + i1 * k0, 1 / x, rtol=1e-13)
    np.testing.assert_allclose([k0[-1], k1[-1]], [0.42102443824070833, 0.6019072301972346], rtol=1e-14)
    k0e = tg.special.scaled_modified_bessel_k0(f64(x, False)).numpy()
    np.testing.assert_allclose(k0e, k0 * np.exp(x), rtol=1e-13)
    big = np.array([1e3, 1e6])
    k1e = tg.special.scaled_modified_bessel_k1(f64(big, False)).numpy()
    mu = 4.0
    series = 1 + (mu - 1) / (8 * big) + (mu - 1) * (mu - 9) / (2 * (8 * big) ** 2)
    np.testing.assert_allclose(k1e, np.sqrt(np.pi / (2 * big)) * series, rtol=1e-9)
    assert tg.special.modified_bessel_k0(f64([0.0, -1.0], False)).numpy()[0] == np.inf
    xs = np.array([0.0, 1e-9, 0.3, -7.0, np.inf])
    np.testing.assert_allclose(tg.special.spherical_bessel_j0(f64(xs, False)).numpy(),
                               [1.0, 1.0, np.sin(0.3) / 0.3, np.sin(-7.0) / -7.0, 0.0], rtol=1e-15)


def test_airy_ai_taylor_series_ode_and_asymptotics():
    """Ai(x) = Ai(0) f(x) + Ai'(0) g(x) (DLMF 9.4.1), Ai'' = x Ai (finite differences), and
    Ai(x) ~ e^-zeta / (2 sqrt(pi) x^(1/4)) (1 - 5 / (72 zeta)) for large x."""
    ai0, aip0 = 0.355028053887817239, -0.258819403792806798
    x = np.linspace(-2.0, 2.0, 41)
    f, g = np.zeros_like(x), np.zeros_like(x)
    tf, tg_ = np.ones_like(x), x.copy()
    for k in range(40):
        f, g = f + tf, g + tg_
        tf = tf * x ** 3 / ((3 * k + 2) * (3 * k + 3))
        tg_ = tg_ * x ** 3 / ((3 * k + 3) * (3 * k + 4))
    np.testing.assert_allclose(tg.special.airy_ai(f64(x, False)).numpy(), ai0 * f + aip0 * g, rtol=1e-13, atol=1e-15)
    xs, h = np.array([-25.0, -12.0, -9.0, -3.3, 0.7, 4.0]), 1e-3
    ai = lambda v: tg.special.airy_ai(f64(v, False)).numpy()
    second = (ai(xs + h) - 2 * ai(xs) + ai(xs - h)) / h ** 2
    np.testing.assert_allclose(second, xs * ai(xs), atol=1e-4)
    big = np.array([30.0, 80.0])
    zeta = 2 / 3 * big ** 1.5
    approx = np.exp(-zeta) / (2 * np.sqrt(np.pi) * big ** 0.25) * (1 - 5 / (72 * zeta) + 385 / (10368 * zeta ** 2))
    np.testing.assert_allclose(ai(big), approx, rtol=1e-7)
    assert np.isnan(ai(np.array([np.inf, -np.inf, np.nan]))).all()


def test_special_functions_have_no_gradient_and_keep_float32():
    x = tg.tensor([0.5, 2.0], requires_grad=True)
    for name in ("bessel_j0", "bessel_y1", "modified_bessel_k1", "spherical_bessel_j0"):
        out = getattr(tg.special, name)(x)
        assert not out.requires_grad and out.dtype == tg.float32
    assert not tg.special.chebyshev_polynomial_t(x, 3).requires_grad
    with pytest.raises(Exception, match="must be a Tensor"):
        tg.special.bessel_j0(1.0)


# ---------------------------------------------------------------------------------------------
# tg.special: orthogonal polynomials
# ---------------------------------------------------------------------------------------------
def test_chebyshev_polynomials_trigonometric_forms():
    theta = RNG.uniform(0.1, 3.0, 50)
    c = np.cos(theta)
    for n in range(0, 12):
        cases = {"t": np.cos(n * theta), "u": np.sin((n + 1) * theta) / np.sin(theta),
                 "v": np.cos((n + 0.5) * theta) / np.cos(theta / 2),
                 "w": np.sin((n + 0.5) * theta) / np.sin(theta / 2)}
        for kind, ref in cases.items():
            got = getattr(tg.special, f"chebyshev_polynomial_{kind}")(f64(c, False), n).numpy()
            np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
            shifted = getattr(tg.special, f"shifted_chebyshev_polynomial_{kind}")(f64((c + 1) / 2, False), n).numpy()
            np.testing.assert_allclose(shifted, ref, rtol=1e-10, atol=1e-12)


def test_other_polynomials_match_numpy_series():
    x = RNG.uniform(-2, 2, 40)
    for n in range(0, 15):
        unit = np.eye(n + 1)[n]
        for name, ref in (("hermite_polynomial_h", hermite.hermval(x, unit)),
                          ("hermite_polynomial_he", hermite_e.hermeval(x, unit)),
                          ("laguerre_polynomial_l", laguerre.lagval(x, unit)),
                          ("legendre_polynomial_p", legendre.legval(x, unit))):
            got = getattr(tg.special, name)(f64(x, False), tg.tensor(n)).numpy()
            np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-11)


def test_polynomial_degrees_dtypes_and_limits():
    x = tg.tensor([0.3])
    assert tg.special.chebyshev_polynomial_t(x, tg.tensor([-1, 0, 1])).tolist() == pytest.approx([0.0, 1.0, 0.3])
    assert tg.special.chebyshev_polynomial_t(f64([0.5], False), 2.7).item() == pytest.approx(-0.5)   # n -> 2
    assert tg.special.hermite_polynomial_h(2.0, tg.tensor([1, 2, 3])).tolist() == [4.0, 14.0, 40.0]
    assert tg.special.hermite_polynomial_h(2.0, tg.tensor([1, 2, 3])).dtype == tg.float32
    assert tg.special.legendre_polynomial_p(x, f64([2.0], False)).dtype == tg.float64
    assert np.isnan(tg.special.hermite_polynomial_h(x, 200).item())                    # torch's limit
    assert np.isnan(tg.special.hermite_polynomial_he(f64([0.3], False), 600).item())
    with pytest.raises(ShapeError, match="do not broadcast"):
        tg.special.legendre_polynomial_p(tg.tensor([0.1, 0.2]), tg.tensor([1, 2, 3]))
