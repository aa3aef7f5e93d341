"""In-place ops next to views (refused only while a view that could go wrong is alive, as
torch's version counter allows them) and two live iterators of one DataLoader (torch's
``zip(loader, loader)``)."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.data as gdata
import tensorgan.nn.functional as F
from tensorgan.errors import AutogradError
from tensorgan.utils.data import DataLoader, IterableDataset, TensorDataset


def _leaf(n=4, value=1.0):
    return tg.full((n,), value, requires_grad=True)


# ---------------------------------------------------------------- views that were freed
def test_untracked_tensor_in_place_after_a_freed_view():
    x = tg.zeros(4)
    v = x[:2]
    del v
    x.add_(1)
    assert x.tolist() == [1, 1, 1, 1]


@pytest.mark.parametrize("make_view", [lambda y: y[:2], lambda y: y.view(2, 2), lambda y: y.detach(),
                                       lambda y: y.reshape(4, 1).t()])
def test_tracked_result_in_place_after_its_view_is_freed(make_view):
    w = _leaf()
    y = w * 2
    v = make_view(y)
    del v
    y.mul_(3)                        # refused before: the freed view still marked y shared
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [6, 6, 6, 6])


def test_result_whose_op_saved_its_output_is_swapped_once_the_view_is_freed():
    w = _leaf(value=0.5)
    y = w.exp()                      # exp saves its output for backward
    v = y[1:]
    del v
    y.mul_(2)
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.full(4, 2 * np.exp(0.5)), rtol=1e-6)


def test_leaf_without_grad_accumulating_a_tracked_value_after_its_view_is_freed():
    w = _leaf()
    x = tg.zeros(4)
    v = x[:2]
    x.add_(w)                        # as torch's: v's graph follows the write
    v.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [1, 1, 0, 0])
    w.grad = None
    x = tg.zeros(4)
    v = x[:2]
    del v
    x.add_(w)
    x.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [1, 1, 1, 1])


def test_relu_inplace_is_in_place_once_the_view_is_freed():
    w = tg.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    y = w * 1
    v = y[:2]
    del v
    assert F.relu(y, inplace=True) is y
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [0, 1, 0, 1])


def test_the_sharing_record_stays_short_when_a_tensor_is_viewed_in_a_loop():
    x = tg.zeros(4, requires_grad=True) * 1
    for i in range(1000):
        row = x[i % 4]
        del row
    assert len(x._version_box) == 1 or len(x._version_box[1]) <= 64
    x.add_(1)


# ---------------------------------------------------------------- views that are alive
def test_loop_writing_the_base_while_a_row_view_is_alive():
    w = _leaf()
    y = w * 2
    seen = []
    for i in range(3):
        row = y[i]
        seen.append(float(row))
        y.mul_(2)
    assert seen == [2.0, 4.0, 8.0]
    assert float(row) == 16.0        # the live view sees the write, as torch's
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [16, 16, 16, 16])
    w.grad = None
    y = w * 2
    for i in range(3):
        row = y[i]
        y.mul_(2)
    row.backward()                   # as torch's: the view's graph followed the writes
    np.testing.assert_allclose(w.grad.numpy(), [0, 0, 16, 0])


def test_view_alive_only_through_a_graph_then_written_base_as_torch():
    w = _leaf()
    y = w * 2
    z = y[:2].sum()                  # the view lives on in z's graph
    y.mul_(3)
    z.backward()                     # torch 2.13: the sum used the old value (neither op saved it)
    np.testing.assert_allclose(w.grad.numpy(), [2, 2, 0, 0])
    with pytest.raises(AutogradError, match="already freed"):   # the shared w * 2 node (torch too)
        y.sum().backward()
    w.grad = None
    y = w * 2
    z = y[:2].sum()
    y.mul_(3)
    (z + y.sum()).backward()
    np.testing.assert_allclose(w.grad.numpy(), [8, 8, 6, 6])


def test_still_refused_where_the_write_could_not_be_tracked():
    w = _leaf()
    y = w * 2
    v = y[:2]                        # (a view of an op's result is written with y following,
    v.mul_(1)                        # as torch's CopySlices: tests/test_inplace_views.py)
    e = w.exp()
    ev = e[:2]
    e.mul_(2)                        # allowed, as torch's; exp's backward reads its output,
    assert float(ev[0]) == pytest.approx(2 * np.e) and float(v[0]) == 2.0   # which ev shares:
    with pytest.raises(AutogradError, match="saved for backward"):          # refused there
        e.sum().backward()


class _ExpSavedDeep(tg.Function):
    """exp that keeps its output two containers deep (``self.saved = {"cache": (None, y)}``):
    the in-place check must still see that backward reads the output."""

    def forward(self, x):
        y = np.exp(x)
        self.saved = {"cache": (None, [y])}
        return y

    def backward(self, g):
        return g * self.saved["cache"][1][0]


def test_output_saved_inside_nested_containers_is_still_refused_with_a_live_view():
    w = _leaf()
    e = _ExpSavedDeep.apply(w)
    ev = e[:2]
    e.mul_(2)                        # the saved buffer is shared with ev: written, as torch's,
    with pytest.raises(AutogradError, match="saved for backward"):   # and backward refused
        e.sum().backward()
    del ev
    e = _ExpSavedDeep.apply(w)
    e.mul_(2)                        # no live view: the saved buffer is kept, e takes a new one
    e.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.exp(w.detach().numpy()))


def test_leaf_that_requires_grad_is_refused_and_its_views_see_no_grad_writes():
    w = _leaf()
    v = w[:2]
    with pytest.raises(AutogradError, match="leaf"):
        w.add_(1)
    del v
    with pytest.raises(AutogradError, match="leaf"):
        w.add_(1)
    v = w[:2]
    with tg.no_grad():
        w.mul_(2)
    assert v.tolist() == [2.0, 2.0]
    v.sum().backward()               # the view's op reads no value: torch's gradient, no refusal
    assert w.grad.tolist() == [1.0, 1.0, 0.0, 0.0]
    w.grad = None
    v = w[:2]
    u = v * v                        # saves v
    with tg.no_grad():
        w.mul_(2)
    with pytest.raises(AutogradError, match="modified in place"):
        u.sum().backward()


def test_a_saved_input_modified_in_place_is_still_caught():
    w = _leaf()
    y = w * 2
    z = y * y                        # saves y
    y.mul_(2)
    with pytest.raises(AutogradError, match="modified in place"):
        z.sum().backward()


# ---------------------------------------------------------------- DataLoader: two live iterators
def _firsts(batch):
    return batch[0].tolist()


@pytest.mark.parametrize("options", [{}, {"num_workers": 2, "persistent_workers": True}])
def test_zip_of_one_torch_style_loader_gives_two_passes(options):
    loader = DataLoader(TensorDataset(tg.arange(6)), batch_size=2, **options)
    pairs = [(_firsts(a), _firsts(b)) for a, b in zip(loader, loader)]
    assert pairs == [([0, 1], [0, 1]), ([2, 3], [2, 3]), ([4, 5], [4, 5])]
    assert [_firsts(b) for b in loader] == [[0, 1], [2, 3], [4, 5]]


def test_interleaved_iterators_each_make_their_own_pass():
    loader = DataLoader(TensorDataset(tg.arange(6)), batch_size=2, shuffle=True, seed=0)
    first, second = iter(loader), iter(loader)
    a = [_firsts(next(first))]
    b = [_firsts(next(second)), _firsts(next(second))]
    a += [_firsts(x) for x in first]
    b += [_firsts(x) for x in second]
    assert sorted(sum(a, [])) == list(range(6)) and sorted(sum(b, [])) == list(range(6))


def test_zip_of_an_iterable_dataset_loader():
    class Count(IterableDataset):
        def __iter__(self):
            return iter(range(5))

    loader = DataLoader(Count(), batch_size=2)
    assert [(a.tolist(), b.tolist()) for a, b in zip(loader, loader)] == \
        [([0, 1], [0, 1]), ([2, 3], [2, 3]), ([4], [4])]


def test_gan_loader_zip_and_state_follow_the_newest_iterator():
    loader = gdata.DataLoader(TensorDataset(tg.arange(8)), batch_size=2, shuffle=False, drop_last=False)
    pairs = [(_firsts(a), _firsts(b)) for a, b in zip(loader, loader)]
    assert pairs == [([0, 1], [0, 1]), ([2, 3], [2, 3]), ([4, 5], [4, 5]), ([6, 7], [6, 7])]
    old = iter(loader)
    assert _firsts(next(old)) == [0, 1]
    new = iter(loader)               # resumes the loader's pass (the GAN loader's rule)
    assert _firsts(next(new)) == [2, 3]
    assert _firsts(next(old)) == [2, 3]   # the overtaken one goes on with its own position
    assert loader.state_dict()["position"] == 4
