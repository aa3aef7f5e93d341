"""Gaps found porting torch's torch.func / autograd tutorials (per-sample grads, Jacobians and
Hessians, ensembling, NTKs, forward-mode AD, custom-Function double backward): expected values
from first principles / NumPy."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.autograd.forward_ad as fwAD
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import AutogradError, ShapeError
from tensorgan.gradcheck import GradcheckError
from tensorgan.func import (functional_call, grad, jacfwd, jacrev, jvp, stack_module_state,
                            vjp, vmap)


def t64(a):
    return tg.tensor(np.asarray(a, dtype=np.float64))


def test_vmap_over_dict_arguments_and_dict_outputs_per_sample_grads():
    tg.manual_seed(0)
    model = nn.Linear(3, 2).double()
    x, y = t64(np.random.RandomState(0).randn(5, 3)), tg.tensor(np.array([0, 1, 1, 0, 1]))
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, xi, yi):
        return F.cross_entropy(functional_call(model, p, (xi.unsqueeze(0),)), yi.unsqueeze(0))

    got = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
    assert isinstance(got, dict) and set(got) == {"weight", "bias"}
    for i in range(5):
        (gw, gb) = tg.autograd.grad(loss(dict(model.named_parameters()), x[i], y[i]),
                                     [model.weight, model.bias])
        np.testing.assert_allclose(got["weight"][i].numpy(), gw.numpy(), rtol=1e-12)
        np.testing.assert_allclose(got["bias"][i].numpy(), gb.numpy(), rtol=1e-12)
    # a dict in_dims entry per leaf, and a tuple output (vjp_fn's) stacked
    stacked = vmap(lambda p, xi: p["w"] * xi, in_dims=({"w": None}, 0))({"w": t64([2.0])}, t64([1.0, 3.0]))
    np.testing.assert_array_equal(stacked.numpy(), [[2.0], [6.0]])
    _, vjp_fn = vjp(lambda v: v * t64([1.0, 2.0]), t64([0.0, 0.0]))
    (rows,) = vmap(vjp_fn)(tg.eye(2, dtype=tg.float64))
    np.testing.assert_array_equal(rows.numpy(), np.diag([1.0, 2.0]))


def test_vmap_rejects_mismatched_in_dims_structure():
    with pytest.raises(tg.errors.ConfigError):
        vmap(lambda p: p["a"], in_dims=({"b": 0},))({"a": tg.ones(2)})


def test_jvp_and_hessian_vector_product():
    x0, x1, t0, t1 = (t64(np.random.RandomState(k).randn(3, 3)) for k in range(4))
    out, tangent = jvp(lambda a, b: a ** 2 + b ** 2, (x0, x1), (t0, t1))
    np.testing.assert_allclose(out.numpy(), x0.numpy() ** 2 + x1.numpy() ** 2)
    np.testing.assert_allclose(tangent.numpy(), 2 * x0.numpy() * t0.numpy() + 2 * x1.numpy() * t1.numpy())
    assert not tangent.requires_grad
    x, t = t64(np.linspace(-2, 2, 7)), t64(np.linspace(1, 3, 7))
    _, hvp = jvp(grad(lambda v: v.sin().sum()), (x,), (t,))        # H = diag(-sin x)
    np.testing.assert_allclose(hvp.numpy(), -np.sin(x.numpy()) * t.numpy(), rtol=1e-12)
    with pytest.raises(ShapeError):
        jvp(lambda a: a * 2, (x,), (tg.ones(3, dtype=tg.float64),))


def test_jacfwd_is_the_jacobian_and_nests():
    rs = np.random.RandomState(1)
    w, b, x = t64(rs.randn(4, 3)), t64(rs.randn(4)), t64(rs.randn(3))

    def predict(w, b, x):
        return F.linear(x, w, b).tanh()

    jac = jacfwd(predict, argnums=2)(w, b, x)
    s = 1 - np.tanh(w.numpy() @ x.numpy() + b.numpy()) ** 2
    np.testing.assert_allclose(jac.numpy(), s[:, None] * w.numpy(), rtol=1e-12)
    hess = jacfwd(jacfwd(predict, argnums=2), argnums=2)(w, b, x)
    np.testing.assert_allclose(hess.numpy(), jacrev(jacrev(predict, argnums=2), argnums=2)(w, b, x).numpy())
    assert hess.shape == (4, 3, 3)


def test_stack_module_state():
    models = [nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)) for _ in range(3)]
    params, buffers = stack_module_state(models)
    assert params["0.weight"].shape == (3, 2, 3) and buffers["1.running_mean"].shape == (3, 2)
    assert params["0.weight"].requires_grad and params["0.weight"].is_leaf
    assert not buffers["1.running_mean"].requires_grad
    np.testing.assert_array_equal(params["0.bias"][1].numpy(), models[1][0].bias.detach().numpy())
    x = tg.randn(4, 3)
    models = [nn.Linear(3, 2) for _ in range(3)]
    params, buffers = stack_module_state(models)
    got = vmap(lambda p, b, x: functional_call(models[0], (p, b), (x,)), in_dims=(0, 0, None))(params, buffers, x)
    for k, m in enumerate(models):
        np.testing.assert_allclose(got[k].detach().numpy(), m(x).detach().numpy(), rtol=1e-6)
    with pytest.raises(tg.errors.ConfigError):
        stack_module_state([nn.Linear(3, 2), nn.Sequential(nn.Linear(3, 2))])


def test_einsum_repeated_letter_takes_the_diagonal():
    a = np.random.RandomState(2).rand(2, 3, 4, 4)
    t = t64(a).requires_grad_()
    np.testing.assert_allclose(tg.einsum("NMKK->NM", t).detach().numpy(), np.einsum("NMKK->NM", a))
    np.testing.assert_allclose(tg.einsum("NMKK->NMK", t).detach().numpy(), np.einsum("NMKK->NMK", a))
    np.testing.assert_allclose(tg.einsum("ii", t64(a[0, 0])).item(), np.trace(a[0, 0]))
    tg.einsum("NMKK->NM", t).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.broadcast_to(np.eye(4), a.shape))


def test_module_to_torch_forms():
    m = nn.Linear(2, 2)
    assert m.to(device="cpu") is m and m.weight.device.type == "cpu"
    m.to(dtype=tg.float64)
    assert m.weight.dtype == tg.float64
    m.to("cpu", tg.float32)
    assert m.weight.dtype == tg.float32
    m.to(tg.zeros(1, dtype=tg.float64))
    assert m.bias.dtype == tg.float64
    with pytest.raises(tg.errors.ConfigError):
        m.to(devise="cpu")


class _Square(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x


class _WrongSquare(_Square):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x


def test_gradcheck_torch_forms():
    x = t64(np.random.RandomState(3).rand(3, 3)).requires_grad_()
    assert tg.autograd.gradcheck(_Square.apply, x)                 # a bare Tensor as inputs
    assert tg.autograd.gradgradcheck(_Square.apply, x)
    nonleaf = t64(1.5).requires_grad_().clone()                    # the tutorial's x.clone()
    assert tg.autograd.gradcheck(_Square.apply, nonleaf)
    assert tg.autograd.gradcheck(lambda v: (v.exp(), v * 2), (x,), fast_mode=True)
    assert tg.autograd.gradcheck(_WrongSquare.apply, x, raise_exception=False) is False
    with pytest.raises(GradcheckError):
        tg.autograd.gradcheck(_WrongSquare.apply, nonleaf)


def test_forward_ad_dual_tensors():
    primal, tangent = t64(np.random.RandomState(4).randn(3, 3)), t64(np.random.RandomState(5).randn(3, 3))
    other = t64(np.random.RandomState(6).randn(3, 3))
    with fwAD.dual_level():
        dual = fwAD.make_dual(primal, tangent)
        assert fwAD.unpack_dual(dual).tangent is tangent
        assert fwAD.unpack_dual(fwAD.make_dual(primal, tangent.T)).tangent is not tangent
        out = dual ** 2 + other ** 2
        np.testing.assert_allclose(fwAD.unpack_dual(out).tangent.numpy(),
                                   2 * primal.numpy() * tangent.numpy())
        np.testing.assert_allclose(fwAD.unpack_dual(out).primal.detach().numpy(),
                                   primal.numpy() ** 2 + other.numpy() ** 2)
        assert fwAD.unpack_dual(other * 2).tangent is None
        with pytest.raises(ShapeError):
            fwAD.make_dual(primal, tangent[0])
    assert fwAD.unpack_dual(out).tangent is None
    with pytest.raises(AutogradError):
        fwAD.make_dual(primal, tangent)


class _ExpJvp(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        result = tg.exp(x)
        ctx.result = result
        return result

    @staticmethod
    def jvp(ctx, g):
        return g * ctx.result


def test_forward_ad_custom_function_jvp_and_gradcheck():
    primal = t64(np.random.RandomState(7).randn(4)).requires_grad_()
    tangent = t64(np.random.RandomState(8).randn(4))
    with fwAD.dual_level():
        out = _ExpJvp.apply(fwAD.make_dual(primal, tangent)) * 3
        np.testing.assert_allclose(fwAD.unpack_dual(out).tangent.numpy(),
                                   3 * np.exp(primal.detach().numpy()) * tangent.numpy())
    assert tg.autograd.gradcheck(_ExpJvp.apply, (primal,), check_forward_ad=True,
                                 check_backward_ad=False, check_undefined_grad=False,
                                 check_batched_grad=False)


def test_forward_ad_module_with_functional_call():
    m = nn.Linear(3, 2).double()
    x = t64(np.random.RandomState(9).randn(5, 3))
    tw, tb = t64(np.ones((2, 3))), t64(np.full(2, 0.5))
    with fwAD.dual_level():
        out = functional_call(m, {"weight": fwAD.make_dual(m.weight, tw),
                                  "bias": fwAD.make_dual(m.bias, tb)}, x)
        got = fwAD.unpack_dual(out).tangent
    np.testing.assert_allclose(got.numpy(), x.numpy() @ tw.numpy().T + tb.numpy())


def _np_conv_grads(x, w, go, stride, pad):
    """Reference conv2d input / weight gradients by explicit loops (groups=1, dilation=1)."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    gx, gw = np.zeros_like(xp), np.zeros_like(w)
    k = w.shape[2]
    for n in range(go.shape[0]):
        for o in range(go.shape[1]):
            for i in range(go.shape[2]):
                for j in range(go.shape[3]):
                    patch = (slice(i * stride, i * stride + k), slice(j * stride, j * stride + k))
                    gx[n, :, patch[0], patch[1]] += go[n, o, i, j] * w[o]
                    gw[o] += go[n, o, i, j] * xp[n, :, patch[0], patch[1]]
    return gx[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], gw


def test_nn_grad_conv2d_input_and_weight():
    rs = np.random.RandomState(11)
    x, w = rs.randn(2, 3, 7, 7), rs.randn(4, 3, 3, 3)
    go = rs.randn(2, 4, 4, 4)                                   # stride 2, padding 1: 7 -> 4
    ref_x, ref_w = _np_conv_grads(x, w, go, 2, 1)
    got_x = nn.grad.conv2d_input(x.shape, t64(w), t64(go), stride=2, padding=1)
    got_w = nn.grad.conv2d_weight(t64(x), w.shape, t64(go), stride=2, padding=1)
    np.testing.assert_allclose(got_x.numpy(), ref_x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_w.numpy(), ref_w, rtol=1e-12, atol=1e-12)
    with pytest.raises(ShapeError):
        nn.grad.conv2d_input(x.shape, t64(w), t64(go))          # stride 1 gives 5x5, not 4x4
