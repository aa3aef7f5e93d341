"""torchvision.transforms' classes (same arguments, behaviour and reprs). The random ones draw
from tensorgan's default generator (``tg.randint`` / ``tg.rand``), so ``tg.manual_seed`` makes a
pipeline repeat, as ``torch.manual_seed`` does for torchvision's."""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Callable

from ... import factory
from ...errors import ConfigError, ShapeError
from ...nn.module import Module
from . import functional as F
from .functional import InterpolationMode

__all__ = ["Compose", "ToTensor", "PILToTensor", "ConvertImageDtype", "ToPILImage", "Normalize",
           "Resize", "CenterCrop", "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
           "Grayscale", "Pad", "Lambda", "RandomResizedCrop", "RandomApply", "InterpolationMode"]


def _setup_size(size: Any, name: str) -> Any:
    """torchvision's _setup_size: an int -> (n, n), [n] -> (n, n), a pair kept as given."""
    if isinstance(size, numbers.Number) and not isinstance(size, bool):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ConfigError(f"{name}: please provide only two dimensions (h, w) for size, got {size!r}")
    return size


class Compose:
    """Apply ``transforms`` in turn."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = transforms

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return self.__class__.__name__ + "(" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


class ToTensor:
    """PIL image / (H, W, C) ndarray -> (C, H, W) tensor; uint8 scaled to float [0, 1]."""

    def __call__(self, pic: Any) -> Any:
        return F.to_tensor(pic)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class PILToTensor:
    """PIL image -> (C, H, W) tensor of its pixel type, unscaled."""

    def __call__(self, pic: Any) -> Any:
        return F.pil_to_tensor(pic)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class ConvertImageDtype(Module):
    """Convert a tensor image to ``dtype``, scaling values (see F.convert_image_dtype)."""

    def __init__(self, dtype: Any) -> None:
        super().__init__()
        self.dtype = dtype

    def forward(self, image: Any) -> Any:
        return F.convert_image_dtype(image, self.dtype)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class ToPILImage:
    """(C, H, W) tensor / (H, W, C) ndarray -> PIL image."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        return F.to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        return self.__class__.__name__ + "(" + (f"mode={self.mode}" if self.mode is not None else "") + ")"


class Normalize(Module):
    """``(x - mean[c]) / std[c]`` per channel of a float tensor image."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        super().__init__()
        self.mean, self.std, self.inplace = mean, std, inplace

    def forward(self, tensor: Any) -> Any:
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(mean={self.mean}, std={self.std})"


class Resize(Module):
    """Resize to (h, w), or the smaller edge to an int (aspect ratio kept)."""

    def __init__(self, size: Any, interpolation: Any = InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True) -> None:
        super().__init__()
        if not isinstance(size, (int, Sequence)) or isinstance(size, bool) or (
                isinstance(size, Sequence) and len(size) not in (1, 2)):
            raise ConfigError(f"Resize: size should be an int or a sequence of 1 or 2 ints, got {size!r}")
        self.size, self.max_size, self.antialias = size, max_size, antialias
        self.interpolation = F._interpolation(interpolation)

    def forward(self, img: Any) -> Any:
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(size={self.size}, interpolation="
                f"{self.interpolation.value}, max_size={self.max_size}, antialias={self.antialias})")


class CenterCrop(Module):
    def __init__(self, size: Any) -> None:
        super().__init__()
        self.size = _setup_size(size, "CenterCrop")

    def forward(self, img: Any) -> Any:
        return F.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size})"


class Pad(Module):
    def __init__(self, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> None:
        super().__init__()
        F._ltrb(padding)
        if padding_mode not in F._PAD_MODES:
            raise ConfigError(f"Pad: padding_mode should be constant, edge, reflect or symmetric, "
                              f"got {padding_mode!r}")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def forward(self, img: Any) -> Any:
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class Lambda:
    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise ConfigError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


def _randint(high: int) -> int:
    """One draw in [0, high) from the default generator (torch.randint(0, high, (1,)).item())."""
    return int(factory.randint(0, high, size=(1,)).item())


def _rand() -> float:
    return float(factory.rand(1).item())


class RandomCrop(Module):
    def __init__(self, size: Any, padding: Any = None, pad_if_needed: bool = False, fill: Any = 0,
                 padding_mode: str = "constant") -> None:
        super().__init__()
        self.size = tuple(_setup_size(size, "RandomCrop"))
        if padding is not None:
            F._ltrb(padding)
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = (
            padding, pad_if_needed, fill, padding_mode)

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ShapeError(f"RandomCrop: required crop size {(th, tw)} is larger than input "
                             f"image size {(h, w)} (pad_if_needed=True pads it)")
        if w == tw and h == th:
            return 0, 0, h, w
        return _randint(h - th + 1), _randint(w - tw + 1), th, tw

    def forward(self, img: Any) -> Any:
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return F.crop(img, i, j, h, w)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip(Module):
    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def forward(self, img: Any) -> Any:
        return F.hflip(img) if _rand() < self.p else img

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    def forward(self, img: Any) -> Any:
        return F.vflip(img) if _rand() < self.p else img


class Grayscale(Module):
    def __init__(self, num_output_channels: int = 1) -> None:
        super().__init__()
        if num_output_channels not in (1, 3):
            raise ConfigError(f"Grayscale: num_output_channels should be either 1 or 3, got "
                              f"{num_output_channels!r}")
        self.num_output_channels = num_output_channels

    def forward(self, img: Any) -> Any:
        return F.rgb_to_grayscale(img, self.num_output_channels)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(num_output_channels={self.num_output_channels})"


class RandomResizedCrop(Module):
    """A random crop of ``scale`` of the area and ``ratio`` aspect, resized to ``size``."""

    def __init__(self, size: Any, scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: Any = InterpolationMode.BILINEAR, antialias: bool | None = True) -> None:
        super().__init__()
        self.size = _setup_size(size, "RandomResizedCrop")
        for name, pair in (("scale", scale), ("ratio", ratio)):
            if not isinstance(pair, Sequence) or len(pair) != 2:
                raise ConfigError(f"RandomResizedCrop: {name} should be a sequence of two numbers, "
                                  f"got {pair!r}")
        self.interpolation = F._interpolation(interpolation)
        self.antialias, self.scale, self.ratio = antialias, scale, ratio

    @staticmethod
    def get_params(img: Any, scale: Sequence[float], ratio: Sequence[float]) -> tuple[int, int, int, int]:
        _, height, width = F.get_dimensions(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * (scale[0] + (scale[1] - scale[0]) * _rand())
            aspect = math.exp(log_ratio[0] + (log_ratio[1] - log_ratio[0]) * _rand())
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return _randint(height - h + 1), _randint(width - w + 1), h, w
        in_ratio = float(width) / float(height)        # fallback: a centre crop
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img: Any) -> Any:
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, i, j, h, w, list(self.size), self.interpolation,
                              antialias=self.antialias)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(size={self.size}, scale="
                f"{tuple(round(s, 4) for s in self.scale)}, ratio="
                f"{tuple(round(r, 4) for r in self.ratio)}, interpolation="
                f"{self.interpolation.value}, antialias={self.antialias})")


class RandomApply(Module):
    """Apply all of ``transforms`` with probability ``p``."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]], p: float = 0.5) -> None:
        super().__init__()
        self.transforms, self.p = transforms, p

    def forward(self, img: Any) -> Any:
        if self.p < _rand():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return (self.__class__.__name__ + "(" + f"\n    p={self.p}"
                + "".join(f"\n    {t}" for t in self.transforms) + "\n)")
