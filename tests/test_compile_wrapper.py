"""tg.compile wraps a Module as torch.compile does (an OptimizedModule holding it as _orig_mod):
the same outputs and gradients, state_dict keys prefixed ``_orig_mod.``, attributes read through."""
import copy

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import CheckpointError
from tensorgan.torch_extras import OptimizedModule


def test_wrapped_module_computes_as_the_model_and_shares_its_parameters():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    compiled = tg.compile(model)
    assert isinstance(compiled, OptimizedModule) and isinstance(compiled, nn.Module)
    assert compiled._orig_mod is model
    x = tg.randn(5, 3)
    np.testing.assert_array_equal(compiled(x).numpy(), model(x).numpy())
    compiled(x).sum().backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    model(x).sum().backward()
    for g, p in zip(grads, model.parameters()):
        np.testing.assert_array_equal(g, p.grad.numpy())
    assert [id(p) for p in compiled.parameters()] == [id(p) for p in model.parameters()]


def test_state_dict_keys_carry_torchs_prefix_and_round_trip():
    model = nn.Linear(2, 3)
    compiled = tg.compile(model)
    sd = compiled.state_dict()
    assert list(sd) == ["_orig_mod.weight", "_orig_mod.bias"]
    fresh = tg.compile(nn.Linear(2, 3))
    fresh.load_state_dict(sd)
    np.testing.assert_array_equal(fresh._orig_mod.weight.detach().numpy(), model.weight.detach().numpy())
    plain = {k[len("_orig_mod."):]: v for k, v in sd.items()}     # the usual strip for an eager model
    nn.Linear(2, 3).load_state_dict(plain)
    with pytest.raises(CheckpointError, match="missing key.*'weight'.*unexpected key.*'_orig_mod.weight'"):
        nn.Linear(2, 3).load_state_dict(sd)                          # as torch: keys do not match


def test_mode_switches_copies_and_missing_attributes():
    model = nn.Dropout(0.5)
    compiled = tg.compile(model)
    compiled.eval()
    assert model.training is False and compiled.p == 0.5
    twin = copy.deepcopy(compiled)
    assert isinstance(twin, OptimizedModule) and twin._orig_mod is not model
    with pytest.raises(AttributeError, match="no_such"):
        compiled.no_such
    assert "OptimizedModule(" in repr(compiled) and "(_orig_mod): Dropout" in repr(compiled)


def test_functions_and_disabled_compiles_come_back_unchanged():
    def f(x):
        return x + 1
    assert tg.compile(f) is f
    net = nn.Linear(1, 1)
    assert tg.compile(net, disable=True) is net
