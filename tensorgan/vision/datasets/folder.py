"""torchvision.datasets.DatasetFolder / ImageFolder: ``root/<class>/**/<file>``, loaded lazily.

(:class:`tensorgan.data.ImageFolder` is the trainer's eager, unlabelled uint8 version.)"""
from __future__ import annotations

import os
from typing import Any, Callable

from PIL import Image

from ...errors import ConfigError, DataError
from .vision import VisionDataset, _item_index

__all__ = ["DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "default_loader", "pil_loader",
           "find_classes", "make_dataset", "has_file_allowed_extension", "is_image_file"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename: str, extensions: str | tuple[str, ...]) -> bool:
    return filename.lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def is_image_file(filename: str) -> bool:
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def pil_loader(path: str) -> Image.Image:
    """The image at ``path`` as RGB (torchvision's default loader)."""
    try:
        with open(path, "rb") as f:
            img = Image.open(f)
            return img.convert("RGB")
    except Image.DecompressionBombError as exc:    # a header declaring billions of pixels
        raise DataError(f"{path}: refused to decode ({exc}); raise PIL.Image.MAX_IMAGE_PIXELS "
                        f"if the image is genuine") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # PIL's parsers' errors
        raise DataError(f"{path}: cannot read image ({type(exc).__name__}: {exc})") from exc


default_loader = pil_loader


def find_classes(directory: str | os.PathLike[str]) -> tuple[list[str], dict[str, int]]:
    """The sub-folders of ``directory`` (sorted) as classes, and their indices."""
    if not os.path.isdir(directory):
        raise DataError(f"{directory}: folder not found" if not os.path.exists(directory)
                        else f"{directory}: not a folder")
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise DataError(f"Couldn't find any class folder in {directory} (ImageFolder wants "
                        f"root/<class>/<image> files)")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory: str | os.PathLike[str], class_to_idx: dict[str, int] | None = None,
                 extensions: str | tuple[str, ...] | None = None,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> list[tuple[str, int]]:
    """(path, class index) of every valid file under each class folder, sorted, links followed."""
    directory = os.path.expanduser(directory)
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ConfigError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ConfigError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if extensions is not None:
        def is_valid_file(path: str) -> bool:                     # noqa: F811
            return has_file_allowed_extension(path, extensions)   # type: ignore[arg-type]
    instances, found = [], set()
    for target_class in sorted(class_to_idx):
        index = class_to_idx[target_class]
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for root, _, fnames in _walk_once(target_dir):
            for fname in sorted(fnames):
                path = os.path.join(root, fname)
                if is_valid_file(path):
                    instances.append((path, index))
                    found.add(target_class)
    empty = set(class_to_idx) - found
    if empty and not allow_empty:
        message = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            message += ("Supported extensions are: "
                        f"{extensions if isinstance(extensions, str) else ', '.join(extensions)}")
        raise DataError(message)
    return instances


def _walk_once(top: str) -> list[tuple[str, list[str], list[str]]]:
    """os.walk(top, followlinks=True) (torchvision's: links are followed), sorted, entering each
    real folder once: a link back to an ancestor (``cls/loop -> ..``) would otherwise repeat every
    file up to the kernel's link limit, and two such links grow it exponentially (a hang)."""
    seen: set[tuple[int, int]] = set()
    out = []
    for root, dirs, fnames in os.walk(top, followlinks=True):
        try:
            st = os.stat(root)
        except OSError:
            dirs[:] = []
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            dirs[:] = []          # do not descend again into a folder already walked
            continue
        seen.add(key)
        dirs.sort()
        out.append((root, dirs, fnames))
    return sorted(out)


class DatasetFolder(VisionDataset):
    """``root/<class>/.../<file>`` samples read by ``loader`` when indexed."""

    def __init__(self, root: str | os.PathLike[str], loader: Callable[[str], Any],
                 extensions: tuple[str, ...] | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(self.root, class_to_idx, extensions, is_valid_file, allow_empty)
        self.loader, self.extensions = loader, extensions
        self.classes, self.class_to_idx = classes, class_to_idx
        self.samples = samples
        self.targets = [s[1] for s in samples]

    @staticmethod
    def make_dataset(directory: Any, class_to_idx: dict[str, int],
                     extensions: tuple[str, ...] | None = None,
                     is_valid_file: Callable[[str], bool] | None = None,
                     allow_empty: bool = False) -> list[tuple[str, int]]:
        if class_to_idx is None:
            raise ConfigError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty)

    def find_classes(self, directory: Any) -> tuple[list[str], dict[str, int]]:
        return find_classes(directory)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        index = _item_index(self, index, len(self.samples), "samples")
        path, target = self.samples[index]
        sample = self.loader(path)
        return self._apply_transforms(sample, target)

    def __len__(self) -> int:
        return len(self.samples)


class ImageFolder(DatasetFolder):
    """Images in ``root/<class>/`` folders (torchvision's IMG_EXTENSIONS), opened as RGB PIL
    images when indexed; ``.imgs`` is ``.samples``."""

    def __init__(self, root: str | os.PathLike[str], transform: Callable | None = None,
                 target_transform: Callable | None = None,
                 loader: Callable[[str], Any] = default_loader,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> None:
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform=transform, target_transform=target_transform,
                         is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
