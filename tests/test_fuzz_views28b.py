"""Cases found by differential fuzzing of views, in-place writes and autograd against torch
(session 28, second round): each a small program checked against NumPy or by hand."""
import numpy as np
import pytest

import tensorgan as tg


def _leaf(values):
    return tg.tensor(np.asarray(values, dtype=np.float64), dtype=tg.float64, requires_grad=True)


def _f64(values):
    return tg.tensor(np.asarray(values, dtype=np.float64), dtype=tg.float64)


# --- under no_grad, an op's argument error comes before the refusal to write a saved output ------

def test_index_add_0d_source_under_no_grad_on_a_saved_output_is_an_index_error():
    t = _leaf(np.ones((3, 2, 1))).tanh()        # tanh saved its output
    with tg.no_grad(), pytest.raises(IndexError, match="0-d"):
        t.index_add_(0, tg.tensor([0, 1]), _f64(1.0))


def test_write_under_no_grad_on_a_saved_output_is_still_refused_with_valid_arguments():
    t = _leaf(np.ones((3, 2))).tanh()
    before = t.detach().numpy().copy()
    with tg.no_grad(), pytest.raises(RuntimeError, match="graph saved"):
        t.index_add_(0, tg.tensor([0, 1]), _f64(np.ones((2, 2))))
    np.testing.assert_array_equal(t.detach().numpy(), before)    # the dry run wrote a copy


# --- scatter: a 0-d src counts as one element (torch's rule); a number goes as value= -----------

@pytest.mark.parametrize("call", [
    lambda x, i, s: x.scatter_(0, i, s), lambda x, i, s: x.scatter(0, i, s),
    lambda x, i, s: x.scatter_add_(0, i, s), lambda x, i, s: x.scatter_reduce(0, i, s, "sum"),
    lambda x, i, s: tg.scatter(x, 0, i, s)])
def test_scatter_0d_src_with_a_longer_index_is_refused(call):
    with pytest.raises(RuntimeError, match="src"):
        call(tg.zeros(4, dtype=tg.float64), tg.tensor([1, 2, 0]), _f64(5.0))


def test_scatter_0d_src_fills_a_one_element_index_and_value_fills_many():
    x = tg.zeros(3, dtype=tg.float64)
    np.testing.assert_array_equal(x.scatter(0, tg.tensor([1]), _f64(5.0)).numpy(), [0, 5, 0])
    np.testing.assert_array_equal(x.scatter(0, tg.tensor(2), _f64(5.0)).numpy(), [0, 0, 5])
    np.testing.assert_array_equal(x.scatter(0, tg.tensor([0, 2]), 5.0).numpy(), [5, 0, 5])


def test_scatter_empty_index_writes_nothing():
    x = tg.zeros(3, dtype=tg.float64)
    out = x.scatter(0, tg.tensor([], dtype=tg.int64), _f64(5.0))
    np.testing.assert_array_equal(out.numpy(), [0, 0, 0])


# --- index_copy: a 0-d source with a one-element index of a 1-d input ----------------------------

def test_index_copy_0d_source_one_index():
    x = _leaf([1.0, 2.0, 3.0])
    s = _leaf(4.0)
    y = x.index_copy(0, tg.tensor([1]), s)
    np.testing.assert_array_equal(y.detach().numpy(), [1, 4, 3])
    (y * _f64([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 0, 3])
    assert s.grad.item() == 2.0


@pytest.mark.parametrize("shape,index", [((3,), [1, 2]), ((3, 2), [1])])
def test_index_copy_0d_source_otherwise_refused(shape, index):
    with pytest.raises(IndexError):
        tg.zeros(shape, dtype=tg.float64).index_copy_(0, tg.tensor(index), _f64(5.0))


# --- index_add / index_copy / index_fill / index_select of a 0-d input: as one-element 1-d --------

def test_index_ops_of_a_0d_input():
    x = _leaf(2.0)
    s = _leaf(3.0)
    y = x.index_add(0, tg.tensor([0]), s, alpha=2)
    assert y.shape == () and y.item() == 8.0
    (y * 5).backward()
    assert x.grad.item() == 5.0 and s.grad.item() == 10.0
    assert _f64(1.0).index_copy(-1, tg.tensor(0), _f64(5.0)).item() == 5.0
    assert _f64(1.0).index_fill_(0, tg.tensor([0, 0]), 5.0).item() == 5.0
    out = _f64(1.0).index_select(0, tg.tensor([0]))
    assert out.shape == () and out.item() == 1.0


@pytest.mark.parametrize("call,error", [
    (lambda x: x.index_add(0, tg.tensor([0, 0]), _f64(5.0)), IndexError),
    (lambda x: x.index_add(0, tg.tensor([0]), _f64([5.0])), RuntimeError),
    (lambda x: x.index_copy(1, tg.tensor([0]), _f64(5.0)), IndexError),
    (lambda x: x.index_select(0, tg.tensor([0, 0])), RuntimeError)])
def test_index_ops_of_a_0d_input_refused(call, error):
    with pytest.raises(error):
        call(_f64(1.0))


# --- fill_ with a 0-d value that aliases the tensor written: torch clones the value ----------------

def test_fill_with_a_value_over_the_written_memory():
    x = _f64([1.0, 2.0, 3.0, 4.0])
    x.view(2, 2).fill_(x[3])
    np.testing.assert_array_equal(x.numpy(), [4, 4, 4, 4])
    a = _leaf([1.0, 2.0, 3.0, 4.0])
    v = a.tanh() * 1.0
    v[:3].fill_(v[2])                                     # v = [t2, t2, t2, t3]
    (v * _f64([1.0, 2.0, 3.0, 4.0])).sum().backward()
    slope = 1 - np.tanh([3.0, 4.0]) ** 2
    np.testing.assert_allclose(a.grad.numpy(), [0, 0, 6 * slope[0], 4 * slope[1]], rtol=1e-12)


# --- the writes torch allows into repeating elements, on as_strided's stride-0 view too ----------

@pytest.mark.filterwarnings("ignore:Use of")
@pytest.mark.parametrize("write,expected", [
    (lambda v, m: v.__setitem__(tg.tensor(m), 0.75), [0.75, 0.75, 2]),
    (lambda v, m: v.masked_fill_(tg.tensor(m), 0.75), [0.75, 0.75, 2]),
    (lambda v, m: v.fill_(0.75), [0.75, 0.75, 0.75]),
    (lambda v, m: v.zero_(), [0, 0, 0]),
    (lambda v, m: v.expand(2, 3, 3).__setitem__(tg.tensor(np.stack([m, m])), 0.75), [0.75, 0.75, 2])])
def test_allowed_writes_into_an_as_strided_view_with_a_zero_stride(write, expected):
    mask = np.array([[True, False, False], [False, True, False], [False, False, False]])
    x = tg.arange(9, dtype=tg.float64)
    write(x.as_strided((3, 3), (0, 1), 0), mask)          # rows: the same three elements
    np.testing.assert_array_equal(x.numpy(), expected + list(range(3, 9)))


def test_elementwise_write_into_an_as_strided_view_with_a_zero_stride_is_refused():
    with pytest.raises(RuntimeError, match="single memory location"):
        tg.arange(9, dtype=tg.float64).as_strided((3, 3), (0, 1), 0).add_(1.0)


# --- gather / scatter with an empty index: no rank or size checks, nothing written ---------------

@pytest.mark.parametrize("call", [
    lambda x, i: x.scatter(0, i, _f64([5.0])), lambda x, i: x.scatter(0, i, _f64(5.0)),
    lambda x, i: x.scatter(0, i, 1.0), lambda x, i: x.scatter_add(0, i, _f64([[5.0]])),
    lambda x, i: x.scatter_reduce(0, i, _f64([[5.0]]), "amax")])
def test_scatter_with_an_empty_index_of_another_rank_writes_nothing(call):
    out = call(tg.zeros(3, dtype=tg.float64), tg.zeros((0, 2), dtype=tg.int64))
    np.testing.assert_array_equal(out.numpy(), [0, 0, 0])


def test_scatter_of_a_0d_src_with_an_empty_index_into_2d():
    out = tg.zeros((2, 2), dtype=tg.float64).scatter_(0, tg.zeros((1, 0), dtype=tg.int64), _f64(5.0))
    np.testing.assert_array_equal(out.numpy(), np.zeros((2, 2)))


def test_gather_with_an_empty_index_has_the_index_shape():
    x = _leaf([1.0, 2.0])
    out = (x * 1).gather(0, tg.zeros((0, 2), dtype=tg.int64))
    assert out.shape == (0, 2)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0])
    assert tg.zeros((2, 2)).gather(0, tg.zeros((0, 5), dtype=tg.int64)).shape == (0, 5)


# --- a view of a .detach() alias stays outside the graph when the original is written -------------

@pytest.mark.parametrize("make_view", [lambda d: d[:2], lambda d: d.split(2)[0],
                                       lambda d: d.view(3, 1)[:2, 0], lambda d: d.diagonal(0, 0, 0)[:2]
                                       if d.ndim > 1 else d.unfold(0, 2, 1)[0]])
def test_view_of_a_detach_alias_gets_no_gradient_after_the_original_is_written(make_view):
    x = _leaf([1.0, 2.0, 3.0])
    y = x * 1.5
    view = make_view(y.detach())
    y.mul_(2.0)                                            # y = 3 x; view sees the values
    assert not view.requires_grad and view.grad_fn is None
    np.testing.assert_allclose(view.numpy(), [3.0, 6.0])
    ((view * _f64([5.0, 7.0])).sum() + y.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0, 3.0])


def test_view_of_a_detach_of_a_view_gets_no_gradient_after_the_original_is_written():
    x = _leaf([1.0, 2.0, 3.0])
    y = x * 2
    view = y[1:].detach()[:1]
    y.mul_(_f64([1.5, 2.5, 3.5]))
    ((view * 5.0).sum() + y.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 5.0, 7.0])
    assert view.item() == 10.0


def test_views_of_a_detach_alias_follow_a_tracked_write_into_that_alias():
    p = _leaf([1.0, 2.0, 3.0])
    m = _leaf([1.5, 2.5, 3.5])
    a, b = p.detach(), p.detach()
    of_a, part_of_a, of_b = a.movedim(0, 0), a[:2], b.view(3)
    a.add_(m)                                              # a = p + m; p stays a leaf
    assert of_a.requires_grad and part_of_a.requires_grad and not of_b.requires_grad
    ((part_of_a * _f64([5.0, 7.0])).sum() + of_a.sum()).backward()
    np.testing.assert_allclose(m.grad.numpy(), [6.0, 8.0, 1.0])
    assert p.grad is None and p.is_leaf


# --- diagonal of a tensor laid out in column-major order (x.t().clone()) is a view too -----------

def test_diagonal_of_a_column_major_tensor_is_a_view():
    x = tg.tensor(np.arange(9.0).reshape(3, 3)).t().clone()      # strides (1, 3), as torch's
    x.diagonal().fill_(-1.0)
    np.testing.assert_array_equal(x.numpy(), np.where(np.eye(3) > 0, -1.0, np.arange(9.0).reshape(3, 3).T))
    d = x.diagonal(1)
    x.mul_(2.0)
    np.testing.assert_array_equal(d.numpy(), [6.0, 14.0])        # x[0, 1], x[1, 2] doubled
    a = _leaf(np.arange(9.0).reshape(3, 3))
    y = a.t().clone()
    y.diagonal().mul_(3.0)
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), 1 + 2 * np.eye(3))
