"""``torch.nn.utils.weight_norm``'s module path: ``from tensorgan.nn.utils.weight_norm import
weight_norm, remove_weight_norm`` (the functions of :mod:`tensorgan.nn.utils`)."""
from . import remove_weight_norm, weight_norm

__all__ = ["weight_norm", "remove_weight_norm"]
