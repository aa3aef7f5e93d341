"""``torch.autograd.gradcheck`` as a module path (``from torch.autograd.gradcheck import
gradcheck``): tensorgan's gradcheck / gradgradcheck and their error."""
from ..gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]
