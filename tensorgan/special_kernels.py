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
* Compiled on first use instead (module ``__getattr__``): gammainc / gammaincc (Cephes' series
  and continued fraction), bessel_j0 / j1 / y0 / y1 (power series below 1, Miller's downward
  recurrence with the Neumann series for Y up to 25, Hankel's expansion beyond), modified_bessel_k0
  / k1 and their e^x-scaled forms (trapezoidal rule on K_nu(x) = int e^(-x cosh t) cosh(nu t) dt,
  exponentially convergent), spherical_bessel_j0, and ``orthopoly`` (the orthogonal polynomials'
  three-term recurrences).
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


# ---------------------------------------------------------------------------------------------
# tg.special's gammainc / gammaincc, Bessel J / Y / K and the orthogonal polynomials
# ---------------------------------------------------------------------------------------------
_MAXLOG = 7.09782712893383996843e2
_BIG = 4.503599627370496e15
_EULER = 0.57721566490153286061


@njit(cache=True)
def _igam_prefactor(a: float, x: float) -> float:
    """x^a e^-x / Gamma(a), in logs (0 where it underflows)."""
    ax = a * math.log(x) - x - math.lgamma(a)
    return 0.0 if ax < -_MAXLOG else math.exp(ax)


@njit(cache=True)
def _igam_series(a: float, x: float) -> float:
    """P(a, x) by the power series (Cephes' igam), for x < 1 or x < a."""
    r, c, total = a, 1.0, 1.0
    while True:
        r += 1.0
        c *= x / r
        total += c
        if c <= total * _MACHEP:
            return total * _igam_prefactor(a, x) / a


@njit(cache=True)
def _igamc_fraction(a: float, x: float) -> float:
    """Q(a, x) by the continued fraction (Cephes' igamc), for x >= 1 and x >= a."""
    prefactor = _igam_prefactor(a, x)
    if prefactor == 0.0:        # as Cephes: Q underflows (and at x ~ 1e300, z * x would be inf / inf)
        return 0.0
    y, z, c = 1.0 - a, x + 2.0 - a, 0.0
    pkm2, qkm2, pkm1, qkm1 = 1.0, x, x + 1.0, z * x
    ans = pkm1 / qkm1
    for _ in range(10000):
        c += 1.0
        y += 1.0
        z += 2.0
        yc = y * c
        pk = pkm1 * z - pkm2 * yc
        qk = qkm1 * z - qkm2 * yc
        t = 1.0
        if qk != 0.0:
            r = pk / qk
            t = abs((ans - r) / r)
            ans = r
        pkm2, pkm1, qkm2, qkm1 = pkm1, pk, qkm1, qk
        if abs(pk) > _BIG:
            pkm2, pkm1, qkm2, qkm1 = pkm2 / _BIG, pkm1 / _BIG, qkm2 / _BIG, qkm1 / _BIG
        if t <= _MACHEP:
            break
    return ans * prefactor


@njit(cache=True)
def _igam(a: float, x: float, upper: bool) -> float:
    """The regularized incomplete gamma P(a, x) (``upper``: Q = 1 - P), torch's edge cases:
    NaN for a < 0, x < 0, a = x = 0 or both infinite; a = 0 is the limit P = 1."""
    if math.isnan(a) or math.isnan(x) or a < 0.0 or x < 0.0 or (a == 0.0 and x == 0.0) \
            or (math.isinf(a) and math.isinf(x)):
        return math.nan
    if a == 0.0 or math.isinf(x):
        p = 1.0
    elif x == 0.0 or math.isinf(a):
        p = 0.0
    elif x > 1.0 and x > a:
        q = _igamc_fraction(a, x)
        return q if upper else 1.0 - q
    else:
        p = _igam_series(a, x)
    return 1.0 - p if upper else p


def _gammainc_scalar(a, x):
    return _igam(a, x, False)


def _gammaincc_scalar(a, x):
    return _igam(a, x, True)


@njit(cache=True)
def _bessel_jy_series(x: float) -> tuple:
    """(J0, J1, Y0, Y1) by the power series (DLMF 10.2.2, 10.8.1), for 0 < x < 1."""
    q = 0.25 * x * x
    log_half = math.log(0.5 * x) + _EULER
    j0, j1, y0, y1 = 0.0, 0.0, 0.0, 0.0
    t0, t1, harmonic = 1.0, 1.0, 0.0           # q^k / k!^2, q^k / (k! (k+1)!), H_k
    for k in range(30):
        sign = 1.0 if k % 2 == 0 else -1.0
        j0 += sign * t0
        j1 += sign * t1
        y0 -= sign * harmonic * t0
        y1 += sign * (2.0 * harmonic + 1.0 / (k + 1.0)) * t1      # psi(k+1) + psi(k+2) + 2 gamma
        harmonic += 1.0 / (k + 1.0)
        t0 *= q / ((k + 1.0) * (k + 1.0))
        t1 *= q / ((k + 1.0) * (k + 2.0))
    j1 *= 0.5 * x
    y0 = 2.0 / math.pi * (log_half * j0 + y0)
    y1 = -2.0 / (math.pi * x) + 2.0 / math.pi * (log_half * j1) - 0.5 * x / math.pi * y1
    return j0, j1, y0, y1


@njit(cache=True)
def _bessel_jy_miller(x: float) -> tuple:
    """(J0, J1, Y0, Y1) for 1 <= x <= 25: Miller's downward recurrence from an order well past
    x, normalised by J0 + 2 sum J_2k = 1; Y0 and Y1 from the Neumann series in the J_n
    (DLMF 10.23.E: Y0 = 2/pi ((ln(x/2) + gamma) J0 - 2 sum (-1)^k J_2k / k), Y1 = -Y0')."""
    top = 2 * int(0.5 * (x + 30.0 + 10.0 * x ** (1.0 / 3.0)))
    j_next, j_n = 0.0, 1e-30                   # J_{n+1}, J_n for n = top
    norm, s0, s1 = 0.0, 0.0, 0.0
    j1 = 0.0
    for n in range(top, 0, -1):
        half = n // 2
        if n % 2 == 0:
            norm += 2.0 * j_n
            s0 += (1.0 if half % 2 == 0 else -1.0) * j_n / half
        else:                                   # J_m's coefficient in sum (-1)^k (J_2k-1 - J_2k+1) / k
            k_up, k_down = (n + 1) // 2, (n - 1) // 2
            c = (1.0 if k_up % 2 == 0 else -1.0) / k_up
            if k_down >= 1:
                c -= (1.0 if k_down % 2 == 0 else -1.0) / k_down
            s1 += c * j_n
        if n == 1:
            j1 = j_n
        j_prev = 2.0 * n / x * j_n - j_next
        j_next, j_n = j_n, j_prev
        if abs(j_n) > 1e250:
            j_next, j_n, norm, s0, s1, j1 = j_next * 1e-250, j_n * 1e-250, norm * 1e-250, \
                s0 * 1e-250, s1 * 1e-250, j1 * 1e-250
    norm += j_n
    j0, j1, s0, s1 = j_n / norm, j1 / norm, s0 / norm, s1 / norm
    log_half = math.log(0.5 * x) + _EULER
    y0 = 2.0 / math.pi * (log_half * j0 - 2.0 * s0)
    y1 = 2.0 / math.pi * (log_half * j1 - j0 / x + s1)
    return j0, j1, y0, y1


@njit(cache=True)
def _bessel_jy_hankel(nu: float, x: float) -> tuple:
    """(J_nu, Y_nu) for x > 25, nu = 0 or 1: Hankel's asymptotic expansion (DLMF 10.17.3),
    cos / sin of x - (nu/2 + 1/4) pi from cos x and sin x (no large-argument subtraction)."""
    mu = 4.0 * nu * nu
    term, p, q, k = 1.0, 1.0, 0.0, 0
    while k < 60:
        k += 1
        new = term * (mu - (2.0 * k - 1.0) ** 2) / (8.0 * k * x)
        if abs(new) >= abs(term) or abs(new) < 1e-17:
            break
        term = new
        sign = 1.0 if (k // 2) % 2 == 0 else -1.0
        if k % 2 == 0:
            p += sign * term
        else:
            q += sign * term
    c, s = math.cos(x), math.sin(x)
    r = math.sqrt(0.5)
    if nu == 0.0:
        cos_chi, sin_chi = (c + s) * r, (s - c) * r
    else:
        cos_chi, sin_chi = (s - c) * r, -(s + c) * r
    scale = math.sqrt(2.0 / (math.pi * x))
    return scale * (p * cos_chi - q * sin_chi), scale * (p * sin_chi + q * cos_chi)


@njit(cache=True)
def _bessel_jy(which: int, x: float) -> float:
    """J0 (which 0), J1 (1), Y0 (2) or Y1 (3) of x, torch's edge cases (J even / odd, Y NaN
    for x < 0, -inf at 0, NaN at +-inf as torch's)."""
    if math.isnan(x):
        return x
    if which >= 2 and x < 0.0:
        return math.nan
    ax = abs(x)
    if ax == 0.0:
        return (1.0, 0.0, -math.inf, -math.inf)[which]
    if ax > 25.0:
        j, y = _bessel_jy_hankel(float(which % 2), ax)
        value = j if which < 2 else y
    else:
        values = _bessel_jy_series(ax) if ax < 1.0 else _bessel_jy_miller(ax)
        value = values[which]
    return -value if which == 1 and x < 0.0 else value


def _bessel_j0_scalar(x):
    return _bessel_jy(0, x)


def _bessel_j1_scalar(x):
    return _bessel_jy(1, x)


def _bessel_y0_scalar(x):
    return _bessel_jy(2, x)


def _bessel_y1_scalar(x):
    return _bessel_jy(3, x)


@njit(cache=True)
def _bessel_k(nu: float, x: float, scaled: bool) -> float:
    """K_nu(x) (nu = 0 or 1; times e^x when ``scaled``) from K_nu(x) e^x = int_0^inf
    exp(-x (cosh t - 1)) cosh(nu t) dt by the trapezoidal rule, which converges exponentially
    for this analytic, doubly-exponentially decaying integrand (step ~ 1 / sqrt(x) for large x)."""
    if math.isnan(x) or x < 0.0:
        return math.nan
    if x == 0.0:
        return math.inf
    if math.isinf(x):
        return 0.0
    h = min(0.1, 0.15 / math.sqrt(x))
    total = 0.5
    k = 0
    while True:
        k += 1
        t = k * h
        s = math.sinh(0.5 * t)
        exponent = -2.0 * x * s * s + nu * t
        term = 0.5 * math.exp(exponent) * (1.0 + math.exp(-2.0 * nu * t)) if nu != 0.0 else math.exp(exponent)
        total += term
        if exponent < -45.0 and 2.0 * x * s * s > 1.0:
            break
    total *= h
    return total if scaled else total * math.exp(-x)


def _modified_bessel_k0_scalar(x):
    return _bessel_k(0.0, x, False)


def _modified_bessel_k1_scalar(x):
    return _bessel_k(1.0, x, False)


def _scaled_modified_bessel_k0_scalar(x):
    return _bessel_k(0.0, x, True)


def _scaled_modified_bessel_k1_scalar(x):
    return _bessel_k(1.0, x, True)


def _spherical_bessel_j0_scalar(x):
    if math.isinf(x):
        return 0.0
    if abs(x) < 1e-4:
        return 1.0 - x * x / 6.0
    return math.sin(x) / x


_AI0, _AIP0 = 0.355028053887817239260, -0.258819403792806798405    # Ai(0), Ai'(0)


@njit(cache=True)
def _airy_negative(x: float) -> float:
    """Ai(x) for -10 <= x < 0: Taylor steps of y'' = t y from 0 (stable there: Ai and Bi both
    oscillate), each expanded to convergence with sqrt|t| |h| <= 1/2 (no cancellation)."""
    y, dy, t = _AI0, _AIP0, 0.0
    while t > x:
        h = max(x - t, -0.5 / max(1.0, math.sqrt(-t)))
        a_prev, a, a_next = 0.0, y, dy            # a_{-1}, a_0, a_1 of y(t + u) = sum a_n u^n
        value, slope, power = y + dy * h, dy, h
        for n in range(2, 42):        # the terms fall faster than 0.5^n / (n/2)!: 40 suffice
            a_new = (t * a + a_prev) / (n * (n - 1.0))   # a_n = (t a_{n-2} + a_{n-3}) / (n (n-1))
            a_prev, a, a_next = a, a_next, a_new
            slope += n * a_next * power
            power *= h
            value += a_next * power
        y, dy, t = value, slope, t + h
    return y


@njit(cache=True)
def _airy_ai(x: float) -> float:
    """Ai(x): (1/pi) sqrt(x/3) K_{1/3}(2/3 x^{3/2}) for x > 0 (K by the trapezoidal integral),
    Taylor steps for -10 <= x < 0, the asymptotic expansion (DLMF 9.7.9) below (2/3 |x|^{3/2} > 21:
    its smallest term is below 1e-18)."""
    if math.isnan(x):
        return x
    if x == 0.0:
        return _AI0
    if math.isinf(x):
        return math.nan                            # as torch's (for both infinities)
    if x > 0.0:
        zeta = 2.0 / 3.0 * x * math.sqrt(x)
        return math.sqrt(x / 3.0) / math.pi * _bessel_k(1.0 / 3.0, zeta, False)
    if x >= -10.0:
        return _airy_negative(x)
    z = -x
    zeta = 2.0 / 3.0 * z * math.sqrt(z)
    u, p, q, k = 1.0, 1.0, 0.0, 0
    while k < 40:
        k += 1
        u *= (6.0 * k - 5.0) * (6.0 * k - 3.0) * (6.0 * k - 1.0) / ((2.0 * k - 1.0) * 216.0 * k) / zeta
        if abs(u) < 1e-17:
            break
        sign = 1.0 if (k // 2) % 2 == 0 else -1.0
        if k % 2 == 0:
            p += sign * u
        else:
            q += sign * u
    phase = zeta - 0.25 * math.pi
    return (math.cos(phase) * p + math.sin(phase) * q) / (math.sqrt(math.pi) * z ** 0.25)


def _airy_ai_scalar(x):
    return _airy_ai(x)


# Orthogonal polynomials: kind codes for orthopoly()
CHEBYSHEV_T, CHEBYSHEV_U, CHEBYSHEV_V, CHEBYSHEV_W, HERMITE_H, HERMITE_HE, LAGUERRE, LEGENDRE = range(8)


@njit(cache=True)
def _orthopoly(kind: int, x: float, order: float) -> float:
    """The degree-n polynomial of ``kind`` at x by its three-term recurrence, n = int(order)
    truncated (torch casts n to an integer); 0 for n < 0."""
    if math.isnan(order):
        return math.nan
    n = int(order)
    if n < 0:
        return 0.0
    if n == 0:
        return 1.0
    first = (x, 2.0 * x, 2.0 * x - 1.0, 2.0 * x + 1.0, 2.0 * x, x, 1.0 - x, x)[kind]
    before, p = 1.0, first
    for k in range(1, n):
        if kind <= CHEBYSHEV_W:
            after = 2.0 * x * p - before
        elif kind == HERMITE_H:
            after = 2.0 * x * p - 2.0 * k * before
        elif kind == HERMITE_HE:
            after = x * p - k * before
        elif kind == LAGUERRE:
            after = ((2.0 * k + 1.0 - x) * p - k * before) / (k + 1.0)
        else:
            after = ((2.0 * k + 1.0) * x * p - k * before) / (k + 1.0)
        before, p = p, after
    return p


def _orthopoly_scalar(kind, x, n):
    return _orthopoly(kind, x, n)


# Compiled on first use (PEP 562 module __getattr__), so that importing this module for lgamma /
# erfc / ... does not load these too; cached on disk like the rest.
_UNARY, _BINARY = "float64(float64)", "float64(float64, float64)"
_LAZY = {
    "gammainc": (_gammainc_scalar, _BINARY),
    "gammaincc": (_gammaincc_scalar, _BINARY),
    "bessel_j0": (_bessel_j0_scalar, _UNARY),
    "bessel_j1": (_bessel_j1_scalar, _UNARY),
    "bessel_y0": (_bessel_y0_scalar, _UNARY),
    "bessel_y1": (_bessel_y1_scalar, _UNARY),
    "modified_bessel_k0": (_modified_bessel_k0_scalar, _UNARY),
    "modified_bessel_k1": (_modified_bessel_k1_scalar, _UNARY),
    "scaled_modified_bessel_k0": (_scaled_modified_bessel_k0_scalar, _UNARY),
    "scaled_modified_bessel_k1": (_scaled_modified_bessel_k1_scalar, _UNARY),
    "spherical_bessel_j0": (_spherical_bessel_j0_scalar, _UNARY),
    "airy_ai": (_airy_ai_scalar, _UNARY),
    "orthopoly": (_orthopoly_scalar, "float64(int64, float64, float64)")}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    scalar, signature = _LAZY[name]
    ufunc = vectorize([signature], cache=True)(scalar)
    globals()[name] = ufunc
    return ufunc
