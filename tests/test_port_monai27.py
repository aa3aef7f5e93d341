"""Session 27, MONAI GAN port (Generator / PatchDiscriminator / PatchAdversarialLoss beside torch,
float64): the module plumbing those nets lean on, and the losses checked against NumPy."""
from collections import OrderedDict

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn


class _ListOut(nn.Sequential):
    """A PatchDiscriminator-style Sequential subclass: forward returns every child's output."""

    def forward(self, x):
        out = [x]
        for child in self.children():
            out.append(child(out[-1]))
        return out[1:]


def test_sequential_slice_keeps_the_subclass_and_its_forward():
    seq = _ListOut(OrderedDict(initial=nn.Linear(3, 4), act=nn.Tanh(), final=nn.Linear(4, 2)))
    head = seq[:2]
    assert type(head) is _ListOut and list(head._modules) == ["initial", "act"]
    out = head(tg.ones(5, 3))
    assert isinstance(out, list) and [tuple(o.shape) for o in out] == [(5, 4), (5, 4)]


def test_module_and_parameter_list_slices_keep_the_subclass():
    class Blocks(nn.ModuleList):
        pass

    class Weights(nn.ParameterList):
        pass

    blocks = Blocks([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
    assert type(blocks[1:]) is Blocks and len(blocks[1:]) == 2
    weights = Weights([nn.Parameter(tg.ones(2)) for _ in range(3)])
    assert type(weights[::2]) is Weights and len(weights[::2]) == 2


def test_sequential_slice_of_a_subclass_with_its_own_init_fails_as_torch():
    class Disc(nn.Sequential):
        def __init__(self, channels):
            super().__init__(nn.Linear(channels, channels), nn.Linear(channels, 1))

    with pytest.raises(TypeError):
        Disc(3)[:1]


def _leaky(x, slope):
    return np.where(x > 0, x, slope * x)


@pytest.mark.parametrize("criterion", ["least_squares", "hinge"])
def test_patch_adversarial_losses_match_numpy(criterion):
    """MONAI's PatchAdversarialLoss written with tensorgan ops: least squares is MSE of
    leaky_relu(0.05) logits against 1/0, hinge is -mean(min(+-tanh(logits) - 1, 0))."""
    logits = np.random.default_rng(0).standard_normal((2, 1, 5, 5))
    x = tg.tensor(logits, requires_grad=True)
    zero = tg.tensor(0).type(x.type()).to(x[0].device).expand_as(x)
    if criterion == "least_squares":
        act = nn.LeakyReLU(0.05)(x)
        real = tg.tensor(1).fill_(1.0).type(x.type()).expand_as(x)
        loss = nn.MSELoss()(act, real) + nn.MSELoss()(act, zero)
        a = _leaky(logits, 0.05)
        expected = np.mean((a - 1) ** 2) + np.mean(a ** 2)
        grad = (2 * (a - 1) + 2 * a) / a.size * np.where(logits > 0, 1, 0.05)
    else:
        t = nn.Tanh()(x)
        loss = -tg.mean(tg.min(t - 1, zero)) - tg.mean(tg.min(-t - 1, zero))
        th = np.tanh(logits)
        expected = -np.mean(np.minimum(th - 1, 0)) - np.mean(np.minimum(-th - 1, 0))
        grad = np.zeros_like(logits)     # |tanh| < 1: both mins take their first argument, which cancel
    loss.backward()
    assert abs(loss.item() - expected) < 1e-12
    np.testing.assert_allclose(x.grad.numpy(), grad, atol=1e-12)


def test_normal_init_through_data_on_a_sequential_subclass():
    """MONAI's normal_init via Module.apply: getattr(m, 'weight', None) is None on containers,
    and writes through .data reach the parameters."""
    tg.manual_seed(0)
    net = _ListOut(nn.Conv2d(1, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.Conv2d(64, 1, 3))

    def normal_init(m, std=0.02):
        name = m.__class__.__name__
        if getattr(m, "weight", None) is not None and "Conv" in name:
            nn.init.normal_(m.weight.data, 0.0, std)
            nn.init.constant_(m.bias.data, 0.0)
        elif "BatchNorm" in name:
            nn.init.normal_(m.weight.data, 1.0, std)
            nn.init.constant_(m.bias.data, 0)

    net.apply(normal_init)
    assert abs(net[0].weight.std().item() - 0.02) < 0.004 and net[0].bias.abs().max().item() == 0
    assert abs(net[1].weight.mean().item() - 1) < 0.01 and net[1].bias.abs().max().item() == 0


def test_generator_block_gradcheck_and_zero_bias_gradient_before_instance_norm():
    """MONAI's Convolution(is_transposed) + ResidualUnit(NDA: InstanceNorm, PReLU): gradients
    match finite differences; a conv bias feeding InstanceNorm gets (almost) no gradient."""
    tg.manual_seed(0)
    up = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1).double()
    unit = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.InstanceNorm2d(3), nn.PReLU()).double()
    x = tg.tensor(np.random.default_rng(1).standard_normal((2, 2, 3, 3)), requires_grad=True)

    def block(inp):
        h = up(inp)
        return unit(h) + h

    assert tg.autograd.gradcheck(block, (x,), eps=1e-6, atol=1e-6)
    block(x).pow(2).sum().backward()
    assert unit[0].bias.grad.abs().max().item() < 1e-12 < unit[0].weight.grad.abs().max().item()
