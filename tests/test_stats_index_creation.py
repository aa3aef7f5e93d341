"""torch's remaining statistics / indexing / creation names (tensorgan/stats_ops.py,
creation_ops.py, torch_functional.py): values against NumPy formulas written from torch's
documentation, gradients by gradcheck / gradgradcheck in float64, refusals by typed errors."""
import itertools

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.functional as F

rng = np.random.default_rng(7)


def f64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype=tg.float64, requires_grad=requires_grad)


def distinct(*shape):
    """Values with no ties (sorting-based ops are differentiable there)."""
    return rng.permutation(np.prod(shape)).reshape(shape) * 0.37 + rng.random(shape) * 0.1


# ---------------------------------------------------------------------------------------------
# quantile / nanquantile / nanmedian / mode
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_matches_the_sorted_position_formula(interpolation):
    a = distinct(4, 7)
    q = np.array([0.0, 0.2, 0.5, 0.9, 1.0])
    for dim, keepdim in ((None, False), (None, True), (0, False), (1, True), (-1, False)):
        want = np.quantile(a, q, axis=dim, keepdims=keepdim, method=interpolation)
        got = tg.quantile(f64(a, False), tg.tensor(q, dtype=tg.float64), dim, keepdim,
                          interpolation=interpolation)
        assert got.shape == want.shape and np.allclose(got.numpy(), want), (dim, keepdim)
        one = f64(a, False).quantile(0.3, dim, keepdim, interpolation=interpolation)
        assert np.allclose(one.numpy(), np.quantile(a, 0.3, axis=dim, keepdims=keepdim, method=interpolation))


def test_quantile_linear_by_hand_and_nearest_rounds_half_to_even():
    x = f64([3.0, 1.0, 4.0, 2.0], False)            # sorted 1 2 3 4; q=0.5 -> position 1.5
    assert tg.quantile(x, 0.5).item() == 2.5
    five = f64([0.0, 1, 2, 3, 4], False)             # positions 0.5, 1.5, 2.5 -> 0, 2, 2 (half to even)
    got = tg.quantile(five, f64([0.125, 0.375, 0.625], False), interpolation="nearest")
    assert got.tolist() == [0.0, 2.0, 2.0]


def test_quantile_of_a_row_with_nan_is_nan_and_nanquantile_skips_it():
    a = distinct(3, 6)
    a[0, 2] = np.nan
    a[2, :] = np.nan
    got = tg.quantile(f64(a, False), 0.4, 1).numpy()
    assert np.isnan(got[0]) and np.isnan(got[2]) and np.isclose(got[1], np.quantile(a[1], 0.4))
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = np.nanquantile(a, [0.1, 0.75], axis=1)
    assert np.allclose(tg.nanquantile(f64(a, False), f64([0.1, 0.75], False), 1).numpy(), want, equal_nan=True)


def test_quantile_gradients():
    a = distinct(3, 5)
    for interpolation in ("linear", "midpoint", "lower", "nearest"):
        fn = lambda v: tg.quantile(v, tg.tensor([0.3, 0.8], dtype=tg.float64), 1, True, interpolation=interpolation)
        assert tg.gradcheck(fn, [f64(a)])
        # (piecewise linear: the second derivative is taken through a square, here and in unfold)
        assert tg.gradgradcheck(lambda v: fn(v * v), [f64(a)])
    assert tg.gradcheck(lambda v: tg.nanquantile(v, 0.6), [f64(a)])


def test_quantile_refusals():
    x = f64([1.0, 2.0, 3.0], False)
    with pytest.raises(tg.DTypeError, match="float32 or float64"):
        tg.quantile(tg.tensor([1, 2, 3]), 0.5)
    with pytest.raises(tg.ConfigError, match=r"\[0, 1\], got 1.5"):
        tg.quantile(x, 1.5)
    with pytest.raises(tg.ShapeError, match="scalar or a 1-D"):
        tg.quantile(x, f64([[0.5]], False))
    with pytest.raises(tg.DTypeError, match="q must have the input's dtype"):
        tg.quantile(x, tg.tensor([0.5]))
    with pytest.raises(tg.ConfigError, match="interpolation"):
        tg.quantile(x, 0.5, interpolation="cubic")
    with pytest.raises(tg.ShapeError, match="non-empty"):
        tg.quantile(tg.zeros(0), 0.5)


def test_nanmedian_is_the_lower_median_of_the_non_nan_elements():
    a = np.array([[np.nan, 3.0, 1.0, 2.0, np.nan], [5.0, 4.0, 0.5, 6.0, 7.0], [np.nan] * 5])
    values, indices = tg.nanmedian(f64(a, False), 1)
    assert values.numpy()[:2].tolist() == [2.0, 5.0] and np.isnan(values.numpy()[2])
    assert indices.dtype == np.int64 and indices.numpy()[:2].tolist() == [3, 0]
    assert tg.nanmedian(f64(a, False)).item() == sorted(a[~np.isnan(a)])[(np.sum(~np.isnan(a)) - 1) // 2]
    assert tg.nanmedian(f64(a, False), 0, keepdim=True).values.shape == (1, 5)
    assert np.isnan(tg.nanmedian(tg.zeros(0)).item())
    assert tg.gradcheck(lambda v: v.nanmedian(1).values, [f64(distinct(3, 4))])


def test_mode_is_the_smallest_most_frequent_value_at_its_last_occurrence():
    a = np.array([[3.0, 1.0, 1.0, 3.0, 2.0], [5.0, 5.0, 6.0, 0.0, 6.0]])
    values, indices = tg.mode(f64(a, False))
    assert values.tolist() == [1.0, 5.0] and indices.tolist() == [2, 1]
    ints = tg.tensor([[3, 1, 1], [5, 5, 6]]).mode(1, keepdim=True)
    assert ints.values.dtype == np.int64 and ints.values.shape == (2, 1) and ints.indices.tolist() == [[2], [1]]
    assert tg.gradcheck(lambda v: v.mode(0).values, [f64(a)])


# ---------------------------------------------------------------------------------------------
# histc / histogram / unique_consecutive
# ---------------------------------------------------------------------------------------------
def test_histc_counts_equal_bins_ignoring_outside_elements():
    a = rng.standard_normal(300)
    for bins, low, high in ((10, 0, 0), (7, -1, 1), (4, 0.5, 3.0)):
        lo, hi = (a.min(), a.max()) if low == high else (low, high)
        inside = a[(a >= lo) & (a <= hi)]
        want = np.bincount(np.minimum(((inside - lo) * bins / (hi - lo)).astype(int), bins - 1), minlength=bins)
        got = tg.histc(tg.tensor(a, dtype=tg.float64), bins, low, high)
        assert got.dtype == np.float64 and got.tolist() == want.tolist()
    assert tg.tensor([2.0, 2.0]).histc(4).tolist() == [0.0, 0.0, 2.0, 0.0]     # range 1..3
    with pytest.raises(tg.DTypeError, match="float32 or float64"):
        tg.histc(tg.tensor([1, 2]))
    with pytest.raises(tg.ConfigError, match="max must be larger than min"):
        tg.histc(tg.tensor([1.0]), 3, 2, 1)
    with pytest.raises(tg.ConfigError, match="bins must be an int > 0"):
        tg.histc(tg.tensor([1.0]), 0)


def test_histogram_bins_range_weight_density():
    a, w = rng.standard_normal(200), rng.random(200)
    for bins, rng_, density in ((10, None, False), (3, (-1.0, 2.0), True)):
        lo, hi = (a.min(), a.max()) if rng_ is None else rng_
        edges = np.linspace(lo, hi, bins + 1)
        idx = np.searchsorted(edges, a, side="right") - 1
        idx[a == hi] = bins - 1
        keep = (a >= lo) & (a <= hi)
        want = np.bincount(idx[keep], weights=w[keep], minlength=bins)
        if density:
            want = want / want.sum() / np.diff(edges)
        hist, got_edges = tg.histogram(tg.tensor(a, dtype=tg.float64), bins, range=rng_,
                                       weight=tg.tensor(w, dtype=tg.float64), density=density)
        assert np.allclose(hist.numpy(), want) and np.allclose(got_edges.numpy(), edges)
    edges = np.array([-2.0, -0.5, 0.0, 3.0])
    hist = tg.histogram(tg.tensor(a, dtype=tg.float64), tg.tensor(edges, dtype=tg.float64)).hist
    assert hist.tolist() == [float(((a >= -2) & (a < -0.5)).sum()), float(((a >= -0.5) & (a < 0)).sum()),
                             float(((a >= 0) & (a <= 3)).sum())]
    with pytest.raises(tg.ShapeError, match="weight must have the input's shape"):
        tg.histogram(tg.tensor([1.0, 2.0]), 2, weight=tg.tensor([1.0]))
    with pytest.raises(tg.ShapeError, match="increasing"):
        tg.histogram(tg.tensor([1.0]), tg.tensor([1.0, 0.0]))


def test_unique_consecutive():
    a = np.array([[1, 1, 2, 2, 3, 1, 1, 2], [1, 1, 2, 2, 3, 1, 1, 2], [0, 1, 2, 2, 3, 1, 1, 5]])
    flat = a.ravel()
    starts = np.r_[True, flat[1:] != flat[:-1]]
    values, inverse, counts = tg.unique_consecutive(tg.tensor(a), True, True)
    assert values.tolist() == flat[starts].tolist() and inverse.shape == a.shape
    assert inverse.numpy().ravel().tolist() == (np.cumsum(starts) - 1).tolist()
    assert counts.tolist() == np.diff(np.r_[np.flatnonzero(starts), flat.size]).tolist()
    rows, inv, cnt = tg.tensor(a).unique_consecutive(return_inverse=True, return_counts=True, dim=0)
    assert rows.tolist() == a[[0, 2]].tolist() and inv.tolist() == [0, 0, 1] and cnt.tolist() == [2, 1]
    cols = tg.tensor(a).unique_consecutive(dim=1)
    assert cols.tolist() == a[:, [0, 1, 2, 4, 5, 7]].tolist()
    assert tg.tensor([True, True, False]).unique_consecutive().tolist() == [True, False]


# ---------------------------------------------------------------------------------------------
# unfold, renorm, trapezoid, vander, combinations
# ---------------------------------------------------------------------------------------------
def test_unfold_windows_and_overlapping_gradient():
    a = rng.standard_normal((3, 8, 2))
    for dim, size, step in ((1, 3, 1), (1, 3, 2), (0, 2, 1), (-1, 1, 1), (1, 8, 3)):
        d = dim % 3
        starts = range(0, a.shape[d] - size + 1, step)
        want = np.stack([np.take(a, range(s, s + size), axis=d) for s in starts], axis=d)
        want = np.moveaxis(want, d + 1, -1)
        got = f64(a, False).unfold(dim, size, step)
        assert got.shape == want.shape and np.array_equal(got.numpy(), want)
    x = f64(np.arange(5.0))
    x.unfold(0, 3, 1).sum().backward()                  # element i lies in min(i+1, 3, 5-i) windows
    assert x.grad.tolist() == [1.0, 2.0, 3.0, 2.0, 1.0]
    fn = lambda v: v.unfold(1, 3, 2)
    assert tg.gradcheck(fn, [f64(a)]) and tg.gradgradcheck(lambda v: fn(v * v), [f64(a)])
    assert tg.tensor(5.0).unfold(0, 1, 1).shape == (1,)
    with pytest.raises(tg.ShapeError, match="size 4"):
        tg.zeros(3).unfold(0, 4, 1)
    with pytest.raises(tg.ConfigError, match="step"):
        tg.zeros(3).unfold(0, 1, 0)


def test_renorm_caps_each_slice_norm():
    a = rng.standard_normal((3, 4, 2)) * 2
    for p, dim, maxnorm in ((2, 0, 1.0), (1, 1, 2.0), (3, 2, 0.5)):
        other = tuple(i for i in range(3) if i != dim % 3)
        norms = (np.abs(a) ** p).sum(axis=other, keepdims=True) ** (1 / p)
        want = a * np.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
        assert np.allclose(f64(a, False).renorm(p, dim, maxnorm).numpy(), want)
        fn = lambda v: tg.renorm(v, p, dim, maxnorm)
        assert tg.gradcheck(fn, [f64(a)]) and tg.gradgradcheck(fn, [f64(a)])
    x = tg.ones(2, 2)
    assert x.renorm_(2, 0, 1.0) is x and np.allclose(x.numpy(), np.sqrt(0.5))
    with pytest.raises(tg.ShapeError, match="at least 2 dims"):
        tg.renorm(tg.ones(3), 2, 0, 1.0)
    with pytest.raises(tg.ConfigError, match="p must be > 0"):
        tg.renorm(tg.ones(2, 2), 0, 0, 1.0)


def test_trapezoid_and_cumulative_trapezoid():
    y = rng.standard_normal((3, 6))
    x = np.sort(rng.standard_normal(6))
    areas = (y[:, 1:] + y[:, :-1]) / 2 * np.diff(x)
    assert np.allclose(tg.trapezoid(f64(y, False), f64(x, False)).numpy(), areas.sum(1))
    assert np.allclose(tg.trapz(f64(y, False), f64(x, False)).numpy(), areas.sum(1))
    assert np.allclose(tg.cumulative_trapezoid(f64(y, False), f64(x, False)).numpy(), np.cumsum(areas, 1))
    assert np.allclose(tg.trapezoid(f64(y, False), dx=0.3, dim=0).numpy(),
                       ((y[1:] + y[:-1]) / 2 * 0.3).sum(0))
    assert np.allclose(tg.trapezoid(f64(y, False)).numpy(), ((y[:, 1:] + y[:, :-1]) / 2).sum(1))
    xs = rng.standard_normal((3, 6))                 # x of y's shape
    assert np.allclose(tg.trapezoid(f64(y, False), f64(xs, False)).numpy(),
                       ((y[:, 1:] + y[:, :-1]) / 2 * np.diff(xs, axis=1)).sum(1))
    assert tg.trapezoid(tg.zeros(3, 0)).tolist() == [0.0, 0.0, 0.0]
    assert tg.trapezoid(tg.tensor([1, 2, 4])).item() == 4.5        # integers: float32, as torch
    assert tg.gradcheck(lambda a, b: tg.trapezoid(a, b), [f64(y), f64(x)])
    assert tg.gradcheck(lambda a, b: tg.cumulative_trapezoid(a, b), [f64(y), f64(x)])
    with pytest.raises(tg.ShapeError, match="1-D x must have y's size 6"):
        tg.trapezoid(f64(y, False), f64(x[:4], False))
    with pytest.raises(tg.InputTypeError, match="x or dx"):
        tg.trapezoid(f64(y, False), f64(x, False), dx=1.0)


def test_vander_and_its_gradient_at_zero():
    v = np.array([0.0, 1.5, -2.0, 0.3])
    for N, increasing in ((None, False), (3, True), (6, False), (1, False)):
        n = 4 if N is None else N
        want = np.stack([v ** k for k in (range(n) if increasing else reversed(range(n)))], 1)
        assert np.allclose(tg.vander(f64(v, False), N, increasing).numpy(), want)
        assert tg.gradcheck(lambda a: tg.vander(a, N, increasing), [f64(v)])
    assert tg.gradgradcheck(lambda a: tg.vander(a, 4), [f64(v)])
    ints = tg.vander(tg.tensor([1, 2, 3], dtype=tg.int32))
    assert ints.dtype == np.int64 and ints.tolist() == [[1, 1, 1], [4, 2, 1], [9, 3, 1]]
    assert tg.vander(tg.zeros(3), 0).shape == (3, 0)
    with pytest.raises(tg.ShapeError, match="1-D"):
        tg.vander(tg.zeros(2, 2))


def test_combinations():
    v = np.array([1.0, 2.5, -3.0, 4.0])
    for r in (1, 2, 3):
        for replace in (False, True):
            pick = itertools.combinations_with_replacement if replace else itertools.combinations
            want = np.array([[v[i] for i in c] for c in pick(range(4), r)])
            got = tg.combinations(f64(v, False), r, replace)
            assert got.shape == want.shape and np.array_equal(got.numpy(), want)
    assert tg.combinations(tg.tensor([1.0, 2.0]), 3).shape == (0, 3)
    assert tg.combinations(tg.tensor([1.0, 2.0]), 0).shape == (0,)
    assert tg.gradcheck(lambda a: tg.combinations(a, 2), [f64(v)])
    with pytest.raises(tg.ShapeError, match="1-D"):
        tg.combinations(tg.zeros(2, 2))


# ---------------------------------------------------------------------------------------------
# masked_scatter, index_reduce, the *_scatter family, sum_to_size, split_with_sizes, fill_diagonal_
# ---------------------------------------------------------------------------------------------
def test_masked_scatter_fills_in_row_major_order():
    a, src = rng.standard_normal((3, 4)), rng.standard_normal(15)
    mask = rng.random((3, 4)) > 0.5
    want = a.copy()
    want[mask] = src[:mask.sum()]
    assert np.array_equal(f64(a, False).masked_scatter(tg.tensor(mask), f64(src, False)).numpy(), want)
    row = mask[0]                                         # broadcast over the rows
    want = a.copy()
    want[np.broadcast_to(row, a.shape)] = src[:3 * row.sum()]
    assert np.array_equal(tg.masked_scatter(f64(a, False), tg.tensor(row), f64(src, False)).numpy(), want)
    assert tg.gradcheck(lambda x, s: x.masked_scatter(tg.tensor(mask), s), [f64(a), f64(src)])
    x = tg.zeros(3)
    assert x.masked_scatter_(tg.tensor([True, False, True]), tg.tensor([2.0, 3.0])) is x
    assert x.tolist() == [2.0, 0.0, 3.0]
    with pytest.raises(tg.ShapeError, match="selects 3 places but source has only 2"):
        tg.zeros(3).masked_scatter(tg.tensor([True, True, True]), tg.ones(2))
    with pytest.raises(tg.DTypeError, match="mask must be a bool"):
        tg.zeros(3).masked_scatter(tg.ones(3), tg.ones(3))


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
def test_index_reduce(reduce):
    a, src = rng.standard_normal((4, 3)), rng.standard_normal((4, 5))
    index = np.array([0, 2, 2, 1, 0])
    for include_self in (True, False):
        want = a.copy()
        for j in range(3):
            picked = [src[:, k] for k in range(5) if index[k] == j]
            if not picked:
                continue
            values = ([a[:, j]] if include_self else []) + picked
            want[:, j] = {"prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce](values, axis=0)
        got = f64(a, False).index_reduce(1, tg.tensor(index), f64(src, False), reduce, include_self=include_self)
        assert np.allclose(got.numpy(), want), include_self
        assert tg.gradcheck(lambda x, s: tg.index_reduce(x, 1, tg.tensor(index), s, reduce,
                                                         include_self=include_self), [f64(a), f64(src)])


def test_index_reduce_refusals_and_in_place():
    with pytest.raises(tg.ConfigError, match="'prod', 'mean', 'amax' or 'amin'"):
        tg.zeros(3).index_reduce(0, tg.tensor([0]), tg.ones(1), "sum")
    with pytest.raises(tg.ShapeError, match="source must have shape"):
        tg.zeros(3, 2).index_reduce(0, tg.tensor([0]), tg.ones(2, 2), "prod")
    x = tg.ones(3)
    assert x.index_reduce_(0, tg.tensor([0, 0]), tg.tensor([2.0, 3.0]), "prod") is x
    assert x.tolist() == [6.0, 1.0, 1.0]
    assert tg.tensor([4, 7, 9]).index_reduce(0, tg.tensor([0, 0, 2]), tg.tensor([1, 2, 4]),
                                             "mean").tolist() == [2, 7, 6]     # floor division


def test_select_slice_and_diagonal_scatter():
    a = rng.standard_normal((3, 4, 5))
    s = rng.standard_normal((3, 5))
    want = a.copy()
    want[:, -2] = s
    assert np.array_equal(tg.select_scatter(f64(a, False), f64(s, False), 1, -2).numpy(), want)
    s = rng.standard_normal((3, 4, 2))
    want = a.copy()
    want[:, :, 1::2] = s
    assert np.array_equal(f64(a, False).slice_scatter(f64(s, False), 2, 1, None, 2).numpy(), want)
    for offset, d1, d2 in ((0, 0, 1), (1, 1, 2), (-1, 2, 0)):
        planes = np.moveaxis(a, (d1, d2), (-2, -1)).copy()
        m, n = planes.shape[-2:]
        length = max(min(m, n - offset) if offset >= 0 else min(m + offset, n), 0)
        rows, cols = np.arange(length) + max(-offset, 0), np.arange(length) + max(offset, 0)
        s = rng.standard_normal(planes.shape[:-2] + (length,))
        planes[..., rows, cols] = s
        got = tg.diagonal_scatter(f64(a, False), f64(s, False), offset, d1, d2)
        assert np.array_equal(got.numpy(), np.moveaxis(planes, (-2, -1), (d1, d2)))
        assert tg.gradcheck(lambda x, v: tg.diagonal_scatter(x, v, offset, d1, d2), [f64(a), f64(s)])
    assert tg.gradcheck(lambda x, v: tg.select_scatter(x, v, 0, 1), [f64(a), f64(a[0])])
    assert tg.gradcheck(lambda x, v: tg.slice_scatter(x, v, 1, 0, 2), [f64(a), f64(a[:, :2])])
    with pytest.raises(tg.ShapeError, match=r"src must have shape \(3, 5\)"):
        tg.select_scatter(tg.zeros(3, 4, 5), tg.zeros(3, 4), 1, 0)
    wide = tg.full((2, 2), 0.1, dtype=tg.float64, requires_grad=True)   # cast to input's dtype
    mixed = tg.slice_scatter(tg.zeros(2, 3), wide, 1, 1)
    assert mixed.dtype == tg.float32 and np.allclose(mixed.numpy()[:, 1:], np.float32(0.1))
    mixed.sum().backward()
    assert wide.grad.dtype == tg.float64 and np.all(wide.grad.numpy() == 1.0)
    with pytest.raises(tg.ShapeError, match="out of range"):
        tg.select_scatter(tg.zeros(2, 3), tg.zeros(2), 1, 3)


def test_sum_to_size_and_split_with_sizes():
    a = rng.standard_normal((3, 4, 5))
    for size, want in (((4, 1), a.sum(0).sum(1, keepdims=True)), ((1, 5), a.sum(0).sum(0, keepdims=True)),
                       ((3, 4, 5), a), ((1, 4, 1), a.sum((0, 2), keepdims=True))):
        assert np.allclose(f64(a, False).sum_to_size(*size).numpy(), want)
    assert f64(a, False).sum_to_size([1, 1]).shape == (1, 1)
    assert tg.gradcheck(lambda x: x.sum_to_size(4, 1), [f64(a)])
    with pytest.raises(tg.ShapeError, match="not expandable"):
        tg.zeros(2, 3).sum_to_size(2)
    parts = tg.split_with_sizes(f64(a, False), [1, 3], 1)
    assert [p.shape for p in parts] == [(3, 1, 5), (3, 3, 5)] and np.array_equal(parts[1].numpy(), a[:, 1:])
    with pytest.raises(tg.ShapeError, match="add up to 4, not to the size 5"):
        tg.zeros(5).split_with_sizes([2, 2])


def test_fill_diagonal_():
    for shape, wrap in (((7, 3), False), ((7, 3), True), ((3, 7), True), ((3, 3, 3), False)):
        want = np.zeros(shape)
        np.fill_diagonal(want, 2.5, wrap=wrap)       # torch documents NumPy's wrap for tall matrices
        x = tg.zeros(*shape)
        assert x.fill_diagonal_(2.5, wrap) is x and np.array_equal(x.numpy(), want)
    tall = tg.zeros(7, 3).fill_diagonal_(1.0, wrap=True).numpy()
    assert tall[3].tolist() == [0.0, 0.0, 0.0] and tall[4].tolist() == [1.0, 0.0, 0.0]
    with pytest.raises(tg.ShapeError, match="at least 2 dims"):
        tg.zeros(3).fill_diagonal_(1.0)
    with pytest.raises(tg.ShapeError, match="equal length"):
        tg.zeros(2, 3, 3).fill_diagonal_(1.0)


# ---------------------------------------------------------------------------------------------
# In-place view ops and random fills
# ---------------------------------------------------------------------------------------------
def test_in_place_view_ops_change_the_tensor_itself():
    a = rng.standard_normal((3, 4))
    for name, args, want in (("t_", (), a.T), ("transpose_", (0, 1), a.T), ("swapaxes_", (1, 0), a.T),
                             ("swapdims_", (0, 1), a.T), ("unsqueeze_", (1,), a[:, None])):
        x = f64(a, False)
        assert getattr(x, name)(*args) is x and np.array_equal(x.numpy(), want), name
    x = tg.zeros(2, 1, 3)
    assert x.squeeze_(1).shape == (2, 3) and x.squeeze_().shape == (2, 3)
    leaf = f64(a)                                        # on an op's result: in the graph, as torch
    y = leaf * 2
    y.t_()
    assert y.shape == (4, 3)
    (y * f64(np.arange(12.0).reshape(4, 3), False)).sum().backward()
    assert np.array_equal(leaf.grad.numpy(), 2 * np.arange(12.0).reshape(4, 3).T)
    with pytest.raises(tg.TensorganError, match="leaf tensor that requires grad"):
        f64(a).t_()
    with pytest.raises(tg.ShapeError):
        tg.zeros(2, 1, 3).t_()


def test_random_fills_draw_from_their_distributions():
    n = 100000
    x = tg.zeros(n, dtype=tg.float64)
    g = tg.Generator(3)
    assert x.exponential_(2.0, generator=g) is x and abs(x.numpy().mean() - 0.5) < 0.01 and x.numpy().min() >= 0
    x.log_normal_(0.1, 0.5, generator=g)
    assert abs(np.median(x.numpy()) - np.exp(0.1)) < 0.02
    x.cauchy_(1.0, 2.0, generator=g)
    q1, q3 = np.percentile(x.numpy(), [25, 75])
    assert abs(np.median(x.numpy()) - 1.0) < 0.05 and abs((q3 - q1) / 2 - 2.0) < 0.1
    x.geometric_(0.25, generator=g)
    assert x.numpy().min() == 1 and abs(x.numpy().mean() - 4.0) < 0.1
    x.bernoulli_(0.3, generator=g)
    assert set(np.unique(x.numpy())) == {0.0, 1.0} and abs(x.numpy().mean() - 0.3) < 0.01
    x.random_(3, 7, generator=g)
    assert np.unique(x.numpy()).tolist() == [3.0, 4.0, 5.0, 6.0]
    x.random_(4, generator=g)
    assert np.unique(x.numpy()).tolist() == [0.0, 1.0, 2.0, 3.0]
    u8 = tg.zeros(1000, dtype=tg.uint8).random_(generator=g)
    assert u8.dtype == np.uint8 and u8.numpy().max() > 200
    same = [tg.zeros(5).exponential_(generator=tg.Generator(1)).tolist() for _ in range(2)]
    assert same[0] == same[1]                            # generator= makes draws repeatable
    drawn = tg.tensor([0.0, 1.0, 1.0, 0.0]).bernoulli()
    assert drawn.tolist() == [0.0, 1.0, 1.0, 0.0] and tg.zeros(3).bernoulli(1.0).tolist() == [1.0] * 3


def test_random_fill_refusals():
    with pytest.raises(tg.DTypeError, match="float tensors only"):
        tg.zeros(2, dtype=tg.int64).exponential_()
    with pytest.raises(tg.ConfigError, match="lambd must be > 0"):
        tg.zeros(2).exponential_(-1.0)
    with pytest.raises(tg.ConfigError, match=r"p must be in \(0, 1\)"):
        tg.zeros(2).geometric_(1.5)
    with pytest.raises(tg.ConfigError, match=r"p must be in \[0, 1\]"):
        tg.zeros(2).bernoulli_(1.5)
    with pytest.raises(tg.ConfigError, match="from < to"):
        tg.zeros(2).random_(5, 3)
    with pytest.raises(tg.ConfigError, match="does not fit in uint8"):
        tg.zeros(2, dtype=tg.uint8).random_(0, 300)
    with pytest.raises(tg.TensorganError, match="leaf"):
        tg.zeros(2, requires_grad=True).exponential_()


# ---------------------------------------------------------------------------------------------
# Creation: triangle indices, unravel_index, logspace, windows, scalar_tensor, randint_like
# ---------------------------------------------------------------------------------------------
def test_triangle_indices_and_unravel_index():
    for r, c, o in ((4, 5, 0), (5, 3, 1), (3, 3, -1), (0, 3, 0)):
        low = tg.tril_indices(r, c, o)
        assert low.dtype == np.int64 and low.numpy().tolist() == [list(v) for v in np.tril_indices(r, o, c)]
        assert tg.triu_indices(r, c, o).numpy().tolist() == [list(v) for v in np.triu_indices(r, o, c)]
    rows, cols = tg.unravel_index(tg.tensor([[0, 5, 11], [3, 7, -1]]), (3, 4))
    assert rows.tolist() == [[0, 1, 2], [0, 1, 2]] and cols.tolist() == [[0, 1, 3], [3, 3, 3]]
    assert rows.dtype == np.int64
    with pytest.raises(tg.DTypeError, match="integer tensor"):
        tg.unravel_index(tg.tensor([1.0]), (2, 2))
    with pytest.raises(tg.ShapeError, match="index 4 is out of bounds"):
        tg.unravel_index(tg.tensor([4]), (2, 2))
    with pytest.raises(tg.InputTypeError, match="row must be an int >= 0"):
        tg.tril_indices(-1, 3)


def test_logspace_and_windows():
    assert np.allclose(tg.logspace(-1, 2, 4, dtype=tg.float64).numpy(), 10.0 ** np.linspace(-1, 2, 4))
    assert np.allclose(tg.logspace(0, 3, 4, base=2).numpy(), [1, 2, 4, 8]) and tg.logspace(0, 1, 2).dtype == np.float32
    for length in (0, 1, 2, 5, 8):
        for periodic in (True, False):
            size = length + 1 if periodic else length
            n = np.arange(size)
            with np.errstate(all="ignore"):
                forms = {"hann_window": 0.5 - 0.5 * np.cos(2 * np.pi * n / (size - 1)),
                         "hamming_window": 0.54 - 0.46 * np.cos(2 * np.pi * n / (size - 1)),
                         "blackman_window": 0.42 - 0.5 * np.cos(2 * np.pi * n / (size - 1))
                         + 0.08 * np.cos(4 * np.pi * n / (size - 1)),
                         "bartlett_window": 1 - np.abs(2 * n / (size - 1) - 1),
                         "kaiser_window": np.i0(12.0 * np.sqrt(np.clip(1 - (2 * n / (size - 1) - 1) ** 2, 0, 1)))
                         / np.i0(12.0)}
            for name, want in forms.items():
                want = np.ones(length) if length <= 1 else want[:length]
                got = getattr(tg, name)(length, periodic, dtype=tg.float64)
                assert got.shape == (length,) and np.allclose(got.numpy(), want), (name, length, periodic)
    assert tg.hann_window(4).dtype == np.float32
    assert np.allclose(tg.hamming_window(5, False, 0.5, 0.3, dtype=tg.float64).numpy(),
                       0.5 - 0.3 * np.cos(2 * np.pi * np.arange(5) / 4))
    with pytest.raises(tg.DTypeError, match="float dtype"):
        tg.hann_window(4, dtype=tg.int64)
    with pytest.raises(tg.InputTypeError, match="window_length"):
        tg.kaiser_window(-1)


def test_scalar_tensor_and_randint_like():
    s = tg.scalar_tensor(3)
    assert s.shape == () and s.dtype == np.float32 and s.item() == 3.0
    assert tg.scalar_tensor(2, dtype=tg.int64).dtype == np.int64
    r = tg.randint_like(tg.zeros(500, 2, dtype=tg.float64), 5, 9, generator=tg.Generator(0))
    assert r.dtype == np.float64 and r.shape == (500, 2) and set(np.unique(r.numpy())) == {5.0, 6.0, 7.0, 8.0}
    assert tg.randint_like(tg.zeros(3, dtype=tg.int32), 4).dtype == np.int32
    with pytest.raises(tg.InputTypeError, match="low < high"):
        tg.randint_like(tg.zeros(2), 3, 3)


# ---------------------------------------------------------------------------------------------
# torch's top-level functional names and signatures
# ---------------------------------------------------------------------------------------------
def test_top_level_functional_signatures():
    x = f64(rng.standard_normal((2, 4, 6, 6)), False)
    w, b = f64(rng.standard_normal(4), False), f64(rng.standard_normal(4), False)
    rm, rv = tg.zeros(4, dtype=tg.float64), tg.ones(4, dtype=tg.float64)
    assert np.allclose(tg.batch_norm(x, w, b, rm, rv, False, 0.1, 1e-5, True).numpy(),
                       F.batch_norm(x, rm, rv, w, b, False, 0.1, 1e-5).numpy())
    assert np.allclose(tg.instance_norm(x, w, b, None, None, True, 0.1, 1e-5, True).numpy(),
                       F.instance_norm(x, None, None, w, b).numpy())
    assert tg.dropout(x, 0.5, False) is x and tg.alpha_dropout(x, 0.5, False) is x
    with pytest.raises(TypeError):
        tg.dropout(x)                                     # torch.dropout has no defaults
    table = f64(rng.standard_normal((6, 3)), False)
    idx = tg.tensor([[0, 2], [1, 5]])
    assert np.array_equal(tg.embedding(table, idx).numpy(), table.numpy()[[[0, 2], [1, 5]]])
    assert tg.max_pool2d(x, 2).shape == (2, 4, 3, 3) and tg.max_pool1d(x[0], 3, (), 0).shape == (4, 6, 2)
    values, indices = tg.adaptive_max_pool1d(x[0, 0], 3)
    assert values.shape == (6, 3) and indices.dtype == np.int64
    assert np.allclose(tg.threshold(x, 0.1, -2.0).numpy(), np.where(x.numpy() > 0.1, x.numpy(), -2.0))
    assert np.allclose(tg.selu(x).numpy(), F.selu(x).numpy()) and np.allclose(x.hardshrink(0.3).numpy(),
                                                                               F.hardshrink(x, 0.3).numpy())
    assert tg.conv2d(x, f64(np.ones((3, 4, 3, 3)), False), None, 1, 1).shape == (2, 3, 6, 6)
    assert tg.channel_shuffle(x, 2).numpy()[:, 1].tolist() == x.numpy()[:, 2].tolist()


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides:UserWarning")  # torch's kl_div warning
def test_top_level_losses_take_an_int_reduction():
    u, v = f64(rng.standard_normal((5, 4)), False), f64(rng.standard_normal((5, 4)), False)
    target = f64([1, -1, 1, 1, -1], False)
    for code, name in ((0, "none"), (1, "mean"), (2, "sum")):
        assert np.allclose(tg.cosine_embedding_loss(u, v, target, 0.1, code).numpy(),
                           F.cosine_embedding_loss(u, v, target, 0.1, reduction=name).numpy())
        assert np.allclose(tg.kl_div(u, v.exp(), code).numpy(), F.kl_div(u, v.exp(), reduction=name).numpy())
        assert np.allclose(tg.poisson_nll_loss(u, v.abs(), True, False, 1e-8, code).numpy(),
                           F.poisson_nll_loss(u, v.abs(), True, False, eps=1e-8, reduction=name).numpy())
    assert tg.kl_div(u, v.exp()).shape == (5, 4)          # torch 2.13's top level: 'none' by default
    with pytest.raises(tg.ConfigError, match="reduction is an int here"):
        tg.kl_div(u, v, "mean")


def test_bce_with_logits_weight_and_pos_weight():
    x = rng.standard_normal((5, 4)) * 30                  # large logits: no overflow
    t, w, pw = rng.random((5, 4)), rng.random((5, 4)), rng.random(4) * 3
    sig = lambda z: 1 / (1 + np.exp(-z))
    with np.errstate(all="ignore"):
        log_p = np.where(x > 0, -np.log1p(np.exp(-x)), x - np.log1p(np.exp(x)))
        log_not_p = np.where(x > 0, -x - np.log1p(np.exp(-x)), -np.log1p(np.exp(x)))
    want = -w * (pw * t * log_p + (1 - t) * log_not_p)
    assert np.allclose(sig(0.0), 0.5)
    got = tg.binary_cross_entropy_with_logits(f64(x, False), f64(t, False), f64(w, False), f64(pw, False), 0)
    assert np.allclose(got.numpy(), want)
    assert np.isclose(F.binary_cross_entropy_with_logits(f64(x, False), f64(t, False), weight=f64(w, False),
                                                         pos_weight=f64(pw, False)).item(), want.mean())
    assert tg.gradcheck(lambda z: F.binary_cross_entropy_with_logits(z, f64(t, False), pos_weight=f64(pw, False)),
                        [f64(x / 30)])


def test_bilinear_alpha_dropout_channel_shuffle():
    x1, x2 = rng.standard_normal((5, 2, 3)), rng.standard_normal((5, 2, 4))
    w, b = rng.standard_normal((6, 3, 4)), rng.standard_normal(6)
    want = np.einsum("...i,oij,...j->...o", x1, w, x2) + b
    assert np.allclose(tg.bilinear(f64(x1, False), f64(x2, False), f64(w, False), f64(b, False)).numpy(), want)
    fn = lambda a, c, m, n: F.bilinear(a, c, m, n)
    assert tg.gradcheck(fn, [f64(x1), f64(x2), f64(w), f64(b)])
    with pytest.raises(tg.ShapeError, match="same leading"):
        tg.bilinear(tg.zeros(5, 3), tg.zeros(4, 4), tg.zeros(6, 3, 4))
    big = tg.randn(200000, dtype=tg.float64, generator=tg.Generator(0))
    out = F.alpha_dropout(big, 0.3, True, generator=tg.Generator(1)).numpy()
    assert abs(out.mean()) < 0.01 and abs(out.std() - 1) < 0.01          # SELU's fixed point kept
    alpha = 1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.3) * (1 + 0.3 * alpha ** 2)) ** -0.5
    assert np.isclose(np.min(np.abs(out - (-alpha * a + alpha * a * 0.3))), 0.0)   # the dropped value
    assert tg.gradcheck(lambda z: F.alpha_dropout(z, 0.4, True, generator=tg.Generator(5)), [f64(x1)])
    with pytest.raises(tg.ConfigError, match="dividing the 3 channels"):
        tg.channel_shuffle(tg.ones(1, 3, 2, 2), 2)
