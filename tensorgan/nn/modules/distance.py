"""``torch.nn.modules.distance``: PairwiseDistance, CosineSimilarity -- tensorgan.nn's classes
under torch's module path."""
from .. import (  # noqa: F401
    CosineSimilarity, PairwiseDistance)

__all__ = ['CosineSimilarity', 'PairwiseDistance']
