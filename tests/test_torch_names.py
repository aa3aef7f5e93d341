"""The torch names typical GAN scripts use beyond the DCGAN (found by porting ACGAN, pix2pix and
SAGAN scripts): Tensor methods, tg.* function forms, whole-number constructors, channel dropout,
PReLU / ReLU6 / LogSigmoid, ParameterList / ParameterDict, the Upsampling aliases."""
import contextlib

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.functional as F
from tensorgan import nn


def f64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype=tg.float64, requires_grad=requires_grad)


def test_max_and_min_take_torchs_three_forms():
    a = np.array([[1.0, 5.0, 3.0], [4.0, 7.0, 7.0]])
    x = f64(a)
    assert x.max().item() == 7.0 and x.min().item() == 1.0
    values, indices = x.max(1)                       # _, pred = logits.max(1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1.0, 1.0]   # the first of a tie
    assert x.min(dim=0, keepdim=True).values.shape == (1, 3)
    assert x.min(dim=0).indices.tolist() == [0.0, 0.0, 0.0]
    assert np.array_equal(tg.max(x, f64(np.full((2, 3), 4.0))).numpy(), np.maximum(a, 4.0))
    values.sum().backward()                          # the gradient goes to the returned index
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]


def test_piecewise_constant_ops_have_zero_gradient_and_stay_in_the_graph():
    a = np.array([-2.5, -0.5, 0.0, 0.5, 1.5, 2.5])
    for name, reference in (("sign", np.sign), ("round", np.rint), ("floor", np.floor), ("ceil", np.ceil),
                            ("trunc", np.trunc)):
        x = f64(a)
        y = getattr(x, name)()
        assert np.array_equal(y.numpy(), reference(a)) and y.requires_grad, name
        (y * x).sum().backward()                     # d/dx (f(x) x) = f(x) where f' = 0
        assert np.array_equal(x.grad.numpy(), reference(a)), name
        assert np.array_equal(getattr(tg, name)(x).numpy(), reference(a))


def test_rsqrt_reciprocal_and_the_function_forms_are_the_methods():
    rng = np.random.default_rng(0)
    x, y = f64(rng.uniform(0.5, 2.0, (3, 4))), f64(rng.standard_normal((3, 4)))
    assert tg.gradcheck(lambda v: v.rsqrt(), [x]) and tg.gradcheck(lambda v: tg.reciprocal(v), [x])
    np.testing.assert_allclose(x.rsqrt().numpy(), 1 / np.sqrt(x.numpy()))
    for name, expected in (("add", x.numpy() + y.numpy()), ("sub", x.numpy() - y.numpy()),
                           ("mul", x.numpy() * y.numpy()), ("div", x.numpy() / y.numpy())):
        np.testing.assert_allclose(getattr(tg, name)(x, y).numpy(), expected, rtol=1e-15)
    np.testing.assert_allclose(tg.add(x, y, alpha=3).numpy(), x.numpy() + 3 * y.numpy(), rtol=1e-15)
    assert np.array_equal(tg.neg(x).numpy(), -x.numpy())
    np.testing.assert_allclose(tg.pow(x, 1.5).numpy(), x.numpy() ** 1.5, rtol=1e-15)
    for name, op in (("lt", np.less), ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
                     ("eq", np.equal), ("ne", np.not_equal)):
        assert np.array_equal(getattr(tg, name)(x, y).numpy(), op(x.numpy(), y.numpy()))
        assert np.array_equal(getattr(x, name)(0.7).numpy(), op(x.numpy(), 0.7))
    assert tg.allclose(x, x + 1e-9) and not tg.allclose(x, x + 1e-3)
    assert tg.isclose(x, y).dtype == np.bool_


def test_shape_methods():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = f64(a)
    assert np.array_equal(x.narrow(2, 1, 2).numpy(), a[:, :, 1:3])
    assert np.array_equal(x.narrow(-1, -2, 2).numpy(), a[:, :, 2:])
    assert np.array_equal(x.index_select(1, tg.tensor([2, 0, 2])).numpy(), a[:, [2, 0, 2]])
    assert [u.tolist() for u in x.unbind(0)] == [a[0].tolist(), a[1].tolist()]
    assert np.array_equal(x[0].t().numpy(), a[0].T) and x[0, 0].t().shape == (4,)
    b = f64(np.ones((2, 4, 5)))
    assert np.array_equal(x.bmm(b).numpy(), a @ np.ones((2, 4, 5))) and x.matmul(b).shape == (2, 3, 5)
    assert (x.ndimension(), x.nelement(), x.element_size(), x.is_contiguous()) == (3, 24, 8, True)
    x.narrow(1, 0, 1).sum().backward()
    assert x.grad.numpy()[:, 0].sum() == 8 and x.grad.numpy()[:, 1:].sum() == 0
    for bad, needle in ((lambda: x.narrow(1, 2, 2), "exceeds dim 1"), (lambda: x.t(), "at most 2 dims"),
                        (lambda: x.index_select(0, tg.tensor([0.5])), "whole numbers")):
        with pytest.raises(tg.TensorganError, match=needle):
            bad()


def test_masked_fill_out_of_place_keeps_the_gradient_in_place_refuses_a_tracked_tensor():
    x = f64([[1.0, -2.0], [3.0, -4.0]])
    mask = x < 0
    y = x.masked_fill(mask, 0.5)
    assert y.tolist() == [[1.0, 0.5], [3.0, 0.5]]
    y.sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0], [1.0, 0.0]]
    z = tg.zeros(2, 3)
    z.masked_fill_(tg.tensor([True, False, True]), 7.0)        # broadcast over the rows
    assert z.tolist() == [[7.0, 0.0, 7.0]] * 2
    with pytest.raises(tg.TensorganError, match="requires grad"):
        x.masked_fill_(mask, 0.0)
    with pytest.raises(tg.DTypeError, match="bool"):
        z.masked_fill_(tg.ones(3), 1.0)


def test_randint_randperm_and_long_give_int64_tensors():
    assert tg.randint(0, 10, (1000,), generator=tg.Generator(0)).numpy().tolist() == \
        tg.randint(10, (1000,), generator=tg.Generator(0)).numpy().tolist()
    labels = tg.randint(3, 7, (2000,), generator=tg.Generator(1)).numpy()
    assert labels.dtype == np.int64 and set(labels.tolist()) == {3, 4, 5, 6}
    perm = tg.randperm(50, generator=tg.Generator(2)).numpy()
    assert sorted(perm.tolist()) == list(range(50)) and perm.tolist() != list(range(50))
    x = tg.randn(50, 2)
    assert np.array_equal(x[tg.randperm(50, generator=tg.Generator(2))].numpy(), x.numpy()[perm.astype(int)])
    assert tg.eye(2, 3).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert tg.tensor([1.7, -1.7, 2.0]).long().tolist() == [1, -1, 2]        # toward zero
    assert tg.randint(0, 2**40, (2,)).max().item() >= 0                      # int64: exact
    with pytest.raises(tg.DTypeError, match="exact"):
        tg.randint(0, 2**30, (2,), dtype=tg.float32)
    with pytest.raises(tg.DTypeError, match="do not fit in int8"):
        tg.randperm(300, dtype=tg.int8)
    assert tg.ones(2).half().dtype == tg.float16
    with pytest.raises(tg.DTypeError, match="NumPy has no bfloat16"):
        tg.ones(2).bfloat16()


def test_legacy_tensor_constructors_and_type():
    valid = tg.FloatTensor(4, 1).fill_(1.0)                       # PyTorch-GAN's idiom
    assert valid.shape == (4, 1) and valid.dtype == np.float32 and valid.tolist() == [[1.0]] * 4
    assert tg.FloatTensor([1, 2]).tolist() == [1.0, 2.0] and tg.DoubleTensor([1.5]).dtype == np.float64
    assert tg.LongTensor(np.array([3, 1])).tolist() == [3, 1] and tg.LongTensor([0.5]).tolist() == [0]
    assert isinstance(tg.LongTensor(2), tg.LongTensor) and tg.IntTensor(2).dtype == tg.int32
    assert tg.ByteTensor([255]).dtype == tg.uint8 and tg.BoolTensor([1, 0]).tolist() == [True, False]
    x = tg.randn(2, 2)
    assert isinstance(x, tg.FloatTensor) and not isinstance(x, tg.DoubleTensor)
    assert x.type() == "tensorgan.FloatTensor" and x.type(tg.DoubleTensor).dtype == np.float64
    assert x.type("float64").dtype == np.float64
    assert tg.tensor([1.7, -1.2]).type(tg.LongTensor).tolist() == [1, -1]
    assert tg.tensor([1]).type() == "tensorgan.LongTensor"


@pytest.mark.parametrize("layer, rank", [(nn.Dropout2d, 4), (nn.Dropout1d, 3)])
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest(layer, rank):
    x = tg.ones(*(8, 16) + (5,) * (rank - 2))
    drop = layer(0.25, generator=tg.Generator(3))
    y = drop(x).numpy().reshape(8, 16, -1)
    per_channel = y[:, :, 0]
    assert np.array_equal(y, np.broadcast_to(per_channel[:, :, None], y.shape))   # whole channels
    assert set(np.unique(per_channel).tolist()) == {0.0, float(np.float32(1) / np.float32(0.75))}
    assert 0.1 < (per_channel == 0).mean() < 0.4
    # a 3-D input to Dropout2d is (N, C, L) with torch's warning; Dropout1d's 2-D input is (C, L)
    warns = (pytest.warns(UserWarning, match="3D input") if layer is nn.Dropout2d
             else contextlib.nullcontext())
    with warns:
        unbatched = layer(0.5, generator=tg.Generator(4))(tg.ones(*(16,) + (5,) * (rank - 2))).numpy()
    assert set(np.unique(unbatched).tolist()) == {0.0, 2.0}
    drop.eval()
    assert drop(x) is x
    g = f64(np.random.default_rng(0).standard_normal((2, 3) + (4,) * (rank - 2)))
    fn = F.dropout2d if rank == 4 else F.dropout1d
    assert tg.gradcheck(lambda v: fn(v, 0.5, True, tg.Generator(5)), [g])
    with pytest.raises(tg.ShapeError, match="dropout"):
        fn(tg.ones(2), 0.5)


def test_prelu_relu6_logsigmoid_match_their_formulas():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 4)) * 4
    a[0, 0, 0] = 0.0
    w = np.array([0.1, -0.3, 0.25])
    x, weight = f64(a), f64(w)
    expected = np.where(a > 0, a, a * w[None, :, None])
    assert np.array_equal(F.prelu(x, weight).numpy(), expected)
    assert tg.gradcheck(lambda v, s: F.prelu(v, s), [f64(a + 0.01), weight])
    shared = nn.PReLU(dtype="float64")
    assert shared.weight.tolist() == [0.25] and np.array_equal(shared(x).numpy(), np.where(a > 0, a, 0.25 * a))
    assert nn.PReLU(3).weight.shape == (3,) and repr(nn.PReLU(3)) == "PReLU(num_parameters=3)"
    with pytest.raises(tg.ShapeError, match="3 slopes"):
        F.prelu(tg.ones(2, 4), tg.ones(3))
    np.testing.assert_allclose(F.relu6(x).numpy(), np.clip(a, 0, 6))
    np.testing.assert_allclose(nn.LogSigmoid()(x).numpy(), -np.logaddexp(0, -a), rtol=1e-15)
    assert np.isfinite(F.logsigmoid(f64([-800.0, 800.0])).numpy()).all()
    assert tg.gradgradcheck(lambda v: F.logsigmoid(v), [f64(a)])


def test_parameter_list_and_dict_register_their_parameters():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = nn.ParameterList([tg.ones(2), nn.Parameter(tg.zeros(3))])
            self.biases = nn.ParameterDict({"a": tg.ones(1)})
            self.biases["b"] = tg.zeros(2)
    m = Model()
    assert list(m.state_dict()) == ["scales.0", "scales.1", "biases.a", "biases.b"]
    assert len(list(m.parameters())) == 4 and all(p.requires_grad for p in m.parameters())
    m.scales.append(tg.ones(1))
    assert len(m.scales) == 3 and m.scales[-1].shape == (1,)
    assert list(m.biases) == ["a", "b"] and "a" in m.biases and m.biases["b"].shape == (2,)
    del m.biases["a"]
    assert list(m.biases.keys()) == ["b"]
    opt = tg.optim.SGD(m.parameters(), lr=1.0)
    (m.scales[0].sum() + m.biases["b"].sum()).backward()
    opt.step()
    assert m.scales[0].tolist() == [0.0, 0.0] and m.biases["b"].tolist() == [-1.0, -1.0]
    with pytest.raises(KeyError, match="'zz'"):
        m.biases["zz"]
    with pytest.raises(tg.InputTypeError, match="Parameters or Tensors"):
        nn.ParameterList([np.ones(2)])


def test_upsampling_aliases_are_upsample():
    x = tg.randn(1, 2, 3, 3)
    assert np.array_equal(nn.UpsamplingNearest2d(scale_factor=2)(x).numpy(),
                          nn.Upsample(scale_factor=2)(x).numpy())
    assert np.array_equal(nn.UpsamplingBilinear2d(size=(5, 7))(x).numpy(),
                          F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=True).numpy())
    # torch 2.13's reprs: the factor as floats, align_corners never shown
    assert repr(nn.UpsamplingBilinear2d(scale_factor=2)) == "UpsamplingBilinear2d(scale_factor=2.0, mode='bilinear')"
    assert repr(nn.Upsample(scale_factor=(2, 3), mode="bilinear", align_corners=True)) == \
        "Upsample(scale_factor=(2.0, 3.0), mode='bilinear')"
    assert repr(nn.UpsamplingNearest2d(size=(4, 5))) == "UpsamplingNearest2d(size=(4, 5), mode='nearest')"


@pytest.mark.parametrize("equation, shapes", [
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ij,jk", [(3, 4), (4, 5)]), ("i,i->", [(4,), (4,)]),
    ("ij->j", [(3, 4)]), ("...ij,...jk->...ik", [(2, 2, 3, 4), (2, 2, 4, 5)]),
    ("bchw,bc->bhw", [(2, 3, 4, 4), (2, 3)]), ("bi,bj,bk->ijk", [(2, 3), (2, 4), (2, 5)]),
    ("...i,i", [(2, 3, 4), (4,)]), ("bn,bm->b", [(3, 4), (3, 5)])])
def test_einsum_matches_numpy_and_differentiates_twice(equation, shapes):
    rng = np.random.default_rng(len(equation))
    arrays = [rng.standard_normal(s) for s in shapes]
    out = tg.einsum(equation, *[f64(a) for a in arrays])
    np.testing.assert_allclose(out.numpy(), np.einsum(equation, *arrays), rtol=1e-13, atol=1e-13)
    assert tg.gradcheck(lambda *v: tg.einsum(equation, *v), [f64(a) for a in arrays])
    assert tg.gradgradcheck(lambda *v: tg.einsum(equation, *v) ** 2, [f64(a) for a in arrays])


def test_einsum_refusals_name_the_problem():
    for equation, shapes, needle in (("ii->i", [(3, 4)], "'i' is 3"), ("ij,jk", [(3, 4), (5, 5)], "'j' is 4"),
                                     ("ij", [(3,)], "do not fit"), ("ij,jk", [(3, 4)], "2 operands"),
                                     ("ij->k", [(3, 4)], "no operand has")):
        with pytest.raises(tg.ShapeError, match=needle):
            tg.einsum(equation, *[tg.ones(*s) for s in shapes])


def test_tensor_to_a_tensor_power_broadcasts_and_differentiates_both_sides():
    rng = np.random.default_rng(3)
    base, exponent = rng.uniform(0.5, 2.0, (3, 4)), rng.uniform(-1.5, 1.5, (3, 1))
    x, y = f64(base), f64(exponent)
    np.testing.assert_allclose((x ** y).numpy(), base ** exponent, rtol=1e-15)
    (x ** y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), exponent * base ** (exponent - 1), rtol=1e-13)
    np.testing.assert_allclose(y.grad.numpy(), (base ** exponent * np.log(base)).sum(1, keepdims=True), rtol=1e-13)
    assert tg.gradcheck(lambda a, b: a ** b, [x, y]) and tg.gradgradcheck(lambda a, b: a ** b, [x, y])
    assert tg.gradcheck(lambda b: tg.pow(2.5, b), [y]) and tg.gradgradcheck(lambda b: 0.5 ** b, [y])
    assert np.array_equal(tg.pow(x, y).numpy(), (x ** y).numpy())


def test_tensor_power_at_zero_follows_torch():
    # torch: d/dy 0**y is 0 for y >= 0 (not 0 * log 0 = NaN); d/dx x**0 is 0 (not 0 * 0**-1)
    x, y = f64([0.0, 0.0, 3.0, 0.0]), f64([2.0, 0.0, 0.0, -1.0])
    (x ** y).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, -np.inf]          # torch 2.13's values
    assert y.grad.tolist() == [0.0, 0.0, np.log(3.0), -np.inf]
    assert np.isnan(((-2.0) ** f64([0.5])).item()) and ((-2.0) ** f64([2.0])).item() == 4.0
    with pytest.raises(tg.InputTypeError, match="number"):
        "2" ** f64([1.0])


def test_stylegan_ema_loop_over_buffers_copies_batchnorm_counters():
    """``for b_ema, b in zip(G_ema.buffers(), G.buffers()): b_ema.copy_(b)`` (StyleGAN2-ADA): the
    int64 num_batches_tracked is a host IntBuffer that takes copy_ like the Tensor buffers."""
    def net():
        return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2), nn.BatchNorm1d(2, momentum=None))
    G, G_ema = net(), net()
    for _ in range(3):
        G(tg.randn(6, 3))
    with tg.no_grad():
        for p_ema, p in zip(G_ema.parameters(), G.parameters()):
            p_ema.copy_(p.lerp(p_ema, 0.5))
        for b_ema, b in zip(G_ema.buffers(), G.buffers()):
            b_ema.copy_(b)
    ema_state, state = G_ema.state_dict(), G.state_dict()
    for key in ("1.running_mean", "1.running_var", "1.num_batches_tracked", "3.num_batches_tracked"):
        assert np.array_equal(ema_state[key], state[key]), key
    counter = G_ema[3].num_batches_tracked
    saved = state["3.num_batches_tracked"]      # a snapshot: an int64 Tensor, not the live counter
    assert counter.item() == 3 and counter.dtype == np.int64 and type(saved) is tg.Tensor
    assert saved.dtype == np.int64 and saved.shape == ()
    counter.add_(2)
    assert saved.item() == 3
    assert counter.item() == 5 and counter.numpy().base is not None and counter.detach() is counter
    G_ema[3].reset_running_stats()
    assert counter.item() == 0 and G_ema[3].num_batches_tracked is counter
    G_ema.load_state_dict(state)
    assert G_ema[3].num_batches_tracked is counter and counter.item() == 3
    with pytest.raises(tg.ShapeError, match="does not broadcast"):
        counter.copy_(np.zeros(3))


def test_functional_forms_take_torchs_input_keyword():
    """torch names the tensor argument of nn.functional ``input``: ``F.interpolate(input=x, ...)``
    works as in torch code (every public form here whose first argument is the tensor)."""
    import inspect
    import tensorgan.nn.functional as TF
    firsts = {}
    for name in dir(TF):
        fn = getattr(TF, name)
        if name.startswith("_") or not inspect.isfunction(fn):
            continue
        params = list(inspect.signature(fn).parameters)
        if params:
            firsts[name] = params[0]
    assert not [n for n, first in firsts.items() if first == "x"], "a form still names it x"
    x = tg.tensor(np.arange(8.0).reshape(1, 2, 2, 2))
    np.testing.assert_array_equal(TF.relu(input=x - 3).numpy(), np.maximum(x.numpy() - 3, 0))
    up = TF.interpolate(input=x, scale_factor=2, mode="nearest")
    np.testing.assert_array_equal(up.numpy(), x.numpy().repeat(2, axis=2).repeat(2, axis=3))
    w = tg.tensor(np.ones((1, 2, 1, 1)))
    np.testing.assert_array_equal(TF.conv2d(input=x, weight=w).numpy(), x.numpy().sum(1, keepdims=True))
