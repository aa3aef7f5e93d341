"""``torch.nn.quantized``'s float-side helpers. tensorgan has no quantized tensors, so only the
modules that work on float tensors are here: ``FloatFunctional`` (which DPT / MiDaS / Projected
GAN use for their residual adds, ``self.skip_add = nn.quantized.FloatFunctional()``) and
``FXFloatFunctional``. Their methods are the plain ops, as torch's are on float tensors."""
from .. import functional as _F
from ..errors import FloatFunctionalForwardError
from .layers import Identity as _Identity
from .module import Module as _Module


def _ops():
    import tensorgan
    return tensorgan


class FloatFunctional(_Module):
    """State collector for float ops (``torch.nn.quantized.FloatFunctional``): ``add`` / ``cat`` /
    ``mul`` / ``add_relu`` / ``matmul`` (passed through ``activation_post_process``, an Identity,
    as torch's) and ``add_scalar`` / ``mul_scalar``. Calling the module itself is a RuntimeError,
    as torch's."""

    def __init__(self) -> None:
        super().__init__()
        self.activation_post_process = _Identity()

    def forward(self, x):
        raise FloatFunctionalForwardError(f"{type(self).__name__} is not intended to use the 'forward'. "
                                          "Please use the underlying operation (add / mul / cat / add_relu ...)")

    def add(self, x, y):
        return self.activation_post_process(_ops().add(x, y))

    def add_scalar(self, x, y):
        return _ops().add(x, y)

    def mul(self, x, y):
        return self.activation_post_process(_ops().mul(x, y))

    def mul_scalar(self, x, y):
        return _ops().mul(x, y)

    def cat(self, x, dim=0):
        return self.activation_post_process(_ops().cat(x, dim=dim))

    def add_relu(self, x, y):
        return self.activation_post_process(_F.relu(_ops().add(x, y)))

    def matmul(self, x, y):
        return self.activation_post_process(_ops().matmul(x, y))


class FXFloatFunctional(_Module):
    """``torch.nn.quantized.FXFloatFunctional``: FloatFunctional's ops without the observer."""

    def forward(self, x):
        raise FloatFunctionalForwardError(f"{type(self).__name__} is not intended to use the 'forward'. "
                                          "Please use the underlying operation (add / mul / cat / add_relu ...)")

    def add(self, x, y):
        return _ops().add(x, y)

    def add_scalar(self, x, y):
        return _ops().add(x, y)

    def mul(self, x, y):
        return _ops().mul(x, y)

    def mul_scalar(self, x, y):
        return _ops().mul(x, y)

    def cat(self, x, dim=0):
        return _ops().cat(x, dim=dim)

    def add_relu(self, x, y):
        return _F.relu(_ops().add(x, y))

    def matmul(self, x, y):
        return _ops().matmul(x, y)


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}: tensorgan has no quantized tensors, "
                         "so torch.nn.quantized's quantized layers are not provided (FloatFunctional and "
                         "FXFloatFunctional are)")
