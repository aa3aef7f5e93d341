"""Session 24b: the last missing names of torch's submodules (distributions, linalg, autograd,
func, utils.checkpoint, testing, optim, parametrize), checked from first principles."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.distributions as D
from tensorgan.distributions import constraints, transforms
from tensorgan.errors import ShapeError


def _np(t):
    return t.detach().numpy()


def _num_jacobian(f, x, eps=1e-6):
    """Central differences of f: R^n -> R^m at the float64 vector x."""
    cols = []
    for i in range(x.size):
        d = np.zeros_like(x)
        d[i] = eps
        cols.append((f(x + d) - f(x - d)) / (2 * eps))
    return np.stack(cols, -1)


# ---------------------------------------------------------------- constraints

def test_square_and_symmetric_on_non_square_matrices_say_false():
    assert _np(constraints.square.check(tg.zeros(2, 3, 3))).tolist() == [True, True]
    assert _np(constraints.square.check(tg.zeros(2, 3, 4))).tolist() == [False, False]
    assert _np(constraints.symmetric.check(tg.zeros(2, 3, 4))).tolist() == [False, False]


def test_positive_semidefinite_takes_singular_matrices_positive_definite_does_not():
    v = tg.tensor(np.array([[[1.0, 1.0], [1.0, 1.0]], [[2.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]))
    assert _np(constraints.positive_semidefinite.check(v)).tolist() == [True, True, False]
    assert _np(constraints.positive_definite.check(v)).tolist() == [False, True, False]


def test_corr_cholesky_and_multinomial_constraints():
    c = np.cos(0.3)
    good = np.array([[1.0, 0.0], [np.sin(0.3), c]])
    bad = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert _np(constraints.corr_cholesky.check(tg.tensor(np.stack([good, bad])))).tolist() == [True, False]
    assert constraints.corr_cholesky.event_dim == 2
    m = constraints.multinomial(4)
    assert m.is_discrete and m.event_dim == 1
    assert _np(m.check(tg.tensor([[1.0, 2, 0], [3, 0, -1], [2, 2, 2]]))).tolist() == [True, False, False]


def test_cat_and_stack_constraints_check_each_block():
    c = constraints.cat([constraints.positive, constraints.unit_interval], dim=-1, lengths=[1, 2])
    v = tg.tensor([[1.0, 0.5, 0.5], [-1.0, 0.5, 2.0]])
    assert _np(c.check(v)).tolist() == [[True, True, True], [False, True, False]]
    assert c.event_dim == 0 and not c.is_discrete
    s = constraints.stack([constraints.positive, constraints.nonnegative_integer], dim=0)
    assert s.is_discrete
    assert _np(s.check(tg.tensor([[1.0, -1.0], [2.0, 0.5]]))).tolist() == [[True, False], [True, False]]
    assert constraints.stack([constraints.simplex], dim=-2).event_dim == 2
    assert constraints.stack([constraints.simplex], dim=-1).event_dim == 1
    with pytest.raises(ShapeError, match="2 constraints"):
        constraints.stack([constraints.real, constraints.real], dim=0).check(tg.zeros(3))


def test_mixture_same_family_support_puts_the_component_dim_back():
    lo, hi = tg.zeros(2, 3), tg.tensor([[1.0, 2, 3], [4, 5, 6]])
    mix = D.MixtureSameFamily(D.Categorical(tg.ones(2, 3)), D.Uniform(lo, hi))
    support = mix.support
    assert isinstance(support, constraints.MixtureSameFamilyConstraint)
    # a value is in the support where every component's interval holds it
    assert _np(support.check(tg.tensor([0.5, 4.5]))).tolist() == [True, False]
    assert _np(support.check(tg.tensor([[0.5, 4.0], [2.0, 3.0]]))).tolist() == [[True, True], [False, True]]


# ---------------------------------------------------------------- transforms

def test_corr_cholesky_transform_values_inverse_and_log_det():
    t = transforms.CorrCholeskyTransform()
    x = np.random.RandomState(0).randn(6)
    y = t(tg.tensor(x))
    yn = _np(y)
    assert yn.shape == (4, 4) and np.allclose(np.triu(yn, 1), 0)
    assert np.allclose((yn ** 2).sum(-1), 1) and (np.diag(yn) > 0).all()
    assert bool(constraints.corr_cholesky.check(y))
    assert np.allclose(_np(t.inv(y)), x)
    # log|det| against the Jacobian of x -> the strict lower triangle of y
    rows, cols = np.tril_indices(4, -1)

    def f(v):
        return _np(t(tg.tensor(v)))[rows, cols]
    expected = np.linalg.slogdet(_num_jacobian(f, x))[1]
    assert np.isclose(float(t.log_abs_det_jacobian(tg.tensor(x), y)), expected, atol=1e-6)
    assert t.forward_shape((5, 6)) == (5, 4, 4) and t.inverse_shape((5, 4, 4)) == (5, 6)
    with pytest.raises(ShapeError):
        t.forward_shape((5,))
    assert isinstance(D.biject_to(constraints.corr_cholesky), transforms.CorrCholeskyTransform)


def test_corr_cholesky_transform_gradient():
    x = tg.tensor(np.random.RandomState(1).randn(3), requires_grad=True)
    t = transforms.CorrCholeskyTransform()
    assert tg.autograd.gradcheck(lambda v: t.log_abs_det_jacobian(v, t(v)) + t(v).sum(), (x,))


def test_positive_definite_transform():
    t = transforms.PositiveDefiniteTransform()
    x = np.random.RandomState(2).randn(2, 3, 3)
    y = t(tg.tensor(x))
    assert bool(constraints.positive_definite.check(y).all())
    expected = np.tril(x, -1) + np.eye(3) * np.exp(np.diagonal(x, 0, -2, -1))[..., None, :]
    assert np.allclose(_np(y), expected @ np.swapaxes(expected, -1, -2))
    assert np.allclose(_np(t.inv(y)), np.tril(x))
    assert t == transforms.PositiveDefiniteTransform()
    assert isinstance(D.transform_to(constraints.positive_semidefinite), transforms.PositiveDefiniteTransform)
    with pytest.raises(NotImplementedError):
        D.biject_to(constraints.positive_definite)


def test_cat_transform_blocks_and_log_det():
    t = transforms.CatTransform([transforms.ExpTransform(), transforms.identity_transform,
                                 transforms.AffineTransform(1.0, 3.0)], dim=1, lengths=[2, 1, 2])
    x = np.random.RandomState(3).randn(3, 5)
    y = t(tg.tensor(x))
    expected = np.concatenate([np.exp(x[:, :2]), x[:, 2:3], 1 + 3 * x[:, 3:]], 1)
    assert np.allclose(_np(y), expected)
    assert np.allclose(_np(t.inv(y)), x)
    ld = _np(t.log_abs_det_jacobian(tg.tensor(x), y))
    assert np.allclose(ld, np.concatenate([x[:, :2], 0 * x[:, 2:3], np.full((3, 2), math.log(3))], 1))
    assert _np(t.domain.check(tg.tensor(x))).all() and t.bijective
    # a block transform with event dims: log|det| summed into one value per row
    t2 = transforms.CatTransform([transforms.IndependentTransform(transforms.ExpTransform(), 1)] * 2,
                                 dim=-1, lengths=[2, 3])
    assert np.allclose(_np(t2.log_abs_det_jacobian(tg.tensor(x), t2(tg.tensor(x)))), x[:, :2].sum(1) + x[:, 2:].sum(1))
    with pytest.raises(ShapeError, match="must equal 5"):
        t(tg.zeros(3, 4))
    c = constraints.cat([constraints.positive, constraints.interval(0.0, 2.0)], -1, [1, 2])
    assert isinstance(D.biject_to(c), transforms.CatTransform)
    assert bool(c.check(D.biject_to(c)(tg.tensor(x[:, :3]))).all())


def test_stack_transform():
    t = transforms.StackTransform([transforms.ExpTransform(), transforms.SigmoidTransform()], dim=-1)
    x = np.random.RandomState(4).randn(4, 2)
    y = t(tg.tensor(x))
    assert np.allclose(_np(y), np.stack([np.exp(x[:, 0]), 1 / (1 + np.exp(-x[:, 1]))], -1))
    assert np.allclose(_np(t.inv(y)), x)
    s = 1 / (1 + np.exp(-x[:, 1]))
    assert np.allclose(_np(t.log_abs_det_jacobian(tg.tensor(x), y)), np.stack([x[:, 0], np.log(s * (1 - s))], -1))
    c = constraints.stack([constraints.positive, constraints.unit_interval], dim=-1)
    assert isinstance(D.transform_to(c), transforms.StackTransform)
    assert bool(c.check(D.transform_to(c)(tg.tensor(x))).all())


def test_cumulative_distribution_transform():
    base = D.Normal(tg.tensor(0.5, dtype=tg.float64), tg.tensor(2.0, dtype=tg.float64))
    t = transforms.CumulativeDistributionTransform(base)
    x = tg.tensor([-1.0, 0.5, 3.0], dtype=tg.float64)
    y = t(x)
    assert np.allclose(_np(y), [0.5 * (1 + math.erf((v - 0.5) / (2 * math.sqrt(2)))) for v in (-1.0, 0.5, 3.0)])
    assert np.allclose(_np(t.inv(y)), _np(x))
    assert np.allclose(_np(t.log_abs_det_jacobian(x, y)), _np(base.log_prob(x)))
    assert t.codomain is constraints.unit_interval and t.domain is constraints.real and t.sign == 1
    assert t.with_cache(1)._cache_size == 1


def test_tril_vec_round_trip():
    from tensorgan.distributions.utils import tril_matrix_to_vec, vec_to_tril_matrix
    m = np.arange(16.0).reshape(4, 4)
    assert _np(tril_matrix_to_vec(tg.tensor(m), -1)).tolist() == [4.0, 8, 9, 12, 13, 14]
    assert np.array_equal(_np(vec_to_tril_matrix(tril_matrix_to_vec(tg.tensor(m)))), np.tril(m))
    with pytest.raises(ShapeError):
        vec_to_tril_matrix(tg.zeros(4))
