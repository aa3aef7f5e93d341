"""The preprocessing that torchvision's weight enums give from ``.transforms()``:
``ImageClassification`` -- resize the smaller edge, centre-crop, to float in [0, 1], normalise."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...nn.module import Module
from ...tensor import Tensor
from . import functional as F
from .functional import InterpolationMode

__all__ = ["ImageClassification"]


class ImageClassification(Module):
    """torchvision.transforms._presets.ImageClassification: a PIL image or a (..., C, H, W)
    tensor -> ``resize(resize_size)`` (smaller edge), ``center_crop(crop_size)``, float32 in
    [0, 1] (``pil_to_tensor`` + ``convert_image_dtype``), ``normalize(mean, std)``."""

    def __init__(self, *, crop_size: int, resize_size: int = 256,
                 mean: Sequence[float] = (0.485, 0.456, 0.406),
                 std: Sequence[float] = (0.229, 0.224, 0.225),
                 interpolation: Any = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> None:
        super().__init__()
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = F._interpolation(interpolation)
        self.antialias = antialias

    def forward(self, img: Any) -> Tensor:
        img = F.resize(img, self.resize_size, interpolation=self.interpolation, antialias=self.antialias)
        img = F.center_crop(img, self.crop_size)
        if not isinstance(img, Tensor):
            img = F.pil_to_tensor(img)
        img = F.convert_image_dtype(img, "float32")
        return F.normalize(img, mean=self.mean, std=self.std)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(\n    crop_size={self.crop_size}\n    resize_size="
                f"{self.resize_size}\n    mean={self.mean}\n    std={self.std}\n    interpolation="
                f"{self.interpolation}\n)")

    def describe(self) -> str:
        return ("Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image "
                "``torch.Tensor`` objects. The images are resized to ``resize_size="
                f"{self.resize_size}`` using ``interpolation={self.interpolation}``, followed by a "
                f"central crop of ``crop_size={self.crop_size}``. Finally the values are first "
                f"rescaled to ``[0.0, 1.0]`` and then normalized using ``mean={self.mean}`` and "
                f"``std={self.std}``.")
