"""Audio GAN ports (MelGAN, HiFi-GAN): tg.stft / tg.istft and the 1-D layers those models use."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import ConfigError, DTypeError, ShapeError


def _dft_stft(x, n_fft, hop, window, center, mode="reflect"):
    """Each frame's DFT by the definition: sum_n x[t hop + n] w[n] exp(-2 pi i k n / n_fft)."""
    if center:
        x = np.pad(x, n_fft // 2, mode={"reflect": "reflect", "constant": "constant"}[mode])
    frames = 1 + (len(x) - n_fft) // hop
    k = np.arange(n_fft // 2 + 1)[:, None]
    n = np.arange(n_fft)[None, :]
    basis = np.exp(-2j * np.pi * k * n / n_fft)
    out = np.stack([basis @ (x[t * hop:t * hop + n_fft] * window) for t in range(frames)], axis=1)
    return np.stack([out.real, out.imag], axis=-1)


@pytest.mark.parametrize("center,mode", [(True, "reflect"), (True, "constant"), (False, "reflect")])
def test_stft_matches_the_dft_definition(center, mode):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(70)
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(16) / 16)      # periodic Hann
    got = tg.stft(tg.tensor(x), 16, hop_length=4, window=tg.hann_window(16, dtype=tg.float64),
                  center=center, pad_mode=mode, return_complex=False)
    want = _dft_stft(x, 16, 4, w, center, mode)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, atol=1e-12)


def test_stft_defaults_batch_and_short_window():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 50))
    # hop n_fft // 4, rectangular window of win_length samples centred in n_fft (zeros around it)
    got = tg.stft(tg.tensor(x), 12, win_length=7, center=False, return_complex=False)
    w = np.zeros(12)
    w[2:9] = 1.0
    assert got.shape == (3, 7, 1 + (50 - 12) // 3, 2)
    for b in range(3):
        np.testing.assert_allclose(got[b].numpy(), _dft_stft(x[b], 12, 3, w, False), atol=1e-12)
    # x.stft is the same function; normalized scales by n_fft ** -0.5
    norm = tg.tensor(x).stft(12, win_length=7, center=False, normalized=True, return_complex=False)
    np.testing.assert_allclose(norm.numpy(), got.numpy() / np.sqrt(12), atol=1e-12)


def test_stft_twosided_is_conjugate_symmetric():
    x = tg.tensor(np.random.default_rng(2).standard_normal(40))
    half = tg.stft(x, 9, return_complex=False)
    full = tg.stft(x, 9, onesided=False, return_complex=False).numpy()
    assert full.shape[0] == 9
    np.testing.assert_allclose(full[:5], half.numpy())
    for k in range(5, 9):
        np.testing.assert_allclose(full[k, :, 0], full[9 - k, :, 0])
        np.testing.assert_allclose(full[k, :, 1], -full[9 - k, :, 1])


def test_stft_refuses_complex_and_bad_arguments():
    x = tg.randn(64)
    spec = tg.stft(x, 16, return_complex=True)             # (complex since session 25)
    assert spec.dtype == tg.complex64 and spec.shape == (9, 17)
    with pytest.raises(ConfigError, match="return_complex"):
        tg.stft(x, 16)
    with pytest.raises(ShapeError, match="1D or 2D"):
        tg.stft(tg.randn(2, 2, 64), 16, return_complex=False)
    with pytest.raises(ConfigError, match="win_length"):
        tg.stft(x, 16, win_length=20, return_complex=False)
    with pytest.raises(ShapeError, match="win_length=16"):
        tg.stft(x, 16, window=tg.ones(10), return_complex=False)
    with pytest.raises(ShapeError, match="n_fft"):
        tg.stft(x, 100, center=False, return_complex=False)


@pytest.mark.parametrize("center,length", [(True, None), (True, 61), (False, None), (True, 70)])
def test_istft_inverts_stft(center, length):
    x = np.random.default_rng(3).standard_normal((2, 61))
    # Hamming (no zero at the ends: without centring the envelope must not vanish at sample 0)
    w = tg.hamming_window(16, dtype=tg.float64)
    spec = tg.stft(tg.tensor(x), 16, hop_length=4, window=w, center=center, return_complex=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # length 70 > 68: torch's once-per-program warning
        y = tg.istft(spec, 16, hop_length=4, window=w, center=center, length=length).numpy()
    if center and length is None:
        assert y.shape == (2, 4 * (spec.shape[2] - 1))
    if length is not None:
        assert y.shape == (2, length)
    n = min(y.shape[1], 61 if center else 16 + 4 * (spec.shape[2] - 1))
    np.testing.assert_allclose(y[:, :n], x[:, :n], atol=1e-12)
    if length is not None and length > 61:
        assert np.all(y[:, 8 + 4 * (spec.shape[2] - 1):] == 0)  # past the last frame: zero padding


def test_istft_checks():
    spec = tg.stft(tg.randn(64), 16, return_complex=False)
    with pytest.raises(ConfigError, match="overlap"):
        tg.istft(spec, 16, window=tg.zeros(16))
    with pytest.raises(ShapeError, match=r"\(B\?, n_freq, n_frames, 2\)"):
        tg.istft(spec[..., 0], 16)
    with pytest.raises(ConfigError, match="onesided"):     # a complex signal needs two sides (torch)
        tg.istft(spec, 16, window=tg.hann_window(16), return_complex=True)
    full = tg.stft(tg.randn(64), 16, onesided=False, return_complex=False)
    assert tg.istft(full, 16, window=tg.hann_window(16)).shape == (64,)


def test_stft_istft_gradcheck():
    rng = np.random.default_rng(4)
    x = tg.tensor(rng.standard_normal(23), requires_grad=True)
    w = tg.tensor(rng.uniform(0.5, 1.0, 6), requires_grad=True)
    assert tg.gradcheck(lambda x, w: tg.stft(x, 8, hop_length=3, win_length=6, window=w,
                                             return_complex=False), (x, w))
    assert tg.gradcheck(lambda x: tg.stft(x, 8, hop_length=2, onesided=False, normalized=True,
                                          center=False, return_complex=False), (x,))
    spec = tg.tensor(rng.standard_normal((5, 7, 2)), requires_grad=True)
    w8 = tg.tensor(rng.uniform(0.5, 1.0, 8), requires_grad=True)
    assert tg.gradcheck(lambda s, w: tg.istft(s, 8, hop_length=2, window=w, length=15), (spec, w8))
    # gradients of gradients too (a gradient penalty through a spectral loss)
    assert tg.gradgradcheck(lambda x, w: tg.stft(x, 8, hop_length=3, win_length=6, window=w,
                                                 return_complex=False), (x, w))
    assert tg.gradgradcheck(lambda s, w: tg.istft(s, 8, hop_length=2, window=w), (spec, w8))


def test_module_get_name_and_version():
    """HiFi-GAN's apply_mask branches on op._get_name() (torch's Module._get_name)."""
    class MyConv(tg.nn.Conv1d):
        pass
    assert tg.nn.Conv1d(2, 3, 3)._get_name() == "Conv1d"
    assert tg.nn.ConvTranspose1d(2, 3, 3)._get_name() == "ConvTranspose1d"
    assert MyConv(2, 3, 3)._get_name() == "MyConv"
    assert tg.nn.Linear(2, 3)._version == 1
    with pytest.raises(DTypeError, match="bfloat16"):
        tg.nn.Linear(2, 3).bfloat16()


@pytest.mark.parametrize("form", ["hook", "parametrization"])
@pytest.mark.parametrize("cls,shape", [(tg.nn.ConvTranspose1d, (4, 6, 3)),
                                       (tg.nn.ConvTranspose3d, (2, 5, 2))])
def test_spectral_norm_of_transposed_convs_uses_output_channels(form, cls, shape):
    """torch's spectral_norm takes a transposed conv's weight (in, out, *k) by its dim 1 (u has
    out_channels entries); the hook form did so only for ConvTranspose2d."""
    tg.manual_seed(0)
    m = cls(*shape[:2], shape[2])
    if form == "hook":
        m = tg.nn.utils.spectral_norm(m, n_power_iterations=1)
        u = m.weight_u
    else:
        m = tg.nn.utils.parametrizations.spectral_norm(m)
        u = m.parametrizations.weight[0]._u
    assert u.shape == (shape[1],)
    for _ in range(50):            # power iteration converges: the top singular value becomes 1
        m(tg.randn(1, shape[0], *([4] * (m.weight.ndim - 2))))
    w = m.weight.detach().numpy()
    matrix = np.moveaxis(w, 1, 0).reshape(w.shape[1], -1)
    assert abs(np.linalg.svd(matrix, compute_uv=False)[0] - 1.0) < 1e-3


def test_stft_dtypes_follow_torch():
    """An integer signal is refused (torch: 'expected a tensor of floating point'); a float window
    promotes with the signal; an integer window takes the signal's dtype."""
    with pytest.raises(DTypeError, match="floating point"):
        tg.stft(tg.arange(100), 16, return_complex=False)
    x32 = tg.randn(100)
    w64 = tg.hann_window(16, dtype=tg.float64)
    assert tg.stft(x32, 16, window=w64, return_complex=False).dtype == tg.float64
    assert tg.stft(x32, 16, window=tg.ones(16, dtype=tg.int64), return_complex=False).dtype == tg.float32
    spec = tg.stft(x32, 16, return_complex=False)
    assert tg.istft(spec, 16, window=w64).dtype == tg.float64
    assert tg.istft(spec, 16, window=tg.hann_window(16)).dtype == tg.float32


def test_mel_spectrogram_pipeline_gradcheck():
    """MelGAN's Audio2Mel / HiFi-GAN's mel_spectrogram shape: reflect pad, stft(center=False),
    magnitude from the (..., 2) pairs, mel matmul, log -- batched, gradchecked in float64."""
    rng = np.random.default_rng(5)
    audio = tg.tensor(rng.standard_normal((2, 1, 40)), requires_grad=True)
    mel_basis = tg.tensor(rng.uniform(0, 1, (3, 9)))
    window = tg.hann_window(16, dtype=tg.float64)

    def mel(a):
        a = tg.nn.functional.pad(a, (6, 6), "reflect").squeeze(1)
        spec = tg.stft(a, 16, hop_length=4, win_length=16, window=window, center=False,
                       return_complex=False)
        magnitude = tg.sqrt(spec.pow(2).sum(-1) + 1e-9)
        return tg.log(tg.clamp(tg.matmul(mel_basis, magnitude), min=1e-5))

    out = mel(audio)
    assert out.shape == (2, 3, 1 + (52 - 16) // 4)
    assert tg.gradcheck(mel, (audio,))
