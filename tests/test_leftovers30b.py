"""Session-30 leftovers (b): differences from torch found in session 29, each checked beside
torch 2.13 and fixed here -- indexing dtypes and bounds, bool scatter reductions, backwards
slices, losses, distributions and API corners."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeNotImplementedError, IndexDTypeError


# -- indexing -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_small_integer_index_tensors_are_refused_as_torch(dtype):
    x = tg.arange(12.0).reshape(3, 4)
    index = tg.tensor([0, 2], dtype=getattr(tg, dtype))
    with pytest.raises(IndexError, match=f"must be long, int, byte or bool tensors.*{dtype}"):
        x[index]
    with pytest.raises(IndexError, match="must be long, int"):
        x[index] = 1.0
    assert x[tg.tensor(2, dtype=getattr(tg, dtype))].tolist() == [8.0, 9.0, 10.0, 11.0]  # 0-d: a number
    assert x[tg.tensor([0, 2], dtype=tg.int32)].shape == (2, 4)
    assert x[np.array([0, 2], dtype=np.int16)].shape == (2, 4)        # a NumPy array: accepted


@pytest.mark.parametrize("op", [
    lambda x, i: tg.take(x, i),
    lambda x, i: x.put(i, tg.ones(2, dtype=x.dtype)),
    lambda x, i: x.clone().put_(i, tg.ones(2, dtype=x.dtype)),
    lambda x, i: x.index_copy(0, i, tg.ones(2, 4, dtype=x.dtype)),
    lambda x, i: x.clone().index_copy_(0, i, tg.ones(2, 4, dtype=x.dtype)),
    lambda x, i: x.index_fill(0, i, 1.0),
    lambda x, i: tg.take_along_dim(x, i.reshape(2, 1), 0),
])
def test_take_put_index_copy_want_int64_indices_as_torch(op):
    x = tg.arange(12.0).reshape(3, 4)
    for dtype in (tg.int32, tg.int16, tg.uint8):
        with pytest.raises(IndexDTypeError, match=f"int64.*got {dtype}") as info:
            op(x, tg.tensor([0, 2], dtype=dtype))
        assert isinstance(info.value, (RuntimeError, IndexError))   # torch's types (index_fill: IndexError)
    op(x, tg.tensor([0, 2]))                                           # int64: fine


def test_index_select_gather_index_add_still_take_int32():
    x = tg.arange(12.0).reshape(3, 4)
    i = tg.tensor([0, 2], dtype=tg.int32)
    assert x.index_select(0, i).tolist() == [[0, 1, 2, 3], [8, 9, 10, 11]]
    assert x.index_add(0, i, tg.ones(2, 4)).sum().item() == 74.0
    assert x.gather(0, tg.tensor([[0, 2, 1, 0]], dtype=tg.int32)).tolist() == [[0, 9, 6, 3]]


def test_out_of_bounds_indices_pass_when_the_result_is_empty_as_torch():
    x = tg.zeros(0, 4, requires_grad=True)
    y = x[:, tg.tensor([7, -9])]                 # nothing is read: torch checks no bounds
    assert y.shape == (0, 2)
    y.sum().backward()
    assert x.grad.shape == (0, 4)
    assert x[:, [[7]]].shape == (0, 1, 1)
    assert tg.zeros(3, 4)[tg.tensor([7]), 0:0].shape == (1, 0)
    z = tg.zeros(0, 4)
    z[:, tg.tensor([7])] = 1.0                   # nothing is written
    assert z.shape == (0, 4)
    with pytest.raises(IndexError, match="out of bounds"):
        tg.zeros(0, 4)[tg.tensor([7])]           # a non-empty result: checked
    with pytest.raises(IndexError, match="out of bounds"):
        tg.zeros(0, 4)[:, 7]                     # an int: always checked, as torch
    with pytest.raises(IndexError, match="out of bounds"):
        tg.zeros(0, 0)[:, tg.tensor([7])]        # a dim of size 0 indexed: torch refuses too


def test_bool_scatter_reductions_as_torch():
    base, index, src = tg.tensor([True, True, False, False]), tg.tensor([0, 1, 2, 2]), \
        tg.tensor([True, False, True, False])
    assert base.scatter(0, index, src, reduce="multiply").tolist() == [True, False, False, False]
    assert base.scatter(0, index, src, reduce="add").tolist() == [True, True, True, False]
    for include_self, prod, amax, amin in [
            (True, [True, False, False, False], [True, True, True, False], [True, False, False, False]),
            (False, [True, False, False, False], [True, False, True, False], [True, False, False, False])]:
        assert base.scatter_reduce(0, index, src, "prod", include_self=include_self).tolist() == prod
        assert base.scatter_reduce(0, index, src, "amax", include_self=include_self).tolist() == amax
        assert base.scatter_reduce(0, index, src, "amin", include_self=include_self).tolist() == amin
    with pytest.raises(DTypeNotImplementedError, match="'mean' is not implemented for bool"):
        base.scatter_reduce(0, index, src, "mean")     # torch: not a float mean


def test_backward_slices_stay_views_as_numpy():
    """``x[::-1]`` is a tensorgan extension kept on purpose (torch refuses negative steps; NumPy
    users expect a view, and tests/test_engine.py's basic-indexing test gradient-checks it)."""
    x = tg.arange(12.0).reshape(3, 4)
    a = np.arange(12.0).reshape(3, 4)
    for key in (slice(None, None, -1), (slice(None), slice(None, None, -2)), (0, slice(3, 0, -1))):
        assert x[key].tolist() == a[key].tolist()
    y = x.clone()
    y[:, ::-1] = tg.arange(4.0)
    assert y[0].tolist() == [3.0, 2.0, 1.0, 0.0]
    assert x.flip(0)[0].tolist() == [8.0, 9.0, 10.0, 11.0]


# -- losses ---------------------------------------------------------------------------------
def test_a_negative_label_smoothing_means_none_as_torch():
    rng = np.random.default_rng(0)
    logits = tg.tensor(rng.normal(size=(5, 4)))
    classes = tg.tensor([0, 3, 1, 2, -100])
    probs = tg.tensor(rng.dirichlet(np.ones(4), 5))
    weight = tg.tensor(rng.uniform(0.5, 2.0, 4))
    F = tg.nn.functional
    for target in (classes, probs):
        for kw in ({}, {"weight": weight}, {"reduction": "none"}):
            plain = F.cross_entropy(logits, target, **kw).numpy()
            np.testing.assert_array_equal(F.cross_entropy(logits, target, label_smoothing=-0.7, **kw).numpy(),
                                          plain)
    module = tg.nn.CrossEntropyLoss(label_smoothing=-0.1)
    assert module(logits, classes).item() == F.cross_entropy(logits, classes).item()
    with pytest.raises(tg.ConfigError, match=r"label_smoothing must be in \[0, 1\], got 1.5"):
        F.cross_entropy(logits, classes, label_smoothing=1.5)
    with pytest.raises(tg.ConfigError, match=r"label_smoothing must be in \[0, 1\], got 1.5"):
        tg.nn.CrossEntropyLoss(label_smoothing=1.5)


# -- distributions --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gumbel_icdf_at_0_and_1_is_finite_through_torchs_base_uniform(dtype):
    info = np.finfo(dtype)
    loc, scale = 0.3, 2.0
    g = tg.distributions.Gumbel(tg.tensor(loc, dtype=getattr(tg, dtype)), tg.tensor(scale, dtype=getattr(tg, dtype)))
    got = g.icdf(tg.tensor([0.0, 0.5, 1.0], dtype=getattr(tg, dtype))).numpy()
    u = np.array([info.tiny, 0.5, 1 - info.eps], dtype=np.float64)     # torch's Uniform(tiny, 1 - eps)
    np.testing.assert_allclose(got, loc - scale * np.log(-np.log(u)), rtol=8 * float(info.eps))
    assert np.isfinite(g.rsample((1000,)).numpy()).all()


@pytest.mark.parametrize("dtype, scale", [("float64", 1e-300), ("float32", 1e-20)])
def test_cauchy_log_prob_at_a_tiny_scale_does_not_overflow(dtype, scale):
    s = tg.tensor(scale, dtype=getattr(tg, dtype), requires_grad=True)
    lp = tg.distributions.Cauchy(tg.tensor(0.0, dtype=getattr(tg, dtype)), s).log_prob(
        tg.tensor(1.0, dtype=getattr(tg, dtype)))
    lp.backward()
    # y = 1 / s is huge: log p = -log(pi) - log(s) - log(1 + y^2) ~ -log(pi) + log(s), d/ds ~ 1/s
    np.testing.assert_allclose(lp.item(), -np.log(np.pi) + np.log(scale), rtol=1e-6)
    np.testing.assert_allclose(s.grad.item(), 1 / scale, rtol=1e-6)


def test_cauchy_log_prob_and_gradients_match_the_closed_form():
    rng = np.random.default_rng(0)
    loc, scale, value = rng.normal(size=20), rng.uniform(0.1, 3.0, 20), rng.standard_cauchy(20) * 3
    lt, st = tg.tensor(loc, requires_grad=True), tg.tensor(scale, requires_grad=True)
    lp = tg.distributions.Cauchy(lt, st).log_prob(tg.tensor(value))
    lp.sum().backward()
    d = value - loc
    np.testing.assert_allclose(lp.detach().numpy(), -np.log(np.pi * scale) - np.log1p((d / scale) ** 2), rtol=1e-13)
    np.testing.assert_allclose(lt.grad.numpy(), 2 * d / (scale ** 2 + d ** 2), rtol=1e-12)
    np.testing.assert_allclose(st.grad.numpy(), -1 / scale + 2 * d ** 2 / (scale * (scale ** 2 + d ** 2)),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("make, named", [
    (lambda D: D.LogNormal(tg.tensor(0.0), tg.tensor(-1.0)), r"parameter scale .* distribution LogNormal\("),
    (lambda D: D.InverseGamma(tg.tensor(1.0), tg.tensor(-1.0)), r"parameter rate .* distribution InverseGamma\("),
    (lambda D: D.LogisticNormal(tg.zeros(2), tg.tensor([1.0, -1.0])),
     r"parameter scale .* distribution LogisticNormal\("),
    (lambda D: D.RelaxedBernoulli(tg.tensor(1.0), probs=tg.tensor(1.5)),
     r"parameter probs .* distribution RelaxedBernoulli\("),
    (lambda D: D.LKJCholesky(3, tg.tensor(-1.0)), r"parameter concentration .* distribution LKJCholesky\("),
])
def test_validation_names_the_distribution_and_parameter_the_user_gave(make, named):
    with pytest.raises(ValueError, match=named):
        make(tg.distributions)


# -- API corners ----------------------------------------------------------------------------
def test_multi_dot_of_fewer_than_two_tensors_names_the_count_as_torch():
    for given in ([tg.ones(2, 2)], []):
        with pytest.raises(RuntimeError, match=f"expected at least 2 tensors but got {len(given)}"):
            tg.linalg.multi_dot(given)
    with pytest.raises(TypeError, match="list of at least 2 Tensors"):
        tg.linalg.multi_dot(tg.ones(2, 2))


def test_a_cpu_device_with_any_index_is_the_cpu_as_torch():
    d = tg.device("cpu:1")
    assert (repr(d), str(d), d.index) == ("device(type='cpu', index=1)", "cpu:1", 1)
    assert tg.device("cpu", 3).index == 3 and d == tg.device("cpu:1") and d != tg.device("cpu:0")
    assert str(tg.zeros(1, device="cpu:1").device) == "cpu"          # tensors hold plain cpu
    assert str(tg.zeros(2).to("cpu:2").device) == "cpu"
    import pickle
    assert pickle.loads(pickle.dumps(d)) == d
