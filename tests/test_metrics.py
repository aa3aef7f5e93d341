"""tensorgan.metrics: the Fréchet distance and its matrix square root, the classifier score, input
validation, the shipped classifier (accuracy recomputed from its weights), sample-quality numbers
that order real < degraded < noise, the asset checks and ``tensorgan eval``."""
import json
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorgan as tg
from tensorgan import metrics
from tensorgan.data import load_bundled_mnist, load_mnist

SETTINGS = settings(max_examples=25, deadline=None)


def random_spd(rng, d, rank=None, scale=1.0):
    a = rng.standard_normal((d, rank or d + 2)) * scale
    return a @ a.T / a.shape[1]


def fd_direct(mu1, s1, mu2, s2):
    """The textbook formula with a general eigendecomposition of S1 S2 (real, non-negative
    eigenvalues for PSD S1, S2)."""
    eig = np.linalg.eigvals(s1 @ s2)
    tr_covmean = np.sqrt(np.clip(eig.real, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


# ---------------------------------------------------------------------------------------------
# Linear algebra
# ---------------------------------------------------------------------------------------------
@SETTINGS
@given(d=st.integers(1, 24), seed=st.integers(0, 2**16))
def test_sqrtm_psd_against_direct_eigendecomposition(d, seed):
    rng = np.random.default_rng(seed)
    a = random_spd(rng, d)
    root = metrics.sqrtm_psd(a)
    np.testing.assert_allclose(root, root.T, atol=1e-12)
    np.testing.assert_allclose(root @ root, a, atol=1e-9 * max(1.0, np.abs(a).max()))
    # the same matrix from the eigenpairs by a different route: V^T A V = diag(w)
    w, v = np.linalg.eig(a)
    direct = (v * np.sqrt(np.clip(w.real, 0, None))) @ np.linalg.inv(v)
    np.testing.assert_allclose(root, direct.real, atol=1e-8)
    assert np.linalg.eigvalsh(root).min() > -1e-10


@SETTINGS
@given(d=st.integers(1, 24), seed=st.integers(0, 2**16), shift=st.floats(0, 3))
def test_frechet_distance_against_direct_formula(d, seed, shift):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d) + shift
    s1, s2 = random_spd(rng, d), random_spd(rng, d, scale=2.0)
    got = metrics.frechet_distance(mu1, s1, mu2, s2)
    want = fd_direct(mu1, s1, mu2, s2)
    assert got == pytest.approx(want, rel=1e-7, abs=1e-8)
    assert got == pytest.approx(metrics.frechet_distance(mu2, s2, mu1, s1), rel=1e-9, abs=1e-9)


def test_frechet_distance_zero_for_identical_statistics_and_closed_forms():
    rng = np.random.default_rng(0)
    for d in (1, 10, 128):
        mu, s = rng.standard_normal(d), random_spd(rng, d)
        assert metrics.frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-8)
    # diagonal covariances: |mu1 - mu2|^2 + sum (sqrt(a) - sqrt(b))^2
    a, b = rng.random(6) + 0.1, rng.random(6) + 0.1
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    want = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(want, rel=1e-10)


def test_frechet_distance_on_singular_covariances_is_finite_and_nonnegative():
    rng = np.random.default_rng(1)
    d = 40
    s1, s2 = random_spd(rng, d, rank=3), random_spd(rng, d, rank=5)   # rank-deficient
    mu = np.zeros(d)
    got = metrics.frechet_distance(mu, s1, mu, s2)
    assert np.isfinite(got) and got >= 0
    assert got == pytest.approx(fd_direct(mu, s1, mu, s2), rel=1e-6, abs=1e-6)
    assert metrics.frechet_distance(mu, s1, mu, s1) == pytest.approx(0.0, abs=1e-7)


def test_frechet_distance_takes_float32_and_one_feature_covariances():
    rng = np.random.default_rng(3)
    # fewer samples than features, in float32: eigenvalues of -1e-7 of the scale are rounding
    x = rng.standard_normal((20, 64)) * rng.uniform(0.1, 10.0, 64)
    y = rng.standard_normal((500, 64))
    mu1, s1 = x.mean(0), np.cov(x, rowvar=False)
    mu2, s2 = y.mean(0), np.cov(y, rowvar=False)
    d64 = metrics.frechet_distance(mu1, s1, mu2, s2)
    d32 = metrics.frechet_distance(mu1.astype(np.float32), s1.astype(np.float32),
                                   mu2.astype(np.float32), s2.astype(np.float32))
    assert d32 == pytest.approx(d64, rel=1e-4)
    with pytest.raises(tg.DataError, match="negative eigenvalue"):   # float32 still checks
        metrics.frechet_distance(mu1, (s1 - 1e-2 * np.abs(s1).max() * np.eye(64)).astype(np.float32),
                                 mu2, s2)
    # one feature: the distance is (mu1 - mu2)^2 + (sd1 - sd2)^2
    a, b = rng.normal(0.0, 1.0, (100, 1)), rng.normal(1.0, 2.0, (300, 1))
    (m1, c1), (m2, c2) = metrics.feature_statistics(a), metrics.feature_statistics(b)
    assert c1.shape == (1, 1)
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert metrics.frechet_distance(m1, c1, m2, c2) == pytest.approx(expected, rel=1e-9)
    with pytest.raises(tg.DataError, match="NaN"):
        metrics.feature_statistics(np.array([[0.0, 1.0], [np.nan, 2.0]]))


def test_frechet_distance_argument_errors():
    s = np.eye(3)
    with pytest.raises(tg.ShapeError):
        metrics.frechet_distance(np.zeros(3), s, np.zeros(4), np.eye(4))
    with pytest.raises(tg.ShapeError):
        metrics.frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), s)
    with pytest.raises(tg.ShapeError):
        metrics.sqrtm_psd(np.zeros((2, 3)))
    with pytest.raises(tg.DataError):
        metrics.frechet_distance(np.array([0, np.nan, 0]), s, np.zeros(3), s)
    # matrices that are not covariances: the distance would clip or symmetrise them into a number
    with pytest.raises(tg.DataError, match="negative eigenvalue"):
        metrics.frechet_distance(np.ones(3), -5 * s, np.zeros(3), s)
    with pytest.raises(tg.DataError, match="not symmetric"):
        metrics.frechet_distance(np.zeros(4), np.arange(16.0).reshape(4, 4), np.zeros(4), np.eye(4))
    with pytest.raises(tg.DataError, match="real"):
        metrics.frechet_distance(np.zeros(3) + 1j, s, np.zeros(3), s)
    singular = np.diag([1.0, 0.0, 2.0]) - 1e-14 * np.eye(3)   # rounding below 0 is still accepted
    assert metrics.frechet_distance(np.zeros(3), singular, np.zeros(3), singular) < 1e-6


def test_auto_range_is_not_flipped_by_a_pixel_just_below_zero():
    u8 = np.random.default_rng(1).integers(0, 256, (4, 1, 28, 28)).astype(np.uint8)
    unit = (u8 / 255.0).astype(np.float32)
    unit[0, 0, 0, 0] = -1e-6                     # [0, 1] data with a rounding error
    np.testing.assert_allclose(metrics.prepare_images(unit), metrics.prepare_images(unit, "0,1"))
    unit[0, 0, 0, 0] = -0.1                      # a real excursion: an error that names the fix
    with pytest.raises(tg.DataError, match="value_range='-1,1'"):
        metrics.prepare_images(unit)


# ---------------------------------------------------------------------------------------------
# Prediction-based scores
# ---------------------------------------------------------------------------------------------
def test_classifier_score_bounds():
    onehot = np.eye(10)[np.arange(1000) % 10]
    assert metrics.classifier_score(onehot) == pytest.approx(10.0)                 # best case
    assert metrics.classifier_score(np.eye(10)[np.zeros(50, int)]) == pytest.approx(1.0)  # one class
    assert metrics.classifier_score(np.full((20, 10), 0.1)) == pytest.approx(1.0)  # unsure
    soft = 0.9 * onehot + 0.01
    assert 1.0 < metrics.classifier_score(soft) < 10.0
    np.testing.assert_allclose(metrics.class_shares(onehot[:15]), [2 / 15] * 5 + [1 / 15] * 5)
    with pytest.raises(tg.DataError):
        metrics.classifier_score(np.full((3, 10), 0.5))
    with pytest.raises(tg.ShapeError):
        metrics.classifier_score(np.full(10, 0.1))


# ---------------------------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------------------------
def test_prepare_images_accepts_the_three_encodings_and_both_shapes():
    u8 = np.random.default_rng(0).integers(0, 256, (4, 1, 28, 28)).astype(np.uint8)
    want = u8.astype(np.float32) / 127.5 - 1
    for images in (u8, u8[:, 0], u8 / 255.0, (u8 / 255.0).astype(np.float32)[:, 0], want,
                   tg.tensor(want)):
        np.testing.assert_allclose(metrics.prepare_images(images), want, atol=1e-6)
    np.testing.assert_allclose(metrics.prepare_images(want * 0 + 0.5, value_range="-1,1"), 0.5)
    assert metrics.prepare_images(u8).shape == (4, 1, 28, 28)


@pytest.mark.parametrize("images, error", [
    (np.zeros((4, 3, 28, 28), np.float32), tg.ShapeError),
    (np.zeros((4, 28), np.float32), tg.ShapeError),
    (np.zeros((4, 1, 32, 32), np.float32), tg.ShapeError),
    (np.zeros((1, 28, 28), np.uint8), tg.ShapeError),
    (np.zeros((4, 28, 28), np.int32), tg.DTypeError),
    (np.zeros((4, 28, 28), bool), tg.DTypeError),
    (np.full((4, 28, 28), 255.0), tg.DataError),
    (np.full((4, 28, 28), -2.0), tg.DataError),
    (np.full((4, 28, 28), np.nan), tg.DataError),
])
def test_prepare_images_errors(images, error):
    with pytest.raises(error) as info:
        metrics.prepare_images(images)
    assert isinstance(info.value, tg.TensorganError)


# ---------------------------------------------------------------------------------------------
# The shipped classifier and the numbers it gives
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def test_set():
    data = load_bundled_mnist()
    logits, feats = metrics.compute_features(data.images, batch_size=1000)
    return data, logits, feats


def test_shipped_classifier_accuracy(test_set):
    data, logits, feats = test_set
    acc = float((logits.argmax(1) == data.labels).mean())
    stats = metrics.reference_statistics()
    assert acc >= 0.99
    assert acc == pytest.approx(stats["test_accuracy"], abs=5e-4)
    assert feats.shape == (10000, 128)
    # the shipped statistics are those of these features
    mu, sigma = metrics.feature_statistics(feats)
    np.testing.assert_allclose(mu, stats["mu"], atol=1e-4)
    assert metrics.frechet_distance(mu, sigma, stats["mu"], stats["sigma"]) < 1e-3
    assert metrics.get_classifier().num_parameters() * 4 < 1_000_000


def _fid(features):
    stats = metrics.reference_statistics()
    mu, sigma = metrics.feature_statistics(features)
    return metrics.frechet_distance(mu, sigma, stats["mu"], stats["sigma"])


def test_real_images_score_well(test_set):
    data, _, feats = test_set
    result = metrics.evaluate_samples(data.images[:1000])
    np.testing.assert_allclose(_fid(feats[:1000]), result.fid, rtol=1e-4, atol=1e-4)
    assert result.classes_covered == 10
    assert result.classifier_score > 9.0
    assert result.mean_confidence > 0.97
    assert result.n == 1000 and abs(sum(result.class_shares) - 1) < 1e-9
    # more images (half of the reference set itself): a smaller small-sample bias
    assert _fid(feats[5000:]) < result.fid


def _blur(images_u8, sigma):
    x = images_u8.astype(np.float32)[:, 0]
    radius = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    for axis in (1, 2):
        x = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), axis, x)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def test_few_samples_warn_that_the_distance_is_biased(test_set):
    data, _, _ = test_set
    with pytest.warns(UserWarning, match="singular"):
        metrics.evaluate_samples(data.images[:20])


def test_distance_grows_with_blur_and_with_dropout_and_noise_is_far(test_set):
    data, _, feats = test_set
    images = data.images[:1000]
    base = _fid(feats[:1000])
    blurred = [_fid(metrics.compute_features(_blur(images, s))[1]) for s in (0.7, 1.2, 2.0)]
    rng = np.random.default_rng(0)
    dropped = []
    for p in (0.2, 0.4, 0.6):
        keep = rng.random(images.shape) >= p
        dropped.append(_fid(metrics.compute_features(images * keep.astype(np.uint8))[1]))
    assert base < blurred[0] < blurred[1] < blurred[2], (base, blurred)
    assert base < dropped[0] < dropped[1] < dropped[2], (base, dropped)
    noise = metrics.evaluate_samples(rng.random((500, 28, 28)))
    assert noise.fid > max(blurred[1], dropped[1]), (noise.fid, blurred, dropped)
    assert noise.fid > 30 * base, (noise.fid, base)


def test_training_images_score_like_test_images(test_set):
    data_dir = os.environ.get("TENSORGAN_DATA") or Path(__file__).resolve().parents[2] / "shared/datasets/mnist"
    try:
        train = load_mnist("train", data_dir)
    except tg.TensorganError:
        pytest.skip("the MNIST training set is not available")
    _, _, feats = test_set
    result = metrics.evaluate_samples(train.images[-1000:])
    assert result.fid < 2 * _fid(feats[:1000]) + 1.0
    assert result.classes_covered == 10


# ---------------------------------------------------------------------------------------------
# Assets
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def fake_assets(tmp_path, monkeypatch):
    """Point the asset loader at tmp_path/assets; restore the caches afterwards."""
    (tmp_path / "assets").mkdir()
    # metrics' own reference only: importlib.resources itself stays (numba, the bundled MNIST use it)
    monkeypatch.setattr(metrics, "resources", SimpleNamespace(files=lambda package: tmp_path))
    caches = (metrics._classifier_bytes, metrics._load_classifier, metrics._reference)
    for c in caches:
        c.cache_clear()
    yield tmp_path / "assets"
    for c in caches:
        c.cache_clear()


def test_missing_assets(fake_assets):
    with pytest.raises(metrics.AssetError, match="missing"):
        metrics.get_classifier()
    with pytest.raises(metrics.AssetError, match="missing"):
        metrics.reference_statistics()


def test_corrupt_assets(fake_assets):
    real = Path(metrics.__file__).parent / "assets"
    (fake_assets / metrics.CLASSIFIER_ASSET).write_bytes(b"PK\x03\x04 not really a zip")
    (fake_assets / metrics.STATS_ASSET).write_bytes((real / metrics.STATS_ASSET).read_bytes())
    with pytest.raises(metrics.AssetError, match="unusable"):
        metrics.get_classifier()
    (fake_assets / metrics.CLASSIFIER_ASSET).write_bytes((real / metrics.CLASSIFIER_ASSET).read_bytes())
    (fake_assets / metrics.STATS_ASSET).write_bytes(b"garbage")
    with pytest.raises(metrics.AssetError, match="corrupt"):
        metrics.reference_statistics()


def test_stats_from_another_classifier_are_rejected(fake_assets):
    real = Path(metrics.__file__).parent / "assets"
    (fake_assets / metrics.CLASSIFIER_ASSET).write_bytes((real / metrics.CLASSIFIER_ASSET).read_bytes())
    with np.load(real / metrics.STATS_ASSET, allow_pickle=False) as npz:
        fields = dict(npz.items())
    fields["classifier_sha256"] = np.array("0" * 64)
    np.savez(fake_assets / metrics.STATS_ASSET, **fields)
    with pytest.raises(metrics.AssetError, match="different classifier"):
        metrics.reference_statistics()


# ---------------------------------------------------------------------------------------------
# tensorgan eval
# ---------------------------------------------------------------------------------------------
def test_cli_eval(tmp_path, capsys, test_set):
    from tensorgan.cli import main
    data = test_set[0]
    path = tmp_path / "real.npy"
    np.save(path, data.images[:200, 0] / np.float32(255))       # float [0, 1], (N, 28, 28)
    assert main(["eval", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 200 and out["classes_covered"] >= 9 and len(out["class_shares"]) == 10
    assert main(["eval", str(path)]) == 0
    assert "classifier score" in capsys.readouterr().out
    np.save(tmp_path / "bad.npy", np.zeros((3, 3, 28, 28), np.float32))
    assert main(["eval", str(tmp_path / "bad.npy")]) == 1
    assert "(N, 1, 28, 28)" in capsys.readouterr().err
    assert main(["eval"]) == 2                                  # argument mistakes: usage, 2
    assert main(["eval", str(tmp_path / "missing.npy")]) == 1
    assert main(["eval", str(path), "-n", "5"]) == 2


def test_covariance_symmetry_is_judged_per_entry_not_by_size():
    rng = np.random.default_rng(0)
    f = rng.standard_normal((600, 512))
    s = np.cov(f, rowvar=False).astype(np.float32)
    lopsided = s.copy()
    lopsided[0, 1] += 1e-4 * np.abs(s).max()     # far above float32 rounding, below 4 * n * eps
    with pytest.raises(tg.DataError, match="not symmetric"):
        metrics.frechet_distance(np.zeros(512), lopsided, np.zeros(512), s)
    assert metrics.frechet_distance(np.zeros(512), s, np.zeros(512), s) == pytest.approx(0.0, abs=1e-2)
