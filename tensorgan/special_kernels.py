"""Special functions on the CPU (NumPy has none of them and SciPy is not a dependency): Numba
ufuncs, float64 inside (callers cast float32 in and out), compiled on first import and cached on
disk.  ``special_ops.py`` imports this module lazily, on the first special-function call; on the
GPU it uses ``cupyx.scipy.special`` instead.

* lgamma, erfc: the C library's (Numba's ``math.lgamma`` / ``math.erfc``), as torch's CPU kernels.
* digamma: torch's own algorithm (``calc_digamma``): reflection for x < 0, the recurrence
  psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic series in 1/x^2 (Cephes').
* polygamma(n >= 1, x) = (-1)^(n+1) n! zeta(n + 1, x) with Cephes' Hurwitz zeta (Euler-Maclaurin
  summation), as torch's for n >= 2 (torch's n = 1 uses a shorter series; this one is closer to
  exact).
* i1 (i0's derivative), i0e, i1e (scaled by e^-|x|): the power series for |x| <= 30, the
  asymptotic expansion beyond.
* erfcx = exp(x^2) erfc(x), log_ndtr, ndtri (Newton on log_ndtr), Hurwitz zeta(x, q) with
  torch's domain (``tg.special``).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, vectorize

_MACHEP = 1.11022302462515654042e-16
_PSI_10 = 2.25175258906672110764          # digamma(10)
_DIGAMMA_SERIES = (8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
                   -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
                   8.33333333333333333333e-2)
# Euler-Maclaurin: (2k)! / B_2k, k = 1..12 (Cephes' zeta.c)
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
           -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
           1.8152105401943546773e17, -7.1661652561756670113e18)


@njit(cache=True)
def _digamma(x: float) -> float:
    if x == 0.0:
        return math.copysign(math.inf, -x)          # +0 -> -inf, -0 -> +inf
    if x < 0.0:
        if x == math.trunc(x):
            return math.nan                         # the poles (and -inf)
        r = x - math.trunc(x)                       # tan(pi r): more exact than tan(pi x)
        return _digamma(1.0 - x) - math.pi / math.tan(math.pi * r)
    result = 0.0
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    if x == 10.0:
        return result + _PSI_10
    y = 0.0
    if x < 1.0e17:
        z = 1.0 / (x * x)
        p = 0.0
        for a in _DIGAMMA_SERIES:
            p = p * z + a
        y = z * p
    return result + math.log(x) - 0.5 / x - y


@njit(cache=True)
def _zeta(s: float, q: float) -> float:
    """Hurwitz zeta sum_k (k + q)^-s for s > 1 (Cephes' zeta; q < 0 only with an integer s)."""
    if q <= 0.0 and q == math.floor(q):
        return math.inf
    if q > 1e8:                                     # asymptotic (DLMF 25.11.43)
        return (1.0 / (s - 1.0) + 0.5 / q) * q ** (1.0 - s)
    total = q ** -s
    a, b, i = q, 0.0, 0
    while i < 9 or a <= 9.0:
        i += 1
        a += 1.0
        b = a ** -s
        total += b
        if abs(b / total) < _MACHEP:
            return total
    w = a
    total += b * w / (s - 1.0) - 0.5 * b
    a, k = 1.0, 0.0
    for coefficient in _ZETA_A:
        a *= s + k
        b /= w
        t = a * b / coefficient
        total += t
        if abs(t / total) < _MACHEP:
            break
        k += 1.0
        a *= s + k
        b /= w
        k += 1.0
    return total


@njit(cache=True)
def _bessel_i(nu: float, x: float, scaled: bool) -> float:
    """I_nu(x) for nu = 0 or 1, times e^-|x| when ``scaled``: the power series for |x| <= 30,
    the asymptotic expansion beyond (I1 is odd, I0 even)."""
    if math.isnan(x):
        return x
    ax = abs(x)
    if ax <= 30.0:                                   # sum (x/2)^(2k+nu) / (k! (k+nu)!)
        half = 0.5 * ax
        term = half if nu == 1.0 else 1.0
        total = term
        k = 0
        while term > total * 1e-17:
            k += 1
            term *= half * half / (k * (k + nu))
            total += term
        if scaled:
            total *= math.exp(-ax)
    else:                                            # e^x / sqrt(2 pi x) sum_k (-1)^k a_k / x^k
        term, total, k = 1.0, 1.0, 0
        while abs(term) > 1e-17 and k < 60:
            k += 1
            term *= -(4.0 * nu * nu - (2.0 * k - 1.0) ** 2) / (8.0 * k * ax)
            total += term
        if scaled:
            total /= math.sqrt(2.0 * math.pi * ax)
        else:
            half = math.exp(0.5 * ax)                # e^x in two halves: finite up to I's overflow
            total = half * (half / math.sqrt(2.0 * math.pi * ax) * total)
    return math.copysign(total, x) if nu == 1.0 else total


@njit(cache=True)
def _exp_square(x: float) -> float:
    """exp(x^2) with x^2's rounding error put back (Dekker's split), to a few ulps."""
    x2 = x * x
    c = 134217729.0 * x
    hi = c - (c - x)
    lo = x - hi
    return math.exp(x2) * (1.0 + (((hi * hi - x2) + 2.0 * hi * lo) + lo * lo))


@njit(cache=True)
def _erfcx(x: float) -> float:
    """exp(x^2) erfc(x): the product for x < 25, the asymptotic series 1/(x sqrt(pi)) sum_k
    (-1)^k (2k-1)!! / (2x^2)^k beyond (erfc underflows there); 2 exp(x^2) - erfcx(-x) for x < 0."""
    if math.isnan(x):
        return x
    if x < -26.7:
        return math.inf                             # exp(x^2) overflows
    if x < 0.0:
        return 2.0 * _exp_square(x) - _erfcx(-x)
    if x < 25.0:
        return _exp_square(x) * math.erfc(x)
    step = 0.5 / x / x
    term, total, k = 1.0, 1.0, 0
    while abs(term) > 1e-17 and k < 50:
        k += 1
        term *= -(2.0 * k - 1.0) * step
        total += term
    return total / (x * math.sqrt(math.pi))


@njit(cache=True)
def _log_ndtr(x: float) -> float:
    """log of the standard normal CDF: log(erfcx(-x / sqrt 2) / 2) - x^2 / 2 below -1 (no
    underflow), log1p(-erfc(x / sqrt 2) / 2) above (as torch)."""
    t = x / math.sqrt(2.0)
    if x < -1.0:
        return math.log(_erfcx(-t) / 2.0) - t * t
    return math.log1p(-math.erfc(t) / 2.0)


@njit(cache=True)
def _ndtri(p: float) -> float:
    """The standard normal quantile: Abramowitz-Stegun 26.2.23 (error < 4.5e-4), then Newton
    steps -- on erf(z / sqrt 2) / 2 = p - 1/2 (exact) in the middle, on log_ndtr(z) = log(q) in
    the tails (q = min(p, 1 - p)): full relative precision near 0 and for tiny q."""
    if not 0.0 <= p <= 1.0:
        return math.nan
    if p == 0.0 or p == 1.0:
        return -math.inf if p == 0.0 else math.inf
    if p == 0.5:
        return 0.0
    q = p if p < 0.5 else 1.0 - p
    t = math.sqrt(-2.0 * math.log(q))
    z = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))))
    log_q, half_gap = math.log(q), q - 0.5
    for _ in range(6):              # both residuals are concave: the steps approach from below
        if q > 0.25:
            z -= (0.5 * math.erf(z / math.sqrt(2.0)) - half_gap) * math.sqrt(2.0 * math.pi) * math.exp(0.5 * z * z)
        else:
            z -= (_log_ndtr(z) - log_q) * _erfcx(-z / math.sqrt(2.0)) * math.sqrt(math.pi / 2.0)
    return z if p < 0.5 else -z


@njit(cache=True)
def _hurwitz_zeta(x: float, q: float) -> float:
    """torch.special.zeta(x, q): inf at x == 1 and at the poles q = 0, -1, ...; NaN for x < 1
    and for a non-integer x with q < 0 (Cephes' domain)."""
    if x == 1.0:
        return math.inf
    if x < 1.0:
        return math.nan
    if q <= 0.0:
        if q == math.floor(q):
            return math.inf
        if x != math.floor(x):
            return math.nan
    return _zeta(x, q)


@vectorize(["float64(float64)"], cache=True)
def lgamma(x):
    return math.lgamma(x)


@vectorize(["float64(float64)"], cache=True)
def erfc(x):
    return math.erfc(x)


@vectorize(["float64(float64)"], cache=True)
def digamma(x):
    return _digamma(x)


@vectorize(["float64(float64, float64)"], cache=True)
def polygamma(n, x):
    if n == 0.0:
        return _digamma(x)
    sign = 1.0 if n % 2.0 == 1.0 else -1.0
    return sign * math.exp(math.lgamma(n + 1.0)) * _zeta(n + 1.0, x)


@vectorize(["float64(float64)"], cache=True)
def i1(x):
    return _bessel_i(1.0, x, False)


@vectorize(["float64(float64)"], cache=True)
def i0e(x):
    return _bessel_i(0.0, x, True)


@vectorize(["float64(float64)"], cache=True)
def i1e(x):
    return _bessel_i(1.0, x, True)


@vectorize(["float64(float64)"], cache=True)
def erfcx(x):
    return _erfcx(x)


@vectorize(["float64(float64)"], cache=True)
def log_ndtr(x):
    return _log_ndtr(x)


@vectorize(["float64(float64)"], cache=True)
def ndtri(x):
    return _ndtri(x)


@vectorize(["float64(float64, float64)"], cache=True)
def zeta(x, q):
    return _hurwitz_zeta(x, q)


def call(kernel, x: np.ndarray, *more: float) -> np.ndarray:
    """``kernel(*more, x)`` in float64, returned in ``x``'s dtype."""
    return np.asarray(kernel(*more, x.astype(np.float64, copy=False))).astype(x.dtype, copy=False)
