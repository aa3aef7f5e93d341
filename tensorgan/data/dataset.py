"""torch's Dataset base class, and tensorgan's in-memory datasets (uint8 images, TensorDataset)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import numpy as np

from ..errors import DatasetSizeError, DataError, IndexOutOfRangeError, InputTypeError, NotOverriddenError

__all__ = ["Dataset", "ArrayDataset", "TensorDataset"]


T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """torch's ``torch.utils.data.Dataset``, a plain class: a map-style dataset subclasses it and
    defines ``__getitem__`` (and usually ``__len__``); ``a + b`` is a ConcatDataset of both.
    tensorgan's image datasets (ArrayDataset, ImageFolder, MnistDataset) are subclasses holding
    uint8 (N, C, H, W) ``images``, ``labels`` and a ``name``, which DataLoader batches scaled to
    [-1, 1]."""

    def __getitem__(self, index: Any) -> T_co:
        raise NotOverriddenError(f"Subclasses of Dataset should implement __getitem__ "
                                 f"({type(self).__name__} does not).")

    def __add__(self, other: Any) -> Any:
        """``a + b``: a ConcatDataset of both, as torch's ``Dataset.__add__``."""
        return _concat(self, other)


def check_arrays(images: np.ndarray, labels: object, name: str) -> None:
    """The Dataset contract on its arrays: uint8 images (N, C, H, W) and labels None or N
    integers -- checked by ArrayDataset once, and by DataLoader for any other Dataset."""
    if images.dtype != np.uint8 or images.ndim != 4:
        raise DataError(f"{name}: images must be uint8 of shape (N, C, H, W), got "
                        f"{images.dtype} {images.shape}")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise DataError(f"{name}: {images.shape[0]} images but labels of shape {labels.shape}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise DataError(f"{name}: labels must be integers, got {labels.dtype}")


class ArrayDataset(Dataset):
    """A Dataset over arrays already in memory (validated once, here)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray | None = None,
                 name: str = "arrays") -> None:
        images = np.asarray(images)
        check_arrays(images, labels, name)
        if labels is not None:
            labels = np.asarray(labels).astype(np.int64, copy=False)
        self.images = images
        self.labels = labels
        self.name = name

    @property
    def image_shape(self) -> tuple[int, int, int]:
        c, h, w = self.images.shape[1:]
        return (int(c), int(h), int(w))

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: Any) -> Any:
        """Item ``index`` as torchvision's MNIST gives it, arrays for PIL images: ``(image,
        label)`` -- a uint8 (C, H, W) view and an int -- or the image alone when unlabelled, so
        ``random_split(mnist, ...)[0][i]`` and ``ConcatDataset`` work. A slice or index array
        gives the arrays' rows. (A DataLoader still batches the arrays themselves, in [-1, 1].)"""
        if isinstance(index, (bool, np.bool_)):     # NumPy would read it as a mask: a new axis
            raise InputTypeError(f"{self.name}: index must be an int, a slice or an index array, "
                                 f"got {type(index).__name__} {index!r}")
        if isinstance(index, (int, np.integer)):
            n = len(self)
            if not -n <= index < n:
                raise IndexOutOfRangeError(f"{self.name}: index {index} is out of range for its "
                                           f"{n} images")
            if self.labels is None:
                return self.images[index]
            return self.images[index], int(self.labels[index])
        return self.images[index] if self.labels is None else (self.images[index], self.labels[index])

    def __repr__(self) -> str:
        labelled = "labelled" if self.labels is not None else "unlabelled"
        return f"{type(self).__name__}(name={self.name!r}, n={len(self)}, " \
               f"image_shape={self.image_shape}, {labelled})"


class TensorDataset(Dataset):
    """``torch.utils.data.TensorDataset``: item i is ``(t[i] for t in tensors)``, for tensors (or
    arrays) that share their first dim; a DataLoader stacks the items into batches."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise InputTypeError("TensorDataset needs at least one tensor")
        shapes = [tuple(getattr(t, "shape", ())) for t in tensors]
        if any(getattr(t, "ndim", 1) == 0 for t in tensors):     # torch: an IndexError
            raise IndexOutOfRangeError(f"TensorDataset: a 0-d tensor has no first dim to index "
                                       f"items along (shapes {shapes})")
        if len({len(t) for t in tensors}) != 1:                  # torch: an AssertionError
            raise DatasetSizeError(f"TensorDataset: the tensors' first dims differ: {shapes}")
        self.tensors = tensors

    def __getitem__(self, index: int) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])


def _concat(first: Any, second: Any) -> Any:
    """torch's ``Dataset.__add__``: the two datasets one after the other."""
    from .combine import ConcatDataset
    return ConcatDataset([first, second])
