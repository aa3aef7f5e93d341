"""nn.TransformerEncoderLayer / TransformerEncoder / TransformerDecoderLayer / TransformerDecoder /
Transformer against a NumPy implementation written from torch's equations (post-norm and
pre-norm), plus gradchecks in float64 (inputs and every parameter), masks, state-dict names,
eval mode and refusals."""
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import ConfigError, DTypeError, InputTypeError, ShapeError


def f64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype=tg.float64, requires_grad=requires_grad)


def randomize(module, seed):
    """Every parameter drawn afresh (distinct layers, non-trivial norms and biases)."""
    rng = np.random.default_rng(seed)
    module.load_state_dict({k: rng.standard_normal(v.shape) * 0.5 for k, v in module.state_dict().items()})
    return module


# ---------------------------------------------------------------------------------------------
# NumPy reference, from torch's documented equations; arrays are (L, N, E)
# ---------------------------------------------------------------------------------------------
def gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


ACTIVATIONS = {"relu": lambda x: np.maximum(x, 0.0), "gelu": gelu, "tanh": np.tanh}


def additive(mask):
    """A bool mask (True = not attended) as 0 / -inf; a float one as is."""
    return np.where(mask, -np.inf, 0.0) if mask.dtype == bool else mask


def attention(sd, prefix, q, kv, heads, attn_mask=None, key_padding_mask=None):
    """softmax(Q_h K_h^T / sqrt(d) + masks) V_h per head, heads concatenated, then out_proj."""
    wq, wk, wv = np.split(sd[prefix + "in_proj_weight"], 3)
    bq, bk, bv = np.split(sd[prefix + "in_proj_bias"], 3)
    Q, K, V = q @ wq.T + bq, kv @ wk.T + bk, kv @ wv.T + bv
    length, batch, e = q.shape
    d = e // heads
    out = np.zeros((length, batch, e))
    for b in range(batch):
        for h in range(heads):
            cols = slice(h * d, (h + 1) * d)
            s = Q[:, b, cols] @ K[:, b, cols].T / math.sqrt(d)
            if attn_mask is not None:
                s = s + additive(attn_mask)
            if key_padding_mask is not None:
                s = s + additive(key_padding_mask[b])[None, :]
            top = s.max(-1, keepdims=True)
            p = np.exp(s - np.where(np.isfinite(top), top, 0.0))     # a fully masked row: all 0,
            p /= np.maximum(p.sum(-1, keepdims=True), 1e-300)        # so its output is 0, as torch
            out[:, b, cols] = p @ V[:, b, cols]
    return out @ sd[prefix + "out_proj.weight"].T + sd[prefix + "out_proj.bias"]


def layer_norm(sd, name, x, eps=1e-5):
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * sd[name + ".weight"] + sd[name + ".bias"]


def residual(x, norm, block, norm_first):
    """torch: pre-norm x + block(norm(x)); post-norm norm(x + block(x))."""
    return x + block(norm(x)) if norm_first else norm(x + block(x))


def feed_forward(sd, p, x, act):
    hidden = ACTIVATIONS[act](x @ sd[p + "linear1.weight"].T + sd[p + "linear1.bias"])
    return hidden @ sd[p + "linear2.weight"].T + sd[p + "linear2.bias"]


def encoder_layer_np(sd, p, x, heads, norm_first, act, mask=None, kpm=None):
    norm = lambda i: lambda t: layer_norm(sd, f"{p}norm{i}", t)
    x = residual(x, norm(1), lambda t: attention(sd, p + "self_attn.", t, t, heads, mask, kpm), norm_first)
    return residual(x, norm(2), lambda t: feed_forward(sd, p, t, act), norm_first)


def decoder_layer_np(sd, p, y, memory, heads, norm_first, act, tgt_mask=None, memory_mask=None,
                     tgt_kpm=None, memory_kpm=None):
    norm = lambda i: lambda t: layer_norm(sd, f"{p}norm{i}", t)
    y = residual(y, norm(1), lambda t: attention(sd, p + "self_attn.", t, t, heads, tgt_mask, tgt_kpm), norm_first)
    y = residual(y, norm(2), lambda t: attention(sd, p + "multihead_attn.", t, memory, heads, memory_mask,
                                                 memory_kpm), norm_first)
    return residual(y, norm(3), lambda t: feed_forward(sd, p, t, act), norm_first)


def state(module):
    return {k: np.asarray(v) for k, v in module.state_dict().items()}


S, T, N, E, H, FF = 5, 4, 3, 8, 2, 12
CAUSAL = np.triu(np.ones((S, S), bool), 1)
KPM = np.zeros((N, S), bool)
KPM[0, -1] = KPM[2, 1:3] = True
TGT_KPM = np.zeros((N, T), bool)
TGT_KPM[1, 0] = True


def layout(batch_first):
    return (lambda a: a.transpose(1, 0, 2)) if batch_first else (lambda a: a)


# ---------------------------------------------------------------------------------------------
# names and construction
# ---------------------------------------------------------------------------------------------
ENCODER_KEYS = ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
                "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"]
DECODER_KEYS = ENCODER_KEYS[:4] + [k.replace("self_attn", "multihead_attn") for k in ENCODER_KEYS[:4]] + \
    ENCODER_KEYS[4:] + ["norm3.weight", "norm3.bias"]


def test_state_dict_names_as_torch():
    for name in ("TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer", "TransformerDecoder",
                 "Transformer"):
        assert name in nn.__all__
    enc = nn.TransformerEncoderLayer(E, H, FF)
    assert list(enc.state_dict()) == ENCODER_KEYS
    assert [name for name, _ in enc.named_children()] == ["self_attn", "linear1", "dropout", "linear2", "norm1",
                                                          "norm2", "dropout1", "dropout2"]
    assert list(nn.TransformerDecoderLayer(E, H, FF).state_dict()) == DECODER_KEYS
    assert list(nn.TransformerEncoderLayer(E, H, FF, bias=False).state_dict()) == \
        [k for k in ENCODER_KEYS if k.endswith("weight")]
    stack = nn.TransformerEncoder(enc, 2, norm=nn.LayerNorm(E))
    assert list(stack.state_dict()) == [f"layers.{i}.{k}" for i in range(2) for k in ENCODER_KEYS] + \
        ["norm.weight", "norm.bias"]
    model = nn.Transformer(E, H, 1, 2, FF)
    assert list(model.state_dict()) == [f"encoder.layers.0.{k}" for k in ENCODER_KEYS] + \
        ["encoder.norm.weight", "encoder.norm.bias"] + \
        [f"decoder.layers.{i}.{k}" for i in range(2) for k in DECODER_KEYS] + ["decoder.norm.weight", "decoder.norm.bias"]
    gelu_layer = nn.TransformerEncoderLayer(E, H, FF, activation=nn.GELU())
    assert isinstance(gelu_layer.activation, nn.GELU) and list(gelu_layer.state_dict()) == ENCODER_KEYS


def test_encoder_layers_are_deep_copies_and_transformer_redraws_matrices():
    layer = nn.TransformerEncoderLayer(E, H, FF, generator=tg.Generator().manual_seed(1))
    stack = nn.TransformerEncoder(layer, 3)
    assert stack.num_layers == 3 and stack.norm is None
    for copy in stack.layers:
        assert copy is not layer and copy.linear1.weight is not layer.linear1.weight
        np.testing.assert_array_equal(copy.linear1.weight.numpy(), layer.linear1.weight.numpy())
        assert copy.dropout.generator is layer.dropout.generator     # shared, so masks differ per layer
    model = nn.Transformer(E, H, 2, 1, FF)
    a, b = (model.encoder.layers[i].linear1.weight.numpy() for i in range(2))
    assert not np.array_equal(a, b)                                  # xavier_uniform_ per matrix
    bound = math.sqrt(6.0 / (E + FF))
    assert np.abs(a).max() <= bound and np.abs(a).max() > bound / 2


# ---------------------------------------------------------------------------------------------
# values against the reference
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_reference(norm_first, activation, batch_first):
    layer = randomize(nn.TransformerEncoderLayer(E, H, FF, 0.0, activation, batch_first=batch_first,
                                                 norm_first=norm_first, dtype=tg.float64), 1)
    x = np.random.default_rng(2).standard_normal((S, N, E))
    lay = layout(batch_first)
    out = layer(f64(lay(x)), src_mask=tg.tensor(CAUSAL), src_key_padding_mask=tg.tensor(KPM), is_causal=True)
    expected = encoder_layer_np(state(layer), "", x, H, norm_first, activation, CAUSAL, KPM)
    np.testing.assert_allclose(out.numpy(), lay(expected), rtol=1e-10, atol=1e-12)
    plain = layer(f64(lay(x)))
    np.testing.assert_allclose(plain.numpy(), lay(encoder_layer_np(state(layer), "", x, H, norm_first, activation)),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer_matches_reference(norm_first, batch_first):
    layer = randomize(nn.TransformerDecoderLayer(E, H, FF, 0.0, "gelu", batch_first=batch_first,
                                                 norm_first=norm_first, dtype=tg.float64), 3)
    rng = np.random.default_rng(4)
    y, memory, memory_mask = rng.standard_normal((T, N, E)), rng.standard_normal((S, N, E)), rng.standard_normal((T, S))
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(T, dtype=tg.float64)
    lay = layout(batch_first)
    out = layer(f64(lay(y)), f64(lay(memory)), tgt_mask=tgt_mask, memory_mask=f64(memory_mask),
                tgt_key_padding_mask=tg.tensor(TGT_KPM), memory_key_padding_mask=tg.tensor(KPM), tgt_is_causal=True)
    expected = decoder_layer_np(state(layer), "", y, memory, H, norm_first, "gelu", tgt_mask.numpy(), memory_mask,
                                TGT_KPM, KPM)
    np.testing.assert_allclose(out.numpy(), lay(expected), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_matches_reference(norm_first):
    model = randomize(nn.Transformer(E, H, 2, 2, FF, 0.0, norm_first=norm_first, dtype=tg.float64), 5)
    rng = np.random.default_rng(6)
    src, tgt = rng.standard_normal((S, N, E)), rng.standard_normal((T, N, E))
    tgt_mask = np.triu(np.ones((T, T), bool), 1)
    out = model(f64(src), f64(tgt), tgt_mask=tg.tensor(tgt_mask), src_key_padding_mask=tg.tensor(KPM),
                memory_key_padding_mask=tg.tensor(KPM))
    sd = state(model)
    memory = src
    for i in range(2):
        memory = encoder_layer_np(sd, f"encoder.layers.{i}.", memory, H, norm_first, "relu", None, KPM)
    memory = layer_norm(sd, "encoder.norm", memory)
    y = tgt
    for i in range(2):
        y = decoder_layer_np(sd, f"decoder.layers.{i}.", y, memory, H, norm_first, "relu", tgt_mask, None, None, KPM)
    np.testing.assert_allclose(out.numpy(), layer_norm(sd, "decoder.norm", y), rtol=1e-9, atol=1e-11)
    assert out.shape == (T, N, E)


def test_unbatched_and_callable_activation():
    stack = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, FF, 0.0, activation=tg.tanh, dtype=tg.float64), 2)
    randomize(stack, 7)
    x = np.random.default_rng(8).standard_normal((S, E))
    expected = x[:, None]
    for i in range(2):
        expected = encoder_layer_np(state(stack), f"layers.{i}.", expected, H, False, "tanh", CAUSAL)
    np.testing.assert_allclose(stack(f64(x), mask=tg.tensor(CAUSAL)).numpy(), expected[:, 0], rtol=1e-10, atol=1e-12)
    decoder = randomize(nn.TransformerDecoder(nn.TransformerDecoderLayer(E, H, FF, 0.0, dtype=tg.float64), 1,
                                              norm=nn.LayerNorm(E, dtype=tg.float64)), 9)
    y = np.random.default_rng(10).standard_normal((T, E))
    sd = state(decoder)
    expected = layer_norm(sd, "norm", decoder_layer_np(sd, "layers.0.", y[:, None], x[:, None], H, False, "relu"))
    np.testing.assert_allclose(decoder(f64(y), f64(x)).numpy(), expected[:, 0], rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# gradients
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_gradcheck_inputs_and_parameters(norm_first):
    layer = randomize(nn.TransformerEncoderLayer(4, 2, 6, 0.0, "gelu", norm_first=norm_first, dtype=tg.float64), 11)
    x = f64(np.random.default_rng(12).standard_normal((3, 2, 4)), True)
    causal, kpm = tg.tensor(np.triu(np.ones((3, 3), bool), 1)), tg.tensor(np.array([[0, 0, 1], [0, 0, 0]], bool))
    assert tg.gradcheck(lambda a, *params: layer(a, src_mask=causal, src_key_padding_mask=kpm),
                        [x, *layer.parameters()])


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_gradcheck_inputs_and_parameters(norm_first):
    layer = randomize(nn.TransformerDecoderLayer(4, 2, 6, 0.0, "gelu", norm_first=norm_first, dtype=tg.float64), 13)
    rng = np.random.default_rng(14)
    y, memory = f64(rng.standard_normal((2, 2, 4)), True), f64(rng.standard_normal((3, 2, 4)), True)
    mask = nn.Transformer.generate_square_subsequent_mask(2, dtype=tg.float64)
    assert tg.gradcheck(lambda a, b, *params: layer(a, b, tgt_mask=mask), [y, memory, *layer.parameters()])


def test_transformer_gradgradcheck_on_inputs():
    model = randomize(nn.Transformer(4, 2, 1, 1, 6, 0.0, activation="gelu", dtype=tg.float64), 15)
    rng = np.random.default_rng(16)
    src, tgt = f64(rng.standard_normal((3, 1, 4)), True), f64(rng.standard_normal((2, 1, 4)), True)
    assert tg.gradcheck(lambda a, b: model(a, b), [src, tgt])
    assert tg.gradgradcheck(lambda a, b: model(a, b), [src, tgt])


# ---------------------------------------------------------------------------------------------
# masks, dropout, eval
# ---------------------------------------------------------------------------------------------
def test_generate_square_subsequent_mask():
    m = nn.Transformer.generate_square_subsequent_mask(3)
    assert m.dtype == tg.float32 and m.shape == (3, 3)
    np.testing.assert_array_equal(m.numpy(), [[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]])
    assert nn.Transformer.generate_square_subsequent_mask(2, dtype=tg.float64).dtype == tg.float64
    assert nn.Transformer.generate_square_subsequent_mask(0).shape == (0, 0)


def test_causal_and_key_padding_masks_hide_tokens():
    layer = randomize(nn.TransformerEncoderLayer(E, H, FF, 0.0, dtype=tg.float64), 17)
    rng = np.random.default_rng(18)
    x = rng.standard_normal((S, N, E))
    changed = x.copy()
    changed[-1] += 1.0                                   # the last token changes
    mask = nn.Transformer.generate_square_subsequent_mask(S, dtype=tg.float64)
    a, b = (layer(f64(t), src_mask=mask, is_causal=True).numpy() for t in (x, changed))
    np.testing.assert_allclose(a[:-1], b[:-1], rtol=1e-12, atol=1e-12)  # earlier positions do not see it
    assert not np.allclose(a[-1], b[-1])
    padded = np.zeros((N, S), bool)
    padded[:, -1] = True                                 # the last token is padding
    a, b = (layer(f64(t), src_key_padding_mask=tg.tensor(padded)).numpy() for t in (x, changed))
    np.testing.assert_allclose(a[:-1], b[:-1], rtol=1e-12, atol=1e-12)
    unmasked = layer(f64(x)).numpy()
    assert not np.allclose(unmasked[:-1], a[:-1])


def test_eval_turns_dropout_off():
    layer = nn.TransformerDecoderLayer(E, H, FF, dropout=0.5, dtype=tg.float64)
    clean = nn.TransformerDecoderLayer(E, H, FF, dropout=0.0, dtype=tg.float64)
    clean.load_state_dict(layer.state_dict())
    rng = np.random.default_rng(19)
    y, memory = f64(rng.standard_normal((T, N, E))), f64(rng.standard_normal((S, N, E)))
    assert not np.allclose(layer(y, memory).numpy(), clean(y, memory).numpy())
    layer.eval()
    assert not layer.dropout1.training and not layer.self_attn.training
    np.testing.assert_array_equal(layer(y, memory).numpy(), clean(y, memory).numpy())


# ---------------------------------------------------------------------------------------------
# refusals
# ---------------------------------------------------------------------------------------------
def test_construction_refusals():
    with pytest.raises(ConfigError, match=r"d_model \(7\) must be divisible by nhead \(2\)"):
        nn.TransformerEncoderLayer(7, 2)
    with pytest.raises(ConfigError, match="divisible"):
        nn.Transformer(10, 4, 1, 1, 8)
    with pytest.raises(ConfigError, match="relu/gelu, not 'tanh'"):
        nn.TransformerDecoderLayer(4, 2, activation="tanh")
    with pytest.raises(InputTypeError, match="activation"):
        nn.TransformerEncoderLayer(4, 2, activation=3)
    with pytest.raises(ConfigError, match="dim_feedforward"):
        nn.TransformerEncoderLayer(4, 2, dim_feedforward=0)
    with pytest.raises(ConfigError, match="num_layers"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8), 0)
    with pytest.raises(InputTypeError, match="Module"):
        nn.TransformerDecoder("layer", 2)
    with pytest.raises(ConfigError, match="sz"):
        nn.Transformer.generate_square_subsequent_mask(-1)
    with pytest.raises(DTypeError):
        nn.Transformer.generate_square_subsequent_mask(3, dtype=tg.int64)


def test_input_refusals():
    enc = nn.TransformerEncoderLayer(4, 2, 8)
    with pytest.raises(ShapeError, match=r"src .*d_model=4.*\(3, 2, 5\)"):
        enc(tg.zeros(3, 2, 5))
    with pytest.raises(ShapeError, match=r"\(1, 3, 2, 4\)"):
        enc(tg.zeros(1, 3, 2, 4))
    with pytest.raises(InputTypeError, match="src must be a Tensor"):
        enc(np.zeros((3, 2, 4)))
    with pytest.raises(ConfigError, match="is_causal"):
        enc(tg.zeros(3, 2, 4), is_causal=True)                  # the hint needs the mask, as torch
    dec = nn.TransformerDecoderLayer(4, 2, 8)
    with pytest.raises(ShapeError, match=r"memory .*\(3, 2, 6\)"):
        dec(tg.zeros(2, 2, 4), tg.zeros(3, 2, 6))
    with pytest.raises(ShapeError):                             # batch 2 against memory's 3
        dec(tg.zeros(2, 2, 4), tg.zeros(3, 3, 4))
    model = nn.Transformer(4, 2, 1, 1, 8)
    with pytest.raises(ShapeError, match="batch number"):
        model(tg.zeros(3, 2, 4), tg.zeros(3, 5, 4))
    with pytest.raises(ShapeError, match="tgt"):
        model(tg.zeros(3, 2, 4), tg.zeros(3, 2, 3))
    with pytest.raises(DTypeError):
        model(tg.zeros(3, 2, 4, dtype=tg.float64), tg.zeros(3, 2, 4, dtype=tg.float64))
