"""Gaps found porting Projected GAN (autonomousvision/projected-gan) and GANsformer beside torch."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn


def test_float_functional_ops_are_the_plain_ops_with_grads():
    # pg_modules/blocks.py: FeatureFusionBlock's ``self.skip_add = nn.quantized.FloatFunctional()``
    ff = nn.quantized.FloatFunctional()
    assert isinstance(ff, nn.Module)
    assert isinstance(ff.activation_post_process, nn.Identity)
    a = tg.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    b = tg.tensor([[0.5, 1.0], [-4.0, 2.0]], requires_grad=True)
    np.testing.assert_allclose(ff.add(a, b).detach().numpy(), [[1.5, -1.0], [-1.0, 6.0]])
    np.testing.assert_allclose(ff.add_relu(a, b).detach().numpy(), [[1.5, 0.0], [0.0, 6.0]])
    np.testing.assert_allclose(ff.mul(a, b).detach().numpy(), [[0.5, -2.0], [-12.0, 8.0]])
    np.testing.assert_allclose(ff.add_scalar(a, 1.0).detach().numpy(), [[2.0, -1.0], [4.0, 5.0]])
    np.testing.assert_allclose(ff.mul_scalar(a, 2.0).detach().numpy(), [[2.0, -4.0], [6.0, 8.0]])
    np.testing.assert_allclose(ff.matmul(a, b).detach().numpy(), np.array([[1, -2], [3, 4.]]) @ np.array([[.5, 1], [-4, 2.]]))
    assert tuple(ff.cat([a, b], dim=1).shape) == (2, 4)
    ff.add_relu(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(b.grad.numpy(), [[1.0, 0.0], [0.0, 1.0]])
    fx = nn.quantized.FXFloatFunctional()
    np.testing.assert_allclose(fx.add(a, b).detach().numpy(), [[1.5, -1.0], [-1.0, 6.0]])


def test_float_functional_forward_and_quantized_layers_refused():
    ff = nn.quantized.FloatFunctional()
    from tensorgan.errors import FloatFunctionalForwardError
    with pytest.raises(FloatFunctionalForwardError, match="not intended to use the .forward.") as ei:
        ff(tg.ones(2))
    assert isinstance(ei.value, RuntimeError)
    with pytest.raises(AttributeError, match="no quantized tensors"):
        nn.quantized.Conv2d
    # a module holding one has no parameters and an empty state_dict, as torch's
    m = nn.Module()
    m.skip_add = nn.quantized.FloatFunctional()
    assert list(m.parameters()) == [] and dict(m.state_dict()) == {}
