"""``torch.nn.utils.init``'s path: ``skip_init`` (which lives in :mod:`tensorgan.nn.utils`)."""
from . import skip_init

__all__ = ["skip_init"]
