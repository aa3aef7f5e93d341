"""torch's dtype promotion: float32 with float64 (elementwise ops promote, matrix products and
normalization weights refuse), 0-d tensors and Python numbers that do not widen, integer
operands of losses, integer wrap-around, result_type / promote_types / can_cast and
set_default_dtype.  Expected dtypes and values are torch 2.13's, written as NumPy formulas."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.functional as F
from tensorgan.errors import DTypeError

RNG = np.random.default_rng(7)
A32 = RNG.standard_normal((3, 4)).astype(np.float32)
B64 = RNG.standard_normal((3, 4))


def pair(requires_grad: bool = True):
    return tg.tensor(A32, requires_grad=requires_grad), tg.tensor(B64, requires_grad=requires_grad)


@pytest.fixture
def default_float64():
    tg.set_default_dtype(tg.float64)
    try:
        yield
    finally:
        tg.set_default_dtype(tg.float32)


@pytest.mark.parametrize("name, op, formula", [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("sub", lambda a, b: b - a, lambda a, b: b - a),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("div", lambda a, b: a / (b * b + 1.0), lambda a, b: a / (b * b + 1.0)),
    ("pow", lambda a, b: a.abs() ** b, lambda a, b: np.abs(a) ** b),
    ("where", lambda a, b: tg.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b)),
    ("cat", lambda a, b: tg.cat([a, b]), lambda a, b: np.concatenate([a, b])),
    ("stack", lambda a, b: tg.stack([a, b]), lambda a, b: np.stack([a, b])),
    ("maximum", lambda a, b: tg.maximum(a, b), lambda a, b: np.maximum(a, b)),
    ("atan2", lambda a, b: tg.atan2(a, b), lambda a, b: np.arctan2(a, b)),
])
def test_elementwise_float32_with_float64_gives_float64_and_grads_in_own_dtype(name, op, formula):
    a, b = pair()
    out = op(a, b)
    assert out.dtype == tg.float64, name
    np.testing.assert_allclose(out.numpy(), formula(A32.astype(np.float64), B64), rtol=1e-12, atol=1e-12)
    out.sum().backward()
    assert a.grad.dtype == tg.float32 and b.grad.dtype == tg.float64, name


def test_mixed_gradients_match_the_float64_computation():
    a, b = pair()
    (a * b.sin() / (a * a + 1.0)).sum().backward()
    a64 = A32.astype(np.float64)
    want_a = np.sin(B64) * (1 - a64 ** 2) / (a64 ** 2 + 1) ** 2
    np.testing.assert_allclose(a.grad.numpy(), want_a.astype(np.float32), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(b.grad.numpy(), a64 * np.cos(B64) / (a64 ** 2 + 1), rtol=1e-6)  # a * a in float32


def test_gradcheck_through_the_promoting_cast():
    c32 = tg.tensor(A32)
    x = tg.tensor(B64, requires_grad=True)
    assert tg.gradcheck(lambda v: (v * c32).sin() + tg.where(c32 > 0, c32, v), (x,))
    assert tg.gradgradcheck(lambda v: (v * c32).sin() * v, (x,))
    # a float32 input inside a float64 op: double backward keeps each gradient's dtype
    a, b = pair()
    (ga,) = tg.autograd.grad((a * a * b).sum(), a, create_graph=True)
    assert ga.dtype == tg.float32
    ga.sum().backward()
    assert a.grad.dtype == tg.float32 and b.grad.dtype == tg.float64
    np.testing.assert_allclose(b.grad.numpy(), 2 * A32.astype(np.float64), rtol=1e-7)


def test_dimensioned_tensors_win_over_0d_tensors_and_python_numbers():
    a, b = pair(requires_grad=False)
    zero64, zero32 = tg.tensor(2.0, dtype=tg.float64), tg.tensor(2.0)
    assert (a * zero64).dtype == tg.float32           # torch: the 0-d float64 does not widen
    assert (b * zero32).dtype == tg.float64
    assert (zero32 + zero64).dtype == tg.float64      # two 0-d tensors: promoted
    assert (a * 2.5).dtype == (a * np.float64(2.5)).dtype == tg.float32
    ints = tg.tensor([1, 2, 3])
    assert (ints + zero64).dtype == tg.float64        # a higher category does widen
    assert (ints * 2.5).dtype == tg.float32
    w = tg.tensor(B64[0, 0], requires_grad=True)      # 0-d float64 beside a float32 tensor
    x = tg.tensor(A32, requires_grad=True)
    (x * w).sum().backward()
    assert w.grad.dtype == tg.float64 and x.grad.dtype == tg.float32
    np.testing.assert_allclose(w.grad.item(), A32.sum(dtype=np.float32), rtol=1e-6)


def test_comparisons_of_mixed_floats_are_masks():
    a, b = pair(requires_grad=False)
    np.testing.assert_array_equal((a < b).numpy(), A32.astype(np.float64) < B64)
    assert (a == b).dtype == tg.bool


def test_in_place_keeps_the_tensor_dtype():
    x = tg.tensor(A32)
    x += tg.tensor(B64)
    assert x.dtype == tg.float32
    np.testing.assert_allclose(x.numpy(), (A32 + B64).astype(np.float32), rtol=1e-6)
    w = tg.tensor(A32, requires_grad=True)
    y = w * 1.0
    y.mul_(tg.tensor(B64))                            # tracked: the result cast back to float32
    y.sum().backward()
    assert y.dtype == tg.float32 and w.grad.dtype == tg.float32
    np.testing.assert_allclose(w.grad.numpy(), B64.astype(np.float32), rtol=1e-6)


@pytest.mark.parametrize("name, call, words", [
    ("matmul", lambda a, b: a @ b.T, ["MatMul", "float32", "float64"]),
    ("linear", lambda a, b: F.linear(a, b), ["float32", "float64"]),
    ("linear bias", lambda a, b: F.linear(a, a, b[:, 0]), ["bias", "float64"]),
    ("conv2d", lambda a, b: F.conv2d(a.reshape(1, 1, 3, 4), b[:2, :2].reshape(1, 1, 2, 2)), ["float64"]),
    ("batch_norm", lambda a, b: F.batch_norm(a, b[0].detach(), b[1].detach().abs()), ["running_mean"]),
    ("layer_norm", lambda a, b: F.layer_norm(a, (4,), b[0]), ["weight float64"]),
    ("lerp", lambda a, b: a.lerp(b, 0.5), ["lerp", "end float64"]),
    ("dot", lambda a, b: tg.dot(a[0], b[0]), ["dot", "float64"]),
    ("cdist", lambda a, b: tg.cdist(a, b), ["cdist", "x2 float64"]),
    ("index_add", lambda a, b: a.index_add(0, tg.tensor([0]), b[:1]), ["index_add", "source float64"]),
    ("prelu", lambda a, b: F.prelu(a, b[0, :1]), ["prelu", "weight float64"]),
    ("einsum", lambda a, b: tg.einsum("ij,ij->i", a, b), ["float32", "float64"]),
    ("binary_cross_entropy", lambda a, b: F.binary_cross_entropy(a.sigmoid(), b.sigmoid()), ["target float64"]),
    ("nll weight", lambda a, b: F.nll_loss(a, tg.tensor([0, 1, 2]), weight=b[0]), ["weight float64"]),
])
def test_ops_torch_refuses_on_mixed_floats_raise_a_dtype_error(name, call, words):
    a, b = pair()
    with pytest.raises(DTypeError) as info:
        call(a, b)
    for word in words:
        assert word in str(info.value), (name, str(info.value))


@pytest.mark.parametrize("layer", [lambda: tg.nn.Linear(4, 2), lambda: tg.nn.Conv2d(3, 2, 1),
                                   lambda: tg.nn.BatchNorm1d(3), lambda: tg.nn.LayerNorm(4)])
def test_layers_refuse_float64_input_on_float32_weights_naming_both(layer):
    x = tg.tensor(RNG.standard_normal((2, 3, 4, 4) if "Conv" in repr(layer()) else (2, 3, 4)))
    with pytest.raises(DTypeError) as info:
        layer()(x)
    assert "float64" in str(info.value) and "float32" in str(info.value)


def test_elementwise_losses_promote_float_targets():
    a, b = pair()
    a64 = A32.astype(np.float64)
    checks = [
        (F.mse_loss(a, b), np.mean((a64 - B64) ** 2)),
        (F.l1_loss(a, b), np.mean(np.abs(a64 - B64))),
        (F.binary_cross_entropy_with_logits(a, b.sigmoid()),
         np.mean(np.logaddexp(0, a64) - a64 / (1 + np.exp(-B64)))),
        (F.cosine_similarity(a, b), (a64 * B64).sum(1) / np.linalg.norm(a64, axis=1) / np.linalg.norm(B64, axis=1)),
        (F.pairwise_distance(a, b), np.linalg.norm(a64 - B64 + 1e-6, axis=1)),
        (F.margin_ranking_loss(a, b, tg.ones(3, 4)), np.mean(np.maximum(0, -(a64 - B64)))),
        (F.cross_entropy(a, b.softmax(1)),
         -np.mean(np.sum(np.exp(B64) / np.exp(B64).sum(1, keepdims=True)
                         * (a64 - np.log(np.exp(a64).sum(1, keepdims=True))), 1))),
    ]
    for got, want in checks:
        assert got.dtype == tg.float64
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    for loss in (F.huber_loss(a, b), F.soft_margin_loss(a, b), F.hinge_embedding_loss(a, b)):
        assert loss.dtype == tg.float32           # torch writes these into the input's dtype
    loss = F.triplet_margin_loss(a, b, b * 0.5)
    loss.backward()
    assert loss.dtype == tg.float64 and a.grad.dtype == tg.float32 and b.grad.dtype == tg.float64


def test_losses_promote_integer_operands():
    i1, i2 = tg.tensor([[1, 2], [3, 5]]), tg.tensor([[1, 3], [0, 4]])
    f1 = tg.tensor([[1.0, 2.0], [3.0, 5.0]])
    d = F.pairwise_distance(i1, i2)
    assert d.dtype == tg.float32
    np.testing.assert_allclose(d.numpy(), np.linalg.norm(np.array([[0, -1], [3, 1]]) + 1e-6, axis=1), rtol=1e-6)
    assert F.pairwise_distance(i1, i2.double()).dtype == tg.float64
    cos = F.cosine_similarity(i1, f1.double())
    assert cos.dtype == tg.float64
    np.testing.assert_allclose(cos.numpy(), [1.0, 1.0], rtol=1e-12)
    y = tg.tensor([1, -1])
    m = F.margin_ranking_loss(tg.tensor([1, 2]), tg.tensor([1, 3]), y)
    assert m.dtype == tg.float32 and m.item() == pytest.approx(0.0)
    assert F.margin_ranking_loss(tg.tensor([1.0, 2.0]), tg.tensor([1, 3]), y).dtype == tg.float32
    t = F.triplet_margin_loss(f1, i2, i1)
    want = np.maximum(np.linalg.norm(f1.numpy() - i2.numpy() + 1e-6, axis=1)
                      - np.linalg.norm(f1.numpy() - i1.numpy() + 1e-6, axis=1) + 1.0, 0).mean()
    assert t.dtype == tg.float32 and t.item() == pytest.approx(want, rel=1e-6)
    with pytest.raises(DTypeError, match="floating-point"):
        F.cosine_similarity(i1, i2)               # torch: the common dtype must be float


def test_python_ints_wrap_into_narrow_integer_tensors():
    u = tg.tensor([0, 255], dtype=tg.uint8)
    assert (u + -1).tolist() == [255, 254] and (u + -1).dtype == tg.uint8
    assert (u + 300).tolist() == [44, 43]
    assert (u * 2).tolist() == [0, 254]
    assert (tg.tensor([100], dtype=tg.int8) - 200).tolist() == [-100]
    with pytest.raises(OverflowError, match="out of range"):
        tg.tensor([1]) + 2 ** 70


def test_promote_types_result_type_can_cast():
    assert tg.promote_types(tg.int64, tg.float32) == tg.float32      # NumPy would say float64
    assert tg.promote_types(tg.uint8, tg.int8) == tg.int16
    assert tg.promote_types(tg.bool, tg.uint8) == tg.uint8
    assert tg.promote_types(tg.float32, tg.float64) == tg.float64
    x32, x64 = tg.zeros(2), tg.zeros(2, dtype=tg.float64)
    assert tg.result_type(x32, x64) == tg.float64
    assert tg.result_type(x32, tg.tensor(1.0, dtype=tg.float64)) == tg.float32
    assert tg.result_type(tg.tensor([1]), 2.5) == tg.float32
    assert tg.result_type(tg.tensor([1], dtype=tg.uint8), -1) == tg.uint8
    assert tg.result_type(tg.tensor([True]), 3) == tg.int64
    assert tg.result_type(2, 2.5) == tg.float32 and tg.result_type(2, True) == tg.int64
    assert tg.can_cast(tg.float64, tg.float32) and tg.can_cast(tg.int64, tg.uint8)
    assert not tg.can_cast(tg.float32, tg.int64) and not tg.can_cast(tg.int8, tg.bool)
    with pytest.raises(tg.InputTypeError, match="str"):
        tg.result_type(x32, "a")


def test_set_default_dtype_drives_factories_layers_and_promotion(default_float64):
    assert tg.get_default_dtype() == tg.float64
    for t in (tg.zeros(2), tg.ones(2), tg.empty(1), tg.tensor([1.5]), tg.tensor(0.5), tg.rand(2),
              tg.randn(2), tg.arange(0.0, 1.0, 0.5), tg.linspace(0, 1, 3), tg.full((2,), 1.5),
              tg.eye(2), tg.nn.Linear(2, 2).weight, tg.nn.Conv2d(1, 1, 1).bias):
        assert t.dtype == tg.float64
    assert tg.tensor([1, 2]).dtype == tg.int64                  # integers are not affected
    assert tg.tensor([1, 2]).exp().dtype == tg.float64          # int-only ops promote to it
    assert (tg.tensor([1, 2]) * 0.5).dtype == tg.float64
    assert tg.result_type(tg.tensor([1]), 2.5) == tg.float64
    assert tg.finfo().eps == np.finfo(np.float64).eps


def test_set_default_dtype_refuses_non_float_dtypes():
    with pytest.raises(DTypeError, match="float32 and float64"):
        tg.set_default_dtype(tg.int64)
    with pytest.raises(DTypeError):
        tg.set_default_dtype("complex64")
    assert tg.get_default_dtype() == tg.float32
