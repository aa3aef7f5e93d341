"""Gaps found porting elvisyjlin/AttGAN-PyTorch (its generator / discriminators / trainG / trainD
with a float32 attribute target beside a float64 model), xinntao/ESRGAN's RRDBNet and
net_interp, and bryandlee/animegan2-pytorch's generator to tensorgan."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import DTypeError


def _bce_terms(x, t, pos_weight=1.0, weight=1.0):
    """torch's formula in float64: w [(1 - t) x + (1 + (p - 1) t) softplus(-x)]."""
    x = x.astype(np.float64); t = t.astype(np.float64)
    return weight * ((1 - t) * x + (1 + (pos_weight - 1) * t) * np.logaddexp(0, -x))


# -- AttGAN's trainD / trainG: F.binary_cross_entropy_with_logits(dc_real, att_a) with the
#    attributes `.type(torch.float)` beside a float64 model: torch's loss is float32 ----------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_result_has_the_targets_dtype(reduction):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3))
    t = rng.integers(0, 2, (4, 3)).astype(np.float32)
    xt = tg.tensor(x, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(xt, tg.tensor(t), reduction=reduction)
    assert loss.dtype == np.float32
    terms = _bce_terms(x, t)
    want = terms.mean() if reduction == "mean" else terms.sum() if reduction == "sum" else terms
    np.testing.assert_allclose(loss.detach().numpy(), want.astype(np.float32), rtol=2e-7)
    loss.sum().backward()
    assert xt.grad.dtype == np.float64         # the input's gradient keeps the input's dtype
    sig = 1 / (1 + np.exp(-x))
    scale = 1 / x.size if reduction == "mean" else 1.0
    np.testing.assert_allclose(xt.grad.numpy(), (sig - t) * scale, rtol=1e-13, atol=1e-16)


def test_bce_with_logits_float32_input_float64_target_gives_float64():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5,)).astype(np.float32)
    t = rng.random(5)
    xt = tg.tensor(x, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(xt, tg.tensor(t))
    assert loss.dtype == np.float64
    # torch's log-sigmoid runs in the input's float32 (its in-place formula): a float32 ulp off
    np.testing.assert_allclose(loss.item(), _bce_terms(x, t).mean(), rtol=1e-7)
    loss.backward()
    assert xt.grad.dtype == np.float32


@pytest.mark.parametrize("kw", [{"pos_weight": 2.0}, {"weight": 0.5}])
def test_weighted_bce_with_logits_result_has_the_targets_dtype(kw):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4))
    t = rng.random((3, 4)).astype(np.float32)
    w = {k: tg.tensor(np.full(4, v)) for k, v in kw.items()}       # float64 weights
    loss = F.binary_cross_entropy_with_logits(tg.tensor(x), tg.tensor(t), **w)
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.item(), _bce_terms(x, t, **kw).mean(), rtol=2e-7)
    module_loss = tg.nn.BCEWithLogitsLoss(**w)(tg.tensor(x), tg.tensor(t))
    assert module_loss.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.int64, np.bool_])
def test_bce_with_logits_refuses_an_integer_target_as_torch(dtype):
    x = tg.tensor(np.zeros((2, 3)))
    with pytest.raises(DTypeError, match="binary_cross_entropy_with_logits.*target"):
        F.binary_cross_entropy_with_logits(x, tg.tensor(np.ones((2, 3), dtype=dtype)))


def test_bce_with_logits_same_dtype_unchanged():
    x = tg.tensor(np.array([0.5, -1.0], dtype=np.float32))
    t = tg.tensor(np.array([1.0, 0.0], dtype=np.float32))
    loss = F.binary_cross_entropy_with_logits(x, t)
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.item(), _bce_terms(x.numpy(), t.numpy()).mean(), rtol=1e-6)
