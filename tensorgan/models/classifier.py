"""The MNIST classifier that ``tensorgan.metrics`` uses the way FID uses Inception.

A small CNN built from ``tensorgan.nn`` and trained with tensorgan itself
(``scripts/train_classifier.py``); its weights ship in ``tensorgan/assets/mnist_classifier.npz``.

    (N, 1, 28, 28) in [-1, 1]
    Conv2d(1, 16, 3, pad 1)  -> LeakyReLU(0.1) -> MaxPool 2   (16, 14, 14)
    Conv2d(16, 32, 3, pad 1) -> LeakyReLU(0.1) -> MaxPool 2   (32, 7, 7)
    Conv2d(32, 64, 3, pad 1) -> LeakyReLU(0.1) -> MaxPool 2   (64, 3, 3)
    Flatten -> Linear(576, 128) -> LeakyReLU(0.1)             the 128-d feature layer
    Linear(128, 10)                                           logits

98,442 parameters (0.39 MB in float32); ``CHANNELS`` below.
"""
from __future__ import annotations

from typing import Any

from .. import functional as F
from .. import nn
from ..errors import ConfigError
from ..tensor import Tensor

__all__ = ["MnistClassifier", "MaxPool2d", "FEATURE_DIM", "NUM_CLASSES"]

FEATURE_DIM = 128
CHANNELS = (16, 32, 64)
NUM_CLASSES = 10


class MaxPool2d(nn.Module):
    """Max over non-overlapping ``kernel_size`` windows (stride = kernel_size)."""

    def __init__(self, kernel_size: int = 2):
        super().__init__()
        self.kernel_size = kernel_size

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}"


class MnistClassifier(nn.Module):
    """CNN over ``(N, 1, 28, 28)`` images scaled to [-1, 1]; ``features(x)`` gives the 128-d
    penultimate activations, ``forward(x)`` the 10 class logits."""

    def __init__(self, channels: tuple = CHANNELS, feature_dim: int = FEATURE_DIM,
                 negative_slope: float = 0.1, *, generator: Any = None, device: Any = None,
                 dtype: Any = None):
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if len(channels) != 3 or min(channels) < 1 or feature_dim < 1:
            raise ConfigError(f"MnistClassifier: need three positive channel counts and "
                              f"feature_dim >= 1, got {channels}, {feature_dim}")
        kw = dict(generator=generator, device=device, dtype=dtype)
        c1, c2, c3 = channels
        self.body = nn.Sequential(
            nn.Conv2d(1, c1, 3, 1, 1, **kw), nn.LeakyReLU(negative_slope), MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, 1, 1, **kw), nn.LeakyReLU(negative_slope), MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, 1, 1, **kw), nn.LeakyReLU(negative_slope), MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(c3 * 3 * 3, feature_dim, **kw), nn.LeakyReLU(negative_slope),
        )
        self.head = nn.Linear(feature_dim, NUM_CLASSES, **kw)
        self.config = {"channels": list(channels), "feature_dim": feature_dim,
                       "negative_slope": negative_slope}

    def features(self, x: Tensor) -> Tensor:
        """The ``(N, feature_dim)`` activations the Fréchet distance is computed on."""
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())


# ---------------------------------------------------------------------------------------------
# Weights file: a plain .npz (no pickle) with the architecture as JSON beside the arrays
# ---------------------------------------------------------------------------------------------
WEIGHTS_FORMAT_VERSION = 1
_PARAM_PREFIX = "param/"


def save_classifier(path, model: MnistClassifier, **meta: Any) -> None:
    """Write ``model``'s weights and config (plus JSON-able ``meta``) to ``path`` (.npz), atomically."""
    import json

    import numpy as np

    from ..fileio import atomic_write

    arrays = {_PARAM_PREFIX + k: v.numpy().astype(np.float32) for k, v in model.state_dict().items()}
    arrays["format_version"] = np.array(WEIGHTS_FORMAT_VERSION, dtype=np.int64)
    arrays["config_json"] = np.array(json.dumps(model.config))
    arrays["meta_json"] = np.array(json.dumps(meta))
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load_classifier(source, device: Any = None) -> tuple[MnistClassifier, dict]:
    """Build a classifier from a weights ``.npz`` (a path or a binary file object).

    Returns ``(model in eval mode, meta dict)``; raises CheckpointError when the file is not one."""
    import json
    import zipfile

    import numpy as np

    from ..errors import CheckpointError

    name = getattr(source, "name", source)
    try:
        with np.load(source, allow_pickle=False) as npz:
            files = dict(npz.items())
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{name}: not a readable classifier weights .npz ({exc})") from exc
    try:
        version = int(files["format_version"])
        config = json.loads(str(files["config_json"]))
        meta = json.loads(str(files["meta_json"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{name}: classifier weights lack their format version/config "
                              f"({exc!r})") from exc
    if version != WEIGHTS_FORMAT_VERSION:
        raise CheckpointError(f"{name}: classifier weights format {version}, this tensorgan reads "
                              f"{WEIGHTS_FORMAT_VERSION}")
    try:
        model = MnistClassifier(tuple(config["channels"]), int(config["feature_dim"]),
                                float(config["negative_slope"]), device=device)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{name}: bad classifier config {config!r} ({exc})") from exc
    state = {k[len(_PARAM_PREFIX):]: v for k, v in files.items() if k.startswith(_PARAM_PREFIX)}
    model.load_state_dict(state)
    model.eval()
    return model, meta
