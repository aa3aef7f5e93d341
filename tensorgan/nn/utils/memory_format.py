"""``torch.nn.utils.memory_format``: converting conv weights to a memory format.

tensorgan arrays have one memory layout (row-major, C-contiguous: torch's
``contiguous_format``); its convolution kernels choose their own internal layouts. So these
are no-ops that return the module unchanged, so that torch code calling them (typically with
``torch.channels_last``) runs; the ``memory_format`` argument is accepted and not used."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import InputTypeError

if TYPE_CHECKING:
    from ..module import Module

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def convert_conv2d_weight_memory_format(module: "Module", memory_format: Any) -> "Module":
    """torch's: re-lay the Conv2d / ConvTranspose2d weights in ``memory_format``; here ``module``
    itself, unchanged (one memory format, see the module docstring)."""
    return _unchanged("convert_conv2d_weight_memory_format", module)


def convert_conv3d_weight_memory_format(module: "Module", memory_format: Any) -> "Module":
    """torch's: re-lay the Conv3d / ConvTranspose3d weights in ``memory_format``; here ``module``
    itself, unchanged (one memory format, see the module docstring)."""
    return _unchanged("convert_conv3d_weight_memory_format", module)


def _unchanged(owner: str, module: Any) -> "Module":
    from ..module import Module
    if not isinstance(module, Module):
        raise InputTypeError(f"{owner}: module must be an nn.Module, got {type(module).__name__}")
    return module
