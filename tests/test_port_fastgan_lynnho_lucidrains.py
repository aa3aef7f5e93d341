"""Finds of the FastGAN / LynnHo DCGAN-LSGAN-WGAN-GP-DRAGAN / lucidrains stylegan2-pytorch port
sweep (session 23): torch.utils.data's submodule import paths, a caller's sampler drawn as the
loader consumes it (FastGAN's endless InfiniteSamplerWrapper), and autograd misuse errors that are
RuntimeErrors as torch's."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.data import loader as loader_module
from tensorgan.errors import AutogradError, ConfigError
from tensorgan.utils.data import DataLoader, Dataset, Sampler


class _Items(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return tg.full((1,), float(i))


class _Endless(Sampler):
    """FastGAN's InfiniteSamplerWrapper: a fresh permutation every pass, forever (len 2**31)."""

    def __init__(self, n, seed=0):
        self.n, self.rng = n, np.random.default_rng(seed)

    def __iter__(self):
        while True:
            yield from self.rng.permutation(self.n).tolist()

    def __len__(self):
        return 2 ** 31


class _Counting(Sampler):
    def __init__(self, order):
        self.order, self.drawn = order, 0

    def __iter__(self):
        for i in self.order:
            self.drawn += 1
            yield i

    def __len__(self):
        return len(self.order)


def _values(batch):
    return batch.numpy().ravel().tolist()


def test_torch_utils_data_submodule_import_paths():
    import tensorgan.utils.data as data
    from tensorgan.utils.data._utils.collate import default_collate
    from tensorgan.utils.data.dataloader import DataLoader as DL
    from tensorgan.utils.data.dataset import Dataset as DS, TensorDataset
    from tensorgan.utils.data.sampler import BatchSampler, RandomSampler
    assert DL is data.DataLoader and DS is data.Dataset and TensorDataset is data.TensorDataset
    assert data.sampler.Sampler is data.Sampler and RandomSampler is data.RandomSampler
    assert BatchSampler is data.BatchSampler
    assert default_collate is data.default_collate is data._utils.collate.default_collate
    assert data.dataloader.get_worker_info() is None


def test_endless_sampler_batches_come_as_torch_draws_them():
    perm = np.random.default_rng(0)
    expected = np.concatenate([perm.permutation(5) for _ in range(3)])[:8].astype(float)
    it = iter(DataLoader(_Items(5), batch_size=2, sampler=_Endless(5)))
    got = [_values(next(it)) for _ in range(4)]
    np.testing.assert_array_equal(np.ravel(got), expected)


def test_caller_sampler_is_drawn_as_batches_are_consumed():
    sampler = _Counting([4, 3, 2, 1, 0])
    it = iter(DataLoader(_Items(5), batch_size=2, sampler=sampler))
    assert sampler.drawn == 0
    assert _values(next(it)) == [4.0, 3.0]
    assert sampler.drawn == 2
    assert _values(next(it)) == [2.0, 1.0]
    assert sampler.drawn == 4


def test_state_dict_mid_epoch_with_caller_sampler_holds_the_whole_order():
    loader = DataLoader(_Items(5), batch_size=2, sampler=_Counting([4, 3, 2, 1, 0]))
    it = iter(loader)
    assert _values(next(it)) == [4.0, 3.0]
    state = loader.state_dict()
    assert state["order"].tolist() == [4, 3, 2, 1, 0] and state["position"] == 2
    assert [_values(b) for b in it] == [[2.0, 1.0], [0.0]]
    again = DataLoader(_Items(5), batch_size=2, sampler=_Counting([4, 3, 2, 1, 0]))
    again.load_state_dict(state)
    assert [_values(b) for b in again] == [[2.0, 1.0], [0.0]]


def test_state_dict_of_an_endless_sampler_mid_epoch_is_refused(monkeypatch):
    monkeypatch.setattr(loader_module._LazyOrder, "_DRAIN_LIMIT", 50)
    loader = DataLoader(_Items(5), batch_size=2, sampler=_Endless(5))
    it = iter(loader)
    next(it)
    with pytest.raises(ConfigError, match="_Endless.*endless"):
        loader.state_dict()


def test_custom_batch_sampler_generator_is_drawn_lazily():
    def batches():
        k = 0
        while True:
            yield [k % 3, (k + 1) % 3]
            k += 1
    it = iter(DataLoader(_Items(3), batch_sampler=batches()))
    assert [_values(next(it)) for _ in range(3)] == [[0.0, 1.0], [1.0, 2.0], [2.0, 0.0]]


def test_detach_in_place_of_a_tracked_view_is_a_runtime_error():
    w = tg.randn(3, requires_grad=True)
    view = (w * 2)[1:]
    with pytest.raises(RuntimeError, match="detach_"):
        view.detach_()
    with pytest.raises(AutogradError):
        (w * 2)[1:].detach_()


def test_post_accumulate_grad_hook_on_a_non_leaf_is_a_runtime_error():
    w = tg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_an_endless_sampler_iterates_in_bounded_memory(monkeypatch):
    # past _KEEP_LIMIT indices the consumed batches are let go (no growth over a long run) and a
    # mid-epoch state_dict() says why it cannot be taken
    monkeypatch.setattr(loader_module._LazyOrder, "_KEEP_LIMIT", 20)
    loader = DataLoader(_Items(5), batch_size=2, sampler=_Endless(5))
    it = iter(loader)
    rng = np.random.default_rng(0)
    stream = np.concatenate([rng.permutation(5) for _ in range(90)]).astype(float)
    seen = [_values(next(it)) for _ in range(200)]
    assert seen == stream[:400].reshape(200, 2).tolist()
    assert len(loader._order._batches) <= 12, len(loader._order._batches)
    with pytest.raises(ConfigError, match="not checkpointed mid-epoch"):
        loader.state_dict()
    assert _values(next(it)) == stream[400:402].tolist()   # iteration goes on after the refusal
