"""nn.Module's torch 2.13 hook and state API: full backward (pre-)hooks, forward hooks' options,
state-dict / load-state-dict hooks, extra state, and the dotted-path helpers.

Expected gradients are written from the chain rule with NumPy (no torch)."""

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import CheckpointError, ConfigError, DTypeError, ShapeError, TensorganError


def f64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype="float64", requires_grad=requires_grad)


def arrays(grads):
    return [None if g is None else g.numpy().copy() for g in grads]


def linear64(w, b):
    layer = nn.Linear(w.shape[1], w.shape[0], dtype="float64")
    layer.load_state_dict({"weight": w, "bias": b})
    return layer


RNG = np.random.default_rng(0)
W, B = RNG.standard_normal((4, 3)), RNG.standard_normal(4)
X, G = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 4))


# -- full backward hooks -------------------------------------------------------------------------
def test_full_backward_hook_sees_the_chain_rules_grad_input_and_grad_output():
    lin, act = linear64(W, B), nn.Tanh()
    seen = {}
    lin.register_full_backward_pre_hook(lambda m, go: seen.setdefault("pre", arrays(go)) and None)
    lin.register_full_backward_hook(lambda m, gi, go: seen.update(lin=(arrays(gi), arrays(go))))
    act.register_full_backward_hook(lambda m, gi, go: seen.update(act=(arrays(gi), arrays(go))))
    x = f64(X, requires_grad=True)
    (act(lin(x)) * f64(G)).sum().backward()
    y = np.tanh(X @ W.T + B)
    g_lin_out = G * (1 - y ** 2)                  # d/d(pre-activation)
    assert np.allclose(seen["act"][1][0], G) and np.allclose(seen["act"][0][0], g_lin_out)
    assert np.allclose(seen["pre"][0], g_lin_out)
    grad_input, grad_output = seen["lin"]
    assert len(grad_input) == 1 and np.allclose(grad_input[0], g_lin_out @ W)
    assert np.allclose(grad_output[0], g_lin_out)
    assert np.allclose(x.grad.numpy(), g_lin_out @ W)
    assert np.allclose(lin.weight.grad.numpy(), g_lin_out.T @ X)


class ThreeOut(nn.Module):
    def forward(self, a, b, k=None, s=2.0):
        return a * b * s, a + 1, 3


def test_grad_input_and_grad_output_entries_follow_torch():
    # outputs: None for a non-Tensor and for one the loss does not use; inputs: one entry per
    # positional argument, zeros for a Tensor without a gradient, None for a non-Tensor
    m, seen = ThreeOut(), []
    m.register_full_backward_pre_hook(lambda mod, go: seen.append(("pre", arrays(go))))
    m.register_full_backward_hook(lambda mod, gi, go: seen.append(("full", arrays(gi), arrays(go))))
    a, b = f64([1.0, 2.0], requires_grad=True), f64([3.0, 4.0])
    x, y, z = m(a, b)
    x.sum().backward()
    assert z == 3 and seen[0][0] == "pre" and seen[0][1][1:] == [None, None]
    _, gi, go = seen[1]
    assert np.allclose(gi[0], [6.0, 8.0]) and np.allclose(gi[1], [0.0, 0.0]) and len(gi) == 2
    assert np.allclose(go[0], [1.0, 1.0]) and go[1:] == [None, None]
    seen.clear()
    x, y, z = m(a, b, 5.0)
    (x.sum() + 2 * y.sum()).backward()
    _, gi, go = seen[1]
    assert np.allclose(gi[0], [8.0, 10.0]) and gi[2] is None and np.allclose(go[1], [2.0, 2.0])


def test_hooks_replace_gradients_and_run_in_order_with_prepend():
    lin, order = linear64(W, B), []
    lin.register_full_backward_hook(lambda m, gi, go: order.append("h1") or (gi[0] * 3,))
    lin.register_full_backward_hook(lambda m, gi, go: order.append("h0"), prepend=True)
    lin.register_full_backward_pre_hook(lambda m, go: order.append("p1") or (go[0] * 2,))
    lin.register_full_backward_pre_hook(lambda m, go: order.append("p0"), True)
    x = f64(X, requires_grad=True)
    (lin(x) * f64(G)).sum().backward()
    assert order == ["p0", "p1", "h0", "h1"]
    assert np.allclose(lin.weight.grad.numpy(), 2 * G.T @ X)   # the pre-hook doubled grad_output
    assert np.allclose(x.grad.numpy(), 3 * (2 * G) @ W)       # the hook tripled grad_input


def test_handles_remove_hooks_and_modules_called_twice_get_one_call_each():
    lin, calls = linear64(W, B), []
    handle = lin.register_full_backward_hook(lambda m, gi, go: calls.append(arrays(go)[0]))
    x = f64(X, requires_grad=True)
    (lin(x).sum() + 2 * lin(x).sum()).backward()
    assert sorted(float(c[0, 0]) for c in calls) == [1.0, 2.0]
    handle.remove()
    handle.remove()                        # twice is harmless
    calls.clear()
    lin(x).sum().backward()
    assert calls == [] and not lin._has_hooks()


def test_no_input_requiring_grad_fires_with_the_output_gradients():
    lin, seen = linear64(W, B), []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, arrays(go))))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        (lin(f64(X)) * f64(G)).sum().backward()
    assert seen[0][0] == (None,) and np.allclose(seen[0][1][0], G)
    lin.register_full_backward_hook(lambda m, gi, go: (f64(np.ones((5, 3))),))
    with pytest.warns(UserWarning), pytest.raises(TensorganError, match="no input requires"):
        lin(f64(X)).sum().backward()


def test_bad_hook_results_are_refused_naming_the_count_or_shape():
    lin = linear64(W, B)
    handle = lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(TensorganError, match="invalid number of grad_input, got 2, but expected 1"):
        lin(f64(X, requires_grad=True)).sum().backward()
    handle.remove()
    handle = lin.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
    with pytest.raises(TensorganError, match="invalid number of grad_output"):
        lin(f64(X, requires_grad=True)).sum().backward()
    handle.remove()
    lin.register_full_backward_hook(lambda m, gi, go: (f64(np.ones(3)),))
    with pytest.raises(ShapeError, match=r"shape \(3,\).*\(5, 3\)"):
        lin(f64(X, requires_grad=True)).sum().backward()
    with pytest.raises(tg.InputTypeError, match="function"):
        lin.register_full_backward_hook(3)


def test_backward_hooks_leave_gradients_unchanged_and_double_backward_works():
    lin, act = linear64(W, B), nn.Tanh()
    for m in (lin, act):
        m.register_full_backward_hook(lambda mod, gi, go: None)
        m.register_full_backward_pre_hook(lambda mod, go: None)
    assert tg.gradcheck(lambda x: act(lin(x)), [f64(X, requires_grad=True)])
    assert tg.gradgradcheck(lambda x: act(lin(x)), [f64(X, requires_grad=True)])


def test_identity_module_and_output_written_in_place():
    ident, seen = nn.Identity(), []
    ident.register_full_backward_hook(lambda m, gi, go: seen.append(arrays(gi)[0]))
    ident.register_full_backward_pre_hook(lambda m, go: (go[0] * 10,))
    a = f64([1.0, 2.0], requires_grad=True)
    (ident(a) * 2).sum().backward()
    assert np.allclose(seen[0], [20.0, 20.0]) and np.allclose(a.grad.numpy(), [20.0, 20.0])
    lin = linear64(W, B)
    lin.register_full_backward_hook(lambda m, gi, go: None)
    out = lin(f64(X, requires_grad=True))
    with pytest.raises(TensorganError, match="backward hooks"):   # torch refuses it too
        out.mul_(2.0)


def test_no_grad_and_non_tensor_outputs():
    lin, seen = linear64(W, B), []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append(1))
    with tg.no_grad():
        out = lin(f64(X, requires_grad=True))
    assert not out.requires_grad and seen == []

    class Dict(nn.Module):
        def forward(self, a):
            return {"x": a * 2}
    d = Dict()
    d.register_full_backward_hook(lambda m, gi, go: seen.append(1))
    with pytest.warns(UserWarning, match="module output should be a Tensor"):
        out = d(f64([1.0], requires_grad=True))
    out["x"].sum().backward()
    assert seen == []


def test_register_backward_hook_is_a_full_hook_with_a_future_warning():
    lin, seen = linear64(W, B), []
    with pytest.warns(FutureWarning, match="register_full_backward_hook"):
        lin.register_backward_hook(lambda m, gi, go: seen.append(arrays(gi)[0]))
    (lin(f64(X, requires_grad=True)) * f64(G)).sum().backward()
    assert np.allclose(seen[0], G @ W)


# -- forward hooks' options ----------------------------------------------------------------------
def test_forward_hooks_prepend_with_kwargs_and_always_call():
    class Scale(nn.Module):
        def forward(self, x, scale=1.0):
            if scale < 0:
                raise ConfigError("negative scale")
            return x * scale
    m, order = Scale(), []
    m.register_forward_pre_hook(lambda mod, args: order.append("pre1"))
    m.register_forward_pre_hook(lambda mod, args: order.append("pre0"), prepend=True)
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"scale": kwargs["scale"] * 10}),
                                with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: order.append(kwargs["scale"]) or out + 1,
                            with_kwargs=True)
    assert m(f64([1.0]), scale=2.0).tolist() == [21.0]
    assert order == ["pre0", "pre1", 20.0]
    m.register_forward_hook(lambda mod, args, out: order.append(("always", out)), always_call=True)
    order.clear()
    with pytest.raises(ConfigError, match="negative scale"):
        m(f64([1.0]), scale=-1.0)
    assert order == ["pre0", "pre1", ("always", None)]
    bad = m.register_forward_pre_hook(lambda mod, args, kwargs: args, with_kwargs=True)
    with pytest.raises(tg.InputTypeError, match=r"\(new_args, new_kwargs\)"):
        m(f64([1.0]), scale=2.0)
    bad.remove()
    assert not any(bad.id in d for d in (m._forward_pre_hooks, m._forward_pre_hooks_with_kwargs))


# -- state-dict hooks and extra state ------------------------------------------------------------
def test_state_dict_hooks_order_arguments_and_renaming():
    m, log = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1)), []
    m[0].register_state_dict_pre_hook(lambda mod, prefix, keep_vars: log.append(("pre0", prefix)))
    m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: log.append(("pre", prefix)))
    m[1].register_state_dict_post_hook(lambda mod, sd, prefix, meta: log.append(("post1", prefix, meta)))

    def rename(mod, sd, prefix, meta):
        sd[prefix + "renamed"] = sd.pop(prefix + "1.bias")
    m.register_state_dict_post_hook(rename)
    sd = m.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "renamed"]
    assert log == [("pre", ""), ("pre0", "0."), ("post1", "1.", {"version": 1})]
    assert m.state_dict(keep_vars=True)["0.weight"] is m[0].weight
    m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: sd)
    with pytest.raises(tg.InputTypeError, match="must return None"):
        m.state_dict()


def test_load_state_dict_hooks_rename_and_edit_incompatible_keys():
    m, log = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1)), []
    sd = {k: v + 1 for k, v in m.state_dict().items()}
    sd["renamed"] = sd.pop("1.bias")

    def undo(mod, state, prefix, meta, strict, missing, unexpected, errors):
        log.append(("pre", prefix, strict))
        if "renamed" in state:
            state["1.bias"] = state.pop("renamed")
    m.register_load_state_dict_pre_hook(undo)
    m[0].register_load_state_dict_post_hook(lambda mod, keys: log.append(("post0", keys)))
    result = m.load_state_dict(sd)
    assert "renamed" in sd                                 # the hooks edit a copy
    assert repr(result) == "<All keys matched successfully>" and result == ([], [])
    assert np.allclose(m[1].bias.numpy(), sd["renamed"])
    assert log[0] == ("pre", "", True) and log[1][0] == "post0"
    sd["extra"] = sd.pop("0.weight")
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["0.weight"] and result.unexpected_keys == ["extra"]
    assert repr(result) == "_IncompatibleKeys(missing_keys=['0.weight'], unexpected_keys=['extra'])"
    with pytest.raises(CheckpointError, match="1 missing key.*'0.weight'.*1 unexpected key.*'extra'"):
        m.load_state_dict(sd)
    m.register_load_state_dict_post_hook(lambda mod, keys: (keys.missing_keys.clear(),
                                                            keys.unexpected_keys.clear()) and None)
    assert m.load_state_dict(sd) == ([], [])               # the post-hook cleared them
    m.register_load_state_dict_pre_hook(
        lambda mod, state, prefix, *rest: rest[-1].append("refused by a hook"))
    with pytest.raises(CheckpointError, match="refused by a hook"):
        m.load_state_dict(sd)


class Counter(nn.Linear):
    def __init__(self):
        super().__init__(2, 2)
        self.steps, self.tag = 0, "a"

    def get_extra_state(self):
        return {"steps": self.steps, "tag": self.tag, "hist": np.arange(3.0)}

    def set_extra_state(self, state):
        self.steps, self.tag, self.hist = state["steps"], state["tag"], np.asarray(state["hist"])


def test_extra_state_round_trips_through_tg_save(tmp_path):
    src = nn.Sequential(Counter(), nn.ReLU())
    src[0].steps, src[0].tag = 7, "b"
    sd = src.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "0._extra_state"]
    tg.save(sd, tmp_path / "m.npz")
    dst = nn.Sequential(Counter(), nn.ReLU())
    assert dst.load_state_dict(tg.load(tmp_path / "m.npz")) == ([], [])
    assert (dst[0].steps, dst[0].tag) == (7, "b") and np.allclose(dst[0].hist, [0.0, 1.0, 2.0])
    assert np.allclose(dst[0].weight.numpy(), src[0].weight.numpy())
    del sd["0._extra_state"]
    assert dst.load_state_dict(sd, strict=False).missing_keys == ["0._extra_state"]
    plain = nn.Sequential(nn.Linear(2, 2), nn.ReLU())   # no set_extra_state: unexpected
    assert plain.load_state_dict(src.state_dict(), strict=False).unexpected_keys == ["0._extra_state"]


def test_extra_state_the_checkpoint_format_cannot_store_is_refused(tmp_path):
    class Opaque(nn.Module):
        def get_extra_state(self):
            return object()
    with pytest.raises(CheckpointError, match="_extra_state.*unsupported type object"):
        tg.save(Opaque().state_dict(), tmp_path / "x.npz")
    with pytest.raises(TensorganError, match="only called for modules that override it"):
        nn.Linear(1, 1).get_extra_state()


def test_weight_norm_parametrization_loads_the_hook_forms_keys():
    from tensorgan.nn.utils import parametrizations, weight_norm
    tg.manual_seed(0)
    old = weight_norm(nn.Linear(3, 2, dtype="float64"))
    sd = old.state_dict()
    assert sorted(sd) == ["bias", "weight_g", "weight_v"]
    new = parametrizations.weight_norm(nn.Linear(3, 2, dtype="float64"))
    assert new.load_state_dict(sd) == ([], [])
    assert np.allclose(new.weight.numpy(), old.weight.numpy())
    assert sorted(new.state_dict()) == ["bias", "parametrizations.weight.original0",
                                        "parametrizations.weight.original1"]


# -- dotted paths, registration, dtype / device ----------------------------------------------------
def test_get_parameter_get_buffer_set_submodule_register_module():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    assert net.get_parameter("0.weight") is net[0].weight
    assert net.get_buffer("1.running_mean") is net[1].running_mean
    with pytest.raises(AttributeError, match="`running_mean` is not an nn.Parameter"):
        net.get_parameter("1.running_mean")
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        net.get_buffer("0.weight")
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        net.get_parameter("0.nope")
    net.set_submodule("0", nn.Linear(2, 3))
    assert net[0].out_features == 3
    net.set_submodule("extra", nn.ReLU())
    assert isinstance(net.extra, nn.ReLU)
    with pytest.raises(AttributeError, match="has no attribute `other`"):
        net.set_submodule("other", nn.ReLU(), strict=True)
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        net.set_submodule("0.weight", nn.ReLU())
    with pytest.raises(ConfigError, match="not a Module"):
        net.set_submodule("0", 3)
    with pytest.raises(ConfigError, match="target name"):
        net.set_submodule("", nn.ReLU())
    holder = nn.Module()
    holder.register_module("body", nn.Tanh())
    assert list(dict(holder.named_children())) == ["body"]


def test_to_empty_type_and_share_memory():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    weight = net[0].weight
    assert net.to_empty(device="cpu") is net and net[0].weight is weight
    assert weight.shape == (2, 2) and weight.dtype == tg.float32
    assert net.type("torch.DoubleTensor") is net and weight.dtype == tg.float64
    assert net[1].num_batches_tracked.dtype == np.int64      # integer buffers stay integers
    net.type(tg.float32)
    assert weight.dtype == tg.float32
    with pytest.raises(DTypeError, match="int64"):
        net.type("int64")
    assert net.share_memory() is net
