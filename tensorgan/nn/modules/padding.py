"""``torch.nn.modules.padding``: the padding layers by their torch module path, with torch's private
bases for isinstance checks: each is the tensorgan class every one of its kind derives from
(``_ReflectionPadNd`` = ``ReflectionPad2d``, ``_ReplicationPadNd`` = ``ReplicationPad2d``,
``_CircularPadNd`` = ``CircularPad2d``)."""
from __future__ import annotations

from .. import (  # noqa: F401
    CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
    ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
    ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d)

_ReflectionPadNd = ReflectionPad2d
_ReplicationPadNd = ReplicationPad2d
_CircularPadNd = CircularPad2d

__all__ = ['CircularPad1d', 'CircularPad2d', 'CircularPad3d', 'ConstantPad1d', 'ConstantPad2d',
           'ConstantPad3d', 'ReflectionPad1d', 'ReflectionPad2d', 'ReflectionPad3d',
           'ReplicationPad1d', 'ReplicationPad2d', 'ReplicationPad3d', 'ZeroPad1d', 'ZeroPad2d',
           'ZeroPad3d', '_ReflectionPadNd', '_ReplicationPadNd', '_CircularPadNd']
