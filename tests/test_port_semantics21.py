"""torch semantics found by the session-21 compatibility sweep (torch 2.13 is the spec; the
expected values here are written from its documented rules, not imported)."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F

NAN = float("nan")


def _grad_of(fn, x_values, upstream, dtype=tg.float32):
    x = tg.tensor(x_values, dtype=dtype, requires_grad=True)
    y = fn(x)
    y.backward(tg.tensor(np.full(y.shape, upstream), dtype=dtype))
    return x.grad.numpy()


# -- 1. piecewise backward is a select: a NaN gradient into a dead unit gives 0, not NaN -------

@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_relu_backward_nan_upstream_is_zero_in_dead_units(dtype):
    g = _grad_of(F.relu, [-1.0, 0.0, 2.0, -0.0, 7.0], NAN, dtype)
    assert np.array_equal(np.isnan(g), [False, False, True, False, True])
    assert (g[[0, 1, 3]] == 0).all()
    g = _grad_of(lambda t: t.relu(), [-1.0, 3.0], math.inf, dtype)      # inf * 0 is NaN too
    assert g[0] == 0 and g[1] == math.inf


def test_relu_backward_nan_input_passes_gradient():
    # torch's threshold_backward: x <= 0 ? 0 : g, so relu(NaN) passes its gradient
    assert np.array_equal(_grad_of(F.relu, [NAN, -1.0, 1.0], 1.0), [1.0, 0.0, 1.0])


def test_clamp_backward_nan_upstream_is_zero_outside():
    g = _grad_of(lambda t: t.clamp(-0.5, 1.0), [-1.0, 0.0, 2.0, 1.0], NAN)
    assert np.array_equal(np.isnan(g), [False, True, False, True]) and g[0] == 0 and g[2] == 0
    g = _grad_of(lambda t: t.clamp(min=0.0), [-1.0, 0.0, 2.0], NAN)      # bound included
    assert g[0] == 0 and np.isnan(g[1:]).all()
    g = _grad_of(lambda t: t.clamp(max=1.0), [-1.0, 2.0], NAN)
    assert np.isnan(g[0]) and g[1] == 0


def test_max_pool2d_backward_nan_upstream_only_reaches_the_max():
    x = tg.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], requires_grad=True)
    y = F.max_pool2d(x, 2)
    y.backward(tg.full(y.shape, NAN))
    g = x.grad.numpy().ravel()
    assert (g[:3] == 0).all() and np.isnan(g[3])


def test_full_max_backward_nan_upstream_only_reaches_the_max():
    x = tg.tensor([1.0, 4.0, 2.0], requires_grad=True)
    x.max().backward(tg.tensor(NAN))
    g = x.grad.numpy()
    assert g[0] == 0 and g[2] == 0 and np.isnan(g[1])


def test_select_backward_is_exact_on_finite_gradients():
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        xv = rng.standard_normal((4, 3, 5, 6)).astype(dtype)
        gv = rng.standard_normal(xv.shape).astype(dtype)
        x = tg.tensor(xv, requires_grad=True)
        F.relu(x).backward(tg.tensor(gv))
        assert np.array_equal(x.grad.numpy(), np.where(xv > 0, gv, 0).astype(dtype))


# -- 2. relu / clamp keep the sign of zero as torch (max(0, -0.0) is -0.0 there) --------------

def test_relu_of_negative_zero_is_negative_zero():
    for y in (F.relu(tg.tensor([-0.0, 0.0])), tg.relu(tg.tensor([-0.0, 0.0], dtype=tg.float64)),
              tg.tensor([-0.0, 0.0]).relu_(), tg.tensor([-0.0, 0.0]).clamp(min=0.0),
              tg.tensor([-0.0, 0.0]).clamp(0.0, 1.0)):
        assert np.array_equal(np.signbit(y.numpy()), [True, False])
    assert np.isnan(F.relu(tg.tensor([NAN])).item())
    assert np.isnan(tg.tensor([NAN]).clamp(0.0, 1.0).item())


def test_select_into_a_strided_out():
    from tensorgan.select_kernels import select
    out = np.zeros((4, 2))
    select(np, np.arange(1.0, 5.0), np.array([True, False, True, True]), out=out[:, 0])
    assert out.tolist() == [[1, 0], [0, 0], [3, 0], [4, 0]]


# -- 4. torch's keyword names of the shape methods ---------------------------------------------

def test_shape_methods_take_torchs_keywords():
    x = tg.arange(6.0).reshape(2, 3)
    t = x.numpy()
    cases = [
        (x.permute(dims=(1, 0)), t.T), (tg.permute(input=x, dims=[1, 0]), t.T),
        (x.reshape(shape=(3, 2)), t.reshape(3, 2)), (tg.reshape(x, shape=(3, 2)), t.reshape(3, 2)),
        (x.view(size=(3, 2)), t.reshape(3, 2)), (x.view(-1), t.ravel()),
        (x[:1].expand(size=(2, 3)), np.broadcast_to(t[:1], (2, 3))),
        (x.repeat(repeats=(2, 1)), np.tile(t, (2, 1))), (x.flip(dims=(0,)), t[::-1]),
        (x.transpose(dim0=0, dim1=1), t.T), (x.sum(dim=0, keepdim=True), t.sum(0, keepdims=True)),
        (tg.cat(tensors=[x, x], dim=0), np.concatenate([t, t])), (tg.stack(tensors=[x, x]), np.stack([t, t])),
    ]
    for got, want in cases:
        assert np.array_equal(got.numpy(), want)
    assert [p.shape for p in x.split(split_size=1, dim=0)] == [(1, 3), (1, 3)]
    assert [p.shape for p in tg.split(x, split_size_or_sections=[1, 2], dim=1)] == [(2, 1), (2, 2)]
    assert [p.shape for p in tg.split(tensor=x, split_size_or_sections=2)] == [(2, 3)]


def test_shape_keyword_and_positional_together_is_refused():
    x = tg.arange(6.0)
    for call in (lambda: x.reshape((3, 2), shape=(3, 2)), lambda: x.view(6, size=(6,)),
                 lambda: x.reshape(2, 3).permute(1, 0, dims=(1, 0)), lambda: x.repeat(2, repeats=(2,)),
                 lambda: x[:1].expand(3, size=(3,))):
        with pytest.raises(tg.InputTypeError, match="multiple values"):
            call()


# -- 5. the legacy constructor reads a tuple as data (only ints / a Size / size= are a shape) ---

def test_legacy_constructors_read_a_tuple_as_data():
    assert tg.Tensor((2, 3)).tolist() == [2.0, 3.0] and tg.Tensor([2, 3]).tolist() == [2.0, 3.0]
    assert tg.Tensor((2,)).tolist() == [2.0] and tg.Tensor(()).shape == (0,)
    assert tg.FloatTensor((2, 3)).tolist() == [2.0, 3.0]
    labels = tuple(zip(*[(0, 5.0), (4, 1.0)]))[0]            # zip(*batch): a tuple of ints
    assert tg.LongTensor(labels).tolist() == [0, 4]
    assert tg.zeros(1).new((2, 3)).tolist() == [2.0, 3.0]
    # shapes: separate ints, a Size, size=
    assert tg.Tensor(2, 3).shape == (2, 3) and tg.Tensor(tg.Size([2, 3])).shape == (2, 3)
    assert tg.Tensor(size=(2, 3)).shape == (2, 3) and tg.Tensor(size=()).shape == ()
    assert tg.Tensor(tg.zeros(4, 5).size()).shape == (4, 5)


# -- 6. devices are equal when type and index are: device('cuda') is not device('cuda:0') ------

def test_device_equality_includes_the_index(monkeypatch):
    import pickle

    import tensorgan.backend as backend
    monkeypatch.setattr(backend, "_devices", {})                      # no CUDA here
    monkeypatch.setattr(backend, "cuda_status", lambda: (False, "no CUDA here"))
    assert tg.device("cuda") != tg.device("cuda:0") and tg.device("cuda:0") == tg.device("cuda", 0)
    assert len({tg.device("cuda"), tg.device("cuda:0")}) == 2
    assert pickle.loads(pickle.dumps(tg.device("cuda:0"))).index == 0
    assert tg.device("cpu") != tg.device("cpu:0") and tg.device("cpu:0").index == 0
    assert tg.zeros(1, device="cpu:0").device == tg.device("cpu")     # a tensor's CPU: no index
    assert tg.zeros(1).device == tg.device("cpu") and str(tg.device("cpu")) == "cpu"


# -- 7. isinstance(t, tg.FloatTensor) is True for CPU tensors only, as torch ---------------------

def test_legacy_type_isinstance_tells_cpu_from_cuda(monkeypatch):
    import tensorgan.backend as backend
    fake_cuda = backend.Device("cuda", np, "tensorgan.kernels.cpu")      # a stand-in CUDA device
    monkeypatch.setattr(backend, "_devices", {"cuda": fake_cuda, "cpu": backend.get_device("cpu")})
    gpu = tg.zeros(2, device="cuda")
    cpu = tg.zeros(2)
    assert gpu.device.type == "cuda"
    assert isinstance(cpu, tg.FloatTensor) and not isinstance(gpu, tg.FloatTensor)
    assert isinstance(gpu, tg.cuda.FloatTensor) and not isinstance(cpu, tg.cuda.FloatTensor)
    assert not isinstance(gpu.double(), tg.DoubleTensor) and isinstance(gpu.double(), tg.cuda.DoubleTensor)
    assert isinstance(cpu.long(), tg.LongTensor) and not isinstance(cpu, tg.LongTensor)


# -- 8. Module.to(memory_format=) re-lays 4-D / 5-D parameters, as torch ----------------------

def test_module_to_channels_last_relays_parameters():
    import tensorgan.nn as nn
    tg.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(36, 2))
    w = m[0].weight.detach().numpy().copy()
    m[0].weight.grad = tg.ones(m[0].weight.shape)
    assert m.to(memory_format=tg.channels_last) is m
    assert m[0].weight.is_contiguous(memory_format=tg.channels_last)
    assert not m[0].weight.is_contiguous()
    assert m[0].weight.grad.is_contiguous(memory_format=tg.channels_last)
    assert m[0].weight.stride() == (27, 1, 9, 3)                      # torch's strides
    assert np.array_equal(m[0].weight.detach().numpy(), w)
    assert m[1].weight.is_contiguous()                                # 1-D: untouched
    x = tg.tensor(np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32))
    before = m(x).detach().numpy()
    m.to(memory_format=tg.contiguous_format)
    assert m[0].weight.is_contiguous() and np.array_equal(m[0].weight.detach().numpy(), w)
    np.testing.assert_array_equal(m(x).detach().numpy(), before)


def test_module_to_channels_last_checks_the_rank_as_torch():
    import tensorgan.nn as nn
    with pytest.raises(tg.ShapeError, match="rank 4"):
        nn.Conv3d(1, 2, 3).to(memory_format=tg.channels_last)
    m = nn.Conv3d(1, 2, 3).to(memory_format=tg.channels_last_3d)
    assert m.weight.stride() == (27, 1, 9, 3, 1)
    with pytest.raises(tg.InputTypeError, match="memory_format"):
        nn.Conv2d(1, 2, 3).to(memory_format="channels_last")


# -- 9. StepLR takes a fractional step_size, as torch (decay at the epochs it divides) ----------

def test_steplr_fractional_step_size():
    import tensorgan.optim as optim
    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, 1.5)
    lrs = []
    for _ in range(6):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    # epochs 1..6: 3 % 1.5 == 0 and 6 % 1.5 == 0 decay; the others keep the lr
    np.testing.assert_allclose(lrs, [1.0, 1.0, 0.1, 0.1, 0.1, 0.01], rtol=1e-12)
    for bad in (0, -1, 0.0, -0.5, float("nan"), "2", True):
        with pytest.raises(tg.ConfigError, match="step_size"):
            optim.lr_scheduler.StepLR(opt, bad)


# -- 10. composite activations carry torch's grad_fn names ---------------------------------------

@pytest.mark.parametrize("fn, name", [
    (F.gelu, "GeluBackward0"), (lambda t: F.gelu(t, approximate="tanh"), "GeluBackward0"),
    (F.silu, "SiluBackward0"), (F.mish, "MishBackward0"), (F.softplus, "SoftplusBackward0"),
    (F.elu, "EluBackward0"), (F.selu, "EluBackward0"), (F.celu, "CeluBackward0"),
    (F.hardswish, "HardswishBackward0"), (F.hardsigmoid, "HardsigmoidBackward0"),
    (F.logsigmoid, "LogSigmoidBackward0"), (lambda t: F.softmax(t, 0), "SoftmaxBackward0"),
    (lambda t: F.log_softmax(t, 0), "LogSoftmaxBackward0"), (F.relu6, "HardtanhBackward0"),
    (F.hardtanh, "HardtanhBackward0"), (lambda t: F.threshold(t, 0.1, 0.0), "ThresholdBackward0"),
    (F.softshrink, "SoftshrinkBackward0"), (F.hardshrink, "HardshrinkBackward0"),
    (lambda t: F.prelu(t, tg.tensor([0.25], dtype=tg.float64)), "PreluKernelBackward0"),
    (lambda t: F.glu(tg.cat([t, t]), 0), "GluBackward0"),
])
def test_activation_grad_fn_names(fn, name):
    x = tg.tensor([-2.0, -0.3, 0.4, 5.0], dtype=tg.float64, requires_grad=True)
    y = fn(x)
    assert y.grad_fn.name() == name
    assert tg.gradcheck(fn, [x]) and tg.gradgradcheck(fn, [x])      # the renamed node is the op


def test_where_backward_is_a_select_and_exact():
    rng = np.random.default_rng(1)
    av, bv = rng.standard_normal((5, 4)), rng.standard_normal((1, 4))
    cond = av > 0.2
    a, b = tg.tensor(av, requires_grad=True), tg.tensor(bv, requires_grad=True)
    gv = rng.standard_normal((5, 4))
    gv[0, 0] = NAN
    tg.where(tg.tensor(cond), a, b).backward(tg.tensor(gv))
    want_a = np.where(cond, gv, 0.0)
    want_b = np.where(cond, 0.0, gv).sum(0, keepdims=True)
    np.testing.assert_array_equal(a.grad.numpy(), want_a)
    np.testing.assert_array_equal(b.grad.numpy(), want_b)


def test_relu_double_backward_nan_upstream_is_zero_in_dead_units():
    x = tg.tensor([-1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = F.relu(x) * x                       # dy/dx = relu'(x) x + relu(x): a graph through relu
    (g,) = tg.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = tg.autograd.grad(g, x, grad_outputs=tg.tensor([NAN, 1.0], dtype=tg.float64))
    assert gg.numpy()[0] == 0 and gg.numpy()[1] == 2.0
