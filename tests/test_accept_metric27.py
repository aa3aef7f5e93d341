"""Acceptance review of the sample-quality metric (issue 5): the shipped assets are verified by
SHA-256 (a tampered copy is refused with a one-line error naming the file), the Fréchet distance
on known inputs, the classifier score's bounds, input errors that name what was wrong, and
``tensorgan eval``'s ``--json`` output for a .npy and for a checkpoint."""
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tensorgan import metrics
from tensorgan.cli import main
from tensorgan.data import load_bundled_mnist
from tensorgan.errors import DataError, DTypeError

REAL_ASSETS = Path(metrics.__file__).parent / "assets"


@pytest.fixture
def assets(tmp_path, monkeypatch):
    """A copy of the shipped assets in tmp_path/assets that the loader reads; caches restored."""
    folder = tmp_path / "assets"
    folder.mkdir()
    for name in (metrics.CLASSIFIER_ASSET, metrics.STATS_ASSET):
        (folder / name).write_bytes((REAL_ASSETS / name).read_bytes())
    # metrics' own view of importlib.resources only: numba and the bundled MNIST still load
    monkeypatch.setattr(metrics, "resources", SimpleNamespace(files=lambda package: tmp_path))
    caches = (metrics._classifier_bytes, metrics._load_classifier, metrics._reference)
    for c in caches:
        c.cache_clear()
    yield folder
    for c in caches:
        c.cache_clear()


def _resave(path: Path, **changes) -> None:
    with np.load(path, allow_pickle=False) as npz:
        fields = dict(npz.items())
    fields.update(changes)
    np.savez(path, **fields)


def test_shipped_assets_match_their_recorded_digests(assets):
    for name, digest in metrics.ASSET_SHA256.items():
        assert metrics.file_sha256(REAL_ASSETS / name) == digest
    assert metrics.get_classifier() is not None
    assert metrics.reference_statistics()["mu"].shape == (128,)


def test_edited_classifier_weights_are_refused(assets):
    path = assets / metrics.CLASSIFIER_ASSET
    with np.load(path, allow_pickle=False) as npz:
        head = npz["param/head.weight"]
    _resave(path, **{"param/head.weight": head * 1.01})     # still a valid weights file
    with pytest.raises(metrics.AssetError, match="mnist_classifier.npz does not match the SHA-256"):
        metrics.get_classifier()


def test_edited_statistics_are_refused(assets):
    path = assets / metrics.STATS_ASSET
    with np.load(path, allow_pickle=False) as npz:
        mu = npz["mu"]
    _resave(path, mu=mu + 0.5)                               # same classifier link, other numbers
    with pytest.raises(metrics.AssetError, match="mnist_test_stats.npz does not match the SHA-256"):
        metrics.reference_statistics()


def test_a_damaged_classifier_error_names_the_file(assets):
    path = assets / metrics.CLASSIFIER_ASSET
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(metrics.AssetError) as info:
        metrics.get_classifier()
    assert "mnist_classifier.npz: not a readable" in str(info.value)
    assert "BytesIO" not in str(info.value)


def test_cli_reports_a_tampered_asset_in_one_line(assets, tmp_path, capsys):
    _resave(assets / metrics.STATS_ASSET, n=np.array(9999))
    np.save(tmp_path / "s.npy", load_bundled_mnist().images[:200])
    assert main(["eval", str(tmp_path / "s.npy")]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "mnist_test_stats.npz does not match the SHA-256" in err


# ---------------------------------------------------------------------------------------------
# The metric functions on known inputs
# ---------------------------------------------------------------------------------------------
def test_frechet_distance_closed_forms_symmetry_and_float64():
    rng = np.random.default_rng(0)
    d = 12
    a = rng.standard_normal((d, d + 3))
    s = a @ a.T / (d + 3)
    mu = rng.standard_normal(d)
    assert metrics.frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-10)
    # N(m, aI) vs N(m + 1, bI): d + d (sqrt a - sqrt b)^2
    value = metrics.frechet_distance(np.zeros(d), 2.0 * np.eye(d), np.ones(d), 0.5 * np.eye(d))
    assert value == pytest.approx(d + d * (np.sqrt(2.0) - np.sqrt(0.5)) ** 2, rel=1e-12)
    assert type(value) is float
    b = rng.standard_normal((d, d))
    s2 = b @ b.T / d
    assert metrics.frechet_distance(mu, s, -mu, s2) == pytest.approx(
        metrics.frechet_distance(-mu, s2, mu, s), rel=1e-12)


def test_classifier_score_stays_within_one_and_the_class_count():
    # unclipped, rounding gave 10.000000000000002 here and 0.999999999999999 for repeated rows
    assert metrics.classifier_score(np.eye(10)) <= 10.0
    rng = np.random.default_rng(0)
    for _ in range(5):
        z = np.exp(rng.standard_normal(10))
        score = metrics.classifier_score(np.tile(z / z.sum(), (300, 1)))
        assert 1.0 <= score < 1.0 + 1e-12


def test_non_numeric_means_name_the_argument():
    with pytest.raises(DataError, match="mu1 is not an array of real numbers"):
        metrics.frechet_distance("a", np.eye(2), np.zeros(2), np.eye(2))
    with pytest.raises(DataError, match="sigma2 is not an array of real numbers"):
        metrics.frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), [[1, 0], [0]])
    with pytest.raises(DataError, match="mu2 is complex"):
        metrics.frechet_distance(np.zeros(2), np.eye(2), np.zeros(2) + 1j, np.eye(2))


def test_boolean_images_get_a_hint_that_keeps_their_scale():
    with pytest.raises(DTypeError, match=r"astype\(np.float32\)"):
        metrics.prepare_images(np.zeros((4, 28, 28), bool))
    with pytest.raises(DTypeError, match=r"astype\(np.uint8\)"):
        metrics.prepare_images(np.zeros((4, 28, 28), np.int64))


# ---------------------------------------------------------------------------------------------
# tensorgan eval --json
# ---------------------------------------------------------------------------------------------
RESULT_KEYS = {"fid", "classifier_score", "class_shares", "classes_covered", "mean_confidence", "n"}


def _check_result(out: dict, n: int) -> None:
    assert out["n"] == n and len(out["class_shares"]) == 10
    assert sum(out["class_shares"]) == pytest.approx(1.0)
    assert 1.0 <= out["classifier_score"] <= 10.0 and out["fid"] >= 0
    assert 0 <= out["classes_covered"] <= 10 and 0.1 <= out["mean_confidence"] <= 1.0


def test_eval_json_for_samples_and_for_a_checkpoint(tmp_path, capsys, monkeypatch):
    from tensorgan import data
    from tensorgan.data import ArrayDataset
    images = load_bundled_mnist().images[:200]
    np.save(tmp_path / "s.npy", images[:, 0] / np.float32(127.5) - 1)     # [-1, 1], (N, 28, 28)
    assert main(["eval", str(tmp_path / "s.npy"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == RESULT_KEYS | {"samples", "seconds"}
    _check_result(out, 200)
    assert out["classes_covered"] >= 9

    monkeypatch.setattr(data, "mnist_dataset",
                        lambda data_dir=None, **_: ArrayDataset(images[:16], name="mnist 16"))
    run = tmp_path / "run"
    assert main(["train", "--base-channels", "4", "--latent-dim", "8", "--batch-size", "8",
                 "--steps", "1", "--no-progress", "--out", str(run)]) == 0
    capsys.readouterr()
    ckpt = str(run / "checkpoint.npz")
    assert main(["eval", "--checkpoint", ckpt, "-n", "150", "--seed", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # (16 of MNIST's images are not MNIST's training or test set: said in the JSON)
    assert set(out) == RESULT_KEYS | {"checkpoint", "seed", "seconds", "trained_on_mnist", "warning"}
    assert out["trained_on_mnist"] is False and "mnist 16, not MNIST's 60,000" in out["warning"]
    assert out["seed"] == 3 and out["checkpoint"] == ckpt
    _check_result(out, 150)
