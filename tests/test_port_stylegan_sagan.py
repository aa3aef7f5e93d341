"""Gaps found porting rosinality/stylegan2-pytorch (model.py, op/ native paths, train.py's losses)
and heykeetae/Self-Attention-GAN (sagan_models.py, spectral.py, trainer.py). Expected values come
from first principles / NumPy (no torch import)."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F


# -- stylegan2 model.py ConvLayer: a plain attribute set before super().__init__() ---------------
class _ConvLayer(nn.Sequential):
    """stylegan2's ConvLayer(nn.Sequential): sets self.padding, then calls super().__init__(*layers)."""

    def __init__(self, cin, cout, k):
        self.padding = k // 2
        super().__init__(nn.Conv2d(cin, cout, k, padding=self.padding), nn.LeakyReLU(0.2))


def test_plain_attribute_before_super_init_is_kept_like_torch():
    layer = _ConvLayer(2, 3, 3)
    assert layer.padding == 1
    assert len(layer) == 2 and [n for n, _ in layer.named_parameters()] == ["0.weight", "0.bias"]
    assert "padding" not in layer.state_dict()
    out = layer(tg.randn(1, 2, 5, 5))
    assert tuple(out.shape) == (1, 3, 5, 5)


@pytest.mark.parametrize("value", [lambda: nn.Parameter(tg.zeros(2)), lambda: nn.Linear(2, 2)])
def test_parameter_or_module_before_super_init_still_refused(value):
    class Early(nn.Module):
        def __init__(self):
            self.thing = value()
            super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


# -- SAGAN trainer.py: grad_outputs=torch.ones(out.size()) (float32) for a float64 output ---------
def test_autograd_grad_casts_real_grad_outputs_to_the_outputs_dtype():
    x = tg.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)          # float64
    out = (x ** 3).sum(0, keepdim=True) * x                                # float64
    g, = tg.autograd.grad(out, x, grad_outputs=tg.ones(out.size(), dtype=tg.float32),
                          create_graph=True)
    assert g.dtype == tg.float64
    xs = np.array([1.0, -2.0, 3.0])
    # d/dx_j sum_i (S * x_i) with S = sum x^3: S + 3 x_j^2 * sum_i x_i
    np.testing.assert_allclose(g.detach().numpy(), (xs ** 3).sum() + 3 * xs ** 2 * xs.sum(),
                               rtol=1e-12)
    # the seed's cast is differentiable: d(sum g * 1)/d(seed) through a float32 seed that requires grad
    seed = tg.ones(3, dtype=tg.float32, requires_grad=True)
    y = 2 * x
    gx, = tg.autograd.grad(y, x, grad_outputs=seed, create_graph=True)
    assert gx.dtype == tg.float64
    gseed, = tg.autograd.grad(gx.sum(), seed)
    assert gseed.dtype == tg.float32
    np.testing.assert_allclose(gseed.numpy(), [2.0, 2.0, 2.0])


def test_backward_casts_real_gradient_to_the_tensors_dtype():
    x = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).backward(tg.ones(2, dtype=tg.float32))
    assert x.grad.dtype == tg.float64
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    w = tg.ones(2, requires_grad=True)                                     # float32
    (w * 5).backward(tg.tensor(np.array([1.0, 2.0])))                      # float64 gradient
    assert w.grad.dtype == tg.float32
    np.testing.assert_allclose(w.grad.numpy(), [5.0, 10.0])


# -- SAGAN spectral.py: from torch.optim.optimizer import Optimizer, required --------------------
def test_torch_optim_module_names_import():
    from tensorgan.optim.optimizer import Optimizer, required
    from tensorgan.optim.adam import Adam
    from tensorgan.optim.sgd import SGD
    import tensorgan.optim.lr_scheduler  # noqa: F401  (already a module)
    assert Optimizer is tg.optim.Optimizer and Adam is tg.optim.Adam and SGD is tg.optim.SGD
    assert repr(required) == "<required parameter>"
    assert tg.optim.adamw.AdamW is tg.optim.AdamW


# -- stylegan2 ModulatedConv2d: grouped conv_transpose2d (groups=batch) = per-sample ----------
def test_grouped_conv_transpose_per_sample_weights_and_r1_penalty():
    rng = np.random.default_rng(0)
    b, cin, cout, k = 2, 3, 4, 3
    x = rng.standard_normal((b, cin, 5, 5))
    w = rng.standard_normal((b, cin, cout, k, k))
    xt = tg.tensor(x, requires_grad=True)
    out = F.conv_transpose2d(xt.view(1, b * cin, 5, 5), tg.tensor(w.reshape(b * cin, cout, k, k)),
                             stride=2, groups=b).view(b, cout, 11, 11)
    for i in range(b):
        ref = F.conv_transpose2d(tg.tensor(x[i:i + 1]), tg.tensor(w[i]), stride=2)
        np.testing.assert_allclose(out[i:i + 1].detach().numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    # train.py's d_r1_loss: the penalty of a linear map is the squared norm of its row sums
    g, = tg.autograd.grad(out.sum(), xt, create_graph=True)
    pen = g.pow(2).reshape(b, -1).sum(1).mean()
    # d(sum out)/dx[i, c, p, q] = the sum of w[i, c] over (cout, kh, kw) at every one of the 25 pixels
    want = np.mean([25 * (w[i].sum(axis=(1, 2, 3)) ** 2).sum() for i in range(b)])
    assert pen.item() == pytest.approx(want, rel=1e-12)
