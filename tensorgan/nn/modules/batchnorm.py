"""``torch.nn.modules.batchnorm``: the batch norms and their base ``_BatchNorm`` -- tensorgan.nn's
classes under torch's module path."""
from ..layers import _BatchNorm  # noqa: F401
from .. import (  # noqa: F401
    BatchNorm1d, BatchNorm2d, BatchNorm3d, LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d,
    SyncBatchNorm)

__all__ = ['BatchNorm1d', 'BatchNorm2d', 'BatchNorm3d', 'LazyBatchNorm1d', 'LazyBatchNorm2d',
           'LazyBatchNorm3d', 'SyncBatchNorm']
