"""``tg.backends.cuda``: torch's CUDA matmul flags (accepted and ignored: tensorgan's GPU path is
CuPy's) and ``is_built()`` (whether CuPy can drive a GPU here)."""
from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built() -> bool:
    from ..cuda import is_available
    return is_available()
