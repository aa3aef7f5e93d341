"""tg.fft / tg.stft / tg.istft with complex tensors (session 25): values against NumPy's np.fft,
dtypes as torch's, gradients against central finite differences on the real and imaginary parts."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeError

RNG = np.random.default_rng(2525)


def crand(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def real_loss(out, weights):
    if out.is_complex():
        return (tg.view_as_real(out) * tg.tensor(weights)).sum()
    return (out * tg.tensor(weights[..., 0])).sum()


def check_gradients(f, arrays, h=1e-6, atol=1e-6):
    tensors = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = f(*tensors)
    weights = RNG.standard_normal(tuple(out.shape) + (2,))
    real_loss(out, weights).backward()
    for i, t in enumerate(tensors):
        expected = np.zeros(arrays[i].shape, dtype=arrays[i].dtype)
        for idx in np.ndindex(arrays[i].shape):
            for step in ((1.0, 1j) if arrays[i].dtype.kind == "c" else (1.0,)):
                values = []
                for sign in (1, -1):
                    moved = [a.copy() for a in arrays]
                    moved[i][idx] += sign * h * step
                    values.append(real_loss(f(*[tg.tensor(m) for m in moved]), weights).item())
                expected[idx] += step * (values[0] - values[1]) / (2 * h)
        assert t.grad.dtype == t.dtype
        np.testing.assert_allclose(t.grad.numpy(), expected, atol=atol, err_msg=f"input {i}")


def test_transforms_match_numpy_and_torch_dtypes():
    a, x = crand(3, 8), RNG.standard_normal((3, 8))
    A, X = tg.tensor(a), tg.tensor(x)
    for got, want in [(tg.fft.fft(A), np.fft.fft(a)), (tg.fft.ifft(A, n=5, dim=0, norm="ortho"), np.fft.ifft(a, 5, 0, "ortho")),
                      (tg.fft.fft(X), np.fft.fft(x)), (tg.fft.fft2(A, s=(2, 6)), np.fft.fft2(a, (2, 6))),
                      (tg.fft.ifftn(A, norm="forward"), np.fft.ifftn(a, norm="forward")),
                      (tg.fft.rfft(X, n=10), np.fft.rfft(x, 10)), (tg.fft.irfft(A, n=9), np.fft.irfft(a, 9)),
                      (tg.fft.rfft2(X), np.fft.rfft2(x)), (tg.fft.irfftn(A, s=(3, 14)), np.fft.irfftn(a, (3, 14), axes=(0, 1))),
                      (tg.fft.hfft(A), np.fft.hfft(a)), (tg.fft.ihfft(X), np.fft.ihfft(x)),
                      (tg.fft.fftshift(tg.fft.fft(A), dim=-1), np.fft.fftshift(np.fft.fft(a), -1))]:
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
    x32 = tg.randn(2, 8)
    assert tg.fft.rfft(x32).dtype == tg.complex64 and tg.fft.fft(x32).dtype == tg.complex64
    assert tg.fft.irfft(tg.fft.rfft(x32)).dtype == tg.float32 and tg.fft.fft(tg.arange(4)).dtype == tg.complex64
    np.testing.assert_allclose(tg.fft.irfft(tg.fft.rfft(x32)).numpy(), x32.numpy(), atol=1e-6)
    with pytest.raises(DTypeError, match="expects a real input"):
        tg.fft.rfft(A)


FFT_CASES = {
    "fft": (lambda a: tg.fft.fft(a, n=5, norm="ortho"), "c"), "ifft": (lambda a: tg.fft.ifft(a, dim=0), "c"),
    "fft_of_real": (lambda x: tg.fft.fft(x), "r"), "fft2": (lambda a: tg.fft.fft2(a, s=(2, 3)), "c"),
    "ifftn": (lambda a: tg.fft.ifftn(a, norm="forward"), "c"), "rfft": (lambda x: tg.fft.rfft(x), "r"),
    "irfft": (lambda a: tg.fft.irfft(a, n=5), "c"), "rfft2_irfft2": (lambda x: tg.fft.irfft2(tg.fft.rfft2(x) ** 2, s=(3, 4)), "r"),
    "hfft": (lambda a: tg.fft.hfft(a, n=6), "c"), "ihfft": (lambda x: tg.fft.ihfft(x), "r"),
}


@pytest.mark.parametrize("name", sorted(FFT_CASES))
def test_fft_gradients_against_finite_differences(name):
    f, kind = FFT_CASES[name]
    check_gradients(f, [crand(3, 4) if kind == "c" else RNG.standard_normal((3, 4))])


def test_stft_complex_and_istft_of_a_complex_spectrum():
    x = RNG.standard_normal((2, 61))
    w = tg.hann_window(16, dtype=tg.float64) + 0.1
    spec = tg.stft(tg.tensor(x), 16, hop_length=4, window=w, return_complex=True)
    assert spec.dtype == tg.complex128 and spec.shape == (2, 9, 16)
    np.testing.assert_array_equal(tg.view_as_real(spec).numpy(),
                                  tg.stft(tg.tensor(x), 16, hop_length=4, window=w, return_complex=False).numpy())
    padded = np.pad(x, ((0, 0), (8, 8)), mode="reflect")     # frame 3 by hand
    np.testing.assert_allclose(spec.numpy()[:, :, 3], np.fft.rfft(padded[:, 12:28] * w.numpy()), atol=1e-12)
    y = tg.istft(spec, 16, hop_length=4, window=w, length=61)
    np.testing.assert_allclose(y.numpy(), x, atol=1e-12)
    full = tg.stft(tg.tensor(x[0]), 16, hop_length=4, window=w, onesided=False, return_complex=True)
    assert full.shape == (16, 16)
    np.testing.assert_allclose(full.numpy()[9:], np.conj(full.numpy()[1:8][::-1]), atol=1e-12)
    z = tg.istft(full, 16, hop_length=4, window=w, onesided=False, return_complex=True, length=61)
    assert z.dtype == tg.complex128
    np.testing.assert_allclose(z.numpy(), x[0], atol=1e-12)
    assert tg.stft(tg.randn(64), 16, window=tg.hann_window(16), return_complex=True).dtype == tg.complex64


def test_stft_istft_gradients_against_finite_differences():
    w = tg.hann_window(8, dtype=tg.float64) + 0.2
    check_gradients(lambda x: tg.stft(x, 8, hop_length=3, window=w, return_complex=True), [RNG.standard_normal(20)])
    check_gradients(lambda s: tg.istft(s, 8, hop_length=2, window=w, length=15), [crand(5, 7)])


def test_fourier_unit_spectral_path_gradients():
    """LaMa's FourierUnit path (rfftn -> stack(real, imag) -> a real op -> tg.complex -> irfftn):
    the identity in the middle gives the signal back; a pointwise map in between is checked
    against finite differences."""
    def fourier_unit(x, scale):
        ff = tg.fft.rfftn(x, dim=(-2, -1), norm="ortho")
        ff = tg.stack((ff.real, ff.imag), dim=-1).permute(0, 1, 4, 2, 3).contiguous()
        ff = (ff * scale).view(1, 2, 2, 3).permute(0, 2, 3, 1).contiguous()
        return tg.fft.irfftn(tg.complex(ff[..., 0], ff[..., 1])[None], s=x.shape[-2:], dim=(-2, -1), norm="ortho")
    x = RNG.standard_normal((1, 1, 2, 4))
    np.testing.assert_allclose(fourier_unit(tg.tensor(x), tg.ones(1)).numpy(), x, atol=1e-12)
    check_gradients(fourier_unit, [x, RNG.standard_normal((1, 1, 2, 2, 3))])


def test_rotary_embedding_in_complex_form_keeps_norms_and_relative_positions():
    """LLaMA's apply_rotary_emb: view_as_complex(x.reshape(..., -1, 2)) * polar(1, t * freqs), back
    through view_as_real(...).flatten(): each pair keeps its norm, and a query-key product depends
    only on the positions' difference."""
    d, seq = 8, 6
    freqs = 1.0 / 10000.0 ** (tg.arange(0, d, 2).double() / d)
    angles = tg.outer(tg.arange(seq).double(), freqs)
    cis = tg.polar(tg.ones_like(angles), angles)

    def rope(x):                         # x: (seq, d)
        return tg.view_as_real(tg.view_as_complex(x.reshape(seq, -1, 2)) * cis).flatten(1)
    q, k = RNG.standard_normal(d), RNG.standard_normal(d)
    rq, rk = rope(tg.tensor(np.tile(q, (seq, 1)))), rope(tg.tensor(np.tile(k, (seq, 1))))
    np.testing.assert_allclose(rq.reshape(seq, -1, 2).square().sum(-1).numpy(),
                               np.tile((q.reshape(-1, 2) ** 2).sum(-1), (seq, 1)), atol=1e-12)
    scores = (rq @ rk.t()).numpy()
    for shift in range(1, seq):
        np.testing.assert_allclose(np.diag(scores, shift), np.full(seq - shift, scores[0, shift]), atol=1e-12)
    check_gradients(lambda x: rope(x), [RNG.standard_normal((seq, d))])
