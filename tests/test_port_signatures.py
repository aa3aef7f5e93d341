"""torch's keyword names and defaults, as users write them (found by comparing tensorgan's
signatures with torch's Python signatures: its .pyi stubs, docstrings and
torch.overrides.get_testing_overrides()). Each row calls a function with torch's keywords and
checks the result from first principles (NumPy)."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import ConfigError, DTypeError, InputTypeError

X = np.random.RandomState(0).randn(3, 4).astype(np.float32)


def _x():
    return tg.tensor(X)


def _softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# (id, call, expected array, expected dtype or None)
CASES = [
    ("sum dtype=", lambda: tg.sum(_x(), dtype=tg.float64), X.astype(np.float64).sum(), np.float64),
    ("Tensor.sum dim, dtype=", lambda: _x().sum(1, dtype=tg.float64), X.astype(np.float64).sum(1), np.float64),
    ("sum of bools dtype=int32", lambda: (_x() > 0).sum(dtype=tg.int32), (X > 0).sum(), np.int32),
    ("mean dtype=", lambda: tg.mean(_x(), 1, True, dtype=tg.float64),
     X.astype(np.float64).mean(1, keepdims=True), np.float64),
    ("Tensor.mean dtype=", lambda: _x().mean(dtype=tg.float64), X.astype(np.float64).mean(), np.float64),
    ("softmax dtype=", lambda: tg.softmax(_x(), 1, dtype=tg.float64), _softmax(X.astype(np.float64), 1), np.float64),
    ("Tensor.softmax dtype=", lambda: _x().softmax(dim=0, dtype=tg.float64),
     _softmax(X.astype(np.float64), 0), np.float64),
    ("Tensor.log_softmax dtype=", lambda: _x().log_softmax(1, dtype=tg.float64),
     np.log(_softmax(X.astype(np.float64), 1)), np.float64),
    ("max(input, other=)", lambda: tg.max(_x(), other=_x() * 2), np.maximum(X, 2 * X), np.float32),
    ("Tensor.min(other=)", lambda: _x().min(other=_x() * 2), np.minimum(X, 2 * X), np.float32),
    ("Tensor.norm dtype=", lambda: _x().norm(dtype=tg.float64), np.linalg.norm(X.astype(np.float64)), np.float64),
    ("norm(p, dim, dtype=)", lambda: tg.norm(_x(), 2, 1, dtype=tg.float64),
     np.linalg.norm(X.astype(np.float64), axis=1), np.float64),
    ("Tensor.swapdims(dim0=, dim1=)", lambda: _x().swapdims(dim0=0, dim1=1), X.T, None),
    ("swapdims(input, dim0=, dim1=)", lambda: tg.swapdims(_x(), dim0=1, dim1=0), X.T, None),
    ("swapaxes(axis0=, axis1=)", lambda: tg.swapaxes(_x(), axis0=0, axis1=1), X.T, None),
    ("vdot(input, other=)", lambda: tg.vdot(_x()[0], other=_x()[1]), np.dot(X[0], X[1]), None),
    ("Tensor.vdot(other=)", lambda: _x()[0].vdot(other=_x()[2]), np.dot(X[0], X[2]), None),
    ("Tensor.split(split_size=)", lambda: _x().split(split_size=2)[1], X[2:], None),
    ("split(tensor=, split_size_or_sections=, dim=)",
     lambda: tg.split(tensor=_x(), split_size_or_sections=[1, 3], dim=1)[1], X[:, 1:], None),
    ("unsafe_split(split_size=)", lambda: tg.unsafe_split(_x(), split_size=2)[0], X[:2], None),
    ("copy_(src, non_blocking=)", lambda: tg.zeros(3, 4).copy_(_x(), non_blocking=True), X, None),
    ("cpu(memory_format=)", lambda: _x().cpu(memory_format=tg.preserve_format), X, None),
    ("div_(rounding_mode='floor')", lambda: _x().div_(0.3, rounding_mode="floor"),
     np.floor(X / np.float32(0.3)), np.float32),
    ("div_(rounding_mode='trunc')", lambda: _x().div_(0.3, rounding_mode="trunc"),
     np.trunc(X / np.float32(0.3)), np.float32),
    ("roll(dims=())", lambda: _x().roll(1, dims=()), np.roll(X, 1), None),
    ("nan_to_num(nan=None)", lambda: tg.tensor([np.nan, np.inf, -np.inf, 1.0]).nan_to_num(
        nan=None, posinf=2.0, neginf=-2.0), np.array([0.0, 2.0, -2.0, 1.0]), None),
    ("isin(assume_unique=)", lambda: tg.isin(tg.tensor([1, 2, 3]), tg.tensor([2, 5]), assume_unique=True),
     np.array([False, True, False]), np.bool_),
    ("bernoulli(input=)", lambda: tg.bernoulli(input=tg.tensor([0.0, 1.0, 1.0])), np.array([0.0, 1.0, 1.0]), np.float32),
    ("bernoulli(input, p=)", lambda: tg.bernoulli(_x(), p=1.0), np.ones_like(X), np.float32),
    ("bernoulli(input, p) positional", lambda: tg.bernoulli(_x(), 0.0), np.zeros_like(X), np.float32),
    ("as_strided(storage_offset=None)", lambda: _x().as_strided((2, 2), (1, 1), None),
     X.ravel()[[[0, 1], [1, 2]]], None),
    ("histogramdd(input, bins, range) positional",
     lambda: tg.histogramdd(tg.tensor([[0.5, 0.5], [1.5, 0.5]]), 2, [0.0, 2.0, 0.0, 2.0])[0],
     np.array([[1.0, 0.0], [1.0, 0.0]]), None),
    ("interpolate(antialias=False)", lambda: F.interpolate(_x()[None, None], scale_factor=2, mode="nearest",
                                                           antialias=False)[0, 0],
     X.repeat(2, 0).repeat(2, 1), None),
    ("one_hot(input=, num_classes=)", lambda: F.one_hot(input=tg.tensor([0, 2]), num_classes=3),
     np.eye(3)[[0, 2]], np.int64),
]


@pytest.mark.parametrize("call, expected, dtype", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_torch_keyword_names(call, expected, dtype):
    out = call()
    np.testing.assert_allclose(out.numpy().astype(np.float64), np.asarray(expected, dtype=np.float64),
                               rtol=1e-5, atol=1e-6)
    assert out.shape == np.shape(expected)
    if dtype is not None:
        assert out.dtype == np.dtype(dtype)


def test_requires_grad_keyword():
    x = tg.ones(2)
    assert x.requires_grad_(requires_grad=True).requires_grad
    assert not x.detach().requires_grad_(requires_grad=False).requires_grad
    m = nn.Linear(2, 2).requires_grad_(requires_grad=False)
    assert not any(p.requires_grad for p in m.parameters())


def test_uniform_from_to_keywords():
    x = tg.zeros(1000).uniform_(to=0.25)
    assert 0.0 <= float(x.min()) and float(x.max()) <= 0.25
    y = tg.zeros(1000).uniform_(**{"from": 2.0, "to": 3.0})     # torch's keyword is `from`
    assert 2.0 <= float(y.min()) and float(y.max()) <= 3.0
    with pytest.raises(TypeError, match="frm"):
        tg.zeros(2).uniform_(frm=1.0)


def test_sum_dtype_keeps_gradient():
    x = tg.tensor(X, requires_grad=True)
    x.sum(dtype=tg.float64).backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.ones_like(X))


def test_refusals_are_typed():
    with pytest.raises(DTypeError, match="floating"):
        _x().mean(dtype=tg.int64)                      # torch: could not infer output dtype
    with pytest.raises(InputTypeError, match="dim or other"):
        _x().max(1, other=_x())
    with pytest.raises(ConfigError, match="antialias"):
        F.interpolate(_x()[None, None], scale_factor=0.5, mode="nearest", antialias=True)
    with pytest.raises(InputTypeError, match="tensor must be a Tensor"):
        tg.split([1, 2], 1)
