"""Gaps found porting NVlabs/stylegan3 (training/networks_stylegan3.py's Generator with its
Fourier-feature input and filtered leaky ReLU on the torch_utils reference paths, loss.py's
StyleGAN2Loss with blur / R1 / path-length terms, metrics/equivariance.py).  Its
design_lowpass_filter needs a Kaiser window (scipy.signal.firwin / np.kaiser); without SciPy the
torch way is ``torch.signal.windows.kaiser``.  Expected values come from closed forms / NumPy
(no torch import)."""
import math

import numpy as np
import pytest

import tensorgan as tg


@pytest.fixture
def default_float64():
    old = tg.get_default_dtype()
    tg.set_default_dtype(tg.float64)
    yield
    tg.set_default_dtype(old)


# -- torch.signal.windows: symmetric (scipy's) windows by default ---------------------------------
def test_signal_windows_is_importable_both_ways():
    import tensorgan.signal.windows as windows
    from tensorgan.signal import windows as again
    assert windows is again is tg.signal.windows
    assert sorted(windows.__all__) == ["bartlett", "blackman", "cosine", "exponential", "gaussian",
                                       "general_cosine", "general_hamming", "hamming", "hann", "kaiser",
                                       "nuttall"]


def test_symmetric_windows_have_their_closed_forms():
    W = tg.signal.windows
    np.testing.assert_allclose(W.hann(5).numpy(), [0.0, 0.5, 1.0, 0.5, 0.0], atol=1e-7)
    np.testing.assert_allclose(W.bartlett(5).numpy(), [0.0, 0.5, 1.0, 0.5, 0.0], atol=1e-7)
    np.testing.assert_allclose(W.hamming(3).numpy(), [0.08, 1.0, 0.08], atol=1e-7)
    np.testing.assert_allclose(W.blackman(3, dtype=tg.float64).numpy(), [0.42 - 0.5 + 0.08, 1.0, 0.42 - 0.5 + 0.08],
                               atol=1e-15)
    n = np.arange(7)
    np.testing.assert_allclose(W.cosine(7, dtype=tg.float64).numpy(), np.sin(np.pi * (n + 0.5) / 7), rtol=1e-14)
    np.testing.assert_allclose(W.gaussian(7, std=1.5, dtype=tg.float64).numpy(),
                               np.exp(-((n - 3.0) ** 2) / (2 * 1.5 ** 2)), rtol=1e-14)
    np.testing.assert_allclose(W.exponential(7, tau=2.0, dtype=tg.float64).numpy(), np.exp(-np.abs(n - 3.0) / 2.0),
                               rtol=1e-14)
    nut = [0.3635819, 0.4891775, 0.1365995, 0.0106411]
    want = sum((-1) ** k * a * np.cos(2 * np.pi * k * n / 6) for k, a in enumerate(nut))
    np.testing.assert_allclose(W.nuttall(7, dtype=tg.float64).numpy(), want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(W.general_hamming(4, alpha=0.6, dtype=tg.float64).numpy(),
                               0.6 - 0.4 * np.cos(2 * np.pi * np.arange(4) / 3), rtol=1e-14)


@pytest.mark.parametrize("numtaps,beta", [(12, 2.5), (7, 0.0), (24, 8.6)])
def test_kaiser_is_numpys_kaiser_and_builds_stylegan3s_lowpass_filter(numtaps, beta):
    w = tg.signal.windows.kaiser(numtaps, beta=beta, dtype=tg.float64)
    np.testing.assert_allclose(w.numpy(), np.kaiser(numtaps, beta), rtol=1e-13)
    # firwin(numtaps, cutoff, width, fs) of design_lowpass_filter: windowed sinc, unit DC gain
    m = np.arange(numtaps) - (numtaps - 1) / 2
    taps = tg.as_tensor(0.25 * np.sinc(0.25 * m)) * w
    taps = taps / taps.sum()
    assert float(taps.sum()) == pytest.approx(1.0)
    np.testing.assert_allclose(taps.numpy(), taps.numpy()[::-1], rtol=1e-13)   # linear phase
    assert tg.signal.windows.kaiser(numtaps).dtype == tg.float32


def test_periodic_windows_drop_the_last_sample_of_one_sample_longer_symmetric_ones():
    W = tg.signal.windows
    for name, kw in [("hann", {}), ("hamming", {}), ("blackman", {}), ("bartlett", {}), ("nuttall", {}),
                     ("kaiser", {"beta": 3.0}), ("gaussian", {"std": 1.2}), ("cosine", {}),
                     ("general_cosine", {"a": [0.5, 0.3, 0.2]})]:
        fn = getattr(W, name)
        for M in (2, 5, 8):
            per = fn(M, sym=False, dtype=tg.float64, **kw).numpy()
            np.testing.assert_allclose(per, fn(M + 1, dtype=tg.float64, **kw).numpy()[:-1], rtol=1e-12,
                                       atol=1e-15, err_msg=f"{name}({M})")
    np.testing.assert_allclose(W.hann(4, sym=False).numpy(), [0.0, 0.5, 1.0, 0.5], atol=1e-7)
    # exponential: periodic centre M / 2, or where asked
    np.testing.assert_allclose(W.exponential(4, sym=False, dtype=tg.float64).numpy(),
                               np.exp(-np.abs(np.arange(4) - 2.0)), rtol=1e-14)
    np.testing.assert_allclose(W.exponential(4, sym=False, center=0.5, tau=3.0, dtype=tg.float64).numpy(),
                               np.exp(-np.abs(np.arange(4) - 0.5) / 3.0), rtol=1e-14)


def test_window_lengths_zero_and_one_dtype_device_and_requires_grad():
    W = tg.signal.windows
    for name in W.__all__:
        kw = {"a": [0.5, 0.5]} if name == "general_cosine" else {}
        fn = getattr(W, name)
        assert fn(0, **kw).shape == (0,)
        np.testing.assert_array_equal(fn(1, **kw).numpy(), [1.0])
        np.testing.assert_array_equal(fn(1, sym=False, **kw).numpy(), [1.0])
    w = W.hann(6, dtype=tg.float64, device="cpu", requires_grad=True, layout=tg.strided)
    assert w.dtype == tg.float64 and w.requires_grad and w.is_leaf


def test_windows_take_the_default_dtype(default_float64):
    W = tg.signal.windows
    assert W.kaiser(5).dtype == W.hann(5).dtype == W.exponential(5).dtype == tg.float64
    assert W.kaiser(5, dtype=tg.float32).dtype == tg.float32


def test_bad_window_arguments_are_typed_errors_naming_the_argument():
    W = tg.signal.windows
    with pytest.raises(tg.ConfigError, match="non-negative window length"):
        W.hann(-1)
    with pytest.raises(tg.InputTypeError, match="window length M must be an int"):
        W.hann(4.0)
    with pytest.raises(tg.DTypeError, match="float32 or float64"):
        W.kaiser(4, dtype=tg.int64)
    with pytest.raises(tg.ConfigError, match="beta must be non-negative"):
        W.kaiser(4, beta=-1.0)
    with pytest.raises(tg.ConfigError, match="std must be positive"):
        W.gaussian(4, std=0.0)
    with pytest.raises(tg.ConfigError, match="tau must be positive"):
        W.exponential(4, tau=0.0)
    with pytest.raises(tg.ConfigError, match="center must be None for symmetric"):
        W.exponential(4, center=1.0)
    with pytest.raises(tg.ConfigError, match="cannot be empty"):
        W.general_cosine(4, a=[])
    with pytest.raises(tg.InputTypeError, match="must be a list/tuple"):
        W.general_cosine(4, a=0.5)
    with pytest.raises(ValueError):          # torch's ValueError still catches the value errors
        W.hann(-2)


# -- the older factories follow set_default_dtype too, as torch's ----------------------------------
def test_window_factories_logspace_and_scalar_tensor_take_the_default_dtype(default_float64):
    for t in (tg.hann_window(4), tg.hamming_window(4), tg.blackman_window(4), tg.bartlett_window(4),
              tg.kaiser_window(4), tg.logspace(0, 1, 3), tg.scalar_tensor(2)):
        assert t.dtype == tg.float64
    np.testing.assert_allclose(tg.kaiser_window(5, periodic=False, beta=4.0).numpy(), np.kaiser(5, 4.0), rtol=1e-14)
    np.testing.assert_allclose(tg.logspace(0, 2, 3).numpy(), [1.0, 10.0, 100.0], rtol=1e-15)
    assert tg.logspace(0, 1, 3, dtype=tg.float32).dtype == tg.float32
    assert tg.hann_window(4, dtype=tg.float32).dtype == tg.float32


def test_window_factories_stay_float32_by_default():
    assert tg.hann_window(4).dtype == tg.logspace(0, 1, 2).dtype == tg.scalar_tensor(1.5).dtype == tg.float32
    assert math.isclose(float(tg.scalar_tensor(1.5)), 1.5)
