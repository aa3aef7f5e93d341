"""Helpers shared by the CLI tests: a folder of tiny random grey images, and the `train` command
line of a DCGAN small enough (4 base channels, 8x8 images, batch 4) to run a step in a blink."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def random_image_folder(root: Path, count: int, seed: int, width: int = 1) -> Path:
    """``count`` random 8x8 grey PNGs named 0.png, 1.png, ... (zero-padded to ``width``)."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(root / f"{i:0{width}d}.png")
    return root


def tiny_train_args(folder, out, steps: int = 2, *extra: str, sample_every: int | None = None,
                    checkpoint_every: int = 100) -> list[str]:
    """``train`` on ``folder`` into ``out``; ``extra`` options go last."""
    samples = [] if sample_every is None else ["--sample-every", str(sample_every)]
    return ["train", "--dataset", f"folder:{folder}", "--image-size", "8", "--channels", "1",
            "--base-channels", "4", "--latent-dim", "8", "--batch-size", "4", "--steps", str(steps),
            *samples, "--checkpoint-every", str(checkpoint_every), "--out", str(out), "--no-progress",
            *extra]
