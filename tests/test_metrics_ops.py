"""The classification ops (softmax, log_softmax, cross_entropy, max/avg pooling): values against
NumPy definitions and float64 gradchecks on hypothesis-drawn shapes, plus their argument errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorgan as tg
from tensorgan import functional as F

SETTINGS = settings(max_examples=20, deadline=None)


def t64(array, requires_grad=True):
    return tg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def np_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)


@SETTINGS
@given(shape=shapes, data=st.data(), seed=st.integers(0, 2**16))
def test_log_softmax_and_softmax(shape, data, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = t64(np.random.default_rng(seed).standard_normal(shape) * 3)
    np.testing.assert_allclose(F.log_softmax(x, dim).numpy(), np_log_softmax(x.numpy(), dim), atol=1e-12)
    np.testing.assert_allclose(F.softmax(x, dim).numpy(), np.exp(np_log_softmax(x.numpy(), dim)), atol=1e-12)
    assert tg.gradcheck(lambda x: F.log_softmax(x, dim), [x])
    assert tg.gradcheck(lambda x: F.softmax(x, dim), [x])


def test_log_softmax_is_stable_for_huge_logits():
    x = t64([[1000.0, 0.0, -1000.0], [-5e4, -5e4, -5e4]], requires_grad=False)
    out = F.log_softmax(x, -1).numpy()
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[0], [0.0, -1000.0, -2000.0])
    np.testing.assert_allclose(F.softmax(x, -1).numpy()[1], [1 / 3] * 3)


@SETTINGS
@given(n=st.integers(1, 6), c=st.integers(1, 6), reduction=st.sampled_from(["mean", "sum", "none"]),
       seed=st.integers(0, 2**16))
def test_cross_entropy(n, c, reduction, seed):
    rng = np.random.default_rng(seed)
    x = t64(rng.standard_normal((n, c)) * 3)
    target = rng.integers(0, c, n)
    per_sample = -np_log_softmax(x.numpy(), 1)[np.arange(n), target]
    want = {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[reduction]
    np.testing.assert_allclose(F.cross_entropy(x, target, reduction=reduction).numpy(), want, atol=1e-12)
    assert tg.gradcheck(lambda x: F.cross_entropy(x, target, reduction=reduction), [x])


def np_cross_entropy(x, target, weight, ignore_index, reduction, smoothing):
    """torch's documented formula, per sample: (1 - e) * (-w[t] log p[t]) + e/C * sum_c -w_c log
    p_c, 0 for an ignored sample; the mean divides by the kept samples' w[t]."""
    n, c = x.shape
    logp = np_log_softmax(x, 1)
    w = np.ones(c) if weight is None else weight
    kept = target != ignore_index
    per_sample = np.zeros(n)
    for i in np.flatnonzero(kept):
        per_sample[i] = ((1 - smoothing) * -w[target[i]] * logp[i, target[i]]
                         + smoothing / c * -(w * logp[i]).sum())
    if reduction == "none":
        return per_sample
    return per_sample.sum() / (w[target[kept]].sum() if reduction == "mean" else 1.0)


@SETTINGS
@given(n=st.integers(1, 6), c=st.integers(2, 5), reduction=st.sampled_from(["mean", "sum", "none"]),
       weighted=st.booleans(), smoothing=st.sampled_from([0.0, 0.1, 1.0]), ignore=st.booleans(),
       seed=st.integers(0, 2**16))
def test_cross_entropy_weight_ignore_index_and_label_smoothing(n, c, reduction, weighted, smoothing,
                                                               ignore, seed):
    rng = np.random.default_rng(seed)
    x = t64(rng.standard_normal((n, c)) * 3)
    target = rng.integers(0, c, n)
    ignore_index = -100
    if ignore and n > 1:                   # ignore one sample, keep at least one
        ignore_index = 7 if c < 7 else 11
        target[rng.integers(0, n)] = ignore_index
    weight = rng.random(c) + 0.5 if weighted else None
    w = t64(weight) if weighted else None
    want = np_cross_entropy(x.numpy(), target, weight, ignore_index, reduction, smoothing)

    def loss(x):
        return F.cross_entropy(x, target, w, ignore_index=ignore_index, reduction=reduction,
                               label_smoothing=smoothing)
    np.testing.assert_allclose(loss(x).numpy(), want, atol=1e-12)
    assert tg.gradcheck(loss, [x])
    assert tg.gradgradcheck(lambda x: loss(x * x), [x])
    module = tg.nn.CrossEntropyLoss(w, ignore_index=ignore_index, reduction=reduction,
                                    label_smoothing=smoothing)
    np.testing.assert_allclose(module(x, target).numpy(), want, atol=1e-12)


def test_cross_entropy_option_errors():
    x = t64(np.zeros((3, 4)))
    with pytest.raises(tg.InputTypeError, match="pass reduction='sum' by keyword"):
        F.cross_entropy(x, [0, 1, 2], "sum")
    with pytest.raises(tg.ShapeError, match=r"weight must have shape \(4,\)"):
        F.cross_entropy(x, [0, 1, 2], t64(np.ones(3)))
    with pytest.raises(tg.ConfigError, match="label_smoothing must be in"):
        F.cross_entropy(x, [0, 1, 2], label_smoothing=1.1)
    with pytest.raises(tg.ConfigError, match=r"in \[0, 4\)"):
        F.cross_entropy(x, [0, 1, 9], ignore_index=-1)             # 9 is not the ignored index

def test_cross_entropy_with_no_weight_left_is_nan_with_torchs_gradient():
    # torch: the mean's 0/0 is NaN; ignored rows still get a 0 gradient, kept rows of weight 0 NaN
    x = t64([[0.1, 0.2, 0.3], [0.5, -0.2, 0.0]])
    loss = F.cross_entropy(x, [-100, -100])
    loss.backward()
    assert np.isnan(loss.item()) and (x.grad.numpy() == 0).all()
    x = t64([[0.1, 0.2, 0.3], [0.5, -0.2, 0.0]])
    loss = F.cross_entropy(x, [0, -100], weight=t64([0.0, 1.0, 1.0]))
    loss.backward()
    assert np.isnan(loss.item()) and np.isnan(x.grad.numpy()[0]).all()
    assert (x.grad.numpy()[1] == 0).all()
    # with label smoothing the spread term is finite, but torch's mean is still (0/0 + ...): NaN
    x = t64([[0.1, 0.2, 0.3], [0.5, -0.2, 0.0]])
    loss = F.cross_entropy(x, [0, 1], weight=t64([0.0, 1.0, 1.0]), ignore_index=1,
                           label_smoothing=0.5)
    loss.backward()
    assert np.isnan(loss.item()) and np.isnan(x.grad.numpy()[0]).all()
    assert (x.grad.numpy()[1] == 0).all()


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    x = t64([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0]])
    F.cross_entropy(x, [1, 2], reduction="sum").backward()
    p = np.exp(np_log_softmax(x.numpy(), 1))
    np.testing.assert_allclose(x.grad.numpy(), p - np.eye(3)[[1, 2]])


def test_cross_entropy_float32_and_huge_logits():
    x = tg.tensor(np.array([[1e4, -1e4], [-1e4, 1e4]], np.float32), requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 1]))
    assert loss.dtype == np.float32 and loss.item() == 0.0
    loss.backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_cross_entropy_errors():
    x = t64(np.zeros((3, 4)))
    with pytest.raises(tg.ShapeError):
        F.cross_entropy(x, [0, 1])                        # wrong length
    with pytest.raises(tg.ShapeError):
        F.cross_entropy(t64(np.zeros(4)), [0])            # logits not (N, C)
    with pytest.raises(tg.ConfigError):
        F.cross_entropy(x, [0, 1, 4])                     # class out of range
    with pytest.raises(tg.ConfigError):
        F.cross_entropy(x, [0, 1, -1])
    with pytest.raises(tg.DTypeError):
        F.cross_entropy(x, np.array([0.5, 1, 2]))         # not class indices
    with pytest.raises(tg.ConfigError):
        F.cross_entropy(x, [0, 1, 2], reduction="avg")
    with pytest.raises(tg.ShapeError):
        F.log_softmax(x, dim=2)


@st.composite
def pool_config(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(kh, 7)), draw(st.integers(kw, 7))
    return dict(n=draw(st.integers(1, 2)), c=draw(st.integers(1, 3)), hw=(h, w), k=(kh, kw))


def np_pool(x, k, reduce):
    n, c, h, w = x.shape
    ho, wo = h // k[0], w // k[1]
    v = x[:, :, :ho * k[0], :wo * k[1]].reshape(n, c, ho, k[0], wo, k[1])
    return reduce(v, axis=(3, 5))


@SETTINGS
@given(cfg=pool_config(), seed=st.integers(0, 2**16))
def test_pooling(cfg, seed):
    rng = np.random.default_rng(seed)
    # distinct values: max pooling's gradient is defined where each window has a unique maximum
    values = rng.permutation(cfg["n"] * cfg["c"] * cfg["hw"][0] * cfg["hw"][1]) * 0.1
    x = t64(values.reshape((cfg["n"], cfg["c"]) + cfg["hw"]))
    k = cfg["k"]
    np.testing.assert_allclose(F.max_pool2d(x, k).numpy(), np_pool(x.numpy(), k, np.max))
    np.testing.assert_allclose(F.avg_pool2d(x, k, stride=k).numpy(), np_pool(x.numpy(), k, np.mean))
    assert tg.gradcheck(lambda x: F.max_pool2d(x, k), [x], eps=1e-4)
    assert tg.gradcheck(lambda x: F.avg_pool2d(x, k), [x])


def test_max_pool_routes_gradient_to_the_maximum():
    x = t64(np.array([[[[1.0, 5.0, 0.0], [2.0, 3.0, 9.0], [7.0, 7.0, 7.0]]]]))
    y = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(y.numpy(), [[[[5.0]]]])
    y.backward(np.ones((1, 1, 1, 1)))
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 1, 0], [0, 0, 0], [0, 0, 0]])


def test_pooling_errors():
    x = t64(np.zeros((1, 1, 4, 4)))
    with pytest.raises(tg.ConfigError, match="padding must be at most half"):
        F.max_pool2d(x, 2, stride=1, padding=2)
    with pytest.raises(tg.ShapeError):
        F.avg_pool2d(x, 5)
    with pytest.raises(tg.ShapeError):
        F.max_pool2d(t64(np.zeros((4, 4))), 2)
    with pytest.raises(tg.ConfigError):
        F.max_pool2d(x, 0)


DEVICES = ["cpu"] + (["cuda"] if tg.cuda_status()[0] else [])


@pytest.mark.parametrize("device", DEVICES)
def test_loss_targets_given_as_host_arrays_follow_the_input_to_its_device(device):
    # Found on a real H100 (CuPy arrays): a NumPy float target of class indices reached
    # cupy.floor and failed with CuPy's "Unsupported type" instead of being copied to the GPU.
    # Under the simulator the cuda device holds NumPy arrays, so only a GPU run can fail here.
    logits = tg.tensor(np.array([[2.0, 0.0, -1.0], [0.0, 1.0, 3.0]], dtype=np.float32), device=device)
    for target in (np.array([0.0, 2.0]), np.array([0, 2]), [0, 2]):
        loss = F.cross_entropy(logits, target)
        assert loss.device.type == device
        want = -np.mean([2 - np.log(np.exp(2) + 1 + np.exp(-1)), 3 - np.log(1 + np.e + np.exp(3))])
        assert abs(loss.item() - want) < 1e-5
    x = tg.tensor(np.array([0.25, 0.75], dtype=np.float32), device=device)
    assert abs(F.mse_loss(x, np.array([0.0, 1.0])).item() - 0.0625) < 1e-7
    assert abs(F.binary_cross_entropy(x, np.array([0.0, 1.0])).item() + np.log(0.75)) < 1e-6
    with pytest.raises(tg.DTypeError, match="integer"):
        F.cross_entropy(logits, np.array([0.5, 1.0]))


def test_a_gpu_target_for_a_cpu_input_is_a_device_error():
    class FakeGpuArray:            # what the check looks at: CUDA array interface, not a NumPy array
        __cuda_array_interface__ = {}

    x = tg.tensor(np.zeros((2, 3), dtype=np.float32), device="cpu")
    with pytest.raises(tg.DeviceError, match="cross_entropy: target is a GPU array"):
        F.cross_entropy(x, FakeGpuArray())
    with pytest.raises(tg.DeviceError, match="mse_loss: target is a GPU array"):
        F.mse_loss(x, FakeGpuArray())
