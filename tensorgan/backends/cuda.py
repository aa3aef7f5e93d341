"""``torch.backends.cuda``: ``is_built()`` says whether CuPy (tensorgan's CUDA backend) can be
imported; ``matmul.allow_tf32`` and friends are recorded but change nothing (tensorgan's float32
matmuls are never done in TF32)."""
from __future__ import annotations

import types

__all__ = ["is_built", "matmul"]


def is_built() -> bool:
    """Whether tensorgan can run CUDA here (CuPy present, or Numba's CUDA simulator on)."""
    from .. import cuda
    return bool(cuda.is_available())


class _Matmul(types.SimpleNamespace):
    _BOOL_FLAGS = ("allow_tf32", "allow_fp16_reduced_precision_reduction",
                   "allow_bf16_reduced_precision_reduction")

    def __setattr__(self, name: str, value: object) -> None:
        if name in self._BOOL_FLAGS and not isinstance(value, bool):
            from ..errors import InputTypeError
            raise InputTypeError(f"torch.backends.cuda.matmul.{name} must be True or False, got "
                                 f"{type(value).__name__} {value!r}")
        super().__setattr__(name, value)


# torch's defaults
matmul = _Matmul(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                 allow_bf16_reduced_precision_reduction=True)
