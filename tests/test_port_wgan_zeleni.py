"""Port checks from Zeleni9/pytorch-wgan (DCGAN / WGAN-CP / WGAN-GP training loops, latent walk,
inception-score KL splits) and the one / mone ``backward(gradient)`` idiom with its relatives in
``autograd.grad``: ``is_grads_batched``, ``materialize_grads``, dict and generator ``inputs``,
``backward(inputs=model.parameters())``. Expected values come from first principles."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan import autograd
from tensorgan.autograd import Variable
from tensorgan.errors import AutogradError, ConfigError, InputTypeError, ShapeError


def _linear_critic(w):
    """D(x) = sum over (C, H, W) of w * x, one score per image, shape (N, 1, 1, 1)."""
    return lambda x: (x * w).sum(dim=(1, 2, 3), keepdim=True)


# ---------------------------------------------------------------- the WGAN loops' idioms

def test_wgan_cp_one_mone_on_view1_losses_sums_real_minus_fake():
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((2, 4, 1, 3, 3))
    w = nn.Parameter(tg.tensor(rng.standard_normal((1, 3, 3)) * 0.05))
    D = _linear_critic(w)
    one = tg.FloatTensor([1])
    mone = one * -1
    with tg.no_grad():
        w.data.clamp_(-0.01, 0.01)             # the clipping, in place through .data
    assert float(w.abs().max()) <= 0.01
    D(tg.tensor(real)).mean(0).view(1).backward(one)
    D(tg.tensor(fake)).mean(0).view(1).backward(mone)
    assert w.grad.dtype == tg.float64          # float32 one / mone cast to the loss's dtype
    np.testing.assert_allclose(w.grad.numpy(), real.mean(0) - fake.mean(0), rtol=1e-12)
    # the generator step's g_loss.mean().mean(0).view(1): mean(0) of a 0-d tensor is allowed
    assert D(tg.tensor(fake)).mean().mean(0).view(1).shape == (1,)


def test_wgan_gp_penalty_with_ones_grad_outputs_matches_closed_form():
    rng = np.random.default_rng(1)
    w_np = rng.standard_normal((1, 2, 2))
    w = nn.Parameter(tg.tensor(w_np))
    D = _linear_critic(w)
    real, fake = tg.tensor(rng.standard_normal((3, 1, 2, 2))), tg.tensor(rng.standard_normal((3, 1, 2, 2)))
    eta = tg.FloatTensor(3, 1, 1, 1).uniform_(0, 1).expand(3, 1, 2, 2)
    interpolated = Variable(eta * real + (1 - eta) * fake, requires_grad=True)
    assert interpolated.dtype == tg.float64    # float32 eta promoted by the float64 images
    prob = D(interpolated)
    gradients = autograd.grad(outputs=prob, inputs=interpolated,
                              grad_outputs=tg.ones(prob.size()),   # float32 ones, float64 output
                              create_graph=True, retain_graph=True)[0]
    np.testing.assert_allclose(gradients.detach().numpy(), np.broadcast_to(w_np, (3, 1, 2, 2)))
    penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * 10
    # norm over the single channel is |w|: penalty = 10 * mean((|w| - 1)^2), d/dw = 20 (|w|-1) sign(w) / 4
    np.testing.assert_allclose(float(penalty), 10 * np.mean((np.abs(w_np) - 1) ** 2), rtol=1e-12)
    penalty.backward()
    np.testing.assert_allclose(w.grad.numpy(), 20 * (np.abs(w_np) - 1) * np.sign(w_np) / 4,
                               rtol=1e-10)


def test_backward_shape1_gradient_on_0d_loss_is_refused_with_the_way_out():
    x = tg.ones(3, requires_grad=True)
    with pytest.raises(ShapeError, match="0-d gradient"):
        (x * x).mean().backward(tg.FloatTensor([1]))   # the original WGAN-GP loop, as in torch
    (x * x).mean().backward((tg.FloatTensor([1]) * -1)[0])
    np.testing.assert_allclose(x.grad.numpy(), [-2 / 3] * 3, rtol=1e-6)


def test_latent_walk_data_assignment_and_inception_kl_splits():
    z_intp = Variable(tg.FloatTensor(1, 4, 1, 1))
    z1, z2 = tg.ones(1, 4, 1, 1), tg.zeros(1, 4, 1, 1)
    alpha, seen = 1.0 / 11, []
    for _ in range(3):
        z_intp.data = z1 * alpha + z2 * (1.0 - alpha)
        seen.append(float(z_intp[0, 0, 0, 0]))
        alpha += alpha
    np.testing.assert_allclose(seen, [1 / 11, 2 / 11, 4 / 11], rtol=1e-6)
    # inception score's KL splits on softmax predictions: exp(mean KL(p(y|x) || p(y)))
    logits = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.3, 0.3, 0.4]]))
    preds = F.softmax(tg.tensor(logits), dim=1).numpy()
    py = preds[:2].mean(0)
    kl = [np.sum(p * np.log(p / py)) for p in preds[:2]]
    want = np.exp(np.mean(kl))
    py_expected = np.array([0.4, 0.5, 0.1])
    want_closed = np.exp(np.mean([np.sum(p * np.log(p / py_expected))
                                  for p in ([0.7, 0.2, 0.1], [0.1, 0.8, 0.1])]))
    np.testing.assert_allclose(want, want_closed, rtol=1e-12)


# ---------------------------------------------------------------- autograd.grad options

def test_grad_is_grads_batched_gives_jacobian_rows():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (jac,) = autograd.grad(x ** 3, x, grad_outputs=tg.eye(3), is_grads_batched=True)
    np.testing.assert_allclose(jac.numpy(), np.diag([3.0, 12.0, 27.0]))
    # a scalar output with a batch of 0-d vectors
    (g,) = autograd.grad((x * x).sum(), x, grad_outputs=tg.tensor([1.0, 2.0]),
                         is_grads_batched=True)
    np.testing.assert_allclose(g.numpy(), [[2, 4, 6], [4, 8, 12]])


def test_grad_is_grads_batched_create_graph_two_outputs_and_unused():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = tg.tensor([4.0, 5.0, 6.0], requires_grad=True)
    (jac,) = autograd.grad(x ** 3, x, grad_outputs=tg.eye(3), is_grads_batched=True,
                           create_graph=True)
    jac.sum().backward()                                  # d/dx sum diag(3 x^2) = 6 x
    np.testing.assert_allclose(x.grad.numpy(), [6, 12, 18])
    gx, gy = autograd.grad([x * y, (x * x).sum()], [x, y],
                           grad_outputs=[tg.eye(3), tg.tensor([1.0, 2.0, 3.0])],
                           is_grads_batched=True)
    np.testing.assert_allclose(gx.numpy(), np.diag([4, 5, 6]) + np.outer([1, 2, 3], [2, 4, 6]))
    np.testing.assert_allclose(gy.numpy(), np.diag([1, 2, 3]))
    z = tg.ones(2, requires_grad=True)
    g, none = autograd.grad(x * 2, [x, z], grad_outputs=tg.eye(3), is_grads_batched=True,
                            allow_unused=True)
    assert none is None and g.shape == (3, 3)


def test_grad_is_grads_batched_refusals_and_graph_freed_after():
    x = tg.ones(3, requires_grad=True)
    with pytest.raises(ShapeError, match="batch dimension"):
        autograd.grad(x * x, x, grad_outputs=tg.ones(3), is_grads_batched=True)
    with pytest.raises(InputTypeError, match="leading batch"):
        autograd.grad((x * x).sum(), x, is_grads_batched=True)
    with pytest.raises(ShapeError, match="batch sizes"):
        autograd.grad([x * x, x * 2], x, grad_outputs=[tg.eye(3), tg.ones(2, 3)],
                      is_grads_batched=True)
    y = x * x
    autograd.grad(y, x, grad_outputs=tg.eye(3), is_grads_batched=True)
    with pytest.raises(AutogradError, match="freed"):          # retain_graph defaults to False
        autograd.grad(y, x, grad_outputs=tg.ones(3))
    y = x * x
    autograd.grad(y, x, grad_outputs=tg.eye(3), is_grads_batched=True, retain_graph=True)
    (g,) = autograd.grad(y, x, grad_outputs=tg.ones(3))
    np.testing.assert_allclose(g.numpy(), [2, 2, 2])


def test_grad_materialize_grads():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    z = tg.ones(3, requires_grad=True)
    gx, gz = autograd.grad((x * x).sum(), [x, z], materialize_grads=True)
    np.testing.assert_allclose(gx.numpy(), [2, 4])
    np.testing.assert_array_equal(gz.numpy(), np.zeros(3))
    assert gz.shape == z.shape and not gz.requires_grad
    _, gz = autograd.grad((x * x).sum(), [x, z], materialize_grads=True, create_graph=True)
    assert gz.requires_grad                                       # as torch: create_graph's value
    with pytest.raises(ConfigError, match="allow_unused"):
        autograd.grad((x * x).sum(), [x, z], materialize_grads=True, allow_unused=False)


def test_grad_dict_and_generator_inputs():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    w = tg.tensor(3.0, requires_grad=True)
    got = autograd.grad((x * w).sum(), {"x": x, "w": w})
    assert list(got) == ["x", "w"]
    np.testing.assert_allclose(got["x"].numpy(), [3, 3])
    np.testing.assert_allclose(float(got["w"]), 3.0)
    (g,) = autograd.grad(iter([(x * x).sum()]), (t for t in [x]),
                         grad_outputs=iter([tg.tensor(2.0)]))
    np.testing.assert_allclose(g.numpy(), [4, 8])
    with pytest.raises(InputTypeError):
        autograd.grad((x * x).sum(), "x")


def test_backward_inputs_takes_model_parameters_generator():
    m = nn.Linear(3, 1)
    x = tg.ones(2, 3, requires_grad=True)
    m(x).sum().backward(inputs=m.parameters())
    np.testing.assert_allclose(m.weight.grad.numpy(), [[2, 2, 2]])
    np.testing.assert_allclose(m.bias.grad.numpy(), [2])
    assert x.grad is None
    autograd.backward(m(x).sum(), inputs=(t for t in [x]))
    np.testing.assert_allclose(x.grad.numpy(), np.repeat(m.weight.detach().numpy(), 2, axis=0))
    with pytest.raises(InputTypeError):
        m(x).sum().backward(inputs="weight")
    with pytest.raises(InputTypeError):
        m(x).sum().backward(inputs=[])
