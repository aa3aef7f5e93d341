"""Complex log2 / log10 / log1p / expm1 / tan / sinh / cosh / asin / acos / atan / sigmoid and pow
with a complex exponent (tensor or number) or a number base: values against closed forms and
gradients against central differences (torch's convention z.grad = dL/dRe z + i dL/dIm z, i.e.
g * conj(f'(z)) for holomorphic f). Checked beside torch 2.13 in float64 (port script, not here)."""
import cmath

import numpy as np
import pytest

import tensorgan as tg
from complex_grad_helpers import numeric_grad, real_loss

Z = np.array([[0.3 + 0.4j, -0.5 + 1.2j], [1.1 - 0.7j, -0.8 - 0.3j]])
W = np.array([[0.7 - 0.2j, 1.1 + 0.3j], [-0.4 + 0.9j, 2.0 + 0.0j]])
WEIGHTS = np.random.default_rng(25).normal(size=Z.shape + (2,))

UNARY = {"log2": lambda z: cmath.log(z) / cmath.log(2), "log10": cmath.log10,
         "log1p": lambda z: cmath.log(1 + z), "expm1": lambda z: cmath.exp(z) - 1, "tan": cmath.tan,
         "sinh": cmath.sinh, "cosh": cmath.cosh, "asin": cmath.asin, "acos": cmath.acos,
         "atan": cmath.atan, "asinh": cmath.asinh, "acosh": cmath.acosh, "atanh": cmath.atanh,
         "sigmoid": lambda z: 1 / (1 + cmath.exp(-z))}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_complex_unary_values_and_gradients(name):
    z = tg.tensor(Z, requires_grad=True)
    out = getattr(z, name)()
    assert out.dtype == tg.complex128
    np.testing.assert_allclose(out.numpy(), np.vectorize(UNARY[name])(Z), rtol=1e-13, atol=1e-14)
    real_loss(out, WEIGHTS).backward()
    expected = numeric_grad(lambda t: real_loss(getattr(t, name)(), WEIGHTS), [Z], 0)
    np.testing.assert_allclose(z.grad.numpy(), expected, rtol=1e-6, atol=1e-7)
    assert out.grad_fn.name() == {"log1p": "Log1PBackward0"}.get(name, name.capitalize() + "Backward0")


@pytest.mark.parametrize("name", ["tan", "asin", "acosh", "log1p", "sigmoid"])
def test_complex_unary_double_backward(name):
    """A gradient of the gradient: the derivative of L(z) = Re(sum(c * conj(f'(z)) ... )) taken
    through create_graph matches central differences of the first gradient."""
    def first_grad(t):
        t = tg.tensor(t.numpy(), requires_grad=True)
        (g,) = tg.autograd.grad(real_loss(getattr(t, name)(), WEIGHTS), t, create_graph=True)
        return g, t
    g, t = first_grad(tg.tensor(Z))
    (gg,) = tg.autograd.grad(real_loss(g, WEIGHTS[::-1]), t)
    expected = numeric_grad(lambda s: real_loss(first_grad(s)[0], WEIGHTS[::-1]), [Z], 0)
    np.testing.assert_allclose(gg.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_complex_log1p_exact_for_small_z():
    z = np.array([1e-12 + 1e-13j, -1e-10 + 3e-11j])
    out = tg.tensor(z).log1p().numpy()
    np.testing.assert_allclose(out, z - z * z / 2, rtol=1e-15)     # log(1 + z) rounds these away


@pytest.mark.parametrize("form", ["z**w", "w**z", "2**z", "(-2)**z", "1j**z", "z**(0.5-1j)", "z**2j"])
def test_complex_pow_values_and_gradients(form):
    f = {"z**w": lambda z, w: z ** w, "w**z": lambda z, w: w ** z, "2**z": lambda z, w: 2 ** z,
         "(-2)**z": lambda z, w: (-2) ** z, "1j**z": lambda z, w: 1j ** z,
         "z**(0.5-1j)": lambda z, w: z ** (0.5 - 1j), "z**2j": lambda z, w: tg.pow(z, 2j) if isinstance(z, tg.Tensor) else z ** 2j}[form]
    z, w = tg.tensor(Z, requires_grad=True), tg.tensor(W, requires_grad=True)
    out = f(z, w)
    assert out.dtype == tg.complex128
    np.testing.assert_allclose(out.numpy(), f(Z.astype(complex), W.astype(complex)), rtol=1e-13)
    real_loss(out, WEIGHTS).backward()
    for i, t in enumerate((z, w)):
        if t.grad is not None:
            expected = numeric_grad(lambda a, b: real_loss(f(a, b), WEIGHTS), [Z, W], i)
            np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-6, atol=1e-7)
    assert z.grad is not None


def test_complex_pow_at_zero_base_and_zero_exponent():
    """torch's masks: no NaN gradient for 0 ** w with w real >= 0, nor for z ** 0."""
    z = tg.tensor(np.array([0j, 0j, 1 + 0j]), requires_grad=True)
    w = tg.tensor(np.array([2 + 0j, 0j, 0j]), requires_grad=True)
    tg.real(z ** w).sum().backward()
    assert np.array_equal(z.grad.numpy(), np.zeros(3)) and np.array_equal(w.grad.numpy(), np.zeros(3))


def test_real_tensor_to_a_complex_power():
    x = tg.tensor([0.3, 1.2], dtype=tg.float64, requires_grad=True)
    out = x ** (0.5 + 1j)
    assert out.dtype == tg.complex128 and (tg.tensor([1.0, 2.0]) ** 2j).dtype == tg.complex64
    assert (tg.tensor([1, 2]) ** 2j).dtype == tg.complex64 and (1j ** tg.tensor([1.0])).dtype == tg.complex64
    tg.real(out).sum().backward()
    xs = np.array([0.3, 1.2])
    np.testing.assert_allclose(x.grad.numpy(), ((0.5 + 1j) * xs ** (-0.5 + 1j)).real, rtol=1e-13)
    assert x.grad.dtype == tg.float64


def test_float_paths_unchanged():
    x = tg.tensor([0.2, 0.5], requires_grad=True)
    y = x.log2() + x.asin() + x.log1p() + x.sigmoid() + x ** tg.tensor([2.0, 3.0]) + 2 ** x
    assert y.dtype == tg.float32
    y.sum().backward()
    assert x.grad.dtype == tg.float32
