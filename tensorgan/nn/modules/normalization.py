"""``torch.nn.modules.normalization``: the normalization layers by their torch module path."""
from __future__ import annotations

from .. import (  # noqa: F401
    LayerNorm, GroupNorm, LocalResponseNorm, CrossMapLRN2d, RMSNorm)

__all__ = ['LayerNorm', 'GroupNorm', 'LocalResponseNorm', 'CrossMapLRN2d', 'RMSNorm']
