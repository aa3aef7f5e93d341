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
* i1 (i0's derivative): the power series for |x| <= 30, the asymptotic expansion beyond.
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
    """Hurwitz zeta sum_k (k + q)^-s for an integer s > 1 (Cephes' zeta)."""
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
def _i1(x: float) -> float:
    ax = abs(x)
    if ax <= 30.0:                                   # sum (x/2)^(2k+1) / (k! (k+1)!)
        half = 0.5 * ax
        term = half
        total = term
        k = 0
        while term > total * 1e-17:
            k += 1
            term *= half * half / (k * (k + 1.0))
            total += term
    else:                                            # e^x / sqrt(2 pi x) sum_k (-1)^k a_k / x^k
        term, total, k = 1.0, 1.0, 0
        while abs(term) > 1e-17 and k < 60:
            k += 1
            term *= -(4.0 - (2.0 * k - 1.0) ** 2) / (8.0 * k * ax)
            total += term
        half = math.exp(0.5 * ax)                    # e^x in two halves: finite up to I1's overflow
        total = half * (half / math.sqrt(2.0 * math.pi * ax) * total)
    return math.copysign(total, x) if not math.isnan(x) else x


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
    return _i1(x)


def call(kernel, x: np.ndarray, *more: float) -> np.ndarray:
    """``kernel(*more, x)`` in float64, returned in ``x``'s dtype."""
    return np.asarray(kernel(*more, x.astype(np.float64, copy=False))).astype(x.dtype, copy=False)
