"""torchvision.utils' ``make_grid`` and ``save_image`` (``from tensorgan.vision import utils as
vutils``): :mod:`tensorgan.utils.image`'s, which follow torchvision's layout and pixels."""
from ..utils.image import make_grid, save_image

__all__ = ["make_grid", "save_image"]
