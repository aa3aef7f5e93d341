"""``tg.cuda.is_available()`` and ``tg.cuda.device_count()``, as torch code asks them (tensorgan
uses one CUDA device, CuPy's device 0; :func:`tensorgan.cuda_status` also says why not)."""
from __future__ import annotations

from ..backend import cuda_status

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "FloatTensor",
           "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor", "ShortTensor",
           "CharTensor", "HalfTensor", "amp"]


def is_available() -> bool:
    return cuda_status()[0]


def device_count() -> int:
    """1 when CUDA can be used (tensorgan runs on one device), else 0."""
    return int(is_available())


def manual_seed(seed: int) -> None:
    """``torch.cuda.manual_seed(seed)``, accepted (the seed must be an integer) and otherwise a
    no-op: tensorgan draws a CUDA tensor's random numbers from the same default generator as a
    CPU tensor's, which ``tg.manual_seed`` seeds; reseeding it here would also change the CPU
    stream, which torch.cuda.manual_seed never does."""
    import numbers
    from ..errors import InputTypeError
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InputTypeError(f"tg.cuda.manual_seed: seed must be an int, got {type(seed).__name__}")


def manual_seed_all(seed: int) -> None:
    """``torch.cuda.manual_seed_all``: as :func:`manual_seed` (tensorgan uses one device)."""
    manual_seed(seed)


def __getattr__(name: str):
    if name == "amp":           # tg.cuda.amp.GradScaler / autocast (torch's deprecated spellings)
        import importlib
        return importlib.import_module(f"{__name__}.amp")
    # torch.cuda.FloatTensor & co. (tensorgan.factory imports tensor.py, which this module must
    # not import at load time): built once, on first use.
    from ..factory import CUDA_LEGACY_TENSOR_TYPES
    if name in CUDA_LEGACY_TENSOR_TYPES:
        return CUDA_LEGACY_TENSOR_TYPES[name]
    raise AttributeError(f"module 'tensorgan.cuda' has no attribute {name!r}")
