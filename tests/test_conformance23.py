"""Small torch-conformance fixes (session 23): each test states torch 2.13's behaviour."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import CheckpointError, ConfigError, DTypeNotImplementedError


# -- bool ** tensor; integer tensor ** negative integer tensor ---------------------------------

def test_bool_base_to_an_integer_tensor_gives_integers():
    t = tg.tensor([2, 3])
    for base, want in ((True, [1, 1]), (False, [0, 0])):
        out = base ** t
        assert out.dtype == np.int64 and out.tolist() == want
    f = True ** tg.tensor([2.0, 3.0])
    assert f.dtype == np.float32 and f.tolist() == [1.0, 1.0]
    with pytest.raises(DTypeNotImplementedError, match="bool"):
        True ** tg.tensor([True, False])


def test_bool_tensor_to_a_bool_power_stays_bool():
    b = tg.tensor([True, False])
    assert (b ** True).dtype == np.bool_ and (b ** True).tolist() == [True, False]
    assert (b ** False).tolist() == [True, True] and (b ** False).dtype == np.bool_
    assert (b ** 1).dtype == np.int64
    with pytest.raises(DTypeNotImplementedError):
        b ** b


def test_integer_power_with_negative_tensor_exponents_truncates_as_torch():
    base = tg.tensor([2, 3, -1, -1, 1, 0])
    out = base ** tg.tensor([-1, -2, -1, -2, -5, -1])
    assert out.dtype == np.int64 and out.tolist() == [0, 0, -1, 1, 1, 0]
    assert (2 ** tg.tensor([-1, 3])).tolist() == [0, 8]
    assert (tg.tensor([2, 4]) ** tg.tensor(-1)).tolist() == [0, 0]
    with pytest.raises(tg.InputTypeError, match="negative integer powers"):   # a Python int: refused
        tg.tensor([2]) ** -1


# -- load_state_dict mismatches are RuntimeErrors ----------------------------------------------

@pytest.mark.parametrize("state", [
    lambda m: {"weight": m.weight.detach()},                                     # missing
    lambda m: {"weight": m.weight.detach(), "bias": m.bias.detach(), "x": m.bias.detach()},
    lambda m: {"weight": m.weight.detach(), "bias": tg.zeros(5)},                # wrong shape
])
def test_state_dict_mismatch_is_a_runtime_error_and_a_checkpoint_error(state):
    m = tg.nn.Linear(2, 3)
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(state(m))
    assert isinstance(info.value, CheckpointError) and isinstance(info.value, ValueError)
    assert "bias" in str(info.value) or "'x'" in str(info.value)


def test_functional_call_strict_mismatch_is_a_runtime_error():
    m = tg.nn.Linear(2, 3)
    with pytest.raises(RuntimeError, match="missing keys") as info:
        tg.func.functional_call(m, {"weight": m.weight}, (tg.ones(2),), strict=True)
    assert isinstance(info.value, ConfigError)


# -- Adam / AdamW keep Tensor betas --------------------------------------------------------------

def test_adam_keeps_tensor_betas_and_reads_them_each_step():
    b1, b2 = tg.tensor(0.5), tg.tensor([0.9])
    q1 = tg.nn.Parameter(tg.tensor([1.0, 2.0, 3.0]))
    q2 = tg.nn.Parameter(tg.tensor([1.0, 2.0, 3.0]))
    o1 = tg.optim.Adam([q1], betas=(b1, b2))
    o2 = tg.optim.Adam([q2], betas=(0.5, 0.9))
    kept = o1.param_groups[0]["betas"]
    assert isinstance(kept, tuple) and kept[0] is b1 and isinstance(kept[1], tg.Tensor)
    assert kept[1].shape == () and o1.state_dict()["param_groups"][0]["betas"][0] is b1
    for _ in range(3):
        for q, o in ((q1, o1), (q2, o2)):
            o.zero_grad()
            (q ** 2).sum().backward()
            o.step()
    np.testing.assert_array_equal(q1.detach().numpy(), q2.detach().numpy())
    b1.fill_(0.0)                                  # the group holds the Tensor itself
    assert o1.param_groups[0]["betas"][0].item() == 0.0


def test_adam_tensor_betas_rules():
    p = tg.nn.Parameter(tg.ones(2))
    with pytest.raises(ConfigError, match="both floats or both Tensors"):
        tg.optim.AdamW([p], betas=(tg.tensor(0.9), 0.99))
    with pytest.raises(ConfigError, match="capturable=False and foreach=True"):
        tg.optim.Adam([p], betas=(tg.tensor(0.9), tg.tensor(0.99)), foreach=True)
    with pytest.raises(ConfigError, match=r"betas\[1\]"):
        tg.optim.Adam([p], betas=(tg.tensor(0.9), tg.tensor(1.0)))


# -- clone keeps a permuted layout; resize_ reads storage order ----------------------------------

def test_clone_of_a_transposed_view_keeps_its_strides_as_torch():
    x = tg.arange(6.0).view(2, 3).t()
    c = x.clone()
    assert c.stride() == (1, 3) and not c.is_contiguous() and c.tolist() == x.tolist()
    assert x.clone(memory_format=tg.contiguous_format).stride() == (2, 1)
    a = tg.arange(24.0).view(2, 3, 4)
    assert a.transpose(0, 1)[:, :, ::2].clone().stride() == (2, 6, 1)   # compacted, order kept
    assert tg.arange(3.0).expand(2, 3).clone().stride() == (3, 1)
    assert tg.tensor([[1, 2, 3], [4, 5, 6]]).t().clone().stride() == (1, 3)


def test_resize_reads_storage_order():
    x = tg.arange(6.0).view(2, 3).t()
    assert x.clone().resize_(6).tolist() == [0, 1, 2, 3, 4, 5]
    assert x.clone().resize_(2, 2).tolist() == [[0, 1], [2, 3]]
    same = x.clone()
    assert same.resize_(3, 2).stride() == (1, 3)           # its own shape: nothing changes
    assert tg.arange(6.0).view(2, 3).t().resize_(6).tolist() == [0, 1, 2, 3, 4, 5]
    base = tg.arange(12.0).view(3, 4)
    assert base[:, 1:3].resize_(5).tolist() == [1, 2, 3, 4, 5]   # on into the base's memory
    base = tg.arange(6.0)
    v = base[:2]
    v.resize_(4)
    v[3] = 100.0                                             # still the base's memory
    assert v.tolist() == [0, 1, 2, 100] and base.tolist() == [0, 1, 2, 100, 4, 5]
    assert tg.arange(3.0).flip(0).resize_(4).tolist() == [2, 1, 0, 0]     # flip: torch's copy


# -- a second walk through a graph whose first backward freed it (nodes that saved nothing) -------

def test_hook_registered_between_two_backwards_runs_on_the_second():
    x = tg.ones(3, requires_grad=True)
    y = x + 1
    z = y.sum()
    z.backward()
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    z.backward()
    assert seen == [[1.0, 1.0, 1.0]] and x.grad.tolist() == [2.0, 2.0, 2.0]


def test_retain_grad_between_two_backwards_and_one_hook_call_for_two_consumers():
    x = tg.ones(3, requires_grad=True)
    y = x + 1
    z = y.sum() + y.mean()                  # two nodes used y: y's hook runs once, on the sum
    z.backward()
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    y.retain_grad()
    z.backward()
    assert len(seen) == 1 and np.allclose(seen[0], [4 / 3] * 3)
    np.testing.assert_allclose(y.grad.numpy(), [4 / 3] * 3, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [8 / 3] * 3, rtol=1e-6)


def test_hook_that_changes_the_gradient_on_the_second_walk():
    x = tg.ones(3, requires_grad=True)
    y = x + 1
    z = y.sum()
    z.backward()
    y.register_hook(lambda g: g * 10)
    z.backward()
    assert x.grad.tolist() == [11.0, 11.0, 11.0]


def test_autograd_grad_twice_without_retain_graph_through_nodes_that_saved_nothing():
    x = tg.ones(3, requires_grad=True)
    s = (a := x + 1).sum()
    assert tg.autograd.grad(s, a, retain_graph=True)[0].tolist() == [1.0, 1.0, 1.0]
    assert tg.autograd.grad(s, a)[0].tolist() == [1.0, 1.0, 1.0]
    assert tg.autograd.grad(s, a)[0].tolist() == [1.0, 1.0, 1.0]     # torch: still there
    ga, gx = tg.autograd.grad(s, [a, x])
    assert ga.tolist() == gx.tolist() == [1.0, 1.0, 1.0]
    s.backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_second_walk_with_the_tensor_gone_or_rewritten():
    import gc
    x = tg.ones(3, requires_grad=True)
    y = x + 1
    z = (y + 2).sum()
    z.backward()
    del y
    gc.collect()
    z.backward()                            # the stand-in carries on alone
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    x = tg.ones(3, requires_grad=True)
    y = x + 1
    z = y.view(3, 1).sum()
    z.backward()
    y.mul_(2)                               # a new node for y: the old one still gets the gradient
    z.backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


# -- F.interpolate(..., antialias=True) ---------------------------------------------------------

def _aa_halve_reference(row):
    """Antialiased bilinear halving of a 1-D row from first principles: output i is centred at
    input 2i + 1 (pixel-centre coordinates), the triangle filter is stretched to half-width 2,
    taps at distances 1.5, 0.5, 0.5, 1.5 weigh 1/4, 3/4, 3/4, 1/4 (normalized over the taps
    inside the image)."""
    n = len(row)
    out = []
    for i in range(n // 2):
        centre = 2 * i + 1
        taps = [j for j in range(centre - 2, centre + 2) if 0 <= j < n]
        w = np.array([max(0.0, 1 - abs(j + 0.5 - centre) / 2) for j in taps])
        out.append(float(np.dot(w / w.sum(), row[taps])))
    return np.array(out)


def test_antialiased_bilinear_halving_from_first_principles():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 8, 10))
    y = tg.nn.functional.interpolate(tg.tensor(a), scale_factor=0.5, mode="bilinear", antialias=True)
    assert y.shape == (2, 3, 4, 5) and y.dtype == np.float64
    rows = np.apply_along_axis(_aa_halve_reference, 3, a)           # the width first,
    want = np.apply_along_axis(_aa_halve_reference, 2, rows)        # then the height
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-12)
    f32 = tg.nn.functional.interpolate(tg.tensor(a.astype(np.float32)), size=(4, 5), mode="bilinear",
                                       antialias=True)
    assert f32.dtype == np.float32
    np.testing.assert_allclose(f32.numpy(), want, rtol=1e-5, atol=1e-5)


def test_antialiased_upsampling_is_plain_bilinear_and_same_size_is_a_copy():
    x = tg.tensor(np.random.default_rng(2).standard_normal((1, 2, 5, 6)))
    F = tg.nn.functional
    np.testing.assert_allclose(F.interpolate(x, scale_factor=2, mode="bilinear", antialias=True).numpy(),
                               F.interpolate(x, scale_factor=2, mode="bilinear").numpy(), rtol=1e-12)
    same = F.interpolate(x, size=(5, 6), mode="bicubic", antialias=True)
    assert same is not x and np.array_equal(same.numpy(), x.numpy())


def test_antialiased_resize_has_gradients():
    F = tg.nn.functional
    for mode in ("bilinear", "bicubic"):
        x = tg.tensor(np.random.default_rng(3).standard_normal((1, 2, 9, 7)), requires_grad=True)
        assert tg.autograd.gradcheck(lambda t: F.interpolate(t, size=(4, 3), mode=mode, antialias=True),
                                     (x,), eps=1e-6, atol=1e-8)
        assert tg.autograd.gradcheck(lambda t: F.interpolate(t, size=(4, 11), mode=mode, antialias=True,
                                                             align_corners=True), (x,), eps=1e-6, atol=1e-8)


def test_antialiased_uint8_is_fixed_point():
    F = tg.nn.functional
    row = tg.tensor(np.array([[[[10, 200, 30, 90]]]], dtype=np.uint8))
    out = F.interpolate(row, size=(1, 2), mode="bilinear", antialias=True)
    # weights 3/7, 3/7, 1/7 (1/7, 3/7, 3/7) at 16 bits: 28087, 9362; (sum + 2**15) >> 16
    assert out.dtype == np.uint8 and out.tolist() == [[[[94, 80]]]]
    a = np.random.default_rng(4).integers(0, 256, (1, 3, 23, 17)).astype(np.uint8)
    for mode in ("bilinear", "bicubic"):
        u = F.interpolate(tg.tensor(a), size=(7, 5), mode=mode, antialias=True).numpy().astype(int)
        f = F.interpolate(tg.tensor(a.astype(np.float64)), size=(7, 5), mode=mode, antialias=True).numpy()
        assert np.abs(u - np.clip(np.round(f), 0, 255)).max() <= 1


def test_antialias_refusals():
    F = tg.nn.functional
    with pytest.raises(ConfigError, match="antialias"):
        F.interpolate(tg.ones(1, 1, 4, 4), size=(2, 2), mode="nearest", antialias=True)
    with pytest.raises(DTypeNotImplementedError):
        F.interpolate(tg.ones(1, 1, 4, 4).half(), size=(2, 2), mode="bilinear", antialias=True)
