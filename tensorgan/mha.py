"""``F.multi_head_attention_forward``: torch's functional multi-head attention, the computation of
``nn.MultiheadAttention`` (which calls :func:`_attention` here after checking its inputs).

Inputs are sequence-first, (L, N, E) query and (S, N, kdim / vdim) key / value, or unbatched
(L, E) / (S, kdim / vdim); masks follow torch's MHA convention (bool True = *not* attended,
float masks added to the scores)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import functional as F
from .errors import ConfigError, DTypeError, InputTypeError, ShapeError
from .factory import concat
from .tensor import Tensor

__all__ = ["multi_head_attention_forward"]


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int,
                                 num_heads: int, in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
                                 bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool,
                                 dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
                                 training: bool = True, key_padding_mask: Tensor | None = None,
                                 need_weights: bool = True, attn_mask: Tensor | None = None,
                                 use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
                                 k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
                                 static_k: Tensor | None = None, static_v: Tensor | None = None,
                                 average_attn_weights: bool = True, is_causal: bool = False) -> tuple:
    """torch.nn.functional.multi_head_attention_forward: ``(attn_output, attn_output_weights)``,
    output (L, N, E) (or (L, E)), weights (N, L, S) averaged over heads, (N, heads, L, S) without
    ``average_attn_weights``, None without ``need_weights``. The input projection is the packed
    ``in_proj_weight`` (3E, E), or ``q/k/v_proj_weight`` with ``use_separate_proj_weight``;
    ``static_k`` / ``static_v`` (N * heads, S, E / heads) replace the projected keys / values.
    ``is_causal`` is a hint that ``attn_mask`` is causal: the mask is what is used."""
    op = "multi_head_attention_forward"
    heads = _heads(op, embed_dim_to_check, num_heads)
    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ConfigError(f"{op}: use_separate_proj_weight is True but q_proj_weight, k_proj_weight "
                              f"or v_proj_weight is None")
        kdim, vdim = _width(op, "k_proj_weight", k_proj_weight), _width(op, "v_proj_weight", v_proj_weight)
    elif in_proj_weight is None:
        raise ConfigError(f"{op}: use_separate_proj_weight is False but in_proj_weight is None")
    else:
        kdim = vdim = embed_dim_to_check
    _check_inputs(op, query, key, value, key_padding_mask, (embed_dim_to_check, kdim, vdim),
                  out_proj_weight.dtype, batch_axis=1)
    return _attention(op, query, key, value, heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
                      add_zero_attn, dropout_p if training else 0.0, out_proj_weight, out_proj_bias,
                      key_padding_mask, need_weights, attn_mask,
                      (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight else None,
                      static_k, static_v, average_attn_weights, is_causal)


def _heads(op: str, embed_dim: Any, num_heads: Any) -> int:
    if not F._is_int(num_heads) or num_heads < 1 or not F._is_int(embed_dim) or embed_dim % num_heads:
        raise ConfigError(f"{op}: embed_dim {embed_dim} must be divisible by num_heads {num_heads} "
                          f"(both positive ints)")
    return int(num_heads)


def _width(op: str, name: str, weight: Any) -> int:
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ShapeError(f"{op}: {name} must be a 2-D Tensor, got {getattr(weight, 'shape', weight)!r}")
    return weight.shape[1]


def _check_inputs(op: str, query: Any, key: Any, value: Any, key_padding_mask: Any, widths: tuple,
                  dtype: Any, batch_axis: int) -> None:
    """Tensors of the weights' dtype, all 3-D (batch on ``batch_axis``) or all 2-D (unbatched),
    with ``widths`` = (E, kdim, vdim) features, agreeing on the batch and key / value on S."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise InputTypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.dtype != dtype:
            raise DTypeError(f"{op}: {name} is {t.dtype} but the weights are {dtype}")
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ShapeError(f"{op}: query, key and value must all be 3-D (batched) or 2-D "
                         f"(unbatched), got {query.shape}, {key.shape}, {value.shape}")
    for name, t, width in zip(("query", "key", "value"), (query, key, value), widths):
        if t.shape[-1] != width:
            raise ShapeError(f"{op}: {name} must have {width} features, got shape {t.shape}")
    axis = 0 if query.ndim == 2 else batch_axis
    if key.shape[:-1] != value.shape[:-1] or query.ndim == 3 and query.shape[axis] != key.shape[axis]:
        raise ShapeError(f"{op}: query, key and value disagree on the batch, or key and value on "
                         f"the sequence length: {query.shape}, {key.shape}, {value.shape}")
    if key_padding_mask is not None and (not isinstance(key_padding_mask, Tensor)
                                         or key_padding_mask.ndim != query.ndim - 1):
        raise ShapeError(f"{op}: key_padding_mask must be a {query.ndim - 1}-D Tensor "
                         f"((N, S) or (S,)), got {getattr(key_padding_mask, 'shape', key_padding_mask)!r}")


def _attention(op: str, query: Tensor, key: Tensor, value: Tensor, heads: int, in_proj_weight, in_proj_bias,
               bias_k, bias_v, add_zero_attn: bool, p: float, out_proj_weight, out_proj_bias,
               key_padding_mask, need_weights: bool, attn_mask, separate: tuple | None,
               static_k, static_v, average_attn_weights: bool, is_causal: bool) -> tuple:
    """Checked (L, N, E) or (L, E) inputs -> (output, weights or None); ``p``: the dropout
    probability in effect (0 in eval); ``separate``: (q, k, v) projection weights or None."""
    if is_causal and attn_mask is None:
        raise ConfigError(f"{op}: is_causal=True is a hint and needs attn_mask (the causal mask "
                          f"itself), as torch")
    if (bias_k is None) != (bias_v is None):
        raise ConfigError(f"{op}: bias_k and bias_v must both be set or both be None")
    if bias_k is not None and (static_k is not None or static_v is not None):
        raise ConfigError(f"{op}: bias cannot be added to static key or value (bias_k / bias_v with "
                          f"static_k / static_v)")
    batched = query.ndim == 3
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        key_padding_mask = None if key_padding_mask is None else key_padding_mask.unsqueeze(0)
    out, weights = _attend(op, query, key, value, heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
                           add_zero_attn, p, out_proj_weight, out_proj_bias, key_padding_mask,
                           need_weights, attn_mask, separate, static_k, static_v)
    if weights is not None and average_attn_weights:
        weights = weights.mean(axis=1)
    if not batched:
        return out.squeeze(1), None if weights is None else weights.squeeze(0)
    return out, weights


def _project(query: Tensor, key: Tensor, value: Tensor, in_proj_weight, in_proj_bias,
             separate: tuple | None) -> tuple:
    """q, k, v: the packed projection split in three (one GEMM for self-attention), or the
    separate weights with the bias's thirds."""
    biases = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
    if separate is not None:
        weights = separate
    elif query is key and key is value:
        return F.linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
    else:
        weights = in_proj_weight.chunk(3)
    return tuple(F.linear(t, w, b) for t, w, b in zip((query, key, value), weights, biases))


def _attend(op: str, query: Tensor, key: Tensor, value: Tensor, heads: int, in_proj_weight, in_proj_bias,
            bias_k, bias_v, add_zero_attn: bool, p: float, out_proj_weight, out_proj_bias,
            key_padding_mask, need_weights: bool, attn_mask, separate, static_k, static_v) -> tuple:
    """torch's multi_head_attention_forward on (L, N, E) inputs."""
    length, batch, e = query.shape
    d = e // heads
    q, k, v = _project(query, key, value, in_proj_weight, in_proj_bias, separate)
    attn_mask = _float_mask(op, attn_mask, "attn_mask", query)
    key_padding_mask = _float_mask(op, key_padding_mask, "key_padding_mask", query)
    if attn_mask is not None:
        attn_mask = _check_attn_mask(op, attn_mask, length, key.shape[0], batch, heads)
    if bias_k is not None:
        k = concat([k, bias_k.expand(1, batch, e)])
        v = concat([v, bias_v.expand(1, batch, e)])
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    q, k, v = (t.reshape(t.shape[0], batch * heads, d).transpose(0, 1) for t in (q, k, v))
    k = k if static_k is None else _static(op, "static_k", static_k, batch * heads, d, query)
    v = v if static_v is None else _static(op, "static_v", static_v, batch * heads, d, query)
    if add_zero_attn:
        k, v = (concat([t, t.new_zeros(batch * heads, 1, d)], dim=1) for t in (k, v))
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    source = k.shape[1]
    if key_padding_mask is not None:
        if key_padding_mask.shape != (batch, source):
            raise ShapeError(f"{op}: key_padding_mask must be (N, S) = "
                             f"{(batch, source - (bias_k is not None) - add_zero_attn)}, "
                             f"got {key_padding_mask.shape}")
        spread = key_padding_mask.reshape(batch, 1, 1, source).expand(batch, heads, 1, source)
        spread = spread.reshape(batch * heads, 1, source)
        attn_mask = spread if attn_mask is None else attn_mask + spread
    if need_weights:
        scores = (q * math.sqrt(1.0 / d)) @ k.transpose(-2, -1)
        weights = F.softmax(scores if attn_mask is None else attn_mask + scores, dim=-1)
        weights = F.dropout(weights, p) if p > 0.0 else weights
        out = (weights @ v).transpose(0, 1).reshape(length * batch, e)
        out = F.linear(out, out_proj_weight, out_proj_bias).reshape(length, batch, -1)
        return out, weights.reshape(batch, heads, length, source)
    if attn_mask is not None:
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else \
            attn_mask.reshape(batch, heads, -1, source)
    q, k, v = (t.reshape(batch, heads, t.shape[1], d) for t in (q, k, v))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask, p)
    out = out.permute(2, 0, 1, 3).reshape(batch * length, e)
    return F.linear(out, out_proj_weight, out_proj_bias).reshape(length, batch, -1), None


def _static(op: str, name: str, t: Any, rows: int, d: int, query: Tensor) -> Tensor:
    """static_k / static_v: (N * num_heads, S, head_dim) of the query's dtype, used as is."""
    if not isinstance(t, Tensor) or t.ndim != 3 or t.shape[0] != rows or t.shape[2] != d:
        raise ShapeError(f"{op}: {name} must be (N * num_heads, S, head_dim) = ({rows}, S, {d}), "
                         f"got {getattr(t, 'shape', t)!r}")
    if t.dtype != query.dtype:
        raise DTypeError(f"{op}: {name} is {t.dtype}, the query {query.dtype}")
    return t


def _float_mask(op: str, mask: Any, name: str, query: Tensor) -> Tensor | None:
    """A bool mask (True = not attended) as 0 / -inf of the query's dtype; a float one as is (a
    float32 one cast to the query's dtype, as torch accepts it)."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise InputTypeError(f"{op}: {name} must be a Tensor or None, got {type(mask).__name__}")
    if mask.dtype == np.bool_:
        xp = mask.device.xp
        return Tensor._make(xp.where(mask.array, query.dtype.type(-np.inf), query.dtype.type(0)), mask.device)
    if mask.dtype == np.float32 and query.dtype != np.float32:
        return mask.to(query.dtype)    # torch takes a float32 mask with any query (mask.float())
    if mask.dtype != query.dtype:
        raise DTypeError(f"{op}: {name} must be bool, float32 or {query.dtype} (the query's dtype), "
                         f"got {mask.dtype}")
    return mask


def _check_attn_mask(op: str, mask: Tensor, length: int, source: int, batch: int, heads: int) -> Tensor:
    """(L, S) -> (1, L, S); (N * heads, L, S) as is; anything else refused as torch does."""
    wanted = {2: (length, source), 3: (batch * heads, length, source)}.get(mask.ndim)
    if mask.shape != wanted:
        raise ShapeError(f"{op}: attn_mask must be (L, S) = {(length, source)} or "
                         f"(N * num_heads, L, S) = {(batch * heads, length, source)}, got {mask.shape}")
    return mask.unsqueeze(0) if mask.ndim == 2 else mask


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """A float mask with one more (attended: 0) key at the end (bias_k, add_zero_attn)."""
    return None if mask is None else F.pad(mask, (0, 1))
