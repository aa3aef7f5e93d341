"""``tg.fft``: torch.fft's transforms of real signals, with torch 2.13's signatures and norms.

tensorgan has no complex dtype, so a spectrum is a real tensor in torch's
``torch.view_as_real`` layout: one trailing dim of size 2 holding (real, imaginary).

* :func:`rfft`, :func:`rfft2`, :func:`rfftn` (and :func:`ihfft`, :func:`ihfft2`, :func:`ihfftn`)
  take a real signal and return its half spectrum as ``(..., n // 2 + 1, 2)`` pairs:
  ``torch.view_as_real(torch.fft.rfft(x))``.
* :func:`irfft`, :func:`irfft2`, :func:`irfftn` (and :func:`hfft`, :func:`hfft2`, :func:`hfftn`)
  take such pairs -- the last dim must have size 2 -- and return the real signal:
  ``irfft(X)`` is ``torch.fft.irfft(torch.view_as_complex(X))``.  Their ``dim`` counts the dims of
  the complex tensor (the pair dim left out): ``dim=-1`` is the dim just before the pairs.
* :func:`fft`, :func:`ifft`, :func:`fft2`, :func:`ifft2`, :func:`fftn`, :func:`ifftn` need
  complex inputs or outputs and raise :class:`DTypeError`, naming the real-valued forms above.
* :func:`fftfreq`, :func:`rfftfreq`, :func:`fftshift`, :func:`ifftshift` as torch's.

A frequency-domain loss is then plain tensor code: ``X = tg.fft.rfft2(img)``,
``power = X.square().sum(-1)`` (|X|^2), ``amplitude = power.sqrt()``, ``phase = tg.atan2(X[..., 1],
X[..., 0])``.

Norms (``norm=``): "backward" (the default: the forward transform unscaled, the inverse by 1/n),
"ortho" (both by 1/sqrt(n)), "forward" (the forward by 1/n, the inverse unscaled); n is the
product of the transformed sizes.  Values come from ``xp.fft`` (NumPy's pocketfft, CuPy's cuFFT).
Gradients: both transforms are linear, and each one's adjoint is the other with the dual norm
and Hermitian weights (the interior bins of the half spectrum count twice in the full one):
``rfft``'s gradient is ``irfft(g / w)`` and ``irfft``'s is ``w * rfft(g)``, ``w`` = 1 at the DC and
Nyquist bins, 2 between -- so gradients of gradients work too.  Like torch's CPU FFT, float16 is
refused; integer and bool signals are transformed in the default float dtype.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .backend import get_device
from .errors import ConfigError, DTypeError, InputTypeError, ShapeError
from .math_ops import Composed
from .tensor import Tensor, _check_dtype, _is_int, float16, get_default_dtype

__all__ = ["rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "hfft2",
           "ihfft2", "hfftn", "ihfftn", "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn",
           "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

_NORMS = ("backward", "ortho", "forward")
_DUAL = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


# ---------------------------------------------------------------------------------------------
# The two linear ops (sizes already fitted), each the other's adjoint
# ---------------------------------------------------------------------------------------------
def _hermitian_weights(g: Tensor, axis: int, n: int) -> Tensor:
    """w over the n // 2 + 1 bins of ``axis`` (then the pair dim): 1 at DC (and at Nyquist for an
    even n), 2 between -- how often each bin occurs in the full spectrum."""
    w = np.full(n // 2 + 1, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * g.ndim
    shape[axis] = w.size
    return Tensor._make(g.device.xp.asarray(w.reshape(shape), dtype=g.dtype), g.device)


class RealToHalf(Composed):
    """rfftn of a real x over ``axes`` (sizes as they are) -> (..., n // 2 + 1, 2) pairs."""

    @staticmethod
    def compute(xp, x, axes, norm):
        y = xp.fft.rfftn(x, axes=axes, norm=norm)
        return xp.stack([y.real, y.imag], axis=-1).astype(x.dtype, copy=False)

    def gradients(self, g, x, axes, norm):
        n = x.shape[axes[-1]]
        return HalfToReal.apply(g / _hermitian_weights(g, axes[-1], n), axes, n, _DUAL[norm]), None, None


class HalfToReal(Composed):
    """irfftn of (..., m, 2) pairs over ``axes`` (of the complex tensor; m = n // 2 + 1 bins in
    the last one) -> a real signal of length ``n`` there (the DC and Nyquist imaginary parts
    dropped, as a Hermitian spectrum has none)."""

    @staticmethod
    def compute(xp, X, axes, n, norm):
        z = X[..., 0] + 1j * X[..., 1]
        sizes = [X.shape[a] for a in axes[:-1]] + [n]
        return xp.fft.irfftn(z, s=sizes, axes=axes, norm=norm).astype(X.dtype, copy=False)

    def gradients(self, g, X, axes, n, norm):
        spectrum = RealToHalf.apply(g, axes, _DUAL[norm])
        return spectrum * _hermitian_weights(spectrum, axes[-1], n), None, None, None


# ---------------------------------------------------------------------------------------------
# Checks and fitting
# ---------------------------------------------------------------------------------------------
def _norm(op: str, norm: Any) -> str:
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise ConfigError(f"{op}: norm must be None, 'backward', 'ortho' or 'forward', got {norm!r}")
    return norm


def _signal(op: str, x: Any, pairs: bool) -> Tensor:
    """``x`` as a float tensor (integers and bools in the default float dtype; float16 refused);
    with ``pairs``, a spectrum whose last dim holds the (real, imaginary) pairs."""
    if not isinstance(x, Tensor):
        raise InputTypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.dtype == float16:
        raise DTypeError(f"{op}: float16 is not supported (torch's CPU FFT refuses it too); "
                         f"convert with .float()")
    if pairs and (x.ndim < 2 or x.shape[-1] != 2):
        raise ShapeError(f"{op}: input must be a spectrum of (real, imaginary) pairs, shape "
                         f"(..., 2) with at least one dim before the pairs (torch.view_as_real's "
                         f"layout; tensorgan has no complex tensors), got shape {x.shape}")
    if not pairs and x.ndim == 0:
        raise ShapeError(f"{op}: input must have at least one dim, got a 0-d tensor")
    return x if x.dtype.kind == "f" else x.to(get_default_dtype())


def _dims_and_sizes(op: str, shape: tuple, s: Any, dim: Any, last_default: Any = None) -> tuple:
    """torch's (s, dim) rules: ``dim`` None -> the last len(s) dims (all without s); ``s`` None ->
    the sizes as they are (``last_default(size)`` for the last transformed dim); -1 in s -> as is."""
    ndim = len(shape)
    if s is not None:
        s = (s,) if _is_int(s) else tuple(s)
        if not all(_is_int(v) for v in s):
            raise InputTypeError(f"{op}: s must be a sequence of ints, got {s!r}")
    if dim is None:
        dims = tuple(range(ndim - len(s), ndim)) if s is not None else tuple(range(ndim))
        if s is not None and len(s) > ndim:
            raise ShapeError(f"{op}: s {s} has more entries than the input's {ndim} dims")
    else:
        dims = (dim,) if _is_int(dim) else tuple(dim)
        if not all(_is_int(d) and -ndim <= d < ndim for d in dims):
            raise ShapeError(f"{op}: dim {dim!r} is out of range for {ndim} dims")
        dims = tuple(int(d) % ndim for d in dims)
        if len(set(dims)) != len(dims):
            raise ShapeError(f"{op}: dim {dim!r} names a dim twice (FFT dims must be unique)")
        if s is not None and len(s) != len(dims):
            raise ShapeError(f"{op}: s {s} and dim {dim!r} must have the same length")
    if not dims:
        raise ShapeError(f"{op}: must transform at least one dim, got dim={dim!r}")
    sizes = [shape[d] for d in dims]
    if last_default is not None:
        sizes[-1] = last_default(sizes[-1])
    if s is not None:
        sizes = [size if v == -1 else int(v) for v, size in zip(s, sizes)]
    for d, n in zip(dims, sizes):
        if n < 1:
            raise ShapeError(f"{op}: invalid number of data points ({n}) for dim {d}; each "
                             f"transformed size must be >= 1")
    return dims, sizes


def _fit(x: Tensor, axis: int, size: int) -> Tensor:
    """``x`` cropped or zero-padded along ``axis`` to ``size`` (differentiable)."""
    have = x.shape[axis]
    if have > size:
        return x.narrow(axis, 0, size)
    if have < size:
        from .factory import concat
        extra = list(x.shape)
        extra[axis] = size - have
        return concat([x, x.new_zeros(tuple(extra))], dim=axis)
    return x


# ---------------------------------------------------------------------------------------------
# The transforms
# ---------------------------------------------------------------------------------------------
def _rfftn(op: str, input: Tensor, s: Any, dim: Any, norm: Any) -> Tensor:
    norm = _norm(op, norm)
    x = _signal(op, input, pairs=False)
    dims, sizes = _dims_and_sizes(op, x.shape, s, dim)
    for d, n in zip(dims, sizes):
        x = _fit(x, d, n)
    return RealToHalf.apply(x, dims, norm)


def _irfftn(op: str, input: Tensor, s: Any, dim: Any, norm: Any) -> Tensor:
    norm = _norm(op, norm)
    X = _signal(op, input, pairs=True)
    dims, sizes = _dims_and_sizes(op, X.shape[:-1], s, dim, lambda m: 2 * (m - 1))
    for d, n in zip(dims[:-1], sizes[:-1]):
        X = _fit(X, d, n)
    X = _fit(X, dims[-1], sizes[-1] // 2 + 1)
    return HalfToReal.apply(X, dims, sizes[-1], norm)


def _one_dim(op: str, n: Any, dim: Any) -> tuple:
    """(s, dim) of a 1-D transform's n and dim."""
    if n is not None and not _is_int(n):
        raise InputTypeError(f"{op}: n must be an int or None, got {n!r}")
    if not _is_int(dim):
        raise InputTypeError(f"{op}: dim must be an int, got {dim!r}")
    return (None if n is None else (n,)), (dim,)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The half spectrum of a real signal along ``dim`` (cropped or zero-padded to ``n``):
    shape (..., n // 2 + 1, 2) of (real, imaginary) pairs, the rest of the dims in place."""
    return _rfftn("rfft", input, *_one_dim("rfft", n, dim), norm)


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The real signal of length ``n`` (default 2 (m - 1)) whose half spectrum is ``input``
    ((..., m, 2) pairs; ``dim`` counts the dims before the pairs)."""
    return _irfftn("irfft", input, *_one_dim("irfft", n, dim), norm)


def rfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Tensor:
    """rfftn over two dims (the last two by default)."""
    return _rfftn("rfft2", input, s, dim, norm)


def irfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
           norm: str | None = None) -> Tensor:
    """irfftn over two dims (the last two before the pairs by default)."""
    return _irfftn("irfft2", input, s, dim, norm)


def rfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    """The n-D FFT of a real signal, halved along the last transformed dim: (..., 2) pairs."""
    return _rfftn("rfftn", input, s, dim, norm)


def irfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
           norm: str | None = None) -> Tensor:
    """The inverse of rfftn: a real signal from (..., 2) pairs (the last transformed dim holds
    the half spectrum; its output length ``s[-1]`` defaults to 2 (m - 1))."""
    return _irfftn("irfftn", input, s, dim, norm)


def _conj(X: Tensor) -> Tensor:
    """The complex conjugate of (real, imaginary) pairs."""
    return X * X.new_tensor([1.0, -1.0])


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The real FFT of a Hermitian-symmetric signal given by its first half ((..., m, 2) pairs):
    ``irfft(conj(input))`` with the forward transform's norm."""
    s, dims = _one_dim("hfft", n, dim)
    return _irfftn("hfft", _conj(_signal("hfft", input, pairs=True)), s, dims, _DUAL[_norm("hfft", norm)])


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of hfft: the first half of a real signal's inverse FFT, as pairs
    (``conj(rfft(input))`` with the inverse transform's norm)."""
    s, dims = _one_dim("ihfft", n, dim)
    return _conj(_rfftn("ihfft", input, s, dims, _DUAL[_norm("ihfft", norm)]))


def hfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    """The n-D hfft (the last transformed dim holds the half spectrum)."""
    return _irfftn("hfftn", _conj(_signal("hfftn", input, pairs=True)), s, dim, _DUAL[_norm("hfftn", norm)])


def ihfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
           norm: str | None = None) -> Tensor:
    """The n-D ihfft: ``conj(rfftn(input))`` with the inverse transform's norm."""
    return _conj(_rfftn("ihfftn", input, s, dim, _DUAL[_norm("ihfftn", norm)]))


def hfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Tensor:
    """hfftn over two dims."""
    return hfftn(input, s, dim, norm)


def ihfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
           norm: str | None = None) -> Tensor:
    """ihfftn over two dims."""
    return ihfftn(input, s, dim, norm)


def _complex_only(name: str, alternative: str):
    def refused(input: Any, *args: Any, **kwargs: Any) -> Tensor:
        raise DTypeError(
            f"tg.fft.{name}: tensorgan has no complex tensors, so it cannot take or return a full "
            f"complex spectrum; for real signals use tg.fft.{alternative} (the half spectrum as "
            f"(..., 2) real/imaginary pairs, torch.view_as_real's layout) and its inverse "
            f"tg.fft.i{alternative}")
    refused.__name__ = refused.__qualname__ = name
    refused.__doc__ = f"Refused (no complex tensors): use :func:`{alternative}` / :func:`i{alternative}`."
    return refused


fft, ifft = _complex_only("fft", "rfft"), _complex_only("ifft", "rfft")
fft2, ifft2 = _complex_only("fft2", "rfft2"), _complex_only("ifft2", "rfft2")
fftn, ifftn = _complex_only("fftn", "rfftn"), _complex_only("ifftn", "rfftn")


# ---------------------------------------------------------------------------------------------
# Frequencies and shifts
# ---------------------------------------------------------------------------------------------
def _frequencies(op: str, n: int, d: float, values: np.ndarray, dtype: Any, device: Any,
                 requires_grad: bool) -> Tensor:
    if not _is_int(n) or n < 0:
        raise InputTypeError(f"{op}: n must be an int >= 0, got {n!r}")
    if isinstance(d, bool) or not isinstance(d, (int, float, np.integer, np.floating)):
        raise InputTypeError(f"{op}: d must be a real number, got {type(d).__name__} {d!r}")
    dt = get_default_dtype() if dtype is None else _check_dtype(dtype, any_kind=True)
    dev = get_device(device)
    with np.errstate(divide="ignore", invalid="ignore"):
        array = (values / (float(d) * n)).astype(dt)
    return Tensor._make(dev.xp.asarray(array), dev, requires_grad)


def fftfreq(n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an n-point FFT: [0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d n)."""
    k = np.fft.fftfreq(n, 1.0 / n) if _is_int(n) and n > 0 else np.zeros(0)
    return _frequencies("fftfreq", n, d, k, dtype, device, requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """The sample frequencies of rfft's n // 2 + 1 bins: [0, 1, ..., n // 2] / (d n)."""
    k = np.arange(n // 2 + 1, dtype=np.float64) if _is_int(n) and n > 0 else np.zeros(0)
    return _frequencies("rfftfreq", n, d, k, dtype, device, requires_grad)


def _shift(op: str, input: Tensor, dim: Any, sign: int) -> Tensor:
    from .shape_index_ops import roll
    if not isinstance(input, Tensor):
        raise InputTypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim == 0:
        return input
    dims = tuple(range(input.ndim)) if dim is None else (dim,) if _is_int(dim) else tuple(dim)
    dims = tuple(input._dim(d, op) for d in dims)
    return roll(input, tuple(sign * (input.shape[d] // 2) for d in dims), dims)


def fftshift(input: Tensor, dim: Any = None) -> Tensor:
    """The zero frequency moved to the middle: each dim (all by default) rolled by size // 2."""
    return _shift("fftshift", input, dim, 1)


def ifftshift(input: Tensor, dim: Any = None) -> Tensor:
    """fftshift's inverse: each dim rolled back by size // 2."""
    return _shift("ifftshift", input, dim, -1)
