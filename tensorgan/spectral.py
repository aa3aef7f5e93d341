"""``tg.stft`` / ``tg.istft``: torch's short-time Fourier transform and its inverse, with torch
2.13's signatures, built on :mod:`tensorgan.fft`'s differentiable rfft / irfft.

``stft(x, ..., return_complex=True)`` returns the complex ``(B?, n_freq, n_frames)`` spectrogram
(``tg.complex64`` / ``complex128``), ``return_complex=False`` torch's deprecated real layout
``(B?, n_freq, n_frames, 2)`` of (real, imaginary) pairs that older audio code (MelGAN, HiFi-GAN,
...) reads with ``spec.pow(2).sum(-1)``; ``return_complex`` left ``None`` is refused as torch
refuses it for real inputs.  A complex signal or window (torch's) gives the two-sided
spectrogram.  ``istft`` takes the complex spectrogram (torch's) or, beyond torch
2.13 (which refuses real input), the (..., 2) pairs; ``return_complex=True`` (a two-sided
spectrogram) gives a complex signal.

Frames: with ``center`` the signal is first padded by ``n_fft // 2`` on both sides with
``pad_mode`` (F.pad's modes); frame t starts at ``t * hop_length`` and is multiplied by the
window (``win_length`` samples, zero-padded on both sides to ``n_fft``).  ``normalized`` scales
by ``n_fft ** -0.5`` (istft: undoes it).  ``istft`` overlap-adds the windowed inverse frames and
divides by the overlap-added squared window (the NOLA envelope, which must not vanish).
Gradients flow to the signal, and to the window when it requires one.
"""
from __future__ import annotations

from typing import Any


import warnings

from .errors import DeviceError, DTypeError, InputTypeError, ShapeError
from .errors import SpectralConfigError as ConfigError   # a RuntimeError too, as torch's
from .tensor import Tensor, _is_int, float16

__all__ = ["stft", "istft"]

_LENGTH_WARNED = [False]      # istft's once-a-program warning for a length past the signal
_ONCE_WARNED: set = set()     # torch's other once-a-program stft / istft warnings, by key


def _warn_once(key: str, message: str, stacklevel: int = 3) -> None:
    if key not in _ONCE_WARNED:
        _ONCE_WARNED.add(key)
        warnings.warn(message, UserWarning, stacklevel=stacklevel)


def _warn_no_window(op: str, window: Any) -> None:
    """torch's once-a-program warning for an stft / istft without a window."""
    if window is None:
        extra = (" Please provide the same window used by stft to make the inversion lossless."
                 if op == "istft" else " Other windows such as hann_window or hamming_window are "
                 "recommended to reduce spectral leakage.")
        _warn_once(op + "-window", f"{op}: a window was not provided. A rectangular window will be "
                   f"applied, which is known to cause spectral leakage.{extra} To suppress this "
                   f"warning and use a rectangular window, explicitly set window=torch.ones(n_fft).", 4)


def _int_arg(op: str, name: str, value: Any) -> int:
    if isinstance(value, Tensor) and value.ndim == 0 and value.dtype.kind in "iu":
        value = value.item()            # a 0-dim integer tensor, as torch's int arguments take
    if not _is_int(value) or isinstance(value, bool):
        raise InputTypeError(f"{op}: {name} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def _geometry(op: str, n_fft: Any, hop_length: Any, win_length: Any, window: Any,
              like: Tensor) -> tuple:
    """(n_fft, hop, win_length, window of win_length samples) with torch's defaults and checks."""
    n_fft = _int_arg(op, "n_fft", n_fft)
    if n_fft <= 0:
        raise ConfigError(f"{op}: expected n_fft > 0, got n_fft={n_fft}")
    hop = n_fft // 4 if hop_length is None else _int_arg(op, "hop_length", hop_length)
    if hop <= 0:
        raise ConfigError(f"{op}: expected hop_length > 0, got hop_length={hop}")
    win = n_fft if win_length is None else _int_arg(op, "win_length", win_length)
    if not 0 < win <= n_fft:
        raise ConfigError(f"{op}: expected 0 < win_length <= n_fft, got win_length={win} "
                          f"(n_fft={n_fft})")
    if window is None:
        window = like.new_ones((win,))
    else:
        if not isinstance(window, Tensor):
            raise InputTypeError(f"{op}: window must be a Tensor or None, got "
                                 f"{type(window).__name__}")
        if window.device is not like.device:
            raise DeviceError(f"{op}: the window is on {window.device} but the input on "
                              f"{like.device} (torch: they must be on the same device); move one "
                              f"with .to(device)")
        if window.ndim != 1 or window.shape[0] != win:
            raise ShapeError(f"{op}: expected a 1D window tensor of size equal to "
                             f"win_length={win}, but got window with shape {window.shape}")
        if window.dtype.kind not in "fc" or window.dtype == float16:
            window = window.to(like.dtype)   # (a float or complex window promotes with the signal, as torch)
    return n_fft, hop, win, window


def _pad_any(x: Tensor, pads: tuple, mode: str) -> Tensor:
    """F.pad, also for a complex signal in the modes that pick samples (reflect, replicate,
    circular): its real and imaginary parts padded alike."""
    from .functional import pad
    if x.dtype.kind == "c" and mode != "constant":
        from .complex_ops import complex
        return complex(pad(x.real, pads, mode), pad(x.imag, pads, mode))
    return pad(x, pads, mode)


def _padded_window(window: Tensor, n_fft: int) -> Tensor:
    """The window zero-padded on both sides to n_fft samples (the extra one on the right)."""
    from .functional import pad
    win = window.shape[0]
    if win == n_fft:
        return window
    left = (n_fft - win) // 2
    return pad(window, (left, n_fft - win - left))


def _stft_output_kind(input: Tensor, window: Any, onesided: bool | None,
                      return_complex: bool | None, center: bool,
                      align_to_window: bool | None) -> tuple[bool, bool]:
    """(two_sided, return_complex) after stft's checks of its arguments, in torch's order, so
    that a bad call fails before any work or warning."""
    op = "stft"
    if not isinstance(input, Tensor):
        raise InputTypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    two_sided = input.dtype.kind == "c" or (isinstance(window, Tensor) and window.dtype.kind == "c")
    if return_complex is None and two_sided:
        return_complex = True           # torch's default for a complex signal or window
    if return_complex is None:
        raise ConfigError(f"{op} requires the return_complex parameter be given for real inputs "
                          f"(as torch): return_complex=True for the complex spectrogram, False "
                          f"for its (..., 2) (real, imaginary) pairs")
    if input.ndim not in (1, 2):
        raise ShapeError(f"{op}: expected a 1D or 2D tensor (L,) or (B, L), got shape {input.shape}")
    if input.dtype.kind not in "fc":
        raise DTypeError(f"{op}: expected a floating point or complex signal, got {input.dtype} "
                         f"(as torch; convert with .float())")
    if two_sided and onesided:
        raise ConfigError(f"{op}: cannot have onesided output if window or input is complex (as "
                          f"torch): leave onesided None or pass onesided=False")
    if input.dtype == float16:
        raise DTypeError(f"{op}: float16 is not supported (torch's CPU FFT refuses it too); "
                         f"convert with .float()")
    if center and align_to_window is not None:
        raise ConfigError(f"{op}: align_to_window should only be set when center = False")
    return two_sided, return_complex


def _warn_real_pairs_deprecated() -> None:
    """torch's once-a-program warning for return_complex=False, at the user's call."""
    from .tensor import _caller_level
    _warn_once("stft-real", "stft with return_complex=False is deprecated. In a future pytorch "
               "release, stft will return complex tensors for all inputs, and "
               "return_complex=False will raise an error.\nNote: you can still call "
               "torch.view_as_real on the complex output to recover the old return format. "
               "(as torch warns, once)", _caller_level() + 1)


def _stft_frames(x: Tensor, n_fft: int, hop: int, win: int, window: Tensor, center: bool,
                 pad_mode: str, align_to_window: bool | None) -> Tensor:
    """The (B?, n_frames, n_fft) windowed frames the FFT transforms: the signal centre-padded
    when asked, frame t from t * hop."""
    if center:
        half = n_fft // 2
        x = _pad_any(x.reshape((1,) * (3 - x.ndim) + x.shape), (half, half), pad_mode).reshape(
            x.shape[:-1] + (x.shape[-1] + 2 * half,))
    length = x.shape[-1]
    if not 0 < n_fft <= length:
        raise ShapeError(f"stft: expected 0 < n_fft <= {length} (the signal's length"
                         f"{' after centre padding' if center else ''}), got n_fft={n_fft}")
    if not align_to_window:
        return x.unfold(-1, n_fft, hop) * _padded_window(window, n_fft)
    # frames of win_length samples from t * hop, zero-padded on both sides to n_fft
    from .functional import pad
    frames = x.unfold(-1, win, hop) * window
    left = (n_fft - win) // 2
    if win < n_fft:
        frames = pad(frames, (left, n_fft - win - left))
    return frames


def stft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
         window: Tensor | None = None, center: bool = True, pad_mode: str = "reflect",
         normalized: bool = False, onesided: bool | None = None,
         return_complex: bool | None = None, align_to_window: bool | None = None) -> Tensor:
    """The short-time Fourier transform of a (L,) or (B, L) signal (``torch.stft``): the
    complex ``(B?, n_fft // 2 + 1, n_frames)`` spectrogram (``n_fft`` bins with
    ``onesided=False``, and always for a complex signal or window, as torch), or with
    ``return_complex=False`` its (..., 2) (real, imaginary) pairs."""
    op = "stft"
    two_sided, return_complex = _stft_output_kind(input, window, onesided, return_complex,
                                                  center, align_to_window)
    if not return_complex:
        _warn_real_pairs_deprecated()
    _warn_no_window(op, window)
    n_fft, hop, win, window = _geometry(op, n_fft, hop_length, win_length, window, input)
    frames = _stft_frames(input, n_fft, hop, win, window, center, pad_mode, align_to_window)
    from . import fft
    norm = "ortho" if normalized else "backward"
    if two_sided or (onesided is not None and not onesided):
        X = fft.fft(frames, dim=-1, norm=norm)                            # (B?, T, F) complex
    else:
        X = fft.rfft(frames, dim=-1, norm=norm)
    X = X.transpose(-2, -1)
    if not return_complex:
        from .complex_ops import view_as_real
        return view_as_real(X)
    return X


def _istft_spectrum(input: Any) -> Tensor:
    """istft's input as a complex (B?, n_freq, n_frames) spectrogram: a complex one as it is,
    stft(..., return_complex=False)'s (..., 2) real pairs viewed as complex."""
    op = "istft"
    if not isinstance(input, Tensor):
        raise InputTypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind == "c":
        if input.ndim not in (2, 3):
            raise ShapeError(f"{op}: expected a complex spectrogram of shape (B?, n_freq, "
                             f"n_frames), got shape {input.shape}")
        return input
    if input.ndim not in (3, 4) or input.shape[-1] != 2:
        raise ShapeError(f"{op}: expected a complex spectrogram (B?, n_freq, n_frames) or its "
                         f"(real, imaginary) pairs, shape (B?, n_freq, n_frames, 2) -- "
                         f"stft(..., return_complex=False)'s layout -- got shape {input.shape}")
    if input.dtype.kind != "f" or input.dtype == float16:
        raise DTypeError(f"{op}: expected a float32 or float64 spectrogram, got {input.dtype}")
    from .complex_ops import view_as_complex
    return view_as_complex(input.contiguous())


def _istft_options(input: Tensor, X: Tensor, n_fft: int, window: Tensor, onesided: bool | None,
                   length: Any, return_complex: bool) -> tuple[bool, int | None]:
    """(onesided, length) checked against the (B, n_freq, n_frames) spectrogram X: onesided
    defaults to whether X holds fewer than n_fft bins, as torch's."""
    op = "istft"
    n_freq, n_frames = X.shape[1], X.shape[2]
    if onesided is None:
        onesided = n_freq != n_fft
    want = n_fft // 2 + 1 if onesided else n_fft
    if n_freq != want:
        raise ShapeError(f"{op}: expected the frequency dim (-3) to have {want} bins for "
                         f"n_fft={n_fft} ({'onesided' if onesided else 'two-sided'}), got "
                         f"{n_freq} (input shape {input.shape})")
    if n_frames < 1:
        raise ShapeError(f"{op}: expected at least one frame, got input shape {input.shape}")
    if length is not None:
        length = _int_arg(op, "length", length)
        if length < 0:
            raise ConfigError(f"{op}: length must be >= 0, got {length}")
    if window.dtype.kind == "c" and not return_complex:
        raise ConfigError(f"{op}: complex windows are incompatible with return_complex=False (as "
                          f"torch): pass return_complex=True for the complex signal")
    if return_complex and onesided:
        raise ConfigError(f"{op}: cannot have onesided output if window or input is complex (as "
                          f"torch): return_complex=True needs a two-sided spectrogram "
                          f"(onesided=False)")
    return onesided, length


def _inverse_frames(X: Tensor, n_fft: int, onesided: bool, normalized: bool,
                    return_complex: bool) -> Tensor:
    """The (B, T, n_fft) inverse FFT of each frame: complex with return_complex, else real
    from the one-sided half (a two-sided spectrogram's other half is its mirror)."""
    from . import fft
    norm = "ortho" if normalized else "backward"
    if return_complex:
        return fft.ifft(X.transpose(1, 2), n=n_fft, dim=-1, norm=norm)
    if not onesided:
        X = X.narrow(1, 0, n_fft // 2 + 1)
    return fft.irfft(X.transpose(1, 2), n=n_fft, dim=-1, norm=norm)


def _overlap_add(cols: Tensor, total: int, hop: int) -> Tensor:
    """(B, T, n_fft) frames -> the (B, total) signal: frame t added in from t * hop."""
    if cols.is_complex():
        from .complex_ops import complex
        return complex(_overlap_add(cols.real, total, hop), _overlap_add(cols.imag, total, hop))
    from .functional import fold
    n_fft = cols.shape[2]
    out = fold(cols.transpose(1, 2), (1, total), (1, n_fft), stride=(1, hop))
    return out.reshape(cols.shape[0], total)


def _least_squares_signal(frames: Tensor, w: Tensor, hop: int, start: int, stop: int) -> Tensor:
    """The windowed frames overlap-added and divided by the overlap-added squared window (the
    least-squares inverse), samples start:stop; the envelope must not vanish there (NOLA)."""
    n_frames, n_fft = frames.shape[1], frames.shape[2]
    total = n_fft + hop * (n_frames - 1)
    y = _overlap_add(frames * w, total, hop)
    envelope = _overlap_add((w * w).reshape(1, 1, n_fft).expand(1, n_frames, n_fft), total, hop)
    y, envelope = y[:, start:stop], envelope[:, start:stop]
    if envelope.numel() and float(envelope.detach().abs().min().item()) < 1e-11:
        raise ConfigError(f"istft: window overlap add min is below 1e-11: the squared windows "
                          f"{hop} samples apart must overlap everywhere (the NOLA condition); "
                          f"check window, hop_length and center")
    return y / envelope


def istft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
          window: Tensor | None = None, center: bool = True, normalized: bool = False,
          onesided: bool | None = None, length: int | None = None,
          return_complex: bool = False) -> Tensor:
    """The inverse of :func:`stft` (``torch.istft``): a complex (B?, n_freq, n_frames)
    spectrogram (or its (B?, n_freq, n_frames, 2) real pairs) -> the least-squares (B?, length)
    signal (windowed inverse frames overlap-added, divided by the overlap-added squared window):
    real, or complex with ``return_complex=True`` (a two-sided spectrogram, as torch)."""
    op = "istft"
    spectrum = _istft_spectrum(input)
    X = spectrum if spectrum.ndim == 3 else spectrum.unsqueeze(0)
    _warn_no_window(op, window)
    n_fft, hop, win, window = _geometry(op, n_fft, hop_length, win_length, window, X.real)
    onesided, length = _istft_options(input, X, n_fft, window, onesided, length, return_complex)
    frames = _inverse_frames(X, n_fft, onesided, normalized, return_complex)
    total = n_fft + hop * (X.shape[2] - 1)
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else (total - n_fft // 2 if center else total)
    y = _least_squares_signal(frames, _padded_window(window, n_fft), hop, start, min(end, total))
    if end > total:
        if not _LENGTH_WARNED[0]:
            _LENGTH_WARNED[0] = True          # torch's TORCH_WARN_ONCE
            warnings.warn(f"{op}: the length of signal is shorter than the length parameter "
                          f"({total - start} < {length}). Result is being padded with zeros in "
                          f"the tail. Please check your center and hop_length settings (as torch "
                          f"warns, once)", UserWarning, stacklevel=2)
        from .functional import pad
        y = pad(y, (0, end - total))
    return y if spectrum.ndim == 3 else y.squeeze(0)


Tensor.stft, Tensor.istft = stft, istft     # x.stft(...), x.istft(...), as torch's methods
