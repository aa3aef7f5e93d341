"""Gradient checks (float64 central differences, ``tg.gradcheck`` / ``tg.gradgradcheck``) for the
Function classes an audit found never checked: ops.AsStridedView (a view regenerated after an
in-place write), ops.Max / ops.Min (full max() / min()), ops.SqueezeAll / ops.SqueezeDims,
tensor.ToDevice, functional._MaskWhere (hardtanh, threshold, the shrinks, prelu), linalg_lu.Eig,
utils.checkpoint.CheckpointFunction, autograd.function._OnceDifferentiable, and the implicit
reparameterisation of Gamma / Dirichlet / Beta rsample (per sample, against the derivative of
the cdf relation at a fixed cdf value: dx/da = -(dF/da) / (dF/dx))."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.distributions as D
import tensorgan.nn.functional as F
from tensorgan import ops
from tensorgan.autograd import Function, once_differentiable
from tensorgan.errors import AutogradNotSupportedError
from tensorgan.utils.checkpoint import checkpoint


def t64(array, requires_grad=True):
    return tg.tensor(np.asarray(array, dtype=np.float64), dtype=tg.float64, requires_grad=requires_grad)


def both_orders(fn, inputs):
    assert tg.gradcheck(fn, inputs)
    assert tg.gradgradcheck(fn, inputs)


RNG = np.random.default_rng(27)
X = RNG.standard_normal((3, 3))


# ------------------------------------------------------------------------------------------------
# AsStridedView: the node of a view (diagonal, as_strided) regenerated after its base is written
# ------------------------------------------------------------------------------------------------
def _refreshed_diagonal(t):
    y = t * 1.0
    d = y.diagonal()
    y.mul_(2.0)                       # d's node becomes AsStridedBackward0 of y's new node
    return d * t[0]


def _view_used_before_the_write(t):
    y = t * 1.0
    s = y.diagonal().sum()            # its gradient goes to the diagonal of y's *old* value
    y.mul_(3.0)
    return s + (y * y).sum()


def _written_diagonal(t):
    y = t * 1.0
    y.diagonal().mul_(t[1])
    return y


def _refreshed_as_strided(t):
    y = t * 1.0
    v = y.as_strided((2, 2), (1, 3), 1)
    y.add_(t * t)
    return v.exp()


@pytest.mark.parametrize("fn", [_refreshed_diagonal, _view_used_before_the_write, _written_diagonal,
                                _refreshed_as_strided])
def test_as_strided_view_gradients(fn, monkeypatch):
    calls = []
    forward = ops.AsStridedView.forward
    monkeypatch.setattr(ops.AsStridedView, "forward", lambda self, *a: calls.append(1) or forward(self, *a))
    both_orders(fn, [t64(X)])
    assert calls, "the check did not go through AsStridedView"


def test_refreshed_view_node_is_as_strided_backward():
    y = t64(X) * 1.0
    d = y.diagonal()
    y.mul_(2.0)
    assert d.grad_fn.name() == "AsStridedBackward0"


def test_as_strided_gather_gradients_sum_over_repeats():
    both_orders(lambda t: t.as_strided((2, 3), (1, 2), 1) ** 2, [t64(X)])
    x = t64(X)
    x.as_strided((3, 3), (1, 1), 0).sum().backward()     # element k appears min(k+1, 5-k) times
    np.testing.assert_array_equal(x.grad.numpy().reshape(-1), [1, 2, 3, 2, 1, 0, 0, 0, 0])


# ------------------------------------------------------------------------------------------------
# Max / Min: x.max() / x.min() (and x.max(dim) of a 0-d tensor)
# ------------------------------------------------------------------------------------------------
def test_full_max_and_min_gradients_with_distinct_values():
    both_orders(lambda t: t.max() ** 2, [t64(X)])
    both_orders(lambda t: t.min() * t.sum(), [t64(X)])
    assert t64(X).max().grad_fn.name() == "MaxBackward1"
    assert t64(X).min().grad_fn.name() == "MinBackward1"


def test_full_max_and_min_share_the_gradient_among_ties_and_nans():
    ties = t64([[1.0, 3.0, 3.0], [0.5, 3.0, -1.0]])
    (ties.max() * 6).backward()
    np.testing.assert_array_equal(ties.grad.numpy(), [[0, 2, 2], [0, 2, 0]])
    low = t64([[-1.0, 2.0], [-1.0, 0.0]])
    low.min().backward()
    np.testing.assert_array_equal(low.grad.numpy(), [[0.5, 0], [0.5, 0]])
    nans = t64([[1.0, np.nan, 3.0], [np.nan, 3.0, -1.0]])
    nans.max().backward()
    np.testing.assert_array_equal(nans.grad.numpy(), [[0, 0.5, 0], [0.5, 0, 0]])


def test_max_and_min_over_dim_of_a_scalar():
    both_orders(lambda t: t.max(0)[0] ** 2, [t64(1.5)])
    both_orders(lambda t: t.min(0, keepdim=True).values ** 3, [t64(-0.5)])
    s = t64(1.5)
    m = s.max(0)[0]
    assert m.grad_fn.name() == "MaxBackward0" and s.min(0)[0].grad_fn.name() == "MinBackward0"   # torch's
    m.backward()
    assert s.grad.item() == 1.0 and m.grad_fn.name() == "MaxBackward0"     # kept after backward
    nan = t64(math.nan)
    nan.max(0)[0].backward()
    assert nan.grad.item() == 1.0


def test_max_and_min_refuse_several_dims_as_torch():
    x = t64(X)
    for dim in ((0,), (0, 1), [1]):
        with pytest.raises(TypeError, match=r"max: dim must be an int.*amax"):
            x.max(dim)
        with pytest.raises(tg.InputTypeError, match=r"min: dim must be an int"):
            x.min(dim)


# ------------------------------------------------------------------------------------------------
# SqueezeAll / SqueezeDims, ToDevice
# ------------------------------------------------------------------------------------------------
def test_squeeze_all_and_squeeze_dims_gradients():
    y = t64(RNG.standard_normal((1, 3, 1, 2)))
    both_orders(lambda t: t.squeeze() ** 2, [y])
    both_orders(lambda t: t.squeeze((0, 2)) ** 2, [y])
    assert y.squeeze().grad_fn.name() == "SqueezeBackward0"
    assert y.squeeze((0, 2)).grad_fn.name() == "SqueezeBackward2"


@pytest.mark.skipif(not tg.cuda_status()[0], reason="no CUDA device (not even the simulator)")
def test_to_cuda_and_back_gradients():
    x = t64(X)
    both_orders(lambda t: (t.to("cuda") ** 2).to("cpu") * t, [x])
    moved = x.to("cuda")
    assert moved.grad_fn.name() == "ToCopyBackward0"
    (moved * moved).sum().backward()
    assert str(x.grad.device) == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), 2 * X)


def test_cpu_to_cpu_is_the_same_tensor_or_a_differentiable_copy():
    x = t64(X)
    assert x.to("cpu") is x
    both_orders(lambda t: t.to("cpu", copy=True) ** 2, [x])


# ------------------------------------------------------------------------------------------------
# _MaskWhere: activations with a piecewise constant derivative (away from their kinks)
# ------------------------------------------------------------------------------------------------
def _away_from(kinks, shape=(4, 5)):
    z = RNG.uniform(-2, 2, shape)
    for k in kinks:
        near = np.abs(z - k) < 0.05
        z[near] = k + 0.1
    return t64(z)


@pytest.mark.parametrize("name,fn,kinks", [
    ("HardtanhBackward0", lambda t: F.hardtanh(t, -1.0, 1.0), (-1.0, 1.0)),
    ("ThresholdBackward0", lambda t: F.threshold(t, 0.1, -3.0), (0.1,)),
    ("SoftshrinkBackward0", lambda t: F.softshrink(t, 0.5), (-0.5, 0.5)),
    ("HardshrinkBackward0", lambda t: F.hardshrink(t, 0.5), (-0.5, 0.5)),
])
def test_mask_where_activation_gradients(name, fn, kinks):
    z = _away_from(kinks)
    both_orders(lambda t: fn(t) * t, [z])
    assert fn(z).grad_fn.name() == name


def test_prelu_gradients_for_input_and_weight():
    z, w = _away_from((0.0,)), t64([0.25])
    both_orders(lambda t, a: F.prelu(t, a) * t, [z, w])
    z4, w3 = _away_from((0.0,), (2, 3, 2, 2)), t64([0.1, -0.3, 0.6])
    both_orders(lambda t, a: F.prelu(t, a) ** 2, [z4, w3])
    assert F.prelu(z, w).grad_fn.name() == "PreluKernelBackward0"


# ------------------------------------------------------------------------------------------------
# Eig: linalg.eig / eigvals of real matrices, through real functions of the result
# ------------------------------------------------------------------------------------------------
Q = np.linalg.qr(RNG.standard_normal((4, 4)))[0]
REAL_SPECTRUM = Q @ np.diag([1.0, 2.0, -0.5, 3.0]) @ np.linalg.inv(Q) + 0.1 * RNG.standard_normal((4, 4))
ROTATION = np.array([[1.0, -2.0, 0.3], [2.0, 1.0, 0.1], [0.2, 0.4, 3.0]])    # a complex pair


@pytest.mark.parametrize("A", [REAL_SPECTRUM, ROTATION], ids=["real", "complex-pair"])
def test_eig_gradients(A):
    a = t64(A)
    assert tg.gradcheck(lambda m: tg.linalg.eigvals(m).real, [a])
    assert tg.gradcheck(lambda m: tg.linalg.eigvals(m).imag, [a])
    assert tg.gradcheck(lambda m: tg.linalg.eigvals(m).abs(), [a])
    assert tg.gradcheck(lambda m: tg.linalg.eig(m).eigenvectors.abs(), [a])     # phase-free
    assert tg.gradcheck(lambda m: (lambda L, V: (V.abs() * L.real).sum(0))(*tg.linalg.eig(m)), [a])
    assert tg.linalg.eig(a)[0].grad_fn is not None


def test_eig_double_backward_is_refused_with_a_typed_error():
    a = t64(REAL_SPECTRUM)
    g, = tg.autograd.grad(tg.linalg.eigvals(a).real.sum(), [a], create_graph=False)
    np.testing.assert_allclose(g.numpy(), np.eye(4), atol=1e-12)        # d trace / dA
    with pytest.raises(AutogradNotSupportedError, match="double backward"):
        tg.autograd.grad(tg.linalg.eigvals(a).real.sum(), [a], create_graph=True)


# ------------------------------------------------------------------------------------------------
# CheckpointFunction, _OnceDifferentiable
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpoint_gradients(reentrant):
    h, w = t64(X), t64(RNG.standard_normal((3, 3)) * 0.5)

    def block(u, v):
        return (u @ v).tanh() * u
    both_orders(lambda u, v: checkpoint(block, u, v, use_reentrant=reentrant), [h, w])
    # a weight the block closes over (not an argument) gets its gradient too
    both_orders(lambda u, v: checkpoint(lambda z: (z @ v).sin(), u, use_reentrant=reentrant), [h, w])
    # torch's names: the reentrant node, or (non-reentrant) the block's last node
    assert checkpoint(block, h, w, use_reentrant=reentrant).grad_fn.name() == \
        ("CheckpointFunctionBackward" if reentrant else "MulBackward0")


class _Cube(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a ** 3

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * 3 * a ** 2


def test_once_differentiable_checks_once_and_refuses_twice():
    x = t64(X)
    assert tg.gradcheck(_Cube.apply, [x])
    with pytest.raises(tg.AutogradError, match="once_differentiable"):
        tg.gradgradcheck(_Cube.apply, [x])


# ------------------------------------------------------------------------------------------------
# _ImplicitGamma / _ImplicitDirichlet: per-sample implicit derivatives through rsample
# ------------------------------------------------------------------------------------------------
def _gamma_cdf(a, x):
    return tg.special.gammainc(t64(a, False), t64(x, False)).numpy()


def _gamma_dx_da(a, x):
    h = 1e-5 * a
    dP = (_gamma_cdf(a + h, x) - _gamma_cdf(a - h, x)) / (2 * h)
    log_pdf = (a - 1) * np.log(x) - x - np.array([math.lgamma(v) for v in a])
    return -dP / np.exp(log_pdf)


_GL_U, _GL_W = np.polynomial.legendre.leggauss(400)
_GL_U, _GL_W = (_GL_U + 1) / 2, _GL_W / 2


def _log_beta(a, b):
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _beta_cdf(a, b, x):
    """I_x(a, b) by quadrature: x^a / (a B(a, b)) int_0^1 (1 - x u^(1/a))^(b-1) du (t = x u^(1/a)),
    on the side of the mode where it is smooth."""
    if x > a / (a + b):
        return 1 - _beta_cdf(b, a, 1 - x)
    integral = np.sum(_GL_W * (1 - x * _GL_U ** (1 / a)) ** (b - 1))
    return math.exp(a * math.log(x) - math.log(a) - _log_beta(a, b)) * integral


def _beta_dx_da(a, b, x):
    h = 1e-5 * a
    dI = (_beta_cdf(a + h, b, x) - _beta_cdf(a - h, b, x)) / (2 * h)
    return -dI / math.exp((a - 1) * math.log(x) + (b - 1) * math.log1p(-x) - _log_beta(a, b))


def test_gamma_rsample_gradients_are_the_implicit_derivatives():
    tg.manual_seed(0)
    alpha = t64([0.05, 0.7, 1.0, 2.5, 6.0, 30.0, 300.0])
    rate = t64([2.0, 0.5, 1.0, 3.0, 1.5, 1.0, 0.2])
    x = D.Gamma(alpha, rate).rsample((2,))
    w = RNG.standard_normal(x.shape)
    (x * t64(w, False)).sum().backward()
    a, r, xv = alpha.detach().numpy(), rate.detach().numpy(), x.detach().numpy()
    want = sum(w[k] * _gamma_dx_da(a, xv[k] * r) / r for k in range(2))    # x = X / rate
    np.testing.assert_allclose(alpha.grad.numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(rate.grad.numpy(), (-w * xv / r).sum(0), rtol=1e-12)
    # the rate enters explicitly: a full gradcheck with the draw held by the seed
    def draw(b):
        tg.manual_seed(1)
        return D.Gamma(alpha.detach(), b).rsample((3,))
    both_orders(draw, [t64([2.0, 0.5, 1.0, 3.0, 1.5, 1.0, 0.2])])


def test_dirichlet_rsample_gradients_are_the_marginal_implicit_derivatives():
    # torch's rule: dx_j/dc_i = d_i (delta_ij - x_j), d_i = (dx_i/dc_i) / (1 - x_i), where x_i ~
    # Beta(c_i, sum c - c_i) and the second parameter stays fixed as c_i moves
    tg.manual_seed(0)
    c = t64([1.5, 2.0, 3.5, 1.2, 0.6])
    x = D.Dirichlet(c).rsample()
    w = RNG.standard_normal(x.shape)
    (x * t64(w, False)).sum().backward()
    xv, cv = x.detach().numpy(), c.detach().numpy()
    d = np.array([_beta_dx_da(ci, cv.sum() - ci, xi) for ci, xi in zip(cv, xv)]) / (1 - xv)
    np.testing.assert_allclose(c.grad.numpy(), d * (w - (xv * w).sum()), rtol=2e-5)
    # the draws stay on the simplex: the gradient of sum(x) is zero
    c.grad = None
    x = D.Dirichlet(c).rsample((3,))
    x.sum().backward()
    np.testing.assert_allclose(c.grad.numpy(), 0, atol=1e-12)


def test_beta_rsample_gradients_are_the_implicit_derivatives():
    tg.manual_seed(2)
    a, b = t64([1.5, 3.0, 0.8]), t64([2.0, 1.3, 4.0])
    x = D.Beta(a, b).rsample()
    x.sum().backward()
    av, bv, xv = a.detach().numpy(), b.detach().numpy(), x.detach().numpy()
    want_a = [_beta_dx_da(p, q, v) for p, q, v in zip(av, bv, xv)]
    want_b = [-_beta_dx_da(q, p, 1 - v) for p, q, v in zip(av, bv, xv)]     # 1 - x ~ Beta(b, a)
    np.testing.assert_allclose(a.grad.numpy(), want_a, rtol=2e-5)
    np.testing.assert_allclose(b.grad.numpy(), want_b, rtol=2e-5)


def test_implicit_gamma_gradient_refuses_a_second_derivative_as_torch():
    # torch: the gradient depends on alpha through _standard_gamma_grad, whose derivative is not
    # implemented -- refused, not a gradient silently missing its second-order term
    alpha = t64([2.0, 3.0])
    x = D.Gamma(alpha, 1.0).rsample()
    g, = tg.autograd.grad(x.sum(), [alpha], create_graph=True)
    assert g.requires_grad
    with pytest.raises(NotImplementedError, match="_standard_gamma_grad"):
        (g.sum() + alpha.sum()).backward()
    y = D.Gamma(alpha, 1.0).rsample()       # first order unchanged with create_graph
    g1, = tg.autograd.grad(y.sum(), [alpha], retain_graph=True)
    g2, = tg.autograd.grad(y.sum(), [alpha], create_graph=True)
    np.testing.assert_array_equal(g1.numpy(), g2.detach().numpy())


def test_implicit_dirichlet_gradient_is_once_differentiable_as_torch():
    # torch's _Dirichlet is a once_differentiable Function: its gradient is a constant
    c = t64([2.0, 3.0, 1.0])
    x = D.Dirichlet(c).rsample()
    g, = tg.autograd.grad((x * t64([1.0, 2.0, 3.0], False)).sum(), [c], create_graph=True)
    assert not g.requires_grad
