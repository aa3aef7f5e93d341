"""``tg.fft``: torch.fft's transforms with torch 2.13's signatures, norms, dtypes and gradients.

Spectra are complex tensors (``tg.complex64`` / ``tg.complex128``, see ``complex_ops.py``):

* :func:`fft`, :func:`ifft`, :func:`fft2`, :func:`ifft2`, :func:`fftn`, :func:`ifftn` take a real
  or complex signal and return a complex one;
* :func:`rfft`, :func:`rfft2`, :func:`rfftn` (and :func:`ihfft`, ...) take a real signal and
  return its half spectrum (n // 2 + 1 bins along the last transformed dim);
* :func:`irfft`, :func:`irfft2`, :func:`irfftn` (and :func:`hfft`, ...) take a half spectrum
  (complex; a real tensor is read as complex with zero imaginary parts, as torch reads it) and
  return the real signal;
* :func:`fftfreq`, :func:`rfftfreq`, :func:`fftshift`, :func:`ifftshift` as torch's.

Before session 25 tensorgan had no complex dtype and its rfft returned ``torch.view_as_real``'s
``(..., 2)`` layout; ``tg.view_as_real(tg.fft.rfft(x))`` gives that layout now, and
``tg.fft.irfft(tg.view_as_complex(pairs))`` takes it.

Norms (``norm=``): "backward" (the default: the forward transform unscaled, the inverse by 1/n),
"ortho" (both by 1/sqrt(n)), "forward" (the forward by 1/n, the inverse unscaled); n is the
product of the transformed sizes.  Values come from ``xp.fft`` (NumPy's pocketfft, CuPy's cuFFT).
Gradients (torch's conjugate Wirtinger convention): each transform is linear, and its adjoint is
the inverse transform with the dual norm -- for the half spectra with Hermitian weights (the
interior bins count twice in the full one): ``rfft``'s gradient is ``irfft(g / w)`` and
``irfft``'s is ``w * rfft(g)``, ``w`` = 1 at the DC and Nyquist bins, 2 between; so gradients of
gradients work too.  Like torch's CPU FFT, float16 is refused; integer and bool signals are
transformed in the default float dtype.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .backend import get_device
from .errors import ConfigTypeError, DTypeError, FFTNormError, IndexOutOfRangeError, InputTypeError, ShapeError
from .math_ops import Composed
from .tensor import Tensor, _check_dtype, _complex_of, _is_int, float16, get_default_dtype

__all__ = ["rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "hfft2",
           "ihfft2", "hfftn", "ihfftn", "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn",
           "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

_NORMS = ("backward", "ortho", "forward")
_DUAL = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


# ---------------------------------------------------------------------------------------------
# The two linear ops (sizes already fitted), each the other's adjoint
# ---------------------------------------------------------------------------------------------
def _hermitian_weights(g: Tensor, axis: int, n: int) -> Tensor:
    """w over the n // 2 + 1 bins of ``axis``: 1 at DC (and at Nyquist for an even n), 2 between
    -- how often each bin occurs in the full spectrum (real, beside the complex spectrum)."""
    w = np.full(n // 2 + 1, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * g.ndim
    shape[axis] = w.size
    return Tensor._make(g.device.xp.asarray(w.reshape(shape), dtype=g.array.real.dtype), g.device)


class RealToHalf(Composed):
    """rfftn of a real x over ``axes`` (sizes as they are) -> its complex half spectrum."""

    @staticmethod
    def compute(xp, x, axes, norm):
        return xp.fft.rfftn(x, axes=axes, norm=norm).astype(_complex_of(x.dtype), copy=False)

    def gradients(self, g, x, axes, norm):
        n = x.shape[axes[-1]]
        return HalfToReal.apply(g / _hermitian_weights(g, axes[-1], n), axes, n, _DUAL[norm]), None, None

    def name(self) -> str:
        return "FftR2CBackward0"


class HalfToReal(Composed):
    """irfftn of a complex half spectrum (m = n // 2 + 1 bins in the last of ``axes``) -> a real
    signal of length ``n`` there (the DC and Nyquist imaginary parts dropped, as a Hermitian
    spectrum has none)."""
    takes_complex = True

    @staticmethod
    def compute(xp, X, axes, n, norm):
        sizes = [X.shape[a] for a in axes[:-1]] + [n]
        return xp.fft.irfftn(X, s=sizes, axes=axes, norm=norm).astype(X.real.dtype, copy=False)

    def gradients(self, g, X, axes, n, norm):
        spectrum = RealToHalf.apply(g, axes, _DUAL[norm])
        return spectrum * _hermitian_weights(spectrum, axes[-1], n), None, None, None

    def name(self) -> str:
        return "FftC2RBackward0"


class ComplexToComplex(Composed):
    """fftn (``inverse`` False) or ifftn of a complex x over ``axes``; the gradient is the other
    transform with the dual norm (the adjoint)."""
    takes_complex = True

    @staticmethod
    def compute(xp, x, axes, norm, inverse):
        fn = xp.fft.ifftn if inverse else xp.fft.fftn
        return fn(x, axes=axes, norm=norm).astype(x.dtype, copy=False)

    def gradients(self, g, x, axes, norm, inverse):
        return ComplexToComplex.apply(g, axes, _DUAL[norm], not inverse), None, None, None

    def name(self) -> str:
        return "FftC2CBackward0"


# ---------------------------------------------------------------------------------------------
# Checks and fitting
# ---------------------------------------------------------------------------------------------
def _norm(op: str, norm: Any) -> str:
    if norm is None:
        return "backward"
    if not isinstance(norm, str):   # torch: TypeError "argument 'norm' must be str"
        raise ConfigTypeError(f"{op}: norm must be a str or None, got {type(norm).__name__}")
    if norm not in _NORMS:          # torch: RuntimeError "Invalid normalization mode"
        raise FFTNormError(f"{op}: norm must be None, 'backward', 'ortho' or 'forward', got {norm!r}")
    return norm


def _signal(op: str, x: Any, kind: str) -> Tensor:
    """``x`` as the transform's input: ``kind`` "real" a float tensor (integers and bools in the
    default float dtype; complex refused, as torch's rfft), "complex" a complex one (a real one
    cast, differentiably); float16 refused."""
    if not isinstance(x, Tensor):
        raise InputTypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.dtype == float16:
        raise DTypeError(f"{op}: float16 is not supported (torch's CPU FFT refuses it too); "
                         f"convert with .float()")
    if x.ndim == 0:
        raise ShapeError(f"{op}: input must have at least one dim, got a 0-d tensor")
    if kind == "real":
        if x.dtype.kind == "c":
            raise DTypeError(f"{op} expects a real input tensor, but got {x.dtype} (as torch)")
        return x if x.dtype.kind == "f" else x.to(get_default_dtype())
    if x.dtype.kind == "c":
        return x
    return x.to(_complex_of(x.dtype if x.dtype.kind == "f" else get_default_dtype()))


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
            raise IndexOutOfRangeError(f"{op}: dim {dim!r} is out of range for {ndim} dims")
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
    x = _signal(op, input, "real")
    dims, sizes = _dims_and_sizes(op, x.shape, s, dim)
    for d, n in zip(dims, sizes):
        x = _fit(x, d, n)
    return RealToHalf.apply(x, dims, norm)


def _irfftn(op: str, input: Tensor, s: Any, dim: Any, norm: Any) -> Tensor:
    norm = _norm(op, norm)
    X = _signal(op, input, "complex")
    dims, sizes = _dims_and_sizes(op, X.shape, s, dim, lambda m: 2 * (m - 1))
    for d, n in zip(dims[:-1], sizes[:-1]):
        X = _fit(X, d, n)
    X = _fit(X, dims[-1], sizes[-1] // 2 + 1)
    return HalfToReal.apply(X, dims, sizes[-1], norm)


def _fftn(op: str, input: Tensor, s: Any, dim: Any, norm: Any, inverse: bool) -> Tensor:
    norm = _norm(op, norm)
    x = _signal(op, input, "complex")
    dims, sizes = _dims_and_sizes(op, x.shape, s, dim)
    for d, n in zip(dims, sizes):
        x = _fit(x, d, n)
    return ComplexToComplex.apply(x, dims, norm, inverse)


def _one_dim(op: str, n: Any, dim: Any) -> tuple:
    """(s, dim) of a 1-D transform's n and dim."""
    if n is not None and not _is_int(n):
        raise InputTypeError(f"{op}: n must be an int or None, got {n!r}")
    if not _is_int(dim):
        raise InputTypeError(f"{op}: dim must be an int, got {dim!r}")
    return (None if n is None else (n,)), (dim,)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The complex half spectrum of a real signal along ``dim`` (cropped or zero-padded to ``n``):
    n // 2 + 1 bins there, the rest of the dims in place."""
    return _rfftn("rfft", input, *_one_dim("rfft", n, dim), norm)


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The real signal of length ``n`` (default 2 (m - 1)) whose half spectrum (m bins along
    ``dim``) is ``input``."""
    return _irfftn("irfft", input, *_one_dim("irfft", n, dim), norm)


def rfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Tensor:
    """rfftn over two dims (the last two by default)."""
    return _rfftn("rfft2", input, s, dim, norm)


def irfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
           norm: str | None = None) -> Tensor:
    """irfftn over two dims (the last two by default)."""
    return _irfftn("irfft2", input, s, dim, norm)


def rfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    """The n-D FFT of a real signal, halved along the last transformed dim (complex)."""
    return _rfftn("rfftn", input, s, dim, norm)


def irfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
           norm: str | None = None) -> Tensor:
    """The inverse of rfftn: a real signal from a half spectrum (the last transformed dim holds
    the half spectrum; its output length ``s[-1]`` defaults to 2 (m - 1))."""
    return _irfftn("irfftn", input, s, dim, norm)


def _conj(X: Tensor) -> Tensor:
    from .complex_ops import conj
    return conj(X)


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The real FFT of a Hermitian-symmetric signal given by its first half (m values along
    ``dim``): ``irfft(conj(input))`` with the forward transform's norm."""
    s, dims = _one_dim("hfft", n, dim)
    return _irfftn("hfft", _conj(_signal("hfft", input, "complex")), s, dims, _DUAL[_norm("hfft", norm)])


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of hfft: the first half of a real signal's inverse FFT (complex:
    ``conj(rfft(input))`` with the inverse transform's norm)."""
    s, dims = _one_dim("ihfft", n, dim)
    return _conj(_rfftn("ihfft", input, s, dims, _DUAL[_norm("ihfft", norm)]))


def hfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    """The n-D hfft (the last transformed dim holds the half spectrum)."""
    return _irfftn("hfftn", _conj(_signal("hfftn", input, "complex")), s, dim, _DUAL[_norm("hfftn", norm)])


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


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The discrete Fourier transform along ``dim`` (cropped or zero-padded to ``n``): complex."""
    return _fftn("fft", input, *_one_dim("fft", n, dim), norm, False)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of :func:`fft`: complex."""
    return _fftn("ifft", input, *_one_dim("ifft", n, dim), norm, True)


def fft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
         norm: str | None = None) -> Tensor:
    """fftn over two dims (the last two by default)."""
    return _fftn("fft2", input, s, dim, norm, False)


def ifft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Tensor:
    """ifftn over two dims (the last two by default)."""
    return _fftn("ifft2", input, s, dim, norm, True)


def fftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
         norm: str | None = None) -> Tensor:
    """The n-D discrete Fourier transform (all dims by default): complex."""
    return _fftn("fftn", input, s, dim, norm, False)


def ifftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    """The inverse of :func:`fftn`: complex."""
    return _fftn("ifftn", input, s, dim, norm, True)


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
