"""Training a GAN: the alternating D/G step, sample grids, metrics, checkpoints, exact resume.

One step (as in the DCGAN reference implementations):

1. draw z, make ``fake = G(z)`` once;
2. discriminator: ``loss_D = BCE(D(real), 1) + BCE(D(fake.detach()), 0)``, backward, Adam step;
3. generator: ``loss_G = BCE(D(fake), 1)`` (non-saturating; or the minimax form), backward through
   the updated D into G, Adam step. D's parameters have ``requires_grad`` off during this backward,
   so no work is spent on D weight gradients that would be thrown away.

Steps 1-2 are ``Trainer._train_step``, step 3 ``Trainer._generator_step``; the rest of this file is
what a real run needs around them.  The game the two losses play, and why G's default loss is the
non-saturating one, are in ``losses.py``'s docstring; the same step without the bookkeeping is the
12-line loop in the README's *Training a GAN* (see ``docs/how_it_works.md``).

With ``augment`` (DiffAugment), D sees every real and fake batch through a fresh random
augmentation, in both steps.

Everything random comes from named :class:`tensorgan.Generator` streams derived from the seed
(weights, noise, dropout, data order, DiffAugment) and every stream's state is checkpointed with the models,
the optimizers and the DataLoader position, so on the CPU a run resumed from step k produces the
same losses from step k+1 on, bit for bit, as a run that was never interrupted.

Run directory layout::

    checkpoint.npz            latest checkpoint (atomic: a crash never leaves a torn file)
    metrics.jsonl             one JSON object per step: step, epoch, loss_d, loss_g, d_x, d_g_z,
                              time (r1 / gp on the steps with that penalty; no loss_g on
                              the critic-only steps of n_critic > 1)
    samples/step_000500.png   fixed-noise grids every ``sample_every`` steps (step_000500_ema.png:
                              drawn by the EMA generator, with ``ema_decay`` > 0; conditional runs:
                              a run of images per class, see class_grid_layout)
    samples.png               the grid at the end of the run
    loss_curve.png            when matplotlib is installed
    config.json               the TrainConfig (written by `tensorgan train`, not by Trainer.fit)
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json
import math
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import losses
from .augment import diff_augment, parse_policy
from .backend import get_device
from .checkpoint import atomic_write, load_checkpoint, save_checkpoint
from .errors import CheckpointError, ConfigError, NonFiniteError, ShapeError
from .models.dcgan import D_NORMS, build_models
from .optim import Adam
from .optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from .random import Generator
from .tensor import Tensor, no_grad

__all__ = ["TrainConfig", "Trainer", "to_uint8", "make_grid", "save_grid", "class_grid_layout",
           "dataset_num_classes"]

CHECKPOINT_NAME = "checkpoint.npz"
METRICS_NAME = "metrics.jsonl"
TRAINING_LOSSES = ("bce", "hinge", "wgan-gp")   # TrainConfig.loss: the objective of both networks


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a training run (stored in every checkpoint)."""

    steps: int | None = None            # total optimizer steps; None: use epochs
    epochs: int | None = 1              # used when steps is None
    batch_size: int = 64
    lr: float = 2e-4
    lr_g: float | None = None           # the generator's learning rate (TTUR); None: lr
    lr_d: float | None = None           # the discriminator's; None: lr
    beta1: float = 0.5
    beta2: float = 0.999
    latent_dim: int = 100
    base_channels: int = 64
    discriminator: str = "conv"         # "conv" or "mlp"
    dropout: float = 0.3                # MLP discriminator only
    loss: str = "bce"                   # "bce" (the minimax game on logits), "hinge" or "wgan-gp"
    generator_loss: str = "non_saturating"  # with loss="bce": "non_saturating" or "minimax"
    gp_lambda: float = 10.0             # with loss="wgan-gp": the gradient penalty's weight
    d_norm: str = "batch"               # the conv discriminator's normalization: batch, layer, none
    n_critic: int = 1                   # D updates per G update: G steps on every n_critic-th batch
    r1_gamma: float = 0.0               # > 0: D's loss + r1_gamma/2 * R1 penalty on the reals
    r1_every: int = 1                   # R1 on every k-th step only, weighted k times (lazy R1)
    seed: int = 0
    device: str | None = None
    sample_every: int = 200
    checkpoint_every: int = 200
    num_samples: int = 64               # images in the fixed-noise grid
    on_nonfinite: str = "stop"          # "stop" or "skip" the update
    check_grads: bool = True            # also test gradients (not just losses) for NaN/inf
    ema_decay: float = 0.0              # > 0 (e.g. 0.999): an EMA of G's weights (Trainer.G_ema)
                                        # draws the samples and is evaluated; 0: off
    conditional: bool = False           # class-conditional G and D (a labelled dataset: MNIST)
    augment: str = ""                   # DiffAugment policy for every image D sees, e.g.
                                        # "color,translation,cutout"; "": off

    def learning_rates(self) -> tuple[float, float]:
        """(generator, discriminator) learning rates: ``lr_g`` / ``lr_d``, each defaulting to ``lr``."""
        return (self.lr if self.lr_g is None else self.lr_g,
                self.lr if self.lr_d is None else self.lr_d)

    def validate(self) -> "TrainConfig":
        """Check every field -- a ConfigError names the first one wrong, in this order -- with
        NumPy scalars made the Python numbers they are and ``augment`` spelled one way."""
        for f in dataclasses.fields(self):      # NumPy scalars count as the Python numbers they are
            v = getattr(self, f.name)
            if isinstance(v, (np.integer, np.floating, np.bool_)):
                setattr(self, f.name, v.item())
        self._check_flags_and_counts()
        self._check_learning_rates()
        if self.conditional and self.discriminator != "conv":
            raise ConfigError(f"conditional=True needs the conv discriminator (one-hot label maps "
                              f"beside the image), not {self.discriminator!r}")
        self._check_adam_and_penalties()
        self._check_losses()
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**64:
            raise ConfigError(f"seed must be an integer in 0 .. 2**64 - 1 (a negative torch seed s "
                              f"is s % 2**64), got {self.seed!r}")
        return self

    def _check_positive(self, name: str, allow_none: bool = False) -> None:
        v = getattr(self, name)
        if v is None and allow_none:
            return
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ConfigError(f"{name} must be a positive integer, got {v!r}")

    def _check_flags_and_counts(self) -> None:
        """validate's step: the True / False flags, the positive counts, the augment policy and
        the run's length."""
        for name in ("check_grads", "conditional"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be True or False, got {getattr(self, name)!r}")
        self._check_positive("steps", allow_none=True)
        self._check_positive("epochs", allow_none=True)
        for name in ("batch_size", "latent_dim", "base_channels", "sample_every", "checkpoint_every",
                     "num_samples", "r1_every", "n_critic"):
            self._check_positive(name)
        self.augment = ",".join(parse_policy(self.augment, "augment"))   # one spelling of a policy
        if self.steps is None and self.epochs is None:
            raise ConfigError("give steps or epochs")

    def _check_learning_rates(self) -> None:
        """validate's step: lr, lr_g / lr_d and the EMA generator's decay."""
        if not (_finite_number(self.lr) and self.lr > 0):
            raise ConfigError(f"learning rate must be a positive number, got {self.lr!r}")
        for name in ("lr_g", "lr_d"):
            v = getattr(self, name)
            if v is not None and not (_finite_number(v) and v > 0):
                raise ConfigError(f"{name} must be a positive number (or None: lr), got {v!r}")
        if not (_finite_number(self.ema_decay) and 0.0 <= self.ema_decay < 1.0):
            raise ConfigError(f"ema_decay must be in [0, 1) (0: no EMA generator; typical 0.999), "
                              f"got {self.ema_decay!r}")

    def _check_adam_and_penalties(self) -> None:
        """validate's step: Adam's betas, the R1 penalty and its schedule, dropout."""
        for name in ("beta1", "beta2"):
            if not (_finite_number(getattr(self, name)) and 0.0 <= getattr(self, name) < 1.0):
                raise ConfigError(f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        if not (_finite_number(self.r1_gamma) and self.r1_gamma >= 0.0):
            raise ConfigError(f"r1_gamma must be a number >= 0 (0: no R1 penalty), got {self.r1_gamma!r}")
        if self.r1_every != 1 and self.r1_gamma == 0:
            raise ConfigError(f"r1_every={self.r1_every} schedules an R1 penalty that r1_gamma=0 "
                              f"turns off (give r1_gamma > 0, or leave r1_every at 1)")
        if not (_finite_number(self.dropout) and 0.0 <= self.dropout < 1.0):
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout!r}")

    def _check_losses(self) -> None:
        """validate's step: the loss, its gradient penalty, the discriminator and its
        normalization, the generator's loss, what a non-finite step does."""
        if self.loss not in TRAINING_LOSSES:
            raise ConfigError(f"loss must be one of {TRAINING_LOSSES}, got {self.loss!r}")
        if not (_finite_number(self.gp_lambda) and self.gp_lambda > 0.0):
            raise ConfigError(f"gp_lambda must be a number > 0, got {self.gp_lambda!r}")
        if self.loss != "wgan-gp" and self.gp_lambda != TrainConfig.gp_lambda:
            raise ConfigError(f"gp_lambda weighs the gradient penalty of loss='wgan-gp', not "
                              f"loss={self.loss!r}")
        if self.d_norm not in D_NORMS:
            raise ConfigError(f"d_norm must be one of {D_NORMS}, got {self.d_norm!r}")
        if self.d_norm != "batch" and self.discriminator != "conv":
            raise ConfigError(f"d_norm={self.d_norm!r} chooses the conv discriminator's "
                              f"normalization; the {self.discriminator!r} one has none")
        if self.loss == "wgan-gp" and self.discriminator == "conv" and self.d_norm == "batch":
            raise ConfigError("loss='wgan-gp' with a batch-normalized critic: the gradient penalty "
                              "is per sample, which batch statistics mix (WGAN-GP's critic has no "
                              "batch norm): give d_norm='layer' or 'none'")
        bce_kinds = ("non_saturating", "minimax")
        if self.generator_loss not in bce_kinds:
            raise ConfigError(f"generator_loss must be one of {bce_kinds}, got "
                              f"{self.generator_loss!r}" + (" (loss='hinge' gives the hinge "
                              "generator loss)" if self.generator_loss == "hinge" else ""))
        if self.loss != "bce" and self.generator_loss != "non_saturating":
            raise ConfigError(f"generator_loss={self.generator_loss!r} is a choice of loss='bce'; "
                              f"loss={self.loss!r} trains G on -E D(G(z))")
        if self.on_nonfinite not in ("stop", "skip"):
            raise ConfigError(f"on_nonfinite must be 'stop' or 'skip', got {self.on_nonfinite!r}")
        if self.discriminator not in ("conv", "mlp"):
            raise ConfigError(f"discriminator must be 'conv' or 'mlp', got {self.discriminator!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------
def _finite_number(v: Any) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[-1, 1] floats -> uint8 pixels (the inverse of the DataLoader's scaling)."""
    return np.clip(np.rint((np.asarray(images, dtype=np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def make_grid(images: np.ndarray, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """uint8 ``(N, C, H, W)`` -> one ``(rows*H', cols*W', C)`` image with ``padding`` black pixels.
    (Generator outputs in [-1, 1] go through :func:`to_uint8` first.)"""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ShapeError(f"make_grid needs uint8 images of shape (N, C, H, W), got {images.dtype} "
                         f"{images.shape} (convert [-1, 1] floats with to_uint8)")
    for name, value, low in (("nrow", nrow, 1), ("padding", padding, 0)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                  or value < low):
            raise ConfigError(f"make_grid: {name} must be an integer >= {low}, got {value!r}")
    n, c, h, w = images.shape
    if n == 0:
        raise ShapeError("make_grid: no images to put in a grid (N = 0)")
    cols = nrow or max(1, int(math.ceil(math.sqrt(n))))
    rows = int(math.ceil(n / cols))
    grid = np.zeros((rows * (h + padding) + padding, cols * (w + padding) + padding, c), np.uint8)
    for i in range(n):
        r, k = divmod(i, cols)
        y, x = padding + r * (h + padding), padding + k * (w + padding)
        grid[y:y + h, x:x + w] = images[i].transpose(1, 2, 0)
    return grid


def class_grid_layout(num_noise: int, num_classes: int) -> tuple[int, int]:
    """(images per class, classes per grid row) of a conditional run's sample grid.

    One row per class with ``num_noise // num_classes`` images while the grid is at most twice
    as tall as wide (MNIST's 10 classes from 64 noises: 10 rows of 6). Beyond that (EMNIST's 47:
    a 1-image-wide strip) each class gets at least 4 images (the noises repeat across classes,
    not more noise) and several classes share a row, to keep the grid about square.
    """
    per_class = max(1, num_noise // num_classes)
    if num_classes <= 2 * per_class:
        return per_class, 1
    per_class = max(per_class, min(4, num_noise))
    return per_class, max(1, math.ceil(math.sqrt(num_classes / per_class)))


# The PNG modes a grid can be saved in, by channel count (a 4th channel is transparency).
PNG_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def save_grid(images: np.ndarray, path: str | os.PathLike[str], nrow: int | None = None) -> Path:
    """Write uint8 ``(N, C, H, W)`` images, C in 1, 3 or 4, as one PNG grid (atomically)."""
    from PIL import Image
    grid = make_grid(images, nrow)
    if grid.shape[2] not in PNG_MODES:
        raise ShapeError(f"save_grid: a PNG grid needs 1, 3 or 4 channels, got {grid.shape[2]} "
                         f"(save the first 3, or write the array with np.save)")
    image = Image.fromarray(grid[:, :, 0] if grid.shape[2] == 1 else grid, PNG_MODES[grid.shape[2]])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return atomic_write(path, lambda f: f.write(buffer.getvalue()))


def _ema_with_warmup(decay: float, ema_params: list, current_params: list, num_averaged: Any) -> None:
    """The generator EMA's update after the n-th G step: decay ``min(decay, (1 + n) / (10 + n))``
    (TensorFlow's ExponentialMovingAverage with num_updates) -- so early on the EMA follows G
    (0.18 after the 2nd step, 0.92 after the 100th) instead of holding the random init for the
    first ~1/(1 - decay) steps, and from ~9,000 steps on it is the plain ``decay`` EMA."""
    n = int(num_averaged)
    get_ema_multi_avg_fn(min(decay, (1.0 + n) / (10.0 + n)))(ema_params, current_params, num_averaged)


# With on_nonfinite="skip", this many steps in a row that each skipped an update end the run:
# skipping is for a rare bad batch, and a run that only skips would otherwise "finish" untrained.
SKIP_STREAK_LIMIT = 50

# Random streams a checkpoint may lack (written before the option existed, or by a run without
# it, then resumed with it through the API): such a stream goes on from its seeded start.
OPTIONAL_STREAMS = ("augment",)


def _seeded(seed: int, stream: int) -> np.random.SeedSequence:
    # Independent streams from one user seed: weights, noise, dropout, data order, fixed noise,
    # DiffAugment (0 .. 5).
    return np.random.SeedSequence([seed, stream])


# ---------------------------------------------------------------------------------------------
# Trainer
# ---------------------------------------------------------------------------------------------
class Trainer:
    """Trains a DCGAN pair on a dataset (anything with uint8 ``images (N, C, H, W)``), writing
    samples, metrics and checkpoints under ``run_dir``."""

    def __init__(self, dataset: Any, run_dir: str | os.PathLike[str] | None,
                 config: TrainConfig | None = None):
        from .data import DataLoader  # the data layer sits beside, not below, the engine

        self.config = config = (config or TrainConfig()).validate()
        self.dataset = dataset
        self.image_shape = tuple(int(v) for v in dataset.images.shape[1:])
        self.device = get_device(config.device)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        if self.run_dir is not None and self.image_shape[:1] and self.image_shape[0] not in PNG_MODES:
            raise ConfigError(f"images of {self.image_shape[0]} channels: a run directory gets PNG "
                              f"sample grids, which need 1, 3 or 4 (train with run_dir=None, or "
                              f"keep 1, 3 or 4 channels)")
        self.num_classes = dataset_num_classes(dataset) if config.conditional else None
        self.rng = {"noise": Generator(_seeded(config.seed, 1)), "dropout": Generator(_seeded(config.seed, 2))}
        if config.augment:          # (only then: a run without it checkpoints the streams it always did)
            self.rng["augment"] = Generator(_seeded(config.seed, 5))
        self.G, self.D = build_models(self.image_shape, config.latent_dim, config.base_channels,
                                      config.discriminator, dropout=config.dropout,
                                      generator=Generator(_seeded(config.seed, 0)),
                                      dropout_generator=self.rng["dropout"], device=self.device,
                                      d_norm=config.d_norm, num_classes=self.num_classes)
        _check_batch_for_batch_norm(config.batch_size, {"generator": self.G, "discriminator": self.D})
        betas = (config.beta1, config.beta2)
        lr_g, lr_d = config.learning_rates()
        self.opt_g = Adam(self.G.parameters(), lr=lr_g, betas=betas)
        self.opt_d = Adam(self.D.parameters(), lr=lr_d, betas=betas)
        # The EMA generator (torch's AveragedModel: its first update copies G, later ones average;
        # batch-norm running statistics are copied from G at each update, as StyleGAN / BigGAN do).
        self.G_ema: AveragedModel | None = self._new_ema() if config.ema_decay else None
        self._g_updated = False          # whether the step in flight updated G (then the EMA)
        self.loader = DataLoader(dataset, config.batch_size, shuffle=True, drop_last=True,
                                 generator=np.random.Generator(np.random.PCG64(_seeded(config.seed, 3))))
        fixed = Generator(_seeded(config.seed, 4)).normal((config.num_samples, config.latent_dim))
        self.fixed_noise = fixed
        self.step = 0
        self.meta: dict[str, Any] = {}  # free-form, JSON-able (the CLI records the dataset here)
        self.history: list[dict[str, Any]] = []
        self.skipped = 0
        self._skip_streak = 0    # steps in a row that skipped an update (see SKIP_STREAK_LIMIT)
        self._stop_requested = False
        self._t0 = time.perf_counter()
        self._time_offset = 0.0
        self._d_params = list(self.D.parameters())
        if self.run_dir is not None:
            check_run_dir(self.run_dir, self._checkpoint_size_estimate())

    # -- derived sizes -------------------------------------------------------------------------
    @property
    def total_steps(self) -> int:
        c = self.config
        return c.steps if c.steps is not None else c.epochs * len(self.loader)

    @property
    def epoch(self) -> int:
        return self.loader.epoch

    def _new_ema(self) -> AveragedModel:
        return AveragedModel(self.G, multi_avg_fn=functools.partial(_ema_with_warmup, self.config.ema_decay))

    def _checkpoint_size_estimate(self) -> int:
        n = sum(p.size for m in (self.G, self.D) for p in m.parameters())
        n += sum(p.size for p in self.G.parameters()) // 3 if self.G_ema is not None else 0
        return 3 * 4 * n + 8 * len(self.dataset) + (1 << 20)  # params + Adam m, v; data order

    # -- one step ------------------------------------------------------------------------------
    def train_step(self, real_images: np.ndarray, labels: np.ndarray | None = None) -> dict[str, float]:
        """One D update then one G update on a batch of real images in [-1, 1] -- or, with
        ``n_critic`` > 1 (WGAN-GP's 5), the D update alone on all but every n_critic-th step: a
        step is a batch, and its record has ``loss_g`` only where G was updated.  A conditional
        run needs the batch's ``labels``; its fakes are drawn for the same labels.  After a G
        update, the EMA generator (``ema_decay`` > 0) folds in G's new weights.

        With ``on_nonfinite="skip"``, a step that skips an update also puts both networks' buffers
        (batch-norm running statistics) back as they were: the forward passes that produced the
        non-finite loss would otherwise have averaged NaN/inf into them for good."""
        skipped_before = self.skipped
        buffers = _buffer_snapshot((self.G, self.D)) if self.config.on_nonfinite == "skip" else None
        # NumPy's overflow / invalid-value warnings would only repeat, on stderr, what the
        # finiteness checks below report (or skip) by name -- in the engine and in the kernels.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            record = self._train_step(real_images, labels)
        if buffers is not None and self.skipped != skipped_before:
            _restore_buffers(buffers)
        if self.G_ema is not None and self._g_updated:
            self.G_ema.update_parameters(self.G)
        self._skip_streak = self._skip_streak + 1 if self.skipped != skipped_before else 0
        if self._skip_streak >= SKIP_STREAK_LIMIT:
            raise NonFiniteError(f"step {self.step}: {SKIP_STREAK_LIMIT} steps in a row skipped an "
                                 f"update for non-finite values (--on-nonfinite skip); the training "
                                 f"has diverged: stopped, the last checkpoint is kept (try a lower lr)")
        return record

    def _train_step(self, real_images: np.ndarray, labels: np.ndarray | None) -> dict[str, float]:
        dev, xp, c = self.device, self.device.xp, self.config
        self._g_updated = False
        G, D = self.G, self.D
        if self.num_classes is not None:       # every G and D call gets the batch's labels
            if labels is None:
                raise ConfigError("a conditional trainer's train_step needs the batch's labels")
            y = xp.asarray(labels)
            G, D = functools.partial(G, labels=y), functools.partial(D, labels=y)
        step = self.step + 1
        real = Tensor._make(xp.asarray(real_images), dev)
        z = Tensor._make(xp.asarray(self.rng["noise"].normal((real_images.shape[0], c.latent_dim))), dev)
        g_step = step % c.n_critic == 0
        with contextlib.nullcontext() if g_step else no_grad():   # a D-only step: no graph through G
            fake = G(z)

        # Discriminator: fake is detached, so this backward stops at D's input.  With R1, the
        # reals are a leaf that requires grad: D's gradient at them, from the same forward pass,
        # joins the loss (its backward then goes through D's backward: second derivatives).
        # Lazy R1 (StyleGAN2's): only every r1_every-th step, weighted r1_every times.
        # With DiffAugment, D sees (and R1 / WGAN-GP penalize at) the augmented images, as in the
        # official implementation: R1's gradient is taken at the augmented reals.
        with_r1 = c.r1_gamma > 0 and step % c.r1_every == 0
        real, fake_d = self._augment(real), self._augment(fake.detach())
        if with_r1:
            real.requires_grad_()
        d_real, d_fake = D(real), D(fake_d)
        loss_d = losses.discriminator_loss(d_real, d_fake, "wgan" if c.loss == "wgan-gp" else c.loss)
        gp_value = None
        if c.loss == "wgan-gp":       # on interpolates of reals and fakes; e from the noise stream
            gp = losses.gradient_penalty(D, real, fake_d, generator=self.rng["noise"])
            gp_value = gp.item()
            loss_d = loss_d + c.gp_lambda * gp
        r1_value = None
        if with_r1:
            r1 = losses.r1_penalty_from_scores(d_real, real)
            r1_value = r1.item()
            loss_d = loss_d + (c.r1_gamma / 2.0 * c.r1_every) * r1
        loss_d_value = loss_d.item()
        self.opt_d.zero_grad()
        if self._finite_or_skip(loss_d_value, step, "discriminator", "loss"):
            loss_d.backward()
            if not c.check_grads or self._finite_or_skip(_grads_finite(self._d_params), step,
                                                         "discriminator", "gradient"):
                self.opt_d.step()
        del loss_d
        record = {"step": step, "epoch": self.loader.epoch, "loss_d": loss_d_value}
        if g_step:
            record["loss_g"] = self._generator_step(D, fake, step)
        record["d_x"], record["d_g_z"] = _mean_sigmoid(d_real.array, xp), _mean_sigmoid(d_fake.array, xp)
        if r1_value is not None:
            record["r1"] = r1_value       # the penalty before its weight (loss_d includes it)
        if gp_value is not None:
            record["gp"] = gp_value       # likewise WGAN-GP's, before gp_lambda
        self.step = step
        return record

    def _generator_step(self, D: Callable[[Tensor], Tensor], fake: Tensor, step: int) -> float:
        """G's update: gradients flow through D (frozen) into G. Returns G's loss."""
        c = self.config
        for p in self._d_params:
            p.requires_grad = False
        try:
            kind = {"hinge": "hinge", "wgan-gp": "wgan"}.get(c.loss, c.generator_loss)
            loss_g = losses.generator_loss(D(self._augment(fake)), kind)   # fresh draws
            loss_g_value = loss_g.item()
            self.opt_g.zero_grad()
            if self._finite_or_skip(loss_g_value, step, "generator", "loss"):
                loss_g.backward()
                if not c.check_grads or self._finite_or_skip(_grads_finite(self.G.parameters()), step,
                                                             "generator", "gradient"):
                    self.opt_g.step()
                    self._g_updated = True
        finally:
            for p in self._d_params:
                p.requires_grad = True
        return loss_g_value

    def _augment(self, images: Tensor) -> Tensor:
        """The images as D sees them: DiffAugment with ``config.augment`` (a new random
        transformation per call, from the trainer's augment stream), or the images themselves."""
        if not self.config.augment:
            return images
        return diff_augment(images, self.config.augment, generator=self.rng["augment"])

    def _finite_or_skip(self, value: Any, step: int, network: str, what: str) -> bool:
        ok = bool(value) if isinstance(value, (bool, np.bool_)) else math.isfinite(value)
        if ok:
            return True
        detail = "" if isinstance(value, (bool, np.bool_)) else f" ({value})"
        if self.config.on_nonfinite == "stop":
            raise NonFiniteError(f"step {step}: the {network}'s {what} is not finite{detail}; "
                                 f"training stopped, the last checkpoint is kept")
        self.skipped += 1
        return False

    # -- the loop ------------------------------------------------------------------------------
    def fit(self, progress: bool = False, on_step: Callable[[dict[str, Any]], None] | None = None
            ) -> dict[str, Any]:
        """Train up to ``total_steps``. Returns a summary; ``interrupted`` is True after Ctrl-C
        (the step in flight is finished and a checkpoint written first)."""
        total = self.total_steps
        bar = metrics = previous_handler = None
        self._t0 = time.perf_counter()
        start_step = self.step
        interrupted = self._stop_requested = False     # a stop request ends one fit(), not all
        step_seconds: list[float] = []  # train_step alone: no data loading, samples or checkpoints
        failed = True       # until the body ends normally: a close error then must not replace it
        try:        # (the bar, the metrics file and the Ctrl-C handler are undone by finally)
            bar = _progress_bar(total, self.step) if progress else None
            metrics = self._open_metrics()
            previous_handler = self._install_sigint()
            interrupted = self._run_steps(total, bar, metrics, on_step, step_seconds)
            if self.run_dir is not None:
                self.save_checkpoint()
                self.save_samples(final=True)
                self.save_loss_curve()
            failed = False
        finally:
            self._end_fit(bar, metrics, failed, previous_handler)
        return self._fit_summary(start_step, step_seconds, interrupted)

    def _run_steps(self, total: int, bar: Any, metrics: Any,
                   on_step: Callable[[dict[str, Any]], None] | None,
                   step_seconds: list[float]) -> bool:
        """The loop: epochs of batches, each step logged (history, metrics file, bar, on_step)
        and its periodic files written, up to ``total`` steps. True when a stop was requested."""
        last_loss_g = math.nan               # shown by the bar on D-only steps (n_critic > 1)
        while self.step < total:
            for real, labels in self.loader:
                t_step = time.perf_counter()
                record = self.train_step(real, labels)   # ends on host copies of the losses
                step_seconds.append(time.perf_counter() - t_step)
                record["time"] = round(self._time_offset + time.perf_counter() - self._t0, 4)
                self.history.append(record)
                if metrics is not None:
                    _write_metrics_line(metrics, record)
                if bar is not None:
                    last_loss_g = _show_progress(bar, record, last_loss_g)
                if on_step is not None:
                    on_step(record)
                self._periodic(total)
                if self._stop_requested:
                    return True
                if self.step >= total:
                    break
        return False

    def _end_fit(self, bar: Any, metrics: Any, failed: bool, previous_handler: Any) -> None:
        """Close the bar and the metrics file, and give Ctrl-C back its previous handler."""
        try:
            if bar is not None:
                bar.close()
            if metrics is not None:
                _close_log(metrics, failed)
        finally:                # a failed close must not leave our Ctrl-C handler installed
            self._restore_sigint(previous_handler)

    def _fit_summary(self, start_step: int, step_seconds: list[float],
                     interrupted: bool) -> dict[str, Any]:
        """fit()'s summary; the time this fit() took joins the run's time offset."""
        elapsed = time.perf_counter() - self._t0
        self._time_offset += elapsed
        self._t0 = time.perf_counter()
        steps_run = self.step - start_step
        return {"step": self.step, "epoch": self.loader.epoch, "steps_run": steps_run,
                "seconds": elapsed, "seconds_per_step": elapsed / steps_run if steps_run else None,
                # The first step compiles what the kernel caches lack (seconds on a GPU); the
                # median is the steady-state cost of train_step alone.
                "first_step_seconds": step_seconds[0] if step_seconds else None,
                "median_step_seconds": float(np.median(step_seconds)) if step_seconds else None,
                "interrupted": interrupted, "skipped": self.skipped,
                "last": self.history[-1] if self.history else None}

    def _periodic(self, total: int) -> None:
        if self.run_dir is None or self.step >= total:
            return  # the final sample/checkpoint is written after the loop
        if self.step % self.config.sample_every == 0:
            self.save_samples()
        if self.step % self.config.checkpoint_every == 0:
            self.save_checkpoint()

    # -- SIGINT --------------------------------------------------------------------------------
    def _install_sigint(self) -> Any:
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum: int, frame: Any) -> None:
            if self._stop_requested:  # a second Ctrl-C: stop now
                raise KeyboardInterrupt
            self._stop_requested = True

        return signal.signal(signal.SIGINT, handler)

    def _restore_sigint(self, previous: Any) -> None:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)

    def request_stop(self) -> None:
        """Finish the current step, write a checkpoint and return from fit() (what Ctrl-C does)."""
        self._stop_requested = True

    # -- outputs -------------------------------------------------------------------------------
    def generate(self, noise: np.ndarray, labels: np.ndarray | None = None,
                 ema: bool | None = None) -> np.ndarray:
        """Generator output for host noise, in eval mode and without graph (then back to train).
        ``ema``: the EMA generator (default: when ``ema_decay`` > 0) or G itself.  A conditional
        generator draws class ``labels`` (default: 0, 1, ..., K-1, 0, 1, ...: balanced)."""
        if ema and self.G_ema is None:
            raise ConfigError("generate(ema=True): this trainer keeps no EMA generator (ema_decay=0)")
        model = self.G_ema if ema is not False and self.G_ema is not None else self.G
        args: tuple[Any, ...] = ()
        if self.num_classes is not None:
            labels = np.arange(len(noise)) % self.num_classes if labels is None else labels
            args = (self.device.xp.asarray(labels),)
        was_training = model.training
        model.eval()
        try:
            with no_grad():
                out = model(Tensor._from(noise, device=self.device), *args)
            return out.numpy()
        finally:
            model.train(was_training)

    def sample_grid_inputs(self) -> tuple[np.ndarray, np.ndarray | None, int | None]:
        """(noise, labels, images per row) of the fixed-noise grid: the fixed noise, or for a
        conditional run a run of images per class, the same noises in every class's run (so
        the same noise down a column); see :func:`class_grid_layout`."""
        if self.num_classes is None:
            return self.fixed_noise, None, None
        per_class, per_row = class_grid_layout(len(self.fixed_noise), self.num_classes)
        return (np.tile(self.fixed_noise[:per_class], (self.num_classes, 1)),
                np.repeat(np.arange(self.num_classes), per_class), per_class * per_row)

    def save_samples(self, final: bool = False) -> Path:
        """The fixed-noise grid, ``samples/step_NNNNNN.png`` (``..._ema.png`` when the EMA
        generator drew it)."""
        if self.run_dir is None:
            raise ConfigError("save_samples needs a trainer with a run_dir (or use generate() and "
                              "save_grid(to_uint8(...), path))")
        noise, labels, nrow = self.sample_grid_inputs()
        images = to_uint8(self.generate(noise, labels))
        suffix = "_ema" if self.G_ema is not None else ""
        path = save_grid(images, self.run_dir / "samples" / f"step_{self.step:06d}{suffix}.png", nrow)
        if final:
            data = path.read_bytes()
            atomic_write(self.run_dir / "samples.png", lambda f: f.write(data))
        return path

    def save_loss_curve(self) -> Path | None:
        """loss_curve.png from metrics.jsonl; silently nothing without matplotlib."""
        try:    # a Figure of its own, not pyplot: the process's (a notebook's) backend stays as it is
            from matplotlib.figure import Figure
        except ImportError:
            return None
        if self.run_dir is None:
            raise ConfigError("save_loss_curve needs a trainer with a run_dir")
        records = _read_metrics(self.run_dir / METRICS_NAME)
        if not records:
            return None
        fig = Figure(figsize=(8, 4))
        ax = fig.subplots()
        for key, label in (("loss_d", "Loss_D"), ("loss_g", "Loss_G")):  # null: a skipped step
            points = [(r["step"], math.nan if r[key] is None else r[key]) for r in records
                      if key in r]                                  # no loss_g: a D-only step
            ax.plot([p[0] for p in points], [p[1] for p in points], label=label, linewidth=0.8)
        ax.set_xlabel("step"), ax.set_ylabel("loss"), ax.legend()
        path = self.run_dir / "loss_curve.png"
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        return atomic_write(path, lambda f: f.write(buffer.getvalue()))

    def _open_metrics(self) -> Any:
        if self.run_dir is None:
            return None
        path = self.run_dir / METRICS_NAME
        # After a resume (or a kill after the last checkpoint), drop lines past the current step,
        # so the log reads as one uninterrupted run.
        cut_log_after(path, self.step)
        return open(path, "a", encoding="utf-8")

    # -- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "kind": "gan",
            "step": self.step,
            "epoch": self.loader.epoch,
            "config": self.config.to_dict(),
            "image_shape": list(self.image_shape),
            "architecture": {"generator": self.G.config(), "discriminator": self.D.config()},
            "models": {"generator": self.G.state_dict(), "discriminator": self.D.state_dict(),
                       **({"generator_ema": self.G_ema.state_dict()} if self.G_ema is not None else {})},
            "optimizers": {"generator": self.opt_g.state_dict(), "discriminator": self.opt_d.state_dict()},
            "rng": {name: g.state_json() for name, g in self.rng.items()},
            "data": self.loader.state_dict(),
            "fixed_noise": self.fixed_noise,
            "elapsed": self._time_offset + time.perf_counter() - self._t0,
            "meta": self.meta,
            # with on_nonfinite="skip": a resumed run goes on counting toward SKIP_STREAK_LIMIT
            "skips": {"total": self.skipped, "streak": self._skip_streak},
        }

    def save_checkpoint(self, path: str | os.PathLike[str] | None = None) -> Path:
        if path is None:
            if self.run_dir is None:
                raise ConfigError("save_checkpoint needs a path when the trainer has no run_dir")
            path = self.run_dir / CHECKPOINT_NAME
        # Never let non-finite weights or running statistics replace the last good checkpoint,
        # whatever put them there: a NaN gradient without the per-step check, or code outside the
        # trainer (about 1 ms for the DCGAN's 2M parameters -- nothing next to writing the file).
        ema = [("EMA generator", self.G_ema.module)] if self.G_ema is not None else []
        for network, model in (("generator", self.G), ("discriminator", self.D), *ema):
            for what, arrays in (("parameters", model.parameters()),
                                 ("batch-norm running statistics", _float_buffers(model))):
                if not _all_finite(arrays):
                    raise NonFiniteError(f"step {self.step}: the {network}'s {what} are not finite; "
                                         f"checkpoint not written, the last good checkpoint is kept")
        return save_checkpoint(path, self.state_dict())

    def load_state_dict(self, state: dict[str, Any], source: str = "checkpoint") -> None:
        """Restore models, optimizers, RNG streams, data position and step from a checkpoint.

        Every failure is a CheckpointError naming ``source`` and the bad entry (another
        architecture: the first parameter whose shape differs, with both shapes), and leaves the
        trainer exactly as it was.  The training options (loss, R1, learning rate, ...) stay this
        trainer's own ``config``: through the API a resumed run may change them on purpose
        (``state["config"]`` holds the saved ones); ``tensorgan train --resume`` refuses to.
        With ``ema_decay`` > 0, a checkpoint without an EMA generator (written before EMA existed,
        or by a run without it) starts the EMA from its G."""
        # Every check comes before anything is changed; only the restore itself can fail half-way,
        # and it rolls back.
        keys = ("image_shape", "architecture", "models", "optimizers", "rng", "data", "step")
        missing = [k for k in keys if not isinstance(state, dict) or k not in state]
        if missing:
            raise CheckpointError(f"{source} is not a GAN training checkpoint (no {missing[0]!r})")
        counts = _saved_counts(state, source)
        self._check_same_setup(counts["image_shape"], state["architecture"], state["models"], source)
        fixed = self._saved_fixed_noise(state, source)
        self._restore_or_roll_back(state["models"], state["optimizers"], state["rng"], state["data"],
                                   source)
        self.fixed_noise = fixed.astype(np.float32)
        self.step, self._time_offset, self.meta = counts["step"], counts["elapsed"], counts["meta"]
        self.skipped, self._skip_streak = counts["skipped"], counts["streak"]
        self._config_follows_optimizers()

    def _check_same_setup(self, shape: tuple[int, ...], arch: Any, models: Any, source: str) -> None:
        """The checkpoint's images and architectures are this run's (its weights would not fit)."""
        if shape != self.image_shape:
            raise CheckpointError(f"{source} was trained on images of shape {shape}, this dataset "
                                  f"has {self.image_shape}")
        for name, model in (("generator", self.G), ("discriminator", self.D)):
            theirs, mine = arch.get(name) if isinstance(arch, dict) else None, model.config()
            if not _equal(theirs, mine):
                saved = models.get(name) if isinstance(models, dict) else None
                raise CheckpointError(f"{source} holds another {name} architecture than this run "
                                      f"({_config_diff(theirs, mine)}){_first_mismatch(saved, model)}")

    def _saved_fixed_noise(self, state: dict[str, Any], source: str) -> np.ndarray:
        """The checkpoint's sample-grid noise (this run's where it has none), checked."""
        fixed = np.asarray(state.get("fixed_noise", self.fixed_noise))
        if fixed.shape != self.fixed_noise.shape or fixed.dtype.kind != "f":
            raise CheckpointError(f"{source}: fixed_noise is {fixed.dtype} {fixed.shape}, this run needs "
                                  f"float {self.fixed_noise.shape}")
        return fixed

    def _restore_or_roll_back(self, models: Any, optims: Any, rng: Any, data: Any, source: str) -> None:
        """Load the parts in turn; where one fails, put back what the earlier ones replaced."""
        backup = self.state_dict()      # the models' entries share their memory: snapshot them
        backup["models"] = {name: {k: v.clone() if isinstance(v, Tensor) else np.array(v, copy=True)
                                   for k, v in sd.items()} for name, sd in backup["models"].items()}
        try:
            self._restore(models, optims, rng, data)
        except CheckpointError as exc:
            self._restore(backup["models"], backup["optimizers"], backup["rng"], backup["data"])
            raise CheckpointError(f"{source}: {exc}") from None

    def _config_follows_optimizers(self) -> None:
        """The optimizers now run at the checkpoint's learning rates and betas (as a PyTorch
        optimizer's load_state_dict does): the config says so, so the next checkpoint agrees
        (lr when both networks share one, else lr_g / lr_d where they differ from it)."""
        group, lr_d = self.opt_g.param_groups[0], self.opt_d.param_groups[0]["lr"]
        lr = group["lr"] if group["lr"] == lr_d else self.config.lr
        self.config = dataclasses.replace(
            self.config, lr=lr, lr_g=None if group["lr"] == lr else group["lr"],
            lr_d=None if lr_d == lr else lr_d, beta1=group["betas"][0], beta2=group["betas"][1])

    def _restore(self, models: Any, optims: Any, rng: Any, data: Any) -> None:
        parts = [("models/generator", lambda: self.G.load_state_dict(models["generator"])),
                 ("models/discriminator", lambda: self.D.load_state_dict(models["discriminator"])),
                 ("optimizers/generator", lambda: self.opt_g.load_state_dict(optims["generator"])),
                 ("optimizers/discriminator", lambda: self.opt_d.load_state_dict(optims["discriminator"])),
                 *[(f"rng/{n}", lambda g=g, n=n: g.load_state_json(rng[n])) for n, g in self.rng.items()
                   if n not in OPTIONAL_STREAMS or (isinstance(rng, dict) and n in rng)],
                 ("data", lambda: self.loader.load_state_dict(data))]
        if self.G_ema is not None:            # after models/generator: a fresh EMA copies it
            parts.insert(1, ("models/generator_ema", lambda: self._restore_ema(models.get("generator_ema"))))
        for label, load in parts:
            try:
                load()
            except CheckpointError as exc:
                raise CheckpointError(f"{label}: {exc}") from None
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                raise CheckpointError(f"{label} is malformed ({type(exc).__name__}: {exc})") from None

    def _restore_ema(self, saved: Any) -> None:
        if saved is None:                # a checkpoint without one: the EMA starts from its G
            self.G_ema = self._new_ema()
        else:
            self.G_ema.load_state_dict(saved)      # type: ignore[union-attr]

    def resume(self, path: str | os.PathLike[str] | None = None) -> int:
        """Load ``path`` (default: the run directory's checkpoint); returns the step resumed at."""
        if path is None:
            if self.run_dir is None:
                raise ConfigError("resume needs a checkpoint path when the trainer has no run_dir")
            path = self.run_dir / CHECKPOINT_NAME
        self.load_state_dict(load_checkpoint(path), source=str(path))
        return self.step


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def _saved_counts(state: dict[str, Any], source: str) -> dict[str, Any]:
    """A checkpoint's image shape, step, elapsed time, meta and skip counts, parsed and checked."""
    try:
        shape, step = tuple(int(v) for v in state["image_shape"]), int(state["step"])
        elapsed, meta = float(state.get("elapsed", 0.0)), dict(state.get("meta") or {})
        skips = state.get("skips") or {}          # (absent from older checkpoints)
        skipped, streak = int(skips.get("total", 0)), int(skips.get("streak", 0))
        if min(step, skipped, streak) < 0:
            raise ValueError("a negative count")
    except (TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{source}: malformed step, image_shape, elapsed, meta or skips "
                              f"({exc})") from None
    return {"image_shape": shape, "step": step, "elapsed": elapsed, "meta": meta,
            "skipped": skipped, "streak": streak}


def dataset_num_classes(dataset: Any) -> int:
    """The class count of a labelled dataset (largest label + 1), for a conditional run."""
    labels = getattr(dataset, "labels", None)
    if labels is None:
        raise ConfigError(f"conditional training needs class labels, and the dataset "
                          f"{getattr(dataset, 'name', type(dataset).__name__)!r} has none (image "
                          f"folders are unlabelled; MNIST has labels)")
    labels = np.asarray(labels)
    if labels.size == 0 or int(labels.min()) < 0 or int(labels.max()) < 1:
        raise ConfigError(f"conditional training needs labels 0..K-1 of at least 2 classes, got "
                          f"{'none' if labels.size == 0 else f'{labels.min()}..{labels.max()}'}")
    return int(labels.max()) + 1


def _config_diff(theirs: Any, mine: dict[str, Any]) -> str:
    if not isinstance(theirs, dict):
        return f"checkpoint {theirs!r} vs {mine}"
    return ", ".join(f"{k}: {theirs.get(k)!r} in the checkpoint, {mine.get(k)!r} here"
                     for k in sorted(set(theirs) | set(mine), key=str) if not _equal(theirs.get(k), mine.get(k)))


def _equal(a: Any, b: Any) -> bool:
    try:  # a damaged checkpoint may hold arrays where numbers belong: == is then elementwise
        return bool(a == b)
    except (ValueError, TypeError):
        return False


def _first_mismatch(saved: Any, model: Any) -> str:
    """'; parameter NAME has shape A in the checkpoint but B in this model' for the first one."""
    if not isinstance(saved, dict):
        return ""
    for name, t in model.state_dict().items():
        if name not in saved:
            return f"; parameter {name!r} is missing from the checkpoint"
        if tuple(np.shape(saved[name])) != tuple(t.shape):
            return (f"; parameter {name!r} has shape {tuple(np.shape(saved[name]))} in the checkpoint "
                    f"but {tuple(t.shape)} in this model")
    return ""


def _mean_sigmoid(logits: Any, xp: Any) -> float:
    return float((1.0 / (1.0 + xp.exp(-logits.astype(xp.float64)))).mean())


def _float_buffers(model: Any) -> list[Tensor]:
    """The model's floating-point buffers (running statistics; not the integer counters)."""
    return [b for b in model.buffers() if isinstance(b, Tensor)]


def _buffer_snapshot(models: Any) -> list[tuple[Any, Any]]:
    """(buffer, copy of its values) for every buffer of the models -- a few KB for the DCGAN."""
    return [(b, (b.array if isinstance(b, Tensor) else b).copy())
            for m in models for b in m.buffers()]


def _restore_buffers(snapshot: list[tuple[Any, Any]]) -> None:
    for b, saved in snapshot:
        (b.array if isinstance(b, Tensor) else b)[...] = saved


def _all_finite(tensors: Any) -> bool:
    """Whether every value of the tensors (parameters or running statistics) is finite."""
    return _arrays_finite([t.array for t in tensors])


def _grads_finite(params: Any) -> bool:
    return _arrays_finite([p.grad.array for p in params if p.grad is not None])


def _arrays_finite(arrays: list[Any]) -> bool:
    # One reduction per array, summed on the device and read back once (one GPU sync, not one per
    # array): NaN/inf anywhere propagate into the total. The answer is whether the float64 total
    # is finite (a float64 overflow would itself mean divergence), but it is computed in the
    # arrays' own dtype first: vectorised, where a float64 sum of float32 casts element by element
    # (2x slower for the DCGAN's 2M parameters), and on a GPU with the kernels every training step
    # has compiled -- a float32 -> float64 reduction is one more CuPy compile, 13.7 s on a fresh
    # H200 machine, which the first checkpoint of every new machine paid
    # (scripts/time_first_use.py). A finite total there means no element is NaN/inf, so the
    # float64 one is finite too; only a non-finite one, which may be an overflow of finite
    # values, takes the float64 sums.
    with np.errstate(over="ignore", invalid="ignore"):   # an overflow here is an answer, not news
        if _finite_total(a.sum() for a in arrays):
            return True
        return _finite_total(a.sum(dtype=np.float64) for a in arrays)


def _finite_total(sums: Any) -> bool:
    total = None
    for s in sums:
        total = s if total is None else total + s
    return total is None or math.isfinite(float(total))


def json_line(record: dict[str, Any]) -> str:
    """One JSON-lines record, strict JSON: a NaN or infinite number (a skipped step's loss) is
    ``null``, not Python's bare ``NaN`` that jq and JavaScript refuse."""
    def strict(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: strict(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [strict(x) for x in v]
        return None if isinstance(v, float) and not math.isfinite(v) else v
    return json.dumps(strict(record), allow_nan=False) + "\n"


def cut_log_after(path: Path, step: int) -> None:
    """Rewrite a JSON-lines log (metrics.jsonl, eval.jsonl) without its records past ``step``
    (and without a line torn by a kill), atomically; nothing when there is no log yet."""
    if path.exists():
        kept = [r for r in _read_metrics(path) if r.get("step", 0) <= step]
        atomic_write(path, lambda f: f.write("".join(json_line(r) for r in kept).encode()))


def _write_metrics_line(metrics: Any, record: dict[str, Any]) -> None:
    """One step's JSON line, flushed at once (a crash keeps the steps before it); a write error
    without a file name (disk full) gets the metrics file's."""
    try:
        metrics.write(json_line(record))
        metrics.flush()
    except OSError as exc:
        if exc.filename is not None or exc.errno is None:
            raise
        raise type(exc)(exc.errno, exc.strerror, metrics.name) from exc


def _show_progress(bar: Any, record: dict[str, Any], last_loss_g: float) -> float:
    """Advance the bar by one step showing its losses; returns G's loss to show next (a D-only
    step, n_critic > 1, shows G's last)."""
    loss_g = record.get("loss_g", last_loss_g)
    bar.set_postfix_str(f"Loss_D={record['loss_d']:.3f} Loss_G={loss_g:.3f} "
                        f"D(x)={record['d_x']:.3f} D(G(z))={record['d_g_z']:.3f}", refresh=False)
    bar.update(1)
    return loss_g


def _close_log(log: Any, failed: bool) -> None:
    """Close metrics.jsonl. Closing flushes what a failed write left buffered, so on a full disk
    it fails again: that error must not replace the one already on its way out (``failed``: it
    names the file, or is another fault altogether), and on its own it names the file too.
    (``failed`` is passed, not read from sys.exc_info(): that also reports an exception a caller
    is handling around ``fit()``, and a close error would then vanish.)"""
    try:
        log.close()
    except OSError as exc:
        if failed:
            return
        if exc.filename is None and exc.errno is not None:
            raise type(exc)(exc.errno, exc.strerror, log.name) from exc
        raise


def _read_metrics(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines log up to its first damaged line (torn by a kill, or not a
    record with an integer step: bytes flipped, an edit), which ends it: what follows is suspect."""
    if not path.exists():
        return []
    records = []
    with open(path, "rb") as f:
        for line in f:
            try:
                record = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                break
            step = record.get("step") if isinstance(record, dict) else None
            if not isinstance(step, int) or isinstance(step, bool):
                break
            records.append(record)
    return records


def _progress_bar(total: int, initial: int) -> Any:
    from tqdm import tqdm
    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True, mininterval=0.5)


def _check_batch_for_batch_norm(batch_size: int, networks: dict[str, Any]) -> None:
    """A BatchNorm1d in training mode needs two values per channel, so a batch of one image would
    fail at the first step -- as an error of an internal op, after the run directory was made."""
    from .nn import BatchNorm1d
    if batch_size >= 2:
        return
    for name, net in networks.items():
        if any(isinstance(m, BatchNorm1d) for m in net.modules()):
            raise ConfigError(f"batch_size {batch_size}: the {name}'s BatchNorm1d needs at least 2 "
                              f"images per batch to compute batch statistics")


def _remove_stale_temps(run_dir: Path) -> None:
    """Delete the temp files that a kill in the middle of an atomic checkpoint write left (one per
    SIGKILL, each as large as a checkpoint): they are never loaded, and piled up they would eat
    the free space measured next.  Only a dead writer's: the pid in the name (fileio.atomic_write)
    is not a live process -- another process writing a checkpoint into the same directory right
    now keeps its temp file, so its rename does not fail."""
    for stale in run_dir.glob(f".{CHECKPOINT_NAME}.*.tmp"):
        if _writer_alive(stale):
            continue
        try:
            stale.unlink()
        except OSError:
            pass


def _writer_alive(temp: Path) -> bool:
    """Whether the process that named a temp file ``.<checkpoint>.<pid>-<random>.tmp`` still runs
    (False for a name without a pid: written before pids were recorded)."""
    pid, dash, _ = temp.name[len(CHECKPOINT_NAME) + 2:].partition("-")
    if not dash or not pid.isdigit():
        return False
    if os.name == "nt":         # (no signal-0 probe there: treat it as live for an hour)
        try:
            return time.time() - temp.stat().st_mtime < 3600
        except OSError:
            return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:             # (PermissionError: alive, another user's)
        return True
    return True


def check_run_dir(run_dir: Path, needed_bytes: int = 0) -> None:
    """Fail before training when the run directory cannot be created or written, or lacks space
    -- leaving behind no directory that this call created."""
    created = [d for d in (run_dir, *run_dir.parents) if not d.exists()]
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=run_dir, prefix=".write-test.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
        _remove_stale_temps(run_dir)
        free = shutil.disk_usage(run_dir).free
        if needed_bytes and free < 2 * needed_bytes:  # room for the checkpoint and its temp twin
            raise ConfigError(f"run directory {run_dir} has {free / 2**20:.1f} MiB free; "
                              f"checkpoints need about {2 * needed_bytes / 2**20:.1f} MiB")
        (run_dir / "samples").mkdir(exist_ok=True)
    except (OSError, ConfigError) as exc:
        for d in created:                  # innermost first; rmdir leaves any non-empty one
            try:
                d.rmdir()
            except OSError:
                break
        if isinstance(exc, ConfigError):
            raise
        where = (f" ({exc.filename})" if exc.filename and Path(exc.filename) != run_dir
                 and not Path(exc.filename).name.startswith(".write-test.") else "")
        raise ConfigError(f"run directory {run_dir} is not writable: {exc.strerror or exc}{where}") from None
