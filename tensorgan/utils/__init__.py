"""torch's ``torch.utils.data`` path: ``tensorgan.utils.data.DataLoader`` is
:class:`tensorgan.data.DataLoader` (one implementation, two names)."""
from . import benchmark, data

__all__ = ["benchmark", "data"]
