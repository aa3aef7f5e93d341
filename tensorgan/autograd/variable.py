"""``torch.autograd.variable``: where old torch programs import ``Variable`` from
(``from torch.autograd.variable import Variable``)."""
from . import Variable

__all__ = ["Variable"]
