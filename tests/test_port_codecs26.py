"""Session 26: neural audio codecs / vocoders ported at tiny sizes and run beside torch 2.13 in
float64 with identical weights (the ports are not kept) -- facebookresearch/encodec (SEANet
encoder / decoder with weight / spectral / group / layer norm and causal or asymmetric padding, an
LSTM, residual VQ with k-means init, dead-code expiry, EMA codebooks written through ``.data`` and
the straight-through commitment loss, the MS-STFT discriminator on the complex spectrogram, the
balancer's ``autograd.grad`` on the output, 48 kHz-style segments with normalisation and linear
overlap-add, the streaming transformer LM), gemelo-ai/vocos (ConvNeXt and ResBlock1 backbones,
AdaLayerNorm, the ISTFT head with "same" padding through ``fold``, the IMDCT heads, MPD / MRD with
class embeddings) and descriptinc/descript-audio-codec (snake through ``jit.script``, factorised
L2-normalised codebooks, quantizer dropout, multi-band complex MRD on parametrized weight norm,
gradient clipping).  Losses, gradients, parameters, buffers and codes agreed to 1e-10.
What differed, and is fixed: an in-place op on a view of a complex tensor that needs a gradient
was refused (torchaudio's spectrogram divides its reshaped STFT in place), and ``ParameterList``
refused the ``None`` entries Vocos' ResBlock1 gives it.  The other tests pin what the ports lean
on, against NumPy, finite differences and invariants (no torch here)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
import tensorgan.nn.functional as F
from tensorgan.errors import InputTypeError

RNG = np.random.default_rng(26)


def _f64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _fd_grad(f, x, eps=1e-6):
    """Central finite differences of the scalar f at the NumPy array x."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


# -- fixes ----------------------------------------------------------------------------------------
def _window_normalised_spectrogram(x, window):
    """torchaudio.functional.spectrogram(normalized=True, power=None): the STFT reshaped back to
    the input's leading dims, then divided in place by the window's L2 norm."""
    shape = x.shape
    spec = tg.stft(x.reshape(-1, shape[-1]), 8, 2, window=window, center=False, return_complex=True)
    spec = spec.reshape(shape[:-1] + spec.shape[-2:])
    spec /= window.pow(2.0).sum().sqrt()
    return spec


def test_in_place_division_of_a_reshaped_complex_stft_keeps_values_and_gradients():
    window = tg.hann_window(8, dtype=tg.float64)
    x0 = RNG.standard_normal((2, 1, 20))
    x = _f64(x0, requires_grad=True)
    spec = _window_normalised_spectrogram(x, window)
    plain = tg.stft(_f64(x0.reshape(2, 20)), 8, 2, window=window, center=False, return_complex=True)
    norm = np.sqrt((window.numpy() ** 2).sum())
    np.testing.assert_allclose(spec.numpy(), plain.numpy().reshape(2, 1, 5, -1) / norm, atol=1e-13)
    # EnCodec's DiscriminatorSTFT: real and imaginary parts stacked as channels
    z = tg.cat([spec.real, spec.imag], dim=1)
    weights = RNG.standard_normal(tuple(z.shape))
    (z * _f64(weights)).sum().backward()

    def value(a):
        s = np.fft.rfft(np.lib.stride_tricks.sliding_window_view(a, 8, axis=-1)[..., ::2, :]
                        * window.numpy(), axis=-1) / norm          # (2, 1, frames, 5)
        s = np.swapaxes(s, -1, -2)
        return float((np.concatenate([s.real, s.imag], axis=1) * weights).sum())
    np.testing.assert_allclose(x.grad.numpy(), _fd_grad(value, x0), atol=1e-7)


def test_in_place_ops_on_complex_views_write_the_base_and_differentiate_twice():
    x = _f64([0.5, -1.0, 2.0], requires_grad=True)
    base = tg.complex(x, 2 * x)
    tail = base[1:]
    tail.mul_(1j)                                   # (a + 2ai) i = -2a + ai on the last two
    np.testing.assert_allclose(base.numpy(), [0.5 + 1j, 2 - 1j, -4 + 2j])
    assert base.grad_fn.name() == "torch::autograd::CopySlices"
    g, = tg.autograd.grad((base.real * base.imag).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), [4 * 0.5, -4 * -1.0, -4 * 2.0])   # d(2a^2)/da, d(-2a^2)/da
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, -4.0, -4.0])


def test_parameter_list_holds_none_and_other_objects_as_torch():
    # Vocos' ResBlock1 with layer_scale_init_value=None
    gammas = nn.ParameterList([None, nn.Parameter(tg.ones(2, 1)), None])
    assert len(gammas) == 3 and gammas[0] is None and gammas[2] is None
    assert list(dict(gammas.named_parameters())) == ["1"] and list(gammas.state_dict()) == ["1"]
    assert [g is None for g in gammas] == [True, False, True]
    gammas.append(7)
    assert gammas[-1] == 7 and len(gammas) == 4
    part = gammas[1:3]
    assert isinstance(part, nn.ParameterList) and len(part) == 2 and part[0] is gammas[1]
    gammas[0] = tg.zeros(3)                         # a tensor still becomes a registered Parameter
    assert isinstance(gammas[0], nn.Parameter) and list(dict(gammas.named_parameters())) == ["1", "0"]
    gammas[1] = None                                # torch keeps the slot, as a None parameter
    assert gammas[1] is None and list(gammas.state_dict()) == ["0"]
    assert "(3): Object of type: int" in repr(gammas)
    with pytest.raises(IndexError):
        gammas[4]
    with pytest.raises(InputTypeError, match="Parameters or Tensors"):
        nn.ParameterList([np.ones(2)])              # surely meant as a parameter


@pytest.mark.filterwarnings("ignore::FutureWarning")     # ResBlock1 uses the legacy weight_norm
def test_resblock_with_none_layer_scales_trains_and_removes_weight_norm():
    class ResBlock1(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.convs = nn.ModuleList([nn.utils.weight_norm(nn.Conv1d(dim, dim, 3, padding=d, dilation=d))
                                        for d in (1, 3)])
            self.gamma = nn.ParameterList([None, None])

        def forward(self, x):
            for c, gamma in zip(self.convs, self.gamma):
                xt = c(F.leaky_relu(x, 0.1))
                if gamma is not None:
                    xt = gamma * xt
                x = xt + x
            return x
    block = ResBlock1(2).double()
    x = _f64(RNG.standard_normal((1, 2, 9)))
    block(x).pow(2).mean().backward()
    assert all(p.grad is not None for p in block.parameters())
    before = block(x).detach().numpy()
    for c in block.convs:
        nn.utils.remove_weight_norm(c)
    np.testing.assert_allclose(block(x).detach().numpy(), before, atol=1e-13)


# -- what the ports lean on -------------------------------------------------------------------------
def test_ema_codebook_update_through_data_matches_numpy():
    """EnCodec's EuclideanCodebook training step: nearest code, then the cluster sizes and sums
    decayed in place through ``.data`` with Laplace smoothing; no graph is recorded."""
    decay, eps, k = 0.8, 1e-5, 3
    x0, embed0 = RNG.standard_normal((7, 2)), RNG.standard_normal((k, 2))
    x = _f64(x0, requires_grad=True)
    embed, embed_avg, cluster = _f64(embed0), _f64(embed0.copy()), _f64(np.ones(k))
    dist = -(x.pow(2).sum(1, keepdim=True) - 2 * x @ embed.t() + embed.t().pow(2).sum(0, keepdim=True))
    ind = dist.max(dim=-1).indices
    onehot = F.one_hot(ind, k).type(x.dtype)
    cluster.data.mul_(decay).add_(onehot.sum(0), alpha=1 - decay)
    embed_avg.data.mul_(decay).add_((x.t() @ onehot).t(), alpha=1 - decay)
    smoothed = (cluster + eps) / (cluster.sum() + k * eps) * cluster.sum()
    embed.data.copy_(embed_avg / smoothed.unsqueeze(1))
    assert embed.grad_fn is None and not embed.requires_grad

    want_ind = np.argmin(((x0[:, None] - embed0[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(ind.numpy(), want_ind)
    oh = np.eye(k)[want_ind]
    c = decay + (1 - decay) * oh.sum(0)
    avg = decay * embed0 + (1 - decay) * (x0.T @ oh).T
    np.testing.assert_allclose(embed.numpy(), avg / ((c + eps) / (c.sum() + k * eps) * c.sum())[:, None],
                               atol=1e-13)


def test_straight_through_commitment_and_balancer_rescaling():
    """VQ: forward equals the code, backward is the identity; EnCodec's balancer gives each
    loss's output gradient the share of its weight (balancer.py's own test, and its weighted sum
    without rescaling)."""
    x = _f64(RNG.standard_normal((2, 3)), requires_grad=True)
    code = _f64(np.round(x.detach().numpy()))
    q = x + (code - x).detach()
    np.testing.assert_array_equal(q.detach().numpy(), code.numpy())
    commit = F.mse_loss(q.detach(), x)
    (q.sum() + commit).backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 + 2 * (x.detach().numpy() - code.numpy()) / 6)

    def balance(rescale, weights):
        y = tg.zeros(1, requires_grad=True)
        losses = {"1": F.l1_loss(y, tg.ones(1)), "2": 100 * F.l1_loss(y, -tg.ones(1))}
        out = 0
        for name, loss in losses.items():
            grad, = tg.autograd.grad(loss, [y], retain_graph=True)
            norm = float(grad.norm())
            share = weights[name] / sum(weights.values())
            out = out + (grad * (share / (1e-12 + norm)) if rescale else weights[name] * grad)
        y.backward(out)
        return float(y.grad)
    assert balance(False, {"1": 1, "2": 1}) == pytest.approx(99.0)
    assert balance(True, {"1": 1, "2": 1}) == pytest.approx(0.0, abs=1e-12)
    assert balance(True, {"1": 3, "2": 1}) == pytest.approx(-0.5)


def test_same_padded_istft_by_fold_inverts_a_same_padded_stft():
    """Vocos' ISTFT(padding='same'): irfft, window, overlap-add with ``fold``, divide by the
    folded squared window; it inverts an STFT of the audio padded by (win - hop) / 2."""
    n_fft, hop = 16, 4
    pad = (n_fft - hop) // 2
    audio = RNG.standard_normal((2, 40))
    window = tg.hann_window(n_fft, dtype=tg.float64)
    spec = tg.stft(F.pad(_f64(audio), (pad, pad)), n_fft, hop, window=window, center=False, return_complex=True)
    spec.requires_grad_(True)
    frames = spec.shape[-1]
    ifft = tg.fft.irfft(spec, n_fft, dim=1, norm="backward") * window[None, :, None]
    size = (frames - 1) * hop + n_fft
    y = F.fold(ifft, output_size=(1, size), kernel_size=(1, n_fft), stride=(1, hop))[:, 0, 0, pad:-pad]
    env = F.fold(window.square().expand(1, frames, -1).transpose(1, 2), output_size=(1, size),
                 kernel_size=(1, n_fft), stride=(1, hop)).squeeze()[pad:-pad]
    out = y / env
    np.testing.assert_allclose(out.detach().numpy()[:, 8:-8], audio[:, 8:-8], atol=1e-12)
    out.sum().backward()
    assert spec.grad.dtype == tg.complex128 and np.isfinite(spec.grad.numpy()).all()


def test_vocos_head_complex_spectrum_from_magnitude_and_phase():
    """mag * exp(i atan2(sin p, cos p)): the gradients reach mag and p as d|S| / d phase."""
    m0, p0 = RNG.standard_normal((2, 3)), RNG.uniform(-3, 3, (2, 3))
    w = RNG.standard_normal((2, 3))
    m, p = _f64(m0, requires_grad=True), _f64(p0, requires_grad=True)
    s = tg.clip(tg.exp(m), max=1e2) * tg.exp(tg.atan2(tg.sin(p), tg.cos(p)) * 1j)
    (s.real * _f64(w)).sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), w * np.exp(m0) * np.cos(p0), atol=1e-12)
    np.testing.assert_allclose(p.grad.numpy(), -w * np.exp(m0) * np.sin(p0), atol=1e-12)


def test_scripted_snake_matches_its_formula_and_finite_differences():
    @tg.jit.script
    def snake(x, alpha):
        shape = x.shape
        x = x.reshape(shape[0], shape[1], -1)
        x = x + (alpha + 1e-9).reciprocal() * tg.sin(alpha * x).pow(2)
        return x.reshape(shape)
    x0, a0 = RNG.standard_normal((2, 3, 4)), RNG.uniform(0.5, 2, (1, 3, 1))
    x, a = _f64(x0, requires_grad=True), _f64(a0, requires_grad=True)
    y = snake(x, a)
    np.testing.assert_allclose(y.detach().numpy(), x0 + np.sin(a0 * x0) ** 2 / (a0 + 1e-9), atol=1e-13)
    y.sum().backward()
    f = lambda aa: float((x0 + np.sin(aa * x0) ** 2 / (aa + 1e-9)).sum())
    np.testing.assert_allclose(a.grad.numpy(), _fd_grad(f, a0), atol=1e-6)


def test_factorised_l2_normalised_codebook_picks_the_most_cosine_similar_code():
    """DAC's decode_latents: the distance between L2-normalised vectors is the cosine ranking."""
    latents = RNG.standard_normal((2, 3, 5))            # (b, d, t)
    book = RNG.standard_normal((6, 3))
    enc = F.normalize(_f64(latents.transpose(0, 2, 1).reshape(-1, 3)))
    cb = F.normalize(_f64(book))
    dist = enc.pow(2).sum(1, keepdim=True) - 2 * enc @ cb.t() + cb.pow(2).sum(1, keepdim=True).t()
    ind = (-dist).max(1)[1].reshape(2, 5)
    e = latents.transpose(0, 2, 1) / np.linalg.norm(latents.transpose(0, 2, 1), axis=-1, keepdims=True)
    c = book / np.linalg.norm(book, axis=-1, keepdims=True)
    np.testing.assert_array_equal(ind.numpy(), np.argmax(e @ c.T, axis=-1))
    z_q = F.embedding(ind, _f64(book)).transpose(1, 2)
    np.testing.assert_array_equal(z_q.numpy(), book[np.argmax(e @ c.T, axis=-1)].transpose(0, 2, 1))


def test_multiband_split_of_a_match_stride_complex_stft():
    """DAC's MRD: reflect-pad, centred STFT, drop two frames each side, view_as_real of that
    strided slice, channels first, frequency bands sliced off the last axis."""
    win, hop, length = 32, 8, 40
    x = _f64(RNG.standard_normal((2, 1, length)), requires_grad=True)
    right = int(np.ceil(length / hop)) * hop - length
    pad = (win - hop) // 2
    padded = F.pad(x, (pad, pad + right), "reflect")
    spec = tg.stft(padded.reshape(-1, padded.shape[-1]), win, hop, window=tg.hann_window(win, dtype=tg.float64),
                   return_complex=True, center=True)[..., 2:-2]
    assert spec.shape[-1] * hop == length + right             # frames line up with the conv strides
    z = tg.view_as_real(spec).permute(0, 3, 2, 1)            # "b f t c -> b c t f"
    n = win // 2 + 1
    bands = [(int(a * n), int(b * n)) for a, b in [(0.0, 0.1), (0.1, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)]]
    parts = [z[..., a:b] for a, b in bands]
    assert sum(p.shape[-1] for p in parts) == n
    np.testing.assert_array_equal(tg.cat(parts, dim=-1).detach().numpy(), z.detach().numpy())
    tg.cat(parts, dim=-1).pow(2).sum().backward()
    assert x.grad.shape == x.shape and np.abs(x.grad.numpy()).sum() > 0


def test_linear_overlap_add_of_segments_is_the_identity_on_agreeing_frames():
    """EnCodec's _linear_overlap_add: triangle weights added in place into slices of zeros; frames
    that agree on their overlaps give the signal back, and the gradient splits by the weights."""
    signal = RNG.standard_normal((1, 2, 20))
    seg, stride = 8, 6
    frames = [_f64(signal[..., o:o + seg], requires_grad=True) for o in range(0, 20, stride)]
    total = stride * (len(frames) - 1) + frames[-1].shape[-1]
    t = tg.linspace(0, 1, seg + 2, dtype=tg.float64)[1:-1]
    weight = 0.5 - (t - 0.5).abs()
    out, sum_weight = tg.zeros(1, 2, total, dtype=tg.float64), tg.zeros(total, dtype=tg.float64)
    for k, frame in enumerate(frames):
        n = frame.shape[-1]
        out[..., k * stride:k * stride + n] += weight[:n] * frame
        sum_weight[k * stride:k * stride + n] += weight[:n]
    y = out / sum_weight
    np.testing.assert_allclose(y.detach().numpy(), signal, atol=1e-13)
    y.sum().backward()
    sw = sum_weight.numpy()
    for k, frame in enumerate(frames):
        n = frame.shape[-1]
        np.testing.assert_allclose(frame.grad.numpy(), np.broadcast_to(weight.numpy()[:n] / sw[k * stride:k * stride + n],
                                                                       (1, 2, n)), atol=1e-13)
