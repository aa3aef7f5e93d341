"""Session 24 leftovers (b): torch's cross-family kl_divergence pairs, dtype / argument checks
torch makes (argmax of bool, all / any of uint8, class-index dtype, Dropout(p=True), GRU
proj_size, gumbel_softmax tau=0, area interpolation to an empty size), and torch's warnings."""
import math
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.distributions as D
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.distributions.kl import _KL_REGISTRY


def _t(*v):
    return tg.tensor(np.array(v, dtype=np.float64))


def _quad_kl(p, q, grid):
    """KL(p || q) by the trapezoid rule over ``grid`` (batch of one), from the two log_probs."""
    x = tg.tensor(grid)
    lp = p.log_prob(x.unsqueeze(-1)).numpy()[:, 0]
    lq = q.log_prob(x.unsqueeze(-1)).numpy()[:, 0]
    return np.trapezoid(np.exp(lp) * (lp - lq), grid)


_POS = np.concatenate([np.linspace(1e-9, 1, 20001)[:-1], np.geomspace(1, 400, 40001)])
_REAL = np.linspace(-60, 60, 240001)
_UNIT = np.linspace(1e-9, 1 - 1e-9, 100001)


@pytest.mark.parametrize("p, q, grid", [
    (D.Exponential(_t(1.3)), D.Gamma(_t(2.5), _t(0.7)), _POS),
    (D.Beta(_t(2.0), _t(3.5)), D.Normal(_t(0.3), _t(0.8)), _UNIT),
    (D.Gamma(_t(3.0), _t(1.5)), D.Normal(_t(1.0), _t(2.0)), _POS),
    (D.Gamma(_t(3.0), _t(1.5)), D.Exponential(_t(0.4)), _POS),
    (D.Gamma(_t(3.0), _t(1.5)), D.Gumbel(_t(1.0), _t(2.0)), _POS),
    (D.Exponential(_t(0.9)), D.Gumbel(_t(-0.5), _t(1.5)), _POS),
    (D.Normal(_t(0.5), _t(1.2)), D.Gumbel(_t(-0.5), _t(1.5)), _REAL),
    (D.Gumbel(_t(0.5), _t(1.2)), D.Gumbel(_t(-0.5), _t(1.5)), _REAL),
    (D.Normal(_t(0.5), _t(1.2)), D.Laplace(_t(-0.5), _t(1.5)), _REAL),
    (D.Laplace(_t(0.5), _t(1.2)), D.Normal(_t(-0.5), _t(1.5)), _REAL),
    (D.Cauchy(_t(0.5), _t(1.2)), D.Cauchy(_t(-0.5), _t(0.6)), np.linspace(-4e4, 4e4, 4000001)),
    (D.Pareto(_t(1.0), _t(3.0)), D.Exponential(_t(0.7)), np.geomspace(1, 1e5, 400001)),
    (D.Pareto(_t(1.0), _t(3.5)), D.Gamma(_t(2.0), _t(0.7)), np.geomspace(1, 1e5, 400001)),
    (D.Pareto(_t(1.0), _t(4.0)), D.Normal(_t(1.0), _t(2.0)), np.geomspace(1, 1e5, 400001)),
    (D.Pareto(_t(1.5), _t(4.0)), D.Pareto(_t(1.0), _t(2.0)), np.geomspace(1.5, 1e5, 400001)),
    (D.Uniform(_t(0.2), _t(0.7)), D.Beta(_t(2.0), _t(3.5)), np.linspace(0.2, 0.7 - 1e-12, 10001)),
    (D.Uniform(_t(0.2), _t(0.7)), D.Gamma(_t(2.0), _t(3.5)), np.linspace(0.2, 0.7 - 1e-12, 10001)),
    (D.Uniform(_t(-1.0), _t(2.0)), D.Gumbel(_t(0.5), _t(0.8)), np.linspace(-1, 2 - 1e-12, 10001)),
    (D.Uniform(_t(1.5), _t(3.0)), D.Pareto(_t(1.0), _t(2.0)), np.linspace(1.5, 3 - 1e-12, 10001)),
    (D.Beta(_t(2.0), _t(3.5)), D.ContinuousBernoulli(_t(0.3)), _UNIT),
    (D.Uniform(_t(0.1), _t(0.6)), D.ContinuousBernoulli(_t(0.8)), np.linspace(0.1, 0.6 - 1e-12, 10001)),
    (D.ContinuousBernoulli(_t(0.3)), D.Normal(_t(0.2), _t(0.5)), _UNIT),
    (D.Beta(_t(2.0), _t(3.5)), D.Uniform(_t(-0.5), _t(1.5)), _UNIT),
])
def test_cross_family_kl_matches_quadrature(p, q, grid):
    kl = D.kl_divergence(p, q)
    assert kl.shape == (1,) and kl.dtype == tg.float64
    np.testing.assert_allclose(kl.numpy()[0], _quad_kl(p, q, grid), rtol=2e-4, atol=1e-6)


def test_cross_family_kl_infinite_where_supports_do_not_nest():
    assert math.isinf(D.kl_divergence(D.Normal(_t(0.), _t(1.)), D.Gamma(_t(2.), _t(1.))).item())
    assert math.isinf(D.kl_divergence(D.Exponential(_t(1.)), D.Uniform(_t(0.), _t(5.))).item())
    assert math.isinf(D.kl_divergence(D.Poisson(_t(2.)), D.Bernoulli(_t(.5))).item())
    u = D.Uniform(_t(-0.5, 0.5), _t(0.5, 1.0))
    np.testing.assert_array_equal(np.isinf(D.kl_divergence(u, D.Exponential(_t(1.0, 1.0))).numpy()), [True, False])
    np.testing.assert_array_equal(np.isinf(D.kl_divergence(u, D.Beta(_t(2., 2.), _t(2., 2.))).numpy()), [True, False])
    # Pareto without a finite mean / variance
    assert math.isinf(D.kl_divergence(D.Pareto(_t(1.), _t(0.9)), D.Exponential(_t(1.))).item())
    assert math.isinf(D.kl_divergence(D.Pareto(_t(1.), _t(1.9)), D.Normal(_t(0.), _t(1.))).item())
    # Pareto(q) starting after p's support starts
    assert math.isinf(D.kl_divergence(D.Pareto(_t(1.), _t(3.)), D.Pareto(_t(2.), _t(3.))).item())
    f32 = D.kl_divergence(D.Gumbel(tg.tensor([0.0]), tg.tensor([1.0])), D.Beta(tg.tensor([1.0]), tg.tensor([1.0])))
    assert f32.dtype == tg.float32 and math.isinf(f32.item())


def test_bernoulli_poisson_kl_is_the_two_term_sum():
    pi, lam = 0.3, 1.7
    want = sum(pk * (math.log(pk) - (-lam + k * math.log(lam) - math.lgamma(k + 1)))
               for k, pk in ((0, 1 - pi), (1, pi)))
    got = D.kl_divergence(D.Bernoulli(probs=_t(pi)), D.Poisson(_t(lam)))
    np.testing.assert_allclose(got.item(), want, rtol=1e-12)


def test_lowrank_mvn_kl_pairs_match_the_dense_closed_form():
    rng = np.random.default_rng(0)
    W, d, loc = rng.normal(size=(3, 2)), rng.uniform(0.5, 2, 3), rng.normal(size=3)
    A = rng.normal(size=(3, 3))
    S1, S2, m2 = W @ W.T + np.diag(d), A @ A.T + np.eye(3), rng.normal(size=3)
    lr = D.LowRankMultivariateNormal(tg.tensor(loc), tg.tensor(W), tg.tensor(d))
    mvn = D.MultivariateNormal(tg.tensor(m2), covariance_matrix=tg.tensor(S2))

    def dense(m0, S0, m1, S1_):
        inv = np.linalg.inv(S1_)
        return 0.5 * (np.trace(inv @ S0) + (m1 - m0) @ inv @ (m1 - m0) - 3
                      + np.linalg.slogdet(S1_)[1] - np.linalg.slogdet(S0)[1])
    np.testing.assert_allclose(D.kl_divergence(lr, mvn).item(), dense(loc, S1, m2, S2), rtol=1e-10)
    np.testing.assert_allclose(D.kl_divergence(mvn, lr).item(), dense(m2, S2, loc, S1), rtol=1e-10)
    assert abs(D.kl_divergence(lr, lr).item()) < 1e-10


def test_kl_registry_holds_torchs_cross_family_pairs():
    names = {(a.__name__, b.__name__) for a, b in _KL_REGISTRY}
    for pair in [("Exponential", "Gamma"), ("Beta", "Normal"), ("Gamma", "Normal"), ("Normal", "Gamma"),
                 ("Cauchy", "Cauchy"), ("Gumbel", "Gumbel"), ("Pareto", "Pareto"), ("Normal", "Laplace"),
                 ("ContinuousBernoulli", "ContinuousBernoulli"), ("Bernoulli", "Poisson"),
                 ("LowRankMultivariateNormal", "MultivariateNormal")]:
        assert pair in names


def test_cross_family_kl_has_gradients():
    rate = _t(1.3).requires_grad_()
    D.kl_divergence(D.Exponential(rate), D.Gamma(_t(2.5), _t(0.7))).sum().backward()
    # d/dlam [-(1 - log lam) - a log b + lgamma(a) - (a - 1)(-gamma - log lam) + b / lam]
    a, b, lam = 2.5, 0.7, 1.3
    np.testing.assert_allclose(rate.grad.item(), 1 / lam + (a - 1) / lam - b / lam ** 2, rtol=1e-10)


# ---- dtype and argument checks as torch's

def test_argmax_argmin_refuse_bool_but_max_keeps_working():
    b = tg.tensor([True, False, True])
    for fn in (lambda: b.argmax(), lambda: b.argmin(), lambda: tg.argmax(b, dim=0), lambda: tg.argmin(b)):
        with pytest.raises(tg.DTypeError, match="does not support bool input"):
            fn()
    assert b.max().item() is True
    assert b.int().argmax().item() == 0


def test_all_any_of_uint8_stay_uint8():
    u = tg.tensor([[3, 0], [1, 2]], dtype=tg.uint8)
    for out, want in ((u.all(), 0), (u.any(), 1), (tg.all(u), 0), (tg.any(u), 1)):
        assert out.dtype == tg.uint8 and out.item() == want
    assert u.all(1).dtype == tg.uint8 and u.all(1).tolist() == [0, 1]
    assert u.any(0, keepdim=True).shape == (1, 2) and u.any(0, keepdim=True).dtype == tg.uint8
    assert tg.tensor([1, 2], dtype=tg.int32).all().dtype == tg.bool


@pytest.mark.parametrize("dtype", ["int32", "int16", "int8"])
def test_class_index_losses_take_only_long_or_byte_target_tensors(dtype):
    x = tg.tensor(np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32))
    bad = tg.tensor([0, 1, 2, 1], dtype=getattr(tg, dtype))
    for fn in (lambda t: F.cross_entropy(x, t), lambda t: F.nll_loss(x, t),
               lambda t: nn.CrossEntropyLoss()(x, t), lambda t: F.cross_entropy(x.reshape(2, 3, 2), t.reshape(2, 2))):
        with pytest.raises(tg.DTypeError, match="int64 \\(or uint8\\).*got"):
            fn(bad)
    want = F.cross_entropy(x, bad.long()).item()
    assert F.cross_entropy(x, bad.to(tg.uint8)).item() == pytest.approx(want)
    assert F.cross_entropy(x, np.array([0, 1, 2, 1], dtype=np.int32)).item() == pytest.approx(want)


def test_dropout_takes_a_bool_probability():
    x = tg.ones(5)
    assert nn.Dropout(p=True)(x).tolist() == [0.0] * 5
    assert nn.Dropout(p=True).eval()(x).tolist() == [1.0] * 5
    assert nn.Dropout(p=False)(x).tolist() == [1.0] * 5
    assert F.dropout(x, p=True).tolist() == [0.0] * 5
    assert nn.AlphaDropout(p=False)(x).tolist() == [1.0] * 5
    with pytest.raises(tg.InputTypeError):
        nn.Dropout(p="0.5")


@pytest.mark.parametrize("cls", [nn.GRU, nn.RNN])
def test_gru_and_rnn_refuse_proj_size_with_a_value_error(cls):
    for size in (1, 0):
        with pytest.raises(ValueError, match="only supported for LSTM"):
            cls(4, 3, proj_size=size)
    with pytest.raises(TypeError, match="unexpected keyword argument 'projsize'"):
        cls(4, 3, projsize=1)
    assert nn.LSTM(4, 3, proj_size=1).proj_size == 1


def test_gumbel_softmax_tau_zero_is_nan_and_negative_tau_is_taken():
    logits = tg.tensor([[1.0, 2.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(F.gumbel_softmax(logits, tau=0).numpy()).all()
        assert np.isnan(F.gumbel_softmax(logits, tau=0.0, hard=True).numpy()).all()
    y = F.gumbel_softmax(logits, tau=-1.0)
    np.testing.assert_allclose(y.sum().item(), 1.0, rtol=1e-6)


@pytest.mark.parametrize("shape, factor, out", [((1, 2, 4, 4), 0.125, (1, 2, 0, 0)), ((1, 2, 4), 0.125, (1, 2, 0)),
                                                ((1, 2, 4, 4), (0.125, 2.0), (1, 2, 0, 8))])
def test_area_interpolation_to_an_empty_size_is_an_empty_tensor(shape, factor, out):
    x = tg.randn(*shape, requires_grad=True)
    y = F.interpolate(x, scale_factor=factor, mode="area")
    assert y.shape == out and y.dtype == x.dtype
    with pytest.raises(tg.ShapeError, match="empty output"):
        F.interpolate(x, scale_factor=factor, mode="nearest")


# ---- torch's warnings

def test_stft_warns_once_for_a_missing_window(monkeypatch):
    from tensorgan import spectral
    monkeypatch.setattr(spectral, "_ONCE_WARNED", set())
    x = tg.tensor(np.sin(np.arange(64) * 0.3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec = tg.stft(x, 16, return_complex=False)
        tg.stft(x, 16, return_complex=False)
        tg.stft(x, 16, window=tg.hann_window(16, dtype=tg.float64), return_complex=False)
        tg.istft(spec, 16)
        tg.istft(spec, 16)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 3, messages       # (and torch's deprecation of the real layout, once)
    assert messages[0].startswith("stft with return_complex=False is deprecated")
    assert messages[1].startswith("stft: a window was not provided")
    assert messages[2].startswith("istft: a window was not provided")
    assert all(w.filename == __file__ for w in caught)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x.stft(16, window=tg.hann_window(16, dtype=tg.float64), return_complex=False)
        tg.stft(x, 16, window=tg.hann_window(16, dtype=tg.float64), return_complex=True)
    assert not caught


def test_percent_format_of_a_grad_tensor_warns_but_format_does_not(monkeypatch):
    import sys      # torch warns once a program: an earlier test may have had the warning
    monkeypatch.setattr(sys.modules["tensorgan.tensor"], "_ONCE_WARNED", {})
    t = tg.tensor(1.5, requires_grad=True)
    with pytest.warns(UserWarning, match="requires_grad=True to a scalar"):
        assert "%.4f" % t == "1.5000"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert format(t, ".4f") == "1.5000" and f"{t:.2f}" == "1.50"
