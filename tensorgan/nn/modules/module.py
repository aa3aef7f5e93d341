"""``torch.nn.modules.module``: the Module base class (tensorgan.nn.Module)."""
from ..module import Module, RemovableHandle  # noqa: F401

__all__ = ["Module"]
