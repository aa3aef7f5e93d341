"""Porting facebookresearch/pytorch_GAN_zoo (progressive GAN: equalized-lr layers, pixel norm,
Upscale2d, alpha blending, minibatch stddev, WGAN-GP gradient penalty, the EMA generator; and its
DCGAN) to tensorgan.  The port agreed with torch to ~1e-13 in float64; what it (and the old-style
optimizer code around it) needed is tested here, with expected values from NumPy.  No torch import."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.tensor import _ONCE_WARNED
from tensorgan.errors import InputTypeError


# -- torch's deprecated addcmul(value, t1, t2) / addcdiv(value, t1, t2) overloads ---------------
# Old optimizer code of that era: ``exp_avg_sq.mul_(beta2).addcmul_(1 - beta2, grad, grad)`` and
# ``p.data.addcdiv_(-step_size, exp_avg, denom)``.  torch 2.x still runs them, with a UserWarning.
def test_addcmul_and_addcdiv_accept_the_deprecated_value_first_form():
    a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    t1 = np.array([2.0, -1.0, 0.5], dtype=np.float32)
    t2 = np.array([3.0, 4.0, -2.0], dtype=np.float32)
    x = tg.tensor(a)
    _ONCE_WARNED.pop("deprecated_overload", None)   # torch warns once a program
    with pytest.warns(UserWarning, match="addcmul.*deprecated"):
        out = x.addcmul_(0.5, tg.tensor(t1), tg.tensor(t2))
    assert out is x
    np.testing.assert_allclose(x.numpy(), a + 0.5 * t1 * t2, rtol=1e-6)
    y = tg.tensor(a)
    _ONCE_WARNED.pop("deprecated_overload", None)   # torch warns once a program
    with pytest.warns(UserWarning, match="addcdiv.*deprecated"):
        y.addcdiv_(-2, tg.tensor(t1), tg.tensor(t2))
    np.testing.assert_allclose(y.numpy(), a - 2 * t1 / t2, rtol=1e-6)
    _ONCE_WARNED.pop("deprecated_overload", None)   # torch warns once a program
    with pytest.warns(UserWarning):
        z = tg.addcmul(tg.tensor(a), 0.25, tg.tensor(t1), tg.tensor(t2))   # function form
    np.testing.assert_allclose(z.numpy(), a + 0.25 * t1 * t2, rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # the modern form stays silent
        w = tg.tensor(a).addcmul(tg.tensor(t1), tg.tensor(t2), value=0.5)
    np.testing.assert_allclose(w.numpy(), a + 0.5 * t1 * t2, rtol=1e-6)


def test_deprecated_addcmul_form_differentiates_like_the_modern_one():
    t1 = tg.tensor([2.0, -1.0], requires_grad=True)
    t2 = tg.tensor([3.0, 4.0], requires_grad=True)
    _ONCE_WARNED.pop("deprecated_overload", None)   # torch warns once a program
    with pytest.warns(UserWarning):
        tg.zeros(2).addcmul(3.0, t1, t2).sum().backward()
    np.testing.assert_allclose(t1.grad.numpy(), [9.0, 12.0])
    np.testing.assert_allclose(t2.grad.numpy(), [6.0, -3.0])


def test_addcmul_with_a_misplaced_number_is_a_typed_type_error():
    x, t = tg.ones(3), tg.ones(3)
    with pytest.raises(InputTypeError, match="addcmul.*3 positional"):
        x.addcmul(t, 0.5, t)                # torch: TypeError, too many positional arguments
    with pytest.raises(TypeError, match="addcmul"):
        x.addcmul_(t, 0.5, t)
    with pytest.raises(TypeError, match="addcdiv"):
        x.addcdiv(0.5, t, t, t)
    assert x.tolist() == [1.0, 1.0, 1.0]


# -- the progressive GAN's building blocks, as the zoo writes them -------------------------------
def _upscale2d(x, factor=2):
    s = x.size()
    x = x.view(-1, s[1], s[2], 1, s[3], 1)
    x = x.expand(-1, s[1], s[2], factor, s[3], factor)
    return x.contiguous().view(-1, s[1], s[2] * factor, s[3] * factor)


def test_upscale2d_by_expand_is_nearest_neighbour_and_its_gradient_sums_blocks():
    a = np.arange(2 * 3 * 2 * 2, dtype=np.float64).reshape(2, 3, 2, 2)
    x = tg.tensor(a, requires_grad=True)
    y = _upscale2d(x)
    np.testing.assert_array_equal(y.detach().numpy(), a.repeat(2, axis=2).repeat(2, axis=3))
    w = np.random.RandomState(0).randn(2, 3, 4, 4)
    (y * tg.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), w.reshape(2, 3, 2, 2, 2, 2).sum(axis=(3, 5)))


def test_equalized_layer_scales_its_output_in_place_and_the_gradient_follows():
    lin = tg.nn.Linear(4, 3).double()
    x = tg.tensor(np.random.RandomState(1).randn(5, 4))
    out = lin(x)
    out *= 0.5                                  # ConstrainedLayer.forward: x *= self.weight
    out.sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), 0.5 * np.tile(x.numpy().sum(0), (3, 1)))
    np.testing.assert_allclose(lin.bias.grad.numpy(), [2.5, 2.5, 2.5])


def test_minibatch_stddev_channel_matches_numpy():
    rs = np.random.RandomState(2)
    a = rs.randn(8, 3, 4, 4)
    x = tg.tensor(a)
    s = x.size()
    y = tg.var(x.view(-1, 4, s[1], s[2], s[3]), 1)
    y = tg.sqrt(y + 1e-8).view(2, -1)
    y = tg.mean(y, 1).view(2, 1).expand(2, s[2] * s[3]).view((2, 1, 1, s[2], s[3]))
    y = y.expand(2, 4, -1, -1, -1).contiguous().view((-1, 1, s[2], s[3]))
    out = tg.cat([x, y], dim=1)
    g = np.sqrt(a.reshape(2, 4, 3, 4, 4).var(axis=1, ddof=1) + 1e-8).reshape(2, -1).mean(1)
    expect = np.concatenate([a, np.broadcast_to(g.repeat(4)[:, None, None, None], (8, 1, 4, 4))], 1)
    np.testing.assert_allclose(out.numpy(), expect, rtol=1e-12)


def test_wgan_gp_penalty_through_variable_and_create_graph_on_a_linear_critic():
    # D(x) = sum(w * x) per sample: grad_x D = w, so the penalty is n * (|w| - 1)^2 * weight and
    # d penalty / d w = 2 * n * weight * (|w| - 1) * w / |w|.
    w = tg.nn.Parameter(tg.tensor([[0.6, 0.8, 1.2]], dtype=tg.float64))
    real = tg.tensor(np.random.RandomState(3).randn(4, 3))
    fake = tg.tensor(np.random.RandomState(4).randn(4, 3))
    alpha = tg.tensor(np.random.RandomState(5).rand(4, 1)).expand(4, 3).contiguous()
    interp = tg.autograd.Variable(alpha * real + (1 - alpha) * fake, requires_grad=True)
    decision = (interp * w).sum(dim=1, keepdim=True)[:, 0].sum()
    grads = tg.autograd.grad(outputs=decision, inputs=interp, create_graph=True, retain_graph=True)
    norms = (grads[0].view(4, -1) ** 2).sum(dim=1).sqrt()
    penalty = ((norms - 1.0) ** 2).sum() * 10.0
    penalty.backward(retain_graph=True)
    wn = np.linalg.norm([0.6, 0.8, 1.2])
    assert penalty.item() == pytest.approx(4 * (wn - 1) ** 2 * 10.0, rel=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), 2 * 4 * 10.0 * (wn - 1) * np.array([[0.6, 0.8, 1.2]]) / wn,
                               rtol=1e-12)


def test_ema_generator_update_with_the_deprecated_add_form():
    g = tg.nn.Linear(2, 2)
    import copy
    avg = copy.deepcopy(g)
    for p in avg.parameters():
        p.requires_grad = False
    with tg.no_grad():
        for p in g.parameters():
            p.add_(1.0)
    before = [p.detach().numpy().copy() for p in avg.parameters()]
    _ONCE_WARNED.pop("deprecated_overload", None)   # torch warns once a program
    with pytest.warns(UserWarning):
        for p, avg_p in zip(g.parameters(), avg.parameters()):
            avg_p.mul_(0.999).add_(0.001, p.data)
    for b, p, avg_p in zip(before, g.parameters(), avg.parameters()):
        np.testing.assert_allclose(avg_p.numpy(), 0.999 * b + 0.001 * p.detach().numpy(), rtol=1e-6)
