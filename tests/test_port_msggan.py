"""Porting akanimax/BMSG-GAN (MSG-GAN: equalized-lr conv / deconv, pixelwise norm, minibatch
stddev, a generator with an RGB output per scale and a discriminator that takes them all, the EMA
generator, the multi-scale real batch made with avg_pool2d, and its six losses: standard, WGAN-GP
with a gradient penalty over every scale, LSGAN, LSGAN-sigmoid, hinge, relativistic-average hinge)
to tensorgan.  Three Adam steps per loss agreed with torch to ~3e-14 (relative) in float64 and
~3e-5 in float32.  What the port needed is tested here, expected values from NumPy; no torch."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.data import DataLoader as GANDataLoader
from tensorgan.errors import AutogradError
from tensorgan.utils.data import DataLoader, Dataset, IterableDataset


class _Images(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return tg.full((3, 4, 4), float(i))


# -- len(iter(loader)) -------------------------------------------------------------------------
# MSG_GAN.train counts an epoch's batches with ``total_batches = len(iter(data))``; torch's
# loader iterator has a len() (the batches of a whole pass), tensorgan's was a bare generator.
def test_loader_iterator_has_len_of_the_pass():
    dl = DataLoader(_Images(10), batch_size=4, shuffle=True)
    it = iter(dl)
    assert len(it) == 3 == len(dl)
    assert iter(it) is it
    first = next(it)
    assert tuple(first.shape) == (4, 3, 4, 4)
    assert len(it) == 3                        # torch: the pass's length, not what is left
    assert [tuple(b.shape)[0] for b in it] == [4, 2]
    with pytest.raises(StopIteration):
        next(it)
    assert len(iter(DataLoader(_Images(10), batch_size=4, drop_last=True))) == 2
    assert len(iter(GANDataLoader(_Images(10), batch_size=4))) == 2   # GAN loader: drop_last


def test_loader_iterator_len_over_an_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter([tg.ones(2) * i for i in range(5)])

    class SizedStream(Stream):
        def __len__(self):
            return 5

    it = iter(DataLoader(SizedStream(), batch_size=2))
    assert len(it) == 3
    assert [tuple(b.shape) for b in it] == [(2, 2), (2, 2), (1, 2)]
    with pytest.raises(TypeError, match="__len__"):
        len(iter(DataLoader(Stream(), batch_size=2)))


# -- t.requires_grad = ... on an op's result ---------------------------------------------------
# WGAN_GP's penalty does ``merged = eps * real + (1 - eps) * fake; merged.requires_grad = True``:
# right when ``fake`` was detached (merged is a leaf), a RuntimeError in torch when it was not;
# tensorgan let ``= True`` pass silently on a non-leaf.
def test_requires_grad_assignment_is_for_leaves_only():
    w = tg.ones(3, requires_grad=True)
    y = w * 2
    for flag in (True, False):
        with pytest.raises(AutogradError, match="non-leaf") as info:
            y.requires_grad = flag
        assert isinstance(info.value, RuntimeError)
    assert y.requires_grad_(True) is y and y.requires_grad   # the method form stays a no-op
    eps = tg.tensor([[0.25], [0.75]])
    merged = eps * tg.ones(2, 3) + (1 - eps) * (w * 3).detach()
    assert merged.is_leaf
    merged.requires_grad = True
    g, = tg.autograd.grad((merged ** 2).sum(), merged)
    np.testing.assert_allclose(g.numpy(), 2 * merged.detach().numpy())


# -- the multi-scale gradient penalty, closed form ---------------------------------------------
# D(xs) = sum_i <w_i, x_i> per sample: its gradient at scale i is w_i for every sample, so the
# penalty is lam * mean_i (|w_i| - 1)^2, and its gradient wrt w_i (create_graph=True) is
# lam * 2 (|w_i| - 1) w_i / |w_i| / n_scales.
def test_multi_scale_gradient_penalty_matches_closed_form():
    rng = np.random.default_rng(0)
    sizes = [4, 8, 16]
    ws_np = [rng.standard_normal((3, s, s)) * 0.1 for s in sizes]
    ws = [tg.tensor(w, requires_grad=True) for w in ws_np]
    real = [tg.tensor(rng.standard_normal((2, 3, s, s))) for s in sizes]
    fake = [tg.tensor(rng.standard_normal((2, 3, s, s))) for s in sizes]
    eps = tg.tensor(rng.uniform(size=(2, 1, 1, 1)))
    merged = []
    for r, f in zip(real, fake):
        m = eps * r + (1 - eps) * f
        m.requires_grad = True
        merged.append(m)
    op = sum((m * w).sum(dim=(1, 2, 3)) for m, w in zip(merged, ws))
    penalty, lam = 0, 10.0
    for m in merged:
        g = tg.autograd.grad(outputs=op, inputs=m, grad_outputs=tg.ones_like(op),
                             create_graph=True, retain_graph=True, only_inputs=True)[0]
        g = g.view(g.shape[0], -1)
        penalty += lam * ((g.norm(p=2, dim=1) - 1) ** 2).mean()
    penalty = penalty / len(merged)
    norms = [np.linalg.norm(w) for w in ws_np]
    np.testing.assert_allclose(penalty.item(), lam * np.mean([(n - 1) ** 2 for n in norms]),
                               rtol=1e-12)
    penalty.backward()
    for w, w_np, n in zip(ws, ws_np, norms):
        np.testing.assert_allclose(w.grad.numpy(), lam * 2 * (n - 1) * w_np / n / len(sizes),
                                   rtol=1e-10, atol=1e-14)


def test_avg_pool_pyramid_of_the_real_batch():
    x = np.random.default_rng(1).standard_normal((2, 3, 16, 16)).astype(np.float32)
    images = tg.tensor(x)
    pyramid = list(reversed([images] + [F.avg_pool2d(images, int(np.power(2, i)))
                                        for i in range(1, 4)]))
    assert [tuple(p.shape)[-1] for p in pyramid] == [2, 4, 8, 16]
    for p in pyramid:
        k = 16 // p.shape[-1]
        expect = x.reshape(2, 3, 16 // k, k, 16 // k, k).mean(axis=(3, 5))
        np.testing.assert_allclose(p.numpy(), expect, rtol=1e-5, atol=1e-6)


# -- tg.save(model.state_dict()) / tg.load: an OrderedDict with its _metadata, as torch.load ----
# MSG_GAN.train saves each model's state_dict() and train.py restores them with
# ``load_state_dict(th.load(f))``; torch gives back the OrderedDict with ``_metadata`` (the
# modules' state-dict versions, which load-time hooks read); tensorgan gave a plain dict.
def test_saved_state_dict_loads_back_as_ordered_dict_with_metadata(tmp_path):
    from collections import OrderedDict
    import io

    model = tg.nn.Sequential(tg.nn.Conv2d(3, 4, 1), tg.nn.BatchNorm2d(4))
    sd = model.state_dict()
    path = tmp_path / "GAN_GEN_1.pth"
    tg.save(sd, path)
    buffer = io.BytesIO()
    tg.save({"gen": sd, "step": 3}, buffer)
    buffer.seek(0)
    for loaded in (tg.load(path), tg.load(path, map_location="cpu"), tg.load(buffer)["gen"]):
        assert type(loaded) is OrderedDict and list(loaded) == list(sd)
        assert loaded._metadata == OrderedDict([("", {"version": 1}), ("0", {"version": 1}),
                                                ("1", {"version": 2})])
        seen = []
        model[1].register_load_state_dict_pre_hook(
            lambda module, state, prefix, local_metadata, *rest: seen.append(dict(local_metadata)))
        model.load_state_dict(loaded)
        assert seen[-1] == {"version": 2}
    assert type(tg.load(tmp_path / "GAN_GEN_1.pth")["0.weight"]) is tg.Tensor
    tg.save({"plain": 1}, path)
    assert type(tg.load(path)) is dict                  # a plain dict stays one
