"""``tg.backends``: the flags torch code reads or sets on ``torch.backends`` (``cudnn.benchmark``,
``cudnn.deterministic``, ``mps.is_available()``, ``cuda.matmul.allow_tf32``, ...).

tensorgan has its own kernels (no cuDNN, no MPS), so these are plain settable attributes that
change nothing; they exist so that ``import torch.backends.cudnn as cudnn; cudnn.benchmark = True``
and ``torch.backends.mps.is_available()`` run unchanged."""
from . import cpu, cuda, cudnn, mps  # noqa: F401

__all__ = ["cpu", "cuda", "cudnn", "mps"]
