"""Gaps found porting PyTorch's beginner tutorials (basics/, blitz/, nn_tutorial) to tensorgan:
each test is one thing a tutorial does that tensorgan got wrong or refused."""
import copy
import pickle

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DeviceError, DTypeError, InputTypeError, TensorganError
from tensorgan.utils.data import DataLoader, Dataset, TensorDataset


def test_like_constructors_take_dtype_and_device():
    ints = tg.tensor([[1, 2], [3, 4]])
    r = tg.rand_like(ints, dtype=tg.float)                  # tensorqs: overrides the int dtype
    assert r.dtype == np.float32 and r.shape == (2, 2) and ((r.numpy() >= 0) & (r.numpy() < 1)).all()
    assert tg.randn_like(ints, dtype=tg.double).dtype == np.float64
    assert tg.zeros_like(ints, dtype=tg.float).dtype == np.float32
    o = tg.ones_like(ints, dtype=tg.double, device="cpu")
    assert o.dtype == np.float64 and o.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    f = tg.full_like(ints, 2.5, dtype=tg.float)
    assert f.dtype == np.float32 and f.tolist() == [[2.5, 2.5], [2.5, 2.5]]
    assert tg.ones_like(ints).dtype == np.int64                         # its own unless given
    with pytest.raises(InputTypeError, match="expected a Tensor"):
        tg.zeros_like(np.zeros(3))


def test_new_constructors_take_dtype_device_requires_grad():
    x = tg.zeros(5, 3, dtype=tg.long)
    y = x.new_ones(5, 3, dtype=tg.double)                   # blitz tensor tutorial
    assert y.dtype == np.float64 and y.shape == (5, 3) and y.numpy().sum() == 15
    assert x.new_zeros(2, dtype=tg.float, requires_grad=True).requires_grad
    f = x.new_full((2, 2), 7, dtype=tg.float)
    assert f.dtype == np.float32 and f.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert x.new_ones(2).dtype == np.int64
    with pytest.raises(DTypeError, match="float tensors"):
        x.new_zeros(2, requires_grad=True)


def test_out_argument_of_function_forms():
    t = tg.ones(4, 4)
    t[:, 1] = 0
    y3 = tg.rand_like(t)
    r = tg.matmul(t, t.T, out=y3)                           # tensorqs
    assert r is y3 and np.array_equal(y3.numpy(), np.full((4, 4), 3.0, np.float32))
    z3 = tg.rand_like(t)
    view = z3.numpy()
    assert tg.mul(t, t, out=z3) is z3 and np.array_equal(view, t.numpy())   # in its own memory
    res = tg.zeros(2)
    tg.add(tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0]), out=res)
    assert res.tolist() == [4.0, 6.0]
    grown = tg.zeros(0)
    tg.pow(tg.tensor([2.0, 3.0]), 2, out=grown)             # resized to the result, as torch
    assert grown.tolist() == [4.0, 9.0]
    with pytest.raises(DTypeError, match="cannot be written"):
        tg.mul(t, 0.5, out=tg.zeros(4, 4, dtype=tg.long))
    with pytest.raises(TensorganError, match="automatic differentiation"):
        tg.mul(tg.ones(2, requires_grad=True), 2.0, out=tg.zeros(2))
    with tg.no_grad():
        assert tg.mul(tg.ones(2, requires_grad=True), 2.0, out=tg.zeros(2)).tolist() == [2.0, 2.0]


def test_numpy_shares_memory_on_the_cpu():
    t = tg.ones(5)
    n = t.numpy()
    t.add_(1)                                               # tensorqs: the change shows in n
    assert n.tolist() == [2.0] * 5
    n[0] = 9.0                                              # and the other way
    assert t.tolist()[0] == 9.0
    w = tg.ones(3, requires_grad=True)                      # torch refuses; here a copy
    w.numpy()[0] = 5.0
    assert w.tolist() == [1.0, 1.0, 1.0]
    assert np.shares_memory(w.detach().numpy(), w.array)


def test_state_dict_shares_the_buffers_memory_as_torch():
    bn = tg.nn.BatchNorm1d(2)
    sd = bn.state_dict()
    snapshot = copy.deepcopy(sd)                            # torch's idiom for a snapshot
    bn(tg.randn(8, 2, seed=0) + 3.0)                        # updates running_mean in place
    assert np.array_equal(snapshot["running_mean"], np.zeros(2, np.float32))
    assert not np.array_equal(bn.running_mean.numpy(), np.zeros(2, np.float32))
    assert np.array_equal(sd["running_mean"].numpy(), bn.running_mean.numpy())


def test_device_object_for_cuda_without_cuda(monkeypatch):
    import tensorgan.backend as backend
    monkeypatch.setattr(backend, "_devices", {})          # a machine without CUDA
    monkeypatch.setattr(backend, "cuda_status", lambda: (False, "no CUDA here"))
    d = tg.device("cuda")                                   # tensorqs builds it on any machine
    assert str(d) == "cuda" and d.type == "cuda" and d != "cuda" and d.index is None and d != "cpu"    # torch's index
    assert tg.device("cuda", 0) != d and tg.device("cuda", 0).index == 0 and tg.device("cpu").index is None
    assert pickle.loads(pickle.dumps(d)) == d
    with pytest.raises(DeviceError, match="not available"):
        tg.zeros(2, device=d)
    with pytest.raises(DeviceError, match="not available"):
        tg.ones(2).to(d)
    with pytest.raises(DeviceError, match="unknown device"):
        tg.device("tpu")
    with pytest.raises(DeviceError, match="already has an index"):
        tg.device("cuda:0", 0)


class Items(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return np.float32(i), i


def test_torch_utils_data_loader_has_torchs_defaults():
    loader = DataLoader(Items())
    assert loader.batch_size == 1 and not loader.shuffle and not loader.drop_last
    batches = [y.tolist() for _, y in DataLoader(Items(), batch_size=4)]
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]  # in order, the last partial batch kept
    loader = DataLoader(Items(), 4, True, seed=0)           # torch's positional order: shuffle third
    seen = sorted(i for _, y in loader for i in y.tolist())
    assert loader.shuffle and seen == list(range(10))


def test_torch_utils_data_every_iter_is_a_fresh_pass():
    loader = DataLoader(TensorDataset(tg.arange(10)), batch_size=4)
    for (first,) in loader:                                 # quickstart: peek at one batch, break
        break
    assert first.tolist() == [0, 1, 2, 3]
    assert [b.tolist() for (b,) in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    next(iter(loader))
    assert len(list(loader)) == 3
    it = iter(loader)
    next(it)
    state = loader.state_dict()                             # a saved pass resumes after loading
    again = DataLoader(TensorDataset(tg.arange(10)), batch_size=4)
    again.load_state_dict(state)
    assert [b.tolist() for (b,) in again] == [[4, 5, 6, 7], [8, 9]]
    assert len(list(again)) == 3


def test_gan_loader_keeps_its_defaults():
    from tensorgan.data import DataLoader as GANLoader
    loader = GANLoader(Items(), batch_size=4, seed=0)
    assert loader.shuffle and loader.drop_last and len(loader) == 2
