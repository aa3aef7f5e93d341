"""``torch.nn.modules.dropout``: the dropout layers by their torch module path (with
``_DropoutNd``, torch's base of every one of them, for isinstance checks)."""
from __future__ import annotations

from .. import (  # noqa: F401
    Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout)
from ..layers import _DropoutNd  # noqa: F401

__all__ = ['Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout', 'FeatureAlphaDropout',
           '_DropoutNd']
