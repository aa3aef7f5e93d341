"""MNIST: locate, verify, load and download the IDX files.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J. C. Burges, and is distributed under the
Creative Commons Attribution-Share Alike 3.0 license (CC BY-SA 3.0).
See http://yann.lecun.com/exdb/mnist/.

Where the files are looked for, in order (the first *configured* place is the only one searched):

1. ``data_dir`` passed by the caller (``--data-dir`` on the command line);
2. the environment variable ``TENSORGAN_DATA``;
3. the cache, ``$TENSORGAN_CACHE/mnist`` (default ``~/.cache/tensorgan/mnist``), where
   :func:`download_mnist` puts them.

In each place the files may sit directly or in a ``mnist/`` sub-folder, raw
(``train-images-idx3-ubyte``) or gzipped (``train-images-idx3-ubyte.gz``). The 10,000-image test set
also ships inside the package, so ``load_mnist("test")`` works offline with nothing configured.
Nothing is ever downloaded implicitly.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from http.client import HTTPException
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import ConfigError, DataError, DTypeError
from ..fileio import atomic_write, download_bounded
from .dataset import ArrayDataset
from .idx import read_idx

__all__ = ["MnistDataset", "load_mnist", "load_bundled_mnist", "mnist_dataset", "download_mnist",
           "locate_mnist", "default_cache_dir", "is_mnist_images", "MNIST_FILES", "MNIST_GZ_SHA256",
           "MNIST_RAW_SHA256", "MNIST_MIRRORS"]

# (images, labels) file stems per split.
MNIST_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# SHA-256 of the four .gz files of the developers' copy (../shared/datasets/mnist/SHA256SUMS).
MNIST_GZ_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971",
    "train-labels-idx1-ubyte.gz": "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203",
    "t10k-images-idx3-ubyte.gz": "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be",
    "t10k-labels-idx1-ubyte.gz": "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b",
}
# SHA-256 of the decompressed IDX files. Different mirrors gzip the same data differently (the
# developers' .gz files are not byte-identical to the mirrors'), so the content is what we check
# whenever a file is not byte-identical to a known .gz.
MNIST_RAW_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# A download bigger than this is not an MNIST file (the largest is about 9.9 MB gzipped).
_MAX_DOWNLOAD_BYTES = 16 << 20
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_SUMS_FILE = "SHA256SUMS"


class MnistDataset(ArrayDataset):
    """MNIST images (uint8, N×1×28×28) and labels (int64: 0–9 for MNIST; any byte value for
    other data in its format, such as EMNIST's 26 or 47 classes, loaded with ``verify=False``).

    ``split`` is "train" or "test"; ``source`` is the folder the files came from, or "bundled".
    ``verified_mnist``: the loading's SHA-256 check found the images to be MNIST's own (False
    when unchecked or checked against other digests: ``is_mnist_images`` then tells).
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, split: str, source: str,
                 verified_mnist: bool = False) -> None:
        suffix = "-bundled" if source == "bundled" else ""
        super().__init__(images, labels, name=f"mnist-{split}{suffix}")
        self.split = split
        self.source = source
        self.verified_mnist = verified_mnist


def default_cache_dir() -> Path:
    """``$TENSORGAN_CACHE/mnist``, else ``$XDG_CACHE_HOME/tensorgan/mnist`` or ``~/.cache/...``."""
    root = os.environ.get("TENSORGAN_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = str(Path(xdg) / "tensorgan")
    return Path(root).expanduser() / "mnist"


# ----------------------------------------------------------------------------------- locating

def locate_mnist(split: str, data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder holding both files of ``split``, or None when no configured place is set and
    the cache lacks them. A folder that was asked for explicitly (``data_dir`` or
    ``TENSORGAN_DATA``) but lacks the files is a DataError, not a silent fallback."""
    _check_split(split)
    configured = _configured_dir(data_dir)
    if configured is not None:
        path, origin = configured
        if not path.is_dir():
            what = "is a file, not a folder" if path.exists() else "does not exist"
            raise DataError(f"{path} (from {origin}) {what}; {_where_to_put(split)}")
        found = _find_in(path, split)
        if found is None:
            raise DataError(f"{path} (from {origin}): no MNIST {split} files there or in "
                            f"{path / 'mnist'}{_odd_candidates(path, split)}; "
                            f"{_other_idx_files(path)}{_where_to_put(split)}")
        return found
    return _find_in(default_cache_dir(), split)


def _configured_dir(data_dir: str | os.PathLike[str] | None) -> tuple[Path, str] | None:
    if data_dir is not None:
        return Path(data_dir).expanduser(), "data_dir"
    env = os.environ.get("TENSORGAN_DATA")
    if env:
        return Path(env).expanduser(), "TENSORGAN_DATA"
    return None


def _find_in(base: Path, split: str) -> Path | None:
    for folder in (base, base / "mnist"):
        if all(_find_file(folder, stem) is not None for stem in MNIST_FILES[split]):
            return folder
    return None


def _odd_candidates(base: Path, split: str) -> str:
    """' (X is not a regular file)' for an expected name that exists but cannot be read as one
    (a folder, a dangling link), so the message says what is actually wrong."""
    odd = [candidate for folder in (base, base / "mnist") for stem in MNIST_FILES[split]
           for name in (stem, stem.replace("-idx", ".idx"))
           for candidate in (folder / f"{name}.gz", folder / name)
           if (candidate.exists() or candidate.is_symlink()) and not candidate.is_file()]
    return f" ({odd[0]} is not a regular file)" if odd else ""


def _other_idx_files(base: Path) -> str:
    """'found X, Y (...)' for IDX files under other names (EMNIST's 'emnist-letters-train-...',
    a split of its own), so the user learns that renaming them is all that is missing."""
    try:
        found = sorted(p.name for folder in (base, base / "mnist") if folder.is_dir()
                       for p in folder.iterdir() if _is_foreign_idx_name(p.name))
    except OSError:
        return ""
    if not found:
        return ""
    shown = ", ".join(found[:4]) + (f" and {len(found) - 4} more" if len(found) > 4 else "")
    return f"found IDX files under other names ({shown}): rename or link them to MNIST's names; "


def _is_foreign_idx_name(name: str) -> bool:
    stem = name.removesuffix(".gz").replace(".idx", "-idx")
    mnist_stems = {s for stems in MNIST_FILES.values() for s in stems}
    return ("idx1-ubyte" in stem or "idx3-ubyte" in stem) and stem not in mnist_stems


def _find_file(folder: Path, stem: str) -> Path | None:
    # Some redistributions spell the names "train-images.idx3-ubyte"; accept those too.
    for name in (stem, stem.replace("-idx", ".idx")):
        for candidate in (folder / f"{name}.gz", folder / name):
            if candidate.is_file():
                return candidate
    return None


def _where_to_put(split: str) -> str:
    names = " and ".join(f"{stem}[.gz]" for stem in MNIST_FILES[split])
    return (f"put {names} in a folder and pass it as data_dir (--data-dir) or set TENSORGAN_DATA "
            f"to it, or put them in {default_cache_dir()} (tensorgan.data.download_mnist() "
            f"downloads them there)")


def _check_split(split: str) -> None:
    if split not in MNIST_FILES:
        raise ConfigError(f"MNIST split must be 'train' or 'test', got {split!r}")


# ----------------------------------------------------------------------------------- loading

def load_mnist(split: str = "train", data_dir: str | os.PathLike[str] | None = None, *,
               verify: bool = True) -> MnistDataset:
    """Load an MNIST split as a Dataset of uint8 images (N, 1, 28, 28) and int64 labels (N,).

    The test split falls back to the copy bundled with tensorgan when no folder is configured and
    the cache lacks it; the training split does not (it raises DataError saying where to put it).
    ``verify`` checks SHA-256 digests (from a SHA256SUMS file beside the data, else the known ones).
    """
    folder = locate_mnist(split, data_dir)
    if folder is None:
        if split == "test":
            return load_bundled_mnist(verify=verify)
        raise DataError(f"MNIST {split} set not found (no data_dir, TENSORGAN_DATA unset, and "
                        f"not in {default_cache_dir()}); {_where_to_put(split)}")
    images_path, labels_path = (_find_file(folder, stem) for stem in MNIST_FILES[split])
    assert images_path is not None and labels_path is not None  # locate_mnist checked both
    sums = _read_sums(folder / _SUMS_FILE) if verify else {}
    images, known = _read_checked(images_path, sums, verify)
    labels, _ = _read_checked(labels_path, sums, verify)
    return _assemble(images, labels, images_path, labels_path, split, str(folder), known)


def load_bundled_mnist(*, verify: bool = True) -> MnistDataset:
    """The 10,000-image MNIST test set shipped inside the package (works offline)."""
    stems = MNIST_FILES["test"]
    package = resources.files(__package__)
    paths = []
    for stem in stems:
        resource = package / f"{stem}.gz"
        if not resource.is_file():
            raise DataError(f"{resource}: the bundled MNIST test set is missing from this "
                            f"installation of tensorgan; reinstall it")
        paths.append(resource)
    # as_file gives a real path even when the package is installed zipped.
    with resources.as_file(paths[0]) as images_path, resources.as_file(paths[1]) as labels_path:
        try:
            images, known = _read_checked(images_path, {}, verify)
            labels, _ = _read_checked(labels_path, {}, verify)
        except DataError as exc:
            raise DataError(f"the bundled MNIST test set of this installation of tensorgan is "
                            f"corrupt ({exc}); reinstall tensorgan") from None
        return _assemble(images, labels, images_path, labels_path, "test", "bundled", known)


def mnist_dataset(data_dir: str | os.PathLike[str] | None = None, *,
                  notice: Callable[[str], None] | None = None, verify: bool = True) -> MnistDataset:
    """The dataset the trainer uses: the full 60,000-image training set when it can be found,
    else the bundled 10,000-image test set, announced with one line through ``notice``
    (default: printed to stderr). Which one was used: ``.split`` ("train"/"test"), ``.source``.

    A data_dir or TENSORGAN_DATA that lacks the files is an error, never a silent fallback.
    ``verify=False`` accepts other data in MNIST's files (Fashion-MNIST), as ``load_mnist``.
    """
    folder = locate_mnist("train", data_dir)
    if folder is not None:
        return load_mnist("train", folder, verify=verify)
    dataset = load_bundled_mnist()
    message = (f"tensorgan: full MNIST training set not found in {default_cache_dir()}; using the "
               f"bundled 10,000-image test set (set TENSORGAN_DATA or --data-dir for all 60,000)")
    (notice or _print_stderr)(message)
    return dataset


def _print_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def check_mnist_images(images: np.ndarray, path: "Path | str", what: str = "MNIST") -> None:
    """MNIST-format images are uint8 (N, 28, 28): anything else is the wrong file (DataError for
    the shape, DTypeError for the element type; torchvision refuses non-uint8 images too)."""
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{path}: {what} images must be (N, 28, 28), this file holds shape "
                        f"{images.shape}")
    if images.dtype != np.uint8:
        raise DTypeError(f"{path}: {what} images must be uint8, this file holds {images.dtype}")


def _assemble(images: np.ndarray, labels: np.ndarray, images_path: Path, labels_path: Path,
              split: str, source: str, verified_mnist: bool) -> MnistDataset:
    if images.ndim != 3:
        raise DataError(f"{images_path}: MNIST images must have 3 dimensions (count, rows, "
                        f"columns), this file has shape {images.shape}")
    check_mnist_images(images, images_path)
    if labels.ndim != 1:
        raise DataError(f"{labels_path}: MNIST labels must have 1 dimension (count), this file "
                        f"has shape {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{images_path} holds {images.shape[0]} images but {labels_path} holds "
                        f"{labels.shape[0]} labels; they must match")
    return MnistDataset(images[:, None, :, :], labels.astype(np.int64), split, source, verified_mnist)


# ----------------------------------------------------------------------------------- checksums

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    return digest.hexdigest()


def _read_checked(path: Path, sums: dict[str, str], verify: bool) -> tuple[np.ndarray, bool]:
    """read_idx, plus (when ``verify``) a checksum check: against the SHA256SUMS file beside the
    data when it lists this file (the folder's own manifest: Fashion-MNIST's with its digests
    verifies without --no-verify), else against the original MNIST's known digests. Also
    whether the check proved the file MNIST's own (so that no one hashes it again)."""
    listed = verify and path.name in sums
    if listed:
        _check_digest(path, _sha256(path), sums[path.name], f"{_SUMS_FILE} beside it")
    array = read_idx(path)
    if array.ndim and array.shape[0] == 0:      # before the digest check, whose mismatch says less
        raise DataError(f"{path}: the MNIST dataset is empty (this file holds 0 items, shape "
                        f"{array.shape})")
    if listed:
        return array, _is_known_digest(path.name, sums[path.name])
    return array, verify and _check_known_content(path, array)


def _is_known_digest(name: str, digest: str) -> bool:
    """Whether ``digest`` is the original MNIST's for the file ``name`` (.gz or raw)."""
    stem = name.removesuffix(".gz").replace(".idx", "-idx")
    return digest.lower() in (MNIST_GZ_SHA256.get(f"{stem}.gz"), MNIST_RAW_SHA256.get(stem))


def _check_known_content(path: Path, array: np.ndarray, name: str | None = None) -> bool:
    """For files named like MNIST's: byte-identical to a known .gz (cheap), else the decompressed
    content must match the known digest (True: checked, it is MNIST's). Files with other names
    are not checked (False). ``name`` is the file's real name when ``path`` is a temporary file."""
    name = name or path.name
    stem = name.removesuffix(".gz").replace(".idx", "-idx")
    expected = MNIST_RAW_SHA256.get(stem)
    if expected is None:
        return False
    known_gz = MNIST_GZ_SHA256.get(f"{stem}.gz")
    if name.endswith(".gz") and known_gz is not None and _sha256(path) == known_gz:
        return True
    _check_digest(path, _content_sha256(array), expected, "the original MNIST data")
    return True


def is_mnist_images(images: np.ndarray) -> bool:
    """True when ``images`` ((N, 28, 28) or (N, 1, 28, 28) uint8) are exactly MNIST's training or
    test images, whatever checks they were loaded with (a SHA-256 of 47 MB: about 0.1 s)."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.dtype != np.uint8 or images.shape[1:] != (28, 28) or len(images) not in (10000, 60000):
        return False
    stem = MNIST_FILES["train" if len(images) == 60000 else "test"][0]
    return _content_sha256(images) == MNIST_RAW_SHA256[stem]


def _content_sha256(array: np.ndarray) -> str:
    """SHA-256 of the raw IDX file this array was read from (header rebuilt, then the data)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big")
                                                      for d in array.shape)
    digest = hashlib.sha256(header)
    digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()


_SKIP_CHECK = "load_mnist / mnist_dataset(verify=False), or the command line's --no-verify"


def _check_digest(path: Path, actual: str, expected: str, against: str) -> None:
    if actual == expected.lower():
        return
    if against.startswith(_SUMS_FILE):
        advice = (f"the file is corrupt or {_SUMS_FILE} lists another version of it: fetch it "
                  f"again or correct {_SUMS_FILE} (or skip the check: {_SKIP_CHECK})")
    else:
        advice = (f"the file is corrupt or not the original MNIST: if it is MNIST, delete it and "
                  f"fetch it again; other data in MNIST's format (Fashion-MNIST, KMNIST, EMNIST) "
                  f"is checked against a {_SUMS_FILE} file of its own beside it, or not at all "
                  f"with {_SKIP_CHECK}")
    raise DataError(f"{path}: SHA-256 mismatch with {against}: expected {expected}, got "
                    f"{actual}; {advice}")


def _read_sums(path: Path) -> dict[str, str]:
    """Parse a ``sha256sum`` output file ("<hex>  <name>" or "<hex> *<name>"); {} if absent."""
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read checksum file ({exc})") from exc
    sums = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or len(parts[0]) != 64 or not _is_hex(parts[0]):
            raise DataError(f"{path}: line {number} is not '<sha256>  <file name>': {line!r}")
        sums[parts[1].lstrip("*").strip()] = parts[0].lower()
    return sums


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


# ----------------------------------------------------------------------------------- download

def download_mnist(dest: str | os.PathLike[str] | None = None, *,
                   splits: Iterable[str] = ("train", "test"),
                   mirrors: Sequence[str] = MNIST_MIRRORS, timeout: float = 30.0) -> Path:
    """Download the MNIST .gz files into ``dest`` (default: the cache) and return that folder.

    Each file is tried from each mirror in turn, checked against its known SHA-256 and only then
    moved into place (temporary file + rename), so an interrupted download never leaves a partial
    file under the real name. Files already present and valid are kept.
    """
    folder = Path(dest).expanduser() if dest is not None else default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{folder}: cannot create the download folder ({exc})") from exc
    for split in splits:
        _check_split(split)
        for stem in MNIST_FILES[split]:
            _download_file(folder, f"{stem}.gz", mirrors, timeout)
    return folder


def _download_file(folder: Path, name: str, mirrors: Sequence[str], timeout: float) -> None:
    target = folder / name
    if target.is_file() and _is_valid(target):
        return
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        try:
            _fetch_verified(url, target, timeout)
            return
        except (OSError, HTTPException, ValueError) as exc:  # URLError is an OSError
            failures.append(f"{url}: {exc}")
    raise DataError(f"could not download {name} ({'; '.join(failures) or 'no mirrors given'}). "
                    f"Download it yourself and put it in {folder}, or put all four MNIST files "
                    f"(raw or .gz) in a folder and pass it as data_dir (--data-dir) or set "
                    f"TENSORGAN_DATA to it")


def _is_valid(path: Path) -> bool:
    try:
        _check_known_content(path, read_idx(path))
        return True
    except DataError:
        return False


def _fetch_verified(url: str, target: Path, timeout: float) -> None:
    """Download url to a temporary file beside target, check it, then rename it into place."""
    atomic_write(target, lambda out: download_bounded(url, out, _MAX_DOWNLOAD_BYTES, "MNIST", timeout),
                 check=lambda temp: _check_known_content(temp, read_idx(temp), name=target.name))
