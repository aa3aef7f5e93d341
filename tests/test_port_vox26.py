"""Volumetric image-to-image GAN ports (enochkan/vox2vox, a 3-D CycleGAN for MRI -> CT after
davidiommi/3D-CycleGan-Pytorch-MedImaging): the patterns those programs lean on, pinned without
torch (NumPy references, finite differences, adjoint identities).  Beside torch 2.13 in float64
both training loops agreed to ~1e-14 (losses) and ~1e-12 (gradients); nothing needed fixing."""
import itertools
import random

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F


def _rand(seed, shape):
    return np.random.RandomState(seed).standard_normal(shape)


def _conv3d_numpy(x, w, stride, padding):
    """Direct definition: each kernel tap's strided slice of the zero-padded input, contracted."""
    s, p = stride, padding
    xp = np.pad(x, [(0, 0), (0, 0)] + [(q, q) for q in p])
    k = w.shape[2:]
    out = [(xp.shape[2 + i] - k[i]) // s[i] + 1 for i in range(3)]
    y = np.zeros((x.shape[0], w.shape[0], *out))
    for t in itertools.product(*(range(n) for n in k)):
        window = xp[(Ellipsis,) + tuple(slice(t[i], t[i] + s[i] * (out[i] - 1) + 1, s[i]) for i in range(3))]
        y += np.einsum("ncdhw,oc->nodhw", window, w[(slice(None), slice(None)) + t])
    return y


# --- the convolutions Vox2Vox / CycleGAN stack, against the direct definition -------------------
@pytest.mark.parametrize("k,stride,padding", [
    (4, (2, 2, 2), (1, 1, 1)),          # UNetDown / PatchGAN block
    (4, (1, 1, 1), (1, 1, 1)),          # UNetMid (shrinks by one voxel)
    (3, (2, 1, 2), (1, 0, 1)),          # mixed strides: depth fold with a strided depth
    (7, (1, 1, 1), (0, 0, 0)),          # CycleGAN stem after ReplicationPad3d(3)
])
def test_conv3d_matches_the_direct_definition(k, stride, padding):
    x, w = _rand(0, (2, 3, 9, 8, 10)), _rand(1, (4, 3, k, k, k))
    y = F.conv3d(tg.tensor(x), tg.tensor(w), stride=stride, padding=padding)
    np.testing.assert_allclose(y.numpy(), _conv3d_numpy(x, w, stride, padding), atol=1e-11)


@pytest.mark.parametrize("k,stride,padding,out_pad", [(4, 2, 1, 0), (3, 2, 1, 1), (3, (2, 1, 2), (1, 0, 1), (1, 0, 0))])
def test_conv_transpose3d_is_the_adjoint_of_conv3d(k, stride, padding, out_pad):
    # <conv3d(z), y> == <z, conv_transpose3d(y)> with z of conv_transpose3d's output shape (the
    # U-Net up path k4 s2 p1 and CycleGAN's k3 s2 p1 output_padding=1 decoder)
    y, w = tg.tensor(_rand(2, (2, 4, 3, 4, 3))), tg.tensor(_rand(3, (4, 2, k, k, k)))
    up = F.conv_transpose3d(y, w, stride=stride, padding=padding, output_padding=out_pad)
    z = tg.tensor(_rand(4, tuple(up.shape)))
    down = F.conv3d(z, w, stride=stride, padding=padding)
    assert tuple(down.shape) == tuple(y.shape)
    np.testing.assert_allclose((down * y).sum().item(), (z * up).sum().item(), rtol=1e-11)


def test_conv_transpose3d_with_output_padding_doubles_the_volume():
    m = tg.nn.ConvTranspose3d(8, 4, 3, stride=2, padding=1, output_padding=1)
    assert tuple(m(tg.zeros(1, 8, 4, 5, 3)).shape) == (1, 4, 8, 10, 6)


def test_unet_mid_block_keeps_its_size_and_passes_gradcheck():
    # Vox2Vox's UNetMid: cat(x, skip) -> Conv3d k4 s1 p1 (one voxel smaller) -> InstanceNorm3d
    # -> LeakyReLU -> F.pad(1, 0, 1, 0, 1, 0) back to the input size
    def mid(x, w):
        h = F.leaky_relu(F.instance_norm(F.conv3d(tg.cat((x, x), 1), w, padding=1)), 0.2)
        return F.pad(h, (1, 0, 1, 0, 1, 0))
    x = tg.tensor(_rand(5, (1, 1, 3, 3, 4)), requires_grad=True)
    w = tg.tensor(_rand(6, (2, 2, 4, 4, 4)), requires_grad=True)
    assert tuple(mid(x, w).shape) == (1, 2, 3, 3, 4)
    assert mid(x, w)[..., 0, :, :].abs().sum().item() == 0      # the zero plane F.pad put in front
    assert tg.gradcheck(mid, (x, w))


# --- the padding layers, against np.pad, with adjoint gradients -----------------------------------
@pytest.mark.parametrize("layer,np_mode", [(tg.nn.ReflectionPad3d, "reflect"), (tg.nn.ReplicationPad3d, "edge")])
def test_3d_padding_layers_match_np_pad_and_their_gradient_is_the_adjoint(layer, np_mode):
    pad = (2, 1, 0, 2, 1, 1)             # (W_left, W_right, H_top, H_bottom, D_front, D_back)
    x = _rand(7, (2, 3, 3, 4, 5))
    t = tg.tensor(x, requires_grad=True)
    y = layer(pad)(t)
    ref = np.pad(x, [(0, 0), (0, 0), (1, 1), (0, 2), (2, 1)], mode=np_mode)
    np.testing.assert_array_equal(y.numpy(), ref)
    g = _rand(8, ref.shape)
    y.backward(tg.tensor(g))
    np.testing.assert_allclose((t.grad.numpy() * x).sum(), (g * ref).sum(), rtol=1e-12)


def test_replication_pad3d_wider_than_the_volume_repeats_the_edges():
    # CycleGAN's ReplicationPad3d(3) before the 7^3 stem also works on volumes smaller than 3
    x = _rand(9, (1, 1, 2, 1, 2))
    y = tg.nn.ReplicationPad3d(3)(tg.tensor(x))
    np.testing.assert_array_equal(y.numpy(), np.pad(x, [(0, 0)] * 2 + [(3, 3)] * 3, mode="edge"))


# --- InstanceNorm3d(affine=False, track_running_stats=True), CycleGAN's norm layer ------------
def test_instance_norm3d_with_running_stats_trains_on_instance_stats_and_evaluates_on_running_ones():
    m = tg.nn.InstanceNorm3d(2, track_running_stats=True).double()
    x = _rand(10, (3, 2, 2, 3, 4))
    y = m(tg.tensor(x)).numpy()
    mean, var = x.mean(axis=(2, 3, 4)), x.var(axis=(2, 3, 4))
    np.testing.assert_allclose(y, (x - mean[..., None, None, None]) / np.sqrt(var[..., None, None, None] + 1e-5),
                               atol=1e-12)
    # running statistics: momentum 0.1 toward the batch average of the per-instance mean and
    # unbiased variance; num_batches_tracked stays 0 (torch's instance norm never counts)
    np.testing.assert_allclose(m.running_mean.numpy(), 0.1 * mean.mean(0), atol=1e-14)
    np.testing.assert_allclose(m.running_var.numpy(), 0.9 + 0.1 * (var * 24 / 23).mean(0), atol=1e-14)
    assert int(m.num_batches_tracked.item()) == 0
    m.eval()
    x2 = _rand(11, (1, 2, 2, 3, 4))
    ref = (x2 - m.running_mean.numpy()[:, None, None, None]) / np.sqrt(m.running_var.numpy()[:, None, None, None] + 1e-5)
    np.testing.assert_allclose(m(tg.tensor(x2)).numpy(), ref, atol=1e-12)


def test_instance_norm3d_refuses_a_single_voxel_in_training_like_torch():
    # a Vox2Vox bottleneck on a too-small volume: torch raises ValueError "Expected more than 1
    # spatial element when training"
    with pytest.raises(ValueError, match="more than one position"):
        tg.nn.InstanceNorm3d(2)(tg.ones(1, 2, 1, 1, 1))


# --- CycleGAN's training-loop patterns ----------------------------------------------------------
def test_image_pool_query_returns_detached_copies_and_swaps_with_a_seeded_rng():
    # ImagePool.query: unsqueeze(image.data, 0), clone() of a stored image, cat of the batch
    rng, images = random.Random(5), []
    fake = tg.tensor(_rand(12, (2, 1, 2, 2, 2)), requires_grad=True) * 2
    out = []
    for image in fake:
        image = tg.unsqueeze(image.data, 0)
        if len(images) < 1:
            images.append(image)
            out.append(image)
        elif rng.uniform(0, 1) > 0.5:
            old, images[0] = images[0].clone(), image
            out.append(old)
        else:
            out.append(image)
    batch = tg.cat(out, 0)
    assert not batch.requires_grad and batch.grad_fn is None
    np.testing.assert_array_equal(batch.numpy()[0], fake.detach().numpy()[0])


def test_discriminator_frozen_by_requires_grad_false_gets_no_gradient_while_the_generator_does():
    tg.manual_seed(0)
    G, D = tg.nn.Conv3d(1, 1, 3, padding=1), tg.nn.Conv3d(1, 1, 4, stride=2, padding=1)
    for p in D.parameters():
        p.requires_grad = False
    loss = F.mse_loss(D(G(tg.randn(1, 1, 4, 4, 4))), tg.tensor(1.0).expand(1, 1, 2, 2, 2))
    loss.backward()
    assert all(p.grad is None for p in D.parameters())
    assert all(p.grad is not None and p.grad.abs().sum().item() > 0 for p in G.parameters())
