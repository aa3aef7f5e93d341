"""Gaps found porting NVlabs/MUNIT (networks.py, trainer.py, utils.py: MUNIT_Trainer / UNIT_Trainer,
AdaINGen's AdaptiveInstanceNorm2d on F.batch_norm, MsImageDis, weights_init) to tensorgan: each test
is one thing such programs do that tensorgan got wrong or refused, plus the AdaIN idiom itself."""
import math
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
import tensorgan.nn.init as init
from tensorgan.errors import ConfigError, ShapeError


def _x(*shape, seed=0):
    return tg.tensor(np.random.RandomState(seed).randn(*shape))


def _instance_normalized(a, eps=1e-5):
    mean = a.mean(axis=(2, 3), keepdims=True)
    var = a.var(axis=(2, 3), keepdims=True)
    return (a - mean) / np.sqrt(var + eps)


# -- F.batch_norm(training=False) needs running statistics, as torch ------------------------------
def test_batch_norm_eval_without_running_stats_is_refused():
    # torch: "running_mean must be defined in evaluation mode"; tensorgan silently used the batch's
    # statistics, so an eval-mode forward quietly depended on the batch.
    x = _x(4, 3, 5, 5)
    with pytest.raises(ConfigError, match="running_mean"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ConfigError, match="running_mean"):
        F.batch_norm(x, None, None)          # training defaults to False
    y = F.batch_norm(x, None, None, training=True).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)


def test_batchnorm_module_in_eval_uses_batch_stats_when_its_buffers_are_none():
    # torch's _BatchNorm: bn_training = training or (running_mean is None and running_var is None)
    x = _x(4, 3, 5, 5)
    for m in (nn.BatchNorm2d(3, track_running_stats=False, dtype=tg.float64),
              nn.BatchNorm2d(3, dtype=tg.float64)):
        m.running_mean = m.running_var = None
        m.eval()
        y = m(x).detach().numpy()
        np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
        np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1.0, rtol=1e-4)
    m = nn.BatchNorm2d(3, dtype=tg.float64).eval()      # with running stats: they are used
    np.testing.assert_allclose(m(x).detach().numpy(), x.numpy() / math.sqrt(1 + 1e-5), rtol=1e-12)


# -- batch norm's weight / bias: torch checks the element count, not the shape ------------------
def test_batch_norm_takes_a_weight_of_c_elements_in_another_shape():
    x = _x(2, 4, 3, 3)
    rng = np.random.RandomState(1)
    w = tg.tensor(rng.rand(4, 1) + 0.5, requires_grad=True)
    b = tg.tensor(rng.randn(1, 4), requires_grad=True)
    y = F.batch_norm(x, None, None, w, b, training=True)
    expect = _batch_normalized(x.numpy()) * w.detach().numpy().reshape(1, 4, 1, 1) \
        + b.detach().numpy().reshape(1, 4, 1, 1)
    np.testing.assert_allclose(y.detach().numpy(), expect, rtol=1e-10, atol=1e-12)
    g = rng.randn(*y.shape)
    (y * tg.tensor(g)).sum().backward()
    assert w.grad.shape == (4, 1) and b.grad.shape == (1, 4)
    xn = _batch_normalized(x.numpy())
    np.testing.assert_allclose(w.grad.numpy().ravel(), (g * xn).sum(axis=(0, 2, 3)), rtol=1e-10)
    np.testing.assert_allclose(b.grad.numpy().ravel(), g.sum(axis=(0, 2, 3)), rtol=1e-10)
    with pytest.raises(ShapeError, match="weight"):
        F.batch_norm(x, None, None, tg.ones(2, 4, dtype=tg.float64), None, training=True)


def _batch_normalized(a, eps=1e-5):
    mean = a.mean(axis=(0, 2, 3), keepdims=True)
    return (a - mean) / np.sqrt(a.var(axis=(0, 2, 3), keepdims=True) + eps)


# -- F.instance_norm checks its running statistics' size ----------------------------------------
def test_instance_norm_running_stats_of_the_wrong_size_is_a_shape_error():
    x = _x(2, 8, 4, 4)
    # was a bare NumPy broadcasting ValueError from inside the update
    with pytest.raises(ShapeError, match="running_mean must be a tensor of 8 elements"):
        F.instance_norm(x, tg.zeros(4, dtype=tg.float64), tg.ones(4, dtype=tg.float64))
    with pytest.raises(ShapeError, match="running_var"):
        F.instance_norm(x, tg.zeros(8, dtype=tg.float64), tg.ones(3, dtype=tg.float64),
                        use_input_stats=False)
    # C elements in another shape are updated in their own shape (torch counts elements)
    rm, rv = tg.zeros(8, 1, dtype=tg.float64), tg.ones(8, 1, dtype=tg.float64)
    F.instance_norm(x, rm, rv, momentum=0.5)
    a = x.numpy()
    np.testing.assert_allclose(rm.numpy().ravel(), 0.5 * a.mean(axis=(2, 3)).mean(axis=0),
                               rtol=1e-12)
    np.testing.assert_allclose(rv.numpy().ravel(),
                               0.5 + 0.5 * a.var(axis=(2, 3), ddof=1).mean(axis=0), rtol=1e-12)


# -- nn.init.sparse_ (and its deprecated alias sparse) ------------------------------------------
def test_init_sparse_zeroes_the_same_count_in_every_column():
    w = tg.empty(10, 7)
    tg.manual_seed(0)
    out = init.sparse_(w, 0.25, std=0.5)
    assert out is w
    a = w.numpy()
    assert ((a == 0).sum(axis=0) == math.ceil(0.25 * 10)).all()
    nz = a[a != 0]
    assert nz.size == 7 * 7 and 0.3 < nz.std() < 0.7
    # seeded: the same draw again
    w2 = tg.empty(10, 7)
    tg.manual_seed(0)
    init.sparse_(w2, 0.25, std=0.5)
    np.testing.assert_array_equal(w2.numpy(), a)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init.sparse(w, 0.5)
    assert any(issubclass(c.category, FutureWarning) and "sparse_" in str(c.message) for c in caught)
    assert ((w.numpy() == 0).sum(axis=0) == 5).all()
    with pytest.raises(ShapeError, match="2 dimensions"):
        init.sparse_(tg.empty(3, 4, 5), 0.1)
    with pytest.raises(ConfigError):
        init.sparse_(tg.empty(3, 4), -0.1)


# -- the AdaIN idiom: per-sample affine parameters as plain attributes, F.batch_norm on (1, B*C) --
class _AdaIN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.num_features, self.weight, self.bias = c, None, None
        self.register_buffer("running_mean", tg.zeros(c, dtype=tg.float64))
        self.register_buffer("running_var", tg.ones(c, dtype=tg.float64))

    def forward(self, x):
        b, c = x.size(0), x.size(1)
        rm, rv = self.running_mean.repeat(b), self.running_var.repeat(b)
        out = F.batch_norm(x.contiguous().view(1, b * c, *x.size()[2:]), rm, rv, self.weight,
                           self.bias, True, 0.1, 1e-5)
        return out.view(b, c, *x.size()[2:])


def test_adain_with_batch_norm_on_reshaped_input_matches_instance_norm_affine():
    b, c = 3, 4
    norm = _AdaIN(c)
    mlp = nn.Linear(2, 2 * c, dtype=tg.float64)
    style = _x(b, 2, seed=3)
    params = mlp(style)
    norm.bias = params[:, :c].contiguous().view(-1)       # MUNIT's assign_adain_params
    norm.weight = params[:, c:2 * c].contiguous().view(-1)
    assert set(norm.state_dict()) == {"running_mean", "running_var"}
    assert list(norm.parameters()) == []
    x = _x(b, c, 5, 5, seed=4)
    y = norm(x)
    p = params.detach().numpy()
    expect = _instance_normalized(x.numpy()) * p[:, c:, None, None] + p[:, :c, None, None]
    np.testing.assert_allclose(y.detach().numpy(), expect, rtol=1e-10, atol=1e-12)
    # the registered buffers are not the ones updated (repeat copied them)
    np.testing.assert_array_equal(norm.running_mean.numpy(), np.zeros(c))
    # gradients reach the MLP through the assigned attributes
    g = np.random.RandomState(5).randn(b, c, 5, 5)
    (y * tg.tensor(g)).sum().backward()
    xn = _instance_normalized(x.numpy())
    d_gamma, d_beta = (g * xn).sum(axis=(2, 3)), g.sum(axis=(2, 3))      # (b, c) each
    d_params = np.concatenate([d_beta, d_gamma], axis=1)
    np.testing.assert_allclose(mlp.bias.grad.numpy(), d_params.sum(axis=0), rtol=1e-9)
    np.testing.assert_allclose(mlp.weight.grad.numpy(), d_params.T @ style.numpy(), rtol=1e-9)
    # a batch whose style codes do not match (MUNIT's forward with 8 fixed codes) is refused
    with pytest.raises(ShapeError, match="weight"):
        norm(_x(2, c, 5, 5))
