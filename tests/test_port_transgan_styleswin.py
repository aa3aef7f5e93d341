"""Gaps found porting the transformer GANs TransGAN (ViT generator / discriminator, relative
position bias, DiffAugment, WGAN-GP, EMA) and StyleSwin (window attention, AdaIN, SPE, upfirdn2d):
einsum's size-1 broadcasting and sublist form, and ``x.to(x.get_device())`` / ``x.to(0)``."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DeviceError, InputTypeError, ShapeError


def _t(a, grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# -- einsum: size-1 letters broadcast, as torch's ----------------------------------------------
def test_einsum_broadcasts_size_one_letters_forward_and_backward():
    rs = np.random.RandomState(0)
    q, k = rs.randn(1, 3, 4, 5), rs.randn(2, 1, 6, 5)      # a batch-1 query against per-head keys
    tq, tk = _t(q, True), _t(k, True)
    out = tg.einsum("bhid,bhjd->bhij", tq, tk)
    qb, kb = np.broadcast_to(q, (2, 3, 4, 5)), np.broadcast_to(k, (2, 3, 6, 5))
    want = np.einsum("bhid,bhjd->bhij", qb, kb)
    assert out.shape == (2, 3, 4, 6)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12)
    w = rs.randn(2, 3, 4, 6)
    (out * _t(w)).sum().backward()
    # the broadcast operand's gradient sums over the dims it was broadcast along
    np.testing.assert_allclose(tq.grad.numpy(), np.einsum("bhij,bhjd->bhid", w, kb).sum(0, keepdims=True),
                               rtol=1e-12)
    np.testing.assert_allclose(tk.grad.numpy(), np.einsum("bhij,bhid->bhjd", w, qb).sum(1, keepdims=True),
                               rtol=1e-12)


def test_einsum_broadcasts_ellipsis_and_contracted_letters():
    rs = np.random.RandomState(1)
    a, b = rs.randn(2, 1, 4, 5), rs.randn(3, 5, 6)
    out = tg.einsum("...ij,...jk", _t(a), _t(b))
    assert out.shape == (2, 3, 4, 6)
    np.testing.assert_allclose(out.numpy(), np.matmul(a, b), rtol=1e-12)
    # a contracted letter of size 1 broadcasts too: sum_j x[i, 0] * y[j, k] over j of size 3
    x, y = rs.randn(2, 1), rs.randn(3, 4)
    np.testing.assert_allclose(tg.einsum("ij,jk->ik", _t(x), _t(y)).numpy(), x * y.sum(0), rtol=1e-12)
    np.testing.assert_allclose(tg.einsum("ij,ij->ij", _t(np.ones((1, 3))), _t(x.repeat(3, 1))).numpy(),
                               x.repeat(3, 1), rtol=1e-12)


def test_einsum_still_refuses_sizes_that_do_not_broadcast():
    with pytest.raises(ShapeError, match="do not broadcast"):
        tg.einsum("ij,ij->ij", tg.ones(2, 3), tg.ones(3, 3))
    with pytest.raises(ShapeError, match="needs equal sizes"):
        tg.einsum("ii->i", tg.ones(1, 3))


# -- einsum: torch's sublist form -------------------------------------------------------------
def test_einsum_sublist_form_matches_the_equation_form():
    rs = np.random.RandomState(2)
    a, b = rs.randn(2, 3, 4, 5), rs.randn(2, 3, 5, 6)
    ta, tb = _t(a, True), _t(b, True)
    out = tg.einsum(ta, [0, 1, 2, 3], tb, [0, 1, 3, 4], [0, 1, 2, 4])
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(ta.grad.numpy(), np.ones((2, 3, 4, 6)) @ np.swapaxes(b, -1, -2), rtol=1e-12)
    # Ellipsis in the lists, and the implicit output
    np.testing.assert_allclose(tg.einsum(_t(a), [Ellipsis, 2, 3], _t(b), [Ellipsis, 3, 4], [Ellipsis, 4]).numpy(),
                               (a @ b).sum(-2), rtol=1e-12)
    # implicit output: the ints seen once (2 and 4), the shared batch ints 0 and 1 summed away
    np.testing.assert_allclose(tg.einsum(_t(a), [0, 1, 2, 30], _t(b), [0, 1, 30, 4]).numpy(),
                               (a @ b).sum((0, 1)), rtol=1e-12)


def test_einsum_sublist_implicit_output_orders_ints_as_torch():
    # ints 0-25 come before 26-51 in the implicit output (torch maps them to 'A'-'Z', 'a'-'z')
    a = np.arange(6.0).reshape(2, 3)
    out = tg.einsum(_t(a), [27, 1])
    assert out.shape == (3, 2)
    np.testing.assert_array_equal(out.numpy(), a.T)


def test_einsum_sublist_form_refuses_bad_subscripts():
    with pytest.raises(ShapeError, match=r"\[0, 52\)"):
        tg.einsum(tg.ones(2, 3), [0, 52])
    with pytest.raises(InputTypeError, match="subscript list"):
        tg.einsum(tg.ones(2, 3), "ij")
    with pytest.raises(InputTypeError, match="sublist form"):
        tg.einsum(tg.ones(2, 3), [0, 1], tg.ones(3))


# -- x.to(int): a device ordinal, never a dtype -----------------------------------------------
def test_to_negative_device_index_is_a_device_error():
    x = tg.zeros(2)
    assert x.get_device() == -1
    with pytest.raises(DeviceError, match="must not be negative"):
        x.to(x.get_device())            # TransGAN's x.to(x.get_device()) run on the CPU
    with pytest.raises(RuntimeError):   # torch's is a RuntimeError too
        x.to(-1)


def test_to_device_ordinal_means_cuda():
    x = tg.zeros(2)
    if tg.cuda.is_available():
        assert x.to(0).device.type == "cuda"
        assert x.to(0, tg.float64).dtype == tg.float64
    else:
        for call in (lambda: x.to(0), lambda: x.to(0, tg.float64), lambda: x.to(device=0)):
            with pytest.raises(DeviceError, match="cuda"):
                call()
    assert x.to(tg.float64).dtype == tg.float64 and x.to("cpu") is x


# -- register_buffer / register_parameter over an existing attribute: torch's KeyError ---------
def test_register_buffer_refuses_to_shadow_an_attribute_parameter_or_submodule():
    import tensorgan.nn as nn
    m = nn.Module()
    m.scale = 2.0                      # a plain attribute
    m.p = nn.Parameter(tg.zeros(1))
    m.sub = nn.Linear(1, 1)
    for name in ("scale", "p", "sub", "training"):
        with pytest.raises(KeyError, match=f"attribute '{name}' already exists"):
            m.register_buffer(name, tg.zeros(1))
    assert m.scale == 2.0 and isinstance(m.p, nn.Parameter) and isinstance(m.sub, nn.Linear)
    assert "scale" not in m.state_dict() and "p" in m.state_dict()
    # re-registering a buffer, or filling a None one, is fine
    m.register_buffer("idx", tg.arange(3))
    m.register_buffer("idx", tg.arange(4))
    m.register_buffer("mask", None)
    m.register_buffer("mask", tg.ones(2))
    assert m.idx.tolist() == [0, 1, 2, 3] and m.mask.tolist() == [1.0, 1.0]


def test_register_parameter_refuses_to_shadow_a_buffer_or_attribute():
    import tensorgan.nn as nn
    m = nn.Module()
    m.register_buffer("b", tg.zeros(1))
    m.c = "x"
    for name in ("b", "c"):
        with pytest.raises(KeyError, match="already exists"):
            m.register_parameter(name, nn.Parameter(tg.ones(1)))
    m.register_parameter("w", None)
    m.register_parameter("w", nn.Parameter(tg.ones(2)))
    assert set(m.state_dict()) == {"w", "b"} and m.w.tolist() == [1.0, 1.0]


# -- a custom Function's backward runs though no gradient came (StyleSwin's fused ops) ----------
def _functions():
    calls = []

    class Double(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            calls.append(None if g is None else g.tolist())
            return None if g is None else g * 2

    class NoGradForSecond(tg.autograd.Function):       # StyleSwin's FusedLeakyReLUFunctionBackward
        @staticmethod                                     # returns None for the saved output
        def forward(ctx, c, o):
            return c * o

        @staticmethod
        def backward(ctx, g):
            return g * 2, None

    return calls, Double, NoGradForSecond


def test_custom_function_reached_only_by_none_runs_with_zero_gradient():
    calls, Double, NoGradForSecond = _functions()
    a, c = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    NoGradForSecond.apply(c, Double.apply(a)).sum().backward()
    # torch's engine calls Double's backward with zeros: a's grad is zeros, not None (Adam then
    # still steps a from its moments, as torch's does)
    assert calls == [[0.0, 0.0]]
    assert a.grad is not None and a.grad.tolist() == [0.0, 0.0]
    assert c.grad.tolist() == [2.0, 2.0]
    # through a built-in op in between too, and for autograd.grad
    calls.clear()
    a = tg.ones(2, requires_grad=True)
    ga, gc = tg.autograd.grad(NoGradForSecond.apply(c, Double.apply(a) * 3).sum(), [a, c])
    assert calls == [[0.0, 0.0]] and ga.tolist() == [0.0, 0.0] and gc.tolist() == [2.0, 2.0]


def test_custom_function_without_materialize_gets_none_and_builtins_pass_none_on():
    _, _, NoGradForSecond = _functions()
    seen = []

    class Raw(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.set_materialize_grads(False)
            return a * 2

        @staticmethod
        def backward(ctx, g):
            seen.append(g)
            return None if g is None else g * 2

    a, c = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    NoGradForSecond.apply(c, Raw.apply(a)).sum().backward()
    assert seen == [None] and a.grad is None
    # a built-in op alone passes "no gradient" on: the leaf keeps None, as torch's
    b = tg.ones(2, requires_grad=True)
    NoGradForSecond.apply(c, b * 2).sum().backward()
    assert b.grad is None


def test_multi_output_custom_function_reached_only_by_none_sees_zeros():
    seen = []

    class Two(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1.tolist(), g2.tolist()))
            return g1 * 2 + g2 * 3

    class NoneForRest(tg.autograd.Function):
        @staticmethod
        def forward(ctx, c, x, y):
            return c * (x + y)

        @staticmethod
        def backward(ctx, g):
            return g, None, None

    a, c = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    NoneForRest.apply(c, *Two.apply(a)).sum().backward()
    assert seen == [([0.0, 0.0], [0.0, 0.0])] and a.grad.tolist() == [0.0, 0.0]


# -- tg.save({"args": args}): StyleSwin's / TransGAN's checkpoints hold the argparse Namespace ---
def test_save_and_load_keep_an_argparse_namespace(tmp_path):
    import argparse
    from tensorgan.errors import CheckpointError
    args = argparse.Namespace(G_lr=2e-4, size=16, path_helper={"ckpt_path": "/tmp/x"},
                              grow_steps=[0, 0], ttur=False, ckpt=None, shape=(4, 4))
    model = tg.nn.Linear(2, 2)
    path = tmp_path / "000100.pt"
    tg.save({"g": model.state_dict(), "args": args, "runs": [args]}, path)
    out = tg.load(path)
    assert isinstance(out["args"], argparse.Namespace) and isinstance(out["runs"][0], argparse.Namespace)
    assert vars(out["args"]) == vars(args)          # the tuple stays a tuple, the dict a dict
    np.testing.assert_array_equal(out["g"]["weight"].numpy(), model.weight.detach().numpy())
    # what a Namespace holds is checked as any entry: no pickle for an object inside it
    with pytest.raises(CheckpointError, match="args/fn"):
        tg.save({"args": argparse.Namespace(fn=object())}, tmp_path / "bad.pt")
