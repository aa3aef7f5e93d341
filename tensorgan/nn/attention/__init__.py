"""``nn.MultiheadAttention`` (transformer GANs, SAGAN-style self-attention over tokens) and the
transformer layers built on it (``TransformerEncoderLayer`` / ``TransformerEncoder``,
``TransformerDecoderLayer`` / ``TransformerDecoder``, ``Transformer``), with torch's parameter
names, shapes, initialization and forward signatures, so a torch state dict loads by name."""
from __future__ import annotations

import contextlib
import copy
import enum
from typing import Any, Callable

import numpy as np

from ... import functional as F, mha as _mha
from ...errors import ConfigError, InputTypeError, ShapeError
from ...factory import tensor
from ...random import Generator
from ...tensor import Tensor, _check_dtype, get_default_dtype
from .. import init
from ..layers import Dropout, LayerNorm, Linear, ModuleList, _empty, _positive_int
from ..module import Module


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
        if generator is None:
            self._reset_parameters()
        else:
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
        ``is_causal`` is a hint that ``attn_mask`` is causal; the mask is what is used.
        The computation is F.multi_head_attention_forward's (one implementation)."""
        owner = "MultiheadAttention"
        _mha._check_inputs(owner, query, key, value, key_padding_mask, (self.embed_dim, self.kdim, self.vdim),
                           self.out_proj.weight.dtype, batch_axis=0 if self.batch_first else 1)
        swap = self.batch_first and query.ndim == 3
        if swap:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        separate = None if self._qkv_same_embed_dim else (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        out, weights = _mha._attention(owner, query, key, value, self.num_heads, self.in_proj_weight,
                                       self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn,
                                       self.dropout if self.training else 0.0, self.out_proj.weight,
                                       self.out_proj.bias, key_padding_mask, need_weights, attn_mask,
                                       separate, None, None, average_attn_weights, is_causal)
        return (out.transpose(0, 1) if swap else out), weights

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"

    def __repr__(self) -> str:      # torch shows out_proj only
        return f"MultiheadAttention(\n  (out_proj): {self.out_proj!r}\n)"


# ---------------------------------------------------------------------------------------------
# Transformer layers (torch.nn.modules.transformer)
# ---------------------------------------------------------------------------------------------
_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation(owner: str, activation: Any) -> Callable:
    """torch's ``_get_activation_fn``: "relu" / "gelu" by name, or any callable (a Module
    becomes the submodule ``activation``, as in torch)."""
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ConfigError(f"{owner}: activation should be relu/gelu, not {activation!r}")
        return _ACTIVATIONS[activation]
    if not callable(activation):
        raise InputTypeError(f"{owner}: activation must be 'relu', 'gelu' or a callable, got "
                             f"{type(activation).__name__}")
    return activation


def _check_tokens(owner: str, name: str, x: Any, d_model: int) -> None:
    """A (S, E) or (S, N, E) / (N, S, E) Tensor with E = d_model, else a typed error naming it."""
    if not isinstance(x, Tensor):
        raise InputTypeError(f"{owner}: {name} must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        raise ShapeError(f"{owner}: {name} must be 3-D (batched) or 2-D (unbatched) with "
                         f"d_model={d_model} features last, got shape {x.shape}")


class _TransformerLayer(Module):
    """What the encoder and decoder layers share: torch's submodules in torch's order (the
    state-dict order) and the residual / feed-forward blocks.  ``blocks`` is 2 (encoder:
    self-attention, feed-forward) or 3 (decoder: self-attention, cross-attention, feed-forward)."""
    blocks = 2

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: Any = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None, dtype: Any = None,
                 *, generator: Generator | None = None):
        super().__init__()
        owner = type(self).__name__
        d_model, nhead = _positive_int("d_model", d_model, owner), _positive_int("nhead", nhead, owner)
        if d_model % nhead:
            raise ConfigError(f"{owner}: d_model ({d_model}) must be divisible by nhead ({nhead})")
        width = _positive_int("dim_feedforward", dim_feedforward, owner)
        made = dict(device=device, dtype=dtype, generator=generator)
        attention = dict(dropout=dropout, bias=bias, batch_first=batch_first, **made)
        self.self_attn = MultiheadAttention(d_model, nhead, **attention)
        if self.blocks == 3:
            self.multihead_attn = MultiheadAttention(d_model, nhead, **attention)
        self.linear1 = Linear(d_model, width, bias=bias, **made)
        self.dropout = Dropout(dropout, generator=generator)
        self.linear2 = Linear(width, d_model, bias=bias, **made)
        self.norm_first = bool(norm_first)
        for i in range(1, self.blocks + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device, dtype=dtype))
        for i in range(1, self.blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout, generator=generator))
        self.activation = _activation(owner, activation)

    def _residual(self, x: Tensor, norm: Module, block: Callable[[Tensor], Tensor]) -> Tensor:
        """``x + block(norm(x))`` with ``norm_first`` (pre-norm), else ``norm(x + block(x))``."""
        return x + block(norm(x)) if self.norm_first else norm(x + block(x))

    def _attention_block(self, attn: MultiheadAttention, dropout: Module, x: Tensor, source: Tensor | None,
                         mask: Any, key_padding_mask: Any, is_causal: bool) -> Tensor:
        """``dropout(attn(x, source, source))``: self-attention when ``source`` is None."""
        source = x if source is None else source
        out = attn(x, source, source, attn_mask=mask, key_padding_mask=key_padding_mask,
                   need_weights=False, is_causal=is_causal)[0]
        return dropout(out)

    def _ff_block(self, x: Tensor) -> Tensor:
        """``dropout_last(linear2(dropout(activation(linear1(x)))))``."""
        out = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return getattr(self, f"dropout{self.blocks}")(out)

    def _self_attention(self, x: Tensor, mask: Any, key_padding_mask: Any, is_causal: bool) -> Tensor:
        """The first residual block: self-attention under ``norm1``."""
        return self._residual(x, self.norm1, lambda t: self._attention_block(
            self.self_attn, self.dropout1, t, None, mask, key_padding_mask, is_causal))


class TransformerEncoderLayer(_TransformerLayer):
    """``torch.nn.TransformerEncoderLayer``: self-attention then a feed-forward block
    (``linear2(dropout(activation(linear1(x))))``), each residual, with LayerNorm after the sum
    (post-norm, torch's default) or before the block (``norm_first=True``).  Inputs (S, N, E),
    (N, S, E) with ``batch_first``, or unbatched (S, E)."""

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool = False) -> Tensor:
        """Masks as MultiheadAttention's (bool True = not attended, float added);
        ``is_causal`` is a hint that ``src_mask`` is causal and needs it, as torch."""
        _check_tokens(type(self).__name__, "src", src, self.self_attn.embed_dim)
        x = self._self_attention(src, src_mask, src_key_padding_mask, is_causal)
        return self._residual(x, self.norm2, self._ff_block)


class TransformerDecoderLayer(_TransformerLayer):
    """``torch.nn.TransformerDecoderLayer``: self-attention over ``tgt``, cross-attention
    (``multihead_attn``) from it to ``memory``, then the feed-forward block, each residual with
    ``norm1`` / ``norm2`` / ``norm3`` after the sum (or before the block with ``norm_first``)."""
    blocks = 3

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        owner, d_model = type(self).__name__, self.self_attn.embed_dim
        _check_tokens(owner, "tgt", tgt, d_model)
        _check_tokens(owner, "memory", memory, d_model)
        x = self._self_attention(tgt, tgt_mask, tgt_key_padding_mask, tgt_is_causal)
        x = self._residual(x, self.norm2, lambda t: self._attention_block(
            self.multihead_attn, self.dropout2, t, memory, memory_mask, memory_key_padding_mask,
            memory_is_causal))
        return self._residual(x, self.norm3, self._ff_block)


def _get_clones(module: Module, n: int, owner: str) -> ModuleList:
    """``n`` deep copies of ``module`` (equal initial weights, as torch); a Generator a layer
    holds (Dropout's) is shared by the copies, not copied, so their masks differ."""
    if not isinstance(module, Module):
        raise InputTypeError(f"{owner}: the layer must be a Module, got {type(module).__name__}")
    n = _positive_int("num_layers", n, owner)
    generators = [g for m in module.modules() for g in vars(m).values() if isinstance(g, Generator)]
    return ModuleList(copy.deepcopy(module, {id(g): g for g in generators}) for _ in range(n))


def _detect_is_causal_mask(mask: Tensor | None, is_causal: bool | None, size: int) -> bool:
    """torch's: an explicit ``is_causal``, else whether ``mask`` equals the causal mask."""
    if is_causal is not None or not isinstance(mask, Tensor):
        return bool(is_causal)
    if mask.shape != (size, size):
        return False
    causal = np.triu(np.ones((size, size), bool), 1)
    values = mask.numpy()
    return bool(np.array_equal(values, causal) if values.dtype == np.bool_
                else np.array_equal(values, np.where(causal, -np.inf, 0.0)))


def _seq_len(x: Tensor, batch_first: bool) -> int:
    return x.shape[1 if batch_first and x.ndim == 3 else 0]


def _final_norm(owner: str, norm: Any) -> Module | None:
    if norm is not None and not isinstance(norm, Module):
        raise InputTypeError(f"{owner}: norm must be a Module or None, got {type(norm).__name__}")
    return norm


class TransformerEncoder(Module):
    """``torch.nn.TransformerEncoder``: ``num_layers`` deep copies of ``encoder_layer`` (state
    dict ``layers.0. ...``) applied in turn, then ``norm`` if given.  ``enable_nested_tensor``
    and ``mask_check`` are accepted for torch's signature; tensorgan has no nested tensors."""

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers, "TransformerEncoder")
        self.num_layers = len(self.layers)
        self.norm = _final_norm("TransformerEncoder", norm)
        self.enable_nested_tensor, self.mask_check = bool(enable_nested_tensor), bool(mask_check)

    def forward(self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        """``is_causal=None``: detected from ``mask`` (as torch; a hint only)."""
        first = self.layers[0]
        batch_first = getattr(getattr(first, "self_attn", None), "batch_first", False)
        if isinstance(src, Tensor):
            is_causal = _detect_is_causal_mask(mask, is_causal, _seq_len(src, batch_first))
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return out if self.norm is None else self.norm(out)


class TransformerDecoder(Module):
    """``torch.nn.TransformerDecoder``: ``num_layers`` deep copies of ``decoder_layer`` applied
    in turn to ``tgt`` (each attending to ``memory``), then ``norm`` if given."""

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers, "TransformerDecoder")
        self.num_layers = len(self.layers)
        self.norm = _final_norm("TransformerDecoder", norm)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        """``tgt_is_causal=None``: detected from ``tgt_mask`` (as torch; a hint only)."""
        batch_first = getattr(getattr(self.layers[0], "self_attn", None), "batch_first", False)
        if isinstance(tgt, Tensor):
            tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, _seq_len(tgt, batch_first))
        out = tgt
        for layer in self.layers:
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask,
                        memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """``torch.nn.Transformer``: a TransformerEncoder over ``src`` (``encoder``, with a final
    LayerNorm) and a TransformerDecoder over ``tgt`` attending to its output (``decoder``);
    every weight matrix re-drawn with xavier_uniform_, as torch.  ``custom_encoder`` /
    ``custom_decoder`` replace the built ones."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: Any = "relu", custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: Any = None, dtype: Any = None, *, generator: Generator | None = None):
        super().__init__()
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                      batch_first, norm_first, bias, device, dtype)
        made = dict(eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(*layer_args, generator=generator), num_encoder_layers, LayerNorm(d_model, **made))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(*layer_args, generator=generator), num_decoder_layers, LayerNorm(d_model, **made))
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p, generator=generator)
        self.d_model, self.nhead, self.batch_first = int(d_model), int(nhead), bool(batch_first)

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        """The decoder's output, shaped as ``tgt``."""
        for name, x in (("src", src), ("tgt", tgt)):
            _check_tokens("Transformer", name, x, self.d_model)
        axis = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[axis] != tgt.shape[axis]):
            raise ShapeError(f"Transformer: the batch number of src and tgt must be equal, got "
                             f"shapes {src.shape} and {tgt.shape} (batch_first={self.batch_first})")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
        """The (sz, sz) causal mask: -inf above the diagonal (later positions), 0 elsewhere;
        float32 unless ``dtype`` says (a float dtype)."""
        if isinstance(sz, bool) or not isinstance(sz, (int, np.integer)) or sz < 0:
            raise ConfigError(f"generate_square_subsequent_mask: sz must be a non-negative integer, got {sz!r}")
        dt = _check_dtype(get_default_dtype() if dtype is None else dtype)     # the mask holds -inf
        return tensor(np.triu(np.full((int(sz), int(sz)), -np.inf, dt), 1), dtype=dt, device=device)


class SDPBackend(enum.IntEnum):
    """torch.nn.attention.SDPBackend: the kernels ``scaled_dot_product_attention`` may use.
    tensorgan has one (the math one), so the choice only decides whether it may run."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


@contextlib.contextmanager
def sdpa_kernel(backends: "SDPBackend | list", set_priority: bool = False):
    """torch.nn.attention.sdpa_kernel: inside, ``F.scaled_dot_product_attention`` may use only
    ``backends``. tensorgan computes attention one way (the math implementation), so this runs
    it when MATH or FLASH_ATTENTION (which torch runs on the CPU) is allowed, and refuses with a
    DeviceError (a RuntimeError, as torch's "no viable backend") otherwise."""
    chosen = list(backends) if isinstance(backends, (list, tuple, set)) else [backends]
    for b in chosen:
        if not isinstance(b, SDPBackend):
            raise InputTypeError(f"sdpa_kernel: backends must be an SDPBackend or a list of "
                                 f"SDPBackend members, got {type(b).__name__}")
    if not isinstance(set_priority, bool):
        raise InputTypeError(f"sdpa_kernel: set_priority must be a bool, got {set_priority!r}")
    previous = F._sdpa_backends
    F._sdpa_backends = {int(b) for b in chosen}
    try:
        yield
    finally:
        F._sdpa_backends = previous


__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear", "TransformerEncoderLayer",
           "TransformerEncoder", "TransformerDecoderLayer", "TransformerDecoder", "Transformer",
           "SDPBackend", "sdpa_kernel", "bias"]

from . import bias  # noqa: E402  (torch.nn.attention.bias: causal_upper_left / causal_lower_right)
