"""``torch.nn.modules.flatten``: Flatten, Unflatten -- tensorgan.nn's classes under torch's module
path."""
from .. import (  # noqa: F401
    Flatten, Unflatten)

__all__ = ['Flatten', 'Unflatten']
