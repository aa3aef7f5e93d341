"""Gaps found porting LMescheder/GAN_stability (gan_training/: Trainer, resnet / resnet2 / resnet4,
distributions, CheckpointIO, StepLR resumed with last_epoch=it) and rosinality/style-based-gan-pytorch
(model.py: EqualLR through ``del module._parameters[name]`` + a forward pre-hook, Blur's custom
Function, Fused{Up,Down}sample; train.py's r1 / wgan-gp losses and accumulate). Expected values come
from first principles / NumPy (no torch import)."""
import copy
import pickle
from math import sqrt

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F

# (these tests step schedulers without an optimizer step on purpose: torch's order warning)
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before:UserWarning")


# -- EqualLR: the weight leaves _parameters and is recomputed by a forward pre-hook ----------------
class _EqualLR:
    def __init__(self, name):
        self.name = name

    @staticmethod
    def apply(module, name):
        fn = _EqualLR(name)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_orig", nn.Parameter(weight.data))
        module.register_forward_pre_hook(fn)
        return fn

    def __call__(self, module, input):
        weight = getattr(module, self.name + "_orig")
        fan_in = weight.data.size(1) * weight.data[0][0].numel()
        setattr(module, self.name, weight * sqrt(2 / fan_in))


def test_del_from_parameters_dict_removes_the_attribute_as_torch():
    conv = nn.Conv2d(2, 3, 1)
    w = conv.weight.detach().numpy().copy()
    _EqualLR.apply(conv, "weight")
    assert not hasattr(conv, "weight")            # torch: the name is gone until the hook sets it
    with pytest.raises(AttributeError):
        conv.weight
    assert sorted(conv.state_dict()) == ["bias", "weight_orig"]
    assert not hasattr(copy.deepcopy(conv), "weight")
    x = np.arange(8.0, dtype=np.float32).reshape(1, 2, 2, 2)
    out = conv(tg.tensor(x)).detach().numpy()
    want = np.einsum("oi,bihw->bohw", w[:, :, 0, 0] * sqrt(2 / 2), x) \
        + conv.bias.detach().numpy()[None, :, None, None]
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
    assert not conv.weight.is_leaf and sorted(conv.state_dict()) == ["bias", "weight_orig"]


def test_writes_straight_into_modules_dict_change_the_forward():
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    x = tg.tensor([[-5.0, 3.0]])
    lin = seq[0]
    z = (x.numpy() @ lin.weight.detach().numpy().T + lin.bias.detach().numpy())
    seq._modules["1"] = nn.Tanh()                 # model surgery: swap an activation
    assert isinstance(seq[1], nn.Tanh)
    np.testing.assert_allclose(seq(x).detach().numpy(), np.tanh(z), rtol=1e-6)
    del seq._modules["0"]
    assert len(seq) == 1
    np.testing.assert_allclose(seq(x).detach().numpy(), np.tanh(x.numpy()), rtol=1e-6)
    net = nn.Module()
    net.fc = nn.Linear(2, 2)
    net._modules["fc"] = nn.Identity()
    assert isinstance(net.fc, nn.Identity) and list(net.state_dict()) == []
    del net._modules["fc"]
    assert not hasattr(net, "fc")


def test_writes_straight_into_buffers_dict_register_the_buffer():
    m = nn.Module()
    m._buffers["running"] = tg.zeros(2)
    assert list(m.state_dict()) == ["running"]
    m.running = tg.ones(2)                        # a later assignment updates the buffer
    np.testing.assert_array_equal(m.state_dict()["running"].numpy(), [1.0, 1.0])
    assert m._buffers["running"] is m.running
    del m._buffers["running"]
    assert not hasattr(m, "running") and list(m.state_dict()) == []
    m.running = tg.zeros(3)                       # now a plain attribute, as in torch
    assert list(m.state_dict()) == []


def test_registry_pop_popitem_clear_setdefault_update_mirror_attributes():
    lin = nn.Linear(2, 3)
    bias = lin._parameters.pop("bias")
    assert bias.shape == (3,) and not hasattr(lin, "bias")
    assert lin._parameters.pop("bias", None) is None
    with pytest.raises(KeyError):
        lin._parameters.pop("bias")
    lin._parameters.update(bias=bias)
    assert lin.bias is bias and list(lin.state_dict()) == ["weight", "bias"]
    assert lin._parameters.setdefault("extra", None) is None and lin.extra is None
    name, _ = lin._parameters.popitem()
    assert name == "extra" and not hasattr(lin, "extra")
    lin._parameters.clear()
    assert not hasattr(lin, "weight") and not hasattr(lin, "bias") and list(lin.parameters()) == []


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copies_mirror_onto_themselves_not_the_original(how):
    conv = nn.Conv2d(1, 1, 1)
    dup = copy.deepcopy(conv) if how == "deepcopy" else pickle.loads(pickle.dumps(conv))
    del dup._parameters["bias"]
    assert not hasattr(dup, "bias") and hasattr(conv, "bias")
    assert list(dup.state_dict()) == ["weight"] and list(conv.state_dict()) == ["weight", "bias"]
    dup._parameters["bias"] = nn.Parameter(tg.full((1,), 2.0))
    assert float(dup(tg.zeros(1, 1, 1, 1)).item()) == 2.0


# -- errors typed as torch's -----------------------------------------------------------------------
@pytest.mark.parametrize("bad", [[3], [-1]])
def test_embedding_index_out_of_range_is_an_index_error(bad):
    emb = nn.Embedding(3, 2)                      # GAN_stability clamps labels to nlabels-1 for this
    with pytest.raises(IndexError, match=r"whole numbers in \[0, 3\)"):
        emb(tg.tensor(bad))
    with pytest.raises(tg.InputTypeError):        # still the InputTypeError it always was
        F.embedding(bad, emb.weight)
    with pytest.raises(IndexError):
        F.embedding(bad, emb.weight, max_norm=1.0)


def test_embedding_fractional_index_is_not_an_index_error():
    emb = nn.Embedding(3, 2)
    with pytest.raises(tg.InputTypeError) as info:
        emb([1.5])
    assert not isinstance(info.value, IndexError)


def test_scheduler_resume_without_initial_lr_is_a_key_error():
    opt = tg.optim.SGD([nn.Parameter(tg.zeros(1))], lr=1.0)
    with pytest.raises(KeyError, match="initial_lr") as info:
        tg.optim.lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)
    assert isinstance(info.value, tg.ConfigError)
    assert str(info.value).startswith("StepLR: resuming at last_epoch=3")


def test_step_lr_resumed_from_a_loaded_optimizer_continues_the_schedule():
    # GAN_stability: build_lr_scheduler(opt, last_epoch=it) after CheckpointIO.load, step() first
    p = nn.Parameter(tg.zeros(1))
    opt = tg.optim.Adam([p], lr=1.0, betas=(0.0, 0.99))
    sched = tg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5, last_epoch=-1)
    lrs = []
    for _ in range(3):
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    state = opt.state_dict()
    opt2 = tg.optim.Adam([nn.Parameter(tg.zeros(1))], lr=9.0)
    opt2.load_state_dict(state)
    sched2 = tg.optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5, last_epoch=2)
    for _ in range(3):
        sched2.step()
        lrs.append(opt2.param_groups[0]["lr"])
    # last_epoch 1..6 -> 1 * 0.5 ** (last_epoch // 2); resuming at 2 goes on from epoch 3
    assert lrs == [1.0, 0.5, 0.5] + [0.25, 0.25, 0.125]
