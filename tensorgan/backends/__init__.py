"""``torch.backends`` as device-selection code asks it: ``tg.backends.mps.is_available()`` (False:
tensorgan runs on NumPy or CuPy, never Metal), ``tg.backends.cudnn`` (flags accepted, nothing to
tune: tensorgan's kernels are its own), ``tg.backends.cuda.is_built()``."""
from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
