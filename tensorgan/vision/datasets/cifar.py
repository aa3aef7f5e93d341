"""torchvision.datasets.CIFAR10 / CIFAR100, read from the BINARY versions of the archives
(``cifar-10-binary.tar.gz`` / ``cifar-100-binary.tar.gz``, Alex Krizhevsky, 2009:
https://www.cs.toronto.edu/~kriz/cifar.html): fixed-length records of plain bytes, no pickle.

A CIFAR-10 record is 1 label byte then 3072 pixel bytes (the 1024 red, 1024 green, 1024 blue
values of a 32x32 image, row by row); a CIFAR-100 record has 2 label bytes (coarse, fine) first.
The files are looked for extracted (``<root>/cifar-10-batches-bin/data_batch_1.bin`` ...,
``<root>/cifar-100-binary/train.bin`` ..., or directly in ``root``) or inside the archive itself
(``<root>/cifar-10-binary.tar.gz``, read member by member without extracting anything).
torchvision's own files are the PYTHON versions (``cifar-10-batches-py``, pickles): tensorgan
never unpickles, so finding only those is a DataError naming the binary archive to get instead.
``download=True`` fetches the binary archive (checked against its published MD5 before it is
moved into place, as tensorgan.data's MNIST download) and extracts its regular data files.
"""
from __future__ import annotations

import hashlib
import os
import tarfile
from http.client import HTTPException
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image

from ...errors import DataError
from ...fileio import atomic_write, download_bounded
from .vision import VisionDataset, _item_index

__all__ = ["CIFAR10", "CIFAR100"]

_IMAGE_BYTES = 32 * 32 * 3
_MAX_DOWNLOAD_BYTES = 200 << 20        # the archives are about 162 / 161 MiB
_MAX_RECORDS = 50_000                  # the largest file (CIFAR-100's train.bin) holds 50000 images
_MAX_META_BYTES = 1 << 20


class CIFAR10(VisionDataset):
    """CIFAR-10 as torchvision's: ``CIFAR10(root, train=True, transform=None,
    target_transform=None, download=False)``; items are ``(PIL RGB image, int label)`` before the
    transforms; ``.data`` is a uint8 (N, 32, 32, 3) ndarray and ``.targets`` a list of ints, as
    torchvision's. Read from the binary version (see the module's docstring)."""

    base_folder = "cifar-10-batches-bin"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    filename = "cifar-10-binary.tar.gz"
    tgz_md5 = "c32a1d4ab5d03f1284b67883e8d87530"      # published on the CIFAR page
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]
    meta_file = "batches.meta.txt"
    python_folder, python_archive = "cifar-10-batches-py", "cifar-10-python.tar.gz"
    label_bytes, label_index = 1, 0
    default_classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                       "ship", "truck"]

    def __init__(self, root: str | os.PathLike[str], train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        super().__init__(os.fspath(root), transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        names = self.train_list if train else self.test_list
        source = self._locate(names)
        blobs = self._read(source, names + [self.meta_file])
        records = []
        for name in names:
            records.append(self._records(source, name, blobs[name]))
        table = np.concatenate(records) if records else np.zeros((0, self._record_bytes()), np.uint8)
        self.targets = [int(v) for v in table[:, self.label_index]]
        self.data = np.ascontiguousarray(
            table[:, self.label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        meta = blobs.get(self.meta_file)
        names_in_meta = [] if meta is None else [line.strip() for line in
                                                 meta.decode("utf-8", "replace").splitlines()
                                                 if line.strip()]
        self.classes = names_in_meta or list(self.default_classes)
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}
        bad = [t for t in self.targets if t >= len(self.classes)]
        if bad:
            raise DataError(f"{self._where(source)}: label {bad[0]} is out of range for "
                            f"{len(self.classes)} classes")

    # -- where the files are
    def _record_bytes(self) -> int:
        return self.label_bytes + _IMAGE_BYTES

    def _locate(self, names: list[str]) -> Path:
        """The folder holding the data files, or the archive holding them."""
        root = Path(self.root)
        for folder in (root / self.base_folder, root):
            if all((folder / name).is_file() for name in names):
                return folder
        archive = root / self.filename
        if archive.is_file():
            return archive
        for pickled in (root / self.python_folder, root / self.python_archive):
            if pickled.exists():
                raise DataError(
                    f"{self.__class__.__name__}: {pickled} is the Python (pickle) version of the "
                    f"dataset, and tensorgan never unpickles; get the binary version instead, "
                    f"{self.filename} ({self.url}), and put it (or its {self.base_folder} "
                    f"folder) in {root}, or pass download=True")
        raise DataError(f"{self.__class__.__name__}: {', '.join(names)} not found in "
                        f"{root / self.base_folder}, {root} or {archive}; pass download=True to "
                        f"download {self.filename} ({self.url}) into {root}, or put it there")

    def _where(self, source: Path) -> str:
        return str(source)

    def _read(self, source: Path, names: list[str]) -> dict[str, bytes]:
        """The bytes of each of ``names`` found (the meta file may be absent)."""
        found: dict[str, bytes] = {}
        if source.is_dir():
            for name in names:
                path = source / name
                if path.is_file():
                    try:
                        self._check_size(str(path), path.stat().st_size, name)
                        found[name] = path.read_bytes()
                    except OSError as exc:
                        raise DataError(f"{path}: cannot read ({exc})") from exc
            return found
        try:
            with tarfile.open(source, "r:*") as tar:
                for member in tar:
                    base = member.name.rsplit("/", 1)[-1]
                    if member.isreg() and base in names and base not in found:
                        # checked BEFORE reading: a member's header may declare gigabytes of
                        # highly compressible bytes (a decompression bomb)
                        self._check_size(f"{source}:{member.name}", member.size, base)
                        handle = tar.extractfile(member)
                        assert handle is not None
                        found[base] = handle.read()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DataError(f"{source}: not a readable tar archive ({exc}); delete it and fetch "
                            f"{self.filename} again") from None
        missing = [n for n in names if n not in found and n != self.meta_file]
        if missing:
            raise DataError(f"{source}: the archive lacks {', '.join(missing)}; is it "
                            f"{self.filename}?")
        return found

    def _check_size(self, where: str, nbytes: int, name: str) -> None:
        """A data file holds 1 to 50000 whole records; the meta file is a short text."""
        if name == self.meta_file:
            if nbytes > _MAX_META_BYTES:
                raise DataError(f"{where}: {nbytes} bytes is far too large for {name} (a list of "
                                f"class names); the archive is corrupt or not {self.filename}")
            return
        size = self._record_bytes()
        if nbytes == 0:
            raise DataError(f"{where}: the file is empty (0 bytes, no {size}-byte records); it is "
                            f"truncated or not {self.__class__.__name__}'s binary version")
        if nbytes > _MAX_RECORDS * size:
            raise DataError(f"{where}: {nbytes} bytes is more than the {_MAX_RECORDS} records of "
                            f"{size} bytes any {self.__class__.__name__} file holds; the archive "
                            f"is corrupt or not {self.filename}")

    def _records(self, source: Path, name: str, blob: bytes) -> np.ndarray:
        size = self._record_bytes()
        where = str(source / name) if source.is_dir() else f"{source}:{name}"
        self._check_size(where, len(blob), name)
        if len(blob) % size:
            raise DataError(f"{source / name if source.is_dir() else f'{source}:{name}'}: "
                            f"{len(blob)} bytes is not a whole number of {size}-byte records "
                            f"({self.label_bytes} label byte(s) + 3072 pixels); the file is "
                            f"truncated or not {self.__class__.__name__}'s binary version")
        return np.frombuffer(blob, dtype=np.uint8).reshape(-1, size)

    # -- download
    def _check_integrity(self) -> bool:
        archive = Path(self.root) / self.filename
        return archive.is_file() and _md5(archive) == self.tgz_md5

    def download(self) -> None:
        """Fetch the binary archive into ``root`` (MD5-checked before it is moved into place) and
        extract its data files into ``root/base_folder``. An archive already there and valid is
        not fetched again."""
        root = Path(self.root)
        archive = root / self.filename
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"{root}: cannot create the download folder ({exc})") from exc
        if not self._check_integrity():
            try:
                atomic_write(archive, lambda out: download_bounded(self.url, out, _MAX_DOWNLOAD_BYTES,
                                                                   "a CIFAR archive", 60.0),
                             check=lambda temp: self._check_md5(temp))
            except (OSError, HTTPException, ValueError) as exc:
                if isinstance(exc, DataError):
                    raise
                raise DataError(f"could not download {self.url} ({exc}); download it yourself "
                                f"and put it in {root}") from exc
        self._extract(archive, root / self.base_folder)

    def _check_md5(self, path: Path) -> None:
        actual = _md5(path)
        if actual != self.tgz_md5:
            raise DataError(f"{self.url}: MD5 mismatch: expected {self.tgz_md5}, got {actual}; "
                            f"the download is corrupt or not {self.filename}")

    def _extract(self, archive: Path, folder: Path) -> None:
        wanted = self.train_list + self.test_list + [self.meta_file]
        if all((folder / name).is_file() for name in self.train_list + self.test_list):
            return
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self._read(archive, wanted).items():
            atomic_write(folder / name, lambda out, data=data: out.write(data))

    # -- items
    def __getitem__(self, index: int) -> tuple[Any, Any]:
        index = _item_index(self, index, len(self.data))
        img, target = Image.fromarray(self.data[index]), self.targets[index]
        return self._apply_transforms(img, target)

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100 as torchvision's (``.targets``: the 100 fine labels; ``.coarse_targets``: the 20
    superclasses, which the binary version also carries)."""

    base_folder = "cifar-100-binary"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
    filename = "cifar-100-binary.tar.gz"
    tgz_md5 = "03b5dce01913d631647c71ecec9e9cb8"
    train_list = ["train.bin"]
    test_list = ["test.bin"]
    meta_file = "fine_label_names.txt"
    python_folder, python_archive = "cifar-100-python", "cifar-100-python.tar.gz"
    label_bytes, label_index = 2, 1
    default_classes = [str(i) for i in range(100)]

    coarse_classes = 20

    def _records(self, source: Path, name: str, blob: bytes) -> np.ndarray:
        table = super()._records(source, name, blob)
        bad = table[:, 0] >= self.coarse_classes
        if bad.any():
            where = source / name if source.is_dir() else f"{source}:{name}"
            raise DataError(f"{where}: coarse label {int(table[bad.argmax(), 0])} (record "
                            f"{int(bad.argmax())}) is out of range for {self.coarse_classes} "
                            f"superclasses")
        coarse = [int(v) for v in table[:, 0]]
        self.coarse_targets = getattr(self, "coarse_targets", []) + coarse
        return table


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
