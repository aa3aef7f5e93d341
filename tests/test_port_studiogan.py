"""What porting PyTorch-StudioGAN's building blocks (ops / losses / ema / misc, deep_conv and resnet
G / D with AC / PD / 2C / D2DCE / MH heads, R1 / GP / DRAGAN / maxGP / LeCam / CR penalties) turned
up: torch's ``torch.nn.modules.<file>`` import paths (StudioGAN's ``reset_bn_statistics`` /
``untrack_bn_statistics`` test ``isinstance(m, torch.nn.modules.batchnorm._BatchNorm)``), the
``_NormBase`` base and its resets on the instance norms, and the lazy instance norms' batch
counter."""
import importlib

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F

pytestmark = pytest.mark.filterwarnings("ignore:Lazy modules are a new feature:UserWarning")

SUBMODULES = ["activation", "batchnorm", "container", "conv", "distance", "dropout", "flatten",
              "instancenorm", "linear", "normalization", "padding", "pixelshuffle", "pooling", "rnn",
              "sparse", "transformer", "upsampling"]


@pytest.mark.parametrize("name", SUBMODULES)
def test_nn_modules_submodules_export_the_nn_classes(name):
    mod = importlib.import_module(f"tensorgan.nn.modules.{name}")
    assert getattr(tg.nn.modules, name) is mod          # attribute access: torch.nn.modules.batchnorm
    public = [n for n in mod.__all__ if not n.startswith("_")]
    assert public
    for n in public:
        assert getattr(mod, n) is getattr(nn, n), n


def test_private_bases_cover_their_layers():
    from tensorgan.nn.modules.batchnorm import _BatchNorm, _NormBase
    from tensorgan.nn.modules.conv import _ConvNd, _ConvTransposeNd
    from tensorgan.nn.modules.dropout import _DropoutNd
    from tensorgan.nn.modules.instancenorm import _InstanceNorm
    for m in (nn.BatchNorm1d(3), nn.BatchNorm2d(3), nn.BatchNorm3d(3), nn.SyncBatchNorm(3)):
        assert isinstance(m, _BatchNorm) and isinstance(m, _NormBase)
    for m in (nn.InstanceNorm1d(3), nn.InstanceNorm2d(3), nn.InstanceNorm3d(3)):
        assert isinstance(m, _InstanceNorm) and isinstance(m, _NormBase) and not isinstance(m, _BatchNorm)
    assert not isinstance(nn.LayerNorm(3), _NormBase) and not isinstance(nn.GroupNorm(1, 3), _NormBase)
    for m in (nn.Conv1d(2, 2, 1), nn.Conv2d(2, 2, 1), nn.ConvTranspose2d(2, 2, 1)):
        assert isinstance(m, _ConvNd)
    assert isinstance(nn.ConvTranspose2d(2, 2, 1), _ConvTransposeNd)
    assert not isinstance(nn.Conv2d(2, 2, 1), _ConvTransposeNd)
    for m in (nn.Dropout(), nn.Dropout1d(), nn.Dropout2d(), nn.Dropout3d(), nn.AlphaDropout()):
        assert isinstance(m, _DropoutNd)
    P = tg.nn.modules.pooling
    for base, kinds in ((P._MaxPoolNd, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)),
                        (P._AvgPoolNd, (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)),
                        (P._AdaptiveAvgPoolNd, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)),
                        (P._AdaptiveMaxPoolNd, (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)),
                        (P._LPPoolNd, (nn.LPPool1d, nn.LPPool2d, nn.LPPool3d)),
                        (P._MaxUnpoolNd, (nn.MaxUnpool1d, nn.MaxUnpool2d, nn.MaxUnpool3d))):
        assert all(issubclass(k, base) for k in kinds), base
    assert not issubclass(nn.AdaptiveMaxPool2d, P._MaxPoolNd) and not issubclass(nn.MaxPool2d, P._AvgPoolNd)
    D = tg.nn.modules.padding
    for base, kinds in ((D._ReflectionPadNd, (nn.ReflectionPad1d, nn.ReflectionPad2d, nn.ReflectionPad3d)),
                        (D._ReplicationPadNd, (nn.ReplicationPad1d, nn.ReplicationPad2d, nn.ReplicationPad3d)),
                        (D._CircularPadNd, (nn.CircularPad1d, nn.CircularPad2d, nn.CircularPad3d))):
        assert all(issubclass(k, base) for k in kinds), base
    assert not issubclass(nn.ZeroPad2d, D._ReflectionPadNd)
    R = tg.nn.modules.rnn
    assert all(issubclass(k, R.RNNBase) for k in (nn.RNN, nn.LSTM, nn.GRU))
    assert all(issubclass(k, R.RNNCellBase) for k in (nn.RNNCell, nn.LSTMCell, nn.GRUCell))
    assert isinstance(nn.LazyLinear(3), tg.nn.modules.lazy.LazyModuleMixin)
    assert not isinstance(nn.Linear(2, 3), tg.nn.modules.lazy.LazyModuleMixin)


def _reset_bn_statistics(m):        # StudioGAN's misc.reset_bn_statistics (standing statistics)
    if isinstance(m, tg.nn.modules.batchnorm._BatchNorm):
        m.reset_running_stats()
        m.momentum = None


def _untrack_bn_statistics(m):      # StudioGAN's misc.untrack_bn_statistics
    if isinstance(m, tg.nn.modules.batchnorm._BatchNorm):
        m.backup_momentum = m.momentum
        m.momentum = 0


def test_studiogan_standing_statistics_through_the_module_path():
    g = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3), nn.ReLU(), nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3))
    rng = np.random.default_rng(0)
    xs = [tg.tensor(rng.standard_normal((4, 2, 3, 3)).astype(np.float32)) for _ in range(3)]
    g.train()
    g(xs[0])                                             # running stats away from their start
    g.apply(_reset_bn_statistics)
    bn = g[1]
    assert bn.momentum is None and int(bn.num_batches_tracked) == 0
    with tg.no_grad():
        for x in xs:
            g(x)
    # momentum None: the running mean is the plain average of the batch means
    means = [g[0](x).detach().numpy().mean(axis=(0, 2, 3)) for x in xs]
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean(means, axis=0), rtol=1e-5, atol=1e-6)
    assert int(bn.num_batches_tracked) == 3
    g.apply(_untrack_bn_statistics)                      # momentum 0: the statistics stay put
    before = bn.running_mean.numpy().copy()
    g(xs[0] * 3)
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)


def test_instance_norm_resets_as_torch():
    m = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    x = tg.tensor(np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4))
    m(x)
    with tg.no_grad():
        m.weight.mul_(3)
        m.bias.add_(2)
    assert float(m.running_mean.abs().sum()) > 0
    m.reset_running_stats()
    np.testing.assert_array_equal(m.running_mean.numpy(), np.zeros(3))
    np.testing.assert_array_equal(m.running_var.numpy(), np.ones(3))
    m.reset_parameters()
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.ones(3))
    np.testing.assert_array_equal(m.bias.detach().numpy(), np.zeros(3))
    nn.InstanceNorm1d(3).reset_parameters()             # no affine, no running stats: nothing to do


@pytest.mark.parametrize("cls, shape", [(nn.LazyInstanceNorm1d, (2, 3, 5)),
                                        (nn.LazyInstanceNorm2d, (2, 3, 4, 4)),
                                        (nn.LazyInstanceNorm3d, (2, 3, 2, 2, 2))])
def test_lazy_instance_norm_carries_the_batch_counter(cls, shape):
    keys = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    m = cls(affine=True, track_running_stats=True)
    assert "num_batches_tracked" in dict(m.named_buffers())
    m(tg.ones(*shape))
    assert list(m.state_dict()) == keys              # as the plain InstanceNorm it became
    assert int(m.num_batches_tracked) == 0           # instance norm never counts
    m.reset_parameters()
    fresh = cls(affine=True, track_running_stats=True)
    sd = {k: v.numpy() for k, v in m.state_dict().items()}
    fresh.load_state_dict(sd)                        # strict: the plain layer's keys fit
    assert list(fresh.state_dict()) == keys


def _d2dce(embed, proxy, label, num_classes, t, m_p):
    """ContraGAN's Data2DataCrossEntropyLoss (StudioGAN losses.py), in tensorgan."""
    cos = nn.CosineSimilarity(dim=-1)
    n = embed.shape[0]
    off = tg.from_numpy(~np.eye(n, dtype=bool))
    sim = cos(embed.unsqueeze(1), embed.unsqueeze(0)) + m_p - 1
    sim = (sim / t)[off].view(n, -1)
    sim_max, _ = tg.max(sim, dim=1, keepdim=True)
    sim = F.relu(sim) - sim_max.detach()
    lab = label.numpy()
    mask = np.ones([num_classes, n])
    for c in range(num_classes):
        mask[c, np.where(lab == c)] = 0.0
    removal = tg.tensor(mask).type(tg.long)[label][off].view(n, -1)
    pos = F.relu((m_p - cos(embed, proxy)) / t)
    neg = tg.log(tg.exp(-pos) + (removal * tg.exp(sim)).sum(dim=1))
    return (pos + neg).mean()


def _d2dce_numpy(e, p, lab, t, m_p, frozen_max=None):
    en = e / np.linalg.norm(e, axis=1, keepdims=True)
    pn = p / np.linalg.norm(p, axis=1, keepdims=True)
    n = len(e)
    sim = ((en @ en.T + m_p - 1) / t)[~np.eye(n, dtype=bool)].reshape(n, n - 1)
    smax = sim.max(axis=1, keepdims=True) if frozen_max is None else frozen_max
    sim = np.maximum(sim, 0) - smax
    keep = (lab[:, None] != lab[None, :])[~np.eye(n, dtype=bool)].reshape(n, n - 1)
    pos = np.maximum((m_p - (en * pn).sum(1)) / t, 0)
    return np.mean(pos + np.log(np.exp(-pos) + (keep * np.exp(sim)).sum(1))), smax


def test_data2data_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(3)
    e, p = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    lab = np.array([0, 1, 1, 2, 0, 2])
    embed = tg.tensor(e, requires_grad=True)
    loss = _d2dce(embed, tg.tensor(p), tg.tensor(lab), 3, 0.5, 0.98)
    value, smax = _d2dce_numpy(e, p, lab, 0.5, 0.98)
    assert abs(loss.item() - value) < 1e-12
    loss.backward()
    # sim_max is detached: its gradient is that of the loss with the max frozen at e's value
    h, numeric = 1e-6, np.zeros_like(e)
    for i in np.ndindex(e.shape):
        d = np.zeros_like(e)
        d[i] = h
        numeric[i] = (_d2dce_numpy(e + d, p, lab, 0.5, 0.98, smax)[0]
                      - _d2dce_numpy(e - d, p, lab, 0.5, 0.98, smax)[0]) / (2 * h)
    np.testing.assert_allclose(embed.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_lerp_refuses_integer_and_bool_tensors_as_torch():
    """StudioGAN's Ema lerps every buffer but num_batches_tracked because torch's lerp is not
    implemented for int64; an EMA loop that forgets the skip must fail here too, not round."""
    from tensorgan.errors import DTypeError
    with pytest.raises(DTypeError, match="lerp.*int64"):
        tg.tensor([3]).lerp(tg.tensor([5]), 0.5)
    with pytest.raises(DTypeError, match="lerp_.*bool"):
        tg.tensor([True]).lerp_(tg.tensor([False]), 0.5)
    with pytest.raises(DTypeError, match="lerp"):
        tg.lerp(tg.tensor([3]), tg.tensor([5]), tg.tensor([1]))
    ema, cur = tg.tensor([1.0, 2.0]), tg.tensor([3.0, 6.0])
    np.testing.assert_allclose(cur.lerp(ema, 0.9).numpy(), [1.2, 2.4], rtol=1e-6)   # Ema.update's form
    ema.lerp_(cur, 0.25)
    np.testing.assert_allclose(ema.numpy(), [1.5, 3.0], rtol=1e-6)
