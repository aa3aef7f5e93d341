"""Session 26: torch-compatibility mends found beside torch 2.13 (node names, error classes,
``dims`` / ``out=`` forms). Checked against NumPy, finite differences and torch's documented
behaviour, never against torch itself (not a test dependency)."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import IndexOutOfRangeError, NormDimError, NormParameterError, ShapeError


def _f64(*shape, seed=0, grad=True):
    return tg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=grad)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_is_one_node_with_torchs_name_and_right_values(reduction):
    x, t = _f64(3, 4), _f64(3, 4, seed=1)
    loss = F.mse_loss(x, t, reduction=reduction)
    assert loss.grad_fn.name() == "MseLossBackward0"
    squared = (x.detach().numpy() - t.detach().numpy()) ** 2
    want = squared.mean() if reduction == "mean" else squared.sum() if reduction == "sum" else squared
    np.testing.assert_allclose(loss.detach().numpy(), want, rtol=1e-14)
    assert tg.gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), (x, t))
    assert tg.gradgradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), (x, t))


def test_mse_loss_broadcasts_with_torchs_warning_and_sums_gradients_back():
    x, t = _f64(3, 1), _f64(4, seed=1)
    with pytest.warns(UserWarning, match="target size") as caught:
        loss = F.mse_loss(x, t)
    assert caught[0].filename == __file__                 # the user's line, through the wrappers
    assert loss.grad_fn.name() == "MseLossBackward0"
    assert tg.gradcheck(lambda a, b: F.mse_loss(a, b), (x, t))
    gx, gt = tg.autograd.grad(loss, (x, t))
    diff = x.detach().numpy() - t.detach().numpy()          # (3, 4) terms
    np.testing.assert_allclose(gx.numpy(), (2 * diff / 12).sum(1, keepdims=True), rtol=1e-13)
    np.testing.assert_allclose(gt.numpy(), (-2 * diff / 12).sum(0), rtol=1e-13)


def test_mse_loss_with_weight_or_constant_target_keeps_working():
    x = _f64(5)
    w = tg.tensor(np.arange(1.0, 6.0))
    got = F.mse_loss(x, 0.5, weight=w)
    xs = x.detach().numpy()
    np.testing.assert_allclose(got.item(), (w.numpy() * (xs - 0.5) ** 2).sum() / w.numpy().sum())
    const = F.mse_loss(x, np.zeros(5))
    assert const.grad_fn.name() == "MseLossBackward0"
    (g,) = tg.autograd.grad(const, x)
    np.testing.assert_allclose(g.numpy(), 2 * xs / 5, rtol=1e-14)
    empty = F.mse_loss(tg.zeros(0, requires_grad=True), tg.zeros(0))
    assert np.isnan(empty.item())


def test_number_to_a_tensor_power_is_torchs_pow_backward2():
    x = _f64(4)
    assert (2 ** x).grad_fn.name() == "PowBackward2"
    assert (x ** 2).grad_fn.name() == "PowBackward0"
    assert (x ** x.detach()).grad_fn.name() == "PowBackward1"
    (g,) = tg.autograd.grad((3.0 ** x).sum(), x)
    np.testing.assert_allclose(g.numpy(), 3.0 ** x.detach().numpy() * np.log(3.0), rtol=1e-14)


@pytest.mark.parametrize("norm", ["weight_norm", "spectral_norm"])
def test_norm_hooks_name_a_missing_parameter_and_a_bad_dim_as_torch_raises_them(norm):
    apply = getattr(tg.nn.utils, norm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(NormParameterError, match="'foo'") as missing:
            apply(tg.nn.Linear(2, 2), name="foo")
        with pytest.raises(NormDimError, match="dim 5") as bad_dim:
            apply(tg.nn.Linear(2, 2), dim=5)
    assert isinstance(missing.value, (AttributeError)) and isinstance(missing.value, KeyError)
    assert str(missing.value).startswith(norm)           # the message, not KeyError's quoted repr
    assert isinstance(bad_dim.value, IndexError)
    with pytest.raises(NormParameterError):
        getattr(tg.nn.utils.parametrizations, norm)(tg.nn.Linear(2, 2), name="foo")


DIM_OPS = {
    "sum": lambda t: t.sum(5), "mean": lambda t: t.mean(-4), "softmax": lambda t: t.softmax(3),
    "cat": lambda t: tg.cat([t, t], 3), "stack": lambda t: tg.stack([t, t], 4),
    "transpose": lambda t: t.transpose(0, 4), "unsqueeze": lambda t: t.unsqueeze(4),
    "squeeze": lambda t: t.squeeze(4), "size": lambda t: t.size(3), "argmax": lambda t: t.argmax(3),
    "max": lambda t: t.max(3), "cumsum": lambda t: t.cumsum(3), "flip": lambda t: t.flip(3),
    "roll": lambda t: t.roll(1, 3), "select": lambda t: t.select(3, 0),
    "gather": lambda t: t.gather(3, tg.zeros(2, 3, dtype=tg.int64)), "sort": lambda t: t.sort(3),
    "norm": lambda t: t.norm(dim=3), "var": lambda t: t.var(3), "prod": lambda t: t.prod(3),
    "logsumexp": lambda t: t.logsumexp(3), "movedim": lambda t: t.movedim(3, 0),
    "permute": lambda t: t.permute(0, 3), "amax": lambda t: t.amax(3), "any": lambda t: t.any(3),
    "normalize": lambda t: F.normalize(t, dim=3), "unflatten": lambda t: t.unflatten(3, (1, 3)),
    "count_nonzero": lambda t: t.count_nonzero(3), "unfold": lambda t: t.unfold(3, 1, 1),
    "fft": lambda t: tg.fft.fft(t, dim=3), "scalar sum": lambda t: t[0, 0].sum(1),
}


@pytest.mark.parametrize("op", sorted(DIM_OPS))
def test_a_dim_out_of_range_is_an_index_error_as_in_torch(op):
    t = tg.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(IndexOutOfRangeError) as caught:
        DIM_OPS[op](t)
    assert isinstance(caught.value, IndexError) and isinstance(caught.value, ShapeError)


def test_tensordot_takes_dims_as_a_tensor():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4, 5))
    want = np.tensordot(a, b, axes=2)
    for dims in (tg.tensor(2), tg.tensor([2]), tg.tensor([[1, 2], [0, 1]])):
        got = tg.tensordot(tg.tensor(a), tg.tensor(b), dims=dims)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-13)


def test_where_writes_into_out_and_refuses_a_tracked_input():
    y = tg.tensor([0.5, -1.0, 2.0])
    out = tg.empty(3)
    assert tg.where(y > 0, y, 0.0, out=out) is out
    np.testing.assert_array_equal(out.numpy(), [0.5, 0.0, 2.0])
    x = tg.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(tg.errors.AutogradError, match="out="):
        tg.where(x > 0, x, 0.0, out=tg.empty(2))


def test_float_and_int_of_a_complex_tensor_as_torch():
    assert float(tg.tensor(1 + 0j)) == 1.0 and int(tg.tensor(3 + 0j)) == 3
    for convert, target in ((float, "double"), (int, "int64_t")):
        with pytest.raises(RuntimeError, match=f"type {target} without overflow") as caught:
            convert(tg.tensor(1 + 2j))
        assert isinstance(caught.value, TypeError)       # what Python's own float(1+2j) raises


@pytest.mark.parametrize("shape, axes, want", [
    ((2, 3, 4, 5), (0, 1, 2, 3), (0, 1, 2, 3)),
    ((2, 3, 4, 5), (0, 2, 3, 1), (0, 2, 3, 1)),          # channels_last
    ((2, 3, 4, 5), (0, 3, 2, 1), (0, 3, 2, 1)),
    ((2, 3), (1, 0), (1, 0)),                           # a transpose
])
def test_dim_order_lists_dims_outermost_first(shape, axes, want):
    base = np.zeros([shape[a] for a in axes], np.float32)       # memory laid out in ``axes`` order
    inverse = tuple(int(i) for i in np.argsort(axes))
    t = tg.tensor(base).permute(*inverse)                         # the logical shape again
    assert t.shape == shape and t.dim_order() == want
    assert t.dim_order(ambiguity_check=True) == want


def test_dim_order_ambiguity_check_refuses_size_one_dims_as_torch():
    t = tg.ones(2, 1, 4)
    assert t.dim_order() == (0, 1, 2)
    with pytest.raises(RuntimeError, match="unique dim order"):
        t.dim_order(ambiguity_check=True)
    with pytest.raises(RuntimeError, match="unique dim order"):     # not channels_last (3-D)
        t.dim_order(ambiguity_check=[tg.channels_last])
    assert t.dim_order(ambiguity_check=[tg.contiguous_format]) == (0, 1, 2)


def test_jit_archives_are_refused_by_name_and_mkldnn_flags_are_recorded(tmp_path):
    for call in (lambda: tg.jit.save(tg.nn.Linear(2, 2), tmp_path / "m.pt"),
                 lambda: tg.jit.load(tmp_path / "m.pt")):
        with pytest.raises(NotImplementedError, match="TorchScript"):
            call()
    assert not (tmp_path / "m.pt").exists()
    assert tg.backends.mkldnn.is_available() is False
    with tg.backends.mkldnn.flags(enabled=False):
        assert tg.backends.mkldnn.enabled is False
    assert tg.backends.mkldnn.enabled is True


def test_normal_with_std_zero_gives_the_mean_without_negative_zeros():
    z = tg.zeros(64)
    z.normal_(0.0, 0.0)
    assert not np.signbit(z.numpy()).any()
    assert np.array_equal(tg.empty(8).normal_(2.5, 0.0).numpy(), np.full(8, 2.5, np.float32))


def test_an_integer_tensor_cannot_become_a_parameter_as_in_torch():
    with pytest.raises(RuntimeError, match="only float tensors can require gradients"):
        tg.nn.Parameter(tg.zeros(2, dtype=tg.int64))
    with pytest.raises(RuntimeError, match="only float tensors can require gradients"):
        tg.tensor(np.arange(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="only float tensors can require gradients"):
        tg.tensor([1, 2], requires_grad=True)       # Python ints: int64, refused as torch 2.13
    assert tg.tensor([1.0, 2], requires_grad=True).dtype == tg.float32
    assert tg.nn.Parameter(tg.zeros(2)).dtype == tg.float32
