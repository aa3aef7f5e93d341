"""``torch.nn.modules.instancenorm``: the instance norms and their base ``_InstanceNorm`` --
tensorgan.nn's classes under torch's module path."""
from ..layers import _InstanceNorm  # noqa: F401
from .. import (  # noqa: F401
    InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LazyInstanceNorm1d, LazyInstanceNorm2d,
    LazyInstanceNorm3d)

__all__ = ['InstanceNorm1d', 'InstanceNorm2d', 'InstanceNorm3d', 'LazyInstanceNorm1d',
           'LazyInstanceNorm2d', 'LazyInstanceNorm3d']
