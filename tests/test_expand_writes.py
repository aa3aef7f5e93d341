"""Writes into expand()'s result, as torch 2.13 does them: the writes torch allows there (fill_,
zero_, masked_fill_ / index_fill_ / index_put_ / ``x[mask] = v`` with its deprecation warning, a
write into a part that does not repeat: ``e[0] = v``) land in the shared memory; the others are
refused with torch's words, as a MemoryOverlapError (a RuntimeError too)."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import AutogradError, MemoryOverlapError

WORDS = ("unsupported operation: more than one element of the written-to tensor refers to a "
         "single memory location. Please clone() the tensor before performing the operation.")


def expanded():
    b = tg.tensor([0.25, 0.75])
    return b, b.view(1, 2).expand(3, 2)


def mask():
    return tg.tensor([[True, False], [False, False], [False, False]])


@pytest.mark.parametrize("write, expected", [
    (lambda e: e.__setitem__(0, 5.0), [5.0, 5.0]),                      # a row: no repeats in it
    (lambda e: e.__setitem__((1, 1), 5.0), [0.25, 5.0]),
    (lambda e: e.__setitem__(0, tg.tensor([1.0, 2.0])), [1.0, 2.0]),
    (lambda e: e.fill_(1.0), [1.0, 1.0]),
    (lambda e: e.zero_(), [0.0, 0.0]),
    (lambda e: e.tril_(), [0.25, 0.0]),
    (lambda e: e[0].mul_(3.0), [0.75, 2.25]),
])
def test_the_writes_torch_allows_land_in_the_shared_memory(write, expected):
    b, e = expanded()
    row = b.view(1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # these come without a warning
        write(e)
    assert b.tolist() == expected and row.tolist() == [expected]
    assert e.tolist() == [expected] * 3
    assert b._version == 1 and e._version == 1


@pytest.mark.parametrize("op, write, expected", [
    ("masked_fill_", lambda e: e.masked_fill_(mask(), 9.0), [9.0, 0.75]),
    ("masked_fill_", lambda e: e.masked_fill_(mask(), tg.tensor(4.0)), [4.0, 0.75]),
    ("index_put_", lambda e: e.__setitem__(mask(), 9.0), [9.0, 0.75]),
    ("index_put_", lambda e: e.__setitem__(mask(), tg.tensor([9.0])), [9.0, 0.75]),
    ("index_put_", lambda e: e.__setitem__(tg.tensor([0]), 7.0), [7.0, 7.0]),
    ("index_fill_", lambda e: e.index_fill_(1, tg.tensor([1]), 7.0), [0.25, 7.0]),
    ("index_put_", lambda e: e.index_put_((tg.tensor([0]), tg.tensor([1])), tg.tensor(7.0)), [0.25, 7.0]),
    ("index_put_", lambda e: e.index_put_((tg.tensor([0]), tg.tensor([1])), tg.tensor(7.0),
                                          accumulate=True), [0.25, 7.75]),     # added once
])
def test_the_deprecated_writes_land_with_torchs_warning(op, write, expected):
    b, e = expanded()
    with pytest.warns(UserWarning, match=f"Use of {op} on expanded tensors is deprecated. Please "
                                         f"clone\\(\\) the tensor before performing this operation"):
        write(e)
    assert b.tolist() == expected and e.tolist() == [expected] * 3
    assert b._version == 1


@pytest.mark.parametrize("write", [
    lambda e: e.mul_(2), lambda e: e.add_(1), lambda e: e.copy_(tg.ones(3, 2)),
    lambda e: e.clamp_(0, 0.5), lambda e: e.uniform_(), lambda e: e.normal_(),
    lambda e: e.exp_(), lambda e: e.fill_(tg.tensor(4.0)),          # fill_ takes a number only
    lambda e: e.__setitem__((slice(None), 0), 5.0),                 # a column: it repeats
    lambda e: e.__setitem__(Ellipsis, 5.0), lambda e: e.__setitem__(slice(None), tg.tensor([1.0, 2.0])),
    lambda e: e[:, 1].mul_(3.0),
    lambda e: e.index_add_(1, tg.tensor([1]), tg.ones(3, 1)),
    lambda e: e.scatter_(1, tg.tensor([[0], [0], [0]]), 4.0),
])
def test_the_other_writes_are_refused_with_torchs_words(write):
    b, e = expanded()
    with pytest.raises(MemoryOverlapError, match=WORDS.replace("(", "\\(").replace(")", "\\)")) as info:
        write(e)
    assert isinstance(info.value, RuntimeError)
    assert b.tolist() == [0.25, 0.75] and b._version == 0


def test_a_zero_overwrites_negative_zero_and_nan_is_kept_by_its_bits():
    b = tg.tensor([-0.0, float("nan")])
    b.expand(2, 2).zero_()
    assert b.tolist() == [0.0, 0.0] and not np.signbit(b.numpy()).any()
    b = tg.tensor([float("nan"), 1.0])
    b.expand(3, 2).fill_(float("nan"))
    assert np.isnan(b.numpy()).all()


def test_an_expanded_zero_dim_tensor_and_an_int_tensor_are_written():
    s = tg.tensor(0.5)
    s.expand(4).fill_(2.0)
    assert s.item() == 2.0
    n = tg.tensor([[1], [2]])
    with pytest.raises(MemoryOverlapError):
        n.expand(2, 3)[1] = 7                   # a row that repeats n[1]
    n.expand(2, 3)[1, 2] = 7
    assert n.tolist() == [[1], [7]]


def test_writes_into_an_expanded_tensor_under_autograd_as_torch():
    x = tg.tensor([0.25, 0.75], requires_grad=True)
    with pytest.raises(AutogradError):          # a view of a leaf that requires grad
        x.view(1, 2).expand(3, 2).fill_(1.0)
    with pytest.raises(AutogradError):          # a tracked result's expanded view, whole
        (x * 1).view(1, 2).expand(3, 2).masked_fill_(mask(), 9.0)
    with tg.no_grad():                          # a parameter update through the view: lands
        x.view(1, 2).expand(3, 2)[1, 1] = 5.0
    assert x.tolist() == [0.25, 5.0] and x._version == 1
    y = x * 1
    with tg.no_grad():
        y.view(1, 2).expand(3, 2).fill_(1.0)
    assert y.tolist() == [1.0, 1.0]
    (y * tg.tensor([1.0, 2.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0]        # y's graph is the multiply's, as torch's


@pytest.mark.parametrize("make", [
    lambda x: x.view(1, 2).expand(3, 2), lambda x: x.view(1, 2).view(2), lambda x: x.view(1, 2)[0],
    lambda x: x.expand(3, 2)[0],
])
def test_a_view_of_a_view_made_under_no_grad_is_refused_with_grad_mode_on(make):
    x = tg.tensor([0.25, 0.75], requires_grad=True)
    with tg.no_grad():
        v = make(x)
    with pytest.raises(AutogradError, match="view made under no_grad"):
        v.fill_(1.0)
    assert x.tolist() == [0.25, 0.75]


def test_a_non_repeating_part_of_a_tracked_expanded_view_is_written_in_the_graph():
    x = tg.tensor([0.25, 0.75], requires_grad=True)
    y = x * 1
    e = y.view(1, 2).expand(3, 2)
    e[1, 1] = 5.0                              # y[1] overwritten: its gradient stops there
    assert y.tolist() == [0.25, 5.0] and e.tolist() == [[0.25, 5.0]] * 3
    ((y * tg.tensor([1.0, 2.0])).sum() + (e * tg.arange(6.0).view(3, 2)).sum()).backward()
    assert x.grad.tolist() == [1.0 + 0 + 2 + 4, 0.0]       # y[0] reaches out and e's column 0
    with pytest.raises(AutogradError):         # the whole view repeats: refused, as torch
        y.view(1, 2).expand(3, 2).masked_fill_(mask(), 9.0)


@pytest.mark.parametrize("write, expected, grad_b, grad_e", [
    # d/dv of (b * [1, 2]).sum() and of (e * arange(6).view(3, 2)).sum(): each written element
    # takes the gradient of its memory location, read through the view (torch's CopySlices)
    (lambda e, v: e.masked_fill_(mask(), v), [3.0, 0.75], 1.0, 0 + 2 + 4),
    (lambda e, v: e.__setitem__(mask(), v), [3.0, 0.75], 1.0, 0 + 2 + 4),
    (lambda e, v: e.index_fill_(1, tg.tensor([1]), v), [0.25, 3.0], 3 * 2.0, 3 * (1 + 3 + 5)),
    (lambda e, v: e.__setitem__(0, v), [3.0, 3.0], 1.0 + 2.0, sum(range(6))),
    (lambda e, v: e.index_put_((tg.tensor([0]), tg.tensor([1])), v, accumulate=True),
     [0.25, 3.75], 2.0, 1 + 3 + 5),
])
def test_an_expanded_buffer_written_with_a_tracked_value_passes_torchs_gradients(
        write, expected, grad_b, grad_e):
    for use, want in (("b", grad_b), ("e", grad_e)):
        v = tg.tensor(3.0, requires_grad=True)
        b = tg.tensor([0.25, 0.75])
        e = b.view(1, 2).expand(3, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            write(e, v)
        assert b.tolist() == expected and e.tolist() == [expected] * 3
        out = (b * tg.tensor([1.0, 2.0])).sum() if use == "b" else (e * tg.arange(6.0).view(3, 2)).sum()
        out.backward()
        assert v.grad.item() == want, use
    with pytest.raises(MemoryOverlapError):     # fill_ takes a number only
        tg.zeros(1, 2).expand(3, 2).fill_(tg.tensor(1.0, requires_grad=True))


def test_a_view_of_a_result_whose_graph_backward_freed_is_written_as_torch():
    x = tg.tensor([0.25, 0.75], requires_grad=True)
    y = x.exp()
    y.sum().backward()                          # y's node freed
    y[0].mul_(2)                                # was an AttributeError (the freed node's inputs)
    assert y.tolist() == pytest.approx([2 * np.exp(0.25), np.exp(0.75)])
    with pytest.raises(AutogradError, match="backward through the graph a second time"):
        y.sum().backward()
    with pytest.raises(AutogradError, match="single memory location"):
        (z := x * 1).sum().backward() or z.view(1, 2).expand(3, 2).mul_(2)
