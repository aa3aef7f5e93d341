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
