"""``torch.nn.modules.linear``: the linear layers by their torch module path."""
from __future__ import annotations

from .. import (  # noqa: F401
    Identity, Linear, Bilinear, LazyLinear)

__all__ = ['Identity', 'Linear', 'Bilinear', 'LazyLinear']
