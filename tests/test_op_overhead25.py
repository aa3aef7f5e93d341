"""Per-op Python overhead (session 25): the faster paths of stack, where, F.pad, nearest
interpolate, layer_norm, the small-product BLAS scope, the mean of the losses, the factories,
plain index keys, expand and single dims give what the general paths gave -- values, dtypes,
graphs and errors (correctness tests only; no timings)."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan import backend, functional as Fm
from tensorgan.errors import ConfigError, ShapeError


def _leaf(*shape, dtype=tg.float64, seed=0):
    rng = np.random.default_rng(seed)
    return tg.tensor(rng.standard_normal(shape), dtype=dtype, requires_grad=True)


# -- stack: the new axis added inside the op (no reshape node per input) ----------------------
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack_values_gradients_and_graph(dim):
    x, y = _leaf(2, 3), _leaf(2, 3, seed=1)
    s = tg.stack([x, y * 2], dim)
    np.testing.assert_array_equal(s.detach().numpy(),
                                  np.stack([x.detach().numpy(), 2 * y.detach().numpy()], dim))
    assert s.grad_fn.name() == "StackBackward0"
    first, second = (node for node, _ in s.grad_fn.next_functions)
    assert type(first).__name__ == "AccumulateGrad" and first.variable is x   # as torch's graph
    assert second.name() == "MulBackward0"
    w = np.random.default_rng(2).standard_normal(s.shape)
    (s * tg.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.take(w, 0, axis=dim))
    np.testing.assert_array_equal(y.grad.numpy(), 2 * np.take(w, 1, axis=dim))


def test_stack_double_backward_scalars_and_promotion():
    x = _leaf(2, 3)
    (g,) = tg.autograd.grad((tg.stack([x, x], 1) ** 2).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 4 * x.detach().numpy())
    g.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 4.0))
    assert tg.stack([tg.tensor(1.0), tg.tensor(2.0)]).tolist() == [1.0, 2.0]
    assert tg.stack([tg.ones(2), tg.ones(2, dtype=tg.float64)]).dtype == tg.float64
    assert tg.stack([tg.ones(2), tg.ones(2, dtype=tg.int64)]).dtype == tg.float32
    assert tg.stack([tg.ones(2), np.zeros(2, np.float32)]).tolist() == [[1.0, 1.0], [0.0, 0.0]]


def test_stack_errors_unchanged():
    with pytest.raises(ShapeError, match=r"concat along axis 0: shapes \[\(1, 2, 3\), \(1, 2, 4\)\]"):
        tg.stack([tg.ones(2, 3), tg.ones(2, 4)])
    with pytest.raises(ShapeError, match="same number of dims"):
        tg.stack([tg.ones(2, 3), tg.ones(2)])
    with pytest.raises(TypeError, match="element 1"):     # torch: a TypeError too
        tg.stack([tg.ones(2), [1.0, 2.0]])


# -- where: shapes checked only once NumPy refused them --------------------------------------
def test_where_names_shapes_that_do_not_broadcast():
    x = tg.ones(2, 3)
    with pytest.raises(ShapeError, match=r"where: shapes \(2, 3\) \(condition\), \(2, 3\) and \(4,\)"):
        tg.where(x > 0, x, tg.ones(4))
    with pytest.raises(ShapeError, match=r"where: shapes \(5,\) \(condition\), \(2, 3\) and \(2, 3\)"):
        tg.where(tg.ones(5, dtype=tg.bool), x, x)
    with pytest.raises(ShapeError, match=r"\(2, 3\) \(condition\), \(\) and \(3, 2\)"):
        tg.where(x > 0, 1.0, tg.ones(3, 2))


def test_where_values_dtypes_and_gradients():
    x = _leaf(2, 3)
    y = tg.where(x > 0, x, x * 0.2)
    a = x.detach().numpy()
    np.testing.assert_array_equal(y.detach().numpy(), np.where(a > 0, a, a * 0.2))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(a > 0, 1.0, 0.2))
    assert tg.where(x > 0, tg.arange(3), 0.5).dtype == tg.float32
    assert tg.where(x > 0, tg.arange(3), 2).dtype == tg.int64


# -- F.pad: the zero fill is written, not added --------------------------------------------------
def test_pad_keeps_negative_zero_as_torch():
    # torch 2.13: 1 / F.pad(torch.tensor([-0.0, 1.0]), (1, 1)) is [inf, -inf, 1, inf]
    out = F.pad(tg.tensor([-0.0, 1.0]), (1, 1))
    assert np.signbit(out.numpy()).tolist() == [False, True, False, False]
    mask = F.pad(tg.tensor([True, False]), (1, 0))
    assert mask.dtype == tg.bool and mask.tolist() == [False, True, False]


@pytest.mark.parametrize("pad", [(1, 2), (0, 0, 1, 1, 2, 2), (-1, 2, 1, 0), (1, -2), (-1, -1), (0, 0)])
def test_pad_amounts_values_and_gradients(pad):
    x = _leaf(2, 3, 4)
    y = F.pad(x, pad)
    ref = x.detach().numpy()
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)][::-1]
    first = 3 - len(pairs)
    crop = (Ellipsis,) + tuple(slice(max(-b, 0), n - max(-a, 0))
                               for (b, a), n in zip(pairs, ref.shape[first:]))
    ref = np.pad(ref[crop], [(0, 0)] * first + [(max(b, 0), max(a, 0)) for b, a in pairs])
    np.testing.assert_array_equal(y.detach().numpy(), ref)
    y.sum().backward()
    expect = np.zeros(x.shape)
    expect[crop] = 1.0
    np.testing.assert_array_equal(x.grad.numpy(), expect)
    if any(p > 0 for p in pad):
        assert y.grad_fn.name() == "ConstantPadNdBackward0"


def test_pad_errors_unchanged():
    x = tg.ones(2, 3, 4)
    with pytest.raises(ShapeError, match=r"pad: \(-3, -2\) crops more than all of a dim"):
        F.pad(x, (-3, -2))      # (-2, -2) leaves a dim of 0, as torch's (no error)
    with pytest.raises(ShapeError, match="even number of ints"):
        F.pad(x, (1,))
    with pytest.raises(tg.errors.InputTypeError, match="must be a sequence of ints"):
        F.pad(x, (1.0, 1))
    assert F.pad(x, [tg.tensor(1), 2]).shape == (2, 3, 7)   # a one-element int tensor, as torch


# -- nearest interpolate by 1 or 2: whole blocks without building the index ----------------------
@pytest.mark.parametrize("kwargs", [dict(scale_factor=2), dict(size=(6, 5)), dict(scale_factor=(1, 2)),
                                    dict(size=(7, 5))])
def test_nearest_interpolate_matches_the_index_composite(kwargs):
    x = _leaf(2, 3, 3, 5)
    y = F.interpolate(x, **kwargs)
    h, w = y.shape[2:]
    rows = np.floor(np.arange(h, dtype=np.float32) * np.float32(3 / h)).astype(int) if h != 6 \
        else np.arange(h) // 2
    cols = np.arange(w) // (w // 5)
    ref = x.detach().numpy()[:, :, rows][:, :, :, cols]
    np.testing.assert_array_equal(y.detach().numpy(), ref)
    if h != 7:
        assert y.is_contiguous() and y.grad_fn.name() != "IndexBackward0"    # whole blocks
    y.backward(tg.ones(*y.shape, dtype=tg.float64))
    counts = np.zeros((3, 5))
    np.add.at(counts, (rows[:, None], cols[None, :]), 1.0)
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(counts, x.shape))


def test_nearest_interpolate_of_a_transposed_input_and_ints():
    x = tg.arange(12, dtype=tg.float32).reshape(1, 1, 3, 4).transpose(2, 3)
    ref = x.numpy().repeat(2, axis=2).repeat(2, axis=3)
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=2).numpy(), ref)
    u8 = tg.tensor(np.arange(6, dtype=np.uint8).reshape(1, 1, 2, 3))
    out = F.interpolate(u8, scale_factor=2)
    assert out.dtype == tg.uint8 and out.numpy().tolist() == u8.numpy().repeat(2, 2).repeat(2, 3).tolist()


# -- layer_norm: math.prod for the row length; no affine, nothing added ---------------------------
def test_layer_norm_without_affine_is_the_normalized_rows():
    x = _leaf(4, 3, 5)
    y = F.layer_norm(x, (3, 5))
    a = x.detach().numpy().reshape(4, -1)
    ref = (a - a.mean(1, keepdims=True)) / np.sqrt(a.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y.detach().numpy().reshape(4, -1), ref, rtol=1e-12, atol=1e-12)
    w, b = tg.ones(3, 5, dtype=tg.float64) * 2, tg.ones(3, 5, dtype=tg.float64)
    np.testing.assert_allclose(F.layer_norm(x, (3, 5), w, b).detach().numpy().reshape(4, -1),
                               2 * ref + 1, rtol=1e-12, atol=1e-12)
    with pytest.raises(ShapeError, match="weight must be a tensor of 15 elements"):
        F.layer_norm(x, (3, 5), tg.ones(4, dtype=tg.float64))


# -- tiny matrix products skip the one-thread BLAS scope ------------------------------------------
def test_blas_scope_only_for_products_that_could_thread():
    dev = tg.ones(1).device
    assert dev.blas_scope_for(backend.ONE_THREAD_MACS - 1) is backend._NO_SCOPE
    big = dev.blas_scope_for(backend.ONE_THREAD_MACS)
    with big:      # the device's real scope (a context manager) from the threshold up
        pass
    assert big is not backend._NO_SCOPE


@pytest.mark.parametrize("shapes", [((8, 16), (16, 4)), ((64, 64), (64, 64)), ((3, 8, 16), (16, 4)),
                                    ((16,), (16, 4)), ((8, 16), (16,))])
def test_matmul_and_linear_values_small_and_large(shapes):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    ta, tb = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    out = ta @ tb
    np.testing.assert_array_equal(out.detach().numpy(), a @ b)
    out.sum().backward()
    assert ta.grad.shape == ta.shape and tb.grad.shape == tb.shape
    if b.ndim == 2:
        lin = F.linear(ta, tb.detach().t().contiguous())
        np.testing.assert_allclose(lin.detach().numpy(), a @ b, rtol=1e-6)


# -- the mean of a loss: NumPy's, bit for bit ----------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 128, 4099])
def test_loss_mean_is_numpys_mean(dtype, n):
    rng = np.random.default_rng(n)
    loss = (rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, n)).astype(dtype)
    out = Fm._reduce(loss, "mean")
    assert type(out) is type(loss.mean()) and out == loss.mean()
    assert np.isnan(Fm._reduce(loss[:0], "mean"))
    x = rng.standard_normal((n,)).astype(dtype)
    t = (rng.random(n) > 0.5).astype(dtype)
    terms = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    got = F.binary_cross_entropy_with_logits(tg.tensor(x), tg.tensor(t))
    assert got.dtype == dtype and got.item() == terms.mean()


# -- factories -----------------------------------------------------------------------------------
def test_factory_sizes_and_arange_checks_unchanged():
    assert tg.zeros(2, 3).shape == (2, 3) and tg.zeros((2,)).shape == (2,) and tg.zeros([]).shape == ()
    assert tg.full((3,), 2.0).tolist() == [2.0, 2.0, 2.0] and tg.full((2,), 1).dtype == tg.int64
    assert tg.zeros(np.int64(2)).shape == (2,) and tg.zeros(tg.tensor(3)).shape == (3,)
    with pytest.raises(ShapeError, match="negative dimension"):
        tg.zeros(2, -1)
    with pytest.raises(tg.errors.InputTypeError, match="got float 2.0"):
        tg.zeros(2.0)
    with pytest.raises(tg.errors.InputTypeError, match="got a bool"):
        tg.ones(True)
    assert tg.arange(5).tolist() == [0, 1, 2, 3, 4] and tg.arange(5).dtype == tg.int64
    assert tg.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert tg.arange(np.float32(2)).tolist() == [0.0, 1.0]
    for bad in (float("inf"), float("nan"), np.float64("inf")):
        with pytest.raises(ConfigError, match="must be finite"):
            tg.arange(bad)
    with pytest.raises(TypeError):          # NumPy's own refusal of a number past int64, as before
        tg.arange(0, 10 ** 30)


def test_default_device_without_cupy_is_the_cpu(monkeypatch):
    monkeypatch.delenv("TENSORGAN_DEVICE", raising=False)
    monkeypatch.delenv("NUMBA_ENABLE_CUDASIM", raising=False)
    monkeypatch.setattr(backend, "_cupy_module", lambda: None)
    assert backend.default_device_type() == "cpu"
    assert backend.cuda_status()[0] is False


# -- plain index keys, expand, single dims -------------------------------------------------------
def test_plain_index_keys_and_the_others():
    x = tg.arange(24, dtype=tg.float32).reshape(2, 3, 4)
    a = x.numpy()
    for key in [(slice(None), 1), (0, slice(None), None), (Ellipsis, 2), (0, 1, 2), (), (None,)]:
        np.testing.assert_array_equal(x[key].numpy(), a[key])
    assert x[0, :, [0, 1]].shape == (3, 2)                      # torch's ints-first order
    assert x[tg.Size((1, 2))].tolist() == a[1, 2].tolist()       # a tuple subclass key
    assert x[..., 0, ...].shape == (2, 3)                         # torch's repeated Ellipsis
    assert x[(slice(None), tg.tensor(1))].tolist() == a[:, 1].tolist()
    assert x[(slice(None), np.int64(1))].shape == (2, 4)
    assert x[:, 1].grad_fn is None and _leaf(2, 3)[:, 1].grad_fn.name() == "SelectBackward0"


def test_expand_and_single_dims_unchanged():
    x = tg.arange(8, dtype=tg.float32).reshape(8, 1)
    assert x.expand(8, 16).shape == (8, 16) and x.expand(-1, 4).shape == (8, 4)
    assert x.expand(2, 8, 3).shape == (2, 8, 3)
    with pytest.raises(ShapeError, match=r"cannot expand shape \(8, 1\) to \(4, 16\)"):
        x.expand(4, 16)
    with pytest.raises(ShapeError):
        x.expand(16)
    y = tg.ones(2, 3)
    assert y.sum(-1).shape == (2,) and y.sum(1).shape == (2,) and y.mean(0).shape == (3,)
    assert tg.tensor(2.0).sum(0).item() == 2.0                 # a 0-d tensor's dim 0, as torch
    for bad in (2, -3):
        with pytest.raises(ShapeError, match=f"axis {bad} is out of range"):
            y.sum(bad)
    assert tg.cat([y, y], -1).shape == (2, 6)


# -- softplus with beta 1: no multiply / divide by 1 (exact either way) --------------------------
@pytest.mark.parametrize("beta", [1.0, 2.0, 0.5])
def test_softplus_values_and_gradient(beta):
    a = np.array([-30.0, -1.0, -0.0, 0.0, 0.5, 9.0, 15.0, 25.0, np.inf, -np.inf], np.float32)
    x = tg.tensor(a, requires_grad=True)
    y = F.softplus(x, beta=beta, threshold=20.0)
    z = a * np.float32(beta)
    soft = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / np.float32(beta)
    np.testing.assert_array_equal(y.detach().numpy(), np.where(z > 20.0, a, soft))
    assert y.dtype == tg.float32
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(z > 20.0, 1.0, 1 / (1 + np.exp(-z))), rtol=1e-6)


def test_unsqueeze_shapes_and_node():
    x = _leaf(2, 3)
    assert [x.unsqueeze(d).shape for d in (0, 1, 2, -1, -3)] == [(1, 2, 3), (2, 1, 3), (2, 3, 1),
                                                                 (2, 3, 1), (1, 2, 3)]
    assert x.unsqueeze(0).grad_fn.name() == "UnsqueezeBackward0"
    with pytest.raises(ShapeError, match="out of range"):
        x.unsqueeze(3)
