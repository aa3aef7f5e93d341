"""Own small fixes of session 21: binary_cross_entropy_with_logits weights of another float dtype
(promoted to the input's dtype as torch's, was a DTypeError); eval names an object .npy."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F


@pytest.mark.parametrize("x_dtype,w_dtype", [(tg.float64, tg.float32), (tg.float32, tg.float64)])
@pytest.mark.parametrize("which", ["weight", "pos_weight"])
def test_bce_with_logits_weights_take_the_inputs_dtype(x_dtype, w_dtype, which):
    x = tg.tensor([[0.5, -1.0, 2.0]], dtype=x_dtype, requires_grad=True)
    y = tg.tensor([[1.0, 0.0, 1.0]], dtype=x_dtype)
    w = tg.tensor([2.0, 1.0, 0.5], dtype=w_dtype)
    loss = F.binary_cross_entropy_with_logits(x, y, **{which: w})
    same = F.binary_cross_entropy_with_logits(x, y, **{which: w.to(x_dtype)})
    assert loss.dtype == x_dtype
    np.testing.assert_allclose(loss.item(), same.item(), rtol=1e-6)
    loss.backward()
    assert x.grad.dtype == x_dtype and np.isfinite(x.grad.numpy()).all()


def test_eval_names_an_object_npy_as_needing_pickle(tmp_path):
    from tensorgan.errors import DataError
    from tensorgan.evaluate_cli import load_samples
    path = tmp_path / "objects.npy"
    np.save(path, np.array([None] * 1000, dtype=object))
    with pytest.raises(DataError, match="Python objects.*pickle"):
        load_samples(str(path))
