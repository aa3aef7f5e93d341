"""h25o's review of session 25's later merges beside torch 2.13 (expectations computed with
torch 2.13 CPU, float64, in the same process; noted per test)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import MemoryOverlapError


def _x(n=6, shape=None):
    x = tg.arange(float(n), dtype=tg.float64)
    return x if shape is None else x.view(*shape)


# -- in-place / setitem overlap: what torch 2.13 writes (false refusals before) ----------------
@pytest.mark.parametrize("write, expected", [
    # a 0-d operand torch reads as a number: fill_ (x[key] = 0-d), masked_fill_, index_fill_
    (lambda x: x.__setitem__(slice(None), x[4]), [4.0] * 6),
    (lambda x: x.__setitem__(Ellipsis, x[4]), [4.0] * 6),
    (lambda x: x.masked_fill_(x > 2, x[0]), [0, 1, 2, 0, 0, 0]),
    (lambda x: x.index_fill_(0, tg.tensor([1, 2]), x[0]), [0, 0, 0, 3, 4, 5]),
    # a single mask and a one-element value: torch's index_put_ is masked_fill_
    (lambda x: x.__setitem__(x > 2, x[4]), [0, 1, 2, 4, 4, 4]),
    (lambda x: x.__setitem__(x > 2, x[:1]), [0, 1, 2, 0, 0, 0]),
    (lambda x: x.index_put_((x > 2,), x[:1]), [0, 1, 2, 0, 0, 0]),
    # a length-1 dim whose NumPy stride (0 for None) differs: the very memory
    (lambda x: x.view(6, 1).add_(x[:, None]), [0, 2, 4, 6, 8, 10]),
    (lambda x: x[0].add_(x[0]), list(range(6))),                       # 0-d over itself
])
def test_overlap_written_as_torch(write, expected):
    x = _x()
    write(x)
    assert x.tolist() == [float(e) for e in expected]


@pytest.mark.parametrize("write, expected", [
    (lambda x: x.__setitem__(slice(0, 2), x[0]), [0, 1, 2, 0, 1, 2, 6, 7, 8]),     # broadcast: stride 0
    (lambda x: x.__setitem__(slice(0, 1), x[0]), list(range(9))),                  # length-1 dim added
    (lambda x: x.__setitem__(slice(0, 2), x[1:2]), [3, 4, 5, 3, 4, 5, 6, 7, 8]),
    (lambda x: x.__setitem__(0, x[0, 1]), [1, 1, 1, 3, 4, 5, 6, 7, 8]),            # 0-d: fill_
    (lambda x: x.__setitem__((0, tg.tensor([0, 1])), x[1, :2]), [3, 4, 2, 3, 4, 5, 6, 7, 8]),
    (lambda x: x.__setitem__((slice(1, 3), tg.tensor([0, 1])), x[0, :2]), [0, 1, 2, 0, 1, 5, 0, 1, 8]),
    (lambda x: x.__setitem__((tg.tensor([0, 1]), 2), x[2, :2]), [0, 1, 6, 3, 4, 7, 6, 7, 8]),
    (lambda x: x.__setitem__((0, tg.tensor([True, False, True])), x[0, 1]), [1, 1, 1, 3, 4, 5, 6, 7, 8]),
    (lambda x: x.__setitem__(x > 4, x[0, :1]), [0, 1, 2, 3, 4, 0, 0, 0, 0]),
    (lambda x: x[0:1].add_(x[0][None]), [0, 2, 4, 3, 4, 5, 6, 7, 8]),
])
def test_overlap_written_as_torch_2d(write, expected):
    x = _x(9, (3, 3))
    write(x)
    assert x.reshape(-1).tolist() == [float(e) for e in expected]


@pytest.mark.parametrize("write", [
    lambda x: x.index_add_(0, tg.arange(6), x),          # torch's assert_no_overlap: the very
    lambda x: x.index_copy_(0, tg.arange(6), x),         # memory too
    lambda x: x.scatter_(0, tg.arange(6), x),
    lambda x: x.scatter_add_(0, tg.arange(6), x),
    lambda x: x.put_(tg.tensor([0, 1]), x[4:]),
    lambda x: x[:3].index_add_(0, tg.arange(3), x[:3]),
    lambda x: x.index_put_((tg.arange(6),), x),
    lambda x: x.index_put_((x > 2,), x[:1], accumulate=True),
    lambda x: x.__setitem__(tg.tensor([5, 4, 3, 2, 1, 0]), x),
    lambda x: x.__setitem__(tg.tensor([0, 1]), x[4]),    # an index key with a 0-d value: index_put_
    lambda x: x[1:].add_(x[:-1]),                        # (h25g's, still)
    lambda x: x.view(1, 6).add_(x),
])
def test_overlap_refused_as_torch(write):
    x = _x()
    with pytest.raises(MemoryOverlapError, match="some elements of the input tensor"):
        write(x)
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_index_put_value_with_leading_ones():
    # torch drops a value's leading length-1 dims for a tensor index (slicePrefix1sSize): NumPy's
    # mask write refused a (1, k) value
    x = _x(9, (3, 3))
    x[x > 4] = tg.ones(1, 4, dtype=tg.float64)
    assert x.reshape(-1).tolist() == [0, 1, 2, 3, 4, 1, 1, 1, 1]
    x = _x(9, (3, 3))
    x[0, x[0] > 0] = tg.full((1, 2), 7.0, dtype=tg.float64)
    assert x[0].tolist() == [0, 7, 7]
    w = tg.ones(1, 2, dtype=tg.float64, requires_grad=True)
    y = _x(9, (3, 3)) * 1
    y[y > 6] = w * 2
    y.sum().backward()
    assert w.grad.tolist() == [[2.0, 2.0]]


# -- random draws: a NaN std, non-finite uniform_ bounds (torch 2.13 refuses) -------------------
@pytest.mark.parametrize("draw", [
    lambda: tg.normal(0.0, float("nan"), (2,)),
    lambda: tg.zeros(2).normal_(0, float("nan")),
    lambda: tg.nn.init.normal_(tg.zeros(2), 0, float("nan")),
    lambda: tg.zeros(2).uniform_(float("nan"), 1),
    lambda: tg.zeros(2).uniform_(0, float("inf")),
    lambda: tg.nn.init.uniform_(tg.zeros(2), -float("inf"), 0),
])
def test_non_finite_sampling_parameters_refused(draw):
    from tensorgan.errors import SamplingParameterError
    with pytest.raises(SamplingParameterError):
        draw()


def test_normal_in_place_takes_0d_tensor_parameters():
    x = tg.zeros(3).normal_(tg.tensor(2.0), tg.tensor(0.0))     # torch reads their numbers
    assert x.tolist() == [2.0, 2.0, 2.0]


def test_unique_dim_keeps_nans_distinct():
    nan = float("nan")
    values, inverse, counts = tg.unique(tg.tensor([nan, 1.0, nan]), dim=0, return_inverse=True,
                                        return_counts=True)
    assert len(values) == 3 and counts.tolist() == [1, 1, 1]    # as without dim= (NaN != NaN)
    assert inverse.tolist()[1] == 0


# -- clamp beside torch 2.13 ---------------------------------------------------------------------
def test_clamp_integer_bounds_converted_as_torch():
    u = tg.tensor([0, 1, 5, 200, 255], dtype=tg.uint8)
    assert u.clamp(1, -1).tolist() == [1, 1, 5, 200, 255]     # -1 is uint8's 255 (was OverflowError)
    assert u.clamp(-1, 1).tolist() == [1] * 5                   # min 255 > max 1: max everywhere
    assert u.clone().clamp_(max=-2).tolist() == [0, 1, 5, 200, 254]
    with pytest.raises(RuntimeError, match="without overflow"):
        tg.tensor([1], dtype=tg.int8).clamp(min=-300)
    with pytest.raises(RuntimeError, match="without overflow"):
        u.clamp(0, 256)


def test_clamp_tensor_bounds_nan_and_bool_as_torch():
    x = tg.tensor([1.0, -2.0])
    assert np.isnan(tg.clamp(x, tg.tensor(float("nan"))).numpy()).all()    # a NaN bound gives NaN
    assert np.isnan(tg.clamp(x, max=tg.tensor([0.0, float("nan")])).numpy()[1])
    b = tg.tensor([True, False])
    assert tg.clamp(b, tg.tensor([True, True])).tolist() == [True, True]   # one bool bound: computed
    assert tg.clamp(b, max=tg.tensor(False)).tolist() == [False, False]
    with pytest.raises(NotImplementedError):
        tg.clamp(b, tg.tensor(False), tg.tensor(True))                      # two: as torch's clamp_cpu
