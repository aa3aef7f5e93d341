"""The autograd engine: every elementary op's forward against NumPy and its gradient against
central differences in float64, on hypothesis-drawn shapes (broadcasting and size-1 dims included);
graph mechanics (diamonds, release, no_grad); the device and dtype rules; error messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tensorgan as tg
from tensorgan import functional as F

DEVICES = ["cpu"] + (["cuda"] if tg.cuda_status()[0] else [])
SETTINGS = settings(max_examples=25, deadline=None)


def t64(array, device="cpu", requires_grad=True):
    return tg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad, device=device)


def finite_floats(low=-3.0, high=3.0):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def arrays(shape, low=-3.0, high=3.0):
    return hnp.arrays(np.float64, shape, elements=finite_floats(low, high))


broadcast_pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)


# ------------------------------------------------------------------------------------------------
# Binary ops with broadcasting
# ------------------------------------------------------------------------------------------------
BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(data=st.data(), shapes=broadcast_pairs)
def test_binary_op_forward_and_gradient(device, name, data, shapes):
    op, np_op = BINARY[name]
    (sa, sb), _ = shapes
    a = data.draw(arrays(sa))
    b = data.draw(arrays(sb, 0.5, 3.0) if name == "div" else arrays(sb))  # keep divisors away from 0
    ta, tb = t64(a, device), t64(b, device)
    np.testing.assert_allclose(op(ta, tb).numpy(), np_op(a, b), rtol=1e-12)
    assert tg.gradcheck(op, [ta, tb])


@SETTINGS
@given(a=arrays((3, 2)), scalar=finite_floats(0.5, 2.0))
def test_python_scalars_and_reflected_ops(a, scalar):
    x = t64(a)
    for got, want in [(x + scalar, a + scalar), (scalar + x, scalar + a), (x - scalar, a - scalar),
                      (scalar - x, scalar - a), (scalar * x, scalar * a), (x / scalar, a / scalar),
                      (-x, -a)]:
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    assert tg.gradcheck(lambda t: scalar / (t * t + 1.0), [x])
    assert tg.gradcheck(lambda t: scalar - t * scalar, [x])


def test_numpy_array_operands_adopt_the_tensor_dtype():
    x = tg.ones(2, 2)
    y = x + np.ones((2, 2), dtype=np.float64)
    assert y.dtype == np.float32
    z = np.ones((2, 2)) * x  # numpy on the left defers to Tensor (__array_priority__)
    assert isinstance(z, tg.Tensor)


# ------------------------------------------------------------------------------------------------
# Unary ops
# ------------------------------------------------------------------------------------------------
UNARY = {
    "exp": (lambda t: t.exp(), np.exp, (-2, 2)),
    "log": (lambda t: t.log(), np.log, (0.2, 3)),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, (0.2, 3)),
    "tanh": (lambda t: t.tanh(), np.tanh, (-3, 3)),
    "sigmoid": (lambda t: t.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), (-5, 5)),
    "relu": (lambda t: t.relu(), lambda a: np.maximum(a, 0), (-3, 3)),
    "abs": (lambda t: t.abs(), np.abs, (-3, 3)),
    "clip": (lambda t: t.clip(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), (-3, 3)),
    "pow3": (lambda t: t ** 3, lambda a: a ** 3, (-2, 2)),
    "pow_half": (lambda t: t ** 0.5, lambda a: a ** 0.5, (0.2, 3)),
}
KINKS = {"relu": (0.0,), "abs": (0.0,), "clip": (-0.5, 0.7)}  # no derivative there: stay away


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
def test_unary_op_forward_and_gradient(device, name, data, shape):
    op, np_op, (low, high) = UNARY[name]
    a = data.draw(arrays(shape, low, high))
    for kink in KINKS.get(name, ()):
        a = np.where(np.abs(a - kink) < 1e-3, kink + 0.1, a)
    x = t64(a, device)
    np.testing.assert_allclose(op(x).numpy(), np_op(a), rtol=1e-12, atol=1e-14)
    assert tg.gradcheck(op, [x])


def test_sigmoid_does_not_overflow_in_float32():
    x = tg.tensor([-1000.0, 0.0, 1000.0])
    with np.errstate(all="raise"):
        np.testing.assert_allclose(x.sigmoid().numpy(), [0.0, 0.5, 1.0])


# ------------------------------------------------------------------------------------------------
# Matmul, reductions, shape ops
# ------------------------------------------------------------------------------------------------
@st.composite
def matmul_shapes(draw):
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    (ba, bb), _ = batch
    kind = draw(st.sampled_from(["2d", "batched", "vec_left", "vec_right"]))
    if kind == "2d":
        return (m, k), (k, n)
    if kind == "vec_left":
        return (k,), bb + (k, n)
    if kind == "vec_right":
        return ba + (m, k), (k,)
    return ba + (m, k), bb + (k, n)


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(data=st.data(), shapes=matmul_shapes())
def test_matmul(device, data, shapes):
    a, b = data.draw(arrays(shapes[0])), data.draw(arrays(shapes[1]))
    ta, tb = t64(a, device), t64(b, device)
    np.testing.assert_allclose((ta @ tb).numpy(), a @ b, rtol=1e-12, atol=1e-12)
    assert tg.gradcheck(lambda x, y: x @ y, [ta, tb])


@st.composite
def shape_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4))
    axis = draw(st.none() | st.integers(-len(shape), len(shape) - 1)
                | st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True).map(tuple))
    return shape, axis, draw(st.booleans())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@SETTINGS
@given(data=st.data(), spec=shape_and_axis())
def test_reductions(device, reduction, data, spec):
    shape, axis, keepdims = spec
    a = data.draw(arrays(shape))
    x = t64(a, device)
    op = lambda t: getattr(t, reduction)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(op(x).numpy(), getattr(np, reduction)(a, axis=axis, keepdims=keepdims),
                               rtol=1e-12, atol=1e-12)
    assert tg.gradcheck(op, [x])


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4))
def test_shape_ops(device, data, shape):
    a = data.draw(arrays(shape))
    x = t64(a, device)
    perm = data.draw(st.permutations(range(len(shape))))
    cases = [
        (lambda t: t.reshape(-1), a.reshape(-1)),
        (lambda t: t.reshape(tuple(reversed(shape))), a.reshape(tuple(reversed(shape)))),
        (lambda t: t.permute(*perm), a.transpose(perm)),
        (lambda t: t.transpose(0, -1), np.swapaxes(a, 0, -1)),
        (lambda t: t.flatten(), a.reshape(-1)),
        (lambda t: t.flatten(1) if t.ndim > 1 else t.flatten(), a.reshape(a.shape[0], -1) if a.ndim > 1 else a),
        (lambda t: t.T, a.T),
    ]
    for op, want in cases:
        np.testing.assert_array_equal(op(x).numpy(), want)
        weights = np.random.default_rng(0).standard_normal(want.shape)
        assert tg.gradcheck(lambda t: op(t) * t64(weights, device, False), [x])


@st.composite
def basic_index(draw, shape):
    key = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "all"]))
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start, stop = draw(st.integers(-n, n)), draw(st.integers(-n, n))
            key.append(slice(start, stop, draw(st.sampled_from([1, 2, -1]))))
        else:
            key.append(slice(None))
    if draw(st.booleans()):
        key.insert(draw(st.integers(0, len(key))), None)
    return tuple(key)


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
def test_basic_indexing(device, data, shape):
    a = data.draw(arrays(shape))
    key = data.draw(basic_index(shape))
    x = t64(a, device)
    np.testing.assert_array_equal(x[key].numpy(), a[key])
    assert tg.gradcheck(lambda t: t[key] * 2.0, [x])


def test_advanced_indexing_accumulates_repeated_indices():
    x = t64([1.0, 2.0, 3.0])
    x[np.array([0, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 1.0])


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), count=st.integers(1, 3))
def test_concat_and_stack(device, data, shape, count):
    axis = data.draw(st.integers(0, len(shape) - 1))
    parts = [data.draw(arrays(shape[:axis] + (data.draw(st.integers(1, 3)),) + shape[axis + 1:]))
             for _ in range(count)]
    ts = [t64(p, device) for p in parts]
    np.testing.assert_array_equal(tg.concat(ts, axis).numpy(), np.concatenate(parts, axis))
    assert tg.gradcheck(lambda *xs: tg.concat(xs, axis) * 3.0, ts)
    same = [t64(data.draw(arrays(shape)), device) for _ in range(count)]
    np.testing.assert_array_equal(tg.stack(same, 0).numpy(), np.stack([t.numpy() for t in same]))
    assert tg.gradcheck(lambda *xs: tg.stack(xs, -1).sum(axis=0), same)


# ------------------------------------------------------------------------------------------------
# Functional ops built on the engine (the kernel ops have their own test files)
# ------------------------------------------------------------------------------------------------
@SETTINGS
@given(data=st.data(), n=st.integers(1, 4), fin=st.integers(1, 5), fout=st.integers(1, 4), bias=st.booleans())
def test_linear(data, n, fin, fout, bias):
    x, w = t64(data.draw(arrays((n, fin)))), t64(data.draw(arrays((fout, fin))))
    b = t64(data.draw(arrays((fout,)))) if bias else None
    want = x.numpy() @ w.numpy().T + (b.numpy() if bias else 0)
    np.testing.assert_allclose(F.linear(x, w, b).numpy(), want, rtol=1e-12, atol=1e-12)
    assert tg.gradcheck(lambda *a: F.linear(*a), [x, w] + ([b] if bias else []))


@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
       reduction=st.sampled_from(["mean", "sum", "none"]))
def test_bce_with_logits_is_stable_and_correct(data, shape, reduction):
    x = data.draw(arrays(shape, -30, 30))
    t = data.draw(arrays(shape, 0, 1))
    logits = t64(x)
    loss = F.binary_cross_entropy_with_logits(logits, t, reduction=reduction)
    # -[t log sigmoid(x) + (1 - t) log sigmoid(-x)], with log sigmoid(x) = -logaddexp(0, -x)
    naive = t * np.logaddexp(0, -x) + (1 - t) * np.logaddexp(0, x)
    want = {"mean": naive.mean(), "sum": naive.sum(), "none": naive}[reduction]
    np.testing.assert_allclose(loss.numpy(), want, rtol=1e-6, atol=1e-9)
    assert tg.gradcheck(lambda z: F.binary_cross_entropy_with_logits(z, t, reduction=reduction), [logits])


def test_bce_with_logits_extreme_logits_float32():
    x = tg.tensor([-200.0, 200.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, [1.0, 0.0], reduction="sum")
    assert np.isclose(loss.item(), 400.0) and np.isfinite(loss.item())
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, 1.0])


def test_dropout_is_seeded_scaled_and_identity_in_eval():
    x = tg.ones(1000, requires_grad=True)
    y = F.dropout(x, 0.25, training=True, generator=tg.Generator(1))
    kept = y.numpy() != 0
    assert 0.6 < kept.mean() < 0.9
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75, rtol=1e-6)
    np.testing.assert_array_equal(F.dropout(x, 0.25, True, tg.Generator(1)).numpy(), y.numpy())
    assert F.dropout(x, 0.25, training=False) is x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, kept)


# ------------------------------------------------------------------------------------------------
# Graph mechanics
# ------------------------------------------------------------------------------------------------
def test_diamond_graph_accumulates_both_paths():
    x = t64([1.5, -2.0])
    a = x * 3.0
    y = (a * a + a.exp()).sum()  # a feeds two ops
    y.backward()
    xv = np.array([1.5, -2.0])
    np.testing.assert_allclose(x.grad.numpy(), 18 * xv + 3 * np.exp(3 * xv))


def test_leaf_used_twice_in_one_op_and_grads_accumulate_across_backwards():
    x = t64([2.0])
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [8.0])


def test_aliased_gradients_are_not_shared_between_leaves():
    a, b = t64([1.0]), t64([1.0])
    (a + b).sum().backward()
    a.grad.array *= 5  # an optimizer mutating one gradient must not change the other
    assert b.grad.item() == 1.0


def test_graph_is_released_after_backward():
    x = t64([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(tg.TensorganError, match="already freed"):
        y.backward()
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 2 + 2, 4 + 4 + 4])


def test_deep_graph_does_not_hit_recursion_limit():
    x = t64([1.0])
    y = x
    for _ in range(5000):
        y = y + 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0


def test_no_grad_and_requires_grad_propagation():
    x = t64([1.0], requires_grad=True)
    c = t64([2.0], requires_grad=False)
    assert (x * c).requires_grad and not (c * c).requires_grad
    with tg.no_grad():
        y = x * c
    assert not y.requires_grad and y.is_leaf
    assert tg.is_grad_enabled()

    @tg.no_grad()
    def infer(t):
        return t * 2.0

    assert not infer(x).requires_grad
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.is_leaf


def test_backward_errors_are_clear():
    x = t64([1.0, 2.0])
    with pytest.raises(tg.ShapeError, match=r"non-scalar tensor of shape \(2,\) needs grad"):
        (x * 2.0).backward()
    with pytest.raises(tg.TensorganError, match="does not require grad"):
        t64([1.0], requires_grad=False).backward()
    y = x * 2.0
    y.backward(np.array([1.0, 1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


# ------------------------------------------------------------------------------------------------
# Construction, dtypes, devices, errors
# ------------------------------------------------------------------------------------------------
def test_factories_dtypes_and_seeds():
    assert tg.tensor([1.0, 2]).dtype == np.float32 and tg.tensor([1, 2]).dtype == np.int64  # torch's
    assert tg.tensor(np.zeros(2)).dtype == np.float64  # float64 data keeps its dtype, as in torch
    assert tg.zeros(2, 3).shape == (2, 3) and tg.ones((2, 3), dtype="float64").dtype == np.float64
    np.testing.assert_array_equal(tg.randn(3, seed=7).numpy(), tg.randn(3, seed=7).numpy())
    g1, g2 = tg.Generator(3), tg.Generator(3)
    np.testing.assert_array_equal(tg.rand(4, generator=g1).numpy(), tg.rand(4, generator=g2).numpy())
    state = g1.get_state()
    first = tg.randn(5, generator=g1).numpy()
    g1.set_state(state)
    np.testing.assert_array_equal(tg.randn(5, generator=g1).numpy(), first)
    with pytest.raises(tg.DTypeError, match="uint16"):
        tg.tensor([1], dtype="uint16")


def test_float32_with_float64_promotes_as_torch_and_matmul_refuses_naming_both():
    assert (tg.ones(2) + tg.ones(2, dtype="float64")).dtype == np.float64
    assert (tg.ones(2) + tg.ones(2, dtype="float64").to("float32")).dtype == np.float32
    with pytest.raises(tg.DTypeError, match="float32 and float64"):
        tg.ones(2, 2) @ tg.ones(2, 2, dtype="float64")


def test_shape_errors_name_op_and_shapes():
    with pytest.raises(tg.ShapeError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        tg.ones(2, 3) + tg.ones(4)
    with pytest.raises(tg.ShapeError, match=r"matmul: shapes \(2, 3\) and \(2, 3\)"):
        tg.ones(2, 3) @ tg.ones(2, 3)
    with pytest.raises(tg.ShapeError, match="reshape"):
        tg.ones(2, 3).reshape(4)


def test_device_rules():
    assert str(tg.get_device("cpu")) == "cpu" and str(tg.zeros(1).device) in ("cpu", "cuda")
    with pytest.raises(tg.DeviceError, match="unknown device"):
        tg.zeros(1, device="tpu")
    x = tg.tensor([1.0, 2.0], requires_grad=True, device="cpu")
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    assert x.to("cpu") is x
    assert tg.tensor([3.0]).item() == 3.0
    with pytest.raises(tg.ShapeError, match=r"one-element tensor, got shape \(2,\)"):
        x.item()


@pytest.mark.skipif("cuda" not in DEVICES, reason="no CUDA device (not even the simulator) in this process")
def test_cuda_and_cpu_tensors_do_not_mix_and_to_is_differentiable():
    a = tg.tensor([1.0, 2.0], device="cpu", requires_grad=True)
    b = tg.tensor([1.0, 2.0], device="cuda")
    with pytest.raises(tg.DeviceError, match="one device"):
        a + b
    moved = a.to("cuda")
    assert moved.device.type == "cuda"
    (moved * b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 2.0])
    assert str(a.grad.device) == "cpu"


def test_cuda_unavailable_message_says_why(monkeypatch):
    from tensorgan import backend
    monkeypatch.delenv("NUMBA_ENABLE_CUDASIM", raising=False)
    ok, why = backend.cuda_status()
    if ok:
        pytest.skip("a real GPU is usable here")
    assert "CuPy" in why or "driver" in why
    monkeypatch.setattr(backend, "_devices", {})
    with pytest.raises(tg.DeviceError, match="not available"):
        backend.get_device("cuda")


def test_gradcheck_reports_input_index_and_values():
    class WrongSquare(tg.Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, g):
            return (g * self.x,)  # should be 2 * x

    x = t64([1.0, 2.0])
    with pytest.raises(tg.GradcheckError, match=r"input 0 \(shape \(2,\)\) at index \(\d,\): analytic"):
        tg.gradcheck(WrongSquare.apply, [x])
    with pytest.raises(tg.DTypeError, match="float64"):
        tg.gradcheck(lambda t: t * t, [tg.ones(2, requires_grad=True)])


# ------------------------------------------------------------------------------------------------
# Gradient checks the audit found missing: dtype casts, tensor indexing, linear on 1-D / 3-D
# inputs, losses without reduction, one-sided clip
# ------------------------------------------------------------------------------------------------
def test_dtype_cast_passes_the_gradient_back_in_the_leaf_dtype():
    x = t64(np.random.default_rng(0).standard_normal((3, 4)))
    # through float32 and back: differences of float32 rounding, hence the loose tolerances
    assert tg.gradcheck(lambda t: t.to("float32").to("float64") * 3, [x], eps=1e-3, atol=1e-3, rtol=1e-2)
    x.grad = None
    (x.float() * 2).sum().backward()
    assert x.grad.dtype == tg.float64 and np.all(x.grad.numpy() == 2)
    y = tg.tensor(np.ones(3, np.float32), requires_grad=True)
    (y.double() ** 2).sum().backward()
    assert y.grad.dtype == tg.float32 and np.all(y.grad.numpy() == 2)


def test_tensor_indexing_gradients():
    rng = np.random.default_rng(1)
    x = t64(rng.standard_normal((5, 4)))
    rows = np.array([0, 3, 3, 1])                       # a repeated row: its gradients add up
    assert tg.gradcheck(lambda t: t[rows], [x])
    assert tg.gradcheck(lambda t: t[rows, np.array([1, 2, 2, 0])], [x])
    assert tg.gradcheck(lambda t: t[x.numpy() > 0], [x])
    assert tg.gradcheck(lambda t: t[tg.tensor([4, 0]), 1:], [x])


@pytest.mark.parametrize("in_shape", [(4,), (2, 3, 4)])
@pytest.mark.parametrize("out_features", [1, 3])
def test_linear_gradients_on_1d_and_3d_inputs(in_shape, out_features):
    rng = np.random.default_rng(2)
    x, w, b = (t64(rng.standard_normal(s)) for s in (in_shape, (out_features, 4), (out_features,)))
    assert F.linear(x, w, b).shape == in_shape[:-1] + (out_features,)
    assert tg.gradcheck(F.linear, [x, w, b])


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "mse_loss", "binary_cross_entropy_with_logits"])
def test_losses_without_reduction_are_elementwise_and_gradchecked(loss):
    rng = np.random.default_rng(3)
    p = t64(rng.uniform(0.1, 0.9, (3, 2)))
    t = t64(rng.uniform(0, 1, (3, 2)))
    fn = getattr(F, loss)
    out = fn(p, t, reduction="none")
    assert out.shape == (3, 2)
    np.testing.assert_allclose(out.sum().item(), fn(p, t, reduction="sum").item(), rtol=1e-12)
    assert tg.gradcheck(lambda a, b: fn(a, b, reduction="none"), [p, t])


def test_one_sided_clip_gradients():
    x = t64(np.array([-2.0, -0.5, 0.3, 1.7, 3.0]))
    assert tg.gradcheck(lambda t: t.clip(min=0.0), [x]) and tg.gradcheck(lambda t: t.clip(max=1.0), [x])
    x.grad = None
    x.clip(max=1.0).sum().backward()
    assert x.grad.numpy().tolist() == [1, 1, 1, 0, 0]


def test_integer_array_indices_are_bounds_checked_on_the_host_for_cupy():
    # CuPy wraps out-of-range integer-array indices around; GetItem checks them against a
    # zero-stride host view first (here called directly: NumPy devices raise by themselves).
    from tensorgan.ops import _check_bounds_on_host
    _check_bounds_on_host((3, 4), (np.array([0, 2]), slice(None)))
    with pytest.raises(IndexError):
        _check_bounds_on_host((3, 4), (np.array([0, 3]), slice(None)))
    with pytest.raises(IndexError):
        _check_bounds_on_host((3, 4), (Ellipsis, np.array([-5])))
    with pytest.raises(IndexError):
        _check_bounds_on_host((3,), np.array([True, False]))        # a mask of the wrong length


def test_host_arrays_from_gpu_like_objects():
    from tensorgan.backend import as_host_array

    class FakeGpuArray:
        __cuda_array_interface__ = {}

        def get(self):
            return np.arange(3.0)
    np.testing.assert_array_equal(as_host_array(FakeGpuArray()), np.arange(3.0))
    np.testing.assert_array_equal(as_host_array([1.0, 2.0]), [1.0, 2.0])
