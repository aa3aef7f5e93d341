"""torch.nn.modules.module's global hooks (every module's call) and the private state-dict hook
forms libraries still use; order and arguments as torch 2.13's _call_impl."""

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import InputTypeError
from tensorgan.nn.modules.module import (register_module_backward_hook, register_module_forward_hook,
                                         register_module_forward_pre_hook,
                                         register_module_full_backward_hook,
                                         register_module_full_backward_pre_hook)


@pytest.fixture
def handles():
    held = []
    yield held
    for h in held:           # a global hook left behind would run in every later test
        h.remove()


def _model():
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 2), nn.ReLU())


def test_global_forward_hooks_run_first_for_every_module(handles):
    m, log = _model(), []
    lin = m[0]
    lin.register_forward_pre_hook(lambda mod, inp: log.append("own pre"))
    lin.register_forward_hook(lambda mod, inp, out: log.append("own"))
    handles.append(register_module_forward_pre_hook(lambda mod, inp: log.append(("gpre", type(mod).__name__))))
    handles.append(register_module_forward_hook(lambda mod, inp, out: log.append(("g", type(mod).__name__))))
    m(tg.randn(4, 3))
    assert log == [("gpre", "Sequential"), ("gpre", "Linear"), "own pre", ("g", "Linear"), "own",
                   ("gpre", "ReLU"), ("g", "ReLU"), ("g", "Sequential")]
    for h in handles:
        h.remove()
    log.clear()
    m(tg.randn(4, 3))
    assert log == ["own pre", "own"]


def test_global_forward_hook_replaces_output_and_takes_kwargs(handles):
    m = nn.Linear(3, 2)
    seen = []
    handles.append(register_module_forward_hook(lambda mod, a, k, out: seen.append(sorted(k)),
                                                with_kwargs=True))
    handles.append(register_module_forward_hook(lambda mod, a, out: out * 0))
    y = m(tg.randn(4, 3))
    assert seen == [[]] and np.all(y.numpy() == 0)


def test_global_always_call_hook_runs_when_forward_raises(handles):
    class Broken(nn.Module):
        def forward(self, x):
            raise ValueError("broken forward")
    seen = []
    handles.append(register_module_forward_hook(lambda mod, a, out: seen.append(out), always_call=True))
    with pytest.raises(ValueError, match="broken forward"):
        Broken()(tg.ones(1))
    assert seen == [None]


def test_global_backward_hooks_see_every_module(handles):
    m, log = _model(), []
    handles.append(register_module_full_backward_pre_hook(
        lambda mod, go: log.append(("bpre", type(mod).__name__, tuple(go[0].shape)))))
    handles.append(register_module_full_backward_hook(
        lambda mod, gi, go: log.append(("b", type(mod).__name__, tuple(gi[0].shape)))))
    x = tg.randn(4, 3, requires_grad=True)
    m(x).sum().backward()
    names = [e[:2] for e in log]
    # outermost module's output gradient first; each module's pre-hook before its hook
    assert names[0] == ("bpre", "Sequential") and names[-1] == ("b", "Sequential")
    assert names.index(("bpre", "ReLU")) < names.index(("b", "ReLU")) < names.index(("bpre", "Linear"))
    assert ("b", "Linear", (4, 3)) in log


def test_global_deprecated_backward_hook_warns(handles):
    with pytest.warns(FutureWarning, match="register_module_full_backward_hook"):
        handles.append(register_module_backward_hook(lambda mod, gi, go: None))
    with pytest.raises(InputTypeError, match="function"):
        register_module_forward_hook("not a hook")


def test_private_state_dict_hook_may_replace_the_dict():
    m = nn.Linear(2, 1)
    m._register_state_dict_hook(lambda mod, sd, prefix, meta: {k + "_renamed": v for k, v in sd.items()})
    assert sorted(m.state_dict()) == ["bias_renamed", "weight_renamed"]
    m2 = nn.Linear(2, 1)
    m2.register_state_dict_post_hook(lambda mod, sd, prefix, meta: {})
    with pytest.raises(InputTypeError, match="must return None"):
        m2.state_dict()


def test_private_load_state_dict_pre_hook_without_and_with_module():
    m = nn.Linear(2, 1)
    calls = []

    def rename(state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        calls.append(prefix)
        if prefix + "w" in state_dict:
            state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")
    m._register_load_state_dict_pre_hook(rename)
    m._register_load_state_dict_pre_hook(lambda mod, *rest: calls.append(type(mod).__name__),
                                         with_module=True)
    m.load_state_dict({"w": np.ones((1, 2), np.float32), "bias": np.zeros(1, np.float32)})
    assert calls == ["", "Linear"]
    np.testing.assert_array_equal(m.weight.detach().numpy(), [[1, 1]])
