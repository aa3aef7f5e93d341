"""NumPy reference kernels: the specification the CPU and CUDA kernel sets are tested against.

Written to be read first and to be reasonably fast second (im2col + BLAS, no per-pixel Python
loops).  Each module's docstring states its algorithm, FLOP count and bytes moved.  Exports exactly
``tensorgan.kernels.KERNEL_API``.
"""
from .batchnorm import batch_norm, batch_norm_backward
from .bn_leaky_relu import batch_norm_leaky_relu, batch_norm_leaky_relu_backward
from .conv2d import conv2d, conv2d_backward, conv2d_grad_bias, conv2d_grad_input, conv2d_grad_weight
from .conv_transpose2d import (conv_transpose2d, conv_transpose2d_backward,
                               conv_transpose2d_grad_input, conv_transpose2d_grad_weight)
from .leaky_relu import leaky_relu, leaky_relu_backward
from .optim import adam_update, lerp_update
from .. import KERNEL_API

__all__ = list(KERNEL_API)  # exactly the shared contract (tensorgan.kernels)
