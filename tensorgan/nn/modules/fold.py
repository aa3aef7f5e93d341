"""``torch.nn.modules.fold``: Fold, Unfold -- tensorgan.nn's classes under torch's module path."""
from .. import (  # noqa: F401
    Fold, Unfold)

__all__ = ['Fold', 'Unfold']
