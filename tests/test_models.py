"""DCGAN models: the exact default MNIST layers, derived shapes for other images, initialization."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import ConfigError, ShapeError
from tensorgan.models import Discriminator, Generator, MLPDiscriminator, build_models
from tensorgan.models.dcgan import spatial_plan, state_numel


def describe(module):
    out = []
    for m in module:
        if isinstance(m, nn.Linear):
            out.append(("Linear", m.in_features, m.out_features, m.bias is not None))
        elif isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            out.append((type(m).__name__, m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0],
                        m.padding[0]))
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            out.append((type(m).__name__, m.num_features))
        elif isinstance(m, nn.LeakyReLU):
            out.append(("LeakyReLU", m.negative_slope))
        elif isinstance(m, nn.Unflatten):
            out.append(("Unflatten",) + m.unflattened_size)
        else:
            out.append((type(m).__name__,))
    return out


def test_default_mnist_generator_is_exactly_the_specified_stack():
    G = Generator(generator=tg.Generator(0))
    assert describe(G) == [
        ("Linear", 100, 7 * 7 * 256, False), ("BatchNorm1d", 12544), ("LeakyReLU", 0.2),
        ("Unflatten", 256, 7, 7),
        ("ConvTranspose2d", 256, 128, 4, 2, 1), ("BatchNorm2d", 128), ("LeakyReLU", 0.2),
        ("ConvTranspose2d", 128, 64, 4, 2, 1), ("BatchNorm2d", 64), ("LeakyReLU", 0.2),
        ("Conv2d", 64, 1, 3, 1, 1), ("Tanh",)]
    assert G.num_parameters() == 100 * 12544 + 2 * 12544 + (256 * 128 * 16 + 128) + 256 \
        + (128 * 64 * 16 + 64) + 128 + (64 * 9 + 1) == 1_936_001


def test_default_mnist_discriminator_is_exactly_the_specified_stack():
    D = Discriminator(generator=tg.Generator(0))
    assert describe(D) == [
        ("Conv2d", 1, 64, 4, 2, 1), ("LeakyReLU", 0.2),
        ("Conv2d", 64, 128, 4, 2, 1), ("BatchNorm2d", 128), ("LeakyReLU", 0.2),
        ("Flatten",), ("Linear", 6272, 1, True)]
    assert D.num_parameters() == (16 * 64 + 64) + (64 * 128 * 16 + 128) + 256 + 6273 == 138_817


def test_mnist_forward_shapes():
    G, D = build_models(seed=0)
    x = G(tg.randn(2, 100, seed=1))
    assert x.shape == (2, 1, 28, 28) and np.abs(x.numpy()).max() <= 1
    assert D(x).shape == (2, 1)


def test_color_64_follows_the_dcgan_paper_layout():
    G = Generator((3, 64, 64), generator=tg.Generator(0))
    assert describe(G)[0] == ("Linear", 100, 4 * 4 * 512, False)
    convs = [d for d in describe(G) if d[0] == "ConvTranspose2d"]
    assert [(c[1], c[2]) for c in convs] == [(512, 256), (256, 128), (128, 64), (64, 3)]
    assert describe(G)[-2:] == [("ConvTranspose2d", 64, 3, 4, 2, 1), ("Tanh",)]
    D = Discriminator((3, 64, 64), generator=tg.Generator(0))
    assert [(d[1], d[2]) for d in describe(D) if d[0] == "Conv2d"] == [(3, 64), (64, 128), (128, 256), (256, 512)]
    assert describe(D)[-1] == ("Linear", 512 * 4 * 4, 1, True)
    g, d = build_models((3, 64, 64), latent_dim=8, base_channels=2, seed=0)  # narrow, same plan
    x = g(tg.randn(2, 8, seed=0))
    assert x.shape == (2, 3, 64, 64) and d(x).shape == (2, 1)


@pytest.mark.parametrize("shape, plan", [((1, 28, 28), (2, 7, 7)), ((3, 64, 64), (4, 4, 4)),
                                         ((1, 8, 8), (1, 4, 4)), ((3, 32, 48), (3, 4, 6))])
def test_spatial_plan(shape, plan):
    assert spatial_plan(shape) == plan
    g, d = build_models(shape, latent_dim=4, base_channels=2, seed=0)
    x = g(tg.randn(2, 4, seed=0))
    assert x.shape == (2,) + shape and d(x).shape == (2, 1)


def test_unbuildable_shapes_and_bad_options_are_clear_errors():
    with pytest.raises(ShapeError, match="7x7"):
        Generator((1, 7, 7))
    with pytest.raises(ShapeError, match="image_shape"):
        Generator((28, 28))
    with pytest.raises(ConfigError, match="latent_dim"):
        Generator(latent_dim=0)
    with pytest.raises(ConfigError, match="discriminator"):
        build_models(discriminator="transformer")


def test_dcgan_initialization():
    G, D = build_models(seed=0)
    w = G[4].weight.numpy()
    assert abs(w.mean()) < 1e-3 and abs(w.std() - 0.02) < 1e-3
    bn = G[1].weight.numpy()
    assert abs(bn.mean() - 1.0) < 2e-3 and abs(bn.std() - 0.02) < 2e-3
    assert not G[4].bias.numpy().any() and not D[6].bias.numpy().any() and not G[1].bias.numpy().any()
    G2, _ = build_models(seed=0)
    np.testing.assert_array_equal(G2[0].weight.numpy(), G[0].weight.numpy())


def test_mlp_discriminator_with_dropout():
    drop = tg.Generator(1)
    D = MLPDiscriminator((1, 8, 8), hidden=(16, 8), dropout=0.3, generator=tg.Generator(0),
                         dropout_generator=drop)
    assert describe(D) == [("Flatten",), ("Linear", 64, 16, True), ("LeakyReLU", 0.2), ("Dropout",),
                           ("Linear", 16, 8, True), ("LeakyReLU", 0.2), ("Dropout",), ("Linear", 8, 1, True)]
    x = tg.randn(4, 1, 8, 8, seed=0)
    a, b = D(x).numpy(), D(x).numpy()
    assert not np.array_equal(a, b)  # fresh masks per call in training
    D.eval()
    np.testing.assert_array_equal(D(x).numpy(), D(x).numpy())
    _, d = build_models((1, 28, 28), discriminator="mlp", seed=0)
    assert isinstance(d, MLPDiscriminator) and d[1].in_features == 784


@pytest.mark.parametrize("norm, layer", [("batch", nn.BatchNorm2d), ("layer", nn.GroupNorm),
                                         ("none", None)])
def test_discriminator_normalization_choices(norm, layer):
    from tensorgan.models.dcgan import Discriminator, models_from_config
    d = Discriminator((1, 28, 28), 8, norm=norm)
    norms = [m for m in d.modules() if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm))]
    assert [type(m) for m in norms] == ([layer] if layer else [])
    config = d.config()
    assert ("norm" in config) == (norm != "batch")        # old checkpoints' configs stay equal
    g_config = {"image_shape": [1, 28, 28], "latent_dim": 4, "base_channels": 8, "head": "conv"}
    _, rebuilt = models_from_config(g_config, config)
    assert rebuilt.config() == config
    with pytest.raises(tg.ConfigError, match="norm must be one of"):
        Discriminator((1, 28, 28), 8, norm="instance")


@settings(max_examples=25, deadline=None)
@given(shape=st.sampled_from([(1, 28, 28), (3, 32, 32), (3, 64, 48), (1, 8, 8), (2, 16, 8)]),
       base=st.integers(1, 9), latent=st.integers(1, 12), head=st.sampled_from(["conv", "conv_transpose"]),
       norm=st.sampled_from(["batch", "layer", "none", "spectral"]),
       hidden=st.lists(st.integers(1, 9), min_size=0, max_size=3),
       classes=st.sampled_from([None, 2, 10]))
def test_state_numel_counts_the_built_models_state_without_building_them(shape, base, latent, head, norm,
                                                                          hidden, classes):
    rng = tg.Generator(0)
    for model in (Generator(shape, latent, base, head, generator=rng, num_classes=classes),
                  Discriminator(shape, base, generator=rng, norm=norm, num_classes=classes),
                  MLPDiscriminator(shape, tuple(hidden), generator=rng)):
        assert state_numel(model.config()) == sum(np.size(v) for v in model.state_dict().values())
