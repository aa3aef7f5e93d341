"""3-D-aware GANs with radiance fields / SDFs (autonomousvision/graf, royorel/StyleSDF): what differed
from torch 2.13, and the patterns those programs lean on (cumprod transmittance, eikonal term through
autograd.grad(create_graph=True), R1 through spectral norm), pinned without torch (NumPy closed
forms, finite differences)."""
import math
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan import linalg


def _f64(a):
    return tg.tensor(np.asarray(a, dtype=np.float64))


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# --- torch.cross without dim: deprecated in torch, which warns once a program --------------------
def test_cross_without_dim_warns_once_as_torch(monkeypatch):
    monkeypatch.setattr(linalg, "_CROSS_DIM_WARNED", [False])
    a, b = _f64(np.eye(3)), _f64(np.ones((3, 3)))
    with pytest.warns(UserWarning, match="torch.cross without specifying the dim arg is deprecated"):
        first = tg.cross(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = a.cross(b)              # once a program, method form included
        explicit = tg.cross(a, b, dim=1)
    np.testing.assert_array_equal(first.numpy(), np.cross(np.eye(3), np.ones((3, 3)), axis=0))
    np.testing.assert_array_equal(again.numpy(), first.numpy())
    np.testing.assert_array_equal(explicit.numpy(), np.cross(np.eye(3), np.ones((3, 3)), axis=1))


def test_cross_with_dim_never_warns(monkeypatch):
    monkeypatch.setattr(linalg, "_CROSS_DIM_WARNED", [False])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.cross(_f64(np.eye(3)), _f64(np.ones((3, 3))), dim=-1)
        tg.linalg.cross(_f64(np.eye(3)), _f64(np.ones((3, 3))))


# --- softplus's double backward at beta x == threshold: torch masks beta x < threshold ------------
@pytest.mark.parametrize("beta,threshold", [(1.0, 20.0), (2.0, 10.0)])
def test_softplus_second_derivative_is_zero_exactly_at_the_threshold(beta, threshold):
    edge = threshold / beta
    xs = np.array([-3.0, 0.5, edge - 1.0, edge, edge + 1.0])
    x = _f64(xs).requires_grad_()
    g, = tg.autograd.grad(F.softplus(x, beta=beta, threshold=threshold).sum(), x, create_graph=True)
    gg, = tg.autograd.grad(g.sum(), x)
    z = beta * xs
    slope = np.where(z > threshold, 1.0, _sigmoid(z))          # the first derivative: sigmoid at the edge
    curvature = np.where(z < threshold, beta * _sigmoid(z) * (1 - _sigmoid(z)), 0.0)
    np.testing.assert_allclose(g.detach().numpy(), slope, rtol=1e-14)
    np.testing.assert_allclose(gg.numpy(), curvature, rtol=1e-12, atol=1e-300)


def test_softplus_double_backward_off_the_threshold_is_sigmoids_derivative():
    xs = np.linspace(-4, 4, 9)
    x = _f64(xs).requires_grad_()
    w = _f64(np.arange(1.0, 10.0))
    g, = tg.autograd.grad((F.softplus(x) * w).sum(), x, create_graph=True)
    gg, = tg.autograd.grad((g * g).sum(), x)
    s = _sigmoid(xs)
    np.testing.assert_allclose(gg.numpy(), 2 * (w.numpy() * s) * w.numpy() * s * (1 - s), rtol=1e-12)
