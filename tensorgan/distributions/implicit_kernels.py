"""Implicit reparameterisation gradients (Figurnov et al. 2018; Jankowiak & Obermeyer 2018) of
Gamma and Beta draws: for x = F^-1(u; alpha) at fixed u, dx/dalpha = -(dF/dalpha) / (dF/dx).

torch computes these with fitted approximations (``standard_gamma_grad_one`` and
``dirichlet_grad_one`` in aten/src/ATen/native/Distributions.h, BSD licence: Taylor series near 0,
Rice saddle-point expansions for large parameters, rational fits elsewhere; relative error up to
about 1e-3). Here the same quantities are computed to float64 accuracy instead, by differentiating
the convergent expansions of the incomplete gamma / beta functions term by term in alpha (all
ratios to the density, so nothing over- or underflows):

* Gamma, x < alpha + 1: P(a, x) = x^a e^-x sum_n x^n / Gamma(a + n + 1), all terms positive, so
  dx/da = -(x / a) sum_n t_n (log x - psi(a + n + 1)), t_n = x^n / ((a + 1) ... (a + n)).
* Gamma, x >= alpha + 1: Q(a, x) = x^a e^-x / Gamma(a) CF(a, x) (Legendre's continued fraction,
  evaluated by its three-term recurrences together with their derivatives in a), so
  dx/da = x (CF (log x - psi(a)) + dCF/da).
* Beta(a, b) (torch's ``_dirichlet_grad``: -(dI_x(a, b)/da at fixed b) / pdf / (1 - x)):
  I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) 2F1(a + b, 1; a + 1; x) for x < (a + 1) / (a + b + 2),
  else 1 - I_{1-x}(b, a) with the same series in 1 - x; both have positive terms.

Each sum needs O(sqrt(alpha)) terms where x is near the mode (about 900 at alpha = 1e4); from
alpha = 1e7 on, for x within 10% of alpha, torch's own central saddle-point polynomial is used
instead (its relative error falls as alpha^-3/2: about 1e-10 there)."""
from __future__ import annotations

import math

from numba import vectorize, njit

from ..special_kernels import _digamma

_EPS = 1e-17
_MAXITER = 1_000_000
_HUGE_ALPHA = 1e7


@njit(cache=True)
def _gamma_dx_dalpha(a: float, x: float) -> float:
    if not (a > 0.0) or not (x > 0.0) or math.isinf(a):
        return 0.0 if x == 0.0 else math.nan
    if math.isinf(x):
        return math.inf
    if a >= _HUGE_ALPHA and 0.9 * a <= x <= 1.1 * a:
        # torch's Rice saddle-point expansion about x = alpha (standard_gamma_grad_one's branch
        # for 0.9 alpha <= x <= 1.1 alpha), written as one polynomial ratio.
        num1 = 1.0 + 24.0 * a * (1.0 + 12.0 * a)
        num2 = 1440.0 * a * a + 6.0 * x * (53.0 - 120.0 * x) - 65.0 * x * x / a + a * (107.0 + 3600.0 * x)
        return num1 * num2 / (1244160.0 * a * a * a * a)
    lx = math.log(x)
    if x < a + 1.0:
        psi = _digamma(a + 1.0)
        t, s = 1.0, lx - psi
        n = 0
        while n < _MAXITER:
            n += 1
            t *= x / (a + n)
            psi += 1.0 / (a + n)
            s += t * (lx - psi)
            if t * (abs(lx - psi) + 1.0) <= _EPS * abs(s):
                break
        return -(x / a) * s
    # Legendre's continued fraction 1 / (b1 + a2 / (b2 + a3 / ...)), b_k = x + 2k - 1 - a,
    # a_k = -(k - 1)(k - 1 - a); A_k = b_k A_{k-1} + a_k A_{k-2} (B_k the same), and their
    # derivatives in a (db_k = -1, da_k = k - 1), renormalised by B_k every step.
    a_prev, a_cur = 1.0, 0.0          # A_{-1}, A_0
    b_prev, b_cur = 0.0, 1.0          # B_{-1}, B_0
    da_prev, da_cur, db_prev, db_cur = 0.0, 0.0, 0.0, 0.0
    f, df = 0.0, 0.0
    k = 0
    while k < _MAXITER:
        k += 1
        bk = x + 2.0 * k - 1.0 - a
        if k == 1:
            ak, dak = 1.0, 0.0
        else:
            ak, dak = -(k - 1.0) * (k - 1.0 - a), k - 1.0
        a_new = bk * a_cur + ak * a_prev
        b_new = bk * b_cur + ak * b_prev
        da_new = -a_cur + bk * da_cur + dak * a_prev + ak * da_prev
        db_new = -b_cur + bk * db_cur + dak * b_prev + ak * db_prev
        scale = 1.0 / b_new
        a_prev, a_cur = a_cur * scale, a_new * scale
        b_prev, b_cur = b_cur * scale, 1.0
        da_prev, da_cur = da_cur * scale, da_new * scale
        db_prev, db_cur = db_cur * scale, db_new * scale
        f_new, df_new = a_cur, da_cur - a_cur * db_cur
        if k > 1 and abs(f_new - f) <= _EPS * abs(f_new) and abs(df_new - df) <= _EPS * (abs(df_new) + abs(f_new)):
            f, df = f_new, df_new
            break
        f, df = f_new, df_new
    return x * (f * (lx - _digamma(a)) + df)


@njit(cache=True)
def _beta_dx_dalpha(x: float, a: float, total: float) -> float:
    """-(dI_x(a, b)/da at fixed b) / pdf(x) / (1 - x), b = total - a (torch's scaling)."""
    b = total - a
    if not (a > 0.0) or not (b > 0.0) or math.isnan(x):
        return math.nan
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 0.0
    lx = math.log(x)
    if x < (a + 1.0) / (total + 2.0):
        # -(x / a) sum_n r_n (log x + psi(a + b + n) - psi(a + 1 + n)), r_n = (a+b)_n / (a+1)_n x^n
        dpsi = _digamma(total) - _digamma(a + 1.0)
        r, s = 1.0, lx + dpsi
        n = 0
        while n < _MAXITER:
            r *= x * (total + n) / (a + 1.0 + n)
            dpsi += 1.0 / (total + n) - 1.0 / (a + 1.0 + n)
            n += 1
            s += r * (lx + dpsi)
            if r * (abs(lx + dpsi) + 1.0) <= _EPS * abs(s):
                break
        return -(x / a) * s
    # (x / b) sum_n s_n (log x - psi(a) + psi(a + b + n)), s_n = (a+b)_n / (b+1)_n (1 - x)^n
    y = 1.0 - x
    c = lx - _digamma(a) + _digamma(total)
    r, s = 1.0, c
    n = 0
    while n < _MAXITER:
        r *= y * (total + n) / (b + 1.0 + n)
        c += 1.0 / (total + n)
        n += 1
        s += r * c
        if r * (abs(c) + 1.0) <= _EPS * abs(s):
            break
    return (x / b) * s


@vectorize(["float64(float64, float64)"], cache=True)
def standard_gamma_grad(alpha, x):
    """dx/dalpha of a Gamma(alpha, 1) draw x (torch's ``_standard_gamma_grad(x, alpha)``)."""
    return _gamma_dx_dalpha(alpha, x)


@vectorize(["float64(float64, float64, float64)"], cache=True)
def dirichlet_grad(x, alpha, total):
    """torch's ``_dirichlet_grad(x, alpha, total)``, to float64 accuracy."""
    return _beta_dx_dalpha(x, alpha, total)
