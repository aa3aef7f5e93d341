"""Gaps found porting tabular / time-series / graph GANs (medGAN, DoppelGANger, NetGAN, TableGAN)
beside torch: the sparse ops a graph GAN's score-matrix code and GNN helpers reach for
(``tg.sparse.softmax`` / ``log_softmax`` / ``addmm``, ``x.sparse_mask``, the CSR layout,
``sparse_dim`` / ``dense_dim``)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import ConfigError, SparseLayoutError

X = np.array([[0.0, 2.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, -1.0, 0.0]])
G = np.array([[0.3, -1.2, 0.7, 0.4], [1.0, 2.0, 3.0, 4.0], [-0.5, 0.9, 0.2, -0.8]])


def _softmax_over_nonzero(x, dim, log=False):
    """NumPy reference: softmax along ``dim`` over the nonzero elements, the rest 0."""
    x = np.moveaxis(x, dim, -1)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape[:-1]):
        keep = x[idx] != 0
        if keep.any():
            z = x[idx][keep] - x[idx][keep].max()
            out[idx][keep] = z - np.log(np.exp(z).sum()) if log else np.exp(z) / np.exp(z).sum()
    return np.moveaxis(out, -1, dim)


def _softmax_grad(x, g, dim, log=False):
    """NumPy reference gradient of sum(g * softmax_specified(x)) w.r.t. the specified elements."""
    y = np.moveaxis(_softmax_over_nonzero(x, dim), dim, -1)
    x, g = np.moveaxis(x, dim, -1), np.moveaxis(g, dim, -1)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape[:-1]):
        keep = x[idx] != 0
        yk, gk = y[idx][keep], g[idx][keep]
        out[idx][keep] = gk - yk * gk.sum() if log else yk * (gk - (gk * yk).sum())
    return np.moveaxis(out, -1, dim)


# -- tg.sparse.softmax / log_softmax --------------------------------------------------------------
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sparse_softmax_is_over_the_specified_elements(dim, log):
    # torch.sparse.softmax treats unspecified elements as -inf: a row's result sums to 1 over its
    # nonzeros, an empty row stays empty; tensorgan had no tg.sparse.softmax / log_softmax
    x = tg.tensor(X, requires_grad=True)
    fn = tg.sparse.log_softmax if log else tg.sparse.softmax
    y = fn(x.to_sparse(), dim)
    assert y.is_sparse
    np.testing.assert_allclose(y.to_dense().detach().numpy(), _softmax_over_nonzero(X, dim, log),
                               rtol=1e-12, atol=1e-15)
    (y.to_dense() * tg.tensor(G)).sum().backward()
    # torch 2.x's own backward is wrong for a negative dim (its rows do not sum to 0); this is
    # the true gradient, the same for dim=1 and dim=-1
    np.testing.assert_allclose(x.grad.numpy(), _softmax_grad(X, G, dim, log), rtol=1e-12, atol=1e-15)


def test_sparse_softmax_pattern_dtype_and_finite_gradient():
    y = tg.sparse.softmax(tg.tensor(X).to_sparse(), 1, dtype=tg.float32)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.indices().numpy(), tg.tensor(X).to_sparse().indices().numpy())
    x = tg.tensor(np.zeros((2, 3)), requires_grad=True)           # nothing specified at all
    tg.sparse.softmax(x.to_sparse(), 1).to_dense().sum().backward()
    assert np.isfinite(x.grad.numpy()).all() and not x.grad.numpy().any()


@pytest.mark.parametrize("fn", [tg.sparse.softmax, tg.sparse.log_softmax])
def test_sparse_softmax_of_a_dense_tensor_is_refused_as_torch(fn):
    # torch: NotImplementedError "Could not run 'aten::_sparse_softmax' ... 'CPU' backend"
    with pytest.raises(NotImplementedError, match="sparse COO") as info:
        fn(tg.tensor(X), 1)
    assert isinstance(info.value, (RuntimeError, ConfigError))


# -- tg.sparse.addmm, x.sparse_mask -------------------------------------------------------------
def test_sparse_addmm():
    ones = lambda *shape: tg.ones(*shape, dtype=tg.float64)
    out = tg.sparse.addmm(ones(3, 2), tg.tensor(X).to_sparse(), ones(4, 2), beta=0.5, alpha=2.0)
    np.testing.assert_allclose(out.numpy(), 0.5 + 2.0 * X @ np.ones((4, 2)))
    assert not out.is_sparse
    with pytest.raises(RuntimeError, match="dense"):              # torch: expected strided result
        tg.sparse.addmm(ones(3, 2).to_sparse(), tg.tensor(X).to_sparse(), ones(4, 2))


def test_sparse_mask_takes_values_at_the_mask_pattern():
    v = tg.tensor(G, requires_grad=True)
    y = v.sparse_mask(tg.tensor(X).to_sparse())
    assert y.is_sparse and y.layout is tg.sparse_coo
    np.testing.assert_allclose(y.to_dense().detach().numpy(), np.where(X != 0, G, 0.0))
    (y.to_dense() ** 2).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), np.where(X != 0, 2 * G, 0.0))
    assert tg.tensor(G).sparse_mask(tg.tensor(X).to_sparse_csr()).layout is tg.sparse_csr
    with pytest.raises(NotImplementedError, match="mask must be a sparse"):
        tg.tensor(G).sparse_mask(tg.tensor(X) > 0)
    with pytest.raises(ValueError, match="does not match"):
        tg.ones(2, 2).sparse_mask(tg.tensor(X).to_sparse())


# -- the CSR layout -----------------------------------------------------------------------------
def test_to_sparse_csr_indices_and_flags():
    x = tg.tensor(X)
    c = x.to_sparse_csr()
    assert c.layout is tg.sparse_csr and isinstance(tg.sparse_csr, tg.layout)
    assert c.is_sparse_csr and not c.is_sparse and not x.is_sparse_csr     # torch's flags
    assert not x.to_sparse().is_sparse_csr
    np.testing.assert_array_equal(c.crow_indices().numpy(), [0, 2, 2, 4])
    np.testing.assert_array_equal(c.col_indices().numpy(), [1, 3, 0, 2])
    np.testing.assert_array_equal(c.values().numpy(), [2.0, 1.0, 3.0, -1.0])
    assert c.crow_indices().dtype == np.int64 and c._nnz() == 4
    assert (c.sparse_dim(), c.dense_dim(), x.sparse_dim(), x.dense_dim()) == (2, 0, 0, 2)
    assert (x.to_sparse().sparse_dim(), x.to_sparse().dense_dim()) == (2, 0)
    np.testing.assert_array_equal(c.to_dense().numpy(), X)
    assert "sparse_csr" in repr(c)


def test_csr_conversions_and_products():
    x = tg.tensor(X)
    assert x.to_sparse(layout=tg.sparse_csr).layout is tg.sparse_csr
    assert x.to_sparse_coo().layout is tg.sparse_coo
    c = x.to_sparse_csr()
    assert c.to_sparse().layout is tg.sparse_coo and c.to_sparse_coo().layout is tg.sparse_coo
    assert x.to_sparse().to_sparse_csr().layout is tg.sparse_csr
    assert c.to_sparse(layout=tg.sparse_csr) is c and c.to_sparse_csr() is c
    h = np.arange(8.0).reshape(4, 2)
    for out in (c @ tg.tensor(h), tg.sparse.mm(c, tg.tensor(h))):
        np.testing.assert_allclose(out.numpy(), X @ h)
        assert out.layout is not tg.sparse_csr


def test_csr_values_are_differentiable():
    x = tg.tensor(X, requires_grad=True)
    (x.to_sparse_csr().values() ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * X)


def test_sparse_csr_tensor_factory():
    c = tg.sparse_csr_tensor(tg.tensor([0, 2, 2, 4]), tg.tensor([1, 3, 0, 2]),
                             tg.tensor([2.0, 1.0, 3.0, -1.0]), (3, 4))
    assert c.layout is tg.sparse_csr
    np.testing.assert_array_equal(c.to_dense().numpy(), X)
    c = tg.sparse_csr_tensor([0, 1, 3], [2, 0, 2], [1.0, 2.0, 5.0], dtype=tg.float64)
    assert tuple(c.shape) == (2, 3) and c.dtype == np.float64           # size inferred as torch
    np.testing.assert_array_equal(c.crow_indices().numpy(), [0, 1, 3])


@pytest.mark.parametrize("call, error, match", [
    (lambda: tg.ones(3).to_sparse_csr(), NotImplementedError, "2 dims"),
    (lambda: tg.ones(2, 2, 2).to_sparse_csr(), NotImplementedError, "2 dims"),
    (lambda: tg.sparse_csr_tensor([0, 3, 2], [0, 1], [1.0, 2.0], (2, 2)), ValueError, "crow_indices"),
    (lambda: tg.sparse_csr_tensor([0, 1], [0.5], [1.0], (1, 2)), TypeError, "integers"),
    (lambda: tg.sparse_csr_tensor([0, 1], [5], [1.0], (1, 2)), ValueError, "out of bounds"),
    (lambda: tg.ones(2, 2).to_sparse(layout=tg.strided), ConfigError, "sparse_csr"),
])
def test_csr_refusals(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_sparse_layout_error_is_catchable_as_torch_raises():
    assert issubclass(SparseLayoutError, NotImplementedError) and issubclass(SparseLayoutError, RuntimeError)
    assert issubclass(SparseLayoutError, ConfigError)


# -- NetGAN's score matrix from sampled walks ---------------------------------------------------
def test_netgan_score_matrix_idioms_agree():
    # utils.score_matrix_from_random_walks (symmetric bigram counts) as a port writes it: a
    # coalesced sparse COO tensor, scatter_add_, index_put_(accumulate=True), bincount
    rng = np.random.RandomState(0)
    n, walks = 6, rng.randint(0, 6, size=(20, 4))
    pairs = np.stack([walks[:, :-1], walks[:, 1:]], 2).reshape(-1, 2)
    pairs = np.concatenate([pairs, pairs[:, ::-1]])
    want = np.zeros((n, n))
    np.add.at(want, (pairs[:, 0], pairs[:, 1]), 1.0)
    w = tg.tensor(walks)
    p = tg.stack([w[:, :-1], w[:, 1:]], dim=2).reshape(-1, 2)
    p = tg.cat([p, p.flip(1)], 0)
    ones = tg.ones(p.shape[0], dtype=tg.float64)
    sp = tg.sparse_coo_tensor(p.t(), ones, (n, n)).coalesce()
    flat = p[:, 0] * n + p[:, 1]
    got = [sp.to_dense(),
           tg.zeros(n * n, dtype=tg.float64).scatter_add_(0, flat, ones).view(n, n),
           tg.zeros(n, n, dtype=tg.float64).index_put_((p[:, 0], p[:, 1]), ones, accumulate=True),
           tg.bincount(flat, minlength=n * n).view(n, n)]
    for g in got:
        np.testing.assert_array_equal(g.numpy(), want)
    np.testing.assert_array_equal(sp.values().numpy(), want[want != 0])
    np.testing.assert_array_equal(tg.sparse.softmax(sp, 1).to_dense().numpy().sum(1) > 0, want.sum(1) > 0)


# -- torch.sparse.FloatTensor & co (pygcn's sparse_mx_to_torch_sparse_tensor) --------------------
@pytest.mark.parametrize("name, dtype", [("FloatTensor", np.float32), ("DoubleTensor", np.float64),
                                         ("LongTensor", np.int64), ("ByteTensor", np.uint8)])
def test_legacy_sparse_constructors(name, dtype):
    ctor = getattr(tg.sparse, name)
    idx = tg.tensor([[0, 1], [1, 0]])
    s = ctor(idx, tg.tensor([1.0, 2.0], dtype=tg.float64), tg.Size([2, 2]))
    # as torch: the values keep their own dtype, whatever the class's name
    assert s.is_sparse and s.dtype == np.float64
    np.testing.assert_array_equal(s.to_dense().numpy(), [[0.0, 1.0], [2.0, 0.0]])
    assert tuple(ctor(idx, tg.tensor([1, 2])).shape) == (2, 2)              # size inferred
    empty = ctor(2, 3)
    assert empty.is_sparse and empty.dtype == dtype and tuple(empty.shape) == (2, 3)
    assert empty._nnz() == 0 and tuple(ctor().shape) == (0,)
    with pytest.raises(TypeError, match="int sizes"):
        ctor((2, 3))
