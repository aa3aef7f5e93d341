"""Session 30's review (h30k): what the merged fixes left beside them.

* torch's positional index ops (gather / scatter* / index_select / index_add / index_reduce /
  index_put / embedding) take int32 or int64 index tensors only; int8 / int16 / uint8 ones were
  still read as positions after h30d refused them in ``x[index]`` and take / put;
  searchsorted's ``sorter`` must be int64.
* ``x[[7]] = v`` where nothing is picked (a (3, 0) x) writes nothing, as torch's (h30d's
  empty-result rule covered tuple keys only).
* The layout rule (h30c) looks at nothing more for C-contiguous operands: the hot path stays.
"""
from __future__ import annotations

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan import ops
from tensorgan.errors import IndexDTypeError, SamplingParameterError

X = tg.arange(12.0).reshape(3, 4)

POSITIONAL = {
    "index_select": lambda i: X.index_select(0, i),
    "gather": lambda i: X.gather(0, i.reshape(1, 1)),
    "scatter": lambda i: X.scatter(0, i.reshape(1, 1), 1.0),
    "scatter_add": lambda i: X.scatter_add(0, i.reshape(1, 1), tg.ones(1, 1)),
    "scatter_reduce": lambda i: X.scatter_reduce(0, i.reshape(1, 1), tg.ones(1, 1), "amax"),
    "index_add": lambda i: X.index_add(0, i, tg.ones(1, 4)),
    "index_reduce": lambda i: X.index_reduce(0, i, tg.ones(1, 4), "prod"),
    "embedding": lambda i: F.embedding(i, X),
}


@pytest.mark.parametrize("dtype", [tg.int8, tg.int16, tg.uint8])
@pytest.mark.parametrize("op", sorted(POSITIONAL))
def test_positional_index_ops_refuse_small_integer_index_tensors_as_torch(op, dtype):
    with pytest.raises(IndexDTypeError, match=str(dtype).split(".")[-1]) as info:
        POSITIONAL[op](tg.tensor([1], dtype=dtype))
    assert isinstance(info.value, RuntimeError)       # torch's RuntimeError


@pytest.mark.parametrize("dtype", [tg.int32, tg.int64])
@pytest.mark.parametrize("op", sorted(POSITIONAL))
def test_positional_index_ops_take_int32_and_int64(op, dtype):
    expected = POSITIONAL[op](tg.tensor([1]))
    np.testing.assert_array_equal(POSITIONAL[op](tg.tensor([1], dtype=dtype)).numpy(),
                                  expected.numpy())


@pytest.mark.parametrize("dtype", [tg.int8, tg.int16])
def test_index_put_refuses_small_integer_index_tensors_as_torch(dtype):
    with pytest.raises(IndexDTypeError, match="long, int, byte or bool"):
        X.index_put((tg.tensor([1], dtype=dtype),), tg.tensor(1.0))
    np.testing.assert_array_equal(X.index_put((tg.tensor([1], dtype=tg.int32),), tg.tensor(-1.0))
                                  .numpy()[1], [-1.0] * 4)


@pytest.mark.parametrize("dtype", [tg.int8, tg.int32])
def test_searchsorted_sorter_must_be_int64_as_torch(dtype):
    seq, values = tg.tensor([3.0, 1.0, 2.0]), tg.tensor([1.5])
    with pytest.raises(IndexDTypeError, match="sorter"):
        tg.searchsorted(seq, values, sorter=tg.tensor([1, 2, 0], dtype=dtype))
    assert tg.searchsorted(seq, values, sorter=tg.tensor([1, 2, 0])).tolist() == [1]


def test_repeat_interleave_counts_keep_any_integer_dtype():
    # (not a position: torch refuses int8 counts with NotImplementedError; left as it was)
    counts = tg.tensor([1, 2, 1], dtype=tg.uint8)
    assert tg.arange(3).repeat_interleave(counts).tolist() == [0, 1, 1, 2]


@pytest.mark.parametrize("key", [[7], [-9], np.array([7]), tg.tensor([7])],
                         ids=["list", "negative", "ndarray", "tensor"])
def test_setitem_with_out_of_range_positions_picking_nothing_writes_nothing(key):
    x = tg.zeros(3, 0)
    x[key] = 1.0                              # torch checks no bounds on an empty result
    assert x.shape == (3, 0)


def test_setitem_out_of_range_positions_picking_something_are_still_refused():
    x = tg.zeros(3, 2)
    with pytest.raises(IndexError):
        x[[7]] = 1.0
    with pytest.raises(IndexError):
        tg.zeros(3, 0)[5] = 1.0               # an int index is checked (torch too)


def test_setitem_picking_nothing_keeps_the_graph():
    x = tg.zeros(3, 0, requires_grad=True).clone()
    x[[7]] = tg.ones(1, 0, requires_grad=True)
    assert x.grad_fn is not None


def test_c_contiguous_elementwise_ops_never_look_at_the_layout_rule(monkeypatch):
    def refuse(*args):
        raise AssertionError("the layout rule was consulted for C-contiguous operands")
    monkeypatch.setattr(ops, "follow_operands", refuse)
    monkeypatch.setattr(ops, "in_iterator_order", refuse)
    import tensorgan.memory_formats as memory_formats
    monkeypatch.setattr(memory_formats, "follow_operands", refuse)
    a, b = tg.randn(2, 3, 4, 5), tg.randn(2, 3, 4, 5)
    results = [a + b, a * b, 2 - a, a - 1, a > b, (a > 0) & (b > 0), tg.where(a > 0, a, b),
               tg.maximum(a, b), tg.lerp(a, b, 0.3), tg.addcmul(a, b, b), a + b[0, 0]]
    assert all(r.is_contiguous() for r in results)


# -- float draws of whole numbers: the range decides, not the draw -----------------------------
def test_random_into_a_float_refuses_a_range_beyond_its_finite_values_as_torch():
    with pytest.raises(SamplingParameterError, match="out of bounds for float16") as info:
        tg.zeros(2000, dtype=tg.float16).random_(0, 70000)   # (drew inf before)
    assert isinstance(info.value, RuntimeError)
    assert tg.zeros(2000, dtype=tg.float16).random_(0, 65505).isfinite().all()
    with pytest.raises(SamplingParameterError, match="out of bounds for float16"):
        tg.randint(0, 70000, (3,), dtype=tg.float16)


@pytest.mark.parametrize("seed", range(4))
def test_randint_into_float32_refuses_an_inexact_range_whatever_is_drawn(seed):
    # 3 draws below 2**24 + 10 almost never exceed 2**24: the refusal used to follow them
    with pytest.raises(tg.DTypeError, match="not all exact in float32"):
        tg.randint(0, 2 ** 24 + 10, (3,), dtype=tg.float32, generator=tg.Generator(seed))
    assert tg.randint(-2 ** 24, 2 ** 24 + 1, (3,), dtype=tg.float32).dtype == tg.float32


def test_the_backward_walk_makes_no_call_for_a_leaf(monkeypatch):
    # h30g's _push_inputs split cost one call per node; a leaf has no inputs to push
    import sys
    engine = sys.modules["tensorgan.tensor"]
    seen = []
    real = engine._push_inputs
    monkeypatch.setattr(engine, "_push_inputs", lambda node, stack: (seen.append(node), real(node, stack)))
    w, b = tg.tensor([1.0, -2.0], requires_grad=True), tg.tensor(0.5, requires_grad=True)
    (w.abs() * b).sum().backward()
    assert len(seen) == 3 and all(t.grad_fn is not None for t in seen)   # abs, mul, sum
    assert w.grad.tolist() == [0.5, -0.5] and b.grad.item() == 3.0


# -- leaky_relu of a channels_last input: read in its memory order (h30c copied it twice) ------
def _layouts():
    g = np.random.default_rng(3)
    base = g.standard_normal((2, 3, 4, 5))
    return {"channels_last": tg.tensor(base).contiguous(memory_format=tg.channels_last),
            "permuted": tg.tensor(base.transpose(2, 0, 3, 1).copy()).permute(1, 3, 0, 2),
            "transposed": tg.tensor(g.standard_normal((5, 4))).t(),
            "sliced": tg.tensor(base)[:, :, ::2], "0-d": tg.tensor(-1.5, dtype=tg.float64)}


@pytest.mark.parametrize("name", sorted(_layouts()))
def test_leaky_relu_of_any_layout_keeps_it_with_the_same_values_and_gradients(name):
    x = _layouts()[name].detach().requires_grad_(True)
    y = F.leaky_relu(x, 0.2)
    dense = x.detach().numpy()
    np.testing.assert_array_equal(y.detach().numpy(), np.where(dense > 0, dense, 0.2 * dense))
    if name in ("channels_last", "permuted", "transposed"):
        assert y.stride() == x.stride()                   # torch's layout, as the input's
    gy = tg.tensor(np.arange(y.numel(), dtype=np.float64).reshape(y.shape))
    (gx,) = tg.autograd.grad(y, x, gy, create_graph=True)
    np.testing.assert_array_equal(gx.detach().numpy(), np.where(dense > 0, 1.0, 0.2) * gy.numpy())
    (ggy,) = tg.autograd.grad((gx * gx).sum(), x, allow_unused=True, materialize_grads=True)
    np.testing.assert_array_equal(ggy.numpy(), np.zeros(dense.shape))   # piecewise linear


def test_leaky_relu_backward_takes_a_gradient_in_another_layout():
    x = _layouts()["channels_last"].detach().requires_grad_(True)
    gy = tg.randn(*x.shape, dtype=tg.float64)             # C order, x channels_last
    F.leaky_relu(x, 0.1).backward(gy)
    dense = x.detach().numpy()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(dense > 0, 1.0, 0.1) * gy.numpy())
    assert x.grad.is_contiguous(memory_format=tg.channels_last)


def test_leaky_relu_in_place_on_channels_last():
    x = _layouts()["channels_last"]
    expected = np.where(x.numpy() > 0, x.numpy(), 0.3 * x.numpy())
    assert F.leaky_relu(x, 0.3, inplace=True) is x
    np.testing.assert_array_equal(x.numpy(), expected)
    assert x.is_contiguous(memory_format=tg.channels_last)


def test_leaky_relu_of_channels_last_copies_nothing():
    x = _layouts()["channels_last"].detach().requires_grad_(True)
    y = F.leaky_relu(x, 0.2)
    assert np.shares_memory(y.grad_fn.x, x.array)        # saved as it is, not a C-order copy
    assert y.stride() == x.stride()
