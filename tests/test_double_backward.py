"""Gradients of gradients: ``create_graph=True`` and ``tensorgan.autograd.grad``.

Every op's ``grad_graph`` is checked by ``gradgradcheck`` (central differences of the first
gradient, float64), and the gradient penalty a WGAN-GP critic trains with is checked whole."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import functional as F
from tensorgan.errors import ShapeError, TensorganError

RNG = np.random.default_rng(11)
DEVICES = ["cpu"] + (["cuda"] if tg.cuda_status()[0] else [])


def leaf(*shape, positive=False):
    a = RNG.standard_normal(shape)
    return tg.tensor(np.abs(a) + 0.5 if positive else a, dtype="float64", requires_grad=True)


# name -> (fn, input shapes, positive inputs): each fn is nonlinear, so the first gradient
# depends on the inputs and the op's grad_graph is differentiated again
CASES = {
    "add_broadcast": (lambda a, b: (a + b) ** 2, [(3, 4), (4,)], False),
    "sub_broadcast": (lambda a, b: (a - b) ** 3, [(2, 1, 3), (4, 1)], False),
    "mul": (lambda a, b: a * b * a, [(3, 4), (3, 1)], False),
    "div": (lambda a, b: a / b, [(3, 4), (4,)], True),
    "neg_pow": (lambda a: (-a) ** 3 + a ** 0.5, [(5,)], True),
    "matmul_2d": (lambda a, b: a @ b, [(3, 4), (4, 2)], False),
    "matmul_batched": (lambda a, b: (a @ b) ** 2, [(2, 3, 4), (4, 2)], False),
    "matmul_vectors": (lambda a, b: (a @ b) * (b @ a.transpose(0, 1)).sum(), [(3, 4), (4,)], False),
    "sum_mean_axes": (lambda a: a.sum(axis=1) ** 2 + a.mean(axis=(0, 2), keepdims=True).sum() ** 2,
                      [(2, 3, 4)], False),
    "amax": (lambda a: a.amax(dim=1) ** 2, [(3, 5)], False),
    "reshape_permute": (lambda a: a.reshape(4, 6).permute(1, 0) ** 2, [(2, 3, 4)], False),
    "getitem_basic_and_repeated": (lambda a: a[1:, ::2] ** 2 + a[np.array([0, 0, 2])].sum() ** 2,
                                   [(3, 4)], False),
    "expand_repeat": (lambda a: a.expand(2, 3, 4) ** 2 + a.repeat(2, 1).sum() ** 2, [(3, 1)], False),
    "concat": (lambda a, b: tg.cat([a, b * a], dim=1) ** 2, [(2, 3), (2, 3)], False),
    "exp_log_sqrt": (lambda a: a.exp() * a.log() + a.sqrt(), [(6,)], True),
    "tanh_sigmoid": (lambda a: a.tanh() * a.sigmoid(), [(6,)], False),
    "relu_abs_clip": (lambda a: a.relu() ** 2 + a.abs() ** 3 + a.clip(-0.5, 0.5) ** 2, [(8,)], False),
    "where": (lambda a, b: tg.where(a > 0, a * b, b * b), [(3, 4), (4,)], False),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.2) ** 2, [(2, 3, 4)], False),
    "leaky_relu_0d": (lambda a: F.leaky_relu(a, 0.2) ** 3, [()], False),
    "linear": (lambda x, w, b: F.linear(x, w, b) ** 2, [(5, 3), (2, 3), (2,)], False),
    "conv2d_stride2": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1) ** 2,
                       [(2, 2, 5, 5), (3, 2, 3, 3), (3,)], False),
    "conv2d_bilinear": (lambda x, w: F.conv2d(x, w, stride=(1, 2)), [(1, 2, 4, 5), (2, 2, 2, 2)], False),
    "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                            output_padding=1) ** 2,
                         [(2, 3, 3, 3), (3, 2, 4, 4), (2,)], False),
    "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True) ** 2,
                         [(4, 3, 2, 2), (3,), (3,)], False),
    "batch_norm_eval": (lambda x, w: F.batch_norm(x, tg.zeros(3, dtype="float64") + 0.1,
                                                  tg.ones(3, dtype="float64") * 2.0, w) ** 2,
                        [(4, 3), (3,)], False),
    "batch_norm_leaky_relu": (lambda x, w, b: F.batch_norm_leaky_relu(x, None, None, w, b, True,
                                                                      negative_slope=0.2) ** 2,
                              [(4, 2, 3, 3), (2,), (2,)], False),
    "max_pool2d": (lambda x: F.max_pool2d(x * x.sum(), 2) ** 2, [(2, 2, 4, 4)], False),
    "max_pool2d_ragged": (lambda x: F.max_pool2d(x, (2, 3)) ** 3, [(1, 2, 5, 7)], False),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 2) ** 2, [(2, 2, 4, 4)], False),
    "avg_pool2d_ragged": (lambda x: F.avg_pool2d(x * x, (3, 2)) ** 2, [(1, 2, 7, 5)], False),
    "bce_with_logits": (lambda x, t: F.binary_cross_entropy_with_logits(x, t.sigmoid()), [(3, 4), (3, 4)], False),
    "bce": (lambda p, t: F.binary_cross_entropy(p.sigmoid(), t.sigmoid(), reduction="sum"),
            [(3, 4), (3, 4)], False),
    "log_softmax_softmax": (lambda a: F.log_softmax(a, dim=1) * F.softmax(a, dim=0), [(3, 4)], False),
    "cross_entropy": (lambda a: F.cross_entropy(a, np.array([0, 2, 1])), [(3, 4)], False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivatives_match_finite_differences(name):
    fn, shapes, positive = CASES[name]
    assert tg.gradgradcheck(fn, [leaf(*s, positive=positive) for s in shapes])


def test_gradgradcheck_catches_a_wrong_grad_graph(monkeypatch):
    # Tanh's grad_graph with the wrong sign must fail the check (the check can fail)
    monkeypatch.setattr(tg.ops.Tanh, "grad_graph", lambda self, g: (g * (self.inputs[0].tanh() ** 2 - 1.0),))
    with pytest.raises(tg.GradcheckError):
        tg.gradgradcheck(lambda a: a.tanh() ** 2, [leaf(5)])


def critic(x, w1, w2, w3):
    """A small DCGAN critic: stride-2 conv, leaky ReLU, stride-2 conv, leaky ReLU, linear."""
    h = F.leaky_relu(F.conv2d(x, w1, stride=2, padding=1), 0.2)
    h = F.leaky_relu(F.conv2d(h, w2, stride=2, padding=1), 0.2)
    return F.linear(h.reshape(h.shape[0], -1), w3)


def gradient_penalty(x, w1, w2, w3):
    with tg.enable_grad():     # gradcheck's finite differences run under no_grad
        (g,) = tg.autograd.grad(critic(x, w1, w2, w3).sum(), x, create_graph=True)
    norms = ((g * g).reshape(g.shape[0], -1).sum(dim=1) + 1e-12).sqrt()
    return ((norms - 1.0) ** 2).mean()


def test_wgan_gp_penalty_gradient_reaches_the_critic_weights():
    x, w1, w2, w3 = leaf(2, 1, 8, 8), leaf(3, 1, 4, 4), leaf(4, 3, 4, 4), leaf(1, 4 * 2 * 2)
    assert tg.gradcheck(gradient_penalty, [x, w1, w2, w3], atol=1e-6)
    gradient_penalty(x, w1, w2, w3).backward()
    assert all(np.abs(w.grad.array).sum() > 0 for w in (w1, w2, w3))


def test_penalty_through_dcgan_discriminator_in_float32():
    D = tg.models.Discriminator()
    real = tg.randn(4, 1, 28, 28, requires_grad=True)
    (g,) = tg.autograd.grad(D(real).sum(), real, create_graph=True)
    penalty = (g * g).sum()
    penalty.backward()
    # every weight gets a gradient (a bias may get none: d D / d x need not depend on it)
    for name, p in D.named_parameters():
        assert (p.grad is not None or name.endswith("bias")) and \
            (p.grad is None or np.isfinite(p.grad.array).all()), name


@pytest.mark.parametrize("device", DEVICES)
def test_penalty_on_each_device_matches_float64(device):
    # the CUDA kernels (the simulator without a GPU) serve graph mode as the CPU ones do
    weights64 = [leaf(3, 1, 4, 4), leaf(4, 3, 4, 4), leaf(1, 4 * 2 * 2)]
    x64 = leaf(2, 1, 8, 8)
    gradient_penalty(x64, *weights64).backward()
    weights = [w.detach().to("float32").to(device).requires_grad_() for w in weights64]
    gradient_penalty(x64.detach().to("float32").to(device).requires_grad_(), *weights).backward()
    for w, w64 in zip(weights, weights64):
        np.testing.assert_allclose(w.grad.numpy(), w64.grad.numpy(), rtol=2e-3, atol=1e-5)


def test_grad_returns_values_and_leaves_dot_grad_alone():
    x, y = leaf(3), leaf(3)
    gx, gy = tg.autograd.grad((x * y).sum(), [x, y])
    np.testing.assert_array_equal(gx.array, y.array)
    np.testing.assert_array_equal(gy.array, x.array)
    assert x.grad is None and y.grad is None and not gx.requires_grad


def test_grad_of_a_non_leaf_and_grad_outputs():
    x = leaf(2, 3)
    h = x * 2.0
    (gh,) = tg.autograd.grad(h ** 2, h, grad_outputs=tg.ones(2, 3, dtype="float64"))
    np.testing.assert_allclose(gh.array, 2 * h.array)


def test_backward_create_graph_keeps_the_gradient_graph():
    x = leaf(4)
    x.pow(3).sum().backward(create_graph=True)      # x.pow: torch's spelling of x ** 3
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.array, 6 * x.array)


def test_autograd_backward_of_two_outputs_walks_once():
    x = leaf(3)
    tg.autograd.backward([(x * x).sum(), (3.0 * x).sum()])
    np.testing.assert_allclose(x.grad.array, 2 * x.array + 3)


def test_hooks_see_tensor_gradients_in_graph_mode():
    x = leaf(3)
    h = x * x
    h.register_hook(lambda g: g * 2.0)
    (gx,) = tg.autograd.grad(h.sum(), x, create_graph=True)
    np.testing.assert_allclose(gx.array, 4 * x.array)
    assert gx.requires_grad


def test_errors_name_what_is_wrong():
    x, unused = leaf(3), leaf(3)
    with pytest.raises(TensorganError, match=r"inputs\[1\].*not used"):
        tg.autograd.grad((x * x).sum(), [x, unused])
    assert tg.autograd.grad((x * x).sum(), [x, unused], allow_unused=True)[1] is None
    with pytest.raises(TensorganError, match="does not require grad"):
        tg.autograd.grad((x * x).sum(), tg.zeros(3))
    with pytest.raises(ShapeError, match="non-scalar"):
        tg.autograd.grad(x * x, x)

    class Cube(tg.Function):        # a user's op with a backward but no grad_graph
        def forward(self, a):
            return a ** 3

        def backward(self, g):
            return (3 * self.inputs[0].array ** 2 * g,)

    c = leaf(2)
    with pytest.raises(TensorganError, match="Cube has no differentiable backward"):
        tg.autograd.grad(Cube.apply(c).sum(), c, create_graph=True)
    Cube.apply(c).sum().backward()                    # the first derivative still works
    np.testing.assert_allclose(c.grad.numpy(), 3 * c.numpy() ** 2)


def test_graph_is_freed_unless_kept():
    x = leaf(3)
    y = (x * x).sum()
    tg.autograd.grad(y, x)
    with pytest.raises(TensorganError, match="already freed"):
        tg.autograd.grad(y, x)
    z = (x * x).sum()
    tg.autograd.grad(z, x, create_graph=True)     # keeps the graph by default
    tg.autograd.grad(z, x)


def linear_critic(w):
    return lambda x: (x * w).reshape(x.shape[0], -1).sum(dim=1)


def test_gradient_penalty_of_a_linear_critic_is_exact():
    # D(x) = <w, x> has gradient w at every x: the penalty is (||w|| - 1)^2 whatever the
    # interpolation, and its gradient 2 (||w|| - 1) w / ||w||
    w = leaf(1, 2, 3)
    real, fake = tg.randn(4, 1, 2, 3, dtype="float64"), tg.randn(4, 1, 2, 3, dtype="float64")
    penalty = tg.losses.gradient_penalty(linear_critic(w), real, fake, generator=tg.Generator(3))
    norm = np.linalg.norm(w.array)
    np.testing.assert_allclose(penalty.item(), (norm - 1) ** 2, rtol=1e-10)
    penalty.backward()
    np.testing.assert_allclose(w.grad.array, 2 * (norm - 1) * w.array / norm, rtol=1e-8)


def test_r1_penalty_of_a_linear_critic_is_exact():
    w = leaf(1, 2, 3)
    real = tg.randn(5, 1, 2, 3, dtype="float64", requires_grad=True)
    penalty = tg.losses.r1_penalty(linear_critic(w), real)
    np.testing.assert_allclose(penalty.item(), (w.array ** 2).sum(), rtol=1e-12)
    penalty.backward()
    np.testing.assert_allclose(w.grad.array, 2 * w.array, rtol=1e-12)
    assert real.grad is None      # real was detached: its gradient is not wanted


def test_penalties_refuse_mismatched_batches():
    w = leaf(1, 2, 3)
    with pytest.raises(ShapeError, match="real .* and fake"):
        tg.losses.gradient_penalty(linear_critic(w), tg.randn(4, 1, 2, 3), tg.randn(3, 1, 2, 3))
    with pytest.raises(ShapeError, match="non-empty batch"):
        tg.losses.r1_penalty(linear_critic(w), tg.randn(0, 1, 2, 3))


def test_hooks_on_batch_norm_operands_run_once_in_graph_mode():
    # batch norm's grad_graph differentiates a recomputation: its inner walk must not run the
    # operands' hooks (or fill retained gradients) a second time
    results = {}
    for create_graph in (False, True):
        x0 = tg.tensor(np.arange(12.0).reshape(4, 3) ** 1.5 / 7, dtype="float64", requires_grad=True)
        w = tg.tensor([0.5, -1.5, 2.0], dtype="float64", requires_grad=True)
        calls = []
        x = x0 * 1.0
        x.register_hook(lambda g: calls.append("x") or g * 2.0)
        w.register_hook(lambda g: calls.append("w") or g * 2.0)
        x.retain_grad()
        (F.batch_norm(x, None, None, w, training=True) ** 3).sum().backward(create_graph=create_graph)
        results[create_graph] = (sorted(calls), x0.grad.numpy(), x.grad.numpy(), w.grad.numpy())
    plain, graph = results[False], results[True]
    assert graph[0] == plain[0] == ["w", "x"]
    for a, b in zip(plain[1:], graph[1:]):
        np.testing.assert_allclose(b, a, rtol=1e-10)
