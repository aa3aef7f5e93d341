"""torchvision.transforms' classes (same arguments, behaviour and reprs). The random ones draw
from tensorgan's default generator (``tg.randint`` / ``tg.rand``), so ``tg.manual_seed`` makes a
pipeline repeat, as ``torch.manual_seed`` does for torchvision's."""
from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any, Callable

from ... import factory
from ...errors import (ConfigError, ConfigTypeError, DeviceError, DTypeError, InputTypeError,
                       ShapeError)
from ...nn.module import Module
from ...tensor import Tensor, _caller_level
from . import functional as F
from .functional import InterpolationMode

__all__ = ["Compose", "ToTensor", "PILToTensor", "ConvertImageDtype", "ToPILImage", "Normalize",
           "Resize", "CenterCrop", "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
           "Grayscale", "Pad", "Lambda", "RandomResizedCrop", "RandomApply", "InterpolationMode",
           "ColorJitter", "RandomRotation", "RandomAffine", "GaussianBlur", "RandomGrayscale",
           "RandomTransforms", "RandomChoice", "RandomOrder", "Scale", "RandomErasing", "FiveCrop",
           "TenCrop", "LinearTransformation"]


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


def _probability(p: Any, owner: str) -> Any:
    """``p`` in [0, 1], as torchvision.transforms.v2 checks (v1 takes anything and fails, or
    silently always / never applies, at the first image): ConfigTypeError for a non-number,
    ConfigError outside [0, 1] or NaN."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise ConfigTypeError(f"{owner}: p must be a probability (a number in [0, 1]), got "
                              f"{type(p).__name__} {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ConfigError(f"{owner}: p should be a floating point value in the interval "
                          f"[0.0, 1.0], got {p}")
    return p


class RandomHorizontalFlip(Module):
    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = _probability(p, self.__class__.__name__)

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
            for v in pair:
                F._finite(v, name, "RandomResizedCrop")
        if min(scale) < 0 or min(ratio) <= 0:      # log(ratio) of 0 / negative: a math domain error
            raise ConfigError(f"RandomResizedCrop: scale must be >= 0 and ratio > 0, got "
                              f"scale={tuple(scale)}, ratio={tuple(ratio)}")
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
        self.transforms, self.p = transforms, _probability(p, "RandomApply")

    def forward(self, img: Any) -> Any:
        if self.p < _rand():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return (self.__class__.__name__ + "(" + f"\n    p={self.p}"
                + "".join(f"\n    {t}" for t in self.transforms) + "\n)")


def _uniform(low: float, high: float) -> float:
    """torch.empty(1).uniform_(low, high).item() from the default generator."""
    return float(factory.empty(1).uniform_(float(low), float(high)).item())


def _check_sequence_input(x: Any, name: str, req_sizes: tuple[int, ...]) -> None:
    msg = req_sizes[0] if len(req_sizes) < 2 else " or ".join(str(s) for s in req_sizes)
    if not isinstance(x, Sequence) or isinstance(x, str):
        raise ConfigTypeError(f"{name} should be a sequence of length {msg}.")
    if len(x) not in req_sizes:
        raise ConfigError(f"{name} should be a sequence of length {msg}.")


def _setup_angle(x: Any, name: str, req_sizes: tuple[int, ...] = (2,),
                 owner: str = "transforms") -> list[float]:
    if isinstance(x, numbers.Number) and not isinstance(x, bool):
        if x < 0:
            raise ConfigError(f"If {name} is a single number, it must be positive.")
        x = [-x, x]
    else:
        _check_sequence_input(x, name, req_sizes)
    return [F._finite(d, name, owner) for d in x]     # NaN / inf: every draw NaN


def _check_fill(fill: Any) -> Any:
    if fill is None:
        return 0
    if not isinstance(fill, (Sequence, numbers.Number)) or isinstance(fill, str):
        raise ConfigTypeError("Fill should be either a sequence or a number.")
    return fill


def _tensor_fill(fill: Any, img: Any) -> Any:
    """A tensor image's fill as a list of floats, one per channel (torchvision's forward)."""
    if not isinstance(img, Tensor):
        return fill
    channels = F.get_image_num_channels(img)
    if isinstance(fill, (int, float)):
        return [float(fill)] * channels
    return [float(f) for f in fill]


class ColorJitter(Module):
    """Randomly change the brightness, contrast, saturation and hue, in a random order.

    Each of ``brightness`` / ``contrast`` / ``saturation`` is a number v (factor uniform in
    [max(0, 1 - v), 1 + v]) or a (min, max) pair; ``hue`` is v in [0, 0.5] (a shift uniform in
    [-v, v]) or a pair within [-0.5, 0.5]."""

    def __init__(self, brightness: Any = 0, contrast: Any = 0, saturation: Any = 0,
                 hue: Any = 0) -> None:
        super().__init__()
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(hue, "hue", center=0, bound=(-0.5, 0.5),
                                     clip_first_on_zero=False)

    @staticmethod
    def _check_input(value: Any, name: str, center: float = 1,
                     bound: tuple[float, float] = (0, float("inf")),
                     clip_first_on_zero: bool = True) -> tuple[float, float] | None:
        if isinstance(value, numbers.Number) and not isinstance(value, bool):
            if value < 0:
                raise ConfigError(f"If {name} is a single number, it must be non negative.")
            value = [center - float(value), center + float(value)]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise ConfigTypeError(f"{name} should be a single number or a list/tuple with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ConfigError(f"{name} values should be between {bound}, but got {value}.")
        if value[0] == value[1] == center:
            return None
        return tuple(value)

    @staticmethod
    def get_params(brightness: Any, contrast: Any, saturation: Any, hue: Any) -> tuple[Any, ...]:
        """(a random order of the 4 adjustments, then each factor or None)."""
        fn_idx = factory.randperm(4)
        b = None if brightness is None else _uniform(brightness[0], brightness[1])
        c = None if contrast is None else _uniform(contrast[0], contrast[1])
        s = None if saturation is None else _uniform(saturation[0], saturation[1])
        h = None if hue is None else _uniform(hue[0], hue[1])
        return fn_idx, b, c, s, h

    def forward(self, img: Any) -> Any:
        fn_idx, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation,
                                             self.hue)
        for fn_id in fn_idx.tolist():
            if fn_id == 0 and b is not None:
                img = F.adjust_brightness(img, b)
            elif fn_id == 1 and c is not None:
                img = F.adjust_contrast(img, c)
            elif fn_id == 2 and s is not None:
                img = F.adjust_saturation(img, s)
            elif fn_id == 3 and h is not None:
                img = F.adjust_hue(img, h)
        return img

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(brightness={self.brightness}, contrast={self.contrast}"
                f", saturation={self.saturation}, hue={self.hue})")


class RandomRotation(Module):
    """Rotate by an angle uniform in ``degrees`` (a number d: [-d, d])."""

    def __init__(self, degrees: Any, interpolation: Any = InterpolationMode.NEAREST,
                 expand: bool = False, center: Sequence[int] | None = None, fill: Any = 0) -> None:
        super().__init__()
        self.interpolation = F._interpolation(interpolation)
        self.degrees = _setup_angle(degrees, name="degrees", req_sizes=(2,), owner=type(self).__name__)
        if center is not None:
            _check_sequence_input(center, "center", req_sizes=(2,))
        self.center, self.expand = center, expand
        self.fill = _check_fill(fill)

    @staticmethod
    def get_params(degrees: Sequence[float]) -> float:
        return _uniform(degrees[0], degrees[1])

    def forward(self, img: Any) -> Any:
        fill = _tensor_fill(self.fill, img)
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, fill)

    def __repr__(self) -> str:
        s = (f"{self.__class__.__name__}(degrees={self.degrees}, interpolation="
             f"{self.interpolation.value}, expand={self.expand}")
        if self.center is not None:
            s += f", center={self.center}"
        if self.fill is not None:
            s += f", fill={self.fill}"
        return s + ")"


class RandomAffine(Module):
    """A random affine map keeping the centre: rotation uniform in ``degrees``, translation up to
    ``translate`` = (a, b) fractions of the width / height, ``scale`` uniform in (lo, hi), shear
    uniform in ``shear`` (degrees: a number s: x shear in [-s, s]; (lo, hi): x shear; four: x
    then y shear)."""

    def __init__(self, degrees: Any, translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: Any = None,
                 interpolation: Any = InterpolationMode.NEAREST, fill: Any = 0,
                 center: Sequence[int] | None = None) -> None:
        super().__init__()
        self.interpolation = F._interpolation(interpolation)
        self.degrees = _setup_angle(degrees, name="degrees", req_sizes=(2,), owner=type(self).__name__)
        if translate is not None:
            _check_sequence_input(translate, "translate", req_sizes=(2,))
            for t in translate:
                if not 0.0 <= t <= 1.0:
                    raise ConfigError("translation values should be between 0 and 1")
        self.translate = translate
        if scale is not None:
            _check_sequence_input(scale, "scale", req_sizes=(2,))
            for s in scale:
                if s <= 0:
                    raise ConfigError("scale values should be positive")
        self.scale = scale
        self.shear = _setup_angle(shear, name="shear", req_sizes=(2, 4), owner=type(self).__name__) if shear is not None else None
        self.fill = _check_fill(fill)
        if center is not None:
            _check_sequence_input(center, "center", req_sizes=(2,))
        self.center = center

    @staticmethod
    def get_params(degrees: Sequence[float], translate: Sequence[float] | None,
                   scale_ranges: Sequence[float] | None, shears: Sequence[float] | None,
                   img_size: Sequence[int]) -> tuple[float, tuple[int, int], float, tuple[float, float]]:
        """(angle, (tx, ty), scale, (shear_x, shear_y)) for an image of ``img_size`` = [w, h]."""
        angle = _uniform(degrees[0], degrees[1])
        if translate is not None:
            max_dx = float(translate[0] * img_size[0])
            max_dy = float(translate[1] * img_size[1])
            translations = (int(round(_uniform(-max_dx, max_dx))),
                            int(round(_uniform(-max_dy, max_dy))))
        else:
            translations = (0, 0)
        scale = _uniform(scale_ranges[0], scale_ranges[1]) if scale_ranges is not None else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = _uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = _uniform(shears[2], shears[3])
        return angle, translations, scale, (shear_x, shear_y)

    def forward(self, img: Any) -> Any:
        fill = _tensor_fill(self.fill, img)
        _, height, width = F.get_dimensions(img)
        params = self.get_params(self.degrees, self.translate, self.scale, self.shear,
                                 [width, height])
        return F.affine(img, *params, interpolation=self.interpolation, fill=fill,
                        center=self.center)

    def __repr__(self) -> str:
        s = f"{self.__class__.__name__}(degrees={self.degrees}"
        s += f", translate={self.translate}" if self.translate is not None else ""
        s += f", scale={self.scale}" if self.scale is not None else ""
        s += f", shear={self.shear}" if self.shear is not None else ""
        s += (f", interpolation={self.interpolation.value}"
              if self.interpolation != InterpolationMode.NEAREST else "")
        s += f", fill={self.fill}" if self.fill != 0 else ""
        s += f", center={self.center}" if self.center is not None else ""
        return s + ")"


class GaussianBlur(Module):
    """Blur with a ``kernel_size`` Gaussian of std uniform in ``sigma`` = (min, max) (or fixed)."""

    def __init__(self, kernel_size: Any, sigma: Any = (0.1, 2.0)) -> None:
        super().__init__()
        self.kernel_size = _setup_size(kernel_size, "GaussianBlur")
        for ks in self.kernel_size:
            if ks <= 0 or ks % 2 == 0:
                raise ConfigError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number) and not isinstance(sigma, bool):
            if sigma <= 0:
                raise ConfigError("If sigma is a single number, it must be positive.")
            sigma = (sigma, sigma)
        elif isinstance(sigma, Sequence) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ConfigError("sigma values should be positive and of the form (min, max).")
        else:
            raise ConfigError("sigma should be a single number or a list/tuple with length 2.")
        self.sigma = sigma

    @staticmethod
    def get_params(sigma_min: float, sigma_max: float) -> float:
        return _uniform(sigma_min, sigma_max)

    def forward(self, img: Any) -> Any:
        sigma = self.get_params(self.sigma[0], self.sigma[1])
        return F.gaussian_blur(img, list(self.kernel_size), [sigma, sigma])

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"


class RandomGrayscale(Module):
    """Grayscale (with the image's own number of channels) with probability ``p``."""

    def __init__(self, p: float = 0.1) -> None:
        super().__init__()
        self.p = _probability(p, "RandomGrayscale")

    def forward(self, img: Any) -> Any:
        channels, _, _ = F.get_dimensions(img)
        if _rand() < self.p:
            return F.rgb_to_grayscale(img, num_output_channels=channels)
        return img

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p})"


class RandomTransforms:
    """Base of RandomChoice / RandomOrder: a sequence of transforms."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        if not isinstance(transforms, Sequence):
            raise ConfigTypeError("Argument transforms should be a sequence")
        self.transforms = transforms

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError()

    def __repr__(self) -> str:
        return self.__class__.__name__ + "(" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


class RandomChoice(RandomTransforms):
    """Apply one of ``transforms``, picked with the relative weights ``p`` (uniformly by
    default). torchvision draws with Python's ``random``; this draws from tensorgan's default
    generator, so ``tg.manual_seed`` repeats it."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]],
                 p: Sequence[float] | None = None) -> None:
        super().__init__(transforms)
        if p is not None and not isinstance(p, Sequence):
            raise ConfigTypeError("Argument p should be a sequence")
        if p is not None and len(p) != len(transforms):
            raise ConfigError(f"The number of weights ({len(p)}) does not match the number of "
                              f"transforms ({len(transforms)})")
        if p is not None and any(F._finite(w, "p", "RandomChoice") < 0 for w in p):
            raise ConfigError(f"RandomChoice: the weights p must be >= 0, got {list(p)}")
        self.p = p

    def __call__(self, *args: Any) -> Any:
        weights = [1.0] * len(self.transforms) if self.p is None else [float(w) for w in self.p]
        total = math.fsum(weights)
        if not self.transforms or total <= 0:
            raise ConfigError("RandomChoice: needs at least one transform with a positive weight")
        u, acc = _rand() * total, 0.0
        for t, w in zip(self.transforms, weights):
            acc += w
            if u < acc:
                return t(*args)
        return [t for t, w in zip(self.transforms, weights) if w > 0][-1](*args)

    def __repr__(self) -> str:
        return f"{super().__repr__()}(p={self.p})"


class RandomOrder(RandomTransforms):
    """Apply ``transforms`` in a random order (a permutation from tensorgan's default
    generator; torchvision shuffles with Python's ``random``)."""

    def __call__(self, img: Any) -> Any:
        for i in factory.randperm(len(self.transforms)).tolist() if self.transforms else []:
            img = self.transforms[i](img)
        return img


class Scale(Resize):
    """torchvision's deprecated alias of :class:`Resize` (warns, as torchvision's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn("The use of the transforms.Scale transform is deprecated, "
                      "please use transforms.Resize instead.", stacklevel=2)
        super().__init__(*args, **kwargs)


class FiveCrop(Module):
    """The four corners and the centre crop of ``size`` (a tuple of five images)."""

    def __init__(self, size: Any) -> None:
        super().__init__()
        self.size = _setup_size(size, "FiveCrop")

    def forward(self, img: Any) -> tuple:
        return F.five_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size})"


class TenCrop(Module):
    """:class:`FiveCrop` of the image and of its flip (horizontal, or vertical with
    ``vertical_flip=True``): a tuple of ten images."""

    def __init__(self, size: Any, vertical_flip: bool = False) -> None:
        super().__init__()
        self.size = _setup_size(size, "TenCrop")
        self.vertical_flip = vertical_flip

    def forward(self, img: Any) -> tuple:
        return F.ten_crop(img, self.size, self.vertical_flip)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size}, vertical_flip={self.vertical_flip})"


class LinearTransformation(Module):
    """``(x.flatten() - mean_vector) @ transformation_matrix`` per image (ZCA whitening), with
    torchvision's checks: a square D x D matrix, a length-D mean on the same device with the same
    dtype, and images of C * H * W == D elements."""

    def __init__(self, transformation_matrix: Tensor, mean_vector: Tensor) -> None:
        super().__init__()
        for name, t in (("transformation_matrix", transformation_matrix), ("mean_vector", mean_vector)):
            if not isinstance(t, Tensor):
                raise InputTypeError(f"LinearTransformation: {name} must be a Tensor, got "
                                     f"{type(t).__name__}")
        shape = tuple(transformation_matrix.shape)
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ShapeError(f"LinearTransformation: transformation_matrix should be square. Got "
                             f"{shape} rectangular matrix.")
        if mean_vector.ndim != 1 or mean_vector.shape[0] != shape[0]:
            raise ShapeError(f"LinearTransformation: mean_vector should have the same length "
                             f"{tuple(mean_vector.shape)} as any one of the dimensions of the "
                             f"transformation_matrix [{shape}]")
        if transformation_matrix.device != mean_vector.device:
            raise DeviceError(f"LinearTransformation: input tensors should be on the same device. Got "
                              f"{transformation_matrix.device} and {mean_vector.device}")
        if transformation_matrix.dtype != mean_vector.dtype:
            raise DTypeError(f"LinearTransformation: input tensors should have the same dtype. Got "
                             f"{transformation_matrix.dtype} and {mean_vector.dtype}")
        self.transformation_matrix = transformation_matrix
        self.mean_vector = mean_vector

    def forward(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor):
            raise InputTypeError(f"LinearTransformation: the image must be a Tensor (C, H, W), got "
                                 f"{type(tensor).__name__}")
        shape = tuple(tensor.shape)
        if len(shape) < 3:
            raise ShapeError(f"LinearTransformation: the image must have shape (..., C, H, W), got "
                             f"{shape}")
        n = shape[-3] * shape[-2] * shape[-1]
        if n != self.transformation_matrix.shape[0]:
            raise ShapeError(f"LinearTransformation: input tensor and transformation matrix have "
                             f"incompatible shape. [{shape[-3]} x {shape[-2]} x {shape[-1]}] != "
                             f"{self.transformation_matrix.shape[0]}")
        if tensor.device.type != self.mean_vector.device.type:
            raise DeviceError(f"LinearTransformation: input tensor should be on the same device as "
                              f"transformation matrix and mean vector. Got {tensor.device} vs "
                              f"{self.mean_vector.device}")
        flat = tensor.reshape(-1, n) - self.mean_vector
        return flat.mm(self.transformation_matrix.to(flat.dtype)).reshape(shape)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(transformation_matrix="
                f"{self.transformation_matrix.tolist()}, mean_vector={self.mean_vector.tolist()})")


class RandomErasing(Module):
    """Random Erasing (Zhong et al.): with probability ``p``, a box of ``scale`` of the area and
    aspect ``ratio`` of a tensor image is set to ``value`` (a number, one per channel, or
    ``'random'``: standard normal noise), as torchvision's; draws from tensorgan's generator."""

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33),
                 ratio: Sequence[float] = (0.3, 3.3), value: Any = 0, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(value, bool) or not isinstance(value, (numbers.Number, str, tuple, list)):
            raise ConfigTypeError(f"RandomErasing: value should be either a number or str or a "
                                  f"sequence, got {type(value).__name__} {value!r}")
        if isinstance(value, str) and value != "random":
            raise ConfigError(f"RandomErasing: if value is str, it should be 'random', got {value!r}")
        for name, pair in (("scale", scale), ("ratio", ratio)):
            if not isinstance(pair, Sequence) or isinstance(pair, str):
                raise ConfigTypeError(f"RandomErasing: {name} should be a sequence, got "
                                      f"{type(pair).__name__} {pair!r}")
            if len(pair) != 2:
                raise ConfigError(f"RandomErasing: {name} should be a (min, max) pair, got {pair!r}")
        if (scale[0] > scale[1]) or (ratio[0] > ratio[1]):
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=_caller_level())
        if scale[0] < 0 or scale[1] > 1:
            raise ConfigError(f"RandomErasing: scale should be between 0 and 1, got {scale!r}")
        if ratio[0] <= 0:       # log(ratio) of 0 / negative
            raise ConfigError(f"RandomErasing: ratio must be > 0, got {ratio!r}")
        self.p = _probability(p, "RandomErasing")
        self.scale, self.ratio, self.value, self.inplace = scale, ratio, value, inplace

    @staticmethod
    def get_params(img: Tensor, scale: Sequence[float], ratio: Sequence[float],
                   value: list | None = None) -> tuple[int, int, int, int, Tensor]:
        """``(i, j, h, w, v)`` for :func:`~tensorgan.vision.transforms.functional.erase`; ``value``
        None is random noise, else a list of 1 or C numbers. After 10 tries without a box that
        fits, ``(0, 0, H, W, img)`` (the image unchanged)."""
        img_c, img_h, img_w = img.shape[-3], img.shape[-2], img.shape[-1]
        area = img_h * img_w
        log_ratio = factory.tensor(ratio, dtype="float32").log()
        lo, hi = float(log_ratio[0].item()), float(log_ratio[1].item())
        for _ in range(10):
            erase_area = area * _uniform(scale[0], scale[1])
            aspect_ratio = math.exp(_uniform(lo, hi))
            h = int(round(math.sqrt(erase_area * aspect_ratio)))
            w = int(round(math.sqrt(erase_area / aspect_ratio)))
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                v = factory.empty([img_c, h, w], dtype="float32").normal_()
            else:
                v = factory.tensor(value, dtype="float32")[:, None, None]
            return _randint(img_h - h + 1), _randint(img_w - w + 1), h, w, v.to(img.device)
        return 0, 0, img_h, img_w, img

    def forward(self, img: Tensor) -> Tensor:
        if not isinstance(img, Tensor):
            raise InputTypeError(f"RandomErasing: img should be a Tensor image (C, H, W), got "
                                 f"{type(img).__name__} (apply ToTensor first)")
        if img.ndim < 3:
            raise ShapeError(f"RandomErasing: the image must have shape (..., C, H, W), got "
                             f"{tuple(img.shape)}")
        if _rand() < self.p:
            if isinstance(self.value, numbers.Number):
                value = [float(self.value)]
            elif isinstance(self.value, str):
                value = None
            else:
                value = [float(v) for v in self.value]
            if value is not None and len(value) not in (1, img.shape[-3]):
                raise ShapeError(f"RandomErasing: if value is a sequence, it should have either a "
                                 f"single value or {img.shape[-3]} (number of input channels), got "
                                 f"{len(value)}")
            x, y, h, w, v = self.get_params(img, scale=self.scale, ratio=self.ratio, value=value)
            return F.erase(img, x, y, h, w, v, self.inplace)
        return img

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
                f"value={self.value}, inplace={self.inplace})")
