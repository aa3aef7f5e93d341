"""Validation leftovers, torch being the spec: float index tensors refused by dtype, integer
inputs to float-only reductions / activations refused, non-bool flags refused, integer convs,
one-element tensors as layer sizes, zero-size adaptive pooling, negative padding, repeated
ellipses, resize_, integer division by zero."""
import re

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import DTypeError, IndexDTypeError, InputTypeError


# --- 2. float index tensors -------------------------------------------------------------------
X = tg.arange(6.0).reshape(2, 3)
FLOAT_INDEX = [
    ("gather", lambda i: X.gather(1, i.reshape(2, 1))),
    ("scatter", lambda i: tg.zeros(2, 3).scatter(1, i.reshape(2, 1), 1.0)),
    ("scatter_add", lambda i: tg.zeros(2, 3).scatter_add(1, i.reshape(2, 1), tg.ones(2, 1))),
    ("index_select", lambda i: X.index_select(0, i)),
    ("index_add", lambda i: tg.zeros(2, 3).index_add(0, i, X)),
    ("index_copy", lambda i: tg.zeros(2, 3).index_copy(0, i, X)),
    ("index_fill", lambda i: tg.zeros(2, 3).index_fill(0, i, 1.0)),
    ("take", lambda i: tg.take(X, i)),
    ("take_along_dim", lambda i: tg.take_along_dim(X, i.reshape(2, 1), 1)),
    ("repeat_interleave", lambda i: tg.repeat_interleave(tg.arange(2), i)),
    ("embedding", lambda i: F.embedding(i, tg.ones(3, 2))),
    ("embedding", lambda i: F.embedding(i, tg.ones(3, 2), max_norm=1.0)),
    ("one_hot", lambda i: F.one_hot(i, 3)),
    ("cross_entropy", lambda i: F.cross_entropy(X, i)),
    ("cross_entropy", lambda i: F.cross_entropy(X.reshape(2, 3, 1), i.reshape(2, 1))),
    ("nll_loss", lambda i: F.nll_loss(X, i)),
    ("multi_margin_loss", lambda i: F.multi_margin_loss(X, i)),
    ("x[index]", lambda i: X[i]),
]


@pytest.mark.parametrize("op,fn", FLOAT_INDEX)
def test_float_index_tensors_are_refused_by_dtype(op, fn):
    whole = tg.tensor([0, 1])
    fn(whole)                                              # int64 works
    with pytest.raises(IndexDTypeError, match=rf"{re.escape(op)}.*float32.*\.long\(\)"):
        fn(whole.float())                                  # whole values, float dtype: refused
    with pytest.raises(IndexDTypeError, match="float64"):
        fn(whole.double())


def test_float_index_error_is_every_type_torch_code_catches():
    with pytest.raises(IndexError):                        # torch's x[float_tensor]
        X[tg.tensor([0.0])]
    with pytest.raises(RuntimeError):                      # torch's gather / index_select
        X.index_select(0, tg.tensor([0.0]))
    with pytest.raises(InputTypeError):                    # tensorgan's older type for it
        X.gather(1, tg.tensor([[0.0], [1.0]]))
    with pytest.raises(IndexDTypeError):
        t = X.clone()
        t[tg.tensor([1.0])] = 0.0


def test_integer_and_non_tensor_indices_still_work():
    assert X[tg.tensor([1])].tolist() == [[3.0, 4.0, 5.0]]
    assert X[tg.tensor(1)].tolist() == [3.0, 4.0, 5.0]
    assert X.gather(1, tg.tensor([[2], [0]], dtype=tg.int32)).tolist() == [[2.0], [3.0]]
    assert X.index_select(1, [2, 0]).tolist() == [[2.0, 0.0], [5.0, 3.0]]
    assert F.cross_entropy(X, tg.tensor([2, 0])).item() == pytest.approx(
        float(np.mean([np.log(np.exp([0, 1, 2]).sum()) - 2, np.log(np.exp([3, 4, 5]).sum()) - 3])), rel=1e-5)


# --- 3. integer inputs to float-only ops ------------------------------------------------------
I = tg.tensor([[1, 2, 3], [4, 5, 6]])
FLOAT_ONLY = [
    ("mean", lambda x: x.mean()), ("mean", lambda x: tg.mean(x, 1)), ("nanmean", lambda x: x.nanmean()),
    ("var/std", lambda x: x.std()), ("var/std", lambda x: x.var(0)), ("var/std", lambda x: tg.var_mean(x)),
    ("norm", lambda x: x.norm()), ("norm", lambda x: tg.dist(x, x)), ("frac", lambda x: x.frac()),
    ("Softmax", lambda x: F.softmax(x, 1)), ("LogSoftmax", lambda x: x.log_softmax(1)),
    ("softmin", lambda x: F.softmin(x, 1)), ("LeakyReLU", lambda x: F.leaky_relu(x)),
    ("Softplus", lambda x: F.softplus(x)), ("Hypot", lambda x: tg.hypot(x, x)),
    ("LogAddExp", lambda x: tg.logaddexp(x, x)), ("silu", lambda x: F.silu(x)),
    ("gelu", lambda x: F.gelu(x)), ("elu", lambda x: F.elu(x)), ("selu", lambda x: F.selu(x)),
    ("celu", lambda x: F.celu(x)), ("mish", lambda x: F.mish(x)), ("hardswish", lambda x: F.hardswish(x)),
    ("hardsigmoid", lambda x: F.hardsigmoid(x)), ("logsigmoid", lambda x: F.logsigmoid(x)),
    ("softshrink", lambda x: F.softshrink(x)), ("hardshrink", lambda x: F.hardshrink(x)),
    ("glu", lambda x: F.glu(x, 1 if x.shape[1] % 2 == 0 else 0)), ("rrelu", lambda x: F.rrelu(x)),
    ("normalize", lambda x: F.normalize(x)), ("layer_norm", lambda x: F.layer_norm(x, (3,))),
    ("group_norm", lambda x: F.group_norm(x.reshape(1, 2, 3), 1)),
    ("instance_norm", lambda x: F.instance_norm(x.reshape(1, 2, 3))),
    ("batch_norm", lambda x: F.batch_norm(x, None, None, training=True)),
    ("mse_loss", lambda x: F.mse_loss(x, x)), ("l1_loss", lambda x: F.l1_loss(x, x)),
]


@pytest.mark.parametrize("op,fn", FLOAT_ONLY)
def test_float_only_ops_refuse_integer_and_bool_tensors(op, fn):
    fn(I.float())                                             # float: computes
    with pytest.raises(DTypeError, match=rf"{re.escape(op)}.*int64.*\.float\(\)"):
        fn(I)
    with pytest.raises(RuntimeError):                         # torch's type (NotImplementedError's base)
        fn(I.int())
    with pytest.raises(DTypeError, match="bool"):
        fn(I > 2)


def test_integer_inputs_that_torch_takes_still_compute():
    assert I.mean(dtype=tg.float64).item() == 3.5 and I.mean(dtype=tg.float64).dtype == tg.float64
    assert F.softmax(I, 1, dtype=tg.float64).dtype == tg.float64
    assert I.sum().item() == 21 and I.prod().item() == 720 and I.max().item() == 6
    assert tg.sigmoid(I).dtype == tg.float32 and F.relu(I).dtype == tg.int64
    assert tg.hypot(I, I.float()).dtype == tg.float32           # one float operand: promoted
    assert F.mse_loss(I.float(), I).item() == 0.0               # an integer target beside a float input
    assert (I > 2).sum().item() == 4                            # counting a mask: int64, as torch


# --- 4. bool flags ----------------------------------------------------------------------------
Y = tg.arange(6.0).reshape(2, 3)
FLAGS = [
    ("sum", "keepdim", lambda v: Y.sum(0, keepdim=v)), ("mean", "keepdim", lambda v: Y.mean(0, keepdim=v)),
    ("sum", "keepdim", lambda v: tg.sum(Y, 0, keepdim=v)), ("amax", "keepdim", lambda v: Y.amax(0, keepdim=v)),
    ("amin", "keepdim", lambda v: Y.amin(0, keepdim=v)), ("max", "keepdim", lambda v: Y.max(0, keepdim=v)),
    ("min", "keepdim", lambda v: Y.min(0, keepdim=v)), ("argmax", "keepdim", lambda v: Y.argmax(0, keepdim=v)),
    ("any", "keepdim", lambda v: Y.any(0, keepdim=v)), ("prod", "keepdim", lambda v: Y.prod(0, keepdim=v)),
    ("var/std", "keepdim", lambda v: Y.std(0, keepdim=v)), ("var/std", "unbiased", lambda v: Y.var(0, unbiased=v)),
    ("logsumexp", "keepdim", lambda v: Y.logsumexp(0, keepdim=v)),
    ("sort", "descending", lambda v: Y.sort(0, descending=v)), ("topk", "largest", lambda v: Y.topk(1, largest=v)),
    ("dropout", "training", lambda v: F.dropout(Y, 0.5, training=v)),
]


@pytest.mark.parametrize("op,name,fn", FLAGS)
def test_bool_flags_refuse_other_types(op, name, fn):
    fn(True), fn(False)
    for bad in (2, 1, "yes", np.True_, tg.tensor(True)):
        with pytest.raises(InputTypeError, match=rf"{re.escape(op)}\(\): argument '{name}' must be bool"):
            fn(bad)
    with pytest.raises(TypeError):                             # torch's type
        fn(0)


# --- 8. integer division by zero --------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda: tg.tensor([1]) // 0, lambda: tg.tensor([1]) % 0, lambda: tg.tensor([1]) // tg.tensor([0]),
    lambda: tg.tensor([4, 1]) % tg.tensor([2, 0]), lambda: tg.fmod(tg.tensor([1]), 0),
    lambda: tg.remainder(tg.tensor([1]), 0), lambda: tg.div(tg.tensor([1]), 0, rounding_mode="floor"),
    lambda: 1 // tg.tensor([0]), lambda: 1 % tg.tensor([0]), lambda: tg.tensor([1], dtype=tg.uint8) // 0,
])
def test_integer_division_by_zero_is_torchs_runtime_error_and_pythons(fn):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn()
    with pytest.raises(ZeroDivisionError):
        fn()


def test_float_division_by_zero_and_number_mod_tensor():
    np.testing.assert_array_equal((tg.tensor([1.0, -1.0, 0.0]) // 0).numpy(), [np.inf, -np.inf, np.nan])
    assert np.isnan((tg.tensor([1.0, -1.0]) % 0).numpy()).all()
    assert (tg.tensor([1]) / 0).tolist() == [np.inf]
    r = 7 % tg.tensor([3, -2])                           # Python's sign rule, integers kept
    assert r.tolist() == [1, -1] and r.dtype == tg.int64
    assert (7.5 % tg.tensor([2.0, -2.0])).tolist() == [1.5, -0.5]


# --- 5. integer convolutions ------------------------------------------------------------------
def _correlate2d(x: np.ndarray, w: np.ndarray, stride: int, pad: int) -> np.ndarray:
    x = np.pad(x, pad)
    k = w.shape[0]
    rows = range(0, x.shape[0] - k + 1, stride)
    cols = range(0, x.shape[1] - k + 1, stride)
    return np.array([[(x[i:i + k, j:j + k] * w).sum() for j in cols] for i in rows])


@pytest.mark.parametrize("dtype", [tg.int64, tg.int32, tg.int16])
def test_integer_convolutions_compute_exactly_in_their_dtype(dtype):
    x = np.arange(25).reshape(5, 5) - 12
    w = np.array([[3, -1, 0], [2, 5, -4], [1, 0, 7]])
    out = F.conv2d(tg.tensor(x.reshape(1, 1, 5, 5), dtype=dtype), tg.tensor(w.reshape(1, 1, 3, 3), dtype=dtype),
                   tg.tensor([100], dtype=dtype), stride=2, padding=1)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.numpy()[0, 0], _correlate2d(x, w, 2, 1) + 100)
    big = 2 ** 40 + 1                                   # beyond float32's exact integers
    out = F.conv1d(tg.tensor([[[big, 1]]]), tg.tensor([[[1, 1]]]))
    assert out.dtype == tg.int64 and out.item() == big + 1
    t = F.conv_transpose2d(tg.ones(1, 1, 2, 2, dtype=dtype), tg.ones(1, 1, 2, 2, dtype=dtype))
    assert t.dtype == dtype and t.numpy()[0, 0].tolist() == [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    c = F.conv3d(tg.ones(1, 1, 2, 2, 2, dtype=dtype), tg.ones(1, 1, 2, 2, 2, dtype=dtype))
    assert c.dtype == dtype and c.item() == 8


@pytest.mark.parametrize("fn,names", [
    (lambda: F.conv2d(tg.ones(1, 1, 3, 3, dtype=tg.int64), tg.ones(1, 1, 2, 2)), "input int64, weight float32"),
    (lambda: F.conv2d(tg.ones(1, 1, 3, 3), tg.ones(1, 1, 2, 2, dtype=tg.int64)), "input float32, weight int64"),
    (lambda: F.conv2d(tg.ones(1, 1, 3, 3, dtype=tg.int64), tg.ones(1, 1, 2, 2, dtype=tg.int64), tg.zeros(1)),
     "bias float32"),
    (lambda: F.conv1d(tg.ones(1, 1, 3, dtype=tg.int32), tg.ones(1, 1, 2, dtype=tg.int64)), "input int32, weight int64"),
    (lambda: F.conv2d(tg.ones(1, 1, 3, 3) > 0, tg.ones(1, 1, 2, 2) > 0), "bool"),
])
def test_integer_convolutions_refuse_mixed_dtypes(fn, names):
    with pytest.raises(DTypeError, match=names):
        fn()


# --- 6. one-element integer tensors / NumPy ints as layer sizes ---------------------------------
def test_integer_tensors_and_numpy_ints_as_hyperparameters():
    three = tg.tensor(3)
    assert nn.Conv2d(three, 8, 3).weight.shape == (8, 3, 3, 3)
    assert nn.Conv2d(1, 1, tg.tensor([3, 3])).weight.shape == (1, 1, 3, 3)
    assert nn.Conv2d(1, 1, (np.int64(3), tg.tensor(3)))(tg.ones(1, 1, 5, 5)).shape == (1, 1, 3, 3)
    assert nn.Linear(three, 2).weight.shape == (2, 3) and nn.Linear(np.int64(3), 2).weight.shape == (2, 3)
    assert nn.BatchNorm2d(three).weight.shape == (3,)
    assert nn.MaxPool2d(tg.tensor(2))(tg.ones(1, 1, 4, 4)).shape == (1, 1, 2, 2)
    assert F.max_pool2d(tg.ones(1, 1, 4, 4), tg.tensor(2)).shape == (1, 1, 2, 2)
    x, w = tg.ones(1, 1, 5, 5), tg.ones(1, 1, 3, 3)
    assert F.conv2d(x, w, stride=tg.tensor(2)).shape == (1, 1, 2, 2)
    assert F.conv2d(x, w, padding=tg.tensor(1)).shape == (1, 1, 5, 5)
    for bad in (tg.tensor(3.0), tg.tensor([3, 3, 3]), 3.0):
        with pytest.raises(tg.ConfigError, match="kernel_size"):
            nn.MaxPool2d(bad)
    with pytest.raises(tg.ConfigError, match="in_features"):
        nn.Linear(tg.tensor(3.0), 2)


# --- 7. zero-size adaptive pooling, negative padding, repeated ellipses, resize_ ----------------
def test_adaptive_pooling_to_zero_size_is_empty():
    x = tg.ones(2, 3, 4, 4, requires_grad=True)
    assert F.adaptive_avg_pool2d(x, 0).shape == (2, 3, 0, 0)
    assert F.adaptive_avg_pool2d(x, (0, 6)).shape == (2, 3, 0, 6)
    values, indices = F.adaptive_max_pool2d(x, (2, 0), return_indices=True)
    assert values.shape == indices.shape == (2, 3, 2, 0) and indices.dtype == tg.int64
    assert F.adaptive_avg_pool1d(tg.ones(1, 2, 4), 0).shape == (1, 2, 0)
    assert nn.AdaptiveAvgPool2d(0)(x[0]).shape == (3, 0, 0)
    F.adaptive_avg_pool2d(x, 0).sum().backward()
    assert x.grad.shape == x.shape and not x.grad.numpy().any()
    with pytest.raises(tg.ConfigError, match="output_size"):
        F.adaptive_avg_pool2d(x, -1)


def _pad_reference(a: np.ndarray, before: int, after: int, mode: str) -> np.ndarray:
    """One dim of torch's pads: reflect / replicate pad the positive side and crop the negative
    one; circular crops first, then wraps."""
    if mode == "circular":
        a = a[max(-before, 0):len(a) - max(-after, 0)]
        return np.pad(a, (max(before, 0), max(after, 0)), mode="wrap")
    grown = np.pad(a, (max(before, 0), max(after, 0)), mode="reflect" if mode == "reflect" else "edge")
    return grown[max(-before, 0):len(grown) - max(-after, 0)]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("amounts", [(-1, -1), (1, -1), (-2, 3), (4, -1), (-3, 0)])
def test_negative_padding_crops_in_every_mode(mode, amounts):
    row = np.arange(6.0)
    out = F.pad(tg.tensor(row.reshape(1, 1, 6)), amounts, mode=mode)
    np.testing.assert_array_equal(out.numpy()[0, 0], _pad_reference(row, *amounts, mode))


def test_negative_padding_layers_and_all_cropped():
    x = tg.arange(16.0).reshape(1, 1, 4, 4)
    for layer in (nn.ReflectionPad2d(-1), nn.ReplicationPad2d(-1), nn.CircularPad2d(-1), nn.ZeroPad2d(-1)):
        assert layer(x).numpy()[0, 0].tolist() == [[5.0, 6.0], [9.0, 10.0]]
    assert tuple(F.pad(x, (-2, -2, 0, 0), mode="reflect").shape) == (1, 1, 4, 0)  # as torch
    with pytest.raises(tg.ShapeError, match="leaves no element"):
        F.pad(x, (-2, -2, -2, -2), mode="reflect")


def test_several_ellipses_read_as_torch_does():
    x = tg.arange(24).reshape(2, 3, 4)
    assert x[..., 0, ...].tolist() == x[:, :, 0].tolist()
    assert x[..., ...].shape == (2, 3, 4) and x[..., None, ...].shape == (2, 3, 4, 1)
    assert x[0, ..., ...].shape == (3, 4) and x[..., 0, 1, ...].tolist() == [1, 13]
    assert x[0, ..., 1, ..., 2].item() == 6                      # the later ... cover no dims
    with pytest.raises(IndexError):
        x[..., ..., 0]                                         # torch fails here too
    y = x.clone()
    y[..., 0, ...] = -1
    assert (y == -1).sum().item() == 6 and y[:, :, 0].tolist() == [[-1] * 3] * 2


def test_resize_in_place():
    t = tg.arange(6.0)
    assert t.resize_(2, 3) is t and t.shape == (2, 3) and t.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert t.resize_([3, 2]).tolist() == [[0, 1], [2, 3], [4, 5]]
    assert t.resize_(4).tolist() == [0, 1, 2, 3]                # fewer: the first ones kept
    assert t.resize_(2, 3).tolist() == [[0, 1, 2], [3, 4, 5]]   # the storage kept them (torch)
    assert t.resize_(8).tolist() == [0, 1, 2, 3, 4, 5, 0, 0]    # past the storage: zeros here
    assert t.resize_as_(tg.ones(3, 2)).shape == (3, 2)
    v0 = t._version
    t.resize_(6)
    assert t._version > v0
    with pytest.raises(tg.AutogradError, match="require grad"):
        tg.zeros(3, requires_grad=True).resize_(2)
    with pytest.raises(InputTypeError, match="size"):
        tg.zeros(3).resize_(-1)


# --- 1. binary_cross_entropy's target range ----------------------------------------------------
def test_binary_cross_entropy_checks_the_target_range_as_torch():
    p = tg.tensor([0.2, 0.7])
    for target in (p + 1, -p, tg.tensor([0.5, float("nan")])):
        with pytest.raises(tg.DataError, match="target should be between 0 and 1"):
            F.binary_cross_entropy(p, target)
        with pytest.raises(ValueError, match="target"):
            nn.BCELoss()(p, target)
    with pytest.raises(tg.DataError, match="input values must lie in"):
        F.binary_cross_entropy(p + 1, p)
    expected = -np.mean([0.3 * np.log(0.2) + 0.7 * np.log(0.8), np.log(0.7)])
    assert F.binary_cross_entropy(p, tg.tensor([0.3, 1.0])).item() == pytest.approx(expected, rel=1e-6)
    assert F.binary_cross_entropy(p, tg.tensor([0.0, 1.0]), reduction="none").shape == (2,)
    assert F.binary_cross_entropy_with_logits(p, p + 1).item() > 0       # logits: no range, as torch
