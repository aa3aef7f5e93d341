"""Review of session 31's merges (h31v kernel glue, h31t validation, h31z scans) beside torch:
the regressions and gaps found, each checked without torch (NumPy, invariants)."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import DTypeNotImplementedError, ShapeError


def _planes(dtype):
    return tg.tensor(np.arange(32).reshape(1, 2, 4, 4).astype(dtype))


def test_unfold_of_bool_is_computed_as_torch():
    # torch's im2col takes bool (h31t's float-only check refused it); the blocks are the values
    x = np.arange(32).reshape(1, 2, 4, 4) > 10
    got = F.unfold(tg.tensor(x), 2, padding=1, stride=2)
    want = F.unfold(tg.tensor(x.astype(np.float64)), 2, padding=1, stride=2).numpy() != 0
    assert got.dtype == tg.bool and np.array_equal(got.numpy(), want)


def test_unfold_and_fold_refuse_integer_tensors():
    with pytest.raises(DTypeNotImplementedError, match="unfold.*int64"):
        F.unfold(_planes(np.int64), 2)
    with pytest.raises(DTypeNotImplementedError, match="fold.*int32"):
        F.fold(tg.tensor(np.arange(32, dtype=np.int32).reshape(1, 8, 4)), (3, 3), 2)


def test_fold_of_bool_and_float_still_computed():
    cols = np.arange(32).reshape(1, 8, 4)
    dense = F.fold(tg.tensor(cols.astype(np.float32)), (3, 3), 2).numpy()
    assert F.fold(tg.tensor(cols > 3), (3, 3), 2).shape == dense.shape


@pytest.mark.parametrize("loss", ["multi_margin_loss", "multilabel_margin_loss"])
def test_margin_losses_refuse_integer_input(loss):
    target = np.array([0, 2]) if loss == "multi_margin_loss" else np.array([[0, -1, 1], [2, -1, 0]])
    with pytest.raises(DTypeNotImplementedError, match=loss):
        getattr(F, loss)(tg.tensor(np.arange(6).reshape(2, 3)), tg.tensor(target))
    out = getattr(F, loss)(tg.tensor(np.arange(6.0).reshape(2, 3)), tg.tensor(target))
    assert out.dtype == tg.float64


@pytest.mark.parametrize("fn,shape", [(F.adaptive_max_pool2d, (2, 0, 4, 4)),
                                      (F.adaptive_max_pool2d, (0, 0, 4, 4)),
                                      (F.adaptive_max_pool1d, (2, 0, 4)),
                                      (F.adaptive_max_pool3d, (2, 0, 4, 4, 4)),
                                      (F.adaptive_avg_pool3d, (2, 0, 4, 4, 4))])
def test_adaptive_pools_refuse_zero_channels_of_a_batch(fn, shape):
    with pytest.raises(ShapeError, match="non-zero size.*dimension 1"):
        fn(tg.zeros(*shape), 2)


@pytest.mark.parametrize("fn,shape", [(F.adaptive_max_pool2d, (0, 4, 4)),
                                      (F.adaptive_max_pool1d, (0, 4)),
                                      (F.adaptive_max_pool3d, (0, 4, 4, 4)),
                                      (F.adaptive_avg_pool2d, (2, 0, 4, 4)),
                                      (F.adaptive_avg_pool1d, (2, 0, 4)),
                                      (F.adaptive_max_pool2d, (0, 3, 4, 4))])
def test_adaptive_pools_keep_empty_results_torch_computes(fn, shape):
    # an unbatched input's C, the 1-D / 2-D average's C and the batch may be 0, as torch's
    y = fn(tg.zeros(*shape), 2)
    assert y.numel() == 0
