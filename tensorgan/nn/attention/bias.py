"""``torch.nn.attention.bias``: causal masks for ``scaled_dot_product_attention`` whose query and
key lengths differ. ``causal_upper_left(L, S)`` lets query i attend keys j <= i (what
``is_causal=True`` does); ``causal_lower_right(L, S)`` aligns the last query with the last key
(j <= i + S - L), the decoding case. Both are :class:`CausalBias` tensors: the bool (L, S) mask
(True = attend), usable as ``attn_mask`` or on their own."""
from __future__ import annotations

import enum
import warnings

import numpy as np

from ...errors import ConfigError
from ...tensor import Tensor

__all__ = ["CausalVariant", "CausalBias", "causal_upper_left", "causal_lower_right"]


class CausalVariant(enum.IntEnum):
    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias(Tensor):
    """A causal attention mask (a bool Tensor of shape (seq_len_q, seq_len_kv)) that remembers
    its ``variant`` and lengths, as torch's."""

    def __init__(self, variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> None:
        for name, n in (("seq_len_q", seq_len_q), ("seq_len_kv", seq_len_kv)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
                raise ConfigError(f"CausalBias: {name} must be a non-negative integer, got {n!r}")
        variant = CausalVariant(variant)
        self.variant, self.seq_len_q, self.seq_len_kv = variant, int(seq_len_q), int(seq_len_kv)
        from ...factory import tensor
        plain = tensor(_mask(variant, self.seq_len_q, self.seq_len_kv))
        for name in ("array", "_grad", "_requires_grad", "device", "_ctx", "_version_box",
                     "_hooks"):
            object.__setattr__(self, name, getattr(plain, name))

    def _materialize(self, device=None) -> Tensor:
        """The mask as a plain bool Tensor (on ``device`` if given)."""
        from ...factory import tensor
        out = tensor(_mask(self.variant, self.seq_len_q, self.seq_len_kv))
        return out if device is None else out.to(device)


def _mask(variant: CausalVariant, q: int, kv: int) -> np.ndarray:
    offset = 0 if variant == CausalVariant.UPPER_LEFT else kv - q
    return np.tril(np.ones((q, kv), dtype=bool), k=offset)


def causal_upper_left(*size: int) -> CausalBias:
    """The causal mask aligned to the upper-left corner: query i attends keys j <= i."""
    if len(size) != 2:
        raise ConfigError(f"causal_upper_left: expected (seq_len_q, seq_len_kv), got {size}")
    return CausalBias(CausalVariant.UPPER_LEFT, *size)


def causal_lower_right(*size: int) -> CausalBias:
    """The causal mask aligned to the lower-right corner: query i attends keys
    j <= i + seq_len_kv - seq_len_q (rows of a longer query see nothing: zeros out of sdpa)."""
    if len(size) != 2:
        raise ConfigError(f"causal_lower_right: expected (seq_len_q, seq_len_kv), got {size}")
    if size[0] > size[1]:
        warnings.warn("Lower right causal bias will produce NaNs in the output when "
                      "seq_len_q > seq_len_kv!", stacklevel=2)
    return CausalBias(CausalVariant.LOWER_RIGHT, *size)
