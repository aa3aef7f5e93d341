"""torch's ``torch.utils`` paths: ``tensorgan.utils.data`` (torch's DataLoader defaults over
:mod:`tensorgan.data`, which keeps a GAN's), torchvision.utils' ``make_grid`` / ``save_image``,
``checkpoint`` (activation checkpointing), ``benchmark``, ``model_zoo.load_url``, and
``tensorboard`` (``SummaryWriter``, imported on first use: it needs the tensorboard package), and
``_pytree`` (torch's private tree_map / tree_flatten, which libraries call)."""
from . import _pytree, benchmark, checkpoint, data, model_zoo  # noqa: F401  (tg.utils._pytree, as torch)
from .image import make_grid, save_image

__all__ = ["benchmark", "checkpoint", "data", "make_grid", "model_zoo", "save_image"]
