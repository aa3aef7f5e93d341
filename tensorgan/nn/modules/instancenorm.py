"""``torch.nn.modules.instancenorm``: the instance normalization layers by their torch module path
(with ``_InstanceNorm`` for isinstance checks)."""
from __future__ import annotations

from .. import (  # noqa: F401
    InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LazyInstanceNorm1d, LazyInstanceNorm2d,
    LazyInstanceNorm3d)
from ..layers import _InstanceNorm, _NormBase  # noqa: F401
from ..lazy import _LazyNormMixin as _LazyNormBase  # noqa: F401  (torch's name)

__all__ = ['_NormBase', '_LazyNormBase', '_InstanceNorm', 'InstanceNorm1d', 'InstanceNorm2d',
           'InstanceNorm3d', 'LazyInstanceNorm1d', 'LazyInstanceNorm2d', 'LazyInstanceNorm3d']
