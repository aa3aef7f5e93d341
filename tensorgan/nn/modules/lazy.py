"""``torch.nn.modules.lazy``: ``LazyModuleMixin`` (the base of the Lazy* layers, for isinstance
checks and custom lazy modules) by its torch module path."""
from __future__ import annotations

from ..lazy import LazyModuleMixin  # noqa: F401

__all__ = ['LazyModuleMixin']
