"""Gaps found porting gordicaleksa/pytorch-GANs and mseitzer/pytorch-fid's Frechet-distance path.
Expected values come from first principles (no torch import)."""
import numpy as np
import pytest

import tensorgan.metrics as metrics


# -- pytorch-fid: one feature ----------------------------------------------------------------------
def test_frechet_distance_takes_scalar_means_and_0d_covariances_like_pytorch_fid():
    # N(0, 1) vs N(1, 4): (0 - 1)^2 + (1 - 2)^2 = 2 (pytorch-fid: np.atleast_1d / np.atleast_2d)
    assert metrics.frechet_distance(0.0, 1.0, 1.0, 4.0) == pytest.approx(2.0, rel=1e-12)
    rng = np.random.default_rng(0)
    f1, f2 = rng.standard_normal((100, 1)), 2 + 3 * rng.standard_normal((100, 1))
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    assert s1.shape == ()                                   # what np.cov gives for one feature
    want = (f1.mean() - f2.mean()) ** 2 + (f1.std(ddof=1) - f2.std(ddof=1)) ** 2
    assert metrics.frechet_distance(f1.mean(0), s1, f2.mean(0), s2) == pytest.approx(want, rel=1e-12)
    with pytest.raises(metrics.ShapeError):                 # 0-d is one feature, not any length
        metrics.frechet_distance(np.zeros(2), 1.0, np.zeros(2), np.eye(2))


# -- pytorch-fid: rank-deficient covariances (fewer samples than features) ------------------------
@pytest.mark.parametrize("d,k", [(512, 100), (256, 40), (64, 10)])
def test_frechet_distance_exact_on_rank_deficient_covariance(d, k):
    """S1 of rank k and S2 sharing its eigenvectors: tr((S1 S2)^1/2) = sum sqrt(a_i b_i). Rounding
    leaves S1's d - k null eigenvalues at +-1e-16; their square roots used to add up to a relative
    error of ~1e-8 (1e-5 absolute at d = 512), more than pytorch-fid's own."""
    rng = np.random.default_rng(5)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    a = np.zeros(d)
    a[:k] = rng.uniform(0.5, 4.0, k)
    b = rng.uniform(0.5, 4.0, d)
    s1, s2 = (q * a) @ q.T, (q * b) @ q.T
    s1, s2 = (s1 + s1.T) / 2, (s2 + s2.T) / 2
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    want = ((mu1 - mu2) ** 2).sum() + a.sum() + b.sum() - 2 * np.sqrt(a * b).sum()
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(want, rel=1e-11)
    assert metrics.frechet_distance(mu2, s2, mu1, s1) == pytest.approx(want, rel=1e-11)
    assert metrics.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9 * a.sum())


# -- raphaelsenn/pytorch-GANs: torch.distributions.uniform.Uniform(low=-1, high=1).sample([N, 100]) --
def test_distributions_have_torchs_per_distribution_module_names():
    import importlib

    import tensorgan as tg
    from tensorgan.distributions.normal import Normal
    from tensorgan.distributions.uniform import Uniform
    assert Uniform is tg.distributions.Uniform and Normal is tg.distributions.Normal
    z = tg.distributions.uniform.Uniform(low=-1, high=1).sample([64, 100])
    assert z.shape == (64, 100) and z.dtype == tg.float32
    assert -1.0 <= float(z.min()) and float(z.max()) < 1.0
    for module, cls in [("bernoulli", "Bernoulli"), ("categorical", "Categorical"),
                        ("multivariate_normal", "MultivariateNormal"), ("one_hot_categorical",
                        "OneHotCategorical"), ("relaxed_categorical", "RelaxedOneHotCategorical"),
                        ("studentT", "StudentT"), ("log_normal", "LogNormal"), ("half_normal", "HalfNormal")]:
        mod = importlib.import_module(f"tensorgan.distributions.{module}")
        assert getattr(mod, cls) is getattr(tg.distributions, cls)
