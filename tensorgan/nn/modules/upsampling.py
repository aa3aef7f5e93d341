"""``torch.nn.modules.upsampling``: the upsampling layers by their torch module path."""
from __future__ import annotations

from .. import (  # noqa: F401
    Upsample, UpsamplingBilinear2d, UpsamplingNearest2d)

__all__ = ['Upsample', 'UpsamplingBilinear2d', 'UpsamplingNearest2d']
