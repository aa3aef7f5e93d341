"""Session 28's loose ends: one broadcast check, ..."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.broadcasting import broadcast_shape
from tensorgan.errors import ShapeError


# ---- one broadcast check (tensorgan.broadcasting.broadcast_shape) ----------------------------
def test_broadcast_shape_returns_numpys_shape():
    assert broadcast_shape("unused {0}", (2, 1, 3), (4, 1), ()) == np.broadcast_shapes((2, 1, 3), (4, 1))


def test_broadcast_shape_error_formats_shapes_and_fields():
    with pytest.raises(ShapeError, match=r"^op: \(2, 3\) vs \(4,\) in x \(9, 2, 3\)$") as info:
        broadcast_shape("{op}: {0} vs {1} in x {x}", (2, 3), (4,), op="op", x=(9, 2, 3))
    assert isinstance(info.value, RuntimeError) and info.value.__cause__ is None


def test_broadcast_shape_message_built_only_on_failure():
    broadcast_shape("{missing_field}", (2, 3), (3,))       # no KeyError: never formatted


@pytest.mark.parametrize("call, message", [
    (lambda a, b: tg.normal(a, b.abs()), r"normal: mean \(2, 3\) and std \(4, 5\) do not broadcast together"),
    (lambda a, b: a.logical_and(b), r"logical_and: shapes \(2, 3\) and \(4, 5\) do not broadcast"),
    (lambda a, b: tg.where(tg.ones(7).bool(), a, b), r"where: shapes \(7,\) \(condition\), \(2, 3\) and \(4, 5\)"),
    (lambda a, b: tg.take_along_dim(a, tg.zeros(4, 1, dtype=tg.int64), dim=1),
     r"take_along_dim: input \(2, 3\) and indices \(4, 1\) do not broadcast off dim 1"),
    (lambda a, b: tg.linalg.solve(tg.eye(2).expand(3, 2, 2), tg.ones(4, 2, 1)),
     r"linalg.solve: the batch dims of A \(3, 2, 2\) and B \(4, 2, 1\) do not broadcast"),
])
def test_ops_keep_their_broadcast_messages(call, message):
    with pytest.raises(ShapeError, match=message):
        call(tg.ones(2, 3), tg.ones(4, 5))
