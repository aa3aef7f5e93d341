"""torch's shape, indexing, sorting and small linear-algebra ops (tensorgan/shape_index_ops.py):
values against NumPy formulas written from torch's documentation, gradients by gradcheck and
gradgradcheck in float64, the typed refusals, and the tg.* function forms."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorgan as tg
import tensorgan.functional as F
from tensorgan.errors import ConfigError, IndexOutOfRangeError, InputTypeError, ShapeError, TensorganError

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4, 5))
B = rng.standard_normal((4, 5))
V = rng.standard_normal(4)
W = rng.standard_normal(6)


def f64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype=tg.float64, requires_grad=requires_grad)


def check(fn, reference, *arrays, grad=True):
    """fn's value equals reference(*arrays); its gradient (and, through ``** 2``, its gradient's
    gradient) passes gradcheck."""
    inputs = [f64(a) for a in arrays]
    out = fn(*inputs)
    expected = np.asarray(reference(*arrays))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    if grad:
        assert tg.gradcheck(fn, inputs)
        assert tg.gradgradcheck(lambda *xs: fn(*xs) ** 2, inputs)


def _numpy_rot90(a, k, dims):
    return np.rot90(a, k, axes=dims)


# ---------------------------------------------------------------------------------------------
# 1. Shape ops
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,fn,reference,arrays", [
    ("movedim", lambda x: x.movedim((0, 2), (2, 0)), lambda a: np.moveaxis(a, (0, 2), (2, 0)), (A,)),
    ("movedim-neg", lambda x: tg.movedim(x, 0, -1), lambda a: np.moveaxis(a, 0, -1), (A,)),
    ("moveaxis", lambda x: x.moveaxis([0, 1], [1, 2]), lambda a: np.moveaxis(a, [0, 1], [1, 2]), (A,)),
    ("swapaxes", lambda x: x.swapaxes(0, 2), lambda a: np.swapaxes(a, 0, 2), (A,)),
    ("ravel", lambda x: tg.ravel(x), np.ravel, (A,)),
    ("reshape_as", lambda x: x.reshape_as(tg.zeros(20, 3)), lambda a: a.reshape(20, 3), (A,)),
    ("broadcast_to", lambda x: tg.broadcast_to(x, (2, -1, 5)), lambda a: np.broadcast_to(a, (2, 4, 5)), (B,)),
    ("roll", lambda x: x.roll((1, -2), (0, 2)), lambda a: np.roll(a, (1, -2), (0, 2)), (A,)),
    ("roll-flat", lambda x: tg.roll(x, 7), lambda a: np.roll(a, 7), (A,)),
    ("tile", lambda x: x.tile((2,)), lambda a: np.tile(a, (1, 2)), (B,)),
    ("tile-longer", lambda x: tg.tile(x, (2, 1, 3)), lambda a: np.tile(a, (2, 1, 3)), (B,)),
    ("repeat_interleave", lambda x: x.repeat_interleave(2), lambda a: np.repeat(a.ravel(), 2), (B,)),
    ("repeat_interleave-dim", lambda x: tg.repeat_interleave(x, np.array([1, 0, 2, 3]), dim=0),
     lambda a: np.repeat(a, [1, 0, 2, 3], axis=0), (B,)),
    ("repeat_interleave-tensor", lambda x: x.repeat_interleave(tg.tensor([2]), dim=-1),
     lambda a: np.repeat(a, 2, axis=-1), (B,)),
    ("fliplr", lambda x: x.fliplr(), lambda a: a[:, ::-1], (A,)),
    ("flipud", lambda x: tg.flipud(x), lambda a: a[::-1], (A,)),
    ("select", lambda x: x.select(1, -1), lambda a: a[:, -1], (A,)),
    ("hstack-2d", lambda x, y: tg.hstack([x, y]), lambda a, b: np.hstack([a, b]), (B, B)),
    ("hstack-1d", lambda x, y: tg.hstack((x, y)), lambda a, b: np.hstack([a, b]), (V, W)),
    ("vstack", lambda x, y: tg.vstack([x, y]), lambda a, b: np.vstack([a, b]), (V, B.T)),
    ("dstack", lambda x, y: tg.dstack([x, y]), lambda a, b: np.dstack([a, b]), (B, B)),
    ("column_stack", lambda x, y: tg.column_stack([x, y]), lambda a, b: np.column_stack([a, b]), (V, B)),
])
def test_shape_ops_match_numpy_with_gradients(name, fn, reference, arrays):
    check(fn, reference, *arrays)


@pytest.mark.parametrize("k", [-1, 0, 1, 2, 3, 5])
def test_rot90_turns_from_the_first_dim_towards_the_second(k):
    check(lambda x: x.rot90(k, (2, 0)), lambda a: _numpy_rot90(a, k, (2, 0)), A)
    assert tg.rot90(f64(B), k).shape == np.rot90(B, k).shape


def test_atleast_nd_and_repeat_interleave_counts():
    s, v, m = f64(2.0), f64(V), f64(B)
    assert [t.shape for t in tg.atleast_1d(s, v)] == [(1,), (4,)]
    assert tg.atleast_2d(v).shape == (1, 4) and tg.atleast_3d(v).shape == (1, 4, 1)
    assert tg.atleast_3d(m).shape == (4, 5, 1) and tg.atleast_3d(s).shape == (1, 1, 1)
    assert tg.repeat_interleave(tg.tensor([1, 0, 2])).tolist() == [0, 2, 2]


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), shift=st.integers(-9, 9),
       data=st.data())
def test_roll_and_movedim_match_numpy_for_any_shape(shape, shift, data):
    a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    dest = data.draw(st.integers(-len(shape), len(shape) - 1))
    assert np.array_equal(f64(a, False).roll(shift, dim).numpy(), np.roll(a, shift, dim))
    assert np.array_equal(f64(a, False).movedim(dim, dest).numpy(), np.moveaxis(a, dim, dest))


# ---------------------------------------------------------------------------------------------
# 2. Gather and scatter
# ---------------------------------------------------------------------------------------------
def _gather_numpy(a, dim, index):
    """out[i][j][k] = a[index[i][j][k]][j][k] for dim 0, and so on -- torch's definition."""
    out = np.empty(index.shape)
    for pos in np.ndindex(*index.shape):
        src = list(pos)
        src[dim] = index[pos]
        out[pos] = a[tuple(src)]
    return out


def _scatter_numpy(a, dim, index, src, add=False):
    out = a.copy()
    for pos in np.ndindex(*index.shape):
        dst = list(pos)
        dst[dim] = index[pos]
        out[tuple(dst)] = out[tuple(dst)] + src[pos] if add else src[pos]
    return out


GATHER_INDEX = rng.integers(0, 4, (3, 2, 5))
PERMUTED = np.argsort(rng.random((3, 4, 5)), axis=1)[:, :3, :4]     # no repeats along dim 1
S = rng.standard_normal((3, 3, 4))


@pytest.mark.parametrize("name,fn,reference,arrays", [
    ("gather", lambda x: x.gather(1, GATHER_INDEX), lambda a: _gather_numpy(a, 1, GATHER_INDEX), (A,)),
    ("gather-int32-index", lambda x: tg.gather(x, 1, tg.tensor(GATHER_INDEX.astype(np.int32))),
     lambda a: _gather_numpy(a, 1, GATHER_INDEX), (A,)),
    ("scatter", lambda x, s: x.scatter(1, PERMUTED, s), lambda a, s: _scatter_numpy(a, 1, PERMUTED, s), (A, S)),
    ("scatter-number", lambda x: tg.scatter(x, 1, PERMUTED, 2.5),
     lambda a: _scatter_numpy(a, 1, PERMUTED, np.full(PERMUTED.shape, 2.5)), (A,)),
    ("scatter_add", lambda x, s: x.scatter_add(1, GATHER_INDEX[:, :, :4], s[:, :2]),
     lambda a, s: _scatter_numpy(a, 1, GATHER_INDEX[:, :, :4], s[:, :2], add=True), (A, S)),
    ("take_along_dim", lambda x: tg.take_along_dim(x, GATHER_INDEX[:1] - 2, 1),
     lambda a: np.take_along_axis(a, np.broadcast_to(GATHER_INDEX[:1] - 2, (3, 2, 5)), 1), (A,)),
    ("take_along_dim-flat", lambda x: x.take_along_dim(np.array([[3, 59]])), lambda a: a.ravel()[[3, 59]], (A,)),
])
def test_gather_and_scatter_follow_torchs_definitions(name, fn, reference, arrays):
    check(fn, reference, *arrays)


def test_scatter_gradient_goes_to_src_at_the_written_places_and_to_self_elsewhere():
    x, s = f64(np.zeros((2, 3))), f64(np.ones((1, 2)) * 5)
    out = x.scatter(1, [[2, 0]], s)
    assert out.tolist() == [[5.0, 0.0, 5.0], [0.0, 0.0, 0.0]]
    out.backward(tg.tensor(np.arange(6.0).reshape(2, 3), dtype=tg.float64))
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [3.0, 4.0, 5.0]] and s.grad.tolist() == [[2.0, 0.0]]


@pytest.mark.parametrize("name,fn,reference,arrays", [
    ("index_add", lambda x, s: x.index_add(1, [0, 2, 0], s, alpha=2),
     lambda a, s: a + np.stack([2 * (s[:, 0] + s[:, 2]), np.zeros((3, 5)), 2 * s[:, 1], np.zeros((3, 5))], 1),
     (A, rng.standard_normal((3, 3, 5)))),
    ("index_copy", lambda x, s: tg.index_copy(x, 2, np.array([4, 1]), s),
     lambda a, s: np.concatenate([a[..., :1], s[..., 1:], a[..., 2:4], s[..., :1]], -1),
     (A, rng.standard_normal((3, 4, 2)))),
    ("index_fill", lambda x: x.index_fill(2, [4, -1, 0], -3.0),
     lambda a: np.concatenate([np.full((3, 4, 1), -3.0), a[..., 1:4], np.full((3, 4, 1), -3.0)], -1), (A,)),
    ("index_fill-tensor-value", lambda x, v: tg.index_fill(x, 0, tg.tensor([1]), v),
     lambda a, v: np.concatenate([a[:1], np.full((1, 4, 5), v), a[2:]]), (A, np.array(1.5))),
])
def test_index_ops(name, fn, reference, arrays):
    check(fn, reference, *arrays)


def test_in_place_forms_write_and_refuse_tracked_tensors():
    y = tg.zeros(2, 3)
    assert y.scatter_(1, [[2], [0]], 5.0) is y and y.tolist() == [[0, 0, 5], [5, 0, 0]]
    y.index_add_(0, [1, 1], tg.ones(2, 3))
    assert y.tolist() == [[0, 0, 5], [7, 2, 2]]
    y.index_fill_(1, [0], -1.0).index_copy_(0, [0], tg.full((1, 3), 7.0))
    y.scatter_add_(1, [[0, 0]], tg.ones(1, 2))
    assert y.tolist() == [[9, 7, 7], [-1, 2, 2]]
    assert y.tril_().tolist() == [[9, 0, 0], [-1, 2, 0]] and y.triu_(1).tolist() == [[0, 0, 0], [0, 0, 0]]
    p = tg.ones(2, 3, requires_grad=True)
    with pytest.raises(TensorganError, match="scatter_ on a leaf tensor that requires grad"):
        p.scatter_(1, [[0]], 1.0)
    y.index_add_(0, [0], p[:1] * 2.0)                         # a constant joins the graph, as torch
    y.sum().backward()
    assert y.requires_grad and p.grad.tolist() == [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]]


@pytest.mark.parametrize("call,error,message", [
    (lambda x: x.gather(1, [[3], [0]]), IndexOutOfRangeError, "index 3 is out of bounds for dimension 1 with size 3"),
    (lambda x: x.gather(1, [[-1], [0]]), IndexOutOfRangeError, "index -1 is out of bounds for dimension 1"),
    (lambda x: x.gather(1, tg.tensor([[0.5], [0.0]])), InputTypeError, "whole numbers"),
    (lambda x: x.gather(1, [0, 1]), ShapeError, r"as many dims as the input \(2\)"),
    (lambda x: x.gather(0, [[0, 0, 0, 0]]), ShapeError, r"index of shape \(1, 4\)"),
    (lambda x: x.scatter(1, [[0]], 1.0, reduce="mean"), ConfigError, "reduce must be 'add' or 'multiply', got 'mean'"),
    (lambda x: x.scatter(1, [[0, 1]], tg.ones(1, 1)), ShapeError, r"nor larger than src \(1, 1\)"),
    (lambda x: x.scatter(1, [[0, 1]]), InputTypeError, "give src"),
    (lambda x: x.scatter_add(1, [[5]], tg.ones(1, 1)), IndexOutOfRangeError, "index 5 is out of bounds"),
    (lambda x: x.index_add(0, [0], tg.ones(2, 3)), ShapeError, r"source must have shape \(1, 3\)"),
    (lambda x: x.index_copy(1, [3], tg.ones(2, 1)), IndexOutOfRangeError, "index 3 is out of bounds for dimension 1"),
    (lambda x: x.index_fill(1, [-4], 1.0), IndexOutOfRangeError, "index -4"),
    (lambda x: x.take_along_dim([[0], [1], [2]], 1), ShapeError, "do not broadcast"),
    (lambda x: tg.gather(np.ones(3), 0, [0]), InputTypeError, "tg.gather: input must be a Tensor"),
])
def test_indexing_refusals_name_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call(tg.arange(6.0).reshape(2, 3))


# ---------------------------------------------------------------------------------------------
# 3. Sorting
# ---------------------------------------------------------------------------------------------
TIES = np.array([[3.0, 1.0, 3.0, np.nan, 1.0], [0.0, 2.0, 2.0, 2.0, -1.0]])


def _stable_order(a, dim, descending):
    """Stable order; NaN largest; descending keeps equal elements in their original order."""
    key = np.where(np.isnan(a), np.inf, a)
    nan_rank = np.isnan(a).astype(int)       # NaN after inf
    moved, nan_moved = np.moveaxis(key, dim, -1), np.moveaxis(nan_rank, dim, -1)
    out = np.empty(moved.shape, dtype=int)
    for pos in np.ndindex(*moved.shape[:-1]):
        items = list(zip(moved[pos], nan_moved[pos], range(moved.shape[-1])))
        items.sort(key=lambda t: ((-t[0], -t[1]) if descending else (t[0], t[1]), t[2]))
        out[pos] = [t[2] for t in items]
    return np.moveaxis(out, -1, dim)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_is_stable_puts_nan_last_and_returns_whole_number_indices(dim, descending):
    x = f64(TIES, False)
    values, indices = x.sort(dim, descending, stable=True)
    order = _stable_order(TIES, dim, descending)
    assert np.array_equal(indices.numpy(), order) and indices.dtype == np.int64
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(TIES, order, dim))
    assert np.array_equal(x.argsort(dim, descending).numpy(), order)
    assert np.array_equal(tg.sort(x, dim=dim, descending=descending).indices.numpy(), order)


@pytest.mark.parametrize("name,fn,reference", [
    ("sort", lambda x: x.sort(1).values, lambda a: np.sort(a, 1)),
    ("sort-desc", lambda x: tg.sort(x, 0, descending=True)[0], lambda a: -np.sort(-a, 0)),
    ("msort", lambda x: tg.msort(x), lambda a: np.sort(a, 0)),
    ("topk", lambda x: x.topk(3, 1).values, lambda a: -np.sort(-a, 1)[:, :3]),
    ("topk-smallest", lambda x: tg.topk(x, 2, largest=False)[0], lambda a: np.sort(a, -1)[..., :2]),
    ("kthvalue", lambda x: x.kthvalue(2, 0).values, lambda a: np.sort(a, 0)[1]),
    ("kthvalue-keepdim", lambda x: tg.kthvalue(x, 3, 1, True)[0], lambda a: np.sort(a, 1)[:, 2:3]),
])
def test_sorted_values_carry_the_gradient_to_their_places(name, fn, reference):
    check(fn, reference, A)       # distinct values: the order does not change under gradcheck's steps


def test_topk_kthvalue_indices_and_edge_cases():
    x = f64(np.array([[3.0, 1.0, 2.0]]), False)
    assert x.topk(2).indices.tolist() == [[0.0, 2.0]] and x.topk(2, largest=False).indices.tolist() == [[1.0, 2.0]]
    assert x.kthvalue(2, 1, True).indices.tolist() == [[2.0]] and x.kthvalue(2).values.shape == (1,)
    assert x.topk(0).values.shape == (1, 0)
    assert tg.zeros(0, 3).sort(0).indices.shape == (0, 3)
    values, indices = tg.tensor(3.0).sort()
    assert values.shape == () and indices.item() == 0.0
    with pytest.raises(ShapeError, match="k=4 is out of range for a dim of size 3"):
        x.topk(4)
    with pytest.raises(ShapeError, match="k=0"):
        x.kthvalue(0)
    with pytest.raises(ShapeError, match="dim 2 is out of range"):
        x.sort(2)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=12), st.booleans())
def test_sort_matches_a_stable_reference_for_any_vector(values, descending):
    a = np.array(values, dtype=np.float64)
    order = _stable_order(a, 0, descending)
    assert np.array_equal(f64(a, False).sort(descending=descending).indices.numpy(), order)


# ---------------------------------------------------------------------------------------------
# 4. Triangles, diagonals, products, selections, searching
# ---------------------------------------------------------------------------------------------
def _diag_embed_numpy(a, offset, dim1, dim2):
    n = a.shape[-1] + abs(offset)
    planes = np.zeros(a.shape[:-1] + (n, n))
    for i in range(a.shape[-1]):
        planes[..., i + max(-offset, 0), i + max(offset, 0)] = a[..., i]
    return np.moveaxis(planes, (-2, -1), (dim1, dim2))


@pytest.mark.parametrize("k", [-2, 0, 1, 3])
def test_triangles_and_diagonals(k):
    check(lambda x: x.tril(k), lambda a: np.tril(a, k), A)
    check(lambda x: tg.triu(x, k), lambda a: np.triu(a, k), A)
    check(lambda x: tg.diag(x, k), lambda a: np.diag(a, k), V)
    check(lambda x: x.diag(k), lambda a: np.diag(a, k), B)
    check(lambda x: x.diagonal(k, 2, 0), lambda a: np.diagonal(a, k, 2, 0), A)
    check(lambda x: tg.diag_embed(x, k, 0, 2), lambda a: _diag_embed_numpy(a, k, 0, 2), B)
    check(lambda x: x.diag_embed(k, 2, 0), lambda a: _diag_embed_numpy(a, k, 2, 0), B)


@pytest.mark.parametrize("name,fn,reference,arrays", [
    ("outer", lambda x, y: tg.outer(x, y), np.outer, (V, W)),
    ("ger", lambda x, y: x.ger(y), np.outer, (V, W)),
    ("dot", lambda x, y: tg.dot(x, y), np.dot, (V, V[::-1])),
    ("mv", lambda x, y: x.mv(y), np.dot, (B.T, V)),
    ("inner", lambda x, y: tg.inner(x, y), np.inner, (A, B)),
    ("inner-1d", lambda x, y: x.inner(y), np.inner, (V, V)),
    ("kron", lambda x, y: tg.kron(x, y), np.kron, (B, V)),
    ("kron-3d", lambda x, y: x.kron(y), np.kron, (A[:2, :2, :2], B[:2, :3])),
    ("block_diag", lambda x, y, z: tg.block_diag(x, y, z),
     lambda a, b, c: np.block([[np.full((1, 1), a), np.zeros((1, 4)), np.zeros((1, 5))],
                               [np.zeros((1, 1)), b[None], np.zeros((1, 5))],
                               [np.zeros((4, 1)), np.zeros((4, 4)), c]]), (np.array(2.0), V, B)),
    ("cartesian_prod", lambda x, y: tg.cartesian_prod(x, y),
     lambda a, b: np.array([[p, q] for p in a for q in b]), (V, W)),
    ("masked_select", lambda x: x.masked_select(tg.tensor(B > 0)), lambda a: a[np.broadcast_to(B > 0, a.shape)], (A,)),
    ("diff", lambda x, p: x.diff(2, 1, prepend=p), lambda a, p: np.diff(a, 2, 1, prepend=p),
     (A, rng.standard_normal((3, 2, 5)))),
    ("diff-append", lambda x, p: tg.diff(x, append=p), lambda a, p: np.diff(a, append=p),
     (A, rng.standard_normal((3, 4, 1)))),
])
def test_products_and_selections(name, fn, reference, arrays):
    check(fn, reference, *arrays)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_numpy(indexing):
    check(lambda x, y, z: sum(g * (i + 1) for i, g in enumerate(tg.meshgrid(x, y, z, indexing=indexing))),
          lambda a, b, c: sum(g * (i + 1) for i, g in enumerate(np.meshgrid(a, b, c, indexing=indexing))),
          V, W, V[:2])
    assert [g.shape for g in tg.meshgrid([f64(V), f64(W)], indexing=indexing)] == \
        [g.shape for g in np.meshgrid(V, W, indexing=indexing)]


def _cdist_numpy(a, b, p):
    d = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == np.inf:
        return d.max(-1)
    if p == 0:
        return (d != 0).sum(-1).astype(float)
    return (d ** p).sum(-1) ** (1 / p)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, np.inf])
def test_cdist_values_gradients_and_zero_distance(p):
    x1, x2 = rng.standard_normal((2, 5, 3)), rng.standard_normal((6, 3))
    check(lambda a, b: tg.cdist(a, b, p), lambda a, b: _cdist_numpy(a, b, p), x1, x2)
    same = f64(x2[:2])                                   # distance 0 on the diagonal: gradient 0
    tg.cdist(same, same.detach(), p)[0, 0].backward()
    assert np.array_equal(same.grad.numpy(), np.zeros((2, 3)))


def test_pairwise_distance_and_cosine_similarity_function_forms():
    check(lambda a, b: tg.pairwise_distance(a, b), lambda a, b: np.linalg.norm(a - b + 1e-6, axis=-1), B, B[::-1])
    check(lambda a, b: F.pairwise_distance(a, b, 1.0, keepdim=True),
          lambda a, b: np.abs(a - b + 1e-6).sum(-1, keepdims=True), B, B[::-1])
    x, y = f64(B, False), f64(B[::-1], False)
    np.testing.assert_allclose(tg.cosine_similarity(x, y).numpy(), F.cosine_similarity(x, y).numpy())


def test_nonzero_where_argwhere_unique_and_searching():
    z = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]])
    x = tg.tensor(z)
    assert np.array_equal(x.nonzero().numpy(), np.argwhere(z)) and x.nonzero().dtype == np.int64
    assert np.array_equal(tg.argwhere(x).numpy(), np.argwhere(z))
    assert [t.tolist() for t in tg.where(x > 0)] == [list(map(float, i)) for i in np.nonzero(z)]
    assert [t.tolist() for t in x.nonzero(as_tuple=True)] == [t.tolist() for t in tg.where(x > 0)]
    assert tg.tensor(2.0).nonzero().shape == (1, 0) and tg.zeros(0, 3).nonzero().shape == (0, 2)
    assert x.where(x > 1, -1.0).tolist() == [[-1, -1, -1], [2, -1, 3]]
    u = np.array([[3.0, 1.0, 3.0], [2.0, 1.0, 1.0]])
    values, inverse, counts = tg.tensor(u).unique(return_inverse=True, return_counts=True)
    assert values.tolist() == [1, 2, 3] and counts.tolist() == [3, 1, 2]
    assert np.array_equal(values.numpy()[inverse.numpy().astype(int)], u)
    rows, inverse = tg.unique(tg.tensor(u), dim=1, return_inverse=True)
    assert np.array_equal(rows.numpy(), np.unique(u, axis=1)) and inverse.shape == (3,)
    bounds, vals = np.array([1.0, 3.0, 5.0, 7.0]), np.array([[0.0, 3.0, 6.0], [7.0, 9.0, 1.0]])
    for right in (False, True):
        side = "right" if right else "left"
        expected = np.searchsorted(bounds, vals, side=side)
        assert np.array_equal(tg.bucketize(tg.tensor(vals), tg.tensor(bounds), right=right).numpy(), expected)
        assert np.array_equal(tg.searchsorted(tg.tensor(bounds), tg.tensor(vals), side=side).numpy(), expected)
    seq, q = np.sort(rng.standard_normal((2, 6)), -1), rng.standard_normal((2, 4))
    assert np.array_equal(tg.searchsorted(tg.tensor(seq), tg.tensor(q)).numpy(),
                          np.stack([np.searchsorted(s, v) for s, v in zip(seq, q)]))


@pytest.mark.parametrize("call,error,message", [
    (lambda: tg.ones(3).tril(), ShapeError, r"at least 2 dims.*\(3,\)"),
    (lambda: tg.ones(2, 2, 2).diag(), ShapeError, "1-D or 2-D"),
    (lambda: tg.ones(3).dot(tg.ones(2)), ShapeError, r"\(3,\) and \(2,\)"),
    (lambda: tg.ones(2, 3).mv(tg.ones(2)), ShapeError, r"\(2, 3\) and \(2,\)"),
    (lambda: tg.ones(2, 3).inner(tg.ones(2)), ShapeError, "last dims differ"),
    (lambda: tg.cdist(tg.ones(3), tg.ones(2, 3)), ShapeError, "x1 must have at least 2 dims"),
    (lambda: tg.cdist(tg.ones(2, 3), tg.ones(2, 3), -1), ConfigError, "p must be >= 0"),
    (lambda: tg.meshgrid(tg.ones(2), indexing="ab"), ConfigError, "'ab'"),
    (lambda: tg.ones(2, 3).masked_select(tg.ones(3)), InputTypeError, "mask must be a bool tensor"),
    (lambda: tg.ones(2, 3).roll((1, 2), 0), ShapeError, "as many of each"),
    (lambda: tg.ones(2, 3).rot90(1, (0, 0)), ShapeError, "more than once"),
    (lambda: tg.ones(2, 3).movedim((0, 1), 0), ShapeError, "differ in length"),
    (lambda: tg.ones(2, 3).select(1, 3), IndexOutOfRangeError, "index 3 is out of range for dimension 1 with size 3"),
    (lambda: tg.ones(2, 3).repeat_interleave([1, 2], dim=1), ShapeError, "one per element of dim 1"),
    (lambda: tg.ones(2).fliplr(), ShapeError, "at least 2-D"),
    (lambda: tg.searchsorted(tg.ones(3), tg.ones(2), right=True, side="left"), ConfigError, "side"),
    (lambda: tg.ones(2, 3).diff(-1), InputTypeError, "n must be an int >= 0"),
    (lambda: tg.hstack(tg.ones(2, 3)), InputTypeError, "got one Tensor"),
])
def test_refusals_name_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_float32_stays_float32():
    x = tg.randn(3, 4, seed=0)
    for out in (x.topk(2).values, x.gather(1, [[0]] * 3), tg.cdist(x, x),
                x.roll(1), x.tril(), tg.kron(x, x), x.unique()):
        assert out.dtype == np.float32
    for index in (x.sort().indices, (x > 0).nonzero(), x.topk(2).indices):
        assert index.dtype == np.int64                             # indices are int64, as torch
