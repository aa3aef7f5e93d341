"""Session 25's speech-enhancement / TTS GAN ports beside torch 2.13 (SEGAN with its VBN
discriminator, MetricGAN+, GAN-TTS's random-window discriminators; float64, a few steps, same
weights -- the ports themselves are not kept): what they needed fixed in tensorgan."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import InputTypeError
from tensorgan.nn import functional as F
from tensorgan.nn.modules.conv import _ConvNd
from tensorgan.nn.modules.utils import _single


class SNConv1d(_ConvNd):
    """SEGAN's (segan/models/discriminator.py, from SN-GAN) conv: subclasses torch's _ConvNd
    directly and calls it in torch's positional order, here with torch 2.13's padding_mode."""
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True):
        super().__init__(in_channels, out_channels, _single(kernel_size), _single(stride), _single(padding),
                         _single(dilation), False, _single(0), groups, bias, 'zeros')

    def forward(self, x):
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


def test_convnd_subclass_in_torchs_positional_order_builds_as_torchs():
    m = SNConv1d(2, 4, 5, stride=2, padding=1, groups=2)
    assert (m.transposed, m.dims, m.kernel_size, m.stride, m.padding, m.groups) == (False, 1, (5,), (2,), (1,), 2)
    assert tuple(m.weight.shape) == (4, 1, 5) and tuple(m.bias.shape) == (4,)
    assert repr(m) == "SNConv1d(2, 4, kernel_size=(5,), stride=(2,), padding=(1,), groups=2)"   # torch's repr
    bound = 1 / np.sqrt(5)                                       # torch's default init: fan_in = 1 * 5
    assert np.abs(m.weight.numpy()).max() <= bound and np.abs(m.bias.numpy()).max() <= bound
    ref = nn.Conv1d(2, 4, 5, stride=2, padding=1, groups=2)
    ref.load_state_dict(m.state_dict())                          # same names, same shapes
    x = tg.tensor(np.random.default_rng(0).standard_normal((2, 2, 17)), dtype=tg.float32)
    np.testing.assert_array_equal(m(x).numpy(), ref(x).numpy())
    assert _ConvNd.transposed is False and _ConvNd.dims == 2     # set on the instance, not the base


def test_convnd_torch_order_transposed_with_factory_keywords():
    class TConv(_ConvNd):    # torch's own Conv*d pass **factory_kwargs after the 11 positionals
        def __init__(self, **factory_kwargs):
            super().__init__(4, 6, (4, 4), (2, 2), (1, 1), (1, 1), True, (1, 1), 2, False, 'zeros',
                             **factory_kwargs)

    m = TConv(device=None, dtype=tg.float64)
    assert m.transposed and m.dims == 2 and m.output_padding == (1, 1) and m.bias is None
    assert tuple(m.weight.shape) == (4, 3, 4, 4) and m.weight.dtype == tg.float64   # (in, out // groups, *k)
    assert "output_padding=(1, 1)" in repr(m) and "groups=2" in repr(m)


def test_convnd_torch_order_errors_as_torchs():
    class NoMode(_ConvNd):   # the 2018 SN-GAN form: torch 2.13 wants padding_mode too
        def __init__(self):
            super().__init__(2, 3, (3,), (1,), (0,), (1,), False, (0,), 1, True)

    with pytest.raises(TypeError, match=r"_ConvNd.__init__\(\) missing 1 required positional argument: "
                                        r"'padding_mode'"):
        NoMode()

    class IntKernel(_ConvNd):  # torch unpacks kernel_size into the weight's shape
        def __init__(self):
            super().__init__(2, 3, 3, 1, 0, 1, False, 0, 1, True, 'zeros')

    with pytest.raises(InputTypeError, match="kernel_size as a tuple"):
        IntKernel()


def test_convnd_torch_keywords_same_padding_and_reversed_padding_repeated_twice():
    class SameConv(_ConvNd):   # all by keyword, transposed= says which order
        def __init__(self):
            super().__init__(in_channels=2, out_channels=3, kernel_size=(4, 3), stride=(1, 1), padding='same',
                             dilation=(2, 1), transposed=False, output_padding=(0, 0), groups=1, bias=False,
                             padding_mode='reflect')

        def forward(self, x):    # torch's Conv2d._conv_forward for a padding_mode other than zeros
            return F.conv2d(F.pad(x, self._reversed_padding_repeated_twice, mode=self.padding_mode),
                            self.weight, None, self.stride, 0, self.dilation)

    m = SameConv()
    # 'same' splits d * (k - 1) as torch: (4, 3) dilated (2, 1) -> 6 = 3 + 3 rows, 2 = 1 + 1 columns
    assert m._reversed_padding_repeated_twice == [1, 1, 3, 3]
    ref = nn.Conv2d(2, 3, (4, 3), padding='same', dilation=(2, 1), bias=False, padding_mode='reflect')
    ref.load_state_dict(m.state_dict())
    x = tg.tensor(np.random.default_rng(1).standard_normal((1, 2, 9, 7)), dtype=tg.float32)
    np.testing.assert_allclose(m(x).numpy(), ref(x).numpy(), rtol=0, atol=1e-5)
    # torch's values on its own layers: a tuple for int padding, a list for 'same' / 'valid'
    assert nn.Conv2d(1, 1, 3, padding=(2, 1))._reversed_padding_repeated_twice == (1, 1, 2, 2)
    assert nn.Conv1d(1, 1, 3, padding='valid')._reversed_padding_repeated_twice == [0, 0]
    assert nn.ConvTranspose2d(1, 1, 3, padding=1)._reversed_padding_repeated_twice == (1, 1, 1, 1)
