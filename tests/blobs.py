"""The Trainer tests' tiny dataset: white 3x3 squares at random places on 8x8 black canvases --
enough structure for a GAN's losses to move in a few steps."""
from __future__ import annotations

import numpy as np


def blob_images(count: int = 48, seed: int = 0) -> np.ndarray:
    """(count, 1, 8, 8) uint8 images, each one 3x3 square of 255 on 0."""
    rng = np.random.default_rng(seed)
    images = np.zeros((count, 1, 8, 8), np.uint8)
    for i in range(count):
        y, x = rng.integers(0, 5, 2)
        images[i, 0, y:y + 3, x:x + 3] = 255
    return images
