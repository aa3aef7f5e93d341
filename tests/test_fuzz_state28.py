"""State dicts and checkpoints, from differential fuzzing against torch (session 28):
``load_state_dict(assign=True)``, ``state_dict(keep_vars=True)``'s integer counters,
spectral_norm's state-dict version metadata and its upgrade of pre-version-1 state dicts."""

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import StateDictMismatchError


def _bn_model():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    model[0].bias.requires_grad_(False)
    return model


def test_load_state_dict_assign_takes_the_checkpoint_tensors():
    model = _bn_model()
    state = {k: (v.double() if v.is_floating_point() else v).clone() for k, v in model.state_dict().items()}
    state["1.num_batches_tracked"] = tg.tensor(7)
    weight = state["0.weight"]
    result = model.load_state_dict(state, assign=True)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert isinstance(model[0].weight, nn.Parameter) and model[0].weight.dtype == tg.float64
    assert model[0].weight.requires_grad and not model[0].bias.requires_grad   # the module's flags
    assert model[1].running_mean.dtype == tg.float64
    assert int(model[1].num_batches_tracked) == 7
    weight.add_(1)                              # memory shared with the checkpoint's tensor
    np.testing.assert_array_equal(model[0].weight.numpy(), weight.numpy())
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    model(tg.ones(4, 3, dtype=tg.float64)).sum().backward()
    assert model[0].weight.grad is not None and model[0].bias.grad is None


def test_load_state_dict_assign_numpy_values_and_zero_dim_rule():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.s = nn.Parameter(tg.tensor(1.0))
    model = Scale()
    model.load_state_dict({"s": np.array([2.5])}, assign=True)     # 1-dim into 0-dim, as copying
    assert isinstance(model.s, nn.Parameter) and model.s.shape == () and float(model.s) == 2.5


def test_load_state_dict_assign_wrong_shape_changes_nothing():
    model = nn.Linear(3, 2)
    before = model.weight
    state = {"weight": tg.zeros(2, 4), "bias": tg.zeros(2)}
    with pytest.raises(StateDictMismatchError, match="weight"):
        model.load_state_dict(state, assign=True)
    assert model.weight is before


def test_keep_vars_int_counter_answers_requires_grad():
    state = nn.BatchNorm1d(2).state_dict(keep_vars=True)
    counter = state["num_batches_tracked"]
    assert counter.requires_grad is False and counter.grad is None
    assert [k for k, v in state.items() if v.requires_grad] == ["weight", "bias"]
