"""Session 26: GAN compression and distillation ported at tiny sizes and run beside torch 2.13 in
float64 with identical weights -- mit-han-lab/gan-compression (the once-for-all
SuperMobileResnetGenerator built from SuperConv2d / SuperConvTranspose2d / SuperSeparableConv2d
run with sampled channel configs, 1x1 SuperConv2d adapters on teacher / student activations
caught by forward hooks found through ``named_modules``, pix2pix teacher-student steps with an
LSGAN PatchGAN D and Adam), snap-research/CAT (inception-residual blocks, the KA distillation
loss, an L1 sparsity term on the first norms' scales, a global scale threshold and the channel
surgery that builds the smaller generator from sliced weights) and ``nn.utils.prune``
(l1_unstructured / ln_structured / global_unstructured / random_unstructured, containers,
state_dict with masks, deepcopy, training the pruned copy, remove).  Losses, gradients, masks,
state_dict keys and the shrunk model's output agreed to 1e-12 (parameters to 2e-10: the biases
in front of InstanceNorm have zero-mean gradient noise that Adam normalises).
What differed, and is fixed: ``_ConvTransposeNd._output_padding`` had a private signature (the
Super transposed conv calls torch's), and pruning a missing name raised a plain ConfigError
where torch's is an AttributeError.  The other tests pin what the ports lean on."""
import copy

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
import tensorgan.nn.functional as F
from tensorgan.errors import ConfigError, ShapeError
from tensorgan.nn.utils import prune


def _f64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _filled(module, seed=0):
    rng = np.random.default_rng(seed)
    module = module.double()
    with tg.no_grad():
        for p in module.parameters():
            p.copy_(_f64(rng.standard_normal(tuple(p.shape))))
    return module


class SuperConvTranspose2d(nn.ConvTranspose2d):
    """gan-compression's: the first ``in`` / ``channel`` channels of the full weight."""

    def forward(self, x, config, output_size=None):
        output_padding = self._output_padding(x, output_size, self.stride, self.padding,
                                              self.kernel_size, 2, self.dilation)
        weight = self.weight[:x.size(1), :config["channel"]]
        bias = self.bias[:config["channel"]]
        return F.conv_transpose2d(x, weight, bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)


class SuperConv2d(nn.Conv2d):
    def forward(self, x, config):
        weight = self.weight[:config["channel"], :x.size(1)]
        return F.conv2d(x, weight, self.bias[:config["channel"]], self.stride, self.padding,
                        self.dilation, self.groups)


# -- fixes --------------------------------------------------------------------------------------
def test_conv_transpose_output_padding_has_torchs_signature():
    ct = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
    x = tg.ones(1, 4, 5, 5)
    geometry = (ct.stride, ct.padding, ct.kernel_size)
    assert ct._output_padding(x, None, *geometry, 2, ct.dilation) == (1, 1)   # the layer's own
    assert ct._output_padding(x, [10, 10], *geometry, 2, ct.dilation) == [1, 1]
    assert ct._output_padding(x, [1, 4, 9, 9], *geometry, 2, ct.dilation) == [0, 0]  # N, C too
    assert ct._output_padding(x[0], [4, 10, 9], *geometry, 2, ct.dilation) == [1, 0]  # unbatched
    assert ct._output_padding(x, [10, 9], *geometry) == [1, 0]    # torch < 1.12's 5-arg call
    assert ct._output_padding(x, [14, 15], stride=3, padding=1, kernel_size=3) == [1, 2]
    with pytest.raises(ValueError, match=r"valid sizes range from \[9, 9\] to \[10, 10\]"):
        ct._output_padding(x, [20, 20], *geometry, 2, ct.dilation)
    with pytest.raises(ShapeError, match="output_size must be 2 ints"):
        ct._output_padding(x, [9], *geometry, 2, ct.dilation)


def test_super_conv_transpose_slices_match_a_small_layer_and_grads_stay_in_the_slice():
    big = _filled(SuperConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1))
    small = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1).double()
    small.load_state_dict({"weight": big.weight.detach()[:3, :2], "bias": big.bias.detach()[:2]})
    x = _f64(np.random.default_rng(1).standard_normal((2, 3, 4, 4)))
    for size in (None, [7, 8], [8, 7]):
        y = big(x, {"channel": 2}, output_size=size)
        np.testing.assert_allclose(y.detach().numpy(), small(x, output_size=size).numpy(),
                                   atol=1e-13)
    y.pow(2).sum().backward()
    grad = big.weight.grad.numpy()
    assert np.abs(grad[:3, :2]).sum() > 0 and not grad[3:].any() and not grad[:, 2:].any()


def test_pruning_a_missing_name_is_an_attribute_error():
    conv = nn.Conv2d(3, 4, 3)
    for call in (lambda: prune.l1_unstructured(conv, "nope", 0.5),
                 lambda: prune.ln_structured(conv, "nope", 0.5, n=2, dim=0),
                 lambda: prune.identity(conv, "nope")):
        with pytest.raises(AttributeError, match="Conv2d has no parameter 'nope'") as info:
            call()
        assert isinstance(info.value, ConfigError)
    assert not prune.is_pruned(conv) and [n for n, _ in conv.named_parameters()] == ["weight", "bias"]


# -- what the ports lean on ---------------------------------------------------------------------
def test_super_conv_config_equals_the_sliced_small_conv():
    big = _filled(SuperConv2d(8, 6, 3, padding=1), seed=2)
    small = nn.Conv2d(5, 4, 3, padding=1).double()
    small.load_state_dict({"weight": big.weight.detach()[:4, :5], "bias": big.bias.detach()[:4]})
    x = _f64(np.random.default_rng(3).standard_normal((1, 5, 6, 6)))
    np.testing.assert_allclose(big(x, {"channel": 4}).detach().numpy(), small(x).numpy(), atol=1e-13)


def test_distillation_hooks_found_by_named_modules_catch_the_activations():
    # gan-compression's add_hook: register_forward_hook on named_modules whose name is mapped
    net = _filled(nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU(), nn.Sequential(nn.Conv2d(4, 4, 1),
                                                                               nn.Tanh())))
    acts, handles = {}, []
    for name, module in net.named_modules():
        if name in ("1", "2.1"):
            handles.append(module.register_forward_hook(
                lambda m, i, o, name=name: acts.__setitem__(name, o)))
    x = _f64(np.random.default_rng(4).standard_normal((2, 3, 3, 3)))
    out = net(x)
    assert acts["2.1"] is out and set(acts) == {"1", "2.1"}
    np.testing.assert_array_equal(acts["1"].detach().numpy(), net[1](net[0](x)).detach().numpy())
    adapter = _filled(nn.Conv2d(4, 4, 1), seed=5)
    loss = F.mse_loss(adapter(acts["1"]), out.detach())
    loss.backward()
    assert net[0].weight.grad is not None and net[2][0].weight.grad is None   # only via the adapter
    for h in handles:
        h.remove()
    assert all(not m._forward_hooks for m in net.modules())


def _ka(x, y):
    """CAT's kernel alignment of two activation batches."""
    xv, yv = x.view(x.size(0), -1), y.view(y.size(0), -1)
    gx, gy = xv @ xv.T, yv @ yv.T
    return (gx * gy).sum() / ((gx ** 2).sum() * (gy ** 2).sum()) ** 0.5


def test_kernel_alignment_value_invariances_and_gradient():
    rng = np.random.default_rng(6)
    xn, yn = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal((3, 5, 3, 3))
    gx, gy = xn.reshape(3, -1) @ xn.reshape(3, -1).T, yn.reshape(3, -1) @ yn.reshape(3, -1).T
    expected = (gx * gy).sum() / np.sqrt((gx ** 2).sum() * (gy ** 2).sum())
    x = _f64(xn, requires_grad=True)
    value = _ka(x, _f64(yn))
    assert abs(value.item() - expected) < 1e-14
    assert abs(_ka(x * 3.0, _f64(yn)).item() - expected) < 1e-14            # scale-free
    assert abs(_ka(x, x).item() - 1.0) < 1e-14
    (-value).backward()
    eps, flat = 1e-6, xn.reshape(-1)
    for i in (0, 7, 40):
        hi, lo = flat.copy(), flat.copy()
        hi[i] += eps
        lo[i] -= eps
        fd = -(_ka(_f64(hi.reshape(xn.shape)), _f64(yn)).item()
               - _ka(_f64(lo.reshape(xn.shape)), _f64(yn)).item()) / (2 * eps)
        assert abs(x.grad.numpy().reshape(-1)[i] - fd) < 1e-8


def test_channel_surgery_equals_zeroing_the_pruned_norm_scales():
    # CAT's shrink: keep the channels whose affine-norm scale beats the threshold; slicing the
    # conv -> norm -> relu -> conv chain equals the big chain with those scales and shifts zeroed
    big = _filled(nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.InstanceNorm2d(6, affine=True),
                                nn.ReLU(), nn.Conv2d(6, 3, 1)), seed=8)
    scales = big[1].weight.detach().abs()
    keep = (scales > scales.median()).nonzero().flatten()
    n = sum(scales > scales.median()).item()           # CAT counts with the builtin sum
    assert isinstance(n, int) and n == len(keep) == 3   # median: the lower of the middle two
    small = copy.deepcopy(big)
    small[0], small[1], small[3] = nn.Conv2d(3, n, 3, padding=1), nn.InstanceNorm2d(n, affine=True), \
        nn.Conv2d(n, 3, 1)
    small.double()
    with tg.no_grad():
        small[0].weight.copy_(big[0].weight[keep])
        small[0].bias.copy_(big[0].bias[keep])
        small[1].load_state_dict({k: v[keep] for k, v in big[1].state_dict().items()})
        small[3].weight.copy_(big[3].weight[:, keep])
        small[3].bias.copy_(big[3].bias)
        dropped = scales <= scales.median()
        big[1].weight[dropped] = 0
        big[1].bias[dropped] = 0
    x = _f64(np.random.default_rng(9).standard_normal((2, 3, 5, 5)))
    np.testing.assert_allclose(small(x).detach().numpy(), big(x).detach().numpy(), atol=1e-13)
    assert sum(p.numel() for p in small.parameters()) == n * 27 + n + 2 * n + n * 3 + 3


def test_global_unstructured_prunes_the_smallest_magnitudes_across_layers():
    a, b = _filled(nn.Conv2d(3, 4, 3), seed=10), _filled(nn.Linear(5, 2), seed=11)
    prune.l1_unstructured(a, "weight", amount=0.5)        # the earlier mask is kept (a container)
    first = a.weight_mask.numpy().copy()
    prune.global_unstructured([(a, "weight"), (b, "weight")], prune.L1Unstructured, amount=0.5)
    wa, wb = a.weight_orig.detach().numpy(), b.weight_orig.detach().numpy()
    alive = np.concatenate([np.abs(wa).reshape(-1)[first.reshape(-1) == 1], np.abs(wb).reshape(-1)])
    k = int(round(0.5 * alive.size))        # the fraction of the entries still alive
    threshold = np.sort(alive)[k - 1]
    np.testing.assert_array_equal(a.weight_mask.numpy(), first * (np.abs(wa) > threshold))
    np.testing.assert_array_equal(b.weight_mask.numpy(), (np.abs(wb) > threshold).astype(float))
    hooks = list(a._forward_pre_hooks.values())
    assert [type(m).__name__ for m in hooks[0]] == ["L1Unstructured", "CustomFromMask"]
    assert list(a.state_dict()) == ["bias", "weight_orig", "weight_mask"]


def test_pruned_model_deepcopies_trains_apart_and_reloads_through_identity():
    net = _filled(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 1)), seed=12)
    prune.ln_structured(net[0], "weight", amount=0.5, n=2, dim=0)
    prune.l1_unstructured(net[2], "weight", amount=3)
    x = _f64(np.random.default_rng(13).standard_normal((1, 3, 4, 4)))
    dup = copy.deepcopy(net)          # torch refuses until a no_grad forward; tensorgan copies
    before = net[0].weight_orig.detach().numpy().copy()
    opt = tg.optim.SGD(dup.parameters(), lr=0.1)
    dup(x).pow(2).sum().backward()
    mask = dup[0].weight_mask.numpy()
    assert ((dup[0].weight_orig.grad.numpy() != 0) <= (mask != 0)).all()   # pruned rows get none
    opt.step()
    np.testing.assert_array_equal(net[0].weight_orig.detach().numpy(), before)
    assert not dup[0].weight.detach().numpy()[mask == 0].any()
    fresh = _filled(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 1)), seed=14)
    with pytest.raises(RuntimeError, match="weight_orig"):
        fresh.load_state_dict(net.state_dict())
    for i in (0, 2):
        prune.identity(fresh[i], "weight")
    fresh.load_state_dict(net.state_dict())
    np.testing.assert_array_equal(fresh(x).detach().numpy(), net(x).detach().numpy())
    orig = dup[0].weight_orig
    prune.remove(dup[0], "weight")
    assert dup[0].weight is orig and any(p is orig for p in opt.param_groups[0]["params"])
    assert [n for n, _ in dup[0].named_parameters()] == ["bias", "weight"]


def test_batch_norm_calibration_paths():
    # gan-compression's SuperSynchronizedBatchNorm2d: zero-pad the missing channels, momentum=1
    bn = nn.BatchNorm2d(6).double()
    xn = np.random.default_rng(15).standard_normal((2, 4, 3, 3))
    padded = tg.cat([_f64(xn), tg.zeros(2, 2, 3, 3, dtype=tg.float64)], dim=1)
    out = F.batch_norm(padded, bn.running_mean, bn.running_var, bn.weight, bn.bias, True, 1,
                       bn.eps)[:, :4]
    mean, var = xn.mean(axis=(0, 2, 3)), xn.var(axis=(0, 2, 3))
    np.testing.assert_allclose(bn.running_mean.numpy()[:4], mean, atol=1e-15)
    np.testing.assert_allclose(bn.running_var.numpy()[:4], var * 18 / 17, atol=1e-15)
    np.testing.assert_allclose(out.detach().numpy(), (xn - mean[:, None, None])
                               / np.sqrt(var[:, None, None] + 1e-5), atol=1e-12)
    # re-estimation with momentum=None: the cumulative average over the batches seen
    bn.reset_running_stats()
    bn.momentum = None
    batches = [np.random.default_rng(s).standard_normal((2, 6, 2, 2)) + s for s in range(3)]
    for b in batches:
        bn(_f64(b))
    np.testing.assert_allclose(bn.running_mean.numpy(),
                               np.mean([b.mean(axis=(0, 2, 3)) for b in batches], axis=0), atol=1e-14)
    assert int(bn.num_batches_tracked) == 3
