"""The einops backend for tensorgan tensors (``framework_name = "tensorgan"``).

Importing this module needs einops and is what registers the backend: einops looks for it among
the subclasses of ``einops._backends.AbstractBackend``.  ``import tensorgan`` arranges that (see
``tensorgan._einops_hook``), so ``einops.rearrange(x, "b c h w -> b (h w) c")`` takes a tensorgan
tensor whichever of the two was imported first.  Every step is a tensorgan op (reshape, permute,
expand, sum / mean / amax / ..., einsum, cat), so gradients flow through einops calls as in torch.
The layers (``Rearrange`` / ``Reduce`` / ``EinMix``) are ``tensorgan.einops_layers``.
"""
from einops._backends import AbstractBackend

from . import factory as _factory
from .function_forms import einsum as _einsum
from .tensor import Tensor, float16, float32, float64, int64

__all__ = ["TensorganBackend"]

_FLOAT_DTYPES = (float16, float32, float64)   # tensorgan has no bfloat16 tensors


class TensorganBackend(AbstractBackend):
    """einops' operations on tensorgan tensors, as its torch backend does them on torch's."""

    framework_name = "tensorgan"

    def is_appropriate_type(self, tensor) -> bool:
        return isinstance(tensor, Tensor)

    def from_numpy(self, x):
        variable = _factory.from_numpy(x)
        if self.is_float_type(variable):     # as einops' torch backend: grad on floating tensors only
            variable.requires_grad_(True)
        return variable

    def to_numpy(self, x):
        return x.detach().cpu().numpy()

    def arange(self, start, stop):
        return _factory.arange(start, stop, dtype=int64)

    def reduce(self, x, operation, reduced_axes):
        if operation == "min":
            return x.amin(dim=reduced_axes)
        if operation == "max":
            return x.amax(dim=reduced_axes)
        if operation == "sum":
            return x.sum(dim=reduced_axes)
        if operation == "mean":
            return x.mean(dim=reduced_axes)
        if operation in ("any", "all", "prod"):   # one axis at a time, last first (as torch's backend)
            for i in sorted(reduced_axes)[::-1]:
                x = getattr(x, operation)(dim=i)
            return x
        raise NotImplementedError("Unknown reduction ", operation)

    def transpose(self, x, axes):
        return x.permute(axes)

    def stack_on_zeroth_dimension(self, tensors: list):
        return _factory.stack(tensors)

    def add_axes(self, x, n_axes, pos2len):
        repeats = [-1] * n_axes
        for axis_position, axis_length in pos2len.items():
            x = self.add_axis(x, axis_position)
            repeats[axis_position] = axis_length
        return x.expand(repeats)

    def tile(self, x, repeats):
        return x.repeat(repeats)

    def concat(self, tensors, axis: int):
        return _factory.cat(tensors, dim=axis)

    def add_axis(self, x, new_position):
        return x.unsqueeze(new_position)

    def is_float_type(self, x) -> bool:
        return x.dtype in _FLOAT_DTYPES

    def layers(self):
        from . import einops_layers
        return einops_layers

    def einsum(self, pattern, *x):
        return _einsum(pattern, *x)
