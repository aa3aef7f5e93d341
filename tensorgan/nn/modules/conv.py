"""``torch.nn.modules.conv``: the convolution layers by their torch module path (with ``_ConvNd``,
``_ConvTransposeNd`` for isinstance checks: ``_ConvTransposeNd`` is tensorgan's ``_ConvTranspose``,
the base of every one of them)."""
from __future__ import annotations

from .. import (  # noqa: F401
    Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, LazyConv1d,
    LazyConv2d, LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d)
from ..layers import _ConvNd  # noqa: F401
from ..layers import _ConvTranspose  # noqa: F401
_ConvTransposeNd = _ConvTranspose

__all__ = ['_ConvNd', 'Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d',
           'ConvTranspose3d', 'LazyConv1d', 'LazyConv2d', 'LazyConv3d', 'LazyConvTranspose1d',
           'LazyConvTranspose2d', 'LazyConvTranspose3d', '_ConvTransposeNd']
