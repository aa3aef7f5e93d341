"""tensorgan.metrics beside the GAN metric libraries: the split classifier (Inception) score, the
kernel distance (KID: polynomial-kernel MMD^2 over seeded subsets) and precision / recall /
density / coverage from k-NN balls. Expected values are hand-computed or follow from the
definitions (an O(N^2) loop over the points), never from another library."""
import numpy as np
import pytest

from tensorgan import metrics
from tensorgan.errors import ConfigError, DataError, ShapeError


# ---------------------------------------------------------------------------------------------
# Classifier score over splits
# ---------------------------------------------------------------------------------------------
def test_classifier_score_splits_hand_case():
    # first half: all class 0 with certainty -> score 1; second half: half class 0, half class 1,
    # each certain -> KL = log 2 per sample -> score 2. Mean 1.5, std (ddof 0) 0.5.
    p = np.array([[1, 0], [1, 0], [1, 0], [0, 1]], dtype=float)
    mean, std = metrics.classifier_score_splits(p, splits=2, shuffle=False)
    assert mean == pytest.approx(1.5, abs=1e-12)
    assert std == pytest.approx(0.5, abs=1e-12)


def test_classifier_score_splits_one_split_and_seeded_shuffle():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(103, 10)) * 2
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    mean, std = metrics.classifier_score_splits(p, splits=1)
    assert mean == pytest.approx(metrics.classifier_score(p), rel=1e-14) and std == 0.0
    # chunks i*N//splits : (i+1)*N//splits of the rows permuted by RandomState(seed)
    perm = np.random.RandomState(5).permutation(103)
    scores = [metrics.classifier_score(p[perm][i * 103 // 4:(i + 1) * 103 // 4]) for i in range(4)]
    got = metrics.classifier_score_splits(p, splits=4, seed=5)
    assert got == pytest.approx((np.mean(scores), np.std(scores)), rel=1e-14)
    assert got != pytest.approx(metrics.classifier_score_splits(p, splits=4, shuffle=False), rel=1e-9)


def test_classifier_score_splits_errors():
    p = np.full((3, 2), 0.5)
    with pytest.raises(ShapeError, match="3 samples"):
        metrics.classifier_score_splits(p, splits=4)
    with pytest.raises(ConfigError, match="splits"):
        metrics.classifier_score_splits(p, splits=0)


# ---------------------------------------------------------------------------------------------
# Kernel distance
# ---------------------------------------------------------------------------------------------
def test_polynomial_kernel_hand_case():
    k = metrics.polynomial_kernel([[1.0, 0.0]], [[1.0, 1.0], [-2.0, 0.0]])
    # gamma = 1/d = 1/2: (0.5 + 1)^3 = 3.375 and (-1 + 1)^3 = 0
    np.testing.assert_allclose(k, [[3.375, 0.0]], atol=1e-15)


def test_mmd2_and_kernel_distance_hand_case():
    # 1-D features, kernel (a b + 1)^3: x = {0, 1}, y = {1, 2}
    # Kxx = [[1, 1], [1, 8]], Kyy = [[8, 27], [27, 125]], Kxy = [[1, 1], [8, 27]]
    x, y = np.array([[0.0], [1.0]]), np.array([[1.0], [2.0]])
    kxx, kxy, kyy = (metrics.polynomial_kernel(a, b) for a, b in ((x, x), (x, y), (y, y)))
    np.testing.assert_allclose(kxy, [[1, 1], [8, 27]])
    # unbiased: (2 + 54) / 2 - 2 * 37 / 4 = 9.5; biased: (11 + 187 - 74) / 4 = 31;
    # u-statistic: 28 - 2 * (37 - 28) / 2 = 19
    assert metrics.mmd2(kxx, kxy, kyy) == pytest.approx(9.5, abs=1e-12)
    assert metrics.mmd2(kxx, kxy, kyy, "biased") == pytest.approx(31.0, abs=1e-12)
    assert metrics.mmd2(kxx, kxy, kyy, "u-statistic") == pytest.approx(19.0, abs=1e-12)
    got = metrics.kernel_distance(x, y, subsets=[([0, 1], [0, 1]), ([1, 0], [1, 0])])
    assert got.mean == pytest.approx(9.5, abs=1e-12) and got.std == pytest.approx(0.0, abs=1e-12)
    assert metrics.kernel_distance(x, y).mean == pytest.approx(9.5, abs=1e-12)   # m = min(N) = 2


def test_kernel_distance_linear_kernel_is_mean_difference():
    # degree 1, gamma 1, coef0 0: k(a, b) = a.b, so the biased MMD^2 is |mean x - mean y|^2 and
    # the unbiased one replaces |sum x|^2 / m^2 by (|sum x|^2 - sum |x_i|^2) / (m (m - 1))
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 5)), rng.normal(size=(40, 5)) + 0.3
    idx = np.arange(40)
    kw = dict(subsets=[(idx, idx)], degree=1, gamma=1.0, coef0=0.0)
    diff = x.mean(0) - y.mean(0)
    assert metrics.kernel_distance(x, y, estimator="biased", **kw).mean == pytest.approx(diff @ diff, rel=1e-12)
    m = 40
    inner = lambda a: (a.sum(0) @ a.sum(0) - (a * a).sum()) / (m * (m - 1))   # noqa: E731
    want = inner(x) + inner(y) - 2 * x.mean(0) @ y.mean(0)
    assert metrics.kernel_distance(x, y, **kw).mean == pytest.approx(want, rel=1e-12)


def test_kernel_distance_of_a_set_with_itself():
    rng = np.random.default_rng(4)
    f = rng.normal(size=(60, 8))
    idx = np.arange(60)
    scale = np.abs(metrics.polynomial_kernel(f, f)).sum()
    for est in ("biased", "u-statistic"):
        assert abs(metrics.kernel_distance(f, f, subsets=[(idx, idx)], estimator=est).mean) < 1e-13 * scale
    # the unbiased estimator is not 0 on identical subsets but is on average over independent
    # halves of one distribution: it is unbiased
    big = rng.normal(size=(4000, 4))
    kid = metrics.kernel_distance(big[:2000], big[2000:], num_subsets=20, subset_size=500, seed=0)
    shifted = metrics.kernel_distance(big[:2000], big[2000:] + 0.5, num_subsets=20, subset_size=500, seed=0)
    assert abs(kid.mean) < 3 * kid.std + 1e-3 and shifted.mean > 10 * (abs(kid.mean) + kid.std)


def test_kernel_distance_seeded_draws():
    # per subset: RandomState(seed).choice(N1, m, replace=False) for features1, then the same
    # for features2 (torch-fidelity's order), mean and ddof-0 std of the unbiased MMD^2
    rng = np.random.default_rng(5)
    f1, f2 = rng.normal(size=(30, 3)), rng.normal(size=(25, 3)) * 1.5
    r = np.random.RandomState(9)
    pairs = [(r.choice(30, 10, replace=False), r.choice(25, 10, replace=False)) for _ in range(7)]
    vals = []
    for i1, i2 in pairs:
        x, y = f1[i1], f2[i2]
        k = lambda a, b: (a @ b.T / 3 + 1) ** 3   # noqa: E731
        vals.append(metrics.mmd2(k(x, x), k(x, y), k(y, y)))
    got = metrics.kernel_distance(f1, f2, 7, 10, seed=9)
    assert got == pytest.approx((np.mean(vals), np.std(vals)), rel=1e-13)
    assert metrics.kernel_distance(f1, f2, 7, 10, seed=9) == got               # reproducible
    assert metrics.kernel_distance(f1, f2, 7, 10, seed=10).mean != got.mean
    # default subset size: min(N1, N2, 1000) = 25
    r = np.random.RandomState(2020)
    i1, i2 = r.choice(30, 25, replace=False), r.choice(25, 25, replace=False)
    assert metrics.kernel_distance(f1, f2, 1).mean == pytest.approx(
        metrics.kernel_distance(f1, f2, subsets=[(i1, i2)]).mean, rel=1e-13)


def test_kernel_distance_errors():
    f = np.zeros((10, 4))
    with pytest.raises(ShapeError, match="subset_size 11"):
        metrics.kernel_distance(f, f, subset_size=11)
    with pytest.raises(ShapeError, match="feature dimensions"):
        metrics.kernel_distance(f, np.zeros((10, 3)))
    with pytest.raises(ShapeError, match=r"\(N, d\)"):
        metrics.kernel_distance(np.zeros(10), f)
    with pytest.raises(ShapeError, match="at least 2"):
        metrics.kernel_distance(np.zeros((1, 4)), f)
    bad = f.copy()
    bad[2, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        metrics.kernel_distance(f, bad)
    with pytest.raises(ShapeError, match="outside"):
        metrics.kernel_distance(f, f, subsets=[([0, 10], [0, 1])])
    with pytest.raises(ShapeError, match="one length"):
        metrics.kernel_distance(f, f, subsets=[([0, 1, 2], [0, 1])])
    with pytest.raises(ConfigError, match="estimator"):
        metrics.kernel_distance(f, f, estimator="fast")
    with pytest.raises(ShapeError, match="m >= 2"):
        metrics.mmd2(np.ones((1, 1)), np.ones((1, 1)), np.ones((1, 1)))


# ---------------------------------------------------------------------------------------------
# Precision / recall / density / coverage
# ---------------------------------------------------------------------------------------------
def prdc_by_definition(real, fake, k, inclusive=False):
    """The definitions, one point at a time, with distances from the coordinate differences."""
    cmp = (lambda d, r: d <= r) if inclusive else (lambda d, r: d < r)   # noqa: E731
    dist = lambda a, b: float(np.sqrt(((a - b) ** 2).sum()))            # noqa: E731

    def radii(s):
        return [sorted(dist(p, q) for q in s)[k] for p in s]             # k-th neighbour (self at 0)
    rr, rf = radii(real), radii(fake)
    counts = [sum(cmp(dist(f, r), rr[i]) for i, r in enumerate(real)) for f in fake]
    precision = np.mean([c > 0 for c in counts])
    recall = np.mean([any(cmp(dist(r, f), rf[j]) for j, f in enumerate(fake)) for r in real])
    density = np.mean(counts) / k
    coverage = np.mean([cmp(min(dist(r, f) for f in fake), rr[i]) for i, r in enumerate(real)])
    return precision, recall, density, coverage


def test_prdc_hand_built_line():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])      # k = 1: every real radius is 1
    fake = np.array([[0.5], [10.0]])                   # fake radii: 9.5
    got = metrics.prdc(real, fake, nearest_k=1)
    # 0.5 lies in the balls of 0 and 1, 10 in none; every real point is within 9.5 of 0.5
    assert got == pytest.approx((0.5, 1.0, 1.0, 0.5), abs=1e-15)
    # a fake point exactly on a real sphere: outside for prdc (d < r), inside for torch-fidelity's
    # precision (d <= r)
    on_sphere = np.array([[4.0], [10.0]])
    assert metrics.prdc(real, on_sphere, 1).precision == 0.0
    assert metrics.prdc(real, on_sphere, 1, inclusive=True).precision == 0.5
    p, r = 0.5, 1.0
    assert metrics.prdc(real, on_sphere, 1, inclusive=True).f_score == pytest.approx(2 * p * r / (p + r))


@pytest.mark.parametrize("k,inclusive", [(1, False), (3, False), (5, False), (3, True)])
def test_prdc_against_the_definitions(k, inclusive):
    rng = np.random.default_rng(k)
    real, fake = rng.normal(size=(40, 3)), rng.normal(size=(35, 3)) * 0.8 + 0.3
    got = metrics.prdc(real, fake, k, inclusive=inclusive)
    assert got == pytest.approx(prdc_by_definition(real, fake, k, inclusive), abs=1e-12)


def test_prdc_identical_sets_and_blocks(monkeypatch):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(50, 6))
    # every point is its own neighbour at 0: precision = recall = coverage = 1; each ball strictly
    # holds k points of the set (its centre and k - 1 others; the k-th lies on its sphere), so
    # the density, total count / (N k), is 1
    assert metrics.prdc(x, x, 4) == pytest.approx((1.0, 1.0, 1.0, 1.0), abs=1e-15)
    fake = rng.normal(size=(45, 6)) + 0.2
    whole = metrics.prdc(x, fake, 3)
    monkeypatch.setattr(metrics, "_PRDC_BLOCK", 64)   # row blocks of one or two rows
    assert metrics.prdc(x, fake, 3) == whole


def test_prdc_errors():
    f = np.zeros((5, 2))
    with pytest.raises(ShapeError, match="at least 6"):
        metrics.prdc(f, np.ones((8, 2)), nearest_k=5)
    metrics.prdc(np.arange(12.0).reshape(6, 2), np.arange(12.0).reshape(6, 2) + 0.5, nearest_k=5)
    with pytest.raises(ShapeError, match="feature dimensions"):
        metrics.prdc(np.zeros((8, 2)), np.zeros((8, 3)), 2)
    with pytest.raises(ConfigError, match="nearest_k"):
        metrics.prdc(np.zeros((8, 2)), np.zeros((8, 2)), 0)
    bad = np.zeros((8, 2))
    bad[0, 0] = np.inf
    with pytest.raises(DataError, match="infinite"):
        metrics.prdc(bad, np.zeros((8, 2)), 2)


# ---------------------------------------------------------------------------------------------
# evaluate_samples / tensorgan eval: optional, the default output unchanged
# ---------------------------------------------------------------------------------------------
OLD_KEYS = {"fid", "classifier_score", "class_shares", "classes_covered", "mean_confidence", "n"}


def test_evaluate_samples_set_metrics_are_optional():
    from tensorgan.data import load_bundled_mnist
    images = load_bundled_mnist().images
    ref = metrics.compute_features(images[300:700])[1]
    plain = metrics.evaluate_samples(images[:150])
    assert set(plain.to_dict()) == OLD_KEYS and "kernel distance" not in plain.table()
    got = metrics.evaluate_samples(images[:150], reference_features=ref)
    assert (got.fid, got.classifier_score, got.n) == (plain.fid, plain.classifier_score, plain.n)
    feats = metrics.compute_features(images[:150])[1]
    kid = metrics.kernel_distance(feats, ref)                     # 100 subsets of 150, seed 2020
    assert (got.kid, got.kid_std) == pytest.approx(tuple(kid), rel=1e-12)
    # prdc on equal-size sets: a seeded draw of 150 of the 400 reference rows
    real = ref[np.random.RandomState(0).choice(400, 150, replace=False)]
    want = metrics.prdc(real, feats, 5)
    assert (got.precision, got.recall, got.density, got.coverage) == pytest.approx(tuple(want), abs=1e-12)
    assert set(got.to_dict()) == OLD_KEYS | {"kid", "kid_std", "precision", "recall", "density",
                                             "coverage"}
    assert "kernel distance" in got.table() and "density / coverage" in got.table()
    with pytest.raises(ConfigError, match="'mnist'"):
        metrics.evaluate_samples(images[:150], reference_features="cifar")
    with pytest.raises(ShapeError, match="feature dimensions"):
        metrics.evaluate_samples(images[:150], reference_features=ref[:, :10])


def test_cli_eval_set_metrics(tmp_path, capsys, monkeypatch):
    import json

    from tensorgan.cli import main
    from tensorgan.data import load_bundled_mnist
    images = load_bundled_mnist().images
    ref = metrics.compute_features(images[300:500])[1]
    # the bundled test set's features, stood in for by 200 of them (the same cache the CLI uses)
    monkeypatch.setattr(metrics, "_mnist_test_features", lambda device_key, batch_size: ref)
    path = tmp_path / "s.npy"
    np.save(path, images[:100])
    assert main(["eval", str(path), "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == OLD_KEYS | {"samples", "seconds"}
    assert main(["eval", str(path), "--json", "--set-metrics"]) == 0
    out = json.loads(capsys.readouterr().out)
    feats = metrics.compute_features(images[:100])[1]
    assert out["kid"] == pytest.approx(metrics.kernel_distance(feats, ref).mean, rel=1e-12)
    assert 0.0 <= out["coverage"] <= 1.0 and out["density"] > 0
