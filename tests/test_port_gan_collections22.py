"""Gaps found porting znxlwm/pytorch-generative-model-collections and lucidrains/lightweight-gan
(session 22). Expected values come from first principles (no torch import)."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn


# -- lightweight-gan: nn.ModuleList([block, sle, attn]) where sle / attn may be None -------------
def test_module_list_keeps_none_slots_like_torch():
    lin = nn.Linear(2, 3)
    layer = nn.ModuleList([lin, None, None])          # Generator's [up, sle, attn] with no SLE / attn
    assert len(layer) == 3 and list(layer) == [lin, None, None]
    up, sle, attn = layer
    assert up is lin and sle is None and attn is None
    assert list(layer.state_dict()) == ["0.weight", "0.bias"]
    assert [n for n, _ in layer.named_modules()] == ["", "0"]
    assert len(list(layer.parameters())) == 2
    layer.append(None).append(nn.ReLU())
    assert len(layer) == 5 and layer[3] is None and isinstance(layer[4], nn.ReLU)
    layer.insert(0, None)
    assert len(layer) == 6 and layer[0] is None and layer[1] is lin
    layer[1] = None
    assert layer[1] is None and len(list(layer.parameters())) == 0
    del layer[0]
    assert len(layer) == 5 and layer[0] is None
    layer.train(False)
    layer.zero_grad()
    assert all(not m.training for m in layer.modules())
    with pytest.raises(tg.errors.InputTypeError):
        nn.ModuleList([lin, 3])                         # anything else is still refused


def test_module_list_with_none_state_dict_round_trip():
    a = nn.ModuleList([nn.Linear(2, 2), None, nn.BatchNorm2d(2)])
    b = nn.ModuleList([nn.Linear(2, 2), None, nn.BatchNorm2d(2)])
    with tg.no_grad():
        a[0].weight.fill_(0.5)
    b.load_state_dict(a.state_dict())
    assert np.allclose(b[0].weight.numpy(), 0.5)
    assert sorted(a.state_dict()) == sorted(["0.weight", "0.bias", "2.weight", "2.bias",
                                             "2.running_mean", "2.running_var", "2.num_batches_tracked"])


def test_add_module_none_registers_an_empty_slot_and_refuses_plain_attributes():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = 3
    m = M()
    m.add_module("attn", None)
    assert "attn" in m._modules and m.attn is None
    m.attn = nn.ReLU()                                # the slot takes a module later
    assert isinstance(m._modules["attn"], nn.ReLU)
    m.attn = None
    assert m._modules["attn"] is None and "(attn): None" in repr(m)
    with pytest.raises(KeyError, match="'scale' already exists"):
        m.add_module("scale", nn.ReLU())              # torch's: a plain attribute is not replaced
    with pytest.raises(KeyError, match="'scale' already exists"):
        m.add_module("scale", None)
    assert m.scale == 3


def test_repr_lists_every_slot_shared_and_empty():
    lin = nn.Linear(1, 1)
    text = repr(nn.Sequential(lin, lin))              # one module under two names: printed twice
    assert "(0): Linear" in text and "(1): Linear" in text
    text = repr(nn.ModuleList([lin, None]))
    assert "(0): Linear(in_features=1, out_features=1, bias=True)" in text and "(1): None" in text


def test_module_list_repr_groups_repeated_entries_like_torch():
    ml = nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.ReLU(), nn.Linear(1, 2), None, None])
    assert repr(ml) == ("ModuleList(\n"
                        "  (0-2): 3 x ReLU()\n"
                        "  (3): Linear(in_features=1, out_features=2, bias=True)\n"
                        "  (4-5): 2 x None\n"
                        ")")
    assert repr(nn.ModuleList()) == "ModuleList()"
    nested = repr(nn.ModuleList([nn.Sequential(nn.ReLU()), nn.Sequential(nn.ReLU())]))
    assert nested == "ModuleList(\n  (0-1): 2 x Sequential(\n    (0): ReLU()\n  )\n)"
