"""Checkpoints as ``.npz`` files that load with ``allow_pickle=False``, written atomically.

Layout: every array of the (nested) checkpoint dict is an npz entry named by its path
(``models/generator/4.weight``, ``optimizers/generator/state/3/exp_avg``, ``data/order``); everything
else -- step, epoch, RNG states (JSON strings), hyperparameters, the config -- sits in one JSON
document stored as a 0-d unicode array under ``__meta__``, where each array is replaced by a
``{"__array__": path}`` reference (``{"__tensor__": path}`` for a Tensor, which :func:`load` gives
back as a CPU Tensor, with ``"requires_grad": true`` where it required grad and ``"parameter": true``
for an ``nn.Parameter``, which comes back a Parameter, as torch.load's; :func:`save` also marks
tuples, ``{"__tuple__": [...]}``, so they come back as tuples (a ``tg.Size``, a shape, as
``{"__size__": [...]}``, so it comes back a Size; an OrderedDict -- a ``state_dict()`` -- as
``{"__odict__": {...}}``, with its ``_metadata`` (the modules' versions) under ``"__metadata__"``,
so it comes back an OrderedDict, as torch.load gives it), and a dict keyed by ints -- an
optimizer's ``"state"``, torch's layout -- as ``{"__int_keys__": {"0": ...}}``, so its keys come
back as ints; an ``argparse.Namespace`` -- ``{"args": args}`` -- as ``{"__namespace__": {...}}``,
its attributes, so it comes back a Namespace). A Tensor that was not on the CPU records where it
was, ``"device": "cuda:0"`` (torch's storage location: what a ``map_location`` dict or callable is
given). Values torch.save also takes are tagged: a complex number ``{"__complex__": [re, im]}``,
bytes / a bytearray ``{"__bytes__": path}`` / ``{"__bytearray__": path}`` (a uint8 array entry),
a set ``{"__set__": [...]}``, a dtype ``{"__dtype__": "float32"}``, a device ``{"__device__":
"cuda:0"}``. Plain NumPy can inspect a checkpoint; nothing needs pickle.

Atomicity: the file is written to a temporary file in the target's directory, flushed and fsynced,
then ``os.replace``d over the target (atomic on POSIX and Windows), and the directory is fsynced.
A crash or a failed write at any point leaves the previous checkpoint whole and no temp file behind
(except after SIGKILL mid-write, where a hidden ``.*.tmp`` can remain; it is never loaded).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
from collections import OrderedDict
import os
import re
import struct
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from .errors import CheckpointError, InputTypeError
from .fileio import atomic_write  # noqa: F401  (re-exported: checkpoint.atomic_write)
from .tensor import Size, Tensor

__all__ = ["FORMAT_VERSION", "save_checkpoint", "load_checkpoint", "save", "load", "atomic_write",
           "encode", "decode"]

FORMAT_VERSION = 1
FORMAT_NAME = "tensorgan-checkpoint"
_META_KEY = "__meta__"


# ---------------------------------------------------------------------------------------------
# Nested dict <-> (JSON tree, flat arrays)
# ---------------------------------------------------------------------------------------------
_MARKERS = ("__array__", "__tensor__", "__tuple__", "__size__", "__int_keys__", "__odict__",
            "__metadata__", "__namespace__", "__complex__", "__bytes__", "__bytearray__", "__set__",
            "__dtype__", "__device__")


def _int_keyed(value: Any) -> bool:
    """A non-empty dict whose keys are all ints (not bools): saved under ``__int_keys__``."""
    return bool(value) and all(isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))
                               for k in value)


def encode(tree: Any, keep_tuples: bool = False) -> tuple[str, dict[str, np.ndarray]]:
    """Split a nested structure into a JSON string and a flat ``{path: array}`` dict. Tuples
    become lists unless ``keep_tuples`` (training checkpoints keep JSON's lists)."""
    arrays: dict[str, np.ndarray] = {}
    open_containers: set[int] = set()      # ids of the dicts / lists on the current path

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, (Mapping, list, tuple)):
            if id(value) in open_containers:
                raise CheckpointError(f"checkpoint entry {path!r} contains itself (a reference cycle)")
            open_containers.add(id(value))
            try:
                return walk_container(value, path)
            finally:
                open_containers.discard(id(value))
        if isinstance(value, Tensor):     # kept as an array, marked to come back as a Tensor
            return _encode_tensor(value, walk(value.array, path)["__array__"])
        if isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__"):
            array = value if isinstance(value, np.ndarray) else value.get()
            if array.dtype.hasobject:
                raise CheckpointError(f"checkpoint entry {path!r} is an object array (would need pickle)")
            arrays[path] = array
            return {"__array__": path}
        if isinstance(value, np.generic):
            return walk(value.item(), path)
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        tagged = _tagged(value, path, arrays)
        if tagged is not None:
            return tagged
        if isinstance(value, (set, frozenset)) and type(value) in (set, frozenset):
            if isinstance(value, frozenset):
                raise CheckpointError(f"checkpoint entry {path!r} is a frozenset (torch.load's "
                                      f"weights_only refuses it too); save a set or a list")
            return {"__set__": [walk(v, f"{path}/{i}") for i, v in enumerate(value)]}
        if isinstance(value, argparse.Namespace):   # {"args": args} (StyleSwin, TransGAN): its
            return {"__namespace__": walk(vars(value), path)}      # attributes, as a dict
        raise _unsavable(value, path)

    def walk_container(value: Any, path: str) -> Any:
        if keep_tuples and isinstance(value, OrderedDict):    # tg.save(model.state_dict())
            return _encode_odict(value, path, walk, walk_container)
        if isinstance(value, Mapping) and _int_keyed(value):
            if len({int(k) for k in value}) != len(value):
                raise CheckpointError(f"checkpoint dict {path!r} has int keys that collide")
            return {"__int_keys__": {str(int(k)): walk(v, f"{path}/{int(k)}" if path else str(int(k)))
                                     for k, v in value.items()}}
        if isinstance(value, Mapping):
            return _encode_dict(value, path, walk)
        items = [walk(v, f"{path}/{i}") for i, v in enumerate(value)]
        if keep_tuples and isinstance(value, tuple):
            return {"__size__" if isinstance(value, Size) else "__tuple__": items}
        return items

    meta = json.dumps(walk(tree, ""), allow_nan=True)
    return meta, arrays


def _encode_tensor(tensor: Tensor, array_path: str) -> dict:
    """A Tensor's entry: its array's path, and what makes it come back as it was saved."""
    ref: dict = {"__tensor__": array_path}
    if tensor.requires_grad:
        ref["requires_grad"] = True
    if isinstance(tensor, _parameter_class()):   # ... or as a Parameter (torch.load's)
        ref["parameter"] = True
    if tensor.device.type != "cpu":     # the saved location (a CPU tensor's is implied)
        ref["device"] = str(tensor.device)
    return ref


def _encode_odict(value: OrderedDict, path: str, walk: Callable, walk_container: Callable) -> dict:
    """A state_dict's entry: its items, and its ``_metadata`` when JSON can hold it."""
    out = {"__odict__": walk_container(dict(value), path)}
    metadata = getattr(value, "_metadata", None)
    if isinstance(metadata, Mapping):
        try:
            out["__metadata__"] = walk([[k, v] for k, v in metadata.items()],
                                       f"{path}/__metadata__" if path else "__metadata__")
        except CheckpointError:
            pass        # metadata that JSON cannot hold is left out, not the weights
    return out


def _encode_dict(value: Mapping, path: str, walk: Callable) -> dict:
    """A dict keyed by strings: each value under its key's own path."""
    out = {}
    for k, v in value.items():
        if not isinstance(k, str) or not k or k in _MARKERS:
            # '' would make two entries share an array path; the markers say what a
            # JSON object stands for
            raise CheckpointError(f"checkpoint key {k!r} under {path!r} must be a non-empty "
                                  f"string other than {' / '.join(_MARKERS)}")
        part = _path_part(k)
        out[k] = walk(v, f"{path}/{part}" if path else part)
    return out


def _unsavable(value: Any, path: str) -> CheckpointError:
    """The error for a value a checkpoint cannot hold without pickle; a Module / Optimizer /
    scheduler gets the way to save its state instead."""
    if callable(getattr(value, "state_dict", None)):
        name = path.removeprefix("saved_object").lstrip("/")     # tg.save's wrapper key
        where = f" (entry {name!r})" if name else ""
        return CheckpointError(
            f"cannot save a whole {type(value).__name__} object{where}: torch.save pickles "
            f"it, and tensorgan never pickles. Save its state instead -- "
            f"tg.save(obj.state_dict(), f) -- and restore it into a newly built one with "
            f"obj.load_state_dict(tg.load(f))")
    return CheckpointError(f"checkpoint entry {path!r} has unsupported type {type(value).__name__} "
                           f"(checkpoints hold arrays, Tensors, numbers, strings, None and "
                           f"dicts / lists / tuples of them: no pickle)")


def _tagged(value: Any, path: str, arrays: dict[str, np.ndarray]) -> dict | None:
    """The tagged JSON form of a complex number, bytes, a dtype or a device (values torch.save
    takes that JSON has no type for), or None for another value."""
    from .backend import Device
    from .tensor import bfloat16
    if isinstance(value, complex):
        return {"__complex__": [value.real, value.imag]}
    if isinstance(value, (bytes, bytearray)):
        arrays[path] = np.frombuffer(bytes(value), dtype=np.uint8).copy()
        return {"__bytearray__" if isinstance(value, bytearray) else "__bytes__": path}
    if value is bfloat16:
        return {"__dtype__": "bfloat16"}
    if isinstance(value, np.dtype) and value.kind in "biufc":
        return {"__dtype__": value.name}
    if isinstance(value, Device):
        return {"__device__": str(value)}
    return None


def _decode_tagged(marker: str, value: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """Inverse of :func:`_tagged` for a JSON object whose one key is ``marker``; a malformed
    entry is a CheckpointError naming the tag."""
    payload = value[marker]
    if marker == "__complex__" and isinstance(payload, list) and len(payload) == 2 and all(
            isinstance(v, float) or type(v) is int and abs(v) < 2 ** 1024 for v in payload):
        return complex(payload[0], payload[1])      # (a longer int overflows a float)
    if marker in ("__bytes__", "__bytearray__") and isinstance(payload, str) and payload in arrays:
        array = arrays[payload]
        if array.dtype == np.uint8 and array.ndim == 1:
            return (bytearray if marker == "__bytearray__" else bytes)(array.tobytes())
    if marker == "__dtype__" and isinstance(payload, str):
        dtype = _dtype_named(payload)
        if dtype is not None:
            return dtype
    if marker == "__device__" and _DEVICE_NAME.fullmatch(str(payload)):
        from .backend import device
        from .errors import DeviceError
        try:
            return device(payload)
        except DeviceError:
            pass
    raise CheckpointError(f"checkpoint metadata has a malformed {marker} entry ({payload!r:.80})")


# A device name as str(device) writes it ('gpu' or ' cpu' are not: tg.device refuses them too)
_DEVICE_NAME = re.compile(r"(cpu|cuda)(:(0|[1-9][0-9]{0,8}))?")


def _dtype_named(name: str) -> Any:
    """The tensor dtype called ``name`` (``float32``, ``bool``, ``bfloat16``), or None."""
    from .tensor import bfloat16
    if name == "bfloat16":
        return bfloat16
    try:
        dtype = np.dtype(name)
    except TypeError:
        return None
    return dtype if dtype.kind in "biufc" and dtype.name == name else None


def _set_element(value: Any) -> Any:
    """A decoded set element, hashable again: a list there was a tuple (a checkpoint written
    without ``keep_tuples`` stores tuples as lists)."""
    return tuple(_set_element(v) for v in value) if isinstance(value, list) else value


def _path_part(key: str) -> str:
    """``key`` as one component of an array's entry path: '/' (a TensorBoard-style
    ``"loss/G"`` key) escaped, so that ``{"a/b": x}`` and ``{"a": {"b": y}}`` name two entries."""
    return key.replace("%", "%25").replace("/", "%2F")


def _parameter_class() -> type:
    from .nn.module import Parameter     # here: tensorgan.nn imports this module
    return Parameter


_TENSOR_KEYS = {"__tensor__", "requires_grad", "parameter", "device"}
_TAGS = ("__complex__", "__bytes__", "__bytearray__", "__dtype__", "__device__")


def decode(meta: str, arrays: Mapping[str, np.ndarray], locations: dict[int, str] | None = None) -> Any:
    """Inverse of :func:`encode` (Tensors come back on the CPU); ``locations``, when given, gets
    ``{id(tensor): saved device name}`` for each Tensor saved from another device."""
    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"__array__"} or ("__tensor__" in value and set(value) <= _TENSOR_KEYS):
            return _decode_array(value, arrays, locations)
        if len(value) == 1 and next(iter(value)) in _TAGS:
            return _decode_tagged(next(iter(value)), value, arrays)
        for marker, decode_marked in _MARKED:
            if marker in value:
                decoded = decode_marked(value, walk)
                if decoded is not _NOT_MARKED:
                    return decoded
        marker = next((k for k in value if k in _MARKERS), None)
        if marker is not None:          # save() refuses these keys in plain dicts
            raise CheckpointError(f"checkpoint metadata has a malformed {marker} entry")
        return {k: walk(v) for k, v in value.items()}

    try:
        try:
            tree = json.loads(meta)
        except ValueError as exc:   # JSONDecodeError, or an int longer than int() reads
            raise CheckpointError(f"checkpoint metadata is not valid JSON ({exc})") from None
        return walk(tree)
    except RecursionError:
        raise CheckpointError("checkpoint metadata is nested too deeply") from None


def _decode_array(value: dict, arrays: Mapping[str, np.ndarray], locations: dict | None) -> Any:
    """An ``__array__`` entry's array, or a ``__tensor__`` entry's Tensor (or Parameter) on the
    CPU -- its saved device noted in ``locations`` -- after checking what the file claims."""
    key = value.get("__array__", value.get("__tensor__"))
    if not isinstance(key, str) or key not in arrays:
        raise CheckpointError(f"checkpoint is missing array {key!r}")
    if "__array__" in value:
        return arrays[key]
    requires_grad = value.get("requires_grad") is True
    kind = arrays[key].dtype.kind
    if kind not in "biufc" or (requires_grad and kind not in "fc"):
        what = "requires grad" if kind in "biu" else "is a tensor"
        raise CheckpointError(f"checkpoint entry {key!r} {what} but holds a "
                              f"{arrays[key].dtype} array (tensors hold bool, integer, float or "
                              f"complex values; only float and complex ones require grad)")
    if value.get("parameter") is True:
        tensor = _parameter_class()(arrays[key], requires_grad=requires_grad, device="cpu")
    else:
        tensor = Tensor._from(arrays[key], device="cpu", requires_grad=requires_grad)
    saved_on = value.get("device", "cpu")
    if not isinstance(saved_on, str) or not _DEVICE_NAME.fullmatch(saved_on):
        raise CheckpointError(f"checkpoint entry {key!r} has a malformed device "
                              f"({saved_on!r})")
    if locations is not None and saved_on != "cpu":
        locations[id(tensor)] = saved_on
    return tensor


_NOT_MARKED = object()   # a _decode_* helper's answer for an object that is not its well-formed kind


def _decode_set(value: dict, walk: Callable) -> Any:
    """A ``__set__`` entry: the set of its decoded elements."""
    if set(value) != {"__set__"} or not isinstance(value["__set__"], list):
        return _NOT_MARKED
    try:
        return {_set_element(walk(v)) for v in value["__set__"]}
    except TypeError:
        raise CheckpointError("checkpoint metadata has a malformed __set__ entry (an "
                              "element that cannot be in a set)") from None


def _decode_tuple(value: dict, walk: Callable) -> Any:
    """A ``__tuple__`` entry (a tuple ``keep_tuples`` kept)."""
    if set(value) != {"__tuple__"} or not isinstance(value["__tuple__"], list):
        return _NOT_MARKED
    return tuple(walk(v) for v in value["__tuple__"])


def _decode_size(value: dict, walk: Callable) -> Any:
    """A ``__size__`` entry: a Size of non-negative ints."""
    if set(value) == {"__size__"} and isinstance(value["__size__"], list) and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value["__size__"]):
        return Size(value["__size__"])
    return _NOT_MARKED


def _decode_odict(value: dict, walk: Callable) -> Any:
    """An ``__odict__`` entry (a state_dict): an OrderedDict, with its ``_metadata`` when saved."""
    if not set(value) <= {"__odict__", "__metadata__"}:
        return _NOT_MARKED
    inner = walk(value["__odict__"])
    if not isinstance(inner, dict):
        raise CheckpointError("checkpoint metadata has a malformed __odict__ entry")
    ordered = OrderedDict(inner)
    if "__metadata__" in value:
        pairs = walk(value["__metadata__"])
        if not (isinstance(pairs, list) and all(
                isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                for p in pairs)):
            raise CheckpointError("checkpoint metadata has a malformed __metadata__ "
                                  "entry")
        ordered._metadata = OrderedDict((k, v) for k, v in pairs)  # type: ignore[attr-defined]
    return ordered


def _decode_namespace(value: dict, walk: Callable) -> Any:
    """A ``__namespace__`` entry (saved ``args``): an argparse.Namespace of its attributes."""
    if set(value) != {"__namespace__"} or not isinstance(value["__namespace__"], dict):
        return _NOT_MARKED
    inner = walk(value["__namespace__"])
    if not isinstance(inner, dict) or not all(isinstance(k, str) for k in inner):
        raise CheckpointError("checkpoint metadata has a malformed __namespace__ entry "
                              "(its attributes must be a dict keyed by strings)")
    namespace = argparse.Namespace()
    namespace.__dict__.update(inner)    # exactly the saved attributes (a hostile
    return namespace                    # '__class__' key stays a plain entry)


def _decode_int_keys(value: dict, walk: Callable) -> Any:
    """An ``__int_keys__`` entry (an optimizer state's ``{0: ...}``): a dict keyed by ints."""
    if set(value) != {"__int_keys__"} or not isinstance(value["__int_keys__"], dict):
        return _NOT_MARKED
    try:
        keys = [int(k) for k in value["__int_keys__"]]
    except ValueError:
        raise CheckpointError("checkpoint metadata has a non-integer key under "
                              "__int_keys__") from None
    if len(set(keys)) != len(keys):     # "0" and "00": one would be lost
        raise CheckpointError("checkpoint metadata has colliding keys under "
                              "__int_keys__")
    return {k: walk(v) for k, v in zip(keys, value["__int_keys__"].values())}


# decode's marked JSON objects, in the order it tries them: (the marker key, its decoder)
_MARKED = (("__set__", _decode_set), ("__tuple__", _decode_tuple), ("__size__", _decode_size),
           ("__odict__", _decode_odict), ("__namespace__", _decode_namespace),
           ("__int_keys__", _decode_int_keys))


# A DEFLATE stream cannot expand much more than 1032:1; a member declaring more is corrupt.
_MAX_DEFLATE_RATIO = 1100


def _check_entries(source: Any, path: Any) -> None:
    """Read every member's .npy header (not its data) and refuse, before anything is allocated,
    an entry that needs pickle or declares more bytes than the member holds -- so a corrupt or
    hostile file can neither run code nor make the loader allocate terabytes."""
    with zipfile.ZipFile(source) as zf:
        for info in zf.infolist():
            if info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + 1024:
                raise CheckpointError(f"{path}: entry {info.filename!r} claims {info.file_size} bytes "
                                      f"from {info.compress_size}; the file is corrupt")
            if not info.filename.endswith(".npy"):
                continue  # np.load reads these as raw bytes, bounded by file_size
            with zf.open(info) as f:
                _npy_header(f, info, path, info.file_size)


def _npy_header(f: Any, info: zipfile.ZipInfo, path: Any, room: int) -> tuple:
    """(shape, fortran_order, dtype, version) of the .npy header at ``f``'s position, refusing a
    header numpy cannot parse, an object dtype (pickle), and an array of more than ``room`` bytes.
    A version 3.0 header's field names are utf-8, read here as latin-1 (numpy's public readers):
    right for the checks, not for the dtype."""
    from numpy.lib import format as npy_format
    try:
        version = npy_format.read_magic(f)
        read_header = (npy_format.read_array_header_1_0 if version == (1, 0)
                       else npy_format.read_array_header_2_0)
        shape, fortran, dtype = read_header(f)
    except (ValueError, TypeError, SyntaxError, tokenize.TokenError) as exc:
        # numpy parses the header as a Python literal: damage shows up as any of these
        raise CheckpointError(f"{path}: entry {info.filename!r} has a malformed .npy header "
                              f"({type(exc).__name__})") from None
    if dtype.hasobject:
        raise CheckpointError(f"{path} contains object arrays that need pickle to load "
                              f"(entry {info.filename!r}); refusing (checkpoints never need "
                              f"pickle)")
    if any(n < 0 for n in shape):
        raise CheckpointError(f"{path}: entry {info.filename!r} declares shape {shape}")
    needed = int(np.prod(shape, dtype=object)) * dtype.itemsize if shape else dtype.itemsize
    if needed > room:
        raise CheckpointError(f"{path}: entry {info.filename!r} declares a {dtype} array of "
                              f"shape {shape} ({needed} bytes) but holds {room} "
                              f"bytes; the file is corrupt or truncated")
    return shape, fortran, dtype, version


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")     # a zip member's local file header


def _stored_npz(source: Any) -> bool:
    """Whether every member of the zip is an uncompressed, unencrypted ``.npy`` (what
    :func:`_write_npz` and np.savez write): :func:`_read_stored` reads those."""
    with zipfile.ZipFile(source) as zf:
        return all(i.compress_type == zipfile.ZIP_STORED and not i.flag_bits & 1
                   and i.filename.endswith(".npy") for i in zf.infolist())


def _read_stored(source: Any, path: Any) -> dict[str, np.ndarray]:
    """The arrays of a :func:`_stored_npz` file, each read straight into its array (one copy,
    where np.load copies through the zip reader and then again into the array), with the
    entry checks of :func:`_check_entries` and each member's CRC-32 verified."""
    with zipfile.ZipFile(source) as zf, _raw(source) as f:
        infos = zf.infolist()
        starts = _data_starts(f, infos, path)
        try:
            return {info.filename[:-4]: _read_member(f, info, start, path)
                    for info, start in zip(infos, starts)}
        except _Utf8Header:
            pass
    return _read_any(source, path)


class _Utf8Header(Exception):
    """A member's .npy header is version 3.0 (utf-8 field names): np.load reads the file."""


@contextlib.contextmanager
def _raw(source: Any) -> Iterator[Any]:
    """``source`` as a binary file: a Path opened (and closed after), a file object itself."""
    if not isinstance(source, Path):
        yield source
        return
    with open(source, "rb") as f:
        yield f


def _data_starts(f: Any, infos: list[zipfile.ZipInfo], path: Any) -> list[int]:
    """Where each member's data begins in ``f``, from its local header. Refuses a member whose
    local header is missing or names another file (as zipfile's open does), and members whose
    bytes overlap: a small zip of overlapping members reads as many copies of one region."""
    size = f.seek(0, os.SEEK_END)
    starts = []
    for info in infos:
        if not 0 <= info.header_offset <= size - _LOCAL_HEADER.size - info.compress_size:
            raise CheckpointError(f"{path}: entry {info.filename!r} claims {info.compress_size} "
                                  f"bytes that the file does not hold; it is corrupt or truncated")
        f.seek(info.header_offset)
        fields = _LOCAL_HEADER.unpack(f.read(_LOCAL_HEADER.size))
        encoding = "utf-8" if fields[3] & 0x800 else "cp437"
        if (fields[0] != zipfile.stringFileHeader
                or f.read(fields[10]).decode(encoding, "replace") != info.orig_filename):
            raise CheckpointError(f"{path}: entry {info.filename!r} has a bad local header; the "
                                  f"file is corrupt")
        starts.append(info.header_offset + _LOCAL_HEADER.size + fields[10] + fields[11])
    spans = sorted((info.header_offset, start + info.compress_size, info.filename)
                   for info, start in zip(infos, starts))
    for (_, end, name), (begin, _, other) in zip(spans, spans[1:]):
        if begin < end:
            raise CheckpointError(f"{path}: entries {name!r} and {other!r} overlap; the file is "
                                  f"corrupt")
    return starts


def _read_member(f: Any, info: zipfile.ZipInfo, start: int, path: Any) -> np.ndarray:
    """The array of stored member ``info`` whose data begins at ``start`` (:func:`_data_starts`)."""
    if info.compress_size != info.file_size:
        raise CheckpointError(f"{path}: entry {info.filename!r} is stored but claims "
                              f"{info.file_size} bytes from {info.compress_size}; it is corrupt")
    f.seek(start)
    shape, fortran, dtype, version = _npy_header(f, info, path, info.file_size)
    if version == (3, 0):
        raise _Utf8Header
    header_size = f.tell() - start
    if int(np.prod(shape, dtype=object)) * dtype.itemsize != info.file_size - header_size:
        raise CheckpointError(f"{path}: entry {info.filename!r} holds {info.file_size - header_size} "
                              f"bytes of data for a {dtype} array of shape {shape}; the file is corrupt")
    array = np.empty(shape, dtype=dtype, order="F" if fortran else "C")
    data = array.reshape(-1, order="A").view(np.uint8)
    if f.readinto(data) != data.size:
        raise CheckpointError(f"{path}: entry {info.filename!r} is truncated")
    f.seek(start)
    crc = zlib.crc32(data, zlib.crc32(f.read(header_size)))
    if crc != info.CRC:
        raise CheckpointError(f"{path} is not a readable .npz checkpoint (corrupt or truncated: "
                              f"bad CRC-32 for entry {info.filename!r})")
    return array


def _write_npz(f: Any, arrays: Mapping[str, np.ndarray]) -> None:
    """np.savez's file (uncompressed zip of ``<name>.npy`` members, zip64 headers), each array's
    bytes written from the array itself, where np.savez copies them with ``tobytes`` first."""
    from numpy.lib import format as npy_format
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, value in arrays.items():
            a = np.asanyarray(value)
            with zf.open(name + ".npy", "w", force_zip64=True) as out:
                if a.dtype.hasobject or a.itemsize == 0 or a.dtype.names is not None:
                    # (numpy picks the header version: a field name may need 3.0's utf-8)
                    npy_format.write_array(out, a, allow_pickle=False)
                    continue
                if not (a.flags.c_contiguous or a.flags.f_contiguous):
                    a = np.ascontiguousarray(a)
                header = npy_format.header_data_from_array_1_0(a)
                try:
                    npy_format.write_array_header_1_0(out, header)
                except ValueError:      # a header too long for version 1.0 (numpy does the same)
                    npy_format.write_array_header_2_0(out, header)
                out.write(memoryview(a.reshape(-1, order="A").view(np.uint8)))


# ---------------------------------------------------------------------------------------------
# Save / load
# ---------------------------------------------------------------------------------------------
def _read_any(source: Any, path: Any) -> dict[str, np.ndarray]:
    """Any other .npz (deflated members, raw files): np.load, after :func:`_check_entries`."""
    _check_entries(source, path)
    with zipfile.ZipFile(source) as zf, _raw(source) as f:
        _data_starts(f, zf.infolist(), path)     # deflated members can overlap too (a zip bomb)
    if not isinstance(source, Path):
        source.seek(0)
    with np.load(source, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def save_checkpoint(path: str | os.PathLike[str], state: Mapping[str, Any], *,
                    keep_tuples: bool = False) -> Path:
    """Write ``state`` (a nested dict of arrays and JSON-able values) atomically to ``path``.

    ``format`` and ``format_version`` are added. Raises CheckpointError when the write fails
    (the previous file at ``path``, if any, is left as it was)."""
    if not isinstance(state, Mapping):
        raise CheckpointError(f"a checkpoint state must be a mapping, got {type(state).__name__}")
    reserved = [k for k in ("format", "format_version") if k in state]
    if reserved:
        raise CheckpointError(f"checkpoint key {reserved[0]!r} is reserved for the file header")
    payload = _payload(state, keep_tuples)
    try:
        return atomic_write(path, lambda f: _write_npz(f, payload))
    except OSError as exc:
        raise CheckpointError(f"could not write checkpoint {path}: {exc.strerror or exc} (a "
                              f"previous checkpoint there is kept as it was)") from exc


def _payload(state: Mapping[str, Any], keep_tuples: bool) -> dict[str, np.ndarray]:
    """``state`` with the file header, as the ``{entry name: array}`` dict np.savez writes."""
    tree = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **state}
    meta, arrays = encode(tree, keep_tuples)
    if _META_KEY in arrays:
        raise CheckpointError(f"{_META_KEY!r} is reserved")
    clash = [k for k in ("file", "allow_pickle") if k in arrays]    # np.savez's own keywords
    if clash:
        raise CheckpointError(f"checkpoint key {clash[0]!r} is reserved (an argument of np.savez); "
                              f"nest it in a dict")
    return {_META_KEY: np.array(meta), **arrays}


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; every failure is a CheckpointError
    saying what is wrong with which file."""
    return _load_path(path, None)


def _load_path(path: str | os.PathLike[str], locations: dict[int, str] | None) -> dict[str, Any]:
    """:func:`load_checkpoint`, filling ``locations`` as :func:`decode` does."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist" if not path.exists()
                              else f"checkpoint {path} is not a file")
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from None
    return _load_source(path, magic, locations=locations)


def _load_source(source: Any, magic: bytes, path: Any = None,
                 locations: dict[int, str] | None = None) -> dict[str, Any]:
    """The checks and decoding of :func:`load_checkpoint` on ``source``: a Path, or an
    ``io.BytesIO`` holding what a file object gave; ``magic`` is its start, ``path`` the name
    that error messages give it (``source`` itself by default), ``locations`` as :func:`decode`'s."""
    path = source if path is None else path
    if not magic.startswith(b"PK"):
        kind = "a single .npy array" if magic == b"\x93NUMPY" else "not an .npz file"
        raise CheckpointError(f"{path} is {kind}, not a tensorgan checkpoint")
    try:
        with zipfile.ZipFile(source) as archive:   # torch.save's zip: <name>/data.pkl + storages
            if any(n.endswith("/data.pkl") or n == "data.pkl" for n in archive.namelist()):
                raise CheckpointError(f"{path} was written by PyTorch's torch.save (a pickle in a "
                                      f"zip); tensorgan does not unpickle: in torch, write "
                                      f"np.savez(f, **{{k: v.numpy() for k, v in "
                                      f"model.state_dict().items()}}), then here "
                                      f"model.load_state_dict(dict(np.load(f)))")
        if not isinstance(source, Path):
            source.seek(0)
        arrays = _read_stored(source, path) if _stored_npz(source) else _read_any(source, path)
        if _META_KEY not in arrays:
            raise CheckpointError(f"{path} is an .npz file but not a tensorgan checkpoint "
                                  f"(no {_META_KEY!r} entry)")
    except CheckpointError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc):
            raise CheckpointError(f"{path} contains object arrays that need pickle to load; "
                                  f"refusing (checkpoints never need pickle)") from None
        raise CheckpointError(f"{path} is not a valid checkpoint ({exc})") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError, TypeError,
            NotImplementedError, RuntimeError, OverflowError, struct.error, zlib.error) as exc:
        # zipfile and numpy raise all of these for damaged files (unsupported compression or
        # encryption flags, bad CRCs, short reads, malformed headers).
        raise CheckpointError(f"{path} is not a readable .npz checkpoint (corrupt or truncated: "
                              f"{exc})") from None
    except MemoryError:  # a size the entry checks could not bound (e.g. a deflated member)
        raise CheckpointError(f"{path} declares arrays too large to load; it is corrupt") from None
    meta = arrays.pop(_META_KEY)
    if meta.dtype.kind != "U" or meta.shape != ():
        raise CheckpointError(f"{path}: {_META_KEY!r} is not a JSON string")
    tree = decode(str(meta), arrays, locations)
    if not isinstance(tree, dict) or tree.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{path} is not a tensorgan checkpoint")
    version = tree.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path} has checkpoint format version {version}; this tensorgan "
                              f"reads version {FORMAT_VERSION}")
    return tree


# ---------------------------------------------------------------------------------------------
# torch.save / torch.load's idiom: tg.save(G.state_dict(), "g.npz"); G.load_state_dict(tg.load(...))
# ---------------------------------------------------------------------------------------------
def save(obj: Any, f: Any, pickle_module: Any = None, pickle_protocol: Any = None,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False) -> Path | None:
    """Write a Tensor, an array, or a nested dict / list / tuple of them and JSON values (a model's
    or an optimizer's ``state_dict()``) to ``f`` -- a path (written atomically) or, as torch.save
    takes, a binary file object open for writing -- in the checkpoint format, with no pickle
    (torch.save's ``pickle_module`` / ``pickle_protocol`` / ``_use_new_zipfile_serialization`` /
    ``_disable_byteorder_record`` are accepted for torch code and change nothing: one format).
    :func:`load` gives back the same structure (tuples as tuples, Tensors as CPU Tensors that
    require grad where the saved ones did); a Tensor or array saved twice is stored twice and
    comes back as two copies (torch keeps shared storage); a reference cycle is refused. A whole
    Module or Optimizer object cannot be saved (torch pickles it): a CheckpointError says to save
    its ``state_dict()``."""
    if isinstance(f, (str, os.PathLike)):
        return save_checkpoint(f, {"saved_object": obj}, keep_tuples=True)
    if not callable(getattr(f, "write", None)):
        raise InputTypeError(f"tg.save writes to a path (str or os.PathLike) or a binary file object, "
                             f"got {type(f).__name__}")
    payload = _payload({"saved_object": obj}, keep_tuples=True)
    buffer = io.BytesIO()
    _write_npz(buffer, payload)
    try:
        f.write(buffer.getvalue())
    except TypeError as exc:   # a text-mode file: torch.save needs open(path, "wb") too
        raise InputTypeError(f"tg.save needs a file opened in binary mode ('wb'), got {f!r}") from exc
    return None


_PICKLE_LOAD_ARGS = ("encoding", "errors", "fix_imports")


def load(f: Any, map_location: Any = None, pickle_module: Any = None, *, weights_only: Any = True,
         mmap: Any = None, **pickle_load_args: Any) -> Any:
    """Read what :func:`save` wrote (Tensors come back as Tensors, on ``map_location``'s device
    or the CPU) from ``f``, a path or a binary file object open for reading (as torch.load); a
    training checkpoint comes back whole, as :func:`load_checkpoint` gives it.
    ``map_location`` is torch's: a device or its name moves every Tensor there; a dict maps the
    device a Tensor was saved from (``{"cuda:0": "cpu"}``); a callable is called
    ``fn(tensor, saved_location)``; a Tensor a dict does not map goes back where it was saved,
    as torch's. Unlike torch, every Tensor comes back on the CPU when ``map_location`` is None,
    so a checkpoint written on a GPU loads on any machine; a ``cuda`` target without a usable
    GPU is a DeviceError saying so.
    ``weights_only``, ``pickle_module``, ``mmap`` and pickle's ``encoding`` / ``errors`` /
    ``fix_imports`` are accepted for torch code and change nothing: loading never unpickles
    (so never runs code) and reads the whole file; another keyword is a TypeError, as
    torch's unpickler raises."""
    unknown = sorted(k for k in pickle_load_args if k not in _PICKLE_LOAD_ARGS)
    if unknown:
        raise TypeError(f"tg.load() got an unexpected keyword argument {unknown[0]!r}")
    locations: dict[int, str] = {}
    if isinstance(f, (str, os.PathLike)):
        tree = _load_path(f, locations)
    elif callable(getattr(f, "read", None)):
        data = f.read()
        if not isinstance(data, bytes):
            raise InputTypeError(f"tg.load needs a file opened in binary mode ('rb'), got {f!r}")
        tree = _load_source(io.BytesIO(data), data[:6], getattr(f, "name", type(f).__name__),
                            locations)
    else:
        raise InputTypeError(f"tg.load reads a path (str or os.PathLike) or a binary file object, "
                             f"got {type(f).__name__}")
    if set(tree) != {"format", "format_version", "saved_object"}:   # not written by save()
        return tree
    obj = tree["saved_object"]
    return obj if map_location is None else _to_device(obj, map_location, locations)


def _mapped_device(saved_on: str, map_location: Any) -> Any:
    """torch.load's map_location as a device for a tensor saved from ``saved_on``: a device /
    string as it is; a dict maps the saved device's name (``{"cuda:0": "cpu"}``; a name it lacks
    restores the tensor where it was saved, as torch's)."""
    if isinstance(map_location, dict):
        return map_location.get(saved_on, saved_on)
    return map_location


def _moved(t: Tensor, target: Any) -> Tensor:
    """``t`` on ``target``; a GPU target without a usable GPU is a DeviceError saying so."""
    from .backend import device
    from .errors import DeviceError
    try:
        return t.to(target)
    except DeviceError as exc:
        try:
            device(target)          # a known device name, so what failed is its availability
        except Exception:
            raise exc from None
        raise DeviceError(f"tg.load: map_location {str(target)!r} names a GPU, but no usable GPU "
                          f"is present ({exc}); load with map_location='cpu'") from None


def _to_device(obj: Any, device: Any, locations: Mapping[int, str]) -> Any:
    if isinstance(obj, Tensor):    # a leaf again on the new device, as torch.load's map_location
        saved_on = locations.get(id(obj), "cpu")
        if callable(device) and not isinstance(device, (str, type(obj.device))):
            # torch calls fn(storage, location) and keeps the storage it returns (None: stay)
            moved = device(obj.detach(), saved_on)
            if moved is None:
                moved = obj.detach()
            if not isinstance(moved, Tensor):
                raise InputTypeError(f"tg.load: map_location (a callable) must return a Tensor or "
                                     f"None, as torch's returns a storage; got {type(moved).__name__}")
        else:
            moved = _moved(obj.detach(), _mapped_device(saved_on, device))
        if isinstance(obj, _parameter_class()):     # still a Parameter, as torch.load's
            return _parameter_class()(moved.detach(), requires_grad=obj.requires_grad)
        return moved.detach().requires_grad_(obj.requires_grad)
    if isinstance(obj, OrderedDict):       # a state_dict: keep its type and _metadata
        moved = OrderedDict((k, _to_device(v, device, locations)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):
            moved._metadata = obj._metadata     # type: ignore[attr-defined]
        return moved
    if isinstance(obj, dict):
        return {k: _to_device(v, device, locations) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(v, device, locations) for v in obj)
    return obj

