"""Port sweep (session 23, helper i): SNGAN projection, pSp, TUNIT, gans-with-pytorch.

Each test pins one gap the ports hit; expected values come from first principles / NumPy."""
import itertools

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.utils.data as data
from tensorgan.errors import ConfigError


class _Items:
    def __init__(self, n):
        self.x = np.arange(n, dtype=np.float32)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], i


class _Endless(data.sampler.Sampler):
    """pytorch-AdaIN's InfiniteSamplerWrapper (used by SNGAN-projection's train_64.py)."""

    def __init__(self, n):
        self.n = n
        self.pulled = 0

    def __iter__(self):
        def gen():
            i = 0
            while True:
                self.pulled += 1
                yield i % self.n
                i += 1
        return gen()

    def __len__(self):
        return 2 ** 31


def test_torch_utils_data_submodules():
    import tensorgan.utils.data.dataloader as dl
    from tensorgan.utils.data.dataset import Dataset, Subset
    from tensorgan.utils.data.sampler import BatchSampler, Sampler
    assert dl.DataLoader is data.DataLoader and dl.default_collate is data.default_collate
    assert data.sampler.Sampler is Sampler is data.Sampler
    assert BatchSampler is data.BatchSampler and Dataset is data.Dataset and Subset is data.Subset


def test_endless_sampler_is_pulled_lazily():
    ds = _Items(5)
    sampler = _Endless(5)
    it = iter(data.DataLoader(ds, 3, sampler=sampler, num_workers=0))
    batches = [next(it) for _ in range(4)]
    got = np.concatenate([b[1].numpy() for b in batches])
    np.testing.assert_array_equal(got, np.arange(12) % 5)
    assert sampler.pulled <= 13          # only what the 4 batches needed (torch pulls lazily)
    with pytest.raises(ConfigError, match="endless"):
        loader = data.DataLoader(ds, 3, sampler=_Endless(5))
        from tensorgan.data import loader as loader_mod
        old = loader_mod._LazyOrder._DRAIN_LIMIT
        loader_mod._LazyOrder._DRAIN_LIMIT = 50
        try:
            next(iter(loader))
            loader.state_dict()
        finally:
            loader_mod._LazyOrder._DRAIN_LIMIT = old


def test_finite_caller_sampler_still_resumes_mid_epoch():
    class Rev(data.Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n - 1, -1, -1))

        def __len__(self):
            return self.n

    ds = _Items(7)
    loader = data.DataLoader(ds, 2, sampler=Rev(7))
    it = iter(loader)
    first = next(it)[1].numpy().tolist()
    state = loader.state_dict()
    rest = [b[1].numpy().tolist() for b in it]
    assert first == [6, 5] and rest == [[4, 3], [2, 1], [0]]
    again = data.DataLoader(ds, 2, sampler=Rev(7))
    again.load_state_dict(state)
    assert [b[1].numpy().tolist() for b in again] == rest
    # the next pass starts over from the sampler
    assert [b[1].numpy().tolist() for b in itertools.islice(iter(loader), 2)] == [[6, 5], [4, 3]]


def test_autograd_variable_module_path():
    # gans-with-pytorch (CT-GAN, RaLSGAN): ``from torch.autograd.variable import Variable``
    from tensorgan.autograd.variable import Variable
    w = tg.ones(3, requires_grad=True)
    y = w * 2
    v = Variable(y, requires_grad=True)        # a new leaf on y's values (torch detaches)
    assert v.is_leaf and v.requires_grad and v.grad_fn is None
    (v * v).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), [4.0, 4.0, 4.0])
    assert w.grad is None


def test_normalize_refuses_stats_wider_than_the_image():
    # gans-with-pytorch cgan: Normalize((0.5,)*3, (0.5,)*3) on 1-channel MNIST; torchvision
    # normalizes a clone in place, so this is its "output with shape [1, 28, 28] doesn't match
    # the broadcast shape [3, 28, 28]" error, not a silently 3-channel image.
    from tensorgan.errors import ShapeError
    import tensorgan.vision.transforms as T
    img = tg.tensor(np.full((1, 2, 2), 0.75, np.float32))
    with pytest.raises(ShapeError, match=r"\[1, 2, 2\].*\[3, 2, 2\]"):
        T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))(img)
    np.testing.assert_allclose(T.Normalize((0.5,), (0.5,))(img).numpy(), np.full((1, 2, 2), 0.5))
    batch = tg.tensor(np.ones((2, 3, 2, 2), np.float32))
    out = T.Normalize((0.5, 0.25, 0.0), (0.5, 0.5, 1.0))(batch).numpy()
    np.testing.assert_allclose(out[:, :, 0, 0], [[1.0, 1.5, 1.0]] * 2)


def test_vision_image_backend():
    # TUNIT's datasets/custom_dataset.py: ``from torchvision import get_image_backend``
    import tensorgan.vision as tv
    assert tv.get_image_backend() == "PIL"
    tv.set_image_backend("PIL")
    with pytest.raises(ConfigError, match="accimage"):
        tv.set_image_backend("accimage")
    with pytest.raises(ConfigError, match="invalid backend 'cv2'"):
        tv.set_image_backend("cv2")
    assert tv.get_image_backend() == "PIL"


def test_subset_with_nonzero_column_indices():
    # TUNIT: Subset(dataset, (targets == k).nonzero()) -- (N, 1) int64 indices, each a
    # one-element tensor used as the dataset index.
    ds = _Items(6)
    targets = tg.tensor([0, 1, 0, 1, 1, 0])
    idx = tg.cat(((targets == 1).nonzero()[:-1], (targets == 0).nonzero()[:1]))
    assert tuple(idx.shape) == (3, 1)
    sub = data.Subset(ds, idx)
    assert [int(sub[i][1]) for i in range(len(sub))] == [1, 3, 0]
    xs, ys = next(iter(data.DataLoader(sub, batch_size=3)))
    assert ys.numpy().ravel().tolist() == [1, 3, 0]
