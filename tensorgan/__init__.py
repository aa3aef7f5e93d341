"""tensorgan: a from-scratch GAN library -- autograd engine, hand-written kernels, DCGAN.

The pieces, each readable on its own:

* ``tensorgan.Tensor`` / ``tensorgan.Function`` (``tensor.py``): reverse-mode autograd on NumPy
  (CPU) or CuPy (CUDA) arrays; ``tensorgan.tensor``, ``zeros``, ``randn``, ... make tensors;
  ``no_grad``, ``gradcheck``; ``tensorgan.autograd.grad`` (gradients as values, differentiable
  with ``create_graph=True``: gradient penalties).
* ``tensorgan.functional`` / ``tensorgan.nn``: conv2d, conv_transpose2d, batch norm, leaky ReLU
  (the hand-written kernels of ``tensorgan.kernels``), linear, losses; PyTorch-style Modules.
* ``tensorgan.optim``: torch's optimizers (SGD, Adam, AdamW, RMSprop, Adagrad, ..., LBFGS),
  learning-rate schedulers and ``swa_utils`` (AveragedModel: a generator's EMA).
* ``tensorgan.models`` (DCGAN generator and discriminator), ``tensorgan.data`` (MNIST, image
  folders, DataLoader), ``tensorgan.train`` (Trainer, checkpoints, sample grids),
  ``tensorgan.metrics`` (Fréchet distance, classifier score, kernel distance, precision / recall /
  density / coverage).
* The command line: ``python -m tensorgan train | sample | eval`` (``--help`` on each).
"""
import math as _math

from ._cli_startup import quiet_interrupts_when_run_as_command as _quiet_interrupts

_quiet_interrupts()             # (python -m tensorgan: Ctrl-C while importing is one line)

from ._source_kernels import register as _register_source_kernels

_register_source_kernels()      # a checkout on PYTHONPATH uses its own kernels/ (see there)

from . import _fork_safety      # noqa: F401  (a fork waits for a Numba compile in another thread)

from . import functional
from .backend import Device, cuda_status, get_device, get_num_threads, keep_freed_memory, set_num_threads
from .errors import (AutogradError, CheckpointError, ConfigError, DataError, DeviceError, DTypeError, InputTypeError,
                     IndexDTypeError, LinAlgError, MemoryOverlapError, NonFiniteError, ShapeError, TensorganError)
from .tensor import Size  # noqa: F401
from .factory import (arange, as_tensor, bernoulli, normal, cat, concat, empty, empty_like, from_numpy, full, full_like, linspace,
                      ones, ones_like, rand, rand_like, randn, randn_like, stack, tensor, where,
                      zeros, zeros_like, randint, randperm, eye, FloatTensor, DoubleTensor, LongTensor,
                      IntTensor, ByteTensor, BoolTensor, ShortTensor, CharTensor, HalfTensor)
from .function_forms import (abs, amax, amin, argmax, argmin, chunk, clamp, clip, cos,  # noqa: F401
                             equal, exp, flatten, flip, isfinite, isinf, isnan, lerp, log, log1p,
                             log_softmax, logsumexp, matmul, maximum, mm, bmm, mean, minimum, norm, permute,
                             relu, reshape, sigmoid, sin, softmax, split, sqrt, square, squeeze,
                             std, sum, tanh, transpose, unsqueeze, var,
                             add, sub, mul, div, pow, neg, max, min, sign, round, floor, ceil, trunc,
                             rsqrt, reciprocal, lt, le, gt, ge, eq, ne, t, masked_fill, narrow,
                             index_select, unbind, multiply, divide, subtract, negative, isclose,
                             allclose, einsum, true_divide, floor_divide, logical_and, logical_or,
                             logical_xor, logical_not, bitwise_and, bitwise_or, bitwise_xor,
                             bitwise_not, clone, unflatten, any, all, get_default_dtype, finfo,
                             iinfo, isin, broadcast_shapes, broadcast_tensors)
from .function_forms import (  # noqa: F401  (torch's math of math_ops.py, in-place forms)
    addcmul, addcdiv, clamp_min, clamp_max, is_floating_point, numel, erf, erfinv, expm1, log2,
    log10, sinh, cosh, tan, asin, acos, atan, atan2, hypot, dist, logaddexp, xlogy, logit, frac, fmod,
    remainder, nan_to_num, prod, cumsum, cumprod, logcumsumexp, nansum, nanmean, count_nonzero,
    aminmax, median, abs_, exp_, log_, sigmoid_, tanh_, relu_, neg_, sqrt_, rsqrt_, reciprocal_,
    round_, floor_, ceil_, log1p_, sin_, cos_, square_, clamp_, clip_, fill_, zero_, erf_, erfinv_,
    expm1_, frac_, logit_, nan_to_num_, trunc_, arcsin, arccos, arctan, arctan2)
from .function_forms import float_power, polygamma, rsub, special_forms as _special_forms  # noqa: F401
globals().update(_special_forms)  # tg.lgamma(x), tg.fmax(x, y), tg.greater(x, y), ...: the Tensor methods
del _special_forms
from .math_ops import is_tensor, std_mean, var_mean  # noqa: F401
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .shape_index_ops import (atleast_1d, atleast_2d, atleast_3d, block_diag, bucketize,  # noqa: F401
                              cartesian_prod, cdist, column_stack, dstack, hstack, meshgrid,
                              row_stack, searchsorted, vstack, functions as _shape_index_functions)
from .functional import cosine_similarity, pairwise_distance  # noqa: F401  (torch.* has them too)
globals().update(_shape_index_functions)  # tg.gather(x, ...), tg.sort(x), ...: the Tensor methods
del _shape_index_functions
from . import linalg  # noqa: E402  (tg.linalg.solve, ...; tg.det, tg.addmm, ...: torch's top-level names)
globals().update(linalg.TOP_LEVEL)
from .lowrank import pca_lowrank, svd_lowrank  # noqa: E402,F401  (torch's randomized PCA / SVD)
from .stats_ops import functions as _stats_functions  # noqa: E402  (tg.quantile, tg.mode, tg.trapezoid, ...)
globals().update(_stats_functions)
del _stats_functions
from .creation_ops import (bartlett_window, blackman_window, hamming_window, hann_window,  # noqa: F401
                           kaiser_window, logspace, randint_like, scalar_tensor, tril_indices,
                           triu_indices, unravel_index)
from .spectral import istft, stft  # noqa: E402  (torch.stft / istft; also x.stft(...))
from . import torch_functional as _torch_functional  # noqa: E402  (torch.conv2d, torch.dropout, ...:
globals().update({name: getattr(_torch_functional, name) for name in _torch_functional.__all__})  # top-level signatures)
del _torch_functional
from . import torch_extras as _torch_extras  # noqa: E402  (x.mT, x.stride(), tg.asarray, tg.gradient, ...)
globals().update({name: getattr(_torch_extras, name) for name in _torch_extras.__all__})
del _torch_extras
from . import sparse  # noqa: E402  (x.to_sparse(), tg.sparse.mm: torch's COO / CSR layouts, stored dense)
from .sparse import sparse_coo, sparse_coo_tensor, sparse_csr, sparse_csr_tensor, spmm  # noqa: E402,F401
from . import torch_compat as _torch_compat  # noqa: E402  (tg.dtype, x.untyped_storage(), tg.view_copy, ...)
globals().update({name: getattr(_torch_compat, name) for name in _torch_compat.__all__})
del _torch_compat
from . import foreach_ops as _foreach_ops  # noqa: E402  (torch._foreach_lerp_(ema, params, w), ...)
globals().update(_foreach_ops.FUNCTIONS)
del _foreach_ops
from .function_forms import _function_form  # noqa: E402
globals().update({name: _function_form(name) for name in (  # torch's top-level in-place forms
    "acos_", "asin_", "atan_", "arccos_", "arcsin_", "arctan_", "sinh_", "cosh_", "tan_", "log2_",
    "log10_", "addmv_", "adjoint", "angle", "as_strided", "detach_", "is_conj", "is_inference",
    "is_neg", "resolve_conj", "resolve_neg", "index_put_", "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes")})
pi, e, inf, nan, newaxis = _math.pi, _math.e, _math.inf, _math.nan, None
concatenate = cat
from .backend import get_default_device, set_default_device  # noqa: E402,F401
from . import settings as _settings  # noqa: E402  (set_printoptions, use_deterministic_algorithms, ...)
globals().update({name: getattr(_settings, name) for name in _settings.__all__})
del _settings
from .random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,  # noqa: F401
                     set_rng_state)
from .dtypes import can_cast, promote_types, result_type  # noqa: F401
from .tensor import bfloat16, float16, set_default_dtype  # noqa: F401
from .tensor import (Function, Tensor, enable_grad, float32, float64, inference_mode, is_grad_enabled,
                     no_grad, set_grad_enabled,
                     int64, int32, int16, int8, uint8)
from .grad_mode import is_anomaly_enabled, is_anomaly_check_nan_enabled  # noqa: E402,F401
from .grad_mode import set_detect_anomaly as set_anomaly_enabled  # noqa: E402,F401  (torch.set_anomaly_enabled)
from . import autograd, checkpoint, data, func, losses, metrics, models, nn, optim, train  # noqa: E402  (need the engine above)
from .func import vmap  # noqa: E402,F401  (torch.vmap is torch.func.vmap)

from .checkpoint import load, save  # noqa: E402  (tg.save(G.state_dict(), path), as torch.save)
from . import special  # noqa: E402  (tg.special.ndtr, ...)
igamma, igammac = special.gammainc, special.gammaincc  # noqa: E402  (torch.igamma / torch.igammac)
from . import backends, cuda, utils  # noqa: E402  (tg.cuda.is_available(), tg.utils.data.DataLoader)
from . import amp, cpu  # noqa: E402  (tg.amp.GradScaler; tg.cpu.amp / tg.cuda.amp on first use)
from .amp import (autocast, clear_autocast_cache, get_autocast_cpu_dtype,  # noqa: E402,F401
                  get_autocast_dtype, get_autocast_gpu_dtype, is_autocast_cache_enabled,
                  is_autocast_cpu_enabled, is_autocast_enabled, set_autocast_cache_enabled,
                  set_autocast_dtype, set_autocast_enabled)

from .memory_formats import (channels_last, channels_last_3d, contiguous_format,  # noqa: E402
                             memory_format, preserve_format)
from .backend import device  # noqa: E402  (torch.device: a device object even where CUDA is absent)
from . import complex_ops as _complex_ops  # noqa: E402  (complex64 / complex128: after the method installers)
globals().update({name: getattr(_complex_ops, name) for name in _complex_ops.__all__})
sgn = _complex_ops.sgn
_complex_ops.guard(globals())   # tg.sort, tg.round, ... refuse complex tensors by name, as torch
from .nn import functional as _F  # noqa: E402
_complex_ops.guard(_F)
del _complex_ops, _F
float, double, half = float32, float64, float16   # torch.float / torch.double / torch.half
long, int, short = int64, int32, int16   # torch.long / torch.int / torch.short
from .tensor import BOOL as bool  # noqa: E402  (torch.bool; last: the names above shadow builtins)
__version__ = "0.1.0"
from . import _einops_hook  # noqa: E402  (einops.rearrange(x, ...) on tensorgan tensors, once einops is imported)
_einops_hook.install()


# Imported on first use (PEP 562), not by ``import tensorgan``: the distributions package alone
# took a tenth of the import time.  ``tg.distributions`` / ``import tensorgan.fft`` work as usual.
_LAZY_SUBMODULES = ("distributions", "fft", "xpu", "accelerator", "multiprocessing", "profiler",
                    "distributed", "jit", "testing", "signal", "hub")


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))


from .numpy_aliases import install as _install_numpy_aliases  # noqa: E402
_install_numpy_aliases(__import__("sys").modules[__name__], Tensor)   # x.var(axis=0, keepdims=True)
del _install_numpy_aliases
