"""``torch.nn.modules.pixelshuffle``: the pixel shuffle layers by their torch module path."""
from __future__ import annotations

from .. import (  # noqa: F401
    PixelShuffle, PixelUnshuffle)

__all__ = ['PixelShuffle', 'PixelUnshuffle']
