"""Session 26 audio-GAN ports (BigVGAN, GANSynth): the fixes they needed and the pieces they lean
on, checked against NumPy, finite differences and invariants (no torch here)."""
import math
import sys
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import JitInterfaceError

RNG = np.random.default_rng(26)


# -- fixes ----------------------------------------------------------------------------------------
def test_jit_interface_marks_a_class_and_refuses_what_torch_refuses():
    @tg.jit.interface
    class HelperInterface(tg.nn.Module):       # tbazin/GANsynth-pytorch's module-level use
        def to_audio(self, spec):
            pass

    assert HelperInterface.__torch_script_interface__ is True
    with pytest.raises(RuntimeError, match="must be applied to a class"):
        tg.jit.interface(lambda x: x)

    class Base:
        pass

    with pytest.raises(JitInterfaceError, match="does not support inheritance"):
        tg.jit.interface(type("Derived", (Base,), {}))


def test_complex_of_a_one_element_tensor_as_torch():
    assert complex(tg.tensor(1 + 2j)) == 1 + 2j
    assert complex(tg.tensor(1.5)) == 1.5 + 0j and complex(tg.tensor([3])) == 3 + 0j
    with pytest.raises(ValueError):
        complex(tg.ones(2))
    sys.modules["tensorgan.tensor"]._ONCE_WARNED.pop("float", None)
    with pytest.warns(UserWarning, match="requires_grad=True to a scalar"):
        assert complex(tg.ones((), requires_grad=True) * 2) == 2 + 0j


def _np_stft_two_sided(x, n_fft, hop, window, center=True, mode="reflect"):
    """numpy reference: frames of the (padded) signal times the window, full FFT, (F, T)."""
    if center:
        x = np.pad(x, (n_fft // 2, n_fft // 2), mode={"replicate": "edge"}.get(mode, mode))
    starts = range(0, len(x) - n_fft + 1, hop)
    return np.stack([np.fft.fft(x[s:s + n_fft] * window) for s in starts], axis=1)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
def test_stft_of_a_complex_signal_is_two_sided_as_torch(mode):
    x = RNG.standard_normal(30) + 1j * RNG.standard_normal(30)
    w = np.hanning(8) + 0.1
    mode_np = {"circular": "wrap"}.get(mode, mode)
    got = tg.stft(tg.tensor(x), 8, 3, window=tg.tensor(w), pad_mode=mode)   # return_complex: True
    assert got.dtype == tg.complex128 and got.shape == (8, 11)
    np.testing.assert_allclose(got.numpy(), _np_stft_two_sided(x, 8, 3, w, mode=mode_np), atol=1e-12)


def test_stft_with_a_complex_window_keeps_it_and_is_two_sided():
    x = RNG.standard_normal((2, 24))
    w = np.hanning(8) + 1j * RNG.standard_normal(8)
    got = tg.stft(tg.tensor(x), 8, 4, window=tg.tensor(w))            # was: imag dropped, onesided
    assert got.shape == (2, 8, 7)
    for b in range(2):
        np.testing.assert_allclose(got[b].numpy(), _np_stft_two_sided(x[b], 8, 4, w), atol=1e-12)
    with pytest.raises(RuntimeError, match="onesided output if window or input is complex"):
        tg.stft(tg.tensor(x), 8, 4, window=tg.tensor(w), onesided=True, return_complex=True)


def test_stft_of_a_complex_signal_passes_gradients_to_both_parts_and_the_window():
    re, im = RNG.standard_normal(20), RNG.standard_normal(20)
    w = np.hanning(8) + 0.2

    def power(a, b, win):
        return (tg.stft(tg.complex(a, b), 8, 2, window=win, center=False).abs() ** 2).sum()

    args = [tg.tensor(v, requires_grad=True) for v in (re, im, w)]
    power(*args).backward()
    for i, arg in enumerate(args):
        eps, k = 1e-6, 3
        plus = [a.detach().clone() for a in args]
        minus = [a.detach().clone() for a in args]
        plus[i].numpy()[k] += eps
        minus[i].numpy()[k] -= eps
        numeric = (float(power(*plus)) - float(power(*minus))) / (2 * eps)
        assert abs(float(arg.grad[k]) - numeric) < 1e-5 * max(1.0, abs(numeric))


def test_istft_with_a_complex_window_inverts_stft_and_refuses_a_real_output():
    x = RNG.standard_normal((2, 32)) + 1j * RNG.standard_normal((2, 32))
    w = tg.tensor(np.hanning(8) + 0.1 + 0.3j * np.hanning(8))
    spec = tg.stft(tg.tensor(x), 8, 2, window=w)
    back = tg.istft(spec, 8, 2, window=w, return_complex=True, length=32)
    np.testing.assert_allclose(back.numpy(), x, atol=1e-12)
    with pytest.raises(RuntimeError, match="complex windows are incompatible with return_complex=False"):
        tg.istft(spec, 8, 2, window=w)                       # was: the imaginary part dropped


# -- BigVGAN pieces -------------------------------------------------------------------------------
def _kaiser_sinc(cutoff, half_width, size):
    """BigVGAN's low-pass taps: a Kaiser-windowed sinc normalised to unit sum."""
    half = size // 2
    a = 2.285 * (half - 1) * math.pi * 4 * half_width + 7.95
    beta = 0.1102 * (a - 8.7) if a > 50 else (0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21) if a >= 21 else 0.0)
    t = tg.arange(-half, half, dtype=tg.float64) + 0.5
    taps = 2 * cutoff * tg.kaiser_window(size, beta=beta, periodic=False, dtype=tg.float64) * tg.sinc(2 * cutoff * t)
    return (taps / taps.sum()).view(1, 1, size)


def _anti_aliased(x, act, ratio=2, size=12):
    """Activation1d: replicate-pad, transposed-conv upsample, act, low-pass, stride-2 downsample."""
    c = x.shape[1]
    taps = _kaiser_sinc(0.5 / ratio, 0.6 / ratio, size)
    pad = size // ratio - 1
    left = pad * ratio + (size - ratio) // 2
    right = pad * ratio + (size - ratio + 1) // 2
    up = ratio * F.conv_transpose1d(F.pad(x, (pad, pad), mode="replicate"), taps.expand(c, -1, -1),
                                    stride=ratio, groups=c)[..., left:-right]
    y = F.pad(act(up), (size // 2 - 1, size // 2), mode="replicate")
    return F.conv1d(y, taps.expand(c, -1, -1), stride=ratio, groups=c)


def test_kaiser_sinc_taps_match_numpy_and_keep_a_constant_signal():
    taps = _kaiser_sinc(0.25, 0.3, 12).reshape(-1).numpy()
    half = 6
    t = np.arange(-half, half) + 0.5
    beta = 0.1102 * (2.285 * 5 * math.pi * 1.2 + 7.95 - 8.7)       # attenuation A > 50 dB
    ref = 0.5 * np.kaiser(12, beta) * np.sinc(0.5 * t)
    np.testing.assert_allclose(taps, ref / ref.sum(), atol=1e-14)
    const = tg.full((1, 3, 20), 0.7, dtype=tg.float64)
    out = _anti_aliased(const, lambda v: v)
    assert out.shape == (1, 3, 20)
    np.testing.assert_allclose(out.numpy(), 0.7, atol=1e-12)


def test_snake_beta_through_the_anti_aliased_block_has_finite_difference_gradients():
    x = tg.tensor(RNG.standard_normal((1, 2, 10)), requires_grad=True)
    log_a = tg.tensor([0.1, -0.2], dtype=tg.float64, requires_grad=True)
    log_b = tg.tensor([0.3, 0.0], dtype=tg.float64, requires_grad=True)

    def block(x, log_a, log_b):
        a, b = log_a.exp().view(1, -1, 1), log_b.exp().view(1, -1, 1)
        return _anti_aliased(x, lambda v: v + 1.0 / (b + 1e-9) * (v * a).sin() ** 2)

    assert tg.autograd.gradcheck(block, (x, log_a, log_b), eps=1e-6, atol=1e-6)


def test_mrd_magnitude_spectrogram_matches_numpy():
    x = RNG.standard_normal((2, 1, 40))
    n_fft, hop = 16, 4
    p = (n_fft - hop) // 2
    xs = F.pad(tg.tensor(x), (p, p), mode="reflect").squeeze(1)
    spec = tg.stft(xs, n_fft=n_fft, hop_length=hop, window=tg.ones(n_fft, dtype=tg.float64), center=False,
                   return_complex=True)
    mag = tg.norm(tg.view_as_real(spec), p=2, dim=-1)
    padded = np.pad(x[:, 0], ((0, 0), (p, p)), mode="reflect")
    frames = np.stack([padded[:, s:s + n_fft] for s in range(0, padded.shape[1] - n_fft + 1, hop)], 1)
    np.testing.assert_allclose(mag.numpy(), np.abs(np.fft.rfft(frames, axis=-1)).transpose(0, 2, 1), atol=1e-12)


@pytest.mark.filterwarnings("ignore:.*weight_norm.*is deprecated")
def test_weight_norm_adamw_exponential_lr_steps_and_remove_keep_the_effective_weight():
    conv = tg.nn.utils.weight_norm(tg.nn.ConvTranspose1d(4, 2, 4, 2, padding=1).double())
    opt = tg.optim.AdamW(conv.parameters(), 1e-2, betas=[0.8, 0.99])
    sched = tg.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    x = tg.tensor(RNG.standard_normal((1, 4, 6)))
    for _ in range(3):
        opt.zero_grad()
        (conv(x) ** 2).mean().backward()
        opt.step()
        sched.step()
    assert abs(opt.param_groups[0]["lr"] - 1e-2 * 0.9 ** 3) < 1e-15
    before = conv(x).detach().numpy()
    tg.nn.utils.remove_weight_norm(conv)
    np.testing.assert_allclose(conv(x).detach().numpy(), before, atol=1e-12)
    with pytest.raises(ValueError, match="not weight-normalized"):
        tg.nn.utils.remove_weight_norm(conv)     # BigVGAN catches ValueError here


# -- GANSynth pieces ------------------------------------------------------------------------------
def _unwrap(p, dim):
    n = p.shape[dim]
    dd = p.narrow(dim, 1, n - 1) - p.narrow(dim, 0, n - 1)
    ddmod = tg.remainder(dd + np.pi, 2.0 * np.pi) - np.pi
    ddmod = tg.where(tg.eq(ddmod, -np.pi) * tg.gt(dd, 0), tg.ones_like(ddmod) * np.pi, ddmod)
    zeros = tg.zeros_like(p).select(dim, 0).unsqueeze(dim)
    return p + tg.cat([zeros, tg.cumsum(ddmod - dd, dim=dim)], dim=dim)


def test_phase_unwrap_matches_numpy_and_a_tone_has_constant_instantaneous_frequency():
    phase = np.angle(np.exp(1j * np.cumsum(RNG.uniform(-3, 3, (3, 40)), axis=1)))
    np.testing.assert_allclose(_unwrap(tg.tensor(phase), 1).numpy(), np.unwrap(phase, axis=1), atol=1e-12)
    # a pure tone at FFT bin k: its stft phase advances by 2 pi k hop / n_fft every frame
    n_fft, hop, k = 32, 8, 1
    t = np.arange(256)
    tone = tg.tensor(np.cos(2 * np.pi * k * t / n_fft))       # periodic: circular padding keeps it
    spec = tg.stft(tone, n_fft, hop, window=tg.hann_window(n_fft, dtype=tg.float64), pad_mode="circular",
                   return_complex=True)
    unwrapped = _unwrap(spec.angle()[k:k + 1], 1)
    steps = (unwrapped.narrow(1, 1, unwrapped.shape[1] - 1) - unwrapped.narrow(1, 0, unwrapped.shape[1] - 1)) / np.pi
    np.testing.assert_allclose(steps.numpy(), 2 * k * hop / n_fft, atol=1e-9)


def test_wgan_gp_through_minibatch_stddev_and_avg_pool_has_finite_difference_second_order():
    w = tg.tensor(RNG.standard_normal((3, 3, 3, 3)) * 0.3, requires_grad=True)
    head = tg.tensor(RNG.standard_normal(3 * 2 * 2), requires_grad=True)
    real = tg.tensor(RNG.standard_normal((2, 2, 4, 4)))
    fake = tg.tensor(RNG.standard_normal((2, 2, 4, 4)))
    eps = tg.tensor([[0.3], [0.8]]).expand(2, 32).contiguous().view(2, 2, 4, 4)

    def critic(x, w, head):
        std = ((x - x.mean(0, keepdim=True)) ** 2).mean(0, keepdim=True).add(1e-8).sqrt()
        x = tg.cat((x, std.mean(1, keepdim=True).expand(x.shape[0], 1, 4, 4)), 1)
        x = F.avg_pool2d(F.leaky_relu(F.conv2d(x, w, padding=1), 0.2), 2, 2, count_include_pad=False)
        return x.reshape(2, -1) @ head

    def penalty(w, head):
        mid = (eps * real + (1 - eps) * fake).requires_grad_(True)
        g = tg.autograd.grad(critic(mid, w, head), mid, grad_outputs=tg.ones(2), create_graph=True)[0]
        return ((g.view(2, -1).norm(2, dim=1) - 1) ** 2).mean()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tg.autograd.gradcheck(penalty, (w, head), eps=1e-6, atol=1e-5)
