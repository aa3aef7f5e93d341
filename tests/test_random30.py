"""Session 30: the randomness API beside torch's -- seeding, generators and their state, the
samplers' argument forms, errors and distributions, nn.init's formulas and dropout's scaling.
Values cannot match torch's streams; these check the semantics (fixed seeds: deterministic)."""
import io
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F

N = 100_000


def _ks_statistic(draws: np.ndarray, cdf) -> float:
    """Kolmogorov-Smirnov D * sqrt(n) of ``draws`` against ``cdf`` (1.95: p = 0.001)."""
    x = np.sort(np.asarray(draws, dtype=np.float64).ravel())
    n, f = len(x), cdf(x)
    i = np.arange(1, n + 1)
    return max((i / n - f).max(), (f - (i - 1) / n).max()) * math.sqrt(n)


def _normal_cdf(mean: float, std: float):
    erf = np.vectorize(math.erf)
    return lambda x: 0.5 * (1 + erf((x - mean) / (std * math.sqrt(2))))


def _chi_square_z(counts: np.ndarray, expected: np.ndarray) -> float:
    """(chi^2 - df) / sqrt(2 df): about N(0, 1) for a right distribution."""
    chi, df = ((counts - expected) ** 2 / expected).sum(), len(counts) - 1
    return (chi - df) / math.sqrt(2 * df)


# ---------------------------------------------------------------------------------------------
# Fixes
# ---------------------------------------------------------------------------------------------
def test_default_generator_is_exported_as_torch_default_generator():
    assert tg.default_generator is tg.random.default_generator
    tg.default_generator.manual_seed(21)
    assert tg.initial_seed() == 21
    a = tg.rand(3)
    tg.manual_seed(21)
    assert tg.equal(tg.rand(3), a)


def test_an_unseeded_generator_has_an_int_initial_seed_that_reproduces_it():
    g = tg.Generator()
    seed = g.initial_seed()
    assert isinstance(seed, int) and 0 <= seed < 2**63
    np.random.seed(seed % 2**32)              # torch's worker_init_fn idiom needs an int
    a = tg.rand(5, generator=g)
    assert tg.equal(tg.rand(5, generator=tg.Generator(seed)), a)
    assert isinstance(tg.Generator(device="cpu").initial_seed(), int)


def test_set_state_returns_the_generator_as_torch():
    g = tg.Generator(4)
    assert g.set_state(tg.Generator(5).get_state()) is g
    assert tg.equal(tg.rand(3, generator=g), tg.rand(3, generator=tg.Generator(5)))


def test_manual_seed_takes_a_whole_float_or_a_numeric_string_as_torch():
    assert tg.manual_seed(42.0).initial_seed() == 42
    assert tg.manual_seed("7").initial_seed() == 7
    a = tg.rand(3)
    tg.manual_seed(7)
    assert tg.equal(tg.rand(3), a)
    for bad in (1.5, "x", math.inf, math.nan):
        with pytest.raises(ValueError, match="whole number"):
            tg.manual_seed(bad)


def test_randint_takes_high_as_a_keyword():
    x = tg.randint(high=3, size=(200,), generator=tg.Generator(0))
    assert x.dtype == tg.int64 and set(x.tolist()) == {0, 1, 2}
    assert tg.randint(low=5, high=7, size=[4]).min().item() >= 5


@pytest.mark.parametrize("low,high,dtype", [(0, 300, tg.uint8), (-1, 10, tg.uint8),
                                            (-129, 0, tg.int8), (0, 2**31 + 1, tg.int32),
                                            (0, 3, tg.bool)])
def test_randint_refuses_a_range_its_dtype_cannot_hold_whatever_is_drawn(low, high, dtype):
    for seed in range(3):                     # (it once depended on the values drawn)
        with pytest.raises(RuntimeError, match="out of bounds"):
            tg.randint(low, high, (1,), dtype=dtype, generator=tg.Generator(seed))


def test_randint_takes_the_full_range_of_its_dtype():
    assert tg.randint(0, 256, (1000,), dtype=tg.uint8, generator=tg.Generator(1)).max().item() > 250
    assert tg.randint(-128, 128, (10,), dtype=tg.int8).dtype == tg.int8
    b = tg.randint(2, (500,), dtype=tg.bool, generator=tg.Generator(1))
    assert b.dtype == tg.bool and 0 < b.sum().item() < 500


def test_randint_and_randperm_take_requires_grad_for_float_dtypes():
    x = tg.randint(10, (3,), dtype=tg.float32, requires_grad=True)
    p = tg.randperm(5, dtype=tg.float64, requires_grad=True)
    assert x.requires_grad and p.requires_grad and x.is_leaf
    (p * 2).sum().backward()
    assert np.array_equal(p.grad.numpy(), np.full(5, 2.0))
    for make in (lambda: tg.randint(10, (3,), requires_grad=True), lambda: tg.randperm(5, requires_grad=True)):
        with pytest.raises(RuntimeError, match="require gradients"):
            make()


@pytest.mark.parametrize("make", [lambda: tg.rand(2, dtype=tg.int64), lambda: tg.randn(2, dtype=tg.int32),
                                  lambda: tg.rand_like(tg.ones(2, dtype=tg.int64)),
                                  lambda: tg.empty(3, dtype=tg.int64).log_normal_(),
                                  lambda: tg.empty(3, dtype=tg.int64).exponential_(),
                                  lambda: tg.empty(3, dtype=tg.bool).geometric_(0.5)])
def test_float_only_samplers_refuse_other_dtypes_with_not_implemented_as_torch(make):
    with pytest.raises(NotImplementedError):
        make()


def test_geometric_fills_integer_tensors():
    x = tg.empty(1000, dtype=tg.int64).geometric_(0.5, generator=tg.Generator(0))
    assert x.dtype == tg.int64 and x.min().item() == 1


@pytest.mark.parametrize("t,a,b", [(tg.empty(3), 0.0, 1e39), (tg.empty(3), -1e39, 0.0),
                                   (tg.empty(3, dtype=tg.float64), -1e308, 1e308),
                                   (tg.empty(3, dtype=tg.float16), 0.0, 70000.0)])
def test_uniform_refuses_bounds_outside_the_dtype_as_torch(t, a, b):
    with pytest.raises(RuntimeError, match="out of bounds|to - from"):
        t.uniform_(a, b)
    with pytest.raises(RuntimeError):
        tg.nn.init.uniform_(t, a, b)
    assert np.isfinite(tg.empty(1000).uniform_(-1.5e38, 1.5e38).numpy()).all()   # (within range: drawn)


@pytest.mark.parametrize("make", [lambda x: x.random_(10, 3), lambda x: x.random_(1.5),
                                  lambda x: x.to(tg.uint8).random_(-5, 5),
                                  lambda x: x.to(tg.uint8).random_(0, 300),
                                  lambda x: x.to(tg.bool).random_(3)])
def test_random_bad_ranges_are_runtime_errors_as_torch(make):
    with pytest.raises(RuntimeError):
        make(tg.ones(3, dtype=tg.int64))


@pytest.mark.parametrize("draw", [
    lambda g: tg.rand(2, generator=g), lambda g: tg.randn(2, generator=g),
    lambda g: tg.randint(3, (2,), generator=g), lambda g: tg.randperm(3, generator=g),
    lambda g: tg.normal(0.0, 1.0, (2,), generator=g), lambda g: tg.empty(2).normal_(generator=g),
    lambda g: tg.empty(2).uniform_(generator=g), lambda g: tg.empty(2).exponential_(generator=g),
    lambda g: tg.empty(2).bernoulli_(0.5, generator=g), lambda g: tg.multinomial(tg.ones(3), 2, generator=g),
    lambda g: tg.nn.init.kaiming_uniform_(tg.empty(2, 2), generator=g)])
def test_a_cuda_generator_drawing_cpu_tensors_is_refused_as_torch(draw):
    with pytest.raises(RuntimeError, match="device type for the generator"):
        draw(tg.Generator("cuda"))
    draw(tg.Generator("cpu"))


# ---------------------------------------------------------------------------------------------
# Semantics that hold (checked beside torch 2.13)
# ---------------------------------------------------------------------------------------------
def test_size_forms_dtypes_and_negative_sizes():
    g = tg.Generator(0)
    for shape in [(2, 3), [2, 3], tg.Size([2, 3])]:
        assert tg.rand(shape, generator=g).shape == (2, 3) and tg.randint(5, shape).shape == (2, 3)
    assert tg.rand(2, 3, dtype=tg.float64).dtype == tg.float64 and tg.randn(size=(4,)).shape == (4,)
    assert tg.rand(()).shape == () and tg.rand(0).shape == (0,)
    for make in (lambda: tg.rand(-1), lambda: tg.randn(2, -1), lambda: tg.randint(3, (-2,)),
                 lambda: tg.randperm(-1)):
        with pytest.raises(RuntimeError):
            make()
    with pytest.raises(RuntimeError):
        tg.randint(3, 3, (2,))


def test_rng_state_round_trips_through_save_and_load():
    tg.manual_seed(3)
    buf = io.BytesIO()
    tg.save({"rng": tg.get_rng_state(), "gen": tg.Generator(9).get_state()}, buf)
    a = tg.randn(4)
    buf.seek(0)
    states = tg.load(buf)
    tg.set_rng_state(states["rng"])
    assert tg.equal(tg.randn(4), a)
    g = tg.Generator().set_state(states["gen"])
    assert tg.equal(tg.rand(3, generator=g), tg.rand(3, generator=tg.Generator(9)))
    with pytest.raises(TypeError):
        tg.set_rng_state(tg.zeros(3))


def test_fork_rng_restores_the_stream_also_on_an_exception():
    tg.manual_seed(1)
    expected = tg.rand(2)
    tg.manual_seed(1)
    with pytest.raises(KeyError):
        with tg.random.fork_rng():
            tg.rand(10)
            raise KeyError
    assert tg.equal(tg.rand(2), expected)
    tg.manual_seed(1)
    with tg.random.fork_rng(enabled=False):
        tg.rand(10)
    assert not tg.equal(tg.rand(2), expected)


@pytest.mark.parametrize("name,draw,cdf", [
    ("rand", lambda g: tg.rand(N, generator=g), lambda x: np.clip(x, 0, 1)),
    ("uniform_", lambda g: tg.empty(N, dtype=tg.float64).uniform_(-2, 5, generator=g), lambda x: np.clip((x + 2) / 7, 0, 1)),
    ("randn", lambda g: tg.randn(N, generator=g), _normal_cdf(0, 1)),
    ("normal", lambda g: tg.normal(2.0, 3.0, (N,), generator=g), _normal_cdf(2, 3)),
    ("normal tensors", lambda g: tg.normal(tg.full((N,), 2.0), tg.full((N,), 3.0), generator=g), _normal_cdf(2, 3)),
    ("normal_", lambda g: tg.empty(N).normal_(1, 0.5, generator=g), _normal_cdf(1, 0.5)),
    ("exponential_", lambda g: tg.empty(N).exponential_(2.0, generator=g), lambda x: 1 - np.exp(-2 * np.maximum(x, 0))),
    ("cauchy_", lambda g: tg.empty(N, dtype=tg.float64).cauchy_(1.0, 2.0, generator=g), lambda x: 0.5 + np.arctan((x - 1) / 2) / np.pi),
    ("log_normal_", lambda g: tg.log(tg.empty(N, dtype=tg.float64).log_normal_(1.0, 0.5, generator=g)), _normal_cdf(1, 0.5)),
])
def test_continuous_samplers_pass_a_ks_test(name, draw, cdf):
    assert _ks_statistic(draw(tg.Generator(123)).numpy(), cdf) < 1.95, name


def test_discrete_samplers_moments_and_ranges():
    g = tg.Generator(7)
    geo = tg.empty(N).geometric_(0.3, generator=g).numpy()
    assert geo.min() == 1 and abs(geo.mean() - 1 / 0.3) < 0.05 and abs(geo.var() - 0.7 / 0.09) < 0.3
    poi = tg.poisson(tg.full((N,), 3.5), generator=g).numpy()
    assert abs(poi.mean() - 3.5) < 0.03 and abs(poi.var() - 3.5) < 0.1
    assert abs(tg.bernoulli(tg.full((N,), 0.3), generator=g).mean().item() - 0.3) < 0.005
    b = tg.empty(N).bernoulli_(0.3, generator=g).numpy()
    assert set(np.unique(b)) == {0.0, 1.0} and abs(b.mean() - 0.3) < 0.005
    r = tg.randint(-3, 4, (N,), generator=g).numpy()            # high exclusive
    assert r.min() == -3 and r.max() == 3
    assert abs(_chi_square_z(np.bincount(r + 3), np.full(7, N / 7))) < 4


def test_random_on_integer_float_and_bool_dtypes():
    g = tg.Generator(2)
    five = tg.empty(N, dtype=tg.int64).random_(5, generator=g).numpy()
    assert five.min() == 0 and five.max() == 4 and abs(_chi_square_z(np.bincount(five), np.full(5, N / 5))) < 4
    assert set(tg.empty(N, dtype=tg.int64).random_(3, 6, generator=g).unique().tolist()) == {3, 4, 5}
    u8 = tg.empty(N, dtype=tg.uint8).random_(generator=g).numpy()
    assert u8.min() == 0 and u8.max() == 255
    i8 = tg.empty(N, dtype=tg.int8).random_(generator=g).numpy()
    assert i8.min() == 0 and i8.max() == 127                     # torch: [0, max] by default
    flags = tg.empty(N, dtype=tg.bool).random_(generator=g)
    assert flags.dtype == tg.bool and abs(flags.float().mean().item() - 0.5) < 0.01
    f = tg.empty(N).random_(generator=g).numpy()
    assert f.min() >= 0 and f.max() <= 2**24 and (f == np.round(f)).all()


def test_multinomial_with_and_without_replacement():
    g = tg.Generator(5)
    w = tg.tensor([0.1, 0.0, 0.3, 0.6])
    counts = np.bincount(tg.multinomial(w, N, True, generator=g).numpy(), minlength=4)
    assert counts[1] == 0 and abs(_chi_square_z(counts[[0, 2, 3]], N * np.array([0.1, 0.3, 0.6]))) < 4
    weights = np.array([0.1, 0.0, 0.3, 0.6, 0.2])
    rows = tg.multinomial(tg.tensor(weights).repeat(20000, 1), 3, generator=g).numpy()
    assert rows.shape == (20000, 3) and all(len(set(r)) == 3 for r in rows) and not (rows == 1).any()
    p = weights / weights.sum()                 # the first draw: proportional to the weights
    assert np.abs(np.bincount(rows[:, 0], minlength=5) / 20000 - p).max() < 0.015
    second = [sum(p[i] * weights[j] / (weights.sum() - weights[i]) for i in range(5) if i != j) for j in range(5)]
    assert np.abs(np.bincount(rows[:, 1], minlength=5) / 20000 - second).max() < 0.015
    with pytest.raises(RuntimeError, match="nonzero"):
        tg.multinomial(tg.tensor([0.1, 0.0, 0.3]), 3)


def test_same_seed_same_draws_for_every_sampler():
    def draws(seed):
        g = tg.Generator(seed)
        return [tg.rand(3, generator=g), tg.randn(3, generator=g), tg.randint(9, (3,), generator=g),
                tg.randperm(6, generator=g), tg.multinomial(tg.ones(5), 3, generator=g),
                tg.bernoulli(tg.full((4,), 0.5), generator=g), tg.poisson(tg.ones(3), generator=g),
                tg.rand_like(tg.ones(2), generator=g), tg.empty(3).cauchy_(generator=g),
                tg.empty(3).log_normal_(generator=g), tg.empty(3).geometric_(0.4, generator=g)]
    assert all(tg.equal(a, b) for a, b in zip(draws(11), draws(11)))


# ---------------------------------------------------------------------------------------------
# nn.init: torch's formulas
# ---------------------------------------------------------------------------------------------
FAN_IN, FAN_OUT = 256 * 9, 128 * 9


@pytest.mark.parametrize("init,std,bound", [
    (lambda t, g: tg.nn.init.xavier_uniform_(t, gain=2.0, generator=g), 2 * math.sqrt(2 / (FAN_IN + FAN_OUT)), 2 * math.sqrt(6 / (FAN_IN + FAN_OUT))),
    (lambda t, g: tg.nn.init.xavier_normal_(t, gain=0.5, generator=g), 0.5 * math.sqrt(2 / (FAN_IN + FAN_OUT)), None),
    (lambda t, g: tg.nn.init.kaiming_uniform_(t, a=0.2, generator=g), math.sqrt(2 / 1.04) / math.sqrt(FAN_IN), math.sqrt(2 / 1.04) * math.sqrt(3 / FAN_IN)),
    (lambda t, g: tg.nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu", generator=g), math.sqrt(2 / FAN_OUT), None),
    (lambda t, g: tg.nn.init.kaiming_uniform_(t, nonlinearity="selu", generator=g), 0.75 / math.sqrt(FAN_IN), 0.75 * math.sqrt(3 / FAN_IN)),
])
def test_xavier_and_kaiming_scales(init, std, bound):
    a = init(tg.empty(128, 256, 3, 3, dtype=tg.float64), tg.Generator(0)).numpy()
    assert abs(a.std() / std - 1) < 0.01 and abs(a.mean()) < 3 * std / math.sqrt(a.size) * 3
    if bound is not None:
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.99 * bound


def test_calculate_gain_values():
    gain = tg.nn.init.calculate_gain
    assert gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04) and gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert gain("selu") == 0.75 and gain("tanh") == 5 / 3 and gain("relu") == math.sqrt(2)
    assert gain("conv_transpose2d") == gain("sigmoid") == 1
    with pytest.raises(ValueError):
        gain("foo")


def test_trunc_normal_stays_in_bounds_with_the_truncated_moments():
    a = tg.nn.init.trunc_normal_(tg.empty(N, dtype=tg.float64), 1.0, 2.0, 0.0, 3.0, generator=tg.Generator(0)).numpy()
    lo, hi = (0 - 1) / 2, (3 - 1) / 2               # the exact truncated normal's mean and std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)   # noqa: E731
    mass = 0.5 * (math.erf(hi / math.sqrt(2)) - math.erf(lo / math.sqrt(2)))
    mean = 1 + 2 * (pdf(lo) - pdf(hi)) / mass
    var = 4 * (1 + (lo * pdf(lo) - hi * pdf(hi)) / mass - ((pdf(lo) - pdf(hi)) / mass) ** 2)
    assert a.min() >= 0 and a.max() <= 3 and abs(a.mean() - mean) < 0.01 and abs(a.std() - math.sqrt(var)) < 0.01
    tail = tg.nn.init.trunc_normal_(tg.empty(1000), 0.0, 1.0, 3.0, 4.0).numpy()
    assert tail.min() >= 3 and tail.max() <= 4


def test_orthogonal_sparse_eye_dirac():
    for shape in [(6, 4), (4, 6), (3, 2, 2, 2)]:
        a = tg.nn.init.orthogonal_(tg.empty(*shape, dtype=tg.float64), gain=2.0).numpy().reshape(shape[0], -1)
        small = a.T @ a if a.shape[0] > a.shape[1] else a @ a.T
        assert np.allclose(small, 4 * np.eye(min(a.shape)))
    s = tg.nn.init.sparse_(tg.empty(4000, 50, dtype=tg.float64), 0.3, 0.5, generator=tg.Generator(1)).numpy()
    assert ((s == 0).sum(axis=0) == 1200).all() and abs(s[s != 0].std() - 0.5) < 0.01
    assert tg.nn.init.eye_(tg.empty(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    d = tg.nn.init.dirac_(tg.empty(4, 2, 3), groups=2).numpy()
    assert d[:, :, 1].tolist() == [[1, 0], [0, 1], [1, 0], [0, 1]] and d.sum() == 4


# ---------------------------------------------------------------------------------------------
# Dropout: scaling, train / eval, edges, gradient = mask * scale
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("drop", [lambda x: F.dropout(x, 0.3), lambda x: F.dropout2d(x.view(400, 10, 5, 5), 0.3),
                                  lambda x: F.dropout1d(x.view(200, 10, 50), 0.3),
                                  lambda x: F.dropout3d(x.view(200, 10, 5, 5, 2), 0.3),
                                  lambda x: tg.nn.Dropout(0.3)(x)])
def test_dropout_scales_kept_elements_and_its_gradient_is_mask_times_scale(drop):
    tg.manual_seed(0)
    x = tg.ones(2000, 50, dtype=tg.float64, requires_grad=True)
    y = drop(x)
    y.sum().backward()
    out = y.detach().numpy().ravel()
    assert set(np.unique(np.round(out, 12))) == {0.0, round(1 / 0.7, 12)}
    assert abs((out == 0).mean() - 0.3) < 0.02
    assert np.array_equal(x.grad.numpy().ravel(), out)      # ones in: the output is mask * scale


def test_alpha_dropouts_keep_mean_and_variance():
    tg.manual_seed(0)
    z = tg.randn(1000, 1000, dtype=tg.float64)
    for y in (F.alpha_dropout(z, 0.3, True), F.feature_alpha_dropout(z.view(1000, 100, 10), 0.3, True),
              tg.nn.AlphaDropout(0.3)(z)):
        assert abs(y.mean().item()) < 0.01 and abs(y.var().item() - 1) < 0.02


def test_dropout_train_eval_and_edges():
    x = tg.randn(50, 20)
    assert tg.equal(tg.nn.Dropout(0.5).eval()(x), x) and tg.equal(F.dropout(x, 0.5, training=False), x)
    assert tg.equal(F.alpha_dropout(x, 0.5), x)              # F.alpha_dropout: training=False by default
    assert tg.equal(F.dropout(x, 0.0), x) and tg.equal(F.alpha_dropout(x, 0.0, True), x)
    for y in (F.dropout(x, 1.0), F.alpha_dropout(x, 1.0, True), F.dropout2d(x.view(5, 10, 4, 5), 1.0)):
        assert (y.numpy() == 0).all()
    for bad in (lambda: F.dropout(x, 1.5), lambda: tg.nn.Dropout(-0.1), lambda: F.alpha_dropout(x, 2.0, True)):
        with pytest.raises(ValueError):
            bad()
