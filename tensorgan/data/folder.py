"""A Dataset of the images (PNG, JPEG, ...) under a folder (recursively), loaded eagerly via Pillow."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .. import fileio
from ..errors import ConfigError, DataError
from .dataset import ArrayDataset

__all__ = ["ImageFolder", "IMAGE_SUFFIXES"]

# torchvision's IMG_EXTENSIONS: a folder of BMP or WebP files is not silently passed over.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp"})


class ImageFolder(ArrayDataset):
    """Every image (``IMAGE_SUFFIXES``: PNG, JPEG, BMP, PPM/PGM, TIFF, WebP) under ``path`` as
    uint8 images of ``image_shape`` = (C, H, W).

    C = 1 converts to grayscale, C = 3 to RGB (transparency is dropped). Images of another size
    are center-cropped to the H:W aspect ratio and resized with Lanczos filtering, or, with
    ``strict_size=True``, rejected (the error lists every such file). 16-bit grayscale is scaled
    to 8 bits; palette images go through RGBA. ``files`` lists the image paths in the order of ``images``
    (sorted, so that a folder always loads the same way). Unlabelled: ``labels`` is None.
    """

    def __init__(self, path: str | os.PathLike[str], image_shape: tuple[int, int, int] = (1, 28, 28),
                 *, strict_size: bool = False) -> None:
        channels, height, width = _check_shape(image_shape)
        root = Path(path).expanduser()
        self.files = _list_images(root)
        _check_memory(len(self.files), channels, height, width)
        images = np.empty((len(self.files), channels, height, width), dtype=np.uint8)
        wrong_sizes = []
        for i, file in enumerate(self.files):
            try:
                images[i] = _load_image(file, channels, height, width, strict_size)
            except _WrongSize as exc:       # collected, so that one error names them all
                wrong_sizes.append(f"{file.relative_to(root)}: image is {exc.args[0]} (WxH)")
        if wrong_sizes:
            _refuse_sizes(root, wrong_sizes, len(self.files), width, height)
        super().__init__(images, None, name=root.resolve().name or str(root))
        self.root = root


class _WrongSize(Exception):
    """An image of another size than asked for, with strict_size (args[0]: its 'WxH')."""


def _refuse_sizes(root: Path, wrong: list[str], total: int, width: int, height: int) -> None:
    shown = "; ".join(wrong[:5]) + (f"; ... ({len(wrong) - 5} more)" if len(wrong) > 5 else "")
    raise DataError(f"{root}: {shown}: {len(wrong)} of {total} images are of another size; "
                    f"image_shape (--image-size) asks for {width}x{height} (WxH), and strict_size "
                    f"(--strict-size) rejects other sizes instead of cropping and resizing them")


def _check_memory(count: int, channels: int, height: int, width: int) -> None:
    """Refuse images that would not fit in memory (twice: the array, and Pillow's copy of the
    one being resized), rather than a MemoryError or the OOM killer's unnamed end."""
    need = (count + 2) * channels * height * width
    available = fileio.available_memory()
    if available is not None and need > available:
        raise ConfigError(f"{count} images of {channels}x{height}x{width} need about "
                          f"{need / 2**30:.1f} GiB of memory, more than the "
                          f"{available / 2**30:.1f} GiB available; choose a smaller image size "
                          f"(image_shape, --image-size)")


def _check_shape(image_shape: tuple[int, int, int]) -> tuple[int, int, int]:
    try:
        channels, height, width = (int(v) for v in image_shape)
        ok = tuple(image_shape) == (channels, height, width)
    except (TypeError, ValueError):
        ok = False
    if not ok or channels not in (1, 3) or height < 1 or width < 1:
        raise ConfigError(f"image_shape must be (C, H, W) with C 1 or 3 and H, W >= 1, "
                          f"got {image_shape!r}")
    return channels, height, width


def _list_images(root: Path) -> list[Path]:
    if not root.exists():
        raise DataError(f"{root}: image folder not found")
    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    # Hidden files and folders are skipped: macOS leaves "._name.png" resource forks that are not
    # images, and archives unpack a "__MACOSX" folder of them.
    files = sorted(p for p in root.rglob("*")
                   if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                   and not any(part.startswith(".") or part == "__MACOSX"
                               for part in p.relative_to(root).parts))
    if not files:
        raise DataError(f"{root}: no PNG or JPEG (or BMP, PPM, PGM, TIFF, WebP) images in this folder or its "
                        f"sub-folders")
    return files


def _load_image(file: Path, channels: int, height: int, width: int, strict_size: bool) -> np.ndarray:
    """One image as uint8 (C, H, W)."""
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than fails) for some odd files; we want one clear outcome.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                pixels = _to_mode(image, "L" if channels == 1 else "RGB")
    # Pillow's decoders raise many exception types for damaged files (OSError, SyntaxError,
    # ValueError, struct.error, DecompressionBombError, ...); all mean "this file is unreadable".
    except Exception as exc:
        raise DataError(f"{file}: cannot read image ({type(exc).__name__}: {exc})") from exc
    if pixels.size != (width, height):
        if strict_size:
            raise _WrongSize(f"{pixels.size[0]}x{pixels.size[1]}")
        pixels = _center_crop_resize(pixels, width, height)
    array = np.asarray(pixels, dtype=np.uint8)
    return array[None] if channels == 1 else array.transpose(2, 0, 1)


def _center_crop_resize(image: Image.Image, width: int, height: int) -> Image.Image:
    """Crop the largest centred box with the target aspect ratio, then resize it.

    Cropping first (rather than ImageOps.fit's resize-with-box) keeps pixels outside the box from
    bleeding in through the Lanczos filter's support.
    """
    w, h = image.size
    if w * height > h * width:   # too wide: keep the full height
        crop_w, crop_h = max(1, round(h * width / height)), h
    else:                        # too tall (or exact): keep the full width
        crop_w, crop_h = w, max(1, round(w * height / width))
    left, top = (w - crop_w) // 2, (h - crop_h) // 2
    image = image.crop((left, top, left + crop_w, top + crop_h))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def _to_mode(image: Image.Image, mode: str) -> Image.Image:
    if image.mode.startswith("I"):
        # 16/32-bit grayscale: Pillow's convert("L") clips instead of scaling, so scale here.
        wide = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or wide.max() > 255 else 255.0
        image = Image.fromarray(np.clip(np.rint(wide * (255.0 / peak)), 0, 255).astype(np.uint8))
    elif image.mode in ("P", "PA"):
        image = image.convert("RGBA")  # palette transparency is only handled via RGBA
    return image if image.mode == mode else image.convert(mode)
