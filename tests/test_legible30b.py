"""The longest user-facing functions split into named steps without changing behaviour: stft /
istft, make_grid, Module.load_state_dict, Optimizer.load_state_dict (and _saved_layout),
swap_in_optimizer_params_and_state, the train command's options and Trainer.fit.  Each pin was
run on the functions before session 30 split them; results are checked against NumPy or
invariants, and the error messages are the ones the functions gave then."""
from __future__ import annotations

import ast
import copy
import inspect
import json
import re
import textwrap
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import cli, nn
from tensorgan import spectral
from tensorgan.data import ArrayDataset
from tensorgan.errors import CheckpointError, ConfigError, ShapeError, StateDictMismatchError
from tensorgan.train import TrainConfig, Trainer
from tensorgan.utils import make_grid
from blobs import blob_images

RNG = np.random.default_rng(30)


# -- stft / istft -------------------------------------------------------------------------------
def _numpy_stft(x: np.ndarray, n_fft: int, hop: int, window: np.ndarray, center: bool,
                mode: str, normalized: bool, onesided: bool) -> np.ndarray:
    """torch.stft's definition: padded window, frames from t * hop, (n_freq, n_frames)."""
    if center:
        x = np.pad(x, (n_fft // 2, n_fft // 2), mode=mode)
    left = (n_fft - len(window)) // 2
    w = np.pad(window, (left, n_fft - len(window) - left))
    frames = np.stack([x[t:t + n_fft] * w for t in range(0, len(x) - n_fft + 1, hop)])
    X = (np.fft.rfft if onesided else np.fft.fft)(frames, axis=-1)
    return (X / np.sqrt(n_fft) if normalized else X).T


@pytest.mark.filterwarnings("ignore:stft with return_complex=False is deprecated")
@pytest.mark.parametrize("n_fft, hop, win, center, mode, normalized, onesided", [
    (16, 4, 16, True, "reflect", False, True), (16, 5, 10, True, "constant", True, True),
    (15, 3, 9, False, "reflect", False, False), (8, 8, 8, True, "reflect", True, False)])
def test_stft_matches_numpys_frames_and_ffts(n_fft, hop, win, center, mode, normalized, onesided):
    x = RNG.standard_normal(61)
    window = np.hanning(win + 2)[1:-1]
    got = tg.stft(tg.tensor(x), n_fft, hop, win, tg.tensor(window), center, mode, normalized,
                  onesided, return_complex=True)
    expected = _numpy_stft(x, n_fft, hop, window, center, mode, normalized, onesided)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)
    pairs = tg.stft(tg.tensor(x), n_fft, hop, win, tg.tensor(window), center, mode, normalized,
                    onesided, return_complex=False)
    np.testing.assert_array_equal(pairs.numpy(), np.stack([got.numpy().real, got.numpy().imag], -1))


def test_stft_align_to_window_frames_win_length_samples_from_each_hop():
    x = RNG.standard_normal(40)
    window = RNG.random(6) + 0.5
    got = tg.stft(tg.tensor(x), 10, 3, 6, tg.tensor(window), center=False, align_to_window=True,
                  return_complex=True).numpy()
    frames = np.stack([np.pad(x[t:t + 6] * window, (2, 2)) for t in range(0, 40 - 6 + 1, 3)])
    np.testing.assert_allclose(got, np.fft.rfft(frames, axis=-1).T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("center, normalized", [(True, False), (True, True), (False, False)])
def test_istft_inverts_stft_batched_and_1d(center, normalized):
    x = RNG.standard_normal((2, 64))
    w = tg.ones(16, dtype=tg.float64) if not center else tg.hann_window(16, dtype=tg.float64)
    spec = tg.stft(tg.tensor(x), 16, 4, window=w, center=center, normalized=normalized,
                   return_complex=True)
    back = tg.istft(spec, 16, 4, window=w, center=center, normalized=normalized, length=64)
    np.testing.assert_allclose(back.numpy(), x, atol=1e-12)
    one = tg.istft(spec[0], 16, 4, window=w, center=center, normalized=normalized, length=64)
    assert one.shape == (64,)
    np.testing.assert_array_equal(one.numpy(), back.numpy()[0])
    pairs = tg.istft(tg.view_as_real(spec), 16, 4, window=w, center=center, normalized=normalized,
                     length=64)
    np.testing.assert_array_equal(pairs.numpy(), back.numpy())


def test_istft_two_sided_and_complex_signals_round_trip():
    x = RNG.standard_normal(50) + 1j * RNG.standard_normal(50)
    w = tg.hann_window(16, dtype=tg.float64)
    spec = tg.stft(tg.tensor(x), 16, 4, window=w)
    assert spec.shape == (16, 13)
    back = tg.istft(spec, 16, 4, window=w, length=50, return_complex=True)
    np.testing.assert_allclose(back.numpy(), x, atol=1e-12)
    real = RNG.standard_normal(50)
    two = tg.stft(tg.tensor(real), 16, 4, window=w, onesided=False, return_complex=True)
    np.testing.assert_allclose(tg.istft(two, 16, 4, window=w, length=50).numpy(), real, atol=1e-12)


def test_istft_length_past_the_signal_pads_zeros_and_warns_once_here(monkeypatch):
    monkeypatch.setattr(spectral, "_LENGTH_WARNED", [False])
    x = RNG.standard_normal(64)
    w = tg.hann_window(16, dtype=tg.float64)
    spec = tg.stft(tg.tensor(x), 16, 4, window=w, return_complex=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        long = tg.istft(spec, 16, 4, window=w, length=80)
        tg.istft(spec, 16, 4, window=w, length=80)
    assert [str(c.message)[:60] for c in caught] == \
        ["istft: the length of signal is shorter than the length param"]
    assert "(72 < 80)" in str(caught[0].message) and caught[0].filename == __file__
    np.testing.assert_allclose(long.numpy()[:64], x, atol=1e-12)
    assert long.shape == (80,) and not long.numpy()[72:].any()      # zeros past the 72 it has


def test_istft_shortens_to_length_and_gradients_reach_signal_and_window():
    x = tg.tensor(RNG.standard_normal((2, 60)), requires_grad=True)
    w = tg.hann_window(16, dtype=tg.float64).requires_grad_()
    y = tg.istft(tg.stft(x, 16, 4, window=w, return_complex=True), 16, 4, window=w, length=50)
    assert y.shape == (2, 50)
    y.sum().backward()
    # the round trip is the identity on the kept samples, whatever the window (NOLA holds)
    expected = np.zeros((2, 60))
    expected[:, :50] = 1
    np.testing.assert_allclose(x.grad.numpy(), expected, atol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), 0, atol=1e-10)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: tg.stft(x.numpy(), 16, return_complex=True), "InputTypeError",
     "stft: input must be a Tensor, got ndarray"),
    (lambda x: tg.stft(x, 16), "SpectralConfigError", "stft requires the return_complex parameter"),
    (lambda x: tg.stft(x[None], 16, return_complex=True), "ShapeError",
     "stft: expected a 1D or 2D tensor (L,) or (B, L), got shape (1, 2, 97)"),
    (lambda x: tg.stft(tg.tensor([1, 2, 3]), 2, return_complex=True), "DTypeError",
     "stft: expected a floating point or complex signal, got int64"),
    (lambda x: tg.stft(x.half(), 16, return_complex=True), "DTypeError", "stft: float16 is not"),
    (lambda x: tg.stft(x, 16, align_to_window=True, return_complex=True), "SpectralConfigError",
     "stft: align_to_window should only be set when center = False"),
    (lambda x: tg.stft(x, 200, center=False, return_complex=True), "ShapeError",
     "stft: expected 0 < n_fft <= 97 (the signal's length), got n_fft=200"),
    (lambda x: tg.stft(x, 16, window=tg.ones(5), return_complex=True), "ShapeError",
     "stft: expected a 1D window tensor of size equal to win_length=16, but got window with "
     "shape (5,)"),
    (lambda x: tg.istft(tg.ones(2, 9, 4, 3), 16), "ShapeError",
     "istft: expected a complex spectrogram (B?, n_freq, n_frames) or its (real, imaginary) pairs"),
    (lambda x: tg.istft(tg.ones(2, 9, 4, 2, dtype=tg.int64), 16), "DTypeError",
     "istft: expected a float32 or float64 spectrogram, got int64"),
    (lambda x: tg.istft(tg.zeros(9, 0, dtype=tg.complex128), 16), "ShapeError",
     "istft: expected at least one frame, got input shape (9, 0)"),
    (lambda x: tg.istft(tg.stft(x, 16, return_complex=True), 16, length=-1),
     "SpectralConfigError", "istft: length must be >= 0, got -1"),
    (lambda x: tg.istft(tg.stft(x, 16, return_complex=True), 16, onesided=False), "ShapeError",
     "istft: expected the frequency dim (-3) to have 16 bins for n_fft=16 (two-sided), got 9 "
     "(input shape (2, 9, 25))"),
    (lambda x: tg.istft(tg.stft(x, 16, return_complex=True), 16, return_complex=True),
     "SpectralConfigError", "istft: cannot have onesided output if window or input is complex"),
    (lambda x: tg.istft(tg.stft(x, 16, return_complex=True), 16,
                        window=tg.ones(16, dtype=tg.complex128)),
     "SpectralConfigError", "istft: complex windows are incompatible with return_complex=False"),
    (lambda x: tg.istft(tg.stft(x, 16, return_complex=True), 16, window=tg.zeros(16)),
     "SpectralConfigError", "istft: window overlap add min is below 1e-11: the squared windows 4 "
     "samples apart must overlap everywhere (the NOLA condition)"),
])
def test_stft_and_istft_refuse_with_their_messages(call, error, message):
    x = tg.tensor(RNG.standard_normal((2, 97)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as info:
            call(x)
    assert type(info.value).__name__ == error and str(info.value).startswith(message)


# -- make_grid ------------------------------------------------------------------------------------
def _numpy_grid(a: np.ndarray, nrow: int, padding: int, pad_value: float) -> np.ndarray:
    n, c, h, w = a.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value,
                   a.dtype)
    for k in range(n):
        top, left = (k // cols) * (h + padding) + padding, (k % cols) * (w + padding) + padding
        grid[:, top:top + h, left:left + w] = a[k]
    return grid


@pytest.mark.parametrize("nrow, padding", [(1, 0), (3, 2), (8, 1)])
def test_make_grid_places_each_image_as_numpy_does(nrow, padding):
    a = RNG.standard_normal((7, 3, 5, 4)).astype(np.float32)
    got = make_grid(tg.tensor(a), nrow, padding, pad_value=0.5)
    np.testing.assert_array_equal(got.numpy(), _numpy_grid(a, nrow, padding, 0.5))
    gray = make_grid(tg.tensor(a[:, :1]), nrow, padding)
    np.testing.assert_array_equal(gray.numpy(), _numpy_grid(np.repeat(a[:, :1], 3, 1), nrow, padding, 0))


def test_make_grid_normalizes_the_batch_each_image_or_a_value_range():
    a = RNG.standard_normal((5, 3, 4, 4)).astype(np.float32)
    batch = make_grid(tg.tensor(a), 5, 0, normalize=True).numpy()
    np.testing.assert_allclose(batch, _numpy_grid((a - a.min()) / (a.max() - a.min()), 5, 0, 0),
                               rtol=1e-6, atol=1e-7)
    each = make_grid(tg.tensor(a), 5, 0, normalize=True, scale_each=True).numpy()
    scaled = np.stack([(i - i.min()) / (i.max() - i.min()) for i in a])
    np.testing.assert_allclose(each, _numpy_grid(scaled, 5, 0, 0), rtol=1e-6, atol=1e-7)
    ranged = make_grid(tg.tensor(a), 5, 0, normalize=True, value_range=(-1, 1)).numpy()
    np.testing.assert_allclose(ranged, _numpy_grid((np.clip(a, -1, 1) + 1) / 2, 5, 0, 0), atol=1e-7)
    with pytest.warns(UserWarning, match="range will be deprecated") as caught:
        old = make_grid(tg.tensor(a), 5, 0, normalize=True, range=(-1, 1))
    assert caught[0].filename == __file__
    np.testing.assert_array_equal(old.numpy(), ranged)


def test_make_grid_single_images_lists_and_integers():
    a = RNG.standard_normal((3, 2, 5)).astype(np.float32)
    np.testing.assert_array_equal(make_grid(tg.tensor(a)).numpy(), a)       # one image: itself
    np.testing.assert_array_equal(make_grid(tg.tensor(a[0])).numpy(), np.repeat(a[:1], 3, 0))
    listed = make_grid([tg.tensor(a), tg.tensor(-a)], 2)
    np.testing.assert_array_equal(listed.numpy(), _numpy_grid(np.stack([a, -a]), 2, 2, 0))
    u8 = make_grid(tg.tensor((np.abs(a) * 50).astype(np.uint8)[None].repeat(2, 0)), 2)
    assert u8.dtype == tg.uint8 and not u8.requires_grad


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(tensor=[]), "InputTypeError", "make_grid: a list must hold one or more tensors"),
    (dict(tensor=np.ones((2, 3, 4, 4))), "InputTypeError",
     "make_grid: tensor must be a Tensor or a list of Tensors, got ndarray"),
    (dict(foo=1), "InputTypeError", "make_grid() got unexpected keyword arguments ['foo']"),
    (dict(nrow=0), "ConfigError", "make_grid: nrow must be an integer >= 1, got 0"),
    (dict(padding=-1), "ConfigError", "make_grid: padding must be an integer >= 0, got -1"),
    (dict(value_range=3), "InputTypeError", "make_grid: value_range must be a (low, high) tuple, got 3"),
    (dict(tensor=tg.ones(1, 2, 3, 4, 4)), "ShapeError",
     "make_grid: expected (B, C, H, W), (C, H, W) or (H, W) images, got shape (1, 2, 3, 4, 4)"),
    (dict(tensor=tg.ones(0, 3, 4, 4)), "ShapeError", "make_grid: no images to put in a grid (B = 0)"),
    (dict(tensor=tg.ones(2, 3, 4, 4, dtype=tg.uint8), normalize=True), "DTypeError",
     "make_grid: normalize=True needs floating-point images, got uint8"),
])
def test_make_grid_refuses_with_its_messages(kwargs, error, message):
    kwargs.setdefault("tensor", tg.ones(2, 3, 4, 4))
    with pytest.raises(Exception) as info:
        make_grid(**kwargs)
    assert type(info.value).__name__ == error and str(info.value) == message


# -- Module.load_state_dict -----------------------------------------------------------------------
def _model() -> nn.Module:
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def _doubled_state() -> dict:
    return {k: v.clone() * 2 for k, v in _model().state_dict().items()}


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.pop("0.weight"), "state_dict for Sequential does not match the model: 1 missing "
                                  "key(s): '0.weight'"),
    (lambda d: d.update({"x.y": tg.ones(1)}), "state_dict for Sequential does not match the model: "
                                              "1 unexpected key(s): 'x.y'"),
    (lambda d: (d.pop("2.bias"), d.update({"9.w": tg.ones(1)})),
     "state_dict for Sequential does not match the model: 1 missing key(s): '2.bias'; 1 unexpected "
     "key(s): '9.w'"),
    (lambda d: (d.update({"0.weight": tg.ones(3, 3)}), d.pop("1.running_mean")),
     "state_dict for Sequential does not match the model: 1 missing key(s): '1.running_mean'; "
     "parameter '0.weight' has shape (3, 3) in the checkpoint but (4, 3) in the model"),
])
def test_module_load_state_dict_strict_names_the_keys_and_changes_nothing(edit, message):
    m, state = _model(), _doubled_state()
    edit(state)
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    with pytest.raises(StateDictMismatchError) as info:
        m.load_state_dict(state)
    assert str(info.value) == message
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


@pytest.mark.parametrize("assign", [False, True])
def test_module_load_state_dict_non_strict_loads_the_rest_and_reports_the_keys(assign):
    m, state = _model(), _doubled_state()
    state.pop("2.bias")
    state["9.w"] = tg.ones(1)
    state["0.bias"] = state["0.bias"].numpy()          # an array value, copied the same
    bias_before = m[2].bias.numpy().copy()
    result = m.load_state_dict(state, strict=False, assign=assign)
    assert tuple(result) == (["2.bias"], ["9.w"])
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), bias_before if k == "2.bias" else np.asarray(state[k]))
    with pytest.raises(StateDictMismatchError, match=r"^Sequential: parameter '0.weight' has shape"):
        _model().load_state_dict({**_doubled_state(), "0.weight": tg.ones(3, 3)}, strict=False)


def test_module_load_state_dict_hooks_run_parents_first_then_post_hooks_and_strict():
    m, log = _model(), []

    def pre(module, state, prefix, *rest):
        log.append(("pre", prefix))
        state.pop("0.bias", None)

    def post(module, incompatible):
        log.append(("post", list(incompatible.missing_keys)))
        incompatible.missing_keys.clear()
    m.register_load_state_dict_pre_hook(pre)
    m[2].register_load_state_dict_pre_hook(lambda module, state, prefix, *rest: log.append(("pre", prefix)))
    m.register_load_state_dict_post_hook(post)
    assert tuple(m.load_state_dict(_doubled_state())) == ([], [])
    assert log == [("pre", ""), ("pre", "2."), ("post", ["0.bias"])]
    m.register_load_state_dict_post_hook(lambda module, incompatible: 1)
    with pytest.raises(tg.errors.InputTypeError, match="post-hook must return None"):
        m.load_state_dict(_doubled_state())
    kept = _model()
    kept.register_load_state_dict_post_hook(lambda module, incompatible: None)
    with pytest.raises(StateDictMismatchError, match="1 missing key\\(s\\): '0.bias'"):
        kept.load_state_dict({k: v for k, v in _doubled_state().items() if k != "0.bias"})
    with pytest.raises(CheckpointError, match="must be a mapping of names to Tensors or arrays, got list"):
        kept.load_state_dict([1])


# -- Optimizer.load_state_dict / _saved_layout ------------------------------------------------------
def _stepped(cls=tg.optim.Adam, **kw):
    tg.manual_seed(1)
    m = nn.Linear(3, 2)
    weight, bias = m.parameters()
    opt = cls([{"params": [weight]}, {"params": [bias], "lr": 0.01}], **kw)
    (m(tg.randn(4, 3)) ** 2).sum().backward()
    opt.step()
    return m, opt


def _plain(state: dict) -> dict:
    """A state dict with its Tensors as NumPy arrays, for ==."""
    return {i: {k: (v.numpy().tolist() if isinstance(v, tg.Tensor) else v) for k, v in s.items()}
            for i, s in state["state"].items()}


@pytest.mark.parametrize("cls, kw", [(tg.optim.Adam, {}), (tg.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
                                     (tg.optim.RMSprop, {}), (tg.optim.ASGD, {}), (tg.optim.Rprop, {})])
def test_optimizer_load_state_dict_round_trips_every_state(cls, kw):
    _, saved = _stepped(cls, **kw)
    _, loaded = _stepped(cls, **kw)
    for p in loaded.param_groups[1]["params"]:
        loaded.state[p]          # (nothing changes before the load)
    state = copy.deepcopy(saved.state_dict())
    loaded.load_state_dict(state)
    assert _plain(loaded.state_dict()) == _plain(saved.state_dict())
    assert [g["lr"] for g in loaded.param_groups] == [g["lr"] for g in saved.param_groups]


def test_optimizer_load_state_dict_takes_string_keys_old_lists_and_extra_entries():
    _, saved = _stepped()
    good = saved.state_dict()
    as_json = copy.deepcopy(good)
    as_json["state"] = {str(k): v for k, v in as_json["state"].items()}
    old = copy.deepcopy(good)
    old["state"] = [old["state"][0], old["state"][1]]
    for g in old["param_groups"]:
        g["num_params"] = len(g.pop("params"))
    extra = copy.deepcopy(good)
    extra["state"][0]["ema"] = tg.ones(2, 3)
    extra["state"][0]["step"] = np.array(3.0)
    for state in (as_json, old, extra):
        _, opt = _stepped()
        opt.load_state_dict(state)
        assert _plain(opt.state_dict())[1] == _plain(good)[1]
    assert opt.state_dict()["state"][0]["step"].item() == 3.0
    np.testing.assert_array_equal(opt.state_dict()["state"][0]["ema"].numpy(), np.ones((2, 3)))


def _edited(edit):
    state = copy.deepcopy(_stepped()[1].state_dict())
    edit(state)
    return state


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.pop("state"), "Adam state is malformed: missing 'state'"),
    (lambda d: d.update(type="SGD"), "optimizer state is for SGD, this optimizer is Adam"),
    (lambda d: d["param_groups"].append(1), "Adam state is malformed: param_groups must be dicts"),
    (lambda d: d["param_groups"].pop(), "Adam state has 1 parameters in 1 groups of sizes [1], this "
                                        "optimizer has 2 in 2 of sizes [1, 1]"),
    (lambda d: d.update(state=[None, None, None]), "Adam state has 3 parameters, this optimizer has 2"),
    (lambda d: d.update(state=5), "Adam state is malformed: 'state' must be a dict keyed by "
                                  "parameter index, got int"),
    (lambda d: d["param_groups"][0].update(params=[True]),
     "Adam state: parameter index True in param_groups is not an int or appears twice"),
    (lambda d: d["param_groups"][1].update(params=[0]),
     "Adam state: parameter index 0 in param_groups is not an int or appears twice"),
    (lambda d: d["state"].update(zz={}), "Adam state key 'zz' is not a parameter index"),
    (lambda d: d["state"].update({7: {}}), "Adam state has an entry for parameter index 7, which no "
                                           "param_group lists"),
    (lambda d: d["state"].update({1: 5}), "Adam state of parameter 1 must be a dict, got int"),
    (lambda d: d["state"][0].pop("exp_avg"), "Adam state of parameter 0 lacks 'exp_avg'"),
    (lambda d: d["state"][0].update(exp_avg=tg.ones(7)), "Adam state 'exp_avg' of parameter 0 has "
                                                         "shape (7,), expected (2, 3) (the parameter has (2, 3))"),
    (lambda d: d["state"][0].update(step="x"), "Adam state 'step' of parameter 0 must be a whole "
                                               "number >= 0, got 'x'"),
    (lambda d: d["param_groups"][0].pop("params"), "Adam state has 0 parameters in 2 groups of sizes "
                                                   "[-1, 1], this optimizer has 2 in 2 of sizes [1, 1]"),
])
def test_optimizer_load_state_dict_refuses_with_its_messages_and_changes_nothing(edit, message):
    state = _edited(edit)
    _, opt = _stepped()
    before = _plain(opt.state_dict())
    with pytest.raises(CheckpointError) as info:
        opt.load_state_dict(state)
    assert str(info.value) == message
    assert _plain(opt.state_dict()) == before


@pytest.mark.filterwarnings("ignore:optimizer contains a parameter group with duplicate parameters")
def test_optimizer_load_state_dict_keeps_one_state_for_a_twice_listed_parameter():
    tg.manual_seed(1)
    m = nn.Linear(3, 2)
    weight, bias = m.parameters()
    opt = tg.optim.Adam([weight, bias, weight])
    (m(tg.randn(4, 3)) ** 2).sum().backward()
    opt.step()
    opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    assert opt._states[0] is opt._states[2]


# -- swap_in_optimizer_params_and_state -------------------------------------------------------------
def _swap(edit_state=None, edit_params=None):
    m, opt = _stepped()
    other, other_opt = _stepped()
    for p in other.parameters():
        p.data.mul_(3)
    state = other_opt.state_dict()
    if edit_state:
        edit_state(state)
    params = dict(other.named_parameters())
    if edit_params:
        params = edit_params(params)
    before = _plain(opt.state_dict())
    with tg.optim.swap_in_optimizer_params_and_state(opt, params, state):
        (other(tg.ones(2, 3)) ** 2).sum().backward()
        opt.step()
        inside = _plain(opt.state_dict())
    return before, opt, inside, state


def test_swap_in_steps_the_other_model_and_gives_the_state_back():
    before, opt, inside, state = _swap()
    assert _plain(opt.state_dict()) == before
    assert _plain(state) == inside and inside[0]["step"] == 2.0


@pytest.mark.parametrize("edit_state, edit_params, error, message", [
    (lambda s: s.pop("state"), None, ConfigError, "swap_in_optimizer_params_and_state requires an "
     "optimizer.state_dict()-style dict with 'state' and 'param_groups'."),
    (lambda s: s["param_groups"].pop(), None, ConfigError,
     "swap_in_optimizer_params_and_state: swapin_optim_state has 1 param groups, the optimizer 2"),
    (lambda s: s["param_groups"][0].update(params="a"), None, ConfigError,
     "swap_in_optimizer_params_and_state: param_groups[0]['params'] must be a list of packed int ids"),
    (lambda s: s["param_groups"][0].update(params=[0, 1]), None, ConfigError,
     "swap_in_optimizer_params_and_state: swapin_optim_state param group 0 has a different number "
     "of params than the live optimizer param group."),
    (lambda s: s["param_groups"][0].update(zz=1), None, ConfigError,
     "swap_in_optimizer_params_and_state: param group keys must match the live group's for group 0. "
     "Keys only in swap-in: ['zz']. Keys only in live: []."),
    (None, lambda p: dict(list(p.items())[:1]), ConfigError,
     "swap_in_optimizer_params_and_state: 1 swap-in parameters for more optimizer parameters; "
     "they must follow optimizer.param_groups' order"),
    (None, lambda p: {"a": tg.ones(5), "b": tg.ones(2)}, ShapeError,
     "swap_in_optimizer_params_and_state: a swap-in parameter of shape (5,) for a live one of "
     "shape (2, 3)"),
    (lambda s: s["state"].update({9: {}}), None, ConfigError,
     "swap_in_optimizer_params_and_state: swapin_optim_state['state'] must be keyed only by the "
     "packed ids of param_groups[*]['params']; got extra keys [9]."),
])
def test_swap_in_refuses_with_its_messages(edit_state, edit_params, error, message):
    with pytest.raises(error) as info:
        _swap(edit_state, edit_params)
    assert str(info.value) == message


def test_swap_in_needs_an_optimizer_with_state():
    with pytest.raises(tg.errors.InputTypeError, match="expected an Optimizer, got int"):
        tg.optim.swap_in_optimizer_params_and_state(5, {}, {}).__enter__()
    fresh = tg.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(ConfigError, match="requires initialized optimizer state"):
        tg.optim.swap_in_optimizer_params_and_state(fresh, {}, {}).__enter__()


# -- the train command's options ---------------------------------------------------------------------
TRAIN_OPTIONS = [
    "--epochs", "--steps", "--batch-size", "--lr", "--lr-g", "--lr-d", "--ema", "--conditional",
    "--augment", "--seed", "--data-dir", "--dataset", "--no-verify", "--image-size", "--channels",
    "--strict-size", "--out", "--resume", "--sample-every", "--checkpoint-every", "--latent-dim",
    "--base-channels", "--discriminator", "--loss", "--gp-lambda", "--n-critic", "--beta1", "--beta2",
    "--d-norm", "--generator-loss", "--r1-gamma", "--r1-every", "--on-nonfinite", "--no-progress",
    "--return-freed-memory", "--eval-every"]


def _train_parser():
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(getattr(a, "choices", None), dict))
    return parser, commands.choices["train"]


def test_train_options_keep_their_order_in_help():
    _, train = _train_parser()
    own = [a.option_strings[0] for a in train._actions
           if a.option_strings and a.option_strings[0] not in ("-h", "--device", "--debug")]
    assert own == TRAIN_OPTIONS
    text = train.format_help()
    places = [text.index(f"  {name} ") if f"  {name} " in text else text.index(f"  {name}\n")
              for name in TRAIN_OPTIONS]
    assert places == sorted(places)


@pytest.mark.parametrize("argv, expected", [
    (["--steps", "5", "--lr-g", "1e-4", "--ema", "0.999", "--augment", "translation,color"],
     dict(steps=5, lr_g=1e-4, ema_decay=0.999, augment="translation,color", epochs=None)),
    (["--resume", "--data-dir", "~/x", "--image-size", "48x32", "--channels", "1"],
     dict(resume="", data_dir="/home/u/x", image_size=(48, 32), channels=1, conditional=None)),
    (["--loss", "wgan-gp", "--n-critic", "5", "--beta1", "0", "--d-norm", "layer", "--no-progress"],
     dict(loss="wgan-gp", n_critic=5, beta1=0.0, d_norm="layer", no_progress=True)),
])
def test_train_command_lines_parse_as_before(argv, expected, monkeypatch):
    monkeypatch.setenv("HOME", "/home/u")
    parser, _ = _train_parser()
    args = vars(parser.parse_args(["train"] + argv))
    assert {k: args[k] for k in expected} == expected


@pytest.mark.parametrize("argv, message", [
    (["--steps", "1", "--epochs", "1"], "argument --epochs: not allowed with argument --steps"),
    (["--beta1", "1"], "argument --beta1: expected a number in [0, 1), got 1"),
    (["--channels", "2"], "argument --channels: invalid choice: 2"),
])
def test_train_command_refuses_as_before(argv, message):
    parser, _ = _train_parser()
    with pytest.raises(Exception, match=re.escape(message)):
        parser.parse_args(["train"] + argv)


# -- Trainer.fit ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def blobs():
    return ArrayDataset(blob_images(), name="blobs")


def _config(**kw) -> TrainConfig:
    return TrainConfig(**{**dict(steps=5, batch_size=8, latent_dim=8, base_channels=4, sample_every=3,
                                 checkpoint_every=3, num_samples=4, seed=0), **kw})


def _timeless(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "time"}


def test_fit_logs_each_step_to_history_on_step_and_the_metrics_file(blobs, tmp_path, capsys):
    t = Trainer(blobs, tmp_path, _config(n_critic=2))
    seen = []
    summary = t.fit(progress=True, on_step=seen.append)
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert seen == t.history and lines == t.history and len(seen) == 5
    assert sorted(summary) == ["epoch", "first_step_seconds", "interrupted", "last",
                               "median_step_seconds", "seconds", "seconds_per_step", "skipped",
                               "step", "steps_run"]
    assert (summary["step"], summary["steps_run"], summary["interrupted"], summary["skipped"]) == (5, 5, False, 0)
    assert summary["last"] is t.history[-1] and "loss_g" not in t.history[0]
    bar = capsys.readouterr().err
    # the last step (5) is D-only: the bar shows its D loss beside G's last (step 4's)
    assert f"Loss_D={t.history[4]['loss_d']:.3f} Loss_G={t.history[3]['loss_g']:.3f} " in bar
    assert {"checkpoint.npz", "metrics.jsonl"} <= {p.name for p in tmp_path.iterdir()}
    again = t.fit()
    assert (again["steps_run"], again["first_step_seconds"], again["last"]) == (0, None, t.history[-1])


def test_fit_stops_after_the_step_in_flight_when_asked(blobs, tmp_path):
    t = Trainer(blobs, tmp_path, _config())

    def stop_at_two(record):
        if record["step"] == 2:
            t._stop_requested = True
    summary = t.fit(on_step=stop_at_two)
    assert (summary["step"], summary["interrupted"]) == (2, True)
    rest = Trainer(blobs, None, _config()).fit()
    assert _timeless(rest["last"])["step"] == 5 and not rest["interrupted"]


# -- the split functions stay short -------------------------------------------------------------------
@pytest.mark.parametrize("function", [
    spectral.stft, spectral.istft, cli._add_train_arguments, tg.optim.Optimizer.load_state_dict,
    tg.optim.Optimizer._saved_layout, tg.optim.swap_in_optimizer_params_and_state.__wrapped__,
    Trainer.fit, make_grid, nn.Module.load_state_dict])
def test_the_split_functions_stay_short(function):
    node = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    assert node.end_lineno - node.lineno + 1 <= 60, function.__qualname__
