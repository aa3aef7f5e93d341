"""Found porting latent-editing / inversion code (DragGAN, SeFa, GANSpace, rosinality's
projector.py) to tensorgan. No torch import: expected values from NumPy / first principles."""
import numpy as np
import pytest

import tensorgan as tg


def test_data_alias_keeps_writing_after_tracked_update():
    # projector.py's noise_normalize_: ``noise.data.add_(-mean).div_(std)`` with mean / std
    # computed from the (grad-requiring) noise: the .data alias becomes tracked by the first
    # write, and the second must still land in the noise's memory
    rng = np.random.RandomState(0)
    a = rng.randn(2, 1, 4, 4).astype(np.float32)
    noise = tg.tensor(a.copy(), requires_grad=True)
    mean, std = noise.mean(), noise.std()
    noise.data.add_(-mean).div_(std)
    want = (a - a.mean()) / a.std(ddof=1)
    np.testing.assert_allclose(noise.detach().numpy(), want, rtol=1e-5, atol=1e-6)
    assert abs(float(noise.detach().std()) - 1.0) < 1e-5


def test_from_numpy_tracked_in_place_chain_writes_the_array():
    arr = np.arange(4.0)
    m = tg.tensor(1.0, dtype=tg.float64, requires_grad=True)
    x = tg.from_numpy(arr)
    x.add_(m)
    x.mul_(2)
    x.div_(m)
    np.testing.assert_array_equal(arr, [2.0, 4.0, 6.0, 8.0])
    np.testing.assert_array_equal(x.detach().numpy(), arr)
    x.sum().backward()
    # x = 2 (a + m) / m  -> d/dm sum = sum(-2 a / m^2) = -2 * 6 = -12 at m = 1
    assert float(m.grad) == pytest.approx(-12.0)
