"""Session 24 leftovers: behaviours torch 2.13 has that tensorgan differed on (each test fails
without its fix)."""
import sys
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import MemoryOverlapError, ReadOnlyMemoryError

tensor_mod = sys.modules["tensorgan.tensor"]


# -- 1. read-only NumPy memory ------------------------------------------------------------------
def _read_only(values):
    a = np.array(values, dtype=np.float64)
    a.flags.writeable = False
    return a


def test_from_numpy_read_only_array_is_written_with_one_warning():
    tensor_mod._READ_ONLY_WARNED[0] = False
    a = _read_only([1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match="not writable"):
        t = tg.from_numpy(a)
    t.add_(1)
    np.testing.assert_array_equal(a, [2.0, 3.0, 4.0])       # the memory is shared, as torch's
    assert not a.flags.writeable                              # the user's flag is kept
    b = _read_only([1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                        # once a program, as torch's
        tg.from_numpy(b).mul_(5)
    assert b[0] == 5.0


def test_as_tensor_and_from_dlpack_of_read_only_array_share_writable_memory():
    a = _read_only([1.0, 2.0])
    tg.as_tensor(a).mul_(3)
    np.testing.assert_array_equal(a, [3.0, 6.0])
    b = _read_only([1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                        # torch.from_dlpack does not warn
        t = tg.from_dlpack(b)
    t.sub_(1)
    np.testing.assert_array_equal(b, [0.0, 1.0])


def test_read_only_strided_view_is_written_in_place():
    base = np.arange(6.0).reshape(2, 3)
    v = base[:, 1]
    v.flags.writeable = False
    tg.from_numpy(v).mul_(2)
    np.testing.assert_array_equal(base, [[0, 2, 2], [3, 8, 5]])


def test_read_only_buffer_refused_with_read_only_error():
    t = tg.frombuffer(b"abcdefgh", dtype=tg.uint8)
    with pytest.raises(ReadOnlyMemoryError, match="read-only"):
        t.add_(1)
    assert not issubclass(ReadOnlyMemoryError, MemoryOverlapError)


def test_broadcast_array_still_refused_as_overlap():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = tg.from_numpy(np.broadcast_to(np.ones(3), (2, 3)))
    with pytest.raises(MemoryOverlapError, match="single memory location"):
        t.add_(1)


# -- 2. writes into a .detach() alias of a leaf that requires grad ---------------------------------
W = [1.0, 2.0, 3.0]


def _leaf_and_m():
    return tg.tensor([1.0, 2.0, 3.0], requires_grad=True), tg.tensor([0.5, -1.0, 2.0], requires_grad=True)


def _backward(out):
    (out * tg.tensor(W)).sum().backward()


def test_detach_alias_add_and_mul_with_the_leaf_itself():
    p, _ = _leaf_and_m()
    out = p.detach().add_(p)                       # out = a_old + p: d/dp = 1
    _backward(out)
    assert out.tolist() == [2.0, 4.0, 6.0] and p.tolist() == [2.0, 4.0, 6.0]   # shared memory
    assert p.grad.tolist() == W
    p, _ = _leaf_and_m()
    out = p.detach().mul_(p)                       # out = a_old * p: d/dp = a_old
    _backward(out)
    assert out.tolist() == [1.0, 4.0, 9.0] and p.grad.tolist() == [1.0, 4.0, 9.0]
    p, _ = _leaf_and_m()
    a = p.detach()
    out = a.mul_(p) * p                            # p now holds a_new: w*a_new + w*p*a_old
    _backward(out)
    assert out.tolist() == [1.0, 16.0, 81.0] and p.grad.tolist() == [2.0, 24.0, 108.0]


def test_detach_alias_write_reading_the_leaf_is_refused_at_backward():
    p, _ = _leaf_and_m()
    out = p.detach().div_(p)                       # div's gradient reads p, which the write changed
    with pytest.raises(tg.errors.AutogradError, match="modified in place"):
        _backward(out)


def test_view_of_detach_alias_written_with_tracked_value():
    p, m = _leaf_and_m()
    a = p.detach()
    a[:2].add_(m[:2])                              # the alias takes the graph, p stays a leaf
    assert a.requires_grad and p.is_leaf and p.grad_fn is None
    _backward(a)
    assert a.tolist() == [1.5, 1.0, 3.0] and p.tolist() == [1.5, 1.0, 3.0]
    assert m.grad.tolist() == [1.0, 2.0, 0.0] and p.grad is None
    p, _ = _leaf_and_m()
    a = p.detach()
    a[1:].mul_(p[1:])                              # a view of p as the value: follows p
    _backward(a)
    assert a.tolist() == [1.0, 4.0, 9.0] and p.grad.tolist() == [0.0, 4.0, 9.0]
    p, m = _leaf_and_m()
    v = p.detach()[1:]                             # the alias itself is gone
    v.mul_(m[1:])
    _backward(tg.cat([v, v[:1]]))
    assert m.grad.tolist() == [0.0, 8.0, 6.0] and p.grad is None


def test_view_of_one_of_several_detach_aliases_refused_with_what_is_wrong():
    p, m = _leaf_and_m()
    a, b = p.detach(), p.detach()
    with pytest.raises(tg.errors.AutogradError, match="several .detach.. aliases") as info:
        a[:2].add_(m[:2])
    assert "a view of a leaf tensor" not in str(info.value)
    del b


# -- 3. add / sub alpha checks, clamp of bool tensors ----------------------------------------------
def test_bool_alpha_only_for_bool_results():
    x, xi, b = tg.tensor([1.0, 2.0]), tg.tensor([1, 2]), tg.tensor([True, False])
    for call in (lambda: x.sub(1, alpha=True), lambda: x.add(1, alpha=True),
                 lambda: xi.add(1, alpha=True), lambda: x.add(x, alpha=False),
                 lambda: tg.add(x, x, alpha=True), lambda: x.clone().add_(x, alpha=True),
                 lambda: x.clone().sub_(x, alpha=True), lambda: b.add(x, alpha=True)):
        with pytest.raises(tg.errors.DTypeError, match="Boolean alpha only supported for Boolean results"):
            call()
    out = b.add(b, alpha=True)
    assert out.dtype == tg.bool and out.tolist() == [True, False]
    out = b.add(b, alpha=2)                        # a bool result stays bool (alpha nonzero: True)
    assert out.dtype == tg.bool and out.tolist() == [True, False]


def test_float_alpha_refused_for_integer_results():
    xi = tg.tensor([1, 2])
    with pytest.raises(tg.errors.DTypeError, match="must not be a floating point number"):
        xi.add(xi, alpha=1.5)
    with pytest.raises(tg.errors.DTypeError, match="must not be a floating point number"):
        xi.clone().add_(xi, alpha=2.0)
    assert xi.add(xi, alpha=2).tolist() == [3, 6]
    assert xi.add(tg.tensor([1.0, 1.0]), alpha=0.5).tolist() == [1.5, 2.5]    # a float result
    p = tg.tensor([1.0, 2.0])
    assert p.add_(tg.tensor([1.0, 1.0]), alpha=-0.5).tolist() == [0.5, 1.5]


def test_clamp_of_bool_tensor_promotes_as_torch():
    b = tg.tensor([True, False])
    for out in (tg.clamp(b, 0, 1), b.clamp(min=0), b.clip(0, 1), b.clamp_min(0)):
        assert out.dtype == tg.int64 and out.tolist() == [1, 0]
    assert b.clamp_max(0).tolist() == [0, 0] and b.clamp_max(0).dtype == tg.int64
    out = b.clamp(max=1.5)
    assert out.dtype == tg.float32 and out.tolist() == [1.0, 0.0]
    with pytest.raises(tg.errors.DTypeNotImplementedError, match="Bool"):
        tg.clamp(b, False, True)
    with pytest.raises(tg.errors.DTypeNotImplementedError, match="Bool"):
        b.clamp(tg.tensor(False), tg.tensor(True))
    with pytest.raises(tg.errors.DTypeError, match="can't be cast to the desired output type bool"):
        b.clone().clamp_(0, 1)
    with pytest.raises(tg.errors.DTypeError, match="can't be cast to the desired output type int64"):
        tg.tensor([1, 2]).clamp_(0.5, 1.5)


def test_clamp_takes_bool_bounds_as_numbers_on_non_bool_tensors():
    assert tg.clamp(tg.tensor([0.0, 2.0]), True).tolist() == [1.0, 2.0]
    out = tg.tensor([0, 2]).clamp(max=True)
    assert out.dtype == tg.int64 and out.tolist() == [0, 1]
    assert tg.tensor([0.0, 2.0]).clamp_(True, 1.5).tolist() == [1.0, 1.5]


# -- 4. torch's once-a-program warnings ------------------------------------------------------------
def test_backward_create_graph_warns_once_autograd_grad_not():
    tensor_mod._ONCE_WARNED.pop("create_graph", None)
    p = tg.ones(2, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.autograd.grad((p * p).sum(), p, create_graph=True)     # no reference cycle: no warning
    with pytest.warns(UserWarning, match="create_graph=True will create a reference cycle"):
        (p * p).sum().backward(create_graph=True)
    assert p.grad.tolist() == [2.0, 2.0] and p.grad.requires_grad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (p * p).sum().backward(create_graph=True)               # once a program
    tensor_mod._ONCE_WARNED.pop("create_graph", None)
    with pytest.warns(UserWarning, match="reference cycle"):
        tg.autograd.backward([(p * 2).sum()], create_graph=True)


def test_float_of_tensor_requiring_grad_warns_once_int_and_item_do_not():
    tensor_mod._ONCE_WARNED.pop("float", None)
    x = tg.ones((), requires_grad=True) * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert int(x) == 2 and x.item() == 2.0 and bool(x) and float(x.detach()) == 2.0
    with pytest.warns(UserWarning, match="requires_grad=True to a scalar"):
        assert float(x) == 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(x) == 2.0


# -- 5. output_nr of split pieces, empty_strided's strides, embedding_bag's max bookkeeping ------
def test_output_nr_of_split_unbind_chunk_pieces_is_their_index():
    y = tg.arange(6.0).reshape(2, 3).requires_grad_() * 1
    assert [t.output_nr for t in y.split(1, dim=1)] == [0, 1, 2]
    assert [t.output_nr for t in y.unbind(1)] == [0, 1, 2]
    assert [t.output_nr for t in y.chunk(3, 1)] == [0, 1, 2]
    assert [t.output_nr for t in tg.split(y, [1, 2], 1)] == [0, 1]
    assert y.output_nr == 0 and (y + 1).output_nr == 0


def test_empty_strided_lays_out_the_strides_given():
    e = tg.empty_strided((2, 3), (1, 2))
    assert e.stride() == (1, 2) and not e.is_contiguous() and tuple(e.shape) == (2, 3)
    e.copy_(tg.arange(6.0).reshape(2, 3))
    assert e.tolist() == [[0, 1, 2], [3, 4, 5]] and e.contiguous().stride() == (3, 1)
    n = tg.ones(1, dtype=tg.float64).new_empty_strided((3, 2), (1, 3))
    assert n.stride() == (1, 3) and n.dtype == tg.float64
    assert tg.empty_strided((0, 3), (5, 1)).stride() == (5, 1)
    shared = tg.empty_strided((2, 2), (0, 1))                 # rows share memory, as torch's
    assert shared.stride() == (0, 1)
    with pytest.raises(MemoryOverlapError):
        shared.add_(1)
    with pytest.raises(tg.errors.ShapeError, match="dimensionality"):
        tg.empty_strided((2, 3), (1,))
    with pytest.raises(tg.errors.ShapeError, match="negative"):
        tg.empty_strided((2,), (-1,))


def test_embedding_bag_max_indices_skip_padding_idx_and_empty_bags_are_plus_zero():
    w = tg.tensor([[0.0, 5, -1], [3, -2, 4], [9, 9, 9], [-3, -4, -5], [1, 1, 1]])
    out, _, size, maxes = tg.embedding_bag(w, tg.tensor([0, 2, 1, 2, 3, 2]), tg.tensor([0, 2, 4]),
                                           False, 2, False, None, False, 2)
    assert maxes.tolist() == [[0, 0, 0], [1, 1, 1], [3, 3, 3]]   # row 2 (padding) is never the max
    assert out.tolist() == [[0, 5, -1], [3, -2, 4], [-3, -4, -5]] and size.tolist() == [1, 1, 1]
    out, _, _, maxes = tg.embedding_bag(w, tg.tensor([2, 2, 3, 2]), tg.tensor([0, 2]),
                                        False, 2, False, None, False, 2)
    assert maxes.tolist() == [[0, 0, 0], [3, 3, 3]]             # an all-padding bag: 0
    assert np.signbit(out.numpy()).tolist()[0] == [False] * 3    # +0.0, not -0.0 (row * 0)
    import tensorgan.nn.functional as F
    empty = F.embedding_bag(tg.tensor([3]), w, tg.tensor([0, 1]), mode="max")
    assert empty.tolist() == [[-3, -4, -5], [0, 0, 0]] and not np.signbit(empty.numpy()[1]).any()


# -- 6. autograd.graph.increment_version --------------------------------------------------------
def test_increment_version_makes_a_saving_op_refuse_backward():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0])
    y = (x * b).sum()                                  # mul saved b for x's gradient
    v = b._version
    tg.autograd.graph.increment_version([b, b[:1]])    # each one counts (shared memory: +2)
    assert b._version == v + 2
    with pytest.raises(tg.errors.AutogradError, match="modified in place"):
        y.backward()
    with pytest.raises(tg.errors.InputTypeError):
        tg.autograd.graph.increment_version(3)
