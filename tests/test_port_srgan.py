"""Gaps found porting leftthomas/SRGAN and Lornatang/SRGAN-PyTorch (session 21, helper i).

* Lornatang's ContentLoss ends with ``torch.Tensor([losses]).to(device)`` where ``losses`` holds
  0-d losses that require grad: torch reads their values (with a UserWarning), tensorgan raised.
* ``pixel_shuffle`` / ``pixel_unshuffle`` take any leading batch dims ``(*, C, H, W)`` in torch.
* torch's MultiStepLR keeps milestones as a ``Counter``; a torch scheduler state with a repeated
  milestone lost the repeat when loaded here (a silently wrong learning rate).
"""
import warnings
from collections import Counter

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import AutogradError, ConfigError, ShapeError
from tensorgan.optim.swa_utils import AveragedModel


def test_tensor_from_list_of_grad_scalars_reads_values_with_warning():
    w = tg.tensor([2.0, 3.0], requires_grad=True)
    a, b = (w * w).sum(), w[0] * 10.0            # 13 and 20, both in a graph
    for ctor in (tg.Tensor, tg.tensor, tg.as_tensor):
        with pytest.warns(UserWarning, match="requires_grad=True to a scalar"):
            out = ctor([[a, b]])
        assert out.shape == (1, 2) and not out.requires_grad
        np.testing.assert_allclose(out.numpy(), [[13.0, 20.0]])
    with pytest.warns(UserWarning):
        nested = tg.tensor(((a,), (b,)))
    np.testing.assert_allclose(nested.numpy(), [[13.0], [20.0]])
    # the graph is left alone, and NumPy itself still refuses a tensor that requires grad
    a.backward()
    np.testing.assert_allclose(w.grad.numpy(), [4.0, 6.0])
    with pytest.raises(AutogradError):
        np.asarray(b)
    with warnings.catch_warnings():            # elements without grad: no warning at all
        warnings.simplefilter("error")
        np.testing.assert_allclose(tg.Tensor([a.detach(), 1.0]).numpy(), [13.0, 1.0])


def _shuffle_reference(x, r):
    *lead, c, h, w = x.shape
    out = np.empty((*lead, c // (r * r), h * r, w * r), x.dtype)
    for k in range(c // (r * r)):
        for i in range(r):
            for j in range(r):
                out[..., k, i::r, j::r] = x[..., k * r * r + i * r + j, :, :]
    return out


@pytest.mark.parametrize("shape", [(8, 2, 3), (2, 3, 8, 2, 3), (1, 2, 1, 8, 1, 2)])
def test_pixel_shuffle_takes_any_leading_batch_dims(shape):
    x = np.random.default_rng(0).standard_normal(shape)
    t = tg.tensor(x, requires_grad=True)
    y = F.pixel_shuffle(t, 2)
    np.testing.assert_array_equal(y.detach().numpy(), _shuffle_reference(x, 2))
    np.testing.assert_array_equal(nn.PixelShuffle(2)(t).detach().numpy(), y.detach().numpy())
    back = F.pixel_unshuffle(y, 2)
    assert back.shape == shape
    np.testing.assert_array_equal(back.detach().numpy(), x)
    np.testing.assert_array_equal(nn.PixelUnshuffle(2)(y).detach().numpy(), x)
    g = np.random.default_rng(1).standard_normal(y.shape)
    (y * tg.tensor(g)).sum().backward()        # a permutation: the gradient is g shuffled back
    np.testing.assert_array_equal(t.grad.numpy(), F.pixel_unshuffle(tg.tensor(g), 2).numpy())


def test_pixel_shuffle_shape_errors():
    with pytest.raises(ShapeError, match="at least 3 dimensions"):
        F.pixel_shuffle(tg.zeros(4, 4), 2)
    with pytest.raises(ShapeError, match="at least 3 dimensions"):
        F.pixel_unshuffle(tg.zeros(4, 4), 2)
    with pytest.raises(ShapeError, match="upscale_factor"):
        F.pixel_shuffle(tg.zeros(8, 2, 2), 3)
    with pytest.raises(ShapeError, match="downscale_factor"):
        F.pixel_unshuffle(tg.zeros(2, 1, 2, 3), 2)


def _lrs(sched, opt, n):
    out = []
    for _ in range(n):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
    return out


def test_multisteplr_loads_torch_counter_milestones():
    lin = nn.Linear(2, 2)
    opt = tg.optim.SGD(lin.parameters(), lr=0.1)
    sched = tg.optim.lr_scheduler.MultiStepLR(opt, [4], 0.5)
    # torch 2.x's MultiStepLR.state_dict(): milestones is a Counter, 2 repeated
    sched.load_state_dict({"milestones": Counter({2: 2, 4: 1}), "gamma": 0.5, "base_lrs": [0.1],
                           "last_epoch": 0, "_step_count": 1, "_is_initial": False,
                           "_get_lr_called_within_step": False, "_last_lr": [0.1]})
    assert sched.milestones == [2, 2, 4]
    np.testing.assert_allclose(_lrs(sched, opt, 5), [0.1, 0.025, 0.025, 0.0125, 0.0125])
    # a Counter given to the constructor, as torch accepts
    opt2 = tg.optim.SGD(lin.parameters(), lr=1.0)
    s2 = tg.optim.lr_scheduler.MultiStepLR(opt2, Counter([1, 1]), 0.1)
    np.testing.assert_allclose(_lrs(s2, opt2, 2), [0.01, 0.01])
    with pytest.raises(ConfigError, match="repeat count"):
        tg.optim.lr_scheduler.MultiStepLR(opt2, {2: -1}, 0.5)


class _Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.up = nn.Sequential(nn.Conv2d(c, c * 4, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU())
        self.out = nn.Conv2d(c, 3, 3, 1, 1)

    def forward(self, x):
        return tg.clamp_(self.out(self.up(x)), 0.0, 1.0)


def test_srgan_step_content_losses_through_tensor_list_carry_no_gradient():
    """Lornatang's loss: Tensor([feature losses]) is a constant, so the generator's gradient is
    the pixel loss's alone; the EMA copy follows its custom avg_fn."""
    tg.manual_seed(0)
    g = nn.Sequential(nn.Conv2d(3, 4, 3, 1, 1), _Block(4))
    lr_img = tg.rand(2, 3, 4, 4)
    gt = tg.rand(2, 3, 8, 8)

    def grads(with_content):
        g.zero_grad(set_to_none=True)
        sr = g(lr_img)
        loss = F.mse_loss(sr, gt)
        if with_content:
            with pytest.warns(UserWarning):
                content = tg.Tensor([[F.mse_loss(sr * 2, gt), F.l1_loss(sr, gt)]])
            loss = loss + tg.sum(tg.mul(tg.Tensor([0.5, 0.5]), content))
        loss.backward()
        return [p.grad.numpy().copy() for p in g.parameters()]

    for a, b in zip(grads(True), grads(False)):
        np.testing.assert_array_equal(a, b)

    decay = 0.75
    ema = AveragedModel(g, avg_fn=lambda avg, cur, n: (1 - decay) * avg + decay * cur)
    start = [p.detach().numpy().copy() for p in g.parameters()]
    with tg.no_grad():
        for p in g.parameters():
            p.add_(1.0)
    ema.update_parameters(g)                     # first call: a copy
    with tg.no_grad():
        for p in g.parameters():
            p.add_(1.0)
    ema.update_parameters(g)                     # then (1 - d) * avg + d * current
    for e, s in zip(ema.module.parameters(), start):
        np.testing.assert_allclose(e.detach().numpy(), 0.25 * (s + 1.0) + 0.75 * (s + 2.0), rtol=1e-6)
    assert int(ema.n_averaged) == 2
