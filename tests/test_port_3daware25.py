"""3-D-aware GAN ports (autonomousvision/giraffe, NVlabs/eg3d tri-plane renderer): what differed from
torch 2.13, pinned without torch (invariants and closed forms)."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F


def _leaf(seed=0, shape=(3, 5)):
    rs = np.random.RandomState(seed)
    return tg.tensor(rs.random_sample(shape) + 0.5, requires_grad=True)


# ops whose torch node saves only its result: writing the op's input in place afterwards is fine
_SAVES_RESULT = {
    "sigmoid": tg.sigmoid, "tanh": tg.tanh, "exp": tg.exp, "sqrt": tg.sqrt, "relu": lambda x: tg.relu(x - 1.0),
    "rsqrt": tg.rsqrt, "reciprocal": tg.reciprocal, "3/x": lambda x: 3.0 / x,
    "softmax": lambda x: F.softmax(x, -1), "log_softmax": lambda x: F.log_softmax(x, -1),
}


def _grads(f, write, create_graph):
    a = _leaf()
    x = a * 2
    y = f(x[:, 1:]) if write == "other-view" else f(x)
    if write == "whole":
        x.add_(1)
    elif write in ("view", "other-view"):
        x[:, 0:1] += 1
    w = tg.tensor(np.random.RandomState(1).random_sample(tuple(y.shape)))
    g, = tg.autograd.grad((y * w).sum(), a, create_graph=create_graph)
    if not create_graph:
        return g.numpy(), None
    (g * g).sum().backward()
    return g.detach().numpy(), a.grad.numpy()


@pytest.mark.parametrize("name", sorted(_SAVES_RESULT))
@pytest.mark.parametrize("write", ["whole", "view", "other-view"])
def test_result_saving_ops_backprop_after_their_input_is_written_in_place(name, write):
    # EG3D's OSGDecoder + renderer: rgb = sigmoid(x[..., 1:]); sigma = x[..., 0:1]; then
    # out['sigma'] += randn_like(...) * density_noise -- torch allows it (SigmoidBackward0 saved the
    # result, not x); tensorgan refused: "Sigmoid: an input ... was modified in place".
    f = _SAVES_RESULT[name]
    # the write does not change what the op used, so the gradients are those without it
    g_ref, gg_ref = _grads_nowrite(f, write)
    g, _ = _grads(f, write, create_graph=False)
    np.testing.assert_allclose(g, g_ref, rtol=1e-13, atol=1e-15)
    g, gg = _grads(f, write, create_graph=True)           # double backward (R1-style penalties)
    np.testing.assert_allclose(g, g_ref, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(gg, gg_ref, rtol=1e-12, atol=1e-14)


def _grads_nowrite(f, write):
    a = _leaf()
    x = a * 2
    y = f(x[:, 1:]) if write == "other-view" else f(x)
    w = tg.tensor(np.random.RandomState(1).random_sample(tuple(y.shape)))
    g, = tg.autograd.grad((y * w).sum(), a, create_graph=True)
    (g * g).sum().backward()
    return g.detach().numpy(), a.grad.numpy()


@pytest.mark.parametrize("f", [tg.sigmoid, tg.reciprocal, tg.sqrt])
def test_writing_the_saved_result_through_a_view_is_still_refused(f):
    from tensorgan.errors import AutogradError
    a = _leaf()
    y = f(a * 2)
    y[:, 0] += 1                                           # torch: RuntimeError, the result was saved
    with pytest.raises(AutogradError, match="modified in place"):
        y.sum().backward()


def test_osg_decoder_density_noise_pattern_trains():
    rs = np.random.RandomState(3)
    w = tg.tensor(rs.standard_normal((5, 4)), requires_grad=True)
    feats = tg.tensor(rs.standard_normal((2, 6, 4)))
    noise = tg.tensor(rs.standard_normal((2, 6, 1)))

    def run(with_noise):
        x = (feats @ w.t())
        rgb = tg.sigmoid(x[..., 1:]) * (1 + 2 * 0.001) - 0.001
        sigma = x[..., 0:1]
        if with_noise:
            sigma += noise
        loss = (rgb ** 2).sum() + (sigma * 3).sum()
        g, = tg.autograd.grad(loss, w)
        return loss.item(), g.numpy()

    l0, g0 = run(False)
    l1, g1 = run(True)
    assert l1 == pytest.approx(l0 + 3 * float(noise.sum()), rel=1e-12)
    np.testing.assert_allclose(g1, g0, rtol=1e-13)    # an additive noise leaves the gradient


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_number_over_tensor_is_reciprocal_times_number(dtype):
    # torch's Tensor.__rtruediv__ is ``self.reciprocal() * other``: rounded twice, so 3 / x is not
    # always the correctly rounded quotient (about 30% of random x differ by one ulp); EG3D's
    # disparity sampling 1. / (1. / start * (1 - t) + 1. / end * t) and GIRAFFE's 1. / tan(...)
    x = np.random.RandomState(0).random_sample(4000).astype(dtype) + np.asarray(0.1, dtype)
    got = (3.0 / tg.tensor(x)).numpy()
    expect = np.reciprocal(x) * x.dtype.type(3)
    np.testing.assert_array_equal(got, expect)
    assert (got != x.dtype.type(3) / x).any()             # not the one-rounding quotient
    np.testing.assert_array_equal((1.0 / tg.tensor(x)).numpy(), np.reciprocal(x))
    np.testing.assert_array_equal((-2 / tg.tensor(x)).numpy(), np.reciprocal(x) * x.dtype.type(-2))
    np.testing.assert_array_equal(tg.tensor(x).reciprocal().numpy(), np.reciprocal(x))


def test_number_over_integer_tensor_and_reciprocal_dtypes():
    for t in (tg.tensor([1, 2, 7]), tg.tensor([1, 2, 7], dtype=tg.int8), tg.tensor([True, False])):
        r = 3 / t
        assert r.dtype == tg.get_default_dtype()
        v = t.numpy().astype(np.float32)
        with np.errstate(divide="ignore"):
            np.testing.assert_array_equal(r.numpy(), np.reciprocal(v) * np.float32(3))
            np.testing.assert_array_equal(t.reciprocal().numpy(), np.reciprocal(v))
    h = tg.tensor([3.0, 7.0, 0.1], dtype=tg.float16)
    assert (2.0 / h).dtype == tg.float16


def test_reciprocal_gradients_closed_form():
    a = _leaf(5)
    y = 3.0 / a
    g, = tg.autograd.grad(y.sum(), a, create_graph=True)
    an = a.detach().numpy()
    np.testing.assert_allclose(g.detach().numpy(), -3.0 / an ** 2, rtol=1e-14)
    g.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 6.0 / an ** 3, rtol=1e-14)
    assert tg.autograd.gradcheck(lambda t: 2.5 / t, (a,))
    assert tg.autograd.gradgradcheck(lambda t: t.reciprocal(), (a,))
