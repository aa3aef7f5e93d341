"""GAN training features: the EMA generator, TTUR learning rates, a spectrally normalized
discriminator and class-conditional DCGANs -- each with exact resume, and old checkpoints
(written before these options existed) still resuming."""
import json

import numpy as np
import pytest
from PIL import Image

import tensorgan as tg
import tensorgan.checkpoint as ckpt
from tensorgan.cli import load_generator, main
from tensorgan.data import ArrayDataset
from tensorgan.errors import ConfigError, ShapeError
from tensorgan.models.dcgan import Discriminator, Generator, state_numel
from tensorgan.train import TrainConfig, Trainer
from blobs import blob_images

NEW_CONFIG_KEYS = ("lr_g", "lr_d", "ema_decay", "conditional", "augment")


@pytest.fixture(scope="module")
def dataset():
    return ArrayDataset(blob_images(), labels=np.arange(48) % 3, name="blobs")


def config(**kw):
    base = dict(steps=6, batch_size=8, latent_dim=8, base_channels=4, sample_every=3,
                checkpoint_every=3, num_samples=4, seed=0)
    base.update(kw)
    return TrainConfig(**base)


def losses(history):
    return [(r["loss_d"], r.get("loss_g"), r["d_x"], r["d_g_z"]) for r in history]


def assert_resumes_exactly(dataset, tmp_path, **kw):
    """8 steps straight vs 4 + resume + 4 (crossing an epoch): same losses and weights, bit for bit."""
    full = Trainer(dataset, None, config(steps=8, **kw))
    full.fit()
    first = Trainer(dataset, tmp_path, config(steps=4, **kw))
    first.fit()
    resumed = Trainer(dataset, tmp_path, config(steps=8, **kw))
    assert resumed.resume() == 4
    resumed.fit()
    assert losses(first.history) + losses(resumed.history) == losses(full.history)
    pairs = [(full.G, resumed.G), (full.D, resumed.D)]
    if full.G_ema is not None:
        pairs.append((full.G_ema, resumed.G_ema))
    for a, b in pairs:
        mine = b.state_dict()
        for k, v in a.state_dict().items():
            np.testing.assert_array_equal(np.asarray(v), np.asarray(mine[k]), err_msg=k)
    return full, resumed


# ---------------------------------------------------------------------------------------------
# EMA generator
# ---------------------------------------------------------------------------------------------
def test_ema_weights_are_the_closed_form_average_of_the_generator_steps(dataset):
    decay = 0.6
    t = Trainer(dataset, None, config(steps=4, ema_decay=decay))
    snapshots = []
    t.fit(on_step=lambda record: snapshots.append([p.numpy().astype(np.float64)
                                                    for p in t.G.parameters()]))
    # AveragedModel's EMA: the first update copies G, then ema = d_n * ema + (1 - d_n) * w_k with
    # the warm-up d_n = min(decay, (1 + n) / (10 + n)), n the updates so far (TensorFlow's rule)
    expected = snapshots[0]
    for n, weights in enumerate(snapshots[1:], start=1):
        d = min(decay, (1 + n) / (10 + n))
        expected = [d * e + (1 - d) * w for e, w in zip(expected, weights)]
    for e, p in zip(expected, t.G_ema.module.parameters()):
        np.testing.assert_allclose(p.numpy(), e, rtol=1e-5, atol=1e-7)
    assert int(t.G_ema.n_averaged) == 4
    for a, b in zip(t.G_ema.module.buffers(), t.G.buffers()):     # running statistics: copied
        np.testing.assert_array_equal(np.asarray(getattr(a, "array", a)), np.asarray(getattr(b, "array", b)))
    assert not np.array_equal(t.generate(t.fixed_noise), t.generate(t.fixed_noise, ema=False))
    np.testing.assert_array_equal(t.generate(t.fixed_noise), t.generate(t.fixed_noise, ema=True))


def test_ema_updates_follow_generator_steps_only(dataset):
    t = Trainer(dataset, None, config(steps=6, ema_decay=0.9, n_critic=3))
    t.fit()
    assert int(t.G_ema.n_averaged) == 2              # G stepped on steps 3 and 6
    off = Trainer(dataset, None, config(steps=1))
    assert off.G_ema is None
    with pytest.raises(ConfigError, match="no EMA generator"):
        off.generate(off.fixed_noise, ema=True)
    for bad in (1.0, -0.1, float("nan")):
        with pytest.raises(ConfigError, match="ema_decay must be in"):
            config(ema_decay=bad).validate()


def test_ema_is_checkpointed_resumes_exactly_and_draws_the_samples(dataset, tmp_path):
    full, resumed = assert_resumes_exactly(dataset, tmp_path, ema_decay=0.9)
    state = ckpt.load_checkpoint(tmp_path / "checkpoint.npz")
    assert "module.0.weight" in state["models"]["generator_ema"]
    names = sorted(p.name for p in (tmp_path / "samples").iterdir())
    assert names == ["step_000003_ema.png", "step_000004_ema.png", "step_000006_ema.png",
                     "step_000008_ema.png"]
    G = load_generator(tmp_path / "checkpoint.npz")            # tensorgan sample / eval
    assert G.is_ema
    np.testing.assert_array_equal(G.state_dict()["0.weight"],
                                  full.G_ema.state_dict()["module.0.weight"])
    assert not load_generator(tmp_path / "checkpoint.npz", ema=False).is_ema


def old_style_checkpoint(dataset, tmp_path):
    """A checkpoint as written before these options: no EMA, and a config without their keys."""
    first = Trainer(dataset, tmp_path, config(steps=4))
    first.fit()
    path = tmp_path / "checkpoint.npz"
    state = ckpt.load_checkpoint(path)
    for key in NEW_CONFIG_KEYS:
        del state["config"][key]
    state = {k: v for k, v in state.items() if k not in ("format", "format_version")}
    ckpt.save_checkpoint(path, state)
    return first


def test_an_old_checkpoint_resumes_exactly(dataset, tmp_path):
    full = Trainer(dataset, None, config(steps=8))
    full.fit()
    first = old_style_checkpoint(dataset, tmp_path)
    resumed = Trainer(dataset, tmp_path, config(steps=8))
    assert resumed.resume() == 4
    resumed.fit()
    assert losses(first.history) + losses(resumed.history) == losses(full.history)
    # through the API, a run may switch the EMA on at resume: it starts from the loaded G
    with_ema = Trainer(dataset, None, config(steps=8, ema_decay=0.9))
    with_ema.resume(tmp_path / "checkpoint.npz")
    for a, b in zip(with_ema.G_ema.module.parameters(), with_ema.G.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_old_checkpoint_resumes_through_the_cli(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--base-channels", "4", "--latent-dim", "8", "--batch-size", "8",
            "--sample-every", "2", "--checkpoint-every", "2", "--out", str(out), "--no-progress"]
    assert main(args + ["--steps", "2"]) == 0
    path = out / "checkpoint.npz"
    state = ckpt.load_checkpoint(path)
    for key in NEW_CONFIG_KEYS:
        del state["config"][key]
    ckpt.save_checkpoint(path, {k: v for k, v in state.items() if k not in ("format", "format_version")})
    assert main(args + ["--steps", "3", "--resume", "--lr-g", "2e-4", "--ema", "0"]) == 0
    capsys.readouterr()
    assert main(args + ["--steps", "4", "--resume", "--ema", "0.999"]) == 1
    assert "--ema differs from the checkpoint's run" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# TTUR
# ---------------------------------------------------------------------------------------------
def test_ttur_learning_rates_reach_the_optimizers_and_survive_a_resume(dataset, tmp_path):
    t = Trainer(dataset, None, config(lr_g=1e-4, lr_d=4e-4))
    assert (t.opt_g.param_groups[0]["lr"], t.opt_d.param_groups[0]["lr"]) == (1e-4, 4e-4)
    plain = Trainer(dataset, None, config(lr=3e-4, lr_d=5e-4))
    assert (plain.opt_g.param_groups[0]["lr"], plain.opt_d.param_groups[0]["lr"]) == (3e-4, 5e-4)
    _, resumed = assert_resumes_exactly(dataset, tmp_path, lr_g=1e-4, lr_d=4e-4)
    assert resumed.config.learning_rates() == (1e-4, 4e-4)
    with pytest.raises(ConfigError, match="lr_d must be a positive number"):
        config(lr_d=0.0).validate()
    # same losses as a run with one lr when both are given equal
    a, b = Trainer(dataset, None, config(steps=2, lr=1e-3)), Trainer(dataset, None, config(steps=2, lr_g=1e-3, lr_d=1e-3))
    a.fit(), b.fit()
    assert losses(a.history) == losses(b.history)


def test_cli_lr_g_lr_d_are_kept_on_resume_like_lr(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--base-channels", "4", "--latent-dim", "8", "--batch-size", "8",
            "--out", str(out), "--no-progress", "--d-norm", "spectral"]
    assert main(args + ["--steps", "2", "--lr-g", "1e-4", "--lr-d", "4e-4"]) == 0
    saved = json.loads((out / "config.json").read_text())["config"]
    assert (saved["lr_g"], saved["lr_d"], saved["d_norm"]) == (1e-4, 4e-4, "spectral")
    assert main(args + ["--steps", "3", "--resume", "--lr-d", "4e-4"]) == 0
    capsys.readouterr()
    assert main(args + ["--steps", "4", "--resume", "--lr-g", "2e-4"]) == 1
    assert "--lr-g differs from the checkpoint's run" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# Spectral normalization
# ---------------------------------------------------------------------------------------------
def spectral_layers(D):
    return [m for m in D.modules() if hasattr(m, "parametrizations")]


@pytest.mark.parametrize("loss", ["bce", "hinge", "wgan-gp"])
def test_spectral_norm_discriminator_keeps_sigma_near_one_with_every_loss(dataset, loss):
    t = Trainer(dataset, None, config(steps=4, d_norm="spectral", loss=loss))
    t.fit()
    layers = spectral_layers(t.D)
    assert len(layers) == 2                                  # (8x8 images) the conv and the linear
    for m in layers:
        w = m.weight.numpy().astype(np.float64)
        sigma = np.linalg.svd(w.reshape(w.shape[0], -1), compute_uv=False)[0]
        assert abs(sigma - 1.0) < 0.05, (loss, sigma)
    assert all(np.isfinite(v).all() for v in losses(t.history) if v is not None)


def test_spectral_norm_checkpoints_round_trip_and_resume_exactly(dataset, tmp_path):
    assert_resumes_exactly(dataset, tmp_path, d_norm="spectral", loss="hinge")
    state = ckpt.load_checkpoint(tmp_path / "checkpoint.npz")
    keys = set(state["models"]["discriminator"])
    assert {"0.parametrizations.weight.original", "0.parametrizations.weight.0._u",
            "0.parametrizations.weight.0._v"} <= keys
    assert state["architecture"]["discriminator"]["norm"] == "spectral"
    D = Discriminator((1, 8, 8), 4, generator=tg.Generator(1), norm="spectral")
    D.load_state_dict(state["models"]["discriminator"])
    np.testing.assert_array_equal(D.state_dict()["0.parametrizations.weight.0._u"],
                                  state["models"]["discriminator"]["0.parametrizations.weight.0._u"])
    assert state_numel(D.config()) == sum(np.size(v) for v in D.state_dict().values())


def test_spectral_norm_is_seeded_and_leaves_the_global_generator_alone():
    # (building layers draws their default init from the global generator; the spectral norm's
    # start vectors must add nothing to that)
    tg.manual_seed(5)
    Discriminator((1, 8, 8), 4, generator=tg.Generator(0), norm="none")
    before = tg.randn(3).numpy()
    tg.manual_seed(5)
    a = Discriminator((1, 8, 8), 4, generator=tg.Generator(0), norm="spectral")
    after = tg.randn(3).numpy()
    b = Discriminator((1, 8, 8), 4, generator=tg.Generator(0), norm="spectral")
    np.testing.assert_array_equal(before, after)
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(v, b.state_dict()[k])
    mnist = Discriminator((1, 28, 28), 4, generator=tg.Generator(0), norm="spectral")
    assert len(spectral_layers(mnist)) == 3                  # 2 convs and the linear, no batch norm
    assert not any(isinstance(m, (tg.nn.BatchNorm2d, tg.nn.GroupNorm)) for m in mnist.modules())


# ---------------------------------------------------------------------------------------------
# Class-conditional DCGAN
# ---------------------------------------------------------------------------------------------
def test_conditional_models_depend_on_the_label():
    G = Generator((1, 8, 8), 6, 4, generator=tg.Generator(0), num_classes=3)
    D = Discriminator((1, 8, 8), 4, generator=tg.Generator(0), num_classes=3)
    z = tg.Tensor(np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32))
    # mixed labels: in training mode, G's batch norm would remove a label shared by the whole batch
    zeros, ones = np.array([0, 1, 2, 0]), np.array([1, 2, 0, 2])
    x0, x1 = G(z, zeros), G(z, ones)
    assert x0.shape == (4, 1, 8, 8) and not np.allclose(x0.numpy(), x1.numpy())
    assert not np.allclose(D(x0, zeros).numpy(), D(x0, ones).numpy())
    G.eval()                                # running statistics: a single label changes the image
    assert not np.allclose(G(z, np.zeros(4, np.int64)).numpy(), G(z, np.ones(4, np.int64)).numpy())
    assert G.config()["num_classes"] == D.config()["num_classes"] == 3
    for model in (G, D):
        assert state_numel(model.config()) == sum(np.size(v) for v in model.state_dict().values())
    with pytest.raises(ConfigError, match="class-conditional"):
        G(z)
    with pytest.raises(ConfigError, match=r"labels must be in \[0, 3\)"):
        D(x0, np.full(4, 3))
    with pytest.raises(ShapeError, match="labels must be 4 integers"):
        G(z, np.zeros(3, np.int64))
    with pytest.raises(ConfigError, match="unconditional"):
        Generator((1, 8, 8), 6, 4, generator=tg.Generator(0))(z, zeros)
    G.train()
    with pytest.raises(ConfigError, match="num_classes must be"):
        Generator((1, 8, 8), 6, 4, num_classes=1)


def test_conditional_training_resumes_exactly_and_grids_have_one_row_per_class(dataset, tmp_path):
    full, _ = assert_resumes_exactly(dataset, tmp_path, conditional=True, num_samples=7)
    assert full.num_classes == 3
    with Image.open(tmp_path / "samples.png") as grid:   # 3 rows (classes) of 7 // 3 = 2 images
        assert grid.size == (2 + 2 * 10, 2 + 3 * 10)
    images = full.generate(full.fixed_noise[:3])            # the metric's path: balanced labels
    np.testing.assert_array_equal(images, full.generate(full.fixed_noise[:3], np.arange(3)))
    assert not np.allclose(images[0], full.generate(full.fixed_noise[:1], np.array([1]))[0])


def test_conditional_needs_labels_and_the_conv_discriminator(dataset, tmp_path, capsys):
    unlabelled = ArrayDataset(dataset.images, name="nolabels")
    with pytest.raises(ConfigError, match="needs class labels.*'nolabels' has none"):
        Trainer(unlabelled, None, config(conditional=True))
    with pytest.raises(ConfigError, match="needs the conv discriminator"):
        config(conditional=True, discriminator="mlp").validate()
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / f"{i}.png")
    assert main(["train", "--dataset", f"folder:{folder}", "--image-size", "8", "--channels", "1",
                 "--steps", "1", "--batch-size", "2", "--out", str(tmp_path / "run"),
                 "--conditional"]) == 2
    assert "--conditional needs class labels" in capsys.readouterr().err
