"""``torch.nn.modules.dropout``: the dropout layers and their base ``_DropoutNd`` -- tensorgan.nn's
classes under torch's module path."""
from ..layers import Dropout as _DropoutNd  # noqa: F401  (every dropout layer's base)
from .. import (  # noqa: F401
    AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout)

__all__ = ['AlphaDropout', 'Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'FeatureAlphaDropout']
