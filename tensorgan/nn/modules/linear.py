"""``torch.nn.modules.linear``: Identity, Linear, Bilinear, LazyLinear -- tensorgan.nn's classes
under torch's module path."""
from .. import (  # noqa: F401
    Bilinear, Identity, LazyLinear, Linear)

__all__ = ['Bilinear', 'Identity', 'LazyLinear', 'Linear']
