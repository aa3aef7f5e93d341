"""torchvision.datasets.MNIST / FashionMNIST / KMNIST / EMNIST / QMNIST over tensorgan.data's IDX
reading and checksums."""
from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image

from ...data import mnist as _mnist
from ...data.idx import read_idx
from ...errors import ConfigError, ConfigTypeError, DataError
from ...tensor import Tensor
from .vision import VisionDataset, _item_index

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "QMNIST"]


class MNIST(VisionDataset):
    """MNIST as torchvision's: ``MNIST(root, train=True, transform=None, target_transform=None,
    download=False)``; items are ``(PIL 'L' image, int label)`` before the transforms; ``.data``
    is a uint8 (N, 28, 28) Tensor, ``.targets`` an int64 (N,) Tensor.

    The files (raw or .gz, checked against MNIST's SHA-256 digests) are looked for in
    ``<root>/MNIST/raw`` (torchvision's layout, where ``download=True`` puts them), ``<root>/MNIST``,
    ``root`` and ``root/mnist``, then where :func:`tensorgan.data.locate_mnist` looks
    (``TENSORGAN_DATA``, the cache). The test set falls back to the copy bundled with tensorgan
    (the same, checksummed data). Nothing is downloaded unless ``download=True``
    (:func:`tensorgan.data.download_mnist`).
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]
    _verify = True

    def __init__(self, root: str | os.PathLike[str], train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        split = self._split()
        folder = self._find(split)
        if folder is None and download:
            self._download()
            folder = self._find(split)
        if folder is None:
            images, labels = self._fallback(split)
        else:
            images, labels = self._read(folder, split)
        self.data = Tensor._from(np.ascontiguousarray(images), device="cpu")
        self.targets = Tensor._from(labels.astype(np.int64), device="cpu")

    # -- where the files are
    def _split(self) -> str:
        return "train" if self.train else "test"

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def _places(self) -> list[Path]:
        root = Path(self.root)
        return [Path(self.raw_folder), root / self.__class__.__name__, root]

    def _find(self, split: str) -> Path | None:
        for place in self._places():
            found = _mnist._find_in(place, split)
            if found is not None:
                return found
        return self._find_elsewhere(split)

    def _find_elsewhere(self, split: str) -> Path | None:
        return _mnist.locate_mnist(split)       # TENSORGAN_DATA (an error if it lacks them) / cache

    def _looked(self) -> str:
        places = [str(p) for p in self._places()] + [str(self._places()[-1] / "mnist")]
        return ", ".join(places)

    def _fallback(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        if split == "test":
            bundled = _mnist.load_bundled_mnist()
            return bundled.images[:, 0], bundled.labels
        names = " and ".join(f"{stem}[.gz]" for stem in _mnist.MNIST_FILES[split])
        raise DataError(f"{self.__class__.__name__}: the {split} set was not found (looked in "
                        f"{self._looked()}, and {_mnist.default_cache_dir()}); pass download=True "
                        f"to download it into {self.raw_folder}, or put {names} there")

    def _read(self, folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
        data = _mnist.load_mnist(split, folder, verify=True)
        return data.images[:, 0], data.labels

    def _download(self) -> None:
        _mnist.download_mnist(self.raw_folder)

    # -- items
    def __getitem__(self, index: int) -> tuple[Any, Any]:
        data, targets = self.data, self.targets
        images = data.array if isinstance(data, Tensor) else np.asarray(data)
        labels = targets.array if isinstance(targets, Tensor) else np.asarray(targets)
        index = _item_index(self, index, len(images))
        pixels = images[index]
        img = Image.fromarray(np.ascontiguousarray(pixels.get() if hasattr(pixels, "get") else pixels))
        target = int(labels[index])
        return self._apply_transforms(img, target)

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando; MIT licence) in MNIST's format, read from ``<root>/FashionMNIST/raw``
    (or ``<root>/FashionMNIST``, ``root``). tensorgan does not download it (``download=True``
    says where to put the four files)."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    _home = ("Fashion-MNIST", "https://github.com/zalandoresearch/fashion-mnist")

    def _places(self) -> list[Path]:
        return [Path(self.raw_folder), Path(self.root) / self.__class__.__name__]

    def _find_elsewhere(self, split: str) -> Path | None:
        return None

    def _stems(self, split: str) -> tuple[str, str]:
        """The (images, labels) file names of ``split``, without .gz."""
        return _mnist.MNIST_FILES[split]

    def _find(self, split: str) -> Path | None:
        for place in self._places():
            if all(self._find_one(place, stem) is not None for stem in self._stems(split)):
                return place
        return None

    _label_ndim = 1

    def _read(self, folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
        paths = [self._find_one(folder, stem) for stem in self._stems(split)]
        images, labels = self._read_pair(*paths)
        _mnist.check_mnist_images(images, paths[0], self.__class__.__name__)
        if labels.ndim != self._label_ndim or len(images) != len(labels):
            wanted = "N labels" if self._label_ndim == 1 else "labels (N, k)"
            raise DataError(f"{folder}: expected images (N, 28, 28) and {wanted}, got shapes "
                            f"{images.shape} and {labels.shape}")
        self._check_labels(labels.reshape(len(labels), -1)[:, 0], paths[1])
        return images, labels

    def _find_one(self, folder: Path, stem: str) -> Path | None:
        return _mnist._find_file(folder, stem)

    def _read_pair(self, images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
        return read_idx(images_path), read_idx(labels_path)

    def _check_labels(self, labels: np.ndarray, path: Path) -> None:
        bad = (labels < 0) | (labels >= len(self.classes))
        if bad.any():
            raise DataError(f"{path}: label {int(labels[bad.argmax()])} (item "
                            f"{int(bad.argmax())}) is out of range for {len(self.classes)} classes")

    def _fallback(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        names = " and ".join(f"{stem}[{self._suffixes}]" for stem in self._stems(split))
        raise DataError(f"{self.__class__.__name__}: the {split} set was not found (looked in "
                        f"{self._looked()}); tensorgan does not download {self._home[0]}: get "
                        f"{names} from {self._home[1]} and put them in {self.raw_folder}")

    _suffixes = ".gz"

    def _looked(self) -> str:
        return ", ".join(str(p) for p in self._places())

    def _download(self) -> None:
        pass            # nothing to download with; _fallback says where to put the files


class KMNIST(FashionMNIST):
    """Kuzushiji-MNIST (ROIS-DS CODH; CC BY-SA 4.0), torchvision's ``KMNIST``: ten cursive hiragana
    in MNIST's format, read from ``<root>/KMNIST/raw`` (or ``<root>/KMNIST``); not downloaded."""

    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    _home = ("KMNIST", "https://github.com/rois-codh/kmnist")


def _verify_str_arg(value: Any, arg: str, valid: tuple[str, ...]) -> str:
    """torchvision's verify_str_arg: ``value`` one of ``valid`` (its messages)."""
    if not isinstance(value, str):
        raise ConfigTypeError(f"Expected type str for argument {arg}, but got type {type(value)}.")
    if value not in valid:
        listed = ", ".join(f"'{v}'" for v in valid)
        raise ConfigError(f"Unknown value '{value}' for argument {arg}. Valid values are {{{listed}}}.")
    return value


class EMNIST(FashionMNIST):
    """EMNIST (NIST; letters and digits of NIST SD 19 in MNIST's format), torchvision's ``EMNIST(root,
    split, train=True, transform=None, target_transform=None, download=False)`` with ``split`` one
    of byclass (62 classes), bymerge / balanced (47), letters (labels 1..26; ``classes[0]`` is
    ``"N/A"``), digits, mnist. Reads ``emnist-<split>-<train|test>-{images-idx3,labels-idx1}-ubyte``
    (or ``.gz``) from ``<root>/EMNIST/raw`` (or its ``gzip`` folder, the archive's layout, or
    ``<root>/EMNIST``); not downloaded. As in torchvision the images are as stored: transposed
    (``img.transpose(Image.TRANSPOSE)`` shows them upright)."""

    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    _merged_classes = {"c", "i", "j", "k", "l", "m", "o", "p", "s", "u", "v", "w", "x", "y", "z"}
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        "byclass": sorted(_all_classes),
        "bymerge": sorted(_all_classes - _merged_classes),
        "balanced": sorted(_all_classes - _merged_classes),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }
    _home = ("EMNIST", "https://www.itl.nist.gov/iaui/vip/cs_links/EMNIST/gzip.zip (unzip it; "
                       "https://www.nist.gov/itl/products-and-services/emnist-dataset)")

    def __init__(self, root: str | os.PathLike[str], split: str, **kwargs: Any) -> None:
        self.split = _verify_str_arg(split, "split", self.splits)
        self.classes = self.classes_split_dict[self.split]
        super().__init__(root, **kwargs)

    def _stems(self, split: str) -> tuple[str, str]:
        prefix = f"emnist-{self.split}-{split}"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _places(self) -> list[Path]:
        raw = Path(self.raw_folder)
        return [raw, raw / "gzip", Path(self.root) / self.__class__.__name__]


class QMNIST(FashionMNIST):
    """QMNIST (Yadav & Bottou; MNIST's digits traced back to NIST), torchvision's ``QMNIST(root,
    what=None, compat=True, train=True, transform=None, target_transform=None, download=False)``:
    ``what`` is train, test (60k), test10k (the 10k matching MNIST's test set), test50k (the other
    50k) or nist (all NIST digits); None picks train / test by ``train``. ``.targets`` is int64
    (N, 8) (QMNIST's extended labels); an item's target is the digit with ``compat=True``, its row
    of 8 as a Tensor otherwise. Reads ``qmnist-<train|test>-images-idx3-ubyte`` /
    ``-labels-idx2-int`` (``xnist-...`` for nist; raw, ``.gz`` or ``.xz``) from
    ``<root>/QMNIST/raw`` (or ``<root>/QMNIST``); not downloaded."""

    classes = MNIST.classes
    subsets = {"train": "train", "test": "test", "test10k": "test", "test50k": "test", "nist": "nist"}
    _home = ("QMNIST", "https://github.com/facebookresearch/qmnist")
    _label_ndim = 2
    _suffixes = ".gz|.xz"

    def __init__(self, root: str | os.PathLike[str], what: str | None = None, compat: bool = True,
                 train: bool = True, **kwargs: Any) -> None:
        if what is None:
            what = "train" if train else "test"
        self.what = _verify_str_arg(what, "what", tuple(self.subsets))
        self.compat = compat
        super().__init__(root, train, **kwargs)

    def _split(self) -> str:
        return self.what

    def _stems(self, split: str) -> tuple[str, str]:
        prefix = "xnist" if self.subsets[split] == "nist" else f"qmnist-{self.subsets[split]}"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx2-int"

    def _find_one(self, folder: Path, stem: str) -> Path | None:
        xz = folder / f"{stem}.xz"
        return xz if xz.is_file() else _mnist._find_file(folder, stem)

    def _read(self, folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
        images, labels = super()._read(folder, split)
        part = {"test10k": slice(0, 10000), "test50k": slice(10000, None)}.get(self.what, slice(None))
        return images[part], labels[part]

    def _read_pair(self, images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
        return read_idx(images_path), read_idx(labels_path, types=(0x0C,)).astype(np.int64)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        images, targets = (t.array if isinstance(t, Tensor) else np.asarray(t)
                           for t in (self.data, self.targets))
        index = _item_index(self, index, len(images))
        pixels = images[index]
        img = Image.fromarray(np.ascontiguousarray(pixels.get() if hasattr(pixels, "get") else pixels))
        row = targets[index]
        target = int(row[0]) if self.compat else Tensor._from(np.array(row, dtype=np.int64), device="cpu")
        return self._apply_transforms(img, target)

    def extra_repr(self) -> str:
        return f"Split: {self.what}"
