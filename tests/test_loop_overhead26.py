"""The training loop around the kernels made cheaper (session 26): each fast path gives the
same bits as the plain NumPy expression it replaces."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


def _pair(dtype, shape=(3, 5, 4)):
    rng = np.random.default_rng(0)
    return rng.normal(size=shape).astype(dtype), rng.normal(size=shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("weight", [0.001, 0.3, 0.5, 0.999, 1.0])
def test_lerp_in_place_rounds_as_the_plain_expressions(dtype, weight):
    a, e = _pair(dtype)
    # Python-float weights take the array's dtype (NumPy 2's weak scalars), as in torch
    expected = a + (e - a) * weight if weight < 0.5 else e - (e - a) * (1 - weight)
    t = tg.from_numpy(a.copy())
    with tg.no_grad():
        t.lerp_(tg.from_numpy(e), weight)
    np.testing.assert_array_equal(t.numpy(), expected.astype(dtype))


def test_lerp_in_place_broadcasts_end_and_keeps_the_array():
    a, e = _pair(np.float32)
    t = tg.from_numpy(a.copy())
    before = t.array
    with tg.no_grad():
        t.lerp_(tg.from_numpy(e[0]), 0.25)
    assert t.array is before
    np.testing.assert_array_equal(t.numpy(), a + (e[0] - a) * np.float32(0.25))


def test_ema_averaged_model_matches_the_formula():
    model = tg.nn.Sequential(tg.nn.Linear(6, 5), tg.nn.BatchNorm1d(5))
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    ema.update_parameters(model)
    start = [p.numpy().copy() for p in ema.module.parameters()]
    with tg.no_grad():
        for p in model.parameters():
            p.add_(1.5)
    ema.update_parameters(model)
    for avg, old, cur in zip(ema.module.parameters(), start, model.parameters()):
        np.testing.assert_array_equal(avg.numpy(), old + (cur.numpy() - old) * np.float32(0.1))
