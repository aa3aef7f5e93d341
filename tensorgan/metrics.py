"""Sample-quality numbers for MNIST-like images, computed with a classifier trained by tensorgan.

Inception networks are not available offline, so tensorgan ships its own MNIST classifier
(:mod:`tensorgan.models.classifier`, trained by ``scripts/train_classifier.py``) and uses it the
way FID uses Inception:

* **Fréchet distance** (FID-style) between Gaussian fits of the classifier's 128-d features of the
  samples and of the 10,000 MNIST test images (statistics shipped in
  ``tensorgan/assets/mnist_test_stats.npz``):
  ``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2)``. Lower is better; 0 for
  identical statistics. Like FID it is biased upwards for small sample sets: compare numbers
  computed on the same number of samples.
* **Classifier score** (Inception-score-style): ``exp(mean KL(p(y|x) || p(y)))``, between 1 and
  10; high when each sample is classified confidently *and* the classes are balanced.
* **Kernel distance** (KID-style, :func:`kernel_distance`): the unbiased MMD^2 between two feature
  sets under the cubic polynomial kernel, averaged over random subsets (torch-fidelity's and
  clean-fid's estimator); **precision / recall / density / coverage** (:func:`prdc`) from k-NN
  radii (Kynkäänniemi et al. 2019, Naeem et al. 2020). Both need features of both sets: functions
  on ``compute_features``' output, and in ``evaluate_samples`` only when asked for
  (``reference_features="mnist"``; ``tensorgan eval --set-metrics``).
* **Class shares**: the fraction of samples predicted as each digit, and how many digits hold at
  least 5% (mode collapse shows as fewer than 10), and the mean top-class confidence.

``evaluate_samples(images)`` computes all of them. The assets are loaded lazily on first use and
checked against their SHA-256 digests (``ASSET_SHA256``): an edited or damaged file is an AssetError.
"""
from __future__ import annotations

import functools
import hashlib
import json
import warnings
import zipfile
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any, NamedTuple

import numpy as np

from .errors import ConfigError, DataError, DTypeError, ShapeError, TensorganError
from .tensor import Tensor, no_grad

__all__ = ["EvalResult", "AssetError", "evaluate_samples", "frechet_distance", "classifier_score",
           "class_shares", "sqrtm_psd", "feature_statistics", "compute_features", "get_classifier",
           "reference_statistics", "prepare_images", "STATS_FORMAT_VERSION", "COVERAGE_THRESHOLD",
           "classifier_score_splits", "polynomial_kernel", "mmd2", "kernel_distance", "KernelDistance",
           "prdc", "PRDC"]

STATS_FORMAT_VERSION = 1
COVERAGE_THRESHOLD = 0.05
CLASSIFIER_ASSET = "mnist_classifier.npz"
STATS_ASSET = "mnist_test_stats.npz"
# SHA-256 of the shipped assets: a file that still loads but differs from these (edited weights or
# statistics, a partial overwrite) is refused instead of silently giving other numbers.
# scripts/train_classifier.py prints the new digests after regenerating the assets.
ASSET_SHA256 = {
    CLASSIFIER_ASSET: "c39a5b1b78582c2c6c12ef67088e67333b3a12c804f305f1da809fa1b35e831a",
    STATS_ASSET: "6379645d1e006fc8fdbacdd61f441091a00349e2fcf1000e4c4cb15ce7bc801b",
}
IMAGE_SHAPE = (1, 28, 28)
_RANGE_TOL = 1e-3


class AssetError(DataError):
    """A classifier/statistics file shipped with tensorgan is missing, corrupt or inconsistent."""


# ---------------------------------------------------------------------------------------------
# Linear algebra
# ---------------------------------------------------------------------------------------------
def _real_array(name: str, a: Any, what: str = "array") -> np.ndarray:
    """``a`` as a float64 array; DataError naming ``name`` for complex values, strings, ragged
    lists, objects (np.iscomplexobj itself raises on a ragged list)."""
    try:
        if np.iscomplexobj(a):
            raise DataError(f"{name} is complex; expected a real {what}")
        return np.asarray(a, dtype=np.float64)
    except DataError:
        raise
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} is not an array of real numbers ({exc})") from None


def _as_mean(name: str, mu: Any) -> np.ndarray:
    return np.atleast_1d(_real_array(f"frechet_distance: {name}", mu, "mean"))


def _as_square(name: str, a: Any) -> np.ndarray:
    a = _real_array(name, a, "matrix")
    if a.ndim < 2 and a.size == 1:
        # one feature: np.cov of (N, 1) features is 0-d (pytorch-fid's np.atleast_2d)
        a = a.reshape(1, 1)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ShapeError(f"{name} must be a square matrix, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise DataError(f"{name} has NaN or infinite entries")
    return a


def _as_covariance(name: str, a: Any) -> np.ndarray:
    """A real symmetric PSD matrix up to rounding -- anything else is not a covariance, and the
    distance would quietly clip or symmetrise it into some other number. "Up to rounding" is
    relative to the input's own precision: a float32 covariance of fewer samples than features
    has eigenvalues of -1e-7 of its scale that are rounding, not a broken matrix."""
    dtype = getattr(a, "dtype", None)
    eps = np.finfo(dtype).eps if dtype is not None and np.issubdtype(dtype, np.floating) else 0.0
    eps = min(float(eps), float(np.finfo(np.float32).eps))   # float16 is judged as float32
    a = _as_square(name, a)
    scale = float(np.abs(a).max()) if a.size else 0.0
    # symmetry: rounding per entry; eigenvalues: rounding that grows with the size
    sym_tol, eig_tol = max(1e-8, 8 * eps), max(1e-8, 4 * a.shape[0] * eps)
    if np.abs(a - a.T).max(initial=0.0) > sym_tol * scale:
        raise DataError(f"{name} is not symmetric (largest |S - S^T| {np.abs(a - a.T).max():.3g}); "
                        f"not a covariance matrix")
    lowest = float(np.linalg.eigvalsh((a + a.T) / 2).min(initial=0.0))
    if lowest < -eig_tol * scale:
        raise DataError(f"{name} has a negative eigenvalue ({lowest:.3g}); not a covariance matrix")
    return a


def sqrtm_psd(a: Any) -> np.ndarray:
    """The symmetric positive semi-definite square root of a symmetric PSD matrix (float64).

    Symmetrizes ``a``, takes ``eigh`` and clips the tiny negative eigenvalues that rounding leaves
    on singular matrices to 0, so the result is always real: ``V diag(sqrt(w)) V^T``."""
    a = _as_square("sqrtm_psd: input", a)
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def _root_factor(a: np.ndarray) -> np.ndarray:
    """``B`` with ``a = B B^T`` (up to rounding), one column per eigenvalue of the symmetric PSD
    ``a`` above rounding level (``d * eps`` of the largest); the null space that rounding leaves as
    +-1e-16-ish eigenvalues of a rank-deficient covariance (fewer samples than features) is left
    out rather than kept as hundreds of spurious square roots of 1e-8 each."""
    w, v = np.linalg.eigh(a)
    keep = w > a.shape[0] * np.finfo(np.float64).eps * float(w.max(initial=0.0))
    return v[:, keep] * np.sqrt(w[keep])


def frechet_distance(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2), in float64.

    The cross term ``tr((S1 S2)^1/2)`` is the sum of the singular values of ``B1^T B2``, where
    ``S1 = B1 B1^T`` and ``S2 = B2 B2^T`` come from symmetric eigendecompositions (the nonzero
    eigenvalues of ``S1 S2`` are the squared singular values): no complex parts, no
    ill-conditioned inverse, and no ``eps`` added to the diagonals (pytorch-fid's fallback for a
    singular product, which moves the value by ~eps*d). Eigenvalues at rounding level are left out
    of ``B1`` / ``B2``, so rank-deficient covariances (fewer samples than features) come out exact
    to ~1e-11 relative, either argument order.
    Like pytorch-fid, a scalar mean / 0-d covariance is one feature."""
    # a scalar mean is one feature (pytorch-fid's np.atleast_1d)
    mu1, mu2 = _as_mean("mu1", mu1), _as_mean("mu2", mu2)
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise ShapeError(f"frechet_distance: means must be 1-D of one length, got {mu1.shape} and "
                         f"{mu2.shape}")
    s1 = _as_covariance("frechet_distance: sigma1", sigma1)
    s2 = _as_covariance("frechet_distance: sigma2", sigma2)
    d = mu1.shape[0]
    if s1.shape != (d, d) or s2.shape != (d, d):
        raise ShapeError(f"frechet_distance: covariances must be ({d}, {d}) for means of length "
                         f"{d}, got {s1.shape} and {s2.shape}")
    if not (np.isfinite(mu1).all() and np.isfinite(mu2).all()):
        raise DataError("frechet_distance: a mean has NaN or infinite entries")
    s1, s2 = (s1 + s1.T) / 2, (s2 + s2.T) / 2
    # S1 = B1 B1^T, S2 = B2 B2^T: the nonzero eigenvalues of S1 S2 are the squared singular values
    # of the (rank S1, rank S2) matrix B1^T B2, so tr((S1 S2)^1/2) is the sum of its singular values
    tr_covmean = float(np.linalg.svd(_root_factor(s1).T @ _root_factor(s2), compute_uv=False).sum())
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)
    return max(value, 0.0)  # rounding can leave -1e-12 for identical inputs


def feature_statistics(features: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of ``(N, d)`` features, in float64."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ShapeError(f"feature_statistics needs (N, d) features with N >= 2, got shape {f.shape}")
    if not np.isfinite(f).all():
        raise DataError("feature_statistics: the features have NaN or infinite entries")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))  # d = 1: a 1x1 matrix, not 0-d


# ---------------------------------------------------------------------------------------------
# Prediction-based scores
# ---------------------------------------------------------------------------------------------
def _as_probs(probs: Any) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < 1:
        raise ShapeError(f"class probabilities must be (N, classes) with N >= 1, got shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise DataError("class probabilities must be finite, non-negative, and sum to 1 per row")
    return p


def classifier_score(probs: Any) -> float:
    """``exp(mean_x KL(p(y|x) || p(y)))`` for ``(N, classes)`` probabilities; in [1, classes].

    One split: ``p(y)`` is the mean over all N (the Inception Score's usual ten-split mean is
    lower and has a spread: 9.27 +- 0.10 against 9.59 on the first 1,000 MNIST test images)."""
    p = _as_probs(probs)
    marginal = p.mean(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(marginal)), 0.0)
    # KL >= 0 and <= log(classes): rounding left 0.9999999999999964 for one collapsed class and
    # 10.000000000000002 for ten one-hot rows, outside the documented bounds
    return float(np.clip(np.exp(terms.sum(axis=1).mean()), 1.0, p.shape[1]))


def classifier_score_splits(probs: Any, splits: int = 10, *, shuffle: bool = True,
                            seed: int | None = 2020) -> tuple[float, float]:
    """``(mean, std)`` of the classifier score over ``splits`` chunks of the samples -- the
    Inception Score's usual report (torch-fidelity's ``isc``: rows permuted with
    ``np.random.RandomState(seed).permutation(N)`` when ``shuffle``, chunk ``i`` is rows
    ``i*N//splits : (i+1)*N//splits``, ``np.std`` with ``ddof=0``). ``splits=1`` is
    :func:`classifier_score` with a std of 0."""
    p = _as_probs(probs)
    if isinstance(splits, bool) or not isinstance(splits, (int, np.integer)) or splits < 1:
        raise ConfigError(f"classifier_score_splits: splits must be a positive integer, got {splits!r}")
    n = p.shape[0]
    if splits > n:
        raise ShapeError(f"classifier_score_splits: {splits} splits of {n} samples would leave empty "
                         f"splits; use at most {n} splits")
    if shuffle:
        p = p[_rng("classifier_score_splits", seed).permutation(n)]
    scores = [classifier_score(p[i * n // splits:(i + 1) * n // splits]) for i in range(splits)]
    return float(np.mean(scores)), float(np.std(scores))


def class_shares(probs: Any) -> np.ndarray:
    """Fraction of samples whose top class is each class."""
    p = _as_probs(probs)
    return np.bincount(p.argmax(axis=1), minlength=p.shape[1]) / p.shape[0]


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------------------------
# Feature-set distances: kernel distance (KID), precision / recall / density / coverage
# ---------------------------------------------------------------------------------------------
def _as_feature_set(op: str, name: str, features: Any, min_n: int) -> np.ndarray:
    if isinstance(features, Tensor):
        features = features.numpy()
    try:
        if np.iscomplexobj(features):
            raise DataError(f"{op}: {name} are complex; expected real features")
        f = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError) as exc:     # strings, ragged rows, objects
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{op}: {name} are not an (N, d) array of real numbers ({exc})") from None
    if f.ndim != 2 or f.shape[1] < 1:
        raise ShapeError(f"{op}: {name} must be an (N, d) array of features, got shape {f.shape}")
    if f.shape[0] < min_n:
        raise ShapeError(f"{op}: needs at least {min_n} {name} rows, got {f.shape[0]}")
    if not np.isfinite(f).all():
        raise DataError(f"{op}: {name} have NaN or infinite entries")
    return f


def _feature_pair(op: str, f1: Any, f2: Any, names: tuple, min_n: int):
    a = _as_feature_set(op, names[0], f1, min_n)
    b = _as_feature_set(op, names[1], f2, min_n)
    if a.shape[1] != b.shape[1]:
        raise ShapeError(f"{op}: {names[0]} and {names[1]} have different feature dimensions "
                         f"({a.shape[1]} and {b.shape[1]})")
    return a, b


def _real(op: str, name: str, value: Any) -> float:
    """A finite real kernel parameter (degree, gamma, coef0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value):
        raise ConfigError(f"{op}: {name} must be a finite real number, got {value!r}")
    return float(value)


def _rng(op: str, seed: Any) -> np.random.RandomState:
    try:
        return np.random.RandomState(seed)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{op}: seed must be None or an integer in [0, 2**32 - 1], got "
                          f"{seed!r} ({exc})") from None


def _kernel(op: str, x: np.ndarray, y: np.ndarray, degree: float, gamma: float,
            coef0: float) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        k = (x @ y.T * gamma + coef0) ** degree
    if not np.isfinite(k).all():
        raise DataError(f"{op}: the polynomial kernel (gamma * x.y + coef0) ** {degree:g} is not "
                        f"finite for these features (it overflows float64 -- features as large as "
                        f"{max(np.abs(x).max(), np.abs(y).max()):.3g} --, or a fractional degree "
                        f"meets a negative base); rescale the features")
    return k


def _count(op: str, name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(f"{op}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


def polynomial_kernel(x: Any, y: Any, degree: float = 3, gamma: float | None = None,
                      coef0: float = 1.0) -> np.ndarray:
    """``(gamma * x @ y.T + coef0) ** degree`` for ``(n, d)`` / ``(m, d)`` features, float64;
    ``gamma`` defaults to ``1 / d`` (KID's kernel: degree 3, gamma 1/d, coef0 1)."""
    op = "polynomial_kernel"
    x, y = _feature_pair(op, x, y, ("x", "y"), 1)
    gamma = 1.0 / x.shape[1] if gamma is None else _real(op, "gamma", gamma)
    return _kernel(op, x, y, _real(op, "degree", degree), gamma, _real(op, "coef0", coef0))


_MMD_ESTIMATORS = ("unbiased", "biased", "u-statistic")


def mmd2(k_xx: Any, k_xy: Any, k_yy: Any, estimator: str = "unbiased") -> float:
    """Squared MMD from the kernel matrices of two ``m``-sample sets (torch-fidelity's ``mmd2``).

    ``"unbiased"`` (KID's): ``sum_{i!=j} (Kxx + Kyy) / (m (m-1)) - 2 sum Kxy / m^2``;
    ``"u-statistic"``: the cross term without its diagonal, over ``m (m-1)``; ``"biased"``: every
    sum over ``m^2``."""
    if estimator not in _MMD_ESTIMATORS:
        raise ConfigError(f"mmd2: estimator must be one of {_MMD_ESTIMATORS}, got {estimator!r}")
    if any(np.iscomplexobj(k) for k in (k_xx, k_xy, k_yy)):
        raise DataError("mmd2: a kernel matrix is complex; expected real kernel values")
    try:
        k_xx, k_xy, k_yy = (np.asarray(k, dtype=np.float64) for k in (k_xx, k_xy, k_yy))
    except (TypeError, ValueError) as exc:
        raise DataError(f"mmd2: the kernel matrices must be arrays of real numbers ({exc})") from None
    m = k_xx.shape[0] if k_xx.ndim == 2 else -1
    if m < 1 or any(k.shape != (m, m) for k in (k_xx, k_xy, k_yy)):
        raise ShapeError(f"mmd2: the kernel matrices must all be (m, m), got {k_xx.shape}, "
                         f"{k_xy.shape} and {k_yy.shape}")
    if estimator != "biased" and m < 2:
        raise ShapeError(f"mmd2: the {estimator} estimator needs m >= 2 samples per set, got {m}")
    if not all(np.isfinite(k).all() for k in (k_xx, k_xy, k_yy)):
        raise DataError("mmd2: a kernel matrix has NaN or infinite entries")
    diag_x, diag_y = np.trace(k_xx), np.trace(k_yy)
    kt_xx, kt_yy, s_xy = k_xx.sum() - diag_x, k_yy.sum() - diag_y, k_xy.sum()
    if estimator == "biased":
        return float((kt_xx + diag_x + kt_yy + diag_y - 2 * s_xy) / (m * m))
    value = (kt_xx + kt_yy) / (m * (m - 1))
    if estimator == "unbiased":
        return float(value - 2 * s_xy / (m * m))
    return float(value - 2 * (s_xy - np.trace(k_xy)) / (m * (m - 1)))


class KernelDistance(NamedTuple):
    """:func:`kernel_distance`'s result: the mean and (``ddof=0``) std over the subsets."""

    mean: float
    std: float


def _subset_indices(op: str, name: str, idx: Any, n: int) -> np.ndarray:
    idx = np.asarray(idx)
    if idx.ndim != 1 or idx.dtype.kind not in "iu":
        raise ShapeError(f"{op}: subset indices into {name} must be 1-D integer arrays, got "
                         f"{idx.dtype} of shape {idx.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ShapeError(f"{op}: a subset index into {name} is outside [0, {n})")
    return idx


def kernel_distance(features1: Any, features2: Any, num_subsets: int = 100,
                    subset_size: int | None = None, *, degree: float = 3,
                    gamma: float | None = None, coef0: float = 1.0, seed: int | None = 2020,
                    subsets: Any = None, estimator: str = "unbiased") -> KernelDistance:
    """Kernel (Inception) Distance between two ``(N, d)`` feature sets: the squared MMD under the
    polynomial kernel ``(x.y / d + 1) ** 3``, averaged over ``num_subsets`` random subsets of
    ``subset_size`` rows of each set (Bińkowski et al. 2018). Unbiased: about 0 (either sign) for
    two samples of one distribution, whatever their size. Returns ``(mean, std)``.

    The draws are torch-fidelity's: ``rng = np.random.RandomState(seed)``, then per subset
    ``rng.choice(N1, subset_size, replace=False)`` for ``features1`` and the same for
    ``features2`` -- with the same seed (default 2020, torch-fidelity's) and subset size the
    numbers are torch-fidelity's ``kernel_inception_distance_mean`` / ``_std``. ``subset_size``
    defaults to ``min(N1, N2, 1000)`` (clean-fid's); a larger one is refused (torch-fidelity's).
    ``subsets``: explicit ``[(indices1, indices2), ...]`` instead of random draws (each pair of
    one length ``m >= 2``), e.g. to reproduce another library's draws."""
    op = "kernel_distance"
    f1, f2 = _feature_pair(op, features1, features2, ("features1", "features2"), 2)
    if estimator not in _MMD_ESTIMATORS:
        raise ConfigError(f"{op}: estimator must be one of {_MMD_ESTIMATORS}, got {estimator!r}")
    gamma = 1.0 / f1.shape[1] if gamma is None else _real(op, "gamma", gamma)
    degree, coef0 = _real(op, "degree", degree), _real(op, "coef0", coef0)
    if subsets is None:
        num_subsets = _count(op, "num_subsets", num_subsets, 1)
        n_min = min(len(f1), len(f2))
        if subset_size is None:
            subset_size = min(n_min, 1000)
        subset_size = _count(op, "subset_size", subset_size, 2)
        if subset_size > n_min:
            raise ShapeError(f"{op}: subset_size {subset_size} is larger than the smaller feature "
                             f"set ({len(f1)} and {len(f2)} rows); pass subset_size <= {n_min}")
        rng = _rng(op, seed)
        pairs = ((rng.choice(len(f1), subset_size, replace=False),
                  rng.choice(len(f2), subset_size, replace=False)) for _ in range(num_subsets))
    else:
        try:
            pairs = list(subsets)
        except TypeError:
            raise ConfigError(f"{op}: subsets must be a sequence of (indices1, indices2) pairs, got "
                              f"{type(subsets).__name__}") from None
        if not pairs:
            raise ConfigError(f"{op}: subsets is empty")
    def kern(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return _kernel(op, a, b, degree, gamma, coef0)

    values = []
    for pair in pairs:
        try:
            i1, i2 = pair
        except (TypeError, ValueError):
            raise ShapeError(f"{op}: each subset must be a pair (indices1, indices2)") from None
        i1 = _subset_indices(op, "features1", i1, len(f1))
        i2 = _subset_indices(op, "features2", i2, len(f2))
        if len(i1) != len(i2) or len(i1) < 2:
            raise ShapeError(f"{op}: a subset pair must have one length m >= 2 on both sides, got "
                             f"{len(i1)} and {len(i2)}")
        x, y = f1[i1], f2[i2]
        values.append(mmd2(kern(x, x), kern(x, y), kern(y, y), estimator))
    return KernelDistance(float(np.mean(values)), float(np.std(values)))


class PRDC(NamedTuple):
    """:func:`prdc`'s result. ``f_score`` is torch-fidelity's ``2 p r / max(1e-5, p + r)``."""

    precision: float
    recall: float
    density: float
    coverage: float

    @property
    def f_score(self) -> float:
        return 2 * self.precision * self.recall / max(1e-5, self.precision + self.recall)


_PRDC_BLOCK = 1 << 22     # distance-matrix entries per block (32 MiB of float64)


def _distance_blocks(a: np.ndarray, b: np.ndarray, same: bool):
    """Row blocks ``(start, D)`` of the Euclidean distances between ``a`` and ``b``, formed as
    sklearn's ``pairwise_distances`` forms them: ``sqrt(max(|a|^2 - 2 a.b + |b|^2, 0))``, with
    the self-distances exactly 0 when ``same``."""
    with np.errstate(over="ignore"):
        aa = np.einsum("ij,ij->i", a, a)
        bb = aa if same else np.einsum("ij,ij->i", b, b)
    big = max(aa.max(initial=0.0), bb.max(initial=0.0))
    if not big < np.finfo(np.float64).max / 4:   # |a|^2 - 2 a.b + |b|^2 would overflow
        raise DataError(f"prdc: features too large for float64 distances (a squared norm of "
                        f"{big:.3g}); rescale the features")
    rows = max(1, _PRDC_BLOCK // max(1, len(b)))
    for s in range(0, len(a), rows):
        d = -2 * (a[s:s + rows] @ b.T)
        d += aa[s:s + rows, None]
        d += bb[None, :]
        np.maximum(d, 0, out=d)
        if same:
            r = np.arange(d.shape[0])
            d[r, s + r] = 0.0
        yield s, np.sqrt(d, out=d)


def _knn_radii(f: np.ndarray, k: int) -> np.ndarray:
    """Distance from each row to its k-th nearest other row (the (k+1)-th smallest distance,
    counting itself at 0)."""
    out = np.empty(len(f))
    for s, d in _distance_blocks(f, f, True):
        out[s:s + len(d)] = np.partition(d, k, axis=1)[:, k]
    return out


def prdc(real_features: Any, fake_features: Any, nearest_k: int = 5, *,
         inclusive: bool = False) -> PRDC:
    """Precision, recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020) of
    ``(M, d)`` generated features against ``(N, d)`` real ones, from the balls around each point
    reaching its ``nearest_k``-th nearest neighbour in its own set:

    * precision: the fraction of fake points inside some real ball;
    * recall: the fraction of real points inside some fake ball;
    * density: the number of real balls holding each fake point, averaged, over ``nearest_k``
      (about 1 for matching distributions; can exceed 1);
    * coverage: the fraction of real balls that hold at least one fake point.

    ``inclusive=False`` counts a point strictly inside (``d < r``: clovaai's ``prdc``, default
    k 5); ``inclusive=True`` on the sphere too (``d <= r``: torch-fidelity's ``prc`` with its
    k 3 gives the same precision / recall, and its F-score as ``.f_score``). Distances are
    Euclidean, computed in float64 in row blocks (memory ~32 MiB whatever N, M)."""
    op = "prdc"
    k = _count(op, "nearest_k", nearest_k, 1)
    real, fake = _feature_pair(op, real_features, fake_features, ("real features", "fake features"),
                               k + 1)
    less = np.less_equal if inclusive else np.less
    r_real, r_fake = _knn_radii(real, k), _knn_radii(fake, k)
    in_real_balls = np.zeros(len(fake), dtype=np.int64)    # per fake: real balls holding it
    recalled = np.zeros(len(real), dtype=bool)             # per real: inside some fake ball
    covered = np.zeros(len(real), dtype=bool)              # per real ball: holds some fake
    for s, d in _distance_blocks(real, fake, False):
        inside = less(d, r_real[s:s + len(d), None])
        in_real_balls += inside.sum(axis=0)
        covered[s:s + len(d)] = less(d.min(axis=1), r_real[s:s + len(d)])
        recalled[s:s + len(d)] = less(d, r_fake[None, :]).any(axis=1)
    return PRDC(precision=float((in_real_balls > 0).mean()), recall=float(recalled.mean()),
                density=float(in_real_balls.mean() / k), coverage=float(covered.mean()))



# ---------------------------------------------------------------------------------------------
# Shipped assets (loaded lazily, once)
# ---------------------------------------------------------------------------------------------
def _asset(name: str):
    resource = resources.files(__package__) / "assets" / name
    if not resource.is_file():
        raise AssetError(f"{name} is missing from this installation of tensorgan (expected at "
                         f"{resource}); reinstall tensorgan, or regenerate it with "
                         f"scripts/train_classifier.py")
    return resource


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verify_digest(name: str, data: bytes) -> None:
    """Refuse an asset whose bytes are not the ones shipped (see ASSET_SHA256)."""
    digest = _sha256_bytes(data)
    if digest != ASSET_SHA256[name]:
        raise AssetError(f"{name} does not match the SHA-256 it was shipped with (expected "
                         f"{ASSET_SHA256[name]}, got {digest}): the file was modified or damaged; "
                         f"reinstall tensorgan (after regenerating the assets with "
                         f"scripts/train_classifier.py, update tensorgan.metrics.ASSET_SHA256)")


def file_sha256(path) -> str:
    """SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def _classifier_bytes() -> bytes:
    return _asset(CLASSIFIER_ASSET).read_bytes()


@functools.lru_cache(maxsize=None)
def _load_classifier(device_key: str):
    import io

    from .models.classifier import load_classifier
    data = _classifier_bytes()
    source = io.BytesIO(data)
    source.name = CLASSIFIER_ASSET      # errors name the file, not "<_io.BytesIO object at 0x...>"
    try:
        model, meta = load_classifier(source, device=None if device_key == "default" else device_key)
    except TensorganError as exc:
        raise AssetError(f"the shipped classifier ({CLASSIFIER_ASSET}) is unusable: {exc}") from exc
    # after the format checks, which say more about a damaged file than a digest does
    _verify_digest(CLASSIFIER_ASSET, data)
    model.eval()
    return model, meta


def get_classifier(device: Any = None):
    """The shipped MNIST classifier (eval mode), loaded on first use and cached per device."""
    return _load_classifier("default" if device is None else str(device))[0]


@functools.lru_cache(maxsize=None)
def _reference() -> dict:
    import io
    raw = _asset(STATS_ASSET).read_bytes()
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise AssetError(f"{STATS_ASSET} is corrupt or not an .npz ({exc}); reinstall tensorgan "
                         f"or regenerate it with scripts/train_classifier.py --stats-only") from exc
    try:
        version = int(data["format_version"])
        mu, sigma = np.asarray(data["mu"], np.float64), np.asarray(data["sigma"], np.float64)
        stats = {"mu": mu, "sigma": sigma, "n": int(data["n"]),
                 "test_accuracy": float(data["test_accuracy"]),
                 "classifier_sha256": str(data["classifier_sha256"])}
    except (KeyError, TypeError, ValueError) as exc:
        raise AssetError(f"{STATS_ASSET} lacks a field ({exc!r})") from exc
    if version != STATS_FORMAT_VERSION:
        raise AssetError(f"{STATS_ASSET} has format version {version}, this tensorgan reads "
                         f"{STATS_FORMAT_VERSION}")
    d = mu.shape[0] if mu.ndim == 1 else -1
    if d < 1 or sigma.shape != (d, d) or not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise AssetError(f"{STATS_ASSET}: mu {mu.shape} / sigma {sigma.shape} are not a valid "
                         f"mean and covariance")
    if stats["classifier_sha256"] != _sha256_bytes(_classifier_bytes()):
        raise AssetError(f"{STATS_ASSET} was computed with a different classifier than the shipped "
                         f"{CLASSIFIER_ASSET}; regenerate it with scripts/train_classifier.py "
                         f"--stats-only")
    _verify_digest(STATS_ASSET, raw)
    return stats


def reference_statistics() -> dict:
    """The MNIST test set's feature statistics: ``mu``, ``sigma``, ``n``, ``test_accuracy``."""
    stats = _reference()
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in stats.items()}


# ---------------------------------------------------------------------------------------------
# Images -> features
# ---------------------------------------------------------------------------------------------
def prepare_images(images: Any, value_range: str = "auto") -> np.ndarray:
    """Validate sample images and return float32 ``(N, 1, 28, 28)`` in [-1, 1].

    Accepts uint8 (0..255), or floats in [0, 1] or [-1, 1] (``value_range="auto"`` picks [0, 1]
    when no value is negative; force one with ``"0,1"`` or ``"-1,1"``), shaped ``(N, 1, 28, 28)``
    or ``(N, 28, 28)``."""
    if isinstance(images, Tensor):
        images = images.numpy()
    if not isinstance(images, np.ndarray):
        images = np.asarray(images)
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
        raise ShapeError(f"images must have shape (N, 1, 28, 28) or (N, 28, 28), got {images.shape}")
    if images.shape[0] < 2:
        raise ShapeError(f"need at least 2 images to fit a covariance, got {images.shape[0]}")
    if value_range not in ("auto", "0,1", "-1,1"):
        raise ValueError(f"value_range must be 'auto', '0,1' or '-1,1', got {value_range!r}")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    if images.dtype.kind != "f":
        # bool -> uint8 would be 0/1 of 255, a black image: the hint must say float for masks
        hint = ("convert a 0/1 mask with .astype(np.float32)" if images.dtype == np.bool_
                else "convert integers in 0..255 with .astype(np.uint8)")
        raise DTypeError(f"images must be uint8 (0..255) or floating point in [0, 1] or [-1, 1], "
                         f"got dtype {images.dtype} ({hint})")
    x = images.astype(np.float32)
    if not np.isfinite(x).all():
        raise DataError("images contain NaN or infinite values")
    lo, hi = float(x.min()), float(x.max())
    guessed = value_range == "auto"
    if guessed:  # a tanh generator's background sits near -1; a [0, 1] image never goes below 0
        value_range = "-1,1" if lo < -0.5 else "0,1"     # (not "lo < 0": one pixel at -1e-6 flipped it)
    low = 0.0 if value_range == "0,1" else -1.0
    if lo < low - _RANGE_TOL or hi > 1.0 + _RANGE_TOL:
        hint = (" (taken as [0, 1] because the minimum is above -0.5; pass value_range='-1,1' if "
                "they are in [-1, 1])" if guessed and low == 0.0 else "")
        raise DataError(f"float images must lie in [{low:g}, 1] (value_range {value_range!r}), got "
                        f"values in [{lo:.4g}, {hi:.4g}]{hint}")
    x = np.clip(x, low, 1.0)
    return x * np.float32(2.0) - np.float32(1.0) if value_range == "0,1" else x


def compute_features(images: Any, batch_size: int = 500, model: Any = None,
                     value_range: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """``(logits, features)`` of the images through the classifier, float64, under no_grad."""
    x = prepare_images(images, value_range)
    model = get_classifier() if model is None else model
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    was_training = model.training
    model.eval()
    device = getattr(model, "device", None)  # Module.device: its parameters' device
    dtype = next(iter(model.parameters())).dtype
    logits, feats = [], []
    try:
        with no_grad():
            for i in range(0, len(x), batch_size):
                batch = Tensor._from(x[i:i + batch_size], dtype=dtype, device=device)
                f = model.features(batch)
                logits.append(model.head(f).numpy().astype(np.float64))
                feats.append(f.numpy().astype(np.float64))
    finally:
        model.train(was_training)
    return np.concatenate(logits), np.concatenate(feats)


# ---------------------------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------------------------
_SET_FIELDS = ("kid", "kid_std", "precision", "recall", "density", "coverage")
PRDC_NEAREST_K = 5


@functools.lru_cache(maxsize=4)
def _mnist_test_features(device_key: str, batch_size: int) -> np.ndarray:
    from .data import load_bundled_mnist
    model = get_classifier(None if device_key == "default" else device_key)
    return compute_features(load_bundled_mnist().images, batch_size, model)[1]


def _reference_features(reference_features: Any, model: Any, batch_size: int) -> np.ndarray:
    if isinstance(reference_features, str):
        if reference_features != "mnist":
            raise ConfigError(f"evaluate_samples: reference_features must be 'mnist' or an (N, d) "
                              f"array of features, got {reference_features!r}")
        if model is None or model is get_classifier():
            return _mnist_test_features("default", batch_size)
        from .data import load_bundled_mnist
        return compute_features(load_bundled_mnist().images, batch_size, model)[1]
    return _as_feature_set("evaluate_samples", "reference features", reference_features, 2)


@dataclass(frozen=True)
class EvalResult:
    """Sample-quality numbers; ``fid`` against the MNIST test set's feature statistics."""

    fid: float
    classifier_score: float
    class_shares: tuple
    classes_covered: int
    mean_confidence: float
    n: int
    # set against reference features (``evaluate_samples(..., reference_features=...)``); None
    # when not asked for, and then left out of to_dict / table
    kid: float | None = None
    kid_std: float | None = None
    precision: float | None = None
    recall: float | None = None
    density: float | None = None
    coverage: float | None = None

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if v is not None or k not in _SET_FIELDS}
        d["class_shares"] = list(self.class_shares)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def table(self) -> str:
        shares = " ".join(f"{i}:{s * 100:.1f}%" for i, s in enumerate(self.class_shares))
        rows = [("samples", f"{self.n}"),
                ("Fréchet distance (vs MNIST test)", f"{self.fid:.3f}"),
                ("classifier score (max 10)", f"{self.classifier_score:.3f}"),
                (f"classes with >= {COVERAGE_THRESHOLD:.0%} of samples", f"{self.classes_covered}/10"),
                ("mean top confidence", f"{self.mean_confidence:.4f}"),
                ("class shares", shares)]
        if self.kid is not None:
            rows.append(("kernel distance (KID, vs reference)", f"{self.kid:.5f} +- {self.kid_std:.5f}"))
        if self.precision is not None:
            rows.append(("precision / recall (k=5)", f"{self.precision:.4f} / {self.recall:.4f}"))
            rows.append(("density / coverage (k=5)", f"{self.density:.4f} / {self.coverage:.4f}"))
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def evaluate_samples(images: Any, *, batch_size: int = 500, reference: Any = None,
                     value_range: str = "auto", model: Any = None,
                     reference_features: Any = None) -> EvalResult:
    """Score sample images against the MNIST test set.

    ``images``: uint8 or float in [0, 1] / [-1, 1], ``(N, 1, 28, 28)`` or ``(N, 28, 28)``, N >= 2.
    ``reference``: ``(mu, sigma)`` to compare against instead of the shipped test statistics.
    The distance shrinks as N grows (the first 129 / 1,000 MNIST test images: 36.5 / 7.52), so
    compare equal N only; below the feature dimension (128) the covariance is singular and a
    ``UserWarning`` says so.
    ``reference_features``: ``"mnist"`` (the bundled MNIST test set through the classifier,
    ~5 s once per process) or an ``(M, d)`` array of the classifier's features of real images:
    also fills ``kid`` / ``kid_std`` (:func:`kernel_distance`, 100 subsets of ``min(N, M, 1000)``)
    and ``precision`` / ``recall`` / ``density`` / ``coverage`` (:func:`prdc`, k 5, against a
    seeded draw of ``min(N, M)`` reference rows, as the k-NN radii need sets of equal size).
    Left out (None, and absent from ``to_dict`` / ``table``) by default."""
    logits, feats = compute_features(images, batch_size, model, value_range)
    if len(feats) <= feats.shape[1]:
        warnings.warn(f"evaluate_samples: {len(feats)} images for {feats.shape[1]}-d features: the "
                      f"covariance is singular and the Fréchet distance strongly biased upward "
                      f"(use 1,000 or more, and the same N for every comparison)", stacklevel=2)
    if reference is None:
        stats = _reference()
        ref_mu, ref_sigma = stats["mu"], stats["sigma"]
    else:
        ref_mu, ref_sigma = reference
    mu, sigma = feature_statistics(feats)
    probs = _softmax(logits)
    shares = class_shares(probs)
    extra: dict = {}
    if reference_features is not None:
        if len(feats) <= PRDC_NEAREST_K:
            raise ShapeError(f"evaluate_samples: the set metrics (reference_features, "
                             f"--set-metrics) need at least {PRDC_NEAREST_K + 1} images for "
                             f"precision / recall's {PRDC_NEAREST_K}-nearest-neighbour balls, got "
                             f"{len(feats)}")
        ref = _reference_features(reference_features, model, batch_size)
        kid = kernel_distance(feats, ref)
        n = min(len(feats), len(ref))
        real = ref if len(ref) == n else ref[np.random.RandomState(0).choice(len(ref), n, replace=False)]
        fake = feats if len(feats) == n else feats[np.random.RandomState(1).choice(len(feats), n, replace=False)]
        extra = dict(kid=kid.mean, kid_std=kid.std, **prdc(real, fake, PRDC_NEAREST_K)._asdict())
    return EvalResult(
        fid=frechet_distance(mu, sigma, ref_mu, ref_sigma),
        classifier_score=classifier_score(probs),
        class_shares=tuple(float(s) for s in shares),
        classes_covered=int((shares >= COVERAGE_THRESHOLD).sum()),
        mean_confidence=float(probs.max(axis=1).mean()),
        n=int(len(feats)),
        **extra,
    )


def register_cli(register_command) -> None:
    """The CLI's plugin hook (``tensorgan.cli.PLUGIN_MODULES``): adds ``tensorgan eval``."""
    from .evaluate_cli import EVAL_HELP, add_eval_arguments, run_eval
    register_command("eval", EVAL_HELP, add_eval_arguments, run_eval)
