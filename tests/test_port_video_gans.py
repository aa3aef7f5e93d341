"""What the video-GAN ports (MoCoGAN: GRUCell motion codes, Conv3d / BatchNorm3d video critic;
DVD-GAN: ConvGRU, separable attention, 3-D residual critic, k-frame sampling) leaned on, checked
from first principles: torch's reading of list indices.  torch reads ``x[[a, b]]`` whose items are
tensors / sequences / slices / None / ``...`` as ``x[a, b]`` (deprecated, warned, still so), where
NumPy reads one stacked index array -- a silently different result; and a list or tuple of
multi-element tensors *inside* a tuple key (``x[:, idx.sort()]``, ``x[:, [t1, t2]]``) is a
TypeError in torch, where NumPy stacks it into a 2-D index."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import InputTypeError


def _y():
    return tg.arange(4 * 4 * 3).reshape(4, 4, 3)


def _legacy(y, key):
    with pytest.warns(UserWarning, match="non-tuple sequence for multidimensional indexing"):
        return y[key]


def test_list_of_index_tensors_is_read_as_a_tuple_as_torch():
    y, a = _y(), np.arange(48).reshape(4, 4, 3)
    got = _legacy(y, [tg.tensor([0, 1]), tg.tensor([1, 0])])
    np.testing.assert_array_equal(got.numpy(), a[[0, 1], [1, 0]])                 # (2, 3), not (2, 2, 4, 3)
    np.testing.assert_array_equal(_legacy(y, [tg.tensor(0), tg.tensor(2)]).numpy(), a[0, 2])
    np.testing.assert_array_equal(_legacy(y, [[0, 1], [1, 2]]).numpy(), a[[0, 1], [1, 2]])
    np.testing.assert_array_equal(_legacy(y, [np.array([0, 1]), np.array([1, 0])]).numpy(), a[[0, 1], [1, 0]])
    np.testing.assert_array_equal(_legacy(y, [0, slice(None)]).numpy(), a[0, :])
    np.testing.assert_array_equal(_legacy(y, [0, None]).numpy(), a[0, None])
    np.testing.assert_array_equal(_legacy(y, [1, ...]).numpy(), a[1, ...])


def test_plain_lists_stay_one_index():
    y, a = _y(), np.arange(48).reshape(4, 4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(y[[1, 2]].numpy(), a[[1, 2]])
        np.testing.assert_array_equal(y[[True, False, True, True]].numpy(), a[[True, False, True, True]])
        np.testing.assert_array_equal(y[[i % 4 for i in range(40)]].numpy(), a[[i % 4 for i in range(40)]])
        np.testing.assert_array_equal(y[[[0, 1]] * 40].numpy(), a[np.array([[0, 1]] * 40)])   # 32+ items: one index
        np.testing.assert_array_equal(y[:, [[0, 1], [1, 2]]].numpy(), a[:, [[0, 1], [1, 2]]])
        np.testing.assert_array_equal(y[:, [tg.tensor(0), tg.tensor(2)]].numpy(), a[:, [0, 2]])  # one-element tensors


def test_setitem_with_a_list_of_index_tensors_writes_the_tuple_positions():
    y, a = _y().clone(), np.arange(48).reshape(4, 4, 3)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        y[[tg.tensor([0, 1]), tg.tensor([1, 0])]] = -1
    a[[0, 1], [1, 0]] = -1
    np.testing.assert_array_equal(y.numpy(), a)                          # 6 elements, not 24


@pytest.mark.parametrize("key", [
    lambda: (slice(None), [tg.tensor([0, 1]), tg.tensor([1, 2])]),
    lambda: (slice(None), (tg.tensor([0, 1]), tg.tensor([1, 2]))),
    lambda: (slice(None), tg.tensor([3, 1]).sort()),                  # (values, indices) namedtuple
    lambda: (slice(None), [1, tg.tensor([0, 1])]),
    lambda: (0, [[tg.tensor([0, 1])]]),
    lambda: (slice(None), [tg.tensor([1.0])]),                        # float: not an integer tensor
])
def test_multi_element_tensors_inside_a_sequence_in_a_tuple_key_are_refused(key):
    y = tg.arange(2 * 5 * 3).reshape(2, 5, 3)
    with pytest.raises(TypeError, match="only integer tensors of a single element") as info:
        y[key()]
    assert isinstance(info.value, InputTypeError)
    with pytest.raises(InputTypeError, match="only integer tensors of a single element"):
        y[key()] = 0


def test_k_frame_sampling_as_dvd_gan_writes_it():
    """utils.sample_k_frames: ``srt, idx = perm[:k].sort(); data[:, srt, :, :, :]`` -- sorted frame
    positions index the time axis of a B x T x C x H x W batch, and the gradient lands on them."""
    video = tg.tensor(np.random.default_rng(0).standard_normal((2, 6, 3, 2, 2)), requires_grad=True)
    srt, _ = tg.tensor([4, 0, 5, 2])[:3].sort()
    frames = video[:, srt, :, :, :]
    assert frames.shape == (2, 3, 3, 2, 2)
    np.testing.assert_array_equal(frames.detach().numpy(), video.detach().numpy()[:, [0, 4, 5]])
    frames.sum().backward()
    np.testing.assert_array_equal(video.grad.numpy()[0, :, 0, 0, 0], [1, 0, 0, 0, 1, 1])


# ---- DVD-GAN's progress print: self.g_lr_scher.get_lr()[0] -- torch warns (get_last_lr is meant) ----

def _sgd():
    return tg.optim.SGD([tg.nn.Parameter(tg.zeros(1))], lr=0.1)


def test_get_lr_outside_step_warns_as_torch_and_step_does_not():
    opt = _sgd()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched = tg.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        opt.step()
        sched.step()                                                   # lr 0.05, no warning inside step
    with pytest.warns(UserWarning, match=r"please use `get_last_lr\(\)`"):
        lrs = sched.get_lr()
    assert lrs == pytest.approx([0.025]) and sched.get_last_lr() == pytest.approx([0.05])
    with pytest.warns(UserWarning, match="get_last_lr"):
        tg.optim.swa_utils.SWALR(_sgd(), swa_lr=0.05).get_lr()


def test_a_users_scheduler_subclass_is_not_warned():
    class Halving(tg.optim.lr_scheduler.LRScheduler):
        def get_lr(self):
            return [g["lr"] * 0.5 for g in self.optimizer.param_groups]

    sched = Halving(_sgd())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sched.get_lr() == pytest.approx([0.025])          # the constructor stepped once: 0.05
