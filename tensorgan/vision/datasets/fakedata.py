"""torchvision.datasets.FakeData: random images, each drawn from a generator seeded with its index."""
from __future__ import annotations

from typing import Any, Callable

from ... import factory
from ...random import Generator
from ..transforms import functional as F
from .vision import VisionDataset, _item_index

__all__ = ["FakeData"]


class FakeData(VisionDataset):
    """``size`` PIL images from ``randn(*image_size)`` (via ToPILImage, as torchvision's) with
    labels in ``[0, num_classes)``; item ``i`` is the same every time (a generator seeded with
    ``i + random_offset``; the default generator is not touched)."""

    def __init__(self, size: int = 1000, image_size: tuple[int, int, int] = (3, 224, 224),
                 num_classes: int = 10, transform: Callable | None = None,
                 target_transform: Callable | None = None, random_offset: int = 0) -> None:
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size, self.num_classes = size, num_classes
        self.image_size, self.random_offset = image_size, random_offset

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        index = _item_index(self, index, len(self))
        generator = Generator().manual_seed(index + self.random_offset)
        img = factory.randn(*self.image_size, generator=generator)
        target = int(factory.randint(0, self.num_classes, size=(1,), generator=generator).item())
        img = F.to_pil_image(img)
        return self._apply_transforms(img, target)

    def __len__(self) -> int:
        return self.size
