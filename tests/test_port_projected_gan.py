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


def _fma_linspace32(start, end, steps):
    # torch's float32 recipe written out with exact rationals: step rounded to float32, then
    # start + step*i (first half) / end - step*(steps-1-i) (second half), rounded once
    from fractions import Fraction
    s, e = np.float32(start), np.float32(end)
    step = np.float32(e - s) / np.float32(steps - 1)
    out = []
    for i in range(steps):
        v = Fraction(float(s)) + Fraction(float(step)) * i if i < steps // 2 else \
            Fraction(float(e)) - Fraction(float(step)) * (steps - 1 - i)
        out.append(np.float32(float(v)))   # float(Fraction) rounds once to double, exact here
    return np.array(out, np.float32)


@pytest.mark.parametrize("start,end,steps", [(-1.0, 1.0, 7), (-1.0, 1.0, 4), (0.0, 1.0, 10), (-3.3, 7.1, 33),
                                             (2.0, -5.0, 256), (0.25, 0.75, 3)])
def test_linspace_float32_is_torchs_fused_two_sided_recipe(start, end, steps):
    # GANsformer's get_sinusoidal_encoding / get_linear_encoding grids: torch.linspace(-1, 1, size);
    # torch's middle value of linspace(-1, 1, 7) is -2.98e-08 (end - 3*step, fused), NumPy's is 0
    got = tg.linspace(start, end, steps).numpy()
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, _fma_linspace32(start, end, steps))


def test_linspace_middle_values_and_float64():
    assert tg.linspace(-1.0, 1.0, 7)[3].item() == np.float32(1.0) - np.float64(np.float32(1 / 3)) * 3
    assert tg.linspace(-1.0, 1.0, 7)[3].item() != 0.0
    from fractions import Fraction
    # float64: the same recipe with a float64 step, each value the correctly rounded s + step*i
    s, e, n = -0.7, 2.3, 11
    step = (e - s) / (n - 1)
    want = [float(Fraction(s) + Fraction(step) * i) if i < n // 2 else float(Fraction(e) - Fraction(step) * (n - 1 - i))
            for i in range(n)]
    np.testing.assert_array_equal(tg.linspace(s, e, n, dtype=tg.float64).numpy(), np.array(want))
    # ends exact, 0-dim tensor ends taken as numbers, integer dtypes as before
    v = tg.linspace(tg.tensor(-2.5), tg.tensor(4.0), 5).numpy()
    assert v[0] == -2.5 and v[-1] == 4.0
    np.testing.assert_array_equal(tg.linspace(0, 10, 5, dtype=tg.int64).numpy(), [0, 2, 5, 7, 10])
    assert tg.linspace(3.0, 9.0, 1).tolist() == [3.0] and tg.linspace(0.0, 1.0, 0).shape == (0,)
