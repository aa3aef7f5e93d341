"""torch's ``torch.nn.grad``: the gradients of a convolution with respect to its input and its
weight, as functions -- ``conv2d_input(input_size, weight, grad_output, ...)`` and
``conv2d_weight(input, weight_size, grad_output, ...)`` (and the 1-d / 3-d forms), for custom
``autograd.Function`` backwards.  Each is one backward of the convolution (linear in the
argument differentiated), so the values are the engine's own conv gradients; the results are
differentiable when ``weight`` / ``input`` or ``grad_output`` require grad."""
from __future__ import annotations

from typing import Any, Callable

from ..errors import ShapeError
from ..factory import zeros
from ..grad_mode import enable_grad
from ..tensor import Tensor

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input",
           "conv3d_weight"]


def _conv(dims: int) -> Callable:
    from . import functional as F
    return {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[dims]


def _size(name: str, size: Any, dims: int) -> tuple:
    size = tuple(int(n) for n in size)
    if len(size) != dims + 2:
        raise ShapeError(f"{name}: expected a size with {dims + 2} entries (N, C, spatial...), got {size}")
    return size


def _gradient(name: str, dims: int, fixed: Tensor, free_size: tuple, grad_output: Tensor,
              free_is_input: bool, stride: Any, padding: Any, dilation: Any, groups: int) -> Tensor:
    from ..autograd import grad
    free = zeros(*free_size, dtype=grad_output.dtype, device=grad_output.device).requires_grad_(True)
    with enable_grad():
        args = (free, fixed) if free_is_input else (fixed, free)
        out = _conv(dims)(*args, None, stride, padding, dilation, groups)
        if tuple(out.shape) != tuple(grad_output.shape):
            raise ShapeError(f"{name}: grad_output has shape {tuple(grad_output.shape)}, the "
                             f"convolution gives {tuple(out.shape)}")
        (g,) = grad(out, free, grad_output,
                    create_graph=fixed._requires_grad or grad_output._requires_grad)
    return g


def _pair(dims: int) -> tuple:
    def input_grad(input_size: Any, weight: Tensor, grad_output: Tensor, stride: Any = 1,
                   padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
        name = f"conv{dims}d_input"
        return _gradient(name, dims, weight, _size(name, input_size, dims), grad_output, True,
                         stride, padding, dilation, groups)

    def weight_grad(input: Tensor, weight_size: Any, grad_output: Tensor, stride: Any = 1,
                    padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
        name = f"conv{dims}d_weight"
        return _gradient(name, dims, input, _size(name, weight_size, dims), grad_output, False,
                         stride, padding, dilation, groups)

    input_grad.__name__, weight_grad.__name__ = f"conv{dims}d_input", f"conv{dims}d_weight"
    input_grad.__doc__ = (f"d(conv{dims}d(input, weight))/d(input) applied to grad_output, for an "
                          f"input of ``input_size``.")
    weight_grad.__doc__ = (f"d(conv{dims}d(input, weight))/d(weight) applied to grad_output, for "
                           f"a weight of ``weight_size``.")
    return input_grad, weight_grad


conv1d_input, conv1d_weight = _pair(1)
conv2d_input, conv2d_weight = _pair(2)
conv3d_input, conv3d_weight = _pair(3)
