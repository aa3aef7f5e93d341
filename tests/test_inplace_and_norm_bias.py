"""torch's ``inplace=True`` activations and dropout (the result written into the input), the
normalization layers' ``bias=`` flag (torch 2.13: an affine scale without a shift) and softmax's
signature (dim=None, dtype=)."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.functional as F
from tensorgan import nn
from tensorgan.errors import InputTypeError, TensorganError

X = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0, 7.0]])
ACTIVATIONS = [   # (call with inplace, the out-of-place value from NumPy)
    (lambda x, i: F.relu(x, inplace=i), np.maximum(X, 0)),
    (lambda x, i: F.leaky_relu(x, 0.2, i), np.where(X >= 0, X, 0.2 * X)),
    (lambda x, i: F.elu(x, 1.0, i), np.where(X > 0, X, np.expm1(np.minimum(X, 0)))),
    (lambda x, i: F.hardtanh(x, -1.0, 1.0, i), np.clip(X, -1, 1)),
    (lambda x, i: F.relu6(x, i), np.clip(X, 0, 6)),
    (lambda x, i: F.silu(x, i), X / (1 + np.exp(-X))),
    (lambda x, i: F.threshold(x, 0.1, -9.0, i), np.where(X > 0.1, X, -9.0)),
    (lambda x, i: F.hardsigmoid(x, i), np.clip(X + 3, 0, 6) / 6),
]


@pytest.mark.parametrize("call, expected", ACTIVATIONS)
def test_inplace_writes_the_input_and_returns_it(call, expected):
    x = tg.tensor(X)
    y = call(x, True)
    assert y is x
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-12)
    fresh = tg.tensor(X)
    assert call(fresh, False) is not fresh and fresh.tolist() == X.tolist()


@pytest.mark.parametrize("call, expected", ACTIVATIONS)
def test_inplace_on_a_tracked_result_keeps_the_gradient(call, expected):
    w = tg.tensor(np.array([1.5]), requires_grad=True)
    h = tg.tensor(X) * w                                   # an op's result: tracked
    out = call(h, True)
    assert out is h
    (out * out).sum().backward()
    w_ref = tg.tensor(np.array([1.5]), requires_grad=True)
    ref = call(tg.tensor(X) * w_ref, False)
    (ref * ref).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), w_ref.grad.numpy(), rtol=1e-12)


def test_inplace_rules_leaf_refused_view_falls_back():
    leaf = tg.tensor(X, requires_grad=True)
    with pytest.raises(TensorganError, match="leaf tensor that requires grad"):
        F.relu(leaf, inplace=True)
    w = tg.tensor(np.array([2.0]), requires_grad=True)
    view = (tg.tensor(X) * w).reshape(-1)                 # memory shared with the product
    out = F.relu(view, inplace=True)                      # written, the product following (torch's CopySlices)
    out.sum().backward()
    assert out is view and w.grad.item() == float(np.maximum(X, 0).sum())
    with pytest.raises(InputTypeError, match="inplace must be a bool"):
        F.relu(tg.tensor(X), inplace="yes")


def test_inplace_modules_reprs_and_dropout():
    for module, shown in [(nn.ReLU(True), "ReLU(inplace=True)"), (nn.ReLU(), "ReLU()"),
                          (nn.LeakyReLU(0.2, True), "LeakyReLU(negative_slope=0.2, inplace=True)"),
                          (nn.ELU(inplace=True), "ELU(alpha=1.0, inplace=True)"),
                          (nn.Hardtanh(inplace=True), "Hardtanh(min_val=-1.0, max_val=1.0, inplace=True)"),
                          (nn.ReLU6(True), "ReLU6(inplace=True)"), (nn.SiLU(True), "SiLU(inplace=True)")]:
        assert repr(module) == shown
    x = tg.tensor(X)
    assert nn.LeakyReLU(0.5, inplace=True)(x) is x and x.tolist()[0][0] == -1.0
    x = tg.ones(1000)
    y = F.dropout(x, 0.5, True, True, generator=tg.Generator(0))
    assert y is x and set(np.unique(x.numpy())) == {0.0, 2.0}
    drop = nn.Dropout(0.25, inplace=True, generator=tg.Generator(1))
    z = tg.ones(8)
    assert drop(z) is z and drop.eval()(z) is z
    old_style = F.dropout(tg.ones(4), 0.5, True, tg.Generator(2))    # a Generator 4th: tensorgan's old order
    assert old_style.shape == (4,)


def test_normalization_bias_flag():
    bn = nn.BatchNorm2d(3, bias=False)
    assert bn.bias is None and "bias" not in bn.state_dict() and "weight" in bn.state_dict()
    assert repr(bn) == "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=False, track_running_stats=True)"
    assert "bias=True" in repr(nn.BatchNorm1d(3)) and "bias=False" in repr(nn.BatchNorm1d(3, affine=False))
    x = np.random.default_rng(0).standard_normal((4, 3, 2, 2))
    bn.weight.data = tg.tensor(np.array([0.5, 2.0, -1.0]))
    bn.double()
    y = bn(tg.tensor(x)).numpy()
    mean, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    normalized = (x - mean) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(y, normalized * np.array([0.5, 2.0, -1.0]).reshape(1, 3, 1, 1),
                               rtol=1e-10, atol=1e-12)
    fused = nn.Sequential(nn.BatchNorm2d(3, bias=False), nn.LeakyReLU(0.2)).double()   # weight 1
    np.testing.assert_allclose(fused(tg.tensor(x)).numpy(), np.where(normalized >= 0, normalized, 0.2 * normalized),
                               rtol=1e-10, atol=1e-12)
    assert repr(nn.LayerNorm(4, bias=False)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=False)"
    assert repr(nn.LayerNorm(4, elementwise_affine=False)).endswith("elementwise_affine=False, bias=False)")
    gn = nn.GroupNorm(1, 3, bias=False)
    assert gn.bias is None and repr(gn) == "GroupNorm(1, 3, eps=1e-05, affine=True, bias=False)"


def test_softmax_takes_torchs_signature():
    x = tg.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.warns(UserWarning, match="implicit dimension choice"):
        implicit = F.softmax(x)                             # torch's choice for 2-D input: dim 1
    np.testing.assert_allclose(implicit.numpy(), F.softmax(x, 1).numpy())
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(F.log_softmax(x[0]).numpy(), F.log_softmax(x[0], 0).numpy())
    assert F.softmax(tg.tensor(3.0), 0).item() == 1.0 and F.log_softmax(tg.tensor(3.0), -1).item() == 0.0
    assert F.softmax(x.float(), -1, dtype=tg.float64).dtype == tg.float64
    row = np.exp(np.arange(3.0)) / np.exp(np.arange(3.0)).sum()
    np.testing.assert_allclose(F.softmax(x, -1).numpy()[0], row, rtol=1e-12)
