"""Gaps found porting PyTorch's beginner tutorials (basics/data, buildmodel, optimization,
saveloadrun; blitz/neural_networks, cifar10; examples_tensor / examples_autograd / examples_nn)
to tensorgan: each test is one thing those programs do that tensorgan got wrong or refused."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DeviceError, IndexOutOfRangeError, ShapeError


# -- torch.accelerator: the device line the current tutorials open with ----------------------
def test_accelerator_device_idiom_without_an_accelerator(monkeypatch):
    accelerator = tg.accelerator
    monkeypatch.setattr(accelerator, "cuda_status", lambda: (False, "no GPU here"))
    device = tg.accelerator.current_accelerator().type if tg.accelerator.is_available() else "cpu"
    assert device == "cpu"
    assert tg.accelerator.is_available() is False
    assert tg.accelerator.current_accelerator() is None
    assert tg.accelerator.current_accelerator(check_available=True) is None
    assert tg.accelerator.device_count() == 0
    with pytest.raises(DeviceError, match="none is available.*no GPU here"):
        tg.accelerator.current_device_index()
    with pytest.raises(RuntimeError, match="none is available"):      # torch's RuntimeError
        tg.accelerator.synchronize()
    tg.accelerator.empty_cache()                                      # a no-op, as torch's
    with tg.accelerator.device_index(None):                           # None: nothing to check
        pass


def test_accelerator_reports_cuda_where_it_is_usable(monkeypatch):
    accelerator = tg.accelerator
    monkeypatch.setattr(accelerator, "cuda_status", lambda: (True, "CuPy on CUDA device 0"))
    monkeypatch.setattr(accelerator, "simulator_enabled", lambda: True)   # no CuPy calls
    assert tg.accelerator.is_available() is True
    assert tg.accelerator.current_accelerator().type == "cuda"
    assert tg.accelerator.device_count() == 1
    assert tg.accelerator.current_device_index() == 0 == tg.accelerator.current_device_idx()
    tg.accelerator.set_device_index(0)
    tg.accelerator.synchronize()
    with pytest.raises(DeviceError, match="out of range"):
        tg.accelerator.set_device_index(1)


# -- scatter / gather with a 0-d index (transforms' one-hot target_transform) ----------------
def test_scatter_with_a_0d_index_makes_a_one_hot_vector():
    y = 3
    one_hot = tg.zeros(10, dtype=tg.float).scatter_(0, tg.tensor(y), value=1)
    assert one_hot.tolist() == [0.0] * 3 + [1.0] + [0.0] * 6
    assert tg.zeros(5).scatter(0, tg.tensor(1), tg.tensor(7.0)).tolist() == [0, 7, 0, 0, 0]
    assert tg.zeros(5).scatter(0, tg.tensor(1), tg.tensor([7.0, 8.0])).tolist() == [0, 7, 0, 0, 0]
    assert tg.zeros(5).scatter_add(0, tg.tensor(4), tg.tensor(2.0)).tolist() == [0, 0, 0, 0, 2]
    with pytest.raises(IndexOutOfRangeError, match="index 10 is out of bounds"):
        tg.zeros(10).scatter_(0, tg.tensor(10), value=1)


def test_gather_with_a_0d_index_gives_a_0d_result_and_its_gradient():
    x = tg.arange(5.0, requires_grad=True)
    g = tg.gather(x, 0, tg.tensor(2))
    assert g.shape == () and g.item() == 2.0
    g.backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    with pytest.raises(ShapeError, match="as many dims as the input \\(2\\)"):
        tg.zeros(2, 3).gather(0, tg.tensor(1))                     # torch refuses this too


def test_in_place_op_keeps_the_ops_own_typed_error():
    # was: InputTypeError "scatter_: the value is not a number (... index must have ...)"
    with pytest.raises(ShapeError, match="index must have as many dims") as info:
        tg.zeros(5).scatter_(0, tg.tensor([[1]]), value=1)
    assert "not a number" not in str(info.value)
    with pytest.raises(IndexOutOfRangeError):
        tg.zeros(5).scatter_(0, tg.tensor([7]), value=1)


# -- grad_fn.next_functions (blitz/neural_networks walks the graph back) ---------------------
def test_grad_fn_next_functions_walks_the_graph_back():
    lin = tg.nn.Linear(3, 2)
    x = tg.ones(4, 3)
    target = tg.zeros(4, 2)
    h = lin(x)
    r = tg.relu(h)
    loss = (r - target).pow(2).mean()
    nodes, node = [], loss.grad_fn
    while node is not None and node.next_functions:
        nodes.append(node)
        node = node.next_functions[0][0]
    assert nodes[-1] is h.grad_fn                      # loss -> ... -> relu -> linear
    assert r.grad_fn in nodes
    sub = next(n for n in nodes if n.next_functions and len(n.next_functions) == 2)
    assert sub.next_functions[1] == (None, 0)          # the target: a tensor autograd ignores
    from tensorgan.tensor import AccumulateGrad
    leaves = [f for f, _ in h.grad_fn.next_functions if isinstance(f, AccumulateGrad)]
    assert {id(f.variable) for f in leaves} == {id(lin.weight), id(lin.bias)}
    assert all(f.next_functions == () and f.name() == "torch::autograd::AccumulateGrad" for f in leaves)
    assert loss.grad_fn.name() == "MeanBackward0" and type(loss.grad_fn).__name__ == "Mean"   # torch's node name
    loss.backward()
    # backward frees what the nodes saved, not their edges (torch's): Mean saved nothing
    assert [f.name() for f, _ in loss.grad_fn.next_functions] == ["PowBackward0"]


# -- DataLoader: a user's map dataset holding uint8 images is read through its __getitem__ ----
class _CIFARLike:
    """A torchvision-CIFAR10-like dataset: uint8 (N, H, W, C) images, int targets, a transform."""

    def __init__(self, transform=None):
        rng = np.random.default_rng(0)
        self.images = rng.integers(0, 256, size=(6, 4, 4, 3), dtype=np.uint8)
        self.targets = [0, 1, 2, 3, 4, 5]
        self.transform = transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        img = self.images[i]
        if self.transform is not None:
            img = self.transform(img)
        return img, self.targets[i]


def _to_chw_tensor(img):
    return tg.tensor(np.ascontiguousarray(img.transpose(2, 0, 1)).astype(np.float32) / 255.0)


@pytest.mark.parametrize("loader_cls", ["utils", "gan"])
def test_map_dataset_with_uint8_images_attribute_uses_its_getitem(loader_cls):
    ds = _CIFARLike(transform=_to_chw_tensor)
    if loader_cls == "utils":
        loader = tg.utils.data.DataLoader(ds, batch_size=4, shuffle=False, num_workers=2)
    else:
        loader = tg.data.DataLoader(ds, 4, shuffle=False, drop_last=False)
    images, labels = next(iter(loader))
    assert images.shape == (4, 3, 4, 4)                # the transform's C x H x W, not (N,H,W,C) as NCHW
    assert labels.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(images.numpy()[1], ds.images[1].transpose(2, 0, 1) / 255.0, rtol=1e-6)


def test_default_collate_keeps_string_fields_as_torch():
    from tensorgan.utils.data import default_collate
    items = [("a.png", 0), ("b.png", 1)]                # (file name, label) items
    names, labels = default_collate(items)
    assert names == ("a.png", "b.png") and isinstance(names, tuple)   # torch: the field's tuple
    assert labels.tolist() == [0, 1]
    assert default_collate(["x", "y"]) == ["x", "y"]                  # top level: the batch list
    assert default_collate([{"k": "u"}, {"k": "v"}]) == {"k": ["u", "v"]}


def test_gather_and_scatter_on_a_0d_input_count_it_as_1d():
    x = tg.tensor(4.0, requires_grad=True)
    g = x.gather(0, tg.tensor([0, 0]))
    assert g.tolist() == [4.0, 4.0]
    g.sum().backward()
    assert x.grad.item() == 2.0
    assert tg.tensor(4.0).gather(-1, tg.tensor(0)).shape == ()
    s = tg.tensor(4.0).scatter(0, tg.tensor(0), 9.0)
    assert s.shape == () and s.item() == 9.0
    y = tg.tensor(4.0)
    y.scatter_(0, tg.tensor(0), value=2.0)
    assert y.item() == 2.0
    assert tg.tensor(4.0).scatter_add(0, tg.tensor([0, 0]), tg.tensor([1.0, 2.0])).item() == 7.0
    assert tg.tensor(4.0).scatter_reduce(0, tg.tensor([0]), tg.tensor([1.0]), "amax").item() == 4.0
    with pytest.raises(ShapeError, match="dim 1 is out of range for a 0-d input"):
        tg.tensor(4.0).gather(1, tg.tensor(0))
    with pytest.raises(IndexOutOfRangeError, match="index 1 is out of bounds"):
        tg.tensor(4.0).gather(0, tg.tensor(1))
