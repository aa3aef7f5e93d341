"""``nn.MultiheadAttention`` (transformer GANs, SAGAN-style self-attention over tokens), with
torch's parameter names, shapes, initialization and forward signature, so a torch state dict
loads by name."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from ..errors import ConfigError, DTypeError, InputTypeError, ShapeError
from ..factory import concat
from ..random import Generator
from ..tensor import Tensor
from . import init
from .layers import Linear, _empty, _positive_int
from .module import Module


class NonDynamicallyQuantizableLinear(Linear):
    """torch's name for MultiheadAttention's ``out_proj``: a plain Linear."""


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of ``embed_dim // num_heads`` features each:
    ``out_proj(concat_h softmax(q_h k_h^T / sqrt(d) + mask) v_h)`` with q, k, v the input
    projections (one packed ``in_proj_weight`` (3E, E), or ``q/k/v_proj_weight`` when ``kdim`` /
    ``vdim`` differ from ``embed_dim``).  Inputs are (L, N, E) -- (N, L, E) with
    ``batch_first`` -- or unbatched (L, E)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None, dtype: Any = None,
                 *, generator: Generator | None = None):
        super().__init__()
        owner = "MultiheadAttention"
        self.embed_dim = _positive_int("embed_dim", embed_dim, owner)
        self.num_heads = _positive_int("num_heads", num_heads, owner)
        self.kdim = self.embed_dim if kdim is None else _positive_int("kdim", kdim, owner)
        self.vdim = self.embed_dim if vdim is None else _positive_int("vdim", vdim, owner)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        if not 0.0 <= F._scalar(owner, "dropout", dropout) <= 1.0:
            raise ConfigError(f"{owner}: dropout must be in [0, 1], got {dropout}")
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.head_dim = self.embed_dim // self.num_heads
        if self.head_dim * self.num_heads != self.embed_dim:
            raise ConfigError(f"{owner}: embed_dim must be divisible by num_heads, got {embed_dim} "
                              f"and {num_heads}")
        e = self.embed_dim
        separate = not self._qkv_same_embed_dim
        for name, shape in (("in_proj_weight", (3 * e, e)), ("q_proj_weight", (e, e)),
                            ("k_proj_weight", (e, self.kdim)), ("v_proj_weight", (e, self.vdim))):
            wanted = separate != (name == "in_proj_weight")
            self.register_parameter(name, _empty(shape, dtype, device) if wanted else None)
        self.register_parameter("in_proj_bias", _empty((3 * e,), dtype, device) if bias else None)
        self.out_proj = NonDynamicallyQuantizableLinear(e, e, bias=bias, generator=generator,
                                                        device=device, dtype=dtype)
        self.bias_k = _empty((1, 1, e), dtype, device) if add_bias_kv else None
        self.bias_v = _empty((1, 1, e), dtype, device) if add_bias_kv else None
        self.add_zero_attn = bool(add_zero_attn)
        self._reset_parameters(generator)

    def _reset_parameters(self, generator: Generator | None = None) -> None:
        """torch's: xavier_uniform_ input projections, zero biases, xavier_normal_ bias_k / bias_v."""
        for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
            if getattr(self, name) is not None:
                init.xavier_uniform_(getattr(self, name), generator=generator)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for extra in (self.bias_k, self.bias_v):
            if extra is not None:
                init.xavier_normal_(extra, generator=generator)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None,
                average_attn_weights: bool = True, is_causal: bool = False) -> tuple:
        """``(attn_output, attn_output_weights)``: output as the query's layout; weights
        (N, L, S) averaged over heads, (N, heads, L, S) without ``average_attn_weights``, None
        without ``need_weights``.  Masks: bool True = *not* attended (torch's MHA convention,
        the opposite of F.scaled_dot_product_attention's), float ones are added.
        ``is_causal`` is a hint that ``attn_mask`` is causal; the mask is what is used."""
        batched = self._check_inputs(query, key, value, key_padding_mask)
        if is_causal and attn_mask is None:
            raise ConfigError("MultiheadAttention: is_causal=True is a hint and needs attn_mask (the "
                              "causal mask itself), as torch")
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            key_padding_mask = None if key_padding_mask is None else key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        out, weights = self._attend(query, key, value, key_padding_mask, need_weights, attn_mask)
        if weights is not None and average_attn_weights:
            weights = weights.mean(axis=1)
        if not batched:
            return out.squeeze(1), None if weights is None else weights.squeeze(0)
        return (out.transpose(0, 1) if self.batch_first else out), weights

    def _check_inputs(self, query: Any, key: Any, value: Any, key_padding_mask: Any) -> bool:
        owner = "MultiheadAttention"
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise InputTypeError(f"{owner}: {name} must be a Tensor, got {type(t).__name__}")
            if t.dtype != self.out_proj.weight.dtype:
                raise DTypeError(f"{owner}: {name} is {t.dtype} but the weights are "
                                 f"{self.out_proj.weight.dtype}")
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ShapeError(f"{owner}: query, key and value must all be 3-D (batched) or 2-D "
                             f"(unbatched), got {query.shape}, {key.shape}, {value.shape}")
        for name, t, width in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            if t.shape[-1] != width:
                raise ShapeError(f"{owner}: {name} must have {width} features, got shape {t.shape}")
        axis = 0 if self.batch_first or query.ndim == 2 else 1
        if key.shape[:-1] != value.shape[:-1] or query.ndim == 3 and query.shape[axis] != key.shape[axis]:
            raise ShapeError(f"{owner}: query, key and value disagree on the batch, or key and value on "
                             f"the sequence length: {query.shape}, {key.shape}, {value.shape}")
        if key_padding_mask is not None and (not isinstance(key_padding_mask, Tensor)
                                             or key_padding_mask.ndim != query.ndim - 1):
            raise ShapeError(f"{owner}: key_padding_mask must be a {query.ndim - 1}-D Tensor "
                             f"((N, S) or (S,)), got {getattr(key_padding_mask, 'shape', key_padding_mask)!r}")
        return query.ndim == 3

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple:
        """q, k, v: the packed projection split in three (one GEMM for self-attention), or the
        separate weights with the bias's thirds."""
        biases = (None,) * 3 if self.in_proj_bias is None else self.in_proj_bias.chunk(3)
        if not self._qkv_same_embed_dim:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        elif query is key and key is value:
            return F.linear(query, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        else:
            weights = self.in_proj_weight.chunk(3)
        return tuple(F.linear(t, w, b) for t, w, b in zip((query, key, value), weights, biases))

    def _attend(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask, need_weights: bool,
                attn_mask) -> tuple:
        """torch's multi_head_attention_forward on (L, N, E) inputs."""
        length, batch, e = query.shape
        heads, d = self.num_heads, self.head_dim
        q, k, v = self._project(query, key, value)
        attn_mask = self._float_mask(attn_mask, "attn_mask", query)
        key_padding_mask = self._float_mask(key_padding_mask, "key_padding_mask", query)
        if attn_mask is not None:
            attn_mask = self._check_attn_mask(attn_mask, length, key.shape[0], batch)
        if self.bias_k is not None:
            k = concat([k, self.bias_k.expand(1, batch, e)])
            v = concat([v, self.bias_v.expand(1, batch, e)])
            attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
        q, k, v = (t.reshape(t.shape[0], batch * heads, d).transpose(0, 1) for t in (q, k, v))
        if self.add_zero_attn:
            k, v = (concat([t, t.new_zeros(batch * heads, 1, d)], dim=1) for t in (k, v))
            attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
        source = k.shape[1]
        if key_padding_mask is not None:
            if key_padding_mask.shape != (batch, source):
                raise ShapeError(f"MultiheadAttention: key_padding_mask must be (N, S) = "
                                 f"{(batch, source - (self.bias_k is not None) - self.add_zero_attn)}, "
                                 f"got {key_padding_mask.shape}")
            spread = key_padding_mask.reshape(batch, 1, 1, source).expand(batch, heads, 1, source)
            spread = spread.reshape(batch * heads, 1, source)
            attn_mask = spread if attn_mask is None else attn_mask + spread
        p = self.dropout if self.training else 0.0
        if need_weights:
            scores = (q * math.sqrt(1.0 / d)) @ k.transpose(-2, -1)
            weights = F.softmax(scores if attn_mask is None else attn_mask + scores, dim=-1)
            weights = F.dropout(weights, p) if p > 0.0 else weights
            out = (weights @ v).transpose(0, 1).reshape(length * batch, e)
            out = F.linear(out, self.out_proj.weight, self.out_proj.bias).reshape(length, batch, e)
            return out, weights.reshape(batch, heads, length, source)
        if attn_mask is not None:
            attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else \
                attn_mask.reshape(batch, heads, -1, source)
        q, k, v = (t.reshape(batch, heads, t.shape[1], d) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask, p)
        out = out.permute(2, 0, 1, 3).reshape(batch * length, e)
        return F.linear(out, self.out_proj.weight, self.out_proj.bias).reshape(length, batch, e), None

    @staticmethod
    def _float_mask(mask: Any, name: str, query: Tensor) -> Tensor | None:
        """A bool mask (True = not attended) as 0 / -inf of the query's dtype; a float one as is."""
        if mask is None:
            return None
        if not isinstance(mask, Tensor):
            raise InputTypeError(f"MultiheadAttention: {name} must be a Tensor or None, got {type(mask).__name__}")
        if mask.dtype == np.bool_:
            xp = mask.device.xp
            return Tensor._make(xp.where(mask.array, query.dtype.type(-np.inf), query.dtype.type(0)), mask.device)
        if mask.dtype != query.dtype:
            raise DTypeError(f"MultiheadAttention: {name} must be bool or {query.dtype} (the query's "
                             f"dtype), got {mask.dtype}")
        return mask

    def _check_attn_mask(self, mask: Tensor, length: int, source: int, batch: int) -> Tensor:
        """(L, S) -> (1, L, S); (N * heads, L, S) as is; anything else refused as torch does."""
        wanted = {2: (length, source), 3: (batch * self.num_heads, length, source)}.get(mask.ndim)
        if mask.shape != wanted:
            raise ShapeError(f"MultiheadAttention: attn_mask must be (L, S) = {(length, source)} or "
                             f"(N * num_heads, L, S) = {(batch * self.num_heads, length, source)}, "
                             f"got {mask.shape}")
        return mask.unsqueeze(0) if mask.ndim == 2 else mask

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"

    def __repr__(self) -> str:      # torch shows out_proj only
        return f"MultiheadAttention(\n  (out_proj): {self.out_proj!r}\n)"


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """A float mask with one more (attended: 0) key at the end (bias_k, add_zero_attn)."""
    return None if mask is None else F.pad(mask, (0, 1))


__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]
