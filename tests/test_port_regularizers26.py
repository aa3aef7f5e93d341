"""Session 26: GAN regularisers and training tricks ported beside torch 2.13 in float64 with
identical weights and the same random arrays -- CR-GAN / bCR / zCR (flips, translation by pad + crop
as a gather and as per-image slices, cutout as arange masks and as ContraD's scatter_ / unsqueeze_ /
conv1d / einsum mask, ContraD's affine_grid + nearest grid_sample crop), HelenMao/MSGAN's mode
seeking loss, jh-jeong/ContraD's training loop (NT-Xent with fill_diagonal_, supcon_fake, the two
projection heads, sg_linear, set_grad_enabled, lazy R1, G EMA), genforce/insgen's MoCo head (momentum
MLP updated through ``.data =``, a queue buffer written in no_grad with wrap-around), discriminator
rejection sampling and top-k generator training.  Losses, gradients, parameters, queues and the
accepted samples agreed to 1e-12 where well conditioned (1e-10 where Adam normalises a gradient that
is zero up to rounding: biases feeding a BatchNorm, a hinge bias whose terms cancel; DRS's F near the
running max, where log1p(-exp(d)) amplifies rounding by 1/|d|).  What differed, and is fixed: the
error types -- a class-index target out of range is torch's IndexError (cross_entropy / nll_loss)
or RuntimeError (the margin losses), quantile's q / interpolation refusals are RuntimeErrors.  (A
dim outside [-ndim, ndim) -- torch's IndexError -- was found too; that fix came from another branch.)  The tests below pin those
and check the ports' building blocks against NumPy (no torch here)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
import tensorgan.nn.functional as F
from tensorgan.errors import ConfigError, ShapeError


pytestmark = pytest.mark.usefixtures("float64_default")   # (tests/conftest.py)


# -- error types ---------------------------------------------------------------------------------
def test_permute_keeps_its_shape_error_for_a_wrong_count_or_a_repeat():
    x = tg.ones(2, 3, 4)
    for dims in ((0, 1), (0, 0, 1), (0, 1, 2, 3)):   # torch: RuntimeError, not IndexError
        with pytest.raises(ShapeError) as info:
            x.permute(*dims)
        assert not isinstance(info.value, IndexError)


def test_class_index_targets_out_of_range_raise_torch_types():
    x = tg.tensor(np.random.default_rng(0).standard_normal((5, 5)))
    bad = tg.tensor([0, 1, 2, 3, 7])
    for call in (lambda: F.cross_entropy(x, bad), lambda: F.nll_loss(x, bad),
                 lambda: F.cross_entropy(x, tg.tensor([0, 1, 2, 3, -2])),
                 lambda: F.cross_entropy(tg.zeros(2, 3, 4, 4), tg.full((2, 4, 4), 5))):
        with pytest.raises(IndexError, match=r"must be in \[0, \d\)") as info:
            call()
        assert isinstance(info.value, ConfigError)
    for call in (lambda: F.multi_margin_loss(x, bad),
                 lambda: F.multilabel_margin_loss(x, tg.tensor([[7, -1, 0, 0, 0]] * 5))):
        with pytest.raises(RuntimeError, match="target class indices"):
            call()
    assert float(F.cross_entropy(x, tg.tensor([0, 1, 2, 3, -100]))) > 0   # ignore_index may lie outside


def test_quantile_refusals_are_runtime_errors_as_in_torch():
    v = tg.tensor([1., 2., 3.])
    for call, text in ((lambda: tg.quantile(v, 1.5), r"range \[0, 1\], got 1.5"),
                       (lambda: tg.nanquantile(v, tg.tensor([0.5, -0.1])), "got -0.1"),
                       (lambda: tg.quantile(v, 0.5, interpolation="foo"), "'foo'")):
        with pytest.raises(RuntimeError, match=text) as info:
            call()
        assert isinstance(info.value, ConfigError)


# -- augmentations in tensors (CR / bCR / ContraD) ------------------------------------------------
def _np_translate(x, shifts, pad):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    h, w = x.shape[2:]
    return np.stack([xp[i, :, pad + dy:pad + dy + h, pad + dx:pad + dx + w] for i, (dy, dx) in enumerate(shifts)])


def _np_box(n, h, w, centres, size):
    ys, xs = np.arange(h)[None, :, None], np.arange(w)[None, None, :]
    inside = (np.abs(ys - centres[:, :1, None]) <= size // 2) & (np.abs(xs - centres[:, 1:, None]) <= size // 2)
    return (~inside).astype(np.float64)[:, None]


def test_translation_by_pad_and_gather_matches_numpy_and_its_adjoint():
    rng = np.random.default_rng(1)
    x0, shifts = rng.standard_normal((3, 2, 5, 5)), rng.integers(-2, 3, (3, 2))
    x = tg.tensor(x0, requires_grad=True)
    n, c, h, w = x.shape
    b = np.arange(n)[:, None, None]
    gy = np.arange(h)[None, :, None] + 2 + shifts[:, :1, None]
    gx = np.arange(w)[None, None, :] + 2 + shifts[:, 1:, None]
    idx = [tg.tensor(a) for a in np.broadcast_arrays(b, gy, gx)]
    y = F.pad(x, [2, 2, 2, 2]).permute(0, 2, 3, 1)[idx[0], idx[1], idx[2]].permute(0, 3, 1, 2)
    np.testing.assert_array_equal(y.numpy(), _np_translate(x0, shifts, 2))
    weight = rng.standard_normal(y.shape)
    (y * tg.tensor(weight)).sum().backward()
    adjoint = np.zeros((n, c, h + 4, w + 4))
    for i, (dy, dx) in enumerate(shifts):
        adjoint[i, :, 2 + dy:2 + dy + h, 2 + dx:2 + dx + w] += weight[i]
    np.testing.assert_allclose(x.grad.numpy(), adjoint[:, :, 2:-2, 2:-2], atol=1e-15)


def test_contrad_cutout_mask_built_in_place_equals_the_arange_box():
    rng = np.random.default_rng(2)
    x = tg.tensor(rng.standard_normal((4, 3, 6, 7)))
    centres = rng.integers(0, 6, (4, 2))
    mask_h, mask_w = x.new_zeros(4, 6), x.new_zeros(4, 7)
    out = mask_h.scatter_(1, tg.tensor(centres[:, :1]), 1).unsqueeze_(1)   # scatter_ returns self
    assert out is mask_h and mask_h.shape == (4, 1, 6)
    mask_w.scatter_(1, tg.tensor(centres[:, 1:]), 1).unsqueeze_(1)
    box = tg.ones(1, 1, 3)
    mask = 1. - tg.einsum('bci,bcj->bcij', F.conv1d(mask_h, box, padding=1), F.conv1d(mask_w, box, padding=1))
    np.testing.assert_array_equal(mask.numpy(), _np_box(4, 6, 7, centres, 3))
    ys, xs = tg.arange(6).view(1, 6, 1), tg.arange(7).view(1, 1, 7)
    cy, cx = tg.tensor(centres[:, 0]).view(4, 1, 1), tg.tensor(centres[:, 1]).view(4, 1, 1)
    inside = ((ys - cy).abs() <= 1) & ((xs - cx).abs() <= 1)
    np.testing.assert_array_equal((x * (~inside).unsqueeze(1).to(x.dtype)).numpy(), (x * mask).numpy())


def test_flip_and_integer_crop_through_affine_grid_nearest_is_a_zero_padded_shift():
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal((4, 2, 8, 8))
    signs, shifts = np.array([1., -1., -1., 1.]), rng.integers(-2, 3, (4, 2))
    x = tg.tensor(x0, requires_grad=True)
    theta = tg.eye(2, 3).repeat(4, 1, 1)
    theta[:, 0, 0] = tg.tensor(signs)
    theta[:, :, 2] = tg.tensor(shifts.astype(np.float64)) / 4.
    grid = F.affine_grid(theta, [4, 2, 8, 8], align_corners=False)
    y = F.grid_sample(x, grid, mode='nearest', padding_mode='zeros', align_corners=False)
    flipped = np.where(signs[:, None, None, None] < 0, x0[..., ::-1], x0)
    # theta's translation (tx, ty) samples input pixel (col + tx, row + ty): a shift by -t
    expect = _np_translate(flipped, shifts[:, ::-1], 2)
    np.testing.assert_array_equal(y.numpy(), expect)
    y.sum().backward()                       # nearest: each kept pixel gets its one gradient
    counts = _np_translate(np.ones_like(x0), shifts[:, ::-1], 2)
    assert x.grad.sum().item() == counts.sum()


# -- ContraD's contrastive losses -----------------------------------------------------------------
def _nt_xent(out1, out2, temperature):
    n = out1.size(0)
    outputs = tg.cat([out1, out2], dim=0)
    sim = outputs @ outputs.t() / temperature
    sim.fill_diagonal_(-5e4)
    sim = F.log_softmax(sim, dim=1)
    return -tg.sum(sim[:n, n:].diag() + sim[n:, :n].diag()) / (2 * n)


def _np_nt_xent(a, b, t):
    z = np.concatenate([a, b]) / np.linalg.norm(np.concatenate([a, b]), axis=1, keepdims=True)
    s = z @ z.T / t
    np.fill_diagonal(s, -5e4)
    lsm = s - np.log(np.exp(s - s.max(1, keepdims=True)).sum(1, keepdims=True)) - s.max(1, keepdims=True)
    n = len(a)
    return -(np.diag(lsm[:n, n:]).sum() + np.diag(lsm[n:, :n]).sum()) / (2 * n)


def test_nt_xent_with_fill_diagonal_matches_numpy_and_finite_differences():
    rng = np.random.default_rng(4)
    a0, b0 = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    a = tg.tensor(a0, requires_grad=True)
    loss = _nt_xent(F.normalize(a), F.normalize(tg.tensor(b0)), 0.1)
    np.testing.assert_allclose(loss.item(), _np_nt_xent(a0, b0, 0.1), rtol=1e-12)
    loss.backward()
    num = np.zeros_like(a0)
    for i in np.ndindex(a0.shape):
        d = np.zeros_like(a0)
        d[i] = 1e-6
        num[i] = (_np_nt_xent(a0 + d, b0, 0.1) - _np_nt_xent(a0 - d, b0, 0.1)) / 2e-6
    np.testing.assert_allclose(a.grad.numpy(), num, rtol=1e-5, atol=1e-7)


def test_supcon_fake_mask_built_with_fill_diagonal_on_a_slice():
    n = 3
    sim = tg.zeros(3 * n, 3 * n)
    mask = tg.zeros_like(sim)
    mask[2 * n:, 2 * n:] = 1
    mask.fill_diagonal_(0)
    mask = mask[2 * n:]
    mask = mask / mask.sum(1, keepdim=True)
    expect = np.zeros((n, 3 * n))
    expect[:, 2 * n:] = (1 - np.eye(n)) / (n - 1)
    np.testing.assert_array_equal(mask.numpy(), expect)
    view = tg.zeros(6, 4)
    view[2:].fill_diagonal_(3.)                           # in place through a row slice
    assert view.numpy()[2:].trace() == 12 and view.numpy()[:2].sum() == 0


def test_sg_linear_detach_stops_only_the_linear_head_gradient():
    lin, proj = nn.Linear(4, 1), nn.Linear(4, 2)
    x = tg.tensor(np.random.default_rng(5).standard_normal((3, 4)), requires_grad=True)
    features = x * 2
    out = lin(features.detach()) + proj(features).mean() * 0.
    out.sum().backward()
    assert lin.weight.grad is not None and np.all(x.grad.numpy() == 0)


# -- InsGen's MoCo queue --------------------------------------------------------------------------
class _Queue(nn.Module):
    def __init__(self, dim, size):
        super().__init__()
        self.size = size
        self.register_buffer("queue", tg.tensor(np.random.default_rng(6).standard_normal((dim, size))))
        self.queue = F.normalize(self.queue, dim=0)           # reassigning the buffer keeps it one
        self.register_buffer("queue_ptr", tg.zeros(1, dtype=tg.long))

    @tg.no_grad()
    def enqueue(self, keys):
        b, keys, ptr = keys.shape[0], keys.T, int(self.queue_ptr)
        if ptr + b > self.size:
            self.queue[:, ptr:] = keys[:, :self.size - ptr]
            self.queue[:, :b - (self.size - ptr)] = keys[:, self.size - ptr:]
            self.queue_ptr[0] = b - (self.size - ptr)
        else:
            self.queue[:, ptr:ptr + b] = keys
            self.queue_ptr[0] = ptr + b


def test_moco_queue_wraps_around_in_no_grad_like_a_numpy_ring():
    q = _Queue(3, 7)
    assert "queue" in dict(q.named_buffers()) and "queue" in q.state_dict()
    ring = q.queue.numpy().copy()
    ptr, rng = 0, np.random.default_rng(7)
    for _ in range(5):
        keys = tg.tensor(rng.standard_normal((3, 3)), requires_grad=True)   # a grad-carrying key
        q.enqueue(keys)
        for row in keys.detach().numpy():
            ring[:, ptr] = row
            ptr = (ptr + 1) % 7
        np.testing.assert_array_equal(q.queue.numpy(), ring)
        assert int(q.queue_ptr) == ptr and not q.queue.requires_grad


def test_momentum_update_through_data_assignment_keeps_a_frozen_leaf():
    q, k = nn.Linear(3, 2), nn.Linear(3, 2)
    k.requires_grad_(False)
    k.load_state_dict(q.state_dict())
    with tg.no_grad():
        q.weight.add_(1.)
        for pq, pk in zip(q.parameters(), k.parameters()):
            pk.data = pk.data * 0.9 + pq.data * 0.1
    np.testing.assert_allclose(k.weight.numpy(), q.weight.numpy() - 0.9, atol=1e-15)
    assert isinstance(k.weight, nn.Parameter) and k.weight.is_leaf and not k.weight.requires_grad


# -- DRS, top-k, mode seeking ---------------------------------------------------------------------
def test_drs_acceptance_matches_numpy_and_keeps_the_masked_samples():
    rng = np.random.default_rng(8)
    logits0, u, eps = rng.standard_normal(12) * 2, rng.random(12), 1e-6
    x = tg.tensor(rng.standard_normal((12, 2, 3, 3)))
    dx = tg.clamp(tg.sigmoid(tg.tensor(logits0)), eps, 1 - eps)
    logit = tg.log(dx) - tg.log(1 - dx)
    np.testing.assert_allclose(logit.numpy(), tg.logit(dx).numpy(), atol=1e-12)
    m = logit.max().item()
    f = logit - m - tg.log1p(-tg.exp(tg.clamp(logit - m - eps, max=-eps)))
    p = tg.sigmoid(f - tg.quantile(f, 0.8))
    kept = x[tg.tensor(u) < p]
    d = np.minimum(logits0 - logits0.max() - eps, -eps)
    f0 = logits0 - logits0.max() - np.log1p(-np.exp(d))
    p0 = 1 / (1 + np.exp(-(f0 - np.quantile(f0, 0.8))))
    np.testing.assert_allclose(p.numpy(), p0, rtol=1e-8)
    np.testing.assert_array_equal(kept.numpy(), x.numpy()[u < p0])


def test_topk_generator_loss_sends_gradient_only_to_the_k_best_fakes():
    scores = tg.tensor([0.3, -1.2, 2.0, 0.9, -0.1, 1.5], requires_grad=True)
    k = max(int(6 * 0.5 ** 1), int(6 * 0.25))                      # Sinha et al.'s decayed k
    top, idx = tg.topk(scores, k)
    F.softplus(-top).mean().backward()
    assert idx.tolist() == [2, 5, 3]
    expect = np.zeros(6)
    expect[[2, 5, 3]] = -1 / (1 + np.exp(np.array([2.0, 1.5, 0.9]))) / 3
    np.testing.assert_allclose(scores.grad.numpy(), expect, rtol=1e-14)


def test_quantile_gradient_splits_between_the_two_neighbours():
    v = tg.tensor([4., 1., 3., 2., 5.], requires_grad=True)
    tg.quantile(v, 0.8).backward()                                    # position 3.2 of sorted
    np.testing.assert_allclose(v.grad.numpy(), [0.8, 0, 0, 0, 0.2], atol=1e-15)


def test_mode_seeking_loss_gradient_matches_finite_differences():
    rng = np.random.default_rng(9)
    f1, f2, z1, z2 = (rng.standard_normal((2, 3)) for _ in range(4))

    def ms(a):
        return 1 / (np.abs(f2 - a).mean() / np.abs(z2 - z1).mean() + 1e-5)

    a = tg.tensor(f1, requires_grad=True)
    lz = tg.mean(tg.abs(tg.tensor(f2) - a)) / tg.mean(tg.abs(tg.tensor(z2) - tg.tensor(z1)))
    loss = 1 / (lz + 1e-5)
    loss.backward()
    np.testing.assert_allclose(loss.item(), ms(f1), rtol=1e-13)
    num = np.zeros_like(f1)
    for i in np.ndindex(f1.shape):
        d = np.zeros_like(f1)
        d[i] = 1e-7
        num[i] = (ms(f1 + d) - ms(f1 - d)) / 2e-7
    np.testing.assert_allclose(a.grad.numpy(), num, rtol=1e-6)
