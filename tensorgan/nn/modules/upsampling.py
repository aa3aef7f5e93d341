"""``torch.nn.modules.upsampling``: Upsample, UpsamplingNearest2d, UpsamplingBilinear2d --
tensorgan.nn's classes under torch's module path."""
from .. import (  # noqa: F401
    Upsample, UpsamplingBilinear2d, UpsamplingNearest2d)

__all__ = ['Upsample', 'UpsamplingBilinear2d', 'UpsamplingNearest2d']
