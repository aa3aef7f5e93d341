"""Session 25, restoration GAN ports (Real-ESRGAN's second-order degradation + RRDBNet /
UNetDiscriminatorSN, TecoGAN's FRVSR step with flow warping and the ping-pong loss,
White-box-Cartoonization's guided filter / representations), compared with torch 2.13 in
float64 and float32: what differed, and invariants of the pieces the ports lean on."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import (ConfigError, InputTypeError, PadShapeNotImplementedError,
                              SamplingParameterError)


# ---- torch.unique: NaN != NaN, so each NaN is its own value (Real-ESRGAN counts the distinct
# ---- grey levels of each image with len(torch.unique(img[i])))
def test_unique_keeps_each_nan():
    x = tg.tensor([np.nan, 1.0, np.nan, 0.5, 1.0])
    values, inverse, counts = tg.unique(x, return_inverse=True, return_counts=True)
    v = values.numpy()
    assert v.shape == (4,) and v[:2].tolist() == [0.5, 1.0] and np.isnan(v[2:]).all()
    assert inverse.tolist() == [2, 1, 3, 0, 1]          # torch 2.13's
    assert counts.tolist() == [1, 2, 1, 1]
    assert len(x.unique()) == 4
    assert len(tg.unique(tg.tensor([0.25, 0.25]))) == 1


# ---- poisson / bernoulli of rates that require grad: torch's sample requires grad too, with a
# ---- zero derivative (PoissonBackward0 / BernoulliBackward0), so the rates get zeros, not None
@pytest.mark.parametrize("draw", [lambda p: tg.poisson(p * 3.0), lambda p: tg.bernoulli(p),
                                  lambda p: p.bernoulli(), lambda p: tg.bernoulli(p * 1.0)])
def test_sampling_of_rates_that_require_grad_gives_zero_grad(draw):
    p = tg.tensor([0.25, 0.5, 0.75], requires_grad=True)
    s = draw(p)
    assert s.requires_grad
    (s * 2.0).sum().backward()              # the only path: torch's backward runs, here too
    assert p.grad is not None and p.grad.tolist() == [0.0, 0.0, 0.0]


def test_sampling_without_grad_or_with_number_p_stays_constant():
    p = tg.tensor([0.25, 0.5], requires_grad=True)
    assert not tg.bernoulli(p.detach()).requires_grad
    assert not tg.bernoulli(tg.ones(2), p=0.5).requires_grad
    with tg.no_grad():
        assert not tg.poisson(p).requires_grad
    s = tg.poisson(tg.tensor([0.0, 4.0], dtype=tg.float64))
    assert s.dtype == tg.float64 and s[0].item() == 0.0


# ---- a random draw's parameter outside its domain: torch raises RuntimeError for each
@pytest.mark.parametrize("bad", [
    lambda: tg.bernoulli(tg.tensor([1.5])),
    lambda: tg.bernoulli(tg.tensor([float("nan")])),
    lambda: tg.tensor([1.5]).bernoulli(),
    lambda: tg.zeros(2).bernoulli_(1.5),
    lambda: tg.poisson(tg.tensor([-1.0])),
    lambda: tg.poisson(tg.tensor([float("nan")])),
    lambda: tg.poisson(tg.tensor([float("inf")])),
    lambda: tg.normal(0.0, -1.0, (2,)),
    lambda: tg.normal(tg.zeros(2), tg.tensor([1.0, -1.0])),
    lambda: tg.zeros(2).normal_(0, -1),
    lambda: tg.zeros(2).uniform_(5, 1),
    lambda: tg.nn.init.normal_(tg.zeros(2), 0.0, -1.0),
    lambda: tg.nn.init.uniform_(tg.zeros(2), 5.0, 1.0),
    lambda: tg.zeros(2).exponential_(-1.0),
    lambda: tg.zeros(2).geometric_(1.5),
    lambda: tg.zeros(2).log_normal_(0, -1),
    lambda: tg.zeros(2).cauchy_(0, -1),
    lambda: tg.randint(5, 1, (2,)),
])
def test_bad_sampling_parameter_is_a_runtime_error(bad):
    with pytest.raises(RuntimeError) as info:
        bad()
    assert isinstance(info.value, SamplingParameterError)
    # what tensorgan raised before still catches it
    assert isinstance(info.value, ConfigError) and isinstance(info.value, InputTypeError)


def test_poisson_of_integer_rates_is_not_implemented():
    with pytest.raises(NotImplementedError, match="float tensor"):
        tg.poisson(tg.ones(3, dtype=tg.int64))
    with pytest.raises(InputTypeError, match="ints"):      # a float bound: a TypeError, as torch
        tg.randint(0, 2.5, (2,))


# ---- F.pad's reflect / replicate / circular modes take torch's rank / padding combinations
def test_non_constant_pad_refuses_torch_unsupported_combinations():
    img = tg.arange(16.0).reshape(4, 4)
    for mode in ("reflect", "replicate", "circular"):
        with pytest.raises(NotImplementedError, match="padding size 4 is not supported for a 2-D"):
            F.pad(img, (1, 1, 1, 1), mode=mode)
        with pytest.raises(PadShapeNotImplementedError):
            F.pad(tg.ones(3, 3, 3, 3, 3, 3), (1,) * 6, mode=mode)
        assert F.pad(img, (1, 1), mode=mode).shape == (4, 6)                 # (C, W)
        assert F.pad(img[None], (1, 1, 1, 1), mode=mode).shape == (1, 6, 6)  # (C, H, W)
        assert F.pad(img[None, None], (1, 1, 2, 0), mode=mode).shape == (1, 1, 6, 6)
    assert F.pad(img, (1, 1, 1, 1)).shape == (6, 6)        # constant mode pads any dims
    # reflect mirrors without the edge: [4, 5, 6, 7] -> [5, 4, 5, 6, 7, 6]
    assert F.pad(img[None], (1, 1), mode="reflect")[0, 1].tolist() == [5, 4, 5, 6, 7, 6]


# ---- invariants of the ported pieces (all agree with torch to ~1e-16 in float64)
def test_per_sample_kernel_by_grouped_conv_matches_one_conv_per_sample():
    # basicsr's filter2D: reflect pad, then one kernel per sample through groups = b * c
    rng = np.random.default_rng(0)
    b, c, h, w, k = 2, 3, 9, 8, 5
    img = tg.tensor(rng.random((b, c, h, w)), dtype=tg.float64)
    ker = tg.tensor(rng.random((b, k, k)), dtype=tg.float64)
    padded = F.pad(img, (k // 2,) * 4, mode="reflect")
    grouped = F.conv2d(padded.view(1, b * c, h + k - 1, w + k - 1),
                       ker.view(b, 1, k, k).repeat(1, c, 1, 1).view(b * c, 1, k, k), groups=b * c)
    for i in range(b):
        one = F.conv2d(padded[i].view(c, 1, h + k - 1, w + k - 1), ker[i].view(1, 1, k, k))
        np.testing.assert_allclose(grouped.view(b, c, h, w)[i].numpy(), one.view(c, h, w).numpy(),
                                   rtol=1e-13, atol=1e-13)


def test_cumsum_box_filter_equals_mean_filter():
    # DeepGuidedFilter's BoxFilter (cumsum, then differences) against a conv box sum
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.random((1, 2, 7, 9)), dtype=tg.float64, requires_grad=True)
    r = 2

    def diff(a, dim):
        s = a.cumsum(dim)
        n = s.shape[dim]
        def sl(lo, hi):
            return s.narrow(dim, lo, hi - lo)
        return tg.cat([sl(r, 2 * r + 1), sl(2 * r + 1, n) - sl(0, n - 2 * r - 1),
                       sl(n - 1, n) - sl(n - 2 * r - 1, n - r - 1)], dim)

    box = diff(diff(x, 2), 3)
    ref = F.conv2d(x, tg.ones(2, 1, 2 * r + 1, 2 * r + 1, dtype=tg.float64), padding=r, groups=2)
    np.testing.assert_allclose(box.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = tg.tensor(rng.random(box.shape), dtype=tg.float64)
    (ga,) = tg.autograd.grad((box * g).sum(), x)
    (gb,) = tg.autograd.grad((ref * g).sum(), x)
    np.testing.assert_allclose(ga.numpy(), gb.numpy(), rtol=1e-12, atol=1e-12)


def test_backward_warp_with_zero_flow_is_identity_and_integer_flow_shifts():
    # TecoGAN's backward_warp: grid from linspace, flow in pixels, border padding, align_corners
    rng = np.random.default_rng(2)
    n, c, h, w = 1, 2, 5, 6
    x = tg.tensor(rng.random((n, c, h, w)), dtype=tg.float64)

    def warp(img, flow):
        iu = tg.linspace(-1.0, 1.0, w, dtype=tg.float64).view(1, 1, 1, w).expand(n, -1, h, -1)
        iv = tg.linspace(-1.0, 1.0, h, dtype=tg.float64).view(1, 1, h, 1).expand(n, -1, -1, w)
        grid = tg.cat([iu, iv], 1)
        flow = tg.cat([flow[:, 0:1] / ((w - 1.0) / 2.0), flow[:, 1:2] / ((h - 1.0) / 2.0)], 1)
        return F.grid_sample(img, (grid + flow).permute(0, 2, 3, 1), mode="bilinear",
                             padding_mode="border", align_corners=True)

    np.testing.assert_allclose(warp(x, tg.zeros(n, 2, h, w, dtype=tg.float64)).numpy(), x.numpy(),
                               rtol=0, atol=1e-14)
    shifted = warp(x, tg.cat([tg.ones(n, 1, h, w, dtype=tg.float64), tg.zeros(n, 1, h, w, dtype=tg.float64)], 1))
    np.testing.assert_allclose(shifted.numpy()[..., :-1], x.numpy()[..., 1:], rtol=0, atol=1e-14)
    np.testing.assert_allclose(shifted.numpy()[..., -1], x.numpy()[..., -1], rtol=0, atol=1e-14)
