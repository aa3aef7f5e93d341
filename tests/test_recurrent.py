"""Recurrent layers (``nn.RNN`` / ``LSTM`` / ``GRU`` and their cells): outputs and final states
against a NumPy loop written from torch's equations, float64 gradchecks and gradgradchecks,
shapes for every layout, torch's state-dict keys and init, and the refusals."""
import math
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import ConfigError, DTypeError, InputTypeError, ShapeError

MODES = {"RNN_TANH": (nn.RNN, {}), "RNN_RELU": (nn.RNN, {"nonlinearity": "relu"}),
         "LSTM": (nn.LSTM, {}), "LSTM_PROJ": (nn.LSTM, {"proj_size": 2}), "GRU": (nn.GRU, {})}


def sample(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def t64(a, grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# -- the reference: torch's equations, one NumPy step at a time -----------------------------------
def np_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def np_step(mode, x, h, c, p, suffix):
    """One time step of torch's documented equations; ``p``: the state dict as arrays."""
    gi = x @ p["weight_ih" + suffix].T + p.get("bias_ih" + suffix, 0.0)
    gh = h @ p["weight_hh" + suffix].T + p.get("bias_hh" + suffix, 0.0)
    if mode == "GRU":
        size = gi.shape[-1] // 3
        r = np_sigmoid(gi[..., :size] + gh[..., :size])
        z = np_sigmoid(gi[..., size:2 * size] + gh[..., size:2 * size])
        n = np.tanh(gi[..., 2 * size:] + r * gh[..., 2 * size:])
        return (1 - z) * n + z * h, None
    if mode.startswith("LSTM"):
        i, f, g, o = np.split(gi + gh, 4, axis=-1)
        c = np_sigmoid(f) * c + np_sigmoid(i) * np.tanh(g)
        h = np_sigmoid(o) * np.tanh(c)
        return (h @ p["weight_hr" + suffix].T if "weight_hr" + suffix in p else h), c
    return (np.tanh(gi + gh) if mode == "RNN_TANH" else np.maximum(gi + gh, 0.0)), None


def np_sequence(mode, x, h0, c0, p, layers, directions):
    """(output (L, N, D * H_out), h_n, c_n) for time-major x, layer by layer."""
    h_n, c_n = [], []
    for layer in range(layers):
        outs = []
        for d in range(directions):
            k = layer * directions + d
            h, c = h0[k], None if c0 is None else c0[k]
            seq = [None] * len(x)
            for t in (reversed(range(len(x))) if d else range(len(x))):
                h, c = np_step(mode, x[t], h, c, p, f"_l{layer}" + ("_reverse" if d else ""))
                seq[t] = h
            outs.append(np.stack(seq))
            h_n.append(h)
            c_n.append(c)
        x = np.concatenate(outs, axis=-1)
    return x, np.stack(h_n), None if c0 is None else np.stack(c_n)


def arrays(module):
    return {k: np.asarray(v) for k, v in module.state_dict().items()}


def make(mode, layers=1, bidirectional=False, batch_first=False, bias=True, **extra):
    cls, kwargs = MODES[mode]
    return cls(3, 4, layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional,
               dtype=tg.float64, **kwargs, **extra)


# -- values against the NumPy loop ----------------------------------------------------------------
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layout", ["time_major", "batch_first", "unbatched"])
@pytest.mark.parametrize("give_hx", [False, True])
def test_sequence_layers_match_the_numpy_loop(mode, layers, bidirectional, layout, give_hx):
    m = make(mode, layers, bidirectional, batch_first=layout == "batch_first", bias=layers == 1 or not give_hx)
    D, L, N = 1 + bidirectional, 5, 2
    lstm = mode.startswith("LSTM")
    h_out = 2 if mode == "LSTM_PROJ" else 4
    x = sample((L, N, 3), 1)
    h0 = sample((D * layers, N, h_out), 2) if give_hx else np.zeros((D * layers, N, h_out))
    c0 = (sample((D * layers, N, 4), 3) if give_hx else np.zeros((D * layers, N, 4))) if lstm else None
    want_out, want_h, want_c = np_sequence(mode, x, h0, c0, arrays(m), layers, D)
    if layout == "unbatched":
        x, h0, c0, want_out, want_h = x[:, 0], h0[:, 0], None if c0 is None else c0[:, 0], want_out[:, 0], want_h[:, 0]
        want_c = None if want_c is None else want_c[:, 0]
    elif layout == "batch_first":
        x, want_out = x.transpose(1, 0, 2), want_out.transpose(1, 0, 2)
    hx = None if not give_hx else (t64(h0), t64(c0)) if lstm else t64(h0)
    out, state = m(t64(x), hx)
    h_n, c_n = state if lstm else (state, None)
    np.testing.assert_allclose(out.numpy(), want_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_n.numpy(), want_h, rtol=1e-12, atol=1e-14)
    if lstm:
        np.testing.assert_allclose(c_n.numpy(), want_c, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("layout", ["time_major", "batch_first", "unbatched"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 3])
def test_output_and_state_shapes(layout, bidirectional, layers):
    L, N, D = 7, 2, 1 + bidirectional
    shape = {"time_major": (L, N, 3), "batch_first": (N, L, 3), "unbatched": (L, 3)}[layout]
    batch = () if layout == "unbatched" else (N,)
    out_lead = shape[:-1]
    for mode in MODES:
        m = make(mode, layers, bidirectional, batch_first=layout == "batch_first")
        out, state = m(t64(sample(shape)))
        h_out = 2 if mode == "LSTM_PROJ" else 4
        assert out.shape == out_lead + (D * h_out,)
        if mode.startswith("LSTM"):
            assert state[0].shape == (D * layers,) + batch + (h_out,)
            assert state[1].shape == (D * layers,) + batch + (4,)
        else:
            assert state.shape == (D * layers,) + batch + (4,)


def test_an_empty_batch_gives_empty_outputs():
    out, (h, c) = nn.LSTM(3, 4)(tg.zeros(5, 0, 3))
    assert out.shape == (5, 0, 4) and h.shape == c.shape == (1, 0, 4)
    assert nn.GRUCell(3, 4)(tg.zeros(0, 3)).shape == (0, 4)


@pytest.mark.parametrize("cls,mode,extra", [(nn.RNNCell, "RNN_TANH", {}), (nn.RNNCell, "RNN_RELU", {"nonlinearity": "relu"}),
                                            (nn.LSTMCell, "LSTM", {}), (nn.GRUCell, "GRU", {})])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_one_numpy_step(cls, mode, extra, bias, batched):
    cell = cls(3, 4, bias, dtype=tg.float64, **extra)
    p = {k + "_l0": v for k, v in arrays(cell).items()}
    x, h, c = sample((2, 3), 1), sample((2, 4), 2), sample((2, 4), 3)
    want_h, want_c = np_step(mode, x, h, c, p, "_l0")
    if not batched:
        x, h, c, want_h, want_c = x[0], h[0], c[0], want_h[0], None if want_c is None else want_c[0]
    lstm = cls is nn.LSTMCell
    got = cell(t64(x), (t64(h), t64(c)) if lstm else t64(h))
    np.testing.assert_allclose((got[0] if lstm else got).numpy(), want_h, rtol=1e-12, atol=1e-14)
    if lstm:
        np.testing.assert_allclose(got[1].numpy(), want_c, rtol=1e-12, atol=1e-14)
    zeros = np.zeros_like(h)    # hx=None: zero states
    want_h0, _ = np_step(mode, x, zeros, zeros, p, "_l0")
    got0 = cell(t64(x))
    np.testing.assert_allclose((got0[0] if lstm else got0).numpy(), want_h0, rtol=1e-12, atol=1e-14)


def test_a_sequence_layer_is_its_cell_unrolled():
    """nn.GRU with one layer runs the same step as nn.GRUCell with the same weights."""
    gru, cell = nn.GRU(3, 4, dtype=tg.float64), nn.GRUCell(3, 4, dtype=tg.float64)
    cell.load_state_dict({k[:-3]: v for k, v in gru.state_dict().items()})
    x = t64(sample((5, 2, 3)))
    h = tg.zeros(2, 4, dtype=tg.float64)
    outs = []
    for t in range(5):
        h = cell(x[t], h)
        outs.append(h.numpy())
    out, h_n = gru(x)
    np.testing.assert_allclose(out.numpy(), np.stack(outs), rtol=1e-13)
    np.testing.assert_allclose(h_n.numpy()[0], outs[-1], rtol=1e-13)


def test_dropout_between_layers_in_training_only():
    m = nn.RNN(3, 4, 2, dropout=1.0, dtype=tg.float64)
    x = sample((4, 2, 3))
    p = arrays(m)
    h0 = np.zeros((2, 2, 4))
    # dropout 1 zeroes layer 0's output: layer 1 then sees zeros
    first, _, _ = np_sequence("RNN_TANH", x, h0, None, p, 1, 1)
    top = {k.replace("_l1", "_l0"): v for k, v in p.items() if "_l1" in k}
    want, _, _ = np_sequence("RNN_TANH", np.zeros_like(first), h0[1:], None, top, 1, 1)
    np.testing.assert_allclose(m(t64(x))[0].numpy(), want, rtol=1e-12)
    m.eval()
    want_eval, _, _ = np_sequence("RNN_TANH", x, h0, None, p, 2, 1)
    np.testing.assert_allclose(m(t64(x))[0].numpy(), want_eval, rtol=1e-12)
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.GRU(3, 4, dropout=0.5)


# -- gradients ------------------------------------------------------------------------------------
def _cell_fn(cell, lstm):
    def fn(x, h, c, *params):
        out = cell(x, (h, c) if lstm else h)
        return tg.cat([out[0], out[1]], dim=-1) if lstm else out
    return fn


@pytest.mark.parametrize("cls,extra", [(nn.RNNCell, {}), (nn.RNNCell, {"nonlinearity": "relu"}),
                                       (nn.LSTMCell, {}), (nn.GRUCell, {})])
def test_cell_gradcheck_and_gradgradcheck(cls, extra):
    tg.manual_seed(0)
    cell = cls(2, 3, dtype=tg.float64, **extra)
    x, h, c = t64(sample((2, 2), 1), True), t64(sample((2, 3), 2), True), t64(sample((2, 3), 3), True)
    fn = _cell_fn(cell, cls is nn.LSTMCell)
    inputs = [x, h, c, *cell.parameters()]
    assert tg.gradcheck(fn, inputs)
    assert tg.gradgradcheck(fn, inputs, projections=1)


def _sequence_fn(m, lstm):
    def fn(x, h, c, *params):
        out, state = m(x, (h, c) if lstm else h)
        states = list(state) if lstm else [state]
        return tg.cat([t.reshape(-1) for t in [out] + states])
    return fn


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_two_layer_bidirectional_gradcheck(mode):
    tg.manual_seed(1)
    cls, kwargs = MODES[mode]
    m = cls(2, 2, 2, bidirectional=True, batch_first=True, dtype=tg.float64, **kwargs)
    x = t64(sample((2, 3, 2), 1), True)
    h, c = t64(sample((4, 2, 2), 2), True), t64(sample((4, 2, 2), 3), True)
    fn = _sequence_fn(m, mode == "LSTM")
    assert tg.gradcheck(fn, [x, h, c, *m.parameters()], projections=1)
    assert tg.gradgradcheck(fn, [x, h, c, m.weight_hh_l0, m.weight_ih_l1_reverse], projections=1)


def test_lstm_projection_gradcheck():
    tg.manual_seed(2)
    m = nn.LSTM(2, 3, proj_size=2, dtype=tg.float64)
    x, h, c = t64(sample((3, 2, 2), 1), True), t64(sample((1, 2, 2), 2), True), t64(sample((1, 2, 3), 3), True)
    assert tg.gradcheck(_sequence_fn(m, True), [x, h, c, *m.parameters()], projections=1)


# -- parameters: names, shapes, init --------------------------------------------------------------
def test_state_dict_keys_and_shapes_are_torchs():
    m = nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    keys = [f"{w}_l{k}{s}" for k in range(2) for s in ("", "_reverse")
            for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")]
    assert list(m.state_dict()) == keys
    shapes = {k: v.shape for k, v in m.state_dict().items()}
    assert shapes["weight_ih_l0"] == (20, 3) and shapes["weight_ih_l1_reverse"] == (20, 4)
    assert shapes["weight_hh_l0"] == (20, 2) and shapes["weight_hr_l1"] == (2, 5)
    assert shapes["bias_hh_l1_reverse"] == (20,)
    assert list(nn.GRU(3, 5, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert {k: v.shape for k, v in nn.GRU(3, 5).state_dict().items()}["weight_ih_l0"] == (15, 3)
    assert [k for k, _ in nn.LSTMCell(3, 5).named_parameters()] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert nn.RNNCell(3, 5).weight_hh.shape == (5, 5) and nn.GRUCell(3, 5, bias=False).bias_ih is None
    assert [[p.shape for p in ps] for ps in nn.RNN(3, 5).all_weights] == [[(5, 3), (5, 5), (5,), (5,)]]


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_init_is_uniform_within_one_over_sqrt_hidden_from_the_generator(cls):
    bound = 1 / math.sqrt(16)
    values = np.concatenate([p.numpy().ravel() for p in cls(8, 16, generator=tg.Generator().manual_seed(3)).parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.95 * bound
    assert abs(values.mean()) < 0.1 * bound        # centred
    again = np.concatenate([p.numpy().ravel() for p in cls(8, 16, generator=tg.Generator().manual_seed(3)).parameters()])
    np.testing.assert_array_equal(values, again)
    tg.manual_seed(4)
    first = cls(8, 16).state_dict()
    tg.manual_seed(4)
    second = cls(8, 16).state_dict()
    assert all(np.array_equal(first[k], second[k]) for k in first)


def test_float32_by_default_and_repr():
    m = nn.LSTM(3, 4, 2, batch_first=True, bidirectional=True)
    assert m.weight_ih_l0.dtype == tg.float32
    assert m(tg.randn(2, 5, 3))[0].dtype == tg.float32
    assert repr(m) == "LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity=relu)"
    m.flatten_parameters()      # torch's cuDNN hook: a no-op


# -- refusals -------------------------------------------------------------------------------------
def test_wrong_input_and_state_shapes_are_refused_naming_them():
    lstm, gru = nn.LSTM(3, 4, 2), nn.GRU(3, 4, batch_first=True)
    with pytest.raises(ShapeError, match=r"input_size = 3.*\(5, 2, 7\)"):
        lstm(tg.randn(5, 2, 7))
    with pytest.raises(ShapeError, match=r"\(1, 5, 2, 3\)"):
        lstm(tg.randn(1, 5, 2, 3))
    with pytest.raises(ShapeError, match=r"hx\[0\] of shape \(2, 2, 4\), got \(1, 2, 4\)"):
        lstm(tg.randn(5, 2, 3), (tg.zeros(1, 2, 4), tg.zeros(2, 2, 4)))
    with pytest.raises(ShapeError, match=r"hx\[1\] of shape \(2, 4\), got \(2, 1, 4\)"):
        lstm(tg.randn(5, 3), (tg.zeros(2, 4), tg.zeros(2, 1, 4)))       # unbatched: 2-D states
    with pytest.raises(ShapeError, match=r"hx of shape \(1, 6, 4\), got \(1, 5, 4\)"):
        gru(tg.randn(6, 5, 3), tg.zeros(1, 5, 4))                     # batch_first: N is dim 0
    with pytest.raises(ShapeError, match="sequence length"):
        gru(tg.randn(2, 0, 3))
    with pytest.raises(InputTypeError, match=r"tuple \(h, c\)"):
        lstm(tg.randn(5, 2, 3), tg.zeros(2, 2, 4))
    with pytest.raises(DTypeError, match="float64"):
        gru(tg.randn(2, 5, 3, dtype=tg.float64))
    with pytest.raises(InputTypeError, match="ndarray"):
        gru(np.zeros((2, 5, 3)))


def test_wrong_cell_input_and_state_shapes_are_refused_naming_them():
    cell, lstm_cell = nn.GRUCell(3, 4), nn.LSTMCell(3, 4)
    with pytest.raises(ShapeError, match=r"\(N, 3\) or \(3,\), got \(2, 5\)"):
        cell(tg.randn(2, 5))
    with pytest.raises(ShapeError, match=r"\(N, 3\) or \(3,\), got \(1, 2, 3\)"):
        cell(tg.randn(1, 2, 3))
    with pytest.raises(ShapeError, match=r"hx of shape \(2, 4\), got \(3, 4\)"):
        cell(tg.randn(2, 3), tg.zeros(3, 4))
    with pytest.raises(ShapeError, match=r"hx of shape \(4,\), got \(1, 4\)"):
        cell(tg.randn(3), tg.zeros(1, 4))
    with pytest.raises(ShapeError, match=r"hx\[1\] of shape \(2, 4\), got \(2, 5\)"):
        lstm_cell(tg.randn(2, 3), (tg.zeros(2, 4), tg.zeros(2, 5)))
    with pytest.raises(InputTypeError, match="tuple"):
        lstm_cell(tg.randn(2, 3), tg.zeros(2, 4))


def test_bad_constructor_arguments_are_refused():
    with pytest.raises(ConfigError, match="nonlinearity 'gelu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ConfigError, match="nonlinearity 'sigmoid'"):
        nn.RNNCell(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ConfigError, match="proj_size is only supported for LSTM"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(ConfigError, match=r"proj_size \(4\) must be smaller than hidden_size \(4\)"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ConfigError, match="dropout"):
        nn.LSTM(3, 4, 2, dropout=1.5)
    for bad in ({"hidden_size": 0}, {"input_size": 2.5}, {"num_layers": 0}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            nn.GRU(**{"input_size": 3, "hidden_size": 4, **bad})
    with pytest.raises(ConfigError, match="bidirectional must be a bool"):
        nn.GRU(3, 4, bidirectional=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(3, 4, 2, dropout=0.5)       # two layers: no warning
