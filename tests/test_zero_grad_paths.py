"""Zero-derivative edges of graph-mode backward (torch's ``self: zeros_like(grad)``).

The gradient of relu / leaky_relu / hardtanh / abs / max pooling / ... with respect to their input
depends on the input only through a locally constant mask or sign.  torch's double backward still
has an edge from that gradient to the input, with derivative zero, so a parameter that a gradient
penalty reaches only that way gets a ZERO gradient (not None) -- and Adam still applies its
momentum and weight decay to it in a lazy-R1 step.  tensorgan sends the engine's ZERO_GRAD
sentinel along such edges instead of arrays of zeros."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import AutogradError

R = np.random.RandomState(0)
X = R.randn(2, 1, 6, 6)
W = R.randn(2, 1, 3, 3)
B = R.randn(2)


def T(a):
    return tg.tensor(np.asarray(a, dtype=np.float64))


def conv_leaky():
    w, b, x = T(W).requires_grad_(True), T(B).requires_grad_(True), T(X).requires_grad_(True)
    return w, b, x, F.leaky_relu(F.conv2d(x, w, b), 0.2)


def penalty_grad(w, b, x, y):
    g, = tg.autograd.grad(y.sum(), x, create_graph=True)
    return g


def test_conv_bias_behind_leaky_relu_gets_zero_grad():
    w, b, x, y = conv_leaky()
    g = penalty_grad(w, b, x, y)
    (g ** 2).sum().backward()
    assert b.grad is not None and b.grad.shape == (2,) and b.grad.dtype == b.dtype
    np.testing.assert_array_equal(b.grad.numpy(), 0.0)
    assert w.grad is not None and np.abs(w.grad.numpy()).sum() > 0


def test_existing_grad_is_kept():
    w, b, x, y = conv_leaky()
    b.grad = T([1.0, 2.0])
    g = penalty_grad(w, b, x, y)
    (g ** 2).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 2.0])


def test_autograd_grad_gives_zeros_not_an_error():
    w, b, x, y = conv_leaky()
    g = penalty_grad(w, b, x, y)
    loss = (g ** 2).sum()
    gb, gw = tg.autograd.grad(loss, [b, w], retain_graph=True)     # no allow_unused needed
    np.testing.assert_array_equal(gb.numpy(), 0.0)
    assert gb.shape == (2,)
    gb2, = tg.autograd.grad(loss, [b], allow_unused=True)
    assert gb2 is not None
    np.testing.assert_array_equal(gb2.numpy(), 0.0)


def test_backward_inputs_only_those():
    w, b, x, y = conv_leaky()
    g = penalty_grad(w, b, x, y)
    (g ** 2).sum().backward(inputs=[b])
    np.testing.assert_array_equal(b.grad.numpy(), 0.0)
    assert w.grad is None


def test_hooks_and_retain_grad_see_zeros():
    w, b, x = T(W).requires_grad_(True), T(B).requires_grad_(True), T(X).requires_grad_(True)
    seen = []
    b.register_hook(lambda gr: seen.append(gr.numpy().copy()))
    pre = F.conv2d(x, w, b)
    pre.retain_grad()
    g, = tg.autograd.grad(F.leaky_relu(pre, 0.2).sum(), x, create_graph=True)
    pre.grad = None
    (g ** 2).sum().backward()
    assert len(seen) == 1 and seen[0].shape == (2,)
    np.testing.assert_array_equal(seen[0], 0.0)
    assert pre.grad is not None and pre.grad.shape == pre.shape
    np.testing.assert_array_equal(pre.grad.numpy(), 0.0)


def test_node_hook_on_a_skipped_node_sees_zeros():
    w, b, x = T(W).requires_grad_(True), T(B).requires_grad_(True), T(X).requires_grad_(True)
    pre = F.conv2d(x, w, b)
    calls = []
    pre.grad_fn.register_hook(lambda gi, go: calls.append(
        [None if t is None else float(np.abs(t.numpy()).sum()) for t in gi]))
    c = T([0.3]).requires_grad_(True)
    g, = tg.autograd.grad(F.relu(pre + c).sum(), c, create_graph=True)   # relu's mask only
    assert g.requires_grad
    g.sum().backward()
    assert calls == [[0.0, 0.0, 0.0]]
    for p in (w, b):
        np.testing.assert_array_equal(p.grad.numpy(), 0.0)


def test_real_and_zero_paths_add():
    b = T([0.3]).requires_grad_(True)
    x = T(X).requires_grad_(True)
    g, = tg.autograd.grad(F.relu(x * 2 + b).sum(), x, create_graph=True)
    ((g ** 2).sum() + (b * 3).sum()).backward()
    np.testing.assert_array_equal(b.grad.numpy(), [3.0])


def test_graph_is_freed_along_skipped_nodes():
    b = T([0.3]).requires_grad_(True)
    x = T(X).requires_grad_(True)
    g, = tg.autograd.grad(F.relu(x * 2 + b).sum(), x, create_graph=True)
    loss = g.sum()
    loss.backward()
    with pytest.raises(AutogradError):
        loss.backward()


def test_retain_graph_allows_a_second_walk():
    b = T([0.3]).requires_grad_(True)
    x = T(X).requires_grad_(True)
    g, = tg.autograd.grad(F.leaky_relu(x * 2 + b, 0.1).sum(), x, create_graph=True)
    loss = (g * g).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(b.grad.numpy(), [0.0])


@pytest.mark.filterwarnings("ignore:Anomaly Detection")
def test_anomaly_mode_takes_the_sentinel():
    w, b, x, y = conv_leaky()
    with tg.autograd.detect_anomaly():
        g = penalty_grad(w, b, x, y)
        (g ** 2).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), 0.0)


def _mp(h):
    return F.max_pool2d(h, 2)


OPS = {
    "relu": F.relu,
    "relu_method": lambda h: h.relu(),
    "relu_inplace": lambda h: F.relu(h * 1, inplace=True),
    "leaky_relu": lambda h: F.leaky_relu(h, 0.2),
    "leaky_relu_inplace": lambda h: F.leaky_relu(h * 1, 0.2, inplace=True),
    "hardtanh": F.hardtanh,
    "relu6": F.relu6,
    "abs": lambda h: h.abs(),
    "threshold": lambda h: F.threshold(h, 0.1, 0.0),
    "hardshrink": F.hardshrink,
    "softshrink": F.softshrink,
    "prelu": lambda h: F.prelu(h, T([0.25])),
    "rrelu_eval": lambda h: F.rrelu(h, training=False),
    "l1_loss": lambda h: F.l1_loss(h, tg.zeros_like(h), reduction="none"),
    "max_pool2d": _mp,
    "max_pool2d_padded": lambda h: F.max_pool2d(h, 3, 2, padding=1),
    "max_pool1d": lambda h: F.max_pool1d(h.flatten(2), 2),
    "max_pool3d": lambda h: F.max_pool3d(h.unsqueeze(2), (1, 2, 2)),
    "adaptive_max_pool2d": lambda h: F.adaptive_max_pool2d(h, 1),
    "adaptive_max_pool1d": lambda h: F.adaptive_max_pool1d(h.flatten(2), 2),
    "fractional_max_pool2d": lambda h: F.fractional_max_pool2d(
        h, 2, output_size=3, _random_samples=tg.full((2, 1, 2), 0.5, dtype=h.dtype)),
    "l1_norm": lambda h: h.norm(p=1),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_piecewise_linear_ops_give_a_zero_gradient(name):
    x = T(X).requires_grad_(True)
    b = T([0.3]).requires_grad_(True)
    g, = tg.autograd.grad(OPS[name](x * 2 + b).sum(), x, create_graph=True)
    assert g.requires_grad          # as torch's: the gradient has an edge back to the input
    loss = (g ** 2).sum()
    gb, = tg.autograd.grad(loss, b, retain_graph=True)
    np.testing.assert_array_equal(gb.numpy(), [0.0])
    loss.backward()
    np.testing.assert_array_equal(b.grad.numpy(), [0.0])


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "abs", "max_pool2d", "hardtanh"])
def test_first_gradients_unchanged(name):
    """The values of the gradient itself and of its real paths are what they were."""
    x = T(X).requires_grad_(True)
    g, = tg.autograd.grad(OPS[name](x).sum(), x, create_graph=True)
    plain, = tg.autograd.grad(OPS[name](x).sum(), x)
    np.testing.assert_array_equal(g.detach().numpy(), plain.numpy())
    w = T([1.5]).requires_grad_(True)
    g, = tg.autograd.grad(OPS[name](x * w).sum(), x, create_graph=True)
    gw, = tg.autograd.grad((g ** 2).sum(), w)
    # g = w * d(w x): the local derivative is piecewise constant in w x, so d/dw sum(g^2) = 2 sum(g^2) / w
    expected = 2 * float((g.detach().numpy() ** 2).sum()) / 1.5
    np.testing.assert_allclose(gw.numpy(), [expected], rtol=1e-12)


def test_no_grad_recompute_path_has_no_zero_edge():
    """backward written with grad_graph under no_grad (scatter_reduce's) stays edge-free."""
    from tensorgan import ops
    x = T(X).requires_grad_(True)
    with tg.no_grad():
        g = ops.with_zero_edge(T(X), x)
    assert not g.requires_grad and g.grad_fn is None


def test_plain_backward_makes_no_zero_nodes():
    x = T(X).requires_grad_(True)
    b = T([0.3]).requires_grad_(True)
    F.leaky_relu(x * 2 + b, 0.2).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [float(np.where(X * 2 + 0.3 > 0, 1.0, 0.2).sum())])
