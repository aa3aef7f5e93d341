"""Reader and writer for the IDX format used by MNIST, raw or gzip-compressed.

An IDX file is a 4-byte magic number ``0x00 0x00 <type code> <ndim>``, then ``ndim`` big-endian
uint32 dimensions, then the row-major payload. Type code 0x08 (unsigned byte), what every
MNIST-style image file uses, is read by default; ``read_idx(path, types=...)`` reads the others
(QMNIST's labels are 0x0C, big-endian int32).

Every failure raises :class:`~tensorgan.errors.DataError` whose message starts with the file name.
Sizes declared in the header are checked against the file size *before* anything is allocated, so
a corrupt or hostile header cannot make the reader allocate gigabytes or hang.
"""

from __future__ import annotations

import gzip
import lzma
import os
import zlib
from pathlib import Path
from typing import BinaryIO, NoReturn

import numpy as np

from ..errors import DataError

__all__ = ["read_idx", "write_idx", "is_gzip"]

GZIP_MAGIC = b"\x1f\x8b"
XZ_MAGIC = b"\xfd7zXZ\x00"
UINT8_TYPE_CODE = 0x08
# Type codes of the IDX spec.
_TYPE_NAMES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32",
               0x0D: "float32", 0x0E: "float64"}
_TYPE_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
# DEFLATE cannot compress better than about 1032:1, so a gzip file of S bytes cannot expand to
# more than this many times S; a header claiming more is corrupt (or a decompression bomb).
_MAX_DEFLATE_RATIO = 1100
_CHUNK = 1 << 22  # read gzip payloads in 4 MiB chunks so memory follows the real data, not the header
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error, lzma.LZMAError, OSError)


def is_gzip(path: str | os.PathLike[str]) -> bool:
    """True when the file starts with the gzip magic bytes (whatever its name)."""
    path = Path(path)
    with _open_raw(path) as f:
        try:
            return f.read(2) == GZIP_MAGIC
        except OSError as exc:
            raise DataError(f"{path}: read error ({exc})") from exc


def read_idx(path: str | os.PathLike[str], *, types: tuple[int, ...] = (UINT8_TYPE_CODE,)) -> np.ndarray:
    """Read an IDX file, raw, gzip- or xz-compressed (detected by its magic bytes).

    ``types`` are the IDX type codes accepted (default: 0x08, unsigned byte). Returns a
    C-contiguous array in native byte order with the shape declared in the header.
    Raises DataError naming the file for anything that is not exactly a valid IDX file.
    """
    path = Path(path)
    compressed = ""
    with _open_raw(path) as raw:
        try:
            start = raw.read(len(XZ_MAGIC))
            compressed = "gzip" if start[:2] == GZIP_MAGIC else "xz" if start == XZ_MAGIC else ""
            file_size = os.fstat(raw.fileno()).st_size
            raw.seek(0)
            if not compressed:
                return _read_stream(raw, path, types, max_payload=file_size, exact_size=file_size)
            if compressed == "xz":      # QMNIST's NIST files; xz has no ratio bound worth checking
                with lzma.LZMAFile(raw, mode="rb") as stream:
                    return _read_stream(stream, path, types, max_payload=None, exact_size=None)
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_stream(stream, path, types, max_payload=_MAX_DEFLATE_RATIO * file_size,
                                    exact_size=None)
        except DataError:
            raise
        except _GZIP_ERRORS as exc:  # OSError covers read errors of raw files too
            what = f"corrupt or truncated {compressed} data" if compressed else "read error"
            raise DataError(f"{path}: {what} ({exc})") from exc


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file; gzip-compressed when the name ends with ``.gz``."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise DataError(f"{path}: write_idx writes uint8 arrays only, got {array.dtype}")
    if not 1 <= array.ndim <= 255 or any(d >= 2**32 for d in array.shape):
        raise DataError(f"{path}: cannot write an array of shape {array.shape} as IDX")
    header = bytes([0, 0, UINT8_TYPE_CODE, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    payload = header + np.ascontiguousarray(array).tobytes()
    path = Path(path)
    # mtime=0 makes the .gz output byte-for-byte reproducible.
    data = gzip.compress(payload, mtime=0) if path.name.endswith(".gz") else payload
    path.write_bytes(data)


def _open_raw(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except FileNotFoundError as exc:
        raise DataError(f"{path}: file not found") from exc
    except IsADirectoryError as exc:
        raise DataError(f"{path}: is a directory, expected an IDX file") from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot open ({exc.strerror or exc})") from exc


def _read_stream(stream: BinaryIO, path: Path, types: tuple[int, ...], max_payload: int | None,
                 exact_size: int | None) -> np.ndarray:
    """Parse header + payload from a raw or decompressing stream.

    ``exact_size`` is the file size for raw files (the payload must fill it exactly);
    ``max_payload`` bounds what a header may declare before we try to read it (None: no bound;
    the payload is still read in chunks, so memory follows the real data).
    """
    type_code, shape = _read_header(stream, path, types)
    dtype = np.dtype(_TYPE_DTYPES[type_code])
    header_len = 4 + 4 * len(shape)
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize if shape else 0  # no overflow
    if exact_size is not None:
        actual = exact_size - header_len
        if actual != expected:
            _size_error(path, shape, header_len, expected, actual)
        data = _read_exactly(stream, expected)
    else:
        if max_payload is not None and expected > max_payload:
            raise DataError(
                f"{path}: header declares shape {shape} ({expected} bytes), far more than a "
                f"{max_payload // _MAX_DEFLATE_RATIO}-byte gzip file can hold; the header is corrupt")
        data = _read_exactly(stream, expected)
        if len(data) != expected:
            _size_error(path, shape, header_len, expected, len(data))
        # Reading to the end also makes gzip verify its CRC and length trailer.
        trailing = len(stream.read(_CHUNK))
        if trailing:
            rest = sum(len(c) for c in iter(lambda: stream.read(_CHUNK), b""))
            _size_error(path, shape, header_len, expected, expected + trailing + rest)
    try:
        array = np.frombuffer(data, dtype=dtype).reshape(shape)
    except ValueError as error:             # e.g. (0, 2**20, 2**20, 2**23): NumPy's "too big"
        raise DataError(f"{path}: header declares shape {shape}, which NumPy cannot lay out "
                        f"({error}); the header is corrupt") from None
    return array if dtype.itemsize == 1 else array.astype(dtype.newbyteorder("="))


def _read_header(stream: BinaryIO, path: Path,
                 types: tuple[int, ...] = (UINT8_TYPE_CODE,)) -> tuple[int, tuple[int, ...]]:
    magic = stream.read(4)
    if len(magic) < 4:
        raise DataError(f"{path}: file too short for an IDX header ({len(magic)} bytes, need 4+)")
    if magic[0] != 0 or magic[1] != 0:
        raise DataError(f"{path}: not an IDX file (magic number 0x{magic.hex()} does not start with "
                        f"two zero bytes)")
    type_code, ndim = magic[2], magic[3]
    if type_code not in types or type_code not in _TYPE_DTYPES:
        kind = _TYPE_NAMES.get(type_code, "unknown")
        wanted = " or ".join(f"0x{t:02x} ({_TYPE_NAMES.get(t, 'unknown')})" for t in types)
        raise DataError(f"{path}: IDX type code 0x{type_code:02x} ({kind}) is not supported; only "
                        f"{wanted} files can be read")
    if ndim == 0:
        raise DataError(f"{path}: IDX header declares 0 dimensions")
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataError(f"{path}: truncated IDX header: {ndim} dimensions need {4 * ndim} bytes "
                        f"after the magic number, found {len(dims)}")
    return type_code, tuple(int.from_bytes(dims[i:i + 4], "big") for i in range(0, 4 * ndim, 4))


def _read_exactly(stream: BinaryIO, n: int) -> bytearray:
    """Read up to n bytes in chunks (fewer only at end of stream)."""
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(min(_CHUNK, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return buf


def _size_error(path: Path, shape: tuple[int, ...], header_len: int, expected: int,
                actual: int) -> NoReturn:
    what = "truncated" if actual < expected else "trailing bytes after the data"
    raise DataError(f"{path}: {what}: shape {shape} needs {expected} bytes of data after the "
                    f"{header_len}-byte header, found {max(actual, 0)}")
