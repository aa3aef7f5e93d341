"""Second-order gradients through GAN critics' layers, as the gradient penalties take them.

A differential fuzz against torch (thousands of random critics / generators, float64, WGAN-GP /
R1 / path-length penalties, Adam steps) agreed to rounding; these are its deterministic
counterparts: the penalty's gradient w.r.t. the input and a weight of each layer checked against
central differences (gradcheck of a function that itself calls ``autograd.grad(...,
create_graph=True)``), and invariants of the fused BatchNorm + LeakyReLU pair and of in-place
activations in graph mode."""
from typing import Callable

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn

SEED = 29


def _f64(module: nn.Module) -> nn.Module:
    tg.manual_seed(SEED)
    return module.to("float64")


# name -> (module factory, input shape, the parameter whose penalty gradient is checked, train)
LAYERS: dict[str, tuple[Callable[[], nn.Module], tuple, str, bool]] = {
    "conv_reflect_stride2": (lambda: nn.Conv2d(2, 3, 3, 2, 1, padding_mode="reflect"), (2, 2, 5, 5),
                             "weight", True),
    "conv_transpose_groups_dilation": (lambda: nn.ConvTranspose2d(2, 4, 3, 2, 1, 1, groups=2, dilation=2),
                                       (2, 2, 3, 3), "weight", True),
    "group_norm": (lambda: nn.Sequential(nn.Conv2d(2, 4, 1), nn.GroupNorm(2, 4), nn.SiLU()),
                   (2, 2, 3, 3), "1.weight", True),
    "instance_norm_affine": (lambda: nn.Sequential(nn.Conv2d(2, 2, 1), nn.InstanceNorm2d(2, affine=True),
                                                   nn.ELU()), (2, 2, 3, 3), "1.weight", True),
    "layer_norm": (lambda: nn.Sequential(nn.LayerNorm([2, 3, 3]), nn.Softplus(2.0, 1.0)), (2, 2, 3, 3),
                   "0.weight", True),
    "batch_norm_train_leaky_relu": (lambda: nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3),
                                                          nn.LeakyReLU(0.2)), (3, 2, 2, 3), "1.weight", True),
    "batch_norm_eval_leaky_relu": (lambda: nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3),
                                                         nn.LeakyReLU(-0.3)), (2, 2, 2, 3), "0.weight", False),
    "batch_norm1d_leaky_relu": (lambda: nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.LeakyReLU(0.2),
                                                      nn.Linear(3, 2), nn.Tanh()), (3, 4), "1.bias", True),
    "upsample_bilinear_align_corners": (lambda: nn.Sequential(nn.Conv2d(1, 2, 1), nn.Upsample(
        scale_factor=2, mode="bilinear", align_corners=True), nn.Tanh()), (2, 1, 2, 3), "0.weight", True),
    "adaptive_pools": (lambda: nn.Sequential(nn.Conv2d(1, 2, 2), nn.Tanh(), nn.AdaptiveAvgPool2d((3, 2)),
                                             nn.AdaptiveMaxPool2d(2)), (2, 1, 5, 6), "0.weight", True),
    "pixel_unshuffle_mish": (lambda: nn.Sequential(nn.PixelUnshuffle(2), nn.Conv2d(4, 2, 1), nn.Mish()),
                             (2, 1, 4, 4), "1.weight", True),
    "spectral_norm_eval": (lambda: nn.Sequential(nn.utils.spectral_norm(nn.Conv2d(2, 3, 2)), nn.GELU()),
                           (2, 2, 3, 3), "0.weight_orig", False),
    "parametrized_spectral_norm_eval": (lambda: nn.Sequential(nn.utils.parametrizations.spectral_norm(
        nn.Linear(5, 3)), nn.Sigmoid()), (2, 5), "0.parametrizations.weight.original", False),
}


def _penalty(module: nn.Module, name: str) -> Callable[[tg.Tensor, tg.Tensor], tg.Tensor]:
    """WGAN-GP's penalty plus the critic's mean score, as a function of the input batch and of
    one parameter (put in through functional_call), for gradcheck's finite differences."""
    def penalty(x: tg.Tensor, p: tg.Tensor) -> tg.Tensor:
        with tg.enable_grad():       # gradcheck's perturbed evaluations run under no_grad
            h = tg.func.functional_call(module, {name: p}, (x,)).reshape(x.shape[0], -1)
            head = tg.tensor(np.linspace(-1.0, 1.5, h.shape[1]), dtype="float64")
            scores = (h * head).sum(dim=1) ** 2
            (g,) = tg.autograd.grad(scores, x, grad_outputs=tg.ones_like(scores), create_graph=True)
        norms = g.reshape(x.shape[0], -1).norm(2, dim=1)
        return ((norms - 1.0) ** 2).mean() + scores.mean()
    return penalty


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_penalty_gradient_through_the_layer_matches_finite_differences(layer):
    make, shape, name, train = LAYERS[layer]
    module = _f64(make()).train(train)
    x = tg.tensor(np.random.default_rng(SEED).standard_normal(shape), dtype="float64", requires_grad=True)
    p = dict(module.named_parameters())[name].detach().clone().requires_grad_()
    penalty = _penalty(module, name)
    assert tg.gradcheck(penalty, (x, p), atol=1e-6)
    # the penalty's input gradient (made by the ops' grad_graph) is the first-order one (made by
    # their backward kernels), which gradcheck checks against finite differences
    first = {}
    for create_graph in (True, False):
        h = module(x).reshape(x.shape[0], -1)
        (first[create_graph],) = tg.autograd.grad((h * h).sum(), x, create_graph=create_graph)
    np.testing.assert_allclose(first[True].numpy(), first[False].numpy(), rtol=1e-12, atol=1e-14)
    assert tg.gradcheck(lambda v: (module(v) ** 2).sum(), (x,), atol=1e-6)


def _penalty_grads(seq: nn.Sequential, x0: np.ndarray) -> list[np.ndarray]:
    x = tg.tensor(x0, dtype="float64", requires_grad=True)
    out = seq(x).reshape(x.shape[0], -1).sum(dim=1) ** 2
    (g,) = tg.autograd.grad(out.sum(), x, create_graph=True)
    ((g.reshape(x.shape[0], -1).norm(2, dim=1) - 1.0) ** 2).mean().backward()
    return [x.grad.numpy()] + [p.grad.numpy() for p in seq.parameters()] + \
        [b.numpy().copy() for b in seq.buffers() if b.dtype == tg.float64]


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("slope", [0.2, -0.1, 1.0])
def test_fused_batch_norm_leaky_relu_matches_the_pair_in_graph_mode(train, slope):
    # Sequential runs BatchNorm + LeakyReLU as one op; its double backward (and the running
    # statistics it updates) must be the two modules' one after the other
    x0 = np.random.default_rng(SEED).standard_normal((3, 2, 3, 2))
    results = []
    for fuse in (True, False):
        seq = _f64(nn.Sequential(nn.Conv2d(2, 3, 2), nn.BatchNorm2d(3), nn.LeakyReLU(slope),
                                 nn.Conv2d(3, 1, 1))).train(train)
        seq.fuse_batch_norm_activation = fuse
        with tg.no_grad():
            seq[1].weight.copy_(tg.tensor([0.5, -1.5, 2.0], dtype="float64"))
            seq[1].running_var.fill_(0.7)
        results.append(_penalty_grads(seq, x0))
    for fused, pair in zip(*results):
        np.testing.assert_allclose(fused, pair, rtol=1e-12, atol=1e-14)


def test_in_place_activation_on_a_saved_output_differentiates_the_values_it_was_given():
    # torch refuses ReLU -> LeakyReLU(inplace=True) under a penalty (relu saved its output);
    # tensorgan writes a new buffer instead: second-order gradients are the out-of-place ones
    x0 = np.random.default_rng(SEED).standard_normal((2, 2, 3, 3))
    results = []
    for inplace in (True, False):
        seq = _f64(nn.Sequential(nn.Conv2d(2, 2, 1), nn.Sigmoid(), nn.ELU(inplace=inplace),
                                 nn.Conv2d(2, 2, 1), nn.ReLU(), nn.LeakyReLU(0.2, inplace=inplace)))
        results.append(_penalty_grads(seq, x0))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


class _ResBlock(nn.Module):
    """An SNGAN critic block: pre-activation convs, average pooling, a 1x1 shortcut, and the
    repos' in-place ``h += shortcut``."""

    def __init__(self) -> None:
        super().__init__()
        self.c1, self.c2, self.sc = nn.Conv2d(2, 3, 3, 1, 1), nn.Conv2d(3, 3, 3, 1, 1), nn.Conv2d(2, 3, 1)

    def forward(self, x: tg.Tensor) -> tg.Tensor:
        h = self.c2(nn.functional.relu(self.c1(nn.functional.relu(x)), inplace=True))
        h = nn.functional.avg_pool2d(h, 2)
        h += nn.functional.avg_pool2d(self.sc(x), 2)
        return h.sum(dim=(2, 3))


def test_penalty_through_an_in_place_residual_sum_matches_finite_differences():
    block = _f64(_ResBlock())
    x = tg.tensor(np.random.default_rng(SEED).standard_normal((2, 2, 4, 4)), dtype="float64",
                  requires_grad=True)
    w = block.c1.weight.detach().clone().requires_grad_()
    assert tg.gradcheck(_penalty(block, "c1.weight"), (x, w), atol=1e-6)
