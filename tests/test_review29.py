"""Session 29's review: hostile checkpoints, hot-path costs, device comparisons."""
import io
import json

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import CheckpointError


def _file(saved_object, **arrays):
    """A tg.save-style checkpoint holding ``saved_object`` as its JSON metadata."""
    meta = {"format": "tensorgan-checkpoint", "format_version": 1, "saved_object": saved_object}
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.array(json.dumps(meta)), x=np.zeros(2, np.float32), **arrays)
    buf.seek(0)
    return buf


@pytest.mark.parametrize("entry", [
    {"__complex__": [10 ** 400, 0]},                    # was an OverflowError
    {"__device__": "gpu"},                              # tg.device reads it; save never writes it
    {"__device__": " cpu"},
    {"__tensor__": "x", "device": "junk"},              # was a DTypeError under a dict map_location
    {"__int_keys__": {"0": 1, "00": 2}},                # was {0: 2}: one entry silently lost
])
@pytest.mark.parametrize("map_location", [None, {"cuda:0": "cpu"}])
def test_hostile_checkpoint_entries_are_checkpoint_errors(entry, map_location):
    with pytest.raises(CheckpointError, match="malformed|colliding"):
        tg.load(_file(entry), map_location=map_location)


def test_overlong_json_integer_is_a_checkpoint_error():
    buf = io.BytesIO()
    meta = json.dumps({"format": "tensorgan-checkpoint", "format_version": 1, "saved_object": 1})
    np.savez(buf, __meta__=np.array(meta.replace('"saved_object": 1', '"saved_object": ' + "9" * 5000)))
    buf.seek(0)
    with pytest.raises(CheckpointError, match="not valid JSON"):      # was int()'s ValueError
        tg.load(buf)


def test_saved_devices_and_gpu_tensors_round_trip():
    buf = io.BytesIO()
    tg.save({"d": [tg.device("cpu"), tg.device("cuda"), tg.device("cuda:0")], "c": 2 ** 60 + 1j}, buf)
    buf.seek(0)
    back = tg.load(buf)
    assert [str(d) for d in back["d"]] == ["cpu", "cuda", "cuda:0"] and back["c"] == 2 ** 60 + 1j
    back = tg.load(_file({"__tensor__": "x", "device": "cuda:0"}), map_location={"cuda:0": "cpu"})
    assert back.device.type == "cpu" and back.shape == (2,)
