"""torch's ``torch.utils.data`` path: ``tensorgan.utils.data.DataLoader`` is
:class:`tensorgan.data.DataLoader` (one implementation, two names); torchvision.utils'
``make_grid`` / ``save_image`` are here too."""
from . import benchmark, data
from .image import make_grid, save_image

__all__ = ["benchmark", "data", "make_grid", "save_image"]
