"""tg.gradcheck / gradgradcheck on complex128 inputs and complex outputs (torch's convention:
autograd.grad(out, z, v) == dL/dRe z + 1j dL/dIm z for L = sum(Re(conj(v) out))), run over every
complex Function of complex_ops (points off branch cuts and zeros), the real <-> complex boundary
ops, custom Functions with complex tensors and the conjugate transposes mH / H / adjoint."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeError

RNG = np.random.default_rng(27)
# off the real and imaginary axes (the cuts of log / sqrt / acos / atanh / ... lie on them)
SMALL = np.array([0.31 + 0.22j, -0.27 + 0.35j, -0.18 - 0.41j, 0.44 - 0.16j])
RIGHT = np.array([0.8 + 0.4j, 1.3 - 0.6j, 0.6 + 0.9j, 1.1 - 0.3j])    # Re > 0: log, sqrt, pow
LEFT = -RIGHT


def leaf(a):
    return tg.tensor(np.asarray(a), requires_grad=True)


def check(fn, *arrays, second=True):
    xs = [leaf(a) for a in arrays]
    assert tg.gradcheck(fn, xs)
    if second:
        assert tg.gradgradcheck(fn, xs)


def complex_randn(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


# --------------------------------------------------------------------------------------------
# gradcheck itself
# --------------------------------------------------------------------------------------------
def test_convention_identity_and_conjugate():
    # out = z: the gradient is v itself; out = conj z: conj v (the conjugate Wirtinger convention)
    z = leaf(SMALL)
    v = tg.tensor(complex_randn(4))
    assert np.allclose(tg.autograd.grad(z * 1.0, z, v)[0].numpy(), v.numpy())
    assert np.allclose(tg.autograd.grad(z.conj(), z, v)[0].numpy(), v.numpy().conj())
    check(lambda t: t * 1.0, SMALL)
    check(lambda t: t.conj() * t, SMALL)


class _SquareMissingConj(tg.autograd.Function):
    """z * z with the holomorphic derivative, not its conjugate: a wrong complex gradient."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z * z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * 2 * z


class _Square(_SquareMissingConj):
    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * (2 * z).conj()


def test_custom_function_on_complex_is_tracked_and_checked():
    z = leaf(SMALL)
    out = _Square.apply(z)
    assert out.requires_grad and out.dtype == tg.complex128
    assert tg.gradcheck(_Square.apply, [z])
    with pytest.raises(tg.GradcheckError, match=r"input 0 \(shape \(4,\)\) at index \(0,\): "
                                                r"analytic \(.*j\) vs numeric \(.*j\)"):
        tg.gradcheck(_SquareMissingConj.apply, [z])
    assert not tg.gradcheck(_SquareMissingConj.apply, [z], raise_exception=False)


class _RealToComplexWrongDtype(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * (1 + 1j)

    @staticmethod
    def backward(ctx, g):
        return g * (1 - 1j)          # complex gradient for a real input (torch refuses it)


class _RealGradForComplex(tg.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        return z.real * 2.0

    @staticmethod
    def backward(ctx, g):
        return g * 2.0               # a real gradient for a complex input: cast (as torch)


def test_custom_function_gradient_dtypes():
    x = leaf([0.5, 1.5])
    with pytest.raises(DTypeError, match="gradient 0 is complex128, its input float64"):
        tg.autograd.grad(_RealToComplexWrongDtype.apply(x), x, tg.ones(2, dtype=tg.complex128))
    z = leaf(SMALL)
    g = tg.autograd.grad(_RealGradForComplex.apply(z), z, tg.ones(4, dtype=tg.float64))[0]
    assert g.dtype == tg.complex128 and np.allclose(g.numpy(), 2.0)
    assert tg.gradcheck(_RealGradForComplex.apply, [z])


def test_wrong_real_input_gradient_caught():
    # d/dx of Re(conj(v) * x * w) for real x: Re(conj(v) w), not conj(w) v's imaginary part
    class Wrong(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(w)
            return x * w

        @staticmethod
        def backward(ctx, g):
            (w,) = ctx.saved_tensors
            return (g * w.conj()).imag, None

    w = tg.tensor(SMALL)
    with pytest.raises(tg.GradcheckError, match="input 0"):
        tg.gradcheck(lambda x: Wrong.apply(x, w), [leaf([0.3, -0.2, 0.9, 1.1])])


def test_dtypes_refused_and_tuple_outputs():
    with pytest.raises(DTypeError, match="float64 or complex128 inputs, got complex64"):
        tg.gradcheck(lambda z: z * z, [tg.tensor(SMALL.astype(np.complex64), requires_grad=True)])
    # a tuple with a complex and a real output: both are checked
    assert tg.gradcheck(lambda z: (z.exp(), z.abs()), [leaf(SMALL)])
    assert tg.gradgradcheck(lambda z: (z.exp(), z.abs()), [leaf(SMALL)])


def test_noncontiguous_complex_input():
    z = tg.tensor(complex_randn(3, 2) * 0.5).t().requires_grad_()
    check(lambda t: (t * t).exp(), z.numpy())
    assert tg.gradcheck(lambda t: t.sin(), [z])


def test_grad_outputs_complex_in_gradgradcheck():
    z = leaf(RIGHT)
    u = tg.tensor(complex_randn(4), requires_grad=True)
    assert tg.gradgradcheck(lambda t: t.log() * t, [z], grad_outputs=u)


# --------------------------------------------------------------------------------------------
# Every complex Function (the class is asserted, so a rerouting cannot leave it unchecked)
# --------------------------------------------------------------------------------------------
UNARY = [("angle", "Angle", SMALL), ("abs", "ComplexAbs", SMALL), ("sgn", "Sgn", SMALL),
         ("acos", "ComplexAcos", SMALL), ("acosh", "ComplexAcosh", SMALL),
         ("asin", "ComplexAsin", SMALL), ("asinh", "ComplexAsinh", SMALL),
         ("atan", "ComplexAtan", SMALL), ("atanh", "ComplexAtanh", SMALL),
         ("cos", "ComplexCos", SMALL), ("cosh", "ComplexCosh", SMALL),
         ("exp", "ComplexExp", SMALL), ("expm1", "ComplexExpm1", SMALL),
         ("sin", "ComplexSin", SMALL), ("sinh", "ComplexSinh", SMALL),
         ("tan", "ComplexTan", SMALL), ("tanh", "ComplexTanh", SMALL),
         ("sigmoid", "ComplexSigmoid", SMALL),
         ("log", "ComplexLog", RIGHT), ("log10", "ComplexLog10", RIGHT),
         ("log2", "ComplexLog2", RIGHT), ("log1p", "ComplexLog1p", RIGHT),
         ("log1p", "ComplexLog1p", SMALL * 0.5),      # its |z| < 0.5 branch
         ("sqrt", "ComplexSqrt", RIGHT), ("acosh", "ComplexAcosh", LEFT)]


@pytest.mark.parametrize("method, cls, points", UNARY, ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(UNARY)])
def test_unary(method, cls, points):
    assert type(getattr(leaf(points), method)().grad_fn).__name__ == cls
    check(lambda z: getattr(z, method)(), points)


def test_holomorphic_gradient_is_conjugate_derivative():
    # g * conj(f'(z)) for f = log, checked against the closed form too (not only differences)
    z = leaf(RIGHT)
    v = tg.tensor(complex_randn(4))
    g = tg.autograd.grad(z.log(), z, v)[0].numpy()
    assert np.allclose(g, v.numpy() * np.conj(1 / RIGHT))


def test_pow_by_numbers():
    for p in (2, 2.5, -1, 0.5 + 0.7j, 3j):
        assert type((leaf(RIGHT) ** p).grad_fn).__name__ == "ComplexPow"
        check(lambda z, p=p: z ** p, RIGHT)
    z = leaf(RIGHT)
    assert np.allclose(tg.autograd.grad((z ** 0).real.sum(), z, allow_unused=True)[0].numpy(), 0)


def test_pow_tensor_exponent():
    w = complex_randn(4) * 0.5
    assert type((leaf(RIGHT) ** leaf(w)).grad_fn).__name__ == "ComplexPowTensor"
    check(lambda z, e: z ** e, RIGHT, w)
    check(lambda z, e: z ** e, RIGHT, [0.5, 1.5, -0.7, 2.0])         # real exponent tensor
    check(lambda x, e: x ** e, [0.5, 1.5, 0.7, 2.0], w)              # real base tensor


def test_matmul_bmm_einsum():
    a, b = complex_randn(2, 3) * 0.5, complex_randn(3, 2) * 0.5
    assert type((leaf(a) @ leaf(b)).grad_fn).__name__ == "ComplexMatMul"
    check(lambda x, y: x @ y, a, b)
    check(lambda x, y: x @ y, a, complex_randn(3))
    ba, bb = complex_randn(2, 2, 3), complex_randn(2, 3, 2)
    assert type(tg.bmm(leaf(ba), leaf(bb)).grad_fn).__name__ == "ComplexBmm"
    check(tg.bmm, ba, bb)
    assert type(tg.einsum("ij,jk->ik", leaf(a), leaf(b)).grad_fn).__name__ == "ComplexEinsum"
    check(lambda x, y: tg.einsum("ij,jk->ik", x, y), a, b)
    check(lambda x, y, z: tg.einsum("i,ij,j->", x, y, z), complex_randn(2), complex_randn(2, 3),
          complex_randn(3))


def test_prod_cumprod():
    z = complex_randn(2, 3) * 0.7
    assert type(leaf(z).prod(1).grad_fn).__name__ == "ComplexProd"
    assert leaf(z).prod(1).grad_fn.name() == "ProdBackward1"
    assert type(leaf(z).cumprod(1).grad_fn).__name__ == "ComplexCumprod"
    assert leaf(z).cumprod(1).grad_fn.name() == "CumprodBackward0"
    check(lambda t: t.prod(1), z)
    check(lambda t: t.prod(), z)
    check(lambda t: t.cumprod(1), z)
    check(lambda t: t.cumprod(0), z)
    with_zero = np.array([0.5 + 0.5j, 0.0, -0.3 + 0.8j])     # exact with a zero factor
    check(lambda t: t.prod(), with_zero)
    check(lambda t: t.cumprod(0), with_zero)


def test_mul_div_mixed_real():
    check(lambda a, b: a * b, SMALL, RIGHT)
    check(lambda a, b: a / b, SMALL, RIGHT)
    check(lambda x, b: x * b, [0.3, -0.2, 0.9, 1.1], RIGHT)        # real * complex (a cast)
    check(lambda x, b: b / x, [0.3, -0.2, 0.9, 1.1], RIGHT)


# --------------------------------------------------------------------------------------------
# The real <-> complex boundary
# --------------------------------------------------------------------------------------------
def test_drop_imaginary():
    z = leaf(SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert type(z.to(tg.float64).grad_fn).__name__ == "DropImaginary"

        def fn(t):
            return t.to(tg.float64) * t.abs()
        check(fn, SMALL)


def test_polar_complex_view_as():
    r, th = [0.5, 1.2, 0.8], [0.3, -2.0, 2.9]
    assert type(tg.polar(leaf(r), leaf(th)).grad_fn).__name__ == "Polar"
    check(tg.polar, r, th)
    check(lambda a, b: tg.complex(a, b) ** 2, r, th)
    check(lambda t: tg.view_as_real(t * t), SMALL)
    check(lambda x: tg.view_as_complex(x * x) ** 2, RNG.standard_normal((3, 2)))
    check(lambda x: x.to(tg.complex128) * (1 + 2j), [0.5, -1.0])
    check(lambda t: (t * t).real * (t * t).imag, SMALL)


def test_abs_feeding_real_loss():
    # a real scalar loss of complex parameters, the way a spectral loss uses them
    check(lambda t: ((t * t).abs() ** 2).sum() + t.angle().sum(), SMALL)
    z = leaf(SMALL)
    g = tg.autograd.grad((z.abs() ** 2).sum(), z)[0].numpy()
    assert np.allclose(g, 2 * SMALL)          # d|z|^2 = 2 z in torch's convention


def test_fft_var_norm():
    check(lambda t: tg.fft.fft(t * t), SMALL)
    check(lambda x: tg.fft.rfft(x * x), [0.5, 1.2, -0.3, 0.9])
    check(lambda t: tg.fft.irfft(t, n=6), SMALL)
    check(lambda t: t.var(), SMALL)
    check(lambda t: tg.linalg.vector_norm(t, ord=3), SMALL)


# --------------------------------------------------------------------------------------------
# Conjugate transposes (were plain transposes for complex tensors)
# --------------------------------------------------------------------------------------------
def test_conjugate_transposes():
    a = complex_randn(2, 3)
    t = tg.tensor(a)
    assert np.array_equal(t.mH.numpy(), a.T.conj())
    assert np.array_equal(t.H.numpy(), a.T.conj())
    assert np.array_equal(t.adjoint().numpy(), a.T.conj())
    assert np.array_equal(tg.adjoint(t).numpy(), a.T.conj())
    assert np.array_equal(t.mT.numpy(), a.T)
    assert tg.tensor(1 + 2j).H.item() == 1 - 2j
    batch = complex_randn(2, 2, 3)
    assert np.array_equal(tg.tensor(batch).mH.numpy(), batch.transpose(0, 2, 1).conj())
    real = tg.ones(2, 3)
    assert real.mH.shape == (3, 2) and np.shares_memory(real.mH.numpy(), real.numpy())
    check(lambda m: m.mH @ m, a)


def test_prod_node_names_are_torchs_for_both_forms():
    """x.prod() is one ProdBackward0 node (was ViewBackward0 over the product), x.prod(dim)
    ProdBackward1, as torch names them; real and complex alike; keepdim keeps the 1s."""
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.5]], dtype="float64", requires_grad=True)
    assert x.prod().grad_fn.name() == "ProdBackward0"
    assert x.prod(1).grad_fn.name() == "ProdBackward1"
    assert (x * 1j).prod().grad_fn.name() == "ProdBackward0"
    assert (x * 1j).prod(0).grad_fn.name() == "ProdBackward1"
    kept = x.prod(keepdim=True)
    assert kept.shape == (1, 1) and kept.item() == 60.0
    assert tg.gradcheck(lambda t: t.prod(keepdim=True), [x])
