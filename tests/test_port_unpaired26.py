"""Session 26: unpaired translation variants ported at tiny sizes and run beside torch 2.13 in
float64 with identical weights -- Onr/Council-GAN (three generators per direction, each with its
MUNIT-style AdaIN decoder and attention mask, a council discriminator on (x, x~) pairs, the focus
/ mask losses and the loss-matching weights from NumPy loss histories), hyperplane-lab/ACL-GAN
(the generator with noise, dis_2 on (x, x~) pairs, the focus mask), hufu6371/GcGAN (rot / vf
geometry consistency built from transpose + index_select), sagiebenaim/DistanceGAN (pairwise
distances normalised by dataset means / stds from NumPy), a TraVeLGAN siamese travel loss
(clementabary/travelgan: combinations of pairs, CosineSimilarity, spectral norm) and
imlixinyang/HiSD (tags / attributes, the AdaIN translator with masks, extractors / mappers, the
multi-head discriminator with an R1 term and requires_grad toggling, an EMA generator).
Losses, gradients and parameters agreed to ~1e-11 over 3-4 steps each.  What differed, and is
fixed: a convolution whose weight has 0 channels (TraVeLGAN's Self_Attn(C) with C < 8)
ran and returned an empty map (torch refuses it); an in-place write on an op's result whose memory a NumPy array from
``.detach().cpu().numpy()`` still held took a new buffer, so the array kept the old value
(Council-GAN's loss-matching weights read those arrays, and drifted from step 2 on).
No torch here: the checks are invariants and finite differences."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import ShapeError


# -- an in-place write on a graph result lands in memory a NumPy array holds ---------------------
def test_in_place_write_on_a_graph_result_reaches_its_exported_numpy_array():
    # Council-GAN: hist.append(loss.detach().cpu().numpy()); ...; loss *= w -- torch's array
    # shares the loss's memory and shows the write; tensorgan gave the loss a new buffer.
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * 3).sum()
    snapshot = loss.detach().cpu().numpy()
    loss *= np.float64(2.0)
    assert float(snapshot) == 18.0
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), [6.0, 6.0])

    w.grad = None
    u = w * 1
    part = u.detach().numpy()[1:]           # a view of the memory counts too
    u += 1
    u.mul_(2)
    np.testing.assert_allclose(part, [6.0])
    np.testing.assert_allclose(u.detach().numpy(), [4.0, 6.0])
    u.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 2.0])


def test_in_place_write_with_no_array_held_keeps_old_values_for_backward():
    # the usual case still hands the result a new buffer: an op that saved its output (exp)
    # differentiates with the value it saw
    x = tg.tensor([0.5, -1.0], requires_grad=True)
    y = x.exp()
    z = y * 1
    z += 1
    (y.sum() + z.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([0.5, -1.0]), rtol=1e-6)


# -- a convolution with no output channels is refused, as torch ----------------------------------
def test_convolution_with_zero_channels_is_refused():
    # TraVeLGAN's Self_Attn(C) builds Conv2d(C, C // 8, 1): with C < 8 torch's forward refuses the
    # empty weight; tensorgan returned an empty map and the attention ran on nothing.
    with pytest.warns(UserWarning):
        layers = [(tg.nn.Conv2d(4, 0, 1), (1, 4, 2, 2)), (tg.nn.Conv1d(4, 0, 1), (1, 4, 3)),
                  (tg.nn.Conv3d(4, 0, 1), (1, 4, 2, 2, 2)), (tg.nn.ConvTranspose2d(0, 3, 1), (1, 0, 2, 2)),
                  (tg.nn.ConvTranspose2d(3, 0, 1), (1, 3, 2, 2))]
    for layer, shape in layers:
        with pytest.raises(ShapeError, match="no channels"):
            layer(tg.ones(*shape))
    assert tg.nn.Conv2d(4, 1, 1)(tg.ones(1, 4, 2, 2)).shape == (1, 1, 2, 2)


# -- idioms the ports leaned on (they agreed with torch; kept as invariants) ----------------------
def test_gcgan_index_select_geometry_is_rot90_and_flip():
    x = tg.tensor(np.random.RandomState(0).randn(2, 3, 5, 5), requires_grad=True)
    inv = tg.arange(4, -1, -1).long()
    clockwise = tg.index_select(x.transpose(2, 3), 3, inv)
    counter = tg.index_select(x.transpose(2, 3), 2, inv)
    np.testing.assert_array_equal(clockwise.detach().numpy(), tg.rot90(x, -1, (2, 3)).detach().numpy())
    np.testing.assert_array_equal(counter.detach().numpy(), tg.rot90(x, 1, [2, 3]).detach().numpy())
    np.testing.assert_array_equal(tg.index_select(x, 2, inv).detach().numpy(), x.flip([2]).detach().numpy())
    w = tg.tensor(np.random.RandomState(1).randn(2, 3, 5, 5))
    (clockwise * w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tg.rot90(w, 1, (2, 3)).numpy())


def test_travel_loss_over_numpy_pair_indices_matches_finite_differences():
    from itertools import combinations
    pairs = np.asarray(list(combinations(range(4), 2)))
    rng = np.random.RandomState(2)
    e_t0 = rng.randn(4, 5)
    e_o = tg.tensor(rng.randn(4, 5))

    def loss(e_t):
        v_o = e_o[pairs[:, 0]] - e_o[pairs[:, 1]]
        v_t = e_t[pairs[:, 0]] - e_t[pairs[:, 1]]
        return tg.nn.MSELoss()(v_o, v_t) - tg.nn.CosineSimilarity()(v_o, v_t).mean()

    e_t = tg.tensor(e_t0, requires_grad=True)
    loss(e_t).backward()
    fd = np.zeros_like(e_t0)
    for idx in np.ndindex(*e_t0.shape):
        d = np.zeros_like(e_t0)
        d[idx] = 1e-6
        fd[idx] = (loss(tg.tensor(e_t0 + d)).item() - loss(tg.tensor(e_t0 - d)).item()) / 2e-6
    np.testing.assert_allclose(e_t.grad.numpy(), fd, rtol=1e-6, atol=1e-9)
