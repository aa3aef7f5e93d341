"""Random numbers with explicit, saveable state.

Every random draw in tensorgan (initial weights, noise vectors, dropout masks, data shuffling)
comes from a :class:`Generator` wrapping NumPy's PCG64 on the host; GPU tensors get the host draw
copied over, so a seed gives the same numbers on every device. ``get_state()`` returns plain
JSON-able data, so checkpoints store it without pickle.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np


class Generator:
    """A seeded source of random numbers (PCG64)."""

    def __init__(self, seed: int | None = None):
        self.manual_seed(seed)

    def manual_seed(self, seed: int | None) -> "Generator":
        self.seed = seed
        self.rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def normal(self, shape: tuple, dtype=np.float32, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
        out = self.rng.standard_normal(shape, dtype=np.dtype(dtype))
        if std != 1.0:
            out *= std
        if mean != 0.0:
            out += mean
        return out

    def uniform(self, shape: tuple, dtype=np.float32, low: float = 0.0, high: float = 1.0) -> np.ndarray:
        out = self.rng.random(shape, dtype=np.dtype(dtype))
        if (low, high) != (0.0, 1.0):
            out = out * (high - low) + low
        return out.astype(dtype, copy=False)

    def permutation(self, n: int) -> np.ndarray:
        return self.rng.permutation(n)

    def get_state(self) -> dict[str, Any]:
        """The full generator state as plain Python data (ints and strings)."""
        return self.rng.bit_generator.state

    def set_state(self, state: dict[str, Any]) -> None:
        if state.get("bit_generator") != "PCG64":
            raise ValueError(f"not a PCG64 generator state: {state.get('bit_generator')!r}")
        self.rng.bit_generator.state = state

    def state_json(self) -> str:
        return json.dumps(self.get_state())

    def load_state_json(self, text: str) -> None:
        self.set_state(json.loads(text))


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Reseed the default generator (used when no generator/seed is passed)."""
    return default_generator.manual_seed(seed)


def resolve(generator: Generator | None = None, seed: int | None = None) -> Generator:
    if generator is not None and seed is not None:
        raise ValueError("pass either generator= or seed=, not both")
    if seed is not None:
        return Generator(seed)
    return generator if generator is not None else default_generator
