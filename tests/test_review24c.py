"""Review of session 24's later merges: tg.stft / tg.istft's refusals are RuntimeErrors as torch's
(and take a 0-dim integer tensor, refuse a window on another device, warn for an istft length
past the signal), the uint8 generator state's refusals are torch's TypeError / RuntimeError,
tg.random.fork_rng, alpha_dropout of integer / bool inputs, and a NumPy alpha on add_."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan import spectral
from tensorgan.errors import (CheckpointError, ConfigError, DeviceError, DTypeError, InputTypeError,
                              RNGStateError, RNGStateTypeError, SpectralConfigError)

needs_cuda = pytest.mark.skipif(not tg.cuda_status()[0], reason="no CUDA device and no simulator")

SIGNAL = np.random.RandomState(0).randn(2, 64)


# ---------------------------------------------------------------------------------------------
# stft / istft
# ---------------------------------------------------------------------------------------------
def _spec(**kw):
    return tg.stft(tg.tensor(SIGNAL), 16, 4, return_complex=False, **kw)


@pytest.mark.parametrize("call, match", [
    (lambda: tg.stft(tg.tensor(SIGNAL), 16, 0, return_complex=False), "hop_length > 0"),
    (lambda: tg.stft(tg.tensor(SIGNAL), 0, return_complex=False), "n_fft > 0"),
    (lambda: tg.stft(tg.tensor(SIGNAL), 16, win_length=20, return_complex=False), "win_length"),
    (lambda: tg.stft(tg.tensor(SIGNAL), 16), "return_complex"),
    (lambda: tg.istft(_spec(), 16, 4, length=-1), "length must be >= 0"),
    # a Hann window 16 samples apart: its squares do not overlap at the frame edges (NOLA)
    (lambda: tg.istft(tg.stft(tg.tensor(SIGNAL), 16, 16, window=tg.hann_window(16, dtype=tg.float64),
                              return_complex=False), 16, 16, window=tg.hann_window(16, dtype=tg.float64)),
     "NOLA"),
])
def test_spectral_option_refusals_are_runtime_errors_as_torch(call, match):
    # torch raises RuntimeError for all of these; `except RuntimeError` must catch them here too
    with pytest.raises(RuntimeError, match=match) as info:
        call()
    assert isinstance(info.value, SpectralConfigError) and isinstance(info.value, ConfigError)


def test_stft_takes_a_zero_dim_integer_tensor_as_an_int_argument():
    want = tg.stft(tg.tensor(SIGNAL), 16, 4, return_complex=False).numpy()
    got = tg.stft(tg.tensor(SIGNAL), tg.tensor(16), tg.tensor(4), return_complex=False).numpy()
    np.testing.assert_array_equal(got, want)
    back = tg.istft(tg.tensor(want), tg.tensor(16), 4, length=tg.tensor(50)).numpy()
    np.testing.assert_allclose(back, SIGNAL[:, :50], atol=1e-12)
    with pytest.raises(InputTypeError, match="n_fft must be an int"):
        tg.stft(tg.tensor(SIGNAL), tg.tensor(16.0), return_complex=False)


def test_istft_length_past_the_signal_warns_once_and_pads_zeros(monkeypatch):
    monkeypatch.setattr(spectral, "_LENGTH_WARNED", [False])
    spec = _spec()                  # 64 samples, centred: the frames cover exactly 64
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = tg.istft(spec, 16, 4, length=80)
        tg.istft(spec, 16, 4, length=70)
    messages = [str(w.message) for w in caught if "shorter than the length" in str(w.message)]
    assert len(messages) == 1 and "72 < 80" in messages[0]
    assert y.shape == (2, 80)
    np.testing.assert_allclose(y.numpy()[:, :64], SIGNAL, atol=1e-12)
    assert not y.numpy()[:, 72:].any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.istft(spec, 16, 4, length=64)          # within the signal: no warning


@needs_cuda
def test_stft_window_on_another_device_is_refused_by_name():
    with pytest.raises(DeviceError, match="window is on cuda.*input on cpu"):
        tg.stft(tg.tensor(SIGNAL), 16, window=tg.ones(16, device="cuda", dtype=tg.float64),
                return_complex=False)
    with pytest.raises(DeviceError, match="window is on cuda"):
        tg.istft(_spec(), 16, 4, window=tg.ones(16, device="cuda", dtype=tg.float64))


# ---------------------------------------------------------------------------------------------
# generator state: torch's error types, fork_rng
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("state", [tg.zeros(5), [1, 2, 3], np.zeros((2, 3), np.uint8)])
def test_set_rng_state_of_a_non_byte_state_is_a_type_error_as_torch(state):
    before = tg.get_rng_state()
    with pytest.raises(TypeError, match="1-D uint8 tensor") as info:
        tg.set_rng_state(state)
    assert isinstance(info.value, RNGStateTypeError) and isinstance(info.value, CheckpointError)
    assert tg.get_rng_state().equal(before)        # a refused state leaves the stream alone


def test_set_rng_state_of_foreign_bytes_is_a_runtime_error_as_torch():
    with pytest.raises(RuntimeError, match="not a tensorgan PCG64 generator state") as info:
        tg.Generator().set_state(tg.zeros(5056, dtype=tg.uint8))    # torch's mt19937 size
    assert isinstance(info.value, RNGStateError) and isinstance(info.value, CheckpointError)


def test_fork_rng_restores_the_default_stream_on_exit_even_after_an_error():
    tg.manual_seed(21)
    want = tg.randn(4).numpy()
    tg.manual_seed(21)
    with tg.random.fork_rng():
        inside = tg.randn(4).numpy()
        tg.randn(100)
    np.testing.assert_array_equal(inside, want)           # same stream inside
    np.testing.assert_array_equal(tg.randn(4).numpy(), want)   # and restored after
    tg.manual_seed(21)
    with pytest.raises(KeyError):
        with tg.random.fork_rng(devices=[0]):
            tg.randn(7)
            raise KeyError("x")
    np.testing.assert_array_equal(tg.randn(4).numpy(), want)
    tg.manual_seed(21)
    with tg.random.fork_rng(enabled=False):
        tg.randn(4)
    assert not np.array_equal(tg.randn(4).numpy(), want)     # disabled: the draws advanced it


# ---------------------------------------------------------------------------------------------
# alpha_dropout / feature_alpha_dropout of integer and bool inputs (as dropout's, h24d)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [F.alpha_dropout, F.feature_alpha_dropout])
@pytest.mark.parametrize("dtype", [tg.int64, tg.bool])
def test_alpha_dropout_of_integer_input_as_torch(fn, dtype):
    x = tg.ones(2, 3, 4, dtype=dtype)
    with pytest.raises(DTypeError, match="can't be cast to the desired output type"):
        fn(x, 0.5, training=True)
    dropped = fn(x, 1.0, training=True)               # everything dropped: zeros of the dtype
    assert dropped.dtype == dtype and not dropped.numpy().any()
    assert fn(x, 0.5, training=False) is x
    assert tg.nn.AlphaDropout(1.0)(x).dtype == dtype


# ---------------------------------------------------------------------------------------------
# add_ with a NumPy alpha
# ---------------------------------------------------------------------------------------------
def test_numpy_alpha_on_a_float_tensor_adds_and_keeps_the_integer_check():
    p = tg.ones(3)
    p.add_(tg.ones(3), alpha=np.float64(-0.25))
    np.testing.assert_allclose(p.numpy(), 0.75)
    p.sub_(tg.ones(3), alpha=np.float32(0.5))
    np.testing.assert_allclose(p.numpy(), 0.25)
    assert p.add(1, alpha=np.int64(2)).dtype == tg.float32
    np.testing.assert_allclose(p.add(tg.ones(3), alpha=np.bool_(True)).numpy(), 1.25)  # torch: 1.0
    with pytest.raises(DTypeError, match="Boolean alpha"):
        p.add(tg.ones(3), alpha=True)
    with pytest.raises(DTypeError, match="must not be a floating point"):
        tg.ones(3, dtype=tg.int64).add_(1, alpha=np.float64(0.5))
