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
