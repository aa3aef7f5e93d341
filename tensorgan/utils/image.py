"""torchvision.utils' ``make_grid`` and ``save_image`` over tensorgan tensors, so a GAN program's
``save_image(gen_imgs.data[:25], "images/%d.png" % n, nrow=5, normalize=True)`` runs as written
(``from tensorgan.utils import save_image, make_grid``).

Same layout and pixels as torchvision: ``nrow`` images per row, ``padding`` pixels of
``pad_value`` around and between them, 1-channel images repeated to 3 channels; ``normalize``
maps ``value_range`` (default: the min and max, of the batch or of each image with
``scale_each``) onto [0, 1]; ``save_image`` writes ``round(255 * x)`` clamped to [0, 255].
(:func:`tensorgan.train.make_grid` / ``save_grid`` are the Trainer's uint8 NumPy versions.)"""
from __future__ import annotations

import math
import numbers
import os
import warnings
from typing import Any, BinaryIO

import numpy as np

from ..errors import ConfigError, DTypeError, InputTypeError, ShapeError
from ..tensor import Tensor, _caller_level

__all__ = ["make_grid", "save_image"]


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ConfigError(f"make_grid: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _as_tensor(tensor: Tensor | list) -> Tensor:
    """The images as one Tensor: a list of (C, H, W) images stacked into a batch."""
    if isinstance(tensor, (list, tuple)):
        if not tensor or not all(isinstance(t, Tensor) for t in tensor):
            raise InputTypeError("make_grid: a list must hold one or more tensors")
        from ..factory import stack
        tensor = stack(list(tensor), dim=0)
    if not isinstance(tensor, Tensor):
        raise InputTypeError(f"make_grid: tensor must be a Tensor or a list of Tensors, "
                             f"got {type(tensor).__name__}")
    return tensor


def _checked_options(nrow: Any, padding: Any, value_range: Any, kwargs: dict) -> tuple:
    """(nrow, padding, value_range) checked, taking torchvision's deprecated ``range=``."""
    if "range" in kwargs:                       # torchvision's deprecated spelling of value_range
        warnings.warn("make_grid: range will be deprecated, please use value_range instead.",
                      stacklevel=_caller_level())
        value_range = kwargs.pop("range")
    if kwargs:
        raise InputTypeError(f"make_grid() got unexpected keyword arguments {sorted(kwargs)}")
    nrow, padding = _check_int("nrow", nrow, 1), _check_int("padding", padding, 0)
    if value_range is not None and (not isinstance(value_range, (tuple, list)) or len(value_range) != 2):
        raise InputTypeError(f"make_grid: value_range must be a (low, high) tuple, got {value_range!r}")
    return nrow, padding, value_range


def _rgb_batch(tensor: Tensor, xp: Any) -> Any:
    """A copy of the images as a (B, C, H, W) array, 1-channel images repeated to 3 channels
    (as torchvision, which also leaves a lone 2- or 3-channel image's channels alone)."""
    a = tensor.detach().array
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 3:
        if a.shape[0] == 1:
            a = xp.concatenate((a, a, a), 0)
        a = a[None]
    if a.ndim != 4:
        raise ShapeError(f"make_grid: expected (B, C, H, W), (C, H, W) or (H, W) images, got shape "
                         f"{tuple(tensor.shape)}")
    if a.shape[0] == 0:
        raise ShapeError("make_grid: no images to put in a grid (B = 0)")
    if a.shape[1] == 1:
        a = xp.concatenate((a, a, a), 1)
    return a.copy()


def _normalize(a: Any, xp: Any, value_range: tuple | None, scale_each: bool) -> None:
    """Map value_range (default: the min and max, of the batch or of each image) onto [0, 1],
    in place, as torchvision's norm_ip."""
    if a.dtype.kind != "f":                 # torchvision's in-place div_ refuses integer images
        raise DTypeError(f"make_grid: normalize=True needs floating-point images, got {a.dtype}")

    def norm(img: Any) -> None:
        low, high = (value_range if value_range is not None
                     else (float(img.min()), float(img.max())))
        xp.clip(img, low, high, out=img)
        img -= low
        img /= max(high - low, 1e-5)
    for img in (a if scale_each else (a,)):
        norm(img)


def _tiled(a: Any, xp: Any, nrow: int, padding: int, pad_value: float) -> Any:
    """The (B, C, H, W) images tiled nrow per row, padding pixels of pad_value around each."""
    n, c, h, w = a.shape
    cols = min(nrow, n)
    rows = int(math.ceil(n / cols))
    grid = xp.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value,
                   dtype=a.dtype)
    for k in range(n):
        y, x = divmod(k, cols)
        top, left = y * (h + padding) + padding, x * (w + padding) + padding
        grid[:, top:top + h, left:left + w] = a[k]
    return grid


def make_grid(tensor: Tensor | list, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0, **kwargs: Any) -> Tensor:
    """A batch ``(B, C, H, W)`` (or a list of ``(C, H, W)`` images, or one ``(C, H, W)`` /
    ``(H, W)`` image) -> one ``(C', H', W')`` grid image (C' = 3 for 1-channel input), on the
    input's device and in its dtype. Not differentiable: torchvision's runs under
    ``torch.no_grad()``, so its grid never requires grad either (``save_image`` likewise takes
    a tensor that requires grad as it is)."""
    tensor = _as_tensor(tensor)
    nrow, padding, value_range = _checked_options(nrow, padding, value_range, kwargs)
    xp = tensor.device.xp
    a = _rgb_batch(tensor, xp)
    if normalize:
        _normalize(a, xp, value_range, scale_each)
    if a.shape[0] == 1:
        return Tensor._make(a[0], tensor.device, False)
    return Tensor._make(_tiled(a, xp, nrow, padding, pad_value), tensor.device, False)


def save_image(tensor: Tensor | list, fp: str | os.PathLike[str] | BinaryIO, format: str | None = None,
               **kwargs: Any) -> None:
    """:func:`make_grid` (``nrow=8, padding=2, normalize=False, value_range=None,
    scale_each=False, pad_value=0``), then the grid as an 8-bit image file (PNG, JPEG, ... from
    ``fp``'s suffix or ``format``). Values are taken as [0, 1]: pass ``normalize=True`` for a
    generator's [-1, 1] output."""
    from PIL import Image
    grid = make_grid(tensor, **kwargs)
    g = grid.array
    if g.dtype.kind != "f":                     # torchvision: mul(255).add_(0.5) refuses integer grids
        raise DTypeError(f"save_image: expected floating-point images in [0, 1], got {g.dtype} "
                         f"(convert with .float() / 255)")
    g = g * 255 + 0.5
    xp = grid.device.xp
    pixels = xp.clip(g, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    pixels = np.ascontiguousarray(pixels.get() if hasattr(pixels, "get") else pixels)
    if pixels.shape[2] not in (1, 3, 4):
        raise ShapeError(f"save_image: an image file needs 1, 3 or 4 channels, got {pixels.shape[2]}")
    Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(fp, format=format)
