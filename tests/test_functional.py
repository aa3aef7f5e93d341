"""The kernel-backed ops of tensorgan.functional through the engine: gradients against central
differences in float64 (on the device's real kernels), argument checks, and the CUDA device (the
simulator, or a real GPU) against the CPU device."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import tensorgan as tg
from tensorgan import functional as F
from tensorgan.kernels.shapes import conv2d_output_size, conv_transpose2d_output_size

SETTINGS = settings(max_examples=15, deadline=None)


def t64(array, requires_grad=True, device="cpu"):
    return tg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad, device=device)


@st.composite
def conv_config(draw, transpose=False):
    n, cin, cout = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    oph, opw = (draw(st.integers(0, sh - 1)), draw(st.integers(0, sw - 1))) if transpose else (0, 0)
    if transpose:
        assume(conv_transpose2d_output_size(h, kh, sh, ph, oph) > 0)
        assume(conv_transpose2d_output_size(w, kw, sw, pw, opw) > 0)
    else:
        assume(h + 2 * ph >= kh and w + 2 * pw >= kw)
    bias = draw(st.booleans())
    return dict(n=n, cin=cin, cout=cout, k=(kh, kw), s=(sh, sw), p=(ph, pw), hw=(h, w), op=(oph, opw), bias=bias)


@SETTINGS
@given(cfg=conv_config(), seed=st.integers(0, 2**16))
def test_conv2d_gradients(cfg, seed):
    rng = np.random.default_rng(seed)
    x = t64(rng.standard_normal((cfg["n"], cfg["cin"]) + cfg["hw"]))
    w = t64(rng.standard_normal((cfg["cout"], cfg["cin"]) + cfg["k"]))
    b = t64(rng.standard_normal(cfg["cout"])) if cfg["bias"] else None
    y = F.conv2d(x, w, b, cfg["s"], cfg["p"])
    oh = conv2d_output_size(cfg["hw"][0], cfg["k"][0], cfg["s"][0], cfg["p"][0])
    ow = conv2d_output_size(cfg["hw"][1], cfg["k"][1], cfg["s"][1], cfg["p"][1])
    assert y.shape == (cfg["n"], cfg["cout"], oh, ow)
    inputs = [x, w] + ([b] if b is not None else [])
    assert tg.gradcheck(lambda x, w, *b: F.conv2d(x, w, b[0] if b else None, cfg["s"], cfg["p"]), inputs)


@SETTINGS
@given(cfg=conv_config(transpose=True), seed=st.integers(0, 2**16))
def test_conv_transpose2d_gradients(cfg, seed):
    rng = np.random.default_rng(seed)
    x = t64(rng.standard_normal((cfg["n"], cfg["cin"]) + cfg["hw"]))
    w = t64(rng.standard_normal((cfg["cin"], cfg["cout"]) + cfg["k"]))
    b = t64(rng.standard_normal(cfg["cout"])) if cfg["bias"] else None
    fn = lambda x, w, *b: F.conv_transpose2d(x, w, b[0] if b else None, cfg["s"], cfg["p"], cfg["op"])
    y = fn(x, w, *([b] if b is not None else []))
    want_h = conv_transpose2d_output_size(cfg["hw"][0], cfg["k"][0], cfg["s"][0], cfg["p"][0], cfg["op"][0])
    assert y.shape[2] == want_h
    assert tg.gradcheck(fn, [x, w] + ([b] if b is not None else []))


@SETTINGS
@given(four_d=st.booleans(), affine=st.booleans(), seed=st.integers(0, 2**16),
       momentum=st.floats(0.0, 1.0), eps=st.sampled_from([1e-5, 1e-3, 0.1]))
def test_batch_norm_training_gradients_and_running_stats(four_d, affine, seed, momentum, eps):
    rng = np.random.default_rng(seed)
    shape = (3, 2, 2, 3) if four_d else (4, 3)
    c = shape[1]
    x = t64(rng.standard_normal(shape) * 2 + 1)
    w, b = (t64(rng.standard_normal(c)), t64(rng.standard_normal(c))) if affine else (None, None)
    rm, rv = t64(np.zeros(c), False), t64(np.ones(c), False)
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=momentum, eps=eps)
    axes = (0, 2, 3) if four_d else (0,)
    xa = x.numpy()
    mean, var = xa.mean(axis=axes), xa.var(axis=axes)
    bshape = (1, c, 1, 1) if four_d else (1, c)
    want = (xa - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + eps)
    if affine:
        want = want * w.numpy().reshape(bshape) + b.numpy().reshape(bshape)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-12)
    m = xa.size // c
    np.testing.assert_allclose(rm.numpy(), momentum * mean, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(rv.numpy(), (1 - momentum) + momentum * var * m / (m - 1), rtol=1e-10)
    inputs = [x] + ([w, b] if affine else [])
    fn = lambda x, *wb: F.batch_norm(x, None, None, *(wb or (None, None)), training=True, eps=eps)
    assert tg.gradcheck(fn, inputs)


def test_batch_norm_eval_uses_running_stats_and_is_differentiable():
    rng = np.random.default_rng(0)
    x, w, b = t64(rng.standard_normal((2, 3, 2, 2))), t64(rng.standard_normal(3)), t64(rng.standard_normal(3))
    rm, rv = t64([0.5, -1.0, 2.0], False), t64([1.5, 0.5, 2.0], False)
    y = F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-5)
    want = ((x.numpy() - rm.numpy()[None, :, None, None]) / np.sqrt(rv.numpy()[None, :, None, None] + 1e-5)
            * w.numpy()[None, :, None, None] + b.numpy()[None, :, None, None])
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12)
    np.testing.assert_array_equal(rm.numpy(), [0.5, -1.0, 2.0])  # eval leaves the stats alone
    assert tg.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), [x, w, b])


@SETTINGS
@given(four_d=st.booleans(), affine=st.booleans(), training=st.booleans(), seed=st.integers(0, 2**16),
       slope=st.sampled_from([0.2, 0.0, -0.3]))
def test_batch_norm_leaky_relu_is_batch_norm_then_leaky_relu_and_differentiable(four_d, affine, training,
                                                                                seed, slope):
    rng = np.random.default_rng(seed)
    shape = (3, 2, 2, 3) if four_d else (4, 3)
    c = shape[1]
    x = t64(rng.standard_normal(shape) * 2 + 1)
    w, b = (t64(rng.standard_normal(c)), t64(rng.standard_normal(c))) if affine else (None, None)
    stats = [t64(rng.standard_normal(c), False), t64(rng.uniform(0.5, 2.0, c), False)]
    want_stats = [t64(s.numpy(), False) for s in stats]
    y = F.batch_norm_leaky_relu(x, *stats, w, b, training=training, momentum=0.3, eps=1e-3,
                                negative_slope=slope)
    z = F.batch_norm(x, *want_stats, w, b, training=training, momentum=0.3, eps=1e-3)
    np.testing.assert_allclose(y.numpy(), F.leaky_relu(z, slope).numpy(), rtol=1e-12, atol=1e-12)
    for got, want in zip(stats, want_stats):   # the same running-statistics update (or none)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    assume(np.abs(z.numpy()).min() > 1e-3)    # finite differences must not straddle the kink
    inputs = [x] + ([w, b] if affine else [])

    def fn(x, *wb):
        wb = wb or (None, None)
        if training:
            return F.batch_norm_leaky_relu(x, None, None, *wb, training=True, eps=1e-3,
                                           negative_slope=slope)
        return F.batch_norm_leaky_relu(x, *want_stats, *wb, training=False, eps=1e-3,
                                       negative_slope=slope)

    assert tg.gradcheck(fn, inputs)


@SETTINGS
@given(seed=st.integers(0, 2**16), slope=st.floats(0.0, 0.5))
def test_leaky_relu_gradient(seed, slope):
    a = np.random.default_rng(seed).standard_normal((2, 3, 4))
    a = np.where(np.abs(a) < 1e-3, 0.5, a)  # away from the kink
    x = t64(a)
    np.testing.assert_allclose(F.leaky_relu(x, slope).numpy(), np.where(a > 0, a, slope * a))
    assert tg.gradcheck(lambda t: F.leaky_relu(t, slope), [x])


# ------------------------------------------------------------------------------------------------
# Argument checks
# ------------------------------------------------------------------------------------------------
def test_conv_argument_errors_name_the_problem():
    x = tg.ones(1, 3, 5, 5)
    with pytest.raises(tg.ShapeError, match=r"input has 3 channels but weight \(4, 2, 3, 3\) expects 2"):
        F.conv2d(x, tg.ones(4, 2, 3, 3))
    with pytest.raises(tg.ShapeError, match=r"kernel \(7, 7\) is larger than the padded input 5"):
        F.conv2d(x, tg.ones(4, 3, 7, 7))
    with pytest.raises(tg.ShapeError, match=r"input must be \(N, C, H, W\) or unbatched \(C, H, W\), got shape \(5, 5\)"):
        F.conv2d(tg.ones(5, 5), tg.ones(4, 3, 3, 3))
    with pytest.raises(tg.ConfigError, match="stride must be >= 1"):
        F.conv2d(x, tg.ones(4, 3, 3, 3), stride=0)
    with pytest.raises(tg.ConfigError, match="padding must be >= 0"):
        F.conv2d(x, tg.ones(4, 3, 3, 3), padding=-1)
    with pytest.raises(tg.ShapeError, match=r"bias must have shape \(4,\)"):
        F.conv2d(x, tg.ones(4, 3, 3, 3), tg.ones(3))
    with pytest.raises(tg.ConfigError, match="output_padding .* must be smaller than stride"):
        F.conv_transpose2d(x, tg.ones(3, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(tg.ShapeError, match="input has 3 channels but weight"):
        F.conv_transpose2d(x, tg.ones(2, 3, 3, 3))
    with pytest.raises(tg.ShapeError, match="output size"):
        F.conv_transpose2d(tg.ones(1, 3, 1, 1), tg.ones(3, 2, 1, 1), padding=2)


def test_batch_norm_argument_errors():
    with pytest.raises(tg.ShapeError, match=r"running_mean must have shape \(3,\)"):
        F.batch_norm(tg.ones(4, 3), tg.zeros(2), tg.ones(2), training=True)
    with pytest.raises(tg.ShapeError, match="more than 1 value per channel"):
        F.batch_norm(tg.ones(1, 3), None, None, training=True)
    with pytest.raises(tg.ShapeError, match=r"\(N, C\), \(N, C, L\), \(N, C, H, W\) or \(N, C, D, H, W\)"):
        F.batch_norm(tg.ones(2, 3, 4, 5, 6, 2), None, None, training=True)
    with pytest.raises(tg.DTypeError, match="float32 and float64"):
        F.batch_norm(tg.ones(4, 3), None, None, tg.ones(3, dtype="float64"), training=True)


@pytest.mark.parametrize("op", [F.batch_norm, F.batch_norm_leaky_relu])
def test_batch_norm_leaky_relu_checks_its_arguments_as_batch_norm_does(op):
    name = op.__name__
    with pytest.raises(tg.ShapeError, match=rf"{name}: running_mean must have shape \(3,\)"):
        op(tg.ones(4, 3), tg.zeros(2), tg.ones(2), training=True)
    with pytest.raises(tg.ShapeError, match="more than 1 value per channel"):
        op(tg.ones(1, 3), None, None, training=True)
    with pytest.raises(tg.ShapeError, match=r"\(N, C\), \(N, C, L\), \(N, C, H, W\) or \(N, C, D, H, W\)"):
        op(tg.ones(2, 3, 4, 5, 6, 2), None, None, training=True)
    with pytest.raises(tg.DTypeError, match="float32 and float64"):
        op(tg.ones(4, 3), None, None, tg.ones(3, dtype="float64"), training=True)
    with pytest.raises(tg.ConfigError, match="pass both running_mean and running_var"):
        op(tg.ones(4, 3), tg.zeros(3), None, training=True)
    with pytest.raises(tg.ConfigError, match="momentum"):
        op(tg.ones(4, 3), None, None, training=True, momentum=1.5)


# ------------------------------------------------------------------------------------------------
# The CUDA device (simulator on GPU-less machines) computes what the CPU device computes
# ------------------------------------------------------------------------------------------------
needs_cuda = pytest.mark.skipif(not tg.cuda_status()[0], reason="no CUDA device and no simulator in this process")


@needs_cuda
@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d", "batch_norm", "leaky_relu",
                                "batch_norm_leaky_relu"])
def test_cuda_device_matches_cpu_device(op):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    args = {
        "conv2d": (rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)),
        "conv_transpose2d": (rng.standard_normal((3, 2, 4, 4)), rng.standard_normal(2)),
        "batch_norm": (rng.standard_normal(3), rng.standard_normal(3)),
        "leaky_relu": (),
        "batch_norm_leaky_relu": (rng.standard_normal(3), rng.standard_normal(3)),
    }[op]
    results = {}
    for device in ("cpu", "cuda"):
        xt = tg.tensor(x, requires_grad=True, device=device)
        params = [tg.tensor(a, requires_grad=True, dtype="float32", device=device) for a in args]
        if op == "conv2d":
            y = F.conv2d(xt, *params, stride=2, padding=1)
        elif op == "conv_transpose2d":
            y = F.conv_transpose2d(xt, *params, stride=2, padding=1)
        elif op == "batch_norm":
            y = F.batch_norm(xt, None, None, *params, training=True)
        elif op == "batch_norm_leaky_relu":
            y = F.batch_norm_leaky_relu(xt, None, None, *params, training=True, negative_slope=0.2)
        else:
            y = F.leaky_relu(xt, 0.2)
        gy = np.random.default_rng(2).standard_normal(y.shape).astype(np.float32)
        y.backward(gy)
        results[device] = [y.numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in params]
    for got, want in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(want).max()))


# ------------------------------------------------------------------------------------------------
# Non-contiguous inputs: the kernels take contiguous arrays; the ops must hand them such
# ------------------------------------------------------------------------------------------------
def _kernel_op_cases(rng, device, dtype):
    def p(*shape):
        return tg.tensor(rng.standard_normal(shape), requires_grad=True, dtype=dtype, device=device)
    w_conv, w_convt, b4 = p(2, 4, 3, 3), p(4, 2, 4, 4), p(2)
    gamma, beta = p(4), p(4)
    w_lin, b_lin = p(3, 5), p(3)
    return {
        "conv2d": lambda x: F.conv2d(x, w_conv, b4, stride=2, padding=1),
        "conv_transpose2d": lambda x: F.conv_transpose2d(x, w_convt, b4, stride=2, padding=1),
        "batch_norm": lambda x: F.batch_norm(x, None, None, gamma, beta, training=True),
        "batch_norm_leaky_relu": lambda x: F.batch_norm_leaky_relu(x, None, None, gamma, beta,
                                                                   training=True, negative_slope=0.2),
        "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
        "linear": lambda x: F.linear(x[:, 0], w_lin, b_lin),     # (3, 6, 5) @ (5, 3)
    }


# Two ways to a (3, 4, 6, 5) view that is not contiguous: a transposed view, or a strided slice.
VIEWS = {"permute": ((3, 6, 4, 10), lambda b: b.permute(0, 2, 1, 3)[..., :5]),
         "slice": ((3, 8, 6, 10), lambda b: b[:, ::2, :, 1::2])}


KERNEL_OPS = ["conv2d", "conv_transpose2d", "batch_norm", "batch_norm_leaky_relu", "leaky_relu", "linear"]


# The simulated CUDA device takes one view (its batch norms run ~10 s each there).
@pytest.mark.parametrize("device,view,op", [("cpu", v, op) for v in sorted(VIEWS) for op in KERNEL_OPS]
                         + [pytest.param("cuda", "permute", op, marks=needs_cuda) for op in KERNEL_OPS])
def test_kernel_ops_take_non_contiguous_inputs(op, view, device):
    # float64 on the CPU (gradient-checked); the CUDA kernels are float32, checked against the CPU's
    dtype, tol = ("float64", 1e-12) if device == "cpu" else ("float32", 1e-4)
    shape, make_view = VIEWS[view]
    data = np.random.default_rng(4).standard_normal(shape)
    base = tg.tensor(data, requires_grad=True, dtype=dtype, device=device)
    x = make_view(base)
    fn = _kernel_op_cases(np.random.default_rng(5), device, dtype)[op]
    assert x.shape == (3, 4, 6, 5) and not x.array.flags.c_contiguous
    got = fn(x)
    want = fn(tg.tensor(np.ascontiguousarray(x.numpy()), dtype=dtype, device=device))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=tol, atol=tol)
    if device == "cpu":  # gradients flow back through the view into the base (central differences)
        assert tg.gradcheck(lambda b: fn(make_view(b)), [base])
        return
    got.sum().backward()
    on_cpu = tg.tensor(data, requires_grad=True, dtype=dtype)
    _kernel_op_cases(np.random.default_rng(5), "cpu", dtype)[op](make_view(on_cpu)).sum().backward()
    np.testing.assert_allclose(base.grad.numpy(), on_cpu.grad.numpy(), rtol=tol, atol=tol)


# ------------------------------------------------------------------------------------------------
# The GAN losses against their formulas (NumPy, float64), and gradient-checked
# ------------------------------------------------------------------------------------------------
def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def test_gan_losses_are_the_minimax_objective_terms():
    from tensorgan import losses
    rng = np.random.default_rng(6)
    real, fake = rng.standard_normal((5, 1)) * 3, rng.standard_normal((7, 1)) * 3
    want_d = -(_log_sigmoid(real).mean() + _log_sigmoid(-fake).mean())   # log(1 - s(f)) = log s(-f)
    want = {"non_saturating": -_log_sigmoid(fake).mean(), "minimax": _log_sigmoid(-fake).mean()}
    np.testing.assert_allclose(losses.discriminator_loss(t64(real), t64(fake)).item(), want_d, rtol=1e-12)
    for kind, value in want.items():
        np.testing.assert_allclose(losses.generator_loss(t64(fake), kind).item(), value, rtol=1e-12)
    # the minimax generator loss falls as D is fooled (D(G(z)) -> 1), as the objective says
    assert losses.generator_loss(t64([[4.0]]), "minimax").item() < losses.generator_loss(t64([[-4.0]]), "minimax").item()
    assert tg.gradcheck(losses.discriminator_loss, [t64(real), t64(fake)])
    for kind in want:
        assert tg.gradcheck(lambda f: losses.generator_loss(f, kind), [t64(fake)])


def test_hinge_losses():
    from tensorgan import losses
    real = np.array([[2.0], [0.5], [-1.0]])               # 2.0 is beyond the margin: no loss
    fake = np.array([[-3.0], [0.25]])
    # (0 + 0.5 + 2) / 3 from the reals, (0 + 1.25) / 2 from the fakes
    np.testing.assert_allclose(losses.discriminator_loss(t64(real), t64(fake), "hinge").item(),
                               2.5 / 3 + 0.625, rtol=1e-12)
    assert losses.generator_loss(t64(fake), "hinge").item() == pytest.approx(1.375)
    r, f = t64(real), t64(fake)
    losses.discriminator_loss(r, f, "hinge").backward()
    np.testing.assert_array_equal(r.grad.numpy().ravel(), [0, -1 / 3, -1 / 3])   # margin: 0
    np.testing.assert_array_equal(f.grad.numpy().ravel(), [0, 0.5])
    with pytest.raises(tg.ConfigError, match="discriminator loss must be one of"):
        losses.discriminator_loss(r, f, "wasserstein")


def test_wasserstein_losses():
    from tensorgan import losses
    real, fake = np.array([[2.0], [0.5], [-1.0]]), np.array([[-3.0], [0.25]])
    r, f = t64(real), t64(fake)
    critic = losses.discriminator_loss(r, f, "wgan")          # E D(fake) - E D(real)
    assert critic.item() == pytest.approx(-1.375 - 0.5)
    critic.backward()
    np.testing.assert_allclose(r.grad.numpy().ravel(), [-1 / 3] * 3)
    np.testing.assert_allclose(f.grad.numpy().ravel(), [0.5, 0.5])
    assert losses.generator_loss(t64(fake), "wgan").item() == pytest.approx(1.375)


@pytest.mark.parametrize("transposed, x_shape, w_shape", [
    (False, (2, 3, 5, 5), (0, 3, 3, 3)), (True, (2, 3, 5, 5), (3, 0, 3, 3)), (True, (2, 0, 5, 5), (0, 4, 3, 3)),
])
def test_convolutions_whose_weight_has_no_channels_are_refused_as_torch(transposed, x_shape, w_shape):
    """torch 2.13 refuses a weight with no output (conv) or no channels (transposed) -- a layer
    built with ``C // 8`` channels of a C < 8 -- rather than compute over nothing."""
    with pytest.raises(RuntimeError, match="no channels"):
        (F.conv_transpose2d if transposed else F.conv2d)(tg.randn(*x_shape), tg.randn(*w_shape))


@pytest.mark.parametrize("transposed, x_shape, w_shape", [
    (False, (0, 3, 5, 5), (4, 3, 3, 3)), (False, (2, 0, 5, 5), (4, 0, 3, 3)), (True, (0, 3, 5, 5), (3, 4, 3, 3)),
])
def test_convolutions_with_an_empty_operand_have_empty_outputs_and_defined_gradients(transposed, x_shape, w_shape):
    """No input channels, no output channels or no images: the output is the bias (or empty), the
    input and weight gradients are zeros (sums over nothing), the bias gradient gy's channel sums."""
    x, w = tg.randn(*x_shape, requires_grad=True), tg.randn(*w_shape, requires_grad=True)
    out_channels = w_shape[1] if transposed else w_shape[0]
    b = tg.randn(out_channels, requires_grad=True)
    y = (F.conv_transpose2d if transposed else F.conv2d)(x, w, b)
    assert y.shape[:2] == (x_shape[0], out_channels)
    np.testing.assert_array_equal(y.numpy(), np.broadcast_to(b.numpy()[:, None, None], y.shape))
    (y * 2.0).sum().backward()
    assert x.grad.shape == x_shape and w.grad.shape == w_shape and not x.grad.numpy().any() and not w.grad.numpy().any()
    np.testing.assert_array_equal(b.grad.numpy(), np.full(out_channels, 2.0 * x_shape[0] * y.shape[2] * y.shape[3]))
