"""torch.signal.windows: scipy-style window functions of ``M`` samples.

Unlike the ``tg.hann_window`` family (``periodic=True`` by default, the signal-processing
convention of torch's STFT), these are symmetric by default (``sym=True``, scipy's); ``sym=False``
gives the periodic window: the symmetric one of ``M + 1`` samples without its last.  The dtype is
the default dtype unless given (float32 / float64 only), as torch's.  Values are computed in
float64 NumPy once and cast."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ..errors import ConfigError, DTypeError, InputTypeError
from ..tensor import Tensor, _check_dtype, _is_int, float32, float64, get_default_dtype
from ..backend import get_device

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


def _make(name: str, M: Any, dtype: Any, layout: Any, device: Any, requires_grad: bool, values: Any) -> Tensor:
    """Check the common arguments, then the window ``values(M)`` (a float64 array, M >= 1)."""
    if not _is_int(M) or isinstance(M, bool):
        raise InputTypeError(f"{name}: the window length M must be an int, got {M!r}")
    if M < 0:
        raise ConfigError(f"{name}: requires non-negative window length, got M={M}")
    if layout is not None:
        from .. import strided
        if layout is not strided:
            raise ConfigError(f"{name}: is implemented for strided tensors only, got layout={layout!r}")
    dt = _check_dtype(get_default_dtype() if dtype is None else dtype, any_kind=True)
    if dt not in (float32, float64):
        raise DTypeError(f"{name}: expects float32 or float64 dtypes, got {dt}")
    M = int(M)
    out = np.zeros(0) if M == 0 else np.asarray(values(M), dtype=np.float64)
    dev = get_device(device)
    return Tensor._make(dev.xp.asarray(out.astype(dt)), dev, requires_grad)


def _span(M: int, sym: bool) -> int:
    """The denominator length: M - 1 for a symmetric window, M for a periodic one (M > 1)."""
    return M - 1 if sym or M == 1 else M


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True, dtype: Any = None,
                layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``exp(-|n - center| / tau)``; center defaults to the window's middle (torch.signal.windows.exponential)."""
    if tau <= 0:
        raise ConfigError(f"exponential: tau must be positive, got {tau}")
    if sym and center is not None:
        raise ConfigError("exponential: center must be None for symmetric windows")

    def values(m: int) -> np.ndarray:
        c = (m if not sym and m > 1 else m - 1) / 2.0 if center is None else float(center)
        return np.exp(-np.abs(np.arange(m) - c) / float(tau))
    return _make("exponential", M, dtype, layout, device, requires_grad, values)


def cosine(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """The sine window ``sin(pi (n + 1/2) / M)`` (torch.signal.windows.cosine)."""
    def values(m: int) -> np.ndarray:
        return np.sin(math.pi * (np.arange(m) + 0.5) / (m + 1 if not sym and m > 1 else m))
    return _make("cosine", M, dtype, layout, device, requires_grad, values)


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """``exp(-(n - c)^2 / (2 std^2))`` about the window's middle (torch.signal.windows.gaussian)."""
    if std <= 0:
        raise ConfigError(f"gaussian: std must be positive, got {std}")

    def values(m: int) -> np.ndarray:
        c = (m if not sym and m > 1 else m - 1) / 2.0
        return np.exp(-((np.arange(m) - c) ** 2) / (2.0 * float(std) ** 2))
    return _make("gaussian", M, dtype, layout, device, requires_grad, values)


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype: Any = None, layout: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """``I0(beta sqrt(1 - (2n / N - 1)^2)) / I0(beta)``, N = M - 1 (sym) or M (torch.signal.windows.kaiser)."""
    if beta < 0:
        raise ConfigError(f"kaiser: beta must be non-negative, got {beta}")

    def values(m: int) -> np.ndarray:
        if m == 1:
            return np.ones(1)
        r = 2.0 * np.arange(m) / _span(m, sym) - 1.0
        return np.i0(float(beta) * np.sqrt(np.clip(1.0 - r * r, 0.0, None))) / np.i0(float(beta))
    return _make("kaiser", M, dtype, layout, device, requires_grad, values)


def bartlett(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """The triangle ``1 - |2n / N - 1|`` (torch.signal.windows.bartlett)."""
    def values(m: int) -> np.ndarray:
        return np.ones(1) if m == 1 else 1.0 - np.abs(2.0 * np.arange(m) / _span(m, sym) - 1.0)
    return _make("bartlett", M, dtype, layout, device, requires_grad, values)


def general_cosine(M: int, *, a: Iterable[float], sym: bool = True, dtype: Any = None, layout: Any = None,
                   device: Any = None, requires_grad: bool = False) -> Tensor:
    """``sum_k (-1)^k a_k cos(2 pi k n / N)`` (torch.signal.windows.general_cosine)."""
    if isinstance(a, (str, bytes)) or not isinstance(a, Iterable):
        raise InputTypeError(f"general_cosine: coefficients a must be a list/tuple, got {type(a).__name__}")
    coefficients = [float(w) for w in a]
    if not coefficients:
        raise ConfigError("general_cosine: coefficients a cannot be empty")

    def values(m: int) -> np.ndarray:
        if m == 1:
            return np.ones(1)
        k = 2.0 * math.pi * np.arange(m) / _span(m, sym)
        return sum((-1) ** i * w * np.cos(i * k) for i, w in enumerate(coefficients))
    return _make("general_cosine", M, dtype, layout, device, requires_grad, values)


def general_hamming(M: int, *, alpha: float = 0.54, sym: bool = True, dtype: Any = None, layout: Any = None,
                    device: Any = None, requires_grad: bool = False) -> Tensor:
    """``alpha - (1 - alpha) cos(2 pi n / N)`` (torch.signal.windows.general_hamming)."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def hamming(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """General Hamming with alpha 0.54 (torch.signal.windows.hamming)."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """General Hamming with alpha 0.5 (torch.signal.windows.hann)."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """General cosine with a = (0.42, 0.5, 0.08) (torch.signal.windows.blackman)."""
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def nuttall(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """General cosine with Nuttall's four coefficients (torch.signal.windows.nuttall)."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype,
                          layout=layout, device=device, requires_grad=requires_grad)
