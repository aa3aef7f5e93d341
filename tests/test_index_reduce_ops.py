"""torch's scatter_reduce / scatter(reduce=), cummax / cummin, tensor_split and h/v/dsplit,
multinomial, index_put, take and put (tensorgan/shape_index_ops.py): values against NumPy loops
written from torch's documentation, gradients by gradcheck and gradgradcheck in float64, the typed
refusals, and the tg.* function forms."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import (ConfigError, DTypeError, IndexOutOfRangeError, InputTypeError,
                              ShapeError, TensorganError)

rng = np.random.default_rng(17)
REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def f64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype=tg.float64, requires_grad=requires_grad)


def grads_pass(fn, *inputs):
    """gradcheck, and gradgradcheck through ``** 2`` (so that a linear op has a second derivative)."""
    assert tg.gradcheck(fn, inputs)
    assert tg.gradgradcheck(lambda *xs: fn(*xs) ** 2, inputs)


# ---------------------------------------------------------------------------------------------
# 1. scatter_reduce and scatter(reduce=)
# ---------------------------------------------------------------------------------------------
def scatter_reduce_loop(x, dim, index, src, reduce, include_self=True):
    """torch's docs: every src[i][j][k] goes to out[index[i][j][k]][j][k] (dim 0, and so on),
    combined by ``reduce`` with the input's element there unless include_self=False."""
    groups = {}
    for pos in np.ndindex(index.shape):
        target = pos[:dim] + (index[pos],) + pos[dim + 1:]
        groups.setdefault(target, []).append(src[pos])
    out = x.copy()
    for target, values in groups.items():
        values = ([x[target]] if include_self else []) + values
        if reduce == "mean":
            total = np.sum(values)
            out[target] = total // len(values) if x.dtype.kind == "i" else total / len(values)
        else:
            out[target] = {"sum": np.sum, "prod": np.prod, "amax": np.max, "amin": np.min}[reduce](values)
    return out


X = rng.standard_normal((3, 4))
SRC = rng.standard_normal((5, 4))
IDX = rng.integers(0, 3, size=(5, 4))        # repeats: several values into one place
IDX_DIM1 = rng.integers(0, 4, size=(3, 6))
SRC_DIM1 = rng.standard_normal((3, 6))


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim,index,src", [(0, IDX, SRC), (1, IDX_DIM1, SRC_DIM1), (-1, IDX_DIM1, SRC_DIM1)])
def test_scatter_reduce_follows_torchs_definition_and_gradchecks(reduce, include_self, dim, index, src):
    out = f64(X).scatter_reduce(dim, tg.tensor(index), f64(src), reduce, include_self=include_self)
    expected = scatter_reduce_loop(X, dim % 2, index, src, reduce, include_self)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    grads_pass(lambda x, s: tg.scatter_reduce(x, dim, index, s, reduce, include_self=include_self),
               f64(X), f64(src))


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_on_integers_and_with_ties_and_zeros(reduce, include_self):
    x = rng.integers(-3, 4, size=(4, 3))
    src = rng.integers(-3, 4, size=(6, 3))
    index = rng.integers(0, 4, size=(6, 3))
    out = tg.tensor(x).scatter_reduce(0, tg.tensor(index), tg.tensor(src), reduce, include_self=include_self)
    assert out.dtype == tg.int64       # mean: floor division, as torch's
    np.testing.assert_array_equal(out.numpy(), scatter_reduce_loop(x, 0, index, src, reduce, include_self))
    floats = f64(x).scatter_reduce(0, index, f64(src), reduce, include_self=include_self)
    expected = scatter_reduce_loop(x.astype(float), 0, index, src.astype(float), reduce, include_self)
    np.testing.assert_allclose(floats.detach().numpy(), expected, rtol=1e-12)


def test_scatter_reduce_amax_amin_share_the_gradient_among_ties_as_torch():
    """torch's rule: the gradient of each place is split evenly among the values equal to the
    result; with include_self=False torch still counts an equal input element, then gives it
    nothing (the numbers below are torch 2.13's)."""
    index = tg.tensor([0, 0, 1, 2, 2])

    def grads(reduce, include_self):
        x, src = f64([1.0, 5.0, 3.0, 5.0]), f64([5.0, 2.0, 5.0, 7.0, 7.0])
        x.scatter_reduce(0, index, src, reduce, include_self=include_self).sum().backward()
        return x.grad.tolist(), src.grad.tolist()
    assert grads("amax", True) == ([0.0, 0.5, 0.0, 1.0], [1.0, 0.0, 0.5, 0.5, 0.5])
    assert grads("amin", True) == ([1.0, 0.5, 1.0, 1.0], [0.0, 0.0, 0.5, 0.0, 0.0])
    assert grads("amin", False) == ([0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.5, 0.5, 0.5])


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_gradient_is_the_product_of_the_others_even_with_zeros(include_self):
    x = np.array([0.0, 2.0, 3.0, 0.0])
    src = np.array([4.0, 0.0, 5.0, 0.0, 0.0, 6.0, 7.0])
    index = np.array([0, 0, 1, 1, 1, 2, 3])
    xt, st = f64(x), f64(src)
    xt.scatter_reduce(0, tg.tensor(index), st, "prod", include_self=include_self).sum().backward()
    for i in range(len(src)):       # d/d src[i]: the product of everything else at its place
        place = index[i]
        others = [src[j] for j in range(len(src)) if index[j] == place and j != i]
        expected = np.prod(others + ([x[place]] if include_self else []))
        assert st.grad.numpy()[i] == expected
    for p in range(len(x)):
        expected = np.prod(src[index == p]) if include_self else 0.0
        assert xt.grad.numpy()[p] == expected


def test_scatter_reduce_prod_refuses_a_second_derivative_through_two_zeros_at_one_place():
    src = f64([0.0, 0.0, 2.0])
    out = f64([1.0, 1.0]).scatter_reduce(0, tg.tensor([0, 0, 1]), src, "prod").sum()
    with pytest.raises(TensorganError, match="two or more zeros of src at one place"):
        tg.autograd.grad(out, [src], create_graph=True)
    assert tg.autograd.grad(out, [src])[0].tolist() == [0.0, 0.0, 1.0]


def test_scatter_reduce_places_no_index_names_and_empty_index_keep_the_input():
    x = f64([1.0, 2.0, 3.0])
    for reduce in REDUCTIONS:
        out = x.scatter_reduce(0, tg.tensor([1]), f64([10.0]), reduce, include_self=False)
        assert out.tolist() == [1.0, 10.0, 3.0]
        empty = x.scatter_reduce(0, tg.tensor(np.zeros(0, dtype=np.int64)), f64(np.zeros(0)), reduce)
        assert empty.tolist() == [1.0, 2.0, 3.0]


def test_scatter_reduce_propagates_nan_and_in_place_form():
    out = tg.tensor([1.0, 2.0]).scatter_reduce(0, tg.tensor([0, 0]), tg.tensor([np.nan, 3.0]), "amax")
    assert np.isnan(out.numpy()[0]) and out.numpy()[1] == 2.0
    y = tg.zeros(3)
    assert y.scatter_reduce_(0, tg.tensor([0, 0, 2]), tg.tensor([1.0, 4.0, 2.0]), "mean") is y
    np.testing.assert_allclose(y.numpy(), [5.0 / 3.0, 0.0, 1.0], rtol=1e-6)


@pytest.mark.parametrize("reduce,name", [("add", "sum"), ("multiply", "prod")])
def test_scatter_with_reduce_is_scatter_reduce_including_the_input(reduce, name):
    out = f64(X).scatter(0, IDX, f64(SRC), reduce=reduce)
    np.testing.assert_allclose(out.detach().numpy(), scatter_reduce_loop(X, 0, IDX, SRC, name), rtol=1e-12)
    by_value = tg.scatter(f64(X), 0, IDX, value=2.0, reduce=reduce)
    np.testing.assert_allclose(by_value.detach().numpy(),
                               scatter_reduce_loop(X, 0, IDX, np.full(IDX.shape, 2.0), name), rtol=1e-12)
    grads_pass(lambda x, s: x.scatter(0, IDX, s, reduce=reduce), f64(X), f64(SRC))


@pytest.mark.parametrize("call,error,message", [
    (lambda x: x.scatter_reduce(0, [0], tg.ones(1), "max"), ConfigError, "reduce must be 'sum', 'prod', "),
    (lambda x: x.scatter_reduce(0, [0], tg.ones(1, dtype=tg.float64), "sum"), DTypeError,
     "src must have the input's dtype float32, got float64"),
    (lambda x: x.scatter_reduce(0, [0], 1.0, "sum"), InputTypeError, "src must be a Tensor"),
    (lambda x: x.scatter_reduce(0, [3], tg.ones(1), "amax"), IndexOutOfRangeError, "index 3 is out of bounds"),
    (lambda x: x.scatter_reduce(0, [0, 1], tg.ones(1), "sum"), ShapeError, r"nor larger than src \(1,\)"),
    (lambda x: x.scatter_reduce(0, [0], tg.ones(1, 1), "sum"), ShapeError, "as many dims as the input"),
    (lambda x: x.scatter(0, [0], 1.0, reduce="divide"), ConfigError, "'add' or 'multiply', got 'divide'"),
])
def test_scatter_reduce_refusals_name_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call(tg.zeros(3))


# ---------------------------------------------------------------------------------------------
# 2. cummax / cummin
# ---------------------------------------------------------------------------------------------
def running_extreme_loop(a, dim, larger):
    """torch's rule along ``dim``: a value at least as large (small) as the running one, or a NaN,
    takes over -- so ties give the last index and NaN sticks (its latest index)."""
    moved = np.moveaxis(a, dim, 0)
    values, indices = np.empty_like(moved), np.zeros(moved.shape, dtype=np.int64)
    for rest in np.ndindex(moved.shape[1:]):
        best = where = None
        for i in range(moved.shape[0]):
            v = moved[(i,) + rest]
            takes = best is None or v != v or (best == best and (v >= best if larger else v <= best))
            best, where = (v, i) if takes else (best, where)
            values[(i,) + rest], indices[(i,) + rest] = best, where
    return np.moveaxis(values, 0, dim), np.moveaxis(indices, 0, dim)


TIES = rng.choice([-1.0, 0.0, 2.0, np.nan], size=(4, 5))
TIES[0, 0] = np.nan     # a NaN first
TIES[:, 4] = [1.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize("op,larger", [("cummax", True), ("cummin", False)])
@pytest.mark.parametrize("a", [TIES, rng.integers(-2, 3, size=(3, 4, 2)), rng.standard_normal((2, 3)),
                               np.array([True, False, True, True]), np.zeros((2, 0))], ids=str)
def test_cummax_cummin_follow_torchs_rule(op, larger, a):
    for dim in range(-a.ndim, a.ndim):
        x = tg.tensor(a)
        result = getattr(tg, op)(x, dim)
        values, indices = getattr(x, op)(dim)
        want_values, want_indices = running_extreme_loop(a, dim % a.ndim, larger)
        assert result.values is result[0] and indices.dtype == tg.int64 and values.dtype == x.dtype
        np.testing.assert_array_equal(values.numpy(), want_values)
        np.testing.assert_array_equal(indices.numpy(), want_indices)


def test_cummax_of_a_0d_tensor_and_its_gradient_goes_to_the_chosen_element():
    values, indices = tg.cummax(tg.tensor(2.5), 0)
    assert values.shape == () and values.item() == 2.5 and indices.item() == 0
    x = f64([1.0, 3.0, 3.0, 2.0])
    x.cummax(0).values.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 2.0, 0.0]       # ties: the last one wins it all
    distinct = rng.permutation(12).reshape(3, 4) + rng.uniform(0, 0.1, (3, 4))
    for op in ("cummax", "cummin"):
        for dim in (0, 1):
            grads_pass(lambda t: getattr(t, op)(dim).values, f64(distinct))


def test_cummax_refusals():
    with pytest.raises(ShapeError, match="dim 2 is out of range"):
        tg.ones(2, 2).cummax(2)
    with pytest.raises(InputTypeError, match="dims must be an int"):
        tg.ones(2).cummin(None)


# ---------------------------------------------------------------------------------------------
# 3. tensor_split, hsplit / vsplit / dsplit
# ---------------------------------------------------------------------------------------------
def tensor_split_reference(a, spec, dim):
    """torch's docs: n sections, the first size % n one longer; or Python slices between indices."""
    if isinstance(spec, int):
        size, extra = divmod(a.shape[dim], spec)
        spec = list(np.cumsum([size + 1] * extra + [size] * (spec - extra))[:-1])
    bounds = [None, *spec, None]
    return [a[(slice(None),) * dim + (slice(lo, hi),)] for lo, hi in zip(bounds, bounds[1:])]


M = rng.standard_normal((7, 5))


@pytest.mark.parametrize("spec", [1, 3, 5, 7, 9, [2], [1, 4], [4, 1, 20], [-3, -1], (0, 0, 7)], ids=str)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_tensor_split_follows_torchs_definition(spec, dim):
    pieces = tg.tensor_split(f64(M), spec, dim)
    want = tensor_split_reference(M, spec, dim % 2)
    assert len(pieces) == len(want)
    for p, w in zip(pieces, want):
        np.testing.assert_array_equal(p.detach().numpy(), w)


def test_tensor_split_takes_tensors_gives_views_and_is_differentiable():
    x = tg.arange(10)
    assert [p.tolist() for p in x.tensor_split(tg.tensor(4))] == [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]]
    assert [p.tolist() for p in x.tensor_split(tg.tensor([1, 3]))] == [[0], [1, 2], list(range(3, 10))]
    assert [p.shape for p in tg.tensor_split(tg.zeros(0), 3)] == [(0,), (0,), (0,)]
    y = tg.zeros(6)
    y.tensor_split(3)[1].fill_(1.0)        # a view: writing it writes y
    assert y.tolist() == [0, 0, 1, 1, 0, 0]
    weights = [2.0, -1.0, 3.0]
    grads_pass(lambda t: tg.cat([p * w for p, w in zip(t.tensor_split([2, 3], 1), weights)], 1), f64(M))


@pytest.mark.parametrize("name,reference,a,spec", [
    ("hsplit", np.hsplit, np.arange(24.0).reshape(2, 4, 3), 2),
    ("hsplit", np.hsplit, np.arange(24.0).reshape(2, 4, 3), [1, 3]),
    ("hsplit", np.hsplit, np.arange(6.0), 3),
    ("vsplit", np.vsplit, np.arange(24.0).reshape(4, 6), 2),
    ("vsplit", np.vsplit, np.arange(24.0).reshape(4, 6), [3]),
    ("dsplit", np.dsplit, np.arange(24.0).reshape(2, 3, 4), [1, 2]),
    ("dsplit", np.dsplit, np.arange(24.0).reshape(2, 3, 4), 4),
])
def test_hsplit_vsplit_dsplit_match_numpys(name, reference, a, spec):
    pieces = getattr(tg, name)(tg.tensor(a), spec)
    method = getattr(tg.tensor(a), name)(spec)
    want = reference(a, spec)
    assert len(pieces) == len(want) == len(method)
    for p, q, w in zip(pieces, method, want):
        np.testing.assert_array_equal(p.numpy(), w)
        np.testing.assert_array_equal(q.numpy(), w)


@pytest.mark.parametrize("call,error,message", [
    (lambda: tg.tensor_split(tg.ones(4), 0), ShapeError, "number of sections must be > 0, got 0"),
    (lambda: tg.tensor_split(tg.ones(4), tg.tensor([1.0])), InputTypeError, "0-D or 1-D integer tensor"),
    (lambda: tg.tensor_split(tg.ones(4), tg.tensor([[1]])), InputTypeError, r"shape \(1, 1\)"),
    (lambda: tg.tensor_split(tg.ones(4), [1.5]), InputTypeError, "an int or a sequence of ints"),
    (lambda: tg.tensor_split(tg.tensor(1.0), 1), ShapeError, "out of range"),
    (lambda: tg.hsplit(tg.ones(10), 3), ShapeError, "size 10 does not divide into 3"),
    (lambda: tg.vsplit(tg.ones(4), 2), ShapeError, "at least 2 dims"),
    (lambda: tg.dsplit(tg.ones(2, 2), [1]), ShapeError, "at least 3 dims"),
])
def test_split_refusals_name_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------------------------------------
# 4. multinomial
# ---------------------------------------------------------------------------------------------
def test_multinomial_with_replacement_draws_in_proportion_to_the_weights():
    weights = np.array([[1.0, 0.0, 3.0, 6.0], [5.0, 5.0, 0.0, 0.0]])
    draws = tg.multinomial(tg.tensor(weights), 20000, replacement=True, generator=tg.Generator(0))
    assert draws.dtype == tg.int64 and draws.shape == (2, 20000)
    for row, w in zip(draws.numpy(), weights):
        freq = np.bincount(row, minlength=4) / row.size
        np.testing.assert_allclose(freq, w / w.sum(), atol=0.015)
        assert freq[w == 0].sum() == 0


def test_multinomial_without_replacement_is_sequential_sampling():
    """No category twice, zero weights never, and the first two draws distributed as drawing one
    by the weights, then another by the remaining weights."""
    g = tg.Generator(1)
    weights = tg.tensor([1.0, 2.0, 3.0, 4.0, 0.0])
    draws = np.array([weights.multinomial(2, generator=g).numpy() for _ in range(6000)])
    assert draws.shape == (6000, 2) and (draws[:, 0] != draws[:, 1]).all() and (draws != 4).all()
    np.testing.assert_allclose(np.bincount(draws[:, 0], minlength=5) / 6000, [0.1, 0.2, 0.3, 0.4, 0], atol=0.02)
    after_3 = draws[draws[:, 0] == 3, 1]
    np.testing.assert_allclose(np.bincount(after_3, minlength=5) / after_3.size, [1 / 6, 2 / 6, 3 / 6, 0, 0], atol=0.04)
    every = tg.multinomial(tg.ones(3, 5), 5, generator=g).numpy()
    assert (np.sort(every, axis=1) == np.arange(5)).all()


def test_multinomial_generator_shapes_and_empty_batches():
    one = tg.multinomial(tg.ones(10), 4, generator=tg.Generator(5)).numpy()
    assert (one == tg.multinomial(tg.ones(10), 4, generator=tg.Generator(5)).numpy()).all()
    assert one.shape == (4,)
    assert tg.multinomial(tg.ones(0, 3), 1).shape == (0, 1)
    assert tg.multinomial(tg.tensor([0.0, 1.0]), 1).tolist() == [1]
    tg.manual_seed(3)
    first = tg.multinomial(tg.ones(9), 3).numpy()
    tg.manual_seed(3)
    assert (first == tg.multinomial(tg.ones(9), 3).numpy()).all()


@pytest.mark.parametrize("call,error,message", [
    (lambda: tg.multinomial(tg.tensor([1.0, 0.0, 2.0]), 3), ConfigError,
     "cannot draw 3 samples without replacement from a row with 2 nonzero weights"),
    (lambda: tg.multinomial(tg.tensor([1, 2]), 1), DTypeError, "float tensor of weights, got int64"),
    (lambda: tg.multinomial(tg.tensor([0.0, 0.0]), 1, True), ConfigError, "sums to 0"),
    (lambda: tg.multinomial(tg.tensor([1.0, -1.0]), 1), ConfigError, "finite and >= 0"),
    (lambda: tg.multinomial(tg.tensor([1.0, np.inf]), 1), ConfigError, "finite and >= 0"),
    (lambda: tg.multinomial(tg.tensor([1.0, np.nan]), 1), ConfigError, "finite and >= 0"),
    (lambda: tg.multinomial(tg.ones(2, 2, 2), 1), ShapeError, r"1-D or 2-D, got shape \(2, 2, 2\)"),
    (lambda: tg.multinomial(tg.ones(3), 0), ConfigError, "num_samples must be an int > 0, got 0"),
    (lambda: tg.multinomial([1.0, 2.0], 1), InputTypeError, "must be a Tensor"),
])
def test_multinomial_refusals_name_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------------------------------------
# 5. index_put, take, put
# ---------------------------------------------------------------------------------------------
T = rng.standard_normal((3, 4, 2))
ROWS, COLS = np.array([0, 2, 0, 1, 0]), np.array([1, 3, 1, -1, 1])     # (0, 1) three times
VALUES = rng.standard_normal((5, 2))


def test_index_put_accumulate_adds_repeats_and_gradchecks():
    out = f64(T).index_put((tg.tensor(ROWS), tg.tensor(COLS)), f64(VALUES), accumulate=True)
    want = T.copy()
    np.add.at(want, (ROWS, COLS), VALUES)
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-12)
    key = (tg.tensor(ROWS), tg.tensor(COLS))
    grads_pass(lambda x, v: x.index_put(key, v, accumulate=True), f64(T), f64(VALUES))


def test_index_put_overwrites_broadcasts_and_takes_bool_masks():
    rows, cols = np.array([2, 0]), np.array([3, 1])
    out = tg.index_put(f64(T), (tg.tensor(rows), tg.tensor(cols)), f64(VALUES[:2]))
    want = T.copy()
    want[rows, cols] = VALUES[:2]
    np.testing.assert_array_equal(out.detach().numpy(), want)
    key = (tg.tensor(rows), tg.tensor(cols))
    grads_pass(lambda x, v: x.index_put(key, v), f64(T), f64(VALUES[:2]))
    filled = tg.zeros(3, 4).index_put((tg.tensor([True, False, True]),), tg.tensor([1.0, 2.0, 3.0, 4.0]))
    assert filled.tolist() == [[1, 2, 3, 4], [0, 0, 0, 0], [1, 2, 3, 4]]
    y = tg.zeros(2, 2)
    assert y.index_put_((tg.tensor([1, 1]),), tg.tensor(1.0), accumulate=True) is y
    assert y.tolist() == [[0, 0], [2, 2]]


def test_take_reads_the_flattened_tensor_in_the_index_shape():
    index = np.array([[0, 23], [-1, 5], [7, -24]])
    out = f64(T).take(tg.tensor(index))
    np.testing.assert_array_equal(out.detach().numpy(), np.take(T.ravel(), index))
    grads_pass(lambda x: tg.take(x, index), f64(T))


@pytest.mark.parametrize("accumulate", [False, True])
def test_put_writes_the_flattened_tensor(accumulate):
    index, source = np.array([[0, 5], [-1, 9]]), rng.standard_normal((2, 2))
    out = f64(T).put(tg.tensor(index), f64(source), accumulate)
    want = T.copy().ravel()
    (np.add.at if accumulate else np.put)(want, index.ravel(), source.ravel())
    np.testing.assert_allclose(out.detach().numpy(), want.reshape(T.shape), rtol=1e-12)
    grads_pass(lambda x, s: tg.put(x, index, s, accumulate), f64(T), f64(source))
    y = tg.zeros(2, 3)
    assert y.put_(tg.tensor([0, 0, -1]), tg.tensor([9.0, 8.0, 7.0]), accumulate=True) is y
    assert y.tolist() == [[17, 0, 0], [0, 0, 7]]


@pytest.mark.parametrize("call,error,message", [
    (lambda x: x.index_put(tg.tensor([0]), tg.tensor(1.0)), InputTypeError, "tuple of Tensors"),
    (lambda x: x.index_put((tg.tensor([0.0]),), tg.tensor(1.0)), InputTypeError, "integer or bool"),
    (lambda x: x.index_put((tg.tensor([5]),), tg.tensor(1.0)), IndexOutOfRangeError, "index 5 is out of bounds"),
    (lambda x: x.index_put((tg.tensor([0]),) * 3, tg.tensor(1.0)), IndexOutOfRangeError, "3 index tensors"),
    (lambda x: x.index_put((tg.tensor([0, 1]),), tg.tensor([1.0, 2.0])), ShapeError, r"\(2,\) do not broadcast to .*\(2, 4\)"),
    (lambda x: x.index_put((tg.tensor([0]),), tg.tensor([1])), DTypeError, "values must have the input's dtype"),
    (lambda x: x.take(tg.tensor([12])), IndexOutOfRangeError, "index 12 is out of bounds for dimension 0 with size 12"),
    (lambda x: x.take(tg.tensor([-13])), IndexOutOfRangeError, "index -13"),
    (lambda x: x.take(tg.tensor([0.5])), InputTypeError, "whole numbers"),
    (lambda x: x.put(tg.tensor([0, 1]), tg.ones(3)), ShapeError, "source has 3 elements but index has 2"),
    (lambda x: x.put(tg.tensor([0]), 1.0), InputTypeError, "source must be a Tensor"),
    (lambda x: tg.take([1, 2], [0]), InputTypeError, "tg.take: input must be a Tensor"),
])
def test_index_put_take_put_refusals_name_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call(tg.zeros(3, 4))
