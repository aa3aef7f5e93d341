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


# --- cat skips 1-D empty tensors beside tensors of more dims (torch's legacy rule) ---------------
def test_cat_skips_a_one_d_empty_tensor_as_the_start_of_an_accumulation():
    samples = tg.Tensor()                           # (StyleSDF / GAN scripts: torch.Tensor() then cat)
    for i in range(3):
        samples = tg.cat([samples, tg.full((1, 2), float(i))], 0)
    np.testing.assert_array_equal(samples.numpy(), [[0, 0], [1, 1], [2, 2]])
    out = tg.cat([tg.tensor([]), tg.ones(2, 3), tg.zeros(2, 1)], -1)   # dim: the others' (2-D)
    assert out.shape == (2, 4)
    assert tg.cat([tg.ones(1, 2), tg.tensor([]), tg.ones(2, 2), tg.tensor([])]).shape == (3, 2)


def test_cat_skipped_empty_tensors_still_promote_the_dtype():
    assert tg.cat([tg.tensor([], dtype=tg.float64), tg.ones(2, 3, dtype=tg.float32)]).dtype == tg.float64
    assert tg.cat([tg.tensor([], dtype=tg.int64), tg.ones(2, 3, dtype=tg.float32)]).dtype == tg.float32
    assert tg.cat([tg.tensor([], dtype=tg.int64), tg.ones(2, 3, dtype=tg.int32)]).dtype == tg.int64


def test_cat_skipped_empty_tensor_gets_an_empty_gradient_to_second_order():
    e = tg.tensor([], dtype=tg.float64, requires_grad=True)
    x = _f64(np.arange(6.0).reshape(2, 3)).requires_grad_()
    y = tg.cat([e, x * x, e], 1)
    ge, gx = tg.autograd.grad(y.sum(), [e, x], create_graph=True)
    assert ge.shape == (0,)
    np.testing.assert_array_equal(gx.detach().numpy(), 2 * x.detach().numpy())
    h, = tg.autograd.grad((gx ** 2).sum(), x)
    np.testing.assert_array_equal(h.numpy(), 8 * x.detach().numpy())
    (tg.cat([e, x], 0) * 3).sum().backward()
    assert e.grad.shape == (0,) and np.all(x.grad.numpy() == 3)


def test_cat_with_an_empty_tensor_still_refuses_mismatched_others():
    with pytest.raises(RuntimeError, match="differ off that axis"):
        tg.cat([tg.tensor([]), tg.ones(2, 3), tg.ones(2, 2)])
    with pytest.raises(RuntimeError, match="same number of dims"):
        tg.cat([tg.tensor([]), tg.ones(2, 3), tg.ones(2, 3, 1)])
    with pytest.raises(RuntimeError, match="differ off that axis"):
        tg.cat([tg.zeros(0, 0), tg.ones(2, 3)])     # only the 1-D (0,) shape is skipped
    with pytest.raises(RuntimeError):
        tg.stack([tg.tensor([]), tg.ones(2, 3)])    # stack skips nothing
