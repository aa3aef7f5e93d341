"""``torch.nn.modules.flatten``: the flatten layers by their torch module path."""
from __future__ import annotations

from .. import (  # noqa: F401
    Flatten, Unflatten)

__all__ = ['Flatten', 'Unflatten']
