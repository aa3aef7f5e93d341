"""Crash-safe file writes: a temp file beside the target, fsync, then an atomic rename.

Used for every file tensorgan writes that a user may rely on after a crash: checkpoints, sample
grids, metrics logs, configs and downloaded datasets. A reader sees the old file or the new one,
never a torn mix.
"""
from __future__ import annotations

import errno
import os
import tempfile
import urllib.request
from pathlib import Path
from typing import Any, BinaryIO, Callable


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], Any],
                 check: Callable[[Path], Any] | None = None) -> Path:
    """Call ``write(fileobj)`` on a temp file beside ``path``, fsync, and rename it over ``path``.

    ``check(temp_path)``, if given, runs on the complete temp file before the rename and may raise
    to reject it. On any failure the temp file is removed, ``path`` is untouched, and the error
    propagates."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():       # errors name the path asked for, not the temp file beside it
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", str(path))
    try:
        # the writer's pid in the name: a later run deletes only the temps of dead writers
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp")
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot create a file in {folder}: {exc.strerror}", str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fchmod(f.fileno(), _default_file_mode())  # mkstemp makes 0600; give the usual umask mode
            os.fsync(f.fileno())
        if check is not None:
            check(Path(tmp))
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
            # a failed write / fsync (disk full) names no file: name the one asked for
            raise type(exc)(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise
    _fsync_dir(folder)
    return path


def download_bounded(url: str, out: BinaryIO, limit: int, what: str, timeout: float) -> None:
    """Copy ``url``'s body into ``out`` (the file :func:`atomic_write` hands over), refusing a
    body of more than ``limit`` bytes: a mirror that serves something else stops early."""
    from .errors import DataError
    with urllib.request.urlopen(url, timeout=timeout) as response:
        received = 0
        for block in iter(lambda: response.read(1 << 16), b""):
            received += len(block)
            if received > limit:
                raise DataError(f"{url}: more than {limit} bytes, not {what}")
            out.write(block)


def _default_file_mode() -> int:
    """0666 minus the process umask: the mode ``open()`` would have given a new file.  Read from
    /proc on Linux: probing with os.umask() sets the process-wide umask to 0 for a moment, and a
    file another thread creates in that moment would get mode 0666."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_dir(folder: Path) -> None:
    # Make the rename itself durable; not possible on every platform/filesystem (best effort).
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux's MemAvailable), or None if unknown:
    the CLI and ImageFolder refuse sizes that would not fit before allocating them."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None
