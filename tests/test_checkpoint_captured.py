"""utils.checkpoint with a block that closes over an earlier activation (not an argument): the
activation is a boundary of the checkpoint's node, as in torch's non-reentrant variant."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.utils.checkpoint import checkpoint


def _setup():
    a = tg.ones(3, requires_grad=True)
    x = tg.ones(3, requires_grad=True)
    z = a * 2                                  # an activation the block captures
    return a, x, z


@pytest.mark.parametrize("also_outside", [False, True])
def test_captured_activation_gets_its_gradient(also_outside):
    a, x, z = _setup()
    y = checkpoint(lambda t: t * z, x, use_reentrant=False)
    loss = y.sum() + (z.sum() if also_outside else 0)
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2])                 # d(x*z)/dx = z
    np.testing.assert_array_equal(a.grad.numpy(), [4, 4, 4] if also_outside else [2, 2, 2])


def test_captured_activation_with_autograd_grad_and_retain():
    a, x, z = _setup()
    y = checkpoint(lambda t: (t * z).tanh(), x, use_reentrant=False)
    loss = y.sum() + z.sum()
    ga, gx = tg.autograd.grad(loss, [a, x], retain_graph=True)
    d = 1 - np.tanh(2.0) ** 2
    np.testing.assert_allclose(gx.numpy(), [2 * d] * 3, rtol=1e-6)
    np.testing.assert_allclose(ga.numpy(), [2 * d + 2] * 3, rtol=1e-6)
    loss.backward()                            # the outer graph is still whole
    np.testing.assert_allclose(a.grad.numpy(), [2 * d + 2] * 3, rtol=1e-6)


def test_captured_activation_matches_the_plain_run_in_a_module_block():
    tg.manual_seed(0)
    lin = tg.nn.Linear(4, 4)
    x = tg.randn(2, 4, requires_grad=True)
    w = tg.randn(4, requires_grad=True)
    results = []
    for use_checkpoint in (False, True):
        for t in (x, w, *lin.parameters()):
            t.grad = None
        h = (x * w).relu()                     # captured by the block below
        block = lambda u: lin(u + h).sigmoid()  # noqa: E731
        out = checkpoint(block, x, use_reentrant=False) if use_checkpoint else block(x)
        (out.sum() + h.sum()).backward()
        results.append([t.grad.numpy().copy() for t in (x, w, *lin.parameters())])
    for plain, ckpt in zip(*results):
        np.testing.assert_allclose(ckpt, plain, rtol=1e-6, atol=1e-7)
