"""``torch.backends.cuda.is_built()``: whether CUDA can be used (CuPy with a device)."""
from ..cuda import is_available as _cuda_available

__all__ = ["is_built"]


def is_built() -> bool:
    return _cuda_available()
