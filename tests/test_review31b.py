"""Session 31 review of h31a's autograd and h31e's robustness work, each as torch 2.13 does it
(expected values worked out by hand, checked beside torch in the review's port scripts)."""
import numpy as np
import pytest

import tensorgan as tg


def _leaves():
    return (tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True),
            tg.tensor([3.0, 4.0], dtype=tg.float64, requires_grad=True))


# --- a hook's in-place write does not reach a leaf's .grad that took the same array ----------
# z = x * 1 + w hands one gradient array to both sides of the add; w's .grad took it first.
# torch's AccumulateGrad clones a gradient someone else still holds, so a later hook on x * 1
# writing it in place leaves w.grad alone (tensorgan wrote through: w.grad tripled).

def _shared_with_a_leaf(hook_on_a=None, prehook_on_a=None):
    x, w = _leaves()
    a = x * 1.0
    z = a + w
    if hook_on_a is not None:
        a.register_hook(hook_on_a)
    if prehook_on_a is not None:
        a.grad_fn.register_prehook(prehook_on_a)
    return x, w, (z * z).sum()        # d/dz = 2z = [8, 12]


@pytest.mark.parametrize("hook", [lambda g: g.mul_(3.0), lambda g: g.clamp_(max=9.0)])
def test_hook_writing_in_place_leaves_a_leaf_grad_sharing_the_array_alone(hook):
    x, w, loss = _shared_with_a_leaf(hook_on_a=hook)
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [8.0, 12.0])
    np.testing.assert_array_equal(x.grad.numpy(), hook(tg.tensor([8.0, 12.0])).numpy())


def test_grad_fn_prehook_writing_in_place_leaves_a_leaf_grad_alone():
    x, w, loss = _shared_with_a_leaf(prehook_on_a=lambda gs: [gs[0].mul_(3.0), None][1])
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [8.0, 12.0])
    np.testing.assert_array_equal(x.grad.numpy(), [24.0, 36.0])


@pytest.mark.parametrize("create_graph", [False, True])
def test_hook_writing_in_place_leaves_backward_inputs_grad_alone(create_graph):
    x, w, loss = _shared_with_a_leaf(hook_on_a=lambda g: g.mul_(3.0))
    loss.backward(inputs=[x, w], create_graph=create_graph)
    np.testing.assert_array_equal(w.grad.detach().numpy(), [8.0, 12.0])
    np.testing.assert_array_equal(x.grad.detach().numpy(), [24.0, 36.0])


def test_hook_on_a_leaf_writing_in_place_leaves_the_other_leaf_grad_alone():
    x, w = _leaves()
    w.register_hook(lambda g: g.mul_(3.0))
    ((x + w) ** 2).sum().backward()           # x's AccumulateGrad runs first, takes the array
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 12.0])
    np.testing.assert_array_equal(w.grad.numpy(), [24.0, 36.0])


def test_root_hook_still_writes_into_the_callers_gradient():
    # (torch's engine holds the caller's grad_tensors as they are: the hook's write reaches them)
    x, _ = _leaves()
    y = x * 2.0
    seed = tg.ones(2, dtype=tg.float64)
    y.register_hook(lambda g: g.mul_(3.0))
    y.backward(seed)
    np.testing.assert_array_equal(seed.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])


# --- softshrink: a 2-byte float computed in float32, lambd within the dtype's range (torch's) ---

def test_softshrink_of_float16_subtracts_lambd_in_float32():
    import tensorgan.nn.functional as F
    x = np.array([0.10004, -0.10004, 0.0999, 2.0], dtype=np.float16)
    wide = x.astype(np.float32)
    lam = np.float32(0.1)
    expected = np.where(wide > lam, wide - lam, np.where(wide < -lam, wide + lam, 0)).astype(np.float16)
    t = tg.tensor(x, requires_grad=True)
    y = F.softshrink(t, 0.1)
    assert y.dtype == tg.float16
    np.testing.assert_array_equal(y.detach().numpy(), expected)   # 3.66e-05, not fp16's 6.1e-05
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [1.0, 1.0, 0.0, 1.0])


@pytest.mark.parametrize("lambd, dtype", [(float("inf"), tg.float64), (1e39, tg.float32),
                                          (70000.0, tg.float16)])
def test_softshrink_refuses_lambd_above_the_dtypes_largest(lambd, dtype):
    import tensorgan.nn.functional as F
    from tensorgan.errors import FunctionalOptionError
    with pytest.raises(FunctionalOptionError, match="lambd must be in") as info:
        F.softshrink(tg.ones(2, dtype=dtype), lambd)
    assert isinstance(info.value, RuntimeError)
    assert F.softshrink(tg.ones(2, dtype=tg.float64), 1e39).numpy().tolist() == [0.0, 0.0]


# --- interpolate refuses an empty channel dim, as torch (an empty batch is fine) ---------------

@pytest.mark.parametrize("mode, rank", [("nearest", 3), ("linear", 3), ("nearest", 4),
                                        ("nearest-exact", 4), ("bilinear", 4), ("bicubic", 4),
                                        ("trilinear", 5), ("area", 5)])
def test_interpolate_refuses_an_empty_channel_dim(mode, rank):
    import tensorgan.nn.functional as F
    from tensorgan.errors import ShapeError
    spatial = (3,) * (rank - 2)
    for shape in [(2, 0) + spatial, (0, 0) + spatial]:
        with pytest.raises(ShapeError, match="empty channel dim") as info:
            F.interpolate(tg.zeros(*shape), scale_factor=2.0, mode=mode)
        assert isinstance(info.value, RuntimeError)
    assert F.interpolate(tg.zeros((0, 2) + spatial), scale_factor=2.0, mode=mode).shape == \
        (0, 2) + (6,) * (rank - 2)


@pytest.mark.parametrize("rank", [3, 4])
def test_interpolate_area_of_an_empty_channel_dim_is_empty(rank):
    # (torch's adaptive_avg_pool1d / 2d take no channel; its 3d refuses, as above)
    import tensorgan.nn.functional as F
    for batch in (2, 0):
        out = F.interpolate(tg.zeros((batch, 0) + (3,) * (rank - 2)), size=(4,) * (rank - 2), mode="area")
        assert out.shape == (batch, 0) + (4,) * (rank - 2)
