"""Session 29: API differences from torch 2.13 closed (devices, checkpoints, schedulers,
parametrizations, datasets)."""
import tensorgan as tg


# -- a device is never equal to a string, as torch's -----------------------------------------
def test_device_never_equals_a_string():
    # torch 2.13: device('cuda:0') == 'cuda', == 'cuda:0' and device('cpu') == 'cpu' are all False
    assert not tg.device("cuda:0") == "cuda" and not tg.device("cuda:0") == "cuda:0"
    assert tg.device("cpu") != "cpu" and "cpu" != tg.device("cpu")
    assert tg.device("cpu") == tg.device("cpu") and tg.zeros(1).device.type == "cpu"
    assert str(tg.zeros(1).device) == "cpu" and str(tg.device("cuda:0")) == "cuda:0"


# -- tg.save / tg.load: tagged values torch.save takes, and each tensor's saved device --------
import io  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tensorgan import checkpoint  # noqa: E402
from tensorgan.errors import CheckpointError, DeviceError  # noqa: E402


def _round_trip(obj, **load_kwargs):
    buf = io.BytesIO()
    tg.save(obj, buf)
    buf.seek(0)
    return tg.load(buf, **load_kwargs)


def _cuda_usable() -> bool:
    try:
        tg.ones(1, device="cuda")
    except DeviceError:
        return False
    return True


needs_cuda = pytest.mark.skipif(not _cuda_usable(), reason="no CUDA device (not even the simulator)")


def test_save_round_trips_complex_bytes_set_dtype_device():
    obj = {"c": 1 + 2j, "nan": complex(float("nan"), -0.5), "np": np.complex64(1 - 1j),
           "b": b"a\x00b", "ba": bytearray(b"xy"), "s": {1, "a", (1, 2), 2.5}, "empty": set(),
           "dt": tg.float16, "bf": tg.bfloat16, "i64": tg.int64, "dev": tg.device("cuda:0"),
           "cpu": tg.device("cpu"), "z": tg.tensor([1 + 2j, -3j])}
    back = _round_trip(obj)
    assert back["c"] == 1 + 2j and type(back["c"]) is complex and back["np"] == 1 - 1j
    assert np.isnan(back["nan"].real) and back["nan"].imag == -0.5
    assert back["b"] == b"a\x00b" and type(back["b"]) is bytes
    assert back["ba"] == bytearray(b"xy") and type(back["ba"]) is bytearray
    assert back["s"] == {1, "a", (1, 2), 2.5} and back["empty"] == set() and type(back["empty"]) is set
    assert back["dt"] is tg.float16 or back["dt"] == tg.float16
    assert back["bf"] is tg.bfloat16 and back["i64"] == tg.int64
    assert str(back["dev"]) == "cuda:0" and back["dev"].index == 0 and back["cpu"] == tg.device("cpu")
    np.testing.assert_array_equal(back["z"].numpy(), [1 + 2j, -3j])


def test_save_checkpoint_sets_of_tuples_come_back_hashable(tmp_path):
    checkpoint.save_checkpoint(tmp_path / "c.npz", {"s": {(1, 2), (3,)}})   # tuples -> JSON lists
    assert checkpoint.load_checkpoint(tmp_path / "c.npz")["s"] == {(1, 2), (3,)}


def test_save_refuses_frozenset_and_tag_names_as_keys():
    with pytest.raises(CheckpointError, match="frozenset"):
        tg.save({"f": frozenset({1})}, io.BytesIO())
    with pytest.raises(CheckpointError, match="__set__"):
        tg.save({"__set__": 1}, io.BytesIO())


@pytest.mark.parametrize("meta, what", [
    ('{"__dtype__": "object"}', "__dtype__"), ('{"__dtype__": 3}', "__dtype__"),
    ('{"__device__": "tpu"}', "__device__"), ('{"__complex__": [1]}', "__complex__"),
    ('{"__bytes__": "missing"}', "__bytes__"), ('{"__set__": [[1, {"a": 1}]]}', "__set__"),
    ('{"__tensor__": "t", "device": 0}', "device"),
])
def test_corrupt_tags_are_checkpoint_errors(meta, what):
    with pytest.raises(CheckpointError, match=what):
        checkpoint.decode(meta, {"t": np.zeros(2)})


def test_old_files_without_device_tags_still_load():
    meta = '{"format": "tensorgan-checkpoint", "format_version": 1, "saved_object": {"w": {"__tensor__": "w"}}}'
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.array(meta), w=np.arange(3.0))
    seen = []
    buf.seek(0)
    w = tg.load(buf, map_location=lambda t, loc: seen.append(loc))["w"]
    assert seen == ["cpu"] and str(w.device) == "cpu" and w.tolist() == [0.0, 1.0, 2.0]


@needs_cuda
def test_load_map_location_sees_the_saved_device():
    buf = io.BytesIO()
    tg.save({"g": tg.arange(3.0, device="cuda"), "c": tg.ones(2)}, buf)
    buf.seek(0)
    assert '"device": "cuda:0"' in str(np.load(buf)["__meta__"])
    for location in (None, {"cuda:0": "cpu"}):      # None: tensorgan loads onto the CPU
        buf.seek(0)
        back = tg.load(buf, map_location=location)
        assert str(back["g"].device) == "cpu" and str(back["c"].device) == "cpu"
    buf.seek(0)
    back = tg.load(buf, map_location={"cpu": "cuda:0"})     # unmapped: where it was saved
    assert str(back["g"].device) == "cuda:0" and str(back["c"].device) == "cuda:0"
    seen = {}
    buf.seek(0)
    tg.load(buf, map_location=lambda t, loc: seen.setdefault(loc, t))
    assert set(seen) == {"cuda:0", "cpu"} and seen["cuda:0"].tolist() == [0.0, 1.0, 2.0]


def test_cuda_map_location_without_a_gpu_names_the_missing_gpu(monkeypatch):
    import tensorgan.backend as backend        # a machine without CUDA
    monkeypatch.setattr(backend, "_devices", {})
    monkeypatch.setattr(backend, "cuda_status", lambda: (False, "no CUDA here"))
    for location in ("cuda", "cuda:0", tg.device("cuda"), {"cpu": "cuda:0"}):
        with pytest.raises(DeviceError, match="no usable GPU is present"):
            _round_trip({"w": tg.ones(1)}, map_location=location)
    with pytest.raises(tg.errors.DTypeError, match="not a device"):     # not about a GPU
        _round_trip({"w": tg.ones(1)}, map_location="tpu")


# -- schedulers and clipping as torch's -------------------------------------------------------
def _sgd(lr=1.0, momentum=0.0):
    return tg.optim.SGD([tg.nn.Parameter(tg.zeros(1))], lr=lr, momentum=momentum)


def _lrs(opt, sched, steps):
    out = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(opt.param_groups[0]["lr"])
    return out


def test_multisteplr_milestone_zero_applies_from_the_start():
    opt = _sgd()
    lrs = _lrs(opt, tg.optim.lr_scheduler.MultiStepLR(opt, [0, 2], 0.1), 3)
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.01, 0.01])     # torch 2.13's values
    with pytest.raises(tg.ConfigError, match=r"milestones\[0\]"):
        tg.optim.lr_scheduler.MultiStepLR(_sgd(), [-1, 2])


def test_cycliclr_scale_mode_is_unused_without_scale_fn():
    opt = _sgd(momentum=0.9)
    sched = tg.optim.lr_scheduler.CyclicLR(opt, 0.1, 1.0, step_size_up=2, scale_mode=None)
    assert sched.scale_mode == "cycle"
    np.testing.assert_allclose(_lrs(opt, sched, 4)[1:], [0.55, 1.0, 0.55, 0.1])   # triangular
    with pytest.raises(tg.ConfigError, match="scale_mode"):
        tg.optim.lr_scheduler.CyclicLR(_sgd(momentum=0.9), 0.1, 1.0, scale_fn=lambda x: 1.0,
                                       scale_mode=None)


def test_clip_grad_norm_nan_norm_makes_gradients_nan_as_torch():
    a, b = tg.nn.Parameter(tg.tensor([1.0, 2.0])), tg.nn.Parameter(tg.tensor([3.0, 4.0]))
    a.grad, b.grad = tg.tensor([float("nan"), 1.0]), tg.tensor([1.0, 1.0])
    for max_norm in (1.0, 1e10):                # the scale is NaN whatever max_norm is
        assert np.isnan(tg.nn.utils.clip_grad_norm_([a, b], max_norm).item())
        assert np.isnan(a.grad.numpy()).all() and np.isnan(b.grad.numpy()).all()
    with pytest.raises(RuntimeError, match="nan"):
        tg.nn.utils.clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)
    c = tg.nn.Parameter(tg.tensor([3.0, 4.0]))
    c.grad = tg.tensor([3.0, 4.0])
    tg.nn.utils.clip_grad_norm_([c], 10.0)      # a finite norm below max_norm: left as it was
    assert c.grad.tolist() == [3.0, 4.0]


# -- nn.utils.parametrizations.orthogonal ------------------------------------------------------
orthogonal = tg.nn.utils.parametrizations.orthogonal
MAPS = ["matrix_exp", "cayley", "householder"]


def _orthogonality_error(W) -> float:
    """max |Q^T Q - I| (tall) or |Q Q^T - I| (wide) over a batch of matrices."""
    W = np.asarray(W).reshape(-1, *W.shape[-2:])
    return max(np.abs((w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T) - np.eye(min(w.shape))).max()
               for w in W)


def _layer(kind):
    return {"tall": lambda: tg.nn.Linear(3, 5, dtype="float64"),
            "wide": lambda: tg.nn.Linear(6, 4, dtype="float64"),
            "conv": lambda: tg.nn.Conv2d(2, 3, 3, dtype="float64")}[kind]()


@pytest.mark.parametrize("kind", ["tall", "wide", "conv"])
@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("trivialization", [True, False])
def test_orthogonal_stays_orthogonal_while_training(kind, orthogonal_map, trivialization):
    tg.manual_seed(0)
    layer = orthogonal(_layer(kind), orthogonal_map=orthogonal_map, use_trivialization=trivialization)
    keys = set(layer.state_dict())
    assert ("parametrizations.weight.0.base" in keys) == trivialization
    assert "parametrizations.weight.original" in keys and "weight" not in keys
    assert _orthogonality_error(layer.weight.detach().numpy()) < 1e-12
    opt = tg.optim.SGD(layer.parameters(), lr=0.05)
    shape = (2, 2, 5, 5) if kind == "conv" else (2, layer.in_features)
    rng = np.random.default_rng(0)
    before = layer.weight.detach().numpy().copy()
    for _ in range(3):
        opt.zero_grad()
        (layer(tg.tensor(rng.standard_normal(shape))) ** 2).sum().backward()
        opt.step()
    after = layer.weight.detach().numpy()
    assert np.abs(after - before).max() > 1e-3          # it trained ...
    assert _orthogonality_error(after) < 1e-10          # ... on the orthogonal matrices


def test_orthogonal_starts_from_the_weight_made_orthogonal():
    layer = tg.nn.Linear(3, 3, dtype="float64")
    A = np.array([[2.0, 1, 0], [0, 3, 1], [1, 0, 1]])
    layer.weight = tg.nn.Parameter(tg.tensor(A))
    orthogonal(layer)
    Q, R = np.linalg.qr(A)
    Q = Q * np.sign(np.diag(R))                      # the QR with diag(R) > 0
    np.testing.assert_allclose(layer.weight.detach().numpy(), Q, atol=1e-12)
    assert layer.parametrizations.weight[0].orthogonal_map == "matrix_exp"     # square default
    assert orthogonal(tg.nn.Linear(3, 5)).parametrizations.weight[0].orthogonal_map == "householder"


@pytest.mark.parametrize("orthogonal_map, trivialization", [
    ("matrix_exp", True), ("cayley", True), ("householder", True), ("householder", False)])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_orthogonal_assigning_an_orthogonal_matrix_stores_it(orthogonal_map, trivialization, shape):
    layer = orthogonal(tg.nn.Linear(shape[1], shape[0], dtype="float64"),
                       orthogonal_map=orthogonal_map, use_trivialization=trivialization)
    Q = np.linalg.qr(np.random.default_rng(1).standard_normal((max(shape), min(shape))))[0]
    Q = Q if shape[0] >= shape[1] else Q.T
    layer.weight = tg.tensor(Q)
    np.testing.assert_allclose(layer.weight.detach().numpy(), Q, atol=1e-12)


def test_orthogonal_errors_name_what_is_wrong():
    with pytest.raises(tg.errors.NoRightInverseError, match="use_trivialization=False"):
        orthogonal(tg.nn.Linear(3, 3), use_trivialization=False).weight = tg.eye(3)
    layer = orthogonal(tg.nn.Linear(3, 4))
    with pytest.raises(ValueError, match=r"shape \(4, 3\), got a tensor of shape \(3, 4\)"):
        layer.weight = tg.zeros(3, 4)
    with pytest.raises(ValueError, match="matrix or batch of matrices"):
        orthogonal(tg.nn.BatchNorm1d(3))
    with pytest.raises(ValueError, match='"matrix_exp", "cayley", "householder", got \'qr\''):
        orthogonal(tg.nn.Linear(3, 3), orthogonal_map="qr")
    complex_layer = tg.nn.Linear(3, 3)
    complex_layer.weight = tg.nn.Parameter(tg.zeros(3, 3, dtype=tg.complex128))
    with pytest.raises(ValueError, match="householder parametrization does not support complex"):
        orthogonal(complex_layer, orthogonal_map="householder")
    with pytest.raises(NotImplementedError, match="unitary"):
        orthogonal(complex_layer)


def test_geqrf_is_lapacks():
    A = np.random.default_rng(2).standard_normal((2, 5, 3))
    a, tau = tg.geqrf(tg.tensor(A))
    h, t = np.linalg.qr(A, mode="raw")
    np.testing.assert_allclose(a.numpy(), np.swapaxes(h, -1, -2))
    np.testing.assert_allclose(tau.numpy(), t)
    Q = tg.linalg.householder_product(a, tau).numpy()
    np.testing.assert_allclose(Q @ np.triu(a.numpy())[..., :3, :], A, atol=1e-12)
    assert not tg.tensor(A, requires_grad=True).geqrf().a.requires_grad


# -- spectral_norm: an old-layout state dict that also holds a v is upgraded ------------------
def test_spectral_norm_old_layout_with_v_and_no_metadata_is_upgraded():
    tg.manual_seed(0)
    layer = tg.nn.utils.spectral_norm(tg.nn.Linear(4, 3, dtype="float64"))
    layer(tg.randn(2, 4, dtype="float64"))                  # a training forward: u, v, weight
    old = {k: v.clone() for k, v in layer.state_dict().items()}     # a plain dict: no metadata
    old["weight"] = layer.weight.detach().clone()           # the old layout's normalized weight
    old["weight_v"] = tg.ones(4, dtype="float64")           # a stale v: solved again (torch's)
    fresh = tg.nn.utils.spectral_norm(tg.nn.Linear(4, 3, dtype="float64"))
    fresh.load_state_dict(old)
    fresh.eval()
    fresh(tg.zeros(1, 4, dtype="float64"))
    np.testing.assert_allclose(fresh.weight.detach().numpy(), old["weight"].numpy(), atol=1e-12)
    current = {k: v for k, v in old.items() if k != "weight"}    # current layout: v kept as is
    fresh.load_state_dict(current)
    assert fresh.weight_v.tolist() == [1.0] * 4


# -- utils.data.Dataset is torch's plain base class --------------------------------------------
def test_dataset_is_an_instantiable_base_class():
    Dataset = tg.utils.data.Dataset
    with pytest.raises(NotImplementedError, match="should implement __getitem__"):
        Dataset()[0]

    class Squares(Dataset[int]):                 # torch's generic form
        def __getitem__(self, i):
            return i * i

        def __len__(self):
            return 3

    td = tg.utils.data.TensorDataset(tg.arange(3))
    joined = Squares() + td
    assert [joined[i] for i in range(3)] == [0, 1, 4] and len(joined) == 6
    for ds in (td, joined, tg.utils.data.Subset(td, [0]), tg.data.ArrayDataset(np.zeros((1, 1, 2, 2), np.uint8))):
        assert isinstance(ds, Dataset)
    assert not isinstance([1, 2], Dataset)
    assert next(iter(tg.utils.data.DataLoader(Squares(), batch_size=3))).tolist() == [0, 1, 4]


def test_a_dataset_subclass_holding_images_without_getitem_is_batched_as_images():
    class Images(tg.utils.data.Dataset):        # the tensorgan dataset contract, no __getitem__
        name, labels, image_shape = "images", None, (1, 2, 2)
        images = np.full((4, 1, 2, 2), 255, np.uint8)

        def __len__(self):
            return 4

    images, labels = next(iter(tg.data.DataLoader(Images(), batch_size=2)))
    assert images.shape == (2, 1, 2, 2) and labels is None and float(images.max()) == 1.0
