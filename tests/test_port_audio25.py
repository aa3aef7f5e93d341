"""Session 25's audio-GAN ports (Parallel WaveGAN, UnivNet, WaveGAN) beside torch 2.13: what they
needed fixed in tensorgan. (The ports themselves ran beside torch in float64, not kept.)"""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn


@pytest.mark.parametrize("base,args", [
    (nn.Linear, (3, 4)), (nn.Conv1d, (2, 3, 3)), (nn.Conv2d, (1, 1, (1, 5))), (nn.ConvTranspose1d, (2, 2, 4)),
    (nn.Embedding, (5, 3)), (nn.Bilinear, (2, 3, 4)), (nn.LSTM, (3, 4)), (nn.GRUCell, (3, 4)),
])
def test_subclass_reset_parameters_without_generator_is_called_at_construction(base, args):
    # torch's constructors call self.reset_parameters() with no argument; Parallel WaveGAN's
    # Conv1d (kaiming_normal_) and Conv2d (weights 1 / prod(kernel_size)) override it so
    class Custom(base):
        def reset_parameters(self):
            for p in self.parameters():
                nn.init.constant_(p, 0.25)
    m = Custom(*args)
    assert all(np.all(p.numpy() == 0.25) for p in m.parameters())
    # a generator= still reaches the base classes' own reset_parameters(generator)
    a, b = base(*args, generator=tg.Generator().manual_seed(3)), base(*args, generator=tg.Generator().manual_seed(3))
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_multihead_attention_subclass_reset_parameters_override():
    class Custom(nn.MultiheadAttention):
        def _reset_parameters(self):
            nn.init.constant_(self.in_proj_weight, 0.5)
            nn.init.constant_(self.in_proj_bias, 0.0)
    m = Custom(4, 2)
    assert np.all(m.in_proj_weight.numpy() == 0.5)


@pytest.mark.parametrize("factor", [False, 0, 0.0, None])
def test_upsample_falsy_scale_factor_is_none_and_refused_only_when_called(factor):
    # torch's Upsample stores float(scale_factor) if scale_factor else None; WaveGAN-pytorch's
    # Transpose1dLayer builds an Upsample(scale_factor=False) it never calls (upsample=False)
    m = nn.Upsample(scale_factor=factor)
    assert m.scale_factor is None and "size=None" in repr(m)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        m(tg.zeros(1, 1, 4))
    with pytest.raises(ValueError, match="exactly one"):
        nn.Upsample(size=3, scale_factor=2)(tg.zeros(1, 1, 4))     # when called, as torch
    with pytest.raises(ValueError, match="scale_factor must be positive"):
        nn.Upsample(scale_factor=-2)(tg.zeros(1, 1, 4))


def test_legacy_weight_norm_warns_as_torch_and_refuses_a_second_hook_with_a_runtime_error():
    # Parallel WaveGAN / UnivNet / HiFi-GAN call torch.nn.utils.weight_norm, which torch 2.13
    # deprecates with this FutureWarning; parametrizations.weight_norm is the replacement
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        conv = nn.utils.weight_norm(nn.Conv1d(2, 2, 3))
    with pytest.warns(FutureWarning), pytest.raises(RuntimeError, match="already weight-normalized"):
        nn.utils.weight_norm(conv)                                           # torch: RuntimeError
    with pytest.warns(FutureWarning), pytest.raises(tg.ConfigError, match="already weight-normalized"):
        nn.utils.weight_norm(conv)                                           # as tensorgan raised
    sn = nn.utils.spectral_norm(nn.Conv1d(2, 2, 3))
    with pytest.raises(RuntimeError, match="already spectrally normalized"):
        nn.utils.spectral_norm(sn)
    with pytest.raises(ValueError, match="not weight-normalized"):   # PWG's remove loop catches ValueError
        nn.utils.remove_weight_norm(nn.Conv1d(2, 2, 3))
