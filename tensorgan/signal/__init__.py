"""torch.signal: the window functions of ``torch.signal.windows`` (scipy.signal.windows' names)."""
from . import windows  # noqa: F401

__all__ = ["windows"]
