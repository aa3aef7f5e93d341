"""Session 29's second review (h29p): the stored-npz checkpoint reader, the depthwise conv
node, the backward walk and the later loss / distribution fixes, each checked by what it claims."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import CheckpointError


# ---------------------------------------------------------------------------------------------
# checkpoint reader: overlapping members (h29f's _read_stored read each member from its
# central-directory offset alone, so one region listed 200 times loaded as 200 arrays)
# ---------------------------------------------------------------------------------------------
_META = '{"format": "tensorgan-checkpoint", "format_version": 1, "saved_object": 1}'


def _npy(a: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, a)
    return buffer.getvalue()


def _local(name: str, data: bytes) -> bytes:
    """A stored zip member: local header, name, data."""
    return struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, zlib.crc32(data),
                       len(data), len(data), len(name), 0) + name.encode() + data


def _zip(members: list[tuple[str, bytes]], directory: list[tuple[str, int]],
         offsets: dict[int, int] | None = None) -> bytes:
    """A stored zip of ``members`` whose central directory lists ``directory``: (name, index of
    the member it describes); ``offsets`` moves where a member's local header is said to start."""
    out, at = bytearray(), []
    for name, data in members:
        at.append(len(out))
        out += _local(name, data)
    at = [(offsets or {}).get(i, a) for i, a in enumerate(at)]
    cd = bytearray()
    for name, i in directory:
        data = members[i][1]
        cd += struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0, 20, 0, 0, 0, 0, 0,
                          zlib.crc32(data), len(data), len(data), len(name), 0, 0, 0, 0, 0,
                          at[i]) + name.encode()
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(directory), len(directory), len(cd),
                      len(out), 0)
    return bytes(out + cd + end)


def test_checkpoint_builder_file_loads():
    assert tg.load(io.BytesIO(_zip([("__meta__.npy", _npy(np.array(_META)))],
                                   [("__meta__.npy", 0)]))) == 1


def test_checkpoint_members_sharing_one_region_are_refused():
    meta, big = _npy(np.array(_META)), _npy(np.zeros(1000))
    data = _zip([("__meta__.npy", meta), ("a.npy", big)],
                [("__meta__.npy", 0)] + [("a.npy", 1)] * 50)
    with pytest.raises(CheckpointError, match="overlap"):
        tg.load(io.BytesIO(data))


def test_checkpoint_directory_name_must_match_local_header():
    meta, big = _npy(np.array(_META)), _npy(np.zeros(1000))
    data = _zip([("__meta__.npy", meta), ("a.npy", big)],
                [("__meta__.npy", 0)] + [(f"a{i}.npy", 1) for i in range(50)])
    with pytest.raises(CheckpointError, match="bad local header"):
        tg.load(io.BytesIO(data))


def test_checkpoint_member_nested_in_another_is_refused():
    # b's local header and data lie inside a's data (a stored member may hold any bytes)
    meta, b_data = _npy(np.array(_META)), _npy(np.ones(4))
    b_member = _local("b.npy", b_data)
    a_data = _npy(np.frombuffer(b_member, np.uint8))
    a_at = len(_local("__meta__.npy", meta))
    b_at = a_at + len(_local("a.npy", b"")) + len(a_data) - len(b_member)
    data = _zip([("__meta__.npy", meta), ("a.npy", a_data), ("b.npy", b_data)],
                [("__meta__.npy", 0), ("a.npy", 1), ("b.npy", 2)], offsets={2: b_at})
    with pytest.raises(CheckpointError, match="overlap"):
        tg.load(io.BytesIO(data))


def test_checkpoint_deflated_members_sharing_one_region_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("__meta__.npy", _npy(np.array(_META)))
        zf.writestr("a.npy", _npy(np.zeros(10_000)))
    data = bytearray(buffer.getvalue())
    cd_at, end_at = data.index(b"PK\x01\x02"), data.index(b"PK\x05\x06")
    a_entry = bytes(data[data.index(b"PK\x01\x02", cd_at + 4):end_at])
    cd = bytes(data[cd_at:end_at]) + a_entry * 20
    data = bytes(data[:cd_at]) + cd + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 22, 22,
                                                  len(cd), cd_at, 0)
    with pytest.raises(CheckpointError, match="overlap"):
        tg.load(io.BytesIO(data))


@pytest.mark.parametrize("writer", [np.savez, np.savez_compressed])
def test_checkpoint_numpy_written_files_still_load(writer):
    buffer = io.BytesIO()
    writer(buffer, __meta__=np.array(_META.replace('"saved_object": 1', '"saved_object": 2')),
           w=np.asfortranarray(np.ones((2, 3), ">f4")))
    assert tg.load(io.BytesIO(buffer.getvalue())) == 2


# ---------------------------------------------------------------------------------------------
# hardshrink: torch takes a negative lambd (no |x| is below it: every x kept, gradient 1);
# h29i's FunctionalOptionError labelled the old refusal torch's RuntimeError, but only
# softshrink refuses one in torch
# ---------------------------------------------------------------------------------------------
def test_hardshrink_takes_a_negative_lambd_as_torchs():
    x = tg.tensor([0.5, -2.0, 0.0, 0.25], requires_grad=True)
    y = tg.nn.functional.hardshrink(x, -1.0)
    y.sum().backward()
    assert y.tolist() == [0.5, -2.0, 0.0, 0.25] and x.grad.tolist() == [1.0] * 4
    assert tg.nn.Hardshrink(-0.5)(x).tolist() == x.tolist()
    assert repr(tg.nn.Hardshrink(-0.5)) == "Hardshrink(-0.5)"


def test_softshrink_still_refuses_a_negative_lambd():
    from tensorgan.errors import FunctionalOptionError
    for call in (lambda: tg.nn.functional.softshrink(tg.zeros(2), -0.5),
                 lambda: tg.nn.Softshrink(-0.5)):
        with pytest.raises(FunctionalOptionError, match="lambd"):
            call()


# ---------------------------------------------------------------------------------------------
# structured arrays whose field names need .npy format 3.0 (utf-8): h29f's writer wrote 1.0 / 2.0
# headers only (UnicodeEncodeError), its reader decoded 3.0 headers as 2.0's latin-1 (the name
# came back garbled, silently)
# ---------------------------------------------------------------------------------------------
_UTF8_FIELDS = np.dtype([("名前", "<f4"), ("é", "<i2")])


@pytest.mark.filterwarnings("ignore:Stored array in format 3.0")
def test_checkpoint_utf8_field_names_round_trip():
    a = np.array([(1.5, 2), (3.0, -4)], dtype=_UTF8_FIELDS)
    buffer = io.BytesIO()
    tg.save({"a": a}, buffer)
    back = tg.load(io.BytesIO(buffer.getvalue()))["a"]
    assert back.dtype == _UTF8_FIELDS and back.tolist() == a.tolist()


@pytest.mark.filterwarnings("ignore:Stored array in format 3.0")
def test_checkpoint_numpy_written_utf8_header_keeps_its_field_names():
    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.array(_META.replace('"saved_object": 1', '"saved_object": '
                                                     '{"__array__": "a"}')),
             a=np.zeros(2, dtype=_UTF8_FIELDS))
    back = tg.load(io.BytesIO(buffer.getvalue()))
    assert back.dtype.names == ("名前", "é")


# ---------------------------------------------------------------------------------------------
# depthwise conv (h29f's DepthwiseConv): random geometry against the per-group composite it
# replaced (the plain kernels, one call a group), forward and every gradient, float64
# ---------------------------------------------------------------------------------------------
def _depthwise_case(rng: np.random.RandomState) -> tuple:
    n, c, m = rng.randint(1, 3), rng.randint(2, 4), rng.randint(1, 3)
    k = (rng.randint(1, 4), rng.randint(1, 4))
    stride, dilation = tuple(rng.randint(1, 3, 2)), tuple(rng.randint(1, 3, 2))
    padding = tuple(rng.randint(0, 3, 2))
    size = [max(1, d * (kk - 1) + 1 - 2 * p) + rng.randint(0, 5)
            for kk, d, p in zip(k, dilation, padding)]
    x = rng.randn(n, c, *size)
    return x, rng.randn(c * m, 1, *k), rng.randn(c * m), stride, padding, dilation


@pytest.mark.parametrize("seed", range(12))
def test_depthwise_matches_the_grouped_composite(seed):
    from tensorgan.functional import DepthwiseConv, _conv_options, Conv2d
    x_np, w_np, b_np, stride, padding, dilation = _depthwise_case(np.random.RandomState(seed))
    results = []
    for path in ("depthwise", "composite"):
        x, w, b = (tg.tensor(a, requires_grad=True) for a in (x_np, w_np, b_np))
        if path == "depthwise":
            y = DepthwiseConv.apply(x, w, b, stride, padding, dilation)
        else:
            y = _conv_options(Conv2d, x, w, b, (stride, padding), dilation, x_np.shape[1])
        gy = tg.tensor(np.random.RandomState(seed + 100).randn(*y.shape))
        results.append([y.detach().numpy()] + [g.numpy() for g in
                                               tg.autograd.grad((y * gy).sum(), [x, w, b])])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)
