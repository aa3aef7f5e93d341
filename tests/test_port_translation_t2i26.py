"""Session 26: image-translation and text-to-image GAN pieces ported at tiny sizes beside torch 2.13
in float64 -- HsinYingLee/DRIT with the DRIT++ mode-seeking term (HelenMao/MSGAN), mahmoudnafifi/
HistoGAN (RGB-uv histogram block, Hellinger loss, torch_optimizer.DiffGrad), stylegan-xl pieces
(projected multi-scale discriminator, class embeddings, SynthesisInput) and tobran/GALIP pieces
(CLIP-like towers, DF-GAN affine fusion, CLIP-feature discriminator, MA-GP).  What differed, and is
fixed, is covered here; the rest is invariants the ports lean on."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn


def _param(values):
    return nn.Parameter(tg.tensor(np.asarray(values, np.float64)))


def test_grad_accumulation_is_in_place_so_aliases_see_it():
    # torch adds a later backward's gradient into .grad in place: p.grad.data / detach() / views
    # taken before see the sum (torch_optimizer.DiffGrad keeps p.grad.data as 'previous_grad')
    p = _param([1.0, 2.0, 3.0])
    (p * 2).sum().backward()
    grad_obj, data_alias, view_alias = p.grad, p.grad.data, p.grad.view(3, 1)
    version = p.grad._version
    (p * 5).sum().backward()
    assert p.grad is grad_obj
    np.testing.assert_array_equal(data_alias.numpy(), [7.0, 7.0, 7.0])
    np.testing.assert_array_equal(view_alias.numpy().ravel(), [7.0, 7.0, 7.0])
    assert p.grad._version > version                      # an in-place write, as torch counts it


def test_grad_accumulation_leaves_other_tensors_alone():
    # a retained non-leaf gradient, a hook's view of the gradient and a reused seed keep their
    # values when a later backward accumulates into the leaf
    x = _param([1.0, 1.0])
    y = x.clone()
    y.retain_grad()
    seen = []
    x.register_hook(lambda g: seen.append(g))
    y.sum().backward()
    kept_y = y.grad
    (x * 2).sum().backward()
    np.testing.assert_array_equal(kept_y.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(seen[0].numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    leaf, seed = _param([0.0, 0.0]), tg.ones(2, dtype=tg.float64)
    leaf.backward(seed)
    leaf.backward(seed)
    np.testing.assert_array_equal(seed.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(leaf.grad.numpy(), [2.0, 2.0])


def test_grad_accumulation_into_a_read_only_or_assigned_grad():
    # a user-assigned .grad is the same tensor afterwards (torch adds into it); a read-only
    # array (broadcast) is replaced instead of written
    p = _param([1.0, 2.0])
    mine = tg.zeros(2, dtype=tg.float64)
    p.grad = mine
    (p * 3).sum().backward()
    assert p.grad is mine
    np.testing.assert_array_equal(mine.numpy(), [3.0, 3.0])
    q = _param([1.0, 2.0])
    q.grad = tg.from_numpy(np.broadcast_to(np.float64(1.0), (2,)))
    (q * 2).sum().backward()
    np.testing.assert_array_equal(q.grad.numpy(), [3.0, 3.0])


class _DiffGrad(tg.optim.Optimizer):
    """torch_optimizer.DiffGrad's step, trimmed: 'previous_grad' is p.grad.data itself."""

    def __init__(self, params, lr=0.1, betas=(0.5, 0.9), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                grad, state = p.grad.data, self.state[p]
                if not state:
                    state.update(step=0, exp_avg=tg.zeros_like(p.data), exp_avg_sq=tg.zeros_like(p.data),
                                 previous_grad=tg.zeros_like(p.data))
                state["step"] += 1
                state["exp_avg"].mul_(beta1).add_(grad, alpha=1 - beta1)
                state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                dfc = 1.0 / (1.0 + tg.exp(-abs(state["previous_grad"] - grad)))
                state["previous_grad"] = grad
                denom = state["exp_avg_sq"].sqrt().add_(group["eps"])
                p.data.addcdiv_(state["exp_avg"] * dfc, denom, value=-group["lr"])


def test_diffgrad_previous_grad_follows_later_accumulation():
    # HistoGAN: the D optimizer's 'previous_grad' is D's .grad, which the generator's backward
    # then adds into before D's next zero_grad -- so the next step sees grad_D + grad_G
    p = _param([1.0, -2.0])
    opt = _DiffGrad([p])
    (p * p).sum().backward()                      # D step: grad 2p
    opt.step()
    after_step = p.detach().clone()
    (3 * p).sum().backward()                      # G phase adds 3 into D's .grad
    prev = opt.state[p]["previous_grad"]
    np.testing.assert_allclose(prev.numpy(), 2 * np.array([1.0, -2.0]) + 3.0)
    np.testing.assert_array_equal(p.detach().numpy(), after_step.numpy())


def test_list_plus_equals_tensor_extends_the_list():
    # stylegan-xl's ProjectedDiscriminator: `logits = []; logits += l` with l of shape (B, n)
    # extends the list by l's rows (Python's list +=, as torch returns NotImplemented)
    rows = tg.tensor(np.arange(6.0).reshape(2, 3))
    logits = []
    logits += rows
    assert len(logits) == 2 and logits[1].shape == (3,)
    np.testing.assert_array_equal(tg.cat(logits).numpy(), np.arange(6.0))
    kept = [tg.zeros(1)]
    kept += tg.tensor([1.0, 2.0])
    assert len(kept) == 3


def test_sequence_plus_or_times_tensor_is_a_type_error():
    t = tg.tensor([1.0, 2.0])
    for bad in (lambda: [1, 2] + t, lambda: (1, 2) + t, lambda: [] + t, lambda: [2, 3] * t):
        with pytest.raises(TypeError):
            bad()
    # numbers and tensor-first arithmetic are unchanged
    np.testing.assert_array_equal((2 * t + 1).numpy(), [3.0, 5.0])
    np.testing.assert_array_equal((t + [1, 2]).numpy(), [2.0, 4.0])


def _rgbuv_hist(T, x, bins=6, sigma=0.3, eps=1e-8):
    """HistoGAN's inverse-quadratic RGB-uv histogram, the ops its RGBuvHistBlock uses."""
    x = T.clamp(x, 0, 1)
    hists = T.zeros((x.shape[0], 3, bins, bins), dtype=x.dtype)
    centers = T.tensor(np.linspace(-3, 3, num=bins)).unsqueeze(0)
    for n, img in enumerate(T.unbind(x, dim=0)):
        pix = T.t(T.reshape(img, (3, -1)))
        iy = T.unsqueeze(T.sqrt((pix ** 2).sum(1) + eps), dim=1)
        for ch, (a, b) in enumerate(((1, 2), (0, 2), (0, 1))):
            log_c = T.log(pix[:, ch] + eps)
            ku = 1 / (1 + (abs(T.unsqueeze(log_c - T.log(pix[:, a] + eps), 1) - centers) / sigma) ** 2)
            kv = 1 / (1 + (abs(T.unsqueeze(log_c - T.log(pix[:, b] + eps), 1) - centers) / sigma) ** 2)
            hists[n, ch, :, :] = T.mm(T.t(iy * ku), kv)
    return hists / (hists.sum(dim=(1, 2, 3)).view(-1, 1, 1, 1) + eps)


def test_rgbuv_histogram_and_hellinger_loss_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.05, 1.0, (2, 3, 4, 4))
    xt = tg.tensor(x, requires_grad=True)
    hist = _rgbuv_hist(tg, xt)
    # NumPy: the same kernel written with broadcasting
    pix = x.reshape(2, 3, -1).transpose(0, 2, 1)
    logs = np.log(pix + 1e-8)
    iy = np.sqrt((pix ** 2).sum(-1) + 1e-8)
    centers = np.linspace(-3, 3, 6)
    expected = np.zeros((2, 3, 6, 6))
    for ch, (a, b) in enumerate(((1, 2), (0, 2), (0, 1))):
        ku = 1 / (1 + ((logs[..., ch] - logs[..., a])[..., None] - centers) ** 2 / 0.09)
        kv = 1 / (1 + ((logs[..., ch] - logs[..., b])[..., None] - centers) ** 2 / 0.09)
        expected[:, ch] = np.einsum("np,npu,npv->nuv", iy, ku, kv)
    expected /= expected.sum(axis=(1, 2, 3), keepdims=True) + 1e-8
    np.testing.assert_allclose(hist.detach().numpy(), expected, rtol=1e-10, atol=1e-14)
    # the Hellinger loss backpropagates through the setitem-built histogram
    target = tg.tensor(rng.dirichlet(np.ones(108), 2).reshape(2, 3, 6, 6))
    loss = np.sqrt(0.5) * tg.sqrt(((tg.sqrt(target) - tg.sqrt(hist)) ** 2).sum()) / 2
    loss.backward()
    def numeric(i):
        step = np.zeros_like(x); step.flat[i] = 1e-6
        f = [float(np.sqrt(0.5) * tg.sqrt(((tg.sqrt(target) - tg.sqrt(_rgbuv_hist(tg, tg.tensor(x + s)))) ** 2).sum()) / 2)
             for s in (step, -step)]
        return (f[0] - f[1]) / 2e-6
    for i in (0, 17, 40, 95):
        assert xt.grad.numpy().flat[i] == pytest.approx(numeric(i), rel=1e-5, abs=1e-9)
