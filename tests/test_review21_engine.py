"""Review of the session-21 engine changes (flip as a copy, rsub's node, in-place writes through
views): what torch does is the spec, written here from first principles (no torch import)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import AutogradError


# --- copies that must not share the input's memory (torch's flip / roll always copy) ---------

@pytest.mark.parametrize("make", [
    lambda x: x.flip(0),                 # a size-1 dim: NumPy calls the flipped view contiguous
    lambda x: x.flip(0, 2),
    lambda x: x.flip(()),                # no dim at all
    lambda x: x[0].fliplr(),             # (4, 1): flipping dim 1 of size 1
    lambda x: x.rot90(2, (0, 2)),        # two flips of size-1 dims
], ids=["flip0", "flip02", "flip_none", "fliplr", "rot90_2"])
def test_flip_of_size_one_dims_is_a_copy(make):
    x = tg.arange(4.0).reshape(1, 4, 1)
    y = make(x)
    y.fill_(-1.0)
    np.testing.assert_array_equal(x.numpy().ravel(), [0.0, 1.0, 2.0, 3.0])
    assert x._version == 0


@pytest.mark.parametrize("make", [
    lambda x: x.roll(4, 1),              # a whole turn
    lambda x: x.roll(0, 1),
    lambda x: x.roll(1, 0),              # a size-1 dim
    lambda x: x.roll(4),                 # flattened, a whole turn
    lambda x: x.roll((1, 8), (0, 1)),
], ids=["full_turn", "zero", "size1", "flat_full_turn", "two_dims"])
def test_roll_that_moves_nothing_is_a_new_tensor(make):
    x = tg.arange(4.0).reshape(1, 4)
    y = make(x)
    assert y is not x
    y.add_(10.0)
    np.testing.assert_array_equal(x.numpy(), [[0.0, 1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(y.numpy(), [[10.0, 11.0, 12.0, 13.0]])


def test_roll_that_moves_nothing_keeps_the_gradient():
    w = tg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    y = w.roll(3, 1)
    (y * tg.tensor([[1.0, 2.0, 3.0]])).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1.0, 2.0, 3.0]])


# --- 2 - x: one RsubBackward1 node whose one edge is x's ---------------------------------------

def test_rsub_node_has_the_input_as_its_edge_and_its_hook_sees_minus_g():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = 2 - x
    assert y.grad_fn.name() == "RsubBackward1"
    (edge, _), = y.grad_fn.next_functions
    assert type(edge).__name__ == "AccumulateGrad" and edge.variable is x
    seen = []
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append(grad_inputs[0].numpy()))
    (y * tg.tensor([1.0, 2.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(seen[0], [-1.0, -2.0, -4.0])     # d(2 - x)/dx times g
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, -2.0, -4.0])
    np.testing.assert_array_equal(y.detach().numpy(), [1.0, 0.0, -1.0])


def test_rsub_values_dtypes_and_second_order():
    assert (2 - tg.tensor([1, 5])).tolist() == [1, -3]
    assert (2 - tg.tensor([1, 3], dtype=tg.uint8)).tolist() == [1, 255]
    assert (2.5 - tg.tensor([1, 2])).dtype == tg.float32
    r = 0.0 - tg.tensor([0.0, -0.0])
    assert not np.signbit(r.numpy()).any()                           # 0 - 0 and 0 - (-0) are +0
    b = np.ones(2) - tg.ones(3, 2)                                   # an array broadcast against x
    assert b.shape == (3, 2) and not b.numpy().any()
    x = tg.tensor([0.5, -1.5], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: 2 - t * t, (x,))
    assert tg.autograd.gradgradcheck(lambda t: (3 - t * t) ** 2, (x,))


# --- a view made under no_grad() of a tensor that requires grad -------------------------------

def _no_grad_view(base, key=0):
    with tg.no_grad():
        return base[key]


@pytest.mark.parametrize("write", [
    lambda v: v.mul_(3.0),
    lambda v: v.fill_(1.0),
    lambda v: v.__setitem__(1, 5.0),
    lambda v: v.add_(tg.ones(4, requires_grad=True)),
    lambda v: tg.nn.functional.relu(v, inplace=True),
], ids=["mul_", "fill_", "setitem", "add_grad_operand", "relu_inplace"])
@pytest.mark.parametrize("leaf", [True, False], ids=["leaf_base", "op_result_base"])
def test_writing_a_no_grad_view_with_grad_mode_on_is_refused(write, leaf):
    w = tg.ones(3, 4, requires_grad=True)
    base = w if leaf else w * 2
    v = _no_grad_view(base)
    with pytest.raises(AutogradError, match="no_grad"):
        write(v)                  # (it was written, and the base's gradient ignored the write)
    np.testing.assert_array_equal(base.detach().numpy(), 1.0 if leaf else 2.0)


def test_writing_a_no_grad_view_stays_allowed_where_torch_allows_it():
    w = tg.ones(3, 4, requires_grad=True)
    b = w * 2
    v = _no_grad_view(b)
    with tg.no_grad():
        v.mul_(3.0)                                          # written under no_grad too
    assert b.detach().numpy()[0].tolist() == [6.0] * 4
    d = b.detach()[1]
    d.mul_(0.5)                                              # a view of a .detach()
    assert b.detach().numpy()[1].tolist() == [1.0] * 4
    plain = tg.ones(2, 3)
    _no_grad_view(plain).mul_(2.0)                           # of a tensor that needs no grad
    assert plain.numpy()[0].tolist() == [2.0] * 3
    data_view = _no_grad_view(b.data, 2)
    data_view[0] = 7.0                                       # of .data
    assert b.detach().numpy()[2, 0] == 7.0
    grad_view = b[2]                                         # made with grad mode on: CopySlices
    grad_view.mul_(2.0)
    (b * 1).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy()[2], [4.0] * 4)


# --- typed errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [
    lambda x: x.view("float32"), lambda x: x.reshape("a"), lambda x: x.view(2.0, 4),
    lambda x: x.reshape(2, None), lambda x: x.view(size=(2.5, 4)),
], ids=["view_str", "reshape_str", "view_float", "reshape_none", "view_size_float"])
def test_reshape_and_view_with_sizes_that_are_not_ints_are_typed(bad):
    from tensorgan.errors import InputTypeError
    with pytest.raises(InputTypeError, match="ints"):
        bad(tg.ones(2, 4))
