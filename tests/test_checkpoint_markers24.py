"""Hostile checkpoint metadata: a tensor entry holding complex / string values, an integer tensor
marked as requiring grad, and marker keys in a malformed shape are refused by name (they came back
as silently converted tensors or as plain dicts)."""
import json

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.checkpoint import decode, encode
from tensorgan.errors import CheckpointError


def test_a_saved_tree_still_round_trips():
    tree = {"w": tg.nn.Parameter(tg.ones(2)), "steps": tg.tensor([1, 2]), "mask": tg.tensor([True]),
            "t": (1, 2), "plain": np.arange(3)}
    meta, arrays = encode(tree, keep_tuples=True)
    back = decode(meta, arrays)
    assert isinstance(back["w"], tg.nn.Parameter) and back["w"].requires_grad
    assert back["steps"].dtype == tg.int64 and back["mask"].dtype == tg.bool and back["t"] == (1, 2)
    np.testing.assert_array_equal(back["plain"], np.arange(3))


@pytest.mark.parametrize("array, extra, match", [
    (np.array(["2020-01-01"], dtype="datetime64[D]"), {}, r"datetime64\[D\] array"),  # (complex: a tensor since session 25)
    (np.array(["ab"]), {}, "<U2 array"),
    (np.array([1, 2]), {"requires_grad": True}, "requires grad but holds a int64"),
    (np.array([True]), {"parameter": True, "requires_grad": True}, "requires grad but holds a bool"),
])
def test_tensor_entries_of_the_wrong_kind_are_refused(array, extra, match):
    meta = json.dumps({"x": {"__tensor__": "x", **extra}})
    with pytest.raises(CheckpointError, match=match):
        decode(meta, {"x": array})


def test_a_plain_array_entry_keeps_any_dtype():
    assert decode(json.dumps({"x": {"__array__": "x"}}), {"x": np.array([1j])})["x"].dtype == np.complex128


@pytest.mark.parametrize("entry", [
    {"__namespace__": [1, 2]}, {"__tuple__": 5}, {"__size__": [-1]}, {"__int_keys__": [1]},
    {"__tensor__": "x", "other": 1}, {"__array__": "x", "requires_grad": True}, {"__metadata__": []},
])
def test_malformed_markers_are_refused(entry):
    with pytest.raises(CheckpointError, match="malformed"):
        decode(json.dumps({"k": entry}), {"x": np.zeros(1)})
