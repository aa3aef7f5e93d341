"""torch's remaining everyday names (tensorgan/torch_extras.py, tensorgan/settings.py): matrix
transposes, layout queries, as_strided, the legacy new(), apply_/map_, post-accumulate-grad hooks,
in-place forms, asarray/range/fill/frombuffer, poisson/binomial, gradient, histogramdd, print
options, the default device and torch's global flags -- checked against NumPy formulas."""
import array
import warnings

import numpy as np
import pytest

import tensorgan as tg

RNG = np.random.default_rng(7)


def f64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype=tg.float64, requires_grad=requires_grad)


def test_matrix_transposes_and_complex_queries_of_real_tensors():
    a = RNG.standard_normal((2, 3, 4))
    x = f64(a, True)
    for y in (x.mT, x.mH, x.adjoint(), tg.adjoint(x)):
        assert np.array_equal(y.numpy(), np.swapaxes(a, -1, -2))
    assert np.array_equal(f64(a[0]).H.numpy(), a[0].T)
    assert tg.gradcheck(lambda v: v.mT * 2.0, [x])
    with pytest.raises(tg.ShapeError, match="mH for batches"):
        x.H
    with pytest.raises(tg.ShapeError, match="at least 2 dims"):
        f64([1.0]).mT
    assert x.real is x and tg.real(x) is x and x.resolve_conj() is x and x.resolve_neg() is x
    assert not (x.is_complex() or tg.is_complex(x) or x.is_conj() or x.is_neg() or x.is_inference()
                or x.is_shared())
    for bad in (lambda: x.imag, lambda: tg.imag(x)):
        with pytest.raises(tg.DTypeError, match="non-complex"):
            bad()
    with pytest.raises(tg.DTypeError, match="only supported for complex"):   # (session 25: complex
        tg.view_as_real(x)                                                  # tensors exist now)
    with pytest.raises(tg.ShapeError, match="last dimension of size 2"):
        tg.view_as_complex(x)
    assert x.layout is tg.strided and repr(tg.strided) == "tensorgan.strided"


def test_angle_of_real_numbers():
    a = np.array([-2.0, -0.0, 0.0, 3.0, np.nan])
    x = f64(a, True)
    y = x.angle()
    assert np.array_equal(y.numpy(), np.where(a < 0, np.pi, 0.0).astype(float) + 0 * a, equal_nan=True)
    (y * x).nansum().backward()
    assert np.array_equal(x.grad.numpy()[:4], np.where(a < 0, np.pi, 0.0)[:4])   # angle's gradient is 0
    assert tg.angle(tg.tensor([-1, 2])).dtype == tg.float32


def test_strides_offsets_and_data_pointers_follow_the_array():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = f64(a)
    assert x.stride() == (12, 4, 1) and x.stride(1) == 4 and x.stride(-1) == 1
    assert x.transpose(0, 2).stride() == (1, 4, 12) and x[:, ::2].stride() == (12, 8, 1)
    assert x.expand(5, 2, 3, 4).stride() == (0, 12, 4, 1)
    assert x.storage_offset() == 0 and x[1, 2:].storage_offset() == 12 + 8
    assert x[1].data_ptr() == x.data_ptr() + 12 * 8
    with pytest.raises(tg.ShapeError):
        x.stride(3)


def test_as_strided_gathers_and_sums_overlapping_gradients():
    a = RNG.standard_normal((3, 4))
    x = f64(a, True)
    size, stride, offset = (3, 3), (1, 2), 1
    flat = a.reshape(-1)
    expected = np.array([[flat[offset + i + 2 * j] for j in range(3)] for i in range(3)])
    y = x.as_strided(size, stride, offset)
    assert np.array_equal(y.numpy(), expected) and tg.as_strided(x, size, stride, offset).shape == (3, 3)
    y.sum().backward()
    counts = np.zeros(12)
    for i in range(3):
        for j in range(3):
            counts[offset + i + 2 * j] += 1
    assert np.array_equal(x.grad.numpy().reshape(-1), counts)   # overlaps summed
    assert tg.gradcheck(lambda v: v.as_strided((2, 2, 2), (3, 1, 4), 2), [f64(a, True)])
    assert tg.gradgradcheck(lambda v: v.as_strided((2, 3), (1, 2)) ** 2, [f64(a, True)])
    with pytest.raises(tg.ShapeError, match="out of bounds"):
        x.as_strided((3, 3), (4, 1), 2)
    with pytest.raises(tg.ShapeError, match="different lengths"):
        x.as_strided((3, 3), (1,))


def test_legacy_new_narrow_copy_and_unsafe_aliases():
    x = f64(np.arange(6.0).reshape(2, 3))
    assert x.new().shape == (0,) and x.new().dtype == tg.float64
    assert x.new(2, 5).shape == (2, 5) and x.new((4,)).tolist() == [4.0]     # a tuple is data (torch)
    assert x.new([1, 2]).dtype == tg.float64 and x.new([1, 2]).tolist() == [1.0, 2.0]
    assert x.new(x) is x
    c = x.narrow_copy(1, 1, 2)
    assert np.array_equal(c.numpy(), x.numpy()[:, 1:3]) and not np.shares_memory(c.numpy(), x.numpy())
    assert [p.shape for p in x.unsafe_chunk(3, 1)] == [(2, 1)] * 3
    assert [p.shape for p in tg.unsafe_split(x, 2, 1)] == [(2, 2), (2, 1)]
    assert [p.shape for p in x.unsafe_split_with_sizes([1, 2], 1)] == [(2, 1), (2, 2)]


def test_apply_and_map_run_python_functions_in_place_on_the_cpu():
    x = f64([1.0, 2.0, 3.0])
    assert x.apply_(lambda v: v * v + 1) is x and x.tolist() == [2.0, 5.0, 10.0]
    x.map_(f64([1.0]), lambda a, b: a - b)
    assert x.tolist() == [1.0, 4.0, 9.0]
    with pytest.raises(tg.TensorganError, match="leaf tensor that requires grad"):
        f64([1.0], True).apply_(abs)
    with pytest.raises(tg.ShapeError, match="does not broadcast"):
        x.map_(f64([1.0, 2.0]), min)


def test_post_accumulate_grad_hook_sees_the_accumulated_grad():
    x = f64([1.0, 2.0], True)
    seen = []
    handle = x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    assert seen == [[2.0, 2.0], [5.0, 5.0]]
    handle.remove()
    (x * 1).sum().backward()
    assert len(seen) == 2
    y = f64([1.0], True)
    def step(t):   # an optimizer step in backward
        t.grad.zero_()
    y.register_post_accumulate_grad_hook(step)
    (y * 4).sum().backward(inputs=[y])
    assert y.grad.tolist() == [0.0]
    with pytest.raises(tg.TensorganError, match="only leaf"):
        (x * 2).register_post_accumulate_grad_hook(print)
    z = f64([1.0], True)
    z.register_post_accumulate_grad_hook(lambda t: t.grad)
    with pytest.raises(tg.TensorganError, match="must return None"):
        (z * 1).sum().backward()


def test_detach_in_place():
    x = f64([1.0], True)
    y = x * 2
    assert y.detach_() is y and y.grad_fn is None and not y.requires_grad and y.is_leaf
    assert tg.detach(x).requires_grad is False


def test_more_in_place_forms():
    m, b1, b2 = RNG.standard_normal((3, 3)), RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 4, 3))
    v, w = RNG.standard_normal(3), RNG.standard_normal(3)
    u = RNG.random((3, 3)) * 0.9
    cases = [("addmm_", (f64(m[:, :3]), f64(m)), m + m[:, :3] @ m),
             ("addbmm_", (f64(b1), f64(b2)), m + np.einsum("bij,bjk->ik", b1, b2)),
             ("baddbmm_", None, None), ("addmv_", None, None),
             ("addr_", (f64(v), f64(w)), m + np.outer(v, w))]
    for name, args, expected in cases:
        if args is not None:
            assert np.allclose(getattr(f64(m), name)(*args).numpy(), expected), name
    b = RNG.standard_normal((2, 3, 3))
    assert np.allclose(f64(b).baddbmm_(f64(b), f64(b), beta=0.5).numpy(), 0.5 * b + b @ b)
    assert np.allclose(f64(v).addmv_(f64(m), f64(w), alpha=2).numpy(), v + 2 * m @ w)
    for name, fn in (("arccos_", np.arccos), ("arcsin_", np.arcsin), ("arctan_", np.arctan)):
        assert np.allclose(getattr(f64(u), name)().numpy(), fn(u))
    assert np.allclose(f64(u).arctan2_(f64(m)).numpy(), np.arctan2(u, m))
    for name, fn in (("acos_", np.arccos), ("asin_", np.arcsin), ("atan_", np.arctan), ("arccos_", np.arccos),
                     ("arcsin_", np.arcsin), ("arctan_", np.arctan), ("sinh_", np.sinh),
                     ("cosh_", np.cosh), ("tan_", np.tan), ("log2_", np.log2), ("log10_", np.log10)):
        x = f64(u)
        assert getattr(tg, name)(x) is x and np.allclose(x.numpy(), fn(u)), name
    with pytest.raises(tg.TensorganError, match="leaf"):
        f64(u, True).arcsin_()


def test_top_level_in_place_functional_forms():
    a = RNG.standard_normal((2, 3, 4))
    for name, args, ref in (("selu_", (), None), ("celu_", (0.5,), None), ("threshold_", (0.1, -1.0), None)):
        x = f64(a)
        expected = getattr(tg.nn.functional, name.rstrip("_"))(f64(a), *args).numpy()
        assert getattr(tg, name)(x, *args) is x and np.allclose(x.numpy(), expected), name
    x = f64(a)
    assert tg.rrelu_(x) is x and np.allclose(x.numpy(), np.where(a >= 0, a, a * (1 / 8 + 1 / 3) / 2))
    for name in ("dropout_", "alpha_dropout_", "feature_alpha_dropout_", "feature_dropout_"):
        x = f64(a)
        assert getattr(tg, name)(x, 0.5, False) is x and np.array_equal(x.numpy(), a)
    tg.manual_seed(0)
    y = tg.feature_dropout(f64(np.ones((4, 6, 5))), 0.5, True).numpy()
    per_channel = y.reshape(4, 6, 5)
    assert set(np.unique(y)) <= {0.0, 2.0} and (per_channel.min(-1) == per_channel.max(-1)).all()
    assert tg.feature_alpha_dropout(f64(a), 0.3, False).shape == a.shape
    with pytest.raises(tg.ShapeError):
        tg.feature_dropout(f64([1.0]), 0.5, True)


def test_asarray_shares_or_copies_as_asked():
    a = np.arange(4.0)
    tg.asarray(a)[0] = 5.0
    tg.asarray(a, copy=True)[1] = 7.0
    assert a.tolist() == [5.0, 1.0, 2.0, 3.0]          # shared, then copied
    assert tg.asarray([1, 2]).dtype == tg.int64 and tg.asarray(a, dtype=tg.float32).dtype == tg.float32
    with pytest.raises(tg.ConfigError, match="copy=False"):
        tg.asarray(a, dtype=tg.float32, copy=False)
    x = f64(a, True)
    with tg.no_grad():
        tg.asarray(x)[2] = 9.0
    assert tg.asarray(x).requires_grad is False and x.tolist()[2] == 9.0
    assert tg.asarray(a, requires_grad=True).requires_grad


def test_range_fill_frombuffer_empty_strided_constant_pad_nd_and_typename():
    with pytest.warns(UserWarning, match="deprecated"):
        r = tg.range(1, 4, 0.5)
    assert r.dtype == tg.float32 and r.tolist() == list(np.arange(1, 4.5, 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tg.range(3).tolist() == [0.0, 1.0, 2.0, 3.0] and tg.range(5, 1, -2).tolist() == [5.0, 3.0, 1.0]
        with pytest.raises(tg.ConfigError, match="step"):
            tg.range(0, 3, -1)
    x = f64([[1.0, 2.0]])
    assert tg.fill(x, 7).tolist() == [[7.0, 7.0]] and tg.fill(x, f64(3.0)).dtype == tg.float64
    buf = bytearray(np.arange(5, dtype=np.int32).tobytes())
    t = tg.frombuffer(buf, dtype=tg.int32, count=3, offset=4)
    assert t.tolist() == [1, 2, 3]
    t[0] = 9
    assert np.frombuffer(buf, dtype=np.int32)[1] == 9                      # no copy
    assert tg.frombuffer(array.array("d", [1.5]), dtype=tg.float64).tolist() == [1.5]
    e = tg.empty_strided((2, 3), (3, 1), dtype=tg.float64)
    assert e.shape == (2, 3) and e.dtype == tg.float64
    with pytest.raises(tg.ShapeError):
        tg.empty_strided((2, 3), (1,))
    p = tg.constant_pad_nd(x, [1, 2], 5.0)
    assert p.tolist() == [[5.0, 1.0, 2.0, 5.0, 5.0]]
    assert tg.typename(x) == "tensorgan.DoubleTensor" and tg.typename(3) == "int"
    assert tg.concatenate([x, x]).shape == (2, 2) and tg.concat([x, x], dim=1).shape == (1, 4)


def test_poisson_and_binomial_samples():
    rates = f64(np.full(20000, 3.0))
    s = tg.poisson(rates, generator=tg.Generator(1)).numpy()
    assert s.dtype == np.float64 and (s == np.round(s)).all() and abs(s.mean() - 3) < 0.1
    assert np.array_equal(tg.poisson(rates, tg.Generator(2)).numpy(), tg.poisson(rates, tg.Generator(2)).numpy())
    n, p = f64(np.full(20000, 10.0)), f64(np.full(20000, 0.3))
    b = tg.binomial(n, p, generator=tg.Generator(3)).numpy()
    assert b.min() >= 0 and b.max() <= 10 and abs(b.mean() - 3) < 0.1
    with pytest.raises(tg.ConfigError, match="rates"):
        tg.poisson(f64([-1.0]))
    with pytest.raises(tg.ConfigError, match="prob"):
        tg.binomial(f64([1.0]), f64([1.5]))


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_matches_numpy_and_is_differentiable(edge_order):
    a = RNG.standard_normal((4, 5))
    x = f64(a, True)
    for got, want in zip(tg.gradient(x, edge_order=edge_order), np.gradient(a, edge_order=edge_order)):
        assert np.allclose(got.numpy(), want)
    got = tg.gradient(x, spacing=0.5, dim=1, edge_order=edge_order)
    assert len(got) == 1 and np.allclose(got[0].numpy(), np.gradient(a, 0.5, axis=1, edge_order=edge_order))
    coords = np.cumsum(RNG.random(5) + 0.1)
    got = tg.gradient(x, spacing=[f64(coords)], dim=-1, edge_order=edge_order)
    assert np.allclose(got[0].numpy(), np.gradient(a, coords, axis=1, edge_order=edge_order))
    assert tg.gradcheck(lambda v: tg.gradient(v, spacing=[f64(coords)], dim=1, edge_order=edge_order)[0], [x])
    assert tg.gradgradcheck(lambda v: tg.gradient(v, edge_order=edge_order)[0] ** 2, [x])
    with pytest.raises(tg.ShapeError, match="at least"):
        tg.gradient(f64([1.0, 2.0]), edge_order=2)
    with pytest.raises(tg.ConfigError, match="edge_order"):
        tg.gradient(x, edge_order=3)


def test_histogramdd_matches_numpy():
    p, w = RNG.standard_normal((60, 2)), RNG.random(60)
    hist, edges = tg.histogramdd(f64(p), bins=[3, 4], weight=f64(w), density=True)
    want, want_edges = np.histogramdd(p, bins=[3, 4], weights=w, density=True)
    assert np.allclose(hist.numpy(), want) and all(np.allclose(e.numpy(), f) for e, f in zip(edges, want_edges))
    hist, _ = tg.histogramdd(f64(p), bins=2, range=[-1.0, 1.0, 0.0, 2.0])
    assert np.array_equal(hist.numpy(), np.histogramdd(p, bins=2, range=[(-1, 1), (0, 2)])[0])
    hist, _ = tg.histogramdd(f64(p), bins=[f64([-3.0, 0.0, 3.0]), f64([-1.0, 1.0])])
    assert np.array_equal(hist.numpy(), np.histogramdd(p, bins=[[-3, 0, 3], [-1, 1]])[0])
    with pytest.raises(tg.ConfigError, match="bins"):
        tg.histogramdd(f64(p), bins=[3])


def test_set_printoptions_changes_the_repr():
    x = f64([1.23456789, 2.0])
    try:
        assert "1.2346" in repr(x)
        tg.set_printoptions(precision=2)
        assert "1.23," in repr(x)
        tg.set_printoptions(sci_mode=True)
        assert "1.23e+00" in repr(x)
        tg.set_printoptions(threshold=5, edgeitems=2)
        assert "..." in repr(tg.arange(10.0))
        tg.set_printoptions(profile="full")
        assert "..." not in repr(tg.arange(2000.0))
        with pytest.raises(tg.ConfigError, match="profile"):
            tg.set_printoptions(profile="long")
    finally:
        tg.set_printoptions(profile="default")
    assert "..." in repr(tg.arange(2000.0)) and "1.2346" in repr(x)


def test_default_device_and_global_flags():
    before = tg.get_default_device()
    try:
        tg.set_default_device("cpu")
        assert tg.get_default_device().type == "cpu" and tg.zeros(2).device.type == "cpu"
        assert tg.tensor([1.0]).device.type == "cpu"
    finally:
        tg.set_default_device(None)
    assert tg.get_default_device() is before
    with pytest.raises(tg.DeviceError):
        tg.set_default_device("tpu")
    assert not tg.are_deterministic_algorithms_enabled()
    try:
        tg.use_deterministic_algorithms(True, warn_only=True)
        assert tg.are_deterministic_algorithms_enabled() and tg.is_deterministic_algorithms_warn_only_enabled()
    finally:
        tg.use_deterministic_algorithms(False)
    with pytest.raises(tg.ConfigError):
        tg.use_deterministic_algorithms("yes")
    tg.set_warn_always(True)
    assert tg.is_warn_always_enabled()
    tg.set_warn_always(False)
    assert tg.set_flush_denormal(True) is False and tg.is_inference_mode_enabled() is False
    n = tg.get_num_interop_threads()
    tg.set_num_interop_threads(2)
    assert tg.get_num_interop_threads() == 2
    tg.set_num_interop_threads(n)
    with pytest.raises(tg.ConfigError):
        tg.set_num_interop_threads(0)
    assert tg.pi == np.pi and tg.inf == np.inf and np.isnan(tg.nan) and tg.newaxis is None
