"""Gaps found running pytorch/examples' mnist, mnist_rnn, regression, mnist_forward_forward and
siamese_network on tensorgan beside torch (the ports themselves are not kept here)."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import AutogradError, ShapeError, InputTypeError


def test_device_selection_probes_of_the_examples():
    # mnist/main.py: `use_mps = not args.no_mps and torch.backends.mps.is_available()`
    assert tg.backends.mps.is_available() is False and tg.backends.mps.is_built() is False
    # mnist_forward_forward: `torch.xpu.is_available()`
    assert tg.xpu.is_available() is False and tg.xpu.device_count() == 0
    assert tg.backends.cuda.is_built() == tg.cuda.is_available()
    before = tg.backends.cudnn.benchmark
    try:
        tg.backends.cudnn.benchmark = True
        assert tg.backends.cudnn.benchmark is True
    finally:
        tg.backends.cudnn.benchmark = before
    import tensorgan.backends.mps as mps
    assert mps is tg.backends.mps


def test_dropout2d_on_2d_input_drops_single_elements_with_a_warning():
    # mnist_rnn/main.py applies nn.Dropout2d to the LSTM's (N, hidden) output
    drop = nn.Dropout2d(0.5)
    with pytest.warns(UserWarning, match="2-D input to dropout2d"):
        y = drop(tg.ones(200, 64)).numpy()
    assert set(np.unique(y).tolist()) == {0.0, 2.0}
    # element-wise: rows are not all-or-nothing, columns neither
    row_all_same = (y == y[:, :1]).all(axis=1)
    col_all_same = (y == y[:1, :]).all(axis=0)
    assert not row_all_same.any() and not col_all_same.any()
    assert 0.4 < (y == 0).mean() < 0.6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert drop.eval()(tg.ones(3, 4)).numpy().sum() == 12.0   # eval: identity, no warning


def test_dropout2d_on_3d_input_is_batched_channel_dropout_as_torch():
    x = tg.ones(64, 8, 5)
    with pytest.warns(UserWarning, match=r"\(N, C, L\)"):
        y = F.dropout2d(x, 0.5, generator=tg.Generator(0)).numpy()
    assert np.array_equal(y, np.broadcast_to(y[:, :, :1], y.shape))   # whole (n, c) rows
    # the mask differs across the first dim (it is the batch, not the channels)
    assert not (y[:, :, 0] == y[:1, :, 0]).all()
    with pytest.raises(ShapeError, match="dropout2d"):
        F.dropout2d(tg.ones(5), 0.5)
    g = tg.tensor(np.random.default_rng(0).standard_normal((3, 4, 2)), dtype=tg.float64,
                  requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tg.gradcheck(lambda v: F.dropout2d(v, 0.5, True, generator=tg.Generator(5)), [g])


def test_dropout3d_other_ranks_take_dim0_as_channels():
    with pytest.warns(UserWarning, match="3-D input to dropout3d"):
        y = F.dropout3d(tg.ones(40, 6, 5), 0.5, generator=tg.Generator(1)).numpy()
    assert np.array_equal(y, np.broadcast_to(y[:, :1, :1], y.shape))
    assert set(np.unique(y[:, 0, 0]).tolist()) == {0.0, 2.0}
    y5 = F.dropout3d(tg.ones(6, 7, 2, 2, 2), 0.5, generator=tg.Generator(2)).numpy()
    assert np.array_equal(y5, np.broadcast_to(y5[:, :, :1, :1, :1], y5.shape))


def test_in_place_update_of_a_parameter_is_a_runtime_error():
    # regression/main.py's `param.add_(-0.1 * param.grad)` outside no_grad: torch raises
    # RuntimeError, so torch code's `except RuntimeError` must catch tensorgan's too
    fc = nn.Linear(4, 1)
    with pytest.raises(RuntimeError, match="add_ on a leaf tensor that requires grad") as info:
        fc.weight.add_(tg.ones(1, 4))
    assert isinstance(info.value, AutogradError) and isinstance(info.value, tg.TensorganError)
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.ones(2).sum().backward()
    fc.weight.data.add_(tg.ones(1, 4))        # the example's form that works


def test_linear_and_norm_layers_take_device_and_dtype_positionally():
    # mnist_forward_forward: `super().__init__(in_features, out_features, bias, device, dtype)`
    class Layer(nn.Linear):
        def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
            super().__init__(in_features, out_features, bias, device, dtype)

    assert Layer(3, 2).weight.dtype == np.float32
    lin = nn.Linear(3, 2, False, "cpu", tg.float64)
    assert lin.weight.dtype == np.float64 and lin.bias is None
    assert nn.Linear(3, 2, True, None, None, generator=tg.Generator(0)).weight.shape == (2, 3)
    for layer in (nn.BatchNorm1d(4, 1e-5, 0.1, True, True, None, tg.float64),
                  nn.BatchNorm2d(4, 1e-5, 0.1, True, True, None, tg.float64),
                  nn.InstanceNorm2d(4, 1e-5, 0.1, True, False, None, tg.float64),
                  nn.GroupNorm(2, 4, 1e-5, True, None, tg.float64),
                  nn.LayerNorm(4, 1e-5, True, True, None, tg.float64),
                  nn.RMSNorm(4, 1e-5, True, None, tg.float64)):
        assert layer.weight.dtype == np.float64, type(layer).__name__


def test_where_with_two_numbers_gives_their_result_type():
    # siamese_network: `pred = torch.where(outputs > 0.5, 1, 0)`
    cond = tg.tensor([0.7, 0.2, 0.9]) > 0.5
    ints = tg.where(cond, 1, 0)
    assert ints.dtype == np.int64 and ints.tolist() == [1, 0, 1]
    floats = tg.where(cond, 1.5, 0)
    assert floats.dtype == np.float32 and floats.tolist() == [1.5, 0.0, 1.5]
    bools = tg.where(cond, True, False)
    assert bools.dtype == tg.bool and bools.tolist() == [True, False, True]
    assert tg.where(cond, 1, 0).eq(tg.tensor([1.0, 1.0, 1.0])).tolist() == [True, False, True]
    with pytest.raises(InputTypeError, match="input or other"):
        tg.where(cond, "a", 0)


def test_bce_weight_rescales_each_element():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, (4, 3))
    t = (rng.uniform(size=(4, 3)) > 0.5).astype(np.float64)
    w = rng.uniform(0.5, 2.0, (3,))
    per = -(t * np.log(p) + (1 - t) * np.log(1 - p)) * w
    P, T, W = (tg.tensor(a, dtype=tg.float64) for a in (p, t, w))
    assert np.allclose(F.binary_cross_entropy(P, T, W).item(), per.mean(), rtol=1e-12)
    assert np.allclose(F.binary_cross_entropy(P, T, weight=W, reduction="sum").item(), per.sum())
    assert np.allclose(nn.BCELoss(W, reduction="none")(P, T).numpy(), per)
    assert np.allclose(F.binary_cross_entropy(P, T, "sum").item(), (per / w).sum())   # old form
    crit = nn.BCELoss(weight=W)
    assert "weight" in crit.state_dict()
    assert np.allclose(crit(P, T).item(), per.mean())
    assert "weight" not in nn.BCELoss().state_dict()
    Pg = tg.tensor(p, dtype=tg.float64, requires_grad=True)
    assert tg.gradcheck(lambda v: F.binary_cross_entropy(v, T, W), [Pg])
    with pytest.raises(ShapeError, match="weight shape"):
        F.binary_cross_entropy(P, T, tg.ones(4, dtype=tg.float64))
    with pytest.raises(InputTypeError, match="BCELoss: weight"):
        nn.BCELoss([1.0, 2.0])
