"""Fast CPU kernels: Numba-packed im2col / stride-phase decomposition feeding one BLAS GEMM per
convolution, and fused Numba passes for batch normalization and leaky ReLU.

Same functions, same signatures as ``tensorgan.kernels.reference`` (see ``tensorgan.kernels``).
Every @njit is compiled with ``cache=True`` (first import compiles, later processes load from
__pycache__) and parallel loops use all of Numba's threads; the GEMMs use OpenBLAS's threads.
"""
from .batchnorm import batch_norm, batch_norm_backward
from .conv2d import conv2d, conv2d_grad_bias, conv2d_grad_input, conv2d_grad_weight
from .conv_transpose2d import (conv_transpose2d, conv_transpose2d_grad_input,
                               conv_transpose2d_grad_weight)
from .leaky_relu import leaky_relu, leaky_relu_backward

__all__ = [
    "conv2d", "conv2d_grad_input", "conv2d_grad_weight", "conv2d_grad_bias",
    "conv_transpose2d", "conv_transpose2d_grad_input", "conv_transpose2d_grad_weight",
    "batch_norm", "batch_norm_backward", "leaky_relu", "leaky_relu_backward",
]
