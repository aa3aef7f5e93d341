"""Session 29's differential fuzz of tensorgan.linalg against torch: what it found, checked
against NumPy and invariants (no torch here)."""
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import ConfigError, DTypeError, EmptyReductionError, LinAlgOptionError

LA = tg.linalg


def f64(a):
    return tg.tensor(np.asarray(a, dtype=np.float64))


def test_lstsq_drivers_fill_residuals_rank_and_singular_values_as_torch():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((3, 5, 2)), rng.standard_normal((3, 5, 4))
    X = np.linalg.pinv(A) @ B
    squared = ((A @ X - B) ** 2).sum(-2)
    for driver in ("gelsd", "gelss"):
        r = LA.lstsq(f64(A), f64(B), driver=driver)
        np.testing.assert_allclose(r.residuals.numpy(), squared, rtol=1e-10)
        np.testing.assert_allclose(r.singular_values.numpy(), np.linalg.svd(A, compute_uv=False),
                                   rtol=1e-12)
        assert r.rank.numpy().tolist() == [2, 2, 2]
    gels = LA.lstsq(f64(A), f64(B), driver="gels")
    assert gels.rank.shape == (0,) and gels.singular_values.shape == (0,)
    np.testing.assert_allclose(gels.residuals.numpy(), squared, rtol=1e-10)
    default = LA.lstsq(f64(A), f64(B))          # 'gelsy': the rank only
    assert default.residuals.shape == (0,) and default.singular_values.shape == (0,)


def test_lstsq_residuals_empty_for_wide_or_rank_deficient_and_not_differentiable():
    rng = np.random.default_rng(1)
    wide = LA.lstsq(f64(rng.standard_normal((2, 4))), f64(rng.standard_normal((2, 1))), driver="gelsd")
    assert wide.residuals.shape == (0,) and wide.singular_values.shape == (2,)
    A = rng.standard_normal((5, 2))
    deficient = LA.lstsq(f64(np.concatenate([A, A[:, :1]], 1)), f64(rng.standard_normal((5, 2))),
                         driver="gelss")
    assert deficient.residuals.shape == (0,) and int(deficient.rank) == 2
    Ag = tg.tensor(A, requires_grad=True)
    r = LA.lstsq(Ag, f64(rng.standard_normal((5, 2))), driver="gelsd")
    assert r.solution.requires_grad and not r.residuals.requires_grad
    assert not r.singular_values.requires_grad


def test_lstsq_unknown_driver_is_a_runtime_error_naming_it():
    with pytest.raises(LinAlgOptionError, match="'gesvd'") as info:
        LA.lstsq(f64(np.eye(3)), f64(np.ones((3, 1))), driver="gesvd")
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ConfigError)


def test_lu_without_pivoting_is_a_runtime_error_as_torch():
    with pytest.raises(RuntimeError, match="pivot"):
        LA.lu(f64(np.eye(3) * 2), pivot=False)


@pytest.mark.parametrize("p", [-1, -2, -0.5, -math.inf])
@pytest.mark.parametrize("shape, dim", [((0,), None), ((0, 5), None), ((5, 0), -1), ((5, 0), (0, 1))])
def test_negative_order_norm_over_nothing_raises(p, shape, dim):
    x = tg.zeros(shape, dtype=tg.float64)
    with pytest.raises(EmptyReductionError):
        LA.vector_norm(x, p, dim=dim)
    with pytest.raises(RuntimeError):
        x.norm(p, dim=dim)


def test_negative_order_norm_over_nonempty_dims_of_an_empty_tensor_is_empty():
    x = tg.zeros((0, 5), dtype=tg.float64)
    assert LA.vector_norm(x, -1, dim=-1).shape == (0,)
    assert float(LA.vector_norm(x, 0.5)) == 0.0 and float(LA.vector_norm(x, 1)) == 0.0


def test_norm_dtype_may_only_widen_as_torch():
    x = np.arange(6.0).reshape(2, 3)
    with pytest.raises(DTypeError, match="narrow"):
        LA.vector_norm(f64(x), dtype=tg.float32)
    with pytest.raises(DTypeError, match="narrow"):
        LA.matrix_norm(f64(x), dtype=tg.float32)
    with pytest.raises(DTypeError):
        LA.norm(f64(x), dtype=tg.float32)
    wide = LA.vector_norm(tg.tensor(x.astype(np.float32)), dtype=tg.float64)
    assert wide.dtype == tg.float64 and float(wide) == pytest.approx(np.linalg.norm(x))


def test_cholesky_refuses_nan_as_lapack_does():
    nan = f64([[np.nan, 0.0], [0.0, 1.0]])
    with pytest.raises(LA.LinAlgError, match="positive-definite"):
        LA.cholesky(nan)
    batch = f64(np.stack([np.eye(2), [[1.0, 0.0], [0.0, np.nan]]]))
    with pytest.raises(LA.LinAlgError, match="Batch element 1"):
        LA.cholesky(batch)
    assert LA.cholesky_ex(nan).info.numpy().tolist() == 1
    assert LA.cholesky_ex(batch).info.numpy().tolist() == [0, 2]


@pytest.mark.parametrize("call", [
    lambda A: LA.qr(A, mode="full"), lambda A: LA.eigh(A, UPLO="X"),
    lambda A: LA.matrix_norm(A, ord=3), lambda A: LA.cond(A, p=3),
    lambda A: LA.tensorinv(A, ind=0)])
def test_unknown_linalg_options_are_runtime_errors_as_torch(call):
    with pytest.raises(LinAlgOptionError) as info:
        call(f64(np.eye(3)))
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ValueError)


def test_vector_norm_string_order_is_a_type_error_as_torch():
    with pytest.raises(TypeError, match="'fro'"):
        LA.vector_norm(f64(np.ones(3)), ord="fro")


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0), (2, 0, 3)])
@pytest.mark.parametrize("ord", [2, 1, math.inf, "nuc", "fro"])
def test_largest_value_matrix_norms_of_empty_matrices_are_zero(shape, ord):
    A = tg.zeros(shape, dtype=tg.float64, requires_grad=True)
    value = LA.matrix_norm(A, ord)
    assert value.shape == shape[:-2] and not value.numpy().any()
    value.sum().backward()
    assert A.grad is None or not A.grad.numpy().any()


@pytest.mark.parametrize("ord", [-2, -1, -math.inf])
def test_smallest_value_matrix_norms_of_empty_matrices_still_raise(ord):
    shape = (3, 0) if ord == -1 else (0, 3)
    with pytest.raises(RuntimeError):
        LA.matrix_norm(tg.zeros(shape, dtype=tg.float64), ord)
