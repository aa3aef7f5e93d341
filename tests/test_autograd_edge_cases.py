"""Autograd / in-place / view edge cases, torch 2.13's behaviour as the spec (h23b).

Expected values are worked out by hand (or with NumPy) from torch's storage semantics; no torch
import."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import InputTypeError, ShapeError


# --- view of a non-contiguous tensor --------------------------------------------------------

def test_view_of_a_transpose_that_needs_a_copy_is_refused_as_torch():
    x = tg.arange(6.0).reshape(2, 3)
    with pytest.raises(ShapeError, match=r"view size is not compatible.*size \(3, 2\) and stride "
                                         r"\(1, 3\).*reshape"):
        x.t().view(-1)
    with pytest.raises(ShapeError, match="view_as|view size"):
        x.t().view_as(tg.zeros(6))
    assert x.t().reshape(-1).tolist() == [0, 3, 1, 4, 2, 5]      # reshape copies, as torch's


def test_view_of_a_non_contiguous_tensor_where_strides_allow_stays_a_view():
    x = tg.arange(24.0).reshape(4, 6)
    v = x[:, ::2].view(12)                                        # rows of stride 2: viewable
    w = x.t().view(3, 2, 4)                                       # splitting a dim: viewable
    v[0] = -1.0
    w[0, 0, 1] = -2.0
    assert x[0, 0].item() == -1.0 and x[1, 0].item() == -2.0


def test_view_of_an_op_result_laid_out_otherwise_is_a_view_written_through():
    y = tg.from_numpy(np.asfortranarray(np.arange(6.0).reshape(2, 3))) * 1.0
    assert not y.is_contiguous()          # NumPy kept the F layout; torch's result is contiguous
    v = y.view(-1)
    v[1] = 100.0                                                  # torch: y[0, 1] changes too
    assert y.tolist() == [[0, 100, 2], [3, 4, 5]]


# --- as_strided counts in the storage -------------------------------------------------------

def test_as_strided_of_a_transpose_is_a_view_of_the_storage():
    x = tg.arange(12.0).reshape(3, 4)
    v = x.t().as_strided((2, 2), (1, 4))                          # storage positions 0, 4 / 1, 5
    assert v.tolist() == [[0, 4], [1, 5]]
    v.mul_(10)
    assert x.reshape(-1).tolist() == [0, 10, 2, 3, 40, 50, 6, 7, 8, 9, 10, 11]


def test_as_strided_offset_of_a_view_counts_in_the_storage():
    x = tg.arange(12.0).reshape(3, 4)
    v = x.t().as_strided((2, 2), (1, 4), 1)                       # positions 1, 5 / 2, 6
    assert v.tolist() == [[1, 5], [2, 6]]
    s = x[1:]                                                     # storage offset 4
    assert s.as_strided((2,), (1,)).tolist() == [4, 5]            # None: its own offset
    assert s.as_strided((2,), (1,), 5).tolist() == [5, 6]         # absolute, not from s's start


def test_as_strided_gradient_goes_to_the_storage_positions():
    x0 = tg.arange(12.0, requires_grad=True)
    x = (x0 * 1).reshape(3, 4).t()
    v = x.as_strided((2, 2), (1, 4))
    (v * tg.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    expected = np.zeros(12)
    expected[[0, 4, 1, 5]] = [1, 2, 3, 4]
    np.testing.assert_array_equal(x0.grad.numpy(), expected)


def test_as_strided_outside_the_tensor_is_refused_not_wrong():
    x = tg.arange(12.0)
    s = x[4:8]
    with pytest.raises(ShapeError, match="outside this tensor"):
        s.as_strided((2,), (1,), 0)


# --- writes through overlapping views -------------------------------------------------------

def _sequential(x, windows, f):
    """torch's result: ``f`` applied element after element, row-major, in place."""
    x = list(x)
    for i, pos in enumerate(np.asarray(windows).reshape(-1)):
        x[pos] = f(x[pos], i)
    return x


def test_writes_through_overlapping_unfold_windows_as_torch():
    win = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]
    x = tg.arange(6.0)
    x.unfold(0, 3, 1).mul_(2)
    assert x.tolist() == _sequential(range(6), win, lambda v, i: v * 2)   # [0, 4, 16, 24, 16, 10]
    x = tg.arange(6.0)
    x.unfold(0, 3, 2).add_(1)
    assert x.tolist() == [1, 2, 4, 4, 5, 5]
    x = tg.arange(6.0)
    src = tg.arange(12.0).reshape(4, 3) + 100
    x.unfold(0, 3, 1).copy_(src)                                   # the last window's write wins
    assert x.tolist() == _sequential(range(6), win, lambda v, i: 100.0 + i)
    x = tg.arange(6.0)
    x.unfold(0, 3, 1).zero_()
    assert x.tolist() == [0] * 6
    x = tg.arange(6.0)
    x.unfold(0, 3, 1)[:, 0].add_(1)                                # a view of the windows
    assert x.tolist() == [1, 2, 3, 4, 4, 5]


def test_write_through_an_expanded_view_is_refused_with_torchs_words():
    x = tg.zeros(3)
    with pytest.raises(InputTypeError, match="more than one element of the written-to tensor "
                                             "refers to a single memory location"):
        x.unsqueeze(0).expand(2, 3).add_(1.0)
    assert x.tolist() == [0, 0, 0]


# --- a second backward through nodes that saved nothing -------------------------------------

def test_second_backward_through_nodes_that_saved_nothing_works_as_torch():
    x = tg.ones(3, requires_grad=True)
    y = x.sum()
    y.backward()
    y.backward()                                       # torch: SumBackward0 saved no tensor
    assert x.grad.tolist() == [2, 2, 2]
    z = ((x + 1)[1:].reshape(2, 1).t() - 2).mean()     # add, index, view, transpose, sub, mean
    z.backward()
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 3, 3])


def test_second_backward_through_a_node_that_saved_a_tensor_is_refused_in_torchs_words():
    for make in (lambda x: (x * x).sum(), lambda x: x.exp().sum(), lambda x: (x * 2).sum()):
        x = tg.ones(3, requires_grad=True)
        y = make(x)
        y.backward()
        with pytest.raises(tg.errors.AutogradError,
                           match="Trying to backward through the graph a second time"):
            y.backward()
    x = tg.ones(3, requires_grad=True)
    y = (x * x).sum()
    tg.autograd.grad(y, x)
    with pytest.raises(tg.errors.AutogradError, match="second time"):
        tg.autograd.grad(y, x)


def test_a_kept_node_holds_no_values_and_follows_later_writes_as_torch():
    import gc
    import weakref
    x = tg.ones(3, requires_grad=True)
    a = x + 0.0
    s = a.sum()
    s.backward()
    a.mul_(3)                                # a takes a new node; s's edge keeps the old one
    s.backward()
    assert x.grad.tolist() == [2, 2, 2]
    b = x * 2
    c = b + 1
    gone = weakref.ref(c)
    loss = c.sum()
    loss.backward()
    del c
    gc.collect()
    assert gone() is None                    # the kept Sum node does not hold c's values
    assert [f.name() for f, _ in loss.grad_fn.next_functions] == ["AddBackward0"]


# --- views of a tensor that is gone ---------------------------------------------------------

def test_a_tracked_write_through_a_view_of_a_gone_buffer_reaches_its_sibling_views():
    import gc
    buf = tg.zeros(10)
    a, b = buf[2:8], buf[0:5]                          # views made outside autograd
    del buf
    gc.collect()
    y = tg.ones(6, requires_grad=True)
    a.add_(y * 3)
    assert b.tolist() == [0, 0, 3, 3, 3]               # one memory: b sees the write
    assert b.requires_grad                             # and its graph, as torch's view of the base
    (b * tg.arange(5.0)).sum().backward()
    assert y.grad.tolist() == [6, 9, 12, 0, 0, 0]      # 3 * (2, 3, 4): b[2:5] are y[0:3]


def test_a_tracked_product_through_a_view_of_a_gone_buffer():
    import gc
    x0 = tg.arange(10.0, requires_grad=True)
    with tg.no_grad():
        x = x0 * 1
    a, b = x[2:8], x[0:5]
    del x
    gc.collect()
    a.mul_(x0[:6])                                     # a[i] = (i + 2) * i
    assert b.tolist() == [0, 1, 0, 3, 8]
    (b * tg.arange(5.0)).sum().backward()
    # b[2:5] = a[0:3] = x0[0:3] * (2, 3, 4): d/dx0[i] = (i + 2) * (i + 2)
    assert x0.grad.tolist() == [4, 9, 16, 0, 0, 0, 0, 0, 0, 0]


# --- in-place view ops (t_) and saved outputs -----------------------------------------------

def test_a_view_taken_before_t_then_written_as_torch():
    x = tg.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], requires_grad=True)
    e = x * 1.0                    # saves nothing of its output
    v = e[0]
    e.t_()
    v.mul_(2)                      # was refused ("its op's input's memory"); torch writes it
    np.testing.assert_allclose(e.detach().numpy(), [[0.2, 0.4], [0.4, 0.5], [0.6, 0.6]], rtol=1e-6)
    e.sum().backward()
    assert x.grad.tolist() == [[2, 2, 2], [1, 1, 1]]


def test_a_view_write_after_t_of_a_saved_output_refuses_backward_as_torch():
    x = tg.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], requires_grad=True)
    e = x.exp()                    # saves its output: torch's version check refuses backward
    v = e[0]
    e.t_()
    v.mul_(2)
    with pytest.raises(tg.errors.AutogradError, match="ExpBackward0.*modified in place"):
        e.sum().backward()


def test_tanh_output_written_in_place_gives_the_right_gradient_where_torch_refuses():
    # A documented choice: torch raises "one of the variables needed for gradient computation
    # has been modified by an inplace operation" (tanh saved its output); tensorgan's in-place
    # op on a tracked result keeps the old output for tanh's backward, so its gradient is the
    # true one -- a correct program is not broken to match torch's refusal.
    x = tg.tensor([0.5, 1.0], requires_grad=True)
    y = tg.tanh(x).mul_(2)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (1 - np.tanh([0.5, 1.0]) ** 2), rtol=1e-6)
    x.grad = None
    e = x.exp()
    e.t_()                          # the same for a metadata-only in-place op
    e.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.0]), rtol=1e-6)
