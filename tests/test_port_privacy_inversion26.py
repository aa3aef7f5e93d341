"""Session 26 ports: DP-GAN per-sample gradients (loop / tg.func / Opacus-style hooks), PATE-GAN,
e4e and ReStyle -- the behaviours where tensorgan had to change to agree with torch."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn


def t64(a):
    return tg.tensor(np.asarray(a, dtype=np.float64))


# --- backward order: torch's engine runs the latest-recorded ready node first ----------------
def test_backward_hooks_of_a_module_called_twice_fire_last_call_first():
    m = nn.Linear(3, 2).double()
    seen = []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append(go[0].detach().numpy().copy()))
    x = t64(np.random.RandomState(0).randn(5, 3))
    (m(x).sum() + (m(x) ** 2).sum()).backward()
    expected_second = 2 * m(x).detach().numpy()
    np.testing.assert_allclose(seen[0], expected_second)        # the (m(x) ** 2) call's gradient
    np.testing.assert_array_equal(seen[1], np.ones((5, 2)))


def test_opacus_style_lifo_hooks_give_per_sample_grads_of_a_shared_layer():
    """Opacus appends activations in forward hooks and pops them in backward hooks: right only
    when backward meets the calls in reverse (a siamese critic applies one Linear twice)."""
    cell = nn.Linear(3, 3).double()
    acts, grad_sample = [], []
    cell.register_forward_hook(lambda mod, inp, out: acts.append(inp[0].detach()))
    cell.register_full_backward_hook(lambda mod, gi, go: grad_sample.append(
        tg.einsum("ni,nj->nij", go[0], acts.pop())))

    def per_sample_losses(x):
        return (cell(x).tanh() ** 2).sum(1) + cell(x * 2).sin().sum(1)

    x = t64(np.random.RandomState(1).randn(4, 3))
    per_sample_losses(x).sum().backward()
    hooked = sum(grad_sample).numpy()
    for n in range(4):
        cell.zero_grad()
        per_sample_losses(x[n:n + 1]).sum().backward()
        np.testing.assert_allclose(hooked[n], cell.weight.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_tensor_hooks_fire_latest_recorded_first_whatever_the_argument_order():
    x = t64([0.5, 1.5]).requires_grad_()
    order = []
    b = x.sin()                  # recorded first
    a = x.exp()                  # recorded second: its node runs first (torch)
    a.register_hook(lambda g: order.append("a"))
    b.register_hook(lambda g: order.append("b"))
    x.register_hook(lambda g: order.append("x"))
    (a + b).sum().backward(retain_graph=True)
    (b + a).sum().backward()
    assert order == ["a", "b", "x"] * 2
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.exp([0.5, 1.5]) + np.cos([0.5, 1.5])))


# --- vmap's randomness flags (DP per-sample grads of a critic with dropout) -----------------
def _dropout_rows(randomness):
    x = tg.ones(4, 6, dtype=tg.float64)
    return tg.func.vmap(lambda r: nn.functional.dropout(r, 0.5, training=True),
                        randomness=randomness)(x)


def test_vmap_randomness_error_refuses_random_ops_as_torch():
    tg.manual_seed(0)
    expected = tg.rand(3)
    tg.manual_seed(0)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        _dropout_rows("error")
    with pytest.raises(tg.errors.VmapRandomnessError):
        tg.func.vmap(tg.randn_like)(tg.ones(2, 3))
    np.testing.assert_array_equal(tg.rand(3).numpy(), expected.numpy())   # the stream untouched
    np.testing.assert_array_equal(tg.func.vmap(lambda r: r * 2)(tg.ones(2, 3)).numpy(), 2)


def test_vmap_randomness_same_gives_every_element_one_calls_draws():
    tg.manual_seed(3)
    once = nn.functional.dropout(tg.ones(6, dtype=tg.float64), 0.5, training=True)
    after = tg.rand(2)
    tg.manual_seed(3)
    rows = _dropout_rows("same")
    np.testing.assert_array_equal(rows.numpy(), np.broadcast_to(once.numpy(), (4, 6)))
    np.testing.assert_array_equal(tg.rand(2).numpy(), after.numpy())
    tg.manual_seed(3)
    rows = _dropout_rows("different")
    assert not (rows == rows[0]).all()


def test_func_debug_unwrap_and_star_import_match_torch_func():
    x = tg.ones(2, 3)
    assert tg.func.debug_unwrap(x) is x
    np.testing.assert_array_equal(tg.func.vmap(lambda r: tg.func.debug_unwrap(r) * 2)(x).numpy(), 2)
    with pytest.raises(TypeError):
        tg.func.debug_unwrap([1.0])
    names = {}
    exec("from tensorgan.func import *", names)
    assert {"linearize", "functionalize", "replace_all_batch_norm_modules_", "debug_unwrap"} <= set(names)


# --- DP-SGD: per-sample gradients three ways agree (loop, func.vmap(grad), Opacus hooks) ---
def _dp_critic():
    tg.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                         nn.Conv2d(4, 4, 3, padding=1, groups=2), nn.Flatten(),
                         nn.Linear(36, 1)).double()


def _per_sample_by_hooks(critic, x, y):
    grads = {}

    def keep_input(mod, inp, out):
        mod.activations = inp[0].detach()

    def grad_sample(mod, grad_input, grad_output):
        a, g = mod.activations, grad_output[0]
        n = a.shape[0]
        if isinstance(mod, nn.Linear):
            grads[mod.weight], grads[mod.bias] = tg.einsum("n...i,n...j->nij", g, a), g.sum(1)
            return
        a = nn.functional.unfold(a, mod.kernel_size, padding=mod.padding, stride=mod.stride)
        g = g.reshape(n, -1, a.shape[-1])
        w = tg.einsum("noq,npq->nop", g, a).view(n, mod.groups, -1, mod.groups,
                                                 mod.in_channels // mod.groups, 9)
        grads[mod.weight] = tg.einsum("ngrg...->ngr...", w).reshape(n, *mod.weight.shape)
        grads[mod.bias] = g.sum(2)

    handles = [h for m in critic if isinstance(m, (nn.Linear, nn.Conv2d))
               for h in (m.register_forward_hook(keep_input), m.register_full_backward_hook(grad_sample))]
    nn.functional.binary_cross_entropy_with_logits(critic(x).squeeze(1), y, reduction="sum").backward()
    for h in handles:
        h.remove()
    return [grads[p] for p in critic.parameters()]


def test_dp_per_sample_gradients_loop_vmap_and_hooks_agree():
    critic = _dp_critic()
    rs = np.random.RandomState(2)
    x, y = t64(rs.randn(4, 1, 6, 6)), t64([1.0, 1.0, 0.0, 0.0])

    def loss(params, sample, target):
        out = tg.func.functional_call(critic, params, (sample.unsqueeze(0),))
        return nn.functional.binary_cross_entropy_with_logits(out.squeeze(1), target.unsqueeze(0))

    params = {k: v.detach() for k, v in critic.named_parameters()}
    by_vmap = tg.func.vmap(tg.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    by_hooks = _per_sample_by_hooks(critic, x, y)
    for n in range(4):
        critic.zero_grad()
        loss(dict(critic.named_parameters()), x[n], y[n]).backward()
        for (name, p), hooked in zip(critic.named_parameters(), by_hooks):
            np.testing.assert_allclose(by_vmap[name][n].numpy(), p.grad.numpy(), rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(hooked[n].numpy(), p.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_to_a_torch_device_tensorgan_lacks_is_a_device_error():
    """Opacus' make_functional moves a module copy to 'meta': the error names the device."""
    for call in (lambda: tg.ones(2).to("meta"), lambda: nn.Linear(2, 2).to("meta"),
                 lambda: tg.ones(2).to("mps:0")):
        with pytest.raises(tg.errors.DeviceError, match="no '(meta|mps)' device"):
            call()
    assert tg.ones(2).to("float64").dtype == tg.float64          # dtype names still read as dtypes
    assert nn.Linear(2, 2).to("float64").weight.dtype == tg.float64


def test_utils_pytree_as_opacus_uses_it():
    from collections import OrderedDict, defaultdict, namedtuple
    from tensorgan.utils import _pytree as pytree
    Pair = namedtuple("Pair", "x y")
    factory = defaultdict(list, k=[5])
    tree = {"a": [1, (2, 3)], "b": OrderedDict(x=4), "c": Pair(None, 6), "d": factory}
    leaves, spec = pytree.tree_flatten(tree)
    assert leaves == [1, 2, 3, 4, None, 6, 5] and spec.num_leaves == 7
    back = pytree.tree_unflatten([v if v is None else v * 10 for v in leaves], spec)
    assert back == {"a": [10, (20, 30)], "b": OrderedDict(x=40), "c": Pair(None, 60), "d": {"k": [50]}}
    assert type(back["b"]) is OrderedDict and type(back["c"]) is Pair and back["d"].default_factory is list
    assert pytree.tree_map(lambda a, b: a + b, (1, [2]), (10, [20])) == (11, [22])
    assert pytree.tree_map_only(int, lambda v: -v, (1, "x", [2.0, 3])) == (-1, "x", [2.0, -3])
    params = (nn.Parameter(tg.ones(2)), nn.Parameter(tg.zeros(3)))
    detached = tg.utils._pytree.tree_map(tg.Tensor.detach, params)
    assert isinstance(detached, tuple) and not detached[0].requires_grad
    with pytest.raises(ValueError):
        pytree.tree_unflatten([1], spec)
