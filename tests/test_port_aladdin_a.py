"""Patterns from aladdinpersson's GAN tutorials (SimpleGAN, DCGAN, WGAN, WGAN-GP, ProGAN,
StyleGAN), ported and run beside torch in float64 (losses and weights within 1e-13 over the
runs; the ports themselves are not kept).  Here: what the ports leaned on, checked from first
principles -- the f"{loss:.4f}" formatting of their progress prints (torch's rules), the
equalized-learning-rate layers' re-registered bias, ProGAN's minibatch-std feature, the
EMA helper's ``param.data = ...`` copy and the WGAN-GP penalty's double backward."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import InputTypeError


# ---- f"{loss:.4f}": torch formats a 0-d tensor as its number and refuses a spec otherwise ----

def test_a_0d_loss_formats_as_its_number():
    loss = tg.tensor(0.693147, dtype=tg.float64)
    assert f"{loss:.4f}" == "0.6931"
    assert f"{tg.tensor(3):d}" == "3"
    assert f"{loss}" == "0.693147"      # torch: the number, not the repr


def test_a_format_spec_on_a_tensor_with_dims_is_a_type_error():
    # torch: TypeError "unsupported format string passed to Tensor.__format__" -- also for a
    # single element (loss.view(1)), not only for several
    for x in (tg.ones(1), tg.ones(3), tg.ones((2, 2))):
        with pytest.raises(TypeError, match=r"Tensor.__format__.*shape \(") as info:
            f"{x:.4f}"
        assert isinstance(info.value, InputTypeError)
        assert ".item()" in str(info.value)


def test_a_tensor_with_dims_formats_whole_without_a_spec():
    x = tg.tensor([1.0, 2.0])
    assert f"{x}" == repr(x) == str(x)


# ---- WSConv2d / WSLinear: the inner layer's bias moved to the wrapper ----

class WSConv2d(nn.Module):
    def __init__(self, cin, cout, k=3, padding=1, gain=2):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, 1, padding)
        self.scale = (gain / (cin * k ** 2)) ** 0.5
        self.bias = self.conv.bias
        self.conv.bias = None
        nn.init.normal_(self.conv.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x):
        return self.conv(x * self.scale) + self.bias.view(1, self.bias.shape[0], 1, 1)


def test_ws_conv_owns_the_moved_bias_and_trains_it():
    tg.manual_seed(0)
    layer = WSConv2d(2, 3).double()
    assert layer.conv.bias is None
    assert list(layer.state_dict()) == ["bias", "conv.weight"]
    assert [n for n, _ in layer.named_parameters()] == ["bias", "conv.weight"]
    x = tg.tensor(np.random.default_rng(0).standard_normal((2, 2, 5, 5)))
    w = layer.conv.weight.detach().numpy()
    expected = F.conv2d(x * layer.scale, tg.tensor(w), padding=1).numpy()
    np.testing.assert_allclose(layer(x).detach().numpy(), expected, rtol=1e-12)
    opt = tg.optim.SGD(layer.parameters(), lr=0.1)
    layer(x).sum().backward()
    # d sum / d bias_c = N * H * W = 50 for each channel
    np.testing.assert_allclose(layer.bias.grad.numpy(), [50.0] * 3)
    opt.step()
    np.testing.assert_allclose(layer.bias.detach().numpy(), [-5.0] * 3)


# ---- ProGAN's minibatch std: std over the batch, averaged, repeated as one more channel ----

def test_minibatch_std_feature():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 3, 2, 2))
    x = tg.tensor(a, requires_grad=True)
    stat = tg.std(x, dim=0).mean().repeat(x.shape[0], 1, x.shape[2], x.shape[3])
    out = tg.cat([x, stat], dim=1)
    assert out.shape == (4, 4, 2, 2)
    np.testing.assert_allclose(out[:, 3].detach().numpy(), np.full((4, 2, 2), a.std(0, ddof=1).mean()),
                               rtol=1e-13)
    out[:, 3].sum().backward()
    # d/dx of 16 * mean_j std_j: 16/12 * (x - mean_j) / ((N - 1) std_j)
    s = a.std(0, ddof=1)
    np.testing.assert_allclose(x.grad.numpy(), 16 / 12 * (a - a.mean(0)) / (3 * s), rtol=1e-12)


# ---- StyleGAN's EMA helper: registered = gamma * param + (1 - gamma) * old; param.data = ... ----

def test_ema_copy_through_param_data_keeps_a_trainable_leaf():
    tg.manual_seed(0)
    src, dst = nn.Linear(3, 2).double(), nn.Linear(3, 2).double()
    registered = {n: p.clone().detach() for n, p in src.named_parameters()}
    with tg.no_grad():
        for p in src.parameters():
            p.add_(1.0)
    registered = {n: 0.9 * p + 0.1 * registered[n] for n, p in src.named_parameters()}  # graph ops
    for n, p in dst.named_parameters():
        p.data = registered[n]
    for n, p in dst.named_parameters():
        assert p.is_leaf and p.requires_grad and p.grad_fn is None
        np.testing.assert_allclose(p.detach().numpy(), registered[n].detach().numpy())
    x = tg.ones((1, 3), dtype=tg.float64)
    dst(x).sum().backward()
    np.testing.assert_allclose(dst.weight.grad.numpy(), np.ones((2, 3)))
    assert src.weight.grad is None


# ---- WGAN-GP's gradient_penalty through a linear critic: gradient w, penalty (|w| - 1)^2 ----

def test_gradient_penalty_double_backward_through_a_linear_critic():
    critic = nn.Sequential(nn.Flatten(), nn.Linear(12, 1)).double()
    w = np.random.default_rng(2).standard_normal((1, 12))
    with tg.no_grad():
        critic[1].weight.copy_(tg.tensor(w))
    real = tg.tensor(np.random.default_rng(3).standard_normal((5, 3, 2, 2)))
    fake = tg.tensor(np.random.default_rng(4).standard_normal((5, 3, 2, 2)), requires_grad=True)
    eps = tg.tensor(np.random.default_rng(5).random((5, 1, 1, 1))).repeat(1, 3, 2, 2)
    mixed = real * eps + fake * (1 - eps)
    scores = critic(mixed)
    grad = tg.autograd.grad(inputs=mixed, outputs=scores, grad_outputs=tg.ones_like(scores),
                            create_graph=True, retain_graph=True)[0]
    np.testing.assert_allclose(grad.view(5, -1).detach().numpy(), np.repeat(w, 5, 0), rtol=1e-13)
    gp = tg.mean((grad.view(grad.shape[0], -1).norm(2, dim=1) - 1) ** 2)
    n = np.linalg.norm(w)
    assert gp.item() == pytest.approx((n - 1) ** 2, rel=1e-13)
    gp.backward()
    np.testing.assert_allclose(critic[1].weight.grad.numpy(), 2 * (n - 1) * w / n, rtol=1e-12)
    assert fake.grad is None or np.abs(fake.grad.numpy()).max() == 0


# ---- ProGAN / StyleGAN's get_loader: DataLoader(..., pin_memory=True) on a machine without GPU ----

@pytest.mark.parametrize("accelerator", [False, True])
def test_pin_memory_without_an_accelerator_warns_each_epoch_as_torchs(monkeypatch, accelerator):
    import warnings
    import tensorgan.accelerator
    from tensorgan.data import DataLoader as TgLoader
    from tensorgan.utils.data import DataLoader, TensorDataset
    monkeypatch.setattr(tensorgan.accelerator, "is_available", lambda: accelerator)
    data = TensorDataset(tg.zeros((4, 2)))
    pinned = DataLoader(data, batch_size=2, shuffle=False, pin_memory=True)   # making it: silent
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            assert len([b for b in pinned]) == 2
        for _ in TgLoader(tg.data.ArrayDataset(np.zeros((4, 1, 2, 2), np.uint8)), 2, pin_memory=True):
            pass
        for _ in DataLoader(data, batch_size=2, shuffle=False):
            pass
    messages = [str(w.message) for w in caught]
    if accelerator:                 # batches need no pinning there: nothing to say
        assert messages == []
    else:
        assert messages == ["'pin_memory' argument is set as true but no accelerator is found, "
                            "then device pinned memory won't be used."] * 3
        assert [w.filename for w in caught] == [__file__] * 3      # each points at its loop
