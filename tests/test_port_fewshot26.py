"""Session 26: few-shot GAN adaptation, ported at tiny sizes and run beside torch 2.13 in float64
with identical weights -- FreezeD (sangwoomo/FreezeD's stylegan/finetune.py: the discriminator's
lower layers frozen by requires_grad flags matched on parameter names, R1, feature-matching and
L2-to-source regularisers, the style group at lr * 0.01 with an extra 'mult' key, the G EMA),
MineGAN (the miner in front of a frozen G, only the miner optimised), EWC (Fisher information of
G's parameters from squared gradients of the D-based loss, three ways: autograd.grad with
allow_unused and in-place .data sums, per-batch backward, per-sample stacked grads; buffers named
``a__b_estimated_fisher``; the quadratic penalty), CDC (utkarshojha/few-shot-gan-adaptation: the
softmax over pairwise cosine similarities written element by element into a zeros tensor, KL
against the frozen source G's, the patch-level discriminator with an Extra head picked by a NumPy
integer, anchor latents picked by a NumPy index array) and DVD-GAN's dual discriminators.
Losses, gradients, parameters, optimizer state counts and None-gradients of frozen parts agreed
to 3e-13.  What differed, and is fixed: ``x[i, j] = v`` with ``v`` of shape (1,) (CDC's
``dist[p1, c] = cosine_similarity(a, b)``) was refused (torch drops the value's leading length-1
dims for every index), and a value that cannot fit raised NumPy's bare ValueError on a tracked
tensor.  No torch here: the checks are invariants, NumPy and finite differences."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
import tensorgan.nn.functional as F
from tensorgan.errors import ShapeError


# -- x[i, j] = one-element tensor (CDC's distance matrix) -----------------------------------------
def test_single_element_write_takes_a_one_element_tensor():
    x = tg.zeros(2, 3, dtype=tg.float64)
    x[0, 1] = tg.tensor([0.5], dtype=tg.float64)
    x[1, 2] = tg.tensor([[0.7]], dtype=tg.float64)
    np.testing.assert_array_equal(x.numpy(), [[0, 0.5, 0], [0, 0, 0.7]])


def test_single_element_write_passes_the_gradient_back_in_the_value_shape():
    v = tg.tensor([[2.0]], dtype=tg.float64, requires_grad=True)
    y = tg.zeros(2, 3, dtype=tg.float64)
    y[1, 1] = v
    (y * y).sum().backward()
    assert v.grad.shape == (1, 1) and float(v.grad[0, 0]) == 4.0


@pytest.mark.parametrize("grad", [False, True])
def test_a_value_that_does_not_fit_is_a_shape_error(grad):
    v = tg.tensor([1.0, 2.0], requires_grad=grad)
    y = tg.zeros(2, 3)
    for key in ((0, 1), (0, slice(None))):
        with pytest.raises(RuntimeError, match="shape") as info:
            y[key] = v
        assert isinstance(info.value, ShapeError)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-8))


# -- CDC: the cross-domain distance consistency loss ---------------------------------------------
def _cdc_distances(feat: tg.Tensor) -> tg.Tensor:
    """The original's loops: row p1 holds the cosine similarity of sample p1 to every other."""
    n, sim = feat.shape[0], nn.CosineSimilarity()
    dist = tg.zeros([n, n - 1], dtype=feat.dtype)
    for p1 in range(n):
        c = 0
        for p2 in range(n):
            if p1 != p2:
                dist[p1, c] = sim(feat[p1].reshape(-1).unsqueeze(0), feat[p2].reshape(-1).unsqueeze(0))
                c += 1
    return nn.Softmax(dim=1)(dist)


def test_cdc_distance_matrix_matches_numpy_and_its_kl_gradient_finite_differences():
    rs = np.random.RandomState(0)
    src, tgt0 = rs.randn(4, 2, 3), rs.randn(4, 2, 3)
    with tg.set_grad_enabled(False):
        d_src = _cdc_distances(tg.tensor(src))
    flat = src.reshape(4, -1)
    cos = np.array([[_cosine(flat[i], flat[j]) for j in range(4) if j != i] for i in range(4)])
    soft = np.exp(cos) / np.exp(cos).sum(1, keepdims=True)
    np.testing.assert_allclose(d_src.numpy(), soft, rtol=1e-13)
    assert not d_src.requires_grad

    def loss_of(t: np.ndarray, grad: bool = False):
        feat = tg.tensor(t, requires_grad=grad)
        with pytest.warns(UserWarning, match="batchmean"):
            loss = nn.KLDivLoss()(tg.log(_cdc_distances(feat)), d_src)
        return feat, loss

    feat, loss = loss_of(tgt0, grad=True)
    loss.backward()
    assert feat.grad.shape == (4, 2, 3) and loss.grad_fn is not None
    eps, fd = 1e-6, np.zeros_like(tgt0)
    for idx in np.ndindex(*tgt0.shape):
        hi, lo = tgt0.copy(), tgt0.copy()
        hi[idx] += eps
        lo[idx] -= eps
        fd[idx] = (float(loss_of(hi)[1]) - float(loss_of(lo)[1])) / (2 * eps)
    np.testing.assert_allclose(feat.grad.numpy(), fd, atol=1e-8)


def test_cdc_anchor_latents_and_patch_heads_take_numpy_indices():
    init_z = tg.tensor(np.arange(15.0).reshape(5, 3))
    ind = np.random.RandomState(1).randint(0, 5, size=4)
    np.testing.assert_array_equal(init_z[ind].numpy(), init_z.numpy()[ind])
    heads = nn.ModuleList([nn.Conv2d(2, 1, 3, padding=1) for _ in range(4)])
    p_ind = np.random.RandomState(2).randint(0, 4)           # a NumPy integer, as np.random gives
    assert heads[p_ind] is heads[int(p_ind)]
    z = tg.zeros(2, 3)
    z[0][1].data.normal_(z[0][1], 0.0)                        # get_subspace: a 0-dim tensor as mean
    assert float(z.abs().sum()) == 0.0


# -- FreezeD: lower discriminator layers frozen by name ------------------------------------------
class _TinyD(nn.Module):
    def __init__(self):
        super().__init__()
        self.from_rgb = nn.Conv2d(3, 4, 1)
        self.progression = nn.ModuleList([nn.Conv2d(4, 4, 3, padding=1) for _ in range(3)])
        self.linear = nn.Linear(4, 1)

    def forward(self, x):
        out = self.from_rgb(x)
        for blk in self.progression:
            out = F.leaky_relu(blk(out), 0.2)
        return self.linear(out.mean((2, 3)))


def _set_requires_grad(model: nn.Module, flag: bool, target_layer: str | None = None) -> None:
    for name, param in model.named_parameters():
        if target_layer is None or target_layer in name:
            param.requires_grad = flag


def test_freezed_updates_only_the_unfrozen_top_of_d():
    tg.manual_seed(0)
    d = _TinyD().double()
    before = {n: p.detach().clone() for n, p in d.named_parameters()}
    opt = tg.optim.Adam(d.parameters(), lr=0.01, betas=(0.0, 0.99))
    _set_requires_grad(d, False)
    for target in ("progression.2", "linear"):
        _set_requires_grad(d, True, target)
    real = tg.randn(2, 3, 4, 4, dtype=tg.float64, requires_grad=True)
    pred = d(real)
    (g_real,) = tg.autograd.grad(pred.sum(), real, create_graph=True)     # R1, as FreezeD
    (F.softplus(-pred).mean() + 5 * g_real.pow(2).sum((1, 2, 3)).mean()).backward()
    opt.step()
    trained = {n for n, p in d.named_parameters() if p.grad is not None}
    assert trained == {"progression.2.weight", "progression.2.bias", "linear.weight", "linear.bias"}
    assert {id(p) for p in opt.state} == {id(p) for n, p in d.named_parameters() if n in trained}
    for n, p in d.named_parameters():
        assert np.array_equal(p.numpy(), before[n].numpy()) == (n not in trained), n


def test_freezed_style_group_keeps_its_mult_key_and_scaled_lr():
    g = nn.ModuleDict({"style": nn.Linear(2, 2), "generator": nn.Linear(2, 3)})
    opt = tg.optim.Adam(g["generator"].parameters(), lr=1e-3, betas=(0.0, 0.99))
    opt.add_param_group({"params": g["style"].parameters(), "lr": 1e-5, "mult": 0.01})
    for group in opt.param_groups:                        # FreezeD's adjust_lr
        group["lr"] = 2e-3 * group.get("mult", 1)
    assert [grp["lr"] for grp in opt.param_groups] == [2e-3, 2e-5]
    saved = opt.state_dict()["param_groups"][1]
    assert saved["mult"] == 0.01 and saved["betas"] == (0.0, 0.99)


# -- MineGAN: the miner in front of a frozen generator -------------------------------------------
def test_minegan_steps_only_the_miner_until_g_is_unfrozen_with_per_parameter_adam_steps():
    tg.manual_seed(1)
    miner, gen, disc = nn.Linear(3, 3).double(), nn.Linear(3, 4).double(), nn.Linear(4, 1).double()
    opt = tg.optim.Adam(gen.parameters(), lr=0.01, betas=(0.0, 0.99))
    opt.add_param_group({"params": miner.parameters(), "betas": (0.0, 0.99)})
    disc.requires_grad_(False)
    g0 = gen.weight.detach().clone()
    for i in range(4):
        gen.requires_grad_(i >= 2)              # G frozen for the first two steps
        z = tg.randn(5, 3, dtype=tg.float64)
        gen.zero_grad()                         # as the original: the miner's grads are never zeroed
        F.softplus(-disc(gen(miner(z)))).mean().backward()
        opt.step()
        if i == 1:
            assert gen.weight.grad is None and np.array_equal(gen.weight.numpy(), g0.numpy())
    steps = [float(opt.state[p]["step"]) for p in (gen.weight, miner.weight)]
    assert steps == [2.0, 4.0] and disc.weight.grad is None


def test_minegan_miner_grads_accumulate_when_only_g_is_zeroed():
    miner, gen = nn.Linear(2, 2).double(), nn.Linear(2, 1).double()
    z1, z2 = tg.ones(1, 2, dtype=tg.float64), tg.full((1, 2), 2.0, dtype=tg.float64)
    gen(miner(z1)).sum().backward()
    first = miner.weight.grad.clone()
    gen.zero_grad()
    gen(miner(z2)).sum().backward()
    np.testing.assert_allclose(miner.weight.grad.numpy(), 3 * first.numpy(), rtol=1e-14)
    assert float(gen.weight.grad.abs().sum()) > 0


# -- EWC: Fisher information of G from squared gradients, the quadratic penalty ------------------
class _EwcG(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.unused = nn.Linear(2, 2)           # autograd.grad(..., allow_unused=True) gives None

    def forward(self, z):
        return self.fc(z)


def test_ewc_fisher_buffers_and_penalty_gradient():
    tg.manual_seed(2)
    gen, disc = _EwcG().double(), nn.Linear(4, 1).double()
    disc.requires_grad_(False)
    z = tg.randn(6, 3, dtype=tg.float64)
    loss = F.softplus(-disc(gen(z))).mean()
    grads = tg.autograd.grad(loss, gen.parameters(), allow_unused=True)
    assert [g is None for g in grads] == [False, False, True, True]
    names = [n.replace(".", "__") for n, _ in gen.named_parameters()]
    for name, g, (_, p) in zip(names, grads, gen.named_parameters()):
        if g is not None:
            gen.register_buffer(name + "_estimated_fisher", g.data.clone() ** 2)
        gen.register_buffer(name + "_estimated_mean", p.data.clone())
    assert "fc__weight_estimated_fisher" in gen.state_dict()
    assert "unused__weight_estimated_fisher" not in gen.state_dict()
    gen.zero_grad()                              # the same Fisher from a plain backward
    F.softplus(-disc(gen(z))).mean().backward()
    np.testing.assert_allclose(gen.fc__weight_estimated_fisher.numpy(), gen.fc.weight.grad.numpy() ** 2,
                               rtol=1e-13)
    with tg.no_grad():
        gen.fc.weight.add_(0.1)

    def penalty(weight: float) -> tg.Tensor:
        losses = []
        for n, p in gen.named_parameters():
            b = n.replace(".", "__")
            try:
                fisher, mean = getattr(gen, b + "_estimated_fisher"), getattr(gen, b + "_estimated_mean")
            except AttributeError:
                continue
            losses.append((fisher * (p - mean) ** 2).sum())
        return (weight / 2) * sum(losses)

    gen.zero_grad()
    penalty(1e3).backward()
    expect = 1e3 * gen.fc__weight_estimated_fisher.numpy() * 0.1
    np.testing.assert_allclose(gen.fc.weight.grad.numpy(), expect, rtol=1e-10)
    assert float(gen.fc.bias.grad.abs().sum()) == 0 and gen.unused.weight.grad is None


# -- DVD-GAN: the spatial discriminator's frame sampling ------------------------------------------
def test_dvdgan_spatial_frames_from_a_seeded_index_array_and_duplicates_accumulate():
    video = tg.tensor(np.random.RandomState(3).randn(2, 8, 3, 4, 4), requires_grad=True)
    idx = np.sort(np.random.RandomState(7).choice(8, 3, replace=False))
    picked = video[:, idx].reshape(2 * 3, 3, 4, 4)
    np.testing.assert_array_equal(picked.numpy(), video.detach().numpy()[:, idx].reshape(6, 3, 4, 4))
    np.testing.assert_array_equal(video[:, list(idx)].detach().numpy(), video[:, idx].detach().numpy())
    dup = np.array([1, 5, 1])                   # sampled with replacement: frame 1 twice
    (video[:, dup] * tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64).view(1, 3, 1, 1, 1)).sum().backward()
    per_frame = video.grad.numpy().sum(axis=(0, 2, 3, 4)) / (2 * 3 * 4 * 4)
    np.testing.assert_allclose(per_frame, [0, 4, 0, 0, 0, 2, 0, 0], atol=1e-14)


def test_dvdgan_temporal_branch_downsamples_space_only_then_conv3d():
    tg.manual_seed(4)
    video = tg.randn(2, 8, 3, 8, 8, dtype=tg.float64)      # B, T, C, H, W
    x = nn.AvgPool3d((1, 2, 2))(video.permute(0, 2, 1, 3, 4))
    assert x.shape == (2, 3, 8, 4, 4)
    np.testing.assert_allclose(x[0, 0, 0].numpy(),
                               video[0, 0, 0].numpy().reshape(4, 2, 4, 2).mean((1, 3)), rtol=1e-14)
    h = nn.Conv3d(3, 4, 3, padding=1).double()(x)
    B, C, T, H, W = h.shape
    frames = h.permute(0, 2, 1, 3, 4).reshape(B * T, C, H, W)
    assert frames.shape == (16, 4, 4, 4)
    np.testing.assert_array_equal(frames[T + 2].numpy(), h[1, :, 2].numpy())
