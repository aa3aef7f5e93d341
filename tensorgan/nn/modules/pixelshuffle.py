"""``torch.nn.modules.pixelshuffle``: PixelShuffle, PixelUnshuffle -- tensorgan.nn's classes under
torch's module path."""
from .. import (  # noqa: F401
    PixelShuffle, PixelUnshuffle)

__all__ = ['PixelShuffle', 'PixelUnshuffle']
