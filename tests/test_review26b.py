"""Session 26, second review of the session's merged changes: the fixes it made, each pinned
against the behaviour of the items' path / NumPy (no torch here)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.data import DataLoader, Subset, TensorDataset
from tensorgan.data.loader import default_collate
from tensorgan.errors import IndexOutOfRangeError


def _first_batch(dataset, **kw):
    return next(iter(DataLoader(dataset, batch_size=3, shuffle=False, drop_last=False, **kw)))


# -- DataLoader's gathered Subset batches ---------------------------------------------------------
def test_subset_list_changed_in_place_is_seen_by_the_gathered_batch():
    subset = Subset(TensorDataset(tg.arange(10) * 10), [0, 1, 2])
    assert _first_batch(subset)[0].tolist() == [0, 10, 20]
    subset.indices[:] = [7, 8, -1]          # same list, same length: the cached array went stale
    assert _first_batch(subset)[0].tolist() == [70, 80, 90]
    assert _first_batch(subset)[0].tolist() == [subset[i][0].item() for i in range(3)]


@pytest.mark.parametrize("indices", [[0, 1, 2], (0, 1, 2), range(3), np.arange(3)])
def test_sampler_index_outside_a_subset_raises_the_items_paths_error(indices):
    subset = Subset(TensorDataset(tg.arange(10)), indices)
    for collate in (None, lambda items: default_collate(items)):
        with pytest.raises(IndexOutOfRangeError, match="out of range"):
            next(iter(DataLoader(subset, batch_size=1, sampler=[5], collate_fn=collate)))


def test_gathered_subset_batches_match_the_items_path():
    data = TensorDataset(tg.arange(12).reshape(6, 2), np.arange(6, dtype=np.float32))
    for indices in ([5, -1, 0, 2], (3, 1, 0), range(1, 5), np.array([4, 0, 2], dtype=np.int32)):
        nested = Subset(Subset(data, indices), [2, 0, -1])
        fast = _first_batch(nested)
        slow = _first_batch(nested, collate_fn=lambda items: default_collate(items))
        for a, b in zip(fast, slow):
            assert a.dtype == b.dtype and a.tolist() == b.tolist()


# -- Tensor.lerp with no graph to build ---------------------------------------------------------
@pytest.mark.parametrize("weight", [0.25, 0.5, 0.9, 1.5, -2.0])
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_lerp_of_0d_tensors_with_no_graph_matches_the_graph_form(weight, dtype):
    a, b = tg.tensor(1.25, dtype=dtype), tg.tensor(-3.5, dtype=dtype)
    got = a.lerp(b, weight)              # weight >= 0.5: out= of a NumPy scalar raised TypeError
    traced = tg.tensor(1.25, dtype=dtype, requires_grad=True).lerp(b, weight).detach()
    assert got.shape == () and got.dtype == dtype and isinstance(got.array, np.ndarray)
    assert got.item() == traced.item()
    got.add_(1)                          # a real array: writable in place
    assert got.item() == traced.item() + 1


# -- tg._foreach_* argument forms -----------------------------------------------------------------
def test_foreach_in_place_returns_the_sequence_as_given():
    ts = (tg.ones(2), tg.ones(3))
    out = tg._foreach_add_(ts, 1)
    assert out is ts and [t.tolist() for t in ts] == [[2.0, 2.0], [2.0, 2.0, 2.0]]
    listed = [tg.zeros(2)]
    assert tg._foreach_zero_(listed) is listed


@pytest.mark.parametrize("call", [
    lambda ts: tg._foreach_addcmul_(ts, ts, tg.tensor(2.0)),
    lambda ts: tg._foreach_addcdiv(ts, tg.ones(2), ts),
    lambda ts: tg._foreach_lerp_(ts, tg.tensor(0.0), 0.5),
    lambda ts: tg._foreach_copy_(ts, tg.tensor(1.0)),
])
def test_foreach_tensor_list_arguments_refuse_a_single_tensor(call):
    ts = [tg.ones(2), tg.ones(2)]
    with pytest.raises(TypeError, match="list or tuple of tensors"):
        call(ts)                   # torch: "must be tuple of Tensors, not Tensor" (it was repeated)
    assert [t.tolist() for t in ts] == [[1.0, 1.0], [1.0, 1.0]]


# -- Tensor.dim_order ---------------------------------------------------------------------------
@pytest.mark.parametrize("perm, expected", [((0, 2, 1, 3, 4), (0, 1, 2, 3, 4)), ((0, 4, 1, 3, 2), (0, 2, 4, 3, 1)),
                                            ((2, 4, 0, 1, 3), (2, 3, 0, 4, 1))])
def test_dim_order_of_5d_tensors_takes_torchs_sort_not_a_channels_last_3d_shortcut(perm, expected):
    # torch's shortcut tests channels_last alone (4-D); a 5-D layout that is both contiguous and
    # channels_last_3d (a size-1 dim) is sorted by stride (values from torch 2.13)
    x = tg.arange(24.0).reshape(2, 2, 1, 2, 3).permute(*perm)
    assert x.dim_order() == expected


def test_dim_order_ambiguity_check_takes_a_list_of_memory_formats():
    # torch's docstring: an N=1 tensor can be mapped to the contiguous format alone
    assert tg.empty(1, 2, 3, 4).dim_order(ambiguity_check=[tg.contiguous_format, tg.channels_last]) == (0, 1, 2, 3)
    with pytest.raises(RuntimeError, match="unique dim order"):
        tg.empty(1, 2, 3, 4).dim_order(ambiguity_check=True)
    with pytest.raises(RuntimeError, match="unique dim order"):      # in both formats: ambiguous
        tg.empty(2, 3, 1, 1).dim_order(ambiguity_check=[tg.contiguous_format, tg.channels_last])
    x = tg.empty(2, 3, 4, 5).permute(0, 2, 3, 1)
    assert x.dim_order(ambiguity_check=[tg.channels_last]) == (0, 3, 1, 2)
    for bad in ("ILLEGAL", [1]):
        with pytest.raises(TypeError, match="bool or a list of memory formats"):
            tg.empty(2, 3).dim_order(ambiguity_check=bad)


# -- int() of a complex tensor --------------------------------------------------------------------
@pytest.mark.parametrize("real", [float("nan"), float("inf"), -9.3e18, 9.3e18])
def test_int_of_complex_refuses_a_real_part_outside_int64(real):
    # torch's checked conversion: "value cannot be converted to type int64_t without overflow"
    with pytest.raises(RuntimeError, match="int64_t without overflow"):
        int(tg.tensor(complex(real, 0.0)))


def test_int_and_float_of_complex_within_range():
    assert int(tg.tensor(complex(9.2e18, 0.0))) == int(np.float32(9.2e18))    # (complex64)
    assert int(tg.tensor(-2.7 + 0j)) == -2
    assert np.isnan(float(tg.tensor(complex(float("nan"), 0.0))))     # float() keeps NaN / inf
    assert float(tg.tensor(complex(float("inf"), 0.0))) == float("inf")


# -- backward walk: many leaf inputs of one node --------------------------------------------------
def test_leaves_of_one_node_accumulate_in_input_order_before_its_other_subgraphs():
    # torch 2.13's order for this graph: the stack's leaf inputs in input order, then the
    # subgraph's leaves (the walk now collects the leaves in one list, not by prepending)
    seen = []
    ps = [tg.ones(2, requires_grad=True) for _ in range(4)]
    for i, p in enumerate(ps):
        p.register_post_accumulate_grad_hook(lambda p, i=i: seen.append(i))
    w = tg.ones(2, requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda p: seen.append("w"))
    tg.stack([ps[2], ps[0], (ps[3] * w).sin(), ps[1]]).sum().backward()
    assert seen == [2, 0, 1, 3, "w"]


# -- Module repr with a multi-line extra_repr -----------------------------------------------------
def test_module_repr_puts_extra_repr_lines_and_children_on_their_own_lines_as_torch():
    class Block(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = tg.nn.Linear(2, 3)
            self.pl = tg.nn.ParameterList([None, 3])

        def extra_repr(self):
            return "a=1"

    assert repr(Block()) == ("Block(\n"                    # torch 2.13's text for this module
                             "  a=1\n"
                             "  (lin): Linear(in_features=2, out_features=3, bias=True)\n"
                             "  (pl): ParameterList(\n"
                             "      (0): Object of type: NoneType\n"
                             "      (1): Object of type: int\n"
                             "  )\n"
                             ")")
    assert repr(tg.nn.ParameterList()) == "ParameterList()"
    assert repr(tg.nn.ParameterList([None])) == "ParameterList(  (0): Object of type: NoneType)"   # (torch's too)
    assert repr(tg.nn.Linear(2, 3)) == "Linear(in_features=2, out_features=3, bias=True)"
