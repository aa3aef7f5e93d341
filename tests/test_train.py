"""Trainer on a tiny synthetic set: finite losses, determinism, exact resume, checkpoint errors,
non-finite handling, Ctrl-C, atomic checkpoint writes."""
import json
import math
import os
import signal
import time
import warnings

import numpy as np
import pytest

import tensorgan.checkpoint as ckpt
from tensorgan.data import ArrayDataset
from tensorgan.errors import CheckpointError, ConfigError, NonFiniteError
import tensorgan.train as train_module
from tensorgan.errors import ShapeError
from tensorgan.train import TrainConfig, Trainer, make_grid, save_grid, to_uint8
from blobs import blob_images


@pytest.fixture(scope="module")
def dataset():
    return ArrayDataset(blob_images(), name="blobs")


def config(**kw):
    base = dict(steps=6, batch_size=8, latent_dim=8, base_channels=4, sample_every=3,
                checkpoint_every=3, num_samples=4, seed=0)
    base.update(kw)
    return TrainConfig(**base)


def losses(history):
    return [(r["loss_d"], r["loss_g"], r["d_x"], r["d_g_z"]) for r in history]


def test_summary_times_train_step_apart_from_samples_and_checkpoints(dataset, tmp_path, monkeypatch):
    # The CLI's "train_step median" must not include the periodic writes (nor, being a median,
    # the first step's compilation): make the writes slow and the step time must not see it.
    t = Trainer(dataset, tmp_path, config(sample_every=1, checkpoint_every=100))
    real_save = t.save_samples

    def slow_save(*a, **kw):
        time.sleep(0.3)
        return real_save(*a, **kw)
    monkeypatch.setattr(t, "save_samples", slow_save)
    summary = t.fit()
    assert summary["steps_run"] == 6 and summary["seconds_per_step"] > 0.3 * 5 / 6
    assert 0 < summary["median_step_seconds"] < 0.3 and summary["first_step_seconds"] > 0


def test_a_few_steps_give_finite_losses_and_change_parameters(dataset, tmp_path):
    t = Trainer(dataset, tmp_path, config())
    before = {k: v.clone() for k, v in t.G.state_dict().items()}
    d_before = {k: v.clone() for k, v in t.D.state_dict().items()}
    summary = t.fit()
    assert summary["step"] == 6 and not summary["interrupted"]
    assert all(np.isfinite(v).all() for v in losses(t.history))
    assert all(0 < r["d_x"] < 1 and 0 < r["d_g_z"] < 1 for r in t.history)
    after = t.G.state_dict()
    assert not np.array_equal(before["0.weight"], after["0.weight"])
    assert not np.array_equal(d_before["0.weight"], t.D.state_dict()["0.weight"])
    # run directory contents
    assert (tmp_path / "checkpoint.npz").is_file() and (tmp_path / "samples.png").is_file()
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["step_000003.png", "step_000006.png"]
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 7))
    assert set(records[0]) >= {"step", "loss_d", "loss_g", "d_x", "d_g_z", "time"}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_same_seed_same_losses_other_seed_other_losses(dataset):
    a = Trainer(dataset, None, config(steps=3))
    a.fit()
    b = Trainer(dataset, None, config(steps=3))
    b.fit()
    c = Trainer(dataset, None, config(steps=3, seed=1))
    c.fit()
    assert losses(a.history) == losses(b.history)
    assert losses(a.history) != losses(c.history)


def test_resume_gives_the_same_losses_as_an_uninterrupted_run(dataset, tmp_path):
    # 8 steps cross an epoch boundary (6 batches per epoch): data order is restored too.
    full = Trainer(dataset, None, config(steps=8))
    full.fit()
    first = Trainer(dataset, tmp_path, config(steps=4))
    first.fit()
    resumed = Trainer(dataset, tmp_path, config(steps=8))
    assert resumed.resume() == 4
    resumed.fit()
    assert losses(first.history) + losses(resumed.history) == losses(full.history)
    for k, v in full.G.state_dict().items():
        np.testing.assert_array_equal(v, resumed.G.state_dict()[k])
    steps = [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 9))


def test_mlp_discriminator_dropout_state_is_restored(dataset, tmp_path):
    cfg = dict(discriminator="mlp", steps=4)
    full = Trainer(dataset, None, config(**cfg))
    full.fit()
    first = Trainer(dataset, tmp_path, config(**{**cfg, "steps": 2}))
    first.fit()
    resumed = Trainer(dataset, tmp_path, config(**cfg))
    resumed.resume()
    resumed.fit()
    assert losses(first.history) + losses(resumed.history) == losses(full.history)


def test_checkpoint_round_trip_is_pickle_free(dataset, tmp_path):
    t = Trainer(dataset, tmp_path, config(steps=2))
    t.fit()
    with np.load(tmp_path / "checkpoint.npz", allow_pickle=False) as npz:
        assert "models/generator/0.weight" in npz.files
        assert all(npz[name].dtype != object for name in npz.files)
    state = ckpt.load_checkpoint(tmp_path / "checkpoint.npz")
    assert state["step"] == 2 and state["image_shape"] == [1, 8, 8]
    assert state["config"]["latent_dim"] == 8 and json.loads(state["rng"]["noise"])["bit_generator"] == "PCG64"
    for k, v in t.G.state_dict().items():
        np.testing.assert_array_equal(state["models"]["generator"][k], v)


def test_corrupt_and_foreign_checkpoints_are_checkpoint_errors(dataset, tmp_path):
    t = Trainer(dataset, tmp_path, config(steps=1))
    t.fit()
    good = tmp_path / "checkpoint.npz"
    data = good.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.npz").write_text("not a checkpoint")
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    np.savez(tmp_path / "pickled.npz", __meta__=np.array("{}"), a=np.array([{"x": 1}], dtype=object))
    for name, pattern in [("trunc.npz", "corrupt or truncated"), ("text.npz", "not an .npz"),
                          ("plain.npz", "not a tensorgan checkpoint"), ("pickled.npz", "pickle"),
                          ("missing.npz", "does not exist")]:
        with pytest.raises(CheckpointError, match=pattern):
            Trainer(dataset, None, config()).resume(tmp_path / name)
    # another architecture: names the first mismatching parameter and both shapes
    other = Trainer(dataset, None, config(base_channels=2))
    other.config.base_channels = 2
    with pytest.raises(CheckpointError, match="architecture"):
        other.resume(good)
    other.G.config = t.G.config  # get past the architecture summary to the per-parameter check
    other.D.config = t.D.config
    with pytest.raises(CheckpointError, match=r"'0.weight' has shape \(128, 8\).*\(64, 8\)"):
        other.resume(good)
    # another image shape
    big = ArrayDataset(np.zeros((16, 1, 16, 16), np.uint8))
    with pytest.raises(CheckpointError, match=r"images of shape \(1, 8, 8\).*\(1, 16, 16\)"):
        Trainer(big, None, config()).resume(good)


def test_failed_checkpoint_write_keeps_the_previous_one(dataset, tmp_path, monkeypatch):
    t = Trainer(dataset, tmp_path, config(steps=1))
    t.fit()
    path = tmp_path / "checkpoint.npz"
    before = path.read_bytes()

    def broken(f, arrays):
        f.write(b"PK partial")
        raise OSError(28, "No space left on device")

    import tensorgan.checkpoint as checkpoint_module    # (its writer: np.savez's file format)
    monkeypatch.setattr(checkpoint_module, "_write_npz", broken)
    t.step = 99
    with pytest.raises(CheckpointError, match="No space left"):
        t.save_checkpoint()
    assert path.read_bytes() == before
    left = {p.name for p in tmp_path.iterdir() if p.is_file()} - {"loss_curve.png"}  # with matplotlib
    assert sorted(left) == ["checkpoint.npz", "metrics.jsonl", "samples.png"]   # no temporary file


def test_unwritable_run_dir_fails_before_training(dataset, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="not writable"):
        Trainer(dataset, blocker / "run", config())


@pytest.mark.parametrize("policy", ["stop", "skip"])
def test_non_finite_losses_stop_or_skip(dataset, tmp_path, policy):
    t = Trainer(dataset, tmp_path, config(steps=4, checkpoint_every=1, on_nonfinite=policy))

    def poison(record):
        if record["step"] == 3:
            t.D[-1].weight.array[...] = np.nan  # D's logit layer, after step 3's update

    # Step 3's checkpoint (written after on_step) would hold the NaN weights: refused, whatever
    # the policy -- the last good checkpoint, step 2's, stays.
    with pytest.raises(NonFiniteError, match="step 3: the discriminator's parameters are not finite"):
        t.fit(on_step=poison)
    saved = ckpt.load_checkpoint(tmp_path / "checkpoint.npz")
    assert saved["step"] == 2
    assert all(np.isfinite(a).all() for a in saved["models"]["discriminator"].values())

    # Weights poisoned before a step: its loss is non-finite -> stop, or skip the update.
    t = Trainer(dataset, tmp_path / "b", config(steps=4, checkpoint_every=10, on_nonfinite=policy))
    t.D[-1].weight.array[...] = np.nan
    if policy == "stop":
        with pytest.raises(NonFiniteError, match="step 1: the discriminator's loss"):
            t.train_step(next(iter(t.loader))[0])
    else:
        before = [p.array.copy() for p in t.D.parameters()]
        t.train_step(next(iter(t.loader))[0])
        assert t.skipped >= 1 and t.step == 1
        assert all(np.array_equal(p.array, b, equal_nan=True) for p, b in zip(t.D.parameters(), before))


def test_checkpoint_finite_check_counts_values_not_their_float32_sum(dataset, tmp_path):
    # The check sums in the parameters' own dtype first (the kernels a step has compiled); a
    # float32 total that overflows for huge finite weights must not refuse the checkpoint.
    t = Trainer(dataset, tmp_path, config(steps=1))
    t.D[-1].weight.array[...] = np.finfo(np.float32).max
    with np.errstate(over="ignore"):
        assert np.isinf(t.D[-1].weight.array.sum())
    t.save_checkpoint()
    assert ckpt.load_checkpoint(tmp_path / "checkpoint.npz")["step"] == 0
    t.D[-1].weight.array.flat[0] = -np.inf
    with pytest.raises(NonFiniteError, match="discriminator's parameters are not finite"):
        t.save_checkpoint()


def test_non_finite_gradients_are_detected(dataset, monkeypatch):
    import tensorgan.train as train_module
    from tensorgan import nn
    p = nn.Parameter(np.ones(3, np.float32))
    p.grad = nn.Parameter(np.array([1.0, np.nan, 0.0], np.float32))
    assert not train_module._grads_finite([p])
    p.grad.array[1] = np.inf
    assert not train_module._grads_finite([p])
    p.grad.array[1] = 0
    assert train_module._grads_finite([p])
    # huge but finite: the float32 total overflows to inf, the float64 one does not -- finite
    p.grad.array[:] = np.finfo(np.float32).max
    with np.errstate(over="ignore"):
        assert np.isinf(p.grad.array.sum())
    assert train_module._grads_finite([p])
    p.grad.array[0] = -np.inf                       # ... unless an element really is inf
    assert not train_module._grads_finite([p])
    assert train_module._grads_finite([])          # nothing to check
    # finite loss, non-finite gradient: the update is refused and the network named
    t = Trainer(dataset, None, config(steps=2))
    monkeypatch.setattr(train_module, "_grads_finite", lambda params: False)
    with pytest.raises(NonFiniteError, match="step 1: the discriminator's gradient"):
        t.fit()


def test_sigint_finishes_the_step_and_writes_a_checkpoint(dataset, tmp_path):
    t = Trainer(dataset, tmp_path, config(steps=50, checkpoint_every=100))
    previous = signal.getsignal(signal.SIGINT)

    def interrupt(record):
        if record["step"] == 2:
            os.kill(os.getpid(), signal.SIGINT)

    summary = t.fit(on_step=interrupt)
    assert summary["interrupted"] and summary["step"] == 2
    assert ckpt.load_checkpoint(tmp_path / "checkpoint.npz")["step"] == 2
    assert signal.getsignal(signal.SIGINT) is previous


def test_invalid_configs(dataset):
    with pytest.raises(ConfigError, match="learning rate"):
        Trainer(dataset, None, config(lr=-1.0))
    with pytest.raises(ConfigError, match="beta1"):
        Trainer(dataset, None, config(beta1=1.0))
    with pytest.raises(ConfigError, match="batch_size"):
        Trainer(dataset, None, config(batch_size=0))
    with pytest.raises(ConfigError, match="larger than the dataset"):
        Trainer(dataset, None, config(batch_size=64))


def test_grid_helpers():
    x = np.array([-1.0, 0.0, 1.0, 3.0], np.float32).reshape(4, 1, 1, 1)
    assert to_uint8(x).ravel().tolist() == [0, 128, 255, 255]
    grid = make_grid(np.full((5, 3, 4, 4), 200, np.uint8))
    assert grid.shape == (2 + 2 * 6, 2 + 3 * 6, 3)


def test_skipped_steps_leave_running_statistics_finite(dataset, tmp_path):
    """A huge learning rate makes the forward passes overflow: every later update is skipped, and
    the running statistics those passes would have averaged NaN into are put back, so the final
    checkpoint is written and holds finite values only -- and NumPy prints no overflow warnings."""
    images = np.random.default_rng(0).integers(0, 256, (48, 1, 16, 16)).astype(np.uint8)
    t = Trainer(ArrayDataset(images), tmp_path, config(steps=10, lr=1e30, on_nonfinite="skip"))
    assert any("running_mean" in k for k in t.D.state_dict())     # 16x16: D has a batch norm
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # the checks report it, not NumPy warnings
        summary = t.fit()
    assert summary["step"] == 10 and summary["skipped"] > 0
    saved = ckpt.load_checkpoint(tmp_path / "checkpoint.npz")
    assert saved["step"] == 10
    for network in ("generator", "discriminator"):
        for name, a in saved["models"][network].items():
            assert np.isfinite(a).all(), (network, name)


def test_checkpoint_refuses_non_finite_running_statistics(dataset, tmp_path):
    t = Trainer(dataset, tmp_path, config(steps=2))
    t.fit()
    before = (tmp_path / "checkpoint.npz").read_bytes()
    bn = next(m for m in t.G.modules() if getattr(m, "running_var", None) is not None)
    bn.running_var.array[0] = np.inf
    with pytest.raises(NonFiniteError, match="generator's batch-norm running statistics are not finite"):
        t.save_checkpoint()
    assert (tmp_path / "checkpoint.npz").read_bytes() == before


def test_a_run_that_only_skips_stops_as_diverged(dataset, tmp_path, monkeypatch):
    """on_nonfinite="skip" is for a rare bad batch: steps that all skip end the run (it would
    otherwise "finish" untrained), and metrics.jsonl stays strict JSON (null, not NaN)."""
    monkeypatch.setattr(train_module, "SKIP_STREAK_LIMIT", 3)
    t = Trainer(dataset, tmp_path, config(steps=10, checkpoint_every=100, on_nonfinite="skip"))
    t.D[-1].weight.array[...] = np.nan
    with pytest.raises(NonFiniteError, match="step 3: 3 steps in a row skipped"):
        t.fit()

    def no_nan(word):
        raise AssertionError(f"{word} in metrics.jsonl")
    records = [json.loads(line, parse_constant=no_nan)
               for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2] and records[0]["loss_d"] is None  # as "stop": not step 3
    # an occasional skip does not add up: the streak restarts after a good step
    t = Trainer(dataset, tmp_path / "b", config(steps=6, checkpoint_every=100, on_nonfinite="skip"))
    good = t.D[-1].weight.array.copy()

    def poison_every_other(record):
        t.D[-1].weight.array[...] = np.nan if record["step"] % 2 else good
    assert t.fit(on_step=poison_every_other)["step"] == 6


def test_sample_grids_need_png_channel_counts(tmp_path):
    five = np.zeros((4, 5, 8, 8), np.uint8)
    with pytest.raises(ShapeError, match="1, 3 or 4 channels, got 5"):
        save_grid(five, tmp_path / "g.png")
    with pytest.raises(ShapeError, match="N = 0"):
        make_grid(np.zeros((0, 1, 8, 8), np.uint8))
    with pytest.raises(ConfigError, match="5 channels"):   # before training, not after it
        Trainer(ArrayDataset(five), tmp_path / "run", config())
    assert Trainer(ArrayDataset(five), None, config(batch_size=4)).image_shape == (5, 8, 8)
    from PIL import Image
    rgba = np.random.default_rng(0).integers(0, 256, (2, 4, 8, 8)).astype(np.uint8)
    with Image.open(save_grid(rgba, tmp_path / "rgba.png")) as im:
        assert im.mode == "RGBA"
        assert np.array_equal(np.asarray(im)[2:10, 2:10], rgba[0].transpose(1, 2, 0))


def test_json_line_is_strict_json_inside_lists_too():
    record = {"loss": float("nan"), "shares": [float("inf"), 0.5], "n": {"x": -math.inf}}
    line = train_module.json_line(record)
    assert json.loads(line) == {"loss": None, "shares": [None, 0.5], "n": {"x": None}}


def test_r1_gamma_adds_the_r1_penalty_to_the_discriminator_loss(dataset):
    # Same seed, same batch: the first step's loss_d differs by exactly gamma/2 * R1 at the
    # initial weights, R1 computed independently by tg.losses.r1_penalty on a third copy.
    import tensorgan as tg
    x = dataset.images[:8].astype(np.float32) / 127.5 - 1.0
    plain, penalized, probe = (Trainer(dataset, None, config(r1_gamma=g)) for g in (0.0, 10.0, 0.0))
    expected = tg.losses.r1_penalty(probe.D, tg.tensor(x)).item()
    r0, r1 = plain.train_step(x), penalized.train_step(x)
    assert "r1" not in r0 and expected > 0
    assert r1["r1"] == pytest.approx(expected, rel=1e-4)
    assert r1["loss_d"] == pytest.approx(r0["loss_d"] + 5.0 * expected, rel=1e-5)
    assert r1["d_x"] == pytest.approx(r0["d_x"], rel=1e-6)      # the same forward pass
    # (compare D's gradients, not its weights: Adam's first step is lr * sign(gradient))
    moved = [np.abs(a.grad.numpy() - b.grad.numpy()).max() / np.abs(a.grad.numpy()).max()
             for a, b in zip(plain.D.parameters(), penalized.D.parameters())]
    assert max(moved) > 1e-3                                     # the penalty's gradient reached D


def test_r1_gamma_is_validated_and_kept_in_the_checkpoint(dataset, tmp_path):
    for bad in (-1.0, float("nan"), float("inf"), "1", True):
        with pytest.raises(ConfigError, match="r1_gamma"):
            config(r1_gamma=bad).validate()
    t = Trainer(dataset, tmp_path, config(steps=2, r1_gamma=2.5, discriminator="mlp"))
    t.fit()
    assert all(math.isfinite(r["r1"]) for r in t.history)
    resumed = Trainer(dataset, tmp_path, config(steps=3, r1_gamma=2.5, discriminator="mlp"))
    assert resumed.resume() == 2
    assert ckpt.load_checkpoint(tmp_path / "checkpoint.npz")["config"]["r1_gamma"] == 2.5


def test_skip_count_and_streak_survive_a_resume(dataset, tmp_path, monkeypatch):
    # D's loss is NaN on every step (its weights stay finite, so checkpoints are written): the
    # streak of skipped updates goes on across a resume instead of starting again at 0.
    monkeypatch.setattr(train_module, "SKIP_STREAK_LIMIT", 3)
    real_loss = train_module.losses.discriminator_loss
    monkeypatch.setattr(train_module.losses, "discriminator_loss",
                        lambda r, f, kind: real_loss(r, f, kind) * float("nan"))
    first = Trainer(dataset, tmp_path, config(steps=2, checkpoint_every=2, on_nonfinite="skip"))
    assert first.fit()["skipped"] == 2
    again = Trainer(dataset, tmp_path, config(steps=10, checkpoint_every=2, on_nonfinite="skip"))
    assert again.resume() == 2 and again.skipped == 2
    with pytest.raises(NonFiniteError, match="step 3: 3 steps in a row skipped"):
        again.fit()
    state = ckpt.load_checkpoint(tmp_path / "checkpoint.npz")
    state["skips"] = {"total": -1, "streak": 0}
    with pytest.raises(CheckpointError, match="skips"):
        Trainer(dataset, None, config()).load_state_dict(state, "c.npz")


def test_lazy_r1_runs_on_every_kth_step_weighted_k_times(dataset):
    x = dataset.images[:8].astype(np.float32) / 127.5 - 1.0
    plain = Trainer(dataset, None, config(r1_gamma=0.0))
    lazy = Trainer(dataset, None, config(r1_gamma=10.0, r1_every=2))
    first = plain.train_step(x), lazy.train_step(x)
    assert "r1" not in first[1] and first[1]["loss_d"] == first[0]["loss_d"]   # step 1: no R1
    second = plain.train_step(x), lazy.train_step(x)
    assert second[1]["loss_d"] == pytest.approx(second[0]["loss_d"] + 10.0 * second[1]["r1"], rel=1e-5)
    with pytest.raises(ConfigError, match="r1_every"):
        config(r1_every=0, r1_gamma=1.0).validate()
    with pytest.raises(ConfigError, match="r1_gamma=0 turns off"):
        config(r1_every=4).validate()


def test_hinge_loss_trains_d_on_the_margin_and_g_on_minus_the_score(dataset):
    import tensorgan as tg
    x = dataset.images[:8].astype(np.float32) / 127.5 - 1.0
    t, probe = (Trainer(dataset, None, config(loss="hinge")) for _ in range(2))
    z = tg.tensor(probe.rng["noise"].normal((8, 8)))         # the noise stream's first draw
    d_real, d_fake = probe.D(tg.tensor(x)).numpy(), probe.D(probe.G(z)).numpy()
    want = np.maximum(0, 1 - d_real).mean() + np.maximum(0, 1 + d_fake).mean()
    record = t.train_step(x)
    assert record["loss_d"] == pytest.approx(want, rel=1e-5)
    assert math.isfinite(record["loss_g"])
    with pytest.raises(ConfigError, match="a choice of loss='bce'"):
        config(loss="hinge", generator_loss="minimax").validate()
    with pytest.raises(ConfigError, match="loss must be one of"):
        config(loss="wasserstein").validate()
    with pytest.raises(ConfigError, match="loss='hinge' gives the hinge"):
        config(generator_loss="hinge").validate()


@pytest.mark.parametrize("d_norm", ["layer", "none"])
def test_wgan_gp_trains_a_critic_with_the_gradient_penalty(dataset, d_norm):
    import tensorgan as tg
    from tensorgan import autograd
    x = dataset.images[:8].astype(np.float32) / 127.5 - 1.0
    kw = dict(loss="wgan-gp", d_norm=d_norm, gp_lambda=5.0)
    t, probe = (Trainer(dataset, None, config(**kw)) for _ in range(2))
    assert t.D.config().get("norm") == d_norm
    # the trainer's draws, in its order: z, then one interpolation weight per sample
    z = tg.tensor(probe.rng["noise"].normal((8, 8)))
    fake = probe.G(z).detach()
    e = probe.rng["noise"].uniform((8, 1, 1, 1), dtype=np.float32)
    d_real, d_fake = probe.D(tg.tensor(x)).numpy(), probe.D(fake).numpy()
    x_hat = tg.tensor(e * x + (1 - e) * fake.numpy(), requires_grad=True)
    (g,) = autograd.grad(probe.D(x_hat).sum(), x_hat)
    norms = np.sqrt((g.numpy().reshape(8, -1).astype(np.float64) ** 2).sum(axis=1))
    penalty = ((norms - 1) ** 2).mean()
    record = t.train_step(x)
    assert record["gp"] == pytest.approx(penalty, rel=1e-4)
    assert record["loss_d"] == pytest.approx(d_fake.mean() - d_real.mean() + 5.0 * penalty, rel=1e-4)
    assert math.isfinite(record["loss_g"])
    before = [p.numpy().copy() for p in t.D.parameters()]
    t.train_step(x)
    changed = [not np.array_equal(a, p.numpy()) for a, p in zip(before, t.D.parameters())]
    # every weight moves but the critic's last bias: E D(fake) - E D(real) does not depend on
    # it, and neither does the penalty (a gradient with respect to the input)
    assert changed == [True] * (len(changed) - 1) + [False]


def test_wgan_gp_options_are_checked():
    with pytest.raises(ConfigError, match="batch-normalized critic"):
        config(loss="wgan-gp").validate()
    with pytest.raises(ConfigError, match="gp_lambda weighs"):
        config(gp_lambda=1.0).validate()
    with pytest.raises(ConfigError, match="gp_lambda must be"):
        config(loss="wgan-gp", d_norm="none", gp_lambda=0.0).validate()
    with pytest.raises(ConfigError, match="d_norm must be one of"):
        config(d_norm="instance").validate()
    with pytest.raises(ConfigError, match="the 'mlp' one has none"):
        config(d_norm="layer", discriminator="mlp").validate()
    config(loss="wgan-gp", discriminator="mlp").validate()      # no batch norm there


def test_n_critic_updates_g_on_every_kth_step_only(dataset):
    t = Trainer(dataset, None, config(n_critic=3, loss="wgan-gp", d_norm="layer"))
    one = Trainer(dataset, None, config(loss="wgan-gp", d_norm="layer"))
    batches = [dataset.images[i * 8:(i + 1) * 8].astype(np.float32) / 127.5 - 1.0 for i in range(6)]
    g_before = [p.numpy().copy() for p in t.G.parameters()]
    for i, x in enumerate(batches[:3], 1):
        d_before = [p.numpy().copy() for p in t.D.parameters()]
        t.G.zero_grad(set_to_none=True)
        record = t.train_step(x)
        g_moved = any(not np.array_equal(a, p.numpy()) for a, p in zip(g_before, t.G.parameters()))
        assert g_moved == (i == 3) and ("loss_g" in record) == (i == 3), i
        assert any(not np.array_equal(a, p.numpy()) for a, p in zip(d_before, t.D.parameters()))
        if i < 3:       # a D-only step runs G without a graph: no gradient reaches G
            assert all(p.grad is None for p in t.G.parameters())
    # The first (D-only) step is the n_critic=1 trainer's D update exactly: same batch, noise, draws.
    t1 = Trainer(dataset, None, config(n_critic=2, loss="wgan-gp", d_norm="layer"))
    r1, r = t1.train_step(batches[0]), one.train_step(batches[0])
    assert r1["loss_d"] == r["loss_d"] and r1["gp"] == r["gp"] and "loss_g" not in r1
    for a, b in zip(t1.D.parameters(), one.D.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert all(np.array_equal(a.numpy(), b) for a, b in zip(t1.G.parameters(), g_before))


def test_n_critic_resume_and_log_read_as_one_run(dataset, tmp_path):
    full = Trainer(dataset, None, config(steps=8, n_critic=3))
    full.fit()
    assert [("loss_g" in r) for r in full.history] == [s % 3 == 0 for s in range(1, 9)]
    first = Trainer(dataset, tmp_path, config(steps=4, n_critic=3))
    first.fit()
    resumed = Trainer(dataset, tmp_path, config(steps=8, n_critic=3))
    assert resumed.resume() == 4
    resumed.fit()
    assert first.history + resumed.history == [dict(r, time=h["time"]) for r, h in
                                               zip(full.history, first.history + resumed.history)]
    with pytest.raises(ConfigError, match="n_critic must be a positive integer"):
        config(n_critic=0).validate()
