"""tensorgan: a from-scratch GAN library -- autograd engine, hand-written kernels, DCGAN."""
from . import functional
from .backend import Device, cuda_status, get_device, keep_freed_memory
from .errors import (CheckpointError, ConfigError, DataError, DeviceError, DTypeError, InputTypeError,
                     NonFiniteError, ShapeError, TensorganError)
from .factory import cat, concat, ones, ones_like, rand, randn, stack, tensor, where, zeros, zeros_like
from .gradcheck import GradcheckError, gradcheck
from .random import Generator, manual_seed
from .tensor import (Function, Tensor, enable_grad, float32, float64, inference_mode, is_grad_enabled,
                     no_grad, set_grad_enabled)
from . import checkpoint, data, losses, metrics, models, nn, optim, train  # noqa: E402  (need the engine above)

device = get_device
__version__ = "0.1.0"
