"""Gaps found porting pytorch/examples' REINFORCE / actor-critic, GCN, GAT and vision-transformer
programs: the sparse COO layout (stored dense), factories' ``size=`` keyword, a module's own
``self.device``, and ``tensor()`` of a list holding float64 NumPy scalars."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import ConfigError, InputTypeError, ShapeError


# -- sparse COO layout ---------------------------------------------------------------------------
def test_sparse_coo_tensor_sums_duplicates_casts_and_infers_size():
    idx = np.array([[0, 1, 1, 2], [1, 0, 0, 2]], dtype=np.int32)
    a = tg.sparse_coo_tensor(idx.T.T, tg.ones(4), (3, 3), dtype=tg.int64)
    assert a.is_sparse and a.layout is tg.sparse_coo and a.dtype == np.int64
    np.testing.assert_array_equal(a.to_dense().numpy(), [[0, 1, 0], [2, 0, 0], [0, 0, 1]])
    assert not a.to_dense().is_sparse
    np.testing.assert_array_equal(a.indices().numpy(), [[0, 1, 2], [1, 0, 2]])
    np.testing.assert_array_equal(a.values().numpy(), [1, 2, 1])
    assert a._nnz() == 3 and a.coalesce() is a and a.is_coalesced()
    b = tg.sparse_coo_tensor([[0, 3]], [1.5, 2.5])          # size from the largest index
    assert b.shape == (4,) and b.dtype == np.float32
    np.testing.assert_array_equal(b.to_dense().numpy(), [1.5, 0, 0, 2.5])
    h = tg.sparse_coo_tensor([[0, 2]], [[1.0, 2.0], [3.0, 4.0]])   # hybrid: dense trailing dim
    np.testing.assert_array_equal(h.to_dense().numpy(), [[1, 2], [0, 0], [3, 4]])


def test_sparse_coo_tensor_refuses_bad_input():
    with pytest.raises(ShapeError, match="out of bounds"):
        tg.sparse_coo_tensor([[0, 3]], [1.0, 1.0], (3,))
    with pytest.raises(ShapeError, match="one row per index"):
        tg.sparse_coo_tensor([[0, 1]], [1.0, 1.0, 1.0], (3,))
    with pytest.raises(ShapeError, match=r"\(sparse_dims, nnz\)"):
        tg.sparse_coo_tensor([0, 1], [1.0, 1.0], (3,))
    with pytest.raises(InputTypeError, match="integers"):
        tg.sparse_coo_tensor([[0.5, 1.0]], [1.0, 1.0], (3,))
    with pytest.raises(ConfigError, match="hybrid"):
        tg.zeros(2, 2).to_sparse(1)


def test_gcn_normalised_adjacency_and_spmm():
    """GCN's load_cora: eye + sparse, D^-1/2 A D^-1/2 with sparse diagonals, then spmm."""
    edges = np.array([[0, 1], [1, 2], [2, 0], [0, 1]], dtype=np.int32)
    adj = tg.sparse_coo_tensor(edges.T, tg.ones(4), (3, 3), dtype=tg.int64)
    adj = tg.eye(3) + adj
    assert not adj.is_sparse and adj.dtype == np.float32        # dense + sparse is dense
    A = np.eye(3, dtype=np.float32)
    np.add.at(A, (edges[:, 0], edges[:, 1]), 1)
    deg = tg.sqrt(1 / tg.sum(adj, dim=1))
    d = tg.diag(deg).to_sparse()
    norm = (d @ adj @ d).to_sparse()
    D = np.diag(1 / np.sqrt(A.sum(1)))
    np.testing.assert_allclose(norm.to_dense().numpy(), D @ A @ D, rtol=1e-6)
    h = np.arange(6, dtype=np.float32).reshape(3, 2)
    for out in (tg.spmm(norm, tg.tensor(h)), tg.sparse.mm(norm, tg.tensor(h)), norm @ tg.tensor(h)):
        assert not out.is_sparse
        np.testing.assert_allclose(out.numpy(), D @ A @ D @ h, rtol=1e-6)


def test_to_sparse_is_differentiable_and_sparse_sum():
    x = tg.tensor([[1.0, 0.0], [0.0, 3.0]], requires_grad=True)
    s = x.to_sparse()
    assert s.is_sparse and not x.is_sparse and x.to_dense() is x
    (s @ tg.tensor([[1.0], [2.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 2], [1, 2]])
    np.testing.assert_array_equal(s.values().numpy(), [1, 3])
    assert tg.sparse.sum(s).item() == 4.0
    rows = tg.sparse.sum(s, dim=1)
    assert rows.is_sparse
    np.testing.assert_array_equal(rows.to_dense().numpy(), [1, 3])
    with pytest.raises(ShapeError, match="0-d"):
        tg.tensor(1.0).to_sparse()


# -- factories' size= keyword --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["empty", "zeros", "ones", "rand", "randn"])
def test_factories_take_size_keyword(name):
    f = getattr(tg, name)
    assert f(size=(2, 3)).shape == (2, 3) and f(size=[4]).shape == (4,) and f(size=5).shape == (5,)
    assert f(2, 3).shape == (2, 3) and f((2, 3)).shape == (2, 3)
    with pytest.raises(InputTypeError, match="not both"):
        f(2, size=(2, 3))


def test_zeros_size_keyword_values():
    np.testing.assert_array_equal(tg.zeros(size=(2,)).numpy(), [0, 0])
    np.testing.assert_array_equal(tg.ones(size=(2,), dtype=tg.int64).numpy(), [1, 1])


# -- a module's own self.device ------------------------------------------------------------------
def test_module_may_set_its_own_device_attribute():
    class Embed(nn.Module):        # the vision-transformer example's InputEmbedding does this
        def __init__(self):
            super().__init__()
            self.device = tg.device("cpu")
            self.proj = nn.Linear(2, 2)

        def forward(self, x):
            return self.proj(x.to(self.device))

    m = Embed()
    assert m.device == tg.device("cpu")
    assert m(tg.ones(1, 2)).shape == (1, 2)
    m.device = "a label"
    assert m.device == "a label"
    del m.device
    assert m.device == m.proj.weight.device        # back to the parameters' device
    with pytest.raises(AttributeError):
        del m.device
    assert nn.Linear(1, 1).device == tg.device("cpu") and nn.ReLU().device is None


# -- tensor() of lists with NumPy float64 scalars --------------------------------------------------
def test_tensor_of_list_with_float64_numpy_scalars_is_float64():
    rewards = [np.float64(1.0), 0.5, 2.0]            # rewards from a NumPy environment
    assert tg.tensor(rewards).dtype == np.float64
    assert tg.tensor([[np.float64(1.0)], [2.0]]).dtype == np.float64
    assert tg.tensor([np.float64(1.0), 2]).dtype == np.float64
    assert tg.tensor([tg.tensor(1.0, dtype=tg.float64)]).dtype == np.float64
    assert tg.tensor([np.float32(1.0), 1.0]).dtype == np.float32
    assert tg.tensor([1.0, 2.0]).dtype == np.float32
    assert tg.tensor([np.int32(1), 2.0]).dtype == np.float32
    assert tg.tensor([True, 1.5]).dtype == np.float32
    assert tg.tensor([1, 2]).dtype == np.int64
