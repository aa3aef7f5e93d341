"""DCGAN generator and discriminators, with every layer size derived from the image shape.

The spatial plan: halve the image side while it stays even and at least 4, giving ``n`` stride-2
stages and a start size ``s = side / 2**n`` (28 -> 14 -> 7: n=2, s=7; 64 -> ... -> 4: n=4, s=4).
Channels double per stage away from the image, with ``base_channels`` (64) next to it.

Generator heads:

* ``"conv"`` (default for 1-channel images): n transposed convolutions end at ``base_channels``,
  then a 3x3 convolution makes the image. For (1, 28, 28) this is exactly::

      z(100) -> Linear(100, 7*7*256, bias=False) -> BatchNorm1d -> LeakyReLU(0.2) -> Unflatten(256, 7, 7)
      -> ConvTranspose2d(256, 128, 4, 2, 1) -> BatchNorm2d -> LeakyReLU(0.2)
      -> ConvTranspose2d(128, 64, 4, 2, 1) -> BatchNorm2d -> LeakyReLU(0.2)
      -> Conv2d(64, 1, 3, 1, 1) -> Tanh

* ``"conv_transpose"`` (default for colour images): the last transposed convolution makes the image,
  as in the DCGAN paper; for (3, 64, 64): Linear -> 4*4*512 -> 256 -> 128 -> 64 -> 3 channels at 64x64.

The discriminator mirrors it: n stride-2 4x4 convolutions from ``base_channels`` up (BatchNorm on all
but the first), Flatten, Linear to one logit. For (1, 28, 28): Conv2d(1, 64, 4, 2, 1) -> LeakyReLU(0.2)
-> Conv2d(64, 128, 4, 2, 1) -> BatchNorm2d -> LeakyReLU(0.2) -> Flatten -> Linear(6272, 1).
``norm="layer"`` puts GroupNorm(1, C) (layer normalization over C x H x W, a per-channel scale and
shift) where the BatchNorms were, ``norm="none"`` nothing: a WGAN-GP critic's choices, since a
gradient penalty per sample is not defined through a batch statistic (Gulrajani et al. 2017).
``norm="spectral"`` (SN-GAN, Miyato et al. 2018): no normalization layers, every conv / linear
weight divided by its largest singular value (``nn.utils.parametrizations.spectral_norm``; state
dict keys ``0.parametrizations.weight.original`` / ``..._u`` / ``..._v``).

Class-conditional (``num_classes=K``, the classic cGAN of Mirza & Osindero 2014): the generator
concatenates a learned K-dimensional label embedding to z (``G(z, labels)``), the discriminator
K one-hot label maps to the image channels (``D(x, labels)``).

Initialization (DCGAN paper): conv/linear weights N(0, 0.02), BatchNorm weights N(1, 0.02), biases 0.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError, ShapeError
from ..random import Generator as RandomGenerator
from ..random import resolve
from .. import nn
from ..factory import concat
from ..tensor import Tensor

__all__ = ["Generator", "Discriminator", "MLPDiscriminator", "build_models", "models_from_config",
           "spatial_plan", "dcgan_init_", "D_NORMS", "state_numel"]

SLOPE = 0.2
D_NORMS = ("batch", "layer", "none", "spectral")


def _image_shape(image_shape: Any) -> tuple[int, int, int]:
    try:
        c, h, w = (int(v) for v in image_shape)
    except (TypeError, ValueError):
        raise ShapeError(f"image_shape must be (channels, height, width), got {image_shape!r}") from None
    if min(c, h, w) < 1:
        raise ShapeError(f"image_shape must be positive, got {image_shape!r}")
    return c, h, w


def spatial_plan(image_shape: Any) -> tuple[int, int, int]:
    """``(n_stages, start_height, start_width)`` for an image shape (see the module docstring)."""
    _, h, w = _image_shape(image_shape)
    n = 0
    while h % 2 == 0 and w % 2 == 0 and h // 2 >= 4 and w // 2 >= 4:
        h, w, n = h // 2, w // 2, n + 1
    if n == 0:
        raise ShapeError(f"image size {image_shape[1]}x{image_shape[2]} cannot be built by stride-2 "
                         f"stages: height and width must be even and at least 8")
    return n, h, w


def dcgan_init_(module: nn.Module, generator: RandomGenerator | None = None) -> nn.Module:
    """DCGAN initialization, in place: N(0, 0.02) weights, N(1, 0.02) BatchNorm weights, zero biases."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02, generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02, generator)
            nn.init.zeros_(m.bias)
    return module


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _num_classes(value: Any) -> int | None:
    """None (unconditional) or a class count >= 2."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
        raise ConfigError(f"num_classes must be None (unconditional) or an integer >= 2, got {value!r}")
    return int(value)


def _label_array(labels: Any, num_classes: int | None, batch: int, owner: str, xp: Any) -> Any:
    """The integer class labels of a batch, on ``xp``, checked against ``num_classes``."""
    if num_classes is None:
        if labels is not None:
            raise ConfigError(f"{owner} is unconditional (num_classes=None) but was given labels")
        return None
    if labels is None:
        raise ConfigError(f"{owner} is class-conditional ({num_classes} classes): call it with "
                          f"labels, {owner[0]}(input, labels)")
    array = labels.array if isinstance(labels, Tensor) else xp.asarray(labels)
    if array.dtype.kind not in "iu" or array.shape != (batch,):
        raise ShapeError(f"{owner}: labels must be {batch} integers (one per input), got "
                         f"{array.dtype} {tuple(array.shape)}")
    if batch and (int(array.min()) < 0 or int(array.max()) >= num_classes):
        raise ConfigError(f"{owner}: labels must be in [0, {num_classes}), got values from "
                          f"{int(array.min())} to {int(array.max())}")
    return array


class Generator(nn.Sequential):
    """z ``(N, latent_dim)`` -> images ``(N, C, H, W)`` in [-1, 1]; with ``num_classes``,
    ``G(z, labels)`` (labels: ``(N,)`` integers) conditions on the class."""

    def __init__(self, image_shape: Any = (1, 28, 28), latent_dim: int = 100, base_channels: int = 64,
                 head: str | None = None, generator: RandomGenerator | None = None,
                 num_classes: int | None = None):
        c, h, w = _image_shape(image_shape)
        latent_dim, base = _positive("latent_dim", latent_dim), _positive("base_channels", base_channels)
        num_classes = _num_classes(num_classes)
        inputs = latent_dim + (num_classes or 0)     # z, then the label embedding
        head = head or ("conv" if c == 1 else "conv_transpose")
        if head not in ("conv", "conv_transpose"):
            raise ConfigError(f"generator head must be 'conv' or 'conv_transpose', got {head!r}")
        n, h0, w0 = spatial_plan((c, h, w))
        # Channels after each stage, image side last; the first entry feeds the first stage.
        if head == "conv":
            chans = [base * 2 ** (n - i) for i in range(n + 1)]          # 256, 128, 64
        else:
            chans = [base * 2 ** (n - 1 - i) for i in range(n)] + [c]    # 512, 256, 128, 64, 3
        layers: list[nn.Module] = [nn.Linear(inputs, chans[0] * h0 * w0, bias=False),
                                   nn.BatchNorm1d(chans[0] * h0 * w0), nn.LeakyReLU(SLOPE),
                                   nn.Unflatten(1, (chans[0], h0, w0))]
        for i in range(n):
            layers.append(nn.ConvTranspose2d(chans[i], chans[i + 1], 4, 2, 1))
            if head == "conv" or i < n - 1:
                layers += [nn.BatchNorm2d(chans[i + 1]), nn.LeakyReLU(SLOPE)]
        if head == "conv":
            layers.append(nn.Conv2d(base, c, 3, 1, 1))
        layers.append(nn.Tanh())
        super().__init__(*layers)
        self.image_shape, self.latent_dim, self.base_channels, self.head = (c, h, w), latent_dim, base, head
        self.num_classes = num_classes
        if num_classes is not None:       # not one of the Sequential's layers (see _sync)
            self.label_embedding = nn.Embedding(num_classes, num_classes)
        dcgan_init_(self, generator)
        if num_classes is not None:
            nn.init.normal_(self.label_embedding.weight, 0.0, 1.0, generator)

    def _sync(self) -> None:
        # The label embedding feeds the first layer from forward(); the layers run in order.
        object.__setattr__(self, "_layers", tuple(m for k, m in self._modules.items()
                                                  if m is not None and k != "label_embedding"))

    def forward(self, z: Tensor, labels: Any = None) -> Tensor:  # type: ignore[override]
        if self.num_classes is not None or labels is not None:
            y = _label_array(labels, self.num_classes, z.shape[0], "Generator", z.device.xp)
            z = concat([z, self.label_embedding(Tensor._make(y.astype("int64", copy=False), z.device))], 1)
        return super().forward(z)

    def config(self) -> dict[str, Any]:
        config = {"type": "Generator", "image_shape": list(self.image_shape), "latent_dim": self.latent_dim,
                  "base_channels": self.base_channels, "head": self.head}
        if self.num_classes is not None:      # (unconditional configs stay as they were)
            config["num_classes"] = self.num_classes
        return config


class _ImageInput:
    """Discriminators check the image shape up front, so a wrong one is named as such (not as a
    feature-count mismatch deep inside)."""

    image_shape: tuple[int, int, int]
    num_classes: int | None = None

    def forward(self, x: Any, labels: Any = None) -> Any:
        if isinstance(x, Tensor) and (x.ndim != 4 or tuple(x.shape[1:]) != self.image_shape):
            raise ShapeError(f"{type(self).__name__} for images {self.image_shape}: expected input of "
                             f"shape (N, {', '.join(map(str, self.image_shape))}), got {x.shape}")
        if self.num_classes is not None or labels is not None:
            x = concat([x, self._label_maps(x, labels)], 1)
        return super().forward(x)  # type: ignore[misc]

    def _label_maps(self, x: Tensor, labels: Any) -> Tensor:
        """The labels as ``num_classes`` one-hot maps of the image's size (the classic cGAN
        discriminator's input channels); constants, so no gradient flows to them."""
        xp = x.device.xp
        y = _label_array(labels, self.num_classes, x.shape[0], type(self).__name__, xp)
        one_hot = xp.eye(self.num_classes, dtype=x.array.dtype)[y]
        maps = xp.broadcast_to(one_hot[:, :, None, None], (x.shape[0], self.num_classes, *x.shape[2:]))
        return Tensor._make(xp.ascontiguousarray(maps), x.device)


class Discriminator(_ImageInput, nn.Sequential):
    """Images ``(N, C, H, W)`` -> one logit per image ``(N, 1)``; with ``num_classes``,
    ``D(x, labels)`` scores the image as one of that class."""

    def __init__(self, image_shape: Any = (1, 28, 28), base_channels: int = 64,
                 generator: RandomGenerator | None = None, norm: str = "batch",
                 num_classes: int | None = None):
        c, h, w = _image_shape(image_shape)
        base = _positive("base_channels", base_channels)
        num_classes = _num_classes(num_classes)
        if norm not in D_NORMS:
            raise ConfigError(f"discriminator norm must be one of {D_NORMS}, got {norm!r}")
        n, h0, w0 = spatial_plan((c, h, w))
        layers: list[nn.Module] = []
        in_ch = c + (num_classes or 0)      # the image, then the one-hot label maps
        for i in range(n):
            out_ch = base * 2 ** i
            layers.append(nn.Conv2d(in_ch, out_ch, 4, 2, 1))
            if i > 0 and norm in ("batch", "layer"):
                layers.append(nn.BatchNorm2d(out_ch) if norm == "batch" else nn.GroupNorm(1, out_ch))
            layers.append(nn.LeakyReLU(SLOPE))
            in_ch = out_ch
        layers += [nn.Flatten(), nn.Linear(in_ch * h0 * w0, 1)]
        super().__init__(*layers)
        self.image_shape, self.base_channels, self.norm = (c, h, w), base, norm
        self.num_classes = num_classes
        dcgan_init_(self, generator)
        if norm == "spectral":
            _spectral_normalize(self, generator)

    def config(self) -> dict[str, Any]:
        config = {"type": "Discriminator", "image_shape": list(self.image_shape),
                  "base_channels": self.base_channels}
        if self.norm != "batch":          # (checkpoints from before the option compare equal)
            config["norm"] = self.norm
        if self.num_classes is not None:
            config["num_classes"] = self.num_classes
        return config


def _spectral_normalize(module: nn.Module, generator: RandomGenerator | None) -> None:
    """SN-GAN: every conv / linear weight of ``module`` becomes ``W / sigma(W)`` (torch's
    parametrization).  The power iteration's start vectors are drawn from ``generator``, so the
    seed fixes them, and the global generator is left as it was."""
    from ..nn.utils.parametrizations import spectral_norm
    from ..random import default_generator
    rng, saved = resolve(generator), default_generator.state_dict_form()
    try:
        for m in list(module.modules()):
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                spectral_norm(m)
                sn = m.parametrizations.weight[0]
                for buffer in (sn._u, sn._v):
                    v = rng.normal(tuple(buffer.shape), dtype=np.float64)
                    buffer.array[...] = buffer.device.xp.asarray(v / max(np.linalg.norm(v), 1e-12))
                sn._power_method(m.parametrizations.weight.original, 15)
    finally:
        default_generator.set_state(saved)


class MLPDiscriminator(_ImageInput, nn.Sequential):
    """Flatten -> Linear(CHW, 512) -> LeakyReLU -> Dropout -> Linear(512, 256) -> LeakyReLU -> Dropout
    -> Linear(256, 1). ``dropout_generator`` draws the masks (the trainer saves its state)."""

    def __init__(self, image_shape: Any = (1, 28, 28), hidden: tuple[int, ...] = (512, 256),
                 dropout: float = 0.3, generator: RandomGenerator | None = None,
                 dropout_generator: RandomGenerator | None = None):
        c, h, w = _image_shape(image_shape)
        hidden = tuple(_positive("hidden size", k) for k in hidden)
        layers: list[nn.Module] = [nn.Flatten()]
        width = c * h * w
        for k in hidden:
            layers += [nn.Linear(width, k), nn.LeakyReLU(SLOPE), nn.Dropout(dropout, dropout_generator)]
            width = k
        layers.append(nn.Linear(width, 1))
        super().__init__(*layers)
        self.image_shape, self.hidden, self.dropout = (c, h, w), hidden, float(dropout)
        dcgan_init_(self, generator)

    def config(self) -> dict[str, Any]:
        return {"type": "MLPDiscriminator", "image_shape": list(self.image_shape),
                "hidden": list(self.hidden), "dropout": self.dropout}


def build_models(image_shape: Any = (1, 28, 28), latent_dim: int = 100, base_channels: int = 64,
                 discriminator: str = "conv", head: str | None = None, dropout: float = 0.3,
                 generator: RandomGenerator | None = None, seed: int | None = None,
                 dropout_generator: RandomGenerator | None = None,
                 device: Any = None, d_norm: str = "batch",
                 num_classes: int | None = None) -> tuple[Generator, nn.Module]:
    """The generator and discriminator for ``image_shape`` (``discriminator``: ``"conv"`` or ``"mlp"``;
    ``d_norm``: the conv discriminator's normalization; ``num_classes``: class-conditional, conv
    discriminator only), initialized from ``generator`` (or ``seed``) and moved to ``device``."""
    rng = resolve(generator, seed)
    if num_classes is not None and discriminator != "conv":
        raise ConfigError(f"a class-conditional pair needs the conv discriminator (one-hot label "
                          f"maps beside the image), not {discriminator!r}")
    g = Generator(image_shape, latent_dim, base_channels, head, generator=rng, num_classes=num_classes)
    if discriminator == "conv":
        d: nn.Module = Discriminator(image_shape, base_channels, generator=rng, norm=d_norm,
                                     num_classes=num_classes)
    elif discriminator == "mlp":
        d = MLPDiscriminator(image_shape, dropout=dropout, generator=rng,
                             dropout_generator=dropout_generator)
    else:
        raise ConfigError(f"discriminator must be 'conv' or 'mlp', got {discriminator!r}")
    if device is not None:
        g.to(device), d.to(device)
    return g, d


def state_numel(config: dict[str, Any]) -> int:
    """Numbers in the state dict of the model a ``config()`` dict describes, counted without building
    it, so a damaged checkpoint (``base_channels`` 10**6) is refused before hundreds of GB are
    allocated. tests/test_models.py pins it to the built models' state dicts."""
    c, h, w = _image_shape(config["image_shape"])
    linear = lambda n_in, n_out, bias=True: n_in * n_out + (n_out if bias else 0)   # noqa: E731
    conv = lambda n_in, n_out, k: n_in * n_out * k * k + n_out                      # noqa: E731
    batch_norm = lambda n: 4 * n + 1    # weight, bias, running mean and var, num_batches_tracked
    kind = config["type"]
    if kind == "MLPDiscriminator":
        widths = [c * h * w] + [_positive("hidden size", k) for k in config["hidden"]] + [1]
        return sum(linear(a, b) for a, b in zip(widths, widths[1:]))
    base = _positive("base_channels", config["base_channels"])
    n, h0, w0 = spatial_plan((c, h, w))
    classes = _num_classes(config.get("num_classes"))
    if kind == "Discriminator":
        norms = {"batch": batch_norm, "layer": lambda k: 2 * k, "none": lambda k: 0,
                 "spectral": lambda k: 0}
        if config.get("norm", "batch") not in norms:
            raise ConfigError(f"discriminator norm must be one of {D_NORMS}, got {config['norm']!r}")
        norm = norms[config.get("norm", "batch")]
        chans = [c + (classes or 0)] + [base * 2 ** i for i in range(n)]
        # spectral norm: each weight's power-iteration vectors u (its rows) and v (the rest)
        sn = (lambda rows, cols: rows + cols) if config.get("norm") == "spectral" else (lambda r, c: 0)
        return (sum(conv(chans[i], chans[i + 1], 4) + sn(chans[i + 1], chans[i] * 16) for i in range(n))
                + sum(norm(k) for k in chans[2:]) + linear(chans[-1] * h0 * w0, 1)
                + sn(1, chans[-1] * h0 * w0))
    if kind != "Generator":
        raise ConfigError(f"unknown model type {kind!r}")
    latent = _positive("latent_dim", config["latent_dim"])
    head = config["head"] or ("conv" if c == 1 else "conv_transpose")
    if head not in ("conv", "conv_transpose"):
        raise ConfigError(f"generator head must be 'conv' or 'conv_transpose', got {head!r}")
    chans = ([base * 2 ** (n - i) for i in range(n + 1)] if head == "conv"
             else [base * 2 ** (n - 1 - i) for i in range(n)] + [c])
    normed = chans[1:] if head == "conv" else chans[1:-1]
    total = (linear(latent + (classes or 0), chans[0] * h0 * w0, bias=False) + (classes or 0) ** 2
             + batch_norm(chans[0] * h0 * w0)
             + sum(conv(chans[i], chans[i + 1], 4) for i in range(n)) + sum(batch_norm(k) for k in normed))
    return total + (conv(base, c, 3) if head == "conv" else 0)


def models_from_config(g_config: dict[str, Any], d_config: dict[str, Any],
                       dropout_generator: RandomGenerator | None = None,
                       device: Any = None) -> tuple[Generator, nn.Module]:
    """Rebuild the pair from their ``config()`` dicts (as stored in a checkpoint)."""
    try:
        init_rng = RandomGenerator(0)  # weights are about to be overwritten: leave global RNG alone
        g = Generator(g_config["image_shape"], g_config["latent_dim"], g_config["base_channels"],
                      g_config["head"], generator=init_rng, num_classes=g_config.get("num_classes"))
        kind = d_config["type"]
        if kind == "Discriminator":
            d: nn.Module = Discriminator(d_config["image_shape"], d_config["base_channels"],
                                         generator=init_rng, norm=d_config.get("norm", "batch"),
                                         num_classes=d_config.get("num_classes"))
        elif kind == "MLPDiscriminator":
            d = MLPDiscriminator(d_config["image_shape"], tuple(d_config["hidden"]), d_config["dropout"],
                                 generator=init_rng, dropout_generator=dropout_generator)
        else:
            raise ConfigError(f"unknown discriminator type {kind!r}")
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"model configuration is incomplete or malformed ({exc!r})") from None
    if device is not None:
        g.to(device), d.to(device)
    return g, d
