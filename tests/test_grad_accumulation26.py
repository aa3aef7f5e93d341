"""Leaf gradients accumulate into ``.grad`` in place, as torch's AccumulateGrad
(``variable.grad += new_grad`` when no graph is built): memory aliasing ``.grad`` sees later
backward passes, while the first gradient is copied whenever someone else holds it (a hook, a
retained non-leaf gradient, another leaf, a custom Function's saved tensor, the caller's seed)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn

F64 = tg.float64
pytestmark = pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")


def leaf(*values) -> tg.Tensor:
    return tg.tensor(list(values) or [1.0, 1.0], dtype=F64, requires_grad=True)


def twice(x: tg.Tensor, k: float = 2.0) -> None:
    (x * k).sum().backward()
    (x * k).sum().backward()


# -- in place: what aliases .grad sees later passes -------------------------------------------
def test_a_buffer_assigned_as_grad_is_written_in_place():
    x = leaf()
    buf = tg.zeros(4, dtype=F64)
    x.grad = buf[:2]
    twice(x)
    np.testing.assert_array_equal(buf.numpy(), [4.0, 4.0, 0.0, 0.0])


def test_numpy_and_data_of_grad_see_a_later_backward():
    x = leaf()
    (x * 2).sum().backward()
    grad, as_numpy, data = x.grad, x.grad.numpy(), x.grad.data
    (x * 2).sum().backward()
    assert x.grad is grad
    np.testing.assert_array_equal(as_numpy, [4.0, 4.0])
    np.testing.assert_array_equal(data.numpy(), [4.0, 4.0])


def test_a_user_assigned_grad_is_added_into():
    x = leaf()
    given = tg.full((2,), 10.0, dtype=F64)
    x.grad, alias = given, given.numpy()
    (x * 2).sum().backward()
    assert x.grad is given
    np.testing.assert_array_equal(alias, [12.0, 12.0])


def test_each_in_place_add_bumps_the_grads_version():
    x = leaf()
    (x * 2).sum().backward()
    before = x.grad._version
    (x * 2).sum().backward()
    assert x.grad._version == before + 1


def test_zero_grad_keeping_the_tensor_then_backward_writes_the_same_memory():
    p = nn.Parameter(tg.ones(2, dtype=F64))
    opt = tg.optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    grad, as_numpy = p.grad, p.grad.numpy()
    opt.zero_grad(set_to_none=False)
    (p * 3).sum().backward()
    assert p.grad is grad
    np.testing.assert_array_equal(as_numpy, [3.0, 3.0])


def test_float32_leaf_accumulates_a_float64_path_in_float32():
    x = tg.ones(2, dtype=tg.float32, requires_grad=True)
    (x.double() * 2).sum().backward()   # the gradient reaches x cast back to float32
    (x.double() * 2).sum().backward()
    assert x.grad.dtype == tg.float32
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])


def test_scalar_leaf_accumulates_in_place():
    x = tg.tensor(1.5, dtype=F64, requires_grad=True)
    (x * 2).backward()
    grad = x.grad.numpy()
    (x * 3).backward()
    assert float(grad) == 5.0 and float(x.grad) == 5.0


# -- out of place where it must be ------------------------------------------------------------
def test_an_expanded_grad_is_replaced_not_written():
    x = leaf(1.0, 1.0, 1.0)
    x.grad = tg.zeros(1, dtype=F64).expand(3)      # one element seen three times
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_create_graph_sums_out_of_place_and_keeps_the_graph():
    x = leaf()
    (x ** 2).sum().backward(create_graph=True)
    first = x.grad
    (x ** 2).sum().backward(create_graph=True)
    assert x.grad is not first and x.grad.grad_fn is not None
    np.testing.assert_array_equal(first.detach().numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.detach().numpy(), [4.0, 4.0])


def test_a_plain_backward_after_create_graph_adds_in_place_and_bumps_the_version():
    x = leaf()
    (x ** 2).sum().backward(create_graph=True)
    first, version = x.grad, x.grad._version
    (x ** 2).sum().backward()
    assert x.grad is first and first._version == version + 1
    np.testing.assert_array_equal(first.detach().numpy(), [4.0, 4.0])


def test_grad_set_to_none_between_passes_starts_a_new_tensor():
    x = leaf()
    (x * 2).sum().backward()
    first = x.grad
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(first.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_autograd_grad_leaves_grad_alone():
    x = leaf()
    (x * 2).sum().backward()
    got, = tg.autograd.grad((x * 3).sum(), x)
    np.testing.assert_array_equal(got.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


# -- the first gradient is copied when someone else holds it ----------------------------------
def test_a_retained_non_leaf_grad_is_not_changed_by_the_leafs_later_passes():
    x = leaf()
    y = x.clone()
    y.retain_grad()
    (y * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])


def test_a_view_with_retained_grad_sums_out_of_place():
    x = leaf()
    y = x.view(2)
    y.retain_grad()
    (y * 3).sum().backward(retain_graph=True)
    first = y.grad
    (y * 3).sum().backward()
    np.testing.assert_array_equal(first.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(y.grad.numpy(), [6.0, 6.0])
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])


@pytest.mark.parametrize("through", [lambda a: a + 0, lambda a: a.clone(), lambda a: a.view(2),
                                     lambda a: a * 1])
def test_two_leaves_given_one_gradient_do_not_share_it(through):
    x, w = leaf(), leaf()
    (through(x) + through(w)).mul(2).sum().backward()
    (x * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 7.0])
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])


def test_expand_gradient_passed_to_two_leaves():
    x, w = leaf(1.0), leaf(1.0, 1.0, 1.0)
    (x.expand(3) * w).sum().backward()
    (x.expand(3) * w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0])
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0, 2.0])


def test_a_gradient_a_leaf_hook_kept_is_not_written():
    x, seen = leaf(), []
    x.register_hook(seen.append)
    twice(x)
    assert [s.numpy().tolist() for s in seen] == [[2.0, 2.0], [2.0, 2.0]]
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])


def test_a_gradient_a_non_leaf_hook_kept_is_not_written():
    x, seen = leaf(), []
    z = x + 0            # its gradient goes on to x as it is
    z.register_hook(seen.append)
    (z * 2).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(seen[0].numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])


def test_a_tensor_a_hook_returned_is_not_written():
    x, keep = leaf(), tg.full((2,), 7.0, dtype=F64)
    handle = x.register_hook(lambda g: keep)
    (x * 2).sum().backward()
    handle.remove()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(keep.numpy(), [7.0, 7.0])
    np.testing.assert_array_equal(x.grad.numpy(), [9.0, 9.0])


def test_a_gradient_a_node_pre_hook_kept_is_not_written():
    x, seen = leaf(), []
    y = x + 0
    y.grad_fn.register_prehook(lambda grads: seen.append(grads[0]))
    (y * 2).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(seen[0].numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])


def test_a_gradient_a_node_post_hook_kept_is_not_written():
    x, seen = leaf(), []
    y = x.view(2)
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append(grad_inputs[0]))
    (y * 2).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(seen[0].numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])


def test_post_accumulate_grad_hook_sees_the_same_tensor_each_pass():
    x, seen = leaf(), []
    x.register_post_accumulate_grad_hook(lambda t: seen.append((t.grad, t.grad.numpy().copy())))
    twice(x)
    assert seen[0][0] is seen[1][0]
    assert [s[1].tolist() for s in seen] == [[2.0, 2.0], [4.0, 4.0]]


@pytest.mark.parametrize("pass_through", [False, True])
def test_the_callers_seed_is_not_written(pass_through):
    x, seed = leaf(), tg.full((2,), 3.0, dtype=F64)
    for _ in range(2):
        (x + 0 if pass_through else x).backward(seed)
    np.testing.assert_array_equal(seed.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])


def test_a_custom_functions_pass_through_gradient_and_retained_output():
    class Identity(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = leaf()
    y = Identity.apply(x)
    y.retain_grad()
    (y * 2).sum().backward()
    (x * 5).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 7.0])


def test_backward_inputs_accumulates_in_place_and_copies_a_shared_gradient():
    x, w = leaf(), leaf()
    (x + w).sum().backward(inputs=[x, w])
    first = x.grad
    (x * 2).sum().backward(inputs=[x])
    assert x.grad is first
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 1.0])


def test_clipping_in_place_is_seen_through_an_alias():
    p = nn.Parameter(tg.ones(2, dtype=F64))
    (p * 2).sum().backward()
    alias = p.grad.numpy()
    nn.utils.clip_grad_norm_([p], 1.0)
    np.testing.assert_allclose(alias, [0.5 ** 0.5] * 2, rtol=1e-5)   # (clip's eps)


def test_backward_inputs_sums_a_non_leafs_grad_out_of_place():
    x = leaf()
    y = x * 2
    y.sum().backward(inputs=[y], retain_graph=True)
    first = y.grad
    (y * 3).sum().backward(inputs=[y])
    assert y.grad is not first and x.grad is None
    np.testing.assert_array_equal(first.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(y.grad.numpy(), [4.0, 4.0])


def test_a_gradient_penalty_whose_grad_was_then_added_into_refuses_backward():
    x = leaf()
    (x ** 2).sum().backward(create_graph=True)
    penalty = (x.grad ** 2).sum()             # saves x.grad
    (x * 1).sum().backward()                  # adds into x.grad in place
    with pytest.raises(RuntimeError, match="modified in place"):
        penalty.backward()


def test_the_caller_seeds_of_autograd_backward_are_not_written():
    x, seed = leaf(), tg.full((2,), 3.0, dtype=F64)
    tg.autograd.backward([x, x + 0], [seed, seed])
    tg.autograd.backward([x], [seed])
    np.testing.assert_array_equal(seed.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [9.0, 9.0])


class _CupyLike:
    """What ``_adds_in_place`` reads of a CuPy array: flags without ``writeable``, strides."""
    class flags:
        c_contiguous = True

    def __init__(self, shape, strides):
        self.shape, self.strides = shape, strides


@pytest.mark.parametrize("shape, strides, expected", [((3,), (8,), True), ((3,), (0,), False),
                                                      ((1, 3), (0, 8), True), ((2, 3), (0, 8), False)])
def test_cupy_grads_with_overlapping_elements_are_summed_out_of_place(shape, strides, expected):
    from tensorgan.tensor import _adds_in_place
    assert _adds_in_place(_CupyLike(shape, strides)) is expected
