"""The training loop around the kernels made cheaper (session 26): each fast path gives the
same bits as the plain NumPy expression it replaces."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.vision.transforms as T
import tensorgan.vision.transforms.functional as TF
from tensorgan.errors import ConfigError, ShapeError
from tensorgan.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


def _pair(dtype, shape=(3, 5, 4)):
    rng = np.random.default_rng(0)
    return rng.normal(size=shape).astype(dtype), rng.normal(size=shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("weight", [0.001, 0.3, 0.5, 0.999, 1.0])
def test_lerp_in_place_rounds_as_the_plain_expressions(dtype, weight):
    a, e = _pair(dtype)
    # Python-float weights take the array's dtype (NumPy 2's weak scalars), as in torch
    expected = a + (e - a) * weight if weight < 0.5 else e - (e - a) * (1 - weight)
    t = tg.from_numpy(a.copy())
    with tg.no_grad():
        t.lerp_(tg.from_numpy(e), weight)
    np.testing.assert_array_equal(t.numpy(), expected.astype(dtype))


def test_lerp_in_place_broadcasts_end_and_keeps_the_array():
    a, e = _pair(np.float32)
    t = tg.from_numpy(a.copy())
    before = t.array
    with tg.no_grad():
        t.lerp_(tg.from_numpy(e[0]), 0.25)
    assert t.array is before
    np.testing.assert_array_equal(t.numpy(), a + (e[0] - a) * np.float32(0.25))


def test_ema_averaged_model_matches_the_formula():
    model = tg.nn.Sequential(tg.nn.Linear(6, 5), tg.nn.BatchNorm1d(5))
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    ema.update_parameters(model)
    start = [p.numpy().copy() for p in ema.module.parameters()]
    with tg.no_grad():
        for p in model.parameters():
            p.add_(1.5)
    ema.update_parameters(model)
    for avg, old, cur in zip(ema.module.parameters(), start, model.parameters()):
        np.testing.assert_array_equal(avg.numpy(), old + (cur.numpy() - old) * np.float32(0.1))


# ---------------------------------------------------------------- transforms, per dataset item


def _image(channels=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (8, 6, channels), dtype=np.uint8)


def test_to_tensor_is_contiguous_channels_first_over_255():
    pic = _image()
    t = T.ToTensor()(pic)
    assert t.array.flags.c_contiguous and t.dtype == tg.float32
    np.testing.assert_array_equal(t.numpy(), pic.transpose(2, 0, 1).astype(np.float32) / np.float32(255))


def test_normalize_fast_path_matches_sub_then_div_bits():
    x = T.ToTensor()(_image())
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    for _ in range(2):                                  # the second call reads the cached stats
        out = T.Normalize(mean, std)(x)
        m = np.asarray(mean, np.float32).reshape(3, 1, 1)
        s = np.asarray(std, np.float32).reshape(3, 1, 1)
        np.testing.assert_array_equal(out.numpy(), (x.numpy() - m) / s)
        assert not out.requires_grad
    np.testing.assert_array_equal(x.numpy(), T.ToTensor()(_image()).numpy())   # input untouched


def test_normalize_keeps_the_graph_and_in_place_form():
    x = T.ToTensor()(_image()).requires_grad_()
    out = TF.normalize(x, [0.5] * 3, [0.25] * 3)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((3, 8, 6), 4.0, np.float32))
    y = T.ToTensor()(_image())
    assert TF.normalize(y, [0.5] * 3, [0.5] * 3, inplace=True) is y


def test_normalize_cache_tells_signed_zeros_apart_and_keeps_checks():
    x = tg.from_numpy(np.full((1, 2, 2), -0.0, np.float32))
    plus, minus = TF.normalize(x, (0.0,), (1.0,)), TF.normalize(x, (-0.0,), (1.0,))
    assert np.signbit(plus.numpy()).all() and not np.signbit(minus.numpy()).any()
    TF.normalize(T.ToTensor()(_image(3)), (0.5,) * 3, (0.5,) * 3)
    with pytest.raises(ShapeError):                     # same stats, a 1-channel image
        TF.normalize(T.ToTensor()(_image(1)), (0.5,) * 3, (0.5,) * 3)
    for _ in range(2):
        with pytest.raises(ConfigError):
            TF.normalize(T.ToTensor()(_image(1)), (0.5,), (0.0,))


# ---------------------------------------------------------------- TensorDataset batches
from tensorgan.utils.data import DataLoader, TensorDataset, default_collate  # noqa: E402


def _tensor_dataset():
    rng = np.random.default_rng(3)
    x = tg.from_numpy(rng.normal(size=(20, 2, 3)).astype(np.float32))
    return TensorDataset(x.transpose(1, 2),                      # a strided view
                         tg.from_numpy(np.arange(20)),            # int64, 1-d: 0-d items
                         rng.normal(size=(20, 4)).astype(np.float16),
                         rng.integers(0, 2, 20).astype(bool))


def test_tensor_dataset_batches_are_the_collated_items():
    ds = _tensor_dataset()
    loader = DataLoader(ds, batch_size=6, shuffle=True, seed=5)
    order = np.concatenate([batch[1].numpy() for batch in loader])
    assert sorted(order.tolist()) == list(range(20))
    start = 0
    for batch in DataLoader(ds, batch_size=6, shuffle=True, seed=5):
        rows = order[start:start + len(batch[1])]
        start += len(rows)
        expected = default_collate([ds[i] for i in rows.tolist()])
        assert isinstance(batch, list) and len(batch) == len(expected) == 4
        for got, want in zip(batch, expected):
            assert type(got) is type(want) and got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_tensor_dataset_that_requires_grad_collates_items():
    w = tg.from_numpy(np.ones((4, 2), np.float32)).requires_grad_()
    (x,) = next(iter(DataLoader(TensorDataset(w), batch_size=4)))
    x.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.ones((4, 2), np.float32))


# ---------------------------------------------------------------- out-of-place lerp, no graph
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weight", [0.001, 0.3, 0.5, 0.999, np.float32(0.999), 1.0, 2.0])
def test_lerp_without_graph_rounds_as_the_graph_form(dtype, weight):
    a, e = _pair(dtype)
    start, end = tg.from_numpy(a), tg.from_numpy(e[:1])            # end broadcasts
    with tg.no_grad():
        fast = start.lerp(end, weight)
    tracked = tg.from_numpy(a.copy()).requires_grad_()
    graph = tracked.lerp(end, weight)                              # sub, mul, add / sub ops
    assert graph.requires_grad and not fast.requires_grad
    assert fast.dtype == graph.dtype and fast.shape == graph.shape
    np.testing.assert_array_equal(fast.numpy(), graph.detach().numpy())
    np.testing.assert_array_equal(start.numpy(), a)                # inputs untouched


def test_lerp_without_graph_is_quiet_on_inf_and_keeps_float16():
    a = tg.from_numpy(np.array([np.inf, 1.0], np.float32))
    with tg.no_grad(), np.errstate(all="raise"):
        out = a.lerp(tg.from_numpy(np.array([np.inf, 3.0], np.float32)), 0.25)
    assert np.isnan(out.numpy()[0]) and out.numpy()[1] == 1.5
    h = tg.from_numpy(np.array([1.0, 2.0], np.float16))
    with tg.no_grad():
        assert h.lerp(tg.from_numpy(np.array([3.0, 5.0], np.float16)), 0.5).dtype == tg.float16


def test_random_split_parts_of_a_tensor_dataset_batch_as_their_items():
    from tensorgan.utils.data import DataLoader, TensorDataset, random_split, default_collate
    from tensorgan.data.combine import Subset
    x = tg.tensor(np.arange(40.0, dtype=np.float32).reshape(20, 2))
    y = tg.tensor(np.arange(20))
    train, val = random_split(TensorDataset(x, y), [15, 5], generator=tg.Generator().manual_seed(0))
    nested = Subset(train, [3, 0, -1, 7])                       # a Subset of a Subset, a negative index
    for part in (train, val, nested):
        loader = DataLoader(part, batch_size=4, shuffle=False)
        items = [part[i] for i in range(len(part))]
        got = [b for b in loader]
        want = [default_collate(items[i:i + 4]) for i in range(0, len(items), 4)]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            for a, b in zip(g, w):
                assert a.dtype == b.dtype and np.array_equal(a.numpy(), b.numpy())
    odd = Subset(TensorDataset(x, y), [tg.tensor(1), tg.tensor(2)])   # tensor indices: per item
    batch = next(iter(DataLoader(odd, batch_size=2)))
    assert np.array_equal(batch[1].numpy(), [1, 2])
