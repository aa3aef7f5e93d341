"""``torch.nn.modules.batchnorm``: the batch normalization layers by their torch module path (with
``_NormBase`` -- the base of the batch and instance norms -- and ``_BatchNorm`` for isinstance
checks)."""
from __future__ import annotations

from .. import (  # noqa: F401
    BatchNorm1d, BatchNorm2d, BatchNorm3d, SyncBatchNorm, LazyBatchNorm1d, LazyBatchNorm2d,
    LazyBatchNorm3d)
from ..layers import _BatchNorm, _NormBase  # noqa: F401
from ..lazy import _LazyNormMixin as _LazyNormBase  # noqa: F401  (torch's name)

__all__ = ['_NormBase', '_LazyNormBase', '_BatchNorm', 'BatchNorm1d', 'BatchNorm2d', 'BatchNorm3d',
           'SyncBatchNorm', 'LazyBatchNorm1d', 'LazyBatchNorm2d', 'LazyBatchNorm3d']
