"""torchvision.datasets.VisionDataset and StandardTransform: the common base and its repr."""
from __future__ import annotations

import os
from typing import Any, Callable

from ...data.dataset import Dataset

__all__ = ["VisionDataset", "StandardTransform"]


class StandardTransform:
    """Applies ``transform`` to the input and ``target_transform`` to the target."""

    def __init__(self, transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        self.transform, self.target_transform = transform, target_transform

    def __call__(self, input: Any, target: Any) -> tuple[Any, Any]:
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    @staticmethod
    def _format(transform: Any, head: str) -> list[str]:
        lines = repr(transform).splitlines()
        return [f"{head}{lines[0]}"] + [" " * len(head) + line for line in lines[1:]]

    def __repr__(self) -> str:
        body = [self.__class__.__name__]
        if self.transform is not None:
            body += self._format(self.transform, "Transform: ")
        if self.target_transform is not None:
            body += self._format(self.target_transform, "Target transform: ")
        return "\n".join(body)


def _item_index(dataset: Any, index: Any, n: int, what: str = "images") -> int:
    """``index`` as an int in [0, n) (negative counts from the end), or a typed error naming it:
    InputTypeError for a non-integer (a str, 1.5), IndexOutOfRangeError outside the dataset."""
    import operator

    from ...errors import IndexOutOfRangeError, InputTypeError
    name = dataset.__class__.__name__
    try:
        i = operator.index(index)
    except TypeError:
        if hasattr(index, "item") and getattr(index, "ndim", 1) == 0:  # a 0-d integer tensor / array
            return _item_index(dataset, index.item(), n, what)
        raise InputTypeError(f"{name}: index must be an integer, got {type(index).__name__} "
                             f"{index!r}") from None
    if not -n <= i < n:
        raise IndexOutOfRangeError(f"{name}: index {index} is out of range for {n} {what}")
    return i % n


class VisionDataset(Dataset):
    """Base of the vision datasets: ``root``, ``transform``, ``target_transform`` and
    ``transforms`` (a StandardTransform of the two, or None), and torchvision's repr."""

    _repr_indent = 4

    def __init__(self, root: str | os.PathLike[str] | None = None, transforms: Callable | None = None,
                 transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        if isinstance(root, str):
            root = os.path.expanduser(root)
        self.root = root
        if transforms is not None and (transform is not None or target_transform is not None):
            from ...errors import ConfigError
            raise ConfigError("Only transforms or transform/target_transform can be passed as argument")
        self.transform, self.target_transform = transform, target_transform
        if transform is not None or target_transform is not None:
            transforms = StandardTransform(transform, target_transform)
        self.transforms = transforms

    def _apply_transforms(self, sample: Any, target: Any) -> tuple[Any, Any]:
        """(sample, target) through ``transform`` / ``target_transform`` as set now (a caller may
        replace them after construction, as torchvision's datasets allow)."""
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        body = [f"Number of datapoints: {self.__len__()}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if getattr(self, "transforms", None) is not None:
            body += repr(self.transforms).splitlines()
        return "\n".join([f"Dataset {self.__class__.__name__}"]
                         + [" " * self._repr_indent + line for line in body])
