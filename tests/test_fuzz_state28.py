"""State dicts and checkpoints, from differential fuzzing against torch (session 28):
``load_state_dict(assign=True)``, ``state_dict(keep_vars=True)``'s integer counters,
spectral_norm's state-dict version metadata and its upgrade of pre-version-1 state dicts."""

from collections import OrderedDict

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


def test_spectral_norm_writes_torchs_version_metadata():
    model = nn.Sequential(nn.utils.spectral_norm(nn.Linear(3, 2)), nn.Linear(2, 2))
    metadata = model.state_dict()._metadata
    assert metadata["0"] == {"version": 1, "spectral_norm": {"weight.version": 1}}
    assert metadata["1"] == {"version": 1}
    nn.utils.remove_spectral_norm(model[0])
    assert model.state_dict()._metadata["0"] == {"version": 1}
    assert not model[0]._load_state_dict_pre_hooks


def _legacy_spectral_state(seed: int = 0):
    """A state dict in torch's pre-version-1 layout: weight_orig, weight (normalized), weight_u
    and no weight_v or metadata."""
    rng = np.random.default_rng(seed)
    weight_orig = rng.standard_normal((4, 3, 2, 2))
    u = rng.standard_normal(4)
    u /= np.linalg.norm(u)
    sigma = 2.5
    return {"weight_orig": weight_orig, "weight": weight_orig / sigma, "weight_u": u,
            "bias": rng.standard_normal(4)}, sigma


def test_spectral_norm_upgrades_a_pre_version_1_state_dict():
    state, sigma = _legacy_spectral_state()
    conv = nn.utils.spectral_norm(nn.Conv2d(3, 4, 2)).double()
    assert conv.load_state_dict(state).missing_keys == []
    matrix = state["weight_orig"].reshape(4, -1)
    v = conv.weight_v.numpy()
    assert np.dot(state["weight_u"], matrix @ v) == pytest.approx(sigma, rel=1e-12)
    # v lies in the row space of W (the least-squares solution, as torch's pinverse gives)
    np.testing.assert_allclose(np.linalg.pinv(matrix) @ (matrix @ v), v, atol=1e-12)
    conv.eval()
    conv(tg.ones(1, 3, 2, 2, dtype=tg.float64))
    np.testing.assert_allclose(conv.weight.numpy(), state["weight"], rtol=1e-12)


def test_spectral_norm_current_layout_without_metadata_is_not_upgraded():
    conv = nn.utils.spectral_norm(nn.Linear(3, 2)).double()
    state = {k: v.numpy() * 0 + 0.5 for k, v in conv.state_dict().items()}
    state = OrderedDict(state)       # no _metadata: a hand-assembled current state dict
    assert conv.load_state_dict(state).unexpected_keys == []
    np.testing.assert_array_equal(conv.weight_v.numpy(), np.full(3, 0.5))


def test_save_keys_with_slashes_do_not_collide(tmp_path):
    obj = {"a/b": tg.ones(2), "a": {"b": tg.zeros(3)}, "a%2Fb": tg.full((1,), 5.0), "loss/G": 0.5}
    tg.save(obj, tmp_path / "c.npz")
    back = tg.load(tmp_path / "c.npz")
    assert list(back) == ["a/b", "a", "a%2Fb", "loss/G"] and back["loss/G"] == 0.5
    np.testing.assert_array_equal(back["a/b"].numpy(), np.ones(2))
    np.testing.assert_array_equal(back["a"]["b"].numpy(), np.zeros(3))
    np.testing.assert_array_equal(back["a%2Fb"].numpy(), np.full(1, 5.0))


@pytest.mark.parametrize("map_location", ["cpu", {"cuda:0": "cpu"}, lambda storage, loc: storage,
                                          lambda storage, loc: None])
def test_load_map_location_keeps_parameters(tmp_path, map_location):
    frozen = nn.Parameter(tg.ones(1), requires_grad=False)
    tg.save({"p": nn.Parameter(tg.ones(2)), "f": frozen, "t": tg.zeros(1)}, tmp_path / "c.npz")
    back = tg.load(tmp_path / "c.npz", map_location=map_location)
    assert isinstance(back["p"], nn.Parameter) and back["p"].requires_grad
    assert isinstance(back["f"], nn.Parameter) and not back["f"].requires_grad
    assert not isinstance(back["t"], nn.Parameter) and not back["t"].requires_grad


def _one_step(optimizer_class, **kwargs):
    p = nn.Parameter(tg.tensor([1.0, -2.0]))
    opt = optimizer_class([p], **kwargs)
    (p * p).sum().backward()
    opt.step()
    return opt.state_dict()["state"][0]


def test_optimizer_state_keys_in_torchs_order():
    assert list(_one_step(tg.optim.RMSprop, lr=0.1, momentum=0.5, centered=True)) == [
        "step", "square_avg", "momentum_buffer", "grad_avg"]
    assert list(_one_step(tg.optim.NAdam, lr=0.1)) == ["step", "mu_product", "exp_avg", "exp_avg_sq"]


def test_strict_load_error_lists_key_and_shape_problems_together():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 2))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["0.weight"] = tg.zeros(5, 5)
    del state["1.weight"]
    state["extra"] = tg.zeros(1)
    state["0.bias"] = tg.full((2,), 7.0)
    bias = model[0].bias.numpy().copy()
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    for needle in ("'1.weight'", "'extra'", "'0.weight' has shape (5, 5)"):
        assert needle in message
    np.testing.assert_array_equal(model[0].bias.numpy(), bias)      # nothing written
