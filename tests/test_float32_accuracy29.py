"""float32 accumulation accuracy of the CPU path against float64 ground truth, on adversarial data
(a large mean with a small spread, values summing to ~0, tens of thousands of rows).

NumPy adds the rows of an outer-axis reduction one by one in float32 (error ~ rows * eps); tensorgan
sums such axes in float64 (tensorgan/float_sums.py), as torch's CPU cascade sums are accurate
(~6e-8 relative here).  Before that fix the sums below were off by 5e-6 - 3e-5.
"""
import subprocess
import sys

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.float_sums import ACCURATE_MIN_SIZE, sum_float32

ROWS = 50000


def _data(shape, seed=0, kind="offset"):
    rng = np.random.default_rng(seed)
    if kind == "offset":                       # large mean, small spread
        return (40 + 0.05 * rng.standard_normal(shape)).astype(np.float32)
    a = 40 + 0.05 * rng.standard_normal(shape)  # +40 rows, then -40 rows: sums to ~0 along axis 0
    a[shape[0] // 2:] *= -1
    return (a - a.mean(0)).astype(np.float32)


def _rel(got, exact, scale=None):
    got = np.asarray(got, dtype=np.float64)
    return float(np.abs(got - exact).max() / (np.abs(exact).max() if scale is None else scale))


@pytest.mark.parametrize("kind", ["offset", "zero-sum"])
def test_sum_and_mean_over_many_rows(kind):
    x = _data((ROWS, 16), kind=kind)
    x64 = x.astype(np.float64)
    t = tg.tensor(x)
    scale = np.abs(x64).sum(0).max()           # a sum near 0: error relative to the sum of |terms|
    assert _rel(t.sum(0).numpy(), x64.sum(0), scale) < 2e-7
    assert _rel(t.mean(dim=0).numpy(), x64.mean(0), scale / ROWS) < 2e-7


def test_var_and_std_over_many_rows():
    x = _data((ROWS, 16))
    x64 = x.astype(np.float64)
    t = tg.tensor(x)
    assert _rel(t.var(0).numpy(), x64.var(0, ddof=1)) < 5e-7       # was 2e-5
    assert _rel(t.std(0).numpy(), x64.std(0, ddof=1)) < 5e-7


def test_linear_bias_gradient_over_a_large_batch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((ROWS, 16)).astype(np.float32)
    gy = _data((ROWS, 8), seed=2)
    lin = tg.nn.Linear(16, 8)
    lin(tg.tensor(x)).backward(tg.tensor(gy))
    assert _rel(lin.bias.grad.numpy(), gy.astype(np.float64).sum(0)) < 2e-7   # was 8e-6


def test_broadcast_bias_gradient_over_a_large_batch():
    """unbroadcast: the gradient of a bias added across (N, C, L) sums N and L."""
    gy = _data((ROWS // 10, 3, 16), seed=3)
    b = tg.zeros(1, 3, 1, requires_grad=True)
    (tg.zeros(gy.shape) + b).backward(tg.tensor(gy))
    exact = gy.astype(np.float64).sum((0, 2), keepdims=True)
    assert b.grad.shape == (1, 3, 1)
    assert _rel(b.grad.numpy(), exact) < 2e-7


def test_sums_of_permuted_and_strided_views():
    x = _data((4, ROWS, 4))
    t = tg.tensor(x).permute(1, 0, 2)          # the long axis first, not the outermost in memory
    exact = x.astype(np.float64).transpose(1, 0, 2)
    assert _rel(t.sum(0).numpy(), exact.sum(0)) < 2e-7
    assert _rel(t.sum((0, 2)).numpy(), exact.sum((0, 2))) < 2e-7
    flipped = _data((ROWS, 8))[::-1]           # negative strides: a copy in C order
    assert _rel(sum_float32(flipped, (0,), False), flipped.astype(np.float64).sum(0)) < 2e-7


@pytest.mark.parametrize("layout", ["c", "f", "permuted", "sliced"])
def test_shapes_and_values_match_numpy_over_axis_sets(layout):
    rng = np.random.default_rng(4)
    base = rng.standard_normal((300, 7, 20, 3)).astype(np.float32)
    a = {"c": base, "f": np.asfortranarray(base), "permuted": base.transpose(2, 0, 3, 1),
         "sliced": base[::2, :, ::3]}[layout]
    for axis in [(0,), (1,), (-1,), (0, 2), (0, 1, 3), (1, 3), (0, 1, 2, 3), (-2, 0)]:
        for keepdims in (False, True):
            got = sum_float32(a, axis, keepdims)
            exact = a.astype(np.float64).sum(axis=axis, keepdims=keepdims)
            assert got.shape == exact.shape and got.dtype == np.float32
            assert _rel(got, exact, np.abs(a).sum(axis=axis).max()) < 1e-6


def test_small_and_inner_reductions_stay_numpy_sums():
    """Below the size threshold, and where NumPy's pairwise inner run covers the rows, the result
    is NumPy's own sum, bit for bit."""
    rng = np.random.default_rng(5)
    small = rng.standard_normal((64, 128)).astype(np.float32)
    assert small.size < ACCURATE_MIN_SIZE
    np.testing.assert_array_equal(tg.tensor(small).sum(0).numpy(), small.sum(0))
    rows = rng.standard_normal((16, ROWS)).astype(np.float32)     # pairwise along the last axis
    np.testing.assert_array_equal(tg.tensor(rows).sum(1).numpy(), rows.sum(1))
    batch = rng.standard_normal((64, 128, 7, 7)).astype(np.float32)   # 64 rows: NumPy's order
    np.testing.assert_array_equal(tg.tensor(batch).sum((0, 2, 3)).numpy(), batch.sum((0, 2, 3)))


def test_float64_and_nonfinite_values():
    x = _data((ROWS, 4)).astype(np.float64)
    np.testing.assert_array_equal(tg.tensor(x).sum(0).numpy(), x.sum(0))    # NumPy's, untouched
    y = _data((ROWS, 4))
    y[7, 1], y[9, 2], y[11, 2] = np.nan, np.inf, -np.inf
    got = sum_float32(y, (0,), False)
    assert np.isnan(got[1]) and np.isnan(got[2]) and np.isfinite(got[[0, 3]]).all()


def test_import_tensorgan_does_not_import_numba_for_the_accurate_sums():
    """The float64-accumulating loop compiles on first use: `import tensorgan` stays Numba-free
    (Numba costs ~0.1 s to import; a program that never calls a kernel never pays it)."""
    code = "import sys, tensorgan; print('numba' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
