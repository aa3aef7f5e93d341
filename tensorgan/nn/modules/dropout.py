"""``torch.nn.modules.dropout``: the dropout layers by their torch module path (with
``_DropoutNd`` for isinstance checks: ``_DropoutNd`` is tensorgan's ``Dropout``, the base of every
one of them)."""
from __future__ import annotations

from .. import (  # noqa: F401
    Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout)
_DropoutNd = Dropout

__all__ = ['Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout', 'FeatureAlphaDropout',
           '_DropoutNd']
