"""Device names and indices as torch's (session 28): a CUDA tensor's device prints 'cuda:0',
``tg.device('cuda')`` named without an index prints 'cuda'; device() argument checks.

The CUDA tensors here run under Numba's CUDA simulator where no GPU is usable (tests/conftest.py);
only moves and creations, no kernels, so the file stays fast.
"""
import io
import pickle

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DeviceError, DeviceTypeError


@pytest.fixture
def no_cuda(monkeypatch):
    """A machine without CUDA: device objects can still be built, as torch's."""
    import tensorgan.backend as backend
    monkeypatch.setattr(backend, "_devices", {})
    monkeypatch.setattr(backend, "cuda_status", lambda: (False, "no CUDA here"))


@pytest.mark.parametrize("args, name, index", [
    (("cuda",), "cuda", None), (("cuda:0",), "cuda:0", 0), (("cuda", 0), "cuda:0", 0),
    (("cpu",), "cpu", None), (("cpu:0",), "cpu:0", 0), (("cpu", 0), "cpu:0", 0),
])
def test_device_names_as_torch(args, name, index):
    d = tg.device(*args)
    assert (str(d), f"{d}", d.index, d.type) == (name, name, index, name.partition(":")[0])
    assert ("index=" in repr(d)) == (index is not None)
    assert str(pickle.loads(pickle.dumps(d))) == name


@pytest.mark.parametrize("args, name", [(("cuda",), "cuda"), (("cuda:0",), "cuda:0"), (("cuda", 0), "cuda:0")])
def test_device_names_without_cuda(no_cuda, args, name):
    assert str(tg.device(*args)) == name


def test_equality_and_hash_as_torch():
    cuda, cuda0 = tg.device("cuda"), tg.device("cuda:0")
    assert cuda != cuda0 and tg.device("cuda", 0) == cuda0 and tg.device("cpu") != tg.device("cpu:0")
    assert len({cuda, cuda0, tg.device("cuda", 0)}) == 2      # torch: 2


def test_cuda_tensor_device_is_indexed():
    x = tg.zeros(2, device="cuda")
    assert str(x.device) == "cuda:0" and f"{x.device}" == "cuda:0" and x.device == tg.device("cuda:0")
    assert "device='cuda:0'" in repr(x)                    # torch's tensor repr
    assert x.get_device() == 0 and tg.zeros(1).get_device() == -1 and str(tg.zeros(1).device) == "cpu"
    assert x.to(str(x.device)).device is x.device          # the printed name round-trips


@pytest.mark.parametrize("move", [
    lambda t: t.to("cuda:0"), lambda t: t.to(tg.device("cuda")), lambda t: t.cuda(),
    lambda t: t.cuda(0), lambda t: t.cuda("cuda:0"), lambda t: t.cuda(tg.device("cuda")),
])
def test_moves_to_cuda_print_cuda0(move):
    assert str(move(tg.ones(2)).device) == "cuda:0"


def test_module_to_cuda_state_dict_devices():
    model = tg.nn.Linear(2, 3).to("cuda")
    assert {str(v.device) for v in model.state_dict().values()} == {"cuda:0"}
    assert str(tg.nn.Linear(2, 3).cuda(0).weight.device) == "cuda:0"


def test_device_name_as_dict_key():
    """Code that keys by str(x.device) (logging, per-device caches) sees torch's names."""
    x = tg.ones(1, device="cuda")
    by_device = {"cuda:0": "gpu", "cpu": "host"}
    assert by_device[str(x.device)] == "gpu" and by_device[str(x.cpu().device)] == "host"


@pytest.mark.parametrize("map_location", [
    "cuda:0", "cuda", tg.device("cuda:0"), {"cpu": "cuda:0"}, lambda storage, loc: storage.cuda(),
])
def test_load_map_location_to_cuda(map_location):
    buf = io.BytesIO()
    tg.save({"w": tg.arange(3.0, device="cuda")}, buf)
    buf.seek(0)
    w = tg.load(buf, map_location=map_location)["w"]
    assert str(w.device) == "cuda:0" and np.array_equal(w.cpu().numpy(), [0.0, 1.0, 2.0])


def test_load_map_location_dict_keys_name_the_stored_device():
    buf = io.BytesIO()
    tg.save({"w": tg.ones(1)}, buf)
    buf.seek(0)     # the stored tensor is read onto the CPU: its key is 'cpu' (no 'cuda:0' match)
    assert str(tg.load(buf, map_location={"cuda:0": "cuda:0"})["w"].device) == "cpu"


def test_generator_cuda_device_is_indexed():
    assert str(tg.Generator("cuda").device) == "cuda:0" and str(tg.Generator().device) == "cpu"


def test_default_device_set_to_cuda_prints_indexed():
    tg.set_default_device("cuda")
    try:
        assert str(tg.get_default_device()) == "cuda:0" and str(tg.zeros(1).device) == "cuda:0"
    finally:
        tg.set_default_device(None)


def test_bare_index_names_the_accelerator():
    assert tg.device(0) == tg.device("cuda:0")


def test_bare_index_without_accelerator(no_cuda):
    with pytest.raises(DeviceError, match="accelerator"):
        tg.device(0)


@pytest.mark.parametrize("args, error, match", [
    (("cuda", "0"), DeviceTypeError, "must be an int.*str"),
    (("cuda", True), DeviceTypeError, "must be an int.*bool"),
    (("cuda", 1.0), DeviceTypeError, "must be an int.*float"),
    ((tg.device("cpu"), 0), DeviceTypeError, "device object"),
    (("cuda", -1), DeviceError, "must not be negative"),
    (("cuda:0", 0), DeviceError, "already has an index"),
    (("cuda:-1",), DeviceError, "invalid device string 'cuda:-1'"),
    (("cuda:x",), DeviceError, "invalid device string 'cuda:x'"),
    (("cpu:",), DeviceError, "invalid device string 'cpu:'"),
    (("cuda:1",), DeviceError, "no GPU with index 1"),
])
def test_device_argument_errors(args, error, match):
    with pytest.raises(error, match=match):
        tg.device(*args)


def test_argument_error_types_as_torch():
    assert issubclass(DeviceTypeError, TypeError) and issubclass(DeviceError, RuntimeError)
    assert tg.device("cuda", np.int64(0)) == tg.device("cuda:0")
