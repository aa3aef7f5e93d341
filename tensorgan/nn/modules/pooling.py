"""``torch.nn.modules.pooling``: the pooling layers by their torch module path, with torch's private
bases for isinstance checks: each is the tensorgan class every one of its kind derives from
(``_MaxPoolNd`` = ``MaxPool2d``, ``_AvgPoolNd`` = ``AvgPool2d``, ``_AdaptiveAvgPoolNd`` =
``AdaptiveAvgPool2d``, ``_AdaptiveMaxPoolNd`` = ``AdaptiveMaxPool2d``, ``_LPPoolNd`` = ``LPPool1d``,
``_MaxUnpoolNd`` = ``MaxUnpool2d``)."""
from __future__ import annotations

from .. import (  # noqa: F401
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d,
    AdaptiveMaxPool2d, AdaptiveMaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d, FractionalMaxPool2d,
    FractionalMaxPool3d, LPPool1d, LPPool2d, LPPool3d, MaxPool1d, MaxPool2d, MaxPool3d,
    MaxUnpool1d, MaxUnpool2d, MaxUnpool3d)

_MaxPoolNd = MaxPool2d
_AvgPoolNd = AvgPool2d
_AdaptiveAvgPoolNd = AdaptiveAvgPool2d
_AdaptiveMaxPoolNd = AdaptiveMaxPool2d
_LPPoolNd = LPPool1d
_MaxUnpoolNd = MaxUnpool2d

__all__ = ['AdaptiveAvgPool1d', 'AdaptiveAvgPool2d', 'AdaptiveAvgPool3d', 'AdaptiveMaxPool1d',
           'AdaptiveMaxPool2d', 'AdaptiveMaxPool3d', 'AvgPool1d', 'AvgPool2d', 'AvgPool3d',
           'FractionalMaxPool2d', 'FractionalMaxPool3d', 'LPPool1d', 'LPPool2d', 'LPPool3d',
           'MaxPool1d', 'MaxPool2d', 'MaxPool3d', 'MaxUnpool1d', 'MaxUnpool2d', 'MaxUnpool3d',
           '_MaxPoolNd', '_AvgPoolNd', '_AdaptiveAvgPoolNd', '_AdaptiveMaxPoolNd', '_LPPoolNd',
           '_MaxUnpoolNd']
