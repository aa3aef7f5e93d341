"""``torch.nn.modules``: where torch code imports the layer classes from by their module path
(``from torch.nn.modules.module import Module``, ``torch.nn.modules.loss._Loss``,
``torch.nn.modules.utils._pair``, ``torch.nn.modules.batchnorm._BatchNorm``,
``torch.nn.modules.conv._ConvNd``, ``torch.nn.modules.instancenorm._InstanceNorm``, one submodule
per torch file: activation, batchnorm, container, conv, ...). The classes are tensorgan.nn's own;
this package only gives them torch's import paths."""
from __future__ import annotations

from .. import __all__ as _nn_all
from .. import *  # noqa: F401,F403  (every nn layer, as torch.nn.modules exports them)
from . import (activation, batchnorm, container, conv, distance, dropout, flatten, fold,  # noqa: F401
               instancenorm, lazy, linear, loss, module, normalization, padding, pixelshuffle,
               pooling, rnn, sparse, transformer, upsampling, utils)

__all__ = [n for n in _nn_all if n not in ("functional", "init", "parallel", "parameter", "utils")]
