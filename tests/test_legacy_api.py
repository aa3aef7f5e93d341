"""torch's legacy constructors (``Tensor(2, 3)``, ``FloatTensor``, ``x.new``, ``x.type(...)``,
``Size``), ``device('cuda').index`` and the losses' deprecated ``size_average`` / ``reduce``
arguments, as torch has them (expected values from torch's documented rules, no torch import)."""
from __future__ import annotations

import inspect
import pickle
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import DTypeError, InputTypeError, ShapeError


# --- tg.Tensor(...) ------------------------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs, shape", [
    ((3, 4), {}, (3, 4)), ((5,), {}, (5,)), ((0,), {}, (0,)), ((), {}, (0,)),
    ((), {"size": (2, 3)}, (2, 3)), ((), {"size": 4}, (4,)), ((tg.Size([2, 3]),), {}, (2, 3)),
    ((np.int64(3),), {}, (3,)), ((tg.Size([]),), {}, ()),
])
def test_tensor_sizes_give_float32_zeros(args, kwargs, shape):
    t = tg.Tensor(*args, **kwargs)
    assert type(t) is tg.Tensor and t.shape == shape and t.dtype == np.float32
    assert not t.numpy().any() and not t.requires_grad


def test_tensor_data_is_default_float():
    assert tg.Tensor([1, 2]).dtype == np.float32 and tg.Tensor([1, 2]).numpy().tolist() == [1.0, 2.0]
    assert tg.Tensor([True, False]).numpy().tolist() == [1.0, 0.0]
    assert tg.Tensor(np.array([1, 2])).dtype == np.float32
    assert tg.Tensor(np.zeros(3)).dtype == np.float32                # float64 array: converted
    assert tg.Tensor(np.array(3.0)).shape == () and tg.Tensor([]).shape == (0,)
    assert tg.Tensor([[1, 2], [3, 4]]).shape == (2, 2)
    old = tg.get_default_dtype()
    try:
        tg.set_default_dtype(tg.float64)
        assert tg.Tensor(2).dtype == np.float64 and tg.Tensor([1]).dtype == np.float64
    finally:
        tg.set_default_dtype(old)


def test_tensor_shares_memory_as_torch():
    a = np.zeros(3, np.float32)
    t = tg.Tensor(a)                       # an array of the default dtype: shared
    t[0] = 1.0
    assert a[0] == 1.0
    x = tg.tensor([1, 2])                  # a tensor: its memory and its dtype
    y = tg.Tensor(x)
    assert y.dtype == np.int64 and y.array is x.array
    y.add_(1)
    assert x.numpy().tolist() == [2, 3] and x._version == y._version == 1
    w = tg.ones(3, requires_grad=True)
    r = w * 2
    alias = tg.Tensor(r)                   # an alias of a graph result counts as its view:
    r.mul_(3)                              # r is updated in its own memory, the alias sees it
    assert alias.tolist() == [6.0, 6.0, 6.0]


def test_tensor_extensions_and_errors():
    assert tg.Tensor([1, 2], dtype=tg.int64).dtype == np.int64
    assert tg.Tensor(2, 3, dtype=tg.float64).shape == (2, 3)
    assert tg.Tensor([1, 2], requires_grad=True).requires_grad
    for bad in (5.0, True, np.float32(1.0)):
        with pytest.raises(InputTypeError, match="must be a sequence"):
            tg.Tensor(bad)
    with pytest.raises(ShapeError, match="negative dimension"):
        tg.Tensor(-1)
    with pytest.raises(InputTypeError, match="takes sizes"):
        tg.Tensor(2.5, 3)
    with pytest.raises(InputTypeError, match="not both"):
        tg.Tensor(2, size=(2,))
    with pytest.raises(InputTypeError, match="requires_grad must be a bool"):
        tg.Tensor([1.0], requires_grad="yes")
    with pytest.raises(DTypeError, match="convert"):
        tg.Tensor(tg.tensor([1, 2]), dtype=tg.float32)


def test_library_constructors_keep_their_dtype():
    """tg.tensor / as_tensor / from_numpy infer the dtype (the library's own path, not Tensor's)."""
    assert tg.tensor([1, 2]).dtype == np.int64 and tg.as_tensor(np.zeros(2)).dtype == np.float64
    assert tg.from_numpy(np.zeros(2, np.int32)).dtype == np.int32
    assert nn.Parameter(np.zeros(2)).dtype == np.float64


# --- typed constructors ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls, dtype", [
    (tg.FloatTensor, np.float32), (tg.DoubleTensor, np.float64), (tg.HalfTensor, np.float16),
    (tg.LongTensor, np.int64), (tg.IntTensor, np.int32), (tg.ShortTensor, np.int16),
    (tg.CharTensor, np.int8), (tg.ByteTensor, np.uint8), (tg.BoolTensor, np.bool_),
])
def test_typed_constructors(cls, dtype):
    assert cls(2, 3).shape == (2, 3) and cls(2, 3).dtype == dtype
    assert cls().shape == (0,) and cls().dtype == dtype
    assert cls(size=(4,)).shape == (4,) and cls(tg.Size([1, 2])).shape == (1, 2)
    assert cls([1, 0]).dtype == dtype and cls([1, 0]).shape == (2,)
    x = cls([1, 0])
    assert isinstance(x, cls) and cls(x).array is x.array
    assert x.type() == "tensorgan." + cls.__name__
    assert tg.zeros(2).type(cls).dtype == dtype
    assert tg.zeros(2).type("torch." + cls.__name__).dtype == dtype


def test_typed_constructor_values_and_errors():
    assert tg.LongTensor([1.7, -2.7]).numpy().tolist() == [1, -2]     # truncation, as torch
    assert tg.BoolTensor([1, 0]).numpy().tolist() == [True, False]
    assert not isinstance(tg.zeros(2, dtype=tg.float64), tg.FloatTensor)
    with pytest.raises(DTypeError, match="LongTensor"):
        tg.LongTensor(tg.tensor([1.0, 2.0]))
    with pytest.raises(DTypeError, match="float64 tensor"):
        tg.FloatTensor(tg.zeros(2, dtype=tg.float64))


# --- x.new, x.type, Size --------------------------------------------------------------------------
def test_new():
    x = tg.zeros(2, dtype=tg.int64)
    assert x.new(2, 3).shape == (2, 3) and x.new(2, 3).dtype == np.int64
    assert x.new().shape == (0,) and x.new(size=(2, 1)).shape == (2, 1)
    assert x.new(tg.Size([2, 1])).shape == (2, 1) and x.new(x.size()).shape == (2,)
    assert x.new([1.5, 2]).numpy().tolist() == [1, 2]                  # x's dtype
    assert tg.zeros(2).new([1, 2]).dtype == np.float32
    assert x.new(x) is x
    with pytest.raises(DTypeError, match="convert"):
        x.new(tg.zeros(2))
    with pytest.raises(InputTypeError, match="not both"):
        x.new(2, size=(2,))


def test_type_conversions():
    x = tg.zeros(2, dtype=tg.int64)
    assert x.type(tg.Tensor).dtype == np.float32
    assert x.type("torch.DoubleTensor").dtype == np.float64
    assert x.type("tensorgan.ByteTensor").dtype == np.uint8
    assert x.type(tg.float64).dtype == np.float64
    assert x.type(tg.float32, non_blocking=True).dtype == np.float32
    assert tg.zeros(1, dtype=tg.float16).type() == "tensorgan.HalfTensor"
    for bad in ("torch.FooTensor", "numpy.FloatTensor"):
        with pytest.raises(DTypeError, match="invalid type"):
            x.type(bad)


def test_size():
    x = tg.zeros(2, 3, 4)
    s = x.size()
    assert isinstance(s, tg.Size) and isinstance(s, tuple) and s == (2, 3, 4)
    assert isinstance(s[1:], tg.Size) and s[1:] == (3, 4) and s[0] == 2 and type(s[0]) is int
    assert s.numel() == 24 and tg.Size([]).numel() == 1
    assert isinstance(s + (5,), tg.Size) and (1,) + s == (1, 2, 3, 4)
    assert repr(s) == "tensorgan.Size([2, 3, 4])"
    assert pickle.loads(pickle.dumps(s)) == s and isinstance(pickle.loads(pickle.dumps(s)), tg.Size)
    assert tg.Tensor(s).shape == (2, 3, 4) and x.size(1) == 3


# --- device('cuda').index --------------------------------------------------------------------------
def test_device_index_as_torch():
    assert tg.device("cuda").index is None
    assert tg.device("cuda:0").index == 0 and tg.device("cuda", 0).index == 0
    assert tg.device("cpu").index is None
    assert tg.device("cuda") != tg.device("cuda:0") and str(tg.device("cuda")) == "cuda"   # torch: unequal
    assert str(pickle.loads(pickle.dumps(tg.device("cuda")))) == "cuda"


def test_unindexed_cuda_device_resolves_to_the_one_device(monkeypatch):
    import tensorgan.backend as backend
    one = backend.Device("cuda", np, "tensorgan.kernels.cpu")        # a stand-in CUDA device
    monkeypatch.setattr(backend, "_devices", {"cuda": one, "cpu": backend.get_device("cpu")})
    d = tg.device("cuda")
    assert d.index is None and d is not one and d != one and d.type == one.type    # torch: unequal
    assert backend.get_device(d) is one and d.xp is np
    assert tg.device("cuda:0") is one and one.index == 0
    t = tg.zeros(2, device=d)
    assert t.device is one and t.device.index == 0


# --- losses' size_average / reduce -----------------------------------------------------------------
rng = np.random.default_rng(0)
N, C = 4, 5
_x, _y = rng.standard_normal((N, C)), rng.standard_normal((N, C))
_p, _t01 = 1 / (1 + np.exp(-_x)), rng.random((N, C))
_cls = rng.integers(0, C, N)
_sgn = np.where(rng.random(N) > 0.5, 1.0, -1.0)
_sgnNC = np.where(rng.random((N, C)) > 0.5, 1.0, -1.0)
_logp = _x - np.log(np.exp(_x).sum(1, keepdims=True))
_ml = np.full((N, C), -1)
_ml[:, 0] = _cls

# name: (inputs, module, the module's arguments before size_average, the parameter list of torch's
# F.name and nn.Module.__init__ -- torch 2.x's signatures)
LOSSES = {
    "mse_loss": ((_x, _y), "MSELoss", (), "input target size_average reduce reduction weight",
                 "size_average reduce reduction"),
    "l1_loss": ((_x, _y), "L1Loss", (), "input target size_average reduce reduction weight",
                "size_average reduce reduction"),
    "smooth_l1_loss": ((_x, _y), "SmoothL1Loss", (), "input target size_average reduce reduction beta",
                       "size_average reduce reduction beta"),
    "kl_div": ((_logp, _p), "KLDivLoss", (), "input target size_average reduce reduction log_target",
               "size_average reduce reduction log_target"),
    "soft_margin_loss": ((_x, _sgnNC), "SoftMarginLoss", (), "input target size_average reduce reduction",
                         "size_average reduce reduction"),
    "binary_cross_entropy": ((_p, _t01), "BCELoss", (None,),
                             "input target weight size_average reduce reduction",
                             "weight size_average reduce reduction"),
    "binary_cross_entropy_with_logits": ((_x, _t01), "BCEWithLogitsLoss", (None,),
                                         "input target weight size_average reduce reduction pos_weight",
                                         "weight size_average reduce reduction pos_weight"),
    "cross_entropy": ((_x, _cls), "CrossEntropyLoss", (None,),
                      "input target weight size_average ignore_index reduce reduction label_smoothing",
                      "weight size_average ignore_index reduce reduction label_smoothing"),
    "nll_loss": ((_logp, _cls), "NLLLoss", (None,),
                 "input target weight size_average ignore_index reduce reduction",
                 "weight size_average ignore_index reduce reduction"),
    "multilabel_soft_margin_loss": ((_x, (_sgnNC > 0) * 1.0), "MultiLabelSoftMarginLoss", (None,),
                                    "input target weight size_average reduce reduction",
                                    "weight size_average reduce reduction"),
    "cosine_embedding_loss": ((_x, _y, _sgn), "CosineEmbeddingLoss", (0.0,),
                              "input1 input2 target margin size_average reduce reduction",
                              "margin size_average reduce reduction"),
    "margin_ranking_loss": ((_x[:, 0], _y[:, 0], _sgn), "MarginRankingLoss", (0.0,),
                            "input1 input2 target margin size_average reduce reduction",
                            "margin size_average reduce reduction"),
    "hinge_embedding_loss": ((_x, _sgnNC), "HingeEmbeddingLoss", (1.0,),
                             "input target margin size_average reduce reduction",
                             "margin size_average reduce reduction"),
    "poisson_nll_loss": ((_x, np.abs(_y)), "PoissonNLLLoss", (True, False),
                         "input target log_input full size_average eps reduce reduction",
                         "log_input full size_average eps reduce reduction"),
    "triplet_margin_loss": ((_x, _y, _p), "TripletMarginLoss", (1.0, 2.0, 1e-6, False),
                            "anchor positive negative margin p eps swap size_average reduce reduction",
                            "margin p eps swap size_average reduce reduction"),
    "multi_margin_loss": ((_x, _cls), "MultiMarginLoss", (1, 1.0, None),
                          "input target p margin weight size_average reduce reduction",
                          "p margin weight size_average reduce reduction"),
    "multilabel_margin_loss": ((_x, _ml), "MultiLabelMarginLoss", (),
                               "input target size_average reduce reduction", "size_average reduce reduction"),
}
LEGACY = [(None, False, "none"), (True, False, "none"), (False, False, "none"), (False, None, "sum"),
          (False, True, "sum"), (True, None, "mean"), (None, True, "mean"), (True, True, "mean")]


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_signatures_are_torchs(name):
    _, module, _, f_params, m_params = LOSSES[name]
    assert list(inspect.signature(getattr(F, name)).parameters) == f_params.split()
    assert list(inspect.signature(getattr(nn, module).__init__).parameters)[1:] == m_params.split()


def _inputs(name):
    return [tg.tensor(a) for a in LOSSES[name][0]]


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides:UserWarning")  # torch's kl_div warning
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_size_average_and_reduce_map_to_a_reduction_with_torchs_warning(name):
    _, module, before, *_ = LOSSES[name]
    fn = getattr(F, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")             # the plain path warns of nothing
        warnings.filterwarnings("ignore", message="reduction: 'mean' divides")  # (but kl_div's, as torch)
        want = {r: fn(*_inputs(name), reduction=r).numpy() for r in ("none", "mean", "sum")}
        assert getattr(nn, module)().reduction == "mean"
    np.testing.assert_allclose(want["sum"], want["none"].sum())
    for size_average, reduce, reduction in LEGACY:
        msg = f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead."
        with pytest.warns(UserWarning, match=msg.replace("(", r"\(").replace(".", r"\.")):
            got = fn(*_inputs(name), size_average=size_average, reduce=reduce, reduction="sum")
        np.testing.assert_array_equal(got.numpy(), want[reduction])
        positional = [*before, size_average] + ([-100] if module in ("CrossEntropyLoss", "NLLLoss") else
                                                 [1e-8] if module == "PoissonNLLLoss" else []) + [reduce]
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            m = getattr(nn, module)(*positional)
        assert m.reduction == reduction
        np.testing.assert_array_equal(m(*_inputs(name)).numpy(), want[reduction])


def test_legacy_arguments_checked():
    x, y = tg.tensor(_x), tg.tensor(_y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(F.mse_loss(x, y, "sum").numpy(), ((_x - _y) ** 2).sum())  # older form
        assert nn.MSELoss("sum").reduction == "sum"
    with pytest.raises(InputTypeError, match="reduction='mean' by keyword"):
        F.smooth_l1_loss(x, y, "mean", 0.5)              # older (reduction, beta) positionally
    with pytest.raises(InputTypeError, match="size_average must be a bool"):
        F.mse_loss(x, y, 0.5)
    with pytest.raises(InputTypeError, match="reduce must be a bool"):
        F.l1_loss(x, y, None, "sum")


def test_bce_with_logits_loss_weight_and_pos_weight():
    x, t = tg.tensor(_x), tg.tensor(_t01)
    w, pw = tg.tensor(rng.random((N, C))), tg.tensor(rng.random(C) * 3)
    m = nn.BCEWithLogitsLoss(w, pos_weight=pw)
    assert set(dict(m.named_buffers())) == {"weight", "pos_weight"}
    log_s, log_1ms = -np.log1p(np.exp(-_x)), -np.log1p(np.exp(_x))
    want = -(w.numpy() * (pw.numpy() * _t01 * log_s + (1 - _t01) * log_1ms)).mean()
    np.testing.assert_allclose(m(x, t).item(), want, rtol=1e-12)
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(x, t, w, pos_weight=pw).item(), want,
                               rtol=1e-12)
    assert nn.BCEWithLogitsLoss("sum").reduction == "sum"       # older BCEWithLogitsLoss(reduction)


def test_variable_without_data_is_an_empty_float_tensor():
    v = tg.autograd.Variable()
    assert v.shape == (0,) and v.dtype == np.float32 and not v.requires_grad
    assert tg.autograd.Variable(requires_grad=True).requires_grad
