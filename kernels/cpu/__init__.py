"""Fast CPU kernels: Numba-packed im2col / stride-phase decomposition feeding BLAS GEMMs (one per
phase per chunk of the batch per thread), and fused Numba passes for batch normalization and leaky
ReLU (each alone, and the two as one op).  Each module's docstring states its algorithm, FLOPs,
bytes moved and launch shape (how the work is split across threads).

Same functions, same signatures as ``tensorgan.kernels.reference`` (see ``tensorgan.kernels``).
Every @njit is compiled with ``cache=True`` (first import compiles, later processes load from
__pycache__).

Threads: a convolution splits its batch across ``numba.get_num_threads()`` threads, each packing,
multiplying (single-threaded BLAS) and unpacking its own images (``_workers.py`` says why);
batch norm and leaky ReLU are Numba ``prange`` loops.  With GNU OpenMP's default wait policy
Numba's idle workers would spin after each of those regions and steal the cores from the
convolution that follows (measured here: several-fold slowdowns on a 2-core machine).  Importing
this package therefore sets ``OMP_WAIT_POLICY=PASSIVE`` unless the environment already sets it;
it takes effect because Numba loads its OpenMP runtime lazily, at the first parallel launch.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
from .batchnorm import (batch_norm, batch_norm_backward, batch_norm_leaky_relu,
                        batch_norm_leaky_relu_backward)
from .conv2d import (conv2d, conv2d_backward, conv2d_grad_bias, conv2d_grad_input,
                     conv2d_grad_weight)
from .conv_transpose2d import (conv_transpose2d, conv_transpose2d_backward,
                               conv_transpose2d_grad_input, conv_transpose2d_grad_weight)
from .leaky_relu import leaky_relu, leaky_relu_backward
from .optim import adam_update, lerp_update
# Not kernels of the contract: how the engine runs its own GEMMs here (Device.matmul / blas_scope).
from ._workers import gemm, single_threaded_blas as blas_scope

from .. import KERNEL_API

__all__ = list(KERNEL_API)  # exactly the shared contract (tensorgan.kernels)
