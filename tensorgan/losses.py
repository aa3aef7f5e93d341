"""Losses for GAN training, all on discriminator *logits* (never on probabilities, for stability).

With D(x) = sigmoid(logit), the GAN objective of Goodfellow et al. is
``min_G max_D  E log D(x) + E log(1 - D(G(z)))``.

* Discriminator: ``-[E log D(x) + E log(1 - D(G(z)))]`` = BCE(real logits, 1) + BCE(fake logits, 0).
* Generator, ``"non_saturating"`` (default): ``-E log D(G(z))`` = BCE(fake logits, 1). Same fixed point
  as the minimax form, but strong gradients early on, when D easily rejects the fakes.
* Generator, ``"minimax"``: ``E log(1 - D(G(z)))`` = -BCE(fake logits, 0), the original objective;
  its gradient vanishes when D(G(z)) is near 0, which is why it is not the default.

  Why, on a fake's logit l (D(G(z)) = sigmoid(l)): d/dl log(1 - sigmoid(l)) = -sigmoid(l), near 0
  while D rejects the fake; d/dl -log sigmoid(l) = -(1 - sigmoid(l)), near -1 there.  Both push l
  up; only the second does so while G is losing.  G receives this through D's backward.

``binary_cross_entropy_with_logits`` is computed as ``max(x, 0) - x t + log1p(exp(-|x|))``.

The hinge objective (Lim & Ye 2017; SN-GAN, BigGAN), ``kind="hinge"`` on both sides, treats D's
output as a score rather than a logit:

* Discriminator: ``E relu(1 - D(x)) + E relu(1 + D(G(z)))`` -- no gradient from samples already
  beyond the margin.
* Generator: ``-E D(G(z))``.

The Wasserstein objective (Arjovsky et al. 2017), ``kind="wgan"``: D is a *critic* whose score
difference ``E D(x) - E D(G(z))`` estimates the Wasserstein-1 distance when D is 1-Lipschitz
(which ``gradient_penalty`` keeps it near: WGAN-GP):

* Critic: ``E D(G(z)) - E D(x)``.
* Generator: ``-E D(G(z))`` (the same as hinge's).

Gradient penalties (a term of the discriminator's loss that contains D's gradient with respect to
its input; backward then needs second derivatives, ``create_graph=True``):

* ``gradient_penalty`` (WGAN-GP, Gulrajani et al. 2017): ``E (||grad_x D(x_hat)|| - 1)^2`` on
  random interpolates ``x_hat`` of real and fake images; it keeps a critic near 1-Lipschitz.
* ``r1_penalty`` (Mescheder et al. 2018): ``E ||grad_x D(x)||^2`` on real images; add it as
  ``gamma / 2 * r1_penalty(D, real)`` (``Trainer``/``train --r1-gamma`` does).
"""
from __future__ import annotations

from typing import Callable

from . import autograd
from .errors import ConfigError, ShapeError
from .functional import binary_cross_entropy_with_logits
from .random import Generator, resolve
from .tensor import Tensor

__all__ = ["binary_cross_entropy_with_logits", "bce_with_logits", "discriminator_loss",
           "generator_loss", "GENERATOR_LOSSES", "DISCRIMINATOR_LOSSES", "gradient_penalty",
           "r1_penalty", "r1_penalty_from_scores"]

bce_with_logits = binary_cross_entropy_with_logits
GENERATOR_LOSSES = ("non_saturating", "minimax", "hinge", "wgan")
DISCRIMINATOR_LOSSES = ("bce", "hinge", "wgan")


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor, kind: str = "bce") -> Tensor:
    """``-[E log D(x) + E log(1 - D(G(z)))]`` (``"bce"``), ``E relu(1 - D(x)) + E relu(1 +
    D(G(z)))`` (``"hinge"``) or ``E D(G(z)) - E D(x)`` (``"wgan"``, a critic's)."""
    if kind == "bce":
        return (binary_cross_entropy_with_logits(real_logits, 1.0)
                + binary_cross_entropy_with_logits(fake_logits, 0.0))
    if kind == "hinge":
        return (1.0 - real_logits).relu().mean() + (1.0 + fake_logits).relu().mean()
    if kind == "wgan":
        return fake_logits.mean() - real_logits.mean()
    raise ConfigError(f"discriminator loss must be one of {DISCRIMINATOR_LOSSES}, got {kind!r}")


def generator_loss(fake_logits: Tensor, kind: str = "non_saturating") -> Tensor:
    """``-E log D(G(z))`` (``"non_saturating"``), ``E log(1 - D(G(z)))`` (``"minimax"``) or
    ``-E D(G(z))`` (``"hinge"`` and ``"wgan"``)."""
    if kind == "non_saturating":
        return binary_cross_entropy_with_logits(fake_logits, 1.0)
    if kind == "minimax":
        return -binary_cross_entropy_with_logits(fake_logits, 0.0)
    if kind in ("hinge", "wgan"):
        return -fake_logits.mean()
    raise ConfigError(f"generator loss must be one of {GENERATOR_LOSSES}, got {kind!r}")


def _input_gradients(scores: Tensor, x: Tensor) -> Tensor:
    """d sum(scores) / dx per sample (scores = D(x)), flattened to (N, -1), differentiable."""
    (grad,) = autograd.grad(scores.sum(), x, create_graph=True)
    return grad.reshape(x.shape[0], -1)


def gradient_penalty(discriminator: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                     generator: Generator | None = None) -> Tensor:
    """WGAN-GP's ``mean over samples of (||grad_x D(x_hat)|| - 1)^2`` with ``x_hat = e real +
    (1 - e) fake``, one uniform ``e`` per sample (drawn from ``generator``; the default one when
    None).  ``x_hat`` is a new leaf, so the penalty's gradient reaches D's parameters only.  D
    runs once more on ``x_hat``: a BatchNorm in D would update its running statistics with it
    (the WGAN-GP paper's critic has none)."""
    if real.shape != fake.shape or real.ndim < 1 or real.shape[0] == 0:
        raise ShapeError(f"gradient_penalty: real {real.shape} and fake {fake.shape} must be "
                         f"batches of one shape")
    e = resolve(generator).uniform((real.shape[0],) + (1,) * (real.ndim - 1), dtype=real.dtype)
    e = Tensor._from(e, dtype=real.dtype, device=real.device)
    x_hat = (e * real.detach() + (1.0 - e) * fake).detach().requires_grad_()
    grad = _input_gradients(discriminator(x_hat), x_hat)
    norms = ((grad * grad).sum(dim=1) + 1e-12).sqrt()   # + 1e-12: the norm's gradient at 0
    return ((norms - 1.0) ** 2).mean()


def r1_penalty(discriminator: Callable[[Tensor], Tensor], real: Tensor) -> Tensor:
    """R1: ``mean over samples of ||grad_x D(x)||^2`` at the real images (their gradient is
    not wanted: ``real`` is detached first)."""
    if real.ndim < 1 or real.shape[0] == 0:
        raise ShapeError(f"r1_penalty: expected a non-empty batch, got shape {real.shape}")
    real = real.detach().requires_grad_()
    return r1_penalty_from_scores(discriminator(real), real)


def r1_penalty_from_scores(real_scores: Tensor, real: Tensor) -> Tensor:
    """R1 from scores D already gave: ``real_scores = D(real)`` with ``real`` a leaf that
    requires grad.  A training step that needs D(real) for its loss anyway reuses that forward
    pass instead of running D a second time (``Trainer`` with ``r1_gamma``)."""
    if not real.requires_grad or real.ndim < 1 or real.shape[0] == 0:
        raise ShapeError(f"r1_penalty: real must be a non-empty batch that requires grad, got "
                         f"shape {real.shape}, requires_grad={real.requires_grad}")
    grad = _input_gradients(real_scores, real)
    return (grad * grad).sum(dim=1).mean()
