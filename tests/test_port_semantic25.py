"""Session 25: pieces of two semantic image synthesis GANs, OASIS (boschresearch/OASIS) and SEAN
(ZPdesu/SEAN), ported tiny and run beside torch 2.13 in float64 (losses, grads and parameters
agreed to 1e-11 over 3 steps). These tests keep what the ports leaned on, as invariants or
closed forms (no torch here)."""
import copy
import pickle

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F


class _ACELike(nn.Module):
    """SEAN's ACE picks its per-class layer with ``self.__getattr__('fc_mu' + str(j))``."""

    def __init__(self):
        super().__init__()
        for j in range(3):
            setattr(self, "fc_mu%d" % j, nn.Linear(2, 2))
        self.noise_var = nn.Parameter(tg.zeros(2))
        self.register_buffer("stat", tg.ones(2))
        self.plain = 5

    def forward(self, codes):
        return tg.stack([self.__getattr__("fc_mu" + str(j))(codes[j]) for j in range(3)])


def test_module_getattr_called_by_hand_sees_registered_members_as_torch():
    m = _ACELike()
    assert m.__getattr__("fc_mu1") is m.fc_mu1
    assert m.__getattr__("noise_var") is m.noise_var
    assert m.__getattr__("stat") is m.stat
    assert nn.Module.__getattr__(m, "fc_mu2") is m.fc_mu2
    assert m(tg.ones(3, 2)).shape == (3, 2)
    # torch's __getattr__ sees only parameters / buffers / sub-modules
    for name in ("plain", "training", "nope"):
        with pytest.raises(AttributeError, match=f"'_ACELike' object has no attribute '{name}'"):
            m.__getattr__(name)
    assert not hasattr(m, "nope") and m.plain == 5


def test_wrapper_getattr_falls_back_through_super_getattr():
    class Wrapper(nn.Module):       # the DataParallel-style wrapper idiom
        def __init__(self, module):
            super().__init__()
            self.module = module

        def __getattr__(self, name):
            try:
                return super().__getattr__(name)
            except AttributeError:
                return getattr(self.module, name)

    w = Wrapper(_ACELike())
    assert w.fc_mu0 is w.module.fc_mu0 and w.plain == 5
    assert super(Wrapper, w).__getattr__("module") is w.module


def test_module_getattr_keeps_copy_and_pickle_working():
    m = _ACELike()
    for other in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert other.__getattr__("fc_mu0") is other.fc_mu0 is not m.fc_mu0
        np.testing.assert_array_equal(other.fc_mu0.weight.numpy(), m.fc_mu0.weight.numpy())


def test_sean_masked_average_pooling_and_style_scatter_gradient_closed_form():
    rng = np.random.RandomState(0)
    C, H, W, S = 3, 4, 5, 3
    classes = rng.randint(0, S - 1, size=(H, W))            # class S-1 absent: skipped
    seg = tg.tensor(np.eye(S)[classes].transpose(2, 0, 1)[None])
    codes = tg.tensor(rng.randn(1, C, H, W), requires_grad=True)
    R = rng.randn(1, C, H, W)
    # Zencoder: per-region mean of the codes (masked_select + setitem into a zeros tensor)
    vec = tg.zeros((1, S, C))
    for j in range(S):
        area = tg.sum(seg.bool()[0, j])
        if area > 0:
            vec[0][j] = codes[0].masked_select(seg.bool()[0, j]).reshape(C, area).mean(1)
    # ACE: each region's code scattered back over its pixels (masked_scatter_ on a view)
    avg = tg.zeros((1, C, H, W))
    for j in range(S):
        area = tg.sum(seg.bool()[0, j])
        if area > 0:
            avg[0].masked_scatter_(seg.bool()[0, j], vec[0][j].reshape(C, 1).expand(C, area))
    (avg * tg.tensor(R)).sum().backward()
    c, r = codes.detach().numpy()[0], R[0]
    want_avg, want_grad = np.zeros_like(c), np.zeros_like(c)
    for j in range(S - 1):
        m = classes == j
        want_avg[:, m] = c[:, m].mean(1, keepdims=True)
        want_grad[:, m] = r[:, m].sum(1, keepdims=True) / m.sum()
    np.testing.assert_allclose(avg.detach().numpy()[0], want_avg, atol=1e-12)
    np.testing.assert_allclose(codes.grad.numpy()[0], want_grad, atol=1e-12)
    np.testing.assert_array_equal(vec.detach().numpy()[0, S - 1], 0)


def _class_balancing(label):
    occ = tg.sum(label, dim=(0, 2, 3))
    present = (occ > 0).sum()
    coeff = tg.reciprocal(occ) * tg.numel(label) / (present * label.shape[1])
    return coeff[tg.argmax(label, dim=1, keepdim=True)]


def test_oasis_class_balanced_n_plus_1_loss_closed_form():
    rng = np.random.RandomState(1)
    B, N, H, W = 2, 4, 3, 5
    lab = rng.randint(0, N - 1, size=(B, 1, H, W))           # class N-1 absent
    label = tg.zeros(B, N, H, W, dtype=tg.float64).scatter_(1, tg.tensor(lab), 1.0)
    weight = _class_balancing(label)
    # each present class gets the same total weight; the map averages to 1 over the pixels
    w = weight.numpy()[:, 0]
    totals = [w[lab[:, 0] == k].sum() for k in range(N - 1)]
    np.testing.assert_allclose(totals, B * H * W / (N - 1))
    # N+1 targets: real pixels -> their class + 1, fake pixels -> class 0
    integers = tg.argmax(label, dim=1)
    for real in (True, False):
        t = integers.clone()
        t += ((tg.ones(1) if real else tg.zeros(1)).expand_as(label)[:, 0] * N).long()
        t = tg.clamp(t, min=N - 1) - N + 1
        np.testing.assert_array_equal(t.numpy(), lab[:, 0] + 1 if real else 0)
    logits = rng.randn(B, N + 1, H, W)
    x = tg.tensor(logits, requires_grad=True)
    tgt = tg.tensor(lab[:, 0] + 1)
    loss = tg.mean(F.cross_entropy(x, tgt, reduction="none") * weight[:, 0])
    loss.backward()
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    onehot = np.eye(N + 1)[lab[:, 0] + 1].transpose(0, 3, 1, 2)
    nll = -(logp * onehot).sum(1)
    np.testing.assert_allclose(loss.item(), (nll * w).mean(), rtol=1e-12)
    grad = (np.exp(logp) - onehot) * w[:, None] / w.size
    np.testing.assert_allclose(x.grad.numpy(), grad, atol=1e-14)


def test_oasis_labelmix_mask_from_one_element_tensor_writes():
    label = tg.tensor(np.eye(3)[[[0, 1], [2, 1]]].transpose(2, 0, 1)[None])
    target = tg.argmax(label, dim=1, keepdim=True)
    for c, bit in zip(tg.unique(target), (1, 0, 1)):
        target[target == c] = tg.tensor([bit])     # stands in for torch.randint(0, 2, (1,))
    # upstream rewrites the map in place, so class 0's pixels (now 1) are caught again by class
    # 1's write (as in torch): classes 0, 1 -> 0 and class 2 -> 1
    np.testing.assert_array_equal(target.numpy()[0, 0], [[0, 0], [1, 0]])
    mask = target.float()
    real, fake = tg.ones(1, 3, 2, 2), tg.zeros(1, 3, 2, 2)
    mixed = mask * real + (1 - mask) * fake
    np.testing.assert_array_equal(mixed.numpy()[0, 1], [[0, 0], [1, 0]])


def test_oasis_ema_through_state_dict_aliases_and_bn_stat_recompute():
    tg.manual_seed(0)
    G = nn.Sequential(nn.utils.spectral_norm(nn.Conv2d(2, 2, 3, padding=1)), nn.BatchNorm2d(2, affine=False))
    x = tg.randn(2, 2, 4, 4)
    G(x)
    EMA = copy.deepcopy(G)
    with tg.no_grad():
        for p in G.parameters():
            p.add_(1.0)
    G(x)
    before = {k: v.numpy().copy() for k, v in EMA.state_dict().items()}
    now = {k: v.numpy().copy() for k, v in G.state_dict().items()}
    with tg.no_grad():
        for key in EMA.state_dict():
            EMA.state_dict()[key].data.copy_(EMA.state_dict()[key].data * 0.9 + G.state_dict()[key].data * 0.1)
    after = EMA.state_dict()
    for key in before:
        want = before[key] * 0.9 + now[key] * 0.1
        if before[key].dtype.kind == "i":      # num_batches_tracked: 1*0.9 + 2*0.1 -> 1 (truncated)
            want = want.astype(before[key].dtype)
        np.testing.assert_allclose(after[key].numpy(), want, rtol=1e-6, err_msg=key)
    # BN stat recomputation: forward passes in train mode under no_grad move the running stats
    rm = EMA[1].running_mean.numpy().copy()
    with tg.no_grad():
        EMA(x)
    assert not np.allclose(EMA[1].running_mean.numpy(), rm)
    assert int(EMA[1].num_batches_tracked) == 2
