"""Session 26: input-gradient programs ported at tiny sizes and run beside torch 2.13 in float64
with identical weights -- RobGAN's adversarial training of an AC discriminator (xuanqing94/RobGAN:
the Linf_SGD sign optimizer, PGD through ``.data`` copies and clamps, the differentiable FGSM of
the generator step), a PGD-k attack with random start and torch.min/max projection, FGSM under
no_grad with ``.grad.zero_()``, Grad-CAM by forward and full backward hooks, SmoothGrad and
integrated gradients (batched interpolation, ``grad_outputs``) and feature visualisation (Adam on
an input image with jitter and total variation).
Adversarial examples, CAMs, attributions, images and parameters agreed to 1e-15 (RobGAN's D
parameters to 6e-11 after Adam steps).  What differed, and is fixed: ``random_(0, to=n)``
(RobGAN's label sampling), the error types of ``clamp`` with no bounds and of an optimizer given a
Tensor or a Module (torch: RuntimeError, TypeError), regular and full backward hooks on one module
(torch refuses) and the hook node's name.  The other tests pin what the ports lean on, against
NumPy and finite differences."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
import tensorgan.nn.functional as F
from tensorgan.errors import InputTypeError


def _f64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# -- fixes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [lambda y: y.random_(0, to=3), lambda y: y.random_(to=3),
                                  lambda y: tg.Tensor.random_(y, 0, to=3)])
def test_random_takes_to_as_a_keyword(call):
    y = tg.LongTensor(200)
    assert call(y) is y
    assert set(np.unique(y.numpy())) == {0, 1, 2}


def test_random_keyword_to_with_two_bounds_is_refused():
    with pytest.raises(InputTypeError, match="at most from and to"):
        tg.LongTensor(3).random_(0, 2, to=3)


@pytest.mark.parametrize("call", [lambda x: tg.clamp(x), lambda x: x.clamp(None, None),
                                  lambda x: x.clamp_(), lambda x: tg.clip(x)])
def test_clamp_without_bounds_is_a_runtime_error(call):
    with pytest.raises(RuntimeError, match="'min' or 'max' must not be None"):
        call(tg.zeros(2))


@pytest.mark.parametrize("params", [lambda: tg.ones(2, requires_grad=True), lambda: tg.nn.Linear(2, 2),
                                    lambda: 3])
def test_optimizer_given_a_tensor_module_or_non_iterable_is_a_type_error(params):
    # (feature visualisation: Adam([img]) -- not Adam(img))
    with pytest.raises(TypeError, match="iterable of Parameters"):
        tg.optim.Adam(params(), lr=0.1)
    with pytest.raises(tg.ConfigError):
        tg.optim.Adam(params(), lr=0.1)


@pytest.mark.parametrize("first, second", [("full", "old"), ("old", "full")])
def test_regular_and_full_backward_hooks_on_one_module_are_refused(first, second):
    # torch: "Cannot use both regular backward hooks and full backward hooks on a single Module",
    # also after the first handle is removed (the module keeps its kind)
    register = {"full": lambda m: m.register_full_backward_hook(lambda *a: None),
                "old": lambda m: m.register_backward_hook(lambda *a: None)}
    conv = nn.Conv2d(3, 2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        register[first](conv).remove()
        register[first](conv)                      # the same kind again is fine
        with pytest.raises(RuntimeError, match="both regular backward hooks and full"):
            register[second](conv)


def test_full_backward_hook_node_name_is_torchs():
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda *a: None)
    for x in (tg.ones(1, 2, requires_grad=True), tg.ones(1, 2)):
        assert lin(x).grad_fn.name() == "BackwardHookFunctionBackward"


# -- what the ports lean on ---------------------------------------------------------------------
def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _linear(n_in, n_out, seed):
    lin = nn.Linear(n_in, n_out).double()
    rng = np.random.default_rng(seed)
    with tg.no_grad():
        lin.weight.copy_(_f64(rng.standard_normal((n_out, n_in))))
        lin.bias.copy_(_f64(rng.standard_normal(n_out)))
    return lin


class _LinfSGD(tg.optim.Optimizer):
    """RobGAN's miscs/linf_sgd.py: SGD on the sign of the gradient (momentum on the signs)."""

    def __init__(self, params, lr=tg.optim.optimizer.required, momentum=0):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = tg.sign(p.grad.data)
                if group["momentum"] != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        buf = state["momentum_buffer"] = tg.zeros_like(p.data)
                        buf.mul_(group["momentum"]).add_(d_p)
                    else:
                        buf = state["momentum_buffer"]
                        buf.mul_(group["momentum"]).add_(d_p)
                    d_p = buf
                p.data.add_(d_p, alpha=-group["lr"])


@pytest.mark.parametrize("momentum", [0, 0.9])
def test_robgan_linf_pgd_through_data_copies_matches_numpy(momentum):
    # attack_Linf_PGD_bin: Variable(x.data.clone(), requires_grad=True), Linf_SGD steps on
    # -BCE(D(x), 1), then diff = adv.data - x.data; diff.clamp_(-eps, eps);
    # adv.data.copy_((diff + x.data).clamp_(-1, 1)).  For a linear D the sign of the gradient
    # is sign(w) for every sample, so the attack walks x along -sign(w) (momentum: 1, 1.9, ...)
    # until the eps ball stops it.
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, (4, 6))
    dis = nn.Sequential(_linear(6, 1, 1), nn.Flatten(0))
    x, ones = _f64(x0), tg.ones(4, dtype=tg.float64)
    eps, lr, steps = 0.03, 0.0078, 5
    dis.eval()
    adv = tg.autograd.Variable(x.data.clone(), requires_grad=True)
    opt = _LinfSGD([adv], lr=lr, momentum=momentum)
    for _ in range(steps):
        opt.zero_grad()
        dis.zero_grad()
        loss = -F.binary_cross_entropy_with_logits(dis(adv), ones)
        loss.backward()
        opt.step()
        diff = adv.data - x.data
        diff.clamp_(-eps, eps)
        adv.data.copy_((diff + x.data).clamp_(-1, 1))
    dis.train()
    dis.zero_grad()
    assert adv.is_leaf and adv.requires_grad and dis[0].weight.grad is None and dis.training
    sign_w = np.sign(dis[0].weight.detach().numpy()[0])
    expected, buf = x0.copy(), 0.0
    for _ in range(steps):
        buf = buf * momentum + 1.0
        diff = np.clip(expected - lr * buf * sign_w - x0, -eps, eps)
        expected = np.clip(diff + x0, -1, 1)
    np.testing.assert_allclose(adv.detach().numpy(), expected, rtol=0, atol=1e-15)
    assert np.abs(adv.detach().numpy() - x0).max() <= eps + 1e-15


def test_differentiable_fgsm_gradient_reaches_the_generator():
    # RobGAN's attack_FGSM: g = grad(loss, [x_fake], create_graph=True)[0]; x - 0.005 * sign(g);
    # the generator's gradient passes x_fake (sign's derivative is 0): a finite difference
    dis = _linear(3, 1, 2)
    z = _f64(np.random.default_rng(3).standard_normal((5, 3)))
    ones = tg.ones(5, 1, dtype=tg.float64)

    def loss_g(a):
        x_fake = tg.tanh(a * z)
        inner = -F.binary_cross_entropy_with_logits(dis(x_fake), ones)
        g = tg.autograd.grad(inner, [x_fake], create_graph=True)[0]
        return F.binary_cross_entropy_with_logits(dis(x_fake - 0.005 * tg.sign(g)), ones)

    a = _f64(0.7, requires_grad=True)
    (da,) = tg.autograd.grad(loss_g(a), a)
    h = 1e-6
    fd = (loss_g(_f64(0.7 + h, True)).item() - loss_g(_f64(0.7 - h, True)).item()) / (2 * h)
    assert abs(da.item() - fd) < 1e-8


def _ce_grad(W, b, x, y):
    """d mean-cross-entropy(x W^T + b, y) / dx."""
    logits = x @ W.T + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p @ W / len(y)


def test_pgd_random_start_with_min_max_projection_matches_numpy():
    rng = np.random.default_rng(4)
    x0, noise, y = rng.uniform(0, 1, (3, 5)), rng.uniform(-1, 1, (3, 5)), np.array([0, 2, 1])
    model = _linear(5, 3, 5)
    x, yt = _f64(x0), tg.tensor(y)
    eps, alpha = 8 / 255, 2 / 255
    x_adv = tg.clamp(x.detach() + eps * _f64(noise), 0, 1)
    for _ in range(4):
        x_adv.requires_grad_()
        with tg.enable_grad():
            loss = F.cross_entropy(model(x_adv), yt)
        grad = tg.autograd.grad(loss, [x_adv])[0]
        x_adv = x_adv.detach() + alpha * tg.sign(grad.detach())
        x_adv = tg.min(tg.max(x_adv, x - eps), x + eps)
        x_adv = tg.clamp(x_adv, 0.0, 1.0)
    W, b = model.weight.detach().numpy(), model.bias.detach().numpy()
    expected = np.clip(x0 + eps * noise, 0, 1)
    for _ in range(4):
        expected = expected + alpha * np.sign(_ce_grad(W, b, expected, y))
        expected = np.clip(np.minimum(np.maximum(expected, x0 - eps), x0 + eps), 0, 1)
    np.testing.assert_allclose(x_adv.numpy(), expected, rtol=0, atol=1e-15)
    # the same projection by clamp with Tensor bounds (advertorch's form)
    again = tg.clamp(_f64(expected + 0.1), min=x - eps, max=x + eps)
    np.testing.assert_array_equal(again.numpy(), np.clip(expected + 0.1, x0 - eps, x0 + eps))


def test_fgsm_in_place_under_no_grad_keeps_a_leaf_and_zeroes_its_grad():
    rng = np.random.default_rng(6)
    x0, y = rng.uniform(0, 1, (2, 4)), np.array([1, 0])
    model = _linear(4, 2, 7)
    x = _f64(x0, requires_grad=True)
    W, b = model.weight.detach().numpy(), model.bias.detach().numpy()
    expected = x0.copy()
    for _ in range(3):
        F.cross_entropy(model(x), tg.tensor(y)).backward()
        with tg.no_grad():
            x += 0.01 * x.grad.sign()
            x.clamp_(0, 1)
            x.grad.zero_()
        expected = np.clip(expected + 0.01 * np.sign(_ce_grad(W, b, expected, y)), 0, 1)
    assert x.is_leaf and x.requires_grad and x.grad_fn is None
    np.testing.assert_array_equal(x.grad.numpy(), 0)
    np.testing.assert_allclose(x.detach().numpy(), expected, rtol=0, atol=1e-15)
    with pytest.raises(RuntimeError, match="leaf"):
        x += 1                                     # outside no_grad: refused, as torch


class _SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        h = F.relu(self.conv2(F.max_pool2d(F.relu(self.conv1(x)), 2)))
        return self.fc(F.adaptive_avg_pool2d(h, 1).flatten(1))


@pytest.mark.parametrize("capture", ["full_backward_hook", "tensor_hook"])
def test_gradcam_hooks_capture_activation_and_gradient(capture):
    tg.manual_seed(0)
    model = _SmallCNN().double().eval()
    x = _f64(np.random.default_rng(8).uniform(0, 1, (2, 2, 8, 8)))
    acts, grads = [], []

    def forward_hook(module, inputs, output):
        acts.append(output.detach())
        if capture == "tensor_hook":
            output.register_hook(lambda g: grads.insert(0, g.detach()))

    handles = [model.conv2.register_forward_hook(forward_hook)]
    if capture == "full_backward_hook":
        handles.append(model.conv2.register_full_backward_hook(
            lambda m, grad_input, grad_output: grads.insert(0, grad_output[0].detach())))
    out = model(x)
    cats = np.argmax(out.detach().numpy(), axis=-1)
    model.zero_grad()
    sum([o[c] for c, o in zip(cats, out)]).backward(retain_graph=True)
    for h in handles:
        h.remove()
    A, G = acts[0].numpy(), grads[0].numpy()
    # the captured gradient is d(selected logits) / d(conv2's output), by a second route
    act = []
    with model.conv2.register_forward_hook(lambda m, i, o: act.append(o)):
        out2 = model(x)
    (ref,) = tg.autograd.grad(out2[np.arange(2), cats].sum(), act[0])
    np.testing.assert_allclose(G, ref.numpy(), rtol=0, atol=1e-15)
    weights = tg.tensor(G).mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * tg.tensor(A)).sum(dim=1, keepdim=True))
    np.testing.assert_allclose(cam.numpy()[:, 0], np.maximum((G.mean((2, 3))[:, :, None, None] * A).sum(1), 0),
                               rtol=1e-13, atol=1e-15)
    up = F.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False)
    assert up.shape == (2, 1, 8, 8)     # (align_corners=False, 4 -> 8: the corners are kept)
    np.testing.assert_array_equal(up.numpy()[..., [0, -1], [0, -1]], cam.numpy()[..., [0, -1], [0, -1]])


def test_guided_backprop_by_relu_full_backward_hooks_matches_numpy():
    lin1, lin2 = _linear(4, 5, 9), _linear(5, 1, 10)
    relu = nn.ReLU()
    relu.register_full_backward_hook(lambda m, gi, go: (tg.clamp(gi[0], min=0.0),))
    x0 = np.random.default_rng(11).standard_normal((3, 4))
    x = _f64(x0, requires_grad=True)
    lin2(relu(lin1(x))).sum().backward()
    W1, b1, W2 = (t.detach().numpy() for t in (lin1.weight, lin1.bias, lin2.weight))
    g_hidden = np.maximum(np.broadcast_to(W2, (3, 5)) * (x0 @ W1.T + b1 > 0), 0)
    np.testing.assert_allclose(x.grad.numpy(), g_hidden @ W1, rtol=1e-14, atol=1e-15)


def test_integrated_gradients_and_smoothgrad_batched_with_grad_outputs():
    # IG over a batched path x' + alpha (x - x') with grad_outputs=ones: for a linear logit it
    # is exactly (x - x') * w; SmoothGrad's batched gradient is each sample's gradient
    lin = _linear(6, 3, 12)
    x = _f64(np.random.default_rng(13).standard_normal((1, 6)))
    base = tg.zeros_like(x)
    alphas = tg.linspace(0, 1, 7, dtype=x.dtype).view(-1, 1)
    xs = base + alphas * (x - base)
    xs.requires_grad_()
    target = lin(xs)[:, 1]
    (g,) = tg.autograd.grad(target, xs, grad_outputs=tg.ones_like(target))
    ig = (x[0] - base[0]) * tg.trapezoid(g, dx=1.0 / 6, dim=0)
    np.testing.assert_allclose(ig.numpy(), x.numpy()[0] * lin.weight.detach().numpy()[1], rtol=1e-14)
    model = nn.Sequential(lin, nn.Tanh(), _linear(3, 2, 14))
    noisy = x.repeat(5, 1) + 0.2 * _f64(np.random.default_rng(15).standard_normal((5, 6)))
    noisy.requires_grad_(True)
    out = model(noisy)[:, 0]
    (batched,) = tg.autograd.grad(out, noisy, grad_outputs=tg.ones_like(out))
    for i in range(5):
        xi = noisy[i:i + 1].detach().requires_grad_()
        (gi,) = tg.autograd.grad(model(xi)[0, 0], xi)
        np.testing.assert_allclose(batched.numpy()[i], gi.numpy()[0], rtol=0, atol=1e-14)


def test_fft_image_parameterisation_with_odd_width_matches_numpy():
    # lucent's fft_image: an odd width keeps w // 2 + 2 frequencies, irfftn(s=(h, w)) drops the
    # extra one; view_as_complex of (scale * spectrum) with a float32 scale
    h, w = 5, 7
    spec0 = np.random.default_rng(16).standard_normal((1, 3, h, w // 2 + 2, 2)) * 0.01
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[: w // 2 + 2]
    scale = 1.0 / np.maximum(np.sqrt(fx * fx + fy * fy), 1.0 / max(w, h))
    scale_t = tg.tensor(scale).float()[None, None, ..., None]
    spec = _f64(spec0, requires_grad=True)
    image = tg.fft.irfftn(tg.view_as_complex(scale_t * spec), s=(h, w), norm="ortho") / 4.0
    assert image.dtype == tg.float64
    cplx = scale.astype(np.float32)[None, None] * (spec0[..., 0] + 1j * spec0[..., 1])
    expected = np.fft.irfftn(cplx[..., : w // 2 + 1], s=(h, w), axes=(-2, -1), norm="ortho") / 4.0
    np.testing.assert_allclose(image.detach().numpy(), expected, rtol=1e-12, atol=1e-16)
    weights = _f64(np.random.default_rng(17).standard_normal(image.shape))
    (image * weights).sum().backward()
    np.testing.assert_array_equal(spec.grad.numpy()[..., w // 2 + 1, :], 0)    # the dropped bin
    assert tg.autograd.gradcheck(
        lambda s: tg.fft.irfftn(tg.view_as_complex(s), s=(h, w), norm="ortho"),
        (_f64(spec0[0, :1], requires_grad=True),))


def test_feature_visualisation_transforms_are_differentiable():
    # pad(constant 0.5) -> roll jitter -> Upsample(align_corners) -> rotation by grid_sample ->
    # reflect pad -> normalise, and a total-variation penalty: gradcheck on the whole chain
    a = np.deg2rad(7.0)
    theta = _f64([[[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0]]])
    up = nn.Upsample(size=[9, 8], mode="bilinear", align_corners=True)

    def chain(img):
        x = F.pad(tg.sigmoid(img), [2] * 4, mode="constant", value=0.5)
        x = tg.roll(x, shifts=(1, -2), dims=(2, 3))
        x = F.pad(up(x), [np.int64(1), np.int64(0)] * 2)
        x = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False),
                          mode="bilinear", padding_mode="zeros", align_corners=False)
        x = F.pad(x, [1, 1, 1, 1], mode="reflect")
        tv = (x[:, :, :, :-1] - x[:, :, :, 1:]).abs().sum() + (x[:, :, :-1, :] - x[:, :, 1:, :]).pow(2).sum()
        return x.mean() + 1e-2 * tv

    img = _f64(np.random.default_rng(18).standard_normal((1, 2, 4, 4)) * 0.5, requires_grad=True)
    assert tg.autograd.gradcheck(chain, (img,))
    opt = tg.optim.Adam([img], lr=0.05)
    before = chain(img).item()
    for _ in range(5):
        opt.zero_grad()
        loss = chain(img)
        loss.backward()
        opt.step()
    assert chain(img).item() < before
