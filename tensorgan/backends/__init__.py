"""``torch.backends`` for torch programs that set its flags: ``cudnn.benchmark = True``,
``cudnn.deterministic``, ``backends.mps.is_available()``, ``backends.cuda.matmul.allow_tf32``.

tensorgan uses neither cuDNN nor MPS (its GPU kernels are its own, on CuPy), so the flags are
recorded -- a program can set and read them back, and ``cudnn.flags(...)`` restores them -- but
change nothing; ``cudnn.is_available()`` and ``mps.is_available()`` say ``False``."""
from __future__ import annotations

from . import cpu, cuda, cudnn, mkldnn, mps

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps"]
