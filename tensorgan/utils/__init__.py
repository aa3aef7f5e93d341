"""torch's ``torch.utils.data`` path: ``tensorgan.utils.data.DataLoader`` is
:class:`tensorgan.data.DataLoader` (one implementation, two names); torchvision.utils'
``make_grid`` / ``save_image`` are here too, and ``tensorgan.utils.checkpoint`` (activation
checkpointing)."""
from . import benchmark, checkpoint, data
from .image import make_grid, save_image

__all__ = ["benchmark", "checkpoint", "data", "make_grid", "save_image"]
