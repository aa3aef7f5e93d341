"""What porting pytorch/examples' language_translation, snli, mnist_hogwild, imagenet and
distributed/ddp-tutorial-series to tensorgan needed: torch.multiprocessing's names with a clear
refusal of the hogwild pattern, torch.distributed / DistributedSampler / DDP for a one-process
group, and torch.load's callable / dict ``map_location``."""
import importlib
import multiprocessing as std_mp

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import DeviceError, InputTypeError


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x)


def _noop(*args):
    return None


def _put_sum(q, arr):
    q.put(float(np.asarray(arr).sum()))


def _fail(rank):
    raise SystemExit(3)


# --- tensorgan.multiprocessing ---------------------------------------------------------------

def test_multiprocessing_import_paths_and_stdlib_names():
    mp = importlib.import_module("tensorgan.multiprocessing")
    assert tg.multiprocessing is mp
    assert mp.cpu_count() == std_mp.cpu_count()
    assert mp.Queue is std_mp.Queue and mp.set_start_method is std_mp.set_start_method
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()
    mp.set_sharing_strategy("file_system")
    assert mp.get_sharing_strategy() == "file_system"
    mp.set_sharing_strategy("file_descriptor")
    with pytest.raises(ValueError, match="unknown strategy"):
        mp.set_sharing_strategy("shm")


def test_process_refuses_a_model_it_would_train_a_copy_of():
    import tensorgan.multiprocessing as mp
    model = Net().share_memory()      # torch's hogwild: share_memory() then Process(args=(.., model))
    with pytest.raises(InputTypeError, match=r"args\[2\] is a tensorgan Module \(Net\).*private copy"):
        mp.Process(target=_noop, args=(0, None, model))
    with pytest.raises(InputTypeError, match=r"kwargs\['m'\]"):
        mp.Process(target=_noop, kwargs={"m": model})
    with pytest.raises(InputTypeError, match="Module"):           # inside a container
        mp.Process(target=_noop, args=({"nets": [model]},))
    with pytest.raises(InputTypeError, match="requires grad"):
        mp.Process(target=_noop, args=(tg.ones(2, requires_grad=True),))
    with pytest.raises(InputTypeError, match="Module"):
        mp.get_context("spawn").Process(target=_noop, args=(model,))
    with pytest.raises(InputTypeError, match="multiprocessing.spawn"):
        mp.spawn(_noop, args=(model,), nprocs=1)


def test_process_with_data_only_runs():
    import tensorgan.multiprocessing as mp
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_put_sum, args=(q, np.arange(4.0)))    # plain data passes
    p.start()
    assert q.get(timeout=60) == 6.0
    p.join(60)
    assert p.exitcode == 0
    assert mp.spawn(_noop, args=(tg.ones(2),), nprocs=2, start_method="fork") is None
    with pytest.raises(mp.ProcessExitedException, match="exit code 3") as info:
        mp.spawn(_fail, nprocs=1, start_method="fork")
    assert info.value.exit_code == 3 and info.value.error_index == 0


def test_tensor_share_memory_is_a_noop_returning_self():
    t = tg.ones(3)
    assert t.share_memory_() is t and not t.is_shared()


# --- tg.load map_location --------------------------------------------------------------------

def test_load_map_location_callable_and_dict(tmp_path):
    path = tmp_path / "ck.pt"
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    tg.save({"w": w, "best": tg.tensor(3.0), "epoch": 2}, path)
    seen = []

    def keep(storage, loc):               # torch's idiom: lambda storage, loc: storage
        seen.append(loc)
        return storage

    ck = tg.load(path, map_location=keep)
    assert sorted(seen) == ["cpu", "cpu"]
    assert ck["epoch"] == 2 and float(ck["best"]) == 3.0
    assert ck["w"].requires_grad and ck["w"].is_leaf
    np.testing.assert_array_equal(np.asarray(ck["w"].detach()), [1.0, 2.0])
    doubled = tg.load(path, map_location=lambda s, loc: s * 2)
    assert float(doubled["best"]) == 6.0
    stay = tg.load(path, map_location=lambda s, loc: None)   # None: the default location
    assert float(stay["best"]) == 3.0
    mapped = tg.load(path, map_location={"cuda:1": "cuda:0"})   # names not held: stay put
    assert str(mapped["w"].device) == "cpu" and float(mapped["best"]) == 3.0
    with pytest.raises(InputTypeError, match="must return a Tensor or None"):
        tg.load(path, map_location=lambda s, loc: 5)


# --- tensorgan.distributed, DistributedSampler, DDP ------------------------------------------

@pytest.fixture
def one_process_group():
    import tensorgan.distributed as dist
    dist.init_process_group("gloo", rank=0, world_size=1)
    yield dist
    dist.destroy_process_group()


def test_distributed_before_init():
    import tensorgan.distributed as dist
    assert not dist.is_available() and not dist.is_initialized()
    with pytest.raises(ValueError, match="not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="not been initialized"):
        dist.all_reduce(tg.ones(2))
    with pytest.raises(DeviceError, match="world_size=2"):
        dist.init_process_group("gloo", rank=0, world_size=2)
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="not been initialized"):
        nn.parallel.DistributedDataParallel(Net())
    with pytest.raises(ValueError, match="num_replicas / rank"):
        tg.utils.data.DistributedSampler(range(4))


def test_one_process_group_collectives(one_process_group):
    dist = one_process_group
    assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
    assert dist.get_backend() == "gloo"
    with pytest.raises(ValueError, match="twice"):
        dist.init_process_group("gloo")
    t = tg.tensor([1.0, 2.0])
    assert dist.all_reduce(t, dist.ReduceOp.SUM) is None
    np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0])
    assert dist.all_reduce(t, async_op=True).wait()
    out = [tg.zeros(2)]
    dist.all_gather(out, t)
    np.testing.assert_array_equal(np.asarray(out[0]), [1.0, 2.0])
    with pytest.raises(ValueError, match="world_size"):
        dist.all_gather([tg.zeros(2), tg.zeros(2)], t)
    objs = [None]
    dist.all_gather_object(objs, {"a": 1})
    assert objs == [{"a": 1}]
    dist.barrier()


def test_ddp_on_one_process_runs_the_module(one_process_group):
    net = Net()
    ddp = nn.parallel.DistributedDataParallel(net, device_ids=[0])
    x = tg.ones(4, 3)
    np.testing.assert_array_equal(np.asarray(ddp(x).detach()), np.asarray(net(x).detach()))
    assert sorted(ddp.state_dict()) == ["module.fc.bias", "module.fc.weight"]
    assert ddp.module is net
    with ddp.no_sync():
        ddp(x).sum().backward()
    assert net.fc.weight.grad is not None
    sampler = tg.utils.data.DistributedSampler(range(5), shuffle=False)   # from the group
    assert (sampler.num_replicas, sampler.rank, list(sampler)) == (1, 0, [0, 1, 2, 3, 4])


def test_distributed_sampler_partition_rules():
    from tensorgan.utils.data.distributed import DistributedSampler   # torch's import path
    data = range(10)
    parts = [list(DistributedSampler(data, num_replicas=3, rank=r, shuffle=False)) for r in range(3)]
    # padded to 12 by wrapping around (0, 1), then every third index from each rank
    assert parts == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
    assert len(DistributedSampler(data, num_replicas=3, rank=0, shuffle=False)) == 4
    dropped = [list(DistributedSampler(data, num_replicas=3, rank=r, shuffle=False, drop_last=True))
               for r in range(3)]
    assert dropped == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    # more padding than data: the index list repeats
    assert list(DistributedSampler(range(2), num_replicas=5, rank=4, shuffle=False)) == [0]
    # shuffled: the replicas share one permutation (same seed + epoch) and cover the data
    s = [DistributedSampler(data, num_replicas=2, rank=r, seed=7) for r in range(2)]
    first = [list(x) for x in s]
    assert sorted(first[0] + first[1]) == list(range(10))
    assert first[0] == list(DistributedSampler(data, num_replicas=2, rank=0, seed=7))
    for x in s:
        x.set_epoch(1)
    second = [list(x) for x in s]
    assert sorted(second[0] + second[1]) == list(range(10)) and second != first
    with pytest.raises(ValueError, match="Invalid rank 3"):
        DistributedSampler(data, num_replicas=3, rank=3)
    loader = tg.utils.data.DataLoader(list(range(10)), batch_size=2,
                                      sampler=DistributedSampler(data, num_replicas=2, rank=1,
                                                                 shuffle=False))
    assert [b.tolist() for b in loader] == [[1, 3], [5, 7], [9]]
