"""DiffAugment (tensorgan.augment): each policy against a NumPy re-implementation of the paper's
official code given the same random draws, gradients, refusals -- and the trainer's use of it
(real and fake images every time D sees them, penalties on the augmented images, exact resume)."""
import json

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.checkpoint as ckpt
import tensorgan.train as train_module
from tensorgan import losses as gan_losses
from tensorgan.augment import diff_augment, parse_policy
from tensorgan.cli import main
from tensorgan.data import ArrayDataset
from tensorgan.errors import ConfigError, DTypeError, InputTypeError, ShapeError
from tensorgan.train import Trainer
from test_train_features import assert_resumes_exactly, config

POLICIES = ["color", "translation", "cutout", "color,translation,cutout", "cutout,translation"]


# ---------------------------------------------------------------------------------------------
# A NumPy DiffAugment, written from the official DiffAugment_pytorch.py: the same draws, in the
# same order, from a NumPy generator seeded like tg.Generator(seed)
# ---------------------------------------------------------------------------------------------
def reference(x, policy, seed):
    rng = np.random.default_rng(seed)
    for name in policy.split(","):
        x = {"color": ref_color, "translation": ref_translation, "cutout": ref_cutout}[name](x, rng)
    return x


def per_image(values):
    return values[:, None, None, None]


def ref_color(x, rng):
    n = x.shape[0]
    x = x + per_image(rng.random(n, dtype=x.dtype) - 0.5)                 # brightness
    mean = x.mean(axis=1, keepdims=True)
    x = (x - mean) * per_image(rng.random(n, dtype=x.dtype) * 2) + mean   # saturation
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    return (x - mean) * per_image(rng.random(n, dtype=x.dtype) + 0.5) + mean   # contrast


def ref_translation(x, rng):
    n, _, h, w = x.shape
    sh, sw = int(h * 0.125 + 0.5), int(w * 0.125 + 0.5)
    th, tw = rng.integers(-sh, sh + 1, n), rng.integers(-sw, sw + 1, n)
    out = np.zeros_like(x)
    for k in range(n):
        for i in range(h):
            for j in range(w):
                if 0 <= i + th[k] < h and 0 <= j + tw[k] < w:
                    out[k, :, i, j] = x[k, :, i + th[k], j + tw[k]]
    return out


def ref_cutout(x, rng):
    n, _, h, w = x.shape
    sh, sw = int(h * 0.5 + 0.5), int(w * 0.5 + 0.5)
    oh, ow = rng.integers(0, h + 1 - sh % 2, n), rng.integers(0, w + 1 - sw % 2, n)
    out = x.copy()
    for k in range(n):
        top, left = oh[k] - sh // 2, ow[k] - sw // 2
        out[k, :, max(top, 0):top + sh, max(left, 0):left + sw] = 0
    return out


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("shape", [(5, 3, 8, 8), (4, 1, 7, 10), (3, 2, 1, 3), (6, 3, 16, 12)])
def test_each_policy_matches_numpy_given_the_same_draws(policy, shape):
    a = np.random.default_rng(1).standard_normal(shape)
    for seed in range(3):
        got = diff_augment(tg.tensor(a), policy, generator=tg.Generator(seed))
        assert got.shape == shape and got.dtype == tg.float64
        np.testing.assert_allclose(got.numpy(), reference(a, policy, seed), rtol=1e-12, atol=1e-12)
        got32 = diff_augment(tg.tensor(a, dtype=tg.float32), policy, generator=tg.Generator(seed))
        assert got32.dtype == tg.float32
        np.testing.assert_allclose(got32.numpy(), reference(a.astype(np.float32), policy, seed),
                                   rtol=1e-5, atol=1e-6)


def test_translation_and_cutout_bounds():
    x = tg.ones(64, 1, 8, 8)                           # 8x8: shifts of up to 1, a 4x4 cut-out
    shifted = diff_augment(x, "translation", generator=tg.Generator(0)).numpy()
    zeros = (shifted == 0).sum(axis=(1, 2, 3))
    assert set(zeros) <= {0, 8, 15} and {0, 8, 15} <= set(zeros)   # none, a row/column, both
    cut = diff_augment(x, "cutout", generator=tg.Generator(0)).numpy()
    zeros = (cut == 0).sum(axis=(1, 2, 3))
    assert zeros.max() == 16 and zeros.min() >= 4      # clipped at the border: at least 2x2


@pytest.mark.parametrize("policy", POLICIES)
def test_gradcheck_float64(policy):
    x = tg.tensor(np.random.default_rng(2).standard_normal((3, 2, 5, 6)), requires_grad=True)
    assert tg.gradcheck(lambda t: diff_augment(t, policy, generator=tg.Generator(4)), (x,))
    # the ops are linear in x: a nonlinear function of them checks their double backward
    assert tg.gradgradcheck(lambda t: diff_augment(t, policy, generator=tg.Generator(4)) ** 2, (x,))


def test_empty_policy_is_the_identity_empty_batches_pass_float16_kept():
    x = tg.randn(2, 3, 4, 4)
    assert diff_augment(x, "") is x and diff_augment(x, "  ") is x
    empty = diff_augment(tg.zeros(0, 3, 8, 8), generator=tg.Generator(0))
    assert empty.shape == (0, 3, 8, 8)
    assert diff_augment(x.to(tg.float16), generator=tg.Generator(0)).dtype == tg.float16


def test_seeded_draws_reproduce_and_successive_calls_differ():
    x = tg.randn(4, 3, 8, 8)
    a = diff_augment(x, generator=tg.Generator(7)).numpy()
    np.testing.assert_array_equal(a, diff_augment(x, generator=tg.Generator(7)).numpy())
    np.testing.assert_array_equal(a, diff_augment(x, generator=np.random.default_rng(7)).numpy())
    g = tg.Generator(7)
    diff_augment(x, generator=g)
    assert not np.array_equal(a, diff_augment(x, generator=g).numpy())
    tg.manual_seed(3)                                   # no generator: the default one
    b = diff_augment(x).numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(b, diff_augment(x).numpy())


def test_refusals_name_what_was_wrong():
    x = tg.randn(2, 3, 4, 4)
    with pytest.raises(ConfigError, match="unknown policy 'flip' in 'color,flip'.*color, translation, cutout"):
        diff_augment(x, "color,flip")
    with pytest.raises(ConfigError, match="unknown policy '' in 'color,,cutout'"):
        diff_augment(x, "color,,cutout")
    with pytest.raises(ConfigError, match="policy must be a string.*got list"):
        diff_augment(x, ["color"])
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\), got shape \(3, 4, 4\)"):
        diff_augment(tg.randn(3, 4, 4))
    with pytest.raises(DTypeError, match="floating-point tensor, got int64"):
        diff_augment(tg.zeros(2, 1, 4, 4, dtype=tg.int64))
    with pytest.raises(InputTypeError, match="must be a Tensor, got ndarray"):
        diff_augment(np.zeros((2, 1, 4, 4)))
    with pytest.raises(ConfigError, match="generator must be a tensorgan.Generator"):
        diff_augment(x, generator=3)
    assert parse_policy(" color , cutout ") == ("color", "cutout") and parse_policy("") == ()


# ---------------------------------------------------------------------------------------------
# The trainer
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dataset():
    images = np.random.default_rng(0).integers(0, 256, (48, 1, 8, 8), dtype=np.uint8)
    return ArrayDataset(images, labels=np.arange(48) % 3, name="noise")


def recording(monkeypatch):
    """Patch the trainer's diff_augment to record (input, output) of every call."""
    calls = []

    def record(x, policy, generator=None):
        out = diff_augment(x, policy, generator)
        calls.append((x, out, policy))
        return out
    monkeypatch.setattr(train_module, "diff_augment", record)
    return calls


def test_trainer_augments_real_and_fake_each_time_d_sees_them(dataset, monkeypatch, tmp_path):
    calls = recording(monkeypatch)
    t = Trainer(dataset, tmp_path, config(steps=4, n_critic=2, augment="color, cutout"))
    t.fit()
    assert t.config.augment == "color,cutout" and {p for *_, p in calls} == {"color,cutout"}
    assert len(calls) == 2 + 3 + 2 + 3              # D-only steps: real, fake; G steps: + fake
    first_real = calls[0][0].numpy()
    assert first_real.min() >= -1 and first_real.max() <= 1 and not calls[0][0].requires_grad
    assert not calls[1][0].requires_grad            # the fake D is trained on: detached
    assert calls[4][0].requires_grad                # the fake of G's loss: G's gradient flows
    assert not np.array_equal(calls[0][1].numpy(), calls[0][0].numpy())
    before = len(calls)                             # samples are drawn, never augmented
    t.save_samples()
    t.generate(t.fixed_noise)
    assert len(calls) == before
    monkeypatch.undo()
    off = recording(monkeypatch)
    Trainer(dataset, None, config(steps=2)).fit()
    assert off == []


@pytest.mark.parametrize("kind", ["r1", "wgan-gp"])
def test_penalties_are_taken_at_the_augmented_images(dataset, monkeypatch, kind):
    kw = dict(r1_gamma=1.0) if kind == "r1" else dict(loss="wgan-gp", d_norm="layer")
    calls = recording(monkeypatch)
    t = Trainer(dataset, None, config(augment="color,translation,cutout", **kw))
    fresh = Trainer(dataset, None, config(augment="color,translation,cutout", **kw))  # D as it was
    real, _ = next(iter(t.loader))
    record = t.train_step(real)
    aug_real, aug_fake = calls[0][1].detach(), calls[1][1].detach()
    if kind == "r1":
        expected = gan_losses.r1_penalty(fresh.D, aug_real)
    else:
        fresh.rng["noise"].normal((len(real), 8))              # the step's z, then GP's e
        expected = gan_losses.gradient_penalty(fresh.D, aug_real, aug_fake, generator=fresh.rng["noise"])
    np.testing.assert_allclose(record["r1" if kind == "r1" else "gp"], expected.item(), rtol=1e-5)


def test_augmented_training_resumes_exactly_and_checkpoints_its_stream(dataset, tmp_path):
    assert_resumes_exactly(dataset, tmp_path, augment="color,translation,cutout", r1_gamma=1.0)
    state = ckpt.load_checkpoint(tmp_path / "checkpoint.npz")
    assert state["config"]["augment"] == "color,translation,cutout"
    assert json.loads(state["rng"]["augment"])["bit_generator"] == "PCG64"
    plain = Trainer(dataset, None, config(steps=2))
    assert "augment" not in plain.state_dict()["rng"]  # a run without it: the streams as before


def test_a_checkpoint_without_the_stream_resumes_with_augmentation_through_the_api(dataset, tmp_path):
    Trainer(dataset, tmp_path, config(steps=2)).fit()
    t = Trainer(dataset, None, config(steps=4, augment="translation"))
    start = t.rng["augment"].state_json()
    assert t.resume(tmp_path / "checkpoint.npz") == 2
    assert t.rng["augment"].state_json() == start       # from its seeded start
    t.fit()
    assert t.step == 4


def test_config_refuses_an_unknown_policy():
    with pytest.raises(ConfigError, match="augment: unknown policy 'zoom'"):
        config(augment="color,zoom").validate()


def test_cli_augment_is_stored_and_kept_on_resume(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--base-channels", "4", "--latent-dim", "8", "--batch-size", "8",
            "--sample-every", "2", "--checkpoint-every", "2", "--out", str(out), "--no-progress"]
    assert main(args + ["--steps", "2", "--augment", "color, translation"]) == 0
    assert json.loads((out / "config.json").read_text())["config"]["augment"] == "color,translation"
    assert main(args + ["--steps", "3", "--resume", "--augment", "color,translation"]) == 0
    capsys.readouterr()
    assert main(args + ["--steps", "4", "--resume", "--augment", "none"]) == 1
    assert "--augment differs from the checkpoint's run" in capsys.readouterr().err
    assert main(args + ["--steps", "4", "--resume", "--augment", "cutout"]) == 1
    capsys.readouterr()
    assert main(args + ["--steps", "4", "--resume"]) == 0
    assert main(["train", "--steps", "1", "--augment", "colour", "--out", str(tmp_path / "x")]) == 2
    assert "unknown policy 'colour'" in capsys.readouterr().err
