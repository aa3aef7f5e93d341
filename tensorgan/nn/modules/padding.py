"""``torch.nn.modules.padding``: the padding layers by their torch module path, with torch's private
bases for isinstance checks, in torch's hierarchy (``_ConstantPadNd`` <- ``ConstantPad1d / 2d / 3d``
<- ``ZeroPad1d / 2d / 3d``; ``_ReflectionPadNd``, ``_ReplicationPadNd``, ``_CircularPadNd`` the
bases of their three layers)."""
from __future__ import annotations

from .. import (  # noqa: F401
    CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
    ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
    ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d)

from ..layers import (  # noqa: F401
    _CircularPadNd, _ConstantPadNd, _ReflectionPadNd, _ReplicationPadNd)

__all__ = ['CircularPad1d', 'CircularPad2d', 'CircularPad3d', 'ConstantPad1d', 'ConstantPad2d',
           'ConstantPad3d', 'ReflectionPad1d', 'ReflectionPad2d', 'ReflectionPad3d',
           'ReplicationPad1d', 'ReplicationPad2d', 'ReplicationPad3d', 'ZeroPad1d', 'ZeroPad2d',
           'ZeroPad3d', '_ConstantPadNd', '_ReflectionPadNd', '_ReplicationPadNd', '_CircularPadNd']
