"""``torch.nn.parameter``'s path (``from torch.nn.parameter import Parameter``): the classes live in
:mod:`tensorgan.nn.module`."""
from .module import Buffer, Parameter, UninitializedBuffer, UninitializedParameter, is_lazy

__all__ = ["Buffer", "Parameter", "UninitializedBuffer", "UninitializedParameter", "is_lazy"]
