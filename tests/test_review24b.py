"""Review of session 24's engine changes (second pass): what a hostile user found."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import AutogradError


class _Kill(tg.autograd.Function):
    """Passes its input on; its backward sends no gradient (None) back."""
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return None


class _Affine(tg.autograd.Function):
    """y = 2x; backward 2g + 1 (so a call with zeros leaves ones: the call is visible)."""
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2 + 1


# -- a custom Function reached only by None gradients runs, hooks or not (torch's engine) --------

def test_ungraded_custom_function_runs_with_a_hook_on_its_output():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = _Affine.apply(x)
    seen = []
    y.register_hook(lambda g: seen.append(g))
    _Kill.apply(y).sum().backward()
    assert seen == [None]                       # torch's hook sees None
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])   # the node ran on zeros


def test_ungraded_custom_function_runs_with_retain_grad_on_its_output():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = _Affine.apply(x)
    y.retain_grad()
    _Kill.apply(y).sum().backward()
    assert y.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_ungraded_custom_function_runs_with_node_hooks():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = _Affine.apply(x)
    pre, post = [], []
    y.grad_fn.register_prehook(lambda go: pre.append(go))
    y.grad_fn.register_hook(lambda gi, go: post.append((gi, go)))
    _Kill.apply(y).sum().backward()
    assert pre == [(None,)]
    assert len(post) == 1 and post[0][1] == (None,)
    np.testing.assert_array_equal(post[0][0][0].numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_hook_replacing_a_none_gradient_is_refused():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = _Affine.apply(x)
    y.register_hook(lambda g: tg.ones(2))
    with pytest.raises(AutogradError, match="None gradient"):
        _Kill.apply(y).sum().backward()
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = _Affine.apply(x)
    y.grad_fn.register_prehook(lambda go: (tg.ones(2),))
    with pytest.raises(AutogradError, match="None gradient"):
        _Kill.apply(y).sum().backward()


def test_ungraded_multi_output_function_with_hooked_outputs():
    class Two(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 + g2 + 1

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    a, b = Two.apply(x)
    seen = []
    a.register_hook(lambda g: seen.append(g))
    b.retain_grad()
    _Kill.apply(a).sum().backward()
    assert seen == [None] and b.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


# -- autograd.grad through a stale read after x[i] = ... rewired the graph ------------------------

def test_autograd_grad_refuses_a_stale_read_after_setitem_as_backward_does():
    # x[3] = x[3] * x[2] after x[2] = x[2]: the Mul read x[3] / x[2], which the write changed.
    # backward() refuses (torch's version check); autograd.grad silently returned zeros for
    # row 3 (the Mul's edges pointed downstream, at the new x, so it looked unneeded).
    for grad_call in (lambda L, a: tg.autograd.grad(L, a), lambda L, a: L.backward()):
        a = tg.tensor(np.arange(1.0, 9.0).reshape(4, 2), requires_grad=True)
        x = a * 1
        x[2] = x[2]
        x[3] = x[3] * x[2]
        with pytest.raises(AutogradError, match="modified in place"):
            grad_call((x * tg.tensor(np.arange(8.0).reshape(4, 2))).sum(), a)


def test_autograd_grad_skips_an_unneeded_branch_written_under_no_grad():
    # a parameter stepped in place under no_grad keeps its node: the branch that only leads to
    # it is not run by autograd.grad (torch's), so no refusal; the input's gradient is right.
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    w = tg.tensor([3.0, 4.0], requires_grad=True)
    h = w * w
    out = (x * h).sum()
    with tg.no_grad():
        w.add_(1.0)
    (gx,) = tg.autograd.grad(out, x)
    np.testing.assert_array_equal(gx.numpy(), [9.0, 16.0])


def test_setitem_chain_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    A, V = rng.standard_normal((5, 4)), rng.standard_normal(4)
    W = np.linspace(-1.0, 1.0, 20).reshape(5, 4)

    def f(a, v):
        x = a * 1
        x[1] += v
        x[1] *= v
        x[2] -= x[1]
        x[1] /= (v + 3)
        x[:, 1] += x[:, 0]
        return (x * tg.tensor(W)).sum()

    a = tg.tensor(A, requires_grad=True)
    v = tg.tensor(V, requires_grad=True)
    ga, gv = tg.autograd.grad(f(a, v), (a, v))
    for arr, g in ((A, ga), (V, gv)):
        num = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            p, m = arr.copy(), arr.copy()
            p[i] += 1e-6
            m[i] -= 1e-6
            fp = f(tg.tensor(p), tg.tensor(V)) if arr is A else f(tg.tensor(A), tg.tensor(p))
            fm = f(tg.tensor(m), tg.tensor(V)) if arr is A else f(tg.tensor(A), tg.tensor(m))
            num[i] = (fp.item() - fm.item()) / 2e-6
        np.testing.assert_allclose(g.numpy(), num, atol=1e-6)


# -- tg.load of a hostile __namespace__ entry: typed, exact attributes ------------------------------

def _write_checkpoint(path, saved_object):
    import json
    np.savez(path, __meta__=np.array(json.dumps(
        {"format": "tensorgan-checkpoint", "format_version": 1, "saved_object": saved_object})))


def test_load_refuses_a_namespace_with_non_string_attributes(tmp_path):
    from tensorgan.errors import CheckpointError
    path = tmp_path / "h.npz"
    _write_checkpoint(path, {"args": {"__namespace__": {"__int_keys__": {"1": 2}}}})
    with pytest.raises(CheckpointError, match="__namespace__"):
        tg.load(str(path))


def test_load_namespace_keeps_odd_attribute_names_as_plain_entries(tmp_path):
    import argparse
    path = tmp_path / "h.npz"
    _write_checkpoint(path, {"args": {"__namespace__": {"__class__": 1, "lr": 0.5}}})
    args = tg.load(str(path))["args"]
    assert type(args) is argparse.Namespace and args.lr == 0.5
    assert vars(args) == {"__class__": 1, "lr": 0.5}
