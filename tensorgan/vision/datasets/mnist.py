"""torchvision.datasets.MNIST / FashionMNIST over tensorgan.data's IDX reading and checksums."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image

from ...data import mnist as _mnist
from ...data.idx import read_idx
from ...errors import DataError
from ...tensor import Tensor
from .vision import VisionDataset, _item_index

__all__ = ["MNIST", "FashionMNIST"]


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
        split = "train" if train else "test"
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

    def _read(self, folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
        paths = [_mnist._find_file(folder, stem) for stem in _mnist.MNIST_FILES[split]]
        images, labels = (read_idx(p) for p in paths)
        _mnist.check_mnist_images(images, paths[0], self.__class__.__name__)
        if labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{folder}: expected images (N, 28, 28) and N labels, got shapes "
                            f"{images.shape} and {labels.shape}")
        bad = labels >= len(self.classes)
        if bad.any():
            raise DataError(f"{paths[1]}: label {int(labels[bad.argmax()])} (item "
                            f"{int(bad.argmax())}) is out of range for {len(self.classes)} classes")
        return images, labels

    def _fallback(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        names = " and ".join(f"{stem}[.gz]" for stem in _mnist.MNIST_FILES[split])
        raise DataError(f"{self.__class__.__name__}: the {split} set was not found (looked in "
                        f"{self._looked()}); tensorgan does not download {self._home[0]}: get "
                        f"{names} from {self._home[1]} and put them in {self.raw_folder}")

    def _looked(self) -> str:
        return ", ".join(str(p) for p in self._places())

    def _download(self) -> None:
        pass            # nothing to download with; _fallback says where to put the files


class KMNIST(FashionMNIST):
    """Kuzushiji-MNIST (ROIS-DS CODH; CC BY-SA 4.0), torchvision's ``KMNIST``: ten cursive hiragana
    in MNIST's format, read from ``<root>/KMNIST/raw`` (or ``<root>/KMNIST``); not downloaded."""

    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    _home = ("KMNIST", "https://github.com/rois-codh/kmnist")
