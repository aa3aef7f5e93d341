"""Integer tensors (int64 and narrower): torch's dtypes for construction, index results and counts,
its promotion rules for arithmetic, no gradients, and ``x[key] = value``.  Expected values come
from NumPy or by hand, never from the code under test."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorgan as tg
from tensorgan.errors import DTypeError, InputTypeError, TensorganError


def test_construction_infers_torch_dtypes():
    assert tg.tensor([1, 2]).dtype == tg.int64 and tg.tensor(3).dtype == tg.int64
    assert tg.tensor([1, 2.5]).dtype == tg.float32 and tg.tensor([]).dtype == tg.float32
    assert tg.tensor([True, False]).dtype == tg.bool and tg.tensor([True, 2]).dtype == tg.int64
    assert tg.tensor(np.array([1, 2], np.int32)).dtype == tg.int32
    assert tg.tensor(np.array([1, 2], np.uint16)).dtype == tg.int64        # no uint16: widened
    assert tg.arange(4).tolist() == [0, 1, 2, 3] and tg.arange(4).dtype == tg.int64
    assert tg.arange(0, 1, 0.5).dtype == tg.float32 and tg.arange(4, dtype=tg.float64).dtype == tg.float64
    assert tg.full((2,), 7).dtype == tg.int64 and tg.full((2,), 7.0).dtype == tg.float32
    assert tg.full((1,), True).dtype == tg.bool
    assert tg.zeros(2, dtype=tg.long).tolist() == [0, 0] and tg.eye(2, dtype=tg.int32).dtype == tg.int32
    assert tg.randint(0, 5, (100,), generator=tg.Generator(0)).dtype == tg.int64
    assert sorted(tg.randperm(6, generator=tg.Generator(0)).tolist()) == list(range(6))
    shared = np.arange(3)
    tg.from_numpy(shared)[0] = 9                                 # shares memory, as torch
    assert shared[0] == 9
    assert (tg.long, tg.int, tg.short) == (tg.int64, tg.int32, tg.int16)


def test_integers_never_require_grad_but_int_data_meant_as_floats_becomes_float():
    with pytest.raises(DTypeError, match="only float tensors can require gradients.*int64"):
        tg.tensor([1, 2], dtype=tg.int64, requires_grad=True)
    with pytest.raises(DTypeError, match="int32"):
        tg.ones(2, dtype=tg.int32).requires_grad_()
    with pytest.raises(DTypeError, match="only float tensors"):
        tg.zeros(2, dtype=tg.long, requires_grad=True)
    with pytest.raises(DTypeError, match="only float tensors.*int64"):
        tg.tensor([1, 2], requires_grad=True)       # Python ints: int64, refused (as torch 2.13)
    t = tg.tensor([1.0, 2], requires_grad=True)
    assert t.dtype == tg.float32 and t.requires_grad


@pytest.mark.parametrize("expr, values, dtype", [
    ("a + b", [5, -5, 0], "int64"), ("a - b", [1, 3, 8], "int64"), ("a * b", [6, 4, -16], "int64"),
    ("a // b", [1, 0, -1], "int64"), ("a % b", [1, -1, 0], "int64"), ("a ** 2", [9, 1, 16], "int64"),
    ("-a", [-3, 1, -4], "int64"), ("abs(b)", [2, 4, 4], "int64"),
    ("a / b", [1.5, 0.25, -1.0], "float32"), ("a + 0.5", [3.5, -0.5, 4.5], "float32"),
    ("a * f", [1.5, -0.5, 8.0], "float32"), ("a * d", [1.5, -0.5, 8.0], "float64"),
    ("a + 1", [4, 0, 5], "int64"), ("(a > 0) + 1", [2, 1, 2], "int64"),
    ("(a > 0) * 0.5", [0.5, 0.0, 0.5], "float32"), ("a.int() + a", [6, -2, 8], "int64"),
    ("a.int() * 2", [6, -2, 8], "int32"), ("a.byte() + a.char()", [6, 254, 8], "int16"),
    ("a.sum()", 6, "int64"), ("a.int().sum()", 6, "int64"), ("(a > 0).sum()", 2, "int64"),
    ("a.mean(dtype=tg.float32)", 2.0, "float32"), ("a.max()", 4, "int64"), ("a.prod()", -12, "int64"),
    ("a.cumsum(0)", [3, 2, 6], "int64"), ("a.exp().round()", [20.0, 0.0, 55.0], "float32"),
    ("a.clamp(0, 3)", [3, 0, 3], "int64"), ("a.clamp(min=0.5)", [3.0, 0.5, 4.0], "float32"),
    ("a.maximum(b)", [3, -1, 4], "int64"), ("a @ b", -6, "int64"), ("a.clone()", [3, -1, 4], "int64"),
    ("a.float()", [3.0, -1.0, 4.0], "float32"), ("tg.cat([a, f])", [3, -1, 4, 0.5, 0.5, 2], "float32"),
    ("a & 6", [2, 6, 4], "int64"), ("a | 8", [11, -1, 12], "int64"), ("~a", [-4, 0, -5], "int64"),
    ("a.div(b, rounding_mode='trunc')", [1, 0, -1], "int64"),
    ("a.div(b, rounding_mode='floor')", [1, 0, -1], "int64"),
    ("(-a).div(b, rounding_mode='trunc')", [-1, 0, 1], "int64"), ("(-a) // b", [-2, -1, 1], "int64"),
    ("tg.where(a > 0, a, 0.5)", [3.0, 0.5, 4.0], "float32"),
])
def test_promotion_follows_torch(expr, values, dtype):
    a, b = tg.tensor([3, -1, 4]), tg.tensor([2, -4, -4])
    f, d = tg.tensor([0.5, 0.5, 2.0]), tg.tensor(np.array([0.5, 0.5, 2.0]))
    out = eval(expr, {"tg": tg, "a": a, "b": b, "f": f, "d": d})
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out.numpy(), np.asarray(values, dtype=dtype))


def test_integer_division_by_zero_and_negative_powers_are_refused():
    with pytest.raises(ZeroDivisionError):
        tg.tensor([1, 2]) // 0
    with pytest.raises(ZeroDivisionError):
        tg.tensor([1, 2]) % tg.tensor([1, 0])
    with pytest.raises(InputTypeError, match="negative integer powers"):
        tg.tensor([2]) ** -1
    with pytest.raises(DTypeError):                       # an int tensor cannot hold 2.5 in place
        t = tg.tensor([1, 2])
        t += 2.5


def test_index_results_are_int64_and_exact_past_float32():
    x = tg.tensor(np.array([[1.0, 7.0, 7.0], [9.0, 0.0, 3.0]]))
    for index in (x.argmax(1), x.max(1).indices, x.sort(1).indices, x.topk(2).indices, x.argsort(1),
                  x.nonzero(), x.unique(return_inverse=True)[1], x.median(1).indices):
        assert index.dtype == tg.int64 and not index.requires_grad
    assert x[tg.arange(2), x.argmax(1)].tolist() == [7.0, 9.0]
    assert x.count_nonzero().dtype == tg.int64 and x.count_nonzero().item() == 5
    big = np.zeros(2 ** 24 + 3, np.float32)
    big[-1] = 1.0                                          # 16777218 is not a float32 number
    assert tg.tensor(big).argmax().item() == 2 ** 24 + 2


def test_integer_gradient_free_operand_in_a_float_graph():
    w = tg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    counts = tg.tensor([3, 0, 2])
    (w * counts).sum().backward()
    assert w.grad.dtype == tg.float32 and w.grad.tolist() == [3.0, 0.0, 2.0]


def test_item_index_and_conversions():
    t = tg.tensor([3])
    assert t.item() == 3 and isinstance(t.item(), int) and isinstance(float(t), float)
    assert list(range(10))[tg.tensor(4)] == 4 and range(tg.tensor(3)) == range(3)
    with pytest.raises(InputTypeError, match="integer tensors can be used as an index"):
        [0, 1][tg.tensor(1.0)]
    assert tg.tensor([1.7, -1.7]).long().tolist() == [1, -1] and tg.tensor([1.7]).int().dtype == tg.int32
    assert tg.tensor([1, 0]).bool().tolist() == [True, False]
    assert tg.tensor([2]).type() == "tensorgan.LongTensor" and isinstance(tg.tensor([2]), tg.LongTensor)


def test_modules_keep_integer_buffers_through_dtype_casts_and_checkpoints(tmp_path):
    class Counter(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = tg.nn.Linear(2, 2)
            self.register_buffer("steps", tg.tensor(5))

    m = Counter().double()
    assert m.lin.weight.dtype == tg.float64 and m.steps.dtype == tg.int64
    tg.save(m.state_dict(), tmp_path / "m.pt")
    fresh = Counter()
    fresh.load_state_dict(tg.load(tmp_path / "m.pt"))
    assert fresh.steps.item() == 5 and fresh.steps.dtype == tg.int64


def test_layers_name_an_integer_input():
    with pytest.raises(DTypeError, match="input is int64"):
        tg.nn.Linear(3, 2)(tg.tensor([[1, 2, 3]]))
    logits = tg.randn(3, 4, seed=0)
    labels = tg.tensor([0, 3, 1])
    assert tg.nn.functional.cross_entropy(logits, labels).item() == pytest.approx(
        tg.nn.functional.cross_entropy(logits, labels.byte()).item())
    with pytest.raises(DTypeError, match="int32"):     # int32 class indices: refused, as torch's
        tg.nn.functional.cross_entropy(logits, labels.int())
    with pytest.raises(DTypeError, match="float32"):     # float class indices: refused, as torch's
        tg.nn.functional.cross_entropy(logits, labels.float())
    assert tg.nn.functional.one_hot(labels, 4).dtype == tg.int64


def test_bincount_bitwise_and_logical_match_numpy():
    v = np.array([0, 1, 1, 3, 5])
    w = np.array([0.5, 1.0, 2.0, 0.25, 1.0], np.float32)
    np.testing.assert_array_equal(tg.tensor(v).bincount().numpy(), np.bincount(v))
    np.testing.assert_array_equal(tg.bincount(tg.tensor(v), minlength=8).numpy(), np.bincount(v, minlength=8))
    out = tg.tensor(v).bincount(tg.tensor(w))
    assert out.dtype == tg.float32
    np.testing.assert_allclose(out.numpy(), np.bincount(v, w))
    with pytest.raises(InputTypeError, match="1-D integer tensor"):
        tg.tensor([1.0, 2.0]).bincount()
    a, b = np.array([6, -3, 0]), np.array([3, 5, 0])
    np.testing.assert_array_equal((tg.tensor(a) ^ tg.tensor(b)).numpy(), a ^ b)
    np.testing.assert_array_equal(tg.logical_and(tg.tensor(a), tg.tensor(b)).numpy(), np.logical_and(a, b))
    np.testing.assert_array_equal(tg.tensor(a).logical_not().numpy(), np.logical_not(a))
    with pytest.raises(DTypeError, match="bool tensors .* or integer tensors"):
        tg.ones(2) & tg.ones(2)


# ---------------------------------------------------------------------------------------------
# x[key] = value
# ---------------------------------------------------------------------------------------------
def test_setitem_writes_in_place_like_numpy():
    x = tg.zeros(2, 3)
    x[0, 1] = 5
    x[1] = tg.tensor([1.0, 2.0, 3.0])
    x[x > 2] = -1
    expected = np.array([[0, -1, 0], [1, 2, -1]], np.float32)
    np.testing.assert_array_equal(x.numpy(), expected)
    ints = tg.tensor([[1, 2, 3], [4, 5, 6]])
    ints[:, 0] = 9.7                                       # cast to the tensor's dtype, as torch
    assert ints.tolist() == [[9, 2, 3], [9, 5, 6]] and ints.dtype == tg.int64
    z = tg.zeros(2, 3, 4)
    z[0, :, [0, 1]] = tg.ones(3, 2)                        # torch's order: the int first
    assert z[0].sum().item() == 6.0 and z[1].sum().item() == 0.0
    view = z[1]
    view[0, 0] = 4.0                                       # a view writes its base
    assert z[1, 0, 0].item() == 4.0


def test_setitem_on_tracked_tensors_is_a_graph_op():
    def f(x, v):
        y = x * 1.0
        y[1:, 0] = v * 2.0
        return y * x
    x = tg.randn(3, 2, dtype=tg.float64, seed=1, requires_grad=True)
    v = tg.randn(2, dtype=tg.float64, seed=2, requires_grad=True)
    assert tg.gradcheck(f, (x, v))
    w = tg.randn(2, requires_grad=True)
    with pytest.raises(TensorganError, match="leaf tensor that requires grad"):
        w[0] = 1.0
    with tg.no_grad():
        w[0] = 1.0
    assert w[0].item() == 1.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=1, max_size=12),
       st.lists(st.integers(-9, 9).filter(lambda v: v != 0), min_size=1, max_size=1),
       st.sampled_from(["+", "-", "*", "//", "%"]))
def test_integer_arithmetic_matches_numpy(values, divisor, op):
    a = np.array(values, np.int64)
    b = np.resize(np.array(divisor, np.int64), a.shape)
    out = eval(f"x {op} y", {"x": tg.tensor(a), "y": tg.tensor(b)})
    assert out.dtype == tg.int64
    np.testing.assert_array_equal(out.numpy(), eval(f"x {op} y", {"x": a, "y": b}))


# ---------------------------------------------------------------------------------------------
# Max pooling's indices and max unpooling
# ---------------------------------------------------------------------------------------------
def _pool_reference(a: np.ndarray, k: int, s: int, p: int):
    """Brute-force max pooling (padding never wins, the first maximum on ties) with torch's
    indices: row * W + col in each input plane."""
    n, c, h, w = a.shape
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    values, index = np.empty((n, c, ho, wo)), np.empty((n, c, ho, wo), np.int64)
    for i in range(ho):
        for j in range(wo):
            best = None
            for r in range(i * s - p, i * s - p + k):
                for q in range(j * s - p, j * s - p + k):
                    if 0 <= r < h and 0 <= q < w:
                        v = a[:, :, r, q]
                        best = (v, np.full(v.shape, r * w + q)) if best is None else (
                            np.where(v > best[0], v, best[0]), np.where(v > best[0], r * w + q, best[1]))
            values[:, :, i, j], index[:, :, i, j] = best
    return values, index


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 7), st.integers(2, 7), st.integers(1, 3), st.integers(1, 3), st.data())
def test_max_pool_indices_and_unpool_match_a_reference(h, w, k, s, data):
    k = min(k, h, w)
    p = data.draw(st.integers(0, k // 2))
    a = np.round(np.random.default_rng(h * 7 + w).standard_normal((2, 3, h, w)), 1)   # ties
    values, index = tg.nn.functional.max_pool2d(tg.tensor(a), k, s, p, return_indices=True)
    ref_values, ref_index = _pool_reference(a, k, s, p)
    assert index.dtype == tg.int64
    np.testing.assert_array_equal(values.numpy(), ref_values)
    np.testing.assert_array_equal(index.numpy(), ref_index)
    out = tg.nn.functional.max_unpool2d(values, index, k, s, p, output_size=(h, w))
    expected = np.zeros((2, 3, h * w))
    np.put_along_axis(expected, ref_index.reshape(2, 3, -1), ref_values.reshape(2, 3, -1), -1)
    np.testing.assert_array_equal(out.numpy(), expected.reshape(2, 3, h, w))


def test_unpool_gradient_layers_and_refusals():
    x = tg.randn(1, 2, 4, 6, dtype=tg.float64, seed=3)
    values, index = tg.nn.MaxPool2d(2, return_indices=True)(x)
    assert tg.gradcheck(lambda v: tg.nn.functional.max_unpool2d(v, index, 2) ** 2, (values.requires_grad_(),))
    assert tg.nn.MaxUnpool2d(2)(values, index).shape == (1, 2, 4, 6)
    v1, i1 = tg.nn.MaxPool1d(3, return_indices=True)(tg.tensor([[[1.0, 5.0, 2.0, 0.0, 7.0, 3.0]]]))
    assert i1.tolist() == [[[1, 4]]]
    assert tg.nn.MaxUnpool1d(3)(v1, i1).tolist() == [[[0.0, 5.0, 0.0, 0.0, 7.0, 0.0]]]
    _, ai = tg.nn.AdaptiveMaxPool2d(1, return_indices=True)(tg.tensor([[[[1.0, 9.0], [3.0, 2.0]]]]))
    assert ai.tolist() == [[[[1]]]]
    with pytest.raises(InputTypeError, match="integer tensor of the input's shape"):
        tg.nn.functional.max_unpool2d(values, index.float(), 2)
    with pytest.raises(tg.ShapeError, match="within a stride"):
        tg.nn.functional.max_unpool2d(values, index, 2, output_size=(9, 9))
    with pytest.raises(tg.errors.IndexOutOfRangeError, match="outside the output plane"):
        tg.nn.functional.max_unpool2d(values, index + 100, 2)
