"""Ops merged in one session against torch's mixed-dtype rules: the special binary ops promote
float32 with float64 (fmax, nextafter, logaddexp2, ...), the scatter-into ops cast src to the
input's dtype, pad_sequence takes the first sequence's dtype, clamp takes Tensor bounds, and
tg.dist.  Expected values are NumPy formulas; gradients are gradchecked in float64."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.nn.utils.rnn import pad_sequence


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-2, 2, (3, 4)).astype(np.float32), rng.uniform(-2, 2, (3, 4))


@pytest.mark.parametrize("name,ref", [("fmax", np.fmax), ("fmin", np.fmin),
                                      ("logaddexp2", np.logaddexp2), ("nextafter", np.nextafter),
                                      ("copysign", np.copysign), ("hypot", np.hypot)])
def test_special_binary_ops_promote_float32_with_float64(name, ref):
    a32, a64 = _pair()
    for x, y in ((a32, a64), (a64, a32)):
        got = getattr(tg, name)(tg.tensor(x), tg.tensor(y))
        assert got.dtype == tg.float64, (name, x.dtype, y.dtype)
        assert np.array_equal(got.numpy(), ref(x.astype(np.float64), y.astype(np.float64)))


def test_nan_ignoring_max_keeps_each_inputs_gradient_dtype():
    a32, a64 = _pair(1)
    x, y = tg.tensor(a32, requires_grad=True), tg.tensor(a64, requires_grad=True)
    tg.fmax(x, y).sum().backward()
    assert x.grad.dtype == tg.float32 and y.grad.dtype == tg.float64
    wins = a32.astype(np.float64) >= a64
    assert np.array_equal(x.grad.numpy(), wins.astype(np.float32))
    assert np.array_equal(y.grad.numpy(), (~wins).astype(np.float64))


@pytest.mark.parametrize("op", ["select", "slice", "diagonal"])
def test_scatter_into_casts_src_to_the_input_dtype(op):
    base = tg.zeros(3, 3)
    src = tg.full((3,), 0.1, dtype=tg.float64, requires_grad=True)
    out = {"select": lambda: tg.select_scatter(base, src, 0, 1),
           "slice": lambda: tg.slice_scatter(base, src.reshape(1, 3), 0, 2),
           "diagonal": lambda: tg.diagonal_scatter(base, src)}[op]()
    assert out.dtype == tg.float32
    assert np.isclose(out.numpy().sum(), 3 * np.float32(0.1))
    out.sum().backward()
    assert src.grad.dtype == tg.float64 and np.all(src.grad.numpy() == 1.0)


def test_pad_sequence_takes_the_first_sequences_dtype():
    out = pad_sequence([tg.ones(1, 2, dtype=tg.float64), tg.full((2, 2), 0.1)])
    assert out.dtype == tg.float64 and out.shape == (2, 2, 2)
    assert out.numpy()[:, 1].tolist() == [[np.float64(np.float32(0.1))] * 2] * 2


def test_clamp_with_tensor_bounds_matches_where_formulas():
    rng = np.random.default_rng(2)
    x, lo, hi = rng.normal(size=(4, 5)), rng.normal(size=(1, 5)) - 0.5, rng.normal(size=(4, 1)) + 0.5
    got = tg.clamp(tg.tensor(x), min=tg.tensor(lo), max=tg.tensor(hi))
    assert np.array_equal(got.numpy(), np.minimum(np.maximum(x, lo), hi))
    assert tg.gradcheck(lambda a, b, c: a.clamp(b, c), [tg.tensor(x, requires_grad=True),
                                                       tg.tensor(lo, requires_grad=True),
                                                       tg.tensor(hi, requires_grad=True)])
    # torch's rules: at a tie the input keeps the gradient; with min > max the result is max
    v = tg.tensor([0.5, 0.5], requires_grad=True)
    lo2, hi2 = tg.tensor([0.5, 1.0], requires_grad=True), tg.tensor([2.0, 0.0], requires_grad=True)
    out = tg.clamp(v, lo2, hi2)
    out.sum().backward()
    assert out.tolist() == [0.5, 0.0]
    assert v.grad.tolist() == [1.0, 0.0] and lo2.grad.tolist() == [0.0, 0.0] and hi2.grad.tolist() == [0.0, 1.0]
    assert tg.arange(4).clamp(max=tg.tensor(2)).tolist() == [0, 1, 2, 2]
    assert tg.arange(3).clamp(min=tg.tensor([0.5, 0.5, 0.5])).dtype == tg.float32
    y = tg.tensor([-2.0, 0.5, 3.0])
    y.clamp_(tg.tensor([0.0, 1.0, 0.0]), tg.tensor(2.0))
    assert y.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(tg.InputTypeError, match="both be Tensors"):
        tg.clamp(tg.ones(2), min=tg.zeros(2), max=1.0)


@pytest.mark.parametrize("p", [2, 1, 3.5, float("inf"), -1.5, 0])
def test_dist_is_the_p_norm_of_the_difference(p):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4,))
    diff = np.abs(a - b).ravel()
    want = (np.count_nonzero(diff) if p == 0 else diff.max() if p == float("inf")
            else (diff ** p).sum() ** (1 / p))
    assert np.isclose(tg.dist(tg.tensor(a), tg.tensor(b), p).item(), want, rtol=1e-12)
    assert np.isclose(tg.tensor(a).dist(tg.tensor(b), p).item(), want, rtol=1e-12)
    if p not in (0, float("inf")):
        assert tg.gradcheck(lambda x, y: tg.dist(x, y, p), [tg.tensor(a, requires_grad=True),
                                                           tg.tensor(b, requires_grad=True)])
    with pytest.raises(tg.InputTypeError, match="other must be a Tensor"):
        tg.dist(tg.tensor(a), 1.0)


@pytest.mark.parametrize("call", [lambda a, b: tg.isclose(a, b), lambda a, b: a.allclose(b),
                                  lambda a, b: tg.linalg.cross(a, b), lambda a, b: tg.linalg.vecdot(a, b),
                                  lambda a, b: tg.meshgrid(a, b, indexing="ij"),
                                  lambda a, b: tg.cartesian_prod(a, b)])
def test_ops_torch_refuses_on_mixed_dtypes_are_refused(call):
    a, b = tg.ones(3), tg.ones(3, dtype=tg.float64)
    with pytest.raises(tg.DTypeError, match="float32.*float64"):
        call(a, b)
    call(a, a)                                   # one dtype: fine


def test_cov_with_float64_aweights_is_float64():
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(2, 5)), rng.uniform(0.5, 2, 5)
    got = tg.cov(tg.tensor(x.astype(np.float32)), aweights=tg.tensor(w))
    assert got.dtype == tg.float64
    np.testing.assert_allclose(got.numpy(), np.cov(x.astype(np.float32).astype(np.float64), aweights=w),
                               rtol=1e-12)
