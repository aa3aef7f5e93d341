"""GELU and its derivative on the CPU in float32, one vectorized pass.

NumPy has no erf, and a Numba ufunc over ``math.erf`` runs one libm call per element (about
5 ns: GELU's forward was the costliest elementwise op of a transformer block).  Here the lower
tail ``Phi(-|x|) = exp(-x^2/2) erfcx(|x|/sqrt 2) / 2`` is evaluated with exp(-x^2/2) a float64
range reduction and polynomial, and erfcx a polynomial in ``1 / (1 + 0.3 a)`` fitted for
tensorgan (relative error 1e-9), ``Phi(x) = 1 - Phi(-x)`` above 0: no calls and no branches,
so LLVM vectorizes the loop (10x faster than libm), and the float32 result is within an ulp of
the correctly rounded one in the whole range, the lower tail included (``(1 + erf) / 2`` -- torch's
float32 and float64 kernels -- rounds it away: GELU(-5.66) = 0 there, its gradient 5e5 ulp off).
The same pass also writes the backward's ``Phi(x) + x phi(x)``, rounded once, so the backward is
one multiply by g (the forward's extra exp is the backward's former one: forward + backward take
no longer than with the erf form).  Float64 inputs take ``math.erfc``.  Compiled on first use
(cached on disk)."""
from __future__ import annotations

import numpy as np

from .memory_formats import _row_major, iterator_order

_KERNELS: dict = {}


def _compile() -> dict:
    from numba import njit, types
    from numba.extending import intrinsic

    # float64 <-> int64 bit casts (free in a vector loop; NumPy's .view is not one in a loop)
    @intrinsic
    def _f64_from_bits(typingctx, bits):    # noqa: ANN001, ANN202
        def codegen(context, builder, signature, args):    # noqa: ANN001, ANN202
            return builder.bitcast(args[0], context.get_value_type(types.float64))
        return types.float64(types.int64), codegen

    @intrinsic
    def _bits_of_f64(typingctx, value):     # noqa: ANN001, ANN202
        def codegen(context, builder, signature, args):    # noqa: ANN001, ANN202
            return builder.bitcast(args[0], context.get_value_type(types.int64))
        return types.int64(types.float64), codegen

    # exp(-x^2 / 2) for a float32 x, in float64: 2^-n exp(r), n = round(h / ln 2) (the magic
    # constant leaves n in t's low bits), |r| <= ln2 / 2, a degree-7 fit (relative error 6e-11),
    # 2^-n built from bits; 0 beyond x^2 = 240 (exp(-120): below float32's least subnormal)
    @njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"}, inline="always")
    def _exp_neg_half_square(v):    # noqa: ANN001, ANN202
        s = v * v                   # exact: x has 24 significant bits
        h = min(s, 240.0) * 0.5
        t = h * 1.4426950408889634 + 6755399441055744.0
        n = t - 6755399441055744.0
        r = n * 0.6931471805599453 - h
        e = ((((((0.0001991587329680985 * r + 0.0013948584551070839) * r
                 + 0.008333266085779422) * r + 0.041666218218346804) * r
               + 0.16666666891112053) * r + 0.500000010776949) * r
             + 0.9999999999797776) * r + 0.9999999999595395
        e *= _f64_from_bits((1023 << 52) - (_bits_of_f64(t) << 52))
        return 0.0 if s > 240.0 else e

    # Phi(-|x|) = exp(-x^2 / 2) erfcx(|x| / sqrt 2) / 2, erfcx(a) = exp(a^2) erfc(a) as u P(u),
    # u = 1 / (1 + 0.3 a) (relative error 1e-9 for a <= 11, where Phi(-|x|) is still a float32):
    # the lower tail keeps its relative accuracy (1 + erf would round it away), the upper
    # Phi = 1 - Phi(-x) its absolute one.  Returns (Phi(x), exp(-x^2 / 2)).
    @njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"}, inline="always")
    def _cdf_and_exp(v):    # noqa: ANN001, ANN202
        u = 1.0 / (1.0 + 0.21213203435596426 * abs(v))     # 0.3 / sqrt(2)
        p = (((((((((0.054336747386371814 * u - 0.32412106214191766) * u
                    + 0.7201289736923329) * u - 0.8014030122959739) * u
                  + 0.7331565686417447) * u - 0.2556425882074149) * u
                + 0.2546563571317379) * u + 0.11396418477132968) * u
              + 0.166884501515579) * u + 0.16876175173282737) * u + 0.169277577476621
        e = _exp_neg_half_square(v)
        q = 0.5 * e * u * p
        return (1.0 - q if v > 0.0 else q), e    # (-inf: 0, so -inf's GELU is NaN, as torch's)

    # error_model='numpy': a division by zero gives inf rather than raising (Python's model
    # tests every division, which stops the loop from vectorizing: 6x slower); contract: the
    # polynomials' multiply-adds as FMAs (a quarter fewer vector operations)
    @njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
    def gelu_forward(x, y, slope):     # noqa: ANN001 - flat float32 arrays of one size
        for i in range(x.size):
            v = np.float64(x[i])
            c, e = _cdf_and_exp(v)
            y[i] = v * c
            # the backward's d/dx = Phi(x) + x phi(x), rounded once (an infinite x: inf * 0 =
            # NaN, as torch's; NaN stays NaN)
            slope[i] = c + v * e * 0.3989422804014327

    @njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
    def gelu_values(x, y):     # noqa: ANN001 - flat float32 arrays of one size (no_grad's)
        for i in range(x.size):
            v = np.float64(x[i])
            y[i] = v * _cdf_and_exp(v)[0]

    return {"gelu_forward": gelu_forward, "gelu_values": gelu_values}


def _layout_axes(lead: np.ndarray, other: np.ndarray) -> "list | None":
    """The dims of an elementwise result outermost to innermost in memory, torch's
    TensorIterator's (``lead`` its first operand): None for C order (``lead`` row-major)."""
    if _row_major(lead):
        return None
    axes = iterator_order(lead.shape, (lead, other))
    return None if axes == sorted(axes) else axes


def _flat(a: np.ndarray, axes: "list | None") -> np.ndarray:
    """``a``'s elements in the order ``axes`` lays them out (a copy only where a is not so)."""
    return (a if axes is None else a.transpose(axes)).ravel()


def _shaped(flat: np.ndarray, shape: tuple, axes: "list | None") -> np.ndarray:
    """``flat`` (laid out in the order ``axes``) as an array of ``shape``."""
    if axes is None:
        return flat.reshape(shape)
    return flat.reshape([shape[d] for d in axes]).transpose(np.argsort(axes))


def gelu_forward(x: np.ndarray, with_slope: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """``(x * Phi(x), Phi(x) + x phi(x))`` -- GELU and its derivative (None unless
    ``with_slope``) -- for a float32 NumPy array (any layout), as new arrays laid out as x
    (channels_last, a transpose), as torch's and NumPy's elementwise results."""
    if not _KERNELS:
        _KERNELS.update(_compile())
    axes = _layout_axes(x, x)
    flat = _flat(x, axes)
    y = np.empty_like(flat)
    if not with_slope:
        _KERNELS["gelu_values"](flat, y)
        return _shaped(y, x.shape, axes), None
    slope = np.empty_like(flat)
    _KERNELS["gelu_forward"](flat, y, slope)
    return _shaped(y, x.shape, axes), _shaped(slope, x.shape, axes)


def gelu_backward(slope: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``g * slope`` (``slope``: :func:`gelu_forward`'s derivative, laid out as x) for float32
    NumPy arrays of one shape, in float32 as torch's (where the derivative underflows to 0, an
    infinite g gives NaN and a huge one 0).  Laid out as functional's ``_times_gradient``: as g
    where g differs from x and is not broadcast (torch's: g is its TensorIterator's first
    operand), else as x."""
    lead = slope if g.strides == slope.strides or 0 in g.strides else g
    out = _shaped(np.empty(slope.size, np.float32), slope.shape, _layout_axes(lead, slope))
    return np.multiply(g, slope, out=out)
