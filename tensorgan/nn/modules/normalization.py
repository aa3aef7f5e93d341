"""``torch.nn.modules.normalization``: LayerNorm, GroupNorm, RMSNorm, LocalResponseNorm,
CrossMapLRN2d -- tensorgan.nn's classes under torch's module path."""
from .. import (  # noqa: F401
    CrossMapLRN2d, GroupNorm, LayerNorm, LocalResponseNorm, RMSNorm)

__all__ = ['CrossMapLRN2d', 'GroupNorm', 'LayerNorm', 'LocalResponseNorm', 'RMSNorm']
