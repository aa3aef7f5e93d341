"""``torch.nn.modules.distance``: the distance layers by their torch module path."""
from __future__ import annotations

from .. import (  # noqa: F401
    CosineSimilarity, PairwiseDistance)

__all__ = ['CosineSimilarity', 'PairwiseDistance']
