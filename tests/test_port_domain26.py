"""Session 26: domain adaptation and attention-guided translation, ported at tiny sizes and run
beside torch 2.13 in float64 with identical weights -- DANN (fungtion's ReverseLayerF as a ctx
Function, the 2/(1+exp(-10p))-1 lambda schedule, BatchNorm + NLLLoss), ADDA (jhoffman's
cycada_release: source pretraining, target encoder against a Linear discriminator with the
source encoder frozen or not), CyCADA's semantic consistency loss on CycleGAN, Ha0Tang's
AttentionGAN generator (10 attention + 9 content masks) and alpc91's NICE-GAN (the
discriminator's encoder feeds the generator; CAM with avg/max pooling and spectral norm's
weight_orig reused; ILN / adaLIN with softmaxed rho; PixelShuffle up-sampling; linear lr decay).
Losses, gradients and parameters agreed to 1e-13 over 3-4 steps (parameters to 1e-9 where Adam
divides by the near-zero gradient of a bias before a norm).  What differed, and is fixed: a custom
Function's backward returning a gradient for a non-Tensor argument (ignored; torch refuses it) and
the legacy instance-style Function call ``GradReverse(l)(x)`` (a TypeError; torch's
RuntimeError), and a backward returning a held tensor (``ctx.saved_tensors[0]``) as the gradient:
``.grad`` shared its memory, so ``zero_grad(set_to_none=False)`` zeroed it.  No torch here: the checks are invariants and finite differences."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import AutogradError


class ReverseLayerF(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.alpha, None


def _dann_alpha(p: float) -> float:
    return 2.0 / (1.0 + np.exp(-10 * p)) - 1


# -- gradient reversal ----------------------------------------------------------------------------
def test_reversal_layer_flips_and_scales_the_domain_gradient_only():
    tg.manual_seed(0)
    feat, head = nn.Linear(5, 4).double(), nn.Linear(4, 2).double()
    x = tg.randn(3, 5, dtype=tg.float64)
    grads = []
    for alpha in (None, 0.3):
        feat.zero_grad()
        f = feat(x)
        g = f if alpha is None else ReverseLayerF.apply(f, alpha)
        nn.NLLLoss()(tg.log_softmax(head(g), 1), tg.tensor([0, 1, 1])).backward()
        grads.append(feat.weight.grad.clone())
    np.testing.assert_allclose(grads[1].numpy(), -0.3 * grads[0].numpy(), rtol=1e-12, atol=1e-15)
    assert ReverseLayerF.apply(f, 0.3).grad_fn.name() == "ReverseLayerFBackward"


def test_dann_lambda_schedule_runs_from_zero_towards_one():
    ps = np.linspace(0, 1, 5)
    alphas = [_dann_alpha(p) for p in ps]
    assert alphas[0] == 0 and np.all(np.diff(alphas) > 0) and 0.999 < alphas[-1] < 1


# -- the fixes -------------------------------------------------------------------------------------
def test_gradient_for_a_non_tensor_argument_is_refused():
    class Slip(tg.autograd.Function):        # gradients returned in the wrong order
        @staticmethod
        def forward(ctx, x, alpha):
            return x * alpha

        @staticmethod
        def backward(ctx, grad):
            return grad, tg.tensor(1.0)

    x = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="position 2.*not a Tensor") as info:
        Slip.apply(x, 0.5).sum().backward()
    assert isinstance(info.value, AutogradError) and "SlipBackward" in str(info.value)


def test_gradient_for_a_tensor_that_needs_none_is_still_dropped():
    class Both(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            return x * w

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, grad * 3

    x, w = tg.ones(2, requires_grad=True), tg.ones(2)
    Both.apply(x, w).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and w.grad is None


def test_legacy_instance_style_function_is_refused_as_torch():
    class GradReverse(tg.autograd.Function):   # pre-0.4 DANN code
        def __init__(self, lambd):
            super().__init__()
            self.lambd = lambd

        def forward(self, x):
            return x.view_as(x)

        def backward(self, grad_output):
            return grad_output * -self.lambd

    with pytest.raises(RuntimeError, match="Legacy autograd function") as info:
        GradReverse(0.5)(tg.ones(2, requires_grad=True))
    assert isinstance(info.value, AutogradError)


@pytest.mark.parametrize("which", ["saved", "input"])
def test_gradient_that_is_a_held_tensor_is_copied_into_grad(which):
    w = tg.full((2,), 5.0)

    class Held(tg.autograd.Function):       # the gradient precomputed (or the input itself)
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(w if which == "saved" else x)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return ctx.saved_tensors[0]

    x = tg.ones(2, requires_grad=True)
    Held.apply(x).sum().backward()
    held = w if which == "saved" else x
    expected = held.detach().clone()
    x.grad.zero_()                          # optimizer.zero_grad(set_to_none=False) does this
    assert held.tolist() == expected.tolist() and x.grad.tolist() == [0.0, 0.0]


def test_passed_through_gradient_still_reaches_the_leaf():
    class StraightThrough(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.round()

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = tg.tensor([0.2, 0.7], requires_grad=True)
    (StraightThrough.apply(x) * tg.tensor([3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]
