"""Losses for GAN training, all on discriminator *logits* (never on probabilities, for stability).

With D(x) = sigmoid(logit), the GAN objective of Goodfellow et al. is
``min_G max_D  E log D(x) + E log(1 - D(G(z)))``.

* Discriminator: ``-[E log D(x) + E log(1 - D(G(z)))]`` = BCE(real logits, 1) + BCE(fake logits, 0).
* Generator, ``"non_saturating"`` (default): ``-E log D(G(z))`` = BCE(fake logits, 1). Same fixed point
  as the minimax form, but strong gradients early on, when D easily rejects the fakes.
* Generator, ``"minimax"``: ``E log(1 - D(G(z)))`` = -BCE(fake logits, 0), the original objective;
  its gradient vanishes when D(G(z)) is near 0, which is why it is not the default.

``binary_cross_entropy_with_logits`` is computed as ``max(x, 0) - x t + log1p(exp(-|x|))``.
"""
from __future__ import annotations

from .errors import ConfigError
from .functional import binary_cross_entropy_with_logits
from .tensor import Tensor

__all__ = ["binary_cross_entropy_with_logits", "bce_with_logits", "discriminator_loss",
           "generator_loss", "GENERATOR_LOSSES"]

bce_with_logits = binary_cross_entropy_with_logits
GENERATOR_LOSSES = ("non_saturating", "minimax")


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """``-[E log D(x) + E log(1 - D(G(z)))]``."""
    return (binary_cross_entropy_with_logits(real_logits, 1.0)
            + binary_cross_entropy_with_logits(fake_logits, 0.0))


def generator_loss(fake_logits: Tensor, kind: str = "non_saturating") -> Tensor:
    """``-E log D(G(z))`` (``"non_saturating"``) or ``E log(1 - D(G(z)))`` (``"minimax"``)."""
    if kind == "non_saturating":
        return binary_cross_entropy_with_logits(fake_logits, 1.0)
    if kind == "minimax":
        return -binary_cross_entropy_with_logits(fake_logits, 0.0)
    raise ConfigError(f"generator loss must be one of {GENERATOR_LOSSES}, got {kind!r}")
