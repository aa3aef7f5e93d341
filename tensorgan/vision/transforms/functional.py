"""torchvision.transforms.functional over PIL images and tensorgan tensors (``import
tensorgan.vision.transforms.functional as TF``).

PIL images go through Pillow, as torchvision's. Tensors (``(..., C, H, W)``) are transformed by
tensorgan Tensor ops, so a float tensor's gradient flows through every transform as through
torchvision's (GAN code resizes / crops / flips / normalizes / pads / blurs / rotates generated
images before a perceptual network and backpropagates through them); integer tensors take the
same ops without gradients. Tensor resizing: ``antialias=True`` (torchvision's default) for bilinear
and bicubic uses torch's antialiased kernel (the separable triangle / Keys cubic filter widened by
the downscale factor, PIL's), :func:`tensorgan.nn.functional.interpolate`'s ``antialias=True``
(uint8 images in torch's fixed point, as torchvision's); ``antialias=False`` and the nearest modes
use interpolate too. Other integer tensors are resized in float32 and rounded.
"""
from __future__ import annotations

import math
import numbers
import sys
from enum import Enum
from typing import Any, Sequence

import numpy as np
from PIL import Image, ImageEnhance

from ...errors import ConfigError, ConfigTypeError, DTypeError, InputTypeError, ShapeError
from ...grad_mode import is_grad_enabled
from ...tensor import Tensor

__all__ = ["InterpolationMode", "to_tensor", "pil_to_tensor", "convert_image_dtype",
           "to_pil_image", "normalize", "resize", "center_crop", "crop", "pad", "hflip", "vflip",
           "rgb_to_grayscale", "to_grayscale", "resized_crop", "get_dimensions", "get_image_size",
           "get_image_num_channels", "adjust_brightness", "adjust_contrast", "adjust_saturation",
           "adjust_hue", "gaussian_blur", "rotate", "affine", "erase", "five_crop", "ten_crop"]


class InterpolationMode(Enum):
    """torchvision's interpolation modes (the values are its names)."""
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_FILTERS = {
    InterpolationMode.NEAREST: Image.Resampling.NEAREST,
    InterpolationMode.NEAREST_EXACT: Image.Resampling.NEAREST,
    InterpolationMode.BILINEAR: Image.Resampling.BILINEAR,
    InterpolationMode.BICUBIC: Image.Resampling.BICUBIC,
    InterpolationMode.BOX: Image.Resampling.BOX,
    InterpolationMode.HAMMING: Image.Resampling.HAMMING,
    InterpolationMode.LANCZOS: Image.Resampling.LANCZOS,
}
_FROM_PIL_INT = {int(v): k for k, v in reversed(list(_PIL_FILTERS.items()))}


def _interpolation(mode: Any) -> InterpolationMode:
    """An InterpolationMode from itself, its name ("bilinear") or a PIL filter constant."""
    if isinstance(mode, InterpolationMode):
        return mode
    if isinstance(mode, str):
        try:
            return InterpolationMode(mode.lower())
        except ValueError:
            pass
    elif isinstance(mode, numbers.Integral) and not isinstance(mode, bool) and int(mode) in _FROM_PIL_INT:
        return _FROM_PIL_INT[int(mode)]
    raise ConfigError(f"interpolation must be an InterpolationMode (or its name, or a PIL filter "
                      f"constant), got {mode!r}")


def _is_pil(img: Any) -> bool:
    return isinstance(img, Image.Image)


def _check_image(img: Any, op: str) -> None:
    if not (_is_pil(img) or isinstance(img, Tensor)):
        raise InputTypeError(f"{op}: img should be a PIL Image or a Tensor, got {type(img).__name__}")
    if isinstance(img, Tensor) and img.ndim < 2:
        raise ShapeError(f"{op}: a tensor image must have at least 2 dimensions (..., H, W), got "
                         f"shape {tuple(img.shape)}")


def _wrap(array: Any, like: Tensor) -> Tensor:
    return Tensor._make(array, like.device, False)


def _np(array: Any) -> np.ndarray:
    return array.get() if hasattr(array, "get") else np.asarray(array)


# ------------------------------------------------------------------------------ conversions

_MODE_DTYPES = {"I": np.int32, "I;16" if sys.byteorder == "little" else "I;16B": np.int16,
                "F": np.float32}


def get_image_num_channels(img: Any) -> int:
    _check_image(img, "get_image_num_channels")
    if _is_pil(img):
        return len(img.getbands())
    return 1 if img.ndim == 2 else int(img.shape[-3])


def get_dimensions(img: Any) -> list[int]:
    """[channels, height, width]."""
    _check_image(img, "get_dimensions")
    if _is_pil(img):
        return [len(img.getbands()), img.height, img.width]
    return [get_image_num_channels(img), int(img.shape[-2]), int(img.shape[-1])]


def get_image_size(img: Any) -> list[int]:
    """[width, height], as torchvision's."""
    _, h, w = get_dimensions(img)
    return [w, h]


def to_tensor(pic: Any) -> Tensor:
    """A PIL image or an (H, W[, C]) ndarray -> a (C, H, W) tensor; uint8 becomes the default
    float dtype divided by 255, other dtypes are kept (a float ndarray stays float64)."""
    from ... import get_default_dtype
    if _is_pil(pic):
        array = np.array(pic, _MODE_DTYPES.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            array = 255 * array
        array = array.reshape(pic.height, pic.width, len(pic.getbands()))
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ShapeError(f"to_tensor: pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise InputTypeError(f"to_tensor: pic should be PIL Image or ndarray. Got {type(pic)}")
    array = array.transpose(2, 0, 1)
    if array.dtype == np.uint8:          # one pass to contiguous floats, then / 255 in place
        np_dtype = np.dtype(get_default_dtype())
        array = array.astype(np_dtype, order="C")
        array /= np_dtype.type(255)
    else:
        array = np.ascontiguousarray(array)
    return Tensor._from(array, device="cpu")


def pil_to_tensor(pic: Any) -> Tensor:
    """A PIL image -> a (C, H, W) tensor of its own pixel type (uint8 for 'L' / 'RGB'), unscaled."""
    if not _is_pil(pic):
        raise InputTypeError(f"pil_to_tensor: pic should be PIL Image. Got {type(pic)}")
    array = np.array(pic, copy=True).reshape(pic.height, pic.width, len(pic.getbands()))
    return Tensor._from(np.ascontiguousarray(array.transpose(2, 0, 1)), device="cpu")


_INT_MAX = {np.dtype(np.uint8): 255, np.dtype(np.int8): 127, np.dtype(np.int16): 32767,
            np.dtype(np.int32): 2**31 - 1, np.dtype(np.int64): 2**63 - 1}


def _np_dtype(dtype: Any) -> np.dtype:
    try:
        return np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"not a dtype: {dtype!r}") from None


def convert_image_dtype(image: Tensor, dtype: Any = None) -> Tensor:
    """torchvision's convert_image_dtype: integers <-> floats in [0, 1] (scaled by the integer
    type's maximum), integers <-> integers by the ratio of their ranges."""
    if not isinstance(image, Tensor):
        raise InputTypeError(f"convert_image_dtype: expected a Tensor, got {type(image).__name__}")
    out = _np_dtype(np.float32 if dtype is None else dtype)
    a = image.array
    xp = image.device.xp
    if a.dtype == out:
        return image
    if a.dtype.kind == "f":
        if out.kind == "f":
            return image.to(out.type)                   # differentiable, as torch's .to
        if (a.dtype == np.float32 and out in (np.int32, np.int64)) or (
                a.dtype == np.float64 and out == np.int64):
            raise DTypeError(f"convert_image_dtype: the cast from {a.dtype} to {out} cannot be "
                             f"performed safely.")
        if out not in _INT_MAX:
            raise DTypeError(f"convert_image_dtype: cannot convert to {out}")
        eps = 1e-3
        return (image * (_INT_MAX[out] + 1.0 - eps)).to(out.type)
    if a.dtype not in _INT_MAX:
        raise DTypeError(f"convert_image_dtype: cannot convert an image of {a.dtype}")
    in_max = _INT_MAX[a.dtype]
    if out.kind == "f":
        return _wrap(a.astype(out) / out.type(in_max), image)
    if out not in _INT_MAX:
        raise DTypeError(f"convert_image_dtype: cannot convert to {out}")
    out_max = _INT_MAX[out]
    if in_max > out_max:
        factor = (in_max + 1) // (out_max + 1)
        return _wrap(xp.floor_divide(a, factor).astype(out), image)
    factor = (out_max + 1) // (in_max + 1)
    return _wrap(a.astype(out) * out.type(factor), image)


def to_pil_image(pic: Any, mode: str | None = None) -> Image.Image:
    """A (C, H, W) tensor or an (H, W[, C]) ndarray -> a PIL image. A float tensor is multiplied
    by 255 and cast to uint8 as torch's ``.mul(255).byte()`` (truncated; out-of-range values
    wrap around as torch's CPU cast does) unless ``mode='F'``."""
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ShapeError(f"to_pil_image: pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        a = _np(pic.detach().array)
        if a.ndim == 2:
            a = a[None]
        if a.shape[0] > 4:
            raise ShapeError(f"to_pil_image: pic should not have > 4 channels. Got {a.shape[0]} channels.")
        if a.dtype.kind == "f" and mode != "F":
            a = (a * a.dtype.type(255)).astype(np.int64).astype(np.uint8)
        npimg = a.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ShapeError(f"to_pil_image: pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        npimg = pic[:, :, None] if pic.ndim == 2 else pic
        if npimg.shape[-1] > 4:
            raise ShapeError(f"to_pil_image: pic should not have > 4 channels. Got "
                             f"{npimg.shape[-1]} channels.")
    else:
        raise InputTypeError(f"to_pil_image: pic should be Tensor or ndarray. Got {type(pic)}.")
    channels = npimg.shape[2]
    if channels == 1:
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(npimg.dtype)
        if mode is not None and mode != expected:
            raise ConfigError(f"to_pil_image: incorrect mode ({mode}) supplied for input type "
                              f"{npimg.dtype}. Should be {expected}")
        mode = expected
    else:
        permitted = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}[channels]
        if mode is not None and mode not in permitted:
            raise ConfigError(f"to_pil_image: only modes {permitted} are supported for "
                              f"{channels}D inputs, got {mode!r}")
        if mode is None and npimg.dtype == np.uint8:
            mode = permitted[0]
    if mode is None:
        raise DTypeError(f"to_pil_image: input type {npimg.dtype} is not supported")
    if mode == "I;16":
        npimg = npimg.astype("<u2")
    data = np.ascontiguousarray(npimg[:, :, 0] if channels == 1 else npimg)
    return Image.frombytes(mode, (data.shape[1], data.shape[0]), data.tobytes())


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float],
              inplace: bool = False) -> Tensor:
    """``(tensor - mean) / std`` per channel of a float ``(..., C, H, W)`` tensor."""
    if not isinstance(tensor, Tensor):
        raise InputTypeError(f"normalize: img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise DTypeError(f"normalize: input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ShapeError(f"normalize: expected tensor to be a tensor image of size (..., C, H, W). "
                         f"Got tensor.size() = {tuple(tensor.shape)}")
    key = _stats_key(mean, std, tensor)
    stats = _NORMALIZE_STATS.get(key) if key is not None else None
    if stats is None:
        stats = _normalize_stats(tensor, mean, std)
        if key is not None:
            if len(_NORMALIZE_STATS) >= 64:
                _NORMALIZE_STATS.clear()
            _NORMALIZE_STATS[key] = stats
    m, s = stats
    if inplace:
        return tensor.sub_(m).div_(s)
    if not (tensor.requires_grad and is_grad_enabled()):
        # no graph to build: (a - mean) / std through one temporary, the bits of sub then div
        out = tensor.array - m.array
        out /= s.array
        return Tensor._make(out, tensor.device)
    return tensor.sub(m).div(s)


# A dataset's Normalize sees the same statistics, dtype, device and image shape for every item:
# their checked, reshaped tensors are kept here (keyed by those), not rebuilt per item.
_NORMALIZE_STATS: dict[tuple, tuple[Tensor, Tensor]] = {}


def _stats_key(mean: Any, std: Any, tensor: Tensor) -> tuple | None:
    """A cache key for plain-number statistics (None for tensors, arrays: not cached)."""
    if not (isinstance(mean, (tuple, list)) and isinstance(std, (tuple, list))):
        return None
    if not all(type(v) in (float, int) for v in (*mean, *std)):
        return None
    # repr, not the numbers: 0.0 == -0.0, yet x - 0.0 and x - (-0.0) differ at x = -0.0
    return (repr(tuple(mean)), repr(tuple(std)), tensor.array.dtype, str(tensor.device), tensor.shape)


def _normalize_stats(tensor: Tensor, mean: Any, std: Any) -> tuple[Tensor, Tensor]:
    """mean and std as tensors of ``tensor``'s dtype and device, per channel, checked: finite,
    std nonzero, broadcasting to the image's own shape."""
    dt = tensor.array.dtype
    mean_a = np.asarray(_np(mean.array) if isinstance(mean, Tensor) else mean, dtype=dt)
    std_a = np.asarray(_np(std.array) if isinstance(std, Tensor) else std, dtype=dt)
    if not (np.isfinite(mean_a).all() and np.isfinite(std_a).all()):
        raise ConfigError(f"normalize: mean and std must be finite, got mean={mean!r}, std={std!r} "
                          f"(in {tensor.dtype})")
    if (std_a == 0).any():
        raise ConfigError(f"normalize: std evaluated to zero after conversion to {tensor.dtype}, "
                          f"leading to division by zero (std={std!r}).")
    if mean_a.ndim == 1:
        mean_a = mean_a.reshape(-1, 1, 1)
    if std_a.ndim == 1:
        std_a = std_a.reshape(-1, 1, 1)
    shape = tuple(tensor.shape)
    try:
        wide = np.broadcast_shapes(shape, mean_a.shape, std_a.shape)
    except ValueError:
        wide = None
    if wide != shape:
        # torchvision normalizes a clone in place (``sub_(mean).div_(std)``), so the statistics
        # must broadcast to the image's own shape: 3-channel stats on a 1-channel image fail.
        raise ShapeError(f"normalize: output with shape {list(shape)} doesn't match the broadcast "
                         f"shape {list(wide) if wide is not None else '(none)'} (mean of shape "
                         f"{list(mean_a.shape)}, std of shape {list(std_a.shape)}: one value per "
                         f"channel of the image's {shape[-3]})")
    xp = tensor.device.xp
    return (Tensor._make(xp.asarray(mean_a), tensor.device),
            Tensor._make(xp.asarray(std_a), tensor.device))




# ------------------------------------------------------------------------------ geometry

def _size_pair(size: Any, name: str) -> tuple[int, int]:
    if isinstance(size, numbers.Number) and not isinstance(size, bool):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, Sequence) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ConfigError(f"{name}: size must be an int or a sequence of 1 or 2 ints (h, w), got {size!r}")


def _int_sizes(size: Any, op: str) -> None:
    """torchvision's Resize takes an int or a sequence of ints: 2.5, "8" or [8.0] are refused,
    not truncated (a str is a sequence of one-char strings)."""
    items = size if isinstance(size, Sequence) and not isinstance(size, str) else [size]
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (numbers.Integral, np.integer)):
            raise ConfigTypeError(f"{op}: size must be an int or a sequence of 1 or 2 ints, got "
                                  f"{size!r}")


def _resized_size(h: int, w: int, size: Any, max_size: int | None) -> list[int]:
    _int_sizes(size, "resize")
    if isinstance(size, numbers.Number) or (isinstance(size, Sequence) and len(size) == 1):
        requested = int(size if isinstance(size, numbers.Number) else size[0])
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ConfigError(f"resize: max_size = {max_size} must be strictly greater than "
                                  f"the requested size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
        return [new_h, new_w]
    if isinstance(size, Sequence) and len(size) == 2:
        if max_size is not None:
            raise ConfigError("resize: max_size should only be passed if size specifies the length "
                              "of the smaller edge, i.e. size should be an int or a sequence of "
                              "length 1")
        return [int(size[0]), int(size[1])]
    raise ConfigError(f"resize: size must be an int or a sequence of 1 or 2 ints, got {size!r}")


def _resize_tensor(img: Tensor, out: list[int], mode: InterpolationMode, antialias: bool) -> Tensor:
    """Resize with :func:`tensorgan.nn.functional.interpolate` (differentiable for float
    images), as torchvision's: a uint8 image resized with antialias in torch's fixed point,
    other integer images in float32 and rounded."""
    from ...functional import interpolate
    lead = tuple(img.shape[:-2])
    h, w = img.shape[-2:]
    x = img.reshape((-1,) + tuple(img.shape[-3:])) if img.ndim >= 3 else img.reshape(1, 1, h, w)
    out_dtype = img.array.dtype
    aa = mode in (InterpolationMode.BILINEAR, InterpolationMode.BICUBIC) and antialias
    if aa and out_dtype == np.uint8:
        y = interpolate(x, size=tuple(out), mode=mode.value, align_corners=False, antialias=True)
        return y.reshape(lead + tuple(out))
    if out_dtype.kind != "f":
        x = x.to(np.float32)
    if aa:
        y = interpolate(x, size=tuple(out), mode=mode.value, align_corners=False, antialias=True)
    elif mode in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT,
                  InterpolationMode.BILINEAR, InterpolationMode.BICUBIC):
        kw = {} if mode.value.startswith("nearest") else {"align_corners": False}
        y = interpolate(x, size=tuple(out), mode=mode.value, **kw)
    else:
        raise ConfigError(f"resize: a tensor can be resized with nearest, nearest-exact, bilinear "
                          f"or bicubic interpolation, not {mode.value} (use a PIL image)")
    if mode == InterpolationMode.BICUBIC and out_dtype == np.uint8:
        y = y.clamp(0, 255)
    if out_dtype.kind != "f":
        y = (y.round() if not mode.value.startswith("nearest") else y).to(out_dtype.type)
    return y.reshape(lead + tuple(out))


def resize(img: Any, size: Any, interpolation: Any = InterpolationMode.BILINEAR,
           max_size: int | None = None, antialias: bool | None = True) -> Any:
    """Resize to ``size`` = (h, w), or an int / [int]: the smaller edge to it, aspect ratio kept
    (the longer edge truncated to an int, as torchvision)."""
    _check_image(img, "resize")
    mode = _interpolation(interpolation)
    _, h, w = get_dimensions(img)
    out = _resized_size(h, w, size, max_size) if h and w else None
    if out is None:
        raise ShapeError(f"resize: the image is empty ({h}x{w} pixels); there is nothing to resize")
    if out[0] < 1 or out[1] < 1:
        raise ConfigError(f"resize: the output size {tuple(out)} must be at least 1x1 (input "
                          f"{h}x{w}, size={size!r})")
    if [h, w] == out:
        return img
    if _is_pil(img):
        return img.resize((out[1], out[0]), _PIL_FILTERS[mode])
    return _resize_tensor(img, out, mode, bool(antialias))


def _pad_array(a: Any, xp: Any, left: int, top: int, right: int, bottom: int, fill: Any,
               padding_mode: str, channel_last: bool) -> Any:
    widths = [(0, 0)] * a.ndim
    hdim, wdim = (0, 1) if channel_last else (a.ndim - 2, a.ndim - 1)
    widths[hdim], widths[wdim] = (top, bottom), (left, right)
    if padding_mode != "constant":
        return xp.pad(a, widths, mode=padding_mode)
    out = xp.pad(a, widths, mode="constant")
    fills = np.atleast_1d(np.asarray(fill, dtype=np.float64))
    if fills.size == 1 and fills[0] == 0:
        return out
    mask = xp.ones(out.shape[hdim:wdim + 1] if not channel_last else out.shape[:2], dtype=bool)
    mask[top:top + a.shape[hdim], left:left + a.shape[wdim]] = False
    if channel_last and out.ndim == 3:
        out[mask] = xp.asarray(np.broadcast_to(fills, (out.shape[2],)).astype(out.dtype))
    elif channel_last or out.ndim == 2:
        out[mask] = out.dtype.type(fills[0])
    else:
        c = out.shape[-3]
        values = np.broadcast_to(fills, (c,)).astype(out.dtype) if fills.size in (1, c) else None
        if values is None:
            raise ConfigError(f"pad: fill has {fills.size} values for an image of {c} channels")
        for k in range(c):
            out[..., k, :, :][..., mask] = values[k]
    return out


_PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


def _ltrb(padding: Any) -> tuple[int, int, int, int]:
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        p = int(padding)
        return p, p, p, p
    if isinstance(padding, Sequence) and len(padding) in (1, 2, 4) and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in padding):
        if len(padding) == 1:
            return (int(padding[0]),) * 4
        if len(padding) == 2:
            return int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])
        return tuple(int(v) for v in padding)  # type: ignore[return-value]
    raise ConfigError(f"pad: padding must be an int or a sequence of 1, 2 or 4 ints, got {padding!r}")


def pad(img: Any, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> Any:
    """Pad each border: ``padding`` an int (all), (left/right, top/bottom) or (left, top, right,
    bottom); ``padding_mode`` constant (with ``fill``), edge, reflect or symmetric."""
    _check_image(img, "pad")
    if padding_mode not in _PAD_MODES:
        raise ConfigError(f"pad: padding_mode must be constant, edge, reflect or symmetric, "
                          f"got {padding_mode!r}")
    left, top, right, bottom = _ltrb(padding)
    if min(left, top, right, bottom) < 0:
        raise ConfigError(f"pad: negative padding {padding!r} is not supported (crop instead)")
    if _is_pil(img):
        a = np.asarray(img)
        out = _pad_array(a, np, left, top, right, bottom, fill, padding_mode, True)
        if img.mode == "1":
            return Image.fromarray(out.astype(np.uint8) * 255).convert("1")
        result = Image.fromarray(np.ascontiguousarray(out))
        if img.mode == "P":
            result.putpalette(img.getpalette())
        elif result.mode != img.mode:               # CMYK, YCbCr, HSV ...: same bytes, its mode
            result = Image.frombytes(img.mode, result.size, np.ascontiguousarray(out).tobytes())
        return result
    return _pad_tensor(img, left, top, right, bottom, fill, padding_mode)


def _pad_tensor(img: Tensor, left: int, top: int, right: int, bottom: int, fill: Any,
                padding_mode: str) -> Tensor:
    """Pad a (..., H, W) tensor with Tensor ops (gradients flow to the pixels each border copies):
    edge / reflect / symmetric gather rows and columns by the index np.pad gives arange(n); the
    constant border is the image scattered into zeros plus a constant fill outside it."""
    if not (left or top or right or bottom):
        return img
    h, w = img.shape[-2:]
    if padding_mode in ("reflect", "symmetric"):    # torchvision's tensor pad: torch's reflect
        limit = 1 if padding_mode == "reflect" else 0   # pad (each side < the size), its own
        for name, (a, b), n in (("width", (left, right), w), ("height", (top, bottom), h)):
            if max(a, b) > n - limit:                # symmetric one (each side <= the size)
                raise ShapeError(f"pad: {padding_mode} padding of ({a}, {b}) along the {name} "
                                 f"needs each side {'below' if limit else 'at most'} the image's "
                                 f"{name} {n}, as torchvision's tensor pad (image shape "
                                 f"{tuple(img.shape)}); pad a PIL image, or use 'edge'")
    if padding_mode != "constant":
        rows = np.pad(np.arange(h), (top, bottom), mode=padding_mode)
        cols = np.pad(np.arange(w), (left, right), mode=padding_mode)
        return img[(Ellipsis, *np.ix_(rows, cols))]
    from ...functional import pad as tensor_pad
    out = tensor_pad(img, [left, right, top, bottom])
    fills = np.atleast_1d(np.asarray(fill, dtype=np.float64))
    if fills.size == 1 and fills[0] == 0:
        return out
    border = _pad_array(np.zeros(img.shape[-3:] if img.ndim >= 3 else img.shape[-2:],
                                 dtype=img.array.dtype),
                        np, left, top, right, bottom, fill, "constant", False)
    return out + Tensor._make(img.device.xp.asarray(border), img.device)


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The box at (top, left) of height x width; parts outside the image are zeros."""
    _check_image(img, "crop")
    for name, value in (("top", top), ("left", left), ("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
            raise ConfigTypeError(f"crop: {name} must be an int, got {type(value).__name__} {value!r}")
    if height < 1 or width < 1:     # slicing would count a negative size from the far edge
        raise ConfigError(f"crop: height and width must be at least 1, got height={height}, "
                          f"width={width}")
    top, left, height, width = int(top), int(left), int(height), int(width)
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        inner = img[..., max(top, 0):max(bottom, 0), max(left, 0):max(right, 0)]
        ltrb = (max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                max(right - max(w, left), 0), max(bottom - max(h, top), 0))
        return _pad_tensor(inner, *ltrb, 0, "constant")
    return img[..., top:bottom, left:right]


def center_crop(img: Any, output_size: Any) -> Any:
    """The centred box of ``output_size`` (zero-padded first when the image is smaller)."""
    crop_h, crop_w = _size_pair(output_size, "center_crop")
    if crop_h < 1 or crop_w < 1:
        raise ConfigError(f"center_crop: the output size {(crop_h, crop_w)} must be at least 1x1, "
                          f"got output_size={output_size!r}")
    _, h, w = get_dimensions(img)
    if crop_w > w or crop_h > h:
        ltrb = ((crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0,
                (crop_w - w + 1) // 2 if crop_w > w else 0, (crop_h - h + 1) // 2 if crop_h > h else 0)
        img = pad(img, list(ltrb), fill=0)
        _, h, w = get_dimensions(img)
        if crop_w == w and crop_h == h:
            return img
    top = int(round((h - crop_h) / 2.0))
    left = int(round((w - crop_w) / 2.0))
    return crop(img, top, left, crop_h, crop_w)


def _crop_size(size: Any, op: str) -> tuple[int, int]:
    """torchvision's five_crop / ten_crop size: an int -> (n, n), [n] -> (n, n), or (h, w)."""
    if isinstance(size, numbers.Number) and not isinstance(size, bool):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return size[0], size[0]
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise ConfigError(f"{op}: please provide only two dimensions (h, w) for size, got {size!r}")
    return size[0], size[1]


def five_crop(img: Any, size: Any) -> tuple:
    """The four corner crops and the centre crop of ``size``: ``(tl, tr, bl, br, center)``."""
    crop_height, crop_width = _crop_size(size, "five_crop")
    _, image_height, image_width = get_dimensions(img)
    if crop_width > image_width or crop_height > image_height:
        raise ShapeError(f"five_crop: requested crop size {(crop_height, crop_width)} is bigger than "
                         f"input size {(image_height, image_width)}")
    tl = crop(img, 0, 0, crop_height, crop_width)
    tr = crop(img, 0, image_width - crop_width, crop_height, crop_width)
    bl = crop(img, image_height - crop_height, 0, crop_height, crop_width)
    br = crop(img, image_height - crop_height, image_width - crop_width, crop_height, crop_width)
    center = center_crop(img, [crop_height, crop_width])
    return tl, tr, bl, br, center


def ten_crop(img: Any, size: Any, vertical_flip: bool = False) -> tuple:
    """:func:`five_crop` of the image, then of its horizontal (``vertical_flip=True``: vertical)
    flip: ten crops."""
    size = _crop_size(size, "ten_crop")
    first_five = five_crop(img, size)
    flipped = vflip(img) if vertical_flip else hflip(img)
    return first_five + five_crop(flipped, size)


def erase(img: Any, i: int, j: int, h: int, w: int, v: Any, inplace: bool = False) -> Tensor:
    """``img[..., i:i+h, j:j+w] = v`` on a tensor image (a copy unless ``inplace``); ``v`` is a
    Tensor or a number that broadcasts to the box."""
    if not isinstance(img, Tensor):
        raise InputTypeError(f"erase: img should be a Tensor image, got {type(img).__name__}")
    _check_image(img, "erase")
    if not inplace:
        img = img.clone()
    img[..., i:i + h, j:j + w] = v
    return img


def resized_crop(img: Any, top: int, left: int, height: int, width: int, size: Any,
                 interpolation: Any = InterpolationMode.BILINEAR, antialias: bool | None = True) -> Any:
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def hflip(img: Any) -> Any:
    _check_image(img, "hflip")
    if _is_pil(img):
        return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return img.flip(-1)


def vflip(img: Any) -> Any:
    _check_image(img, "vflip")
    if _is_pil(img):
        return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    return img.flip(-2)


def rgb_to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` (a tensor; PIL's convert('L') for an image),
    repeated to 3 channels when ``num_output_channels=3``."""
    _check_image(img, "rgb_to_grayscale")
    if num_output_channels not in (1, 3):
        raise ConfigError(f"rgb_to_grayscale: num_output_channels should be either 1 or 3, got "
                          f"{num_output_channels!r}")
    if _is_pil(img):
        gray = img.convert("L")
        if num_output_channels == 3:
            return Image.fromarray(np.dstack([np.asarray(gray)] * 3))
        return gray
    c = get_image_num_channels(img)
    if c not in (1, 3) or img.ndim < 3:
        raise ShapeError(f"rgb_to_grayscale: input image tensor permitted channel values are "
                         f"[1, 3], but found {c} (shape {tuple(img.shape)})")
    if c == 3:
        dt = img.array.dtype
        x = img if dt.kind == "f" else img.to(np.float32)
        r, g, b = x.unbind(-3)
        gray = (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(-3)
        gray = gray if dt.kind == "f" else gray.to(dt.type)
    else:
        gray = img.clone()
    if num_output_channels == 3:
        gray = gray.expand(tuple(gray.shape[:-3]) + (3,) + tuple(gray.shape[-2:]))
    return gray


to_grayscale = rgb_to_grayscale


# ------------------------------------------------------------------------------ colour

def _check_channels(img: Tensor, permitted: Sequence[int], op: str) -> int:
    c = get_image_num_channels(img)
    if c not in permitted or img.ndim < 3:
        raise ShapeError(f"{op}: input image tensor permitted channel values are {list(permitted)}, "
                         f"but found {c} (shape {tuple(img.shape)})")
    return c


def _float_dtype(img: Tensor) -> Any:
    dt = img.array.dtype
    return dt.type if dt.kind == "f" else np.float32


def _blend(img1: Tensor, img2: Tensor, ratio: float) -> Tensor:
    """``(ratio * img1 + (1 - ratio) * img2)`` clamped to the image range, in img1's dtype."""
    ratio = float(ratio)
    floating = img1.array.dtype.kind == "f"
    out = (ratio * img1 + (1.0 - ratio) * img2).clamp(0, 1.0 if floating else 255.0)
    return out if floating else out.to(img1.array.dtype.type)


def _finite(value: Any, name: str, op: str) -> float:
    """``value`` as a float: ConfigTypeError for a non-number (a str, None, a bool), ConfigError
    for NaN / inf (which would turn every pixel to NaN or zero without a word)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigTypeError(f"{op}: {name} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{op}: {name} must be finite, got {value}")
    return float(value)


def _check_factor(value: float, name: str, op: str) -> None:
    if _finite(value, name, op) < 0:
        raise ConfigError(f"{op}: {name} ({value}) is not non-negative.")


def _enhance(enhancer: Any, img: Image.Image, factor: float, op: str) -> Image.Image:
    """PIL's ImageEnhance, its bare "image has wrong mode" ValueError named."""
    try:
        return enhancer(img).enhance(factor)
    except ValueError as exc:
        raise ConfigError(f"{op}: a PIL image of mode {img.mode!r} is not supported ({exc}); "
                          f"convert it first, e.g. img.convert('RGB') or img.convert('L')") from exc


def adjust_brightness(img: Any, brightness_factor: float) -> Any:
    """Multiply by ``brightness_factor`` (0: black, 1: the original), clamped to the range."""
    _check_image(img, "adjust_brightness")
    _check_factor(brightness_factor, "brightness_factor", "adjust_brightness")
    if _is_pil(img):
        return _enhance(ImageEnhance.Brightness, img, brightness_factor, "adjust_brightness")
    _check_channels(img, (1, 3), "adjust_brightness")
    return _blend(img, img.new_zeros(tuple(img.shape)), brightness_factor)


def adjust_contrast(img: Any, contrast_factor: float) -> Any:
    """Blend with the mean grey level (of the luma for RGB): 0 gives a solid grey image."""
    _check_image(img, "adjust_contrast")
    _check_factor(contrast_factor, "contrast_factor", "adjust_contrast")
    if _is_pil(img):
        return _enhance(ImageEnhance.Contrast, img, contrast_factor, "adjust_contrast")
    c = _check_channels(img, (1, 3), "adjust_contrast")
    source = rgb_to_grayscale(img) if c == 3 else img
    mean = source.to(_float_dtype(img)).mean(dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, contrast_factor)


def adjust_saturation(img: Any, saturation_factor: float) -> Any:
    """Blend with the grayscale image: 0 gives it, 1 the original, 2 doubles the saturation."""
    _check_image(img, "adjust_saturation")
    _check_factor(saturation_factor, "saturation_factor", "adjust_saturation")
    if _is_pil(img):
        return _enhance(ImageEnhance.Color, img, saturation_factor, "adjust_saturation")
    if _check_channels(img, (1, 3), "adjust_saturation") == 1:
        return img
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def _rgb2hsv(img: Tensor) -> Tensor:
    from ... import stack, where
    r, g, b = img.unbind(-3)
    maxc = img.max(dim=-3).values
    minc = img.min(dim=-3).values
    eqc = maxc == minc
    cr = maxc - minc
    ones = maxc.new_ones(tuple(maxc.shape))
    s = cr / where(eqc, ones, maxc)
    cr_divisor = where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / cr_divisor, (maxc - g) / cr_divisor, (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = hr + hg + hb
    from ... import fmod
    h = fmod(h / 6.0 + 1.0, 1.0)
    return stack((h, s, maxc), dim=-3)


def _hsv2rgb(img: Tensor) -> Tensor:
    from ... import einsum, floor, stack
    h, s, v = img.unbind(-3)
    i = floor(h * 6.0)
    f = h * 6.0 - i
    i = i.detach().to(np.int32) % 6
    p = (v * (1.0 - s)).clamp(0.0, 1.0)
    q = (v * (1.0 - s * f)).clamp(0.0, 1.0)
    t = (v * (1.0 - s * (1.0 - f))).clamp(0.0, 1.0)
    six = Tensor._make(img.device.xp.arange(6, dtype=np.int32).reshape(-1, 1, 1), img.device)
    mask = (i.unsqueeze(-3) == six).to(img.array.dtype.type)
    a1 = stack((v, q, p, p, t, v), dim=-3)
    a2 = stack((t, v, v, q, p, p), dim=-3)
    a3 = stack((p, p, t, v, v, q), dim=-3)
    a4 = stack((a1, a2, a3), dim=-4)
    return einsum("...ijk, ...xijk -> ...xjk", mask, a4)


def adjust_hue(img: Any, hue_factor: float) -> Any:
    """Shift the hue by ``hue_factor`` turns (in [-0.5, 0.5]) in HSV space."""
    _check_image(img, "adjust_hue")
    if not -0.5 <= _finite(hue_factor, "hue_factor", "adjust_hue") <= 0.5:
        raise ConfigError(f"adjust_hue: hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if _is_pil(img):
        mode = img.mode
        if mode in {"L", "1", "I", "F"}:
            return img
        h, s, v = img.convert("HSV").split()
        np_h = np.array(h, dtype=np.uint8)
        np_h += np.uint8(int(hue_factor * 255) % 256)           # wraps around, as intended
        return Image.merge("HSV", (Image.fromarray(np_h, "L"), s, v)).convert(mode)
    if _check_channels(img, (1, 3), "adjust_hue") == 1:
        return img
    orig = img.array.dtype
    x = convert_image_dtype(img, np.float32) if orig.kind != "f" else img
    hsv = _rgb2hsv(x)
    h, s, v = hsv.unbind(-3)
    from ... import stack
    h = (h + hue_factor) % 1.0
    out = _hsv2rgb(stack((h, s, v), dim=-3))
    return convert_image_dtype(out, orig.type) if orig.kind != "f" else out


# ------------------------------------------------------------------------------ blur

def _gaussian_kernel1d(kernel_size: int, sigma: float) -> np.ndarray:
    """torchvision's: exp(-x^2 / 2 sigma^2) at linspace(-(k-1)/2, (k-1)/2, k), normalised, in
    float32 (the exponent as torch computes it; exp and the sum rounded once to float32, where
    torch's vectorised exp and sum may differ from that by an ulp, so a weight may differ from
    torchvision's by ~6e-8 relative)."""
    half = (kernel_size - 1) * 0.5
    x = np.linspace(-half, half, kernel_size).astype(np.float32)
    pdf = np.exp((np.float32(-0.5) * (x / np.float32(sigma)) ** 2).astype(np.float64))
    pdf = pdf.astype(np.float32)
    return pdf / np.float32(pdf.astype(np.float64).sum())


def gaussian_blur(img: Any, kernel_size: Any, sigma: Any = None) -> Any:
    """Blur with a (kx, ky) Gaussian kernel of std ``sigma`` (reflect-padded, per channel; a PIL
    image is blurred as a uint8 tensor and converted back, as torchvision)."""
    if not isinstance(kernel_size, (int, list, tuple)) or isinstance(kernel_size, bool):
        raise ConfigTypeError(f"gaussian_blur: kernel_size should be int or a sequence of "
                              f"integers. Got {type(kernel_size)}")
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ConfigError(f"gaussian_blur: if kernel_size is a sequence its length should be 2. "
                          f"Got {len(kernel_size)}")
    for k in kernel_size:
        if k % 2 == 0 or k < 0:
            raise ConfigError(f"gaussian_blur: kernel_size should have odd and positive integers. "
                              f"Got {kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)) or isinstance(sigma, bool):
        raise ConfigTypeError(f"gaussian_blur: sigma should be either float or sequence of "
                              f"floats. Got {type(sigma)}")
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ConfigError(f"gaussian_blur: if sigma is a sequence, its length should be 2. "
                          f"Got {len(sigma)}")
    if any(_finite(s, "sigma", "gaussian_blur") <= 0.0 for s in sigma):
        raise ConfigError(f"gaussian_blur: sigma should have positive values. Got {sigma}")
    _check_image(img, "gaussian_blur")
    if _is_pil(img):
        return to_pil_image(gaussian_blur(pil_to_tensor(img), kernel_size, sigma), mode=img.mode)
    if img.ndim < 3:
        raise ShapeError(f"gaussian_blur: expected a tensor image (..., C, H, W), got shape "
                         f"{tuple(img.shape)}")
    from ...functional import conv2d
    from ...functional import pad as tensor_pad
    ft = _float_dtype(img)
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0]).astype(ft)
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1]).astype(ft)
    kernel2d = ky[:, None] @ kx[None, :]
    c = get_image_num_channels(img)
    weight = Tensor._make(img.device.xp.asarray(np.ascontiguousarray(
        np.broadcast_to(kernel2d, (c, 1) + kernel2d.shape))), img.device)
    x, lead = _as_batch(img, ft)
    px, py = kernel_size[0] // 2, kernel_size[1] // 2
    y = conv2d(tensor_pad(x, [px, px, py, py], mode="reflect"), weight, groups=c)
    return _from_batch(y, lead, img.array.dtype)


def _as_batch(img: Tensor, ft: Any) -> tuple[Tensor, tuple[int, ...]]:
    """(..., C, H, W) -> (N, C, H, W) in the float dtype ``ft``, and the leading shape."""
    lead = tuple(img.shape[:-3])
    x = img.reshape((-1,) + tuple(img.shape[-3:]))
    return (x if x.array.dtype == np.dtype(ft) else x.to(ft)), lead


def _from_batch(y: Tensor, lead: tuple[int, ...], dtype: np.dtype) -> Tensor:
    """Back to (..., C, H', W') and the image's dtype (integers rounded, as torchvision)."""
    if dtype.kind != "f":
        y = y.round().to(dtype.type)
    return y.reshape(lead + tuple(y.shape[-3:]))


# ------------------------------------------------------------------------------ affine

def _get_inverse_affine_matrix(center: Sequence[float], angle: float, translate: Sequence[float],
                               scale: float, shear: Sequence[float]) -> list[float]:
    """torchvision's: the inverse of T * C * R * S * Sh * C^-1 as a 2x3 matrix (6 floats)."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [x / scale for x in [d, -b, 0.0, -c, a, 0.0]]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty)
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty)
    matrix[2] += cx
    matrix[5] += cy
    return matrix


def _parse_fill(fill: Any, img: Image.Image) -> dict[str, Any]:
    channels = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and channels > 1:
        fill = tuple([fill] * channels)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * channels
        elif len(fill) != channels:
            raise ConfigError(f"The number of elements in 'fill' does not match the number of "
                              f"channels of the image ({len(fill)} != {channels})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {"fillcolor": fill}


def _grid_checks(img: Tensor, interpolation: InterpolationMode, fill: Any, op: str) -> None:
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ConfigError(f"{op}: interpolation mode '{interpolation.value}' is unsupported with "
                          f"Tensor input (nearest or bilinear)")
    c = get_image_num_channels(img)
    if isinstance(fill, (tuple, list)) and len(fill) > 1 and len(fill) != c:
        raise ConfigError(f"{op}: the number of elements in 'fill' cannot broadcast to match the "
                          f"number of channels of the image ({len(fill)} != {c})")
    if img.ndim < 3:
        raise ShapeError(f"{op}: expected a tensor image (..., C, H, W), got shape {tuple(img.shape)}")


def _affine_grid(matrix: list[float], w: int, h: int, ow: int, oh: int, ft: Any) -> np.ndarray:
    """torchvision's _gen_affine_grid: output pixel centres (relative to the centre) mapped by
    the inverse matrix and normalised to [-1, 1] for grid_sample(align_corners=False)."""
    theta = np.asarray(matrix, dtype=ft).reshape(1, 2, 3)
    base = np.empty((1, oh, ow, 3), dtype=ft)
    base[..., 0] = np.linspace(-ow * 0.5 + 0.5, ow * 0.5 + 0.5 - 1, ow, dtype=np.float32)
    base[..., 1] = np.linspace(-oh * 0.5 + 0.5, oh * 0.5 + 0.5 - 1, oh, dtype=np.float32)[:, None]
    base[..., 2] = 1
    rescaled = theta.transpose(0, 2, 1) / np.asarray([0.5 * w, 0.5 * h], dtype=ft)
    return (base.reshape(1, oh * ow, 3) @ rescaled).reshape(1, oh, ow, 2)


def _apply_grid(img: Tensor, grid: np.ndarray, mode: str, fill: Any) -> Tensor:
    from ... import cat, where
    from ...functional import grid_sample
    ft = _float_dtype(img)
    x, lead = _as_batch(img, ft)
    n = x.shape[0]
    g = Tensor._make(img.device.xp.asarray(np.broadcast_to(grid, (n,) + grid.shape[1:]).copy()),
                     img.device)
    if fill is not None:
        x = cat((x, x.new_ones((n, 1) + tuple(x.shape[-2:]))), dim=1)
    y = grid_sample(x, g, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        mask = y[:, -1:, :, :]
        y = y[:, :-1, :, :]
        mask = mask.expand(tuple(y.shape))
        values = list(fill) if isinstance(fill, (tuple, list)) else [float(fill)]
        fill_img = Tensor._make(img.device.xp.asarray(np.asarray(values, dtype=ft).reshape(
            1, len(values), 1, 1)), img.device).expand(tuple(y.shape))
        if mode == "nearest":
            y = where(mask < 0.5, fill_img, y)
        else:
            y = y * mask + (1.0 - mask) * fill_img
    return _from_batch(y, lead, img.array.dtype)


def _affine_output_size(matrix: list[float], w: int, h: int) -> tuple[int, int]:
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    theta = np.asarray(matrix, dtype=np.float32).reshape(2, 3)
    new = pts @ theta.T
    half = np.array([0.5 * w, 0.5 * h], dtype=np.float32)
    lo, hi = new.min(axis=0) + half, new.max(axis=0) + half
    tol = np.float32(1e-4)
    cmax = np.ceil(np.trunc(hi * (1 / tol)) * tol)
    cmin = np.floor(np.trunc(lo * (1 / tol)) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def rotate(img: Any, angle: float, interpolation: Any = InterpolationMode.NEAREST,
           expand: bool = False, center: Sequence[int] | None = None, fill: Any = None) -> Any:
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (default: the image's
    centre); ``expand`` grows the output to hold the whole rotated image; ``fill`` the area
    outside it."""
    _check_image(img, "rotate")
    if not isinstance(angle, (int, float)) or isinstance(angle, bool):
        raise ConfigTypeError("rotate: argument angle should be int or float")
    _finite(angle, "angle", "rotate")
    if center is not None and not isinstance(center, (list, tuple)):
        raise ConfigTypeError("rotate: argument center should be a sequence")
    mode = _interpolation(interpolation)
    if _is_pil(img):
        return img.rotate(angle, _PIL_FILTERS[mode], expand, center, **_parse_fill(fill, img))
    center_f = [0.0, 0.0]
    if center is not None:
        _, height, width = get_dimensions(img)
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    matrix = _get_inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    _grid_checks(img, mode, fill, "rotate")
    w, h = img.shape[-1], img.shape[-2]
    ow, oh = _affine_output_size(matrix, w, h) if expand else (w, h)
    grid = _affine_grid(matrix, w, h, ow, oh, _float_dtype(img))
    return _apply_grid(img, grid, mode.value, fill)


def affine(img: Any, angle: float, translate: Sequence[int], scale: float, shear: Any,
           interpolation: Any = InterpolationMode.NEAREST, fill: Any = None,
           center: Sequence[int] | None = None) -> Any:
    """Rotate by ``angle`` degrees, scale, shear (degrees, along x then y) and translate
    (pixels), about ``center`` (default: the image's centre), keeping the image's size."""
    _check_image(img, "affine")
    if not isinstance(angle, (int, float)) or isinstance(angle, bool):
        raise ConfigTypeError("affine: argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise ConfigTypeError("affine: argument translate should be a sequence")
    if len(translate) != 2:
        raise ConfigError("affine: argument translate should be a sequence of length 2")
    _finite(angle, "angle", "affine")
    for t in translate:
        _finite(t, "translate", "affine")
    if _finite(scale, "scale", "affine") <= 0.0:
        raise ConfigError("affine: argument scale should be positive")
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise ConfigTypeError("affine: shear should be either a single value or a sequence of "
                              "two values")
    mode = _interpolation(interpolation)
    angle = float(angle)
    translate = list(translate)
    shear = [shear, 0.0] if isinstance(shear, numbers.Number) else list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ConfigError(f"affine: shear should be a sequence containing two values. Got {shear}")
    for value in shear:
        _finite(value, "shear", "affine")
    if center is not None and not isinstance(center, (list, tuple)):
        raise ConfigTypeError("affine: argument center should be a sequence")
    _, height, width = get_dimensions(img)
    if _is_pil(img):
        if center is None:
            center = [width * 0.5, height * 0.5]
        matrix = _get_inverse_affine_matrix(center, angle, translate, scale, shear)
        return img.transform(img.size, Image.Transform.AFFINE, matrix, _PIL_FILTERS[mode],
                             **_parse_fill(fill, img))
    center_f = [0.0, 0.0]
    if center is not None:
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    matrix = _get_inverse_affine_matrix(center_f, angle, [1.0 * t for t in translate], scale, shear)
    _grid_checks(img, mode, fill, "affine")
    grid = _affine_grid(matrix, width, height, width, height, _float_dtype(img))
    return _apply_grid(img, grid, mode.value, fill)
