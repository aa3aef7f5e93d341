"""tg.fft (complex spectra since session 25; these tests read them through tg.view_as_real's
(..., 2) pairs, the layout tg.fft returned before) and tg.special: values against NumPy's np.fft and the formulas of torch's documentation,
gradients by gradcheck / gradgradcheck in float64, refusals."""
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import ConfigError, DTypeError, InputTypeError, ShapeError, TensorganError


def f64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype=tg.float64, requires_grad=requires_grad)


def pairs(z):
    """A complex array in torch.view_as_real's layout."""
    return np.stack([z.real, z.imag], axis=-1)


def complex_of(a):
    return a[..., 0] + 1j * a[..., 1]


NORMS = (None, "backward", "ortho", "forward")


class fftp:
    """tg.fft with spectra as (..., 2) real / imaginary pairs (view_as_real / view_as_complex)."""
    def __getattr__(self, name):
        fn = getattr(tg.fft, name)
        if name in ("rfft", "rfft2", "rfftn", "ihfft", "ihfft2", "ihfftn"):
            return lambda x, *a, **k: tg.view_as_real(fn(x, *a, **k))
        if name in ("irfft", "irfft2", "irfftn", "hfft", "hfft2", "hfftn"):
            return lambda X, *a, **k: fn(tg.view_as_complex(X) if X.shape[-1:] == (2,) and not X.is_complex() else X, *a, **k)
        return fn


fftp = fftp()


# ---------------------------------------------------------------------------------------------
# tg.fft
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n, dim", [(None, -1), (4, -1), (11, -1), (None, 0), (1, 0)])
def test_rfft_and_irfft_match_numpy_and_gradcheck(norm, n, dim):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 7))
    x = f64(a)
    np.testing.assert_allclose(fftp.rfft(x, n, dim, norm).numpy(),
                               pairs(np.fft.rfft(a, n, dim, norm or "backward")), atol=1e-12)
    assert tg.gradcheck(lambda v: fftp.rfft(v, n, dim, norm), [x])
    spectrum = rng.standard_normal((5, 7, 2))
    X = f64(spectrum)
    np.testing.assert_allclose(fftp.irfft(X, n, dim, norm).numpy(),
                               np.fft.irfft(complex_of(spectrum), n, dim, norm or "backward"), atol=1e-12)
    assert tg.gradcheck(lambda v: fftp.irfft(v, n, dim, norm), [X])


@pytest.mark.parametrize("norm", NORMS)
def test_rfft_backward_is_the_adjoint_with_hermitian_weights(norm):
    """<rfft(x), G> = <x, rfft's gradient of G>, and irfft(rfft(x)) = x."""
    rng = np.random.default_rng(1)
    for length in (6, 7):
        x = f64(rng.standard_normal(length))
        y = fftp.rfft(x, norm=norm)
        G = rng.standard_normal(y.shape)
        (y * tg.tensor(G)).sum().backward()
        assert np.isclose((y.numpy() * G).sum(), (x.numpy() * x.grad.numpy()).sum(), atol=1e-12)
        np.testing.assert_allclose(fftp.irfft(y, length, norm=norm).numpy(), x.numpy(), atol=1e-12)


@pytest.mark.parametrize("norm", (None, "ortho", "forward"))
@pytest.mark.parametrize("s, dim", [(None, None), ((5, 3), None), (None, (0, 2)), ((-1, 7), (2, 0))])
def test_rfftn_and_irfftn_match_numpy_and_gradcheck(norm, s, dim):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 4, 5))
    x = f64(a)
    dims = dim if dim is not None else tuple(range(3 - len(s), 3)) if s is not None else (0, 1, 2)
    sizes = None if s is None else [a.shape[d] if v == -1 else v for v, d in zip(s, dims)]
    np.testing.assert_allclose(fftp.rfftn(x, s, dim, norm).numpy(),
                               pairs(np.fft.rfftn(a, sizes, dims, norm or "backward")), atol=1e-12)
    assert tg.gradcheck(lambda v: fftp.rfftn(v, s, dim, norm), [x])
    spectrum = rng.standard_normal((3, 4, 5, 2))
    X = f64(spectrum)
    if s is not None:            # -1: the size as it is (2 (m - 1) for the halved dim)
        sizes = [v if v != -1 else spectrum.shape[d] if i < len(s) - 1 else 2 * (spectrum.shape[d] - 1)
                 for i, (v, d) in enumerate(zip(s, dims))]
    np.testing.assert_allclose(fftp.irfftn(X, s, dim, norm).numpy(),
                               np.fft.irfftn(complex_of(spectrum), sizes, dims, norm or "backward"), atol=1e-12)
    assert tg.gradcheck(lambda v: fftp.irfftn(v, s, dim, norm), [X])


def test_rfft2_irfft2_default_to_the_last_two_dims_and_have_second_derivatives():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 4, 6))
    x = f64(a)
    np.testing.assert_allclose(fftp.rfft2(x).numpy(), pairs(np.fft.rfft2(a)), atol=1e-12)
    X = fftp.rfft2(x)
    assert X.shape == (2, 4, 4, 2)
    np.testing.assert_allclose(fftp.irfft2(X, s=(4, 6)).numpy(), a, atol=1e-12)
    # a spectral loss: the power spectrum's log, differentiated twice
    assert tg.gradgradcheck(lambda v: (fftp.rfft2(v, norm="ortho").square().sum(-1) + 1.0).log().sum(), [x])
    assert tg.gradgradcheck(lambda v: fftp.irfft2(v).square().sum(), [f64(rng.standard_normal((3, 4, 2)))])


def test_hfft_and_ihfft_are_the_conjugate_transforms():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 6))
    x = f64(a)
    np.testing.assert_allclose(fftp.ihfft(x).numpy(), pairs(np.fft.ihfft(a)), atol=1e-12)
    spectrum = rng.standard_normal((3, 4, 2))
    np.testing.assert_allclose(fftp.hfft(f64(spectrum), 7, norm="ortho").numpy(),
                               np.fft.hfft(complex_of(spectrum), 7, norm="ortho"), atol=1e-12)
    np.testing.assert_allclose(fftp.ihfftn(x).numpy(), pairs(np.conj(np.fft.rfftn(a)) / a.size), atol=1e-12)
    np.testing.assert_allclose(fftp.hfft2(fftp.ihfft2(x), s=(3, 6)).numpy(), a, atol=1e-12)
    assert tg.gradcheck(lambda v: fftp.ihfft(v, norm="forward"), [x])
    assert tg.gradcheck(lambda v: fftp.hfftn(v), [f64(spectrum)])


def test_fft_dtypes_integers_and_float32():
    y = fftp.rfft(tg.arange(4))
    assert y.dtype == tg.float32 and y.shape == (3, 2)
    np.testing.assert_allclose(y.numpy(), pairs(np.fft.rfft(np.arange(4.0))), atol=1e-6)
    assert fftp.irfft(fftp.rfft(tg.ones(2, 8))).dtype == tg.float32
    with pytest.raises(DTypeError, match="float16"):
        fftp.rfft(tg.ones(4).half())


def test_fft_refusals_name_the_problem():
    x = tg.ones(3, 4)
    for name in ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn"):   # (complex since session 25)
        assert getattr(tg.fft, name)(x).dtype == tg.complex64
    assert tg.fft.irfft(x).shape == (3, 6)            # a real spectrum: zero imaginary parts (torch)
    with pytest.raises(DTypeError, match="expects a real input"):
        tg.fft.rfft(tg.fft.fft(x))
    with pytest.raises(ShapeError, match="data points \\(0\\)"):
        tg.fft.rfft(x, n=0)
    with pytest.raises(ShapeError, match="data points \\(0\\)"):
        tg.fft.irfft(tg.ones(3, 1))              # default n = 2 (m - 1) = 0
    with pytest.raises(ShapeError, match="0-d"):
        tg.fft.rfft(tg.tensor(1.0))
    with pytest.raises(ShapeError, match="twice"):
        tg.fft.rfftn(x, dim=(0, 0))
    with pytest.raises(ShapeError, match="same length"):
        tg.fft.rfftn(x, s=(5,), dim=(0, 1))
    with pytest.raises(ShapeError, match="at least one dim"):
        tg.fft.rfftn(x, dim=())
    with pytest.raises(ShapeError, match="out of range"):
        tg.fft.rfft(x, dim=2)
    with pytest.raises(ConfigError, match="'bad'"):
        tg.fft.rfft(x, norm="bad")
    with pytest.raises(InputTypeError, match="ndarray"):
        tg.fft.rfft(np.ones(4))


def test_fftfreq_rfftfreq_and_shifts():
    assert tg.fft.fftfreq(0).shape == (0,) and tg.fft.rfftfreq(0).shape == (0,)
    for n in (1, 5, 6):
        np.testing.assert_allclose(tg.fft.fftfreq(n, 0.3, dtype=tg.float64).numpy(), np.fft.fftfreq(n, 0.3))
        np.testing.assert_allclose(tg.fft.rfftfreq(n, 0.3, dtype=tg.float64).numpy(), np.fft.rfftfreq(n, 0.3))
    assert tg.fft.fftfreq(4).dtype == tg.float32
    a = np.arange(30.0).reshape(5, 6)
    for dim in (None, 0, (1,), -1):
        axes = dim if not isinstance(dim, int) else (dim,)
        np.testing.assert_array_equal(tg.fft.fftshift(f64(a), dim).numpy(), np.fft.fftshift(a, axes))
        np.testing.assert_array_equal(tg.fft.ifftshift(f64(a), dim).numpy(), np.fft.ifftshift(a, axes))
    assert tg.gradcheck(lambda v: tg.fft.fftshift(v) * v, [f64(a)])
    with pytest.raises(InputTypeError, match="n must be"):
        tg.fft.fftfreq(-1)


# ---------------------------------------------------------------------------------------------
# tg.special
# ---------------------------------------------------------------------------------------------
def _erfc(x):
    return np.array([math.erfc(v) for v in np.ravel(x)]).reshape(np.shape(x))


def _series_i(nu, x, terms=80):
    """I_nu(x) by its power series sum (x/2)^(2k+nu) / (k! (k+nu)!)."""
    return sum((x / 2) ** (2 * k + nu) / (math.factorial(k) * math.factorial(k + nu)) for k in range(terms))


X = np.array([-6.5, -3.0, -1.2, -0.4, 0.0, 0.3, 1.0, 2.5, 7.0])
UNIT = np.array([1e-6, 0.02, 0.3, 0.5, 0.77, 0.999])


@pytest.mark.parametrize("name, x, expected", [
    ("ndtr", X, lambda x: 0.5 * _erfc(-x / math.sqrt(2))),
    ("log_ndtr", X, lambda x: np.log(0.5 * _erfc(-x / math.sqrt(2)))),
    ("erfcx", X[2:], lambda x: np.exp(x * x) * _erfc(x)),
    ("i1", X, lambda x: _series_i(1, x)),
    ("i0e", X, lambda x: np.exp(-np.abs(x)) * _series_i(0, x)),
    ("i1e", X, lambda x: np.exp(-np.abs(x)) * _series_i(1, x)),
    ("entr", np.abs(X) + 0.1, lambda x: -x * np.log(x)),
    ("expit", X, lambda x: 1 / (1 + np.exp(-x))),
    ("gammaln", np.abs(X) + 0.1, lambda x: np.array([math.lgamma(v) for v in x])),
    ("erfc", X, _erfc),
    ("exp2", X, np.exp2),
    ("sinc", X, np.sinc),
])
def test_special_unary_values_and_gradients(name, x, expected):
    fn = getattr(tg.special, name)
    np.testing.assert_allclose(fn(f64(x, False)).numpy(), expected(x), rtol=1e-13, atol=1e-15)
    assert tg.gradcheck(fn, [f64(x)])
    assert tg.gradgradcheck(fn, [f64(x[x != 0])])     # (i0e's second derivative jumps at 0; sinc's is 0 there, as torch's)


def test_ndtri_inverts_ndtr_to_the_far_tails():
    p = np.concatenate([UNIT, [1e-300, 1e-100, 0.5 - 1e-12]])
    z = tg.special.ndtri(f64(p, False)).numpy()
    np.testing.assert_allclose(tg.special.ndtr(f64(z[:-3], False)).numpy(), p[:-3], rtol=1e-13)
    np.testing.assert_allclose(tg.special.log_ndtr(f64(z, False)).numpy(), np.log(p), rtol=1e-14)
    assert np.array_equal(tg.special.ndtri(f64([0.0, 0.5, 1.0], False)).numpy(), [-np.inf, 0.0, np.inf])
    assert np.isnan(tg.special.ndtri(f64([-0.1, 1.5], False)).numpy()).all()
    assert tg.gradcheck(tg.special.ndtri, [f64(UNIT[1:])])
    assert tg.gradgradcheck(tg.special.ndtri, [f64(UNIT[1:-1])])


def test_log_ndtr_is_finite_far_in_the_left_tail():
    x = np.array([-1e4, -300.0, -40.0])
    # Mills' ratio: log Phi(x) = -x^2/2 - log(-x sqrt(2 pi)) + log(1 - 1/x^2 + 3/x^4 - ...)
    mills = -x * x / 2 - np.log(-x * math.sqrt(2 * math.pi)) + np.log1p(
        -1 / x ** 2 + 3 / x ** 4 - 15 / x ** 6 + 105 / x ** 8 - 945 / x ** 10)
    np.testing.assert_allclose(tg.special.log_ndtr(f64(x, False)).numpy(), mills, rtol=1e-14)
    x = f64(x)
    tg.special.log_ndtr(x).sum().backward()          # pdf / cdf ~ -x
    np.testing.assert_allclose(x.grad.numpy(), 
                               -x.numpy() * (1 + 1 / x.numpy() ** 2 - 2 / x.numpy() ** 4 + 10 / x.numpy() ** 6),
                               rtol=1e-10)
    assert tg.special.erfcx(f64([-np.inf, np.inf, 1e300], False)).numpy().tolist() == [np.inf, 0.0, 1 / (1e300 * math.sqrt(math.pi))]


def test_entr_and_xlog1py_edges_as_torch():
    x = f64([-1.0, 0.0, np.inf, np.nan], False)
    y = tg.special.entr(x).numpy()
    assert y[0] == -np.inf and y[1] == 0.0 and y[2] == -np.inf and np.isnan(y[3])
    out = tg.special.xlog1py(f64([0.0, 0.0, 1.0], False), f64([-1.0, np.nan, 0.5], False)).numpy()
    assert out[0] == 0.0 and np.isnan(out[1]) and out[2] == np.log1p(0.5)
    a, b = f64([0.0, 0.7, -1.3, 2.0]), f64([0.4, -0.5, 3.0, 1e-9])
    np.testing.assert_allclose(tg.special.xlog1py(a, b).numpy(), a.numpy() * np.log1p(b.numpy()), rtol=1e-15)
    assert tg.gradcheck(tg.special.xlog1py, [a, b]) and tg.gradgradcheck(tg.special.xlog1py, [a, b])
    zero, minus_one = f64([0.0]), f64([-1.0], False)
    tg.special.xlog1py(zero, minus_one).sum().backward()
    assert zero.grad.tolist() == [0.0]               # torch: 0, not log1p(-1) = -inf
    np.testing.assert_allclose(tg.special.xlog1py(2.0, f64([1.0], False)).numpy(), [2 * np.log(2)])
    np.testing.assert_allclose(tg.special.xlogy(f64([3.0], False), 2).numpy(), [3 * np.log(2)])


def test_zeta_values_domain_and_gradient_in_q_only():
    x, q = np.array([2.0, 3.0, 2.5, 4.0]), np.array([1.0, 2.0, 0.7, 5.5])
    expected = [sum((k + qi) ** -xi for k in range(200000)) + (qi + 200000) ** (1 - xi) / (xi - 1)
                for xi, qi in zip(x, q)]
    np.testing.assert_allclose(tg.special.zeta(f64(x, False), f64(q, False)).numpy(), expected, rtol=1e-9)
    assert math.isclose(tg.special.zeta(2.0, f64([1.0], False)).item(), math.pi ** 2 / 6, rel_tol=1e-15)
    edge = tg.special.zeta(f64([1.0, 0.5, 2.0, 2.5, 3.0], False), f64([1.0, 1.0, -1.0, -1.5, -1.5], False)).numpy()
    assert edge[0] == np.inf and np.isnan(edge[1]) and edge[2] == np.inf and np.isnan(edge[3])
    assert math.isclose(edge[4], sum((k - 1.5) ** -3 for k in range(200000)), rel_tol=1e-9)
    assert tg.gradcheck(lambda v: tg.special.zeta(f64(x, False), v), [f64(q)])
    assert tg.gradgradcheck(lambda v: tg.special.zeta(f64(x, False), v), [f64(q)])
    with pytest.raises(TensorganError, match="exponent"):
        tg.special.zeta(f64(x), f64(q, False)).sum().backward()


def test_special_aliases_are_the_engine_ops():
    rng = np.random.default_rng(5)
    a = rng.uniform(0.2, 3.0, (3, 4))
    x = f64(a, False)
    same = [("gammaln", "lgamma"), ("psi", "digamma"), ("digamma", "digamma"), ("expit", "sigmoid"),
            ("erf", "erf"), ("erfinv", "erf"), ("expm1", "expm1"), ("log1p", "log1p"), ("i0", "i0")]
    for special_name, method in same:
        if special_name == "erfinv":
            np.testing.assert_allclose(tg.special.erfinv(x.erf()).numpy(), a, rtol=1e-12)
            continue
        np.testing.assert_array_equal(getattr(tg.special, special_name)(x).numpy(), getattr(x, method)().numpy())
    np.testing.assert_array_equal(tg.special.multigammaln(x + 1, 2).numpy(), (x + 1).mvlgamma(2).numpy())
    np.testing.assert_array_equal(tg.special.polygamma(2, x).numpy(), x.polygamma(2).numpy())
    np.testing.assert_array_equal(tg.special.logit(x / 4, eps=0.1).numpy(), (x / 4).logit(0.1).numpy())
    np.testing.assert_allclose(tg.special.logsumexp(x, 1).numpy(), np.log(np.exp(a).sum(1)), rtol=1e-14)
    np.testing.assert_allclose(tg.special.softmax(x, 0).numpy(), np.exp(a) / np.exp(a).sum(0), rtol=1e-14)
    np.testing.assert_allclose(tg.special.log_softmax(x, -1, dtype=tg.float32).numpy(),
                               a - np.log(np.exp(a).sum(-1, keepdims=True)), rtol=1e-6)
    np.testing.assert_array_equal(tg.special.round(f64([1.2345, -2.675, 1250.0], False), decimals=2).numpy(),
                                  np.round([1.2345, -2.675, 1250.0], 2))
    np.testing.assert_array_equal(tg.special.round(f64([1250.0, 1351.0], False), decimals=-2).numpy(), [1200.0, 1400.0])
    assert tg.special.ndtr(tg.tensor([0, 1])).dtype == tg.float32          # integers: float32, as torch


def test_special_refusals_name_the_argument():
    with pytest.raises(InputTypeError, match="special.ndtri: input must be a Tensor"):
        tg.special.ndtri(0.3)
    with pytest.raises(InputTypeError, match="special.gammaln: input must be a Tensor"):
        tg.special.gammaln([1.0])
    with pytest.raises(InputTypeError, match="input or other must be a Tensor"):
        tg.special.xlog1py(1.0, 2.0)
    with pytest.raises(InputTypeError, match="other must be a real number"):
        tg.special.zeta(tg.ones(2), "q")
    with pytest.raises(ShapeError, match="broadcast"):
        tg.special.xlog1py(tg.ones(2), tg.ones(3))
    with pytest.raises(InputTypeError, match="decimals"):
        tg.special.round(tg.ones(2), decimals=1.5)
