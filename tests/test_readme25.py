"""Checks from session 25's README read-through (helper h25u)."""
import numpy as np
import pytest

import tensorgan as tg


@pytest.mark.parametrize("base", [np.array([1 + 2j, 3 - 1j]), np.array([1.0, 2.0])])
def test_pow_by_a_complex_number_is_computed(base):
    # torch 2.13 computes z ** 2j (and x ** 2j of a real x, complex); it used to be refused here
    t = tg.tensor(base)
    for f, p in ((lambda: t ** 2j, 2j), (lambda: t.pow(1j), 1j), (lambda: tg.pow(t, np.complex128(1j)), 1j)):
        out = f()
        assert out.dtype == tg.complex128
        np.testing.assert_allclose(out.numpy(), base.astype(complex) ** p, rtol=1e-13)


def test_complex_pow_by_a_real_number_still_works():
    z = tg.tensor(np.array([1 + 2j, 3 - 1j]), requires_grad=True)
    out = z ** 2
    np.testing.assert_allclose(out.detach().numpy(), np.array([1 + 2j, 3 - 1j]) ** 2)
    (out.abs() ** 2).sum().backward()      # |z^2|^2 = |z|^4: torch's gradient 4 |z|^2 z
    zz = np.array([1 + 2j, 3 - 1j])
    np.testing.assert_allclose(z.grad.numpy(), 4 * np.abs(zz) ** 2 * zz, rtol=1e-12)


def test_readme_autograd_in_ten_lines_prints_what_it_says():
    x = tg.randn(4, 3, seed=0, requires_grad=True)
    w = tg.randn(3, 2, seed=1, requires_grad=True)
    loss = ((x @ w).tanh() ** 2).mean()
    loss.backward()
    assert f"{loss.item():.4f}" == "0.5087" and tuple(w.grad.shape) == (3, 2)
