"""``torch.nn.utils.spectral_norm``'s module path: ``from tensorgan.nn.utils.spectral_norm import
spectral_norm, remove_spectral_norm`` (the functions of :mod:`tensorgan.nn.utils`)."""
from . import remove_spectral_norm, spectral_norm

__all__ = ["spectral_norm", "remove_spectral_norm"]
