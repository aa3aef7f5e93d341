"""Gaps found running pytorch/examples' word_language_model (RNN / LSTM / GRU / Transformer language
model, generate.py) and time_sequence_prediction (LSTMCell + LBFGS, float64) on tensorgan:
``torch.backends.*`` flags, torch.save / torch.load on file objects, a clear error for saving a
whole Module, and attention masks of float32 beside a float64 model."""
import io

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.tensor import _ONCE_WARNED
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import CheckpointError, DTypeError, InputTypeError


# --- torch.backends -------------------------------------------------------------------------
def test_backends_flags_read_and_set_as_torch_code_does():
    # main.py: `if hasattr(torch.backends, "mps") and torch.backends.mps.is_available()`
    assert hasattr(tg.backends, "mps") and tg.backends.mps.is_available() is False
    assert tg.backends.mps.is_built() is False
    import tensorgan.backends.cudnn as cudnn     # `import torch.backends.cudnn as cudnn`
    old = cudnn.benchmark, cudnn.deterministic
    try:
        cudnn.benchmark, cudnn.deterministic = True, True
        assert tg.backends.cudnn.benchmark is True and tg.backends.cudnn.deterministic is True
    finally:
        cudnn.benchmark, cudnn.deterministic = old
    assert cudnn.is_available() is False and isinstance(cudnn.enabled, bool)
    assert isinstance(tg.backends.cuda.matmul.allow_tf32, bool)
    assert tg.backends.cuda.is_built() == tg.cuda.is_available()


# --- torch.save / torch.load with file objects ----------------------------------------------
def test_save_and_load_through_binary_file_objects(tmp_path):
    # main.py: `with open(args.save, 'wb') as f: torch.save(obj, f)` ... `torch.load(f)`
    model = nn.Sequential(nn.Embedding(7, 3), nn.Linear(3, 7))
    path = tmp_path / "model.pt"
    with open(path, "wb") as f:
        assert tg.save(model.state_dict(), f) is None
    with open(path, "rb") as f:
        state = tg.load(f, weights_only=False)
    assert list(state) == list(model.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(state[k]), v)
    fresh = nn.Sequential(nn.Embedding(7, 3), nn.Linear(3, 7))
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh[1].weight.detach().numpy(), model[1].weight.detach().numpy())
    assert tg.load(path)["1.bias"].shape == (7,)           # the same bytes as a path-written file


def test_save_numpy_array_to_open_file_as_generate_sine_wave_does(tmp_path):
    data = np.sin(np.arange(12.0).reshape(3, 4) / 20.0)
    with open(tmp_path / "traindata.pt", "wb") as f:
        tg.save(data, f)
    loaded = tg.load(tmp_path / "traindata.pt")
    assert isinstance(loaded, np.ndarray) and loaded.dtype == np.float64
    np.testing.assert_array_equal(loaded, data)
    buffer = io.BytesIO()
    tg.save({"x": tg.tensor([1.0, 2.0], requires_grad=True), "t": (1, "a")}, buffer)
    buffer.seek(0)
    back = tg.load(buffer, map_location="cpu")
    assert back["t"] == (1, "a") and back["x"].requires_grad and back["x"].tolist() == [1.0, 2.0]


def test_file_object_errors_are_typed(tmp_path):
    with pytest.raises(CheckpointError, match="not an .npz file"):
        tg.load(io.BytesIO(b"not a checkpoint at all"))
    good = io.BytesIO()
    tg.save({"w": np.ones(1000)}, good)
    with pytest.raises(CheckpointError, match="corrupt or truncated|not a valid|not a readable"):
        tg.load(io.BytesIO(good.getvalue()[:300]))
    with open(tmp_path / "t.txt", "w") as f, pytest.raises(InputTypeError, match="binary mode"):
        tg.save({"w": np.ones(2)}, f)
    (tmp_path / "b.bin").write_bytes(good.getvalue())
    with open(tmp_path / "b.bin", "r", encoding="latin-1") as f, \
            pytest.raises(InputTypeError, match="binary mode"):
        tg.load(f)
    with pytest.raises(InputTypeError, match="path .* or a binary file object"):
        tg.save({"w": np.ones(2)}, 3)
    with pytest.raises(InputTypeError, match="path .* or a binary file object"):
        tg.load(3.5)


def test_saving_a_whole_module_says_to_save_its_state_dict(tmp_path):
    # main.py's `torch.save(model, f)` pickles the object; tensorgan never pickles.
    model = nn.LSTM(3, 4)
    for target in (io.BytesIO(), tmp_path / "m.pt"):
        with pytest.raises(CheckpointError, match=r"whole LSTM object.*state_dict\(\)"):
            tg.save(model, target)
    assert not (tmp_path / "m.pt").exists()          # nothing written (atomic)
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(CheckpointError, match=r"whole SGD object \(entry 'opt'\)"):
        tg.save({"opt": opt, "step": 3}, io.BytesIO())


# --- attention masks: float32 masks with a float64 model -------------------------------------
def _causal(sz, dtype):
    mask = (tg.triu(tg.ones(sz, sz)) == 1).transpose(0, 1)      # the example's mask, float32
    return mask.float().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, 0.0).to(dtype)


def test_float32_attn_mask_is_taken_by_a_float64_transformer():
    # word_language_model's TransformerModel(...).double(): the float32 causal mask is cast
    tg.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0).double()
    x = tg.randn(5, 2, 8, dtype=tg.float64)
    out32 = layer(x, src_mask=_causal(5, tg.float32))
    out64 = layer(x, src_mask=_causal(5, tg.float64))
    assert out32.dtype == tg.float64
    np.testing.assert_allclose(out32.detach().numpy(), out64.detach().numpy(), rtol=0, atol=0)
    # causal: position 0's output does not depend on later positions
    y = x.clone()
    y[3:] = tg.randn(2, 2, 8, dtype=tg.float64)
    np.testing.assert_array_equal(layer(y, src_mask=_causal(5, tg.float32))[0].detach().numpy(),
                                  out32[0].detach().numpy())


def test_multihead_attention_masks_float32_with_float64_query_and_not_the_reverse():
    tg.manual_seed(1)
    mha = nn.MultiheadAttention(4, 2).double()
    q = tg.randn(3, 2, 4, dtype=tg.float64)
    pad32 = tg.tensor([[0.0, 0.0, -1.5], [0.0, 0.25, 0.0]])
    a, _ = mha(q, q, q, attn_mask=_causal(3, tg.float32), key_padding_mask=pad32, need_weights=False)
    b, _ = mha(q, q, q, attn_mask=_causal(3, tg.float64), key_padding_mask=pad32.double(),
               need_weights=False)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    mha32 = nn.MultiheadAttention(4, 2)
    with pytest.raises(DTypeError, match="attn_mask must be bool, float32 or float32"):
        mha32(q.float(), q.float(), q.float(), attn_mask=_causal(3, tg.float64))


def test_sdpa_float32_mask_with_float64_query():
    tg.manual_seed(2)
    q, k, v = (tg.randn(2, 3, 4, dtype=tg.float64) for _ in range(3))
    mask = tg.tensor([[0.0, -1.0, -np.inf], [0.5, 0.0, -np.inf], [0.0, 0.0, 0.0]])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = (q.numpy() @ k.numpy().transpose(0, 2, 1)) / 2.0 + mask.numpy().astype(np.float64)
    w = np.exp(scores - scores.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    assert out.dtype == tg.float64
    np.testing.assert_allclose(out.numpy(), w @ v.numpy(), rtol=1e-12, atol=1e-14)
    with pytest.raises(DTypeError):
        F.scaled_dot_product_attention(q.float(), k.float(), v.float(), attn_mask=mask.double())


# --- the older main.py's idioms ---------------------------------------------------------------
def test_deprecated_add_alpha_first_overload_as_torch_still_accepts():
    # word_language_model's earlier `p.data.add_(-lr, p.grad.data)`: x += alpha * other
    p = nn.Parameter(tg.ones(3))
    p.grad = tg.tensor([2.0, 4.0, -2.0])
    _ONCE_WARNED.pop("deprecated_overload", None)   # torch warns once a program
    with pytest.warns(UserWarning, match="deprecated"):
        p.data.add_(-0.5, p.grad.data)
    assert p.tolist() == [0.0, -1.0, 2.0]
    x, g = tg.tensor([1.0]), tg.tensor([2.0])        # a one-element other: not silently `if g`
    _ONCE_WARNED.pop("deprecated_overload", None)   # torch warns once a program
    with pytest.warns(UserWarning):
        assert x.add(3, g).tolist() == [7.0] and x.sub(3, g).tolist() == [-5.0]
    _ONCE_WARNED.pop("deprecated_overload", None)   # torch warns once a program
    with pytest.warns(UserWarning):
        assert x.sub_(0.25, g).tolist() == [0.5]
    with pytest.raises(InputTypeError, match="number alpha"):
        x.add_(g, g)


def test_cuda_manual_seed_leaves_the_cpu_stream_alone():
    tg.manual_seed(1111)
    a = tg.rand(4).tolist()
    tg.manual_seed(1111)
    tg.cuda.manual_seed(7)
    tg.cuda.manual_seed_all(7)
    assert tg.rand(4).tolist() == a
    with pytest.raises(InputTypeError):
        tg.cuda.manual_seed(1.5)
