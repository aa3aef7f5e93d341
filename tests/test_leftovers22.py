"""Small torch mismatches left over by session 22's helpers (torch 2.13 is the spec)."""
import copy
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.optim as optim
from tensorgan.errors import AutogradError


# -- (1) an in-place view op (t_, squeeze_, ...) changes no values: nodes that saved the memory for
# its shape (a live view's select) or as an output stay valid; ops that read a view still refuse


def test_view_in_place_keeps_live_view_backward():
    x = tg.ones(3, 3, requires_grad=True)
    y = x * 1
    s = y[0].sum()
    y.t_()
    s.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1, 1], [0, 0, 0], [0, 0, 0]])


def test_view_in_place_then_backward_with_live_view_and_detach():
    x = tg.arange(6.0).reshape(2, 3).requires_grad_()
    y = x * 2
    v, d = y[0], y.detach()          # alive across the t_ (v's and d's memory is y's)
    y.t_()
    assert y.shape == (3, 2) and v.shape == (3,) and d.shape == (2, 3)
    (y * tg.tensor([[1.0, 2.0]] * 3)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 2, 2], [4, 4, 4]])


def test_view_in_place_squeeze_keeps_select_backward():
    x = tg.ones(1, 4, requires_grad=True)
    y = x * 3
    s = (y[0] * tg.arange(4.0)).sum()      # mul saves the constant, not y[0]
    y.squeeze_()
    s.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 3, 6, 9]])


def test_view_in_place_still_refuses_an_op_that_read_the_view():
    x = tg.ones(3, 4, requires_grad=True)
    y = x * 1
    v = y[0]
    s = (v * v).sum()                       # mul read v: torch's version check refuses
    y.t_()
    with pytest.raises(AutogradError):
        s.backward()


# -- (2) the padding / pooling / dropout / activation / lazy norm hierarchies are torch's

def _bases(cls):
    return {c.__name__ for c in cls.__mro__}


def test_padding_hierarchy():
    from tensorgan.nn.modules import padding
    for d in (1, 2, 3):
        zero, const = getattr(nn, f"ZeroPad{d}d"), getattr(nn, f"ConstantPad{d}d")
        assert issubclass(zero, const) and issubclass(const, padding._ConstantPadNd)
        for fam in ("Reflection", "Replication", "Circular"):
            cls = getattr(nn, f"{fam}Pad{d}d")
            assert issubclass(cls, getattr(padding, f"_{fam}PadNd"))
            assert not issubclass(cls, padding._ConstantPadNd)
            others = [getattr(nn, f"{fam}Pad{e}d") for e in (1, 2, 3) if e != d]
            assert not any(issubclass(cls, o) for o in others)
        assert not any(issubclass(zero, getattr(nn, f"ZeroPad{e}d")) for e in (1, 2, 3) if e != d)
    z = nn.ZeroPad2d(1)
    assert isinstance(z, nn.ConstantPad2d) and z.value == 0.0
    assert repr(z) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ConstantPad1d(2, 0.5)) == "ConstantPad1d(padding=(2, 2), value=0.5)"
    out = nn.ZeroPad2d((1, 0, 0, 1))(tg.ones(1, 1, 1, 1))
    np.testing.assert_array_equal(out.numpy(), [[[[0, 1], [0, 0]]]])


def test_pooling_hierarchy():
    from tensorgan.nn.modules import pooling
    for kind, base in (("MaxPool", "_MaxPoolNd"), ("AvgPool", "_AvgPoolNd"),
                       ("AdaptiveAvgPool", "_AdaptiveAvgPoolNd"),
                       ("AdaptiveMaxPool", "_AdaptiveMaxPoolNd"), ("LPPool", "_LPPoolNd"),
                       ("MaxUnpool", "_MaxUnpoolNd")):
        layers = [getattr(nn, f"{kind}{d}d") for d in (1, 2, 3)]
        for a in layers:
            assert issubclass(a, getattr(pooling, base)), (a, base)
            assert [b for b in layers if issubclass(a, b)] == [a]
    assert not issubclass(nn.FractionalMaxPool3d, nn.FractionalMaxPool2d)
    assert isinstance(nn.MaxPool1d(2), pooling._MaxPoolNd)
    assert not isinstance(nn.MaxPool1d(2), nn.MaxPool2d)
    assert not isinstance(nn.AdaptiveAvgPool3d(1), nn.AdaptiveAvgPool2d)


def test_dropout_activation_lazy_norm_hierarchy():
    from tensorgan.nn.modules import batchnorm, dropout, instancenorm
    for n in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
              "FeatureAlphaDropout"):
        assert issubclass(getattr(nn, n), dropout._DropoutNd)
        assert n == "Dropout" or not issubclass(getattr(nn, n), nn.Dropout)
    assert not issubclass(nn.CELU, nn.ELU) and not issubclass(nn.Hardshrink, nn.Softshrink)
    assert not issubclass(nn.LogSoftmax, nn.Softmax)
    r6 = nn.ReLU6()
    assert isinstance(r6, nn.Hardtanh) and (r6.min_val, r6.max_val) == (0.0, 6.0)
    assert repr(r6) == "ReLU6()" and repr(nn.ReLU6(True)) == "ReLU6(inplace=True)"
    np.testing.assert_array_equal(r6(tg.tensor([-1.0, 3.0, 7.0])).numpy(), [0, 3, 6])
    for d in (1, 2, 3):
        lazy_b, lazy_i = getattr(nn, f"LazyBatchNorm{d}d"), getattr(nn, f"LazyInstanceNorm{d}d")
        assert issubclass(lazy_b, batchnorm._BatchNorm)
        assert issubclass(lazy_b, batchnorm._LazyNormBase)
        assert not issubclass(lazy_b, getattr(nn, f"BatchNorm{d}d"))
        assert issubclass(lazy_i, instancenorm._InstanceNorm)
        assert not issubclass(lazy_i, getattr(nn, f"InstanceNorm{d}d"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = nn.LazyBatchNorm1d()
    with pytest.raises(Exception):
        m(tg.ones(2, 3, 4, 5))               # BatchNorm1d's ranks, kept by the lazy layer
    m(tg.ones(2, 3))
    assert type(m) is nn.BatchNorm1d and m.num_features == 3


# -- (3) copy.copy(module) shares the registries, as torch's shallow copy: every owner's
# attributes follow a write through any of them

def test_shallow_copy_parameter_assignment_seen_by_both():
    m = nn.Linear(2, 2)
    m2 = copy.copy(m)
    p = nn.Parameter(tg.zeros(2, 2))
    m2.weight = p
    assert m.weight is p and m2.weight is p
    assert next(iter(m.parameters())) is p
    m.bias = None
    assert m2.bias is None and list(m2.state_dict()) == ["weight"]
    del m2.weight
    assert not hasattr(m, "weight") and list(m.state_dict()) == []


def test_shallow_copy_sequential_and_buffers():
    s = nn.Sequential(nn.Linear(2, 2))
    s2 = copy.copy(s)
    s2.add_module("1", nn.ReLU())
    assert len(s) == 2 and isinstance(s[1], nn.ReLU)
    s2[0] = nn.Tanh()
    np.testing.assert_allclose(s(tg.ones(1, 2)).numpy(), np.tanh([[1.0, 1.0]]), rtol=1e-6)
    b = nn.BatchNorm1d(2)
    b2 = copy.copy(b)
    b2.running_mean = tg.ones(2)
    np.testing.assert_array_equal(b.running_mean.numpy(), [1, 1])
    b2.plain = 3                             # a plain attribute is the copy's own
    assert not hasattr(b, "plain")
    d = copy.deepcopy(b)                     # a deep copy shares nothing
    d.weight = nn.Parameter(tg.zeros(2))
    np.testing.assert_array_equal(b.weight.numpy(), [1, 1])


# -- (4) torch's warning when a scheduler steps before its optimizer has

def _order_warnings(run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [w for w in caught if "before `optimizer.step()`" in str(w.message)]


def test_scheduler_step_before_optimizer_step_warns_once():
    m = nn.Linear(2, 2)
    opt = optim.SGD(m.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, 1)
    caught = _order_warnings(lambda: [sched.step() for _ in range(3)])
    assert len(caught) == 1 and caught[0].category is UserWarning
    assert str(caught[0].message).startswith(
        "Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0")
    assert caught[0].filename == __file__          # points at the caller's line


def test_scheduler_after_optimizer_step_is_silent():
    m = nn.Linear(2, 2)
    opt = optim.Adam(m.parameters(), lr=0.1)
    sched = optim.lr_scheduler.ExponentialLR(opt, 0.9)

    def run():
        for _ in range(2):
            m(tg.ones(1, 2)).sum().backward()
            opt.step()
            sched.step()
    assert _order_warnings(run) == []
    lbfgs = optim.LBFGS(m.parameters())             # a subclass's own step() counts too
    sched = optim.lr_scheduler.StepLR(lbfgs, 1)

    def closure():
        lbfgs.zero_grad()
        loss = m(tg.ones(1, 2)).sum()
        loss.backward()
        return loss
    assert _order_warnings(lambda: (lbfgs.step(closure), sched.step())) == []


def test_optimizer_step_before_scheduler_is_made_still_warns():
    m = nn.Linear(2, 2)
    opt = optim.SGD(m.parameters(), lr=0.1)
    opt.step()                                      # torch counts steps from the scheduler on
    sched = optim.lr_scheduler.StepLR(opt, 1)
    assert len(_order_warnings(sched.step)) == 1


# -- (5) torch's implementation switches are in the defaults, param groups, repr and state_dict

_SWITCH_KEYS = {
    "SGD": {"foreach", "fused", "differentiable"},
    "Adam": {"foreach", "fused", "capturable", "differentiable", "decoupled_weight_decay"},
    "AdamW": {"foreach", "fused", "capturable", "differentiable", "decoupled_weight_decay"},
    "RMSprop": {"foreach", "capturable", "differentiable"},
    "Adagrad": {"foreach", "fused", "differentiable"},
    "Adadelta": {"foreach", "capturable", "differentiable"},
    "Adamax": {"foreach", "capturable", "differentiable"},
    "NAdam": {"foreach", "capturable", "differentiable", "decoupled_weight_decay"},
    "RAdam": {"foreach", "capturable", "differentiable", "decoupled_weight_decay"},
    "ASGD": {"foreach", "capturable", "differentiable"},
    "Rprop": {"foreach", "capturable", "differentiable"},
}


@pytest.mark.parametrize("name", sorted(_SWITCH_KEYS))
def test_optimizer_switches_in_groups_defaults_repr_state_dict(name):
    opt = getattr(optim, name)([nn.Parameter(tg.ones(2))], lr=0.01)
    keys = _SWITCH_KEYS[name]
    assert keys <= set(opt.defaults) and keys <= set(opt.param_groups[0])
    assert keys <= set(opt.state_dict()["param_groups"][0])
    for k in keys:
        want = (name == "AdamW") if k == "decoupled_weight_decay" else (
            None if k in ("foreach", "fused") else False)
        assert opt.defaults[k] is want and opt.param_groups[0][k] is want
        assert f"\n    {k}: {want}\n" in repr(opt)


def test_optimizer_switch_values_kept_and_checked():
    p = nn.Parameter(tg.ones(2))
    opt = optim.SGD([p], lr=0.1, foreach=True)
    assert opt.param_groups[0]["foreach"] is True
    opt2 = optim.SGD([nn.Parameter(tg.ones(2))], lr=0.1)
    opt2.load_state_dict(opt.state_dict())
    assert opt2.param_groups[0]["foreach"] is True          # loaded, as torch's
    with pytest.raises(tg.errors.ConfigError, match="differentiable"):
        optim.Adam([{"params": [nn.Parameter(tg.ones(2))], "differentiable": True}])
    lbfgs = optim.LBFGS([nn.Parameter(tg.ones(2))])          # torch's LBFGS has none
    assert not set(_SWITCH_KEYS["SGD"]) & set(lbfgs.param_groups[0])


# -- (6) writes into unbind / split / chunk outputs autograd tracks are refused, as torch's

@pytest.mark.parametrize("make, op", [
    (lambda y: y.unbind(), "Unbind"), (lambda y: tg.unbind(y, 1), "Unbind"),
    (lambda y: y.split(2), "Split"), (lambda y: y.chunk(2), "Split"),
    (lambda y: tg.split(y, [1, 3]), "SplitWithSizes")])
def test_multi_view_outputs_refuse_in_place_writes(make, op):
    x = tg.ones(4, 4, requires_grad=True)
    y = x * 1
    a = make(y)[0]
    for write in (lambda: a.add_(1), lambda: a.copy_(tg.zeros(a.shape)),
                  lambda: a.__setitem__(0, 3.0), lambda: a[0:1].mul_(2)):
        with pytest.raises(AutogradError, match=f"output 0 of {op} is a view"):
            write()
    np.testing.assert_array_equal(y.numpy(), np.ones((4, 4)))   # nothing was written


def test_multi_view_outputs_writable_where_torch_allows():
    x = tg.ones(4, 2, requires_grad=True)
    y = x * 1
    with tg.no_grad():                   # made and written under no_grad
        y.unbind()[0].add_(1)
    z = tg.ones(4, 2)                    # no autograd involved
    z.split(2)[1].mul_(3)
    np.testing.assert_array_equal(z.numpy()[:, 0], [1, 1, 3, 3])
    w = x * 1
    w.tensor_split(2)[0].add_(1)         # tensor_split's outputs are plain slices in torch
    (w * w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [4, 4, 2, 2])
