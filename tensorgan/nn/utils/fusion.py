"""``torch.nn.utils.fusion``'s path: folding an eval-mode BatchNorm into the conv / linear layer
before it (the functions live in :mod:`tensorgan.nn.utils`)."""
from . import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]
