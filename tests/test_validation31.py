"""Bad-argument validation of nn.functional and nn modules beside torch 2.13 (session 31, h31t):
what torch refuses is refused with a typed error naming the argument, never silent garbage."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import DTypeNotImplementedError, ShapeError


# --- normalization parameters: torch's exact shapes, not only the element count ---------------
@pytest.mark.parametrize("call", [
    lambda: F.layer_norm(tg.randn(2, 3, 3), (3, 3), tg.ones(9)),
    lambda: F.layer_norm(tg.randn(2, 3, 3), (3, 3), None, tg.zeros(9)),
    lambda: F.layer_norm(tg.randn(3, 3), (3, 3), tg.ones(9)),            # the composite path
    lambda: F.rms_norm(tg.randn(2, 3, 3), (3, 3), tg.ones(9)),
    lambda: F.group_norm(tg.randn(2, 6, 4), 3, tg.ones(2, 3)),
    lambda: F.group_norm(tg.randn(2, 6, 4), 3, None, tg.ones(6, 1)),
    lambda: F.instance_norm(tg.randn(2, 3, 4), weight=tg.ones(1, 3)),
])
def test_norm_weight_and_bias_of_equal_size_but_another_shape_are_refused(call):
    with pytest.raises(ShapeError, match=r"must be a tensor of \d+ elements of shape"):
        call()


def test_norm_parameters_of_the_right_shape_still_apply():
    x = tg.randn(2, 3, 3, dtype=tg.float64)
    w = tg.tensor(np.arange(9.0).reshape(3, 3))
    y = F.layer_norm(x, (3, 3), w, w)
    ref = F.layer_norm(x, (3, 3)).numpy() * w.numpy() + w.numpy()
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)
    assert F.group_norm(tg.randn(2, 6, 4), 3, tg.ones(6), tg.zeros(6)).shape == (2, 6, 4)
    assert F.rms_norm(tg.randn(2, 3), (3,), tg.ones(3)).shape == (2, 3)


def test_rms_norm_of_an_integer_tensor_is_torchs_not_implemented():
    with pytest.raises(DTypeNotImplementedError, match="rms_norm"):   # was NumPy's 'not inexact'
        F.rms_norm(tg.tensor([[1, 2, 3]]), (3,))
