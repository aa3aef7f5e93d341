"""Leaky ReLU, elementwise::

    y  = x                  if x >= 0 else negative_slope * x
    gx = gy                 if x >= 0 else negative_slope * gy

At the kink x == 0 the derivative is taken as 1 (the contract: "slope where x < 0, else 1").
The forward value there is 0 either way.

Cost, with E elements and itemsize s: E compares + E multiplies; forward reads x and writes y
(``2*s*E`` bytes), backward reads gy and x and writes gx (``3*s*E`` bytes).  Purely memory-bound.
"""
from __future__ import annotations

import numpy as np


def leaky_relu(x: np.ndarray, negative_slope: float) -> np.ndarray:
    """y = x where x >= 0, negative_slope * x elsewhere; same dtype as x."""
    # A Python float scalar does not promote float32 arrays (NEP 50), so the dtype is kept.
    return np.where(x < 0, x * negative_slope, x)


def leaky_relu_backward(gy: np.ndarray, x: np.ndarray, negative_slope: float) -> np.ndarray:
    """gx = gy * (negative_slope where x < 0 else 1); same dtype as gy."""
    return np.where(x < 0, gy * negative_slope, gy)
