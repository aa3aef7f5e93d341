"""Everyday training ops fused for speed (session 29): SiLU, GELU (erf and tanh) and Mish as one
node each, checked against NumPy references, finite differences (first and second gradients,
float64) and, in float32, against the unfused composite forms they replaced."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan import ops

_ERF = np.vectorize(math.erf)


def _gelu_ref(x):
    return x * 0.5 * (1 + _ERF(x / math.sqrt(2)))


def _gelu_tanh_ref(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


ACTIVATIONS = {   # name: (tensorgan call, NumPy reference, the unfused composite form)
    "silu": (F.silu, lambda x: x / (1 + np.exp(-x)), lambda t: t * ops.Sigmoid.apply(t)),
    "gelu": (F.gelu, _gelu_ref, lambda t: t * tg.functional.NormalCdf.apply(t)),
    "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"), _gelu_tanh_ref,
                  lambda t: 0.5 * t * (1.0 + ((t + 0.044715 * t * t * t) * math.sqrt(2 / math.pi)).tanh())),
    "mish": (F.mish, lambda x: x * np.tanh(np.logaddexp(0, x)), lambda t: t * F.softplus(t).tanh()),
}
NODE_NAMES = {"silu": "SiluBackward0", "gelu": "GeluBackward0", "gelu_tanh": "GeluBackward0",
              "mish": "MishBackward0"}


def _points(dtype=np.float64):
    rng = np.random.default_rng(29)
    return np.concatenate([rng.standard_normal(200) * 3, [0.0, 1e-7, -1e-7, 4.0, -4.0, 7.5, -7.5,
                                                          30.0, -30.0]]).astype(dtype)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_fused_activation_values_and_one_node(name):
    fn, ref, _ = ACTIVATIONS[name]
    x = tg.tensor(_points(), requires_grad=True)
    y = fn(x)
    np.testing.assert_allclose(y.detach().numpy(), ref(_points()), rtol=1e-13, atol=1e-15)
    assert y.grad_fn.name() == NODE_NAMES[name]
    assert type(y.grad_fn.next_functions[0][0]).__name__ == "AccumulateGrad"     # one node


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_fused_activation_first_and_second_gradients(name):
    fn = ACTIVATIONS[name][0]
    x = tg.tensor([-6.0, -2.5, -0.7, 0.0, 0.3, 1.9, 8.0], dtype=tg.float64, requires_grad=True)
    assert tg.gradcheck(fn, [x]) and tg.gradgradcheck(fn, [x])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_fused_activation_plain_backward_matches_differentiable_one(name):
    fn = ACTIVATIONS[name][0]
    x = tg.tensor(_points(), requires_grad=True)
    w = tg.tensor(np.cos(_points()))
    plain, = tg.autograd.grad((fn(x) * w).sum(), x)
    graph, = tg.autograd.grad((fn(x) * w).sum(), x, create_graph=True)
    np.testing.assert_allclose(plain.numpy(), graph.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_fused_activation_float32_agrees_with_unfused(name):
    fn, _, composite = ACTIVATIONS[name]
    values = _points(np.float32)
    grads = []
    for f in (fn, composite):
        x = tg.tensor(values, requires_grad=True)
        y = f(x)
        y.backward(tg.tensor(np.cos(values)))
        grads.append((y.detach().numpy(), x.grad.numpy()))
    (y1, g1), (y2, g2) = grads
    assert y1.dtype == np.float32 and g1.dtype == np.float32
    np.testing.assert_allclose(y1, y2, rtol=2e-6, atol=2e-7)
    np.testing.assert_allclose(g1, g2, rtol=2e-6, atol=2e-7)


def test_gelu_float32_kernel_is_near_exact_everywhere():
    """The CPU float32 GELU's kernel: within ~an ulp of the exact GELU (float64) across the
    range, x itself far above, the lower tail relatively accurate (not rounded to 0: session 31),
    non-contiguous input fine."""
    x = np.linspace(-12, 12, 48000, dtype=np.float32).reshape(3, -1).T     # (a strided view)
    y = F.gelu(tg.tensor(x)).numpy()
    exact = _gelu_ref(x.astype(np.float64))
    assert np.all(np.abs(y - exact) <= 1e-7 + 2e-7 * np.abs(exact))
    far = F.gelu(tg.tensor(np.array([-9.0, -6.0, 6.0, 9.0], np.float32))).numpy()
    np.testing.assert_array_equal(far[2:], [6.0, 9.0])
    tail = np.array([-9.0, -6.0]) * np.vectorize(math.erfc)(np.array([9.0, 6.0]) / math.sqrt(2)) / 2
    np.testing.assert_allclose(far[:2], tail, rtol=2e-7)


def test_fused_activations_non_finite_inputs():
    v = tg.tensor(np.array([np.nan, np.inf, -np.inf], np.float32))
    for name in ("silu", "gelu", "gelu_tanh", "mish"):
        y = ACTIVATIONS[name][0](v).numpy()
        assert np.isnan(y[0]) and y[1] == np.inf and np.isnan(y[2]), name   # -inf * 0: NaN
    big = tg.tensor(np.array([-1e4, 1e4], np.float32), requires_grad=True)
    with np.errstate(all="raise"):      # no overflow warnings leak out
        for name in ACTIVATIONS:
            y = ACTIVATIONS[name][0](big)
            y.sum().backward()
    assert np.isfinite(big.grad.numpy()).all()


@pytest.mark.parametrize("in_place, out_of_place", [
    (lambda h: F.silu(h, inplace=True), F.silu), (lambda h: tg.nn.SiLU(inplace=True)(h), F.silu),
    (lambda h: F.mish(h, inplace=True), F.mish)])
def test_fused_in_place_activation_keeps_torch_semantics(in_place, out_of_place):
    values = _points()[:20]
    grads = []
    for fn in (in_place, out_of_place):
        x = tg.tensor(values, requires_grad=True)
        h = x * 2.0
        y = fn(h)
        assert (y is h) == (fn is in_place)
        (y * y).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-14)
    leaf = tg.tensor(values, requires_grad=True)
    with pytest.raises(RuntimeError):          # a leaf that requires grad: refused, as torch
        in_place(leaf)


def test_fused_activations_zero_dim_and_half():
    for name, (fn, ref, _) in ACTIVATIONS.items():
        x = tg.tensor(0.75, dtype=tg.float64, requires_grad=True)
        y = fn(x)
        y.backward()
        assert y.shape == () and abs(float(y.detach()) - float(ref(np.float64(0.75)))) < 1e-14, name
        assert x.grad.shape == ()
        h = fn(tg.tensor([0.5, -1.5], dtype=tg.float16))
        assert h.dtype == tg.float16, name


# -- layer / group norm with their affine in one node ---------------------------------------------

def _norm_ref(x, rows, w, b, affine_shape, eps=1e-5):
    r = x.reshape(rows, -1)
    y = ((r - r.mean(1, keepdims=True)) / np.sqrt(r.var(1, keepdims=True) + eps)).reshape(x.shape)
    if w is not None:
        y = y * w.reshape(affine_shape)
    return y if b is None else y + b.reshape(affine_shape)


NORMS = {   # name: (call, rows of x (2, 6, 3, 4), affine shape, torch's node)
    "group": (lambda x, w, b: F.group_norm(x, 3, w, b), 6, (6,), (1, 6, 1, 1), "NativeGroupNormBackward0"),
    "layer": (lambda x, w, b: F.layer_norm(x, (3, 4), w, b), 12, (3, 4), (3, 4), "NativeLayerNormBackward0"),
}


def _norm_operands(name, affine, dtype=np.float64):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 6, 3, 4)) * 3 + 1
    pshape = NORMS[name][2]
    w = rng.standard_normal(pshape) if "w" in affine else None
    b = rng.standard_normal(pshape) if "b" in affine else None
    return [None if v is None else tg.tensor(v.astype(dtype), requires_grad=True) for v in (x, w, b)]


@pytest.mark.parametrize("affine", ["wb", "w", "b", ""])
@pytest.mark.parametrize("name", NORMS)
def test_fused_norm_values_node_and_gradients(name, affine):
    fn, rows, _, affine_shape, node = NORMS[name]
    x, w, b = _norm_operands(name, affine)
    y = fn(x, w, b)
    assert y.grad_fn.name() == node
    ref = _norm_ref(x.numpy(), rows, None if w is None else w.numpy(), None if b is None else b.numpy(),
                    affine_shape)
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-12, atol=1e-12)
    inputs = [t for t in (x, w, b) if t is not None]

    def call(*ts):
        it = iter(ts)
        return fn(next(it), next(it) if w is not None else None, next(it) if b is not None else None)
    assert tg.gradcheck(call, inputs) and tg.gradgradcheck(call, inputs)


@pytest.mark.parametrize("name", NORMS)
def test_fused_norm_float32_agrees_with_unfused(name):
    fn, rows, _, affine_shape, _ = NORMS[name]
    results = []
    for fused in (True, False):
        x, w, b = _norm_operands(name, "wb", np.float32)
        if fused:
            y = fn(x, w, b)
        else:
            y = tg.functional._normalized(x.reshape(rows, -1), (1,), 1e-5).reshape(*x.shape)
            y = y * w.reshape(affine_shape) + b.reshape(affine_shape)
        y.backward(tg.tensor(np.cos(np.arange(y.numel())).reshape(y.shape).astype(np.float32)))
        results.append([y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()])
    for fused, unfused in zip(*results):
        assert fused.dtype == np.float32
        np.testing.assert_allclose(fused, unfused, rtol=1e-5, atol=1e-5)


def test_fused_norm_modules_and_frozen_affine():
    x = tg.tensor(np.random.default_rng(3).standard_normal((4, 8, 5)), requires_grad=True)
    for module in (tg.nn.GroupNorm(4, 8), tg.nn.LayerNorm(5), tg.nn.LayerNorm(5, bias=False),
                   tg.nn.LayerNorm(5, elementwise_affine=False)):
        module.double()
        for p in module.parameters():
            p.requires_grad_(False)          # only x's gradient wanted
        y = module(x)
        assert y.grad_fn.name().startswith("Native")
        y.sum().backward()
        assert x.grad is not None and np.abs(x.grad.numpy()).max() < 1e-9   # sums of a norm: 0
        x.grad = None
    with pytest.raises(tg.errors.ShapeError, match="weight must be a tensor of 8"):
        F.group_norm(x, 4, tg.ones(5, dtype=tg.float64))
