"""Differentiable Augmentation (DiffAugment; Zhao et al. 2020, "Differentiable Augmentation for
Data-Efficient GAN Training").

The same random transformation is applied to real and generated images every time the
discriminator sees them; each one is built from differentiable tensor ops, so G's gradient
flows back through it.  The three policies of the paper's official code (``DiffAugment_pytorch.py``):

``color``
    per image: brightness ``x + (r - 0.5)``, then saturation ``(x - mean_C x) * 2r + mean_C x``,
    then contrast ``(x - mean_CHW x) * (r + 0.5) + mean_CHW x`` (three uniform ``r`` in [0, 1)).
``translation``
    per image, a shift by whole pixels, up to ``int(size / 8 + 0.5)`` each way along H and along
    W, filling with zeros: ``out[n, :, i, j] = x[n, :, i + tx, j + ty]`` (0 outside the image).
``cutout``
    per image, a zeroed ``int(H / 2 + 0.5) x int(W / 2 + 0.5)`` rectangle (clipped to the image)
    whose top-left corner is ``offset - size // 2``, ``offset`` uniform in ``[0, H + 1 - size % 2)``
    (and likewise along W).

Random draws, in this order per policy and each of shape ``(N,)``: color -- brightness,
saturation, contrast uniforms in x's dtype; translation -- tx then ty integers in ``[-s, s]``;
cutout -- the H offsets, then the W offsets.  They come from ``generator`` (a
:class:`tensorgan.Generator` or a ``numpy.random.Generator``; the default generator when None)
on the host, so a seed gives the same augmentations on every device.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .errors import ConfigError, DTypeError, InputTypeError, ShapeError
from .functional import pad
from .random import _drawn, default_generator, numpy_rng
from .tensor import Tensor

__all__ = ["diff_augment", "parse_policy", "POLICIES", "TRANSLATION_RATIO", "CUTOUT_RATIO"]

TRANSLATION_RATIO = 0.125   # the largest shift, as a fraction of the size (the official code's)
CUTOUT_RATIO = 0.5          # the cut-out rectangle's side, as a fraction of the size


def parse_policy(policy: str, owner: str = "diff_augment") -> tuple[str, ...]:
    """The policy names of ``"color,translation,cutout"`` (spaces around names ignored; ``""``:
    none).  An unknown or empty name is a ConfigError naming it (and ``owner``)."""
    if not isinstance(policy, str):
        raise ConfigError(f"{owner}: policy must be a string such as "
                          f"'color,translation,cutout', got {type(policy).__name__}")
    if not policy.strip():
        return ()
    names = tuple(name.strip() for name in policy.split(","))
    for name in names:
        if name not in POLICIES:
            raise ConfigError(f"{owner}: unknown policy {name!r} in {policy!r}; the policies "
                              f"are {', '.join(POLICIES)} (comma-separated)")
    return names


def diff_augment(x: Tensor, policy: str = "color,translation,cutout",
                 generator: Any = None) -> Tensor:
    """DiffAugment of a float batch ``x`` of shape (N, C, H, W): the policies of ``policy``
    (comma-separated, applied in that order) with draws from ``generator``.  Returns ``x``
    itself for an empty policy; otherwise a new tensor of x's shape, dtype and device whose
    gradient reaches ``x``."""
    names = parse_policy(policy)
    if not isinstance(x, Tensor):
        raise InputTypeError(f"diff_augment: x must be a Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ShapeError(f"diff_augment: x must be a batch of images (N, C, H, W), got shape "
                         f"{tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise DTypeError(f"diff_augment: x must be a floating-point tensor, got {x.dtype}")
    rng = numpy_rng(generator, "diff_augment") or default_generator.rng
    for name in names:
        x = POLICIES[name](x, rng)
    return x


def _per_image(x: Tensor, values: np.ndarray) -> Tensor:
    """Host values of shape (N,) as an (N, 1, 1, 1) tensor of x's dtype on x's device."""
    return Tensor._from(values.astype(x.dtype, copy=False).reshape(-1, 1, 1, 1), device=x.device)


def _uniform(x: Tensor, rng: np.random.Generator) -> np.ndarray:
    """N uniforms in [0, 1) drawn in x's dtype (float16: drawn in float32), as torch.rand."""
    return rng.random(x.shape[0], dtype=_drawn(x.dtype))


def _color(x: Tensor, rng: np.random.Generator) -> Tensor:
    """Random brightness, saturation and contrast, each per image (the official rand_* ops)."""
    x = x + _per_image(x, _uniform(x, rng) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * _per_image(x, _uniform(x, rng) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * _per_image(x, _uniform(x, rng) + 0.5) + mean


def _translation(x: Tensor, rng: np.random.Generator) -> Tensor:
    """Shift each image by up to TRANSLATION_RATIO of its size, zero-filled: a gather from the
    image padded by one zero pixel, out-of-range positions reading the padding."""
    n, c, h, w = x.shape
    shift_h, shift_w = int(h * TRANSLATION_RATIO + 0.5), int(w * TRANSLATION_RATIO + 0.5)
    th = rng.integers(-shift_h, shift_h + 1, size=n)
    tw = rng.integers(-shift_w, shift_w + 1, size=n)
    rows = np.clip(np.arange(h) + th[:, None] + 1, 0, h + 1)     # (N, H) into the padded image
    cols = np.clip(np.arange(w) + tw[:, None] + 1, 0, w + 1)     # (N, W)
    xp = x.device.xp
    key = (xp.asarray(np.arange(n).reshape(n, 1, 1, 1)), xp.asarray(np.arange(c).reshape(1, c, 1, 1)),
           xp.asarray(rows.reshape(n, 1, h, 1)), xp.asarray(cols.reshape(n, 1, 1, w)))
    return pad(x, (1, 1, 1, 1))[key]


def _cutout(x: Tensor, rng: np.random.Generator) -> Tensor:
    """Zero a rectangle of CUTOUT_RATIO of the size at a random place in each image."""
    n, _, h, w = x.shape
    size_h, size_w = int(h * CUTOUT_RATIO + 0.5), int(w * CUTOUT_RATIO + 0.5)
    off_h = rng.integers(0, h + (1 - size_h % 2), size=n)
    off_w = rng.integers(0, w + (1 - size_w % 2), size=n)
    inside_h = _within(np.arange(h), off_h - size_h // 2, size_h)    # (N, H)
    inside_w = _within(np.arange(w), off_w - size_w // 2, size_w)    # (N, W)
    keep = ~(inside_h[:, :, None] & inside_w[:, None, :])
    mask = Tensor._from(keep[:, None].astype(x.dtype), device=x.device)
    return x * mask


def _within(positions: np.ndarray, start: np.ndarray, size: int) -> np.ndarray:
    """(N, len(positions)): whether each position is in ``[start[k], start[k] + size)``."""
    return (positions >= start[:, None]) & (positions < start[:, None] + size)


POLICIES: dict[str, Callable[[Tensor, np.random.Generator], Tensor]] = {
    "color": _color, "translation": _translation, "cutout": _cutout}
