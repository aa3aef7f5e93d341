"""Gaps found porting tabular / sequence GANs (CTGAN, TVAE, TimeGAN, C-RNN-GAN, SeqGAN) to
tensorgan and running them beside torch."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F


@pytest.mark.parametrize("reduction, scale", [("sum", 1.0), ("mean", 0.25)])
@pytest.mark.parametrize("create_graph", [False, True])
def test_bce_target_gradient_is_unclamped_minus_logit(reduction, scale, create_graph):
    # d/dt of -(t log p + (1 - t) log(1 - p)) is log(1 - p) - log(p) = -logit(p): torch's target
    # gradient uses it unclamped (+inf at p = 0, -inf at p = 1), although the loss itself clamps
    # each log at -100; tensorgan gave the clamped difference (+-100 / count)
    p_np = np.array([0.0, 1.0, 0.3, 0.8])
    p = tg.tensor(p_np, dtype=tg.float64, requires_grad=True)
    t = tg.tensor([0.0, 1.0, 1.0, 0.2], dtype=tg.float64, requires_grad=True)
    loss = F.binary_cross_entropy(p, t, reduction=reduction)
    assert loss.item() == pytest.approx(scale * -(np.log(0.3) + 0.2 * np.log(0.8) + 0.8 * np.log(0.2)))
    (gt,) = tg.autograd.grad(loss, (t,), create_graph=create_graph)
    got = gt.detach().numpy()
    assert got[0] == np.inf and got[1] == -np.inf
    with np.errstate(divide="ignore"):
        want = (np.log1p(-p_np) - np.log(p_np)) * scale
    np.testing.assert_allclose(got[2:], want[2:], rtol=1e-12)


def test_bce_target_gradient_with_weight():
    p = tg.tensor([0.25, 0.6], dtype=tg.float64)
    t = tg.tensor([0.5, 0.1], dtype=tg.float64, requires_grad=True)
    w = tg.tensor([2.0, 3.0], dtype=tg.float64)
    F.binary_cross_entropy(p, t, weight=w, reduction="sum").backward()
    np.testing.assert_allclose(t.grad.numpy(), [2 * np.log(0.75 / 0.25), 3 * np.log(0.4 / 0.6)],
                               rtol=1e-12)
