"""Porting NVlabs/SPADE (GauGAN: SPADE normalization, SPADEResnetBlock with spectral norm,
SPADEGenerator with and without the VAE encoder, the multiscale PatchGAN discriminator with
feature matching, GANLoss hinge / ls / original / w, KLD, a VGG-style perceptual loss, the pix2pix
model and trainer) to tensorgan.  The port agreed with torch to ~1e-12 (float64, gradients ~1e-15
relative) over G / D steps.  What it needed: the Synchronized-BatchNorm package SPADE vendors
(``from torch.nn.modules.batchnorm import _BatchNorm``, ``torch.nn.parallel._functions``,
``torch.nn.parallel.data_parallel.DataParallel``, a ``_check_input_dim`` override) -- tested here
with code of our own and NumPy expectations.  No torch import."""
import functools

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import ShapeError


def _bn_reference(x, weight=None, bias=None, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)
    if weight is not None:
        y = y * weight.reshape(shape) + bias.reshape(shape)
    return y


# -- torch.nn.modules.<submodule> paths --------------------------------------------------------
def test_torch_nn_modules_submodule_paths_give_tensorgans_classes():
    from tensorgan.nn.modules.batchnorm import BatchNorm2d, SyncBatchNorm, _BatchNorm
    from tensorgan.nn.modules.conv import Conv2d, ConvTranspose2d
    from tensorgan.nn.modules.dropout import Dropout2d, _DropoutNd
    from tensorgan.nn.modules.instancenorm import InstanceNorm2d, _InstanceNorm
    from tensorgan.nn.modules.linear import Identity, Linear
    from tensorgan.nn.modules.pooling import AvgPool2d, MaxPool2d
    from tensorgan.nn.modules.padding import ReflectionPad2d
    from tensorgan.nn.modules.activation import LeakyReLU, ReLU
    from tensorgan.nn.modules.container import ModuleList, Sequential
    from tensorgan.nn.modules.upsampling import Upsample
    from tensorgan.nn.modules.normalization import GroupNorm, LayerNorm
    from tensorgan.nn.modules.sparse import Embedding
    pairs = [(BatchNorm2d, nn.BatchNorm2d), (SyncBatchNorm, nn.SyncBatchNorm), (Conv2d, nn.Conv2d),
             (ConvTranspose2d, nn.ConvTranspose2d), (Dropout2d, nn.Dropout2d),
             (InstanceNorm2d, nn.InstanceNorm2d), (Identity, nn.Identity), (Linear, nn.Linear),
             (AvgPool2d, nn.AvgPool2d), (MaxPool2d, nn.MaxPool2d), (ReflectionPad2d, nn.ReflectionPad2d),
             (LeakyReLU, nn.LeakyReLU), (ReLU, nn.ReLU), (ModuleList, nn.ModuleList),
             (Sequential, nn.Sequential), (Upsample, nn.Upsample), (GroupNorm, nn.GroupNorm),
             (LayerNorm, nn.LayerNorm), (Embedding, nn.Embedding)]
    for ours, theirs in pairs:
        assert ours is theirs
    # the private bases: isinstance checks over every layer of the family, as torch's
    assert all(issubclass(c, _BatchNorm) for c in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d,
                                                   nn.SyncBatchNorm))
    assert all(issubclass(c, _InstanceNorm) for c in (nn.InstanceNorm1d, nn.InstanceNorm2d))
    assert all(issubclass(c, _DropoutNd) for c in (nn.Dropout, nn.Dropout1d, nn.Dropout2d,
                                                   nn.AlphaDropout))
    assert not issubclass(nn.InstanceNorm2d, _BatchNorm)
    # attribute access through the package, as Synchronized-BatchNorm's convert_model does
    assert tg.nn.modules.batchnorm.BatchNorm1d is nn.BatchNorm1d


# -- _BatchNorm subclasses and _check_input_dim ------------------------------------------------
def test_batchnorm_subclass_own_check_input_dim_is_called():
    class FourD(nn.modules.batchnorm._BatchNorm):
        def _check_input_dim(self, input):
            if input.dim() != 4:
                raise ValueError(f"expected 4D input (got {input.dim()}D input)")

    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5, 5))
    bn = FourD(3).double()
    np.testing.assert_allclose(bn(tg.tensor(x)).detach().numpy(), _bn_reference(x), atol=1e-12)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * x.mean((0, 2, 3)), atol=1e-12)
    assert int(bn.num_batches_tracked) == 1
    with pytest.raises(ValueError, match="expected 4D input \\(got 2D input\\)"):
        bn(tg.zeros(2, 3, dtype=tg.float64))
    with pytest.raises(ShapeError, match="expected 3 input channels"):   # channels still checked
        bn(tg.zeros(2, 4, 5, 5, dtype=tg.float64))


def test_batchnorm_override_widens_the_accepted_ranks():
    class AnyRank(nn.BatchNorm2d):      # a common idiom: BatchNorm2d that also takes (N, C, L)
        def _check_input_dim(self, input):
            pass

    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 7))
    out = AnyRank(2).double()(tg.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), _bn_reference(x), atol=1e-12)
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\)"):     # the plain layer keeps its ranks
        nn.BatchNorm2d(2).double()(tg.tensor(x))


def test_direct_batchnorm_subclass_without_a_rank_check_raises_not_implemented():
    class Bare(nn.modules.batchnorm._BatchNorm):
        pass

    with pytest.raises(NotImplementedError, match="_check_input_dim"):
        Bare(3)(tg.zeros(2, 3))
    # the library's own norms do not go through the hook's indirection
    assert not nn.BatchNorm2d._own_dim_check and not nn.SyncBatchNorm._own_dim_check


# -- torch.nn.parallel paths on one device -----------------------------------------------------
def test_parallel_functions_reduce_and_broadcast_with_gradients():
    from tensorgan.nn.parallel._functions import Broadcast, Gather, ReduceAddCoalesced, Scatter
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0, 5.0], requires_grad=True)
    copies = Broadcast.apply([0, 1], a, b)          # grouped by target: a0, b0, a1, b1
    assert len(copies) == 4
    np.testing.assert_array_equal(copies[2].detach().numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(copies[3].detach().numpy(), [3.0, 4.0, 5.0])
    sa, sb = ReduceAddCoalesced.apply(0, 2, *copies)
    np.testing.assert_array_equal(sa.detach().numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(sb.detach().numpy(), [6.0, 8.0, 10.0])
    (sa.sum() * 3 + sb.sum()).backward()
    np.testing.assert_array_equal(a.grad.numpy(), [6.0, 6.0])      # 2 copies x 3
    np.testing.assert_array_equal(b.grad.numpy(), [2.0, 2.0, 2.0])
    x = tg.arange(10.0).reshape(5, 2)
    parts = Scatter.apply([0, 1], [3, 2], 0, x)
    assert [tuple(p.shape) for p in parts] == [(3, 2), (2, 2)]
    np.testing.assert_array_equal(Gather.apply(0, 0, *parts).numpy(), x.numpy())
    np.testing.assert_array_equal(Gather.apply(0, 0, tg.tensor(1.0), tg.tensor(2.0)).numpy(), [1.0, 2.0])


def test_data_parallel_module_path_and_replication_hooks():
    import sys
    from tensorgan.nn.parallel import data_parallel, replicate
    from tensorgan.nn.parallel.data_parallel import DataParallel
    # the package's name is the function (torch's), the submodule is importable by path
    assert data_parallel is sys.modules["tensorgan.nn.parallel.data_parallel"].data_parallel
    from tensorgan.nn.parallel.distributed import DistributedDataParallel
    assert DataParallel is nn.DataParallel and DistributedDataParallel is nn.parallel.DistributedDataParallel
    calls = []

    class WithCallback(DataParallel):               # Synchronized-BatchNorm's DataParallelWithCallback
        def replicate(self, module, device_ids):
            modules = super().replicate(module, device_ids)
            calls.append(len(modules))
            return modules

    net = nn.Linear(3, 2)
    dp = WithCallback(net, device_ids=[0])
    assert dp.device_ids == [0] and dp.dim == 0 and nn.DataParallel(net).device_ids == []
    x = tg.ones(4, 3)
    np.testing.assert_array_equal(dp(x).detach().numpy(), net(x).detach().numpy())
    assert dp.replicate(net, [0]) == [net] and calls == [1]
    assert replicate(net, [0, 1]) == [net]
    # patch_replication_callback's idiom: wrap the bound method, which must exist
    old_replicate = dp.replicate
    dp.replicate = functools.wraps(old_replicate)(lambda module, ids: old_replicate(module, ids))
    assert dp.replicate(net, [0]) == [net] and calls == [1, 1]
    ins, kws = dp.scatter((x,), {"k": 1}, [0])
    outs = dp.parallel_apply([net], ins, [{}])
    np.testing.assert_array_equal(dp.gather(outs, None).detach().numpy(), net(x).detach().numpy())
    assert kws == ({"k": 1},)


def test_a_synchronized_batchnorm_written_against_torchs_paths_runs_on_one_device():
    """A SyncBN in the style SPADE vendors (our own few lines): subclass _BatchNorm, refuse to
    build without ReduceAddCoalesced / Broadcast, plain F.batch_norm unless replicated; once
    replicated, the statistics go through ReduceAddCoalesced and Broadcast."""
    try:
        from tensorgan.nn.parallel._functions import Broadcast, ReduceAddCoalesced
    except ImportError:
        Broadcast = ReduceAddCoalesced = None
    from tensorgan.nn.modules.batchnorm import _BatchNorm

    class SyncBN2d(_BatchNorm):
        def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True):
            assert ReduceAddCoalesced is not None, "no synchronized batch norm without CUDA support"
            super().__init__(num_features, eps=eps, momentum=momentum, affine=affine)
            self.replicated = False

        def _check_input_dim(self, input):
            if input.dim() != 4:
                raise ValueError(f"expected 4D input (got {input.dim()}D input)")

        def forward(self, input):
            if not (self.replicated and self.training):
                return F.batch_norm(input, self.running_mean, self.running_var, self.weight,
                                    self.bias, self.training, self.momentum, self.eps)
            flat = input.view(input.size(0), self.num_features, -1)
            n = flat.size(0) * flat.size(2)
            s, ss = ReduceAddCoalesced.apply(0, 2, flat.sum(0).sum(-1), (flat ** 2).sum(0).sum(-1))
            mean = s / n
            inv_std = ((ss - s * mean) / n).clamp(self.eps) ** -0.5
            mean, inv_std = Broadcast.apply([0], mean, inv_std)
            out = (flat - mean.unsqueeze(0).unsqueeze(-1)) * (inv_std * self.weight).unsqueeze(0).unsqueeze(-1)
            return (out + self.bias.unsqueeze(0).unsqueeze(-1)).view(input.size())

    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 5, 5))
    g = rng.standard_normal(x.shape)
    bn = SyncBN2d(3).double()
    xt = tg.tensor(x, requires_grad=True)
    (bn(xt) * tg.tensor(g)).sum().backward()
    np.testing.assert_allclose(bn(tg.tensor(x)).detach().numpy(), _bn_reference(x), atol=1e-12)
    plain_grad = xt.grad.numpy().copy()
    bn.replicated = True                          # what DataParallelWithCallback's callback sets
    xs = tg.tensor(x, requires_grad=True)
    ys = bn(xs)
    var = x.var((0, 2, 3), keepdims=True)                    # eps clamped, not added
    clamped = (x - x.mean((0, 2, 3), keepdims=True)) / np.sqrt(np.maximum(var, 1e-5))
    np.testing.assert_allclose(ys.detach().numpy(), clamped, atol=1e-12)
    (ys * tg.tensor(g)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), plain_grad, rtol=1e-4, atol=1e-6)


# -- SPADE idioms the port relies on (regressions) ---------------------------------------------
def test_spectral_norm_init_through_weight_data_reaches_weight_orig_before_any_forward():
    """SPADE's init_weights runs ``init.xavier_normal_(m.weight.data)`` on spectral-normed convs
    before their first forward: torch's ``weight`` is then weight_orig's data, so the init lands
    in the parameter."""
    conv = nn.utils.spectral_norm(nn.Conv2d(3, 4, 3))
    nn.init.constant_(conv.weight.data, 0.25)
    assert np.all(conv.weight_orig.detach().numpy() == 0.25)
    delattr(conv, "bias")                          # get_nonspade_norm_layer drops the bias
    conv.register_parameter("bias", None)
    assert [n for n, _ in conv.named_parameters()] == ["weight_orig"]
    assert sorted(conv.state_dict()) == ["weight_orig", "weight_u", "weight_v"]


def test_one_hot_scatter_edges_and_feature_loss_accumulator():
    rng = np.random.default_rng(3)
    label = rng.integers(0, 4, (2, 1, 5, 6))
    onehot = tg.FloatTensor(2, 4, 5, 6).zero_().scatter_(1, tg.tensor(label), 1.0)
    expected = (np.arange(4)[None, :, None, None] == label).astype(np.float32)
    np.testing.assert_array_equal(onehot.numpy(), expected)
    inst = tg.tensor(rng.integers(0, 3, (2, 1, 5, 6)))
    edge = tg.ByteTensor(inst.size()).zero_()
    edge[:, :, :, 1:] = edge[:, :, :, 1:] | (inst[:, :, :, 1:] != inst[:, :, :, :-1])
    edge[:, :, :, :-1] = edge[:, :, :, :-1] | (inst[:, :, :, 1:] != inst[:, :, :, :-1])
    t = inst.numpy()
    ref = np.zeros(t.shape, bool)
    ref[..., 1:] |= t[..., 1:] != t[..., :-1]
    ref[..., :-1] |= t[..., 1:] != t[..., :-1]
    assert edge.dtype == np.uint8
    np.testing.assert_array_equal(edge.numpy(), ref.astype(np.uint8))
    w = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    acc = tg.FloatTensor(1).fill_(0)               # GAN_Feat_loss: a plain buffer, added into
    acc += (w * 2).abs().mean() * 10.0 / 2
    acc += w.sum()
    assert acc.requires_grad and not acc.is_leaf
    acc.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.sign([1.0, -2.0, 3.0]) * 2 / 3 * 5 + 1)


# -- Conv*d._conv_forward (weight-standardized / modulated convolutions call it) ----------------
def _conv2d_reference(x, w, b, pad, mode):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="reflect" if mode == "reflect" else "constant")
    win = np.lib.stride_tricks.sliding_window_view(xp, w.shape[2:], axis=(2, 3))  # N C H W kh kw
    return np.einsum("nchwij,ocij->nohw", win, w) + b[None, :, None, None]


@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_conv_subclass_calls_conv_forward_with_a_transformed_weight(mode):
    class WSConv2d(nn.Conv2d):
        def forward(self, x):
            w = self.weight
            w = w - w.mean(dim=(1, 2, 3), keepdim=True)
            w = w / (w.view(w.size(0), -1).std(dim=1).view(-1, 1, 1, 1) + 1e-5)
            return self._conv_forward(x, w, self.bias)

    rng = np.random.default_rng(4)
    conv = WSConv2d(3, 4, 3, padding=1, padding_mode=mode).double()
    x = rng.standard_normal((2, 3, 6, 5))
    w = conv.weight.detach().numpy()
    w = w - w.mean((1, 2, 3), keepdims=True)
    w = w / (w.reshape(4, -1).std(1, ddof=1).reshape(-1, 1, 1, 1) + 1e-5)
    out = conv(tg.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), _conv2d_reference(x, w, conv.bias.detach().numpy(), 1, mode),
                               atol=1e-10)
    out.sum().backward()
    assert conv.weight.grad is not None and conv.weight.grad.shape == (4, 3, 3, 3)
    c1 = nn.Conv1d(2, 3, 3, padding=1).double()       # 1-D and 3-D layers have it too
    x1 = tg.tensor(rng.standard_normal((1, 2, 7)))
    np.testing.assert_allclose(c1._conv_forward(x1, c1.weight, None).detach().numpy(),
                               (c1(x1) - c1.bias.view(1, -1, 1)).detach().numpy(), atol=1e-12)
    c3 = nn.Conv3d(1, 2, 2).double()
    assert tuple(c3._conv_forward(tg.zeros(1, 1, 3, 3, 3, dtype=tg.float64), c3.weight, c3.bias).shape) == (1, 2, 2, 2, 2)
