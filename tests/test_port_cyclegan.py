"""Gaps found porting junyanz/pytorch-CycleGAN-and-pix2pix (models/networks.py, cycle_gan_model.py,
pix2pix_model.py, util/image_pool.py) and junyanz/BicycleGAN's networks to tensorgan: each test is
one thing those programs do that tensorgan got wrong or refused."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import InputTypeError


# -- InstanceNorm2d(momentum=None): torch's _NormBase accepts it --------------------------------
def test_instance_norm_momentum_none_never_updates_running_stats():
    # torch's instance norm passes momentum 0.0 when it is None: the running statistics stay at
    # their initial values (unlike batch norm's cumulative average), and it does not count batches.
    x = tg.tensor(np.random.RandomState(0).randn(2, 3, 4, 4).astype(np.float32) * 3 + 2)
    norm = nn.InstanceNorm2d(3, momentum=None, track_running_stats=True, affine=True)
    assert norm.momentum is None
    y = norm(x)
    np.testing.assert_array_equal(norm.running_mean.numpy(), np.zeros(3, np.float32))
    np.testing.assert_array_equal(norm.running_var.numpy(), np.ones(3, np.float32))
    assert int(norm.num_batches_tracked) == 0
    # the training output is still normalized with each instance's statistics
    a = y.detach().numpy()
    np.testing.assert_allclose(a.mean(axis=(2, 3)), 0.0, atol=1e-5)
    assert "momentum=None" in repr(norm)
    # and the plain module (no running statistics) builds too, as torch's
    assert nn.InstanceNorm2d(3, momentum=None)(x).shape == (2, 3, 4, 4)


def test_instance_norm_momentum_must_be_a_number():
    with pytest.raises(InputTypeError, match="momentum"):
        nn.InstanceNorm2d(3, momentum="0.1")
